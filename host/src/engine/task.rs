//! One task through its cycles: the effects of each state of machine.rs
//! (implement, inspect, gates, reviews, commit, rework, block, recovery).

use super::machine::{self, Entry, Step, Verdict};
use super::ports::{GateRef, ImplementInput, ReviewInput};
use super::{now, Ctx};
use crate::report::{timing, Event};
use planexec_record::*;

pub enum End {
    Done,
    Blocked,
    Waiting,
    /// A run budget is spent: the run stops before the task's next cycle.
    Escalated,
    /// SIGINT or SIGTERM: the state is saved, resume redoes the task's cycle.
    Interrupted(i32),
}

/// The task being worked on and the cycle in flight.
struct Job {
    id: String,
    task: planexec_plan::Task,
    started_at: time::OffsetDateTime,
    max_cycles: u32,
    cycle: u32,
    changes: planexec_vcs::TaskChanges,
    /// Handed back with `--accept`: one cycle judging the work tree, no implementer.
    accepted: bool,
    /// Red before green, run with the cycle's gates, for the task review.
    proof: Option<super::redgreen::Proof>,
}

pub fn run_task(ctx: &mut Ctx, id: &str) -> End {
    let task = ctx
        .plan
        .tasks
        .iter()
        .find(|t| t.id == id)
        .expect("task in plan")
        .clone();
    // The waiting task, or the one a spent budget stopped: continued, not recovered.
    let waiting = ctx.state.waiting_task.as_deref() == Some(id)
        || ctx.state.escalated_task.as_deref() == Some(id);
    let accepted = ctx.accepting.as_deref() == Some(id);
    match machine::entry(ctx.task_mut(id), waiting, task.done) {
        Entry::Committed | Entry::Skipped => return End::Done,
        Entry::MarkedDone => return marked_done(ctx, id),
        Entry::Unblock => {
            if let Err(reason) = unblock(ctx, id, accepted) {
                return block(ctx, id, reason);
            }
        }
        Entry::Recover => match recover(ctx, id) {
            Ok(Some(end)) => return end,
            Ok(None) => {}
            Err(reason) => return block(ctx, id, reason),
        },
        Entry::Start => {}
    }
    note_intervention(ctx, id);
    let mut job = Job {
        id: id.to_string(),
        started_at: task_started(ctx, id),
        max_cycles: ctx.tolerances.max_cycles(ctx.config.run.max_cycles),
        task,
        cycle: 0,
        changes: Default::default(),
        accepted,
        proof: None,
    };
    let mut step = if accepted {
        ctx.accepting = None;
        handed_back(ctx, &mut job)
    } else {
        Step::Implement
    };
    loop {
        if let Some(sig) = (ctx.stop)() {
            return interrupted(ctx, id, sig);
        }
        if step == Step::Implement {
            if let Some(reason) = over_budget(ctx) {
                return escalate(ctx, id, reason);
            }
        }
        step = match step {
            Step::Implement => implement(ctx, &mut job),
            Step::Inspect(rejected) => inspect(ctx, &mut job, rejected),
            Step::Gates => gates(ctx, &mut job),
            Step::Review => review(ctx, &mut job),
            Step::Commit => commit(ctx, &job),
            Step::Reject(findings) => reject(ctx, &job, findings),
            Step::Rework => {
                set_status(ctx, id, TaskStatus::Rework, job.cycle);
                Step::Implement
            }
            Step::Block(reason) => return block(ctx, id, reason),
            Step::Wait => return End::Waiting,
            Step::Done => return End::Done,
        }
    }
}

/// Someone committed since the run's last commit (while it was stopped, or
/// between tasks): kept, recorded as an issue, and the task starts from there.
pub(super) fn note_intervention(ctx: &mut Ctx, id: &str) {
    let Ok(Some(head)) = ctx.repo.head() else {
        return;
    };
    let last = ctx.state.last_head.replace(head.clone());
    let Some(last) = last.filter(|l| *l != head) else {
        return;
    };
    let commits = ctx.repo.commits_between(&last, &head).unwrap_or_default();
    let listed: Vec<String> = commits
        .iter()
        .map(|c| format!("{} {}", short(&c.id), c.summary))
        .collect();
    let text = format!(
        "HEAD moved outside planexec before {id}: {} commit(s) not made by this run ({})",
        commits.len(),
        listed.join("; ")
    );
    ctx.emit(Event::Message {
        level: crate::report::Level::Warn,
        text: text.clone(),
    });
    ctx.state.record.issues.push(Issue {
        task: Some(id.to_string()),
        issue: text,
        resolution: format!(
            "kept; {id} starts from the new HEAD and its files are only its own changes"
        ),
    });
}

/// The first run budget the run has spent, quoted (checked before each cycle).
fn over_budget(ctx: &Ctx) -> Option<String> {
    let spent = super::budget::spent(&ctx.state.record, ctx.state.worked());
    ctx.budget.breach(&spent)
}

/// A spent budget: the run stops before the next cycle, escalated; the task keeps its
/// status and tree, and `--resume --budget ...` starts its next cycle.
fn escalate(ctx: &mut Ctx, id: &str, reason: String) -> End {
    ctx.state.escalated_task = Some(id.to_string());
    ctx.emit(Event::Message {
        level: crate::report::Level::Warn,
        text: format!("escalated before {id}'s next cycle: {reason}"),
    });
    ctx.state.record.issues.push(Issue {
        task: Some(id.to_string()),
        issue: reason,
        resolution: format!(
            "escalated: the run stopped before {id}'s next cycle; continue deliberately with `planexec run PLAN --resume --budget cost=N` (or tokens=N, minutes=N)"
        ),
    });
    ctx.changed.insert(id.to_string());
    ctx.persist();
    End::Escalated
}

/// Stopped by a signal between two steps: said in the record, state saved.
fn interrupted(ctx: &mut Ctx, id: &str, sig: i32) -> End {
    ctx.state.record.issues.push(Issue {
        task: Some(id.to_string()),
        issue: format!(
            "the run was interrupted by {} during {id}",
            crate::interrupt::name(sig)
        ),
        resolution:
            "the running command was stopped and the state saved; resume redoes the task's cycle"
                .into(),
    });
    ctx.persist();
    End::Interrupted(sig)
}

fn task_started(ctx: &mut Ctx, id: &str) -> time::OffsetDateTime {
    let started = ctx.task_mut(id).started_at.get_or_insert_with(now).clone();
    time::OffsetDateTime::parse(&started, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc())
}

fn set_status(ctx: &mut Ctx, id: &str, status: TaskStatus, cycle: u32) {
    ctx.task_mut(id).status = status;
    ctx.emit(Event::TaskStatus {
        task: id.to_string(),
        status,
        cycle,
    });
    ctx.persist();
}

fn marked_done(ctx: &mut Ctx, id: &str) -> End {
    ctx.task_mut(id).status = TaskStatus::Done;
    ctx.state.record.issues.push(Issue {
        task: Some(id.into()),
        issue: format!("{id} is already marked done in the plan"),
        resolution: "skipped; no commit".into(),
    });
    ctx.emit(Event::TaskStatus {
        task: id.into(),
        status: TaskStatus::Done,
        cycle: 0,
    });
    ctx.persist();
    End::Done
}

/// Resumed after a block: the person fixed the cause; try again with a fresh
/// rework budget from a clean tree, keeping the earlier cycles in the record and log.
/// `Err` when the blocked attempt's changes could not be set aside.
fn unblock(ctx: &mut Ctx, id: &str, accepted: bool) -> Result<(), String> {
    if !accepted {
        super::blocked::set_aside(ctx, id)?;
    }
    let t = ctx.task_mut(id);
    t.blocked_reason = None;
    t.status = TaskStatus::Ready;
    let done_cycles = t.cycles.len() as u32;
    ctx.state.cycle_base.insert(id.to_string(), done_cycles);
    ctx.state.task_base.remove(id);
    Ok(())
}

/// `--accept`: a cycle whose implementer is the person, its change the work tree as
/// they left it; judged by the same gates and reviews.
fn handed_back(ctx: &mut Ctx, job: &mut Job) -> Step {
    let id = job.id.clone();
    job.cycle = ctx.task_mut(&id).cycles.len() as u32 + 1;
    open_cycle(ctx, &id, job.cycle);
    set_status(ctx, &id, TaskStatus::InProgress, job.cycle);
    let imp = ImplementRun::new(
        "person (--accept)",
        ImplementStatus::Done,
        "the work tree as the person left it, handed back with --accept",
    );
    ctx.emit(Event::ImplementerFinished {
        task: id.clone(),
        cycle: job.cycle,
        plugin: imp.plugin.clone(),
        status: "done".into(),
        summary: imp.summary.clone(),
    });
    last_cycle(ctx, &id).implementer = Some(imp);
    ctx.save();
    Step::Inspect(vec![])
}

/// Opens the cycle (unless the implementer waited in it) and asks the implementer.
fn implement(ctx: &mut Ctx, job: &mut Job) -> Step {
    let id = job.id.clone();
    let resumed = ctx.state.waiting_task.as_deref() == Some(id.as_str());
    job.cycle = ctx.task_mut(&id).cycles.len() as u32 + u32::from(!resumed);
    if !resumed {
        open_cycle(ctx, &id, job.cycle);
    }
    set_status(ctx, &id, TaskStatus::InProgress, job.cycle);
    let feedback = previous_feedback(ctx.task_mut(&id));
    // Counted since the last resume after a block: a corrected first input
    // (the patch implementer's `<ID>.patch`) is used again, not `<ID>.4.patch`.
    let attempt = job.cycle - ctx.state.cycle_base.get(&id).copied().unwrap_or(0);
    let tolerances = ctx.tolerances.as_written().to_vec();
    let input = ImplementInput {
        task: &job.task,
        cycle: attempt,
        feedback: &feedback,
        plan_path: &ctx.state.plan_key,
        plan_dir: super::rel(ctx.home, ctx.plan.plan_root()),
        resumed,
        constraints: &ctx.plan.constraints,
        tolerances: &tolerances,
    };
    let before = ctx.repo.head().ok().flatten();
    let t0 = time::OffsetDateTime::now_utc();
    let mut imp = ctx.plugins.implement(ctx.workspace, &input);
    let timing = timing::since(StepKind::Implementer, imp.plugin.clone(), t0);
    last_cycle(ctx, &id).timings.push(timing);
    super::implementer::undo_commits(ctx, before.as_deref(), &mut imp);
    super::implementer::keep_transcript(ctx, &id, job.cycle, &mut imp);
    ctx.state.waiting_task = None;
    ctx.state.escalated_task = None;
    ctx.emit(Event::ImplementerFinished {
        task: id.clone(),
        cycle: job.cycle,
        plugin: imp.plugin.clone(),
        status: format!("{:?}", imp.status).to_lowercase(),
        summary: imp.summary.clone(),
    });
    let next = machine::after_implement(&imp);
    ctx.task_mut(&id).cycles.last_mut().unwrap().implementer = Some(imp);
    if next == Step::Wait {
        ctx.state.waiting_task = Some(id.clone());
        ctx.task_mut(&id).cycles.last_mut().unwrap().outcome = CycleOutcome::Waiting;
        ctx.persist();
    }
    next
}

fn open_cycle(ctx: &mut Ctx, id: &str, number: u32) {
    let base = ctx.repo.head().ok().flatten().unwrap_or_default();
    ctx.state.task_base.insert(id.to_string(), base);
    ctx.task_mut(id).cycles.push(Cycle {
        number,
        started_at: now(),
        finished_at: None,
        implementer: None,
        gates: vec![],
        reviews: vec![],
        files: vec![],
        added_lines: 0,
        removed_lines: 0,
        outcome: CycleOutcome::Running,
        feedback: vec![],
        timings: vec![],
    });
}

fn previous_feedback(t: &TaskRecord) -> Vec<Finding> {
    let n = t.cycles.len();
    if n >= 2 {
        t.cycles[n - 2].feedback.clone()
    } else {
        vec![]
    }
}

/// Reads what the cycle changed and checks the tolerances.
fn inspect(ctx: &mut Ctx, job: &mut Job, rejected: Vec<Finding>) -> Step {
    job.changes = match ctx.repo.changes_since_head(&ctx.not_tasks()) {
        Ok(c) => c,
        Err(e) => return Step::Block(format!("cannot read the task's changes: {e}")),
    };
    let c = ctx.task_mut(&job.id).cycles.last_mut().unwrap();
    c.files = job.changes.paths();
    c.added_lines = job.changes.added_lines();
    c.removed_lines = job.changes.removed_lines();
    let breach = ctx.tolerances.breach(
        job.changes.files.len(),
        job.changes.net_lines(),
        job.started_at,
    );
    machine::after_inspect(breach, rejected)
}

/// The acceptance commands, then the configured per-task gates; all run, and beside
/// them the red-before-green check of the task's new tests (redgreen.rs).
fn gates(ctx: &mut Ctx, job: &mut Job) -> Step {
    let mut refs: Vec<(String, GateRef)> = job
        .task
        .acceptance_commands
        .iter()
        .enumerate()
        .map(|(n, command)| {
            let name = format!("acceptance:{}#{}", job.id, n + 1);
            (name, GateRef::Acceptance { n: n + 1, command })
        })
        .collect();
    let configured = ctx.plugins.task_gates().into_iter().enumerate();
    refs.extend(configured.map(|(n, name)| (name, GateRef::Task(n))));
    // At once, none started after a failure; each result is shown as it comes.
    let (plugins, workspace) = (ctx.plugins, ctx.workspace);
    let task = Some(job.id.clone());
    let mut timings = Vec::new();
    let pending = super::redgreen::prepare(ctx, &job.id, &job.changes);
    let this = Some(&job.task);
    let (runs, before) = std::thread::scope(|s| {
        let early = pending
            .as_ref()
            .filter(|p| p.concurrent)
            .map(|p| s.spawn(move || super::redgreen::run_before(plugins, p, this)));
        let runs = plugins.gates(workspace, &refs, this, &mut |seen| {
            if let super::ports::GateSeen::Finished(r) = &seen {
                timings.push(gate_timing(r));
            }
            ctx.emit(gate_event(&task, seen))
        });
        (runs, early.and_then(|h| h.join().ok()))
    });
    let c = last_cycle(ctx, &job.id);
    c.gates.extend(runs);
    c.timings.extend(timings);
    ctx.save();
    let runs = ctx.task_mut(&job.id).cycles.last().unwrap().gates.clone();
    let next = machine::after_gates(&runs, job.changes.is_empty());
    job.proof = None;
    if let Some(mut p) = pending {
        // cargo-test's check runs after the gates, and only when they passed.
        let before = before.or_else(|| {
            (next == Step::Review).then(|| {
                super::redgreen::open(ctx, &mut p, &job.changes);
                super::redgreen::run_before(plugins, &p, this)
            })
        });
        job.proof = super::redgreen::finish(ctx, p, before, &job.changes, &runs);
    }
    next
}

/// When a gate that has just finished ran.
pub(crate) fn gate_timing(r: &planexec_record::GateRun) -> planexec_record::Timing {
    timing::ending_now(StepKind::Gate, r.name.clone(), r.report.duration_ms)
}

fn last_cycle<'a>(ctx: &'a mut Ctx, id: &str) -> &'a mut Cycle {
    ctx.task_mut(id).cycles.last_mut().expect("a cycle is open")
}

/// The live event for a gate of `task` (None: a final gate) that started or finished.
pub(crate) fn gate_event(task: &Option<String>, seen: super::ports::GateSeen) -> Event {
    match seen {
        super::ports::GateSeen::Started(name) => Event::GateStarted {
            task: task.clone(),
            gate: name.to_string(),
        },
        super::ports::GateSeen::Finished(run) => Event::GateFinished {
            task: task.clone(),
            run: run.clone(),
        },
    }
}

/// The task review, then the code review only when it approved.
fn review(ctx: &mut Ctx, job: &mut Job) -> Step {
    if let Some(found) = secret_in_diff(ctx, job) {
        ctx.emit(Event::Message {
            level: crate::report::Level::Warn,
            text: format!("{}: {}: {}", job.id, found.rule, found.message),
        });
        return Step::Reject(vec![found]);
    }
    set_status(ctx, &job.id, TaskStatus::InReview, job.cycle);
    let gates = ctx.task_mut(&job.id).cycles.last().unwrap().gates.clone();
    let other_tasks_files: Vec<String> = ctx
        .plan
        .tasks
        .iter()
        .filter(|t| t.id != job.id)
        .flat_map(|t| t.files.iter().cloned())
        .collect();
    let implementer = ctx
        .task_mut(&job.id)
        .cycles
        .last()
        .unwrap()
        .implementer
        .clone();
    let earlier = earlier_files(ctx, &job.id);
    let mut claims = super::claims::findings(implementer.as_ref(), &job.changes.paths(), &earlier);
    // Red before green: its findings weigh on the task review like the claims do.
    if let Some(proof) = job.proof.take() {
        ctx.emit(Event::Message {
            level: crate::report::Level::Info,
            text: format!("{}: {}", job.id, proof.evidence.report.summary),
        });
        claims.extend(proof.findings);
        let c = last_cycle(ctx, &job.id);
        c.gates.push(proof.evidence);
        c.timings.extend(proof.timing);
        ctx.save();
    }
    let mut approved_findings = Vec::new();
    for kind in [ReviewKind::Task, ReviewKind::Code] {
        let input = ReviewInput {
            kind,
            task: &job.task,
            constraints: &ctx.plan.constraints,
            implementer_findings: if kind == ReviewKind::Task {
                &claims
            } else {
                &[]
            },
            other_tasks_files: other_tasks_files.clone(),
            changes: &job.changes,
            gates: &gates,
        };
        let t0 = time::OffsetDateTime::now_utc();
        let Some(mut run) = ctx.plugins.review(ctx.workspace, &input) else {
            continue;
        };
        let name = format!(
            "{} review",
            if kind == ReviewKind::Task {
                "task"
            } else {
                "code"
            }
        );
        last_cycle(ctx, &job.id)
            .timings
            .push(timing::since(StepKind::Review, name, t0));
        super::implementer::keep_review_transcript(ctx, &job.id, job.cycle, &mut run);
        ctx.emit(Event::ReviewFinished {
            task: job.id.clone(),
            run: run.clone(),
        });
        let verdict = machine::after_review(&run);
        ctx.task_mut(&job.id)
            .cycles
            .last_mut()
            .unwrap()
            .reviews
            .push(run);
        ctx.save();
        match verdict {
            Verdict::Approved(f) => approved_findings.extend(f),
            Verdict::Errored(reason) => return Step::Block(reason),
            Verdict::Rejected(mut f) => {
                // Findings of both reviews go to the implementer.
                f.append(&mut approved_findings);
                return Step::Reject(machine::dedup(f));
            }
        }
    }
    Step::Commit
}

/// A finding when the cycle's diff, or a changed file, holds a secret the policy
/// passes or the proxy adds (`[policy] env`, `[policy.secrets]`): never committed.
fn secret_in_diff(ctx: &mut Ctx, job: &Job) -> Option<planexec_record::Finding> {
    let plugin = last_cycle(ctx, &job.id)
        .implementer
        .as_ref()
        .map(|i| i.plugin.clone())
        .unwrap_or_default();
    let secrets = crate::redact::Secrets::passed_to(&ctx.config.policy, &plugin);
    let mut names: Vec<String> = Vec::new();
    let look = |text: &str, names: &mut Vec<String>| {
        for n in secrets.found_in(text) {
            if !names.iter().any(|x| x == n) {
                names.push(n.to_string());
            }
        }
    };
    look(&job.changes.patch, &mut names);
    let mut where_: Vec<String> = Vec::new();
    for f in job
        .changes
        .files
        .iter()
        .filter(|f| f.change != planexec_vcs::ChangeKind::Deleted)
    {
        let Ok(bytes) = std::fs::read(ctx.workspace.join(&f.path)) else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        if !secrets.found_in(&text).is_empty() {
            look(&text, &mut names);
            where_.push(f.path.clone());
        }
    }
    if names.is_empty() {
        return None;
    }
    Some(super::machine::finding(
        "planexec/secret-in-diff",
        format!(
            "the change holds the value of {} ({}); a secret is never committed: remove it \
             (read it from the environment at run time instead)",
            names.join(", "),
            if where_.is_empty() {
                "in the diff".to_string()
            } else {
                where_.join(", ")
            }
        ),
    ))
}

/// The files the earlier cycles of this attempt changed (since the last resume after a
/// block): rework keeps them in the tree.
fn earlier_files(ctx: &mut Ctx, id: &str) -> Vec<String> {
    let base = ctx.state.cycle_base.get(id).copied().unwrap_or(0) as usize;
    let cycles = &ctx.task_mut(id).cycles;
    let current = cycles.len().saturating_sub(1);
    cycles
        .get(base.min(current)..current)
        .unwrap_or_default()
        .iter()
        .flat_map(|c| c.files.iter().cloned())
        .collect()
}

/// Commits exactly the cycle's files.
fn commit(ctx: &mut Ctx, job: &Job) -> Step {
    let files = job.changes.paths();
    let msg = planexec_vcs::commit_message(
        &job.id,
        &commit_summary(&job.task),
        &summary_or_body(&job.task),
        &ctx.state.record.plan.refs,
    );
    // engine-guards: the repository's hooks run on the commit; a failing one goes to rework.
    let t0 = time::OffsetDateTime::now_utc();
    let result = ctx
        .repo
        .commit_paths_with(&files, &msg, &commit_options(ctx));
    let timing = timing::since(StepKind::Commit, job.id.clone(), t0);
    last_cycle(ctx, &job.id).timings.push(timing);
    match result {
        Ok(commit) => {
            super::kill_point();
            finish_done(ctx, &job.id, commit, files);
            Step::Done
        }
        Err(planexec_vcs::VcsError::Hook(h)) => {
            let run = hook_gate_run(&h);
            let found = machine::finding(&format!("gate/{}", run.name), h.to_string());
            ctx.task_mut(&job.id)
                .cycles
                .last_mut()
                .unwrap()
                .gates
                .push(run);
            Step::Reject(vec![found])
        }
        Err(e) => Step::Block(format!("could not commit the task: {e}")),
    }
}

/// Records the rejection and its cause, then reworks or blocks.
fn reject(ctx: &mut Ctx, job: &Job, rejected: Vec<Finding>) -> Step {
    let base = ctx.state.cycle_base.get(&job.id).copied().unwrap_or(0);
    let cause = rejected
        .first()
        .map(|f| format!("[{}] {}", f.rule, f.message.lines().next().unwrap_or("")))
        .unwrap_or_default();
    let c = ctx.task_mut(&job.id).cycles.last_mut().unwrap();
    c.feedback = rejected;
    c.outcome = CycleOutcome::Rework;
    c.finished_at = Some(now());
    let limit = ctx.tolerances.attempts_quote(ctx.config.run.max_cycles);
    let next = if job.accepted {
        Step::Block(format!(
            "{id}: the work tree handed back with --accept was rejected: {cause}; nothing was committed. \
             Fix it and hand it back again (`--accept {id}`), or `--retry {id}`",
            id = job.id
        ))
    } else {
        machine::after_rejection(
            ctx.task_mut(&job.id),
            job.cycle - base,
            job.max_cycles,
            &limit,
        )
    };
    ctx.state.record.issues.push(Issue {
        task: Some(job.id.clone()),
        issue: format!("{} cycle {} rejected: {cause}", job.id, job.cycle),
        resolution: if next == Step::Rework {
            "sent back to the implementer with the findings".into()
        } else if job.accepted {
            "the work tree handed back with --accept is not committed; the task is blocked".into()
        } else {
            "the rework budget is spent; the task is blocked".into()
        },
    });
    next
}

fn block(ctx: &mut Ctx, id: &str, reason: String) -> End {
    super::blocked::remember(ctx, id);
    let t = ctx.task_mut(id);
    t.status = TaskStatus::Blocked;
    t.blocked_reason = Some(reason.clone());
    t.finished_at = Some(now());
    if let Some(c) = t.cycles.last_mut() {
        if c.outcome == CycleOutcome::Running || c.outcome == CycleOutcome::Rework {
            c.outcome = CycleOutcome::Blocked;
            c.finished_at.get_or_insert_with(now);
        }
    }
    ctx.state.record.issues.push(Issue {
        task: Some(id.to_string()),
        issue: reason.clone(),
        resolution:
            "blocked: the run stopped to ask; fix the cause, then `planexec run PLAN --resume`"
                .into(),
    });
    ctx.emit(Event::TaskBlocked {
        task: id.to_string(),
        reason,
    });
    ctx.emit(Event::TaskStatus {
        task: id.to_string(),
        status: TaskStatus::Blocked,
        cycle: 0,
    });
    ctx.persist();
    End::Blocked
}

/// After a crash mid-task: a commit that landed before the state was saved is
/// adopted; otherwise the task's partial changes are backed up and undone.
/// `Err` when the work cannot be backed up: then nothing is undone.
fn recover(ctx: &mut Ctx, id: &str) -> Result<Option<End>, String> {
    let Some(base) = ctx.state.task_base.get(id).cloned() else {
        return Ok(None);
    };
    let head = ctx.repo.head().ok().flatten().unwrap_or_default();
    if head != base && ctx.repo.is_task_commit(&head, &base, id) {
        let files = ctx
            .task_mut(id)
            .cycles
            .last()
            .map(|c| c.files.clone())
            .unwrap_or_default();
        recovered(
            ctx,
            id,
            format!("its commit {} had landed; adopted", short(&head)),
        );
        finish_done(ctx, id, head, files);
        return Ok(Some(End::Done));
    }
    let changes = ctx.repo.changes_since_head(&ctx.not_tasks()).map_err(|e| {
        format!("the run was interrupted during {id} and its changes cannot be read: {e}")
    })?;
    if !changes.is_empty() {
        let Some(store) = ctx.store else {
            return Err(format!(
                "{id} was interrupted and cannot be recovered in a worktree"
            ));
        };
        let backup = store.interrupted_dir(&ctx.state.record.run_id, id);
        ctx.repo.back_up_changes(&changes, &backup).map_err(|e| {
            format!("the run was interrupted during {id}; its partial work could not be backed up, so it was left in the work tree untouched: {e}")
        })?;
        ctx.repo.restore_to_head(&changes).map_err(|e| {
            format!("the run was interrupted during {id}; its partial work is backed up in {} but could not be undone: {e}", backup.display())
        })?;
        recovered(
            ctx,
            id,
            format!(
                "partial changes backed up to {}; the task was redone from its start",
                backup.display()
            ),
        );
    }
    let t = ctx.task_mut(id);
    t.cycles.clear();
    t.status = TaskStatus::Ready;
    Ok(None)
}

/// A recovery, on the terminal and in the record.
fn recovered(ctx: &mut Ctx, id: &str, resolution: String) {
    ctx.emit(Event::Message {
        level: crate::report::Level::Warn,
        text: format!("recovered {id} after an interruption: {resolution}"),
    });
    ctx.state.record.issues.push(Issue {
        task: Some(id.to_string()),
        issue: format!("the run was interrupted during {id}"),
        resolution,
    });
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(10)]
}

pub(super) fn finish_done(ctx: &mut Ctx, id: &str, commit: String, files: Vec<String>) {
    let t = ctx.task_mut(id);
    t.commit = Some(commit.clone());
    t.status = TaskStatus::Done;
    t.finished_at = Some(now());
    if let Some(c) = t.cycles.last_mut() {
        c.outcome = CycleOutcome::Passed;
        c.finished_at.get_or_insert_with(now);
    }
    ctx.state.task_base.remove(id);
    ctx.state.last_head = Some(commit.clone());
    ctx.emit(Event::Committed {
        task: id.to_string(),
        commit,
        files,
    });
    ctx.emit(Event::TaskStatus {
        task: id.to_string(),
        status: TaskStatus::Done,
        cycle: 0,
    });
    tick_plan(ctx, id);
    ctx.persist();
}

/// The done task is marked in the plan in its own format: an ExecPlan's Progress line, a Kiro
/// or spec-kit checkbox, Taskmaster's JSON status (`planexec_plan::mark_done`).
fn tick_plan(ctx: &mut Ctx, id: &str) {
    if ctx.in_worktree() {
        return;
    }
    let Some(pt) = ctx.plan.tasks.iter().find(|t| t.id == id) else {
        return;
    };
    if let Err(e) = planexec_plan::mark_done(&ctx.plan, pt, time::OffsetDateTime::now_utc()) {
        ctx.emit(Event::Message {
            level: crate::report::Level::Warn,
            text: format!("could not tick {id} in the plan: {e}"),
        });
    }
}

fn commit_summary(t: &planexec_plan::Task) -> String {
    if t.title.trim().is_empty() {
        t.summary.clone()
    } else {
        t.title.clone()
    }
}

fn summary_or_body(t: &planexec_plan::Task) -> String {
    if !t.summary.trim().is_empty() && t.summary.trim() != t.title.trim() {
        t.summary.clone()
    } else {
        String::new()
    }
}

/// The last cycle's rejection as text for a person or an agent.
pub fn feedback_text(findings: &[Finding]) -> String {
    let mut s = String::new();
    for f in findings {
        let loc = match (&f.path, f.line) {
            (Some(p), Some(l)) => format!(" ({p}:{l})"),
            (Some(p), None) => format!(" ({p})"),
            _ => String::new(),
        };
        s.push_str(&format!("- [{}] {}{loc}\n", f.rule, f.message));
    }
    s
}

/// `[run] git_hooks` as the commit step's options: hooks run in the box (or not at all),
/// and a hook inside the work tree must be as it was at the run's start commit.
fn commit_options(ctx: &Ctx) -> planexec_vcs::CommitOptions {
    let policy = &ctx.config.policy;
    let limits = policy
        .limits
        .as_ref()
        .and_then(|t| {
            t.apply(crate::confine::Limits::default(), "policy.limits")
                .ok()
        })
        .unwrap_or_default();
    let hooks =
        (ctx.config.run.git_hooks == crate::config::GitHooks::Boxed).then(|| planexec_vcs::Hooks {
            runner: crate::sandbox::hookbox::runner(policy.confinement, limits),
            trusted: Some(ctx.state.record.preflight.start_commit.clone()),
        });
    planexec_vcs::CommitOptions { hooks }
}

/// engine-guards: a failed git hook, recorded like a failed gate with its output.
fn hook_gate_run(h: &planexec_vcs::HookFailure) -> GateRun {
    let mut report = GateReport::errored(h.to_string());
    report.outcome = Outcome::Failed;
    report.exit_code = h.code;
    report.evidence = h.output.clone();
    GateRun {
        name: format!("git-hook:{}", h.hook),
        plugin: "git".into(),
        report,
        programs: vec![],
    }
}
