//! The `*_component!` macros: on wasm32 they generate the WIT bindings for one
//! world and convert between the generated types and the pdk's plain types.
//!
//! Every plugin crate lives at `plugins/<name>/` (two levels below the repo
//! root), so the WIT package is always at `../../wit`.

/// Conversions for the shared `types` interface and the `exec`/`log` imports.
/// Expanded inside each world's generated module; not for direct use.
#[doc(hidden)]
#[macro_export]
macro_rules! __pdk_conversions {
    (common) => {
        use planexec::plugin::types as wt;

        fn sev_from(s: $crate::Severity) -> wt::Severity {
            match s {
                $crate::Severity::Critical => wt::Severity::Critical,
                $crate::Severity::Important => wt::Severity::Important,
                $crate::Severity::Minor => wt::Severity::Minor,
                $crate::Severity::Info => wt::Severity::Info,
            }
        }
        #[allow(dead_code)]
        fn sev_to(s: wt::Severity) -> $crate::Severity {
            match s {
                wt::Severity::Critical => $crate::Severity::Critical,
                wt::Severity::Important => $crate::Severity::Important,
                wt::Severity::Minor => $crate::Severity::Minor,
                wt::Severity::Info => $crate::Severity::Info,
            }
        }
        #[allow(dead_code)]
        fn finding_from(f: $crate::Finding) -> wt::Finding {
            wt::Finding {
                severity: sev_from(f.severity),
                rule: f.rule,
                message: f.message,
                path: f.path,
                line: f.line,
                column: f.column,
                end_line: f.end_line,
                end_column: f.end_column,
            }
        }
        #[allow(dead_code)]
        fn finding_to(f: wt::Finding) -> $crate::Finding {
            $crate::Finding {
                severity: sev_to(f.severity),
                rule: f.rule,
                message: f.message,
                path: f.path,
                line: f.line,
                column: f.column,
                end_line: f.end_line,
                end_column: f.end_column,
            }
        }
        #[allow(dead_code)]
        fn report_from(r: $crate::GateReport) -> wt::GateReport {
            wt::GateReport {
                outcome: match r.outcome {
                    $crate::Outcome::Passed => wt::Outcome::Passed,
                    $crate::Outcome::Failed => wt::Outcome::Failed,
                    $crate::Outcome::Errored => wt::Outcome::Errored,
                    $crate::Outcome::Skipped => wt::Outcome::Skipped,
                },
                summary: r.summary,
                tests: r.tests.map(|t| wt::TestCounts {
                    passed: t.passed,
                    failed: t.failed,
                    skipped: t.skipped,
                    errored: t.errored,
                }),
                failures: r
                    .failures
                    .into_iter()
                    .map(|f| wt::TestFailure {
                        name: f.name,
                        message: f.message,
                        path: f.path,
                        line: f.line,
                        output: f.output,
                    })
                    .collect(),
                cases: r
                    .cases
                    .into_iter()
                    .map(|c| wt::TestCase {
                        name: c.name,
                        classname: c.classname,
                        path: c.path,
                        line: c.line,
                        seconds: c.seconds,
                        outcome: match c.outcome {
                            $crate::Outcome::Passed => wt::Outcome::Passed,
                            $crate::Outcome::Failed => wt::Outcome::Failed,
                            $crate::Outcome::Errored => wt::Outcome::Errored,
                            $crate::Outcome::Skipped => wt::Outcome::Skipped,
                        },
                        message: c.message,
                        output: c.output,
                    })
                    .collect(),
                coverage_percent: r.coverage_percent,
                findings: r.findings.into_iter().map(finding_from).collect(),
                evidence: r.evidence,
                exit_code: r.exit_code,
                duration_ms: r.duration_ms,
                shard: r.shard.map(|s| wt::ShardResult {
                    index: s.index,
                    count: s.count,
                    listed: s.listed,
                    list_digest: s.list_digest,
                }),
            }
        }
        #[allow(dead_code)]
        fn report_to(r: wt::GateReport) -> $crate::GateReport {
            $crate::GateReport {
                outcome: match r.outcome {
                    wt::Outcome::Passed => $crate::Outcome::Passed,
                    wt::Outcome::Failed => $crate::Outcome::Failed,
                    wt::Outcome::Errored => $crate::Outcome::Errored,
                    wt::Outcome::Skipped => $crate::Outcome::Skipped,
                },
                summary: r.summary,
                tests: r.tests.map(|t| $crate::TestCounts {
                    passed: t.passed,
                    failed: t.failed,
                    skipped: t.skipped,
                    errored: t.errored,
                }),
                failures: r
                    .failures
                    .into_iter()
                    .map(|f| $crate::TestFailure {
                        name: f.name,
                        message: f.message,
                        path: f.path,
                        line: f.line,
                        output: f.output,
                    })
                    .collect(),
                cases: r
                    .cases
                    .into_iter()
                    .map(|c| $crate::TestCase {
                        name: c.name,
                        classname: c.classname,
                        path: c.path,
                        line: c.line,
                        seconds: c.seconds,
                        outcome: match c.outcome {
                            wt::Outcome::Passed => $crate::Outcome::Passed,
                            wt::Outcome::Failed => $crate::Outcome::Failed,
                            wt::Outcome::Errored => $crate::Outcome::Errored,
                            wt::Outcome::Skipped => $crate::Outcome::Skipped,
                        },
                        message: c.message,
                        output: c.output,
                    })
                    .collect(),
                coverage_percent: r.coverage_percent,
                findings: r.findings.into_iter().map(finding_to).collect(),
                evidence: r.evidence,
                exit_code: r.exit_code,
                duration_ms: r.duration_ms,
                shard: r.shard.map(|s| $crate::record::ShardResult {
                    index: s.index,
                    count: s.count,
                    listed: s.listed,
                    list_digest: s.list_digest,
                }),
            }
        }
        #[allow(dead_code)]
        fn review_from(r: $crate::Review) -> wt::Review {
            wt::Review {
                approved: r.approved,
                criteria: r
                    .criteria
                    .into_iter()
                    .map(|c| wt::Criterion {
                        name: c.name,
                        score: match c.score {
                            $crate::Score::Pass => wt::Score::Pass,
                            $crate::Score::Weak => wt::Score::Weak,
                            $crate::Score::Fail => wt::Score::Fail,
                        },
                        reasoning: c.reasoning,
                    })
                    .collect(),
                findings: r.findings.into_iter().map(finding_from).collect(),
                summary: r.summary,
                transcript: r.transcript,
                usage: r.usage.map(usage_from),
            }
        }
        #[allow(dead_code)]
        fn usage_from(u: $crate::Usage) -> wt::Usage {
            wt::Usage {
                cost_usd: u.cost_usd,
                input_tokens: u.input_tokens,
                output_tokens: u.output_tokens,
                turns: u.turns,
            }
        }
        #[allow(dead_code)]
        fn task_to(t: wt::Task) -> $crate::Task {
            $crate::Task {
                id: t.id,
                title: t.title,
                summary: t.summary,
                body: t.body,
                acceptance: t.acceptance,
                acceptance_commands: t.acceptance_commands,
                files: t.files,
                out_of_scope: t.out_of_scope,
                dependencies: t
                    .dependencies
                    .into_iter()
                    .map(|d| $crate::Dependency {
                        id: d.id,
                        kind: match d.kind {
                            wt::DependencyKind::Blocking => $crate::DependencyKind::Blocking,
                            wt::DependencyKind::Soft => $crate::DependencyKind::Soft,
                            wt::DependencyKind::Sequencing => $crate::DependencyKind::Sequencing,
                            wt::DependencyKind::Shared => $crate::DependencyKind::Shared,
                        },
                    })
                    .collect(),
                milestone: t.milestone,
                steps: t.steps,
            }
        }
        #[allow(dead_code)]
        fn mounts_to(m: wt::Mounts) -> $crate::Mounts {
            $crate::Mounts {
                workspace: m.workspace,
                scratch: m.scratch,
            }
        }
    };
    (host) => {
        /// The real host: the `exec` and `log` imports.
        struct WasmHost;
        impl $crate::Host for WasmHost {
            fn exec(&self, c: &$crate::Command) -> Result<$crate::Output, $crate::ExecError> {
                use planexec::plugin::exec as ex;
                let cmd = ex::Command {
                    program: c.program.clone(),
                    args: c.args.clone(),
                    env: c.env.clone(),
                    cwd: c.cwd.clone(),
                    timeout_ms: c.timeout_ms,
                    stdout_file: c.stdout_file.clone(),
                };
                match ex::run(&cmd) {
                    Ok(o) => Ok($crate::Output {
                        exit_code: o.exit_code,
                        stdout: o.stdout,
                        stderr: o.stderr,
                        truncated: o.truncated,
                        timed_out: o.timed_out,
                        duration_ms: o.duration_ms,
                    }),
                    Err(ex::ExecError::NotGranted(m)) => Err($crate::ExecError::NotGranted(m)),
                    Err(ex::ExecError::NotFound(m)) => Err($crate::ExecError::NotFound(m)),
                    Err(ex::ExecError::Failed(m)) => Err($crate::ExecError::Failed(m)),
                }
            }
            fn log(&self, level: $crate::Level, message: &str) {
                use planexec::plugin::log as lg;
                let l = match level {
                    $crate::Level::Trace => lg::Level::Trace,
                    $crate::Level::Debug => lg::Level::Debug,
                    $crate::Level::Info => lg::Level::Info,
                    $crate::Level::Warn => lg::Level::Warn,
                    $crate::Level::Error => lg::Level::Error,
                };
                lg::emit(l, message);
            }
        }
    };
}

/// Exports a type implementing [`crate::Gate`] as a component of the `gate` world.
#[macro_export]
macro_rules! gate_component {
    // Standard plugins live in plugins/NAME, two folders below wit/.
    ($ty:ty) => {
        $crate::gate_component!($ty, wit = "../../wit");
    };
    // A plugin elsewhere names its own copy of the WIT (`planexec plugin new` writes `wit/`).
    ($ty:ty, wit = $wit:literal) => {
        #[cfg(target_arch = "wasm32")]
        mod __planexec_component {
            #[allow(unused_imports)]
            use super::*;
            wit_bindgen::generate!({ world: "gate", path: $wit });
            $crate::__pdk_conversions!(common);
            $crate::__pdk_conversions!(host);
            use exports::planexec::plugin::gate_plugin as api;
            struct Component;
            impl api::Guest for Component {
                fn check(req: api::GateRequest) -> Result<wt::GateReport, String> {
                    let req = $crate::GateRequest {
                        name: req.name,
                        config: $crate::parse_config(&req.config)?,
                        mounts: mounts_to(req.mounts),
                        task: req.task.map(task_to),
                        shard: req.shard.map(|s| $crate::Shard {
                            index: s.index,
                            count: s.count,
                            durations: s.durations,
                        }),
                    };
                    <$ty as $crate::Gate>::check(req, &WasmHost).map(report_from)
                }
            }
            export!(Component);
        }
    };
}

/// Exports a type implementing [`crate::Reviewer`] as a component of the `reviewer` world.
#[macro_export]
macro_rules! reviewer_component {
    // Standard plugins live in plugins/NAME, two folders below wit/.
    ($ty:ty) => {
        $crate::reviewer_component!($ty, wit = "../../wit");
    };
    // A plugin elsewhere names its own copy of the WIT (`planexec plugin new` writes `wit/`).
    ($ty:ty, wit = $wit:literal) => {
        #[cfg(target_arch = "wasm32")]
        mod __planexec_component {
            #[allow(unused_imports)]
            use super::*;
            wit_bindgen::generate!({ world: "reviewer", path: $wit });
            $crate::__pdk_conversions!(common);
            $crate::__pdk_conversions!(host);
            use exports::planexec::plugin::reviewer_plugin as api;
            struct Component;
            impl api::Guest for Component {
                fn evaluate(req: api::ReviewRequest) -> Result<wt::Review, String> {
                    let req = $crate::ReviewRequest {
                        kind: match req.kind {
                            api::ReviewKind::Task => $crate::ReviewKind::Task,
                            api::ReviewKind::Code => $crate::ReviewKind::Code,
                        },
                        config: $crate::parse_config(&req.config)?,
                        mounts: mounts_to(req.mounts),
                        task: task_to(req.task),
                        constraints: req.constraints,
                        other_tasks_files: req.other_tasks_files,
                        diff: req.diff,
                        changed_files: req
                            .changed_files
                            .into_iter()
                            .map(|c| $crate::ChangedFile {
                                path: c.path,
                                change: match c.change {
                                    api::ChangeKind::Added => $crate::ChangeKind::Added,
                                    api::ChangeKind::Modified => $crate::ChangeKind::Modified,
                                    api::ChangeKind::Deleted => $crate::ChangeKind::Deleted,
                                    api::ChangeKind::Renamed => $crate::ChangeKind::Renamed,
                                },
                                binary: c.binary,
                                size: c.size,
                                added_lines: c.added_lines,
                                removed_lines: c.removed_lines,
                            })
                            .collect(),
                        gate_reports: req
                            .gate_reports
                            .into_iter()
                            .map(|n| (n.name, report_to(n.report)))
                            .collect(),
                        implementer_findings: req
                            .implementer_findings
                            .into_iter()
                            .map(finding_to)
                            .collect(),
                    };
                    <$ty as $crate::Reviewer>::review(req, &WasmHost).map(review_from)
                }
            }
            export!(Component);
        }
    };
}

/// Exports a type implementing [`crate::Formatter`] as a component of the `formatter` world.
#[macro_export]
macro_rules! formatter_component {
    // Standard plugins live in plugins/NAME, two folders below wit/.
    ($ty:ty) => {
        $crate::formatter_component!($ty, wit = "../../wit");
    };
    // A plugin elsewhere names its own copy of the WIT (`planexec plugin new` writes `wit/`).
    ($ty:ty, wit = $wit:literal) => {
        #[cfg(target_arch = "wasm32")]
        mod __planexec_component {
            #[allow(unused_imports)]
            use super::*;
            wit_bindgen::generate!({ world: "formatter", path: $wit });
            use exports::planexec::plugin::formatter_plugin as api;
            struct Component;
            impl api::Guest for Component {
                fn render(req: api::RenderRequest) -> Result<Vec<api::Artifact>, String> {
                    let config = $crate::parse_config(&req.config)?;
                    let record = $crate::record::RunRecord::from_json(&req.run_record)
                        .map_err(|e| format!("run record: {e}"))?;
                    let out = <$ty as $crate::Formatter>::render(config, record)?;
                    Ok(out
                        .into_iter()
                        .map(|a| api::Artifact { path: a.path, content: a.content })
                        .collect())
                }
            }
            export!(Component);
        }
    };
}

/// Exports a type implementing [`crate::Implementer`] as a component of the `implementer` world.
#[macro_export]
macro_rules! implementer_component {
    // Standard plugins live in plugins/NAME, two folders below wit/.
    ($ty:ty) => {
        $crate::implementer_component!($ty, wit = "../../wit");
    };
    // A plugin elsewhere names its own copy of the WIT (`planexec plugin new` writes `wit/`).
    ($ty:ty, wit = $wit:literal) => {
        #[cfg(target_arch = "wasm32")]
        mod __planexec_component {
            #[allow(unused_imports)]
            use super::*;
            wit_bindgen::generate!({ world: "implementer", path: $wit });
            $crate::__pdk_conversions!(common);
            $crate::__pdk_conversions!(host);
            use exports::planexec::plugin::implementer_plugin as api;
            struct Component;
            impl api::Guest for Component {
                fn implement(req: api::ImplementRequest) -> Result<api::ImplementReport, String> {
                    let req = $crate::ImplementRequest {
                        config: $crate::parse_config(&req.config)?,
                        mounts: mounts_to(req.mounts),
                        task: task_to(req.task),
                        cycle: req.cycle,
                        feedback: req.feedback.into_iter().map(finding_to).collect(),
                        feedback_text: req.feedback_text,
                        plan_path: req.plan_path,
                        plan_dir: req.plan_dir,
                        constraints: req.constraints,
                        tolerances: req.tolerances,
                    };
                    let r = <$ty as $crate::Implementer>::implement(req, &WasmHost)?;
                    Ok(api::ImplementReport {
                        status: match r.status {
                            $crate::ImplementStatus::Done => api::ImplementStatus::Done,
                            $crate::ImplementStatus::Waiting => api::ImplementStatus::Waiting,
                            $crate::ImplementStatus::Failed => api::ImplementStatus::Failed,
                        },
                        summary: r.summary,
                        evidence: r.evidence,
                        claimed_files: r.claimed_files,
                        findings: r.findings.into_iter().map(finding_from).collect(),
                        usage: r.usage.map(usage_from),
                        transcript: r.transcript,
                    })
                }
            }
            export!(Component);
        }
    };
}
