//! Opening a run: the plan and its check, the saved run to resume and the
//! settings it was started with, the pre-flight checks, and a fresh run's state.

use super::state::{Settings, State, Store, STATE_VERSION};
use super::{now, outputs, rel, EngineError, RunOptions};
use crate::config::Assembled;
use crate::report::{Event, Level, Reporter};
use planexec_plan::{Diagnostic, Plan};
use planexec_record::*;
use planexec_vcs::Repo;
use std::path::Path;

/// The plan's path, absolute.
pub fn plan_abs(cwd: &Path, plan: &Path) -> std::path::PathBuf {
    if plan.is_absolute() {
        plan.to_path_buf()
    } else {
        cwd.join(plan)
    }
}

/// Loads the plan; a plan with errors or no tasks does not run.
pub fn load_plan(
    opts: &RunOptions,
    plan_abs: &Path,
    workspace: &Path,
) -> Result<(Plan, Vec<Diagnostic>), EngineError> {
    crate::input::check_links_inside(plan_abs, workspace)?;
    let plan = planexec_plan::load(plan_abs, opts.dialect)?;
    let diags = planexec_plan::check(&plan);
    if planexec_plan::has_errors(&diags) {
        let errors = diags
            .iter()
            .filter(|d| d.severity == planexec_plan::Severity::Error)
            .map(|d| d.to_string())
            .collect();
        return Err(EngineError::PlanCheck { errors });
    }
    if plan.tasks.is_empty() {
        return Err(EngineError::NoTasks {
            path: plan.source.clone(),
        });
    }
    Ok((plan, diags))
}

/// The plan's unfinished run: required by `--resume`, refused without it.
pub fn active_run(
    store: &Store,
    plan_key: &str,
    opts: &RunOptions,
) -> Result<Option<State>, EngineError> {
    let active = store.active(plan_key)?;
    match (&active, opts.resume) {
        (Some(st), false) => Err(EngineError::Unfinished {
            run_id: st.record.run_id.clone(),
            plan: plan_key.to_string(),
            status: st.record.status.as_str().to_string(),
            resume: resume_command(&opts.plan),
        }),
        (None, true) => Err(EngineError::NothingToResume {
            plan: plan_key.to_string(),
            given: opts.plan.display().to_string(),
        }),
        _ => Ok(active),
    }
}

/// The command that continues a run (its settings are saved with it).
pub fn resume_command(plan: &Path) -> String {
    format!("planexec run {} --resume", plan.display())
}

/// The settings of these options, to save with a new run.
pub fn settings_of(opts: &RunOptions) -> Settings {
    Settings {
        grants: opts.grants.clone(),
        implementer: opts.implementer.clone(),
        plugin_dirs: opts.plugin_dirs.clone(),
        reports: opts
            .reports
            .iter()
            .map(|r| format!("{}={}", r.format, r.path.display()))
            .collect(),
        unconfined: opts.unconfined,
        dialect: opts.dialect.map(|d| d.name().to_string()),
        allow_detached: opts.allow_detached,
        format: opts.format.clone(),
        jobs: opts.jobs,
    }
}

/// The settings saved with the plan's unfinished run, if it has one: what the
/// CLI reads before the run starts (the output format is chosen before the
/// engine runs). Read without the repository's lock: a hint, checked again by
/// [`super::run`].
pub fn saved_settings(cwd: &Path, plan: &Path) -> Option<Settings> {
    let repo = super::preflight::discover_repo(cwd, plan).ok()?;
    let plan_key = plan_key(repo.workdir(), &plan_abs(cwd, plan));
    let store = Store::new(repo.git().path());
    Some(store.active(&plan_key).ok()??.settings)
}

/// `--resume`: the saved settings, with what this command line adds or
/// overrides; says on the terminal what it reused.
pub fn with_saved(opts: &RunOptions, saved: &Settings, reporter: &mut Reporter) -> RunOptions {
    let mut o = opts.clone();
    let mut reused = Vec::new();
    for g in &saved.grants {
        if !o.grants.contains(g) {
            o.grants.push(g.clone());
            reused.push(format!("--grant {g}"));
        }
    }
    if let (None, Some(i)) = (&o.implementer, &saved.implementer) {
        o.implementer = Some(i.clone());
        reused.push(format!("--implementer {i}"));
    }
    for d in &saved.plugin_dirs {
        if !o.plugin_dirs.contains(d) {
            o.plugin_dirs.push(d.clone());
            reused.push(format!("--plugins {}", d.display()));
        }
    }
    if o.reports.is_empty() {
        o.reports = saved
            .reports
            .iter()
            .filter_map(|r| r.parse().ok())
            .collect();
        reused.extend(saved.reports.iter().map(|r| format!("--report {r}")));
    }
    if saved.unconfined && !o.unconfined {
        o.unconfined = true;
        reused.push("--unconfined".into());
    }
    if saved.allow_detached && !o.allow_detached {
        o.allow_detached = true;
        reused.push("--allow-detached".into());
    }
    if let (None, Some(d)) = (o.dialect, &saved.dialect) {
        o.dialect = d.parse().ok();
        reused.push(format!("--dialect {d}"));
    }
    if let (None, Some(f)) = (&o.format, &saved.format) {
        o.format = Some(f.clone());
        reused.push(format!("--format {f}"));
    }
    if let (None, Some(j)) = (o.jobs, saved.jobs) {
        o.jobs = Some(j);
        reused.push(format!("--jobs {j}"));
    }
    if !reused.is_empty() {
        reporter.emit(Event::Message {
            level: Level::Info,
            text: format!(
                "resuming with the settings the run was started with: {}",
                reused.join(" ")
            ),
        });
    }
    o
}

/// The checks that need no repository access: config trust and the plan check
/// (the repository's own are `preflight::repo_checks`).
pub fn base_checks(assembled: &Assembled, plan: &Plan, diags: &[Diagnostic]) -> Vec<Check> {
    let check = |name: &str, detail: String| Check {
        name: name.into(),
        ok: true,
        detail,
    };
    vec![
        check("config trust", trust_detail(assembled)),
        check(
            "plan check",
            format!(
                "{}, {} ({} dialect)",
                crate::text::count(plan.tasks.len(), "task"),
                crate::text::count(diags.len(), "warning"),
                plan.dialect.name()
            ),
        ),
    ]
}

fn trust_detail(a: &Assembled) -> String {
    if a.repo_config.is_none() {
        "no planexec.toml".into()
    } else if a.repo_trusted {
        "planexec.toml trusted".into()
    } else if a.ignored.is_empty() {
        "planexec.toml not trusted; ignored: nothing".into()
    } else {
        format!(
            "planexec.toml not trusted; ignored: {}",
            a.ignored.join(", ")
        )
    }
}

/// A resumed run: running again (its `resumed` check is `preflight::note_resumed`'s), and each
/// unfinished task's description re-read from the plan as it is now.
pub fn resumed(mut st: State, plan: &Plan) -> State {
    for t in st
        .record
        .tasks
        .iter_mut()
        .filter(|t| t.status != TaskStatus::Done)
    {
        if let Some(pt) = plan.tasks.iter().find(|p| p.id == t.id) {
            let fresh = task_record(pt);
            t.title = fresh.title;
            t.summary = fresh.summary;
            t.acceptance = fresh.acceptance;
            t.planned_files = fresh.planned_files;
            t.dependencies = fresh.dependencies;
        }
    }
    st.record.status = RunStatus::Running;
    st.record.finished_at = None;
    st.session_start = Some(std::time::Instant::now());
    st
}

/// A new run: the rollback point is made (the first change to the repository).
pub fn fresh(
    repo: &Repo,
    plan: &Plan,
    plan_key: &str,
    mut checks: Vec<Check>,
    settings: Settings,
) -> Result<State, EngineError> {
    let started = time::OffsetDateTime::now_utc();
    let stamp = started
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .unwrap_or_default();
    let run_id = format!("{stamp}-{}", plan.topic());
    let branch = repo.branch()?;
    let head = repo.head()?.unwrap_or_default();
    let rp = repo.rollback_point(&plan.topic(), &run_id)?;
    checks.push(Check {
        name: "rollback point".into(),
        ok: true,
        detail: match &rp.rollback_commit {
            Some(c) => format!("committed the dirty tree as {c}"),
            None => "tree clean; no rollback commit needed".into(),
        },
    });
    checks.push(Check {
        name: "start ref".into(),
        ok: true,
        detail: format!("refs/planexec/runs/{run_id}/start -> {}", rp.start_commit),
    });
    let preflight = Preflight {
        branch,
        head,
        dirty: rp.dirty,
        rollback_commit: rp.rollback_commit.clone(),
        start_commit: rp.start_commit.clone(),
        checks,
    };
    let log = outputs::log_path(repo.workdir(), plan, &started);
    let record = new_record(plan, plan_key, run_id, preflight, Some(log));
    let mut st = new_state(record, plan_key, settings);
    st.last_head = Some(rp.start_commit);
    Ok(st)
}

pub fn new_state(record: RunRecord, plan_key: &str, settings: Settings) -> State {
    State {
        version: STATE_VERSION,
        record,
        task_base: Default::default(),
        plan_key: plan_key.to_string(),
        waiting_task: None,
        cycle_base: Default::default(),
        settings,
        last_head: None,
        blocked_left: Default::default(),
        held: Default::default(),
        budget: Default::default(),
        worked_seconds: 0,
        session_start: Some(std::time::Instant::now()),
        escalated_task: None,
    }
}

pub fn new_record(
    plan: &Plan,
    plan_key: &str,
    run_id: String,
    preflight: Preflight,
    log_path: Option<String>,
) -> RunRecord {
    RunRecord {
        schema_version: SCHEMA_VERSION,
        run_id,
        plan: PlanInfo {
            path: plan_key.to_string(),
            title: plan.title.clone(),
            dialect: plan.dialect.name().to_string(),
            topic: plan.topic(),
            refs: plan.refs_path(),
            success_criteria: plan.success_criteria.clone(),
        },
        status: RunStatus::Running,
        started_at: now(),
        finished_at: None,
        preflight,
        tasks: plan.tasks.iter().map(task_record).collect(),
        final_gates: vec![],
        issues: vec![],
        end_commit: None,
        log_path,
        env: outputs::env_facts(),
        shard: None,
        timings: Vec::new(),
    }
}

fn task_record(t: &planexec_plan::Task) -> TaskRecord {
    TaskRecord {
        id: t.id.clone(),
        title: t.title.clone(),
        summary: t.summary.clone(),
        status: TaskStatus::Pending,
        wave: t.wave,
        milestone: t.milestone.clone(),
        dependencies: t.dependencies.iter().map(|d| d.id.clone()).collect(),
        acceptance: t.acceptance.clone(),
        planned_files: t.files.clone(),
        cycles: vec![],
        commit: None,
        blocked_reason: None,
        started_at: None,
        finished_at: None,
    }
}

/// The workspace-relative plan path: the key of the plan's active run.
pub fn plan_key(workspace: &Path, plan_abs: &Path) -> String {
    rel(workspace, plan_abs)
}
