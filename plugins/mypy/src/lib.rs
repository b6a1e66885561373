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
            "--show-error-end",
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
    /// With `--show-error-end` (0-based, one past the span, like `column`).
    end_line: Option<i64>,
    end_column: Option<i64>,
    message: String,
    hint: Option<String>,
    code: Option<String>,
    severity: String,
}

/// Where an error is: 1-based line and column, and the span's last line and column.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Loc {
    line: i64,
    col: Option<i64>,
    end_line: Option<i64>,
    end_col: Option<i64>,
}

/// One error line as mypy printed it.
struct Entry<'a> {
    file: &'a str,
    loc: Loc,
    sev: &'a str,
    msg: &'a str,
    code: Option<&'a str>,
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
                // JSON columns are 0-based and the end is exclusive: +1 for the start,
                // as is for the last character.
                let loc = Loc {
                    line: e.line,
                    col: Some(e.column + 1),
                    end_line: e.end_line,
                    end_col: e.end_column,
                };
                let entry = Entry {
                    file: &e.file,
                    loc,
                    sev: &e.severity,
                    msg: &message,
                    code: e.code.as_deref(),
                };
                push(&mut out, cwd, entry);
                continue;
            }
        }
        if let Some(entry) = text_line(l) {
            push(&mut out, cwd, entry);
        }
    }
    out
}

fn positive(n: Option<i64>) -> Option<u32> {
    n.and_then(|c| u32::try_from(c).ok()).filter(|&c| c > 0)
}

fn push(out: &mut Vec<Finding>, cwd: Option<&str>, e: Entry) {
    if e.sev == "note" {
        if let Some(prev) = out.last_mut() {
            if prev.path.as_deref() == Some(&testfmt::ws_rel(cwd, e.file)) {
                prev.message.push('\n');
                prev.message.push_str(e.msg);
                return;
            }
        }
    }
    let line = positive(Some(e.loc.line));
    let column = positive(e.loc.col);
    // An end before the start (mypy prints the start again for some nodes) says nothing.
    let end_line = positive(e.loc.end_line).filter(|&l| line.is_some_and(|s| l >= s));
    let end_column = positive(e.loc.end_col)
        .filter(|&c| end_line.is_some() && (end_line != line || column.is_some_and(|s| c >= s)));
    out.push(Finding {
        severity: match e.sev {
            "error" => Severity::Important,
            "note" => Severity::Info,
            _ => Severity::Minor,
        },
        rule: format!(
            "mypy/{}",
            e.code
                .unwrap_or(if e.sev == "note" { "note" } else { "error" })
        ),
        message: e.msg.to_string(),
        path: Some(testfmt::ws_rel(cwd, e.file)),
        line,
        column,
        end_line: end_column.and(end_line),
        end_column,
    });
}

/// The numbers before `: error: `: `line`, `line:col` or (`--show-error-end`)
/// `line:col:end_line:end_col`; the rest is the file name.
fn location(loc: &str) -> Option<(&str, Loc)> {
    let parts: Vec<&str> = loc.rsplitn(5, ':').collect();
    let nums: Vec<i64> = parts
        .iter()
        .map_while(|p| p.parse::<i64>().ok())
        .take(4)
        .collect();
    let (file, l) = match nums.len() {
        4 => (
            parts[4],
            Loc {
                line: nums[3],
                col: Some(nums[2]),
                end_line: Some(nums[1]),
                end_col: Some(nums[0]),
            },
        ),
        2 | 3 => (
            loc.rsplitn(3, ':').nth(2)?,
            Loc {
                line: nums[1],
                col: Some(nums[0]),
                ..Loc::default()
            },
        ),
        1 => (
            loc.rsplit_once(':')?.0,
            Loc {
                line: nums[0],
                ..Loc::default()
            },
        ),
        _ => return None,
    };
    (!file.is_empty()).then_some((file, l))
}

/// `src/app/x.py:9:12: error: Message  [code]` (column and span end optional).
fn text_line(l: &str) -> Option<Entry<'_>> {
    for sev in ["error", "note", "warning"] {
        let tag = format!(": {sev}: ");
        let Some(i) = l.find(&tag) else { continue };
        let (file, loc) = location(&l[..i])?;
        let rest = &l[i + tag.len()..];
        let (msg, code) = match rest.rsplit_once("  [") {
            Some((m, c)) if c.ends_with(']') => (m, Some(&c[..c.len() - 1])),
            _ => (rest, None),
        };
        return Some(Entry {
            file,
            loc,
            sev,
            msg,
            code,
        });
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
    fn span_ends_from_json_and_text_are_the_same_inclusive_positions() {
        // mypy 2.4 with --show-error-end, the same two errors in both forms.
        let json = concat!(
            r#"{"file": "a.py", "line": 2, "column": 11, "end_line": 2, "end_column": 16, "#,
            r#""message": "Incompatible return value type", "hint": null, "code": "return-value", "severity": "error"}"#,
            "\n",
            r#"{"file": "a.py", "line": 4, "column": 9, "end_line": 6, "end_column": 3, "#,
            r#""message": "Incompatible types", "hint": null, "code": "assignment", "severity": "error"}"#,
        );
        let text = "a.py:2:12:2:16: error: Incompatible return value type  [return-value]\n\
                    a.py:4:10:6:3: error: Incompatible types  [assignment]";
        for f in [parse(json, None), parse(text, None)] {
            let spans: Vec<_> = f
                .iter()
                .map(|f| {
                    (
                        f.path.as_deref(),
                        f.line,
                        f.column,
                        f.end_line,
                        f.end_column,
                    )
                })
                .collect();
            assert_eq!(
                spans,
                [
                    (Some("a.py"), Some(2), Some(12), Some(2), Some(16)),
                    (Some("a.py"), Some(4), Some(10), Some(6), Some(3)),
                ]
            );
            assert_eq!(f[0].rule, "mypy/return-value");
        }
    }

    #[test]
    fn an_end_before_the_start_is_dropped() {
        let f = parse("a.py:5:9:4:1: error: odd  [misc]", None);
        assert_eq!((f[0].line, f[0].column), (Some(5), Some(9)));
        assert_eq!((f[0].end_line, f[0].end_column), (None, None));
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
