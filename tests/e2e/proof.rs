//! Issue 31, proof rather than claims: an acceptance command naming a test that does
//! not exist (pytest node id, `go test -run`, `cargo test NAME`) fails the task naming
//! it, on real projects run by the patch implementer; it is never a pass on exit 0.

use crate::support::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A patch creating `file` with one line.
fn new_file_patch(file: &str, content: &str) -> String {
    format!("diff --git a/{file} b/{file}\nnew file mode 100644\n--- /dev/null\n+++ b/{file}\n@@ -0,0 +1 @@\n+{content}\n")
}

/// The plugin's fixture `project` as a git repository whose plan has one task: a note
/// added by the patch implementer, accepted by `accept`; `policy` goes into planexec.toml.
fn one_task(tmp: &Path, plugin: &str, project: &str, accept: &str, policy: &str) -> PathBuf {
    let ws = tmp.join("ws");
    copy_tree(&plugin_project(plugin, project), &ws);
    git_init(&ws);
    if ws.join("Cargo.toml").exists() {
        // The box keeps the workspace read-only: cargo must find its lock file made.
        let st = std::process::Command::new("cargo")
            .args(["generate-lockfile", "--offline"])
            .current_dir(&ws)
            .status()
            .unwrap();
        assert!(st.success());
    }
    let plan = format!(
        "# Plan: notes\n\n## Tasks\n\n### T001: Add a note\n**Summary**: Add a note.\n**Dependencies**: none\n**Files/modules touched**: NOTES.md\n**Acceptance test**: `{accept}`\n"
    );
    write(&ws, "plan/plan.md", &plan);
    write(
        &ws,
        "plan/patches/T001.patch",
        &new_file_patch("NOTES.md", "a note"),
    );
    write(
        &ws,
        "planexec.toml",
        &format!("{policy}\n[run]\nimplementer = \"patch\"\nmax_cycles = 1\ncode_review = \"\"\n"),
    );
    git(&ws, &["add", "."]);
    git(&ws, &["commit", "-qm", "plan"]);
    ws
}

fn record(ws: &Path) -> Value {
    let dir = ws.join(".git/planexec/runs");
    let f = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .expect("a run state");
    let st: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
    st["record"].clone()
}

/// Every finding of every gate run of T001's cycles.
fn gate_findings(rec: &Value) -> Vec<Value> {
    rec["tasks"][0]["cycles"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["gates"].as_array().cloned().unwrap_or_default())
        .flat_map(|g| {
            g["report"]["findings"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .collect()
}

/// The run blocks T001 with an `acceptance/missing-test` finding containing `names`.
fn assert_rejected_naming(ws: &Path, out: &Out, names: &str) {
    assert_eq!(out.code, 1, "{out:?}");
    let rec = record(ws);
    assert_eq!(rec["tasks"][0]["status"], "blocked", "{out:?}");
    let f = gate_findings(&rec);
    let missing = f
        .iter()
        .find(|f| f["rule"] == "acceptance/missing-test")
        .unwrap_or_else(|| {
            panic!(
                "no missing-test finding: {f:#?}\n{out:?}\n{:#}",
                rec["tasks"][0]["cycles"]
            )
        });
    let msg = missing["message"].as_str().unwrap();
    assert!(
        msg.contains(names) && msg.contains("does not exist"),
        "{msg}"
    );
    assert_eq!(
        git(ws, &["log", "--format=%s", "-1"]).trim(),
        "plan",
        "nothing committed"
    );
}

#[test]
fn a_pytest_acceptance_naming_a_missing_test_is_rejected_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let accept = "python3 -m pytest -q tests/test_calc.py::test_mul";
    let ws = one_task(
        tmp.path(),
        "pytest",
        "passing",
        accept,
        "[policy]\ngrant = [\"python3\", \"git\"]",
    );
    let out = planexec(&ws, &["run", "plan/plan.md"]);
    assert_rejected_naming(&ws, &out, "tests/test_calc.py::test_mul");
}

#[test]
fn a_go_test_run_pattern_matching_no_test_is_rejected_not_passed() {
    let tmp = tempfile::tempdir().unwrap();
    let accept = "go test -count=1 -run TestMul ./calc";
    let ws = one_task(
        tmp.path(),
        "go-test",
        "passing",
        accept,
        "[policy]\ngrant = [\"go\", \"git\"]",
    );
    let out = planexec(&ws, &["run", "plan/plan.md"]);
    assert_rejected_naming(&ws, &out, "`-run TestMul` matches no test");
}

#[test]
fn a_cargo_test_filter_matching_no_test_is_rejected_not_passed() {
    let tmp = tempfile::tempdir().unwrap();
    let tgt = target_dir().join("e2e-gate-fixtures");
    std::fs::create_dir_all(&tgt).unwrap();
    let policy = format!(
        "[policy]\ngrant = [\"cargo\", \"git\"]\nenv = [\"CARGO_TARGET_DIR\"]\nwrites = [{:?}]",
        tgt.to_str().unwrap()
    );
    let ws = one_task(
        tmp.path(),
        "cargo-test",
        "passing",
        "cargo test multiplies",
        &policy,
    );
    let out = planexec_env(
        &ws,
        &["run", "plan/plan.md"],
        &[("CARGO_TARGET_DIR", tgt.to_str().unwrap())],
    );
    assert_rejected_naming(&ws, &out, "`multiplies` matches no test");
}

/// The same commands naming tests that exist pass: the check reads what ran.
#[test]
fn acceptance_commands_naming_real_tests_pass() {
    let tmp = tempfile::tempdir().unwrap();
    let accept = "go test -count=1 -run TestAdd ./calc";
    let ws = one_task(
        tmp.path(),
        "go-test",
        "passing",
        accept,
        "[policy]\ngrant = [\"go\", \"git\"]",
    );
    let out = planexec(&ws, &["run", "plan/plan.md"]);
    assert_eq!(out.code, 0, "{out:?}");
    let tmp = tempfile::tempdir().unwrap();
    let accept = "python3 -m pytest -q tests/test_calc.py::test_add";
    let ws = one_task(
        tmp.path(),
        "pytest",
        "passing",
        accept,
        "[policy]\ngrant = [\"python3\", \"git\"]",
    );
    let out = planexec(&ws, &["run", "plan/plan.md"]);
    assert_eq!(out.code, 0, "{out:?}");
}

// ------------------------------------------------------------------ red before green

/// A patch creating `file` with `content` (several lines, ending in a newline).
fn new_file(file: &str, content: &str) -> String {
    let lines: Vec<&str> = content.lines().collect();
    let body: String = lines.iter().map(|l| format!("+{l}\n")).collect();
    format!(
        "diff --git a/{file} b/{file}\nnew file mode 100644\n--- /dev/null\n+++ b/{file}\n@@ -0,0 +1,{} @@\n{body}",
        lines.len()
    )
}

/// `project` of `plugin` with a one-task plan whose patch adds `files` (path, content);
/// `gate` runs after each task; `policy` and `more` go into planexec.toml.
fn red_green(
    tmp: &Path,
    plugin: &str,
    project: &str,
    files: &[(&str, &str)],
    gate: &str,
    policy: &str,
) -> PathBuf {
    let ws = one_task(tmp, plugin, project, "git --version", policy);
    let patch: String = files.iter().map(|(f, c)| new_file(f, c)).collect();
    let listed: Vec<&str> = files.iter().map(|(f, _)| *f).collect();
    let plan = std::fs::read_to_string(ws.join("plan/plan.md"))
        .unwrap()
        .replace("NOTES.md", &listed.join(", "));
    write(&ws, "plan/plan.md", &plan);
    write(&ws, "plan/patches/T001.patch", &patch);
    let toml = std::fs::read_to_string(ws.join("planexec.toml"))
        .unwrap()
        .replace("[run]\n", &format!("[run]\ntask_gates = [{gate:?}]\n"));
    write(&ws, "planexec.toml", &toml);
    git(&ws, &["add", "."]);
    git(&ws, &["commit", "-qm", "red green"]);
    ws
}

/// T001's last cycle: its `tests-prove` run and its task review.
fn proof_of(ws: &Path) -> (Option<Value>, Value) {
    let rec = record(ws);
    let c = rec["tasks"][0]["cycles"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    let prove = c["gates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "tests-prove")
        .cloned();
    let review = c["reviews"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "task")
        .cloned()
        .unwrap();
    (prove, review)
}

fn completion(review: &Value) -> String {
    let c = review["review"]["criteria"].as_array().unwrap();
    c[0]["score"].as_str().unwrap().to_string()
}

/// `planexec run` of the scene's plan, which must pass: its tests-prove run and task review.
fn run_and_prove(ws: &Path) -> (Value, Value) {
    let out = planexec(ws, &["run", "plan/plan.md"]);
    assert_eq!(out.code, 0, "{out:?}");
    let (prove, review) = proof_of(ws);
    let prove = prove.unwrap_or_else(|| panic!("no tests-prove run: {out:?}"));
    (prove, review)
}

const PY_POLICY: &str = "[policy]\ngrant = [\"python3\", \"git\"]\n[gates.pytest]\n";

/// A pytest task on the passing fixture adding `mul` and `tests/test_mul.py` holding `test`.
fn py_red_green(tmp: &Path, test: &str) -> PathBuf {
    red_green(
        tmp,
        "pytest",
        "passing",
        &[MUL, ("tests/test_mul.py", test)],
        "pytest",
        PY_POLICY,
    )
}

const MUL: (&str, &str) = ("src/calc/mul.py", "def mul(a, b):\n    return a * b\n");

#[test]
fn a_new_pytest_test_that_passes_on_the_old_code_is_weak_and_named() {
    let tmp = tempfile::tempdir().unwrap();
    let test = "def test_mul():\n    from calc.mul import mul\n    assert mul(2, 3) == 6\n\n\ndef test_add_zero():\n    from calc import add\n    assert add(0, 0) == 0\n";
    let ws = py_red_green(tmp.path(), test);
    let (prove, review) = run_and_prove(&ws);
    let ev = prove["report"]["evidence"].as_str().unwrap();
    assert!(
        ev.contains("test_add_zero: PASSED without the change"),
        "{ev}"
    );
    assert!(ev.contains("test_mul: failed without the change"), "{ev}");
    assert_eq!(completion(&review), "weak", "{review:#}");
    let f = review["review"]["findings"].as_array().unwrap();
    let named = f
        .iter()
        .find(|f| f["rule"] == "tests-prove/passes-without-change")
        .unwrap_or_else(|| panic!("{f:#?}"));
    assert!(
        named["message"]
            .as_str()
            .unwrap()
            .contains("`test_add_zero`"),
        "{named:#}"
    );
    assert!(
        !f.iter()
            .any(|f| f["message"].as_str().unwrap().contains("`test_mul`")),
        "{f:#?}"
    );
    // The execution log carries the evidence.
    let log = std::fs::read_to_string(ws.join("plan/plan-execution-log.md")).unwrap();
    assert!(log.contains("red before green: 1 of 2"), "{log}");
}

#[test]
fn a_pytest_test_that_fails_first_and_passes_after_is_proof() {
    let tmp = tempfile::tempdir().unwrap();
    let test = "def test_mul():\n    from calc.mul import mul\n    assert mul(2, 3) == 6\n";
    let ws = py_red_green(tmp.path(), test);
    let (prove, review) = run_and_prove(&ws);
    assert_eq!(prove["report"]["outcome"], "passed", "{prove:#}");
    let ev = prove["report"]["evidence"].as_str().unwrap();
    assert!(
        ev.contains("test_mul: failed without the change") && ev.contains("calc.mul"),
        "{ev}"
    );
    assert_eq!(completion(&review), "pass", "{review:#}");
}

#[test]
fn every_new_test_passing_without_the_change_fails_the_review() {
    let tmp = tempfile::tempdir().unwrap();
    let test = "def test_add_zero():\n    from calc import add\n    assert add(0, 0) == 0\n";
    let ws = red_green(
        tmp.path(),
        "pytest",
        "passing",
        &[MUL, ("tests/test_zero.py", test)],
        "pytest",
        PY_POLICY,
    );
    let out = planexec(&ws, &["run", "plan/plan.md"]);
    assert_eq!(out.code, 1, "{out:?}");
    let (_, review) = proof_of(&ws);
    assert_eq!(completion(&review), "fail", "{review:#}");
    // "weak" in planexec.toml caps it at WEAK: the task passes.
    let tmp = tempfile::tempdir().unwrap();
    let policy = format!("{PY_POLICY}[review]\ntests_must_fail_first = \"weak\"\n");
    let ws = red_green(
        tmp.path(),
        "pytest",
        "passing",
        &[MUL, ("tests/test_zero.py", test)],
        "pytest",
        &policy,
    );
    let out = planexec(&ws, &["run", "plan/plan.md"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(completion(&proof_of(&ws).1), "weak");
}

/// The plan's own words set red before green for its tasks, over planexec.toml.
#[test]
fn the_plans_tolerances_set_red_before_green_over_planexec_toml() {
    let test = "def test_add_zero():\n    from calc import add\n    assert add(0, 0) == 0\n";
    let scene = |policy: &str, sentence: &str| {
        let tmp = tempfile::tempdir().unwrap();
        let ws = red_green(
            tmp.path(),
            "pytest",
            "passing",
            &[MUL, ("tests/test_zero.py", test)],
            "pytest",
            policy,
        );
        let plan = std::fs::read_to_string(ws.join("plan/plan.md")).unwrap();
        let plan = plan.replace(
            "## Tasks",
            &format!("## Tolerances\n\n- {sentence}\n\n## Tasks"),
        );
        write(&ws, "plan/plan.md", &plan);
        git(&ws, &["commit", "-qam", "tolerance"]);
        let out = planexec(&ws, &["run", "plan/plan.md"]);
        (tmp, ws, out)
    };
    // The default ("fail") would rework this task; the plan caps it at WEAK.
    let (_t, ws, out) = scene(
        PY_POLICY,
        "Red before green is advisory here (weak): legacy tests.",
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(completion(&proof_of(&ws).1), "weak");
    // planexec.toml turns it off; the plan asks for it: the plan wins.
    let policy = format!("{PY_POLICY}[review]\ntests_must_fail_first = \"off\"\n");
    let (_t, ws, out) = scene(&policy, "Every new test must fail first.");
    assert_eq!(out.code, 1, "{out:?}");
    let (prove, review) = proof_of(&ws);
    assert!(prove.is_some(), "the check ran");
    assert_eq!(completion(&review), "fail", "{review:#}");
    // And the plan can turn it off.
    let (_t, ws, out) = scene(PY_POLICY, "New tests need not fail first.");
    assert_eq!(out.code, 0, "{out:?}");
    assert!(proof_of(&ws).0.is_none(), "no tests-prove run");
}

#[test]
fn a_refactor_without_test_changes_is_not_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = red_green(tmp.path(), "pytest", "passing", &[MUL], "pytest", PY_POLICY);
    let out = planexec(&ws, &["run", "plan/plan.md"]);
    assert_eq!(out.code, 0, "{out:?}");
    let (prove, review) = proof_of(&ws);
    assert!(prove.is_none(), "{prove:?}");
    assert_eq!(completion(&review), "pass");
}

#[test]
fn go_test_red_green_pair() {
    let tmp = tempfile::tempdir().unwrap();
    let policy = "[policy]\ngrant = [\"go\", \"git\"]\n[gates.go-test]\nargs = [\"-count=1\"]\n";
    let mul = (
        "calc/mul.go",
        "package calc\n\nfunc Mul(a, b int) int { return a * b }\n",
    );
    let red = ("calc/mul_test.go", "package calc\n\nimport \"testing\"\n\nfunc TestMul(t *testing.T) {\n\tif Mul(2, 3) != 6 {\n\t\tt.Fatal(\"Mul\")\n\t}\n}\n");
    let ws = red_green(
        tmp.path(),
        "go-test",
        "passing",
        &[mul, red],
        "go-test",
        policy,
    );
    let out = planexec(&ws, &["run", "plan/plan.md"]);
    assert_eq!(out.code, 0, "{out:?}");
    let (prove, review) = proof_of(&ws);
    let ev = prove.unwrap()["report"]["evidence"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(ev.contains("TestMul: failed without the change"), "{ev}");
    assert_eq!(completion(&review), "pass");
    let tmp = tempfile::tempdir().unwrap();
    // In its own package: a package whose tests do not build runs none of them.
    let green = ("zero/zero_test.go", "package zero\n\nimport (\n\t\"testing\"\n\n\t\"example.com/passing/calc\"\n)\n\nfunc TestAddZero(t *testing.T) {\n\tif calc.Add(0, 0) != 0 {\n\t\tt.Fatal(\"Add\")\n\t}\n}\n");
    let ws = red_green(
        tmp.path(),
        "go-test",
        "passing",
        &[mul, red, green],
        "go-test",
        policy,
    );
    let out = planexec(&ws, &["run", "plan/plan.md"]);
    assert_eq!(out.code, 0, "{out:?}");
    let (prove, review) = proof_of(&ws);
    let ev = prove.unwrap()["report"]["evidence"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        ev.contains("TestAddZero: PASSED without the change"),
        "{ev}"
    );
    assert_eq!(completion(&review), "weak");
}

#[test]
fn cargo_test_red_green_pair() {
    let tmp = tempfile::tempdir().unwrap();
    let tgt = target_dir().join("e2e-gate-fixtures");
    std::fs::create_dir_all(&tgt).unwrap();
    let policy = format!(
        "[policy]\ngrant = [\"cargo\", \"git\"]\nenv = [\"CARGO_TARGET_DIR\"]\nwrites = [{:?}]\n[gates.cargo-test]\n",
        tgt.to_str().unwrap()
    );
    let env = [("CARGO_TARGET_DIR", tgt.to_str().unwrap())];
    // The task makes add() saturate: `saturates` fails (overflow panics) before it,
    // `adds_zero` passes before and after. Both build on the old code.
    let red = ("tests/saturate.rs", "#[test]\nfn saturates() {\n    assert_eq!(fixture_passing::add(i32::MAX, 1), i32::MAX);\n}\n\n#[test]\nfn adds_zero() {\n    assert_eq!(fixture_passing::add(0, 0), 0);\n}\n");
    let ws = red_green(
        tmp.path(),
        "cargo-test",
        "passing",
        &[red],
        "cargo-test",
        &policy,
    );
    let patch = std::fs::read_to_string(ws.join("plan/patches/T001.patch")).unwrap()
        + "diff --git a/src/lib.rs b/src/lib.rs\n--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1,3 +1,3 @@\n pub fn add(a: i32, b: i32) -> i32 {\n-    a + b\n+    a.saturating_add(b)\n }\n";
    write(&ws, "plan/patches/T001.patch", &patch);
    let plan = std::fs::read_to_string(ws.join("plan/plan.md"))
        .unwrap()
        .replace("tests/saturate.rs", "tests/saturate.rs, src/lib.rs");
    write(&ws, "plan/plan.md", &plan);
    git(&ws, &["commit", "-qam", "lib.rs too"]);
    let out = planexec_env(&ws, &["run", "plan/plan.md"], &env);
    assert_eq!(out.code, 0, "{out:?}");
    let (prove, review) = proof_of(&ws);
    let ev = prove.unwrap_or_else(|| panic!("{out:?}"))["report"]["evidence"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        ev.contains("saturates: failed without the change") && ev.contains("overflow"),
        "{ev}"
    );
    assert!(ev.contains("adds_zero: PASSED without the change"), "{ev}");
    assert_eq!(completion(&review), "weak");
}

/// Issue 31: vitest tests are named from the diff (`it("title", ...)`) and judged at the
/// task's start point, where the project's node_modules is linked into the worktree.
#[test]
fn vitest_tests_named_from_the_diff_are_judged_red_before_green() {
    let tmp = tempfile::tempdir().unwrap();
    let test = "import { expect, it } from \"vitest\";\nimport { add } from \"./math.js\";\n\nit(\"adds zero\", () => {\n  expect(add(0, 0)).toBe(0);\n});\n\nit(\"multiplies\", async () => {\n  const { mul } = await import(\"./mul.js\");\n  expect(mul(2, 3)).toBe(6);\n});\n";
    let ws = red_green(
        tmp.path(),
        "vitest",
        "vitest-app",
        &[
            (
                "src/mul.js",
                "export function mul(a, b) {\n  return a * b;\n}\n",
            ),
            ("src/mul.test.js", test),
        ],
        "vitest",
        "[policy]\ngrant = [\"node\", \"git\"]\n[gates.vitest]\n",
    );
    let o = std::process::Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--prefer-offline"])
        .current_dir(&ws)
        .output()
        .expect("npm runs (scripts/setup.sh installs Node)");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (prove, review) = run_and_prove(&ws);
    let ev = prove["report"]["evidence"].as_str().unwrap();
    assert!(ev.contains("adds zero: PASSED without the change"), "{ev}");
    assert!(ev.contains("multiplies: failed without the change"), "{ev}");
    assert_eq!(completion(&review), "weak", "{review:#}");
    let f = review["review"]["findings"].as_array().unwrap();
    assert!(
        f.iter()
            .any(|f| f["rule"] == "tests-prove/passes-without-change"
                && f["message"].as_str().unwrap().contains("`adds zero`")),
        "{f:#?}"
    );
}

/// Issue 31: the start point's run goes beside the cycle's other gates, not after them:
/// it starts before a 3-second gate of the same cycle has ended.
#[test]
fn red_before_green_runs_beside_the_other_gates() {
    let tmp = tempfile::tempdir().unwrap();
    let test = "def test_mul():\n    from calc.mul import mul\n    assert mul(2, 3) == 6\n";
    let policy = "[policy]\ngrant = [\"python3\", \"git\", \"sleep\"]\n[gates.pytest]\n[gates.slow]\nplugin = \"command\"\ncommand = \"sleep 3\"\n";
    let ws = red_green(
        tmp.path(),
        "pytest",
        "passing",
        &[MUL, ("tests/test_mul.py", test)],
        "pytest",
        policy,
    );
    let toml = std::fs::read_to_string(ws.join("planexec.toml"))
        .unwrap()
        .replace(
            "task_gates = [\"pytest\"]",
            "task_gates = [\"pytest\", \"slow\"]",
        );
    write(&ws, "planexec.toml", &toml);
    git(&ws, &["commit", "-qam", "slow gate"]);
    let (prove, _) = run_and_prove(&ws);
    assert_eq!(prove["report"]["outcome"], "passed", "{prove:#}");
    let rec = record(&ws);
    let timings = rec["tasks"][0]["cycles"][0]["timings"]
        .as_array()
        .unwrap()
        .clone();
    let span = |name: &str| {
        let t = timings
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("no {name} timing: {timings:#?}"));
        let start = time::OffsetDateTime::parse(
            t["started_at"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        (
            start,
            start + time::Duration::milliseconds(t["duration_ms"].as_i64().unwrap()),
        )
    };
    let (prove_start, _) = span("tests-prove");
    let (slow_start, slow_end) = span("slow");
    assert!(slow_end - slow_start >= time::Duration::seconds(3));
    assert!(
        prove_start < slow_end,
        "tests-prove started at {prove_start}, after the slow gate ended at {slow_end}"
    );
}
