#!/usr/bin/env bash
# What red before green adds to a task (docs/benchmarks.md): examples/python-app with a
# one-task plan whose patch adds a module and its test, run N times with
# `[review] tests_must_fail_first` "fail" and "off"; prints each run's wall time and
# the check's own time (the tests-prove run's duration_ms in the record).
# Usage: scripts/bench-redgreen.sh PLANEXEC_BINARY [N]
set -euo pipefail
bin=$(realpath "$1"); n=${2:-3}
export XDG_CONFIG_HOME=$(mktemp -d)
root=$(cd "$(dirname "$0")/.." && pwd)
patch='diff --git a/src/inventory/total.py b/src/inventory/total.py
new file mode 100644
--- /dev/null
+++ b/src/inventory/total.py
@@ -0,0 +1,2 @@
+def total(counts: dict[str, int]) -> int:
+    return sum(counts.values())
diff --git a/tests/test_total.py b/tests/test_total.py
new file mode 100644
--- /dev/null
+++ b/tests/test_total.py
@@ -0,0 +1,4 @@
+def test_total() -> None:
+    from inventory.total import total
+
+    assert total({"a": 2, "b": 3}) == 5
'
for mode in off fail; do
  for i in $(seq "$n"); do
    d=$(mktemp -d); cp -r "$root/examples/python-app/." "$d"; cd "$d"
    git init -q -b main; git config user.email b@planexec.invalid; git config user.name bench
    mkdir -p plan/patches; printf '%s' "$patch" > plan/patches/T001.patch
    printf '# Plan: total\n\n## Tasks\n\n### T001: Add total\n**Summary**: Add total().\n**Dependencies**: none\n**Files/modules touched**: src/inventory/total.py, tests/test_total.py\n**Acceptance test**: `git --version`\n' > plan/plan.md
    sed -i 's/^\[run\]/[review]\ntests_must_fail_first = "'"$mode"'"\n\n[run]\nimplementer = "patch"\ncode_review = ""/' planexec.toml
    sed -i 's/^grant = \["python3"\]/grant = ["python3", "git"]/' planexec.toml
    git add -A; git commit -qm base; "$bin" trust >/dev/null
    s=$(date +%s.%N); "$bin" run plan/plan.md >/tmp/bench-redgreen.out 2>&1 || { echo "run failed ($mode)"; tail -5 /tmp/bench-redgreen.out; }; e=$(date +%s.%N)
    step=$(python3 -c 'import json,glob
r=json.load(open(glob.glob(".git/planexec/runs/*.json")[0]))["record"]
g=[g for c in r["tasks"][0]["cycles"] for g in c["gates"] if g["name"]=="tests-prove"]
print(g[0]["report"]["duration_ms"] if g else "-")')
    echo "$mode run_s=$(echo "$e - $s" | bc) tests_prove_ms=$step"
    cd /; rm -rf "$d"
  done
done
