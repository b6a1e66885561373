//! Errors that stop a plan from being read at all (as opposed to `check` diagnostics).
//! Each says what went wrong, where, and what to do about it.

use std::path::PathBuf;

/// Why a plan could not be loaded. `planexec check` maps every variant to exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{path}: cannot read the plan: {source}; check the path and its permissions")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: the plan file is empty; write at least a title and one task")]
    Empty { path: PathBuf },
    #[error("{path}: this is a binary file (a NUL byte at offset {offset}), not a Markdown plan; pass the plan's .md file")]
    Binary { path: PathBuf, offset: usize },
    #[error("{path}:{line}:{column}: the plan is not valid UTF-8 (byte offset {offset}); re-save it as UTF-8")]
    InvalidUtf8 {
        path: PathBuf,
        line: u32,
        column: u32,
        offset: usize,
    },
    #[error("{path}: the plan is {size} bytes, over the {limit}-byte limit; split it into a plan folder (PLAN.md + tickets/)")]
    TooLarge {
        path: PathBuf,
        size: u64,
        limit: u64,
    },
    #[error("{path}:{line}:{column}: the front matter is not valid YAML: {message}; fix it or remove the `---` block")]
    FrontMatter {
        path: PathBuf,
        line: u32,
        column: u32,
        message: String,
    },
    #[error("{path}:{line}: the front matter starting here has no closing `---` line; add one")]
    UnclosedFrontMatter { path: PathBuf, line: u32 },
    #[error("{path}: no plan found in this folder (looked for {looked_for}); pass the plan file itself or `--dialect`")]
    NoPlanInFolder { path: PathBuf, looked_for: String },
    #[error("{path}: {message}")]
    Dialect { path: PathBuf, message: String },
    #[error("{path}:{line}:{column}: the task file is not valid JSON: {message}; fix it (Taskmaster writes it with `task-master`)")]
    Json {
        path: PathBuf,
        line: u32,
        column: u32,
        message: String,
    },
    #[error("{path}:{line}: cannot tick task {task}: {message}")]
    Tick {
        path: PathBuf,
        line: u32,
        task: String,
        message: String,
    },
}
