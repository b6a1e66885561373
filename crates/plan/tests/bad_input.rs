//! Input that is not a plan: each a clear error (exit 2 in the CLI), never a panic.

mod common;
use common::*;
use planexec_plan::PlanError;

fn err(rel: &str) -> PlanError {
    planexec_plan::load(&fixture(rel), None).expect_err(rel)
}

#[test]
fn empty_file() {
    let e = err("bad/empty.md");
    assert!(matches!(e, PlanError::Empty { .. }));
    assert!(
        e.to_string()
            .ends_with("bad/empty.md: the plan file is empty; write at least a title and one task"),
        "{e}"
    );
}

#[test]
fn binary_file() {
    let e = err("bad/binary.md");
    assert!(matches!(e, PlanError::Binary { offset: 7, .. }), "{e}");
}

#[test]
fn invalid_utf8_points_at_the_byte() {
    let e = err("bad/latin1.md");
    assert!(
        e.to_string()
            .contains("bad/latin1.md:3:14: the plan is not valid UTF-8"),
        "{e}"
    );
}

#[test]
fn front_matter_that_is_not_yaml() {
    let e = err("bad/front-matter.md");
    assert!(matches!(e, PlanError::FrontMatter { .. }), "{e}");
    assert!(e.to_string().contains("bad/front-matter.md:3:"), "{e}");
    assert!(
        e.to_string().contains("the front matter is not valid YAML"),
        "{e}"
    );
    // a scalar is YAML but not front matter
    let e = planexec_plan::parse_str("s.md", "---\njust a string\n---\n# T\n", None).unwrap_err();
    assert!(e.to_string().contains("expected a mapping"), "{e}");
    let e = planexec_plan::parse_str("u.md", "---\ntitle: x\n# T\n", None).unwrap_err();
    assert!(
        matches!(e, PlanError::UnclosedFrontMatter { line: 1, .. }),
        "{e}"
    );
}

#[test]
fn folder_with_no_plan() {
    let e = err("bad/no-plan");
    assert!(matches!(e, PlanError::NoPlanInFolder { .. }));
    assert!(
        e.to_string().contains("no plan found in this folder"),
        "{e}"
    );
}

#[test]
fn missing_path() {
    let e = err("bad/does-not-exist.md");
    assert!(matches!(e, PlanError::Io { .. }));
}

#[test]
fn twenty_megabyte_plan_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.md");
    let task = "### T001: x\n\n**Acceptance test**: `make`\n\n";
    let mut s = String::with_capacity(21 << 20);
    while s.len() < 20 << 20 {
        s.push_str(task);
    }
    std::fs::write(&path, s).unwrap();
    let e = planexec_plan::load(&path, None).unwrap_err();
    assert!(matches!(e, PlanError::TooLarge { .. }), "{e}");
    assert!(e.to_string().contains("over the 8388608-byte limit"), "{e}");
}

#[test]
fn zero_tasks_is_a_message_not_a_crash() {
    let p = load("bad/no-tasks-backlog.md");
    assert!(p.tasks.is_empty());
    assert!(planexec_plan::waves(&p).unwrap().is_empty());
}

#[test]
fn odd_markdown_does_not_panic() {
    for text in [
        "#",
        "- [ ]",
        "### T001:",
        "### Task",
        "**Dependencies**:",
        "| a |\n|---|\n| T001 |",
        "```\n### T001: x",
        "\u{feff}# T\n### T001 — x\n",
        "### T1-T9999999999: range",
        "**Dependencies**: T1–T999999",
        "### T001: a\n**Dependencies**: T001–T002\n### T002: b\n**Dependencies**: T001\n",
        "## Progress\n- [x] (2026-01-01",
        "Status:\n## Progress\n- [ ] é",
        "### ST-1: x\n| Dependency | Type |\n|--|--|\n| ST-9 | soft |",
    ] {
        for d in planexec_plan::Dialect::ALL {
            if let Ok(p) = planexec_plan::parse_str("odd.md", text, Some(d)) {
                let diags = planexec_plan::check(&p);
                let _ = planexec_plan::render_check_json(&p, &diags);
                let _ = planexec_plan::render_check_human(&p, &diags);
            }
        }
    }
}
