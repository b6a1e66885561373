//! One wave of the plan: its independent tasks at once, each in its own git
//! worktree under `.git/planexec/worktrees/<task>`, their commits landed in plan order.
//!
//! The tasks schedule.rs picks run through the same state machine (task.rs) in
//! worker threads, each with a context whose workspace is its worktree and which
//! saves nothing; their events reach the terminal as they happen. Then, in plan
//! order, each worktree commit is applied onto the branch (or the task runs on
//! the branch, when it was not picked), and a task whose result cannot be
//! adopted (blocked, waiting, a stray or overlapping diff, a conflict) is run
//! again on the branch, saying why, on the terminal and in the record.

use super::schedule::{self, Adopt, Candidate};
use super::state::State;
use super::task::{self, End};
use super::{machine, Ctx};
use crate::config::Config;
use crate::report::{Event, Level, Reporter, Sink};
use planexec_plan::Plan;
use planexec_record::*;
use planexec_vcs::Repo;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Mutex};

/// Runs one wave; ends at the first task that does not end done.
pub(crate) fn run_wave(ctx: &mut Ctx, wave: &[String]) -> End {
    let wave = &not_waiting(ctx, wave);
    let picked = picked(ctx, wave);
    if picked.is_empty() {
        return one_by_one(ctx, wave);
    }
    task::note_intervention(ctx, &picked[0]);
    let Some(spaces) = open_worktrees(ctx, &picked) else {
        return one_by_one(ctx, wave);
    };
    ctx.emit(Event::Message {
        level: Level::Info,
        text: format!(
            "{} run at once, each in its own worktree (--jobs {})",
            picked.join(", "),
            ctx.jobs
        ),
    });
    let worked = work_all(ctx, spaces);
    close_worktrees(ctx);
    land(ctx, wave, worked)
}

/// The wave's tasks less those that wait for a skipped task (said once, recorded).
fn not_waiting(ctx: &mut Ctx, wave: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for id in wave {
        match super::handback::waits_for(&ctx.state.record, id) {
            Some(skipped) => super::handback::note_waiting(ctx, id, &skipped),
            None => out.push(id.clone()),
        }
    }
    out
}

fn one_by_one(ctx: &mut Ctx, ids: &[String]) -> End {
    for id in ids {
        match task::run_task(ctx, id) {
            End::Done => {}
            other => return other,
        }
    }
    End::Done
}

/// The wave's tasks that run in worktrees (schedule.rs decides).
fn picked(ctx: &Ctx, wave: &[String]) -> Vec<String> {
    if ctx.jobs < 2 || wave.len() < 2 || ctx.in_worktree() {
        return Vec::new();
    }
    let candidates: Vec<Candidate> = wave
        .iter()
        .filter_map(|id| {
            let task = ctx.plan.tasks.iter().find(|t| &t.id == id)?;
            let rec = ctx.state.record.tasks.iter().find(|t| &t.id == id)?;
            let waiting = ctx.state.waiting_task.as_deref() == Some(id.as_str());
            let fresh = !waiting
                && rec.cycles.is_empty()
                && machine::entry(rec, waiting, task.done) == machine::Entry::Start;
            Some(Candidate {
                task,
                fresh: fresh && plan_allows(ctx.plan, task),
            })
        })
        .collect();
    schedule::parallel_set(&candidates, ctx.jobs)
}

/// What the plan itself says: a wave its author marked sequential runs one
/// task after another; in a spec-kit plan only tasks marked `[P]` run at once.
fn plan_allows(plan: &Plan, task: &planexec_plan::Task) -> bool {
    let sequential = task.wave.is_some_and(|w| plan.is_sequential_wave(w));
    let unmarked = plan.dialect == planexec_plan::Dialect::SpecKit && !task.parallel;
    !sequential && !unmarked
}

/// Where this run's task worktrees live.
fn worktrees_dir(repo: &Repo) -> PathBuf {
    repo.git().path().join("planexec").join("worktrees")
}

/// A picked task and its worktree.
struct Space {
    id: String,
    dir: PathBuf,
    repo: Repo,
}

/// A worktree per picked task at HEAD; None (and nothing left) if one fails.
fn open_worktrees(ctx: &mut Ctx, picked: &[String]) -> Option<Vec<Space>> {
    let head = ctx.repo.head().ok().flatten()?;
    // One run at a time per repository (the lock): a task's worktree path is
    // stable across runs, so its gates' tool caches (keyed by path) are reused.
    let root = worktrees_dir(ctx.repo);
    let mut spaces = Vec::new();
    for id in picked {
        let dir = root.join(safe_name(id));
        match ctx
            .repo
            .add_worktree(&format!("planexec-{}", safe_name(id)), &dir, &head)
        {
            Ok(repo) => spaces.push(Space {
                id: id.clone(),
                dir,
                repo,
            }),
            Err(e) => {
                ctx.emit(Event::Message {
                    level: Level::Warn,
                    text: format!("cannot make a worktree for {id} ({e}); the wave runs one task after another"),
                });
                close_worktrees(ctx);
                return None;
            }
        }
    }
    Some(spaces)
}

fn safe_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Removes the run's worktrees (their commits stay in the object store until landed).
fn close_worktrees(ctx: &mut Ctx) {
    if let Err(e) = ctx.repo.remove_worktrees_under(&worktrees_dir(ctx.repo)) {
        ctx.emit(Event::Message {
            level: Level::Warn,
            text: format!("cannot remove the task worktrees: {e}"),
        });
    }
}

/// At the start of a run or resume: worktrees a killed run left are removed
/// (their work never reached the branch; those tasks are still to do).
pub(crate) fn remove_left_worktrees(ctx: &mut Ctx) {
    let dir = worktrees_dir(ctx.repo);
    match ctx.repo.remove_worktrees_under(&dir) {
        Ok(gone) if !gone.is_empty() => ctx.emit(Event::Message {
            level: Level::Warn,
            text: format!(
                "removed {} task worktree(s) a stopped run left in {} ({}); those tasks run again",
                gone.len(),
                dir.display(),
                gone.join(", ")
            ),
        }),
        Ok(_) => {}
        Err(e) => ctx.emit(Event::Message {
            level: Level::Warn,
            text: format!(
                "cannot remove task worktrees left in {}: {e}",
                dir.display()
            ),
        }),
    }
}

/// What a task did in its worktree.
struct Worked {
    end: End,
    record: Option<TaskRecord>,
    /// The issues it added to the record.
    issues: Vec<Issue>,
}

/// What every worker shares (the run's read-only parts).
#[derive(Clone, Copy)]
struct Shared<'a> {
    home: &'a Path,
    plan: &'a Plan,
    config: &'a Config,
    plugins: &'a dyn super::ports::Plugins,
    stop: &'a (dyn Fn() -> Option<i32> + Sync),
    own_files: &'a [PathBuf],
    base: &'a State,
    budget: &'a super::budget::Budget,
}

/// Runs the picked tasks on up to `jobs` threads; their events are shown as they come.
fn work_all(ctx: &mut Ctx, spaces: Vec<Space>) -> Vec<(String, Worked)> {
    let base = ctx.state.clone();
    let own = ctx.own_files.clone();
    let budget = ctx.budget.clone();
    let shared = Shared {
        home: ctx.home,
        plan: ctx.plan,
        config: ctx.config,
        plugins: ctx.plugins,
        stop: ctx.stop,
        own_files: &own,
        base: &base,
        budget: &budget,
    };
    let threads = ctx.jobs.min(spaces.len());
    let queue = Mutex::new(spaces.into_iter().collect::<VecDeque<Space>>());
    let results = Mutex::new(Vec::new());
    let (tx, rx) = mpsc::channel::<Event>();
    std::thread::scope(|s| {
        for _ in 0..threads {
            let (tx, queue, results) = (tx.clone(), &queue, &results);
            s.spawn(move || loop {
                let next = queue.lock().map(|mut q| q.pop_front()).ok().flatten();
                let Some(space) = next else { break };
                let done = work(shared, space, tx.clone());
                if let Ok(mut r) = results.lock() {
                    r.push(done);
                }
            });
        }
        drop(tx);
        for ev in rx {
            ctx.emit(ev);
        }
    });
    results.into_inner().unwrap_or_default()
}

/// One task through its cycles in its worktree, on a copy of the state.
fn work(sh: Shared, space: Space, tx: mpsc::Sender<Event>) -> (String, Worked) {
    let state = sh.base.clone();
    let issues_before = state.record.issues.len();
    let mut reporter = Reporter::new(vec![Box::new(Forward(tx))]);
    let own_files = sh
        .own_files
        .iter()
        .map(|p| {
            p.strip_prefix(sh.home)
                .map_or_else(|_| p.clone(), |r| space.dir.join(r))
        })
        .collect();
    let mut wctx = Ctx {
        repo: &space.repo,
        workspace: &space.dir,
        home: sh.home,
        plan: sh.plan,
        config: sh.config,
        plugins: sh.plugins,
        store: None,
        reporter: &mut reporter,
        state,
        own_files,
        tolerances: super::outputs::Limits::new(sh.plan, sh.config),
        changed: Default::default(),
        stop: sh.stop,
        pace: Default::default(),
        jobs: 1,
        budget: sh.budget.clone(),
        accepting: None,
    };
    let end = task::run_task(&mut wctx, &space.id);
    let record = wctx
        .state
        .record
        .tasks
        .iter()
        .find(|t| t.id == space.id)
        .cloned();
    let issues = wctx.state.record.issues[issues_before..].to_vec();
    (
        space.id,
        Worked {
            end,
            record,
            issues,
        },
    )
}

/// A worker's events, to the main loop's reporter; its commit is announced
/// only when it lands on the branch.
struct Forward(mpsc::Sender<Event>);

impl Sink for Forward {
    fn event(&mut self, ev: &Event) {
        let landed_only = matches!(
            ev,
            Event::Committed { .. }
                | Event::TaskStatus {
                    status: TaskStatus::Done,
                    ..
                }
        );
        if !landed_only {
            let _ = self.0.send(ev.clone());
        }
    }
}

/// In plan order: each picked task's commit applied (or the task redone on
/// the branch), each other task run on the branch.
fn land(ctx: &mut Ctx, wave: &[String], mut worked: Vec<(String, Worked)>) -> End {
    let mut applied: Vec<(String, Vec<String>)> = Vec::new();
    for id in wave {
        let w = worked
            .iter()
            .position(|(i, _)| i == id)
            .map(|k| worked.swap_remove(k).1);
        let end = match w {
            None => task::run_task(ctx, id),
            Some(w) => land_one(ctx, id, w, &mut applied),
        };
        if !matches!(end, End::Done) {
            return end;
        }
    }
    End::Done
}

fn land_one(ctx: &mut Ctx, id: &str, w: Worked, applied: &mut Vec<(String, Vec<String>)>) -> End {
    let why = match (&w.end, &w.record) {
        (End::Done, Some(rec)) if rec.commit.is_some() => {
            match adopt(ctx, id, rec, &w.issues, applied) {
                Ok(()) => return End::Done,
                Err(why) => why,
            }
        }
        (End::Interrupted(sig), _) => return End::Interrupted(*sig),
        (End::Blocked, Some(rec)) => format!(
            "{id} was blocked in its worktree ({})",
            rec.blocked_reason
                .as_deref()
                .unwrap_or("no reason recorded")
        ),
        (End::Waiting, _) => {
            format!("{id}'s implementer waits for a person, which happens on the branch")
        }
        _ => format!("{id} did not finish in its worktree"),
    };
    if let Some(sig) = (ctx.stop)() {
        return End::Interrupted(sig);
    }
    redo(ctx, id, why)
}

/// Applies a worktree commit onto the branch when schedule::judge allows it.
/// The task is saved as in review on its base first, so a crash right after
/// the commit lands is recovered as "its commit had landed".
fn adopt(
    ctx: &mut Ctx,
    id: &str,
    rec: &TaskRecord,
    issues: &[Issue],
    applied: &mut Vec<(String, Vec<String>)>,
) -> Result<(), String> {
    let commit = rec.commit.clone().unwrap_or_default();
    let changed = ctx
        .repo
        .commit_paths_changed(&commit)
        .map_err(|e| format!("{id}'s commit in its worktree cannot be read: {e}"))?;
    let task = ctx
        .plan
        .tasks
        .iter()
        .find(|t| t.id == id)
        .expect("task in plan");
    if let Adopt::Redo(why) = schedule::judge(task, &changed, applied) {
        return Err(why);
    }
    let base = ctx.repo.head().ok().flatten().unwrap_or_default();
    let before = ctx.task_mut(id).clone();
    let t = ctx.task_mut(id);
    *t = rec.clone();
    t.status = TaskStatus::InReview;
    t.commit = None;
    ctx.state.task_base.insert(id.to_string(), base);
    ctx.save();
    match ctx.repo.apply_commit(&commit) {
        Ok(new) => {
            ctx.state.record.issues.extend(issues.iter().cloned());
            applied.push((id.to_string(), changed.clone()));
            task::finish_done(ctx, id, new, changed);
            Ok(())
        }
        Err(e) => {
            *ctx.task_mut(id) = before;
            ctx.state.task_base.remove(id);
            Err(format!(
                "{id}'s commit could not be applied onto the branch: {e}"
            ))
        }
    }
}

/// The worktree result is dropped and the task runs on the branch; said on
/// the terminal and in the record (the execution log's Issues).
fn redo(ctx: &mut Ctx, id: &str, why: String) -> End {
    ctx.emit(Event::Message {
        level: Level::Warn,
        text: format!("{why}; {id} runs again on the branch"),
    });
    ctx.state.record.issues.push(Issue {
        task: Some(id.to_string()),
        issue: why,
        resolution: format!(
            "{id}'s worktree result was dropped and it ran again on the branch, after the tasks before it"
        ),
    });
    task::run_task(ctx, id)
}
