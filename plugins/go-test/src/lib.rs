//! The `go-test` gate: runs `go test -json` over the configured packages with stdout in a scratch
//! file, then stream-parses the events (parallel packages, subtests, build failures, panics, timeouts).

mod shard;

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
            .args(cfg.args.iter().cloned());
        cmd.cwd = cfg.cwd.clone();
        cmd.timeout_ms = testfmt::timeout_ms(&cfg.timeout)?;
        let mut sharded = None;
        if let Some(part) = testfmt::shard::part_of(&req) {
            if shard::has_run_flag(&cfg.args) {
                return Err("config: `-run` in args cannot be combined with --shard (each shard runs its own `-run`); use `packages` to choose what to test".into());
            }
            let mut list = Command::new("go")
                .args(["test", "-list", "."])
                .args(cfg.args.iter().cloned())
                .args(packages.iter().cloned());
            list.cwd = cfg.cwd.clone();
            list.timeout_ms = cmd.timeout_ms;
            match shard::plan(host, &list, &part) {
                shard::Plan::Done(r) => return Ok(r),
                shard::Plan::Run(run, result) => {
                    cmd = cmd.arg(run);
                    sharded = Some(result);
                }
            }
        }
        cmd = cmd.args(packages);
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
        let mut p = Parser::new(module.clone(), cfg.cwd.clone());
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
            let first = first_error(&stderr);
            let hint = if stderr.contains("go: downloading ") {
                " (modules cannot be downloaded inside the box: run `go mod download` before the gate)"
            } else {
                ""
            };
            planexec_pdk::report(
                Outcome::Errored,
                format!(
                    "go test {}: {first}{hint}",
                    testfmt::exit_text(out.exit_code)
                ),
            )
        } else if ran == 0 && !cfg.allow_no_tests {
            planexec_pdk::report(Outcome::Failed, no_tests_summary(&out_path, &out.stdout))
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
        locate_examples(&mut r.failures, &ws, module.as_deref(), cfg.cwd.as_deref());
        r.cases = res.cases.list;
        let mut ev = stderr.clone();
        if !res.non_json.is_empty() {
            ev.push_str(&res.non_json);
        }
        r.evidence = planexec_pdk::text::tail(&ev, tail);
        r.shard = sharded;
        Ok(testfmt::finish(r, &out, tail))
    }
}

/// The line of go's stderr that says what went wrong: not its progress lines
/// (`go: downloading example.com/m v1.2.0`).
fn first_error(stderr: &str) -> String {
    let progress = |l: &str| {
        ["go: downloading ", "go: finding ", "go: extracting "]
            .iter()
            .any(|p| l.starts_with(p))
    };
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines
        .iter()
        .find(|l| !progress(l))
        .or(lines.first())
        .map(|l| l.to_string())
        .unwrap_or_default()
}

/// Why nothing ran: a `-run`/`-skip` pattern that matched no test (go says `[no tests to run]`),
/// or packages without test files.
fn no_tests_summary(stream: &Path, stdout: &[u8]) -> String {
    let text = std::fs::read(stream).unwrap_or_else(|_| stdout.to_vec());
    if String::from_utf8_lossy(&text).contains("no tests to run") {
        "no tests ran: no test matched the -run pattern (go test: [no tests to run])".into()
    } else {
        "no tests ran: the packages have no test files".into()
    }
}

/// Locates failing `Example` functions (go prints no file or line for them) at their
/// `func ExampleX(` in the package's `_test.go` files. `dir` is the guest directory go ran
/// in, `module` the module path of its go.mod, `cwd` the workspace-relative run directory.
fn locate_examples(
    failures: &mut [planexec_pdk::TestFailure],
    dir: &Path,
    module: Option<&str>,
    cwd: Option<&str>,
) {
    let Some(module) = module else { return };
    for f in failures.iter_mut().filter(|f| f.line.is_none()) {
        let Some((pkg, test)) = f.name.split_once("::") else {
            continue;
        };
        let top = test.split('/').next().unwrap_or(test);
        if !top.starts_with("Example") {
            continue;
        }
        let rel = if pkg == module {
            Some("")
        } else {
            pkg.strip_prefix(module).and_then(|r| r.strip_prefix('/'))
        };
        let Some(rel) = rel else { continue };
        if let Some((file, line)) = find_func(&dir.join(rel), top) {
            let p = if rel.is_empty() {
                file
            } else {
                format!("{rel}/{file}")
            };
            f.path = Some(testfmt::ws_rel(cwd, &p));
            f.line = Some(line);
        }
    }
}

/// `(file, line)` of `func NAME(` in the `_test.go` files of `dir`.
fn find_func(dir: &Path, name: &str) -> Option<(String, u32)> {
    let needle = format!("func {name}(");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with("_test.go"))
        .collect();
    files.sort();
    files.into_iter().find_map(|n| {
        let text = std::fs::read_to_string(dir.join(&n)).ok()?;
        let i = text.lines().position(|l| l.starts_with(&needle))?;
        Some((n, i as u32 + 1))
    })
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
            shard: None,
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
    fn every_leaf_test_and_failed_package_is_a_case() {
        let (r, _) = run("failing", 2, json!({"args": ["-timeout", "3s"]}));
        let t = r.tests.unwrap();
        let n = |o: Outcome| r.cases.iter().filter(|c| c.outcome == o).count() as u32;
        assert_eq!(
            (
                n(Outcome::Passed),
                n(Outcome::Failed),
                n(Outcome::Skipped),
                n(Outcome::Errored)
            ),
            (t.passed, t.failed, t.skipped, t.errored),
            "{:#?}",
            r.cases
        );
        assert!(r.cases.iter().all(|c| !c.classname.is_empty()));
        assert!(r
            .cases
            .iter()
            .filter(|c| c.outcome == Outcome::Failed)
            .all(|c| !c.message.is_empty()));
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
            shard: None,
        };
        let r = GoTestGate::check(req, &host).unwrap();
        assert_eq!(r.outcome, Outcome::Errored);
        assert!(r.summary.contains("go.mod file not found"));
    }
}
