//! ExecPlans: a Status line, Purpose, Constraints, Tolerances in prose, Risks, Progress checkboxes
//! (the tasks, with timestamps), Concrete Steps and Validation and Acceptance commands.

use super::common::plan_title;
use crate::check::{Diagnostic, Severity};
use crate::markdown::{plain, Doc, Kind};
use crate::model::{DepKind, Dependency, Plan, Span, Task};
use crate::sections::{read_sections, section_kind, SecKind};

/// Read an ExecPlan into `plan`.
pub fn parse(doc: &Doc, plan: &mut Plan) {
    let title = plan_title(doc);
    plan.title = title
        .strip_prefix("ExecPlan:")
        .map(|s| s.trim().to_string())
        .unwrap_or(title);
    plan.status = status(doc);
    let mut in_task = vec![false; doc.blocks.len()];
    let mut stack: Vec<(u8, SecKind)> = Vec::new();
    let mut top_depth: Option<u16> = None;
    let mut current: Option<usize> = None;
    for (bi, b) in doc.blocks.iter().enumerate() {
        if let Kind::Heading(level) = b.kind {
            while stack.last().is_some_and(|&(l, _)| l >= level) {
                stack.pop();
            }
            stack.push((level, section_kind(&b.text)));
            top_depth = None;
            current = None;
            continue;
        }
        let in_progress = stack.iter().any(|&(_, k)| k == SecKind::Progress);
        if !in_progress {
            continue;
        }
        in_task[bi] = true;
        let Kind::Item { checked, .. } = b.kind else {
            if let (Some(c), Kind::Code { .. }) = (current, b.kind) {
                plan.tasks[c].body.push('\n');
                plan.tasks[c].body.push_str(&b.text);
            }
            continue;
        };
        let top = *top_depth.get_or_insert(b.depth);
        if b.depth > top || checked.is_none() {
            // nested notes (`- Status: Pending`) belong to the item above
            if let Some(c) = current {
                let t = &mut plan.tasks[c];
                if !t.body.is_empty() {
                    t.body.push('\n');
                }
                t.body.push_str(&plain(&b.text));
            }
            continue;
        }
        let done = checked.unwrap_or(false);
        let text = plain(&b.text);
        let (stamp, rest) = split_stamp(&text);
        let n = plan.tasks.len() + 1;
        let span = doc.span(b.start);
        let mut task = Task {
            id: format!("P{n}"),
            title: rest.to_string(),
            summary: rest.to_string(),
            done,
            stamp,
            source: doc.src.path.clone(),
            span,
            line: span.line,
            quote: doc.quote(b.start),
            ..Task::default()
        };
        if let Some(prev) = plan.tasks.last() {
            task.dependencies.push(Dependency {
                id: prev.id.clone(),
                kind: DepKind::Sequencing,
                span,
                file: None,
                quote: doc.quote(b.start),
                prose: false,
            });
        }
        plan.tasks.push(task);
        current = Some(plan.tasks.len() - 1);
    }
    read_sections(doc, plan, &in_task);
    // Concrete Steps: commands, kept as the plan's steps on each task for the implementer to see.
    if plan.tasks.is_empty() {
        plan.notes.push(Diagnostic::new(
            Severity::Error,
            "not-an-execplan",
            "no Progress checkboxes found: this file reads as a prose record, not an ExecPlan with tasks; add a `## Progress` section with `- [ ]` items or pass --dialect".to_string(),
            &doc.src.path,
            Span { line: 1, column: 1, offset: 0 },
            doc.src.line_text(1),
        ));
    }
    if let Some(s) = &plan.status {
        let l = s.to_lowercase();
        let all_done = !plan.tasks.is_empty() && plan.tasks.iter().all(|t| t.done);
        let says_done = l.contains("complete") || l.starts_with("done") || l.contains(" done");
        if says_done != all_done && !plan.tasks.is_empty() && (says_done || all_done) {
            let off = doc.src.text.find(s.as_str()).unwrap_or(0);
            let open = plan.tasks.iter().filter(|t| !t.done).count();
            plan.notes.push(Diagnostic::new(
                Severity::Warning,
                "status-disagreement",
                if says_done {
                    format!("Status says \"{s}\" but {open} Progress item(s) are not ticked")
                } else {
                    format!("every Progress item is ticked but Status says \"{s}\"")
                },
                &doc.src.path,
                doc.span(off),
                &doc.quote(off),
            ));
        }
    }
}

/// The `Status:` line (or `**Status**:` metadata bullet, or front matter `status`).
fn status(doc: &Doc) -> Option<String> {
    if let Some(serde_json::Value::String(s)) = doc.front_matter.get("status") {
        return Some(s.clone());
    }
    for b in &doc.blocks {
        if !matches!(b.kind, Kind::Para | Kind::Item { .. }) {
            continue;
        }
        for (line, _) in b.lines() {
            let p = plain(line);
            if let Some(v) = p
                .strip_prefix("Status:")
                .or_else(|| p.strip_prefix("Status :"))
                .or_else(|| p.strip_prefix("status:"))
            {
                let v = v.trim();
                if !v.is_empty() && v.len() < 120 {
                    return Some(v.to_string());
                }
            }
        }
    }
    None
}

/// Split a progress stamp off an item: `(2025-10-01 13:00Z) text`, `(2026-04-03) text`, `2026-04-23: text`.
pub fn split_stamp(text: &str) -> (Option<String>, &str) {
    let t = text.trim();
    if let Some(r) = t.strip_prefix('(') {
        if let Some(close) = r.find(')') {
            let inner = &r[..close];
            if is_date(inner) {
                return (
                    Some(inner.trim().to_string()),
                    r[close + 1..]
                        .trim_start_matches([':', ' ', '-', '–', '—'])
                        .trim(),
                );
            }
        }
    }
    if t.get(..10).is_some_and(is_date) {
        let mut end = 10;
        let rest = &t[10..];
        // optional time: ` 13:00Z`
        let b = rest.as_bytes();
        if b.len() >= 6 && (b[0] == b' ' || b[0] == b'T') && b[1].is_ascii_digit() && b[3] == b':' {
            let tl = rest[1..]
                .find(|c: char| !(c.is_ascii_digit() || c == ':' || c == 'Z'))
                .map_or(rest.len(), |i| i + 1);
            end += tl;
            while t[..end].ends_with(':') {
                end -= 1;
            }
        }
        let after = &t[end..];
        if after.starts_with(':')
            || after.starts_with(" -")
            || after.starts_with(" –")
            || after.starts_with(" —")
            || after.starts_with(' ')
        {
            return (
                Some(t[..end].to_string()),
                after.trim_start_matches([':', ' ', '-', '–', '—']).trim(),
            );
        }
    }
    (None, t)
}

fn is_date(s: &str) -> bool {
    let b = s.trim().as_bytes();
    b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::split_stamp;

    #[test]
    fn stamps() {
        assert_eq!(
            split_stamp("(2025-10-01 13:00Z) Example step."),
            (Some("2025-10-01 13:00Z".into()), "Example step.")
        );
        assert_eq!(
            split_stamp("(2026-04-03) Done"),
            (Some("2026-04-03".into()), "Done")
        );
        assert_eq!(
            split_stamp("2026-04-23: Wired"),
            (Some("2026-04-23".into()), "Wired")
        );
        assert_eq!(
            split_stamp("2026-04-23 10:15Z: Wired"),
            (Some("2026-04-23 10:15Z".into()), "Wired")
        );
        assert_eq!(split_stamp("No stamp"), (None, "No stamp"));
    }
}
