//! Why a run did not start: typed, with the library error as the source; the
//! CLI turns each into a message and exit code 2. Nothing was changed.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("cannot read the current directory: {0}")]
    Cwd(#[source] std::io::Error),
    #[error(transparent)]
    Git(#[from] planexec_vcs::VcsError),
    #[error(transparent)]
    Input(#[from] crate::input::InputError),
    #[error(transparent)]
    Plan(#[from] planexec_plan::PlanError),
    #[error("the plan does not pass `planexec check`:\n{}\n  fix the plan, then run again", .errors.join("\n"))]
    PlanCheck { errors: Vec<String> },
    #[error("{}: the plan has no tasks; nothing to run", .path.display())]
    NoTasks { path: PathBuf },
    #[error(transparent)]
    Cycle(#[from] planexec_plan::CycleError),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Plugins(#[from] crate::plugins::PluginError),
    #[error(transparent)]
    Sandbox(#[from] crate::sandbox::SandboxError),
    #[error("run {run_id} of {plan} is {status}; continue it with `{resume}`, or discard it with `planexec rollback {run_id}`")]
    Unfinished {
        run_id: String,
        plan: String,
        status: String,
        resume: String,
    },
    #[error("no unfinished run of {plan} to resume; start one with `planexec run {given}`")]
    NothingToResume { plan: String, given: String },
    /// Another run, resume or rollback holds the repository lock.
    #[error(transparent)]
    Locked(#[from] crate::lock::LockError),
    #[error("pre-flight failed, nothing was changed:\n  {reason}")]
    Preflight { reason: String },
    /// `--accept`, `--retry` or `--skip` of a task that is not there or not blocked.
    #[error("{flag} {id}: {why}; {todo}")]
    Handback {
        flag: &'static str,
        id: String,
        why: String,
        todo: String,
    },
    #[error(transparent)]
    State(#[from] super::state::StateError),
}
