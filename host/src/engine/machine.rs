//! The task's state machine: every transition is a pure function from the task
//! record and what just happened to the next step; task.rs performs the effects.

use planexec_record::*;

/// Where a task goes next.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Open a cycle (or continue the waiting one) and ask the implementer.
    Implement,
    /// Read the cycle's changes and check the tolerances; `rejected` so far.
    Inspect(Vec<Finding>),
    /// Run the acceptance commands and per-task gates.
    Gates,
    /// Run the task review, then the code review.
    Review,
    Commit,
    /// The cycle was rejected with these findings: rework or block.
    Reject(Vec<Finding>),
    Rework,
    Block(String),
    Wait,
    Done,
}

/// How a task is entered when the loop reaches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// Already committed in this run.
    Committed,
    /// Ticked done in the plan before the run: skipped, no commit.
    MarkedDone,
    /// Blocked before and resumed: a fresh rework budget, history kept.
    Unblock,
    /// Interrupted mid-cycle (a crash): adopt its commit or redo it.
    Recover,
    /// Start (or continue after the implementer waited).
    Start,
    /// Handed back with `--skip`: passed over, never committed.
    Skipped,
}

/// Entering a task: from its status, whether it is the waiting task, and
/// whether the plan already marks it done.
pub fn entry(t: &TaskRecord, waiting: bool, plan_done: bool) -> Entry {
    match t.status {
        TaskStatus::Done => Entry::Committed,
        TaskStatus::Blocked => Entry::Unblock,
        TaskStatus::Skipped => Entry::Skipped,
        TaskStatus::InProgress | TaskStatus::InReview | TaskStatus::Rework if !waiting => {
            Entry::Recover
        }
        _ if plan_done && t.cycles.is_empty() => Entry::MarkedDone,
        _ => Entry::Start,
    }
}

/// After the implementer: wait for the person, or inspect the change (with a
/// rejection already when the implementer did not produce it). An implementer that
/// could not run at all (a refused program or variable, an unknown flag, a model it
/// is not allowed to reach) blocks at once: the same configuration would fail again.
pub fn after_implement(imp: &ImplementRun) -> Step {
    match imp.status {
        ImplementStatus::Waiting => Step::Wait,
        ImplementStatus::Escalated => Step::Block(format!(
            "escalated by the implementer ({}): {}",
            imp.plugin, imp.summary
        )),
        ImplementStatus::Done => Step::Inspect(vec![]),
        ImplementStatus::Errored => Step::Block(format!(
            "the implementer could not run (not retried: fix the configuration, then --resume): {}",
            imp.summary
        )),
        ImplementStatus::Failed => Step::Inspect(vec![finding(
            "implementer",
            format!(
                "the implementer did not produce the change: {}",
                imp.summary
            ),
        )]),
    }
}

/// After reading the changes: a tolerance breach blocks; a failed implementer
/// skips gates and reviews.
pub fn after_inspect(breach: Option<String>, rejected: Vec<Finding>) -> Step {
    match breach {
        Some(b) => Step::Block(b),
        None if !rejected.is_empty() => Step::Reject(rejected),
        None => Step::Gates,
    }
}

/// After the gates: any failure rejects the cycle; a cycle that changed
/// nothing is rejected too; otherwise the reviews.
pub fn after_gates(runs: &[GateRun], changed_nothing: bool) -> Step {
    let rejected: Vec<Finding> = runs.iter().flat_map(gate_findings).collect();
    if !rejected.is_empty() {
        Step::Reject(dedup(rejected))
    } else if changed_nothing {
        Step::Reject(vec![finding(
            "implementer",
            "the task changed no files".into(),
        )])
    } else {
        Step::Review
    }
}

/// What one review means for the cycle.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Approved; its findings are kept in case a later review rejects.
    Approved(Vec<Finding>),
    Rejected(Vec<Finding>),
    /// A review that cannot judge never passes a task.
    Errored(String),
}

pub fn after_review(run: &ReviewRun) -> Verdict {
    match (&run.review, run.outcome) {
        (Some(rev), _) if rev.approved => Verdict::Approved(rev.findings.clone()),
        (Some(rev), _) => Verdict::Rejected(review_findings(&run.plugin, rev)),
        (None, _) => Verdict::Errored(format!(
            "reviewer `{}` errored ({}); a review that cannot judge never passes a task",
            run.plugin,
            run.error.clone().unwrap_or_default()
        )),
    }
}

/// After a rejected cycle: rework while the budget lasts, else block with the
/// first real cause and the last rejection both named.
pub fn after_rejection(t: &TaskRecord, attempts: u32, max: u32, limit: &str) -> Step {
    if attempts < max {
        return Step::Rework;
    }
    let cause = |c: &Cycle| {
        c.feedback
            .first()
            .map(|f| format!("[{}] {}", f.rule, first_line(&f.message)))
            .unwrap_or_else(|| "no finding recorded".into())
    };
    let rejected: Vec<&Cycle> = t.cycles.iter().filter(|c| !c.feedback.is_empty()).collect();
    let first = rejected.first().map(|c| (c.number, cause(c)));
    let last = rejected.last().map(|c| (c.number, cause(c)));
    let cycles = crate::text::count(attempts as usize, "cycle");
    let mut reason = format!("{} failed {cycles} ({limit})", t.id);
    if let Some((n, why)) = &first {
        reason.push_str(&format!("; first cause (cycle {n}): {why}"));
    }
    if let (Some((n, why)), true) = (
        &last,
        last.as_ref().map(|l| l.0) != first.as_ref().map(|f| f.0),
    ) {
        reason.push_str(&format!("; last rejection (cycle {n}): {why}"));
    }
    Step::Block(reason)
}

/// A failed gate's findings for the implementer: one headline (with the
/// output's tail when the gate gave nothing finer), then each finding and
/// failing test with its location, once.
pub fn gate_findings(run: &GateRun) -> Vec<Finding> {
    if !matches!(run.report.outcome, Outcome::Failed | Outcome::Errored) {
        return vec![];
    }
    let r = &run.report;
    let mut head = format!(
        "gate `{}` {}: {}",
        run.name,
        format!("{:?}", r.outcome).to_lowercase(),
        crate::text::strip_sgr(&r.summary)
    );
    let evidence = crate::text::strip_sgr(&r.evidence);
    if r.findings.is_empty() && r.failures.is_empty() && !evidence.trim().is_empty() {
        let tail: Vec<&str> = evidence.trim_end().lines().rev().take(10).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        head.push_str(&format!("\n{}", tail.join("\n")));
    }
    let mut out = vec![finding(&format!("gate/{}", run.name), head)];
    out.extend(r.findings.iter().cloned().map(|mut f| {
        f.message = crate::text::strip_sgr(&f.message);
        f
    }));
    out.extend(r.failures.iter().map(|f| Finding {
        severity: Severity::Important,
        rule: format!("gate/{}/test", run.name),
        message: format!("{}: {}", f.name, crate::text::strip_sgr(&f.message)),
        path: f.path.clone(),
        line: f.line,
        column: None,
        end_line: None,
        end_column: None,
    }));
    out
}

/// A rejecting review's findings: its verdict, findings, and each criterion
/// that did not pass.
pub fn review_findings(plugin: &str, rev: &Review) -> Vec<Finding> {
    let mut out = vec![finding(&format!("{plugin}/verdict"), rev.summary.clone())];
    out.extend(rev.findings.iter().cloned());
    out.extend(
        rev.criteria
            .iter()
            .filter(|c| c.score != Score::Pass)
            .map(|c| Finding {
                severity: if c.score == Score::Fail {
                    Severity::Important
                } else {
                    Severity::Minor
                },
                rule: format!("{plugin}/{}", c.name.to_lowercase().replace(' ', "-")),
                message: format!("{} {:?}: {}", c.name, c.score, c.reasoning),
                path: None,
                line: None,
                column: None,
                end_line: None,
                end_column: None,
            }),
    );
    out
}

/// Findings with the same rule, message and place said once.
pub fn dedup(fs: Vec<Finding>) -> Vec<Finding> {
    let mut seen = std::collections::HashSet::new();
    fs.into_iter()
        .filter(|f| seen.insert((f.rule.clone(), f.message.clone(), f.path.clone(), f.line)))
        .collect()
}

pub fn finding(rule: &str, message: String) -> Finding {
    Finding {
        severity: Severity::Important,
        rule: rule.into(),
        message,
        path: None,
        line: None,
        column: None,
        end_line: None,
        end_column: None,
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}
