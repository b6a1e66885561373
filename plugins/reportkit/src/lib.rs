//! Shared helpers for planexec's report formatters: walks over the run record,
//! labels, markdown escaping, artifact-path checks, GitHub Actions output.
//!
//! Everything here is a pure function of a [`RunRecord`]: no clocks, no I/O, so
//! the formatters built on it are deterministic and testable natively.

pub mod github;
pub mod md;
pub mod time;

#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;

use planexec_record::{
    Cycle, CycleOutcome, Finding, GateRun, Outcome, ReviewKind, ReviewOutcome, RunRecord, Score,
    Severity, TaskRecord, TaskStatus, TestCounts,
};

pub use planexec_record as record;
use std::borrow::Cow;

/// Checks that an artifact path is relative, non-empty, and never climbs out of
/// the output directory (`..`), as the host requires.
pub fn check_artifact_path(path: &str) -> Result<(), String> {
    if path.trim().is_empty() {
        return Err("artifact path is empty".into());
    }
    if path.starts_with('/') || path.starts_with('\\') || path.contains(':') {
        return Err(format!("artifact path `{path}` must be relative"));
    }
    if path.split(['/', '\\']).any(|c| c == "..") {
        return Err(format!("artifact path `{path}` must not contain `..`"));
    }
    if path.ends_with('/') {
        return Err(format!("artifact path `{path}` names a directory"));
    }
    Ok(())
}

/// Where a finding came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A task gate, in the given cycle.
    TaskGate {
        task: String,
        cycle: u32,
        gate: String,
    },
    /// A review of a task, in the given cycle.
    Review {
        task: String,
        cycle: u32,
        kind: ReviewKind,
        plugin: String,
    },
    /// A final gate (after the last task).
    FinalGate { gate: String },
}

impl Source {
    pub fn task(&self) -> Option<&str> {
        match self {
            Source::TaskGate { task, .. } | Source::Review { task, .. } => Some(task),
            Source::FinalGate { .. } => None,
        }
    }

    pub fn cycle(&self) -> Option<u32> {
        match self {
            Source::TaskGate { cycle, .. } | Source::Review { cycle, .. } => Some(*cycle),
            Source::FinalGate { .. } => None,
        }
    }

    /// A short human label: `T001 cycle 2, gate pytest`, `final gate mypy`.
    pub fn label(&self) -> String {
        match self {
            Source::TaskGate { task, cycle, gate } => format!("{task} cycle {cycle}, gate {gate}"),
            Source::Review {
                task, cycle, kind, ..
            } => {
                format!("{task} cycle {cycle}, {}", review_kind_label(*kind))
            }
            Source::FinalGate { gate } => format!("final gate {gate}"),
        }
    }
}

/// A finding together with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct SourcedFinding<'a> {
    pub source: Source,
    /// Borrowed from the record, or made for a failing test (see
    /// `GateReport::test_failure_findings`).
    pub finding: std::borrow::Cow<'a, Finding>,
}

/// Which task cycles to walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CycleScope {
    /// Every cycle of every task.
    #[default]
    All,
    /// The findings that stand: each task's last judged cycle (see
    /// `TaskRecord::judged_cycle`) and the final gates.
    Last,
}

/// Every gate and review finding of the run, in record order: tasks (cycles,
/// gates then reviews), then final gates.
pub fn findings(rec: &RunRecord, scope: CycleScope) -> Vec<SourcedFinding<'_>> {
    let mut out = Vec::new();
    for task in &rec.tasks {
        let cycles: Vec<&Cycle> = match scope {
            CycleScope::All => task.cycles.iter().collect(),
            CycleScope::Last => task.judged_cycle().into_iter().collect(),
        };
        for c in cycles {
            for g in &c.gates {
                let source = Source::TaskGate {
                    task: task.id.clone(),
                    cycle: c.number,
                    gate: g.name.clone(),
                };
                gate_findings(&mut out, g, source);
            }
            for r in &c.reviews {
                if let Some(review) = &r.review {
                    for f in &review.findings {
                        out.push(SourcedFinding {
                            source: Source::Review {
                                task: task.id.clone(),
                                cycle: c.number,
                                kind: r.kind,
                                plugin: r.plugin.clone(),
                            },
                            finding: Cow::Borrowed(f),
                        });
                    }
                }
            }
        }
    }
    for g in &rec.final_gates {
        let source = Source::FinalGate {
            gate: g.name.clone(),
        };
        gate_findings(&mut out, g, source);
    }
    out
}

/// A gate's findings, then one for each failing test they do not cover.
fn gate_findings<'a>(out: &mut Vec<SourcedFinding<'a>>, g: &'a GateRun, source: Source) {
    for f in &g.report.findings {
        out.push(SourcedFinding {
            source: source.clone(),
            finding: Cow::Borrowed(f),
        });
    }
    for f in g.report.test_failure_findings(&g.plugin) {
        out.push(SourcedFinding {
            source: source.clone(),
            finding: Cow::Owned(f),
        });
    }
}

/// The cycle whose findings stand for a task (see `TaskRecord::judged_cycle`).
pub fn judged_cycle(task: &TaskRecord) -> Option<&Cycle> {
    task.judged_cycle()
}

/// The cycle a task ended with (or is in).
pub fn last_cycle(task: &TaskRecord) -> Option<&Cycle> {
    task.cycles.last()
}

/// Cycles that reached review (at least one review ran).
pub fn review_cycles(task: &TaskRecord) -> u32 {
    task.cycles.iter().filter(|c| !c.reviews.is_empty()).count() as u32
}

/// Cycles that ended in rework.
pub fn rework_rounds(task: &TaskRecord) -> u32 {
    task.cycles
        .iter()
        .filter(|c| c.outcome == CycleOutcome::Rework)
        .count() as u32
}

/// Files the task changed over all its cycles, in order of first appearance.
pub fn task_files(task: &TaskRecord) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for c in &task.cycles {
        for f in &c.files {
            if !out.contains(&f.as_str()) {
                out.push(f);
            }
        }
    }
    out
}

/// Sums test counts over gates that reported any; `None` when none did.
pub fn sum_tests<'a>(gates: impl IntoIterator<Item = &'a GateRun>) -> Option<TestCounts> {
    let mut any = false;
    let mut t = TestCounts::default();
    for g in gates {
        if let Some(c) = g.report.tests {
            any = true;
            t.passed += c.passed;
            t.failed += c.failed;
            t.skipped += c.skipped;
            t.errored += c.errored;
        }
    }
    any.then_some(t)
}

/// `12/14 passed (1 failed, 1 skipped, 0 errored)`.
pub fn tests_line(t: &TestCounts) -> String {
    let total = t.passed + t.failed + t.skipped + t.errored;
    format!(
        "{}/{} passed ({} failed, {} skipped, {} errored)",
        t.passed, total, t.failed, t.skipped, t.errored
    )
}

/// The lowest coverage any of the gates reported.
pub fn min_coverage<'a>(gates: impl IntoIterator<Item = &'a GateRun>) -> Option<f64> {
    gates
        .into_iter()
        .filter_map(|g| g.report.coverage_percent)
        .fold(None, |acc: Option<f64>, c| {
            Some(acc.map_or(c, |a| a.min(c)))
        })
}

/// Tasks whose dependencies include `id`.
pub fn dependents<'a>(rec: &'a RunRecord, id: &str) -> Vec<&'a TaskRecord> {
    rec.tasks
        .iter()
        .filter(|t| t.dependencies.iter().any(|d| d == id))
        .collect()
}

/// The latest timestamp the record mentions (RFC 3339 strings compare in order
/// when they share a format); deterministic stand-in for "last updated".
pub fn last_timestamp(rec: &RunRecord) -> &str {
    let mut all: Vec<&str> = vec![&rec.started_at];
    all.extend(rec.finished_at.as_deref());
    for t in &rec.tasks {
        all.extend(t.started_at.as_deref());
        all.extend(t.finished_at.as_deref());
        for c in &t.cycles {
            all.push(&c.started_at);
            all.extend(c.finished_at.as_deref());
        }
    }
    all.into_iter().max().unwrap_or("")
}

pub fn severity_str(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::Important => "important",
        Severity::Minor => "minor",
        Severity::Info => "info",
    }
}

pub fn outcome_str(o: Outcome) -> &'static str {
    match o {
        Outcome::Passed => "passed",
        Outcome::Failed => "failed",
        Outcome::Errored => "errored",
        Outcome::Skipped => "skipped",
    }
}

pub fn score_str(s: Score) -> &'static str {
    match s {
        Score::Pass => "PASS",
        Score::Weak => "WEAK",
        Score::Fail => "FAIL",
    }
}

pub fn review_kind_label(k: ReviewKind) -> &'static str {
    match k {
        ReviewKind::Task => "task review",
        ReviewKind::Code => "code review",
    }
}

pub fn review_outcome_str(o: ReviewOutcome) -> &'static str {
    match o {
        ReviewOutcome::Approved => "approved",
        ReviewOutcome::ChangesRequested => "changes requested",
        ReviewOutcome::Errored => "errored",
    }
}

pub fn cycle_outcome_str(o: CycleOutcome) -> &'static str {
    match o {
        CycleOutcome::Running => "running",
        CycleOutcome::Passed => "passed",
        CycleOutcome::Rework => "rework",
        CycleOutcome::Blocked => "blocked",
        CycleOutcome::Waiting => "waiting",
    }
}

/// All seven task statuses, in the order planpipe's templates list them.
pub const STATUS_ORDER: [TaskStatus; 7] = [
    TaskStatus::Done,
    TaskStatus::Ready,
    TaskStatus::InProgress,
    TaskStatus::InReview,
    TaskStatus::Rework,
    TaskStatus::Pending,
    TaskStatus::Blocked,
];

/// `path:line:column` as far as known, or `None` without a path.
pub fn location(f: &Finding) -> Option<String> {
    let p = f.path.as_deref()?;
    Some(match (f.line, f.column) {
        (Some(l), Some(c)) => format!("{p}:{l}:{c}"),
        (Some(l), None) => format!("{p}:{l}"),
        _ => p.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifact_paths() {
        assert!(check_artifact_path("memory-bank/execute/x.md").is_ok());
        assert!(check_artifact_path("/etc/passwd").is_err());
        assert!(check_artifact_path("a/../../b").is_err());
        assert!(check_artifact_path("C:/x").is_err());
        assert!(check_artifact_path("").is_err());
        assert!(check_artifact_path("dir/").is_err());
    }

    #[test]
    fn walks_findings_in_order() {
        let rec = fixtures::blocked_run();
        let all = findings(&rec, CycleScope::All);
        let last = findings(&rec, CycleScope::Last);
        assert!(all.len() > last.len());
        assert_eq!(all[0].source.task(), Some("T001"));
        let t2 = rec.tasks.iter().find(|t| t.id == "T002").unwrap();
        assert_eq!(rework_rounds(t2), 2);
        assert_eq!(review_cycles(t2), 3);
        assert_eq!(last_timestamp(&rec), "2026-11-22T11:30:00Z");
    }

    #[test]
    fn sums_tests_and_coverage() {
        let rec = fixtures::successful_run();
        let t = sum_tests(&rec.final_gates).unwrap();
        assert_eq!(
            tests_line(&t),
            "42/42 passed (0 failed, 0 skipped, 0 errored)"
        );
        assert_eq!(min_coverage(&rec.final_gates), Some(87.5));
        assert_eq!(dependents(&rec, "T001").len(), 1);
    }
}
