//! One test per `check` rule, each asserting the rule, the file:line it points at and the quote.

mod common;
use common::*;
use planexec_plan::{check, has_errors, Diagnostic, Severity};

fn find<'a>(d: &'a [Diagnostic], rule: &str) -> &'a Diagnostic {
    d.iter()
        .find(|x| x.rule == rule)
        .unwrap_or_else(|| panic!("no {rule} in {d:#?}"))
}

#[test]
fn dependency_cycle_is_spelled_out() {
    let p = load("lint/cycle.md");
    let d = check(&p);
    let c = find(&d, "dependency-cycle");
    assert_eq!(c.severity, Severity::Error);
    assert!(c.message.contains("T002 -> T004 -> T002"), "{}", c.message);
    assert!(
        c.to_string()
            .contains("lint/cycle.md:11:1: error[dependency-cycle]"),
        "{c}"
    );
    assert_eq!(c.quote, "**Dependencies**: T004");
    assert_eq!(
        planexec_plan::waves(&p).unwrap_err().cycle,
        ["T002", "T004", "T002"]
    );
    assert!(has_errors(&d));
    let h = planexec_plan::render_check_human(&p, &d);
    assert!(
        h.contains("execution waves: none (dependency cycle: T002 -> T004 -> T002)"),
        "{h}"
    );
}

#[test]
fn duplicate_unknown_self_missing_acceptance_and_tolerance() {
    let p = load("lint/problems.md");
    let d = check(&p);
    let dup = find(&d, "duplicate-id");
    assert!(
        dup.to_string().contains(
            "lint/problems.md:18:1: error[duplicate-id]: task id T001 is used twice (first at "
        ),
        "{dup}"
    );
    assert_eq!(dup.quote, "### T001: Duplicate id");
    let unk = find(&d, "unknown-dependency");
    assert_eq!((unk.line, unk.severity), (15, Severity::Error));
    assert!(unk.message.contains("T077"));
    assert_eq!(unk.quote, "**Dependencies**: T001, T077");
    let me = find(&d, "self-dependency");
    assert_eq!(me.line, 25);
    let acc = find(&d, "missing-acceptance");
    // a missing acceptance does not stop execution (issue 14): a warning
    assert_eq!((acc.line, acc.severity), (13, Severity::Warning));
    assert!(acc.message.contains("T002"));
    let tol = find(&d, "unreadable-tolerance");
    assert_eq!(
        (tol.line, tol.column, tol.severity),
        (5, 3, Severity::Warning)
    );
    assert!(
        tol.message.contains("more than <N> files"),
        "{}",
        tol.message
    );
    // a self-dependency is not also reported as a cycle
    assert!(!d.iter().any(|x| x.rule == "dependency-cycle"));
    assert_eq!(
        rules(&p),
        [
            "unreadable-tolerance@5",
            "missing-acceptance@13",
            "unknown-dependency@15",
            "duplicate-id@18",
            "self-dependency@25"
        ]
    );
}

#[test]
fn missing_files_is_a_warning() {
    let p = load("planpipe/raw-list.md");
    let d = check(&p);
    let f = find(&d, "missing-files");
    assert_eq!((f.line, f.severity), (3, Severity::Warning));
    assert!(!has_errors(&d), "warnings only: exit 0");
}

#[test]
fn waves_that_contradict_dependencies() {
    let p = load("lint/waves.md");
    let d = check(&p);
    let wv = find(&d, "wave-order");
    // planexec orders by the dependencies, so a contradicting wave number is a warning
    assert!(wv.to_string().contains("lint/waves.md:21:1: warning[wave-order]: task ST-2 is in wave 1 but depends (blocking) on ST-1 in wave 2; planexec runs ST-1 first"), "{wv}");
}

#[test]
fn dependency_stated_twice_must_agree() {
    let p = load("lint/disagree.md");
    let d = check(&p);
    let x = find(&d, "dependency-disagreement");
    assert_eq!((x.line, x.severity), (28, Severity::Warning));
    assert!(
        x.message
            .contains("ST-2 depends on ST-1 as blocking here but as soft at line 19"),
        "{}",
        x.message
    );
}

#[test]
fn no_tasks_and_not_an_execplan() {
    let p = load("bad/no-tasks-backlog.md");
    let d = check(&p);
    let x = find(&d, "no-tasks");
    assert_eq!(x.line, 1);
    assert!(has_errors(&d));
    let p = load("execplan/prose-record.md");
    assert_eq!(find(&check(&p), "not-an-execplan").line, 1);
}

#[test]
fn status_disagreement_and_unknown_milestone() {
    let p = load("execplan/complete-mismatch.md");
    let d = check(&p);
    let s = find(&d, "status-disagreement");
    assert_eq!((s.line, s.severity), (3, Severity::Warning));
    assert_eq!(find(&d, "unreadable-tolerance").line, 11);
    let p = planexec_plan::parse_str(
        "m.md",
        "# P\n\n## Milestones\n\n- M1: one\n\n### T001: a\n\n**Target milestone**: M7\n**Acceptance test**: `make`\n**Files**: a.py\n",
        None,
    )
    .unwrap();
    let d = check(&p);
    let m = find(&d, "unknown-milestone");
    assert_eq!((m.file.to_str(), m.line), (Some("m.md"), 9));
}

#[test]
fn every_rule_is_listed() {
    let tested = [
        "no-tasks",
        "duplicate-id",
        "unknown-dependency",
        "self-dependency",
        "dependency-cycle",
        "missing-acceptance",
        "missing-files",
        "wave-order",
        "template-placeholder",
        "file-name",
        "unreadable-tolerance",
        "order-overridden",
        "dependency-disagreement",
        "unknown-milestone",
        "status-disagreement",
        "progress-unlinked",
        "generated-ids",
        "unresolved-dependency",
        "not-taskmaster",
        "not-an-execplan",
    ];
    let listed: Vec<&str> = planexec_plan::RULES.iter().map(|r| r.0).collect();
    assert_eq!(listed, tested);
}
