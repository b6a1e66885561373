//! Living ExecPlans: ticking a Progress checkbox changes only that line's bytes.

mod common;
use common::*;
use time::macros::datetime;

fn copy_fixture(rel: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.md");
    std::fs::copy(fixture(rel), &path).unwrap();
    (dir, path)
}

/// Assert that `after` equals `before` except for line `line` (1-based), which must equal `want`.
fn only_line_changed(before: &[u8], after: &[u8], line: usize, want: &str) {
    let b: Vec<&[u8]> = before.split(|&c| c == b'\n').collect();
    let a: Vec<&[u8]> = after.split(|&c| c == b'\n').collect();
    assert_eq!(a.len(), b.len(), "line count changed");
    for (i, (x, y)) in b.iter().zip(a.iter()).enumerate() {
        if i + 1 == line {
            assert_eq!(std::str::from_utf8(y).unwrap(), want);
        } else {
            assert_eq!(x, y, "line {} changed", i + 1);
        }
    }
}

#[test]
fn tick_stamps_only_that_line() {
    let (_d, path) = copy_fixture("execplan/.agent/execplans/rate-limit.md");
    let before = std::fs::read(&path).unwrap();
    let plan = planexec_plan::load(&path, None).unwrap();
    let p4 = task(&plan, "P4");
    assert_eq!(p4.title, "Write integration tests.");
    planexec_plan::tick_progress(&path, p4, datetime!(2026-05-02 14:07:59 UTC)).unwrap();
    let after = std::fs::read(&path).unwrap();
    only_line_changed(
        &before,
        &after,
        p4.line as usize,
        "- [x] (2026-05-02 14:07Z) Write integration tests.",
    );
    // the plan reads back with the task done and stamped
    let again = planexec_plan::load(&path, None).unwrap();
    let p4 = task(&again, "P4");
    assert!(p4.done);
    assert_eq!(p4.stamp.as_deref(), Some("2026-05-02 14:07Z"));
    // ticking again is a no-op
    planexec_plan::tick_progress(&path, p4, datetime!(2026-06-01 00:00 UTC)).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), after);
}

#[test]
fn tick_replaces_an_existing_stamp_and_converts_to_utc() {
    let (_d, path) = copy_fixture("execplan/.agent/execplans/rate-limit.md");
    let before = std::fs::read(&path).unwrap();
    let plan = planexec_plan::load(&path, None).unwrap();
    let p3 = task(&plan, "P3");
    planexec_plan::tick_progress(&path, p3, datetime!(2026-05-02 16:30 +02:00)).unwrap();
    let after = std::fs::read(&path).unwrap();
    only_line_changed(
        &before,
        &after,
        p3.line as usize,
        "- [x] (2026-05-02 14:30Z) Add the 429 error body.",
    );
}

#[test]
fn tick_preserves_crlf() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crlf.md");
    let text = "# Plan\r\n\r\nStatus: IN PROGRESS\r\n\r\n## Purpose / Big Picture\r\n\r\nx\r\n\r\n## Progress\r\n\r\n- [x] (2026-01-01 10:00Z) one\r\n- [ ] two\r\n\r\n## Decision Log\r\n\r\nnone\r\n";
    std::fs::write(&path, text).unwrap();
    let plan = planexec_plan::load(&path, None).unwrap();
    assert_eq!(ids(&plan), ["P1", "P2"]);
    planexec_plan::tick_progress(&path, &plan.tasks[1], datetime!(2026-01-02 03:04 UTC)).unwrap();
    let after = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        after,
        text.replace("- [ ] two\r\n", "- [x] (2026-01-02 03:04Z) two\r\n")
    );
}

#[test]
fn tick_finds_a_moved_line_by_its_text_and_refuses_a_missing_one() {
    let (_d, path) = copy_fixture("execplan/.agent/execplans/rate-limit.md");
    let plan = planexec_plan::load(&path, None).unwrap();
    let p4 = task(&plan, "P4").clone();
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("<!-- moved -->\n{text}")).unwrap();
    planexec_plan::tick_progress(&path, &p4, datetime!(2026-05-02 14:07 UTC)).unwrap();
    assert!(std::fs::read_to_string(&path)
        .unwrap()
        .contains("- [x] (2026-05-02 14:07Z) Write integration tests.\n"));
    let mut gone = p4.clone();
    gone.title = "A step nobody wrote".into();
    gone.line = 999;
    let e =
        planexec_plan::tick_progress(&path, &gone, datetime!(2026-05-02 14:07 UTC)).unwrap_err();
    assert!(e.to_string().contains("cannot tick task P4"), "{e}");
    // no temporary files left behind
    let n = std::fs::read_dir(path.parent().unwrap()).unwrap().count();
    assert_eq!(n, 1);
}
