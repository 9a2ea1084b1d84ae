module example.com/vigil-fixture

go 1.19

require (
	example.com/localdep v0.0.0-00010101000000-000000000000
	golang.org/x/mod v0.6.0
)

replace golang.org/x/mod v0.6.0 => golang.org/x/mod v0.7.0

replace example.com/localdep => ./localdep
