//! The general reader under every dialect: when a dialect finds no tasks, the document's own
//! structure is read (bold-led id paragraphs, then list items grouped by their headings).
//!
//! Task candidates are the units that repeat at one level: `**T001** Title` paragraphs, or the
//! top-level items (checkboxes, numbered items, bullets under a group heading such as
//! `## Epic 1:` / `### Phase 2:` / `## Tasks`) of each section. Plans without ids get generated
//! ids `P<group>.<item>` in document order, named in one `generated-ids` warning.

use super::common::{add_task, apply, chain, files_from_source};
use crate::diagnostic::{Diagnostic, Severity};
use crate::fields::{collect, Collected};
use crate::ids::{is_milestone_id, is_non_task_id, scan_id};
use crate::markdown::{plain, Doc, Kind};
use crate::model::{Plan, Task};
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

/// The id at the start of a bold-led paragraph: `**T001** Title`, `**T001: Title**`, or of a
/// one-line paragraph `WU-1 — Title`.
fn bold_id(text: &str) -> Option<(String, String)> {
    let t = text.trim_start();
    let inner = match t.strip_prefix("**") {
        Some(i) => i,
        None => {
            let n = scan_id(t)?;
            let sep = [" — ", " – ", ": ", " - "]
                .iter()
                .any(|s| t[n..].starts_with(s));
            if !sep || t.contains('\n') {
                return None;
            }
            t
        }
    };
    let n = scan_id(inner)?;
    let id = &inner[..n];
    if is_milestone_id(id) || is_non_task_id(id) {
        return None;
    }
    let rest = plain(&inner[n..]);
    let title = rest
        .trim_start_matches([':', '-', '–', '—', '.', ')', ' '])
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

/// A section heading that holds plan context, not work: its items are never tasks. A context
/// word counts when it is the heading's first or last word (`Success Criteria`, `Risk Register`),
/// not inside a work title (`EVaults Summary Page`); a phase or milestone heading is work.
pub(crate) fn is_context_section(text: &str) -> bool {
    // one of a numbered series (`Week 12: Quality Gates & Review`) is a unit of work
    if crate::words::is_series_heading(&plain(text).to_lowercase()) {
        return false;
    }
    // a Milestones section may hold the work itself (a table of milestones with a status)
    if !matches!(section_kind(text), SecKind::Other | SecKind::Milestones) {
        return true;
    }
    let l = plain(text).to_lowercase();
    if parse_milestone_heading(text).is_some() {
        return false;
    }
    if CONTEXT_CJK.iter().any(|w| l.contains(w))
        || ["out of scope", "non-goal", "post-mvp", "post mvp"]
            .iter()
            .any(|w| l.contains(w))
    {
        return true;
    }
    let words = heading_words(&l);
    let is_ctx = |w: &String| {
        CONTEXT
            .iter()
            .any(|c| w == c || w.strip_suffix('s') == Some(c))
    };
    // the last word is the head noun (`Success Criteria`); a first word counts only when it
    // heads the name too (`Notes`, `Risks and mitigations`, `Decision: X`), never as a
    // modifier of the noun after it (`Reference features`, `Log rotation`, `Background jobs`)
    let heads = |w: &String| {
        is_ctx(w)
            && (words.len() == 1
                || ALWAYS_HEAD.contains(&w.as_str())
                || !CONTEXT.contains(&w.as_str())
                || joined(&l, w))
    };
    words.first().is_some_and(heads) || words.last().is_some_and(is_ctx)
}

/// Context words that name the section whatever follows them (`Acceptance tests`).
const ALWAYS_HEAD: [&str; 3] = ["acceptance", "criteria", "dependencies"];

/// Whether the heading's first word `w` is joined to what follows rather than modifying it:
/// a connector word or mark after it (`Risk & mitigation`, `Notes on X`, `Decision: X`).
fn joined(l: &str, w: &str) -> bool {
    let Some(at) = l.find(w) else { return false };
    let rest = l[at + w.len()..].trim_start();
    rest.starts_with(['&', '/', ':', ',', '+', '-', '–', '—', '('])
        || [
            "and ", "or ", "for ", "on ", "of ", "to ", "about ", "from ", "vs", "in ",
        ]
        .iter()
        .any(|c| rest.starts_with(c))
}

const CONTEXT: [&str; 29] = [
    "question",
    "note",
    "reference",
    "risk",
    "criteria",
    "criterion",
    "acceptance",
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
    "objective",
    "scope",
    "purpose",
    "outcome",
    "evidence",
    "log",
    "changelog",
    "appendix",
    "prerequisite",
    "dependencies",
];

const CONTEXT_CJK: [&str; 5] = ["测试", "指标", "验收", "里程碑", "标准"];

/// The words of a heading without its numbering, marks and parenthesised asides:
/// `## 2.1 Success Criteria (S1-S10)` gives `success`, `criteria`.
fn heading_words(l: &str) -> Vec<String> {
    let mut out = String::new();
    let mut depth = 0;
    for c in l.chars() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.split(|c: char| !(c.is_alphanumeric() || c == '-'))
        .filter(|w| w.chars().any(char::is_alphabetic))
        .map(str::to_string)
        .collect()
}

/// A heading whose bullets are work: a group (`Epic 1`, `Phase 2`, `Stage 3`, `Milestone 1`)
/// or a work list (`Tasks`, `TODO`, `Steps`, `Checklist`, `Work items`, `Implementation`).
fn is_group_heading(text: &str) -> bool {
    if parse_milestone_heading(text).is_some() {
        return true;
    }
    let l = plain(text).to_lowercase();
    let l = l.trim_start_matches(|c: char| !c.is_alphanumeric());
    crate::words::is_work_heading(l)
}

/// Where the item reader stands: the group it numbers, and what the last heading or label
/// paragraph says the items under it are.
#[derive(Default)]
struct Scope {
    group: u32,
    item: u32,
    used: bool,
    context: bool,
    work: bool,
    milestone: Option<String>,
    top: Option<u16>,
    /// Blocks up to here belong to a group read as one task (`## Phase 1:` with Files/Tests labels).
    skip_to: usize,
}

impl Scope {
    fn next_group(&mut self) {
        if self.used {
            self.group += 1;
            self.item = 0;
            self.used = false;
        }
    }

    fn id(&mut self) -> String {
        self.item += 1;
        self.used = true;
        format!("P{}.{}", self.group + 1, self.item)
    }
}

/// Which blocks sit in a context section: a heading's own words, or a context heading above it
/// (`### Functional` under `## Success Metrics`); the first H1 is the plan's title.
pub(crate) fn context_map(doc: &Doc) -> Vec<bool> {
    let mut stack: Vec<(u8, bool)> = Vec::new();
    let mut ctx = false;
    let mut out = Vec::with_capacity(doc.blocks.len());
    let title = doc.blocks.iter().position(|b| b.heading_level() == Some(1));
    for (i, b) in doc.blocks.iter().enumerate() {
        if let Some(level) = b.heading_level() {
            stack.retain(|(l, _)| *l < level);
            let inherited = stack.iter().any(|(_, c)| *c);
            // the plan's title (`# Risk Dashboard Plan`) names the whole plan, not a section
            ctx = inherited || (Some(i) != title && is_context_section(&b.text));
            stack.push((level, ctx));
        }
        out.push(ctx);
    }
    out
}

/// Whether the plan writes its work as checkboxes: then every checkbox outside context sections
/// is a task (nested ones too) and nothing else is; numbered lists and bullets are details.
fn checkbox_form(doc: &Doc, ctx: &[bool]) -> bool {
    doc.blocks
        .iter()
        .zip(ctx)
        .any(|(b, c)| !c && b.task_box().is_some())
}

/// Top-level list items and table rows that are work, grouped by the heading above them; a
/// group heading whose section holds field labels is one task itself. In a checkbox plan the
/// checkboxes at every depth are the tasks; where groups with fields are the tasks, the lists
/// elsewhere are prose.
fn item_tasks(doc: &Doc) -> Vec<Task> {
    let ctx = context_map(doc);
    let boxes = checkbox_form(doc, &ctx);
    let levels = if boxes {
        Vec::new()
    } else {
        fielded_levels(doc, &ctx)
    };
    let mut out: Vec<Task> = Vec::new();
    let mut sc = Scope::default();
    for (i, b) in doc.blocks.iter().enumerate() {
        if i < sc.skip_to {
            continue;
        }
        if b.heading_level().is_some() {
            sc.next_group();
            sc.context = ctx[i];
            sc.work = !sc.context && is_group_heading(&b.text);
            sc.milestone = parse_milestone_heading(&b.text).map(|(id, _)| id);
            sc.top = None;
            if boxes || sc.context {
                continue;
            }
            if let Some(t) = group_task(doc, i, &mut sc, &levels) {
                out.push(t);
            }
            continue;
        }
        match b.kind {
            Kind::Para => {
                // `**Proposed Changes**:` / `**Verification Plan**:` label what follows
                if let Some(label) = label_para(&b.text) {
                    sc.context = ctx[i] || is_context_section(&label);
                    sc.work = !sc.context && is_group_heading(&label);
                    sc.top = None;
                }
            }
            Kind::Table if !sc.context && !boxes => {
                for (off, title, done) in table_rows(b) {
                    let mut t = row_task(doc, off, title, done, &sc.milestone);
                    t.id = sc.id();
                    out.push(t);
                }
            }
            Kind::Item { ordered, .. } => {
                if sc.context {
                    continue;
                }
                let checked = b.task_box();
                if boxes {
                    if checked.is_some() {
                        let end = item_end(doc, i, true);
                        let id = sc.id();
                        out.push(item_task(doc, i, end, id, &sc.milestone));
                    }
                    continue;
                }
                let depth = *sc.top.get_or_insert(b.depth);
                let shape = checked.is_some() || ordered || sc.work;
                if b.depth != depth || !shape {
                    continue;
                }
                let end = item_end(doc, i, false);
                let id = sc.id();
                out.push(item_task(doc, i, end, id, &sc.milestone));
            }
            _ => {}
        }
    }
    if !boxes && out.iter().any(|t| t.origin == GROUP_ORIGIN) {
        out.retain(|t| t.origin == GROUP_ORIGIN);
    }
    out
}

/// Where an item's scope ends: the next heading, the next item at its depth or above, or (in a
/// checkbox plan) the next checkbox, which is a task of its own.
pub(super) fn item_end(doc: &Doc, i: usize, boxes: bool) -> usize {
    let depth = doc.blocks[i].depth;
    (i + 1..doc.blocks.len())
        .find(|&j| {
            let n = &doc.blocks[j];
            n.heading_level().is_some()
                || (n.is_item() && n.depth <= depth)
                || (boxes && n.task_box().is_some())
        })
        .unwrap_or(doc.blocks.len())
}

const GROUP_ORIGIN: &str = "a phase or milestone heading whose section states its own fields";

/// A paragraph that only labels what follows: `**Deliverables:**`, `Tasks:`, `**任务**`.
fn label_para(text: &str) -> Option<String> {
    let t = text.trim();
    if t.contains('\n') || t.chars().count() > 60 {
        return None;
    }
    let p = plain(t);
    let bold = t.starts_with("**") && t.trim_end_matches([':', '：']).ends_with("**");
    let colon = p.ends_with(':') || p.ends_with('：');
    (bold || colon).then(|| p.trim_end_matches([':', '：']).trim().to_string())
}

/// Heading levels where some group (`## Stage 2`) states fields of its own: every group heading
/// at such a level is one task, the units that repeat there (`## Stage 5` with only bullets too).
fn fielded_levels(doc: &Doc, ctx: &[bool]) -> Vec<u8> {
    let mut levels = Vec::new();
    for (i, b) in doc.blocks.iter().enumerate() {
        let Some(level) = b.heading_level() else {
            continue;
        };
        if ctx[i] || levels.contains(&level) || parse_milestone_heading(&b.text).is_none() {
            continue;
        }
        if fielded(&collect(doc, i + 1, doc.section_end(i))) {
            levels.push(level);
        }
    }
    levels
}

/// Whether a group's section states fields of its own.
fn fielded(c: &Collected) -> bool {
    c.hits.iter().any(|h| {
        matches!(
            h.field,
            crate::fields::Field::Files
                | crate::fields::Field::Acceptance
                | crate::fields::Field::Deps
                | crate::fields::Field::InScope
                | crate::fields::Field::Status
        )
    })
}

/// A group heading (`## Phase 1: ...`, `### Milestone 2`) whose section states fields of its own
/// (Files, Tests, Deliverables, Acceptance, Dependencies, Status labels) is one task; its bullets
/// are the fields' contents, not tasks.
fn group_task(doc: &Doc, i: usize, sc: &mut Scope, levels: &[u8]) -> Option<Task> {
    let (id, title) = parse_milestone_heading(&doc.blocks[i].text)?;
    let end = doc.section_end(i);
    let c = collect(doc, i + 1, end);
    let level = doc.blocks[i].heading_level()?;
    if !fielded(&c) && !levels.contains(&level) {
        return None;
    }
    let b = &doc.blocks[i];
    let span = doc.span(b.start);
    let mut t = Task {
        origin: GROUP_ORIGIN,
        id: id.replace(' ', "-"),
        title,
        milestone: Some(id),
        source: doc.src.path.clone(),
        span,
        line: span.line,
        quote: doc.quote(b.start),
        done: b.text.contains('✅') || plain(&b.text).to_lowercase().contains("(complete"),
        ..Task::default()
    };
    t.field_spans.insert("task".into(), span);
    apply(doc, &c, &mut t);
    t.body = doc.source_of(i + 1, end).to_string();
    sc.skip_to = end;
    sc.used = true;
    Some(t)
}

/// Rows of a work table: a title column (Task, Milestone, Title, Step, Work...) and a Status or
/// id column (`#`, ID, Phase, Step). Returns (offset, title, done).
fn table_rows(b: &crate::markdown::Block) -> Vec<(usize, String, bool)> {
    let Some(head) = b.rows.first() else {
        return Vec::new();
    };
    let head: Vec<String> = head.iter().map(|h| plain(h).to_lowercase()).collect();
    let find = |words: &[&str]| {
        head.iter()
            .position(|h| words.iter().any(|w| h.contains(w)))
    };
    let title = find(&[
        "task",
        "milestone",
        "title",
        "step",
        "work",
        "deliverable",
        "item",
    ]);
    let status = find(&["status", "state", "done"]);
    let (Some(tc), Some(sc)) = (title, status) else {
        return Vec::new();
    };
    b.rows
        .iter()
        .zip(&b.row_offsets)
        .skip(1)
        .filter_map(|(row, &off)| {
            let t = plain(row.get(tc)?).trim().to_string();
            let st = plain(row.get(sc).map_or("", String::as_str)).to_lowercase();
            let done = st.contains('✅') || st.contains("[x]") || says_done(&st);
            (!t.is_empty()).then_some((off, t, done))
        })
        .collect()
}

fn says_done(l: &str) -> bool {
    crate::words::says_done(l)
}

/// A table row as a task.
fn row_task(doc: &Doc, off: usize, title: String, done: bool, milestone: &Option<String>) -> Task {
    let span = doc.span(off);
    let mut t = Task {
        origin: "a row of a work table with a status column (no ids: generated)",
        title: title.clone(),
        summary: title,
        done,
        milestone: milestone.clone(),
        source: doc.src.path.clone(),
        span,
        line: span.line,
        quote: doc.quote(off),
        ..Task::default()
    };
    t.field_spans.insert("task".into(), span);
    t
}

/// One list item as a task: its first line the title, nested blocks its fields.
fn item_task(doc: &Doc, i: usize, end: usize, id: String, milestone: &Option<String>) -> Task {
    let b = &doc.blocks[i];
    let (done, skip) = b.task_box().unwrap_or((false, 0));
    let text = plain(&b.text[skip..]);
    let title = text.lines().next().unwrap_or(&text).to_string();
    let span = doc.span(b.start);
    let mut task = Task {
        origin: "a top-level list item of a work section (no ids: generated)",
        id,
        title: title.clone(),
        summary: text.clone(),
        done,
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
