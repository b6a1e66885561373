//! Pieces every heading-based dialect shares: task headings, field application,
//! tasks from table rows, ticket/subtask files, and the final resolution pass.

use std::path::Path;

use crate::deps::parse_dep_text;
use crate::fields::{
    collect, commands_in_code, commands_in_text, extract_files, strip_box, Collected, Field,
};
use crate::ids::{is_milestone_id, is_non_task_id, scan_id, scan_number};
use crate::markdown::{plain, Doc, Kind};
use crate::model::{DepKind, Dependency, Plan, Task};
use crate::sections::{ends_task, parse_milestone_heading, parse_wave_heading};

/// A task heading: id, title, parallel marker, and whether it said "Task" explicitly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskHeading {
    pub id: String,
    pub title: String,
    pub parallel: bool,
    pub explicit: bool,
    pub numbered: bool,
    /// A tracker key with no digit (`proj-ory`): a task only beside `proj-…` keys with digits.
    pub loose: bool,
    /// The title ends with a done mark: `- DONE`, `(Complete)`, `✅`.
    pub done: bool,
}

/// Length of a number with one letter after it (`3A`, `12b`) at the start of `s`, ending a word.
fn lettered_number(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let i = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let lettered = i > 0 && b.get(i).is_some_and(u8::is_ascii_alphabetic);
    (lettered && !b.get(i + 1).is_some_and(u8::is_ascii_alphanumeric)).then_some(i + 1)
}

/// Read a heading as a task heading: `T001: title`, `Task T001 – title`, `ST-1: title`,
/// `Task 1.1: title`, `T1.1 title`, `A1. title`, `proj-7sk: title`, `1. Title` (numbered).
pub fn parse_task_heading(text: &str) -> Option<TaskHeading> {
    let t = plain(text);
    let mut t = t
        .trim_start_matches(|c: char| !c.is_alphanumeric() && c != '[')
        .trim_start();
    for b in ["[x] ", "[X] ", "[ ] "] {
        t = t.strip_prefix(b).unwrap_or(t);
    }
    let mut t = t
        .trim_start_matches(|c: char| !c.is_alphanumeric())
        .trim_start();
    let mut explicit = false;
    let mut loose = false;
    // `Task 1.1:`, `Step 2.3:`: the word names what follows as a unit of work
    for word in ["task", "step"] {
        let n = word.len();
        if t.len() > n + 1
            && t.get(..n).is_some_and(|p| p.eq_ignore_ascii_case(word))
            && matches!(t.as_bytes()[n], b' ' | b'-' | b'#')
        {
            let rest = t[n + 1..].trim_start().trim_start_matches('#');
            if scan_id(rest).is_some()
                || (word == "task" || scan_number(rest).is_some_and(|k| rest[..k].contains('.')))
                    && scan_number(rest).is_some()
                || word == "task" && lettered_number(rest).is_some()
            {
                t = rest;
                explicit = true;
                break;
            }
        }
    }
    let (id, rest, numbered) = if let Some(n) = scan_id(t) {
        let id = &t[..n];
        if is_milestone_id(id) || (is_non_task_id(id) && !explicit) {
            return None;
        }
        let rest = &t[n..];
        let letter_t = id.starts_with('T') && id[1..].starts_with(|c: char| c.is_ascii_digit());
        let sep_ok = rest.is_empty()
            || rest.starts_with([':', '-', '–', '—', '.', ')', ']', '|', '('])
            || rest.starts_with(" -")
            || rest.starts_with(" –")
            || rest.starts_with(" —")
            || rest.starts_with(" :");
        if !(sep_ok
            || explicit
            || (letter_t && rest.starts_with(' '))
            || (id.starts_with("ST-") && rest.starts_with(' ')))
        {
            return None;
        }
        (id.to_string(), rest, false)
    } else if let Some(n) = scan_number(t) {
        let rest = &t[n..];
        if !(explicit || rest.starts_with(['.', ')', ':'])) {
            return None;
        }
        (t[..n].to_string(), rest, !explicit)
    } else if let Some(n) = lettered_number(t).filter(|_| explicit) {
        // `Task 3A:` inserted between tasks 3 and 4
        (t[..n].to_string(), &t[n..], false)
    } else if let Some(n) = crate::ids::scan_loose_key(t) {
        let rest = &t[n..];
        if !(rest.starts_with(':') || rest.starts_with(" –") || rest.starts_with(" —")) {
            return None;
        }
        loose = true;
        (t[..n].to_string(), rest, false)
    } else {
        return None;
    };
    let mut title = rest
        .trim_start_matches(|c: char| {
            matches!(c, ':' | '-' | '–' | '—' | '.' | ')' | ']' | '|') || c.is_whitespace()
        })
        .trim()
        .to_string();
    let mut parallel = false;
    for m in ["[P] ", "(P) ", "[P]", "(P)"] {
        if let Some(r) = title.strip_prefix(m) {
            parallel = true;
            title = r.trim().to_string();
        }
        if let Some(r) = title.strip_suffix(m.trim()) {
            parallel = true;
            title = r.trim().to_string();
        }
    }
    let (title, done) = done_mark(&title);
    Some(TaskHeading {
        id,
        title,
        parallel,
        explicit,
        numbered,
        loose,
        done,
    })
}

/// A title without its trailing done mark (`Title - DONE`, `Title (Complete)`, `Title ✅`), and
/// whether it had one.
fn done_mark(title: &str) -> (String, bool) {
    let t = title.trim();
    let mut done = false;
    let mut t = t.trim_end_matches(|c| {
        let m = matches!(c, '✅' | '☑' | '✔');
        done |= m;
        m
    });
    for mark in [
        "DONE",
        "(DONE)",
        "(Done)",
        "(Complete)",
        "(COMPLETE)",
        "(Completed)",
        "[DONE]",
    ] {
        if let Some(r) = t.trim_end().strip_suffix(mark) {
            if r.is_empty() || r.ends_with([' ', '-', '–', '—', ')']) {
                t = r.trim_end().trim_end_matches(['-', '–', '—']).trim_end();
                done = true;
            }
        }
    }
    (t.trim().to_string(), done)
}

/// Tasks found under headings, with the block range each covers.
pub fn heading_tasks(doc: &Doc, plan: &mut Plan, allow_numbered: bool, in_task: &mut [bool]) {
    let blocks = &doc.blocks;
    let mut heads: Vec<(usize, TaskHeading)> = Vec::new();
    for (i, b) in blocks.iter().enumerate() {
        if b.heading_level().is_some() {
            if let Some(h) = parse_task_heading(&b.text) {
                if h.numbered && !allow_numbered {
                    continue;
                }
                heads.push((i, h));
            }
        }
    }
    // the plan's title, an H1 first heading like `# PLAN-020: Title`, is not a task when the
    // other tasks sit below it
    let first_heading = blocks.iter().position(|b| b.heading_level().is_some());
    if heads.len() > 1
        && heads[0].0 == first_heading.unwrap_or(usize::MAX)
        && super::is_title_task(&blocks[heads[0].0])
        && heads[1..]
            .iter()
            .all(|(i, _)| blocks[*i].heading_level() > Some(1))
    {
        heads.remove(0);
    }
    // Numbered headings (`## 1. Title`) count only when there are no id'd tasks.
    if heads.iter().any(|(_, h)| !h.numbered) {
        heads.retain(|(_, h)| !h.numbered);
    }
    keep_loose_keys_with_siblings(&mut heads);
    let is_head: std::collections::HashSet<usize> = heads.iter().map(|(i, _)| *i).collect();
    let mut ctx_milestone: Option<(u8, String)> = None;
    let mut ctx_wave: Option<(u8, u32)> = None;
    let mut hi = 0;
    for (i, b) in blocks.iter().enumerate() {
        let Some(level) = b.heading_level() else {
            continue;
        };
        if !is_head.contains(&i) {
            if ctx_milestone.as_ref().is_some_and(|(l, _)| *l >= level) {
                ctx_milestone = None;
            }
            if ctx_wave.as_ref().is_some_and(|(l, _)| *l >= level) {
                ctx_wave = None;
            }
            if let Some((id, _)) = parse_milestone_heading(&b.text) {
                ctx_milestone = Some((level, id));
            }
            if let Some(w) = parse_wave_heading(&b.text) {
                ctx_wave = Some((level, w));
                if says_sequential(&b.text)
                    || blocks
                        .get(i + 1)
                        .is_some_and(|n| n.kind == Kind::Para && says_sequential(&n.text))
                {
                    plan.sequential_waves.push(w);
                }
            }
            continue;
        }
        let h = heads[hi].1.clone();
        hi += 1;
        // extent: to the next heading at this level or above, the next task heading,
        // or a plan-level section heading.
        let mut end = i + 1;
        while end < blocks.len() {
            if let Some(l) = blocks[end].heading_level() {
                if l <= level
                    || is_head.contains(&end)
                    || ends_task(&blocks[end].text)
                    || parse_wave_heading(&blocks[end].text).is_some()
                    || parse_milestone_heading(&blocks[end].text).is_some()
                {
                    break;
                }
            }
            end += 1;
        }
        for m in in_task.iter_mut().take(end).skip(i) {
            *m = true;
        }
        let mut task = Task {
            origin: "a task heading with an id",
            done: h.done || all_boxes_ticked(doc, i + 1, end),
            id: h.id.clone(),
            title: h.title.clone(),
            parallel: h.parallel,
            source: doc.src.path.clone(),
            span: doc.span(b.start),
            line: doc.span(b.start).line,
            milestone: ctx_milestone.as_ref().map(|(_, m)| m.clone()),
            wave: ctx_wave.map(|(_, w)| w),
            ..Task::default()
        };
        placeholder_title(doc, b.start, &mut task);
        let c = collect(doc, i + 1, end);
        apply(doc, &c, &mut task);
        task.body = doc.source_of(i + 1, end).to_string();
        add_task(plan, task, doc.quote(b.start));
    }
}

/// Whether the blocks `from..to` (a task's section) hold checkboxes and every one is ticked:
/// a task whose steps are all ticked is done (`- [x] **Step 1: ...**` under `### Task 3:`).
pub fn all_boxes_ticked(doc: &Doc, from: usize, to: usize) -> bool {
    let mut boxes = doc.blocks[from..to]
        .iter()
        .filter_map(|b| b.task_box())
        .peekable();
    boxes.peek().is_some() && boxes.all(|(done, _)| done)
}

/// Whether a wave heading or the line under it says its tasks run one after another.
fn says_sequential(text: &str) -> bool {
    let l = text.to_lowercase();
    [
        "sequential",
        "in order",
        "one at a time",
        "serial",
        "not parallel",
    ]
    .iter()
    .any(|w| l.contains(w))
}

/// Keep digitless tracker keys (`proj-ory`) only when a sibling key with the same prefix has a
/// digit (`proj-7sk`); alone, `follow-up: notes` is a heading, not a task.
fn keep_loose_keys_with_siblings(heads: &mut Vec<(usize, TaskHeading)>) {
    let prefixes: std::collections::HashSet<String> = heads
        .iter()
        .filter(|(_, h)| !h.loose)
        .filter_map(|(_, h)| crate::ids::key_prefix(&h.id).map(str::to_string))
        .collect();
    heads.retain(|(_, h)| {
        !h.loose || crate::ids::key_prefix(&h.id).is_some_and(|p| prefixes.contains(p))
    });
}

/// Add a task, recording a duplicate id instead of a second task.
pub fn add_task(plan: &mut Plan, mut task: Task, quote: String) {
    task.quote.clone_from(&quote);
    if plan.ids.len() != plan.tasks.len() {
        // tasks were added elsewhere (tickets, ExecPlan progress): rebuild the index
        plan.ids = plan.tasks.iter().map(|t| t.id.clone()).collect();
    }
    if plan.ids.contains(&task.id) {
        let norm = |t: &str| t.trim().to_lowercase();
        let same = plan
            .task(&task.id)
            .is_some_and(|t| !t.title.trim().is_empty() && norm(&t.title) == norm(&task.title));
        plan.duplicates
            .push((task.id.clone(), task.source.clone(), task.span, quote, same));
    } else {
        plan.ids.insert(task.id.clone());
        plan.tasks.push(task);
    }
}

/// File names from the source text at `off`, with a `file-name` warning for each name that
/// Markdown would mangle or that holds spaces.
pub fn files_from_source(
    doc: &Doc,
    off: usize,
    raw: &str,
    notes: &mut Vec<crate::diagnostic::Diagnostic>,
) -> Vec<String> {
    let mut out = Vec::new();
    for f in crate::fields::files_in_source(raw) {
        if let Some(w) = f.warning {
            notes.push(crate::diagnostic::Diagnostic::new(
                crate::diagnostic::Severity::Warning,
                "file-name",
                w,
                &doc.src.path,
                doc.span(off),
                &doc.quote(off),
            ));
        }
        out.push(f.name);
    }
    out
}

/// A `template-placeholder` warning for a field that still holds `<...>`.
fn placeholder_note(
    doc: &Doc,
    off: usize,
    field: &str,
    value: &str,
    doing: &str,
) -> crate::diagnostic::Diagnostic {
    crate::diagnostic::Diagnostic::new(
        crate::diagnostic::Severity::Warning,
        "template-placeholder",
        format!(
            "the {field} is still the template placeholder `{}`; {doing}",
            value.trim()
        ),
        &doc.src.path,
        doc.span(off),
        &doc.quote(off),
    )
}

/// Clear a title that is a template placeholder (`<task title>`), warning about it.
fn placeholder_title(doc: &Doc, off: usize, task: &mut Task) {
    if crate::deps::is_placeholder(&task.title) {
        let n = placeholder_note(
            doc,
            off,
            "title",
            &task.title,
            "planexec names the task by its id",
        );
        task.notes.push(n);
        task.title.clear();
    }
}

pub(super) fn dep(doc: &Doc, id: String, kind: DepKind, off: usize) -> Dependency {
    Dependency {
        id,
        kind,
        span: doc.span(off),
        file: None,
        quote: doc.quote(off).into(),
        prose: false,
    }
}

/// Apply collected fields to a task.
pub fn apply(doc: &Doc, c: &Collected, task: &mut Task) {
    for hit in &c.hits {
        task.field_spans
            .entry(hit.field.key().to_string())
            .or_insert_with(|| doc.span(hit.offset));
        let value = hit.value.trim();
        match hit.field {
            Field::Summary => {
                let mut parts: Vec<String> = Vec::new();
                if !value.is_empty() {
                    parts.push(plain(value));
                }
                parts.extend(hit.items.iter().map(|(s, _)| plain(s)));
                if !parts.is_empty() {
                    if !task.summary.is_empty() {
                        task.summary.push(' ');
                    }
                    task.summary.push_str(&parts.join(" "));
                }
            }
            Field::Title => {
                if task.title.is_empty() && !value.is_empty() {
                    task.title = plain(value);
                }
            }
            Field::Deps => {
                if crate::deps::is_placeholder(value) && !crate::deps::is_none_word(value) {
                    let n = placeholder_note(
                        doc,
                        hit.offset,
                        "Dependencies field",
                        value,
                        "planexec reads no dependencies from it",
                    );
                    task.notes.push(n);
                }
                // one span and quote per line, shared by every id it names
                let at = dep(doc, String::new(), DepKind::Blocking, hit.offset);
                for (id, kind) in parse_dep_text(value, DepKind::Blocking) {
                    task.dependencies.push(Dependency {
                        id,
                        kind,
                        ..at.clone()
                    });
                }
                for (s, off) in &hit.items {
                    let at = dep(doc, String::new(), DepKind::Blocking, *off);
                    for (id, kind) in parse_dep_text(strip_box(s), DepKind::Blocking) {
                        task.dependencies.push(Dependency {
                            id,
                            kind,
                            ..at.clone()
                        });
                    }
                }
                for &ti in &hit.tables {
                    dep_table(doc, ti, task);
                }
            }
            Field::Milestone => {
                let v = plain(value);
                if !v.is_empty() {
                    let m = v
                        .split(|c: char| !c.is_alphanumeric())
                        .find(|w| is_milestone_id(w))
                        .map(str::to_string)
                        .unwrap_or(v);
                    task.milestone = Some(m);
                }
            }
            Field::Wave => {
                if let Some(n) = value
                    .split(|c: char| !c.is_ascii_digit())
                    .find_map(|p| p.parse().ok())
                {
                    task.wave = Some(n);
                }
            }
            Field::Acceptance | Field::SuccessCriteria => {
                if crate::deps::is_placeholder(value) {
                    let n = placeholder_note(
                        doc,
                        hit.offset,
                        "acceptance field",
                        value,
                        "planexec reads no criterion from it",
                    );
                    task.notes.push(n);
                } else if !value.is_empty() && !value.ends_with(':') {
                    push_criterion(task, value);
                }
                for (s, _) in &hit.items {
                    push_criterion(task, strip_box(s));
                }
                task.acceptance_commands.extend(commands_in_code(&hit.code));
                for &ti in &hit.tables {
                    for row in doc.blocks[ti].rows.iter().skip(1) {
                        let text = row
                            .iter()
                            .map(|c| c.trim())
                            .filter(|c| !c.is_empty())
                            .collect::<Vec<_>>()
                            .join(" | ");
                        push_criterion(task, &text);
                    }
                }
            }
            Field::Files => {
                if !hit.raw_value.is_empty() {
                    let f = files_from_source(doc, hit.offset, &hit.raw_value, &mut task.notes);
                    task.files.extend(f);
                }
                for (s, off) in &hit.raw_items {
                    let f = files_from_source(doc, *off, strip_box(s), &mut task.notes);
                    task.files.extend(f);
                }
                for &ti in &hit.tables {
                    files_table(doc, ti, task);
                }
            }
            Field::OutOfScope => {
                let pieces =
                    std::iter::once(value).chain(hit.items.iter().map(|(s, _)| s.as_str()));
                for p in pieces.flat_map(crate::fields::split_list) {
                    if !crate::deps::is_none_word(p) {
                        task.out_of_scope.push(plain(p));
                    }
                }
            }
            Field::Boundaries => {
                for &ti in &hit.tables {
                    let rows = &doc.blocks[ti].rows;
                    if let Some(header) = rows.first() {
                        for (ci, h) in header.iter().enumerate() {
                            if h.to_lowercase().contains("out") {
                                for row in rows.iter().skip(1) {
                                    if let Some(cell) = row.get(ci).filter(|c| !c.trim().is_empty())
                                    {
                                        task.out_of_scope.push(plain(cell));
                                    }
                                }
                            }
                        }
                    }
                }
            }
            Field::Steps => {
                if !value.is_empty() && !value.ends_with(':') {
                    task.steps.push(plain(value));
                }
                task.steps
                    .extend(hit.items.iter().map(|(s, _)| plain(strip_box(s))));
            }
            Field::Status => {
                let l = value.to_lowercase();
                if [
                    "done",
                    "complete",
                    "completed",
                    "finished",
                    "merged",
                    "✅",
                    "[x]",
                    "closed",
                ]
                .iter()
                .any(|w| l.starts_with(w))
                    || l.split([' ', '.', ',', ';'])
                        .next()
                        .is_some_and(crate::words::says_done)
                {
                    task.done = true;
                }
            }
            Field::Parallel => {
                let l = value.to_lowercase();
                task.parallel = l.starts_with("yes")
                    || l.starts_with("true")
                    || l.starts_with('y')
                    || l.contains("[p]");
            }
            Field::InScope => {
                // `Scope: config/loader.py` (ExecPlan milestones): the paths it names are files
                let raws =
                    std::iter::once(&hit.raw_value).chain(hit.raw_items.iter().map(|(s, _)| s));
                for f in raws.flat_map(|s| crate::fields::paths_in_source(s)) {
                    if crate::fields::looks_path(&f.name) {
                        task.files.push(f.name);
                    }
                }
            }
            Field::Id | Field::Other => {}
        }
    }
    if task.summary.is_empty() {
        let text: Vec<&str> = c.free_paras.iter().map(|(s, _)| s.as_str()).collect();
        let s = plain(&text.join(" "));
        task.summary = s.chars().take(600).collect();
    }
    // Unlabelled `- [ ]` items are criteria, not progress, when nothing else is.
    if task.acceptance.is_empty() {
        for (s, _, checked) in &c.free_items {
            if checked.is_some() {
                push_criterion(task, s);
            }
        }
    }
    for &ti in &c.free_tables {
        let header: Vec<String> = doc.blocks[ti]
            .rows
            .first()
            .map(|h| h.iter().map(|c| c.to_lowercase()).collect())
            .unwrap_or_default();
        let has = |w: &str| header.iter().any(|h| h.contains(w));
        if has("depend") && (has("type") || has("kind")) {
            dep_table(doc, ti, task);
        } else if has("file") && (has("change") || has("module")) {
            files_table(doc, ti, task);
        }
    }
    if task.summary.is_empty() {
        task.summary = task.title.clone();
    }
}

fn push_criterion(task: &mut Task, text: &str) {
    let t = plain(text);
    if t.is_empty() {
        return;
    }
    task.acceptance_commands.extend(commands_in_text(text));
    task.acceptance.push(t);
}

fn col(header: &[String], words: &[&str]) -> Option<usize> {
    header.iter().position(|h| {
        let h = h.to_lowercase();
        words.iter().any(|w| h.contains(w))
    })
}

/// planpipe's Dependencies table: Dependency | Type | From | Unblock Condition.
fn dep_table(doc: &Doc, ti: usize, task: &mut Task) {
    let b = &doc.blocks[ti];
    let Some(header) = b.rows.first() else { return };
    let dcol = col(header, &["depend", "task", "subtask", "id", "blocked"]);
    let tcol = col(header, &["type", "kind"]);
    let fcol = col(header, &["from", "source"]);
    for (r, row) in b.rows.iter().enumerate().skip(1) {
        let kind = tcol
            .and_then(|c| row.get(c))
            .and_then(|s| DepKind::from_word(&plain(s)))
            .unwrap_or(DepKind::Blocking);
        let mut found = Vec::new();
        for c in [dcol, fcol].into_iter().flatten() {
            if let Some(cell) = row.get(c) {
                found = parse_dep_text(cell, kind);
                found.retain(|(id, _)| !id.starts_with(crate::deps::BARE_NUMBER));
                if !found.is_empty() {
                    break;
                }
            }
        }
        for (id, _) in found {
            task.dependencies.push(dep(doc, id, kind, b.row_offsets[r]));
        }
    }
}

/// A Change Area table (Module | File | Change Type | Description): the File column, else Module.
fn files_table(doc: &Doc, ti: usize, task: &mut Task) {
    let b = &doc.blocks[ti];
    let Some(header) = b.rows.first() else { return };
    let c = col(header, &["file", "path"]).or_else(|| col(header, &["module", "component"]));
    if let Some(c) = c {
        for row in b.rows.iter().skip(1) {
            if let Some(cell) = row.get(c) {
                task.files.extend(extract_files(cell));
            }
        }
    }
}

/// Tasks that exist only as table rows (`| ID | Task | Files | Acceptance Test |`).
pub fn table_tasks(doc: &Doc, plan: &mut Plan, in_task: &mut [bool]) {
    let mut ctx_milestone: Option<String> = None;
    // `**Dependencies:** T1-T4` under a milestone heading, above its table of task rows
    let mut ctx_deps: Vec<(String, DepKind, usize)> = Vec::new();
    for (bi, b) in doc.blocks.iter().enumerate() {
        if b.heading_level().is_some() {
            if let Some((id, _)) = parse_milestone_heading(&b.text) {
                ctx_milestone = Some(id);
                ctx_deps.clear();
            }
            continue;
        }
        if matches!(b.kind, Kind::Para | Kind::Item { .. }) {
            ctx_deps.extend(milestone_deps(b));
            continue;
        }
        if b.kind != Kind::Table {
            continue;
        }
        let Some(header) = b.rows.first() else {
            continue;
        };
        let header: Vec<String> = header.iter().map(|h| plain(h).to_lowercase()).collect();
        let idc = header.iter().position(|h| {
            matches!(
                h.as_str(),
                "id" | "task id" | "#" | "task" | "ticket" | "key"
            )
        });
        let Some(idc) = idc else { continue };
        let ids_ok = b
            .rows
            .iter()
            .skip(1)
            .filter(|r| {
                r.get(idc)
                    .is_some_and(|c| scan_id(plain(c).trim()).is_some())
            })
            .count();
        // an id column holds ids in most rows; `| E2E tests | 5 |` among titles is a title
        if ids_ok == 0 || ids_ok * 2 < b.rows.len() - 1 {
            continue;
        }
        let find = |words: &[&str]| {
            header
                .iter()
                .enumerate()
                .position(|(i, h)| i != idc && words.iter().any(|w| h.contains(w)))
        };
        let titlec = find(&["task", "title", "description", "name", "summary", "what"]);
        let filesc = find(&["file", "module", "path"]);
        let accc = find(&["acceptance", "test", "done when", "criteria", "verify"]);
        let depc = find(&["depend", "blocked", "after", "requires"]);
        let msc = find(&["milestone"]);
        let wavec = find(&["wave"]);
        let statusc = find(&["status", "state", "estado", "statut", "状态", "状態"]);
        // an id column beside only notes (`ID | Assumption | Confidence`) lists no work
        if titlec.is_none() && statusc.is_none() && depc.is_none() && header[idc] == "id" {
            continue;
        }
        in_task[bi] = true;
        for (r, row) in b.rows.iter().enumerate().skip(1) {
            let idcell = plain(row.get(idc).map(String::as_str).unwrap_or(""));
            let Some(n) = scan_id(idcell.trim()) else {
                continue;
            };
            let off = b.row_offsets[r];
            let get = |c: Option<usize>| {
                c.and_then(|c| row.get(c))
                    .map(|s| s.trim().to_string())
                    .unwrap_or_default()
            };
            let mut task = Task {
                origin: "a row of a task table (a column named ID/Task)",
                id: idcell.trim()[..n].to_string(),
                title: plain(&get(titlec)),
                source: doc.src.path.clone(),
                span: doc.span(off),
                line: doc.span(off).line,
                milestone: get(msc)
                    .split_whitespace()
                    .next()
                    .map(str::to_string)
                    .or_else(|| ctx_milestone.clone()),
                wave: get(wavec).parse().ok(),
                ..Task::default()
            };
            let raw = raw_cells(doc, off);
            let raw_files = filesc.and_then(|c| raw.get(c)).cloned().unwrap_or_default();
            task.files = files_from_source(doc, off, &raw_files, &mut task.notes);
            task.done = statusc.is_some_and(|_| crate::words::says_done(&get(statusc)));
            let acc = get(accc);
            if !is_empty_cell(&acc) {
                push_criterion(&mut task, &acc);
            }
            for (id, kind) in parse_dep_text(&get(depc), DepKind::Blocking) {
                task.dependencies.push(dep(doc, id, kind, off));
            }
            for (id, kind, doff) in &ctx_deps {
                if *id != task.id && !task.dependencies.iter().any(|d| d.id == *id) {
                    task.dependencies.push(dep(doc, id.clone(), *kind, *doff));
                }
            }
            task.summary = task.title.clone();
            task.body = doc.quote(off);
            let q = doc.quote(off);
            add_task(plan, task, q);
        }
    }
}

/// Dependencies a milestone states for all its rows (`**Dependencies:** T1-T4`, `Depends on: M1`).
fn milestone_deps(b: &crate::markdown::Block) -> Vec<(String, DepKind, usize)> {
    let mut out = Vec::new();
    for (line, off) in b.lines() {
        if let Some((Field::Deps, value, _)) = crate::fields::line_label(line) {
            for (id, kind) in parse_dep_text(value, DepKind::Blocking) {
                out.push((id, kind, off));
            }
        }
    }
    out
}

/// A table cell that says nothing: empty, `-`, `n/a`, `none`, `TBD`. A cell that begins with
/// "No ..." ("No dead CSS rules") is content.
pub fn is_empty_cell(s: &str) -> bool {
    let t = plain(s);
    let l = t.trim().trim_matches(['*', '_', '`', '.']).to_lowercase();
    matches!(
        l.as_str(),
        "" | "-" | "–" | "—" | "--" | "n/a" | "na" | "none" | "tbd" | "<none>" | "~" | "∅"
    ) || crate::deps::is_placeholder(&t)
}

/// The raw source text of each cell of the table row at `off` (backslash escapes kept out).
fn raw_cells(doc: &Doc, off: usize) -> Vec<String> {
    let line = doc.src.line_text(doc.span(off).line).trim();
    let line = line.strip_prefix('|').unwrap_or(line);
    let line = line.strip_suffix('|').unwrap_or(line);
    let mut cells = vec![String::new()];
    let (mut code, mut esc) = (false, false);
    for c in line.chars() {
        match c {
            '\\' if !esc => esc = true,
            '|' if !code && !esc => cells.push(String::new()),
            _ => {
                if c == '`' {
                    code = !code;
                }
                if esc && c != '|' {
                    cells.last_mut().unwrap().push('\\');
                }
                cells.last_mut().unwrap().push(c);
                esc = false;
            }
        }
    }
    cells.iter().map(|c| c.trim().to_string()).collect()
}

/// Read a ticket or subtask file (`tickets/T001.md`, `subtasks/st-1.md`) as one task.
pub fn ticket_task(doc: &Doc, path: &Path) -> Task {
    let fm = &doc.front_matter;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut id = fm_str(fm, &["id", "task_id", "ticket"]).unwrap_or_default();
    let mut title = fm_str(fm, &["title", "name"]).unwrap_or_default();
    let mut start = 0;
    let mut span = doc.span(doc.body_start);
    if let Some((i, b)) = doc
        .blocks
        .iter()
        .enumerate()
        .find(|(_, b)| b.heading_level().is_some())
    {
        if let Some(h) = parse_task_heading(&b.text) {
            if id.is_empty() {
                id = h.id;
            }
            if title.is_empty() {
                title = h.title;
            }
            start = i + 1;
            span = doc.span(b.start);
        } else if b.heading_level() == Some(1) {
            if title.is_empty() {
                title = plain(&b.text);
            }
            start = i + 1;
            span = doc.span(b.start);
        }
    }
    if id.is_empty() {
        id = id_from_stem(&stem);
    }
    let mut task = Task {
        origin: "a ticket or subtask file",
        id,
        title,
        source: path.to_path_buf(),
        span,
        line: span.line,
        ..Task::default()
    };
    task.title = strip_id_prefix(&task.title, &task.id);
    placeholder_title(doc, span.offset, &mut task);
    let c = collect(doc, start, doc.blocks.len());
    apply(doc, &c, &mut task);
    // front matter fields
    let fm_span = doc.span(0);
    for key in [
        "dependencies",
        "depends_on",
        "depends",
        "deps",
        "blocked_by",
    ] {
        for v in fm_list(fm, key) {
            for (d, kind) in parse_dep_text(&v, DepKind::Blocking) {
                task.dependencies.push(Dependency {
                    id: d,
                    kind,
                    span: fm_span,
                    file: None,
                    quote: format!("{key}: {v}").into(),
                    prose: false,
                });
            }
        }
    }
    for key in [
        "acceptance",
        "acceptance_criteria",
        "acceptance_tests",
        "done_when",
    ] {
        for v in fm_list(fm, key) {
            push_criterion(&mut task, &v);
        }
    }
    for key in ["files", "files_touched", "modules"] {
        for v in fm_list(fm, key) {
            task.files.extend(extract_files(&v));
        }
    }
    if let Some(m) = fm_str(fm, &["milestone", "target_milestone"]) {
        task.milestone = Some(m);
    }
    if let Some(w) = fm.get("wave").and_then(|w| {
        w.as_u64()
            .or_else(|| w.as_str().and_then(|s| s.parse().ok()))
    }) {
        task.wave = Some(w as u32);
    }
    if let Some(s) = fm_str(fm, &["status"]) {
        let l = s.to_lowercase();
        task.done = l.starts_with("done") || l.starts_with("complete");
    }
    if let Some(s) = fm_str(fm, &["summary", "description"]) {
        task.summary = s;
    }
    if task.title.is_empty() {
        task.title = task.summary.clone();
    }
    task.body = doc.source_of(start, doc.blocks.len()).to_string();
    task
}

/// A title that repeats its task's id (`T001: Add login`, `Ticket T001 – x`) without the id.
fn strip_id_prefix(title: &str, id: &str) -> String {
    let t = title.trim();
    let t = ["Ticket ", "Task ", "ticket ", "task "]
        .iter()
        .find_map(|w| t.strip_prefix(w).filter(|r| r.starts_with(id)))
        .unwrap_or(t);
    match t.strip_prefix(id) {
        Some(r) if r.is_empty() || r.starts_with([':', ' ', '-', '–', '—', '.', ')']) => {
            let r = r
                .trim_start_matches([':', ' ', '-', '–', '—', '.', ')'])
                .trim();
            if r.is_empty() {
                title.trim().to_string()
            } else {
                r.to_string()
            }
        }
        _ => title.trim().to_string(),
    }
}

/// Whether a file in a tickets/ or subtasks/ folder is an index of the others, not a ticket.
pub fn is_index_file(path: &Path) -> bool {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    // a name that starts with an id is a ticket (`PMC-008-google-prd-template.md`)
    if scan_id(&stem.to_uppercase()).is_some() {
        return false;
    }
    // `_template.md`, `TEMPLATE.md`: the form new tickets are copied from
    let name = stem.trim_start_matches('_');
    name.starts_with("template")
        || name.ends_with("template")
        || matches!(
            name,
            "index" | "readme" | "overview" | "summary" | "toc" | "contents"
        )
}

/// `st-1` -> `ST-1`, `T001` -> `T001`, `t001-setup` -> `T001`.
fn id_from_stem(stem: &str) -> String {
    let up = stem.to_uppercase();
    match scan_id(&up) {
        Some(n) => up[..n].to_string(),
        None => stem.to_string(),
    }
}

fn fm_str(fm: &serde_json::Value, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| match fm.get(*k) {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

fn fm_list(fm: &serde_json::Value, key: &str) -> Vec<String> {
    match fm.get(key) {
        Some(serde_json::Value::String(s)) => vec![s.clone()],
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .filter_map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .or_else(|| v.as_u64().map(|n| n.to_string()))
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Merge a ticket into the plan: fields the ticket states override the plan's entry.
pub fn merge_ticket(plan: &mut Plan, t: Task) {
    match plan.tasks.iter_mut().find(|x| x.id == t.id) {
        None => plan.tasks.push(t),
        Some(x) => {
            if !t.title.is_empty() {
                x.title = t.title;
            }
            if !t.summary.is_empty() && t.summary != x.title {
                x.summary = t.summary;
            }
            if !t.body.is_empty() {
                x.body = t.body;
            }
            let file = t.source.clone();
            for mut d in t.dependencies {
                d.file = Some(file.clone());
                x.dependencies.push(d);
            }
            macro_rules! take {
                ($f:ident) => {
                    if !t.$f.is_empty() {
                        x.$f = t.$f;
                    }
                };
            }
            take!(acceptance);
            take!(acceptance_commands);
            take!(files);
            take!(out_of_scope);
            take!(steps);
            if t.milestone.is_some() {
                x.milestone = t.milestone;
            }
            if t.wave.is_some() {
                x.wave = t.wave;
            }
            x.done |= t.done;
            x.parallel |= t.parallel;
            x.notes.extend(t.notes);
            x.source = t.source;
            x.span = t.span;
            x.line = t.line;
            x.field_spans = t.field_spans;
        }
    }
}

/// The last pass: dependency resolution and per-task clean-up.
pub fn finish(plan: &mut Plan) {
    crate::deps::resolve(plan);
    break_order_cycles(plan);
    for t in &mut plan.tasks {
        let from_text: Vec<String> = t
            .acceptance
            .iter()
            .flat_map(|a| commands_in_text(a))
            .collect();
        t.acceptance_commands.extend(from_text);
        let mut seen = std::collections::HashSet::new();
        t.files.retain(|f| seen.insert(f.clone()));
        let mut seen = std::collections::HashSet::new();
        t.acceptance_commands.retain(|f| seen.insert(f.clone()));
        for d in &mut t.dependencies {
            if d.file.as_deref() == Some(t.source.as_path()) {
                d.file = None;
            }
        }
    }
    if plan.title.is_empty() {
        plan.title = plan.topic();
    }
}

/// A stated dependency against document or phase order (`T016 blocks T009` in a later phase) is
/// no contradiction: the order-only (sequencing) edge that closes the cycle gives way, named in
/// an `order-overridden` warning. Cycles of stated dependencies stay errors.
fn break_order_cycles(plan: &mut Plan) {
    for _ in 0..plan.tasks.len().min(200) {
        let Err(c) = crate::waves::waves(plan) else {
            return;
        };
        let Some((ti, di)) = c.cycle.windows(2).find_map(|w| {
            let ti = plan.tasks.iter().position(|t| t.id == w[0])?;
            let di = plan.tasks[ti]
                .dependencies
                .iter()
                .position(|d| d.id == w[1] && d.kind == DepKind::Sequencing)?;
            Some((ti, di))
        }) else {
            return;
        };
        let d = plan.tasks[ti].dependencies.remove(di);
        let t = &plan.tasks[ti];
        plan.notes.push(crate::diagnostic::Diagnostic::new(
            crate::diagnostic::Severity::Warning,
            "order-overridden",
            format!(
                "a stated dependency runs against the plan's order ({}); planexec no longer runs {} after {} only because of their order",
                c.cycle.join(" -> "),
                t.id,
                d.id
            ),
            &t.source,
            t.span,
            &t.quote,
        ));
    }
}

/// Plan title: front matter `title`, else the first H1, else the first heading.
pub fn plan_title(doc: &Doc) -> String {
    if let Some(serde_json::Value::String(s)) = doc.front_matter.get("title") {
        return s.clone();
    }
    let h1 = doc
        .blocks
        .iter()
        .find(|b| b.heading_level() == Some(1))
        .or_else(|| doc.blocks.iter().find(|b| b.heading_level().is_some()));
    h1.map(|b| plain(&b.text)).unwrap_or_default()
}

/// Commands in code blocks of a hit (used by ExecPlan steps).
pub fn code_commands(lines: &[String]) -> Vec<String> {
    commands_in_code(lines)
}

/// Run the tasks in document order: each a sequencing dependency of the next.
pub(super) fn chain(mut tasks: Vec<Task>) -> Vec<Task> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Option<(String, String, bool)> {
        parse_task_heading(s).map(|h| (h.id, h.title, h.numbered))
    }

    #[test]
    fn task_headings() {
        assert_eq!(
            h("T001: Set up"),
            Some(("T001".into(), "Set up".into(), false))
        );
        assert_eq!(
            h("Task T001 – Set up"),
            Some(("T001".into(), "Set up".into(), false))
        );
        assert_eq!(
            h("Task T001 - Set up"),
            Some(("T001".into(), "Set up".into(), false))
        );
        assert_eq!(
            h("T1.1: Schema"),
            Some(("T1.1".into(), "Schema".into(), false))
        );
        assert_eq!(
            h("T046B – Extra"),
            Some(("T046B".into(), "Extra".into(), false))
        );
        assert_eq!(
            h("Task 1.1: Migrate"),
            Some(("1.1".into(), "Migrate".into(), false))
        );
        assert_eq!(h("Task 3: Wire"), Some(("3".into(), "Wire".into(), false)));
        assert_eq!(
            h("ST-1: Tenant model"),
            Some(("ST-1".into(), "Tenant model".into(), false))
        );
        assert_eq!(h("A1. Parser"), Some(("A1".into(), "Parser".into(), false)));
        assert_eq!(
            h("proj-7sk: Tracker"),
            Some(("proj-7sk".into(), "Tracker".into(), false))
        );
        assert_eq!(h("1. Title"), Some(("1".into(), "Title".into(), true)));
        assert_eq!(
            h("🚀 T002: Launch"),
            Some(("T002".into(), "Launch".into(), false))
        );
        assert_eq!(
            h("**T003**: Bold"),
            Some(("T003".into(), "Bold".into(), false))
        );
        assert_eq!(h("Task Summary"), None);
        assert_eq!(h("Task Index"), None);
        assert_eq!(h("M1: Foundation"), None);
        assert_eq!(h("Tasks"), None);
        assert_eq!(h("US1 story"), None);
    }
}
