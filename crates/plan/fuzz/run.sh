#!/usr/bin/env bash
# Fuzz every dialect parser with cargo-fuzz (libFuzzer), SECONDS_PER_TARGET each (default 600).
# Needs cargo-fuzz (`cargo install cargo-fuzz`). On a stable toolchain RUSTC_BOOTSTRAP=1 lets
# cargo-fuzz pass its -Z flags; `-s none` skips AddressSanitizer (safe Rust needs none).
# Seeds come from tests/fixtures; crashes land in fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")"
secs="${SECONDS_PER_TARGET:-600}"
targets="${*:-tid speckit planpipe execplan kiro taskmaster}"
for t in $targets; do
  mkdir -p "corpus/$t"
  find ../tests/fixtures \( -name '*.md' -o -name '*.json' \) -exec cp {} "corpus/$t/" \; 2>/dev/null || true
  RUSTC_BOOTSTRAP=1 cargo fuzz run "$t" -s none --release -- -max_total_time="$secs" -max_len=65536 -timeout=10 "corpus/$t"
done
