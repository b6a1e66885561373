//! The `black` gate: runs `black --check` on the configured paths; one finding per file that
//! would be reformatted; black's internal error (exit 123, e.g. a file it cannot parse) is `errored`.

use planexec_pdk::{Command, Finding, Gate, GateReport, GateRequest, Host, Outcome, Severity};
use testfmt::Timeout;

#[derive(serde::Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Config {
    /// Files or directories (default `["."]`; black honours pyproject's include/exclude).
    paths: Vec<String>,
    /// Extra black flags (e.g. `["--line-length", "100"]`).
    args: Vec<String>,
    /// How to start black (default `python3 -m black`).
    command: Option<String>,
    timeout: Option<Timeout>,
    cwd: Option<String>,
    tail_lines: Option<usize>,
}

pub struct BlackGate;

impl Gate for BlackGate {
    fn check(req: GateRequest, host: &dyn Host) -> Result<GateReport, String> {
        let cfg: Config = planexec_pdk::config(&req.config)?;
        let (program, base) =
            testfmt::split_program(cfg.command.as_deref().unwrap_or("python3 -m black"))?;
        let paths = if cfg.paths.is_empty() {
            vec![".".to_string()]
        } else {
            cfg.paths.clone()
        };
        let mut cmd = Command::new(program)
            .args(base)
            .args(["--check", "--no-color"])
            .args(cfg.args.iter().cloned())
            .args(paths.iter().cloned());
        cmd.cwd = cfg.cwd.clone();
        cmd.timeout_ms = testfmt::timeout_ms(&cfg.timeout)?;
        let out = match testfmt::run(host, &cmd) {
            Ok(o) => o,
            Err(r) => return Ok(r),
        };
        let tail = cfg.tail_lines.unwrap_or(40);
        if let Some(r) = testfmt::python_module_missing(&out, "black") {
            return Ok(testfmt::finish(r, &out, tail));
        }
        let findings = parse(&out.combined(), &req.mounts.workspace, cfg.cwd.as_deref());
        let reformat = findings
            .iter()
            .filter(|f| f.rule == "black/would-reformat")
            .count();
        let mut r = match out.exit_code {
            Some(0) => planexec_pdk::report(Outcome::Passed, "black: nothing to reformat"),
            Some(1) if reformat == 0 => planexec_pdk::report(
                Outcome::Errored,
                "black exited 1 but named no file it would reformat (see the output)",
            ),
            Some(1) => planexec_pdk::report(
                Outcome::Failed,
                format!("black: {reformat} file(s) would be reformatted"),
            ),
            Some(123) => {
                let first = findings
                    .iter()
                    .find(|f| f.rule == "black/error")
                    .map(|f| f.message.as_str())
                    .unwrap_or("internal error");
                planexec_pdk::report(
                    Outcome::Errored,
                    format!("black could not check (exit 123): {first}"),
                )
            }
            Some(c) => planexec_pdk::report(
                Outcome::Errored,
                format!("black exited {c} (usage or internal error)"),
            ),
            None => planexec_pdk::report(Outcome::Errored, "black was killed (timeout or signal)"),
        };
        r.findings = findings;
        Ok(testfmt::finish(r, &out, tail))
    }
}

/// `would reformat PATH` and `error: cannot format PATH: …` / `error: cannot parse: PATH:L:C` lines.
/// black prints absolute host paths; they become workspace-relative by matching the workspace mount.
pub fn parse(text: &str, workspace: &str, cwd: Option<&str>) -> Vec<Finding> {
    let rel = |p: &str| -> String {
        if p.starts_with('/') {
            testfmt::relativize_host_path(workspace, p).unwrap_or_else(|| p.to_string())
        } else {
            testfmt::ws_rel(cwd, p)
        }
    };
    let mut out = Vec::new();
    for l in text.lines() {
        if let Some(p) = l.strip_prefix("would reformat ") {
            let p = p.trim();
            out.push(Finding {
                severity: Severity::Minor,
                rule: "black/would-reformat".into(),
                message: format!("would reformat {}", rel(p)),
                path: Some(rel(p)),
                line: None,
                column: None,
                end_line: None,
                end_column: None,
            });
        } else if let Some(rest) = cannot_parse(l) {
            // `/abs/bad.py:1:9`
            let mut it = rest.trim().rsplitn(3, ':');
            let col = it.next().and_then(|c| c.parse().ok());
            let line = it.next().and_then(|c| c.parse().ok());
            let path = it.next().map(rel);
            out.push(Finding {
                severity: Severity::Important,
                rule: "black/error".into(),
                message: format!("cannot parse {}", path.as_deref().unwrap_or(rest)),
                path,
                line,
                column: col,
                end_line: None,
                end_column: None,
            });
        } else if let Some(rest) = l.strip_prefix("error: cannot format ") {
            let (p, why) = rest.split_once(": ").unwrap_or((rest, ""));
            out.push(Finding {
                severity: Severity::Important,
                rule: "black/error".into(),
                message: format!("cannot format {}: {why}", rel(p)),
                path: Some(rel(p)),
                line: None,
                column: None,
                end_line: None,
                end_column: None,
            });
        }
    }
    out
}

/// The `PATH:L:C` of `error: cannot parse: PATH:L:C` and of
/// `error: cannot parse for target version Python 3.13: PATH:L:C` (a target from
/// `target-version` or `requires-python`).
fn cannot_parse(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("error: cannot parse")?;
    if let Some(r) = rest.strip_prefix(": ") {
        return Some(r);
    }
    let r = rest.strip_prefix(" for target version ")?;
    r.split_once(": ").map(|(_, loc)| loc)
}

planexec_pdk::gate_component!(BlackGate);

#[cfg(test)]
mod tests {
    use super::*;
    use planexec_pdk::testing::FakeHost;
    use planexec_pdk::{Mounts, Output};
    use serde_json::json;

    fn dir() -> String {
        env!("CARGO_MANIFEST_DIR").to_string()
    }
    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!("{}/tests/fixtures/{name}", dir())).unwrap()
    }
    fn run(case: &str, code: i32) -> (GateReport, FakeHost) {
        let host = FakeHost::new().on_output(
            "python3",
            Output {
                exit_code: Some(code),
                stderr: fixture(&format!("{case}.stderr")).into_bytes(),
                ..Default::default()
            },
        );
        let mounts = Mounts {
            workspace: format!("{}/tests/projects/{case}", dir()),
            scratch: "/s".into(),
        };
        let req = GateRequest {
            name: "black".into(),
            config: json!({"paths": ["src"]}),
            mounts,
            task: None,
            shard: None,
        };
        (BlackGate::check(req, &host).unwrap(), host)
    }

    #[test]
    fn clean_passes() {
        let (r, host) = run("clean", 0);
        assert_eq!(r.outcome, Outcome::Passed);
        assert!(r.findings.is_empty());
        assert_eq!(
            host.calls.borrow()[0].args,
            ["-m", "black", "--check", "--no-color", "src"]
        );
    }

    #[test]
    fn would_reformat_is_one_finding_per_file() {
        let (r, _) = run("unformatted", 1);
        assert_eq!(r.outcome, Outcome::Failed);
        assert_eq!(r.summary, "black: 2 file(s) would be reformatted");
        let paths: Vec<_> = r
            .findings
            .iter()
            .map(|f| f.path.as_deref().unwrap())
            .collect();
        assert_eq!(paths, ["src/calc.py", "src/data.py"]);
        assert_eq!(r.findings[0].message, "would reformat src/calc.py");
    }

    #[test]
    fn exit_123_is_errored() {
        let (r, _) = run("broken", 123);
        assert_eq!(r.outcome, Outcome::Errored);
        let f = &r.findings[0];
        assert_eq!(
            (f.path.as_deref(), f.line, f.column),
            (Some("src/bad.py"), Some(1), Some(9))
        );
        assert!(
            r.summary.contains("cannot parse src/bad.py"),
            "{}",
            r.summary
        );
    }

    #[test]
    fn parse_errors_for_a_target_version_are_findings() {
        let ws = format!("{}/tests/projects/target", dir());
        let text =
            "error: cannot parse for target version Python 3.13: /host/ws/src/legacy.py:2:10\n";
        let fs = parse(text, &ws, None);
        assert_eq!(fs.len(), 1);
        assert_eq!(
            (
                fs[0].rule.as_str(),
                fs[0].path.as_deref(),
                fs[0].line,
                fs[0].column
            ),
            ("black/error", Some("src/legacy.py"), Some(2), Some(10))
        );
    }

    #[test]
    fn black_not_installed_is_errored() {
        let host = FakeHost::new().on_output(
            "python3",
            Output {
                exit_code: Some(1),
                stderr: b"/usr/bin/python3: No module named black\n".to_vec(),
                ..Default::default()
            },
        );
        let mounts = Mounts {
            workspace: "/nonexistent".into(),
            scratch: "/s".into(),
        };
        let r = BlackGate::check(
            GateRequest {
                name: "black".into(),
                config: json!({}),
                mounts,
                task: None,
                shard: None,
            },
            &host,
        )
        .unwrap();
        assert_eq!(r.outcome, Outcome::Errored);
        assert!(
            r.summary.starts_with("black is not installed"),
            "{}",
            r.summary
        );
    }
}
