//! The `mypy` gate: runs mypy on the configured paths and reports one finding per error with
//! file, line, column and code; reads `-O json` lines (mypy >= 1.11) and the classic text form.

use planexec_pdk::{Command, Finding, Gate, GateReport, GateRequest, Host, Outcome, Severity};
use testfmt::Timeout;

#[derive(serde::Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Config {
    /// Files or directories to check (default `["src"]` if it exists, else `["."]`).
    paths: Vec<String>,
    /// Extra mypy flags (e.g. `["--strict"]`); pyproject/mypy.ini still apply.
    args: Vec<String>,
    /// How to start mypy (default `python3 -m mypy`).
    command: Option<String>,
    /// `"json"` (default) or `"text"`; json falls back to text when mypy is too old.
    format: Option<String>,
    timeout: Option<Timeout>,
    cwd: Option<String>,
    tail_lines: Option<usize>,
}

pub struct MypyGate;

impl Gate for MypyGate {
    fn check(req: GateRequest, host: &dyn Host) -> Result<GateReport, String> {
        let cfg: Config = planexec_pdk::config(&req.config)?;
        let json = match cfg.format.as_deref() {
            None | Some("json") => true,
            Some("text") => false,
            Some(o) => {
                return Err(format!(
                    "config: format must be \"json\" or \"text\", not {o:?}"
                ))
            }
        };
        let paths = testfmt::default_paths(&req.mounts, cfg.cwd.as_deref(), &cfg.paths);
        let tail = cfg.tail_lines.unwrap_or(40);
        let mut out = match testfmt::run(host, &command(&cfg, &paths, json)?) {
            Ok(o) => o,
            Err(r) => return Ok(r),
        };
        if json && out.exit_code == Some(2) && out.stderr_str().contains("unrecognized arguments") {
            host.log(
                planexec_pdk::Level::Info,
                "mypy does not know -O json; using text output",
            );
            out = match testfmt::run(host, &command(&cfg, &paths, false)?) {
                Ok(o) => o,
                Err(r) => return Ok(r),
            };
        }
        if let Some(r) = testfmt::python_module_missing(&out, "mypy") {
            return Ok(testfmt::finish(r, &out, tail));
        }
        let findings = parse(&out.stdout_str(), cfg.cwd.as_deref());
        let errors = findings
            .iter()
            .filter(|f| f.severity != Severity::Info)
            .count();
        let mut r = match out.exit_code {
            Some(0) => planexec_pdk::report(
                Outcome::Passed,
                format!("mypy: no errors in {}", paths.join(" ")),
            ),
            Some(1) => planexec_pdk::report(Outcome::Failed, format!("mypy: {errors} error(s)")),
            Some(c) => {
                let why = findings
                    .first()
                    .map(|f| f.message.clone())
                    .or_else(|| out.stderr_str().lines().next().map(str::to_string))
                    .unwrap_or_default();
                planexec_pdk::report(
                    Outcome::Errored,
                    format!("mypy could not check (exit {c}): {why}"),
                )
            }
            None => planexec_pdk::report(Outcome::Errored, "mypy was killed (timeout or signal)"),
        };
        if r.outcome == Outcome::Failed && errors == 0 {
            r.outcome = Outcome::Errored;
            r.summary =
                "mypy exited 1 but printed no error the gate could parse (see the output)".into();
        }
        r.findings = findings;
        Ok(testfmt::finish(r, &out, tail))
    }
}

fn command(cfg: &Config, paths: &[String], json: bool) -> Result<Command, String> {
    let (program, base) =
        testfmt::split_program(cfg.command.as_deref().unwrap_or("python3 -m mypy"))?;
    let mut cmd = Command::new(program).args(base);
    if json {
        cmd = cmd.args(["-O", "json"]);
    }
    cmd = cmd
        .args([
            "--show-column-numbers",
            "--no-error-summary",
            "--no-color-output",
            "--no-pretty",
        ])
        .arg("--cache-dir={cache}/mypy")
        .args(cfg.args.iter().cloned())
        .args(paths.iter().cloned());
    cmd.cwd = cfg.cwd.clone();
    cmd.timeout_ms = testfmt::timeout_ms(&cfg.timeout)?;
    Ok(cmd)
}

#[derive(serde::Deserialize)]
struct JsonError {
    file: String,
    line: i64,
    column: i64,
    message: String,
    hint: Option<String>,
    code: Option<String>,
    severity: String,
}

/// One finding per error line, JSON or text; notes attach to the error before them.
pub fn parse(stdout: &str, cwd: Option<&str>) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    for line in stdout.lines() {
        let l = line.trim_end();
        if l.starts_with('{') {
            if let Ok(e) = serde_json::from_str::<JsonError>(l) {
                let mut message = e.message;
                if let Some(h) = e.hint.filter(|h| !h.is_empty()) {
                    message.push('\n');
                    message.push_str(&h);
                }
                push(
                    &mut out,
                    cwd,
                    &e.file,
                    e.line,
                    Some(e.column + 1),
                    &e.severity,
                    &message,
                    e.code.as_deref(),
                );
                continue;
            }
        }
        if let Some((file, line, col, sev, msg, code)) = text_line(l) {
            push(&mut out, cwd, file, line, col, sev, msg, code);
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn push(
    out: &mut Vec<Finding>,
    cwd: Option<&str>,
    file: &str,
    line: i64,
    col: Option<i64>,
    sev: &str,
    msg: &str,
    code: Option<&str>,
) {
    if sev == "note" {
        if let Some(prev) = out.last_mut() {
            if prev.path.as_deref() == Some(&testfmt::ws_rel(cwd, file)) {
                prev.message.push('\n');
                prev.message.push_str(msg);
                return;
            }
        }
    }
    out.push(Finding {
        severity: match sev {
            "error" => Severity::Important,
            "note" => Severity::Info,
            _ => Severity::Minor,
        },
        rule: format!(
            "mypy/{}",
            code.unwrap_or(if sev == "note" { "note" } else { "error" })
        ),
        message: msg.to_string(),
        path: Some(testfmt::ws_rel(cwd, file)),
        line: u32::try_from(line).ok().filter(|&n| n > 0),
        column: col.and_then(|c| u32::try_from(c).ok()).filter(|&c| c > 0),
        end_line: None,
        end_column: None,
    });
}

/// `src/app/x.py:9:12: error: Message  [code]` (column optional).
fn text_line(l: &str) -> Option<(&str, i64, Option<i64>, &str, &str, Option<&str>)> {
    for sev in ["error", "note", "warning"] {
        let tag = format!(": {sev}: ");
        let Some(i) = l.find(&tag) else { continue };
        let loc = &l[..i];
        let rest = &l[i + tag.len()..];
        let mut parts = loc.rsplitn(3, ':');
        let (a, b, c) = (parts.next()?, parts.next(), parts.next());
        let (file, line, col) = match (a.parse::<i64>(), b.map(|b| b.parse::<i64>()), c) {
            (Ok(col), Some(Ok(line)), Some(file)) => (file, line, Some(col)),
            (Ok(line), Some(Err(_)), _) | (Ok(line), None, _) => {
                (loc.rsplit_once(':')?.0, line, None)
            }
            _ => return None,
        };
        let (msg, code) = match rest.rsplit_once("  [") {
            Some((m, c)) if c.ends_with(']') => (m, Some(&c[..c.len() - 1])),
            _ => (rest, None),
        };
        return Some((file, line, col, sev, msg, code));
    }
    None
}

planexec_pdk::gate_component!(MypyGate);

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
    fn run(
        project: &str,
        out: &str,
        code: i32,
        config: serde_json::Value,
    ) -> (GateReport, FakeHost) {
        let host = FakeHost::new().on_output(
            "python3",
            Output {
                exit_code: Some(code),
                stdout: fixture(out).into_bytes(),
                ..Default::default()
            },
        );
        let mounts = Mounts {
            workspace: format!("{}/tests/projects/{project}", dir()),
            scratch: "/s".into(),
        };
        let req = GateRequest {
            name: "mypy".into(),
            config,
            mounts,
            task: None,
            shard: None,
        };
        (MypyGate::check(req, &host).unwrap(), host)
    }

    fn expected(r: &GateReport) {
        let got: Vec<_> = r
            .findings
            .iter()
            .map(|f| {
                (
                    f.path.as_deref().unwrap(),
                    f.line.unwrap(),
                    f.column.unwrap(),
                    f.rule.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("src/app/__init__.py", 9, 12, "mypy/return-value"),
                ("src/app/__init__.py", 9, 18, "mypy/arg-type"),
                ("src/app/__init__.py", 12, 14, "mypy/assignment"),
            ]
        );
        assert_eq!(
            r.findings[1].message,
            "Argument 1 to \"greet\" has incompatible type \"int\"; expected \"str\""
        );
    }

    #[test]
    fn clean_project_passes_and_defaults_to_src() {
        let (r, host) = run("clean", "clean.json.out", 0, json!({}));
        assert_eq!(r.outcome, Outcome::Passed);
        let c = &host.calls.borrow()[0];
        assert_eq!(c.args[..4], ["-m", "mypy", "-O", "json"]);
        assert_eq!(c.args.last().unwrap(), "src");
    }

    #[test]
    fn json_errors_become_findings() {
        let (r, _) = run("errors", "errors.json.out", 1, json!({}));
        assert_eq!(r.outcome, Outcome::Failed);
        assert_eq!(r.summary, "mypy: 3 error(s)");
        expected(&r);
    }

    #[test]
    fn text_errors_become_the_same_findings() {
        let (r, host) = run(
            "errors",
            "errors.text.out",
            1,
            json!({"format": "text", "paths": ["src"]}),
        );
        assert_eq!(r.outcome, Outcome::Failed);
        expected(&r);
        assert!(!host.calls.borrow()[0].args.contains(&"-O".to_string()));
    }

    #[test]
    fn syntax_error_exit_2_is_errored_with_findings() {
        let (r, _) = run("errors", "syntax.json.out", 2, json!({}));
        assert_eq!(r.outcome, Outcome::Errored);
        assert_eq!(r.findings[0].rule, "mypy/syntax");
        assert_eq!(r.findings[0].path.as_deref(), Some("src/app/broken.py"));
        assert!(r.summary.contains("Expected a parameter"), "{}", r.summary);
    }

    #[test]
    fn text_lines_without_columns_and_notes() {
        let f = parse(
            "a.py:3: error: Bad thing  [misc]\na.py:3: note: try this\nb.py: error: weird",
            Some("app"),
        );
        assert_eq!(f.len(), 1);
        assert_eq!(
            (f[0].path.as_deref(), f[0].line, f[0].column),
            (Some("app/a.py"), Some(3), None)
        );
        assert_eq!(f[0].message, "Bad thing\ntry this");
    }
}
