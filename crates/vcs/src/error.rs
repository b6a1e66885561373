//! The crate's error type: each message says what failed, where, and what to do.
//! Variants carry the git2 or I/O error as their source.

use std::path::PathBuf;

pub type Result<T, E = VcsError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum VcsError {
    #[error("{path} is not inside a git repository; run `git init` there or run planexec inside a repository")]
    NotARepo {
        path: PathBuf,
        #[source]
        source: git2::Error,
    },

    #[error("{path} is a bare repository with no work tree; run planexec in a checkout")]
    Bare { path: PathBuf },

    #[error("git: {op} failed in {workdir}: {source}")]
    Git {
        op: &'static str,
        workdir: PathBuf,
        #[source]
        source: git2::Error,
    },

    #[error(
        "run id `{run_id}` is not usable in a ref name; use letters, digits, '-', '_' and '.'"
    )]
    InvalidRunId { run_id: String },

    #[error("run `{run_id}` already has a start ref {reference} in {workdir}; resume that run or pick a new run id")]
    RunExists {
        run_id: String,
        workdir: PathBuf,
        reference: String,
    },

    #[error("no run `{run_id}` in {workdir} (no refs/planexec/runs/{run_id}/start); known runs: {}", known_list(.known))]
    UnknownRun {
        run_id: String,
        workdir: PathBuf,
        known: Vec<String>,
    },

    #[error("path {path} is outside the work tree {workdir} (or inside .git); give paths relative to the repository root")]
    BadPath { path: PathBuf, workdir: PathBuf },

    #[error("could not stage {path} in {workdir}: {source}; check the file is readable and not a submodule")]
    Stage {
        path: String,
        workdir: PathBuf,
        #[source]
        source: git2::Error,
    },

    #[error("nothing to commit in {workdir}: {} already match HEAD; check the task changed its files", paths_list(.paths))]
    NothingToCommit {
        paths: Vec<String>,
        workdir: PathBuf,
    },

    #[error("{0}")]
    Hook(crate::HookFailure),

    #[error("the {hook} hook {path} is inside the work tree and differs from the run's start commit; a task may not change code that runs outside the box; commit the hook before the run, or set `[run] git_hooks = false`")]
    HookChanged { hook: String, path: PathBuf },

    #[error("{path} is held by a running process ({}); wait for it to finish, or stop it, then run again", .holders.join(", "))]
    IndexLocked { path: PathBuf, holders: Vec<String> },

    #[error("could not {what} {path}: {source}; check the directory exists and is writable")]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("a task's commit conflicts with HEAD in {workdir} at {}; it must be redone on the branch", paths_list(.paths))]
    ApplyConflict {
        paths: Vec<String>,
        workdir: PathBuf,
    },

    #[error("a task's commit touches {} that have uncommitted changes in {workdir}; they were left alone", paths_list(.paths))]
    ApplyDirty {
        paths: Vec<String>,
        workdir: PathBuf,
    },
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        "none (no planexec run has started in this repository)".into()
    } else {
        known.join(", ")
    }
}

fn paths_list(paths: &[String]) -> String {
    if paths.is_empty() {
        "no paths were given, so nothing".into()
    } else {
        paths.join(", ")
    }
}
