//! `planexec check` through the binary: exit codes, file:line diagnostics,
//! waves, JSON model, and clear errors for bad input.

use crate::support::*;

fn fixture(rel: &str) -> String {
    root()
        .join("crates/plan/tests/fixtures")
        .join(rel)
        .display()
        .to_string()
}

#[test]
fn a_cycle_is_an_error_with_file_line_and_the_cycle_spelled_out() {
    let tmp = tempfile::tempdir().unwrap();
    let out = planexec(tmp.path(), &["check", &fixture("lint/cycle.md")]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stdout
            .contains("cycle.md:11:1: error[dependency-cycle]"),
        "{out:?}"
    );
    assert!(out.stdout.contains("T002 -> T004 -> T002"), "{out:?}");
}

#[test]
fn a_clean_plan_exits_0_and_ends_with_waves_and_counts() {
    let out = planexec(
        &root(),
        &["check", "examples/demo/memory-bank/plan/2026-11-20_shop.md"],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .contains("wave 1: T001\n  wave 2: T002\n  wave 3: T003"),
        "{out:?}"
    );
    assert!(
        out.stdout.trim_end().ends_with("0 errors, 0 warnings"),
        "{out:?}"
    );
    let json = planexec(
        &root(),
        &[
            "check",
            "examples/demo/memory-bank/plan/2026-11-20_shop.md",
            "--format",
            "json",
        ],
    );
    assert_eq!(json.code, 0);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).expect("one JSON document");
    assert_eq!(v["plan"]["tasks"][1]["id"], "T002");
    assert_eq!(v["plan"]["tasks"][1]["dependencies"][0]["id"], "T001");
    assert_eq!(
        v["plan"]["tasks"][1]["acceptance_commands"][0],
        "python3 -m pytest -q tests/test_pricing.py"
    );
}

#[test]
fn bad_input_is_a_clear_error_and_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "empty.md", "");
    std::fs::write(tmp.path().join("binary.md"), b"\x00\x01\x02").unwrap();
    std::fs::write(tmp.path().join("latin1.md"), b"# Plan \xe9t\xe9\n").unwrap();
    std::fs::create_dir(tmp.path().join("noplan")).unwrap();
    for (file, says) in [
        ("empty.md", "empty"),
        ("binary.md", "binary"),
        ("latin1.md", "UTF-8"),
        ("noplan", "no plan"),
        ("missing.md", "cannot read"),
    ] {
        let out = planexec(tmp.path(), &["check", file]);
        assert_eq!(out.code, 2, "{file}: {out:?}");
        assert!(
            out.stderr.contains(file) && out.stderr.to_lowercase().contains(&says.to_lowercase()),
            "{file}: {out:?}"
        );
        assert!(!out.stderr.contains("panicked"), "{file}: {out:?}");
    }
    let out = planexec(tmp.path(), &["check", "empty.md", "--dialect", "klingon"]);
    assert_eq!(out.code, 2, "{out:?}");
}

/// Issue 14: each fixture of a kind of misreading exits as the error rule says (2 only for what
/// stops execution), and its diagnostics are worded for the dialect.
#[test]
fn real_plan_patterns_exit_by_the_error_rule() {
    let tmp = tempfile::tempdir().unwrap();
    for (rel, code, says) in [
        ("reading/wrapped-execplan.md", 0, "0 errors, 0 warnings"),
        ("reading/tracker-keys.md", 0, "wave 3: proj-yed"),
        ("reading/milestone-table.md", 0, "warning[file-name]"),
        (
            "reading/requirements-tasks.md",
            0,
            "mentions T009 in its text",
        ),
        ("reading/bundle", 0, "0 errors"),
        ("reading/fields.md", 0, "warning[template-placeholder]"),
        ("reading/sequential-wave.md", 0, "Completion Criteria"),
        ("reading/plain-progress.md", 2, "plain bullets"),
        ("reading/stages.md", 0, "wave 2: Stage-B"),
        ("reading/concrete-steps.md", 0, "wave 2: S2"),
    ] {
        let out = planexec(tmp.path(), &["check", &fixture(rel)]);
        assert_eq!(out.code, code, "{rel}: {out:?}");
        assert!(out.stdout.contains(says), "{rel}: {out:?}");
        assert!(!out.stdout.contains("Acceptance test") || !rel.contains("sequential"));
    }
}

#[test]
fn explain_shows_where_each_task_and_field_was_read() {
    let tmp = tempfile::tempdir().unwrap();
    let plan = fixture("wild/bold-ids.md");
    let out = planexec(tmp.path(), &["check", &plan, "--explain", "T002"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains("T002  Send email notifications"),
        "{out:?}"
    );
    assert!(out.stdout.contains("bold-ids.md:13"), "{out:?}");
    assert!(
        out.stdout.contains("| - Files: `src/notify/email.go`"),
        "{out:?}"
    );
    assert!(!out.stdout.contains("T003  "), "{out:?}");
    let all = planexec(tmp.path(), &["check", &plan, "--explain"]);
    assert_eq!(all.code, 0, "{all:?}");
    assert!(
        all.stdout.contains("T001  ") && all.stdout.contains("T003  "),
        "{all:?}"
    );
    let bad = planexec(tmp.path(), &["check", &plan, "--explain", "T9"]);
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(bad.stderr.contains("T001, T002, T003"), "{bad:?}");
}

#[test]
fn kiro_and_taskmaster_folders_are_plans() {
    let tmp = tempfile::tempdir().unwrap();
    let kiro = planexec(
        tmp.path(),
        &["check", &fixture("wild/kiro/.kiro/specs/user-export")],
    );
    assert_eq!(kiro.code, 0, "{kiro:?}");
    assert!(kiro.stdout.contains("(kiro, kiro-spec)"), "{kiro:?}");
    let tm = planexec(
        tmp.path(),
        &["check", &fixture("wild/taskmaster"), "--format", "json"],
    );
    assert_eq!(tm.code, 0, "{tm:?}");
    let v: serde_json::Value = serde_json::from_str(&tm.stdout).unwrap();
    assert_eq!(v["plan"]["dialect"], "taskmaster");
    assert_eq!(v["summary"]["tasks"], 5);
    let outline = planexec(tmp.path(), &["check", &fixture("wild/epics.md")]);
    assert_eq!(outline.code, 0, "{outline:?}");
    assert!(
        outline.stdout.contains("warning[generated-ids]"),
        "{outline:?}"
    );
}
