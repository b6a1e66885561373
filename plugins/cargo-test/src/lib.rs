//! The `cargo-test` gate: runs `cargo test --no-fail-fast` in the workspace and parses libtest's
//! per-test lines and `test result:` summaries of every test binary; compile errors fail the gate.

mod shard;

use planexec_pdk::{Command, Finding, Gate, GateReport, GateRequest, Host, Outcome, TestFailure};
use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use testfmt::libtest;
use testfmt::Timeout;

#[derive(serde::Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Config {
    /// Extra arguments before `--` (e.g. `["--workspace", "--all-features"]`).
    args: Vec<String>,
    /// `-p <package>`.
    package: Option<String>,
    /// Arguments for the test binaries, after `--` (e.g. `["--test-threads=1"]`).
    test_args: Vec<String>,
    /// Keep going after a failing test binary (default true).
    no_fail_fast: Option<bool>,
    timeout: Option<Timeout>,
    /// Workspace-relative directory to run in.
    cwd: Option<String>,
    /// Lines of output kept as evidence.
    tail_lines: Option<usize>,
}

const OUT: &str = "cargo-test.out";

pub struct CargoTestGate;

impl Gate for CargoTestGate {
    fn check(req: GateRequest, host: &dyn Host) -> Result<GateReport, String> {
        let cfg: Config = planexec_pdk::config(&req.config)?;
        let mut cmd = Command::new("cargo").arg("test");
        if cfg.no_fail_fast.unwrap_or(true) {
            cmd = cmd.arg("--no-fail-fast");
        }
        if let Some(p) = &cfg.package {
            cmd = cmd.arg("-p").arg(p.clone());
        }
        cmd = cmd.args(cfg.args.iter().cloned());
        cmd.env.push(("CARGO_TERM_COLOR".into(), "never".into()));
        cmd.cwd = cfg.cwd.clone();
        cmd.timeout_ms = testfmt::timeout_ms(&cfg.timeout)?;
        let mut filters: Vec<String> = Vec::new();
        let mut sharded = None;
        if let Some(part) = testfmt::shard::part_of(&req) {
            let mut list = cmd.clone().arg("--").args(cfg.test_args.iter().cloned());
            list = list.arg("--list");
            match shard::plan(host, &list, &part) {
                shard::Plan::Done(r) => return Ok(r),
                shard::Plan::ListingFailed(out) => {
                    let parsed = libtest::parse(&out.stdout[..]).map_err(|e| e.to_string())?;
                    let tail = cfg.tail_lines.unwrap_or(40);
                    return Ok(judge(parsed, &out, cfg.cwd.as_deref(), tail));
                }
                shard::Plan::Run(names, result) => {
                    filters = names;
                    sharded = Some(result);
                }
            }
        }
        if !cfg.test_args.is_empty() || !filters.is_empty() {
            cmd = cmd
                .arg("--")
                .args(cfg.test_args.iter().cloned())
                .args(filters);
        }
        cmd.stdout_file = Some(format!("{{scratch}}/{OUT}"));
        let out_path = std::path::Path::new(&req.mounts.scratch).join(OUT);
        let _ = std::fs::remove_file(&out_path);
        let out = match testfmt::run(host, &cmd) {
            Ok(o) => o,
            Err(r) => return Ok(r),
        };
        let mut parsed = match File::open(&out_path) {
            Ok(f) => {
                libtest::parse(BufReader::new(f)).map_err(|e| format!("reading {OUT}: {e}"))?
            }
            // Some hosts (and the fake one) return stdout instead of writing the file.
            Err(_) => libtest::parse(&out.stdout[..]).map_err(|e| e.to_string())?,
        };
        let base = Path::new(&req.mounts.workspace).join(cfg.cwd.as_deref().unwrap_or(""));
        locate_doctest_panics(&mut parsed, &base);
        let mut r = judge(
            parsed,
            &out,
            cfg.cwd.as_deref(),
            cfg.tail_lines.unwrap_or(40),
        );
        r.shard = sharded;
        Ok(r)
    }
}

/// Moves the location of each doc test that panicked inside its snippet from the line rustdoc's
/// wrapper gave (`src/lib.rs:6`) to the file's line (the `(line N)` of its name plus the offset).
/// `base` is the guest directory cargo ran in; sources are read from the workspace mount.
fn locate_doctest_panics(parsed: &mut libtest::LibtestResult, base: &Path) {
    for f in parsed.failures.list.iter_mut() {
        let (Some(path), Some(fence)) = libtest::doctest_location(&f.name) else {
            continue;
        };
        let (Some(p), Some(line)) = (f.path.as_deref(), f.line) else {
            continue;
        };
        if p != path || line == fence {
            continue;
        }
        let file = base.join(&path);
        let (Ok(source), Some(krate)) = (std::fs::read_to_string(&file), crate_name(&file)) else {
            continue;
        };
        if let Some(l) = libtest::doctest_file_line(fence, line, &source, &krate) {
            f.line = Some(l);
        }
    }
}

/// The crate name (`-` as `_`) from the nearest Cargo.toml above `file` that has a
/// `[package]` (or `[lib]`) `name`.
fn crate_name(file: &Path) -> Option<String> {
    let mut dir = file.parent();
    while let Some(d) = dir {
        if let Ok(toml) = std::fs::read_to_string(d.join("Cargo.toml")) {
            if let Some(n) = manifest_name(&toml) {
                return Some(n.replace('-', "_"));
            }
        }
        dir = d.parent();
    }
    None
}

/// `name = "…"` of `[lib]`, else of `[package]`.
fn manifest_name(toml: &str) -> Option<String> {
    let (mut section, mut package, mut lib) = (String::new(), None, None);
    for l in toml.lines().map(str::trim) {
        if l.starts_with('[') {
            section = l.to_string();
            continue;
        }
        let Some(v) = l
            .strip_prefix("name")
            .map(str::trim_start)
            .and_then(|r| r.strip_prefix('='))
        else {
            continue;
        };
        let v = v.trim().trim_matches('"').to_string();
        match section.as_str() {
            "[package]" => package = Some(v),
            "[lib]" => lib = Some(v),
            _ => {}
        }
    }
    lib.or(package)
}

fn judge(
    p: libtest::LibtestResult,
    out: &planexec_pdk::Output,
    cwd: Option<&str>,
    tail: usize,
) -> GateReport {
    let stderr = out.stderr_str();
    let counts = p.counts;
    let mut r;
    if out.timed_out {
        r = planexec_pdk::report(
            Outcome::Failed,
            format!(
                "cargo test timed out after {} ms ({})",
                out.duration_ms,
                testfmt::counts_text(&counts)
            ),
        );
    } else if p.binaries == 0 && out.exit_code != Some(0) {
        let (findings, text) = libtest::compile_errors(&stderr);
        if findings.is_empty() {
            r = planexec_pdk::report(
                Outcome::Errored,
                format!(
                    "cargo test {} without running any test binary",
                    testfmt::exit_text(out.exit_code)
                ),
            );
        } else {
            let first = &findings[0];
            r = planexec_pdk::report(
                Outcome::Failed,
                format!(
                    "does not compile: {} ({} error(s))",
                    first.message,
                    findings.len()
                ),
            );
            r.findings = findings
                .into_iter()
                .map(|f| Finding {
                    path: f.path.map(|p| testfmt::ws_rel(cwd, &p)),
                    ..f
                })
                .collect();
            r.evidence = text;
        }
    } else {
        let failed = counts.failed > 0 || p.failed_lines > 0 || out.exit_code != Some(0);
        let mut summary = format!(
            "{} in {} test binaries",
            testfmt::counts_text(&counts),
            p.binaries
        );
        if failed && counts.failed == 0 && p.failed_lines == 0 {
            // e.g. a test binary crashed (signal) or a later target did not compile.
            let (findings, _) = libtest::compile_errors(&stderr);
            summary = match findings.first() {
                Some(f) => format!("{summary}; {}", f.message),
                None => format!(
                    "{summary}; cargo test {}",
                    testfmt::exit_text(out.exit_code)
                ),
            };
        }
        r = planexec_pdk::report(
            if failed {
                Outcome::Failed
            } else {
                Outcome::Passed
            },
            summary,
        );
        r.tests = Some(counts);
        r.failures = p
            .failures
            .list
            .into_iter()
            .map(|f| TestFailure {
                path: f.path.map(|x| testfmt::ws_rel(cwd, &x)),
                ..f
            })
            .collect();
        if p.failures.dropped > 0 {
            r.summary.push_str(&format!(
                " ({} more failures not listed)",
                p.failures.dropped
            ));
        }
        r.cases = p
            .cases
            .list
            .iter()
            .cloned()
            .map(|c| planexec_pdk::TestCase {
                path: c.path.map(|x| testfmt::ws_rel(cwd, &x)),
                ..c
            })
            .collect();
    }
    if r.tests.is_none() && p.binaries > 0 {
        r.tests = Some(counts);
    }
    if r.evidence.is_empty() {
        r.evidence = planexec_pdk::text::tail(&stderr, tail);
    }
    testfmt::finish(r, out, tail)
}

planexec_pdk::gate_component!(CargoTestGate);

#[cfg(test)]
mod tests {
    use super::*;
    use planexec_pdk::testing::FakeHost;
    use planexec_pdk::{Mounts, Output, TestCounts};
    use serde_json::json;

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!(
            "{}/tests/fixtures/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    fn run(case: &str, code: i32, config: serde_json::Value) -> (GateReport, FakeHost) {
        let host = FakeHost::new().on_output(
            "cargo",
            Output {
                exit_code: Some(code),
                stdout: fixture(&format!("{case}.stdout")).into_bytes(),
                stderr: fixture(&format!("{case}.stderr")).into_bytes(),
                ..Default::default()
            },
        );
        let mounts = Mounts {
            workspace: "/nonexistent/ws".into(),
            scratch: "/nonexistent/scratch".into(),
        };
        let req = GateRequest {
            name: "cargo-test".into(),
            config,
            mounts,
            task: None,
            shard: None,
        };
        (CargoTestGate::check(req, &host).unwrap(), host)
    }

    #[test]
    fn passing_project() {
        let (r, host) = run("passing", 0, json!({}));
        assert_eq!(r.outcome, Outcome::Passed, "{}", r.summary);
        assert_eq!(
            r.tests,
            Some(TestCounts {
                passed: 2,
                failed: 0,
                skipped: 0,
                errored: 0
            })
        );
        assert!(r.failures.is_empty());
        let call = &host.calls.borrow()[0];
        assert_eq!(call.args, ["test", "--no-fail-fast"]);
        assert_eq!(
            call.stdout_file.as_deref(),
            Some("{scratch}/cargo-test.out")
        );
    }

    #[test]
    fn two_passed_one_failed_over_three_binaries() {
        let (r, _) = run(
            "failing",
            101,
            json!({"package": "fixture-failing", "test_args": ["--test-threads=1"]}),
        );
        assert_eq!(r.outcome, Outcome::Failed);
        assert_eq!(
            r.tests,
            Some(TestCounts {
                passed: 2,
                failed: 1,
                skipped: 1,
                errored: 0
            })
        );
        assert!(r.summary.contains("3 test binaries"), "{}", r.summary);
        let n = |o: Outcome| r.cases.iter().filter(|c| c.outcome == o).count() as u32;
        assert_eq!(
            (n(Outcome::Passed), n(Outcome::Failed), n(Outcome::Skipped)),
            (2, 1, 1),
            "{:#?}",
            r.cases
        );
        let sub = r
            .cases
            .iter()
            .find(|c| c.name == "tests::subtracts")
            .unwrap();
        assert_eq!((sub.classname.as_str(), sub.line), ("tests", Some(19)));
        assert!(sub.message.starts_with("assertion `left == right` failed"));
        assert_eq!(r.failures.len(), 1);
        let f = &r.failures[0];
        assert_eq!(f.name, "tests::subtracts");
        assert_eq!(f.path.as_deref(), Some("src/lib.rs"));
        assert_eq!(f.line, Some(19));
        assert!(
            f.message.starts_with("assertion `left == right` failed"),
            "{}",
            f.message
        );
        assert!(f.message.contains("left: 8"));
        assert!(f.output.starts_with("checking 5 - 3"), "{}", f.output);
        assert_eq!(r.exit_code, Some(101));
    }

    #[test]
    fn args_are_passed_in_order() {
        let (_, host) = run(
            "failing",
            101,
            json!({"package": "p", "args": ["--lib"], "test_args": ["--test-threads=1"], "timeout": "5m"}),
        );
        let call = &host.calls.borrow()[0];
        assert_eq!(
            call.args,
            [
                "test",
                "--no-fail-fast",
                "-p",
                "p",
                "--lib",
                "--",
                "--test-threads=1"
            ]
        );
        assert_eq!(call.timeout_ms, Some(300_000));
    }

    #[test]
    fn compile_error_fails_with_the_compiler_message() {
        let (r, _) = run("broken", 101, json!({"cwd": "crates/x"}));
        assert_eq!(r.outcome, Outcome::Failed);
        assert!(
            r.summary.contains("cannot find value `c` in this scope"),
            "{}",
            r.summary
        );
        assert_eq!(r.findings.len(), 1, "{:?}", r.findings);
        let f = &r.findings[0];
        assert_eq!(f.rule, "rustc/E0425");
        assert_eq!(f.path.as_deref(), Some("crates/x/src/lib.rs"));
        assert_eq!((f.line, f.column), (Some(2), Some(9)));
        assert!(r.evidence.contains("a + c"));
        assert_eq!(r.tests, None);
    }

    #[test]
    fn missing_cargo_is_errored_and_bad_config_is_an_error() {
        let host = FakeHost::new();
        let req = GateRequest {
            name: "c".into(),
            config: json!({}),
            mounts: Default::default(),
            task: None,
            shard: None,
        };
        assert_eq!(
            CargoTestGate::check(req, &host).unwrap().outcome,
            Outcome::Errored
        );
        let req = GateRequest {
            name: "c".into(),
            config: json!({"bogus": 1}),
            mounts: Default::default(),
            task: None,
            shard: None,
        };
        assert!(CargoTestGate::check(req, &host).is_err());
    }
}

#[cfg(test)]
mod exact_tests {
    //! Failures whose details libtest prints in unusual places (issue 15 items 2 and 3).
    use super::*;
    use planexec_pdk::testing::FakeHost;
    use planexec_pdk::{Mounts, Output};
    use serde_json::json;

    fn run_exact() -> GateReport {
        let dir = env!("CARGO_MANIFEST_DIR");
        let stdout = std::fs::read(format!("{dir}/tests/fixtures/exact.stdout")).unwrap();
        let host = FakeHost::new().on_output(
            "cargo",
            Output {
                exit_code: Some(101),
                stdout,
                ..Default::default()
            },
        );
        let mounts = Mounts {
            workspace: format!("{dir}/tests/projects/exact"),
            scratch: "/nonexistent/scratch".into(),
        };
        CargoTestGate::check(
            GateRequest {
                name: "cargo-test".into(),
                config: json!({}),
                mounts,
                task: None,
                shard: None,
            },
            &host,
        )
        .unwrap()
    }

    fn get<'a>(r: &'a GateReport, name: &str) -> &'a TestFailure {
        r.failures
            .iter()
            .find(|f| f.name == name)
            .unwrap_or_else(|| panic!("no {name} in {:?}", r.failures))
    }

    #[test]
    fn should_panic_that_returned_has_message_and_location() {
        let r = run_exact();
        let f = get(&r, "tests::half_of_odd_panics");
        assert_eq!(f.message, "test did not panic as expected");
        assert_eq!((f.path.as_deref(), f.line), (Some("src/lib.rs"), Some(29)));
        assert!(f.output.contains("did not panic"), "{}", f.output);
    }

    #[test]
    fn compile_fail_doctest_that_compiled_has_message_and_location() {
        let r = run_exact();
        let f = get(&r, "src/lib.rs - half (line 7)");
        assert!(f.message.contains("marked `compile_fail`"), "{}", f.message);
        assert_eq!((f.path.as_deref(), f.line), (Some("src/lib.rs"), Some(7)));
    }

    #[test]
    fn panicking_doctest_is_located_at_the_file_line() {
        let r = run_exact();
        let f = get(&r, "src/lib.rs - half (line 14)");
        assert!(
            f.message.contains("half of three rounds down"),
            "{}",
            f.message
        );
        assert_eq!(
            (f.path.as_deref(), f.line),
            (Some("src/lib.rs"), Some(16)),
            "the assert_eq! line"
        );
    }

    #[test]
    fn manifest_names() {
        assert_eq!(
            manifest_name("[package]\nname = \"my-crate\"\n"),
            Some("my-crate".into())
        );
        assert_eq!(
            manifest_name("[package]\nname = \"a\"\n[lib]\nname = \"b\"\n"),
            Some("b".into())
        );
    }
}
