//! `planexec run PLAN` and `planexec rollback RUN-ID`: drive the engine and
//! print the final report; errors before the run become exit 2.

use super::{exit, report_error, Format, PluginArgs};
use crate::engine::{self, RunOptions};
use crate::report::{self, Reporter};
use std::path::PathBuf;

pub struct RunArgs {
    pub plan: PathBuf,
    pub dialect: Option<String>,
    pub plugin_args: PluginArgs,
    pub implementer: Option<String>,
    pub resume: bool,
    pub allow_detached: bool,
    pub jobs: Option<usize>,
    /// `--format`, when given.
    pub format: Option<Format>,
    pub reports: Vec<crate::report::ReportSpec>,
    /// `--budget`, with `--resume`.
    pub budget: Option<engine::BudgetRaise>,
    /// `--accept`, `--retry` or `--skip` (clap allows one), with `--resume`.
    pub handback: Option<engine::Handback>,
}

/// The hand-back flags as one choice (clap lets at most one through).
pub fn handback(
    accept: Option<String>,
    retry: Option<String>,
    skip: Option<String>,
    reason: Option<String>,
) -> Option<engine::Handback> {
    use engine::Handback;
    accept
        .map(Handback::Accept)
        .or(retry.map(Handback::Retry))
        .or(skip.map(|id| Handback::Skip {
            id,
            reason: reason.unwrap_or_default(),
        }))
}

pub fn run(a: RunArgs) -> i32 {
    let dialect = match a
        .dialect
        .as_deref()
        .map(str::parse::<planexec_plan::Dialect>)
        .transpose()
    {
        Ok(d) => d,
        Err(e) => {
            report_error(&e);
            return exit::USAGE;
        }
    };
    if a.plugin_args.unconfined {
        super::warn_unconfined();
    }
    let format = output_format(&a);
    let opts = RunOptions {
        plan: a.plan.clone(),
        dialect,
        plugin_dirs: a.plugin_args.plugins.clone(),
        implementer: a.implementer.clone(),
        grants: a.plugin_args.grant.clone(),
        sources: a.plugin_args.sources(),
        unconfined: a.plugin_args.unconfined,
        resume: a.resume,
        reports: a.reports.clone(),
        allow_detached: a.allow_detached,
        jobs: a.jobs,
        format: a.format.map(|f| format_name(f).to_string()),
        budget: a.budget.clone(),
        handback: a.handback.clone(),
    };
    if let Err(e) = crate::interrupt::install() {
        eprintln!("warning: cannot handle Ctrl-C gracefully: {e}");
    }
    let mut reporter = Reporter::new(report::default_sinks(format == Format::Json));
    match engine::run(&opts, &mut reporter) {
        Ok(f) => {
            if format == Format::Human {
                print!(
                    "{}",
                    crate::text::untrusted(&engine::final_report(&f.record, &a.plan))
                );
            } else {
                eprint!(
                    "{}",
                    crate::text::untrusted(&engine::final_report(&f.record, &a.plan))
                );
            }
            exit_code(&f)
        }
        Err(e) => {
            report_error(&e);
            // Every EngineError means the run did not start and nothing changed.
            exit::USAGE
        }
    }
}

/// The output format: `--format` when given, else (on `--resume`) the one the
/// run was started with, else human. Chosen before the engine runs, since
/// the reporter prints from the first event on.
fn output_format(a: &RunArgs) -> Format {
    if let Some(f) = a.format {
        return f;
    }
    if !a.resume {
        return Format::default();
    }
    let saved = std::env::current_dir()
        .ok()
        .and_then(|cwd| engine::saved_settings(&cwd, &a.plan))
        .and_then(|s| s.format);
    match saved.as_deref() {
        Some("json") => Format::Json,
        _ => Format::Human,
    }
}

fn format_name(f: Format) -> &'static str {
    match f {
        Format::Human => "human",
        Format::Json => "json",
    }
}

/// The exit code of a run that ran: 0 success or waiting, 1 blocked or a final
/// gate failed, 3 when the run succeeded but a report could not be written,
/// 130 / 143 when SIGINT / SIGTERM stopped it.
pub fn exit_code(f: &engine::Finished) -> i32 {
    use planexec_record::RunStatus;
    match f.interrupted {
        Some(libc::SIGINT) => return exit::INTERRUPTED,
        Some(_) => return exit::TERMINATED,
        None => {}
    }
    let code = match f.record.status {
        RunStatus::Success | RunStatus::Waiting | RunStatus::Running => exit::OK,
        // A spent run budget is a tolerance breach: the same exit code as a blocked task.
        RunStatus::Failure | RunStatus::Blocked | RunStatus::Escalated => exit::FAILED,
    };
    if code == exit::OK && f.reports_failed {
        exit::PLUGIN_ERRORED
    } else {
        code
    }
}

pub fn rollback(run_id: &str, yes: bool) -> i32 {
    let cwd = match super::current_dir() {
        Ok(d) => d,
        Err(c) => return c,
    };
    let repo = match planexec_vcs::Repo::discover(&cwd) {
        Ok(r) => r,
        Err(e) => {
            report_error(&e);
            return exit::USAGE;
        }
    };
    // A live run (or another rollback) holds the repository: never reset under it.
    let _lock = match crate::lock::RepoLock::acquire(
        repo.git().path(),
        crate::lock::Holder {
            pid: std::process::id(),
            run_id: run_id.to_string(),
            plan: String::new(),
            action: "rollback".into(),
            since: engine::now(),
        },
    ) {
        Ok(l) => l,
        Err(e) => {
            report_error(&e);
            return exit::USAGE;
        }
    };
    match repo.rollback(run_id, yes) {
        Ok(plan) => print_rollback(&repo, run_id, yes, &plan),
        Err(e) => {
            report_error(&e);
            exit::USAGE
        }
    }
}

/// What the rollback discarded (or would), where it kept it, how to get it back.
fn print_rollback(
    repo: &planexec_vcs::Repo,
    run_id: &str,
    yes: bool,
    plan: &planexec_vcs::RollbackPlan,
) -> i32 {
    if plan.is_noop() {
        if yes && yes_ends_run(repo, run_id, plan, "nothing needed discarding") {
            println!("run {run_id} is ended; `planexec run` starts a new one");
        }
        println!(
            "nothing to roll back: HEAD is the start commit of {run_id} and the tree is clean"
        );
        return exit::OK;
    }
    let verb = if plan.applied {
        "discarded"
    } else {
        "would discard"
    };
    println!(
        "rollback of run {run_id} to its start commit {}:",
        plan.start_commit
    );
    for c in &plan.commits {
        println!(
            "  {verb} commit {} {}",
            &c.id[..c.id.len().min(10)],
            c.summary
        );
    }
    for u in &plan.uncommitted {
        println!("  {verb} uncommitted change to {}", u.path);
    }
    for u in &plan.untracked_kept {
        println!("  keeps untracked file {u}");
    }
    if !plan.applied {
        println!("nothing was changed; run `planexec rollback {run_id} --yes` to do it");
        return exit::FAILED;
    }
    if let Some(b) = &plan.backup_ref {
        println!("the old HEAD is kept under {b}");
    }
    if let Some(d) = &plan.discarded_ref {
        println!("the discarded work tree is kept under {d}");
    }
    let restore = plan.restore_commands();
    if !restore.is_empty() {
        println!("to undo this rollback, run:");
        for c in &restore {
            println!("  {c}");
        }
    }
    let saved = if restore.is_empty() {
        "nothing needed keeping".to_string()
    } else {
        format!("undo with: {}", restore.join(" && "))
    };
    if yes_ends_run(repo, run_id, plan, &saved) {
        println!("run {run_id} is ended; `planexec run` starts a new one");
    }
    exit::OK
}

/// With the rollback applied (or nothing to do), the run is over.
fn yes_ends_run(
    repo: &planexec_vcs::Repo,
    run_id: &str,
    plan: &planexec_vcs::RollbackPlan,
    saved: &str,
) -> bool {
    if !plan.applied && !plan.is_noop() {
        return false;
    }
    match engine::end_rolled_back(repo.git().path(), run_id, saved) {
        Ok(ended) => ended,
        Err(e) => {
            eprintln!(
                "warning: {}",
                crate::text::untrusted(&format!("could not mark run {run_id} as ended: {e}"))
            );
            false
        }
    }
}
