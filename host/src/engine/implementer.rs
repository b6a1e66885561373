//! What the engine does around an implementer call, whatever the plugin reports:
//! commits it made are undone into the work tree, its transcript is kept with the run.

use super::Ctx;
use planexec_record::{Finding, ImplementRun, Severity};

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
/// and records where; a write that fails is said in the record, never fatal.
pub fn keep_transcript(ctx: &Ctx, task: &str, cycle: u32, imp: &mut ImplementRun) {
    let text = std::mem::take(&mut imp.transcript);
    if text.is_empty() {
        return;
    }
    let bytes = &text.as_bytes()[..text.len().min(MAX_TRANSCRIPT)];
    let (root, rel) = ctx.store.transcript(&ctx.state.record.run_id, task, cycle);
    match crate::rooted::write(&root, &rel, bytes) {
        Ok(full) => {
            let shown = full.strip_prefix(ctx.workspace).unwrap_or(&full);
            imp.transcript_path = Some(shown.to_string_lossy().into_owned());
        }
        Err(e) => imp
            .evidence
            .push_str(&format!("\n(transcript not kept: {e})")),
    }
}
