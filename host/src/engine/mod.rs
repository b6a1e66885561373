//! The task engine: pre-flight, rollback point, the task loop (implement ->
//! gates -> task review -> code review -> commit, see machine.rs), rework,
//! tolerances, final gates, and resume from the saved state.

mod blocked;
mod budget;
mod claims;
mod error;
mod handback;
mod implementer;
mod journal;
mod machine;
mod outputs;
mod ports;
mod preflight;
mod redgreen;
mod schedule;
mod setup;
mod state;
mod task;
#[cfg(test)]
mod tests;
mod wave;

pub use budget::Raised as BudgetRaise;
pub use error::EngineError;
pub use handback::Handback;
pub use outputs::final_report;
pub use ports::{Driver, ImplementInput, Plugins};
pub use setup::saved_settings;
pub use state::end_rolled_back; // engine-guards: rollback ends the run
pub use state::Settings;

use crate::config::Config;
use crate::report::{Event, Reporter, TaskHeader};
use planexec_plan::{Dialect, Plan};
use planexec_record::*;
use planexec_vcs::Repo;
use state::{State, Store};
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
    /// `--jobs N`: independent tasks of a wave running at once, each in its
    /// own worktree (None: the number of cores; 1: one after another).
    pub jobs: Option<usize>,
    /// `--format` as given on the command line (`human`, `json`), saved with the run.
    pub format: Option<String>,
    /// `--resume --budget ...`: run budgets raised deliberately, saved with the run.
    pub budget: Option<budget::Raised>,
    /// `--resume` with `--accept`, `--retry` or `--skip`: a blocked task handed back.
    pub handback: Option<Handback>,
}

/// How a run ended (it ran: `Err(EngineError)` means it did not start).
pub struct Finished {
    pub record: RunRecord,
    /// A `--report` could not be written (the run itself is in `record`).
    pub reports_failed: bool,
    /// The run stopped on this signal (SIGINT, SIGTERM); its state is saved.
    pub interrupted: Option<i32>,
}

/// Context shared by the loop's steps.
pub(crate) struct Ctx<'a> {
    pub repo: &'a Repo,
    /// Where the task works: the main checkout, or a parallel task's worktree.
    pub workspace: &'a Path,
    /// The main checkout (the plan's paths are relative to it).
    pub home: &'a Path,
    pub plan: &'a Plan,
    pub config: &'a Config,
    pub plugins: &'a dyn ports::Plugins,
    /// None for a task in its own worktree: its state is the main loop's to save.
    pub store: Option<&'a Store>,
    pub reporter: &'a mut Reporter,
    pub state: State,
    /// Files planexec itself writes into the work tree (never part of a task).
    pub own_files: Vec<PathBuf>,
    pub tolerances: outputs::Limits,
    /// Tasks changed since the last save: what the journal gets.
    pub changed: std::collections::BTreeSet<String>,
    /// The signal that asks the run to stop, if one came (interrupt::pending).
    pub stop: &'a (dyn Fn() -> Option<i32> + Sync),
    /// When the living outputs are next rewritten.
    pub pace: outputs::Pace,
    /// Tasks of a wave that may run at once (wave.rs); 1 = one after another.
    pub jobs: usize,
    /// The run-wide budgets in force (budget.rs).
    pub budget: budget::Budget,
    /// The task handed back with `--accept`: its next cycle judges the work tree as is.
    pub accepting: Option<String>,
}

impl Ctx<'_> {
    /// Saves the state, rewrites the living outputs when due, then (in tests)
    /// may die here. Used on task status changes, the transitions a reader of
    /// the log follows.
    pub fn persist(&mut self) {
        self.save_state();
        if self.pace.due() {
            self.render_now();
        }
        kill_point();
    }

    /// Rewrites the living outputs (the execution log, planpipe status) now.
    pub fn render_now(&mut self) {
        if self.in_worktree() {
            return;
        }
        let t = std::time::Instant::now();
        outputs::write_living(self);
        self.pace.rendered(t.elapsed());
    }

    /// Saves the state only (a gate or review result inside a status); the log
    /// catches up at the next status change. Keeps long plans linear in practice.
    pub fn save(&mut self) {
        self.save_state();
        kill_point();
    }

    /// A parallel task in its own worktree (wave.rs): nothing is saved or rendered.
    pub fn in_worktree(&self) -> bool {
        self.store.is_none()
    }

    fn save_state(&mut self) {
        let changed = std::mem::take(&mut self.changed);
        let Some(store) = self.store else {
            return;
        };
        if let Err(e) = store.save(&mut self.state, changed) {
            self.reporter.emit(Event::Message {
                level: crate::report::Level::Error,
                text: format!("cannot save the run state: {e}"),
            });
        }
    }

    /// What is never a task's change: planexec's own files, and the person's changes
    /// held at a hand-back (handback.rs) while they are as they were then.
    pub fn not_tasks(&self) -> Vec<PathBuf> {
        let mut v = self.own_files.clone();
        if self.in_worktree() {
            return v;
        }
        let same = |p: &str, blob: &str| self.repo.work_blob(p).unwrap_or_default() == blob;
        v.extend(
            self.state
                .held
                .iter()
                .filter(|(p, b)| same(p.as_str(), b.as_str()))
                .map(|(p, _)| self.workspace.join(p)),
        );
        v
    }

    pub fn emit(&mut self, ev: Event) {
        self.reporter.emit(ev);
    }

    pub fn task_mut(&mut self, id: &str) -> &mut TaskRecord {
        if !self.changed.contains(id) {
            self.changed.insert(id.to_string());
        }
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

/// The record of run `run_id` as saved in the repository whose git folder is `git_dir`.
pub fn saved_record(git_dir: &Path, run_id: &str) -> Result<RunRecord, String> {
    state::Store::new(git_dir)
        .load(run_id)
        .map(|st| st.record)
        .map_err(|e| format!("run `{run_id}`: {e}"))
}

/// Every run saved in this repository (`<git dir>/planexec/runs/`), by run id, each
/// with its record or why it cannot be read; sorted by id.
pub fn saved_records(git_dir: &Path) -> Vec<(String, Result<RunRecord, String>)> {
    let Ok(rd) = std::fs::read_dir(git_dir.join("planexec/runs")) else {
        return Vec::new();
    };
    let mut ids: Vec<String> = rd
        .flatten()
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.strip_suffix(".json").map(String::from)
        })
        .collect();
    ids.sort();
    ids.into_iter()
        .map(|id| {
            let r = saved_record(git_dir, &id);
            (id, r)
        })
        .collect()
}

/// The current UTC time in whole seconds (RFC 3339).
pub fn now() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc())
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
    run_driven(opts, reporter, None)
}

/// [`run`], with each cycle's work done by `driver` instead of the implementer plugin
/// when one is given (`planexec mcp`); the state, journal, lock and log are the same.
pub fn run_driven(
    opts: &RunOptions,
    reporter: &mut Reporter,
    driver: Option<&dyn Driver>,
) -> Result<Finished, EngineError> {
    let cwd = std::env::current_dir().map_err(EngineError::Cwd)?;
    // engine-guards: the repository is the plan's, not the current directory's.
    let repo = preflight::discover_repo(&cwd, &opts.plan)?;
    let workspace = repo.workdir().to_path_buf();
    let plan_abs = setup::plan_abs(&cwd, &opts.plan);
    let plan_key = setup::plan_key(&workspace, &plan_abs);
    let store = Store::new(repo.git().path());
    // engine-guards: one lock per repository, held until this function returns.
    let mut lock = preflight::take_lock(&repo, &plan_key, opts.resume, reporter)?;
    let active = setup::active_run(&store, &plan_key, opts)?;
    if let (Some(h), Some(st)) = (&opts.handback, &active) {
        handback::check(h, &st.record)?;
    }
    if let Some(st) = &active {
        let _ = lock.set_run(&st.record.run_id);
    }
    let opts = &match &active {
        Some(st) => setup::with_saved(opts, &st.settings, reporter),
        None => opts.clone(),
    };
    let (plan, diags) = setup::load_plan(opts, &plan_abs, &workspace)?;
    let waves = planexec_plan::waves(&plan)?;

    let (assembled, config, registry, sandbox) = open_plugins(opts, &workspace, reporter)?;

    // Pre-flight: nothing changes until all of this passed.
    // engine-guards: branch, HEAD, dirty (submodules too), detached HEAD, stale index.lock.
    let mut checks = preflight::repo_checks(&repo, opts.allow_detached)
        .map_err(|reason| EngineError::Preflight { reason })?;
    checks.extend(setup::base_checks(&assembled, &plan, &diags));
    let inputs = preflight::Inputs {
        config: &config,
        registry: &registry,
        sandbox: &sandbox,
        cli_grants: &opts.grants,
        implementer_override: opts.implementer.as_deref(),
        plan: &plan,
    };
    // engine-guards: plugin settings tables are checked before any plugin loads.
    if let Err(reason) = preflight::check_plugin_tables(&config, &registry, &mut checks) {
        emit_checks(reporter, &checks);
        return Err(EngineError::Preflight { reason });
    }
    let kit = load_kit(&inputs, &mut checks, reporter)?;
    let state = match active {
        Some(st) => {
            let mut st = setup::resumed(st, &plan);
            preflight::note_resumed(&mut st.record.preflight.checks, now(), &checks); // engine-guards
            st
        }
        None => setup::fresh(&repo, &plan, &plan_key, checks, setup::settings_of(opts))?,
    };
    let mut state = state;
    budget::raise(&mut state, opts.budget.as_ref(), reporter);
    let run_budget = budget::Budget::new(&plan, &config, &state.budget);
    let _ = lock.set_run(&state.record.run_id); // engine-guards
    announce(reporter, &state, &plan, opts.resume);
    let driven = driver.map(|by| ports::Driven { kit: &kit, by });
    let plugins: &dyn ports::Plugins = match &driven {
        Some(d) => d,
        None => &kit,
    };

    let mut ctx = Ctx {
        repo: &repo,
        workspace: &workspace,
        home: &workspace,
        own_files: outputs::own_files(&workspace, &plan, &state.record),
        tolerances: outputs::Limits::new(&plan, &config),
        plan: &plan,
        config: &config,
        plugins,
        store: Some(&store),
        reporter,
        state,
        changed: Default::default(),
        stop: &crate::interrupt::pending,
        pace: Default::default(),
        // One after another unless asked: a task's worktree holds only committed files
        // (no `.venv`, no `node_modules`), and a task that blocks there is redone on the
        // branch, so running at once is a choice the user makes (docs/architecture.md).
        jobs: opts.jobs.unwrap_or(1),
        budget: run_budget,
        accepting: None,
    };
    preflight::remove_stray_temps(&ctx.own_files); // engine-guards
    wave::remove_left_worktrees(&mut ctx);
    ctx.persist();
    let handed = match &opts.handback {
        Some(h) => handback::apply(&mut ctx, h),
        None => Ok(()),
    };
    let (status, interrupted) = match handed {
        Ok(()) => drive(&mut ctx, &waves),
        Err(reason) => {
            ctx.emit(Event::Message {
                level: crate::report::Level::Error,
                text: reason,
            });
            (RunStatus::Blocked, None)
        }
    };
    let record = close(&mut ctx, status, interrupted);
    let reports_failed =
        interrupted.is_none() && write_reports(&mut ctx, opts, &record, &sandbox, &registry, &cwd);
    ctx.emit(Event::RunFinished {
        run_id: record.run_id.clone(),
        status,
        log_path: record.log_path.clone(),
    });
    ctx.reporter.finish(&record);
    Ok(Finished {
        record,
        reports_failed,
        interrupted,
    })
}

/// The assembled config (with `--unconfined`), the plugins it can see, and the sandbox.
fn open_plugins(
    opts: &RunOptions,
    workspace: &Path,
    reporter: &mut Reporter,
) -> Result<
    (
        crate::config::Assembled,
        Config,
        crate::plugins::Registry,
        crate::sandbox::Sandbox,
    ),
    EngineError,
> {
    let assembled = Config::assemble(workspace, &opts.sources)?;
    let mut config = assembled.config.clone();
    if opts.unconfined {
        config.policy.confinement = crate::confine::Confinement::Off;
    }
    let mut dirs = config.plugin_dirs.clone();
    dirs.extend(opts.plugin_dirs.iter().cloned());
    let registry = crate::packs::registry(workspace, &config, &dirs)
        .map_err(|reason| EngineError::Preflight { reason })?;
    let sandbox = crate::sandbox::Sandbox::new(crate::sandbox::SandboxOptions {
        caps: config.caps()?,
        ..Default::default()
    })?;
    if let Some(w) = assembled.ignored_warning() {
        reporter.emit(Event::Message {
            level: crate::report::Level::Warn,
            text: w,
        });
    }
    Ok((assembled, config, registry, sandbox))
}

/// Every plugin of the run, loaded; on failure the checks so far are shown.
fn load_kit(
    inputs: &preflight::Inputs,
    checks: &mut Vec<Check>,
    reporter: &mut Reporter,
) -> Result<preflight::Kit, EngineError> {
    preflight::load_kit(inputs, checks).map_err(|reason| {
        emit_checks(reporter, checks);
        EngineError::Preflight { reason }
    })
}

fn emit_checks(reporter: &mut Reporter, checks: &[Check]) {
    for c in checks {
        reporter.emit(Event::Preflight {
            name: c.name.clone(),
            ok: c.ok,
            detail: c.detail.clone(),
        });
    }
}

fn announce(reporter: &mut Reporter, state: &State, plan: &Plan, resumed: bool) {
    reporter.emit(Event::RunStarted {
        run_id: state.record.run_id.clone(),
        plan: state.plan_key.clone(),
        tasks: plan
            .tasks
            .iter()
            .map(|t| TaskHeader {
                id: t.id.clone(),
                title: t.title.clone(),
            })
            .collect(),
        resumed,
    });
    emit_checks(reporter, &state.record.preflight.checks);
}

/// The task loop, wave by wave (independent tasks of a wave at once, see
/// wave.rs); stops at the first block, wait or signal, else the final gates.
pub(crate) fn drive(ctx: &mut Ctx, waves: &[Vec<String>]) -> (RunStatus, Option<i32>) {
    for w in waves {
        match wave::run_wave(ctx, w) {
            task::End::Done => {}
            task::End::Blocked => return (RunStatus::Blocked, None),
            task::End::Waiting => return (RunStatus::Waiting, None),
            task::End::Escalated => return (RunStatus::Escalated, None),
            task::End::Interrupted(sig) => return (RunStatus::Running, Some(sig)),
        }
    }
    if let Some(id) = waiting_on_skipped(ctx) {
        ctx.emit(Event::Message {
            level: crate::report::Level::Warn,
            text: format!(
                "the run waits: {id} depends on a skipped task; the final gates did not run"
            ),
        });
        return (RunStatus::Waiting, None);
    }
    match outputs::run_final_gates(ctx) {
        Ok(status) => (status, None),
        Err(sig) => (RunStatus::Running, Some(sig)),
    }
}

/// The first task not run because a task it depends on was skipped.
fn waiting_on_skipped(ctx: &Ctx) -> Option<String> {
    let rec = &ctx.state.record;
    rec.tasks
        .iter()
        .filter(|t| !matches!(t.status, TaskStatus::Done | TaskStatus::Skipped))
        .find(|t| handback::waits_for(rec, &t.id).is_some())
        .map(|t| t.id.clone())
}

/// Records how the run ended and saves it whole (an interrupted run stays
/// unfinished: `--resume` continues it).
fn close(ctx: &mut Ctx, status: RunStatus, interrupted: Option<i32>) -> RunRecord {
    ctx.state.record.status = status;
    ctx.state.bank_session_time();
    if interrupted.is_none() {
        ctx.state.record.finished_at = Some(now());
    }
    ctx.state.record.end_commit = ctx.repo.head().ok().flatten();
    if interrupted.is_none() {
        set_plan_status(ctx, status);
    }
    // The log first: a crash after the final save must not leave it stale.
    ctx.render_now();
    ctx.persist();
    if let Err(e) = ctx.store.map_or(Ok(()), |s| s.flush(&ctx.state)) {
        ctx.emit(Event::Message {
            level: crate::report::Level::Error,
            text: format!("cannot save the run state: {e}"),
        });
    }
    if let Some(sig) = interrupted {
        ctx.emit(Event::Message {
            level: crate::report::Level::Warn,
            text: format!(
                "interrupted by {}: the running command was stopped and the state saved",
                crate::interrupt::name(sig)
            ),
        });
    }
    ctx.state.record.clone()
}

/// An ExecPlan's `Status:` line is set to how the run left it, as Progress is ticked:
/// COMPLETE when every task is done, BLOCKED when the run stopped blocked, else
/// IN PROGRESS once some task is done.
fn set_plan_status(ctx: &mut Ctx, status: RunStatus) {
    let (Some(old), planexec_plan::Dialect::ExecPlan) = (&ctx.plan.status, ctx.plan.dialect) else {
        return;
    };
    if ctx.in_worktree() {
        return;
    }
    let done = |t: &planexec_plan::Task| {
        t.done
            || ctx
                .state
                .record
                .tasks
                .iter()
                .any(|r| r.id == t.id && r.status == planexec_record::TaskStatus::Done)
    };
    let all = ctx.plan.tasks.iter().all(done);
    let new = match status {
        RunStatus::Blocked => "BLOCKED",
        _ if all => "COMPLETE",
        _ if ctx.plan.tasks.iter().any(done) => "IN PROGRESS",
        _ => return,
    };
    let Some(source) = ctx.plan.tasks.first().map(|t| t.source.clone()) else {
        return;
    };
    if let Err(e) = planexec_plan::set_status(&source, old, new) {
        ctx.emit(Event::Message {
            level: crate::report::Level::Warn,
            text: format!("could not set the plan's Status line to {new}: {e}"),
        });
    }
}

/// `--report`s, written once at the end; true when one could not be written.
fn write_reports(
    ctx: &mut Ctx,
    opts: &RunOptions,
    record: &RunRecord,
    sandbox: &crate::sandbox::Sandbox,
    registry: &crate::plugins::Registry,
    cwd: &Path,
) -> bool {
    if opts.reports.is_empty() {
        return false;
    }
    match crate::report::write_reports(&opts.reports, record, sandbox, registry, ctx.config, cwd) {
        Ok(paths) => {
            for p in paths {
                ctx.emit(Event::Message {
                    level: crate::report::Level::Info,
                    text: format!("wrote {}", p.display()),
                });
            }
            false
        }
        Err(e) => {
            ctx.emit(Event::Message {
                level: crate::report::Level::Error,
                text: e.to_string(),
            });
            true
        }
    }
}
