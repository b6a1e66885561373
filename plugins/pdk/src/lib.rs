//! Plugin development kit: write a planexec plugin as plain Rust, test it natively.
//!
//! A plugin implements one trait ([`Gate`], [`Reviewer`], [`Formatter`],
//! [`Implementer`]) against plain types and a [`Host`] (exec + log), then calls
//! the matching macro (`gate_component!(MyGate);`) which, on wasm32 only,
//! generates the WIT bindings and converts between them and these types.
//! Native unit tests call the trait with a fake [`Host`] (see [`testing`]).

pub use planexec_record as record;
pub use planexec_record::{
    Criterion, Finding, GateReport, Outcome, Review, Score, Severity, ShardResult, TestCase,
    TestCounts, TestFailure, Usage,
};
pub use serde_json;

mod macros;
pub mod testing;
pub mod text;

use serde::de::DeserializeOwned;
use serde_json::Value;

/// Where the host mounted the workspace (read-only) and the scratch dir (read-write).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mounts {
    pub workspace: String,
    pub scratch: String,
}

impl Default for Mounts {
    fn default() -> Self {
        Mounts {
            workspace: "/workspace".into(),
            scratch: "/scratch".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DependencyKind {
    Blocking,
    Soft,
    Sequencing,
    Shared,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    pub id: String,
    pub kind: DependencyKind,
}

/// A task as the plan states it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Task {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub body: String,
    pub acceptance: Vec<String>,
    pub acceptance_commands: Vec<String>,
    pub files: Vec<String>,
    pub out_of_scope: Vec<String>,
    pub dependencies: Vec<Dependency>,
    pub milestone: Option<String>,
    pub steps: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GateRequest {
    pub name: String,
    /// The plugin's table from planexec.toml (an empty object when none).
    pub config: Value,
    pub mounts: Mounts,
    pub task: Option<Task>,
    /// `gate run --shard I/N`: run only this shard of the tests.
    pub shard: Option<Shard>,
}

/// Shard `index` of `count` (1-based), with test durations from an earlier run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
    /// Test name -> seconds; empty when there is no durations file.
    pub durations: Vec<(String, f64)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewKind {
    Task,
    Code,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
    Renamed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedFile {
    pub path: String,
    pub change: ChangeKind,
    pub binary: bool,
    pub size: u64,
    pub added_lines: u32,
    pub removed_lines: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReviewRequest {
    pub kind: ReviewKind,
    pub config: Value,
    pub mounts: Mounts,
    pub task: Task,
    pub constraints: Vec<String>,
    pub other_tasks_files: Vec<String>,
    pub diff: String,
    pub changed_files: Vec<ChangedFile>,
    pub gate_reports: Vec<(String, GateReport)>,
    /// The host's check of the implementer's claims against the diff.
    pub implementer_findings: Vec<Finding>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Artifact {
    /// Relative to the output directory the host chose.
    pub path: String,
    pub content: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImplementStatus {
    Done,
    Waiting,
    Failed,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImplementRequest {
    pub config: Value,
    pub mounts: Mounts,
    pub task: Task,
    pub cycle: u32,
    pub feedback: Vec<Finding>,
    pub feedback_text: String,
    pub plan_path: String,
    pub plan_dir: String,
    /// The plan's constraints and tolerances, as written.
    pub constraints: Vec<String>,
    pub tolerances: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImplementReport {
    pub status: ImplementStatus,
    pub summary: String,
    pub evidence: String,
    /// Files the implementer says it changed (empty: it does not say).
    pub claimed_files: Vec<String>,
    pub findings: Vec<Finding>,
    pub usage: Option<Usage>,
    /// The agent's full transcript, kept by the host under .git/planexec/.
    pub transcript: String,
}

impl ImplementReport {
    /// A report with only a status, summary and evidence.
    pub fn new(
        status: ImplementStatus,
        summary: impl Into<String>,
        evidence: impl Into<String>,
    ) -> Self {
        ImplementReport {
            status,
            summary: summary.into(),
            evidence: evidence.into(),
            claimed_files: Vec::new(),
            findings: Vec::new(),
            usage: None,
            transcript: String::new(),
        }
    }
}

/// A program for the host to run (no shell). `{workspace}` / `{scratch}` in
/// args become real host paths.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Command {
    pub program: String,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub cwd: Option<String>,
    pub timeout_ms: Option<u64>,
    /// Send stdout to this file (a `{scratch}/...` path) instead of returning it.
    pub stdout_file: Option<String>,
}

impl Command {
    pub fn new(program: impl Into<String>) -> Self {
        Command {
            program: program.into(),
            ..Default::default()
        }
    }
    pub fn arg(mut self, a: impl Into<String>) -> Self {
        self.args.push(a.into());
        self
    }
    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, it: I) -> Self {
        self.args.extend(it.into_iter().map(Into::into));
        self
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Output {
    pub exit_code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub truncated: bool,
    pub timed_out: bool,
    pub duration_ms: u64,
}

impl Output {
    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    pub fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
    /// stdout then stderr, as one text.
    pub fn combined(&self) -> String {
        let mut s = self.stdout_str();
        let e = self.stderr_str();
        if !e.is_empty() {
            if !s.is_empty() && !s.ends_with('\n') {
                s.push('\n');
            }
            s.push_str(&e);
        }
        s
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecError {
    NotGranted(String),
    NotFound(String),
    Failed(String),
}

impl std::fmt::Display for ExecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExecError::NotGranted(m) => write!(f, "not granted: {m}"),
            ExecError::NotFound(m) => write!(f, "not found: {m}"),
            ExecError::Failed(m) => write!(f, "failed to run: {m}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// What the host offers a plugin: running granted programs, and logging.
pub trait Host {
    fn exec(&self, cmd: &Command) -> Result<Output, ExecError>;
    fn log(&self, level: Level, message: &str);
}

pub trait Gate {
    fn check(req: GateRequest, host: &dyn Host) -> Result<GateReport, String>;
}

pub trait Reviewer {
    fn review(req: ReviewRequest, host: &dyn Host) -> Result<Review, String>;
}

pub trait Formatter {
    fn render(config: Value, record: record::RunRecord) -> Result<Vec<Artifact>, String>;
}

pub trait Implementer {
    fn implement(req: ImplementRequest, host: &dyn Host) -> Result<ImplementReport, String>;
}

/// Reads a plugin's config object into `T` (use `#[serde(default, deny_unknown_fields)]`).
/// A null or missing config reads as `T::default()`.
pub fn config<T: DeserializeOwned + Default>(value: &Value) -> Result<T, String> {
    if value.is_null() {
        return Ok(T::default());
    }
    if let Value::Object(m) = value {
        if m.is_empty() {
            return serde_json::from_value(Value::Object(Default::default()))
                .map_err(|e| format!("config: {e}"));
        }
    }
    serde_json::from_value(value.clone()).map_err(|e| format!("config: {e}"))
}

/// Parses the JSON config string the host passes; empty means `{}`.
pub fn parse_config(s: &str) -> Result<Value, String> {
    if s.trim().is_empty() {
        return Ok(Value::Object(Default::default()));
    }
    serde_json::from_str(s).map_err(|e| format!("config is not JSON: {e}"))
}

/// A gate report with the given outcome and summary and nothing else.
pub fn report(outcome: Outcome, summary: impl Into<String>) -> GateReport {
    GateReport {
        outcome,
        summary: summary.into(),
        tests: None,
        failures: Vec::new(),
        cases: Vec::new(),
        coverage_percent: None,
        findings: Vec::new(),
        evidence: String::new(),
        exit_code: None,
        duration_ms: 0,
        shard: None,
    }
}
