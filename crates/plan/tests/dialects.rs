//! Every dialect and variant, read from fixtures: ids, titles, dependencies with kinds,
//! acceptance criteria and commands, files, tolerances and the computed waves.

mod common;
use common::*;
use planexec_plan::{check, DepKind::*, Dialect, Severity};

#[test]
fn tid_memory_bank_plan() {
    let p = load("tid/memory-bank/plan/2026-11-20_auth.md");
    assert_eq!(p.dialect, Dialect::TId);
    assert_eq!(p.title, "Auth service – Implementation Plan");
    assert_eq!(p.front_matter["owner"], "dana");
    // the index table under `## Task Summary` and the fenced T999 are not tasks
    assert_eq!(ids(&p), ["T001", "T002", "T003", "T004"]);
    assert_eq!(
        p.milestones
            .iter()
            .map(|m| m.id.as_str())
            .collect::<Vec<_>>(),
        ["M1", "M2", "M3"]
    );
    let t1 = task(&p, "T001");
    assert_eq!(t1.title, "Express setup");
    assert_eq!(
        t1.summary,
        "Create the Express app skeleton with a health route."
    );
    assert!(t1.dependencies.is_empty());
    assert_eq!(t1.milestone.as_deref(), Some("M1"));
    assert_eq!(
        t1.acceptance_commands,
        ["python3 -m pytest -q tests/test_health.py"]
    );
    assert_eq!(t1.files, ["src/app.py", "tests/test_health.py"]);
    assert_eq!(
        t1.steps,
        ["Create `src/app.py`.", "Add the `/health` route."]
    );
    assert_eq!(t1.span.line, 32);
    assert_eq!(t1.field_spans["dependencies"].line, 35);
    let t2 = task(&p, "T002");
    assert_eq!(t2.title, "User model");
    assert_eq!(deps(t2), [("T001".to_string(), Blocking)]);
    assert_eq!(
        t2.acceptance,
        [
            "`pytest tests/test_user.py` passes",
            "The migration applies cleanly on an empty database"
        ]
    );
    assert_eq!(t2.acceptance_commands, ["pytest tests/test_user.py"]);
    // the label on a lazy continuation line still starts its own field
    assert_eq!(t2.files, ["src/models/user.py", "migrations/001_users.sql"]);
    assert!(
        !t2.body.contains("### T003"),
        "the task body stops at the next task"
    );
    let t3 = task(&p, "T003");
    assert_eq!(dep_ids(t3), ["T001", "T002"]);
    assert_eq!(t3.out_of_scope, ["password reset"]);
    let t4 = task(&p, "T004");
    assert_eq!(t4.milestone.as_deref(), Some("M2"));
    assert_eq!(
        t4.acceptance,
        [
            "a used refresh token is rejected",
            "`pytest tests/test_refresh.py` passes"
        ]
    );
    assert_eq!(t4.files, ["src/routes/refresh.py", "src/tokens.py"]);
    // `## Risks` after the last task is not swallowed
    assert!(!t4.body.contains("Token leakage"));
    assert_eq!(p.risks.len(), 2);
    assert_eq!(
        p.final_gates,
        [
            "pytest",
            "mypy src/",
            "black --check src/",
            "coverage report"
        ]
    );
    assert_eq!(
        p.success_criteria,
        ["All planned gates passed", "Login works end to end"]
    );
    assert_eq!(waves(&p), w(&[&["T001"], &["T002"], &["T003"], &["T004"]]));
    assert!(check(&p).is_empty(), "{:?}", check(&p));
    assert_eq!(p.refs_path(), "plan/2026-11-20_auth.md");
    assert_eq!(p.topic(), "auth");
    assert!(p.plan_root().ends_with("memory-bank/plan"));
}

#[test]
fn tid_crlf_unicode_dashes_and_ranges() {
    let p = load("tid/crlf_unicode.md");
    assert_eq!(p.dialect, Dialect::TId);
    assert_eq!(ids(&p), ["T010", "T011", "T012"]);
    assert_eq!(task(&p, "T010").title, "Ledger table");
    assert_eq!(task(&p, "T011").title, "Charges");
    assert!(
        task(&p, "T010").dependencies.is_empty(),
        "an em dash means none"
    );
    assert_eq!(
        dep_ids(task(&p, "T012")),
        ["T010", "T011"],
        "T010–T011 is a range"
    );
    assert_eq!(
        task(&p, "T012").acceptance_commands,
        ["go test ./refunds/..."]
    );
    assert_eq!(task(&p, "T012").span.line, 25);
    assert!(!task(&p, "T012").body.contains("Currency"));
    assert_eq!(waves(&p), w(&[&["T010"], &["T011"], &["T012"]]));
}

#[test]
fn tid_nested_under_milestones_with_group_dependency() {
    let p = load("tid/nested_milestones.md");
    assert_eq!(ids(&p), ["T1.1", "T1.2", "T2.1", "T046B"]);
    assert_eq!(task(&p, "T1.2").milestone.as_deref(), Some("M1"));
    assert_eq!(task(&p, "T2.1").milestone.as_deref(), Some("M2"));
    assert!(
        task(&p, "T1.1").dependencies.is_empty(),
        "None (foundation)"
    );
    // `M1 complete` expands to every task of M1
    assert_eq!(dep_ids(task(&p, "T2.1")), ["T1.1", "T1.2"]);
    assert_eq!(
        task(&p, "T046B").acceptance,
        ["the fuzz target runs for 60 s without a crash"]
    );
    assert_eq!(waves(&p), w(&[&["T1.1"], &["T1.2"], &["T2.1"], &["T046B"]]));
    assert!(
        !task(&p, "T046B").body.contains("wildcards"),
        "Open Questions is not part of the last task"
    );
}

#[test]
fn tid_task_numbers_without_t() {
    let p = load("tid/task_numbers.md");
    assert_eq!(p.dialect, Dialect::TId);
    assert_eq!(ids(&p), ["1", "2", "3"]);
    assert_eq!(task(&p, "1").title, "Schema migration");
    assert!(task(&p, "1").dependencies.is_empty(), "<none>");
    assert_eq!(dep_ids(task(&p, "2")), ["1"], "Task 1 (migration)");
    assert_eq!(dep_ids(task(&p, "3")), ["1", "2"]);
    assert_eq!(
        task(&p, "3").acceptance_commands,
        ["python -m jobs.cli export --dry-run"]
    );
    assert_eq!(task(&p, "2").files, ["jobs/export.py"]);
    assert_eq!(waves(&p), w(&[&["1"], &["2"], &["3"]]));
}

#[test]
fn tid_tasks_as_table_rows() {
    let p = load("tid/table_tasks.md");
    assert_eq!(ids(&p), ["A1", "A2", "A3"]);
    let a3 = task(&p, "A3");
    assert_eq!(a3.title, "Navigation");
    assert_eq!(a3.files, ["app/nav.ts"]);
    assert_eq!(a3.acceptance_commands, ["npm test -- nav"]);
    assert_eq!(a3.milestone.as_deref(), Some("M2"));
    assert_eq!(dep_ids(a3), ["A1", "A2"]);
    assert_eq!(a3.span.line, 14);
    assert_eq!(waves(&p), w(&[&["A1"], &["A2"], &["A3"]]));
}

#[test]
fn tid_plan_folder_with_tickets() {
    let p = load("tid/folder");
    assert_eq!(p.variant, "tickets");
    assert_eq!(p.title, "Billing export");
    assert_eq!(ids(&p), ["T001", "T002"]);
    let t1 = task(&p, "T001");
    assert_eq!(t1.files, ["billing/csv.py"]);
    assert_eq!(t1.acceptance_commands, ["pytest tests/test_csv.py"]);
    assert_eq!(t1.summary, "Write invoices as CSV.");
    assert!(t1.source.ends_with("tickets/T001.md"));
    let t2 = task(&p, "T002");
    assert_eq!(deps(t2), [("T001".to_string(), Blocking)]);
    assert!(t2.dependencies[0]
        .file
        .as_ref()
        .is_none_or(|f| f.ends_with("tickets/T002.md")));
    assert_eq!(t2.files, ["billing/upload.py"]);
    assert_eq!(p.final_gates, ["pytest -q"]);
    assert_eq!(waves(&p), w(&[&["T001"], &["T002"]]));
    assert_eq!(p.topic(), "folder");
}

#[test]
fn speckit_tasks() {
    let p = load("speckit/tasks.md");
    assert_eq!(p.dialect, Dialect::SpecKit);
    assert_eq!(
        ids(&p),
        ["T001", "T002", "T003", "T004", "T005", "T006", "T007", "T008"]
    );
    let t2 = task(&p, "T002");
    assert!(t2.parallel && t2.done, "[X] T002 [P]");
    assert!(task(&p, "T001").done && !task(&p, "T001").parallel);
    assert_eq!(t2.files, ["pyproject.toml"]);
    let t4 = task(&p, "T004");
    assert_eq!(t4.tags, ["US1"]);
    assert_eq!(t4.title, "Create Album model in src/models/album.py");
    assert_eq!(
        t4.acceptance_commands,
        ["pytest tests/test_albums.py"],
        "phase Independent Test"
    );
    assert!(
        t4.acceptance
            .contains(&"User Story 1 works on its own".to_string()),
        "{:?}",
        t4.acceptance
    );
    // wrapped onto the next line, several files
    let t6 = task(&p, "T006");
    assert_eq!(
        t6.files,
        [
            "src/services/album_service.py",
            "src/models/album.py",
            "src/models/photo.py"
        ]
    );
    assert_eq!(
        deps(t6),
        [
            ("T004".to_string(), Sequencing),
            ("T005".to_string(), Sequencing)
        ]
    );
    assert!(dep_ids(task(&p, "T007")).contains(&"T006"));
    assert!(p.task("T999").is_none(), "fenced example is not a task");
    assert_eq!(
        waves(&p),
        w(&[
            &["T001"],
            &["T002", "T003"],
            &["T004", "T005"],
            &["T006"],
            &["T007"],
            &["T008"]
        ])
    );
    // spec-kit tasks without criteria are warnings, not errors
    assert!(check(&p).iter().all(|d| d.severity == Severity::Warning));
}

#[test]
fn planpipe_backlog() {
    let p = load("planpipe/backlog");
    assert_eq!(p.dialect, Dialect::Planpipe);
    assert_eq!(p.variant, "backlog");
    assert_eq!(ids(&p), ["ST-1", "ST-2", "ST-3", "ST-4"]);
    let s1 = task(&p, "ST-1");
    assert_eq!(s1.title, "Tenant SSO config model");
    assert_eq!(s1.wave, Some(1));
    assert_eq!(
        s1.files,
        ["internal/tenant/model.go", "migrations/002_sso.up.sql"]
    );
    assert_eq!(s1.out_of_scope, ["the login flow", "the admin UI"]);
    assert_eq!(
        s1.acceptance,
        [
            "`go test ./internal/tenant/...` passes",
            "the migration applies and rolls back"
        ]
    );
    assert_eq!(s1.acceptance_commands, ["go test ./internal/tenant/..."]);
    assert!(
        s1.dependencies.is_empty(),
        "an em-dash row is no dependency"
    );
    assert_eq!(deps(task(&p, "ST-2")), [("ST-1".to_string(), Blocking)]);
    assert_eq!(
        deps(task(&p, "ST-3")),
        [("ST-1".to_string(), Soft), ("ST-2".to_string(), Shared)]
    );
    assert_eq!(deps(task(&p, "ST-4")), [("ST-2".to_string(), Sequencing)]);
    assert_eq!(task(&p, "ST-3").wave, Some(2));
    assert_eq!(waves(&p), w(&[&["ST-1", "ST-3"], &["ST-2"], &["ST-4"]]));
    assert!(check(&p).is_empty(), "{:?}", check(&p));
}

#[test]
fn planpipe_subtasks_folder_with_graph() {
    let p = load("planpipe/subtasks-folder");
    assert_eq!(p.variant, "subtasks");
    assert_eq!(
        ids(&p),
        ["ST-1", "ST-2", "ST-10"],
        "natural order, id from the file name"
    );
    assert_eq!(task(&p, "ST-10").title, "Apply to routes");
    assert_eq!(task(&p, "ST-1").files, ["src/config/limits.ts"]);
    assert!(task(&p, "ST-1").dependencies.is_empty());
    assert_eq!(deps(task(&p, "ST-2")), [("ST-1".to_string(), Blocking)]);
    assert_eq!(
        deps(task(&p, "ST-10")),
        [("ST-2".to_string(), Blocking), ("ST-1".to_string(), Soft)]
    );
    let g = &task(&p, "ST-10").dependencies[0];
    assert!(g.file.as_ref().unwrap().ends_with("dependency-graph.md"));
    assert_eq!(g.span.line, 4);
    assert_eq!(waves(&p), w(&[&["ST-1"], &["ST-2"], &["ST-10"]]));
}

#[test]
fn planpipe_subtasks_dir_itself() {
    let p = load("planpipe/subtasks-folder/subtasks");
    assert_eq!(ids(&p), ["ST-1", "ST-2", "ST-10"]);
    assert_eq!(
        deps(task(&p, "ST-10")),
        [("ST-2".to_string(), Blocking), ("ST-1".to_string(), Soft)]
    );
}

#[test]
fn planpipe_raw_list() {
    let p = load("planpipe/raw-list.md");
    assert_eq!(p.dialect, Dialect::Planpipe);
    assert_eq!(p.variant, "raw-list");
    assert_eq!(ids(&p), ["1", "2"]);
    let t1 = task(&p, "1");
    assert_eq!(t1.title, "Remove dead flags");
    assert_eq!(
        t1.summary,
        "Delete the `legacy_login` flag and its branches."
    );
    assert_eq!(
        t1.acceptance,
        [
            "no reference to `legacy_login` remains",
            "`make test` passes"
        ]
    );
    assert_eq!(t1.acceptance_commands, ["make test"]);
    assert_eq!(dep_ids(task(&p, "2")), ["1"]);
    assert!(!task(&p, "2").body.contains("Nothing here"));
    assert_eq!(waves(&p), w(&[&["1"], &["2"]]));
}

#[test]
fn execplan_living_document() {
    let p = load("execplan/.agent/execplans/rate-limit.md");
    assert_eq!(p.dialect, Dialect::ExecPlan);
    assert_eq!(p.status.as_deref(), Some("IN PROGRESS"));
    assert_eq!(p.title, "Add API rate limiting");
    assert_eq!(
        ids(&p),
        ["P1", "P2", "P3", "P4", "P5"],
        "the indented-block checkbox is not a task"
    );
    let t: Vec<(bool, Option<&str>, &str)> = p
        .tasks
        .iter()
        .map(|t| (t.done, t.stamp.as_deref(), t.title.as_str()))
        .collect();
    assert_eq!(
        t,
        [
            (true, Some("2026-03-11 00:00Z"), "Add the limiter module."),
            (
                true,
                Some("2026-04-03"),
                "Wire it into the router, including the admin routes that need higher limits."
            ),
            (false, Some("2026-04-05 09:30Z"), "Add the 429 error body."),
            (false, None, "Write integration tests."),
            (true, Some("2026-04-23"), "Document the headers."),
        ]
    );
    assert_eq!(p.tasks[0].line, 33);
    assert_eq!(deps(&p.tasks[1]), [("P1".to_string(), Sequencing)]);
    let tol = &p.tolerances;
    assert_eq!(
        (
            tol.max_files,
            tol.max_net_lines,
            tol.max_attempts,
            tol.max_minutes
        ),
        (Some(4), Some(250), Some(3), Some(120))
    );
    assert!(tol
        .max_files_source
        .as_deref()
        .unwrap()
        .contains("more than 4 files or 250 net lines"));
    assert_eq!(tol.other.len(), 1, "the interface tolerance has no number");
    assert_eq!(
        p.constraints,
        [
            "Do not modify `src/auth/`.",
            "Keep the public `Router` interface stable."
        ]
    );
    assert_eq!(p.final_gates, ["npm test", "npm run lint"]);
    assert!(
        p.risks.is_empty(),
        "risks written as an indented block are not list items"
    );
    assert_eq!(waves(&p).len(), 5);
    assert!(check(&p).is_empty(), "{:?}", check(&p));
}

#[test]
fn execplan_prose_record_is_reported_not_invented() {
    let p = load("execplan/prose-record.md");
    assert_eq!(p.dialect, Dialect::ExecPlan);
    assert!(p.tasks.is_empty());
    let d = check(&p);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].rule, "not-an-execplan");
    assert!(
        d[0].to_string()
            .contains("prose-record.md:1:1: error[not-an-execplan]"),
        "{}",
        d[0]
    );
}

#[test]
fn forced_dialect_wins() {
    let p = load_as("tid/crlf_unicode.md", Dialect::Planpipe);
    assert_eq!(p.dialect, Dialect::Planpipe);
    assert_eq!(ids(&p), ["T010", "T011", "T012"]);
    assert_eq!("spec-kit".parse::<Dialect>().unwrap(), Dialect::SpecKit);
    assert_eq!("execplan".parse::<Dialect>().unwrap().name(), "execplan");
    assert!("markdown".parse::<Dialect>().is_err());
}

#[test]
fn json_model_round_trips_through_serde() {
    let p = load("planpipe/backlog");
    let d = check(&p);
    let j: serde_json::Value =
        serde_json::from_str(&planexec_plan::render_check_json(&p, &d)).unwrap();
    assert_eq!(j["schema"], "planexec.check/1");
    assert_eq!(j["plan"]["dialect"], "planpipe");
    assert_eq!(j["plan"]["tasks"][2]["dependencies"][0]["kind"], "soft");
    assert_eq!(j["waves"][0][1], "ST-3");
    assert_eq!(j["summary"]["errors"], 0);
    let h = planexec_plan::render_check_human(&p, &d);
    assert!(h.contains("  wave 1: ST-1, ST-3\n"), "{h}");
    assert!(
        h.trim_end().ends_with(
            "4 tasks (0 done), 0 milestones, 3 waves, 0 final gates: 0 errors, 0 warnings"
        ),
        "{h}"
    );
}

#[test]
fn tid_drift_labels_ranges_forward_refs_and_fences() {
    let p = load("tid/drift.md");
    assert_eq!(p.dialect, Dialect::TId);
    // the indented block and the nested fences hold no tasks; `## References` is not swallowed
    assert_eq!(ids(&p), ["T1", "T2", "T3", "T4", "T7", "T11", "proj-7sk"]);
    let t1 = task(&p, "T1");
    assert_eq!(t1.title, "Queue 📨");
    assert!(t1.dependencies.is_empty(), "`-` means none");
    assert_eq!(t1.milestone.as_deref(), Some("M1"));
    assert_eq!(
        t1.acceptance,
        [
            "`pytest tests/test_queue.py` passes",
            "messages survive a restart"
        ]
    );
    assert_eq!(t1.files, ["notify/queue.py"]);
    // label with its value on the following lines; a sub-heading field
    assert_eq!(dep_ids(task(&p, "T2")), ["T1"]);
    assert_eq!(
        task(&p, "T2").acceptance_commands,
        ["pytest tests/test_email.py"]
    );
    assert_eq!(task(&p, "T2").files, ["notify/email.py"]);
    // forward reference, Done when
    assert_eq!(dep_ids(task(&p, "T3")), ["T7"]);
    assert_eq!(
        task(&p, "T3").acceptance_commands,
        ["pytest tests/test_push.py"]
    );
    // T1-T3 range, Completion Criteria
    assert_eq!(dep_ids(task(&p, "T4")), ["T1", "T2", "T3"]);
    assert_eq!(task(&p, "T4").acceptance, ["a daily digest is sent"]);
    assert!(task(&p, "T7").dependencies.is_empty(), "<none>");
    assert_eq!(dep_ids(task(&p, "T11")), ["proj-7sk"]);
    assert!(!task(&p, "T7").body.is_empty());
    assert_eq!(
        waves(&p),
        w(&[&["T1", "T7", "proj-7sk"], &["T2", "T3", "T11"], &["T4"]])
    );
    assert!(check(&p).is_empty(), "{:?}", check(&p));
}

#[test]
fn planpipe_wave_group_dependency() {
    let p = load("planpipe/groups.md");
    assert_eq!(ids(&p), ["ST-1", "ST-2", "ST-3"]);
    assert_eq!(
        deps(task(&p, "ST-3")),
        [
            ("ST-1".to_string(), Blocking),
            ("ST-2".to_string(), Blocking)
        ]
    );
    assert_eq!(task(&p, "ST-3").wave, Some(2));
    assert_eq!(task(&p, "ST-1").files, ["a.go"]);
    assert_eq!(waves(&p), w(&[&["ST-1", "ST-2"], &["ST-3"]]));
    assert!(check(&p).is_empty(), "{:?}", check(&p));
}

#[test]
fn execplan_milestone_sections_and_prose_tolerances() {
    let p = load("execplan/milestones.md");
    assert_eq!(p.dialect, Dialect::ExecPlan);
    assert_eq!(p.status.as_deref(), Some("APPROVED (2026-06-01)"));
    assert_eq!(
        p.milestones
            .iter()
            .map(|m| (m.id.as_str(), m.title.as_str()))
            .collect::<Vec<_>>(),
        [
            ("M1", "Read the new format"),
            ("M2", "Remove the old format")
        ]
    );
    let t = &p.tolerances;
    assert_eq!(
        (t.max_files, t.max_net_lines, t.max_attempts, t.max_minutes),
        (Some(6), Some(400), Some(3), Some(90))
    );
    assert_eq!(
        t.max_minutes_source.as_deref(),
        Some("Time: if a milestone takes more than 90 minutes, stop.")
    );
    assert_eq!(p.final_gates, ["pytest -q"]);
    // no Progress item names a milestone: the Progress items are the tasks and keep their
    // done state (issue 24; before, the milestones ran and P2's tick was lost)
    assert_eq!(ids(&p), ["P1", "P2"]);
    assert!(!p.tasks[0].done && p.tasks[1].done);
    let d = check(&p);
    let u = d
        .iter()
        .find(|d| d.rule == "progress-unlinked")
        .expect("unlinked");
    assert_eq!(u.line, 12);
    assert!(u.message.contains("M1, M2"), "{}", u.message);
}

#[test]
fn dialect_names_in_json_match_the_flag() {
    for d in Dialect::ALL {
        assert_eq!(serde_json::to_value(d).unwrap(), d.name());
        assert_eq!(d.name().parse::<Dialect>().unwrap(), d);
    }
}
