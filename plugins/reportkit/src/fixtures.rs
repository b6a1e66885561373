//! Sample run records for the formatters' native tests: a successful run, a
//! blocked run with rework cycles and review findings, an errored review.
//!
//! Enabled by the `fixtures` feature (dev-dependencies only).

use planexec_record::*;

fn plan() -> PlanInfo {
    PlanInfo {
        path: "memory-bank/plan/2026-11-22_auth.md".into(),
        title: "Auth tokens".into(),
        dialect: "memory-bank".into(),
        topic: "auth".into(),
        refs: "plan/2026-11-22_auth.md".into(),
        success_criteria: vec![
            "Tokens expire after 15 minutes".into(),
            "All planned gates pass".into(),
        ],
    }
}

fn preflight(dirty: bool) -> Preflight {
    Preflight {
        branch: "feature/auth".into(),
        head: "1a2b3c4".into(),
        dirty,
        rollback_commit: dirty.then(|| "9f8e7d6".into()),
        start_commit: if dirty {
            "9f8e7d6".into()
        } else {
            "1a2b3c4".into()
        },
        checks: vec![
            Check {
                name: "plan check".into(),
                ok: true,
                detail: "3 tasks, no errors".into(),
            },
            Check {
                name: "gate plugins load".into(),
                ok: true,
                detail: "pytest, mypy, black".into(),
            },
        ],
    }
}

/// A finding with a location.
pub fn finding(
    sev: Severity,
    rule: &str,
    msg: &str,
    path: Option<&str>,
    line: Option<u32>,
) -> Finding {
    Finding {
        severity: sev,
        rule: rule.into(),
        message: msg.into(),
        path: path.map(Into::into),
        line,
        column: None,
        end_line: None,
        end_column: None,
    }
}

/// A gate run that passed with test counts.
pub fn gate_passed(name: &str, passed: u32) -> GateRun {
    GateRun {
        name: name.into(),
        plugin: name.into(),
        report: GateReport {
            outcome: Outcome::Passed,
            summary: format!("{passed} passed"),
            tests: Some(TestCounts {
                passed,
                failed: 0,
                skipped: 0,
                errored: 0,
            }),
            failures: vec![],
            cases: vec![],
            coverage_percent: None,
            findings: vec![],
            evidence: format!("collected {passed} items\n{passed} passed in 0.42s"),
            exit_code: Some(0),
            duration_ms: 420,
            shard: None,
        },
        programs: vec![],
    }
}

/// A plain gate run (no tests) with an outcome and findings.
pub fn gate(name: &str, outcome: Outcome, summary: &str, findings: Vec<Finding>) -> GateRun {
    GateRun {
        name: name.into(),
        plugin: name.into(),
        report: GateReport {
            outcome,
            summary: summary.into(),
            tests: None,
            failures: vec![],
            cases: vec![],
            coverage_percent: None,
            findings,
            evidence: summary.into(),
            exit_code: Some(if outcome == Outcome::Passed { 0 } else { 1 }),
            duration_ms: 1500,
            shard: None,
        },
        programs: vec![],
    }
}

fn criteria(names: &[&str], fail: Option<(&str, Score)>) -> Vec<Criterion> {
    names
        .iter()
        .map(|n| {
            let (score, reasoning) = match fail {
                Some((f, s)) if f == *n => (s, format!("{n}: not met, see findings")),
                _ => (Score::Pass, format!("{n}: verified")),
            };
            Criterion {
                name: n.to_string(),
                score,
                reasoning,
            }
        })
        .collect()
}

const TASK_CRITERIA: [&str; 5] = [
    "Completion criteria",
    "Scope compliance",
    "Required changes",
    "Design alignment",
    "Boundary integrity",
];
const CODE_CRITERIA: [&str; 6] = [
    "Correctness",
    "Quality",
    "Pattern adherence",
    "Regression risk",
    "Test coverage",
    "Security",
];

/// An approving review of the given kind.
pub fn approved(kind: ReviewKind) -> ReviewRun {
    let names: &[&str] = if kind == ReviewKind::Task {
        &TASK_CRITERIA
    } else {
        &CODE_CRITERIA
    };
    ReviewRun {
        kind,
        plugin: "llm-review".into(),
        outcome: ReviewOutcome::Approved,
        review: Some(Review {
            approved: true,
            criteria: criteria(names, None),
            findings: vec![],
            summary: "Looks complete.".into(),
            transcript_path: None,
            transcript: String::new(),
            usage: None,
        }),
        error: None,
        programs: vec![],
        usage: None,
    }
}

/// A review requesting changes, failing `criterion`, with `findings`.
pub fn rejected(
    kind: ReviewKind,
    criterion: &str,
    findings: Vec<Finding>,
    summary: &str,
) -> ReviewRun {
    let names: &[&str] = if kind == ReviewKind::Task {
        &TASK_CRITERIA
    } else {
        &CODE_CRITERIA
    };
    ReviewRun {
        kind,
        plugin: "llm-review".into(),
        outcome: ReviewOutcome::ChangesRequested,
        review: Some(Review {
            approved: false,
            criteria: criteria(names, Some((criterion, Score::Fail))),
            findings,
            summary: summary.into(),
            transcript_path: None,
            transcript: String::new(),
            usage: None,
        }),
        error: None,
        programs: vec![],
        usage: None,
    }
}

fn implementer(summary: &str) -> Option<ImplementRun> {
    Some(ImplementRun::new("patch", ImplementStatus::Done, summary))
}

fn cycle(n: u32, start: &str, end: &str, files: &[&str], outcome: CycleOutcome) -> Cycle {
    Cycle {
        number: n,
        started_at: start.into(),
        finished_at: Some(end.into()),
        implementer: implementer(&format!("applied patch {n}")),
        gates: vec![],
        reviews: vec![],
        files: files.iter().map(|s| s.to_string()).collect(),
        added_lines: 40,
        removed_lines: 3,
        outcome,
        feedback: vec![],
        timings: vec![],
    }
}

fn task(id: &str, title: &str, wave: u32, deps: &[&str], status: TaskStatus) -> TaskRecord {
    TaskRecord {
        id: id.into(),
        title: title.into(),
        summary: format!("{title} (summary)"),
        status,
        wave: Some(wave),
        milestone: Some("M1".into()),
        dependencies: deps.iter().map(|s| s.to_string()).collect(),
        acceptance: vec![
            format!("{id} acceptance: tests pass"),
            "`pytest tests/auth` passes".into(),
        ],
        planned_files: vec![
            "src/auth/tokens.py".into(),
            "tests/auth/test_tokens.py".into(),
        ],
        cycles: vec![],
        commit: None,
        blocked_reason: None,
        started_at: None,
        finished_at: None,
    }
}

fn passing_cycle(n: u32, start: &str, end: &str, files: &[&str], tests: u32) -> Cycle {
    let mut c = cycle(n, start, end, files, CycleOutcome::Passed);
    c.gates = vec![gate_passed("pytest", tests)];
    c.reviews = vec![approved(ReviewKind::Task), approved(ReviewKind::Code)];
    c
}

/// Every task done, every final gate passed.
pub fn successful_run() -> RunRecord {
    let mut t1 = task("T001", "Token model", 1, &[], TaskStatus::Done);
    t1.cycles = vec![passing_cycle(
        1,
        "2026-11-22T10:01:00Z",
        "2026-11-22T10:10:00Z",
        &["src/auth/tokens.py", "tests/auth/test_tokens.py"],
        12,
    )];
    t1.commit = Some("aaa1111".into());
    t1.started_at = Some("2026-11-22T10:01:00Z".into());
    t1.finished_at = Some("2026-11-22T10:10:00Z".into());
    let mut t2 = task(
        "T002",
        "Token refresh endpoint",
        2,
        &["T001"],
        TaskStatus::Done,
    );
    t2.cycles = vec![passing_cycle(
        1,
        "2026-11-22T10:11:00Z",
        "2026-11-22T10:20:00Z",
        &["src/auth/refresh.py"],
        30,
    )];
    t2.commit = Some("bbb2222".into());
    t2.started_at = Some("2026-11-22T10:11:00Z".into());
    t2.finished_at = Some("2026-11-22T10:20:00Z".into());

    let mut cov = gate_passed("pytest", 42);
    cov.report.coverage_percent = Some(87.5);
    let mut env = std::collections::BTreeMap::new();
    env.insert("target".into(), "local".into());
    env.insert("os".into(), "linux".into());
    RunRecord {
        schema_version: SCHEMA_VERSION,
        run_id: "run-0001".into(),
        plan: plan(),
        status: RunStatus::Success,
        started_at: "2026-11-22T10:00:00Z".into(),
        finished_at: Some("2026-11-22T10:25:00Z".into()),
        preflight: preflight(true),
        tasks: vec![t1, t2],
        final_gates: vec![
            cov,
            gate(
                "mypy",
                Outcome::Passed,
                "Success: no issues found in 12 source files",
                vec![],
            ),
            gate(
                "black",
                Outcome::Passed,
                "All done! 12 files would be left unchanged.",
                vec![],
            ),
        ],
        issues: vec![],
        end_commit: Some("bbb2222".into()),
        log_path: Some("memory-bank/execute/2026-11-22_10-00-00_auth.md".into()),
        env,
        shard: None,
        timings: vec![],
    }
}

/// The successful run, but the final `mypy` gate failed: status failure.
pub fn failed_final_gate_run() -> RunRecord {
    let mut rec = successful_run();
    rec.status = RunStatus::Failure;
    rec.final_gates[1] = gate(
        "mypy",
        Outcome::Failed,
        "Found 1 error in 1 file",
        vec![finding(
            Severity::Important,
            "mypy/arg-type",
            "Argument 1 to \"refresh\" has incompatible type \"str\"; expected \"Token\"",
            Some("src/auth/refresh.py"),
            Some(17),
        )],
    );
    rec
}

/// T001 done after one rework cycle; T002 blocked after three cycles (rework
/// limit) with review findings; T003 pending behind T002.
pub fn blocked_run() -> RunRecord {
    let mut rec = successful_run();
    rec.status = RunStatus::Blocked;
    rec.run_id = "run-0002".into();
    rec.final_gates.clear();
    rec.end_commit = Some("aaa1111".into());
    rec.finished_at = Some("2026-11-22T11:30:00Z".into());
    rec.preflight = preflight(false);

    // T001: cycle 1 fails pytest and the task review; cycle 2 passes.
    let t1 = &mut rec.tasks[0];
    let mut c1 = cycle(
        1,
        "2026-11-22T10:01:00Z",
        "2026-11-22T10:05:00Z",
        &["src/auth/tokens.py"],
        CycleOutcome::Rework,
    );
    let mut py = gate(
        "pytest",
        Outcome::Failed,
        "1 failed, 11 passed",
        vec![finding(
            Severity::Important,
            "pytest/failure",
            "test_expiry: assert 900 == 3600",
            Some("tests/auth/test_tokens.py"),
            Some(33),
        )],
    );
    py.report.tests = Some(TestCounts {
        passed: 11,
        failed: 1,
        skipped: 0,
        errored: 0,
    });
    py.report.failures = vec![TestFailure {
        name: "tests/auth/test_tokens.py::test_expiry".into(),
        message: "assert 900 == 3600".into(),
        path: Some("tests/auth/test_tokens.py".into()),
        line: Some(33),
        output: "E   assert 900 == 3600".into(),
    }];
    py.report.evidence = "FAILED tests/auth/test_tokens.py::test_expiry - assert 900 == 3600\n1 failed, 11 passed in 0.51s".into();
    c1.gates = vec![py];
    let tf = finding(
        Severity::Important,
        "task-review/missing-test",
        "No test covers token expiry",
        Some("tests/auth/test_tokens.py"),
        None,
    );
    c1.reviews = vec![rejected(
        ReviewKind::Task,
        "Completion criteria",
        vec![tf.clone()],
        "Expiry criterion not met.",
    )];
    c1.feedback = vec![c1.gates[0].report.findings[0].clone(), tf];
    let c2 = passing_cycle(
        2,
        "2026-11-22T10:05:00Z",
        "2026-11-22T10:12:00Z",
        &["src/auth/tokens.py", "tests/auth/test_tokens.py"],
        12,
    );
    t1.cycles = vec![c1, c2];
    t1.finished_at = Some("2026-11-22T10:12:00Z".into());

    // T002: three cycles, the code review keeps finding an injection.
    let t2 = &mut rec.tasks[1];
    t2.status = TaskStatus::Blocked;
    t2.commit = None;
    t2.finished_at = None;
    t2.started_at = Some("2026-11-22T10:13:00Z".into());
    t2.blocked_reason = Some("rework limit reached: 3 failed cycles".into());
    let inj = finding(
        Severity::Critical,
        "code-review/injection",
        "SQL built with f-string: `f\"SELECT * FROM t WHERE id={id}\"` <unsafe> & \"quoted\" | piped",
        Some("src/auth/refresh.py"),
        Some(42),
    );
    let minor = finding(
        Severity::Minor,
        "code-review/naming",
        "`tok` is unclear; use `token`",
        Some("src/auth/refresh.py"),
        Some(7),
    );
    let info = finding(
        Severity::Info,
        "code-review/note",
        "Consider a constant for the TTL",
        None,
        None,
    );
    let mut cycles = Vec::new();
    for n in 1..=3u32 {
        let start = format!("2026-11-22T10:{:02}:00Z", 10 + n * 5);
        let end = format!("2026-11-22T10:{:02}:00Z", 14 + n * 5);
        let outcome = if n == 3 {
            CycleOutcome::Blocked
        } else {
            CycleOutcome::Rework
        };
        let mut c = cycle(n, &start, &end, &["src/auth/refresh.py"], outcome);
        c.gates = vec![
            gate_passed("pytest", 30),
            gate("black", Outcome::Passed, "1 file left unchanged", vec![]),
        ];
        let mut found = vec![inj.clone()];
        if n == 3 {
            found.push(minor.clone());
            found.push(info.clone());
        }
        c.reviews = vec![
            approved(ReviewKind::Task),
            rejected(
                ReviewKind::Code,
                "Security",
                found.clone(),
                "SQL injection in refresh lookup.",
            ),
        ];
        if n < 3 {
            c.feedback = found;
        }
        cycles.push(c);
    }
    t2.cycles = cycles;

    let mut t3 = task("T003", "Revoke tokens", 3, &["T002"], TaskStatus::Pending);
    t3.planned_files = vec!["src/auth/revoke.py".into()];
    rec.tasks.push(t3);
    rec.issues = vec![Issue {
        task: Some("T002".into()),
        issue: "code review rejected the refresh lookup three times (SQL injection)".into(),
        resolution: "stopped at the rework limit; asked the user".into(),
    }];
    rec
}

/// T001's task review errored (the reviewer trapped): never an approval, the
/// task is blocked on the error.
pub fn errored_review_run() -> RunRecord {
    let mut rec = successful_run();
    rec.run_id = "run-0003".into();
    rec.status = RunStatus::Blocked;
    rec.final_gates.clear();
    rec.end_commit = None;
    rec.finished_at = Some("2026-11-22T10:09:00Z".into());
    rec.tasks.truncate(1);
    let t = &mut rec.tasks[0];
    t.status = TaskStatus::Blocked;
    t.commit = None;
    t.finished_at = None;
    t.blocked_reason = Some("task review errored: reviewer timed out after 300s".into());
    let mut c = cycle(
        1,
        "2026-11-22T10:01:00Z",
        "2026-11-22T10:08:00Z",
        &["src/auth/tokens.py"],
        CycleOutcome::Blocked,
    );
    c.gates = vec![gate_passed("pytest", 12)];
    c.reviews = vec![ReviewRun {
        kind: ReviewKind::Task,
        plugin: "llm-review".into(),
        outcome: ReviewOutcome::Errored,
        review: None,
        error: Some("reviewer timed out after 300s".into()),
        programs: vec![],
        usage: None,
    }];
    t.cycles = vec![c];
    rec
}

/// A run still in progress: T001 in review, T002 pending.
pub fn running_run() -> RunRecord {
    let mut rec = successful_run();
    rec.run_id = "run-0004".into();
    rec.status = RunStatus::Running;
    rec.final_gates.clear();
    rec.finished_at = None;
    rec.end_commit = None;
    let t1 = &mut rec.tasks[0];
    t1.status = TaskStatus::InReview;
    t1.commit = None;
    t1.finished_at = None;
    t1.cycles[0].outcome = CycleOutcome::Running;
    t1.cycles[0].finished_at = None;
    t1.cycles[0].reviews.truncate(1);
    let t2 = &mut rec.tasks[1];
    t2.status = TaskStatus::Pending;
    t2.cycles.clear();
    t2.commit = None;
    t2.started_at = None;
    t2.finished_at = None;
    rec
}

/// [`blocked_run`] where T002 went on to a fourth cycle whose implementer failed (no
/// gates, no reviews): cycle 3's findings still stand.
pub fn implementer_failed_run() -> RunRecord {
    let mut rec = blocked_run();
    let t2 = &mut rec.tasks[1];
    t2.cycles[2].outcome = CycleOutcome::Rework;
    let mut c4 = cycle(
        4,
        "2026-11-22T10:40:00Z",
        "2026-11-22T10:41:00Z",
        &[],
        CycleOutcome::Blocked,
    );
    c4.implementer = Some(ImplementRun::new(
        "patch",
        ImplementStatus::Failed,
        "patch failed: src/auth/refresh.py:42",
    ));
    t2.cycles.push(c4);
    t2.blocked_reason = Some("cycle 4: patch failed: src/auth/refresh.py:42".into());
    rec
}

/// A run whose task's cycle 1 was rejected for a hard-coded secret, fixed in cycle 2,
/// and whose final pytest gate lists its tests: one failed (no finding of its own),
/// one skipped, one passed.
pub fn secret_fixed_run() -> RunRecord {
    let mut rec = successful_run();
    rec.status = RunStatus::Failure;
    let secret = finding(
        Severity::Critical,
        "code-review/secret",
        "hard-coded API key in source",
        Some("src/auth/config.py"),
        Some(3),
    );
    let t1 = &mut rec.tasks[0];
    let mut c1 = cycle(
        1,
        "2026-11-22T10:01:00.100Z",
        "2026-11-22T10:01:00.404Z",
        &["src/auth/config.py"],
        CycleOutcome::Rework,
    );
    c1.gates = vec![gate_passed("pytest", 3)];
    c1.reviews = vec![
        approved(ReviewKind::Task),
        rejected(
            ReviewKind::Code,
            "Security",
            vec![secret.clone()],
            "A secret is committed.",
        ),
    ];
    c1.feedback = vec![secret];
    let mut c2 = t1.cycles[0].clone();
    c2.number = 2;
    t1.cycles = vec![c1, c2];
    let mut py = gate(
        "pytest",
        Outcome::Failed,
        "1 passed, 1 failed, 1 skipped",
        vec![],
    );
    py.report.tests = Some(TestCounts {
        passed: 1,
        failed: 1,
        skipped: 1,
        errored: 0,
    });
    let case = |name: &str, outcome: Outcome, line: u32, message: &str| TestCase {
        name: format!("tests/test_calc.py::{name}"),
        classname: "tests.test_calc".into(),
        path: Some("tests/test_calc.py".into()),
        line: Some(line),
        seconds: Some(0.0012),
        outcome,
        message: message.into(),
        output: String::new(),
    };
    py.report.cases = vec![
        case("test_add", Outcome::Passed, 3, ""),
        case("test_sub", Outcome::Failed, 7, "assert 5 == 6"),
        case("test_later", Outcome::Skipped, 11, "not ready"),
    ];
    py.report.failures = vec![TestFailure {
        name: "tests/test_calc.py::test_sub".into(),
        message: "assert 5 == 6".into(),
        path: Some("tests/test_calc.py".into()),
        line: Some(8),
        output: "E   assert 5 == 6".into(),
    }];
    rec.final_gates = vec![py];
    rec
}
