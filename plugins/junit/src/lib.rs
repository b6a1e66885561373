//! The `junit` gate: runs any configured test command, then stream-parses the JUnit XML report it
//! wrote (a file or a directory of `*.xml`); the way to gate cargo nextest, jest, maven surefire.

use planexec_pdk::{Command, Gate, GateReport, GateRequest, Host, Outcome};
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use testfmt::junit::{self, JunitResult, Style};
use testfmt::Timeout;

/// Large reads: each one is a call out of the sandbox (the host reads at most 64 KiB a call).
const READ_BUF: usize = 256 << 10;

#[derive(serde::Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Config {
    program: Option<String>,
    args: Vec<String>,
    /// A command line instead of `program` + `args` (split on spaces and quotes, no shell).
    command: Option<String>,
    /// The JUnit file or directory: workspace-relative (to `cwd`) or `{scratch}/...`. Required.
    report: Option<String>,
    /// Name tests `file::Class::name` like pytest instead of `classname.name`.
    pytest_ids: bool,
    allow_no_tests: bool,
    timeout: Option<Timeout>,
    cwd: Option<String>,
    tail_lines: Option<usize>,
}

pub struct JunitGate;

impl Gate for JunitGate {
    fn check(req: GateRequest, host: &dyn Host) -> Result<GateReport, String> {
        let cfg: Config = planexec_pdk::config(&req.config)?;
        let report = cfg
            .report
            .clone()
            .ok_or("config: `report` (the JUnit XML path the command writes) is required")?;
        let cmdline = match (&cfg.program, &cfg.command) {
            (Some(p), None) => Some((p.clone(), cfg.args.clone())),
            (None, Some(line)) => {
                let (p, mut a) = testfmt::split_program(line)?;
                a.extend(cfg.args.iter().cloned());
                Some((p, a))
            }
            (Some(_), Some(_)) => {
                return Err(
                    "config: give either `program` (+ `args`) or `command`, not both".into(),
                )
            }
            (None, None) => None,
        };
        let path = testfmt::guest_path(&req.mounts, cfg.cwd.as_deref(), &report);
        let tail = cfg.tail_lines.unwrap_or(40);
        let mut out = None;
        let started = SystemTime::now();
        if let Some((program, args)) = cmdline {
            let mut cmd = Command::new(program).args(args);
            cmd.cwd = cfg.cwd.clone();
            cmd.timeout_ms = testfmt::timeout_ms(&cfg.timeout)?;
            if report.starts_with("{scratch}") && path.is_file() {
                let _ = std::fs::remove_file(&path);
            }
            out = Some(match testfmt::run(host, &cmd) {
                Ok(o) => o,
                Err(r) => return Ok(r),
            });
        }
        let files = match report_files(&path) {
            Ok(f) if !f.is_empty() => f,
            _ => {
                let r =
                    planexec_pdk::report(Outcome::Errored, format!("no JUnit report at {report}"));
                return Ok(match &out {
                    Some(o) => testfmt::finish(r, o, tail),
                    None => r,
                });
            }
        };
        let mut parsed = JunitResult::default();
        let style = if cfg.pytest_ids {
            Style::Pytest
        } else {
            Style::Generic
        };
        for f in &files {
            if out.is_some() {
                // A report older than this run was left by an earlier one.
                let old = std::fs::metadata(f)
                    .and_then(|m| m.modified())
                    .map(|m| m + Duration::from_secs(2) < started)
                    .unwrap_or(false);
                if old {
                    let r = planexec_pdk::report(
                        Outcome::Errored,
                        format!(
                            "{} is older than this run: the command did not write it",
                            f.display()
                        ),
                    );
                    return Ok(testfmt::finish(r, out.as_ref().unwrap(), tail));
                }
            }
            let file = std::fs::File::open(f).map_err(|e| format!("{}: {e}", f.display()))?;
            if let Err(e) =
                junit::parse(BufReader::with_capacity(READ_BUF, file), style, &mut parsed)
            {
                return Ok(planexec_pdk::report(
                    Outcome::Errored,
                    format!("{}: {e}", f.display()),
                ));
            }
        }
        let c = parsed.counts;
        let text = format!(
            "{} in {} report file(s)",
            testfmt::counts_text(&c),
            files.len()
        );
        let code = out.as_ref().and_then(|o| o.exit_code);
        let timed_out = out.as_ref().map(|o| o.timed_out).unwrap_or(false);
        let (outcome, summary) = if timed_out {
            (Outcome::Failed, format!("the command timed out: {text}"))
        } else if c.failed + c.errored > 0 {
            (Outcome::Failed, text)
        } else if parsed.cases == 0 && !cfg.allow_no_tests {
            (
                Outcome::Failed,
                format!("no test cases in the report ({text})"),
            )
        } else if out.is_some() && code != Some(0) {
            (
                Outcome::Failed,
                format!(
                    "the command {} although the report shows no failure: {text}",
                    testfmt::exit_text(code)
                ),
            )
        } else {
            (Outcome::Passed, text)
        };
        let mut r = planexec_pdk::report(outcome, summary);
        r.tests = Some(c);
        if parsed.failures.dropped > 0 {
            r.summary.push_str(&format!(
                " ({} more failures not listed)",
                parsed.failures.dropped
            ));
        }
        r.failures = parsed.failures.list;
        Ok(match &out {
            Some(o) => testfmt::finish(r, o, tail),
            None => r,
        })
    }
}

/// The report itself, or the `*.xml` files of a directory (sorted).
fn report_files(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    if path.is_dir() {
        let mut v: Vec<PathBuf> = std::fs::read_dir(path)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "xml"))
            .collect();
        v.sort();
        Ok(v)
    } else if path.is_file() {
        Ok(vec![path.to_path_buf()])
    } else {
        Ok(vec![])
    }
}

planexec_pdk::gate_component!(JunitGate);

#[cfg(test)]
mod tests {
    use super::*;
    use planexec_pdk::testing::FakeHost;
    use planexec_pdk::{Mounts, TestCounts};
    use serde_json::json;

    fn mounts() -> Mounts {
        Mounts {
            workspace: format!("{}/tests", env!("CARGO_MANIFEST_DIR")),
            scratch: "/nonexistent".into(),
        }
    }

    #[test]
    fn parses_an_existing_pytest_xunit2_report_with_generic_names() {
        let req = GateRequest {
            name: "j".into(),
            config: json!({"report": "fixtures/pytest-xunit2.xml"}),
            mounts: mounts(),
            task: None,
            shard: None,
        };
        let r = JunitGate::check(req, &FakeHost::new()).unwrap();
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
                "tests.test_calc.test_add_wrong",
                "tests.test_calc.TestDiv.test_div_zero",
                "tests.test_calc.test_uses_broken"
            ]
        );
        // xunit2 has no file attribute: the location comes from the traceback.
        assert_eq!(
            (r.failures[0].path.as_deref(), r.failures[0].line),
            (Some("tests/test_calc.py"), Some(12))
        );
        assert_eq!(
            (r.failures[1].path.as_deref(), r.failures[1].line),
            (Some("src/calc/__init__.py"), Some(9))
        );
    }

    #[test]
    fn a_stale_report_is_errored_and_a_directory_is_read_whole() {
        let host = FakeHost::new().on("mvn", 0, "BUILD SUCCESS\n");
        let req = GateRequest {
            name: "j".into(),
            config: json!({"command": "mvn -q test", "report": "fixtures"}),
            mounts: mounts(),
            task: None,
            shard: None,
        };
        let r = JunitGate::check(req, &host).unwrap();
        assert_eq!(host.calls.borrow()[0].args, ["-q", "test"]);
        // Fixture files are older than "this run".
        assert_eq!(r.outcome, Outcome::Errored, "{}", r.summary);
        assert!(r.summary.contains("older than this run"));
        let req = GateRequest {
            name: "j".into(),
            config: json!({"report": "fixtures"}),
            mounts: mounts(),
            task: None,
            shard: None,
        };
        let r = JunitGate::check(req, &FakeHost::new()).unwrap();
        assert!(r.summary.contains("in 1 report file(s)") || r.summary.contains("report file(s)"));
    }

    #[test]
    fn missing_report_and_config_errors() {
        let req = GateRequest {
            name: "j".into(),
            config: json!({"report": "nope.xml"}),
            mounts: mounts(),
            task: None,
            shard: None,
        };
        assert_eq!(
            JunitGate::check(req, &FakeHost::new()).unwrap().outcome,
            Outcome::Errored
        );
        let req = GateRequest {
            name: "j".into(),
            config: json!({}),
            mounts: mounts(),
            task: None,
            shard: None,
        };
        assert!(JunitGate::check(req, &FakeHost::new()).is_err());
    }
}
