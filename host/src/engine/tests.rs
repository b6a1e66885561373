//! The task loop with fake plugins on a real temporary git repository: one test
//! per transition and per failure path, no wasm component built.

use super::machine::{self, Entry, Step, Verdict};
use super::ports::{GateRef, ImplementInput, Plugins, Rendered, ReviewInput};
use super::state::{Settings, State, Store};
use super::{outputs, setup, Ctx};
use crate::config::Config;
use crate::report::{Event, Reporter, Sink};
use planexec_plan::Plan;
use planexec_record::*;
use planexec_vcs::Repo;
use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// What the fake implementer does in one call: files to write, then its status.
struct Act {
    writes: Vec<(&'static str, &'static str)>,
    status: ImplementStatus,
}

fn writes(files: &[(&'static str, &'static str)]) -> Act {
    Act {
        writes: files.to_vec(),
        status: ImplementStatus::Done,
    }
}

/// Scripted plugins: each call takes the next scripted answer (gates pass and
/// reviews approve when the script runs out) and is logged.
#[derive(Default)]
struct Fake {
    acts: Mutex<VecDeque<Act>>,
    gates: Mutex<VecDeque<GateReport>>,
    reviews: Mutex<VecDeque<Result<bool, String>>>,
    calls: Mutex<Vec<String>>,
    feedback_seen: Mutex<Vec<Vec<Finding>>>,
    resumed_seen: Mutex<Vec<bool>>,
    /// Scripts for one task (parallel tasks call in any order); before `acts`.
    per_task: Mutex<std::collections::HashMap<String, VecDeque<Act>>>,
    /// The workspace each implement call was given, with its task.
    workspaces: Mutex<Vec<(String, std::path::PathBuf)>>,
    /// The implementer commits what it wrote (as a misbehaving agent would).
    commits: std::sync::atomic::AtomicBool,
    /// Files the implementer claims to have changed, and the transcript it returns.
    claims: Mutex<Vec<String>>,
    transcript: Mutex<String>,
    /// What each review was given as the host's check of the implementer.
    implementer_findings_seen: Mutex<Vec<Vec<Finding>>>,
    /// What every approving or rejecting review reports it cost (an agent reviewer).
    review_usage: Option<Usage>,
}

fn report(outcome: Outcome, summary: &str) -> GateReport {
    let mut r = GateReport::errored(summary);
    r.outcome = outcome;
    r
}

impl Plugins for Fake {
    fn implement(&self, ws: &Path, i: &ImplementInput) -> ImplementRun {
        self.calls
            .lock()
            .unwrap()
            .push(format!("implement {} #{}", i.task.id, i.cycle));
        self.feedback_seen.lock().unwrap().push(i.feedback.to_vec());
        self.resumed_seen.lock().unwrap().push(i.resumed);
        self.workspaces
            .lock()
            .unwrap()
            .push((i.task.id.clone(), ws.to_path_buf()));
        let own = self
            .per_task
            .lock()
            .unwrap()
            .get_mut(&i.task.id)
            .and_then(|q| q.pop_front());
        let act = own
            .or_else(|| self.acts.lock().unwrap().pop_front())
            .unwrap_or(Act {
                writes: vec![],
                status: ImplementStatus::Failed,
            });
        for (f, text) in act.writes {
            std::fs::write(ws.join(f), text).unwrap();
        }
        if self.commits.load(std::sync::atomic::Ordering::SeqCst) {
            git(ws, &["add", "-A"]);
            git(ws, &["commit", "-qm", "agent: my own commit"]);
        }
        let mut run = ImplementRun::new("fake", act.status, format!("{:?}", act.status));
        run.claimed_files = self.claims.lock().unwrap().clone();
        run.transcript = self.transcript.lock().unwrap().clone();
        run
    }
    fn task_gates(&self) -> Vec<String> {
        vec![]
    }
    fn final_gates(&self) -> Vec<(String, String)> {
        vec![]
    }
    fn gate(&self, _ws: &Path, g: GateRef, task: Option<&planexec_plan::Task>) -> GateRun {
        let name = match g {
            GateRef::Acceptance { n, .. } => format!("acceptance:{}#{n}", task.unwrap().id),
            GateRef::Task(n) => format!("task-gate-{n}"),
            GateRef::Final(n) => format!("final-{n}"),
        };
        self.calls.lock().unwrap().push(format!("gate {name}"));
        let report = self
            .gates
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or_else(|| report(Outcome::Passed, "exited 0"));
        GateRun {
            name,
            plugin: "command".into(),
            report,
            programs: vec![],
        }
    }
    fn review(&self, _ws: &Path, i: &ReviewInput) -> Option<ReviewRun> {
        self.calls
            .lock()
            .unwrap()
            .push(format!("review {:?}", i.kind));
        self.implementer_findings_seen
            .lock()
            .unwrap()
            .push(i.implementer_findings.to_vec());
        let verdict = self.reviews.lock().unwrap().pop_front().unwrap_or(Ok(true));
        Some(match verdict {
            Ok(approved) => ReviewRun {
                kind: i.kind,
                plugin: "fake-review".into(),
                outcome: if approved {
                    ReviewOutcome::Approved
                } else {
                    ReviewOutcome::ChangesRequested
                },
                review: Some(Review {
                    approved,
                    criteria: vec![],
                    findings: if approved {
                        vec![]
                    } else {
                        vec![Finding {
                            severity: Severity::Important,
                            rule: "scope".into(),
                            message: "stray file".into(),
                            path: Some("stray.txt".into()),
                            line: Some(1),
                            column: None,
                            end_line: None,
                            end_column: None,
                        }]
                    },
                    summary: if approved { "ok" } else { "changes requested" }.into(),
                    transcript_path: None,
                    transcript: String::new(),
                    usage: None,
                }),
                error: None,
                programs: vec![],
                usage: self.review_usage.clone(),
            },
            Err(e) => ReviewRun {
                kind: i.kind,
                plugin: "fake-review".into(),
                outcome: ReviewOutcome::Errored,
                review: None,
                error: Some(e),
                programs: vec![],
                usage: None,
            },
        })
    }
    fn render(&self, _ws: &Path, _json: &str, _log: Option<&str>) -> Vec<Rendered> {
        vec![]
    }
}

/// Collects the events, to check what reached the terminal.
#[derive(Clone, Default)]
struct Events(Arc<Mutex<Vec<String>>>);

impl Sink for Events {
    fn event(&mut self, ev: &Event) {
        if let Event::Message { text, .. } = ev {
            self.0.lock().unwrap().push(text.clone());
        }
    }
}

fn git(d: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(d)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// A repository with one committed plan of `tasks` (id, file), each accepted by `test -f FILE`.
struct World {
    tmp: tempfile::TempDir,
    repo: Repo,
    plan: Plan,
    config: Config,
    store: Store,
}

fn world(tasks: &[(&str, &str)], tolerances: &str) -> World {
    let mut plan = String::from("---\ntitle: Demo\n---\n# Plan: Demo\n\n");
    if !tolerances.is_empty() {
        plan.push_str(&format!("## Tolerances\n\n{tolerances}\n\n"));
    }
    plan.push_str("## Tasks\n\n");
    for (id, file) in tasks {
        plan.push_str(&format!(
            "### {id}: Write {file}\n**Summary**: Write {file}\n**Dependencies**: none\n**Files/modules touched**: {file}\n**Acceptance test**: `test -f {file}`\n\n"
        ));
    }
    world_of(&plan)
}

/// A repository with `plan` committed as plan/plan.md.
fn world_of(plan: &str) -> World {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    git(d, &["init", "-q", "-b", "main"]);
    git(d, &["config", "user.email", "dev@example.com"]);
    git(d, &["config", "user.name", "Dev"]);
    std::fs::create_dir_all(d.join("plan")).unwrap();
    std::fs::write(d.join("plan/plan.md"), plan).unwrap();
    git(d, &["add", "."]);
    git(d, &["commit", "-qm", "plan"]);
    let repo = Repo::discover(d).unwrap();
    let plan = planexec_plan::load(&d.join("plan/plan.md"), None).unwrap();
    let store = Store::new(repo.git().path());
    World {
        tmp,
        repo,
        plan,
        config: Config::default(),
        store,
    }
}

fn fresh_state(w: &World) -> State {
    let pre = Preflight {
        branch: "main".into(),
        head: String::new(),
        dirty: false,
        rollback_commit: None,
        start_commit: String::new(),
        checks: vec![],
    };
    let record = setup::new_record(&w.plan, "plan/plan.md", "test-run".into(), pre, None);
    setup::new_state(record, "plan/plan.md", Settings::default())
}

/// Runs every task of the plan in order with `fake`, from `state`.
fn drive(w: &World, fake: &Fake, state: State, events: &Events) -> (RunStatus, State) {
    let (status, _, state) = drive_until(w, fake, state, events, &|| None);
    (status, state)
}

/// [`drive`] with a stop signal; also returns the signal the run stopped on.
fn drive_until(
    w: &World,
    fake: &Fake,
    state: State,
    events: &Events,
    stop: &(dyn Fn() -> Option<i32> + Sync),
) -> (RunStatus, Option<i32>, State) {
    drive_with(w, fake, state, events, stop, 1)
}

/// The plan's tasks as one wave (none depends on another), `jobs` at once.
fn drive_with(
    w: &World,
    fake: &Fake,
    state: State,
    events: &Events,
    stop: &(dyn Fn() -> Option<i32> + Sync),
    jobs: usize,
) -> (RunStatus, Option<i32>, State) {
    let mut reporter = Reporter::new(vec![Box::new(events.clone())]);
    let mut ctx = Ctx {
        repo: &w.repo,
        workspace: w.tmp.path(),
        home: w.tmp.path(),
        plan: &w.plan,
        config: &w.config,
        plugins: fake,
        store: Some(&w.store),
        reporter: &mut reporter,
        own_files: vec![],
        tolerances: outputs::Limits::new(&w.plan, &w.config),
        state,
        changed: Default::default(),
        stop,
        pace: Default::default(),
        jobs,
        budget: super::budget::Budget::new(&w.plan, &w.config, &Default::default()),
        accepting: None,
    };
    let order: Vec<String> = w.plan.tasks.iter().map(|t| t.id.clone()).collect();
    let (status, sig) = super::drive(&mut ctx, &[order]);
    (status, sig, ctx.state)
}

fn subjects(w: &World) -> Vec<String> {
    git(w.tmp.path(), &["log", "--format=%s"])
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn a_passing_cycle_commits_the_task_with_exactly_its_file() {
    let w = world(&[("T001", "a.txt")], "");
    let fake = Fake::default();
    fake.acts
        .lock()
        .unwrap()
        .push_back(writes(&[("a.txt", "a\n")]));
    let (status, st) = drive(&w, &fake, fresh_state(&w), &Events::default());
    assert_eq!(status, RunStatus::Success);
    assert_eq!(subjects(&w), ["T001: Write a.txt", "plan"]);
    let t = &st.record.tasks[0];
    assert_eq!(t.status, TaskStatus::Done);
    assert_eq!(t.cycles.len(), 1);
    assert_eq!(t.cycles[0].outcome, CycleOutcome::Passed);
    assert_eq!(t.cycles[0].files, ["a.txt"]);
    assert_eq!(
        *fake.calls.lock().unwrap(),
        [
            "implement T001 #1",
            "gate acceptance:T001#1",
            "review Task",
            "review Code"
        ]
    );
    assert!(st.record.issues.is_empty(), "{:?}", st.record.issues);
}

#[test]
fn a_failing_gate_sends_its_output_back_once_and_the_rework_passes() {
    let w = world(&[("T001", "a.txt")], "");
    let fake = Fake::default();
    fake.acts
        .lock()
        .unwrap()
        .extend([writes(&[("a.txt", "1\n")]), writes(&[("a.txt", "2\n")])]);
    let mut failed = report(Outcome::Failed, "`pytest` exited 1");
    failed.evidence = "collected 1 item\nE   assert 5 == 6\n".into();
    fake.gates.lock().unwrap().push_back(failed);
    let (status, st) = drive(&w, &fake, fresh_state(&w), &Events::default());
    assert_eq!(status, RunStatus::Success);
    let t = &st.record.tasks[0];
    assert_eq!(t.cycles.len(), 2);
    assert_eq!(t.cycles[0].outcome, CycleOutcome::Rework);
    // The second implement call got the first cycle's feedback: one headline with the output.
    let seen = fake.feedback_seen.lock().unwrap();
    assert!(seen[0].is_empty());
    assert_eq!(seen[1].len(), 1, "{:?}", seen[1]);
    assert!(
        seen[1][0].message.contains("acceptance:T001#1")
            && seen[1][0].message.contains("assert 5 == 6")
    );
    // The rejected cycle is an issue of the record.
    assert!(
        st.record
            .issues
            .iter()
            .any(|i| i.issue.contains("cycle 1 rejected")),
        "{:?}",
        st.record.issues
    );
}

#[test]
fn a_rejecting_task_review_skips_the_code_review_and_passes_its_findings_on() {
    let w = world(&[("T001", "a.txt")], "");
    let fake = Fake::default();
    fake.acts
        .lock()
        .unwrap()
        .extend([writes(&[("a.txt", "1\n")]), writes(&[("a.txt", "2\n")])]);
    fake.reviews.lock().unwrap().push_back(Ok(false));
    let (status, st) = drive(&w, &fake, fresh_state(&w), &Events::default());
    assert_eq!(status, RunStatus::Success);
    let c1 = &st.record.tasks[0].cycles[0];
    assert_eq!(c1.reviews.len(), 1, "the code review did not run");
    assert!(c1
        .feedback
        .iter()
        .any(|f| f.path.as_deref() == Some("stray.txt") && f.line == Some(1)));
    assert_eq!(fake.feedback_seen.lock().unwrap()[1], c1.feedback);
}

/// Reviews' reported cost counts in the run budget: T001's two reviews ($0.60 each)
/// cross the plan's $1, so the run escalates before T002 starts.
#[test]
fn reviews_cost_counts_in_the_run_budget_and_escalates_before_the_next_task() {
    let w = world(
        &[("T001", "a.txt"), ("T002", "b.txt")],
        "- Budget: $1 for the whole plan.",
    );
    let fake = Fake {
        review_usage: Some(Usage {
            cost_usd: Some(0.6),
            input_tokens: Some(10),
            output_tokens: Some(5),
            turns: Some(1),
        }),
        ..Fake::default()
    };
    fake.acts
        .lock()
        .unwrap()
        .extend([writes(&[("a.txt", "1\n")]), writes(&[("b.txt", "2\n")])]);
    let (status, st) = drive(&w, &fake, fresh_state(&w), &Events::default());
    assert_eq!(status, RunStatus::Escalated);
    assert_eq!(st.record.tasks[0].status, TaskStatus::Done);
    assert!(st.record.tasks[1].cycles.is_empty(), "T002 never started");
    assert!(!fake
        .calls
        .lock()
        .unwrap()
        .contains(&"implement T002 #1".to_string()));
    let spent = super::budget::spent(&st.record, 0);
    assert!((spent.cost_usd - 1.2).abs() < 1e-9, "{spent:?}");
    assert_eq!(spent.tokens, 30);
    let why = st
        .record
        .issues
        .iter()
        .find(|i| i.resolution.starts_with("escalated"))
        .map(|i| i.issue.as_str())
        .unwrap_or_else(|| panic!("no escalation: {:?}", st.record.issues));
    assert!(
        why.contains("$1.2000") && why.contains("reviewers"),
        "{why}"
    );
}

#[test]
fn an_erroring_reviewer_blocks_the_task() {
    let w = world(&[("T001", "a.txt")], "");
    let fake = Fake::default();
    fake.acts
        .lock()
        .unwrap()
        .push_back(writes(&[("a.txt", "1\n")]));
    fake.reviews
        .lock()
        .unwrap()
        .push_back(Err("trap: out of fuel".into()));
    let (status, st) = drive(&w, &fake, fresh_state(&w), &Events::default());
    assert_eq!(status, RunStatus::Blocked);
    let t = &st.record.tasks[0];
    assert_eq!(t.status, TaskStatus::Blocked);
    let reason = t.blocked_reason.as_deref().unwrap();
    assert!(
        reason.contains("errored") && reason.contains("out of fuel"),
        "{reason}"
    );
    assert_eq!(subjects(&w), ["plan"]);
}

#[test]
fn a_tolerance_breach_blocks_before_the_gates() {
    let w = world(
        &[("T001", "a.txt")],
        "- Scope: stop and escalate if a task touches more than 1 files or 100 net lines.",
    );
    let fake = Fake::default();
    fake.acts
        .lock()
        .unwrap()
        .push_back(writes(&[("a.txt", "1\n"), ("b.txt", "2\n")]));
    let (status, st) = drive(&w, &fake, fresh_state(&w), &Events::default());
    assert_eq!(status, RunStatus::Blocked);
    assert!(st.record.tasks[0]
        .blocked_reason
        .as_deref()
        .unwrap()
        .contains("tolerance breached"));
    assert_eq!(
        *fake.calls.lock().unwrap(),
        ["implement T001 #1"],
        "no gate ran"
    );
}

#[test]
fn a_failed_implementer_is_rejected_without_gates() {
    let w = world(&[("T001", "a.txt")], "");
    let fake = Fake::default();
    fake.acts.lock().unwrap().push_back(Act {
        writes: vec![],
        status: ImplementStatus::Failed,
    });
    fake.acts
        .lock()
        .unwrap()
        .push_back(writes(&[("a.txt", "1\n")]));
    let (status, st) = drive(&w, &fake, fresh_state(&w), &Events::default());
    assert_eq!(status, RunStatus::Success);
    assert_eq!(st.record.tasks[0].cycles[0].gates.len(), 0);
    assert_eq!(st.record.tasks[0].cycles[0].feedback[0].rule, "implementer");
}

/// Three rejected cycles block; the reason names the first cause, not only the last.
#[test]
fn the_block_after_the_last_cycle_names_the_first_cause() {
    let w = world(&[("T001", "a.txt"), ("T002", "b.txt")], "");
    let fake = Fake::default();
    fake.acts.lock().unwrap().push_back(Act {
        writes: vec![],
        status: ImplementStatus::Failed,
    });
    fake.acts
        .lock()
        .unwrap()
        .extend([writes(&[("a.txt", "1\n")]), writes(&[("a.txt", "2\n")])]);
    fake.gates.lock().unwrap().extend([
        report(Outcome::Failed, "`test -f a.txt` exited 1"),
        report(Outcome::Failed, "`test -f a.txt` exited 1"),
    ]);
    let (status, st) = drive(&w, &fake, fresh_state(&w), &Events::default());
    assert_eq!(status, RunStatus::Blocked);
    let t = &st.record.tasks[0];
    assert_eq!(t.cycles.len(), 3);
    assert_eq!(t.cycles[2].outcome, CycleOutcome::Blocked);
    let reason = t.blocked_reason.as_deref().unwrap();
    assert!(reason.contains("failed 3 cycles"), "{reason}");
    assert!(
        reason.contains("first cause (cycle 1): [implementer]"),
        "{reason}"
    );
    assert!(
        reason.contains("last rejection (cycle 3): [gate/acceptance:T001#1]"),
        "{reason}"
    );
    let rejected = st
        .record
        .issues
        .iter()
        .filter(|i| i.issue.contains("rejected"))
        .count();
    assert_eq!(rejected, 3, "{:?}", st.record.issues);
    assert_eq!(
        st.record.tasks[1].status,
        TaskStatus::Pending,
        "stop and ask"
    );
}

#[test]
fn resume_after_a_block_gets_a_fresh_budget_and_keeps_the_history() {
    let w = world(&[("T001", "a.txt")], "");
    let fake = Fake::default();
    fake.reviews.lock().unwrap().push_back(Err("down".into()));
    fake.acts
        .lock()
        .unwrap()
        .push_back(writes(&[("a.txt", "1\n")]));
    let (status, st) = drive(&w, &fake, fresh_state(&w), &Events::default());
    assert_eq!(status, RunStatus::Blocked);
    std::fs::remove_file(w.tmp.path().join("a.txt")).unwrap();
    let fake = Fake::default();
    fake.acts
        .lock()
        .unwrap()
        .push_back(writes(&[("a.txt", "fixed\n")]));
    let (status, st) = drive(&w, &fake, setup::resumed(st, &w.plan), &Events::default());
    assert_eq!(status, RunStatus::Success);
    let t = &st.record.tasks[0];
    assert_eq!(t.cycles.len(), 2);
    assert_eq!(t.cycles[0].outcome, CycleOutcome::Blocked);
    assert_eq!(t.cycles[1].outcome, CycleOutcome::Passed);
    assert_eq!(st.cycle_base["T001"], 1);
    assert_eq!(t.blocked_reason, None);
}

/// Issue 25: `--resume` of a blocked task sets aside what its attempt left (copied under
/// .git/planexec/blocked/, then undone) and keeps what the person changed since the block.
#[test]
fn resume_after_a_block_starts_clean_but_keeps_the_persons_edits() {
    let w = world(&[("T001", "a.txt")], "");
    let d = w.tmp.path();
    let fake = Fake::default();
    fake.reviews.lock().unwrap().push_back(Err("down".into()));
    fake.acts
        .lock()
        .unwrap()
        .push_back(writes(&[("a.txt", "attempt\n"), ("b.txt", "attempt\n")]));
    let (status, st) = drive(&w, &fake, fresh_state(&w), &Events::default());
    assert_eq!(status, RunStatus::Blocked);
    assert_eq!(st.blocked_left["T001"].len(), 2, "{:?}", st.blocked_left);
    std::fs::write(d.join("b.txt"), "mine\n").unwrap(); // the person's own fix
    let fake = Fake::default();
    fake.acts.lock().unwrap().push_back(writes(&[]));
    let events = Events::default();
    let (_, st) = drive(&w, &fake, setup::resumed(st, &w.plan), &events);
    assert!(!d.join("a.txt").exists(), "the attempt's a.txt was undone");
    assert_eq!(std::fs::read_to_string(d.join("b.txt")).unwrap(), "mine\n");
    let copy = d.join(".git/planexec/blocked/test-run/T001-cycle1");
    assert_eq!(
        std::fs::read_to_string(copy.join("a.txt")).unwrap(),
        "attempt\n"
    );
    assert!(!copy.join("b.txt").exists());
    let said = st
        .record
        .issues
        .iter()
        .find(|i| i.issue == "T001 was resumed after its block")
        .unwrap_or_else(|| panic!("{:?}", st.record.issues));
    assert!(
        said.resolution.contains("changes to a.txt were undone")
            && said
                .resolution
                .contains("kept as you left them (changed since the block): b.txt"),
        "{}",
        said.resolution
    );
    assert!(st.blocked_left.is_empty());
}

#[test]
fn a_waiting_implementer_stops_the_run_and_the_resume_continues_its_cycle() {
    let w = world(&[("T001", "a.txt")], "");
    let fake = Fake::default();
    fake.acts.lock().unwrap().push_back(Act {
        writes: vec![],
        status: ImplementStatus::Waiting,
    });
    let (status, st) = drive(&w, &fake, fresh_state(&w), &Events::default());
    assert_eq!(status, RunStatus::Waiting);
    assert_eq!(st.waiting_task.as_deref(), Some("T001"));
    let fake = Fake::default();
    fake.acts
        .lock()
        .unwrap()
        .push_back(writes(&[("a.txt", "done by hand\n")]));
    let (status, st) = drive(&w, &fake, setup::resumed(st, &w.plan), &Events::default());
    assert_eq!(status, RunStatus::Success);
    assert_eq!(
        st.record.tasks[0].cycles.len(),
        1,
        "the same cycle continued"
    );
    assert_eq!(*fake.resumed_seen.lock().unwrap(), [true]);
}

/// A crash mid-task: the partial work is backed up, undone, and the task redone;
/// the recovery is said on the terminal and recorded.
#[test]
fn crash_recovery_backs_up_and_redoes_the_task() {
    let w = world(&[("T001", "a.txt")], "");
    let mut st = fresh_state(&w);
    let head = w.repo.head().unwrap().unwrap();
    st.task_base.insert("T001".into(), head);
    st.record.tasks[0].status = TaskStatus::InProgress;
    std::fs::write(w.tmp.path().join("a.txt"), "half\n").unwrap();
    let fake = Fake::default();
    fake.acts
        .lock()
        .unwrap()
        .push_back(writes(&[("a.txt", "whole\n")]));
    let events = Events::default();
    let (status, st) = drive(&w, &fake, st, &events);
    assert_eq!(status, RunStatus::Success);
    let backup = w.store.interrupted_dir("test-run", "T001").join("a.txt");
    assert_eq!(std::fs::read_to_string(backup).unwrap(), "half\n");
    assert!(
        events
            .0
            .lock()
            .unwrap()
            .iter()
            .any(|m| m.contains("recovered T001")),
        "{:?}",
        events.0.lock().unwrap()
    );
    assert!(st
        .record
        .issues
        .iter()
        .any(|i| i.issue.contains("interrupted during T001")));
    assert_eq!(
        *fake.calls.lock().unwrap().first().unwrap(),
        "implement T001 #1"
    );
}

/// A crash after the task's commit but before the state was saved: the commit is adopted.
#[test]
fn crash_recovery_adopts_a_commit_that_landed() {
    let w = world(&[("T001", "a.txt")], "");
    let mut st = fresh_state(&w);
    let base = w.repo.head().unwrap().unwrap();
    st.task_base.insert("T001".into(), base);
    st.record.tasks[0].status = TaskStatus::InReview;
    std::fs::write(w.tmp.path().join("a.txt"), "a\n").unwrap();
    git(w.tmp.path(), &["add", "a.txt"]);
    git(w.tmp.path(), &["commit", "-qm", "T001: Write a.txt"]);
    let fake = Fake::default();
    let (status, st) = drive(&w, &fake, st, &Events::default());
    assert_eq!(status, RunStatus::Success);
    assert!(fake.calls.lock().unwrap().is_empty(), "nothing was redone");
    assert_eq!(st.record.tasks[0].commit, w.repo.head().unwrap());
}

/// When the backup cannot be written the work stays in the tree and the run blocks.
#[test]
fn a_failed_backup_blocks_and_leaves_the_work_in_place() {
    let w = world(&[("T001", "a.txt")], "");
    let mut st = fresh_state(&w);
    st.task_base
        .insert("T001".into(), w.repo.head().unwrap().unwrap());
    st.record.tasks[0].status = TaskStatus::InProgress;
    std::fs::write(w.tmp.path().join("a.txt"), "precious\n").unwrap();
    // A file where the backup folder must go: creating it fails.
    let dir = w.store.interrupted_dir("test-run", "T001");
    std::fs::create_dir_all(dir.parent().unwrap()).unwrap();
    std::fs::write(&dir, "in the way").unwrap();
    let fake = Fake::default();
    let (status, st) = drive(&w, &fake, st, &Events::default());
    assert_eq!(status, RunStatus::Blocked);
    assert!(st.record.tasks[0]
        .blocked_reason
        .as_deref()
        .unwrap()
        .contains("could not be backed up"));
    assert_eq!(
        std::fs::read_to_string(w.tmp.path().join("a.txt")).unwrap(),
        "precious\n"
    );
    assert!(fake.calls.lock().unwrap().is_empty());
}

// The pure transitions, one by one.

fn task_in(status: TaskStatus, cycles: usize) -> TaskRecord {
    let w = world(&[("T001", "a.txt")], "");
    let mut t = fresh_state(&w).record.tasks.remove(0);
    t.status = status;
    for n in 0..cycles {
        t.cycles.push(Cycle {
            number: n as u32 + 1,
            started_at: String::new(),
            finished_at: None,
            implementer: None,
            gates: vec![],
            reviews: vec![],
            files: vec![],
            added_lines: 0,
            removed_lines: 0,
            outcome: CycleOutcome::Rework,
            feedback: vec![machine::finding("r", format!("cause {}", n + 1))],
            timings: vec![],
        });
    }
    t
}

#[test]
fn entry_follows_the_status() {
    assert_eq!(
        machine::entry(&task_in(TaskStatus::Done, 1), false, false),
        Entry::Committed
    );
    assert_eq!(
        machine::entry(&task_in(TaskStatus::Blocked, 3), false, false),
        Entry::Unblock
    );
    assert_eq!(
        machine::entry(&task_in(TaskStatus::InReview, 1), false, false),
        Entry::Recover
    );
    assert_eq!(
        machine::entry(&task_in(TaskStatus::InProgress, 1), true, false),
        Entry::Start
    );
    assert_eq!(
        machine::entry(&task_in(TaskStatus::Pending, 0), false, true),
        Entry::MarkedDone
    );
    assert_eq!(
        machine::entry(&task_in(TaskStatus::Pending, 0), false, false),
        Entry::Start
    );
}

#[test]
fn implement_inspect_and_gate_transitions() {
    let imp = |status| ImplementRun::new("p", status, "s");
    assert_eq!(
        machine::after_implement(&imp(ImplementStatus::Waiting)),
        Step::Wait
    );
    assert_eq!(
        machine::after_implement(&imp(ImplementStatus::Done)),
        Step::Inspect(vec![])
    );
    assert!(
        matches!(machine::after_implement(&imp(ImplementStatus::Failed)), Step::Inspect(v) if v.len() == 1)
    );
    assert!(
        matches!(machine::after_implement(&imp(ImplementStatus::Errored)), Step::Block(r) if r.contains("not retried") && r.ends_with(": s"))
    );
    // `planexec mcp`'s escalate: blocked with the agent's reason, nothing gated.
    assert!(
        matches!(machine::after_implement(&imp(ImplementStatus::Escalated)), Step::Block(r) if r.ends_with(": s"))
    );
    assert_eq!(
        machine::after_inspect(Some("too big".into()), vec![]),
        Step::Block("too big".into())
    );
    assert_eq!(machine::after_inspect(None, vec![]), Step::Gates);
    let run = |o| GateRun {
        name: "g".into(),
        plugin: "command".into(),
        report: report(o, "sum"),
        programs: vec![],
    };
    assert_eq!(
        machine::after_gates(&[run(Outcome::Passed)], false),
        Step::Review
    );
    assert!(matches!(
        machine::after_gates(&[run(Outcome::Passed)], true),
        Step::Reject(_)
    ));
    assert!(matches!(
        machine::after_gates(&[run(Outcome::Errored)], false),
        Step::Reject(_)
    ));
}

#[test]
fn gate_findings_carry_each_test_failure_with_its_place_once() {
    let mut r = report(Outcome::Failed, "1 failed");
    r.failures = vec![
        TestFailure {
            name: "test_add".into(),
            message: "assert 5 == 6".into(),
            path: Some("tests/test_math.py".into()),
            line: Some(7),
            output: String::new(),
        };
        2
    ];
    let run = GateRun {
        name: "pytest".into(),
        plugin: "pytest".into(),
        report: r,
        programs: vec![],
    };
    let out = machine::after_gates(&[run], false);
    let Step::Reject(f) = out else {
        panic!("{out:?}")
    };
    assert_eq!(f.len(), 2, "headline + the failure once: {f:?}");
    assert_eq!(f[1].message, "test_add: assert 5 == 6");
    assert_eq!(
        (f[1].path.as_deref(), f[1].line),
        (Some("tests/test_math.py"), Some(7))
    );
}

#[test]
fn review_and_rejection_transitions() {
    let run = |approved: Option<bool>| ReviewRun {
        kind: ReviewKind::Task,
        plugin: "rv".into(),
        outcome: ReviewOutcome::Errored,
        review: approved.map(|a| Review {
            approved: a,
            criteria: vec![],
            findings: vec![],
            summary: "s".into(),
            transcript_path: None,
            transcript: String::new(),
            usage: None,
        }),
        error: Some("boom".into()),
        programs: vec![],
        usage: None,
    };
    assert_eq!(
        machine::after_review(&run(Some(true))),
        Verdict::Approved(vec![])
    );
    assert!(matches!(
        machine::after_review(&run(Some(false))),
        Verdict::Rejected(_)
    ));
    assert!(matches!(machine::after_review(&run(None)), Verdict::Errored(r) if r.contains("boom")));
    let t = task_in(TaskStatus::InProgress, 3);
    assert_eq!(machine::after_rejection(&t, 2, 3, "max 3"), Step::Rework);
    let Step::Block(reason) = machine::after_rejection(&t, 3, 3, "max 3") else {
        panic!()
    };
    assert!(
        reason.contains("first cause (cycle 1): [r] cause 1"),
        "{reason}"
    );
    assert!(
        reason.contains("last rejection (cycle 3): [r] cause 3"),
        "{reason}"
    );
}

// The journal: saves append, load replays, a stop compacts.

#[test]
fn saves_append_to_the_journal_and_load_replays_them() {
    let w = world(&[("T001", "a.txt"), ("T002", "b.txt")], "");
    let mut st = fresh_state(&w);
    w.store.save(&mut st, vec![]).unwrap(); // the first save is a snapshot
    let snapshot = w.tmp.path().join(".git/planexec/runs/test-run.json");
    let before = std::fs::read(&snapshot).unwrap();
    st.record.tasks[1].status = TaskStatus::InProgress;
    st.waiting_task = Some("T002".into());
    w.store.save(&mut st, vec!["T002".into()]).unwrap();
    st.record.tasks[1].status = TaskStatus::InReview;
    w.store.save(&mut st, vec!["T002".into()]).unwrap();
    assert_eq!(
        std::fs::read(&snapshot).unwrap(),
        before,
        "the snapshot is not rewritten"
    );
    let journal = w.tmp.path().join(".git/planexec/journal/test-run.ndjson");
    assert_eq!(
        std::fs::read_to_string(&journal).unwrap().lines().count(),
        4
    );
    let loaded = Store::new(w.repo.git().path()).load("test-run").unwrap();
    assert_eq!(loaded.record, st.record);
    assert_eq!(loaded.waiting_task.as_deref(), Some("T002"));
}

#[test]
fn a_torn_last_journal_line_is_ignored_and_a_stop_compacts() {
    let w = world(&[("T001", "a.txt")], "");
    let mut st = fresh_state(&w);
    w.store.save(&mut st, vec![]).unwrap();
    st.record.tasks[0].status = TaskStatus::Rework;
    w.store.save(&mut st, vec!["T001".into()]).unwrap();
    let journal = w.tmp.path().join(".git/planexec/journal/test-run.ndjson");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&journal)
        .unwrap();
    std::io::Write::write_all(&mut f, b"{\"entry\":\"task\",\"task\":{\"id\":\"T0").unwrap();
    let store = Store::new(w.repo.git().path());
    let mut loaded = store.load("test-run").unwrap();
    assert_eq!(loaded.record.tasks[0].status, TaskStatus::Rework);
    // A bad line that is not the last is an error, not a silent loss.
    std::io::Write::write_all(&mut f, b"\n{}\n").unwrap();
    assert!(Store::new(w.repo.git().path()).load("test-run").is_err());
    loaded.record.status = RunStatus::Blocked;
    store.save(&mut loaded, vec![]).unwrap();
    assert!(
        !journal.exists(),
        "stopping folds the journal into the snapshot"
    );
    let again = Store::new(w.repo.git().path()).load("test-run").unwrap();
    assert_eq!(again.record.status, RunStatus::Blocked);
}

/// A signal between two steps stops the task where it is; resume recovers it.
#[test]
fn a_signal_stops_the_loop_between_steps_and_resume_redoes_the_cycle() {
    let w = world(&[("T001", "a.txt")], "");
    let fake = Fake::default();
    fake.acts
        .lock()
        .unwrap()
        .push_back(writes(&[("a.txt", "half\n")]));
    // The signal arrives while the implementer works: seen before the next step.
    let stop = || (!fake.calls.lock().unwrap().is_empty()).then_some(libc::SIGINT);
    let (status, sig, st) = drive_until(&w, &fake, fresh_state(&w), &Events::default(), &stop);
    assert_eq!((status, sig), (RunStatus::Running, Some(libc::SIGINT)));
    assert_eq!(
        *fake.calls.lock().unwrap(),
        ["implement T001 #1"],
        "no gate after the signal"
    );
    assert_eq!(st.record.tasks[0].status, TaskStatus::InProgress);
    assert!(st
        .record
        .issues
        .iter()
        .any(|i| i.issue.contains("interrupted by SIGINT")));
    let fake = Fake::default();
    fake.acts
        .lock()
        .unwrap()
        .push_back(writes(&[("a.txt", "whole\n")]));
    let (status, st) = drive(&w, &fake, setup::resumed(st, &w.plan), &Events::default());
    assert_eq!(status, RunStatus::Success);
    assert_eq!(
        st.record.tasks[0].cycles.len(),
        1,
        "the interrupted cycle was redone"
    );
}

#[test]
fn the_log_is_rendered_first_then_paced_by_its_cost() {
    let mut pace = outputs::Pace::default();
    assert!(pace.due(), "the first status change renders");
    pace.rendered(std::time::Duration::from_millis(1));
    assert!(!pace.due(), "not again right away");
    let mut slow = outputs::Pace::default();
    slow.rendered(std::time::Duration::from_millis(0));
    std::thread::sleep(outputs::Pace::MIN);
    assert!(slow.due(), "due once the interval passed");
}

/// A commit the user made while the run was stopped is kept and recorded.
#[test]
fn a_commit_made_outside_the_run_is_an_issue_and_not_the_tasks() {
    let w = world(&[("T001", "a.txt")], "");
    let mut st = fresh_state(&w);
    st.last_head = w.repo.head().unwrap();
    std::fs::write(w.tmp.path().join("mine.txt"), "mine\n").unwrap();
    git(w.tmp.path(), &["add", "mine.txt"]);
    git(w.tmp.path(), &["commit", "-qm", "my own change"]);
    let fake = Fake::default();
    fake.acts
        .lock()
        .unwrap()
        .push_back(writes(&[("a.txt", "a\n")]));
    let events = Events::default();
    let (status, st) = drive(&w, &fake, st, &events);
    assert_eq!(status, RunStatus::Success);
    let issue = st
        .record
        .issues
        .iter()
        .find(|i| i.issue.contains("HEAD moved outside planexec"));
    assert!(
        issue.is_some_and(|i| i.issue.contains("my own change")),
        "{:?}",
        st.record.issues
    );
    assert!(events
        .0
        .lock()
        .unwrap()
        .iter()
        .any(|m| m.contains("my own change")));
    assert_eq!(st.record.tasks[0].cycles[0].files, ["a.txt"]);
    assert_eq!(st.last_head, w.repo.head().unwrap());
}

/// The journal is never written through a symlink (it could point anywhere).
#[test]
fn the_journal_is_not_written_through_a_symlink() {
    let w = world(&[("T001", "a.txt")], "");
    let mut st = fresh_state(&w);
    w.store.save(&mut st, vec![]).unwrap();
    let outside = w.tmp.path().join("outside.txt");
    std::fs::write(&outside, "keep\n").unwrap();
    let dir = w.tmp.path().join(".git/planexec/journal");
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("test-run.ndjson")).unwrap();
    st.record.tasks[0].status = TaskStatus::InProgress;
    assert!(w.store.save(&mut st, vec!["T001".into()]).is_err());
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "keep\n");
}

/// `--resume` takes the saved settings; what the command line gives wins or adds.
#[test]
fn resume_reuses_the_saved_settings_and_the_command_line_adds_to_them() {
    let saved = Settings {
        grants: vec!["python3".into()],
        implementer: Some("manual".into()),
        plugin_dirs: vec!["packs".into()],
        reports: vec!["json=out/run.json".into()],
        unconfined: true,
        dialect: None,
        allow_detached: false,
        format: Some("json".into()),
        jobs: Some(3),
    };
    let cli = super::RunOptions {
        grants: vec!["diff".into()],
        implementer: Some("patch".into()),
        resume: true,
        ..Default::default()
    };
    let events = Events::default();
    let mut reporter = Reporter::new(vec![Box::new(events.clone())]);
    let o = setup::with_saved(&cli, &saved, &mut reporter);
    assert_eq!(o.grants, ["diff", "python3"]);
    assert_eq!(
        o.implementer.as_deref(),
        Some("patch"),
        "the command line wins"
    );
    assert_eq!(o.plugin_dirs, [std::path::PathBuf::from("packs")]);
    assert_eq!(o.reports.len(), 1);
    assert!(o.unconfined);
    let said = events.0.lock().unwrap().join("\n");
    assert!(
        said.contains("--grant python3") && said.contains("--unconfined"),
        "{said}"
    );
    assert!(!said.contains("--implementer"), "{said}");
    assert_eq!(o.format.as_deref(), Some("json"), "the saved format");
    assert!(said.contains("--format json"), "{said}");
    assert_eq!(o.jobs, Some(3), "the saved --jobs");
    assert!(said.contains("--jobs 3"), "{said}");
    let given = super::RunOptions {
        format: Some("human".into()),
        ..cli
    };
    let o = setup::with_saved(&given, &saved, &mut reporter);
    assert_eq!(
        o.format.as_deref(),
        Some("human"),
        "the command line's format wins"
    );
}

/// A journal that outgrows the snapshot (and 1 MiB) is folded into it.
#[test]
fn a_journal_that_outgrows_the_snapshot_is_compacted() {
    let w = world(&[("T001", "a.txt"), ("T002", "b.txt")], "");
    let mut st = fresh_state(&w);
    st.record.tasks[0].summary = "x".repeat(300_000);
    w.store.save(&mut st, vec![]).unwrap();
    let journal = w.tmp.path().join(".git/planexec/journal/test-run.ndjson");
    let mut sizes = vec![];
    for n in 0..6 {
        st.record.tasks[0].title = format!("save {n}");
        w.store.save(&mut st, vec!["T001".into()]).unwrap();
        sizes.push(std::fs::metadata(&journal).map(|m| m.len()).unwrap_or(0));
    }
    assert!(
        sizes.iter().any(|s| *s > 1 << 20),
        "it grew past 1 MiB: {sizes:?}"
    );
    assert!(
        sizes.windows(2).any(|p| p[1] < p[0]),
        "then was folded: {sizes:?}"
    );
    let loaded = Store::new(w.repo.git().path()).load("test-run").unwrap();
    assert_eq!(loaded.record.tasks[0].title, "save 5");
}

// --- parallel waves (wave.rs) ---

fn script(fake: &Fake, id: &str, acts: Vec<Act>) {
    fake.per_task
        .lock()
        .unwrap()
        .insert(id.to_string(), acts.into());
}

/// Each commit from HEAD down: its subject and the files it holds.
fn history(w: &World) -> Vec<(String, Vec<String>)> {
    let log = git(w.tmp.path(), &["log", "--format=%H %s"]);
    log.lines()
        .map(|l| {
            let (sha, subject) = l.split_once(' ').unwrap();
            let files = git(w.tmp.path(), &["show", "--name-only", "--format=", sha]);
            (
                subject.to_string(),
                files.lines().map(String::from).collect(),
            )
        })
        .collect()
}

fn no_worktrees_left(w: &World) {
    let list = git(w.tmp.path(), &["worktree", "list"]);
    assert_eq!(list.lines().count(), 1, "{list}");
    assert!(!w.tmp.path().join(".git/planexec/worktrees").exists());
    assert_eq!(git(w.tmp.path(), &["branch", "--list"]).trim(), "* main");
}

#[test]
fn independent_tasks_run_in_their_own_worktrees_and_land_in_plan_order() {
    let w = world(
        &[("T001", "a.txt"), ("T002", "b.txt"), ("T003", "c.txt")],
        "",
    );
    let fake = Fake::default();
    script(&fake, "T001", vec![writes(&[("a.txt", "a\n")])]);
    script(&fake, "T002", vec![writes(&[("b.txt", "b\n")])]);
    script(&fake, "T003", vec![writes(&[("c.txt", "c\n")])]);
    let events = Events::default();
    let (status, _, st) = drive_with(&w, &fake, fresh_state(&w), &events, &|| None, 3);
    assert_eq!(status, RunStatus::Success);
    let h = history(&w);
    let expect = [
        ("T003: Write c.txt", "c.txt"),
        ("T002: Write b.txt", "b.txt"),
        ("T001: Write a.txt", "a.txt"),
    ];
    for (n, (subject, file)) in expect.iter().enumerate() {
        assert_eq!(h[n].0, *subject);
        assert_eq!(h[n].1, [*file], "{subject} holds exactly its file");
    }
    let root = w.tmp.path().join(".git/planexec/worktrees");
    for (id, ws) in fake.workspaces.lock().unwrap().iter() {
        assert!(ws.starts_with(&root), "{id} worked in {}", ws.display());
    }
    for t in &st.record.tasks {
        assert_eq!(t.status, TaskStatus::Done);
        assert_eq!(
            t.commit.as_deref(),
            Some(git(w.tmp.path(), &["log", "-1", "--format=%H", "--grep", &t.id]).trim())
        );
    }
    let said = events.0.lock().unwrap().join("\n");
    assert!(said.contains("T001, T002, T003 run at once"), "{said}");
    assert_eq!(git(w.tmp.path(), &["status", "--porcelain"]), "");
    no_worktrees_left(&w);
}

#[test]
fn jobs_1_runs_the_wave_on_the_branch_one_after_another() {
    let w = world(&[("T001", "a.txt"), ("T002", "b.txt")], "");
    let fake = Fake::default();
    script(&fake, "T001", vec![writes(&[("a.txt", "a\n")])]);
    script(&fake, "T002", vec![writes(&[("b.txt", "b\n")])]);
    let (status, _, _) = drive_with(&w, &fake, fresh_state(&w), &Events::default(), &|| None, 1);
    assert_eq!(status, RunStatus::Success);
    for (_, ws) in fake.workspaces.lock().unwrap().iter() {
        assert_eq!(ws, w.tmp.path());
    }
}

#[test]
fn a_worktree_diff_outside_the_declared_files_is_redone_on_the_branch() {
    let w = world(&[("T001", "a.txt"), ("T002", "b.txt")], "");
    let fake = Fake::default();
    let stray = || writes(&[("a.txt", "a\n"), ("stray.txt", "x\n")]);
    script(&fake, "T001", vec![stray(), stray()]);
    script(&fake, "T002", vec![writes(&[("b.txt", "b\n")])]);
    let events = Events::default();
    let (status, _, st) = drive_with(&w, &fake, fresh_state(&w), &events, &|| None, 2);
    assert_eq!(status, RunStatus::Success);
    let seen = fake.workspaces.lock().unwrap().clone();
    let t1: Vec<_> = seen.iter().filter(|(id, _)| id == "T001").collect();
    assert_eq!(
        t1.len(),
        2,
        "once in its worktree, once on the branch: {seen:?}"
    );
    assert_eq!(t1[1].1, w.tmp.path());
    let h = history(&w);
    assert_eq!(
        h[0],
        ("T002: Write b.txt".to_string(), vec!["b.txt".to_string()])
    );
    assert_eq!(h[1].0, "T001: Write a.txt");
    assert_eq!(h[1].1, ["a.txt", "stray.txt"]);
    let said = events.0.lock().unwrap().join("\n");
    assert!(
        said.contains("T001 changed files outside its declared set (stray.txt"),
        "{said}"
    );
    assert!(said.contains("T001 runs again on the branch"), "{said}");
    let issue = st
        .record
        .issues
        .iter()
        .find(|i| i.issue.contains("outside its declared set"));
    assert!(issue.is_some_and(|i| i.resolution.contains("ran again on the branch")));
    assert_eq!(
        st.record.tasks[0].cycles.len(),
        1,
        "the worktree's cycle is dropped"
    );
    no_worktrees_left(&w);
}

#[test]
fn tasks_declaring_the_same_file_run_one_after_another() {
    let w = world(
        &[("T001", "a.txt"), ("T002", "a.txt"), ("T003", "c.txt")],
        "",
    );
    let fake = Fake::default();
    script(&fake, "T001", vec![writes(&[("a.txt", "one\n")])]);
    script(&fake, "T002", vec![writes(&[("a.txt", "two\n")])]);
    script(&fake, "T003", vec![writes(&[("c.txt", "c\n")])]);
    let events = Events::default();
    let (status, _, _) = drive_with(&w, &fake, fresh_state(&w), &events, &|| None, 4);
    assert_eq!(status, RunStatus::Success);
    let seen = fake.workspaces.lock().unwrap().clone();
    let t2 = seen.iter().find(|(id, _)| id == "T002").unwrap();
    assert_eq!(
        t2.1,
        w.tmp.path(),
        "T002 ran on the branch after T001 landed"
    );
    let subjects: Vec<String> = history(&w).into_iter().map(|(s, _)| s).collect();
    assert_eq!(
        subjects,
        [
            "T003: Write c.txt",
            "T002: Write a.txt",
            "T001: Write a.txt",
            "plan"
        ]
    );
    let said = events.0.lock().unwrap().join("\n");
    assert!(said.contains("T001, T003 run at once"), "{said}");
    assert_eq!(
        std::fs::read_to_string(w.tmp.path().join("a.txt")).unwrap(),
        "two\n"
    );
}

#[test]
fn a_worktree_commit_that_conflicts_with_the_branch_is_redone_there() {
    // T002 shares a.txt with T001, so it runs on the branch, and strays into
    // b.txt, which T003 made in its worktree: T003's commit conflicts.
    let w = world(
        &[("T001", "a.txt"), ("T002", "a.txt"), ("T003", "b.txt")],
        "",
    );
    let fake = Fake::default();
    script(&fake, "T001", vec![writes(&[("a.txt", "one\n")])]);
    script(
        &fake,
        "T002",
        vec![writes(&[("a.txt", "two\n"), ("b.txt", "from T002\n")])],
    );
    script(
        &fake,
        "T003",
        vec![
            writes(&[("b.txt", "three\n")]),
            writes(&[("b.txt", "three\n")]),
        ],
    );
    let events = Events::default();
    let (status, _, st) = drive_with(&w, &fake, fresh_state(&w), &events, &|| None, 2);
    assert_eq!(status, RunStatus::Success);
    let said = events.0.lock().unwrap().join("\n");
    assert!(
        said.contains("T003's commit could not be applied onto the branch"),
        "{said}"
    );
    assert!(said.contains("conflicts with HEAD"), "{said}");
    let h = history(&w);
    assert_eq!(
        h[0],
        ("T003: Write b.txt".to_string(), vec!["b.txt".to_string()])
    );
    assert_eq!(
        std::fs::read_to_string(w.tmp.path().join("b.txt")).unwrap(),
        "three\n"
    );
    assert!(st
        .record
        .issues
        .iter()
        .any(|i| i.task.as_deref() == Some("T003") && i.issue.contains("could not be applied")));
    no_worktrees_left(&w);
}

#[test]
fn a_task_blocked_in_its_worktree_is_redone_on_the_branch_and_the_run_stops_there() {
    let w = world(
        &[("T001", "a.txt"), ("T002", "b.txt"), ("T003", "c.txt")],
        "",
    );
    let fake = Fake::default();
    script(&fake, "T001", vec![writes(&[("a.txt", "a\n")])]);
    // Three failed cycles in the worktree, three on the branch.
    script(&fake, "T002", vec![]);
    script(&fake, "T003", vec![writes(&[("c.txt", "c\n")])]);
    let events = Events::default();
    let (status, _, st) = drive_with(&w, &fake, fresh_state(&w), &events, &|| None, 3);
    assert_eq!(status, RunStatus::Blocked);
    let said = events.0.lock().unwrap().join("\n");
    assert!(said.contains("T002 was blocked in its worktree"), "{said}");
    let t2 = fake
        .workspaces
        .lock()
        .unwrap()
        .iter()
        .filter(|(id, _)| id == "T002")
        .count();
    assert_eq!(t2, 6, "3 cycles in the worktree, 3 on the branch");
    let subjects: Vec<String> = history(&w).into_iter().map(|(s, _)| s).collect();
    assert_eq!(
        subjects,
        ["T001: Write a.txt", "plan"],
        "T003 waits behind the block"
    );
    assert_ne!(st.record.tasks[2].status, TaskStatus::Done);
    assert_eq!(st.record.tasks[1].status, TaskStatus::Blocked);
    no_worktrees_left(&w);
}

#[test]
fn a_wave_the_author_marked_sequential_runs_one_task_after_another() {
    let mut plan =
        String::from("---\ntitle: Demo\n---\n# Plan: Demo\n\n## Wave 1 (sequential)\n\n");
    for (id, f) in [("T001", "a.txt"), ("T002", "b.txt")] {
        plan.push_str(&format!(
            "### {id}: Write {f}\n**Summary**: Write {f}\n**Wave**: 1\n**Dependencies**: none\n**Files/modules touched**: {f}\n**Acceptance test**: `test -f {f}`\n\n"
        ));
    }
    let w = world_of(&plan);
    assert!(w.plan.is_sequential_wave(1) && w.plan.tasks[1].wave == Some(1));
    let fake = Fake::default();
    script(&fake, "T001", vec![writes(&[("a.txt", "a\n")])]);
    script(&fake, "T002", vec![writes(&[("b.txt", "b\n")])]);
    let (status, _, _) = drive_with(&w, &fake, fresh_state(&w), &Events::default(), &|| None, 4);
    assert_eq!(status, RunStatus::Success);
    for (id, ws) in fake.workspaces.lock().unwrap().iter() {
        assert_eq!(ws, w.tmp.path(), "{id} ran on the branch");
    }
}

#[test]
fn a_signal_mid_wave_stops_every_task_and_resume_finishes_in_plan_order() {
    let w = world(
        &[("T001", "a.txt"), ("T002", "b.txt"), ("T003", "c.txt")],
        "",
    );
    let fake = Fake::default();
    for (id, f) in [("T001", "a.txt"), ("T002", "b.txt"), ("T003", "c.txt")] {
        script(
            &fake,
            id,
            vec![writes(&[(f, "x\n")]), writes(&[(f, "x\n")])],
        );
    }
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let stop = || {
        let n = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        (n >= 4).then_some(libc::SIGINT)
    };
    let events = Events::default();
    let (status, sig, st) = drive_with(&w, &fake, fresh_state(&w), &events, &stop, 3);
    assert_eq!((status, sig), (RunStatus::Running, Some(libc::SIGINT)));
    no_worktrees_left(&w);
    let landed = history(&w).len() - 1;
    let done = st
        .record
        .tasks
        .iter()
        .filter(|t| t.status == TaskStatus::Done)
        .count();
    assert_eq!(done, landed, "only landed tasks are done");
    let (status, _, st) = drive_with(&w, &fake, setup::resumed(st, &w.plan), &events, &|| None, 3);
    assert_eq!(status, RunStatus::Success);
    let subjects: Vec<String> = history(&w).into_iter().map(|(s, _)| s).collect();
    assert_eq!(
        subjects,
        [
            "T003: Write c.txt",
            "T002: Write b.txt",
            "T001: Write a.txt",
            "plan"
        ]
    );
    assert!(st.record.tasks.iter().all(|t| t.status == TaskStatus::Done));
    no_worktrees_left(&w);
}

#[test]
fn a_commit_the_implementer_made_is_undone_into_the_work_tree_with_a_finding() {
    let w = world(&[("T001", "a.txt")], "");
    let fake = Fake::default();
    fake.commits
        .store(true, std::sync::atomic::Ordering::SeqCst);
    fake.acts
        .lock()
        .unwrap()
        .push_back(writes(&[("a.txt", "a\n")]));
    // The finding is important: the task review (here the fake) is given it.
    let (status, st) = drive(&w, &fake, fresh_state(&w), &Events::default());
    assert_eq!(status, RunStatus::Success);
    // Only planexec's task commit: the implementer's own commit was undone, its change kept.
    assert_eq!(subjects(&w), ["T001: Write a.txt", "plan"]);
    let c = &st.record.tasks[0].cycles[0];
    assert_eq!(c.files, ["a.txt"]);
    let imp = c.implementer.as_ref().unwrap();
    assert!(
        imp.findings.iter().any(
            |f| f.rule == "implementer/committed" && f.message.contains("agent: my own commit")
        ),
        "{imp:?}"
    );
    let seen = fake.implementer_findings_seen.lock().unwrap();
    assert!(
        seen[0].iter().any(|f| f.rule == "implementer/committed"),
        "{seen:?}"
    );
    assert!(
        seen[1].is_empty(),
        "the code review is not given the claims check"
    );
}

#[test]
fn claimed_files_are_checked_against_the_diff_for_the_task_review() {
    let w = world(&[("T001", "a.txt")], "");
    let fake = Fake::default();
    *fake.claims.lock().unwrap() = vec!["a.txt".into(), "ghost.txt".into()];
    fake.acts
        .lock()
        .unwrap()
        .push_back(writes(&[("a.txt", "a\n")]));
    drive(&w, &fake, fresh_state(&w), &Events::default());
    let seen = fake.implementer_findings_seen.lock().unwrap();
    let rules: Vec<(&str, Option<&str>)> = seen[0]
        .iter()
        .map(|f| (f.rule.as_str(), f.path.as_deref()))
        .collect();
    assert_eq!(
        rules,
        [("implementer/claimed-unchanged", Some("ghost.txt"))]
    );
}

#[test]
fn the_implementers_transcript_is_kept_outside_the_work_tree_not_in_the_state() {
    let w = world(&[("T001", "a.txt")], "");
    let fake = Fake::default();
    *fake.transcript.lock().unwrap() = "turn 1: I edited a.txt\n".into();
    fake.acts
        .lock()
        .unwrap()
        .push_back(writes(&[("a.txt", "a\n")]));
    let (_, st) = drive(&w, &fake, fresh_state(&w), &Events::default());
    let imp = st.record.tasks[0].cycles[0].implementer.clone().unwrap();
    let path = imp.transcript_path.expect("a transcript path");
    let root = super::implementer::transcripts_root(&w.tmp.path().join(".git"));
    assert_eq!(
        path,
        root.join("test-run/T001-cycle1.log").to_string_lossy()
    );
    assert!(
        !path.starts_with(&*w.tmp.path().to_string_lossy()),
        "{path}"
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text, "turn 1: I edited a.txt\n");
    let json = serde_json::to_string(&st).unwrap();
    assert!(
        !json.contains("I edited a.txt"),
        "the transcript stays out of the state"
    );
}
