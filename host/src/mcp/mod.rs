//! `planexec mcp PLAN`: the plan's run driven by an agent over the Model Context
//! Protocol (stdio, rmcp); the engine runs as in `run`, the agent doing each cycle.

mod clients;
mod desk;
mod tools;
mod types;

pub use clients::{program, snippet, Client};

use crate::engine::{self, RunOptions};
use crate::report::{PlainSink, Reporter};
use planexec_record::RunRecord;
use rmcp::ServiceExt;
use std::path::PathBuf;

/// Why the server could not start (the run itself reports through the tools).
#[derive(Debug, thiserror::Error)]
pub enum McpError {
    #[error("cannot read the current directory: {0}")]
    Cwd(std::io::Error),
    #[error("{0}")]
    Repo(#[from] planexec_vcs::VcsError),
    #[error("cannot start the MCP server: {0}")]
    Runtime(std::io::Error),
    #[error("the MCP session failed: {0}")]
    Session(String),
}

/// Serves the plan's run over stdio until the client hangs up, then waits for the
/// engine to stop (a task it was waiting on stays waiting) and returns `run`'s exit code.
pub fn serve(mut opts: RunOptions) -> Result<i32, McpError> {
    let cwd = std::env::current_dir().map_err(McpError::Cwd)?;
    // One engine either way: a new run, or the plan's unfinished one (from `run` too).
    opts.resume = engine::saved_settings(&cwd, &opts.plan).is_some();
    // Saved with the run: `run --resume` without `--implementer` then waits for a person.
    opts.implementer.get_or_insert_with(|| "manual".into());
    opts.jobs = Some(1);
    let git_dir = planexec_vcs::Repo::discover(&plan_dir(&cwd, &opts.plan))?
        .git()
        .path()
        .to_path_buf();
    let (desk, asks) = desk::Desk::new();
    let engine = spawn_engine(opts, desk.clone());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(McpError::Runtime)?;
    let server = tools::Server::new(desk, asks, git_dir);
    let line = server.clone();
    let session = rt.block_on(async move {
        let running = server
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| McpError::Session(e.to_string()))?;
        running
            .waiting()
            .await
            .map_err(|e| McpError::Session(e.to_string()))
    });
    line.hang_up();
    let code = engine.join().unwrap_or(crate::cli::exit::USAGE);
    session.map(|_| code)
}

fn plan_dir(cwd: &std::path::Path, plan: &std::path::Path) -> PathBuf {
    let abs = cwd.join(plan);
    if abs.is_dir() {
        abs
    } else {
        abs.parent().map(|p| p.to_path_buf()).unwrap_or(abs)
    }
}

/// The engine on its own thread: the desk is its implementer and hears its events;
/// the run's lines go to stderr (stdout is the MCP channel).
fn spawn_engine(
    opts: RunOptions,
    desk: std::sync::Arc<desk::Desk>,
) -> std::thread::JoinHandle<i32> {
    std::thread::spawn(move || {
        let mut reporter = Reporter::new(vec![
            Box::new(PlainSink::stderr()),
            Box::new(desk::DeskSink(desk.clone())),
        ]);
        match engine::run_driven(&opts, &mut reporter, Some(&*desk)) {
            Ok(f) => {
                eprint!(
                    "{}",
                    crate::text::untrusted(&engine::final_report(&f.record, &opts.plan))
                );
                desk.finish(Ok(&f.record), &opts.plan);
                crate::cli::run_exit_code(&f)
            }
            Err(e) => {
                crate::cli::report_error(&e);
                desk.finish(Err(e.to_string()), &opts.plan);
                crate::cli::exit::USAGE
            }
        }
    })
}

/// `status`'s answer from the saved record.
fn status_of(r: &RunRecord, now: String) -> types::Status {
    types::Status {
        run_id: r.run_id.clone(),
        run_status: r.status.as_str().to_string(),
        now,
        tasks: r
            .tasks
            .iter()
            .map(|t| types::TaskState {
                id: t.id.clone(),
                title: t.title.clone(),
                status: format!("{:?}", t.status).to_lowercase(),
                cycles: t.cycles.len() as u32,
                commit: t.commit.clone(),
                blocked_reason: t.blocked_reason.clone(),
            })
            .collect(),
    }
}
