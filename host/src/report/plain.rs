//! Plain lines: one human line per event on stderr, no escape codes. Used when
//! stdout is not a terminal, when CI or NO_COLOR is set, and beside `--format json`.

use super::{Event, Level, Sink};
use planexec_record::{Outcome, ReviewKind, ReviewOutcome};
use std::io::Write;

/// One human line for an event (no trailing newline, no escape codes).
pub fn line(ev: &Event) -> String {
    let l = match ev {
        Event::RunStarted {
            run_id,
            plan,
            tasks,
            resumed,
        } => format!(
            "{} run {run_id}: {plan} ({} task{})",
            if *resumed { "resuming" } else { "starting" },
            tasks.len(),
            if tasks.len() == 1 { "" } else { "s" }
        ),
        Event::Preflight { name, ok, detail } => {
            format!(
                "pre-flight {name}: {}{}",
                if *ok { "ok" } else { "FAILED" },
                suffix(detail)
            )
        }
        Event::TaskStatus {
            task,
            status,
            cycle,
        } => {
            if *cycle > 0 {
                format!("{task}: {} (cycle {cycle})", status.as_str())
            } else {
                format!("{task}: {}", status.as_str())
            }
        }
        Event::ImplementerFinished {
            task,
            cycle,
            plugin,
            status,
            summary,
        } => {
            format!(
                "{task}: implementer {plugin} {status} (cycle {cycle}){}",
                suffix(summary)
            )
        }
        Event::GateStarted { task, gate } => format!("{}gate {gate} started", prefix(task)),
        Event::GateFinished { task, run } => {
            let r = &run.report;
            let mut s = format!(
                "{}gate {} ({}) {}: {} ({} ms)",
                prefix(task),
                run.name,
                run.plugin,
                outcome_word(r.outcome),
                one_line(&r.summary),
                r.duration_ms
            );
            if !r.findings.is_empty() {
                s.push_str(&format!(
                    ", {} finding{}",
                    r.findings.len(),
                    if r.findings.len() == 1 { "" } else { "s" }
                ));
            }
            s
        }
        Event::ReviewFinished { task, run } => {
            let what = match run.outcome {
                ReviewOutcome::Approved => "approved",
                ReviewOutcome::ChangesRequested => "changes requested",
                ReviewOutcome::Errored => "ERRORED",
            };
            let why = run
                .review
                .as_ref()
                .map(|r| r.summary.as_str())
                .or(run.error.as_deref())
                .unwrap_or("");
            let kind = match run.kind {
                ReviewKind::Task => "task",
                ReviewKind::Code => "code",
            };
            format!(
                "{task}: {kind} review ({}) {what}{}",
                run.plugin,
                suffix(why)
            )
        }
        Event::Committed {
            task,
            commit,
            files,
        } => {
            let short: String = commit.chars().take(12).collect();
            format!(
                "{task}: committed {short} ({} file{})",
                files.len(),
                if files.len() == 1 { "" } else { "s" }
            )
        }
        Event::TaskBlocked { task, reason } => format!("{task}: BLOCKED{}", suffix(reason)),
        Event::Message { level, text } => {
            let tag = match level {
                Level::Info => "info",
                Level::Warn => "warning",
                Level::Error => "error",
            };
            format!("{tag}: {}", one_line(text))
        }
        Event::GateRunStarted { gates, .. } => {
            format!("gate run {}: started", gates.join(", "))
        }
        Event::GateRunFinished {
            gates,
            status,
            exit_code,
            ..
        } => format!(
            "gate run {} finished: {} (exit {exit_code})",
            gates.join(", "),
            status.as_str()
        ),
        Event::RunFinished {
            run_id,
            status,
            log_path,
        } => {
            let mut s = format!("run {run_id} finished: {}", status.as_str());
            if let Some(p) = log_path {
                s.push_str(&format!(" (log: {p})"));
            }
            s
        }
    };
    strip_control(&crate::text::strip_sgr(&l))
}

/// Replaces control characters (ESC included) so untrusted text from tools and
/// reviewers cannot move the cursor or colour the terminal.
pub fn strip_control(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect()
}

fn prefix(task: &Option<String>) -> String {
    task.as_ref().map(|t| format!("{t}: ")).unwrap_or_default()
}

fn suffix(s: &str) -> String {
    let s = one_line(s);
    if s.is_empty() {
        String::new()
    } else {
        format!(": {s}")
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub fn outcome_word(o: Outcome) -> &'static str {
    match o {
        Outcome::Passed => "passed",
        Outcome::Failed => "FAILED",
        Outcome::Errored => "ERRORED",
        Outcome::Skipped => "skipped",
    }
}

/// One line per event on `W` (stderr by default).
pub struct PlainSink<W: Write = std::io::Stderr> {
    out: W,
    /// Lines for the gates still running (stderr sinks; PLANEXEC_HEARTBEAT).
    beat: Option<super::heartbeat::Heartbeat>,
}

impl PlainSink<std::io::Stderr> {
    /// Plain lines on stderr, with a heartbeat for gates that run long.
    pub fn stderr() -> Self {
        PlainSink {
            out: std::io::stderr(),
            beat: super::heartbeat::period_from_env().map(super::heartbeat::Heartbeat::new),
        }
    }
}

impl<W: Write> PlainSink<W> {
    pub fn new(out: W) -> Self {
        PlainSink { out, beat: None }
    }
    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write> Sink for PlainSink<W> {
    fn event(&mut self, ev: &Event) {
        let _ = writeln!(self.out, "{}", line(ev));
        let _ = self.out.flush();
        let Some(beat) = self.beat.as_mut() else {
            return;
        };
        match ev {
            Event::GateStarted { task, gate } => {
                beat.started(format!("{}gate {gate}", prefix(task)));
            }
            Event::GateFinished { task, run } => {
                beat.finished(&format!("{}gate {}", prefix(task), run.name));
            }
            // A task in progress is its implementer at work until it reports or the task moves on.
            Event::TaskStatus { task, status, .. } => {
                let name = format!("{task}: implementer");
                match status {
                    planexec_record::TaskStatus::InProgress => beat.started(name),
                    _ => beat.finished(&name),
                }
            }
            Event::ImplementerFinished { task, .. } => {
                beat.finished(&format!("{task}: implementer"));
            }
            _ => {}
        }
    }
}
