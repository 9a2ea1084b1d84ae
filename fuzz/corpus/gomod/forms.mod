module m

go 1.21
require (
	github.com/a/b v1.2.3 // indirect
	"github.com/q/r" v0.1.0
)
replace github.com/a/b v1.2.3 => github.com/c/b v1.2.4
replace x => ../x
exclude (
	z v1
)
