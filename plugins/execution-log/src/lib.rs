//! The `execution-log` formatter: the run's ONE execution log, as the seeds'
//! template has it (front matter, pre-flight, tasks, gates, issues, next steps).
//!
//! Config: `path` (the log's workspace-relative path the host chose; default
//! `execution-log.md`), `evidence_lines` (tail of gate evidence shown, default 15),
//! `owner` and `target` (the front matter's `owner` and `env.target`; default empty and
//! `local`). Deterministic: every time it prints comes from the record, in whole seconds.

mod front;
mod graph;
mod issues;

pub use front::Template;

use planexec_pdk::record::{
    Cycle, GateRun, Outcome, ReviewOutcome, ReviewRun, RunRecord, RunStatus, TaskRecord, TaskStatus,
};
use planexec_pdk::{Artifact, Formatter};
use reportkit::{md, time};

pub const DEFAULT_PATH: &str = "execution-log.md";

#[derive(serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Config {
    path: String,
    evidence_lines: usize,
    owner: String,
    target: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            path: DEFAULT_PATH.into(),
            evidence_lines: 15,
            owner: String::new(),
            target: "local".into(),
        }
    }
}

pub struct ExecutionLog;

impl Formatter for ExecutionLog {
    fn render(config: serde_json::Value, record: RunRecord) -> Result<Vec<Artifact>, String> {
        let cfg: Config = planexec_pdk::config(&config)?;
        reportkit::check_artifact_path(&cfg.path)?;
        let template = Template::for_path(record.log_path.as_deref().unwrap_or(&cfg.path));
        let env = front::Env {
            owner: &cfg.owner,
            target: &cfg.target,
        };
        let text = render_log(&record, cfg.evidence_lines, template, &env);
        Ok(vec![Artifact {
            path: cfg.path,
            content: text.into_bytes(),
        }])
    }
}

planexec_pdk::formatter_component!(ExecutionLog);

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn check(b: bool) -> &'static str {
    if b {
        "[x]"
    } else {
        "[ ]"
    }
}

/// How the seeds name a task's status in the log.
fn status_word(s: TaskStatus) -> &'static str {
    match s {
        TaskStatus::Done => "completed",
        TaskStatus::Blocked => "blocked",
        TaskStatus::Skipped => "skipped (handed back with --skip)",
        TaskStatus::Pending => "not started (pending)",
        TaskStatus::Ready => "not started (ready)",
        TaskStatus::InProgress => "in progress",
        TaskStatus::InReview => "in review",
        TaskStatus::Rework => "in rework",
    }
}

/// The whole log as markdown.
fn render_log(
    rec: &RunRecord,
    evidence_lines: usize,
    template: Template,
    env: &front::Env<'_>,
) -> String {
    let mut o = String::new();
    front::render(&mut o, rec, template, env);
    o.push_str(&format!(
        "# {} – Execution Log\n\n",
        md::text(&rec.plan.title)
    ));
    preflight(&mut o, rec);
    o.push_str("## Task Execution\n\n");
    graph::render(&mut o, rec);
    if rec.tasks.is_empty() {
        o.push_str("No tasks in the plan.\n\n");
    }
    for t in &rec.tasks {
        task(&mut o, t, evidence_lines);
    }
    gate_results(&mut o, rec, evidence_lines);
    issues::render(&mut o, rec);
    success_criteria(&mut o, rec);
    next_steps(&mut o, rec);
    o
}

fn preflight(o: &mut String, rec: &RunRecord) {
    let p = &rec.preflight;
    let ready = p.checks.iter().all(|c| c.ok);
    o.push_str("## Pre-Flight Checks\n\n");
    o.push_str(&format!("- Branch: {}\n", md::code(&p.branch)));
    o.push_str(&format!("- HEAD: {}\n", md::code(&p.head)));
    o.push_str(&format!("- Dirty: {}\n", yes_no(p.dirty)));
    match &p.rollback_commit {
        Some(c) => o.push_str(&format!("- Rollback commit: {}\n", md::code(c))),
        None => o.push_str("- Rollback commit: none (the tree was clean)\n"),
    }
    o.push_str(&format!("- Start commit: {}\n", md::code(&p.start_commit)));
    o.push_str(&format!("- Ready: {}\n", yes_no(ready)));
    if !p.checks.is_empty() {
        o.push_str("- Checks:\n");
        for c in &p.checks {
            o.push_str(&format!(
                "  - {} {}: {}\n",
                check(c.ok),
                md::text(&c.name),
                md::text(&c.detail)
            ));
        }
    }
    if !ready {
        o.push_str("\n### Blockers\n\n");
        for c in p.checks.iter().filter(|c| !c.ok) {
            o.push_str(&format!(
                "- {}: {}\n",
                md::text(&c.name),
                md::text(&c.detail)
            ));
        }
    }
    o.push('\n');
}

fn gate_line(g: &GateRun) -> String {
    let r = &g.report;
    let mut extra = Vec::new();
    if let Some(c) = r.exit_code {
        extra.push(format!("exit {c}"));
    }
    if r.duration_ms > 0 {
        extra.push(time::human_ms(r.duration_ms));
    }
    let plugin = if g.plugin != g.name {
        format!(" (plugin {})", md::code(&g.plugin))
    } else {
        String::new()
    };
    let extra = if extra.is_empty() {
        String::new()
    } else {
        format!(" ({})", extra.join(", "))
    };
    format!(
        "{}{plugin} → {}: {}{extra}",
        md::code(&g.name),
        reportkit::outcome_str(r.outcome),
        md::text(&r.summary)
    )
}

/// Gate lines with evidence (for gates that did not pass) and findings, indented.
fn gates_block(o: &mut String, gates: &[GateRun], indent: &str, evidence_lines: usize) {
    for g in gates {
        o.push_str(&format!("{indent}- {}\n", gate_line(g)));
        let sub = format!("{indent}  ");
        if let Some(t) = g.report.tests {
            o.push_str(&format!("{sub}- Tests: {}\n", reportkit::tests_line(&t)));
        }
        if let Some(c) = g.report.coverage_percent {
            o.push_str(&format!("{sub}- Coverage: {c:.1}%\n"));
        }
        for f in &g.report.failures {
            let at = match (&f.path, f.line) {
                (Some(p), Some(l)) => format!(" at {}", md::code(&format!("{p}:{l}"))),
                (Some(p), None) => format!(" at {}", md::code(p)),
                _ => String::new(),
            };
            o.push_str(&format!(
                "{sub}- Failed test {}{at}: {}\n",
                md::code(&f.name),
                md::text(&f.message)
            ));
        }
        findings_list(o, &g.report.findings, &sub);
        let ev = g.report.evidence.trim();
        if g.report.outcome != Outcome::Passed && !ev.is_empty() && evidence_lines > 0 {
            o.push_str(&format!(
                "{sub}- Evidence (last {evidence_lines} lines):\n\n"
            ));
            o.push_str(&md::fenced(
                &md::tail(ev, evidence_lines),
                &format!("{sub}  "),
            ));
            o.push('\n');
        }
    }
}

fn finding_line(f: &planexec_pdk::Finding) -> String {
    let at = reportkit::location(f)
        .map(|l| format!(" {}", md::code(&l)))
        .unwrap_or_default();
    format!(
        "**{}** {}{at}: {}",
        reportkit::severity_str(f.severity),
        md::code(&f.rule),
        md::text(&f.message)
    )
}

fn findings_list(o: &mut String, fs: &[planexec_pdk::Finding], indent: &str) {
    for f in fs {
        o.push_str(&format!("{indent}- {}\n", finding_line(f)));
    }
}

fn review_block(o: &mut String, r: &ReviewRun) {
    let label = reportkit::review_kind_label(r.kind);
    let mut head = format!(
        "##### {}{} (`{}`) — {}\n\n",
        label[..1].to_uppercase(),
        &label[1..],
        r.plugin.replace('`', "'"),
        reportkit::review_outcome_str(r.outcome)
    );
    if r.outcome == ReviewOutcome::Errored {
        head.push_str(&format!(
            "The reviewer could not judge (never an approval): {}\n\n",
            md::text(r.error.as_deref().unwrap_or("no error recorded"))
        ));
    }
    o.push_str(&head);
    if let Some(v) = &r.review {
        if !v.summary.trim().is_empty() {
            o.push_str(&format!("{}\n\n", md::text(&v.summary)));
        }
        if !v.criteria.is_empty() {
            o.push_str("| Criterion | Score | Reasoning |\n|-----------|-------|-----------|\n");
            for c in &v.criteria {
                o.push_str(&format!(
                    "| {} | {} | {} |\n",
                    md::cell(&c.name),
                    reportkit::score_str(c.score),
                    md::cell(&c.reasoning)
                ));
            }
            o.push('\n');
        }
        if v.findings.is_empty() {
            o.push_str("Findings: none\n\n");
        } else {
            o.push_str("Findings:\n\n");
            findings_list(o, &v.findings, "");
            o.push('\n');
        }
    }
}

/// Why a cycle was rejected, one phrase per failing gate or review.
pub(crate) fn rejections(c: &Cycle) -> Vec<String> {
    let mut out = Vec::new();
    for g in &c.gates {
        if matches!(g.report.outcome, Outcome::Failed | Outcome::Errored) {
            out.push(format!(
                "gate {} {}: {}",
                md::code(&g.name),
                reportkit::outcome_str(g.report.outcome),
                md::text(&g.report.summary)
            ));
        }
    }
    for r in &c.reviews {
        if r.outcome != ReviewOutcome::Approved {
            let why = r.reason();
            out.push(format!(
                "{} {}: {}",
                reportkit::review_kind_label(r.kind),
                reportkit::review_outcome_str(r.outcome),
                md::text(why)
            ));
        }
    }
    out
}

fn task(o: &mut String, t: &TaskRecord, evidence_lines: usize) {
    o.push_str(&format!(
        "### {} – {}\n\n",
        md::text(&t.id),
        md::text(&t.title)
    ));
    o.push_str(&format!("- Status: {}\n", status_word(t.status)));
    o.push_str(&format!(
        "- Commit: {}\n",
        t.commit
            .as_deref()
            .map(md::code)
            .unwrap_or_else(|| "—".into())
    ));
    let files = reportkit::task_files(t);
    if files.is_empty() {
        o.push_str("- Files: —\n");
    } else {
        o.push_str(&format!(
            "- Files: {}\n",
            files
                .iter()
                .map(|f| md::code(f))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let last = reportkit::last_cycle(t);
    match last {
        None => o.push_str("- Commands: none run\n"),
        Some(c) => {
            if let Some(i) = &c.implementer {
                o.push_str(&format!(
                    "- Implementer: {} → {}: {}\n",
                    md::code(&i.plugin),
                    format!("{:?}", i.status).to_lowercase(),
                    md::text(&i.summary)
                ));
                if let Some(p) = &i.transcript_path {
                    o.push_str(&format!("- Transcript: {}\n", md::code(p)));
                }
            }
            if let Some(u) = usage_line(t) {
                o.push_str(&format!("- Cost: {u}\n"));
            }
            if let Some(u) = review_usage_line(t) {
                o.push_str(&format!("- Review cost: {u}\n"));
            }
            if c.gates.is_empty() {
                o.push_str("- Commands: no gates ran\n");
            } else {
                o.push_str(&format!("- Commands (cycle {}):\n", c.number));
                gates_block(o, &c.gates, "  ", evidence_lines);
            }
            match reportkit::sum_tests(&c.gates) {
                Some(tc) => o.push_str(&format!("- Tests: {}\n", reportkit::tests_line(&tc))),
                None => o.push_str("- Tests: no test counts reported\n"),
            }
            if let Some(cov) = reportkit::min_coverage(&c.gates) {
                o.push_str(&format!("- Coverage: {cov:.1}%\n"));
            }
        }
    }
    o.push_str(&format!(
        "- Cycles: {} ({} rework)\n",
        t.cycles.len(),
        reportkit::rework_rounds(t)
    ));
    if let (Some(s), Some(e)) = (&t.started_at, &t.finished_at) {
        let d = time::seconds_between(s, e)
            .map(|d| format!(" ({})", time::human_duration(d)))
            .unwrap_or_default();
        o.push_str(&format!(
            "- Time: {} → {}{d}\n",
            time::whole_seconds(s),
            time::whole_seconds(e)
        ));
    }
    o.push('\n');

    if let Some(c) = last {
        if !c.reviews.is_empty() {
            o.push_str(&format!("#### Reviews (cycle {})\n\n", c.number));
            for r in &c.reviews {
                review_block(o, r);
            }
        }
    }

    if !t.cycles.is_empty() {
        o.push_str("#### Cycles\n\n");
        for c in &t.cycles {
            let lines = format!(" (+{}/−{} lines)", c.added_lines, c.removed_lines);
            o.push_str(&format!(
                "- Cycle {} — {}: {}{}\n",
                c.number,
                reportkit::cycle_outcome_str(c.outcome),
                time::whole_seconds(&c.started_at),
                c.finished_at
                    .as_deref()
                    .map(|e| format!(" → {}", time::whole_seconds(e)))
                    .unwrap_or_default()
            ));
            if !c.files.is_empty() {
                o.push_str(&format!(
                    "  - Files: {}{lines}\n",
                    c.files
                        .iter()
                        .map(|f| md::code(f))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if !c.gates.is_empty() {
                let gs: Vec<String> = c
                    .gates
                    .iter()
                    .map(|g| {
                        format!(
                            "{} {}",
                            md::code(&g.name),
                            reportkit::outcome_str(g.report.outcome)
                        )
                    })
                    .collect();
                o.push_str(&format!("  - Gates: {}\n", gs.join(", ")));
            }
            if !c.reviews.is_empty() {
                let rs: Vec<String> = c
                    .reviews
                    .iter()
                    .map(|r| {
                        format!(
                            "{} {}",
                            reportkit::review_kind_label(r.kind),
                            reportkit::review_outcome_str(r.outcome)
                        )
                    })
                    .collect();
                o.push_str(&format!("  - Reviews: {}\n", rs.join(", ")));
            }
            if !c.feedback.is_empty() {
                o.push_str("  - Feedback to the next cycle:\n");
                findings_list(o, &c.feedback, "    ");
            }
        }
        o.push('\n');
    }

    // Notes: what the task required, what was produced, what was rejected and why.
    o.push_str("#### Notes\n\n");
    if !t.summary.trim().is_empty() {
        o.push_str(&format!("- Summary: {}\n", md::text(&t.summary)));
    }
    if !t.dependencies.is_empty() {
        o.push_str(&format!("- Depends on: {}\n", t.dependencies.join(", ")));
    }
    if t.acceptance.is_empty() {
        o.push_str("- Required: no acceptance criteria stated\n");
    } else {
        o.push_str("- Required (acceptance):\n");
        for a in &t.acceptance {
            o.push_str(&format!(
                "  - {} {}\n",
                check(t.status == TaskStatus::Done),
                md::text(a)
            ));
        }
    }
    if !t.planned_files.is_empty() {
        o.push_str(&format!(
            "- Planned files: {}\n",
            t.planned_files
                .iter()
                .map(|f| md::code(f))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let out_of_plan: Vec<&str> = files
        .iter()
        .copied()
        .filter(|f| !t.planned_files.is_empty() && !t.planned_files.iter().any(|p| p == f))
        .collect();
    if files.is_empty() {
        o.push_str("- Produced: nothing yet\n");
    } else {
        o.push_str(&format!("- Produced: {} file(s) changed", files.len()));
        if !out_of_plan.is_empty() {
            o.push_str(&format!(
                "; outside the planned files: {}",
                out_of_plan
                    .iter()
                    .map(|f| md::code(f))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        o.push('\n');
    }
    let rejected: Vec<(u32, Vec<String>)> = t
        .cycles
        .iter()
        .map(|c| (c.number, rejections(c)))
        .filter(|(_, r)| !r.is_empty())
        .collect();
    if !rejected.is_empty() {
        o.push_str("- Rejected:\n");
        for (n, rs) in rejected {
            for r in rs {
                o.push_str(&format!("  - cycle {n}: {r}\n"));
            }
        }
    }
    if let Some(reason) = &t.blocked_reason {
        o.push_str(&format!("- Blocked reason: {}\n", md::text(reason)));
    }
    o.push('\n');
}

fn gate_results(o: &mut String, rec: &RunRecord, evidence_lines: usize) {
    o.push_str("## Gate Results\n\n");
    if rec.final_gates.is_empty() {
        let why = match rec.status {
            RunStatus::Blocked | RunStatus::Waiting | RunStatus::Running | RunStatus::Escalated => {
                " (the run stopped before them)"
            }
            _ => "",
        };
        o.push_str(&format!("- Final gates: none ran{why}\n\n"));
        return;
    }
    match reportkit::sum_tests(&rec.final_gates) {
        Some(t) => o.push_str(&format!("- Tests: {}\n", reportkit::tests_line(&t))),
        None => o.push_str("- Tests: no test counts reported\n"),
    }
    if let Some(c) = reportkit::min_coverage(&rec.final_gates) {
        o.push_str(&format!("- Coverage: {c:.1}%\n"));
    }
    let passed = rec
        .final_gates
        .iter()
        .filter(|g| g.report.outcome == Outcome::Passed)
        .count();
    o.push_str(&format!(
        "- Gates passed: {passed}/{}\n",
        rec.final_gates.len()
    ));
    let nf: usize = rec
        .final_gates
        .iter()
        .map(|g| g.report.findings.len())
        .sum();
    o.push_str(&format!("- Findings: {nf}\n\n"));
    gates_block(o, &rec.final_gates, "", evidence_lines);
    o.push('\n');
}

fn success_criteria(o: &mut String, rec: &RunRecord) {
    let ok = rec.status == RunStatus::Success;
    o.push_str("## Success Criteria\n\n");
    for c in &rec.plan.success_criteria {
        o.push_str(&format!("- {} {}\n", check(ok), md::text(c)));
    }
    let done = rec
        .tasks
        .iter()
        .filter(|t| t.status == TaskStatus::Done)
        .count();
    let gates_ok = !rec.final_gates.is_empty()
        && rec
            .final_gates
            .iter()
            .all(|g| matches!(g.report.outcome, Outcome::Passed | Outcome::Skipped));
    o.push_str(&format!(
        "- {} All tasks done ({done}/{})\n",
        check(done == rec.tasks.len()),
        rec.tasks.len()
    ));
    o.push_str(&format!("- {} All planned gates passed\n", check(gates_ok)));
    o.push_str("- [x] Execution log saved\n\n");
}

fn next_steps(o: &mut String, rec: &RunRecord) {
    o.push_str("## Next Steps\n\n");
    let plan = md::code(&rec.plan.path);
    let resume = md::code(&format!("planexec run {} --resume", rec.plan.path));
    match rec.status {
        RunStatus::Success => {
            let log = rec.log_path.as_deref().unwrap_or("<this log>");
            o.push_str(&format!(
                "- [ ] Review the task commits {}..{}\n",
                md::code(&rec.preflight.start_commit),
                md::code(rec.end_commit.as_deref().unwrap_or("HEAD"))
            ));
            o.push_str(&format!(
                "- [ ] QA from this execution log: {}\n",
                md::code(log)
            ));
        }
        RunStatus::Blocked => {
            for t in rec.tasks.iter().filter(|t| t.status == TaskStatus::Blocked) {
                o.push_str(&format!(
                    "- [ ] Resolve {}: {}\n",
                    md::text(&t.id),
                    md::text(
                        t.blocked_reason
                            .as_deref()
                            .unwrap_or("see the task's notes")
                    )
                ));
            }
            o.push_str(&format!("- [ ] Then continue: {resume}\n"));
        }
        RunStatus::Waiting => {
            for t in &rec.tasks {
                let waiting = t
                    .cycles
                    .last()
                    .is_some_and(|c| c.outcome == planexec_pdk::record::CycleOutcome::Waiting);
                if waiting {
                    let what = t
                        .cycles
                        .last()
                        .and_then(|c| c.implementer.as_ref())
                        .map(|i| i.summary.as_str())
                        .unwrap_or("");
                    o.push_str(&format!(
                        "- [ ] Implement {} – {}: {}\n",
                        md::text(&t.id),
                        md::text(&t.title),
                        md::text(what)
                    ));
                }
            }
            o.push_str(&format!("- [ ] Then continue: {resume}\n"));
        }
        RunStatus::Failure => {
            for g in rec
                .final_gates
                .iter()
                .filter(|g| matches!(g.report.outcome, Outcome::Failed | Outcome::Errored))
            {
                o.push_str(&format!(
                    "- [ ] Fix final gate {}: {}\n",
                    md::code(&g.name),
                    md::text(&g.report.summary)
                ));
            }
            o.push_str(&format!("- [ ] Then re-run the final gates: {resume}\n"));
            o.push_str(&format!(
                "- Rolling back to {} needs your confirmation; nothing was reset.\n",
                md::code(&rec.preflight.start_commit)
            ));
        }
        RunStatus::Escalated => {
            for i in rec
                .issues
                .iter()
                .filter(|i| i.resolution.starts_with("escalated"))
            {
                o.push_str(&format!("- [ ] Budget spent: {}\n", md::text(&i.issue)));
            }
            let raise = md::code(&format!(
                "planexec run {} --resume --budget cost=N",
                rec.plan.path
            ));
            o.push_str(&format!(
                "- [ ] Raise the budget deliberately to continue: {raise}\n"
            ));
        }
        RunStatus::Running => {
            o.push_str(&format!("- The run of {plan} is in progress; this log is rewritten after every state change.\n"));
        }
    }
}

/// The implementer's cost summed over the task's cycles, when it reported any:
/// `$0.0420, 3100 in / 820 out tokens, 7 turns over 2 cycles`.
fn usage_line(t: &TaskRecord) -> Option<String> {
    let runs: Vec<&planexec_pdk::Usage> = t
        .cycles
        .iter()
        .filter_map(|c| c.implementer.as_ref()?.usage.as_ref())
        .collect();
    summed(&runs, "cycle")
}

/// The agent reviewers' cost summed over the task's reviews (WIT 0.4.0), when any
/// reported it: `$1.5000, 1 turns over 1 review`.
fn review_usage_line(t: &TaskRecord) -> Option<String> {
    let runs: Vec<&planexec_pdk::Usage> = t
        .cycles
        .iter()
        .flat_map(|c| &c.reviews)
        .filter_map(|r| r.usage.as_ref())
        .collect();
    summed(&runs, "review")
}

/// `runs` added up, with how many `unit`s they came from.
fn summed(runs: &[&planexec_pdk::Usage], unit: &str) -> Option<String> {
    if runs.is_empty() {
        return None;
    }
    let sum_f = |f: fn(&planexec_pdk::Usage) -> Option<f64>| {
        runs.iter().filter_map(|u| f(u)).reduce(|a, b| a + b)
    };
    let sum_u = |f: fn(&planexec_pdk::Usage) -> Option<u64>| {
        runs.iter().filter_map(|u| f(u)).reduce(|a, b| a + b)
    };
    let mut parts = Vec::new();
    if let Some(c) = sum_f(|u| u.cost_usd) {
        parts.push(format!("${c:.4}"));
    }
    match (sum_u(|u| u.input_tokens), sum_u(|u| u.output_tokens)) {
        (Some(i), Some(o)) => parts.push(format!("{i} in / {o} out tokens")),
        (Some(i), None) => parts.push(format!("{i} tokens in")),
        (None, Some(o)) => parts.push(format!("{o} tokens out")),
        _ => {}
    }
    if let Some(n) = sum_u(|u| u.turns.map(u64::from)) {
        parts.push(format!("{n} turns"));
    }
    if parts.is_empty() {
        return None;
    }
    let n = runs.len();
    let s = if n == 1 { "" } else { "s" };
    Some(format!("{} over {n} {unit}{s}", parts.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reportkit::fixtures;
    use serde_json::json;

    fn render(rec: RunRecord) -> String {
        let a = ExecutionLog::render(json!({}), rec).unwrap();
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].path, DEFAULT_PATH);
        String::from_utf8(a[0].content.clone()).unwrap()
    }

    #[test]
    fn agent_cost_and_transcript_are_in_the_task_section() {
        let mut rec = fixtures::successful_run();
        let t = &mut rec.tasks[0];
        let cycle = t.cycles.last_mut().unwrap();
        let imp = cycle.implementer.as_mut().unwrap();
        imp.usage = Some(planexec_pdk::Usage {
            cost_usd: Some(0.0125),
            input_tokens: Some(1200),
            output_tokens: Some(300),
            turns: Some(4),
        });
        imp.transcript_path = Some(".git/planexec/transcripts/r1/T001-cycle1.log".into());
        let s = render(rec);
        assert!(
            s.contains("- Cost: $0.0125, 1200 in / 300 out tokens, 4 turns over 1 cycle\n"),
            "{s}"
        );
        assert!(
            s.contains("- Transcript: `.git/planexec/transcripts/r1/T001-cycle1.log`\n"),
            "{s}"
        );
        assert!(!render(fixtures::successful_run()).contains("- Cost:"));
    }

    #[test]
    fn agent_reviewers_cost_is_in_the_task_section() {
        let mut rec = fixtures::successful_run();
        let cycle = rec.tasks[0].cycles.last_mut().unwrap();
        for (rv, cost) in cycle.reviews.iter_mut().zip([0.5, 1.0]) {
            rv.usage = Some(planexec_pdk::Usage {
                cost_usd: Some(cost),
                input_tokens: Some(100),
                output_tokens: Some(20),
                turns: Some(1),
            });
        }
        let n = cycle.reviews.len();
        assert_eq!(n, 2, "the fixture's task and code review");
        let s = render(rec);
        assert!(
            s.contains("- Review cost: $1.5000, 200 in / 40 out tokens, 2 turns over 2 reviews\n"),
            "{s}"
        );
        assert!(!render(fixtures::successful_run()).contains("- Review cost:"));
    }

    const HEADINGS: [&str; 7] = [
        "## Pre-Flight Checks",
        "## Task Execution",
        "## Gate Results",
        "## Issues & Resolutions",
        "## Success Criteria",
        "## Next Steps",
        "### T001 – Token model",
    ];

    #[test]
    fn successful_run_has_template_sections_and_front_matter() {
        let s = render(fixtures::successful_run());
        for h in HEADINGS {
            assert!(s.contains(h), "missing {h}\n{s}");
        }
        let fm = front_matter(&s);
        assert_eq!(keys(&fm), SEED_000_KEYS, "{fm:?}");
        assert_eq!(fm["title"].as_str(), Some("auth – Execution Log"));
        assert_eq!(fm["phase"].as_str(), Some("Execute"));
        assert_eq!(fm["date"].as_str(), Some("2026-11-22T10:00:00Z"));
        assert_eq!(fm["end_commit"].as_str(), Some("bbb2222"));
        assert_eq!(fm["env"]["target"].as_str(), Some("local"));
        assert!(fm["env"]["notes"].as_str().unwrap().contains("os linux"));
        assert!(s.contains("- Branch: `feature/auth`\n"));
        assert!(s.contains("- Dirty: yes\n- Rollback commit: `9f8e7d6`\n"));
        assert!(s.contains("  - [x] plan check: 3 tasks, no errors\n"));
        assert!(s.contains("- Status: completed\n- Commit: `aaa1111`\n- Files: `src/auth/tokens.py`, `tests/auth/test_tokens.py`\n"));
        assert!(s.contains("  - `pytest` → passed: 12 passed (exit 0, 420 ms)\n"));
        assert!(s.contains("- Tests: 12/12 passed (0 failed, 0 skipped, 0 errored)\n"));
        assert!(s.contains("| Criterion | Score | Reasoning |"));
        assert!(s.contains("| Security | PASS | Security: verified |"));
        assert!(s.contains("- Tests: 42/42 passed (0 failed, 0 skipped, 0 errored)\n- Coverage: 87.5%\n- Gates passed: 3/3\n"));
        assert!(s.contains("- [x] Tokens expire after 15 minutes\n"));
        assert!(s.contains("- [x] All planned gates passed\n"));
        assert!(s.contains("## Issues & Resolutions\n\n- None\n"));
        assert!(s.contains(
            "- [ ] QA from this execution log: `memory-bank/execute/2026-11-22_10-00-00_auth.md`"
        ));
    }

    #[test]
    fn blocked_run_shows_cycles_findings_and_resume() {
        let s = render(fixtures::blocked_run());
        for h in HEADINGS {
            assert!(s.contains(h), "missing {h}");
        }
        assert_eq!(front_matter(&s)["end_commit"].as_str(), Some("aaa1111"));
        assert!(s.contains("- Rollback commit: none (the tree was clean)\n"));
        // T002: blocked, three cycles, the code review's table and findings.
        let t2 = &s[s.find("### T002").unwrap()..s.find("### T003").unwrap()];
        assert!(t2.contains("- Status: blocked\n- Commit: —\n"));
        assert!(t2.contains("- Cycles: 3 (2 rework)\n"));
        assert!(t2.contains("#### Reviews (cycle 3)"));
        assert!(t2.contains("##### Code review (`llm-review`) — changes requested"));
        assert!(t2.contains("| Security | FAIL | Security: not met, see findings |"));
        assert!(t2.contains("- **critical** `code-review/injection` `src/auth/refresh.py:42`: SQL built with f-string: "));
        assert!(t2.contains("\\<unsafe> & \"quoted\" | piped"));
        assert!(t2.contains("- Cycle 1 — rework: 2026-11-22 10:15:00Z → 2026-11-22 10:19:00Z\n"));
        assert!(t2.contains(
            "  - Feedback to the next cycle:\n    - **critical** `code-review/injection`"
        ));
        assert!(t2.contains(
            "  - cycle 3: code review changes requested: SQL injection in refresh lookup.\n"
        ));
        assert!(t2.contains("- Blocked reason: rework limit reached: 3 failed cycles\n"));
        // T001: reworked once; the failing gate's evidence is in the cycle notes.
        let t1 = &s[s.find("### T001").unwrap()..s.find("### T002").unwrap()];
        assert!(t1.contains("- Cycles: 2 (1 rework)\n"));
        assert!(t1.contains("  - cycle 1: gate `pytest` failed: 1 failed, 11 passed\n"));
        assert!(
            t1.contains("  - cycle 1: task review changes requested: Expiry criterion not met.\n")
        );
        let t3 = &s[s.find("### T003").unwrap()..];
        assert!(t3.contains("- Status: not started (pending)\n"));
        assert!(t3.contains("- Commands: none run\n"));
        assert!(s.contains("- Final gates: none ran (the run stopped before them)\n"));
        assert!(s.contains("- T002 – code review rejected the refresh lookup three times (SQL injection) → stopped at the rework limit; asked the user\n"));
        assert!(s.contains("- [ ] Tokens expire after 15 minutes\n"));
        assert!(s.contains("- [ ] Resolve T002: rework limit reached: 3 failed cycles\n"));
        assert!(s.contains(
            "- [ ] Then continue: `planexec run memory-bank/plan/2026-11-22_auth.md --resume`\n"
        ));
    }

    /// The keys of seed 000's two front-matter templates (memory-bank/execute/).
    const SEED_000_KEYS: [&str; 8] = [
        "date",
        "end_commit",
        "env",
        "owner",
        "phase",
        "plan_path",
        "start_commit",
        "title",
    ];
    /// The keys of seed 001's two templates (.artifacts/execute/).
    const SEED_001_KEYS: [&str; 12] = [
        "created_at",
        "end_commit",
        "env",
        "link",
        "ontological_relations",
        "owner",
        "plan_path",
        "start_commit",
        "tags",
        "title",
        "type",
        "uuid",
    ];

    fn front_matter(log: &str) -> serde_yaml::Value {
        let yaml = log
            .strip_prefix("---\n")
            .and_then(|r| r.split_once("\n---\n"))
            .map(|(fm, _)| fm)
            .expect("front matter between --- lines");
        serde_yaml::from_str(yaml).unwrap_or_else(|e| panic!("not YAML: {e}\n{yaml}"))
    }

    fn keys(v: &serde_yaml::Value) -> Vec<String> {
        let mut k: Vec<String> = v
            .as_mapping()
            .unwrap()
            .keys()
            .map(|k| k.as_str().unwrap().to_string())
            .collect();
        k.sort();
        k
    }

    #[test]
    fn artifacts_log_carries_seed_001_front_matter() {
        let mut rec = fixtures::blocked_run();
        rec.log_path = Some(".artifacts/execute/2026-11-22_10-00-00_auth.md".into());
        let cfg = json!({ "owner": "ada", "target": "staging" });
        let a = ExecutionLog::render(cfg, rec).unwrap();
        let fm = front_matter(std::str::from_utf8(&a[0].content).unwrap());
        assert_eq!(keys(&fm), SEED_001_KEYS, "{fm:?}");
        assert_eq!(fm["type"].as_str(), Some("debug_history"));
        assert_eq!(fm["owner"].as_str(), Some("ada"));
        assert_eq!(fm["env"]["target"].as_str(), Some("staging"));
        let rel = &fm["ontological_relations"][0]["relates_to"][0][0];
        assert_eq!(rel.as_str(), Some("2026-11-22_auth"));
        assert_eq!(fm["tags"][1].as_str(), Some("auth"));
        assert_eq!(fm["created_at"].as_str(), Some("2026-11-22T10:00:00Z"));
    }

    #[test]
    fn no_html_entities_and_gfm_renders_the_text_back() {
        use pulldown_cmark::{Event, Options, Parser};
        for rec in [
            fixtures::successful_run(),
            fixtures::blocked_run(),
            fixtures::errored_review_run(),
            fixtures::failed_final_gate_run(),
            fixtures::implementer_failed_run(),
            fixtures::secret_fixed_run(),
        ] {
            let mut rec = rec;
            rec.issues.push(planexec_pdk::record::Issue {
                task: None,
                issue: "a -> b & <c>".into(),
                resolution: "kept &amp; went on".into(),
            });
            let s = render(rec);
            // An `&` the input had before a name is written `\&`: text, not an entity.
            let unescaped = s.replace("\\&", "");
            for e in ["&gt;", "&lt;", "&amp;", "&quot;", "&#"] {
                assert!(!unescaped.contains(e), "{e} in the log:\n{s}");
            }
            let text: String = Parser::new_ext(&s, Options::all())
                .filter_map(|e| match e {
                    Event::Text(t) | Event::Code(t) => Some(t.into_string()),
                    _ => None,
                })
                .collect();
            assert!(text.contains("a -> b & <c>"), "{text}");
            assert!(text.contains("kept &amp; went on"), "{text}");
        }
    }

    #[test]
    fn timestamps_in_whole_seconds() {
        let mut rec = fixtures::blocked_run();
        rec.started_at = "2026-11-22T10:00:00.123456789Z".into();
        rec.tasks[0].started_at = Some("2026-11-22T10:01:00.987654321Z".into());
        rec.tasks[0].cycles[0].started_at = "2026-11-22T10:01:00.5Z".into();
        let s = render(rec);
        assert!(!s.contains(".123456789") && !s.contains(".987654321") && !s.contains(":00.5Z"));
        assert_eq!(
            front_matter(&s)["date"].as_str(),
            Some("2026-11-22T10:00:00Z")
        );
        assert!(s.contains("- Cycle 1 — rework: 2026-11-22 10:01:00Z → "));
    }

    #[test]
    fn issues_list_every_entry_rejected_cycle_and_block() {
        let mut rec = fixtures::blocked_run();
        rec.issues.push(planexec_pdk::record::Issue {
            task: None,
            issue: "the user committed `notes.txt` mid-run".into(),
            resolution: "left it out of T002's files".into(),
        });
        let s = render(rec);
        let sec =
            &s[s.find("## Issues & Resolutions").unwrap()..s.find("## Success Criteria").unwrap()];
        assert!(sec.contains("- T002 – code review rejected the refresh lookup three times (SQL injection) → stopped at the rework limit; asked the user\n"));
        assert!(sec
            .contains("- the user committed `notes.txt` mid-run → left it out of T002's files\n"));
        assert!(sec.contains("- T001 – cycle 1 rejected: gate `pytest` failed: 1 failed, 11 passed; task review changes requested: Expiry criterion not met. → reworked in cycle 2\n"), "{sec}");
        for n in 1..=2 {
            assert!(sec.contains(&format!("- T002 – cycle {n} rejected: code review changes requested: SQL injection in refresh lookup. → reworked in cycle {}\n", n + 1)), "{sec}");
        }
        assert!(sec.contains("- T002 – cycle 3 rejected: code review changes requested: SQL injection in refresh lookup. → task blocked\n"));
        assert!(sec.contains("- T002 – blocked: rework limit reached: 3 failed cycles → run stopped; asked the user\n"));
        assert!(!sec.contains("- None"));
        let f = render(fixtures::implementer_failed_run());
        assert!(f.contains("- T002 – cycle 4 rejected: implementer `patch`: patch failed: src/auth/refresh.py:42 → task blocked\n"), "{f}");
    }

    /// Issue 25: the engine records each rejected cycle and the block as issues too; the
    /// section lists each once (the cycle's line, and the block with how to go on).
    #[test]
    fn a_rejected_cycle_and_a_block_the_engine_recorded_are_listed_once() {
        let mut rec = fixtures::blocked_run();
        let reason = rec.tasks[1].blocked_reason.clone().unwrap();
        for n in 1..=3 {
            rec.issues.push(planexec_pdk::record::Issue {
                task: Some("T002".into()),
                issue: format!("T002 cycle {n} rejected: [code-review/verdict] SQL injection"),
                resolution: "sent back to the implementer with the findings".into(),
            });
        }
        rec.issues.push(planexec_pdk::record::Issue {
            task: Some("T002".into()),
            issue: reason.clone(),
            resolution:
                "blocked: the run stopped to ask; fix the cause, then `planexec run PLAN --resume`"
                    .into(),
        });
        let s = render(rec);
        let sec =
            &s[s.find("## Issues & Resolutions").unwrap()..s.find("## Success Criteria").unwrap()];
        for n in 1..=3 {
            assert_eq!(
                sec.matches(&format!("T002 – cycle {n} rejected")).count(),
                1,
                "{sec}"
            );
            assert!(!sec.contains(&format!("T002 cycle {n} rejected")), "{sec}");
        }
        assert_eq!(sec.matches("rework limit reached").count(), 1, "{sec}");
        assert!(sec.contains("--resume"), "{sec}");
    }

    #[test]
    fn errored_review_and_failed_gate() {
        let s = render(fixtures::errored_review_run());
        assert!(s.contains("##### Task review (`llm-review`) — errored"));
        assert!(s.contains(
            "The reviewer could not judge (never an approval): reviewer timed out after 300s"
        ));
        assert!(s.contains("- T001 – blocked: task review errored: reviewer timed out after 300s → run stopped; asked the user\n"));
        let f = render(fixtures::failed_final_gate_run());
        assert!(f.contains("- `mypy` → failed: Found 1 error in 1 file (exit 1, 1.5 s)\n"));
        assert!(f.contains("  - **important** `mypy/arg-type` `src/auth/refresh.py:17`:"));
        assert!(f.contains(
            "  - Evidence (last 15 lines):\n\n    ```text\n    Found 1 error in 1 file\n    ```\n"
        ));
        assert!(f.contains("- [ ] Fix final gate `mypy`: Found 1 error in 1 file\n"));
        assert!(f.contains("- Gates passed: 2/3\n"));
    }

    #[test]
    fn config_path_and_determinism() {
        let rec = fixtures::blocked_run();
        let cfg = json!({"path": "memory-bank/execute/2026-11-22_10-00-00_auth.md"});
        let a = ExecutionLog::render(cfg.clone(), rec.clone()).unwrap();
        let b = ExecutionLog::render(cfg, rec.clone()).unwrap();
        assert_eq!(a, b);
        assert_eq!(a[0].path, "memory-bank/execute/2026-11-22_10-00-00_auth.md");
        assert!(ExecutionLog::render(json!({"path": "../x.md"}), rec.clone()).is_err());
        assert!(ExecutionLog::render(json!({"paht": "x.md"}), rec).is_err());
        let running = render(fixtures::running_run());
        assert!(running.contains("- Status: in review\n"));
        assert!(running.contains("is in progress; this log is rewritten"));
    }
}

#[cfg(test)]
mod dump {
    /// `DUMP_LOG=1 cargo test -p execution-log dump -- --nocapture` prints the samples.
    #[test]
    fn dump() {
        if std::env::var_os("DUMP_LOG").is_some() {
            let env = super::front::Env {
                owner: "",
                target: "local",
            };
            let rec = reportkit::fixtures::blocked_run();
            let t = super::Template::MemoryBank;
            println!("{}", super::render_log(&rec, 15, t, &env));
        }
    }
}
