//! The implementer's prompt: the task as the plan states it, the plan's constraints
//! and tolerances, the seeds' implementer rules and report format, and the last cycle's findings.

use planexec_pdk::{Finding, ImplementRequest, Severity};
use std::fmt::Write as _;

/// The seeds' implementer rules, said to every agent.
pub const RULES: &str = "\
You are an implementation agent. Implement this single task exactly as specified: nothing more, \
nothing less.
- Do not redesign, expand the scope or improvise beyond what the task says. If the task or the \
plan looks wrong, say so under Notes instead of working around it.
- Change only what the task needs; leave the out-of-scope items and other tasks' work alone.
- Do not commit, stash, reset, rebase or switch branches: planexec commits the task once its \
gates and reviews pass. Do not touch `.git/`.
- Run the acceptance commands yourself before you finish.";

/// The report every agent must end with; planexec compares it with the real diff.
pub const REPORT_FORMAT: &str = "\
When you finish, end your reply with this report (planexec checks it against the real changes):

## Files changed

| File | Action | Description |
|---|---|---|
| path/to/file | modified/created/deleted | what was changed and why |

## Criteria

| # | Criterion | Status | Evidence |
|---|---|---|---|
| 1 | criterion text | met / not met | how it was verified |

## Notes

Anything the orchestrator should know: design problems, undocumented dependencies, risks.";

/// Longest plan section copied into the prompt.
const MAX_SECTION: usize = 4000;

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::Important => "important",
        Severity::Minor => "minor",
        Severity::Info => "info",
    }
}

/// `[severity] rule path:line: message`.
pub fn finding_line(f: &Finding) -> String {
    let mut s = format!("[{}]", severity(f.severity));
    if !f.rule.is_empty() {
        let _ = write!(s, " {}", f.rule);
    }
    if let Some(p) = &f.path {
        let _ = write!(s, " {p}");
        if let Some(l) = f.line {
            let _ = write!(s, ":{l}");
        }
    }
    // A multi-line message (an assertion's diff) stays under its item.
    let msg: Vec<&str> = f
        .message
        .trim()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let _ = write!(s, ": {}", msg.join("\n  "));
    s
}

fn section(out: &mut String, title: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n## {title}\n");
    for i in items {
        let _ = writeln!(out, "- {}", i.trim());
    }
}

fn heading(line: &str) -> Option<(usize, String)> {
    let t = line.trim_start();
    let level = t.chars().take_while(|c| *c == '#').count();
    (level > 0 && t[level..].starts_with(' ')).then(|| (level, t[level..].trim().to_lowercase()))
}

/// The body of the plan's first section whose heading starts with `name`
/// (`## Constraints`, `## Tolerances (exception triggers)`), cut at `MAX_SECTION`.
pub fn plan_section(plan: &str, name: &str) -> Option<String> {
    let mut body: Option<(usize, String)> = None;
    for line in plan.lines() {
        match (&mut body, heading(line)) {
            (None, Some((lvl, h))) if h.starts_with(name) => body = Some((lvl, String::new())),
            (Some((lvl, _)), Some((l, _))) if l <= *lvl => break,
            (Some((_, b)), _) => {
                b.push_str(line);
                b.push('\n');
            }
            _ => {}
        }
    }
    let text = body?.1.trim().to_string();
    if text.is_empty() {
        return None;
    }
    Some(match text.char_indices().nth(MAX_SECTION) {
        Some((i, _)) => format!("{}\n[…cut; read the plan for the rest]", &text[..i]),
        None => text,
    })
}

/// The prompt for `req`; `plan_text` is the plan file (for its constraints and tolerances).
pub fn build_prompt(
    req: &ImplementRequest,
    plan_text: Option<&str>,
    extra: Option<&str>,
) -> String {
    let t = &req.task;
    let mut p = String::new();
    let _ = writeln!(p, "# Task {}: {}\n", t.id, t.title.trim());
    let _ = writeln!(
        p,
        "This is one task of the implementation plan `{}`, in the repository in the current \
         directory.\n\n{RULES}",
        req.plan_path
    );
    if req.cycle > 1 {
        let _ = writeln!(
            p,
            "\nThis is rework cycle {}: the previous attempt was rejected and its changes are \
             still in the work tree. Fix what the feedback below says; keep the parts that were fine.",
            req.cycle
        );
    }
    if !t.summary.trim().is_empty() {
        let _ = writeln!(p, "\n## Summary\n\n{}", t.summary.trim());
    }
    if !t.body.trim().is_empty() {
        let _ = writeln!(p, "\n## Details\n\n{}", t.body.trim());
    }
    section(&mut p, "Steps", &t.steps);
    section(&mut p, "Files to change", &t.files);
    section(&mut p, "Out of scope (do not touch)", &t.out_of_scope);
    section(&mut p, "Acceptance criteria", &t.acceptance);
    section(
        &mut p,
        "Acceptance commands (must pass)",
        &t.acceptance_commands,
    );
    for (name, title, given) in [
        (
            "constraints",
            "Constraints (from the plan)",
            &req.constraints,
        ),
        (
            "tolerances",
            "Tolerances (from the plan: a breach stops the task)",
            &req.tolerances,
        ),
    ] {
        // The host's reading of the plan when it sends one; else the plan's own section.
        if !given.is_empty() {
            section(&mut p, title, given);
        } else if let Some(s) = plan_text.and_then(|pl| plan_section(pl, name)) {
            let _ = writeln!(p, "\n## {title}\n\n{s}");
        }
    }
    feedback(&mut p, req);
    if let Some(x) = extra.filter(|x| !x.trim().is_empty()) {
        let _ = writeln!(p, "\n## Instructions\n\n{}", x.trim());
    }
    let _ = writeln!(p, "\n## Report\n\n{REPORT_FORMAT}");
    p
}

fn feedback(p: &mut String, req: &ImplementRequest) {
    if req.feedback.is_empty() && req.feedback_text.trim().is_empty() {
        return;
    }
    let _ = writeln!(p, "\n## Findings of the previous attempt (fix every one)\n");
    for f in &req.feedback {
        let _ = writeln!(p, "- {}", finding_line(f));
    }
    // The engine's text may repeat the findings: keep only the items none of them says.
    let firsts: Vec<&str> = req
        .feedback
        .iter()
        .filter_map(|f| f.message.trim().lines().next())
        .filter(|l| !l.trim().is_empty())
        .collect();
    let mut rest = Vec::new();
    let mut repeated = false;
    for line in req.feedback_text.trim().lines() {
        if line.starts_with("- ") || !line.starts_with(' ') {
            repeated = firsts.iter().any(|m| line.contains(m));
        }
        if !repeated && !line.trim().is_empty() {
            rest.push(line);
        }
    }
    if !rest.is_empty() {
        let _ = writeln!(p, "\n{}", rest.join("\n"));
    }
}
