// SPDX-License-Identifier: Apache-2.0

// Oracle for tests/data/versions/gomod.txt (run by gen_gomod.py): reads "A<TAB>B" lines on
// stdin and prints the sign of golang.org/x/mod/semver.Compare(norm(A), norm(B)) per line.
//
// norm applies the spellings src/version/gomod.c documents beyond x/mod's own grammar: a
// version without the "v" is read with one ("1.2.3" -> "v1.2.3", as OSV's Go ranges spell
// versions), and a Go toolchain tag ("go1.21rc2", "1.21rc2", "go1.20") becomes the semver the
// Go vulnerability database uses for the stdlib ("v1.21.0-rc.2", "v1.20.0"). That mapping is
// written here from the vulnerability database's conventions; the comparison itself is
// x/mod's (Debian's golang-golang-x-mod-dev, built in GOPATH mode from /usr/share/gocode).
package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strings"

	"golang.org/x/mod/semver"
)

var tagRe = regexp.MustCompile(`^(0|[1-9][0-9]*)(?:\.(0|[1-9][0-9]*))?(?:\.(0|[1-9][0-9]*))?(?:(alpha|beta|rc)(0|[1-9][0-9]*))?$`)

func tag(s string) (string, bool) {
	m := tagRe.FindStringSubmatch(s)
	if m == nil {
		return "", false
	}
	minor, patch := m[2], m[3]
	if minor == "" {
		minor = "0"
	}
	if patch == "" {
		patch = "0"
	}
	v := "v" + m[1] + "." + minor + "." + patch
	if m[4] != "" {
		v += "-" + m[4] + "." + m[5]
	}
	return v, true
}

func norm(s string) string {
	if strings.HasPrefix(s, "v") {
		return s
	}
	if strings.HasPrefix(s, "go") {
		if t, ok := tag(s[2:]); ok {
			return t
		}
		return "!invalid"
	}
	if semver.IsValid("v" + s) {
		return "v" + s
	}
	if t, ok := tag(s); ok {
		return t
	}
	return "!invalid"
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		a, b, ok := strings.Cut(in.Text(), "\t")
		if !ok {
			fmt.Fprintln(os.Stderr, "bad input line")
			os.Exit(2)
		}
		fmt.Fprintln(out, semver.Compare(norm(a), norm(b)))
	}
}
