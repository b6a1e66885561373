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
    copy_tree(
        &root().join("plugins").join(plugin).join("tests/projects").join(project),
        &ws,
    );
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
    write(&ws, "plan/patches/T001.patch", &new_file_patch("NOTES.md", "a note"));
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
        .flat_map(|g| g["report"]["findings"].as_array().cloned().unwrap_or_default())
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
        .unwrap_or_else(|| panic!("no missing-test finding: {f:#?}\n{out:?}\n{:#}", rec["tasks"][0]["cycles"]));
    let msg = missing["message"].as_str().unwrap();
    assert!(msg.contains(names) && msg.contains("does not exist"), "{msg}");
    assert_eq!(git(ws, &["log", "--format=%s", "-1"]).trim(), "plan", "nothing committed");
}

#[test]
fn a_pytest_acceptance_naming_a_missing_test_is_rejected_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let accept = "python3 -m pytest -q tests/test_calc.py::test_mul";
    let ws = one_task(tmp.path(), "pytest", "passing", accept, "[policy]\ngrant = [\"python3\", \"git\"]");
    let out = planexec(&ws, &["run", "plan/plan.md"]);
    assert_rejected_naming(&ws, &out, "tests/test_calc.py::test_mul");
}

#[test]
fn a_go_test_run_pattern_matching_no_test_is_rejected_not_passed() {
    let tmp = tempfile::tempdir().unwrap();
    let accept = "go test -count=1 -run TestMul ./calc";
    let ws = one_task(tmp.path(), "go-test", "passing", accept, "[policy]\ngrant = [\"go\", \"git\"]");
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
    let ws = one_task(tmp.path(), "cargo-test", "passing", "cargo test multiplies", &policy);
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
    let ws = one_task(tmp.path(), "go-test", "passing", accept, "[policy]\ngrant = [\"go\", \"git\"]");
    let out = planexec(&ws, &["run", "plan/plan.md"]);
    assert_eq!(out.code, 0, "{out:?}");
    let tmp = tempfile::tempdir().unwrap();
    let accept = "python3 -m pytest -q tests/test_calc.py::test_add";
    let ws = one_task(tmp.path(), "pytest", "passing", accept, "[policy]\ngrant = [\"python3\", \"git\"]");
    let out = planexec(&ws, &["run", "plan/plan.md"]);
    assert_eq!(out.code, 0, "{out:?}");
}
