//! GitHub Actions output for a run: workflow-command annotations for findings
//! and a markdown job summary (for the file named by GITHUB_STEP_SUMMARY).
//!
//! Plain functions of the record; the host decides when (GITHUB_ACTIONS set)
//! and where (stdout, the summary file) to write them.

use crate::{
    findings, md, outcome_str, review_kind_label, review_outcome_str, CycleScope, SourcedFinding,
};
use planexec_record::{
    Finding, Outcome, ReviewOutcome, RunRecord, RunStatus, Severity, TaskStatus,
};

/// Escapes a workflow command's message: `%`, `\r`, `\n`.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command property value: as data, plus `:` and `,`.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// The workflow command for a severity: critical and important are errors,
/// minor warnings, info notices.
pub fn command_for(sev: Severity) -> &'static str {
    match sev {
        Severity::Critical | Severity::Important => "error",
        Severity::Minor => "warning",
        Severity::Info => "notice",
    }
}

/// One annotation line: `::error file=F,line=L,col=C,title=T::message`.
pub fn annotation(f: &Finding, title: &str) -> String {
    let mut props = Vec::new();
    if let Some(p) = &f.path {
        props.push(format!("file={}", escape_property(p)));
        if let Some(l) = f.line {
            props.push(format!("line={l}"));
            if let Some(c) = f.column {
                props.push(format!("col={c}"));
            }
        }
    }
    if !title.is_empty() {
        props.push(format!("title={}", escape_property(title)));
    }
    let sep = if props.is_empty() { "" } else { " " };
    format!(
        "::{}{sep}{}::{}",
        command_for(f.severity),
        props.join(","),
        escape_data(&f.message)
    )
}

/// Annotation lines for the findings each task ended with and the final gates'
/// findings (earlier, reworked cycles are left out: they were fixed).
pub fn annotations(rec: &RunRecord) -> Vec<String> {
    findings(rec, CycleScope::Last)
        .iter()
        .map(annotation_for)
        .collect()
}

fn annotation_for(sf: &SourcedFinding<'_>) -> String {
    annotation(
        &sf.finding,
        &format!("{} ({})", sf.finding.rule, sf.source.label()),
    )
}

fn status_icon(s: RunStatus) -> &'static str {
    match s {
        RunStatus::Success => "✅",
        RunStatus::Failure => "❌",
        RunStatus::Blocked => "⛔",
        RunStatus::Waiting => "⏸️",
        RunStatus::Escalated => "💸",
        RunStatus::Running => "⏳",
    }
}

fn task_icon(s: TaskStatus) -> &'static str {
    match s {
        TaskStatus::Done => "✅",
        TaskStatus::Blocked => "⛔",
        TaskStatus::Skipped => "⏭️",
        TaskStatus::Pending | TaskStatus::Ready => "⏺️",
        _ => "⏳",
    }
}

fn gate_icon(o: Outcome) -> &'static str {
    match o {
        Outcome::Passed => "✅",
        Outcome::Failed => "❌",
        Outcome::Errored => "⚠️",
        Outcome::Skipped => "⏭️",
    }
}

/// A markdown job summary: status, tasks, final gates, what blocked the run.
pub fn job_summary(rec: &RunRecord) -> String {
    let mut o = String::new();
    let done = rec
        .tasks
        .iter()
        .filter(|t| t.status == TaskStatus::Done)
        .count();
    o.push_str(&format!(
        "## {} planexec: {} — {}\n\n",
        status_icon(rec.status),
        md::text(&rec.plan.title),
        rec.status.as_str()
    ));
    o.push_str(&format!(
        "Plan {} · run {} · tasks done {}/{}\n\n",
        md::code(&rec.plan.path),
        md::code(&rec.run_id),
        done,
        rec.tasks.len()
    ));
    o.push_str("| Task | Title | Status | Cycles | Commit |\n|---|---|---|---|---|\n");
    for t in &rec.tasks {
        o.push_str(&format!(
            "| {} | {} | {} {} | {} | {} |\n",
            md::cell(&t.id),
            md::cell(&t.title),
            task_icon(t.status),
            t.status.as_str(),
            t.cycles.len(),
            t.commit
                .as_deref()
                .map(md::code)
                .unwrap_or_else(|| "—".into())
        ));
    }
    if !rec.final_gates.is_empty() {
        o.push_str("\n### Final gates\n\n| Gate | Outcome | Summary |\n|---|---|---|\n");
        for g in &rec.final_gates {
            o.push_str(&format!(
                "| {} | {} {} | {} |\n",
                md::cell(&g.name),
                gate_icon(g.report.outcome),
                outcome_str(g.report.outcome),
                md::cell(&g.report.summary)
            ));
        }
    }
    let blocked: Vec<_> = rec
        .tasks
        .iter()
        .filter(|t| t.status == TaskStatus::Blocked)
        .collect();
    if !blocked.is_empty() {
        o.push_str("\n### Blocked\n\n");
        for t in blocked {
            o.push_str(&format!(
                "- **{}** {}: {}\n",
                md::text(&t.id),
                md::text(&t.title),
                md::text(t.blocked_reason.as_deref().unwrap_or("no reason recorded"))
            ));
            if let Some(c) = t.judged_cycle() {
                for r in &c.reviews {
                    if r.outcome != ReviewOutcome::Approved {
                        let why = r.reason();
                        o.push_str(&format!(
                            "  - {} {}: {}\n",
                            review_kind_label(r.kind),
                            review_outcome_str(r.outcome),
                            md::text(why)
                        ));
                    }
                }
            }
        }
    }
    let last = findings(rec, CycleScope::Last);
    if !last.is_empty() {
        let count = |s: Severity| last.iter().filter(|f| f.finding.severity == s).count();
        o.push_str(&format!(
            "\n**Findings:** {} critical, {} important, {} minor, {} info\n",
            count(Severity::Critical),
            count(Severity::Important),
            count(Severity::Minor),
            count(Severity::Info)
        ));
    }
    if let Some(log) = &rec.log_path {
        o.push_str(&format!("\nExecution log: {}\n", md::code(log)));
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    #[test]
    fn escapes_per_github_rules() {
        assert_eq!(
            escape_data("50% done\r\nnext: a,b"),
            "50%25 done%0D%0Anext: a,b"
        );
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }

    #[test]
    fn annotation_lines() {
        let f = Finding {
            severity: Severity::Important,
            rule: "code-review/secret".into(),
            message: "hard-coded key\nrotate it".into(),
            path: Some("src/a,b.py".into()),
            line: Some(12),
            column: None,
            end_line: None,
            end_column: None,
        };
        assert_eq!(
            annotation(&f, "code-review/secret"),
            "::error file=src/a%2Cb.py,line=12,title=code-review/secret::hard-coded key%0Arotate it"
        );
        let g = Finding {
            severity: Severity::Info,
            path: None,
            line: None,
            ..f.clone()
        };
        assert_eq!(annotation(&g, ""), "::notice::hard-coded key%0Arotate it");
        let m = Finding {
            severity: Severity::Minor,
            ..f
        };
        assert!(annotation(&m, "t").starts_with("::warning file="));
    }

    #[test]
    fn annotations_cover_last_cycles_and_final_gates() {
        let rec = fixtures::blocked_run();
        let lines = annotations(&rec);
        assert!(!lines.is_empty());
        assert!(lines
            .iter()
            .all(|l| l.starts_with("::") && !l.contains('\n')));
        assert!(lines
            .iter()
            .any(|l| l.contains("title=code-review/injection (T002 cycle 3%2C code review)")));
        // Cycle 1 of T001 was reworked and fixed: not annotated.
        assert!(!lines.iter().any(|l| l.contains("T001 cycle 1")));
    }

    #[test]
    fn summary_lists_tasks_and_blockers() {
        let s = job_summary(&fixtures::blocked_run());
        assert!(s.starts_with("## ⛔ planexec: Auth tokens — blocked"));
        assert!(s.contains("| T002 | Token refresh endpoint | ⛔ blocked | 3 | — |"));
        assert!(s.contains("### Blocked"));
        let ok = job_summary(&fixtures::successful_run());
        assert!(ok.contains("### Final gates"));
        assert!(ok.contains("| pytest | ✅ passed |"));
    }
}
