//! ExecPlans: a Status line, Purpose, Constraints, Tolerances in prose, Risks, Progress checkboxes
//! (the tasks, with timestamps), Concrete Steps and Validation and Acceptance commands.

use super::common::{chain, plan_title};
use crate::diagnostic::{Diagnostic, Severity};
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
    let mut names: Vec<String> = Vec::new();
    let mut top_depth: Option<u16> = None;
    let mut current: Option<usize> = None;
    for (bi, b) in doc.blocks.iter().enumerate() {
        if let Kind::Heading(level) = b.kind {
            while stack.last().is_some_and(|&(l, _)| l >= level) {
                stack.pop();
                names.pop();
            }
            stack.push((level, section_kind(&b.text)));
            names.push(plain(&b.text));
            top_depth = None;
            current = None;
            continue;
        }
        let in_progress = stack.iter().any(|&(_, k)| k == SecKind::Progress);
        if !in_progress {
            continue;
        }
        in_task[bi] = true;
        let Kind::Item { .. } = b.kind else {
            if let (Some(c), Kind::Code { .. }) = (current, b.kind) {
                plan.tasks[c].body.push('\n');
                plan.tasks[c].body.push_str(&b.text);
            }
            continue;
        };
        let top = *top_depth.get_or_insert(b.depth);
        let boxed = b.task_box();
        if b.depth > top || boxed.is_none() {
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
        let (done, skip) = boxed.unwrap_or((false, 0));
        let text = plain(&b.text[skip..]);
        let (stamp, rest) = split_stamp(&text);
        let n = plan.tasks.len() + 1;
        let span = doc.span(b.start);
        // the section holding this Progress (`Run 2: ...` in a PLANS.md), when it is not the H1
        let at = stack
            .iter()
            .position(|&(_, k)| k == SecKind::Progress)
            .unwrap_or(0);
        let run = (at > 0 && stack[at - 1].0 > 1).then(|| names[at - 1].clone());
        let mut task = Task {
            origin: "a checkbox item of the Progress section",
            id: format!("P{n}"),
            milestone: run,
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
                quote: doc.quote(b.start).into(),
                prose: false,
            });
        }
        plan.tasks.push(task);
        current = Some(plan.tasks.len() - 1);
    }
    read_sections(doc, plan, &in_task);
    let progress = std::mem::take(&mut plan.tasks);
    // a PLANS.md holding several ExecPlans (`## Run 2: ...`, each with its own Progress): the
    // stages' names repeat between them, so the Progress items are the tasks
    let several = progress_sections(doc) > 1;
    let stages = if several {
        Vec::new()
    } else {
        stage_tasks(doc)
    };
    // the Status line is checked against the record it describes: the Progress checkboxes
    let record: Vec<bool> = if progress.is_empty() {
        stages.iter().map(|t| t.done).collect()
    } else {
        progress.iter().map(|t| t.done).collect()
    };
    plan.tasks = if progress.is_empty() {
        match stages {
            s if s.is_empty() => chain(concrete_steps(doc, &plan.final_gates)),
            s => chain(settled(s, plan.status.as_deref())),
        }
    } else {
        match tie(stages, &progress) {
            Ok(tied) => chain(tied),
            Err(lone) => {
                plan.notes.extend(unlinked_note(doc, &lone));
                progress
            }
        }
    };
    if plan.tasks.is_empty() {
        plan.notes.push(no_tasks_note(doc));
    }
    if let Some(s) = &plan.status {
        let l = s.to_lowercase();
        let all_done = !record.is_empty() && record.iter().all(|&d| d);
        let says_done = l.contains("complete") || l.starts_with("done") || l.contains(" done");
        if says_done != all_done && !plan.tasks.is_empty() && (says_done || all_done) {
            let off = doc.src.text.find(s.as_str()).unwrap_or(0);
            let open = record.iter().filter(|&&d| !d).count();
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

/// The `not-an-execplan` error, worded for what the file has: a Progress section of plain
/// bullets, or no Progress section at all.
fn no_tasks_note(doc: &Doc) -> Diagnostic {
    let progress = doc
        .blocks
        .iter()
        .position(|b| b.heading_level().is_some() && section_kind(&b.text) == SecKind::Progress)
        .filter(|&i| {
            doc.blocks[i + 1..doc.section_end(i)]
                .iter()
                .any(|b| b.is_item())
        });
    let (off, message) = match progress {
        Some(i) => (
            doc.blocks[i].start,
            "this ExecPlan's Progress section has plain bullets, no `- [ ]` checkboxes, and the plan has no `## Stage` or `### Milestone N:` sections or numbered Concrete Steps; planexec has nothing to run: write the Progress items as `- [ ] ...` checkboxes".to_string(),
        ),
        None => (
            0,
            "no Progress checkboxes and no stages, milestones or numbered Concrete Steps: this file reads as a prose record, not an ExecPlan with work to run; add a `## Progress` section with `- [ ]` items, or pass --dialect".to_string(),
        ),
    };
    let span = if off == 0 {
        Span {
            line: 1,
            column: 1,
            offset: 0,
        }
    } else {
        doc.span(off)
    };
    Diagnostic::new(
        Severity::Error,
        "not-an-execplan",
        message,
        &doc.src.path,
        span,
        doc.src.line_text(span.line),
    )
}

/// `## Stage A: ...` and `### Milestone 1: ...` sections as tasks, in order: their Scope and
/// Files as files, their Steps, and their Validation / Acceptance commands as acceptance. Each
/// is tied to the Progress item that names it ("Milestone 1", "M1", "Stage A", or its title).
fn stage_tasks(doc: &Doc) -> Vec<Task> {
    let mut out: Vec<Task> = Vec::new();
    let mut in_progress: Option<u8> = None;
    for (i, b) in doc.blocks.iter().enumerate() {
        let Some(level) = b.heading_level() else {
            continue;
        };
        if in_progress.is_some_and(|l| level <= l) {
            in_progress = None;
        }
        if section_kind(&b.text) == SecKind::Progress {
            in_progress = Some(level);
        }
        // `Phase N` groups Progress items or spec-kit tasks; headings inside Progress are its own
        let Some((id, title)) = crate::sections::parse_milestone_heading(&b.text)
            .filter(|(id, _)| !id.starts_with("Phase") && in_progress.is_none())
        else {
            continue;
        };
        if out
            .iter()
            .any(|t| t.milestone.as_deref() == Some(id.as_str()))
        {
            continue;
        }
        let end = doc.section_end(i);
        let span = doc.span(b.start);
        let mut task = Task {
            origin: "a stage or milestone heading, tied to the Progress items that name it",
            id: id.replace(' ', "-"),
            title: title.clone(),
            source: doc.src.path.clone(),
            span,
            line: span.line,
            milestone: Some(id.clone()),
            quote: doc.quote(b.start),
            ..Task::default()
        };
        let c = crate::fields::collect(doc, i + 1, end);
        super::common::apply(doc, &c, &mut task);
        task.body = doc.source_of(i + 1, end).to_string();
        out.push(task);
    }
    out
}

/// Without Progress checkboxes, a stage is done when its heading says so (`### M1 — X
/// (Complete)`, `✅`, `DONE`), or every stage is when the plan's Status says it is complete.
fn settled(mut stages: Vec<Task>, status: Option<&str>) -> Vec<Task> {
    let complete = status.is_some_and(says_complete);
    for s in &mut stages {
        s.done = complete || says_complete(&s.title) || s.title.contains('✅');
    }
    stages
}

/// Whether a status word says finished: complete(d), done, shipped, finished.
fn says_complete(text: &str) -> bool {
    let l = text.to_lowercase();
    let words: Vec<&str> = l.split(|c: char| !c.is_alphanumeric()).collect();
    words.iter().any(|w| {
        matches!(
            *w,
            "complete" | "completed" | "done" | "shipped" | "finished"
        )
    }) && !words
        .iter()
        .any(|w| matches!(*w, "not" | "incomplete" | "partially" | "partial"))
}

/// How many Progress sections the document has.
fn progress_sections(doc: &Doc) -> usize {
    doc.blocks
        .iter()
        .filter(|b| b.heading_level().is_some() && section_kind(&b.text) == SecKind::Progress)
        .count()
}

/// Tie each Progress item to the stage it names. The stages are the tasks only when every
/// stage has at least one item and every open item names a stage; a stage is then done when all
/// its items are. Otherwise the stages no item names come back as the error.
fn tie(mut stages: Vec<Task>, progress: &[Task]) -> Result<Vec<Task>, Vec<Task>> {
    if stages.is_empty() {
        return Err(Vec::new());
    }
    let mut items: Vec<Vec<&Task>> = vec![Vec::new(); stages.len()];
    let mut open_unnamed = false;
    for p in progress {
        let named = stages.iter().position(|s| {
            let id = s.milestone.as_deref().unwrap_or(&s.id);
            names_step(&p.title, id, &s.title)
        });
        match named {
            Some(k) => items[k].push(p),
            None => open_unnamed |= !p.done,
        }
    }
    if open_unnamed || items.iter().any(Vec::is_empty) {
        let lone = stages
            .into_iter()
            .zip(&items)
            .filter(|(_, v)| v.is_empty())
            .map(|(s, _)| s)
            .collect();
        return Err(lone);
    }
    for (s, its) in stages.iter_mut().zip(items) {
        let first = its.iter().find(|p| !p.done).unwrap_or(&its[0]);
        s.line = first.line;
        s.progress = Some(first.title.clone());
        s.done = its.iter().all(|p| p.done);
        s.stamp = its.iter().rev().find_map(|p| p.stamp.clone());
        if its.len() > 1 {
            s.progress_lines = its.iter().map(|p| (p.line, p.title.clone())).collect();
        }
    }
    Ok(stages)
}

/// A `progress-unlinked` warning when the plan has stages but the Progress items cannot be tied
/// to them: the Progress items are then the tasks, and these stages are only their context.
fn unlinked_note(doc: &Doc, lone: &[Task]) -> Option<Diagnostic> {
    let first = lone.first()?;
    let names: Vec<&str> = lone
        .iter()
        .map(|t| t.milestone.as_deref().unwrap_or(&t.id))
        .collect();
    Some(Diagnostic::new(
        Severity::Warning,
        "progress-unlinked",
        format!(
            "no Progress item names {}; planexec runs the Progress items as the tasks (their checkboxes are the done state): to run the stages instead, name each in a Progress item (\"- [ ] {}: ...\")",
            names.join(", "),
            first.milestone.as_deref().unwrap_or(&first.id)
        ),
        &doc.src.path,
        first.span,
        &first.quote,
    ))
}

/// Whether a Progress item's text names a stage or milestone.
fn names_step(item: &str, id: &str, title: &str) -> bool {
    let l = item.to_lowercase();
    let long = id
        .strip_prefix('M')
        .filter(|n| n.chars().all(|c| c.is_ascii_digit()))
        .map(|n| format!("milestone {n}"));
    let has_word = |w: &str| {
        l.match_indices(w).any(|(i, _)| {
            let after = l[i + w.len()..].chars().next();
            after.is_none_or(|c| !c.is_alphanumeric())
        })
    };
    has_word(&id.to_lowercase())
        || long.is_some_and(|w| has_word(&w))
        || (title.len() >= 8 && l.contains(&title.to_lowercase()))
}

/// Numbered items of a `## Concrete Steps` section as tasks S1..Sn, used when the Progress
/// section has no checkboxes. The plan's Validation and Acceptance commands accept the last.
fn concrete_steps(doc: &Doc, gates: &[String]) -> Vec<Task> {
    let mut out: Vec<Task> = Vec::new();
    let mut in_steps: Option<u8> = None;
    for b in &doc.blocks {
        if let Some(level) = b.heading_level() {
            if in_steps.is_some_and(|l| level <= l) {
                in_steps = None;
            }
            if section_kind(&b.text) == SecKind::ConcreteSteps {
                in_steps = Some(level);
            }
            continue;
        }
        if in_steps.is_none() {
            continue;
        }
        match b.kind {
            Kind::Item { ordered: true, .. } if b.depth == 1 => {
                let span = doc.span(b.start);
                let text = plain(&b.text);
                let title = text.lines().next().unwrap_or(&text).to_string();
                out.push(Task {
                    origin: "a numbered item of Concrete Steps (Progress has no checkboxes)",
                    id: format!("S{}", out.len() + 1),
                    title: title.clone(),
                    summary: text.clone(),
                    body: text,
                    source: doc.src.path.clone(),
                    span,
                    line: span.line,
                    quote: doc.quote(b.start),
                    ..Task::default()
                });
            }
            Kind::Code { .. } => {
                if let Some(t) = out.last_mut() {
                    let lines: Vec<String> = b.text.lines().map(str::to_string).collect();
                    t.steps.extend(crate::fields::commands_in_code(&lines));
                    t.body.push('\n');
                    t.body.push_str(&b.text);
                }
            }
            _ => {}
        }
    }
    if let Some(last) = out.last_mut() {
        last.acceptance_commands.extend(gates.iter().cloned());
        last.acceptance.extend(gates.iter().cloned());
    }
    out
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
            // `Status: X`, or a metadata line `Phase: 0 | Created: ... | Status: X`
            let inline = p
                .split('|')
                .skip(1)
                .find_map(|cell| cell.trim().strip_prefix("Status:"));
            if let Some(v) = p
                .strip_prefix("Status:")
                .or_else(|| p.strip_prefix("Status :"))
                .or_else(|| p.strip_prefix("status:"))
                .map(|v| v.split(" | ").next().unwrap_or(v))
                .or(inline)
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
