#!/usr/bin/env bash
# The README's main command: set up, build planexec (the standard plugin pack
# is built and embedded by host/build.rs), then run a gate and the whole task
# loop on examples/demo in a temporary git repository.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

scripts/setup.sh
cargo build --quiet -p planexec --bins   # planexec and its box helper, planexec-box
bin="${CARGO_TARGET_DIR:-$root/target}/debug/planexec"

work="$(mktemp -d "${TMPDIR:-/tmp}/planexec-demo.XXXXXX")"
cp -r examples/demo/. "$work/"
cd "$work"
git init -q -b main
git -c user.name=demo -c user.email=demo@localhost add .
git -c user.name=demo -c user.email=demo@localhost commit -q -m "demo: starting point"
git config user.name demo
git config user.email demo@localhost

echo "== planexec trust (the demo's planexec.toml grants python3 and git)"
"$bin" trust
echo "== planexec check"
"$bin" check memory-bank/plan/2026-11-20_shop.md
echo "== planexec gate run tests (pytest, before the plan: only the smoke test)"
"$bin" gate run tests
echo "== planexec run"
status=0
"$bin" run memory-bank/plan/2026-11-20_shop.md || status=$?
echo "== git log"
git log --oneline
echo "== the execution log: $work/$(ls memory-bank/execute/*.md | head -1)"
exit $status
