//! The `planpipe-status` formatter: planpipe stage 6's execution-status.md and,
//! once the run has finished, execution-summary.md, per the stage's templates.
//!
//! Config: `status_path` (default `execution-status.md`), `summary_path`
//! (default `execution-summary.md`), `recent` (how many completions to list, 10).

use std::collections::BTreeMap;

use planexec_pdk::record::{Outcome, ReviewOutcome, RunRecord, RunStatus, TaskRecord, TaskStatus};
use planexec_pdk::{Artifact, Formatter};
use reportkit::{md, time};

pub const STATUS_PATH: &str = "execution-status.md";
pub const SUMMARY_PATH: &str = "execution-summary.md";

#[derive(serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Config {
    status_path: String,
    summary_path: String,
    recent: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            status_path: STATUS_PATH.into(),
            summary_path: SUMMARY_PATH.into(),
            recent: 10,
        }
    }
}

pub struct PlanpipeStatus;

impl Formatter for PlanpipeStatus {
    fn render(config: serde_json::Value, record: RunRecord) -> Result<Vec<Artifact>, String> {
        let cfg: Config = planexec_pdk::config(&config)?;
        reportkit::check_artifact_path(&cfg.status_path)?;
        reportkit::check_artifact_path(&cfg.summary_path)?;
        let mut out = vec![Artifact {
            path: cfg.status_path.clone(),
            content: render_status(&record, cfg.recent).into_bytes(),
        }];
        if record.status != RunStatus::Running {
            out.push(Artifact {
                path: cfg.summary_path,
                content: render_summary(&record).into_bytes(),
            });
        }
        Ok(out)
    }
}

planexec_pdk::formatter_component!(PlanpipeStatus);

fn ids(ts: &[&TaskRecord]) -> String {
    if ts.is_empty() {
        "—".into()
    } else {
        ts.iter()
            .map(|t| md::cell(&t.id))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The Notes column: why blocked, the last rejection, or the commit.
fn note(t: &TaskRecord) -> String {
    if let Some(r) = &t.blocked_reason {
        return r.clone();
    }
    if let Some(c) = &t.commit {
        return format!("commit {c}");
    }
    if let Some(c) = t.cycles.last() {
        let rejected: Vec<String> = c
            .reviews
            .iter()
            .filter(|r| r.outcome != ReviewOutcome::Approved)
            .map(|r| {
                format!(
                    "{} {}",
                    reportkit::review_kind_label(r.kind),
                    reportkit::review_outcome_str(r.outcome)
                )
            })
            .chain(
                c.gates
                    .iter()
                    .filter(|g| matches!(g.report.outcome, Outcome::Failed | Outcome::Errored))
                    .map(|g| {
                        format!(
                            "gate {} {}",
                            g.name,
                            reportkit::outcome_str(g.report.outcome)
                        )
                    }),
            )
            .collect();
        if !rejected.is_empty() {
            return format!("cycle {}: {}", c.number, rejected.join("; "));
        }
    }
    String::new()
}

/// Dependents of `t` whose dependencies are all done now.
fn unblocked<'a>(rec: &'a RunRecord, t: &TaskRecord) -> Vec<&'a TaskRecord> {
    reportkit::dependents(rec, &t.id)
        .into_iter()
        .filter(|d| {
            d.dependencies.iter().all(|id| {
                rec.tasks
                    .iter()
                    .any(|x| &x.id == id && x.status == TaskStatus::Done)
            })
        })
        .collect()
}

fn escalation_lines(o: &mut String, rec: &RunRecord) -> usize {
    let mut n = 0;
    for t in rec.tasks.iter().filter(|t| t.status == TaskStatus::Blocked) {
        n += 1;
        o.push_str(&format!(
            "- **{}: {}** — escalated: {}\n",
            md::text(&t.id),
            md::text(&t.title),
            md::text(t.blocked_reason.as_deref().unwrap_or("blocked"))
        ));
        if !t.acceptance.is_empty() {
            o.push_str(&format!(
                "  - Requires: {}\n",
                md::text(&t.acceptance.join("; "))
            ));
        }
        let files = reportkit::task_files(t);
        o.push_str(&format!(
            "  - Produced: {}\n",
            if files.is_empty() {
                "no changes".to_string()
            } else {
                files
                    .iter()
                    .map(|f| md::code(f))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ));
        if let Some(c) = t.cycles.last() {
            for r in c
                .reviews
                .iter()
                .filter(|r| r.outcome != ReviewOutcome::Approved)
            {
                let why = r.reason();
                o.push_str(&format!(
                    "  - Rejected by the {} ({}): {}\n",
                    reportkit::review_kind_label(r.kind),
                    reportkit::review_outcome_str(r.outcome),
                    md::text(why)
                ));
                if let Some(v) = &r.review {
                    for f in v.findings.iter().filter(|f| severity_blocks(f.severity)) {
                        let at = reportkit::location(f)
                            .map(|l| format!(" {}", md::code(&l)))
                            .unwrap_or_default();
                        o.push_str(&format!(
                            "    - {} {}{at}: {}\n",
                            reportkit::severity_str(f.severity),
                            md::code(&f.rule),
                            md::text(&f.message)
                        ));
                    }
                }
            }
            for g in c
                .gates
                .iter()
                .filter(|g| matches!(g.report.outcome, Outcome::Failed | Outcome::Errored))
            {
                o.push_str(&format!(
                    "  - Gate {} {}: {}\n",
                    md::code(&g.name),
                    reportkit::outcome_str(g.report.outcome),
                    md::text(&g.report.summary)
                ));
            }
        }
        o.push_str(&format!(
            "  - Recommendation: resolve the above, then `planexec run {} --resume`\n",
            rec.plan.path.replace('`', "'")
        ));
    }
    if rec.status == RunStatus::Waiting {
        n += 1;
        o.push_str("- The implementer is waiting for a person or agent; continue with `--resume` when done.\n");
    }
    n
}

fn severity_blocks(s: planexec_pdk::Severity) -> bool {
    matches!(
        s,
        planexec_pdk::Severity::Critical | planexec_pdk::Severity::Important
    )
}

/// execution-status.md.
pub fn render_status(rec: &RunRecord, recent: usize) -> String {
    let mut o = String::from("# Execution Status\n\n");
    o.push_str(&format!("> Task: {}\n", md::text(&rec.plan.title)));
    o.push_str(&format!("> Total subtasks: {}\n", rec.tasks.len()));
    o.push_str(&format!("> Started: {}\n", rec.started_at));
    o.push_str(&format!(
        "> Last updated: {}\n",
        reportkit::last_timestamp(rec)
    ));
    o.push_str(&format!(
        "> Run: {} ({})\n\n",
        md::text(&rec.run_id),
        rec.status.as_str()
    ));

    o.push_str("## Current State\n\n");
    o.push_str("| ID | Title | Status | Wave | Review Cycles | Notes |\n");
    o.push_str("|----|-------|--------|------|---------------|-------|\n");
    for t in &rec.tasks {
        o.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            md::cell(&t.id),
            md::cell(&t.title),
            t.status.as_str(),
            t.wave.map(|w| w.to_string()).unwrap_or_else(|| "—".into()),
            reportkit::review_cycles(t),
            md::cell(&note(t))
        ));
    }

    o.push_str(
        "\n## Status Summary\n\n| Status | Count | Subtasks |\n|--------|-------|----------|\n",
    );
    // Skipped (`--skip`) is listed only when a task is: planpipe's templates have seven.
    let skipped = rec.tasks.iter().any(|t| t.status == TaskStatus::Skipped);
    let extra = skipped.then_some(TaskStatus::Skipped);
    for s in reportkit::STATUS_ORDER.into_iter().chain(extra) {
        let ts: Vec<&TaskRecord> = rec.tasks.iter().filter(|t| t.status == s).collect();
        o.push_str(&format!(
            "| {} | {} | {} |\n",
            s.as_str(),
            ts.len(),
            ids(&ts)
        ));
    }

    let active = rec
        .tasks
        .iter()
        .filter(|t| t.status != TaskStatus::Done)
        .filter_map(|t| t.wave)
        .min();
    match active {
        Some(w) => {
            let ts: Vec<&TaskRecord> = rec.tasks.iter().filter(|t| t.wave == Some(w)).collect();
            o.push_str(&format!("\n## Active Wave: {w} — Wave {w}\n"));
            for t in ts {
                o.push_str(&format!(
                    "- {}: {} ({})\n",
                    md::text(&t.id),
                    md::text(&t.title),
                    t.status.as_str()
                ));
            }
        }
        None => o.push_str("\n## Active Wave: — None\nNo wave is active.\n"),
    }

    o.push_str("\n## Recently Completed\n");
    let mut done: Vec<&TaskRecord> = rec
        .tasks
        .iter()
        .filter(|t| t.status == TaskStatus::Done)
        .collect();
    // Latest first; the id breaks ties so the order is stable.
    done.sort_by(|a, b| b.finished_at.cmp(&a.finished_at).then(a.id.cmp(&b.id)));
    if done.is_empty() {
        o.push_str("None\n");
    }
    for t in done.into_iter().take(recent) {
        let when = t
            .finished_at
            .as_deref()
            .map(|w| format!(" — completed {w}"))
            .unwrap_or_else(|| " — completed".into());
        let un = unblocked(rec, t);
        let un = if un.is_empty() {
            String::new()
        } else {
            format!(", unblocked: {}", ids(&un))
        };
        o.push_str(&format!(
            "- {}: {}{when}{un}\n",
            md::text(&t.id),
            md::text(&t.title)
        ));
    }

    o.push_str("\n## Blocked Items\n");
    let blocked: Vec<&TaskRecord> = rec
        .tasks
        .iter()
        .filter(|t| t.status == TaskStatus::Blocked)
        .collect();
    if blocked.is_empty() {
        o.push_str("None\n");
    }
    for t in &blocked {
        let waiting: Vec<&TaskRecord> = reportkit::dependents(rec, &t.id);
        let behind = if waiting.is_empty() {
            String::new()
        } else {
            format!(" Waiting on it: {}.", ids(&waiting))
        };
        o.push_str(&format!(
            "- {}: {} — {}. Unblocks when: the cause is resolved and the run resumes (`--resume`).{behind}\n",
            md::text(&t.id),
            md::text(&t.title),
            md::text(t.blocked_reason.as_deref().unwrap_or("no reason recorded"))
        ));
    }

    o.push_str("\n## Escalations\n");
    if escalation_lines(&mut o, rec) == 0 {
        o.push_str("None\n");
    }
    o
}

fn wave_groups(rec: &RunRecord) -> BTreeMap<Option<u32>, Vec<&TaskRecord>> {
    let mut m: BTreeMap<Option<u32>, Vec<&TaskRecord>> = BTreeMap::new();
    for t in &rec.tasks {
        m.entry(t.wave).or_default().push(t);
    }
    m
}

fn gates_matching(
    rec: &RunRecord,
    f: impl Fn(&planexec_pdk::record::GateRun) -> bool,
) -> Vec<&planexec_pdk::record::GateRun> {
    rec.final_gates.iter().filter(|g| f(g)).collect()
}

fn smoke_line(gs: &[&planexec_pdk::record::GateRun], none: &str) -> String {
    if gs.is_empty() {
        return none.into();
    }
    let pass = gs
        .iter()
        .all(|g| matches!(g.report.outcome, Outcome::Passed | Outcome::Skipped));
    let what: Vec<String> = gs
        .iter()
        .map(|g| {
            format!(
                "{} {}: {}",
                md::code(&g.name),
                reportkit::outcome_str(g.report.outcome),
                md::text(&g.report.summary)
            )
        })
        .collect();
    format!(
        "{} — {}",
        if pass { "pass" } else { "fail" },
        what.join("; ")
    )
}

/// execution-summary.md.
pub fn render_summary(rec: &RunRecord) -> String {
    let total = rec.tasks.len();
    let done = rec
        .tasks
        .iter()
        .filter(|t| t.status == TaskStatus::Done)
        .count();
    let review_cycles: u32 = rec.tasks.iter().map(reportkit::review_cycles).sum();
    let rework: u32 = rec.tasks.iter().map(reportkit::rework_rounds).sum();
    let mut esc = String::new();
    let escalations = escalation_lines(&mut esc, rec);
    let mut o = String::from("# Execution Summary\n\n");
    o.push_str(&format!("> Task: {}\n", md::text(&rec.plan.title)));
    o.push_str(&format!("> Total subtasks: {total}\n"));
    o.push_str(&format!(
        "> All completed: {}\n",
        if done == total {
            "yes".to_string()
        } else {
            format!("no ({done}/{total} done)")
        }
    ));
    o.push_str(&format!("> Total review cycles: {review_cycles}\n"));
    o.push_str(&format!("> Total rework rounds: {rework}\n"));
    o.push_str(&format!("> Escalations: {escalations}\n"));
    let end = rec
        .finished_at
        .as_deref()
        .unwrap_or_else(|| reportkit::last_timestamp(rec));
    let dur = time::seconds_between(&rec.started_at, end)
        .map(time::human_duration)
        .unwrap_or_else(|| "unknown".into());
    o.push_str(&format!(
        "> Duration: {dur} ({} → {end})\n\n",
        rec.started_at
    ));

    o.push_str("## Execution Overview\n");
    let first_pass = rec
        .tasks
        .iter()
        .filter(|t| t.status == TaskStatus::Done && t.cycles.len() == 1)
        .count();
    o.push_str(&format!(
        "Run {} ended {}: {done} of {total} subtasks done, {first_pass} on the first cycle, {rework} rework round(s) in all.",
        md::text(&rec.run_id),
        rec.status.as_str()
    ));
    let blocked: Vec<&TaskRecord> = rec
        .tasks
        .iter()
        .filter(|t| t.status == TaskStatus::Blocked)
        .collect();
    if !blocked.is_empty() {
        o.push_str(&format!(" Blocked: {}.", ids(&blocked)));
    }
    o.push_str("\n\n");

    o.push_str("## Final Smoke Test\n");
    let lname =
        |g: &planexec_pdk::record::GateRun| format!("{} {}", g.name, g.plugin).to_lowercase();
    let is_build = |g: &planexec_pdk::record::GateRun| {
        let n = lname(g);
        n.contains("build") || n.contains("compile")
    };
    let is_test =
        |g: &planexec_pdk::record::GateRun| g.report.tests.is_some() || lname(g).contains("test");
    let build = gates_matching(rec, |g| is_build(g));
    let tests = gates_matching(rec, |g| !is_build(g) && is_test(g));
    let lint = gates_matching(rec, |g| !is_build(g) && !is_test(g));
    let none = if rec.final_gates.is_empty() {
        "not run — the run stopped before the final gates"
    } else {
        "skipped — no such final gate configured"
    };
    o.push_str(&format!("- **Build:** {}\n", smoke_line(&build, none)));
    let mut tl = smoke_line(&tests, none);
    if let Some(t) = reportkit::sum_tests(tests.iter().copied()) {
        tl.push_str(&format!(" ({})", reportkit::tests_line(&t)));
    }
    o.push_str(&format!("- **Tests:** {tl}\n"));
    o.push_str(&format!("- **Linter:** {}\n", smoke_line(&lint, none)));
    o.push_str("- **Fix rounds:** 0 — planexec does not fix after the smoke test; a failing final gate stops the run\n\n");

    o.push_str("## Subtask Results\n\n| ID | Title | Review Cycles | Rework Rounds | Outcome |\n|----|-------|---------------|---------------|---------|\n");
    for t in &rec.tasks {
        o.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            md::cell(&t.id),
            md::cell(&t.title),
            reportkit::review_cycles(t),
            reportkit::rework_rounds(t),
            t.status.as_str()
        ));
    }

    o.push_str("\n## Acceptance Criteria Verification\n\n");
    if rec.plan.success_criteria.is_empty() {
        o.push_str("No formal acceptance criteria — verified through individual subtask completion criteria\n");
    } else {
        let met = rec.status == RunStatus::Success;
        o.push_str("| Criterion | Status | Verified By |\n|-----------|--------|-------------|\n");
        for c in &rec.plan.success_criteria {
            o.push_str(&format!(
                "| {} | {} | {} |\n",
                md::cell(c),
                if met { "met" } else { "not met" },
                if met {
                    "all subtask reviews and final gates"
                } else {
                    "run did not succeed"
                }
            ));
        }
    }

    o.push_str("\n## Wave Execution Log\n");
    for (w, ts) in wave_groups(rec) {
        let name = w
            .map(|w| format!("Wave {w}"))
            .unwrap_or_else(|| "Unassigned".into());
        o.push_str(&format!("\n### {name}\n"));
        o.push_str(&format!("- **Subtasks:** {}\n", ids(&ts)));
        o.push_str("- **Execution mode:** sequential\n");
        let start = ts.iter().filter_map(|t| t.started_at.as_deref()).min();
        let end = ts.iter().filter_map(|t| t.finished_at.as_deref()).max();
        let d = match (start, end) {
            (Some(s), Some(e)) => time::seconds_between(s, e)
                .map(time::human_duration)
                .unwrap_or_else(|| "unknown".into()),
            _ => "not finished".into(),
        };
        o.push_str(&format!("- **Duration:** {d}\n"));
        let issues: Vec<String> = ts
            .iter()
            .filter_map(|t| match t.status {
                TaskStatus::Blocked => Some(format!("{} blocked", t.id)),
                _ if reportkit::rework_rounds(t) > 0 => Some(format!(
                    "{} reworked {}×",
                    t.id,
                    reportkit::rework_rounds(t)
                )),
                _ => None,
            })
            .collect();
        o.push_str(&format!(
            "- **Issues:** {}\n",
            if issues.is_empty() {
                "none".into()
            } else {
                md::text(&issues.join(", "))
            }
        ));
    }

    o.push_str("\n## Issues Encountered\n");
    if rec.issues.is_empty() {
        o.push_str("No issues encountered\n");
    }
    for i in &rec.issues {
        let who = i
            .task
            .as_deref()
            .map(|t| format!("{t}: "))
            .unwrap_or_default();
        o.push_str(&format!(
            "- {}{} — {}\n",
            md::text(&who),
            md::text(&i.issue),
            md::text(&i.resolution)
        ));
    }

    o.push_str("\n## Escalations\n");
    if escalations == 0 {
        o.push_str("No escalations\n");
    } else {
        o.push_str(&esc);
    }

    // Themes: rule ids in rework feedback, most frequent first.
    let mut themes: BTreeMap<&str, (usize, Vec<&str>)> = BTreeMap::new();
    for t in &rec.tasks {
        for c in &t.cycles {
            for f in &c.feedback {
                let e = themes.entry(f.rule.as_str()).or_default();
                e.0 += 1;
                if !e.1.contains(&t.id.as_str()) {
                    e.1.push(&t.id);
                }
            }
        }
    }
    let mut themes: Vec<_> = themes.into_iter().collect();
    themes.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
    o.push_str("\n## Review Feedback Themes\n");
    if themes.is_empty() {
        o.push_str("No recurring themes\n");
    }
    for (rule, (n, tasks)) in themes.iter().take(5) {
        o.push_str(&format!(
            "- {} ×{n} ({})\n",
            md::code(rule),
            tasks.join(", ")
        ));
    }

    o.push_str("\n## Follow-up Items\n");
    let mut follow = Vec::new();
    for t in rec.tasks.iter().filter(|t| t.status == TaskStatus::Done) {
        if let Some(c) = t.cycles.last() {
            for r in &c.reviews {
                if let Some(v) = &r.review {
                    for f in v.findings.iter().filter(|f| !severity_blocks(f.severity)) {
                        follow.push(format!(
                            "{}: {} {} — {}",
                            t.id,
                            reportkit::severity_str(f.severity),
                            md::code(&f.rule),
                            md::text(&f.message)
                        ));
                    }
                }
            }
        }
    }
    for t in rec
        .tasks
        .iter()
        .filter(|t| !matches!(t.status, TaskStatus::Done | TaskStatus::Blocked))
    {
        follow.push(format!("{}: not executed ({})", t.id, t.status.as_str()));
    }
    if follow.is_empty() {
        o.push_str("None\n");
    }
    for f in follow {
        o.push_str(&format!("- {f}\n"));
    }

    o.push_str("\n## Review Quality Summary\n");
    let reviewed = rec
        .tasks
        .iter()
        .filter(|t| reportkit::review_cycles(t) > 0)
        .count();
    let first_ok = rec
        .tasks
        .iter()
        .filter(|t| {
            t.cycles.first().is_some_and(|c| {
                !c.reviews.is_empty()
                    && c.reviews
                        .iter()
                        .all(|r| r.outcome == ReviewOutcome::Approved)
            })
        })
        .count();
    let rate = first_ok
        .checked_mul(100)
        .and_then(|x| x.checked_div(reviewed))
        .map_or_else(|| "n/a".to_string(), |r| format!("{r}%"));
    o.push_str(&format!(
        "- **First-pass approval rate:** {rate} of subtasks passed both reviews on first attempt\n"
    ));
    o.push_str(&format!(
        "- **Most common review feedback:** {}\n",
        themes
            .first()
            .map(|(r, (n, _))| format!("{} ({n}×)", md::code(r)))
            .unwrap_or_else(|| "none".into())
    ));
    let reworked: Vec<String> = rec
        .tasks
        .iter()
        .filter(|t| reportkit::rework_rounds(t) > 0)
        .map(|t| format!("{} ({})", t.id, reportkit::rework_rounds(t)))
        .collect();
    o.push_str(&format!(
        "- **Rework distribution:** {}\n",
        if reworked.is_empty() {
            "no rework".into()
        } else {
            md::text(&reworked.join(", "))
        }
    ));
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use reportkit::fixtures;
    use serde_json::json;

    fn render(rec: RunRecord) -> Vec<(String, String)> {
        PlanpipeStatus::render(json!({}), rec)
            .unwrap()
            .into_iter()
            .map(|a| (a.path, String::from_utf8(a.content).unwrap()))
            .collect()
    }

    const STATUS_HEADINGS: [&str; 6] = [
        "# Execution Status",
        "## Current State",
        "## Status Summary",
        "## Recently Completed",
        "## Blocked Items",
        "## Escalations",
    ];
    const SUMMARY_HEADINGS: [&str; 12] = [
        "# Execution Summary",
        "## Execution Overview",
        "## Final Smoke Test",
        "## Subtask Results",
        "## Acceptance Criteria Verification",
        "## Wave Execution Log",
        "## Issues Encountered",
        "## Escalations",
        "## Review Feedback Themes",
        "## Follow-up Items",
        "## Review Quality Summary",
        "> Total rework rounds:",
    ];

    #[test]
    fn blocked_run_status_and_summary() {
        let out = render(fixtures::blocked_run());
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].0, STATUS_PATH);
        assert_eq!(out[1].0, SUMMARY_PATH);
        let s = &out[0].1;
        for h in STATUS_HEADINGS {
            assert!(s.contains(h), "missing {h}\n{s}");
        }
        assert!(s.contains("> Total subtasks: 3\n"));
        assert!(s.contains("> Last updated: 2026-11-22T11:30:00Z\n"));
        assert!(s.contains("| ID | Title | Status | Wave | Review Cycles | Notes |"));
        assert!(s.contains("| T001 | Token model | done | 1 | 2 | commit aaa1111 |\n"));
        assert!(s.contains("| T002 | Token refresh endpoint | blocked | 2 | 3 | rework limit reached: 3 failed cycles |\n"));
        assert!(s.contains("| T003 | Revoke tokens | pending | 3 | 0 | — |\n"));
        assert!(s.contains("| done | 1 | T001 |\n"));
        assert!(s.contains("| blocked | 1 | T002 |\n"));
        assert!(s.contains("| pending | 1 | T003 |\n"));
        assert!(s.contains("| rework | 0 | — |\n"));
        assert!(s.contains("## Active Wave: 2 — Wave 2\n"));
        assert!(
            s.contains("- T001: Token model — completed 2026-11-22T10:12:00Z, unblocked: T002\n")
        );
        assert!(s.contains("- T002: Token refresh endpoint — rework limit reached: 3 failed cycles. Unblocks when:"));
        assert!(s.contains("Waiting on it: T003."));
        assert!(s.contains("- **T002: Token refresh endpoint** — escalated: rework limit reached: 3 failed cycles\n"));
        assert!(s.contains("  - Rejected by the code review (changes requested): SQL injection in refresh lookup.\n"));
        assert!(s.contains("    - critical `code-review/injection` `src/auth/refresh.py:42`:"));

        let m = &out[1].1;
        for h in SUMMARY_HEADINGS {
            assert!(m.contains(h), "missing {h}\n{m}");
        }
        assert!(m.contains("> All completed: no (1/3 done)\n"));
        assert!(m.contains("> Total review cycles: 5\n"));
        assert!(m.contains("> Total rework rounds: 3\n"));
        assert!(m.contains("> Escalations: 1\n"));
        assert!(m.contains("> Duration: 1h 30m"));
        assert!(m.contains("| T002 | Token refresh endpoint | 3 | 2 | blocked |\n"));
        assert!(m.contains("| Tokens expire after 15 minutes | not met | run did not succeed |\n"));
        assert!(m.contains("- **Tests:** not run — the run stopped before the final gates\n"));
        assert!(m.contains("- `code-review/injection` ×2 (T002)\n"));
        assert!(m.contains("- **First-pass approval rate:** 0% of subtasks"));
        assert!(m.contains("- **Rework distribution:** T001 (1), T002 (2)\n"));
        assert!(m.contains("- T003: not executed (pending)\n"));
    }

    #[test]
    fn successful_run_summary() {
        let out = render(fixtures::successful_run());
        let s = &out[0].1;
        assert!(s.contains("## Active Wave: — None"));
        assert!(
            s.contains("- T001: Token model — completed 2026-11-22T10:10:00Z, unblocked: T002\n")
        );
        assert!(s.contains("## Blocked Items\nNone\n"));
        assert!(s.contains("## Escalations\nNone\n"));
        let m = &out[1].1;
        assert!(m.contains("> All completed: yes\n"));
        assert!(m.contains("> Escalations: 0\n"));
        assert!(m.contains("> Duration: 25m 00s"));
        assert!(m.contains("- **Tests:** pass — `pytest` passed: 42 passed (42/42 passed (0 failed, 0 skipped, 0 errored))\n"));
        assert!(m.contains("- **Linter:** pass — `mypy` passed"));
        assert!(m.contains("- **Build:** skipped — no such final gate configured\n"));
        assert!(m.contains(
            "| Tokens expire after 15 minutes | met | all subtask reviews and final gates |\n"
        ));
        assert!(m.contains("- **First-pass approval rate:** 100% of subtasks"));
        assert!(m.contains("## Issues Encountered\nNo issues encountered\n"));
        assert!(m.contains("## Review Feedback Themes\nNo recurring themes\n"));
    }

    #[test]
    fn running_run_writes_status_only() {
        let out = render(fixtures::running_run());
        assert_eq!(out.len(), 1);
        assert!(out[0]
            .1
            .contains("| T001 | Token model | in_review | 1 | 1 | — |\n"));
        assert!(out[0].1.contains("| in_review | 1 | T001 |\n"));
        assert!(out[0].1.contains("## Active Wave: 1 — Wave 1\n"));
    }

    #[test]
    fn errored_review_and_config() {
        let out = render(fixtures::errored_review_run());
        assert!(out[0].1.contains(
            "  - Rejected by the task review (errored): reviewer timed out after 300s\n"
        ));
        let a = PlanpipeStatus::render(
            json!({"status_path": ".planpipe/t1/stage-6/execution-status.md", "summary_path": ".planpipe/t1/stage-6/execution-summary.md"}),
            fixtures::successful_run(),
        )
        .unwrap();
        assert_eq!(a[0].path, ".planpipe/t1/stage-6/execution-status.md");
        assert_eq!(a[1].path, ".planpipe/t1/stage-6/execution-summary.md");
        assert!(PlanpipeStatus::render(json!({"path": "x"}), fixtures::successful_run()).is_err());
        assert_eq!(
            render(fixtures::blocked_run()),
            render(fixtures::blocked_run())
        );
    }
}
