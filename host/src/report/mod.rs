//! What a run tells the world: the events the engine emits on each state
//! change, and the sinks that show them (NDJSON, plain lines, a live display).

use planexec_record::{GateRun, ReviewRun, RunRecord, RunStatus, TaskStatus};
use serde::Serialize;

/// One state change. `--format json` prints each as one NDJSON line.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    RunStarted { run_id: String, plan: String, tasks: Vec<TaskHeader>, resumed: bool },
    Preflight { name: String, ok: bool, detail: String },
    TaskStatus { task: String, status: TaskStatus, cycle: u32 },
    ImplementerFinished { task: String, cycle: u32, plugin: String, status: String, summary: String },
    GateStarted { task: Option<String>, gate: String },
    GateFinished { task: Option<String>, run: GateRun },
    ReviewFinished { task: String, run: ReviewRun },
    Committed { task: String, commit: String, files: Vec<String> },
    TaskBlocked { task: String, reason: String },
    Message { level: Level, text: String },
    RunFinished { run_id: String, status: RunStatus, log_path: Option<String> },
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Info,
    Warn,
    Error,
}

#[derive(Debug, Clone, Serialize)]
pub struct TaskHeader {
    pub id: String,
    pub title: String,
}

/// Receives every event, in order; `finish` gets the final record.
pub trait Sink {
    fn event(&mut self, ev: &Event);
    fn finish(&mut self, _record: &RunRecord) {}
}

/// Fans events out to several sinks.
#[derive(Default)]
pub struct Reporter {
    sinks: Vec<Box<dyn Sink>>,
}

impl Reporter {
    pub fn new(sinks: Vec<Box<dyn Sink>>) -> Self {
        Reporter { sinks }
    }
    pub fn push(&mut self, s: Box<dyn Sink>) {
        self.sinks.push(s);
    }
    pub fn emit(&mut self, ev: Event) {
        for s in &mut self.sinks {
            s.event(&ev);
        }
    }
    pub fn finish(&mut self, record: &RunRecord) {
        for s in &mut self.sinks {
            s.finish(record);
        }
    }
}

/// Collects events in memory (tests, and the engine's own bookkeeping).
#[derive(Default)]
pub struct Collect(pub std::sync::Arc<std::sync::Mutex<Vec<Event>>>);

impl Sink for Collect {
    fn event(&mut self, ev: &Event) {
        self.0.lock().unwrap().push(ev.clone());
    }
}
