//! The kinds of plan round 2 of the public corpus misread (issue 24): one fixture of our own
//! writing per kind, each read the way a careful person reads it.

mod common;
use common::*;
use planexec_plan::{check, Severity};

fn errors(p: &planexec_plan::Plan) -> Vec<String> {
    check(p)
        .into_iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| format!("{}@{}: {}", d.rule, d.line, d.message))
        .collect()
}

fn done_ids(p: &planexec_plan::Plan) -> Vec<&str> {
    p.tasks.iter().filter(|t| t.done).map(|t| t.id.as_str()).collect()
}

#[test]
fn a_legacy_taskmaster_file_that_is_a_bare_list_is_read() {
    let p = load("kinds/legacy-list/tasks/tasks.json");
    assert_eq!(p.dialect.name(), "taskmaster");
    assert_eq!(ids(&p), ["1", "2", "2.1", "2.2", "3"]);
    assert_eq!(done_ids(&p), ["2.1", "3"]);
    assert_eq!(dep_ids(task(&p, "3")), ["1", "2.2"]);
    assert_eq!(dep_ids(task(&p, "2.2")), ["2.1"]);
    assert_eq!(task(&p, "1").acceptance.len(), 1);
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
}

#[test]
fn a_json_file_that_is_not_taskmaster_is_a_clear_error() {
    for text in [
        r#"{"name": "app", "version": "1.0.0", "scripts": {"test": "jest"}}"#,
        r#"[1, 2, 3]"#,
        r#"{"tasks": [{"label": "build", "command": "make"}]}"#,
    ] {
        let p = planexec_plan::parse_str("tasks.json", text, None).unwrap();
        assert!(p.tasks.is_empty(), "{text}: {:?}", ids(&p));
        let e = errors(&p);
        assert!(
            e.iter().any(|m| m.starts_with("not-taskmaster") && m.contains("looked for")),
            "{text}: {e:?}"
        );
    }
}
