//! What the MCP tools take and return, with their JSON schemas (schemars): the
//! task brief, a submission's verdict, the run's status.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `submit` and `escalate` name the task they are about.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SubmitArgs {
    /// The id next_task gave, e.g. T001.
    pub task_id: String,
    /// For the execution log; never trusted as evidence.
    #[serde(default)]
    pub notes: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct EscalateArgs {
    pub task_id: String,
    /// What the person must decide or fix.
    pub reason: String,
}

/// A finding: a failing test, a gate's or a reviewer's remark, with its place.
#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq)]
pub struct Found {
    pub rule: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

impl From<&planexec_record::Finding> for Found {
    fn from(f: &planexec_record::Finding) -> Self {
        Found {
            rule: f.rule.clone(),
            message: f.message.clone(),
            path: f.path.clone(),
            line: f.line,
        }
    }
}

/// The task to work on now.
#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq)]
pub struct Brief {
    pub task_id: String,
    pub title: String,
    /// The attempt (1 = first; more after a rejection).
    pub cycle: u32,
    /// The plan's own text for the task.
    pub text: String,
    /// Files the task may change (empty: not declared).
    pub files: Vec<String>,
    pub acceptance: Vec<String>,
    /// Commands planexec runs on submit.
    pub acceptance_commands: Vec<String>,
    pub constraints: Vec<String>,
    pub tolerances: Vec<String>,
    /// Why the last attempt was rejected.
    pub feedback: Vec<Found>,
}

/// `next_task`'s answer.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Next {
    /// task | done | blocked | waiting | stopped | failed
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<Brief>,
    pub message: String,
}

/// `submit`'s and `escalate`'s answer.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Verdict {
    pub task_id: String,
    /// done | rejected | blocked | stopped
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The files committed (done).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    /// Failing tests and review findings (rejected).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Found>,
    pub message: String,
}

/// One task in `status`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TaskState {
    pub id: String,
    pub title: String,
    pub status: String,
    pub cycles: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked_reason: Option<String>,
}

/// `status`'s answer.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Status {
    pub run_id: String,
    pub run_status: String,
    /// What planexec is doing now.
    pub now: String,
    pub tasks: Vec<TaskState>,
}
