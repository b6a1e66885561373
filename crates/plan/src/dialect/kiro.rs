//! Kiro specs (`.kiro/specs/<feature>/tasks.md` beside requirements.md and design.md): numbered
//! checkboxes `- [ ] 1. Title` with nested `- [ ] 1.1 ...`; `_Requirements: 1.2_` are references.
//!
//! Order only: each task follows the one before it, and a parent waits for its children.

use super::common::{add_task, dep, files_from_source, plan_title};
use crate::ids::scan_number;
use crate::markdown::{plain, Doc};
use crate::model::{DepKind, Dependency, Plan, Task};
use crate::sections::read_sections;

/// Whether a document is a Kiro task list: under `.kiro/specs/`, or a tasks.md whose folder
/// holds requirements.md, with numbered checkbox items.
pub fn looks_kiro(doc: &Doc) -> bool {
    let p = doc.src.path.to_string_lossy().replace('\\', "/");
    if p.contains(".kiro/specs/") {
        return true;
    }
    // design.md alone sits beside OpenSpec's tasks.md too; requirements.md is Kiro's
    let neighbours = doc
        .src
        .path
        .parent()
        .is_some_and(|d| d.join("requirements.md").is_file());
    neighbours
        && p.to_lowercase().ends_with("tasks.md")
        && doc
            .blocks
            .iter()
            .any(|b| b.checked().is_some() && numbered(&plain(&b.text)).is_some())
}

/// Dependencies a group heading states: `... (depends on 3.3)`, `... — after 2`.
fn heading_deps(doc: &Doc, b: &crate::markdown::Block) -> Vec<Dependency> {
    let text = plain(&b.text);
    crate::deps::inline_dep_texts(&text)
        .into_iter()
        .flat_map(|rest| crate::deps::parse_dep_text(rest, DepKind::Blocking))
        .filter(|(id, _)| !id.starts_with(crate::deps::WORDS))
        .map(|(id, kind)| Dependency {
            id,
            kind,
            span: doc.span(b.start),
            file: None,
            quote: doc.quote(b.start).into(),
            prose: false,
        })
        .collect()
}

/// A numbered checkbox item: (id, title, done). `[-]` (in progress) counts as a checkbox.
fn boxed(b: &crate::markdown::Block) -> Option<(String, String, bool)> {
    let (done, skip) = b.task_box()?;
    let (id, title) = numbered(&plain(&b.text[skip..]))?;
    Some((id, title, done))
}

/// `1. Title` / `1.1 Title` / `* 16. Title` / `12.7* Title` (optional tasks) / `0.V Title`
/// (a group's validation gate) -> (`1`, `Title`).
fn numbered(text: &str) -> Option<(String, String)> {
    let t = text.trim_start().trim_start_matches(['*', ' ']);
    let mut n = scan_number(t)?;
    // a letter step after the number: `0.V`
    let b = t.as_bytes();
    if b.get(n) == Some(&b'.')
        && b.get(n + 1).is_some_and(u8::is_ascii_alphabetic)
        && b.get(n + 2).is_none_or(|c| !c.is_ascii_alphanumeric())
    {
        n += 2;
    }
    let rest = t[n..].trim_start_matches('*');
    if !(rest.starts_with(['.', ' ', ')', ':'])) {
        return None;
    }
    let id = t[..n].trim_end_matches('.').to_string();
    let title = rest.trim_start_matches(['.', ')', ':', ' ']).trim();
    Some((id, title.lines().next().unwrap_or("").to_string()))
}

/// Read a Kiro tasks.md into `plan`.
pub fn parse(doc: &Doc, plan: &mut Plan) {
    plan.title = plan_title(doc);
    let mut in_task = vec![false; doc.blocks.len()];
    let mut tasks: Vec<Task> = Vec::new();
    // `## Group B — ... (depends on migration 3.3)`: every task under the heading waits
    let mut group_deps: Vec<Dependency> = Vec::new();
    for (i, b) in doc.blocks.iter().enumerate() {
        if b.heading_level().is_some() {
            group_deps = heading_deps(doc, b);
            continue;
        }
        let Some((id, title, done)) = boxed(b) else {
            continue;
        };
        let end = (i + 1..doc.blocks.len())
            .find(|&j| {
                let n = &doc.blocks[j];
                n.heading_level().is_some()
                    || boxed(n).is_some()
                    || (n.is_item() && n.depth <= b.depth)
            })
            .unwrap_or(doc.blocks.len());
        in_task[i..end].iter_mut().for_each(|m| *m = true);
        let mut t = task(doc, i, end, id, title, done);
        t.dependencies.extend(group_deps.iter().cloned());
        tasks.push(t);
    }
    // a task written twice is ordered once; add_task reports the second
    let mut seen = std::collections::HashSet::new();
    let (firsts, again): (Vec<Task>, Vec<Task>) =
        tasks.into_iter().partition(|t| seen.insert(t.id.clone()));
    for t in order(firsts).into_iter().chain(again) {
        let q = t.quote.clone();
        add_task(plan, t, q);
    }
    read_sections(doc, plan, &in_task);
}

/// One numbered checkbox with its nested notes: requirements as tags `R1.2`, `_Verify_`/test
/// lines as acceptance, the rest as steps, paths in any of them as files.
fn task(doc: &Doc, i: usize, end: usize, id: String, title: String, done: bool) -> Task {
    let b = &doc.blocks[i];
    let span = doc.span(b.start);
    let mut t = Task {
        origin: "a numbered checkbox of a Kiro tasks.md",
        id,
        title: title.clone(),
        summary: title,
        done,
        source: doc.src.path.clone(),
        span,
        line: span.line,
        quote: doc.quote(b.start),
        ..Task::default()
    };
    t.field_spans.insert("task".into(), span);
    let mut notes = Vec::new();
    // Kiro marks optional tasks with a star: `- [ ]* 4. ...` or `- [ ] 4.* ...`
    let own = plain(&b.text);
    if own.contains("]*") || own.contains(&format!("{}*", t.id)) {
        t.tags.push("optional".into());
    }
    // a path in the task's own title: `- [ ] 2.1 Create `src/x.ts``
    let found: Vec<String> = crate::fields::paths_in_source(doc.src.line_text(span.line))
        .into_iter()
        .map(|f| format!("`{}`", f.name))
        .collect();
    if !found.is_empty() {
        t.files = files_from_source(doc, b.start, &found.join(", "), &mut notes);
        t.field_spans.insert("files".into(), span);
    }
    for blk in &doc.blocks[i + 1..end] {
        for (line, off) in blk.lines() {
            let p = plain(line);
            let bare = p.trim().trim_matches('_').trim();
            let l = bare.to_lowercase();
            if let Some(r) = l
                .strip_prefix("requirements:")
                .or_else(|| l.strip_prefix("requirement:"))
            {
                t.tags.extend(
                    r.split([',', ' '])
                        .map(|x| x.trim_matches(['_', '.', ' ']))
                        .filter(|x| !x.is_empty())
                        .map(|x| format!("R{x}")),
                );
                t.field_spans.entry("tags".into()).or_insert(doc.span(off));
            } else if !bare.is_empty() {
                read_line(doc, &mut t, bare, off);
            }
            let raw = doc.src.line_text(doc.span(off).line);
            let found: Vec<String> = crate::fields::paths_in_source(raw)
                .into_iter()
                .map(|f| format!("`{}`", f.name))
                .collect();
            if !found.is_empty() {
                let files = files_from_source(doc, off, &found.join(", "), &mut notes);
                t.field_spans.entry("files".into()).or_insert(doc.span(off));
                t.files.extend(files);
            }
        }
    }
    t.notes = notes;
    t.body = doc.source_of(i + 1, end).to_string();
    t
}

/// One note under a task: a labelled field (`Files:`, `_Depends: 4.1_`, `Verify:`, `完了条件:`)
/// or a step.
fn read_line(doc: &Doc, t: &mut Task, bare: &str, off: usize) {
    use crate::fields::{line_label, Field};
    let l = bare.to_lowercase();
    let label = line_label(bare).map(|(f, v, _)| (f, v.to_string()));
    let acceptance = [
        "verify",
        "test:",
        "完了条件",
        "受け入れ",
        "验收",
        "完成标准",
    ]
    .iter()
    .any(|w| l.starts_with(w));
    match label {
        Some((Field::Deps, v)) => {
            for (id, kind) in crate::deps::parse_dep_text(&v, DepKind::Blocking) {
                t.dependencies.push(dep(doc, id, kind, off));
            }
            t.field_spans
                .entry("dependencies".into())
                .or_insert(doc.span(off));
        }
        Some((Field::Acceptance, v)) => push_acceptance(doc, t, &v, off),
        _ if acceptance => {
            let v = bare.split_once([':', '：']).map_or(bare, |(_, v)| v).trim();
            push_acceptance(doc, t, v, off);
        }
        _ => t.steps.push(bare.to_string()),
    }
}

fn push_acceptance(doc: &Doc, t: &mut Task, v: &str, off: usize) {
    t.acceptance.push(v.trim().to_string());
    t.field_spans
        .entry("acceptance".into())
        .or_insert(doc.span(off));
}

/// Parent/child and document order: a parent (`2`) waits for its children (`2.1`, `2.2`); every
/// other task follows the one before it in the order children-then-parent.
fn order(mut tasks: Vec<Task>) -> Vec<Task> {
    let parent_of = |id: &str| id.rsplit_once('.').map(|(p, _)| p.to_string());
    let ids: Vec<String> = tasks.iter().map(|t| t.id.clone()).collect();
    let dep = |id: &str, t: &Task, kind| Dependency {
        id: id.to_string(),
        kind,
        span: t.span,
        file: None,
        quote: t.quote.clone().into(),
        prose: false,
    };
    // a parent runs after its children: the execution sequence moves parents behind them
    let mut seq: Vec<usize> = Vec::new();
    let mut pending: Vec<usize> = Vec::new();
    for (k, id) in ids.iter().enumerate() {
        while let Some(&p) = pending.last() {
            if id.starts_with(&format!("{}.", ids[p])) {
                break;
            }
            seq.push(pending.pop().unwrap_or(p));
        }
        if ids
            .iter()
            .any(|o| parent_of(o).as_deref() == Some(id.as_str()))
        {
            pending.push(k);
        } else {
            seq.push(k);
        }
    }
    seq.extend(pending.into_iter().rev());
    for k in 0..tasks.len() {
        let children: Vec<String> = ids
            .iter()
            .filter(|o| parent_of(o).as_deref() == Some(ids[k].as_str()))
            .cloned()
            .collect();
        for c in children {
            let d = dep(&c, &tasks[k], DepKind::Sequencing);
            tasks[k].dependencies.push(d);
        }
    }
    for w in seq.windows(2) {
        let (prev, next) = (w[0], w[1]);
        if !tasks[next]
            .dependencies
            .iter()
            .any(|d| d.id.trim_start_matches(crate::deps::BARE_NUMBER) == ids[prev])
            && parent_of(&ids[prev]).as_deref() != Some(ids[next].as_str())
        {
            let d = dep(&ids[prev], &tasks[next], DepKind::Sequencing);
            tasks[next].dependencies.push(d);
        }
    }
    tasks
}
