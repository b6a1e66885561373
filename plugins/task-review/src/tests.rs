//! Native tests of the task review on realistic diffs (fixtures/*.diff).
//! Each test builds a request as the host would and checks criteria, findings and verdict.

use super::*;
use planexec_pdk::testing::FakeHost;
use planexec_pdk::{report, ChangeKind, ChangedFile, GateReport, ReviewKind, Task};
use serde_json::json;

const CLEAN: &str = include_str!("../fixtures/sso_clean.diff");
const CREEP: &str = include_str!("../fixtures/sso_scope_creep.diff");

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

fn task(files: &[&str]) -> Task {
    Task {
        id: "ST-2".into(),
        title: "Enforce SSO at login".into(),
        acceptance: s(&[
            "Login redirects to the IdP when the tenant enforces SSO",
            "go test ./... passes",
        ]),
        acceptance_commands: s(&["go test ./..."]),
        files: s(files),
        out_of_scope: s(&["Tenant admin UI", "`internal/user/`"]),
        ..Default::default()
    }
}

fn passed(name: &str) -> (String, GateReport) {
    (name.into(), report(Outcome::Passed, "ok"))
}

fn req(diff: &str, files: &[&str], gates: Vec<(String, GateReport)>) -> ReviewRequest {
    ReviewRequest {
        kind: ReviewKind::Task,
        config: json!({}),
        mounts: Default::default(),
        task: task(files),
        constraints: Vec::new(),
        other_tasks_files: Vec::new(),
        diff: diff.into(),
        changed_files: Vec::new(),
        gate_reports: gates,
        implementer_findings: vec![],
    }
}

fn run(r: ReviewRequest) -> Review {
    TaskReview::review(r, &FakeHost::new()).unwrap()
}

fn score(r: &Review, name: &str) -> Score {
    r.criteria.iter().find(|c| c.name == name).unwrap().score
}

#[test]
fn clean_change_in_scope_with_passing_gates_is_approved() {
    let r = run(req(
        CLEAN,
        &["internal/auth/"],
        vec![passed("acceptance:ST-2"), passed("go-test")],
    ));
    assert!(r.approved, "{r:#?}");
    assert!(r.criteria.iter().all(|c| c.score == Score::Pass), "{r:#?}");
    assert_eq!(r.criteria.len(), 5);
    assert!(
        r.summary.starts_with("TASK_REVIEW_PASSED: ST-2"),
        "{}",
        r.summary
    );
    assert!(r.findings.is_empty());
}

#[test]
fn file_outside_declared_files_fails_scope_with_a_finding() {
    let r = run(req(
        CREEP,
        &["internal/auth/handler.go"],
        vec![passed("go-test")],
    ));
    assert!(!r.approved);
    assert_eq!(score(&r, SCOPE), Score::Fail);
    let f: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.rule == "task-review/scope")
        .collect();
    let paths: Vec<_> = f.iter().map(|f| f.path.as_deref().unwrap()).collect();
    assert_eq!(
        paths,
        [
            "internal/tenant/repository.go",
            "migrations/002_sso.up.sql",
            "go.mod"
        ]
    );
    assert!(r.summary.starts_with("TASK_REVIEW_CHANGES_REQUESTED"));
}

#[test]
fn module_and_glob_declarations_match() {
    let r = run(req(
        CREEP,
        &["auth", "tenant", "migrations/*.sql", "go.mod"],
        vec![passed("go-test")],
    ));
    assert_eq!(score(&r, SCOPE), Score::Pass, "{r:#?}");
    assert_eq!(score(&r, REQUIRED), Score::Pass);
}

#[test]
fn test_outside_scope_is_weak_by_default_and_fail_when_configured() {
    let r = run(req(
        CLEAN,
        &["internal/auth/handler.go"],
        vec![passed("go-test")],
    ));
    assert_eq!(score(&r, SCOPE), Score::Weak);
    assert!(r.approved, "one WEAK is approved");
    let mut q = req(
        CLEAN,
        &["internal/auth/handler.go"],
        vec![passed("go-test")],
    );
    q.config = json!({"tests_outside_scope": "fail"});
    assert_eq!(score(&run(q), SCOPE), Score::Fail);
}

#[test]
fn one_weak_is_approved_two_weak_are_not() {
    // No gate reports: completion WEAK only.
    let r = run(req(CLEAN, &["internal/auth/"], vec![]));
    assert_eq!(score(&r, COMPLETION), Score::Weak);
    assert!(r.approved);
    // No gates and no declared files: two WEAK.
    let r = run(req(CLEAN, &[], vec![]));
    assert_eq!(score(&r, SCOPE), Score::Weak);
    assert_eq!(reviewkit::count(&r.criteria, Score::Weak), 2);
    assert!(!r.approved);
    assert!(r.summary.starts_with(CHANGES_REQUESTED));
    // max_weak raises the bar.
    let mut q = req(CLEAN, &[], vec![]);
    q.config = json!({"max_weak": 2});
    assert!(run(q).approved);
}

#[test]
fn failed_or_errored_gate_fails_completion() {
    let mut bad = report(Outcome::Failed, "2 tests failed");
    bad.exit_code = Some(1);
    let r = run(req(
        CLEAN,
        &["internal/auth/"],
        vec![passed("lint"), ("go-test".into(), bad)],
    ));
    assert_eq!(score(&r, COMPLETION), Score::Fail);
    assert!(r
        .findings
        .iter()
        .any(|f| f.rule == "task-review/completion" && f.message.contains("go-test")));
    let r = run(req(
        CLEAN,
        &["internal/auth/"],
        vec![("go-test".into(), report(Outcome::Errored, "go not found"))],
    ));
    assert_eq!(score(&r, COMPLETION), Score::Fail);
}

#[test]
fn untouched_declared_file_and_no_changes_fail_required() {
    let r = run(req(
        CLEAN,
        &["internal/auth/handler.go", "internal/auth/service.go"],
        vec![passed("t")],
    ));
    assert_eq!(score(&r, REQUIRED), Score::Fail);
    let f = r
        .findings
        .iter()
        .find(|f| f.rule == "task-review/required")
        .unwrap();
    assert_eq!(f.path.as_deref(), Some("internal/auth/service.go"));
    let mut q = req(
        CLEAN,
        &["internal/auth/handler.go", "internal/auth/service.go"],
        vec![passed("t")],
    );
    q.config = json!({"missing_required": "weak"});
    assert_eq!(score(&run(q), REQUIRED), Score::Weak);
    let r = run(req("", &["internal/auth/handler.go"], vec![passed("t")]));
    assert_eq!(score(&r, REQUIRED), Score::Fail);
    assert!(!r.approved);
}

#[test]
fn changed_files_list_counts_even_without_diff_text() {
    let mut q = req("", &["assets/"], vec![passed("t")]);
    q.changed_files = vec![ChangedFile {
        path: "assets/logo.png".into(),
        change: ChangeKind::Added,
        binary: true,
        size: 10,
        added_lines: 0,
        removed_lines: 0,
    }];
    let r = run(q);
    assert_eq!(score(&r, REQUIRED), Score::Pass);
    assert!(r.approved, "{r:#?}");
}

#[test]
fn plan_constraints_are_checked() {
    let mut q = req(
        CREEP,
        &["internal/", "migrations/", "go.mod"],
        vec![passed("t")],
    );
    q.constraints = s(&[
        "Do not modify `migrations/`; schema changes go in ST-1.",
        "No new dependencies.",
        "Keep handlers thin.",
    ]);
    let r = run(q);
    assert_eq!(score(&r, DESIGN), Score::Fail);
    let d: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.rule == "task-review/design")
        .collect();
    assert!(d
        .iter()
        .any(|f| f.path.as_deref() == Some("migrations/002_sso.up.sql")));
    let dep = d.iter().find(|f| f.message.contains("go-oidc")).unwrap();
    assert_eq!((dep.path.as_deref(), dep.line), (Some("go.mod"), Some(5)));

    let mut q = req(CLEAN, &["internal/auth/"], vec![passed("t")]);
    q.constraints = s(&["Do not use `panic` in handlers.", "No new dependencies."]);
    let r = run(q);
    assert_eq!(score(&r, DESIGN), Score::Pass, "{r:#?}");
    let mut q = req(CLEAN, &["internal/auth/"], vec![passed("t")]);
    q.constraints = s(&["Never use `http.Redirect` directly."]);
    let r = run(q);
    assert_eq!(score(&r, DESIGN), Score::Fail);
    let f = r
        .findings
        .iter()
        .find(|f| f.rule == "task-review/design")
        .unwrap();
    assert_eq!(
        (f.path.as_deref(), f.line),
        (Some("internal/auth/handler.go"), Some(51))
    );
}

#[test]
fn boundary_out_of_scope_and_other_tasks() {
    let mut q = req(
        CREEP,
        &["internal/", "migrations/", "go.mod"],
        vec![passed("t")],
    );
    q.task.out_of_scope = s(&["Changes under `internal/tenant/`"]);
    let r = run(q);
    assert_eq!(score(&r, BOUNDARY), Score::Fail);
    assert!(r.findings.iter().any(|f| f.rule == "task-review/boundary"
        && f.path.as_deref() == Some("internal/tenant/repository.go")));

    let mut q = req(CREEP, &["internal/auth/", "go.mod"], vec![passed("t")]);
    q.other_tasks_files = s(&["migrations/002_sso.up.sql", "internal/user/service.go"]);
    let r = run(q);
    assert_eq!(score(&r, BOUNDARY), Score::Fail);
    let b: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.rule == "task-review/boundary")
        .map(|f| f.path.clone().unwrap())
        .collect();
    assert_eq!(b, ["migrations/002_sso.up.sql"]);
    // A file shared with another task but declared by this one is fine.
    let mut q = req(CLEAN, &["internal/auth/"], vec![passed("t")]);
    q.other_tasks_files = s(&["internal/auth/handler.go"]);
    assert_eq!(score(&run(q), BOUNDARY), Score::Pass);
}

#[test]
fn config_errors_and_ignore() {
    let mut q = req(CLEAN, &["internal/auth/"], vec![]);
    q.config = json!({"bogus": true});
    assert!(TaskReview::review(q, &FakeHost::new()).is_err());
    let mut q = req(CREEP, &["internal/auth/"], vec![passed("t")]);
    q.config = json!({"ignore": ["internal/tenant/", "migrations/**", "go.mod"]});
    assert_eq!(score(&run(q), SCOPE), Score::Pass);
    let r = run(req(CLEAN, &["internal/auth/"], vec![passed("t")]));
    assert!(r.summary.contains("5 criteria: 5 PASS"), "{}", r.summary);
}

#[test]
fn names_git_quotes_or_spaces_are_in_scope_when_declared_exactly() {
    let diff = "diff --git \"a/na\\303\\257ve.txt\" \"b/na\\303\\257ve.txt\"\nnew file mode 100644\n--- /dev/null\n+++ \"b/na\\303\\257ve.txt\"\n@@ -0,0 +1 @@\n+ok\ndiff --git a/my notes.txt b/my notes.txt\nnew file mode 100644\n--- /dev/null\n+++ b/my notes.txt\n@@ -0,0 +1 @@\n+ok\n";
    let r = run(req(
        diff,
        &["naïve.txt", "my notes.txt"],
        vec![passed("acceptance:ST-2")],
    ));
    assert_eq!(score(&r, SCOPE), Score::Pass, "{r:#?}");
    assert_eq!(score(&r, REQUIRED), Score::Pass, "{r:#?}");
}
