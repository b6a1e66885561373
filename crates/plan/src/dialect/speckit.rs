//! spec-kit task lists: `- [ ] T001 [P] [US1] Description in path/to/file.py` under phase headings.
//! `[P]` marks a task parallel-safe; phase order and unmarked tasks give sequencing dependencies.

use super::common::{add_task, plan_title};
use crate::deps::parse_dep_text;
use crate::fields::{commands_in_text, looks_path};
use crate::ids::scan_id;
use crate::markdown::{plain, Doc, Kind};
use crate::model::{DepKind, Dependency, Plan, Task};
use crate::sections::{parse_milestone_heading, read_sections};

/// The paths a checklist line names, read from its source lines (so `__init__.py` survives).
fn item_files(
    doc: &Doc,
    b: &crate::markdown::Block,
    notes: &mut Vec<crate::diagnostic::Diagnostic>,
) -> Vec<String> {
    let raw: Vec<&str> = b
        .line_offsets
        .iter()
        .map(|&o| doc.src.line_text(doc.span(o).line).trim())
        .collect();
    let raw = raw.join(" ");
    let mut out = Vec::new();
    for f in crate::fields::paths_in_source(&raw) {
        if let Some(w) = f.warning {
            notes.push(crate::diagnostic::Diagnostic::new(
                crate::diagnostic::Severity::Warning,
                "file-name",
                w,
                &doc.src.path,
                doc.span(b.start),
                &doc.quote(b.start),
            ));
        }
        let name = f.name.trim_end_matches('.').to_string();
        if looks_path(&name) && !alternatives(&name) {
            out.push(name);
        }
    }
    out
}

/// In running prose, `FastAPI/Express`, `unit/widget/integration` or `@scope/pkg` are
/// alternatives or package names, not paths: a prose path has an extension or ends with `/`.
fn alternatives(name: &str) -> bool {
    let last = name.rsplit('/').next().unwrap_or(name);
    name.contains('/') && !name.ends_with('/') && !last.contains(['.', '{', '*'])
}

/// Labelled fields nested under the task's line (`  - Files: ...`, `  - Acceptance: `cmd``,
/// `  - Depends on: T001`), read as the other readers read them; its line's own stay first.
fn nested_fields(doc: &Doc, bi: usize, task: &mut Task) {
    let end = super::outline::item_end(doc, bi, true);
    if end > bi + 1 {
        let c = crate::fields::collect(doc, bi + 1, end);
        super::common::apply(doc, &c, task);
        task.body = doc.source_of(bi, end).to_string();
    }
}

/// Read a spec-kit tasks.md into `plan`.
pub fn parse(doc: &Doc, plan: &mut Plan) {
    plan.title = plan_title(doc);
    let mut in_task = vec![false; doc.blocks.len()];
    let mut phase: Option<String> = None;
    let mut phase_tasks: Vec<Vec<usize>> = vec![Vec::new()];
    let mut phase_accept: Vec<Vec<String>> = vec![Vec::new()];
    // sequencing: `barrier` must finish before the next task; `group` is the current run of [P] tasks
    let mut barrier: Vec<usize> = Vec::new();
    let mut group: Vec<usize> = Vec::new();
    for (bi, b) in doc.blocks.iter().enumerate() {
        match b.kind {
            Kind::Heading(_) => {
                if let Some((id, title)) = parse_milestone_heading(&b.text) {
                    phase = Some(if title.is_empty() {
                        id
                    } else {
                        format!("{id}: {title}")
                    });
                    phase_tasks.push(Vec::new());
                    phase_accept.push(Vec::new());
                    if !group.is_empty() {
                        barrier = std::mem::take(&mut group);
                    }
                }
            }
            Kind::Para | Kind::Item { checked: None, .. } => {
                for (line, _) in b.lines() {
                    let l = line.trim_start().trim_start_matches("**").to_lowercase();
                    if l.starts_with("checkpoint") || l.starts_with("independent test") {
                        let text = plain(line);
                        let text = text
                            .split_once(':')
                            .map_or(text.as_str(), |(_, v)| v)
                            .trim()
                            .to_string();
                        if !text.is_empty() {
                            phase_accept.last_mut().unwrap().push(text);
                        }
                    }
                }
            }
            Kind::Item { .. } if b.task_box().is_some() => {
                // `[~]` in a task list is work under way (a partial stub), not done
                let partial = b.text.trim_start().starts_with("[~]");
                let done = b.task_box().is_some_and(|(d, _)| d) && !partial;
                let text = plain(&b.text);
                let text = text
                    .trim_start()
                    .strip_prefix("[~]")
                    .or_else(|| text.trim_start().strip_prefix("[-]"))
                    .map_or(text.as_str(), str::trim_start)
                    .to_string();
                let Some(n) = scan_id(&text) else { continue };
                // a metric or priority token (`P95 latency under 2 s`) is no task id
                if crate::ids::is_non_task_id(&text[..n]) {
                    continue;
                }
                let id = text[..n].to_string();
                let mut rest = text[n..].trim_start();
                let mut parallel = false;
                let mut tags = Vec::new();
                while let Some(r) = rest.strip_prefix('[') {
                    let Some(close) = r.find(']') else { break };
                    let tag = &r[..close];
                    if tag.eq_ignore_ascii_case("p") {
                        parallel = true;
                    } else {
                        tags.push(tag.to_string());
                    }
                    rest = r[close + 1..].trim_start();
                }
                let title = rest
                    .trim_start_matches([':', '-', '–', '—'])
                    .trim()
                    .to_string();
                let span = doc.span(b.start);
                let mut notes = Vec::new();
                let files = item_files(doc, b, &mut notes);
                let mut task = Task {
                    origin: "a spec-kit checklist line with an id",
                    id,
                    title: title.clone(),
                    summary: title.clone(),
                    body: doc.source_of(bi, bi + 1).to_string(),
                    parallel,
                    done,
                    files,
                    milestone: tags
                        .iter()
                        .find(|t| t.starts_with("US"))
                        .cloned()
                        .or_else(|| phase.clone()),
                    tags,
                    source: doc.src.path.clone(),
                    span,
                    line: span.line,
                    notes,
                    ..Task::default()
                };
                for rest in crate::deps::inline_dep_texts(&title) {
                    {
                        for (d, kind) in parse_dep_text(rest, DepKind::Blocking) {
                            if !d.starts_with('#') && !d.starts_with('@') {
                                task.dependencies.push(Dependency {
                                    id: d,
                                    kind,
                                    span,
                                    file: None,
                                    quote: doc.quote(b.start).into(),
                                    prose: true,
                                });
                            }
                        }
                    }
                }
                task.acceptance_commands.extend(commands_in_text(&b.text));
                nested_fields(doc, bi, &mut task);
                in_task[bi] = true;
                let idx = plan.tasks.len();
                let before = plan.tasks.len();
                add_task(plan, task, doc.quote(b.start));
                if plan.tasks.len() == before {
                    continue; // duplicate id
                }
                // members of a [P] group already follow the barrier, so what follows the group needs only the group
                let preds: Vec<usize> = if parallel || group.is_empty() {
                    barrier.clone()
                } else {
                    group.clone()
                };
                for p in preds {
                    let pid = plan.tasks[p].id.clone();
                    let t = &mut plan.tasks[idx];
                    if !t.dependencies.iter().any(|d| d.id == pid) {
                        t.dependencies.push(Dependency {
                            id: pid,
                            kind: DepKind::Sequencing,
                            span,
                            file: None,
                            quote: doc.quote(b.start).into(),
                            prose: false,
                        });
                    }
                }
                if parallel {
                    group.push(idx);
                } else {
                    barrier = vec![idx];
                    group.clear();
                }
                phase_tasks.last_mut().unwrap().push(idx);
            }
            _ => {}
        }
    }
    for (p, idxs) in phase_tasks.iter().enumerate() {
        for &i in idxs {
            if plan.tasks[i].acceptance.is_empty() {
                plan.tasks[i].acceptance = phase_accept[p].clone();
            }
        }
    }
    super::planpipe::read_graph_sections(doc, plan, &in_task, true);
    read_sections(doc, plan, &in_task);
}
