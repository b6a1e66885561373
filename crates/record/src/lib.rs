//! The run record: everything a planexec run did, as plain serde data.
//!
//! The host builds it; formatter plugins (execution log, JUnit, SARIF, JSON,
//! planpipe status) receive it as JSON. The schema is versioned by
//! [`SCHEMA_VERSION`] and documented in docs/run-record.md.

use serde::{Deserialize, Serialize};

pub mod rerun;
pub mod words;

/// Bumped on any incompatible change to the JSON shape.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Critical,
    Important,
    Minor,
    Info,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Finding {
    pub severity: Severity,
    pub rule: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// Where the span ends, when the tool says (mypy `--show-error-end`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_line: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_column: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Passed,
    Failed,
    Errored,
    Skipped,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestCounts {
    pub passed: u32,
    pub failed: u32,
    pub skipped: u32,
    pub errored: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestFailure {
    pub name: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(default)]
    pub output: String,
}

/// One test a gate ran, whatever its outcome (a JUnit `<testcase>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestCase {
    /// The tool's own rerunnable name (`tests/test_a.py::test_x`, `TestAdd`).
    pub name: String,
    /// The group it belongs to: module, package, class or test file.
    #[serde(default)]
    pub classname: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// Wall time in seconds, as the tool measured it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
    pub outcome: Outcome,
    /// Failure, error or skip message (empty when passed).
    #[serde(default)]
    pub message: String,
    /// What the tool printed for it (traceback, captured output).
    #[serde(default)]
    pub output: String,
}

/// What one gate said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateReport {
    pub outcome: Outcome,
    pub summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tests: Option<TestCounts>,
    #[serde(default)]
    pub failures: Vec<TestFailure>,
    /// Every test the gate ran, when its tool lists them (empty otherwise).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cases: Vec<TestCase>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage_percent: Option<f64>,
    #[serde(default)]
    pub findings: Vec<Finding>,
    #[serde(default)]
    pub evidence: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    #[serde(default)]
    pub duration_ms: u64,
    /// Set when the gate ran one shard of its tests (`gate run --shard I/N`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardResult>,
}

/// What an implementer's run cost, as far as its output says.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turns: Option<u32>,
}

/// Which shard of its tests a gate ran, and the whole list it was cut from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardResult {
    /// 1-based, as on the command line (`--shard 2/4`).
    pub index: u32,
    pub count: u32,
    /// Tests in the whole, unsharded list.
    pub listed: u32,
    /// sha256 of the whole sorted test list, one name per line.
    pub list_digest: String,
}

impl GateReport {
    /// A report for a gate that could not run or judge (plugin trap, timeout...).
    pub fn errored(summary: impl Into<String>) -> Self {
        GateReport {
            outcome: Outcome::Errored,
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
}

/// A failing test as the findings see it.
struct Failing<'a> {
    name: &'a str,
    message: &'a str,
    path: Option<&'a str>,
    line: Option<u32>,
    errored: bool,
}

impl GateReport {
    /// The failing and erroring tests: the listed cases, located where the matching
    /// failure says the test failed (else at the case), or the failures alone.
    fn failing(&self) -> Vec<Failing<'_>> {
        if self.cases.is_empty() {
            return self
                .failures
                .iter()
                .map(|f| Failing {
                    name: &f.name,
                    message: &f.message,
                    path: f.path.as_deref(),
                    line: f.line,
                    errored: false,
                })
                .collect();
        }
        self.cases
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Failed | Outcome::Errored))
            .map(|c| {
                let at = self
                    .failures
                    .iter()
                    .find(|f| f.name == c.name && f.path.is_some())
                    .map(|f| (f.path.as_deref(), f.line))
                    .unwrap_or((c.path.as_deref(), c.line));
                Failing {
                    name: &c.name,
                    message: &c.message,
                    path: at.0,
                    line: at.1,
                    errored: c.outcome == Outcome::Errored,
                }
            })
            .collect()
    }

    /// A finding for each failing or erroring test that the gate's own findings do not
    /// already cover (same `path:line`, or a message naming the test): rule
    /// `<plugin>/test-failed` or `<plugin>/test-errored`, at the test's location.
    pub fn test_failure_findings(&self, plugin: &str) -> Vec<Finding> {
        let covered = |t: &Failing<'_>| {
            self.findings.iter().any(|f| {
                let same_place = t.path.is_some() && t.line.is_some();
                (same_place && f.path.as_deref() == t.path && f.line == t.line)
                    || f.message.contains(t.name)
            })
        };
        self.failing()
            .into_iter()
            .filter(|t| !covered(t))
            .map(|t| Finding {
                severity: Severity::Important,
                rule: format!(
                    "{plugin}/{}",
                    if t.errored {
                        "test-errored"
                    } else {
                        "test-failed"
                    }
                ),
                message: match t.message.lines().next().filter(|m| !m.is_empty()) {
                    Some(first) => format!("test {} failed: {first}", t.name),
                    None => format!("test {} failed", t.name),
                },
                path: t.path.map(str::to_string),
                line: t.line,
                column: None,
                end_line: None,
                end_column: None,
            })
            .collect()
    }
}

/// A gate as it ran: its configured name, the plugin behind it, and its report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateRun {
    pub name: String,
    pub plugin: String,
    pub report: GateReport,
    /// The boxed programs the gate ran, in order, timed by the host (not by the plugin).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub programs: Vec<ProgramRun>,
}

/// One program a plugin ran: what (the program's name and its arguments, shortened),
/// when, for how long, and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramRun {
    pub program: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub args: String,
    pub started_at: String,
    pub duration_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub timed_out: bool,
}

/// Which shard of a sharded `gate run` a record is (`--shard 2/4`: index 2, count 4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
    /// `sha256:<hex>` of the durations file the tests were assigned by (none: by hash);
    /// every shard of a run must have used the same, or some tests ran twice or never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub durations: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Score {
    Pass,
    Weak,
    Fail,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Criterion {
    pub name: String,
    pub score: Score,
    pub reasoning: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Review {
    pub approved: bool,
    pub criteria: Vec<Criterion>,
    pub findings: Vec<Finding>,
    pub summary: String,
    /// Where the host kept an agent reviewer's transcript (workspace-relative).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcript_path: Option<String>,
    /// The transcript itself, until the engine writes it out; never in the record.
    #[serde(skip)]
    pub transcript: String,
    /// What an agent reviewer's run cost, until the host moves it to
    /// [`ReviewRun::usage`]; never in the record here.
    #[serde(skip)]
    pub usage: Option<Usage>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewKind {
    Task,
    Code,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewOutcome {
    Approved,
    ChangesRequested,
    /// The reviewer could not judge (trap, timeout, unparsable reply): never an approval.
    Errored,
}

/// One review as it ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewRun {
    pub kind: ReviewKind,
    pub plugin: String,
    pub outcome: ReviewOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<Review>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The boxed programs an agent reviewer ran, timed by the host.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub programs: Vec<ProgramRun>,
    /// What an agent reviewer reported its run cost (counted in the run's budgets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

impl ReviewRun {
    /// Why it did not approve: the review's summary, else the reviewer's error.
    pub fn reason(&self) -> &str {
        self.review
            .as_ref()
            .map(|v| v.summary.as_str())
            .or(self.error.as_deref())
            .unwrap_or("")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImplementStatus {
    Done,
    Waiting,
    Failed,
    Errored,
    /// The one implementing stopped to ask the person (`planexec mcp`'s `escalate`):
    /// the task is blocked with the summary as its reason. Host-only, never from a plugin.
    Escalated,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImplementRun {
    pub plugin: String,
    pub status: ImplementStatus,
    pub summary: String,
    #[serde(default)]
    pub evidence: String,
    /// Files the implementer said it changed (empty: it did not say).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claimed_files: Vec<String>,
    /// The implementer's own findings (an agent that committed, for one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// Where the host kept the agent's transcript (workspace-relative).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcript_path: Option<String>,
    /// The transcript itself, until the engine writes it out; never in the record.
    #[serde(skip)]
    pub transcript: String,
    /// The boxed programs the implementer ran (an agent CLI, `git apply`), timed by the host.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub programs: Vec<ProgramRun>,
}

impl ImplementRun {
    /// A run with only the plugin, status, summary and evidence.
    pub fn new(
        plugin: impl Into<String>,
        status: ImplementStatus,
        summary: impl Into<String>,
    ) -> Self {
        ImplementRun {
            plugin: plugin.into(),
            status,
            summary: summary.into(),
            evidence: String::new(),
            claimed_files: Vec::new(),
            findings: Vec::new(),
            usage: None,
            transcript_path: None,
            transcript: String::new(),
            programs: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CycleOutcome {
    /// Still running (only seen in a record written mid-cycle).
    Running,
    /// Gates and reviews passed; the task was committed.
    Passed,
    /// A gate or review rejected the work; feedback goes to the next cycle.
    Rework,
    /// The cycle ended the task as blocked (rework limit, tolerance, error).
    Blocked,
    /// The implementer is waiting on a person or agent.
    Waiting,
}

/// One implement -> gates -> reviews pass over a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cycle {
    pub number: u32,
    pub started_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub implementer: Option<ImplementRun>,
    #[serde(default)]
    pub gates: Vec<GateRun>,
    #[serde(default)]
    pub reviews: Vec<ReviewRun>,
    /// Files the task changed in this cycle (workspace-relative).
    #[serde(default)]
    pub files: Vec<String>,
    #[serde(default)]
    pub added_lines: u64,
    #[serde(default)]
    pub removed_lines: u64,
    pub outcome: CycleOutcome,
    /// Every finding handed to the implementer for the next cycle.
    #[serde(default)]
    pub feedback: Vec<Finding>,
    /// When each step of the cycle ran (implementer, gates, reviews, commit), in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timings: Vec<Timing>,
}

/// What kind of step a [`Timing`] times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    Implementer,
    Gate,
    Review,
    Commit,
}

/// When one step ran: its start (RFC 3339, milliseconds) and how long it took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timing {
    pub step: StepKind,
    /// The plugin, gate or review kind (`task`, `code`); the task id for a commit.
    pub name: String,
    pub started_at: String,
    pub duration_ms: u64,
}

impl Cycle {
    /// Whether the cycle got as far as a verdict: a gate or a review ran.
    pub fn judged(&self) -> bool {
        !self.gates.is_empty() || !self.reviews.is_empty()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Pending,
    Ready,
    InProgress,
    InReview,
    Rework,
    Done,
    Blocked,
    /// Handed back with `--skip`: not done, never committed; its dependants wait.
    Skipped,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Pending => "pending",
            TaskStatus::Ready => "ready",
            TaskStatus::InProgress => "in_progress",
            TaskStatus::InReview => "in_review",
            TaskStatus::Rework => "rework",
            TaskStatus::Done => "done",
            TaskStatus::Blocked => "blocked",
            TaskStatus::Skipped => "skipped",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRecord {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub summary: String,
    pub status: TaskStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wave: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub milestone: Option<String>,
    #[serde(default)]
    pub dependencies: Vec<String>,
    #[serde(default)]
    pub acceptance: Vec<String>,
    /// Files the plan says the task may touch.
    #[serde(default)]
    pub planned_files: Vec<String>,
    #[serde(default)]
    pub cycles: Vec<Cycle>,
    /// The task's commit, once done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Why the task is blocked: the tolerance quoted, the rework limit, the error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    /// Every task done and every final gate passed.
    Success,
    /// A final gate failed (tasks are done).
    Failure,
    /// A task is blocked; the run stopped to ask.
    Blocked,
    /// The implementer waits for a person or agent; continue with --resume.
    Waiting,
    /// A run-wide budget (cost, tokens, minutes) was spent before the next cycle;
    /// continue with `--resume --budget ...`.
    Escalated,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Success => "success",
            RunStatus::Failure => "failure",
            RunStatus::Blocked => "blocked",
            RunStatus::Waiting => "waiting",
            RunStatus::Escalated => "escalated",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preflight {
    pub branch: String,
    pub head: String,
    pub dirty: bool,
    /// The commit made of the user's uncommitted work, when the tree was dirty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_commit: Option<String>,
    /// The commit the run started from (also stored under refs/planexec/runs/<id>/start).
    pub start_commit: String,
    #[serde(default)]
    pub checks: Vec<Check>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanInfo {
    /// Workspace-relative path of the plan file or folder.
    pub path: String,
    pub title: String,
    pub dialect: String,
    /// Short name used in the rollback commit and log file name.
    pub topic: String,
    /// `plan/<file>.md`: what task commits put after `Refs:`.
    pub refs: String,
    #[serde(default)]
    pub success_criteria: Vec<String>,
}

/// Something that went wrong and how it was handled (the log's Issues & Resolutions).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Issue {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    pub issue: String,
    pub resolution: String,
}

/// The whole run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub schema_version: u32,
    pub run_id: String,
    pub plan: PlanInfo,
    pub status: RunStatus,
    pub started_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    pub preflight: Preflight,
    pub tasks: Vec<TaskRecord>,
    #[serde(default)]
    pub final_gates: Vec<GateRun>,
    #[serde(default)]
    pub issues: Vec<Issue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_commit: Option<String>,
    /// Workspace-relative path of the execution log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_path: Option<String>,
    /// Environment facts for the log's front matter (tool versions, OS).
    #[serde(default)]
    pub env: std::collections::BTreeMap<String, String>,
    /// Set by `gate run --shard I/N`: this record is one shard's (merged by `report merge`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
    /// When each final gate ran (`gate run`: every gate), in the order they finished.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timings: Vec<Timing>,
}

impl TaskRecord {
    /// The cycle whose verdict stands: the last one that ran a gate or a review. A
    /// last cycle that ended in the implementer judged nothing and does not hide the
    /// findings of the one before it; earlier, reworked cycles were fixed.
    pub fn judged_cycle(&self) -> Option<&Cycle> {
        self.cycles.iter().rev().find(|c| c.judged())
    }
}

impl RunRecord {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("run record serialises")
    }

    pub fn from_json(s: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrips_through_json() {
        let rec = RunRecord {
            schema_version: SCHEMA_VERSION,
            run_id: "r1".into(),
            plan: PlanInfo {
                path: "plan.md".into(),
                title: "T".into(),
                dialect: "tid".into(),
                topic: "t".into(),
                refs: "plan/plan.md".into(),
                success_criteria: vec![],
            },
            status: RunStatus::Blocked,
            started_at: "2026-01-01T00:00:00Z".into(),
            finished_at: None,
            preflight: Preflight {
                branch: "main".into(),
                head: "abc".into(),
                dirty: false,
                rollback_commit: None,
                start_commit: "abc".into(),
                checks: vec![],
            },
            tasks: vec![TaskRecord {
                id: "T001".into(),
                title: "x".into(),
                summary: String::new(),
                status: TaskStatus::InReview,
                wave: Some(1),
                milestone: None,
                dependencies: vec![],
                acceptance: vec![],
                planned_files: vec![],
                cycles: vec![],
                commit: None,
                blocked_reason: None,
                started_at: None,
                finished_at: None,
            }],
            final_gates: vec![],
            issues: vec![],
            end_commit: None,
            log_path: None,
            env: Default::default(),
            shard: None,
            timings: vec![],
        };
        let json = rec.to_json();
        assert!(json.contains("\"in_review\""));
        assert_eq!(RunRecord::from_json(&json).unwrap(), rec);
    }

    fn case(name: &str, outcome: Outcome, line: u32) -> TestCase {
        TestCase {
            name: name.into(),
            classname: "tests.test_a".into(),
            path: Some("tests/test_a.py".into()),
            line: Some(line),
            seconds: None,
            outcome,
            message: "assert 1 == 2".into(),
            output: String::new(),
        }
    }

    #[test]
    fn failing_tests_become_findings_unless_a_finding_names_them() {
        let mut r = GateReport::errored("1 failed");
        r.cases = vec![
            case("tests/test_a.py::ok", Outcome::Passed, 3),
            case("tests/test_a.py::bad", Outcome::Failed, 7),
            case("tests/test_a.py::broken", Outcome::Errored, 11),
        ];
        r.failures = vec![TestFailure {
            name: "tests/test_a.py::bad".into(),
            message: "assert 1 == 2".into(),
            path: Some("tests/test_a.py".into()),
            line: Some(8),
            output: String::new(),
        }];
        let f = r.test_failure_findings("pytest");
        let got: Vec<(&str, Option<u32>)> = f.iter().map(|f| (f.rule.as_str(), f.line)).collect();
        // The failure's own line (where it failed) wins over the case's definition line.
        assert_eq!(
            got,
            [
                ("pytest/test-failed", Some(8)),
                ("pytest/test-errored", Some(11))
            ]
        );
        assert_eq!(
            f[0].message,
            "test tests/test_a.py::bad failed: assert 1 == 2"
        );
        r.findings = vec![Finding {
            severity: Severity::Important,
            rule: "pytest/failure".into(),
            message: "tests/test_a.py::bad: assert".into(),
            path: None,
            line: None,
            column: None,
            end_line: None,
            end_column: None,
        }];
        assert_eq!(
            r.test_failure_findings("pytest").len(),
            1,
            "named by a finding"
        );
        r.cases.clear();
        assert_eq!(r.test_failure_findings("pytest").len(), 0);
    }

    #[test]
    fn judged_cycle_skips_a_last_cycle_that_judged_nothing() {
        let cycle = |n: u32, gates: Vec<GateRun>| Cycle {
            number: n,
            started_at: String::new(),
            finished_at: None,
            implementer: None,
            gates,
            reviews: vec![],
            files: vec![],
            added_lines: 0,
            removed_lines: 0,
            outcome: CycleOutcome::Rework,
            feedback: vec![],
            timings: vec![],
        };
        let g = GateRun {
            name: "pytest".into(),
            plugin: "pytest".into(),
            report: GateReport::errored("x"),
            programs: vec![],
        };
        let mut t = TaskRecord {
            id: "T001".into(),
            title: "t".into(),
            summary: String::new(),
            status: TaskStatus::Blocked,
            wave: None,
            milestone: None,
            dependencies: vec![],
            acceptance: vec![],
            planned_files: vec![],
            cycles: vec![
                cycle(1, vec![g.clone()]),
                cycle(2, vec![g]),
                cycle(3, vec![]),
            ],
            commit: None,
            blocked_reason: None,
            started_at: None,
            finished_at: None,
        };
        assert_eq!(t.judged_cycle().map(|c| c.number), Some(2));
        t.cycles.truncate(1);
        t.cycles[0].gates.clear();
        assert!(t.judged_cycle().is_none());
    }
}
