//! Streaming parser for `go test -json` (test2json) output: events of parallel packages
//! keyed on Package + Test, subtests, skips, build failures, panics and timeouts.
