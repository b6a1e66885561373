//! Red before green: a task's new or changed tests are run at the task's start point
//! with only its test files applied; each one that passes there is a finding.

use super::ports::GateRef;
use super::Ctx;
use crate::config::FailFirst;
use planexec_record::{Finding, GateRun, Outcome, Severity, TestCase};
use planexec_vcs::{ChangeKind, TaskChanges};
use std::path::Path;

/// The test gates whose cases name tests (the gate's own notion of a test file below).
const TEST_GATES: [&str; 5] = ["pytest", "go-test", "cargo-test", "vitest", "jest"];

/// What the check found: the evidence gate run for the record and the review's findings.
pub struct Proof {
    pub evidence: GateRun,
    pub findings: Vec<Finding>,
}

/// A test file by the test gates' own rules: pytest's `test_*.py` / `*_test.py`,
/// go's `*_test.go`, cargo's integration tests `tests/*.rs`, vitest's and jest's
/// `*.test.*` / `*.spec.*` and `__tests__/`.
pub fn is_test_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let js = [".js", ".ts", ".jsx", ".tsx", ".mjs", ".cjs"];
    (name.ends_with(".py") && (name.starts_with("test_") || name.ends_with("_test.py")))
        || name.ends_with("_test.go")
        || (name.ends_with(".rs") && (path.starts_with("tests/") || path.contains("/tests/")))
        || (js.iter().any(|e| name.ends_with(e))
            && (name.contains(".test.") || name.contains(".spec.") || path.contains("__tests__/")))
}

/// The test functions a file's diff adds or changes: `def test_x`, `func TestX`,
/// `fn x` after `#[test]`, on added lines or as a hunk's function context.
pub fn named_tests(patch: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut after_attr = false;
    for line in patch.lines() {
        if let Some(ctx) = line.strip_prefix("@@").and_then(|r| r.split("@@").nth(1)) {
            out.extend(test_name(ctx.trim(), false));
            continue;
        }
        let (added, text) = match line.as_bytes().first() {
            Some(b'+') if !line.starts_with("+++") => (true, &line[1..]),
            Some(b' ') => (false, &line[1..]),
            _ => continue,
        };
        let t = text.trim();
        if t.starts_with("#[test]") || t.starts_with("#[tokio::test") {
            after_attr = true;
            continue;
        }
        if let (true, Some(n)) = (added, test_name(t, after_attr)) {
            out.push(n);
        }
        if !t.starts_with("#[") {
            after_attr = false;
        }
    }
    out.sort();
    out.dedup();
    out
}

fn test_name(t: &str, rust_test: bool) -> Option<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let t = t.trim_start_matches("async ").trim_start_matches("pub ");
    let n = if let Some(r) = t.strip_prefix("def test") {
        format!("test{}", ident(r))
    } else if let Some(r) = t.strip_prefix("func Test") {
        format!("Test{}", ident(r))
    } else if let (true, Some(r)) = (rust_test, t.strip_prefix("fn ")) {
        ident(r)
    } else {
        return None;
    };
    (!n.is_empty()).then_some(n)
}

/// Runs the check for a task whose changes touch test files, when a test gate ran
/// in this cycle; `None` when the task is not concerned (no test change, `off`).
pub fn check(ctx: &mut Ctx, id: &str, changes: &TaskChanges, gates: &[GateRun]) -> Option<Proof> {
    let mode = ctx.config.review.tests_must_fail_first;
    let tests: Vec<_> = changes
        .files
        .iter()
        .filter(|f| is_test_file(&f.path))
        .collect();
    if mode == FailFirst::Off || tests.is_empty() {
        return None;
    }
    let names: Vec<String> = tests.iter().flat_map(|f| named_tests(&f.patch)).collect();
    // Nothing to judge (a vitest or jest file: its tests are not named from the diff yet).
    if names.is_empty() {
        return None;
    }
    let task_gates = ctx.plugins.task_gates();
    let (n, gate) = task_gates.iter().enumerate().find_map(|(n, name)| {
        let run = gates.iter().find(|g| &g.name == name)?;
        TEST_GATES
            .contains(&run.plugin.as_str())
            .then_some((n, run.clone()))
    })?;
    let t0 = std::time::Instant::now();
    let before = run_at_start(ctx, id, changes, n).unwrap_or_else(|e| errored(&gate, e));
    let verdicts: Vec<(String, Before)> = names
        .iter()
        .map(|name| (name.clone(), judge(name, &before)))
        .collect();
    Some(proof(&gate, &before, verdicts, mode, t0.elapsed()))
}

/// How one new test did at the start point.
enum Before {
    Failed(String),
    Passed(Option<TestCase>),
    NotRun,
}

fn judge(name: &str, before: &GateRun) -> Before {
    let matches = |c: &&TestCase| {
        c.name == name
            || c.name.ends_with(&format!("::{name}"))
            || c.name.ends_with(&format!(".{name}"))
            || c.name.starts_with(&format!("{name}/"))
    };
    let cases: Vec<&TestCase> = before.report.cases.iter().filter(matches).collect();
    if let Some(f) = cases
        .iter()
        .find(|c| !matches!(c.outcome, Outcome::Passed | Outcome::Skipped))
    {
        return Before::Failed(first_line(&f.message, &f.output));
    }
    if let Some(p) = cases.iter().find(|c| c.outcome == Outcome::Passed) {
        return Before::Passed(Some((*p).clone()));
    }
    match before.report.outcome {
        // Not collected, not compiled: the test cannot pass without the change.
        Outcome::Failed | Outcome::Errored => {
            Before::Failed(first_line(&before.report.summary, ""))
        }
        _ => Before::NotRun,
    }
}

fn first_line(msg: &str, output: &str) -> String {
    let m = if msg.trim().is_empty() { output } else { msg };
    m.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("failed")
        .trim()
        .to_string()
}

/// A throwaway worktree at HEAD (the task's start) with only the test files copied
/// in from the task's tree, the test gate run there, the worktree removed.
fn run_at_start(
    ctx: &mut Ctx,
    id: &str,
    changes: &TaskChanges,
    n: usize,
) -> Result<GateRun, String> {
    let head = ctx
        .repo
        .head()
        .map_err(|e| e.to_string())?
        .ok_or("no HEAD")?;
    let name = format!(
        "planexec-redgreen-{}",
        id.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
    );
    let dir = ctx.repo.git().path().join("planexec/worktrees").join(&name);
    let _ = ctx.repo.remove_worktree(&name);
    let wt = ctx
        .repo
        .add_worktree(&name, &dir, &head)
        .map_err(|e| e.to_string())?;
    let copied = copy_tests(ctx.workspace, wt.workdir(), changes);
    let task = ctx.plan.tasks.iter().find(|t| t.id == id).cloned();
    let run = copied.map(|()| {
        ctx.plugins
            .gate(wt.workdir(), GateRef::Task(n), task.as_ref())
    });
    drop(wt);
    let _ = ctx.repo.remove_worktree(&name);
    freshen(ctx.workspace, changes);
    run
}

/// The task's changed files are made newer than anything the start-point run built:
/// cargo names a path package's artifacts the same wherever it lies and trusts file
/// times, so with a shared CARGO_TARGET_DIR the next build in the task's tree would
/// otherwise reuse what the old code compiled to.
fn freshen(workspace: &Path, changes: &TaskChanges) {
    let now = std::time::SystemTime::now();
    for f in changes
        .files
        .iter()
        .filter(|f| f.change != ChangeKind::Deleted)
    {
        use std::os::unix::fs::OpenOptionsExt;
        let opened = std::fs::File::options()
            .write(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(workspace.join(&f.path));
        if let Ok(file) = opened {
            let _ = file.set_modified(now);
        }
    }
}

fn copy_tests(from: &Path, to: &Path, changes: &TaskChanges) -> Result<(), String> {
    for f in changes.files.iter().filter(|f| is_test_file(&f.path)) {
        let dst = to.join(&f.path);
        if f.change == ChangeKind::Deleted {
            let _ = std::fs::remove_file(&dst);
            continue;
        }
        if let Some(p) = dst.parent() {
            std::fs::create_dir_all(p).map_err(|e| format!("{}: {e}", p.display()))?;
        }
        std::fs::copy(from.join(&f.path), &dst).map_err(|e| format!("{}: {e}", f.path))?;
    }
    Ok(())
}

fn errored(gate: &GateRun, why: String) -> GateRun {
    let mut g = gate.clone();
    g.report = plain(
        &gate.report,
        Outcome::Errored,
        format!("could not run at the task's start point: {why}"),
    );
    g
}

/// The evidence gate run (`tests-prove`) and one finding per test that passed without
/// the change: minor, or important when every new test did and the mode is `fail`.
fn proof(
    gate: &GateRun,
    before: &GateRun,
    verdicts: Vec<(String, Before)>,
    mode: FailFirst,
    took: std::time::Duration,
) -> Proof {
    let mut lines = Vec::new();
    let mut passing = Vec::new();
    for (name, v) in &verdicts {
        match v {
            Before::Failed(msg) => lines.push(format!("{name}: failed without the change: {msg}")),
            Before::Passed(case) => {
                lines.push(format!("{name}: PASSED without the change"));
                passing.push((name.clone(), case.clone()));
            }
            Before::NotRun => lines.push(format!(
                "{name}: not run by gate `{}` at the start point",
                gate.name
            )),
        }
    }
    let judged = verdicts
        .iter()
        .filter(|(_, v)| !matches!(v, Before::NotRun))
        .count();
    let all_pass = judged > 0 && passing.len() == judged;
    let severity = if all_pass && mode == FailFirst::Fail {
        Severity::Important
    } else {
        Severity::Minor
    };
    let findings = passing
        .iter()
        .map(|(name, case)| Finding {
            severity,
            rule: "tests-prove/passes-without-change".into(),
            message: format!("`{name}` passes without the task's change (run by gate `{}` at the task's start point with only its test files applied): it does not show the change is there", gate.name),
            path: case.as_ref().and_then(|c| c.path.clone()),
            line: case.as_ref().and_then(|c| c.line),
            column: None,
            end_line: None,
            end_column: None,
        })
        .collect();
    let failed_first = judged - passing.len();
    let summary = format!(
        "red before green: {failed_first} of {judged} new or changed test(s) failed without the change (gate `{}`: {})",
        gate.name, before.report.summary
    );
    let outcome = if passing.is_empty() {
        Outcome::Passed
    } else {
        Outcome::Failed
    };
    let mut report = plain(&gate.report, outcome, summary);
    report.evidence = lines.join("\n");
    report.duration_ms = took.as_millis() as u64;
    Proof {
        evidence: GateRun {
            name: "tests-prove".into(),
            plugin: gate.plugin.clone(),
            report,
            programs: before.programs.clone(),
        },
        findings,
    }
}

/// A report with only an outcome and a summary (no tests, failures or findings of its
/// own: the start point's failing tests are the expected ones, not the task's).
fn plain(
    base: &planexec_record::GateReport,
    outcome: Outcome,
    summary: String,
) -> planexec_record::GateReport {
    let mut r = base.clone();
    r.outcome = outcome;
    r.summary = summary;
    r.tests = None;
    r.failures.clear();
    r.cases.clear();
    r.findings.clear();
    r.evidence.clear();
    r.coverage_percent = None;
    r.exit_code = None;
    r.shard = None;
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_files_by_the_gates_rules() {
        for p in [
            "tests/test_a.py",
            "pkg/a_test.py",
            "calc/calc_test.go",
            "tests/it.rs",
            "src/a.test.ts",
            "web/__tests__/x.js",
        ] {
            assert!(is_test_file(p), "{p}");
        }
        for p in [
            "src/app.py",
            "calc/calc.go",
            "src/lib.rs",
            "src/a.ts",
            "tests/conftest.py",
        ] {
            assert!(!is_test_file(p), "{p}");
        }
    }

    #[test]
    fn names_the_tests_a_diff_adds_or_changes() {
        let py = "@@ -1,3 +1,7 @@ def test_old():\n def test_old():\n-    assert 1\n+    assert 2\n+\n+def test_new():\n+    assert f()\n";
        assert_eq!(named_tests(py), ["test_new", "test_old"]);
        let go = "@@ -0,0 +1,5 @@\n+func TestMul(t *testing.T) {\n+}\n";
        assert_eq!(named_tests(go), ["TestMul"]);
        let rs = "@@ -0,0 +1,6 @@\n+#[test]\n+fn multiplies() {\n+}\n+fn helper() {}\n";
        assert_eq!(named_tests(rs), ["multiplies"]);
    }
}
