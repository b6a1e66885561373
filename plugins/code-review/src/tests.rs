//! Native tests of the code review on realistic unified diffs (fixtures/*.diff).
//! Each checks the criterion scores, the findings' rule/file/line, and the verdict.

use super::*;
use planexec_pdk::testing::FakeHost;
use planexec_pdk::{report, ChangedFile, GateReport, ReviewKind, Task};
use serde_json::{json, Value};

fn req(diff: &str, config: Value) -> ReviewRequest {
    ReviewRequest {
        kind: ReviewKind::Code,
        config,
        mounts: planexec_pdk::Mounts {
            workspace: "/nonexistent-workspace".into(),
            scratch: "/nonexistent-scratch".into(),
        },
        task: Task {
            id: "ST-3".into(),
            title: "t".into(),
            ..Default::default()
        },
        constraints: Vec::new(),
        other_tasks_files: Vec::new(),
        diff: diff.into(),
        changed_files: Vec::new(),
        gate_reports: Vec::new(),
        implementer_findings: Vec::new(),
    }
}

fn run(diff: &str) -> Review {
    run_with(diff, json!({}))
}

fn run_with(diff: &str, config: Value) -> Review {
    CodeReview::review(req(diff, config), &FakeHost::new()).unwrap()
}

fn score(r: &Review, name: &str) -> Score {
    r.criteria
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no {name}"))
        .score
}

fn at<'a>(r: &'a Review, rule: &str) -> Vec<(&'a str, Option<u32>)> {
    r.findings
        .iter()
        .filter(|f| f.rule == rule)
        .map(|f| (f.path.as_deref().unwrap_or(""), f.line))
        .collect()
}

#[test]
fn aws_key_is_a_security_fail_with_file_and_line() {
    let r = run(include_str!("../fixtures/aws_key.diff"));
    assert_eq!(score(&r, SECURITY), Score::Fail);
    assert_eq!(
        at(&r, "code-review/secret"),
        [("app/settings.py", Some(12)), ("app/settings.py", Some(13))]
    );
    let f = &r.findings[0];
    assert_eq!(f.severity, Severity::Critical);
    assert!(f.message.contains("AWS access key id"), "{}", f.message);
    assert!(
        !f.message.contains("AKIAZ3MQ7RBTXW5LPN2K"),
        "the secret itself is masked"
    );
    assert_eq!(f.column, Some(22));
    assert!(!r.approved);
    assert!(
        r.summary.starts_with("CODE_REVIEW_CHANGES_REQUESTED: ST-3"),
        "{}",
        r.summary
    );
    assert_eq!(score(&r, TESTS), Score::Pass);
}

#[test]
fn private_keys_and_tokens_in_config_files() {
    let r = run(include_str!("../fixtures/private_key.diff"));
    assert_eq!(score(&r, SECURITY), Score::Fail);
    assert_eq!(
        at(&r, "code-review/private-key"),
        [("deploy/id_rsa", Some(1))]
    );
    assert_eq!(
        at(&r, "code-review/secret"),
        [
            ("deploy/.env", Some(1)),
            ("deploy/.env", Some(2)),
            ("deploy/.env", Some(3))
        ]
    );
    // The allowlist silences a line; disabling the check silences all.
    let r = run_with(
        include_str!("../fixtures/private_key.diff"),
        json!({"secrets": false}),
    );
    assert_eq!(score(&r, SECURITY), Score::Pass);
    let r = run_with(
        include_str!("../fixtures/aws_key.diff"),
        json!({"secret_allowlist": ["AKIAZ3MQ7RBTXW5LPN2K", "wJalr"]}),
    );
    assert_eq!(score(&r, SECURITY), Score::Pass);
}

#[test]
fn debug_print_is_a_quality_finding_with_its_line() {
    let r = run(include_str!("../fixtures/debug_print.diff"));
    assert_eq!(
        at(&r, "code-review/debug"),
        [("app/billing.py", Some(22))],
        "comments and tests are not flagged"
    );
    // By default (max_debug = 0) any leftover in non-test code fails quality.
    assert_eq!(score(&r, QUALITY), Score::Fail);
    assert_eq!(score(&r, TESTS), Score::Pass);
    assert!(!r.approved, "{r:#?}");
    // A project that tolerates a few: WEAK, approved.
    let r = run_with(
        include_str!("../fixtures/debug_print.diff"),
        json!({"max_debug": 3}),
    );
    assert_eq!(score(&r, QUALITY), Score::Weak);
    assert!(r.approved, "{r:#?}");
    let r = run_with(
        include_str!("../fixtures/debug_print.diff"),
        json!({"debug_leftovers": false}),
    );
    assert_eq!(score(&r, QUALITY), Score::Pass);
}

#[test]
fn code_without_tests_fails_test_coverage() {
    let r = run(include_str!("../fixtures/no_tests.diff"));
    assert_eq!(score(&r, TESTS), Score::Fail);
    assert_eq!(
        at(&r, "code-review/missing-tests"),
        [("internal/user/service.go", None)]
    );
    assert_eq!(
        score(&r, QUALITY),
        Score::Pass,
        "a TODO in markdown is not code"
    );
    assert!(!r.approved);
    let r = run_with(
        include_str!("../fixtures/no_tests.diff"),
        json!({"missing_tests": "weak"}),
    );
    assert_eq!(score(&r, TESTS), Score::Weak);
    assert!(r.approved);
    let r = run_with(
        include_str!("../fixtures/no_tests.diff"),
        json!({"test_patterns": ["internal/user/**"]}),
    );
    assert_eq!(
        score(&r, TESTS),
        Score::Pass,
        "configured test paths are tests"
    );
}

#[test]
fn deleted_and_skipped_tests_fail_regression() {
    let r = run(include_str!("../fixtures/deleted_test.diff"));
    assert_eq!(score(&r, REGRESSION), Score::Fail);
    assert_eq!(
        at(&r, "code-review/deleted-test"),
        [("internal/tenant/repository_test.go", None)]
    );
    assert_eq!(
        at(&r, "code-review/skipped-test"),
        [("internal/tenant/model_test.go", Some(6))]
    );
    assert!(!r.approved);
    let r = run_with(
        include_str!("../fixtures/deleted_test.diff"),
        json!({"removed_tests": false, "skipped_tests": false}),
    );
    assert_eq!(score(&r, REGRESSION), Score::Pass);
}

#[test]
fn clean_change_with_tests_is_approved() {
    let r = run(include_str!("../fixtures/clean.diff"));
    assert!(r.criteria.iter().all(|c| c.score == Score::Pass), "{r:#?}");
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
    assert!(r.approved);
    assert_eq!(r.criteria.len(), 6);
    assert!(
        r.summary
            .starts_with("CODE_REVIEW_PASSED: ST-3 — 6 criteria: 6 PASS"),
        "{}",
        r.summary
    );
}

#[test]
fn two_weak_are_approved_three_are_not() {
    let diff = include_str!("../fixtures/weak_mix.diff");
    // TODO (quality) + binary file (patterns) + verify=False (security).
    let r = run(diff);
    assert_eq!(
        (score(&r, QUALITY), score(&r, PATTERNS), score(&r, SECURITY)),
        (Score::Weak, Score::Weak, Score::Weak)
    );
    assert_eq!(reviewkit::count(&r.criteria, Score::Weak), 3);
    assert!(!r.approved);
    assert_eq!(at(&r, "code-review/todo"), [("app/report.py", Some(5))]);
    assert_eq!(at(&r, "code-review/insecure"), [("app/report.py", Some(9))]);
    assert_eq!(at(&r, "code-review/binary-file"), [("docs/logo.png", None)]);
    let r = run_with(diff, json!({"insecure_patterns": false}));
    assert_eq!(reviewkit::count(&r.criteria, Score::Weak), 2);
    assert!(r.approved, "{}", r.summary);
    assert!(r.summary.starts_with(PASSED));
    let r = run_with(diff, json!({"max_weak": 3}));
    assert!(r.approved);
}

#[test]
fn rust_dbg_println_and_ignore_with_test_region_from_hunk_context() {
    let r = run(include_str!("../fixtures/rust_inline.diff"));
    assert_eq!(
        at(&r, "code-review/debug"),
        [
            ("src/plan/parse.rs", Some(41)),
            ("src/plan/parse.rs", Some(42))
        ]
    );
    assert_eq!(
        at(&r, "code-review/skipped-test"),
        [("src/plan/parse.rs", Some(127))]
    );
    assert_eq!(
        score(&r, TESTS),
        Score::Pass,
        "a new #[test] in the file counts as a test change"
    );
    assert_eq!(score(&r, REGRESSION), Score::Fail);
}

#[test]
fn rust_test_region_from_the_workspace_file() {
    let dir = std::env::temp_dir().join(format!("code-review-ws-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("src/plan")).unwrap();
    let mut content = String::new();
    for i in 1..=130 {
        content.push_str(if i == 100 { "#[cfg(test)]\n" } else { "//\n" });
    }
    std::fs::write(dir.join("src/plan/parse.rs"), content).unwrap();
    let mut q = req(include_str!("../fixtures/rust_inline.diff"), json!({}));
    q.mounts.workspace = dir.to_string_lossy().into_owned();
    let r = CodeReview::review(q, &FakeHost::new()).unwrap();
    // The println! in the test module (line 129) is not a leftover either way.
    assert_eq!(at(&r, "code-review/debug").len(), 2);
    assert_eq!(
        at(&r, "code-review/skipped-test"),
        [("src/plan/parse.rs", Some(127))]
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn js_console_debugger_fixme_mixed_endings_and_removed_test() {
    let r = run(include_str!("../fixtures/js_mixed.diff"));
    assert_eq!(
        at(&r, "code-review/debug"),
        [("web/src/api.ts", Some(3)), ("web/src/api.ts", Some(4))]
    );
    assert_eq!(at(&r, "code-review/todo"), [("web/src/api.ts", Some(5))]);
    assert_eq!(
        at(&r, "code-review/line-endings"),
        [("web/src/api.ts", Some(3))]
    );
    assert_eq!(score(&r, PATTERNS), Score::Weak);
    assert_eq!(
        at(&r, "code-review/removed-test"),
        [("web/src/api.test.ts", Some(1))]
    );
    assert_eq!(score(&r, REGRESSION), Score::Fail);
    assert!(
        at(&r, "code-review/skipped-test").is_empty(),
        "a context line is not a new skip"
    );
}

#[test]
fn conflict_markers_fail_correctness() {
    let r = run(include_str!("../fixtures/conflict.diff"));
    assert_eq!(score(&r, CORRECTNESS), Score::Fail);
    let lines: Vec<_> = at(&r, "code-review/conflict-marker")
        .into_iter()
        .map(|(_, l)| l.unwrap())
        .collect();
    assert_eq!(lines, [6, 8, 12]);
    assert_eq!(
        at(&r, "code-review/debug"),
        [("pkg/config/load.go", Some(10))]
    );
    assert_eq!(
        r.findings[0].severity,
        Severity::Critical,
        "critical findings come first"
    );
}

#[test]
fn large_and_binary_files_from_changed_files() {
    let mut q = req("", json!({}));
    q.changed_files = vec![
        ChangedFile {
            path: "data/dump.sql".into(),
            change: ChangeKind::Added,
            binary: false,
            size: 5 << 20,
            added_lines: 1,
            removed_lines: 0,
        },
        ChangedFile {
            path: "img/a.png".into(),
            change: ChangeKind::Added,
            binary: true,
            size: 100,
            added_lines: 0,
            removed_lines: 0,
        },
    ];
    let r = CodeReview::review(q.clone(), &FakeHost::new()).unwrap();
    assert_eq!(at(&r, "code-review/large-file"), [("data/dump.sql", None)]);
    assert_eq!(at(&r, "code-review/binary-file"), [("img/a.png", None)]);
    assert_eq!(score(&r, PATTERNS), Score::Weak);
    q.config = json!({"max_file_size": 10485760, "binary_files": false});
    let r = CodeReview::review(q, &FakeHost::new()).unwrap();
    assert_eq!(score(&r, PATTERNS), Score::Pass);
}

#[test]
fn failed_gates_fail_correctness_and_config_is_strict() {
    let mut q = req(include_str!("../fixtures/clean.diff"), json!({}));
    q.gate_reports = vec![
        ("cargo-test".into(), report(Outcome::Failed, "1 failed")),
        (
            "lint".into(),
            GateReport {
                ..report(Outcome::Passed, "ok")
            },
        ),
    ];
    let r = CodeReview::review(q, &FakeHost::new()).unwrap();
    assert_eq!(score(&r, CORRECTNESS), Score::Fail);
    assert!(CodeReview::review(req("", json!({"nope": 1})), &FakeHost::new()).is_err());
    assert!(CodeReview::review(req("", json!({"secret_entropy": 9.5})), &FakeHost::new()).is_err());
    let r = CodeReview::review(req("", Value::Null), &FakeHost::new()).unwrap();
    assert!(r.approved, "an empty change with no config passes");
}
