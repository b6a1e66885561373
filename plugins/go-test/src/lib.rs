//! The `go-test` gate: runs `go test -json` over the configured packages with stdout in a scratch
//! file, then stream-parses the events (parallel packages, subtests, build failures, panics, timeouts).

use planexec_pdk::{Command, Gate, GateReport, GateRequest, Host, Outcome};
use std::io::BufReader;
use std::path::Path;
use testfmt::gotest::{self, Parser};
use testfmt::Timeout;

/// Large reads: each one is a call out of the sandbox (the host reads at most 64 KiB a call).
const READ_BUF: usize = 256 << 10;

#[derive(serde::Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Config {
    /// Package patterns (default `["./..."]`).
    packages: Vec<String>,
    /// Extra `go test` flags before the packages (e.g. `["-race", "-count=1", "-timeout=5m"]`).
    args: Vec<String>,
    /// No test ran (no test files anywhere) passes instead of failing.
    allow_no_tests: bool,
    timeout: Option<Timeout>,
    /// Workspace-relative directory holding go.mod.
    cwd: Option<String>,
    tail_lines: Option<usize>,
}

const OUT: &str = "go-test.json";

pub struct GoTestGate;

impl Gate for GoTestGate {
    fn check(req: GateRequest, host: &dyn Host) -> Result<GateReport, String> {
        let cfg: Config = planexec_pdk::config(&req.config)?;
        let packages = if cfg.packages.is_empty() {
            vec!["./...".to_string()]
        } else {
            cfg.packages.clone()
        };
        let mut cmd = Command::new("go")
            .args(["test", "-json"])
            .args(cfg.args.iter().cloned())
            .args(packages);
        cmd.cwd = cfg.cwd.clone();
        cmd.timeout_ms = testfmt::timeout_ms(&cfg.timeout)?;
        cmd.stdout_file = Some(format!("{{scratch}}/{OUT}"));
        let out_path = Path::new(&req.mounts.scratch).join(OUT);
        let _ = std::fs::remove_file(&out_path);
        let ws = match &cfg.cwd {
            Some(c) => Path::new(&req.mounts.workspace).join(c),
            None => Path::new(&req.mounts.workspace).to_path_buf(),
        };
        let module = std::fs::read_to_string(ws.join("go.mod"))
            .ok()
            .and_then(|m| gotest::module_path(&m));
        let out = match testfmt::run(host, &cmd) {
            Ok(o) => o,
            Err(r) => return Ok(r),
        };
        let mut p = Parser::new(module, cfg.cwd.clone());
        match std::fs::File::open(&out_path) {
            Ok(f) => p
                .read(BufReader::with_capacity(READ_BUF, f))
                .map_err(|e| format!("reading {OUT}: {e}"))?,
            Err(_) => p.read(&out.stdout[..]).map_err(|e| e.to_string())?,
        }
        let mut res = p.finish();
        let stderr = out.stderr_str();
        gotest::merge_build_errors(&mut res, &stderr, cfg.cwd.as_deref());
        let tail = cfg.tail_lines.unwrap_or(40);
        let c = res.counts;
        let ran = c.passed + c.failed + c.skipped + c.errored;
        let text = format!(
            "{} ({} packages passed, {} failed)",
            testfmt::counts_text(&c),
            res.packages_passed,
            res.packages_failed.len()
        );
        let mut r = if out.timed_out {
            planexec_pdk::report(
                Outcome::Failed,
                format!("go test timed out after {} ms: {text}", out.duration_ms),
            )
        } else if !res.failures.list.is_empty() || !res.packages_failed.is_empty() || c.failed > 0 {
            let mut s = text;
            if !res.build_failed.is_empty() {
                s.push_str(&format!("; build failed: {}", res.build_failed.join(", ")));
            }
            planexec_pdk::report(Outcome::Failed, s)
        } else if out.exit_code != Some(0) {
            let first = stderr
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("")
                .to_string();
            planexec_pdk::report(
                Outcome::Errored,
                format!("go test {}: {first}", testfmt::exit_text(out.exit_code)),
            )
        } else if ran == 0 && !cfg.allow_no_tests {
            planexec_pdk::report(
                Outcome::Failed,
                "no tests ran (no test files in the packages?)",
            )
        } else {
            planexec_pdk::report(Outcome::Passed, text)
        };
        if r.outcome != Outcome::Errored {
            r.tests = Some(c);
        }
        if res.failures.dropped > 0 {
            r.summary.push_str(&format!(
                " ({} more failures not listed)",
                res.failures.dropped
            ));
        }
        r.failures = res.failures.list;
        let mut ev = stderr.clone();
        if !res.non_json.is_empty() {
            ev.push_str(&res.non_json);
        }
        r.evidence = planexec_pdk::text::tail(&ev, tail);
        Ok(testfmt::finish(r, &out, tail))
    }
}

planexec_pdk::gate_component!(GoTestGate);

#[cfg(test)]
mod tests {
    use super::*;
    use planexec_pdk::testing::FakeHost;
    use planexec_pdk::{Mounts, Output, TestCounts};
    use serde_json::json;

    fn dir() -> String {
        env!("CARGO_MANIFEST_DIR").to_string()
    }

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!("{}/tests/fixtures/{name}", dir())).unwrap()
    }

    fn run(case: &str, code: i32, config: serde_json::Value) -> (GateReport, FakeHost) {
        let host = FakeHost::new().on_output(
            "go",
            Output {
                exit_code: Some(code),
                stdout: fixture(&format!("{case}.json")).into_bytes(),
                stderr: fixture(&format!("{case}.stderr")).into_bytes(),
                ..Default::default()
            },
        );
        let mounts = Mounts {
            workspace: format!("{}/tests/projects/{case}", dir()),
            scratch: "/nonexistent".into(),
        };
        let req = GateRequest {
            name: "go-test".into(),
            config,
            mounts,
            task: None,
        };
        (GoTestGate::check(req, &host).unwrap(), host)
    }

    #[test]
    fn passing_module_counts_subtests_not_parents() {
        let (r, host) = run("passing", 0, json!({}));
        assert_eq!(r.outcome, Outcome::Passed, "{}", r.summary);
        assert_eq!(
            r.tests,
            Some(TestCounts {
                passed: 3,
                failed: 0,
                skipped: 0,
                errored: 0
            })
        );
        let c = &host.calls.borrow()[0];
        assert_eq!(c.args, ["test", "-json", "./..."]);
        assert_eq!(c.stdout_file.as_deref(), Some("{scratch}/go-test.json"));
    }

    #[test]
    fn failing_module_subtest_panic_timeout_and_build_failure() {
        let (r, _) = run("failing", 2, json!({"args": ["-timeout", "3s"]}));
        assert_eq!(r.outcome, Outcome::Failed);
        assert_eq!(
            r.tests,
            Some(TestCounts {
                passed: 4,
                failed: 3,
                skipped: 1,
                errored: 1
            }),
            "{:#?}",
            r.failures
        );
        assert!(
            r.summary
                .contains("build failed: example.com/failing/broken"),
            "{}",
            r.summary
        );
        let by = |n: &str| {
            r.failures
                .iter()
                .find(|f| f.name == n)
                .unwrap_or_else(|| panic!("{n}: {:#?}", r.failures))
        };
        let f = by("example.com/failing/calc::TestSub/wrong");
        assert_eq!(f.message, "Sub(1, 3) = -2, want 2");
        assert_eq!(
            (f.path.as_deref(), f.line),
            (Some("calc/calc_test.go"), Some(22))
        );
        let f = by("example.com/failing/panics::TestPanics");
        assert!(
            f.message
                .starts_with("panic: assignment to entry in nil map"),
            "{}",
            f.message
        );
        assert_eq!(
            (f.path.as_deref(), f.line),
            (Some("panics/panics_test.go"), Some(9))
        );
        let f = by("example.com/failing/slow::TestSlow");
        assert!(f.message.starts_with("test timed out"), "{}", f.message);
        assert!(
            f.message.contains("panic: test timed out after 3s"),
            "{}",
            f.message
        );
        let f = by("example.com/failing/broken");
        assert_eq!(
            f.message,
            "build failed: broken/broken.go:5:13: undefined: nope"
        );
        assert_eq!(
            (f.path.as_deref(), f.line),
            (Some("broken/broken.go"), Some(5))
        );
        assert_eq!(r.failures.len(), 4);
    }

    #[test]
    fn cwd_prefixes_paths_and_packages_are_configurable() {
        let (r, host) = run("failing", 2, json!({"packages": ["./calc"], "cwd": "."}));
        assert_eq!(host.calls.borrow()[0].args, ["test", "-json", "./calc"]);
        assert!(r
            .failures
            .iter()
            .any(|f| f.path.as_deref() == Some("calc/calc_test.go")));
    }

    #[test]
    fn no_module_is_errored() {
        let host = FakeHost::new().on_output(
            "go",
            Output {
                exit_code: Some(1),
                stderr: b"go: go.mod file not found in current directory or any parent directory\n"
                    .to_vec(),
                ..Default::default()
            },
        );
        let req = GateRequest {
            name: "g".into(),
            config: json!({}),
            mounts: Default::default(),
            task: None,
        };
        let r = GoTestGate::check(req, &host).unwrap();
        assert_eq!(r.outcome, Outcome::Errored);
        assert!(r.summary.contains("go.mod file not found"));
    }
}
