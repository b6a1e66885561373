//! The outline reader at the heading unit level: headings that start with an id the file wrote
//! (`### P1-7: Title`, `### 1. Title`, `### 2.3 Title ✅ COMPLETE`), one task each.
//!
//! A candidate reading for `choose`: the level with the most such headings is the unit; every
//! id family is accepted here, because the scoring, not a list of prefixes, decides. Beside it
//! the group-heading level (`## Phase 3: ... (COMPLETED)`), one task per phase heading.

use super::common::{add_task, apply, chain, plan_title};
use super::outline::is_context_section;
use crate::diagnostic::{Diagnostic, Severity};
use crate::fields::collect;
use crate::ids::{scan_id, scan_number};
use crate::markdown::{plain, Doc};
use crate::model::{Dialect, Plan, Task};

/// An id heading's id and title, any family: `P1-7: Admin`, `1. Bulk upload`, `2.3 Title`.
fn own_heading_id(text: &str) -> Option<(String, String)> {
    let p = plain(text);
    let t = p
        .trim_start_matches(|c: char| !c.is_alphanumeric())
        .trim_start();
    let mut n = scan_id(t).or_else(|| scan_number(t))?;
    // a numbered item of a family: `P1-7`
    let b = t.as_bytes();
    if b.get(n) == Some(&b'-') && b.get(n + 1).is_some_and(u8::is_ascii_digit) {
        n += 1 + b[n + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
    }
    let id = t[..n].trim_end_matches('.');
    let rest = &t[n..];
    let sep = rest.starts_with([':', '.', ')', '-', '–', '—'])
        || rest.starts_with(" -")
        || rest.starts_with(" –")
        || rest.starts_with(" —")
        || (rest.starts_with(' ') && id.contains(['.', '-']));
    if !sep || id.is_empty() {
        return None;
    }
    let title = rest
        .trim_start_matches(|c: char| matches!(c, ':' | '.' | ')' | '-' | '–' | '—') || c == ' ')
        .trim()
        .to_string();
    (!title.is_empty()).then(|| (id.to_string(), title))
}

/// Read the id headings of the level that has most of them (at least two), outside context
/// sections and never the plan's title; `None` when there is no such level.
pub fn id_headings(doc: &Doc) -> Option<Plan> {
    let title = doc.blocks.iter().position(|b| b.heading_level().is_some());
    let mut by_level: std::collections::BTreeMap<u8, Vec<(usize, String, String)>> =
        Default::default();
    // the headings above this one: (level, context section, number-led)
    let mut stack: Vec<(u8, bool, bool)> = Vec::new();
    for (i, b) in doc.blocks.iter().enumerate() {
        let Some(level) = b.heading_level() else {
            continue;
        };
        stack.retain(|(l, _, _)| *l < level);
        let in_ctx = stack.iter().any(|(_, c, _)| *c);
        let under_number = stack.iter().any(|(_, _, n)| *n);
        let own = own_heading_id(&b.text);
        let number = own
            .as_ref()
            .is_some_and(|(id, _)| id.bytes().all(|c| c.is_ascii_digit() || c == b'.'));
        let is_title = Some(i) == title && level == 1;
        stack.push((level, !is_title && is_context_section(&b.text), number));
        if in_ctx || is_title {
            continue;
        }
        // a heading led by its own id is work, whatever its words (`1.3 Structured logs`);
        // a bare number under a numbered heading is section numbering (`### 4.1` under `## 4.`)
        if let Some((id, t)) = own.filter(|_| !(number && under_number)) {
            by_level.entry(level).or_default().push((i, id, t));
        }
    }
    let (_, heads) = by_level
        .into_iter()
        .filter(|(_, v)| v.len() >= 2)
        .max_by_key(|(l, v)| (v.len(), std::cmp::Reverse(*l)))?;
    let mut plan = Plan::new(doc.src.path.clone(), Dialect::TId, "id-headings");
    plan.title = plan_title(doc);
    for (i, id, title) in heads {
        let b = &doc.blocks[i];
        let end = doc.section_end(i);
        let (title, done) = strip_done(&title);
        let done = done || super::common::all_boxes_ticked(doc, i + 1, end);
        let span = doc.span(b.start);
        let mut task = Task {
            origin: "a heading with an id, at the level where the file's id headings repeat",
            id,
            title,
            done,
            source: doc.src.path.clone(),
            span,
            line: span.line,
            ..Task::default()
        };
        task.field_spans.insert("task".into(), span);
        let c = collect(doc, i + 1, end);
        apply(doc, &c, &mut task);
        task.body = doc.source_of(i + 1, end).to_string();
        add_task(&mut plan, task, doc.quote(b.start));
    }
    Some(plan)
}

/// A title without a trailing done mark (`Title ✅ COMPLETE`, `Title ✅`, `Title (Done)`).
fn strip_done(title: &str) -> (String, bool) {
    let mut t = title.trim();
    let mut done = false;
    for w in ["COMPLETE", "COMPLETED", "DONE", "Complete", "Done"] {
        if let Some(r) = t.strip_suffix(w) {
            if r.trim_end().ends_with('✅') {
                t = r.trim_end();
            }
        }
    }
    if let Some(r) = t.strip_suffix('✅') {
        t = r.trim_end();
        done = true;
    }
    for w in ["(done)", "(complete)", "(completed)"] {
        let at = t.len().saturating_sub(w.len());
        if t.is_char_boundary(at) && t.len() >= w.len() && t[at..].eq_ignore_ascii_case(w) {
            t = t[..at].trim_end();
            done = true;
        }
    }
    (t.trim_end_matches(['-', '–', '—']).trim().to_string(), done)
}

/// Read the numbered group headings (`## Phase 3: Title`, `### Stage 2 -`, `### 阶段1：`) of the
/// level where most of them repeat (at least two), outside context sections, one task each with
/// generated ids `P1`, `P2`..., done when the heading says so (`(COMPLETED)`, `✅`); `None`
/// when there is no such level. The scoring decides whether the phases or their items are the
/// units (the file's done marks on the phase headings speak for the phases).
pub fn group_headings(doc: &Doc) -> Option<Plan> {
    let title = doc.blocks.iter().position(|b| b.heading_level().is_some());
    let mut by_level: std::collections::BTreeMap<u8, Vec<usize>> = Default::default();
    let mut stack: Vec<(u8, bool)> = Vec::new();
    for (i, b) in doc.blocks.iter().enumerate() {
        let Some(level) = b.heading_level() else {
            continue;
        };
        stack.retain(|(l, _)| *l < level);
        let in_ctx = stack.iter().any(|(_, c)| *c);
        let is_title = Some(i) == title && level == 1;
        stack.push((level, !is_title && is_context_section(&b.text)));
        let lower = plain(&b.text).to_lowercase();
        if !in_ctx && !is_title && crate::words::is_series_heading(&lower) {
            by_level.entry(level).or_default().push(i);
        }
    }
    let (_, heads) = by_level
        .into_iter()
        .filter(|(_, v)| v.len() >= 2)
        .max_by_key(|(l, v)| (v.len(), std::cmp::Reverse(*l)))?;
    let mut plan = Plan::new(doc.src.path.clone(), Dialect::TId, "group-headings");
    plan.title = plan_title(doc);
    let mut tasks = Vec::new();
    for (n, i) in heads.into_iter().enumerate() {
        let b = &doc.blocks[i];
        let end = doc.section_end(i);
        let span = doc.span(b.start);
        let text = plain(&b.text);
        let mut task = Task {
            origin: "a numbered phase heading, at the level where the file's phases repeat",
            id: format!("P{}", n + 1),
            title: text
                .trim_start_matches(|c: char| !c.is_alphanumeric())
                .to_string(),
            done: heading_says_done(&text),
            source: doc.src.path.clone(),
            span,
            line: span.line,
            quote: doc.quote(b.start),
            ..Task::default()
        };
        task.field_spans.insert("task".into(), span);
        let c = collect(doc, i + 1, end);
        apply(doc, &c, &mut task);
        task.body = doc.source_of(i + 1, end).to_string();
        tasks.push(task);
    }
    let first = (tasks[0].span, tasks[0].quote.clone());
    for t in chain(tasks) {
        let q = t.quote.clone();
        add_task(&mut plan, t, q);
    }
    plan.notes.push(Diagnostic::new(
        Severity::Warning,
        "generated-ids",
        "this plan gives its phases no ids; planexec numbered them P1, P2, ... in document order; these ids change when the plan is reordered: write ids such as `T001` to keep them".to_string(),
        &doc.src.path,
        first.0,
        &first.1,
    ));
    Some(plan)
}

/// Whether a heading marks its section done: a `✅`, or a done word in parentheses or brackets
/// (`(COMPLETED)`, `[Done]`), never a done word in the title itself (`Complete the API`).
pub fn heading_says_done(text: &str) -> bool {
    if text.contains('✅') {
        return true;
    }
    let mut rest = text;
    while let Some(open) = rest.find(['(', '[']) {
        let after = &rest[open + 1..];
        let close = after.find([')', ']']).unwrap_or(after.len());
        if crate::words::says_done(&after[..close]) {
            return true;
        }
        rest = &after[close..];
    }
    false
}
