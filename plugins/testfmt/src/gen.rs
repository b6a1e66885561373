//! Generators of large test reports (JUnit XML, `go test -json`) for benchmarks and
//! memory tests: deterministic, written straight to a file, about 500 bytes per test.
