//! What a run tells the world: the events the engine emits on each state
//! change, and the sinks that show them (NDJSON, plain lines, a live display).

mod files;
pub mod github;
pub mod heartbeat;
pub mod html;
pub mod live;
pub mod ndjson;
pub mod plain;
pub mod spans;
pub mod timing;
pub mod trace;

pub use files::{
    check_artifact_path, gate_record, gate_run_id, now_rfc3339, render, write_artifacts,
    write_file, write_reports, ReportError, ReportFormat, ReportSpec,
};
pub use github::GithubSink;
pub use live::LiveSink;
pub use ndjson::NdjsonSink;
pub use plain::PlainSink;

use planexec_record::{GateRun, ReviewRun, RunRecord, RunStatus, TaskStatus};
use serde::Serialize;
use std::path::PathBuf;

/// One state change. `--format json` prints each as one NDJSON line.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    RunStarted {
        run_id: String,
        plan: String,
        tasks: Vec<TaskHeader>,
        resumed: bool,
    },
    Preflight {
        name: String,
        ok: bool,
        detail: String,
    },
    TaskStatus {
        task: String,
        status: TaskStatus,
        cycle: u32,
    },
    ImplementerFinished {
        task: String,
        cycle: u32,
        plugin: String,
        status: String,
        summary: String,
    },
    GateStarted {
        task: Option<String>,
        gate: String,
    },
    GateFinished {
        task: Option<String>,
        run: GateRun,
    },
    ReviewFinished {
        task: String,
        run: ReviewRun,
    },
    Committed {
        task: String,
        commit: String,
        files: Vec<String>,
    },
    TaskBlocked {
        task: String,
        reason: String,
    },
    Message {
        level: Level,
        text: String,
    },
    RunFinished {
        run_id: String,
        status: RunStatus,
        log_path: Option<String>,
    },
    /// `planexec gate run`: first event, before the gate starts.
    GateRunStarted {
        run_id: String,
        /// The gates of the run, in the order their results are reported.
        gates: Vec<String>,
        started_at: String,
    },
    /// `planexec gate run`: last event, after the reports are written; `status` is
    /// `success` or `failure`, `exit_code` what planexec exits with.
    GateRunFinished {
        run_id: String,
        gates: Vec<String>,
        status: RunStatus,
        /// The worst outcome of the gates (errored, failed, passed, skipped).
        outcome: planexec_record::Outcome,
        exit_code: i32,
        finished_at: String,
    },
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

/// The sinks for a command, chosen from the process: `--format json`, whether
/// stdout is a terminal, and CI / NO_COLOR / GITHUB_ACTIONS (see [`sinks`]).
pub fn default_sinks(json: bool) -> Vec<Box<dyn Sink>> {
    use std::io::IsTerminal;
    sinks(json, std::io::stdout().is_terminal(), &EnvView::from_env())
}

/// The environment facts that decide how a run is shown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvView {
    /// CI is set (and not `false`/`0`).
    pub ci: bool,
    /// NO_COLOR is set and not empty (no-color.org).
    pub no_color: bool,
    /// GITHUB_ACTIONS is set (and not `false`/`0`).
    pub github_actions: bool,
    /// GITHUB_STEP_SUMMARY, when set and not empty.
    pub step_summary: Option<PathBuf>,
}

fn truthy(v: Option<std::ffi::OsString>) -> bool {
    match v {
        None => false,
        Some(v) => {
            let v = v.to_string_lossy().trim().to_ascii_lowercase();
            !(v.is_empty() || v == "false" || v == "0")
        }
    }
}

impl EnvView {
    /// Reads CI, NO_COLOR, GITHUB_ACTIONS and GITHUB_STEP_SUMMARY.
    pub fn from_env() -> Self {
        Self::from_lookup(|k| std::env::var_os(k))
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<std::ffi::OsString>) -> Self {
        EnvView {
            ci: truthy(get("CI")),
            no_color: get("NO_COLOR").is_some_and(|v| !v.is_empty()),
            github_actions: truthy(get("GITHUB_ACTIONS")),
            step_summary: get("GITHUB_STEP_SUMMARY")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
        }
    }
}

/// Whether the live display is used: stdout is a terminal, not `--format
/// json`, and neither CI nor NO_COLOR is set.
pub fn live_display(json: bool, stdout_is_tty: bool, env: &EnvView) -> bool {
    !json && stdout_is_tty && !env.ci && !env.no_color
}

/// The sinks for a command: NDJSON on stdout plus plain lines on stderr with
/// `--format json`; otherwise the live display on a terminal or plain lines on
/// stderr; plus GitHub annotations and job summary when GITHUB_ACTIONS is set.
pub fn sinks(json: bool, stdout_is_tty: bool, env: &EnvView) -> Vec<Box<dyn Sink>> {
    let mut v: Vec<Box<dyn Sink>> = Vec::new();
    if json {
        v.push(Box::new(NdjsonSink::stdout()));
        v.push(Box::new(PlainSink::stderr()));
    } else if live_display(json, stdout_is_tty, env) {
        v.push(Box::new(LiveSink::stdout()));
    } else {
        v.push(Box::new(PlainSink::stderr()));
    }
    if env.github_actions {
        v.push(Box::new(GithubSink {
            annotations_to_stderr: json,
            summary_path: env.step_summary.clone(),
        }));
    }
    v
}

#[cfg(test)]
mod sink_tests {
    use super::*;
    use std::ffi::OsString;

    fn env(pairs: &[(&str, &str)]) -> EnvView {
        let m: std::collections::HashMap<String, OsString> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        EnvView::from_lookup(|k| m.get(k).cloned())
    }

    #[test]
    fn chooses_the_display() {
        assert!(live_display(false, true, &env(&[])));
        assert!(!live_display(true, true, &env(&[])));
        assert!(!live_display(false, false, &env(&[])));
        assert!(!live_display(false, true, &env(&[("CI", "true")])));
        assert!(live_display(false, true, &env(&[("CI", "false")])));
        assert!(!live_display(false, true, &env(&[("NO_COLOR", "1")])));
        assert!(live_display(false, true, &env(&[("NO_COLOR", "")])));
        assert_eq!(sinks(true, false, &env(&[])).len(), 2);
        assert_eq!(
            sinks(false, false, &env(&[("GITHUB_ACTIONS", "true")])).len(),
            2
        );
    }

    #[test]
    fn ndjson_and_plain_lines() {
        let run = GateRun {
            name: "lint".into(),
            plugin: "command".into(),
            report: planexec_record::GateReport::errored("boom\n\x1b[31mred"),
            programs: vec![],
        };
        let mut n = NdjsonSink::new(Vec::new());
        let mut p = PlainSink::new(Vec::new());
        for ev in [
            Event::GateStarted {
                task: None,
                gate: "lint".into(),
            },
            Event::GateFinished {
                task: None,
                run: run.clone(),
            },
            Event::TaskStatus {
                task: "T1".into(),
                status: TaskStatus::Done,
                cycle: 1,
            },
        ] {
            n.event(&ev);
            p.event(&ev);
        }
        let out = String::from_utf8(n.into_inner()).unwrap();
        let lines: Vec<serde_json::Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0]["event"], "gate_started");
        assert_eq!(lines[1]["event"], "gate_finished");
        assert_eq!(lines[1]["gate"], "lint");
        assert_eq!(lines[1]["plugin"], "command");
        assert_eq!(lines[1]["report"]["outcome"], "errored");
        assert_eq!(lines[2]["status"], "done");
        let plain = String::from_utf8(p.into_inner()).unwrap();
        assert_eq!(plain.lines().count(), 3, "{plain}");
        assert!(!plain.contains('\x1b'), "{plain}");
        assert!(plain.contains("gate lint (command) ERRORED"), "{plain}");
    }
}
