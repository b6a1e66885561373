//! Handing a blocked task back on `--resume`: `--accept` (the work tree is its result,
//! judged as usual), `--retry` (its attempt undone, cycles again), `--skip` (dependants wait).

use super::{blocked, Ctx, EngineError};
use crate::report::{Event, Level};
use planexec_record::{Issue, RunRecord, TaskStatus};

/// What the person does with a blocked task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handback {
    /// `--accept ID`: the work tree as the person left it is the task's result.
    Accept(String),
    /// `--retry ID`: the attempt's files undone, the task's cycles start again.
    Retry(String),
    /// `--skip ID --reason TEXT`: not done, never committed; its dependants wait.
    Skip { id: String, reason: String },
}

impl Handback {
    pub fn id(&self) -> &str {
        match self {
            Handback::Accept(id) | Handback::Retry(id) | Handback::Skip { id, .. } => id,
        }
    }

    fn flag(&self) -> &'static str {
        match self {
            Handback::Accept(_) => "--accept",
            Handback::Retry(_) => "--retry",
            Handback::Skip { .. } => "--skip",
        }
    }
}

/// Before anything changes: the task exists in the run and is blocked (or, for
/// `--accept` and `--retry`, skipped earlier).
pub fn check(h: &Handback, rec: &RunRecord) -> Result<(), EngineError> {
    let id = h.id();
    let err = |why: String, todo: String| EngineError::Handback {
        flag: h.flag(),
        id: id.to_string(),
        why,
        todo,
    };
    let blocked: Vec<&str> = rec
        .tasks
        .iter()
        .filter(|t| t.status == TaskStatus::Blocked)
        .map(|t| t.id.as_str())
        .collect();
    let todo = match blocked.as_slice() {
        [] => "no task of this run is blocked; `planexec run PLAN --resume` continues it".into(),
        b => format!("the blocked task is {}", b.join(", ")),
    };
    let Some(t) = rec.tasks.iter().find(|t| t.id == id) else {
        let ids: Vec<&str> = rec.tasks.iter().map(|t| t.id.as_str()).collect();
        return Err(err(
            format!(
                "run {} has no task {id} (its tasks: {})",
                rec.run_id,
                ids.join(", ")
            ),
            todo,
        ));
    };
    let skipped_ok = !matches!(h, Handback::Skip { .. }) && t.status == TaskStatus::Skipped;
    if t.status != TaskStatus::Blocked && !skipped_ok {
        return Err(err(
            format!(
                "{id} is {}, not blocked; only a blocked task is handed back",
                t.status.as_str()
            ),
            todo,
        ));
    }
    Ok(())
}

/// Applies the hand-back to the resumed run before its loop starts; said on the
/// terminal and recorded as an issue. `Err`: the task stays blocked, nothing undone.
pub fn apply(ctx: &mut Ctx, h: &Handback) -> Result<(), String> {
    let id = h.id().to_string();
    if ctx.task_mut(&id).status == TaskStatus::Skipped {
        ctx.task_mut(&id).status = TaskStatus::Blocked;
    }
    let (issue, resolution) = match h {
        Handback::Accept(_) => accept(ctx, &id),
        Handback::Retry(_) => retry(ctx, &id)?,
        Handback::Skip { reason, .. } => skip(ctx, &id, reason)?,
    };
    ctx.emit(Event::Message {
        level: Level::Info,
        text: format!("{issue}: {resolution}"),
    });
    ctx.state.record.issues.push(Issue {
        task: Some(id),
        issue,
        resolution,
    });
    ctx.persist();
    Ok(())
}

/// The work tree stays as the person left it; task.rs judges it as the next cycle.
fn accept(ctx: &mut Ctx, id: &str) -> (String, String) {
    ctx.state.blocked_left.remove(id);
    ctx.accepting = Some(id.to_string());
    (
        format!("{id} was handed back with --accept"),
        "the work tree as you left it is taken as its result; its gates and reviews judge it, and nothing they reject is committed".into(),
    )
}

/// Every path the blocked attempt touched is copied aside and undone; the rest stays.
fn retry(ctx: &mut Ctx, id: &str) -> Result<(String, String), String> {
    let undone = blocked::undo_attempt(ctx, id, true)?;
    let head = format!("{id} starts its cycles again from its start point");
    let mut text = match undone {
        Some(done) => blocked::say(ctx, &done, &head),
        None => head,
    };
    text.push_str(&hold_the_rest(ctx, id));
    Ok((format!("{id} was handed back with --retry"), text))
}

/// The person's other uncommitted changes stay in the tree and are held out of every
/// task's change while they are as they are now (`State::held`); the text says which.
fn hold_the_rest(ctx: &mut Ctx, id: &str) -> String {
    let Ok(changes) = ctx.repo.changes_since_head(&ctx.not_tasks()) else {
        return String::new();
    };
    let paths = changes.paths();
    if paths.is_empty() {
        return String::new();
    }
    for p in &paths {
        let blob = ctx.repo.work_blob(p).unwrap_or_default();
        ctx.state.held.insert(p.clone(), blob);
    }
    format!(
        "; your other changes ({}) stay in the work tree, not part of {id} or any later task",
        paths.join(", ")
    )
}

/// Marked skipped; what its attempt left unchanged is set aside, so later tasks start
/// from a clean tree.
fn skip(ctx: &mut Ctx, id: &str, reason: &str) -> Result<(String, String), String> {
    let undone = blocked::undo_attempt(ctx, id, false)?;
    let mut text = format!("skipped, never committed; the tasks that depend on {id} wait");
    if let Some(done) = undone {
        text = blocked::say(ctx, &done, &text);
    }
    text.push_str(&hold_the_rest(ctx, id));
    let t = ctx.task_mut(id);
    t.status = TaskStatus::Skipped;
    t.blocked_reason = None;
    ctx.emit(Event::TaskStatus {
        task: id.to_string(),
        status: TaskStatus::Skipped,
        cycle: 0,
    });
    Ok((format!("{id} was skipped with --skip: {reason}"), text))
}

/// The first dependency (direct or through another waiting task) that keeps `id`
/// from running: a skipped task. None when it may run.
pub fn waits_for(rec: &RunRecord, id: &str) -> Option<String> {
    let mut seen = std::collections::BTreeSet::new();
    let mut todo = vec![id.to_string()];
    while let Some(cur) = todo.pop() {
        let Some(t) = rec.tasks.iter().find(|t| t.id == cur) else {
            continue;
        };
        for d in &t.dependencies {
            let skipped = rec
                .tasks
                .iter()
                .any(|x| &x.id == d && x.status == TaskStatus::Skipped);
            if skipped {
                return Some(d.clone());
            }
            if seen.insert(d.clone()) {
                todo.push(d.clone());
            }
        }
    }
    None
}

/// Says once per run that `id` waits for the skipped `skipped` (terminal and record).
pub fn note_waiting(ctx: &mut Ctx, id: &str, skipped: &str) {
    let issue = format!("{id} waits: it depends on {skipped}, which was skipped");
    if ctx.state.record.issues.iter().any(|i| i.issue == issue) {
        return;
    }
    ctx.emit(Event::Message {
        level: Level::Warn,
        text: issue.clone(),
    });
    ctx.state.record.issues.push(Issue {
        task: Some(id.to_string()),
        issue,
        resolution: format!(
            "not run; it runs once {skipped} is done (`planexec run PLAN --resume --accept {skipped}` or `--retry {skipped}`)"
        ),
    });
}
