//! The plan's dependency graph drawn as text: Mermaid flowcharts (GitHub renders them)
//! and Graphviz DOT, tasks grouped by wave, edge kinds and done tasks told apart.

use crate::model::{DepKind, Plan};
use crate::waves::{waves, CycleError};
use std::collections::HashMap;

/// Why one task is drawn after another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKind {
    /// A blocking or sequencing dependency the plan states.
    Explicit,
    /// A soft dependency: nice to have first, does not order waves.
    Soft,
    /// A `shared` dependency: never at once.
    Shared,
    /// No stated dependency, but the declared files overlap.
    Files,
}

impl EdgeKind {
    pub fn name(self) -> &'static str {
        match self {
            EdgeKind::Explicit => "explicit",
            EdgeKind::Soft => "soft",
            EdgeKind::Shared => "shared",
            EdgeKind::Files => "files",
        }
    }
}

/// An edge between two tasks, by index into `plan.tasks`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
    pub kind: EdgeKind,
}

/// The tasks by wave (indices into `plan.tasks`) and the edges between them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graph {
    pub waves: Vec<Vec<usize>>,
    pub edges: Vec<Edge>,
}

/// The plan's graph: its waves, stated dependencies, and overlaps of declared files.
pub fn graph(plan: &Plan) -> Result<Graph, CycleError> {
    let index: HashMap<&str, usize> = plan
        .tasks
        .iter()
        .enumerate()
        .rev()
        .map(|(i, t)| (t.id.as_str(), i))
        .collect();
    let waves = waves(plan)?
        .iter()
        .map(|w| {
            w.iter()
                .filter_map(|id| index.get(id.as_str()).copied())
                .collect()
        })
        .collect();
    let mut edges = Vec::new();
    for (to, t) in plan.tasks.iter().enumerate() {
        for d in &t.dependencies {
            let Some(&from) = index.get(d.id.as_str()) else {
                continue;
            };
            let kind = match d.kind {
                DepKind::Blocking | DepKind::Sequencing => EdgeKind::Explicit,
                DepKind::Soft => EdgeKind::Soft,
                DepKind::Shared => EdgeKind::Shared,
            };
            if from != to && !edges.iter().any(|e: &Edge| e.from == from && e.to == to) {
                edges.push(Edge { from, to, kind });
            }
        }
    }
    edges.extend(file_overlaps(plan, &edges));
    Ok(Graph { waves, edges })
}

/// Pairs of tasks whose declared files overlap (a path, or a folder above it), with no edge yet.
fn file_overlaps(plan: &Plan, edges: &[Edge]) -> Vec<Edge> {
    let linked = |a: usize, b: usize| {
        edges
            .iter()
            .any(|e| (e.from == a && e.to == b) || (e.from == b && e.to == a))
    };
    let mut out = Vec::new();
    for (b, tb) in plan.tasks.iter().enumerate() {
        for (a, ta) in plan.tasks.iter().enumerate().take(b) {
            let overlap = ta
                .files
                .iter()
                .any(|x| tb.files.iter().any(|y| overlaps(x, y)));
            if overlap && !linked(a, b) {
                out.push(Edge {
                    from: a,
                    to: b,
                    kind: EdgeKind::Files,
                });
            }
        }
    }
    out
}

fn overlaps(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim_end_matches('/'), b.trim_end_matches('/'));
    a == b || b.starts_with(&format!("{a}/")) || a.starts_with(&format!("{b}/"))
}

/// A Mermaid flowchart: a subgraph per wave, done tasks in the `done` class.
pub fn mermaid(plan: &Plan) -> Result<String, CycleError> {
    let g = graph(plan)?;
    let mut out = String::from("flowchart TD\n");
    for (w, tasks) in g.waves.iter().enumerate() {
        out.push_str(&format!("  subgraph w{} [\"Wave {}\"]\n", w + 1, w + 1));
        for &i in tasks {
            let t = &plan.tasks[i];
            let label = mermaid_text(&format!("{}: {}", t.id, t.title));
            out.push_str(&format!("    t{i}[\"{label}\"]\n"));
        }
        out.push_str("  end\n");
    }
    for e in &g.edges {
        let arrow = match e.kind {
            EdgeKind::Explicit => "-->".to_string(),
            EdgeKind::Soft => "-.->|soft|".to_string(),
            EdgeKind::Shared => "<-.->|shared|".to_string(),
            EdgeKind::Files => "-.-|files|".to_string(),
        };
        out.push_str(&format!("  t{} {arrow} t{}\n", e.from, e.to));
    }
    out.push_str("  classDef done fill:#d4edda,stroke:#2e7d32\n");
    let done: Vec<String> = (0..plan.tasks.len())
        .filter(|&i| plan.tasks[i].done)
        .map(|i| format!("t{i}"))
        .collect();
    if !done.is_empty() {
        out.push_str(&format!("  class {} done\n", done.join(",")));
    }
    Ok(out)
}

/// Text safe inside a quoted Mermaid label: quotes, markup and entity starts as `#code;`.
pub fn mermaid_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' | '<' | '>' | '&' | '#' | '`' | '[' | ']' | '{' | '}' | '|' | '\\' => {
                out.push_str(&format!("#{};", c as u32))
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A Graphviz DOT digraph: a cluster per wave, edges styled by kind, done tasks filled.
pub fn dot(plan: &Plan) -> Result<String, CycleError> {
    let g = graph(plan)?;
    let mut out = format!(
        "digraph plan {{\n  label=\"{}\";\n  rankdir=LR;\n  node [shape=box, style=rounded];\n",
        dot_text(&plan.title)
    );
    for (w, tasks) in g.waves.iter().enumerate() {
        out.push_str(&format!(
            "  subgraph cluster_w{n} {{\n    label=\"Wave {n}\";\n",
            n = w + 1
        ));
        for &i in tasks {
            let t = &plan.tasks[i];
            let fill = if t.done {
                ", style=\"rounded,filled\", fillcolor=\"#d4edda\""
            } else {
                ""
            };
            let label = dot_text(&format!("{}\n{}", t.id, t.title));
            out.push_str(&format!("    t{i} [label=\"{label}\"{fill}];\n"));
        }
        out.push_str("  }\n");
    }
    for e in &g.edges {
        let style = match e.kind {
            EdgeKind::Explicit => "",
            EdgeKind::Soft => " [style=dashed, label=\"soft\"]",
            EdgeKind::Shared => " [style=dotted, dir=both, label=\"shared\"]",
            EdgeKind::Files => " [style=dotted, dir=none, color=gray, label=\"files\"]",
        };
        out.push_str(&format!("  t{} -> t{}{style};\n", e.from, e.to));
    }
    out.push_str("}\n");
    Ok(out)
}

/// Text safe inside a DOT double-quoted string: backslash and quote escaped, newlines as `\n`.
pub fn dot_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: &str = "# Plan \"x\" <b>\n\n## T001 – Base <script>\nFiles: src/a.rs\n\n\
        ## T002 – Next\nDependencies: T001\nFiles: src/b.rs\n\n## T003 – Side\nFiles: src/a.rs\n";

    #[test]
    fn edges_have_kinds_and_waves_group_tasks() {
        let p = crate::parse_str("plan.md", PLAN, None).unwrap();
        let g = graph(&p).unwrap();
        assert_eq!(g.waves, vec![vec![0, 2], vec![1]]);
        let kinds: Vec<_> = g.edges.iter().map(|e| (e.from, e.to, e.kind)).collect();
        assert_eq!(kinds, [(0, 1, EdgeKind::Explicit), (0, 2, EdgeKind::Files)]);
    }

    #[test]
    fn labels_are_escaped() {
        let p = crate::parse_str("plan.md", PLAN, None).unwrap();
        let m = mermaid(&p).unwrap();
        assert!(
            m.contains("subgraph w1 [\"Wave 1\"]") && m.contains("t0 --> t1"),
            "{m}"
        );
        assert!(
            !m.contains("<script>") && m.contains("#60;script#62;"),
            "{m}"
        );
        let d = dot(&p).unwrap();
        assert!(d.contains("label=\"Plan \\\"x\\\" <b>\""), "{d}");
        assert!(d.contains("t0 -> t2 [style=dotted"), "{d}");
        assert_eq!(dot_text("a\\\"\n"), "a\\\\\\\"\\n");
    }
}
