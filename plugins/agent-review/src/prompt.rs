//! The reviewer prompt: the seeds' Task Reviewer or Code Reviewer definition, then
//! the inputs (task spec, constraints, changed files, gate results, diff).

use planexec_pdk::{Outcome, ReviewKind, ReviewRequest};
use std::fmt::Write;

const TASK: &str = include_str!("../prompts/task-reviewer.md");
const CODE: &str = include_str!("../prompts/code-reviewer.md");

fn bullets(out: &mut String, title: &str, items: &[String]) {
    let _ = writeln!(out, "\n### {title}\n");
    if items.is_empty() {
        let _ = writeln!(out, "(none)");
    }
    for i in items {
        let _ = writeln!(out, "- {i}");
    }
}

pub fn build(req: &ReviewRequest, max_diff: usize, instructions: &str) -> String {
    let t = &req.task;
    let def = if req.kind == ReviewKind::Task {
        TASK
    } else {
        CODE
    };
    let mut out = def
        .replace("{task_id}", &t.id)
        .replace("{task_title}", &t.title);
    let _ = writeln!(
        out,
        "\n---\n\n# Inputs\n\n## Subtask {} — {}\n",
        t.id, t.title
    );
    if !t.summary.is_empty() {
        let _ = writeln!(out, "{}\n", t.summary);
    }
    if !t.body.is_empty() {
        let _ = writeln!(out, "{}\n", t.body.trim());
    }
    bullets(&mut out, "Completion criteria", &t.acceptance);
    bullets(&mut out, "Acceptance commands", &t.acceptance_commands);
    bullets(
        &mut out,
        "Change area (files/modules the task may touch)",
        &t.files,
    );
    bullets(&mut out, "Out of scope", &t.out_of_scope);
    bullets(&mut out, "Steps", &t.steps);
    let deps: Vec<String> = t
        .dependencies
        .iter()
        .map(|d| format!("{} ({:?})", d.id, d.kind).to_lowercase())
        .collect();
    bullets(&mut out, "Dependencies", &deps);
    bullets(&mut out, "Plan constraints", &req.constraints);
    bullets(&mut out, "Files other subtasks own", &req.other_tasks_files);
    let changed: Vec<String> = req
        .changed_files
        .iter()
        .map(|c| {
            let kind = format!("{:?}", c.change).to_lowercase();
            if c.binary {
                format!("`{}` ({kind}, binary, {} bytes)", c.path, c.size)
            } else {
                format!(
                    "`{}` ({kind}, +{} -{})",
                    c.path, c.added_lines, c.removed_lines
                )
            }
        })
        .collect();
    bullets(&mut out, "Changed files", &changed);
    let gates: Vec<String> = req
        .gate_reports
        .iter()
        .map(|(name, r)| {
            let o = match r.outcome {
                Outcome::Passed => "passed",
                Outcome::Failed => "FAILED",
                Outcome::Errored => "ERRORED",
                Outcome::Skipped => "skipped",
            };
            let mut s = format!("`{name}`: {o} — {}", r.summary);
            if let Some(c) = r.tests {
                let _ = write!(
                    s,
                    " (tests: {} passed, {} failed, {} skipped, {} errored)",
                    c.passed, c.failed, c.skipped, c.errored
                );
            }
            for f in r.failures.iter().take(5) {
                let _ = write!(
                    s,
                    "\n  - failing: {} — {}",
                    f.name,
                    f.message.lines().next().unwrap_or("")
                );
            }
            s
        })
        .collect();
    bullets(&mut out, "Gate results", &gates);
    let diff = if req.diff.len() > max_diff {
        let mut cut = max_diff;
        while !req.diff.is_char_boundary(cut) {
            cut -= 1;
        }
        format!(
            "{}\n... (diff cut at {max_diff} of {} bytes; read the files in the workspace)",
            &req.diff[..cut],
            req.diff.len()
        )
    } else {
        req.diff.clone()
    };
    let fence = if diff.contains("```") { "~~~~" } else { "```" };
    let _ = writeln!(
        out,
        "\n### Diff\n\n{fence}diff\n{}\n{fence}",
        diff.trim_end()
    );
    if !instructions.trim().is_empty() {
        let _ = writeln!(out, "\n## Project guidance\n\n{}", instructions.trim());
    }
    out
}
