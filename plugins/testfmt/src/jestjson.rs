//! Reader for jest's `--json` report, which vitest's `json` reporter also writes (the same
//! shape): counts of every assertion result and each failure named
//! `path > describe > test`, located at the test (`location`, or the first frame of the
//! failure's stack in the test file).

use crate::{capped, Failures, MAX_MESSAGE, MAX_OUTPUT};
use planexec_pdk::{Outcome, TestCase, TestCounts, TestFailure};
use serde::Deserialize;
use std::io::Read;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    #[serde(default)]
    test_results: Vec<Suite>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Suite {
    name: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    assertion_results: Vec<Assertion>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Assertion {
    #[serde(default)]
    ancestor_titles: Vec<String>,
    title: String,
    status: String,
    #[serde(default)]
    failure_messages: Vec<String>,
    location: Option<Loc>,
    /// Milliseconds (null when the runner did not time it).
    #[serde(default)]
    duration: Option<f64>,
}

#[derive(Deserialize)]
struct Loc {
    line: u32,
}

/// Counts, failures, and the test files that could not run at all.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct JestResult {
    pub counts: TestCounts,
    pub failures: Failures,
    /// Every assertion result (and every broken test file, errored) as a test case.
    pub cases: crate::Cases,
    /// Test files that failed without running a test (a syntax error, a failing import).
    pub broken_files: u32,
}

/// Reads the report; `rel` makes the absolute test file paths workspace-relative.
pub fn parse<R: Read>(r: R, rel: &dyn Fn(&str) -> String) -> Result<JestResult, String> {
    let report: Report =
        serde_json::from_reader(r).map_err(|e| format!("test report JSON: {e}"))?;
    let mut res = JestResult::default();
    for suite in report.test_results {
        let file = rel(&suite.name);
        if suite.assertion_results.is_empty() && suite.status == "failed" {
            res.broken_files += 1;
            res.counts.errored += 1;
            let f = TestFailure {
                name: file.clone(),
                message: capped(first_line(strip_ansi(&suite.message).as_str()), MAX_MESSAGE),
                line: stack_line(&suite.message, &suite.name),
                path: Some(file),
                output: capped(&strip_ansi(&suite.message), MAX_OUTPUT),
            };
            res.cases.push(case(&f, &f.name, Outcome::Errored, None));
            res.failures.push(f);
            continue;
        }
        for a in suite.assertion_results {
            let seconds = a.duration.map(|ms| ms / 1000.0);
            let outcome = match a.status.as_str() {
                "passed" => Outcome::Passed,
                "failed" => Outcome::Failed,
                _ => Outcome::Skipped,
            };
            let f = failure(&file, &suite.name, a);
            match outcome {
                Outcome::Passed => res.counts.passed += 1,
                Outcome::Failed => res.counts.failed += 1,
                _ => res.counts.skipped += 1,
            }
            res.cases.push(case(&f, &file, outcome, seconds));
            if outcome == Outcome::Failed {
                res.failures.push(f);
            }
        }
    }
    Ok(res)
}

/// A test case of `file` from its (would-be) failure: message and output only when it did
/// not pass.
fn case(f: &TestFailure, file: &str, outcome: Outcome, seconds: Option<f64>) -> TestCase {
    let failed = matches!(outcome, Outcome::Failed | Outcome::Errored);
    TestCase {
        name: f.name.clone(),
        classname: file.to_string(),
        path: f.path.clone(),
        line: f.line,
        seconds: seconds.filter(|s| s.is_finite() && *s >= 0.0),
        outcome,
        message: if failed {
            f.message.clone()
        } else {
            String::new()
        },
        output: if failed {
            f.output.clone()
        } else {
            String::new()
        },
    }
}

fn failure(file: &str, abs: &str, a: Assertion) -> TestFailure {
    let text = strip_ansi(&a.failure_messages.join("\n"));
    let mut name = file.to_string();
    for t in a.ancestor_titles.iter().chain(std::iter::once(&a.title)) {
        name.push_str(" > ");
        name.push_str(t);
    }
    let line = stack_line(&text, abs).or(a.location.map(|l| l.line));
    TestFailure {
        name,
        message: capped(&message(&text), MAX_MESSAGE),
        path: Some(file.to_string()),
        line,
        output: capped(&text, MAX_OUTPUT),
    }
}

/// The failure's message: its lines before the stack (`    at ...`).
fn message(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .take_while(|l| !l.trim_start().starts_with("at "))
        .filter(|l| !l.trim().is_empty())
        .collect();
    if lines.is_empty() {
        first_line(text).to_string()
    } else {
        lines.join("\n")
    }
}

fn first_line(text: &str) -> &str {
    text.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("failed")
}

/// The line of the first `ABS_PATH:LINE:COL` in `text` (the stack frame in the test file).
fn stack_line(text: &str, abs: &str) -> Option<u32> {
    let i = text.find(&format!("{abs}:"))? + abs.len() + 1;
    let digits: String = text[i..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Removes ANSI colour sequences (`ESC [ ... m`) that jest puts in its messages.
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = r#"{"numTotalTests":3,"testResults":[
      {"name":"/h/ws/src/math.test.js","status":"failed","message":"","assertionResults":[
        {"ancestorTitles":["math"],"title":"adds","status":"passed","failureMessages":[],"location":{"line":4,"column":3}},
        {"ancestorTitles":["math"],"title":"subtracts","status":"failed","location":{"line":7,"column":3},
         "failureMessages":["Error: \u001b[2mexpect(\u001b[22mreceived).toBe(expected)\n\nExpected: 2\nReceived: 0\n    at Object.toBe (/h/ws/src/math.test.js:8:22)\n    at run (/h/ws/node_modules/x.js:1:1)"]},
        {"ancestorTitles":[],"title":"later","status":"pending","failureMessages":[]}]},
      {"name":"/h/ws/src/broken.test.js","status":"failed","message":"SyntaxError: Unexpected token (3:4)","assertionResults":[]}]}"#;

    #[test]
    fn counts_names_and_lines() {
        let rel = |p: &str| p.trim_start_matches("/h/ws/").to_string();
        let r = parse(REPORT.as_bytes(), &rel).unwrap();
        assert_eq!(
            r.counts,
            TestCounts {
                passed: 1,
                failed: 1,
                skipped: 1,
                errored: 1
            }
        );
        let outcomes: Vec<Outcome> = r.cases.list.iter().map(|c| c.outcome).collect();
        assert_eq!(
            outcomes,
            [
                Outcome::Passed,
                Outcome::Failed,
                Outcome::Skipped,
                Outcome::Errored
            ]
        );
        assert_eq!(r.cases.list[1].line, Some(8));
        assert_eq!(r.cases.list[1].classname, "src/math.test.js");
        assert!(r.cases.list[0].message.is_empty());
        let f = &r.failures.list[0];
        assert_eq!(f.name, "src/math.test.js > math > subtracts");
        assert_eq!(
            (f.path.as_deref(), f.line),
            (Some("src/math.test.js"), Some(8))
        );
        assert_eq!(
            f.message,
            "Error: expect(received).toBe(expected)\nExpected: 2\nReceived: 0"
        );
        assert_eq!(r.failures.list[1].name, "src/broken.test.js");
        assert_eq!(r.broken_files, 1);
    }
}

/// The gate around a jest-style runner (the `jest` and `vitest` plugins).
pub mod gate {
    use super::parse;
    use crate::Timeout;
    use planexec_pdk::{report, Command, GateReport, GateRequest, Host, Outcome};
    use std::path::Path;

    /// What differs between the runners.
    pub struct Runner {
        /// `"jest"`, `"vitest"`: in messages.
        pub name: &'static str,
        /// The runner's script in the project's node_modules, run by `node`.
        pub script: &'static str,
        /// `node` flags before the script.
        pub node_args: &'static str,
        /// Arguments before the configured ones; `{report}` is the scratch report path.
        pub args: &'static [&'static str],
        /// The report's file name in scratch.
        pub report: &'static str,
        /// The arguments that list the test files as JSON (for `--shard`).
        pub list: &'static [&'static str],
        /// What comes before the shard's test files on the run's command line.
        pub by_path: &'static [&'static str],
        /// A script (file name in scratch, source) that `node` runs instead, with the
        /// runner's script and the arguments after it: it can start the runner with the
        /// gate's flags while the tests see the `process.argv` of a plain run.
        pub launcher: Option<(&'static str, &'static str)>,
    }

    #[derive(serde::Deserialize, Default)]
    #[serde(default, deny_unknown_fields)]
    struct Config {
        /// Extra runner arguments (test files, `-t NAME`, `--project NAME`).
        args: Vec<String>,
        /// How to start the runner (default `node [FLAGS] node_modules/<runner script>`).
        command: Option<String>,
        /// No test at all passes instead of failing.
        allow_no_tests: bool,
        timeout: Option<Timeout>,
        cwd: Option<String>,
        tail_lines: Option<usize>,
    }

    /// Runs the runner with its JSON report in scratch and judges the report.
    pub fn check(req: GateRequest, host: &dyn Host, runner: &Runner) -> Result<GateReport, String> {
        let cfg: Config = planexec_pdk::config(&req.config)?;
        let tail = cfg.tail_lines.unwrap_or(40);
        let dir = Path::new(&req.mounts.workspace).join(cfg.cwd.as_deref().unwrap_or(""));
        if cfg.command.is_none() && !dir.join(runner.script).is_file() {
            return Ok(report(
                Outcome::Errored,
                format!(
                    "{0} is not installed in this project (no {1}): run `npm install` (or `npm i -D -E {0}@VERSION`) first",
                    runner.name, runner.script
                ),
            ));
        }
        let default = match runner.launcher {
            Some((file, source)) => {
                let at = Path::new(&req.mounts.scratch).join(file);
                std::fs::write(&at, source)
                    .map_err(|e| format!("cannot write {file} in scratch: {e}"))?;
                format!(
                    "node {}{{scratch}}/{file} {}",
                    runner.node_args, runner.script
                )
            }
            None => format!("node {}{}", runner.node_args, runner.script),
        };
        let (program, base) = crate::split_program(cfg.command.as_deref().unwrap_or(&default))?;
        let report_arg = format!("{{scratch}}/{}", runner.report);
        let mut cmd = Command::new(program.clone())
            .args(base.clone())
            .args(
                runner
                    .args
                    .iter()
                    .map(|a| a.replace("{report}", &report_arg)),
            )
            .args(cfg.args.iter().cloned());
        cmd.cwd = cfg.cwd.clone();
        cmd.timeout_ms = crate::timeout_ms(&cfg.timeout)?;
        let mut sharded = None;
        if let Some(part) = crate::shard::part_of(&req) {
            let mut list = Command::new(program)
                .args(base)
                .args(runner.list.iter().copied())
                .args(cfg.args.iter().cloned());
            list.cwd = cfg.cwd.clone();
            list.timeout_ms = cmd.timeout_ms;
            let ws = &req.mounts.workspace;
            match crate::jsshard::plan(host, &list, &part, runner.name, ws) {
                crate::jsshard::Plan::Done(r) => return Ok(r),
                crate::jsshard::Plan::Run(files, result) => {
                    cmd = cmd.args(runner.by_path.iter().copied()).args(files);
                    sharded = Some(result);
                }
            }
        }
        let path = Path::new(&req.mounts.scratch).join(runner.report);
        let _ = std::fs::remove_file(&path);
        let out = match crate::run(host, &cmd) {
            Ok(o) => o,
            Err(r) => return Ok(r),
        };
        let Ok(file) = std::fs::File::open(&path) else {
            let first = out
                .stderr_str()
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("")
                .to_string();
            let r = report(
                Outcome::Errored,
                format!(
                    "{} {} without writing its JSON report: {first}",
                    runner.name,
                    crate::exit_text(out.exit_code)
                ),
            );
            return Ok(crate::finish(r, &out, tail));
        };
        let ws = req.mounts.workspace.clone();
        let cwd = cfg.cwd.clone();
        let rel = move |p: &str| {
            if p.starts_with('/') {
                crate::relativize_host_path(&ws, p).unwrap_or_else(|| p.to_string())
            } else {
                crate::ws_rel(cwd.as_deref(), p)
            }
        };
        let parsed = match parse(std::io::BufReader::new(file), &rel) {
            Ok(p) => p,
            Err(e) => {
                return Ok(crate::finish(
                    report(Outcome::Errored, format!("{}: {e}", runner.name)),
                    &out,
                    tail,
                ))
            }
        };
        let c = parsed.counts;
        let mut text = crate::counts_text(&c);
        if parsed.broken_files > 0 {
            text.push_str(&format!(
                "; {} test file(s) could not run",
                parsed.broken_files
            ));
        }
        let total = c.passed + c.failed + c.skipped + c.errored;
        let (outcome, summary) = if out.timed_out {
            (
                Outcome::Failed,
                format!("{} timed out: {text}", runner.name),
            )
        } else if c.failed + c.errored > 0 {
            (Outcome::Failed, text)
        } else if total == 0 && !cfg.allow_no_tests {
            (Outcome::Failed, format!("{}: no tests found", runner.name))
        } else if out.exit_code != Some(0) && total > 0 {
            (
                Outcome::Failed,
                format!(
                    "{} {} although every test passed: {text}",
                    runner.name,
                    crate::exit_text(out.exit_code)
                ),
            )
        } else {
            (Outcome::Passed, text)
        };
        let mut r = report(outcome, summary);
        r.tests = Some(c);
        if parsed.failures.dropped > 0 {
            r.summary.push_str(&format!(
                " ({} more failures not listed)",
                parsed.failures.dropped
            ));
        }
        r.failures = parsed.failures.list;
        r.cases = parsed.cases.list;
        r.shard = sharded;
        Ok(crate::finish(r, &out, tail))
    }
}
