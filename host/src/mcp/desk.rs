//! Where the engine's thread and the MCP tools meet: the engine waits here in its
//! implementer step for the agent's `submit` or `escalate`, and its events answer them.

use super::types::{Brief, Found, Verdict};
use crate::engine::{Driver, ImplementInput};
use crate::report::{Event, Sink};
use planexec_record::{ImplementRun, ImplementStatus, Outcome, RunRecord, RunStatus};
use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};

/// What the engine is doing, as the tools see it.
#[derive(Debug, Clone)]
pub enum Phase {
    /// Pre-flight: loading the plan and the plugins.
    Starting,
    /// Busy (checking a submission, running final gates).
    Working(String),
    /// Waiting for the agent's work on this task.
    Awaiting(Brief),
    /// The run stopped: `state` as `next_task` says it, and why.
    Ended { state: String, message: String },
}

/// What the agent asks of the waiting engine.
pub enum Ask {
    Submit {
        task: String,
        notes: Option<String>,
        reply: oneshot::Sender<Verdict>,
        /// Gate starts and results while the submission is checked.
        progress: mpsc::UnboundedSender<String>,
    },
    Escalate {
        task: String,
        reason: String,
        reply: oneshot::Sender<Verdict>,
    },
}

/// The submission being checked: who waits for its verdict.
struct Pending {
    task: String,
    reply: oneshot::Sender<Verdict>,
    progress: Option<mpsc::UnboundedSender<String>>,
}

pub struct Desk {
    pub phase: watch::Sender<Phase>,
    asks: Mutex<Receiver<Ask>>,
    pending: Mutex<Option<Pending>>,
    /// The run's id once it started (for `status`).
    pub run_id: Mutex<Option<String>>,
    /// The gate or review running now.
    pub now: Mutex<String>,
}

impl Desk {
    pub fn new() -> (Arc<Desk>, Sender<Ask>) {
        let (tx, rx) = std::sync::mpsc::channel();
        let desk = Desk {
            phase: watch::Sender::new(Phase::Starting),
            asks: Mutex::new(rx),
            pending: Mutex::new(None),
            run_id: Mutex::new(None),
            now: Mutex::new(String::new()),
        };
        (Arc::new(desk), tx)
    }

    fn take_pending(&self) -> Option<Pending> {
        self.pending.lock().unwrap().take()
    }

    /// Answers the submission of `task`, if one waits.
    fn answer(&self, task: &str, v: Verdict) {
        let mut p = self.pending.lock().unwrap();
        if p.as_ref().is_some_and(|p| p.task == task) {
            let _ = p.take().unwrap().reply.send(v);
        }
    }

    fn progress(&self, text: String) {
        *self.now.lock().unwrap() = text.clone();
        if let Some(tx) = self
            .pending
            .lock()
            .unwrap()
            .as_ref()
            .and_then(|p| p.progress.as_ref())
        {
            let _ = tx.send(text);
        }
    }

    /// The engine returned: answers a submission still waiting and says how the run ended.
    pub fn finish(&self, ended: Result<&RunRecord, String>, plan: &Path) {
        let (state, message) = match ended {
            Ok(r) => ended_state(r, plan),
            Err(e) => ("failed".to_string(), e),
        };
        if let Some(p) = self.take_pending() {
            let _ = p.reply.send(Verdict {
                task_id: p.task,
                outcome: "stopped".into(),
                commit: None,
                files: vec![],
                findings: vec![],
                message: message.clone(),
            });
        }
        self.phase.send_replace(Phase::Ended { state, message });
    }

    /// Waits for the agent's word on `brief`'s task; a disconnected client or a
    /// signal leaves the task waiting (resumed by the next `planexec mcp` or `run --resume`).
    fn wait_for_agent(&self, brief: &Brief) -> ImplementRun {
        let rx = self.asks.lock().unwrap();
        loop {
            let ask = match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(a) => a,
                Err(RecvTimeoutError::Timeout) if crate::interrupt::pending().is_none() => continue,
                Err(_) => return waiting(&brief.task_id),
            };
            let (task, reply, progress, run) = match ask {
                Ask::Submit {
                    task,
                    notes,
                    reply,
                    progress,
                } => {
                    let summary = notes.filter(|n| !n.trim().is_empty());
                    let summary = summary.unwrap_or_else(|| "submitted by the agent".into());
                    (
                        task,
                        reply,
                        Some(progress),
                        ImplementRun::new("mcp", ImplementStatus::Done, summary),
                    )
                }
                Ask::Escalate {
                    task,
                    reason,
                    reply,
                } => (
                    task,
                    reply,
                    None,
                    ImplementRun::new("mcp", ImplementStatus::Escalated, reason),
                ),
            };
            if task != brief.task_id {
                let _ = reply.send(refused(&task, &brief.task_id));
                continue;
            }
            *self.pending.lock().unwrap() = Some(Pending {
                task: task.clone(),
                reply,
                progress,
            });
            self.phase
                .send_replace(Phase::Working(format!("checking {task}")));
            return run;
        }
    }
}

impl Driver for Desk {
    fn implement(&self, _workspace: &Path, input: &ImplementInput) -> ImplementRun {
        let brief = brief(input);
        if let Some(p) = self.take_pending() {
            // Asked again for the same task: the submission was rejected.
            let _ = p.reply.send(rejected(&p.task, &brief));
        }
        self.phase.send_replace(Phase::Awaiting(brief.clone()));
        self.wait_for_agent(&brief)
    }
}

/// The engine's events, as the tools need them (verdicts, progress, the run id).
pub struct DeskSink(pub Arc<Desk>);

impl Sink for DeskSink {
    fn event(&mut self, ev: &Event) {
        let d = &self.0;
        match ev {
            Event::RunStarted { run_id, .. } => *d.run_id.lock().unwrap() = Some(run_id.clone()),
            Event::GateStarted { gate, .. } => d.progress(format!("gate {gate} running")),
            Event::GateFinished { run, .. } => {
                d.progress(format!("gate {} {}", run.name, outcome(run.report.outcome)))
            }
            Event::ReviewFinished { run, .. } => d.progress(
                format!("{:?} review by {}: {:?}", run.kind, run.plugin, run.outcome)
                    .to_lowercase(),
            ),
            Event::Committed {
                task,
                commit,
                files,
            } => d.answer(task, done(task, commit, files)),
            Event::TaskBlocked { task, reason } => d.answer(task, blocked(task, reason)),
            _ => {}
        }
    }
}

fn outcome(o: Outcome) -> &'static str {
    match o {
        Outcome::Passed => "passed",
        Outcome::Failed => "failed",
        Outcome::Errored => "errored",
        Outcome::Skipped => "skipped",
    }
}

fn brief(i: &ImplementInput) -> Brief {
    let t = i.task;
    Brief {
        task_id: t.id.clone(),
        title: t.title.clone(),
        cycle: i.cycle.max(1),
        text: t.body.trim().to_string(),
        files: t.files.clone(),
        acceptance: t.acceptance.clone(),
        acceptance_commands: t.acceptance_commands.clone(),
        constraints: i.constraints.to_vec(),
        tolerances: i.tolerances.to_vec(),
        feedback: i.feedback.iter().map(Found::from).collect(),
    }
}

fn verdict(task: &str, outcome: &str, message: String) -> Verdict {
    Verdict {
        task_id: task.to_string(),
        outcome: outcome.into(),
        commit: None,
        files: vec![],
        findings: vec![],
        message,
    }
}

fn rejected(task: &str, next: &Brief) -> Verdict {
    let mut v = verdict(
        task,
        "rejected",
        format!(
            "{task} was not accepted: fix what the findings say, then submit again (attempt {})",
            next.cycle
        ),
    );
    v.findings = next.feedback.clone();
    v
}

fn done(task: &str, commit: &str, files: &[String]) -> Verdict {
    let mut v = verdict(
        task,
        "done",
        format!(
            "{task} committed as {}; call next_task",
            &commit[..commit.len().min(10)]
        ),
    );
    v.commit = Some(commit.to_string());
    v.files = files.to_vec();
    v
}

fn blocked(task: &str, reason: &str) -> Verdict {
    verdict(
        task,
        "blocked",
        format!(
            "{task} is blocked: {reason}. Stop and ask the person; they continue the run by \
             restarting this server or with `planexec run PLAN --resume`"
        ),
    )
}

fn refused(task: &str, current: &str) -> Verdict {
    verdict(
        task,
        "refused",
        format!("{task} is not the task in progress ({current} is); call next_task"),
    )
}

fn waiting(task: &str) -> ImplementRun {
    ImplementRun::new(
        "mcp",
        ImplementStatus::Waiting,
        format!(
            "{task} waits for the agent (the MCP session ended); continue with `planexec mcp PLAN`"
        ),
    )
}

/// How a finished run looks to `next_task`.
fn ended_state(r: &RunRecord, plan: &Path) -> (String, String) {
    let resume = format!("planexec run {} --resume", plan.display());
    let blocked = r
        .tasks
        .iter()
        .find(|t| t.status == planexec_record::TaskStatus::Blocked);
    match r.status {
        RunStatus::Success => ("done".into(), "every task is done and the final gates passed".into()),
        RunStatus::Blocked => (
            "blocked".into(),
            match blocked {
                Some(t) => format!(
                    "{} is blocked: {}. Stop and ask the person; they continue with `{resume}` or by restarting this server",
                    t.id,
                    t.blocked_reason.clone().unwrap_or_default()
                ),
                None => format!("the run is blocked; continue with `{resume}`"),
            },
        ),
        RunStatus::Waiting => ("waiting".into(), "the run waits; restart this server to continue".into()),
        RunStatus::Failure => ("failed".into(), "a final gate failed; see the execution log".into()),
        RunStatus::Escalated | RunStatus::Running => (
            "stopped".into(),
            r.issues.last().map(|i| format!("{} ({})", i.issue, i.resolution)).unwrap_or_else(|| "the run stopped".into()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use planexec_record::Finding;

    fn input<'a>(
        task: &'a planexec_plan::Task,
        cycle: u32,
        feedback: &'a [Finding],
    ) -> ImplementInput<'a> {
        ImplementInput {
            task,
            cycle,
            feedback,
            plan_path: "plan.md",
            plan_dir: String::new(),
            resumed: false,
            constraints: &[],
            tolerances: &[],
        }
    }

    fn submit(asks: &Sender<Ask>, task: &str) -> oneshot::Receiver<Verdict> {
        let (reply, answer) = oneshot::channel();
        let (progress, _) = mpsc::unbounded_channel();
        let notes = None;
        asks.send(Ask::Submit {
            task: task.into(),
            notes,
            reply,
            progress,
        })
        .unwrap();
        answer
    }

    /// A submission is the cycle's `done`; asked again for the same task means rejected
    /// (with the cycle's findings), a commit event means done, another task is refused.
    #[test]
    fn the_engine_side_turns_asks_into_cycles_and_events_into_verdicts() {
        let (desk, asks) = Desk::new();
        let mut task = planexec_plan::Task::default();
        task.id = "T1".into();
        let wrong = submit(&asks, "T9");
        let first = submit(&asks, "T1");
        let run = desk.implement(Path::new("."), &input(&task, 1, &[]));
        assert_eq!(run.status, ImplementStatus::Done);
        assert_eq!(wrong.blocking_recv().unwrap().outcome, "refused");
        let found = [Finding {
            severity: planexec_record::Severity::Important,
            rule: "gate/x/test".into(),
            message: "t: assert 1 == 2".into(),
            path: None,
            line: None,
            column: None,
            end_line: None,
            end_column: None,
        }];
        let second = submit(&asks, "T1");
        desk.implement(Path::new("."), &input(&task, 2, &found));
        let v = first.blocking_recv().unwrap();
        assert_eq!(
            (v.outcome.as_str(), v.findings[0].message.as_str()),
            ("rejected", "t: assert 1 == 2")
        );
        let files = vec!["a.py".to_string()];
        DeskSink(desk.clone()).event(&Event::Committed {
            task: "T1".into(),
            commit: "abc".into(),
            files,
        });
        assert_eq!(second.blocking_recv().unwrap().outcome, "done");
        drop(asks);
        let run = desk.implement(Path::new("."), &input(&task, 1, &[]));
        assert_eq!(
            run.status,
            ImplementStatus::Waiting,
            "a client that hung up leaves the task waiting"
        );
    }
}
