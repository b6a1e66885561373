//! "Issues & Resolutions": every entry of the record's `issues` (recoveries, user
//! interventions the engine noted), every rejected cycle, every block, failed final gates.

use planexec_pdk::record::{CycleOutcome, Issue, Outcome, RunRecord, TaskRecord, TaskStatus};
use reportkit::md;

/// A cycle that ended in rework or a block after a gate or review said no.
fn rejected_cycles(o: &mut Vec<String>, t: &TaskRecord) {
    for (i, c) in t.cycles.iter().enumerate() {
        if !matches!(c.outcome, CycleOutcome::Rework | CycleOutcome::Blocked) {
            continue;
        }
        let why = crate::rejections(c);
        let why = if why.is_empty() {
            match &c.implementer {
                Some(imp) => format!(
                    "implementer {}: {}",
                    md::code(&imp.plugin),
                    md::text(&imp.summary)
                ),
                None => "no gate or review verdict recorded".into(),
            }
        } else {
            why.join("; ")
        };
        let then = match t.cycles.get(i + 1) {
            Some(next) => format!("reworked in cycle {}", next.number),
            None if t.status == TaskStatus::Blocked => "task blocked".into(),
            None => "rework pending".into(),
        };
        o.push(format!(
            "- {} – cycle {} rejected: {why} → {then}",
            md::text(&t.id),
            c.number
        ));
    }
}

/// Whether the engine's issue `i` says what a line derived from the tasks says already:
/// a rejected cycle (`T001 cycle 2 rejected: ...`), listed once from its cycle.
fn derived_from_cycles(i: &Issue, rec: &RunRecord) -> bool {
    let Some(id) = i.task.as_deref() else {
        return false;
    };
    let Some(t) = rec.tasks.iter().find(|t| t.id == id) else {
        return false;
    };
    t.cycles.iter().any(|c| {
        matches!(c.outcome, CycleOutcome::Rework | CycleOutcome::Blocked)
            && i.issue
                .starts_with(&format!("{id} cycle {} rejected", c.number))
    })
}

/// Whether the engine's issue `i` is the block of task `t` as it stands.
fn is_block_of(i: &Issue, t: &TaskRecord) -> bool {
    t.status == TaskStatus::Blocked
        && i.task.as_deref() == Some(t.id.as_str())
        && t.blocked_reason.as_deref() == Some(i.issue.as_str())
}

/// The engine's issue for a blocked task's block (its resolution says how to go on).
fn block_issue<'a>(t: &TaskRecord, rec: &'a RunRecord) -> Option<&'a Issue> {
    rec.issues.iter().rfind(|i| is_block_of(i, t))
}

/// Whether the engine's issue `i` is the block of a task still blocked (listed with it).
fn is_current_block(i: &Issue, rec: &RunRecord) -> bool {
    rec.tasks.iter().any(|t| is_block_of(i, t))
}

/// The section, `None` only when nothing at all went wrong.
pub fn render(o: &mut String, rec: &RunRecord) {
    let mut lines = Vec::new();
    let own = |i: &&Issue| !derived_from_cycles(i, rec) && !is_current_block(i, rec);
    for i in rec.issues.iter().filter(own) {
        let who = i
            .task
            .as_deref()
            .map(|t| format!("{} – ", md::text(t)))
            .unwrap_or_default();
        lines.push(format!(
            "- {who}{} → {}",
            md::text(&i.issue),
            md::text(&i.resolution)
        ));
    }
    for t in &rec.tasks {
        rejected_cycles(&mut lines, t);
        if t.status == TaskStatus::Blocked {
            let then = block_issue(t, rec)
                .map(|i| i.resolution.as_str())
                .unwrap_or("run stopped; asked the user");
            lines.push(format!(
                "- {} – blocked: {} → {}",
                md::text(&t.id),
                md::text(t.blocked_reason.as_deref().unwrap_or("no reason recorded")),
                md::text(then)
            ));
        }
    }
    for g in rec
        .final_gates
        .iter()
        .filter(|g| matches!(g.report.outcome, Outcome::Failed | Outcome::Errored))
    {
        lines.push(format!(
            "- final gate {} {}: {} → stopped; no rollback without confirmation",
            md::code(&g.name),
            reportkit::outcome_str(g.report.outcome),
            md::text(&g.report.summary)
        ));
    }
    o.push_str("## Issues & Resolutions\n\n");
    if lines.is_empty() {
        o.push_str("- None\n");
    }
    for l in lines {
        o.push_str(&l);
        o.push('\n');
    }
    o.push('\n');
}
