//! Issue 6, end to end: the real `planexec run` on fixture plans in temp git repos,
//! with the `patch` implementer. A task's first patch makes a mistake the reviews
//! must catch (an AWS key, a debug print, source without tests, a deleted test); the
//! run record shows the cycle-1 code review's criterion and finding (rule, file,
//! line), the `<ID>.2.patch` rework passes both reviews, and the task is committed.
//! Also: code review only after an approving task review; the rejection's findings
//! become the next cycle's feedback; a reviewer that traps, times out or replies
//! garbage blocks the task as errored and never passes it.
//!
//! Fixtures are built in code: base files, then each task's patches are produced by
//! `git diff` in a scratch repo that replays the same edits in the same order.

use crate::support::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------- fixtures

fn git_init(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["config", "user.email", "tests@planexec.invalid"]);
    git(dir, &["config", "user.name", "planexec tests"]);
    git(dir, &["config", "commit.gpgsign", "false"]);
}

/// One edit: write the file (Some) or delete it (None).
type Edit<'a> = (&'a str, Option<&'a str>);

fn apply_edits(dir: &Path, edits: &[Edit]) {
    for (p, text) in edits {
        match text {
            Some(t) => write(dir, p, t),
            None => std::fs::remove_file(dir.join(p)).unwrap(),
        }
    }
}

/// A scratch repo that replays every edit in order and turns each step into a patch
/// against the previous step (what rework cycles apply on top of).
struct PatchMaker {
    dir: PathBuf,
}

impl PatchMaker {
    fn new(dir: PathBuf, base: &[Edit]) -> Self {
        git_init(&dir);
        apply_edits(&dir, base);
        git(&dir, &["add", "."]);
        git(&dir, &["commit", "-q", "--allow-empty", "-m", "base"]);
        PatchMaker { dir }
    }

    fn patch(&self, edits: &[Edit]) -> String {
        apply_edits(&self.dir, edits);
        git(&self.dir, &["add", "."]);
        let p = git(&self.dir, &["diff", "--cached", "--binary"]);
        git(&self.dir, &["commit", "-q", "--allow-empty", "-m", "step"]);
        assert!(!p.is_empty(), "edits {edits:?} produced no patch");
        p
    }
}

struct TaskSpec<'a> {
    id: &'a str,
    title: &'a str,
    files: &'a str,
    acceptance: &'a str,
    /// The edits of cycle 1, 2, ...: `<ID>.patch`, `<ID>.2.patch`, ...
    cycles: Vec<Vec<Edit<'a>>>,
}

struct Run {
    _tmp: tempfile::TempDir,
    ws: PathBuf,
    out: Out,
    record: Value,
}

impl Run {
    fn task(&self, id: &str) -> &Value {
        self.record["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == id)
            .unwrap_or_else(|| panic!("no task {id} in the record: {:#}", self.record))
    }

    fn cycle(&self, id: &str, n: usize) -> &Value {
        let cs = self.task(id)["cycles"].as_array().unwrap();
        cs.iter()
            .find(|c| c["number"] == n)
            .unwrap_or_else(|| panic!("{id} has no cycle {n}: {cs:#?}\n{:?}", self.out))
    }

    /// Subjects of `git log`, newest first.
    fn log(&self) -> Vec<String> {
        git(&self.ws, &["log", "--format=%s"])
            .lines()
            .map(String::from)
            .collect()
    }

    /// Files of the commit whose subject starts with `<id>: `.
    fn commit_files(&self, id: &str) -> Vec<String> {
        let sha = git(
            &self.ws,
            &["log", "--format=%H", "--grep", &format!("^{id}: ")],
        );
        let sha = sha
            .lines()
            .next()
            .unwrap_or_else(|| panic!("no {id} commit"));
        let mut v: Vec<String> = git(&self.ws, &["show", "--format=", "--name-only", sha])
            .lines()
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect();
        v.sort();
        v
    }
}

/// The base project every scenario starts from: a tiny Python package with tests.
const CALC: &str = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n";
const TEST_CALC: &str = "from src.calc import add, sub\n\n\ndef test_add():\n    assert add(1, 2) == 3\n\n\ndef test_sub():\n    assert sub(3, 1) == 2\n";

fn base() -> Vec<Edit<'static>> {
    vec![
        ("src/__init__.py", Some("")),
        ("src/calc.py", Some(CALC)),
        ("tests/test_calc.py", Some(TEST_CALC)),
    ]
}

const CONFIG: &str = "[policy]\ngrant = [\"grep\", \"git\"]\n\n[run]\nimplementer = \"patch\"\n";

/// Builds the repo (base files, plan, patches, planexec.toml + `extra_config`, all
/// committed), runs `planexec run plan/plan.md ARGS` and reads the run record.
fn run(tasks: &[TaskSpec], extra_config: &str, args: &[&str]) -> Run {
    run_with(tasks, CONFIG, extra_config, args)
}

fn run_with(tasks: &[TaskSpec], config: &str, extra_config: &str, args: &[&str]) -> Run {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    git_init(&ws);
    apply_edits(&ws, &base());
    let maker = PatchMaker::new(tmp.path().join("scratch"), &base());
    let mut plan = String::from("# Reviews demo\n\n");
    for t in tasks {
        plan.push_str(&format!(
            "### {}: {}\n**Summary**: {}.\n**Dependencies**: none\n**Files/modules touched**: {}\n**Acceptance test**: `{}`\n\n",
            t.id, t.title, t.title, t.files, t.acceptance
        ));
        for (n, edits) in t.cycles.iter().enumerate() {
            let name = if n == 0 {
                format!("{}.patch", t.id)
            } else {
                format!("{}.{}.patch", t.id, n + 1)
            };
            write(&ws, &format!("plan/patches/{name}"), &maker.patch(edits));
        }
    }
    write(&ws, "plan/plan.md", &plan);
    write(&ws, "planexec.toml", &format!("{config}{extra_config}"));
    git(&ws, &["add", "."]);
    git(&ws, &["commit", "-q", "-m", "base and plan"]);

    let mut a = vec!["run", "plan/plan.md"];
    a.extend_from_slice(args);
    let out = planexec(&ws, &a);
    let runs: Vec<PathBuf> = std::fs::read_dir(ws.join(".git/planexec/runs"))
        .unwrap_or_else(|e| panic!("no run records ({e}): {out:?}"))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?} {out:?}");
    let state: Value = serde_json::from_str(&std::fs::read_to_string(&runs[0]).unwrap()).unwrap();
    let record = state["record"].clone();
    assert!(record["tasks"].is_array(), "no record in {state:#}");
    Run {
        _tmp: tmp,
        ws,
        out,
        record,
    }
}

/// The cycle's review of `kind` ("task" / "code"), if it ran.
fn review<'a>(cycle: &'a Value, kind: &str) -> Option<&'a Value> {
    cycle["reviews"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == kind)
}

fn score<'a>(review: &'a Value, criterion: &str) -> &'a str {
    review["review"]["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == criterion)
        .unwrap_or_else(|| panic!("no criterion {criterion}: {review:#}"))["score"]
        .as_str()
        .unwrap()
}

fn findings<'a>(review: &'a Value, rule: &str) -> Vec<&'a Value> {
    review["review"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

fn has_rule(list: &Value, rule: &str) -> bool {
    list.as_array().unwrap().iter().any(|f| f["rule"] == rule)
}

/// Scores of every criterion of a review, for messages.
fn scores(review: &Value) -> String {
    review["review"]["criteria"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    format!(
                        "{}={}",
                        c["name"].as_str().unwrap(),
                        c["score"].as_str().unwrap()
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_else(|| format!("{review:#}"))
}

/// The scenario of issue 6: cycle 1 approved by the task review and rejected by the
/// code review for `criterion` (`score`) with one finding of `rule` at `path:line`;
/// cycle 2 approved by both; one commit `<id>: <title>` with exactly the task's files.
fn assert_rejected_then_fixed(
    r: &Run,
    id: &str,
    title: &str,
    criterion: &str,
    want_score: &str,
    rule: &str,
    path: &str,
    line: Option<u64>,
    files: &[&str],
) {
    assert_eq!(r.out.code, 0, "{:?}", r.out);
    assert_eq!(r.record["status"], "success", "{:#}", r.record);
    let t = r.task(id);
    assert_eq!(t["status"], "done", "{t:#}");
    assert_eq!(t["cycles"].as_array().unwrap().len(), 2, "{t:#}");

    let c1 = r.cycle(id, 1);
    assert_eq!(c1["outcome"], "rework", "{c1:#}");
    let tr = review(c1, "task").expect("cycle 1 has a task review");
    assert_eq!(tr["outcome"], "approved", "{tr:#}");
    let cr = review(c1, "code").expect("cycle 1 has a code review");
    assert_eq!(cr["plugin"], "code-review");
    assert_eq!(cr["outcome"], "changes_requested", "{cr:#}");
    assert_eq!(
        score(cr, criterion),
        want_score,
        "{criterion}: {}",
        scores(cr)
    );
    assert!(
        cr["review"]["summary"]
            .as_str()
            .unwrap()
            .starts_with("CODE_REVIEW_CHANGES_REQUESTED"),
        "{cr:#}"
    );
    let fs = findings(cr, rule);
    assert_eq!(fs.len(), 1, "one {rule} finding: {cr:#}");
    assert_eq!(fs[0]["path"], path, "{:#}", fs[0]);
    match line {
        Some(l) => assert_eq!(fs[0]["line"], l, "{:#}", fs[0]),
        None => assert!(fs[0]["line"].is_null(), "{:#}", fs[0]),
    }
    // The rejection is the next cycle's feedback: the verdict, the finding, the criterion.
    let fb = &c1["feedback"];
    assert!(has_rule(fb, "code-review/verdict"), "{fb:#}");
    assert!(
        fb.as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == rule && f["path"] == path && line.is_none_or(|l| f["line"] == l)),
        "feedback carries the {rule} finding: {fb:#}"
    );
    let crit_rule = format!("code-review/{}", criterion.to_lowercase().replace(' ', "-"));
    assert!(has_rule(fb, &crit_rule), "{crit_rule} in {fb:#}");

    let c2 = r.cycle(id, 2);
    assert_eq!(c2["outcome"], "passed", "{c2:#}");
    assert_eq!(
        c2["implementer"]["summary"],
        format!("{id}: applied plan/patches/{id}.2.patch"),
        "{c2:#}"
    );
    for kind in ["task", "code"] {
        let rv = review(c2, kind).unwrap_or_else(|| panic!("cycle 2 has a {kind} review"));
        assert_eq!(rv["outcome"], "approved", "{kind}: {}", scores(rv));
    }
    assert_eq!(score(review(c2, "code").unwrap(), criterion), "pass");

    let log = r.log();
    let subject = format!("{id}: {title}");
    assert_eq!(
        log.iter().filter(|s| **s == subject).count(),
        1,
        "one task commit: {log:?}"
    );
    let mut want: Vec<String> = files.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(r.commit_files(id), want);
    assert_eq!(t["commit"], git(&r.ws, &["rev-parse", "HEAD"]).trim());
}

// ---------------------------------------------------------------- clean

#[test]
fn clean_task_passes_both_reviews_in_its_first_cycle() {
    let mul = format!("{CALC}\n\ndef mul(a, b):\n    return a * b\n");
    let test = format!("{TEST_CALC}\n\ndef test_mul():\n    assert mul(2, 3) == 6\n")
        .replace("import add, sub", "import add, mul, sub");
    let r = run(
        &[TaskSpec {
            id: "T001",
            title: "Add mul",
            files: "src/calc.py, tests/test_calc.py",
            acceptance: "grep -q 'def mul' src/calc.py",
            cycles: vec![vec![
                ("src/calc.py", Some(&mul)),
                ("tests/test_calc.py", Some(&test)),
            ]],
        }],
        "",
        &[],
    );
    assert_eq!(r.out.code, 0, "{:?}", r.out);
    assert_eq!(r.record["status"], "success");
    let t = r.task("T001");
    assert_eq!(t["status"], "done");
    assert_eq!(t["cycles"].as_array().unwrap().len(), 1, "{t:#}");
    let c1 = r.cycle("T001", 1);
    assert_eq!(c1["outcome"], "passed");
    assert_eq!(c1["gates"][0]["report"]["outcome"], "passed", "{c1:#}");
    for kind in ["task", "code"] {
        let rv = review(c1, kind).unwrap();
        assert_eq!(rv["outcome"], "approved", "{rv:#}");
        assert!(
            rv["review"]["criteria"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["score"] == "pass"),
            "{kind}: {}",
            scores(rv)
        );
        assert!(
            rv["review"]["findings"].as_array().unwrap().is_empty(),
            "{rv:#}"
        );
    }
    assert!(c1["feedback"].as_array().unwrap().is_empty());
    assert_eq!(r.log()[0], "T001: Add mul");
    assert_eq!(
        r.commit_files("T001"),
        ["src/calc.py", "tests/test_calc.py"]
    );
}

// ---------------------------------------------------------------- the four mistakes

#[test]
fn aws_key_fails_security_then_the_rework_is_committed() {
    let with_key =
        "import os\n\nREGION = \"eu-west-1\"\nAWS_ACCESS_KEY_ID = \"AKIAQ7ZK3LM5NP2RXW4T\"\n";
    let fixed = "import os\n\nREGION = \"eu-west-1\"\nAWS_ACCESS_KEY_ID = os.environ.get(\"AWS_ACCESS_KEY_ID\", \"\")\n";
    let test = "from src.settings import REGION\n\n\ndef test_region():\n    assert REGION == \"eu-west-1\"\n";
    let r = run(
        &[TaskSpec {
            id: "T001",
            title: "Add AWS settings",
            files: "src/settings.py, tests/test_settings.py",
            acceptance: "grep -q REGION src/settings.py",
            cycles: vec![
                vec![
                    ("src/settings.py", Some(with_key)),
                    ("tests/test_settings.py", Some(test)),
                ],
                vec![("src/settings.py", Some(fixed))],
            ],
        }],
        "",
        &[],
    );
    assert_rejected_then_fixed(
        &r,
        "T001",
        "Add AWS settings",
        "Security",
        "fail",
        "code-review/secret",
        "src/settings.py",
        Some(4),
        &["src/settings.py", "tests/test_settings.py"],
    );
    let cr = review(r.cycle("T001", 1), "code").unwrap();
    let f = findings(cr, "code-review/secret")[0];
    assert_eq!(f["severity"], "critical");
    assert_eq!(f["column"], 22, "{f:#}");
    let msg = f["message"].as_str().unwrap();
    assert!(msg.contains("AWS access key"), "{msg}");
    assert!(
        !msg.contains("AKIAQ7ZK3LM5NP2RXW4T"),
        "the key is masked: {msg}"
    );
    // The key never reached the task's commit (the plan's patch files hold it, not the code).
    let diff = git(&r.ws, &["show", "HEAD", "--", "src", "tests"]);
    assert!(diff.contains("os.environ.get"), "{diff}");
    assert!(!diff.contains("AKIAQ7ZK3LM5NP2RXW4T"), "{diff}");
}

#[test]
fn debug_print_fails_quality_then_the_rework_is_committed() {
    // Default config: a debug leftover in non-test code fails Quality (`max_debug = 0`).
    let printing = format!(
        "{CALC}\n\ndef mul(a, b):\n    result = a * b\n    print(\"mul:\", a, b, result)\n    return result\n"
    );
    let clean = format!("{CALC}\n\ndef mul(a, b):\n    result = a * b\n    return result\n");
    let test = format!("{TEST_CALC}\n\ndef test_mul():\n    assert mul(2, 3) == 6\n")
        .replace("import add, sub", "import add, mul, sub");
    let r = run(
        &[TaskSpec {
            id: "T001",
            title: "Add mul",
            files: "src/calc.py, tests/test_calc.py",
            acceptance: "grep -q 'def mul' src/calc.py",
            cycles: vec![
                vec![
                    ("src/calc.py", Some(&printing)),
                    ("tests/test_calc.py", Some(&test)),
                ],
                vec![("src/calc.py", Some(&clean))],
            ],
        }],
        "",
        &[],
    );
    assert_rejected_then_fixed(
        &r,
        "T001",
        "Add mul",
        "Quality",
        "fail",
        "code-review/debug",
        "src/calc.py",
        Some(11),
        &["src/calc.py", "tests/test_calc.py"],
    );
}

#[test]
fn debug_print_is_weak_quality_when_the_project_tolerates_some() {
    // Same change, `max_debug = 3`: Quality WEAK with the finding, approved (<= 2 WEAK).
    let printing = format!(
        "{CALC}\n\ndef mul(a, b):\n    result = a * b\n    print(\"mul:\", a, b, result)\n    return result\n"
    );
    let test = format!("{TEST_CALC}\n\ndef test_mul():\n    assert mul(2, 3) == 6\n")
        .replace("import add, sub", "import add, mul, sub");
    let r = run(
        &[TaskSpec {
            id: "T001",
            title: "Add mul",
            files: "src/calc.py, tests/test_calc.py",
            acceptance: "grep -q 'def mul' src/calc.py",
            cycles: vec![vec![
                ("src/calc.py", Some(&printing)),
                ("tests/test_calc.py", Some(&test)),
            ]],
        }],
        "\n[reviewers.code-review]\nmax_debug = 3\n",
        &[],
    );
    assert_eq!(r.out.code, 0, "{:?}", r.out);
    let cr = review(r.cycle("T001", 1), "code").unwrap();
    assert_eq!(cr["outcome"], "approved", "{cr:#}");
    assert_eq!(score(cr, "Quality"), "weak", "{}", scores(cr));
    let f = findings(cr, "code-review/debug");
    assert_eq!(f.len(), 1, "{cr:#}");
    assert_eq!(
        (f[0]["path"].as_str(), f[0]["line"].as_u64()),
        (Some("src/calc.py"), Some(11))
    );
    assert_eq!(r.log()[0], "T001: Add mul");
}

#[test]
fn source_without_tests_fails_test_coverage_then_the_rework_is_committed() {
    let mul = format!("{CALC}\n\ndef mul(a, b):\n    return a * b\n");
    let test = format!("{TEST_CALC}\n\ndef test_mul():\n    assert mul(2, 3) == 6\n")
        .replace("import add, sub", "import add, mul, sub");
    // The task declares the source only; the rework adds the test next to it (a test
    // outside the declared files is WEAK scope, which the task review tolerates).
    let r = run(
        &[TaskSpec {
            id: "T001",
            title: "Add mul",
            files: "src/calc.py",
            acceptance: "grep -q 'def mul' src/calc.py",
            cycles: vec![
                vec![("src/calc.py", Some(&mul))],
                vec![("tests/test_calc.py", Some(&test))],
            ],
        }],
        "",
        &[],
    );
    assert_rejected_then_fixed(
        &r,
        "T001",
        "Add mul",
        "Test coverage",
        "fail",
        "code-review/missing-tests",
        "src/calc.py",
        None,
        &["src/calc.py", "tests/test_calc.py"],
    );
    let tr2 = review(r.cycle("T001", 2), "task").unwrap();
    assert_eq!(score(tr2, "Scope compliance"), "weak", "{}", scores(tr2));
}

#[test]
fn deleted_test_fails_regression_risk_then_the_rework_is_committed() {
    // Cycle 1 "tidies" the tests and drops test_sub; cycle 2 puts it back.
    let tidied = "from src.calc import add, sub\n\n\ndef test_add():\n    assert add(1, 2) == 3\n    assert add(-1, 1) == 0\n";
    let restored = format!("{tidied}\n\ndef test_sub():\n    assert sub(3, 1) == 2\n");
    let r = run(
        &[TaskSpec {
            id: "T001",
            title: "Tidy the calc tests",
            files: "tests/test_calc.py",
            acceptance: "grep -q 'add(-1, 1)' tests/test_calc.py",
            cycles: vec![
                vec![("tests/test_calc.py", Some(tidied))],
                vec![("tests/test_calc.py", Some(&restored))],
            ],
        }],
        "",
        &[],
    );
    assert_rejected_then_fixed(
        &r,
        "T001",
        "Tidy the calc tests",
        "Regression risk",
        "fail",
        "code-review/removed-test",
        "tests/test_calc.py",
        // The hunk's first line in the new file (3 lines of context before the change).
        Some(3),
        &["tests/test_calc.py"],
    );
    // What landed keeps both tests.
    let committed = git(&r.ws, &["show", "HEAD:tests/test_calc.py"]);
    assert!(committed.contains("def test_sub") && committed.contains("add(-1, 1)"));
}

#[test]
fn deleted_test_file_fails_regression_risk() {
    // Deleting a whole test file: `code-review/deleted-test` on the file (no line).
    let r = run(
        &[TaskSpec {
            id: "T001",
            title: "Drop the calc tests",
            files: "tests/test_calc.py",
            acceptance: "grep -q add src/calc.py",
            cycles: vec![vec![("tests/test_calc.py", None)]],
        }],
        "max_cycles = 1\n",
        &[],
    );
    assert_eq!(r.out.code, 1, "{:?}", r.out);
    let cr = review(r.cycle("T001", 1), "code").expect("code review ran");
    assert_eq!(cr["outcome"], "changes_requested");
    assert_eq!(score(cr, "Regression risk"), "fail", "{}", scores(cr));
    let f = findings(cr, "code-review/deleted-test");
    assert_eq!(f.len(), 1, "{cr:#}");
    assert_eq!(f[0]["path"], "tests/test_calc.py");
    assert_eq!(r.task("T001")["status"], "blocked");
    assert!(!r.log().iter().any(|s| s.starts_with("T001:")));
}

// ---------------------------------------------------------------- order and feedback

#[test]
fn code_review_runs_only_after_the_task_review_approved() {
    let mul = format!("{CALC}\n\ndef mul(a, b):\n    return a * b\n");
    let test = format!("{TEST_CALC}\n\ndef test_mul():\n    assert mul(2, 3) == 6\n")
        .replace("import add, sub", "import add, mul, sub");
    let r = run(
        &[TaskSpec {
            id: "T001",
            title: "Add mul",
            files: "src/calc.py, tests/test_calc.py",
            acceptance: "grep -q 'def mul' src/calc.py",
            cycles: vec![
                // Also writes a helper module the task does not declare.
                vec![
                    ("src/calc.py", Some(&mul)),
                    ("tests/test_calc.py", Some(&test)),
                    ("src/helpers.py", Some("def double(x):\n    return 2 * x\n")),
                ],
                // The rework drops it again.
                vec![("src/helpers.py", None)],
            ],
        }],
        "",
        &[],
    );
    assert_eq!(r.out.code, 0, "{:?}", r.out);
    let c1 = r.cycle("T001", 1);
    let tr = review(c1, "task").expect("task review ran");
    assert_eq!(tr["outcome"], "changes_requested", "{tr:#}");
    assert_eq!(score(tr, "Scope compliance"), "fail", "{}", scores(tr));
    let f = findings(tr, "task-review/scope");
    assert_eq!(f.len(), 1, "{tr:#}");
    assert_eq!(f[0]["path"], "src/helpers.py", "{:#}", f[0]);
    assert!(
        review(c1, "code").is_none(),
        "no code review after a rejecting task review: {c1:#}"
    );
    assert_eq!(c1["reviews"].as_array().unwrap().len(), 1);
    let fb = &c1["feedback"];
    assert!(has_rule(fb, "task-review/verdict"), "{fb:#}");
    assert!(has_rule(fb, "task-review/scope"), "{fb:#}");
    assert!(
        !fb.as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"].as_str().unwrap().starts_with("code-review/")),
        "{fb:#}"
    );
    // Cycle 2: both reviews, task first, then code; committed without the helper.
    let c2 = r.cycle("T001", 2);
    let kinds: Vec<&str> = c2["reviews"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["task", "code"]);
    assert!(c2["reviews"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["outcome"] == "approved"));
    assert_eq!(
        r.commit_files("T001"),
        ["src/calc.py", "tests/test_calc.py"]
    );
    assert!(!r.ws.join("src/helpers.py").exists());
}

/// Cycle 1: the task review approves with a WEAK criterion and its minor finding
/// (a test outside the declared files), the code review rejects (an AWS key). The
/// implementer of cycle 2 must get the findings of both reviews.
#[test]
fn findings_of_both_reviews_reach_the_next_cycle() {
    let with_key = "REGION = \"eu-west-1\"\nAWS_ACCESS_KEY_ID = \"AKIAQ7ZK3LM5NP2RXW4T\"\n";
    let fixed = "REGION = \"eu-west-1\"\n";
    let test = "from src.settings import REGION\n\n\ndef test_region():\n    assert REGION == \"eu-west-1\"\n";
    let r = run(
        &[TaskSpec {
            id: "T001",
            title: "Add settings",
            files: "src/settings.py",
            acceptance: "grep -q REGION src/settings.py",
            cycles: vec![
                vec![
                    ("src/settings.py", Some(with_key)),
                    ("tests/test_settings.py", Some(test)),
                ],
                vec![("src/settings.py", Some(fixed))],
            ],
        }],
        "",
        &[],
    );
    let c1 = r.cycle("T001", 1);
    let tr = review(c1, "task").unwrap();
    assert_eq!(tr["outcome"], "approved", "{tr:#}");
    assert_eq!(score(tr, "Scope compliance"), "weak", "{}", scores(tr));
    assert_eq!(findings(tr, "task-review/scope").len(), 1, "{tr:#}");
    let cr = review(c1, "code").unwrap();
    assert_eq!(cr["outcome"], "changes_requested", "{cr:#}");
    let fb = &c1["feedback"];
    assert!(has_rule(fb, "code-review/secret"), "{fb:#}");
    assert!(
        has_rule(fb, "task-review/scope"),
        "the task review's finding reaches cycle 2's implementer: {fb:#}"
    );
    assert_eq!(r.out.code, 0, "{:?}", r.out);
}

/// The rejecting review's findings are the feedback of the cycle, which the engine
/// hands to the next cycle's implementer: after two rejected cycles both are there.
#[test]
fn feedback_of_every_rejected_cycle_is_recorded() {
    let mul = format!("{CALC}\n\ndef mul(a, b):\n    return a * b\n");
    let test = format!("{TEST_CALC}\n\ndef test_mul():\n    assert mul(2, 3) == 6\n")
        .replace("import add, sub", "import add, mul, sub");
    let r = run(
        &[TaskSpec {
            id: "T001",
            title: "Add mul",
            files: "src/calc.py, tests/test_calc.py",
            acceptance: "grep -q 'def mul' src/calc.py",
            cycles: vec![
                // 1: out of scope -> task review rejects.
                vec![
                    ("src/calc.py", Some(&mul)),
                    ("tests/test_calc.py", Some(&test)),
                    ("src/helpers.py", Some("def double(x):\n    return 2 * x\n")),
                ],
                // 2: scope fixed, but a key -> code review rejects.
                vec![
                    ("src/helpers.py", None),
                    (
                        "src/calc.py",
                        Some(&format!(
                            "{mul}\nAWS_ACCESS_KEY_ID = \"AKIAQ7ZK3LM5NP2RXW4T\"\n"
                        )),
                    ),
                ],
                // 3: clean.
                vec![("src/calc.py", Some(&mul))],
            ],
        }],
        "",
        &[],
    );
    assert_eq!(r.out.code, 0, "{:?}", r.out);
    let fb1 = &r.cycle("T001", 1)["feedback"];
    assert!(has_rule(fb1, "task-review/scope"), "{fb1:#}");
    let c2 = r.cycle("T001", 2);
    assert_eq!(review(c2, "task").unwrap()["outcome"], "approved");
    let fb2 = &c2["feedback"];
    assert!(has_rule(fb2, "code-review/secret"), "{fb2:#}");
    assert!(has_rule(fb2, "code-review/security"), "{fb2:#}");
    let c3 = r.cycle("T001", 3);
    assert_eq!(c3["outcome"], "passed");
    assert_eq!(r.log()[0], "T001: Add mul");
}

// ---------------------------------------------------------------- errored reviewers

/// `<tmp>/plugins/bad-reviewer/` with a 1 s CPU deadline.
fn bad_reviewer_plugins(parent: &Path) -> PathBuf {
    let plugins = parent.join("plugins");
    plugin_dir(
        &plugins,
        "bad-reviewer",
        "name = \"bad-reviewer\"\nkind = \"reviewer\"\nversion = \"0.0.1\"\ncomponent = \"bad-reviewer.wasm\"\n[requests]\ncommands = []\ntimeout = \"1s\"\nmemory = \"64MiB\"\n",
        &bad_reviewer_wasm(),
    );
    plugins
}

fn clean_task<'a>(mul: &'a str, test: &'a str) -> TaskSpec<'a> {
    TaskSpec {
        id: "T001",
        title: "Add mul",
        files: "src/calc.py, tests/test_calc.py",
        acceptance: "grep -q 'def mul' src/calc.py",
        cycles: vec![vec![
            ("src/calc.py", Some(mul)),
            ("tests/test_calc.py", Some(test)),
        ]],
    }
}

fn errored_reviewer_blocks(which: &str, mode: &str, error_has: &str) {
    let plugins_parent = tempfile::tempdir().unwrap();
    let plugins = bad_reviewer_plugins(plugins_parent.path());
    let mul = format!("{CALC}\n\ndef mul(a, b):\n    return a * b\n");
    let test = format!("{TEST_CALC}\n\ndef test_mul():\n    assert mul(2, 3) == 6\n")
        .replace("import add, sub", "import add, mul, sub");
    let t0 = std::time::Instant::now();
    let r = run(
        &[clean_task(&mul, &test)],
        &format!("{which} = \"bad-reviewer\"\n\n[reviewers.bad-reviewer]\nmode = \"{mode}\"\n"),
        &["--plugins", plugins.to_str().unwrap()],
    );
    assert!(
        t0.elapsed() < std::time::Duration::from_secs(60),
        "{:?}",
        t0.elapsed()
    );
    assert_eq!(r.out.code, 1, "{:?}", r.out);
    assert_eq!(r.record["status"], "blocked", "{:#}", r.record);
    let t = r.task("T001");
    assert_eq!(t["status"], "blocked", "{t:#}");
    let reason = t["blocked_reason"].as_str().unwrap();
    assert!(reason.contains("errored"), "{reason}");
    assert!(reason.contains("bad-reviewer"), "{reason}");
    assert!(reason.contains(error_has), "{reason}");
    // Blocked at once: one cycle, no rework.
    assert_eq!(t["cycles"].as_array().unwrap().len(), 1, "{t:#}");
    let c1 = r.cycle("T001", 1);
    assert_eq!(c1["outcome"], "blocked", "{c1:#}");
    let kind = if which == "task_review" {
        "task"
    } else {
        "code"
    };
    let rv = review(c1, kind).unwrap_or_else(|| panic!("{c1:#}"));
    assert_eq!(rv["plugin"], "bad-reviewer");
    assert_eq!(rv["outcome"], "errored", "{rv:#}");
    assert!(rv["review"].is_null(), "{rv:#}");
    assert!(rv["error"].as_str().unwrap().contains(error_has), "{rv:#}");
    if kind == "task" {
        assert!(review(c1, "code").is_none(), "{c1:#}");
    } else {
        assert_eq!(review(c1, "task").unwrap()["outcome"], "approved");
    }
    assert!(
        !r.log().iter().any(|s| s.starts_with("T001:")),
        "no task commit: {:?}",
        r.log()
    );
    assert!(r.out.all().contains("errored"), "{:?}", r.out);
}

#[test]
fn task_reviewer_that_times_out_blocks_the_task_as_errored() {
    errored_reviewer_blocks("task_review", "loop", "CPU deadline");
}

#[test]
fn task_reviewer_that_traps_blocks_the_task_as_errored() {
    errored_reviewer_blocks("task_review", "panic", "panicked on purpose");
}

#[test]
fn code_reviewer_that_traps_blocks_the_task_as_errored() {
    errored_reviewer_blocks("code_review", "panic", "panicked on purpose");
}

#[test]
fn code_reviewer_that_returns_an_error_blocks_the_task_as_errored() {
    errored_reviewer_blocks("code_review", "error", "refuses to judge");
}

// ---------------------------------------------------------------- agent-review

fn agent_review_run(reply: &str) -> Run {
    let agent = root().join("tests/fixtures/fake-agent/fake-agent.py");
    let mul = format!("{CALC}\n\ndef mul(a, b):\n    return a * b\n");
    let test = format!("{TEST_CALC}\n\ndef test_mul():\n    assert mul(2, 3) == 6\n")
        .replace("import add, sub", "import add, mul, sub");
    // The agent lives outside the workspace: the policy lets boxed programs read it.
    let config = format!(
        "[policy]\ngrant = [\"grep\", \"git\", \"python3\"]\nread = [{:?}]\n\n[run]\nimplementer = \"patch\"\ncode_review = \"agent-review\"\n",
        agent.parent().unwrap().to_str().unwrap()
    );
    // --expect: the prompt is the code reviewer's, about this task and its diff.
    let extra = format!(
        "\n[reviewers.agent-review]\ncommand = [\"python3\", {:?}, \"--expect\", \"T001\", \"--expect\", \"def mul\", {reply:?}, \"{{prompt_file}}\"]\ntimeout_ms = 60000\n",
        agent.to_str().unwrap()
    );
    run_with(&[clean_task(&mul, &test)], &config, &extra, &[])
}

#[test]
fn agent_code_review_pass_approves_and_commits() {
    let r = agent_review_run("code-pass.md");
    assert_eq!(r.out.code, 0, "{:?}", r.out);
    let c1 = r.cycle("T001", 1);
    assert_eq!(review(c1, "task").unwrap()["plugin"], "task-review");
    let cr = review(c1, "code").unwrap();
    assert_eq!(cr["plugin"], "agent-review");
    assert_eq!(cr["outcome"], "approved", "{cr:#}");
    assert_eq!(score(cr, "Pattern adherence"), "weak", "{}", scores(cr));
    assert_eq!(score(cr, "Security"), "pass");
    assert!(cr["review"]["summary"]
        .as_str()
        .unwrap()
        .starts_with("CODE_REVIEW_PASSED"));
    assert_eq!(r.log()[0], "T001: Add mul");
    assert_eq!(
        r.commit_files("T001"),
        ["src/calc.py", "tests/test_calc.py"]
    );
}

#[test]
fn agent_code_review_garbage_reply_is_an_errored_review_that_blocks() {
    let r = agent_review_run("garbage.md");
    assert_eq!(r.out.code, 1, "{:?}", r.out);
    let t = r.task("T001");
    assert_eq!(t["status"], "blocked");
    let reason = t["blocked_reason"].as_str().unwrap();
    assert!(
        reason.contains("agent-review") && reason.contains("errored"),
        "{reason}"
    );
    assert_eq!(t["cycles"].as_array().unwrap().len(), 1);
    let cr = review(r.cycle("T001", 1), "code").unwrap();
    assert_eq!(cr["outcome"], "errored", "{cr:#}");
    assert!(cr["review"].is_null());
    assert!(!r.log().iter().any(|s| s.starts_with("T001:")));
}
