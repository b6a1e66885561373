//! The plans people really write (issue 14): one test or more per kind of misreading, each on a
//! fixture under tests/fixtures/reading/ written for it. Each asserts the ids, dependencies and
//! their kinds, acceptance, files, tolerances, and the exit code `planexec check` gives
//! (2 when any diagnostic is an error, else 0).

mod common;

use common::*;
use planexec_plan::{check, has_errors, DepKind, Dialect, Severity};

/// The exit code `planexec check` gives for a plan.
fn exit_code(p: &planexec_plan::Plan) -> i32 {
    if has_errors(&check(p)) {
        2
    } else {
        0
    }
}

/// `rule@line` of the warnings, and the messages, for compact assertions.
fn warnings(p: &planexec_plan::Plan) -> Vec<String> {
    check(p)
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .map(|d| format!("{}@{}", d.rule, d.line))
        .collect()
}

fn message(p: &planexec_plan::Plan, rule: &str) -> String {
    check(p)
        .into_iter()
        .find(|d| d.rule == rule)
        .map(|d| d.message)
        .unwrap_or_else(|| panic!("no {rule} in {:?}", check(p)))
}

// 1. Wrapped list items in ExecPlan sections.
#[test]
fn kind01_wrapped_items_are_one_item_each() {
    let p = load("reading/wrapped-execplan.md");
    assert_eq!(p.dialect, Dialect::ExecPlan);
    assert_eq!(ids(&p), ["P1", "P2"]);
    assert_eq!(
        p.tasks[0].title,
        "Read the old importer and list its callers."
    );
    assert_eq!(p.constraints.len(), 2, "{:?}", p.constraints);
    assert!(p.constraints[0].ends_with("three services depend on it."));
    assert_eq!(p.risks.len(), 2, "{:?}", p.risks);
    let t = &p.tolerances;
    assert_eq!((t.max_files, t.max_net_lines), (Some(12), Some(1000)));
    assert!(t
        .max_net_lines_source
        .as_deref()
        .unwrap()
        .ends_with("1,000 net lines."));
    assert_eq!(t.max_minutes, Some(120), "{:?}", t.max_minutes_source);
    assert!(t.unreadable.is_empty(), "{:?}", t.unreadable);
    assert_eq!(exit_code(&p), 0, "{:?}", check(&p));
    assert!(check(&p).is_empty(), "{:?}", check(&p));
}

// 2. Tolerance wording: number words, "focused", thousands separators; a benchmark is not a limit.
#[test]
fn kind02_tolerance_words_and_product_targets() {
    let p = load("reading/wrapped-execplan.md");
    let t = &p.tolerances;
    assert_eq!(t.max_attempts, Some(3));
    assert!(t
        .max_attempts_source
        .as_deref()
        .unwrap()
        .contains("three focused attempts"));
    assert!(
        t.max_minutes_source
            .as_deref()
            .unwrap()
            .starts_with("Time:"),
        "the benchmark's 6 minutes is not the work's time limit: {:?}",
        t.max_minutes_source
    );
    assert!(
        t.other.iter().any(|o| o.contains("benchmark")),
        "{:?}",
        t.other
    );
    let q = planexec_plan::parse_str(
        "fixes.md",
        "# X\n\nStatus: DRAFT\n\n## Purpose\n\nx\n\n## Progress\n\n- [ ] a\n\n## Tolerances\n\n- Iterations: escalate after 3 fixes that do not turn the test green.\n",
        None,
    )
    .unwrap();
    assert_eq!(q.tolerances.max_attempts, Some(3));
}

// 3. Tracker ids with no digit beside siblings that have one.
#[test]
fn kind03_digitless_tracker_keys_are_tasks_beside_their_siblings() {
    let p = load("reading/tracker-keys.md");
    assert_eq!(p.dialect, Dialect::TId);
    assert_eq!(ids(&p), ["proj-7sk", "proj-ory", "proj-yed"]);
    assert_eq!(
        deps(task(&p, "proj-ory")),
        [("proj-7sk".to_string(), DepKind::Blocking)]
    );
    assert_eq!(dep_ids(task(&p, "proj-yed")), ["proj-ory", "proj-7sk"]);
    assert_eq!(task(&p, "proj-yed").files, ["app/unsub.py"]);
    assert_eq!(
        task(&p, "proj-ory").acceptance_commands,
        ["pytest -q tests/test_send.py"]
    );
    assert_eq!(waves(&p), w(&[&["proj-7sk"], &["proj-ory"], &["proj-yed"]]));
    assert!(check(&p).is_empty(), "{:?}", check(&p));
    assert_eq!(exit_code(&p), 0);
}

// 4. Table plans: a milestone's Dependencies apply to its rows; "No ..." cells are content.
#[test]
fn kind04_milestone_dependencies_apply_to_table_rows() {
    let p = load("reading/milestone-table.md");
    assert_eq!(ids(&p), ["T1", "T2", "T3", "T4"]);
    assert_eq!(dep_ids(task(&p, "T3")), ["T1", "T2"]);
    assert_eq!(dep_ids(task(&p, "T4")), ["T1", "T2"]);
    assert!(task(&p, "T1").dependencies.is_empty());
    assert_eq!(task(&p, "T3").milestone.as_deref(), Some("M2"));
    assert_eq!(task(&p, "T3").acceptance, ["No dead CSS rules remain"]);
    assert!(task(&p, "T4").acceptance.is_empty());
    assert_eq!(task(&p, "T3").files, ["styles/legacy/__old__.css"]);
    assert_eq!(task(&p, "T2").acceptance_commands, ["npx stylelint styles"]);
    assert_eq!(waves(&p), w(&[&["T1", "T2"], &["T3", "T4"]]));
    assert_eq!(
        warnings(&p),
        ["file-name@21", "missing-acceptance@22"],
        "{:?}",
        check(&p)
    );
    assert_eq!(exit_code(&p), 0);
}

// 5. Requirement, story, CVE ids in prose are not tasks; an unknown id in prose is a warning.
#[test]
fn kind05_requirement_ids_in_prose_are_not_dependencies() {
    let p = load("reading/requirements-tasks.md");
    assert_eq!(p.dialect, Dialect::SpecKit);
    assert_eq!(ids(&p), ["T001", "T002", "T003", "T004"]);
    assert_eq!(
        deps(task(&p, "T002")),
        [("T001".to_string(), DepKind::Blocking)]
    );
    assert_eq!(dep_ids(task(&p, "T003")), ["T001"]);
    assert_eq!(dep_ids(task(&p, "T004")), ["T002", "T003"]);
    assert_eq!(task(&p, "T003").tags, ["US1"]);
    assert_eq!(task(&p, "T004").files, ["docs/security.md"]);
    assert_eq!(
        task(&p, "T002").acceptance,
        ["`pytest -q tests/export` passes"]
    );
    let d: Vec<_> = check(&p);
    let unknown = d.iter().find(|d| d.rule == "unknown-dependency").unwrap();
    assert_eq!(unknown.severity, Severity::Warning);
    assert!(unknown.message.contains("T009"), "{}", unknown.message);
    assert!(!d
        .iter()
        .any(|d| d.message.contains("FR-016") || d.message.contains("SC-003")));
    assert_eq!(exit_code(&p), 0, "{d:?}");
}

// 5b. An unknown id in an explicit Dependencies field is still an error.
#[test]
fn kind05_unknown_id_in_a_dependencies_field_is_an_error() {
    let p = planexec_plan::parse_str(
        "x.md",
        "# X\n\n### T001: a\n**Dependencies:** T007\n**Acceptance test:** `pytest -q`\n**Files:** `a.py`\n",
        None,
    )
    .unwrap();
    assert_eq!(exit_code(&p), 2);
    assert_eq!(rules(&p), ["unknown-dependency@4"]);
}

// 6. Bundles: INDEX.md is not a ticket; ticket titles lose their id prefix.
#[test]
fn kind06_bundle_index_is_not_a_ticket_and_titles_lose_the_id() {
    let p = load("reading/bundle");
    assert_eq!(p.variant, "tickets");
    assert_eq!(ids(&p), ["T001", "T002"]);
    assert_eq!(task(&p, "T001").title, "Parse input files");
    assert_eq!(task(&p, "T002").title, "Render output");
    assert_eq!(dep_ids(task(&p, "T002")), ["T001"]);
    assert_eq!(task(&p, "T002").files, ["app/render.py"]);
    assert_eq!(
        task(&p, "T001").acceptance_commands,
        ["pytest -q tests/test_parse.py"]
    );
    assert_eq!(exit_code(&p), 0, "{:?}", check(&p));
    assert!(check(&p).is_empty(), "{:?}", check(&p));
}

// 7. Inline lists in Out of scope / Files.
#[test]
fn kind07_inline_lists_are_split() {
    let p = load("reading/fields.md");
    let t = task(&p, "T001");
    assert_eq!(
        t.out_of_scope,
        ["internal/tenant/handler.go", "any API change"]
    );
    assert_eq!(t.files.len(), 4, "{:?}", t.files);
}

// 8. A wave marked sequential may hold dependent tasks; other wave disorder is a warning.
#[test]
fn kind08_sequential_wave_is_not_an_error() {
    let p = load("reading/sequential-wave.md");
    assert_eq!(p.dialect, Dialect::Planpipe);
    assert_eq!(ids(&p), ["ST-1", "ST-2", "ST-3", "ST-4", "ST-5"]);
    assert_eq!(dep_ids(task(&p, "ST-3")), ["ST-2"]);
    assert_eq!(task(&p, "ST-3").wave, Some(2));
    assert_eq!(task(&p, "ST-2").files, ["internal/api/sso.go"]);
    assert_eq!(task(&p, "ST-3").acceptance_commands, ["npm test -- admin"]);
    assert_eq!(
        waves(&p),
        w(&[&["ST-1"], &["ST-2"], &["ST-3"], &["ST-5"], &["ST-4"]])
    );
    let wave = check(&p);
    let wo: Vec<_> = wave.iter().filter(|d| d.rule == "wave-order").collect();
    assert_eq!(wo.len(), 1, "{wave:?}");
    assert_eq!(wo[0].severity, Severity::Warning);
    assert!(wo[0].message.contains("ST-4") && wo[0].message.contains("runs ST-5 first"));
    assert_eq!(exit_code(&p), 0, "{wave:?}");
}

// 9. Messages in the dialect's words.
#[test]
fn kind09_messages_fit_the_dialect() {
    let p = load("reading/sequential-wave.md");
    let m = message(&p, "missing-acceptance");
    assert!(
        m.contains("ST-4") && m.contains("Completion Criteria"),
        "{m}"
    );
    assert!(!m.contains("Acceptance test"), "{m}");
    let p = load("reading/fields.md");
    assert!(
        !check(&p)
            .iter()
            .any(|d| d.rule == "missing-files" && d.message.contains("T002")),
        "`none (verification-only)` states the files: {:?}",
        check(&p)
    );
    assert!(task(&p, "T002").files.is_empty());
    let p = load("reading/plain-progress.md");
    assert_eq!(rules(&p), ["not-an-execplan@9"]);
    let m = message(&p, "not-an-execplan");
    assert!(
        m.contains("plain bullets") && !m.contains("add a `## Progress` section"),
        "{m}"
    );
    assert_eq!(exit_code(&p), 2);
}

// 10. File names exactly as written, with a warning when Markdown would mangle them.
#[test]
fn kind10_file_names_from_the_source_text() {
    let p = load("reading/fields.md");
    let t = task(&p, "T001");
    assert_eq!(
        t.files,
        [
            "calc/__main__.py",
            "calc/__init__.py",
            "docs/User Guide.md",
            "données/résumé.md"
        ]
    );
    let fw: Vec<String> = check(&p)
        .into_iter()
        .filter(|d| d.rule == "file-name")
        .map(|d| d.message)
        .collect();
    assert_eq!(fw.len(), 2, "{fw:?}");
    assert!(
        fw[0].contains("`calc/__main__.py`") && fw[0].contains("`calc/main.py`"),
        "{fw:?}"
    );
    assert!(fw[1].contains("docs/User Guide.md"), "{fw:?}");
    let s = load("reading/requirements-tasks.md");
    assert_eq!(task(&s, "T001").files, ["src/export/__init__.py"]);
    // prose alternatives and package names are not paths; brace globs and folders are
    let q = planexec_plan::parse_str(
        "tasks.md",
        "# Tasks\n\n## Phase 1: Setup\n\n- [ ] T001 Install @scope/pkg with FastAPI/Express in web/package.json and src/{a,b}/ stubs\n",
        None,
    )
    .unwrap();
    assert_eq!(q.tasks[0].files, ["web/package.json", "src/{a,b}/"]);
}

// 11. Template placeholders are not dependencies or titles.
#[test]
fn kind11_template_placeholders_are_ignored_with_a_warning() {
    let p = load("reading/fields.md");
    assert_eq!(ids(&p), ["T000", "T001", "T002"]);
    let t = task(&p, "T000");
    assert!(t.dependencies.is_empty(), "{:?}", t.dependencies);
    assert_eq!(t.title, "");
    assert!(t.acceptance.is_empty() && t.files.is_empty());
    assert_eq!(dep_ids(task(&p, "T002")), ["T001"]);
    let ph: Vec<String> = check(&p)
        .into_iter()
        .filter(|d| d.rule == "template-placeholder")
        .map(|d| format!("{}@{}", d.rule, d.line))
        .collect();
    assert_eq!(
        ph,
        [
            "template-placeholder@3",
            "template-placeholder@4",
            "template-placeholder@5"
        ]
    );
    assert_eq!(exit_code(&p), 0, "{:?}", check(&p));
}

// 12. ExecPlan stages become tasks tied to their Progress items; numbered Concrete Steps too.
#[test]
fn kind12_execplan_stages_are_tasks() {
    let p = load("reading/stages.md");
    assert_eq!(p.dialect, Dialect::ExecPlan);
    assert_eq!(ids(&p), ["Stage-A", "Stage-B"]);
    let (a, b) = (task(&p, "Stage-A"), task(&p, "Stage-B"));
    assert_eq!(a.title, "Measure the job");
    assert_eq!(a.files, ["jobs/report.py"]);
    assert_eq!(a.acceptance_commands, ["python -m jobs.report --dry-run"]);
    assert_eq!(b.files, ["jobs/writer.py", "jobs/report.py"]);
    assert_eq!(b.acceptance_commands, ["pytest -q tests/test_writer.py"]);
    assert_eq!(deps(b), [("Stage-A".to_string(), DepKind::Sequencing)]);
    assert!(a.done && !b.done);
    assert_eq!((a.line, b.line), (11, 12), "the Progress lines run ticks");
    assert_eq!(p.final_gates, ["pytest -q"]);
    assert_eq!(p.tolerances.max_minutes, Some(180));
    assert_eq!(waves(&p), w(&[&["Stage-A"], &["Stage-B"]]));
    assert!(check(&p).is_empty(), "{:?}", check(&p));
    assert_eq!(exit_code(&p), 0);
    // run ticks Stage B's Progress line
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("stages.md");
    std::fs::copy(fixture("reading/stages.md"), &f).unwrap();
    let p = planexec_plan::load(&f, None).unwrap();
    let now = time::OffsetDateTime::from_unix_timestamp(1_780_000_000).unwrap();
    planexec_plan::tick_progress(&f, task(&p, "Stage-B"), now).unwrap();
    let text = std::fs::read_to_string(&f).unwrap();
    assert!(
        text.lines()
            .nth(11)
            .unwrap()
            .starts_with("- [x] (2026-05-28"),
        "{}",
        text.lines().nth(11).unwrap()
    );
}

#[test]
fn kind12_concrete_steps_are_tasks_when_progress_has_none() {
    let p = load("reading/concrete-steps.md");
    assert_eq!(p.dialect, Dialect::ExecPlan);
    assert_eq!(ids(&p), ["S1", "S2"]);
    assert_eq!(task(&p, "S1").title, "Add the handler in `app/health.py`.");
    assert_eq!(
        task(&p, "S1").steps,
        ["python -m pytest -q tests/test_health.py -k handler"]
    );
    assert_eq!(
        deps(task(&p, "S2")),
        [("S1".to_string(), DepKind::Sequencing)]
    );
    assert_eq!(task(&p, "S2").acceptance_commands, ["pytest -q"]);
    assert_eq!(exit_code(&p), 0, "{:?}", check(&p));
}

#[test]
fn kind09_no_tasks_hint_fits_a_planpipe_backlog() {
    let text = "# Execution backlog\n\nNothing here is a task yet: only notes.\n";
    let p =
        planexec_plan::parse_str("execution-backlog.md", text, Some(Dialect::Planpipe)).unwrap();
    let m = message(&p, "no-tasks");
    assert!(m.contains("ST-1") && m.contains("Done when:"), "{m}");
    assert!(!m.contains("T001"), "{m}");
    assert_eq!(exit_code(&p), 2);
}
