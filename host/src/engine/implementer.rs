//! What the engine does around an implementer or agent reviewer call, whatever it reports:
//! commits it made are undone into the work tree, its transcript is kept with the run.

use super::Ctx;
use planexec_record::{ImplementRun, ReviewKind, ReviewRun};

/// The most of one transcript kept (its start; an agent's output is capped before this).
const MAX_TRANSCRIPT: usize = 16 << 20;

/// HEAD moved while the implementer ran: planexec commits, not the implementer.
/// The commits are undone into the work tree (their changes stay for the gates)
/// and the cycle gets a finding naming them.
pub fn undo_commits(ctx: &Ctx, before: Option<&str>, imp: &mut ImplementRun) {
    let Some(before) = before else { return };
    let message = match ctx.repo.undo_commits_to(before) {
        Ok(undone) if undone.is_empty() => return,
        Ok(undone) => {
            let names: Vec<String> = undone
                .iter()
                .map(|c| format!("{} {}", &c.id[..c.id.len().min(8)], c.summary))
                .collect();
            format!(
                "{} committed by itself ({}); planexec commits each task: the commit was undone \
                 into the work tree",
                imp.plugin,
                names.join(", ")
            )
        }
        Err(e) => format!("{} moved HEAD and it could not be undone: {e}", imp.plugin),
    };
    imp.findings
        .push(super::machine::finding("implementer/committed", message));
}

/// Writes the implementer's transcript (redacted, [`crate::redact`]) outside the work
/// tree ([`transcripts_root`]) and records where; a write that fails is said in the
/// evidence, never fatal. Its summary and evidence are redacted too.
pub fn keep_transcript(ctx: &Ctx, task: &str, cycle: u32, imp: &mut ImplementRun) {
    let secrets = crate::redact::Secrets::passed_to(&ctx.config.policy, &imp.plugin);
    imp.summary = secrets.redact(&imp.summary);
    imp.evidence = secrets.redact(&imp.evidence);
    let text = secrets.redact(&std::mem::take(&mut imp.transcript));
    let name = format!("{task}-cycle{cycle}");
    match keep(ctx, &name, &text) {
        Ok(path) => imp.transcript_path = path,
        Err(e) => imp
            .evidence
            .push_str(&format!("\n(transcript not kept: {e})")),
    }
}

/// The same for an agent reviewer's transcript (`<task>-cycle<N>-<kind>-review.log`).
pub fn keep_review_transcript(ctx: &Ctx, task: &str, cycle: u32, run: &mut ReviewRun) {
    let Some(review) = run.review.as_mut() else {
        return;
    };
    let secrets = crate::redact::Secrets::passed_to(&ctx.config.policy, &run.plugin);
    review.summary = secrets.redact(&review.summary);
    let text = secrets.redact(&std::mem::take(&mut review.transcript));
    let kind = match run.kind {
        ReviewKind::Task => "task",
        ReviewKind::Code => "code",
    };
    let name = format!("{task}-cycle{cycle}-{kind}-review");
    match keep(ctx, &name, &text) {
        Ok(path) => review.transcript_path = path,
        Err(e) => review
            .summary
            .push_str(&format!(" (transcript not kept: {e})")),
    }
}

/// Writes `text` (its first 16 MiB) as `<name>.log` of the run; `None` for no text.
fn keep(ctx: &Ctx, name: &str, text: &str) -> Result<Option<String>, crate::rooted::RootedError> {
    if text.is_empty() {
        return Ok(None);
    }
    let mut end = text.len().min(MAX_TRANSCRIPT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    // Keyed by the main repository, also for a task in its own worktree.
    let root = transcripts_root(ctx.repo.git().commondir());
    create_private(&root)?;
    let rel = std::path::PathBuf::from(&ctx.state.record.run_id).join(format!("{name}.log"));
    let full = crate::rooted::write(&root, &rel, text[..end].as_bytes())?;
    Ok(Some(full.to_string_lossy().into_owned()))
}

/// Where a repository's transcripts go: `$XDG_STATE_HOME/planexec/transcripts/<repo>`
/// (else `~/.local/state/...`), outside every work tree, so no plugin and no boxed
/// program can read them (the wasm sandbox sees only the workspace, the box never `~/.local`).
pub fn transcripts_root(git_common_dir: &std::path::Path) -> std::path::PathBuf {
    use sha2::{Digest, Sha256};
    let state = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".local/state"))
        })
        .unwrap_or_else(std::env::temp_dir);
    let real = git_common_dir
        .canonicalize()
        .unwrap_or_else(|_| git_common_dir.to_path_buf());
    let key = hex::encode(&Sha256::digest(real.to_string_lossy().as_bytes())[..8]);
    state.join("planexec/transcripts").join(key)
}

/// Creates `dir` and its planexec parents, 0700.
fn create_private(dir: &std::path::Path) -> Result<(), crate::rooted::RootedError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| crate::rooted::RootedError::Io {
            path: dir.to_path_buf(),
            source: e,
        })
}
