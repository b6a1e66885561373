//! The `pytest` gate: runs pytest (`python3 -m pytest` by default) with `--junitxml` in scratch,
//! then stream-reads the report: counts, and each failure with its test id, message, file and line.

mod shard;

use planexec_pdk::{Command, Gate, GateReport, GateRequest, Host, Outcome, TestFailure};
use std::io::BufReader;
use testfmt::junit::{self, JunitResult, Style};
use testfmt::Timeout;

#[derive(serde::Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Config {
    /// How to start pytest (default `python3 -m pytest`).
    command: Option<String>,
    /// Extra arguments appended (paths, `-x`, `-k expr`, `-m marker`).
    args: Vec<String>,
    /// Exit code 5 (no tests collected) passes instead of failing.
    allow_no_tests: bool,
    timeout: Option<Timeout>,
    /// Workspace-relative directory to run in (pytest's rootdir is usually found from there).
    cwd: Option<String>,
    tail_lines: Option<usize>,
}

const REPORT: &str = "pytest-junit.xml";

pub struct PytestGate;

impl Gate for PytestGate {
    fn check(req: GateRequest, host: &dyn Host) -> Result<GateReport, String> {
        let cfg: Config = planexec_pdk::config(&req.config)?;
        let (program, base) =
            testfmt::split_program(cfg.command.as_deref().unwrap_or("python3 -m pytest"))?;
        let mut cmd = Command::new(program.clone()).args(base.clone()).args([
            format!("--junitxml={{scratch}}/{REPORT}"),
            "-o".into(),
            "junit_family=xunit1".into(),
            "-o".into(),
            "junit_logging=system-out".into(),
            "-o".into(),
            "junit_log_passing_tests=false".into(),
            // pytest's own cache (`--lf`, `--ff`) kept between runs, outside the workspace.
            "-o".into(),
            "cache_dir={cache}/pytest".into(),
            // Before the user's args, so it overrides an `addopts = --tb=line` of the project.
            "--tb=short".into(),
        ]);
        cmd = cmd.args(located_tracebacks(&cfg.args));
        cmd.cwd = cfg.cwd.clone();
        cmd.timeout_ms = testfmt::timeout_ms(&cfg.timeout)?;
        let mut sharded = None;
        if let Some(part) = testfmt::shard::part_of(&req) {
            let mut list = Command::new(program.clone()).args(base.clone()).args([
                "--collect-only",
                "-q",
                "-o",
                "cache_dir={cache}/pytest",
            ]);
            list = list.args(located_tracebacks(&cfg.args));
            list.cwd = cfg.cwd.clone();
            list.timeout_ms = cmd.timeout_ms;
            match shard::plan(host, &list, &part) {
                shard::Plan::Done(r) => return Ok(r),
                shard::Plan::Deselect(others, result) => {
                    cmd = cmd.args(others);
                    sharded = Some(result);
                }
            }
        }
        let path = std::path::Path::new(&req.mounts.scratch).join(REPORT);
        let _ = std::fs::remove_file(&path);
        let out = match testfmt::run(host, &cmd) {
            Ok(o) => o,
            Err(r) => return Ok(r),
        };
        let tail = cfg.tail_lines.unwrap_or(40);
        let mut parsed = JunitResult::default();
        let have_report = match std::fs::File::open(&path) {
            Ok(f) => {
                if let Err(e) = junit::parse(BufReader::new(f), Style::Pytest, &mut parsed) {
                    let mut r = planexec_pdk::report(
                        Outcome::Errored,
                        format!("unreadable JUnit report: {e}"),
                    );
                    r.evidence = planexec_pdk::text::tail(&out.combined(), tail);
                    return Ok(testfmt::finish(r, &out, tail));
                }
                true
            }
            Err(_) => false,
        };
        let mut r = judge(parsed, have_report, &out, &cfg, &req.mounts.workspace);
        r.shard = sharded;
        Ok(testfmt::finish(r, &out, tail))
    }
}

/// The user's args with `--tb=line` and `--tb=no` run as `--tb=short`: pytest writes its
/// JUnit failure text in the traceback style asked for, and those two styles carry no
/// `file:line` there, so every failure would be located at its `def` line.
fn located_tracebacks(args: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len());
    let mut it = args.iter().peekable();
    while let Some(a) = it.next() {
        let style = match a.as_str() {
            "--tb" => it.peek().map(|s| s.as_str()),
            s => s.strip_prefix("--tb="),
        };
        match style {
            Some("line" | "no") => {
                if a == "--tb" {
                    it.next();
                }
                out.push("--tb=short".to_string());
            }
            _ => out.push(a.clone()),
        }
    }
    out
}

fn judge(
    p: JunitResult,
    have_report: bool,
    out: &planexec_pdk::Output,
    cfg: &Config,
    workspace: &str,
) -> GateReport {
    let code = out.exit_code;
    let counts = p.counts;
    let text = testfmt::counts_text(&counts);
    if out.timed_out {
        let mut r = planexec_pdk::report(
            Outcome::Failed,
            format!("pytest timed out after {} ms", out.duration_ms),
        );
        r.tests = have_report.then_some(counts);
        return r;
    }
    if code == Some(5) {
        return if cfg.allow_no_tests {
            planexec_pdk::report(
                Outcome::Passed,
                "no tests collected (allowed by allow_no_tests)",
            )
        } else {
            let mut r = planexec_pdk::report(Outcome::Failed, "no tests collected (pytest exit 5)");
            r.tests = Some(counts);
            r
        };
    }
    if !have_report {
        if let Some(r) = testfmt::python_module_missing(out, "pytest") {
            return r;
        }
        return planexec_pdk::report(
            Outcome::Errored,
            format!(
                "pytest {} without writing a JUnit report",
                testfmt::exit_text(code)
            ),
        );
    }
    let (outcome, summary) = match code {
        Some(0) if counts.failed == 0 && counts.errored == 0 => (Outcome::Passed, text),
        Some(0) | Some(1) => (Outcome::Failed, text),
        Some(2) => (
            Outcome::Failed,
            format!("pytest was interrupted (collection errors?): {text}"),
        ),
        Some(c) => (
            Outcome::Errored,
            format!("pytest exited {c} (internal or usage error): {text}"),
        ),
        None => (
            Outcome::Errored,
            format!("pytest was killed by a signal: {text}"),
        ),
    };
    let mut r = planexec_pdk::report(outcome, summary);
    r.tests = Some(counts);
    if p.failures.dropped > 0 {
        r.summary.push_str(&format!(
            " ({} more failures not listed)",
            p.failures.dropped
        ));
    }
    r.failures = p
        .failures
        .list
        .into_iter()
        .map(|f| TestFailure {
            name: rooted_id(workspace, cfg.cwd.as_deref(), &f.name),
            path: f.path.map(|x| rooted(workspace, cfg.cwd.as_deref(), &x)),
            ..f
        })
        .collect();
    r.cases = p
        .listed
        .list
        .into_iter()
        .map(|c| planexec_pdk::TestCase {
            path: c.path.map(|x| rooted(workspace, cfg.cwd.as_deref(), &x)),
            ..c
        })
        .collect();
    r
}

/// A node id on the same base as the locations: its file part workspace-relative, so that
/// `python3 -m pytest ID` run at the workspace root reruns it (pytest finds the rootdir from
/// the path), whatever `cwd` the gate ran in.
fn rooted_id(workspace: &str, cwd: Option<&str>, id: &str) -> String {
    match id.split_once("::") {
        Some((file, rest)) if file.ends_with(".py") => {
            format!("{}::{rest}", rooted(workspace, cwd, file))
        }
        _ => id.to_string(),
    }
}

/// A path pytest printed, workspace-relative. pytest writes paths relative to its rootdir,
/// which is `cwd` or a directory above it (the one with pyproject.toml or pytest.ini): the
/// path is joined to `cwd` when that file exists, else to the nearest directory above `cwd`
/// (up to the workspace) where it does.
fn rooted(workspace: &str, cwd: Option<&str>, p: &str) -> String {
    let cwd = cwd.unwrap_or("").trim_matches('/');
    if cwd.is_empty() || cwd == "." || p.starts_with('/') {
        return testfmt::ws_rel(None, p);
    }
    let mut base: Vec<&str> = cwd.split('/').collect();
    loop {
        let candidate = testfmt::ws_rel(Some(&base.join("/")), p);
        if std::path::Path::new(workspace).join(&candidate).exists() {
            return candidate;
        }
        if base.pop().is_none() || base.is_empty() {
            break;
        }
    }
    let at_root = testfmt::ws_rel(None, p);
    if std::path::Path::new(workspace).join(&at_root).exists() {
        at_root
    } else {
        testfmt::ws_rel(Some(cwd), p)
    }
}

planexec_pdk::gate_component!(PytestGate);

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

    /// Runs the gate as if pytest had exited `code` after writing fixture `case`'s report.
    fn run(case: &str, code: i32, config: serde_json::Value) -> (GateReport, FakeHost) {
        let scratch =
            std::env::temp_dir().join(format!("pytest-gate-{case}-{}-{code}", std::process::id()));
        std::fs::create_dir_all(&scratch).unwrap();
        let host = FakeHost::new().on_output(
            "python3",
            Output {
                exit_code: Some(code),
                stdout: fixture(&format!("{case}.stdout")).into_bytes(),
                ..Default::default()
            },
        );
        // FakeHost cannot write files: write the report when pytest "runs".
        let host = testfmt::testing::WritesFile {
            inner: host,
            path: scratch.join(REPORT),
            content: fixture(&format!("{case}.junit.xml")).into_bytes(),
        };
        let mounts = Mounts {
            workspace: "/nonexistent".into(),
            scratch: scratch.display().to_string(),
        };
        let req = GateRequest {
            name: "pytest".into(),
            config,
            mounts,
            task: None,
            shard: None,
        };
        let r = PytestGate::check(req, &host).unwrap();
        let _ = std::fs::remove_dir_all(&scratch);
        (r, host.inner)
    }

    #[test]
    fn passing_project_with_defaults() {
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
        let c = &host.calls.borrow()[0];
        assert_eq!(c.program, "python3");
        assert_eq!(
            &c.args[..3],
            ["-m", "pytest", "--junitxml={scratch}/pytest-junit.xml"]
        );
        // Bytecode goes to the box's PYTHONPYCACHEPREFIX (in `{cache}`), and is reused: not
        // writing it at all made every run compile pytest and coverage from source.
        assert!(c.env.iter().all(|(k, _)| k != "PYTHONDONTWRITEBYTECODE"));
    }

    /// Every test is a case; per outcome they count what pytest counted. Called from the
    /// test below: `run` of the same fixture and exit code in two tests would share (and
    /// delete) one scratch directory.
    fn every_test_case_with_its_outcome(r: &GateReport) {
        let t = r.tests.unwrap();
        assert_eq!(
            r.cases.len() as u32,
            t.passed + t.failed + t.skipped + t.errored
        );
        let n = |o: Outcome| r.cases.iter().filter(|c| c.outcome == o).count() as u32;
        assert_eq!(
            (
                n(Outcome::Passed),
                n(Outcome::Failed),
                n(Outcome::Skipped),
                n(Outcome::Errored)
            ),
            (t.passed, t.failed, t.skipped, t.errored)
        );
        let add = r
            .cases
            .iter()
            .find(|c| c.name == "tests/test_calc.py::test_add_wrong")
            .expect("the failing test is listed");
        assert_eq!(add.outcome, Outcome::Failed);
        assert_eq!(add.path.as_deref(), Some("tests/test_calc.py"));
        assert!(add.message.contains("assert 4 == 5"), "{}", add.message);
        assert!(add.seconds.is_some());
        assert!(r.cases.iter().all(|c| !c.classname.is_empty()));
    }

    #[test]
    fn failing_project_lists_failures_with_ids_files_and_lines() {
        let (r, _) = run("failing", 1, json!({"args": ["tests"]}));
        every_test_case_with_its_outcome(&r);
        assert_eq!(r.outcome, Outcome::Failed);
        assert_eq!(
            r.tests,
            Some(TestCounts {
                passed: 2,
                failed: 2,
                skipped: 2,
                errored: 1
            })
        );
        let names: Vec<_> = r.failures.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "tests/test_calc.py::test_add_wrong",
                "tests/test_calc.py::TestDiv::test_div_zero",
                "tests/test_calc.py::test_uses_broken"
            ]
        );
        let f = &r.failures[0];
        assert_eq!(f.message, "assert 4 == 5\n +  where 4 = add(2, 2)");
        assert_eq!(
            (f.path.as_deref(), f.line),
            (Some("tests/test_calc.py"), Some(12))
        );
        assert!(f.output.contains("about to check"), "{}", f.output);
        let f = &r.failures[1];
        assert_eq!(f.message, "ZeroDivisionError: division by zero");
        assert_eq!(
            (f.path.as_deref(), f.line),
            (Some("tests/test_calc.py"), Some(20))
        );
        let f = &r.failures[2];
        assert_eq!(
            f.message,
            "failed on setup with \"RuntimeError: fixture exploded\""
        );
        assert_eq!(
            (f.path.as_deref(), f.line),
            (Some("tests/test_calc.py"), Some(25))
        );
    }

    #[test]
    fn no_tests_collected_fails_unless_allowed() {
        let (r, _) = run("empty", 5, json!({}));
        assert_eq!(r.outcome, Outcome::Failed);
        assert!(r.summary.contains("no tests collected"));
        let (r, _) = run("empty", 5, json!({"allow_no_tests": true}));
        assert_eq!(r.outcome, Outcome::Passed);
    }

    #[test]
    fn custom_command_cwd_and_missing_report() {
        let host = FakeHost::new().on("pytest", 1, "/usr/bin/python3: No module named pytest\n");
        let mounts = Mounts {
            workspace: "/nonexistent".into(),
            scratch: "/nonexistent/scratch".into(),
        };
        let req = GateRequest {
            name: "p".into(),
            config: json!({"command": "pytest", "cwd": "app"}),
            mounts,
            task: None,
            shard: None,
        };
        let r = PytestGate::check(req, &host).unwrap();
        assert_eq!(r.outcome, Outcome::Errored);
        assert!(r.summary.contains("not installed"), "{}", r.summary);
        assert_eq!(host.calls.borrow()[0].cwd.as_deref(), Some("app"));
        assert_eq!(
            host.calls.borrow()[0].args[0],
            "--junitxml={scratch}/pytest-junit.xml"
        );
    }
}

#[cfg(test)]
mod traceback_tests {
    use super::located_tracebacks;

    fn v(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn line_and_no_tracebacks_run_short_others_pass_through() {
        assert_eq!(
            located_tracebacks(&v(&["-k", "x", "--tb=line", "--tb", "no", "-x"])),
            v(&["-k", "x", "--tb=short", "--tb=short", "-x"])
        );
        let keep = v(&["--tb=native", "--tb", "long", "--tbx=no"]);
        assert_eq!(located_tracebacks(&keep), keep);
    }
}

#[cfg(test)]
mod exact_tests {
    //! Names and counts as pytest gives them (issue 15): inherited tests, teardown errors, subtests.
    use super::*;
    use planexec_pdk::testing::FakeHost;
    use planexec_pdk::{Mounts, Output, TestCounts};
    use serde_json::json;

    fn run_exact(case: &str) -> GateReport {
        let dir = env!("CARGO_MANIFEST_DIR");
        let scratch =
            std::env::temp_dir().join(format!("pytest-gate-exact-{case}-{}", std::process::id()));
        std::fs::create_dir_all(&scratch).unwrap();
        let read = |n: &str| std::fs::read(format!("{dir}/tests/fixtures/{n}")).unwrap();
        let host = FakeHost::new().on_output(
            "python3",
            Output {
                exit_code: Some(1),
                stdout: read("exact.stdout"),
                ..Default::default()
            },
        );
        let host = testfmt::testing::WritesFile {
            inner: host,
            path: scratch.join(REPORT),
            content: read("exact.junit.xml"),
        };
        let mounts = Mounts {
            workspace: "/nonexistent".into(),
            scratch: scratch.display().to_string(),
        };
        let r = PytestGate::check(
            GateRequest {
                name: "pytest".into(),
                config: json!({}),
                mounts,
                task: None,
                shard: None,
            },
            &host,
        )
        .unwrap();
        let _ = std::fs::remove_dir_all(&scratch);
        r
    }

    #[test]
    fn counts_match_pytests_summary_line() {
        // pytest: "5 failed, 5 passed, 2 errors, 3 subtests passed"
        let r = run_exact("counts");
        assert_eq!(
            r.tests,
            Some(TestCounts {
                passed: 5,
                failed: 5,
                skipped: 0,
                errored: 2
            }),
            "{}",
            r.summary
        );
    }

    #[test]
    fn inherited_tests_are_named_by_the_module_that_collected_them() {
        let r = run_exact("names");
        let names: Vec<_> = r.failures.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "tests/test_shapes.py::TestTriangle::test_sides_even",
                "tests/test_shapes.py::TestPentagon::test_sides_even",
                "tests/test_sub.py::test_squares",
                "tests/test_teardown.py::test_uses_resource",
                "tests/test_teardown.py::test_fails_and_teardown_fails",
            ]
        );
        let f = &r.failures[0];
        assert_eq!(
            (f.path.as_deref(), f.line),
            (Some("tests/test_base.py"), Some(11)),
            "where the assert is"
        );
        assert!(
            r.failures[4].message.contains("then failed on teardown"),
            "{}",
            r.failures[4].message
        );
    }
}
