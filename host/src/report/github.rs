//! GitHub Actions: when GITHUB_ACTIONS is set, workflow-command annotations for
//! the findings each task ended with and the final gates' findings, and a
//! markdown job summary appended to the file named by GITHUB_STEP_SUMMARY.
//!
//! Ported from plugins/reportkit/src/github.rs (a plugins-workspace crate the
//! host cannot depend on); keep the two in step.

use super::{Event, Sink};
use planexec_record::{
    Finding, GateRun, Outcome, ReviewKind, ReviewOutcome, RunRecord, RunStatus, Severity,
    TaskStatus,
};
use std::borrow::Cow;
use std::io::Write;
use std::path::PathBuf;

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

/// Critical and important are errors, minor warnings, info notices.
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

fn sev_str(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::Important => "important",
        Severity::Minor => "minor",
        Severity::Info => "info",
    }
}

fn review_label(k: ReviewKind) -> &'static str {
    match k {
        ReviewKind::Task => "task review",
        ReviewKind::Code => "code review",
    }
}

/// A gate's findings, then one per failing test they do not cover.
fn gate_findings<'a>(out: &mut Vec<(Cow<'a, Finding>, String)>, g: &'a GateRun, label: String) {
    for f in &g.report.findings {
        out.push((Cow::Borrowed(f), label.clone()));
    }
    for f in g.report.test_failure_findings(&g.plugin) {
        out.push((Cow::Owned(f), label.clone()));
    }
}

/// The findings that stand: each task's last judged cycle (gates, then reviews; a
/// last cycle that failed in the implementer does not hide the one before) and the
/// final gates, failing tests included, each with a label saying where it came from.
pub fn last_findings(rec: &RunRecord) -> Vec<(Cow<'_, Finding>, String)> {
    let mut out = Vec::new();
    for t in &rec.tasks {
        let Some(c) = t.judged_cycle() else { continue };
        for g in &c.gates {
            gate_findings(
                &mut out,
                g,
                format!("{} cycle {}, gate {}", t.id, c.number, g.name),
            );
        }
        for r in &c.reviews {
            if let Some(rev) = &r.review {
                for f in &rev.findings {
                    out.push((
                        Cow::Borrowed(f),
                        format!("{} cycle {}, {}", t.id, c.number, review_label(r.kind)),
                    ));
                }
            }
        }
    }
    for g in &rec.final_gates {
        gate_findings(&mut out, g, format!("final gate {}", g.name));
    }
    out
}

/// Annotation lines for the findings each task ended with and the final gates'
/// findings (earlier, reworked cycles are left out: they were fixed).
pub fn annotations(rec: &RunRecord) -> Vec<String> {
    last_findings(rec)
        .into_iter()
        .map(|(f, src)| annotation(&f, &format!("{} ({src})", f.rule)))
        .collect()
}

mod md {
    pub fn one_line(s: &str) -> String {
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    }
    pub fn cell(s: &str) -> String {
        let one = one_line(s);
        if one.is_empty() {
            return "—".into();
        }
        one.replace('\\', "\\\\").replace('|', "\\|")
    }
    /// Backslash escapes, never HTML entities (as reportkit's `md::text`).
    pub fn text(s: &str) -> String {
        let one = one_line(s);
        let mut o = String::with_capacity(one.len());
        let mut chars = one.chars().peekable();
        while let Some(c) = chars.next() {
            let entity = c == '&'
                && chars
                    .peek()
                    .is_some_and(|n| n.is_ascii_alphanumeric() || *n == '#');
            if c == '<' || entity || (c == '>' && o.is_empty()) {
                o.push('\\');
            }
            o.push(c);
        }
        o
    }
    pub fn code(s: &str) -> String {
        let s = one_line(s);
        let (mut best, mut cur) = (0, 0);
        for c in s.chars() {
            if c == '`' {
                cur += 1;
                best = best.max(cur);
            } else {
                cur = 0;
            }
        }
        let fence = "`".repeat(best + 1);
        if s.starts_with('`') || s.ends_with('`') {
            format!("{fence} {s} {fence}")
        } else {
            format!("{fence}{s}{fence}")
        }
    }
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

fn gate_icon(o: Outcome) -> (&'static str, &'static str) {
    match o {
        Outcome::Passed => ("✅", "passed"),
        Outcome::Failed => ("❌", "failed"),
        Outcome::Errored => ("⚠️", "errored"),
        Outcome::Skipped => ("⏭️", "skipped"),
    }
}

/// A markdown job summary: status, tasks, final gates, what blocked the run, findings.
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
    if !rec.tasks.is_empty() {
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
    } else {
        o.push_str(&format!("Run {}\n", md::code(&rec.run_id)));
    }
    if !rec.final_gates.is_empty() {
        let head = if rec.tasks.is_empty() {
            "Gates"
        } else {
            "Final gates"
        };
        o.push_str(&format!(
            "\n### {head}\n\n| Gate | Outcome | Summary |\n|---|---|---|\n"
        ));
        for g in &rec.final_gates {
            let (icon, word) = gate_icon(g.report.outcome);
            o.push_str(&format!(
                "| {} | {icon} {word} | {} |\n",
                md::cell(&g.name),
                md::cell(&g.report.summary)
            ));
        }
    }
    failing_tests(&mut o, rec);
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
                        let what = match r.outcome {
                            ReviewOutcome::Errored => "errored",
                            _ => "changes requested",
                        };
                        o.push_str(&format!(
                            "  - {} {what}: {}\n",
                            review_label(r.kind),
                            md::text(why)
                        ));
                    }
                }
            }
        }
    }
    let last = last_findings(rec);
    if !last.is_empty() {
        let count = |s: Severity| last.iter().filter(|(f, _)| f.severity == s).count();
        o.push_str(&format!(
            "\n**Findings:** {} critical, {} important, {} minor, {} info\n\n",
            count(Severity::Critical),
            count(Severity::Important),
            count(Severity::Minor),
            count(Severity::Info)
        ));
        o.push_str("| Severity | Rule | Location | Message |\n|---|---|---|---|\n");
        const MAX: usize = 50;
        for (f, src) in last.iter().take(MAX) {
            let loc = match (&f.path, f.line) {
                (Some(p), Some(l)) => format!("{p}:{l}"),
                (Some(p), None) => p.clone(),
                _ => String::new(),
            };
            o.push_str(&format!(
                "| {} | {} | {} | {} ({}) |\n",
                sev_str(f.severity),
                md::cell(&f.rule),
                md::cell(&loc),
                md::cell(&f.message),
                md::cell(src)
            ));
        }
        if last.len() > MAX {
            o.push_str(&format!("\n…and {} more.\n", last.len() - MAX));
        }
    }
    if let Some(log) = &rec.log_path {
        o.push_str(&format!("\nExecution log: {}\n", md::code(log)));
    }
    o
}

/// Failing tests listed per final gate: the test's own rerunnable name, its `path:line` and
/// the first line of its message, at most 50 in all (the gates' counts stay in the table).
fn failing_tests(o: &mut String, rec: &RunRecord) {
    const MAX: usize = 50;
    let all: Vec<_> = rec
        .final_gates
        .iter()
        .flat_map(|g| g.report.failures.iter().map(move |f| (g.name.as_str(), f)))
        .collect();
    if all.is_empty() {
        return;
    }
    o.push_str("\n### Failing tests\n\n| Gate | Test | Location | Message |\n|---|---|---|---|\n");
    for (gate, f) in all.iter().take(MAX) {
        let loc = match (&f.path, f.line) {
            (Some(p), Some(l)) => format!("{p}:{l}"),
            (Some(p), None) => p.clone(),
            _ => String::new(),
        };
        let first = f.message.lines().next().unwrap_or("");
        o.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            md::cell(gate),
            md::code(&f.name).replace('|', "\\|"),
            md::cell(&loc),
            md::cell(first)
        ));
    }
    if all.len() > MAX {
        o.push_str(&format!("\n…and {} more failing tests.\n", all.len() - MAX));
    }
}

/// At finish: annotations (on stdout, or stderr when stdout carries NDJSON) and
/// the job summary appended to `summary_path`.
pub struct GithubSink {
    /// Annotations go to stderr instead of stdout (stdout is NDJSON).
    pub annotations_to_stderr: bool,
    pub summary_path: Option<PathBuf>,
}

impl GithubSink {
    /// Writes annotations and the summary for `rec`; errors writing the summary
    /// are reported on stderr, never fatal.
    pub fn write(&self, rec: &RunRecord) {
        let lines = annotations(rec);
        if !lines.is_empty() {
            let text = lines.join("\n") + "\n";
            if self.annotations_to_stderr {
                let mut e = std::io::stderr().lock();
                let _ = e.write_all(text.as_bytes());
                let _ = e.flush();
            } else {
                let mut o = std::io::stdout().lock();
                let _ = o.write_all(text.as_bytes());
                let _ = o.flush();
            }
        }
        if let Some(p) = &self.summary_path {
            let r = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .and_then(|mut f| {
                    f.write_all(job_summary(rec).as_bytes())
                        .and_then(|_| f.write_all(b"\n"))
                });
            if let Err(e) = r {
                eprintln!(
                    "warning: cannot append the job summary to GITHUB_STEP_SUMMARY ({}): {e}",
                    p.display()
                );
            }
        }
    }
}

impl Sink for GithubSink {
    fn event(&mut self, _ev: &Event) {}
    fn finish(&mut self, record: &RunRecord) {
        self.write(record);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
