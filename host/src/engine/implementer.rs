//! What the engine does around an implementer or agent reviewer call, whatever it reports:
//! commits it made are undone into the work tree, its transcript is kept with the run.

use super::Ctx;
use planexec_record::{Finding, ImplementRun, ReviewKind, ReviewRun, Severity};

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
    imp.findings.push(Finding {
        severity: Severity::Important,
        rule: "implementer/committed".into(),
        message,
        path: None,
        line: None,
        column: None,
        end_line: None,
        end_column: None,
    });
}

/// Writes the implementer's transcript under `.git/planexec/transcripts/<run>/`
/// and records where; a write that fails is said in the evidence, never fatal.
pub fn keep_transcript(ctx: &Ctx, task: &str, cycle: u32, imp: &mut ImplementRun) {
    let text = std::mem::take(&mut imp.transcript);
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
    let text = std::mem::take(&mut review.transcript);
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
    let (root, rel) = ctx.store.transcript(&ctx.state.record.run_id, name);
    let full = crate::rooted::write(&root, &rel, text[..end].as_bytes())?;
    let shown = full.strip_prefix(ctx.workspace).unwrap_or(&full);
    Ok(Some(shown.to_string_lossy().into_owned()))
}
