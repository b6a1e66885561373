//! planpipe backlogs: execution-backlog.md (`### Wave N`, `### ST-1: title`, Change Area and
//! Dependencies tables, Boundaries, Completion Criteria), subtasks/ folders and raw numbered lists.

use std::path::Path;

use super::common::{heading_tasks, plan_title};
use crate::deps::parse_graph_line;
use crate::markdown::{Doc, Kind};
use crate::model::{DepKind, Dependency, Plan, Span};
use crate::sections::read_sections;

/// Read a backlog (or raw list) document into `plan`. Returns the variant name.
pub fn parse(doc: &Doc, plan: &mut Plan) -> &'static str {
    plan.title = plan_title(doc);
    let mut in_task = vec![false; doc.blocks.len()];
    heading_tasks(doc, plan, true, &mut in_task);
    let raw = !plan.tasks.is_empty()
        && plan
            .tasks
            .iter()
            .all(|t| t.id.chars().all(|c| c.is_ascii_digit() || c == '.'));
    read_graph_sections(doc, plan, &in_task, false);
    read_sections(doc, plan, &in_task);
    if raw {
        "raw-list"
    } else {
        "backlog"
    }
}

/// Dependency graph sections outside tasks (`## Dependencies`, `## Execution order`): arrows,
/// chains and "X [and Y] depend(s) on Z" lines, fenced or not. `prose` marks the edges as read
/// from running text (an unknown id is then a warning, not an error).
pub fn read_graph_sections(doc: &Doc, plan: &mut Plan, in_task: &[bool], prose: bool) {
    let mut in_graph: Option<u8> = None;
    let mut edges = Vec::new();
    for (i, b) in doc.blocks.iter().enumerate() {
        if let Some(level) = b.heading_level() {
            if in_graph.is_some_and(|l| level <= l) {
                in_graph = None;
            }
            let l = b.text.to_lowercase();
            if !in_task[i]
                && (l.contains("dependency graph")
                    || l.contains("dependencies")
                    || l.contains("execution order"))
            {
                in_graph = Some(in_graph.map_or(level, |l: u8| l.min(level)));
            }
            continue;
        }
        if in_graph.is_none() || in_task[i] {
            continue;
        }
        match b.kind {
            Kind::Code { .. } => {
                for (k, line) in b.text.lines().enumerate() {
                    let off = b.line_offsets.get(k).copied().unwrap_or(b.start);
                    for e in parse_graph_line(line) {
                        edges.push((e, doc.span(off), line.trim().to_string()));
                    }
                }
            }
            Kind::Para | Kind::Item { .. } => {
                for (line, off) in b.lines() {
                    for e in parse_graph_line(line) {
                        edges.push((e, doc.span(off), line.trim().to_string()));
                    }
                }
            }
            Kind::Table => {
                for (k, row) in b.rows.iter().enumerate().skip(1) {
                    let off = b.row_offsets.get(k).copied().unwrap_or(b.start);
                    for cell in row {
                        for e in parse_graph_line(cell) {
                            edges.push((e, doc.span(off), cell.trim().to_string()));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    add_edges_as(plan, edges, None, prose);
}

/// Read dependency-graph.md beside a subtasks/ folder: every line, fenced or not.
pub fn read_graph_file(path: &Path, plan: &mut Plan) -> Result<(), crate::PlanError> {
    let src = crate::markdown::Source::read(path)?;
    let mut edges = Vec::new();
    for (i, line) in src.text.lines().enumerate() {
        for e in parse_graph_line(line) {
            edges.push((
                e,
                Span {
                    line: i as u32 + 1,
                    column: 1,
                    offset: 0,
                },
                line.trim().to_string(),
            ));
        }
    }
    add_edges(plan, edges, Some(path));
    Ok(())
}

type Edge = ((String, String, Option<DepKind>), Span, String);

fn add_edges(plan: &mut Plan, edges: Vec<Edge>, file: Option<&Path>) {
    add_edges_as(plan, edges, file, false)
}

fn add_edges_as(plan: &mut Plan, edges: Vec<Edge>, file: Option<&Path>, prose: bool) {
    for ((before, after, kind), span, quote) in edges {
        // a digitless word-hyphen-word (`read-only`) is an id only if a task has it
        if crate::ids::scan_id(&before).is_none() && !plan.tasks.iter().any(|t| t.id == before) {
            continue;
        }
        let file = Some(
            file.map(Path::to_path_buf)
                .unwrap_or_else(|| plan.source.clone()),
        );
        if let Some(t) = plan.tasks.iter_mut().find(|t| t.id == after) {
            // an arrow without a kind agrees with whatever kind the task states; in a prose
            // plan (spec-kit) an edge stated in words is more than the edge order gave
            let kind = match kind {
                Some(k) => k,
                None => {
                    if let Some(x) = t.dependencies.iter_mut().find(|x| x.id == before) {
                        if prose && x.kind == DepKind::Sequencing {
                            x.kind = DepKind::Blocking;
                        }
                        continue;
                    }
                    DepKind::Blocking
                }
            };
            let d = Dependency {
                id: before,
                kind,
                span,
                file,
                quote: quote.into(),
                prose,
            };
            // the same edge stated with the same kind elsewhere adds nothing
            if !t
                .dependencies
                .iter()
                .any(|x| x.id == d.id && x.kind == d.kind)
            {
                t.dependencies.push(d);
            }
        }
    }
}
