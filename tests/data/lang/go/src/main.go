package main

import (
	"fmt"
	"os"

	"example.com/localdep"
	"golang.org/x/mod/semver"
)

func main() {
	fmt.Println(localdep.Name, semver.Compare(os.Args[1], os.Args[2]))
}
