//! The log's YAML front matter, exactly as the seed of its location has it: seed 000's
//! for `memory-bank/execute/` (and any other place), seed 001's for `.artifacts/execute/`.

use planexec_pdk::record::RunRecord;
use reportkit::{md, time};

/// Which seed's template a log follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// Seed 000 (plan-executor): title, phase, date, owner, plan_path, start_commit,
    /// end_commit, env {target, notes}.
    MemoryBank,
    /// Seed 001 (execute-phase): title, link, type, ontological_relations, tags, uuid,
    /// created_at, owner, plan_path, start_commit, end_commit, env {target, notes}.
    Artifacts,
}

impl Template {
    /// By the log's workspace-relative path.
    pub fn for_path(path: &str) -> Self {
        if path.trim_start_matches("./").starts_with(".artifacts/") {
            Template::Artifacts
        } else {
            Template::MemoryBank
        }
    }
}

/// Who ran it and where, from the formatter's config.
pub struct Env<'a> {
    pub owner: &'a str,
    pub target: &'a str,
}

/// `2026-11-22T10:00:00.123Z` -> `2026-11-22T10:00:00Z`.
fn stamp(s: &str) -> String {
    time::whole_seconds(s).replacen(' ', "T", 1)
}

/// The plan's link for `relates_to`: its file name without `.md`.
fn plan_link(rec: &RunRecord) -> String {
    let file = rec.plan.path.rsplit('/').next().unwrap_or(&rec.plan.path);
    file.strip_suffix(".md").unwrap_or(file).to_string()
}

fn env_notes(rec: &RunRecord) -> String {
    rec.env
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The front matter, `---` to `---`, then a blank line.
pub fn render(o: &mut String, rec: &RunRecord, template: Template, env: &Env<'_>) {
    let topic = &rec.plan.topic;
    let y = md::yaml_str;
    let mut lines: Vec<String> = Vec::new();
    match template {
        Template::MemoryBank => {
            lines.push(format!("title: {}", y(&format!("{topic} – Execution Log"))));
            lines.push("phase: Execute".into());
            lines.push(format!("date: {}", y(&stamp(&rec.started_at))));
        }
        Template::Artifacts => {
            lines.push(format!("title: {}", y(&format!("{topic} execution log"))));
            lines.push(format!("link: {}", y(&format!("{topic}-execute"))));
            lines.push("type: debug_history".into());
            lines.push("ontological_relations:".into());
            lines.push(format!("  - relates_to: [[{}]]", y(&plan_link(rec))));
            lines.push(format!("tags: [execute, {}]", y(topic)));
            lines.push(format!("uuid: {}", y(&rec.run_id)));
            lines.push(format!("created_at: {}", y(&stamp(&rec.started_at))));
        }
    }
    lines.push(format!("owner: {}", y(env.owner)));
    lines.push(format!("plan_path: {}", y(&rec.plan.path)));
    lines.push(format!("start_commit: {}", y(&rec.preflight.start_commit)));
    lines.push(format!(
        "end_commit: {}",
        y(rec.end_commit.as_deref().unwrap_or(""))
    ));
    lines.push(format!(
        "env: {{target: {}, notes: {}}}",
        y(env.target),
        y(&env_notes(rec))
    ));
    o.push_str("---\n");
    for l in lines {
        o.push_str(&l);
        o.push('\n');
    }
    o.push_str("---\n\n");
}
