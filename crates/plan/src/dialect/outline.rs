//! The general reader under every dialect: when a dialect finds no tasks, the document's own
//! structure is read (bold-led id paragraphs, then list items grouped by their headings).
//!
//! Task candidates are the units that repeat at one level: `**T001** Title` paragraphs, or the
//! top-level items (checkboxes, numbered items, bullets under a group heading such as
//! `## Epic 1:` / `### Phase 2:` / `## Tasks`) of each section. Plans without ids get generated
//! ids `P<group>.<item>` in document order, named in one `generated-ids` warning.

use super::common::{add_task, apply, files_from_source};
use crate::diagnostic::{Diagnostic, Severity};
use crate::fields::collect;
use crate::ids::{is_milestone_id, is_non_task_id, scan_id};
use crate::markdown::{plain, Doc, Kind};
use crate::model::{DepKind, Dependency, Plan, Task};
use crate::sections::{parse_milestone_heading, section_kind, SecKind};

/// Read tasks from the document's structure into `plan`. Returns whether any were found.
pub fn parse(doc: &Doc, plan: &mut Plan) -> bool {
    if bold_id_tasks(doc, plan) {
        return true;
    }
    let mut found = item_tasks(doc);
    if found.is_empty() {
        return false;
    }
    if keep_own_ids(&mut found) {
        for t in chain(found) {
            let q = t.quote.clone();
            add_task(plan, t, q);
        }
        return true;
    }
    let names: Vec<String> = found.iter().map(|t| t.id.clone()).collect();
    let first = (found[0].span, found[0].quote.clone());
    for t in chain(found) {
        let q = t.quote.clone();
        add_task(plan, t, q);
    }
    plan.notes.push(Diagnostic::new(
        Severity::Warning,
        "generated-ids",
        format!(
            "this plan gives its tasks no ids; planexec numbered them by section and item ({}); these ids change when the plan is reordered: write ids such as `T001` to keep them",
            shorten(&names)
        ),
        &doc.src.path,
        first.0,
        &first.1,
    ));
    true
}

/// The id an item writes at its start: `1.1 Title`, `2. Title`, `T3 Title`.
fn own_id(title: &str) -> Option<(String, String)> {
    let t = title.trim_start();
    let n = crate::ids::scan_number(t).or_else(|| {
        scan_id(t).filter(|&n| !is_non_task_id(&t[..n]) && !is_milestone_id(&t[..n]))
    })?;
    let rest = &t[n..];
    if !(rest.starts_with(['.', ' ', ')', ':']) || rest.is_empty()) {
        return None;
    }
    let id = t[..n].trim_end_matches('.').to_string();
    let title = rest
        .trim_start_matches(['.', ')', ':', ' ', '-', '–', '—'])
        .trim()
        .to_string();
    Some((id, title))
}

/// When every item writes its own id and no two share one, the items keep them (`- [ ] 1.1 ...`
/// under `## 1. Title`, as OpenSpec and many hand-written lists do).
fn keep_own_ids(tasks: &mut [Task]) -> bool {
    let own: Vec<(String, String)> = match tasks.iter().map(|t| own_id(&t.title)).collect() {
        Some(v) => v,
        None => return false,
    };
    let mut seen = std::collections::HashSet::new();
    if !own.iter().all(|(id, _)| seen.insert(id.clone())) {
        return false;
    }
    for (t, (id, title)) in tasks.iter_mut().zip(own) {
        t.id = id;
        t.title = title;
    }
    true
}

/// `P1.1, P1.2, …, P3.4` for long lists.
fn shorten(names: &[String]) -> String {
    if names.len() <= 6 {
        return names.join(", ");
    }
    format!(
        "{}, …, {}",
        names[..3].join(", "),
        names[names.len() - 2..].join(", ")
    )
}

/// The id at the start of a bold-led paragraph: `**T001** Title`, `**T001: Title**`.
fn bold_id(text: &str) -> Option<(String, String)> {
    let t = text.trim_start();
    let inner = t.strip_prefix("**")?;
    let n = scan_id(inner)?;
    let id = &inner[..n];
    if is_milestone_id(id) || is_non_task_id(id) {
        return None;
    }
    let rest = plain(&inner[n..]);
    let title = rest
        .trim_start_matches(|c: char| matches!(c, ':' | '-' | '–' | '—' | '.' | ')') || c == ' ')
        .trim();
    Some((
        id.to_string(),
        title.lines().next().unwrap_or("").to_string(),
    ))
}

/// Bold-led paragraphs that start with an id, each with the blocks up to the next one (or the
/// next heading) as its fields.
fn bold_id_tasks(doc: &Doc, plan: &mut Plan) -> bool {
    let heads: Vec<(usize, String, String)> = doc
        .blocks
        .iter()
        .enumerate()
        .filter(|(_, b)| b.kind == Kind::Para)
        .filter_map(|(i, b)| bold_id(&b.text).map(|(id, t)| (i, id, t)))
        .collect();
    if heads.len() < 2 && !(heads.len() == 1 && doc.blocks.len() < 40) {
        return false;
    }
    for (k, (i, id, title)) in heads.iter().enumerate() {
        let next = heads.get(k + 1).map_or(doc.blocks.len(), |h| h.0);
        let end = (i + 1..next)
            .find(|&j| doc.blocks[j].heading_level().is_some())
            .unwrap_or(next);
        let b = &doc.blocks[*i];
        let span = doc.span(b.start);
        let mut task = Task {
            origin: "a paragraph that starts with a bold id",
            id: id.clone(),
            title: title.clone(),
            source: doc.src.path.clone(),
            span,
            line: span.line,
            ..Task::default()
        };
        task.field_spans.insert("task".into(), span);
        let c = collect(doc, i + 1, end);
        apply(doc, &c, &mut task);
        task.body = doc.source_of(i + 1, end).to_string();
        add_task(plan, task, doc.quote(b.start));
    }
    true
}

/// A section heading that holds plan context, not work: its items are never tasks.
fn is_context_section(text: &str) -> bool {
    if section_kind(text) != SecKind::Other {
        return true;
    }
    let l = plain(text).to_lowercase();
    [
        "question",
        "note",
        "reference",
        "risk",
        "criteria",
        "acceptance",
        "non-goal",
        "out of scope",
        "background",
        "context",
        "assumption",
        "requirement",
        "glossary",
        "decision",
        "overview",
        "summary",
        "metric",
        "goal",
        "resource",
        "link",
    ]
    .iter()
    .any(|w| l.contains(w))
}

/// A heading whose bullets are work: a group (`Epic 1`, `Phase 2`, `Stage 3`, `Milestone 1`)
/// or a work list (`Tasks`, `TODO`, `Steps`, `Checklist`, `Work items`, `Implementation`).
fn is_group_heading(text: &str) -> bool {
    if parse_milestone_heading(text).is_some() {
        return true;
    }
    let l = plain(text).to_lowercase();
    let l = l.trim_start_matches(|c: char| !c.is_alphanumeric());
    [
        "task",
        "todo",
        "to do",
        "to-do",
        "step",
        "checklist",
        "work",
        "implementation",
        "backlog",
        "action",
    ]
    .iter()
    .any(|w| l.starts_with(w) || l.contains(&format!(" {w}")))
}

/// Top-level list items that are work, grouped by the heading above them.
fn item_tasks(doc: &Doc) -> Vec<Task> {
    let mut out: Vec<Task> = Vec::new();
    let mut group = 0u32;
    let mut item = 0u32;
    let mut group_used = false;
    let mut context = false;
    let mut group_heading = false;
    let mut milestone: Option<String> = None;
    let mut top: Option<u16> = None;
    for (i, b) in doc.blocks.iter().enumerate() {
        if b.heading_level().is_some() {
            if group_used {
                group += 1;
                item = 0;
                group_used = false;
            }
            context = is_context_section(&b.text);
            group_heading = !context && is_group_heading(&b.text);
            milestone = parse_milestone_heading(&b.text).map(|(id, _)| id);
            top = None;
            continue;
        }
        let Kind::Item { checked, ordered } = b.kind else {
            continue;
        };
        let depth = *top.get_or_insert(b.depth);
        if b.depth != depth || context || !(checked.is_some() || ordered || group_heading) {
            continue;
        }
        item += 1;
        group_used = true;
        let end = (i + 1..doc.blocks.len())
            .find(|&j| {
                let n = &doc.blocks[j];
                n.heading_level().is_some() || (n.is_item() && n.depth <= depth)
            })
            .unwrap_or(doc.blocks.len());
        out.push(item_task(
            doc,
            i,
            end,
            format!("P{}.{item}", group + 1),
            &milestone,
        ));
    }
    out
}

/// One list item as a task: its first line the title, nested blocks its fields.
fn item_task(doc: &Doc, i: usize, end: usize, id: String, milestone: &Option<String>) -> Task {
    let b = &doc.blocks[i];
    let text = plain(&b.text);
    let title = text.lines().next().unwrap_or(&text).to_string();
    let span = doc.span(b.start);
    let mut task = Task {
        origin: "a top-level list item of a work section (no ids: generated)",
        id,
        title: title.clone(),
        summary: text.clone(),
        done: b.checked().unwrap_or(false),
        milestone: milestone.clone(),
        source: doc.src.path.clone(),
        span,
        line: span.line,
        quote: doc.quote(b.start),
        ..Task::default()
    };
    task.field_spans.insert("task".into(), span);
    let raw = raw_lines(doc, b);
    let mut notes = Vec::new();
    task.files = files_from_source(doc, b.start, &paths_only(&raw), &mut notes);
    task.notes = notes;
    if !task.files.is_empty() {
        task.field_spans.insert("files".into(), span);
    }
    let c = collect(doc, i + 1, end);
    apply(doc, &c, &mut task);
    for (s, off, _) in &c.free_items {
        let mut n = Vec::new();
        let raw = paths_only(doc.src.line_text(doc.span(*off).line));
        let found = files_from_source(doc, *off, &raw, &mut n);
        if !found.is_empty() {
            task.field_spans
                .entry("files".into())
                .or_insert(doc.span(*off));
        }
        task.files.extend(found);
        task.steps.push(plain(s));
    }
    task.body = doc.source_of(i + 1, end).to_string();
    task
}

/// The block's own source lines, as written.
fn raw_lines(doc: &Doc, b: &crate::markdown::Block) -> String {
    b.lines()
        .map(|(_, off)| doc.src.line_text(doc.span(off).line).to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Only the path-shaped tokens of a line, so that prose words are not read as module names.
fn paths_only(raw: &str) -> String {
    crate::fields::paths_in_source(raw)
        .into_iter()
        .map(|f| format!("`{}`", f.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Run the tasks in document order: each a sequencing dependency of the next.
fn chain(mut tasks: Vec<Task>) -> Vec<Task> {
    for i in 1..tasks.len() {
        let (prev, span, quote) = (
            tasks[i - 1].id.clone(),
            tasks[i].span,
            tasks[i].quote.clone(),
        );
        tasks[i].dependencies.push(Dependency {
            id: prev,
            kind: DepKind::Sequencing,
            span,
            file: None,
            quote: quote.into(),
            prose: false,
        });
    }
    tasks
}
