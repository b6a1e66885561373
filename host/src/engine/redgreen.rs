//! Red before green: a task's new or changed tests are run at the task's start point
//! with only its test files applied; each one that passes there is a finding.

use super::ports::GateRef;
use super::Ctx;
use crate::config::FailFirst;
use planexec_record::{Finding, GateRun, Outcome, Severity, StepKind, TestCase, Timing};
use planexec_vcs::{ChangeKind, TaskChanges};
use std::path::Path;

/// The test gates whose cases name tests (the gate's own notion of a test file below).
const TEST_GATES: [&str; 5] = ["pytest", "go-test", "cargo-test", "vitest", "jest"];

/// What the check found: the evidence gate run for the record and the review's findings.
pub struct Proof {
    pub evidence: GateRun,
    pub findings: Vec<Finding>,
    /// When the start point's run ran (beside the cycle's gates, or after them).
    pub timing: Option<Timing>,
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
/// `fn x` after `#[test]`, on added lines or as a hunk's function context; vitest's
/// and jest's `test("title", ...)` / `it("title", ...)` titles on added lines.
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
        if let (true, Some(n)) = (added, test_name(t, after_attr).or_else(|| js_title(t))) {
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

/// The title of a vitest / jest test opened on this line: `test("adds", ...)`,
/// `it('adds', ...)`, `test.only(...)`, `it.concurrent(...)`; a template string only
/// without `${`.
fn js_title(t: &str) -> Option<String> {
    let rest = ["test", "it"].iter().find_map(|f| t.strip_prefix(f))?;
    let rest = match rest.strip_prefix('.') {
        Some(m) => {
            let (modifier, after) = m.split_at(m.find('(')?);
            ["only", "concurrent", "sequential", "fails"]
                .contains(&modifier)
                .then_some(after)?
        }
        None => rest,
    };
    let rest = rest.strip_prefix('(')?.trim_start();
    let quote = rest
        .chars()
        .next()
        .filter(|q| matches!(q, '"' | '\'' | '`'))?;
    let body = &rest[1..];
    let end = body.find(quote)?;
    let title = &body[..end];
    (!title.is_empty() && !title.contains("${") && !title.contains('\\')).then(|| title.to_string())
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

/// The mode in force: the plan's Tolerances sentence when it has one, else
/// planexec.toml's `[review] tests_must_fail_first` (default `fail`).
pub fn mode(plan: &planexec_plan::Plan, config: &crate::config::Config) -> FailFirst {
    match plan.tolerances.tests_must_fail_first.as_deref() {
        Some("off") => FailFirst::Off,
        Some("weak") => FailFirst::Weak,
        Some("fail") => FailFirst::Fail,
        _ => config.review.tests_must_fail_first,
    }
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
            // vitest / jest: `file > describe > title`
            || c.name.ends_with(&format!(" > {name}"))
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

/// The check set up before the cycle's gates: a throwaway worktree at HEAD (the task's
/// start) with only its test files, the test gate to run there, the tests to judge.
pub struct Pending {
    /// The per-task gate's index and name.
    n: usize,
    gate: String,
    names: Vec<String>,
    mode: FailFirst,
    worktree: String,
    /// The worktree's folder, or why it could not be made; `None` until [`open`].
    dir: Option<Result<std::path::PathBuf, String>>,
    /// Whether it may run beside the cycle's gates: not cargo-test, whose shared target
    /// folder would hold the old code's build and the new one's at once.
    pub concurrent: bool,
}

/// Sets the check up for a task whose changes touch test files in which tests are
/// named, when a per-task gate is a test gate; `None` when the task is not concerned.
pub fn prepare(ctx: &mut Ctx, id: &str, changes: &TaskChanges) -> Option<Pending> {
    let mode = mode(ctx.plan, ctx.config);
    let tests = changes.files.iter().filter(|f| is_test_file(&f.path));
    let names: Vec<String> = tests.flat_map(|f| named_tests(&f.patch)).collect();
    // Nothing to judge: off, no test file, or no test function or titled test added.
    if mode == FailFirst::Off || names.is_empty() {
        return None;
    }
    let (n, gate, plugin) =
        ctx.plugins
            .task_gates()
            .into_iter()
            .enumerate()
            .find_map(|(n, name)| {
                let plugin = ctx
                    .config
                    .gates
                    .iter()
                    .find(|g| g.name == name)?
                    .plugin
                    .clone();
                TEST_GATES
                    .contains(&plugin.as_str())
                    .then_some((n, name, plugin))
            })?;
    let worktree = format!(
        "planexec-redgreen-{}",
        id.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
    );
    let mut p = Pending {
        n,
        gate,
        names,
        mode,
        worktree,
        dir: None,
        concurrent: plugin != "cargo-test",
    };
    // cargo's worktree is made after the gates: its checkout must be newer than the
    // task's build in the shared target folder, or cargo takes that build for the old code.
    if p.concurrent {
        open(ctx, &mut p, changes);
    }
    Some(p)
}

/// Makes the start point's worktree (once).
pub fn open(ctx: &Ctx, p: &mut Pending, changes: &TaskChanges) {
    if p.dir.is_none() {
        p.dir = Some(start_point(ctx, &p.worktree, changes));
    }
}

/// The worktree at HEAD with the task's test files and the project's installed
/// dependencies; its folder.
fn start_point(ctx: &Ctx, name: &str, changes: &TaskChanges) -> Result<std::path::PathBuf, String> {
    let head = ctx
        .repo
        .head()
        .map_err(|e| e.to_string())?
        .ok_or("no HEAD")?;
    let dir = ctx.repo.git().path().join("planexec/worktrees").join(name);
    let _ = ctx.repo.remove_worktree(name);
    let wt = ctx
        .repo
        .add_worktree(name, &dir, &head)
        .map_err(|e| e.to_string())?;
    copy_tests(ctx.workspace, wt.workdir(), changes)?;
    link_installed(ctx.workspace, wt.workdir())?;
    Ok(wt.workdir().to_path_buf())
}

/// The test gate at the start point (boxed like every gate), with how long it took;
/// callable from another thread while the cycle's gates run.
pub fn run_before(
    plugins: &dyn super::ports::Plugins,
    p: &Pending,
    task: Option<&planexec_plan::Task>,
) -> (Result<GateRun, String>, Timing) {
    let t0 = time::OffsetDateTime::now_utc();
    let dir = p
        .dir
        .clone()
        .unwrap_or_else(|| Err("the start point was not made".into()));
    let run = dir.map(|dir| plugins.gate(&dir, GateRef::Task(p.n), task));
    let timing = crate::report::timing::since(StepKind::Gate, "tests-prove", t0);
    (run, timing)
}

/// Removes the worktree and judges each named test by the start point's run, against
/// the test gate's run in this cycle; `None` when that gate did not run (or `before`
/// is missing: the check was not run because a gate failed).
pub fn finish(
    ctx: &mut Ctx,
    p: Pending,
    before: Option<(Result<GateRun, String>, Timing)>,
    changes: &TaskChanges,
    gates: &[GateRun],
) -> Option<Proof> {
    let _ = ctx.repo.remove_worktree(&p.worktree);
    freshen(ctx.workspace, changes);
    let gate = gates.iter().find(|g| g.name == p.gate)?;
    let (before, took) = before?;
    let before = before.unwrap_or_else(|e| errored(gate, e));
    let verdicts: Vec<(String, Before)> = p
        .names
        .iter()
        .map(|name| (name.clone(), judge(name, &before)))
        .collect();
    let mut proof = proof(gate, &before, verdicts, p.mode, took.duration_ms);
    proof.timing = Some(took);
    Some(proof)
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

/// Installed dependencies a worktree lacks (git ignores them): the project's
/// `node_modules`, which vitest and jest run from, hard-linked in (copied where a
/// link fails). The box gives the gate the worktree read-only, so nothing it does
/// reaches the workspace's files.
fn link_installed(from: &Path, to: &Path) -> Result<(), String> {
    for dir in ["node_modules"] {
        let (src, dst) = (from.join(dir), to.join(dir));
        let real_dir = src.symlink_metadata().is_ok_and(|m| m.is_dir());
        if real_dir && !dst.exists() {
            link_tree(&src, &dst).map_err(|e| format!("{}: {e}", src.display()))?;
        }
    }
    Ok(())
}

fn link_tree(src: &Path, dst: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dst)?;
    for e in std::fs::read_dir(src)? {
        let e = e?;
        let (s, d) = (e.path(), dst.join(e.file_name()));
        let kind = e.file_type()?;
        if kind.is_dir() {
            link_tree(&s, &d)?;
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&s)?, &d)?;
        } else if kind.is_file() && std::fs::hard_link(&s, &d).is_err() {
            std::fs::copy(&s, &d)?;
        }
    }
    Ok(())
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
    took_ms: u64,
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
    report.duration_ms = took_ms;
    Proof {
        evidence: GateRun {
            name: "tests-prove".into(),
            plugin: gate.plugin.clone(),
            report,
            programs: before.programs.clone(),
        },
        findings,
        timing: None,
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
        let js = "@@ -3,4 +3,12 @@ describe(\"math\", () => {\n   it(\"adds\", () => {\n+  it(\"multiplies\", () => {\n+  test.only('divides', async () => {\n+  it.each([1])(\"skips %i\", () => {\n+  test(`with ${x}`, () => {\n+  const item = 1;\n";
        assert_eq!(named_tests(js), ["divides", "multiplies"]);
    }
}
