//! The task engine: pre-flight, rollback point, the task loop (implement ->
//! gates -> task review -> code review -> commit), rework, tolerances, final
//! gates, and resume from the atomically saved state.

mod outputs;
mod preflight;
mod state;
mod task;

pub use outputs::final_report;
pub use state::end_rolled_back; // engine-guards: rollback ends the run

use crate::config::Config;
use crate::report::{Event, Reporter, TaskHeader};
use crate::sandbox::{Sandbox, SandboxOptions};
use planexec_plan::{Dialect, Plan};
use planexec_record::*;
use planexec_vcs::Repo;
use state::{State, Store, STATE_VERSION};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub plan: PathBuf,
    pub dialect: Option<Dialect>,
    pub plugin_dirs: Vec<PathBuf>,
    pub implementer: Option<String>,
    pub grants: Vec<String>,
    /// Where policy may come from (user config, --policy, a trusted planexec.toml).
    pub sources: crate::trust::Sources,
    /// `--unconfined`: run plugins' programs without the box.
    pub unconfined: bool,
    pub resume: bool,
    /// `--report FORMAT=PATH`: written once at the end of the run.
    pub reports: Vec<crate::report::ReportSpec>,
    /// `--allow-detached`: run on a detached HEAD (engine-guards).
    pub allow_detached: bool,
}

/// Why a run did not start. Nothing in the repository was changed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{0}")]
    Preflight(String),
    #[error("{0}")]
    Plan(String),
    #[error("{0}")]
    InProgress(String),
    #[error("{0}")]
    Git(#[from] planexec_vcs::VcsError),
    #[error("{0}")]
    State(String),
}

/// How a run ended.
pub struct Finished {
    pub record: RunRecord,
    pub exit_code: i32,
}

/// Context shared by the loop's steps.
pub(crate) struct Ctx<'a> {
    pub repo: &'a Repo,
    pub workspace: &'a Path,
    pub plan: &'a Plan,
    pub config: &'a Config,
    pub kit: &'a preflight::Kit,
    pub store: &'a Store,
    pub reporter: &'a mut Reporter,
    pub state: State,
    /// Files planexec itself writes into the work tree (never part of a task).
    pub own_files: Vec<PathBuf>,
    pub tolerances: outputs::Limits,
}

impl Ctx<'_> {
    /// Saves the state, rewrites the living outputs, then (in tests) may die here.
    /// Used on task status changes, the transitions a reader of the log follows.
    pub fn persist(&mut self) {
        self.save_state();
        outputs::write_living(self);
        kill_point();
    }

    /// Saves the state only (a gate or review result inside a status); the log
    /// catches up at the next status change. Keeps long plans linear in practice.
    pub fn save(&mut self) {
        self.save_state();
        kill_point();
    }

    fn save_state(&mut self) {
        if let Err(e) = self.store.save(&self.state) {
            self.reporter.emit(Event::Message {
                level: crate::report::Level::Error,
                text: format!("cannot save the run state: {e}"),
            });
        }
    }

    pub fn emit(&mut self, ev: Event) {
        self.reporter.emit(ev);
    }

    pub fn task_mut(&mut self, id: &str) -> &mut TaskRecord {
        self.state
            .record
            .tasks
            .iter_mut()
            .find(|t| t.id == id)
            .expect("task in record")
    }
}

/// For the resume tests: `PLANEXEC_TEST_KILL_AT=N` sends SIGKILL to this process
/// at the N-th transition, exactly like `kill -9` from outside.
pub(crate) fn kill_point() {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let Some(at) = std::env::var("PLANEXEC_TEST_KILL_AT")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    else {
        return;
    };
    if COUNT.fetch_add(1, Ordering::SeqCst) + 1 == at {
        // SAFETY: raising a signal on ourselves.
        unsafe {
            libc::raise(libc::SIGKILL);
        }
    }
}

pub fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn rel(workspace: &Path, p: &Path) -> String {
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    };
    let abs = abs.canonicalize().unwrap_or(abs);
    let ws = workspace
        .canonicalize()
        .unwrap_or_else(|_| workspace.to_path_buf());
    abs.strip_prefix(&ws)
        .map(|r| r.to_string_lossy().replace('\\', "/"))
        .unwrap_or_else(|_| p.to_string_lossy().into_owned())
}

/// Runs (or resumes) a plan. `Err` means nothing ran and nothing changed.
pub fn run(opts: &RunOptions, reporter: &mut Reporter) -> Result<Finished, EngineError> {
    let cwd = std::env::current_dir()
        .map_err(|e| EngineError::Preflight(format!("cannot read the current directory: {e}")))?;
    // engine-guards: the repository is the plan's, not the current directory's.
    let repo = preflight::discover_repo(&cwd, &opts.plan)?;
    let workspace = repo.workdir().to_path_buf();

    let plan_abs = if opts.plan.is_absolute() {
        opts.plan.clone()
    } else {
        cwd.join(&opts.plan)
    };
    crate::input::check_links_inside(&plan_abs, &workspace)
        .map_err(|e| EngineError::Plan(e.to_string()))?;
    let plan = planexec_plan::load(&plan_abs, opts.dialect)
        .map_err(|e| EngineError::Plan(e.to_string()))?;
    let diags = planexec_plan::check(&plan);
    if planexec_plan::has_errors(&diags) {
        let errors: Vec<String> = diags
            .iter()
            .filter(|d| d.severity == planexec_plan::Severity::Error)
            .map(|d| d.to_string())
            .collect();
        return Err(EngineError::Plan(format!(
            "the plan does not pass `planexec check`:\n{}\n  fix the plan, then run again",
            errors.join("\n")
        )));
    }
    if plan.tasks.is_empty() {
        return Err(EngineError::Plan(format!(
            "{}: the plan has no tasks; nothing to run",
            plan.source.display()
        )));
    }
    let plan_key = rel(&workspace, &plan_abs);

    let assembled = Config::assemble(&workspace, &opts.sources)
        .map_err(|e| EngineError::Preflight(e.to_string()))?;
    let trust_warning = assembled.ignored_warning();
    let mut config = assembled.config;
    if opts.unconfined {
        config.policy.confinement = crate::confine::Confinement::Off;
    }
    let mut dirs = config.plugin_dirs.clone();
    dirs.extend(opts.plugin_dirs.iter().cloned());
    let registry =
        crate::packs::registry(&workspace, &config, &dirs).map_err(EngineError::Preflight)?;
    let caps = config
        .caps()
        .map_err(|e| EngineError::Preflight(e.to_string()))?;
    let sandbox = Sandbox::new(SandboxOptions {
        caps,
        ..Default::default()
    })
    .map_err(|e| EngineError::Preflight(e.to_string()))?;
    if let Some(w) = &trust_warning {
        reporter.emit(Event::Message {
            level: crate::report::Level::Warn,
            text: w.clone(),
        });
    }

    let store = Store::new(repo.git().path());
    // engine-guards: one lock per repository, held until this function returns.
    let mut lock = preflight::take_lock(&repo, &plan_key, opts.resume, reporter)?;
    let active = store.active(&plan_key).map_err(EngineError::State)?;
    if let Some(st) = &active {
        let _ = lock.set_run(&st.record.run_id); // engine-guards
    }
    match (&active, opts.resume) {
        (Some(st), false) => {
            return Err(EngineError::InProgress(format!(
                "run {} of {plan_key} is {} ; continue it with `planexec run {} --resume`, or discard it with `planexec rollback {}`",
                st.record.run_id,
                st.record.status.as_str(),
                opts.plan.display(),
                st.record.run_id
            )))
        }
        (None, true) => {
            return Err(EngineError::InProgress(format!(
                "no unfinished run of {plan_key} to resume; start one with `planexec run {}`",
                opts.plan.display()
            )))
        }
        _ => {}
    }

    // Pre-flight: nothing changes until all of this passed.
    // engine-guards: branch, HEAD, dirty (submodules too), detached HEAD, stale index.lock.
    let mut checks = preflight::repo_checks(&repo, opts.allow_detached).map_err(|e| {
        EngineError::Preflight(format!("pre-flight failed, nothing was changed:\n  {e}"))
    })?;
    checks.extend([
        Check {
            name: "config trust".into(),
            ok: true,
            detail: if assembled.repo_config.is_none() {
                "no planexec.toml".into()
            } else if assembled.repo_trusted {
                "planexec.toml trusted".into()
            } else {
                format!(
                    "planexec.toml not trusted; ignored: {}",
                    if assembled.ignored.is_empty() {
                        "nothing".into()
                    } else {
                        assembled.ignored.join(", ")
                    }
                )
            },
        },
        Check {
            name: "plan check".into(),
            ok: true,
            detail: format!(
                "{} tasks, {} warnings ({} dialect)",
                plan.tasks.len(),
                diags.len(),
                plan.dialect.name()
            ),
        },
    ]);
    let inputs = preflight::Inputs {
        config: &config,
        registry: &registry,
        sandbox: &sandbox,
        cli_grants: &opts.grants,
        implementer_override: opts.implementer.as_deref(),
        plan: &plan,
    };
    // engine-guards: plugin settings tables are checked before any plugin loads.
    let kit = match preflight::check_plugin_tables(&config, &registry, &mut checks)
        .and_then(|_| preflight::load_kit(&inputs, &mut checks))
    {
        Ok(k) => k,
        Err(e) => {
            for c in &checks {
                reporter.emit(Event::Preflight {
                    name: c.name.clone(),
                    ok: c.ok,
                    detail: c.detail.clone(),
                });
            }
            return Err(EngineError::Preflight(format!(
                "pre-flight failed, nothing was changed:\n  {e}"
            )));
        }
    };

    let state = match active {
        Some(mut st) => {
            st.record.status = RunStatus::Running;
            st.record.finished_at = None;
            preflight::note_resumed(&mut st.record.preflight.checks, now(), &checks); // engine-guards
            st
        }
        None => {
            let started = time::OffsetDateTime::now_utc();
            let run_id = format!(
                "{}-{}",
                started
                    .format(time::macros::format_description!(
                        "[year][month][day]T[hour][minute][second]Z"
                    ))
                    .unwrap(),
                plan.topic()
            );
            let branch = repo.branch()?;
            let head = repo.head()?.unwrap_or_default();
            let _ = lock.set_run(&run_id); // engine-guards
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
            let record = RunRecord {
                schema_version: SCHEMA_VERSION,
                run_id: run_id.clone(),
                plan: PlanInfo {
                    path: plan_key.clone(),
                    title: plan.title.clone(),
                    dialect: plan.dialect.name().to_string(),
                    topic: plan.topic(),
                    refs: plan.refs_path(),
                    success_criteria: plan.success_criteria.clone(),
                },
                status: RunStatus::Running,
                started_at: now(),
                finished_at: None,
                preflight: Preflight {
                    branch,
                    head,
                    dirty: rp.dirty,
                    rollback_commit: rp.rollback_commit.clone(),
                    start_commit: rp.start_commit.clone(),
                    checks: checks.clone(),
                },
                tasks: plan
                    .tasks
                    .iter()
                    .map(|t| TaskRecord {
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
                    })
                    .collect(),
                final_gates: vec![],
                issues: vec![],
                end_commit: None,
                log_path: Some(outputs::log_path(&workspace, &plan, &started)),
                env: outputs::env_facts(),
            };
            State {
                version: STATE_VERSION,
                record,
                task_base: Default::default(),
                plan_key: plan_key.clone(),
                waiting_task: None,
                cycle_base: Default::default(),
            }
        }
    };

    reporter.emit(Event::RunStarted {
        run_id: state.record.run_id.clone(),
        plan: plan_key.clone(),
        tasks: plan
            .tasks
            .iter()
            .map(|t| TaskHeader {
                id: t.id.clone(),
                title: t.title.clone(),
            })
            .collect(),
        resumed: opts.resume,
    });
    for c in &state.record.preflight.checks {
        reporter.emit(Event::Preflight {
            name: c.name.clone(),
            ok: c.ok,
            detail: c.detail.clone(),
        });
    }

    let own_files = outputs::own_files(&workspace, &plan, &state.record);
    preflight::remove_stray_temps(&own_files); // engine-guards
    let tolerances = outputs::Limits::new(&plan, &config);
    let mut ctx = Ctx {
        repo: &repo,
        workspace: &workspace,
        plan: &plan,
        config: &config,
        kit: &kit,
        store: &store,
        reporter,
        state,
        own_files,
        tolerances,
    };
    ctx.persist();

    let order: Vec<String> = match planexec_plan::waves(&plan) {
        Ok(w) => w.into_iter().flatten().collect(),
        Err(e) => return Err(EngineError::Plan(e.to_string())),
    };
    let mut stopped = None;
    for id in order {
        match task::run_task(&mut ctx, &id) {
            task::End::Done => {}
            task::End::Blocked => {
                stopped = Some(RunStatus::Blocked);
                break;
            }
            task::End::Waiting => {
                stopped = Some(RunStatus::Waiting);
                break;
            }
        }
    }
    let status = match stopped {
        Some(s) => s,
        None => outputs::run_final_gates(&mut ctx),
    };
    ctx.state.record.status = status;
    ctx.state.record.finished_at = Some(now());
    ctx.state.record.end_commit = ctx.repo.head().ok().flatten();
    ctx.persist();
    let record = ctx.state.record.clone();
    let mut exit_code = match status {
        RunStatus::Success | RunStatus::Waiting | RunStatus::Running => 0,
        RunStatus::Failure | RunStatus::Blocked => 1,
    };
    if !opts.reports.is_empty() {
        match crate::report::write_reports(
            &opts.reports,
            &record,
            &sandbox,
            &registry,
            &config,
            &cwd,
        ) {
            Ok(paths) => {
                for p in paths {
                    ctx.emit(Event::Message {
                        level: crate::report::Level::Info,
                        text: format!("wrote {}", p.display()),
                    });
                }
            }
            Err(e) => {
                ctx.emit(Event::Message {
                    level: crate::report::Level::Error,
                    text: e.to_string(),
                });
                if exit_code == 0 {
                    exit_code = crate::cli::exit::PLUGIN_ERRORED;
                }
            }
        }
    }
    ctx.emit(Event::RunFinished {
        run_id: record.run_id.clone(),
        status,
        log_path: record.log_path.clone(),
    });
    ctx.reporter.finish(&record);
    Ok(Finished { record, exit_code })
}
