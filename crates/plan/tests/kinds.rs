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
    p.tasks
        .iter()
        .filter(|t| t.done)
        .map(|t| t.id.as_str())
        .collect()
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
            e.iter()
                .any(|m| m.starts_with("not-taskmaster") && m.contains("looked for")),
            "{text}: {e:?}"
        );
    }
}

#[test]
fn id_checklists_grouped_under_numbered_step_headings_are_spec_kit_tasks() {
    let p = load("kinds/steps-speckit/tasks.md");
    assert_eq!(p.dialect.name(), "spec-kit");
    assert_eq!(
        ids(&p),
        ["T001", "T002", "T003", "T004", "T005", "T006", "T007"]
    );
    assert_eq!(done_ids(&p), ["T003"]);
    assert_eq!(p.tasks.iter().filter(|t| t.parallel).count(), 2);
}

#[test]
fn prose_dependency_forms_are_edges_and_group_orders_yield_to_stated_edges() {
    let p = load("kinds/steps-speckit/tasks.md");
    let has = |t: &str, d: &str| dep_ids(task(&p, t)).contains(&d);
    assert!(
        has("T004", "T001") && has("T004", "T002"),
        "(depends: T1, T2)"
    );
    assert!(has("T003", "T001"), "X (note) before Y (note)");
    assert!(has("T006", "T005"), "X needed for Y");
    assert!(has("T007", "T006"), "X after Y");
    assert!(has("T005", "T004"), "依賴 in a table cell");
    assert!(has("T005", "T002"), "group before group");
    // `T006 blocks T003` runs against `Storage before replay`: the group order gives way
    assert!(has("T003", "T006"));
    assert!(!has("T006", "T003"));
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
}

#[test]
fn a_task_table_with_own_ids_status_and_dependencies_is_the_task_list() {
    let p = load("kinds/task-table-execplan.md");
    assert_eq!(ids(&p), ["T-41-01", "T-41-02", "T-41-03", "T-41-04"]);
    assert_eq!(done_ids(&p), ["T-41-01", "T-41-02"]);
    assert_eq!(dep_ids(task(&p, "T-41-04")), ["T-41-02", "T-41-03"]);
    assert_eq!(task(&p, "T-41-03").title, "Store decoded readings");
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
}

#[test]
fn a_spanish_phase_brief_reads_its_tareas_as_the_tasks() {
    let p = load("kinds/fase-02-pagos.md");
    assert_eq!(p.tasks.len(), 4, "{:?}", ids(&p));
    assert_eq!(p.tasks[0].title, "Crear el modelo de pago.");
    assert!(p.tasks.iter().all(|t| !t.done));
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
}

#[test]
fn a_spanish_execplan_takes_done_state_from_progreso() {
    let p = load("kinds/migrar-cola.md");
    assert_eq!(p.dialect.name(), "execplan");
    assert_eq!(p.variant, "execplan");
    assert_eq!(p.tasks.len(), 3, "{:?}", ids(&p));
    assert_eq!(p.tasks.iter().filter(|t| t.done).count(), 2);
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
}

#[test]
fn a_ticket_bundle_reads_front_matter_ids_status_and_depends_on_lines() {
    let p = load("kinds/front-matter-bundle");
    // a ticket whose file name ends in `template` is still a ticket: its name starts with an id
    assert_eq!(ids(&p), ["QRY-001", "QRY-002", "QRY-003"]);
    assert_eq!(done_ids(&p), ["QRY-001"]);
    assert_eq!(dep_ids(task(&p, "QRY-002")), ["QRY-001"]);
    // `QRY-2.x` names a family in words: a warning quoting it, not an unknown id
    assert_eq!(dep_ids(task(&p, "QRY-003")), ["QRY-002"]);
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
    let warned = check(&p)
        .into_iter()
        .any(|d| d.rule == "unresolved-dependency" && d.message.contains("QRY-2.x"));
    assert!(warned);
}

#[test]
fn stages_with_status_lines_are_the_tasks_and_their_bullets_are_content() {
    let p = load("kinds/stages-with-status.md");
    assert_eq!(p.tasks.len(), 4, "{:?}", ids(&p));
    let done: Vec<bool> = p.tasks.iter().map(|t| t.done).collect();
    assert_eq!(done, [true, false, true, false]);
    assert!(p.tasks[1].title.contains("shim"), "{}", p.tasks[1].title);
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
}

#[test]
fn one_id_like_word_does_not_make_a_plain_checklist_spec_kit_and_a_week_unit_is_work() {
    let p = load("kinds/weekly-checklist.md");
    let titles: Vec<&str> = p.tasks.iter().map(|t| t.title.as_str()).collect();
    // eight checkboxes: `E2E` is no task id, `Week 2: Quality Gates & Review` holds work, and
    // the staffing table restates the work without ids
    assert_eq!(p.tasks.len(), 8, "{titles:?}");
    assert!(titles.contains(&"Review queue"), "{titles:?}");
    assert!(
        titles.iter().any(|t| t.contains("E2E test suite")),
        "{titles:?}"
    );
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
}

#[test]
fn a_checkbox_inside_bold_is_a_checkbox() {
    let text = "# Plan\n\n## Phase 1: Core\n\n1. **[x] Browser management** (`src/browser.ts`): launch\n2. **[ ] Capture** (`src/net.ts`): ring buffer\n3. [ ] Formatter\n";
    let p = planexec_plan::parse_str("plan.md", text, None).unwrap();
    assert_eq!(p.tasks.len(), 3, "{:?}", ids(&p));
    let done: Vec<bool> = p.tasks.iter().map(|t| t.done).collect();
    assert_eq!(done, [true, false, false]);
}

#[test]
fn a_code_span_path_in_a_nested_kiro_title_is_the_tasks_file() {
    let p = load("kinds/kiro-title-files/.kiro/specs/cart/tasks.md");
    assert_eq!(p.dialect.name(), "kiro");
    let files = |id: &str| -> Vec<String> { task(&p, id).files.clone() };
    assert_eq!(files("1.1"), ["src/cart/store.ts"]);
    assert_eq!(files("1.2"), ["src/cart/reducer.ts"]);
    assert!(files("2").is_empty());
}

// ---- round 3 kinds (fourth pass): readings chosen by scoring candidates against each other

fn warnings_of(p: &planexec_plan::Plan, rule: &str) -> Vec<String> {
    check(p)
        .into_iter()
        .filter(|d| d.severity == Severity::Warning && d.rule == rule)
        .map(|d| d.message)
        .collect()
}

#[test]
fn id_headings_of_a_priority_family_are_the_tasks() {
    // `### P1-4:` under `## P1 - Important`: no dialect reads them, the id-heading reading does
    let p = load("kinds/r4/priority-headings.md");
    assert_eq!(ids(&p), ["P1-4", "P1-5", "P1-6", "P2-1", "P2-2"]);
    assert_eq!(done_ids(&p), ["P1-4"]);
    assert!(task(&p, "P1-5")
        .files
        .iter()
        .any(|f| f.ends_with("month.tsx")));
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
    let r = p.reading.clone().unwrap_or_default();
    assert!(r.starts_with("id-headings"), "{r}");
}

#[test]
fn numbered_feature_headings_under_batches_are_the_tasks() {
    let p = load("kinds/r4/numbered-features.md");
    assert_eq!(ids(&p), ["1", "2", "3", "4", "5"]);
    assert_eq!(p.tasks[0].title, "Import exhibitors from a spreadsheet");
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
}

#[test]
fn kiro_tasks_with_milestone_prefixed_ids_keep_them() {
    let p = load("kinds/r4/milestone-kiro/.kiro/specs/tracker-device/tasks.md");
    assert_eq!(p.dialect.name(), "kiro");
    assert_eq!(
        ids(&p),
        ["M7-T001", "M7-T002", "M8-T001", "M8-T002", "M8-T002A", "M9-T001"]
    );
    assert_eq!(done_ids(&p), ["M7-T001", "M7-T002", "M8-T001"]);
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
}

#[test]
fn taskmaster_subtask_ids_written_in_full_are_kept() {
    let p = load("kinds/r4/full-dotted/tasks/tasks.json");
    assert_eq!(ids(&p), ["1", "1.1", "1.2", "2", "2.1"]);
    assert_eq!(dep_ids(task(&p, "1.2")), ["1.1"]);
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
}

#[test]
fn tickets_in_state_folders_are_read_and_a_decision_dependency_is_no_contradiction() {
    let p = load("kinds/r4/state-tickets/tickets");
    assert_eq!(ids(&p), ["TKT-002", "TKT-003", "TKT-001"]);
    assert_eq!(done_ids(&p), ["TKT-001"]);
    assert!(dep_ids(task(&p, "TKT-002")).contains(&"TKT-001"));
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
    let w = warnings_of(&p, "unknown-dependency");
    assert!(
        w.iter()
            .any(|m| m.contains("DEC-004") && m.contains("another id family")),
        "{w:?}"
    );
}

#[test]
fn fields_nested_under_a_spec_kit_task_line_are_its_own() {
    let p = load("kinds/nested-fields-speckit.md");
    assert_eq!(p.dialect.name(), "spec-kit");
    assert_eq!(ids(&p), ["T001", "T002", "T003", "T004"]);
    assert_eq!(
        task(&p, "T001").files,
        ["ledger/export/__init__.py", "tests/test_export_init.py"]
    );
    assert_eq!(
        task(&p, "T001").acceptance_commands,
        ["python3 -m pytest tests/test_export_init.py"]
    );
    assert_eq!(task(&p, "T002").files, ["ledger/export/csv_writer.py"]);
    assert_eq!(
        task(&p, "T002").acceptance_commands,
        ["python3 -m pytest tests/test_csv_writer.py -q"]
    );
    assert!(dep_ids(task(&p, "T003")).contains(&"T002"));
    assert_eq!(task(&p, "T003").files, ["ledger/export/jsonl.py"]);
    assert_eq!(
        task(&p, "T003").acceptance_commands,
        ["python3 -m pytest tests/test_jsonl.py"]
    );
    // a task line without nested fields keeps what its own line says
    assert_eq!(task(&p, "T004").files, ["ledger/cli.py"]);
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
}

// ---- round 4's kinds (fifth pass): fixtures in kinds/r5/ ----

fn titles(p: &planexec_plan::Plan) -> Vec<&str> {
    p.tasks.iter().map(|t| t.title.as_str()).collect()
}

#[test]
fn fenced_examples_nested_in_a_markdown_template_do_not_swallow_the_plan() {
    // a ```markdown page template holding a ```bash example: CommonMark closes the template
    // at the example's close and reads Phases 2 and 3 as code; the author meant a template
    let p = load("kinds/r5/docs-template.md");
    assert_eq!(p.tasks.len(), 7, "{:?}", titles(&p));
    assert_eq!(done_ids(&p).len(), 4);
    assert!(titles(&p).iter().all(|t| !t.contains("link the related")));
    assert!(titles(&p).last().unwrap().contains("Try it"));
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
}

#[test]
fn a_context_word_modifying_a_work_noun_does_not_make_a_context_section() {
    // `Background jobs`, `Log rotation`, `Reference implementation`, `Context menu` hold work;
    // `Risks and mitigations` and `Notes` are context
    let p = load("kinds/r5/modifier-headings.md");
    assert_eq!(p.tasks.len(), 6, "{:?}", titles(&p));
    assert_eq!(done_ids(&p).len(), 2);
    assert!(titles(&p).iter().any(|t| t.contains("context menu")));
    assert!(titles(&p)
        .iter()
        .all(|t| !t.contains("backlog") && !t.contains("alert")));
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
}

#[test]
fn a_numbered_stage_heading_in_chinese_is_work_whatever_its_words() {
    // `### 阶段3：优化与测试` holds work though 测试 (testing) names criteria elsewhere;
    // `## 三、测试标准` (test standards) stays context
    let p = load("kinds/r5/stages-cn.md");
    assert_eq!(p.tasks.len(), 7, "{:?}", titles(&p));
    assert_eq!(done_ids(&p).len(), 3);
    assert_eq!(titles(&p).last().copied(), Some("性能调优"));
}

#[test]
fn taskmaster_reads_the_tag_state_json_names_current() {
    let p = load("kinds/r5/current-tag/.taskmaster/tasks/tasks.json");
    assert_eq!(ids(&p), ["1", "1.1", "1.2", "1.3", "2"]);
    assert_eq!(done_ids(&p), ["1", "1.1", "1.2"]);
    assert_eq!(dep_ids(task(&p, "1.2")), ["1.1"]);
    assert_eq!(dep_ids(task(&p, "1.3")), ["1.1"]);
    assert_eq!(dep_ids(task(&p, "2")), ["1"]);
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
    // done markers go to the same tag
    let path = fixture("kinds/r5/current-tag/.taskmaster/tasks/tasks.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let tag = planexec_plan::dialect::taskmaster::current_tag(&path);
    assert_eq!(tag.as_deref(), Some("search"));
    let out =
        planexec_plan::dialect::taskmaster::mark_done_in_tag(&text, "2", tag.as_deref()).unwrap();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["search"]["tasks"][1]["status"], "done");
    assert_eq!(v["master"]["tasks"][0]["title"], "Old login page");
}

#[test]
fn a_lettered_task_heading_is_a_task_and_done_when_its_steps_are() {
    let p = load("kinds/r5/lettered-task.md");
    assert_eq!(ids(&p), ["1", "2", "2A", "3"]);
    assert_eq!(done_ids(&p), ["1", "2A"]);
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
}

#[test]
fn bullets_led_by_done_and_open_marks_are_checkboxes() {
    // a legend of ✅ / 🟡 / ⬜ bullets is the file's state: six tasks, three done
    let p = load("kinds/r5/status-legend.md");
    assert_eq!(p.tasks.len(), 6, "{:?}", titles(&p));
    assert_eq!(done_ids(&p).len(), 3);
    assert_eq!(p.tasks[0].title, "Pick the storage engine");
    // done marks alone describe features: the checkboxes are the work
    let p = load("kinds/r5/features-done.md");
    assert_eq!(p.tasks.len(), 4, "{:?}", titles(&p));
    assert_eq!(done_ids(&p).len(), 2);
}

#[test]
fn phase_headings_that_carry_the_done_marks_are_the_units() {
    // the file marks done on its phases (`(COMPLETED)`), not on items: four phases, two done,
    // not the two numbered deliverables of Phase 3
    let p = load("kinds/r5/phases-marked.md");
    assert_eq!(p.tasks.len(), 4, "{:?}", titles(&p));
    assert_eq!(done_ids(&p).len(), 2);
    assert!(p.tasks[3].title.contains("Cut-over"));
    let r = p.reading.clone().unwrap_or_default();
    assert!(r.starts_with("group-headings"), "{r}");
}
