//! Rendering `planexec check` results: human text ending with the waves and counts,
//! or one JSON document holding the whole model (documented in docs/plan-json.md).

use std::fmt::Write;

use serde::Serialize;

use crate::diagnostic::{Diagnostic, Severity};
use crate::model::Plan;
use crate::waves::waves;

/// The text `planexec check` prints.
pub fn render_check_human(plan: &Plan, diags: &[Diagnostic]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "plan: {} ({}, {}): {}",
        plan.source.display(),
        plan.dialect,
        plan.variant,
        plan.title
    );
    if let Some(r) = &plan.reading {
        let _ = writeln!(s, "reading: {r}");
    }
    for d in diags {
        let _ = writeln!(s, "{d}");
    }
    let errors = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = diags.len() - errors;
    if !diags.is_empty() {
        s.push('\n');
    }
    let wave_count = match waves(plan) {
        Ok(w) => {
            let _ = writeln!(s, "execution waves:");
            for (i, ids) in w.iter().enumerate() {
                let _ = writeln!(s, "  wave {}: {}", i + 1, ids.join(", "));
            }
            w.len().to_string()
        }
        Err(e) => {
            let _ = writeln!(s, "execution waves: none ({e})");
            "-".to_string()
        }
    };
    let done = plan.tasks.iter().filter(|t| t.done).count();
    let _ = writeln!(
        s,
        "{} tasks ({} done), {} milestones, {} waves, {} final gates: {} error{}, {} warning{}",
        plan.tasks.len(),
        done,
        plan.milestones.len(),
        wave_count,
        plan.final_gates.len(),
        errors,
        if errors == 1 { "" } else { "s" },
        warnings,
        if warnings == 1 { "" } else { "s" }
    );
    s
}

#[derive(Serialize)]
struct Report<'a> {
    schema: &'static str,
    plan: &'a Plan,
    waves: Option<Vec<Vec<String>>>,
    diagnostics: &'a [Diagnostic],
    summary: Summary,
}

#[derive(Serialize)]
struct Summary {
    tasks: usize,
    done: usize,
    waves: Option<usize>,
    errors: usize,
    warnings: usize,
    ok: bool,
}

/// The JSON `planexec check --format json` prints (schema `planexec.check/1`).
pub fn render_check_json(plan: &Plan, diags: &[Diagnostic]) -> String {
    let w = waves(plan).ok();
    let errors = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let report = Report {
        schema: "planexec.check/1",
        plan,
        summary: Summary {
            tasks: plan.tasks.len(),
            done: plan.tasks.iter().filter(|t| t.done).count(),
            waves: w.as_ref().map(Vec::len),
            errors,
            warnings: diags.len() - errors,
            ok: errors == 0,
        },
        waves: w,
        diagnostics: diags,
    };
    serde_json::to_string_pretty(&report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}
