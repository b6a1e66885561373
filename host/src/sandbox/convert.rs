//! Conversions between the WIT types the sandbox speaks and the run record's
//! plain types that the engine and formatters use.

use super::bindings::types as wt;
use crate::text::untrusted as clean;
use planexec_record as rec;

/// The most findings (or test failures, or criteria) one report may carry;
/// a million empty findings pass a byte cap but not this one.
pub const MAX_ITEMS: usize = 10_000;

pub fn severity(s: wt::Severity) -> rec::Severity {
    match s {
        wt::Severity::Critical => rec::Severity::Critical,
        wt::Severity::Important => rec::Severity::Important,
        wt::Severity::Minor => rec::Severity::Minor,
        wt::Severity::Info => rec::Severity::Info,
    }
}

pub fn severity_to_wit(s: rec::Severity) -> wt::Severity {
    match s {
        rec::Severity::Critical => wt::Severity::Critical,
        rec::Severity::Important => wt::Severity::Important,
        rec::Severity::Minor => wt::Severity::Minor,
        rec::Severity::Info => wt::Severity::Info,
    }
}

pub fn finding(f: wt::Finding) -> rec::Finding {
    rec::Finding {
        severity: severity(f.severity),
        rule: clean(&f.rule),
        message: clean(&f.message),
        path: f.path.as_deref().map(clean),
        line: f.line,
        column: f.column,
        end_line: f.end_line,
        end_column: f.end_column,
    }
}

pub fn finding_to_wit(f: &rec::Finding) -> wt::Finding {
    wt::Finding {
        severity: severity_to_wit(f.severity),
        rule: f.rule.clone(),
        message: f.message.clone(),
        path: f.path.clone(),
        line: f.line,
        column: f.column,
        end_line: f.end_line,
        end_column: f.end_column,
    }
}

fn outcome(o: wt::Outcome) -> rec::Outcome {
    match o {
        wt::Outcome::Passed => rec::Outcome::Passed,
        wt::Outcome::Failed => rec::Outcome::Failed,
        wt::Outcome::Errored => rec::Outcome::Errored,
        wt::Outcome::Skipped => rec::Outcome::Skipped,
    }
}

fn outcome_to_wit(o: rec::Outcome) -> wt::Outcome {
    match o {
        rec::Outcome::Passed => wt::Outcome::Passed,
        rec::Outcome::Failed => wt::Outcome::Failed,
        rec::Outcome::Errored => wt::Outcome::Errored,
        rec::Outcome::Skipped => wt::Outcome::Skipped,
    }
}

/// A test case as the plugin listed it; a time that is not a finite, non-negative
/// number is dropped rather than passed on to formatters.
fn test_case(c: wt::TestCase) -> rec::TestCase {
    rec::TestCase {
        name: clean(&c.name),
        classname: clean(&c.classname),
        path: c.path.as_deref().map(clean),
        line: c.line,
        seconds: c.seconds.filter(|s| s.is_finite() && *s >= 0.0),
        outcome: outcome(c.outcome),
        message: clean(&c.message),
        output: clean(&c.output),
    }
}

fn test_case_to_wit(c: &rec::TestCase) -> wt::TestCase {
    wt::TestCase {
        name: c.name.clone(),
        classname: c.classname.clone(),
        path: c.path.clone(),
        line: c.line,
        seconds: c.seconds,
        outcome: outcome_to_wit(c.outcome),
        message: c.message.clone(),
        output: c.output.clone(),
    }
}

pub fn gate_report(r: wt::GateReport) -> rec::GateReport {
    rec::GateReport {
        outcome: outcome(r.outcome),
        summary: clean(&r.summary),
        tests: r.tests.map(|t| rec::TestCounts {
            passed: t.passed,
            failed: t.failed,
            skipped: t.skipped,
            errored: t.errored,
        }),
        failures: r
            .failures
            .into_iter()
            .map(|f| rec::TestFailure {
                name: clean(&f.name),
                message: clean(&f.message),
                path: f.path.as_deref().map(clean),
                line: f.line,
                output: clean(&f.output),
            })
            .collect(),
        cases: r.cases.into_iter().map(test_case).collect(),
        coverage_percent: r.coverage_percent,
        findings: r.findings.into_iter().map(finding).collect(),
        evidence: clean(&r.evidence),
        exit_code: r.exit_code,
        duration_ms: r.duration_ms,
        shard: r.shard.map(|s| rec::ShardResult {
            index: s.index,
            count: s.count,
            listed: s.listed,
            list_digest: clean(&s.list_digest),
        }),
    }
}

pub fn gate_report_to_wit(r: &rec::GateReport) -> wt::GateReport {
    wt::GateReport {
        outcome: outcome_to_wit(r.outcome),
        summary: r.summary.clone(),
        tests: r.tests.map(|t| wt::TestCounts {
            passed: t.passed,
            failed: t.failed,
            skipped: t.skipped,
            errored: t.errored,
        }),
        failures: r
            .failures
            .iter()
            .map(|f| wt::TestFailure {
                name: f.name.clone(),
                message: f.message.clone(),
                path: f.path.clone(),
                line: f.line,
                output: f.output.clone(),
            })
            .collect(),
        cases: r.cases.iter().map(test_case_to_wit).collect(),
        coverage_percent: r.coverage_percent,
        findings: r.findings.iter().map(finding_to_wit).collect(),
        evidence: r.evidence.clone(),
        exit_code: r.exit_code,
        duration_ms: r.duration_ms,
        shard: r.shard.as_ref().map(|s| wt::ShardResult {
            index: s.index,
            count: s.count,
            listed: s.listed,
            list_digest: s.list_digest.clone(),
        }),
    }
}

pub fn review(r: wt::Review) -> rec::Review {
    rec::Review {
        approved: r.approved,
        criteria: r
            .criteria
            .into_iter()
            .map(|c| rec::Criterion {
                name: clean(&c.name),
                score: match c.score {
                    wt::Score::Pass => rec::Score::Pass,
                    wt::Score::Weak => rec::Score::Weak,
                    wt::Score::Fail => rec::Score::Fail,
                },
                reasoning: clean(&c.reasoning),
            })
            .collect(),
        findings: r.findings.into_iter().map(finding).collect(),
        summary: clean(&r.summary),
        transcript_path: None,
        transcript: r.transcript,
        usage: r.usage.map(usage),
    }
}

/// An agent's reported usage; a cost that is not a finite, non-negative number is dropped.
pub fn usage(u: wt::Usage) -> rec::Usage {
    rec::Usage {
        cost_usd: u.cost_usd.filter(|c| c.is_finite() && *c >= 0.0),
        input_tokens: u.input_tokens,
        output_tokens: u.output_tokens,
        turns: u.turns,
    }
}

fn finding_size(f: &wt::Finding) -> usize {
    f.rule.len() + f.message.len() + f.path.as_ref().map_or(0, |p| p.len())
}

/// Bytes of text a gate report carries (what the returned-data cap limits).
pub fn report_size(r: &wt::GateReport) -> usize {
    r.summary.len()
        + r.evidence.len()
        + r.failures
            .iter()
            .map(|f| f.name.len() + f.message.len() + f.output.len())
            .sum::<usize>()
        + r.cases
            .iter()
            .map(|c| c.name.len() + c.classname.len() + c.message.len() + c.output.len())
            .sum::<usize>()
        + r.findings.iter().map(finding_size).sum::<usize>()
}

pub fn review_size(r: &wt::Review) -> usize {
    r.summary.len()
        + r.criteria
            .iter()
            .map(|c| c.name.len() + c.reasoning.len())
            .sum::<usize>()
        + r.findings.iter().map(finding_size).sum::<usize>()
}

fn count_cap(what: &str, n: usize) -> Result<(), String> {
    if n > MAX_ITEMS {
        return Err(format!(
            "returned {n} {what}, over the host's cap of {MAX_ITEMS}"
        ));
    }
    Ok(())
}

/// Refuses a gate report with more than [`MAX_ITEMS`] findings, failures or test cases.
pub fn report_counts(r: &wt::GateReport) -> Result<(), String> {
    count_cap("findings", r.findings.len())?;
    count_cap("test failures", r.failures.len())?;
    count_cap("test cases", r.cases.len())
}

/// Refuses a review with more than [`MAX_ITEMS`] findings or criteria.
pub fn review_counts(r: &wt::Review) -> Result<(), String> {
    count_cap("findings", r.findings.len())?;
    count_cap("criteria", r.criteria.len())
}

/// The plan's task as the WIT contract's record.
pub fn task_to_wit(t: &planexec_plan::Task) -> wt::Task {
    use planexec_plan::DepKind;
    wt::Task {
        id: t.id.clone(),
        title: t.title.clone(),
        summary: t.summary.clone(),
        body: t.body.clone(),
        acceptance: t.acceptance.clone(),
        acceptance_commands: t.acceptance_commands.clone(),
        files: t.files.clone(),
        out_of_scope: t.out_of_scope.clone(),
        dependencies: t
            .dependencies
            .iter()
            .map(|d| wt::Dependency {
                id: d.id.clone(),
                kind: match d.kind {
                    DepKind::Blocking => wt::DependencyKind::Blocking,
                    DepKind::Soft => wt::DependencyKind::Soft,
                    DepKind::Sequencing => wt::DependencyKind::Sequencing,
                    DepKind::Shared => wt::DependencyKind::Shared,
                },
            })
            .collect(),
        milestone: t.milestone.clone(),
        steps: t.steps.clone(),
    }
}

/// A task's changed files as the reviewer contract's records.
pub fn changed_files_to_wit(
    changes: &planexec_vcs::TaskChanges,
) -> Vec<super::bindings::reviewer_plugin::ChangedFile> {
    use super::bindings::reviewer_plugin as rp;
    changes
        .files
        .iter()
        .map(|f| rp::ChangedFile {
            path: f.path.clone(),
            change: match f.change {
                planexec_vcs::ChangeKind::Added => rp::ChangeKind::Added,
                planexec_vcs::ChangeKind::Modified => rp::ChangeKind::Modified,
                planexec_vcs::ChangeKind::Deleted => rp::ChangeKind::Deleted,
                planexec_vcs::ChangeKind::Renamed => rp::ChangeKind::Renamed,
            },
            binary: f.binary,
            size: f.size,
            added_lines: f.added_lines,
            removed_lines: f.removed_lines,
        })
        .collect()
}

/// The cycle's gate runs as the reviewer contract's named reports.
pub fn gate_runs_to_wit(
    runs: &[rec::GateRun],
) -> Vec<super::bindings::reviewer_plugin::NamedReport> {
    runs.iter()
        .map(|g| super::bindings::reviewer_plugin::NamedReport {
            name: g.name.clone(),
            report: gate_report_to_wit(&g.report),
        })
        .collect()
}

/// The implementer's report as the run record's plain status.
pub fn implement_status(
    s: super::bindings::implementer_plugin::ImplementStatus,
) -> rec::ImplementStatus {
    use super::bindings::implementer_plugin::ImplementStatus as W;
    match s {
        W::Done => rec::ImplementStatus::Done,
        W::Waiting => rec::ImplementStatus::Waiting,
        W::Failed => rec::ImplementStatus::Failed,
    }
}

/// The implementer's report as the run record's implementer run; untrusted text cleaned.
pub fn implement_report(
    plugin: String,
    r: super::bindings::implementer_plugin::ImplementReport,
) -> rec::ImplementRun {
    let mut run = rec::ImplementRun::new(plugin, implement_status(r.status), r.summary);
    run.evidence = r.evidence;
    run.claimed_files = r
        .claimed_files
        .iter()
        .take(MAX_ITEMS)
        .map(|p| clean(p))
        .collect();
    run.findings = r
        .findings
        .into_iter()
        .take(MAX_ITEMS)
        .map(finding)
        .collect();
    run.usage = r.usage.map(usage);
    run.transcript = r.transcript;
    run
}
