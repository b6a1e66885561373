//! `report merge`: the records of a sharded `gate run`'s shards made one, as if the gates
//! had run whole: every shard present once, of one run, counts added, failures listed once.

use planexec_record::{Finding, GateReport, GateRun, Outcome, RunRecord, ShardResult, TestCounts};
use std::collections::HashSet;
use std::path::PathBuf;

/// One shard's record and the file it came from.
pub struct ShardReport {
    pub path: PathBuf,
    pub record: RunRecord,
}

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("no reports to merge: name each shard's JSON report (`gate run --shard I/N --report json=FILE`)")]
    NoReports,
    #[error("{path}: not a shard's report (it has no `shard`): write it with `planexec gate run --shard I/N --report json=FILE`")]
    NotAShard { path: PathBuf },
    #[error("{path}: shard {index}/{count}, but {first} is of {first_count} shards: merge the shards of one run")]
    Count {
        path: PathBuf,
        index: u32,
        count: u32,
        first: PathBuf,
        first_count: u32,
    },
    #[error(
        "shard {index}/{count} is given twice: {first} and {second}; pass each shard's report once"
    )]
    Duplicate {
        index: u32,
        count: u32,
        first: PathBuf,
        second: PathBuf,
    },
    #[error("{path}: claims to be one of {count} shards; planexec splits a gate into at most {max}: this report is damaged or not from `gate run --shard I/N`; write it again")]
    TooMany { path: PathBuf, count: u32, max: u32 },
    #[error("missing shard(s) {missing} of {count}: the merged result would leave their tests out; pass every shard's report (did a shard's job fail before uploading it?)")]
    Missing { missing: String, count: u32 },
    #[error("{path}: its gates ({gates}) are not those of {first} ({first_gates}): merge the shards of one `gate run`")]
    Gates {
        path: PathBuf,
        gates: String,
        first: PathBuf,
        first_gates: String,
    },
    #[error("gate {gate}: {path} ran a shard of a different test list ({listed} tests, {digest}) than {first} ({first_listed} tests, {first_digest}): the shards are of different runs or commits; run every shard on one commit")]
    List {
        gate: String,
        path: PathBuf,
        listed: u32,
        digest: String,
        first: PathBuf,
        first_listed: u32,
        first_digest: String,
    },
    #[error("{path} assigned its tests by {theirs}, {first} by {first_theirs}: some tests ran twice or not at all; give every shard the same durations file (or none)")]
    Durations {
        path: PathBuf,
        theirs: String,
        first: PathBuf,
        first_theirs: String,
    },
}

/// The merged record: shards ordered by index, each gate merged across them.
pub fn merge(mut reports: Vec<ShardReport>) -> Result<RunRecord, MergeError> {
    check_shards(&mut reports)?;
    let first = &reports[0];
    let names: Vec<String> = first
        .record
        .final_gates
        .iter()
        .map(|g| g.name.clone())
        .collect();
    for r in &reports[1..] {
        let these: Vec<String> = r
            .record
            .final_gates
            .iter()
            .map(|g| g.name.clone())
            .collect();
        if these != names {
            return Err(MergeError::Gates {
                path: r.path.clone(),
                gates: these.join(", "),
                first: first.path.clone(),
                first_gates: names.join(", "),
            });
        }
    }
    let mut gates = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let runs: Vec<(&PathBuf, &GateRun)> = reports
            .iter()
            .map(|r| (&r.path, &r.record.final_gates[i]))
            .collect();
        gates.push(merge_gate(name, &runs)?);
    }
    let started = reports
        .iter()
        .map(|r| r.record.started_at.clone())
        .min()
        .unwrap_or_default();
    let finished = reports
        .iter()
        .filter_map(|r| r.record.finished_at.clone())
        .max()
        .unwrap_or_else(|| started.clone());
    let mut rec = crate::report::gate_record(gates, started, finished);
    rec.env = reports[0].record.env.clone();
    Ok(rec)
}

/// Every report is a shard of the same count, each index once, none missing; sorts by index.
fn check_shards(reports: &mut [ShardReport]) -> Result<(), MergeError> {
    let first = reports.first().ok_or(MergeError::NoReports)?;
    let count = first
        .record
        .shard
        .as_ref()
        .ok_or_else(|| MergeError::NotAShard {
            path: first.path.clone(),
        })?
        .count;
    if count > super::MAX_SHARDS {
        return Err(MergeError::TooMany {
            path: first.path.clone(),
            count,
            max: super::MAX_SHARDS,
        });
    }
    let by = |r: &ShardReport| match r.record.shard.as_ref().and_then(|s| s.durations.clone()) {
        Some(d) => format!("the durations file {d}"),
        None => "hash (no durations file)".to_string(),
    };
    let mut seen: Vec<Option<PathBuf>> = vec![None; count as usize];
    for r in reports.iter() {
        let s = r
            .record
            .shard
            .as_ref()
            .ok_or_else(|| MergeError::NotAShard {
                path: r.path.clone(),
            })?;
        if by(r) != by(first) {
            return Err(MergeError::Durations {
                path: r.path.clone(),
                theirs: by(r),
                first: first.path.clone(),
                first_theirs: by(first),
            });
        }
        if s.count != count || s.index == 0 || s.index > s.count {
            return Err(MergeError::Count {
                path: r.path.clone(),
                index: s.index,
                count: s.count,
                first: first.path.clone(),
                first_count: count,
            });
        }
        let slot = &mut seen[s.index as usize - 1];
        if let Some(prev) = slot {
            return Err(MergeError::Duplicate {
                index: s.index,
                count,
                first: prev.clone(),
                second: r.path.clone(),
            });
        }
        *slot = Some(r.path.clone());
    }
    let missing: Vec<String> = (1..=count)
        .filter(|i| seen[*i as usize - 1].is_none())
        .map(|i| i.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(MergeError::Missing {
            missing: missing.join(", "),
            count,
        });
    }
    reports.sort_by_key(|r| r.record.shard.as_ref().map(|s| s.index));
    Ok(())
}

/// One gate across the shards. A gate that reported no shard (it does not shard) ran whole
/// in every shard: its worst run stands. A sharded gate's parts must be of one list.
fn merge_gate(name: &str, runs: &[(&PathBuf, &GateRun)]) -> Result<GateRun, MergeError> {
    let lists: Vec<(&PathBuf, &ShardResult)> = runs
        .iter()
        .filter_map(|(p, g)| g.report.shard.as_ref().map(|l| (*p, l)))
        .collect();
    let Some((first_path, first)) = lists.first().copied() else {
        let worst = runs
            .iter()
            .map(|(_, g)| *g)
            .max_by_key(|g| rank(g.report.outcome))
            .expect("one run per shard");
        return Ok(worst.clone());
    };
    for (p, l) in &lists[1..] {
        if l.list_digest != first.list_digest || l.listed != first.listed {
            return Err(MergeError::List {
                gate: name.to_string(),
                path: (*p).clone(),
                listed: l.listed,
                digest: l.list_digest.clone(),
                first: first_path.clone(),
                first_listed: first.listed,
                first_digest: first.list_digest.clone(),
            });
        }
    }
    // A shard that errored before listing says so itself (an errored outcome).
    let reports: Vec<&GateReport> = runs.iter().map(|(_, g)| &g.report).collect();
    Ok(GateRun {
        name: name.to_string(),
        plugin: runs[0].1.plugin.clone(),
        report: merge_reports(&reports),
        programs: runs.iter().flat_map(|r| r.1.programs.clone()).collect(),
    })
}

/// Errored, then failed, passed, skipped: the worst part decides.
fn rank(o: Outcome) -> u8 {
    match o {
        Outcome::Errored => 3,
        Outcome::Failed => 2,
        Outcome::Passed => 1,
        Outcome::Skipped => 0,
    }
}

/// The parts of one gate's report, in shard order: counts added, cases and failures
/// concatenated, each finding once, the worst outcome, the evidence of the parts that did
/// not pass, the longest part's time (they ran at once).
fn merge_reports(parts: &[&GateReport]) -> GateReport {
    let outcome = parts
        .iter()
        .map(|r| r.outcome)
        .max_by_key(|o| rank(*o))
        .unwrap_or(Outcome::Skipped);
    let mut r = GateReport::errored(String::new());
    r.outcome = outcome;
    let count = parts.len();
    let mut seen: HashSet<&Finding> = HashSet::new();
    for (i, p) in parts.iter().enumerate() {
        if let Some(t) = p.tests {
            let c = r.tests.get_or_insert_with(TestCounts::default);
            c.passed += t.passed;
            c.failed += t.failed;
            c.skipped += t.skipped;
            c.errored += t.errored;
        }
        r.cases.extend(p.cases.iter().cloned());
        r.failures.extend(p.failures.iter().cloned());
        for f in &p.findings {
            if seen.insert(f) {
                r.findings.push(f.clone());
            }
        }
        if !matches!(p.outcome, Outcome::Passed | Outcome::Skipped) {
            r.evidence.push_str(&format!(
                "--- shard {}/{count}: {} ---\n{}\n",
                i + 1,
                p.summary,
                p.evidence.trim_end()
            ));
            r.exit_code = r.exit_code.or(p.exit_code);
        }
        r.duration_ms = r.duration_ms.max(p.duration_ms);
    }
    if r.exit_code.is_none() {
        r.exit_code = parts.first().and_then(|p| p.exit_code);
    }
    r.summary = summary(&r, parts);
    r
}

/// `40 passed, 1 failed in 4 shards (shard 3: 9 passed, 1 failed)`: the totals, then what
/// each part that did not pass said.
fn summary(r: &GateReport, parts: &[&GateReport]) -> String {
    let totals = match r.tests {
        Some(t) => counts_text(&t),
        None => "no test counts".to_string(),
    };
    let bad: Vec<String> = parts
        .iter()
        .enumerate()
        .filter(|(_, p)| !matches!(p.outcome, Outcome::Passed | Outcome::Skipped))
        .map(|(i, p)| format!("shard {}: {}", i + 1, p.summary))
        .collect();
    let mut s = format!("{totals} in {}", crate::text::count(parts.len(), "shard"));
    if !bad.is_empty() {
        s.push_str(&format!(" ({})", bad.join("; ")));
    }
    s
}

fn counts_text(t: &TestCounts) -> String {
    let mut parts = vec![format!("{} passed", t.passed)];
    for (n, w) in [
        (t.failed, "failed"),
        (t.errored, "errored"),
        (t.skipped, "skipped"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {w}"));
        }
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use planexec_record::{Shard, TestCase, TestFailure};

    fn list(index: u32, count: u32) -> ShardResult {
        ShardResult {
            index,
            count,
            listed: 4,
            list_digest: format!("sha256:{}", "1f".repeat(32)),
        }
    }

    fn case(name: &str, outcome: Outcome) -> TestCase {
        TestCase {
            name: name.into(),
            classname: "m".into(),
            path: None,
            line: None,
            seconds: Some(0.1),
            outcome,
            message: String::new(),
            output: String::new(),
        }
    }

    /// Shard `index` of `count` whose pytest ran `names`; `fail` names a failing one.
    fn shard(index: u32, count: u32, names: &[&str], fail: Option<&str>) -> ShardReport {
        let mut report = GateReport::errored("x");
        report.outcome = if fail.is_some() {
            Outcome::Failed
        } else {
            Outcome::Passed
        };
        report.summary = format!("{} tests", names.len());
        report.cases = names
            .iter()
            .map(|n| {
                case(
                    n,
                    if Some(*n) == fail {
                        Outcome::Failed
                    } else {
                        Outcome::Passed
                    },
                )
            })
            .collect();
        let failed = fail.is_some() as u32;
        report.tests = Some(TestCounts {
            passed: names.len() as u32 - failed,
            failed,
            skipped: 0,
            errored: 0,
        });
        report.failures = fail
            .map(|f| TestFailure {
                name: f.into(),
                message: "assert".into(),
                path: None,
                line: None,
                output: String::new(),
            })
            .into_iter()
            .collect();
        report.shard = Some(list(index, count));
        let run = GateRun {
            name: "pytest".into(),
            plugin: "pytest".into(),
            report,
            programs: vec![],
        };
        let mut record = crate::report::gate_record(vec![run], "t0".into(), "t1".into());
        record.shard = Some(Shard {
            index,
            count,
            durations: None,
        });
        ShardReport {
            path: PathBuf::from(format!("s{index}.json")),
            record,
        }
    }

    #[test]
    fn adds_the_parts_and_a_failing_part_fails_the_whole() {
        let m = merge(vec![
            shard(2, 2, &["c", "d"], Some("d")),
            shard(1, 2, &["a", "b"], None),
        ])
        .unwrap();
        let g = &m.final_gates[0];
        let names: Vec<&str> = g.report.cases.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c", "d"], "in shard order");
        assert_eq!(g.report.tests.unwrap().passed, 3);
        assert_eq!(g.report.tests.unwrap().failed, 1);
        assert_eq!(g.report.outcome, Outcome::Failed);
        assert_eq!(m.status, planexec_record::RunStatus::Failure);
        assert_eq!(g.report.failures.len(), 1);
        assert!(
            g.report
                .summary
                .starts_with("3 passed, 1 failed in 2 shards (shard 2:"),
            "{}",
            g.report.summary
        );
        assert_eq!(m.shard, None, "the merged record is whole");
    }

    #[test]
    fn a_missing_a_duplicate_or_a_foreign_shard_is_an_error() {
        let e = merge(vec![shard(1, 3, &["a"], None), shard(3, 3, &["c"], None)]).unwrap_err();
        assert!(e.to_string().contains("missing shard(s) 2 of 3"), "{e}");
        let e = merge(vec![shard(1, 2, &["a"], None), shard(1, 2, &["a"], None)]).unwrap_err();
        assert!(matches!(e, MergeError::Duplicate { index: 1, .. }), "{e}");
        let e = merge(vec![shard(1, 2, &["a"], None), shard(2, 3, &["b"], None)]).unwrap_err();
        assert!(matches!(e, MergeError::Count { .. }), "{e}");
        let mut other = shard(2, 2, &["c", "d"], None);
        other.record.final_gates[0]
            .report
            .shard
            .as_mut()
            .unwrap()
            .list_digest = format!("sha256:{}", "2e".repeat(32));
        let e = merge(vec![shard(1, 2, &["a", "b"], None), other]).unwrap_err();
        assert!(e.to_string().contains("different test list"), "{e}");
        let mut balanced = shard(2, 2, &["c", "d"], None);
        balanced.record.shard.as_mut().unwrap().durations = Some("sha256:00".into());
        let e = merge(vec![shard(1, 2, &["a", "b"], None), balanced]).unwrap_err();
        assert!(e.to_string().contains("same durations file"), "{e}");
        let mut plain = shard(1, 1, &["a"], None);
        plain.record.shard = None;
        assert!(matches!(
            merge(vec![plain]),
            Err(MergeError::NotAShard { .. })
        ));
        assert!(matches!(merge(vec![]), Err(MergeError::NoReports)));
    }

    #[test]
    fn a_gate_that_does_not_shard_keeps_its_worst_whole_run() {
        let mut a = shard(1, 2, &["a", "b"], None);
        let mut b = shard(2, 2, &["c", "d"], None);
        let lint = |o: Outcome| GateRun {
            name: "ruff".into(),
            plugin: "ruff".into(),
            report: GateReport {
                outcome: o,
                ..GateReport::errored("lint")
            },
            programs: vec![],
        };
        a.record.final_gates.push(lint(Outcome::Passed));
        b.record.final_gates.push(lint(Outcome::Failed));
        let m = merge(vec![a, b]).unwrap();
        assert_eq!(m.final_gates[1].report.outcome, Outcome::Failed);
        let mut c = shard(1, 2, &["a", "b"], None);
        c.record.final_gates.push(lint(Outcome::Passed));
        let d = shard(2, 2, &["c", "d"], None);
        let e = merge(vec![c, d]).unwrap_err();
        assert!(matches!(e, MergeError::Gates { .. }), "{e}");
    }
}
