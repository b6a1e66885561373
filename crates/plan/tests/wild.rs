//! Plans as teams really write them (issue 24): ExecPlan Progress as the done record, structure
//! without ids, bold paragraph ids, dependencies by name, Kiro and Taskmaster, ticket bundles.

mod common;
use common::*;
use planexec_plan::{check, has_errors, DepKind::*, Dialect, Severity};

fn errors(p: &planexec_plan::Plan) -> Vec<String> {
    check(p)
        .into_iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| format!("{}@{}: {}", d.rule, d.line, d.message))
        .collect()
}

fn warning_rules(p: &planexec_plan::Plan) -> Vec<String> {
    check(p)
        .into_iter()
        .filter(|d| d.severity == Severity::Warning)
        .map(|d| d.rule.to_string())
        .collect()
}

fn done(p: &planexec_plan::Plan) -> Vec<bool> {
    p.tasks.iter().map(|t| t.done).collect()
}

#[test]
fn execplan_progress_items_are_the_tasks_when_no_stage_is_named() {
    let p = load("wild/execplan-unlinked.md");
    assert_eq!(p.dialect, Dialect::ExecPlan);
    assert_eq!(ids(&p), ["P1", "P2", "P3", "P4", "P5"]);
    assert_eq!(done(&p), [true, true, false, false, false]);
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
}

#[test]
fn execplan_stage_is_done_only_when_all_its_progress_items_are() {
    let p = load("wild/execplan-stage-items.md");
    assert_eq!(ids(&p), ["Stage-A", "Stage-B", "Stage-C"]);
    assert_eq!(done(&p), [true, false, false]);
    let b = task(&p, "Stage-B");
    let lines = serde_json::to_value(b).unwrap()["progress_lines"].clone();
    assert_eq!(lines.as_array().map_or(0, Vec::len), 2, "{lines}");
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
}

#[test]
fn plans_md_with_several_runs_is_read() {
    let p = load("wild/PLANS.md");
    assert_eq!(p.dialect, Dialect::ExecPlan);
    assert_eq!(p.tasks.len(), 5, "{:?}", ids(&p));
    assert_eq!(done(&p), [true, true, true, false, false]);
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
}

#[test]
fn a_plain_checklist_under_tasks_is_tasks_with_generated_ids() {
    let p = load("wild/checklist.md");
    assert_eq!(ids(&p), ["P1.1", "P1.2", "P1.3"]);
    assert_eq!(done(&p), [true, false, false]);
    assert_eq!(task(&p, "P1.3").files, ["src/theme/boot.ts"]);
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
    let gen: Vec<_> = check(&p)
        .into_iter()
        .filter(|d| d.rule == "generated-ids")
        .collect();
    assert_eq!(gen.len(), 1, "one warning names the generated ids");
    assert!(gen[0].message.contains("P1.1"), "{}", gen[0].message);
}

#[test]
fn epic_sections_with_bullets_are_tasks_until_the_plan_uses_checkboxes() {
    // bullets under a group heading are the work of a plan without checkboxes
    let p = load("wild/epics.md");
    assert_eq!(ids(&p), ["P1.1", "P1.2"]);
    assert_eq!(task(&p, "P1.1").milestone.as_deref(), Some("Epic 1"));
    // once a plan writes work as checkboxes, the checkboxes are its tasks and bullets are prose
    let p = load("wild/epics-checklist.md");
    assert_eq!(ids(&p), ["P1.1", "P1.2"]);
    assert_eq!(done(&p), [false, true]);
    assert_eq!(task(&p, "P1.1").milestone.as_deref(), Some("Epic 2"));
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
}

#[test]
fn phase_and_stage_sections_are_groups_of_tasks() {
    let p = load("wild/phases.md");
    assert_eq!(ids(&p), ["P1.1", "P1.2", "P2.1", "P3.1"]);
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
}

#[test]
fn a_raw_numbered_list_is_tasks() {
    let p = load("wild/numbered.md");
    assert_eq!(p.tasks.len(), 4, "{:?}", ids(&p));
    assert_eq!(p.tasks[0].files, ["package.json"]);
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
}

#[test]
fn bold_paragraph_ids_are_tasks_and_done_when_keeps_the_dialect() {
    let p = load("wild/bold-ids.md");
    assert_ne!(p.dialect, Dialect::Planpipe);
    assert_eq!(ids(&p), ["T001", "T002", "T003"]);
    assert_eq!(dep_ids(task(&p, "T003")), ["T001"]);
    assert_eq!(task(&p, "T002").files, ["src/notify/email.go"]);
    assert_eq!(
        task(&p, "T001").acceptance_commands,
        ["go test ./src/notify/..."]
    );
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
}

#[test]
fn a_phase_named_as_a_dependency_means_its_tasks() {
    let p = load("wild/deps-by-name.md");
    assert_eq!(dep_ids(task(&p, "2.1")), ["1.1", "1.2"]);
    assert_eq!(dep_ids(task(&p, "3.1")), ["2.1", "2.2"]);
    assert_eq!(dep_ids(task(&p, "2.2")), ["2.1"]);
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
    let words: Vec<_> = check(&p)
        .into_iter()
        .filter(|d| d.rule == "unresolved-dependency")
        .collect();
    assert_eq!(words.len(), 1);
    assert!(
        words[0].message.contains("the design review"),
        "{}",
        words[0].message
    );
}

#[test]
fn milestone_dependencies_apply_to_its_rows_and_dotted_names_are_not_files() {
    let p = load("wild/milestone-rows.md");
    assert_eq!(ids(&p), ["T1", "T2", "T3", "T3a", "T4", "T5", "T6", "T7"]);
    assert_eq!(dep_ids(task(&p, "T5")), ["T1", "T2", "T3", "T4"]);
    assert_eq!(task(&p, "T6").files, ["src/refund.rs"]);
    assert_eq!(task(&p, "T7").files, ["src/retry.rs"]);
    assert_eq!(dep_ids(task(&p, "T7")), ["T5", "T3a"]);
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
}

#[test]
fn only_real_contradictions_are_errors() {
    let p = planexec_plan::parse_str(
        "x.md",
        "# X\n\n### T1: a\n\n**Dependencies**: T9\n\n### T2: b\n\n**Dependencies**: the old importer\n",
        None,
    )
    .unwrap();
    let e = errors(&p);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].starts_with("unknown-dependency@5"), "{e:?}");
    assert!(warning_rules(&p).contains(&"unresolved-dependency".to_string()));
}

#[test]
fn no_tasks_only_for_a_document_without_structure_and_says_what_was_looked_for() {
    let p = planexec_plan::parse_str(
        "x.md",
        "# Notes\n\nJust some prose about the weather.\n",
        None,
    )
    .unwrap();
    let d: Vec<_> = check(&p)
        .into_iter()
        .filter(|d| d.rule == "no-tasks")
        .collect();
    assert_eq!(d.len(), 1);
    assert!(d[0].message.contains("checkbox"), "{}", d[0].message);
    assert!(d[0].message.contains("numbered"), "{}", d[0].message);
}

#[test]
fn kiro_spec_is_read_with_parent_child_order_and_requirements_as_references() {
    let p = load("wild/kiro/.kiro/specs/user-export/tasks.md");
    assert_eq!(p.dialect.name(), "kiro");
    assert_eq!(ids(&p), ["1", "2", "2.1", "2.2", "3"]);
    assert_eq!(done(&p), [true, false, true, false, false]);
    assert_eq!(task(&p, "2.2").tags, ["R2.2", "R3.1"]);
    // a parent waits for its children; nothing else is inferred
    assert_eq!(dep_ids(task(&p, "2")), ["2.1", "2.2"]);
    assert!(dep_ids(task(&p, "3")).is_empty() || dep_ids(task(&p, "3")) == ["2"]);
    assert_eq!(task(&p, "1").files, ["src/export/mod.ts"]);
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
    // the spec folder reads the same
    let f = load("wild/kiro/.kiro/specs/user-export");
    assert_eq!(f.dialect.name(), "kiro");
    assert_eq!(f.tasks.len(), 5);
}

#[test]
fn taskmaster_tagged_file_is_read() {
    let p = load("wild/taskmaster/.taskmaster/tasks/tasks.json");
    assert_eq!(p.dialect.name(), "taskmaster");
    assert_eq!(ids(&p), ["1", "2", "2.1", "2.2", "3"]);
    assert_eq!(done(&p), [true, false, true, false, false]);
    let t2 = task(&p, "2");
    assert_eq!(t2.acceptance, ["Unit tests for the repository"]);
    assert!(dep_ids(t2).contains(&"1"));
    assert_eq!(dep_ids(task(&p, "2.2")), ["2.1"]);
    assert_eq!(deps(task(&p, "3")), [("2.2".to_string(), Blocking)]);
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
    assert!(!has_errors(&check(&load("wild/taskmaster"))));
}

#[test]
fn legacy_taskmaster_file_is_read() {
    let p = load("wild/legacy-tm/tasks/tasks.json");
    assert_eq!(p.dialect.name(), "taskmaster");
    assert_eq!(ids(&p), ["1", "2"]);
    assert_eq!(task(&p, "2").acceptance, ["Round-trip tests"]);
    assert_eq!(done(&p), [true, false]);
}

#[test]
fn a_ticket_bundle_without_plan_md_is_a_plan() {
    let p = load("wild/bundle");
    assert_eq!(ids(&p), ["T001", "T002"]);
    assert_eq!(task(&p, "T001").title, "Add the CLI flag");
    assert_eq!(dep_ids(task(&p, "T002")), ["T001"]);
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
}

fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
            copy_tree(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(1_780_000_000).unwrap()
}

#[test]
fn run_marks_a_taskmaster_task_done_in_the_json() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture("wild/taskmaster"), dir.path());
    let f = dir.path().join(".taskmaster/tasks/tasks.json");
    let before = std::fs::read_to_string(&f).unwrap();
    let p = planexec_plan::load(&f, None).unwrap();
    planexec_plan::mark_done(&p, task(&p, "2.2"), now()).unwrap();
    planexec_plan::mark_done(&p, task(&p, "3"), now()).unwrap();
    let after = std::fs::read_to_string(&f).unwrap();
    let p = planexec_plan::load(&f, None).unwrap();
    assert!(task(&p, "2.2").done && task(&p, "3").done && !task(&p, "2").done);
    // only the two status values changed
    let changed: Vec<(&str, &str)> = before
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(changed.len(), 2, "{changed:?}");
    assert!(changed
        .iter()
        .all(|(a, b)| a.contains("\"pending\"") && b.contains("\"done\"")));
}

#[test]
fn run_ticks_a_kiro_checkbox_without_a_stamp() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture("wild/kiro"), dir.path());
    let f = dir.path().join(".kiro/specs/user-export/tasks.md");
    let p = planexec_plan::load(&f, None).unwrap();
    planexec_plan::mark_done(&p, task(&p, "2.2"), now()).unwrap();
    let text = std::fs::read_to_string(&f).unwrap();
    assert!(
        text.contains("  - [x] 2.2 Stream rows to the response\n"),
        "{text}"
    );
    assert!(
        planexec_plan::load(&f, None)
            .unwrap()
            .task("2.2")
            .unwrap()
            .done
    );
}

#[test]
fn run_ticks_a_spec_kit_checkbox() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("tasks.md");
    std::fs::write(&f, "# Tasks\n\n## Phase 1: Setup\n\n- [ ] T001 Create `src/a.py`\n- [ ] T002 Create `src/b.py`\n").unwrap();
    let p = planexec_plan::load(&f, None).unwrap();
    assert_eq!(p.dialect, Dialect::SpecKit);
    planexec_plan::mark_done(&p, task(&p, "T002"), now()).unwrap();
    let text = std::fs::read_to_string(&f).unwrap();
    assert!(
        text.ends_with("- [ ] T001 Create `src/a.py`\n- [x] T002 Create `src/b.py`\n"),
        "{text}"
    );
}

#[test]
fn run_ticks_every_progress_item_of_a_stage() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("plan.md");
    std::fs::copy(fixture("wild/execplan-stage-items.md"), &f).unwrap();
    let p = planexec_plan::load(&f, None).unwrap();
    assert_eq!(done(&p), [true, false, false]);
    planexec_plan::mark_done(&p, task(&p, "Stage-C"), now()).unwrap();
    planexec_plan::mark_done(&p, task(&p, "Stage-B"), now()).unwrap();
    let p = planexec_plan::load(&f, None).unwrap();
    assert_eq!(done(&p), [true, true, true]);
}

#[test]
fn explain_names_the_lines_each_field_came_from() {
    let p = load("wild/bold-ids.md");
    let s = planexec_plan::render_explain(&p, Some("T002")).unwrap();
    assert!(s.contains("T002  Send email notifications"), "{s}");
    assert!(s.contains("bold id"), "{s}");
    assert!(s.contains("bold-ids.md:13"), "files line: {s}");
    assert!(s.contains("| - Files: `src/notify/email.go`"), "{s}");
    assert!(s.contains("T001 (blocking)"), "{s}");
    assert!(s.contains("bold-ids.md:14"), "dependencies line: {s}");
    assert!(!s.contains("T003"), "only the task asked for: {s}");
    let all = planexec_plan::render_explain(&p, None).unwrap();
    assert_eq!(all.matches("\nT00").count(), 3, "{all}");
    let e = planexec_plan::render_explain(&p, Some("T9")).unwrap_err();
    assert!(e.contains("T001, T002, T003"), "{e}");
    // a stage tied to several Progress items shows each of them
    let p = load("wild/execplan-stage-items.md");
    let s = planexec_plan::render_explain(&p, Some("Stage-B")).unwrap();
    assert!(s.contains("Progress: Stage B: add checkpoints"), "{s}");
    assert!(s.contains("Progress: Stage B: resume"), "{s}");
}

#[test]
fn numbered_checkboxes_under_numbered_sections_keep_their_own_ids() {
    let p = load("wild/openspec/changes/add-health/tasks.md");
    assert_eq!(ids(&p), ["1.1", "1.2", "2.1"]);
    assert_eq!(done(&p), [true, false, false]);
    assert_eq!(
        task(&p, "1.2").title,
        "Register the handler in `server/app.ts`"
    );
    assert_eq!(task(&p, "1.2").files, ["server/app.ts"]);
    assert!(!warning_rules(&p).contains(&"generated-ids".to_string()));
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
}

#[test]
fn taskmaster_string_ids_and_nested_subtasks() {
    let p = planexec_plan::parse_str(
        "tasks.json",
        r#"{"tasks": [
  {"id": "1", "title": "A", "status": "done", "subtasks": [
    {"id": 1, "title": "A one", "status": "done", "subtasks": [
      {"id": 1, "title": "A one one", "status": "pending", "acceptanceCriteria": "works"}]}]},
  {"id": "2", "title": "B", "dependencies": ["1.1.1"], "status": "in-progress"}
]}"#,
        None,
    )
    .unwrap();
    assert_eq!(ids(&p), ["1", "1.1", "1.1.1", "2"]);
    assert_eq!(task(&p, "1.1.1").acceptance, ["works"]);
    assert_eq!(dep_ids(task(&p, "2")), ["1.1.1"]);
    assert_eq!(task(&p, "1.1.1").span.line, 4);
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
}

#[test]
fn the_same_task_stated_twice_is_read_once_and_different_tasks_with_one_id_are_an_error() {
    let same = planexec_plan::parse_str(
        "x.md",
        "# X\n\n### T1: Add the cache\n\nFiles: `a.rs`\n\n### T2: Use it\n\n## Recap\n\n### T1: Add the cache\n",
        None,
    )
    .unwrap();
    assert_eq!(ids(&same), ["T1", "T2"]);
    assert!(errors(&same).is_empty(), "{:?}", errors(&same));
    assert!(warning_rules(&same).contains(&"duplicate-id".to_string()));
    let different = planexec_plan::parse_str(
        "x.md",
        "# X\n\n### T1: Add the cache\n\n### T1: Remove the old cache\n",
        None,
    )
    .unwrap();
    assert_eq!(errors(&different).len(), 1, "{:?}", errors(&different));
}

#[test]
fn kiro_labels_in_other_languages_and_explicit_depends() {
    let p = load("wild/kiro-jp/.kiro/specs/audio/tasks.md");
    assert_eq!(p.dialect.name(), "kiro");
    assert_eq!(ids(&p), ["1", "2"]);
    let t1 = task(&p, "1");
    assert_eq!(
        t1.files,
        ["src/audio/extract.ts", "tests/audio/extract.test.ts"]
    );
    assert_eq!(t1.acceptance_commands, ["npm test -- extract"]);
    assert_eq!(deps(task(&p, "2")), [("1".to_string(), Blocking)]);
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
    assert!(!warning_rules(&p).contains(&"dependency-disagreement".to_string()));
}

#[test]
fn an_exec_plans_folder_progress_log_with_skipped_and_in_progress_marks() {
    let p = load("wild/docs/exec-plans/progress-log.md");
    assert_eq!(p.dialect, Dialect::ExecPlan);
    assert_eq!(ids(&p), ["P1", "P2", "P3", "P4"]);
    // `[~]` skipped is settled (done), `[-]` in progress is open
    assert_eq!(done(&p), [true, true, false, false]);
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
}

#[test]
fn stages_without_progress_are_done_when_the_plan_or_heading_says_so() {
    let p = load("wild/milestones-complete.md");
    assert_eq!(p.dialect, Dialect::ExecPlan);
    assert_eq!(p.status.as_deref(), Some("Complete"));
    assert_eq!(ids(&p), ["M1", "M2"]);
    assert_eq!(done(&p), [true, true]);
}

#[test]
fn a_title_written_like_a_task_heading_is_not_a_task() {
    let p = load("wild/titled.md");
    assert_eq!(ids(&p), ["1.1", "1.2"]);
    assert_eq!(dep_ids(task(&p, "1.2")), ["1.1"]);
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
}

#[test]
fn kiro_in_progress_optional_gate_ids_and_group_dependencies() {
    let p = load("wild/kiro-optional/.kiro/specs/x/tasks.md");
    assert_eq!(ids(&p), ["1", "2", "2.1", "2.2", "2.V", "3", "4"]);
    assert_eq!(done(&p), [true, false, true, false, false, false, false]);
    assert!(task(&p, "4").tags.contains(&"optional".to_string()));
    assert!(dep_ids(task(&p, "3")).contains(&"2.2"));
    assert!(dep_ids(task(&p, "4")).contains(&"2.2"));
    // parent/child order is sequencing, not an explicit dependency
    assert!(task(&p, "2")
        .dependencies
        .iter()
        .all(|d| d.kind == Sequencing));
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
}

#[test]
fn step_headings_with_done_marks() {
    let p = load("wild/steps-done.md");
    assert_eq!(ids(&p), ["1.1", "1.2"]);
    assert_eq!(done(&p), [true, false]);
    assert_eq!(task(&p, "1.1").title, "Extract the lifecycle module");
}

#[test]
fn plain_paragraph_ids_are_tasks() {
    let p = load("wild/work-units.md");
    assert_eq!(ids(&p), ["WU-1", "WU-2"]);
    assert_eq!(dep_ids(task(&p, "WU-2")), ["WU-1"]);
    assert_eq!(
        task(&p, "WU-1").acceptance_commands,
        ["./scripts/merge.sh --check"]
    );
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
}

#[test]
fn label_paragraphs_scope_checklists_and_nested_checkboxes_are_tasks() {
    // every checkbox that stands for work is a task, nested ones included (the reading
    // conventions); the Verification Plan checkboxes are criteria
    let p = load("wild/labelled.md");
    assert_eq!(ids(&p), ["P1.1", "P1.2", "P1.3", "P1.4"]);
    assert_eq!(done(&p), [true, true, true, false]);
}

#[test]
fn phase_sections_that_state_fields_are_one_task_each() {
    let p = load("wild/phases-with-fields.md");
    assert_eq!(ids(&p), ["Phase-1", "Phase-2"]);
    assert_eq!(task(&p, "Phase-1").files, ["src/model.ts", "src/db.ts"]);
    assert_eq!(dep_ids(task(&p, "Phase-2")), ["Phase-1"]);
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
}

#[test]
fn milestone_tables_with_a_status_column_are_tasks() {
    let p = load("wild/milestone-table.md");
    assert_eq!(p.tasks.len(), 4, "{:?}", ids(&p));
    assert_eq!(done(&p), [true, true, true, false]);
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
}

#[test]
fn spec_kit_dependency_notes_in_subsections_are_edges() {
    let p = planexec_plan::parse_str(
        "tasks.md",
        "# Tasks\n\n## Phase 1: Setup\n\n- [ ] T001 [P] Create `src/a.js`\n- [ ] T002 [P] Create `src/b.js`\n- [ ] T003 [P] Create `src/c.js`\n\n## Dependencies & Execution Order\n\n### Phase Dependencies\n\n- Setup first\n\n### Within the story\n\n- T002 and T003 depend on T001 (the hook must exist first)\n- T009 depends on T008\n",
        None,
    )
    .unwrap();
    assert_eq!(dep_ids(task(&p, "T002")), ["T001"]);
    assert_eq!(dep_ids(task(&p, "T003")), ["T001"]);
    // ids only mentioned in notes that no task has are ignored, not errors
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
}

#[test]
fn a_taskmaster_subtask_may_depend_on_a_top_level_task() {
    let p = planexec_plan::parse_str(
        "tasks.json",
        r#"{"tasks": [{"id": 1, "title": "A"}, {"id": 2, "title": "B", "subtasks": [{"id": 1, "title": "B one", "dependencies": [1]}, {"id": 2, "title": "B two", "dependencies": [1, 5]}]}, {"id": 5, "title": "E"}]}"#,
        None,
    )
    .unwrap();
    // `1` under task 2 is the sibling 2.1 when there is one other than the task itself
    assert_eq!(dep_ids(task(&p, "2.1")), ["1"]);
    assert_eq!(dep_ids(task(&p, "2.2")), ["2.1", "5"]);
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
}

#[test]
fn tickets_in_status_folders_are_done_or_not_work() {
    let p = load("wild/bundle-folders");
    assert_eq!(p.tasks.len(), 2, "{:?}", ids(&p));
    let fixed = p
        .tasks
        .iter()
        .find(|t| t.title.contains("empty file"))
        .unwrap();
    let open = p.tasks.iter().find(|t| t.title.contains("Retry")).unwrap();
    assert!(fixed.done && !open.done);
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
}

#[test]
fn checkbox_plans_take_every_work_checkbox_nested_included_and_nothing_else() {
    let p = load("wild/nested-checklist.md");
    let titles: Vec<&str> = p.tasks.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "Parse the ledger file",
            "Read the header row",
            "Read the entries",
            "Render the summary card with:",
            "Test: the page loads under a second",
            "Export to CSV",
            "Export to PDF",
        ]
    );
    assert_eq!(done(&p), [true, true, false, false, false, false, true]);
    // the bullets under a checkbox are its details, not tasks
    assert_eq!(p.tasks[3].steps, ["title and total", "a sparkline"]);
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
}

#[test]
fn a_stated_dependency_against_phase_order_overrides_the_order_and_is_no_cycle() {
    let p = load("wild/order-against-phase.md");
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
    let deps = |id: &str| -> Vec<String> {
        task(&p, id)
            .dependencies
            .iter()
            .map(|d| d.id.clone())
            .collect()
    };
    assert!(
        deps("T002").contains(&"T003".to_string()),
        "{:?}",
        deps("T002")
    );
    assert!(
        deps("T004").contains(&"T003".to_string()),
        "{:?}",
        deps("T004")
    );
    assert!(warning_rules(&p).contains(&"order-overridden".to_string()));
}

#[test]
fn a_tickets_folder_with_a_readme_and_a_template_reads_its_tickets() {
    let p = load("wild/ticket-folder/tickets");
    assert_eq!(ids(&p), ["T-001", "T-002"]);
    assert_eq!(done(&p), [true, false]);
    let d: Vec<&str> = task(&p, "T-002")
        .dependencies
        .iter()
        .map(|d| d.id.as_str())
        .collect();
    assert_eq!(d, ["T-001"]);
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
}

#[test]
fn ids_with_a_variant_suffix_are_kept_and_a_range_naming_the_bare_id_means_them() {
    let p = load("wild/suffixed-ids.md");
    assert_eq!(ids(&p), ["T001", "T002-MIN", "T003-MIN", "T004"]);
    let d: Vec<&str> = task(&p, "T004")
        .dependencies
        .iter()
        .map(|d| d.id.as_str())
        .collect();
    assert!(d.contains(&"T002-MIN") && d.contains(&"T003-MIN"), "{d:?}");
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
}

#[test]
fn taskmaster_subtask_ids_are_parent_dot_own_even_when_the_own_id_is_dotted() {
    let p = load("wild/taskmaster-nested/tasks.json");
    assert_eq!(ids(&p), ["1", "1.1.1", "1.2", "1.2.retry-policy"]);
    let d: Vec<&str> = task(&p, "1.2")
        .dependencies
        .iter()
        .map(|d| d.id.as_str())
        .collect();
    assert_eq!(d, ["1.1.1", "1.2.retry-policy"]);
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
}

#[test]
fn status_words_in_brackets_are_checkboxes() {
    let p = load("wild/status-words.md");
    assert_eq!(p.tasks.len(), 3);
    assert_eq!(done(&p), [true, true, false]);
    assert_eq!(
        p.tasks[0].title,
        "Add the page-size signal in `src/view.rs`"
    );
}
