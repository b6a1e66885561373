//! A blocked task's leftovers: what its attempt left in the work tree is remembered at
//! the block, and `--resume` sets it aside (copied, then undone) so the task starts clean.

use super::Ctx;
use crate::report::{Event, Level};
use planexec_record::Issue;
use planexec_vcs::{ChangedFile, TaskChanges};
use std::collections::BTreeMap;

/// At a block: each uncommitted path (all of them are the attempt's: the tree is clean
/// when a task starts) with the blob id of its content, empty when deleted.
pub fn remember(ctx: &mut Ctx, id: &str) {
    if ctx.in_worktree() {
        return;
    }
    let Ok(changes) = ctx.repo.changes_since_head(&ctx.not_tasks()) else {
        return;
    };
    let left: BTreeMap<String, String> = changes
        .paths()
        .into_iter()
        .map(|p| {
            let blob = ctx.repo.work_blob(&p).unwrap_or_default();
            (p, blob)
        })
        .collect();
    ctx.state.blocked_left.insert(id.to_string(), left);
}

/// At `--resume` of a blocked task: the paths still as the attempt left them are copied
/// to `.git/planexec/blocked/<run>/<task>-cycle<N>/` and undone; paths changed since
/// the block (the person's own edits) and every other change are kept. Said on the
/// terminal and recorded as an issue. `Err` (nothing undone) when the copy fails.
pub fn set_aside(ctx: &mut Ctx, id: &str) -> Result<(), String> {
    if let Some(done) = undo_attempt(ctx, id, false)? {
        let text = say(ctx, &done, &format!("{id} resumes after its block"));
        ctx.state.record.issues.push(Issue {
            task: Some(id.to_string()),
            issue: format!("{id} was resumed after its block"),
            resolution: text,
        });
    }
    Ok(())
}

/// What [`undo_attempt`] undid (copied to `backup` first) and kept.
pub struct SetAside {
    pub undone: Vec<String>,
    pub kept: Vec<String>,
    pub backup: std::path::PathBuf,
}

/// Copies aside, then undoes, the blocked attempt's paths: those still as it left them,
/// or with `all` (`--retry`) every path it touched, the person's later edits of those
/// included (copied too). Other changes are never touched. `None`: nothing to undo.
pub fn undo_attempt(ctx: &mut Ctx, id: &str, all: bool) -> Result<Option<SetAside>, String> {
    let Some(left) = ctx.state.blocked_left.remove(id) else {
        return Ok(None);
    };
    let (Some(store), false) = (ctx.store, ctx.in_worktree()) else {
        return Ok(None);
    };
    let changes = ctx.repo.changes_since_head(&ctx.not_tasks()).map_err(|e| {
        format!("{id} was resumed, but the work tree's changes cannot be read: {e}")
    })?;
    let (undo, kept) = split(ctx, &left, changes, all);
    if undo.is_empty() && kept.is_empty() {
        return Ok(None);
    }
    let cycle = ctx
        .task_mut(id)
        .cycles
        .last()
        .map(|c| c.number)
        .unwrap_or(0);
    let backup = store.blocked_dir(&ctx.state.record.run_id, id, cycle);
    let undo = TaskChanges {
        files: undo,
        patch: String::new(),
    };
    ctx.repo.back_up_changes(&undo, &backup).map_err(|e| {
        format!("{id} was resumed, but its blocked attempt's changes could not be copied aside, so they were left in the work tree: {e}")
    })?;
    ctx.repo.restore_to_head(&undo).map_err(|e| {
        format!("{id} was resumed; its blocked attempt's changes are copied to {} but could not be undone: {e}", backup.display())
    })?;
    Ok(Some(SetAside {
        undone: undo.paths(),
        kept,
        backup,
    }))
}

/// The changes to undo (still as the attempt left them, or with `all` every one the
/// attempt touched), and the paths of the attempt the person changed since (kept).
fn split(
    ctx: &Ctx,
    left: &BTreeMap<String, String>,
    changes: TaskChanges,
    all: bool,
) -> (Vec<ChangedFile>, Vec<String>) {
    let as_left = |p: &str| {
        left.get(p)
            .is_some_and(|b| *b == ctx.repo.work_blob(p).unwrap_or_default())
    };
    let mut undo = Vec::new();
    let mut kept = Vec::new();
    for f in changes.files {
        let sides: Vec<&String> = f.old_path.iter().chain([&f.path]).collect();
        if !sides.iter().any(|p| left.contains_key(*p)) {
            continue;
        }
        if all || sides.iter().all(|p| as_left(p)) {
            undo.push(f);
        } else {
            kept.extend(sides.into_iter().cloned());
        }
    }
    (undo, kept)
}

/// Says on the terminal, after `head`, what was undone (and where its copy is) and
/// what was kept; returns the text for the record.
pub fn say(ctx: &mut Ctx, done: &SetAside, head: &str) -> String {
    let home = ctx
        .home
        .canonicalize()
        .unwrap_or_else(|_| ctx.home.to_path_buf());
    let shown = done
        .backup
        .strip_prefix(&home)
        .unwrap_or(&done.backup)
        .display()
        .to_string();
    let mut text = head.to_string();
    if !done.undone.is_empty() {
        text.push_str(&format!(
            " from a clean tree: its blocked attempt's changes to {} were undone (a copy is in {shown})",
            done.undone.join(", ")
        ));
    }
    if !done.kept.is_empty() {
        text.push_str(&format!(
            "; kept as you left them (changed since the block): {}",
            done.kept.join(", ")
        ));
    }
    ctx.emit(Event::Message {
        level: Level::Info,
        text: text.clone(),
    });
    text
}
