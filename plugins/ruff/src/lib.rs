//! The `ruff` gate: runs `ruff check --output-format=json` and (unless `format = false`)
//! `ruff format --check --output-format=json` on the configured paths. One finding per lint
//! violation (`ruff/F401`, file, line, column) and one per file ruff would reformat
//! (`ruff/unformatted`). Exit 2 (ruff's own error: bad config, unknown rule) is `errored`.

use planexec_pdk::{
    Command, Finding, Gate, GateReport, GateRequest, Host, Outcome, Output, Severity,
};
use testfmt::Timeout;

#[derive(serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Config {
    /// Files or directories (default `["."]`; ruff honours pyproject's include/exclude).
    paths: Vec<String>,
    /// Extra `ruff check` flags (e.g. `["--select", "E,F,B"]`).
    args: Vec<String>,
    /// Also run `ruff format --check` (default true).
    format: bool,
    /// Extra `ruff format` flags.
    format_args: Vec<String>,
    /// How to start ruff (default `python3 -m ruff`; `ruff` for a standalone binary).
    command: Option<String>,
    timeout: Option<Timeout>,
    cwd: Option<String>,
    tail_lines: Option<usize>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            paths: Vec::new(),
            args: Vec::new(),
            format: true,
            format_args: Vec::new(),
            command: None,
            timeout: None,
            cwd: None,
            tail_lines: None,
        }
    }
}

/// One entry of ruff's JSON output (the same shape for `check` and `format --check`).
#[derive(serde::Deserialize)]
struct Diagnostic {
    code: Option<String>,
    message: Option<String>,
    filename: String,
    location: Option<Location>,
}

#[derive(serde::Deserialize)]
struct Location {
    row: u32,
    column: u32,
}

/// What one ruff run found, or why it could not judge.
enum Run {
    Findings(Vec<Finding>, Output),
    Errored(GateReport),
}

pub struct RuffGate;

impl Gate for RuffGate {
    fn check(req: GateRequest, host: &dyn Host) -> Result<GateReport, String> {
        let cfg: Config = planexec_pdk::config(&req.config)?;
        let tail = cfg.tail_lines.unwrap_or(40);
        let lint = match run(host, &cfg, &req.mounts.workspace, "check", &cfg.args)? {
            Run::Findings(f, o) => (f, o),
            Run::Errored(r) => return Ok(r),
        };
        let fmt = if cfg.format {
            match run(
                host,
                &cfg,
                &req.mounts.workspace,
                "format",
                &cfg.format_args,
            )? {
                Run::Findings(f, o) => Some((f, o)),
                Run::Errored(r) => return Ok(r),
            }
        } else {
            None
        };
        let (violations, lint_out) = lint;
        let unformatted = fmt.as_ref().map(|(f, _)| f.len()).unwrap_or(0);
        let mut summary = format!("ruff: {} violation(s)", violations.len());
        if cfg.format {
            summary.push_str(&format!(", {unformatted} file(s) would be reformatted"));
        }
        if !violations.is_empty() {
            summary.push_str(&format!(" ({})", rule_counts(&violations)));
        }
        let outcome = if violations.is_empty() && unformatted == 0 {
            Outcome::Passed
        } else {
            Outcome::Failed
        };
        let mut r = planexec_pdk::report(outcome, summary);
        r.findings = violations;
        let mut last = lint_out;
        if let Some((f, o)) = fmt {
            r.findings.extend(f);
            last.stdout.extend_from_slice(&o.stdout);
            last.stderr.extend_from_slice(&o.stderr);
            last.duration_ms += o.duration_ms;
        }
        Ok(testfmt::finish(r, &last, tail))
    }
}

/// Runs `ruff check` or `ruff format --check` with JSON output and reads its findings.
/// A ruff whose `format` has no `--output-format` (before 0.13) is asked again in text.
fn run(
    host: &dyn Host,
    cfg: &Config,
    workspace: &str,
    sub: &str,
    extra: &[String],
) -> Result<Run, String> {
    let tail = cfg.tail_lines.unwrap_or(40);
    let out = match testfmt::run(host, &command(cfg, sub, extra, true)?) {
        Ok(o) => o,
        Err(r) => return Ok(Run::Errored(r)),
    };
    if sub == "format" && out.exit_code == Some(2) && no_output_format(&out) {
        let out = match testfmt::run(host, &command(cfg, sub, extra, false)?) {
            Ok(o) => o,
            Err(r) => return Ok(Run::Errored(r)),
        };
        return Ok(read(out, sub, tail, |o| {
            Ok(would_reformat(
                &o.stdout_str(),
                workspace,
                cfg.cwd.as_deref(),
            ))
        }));
    }
    Ok(read(out, sub, tail, |o| {
        parse(
            &o.stdout_str(),
            workspace,
            cfg.cwd.as_deref(),
            sub == "format",
        )
    }))
}

/// `ruff check --no-fix` / `ruff format --check`, JSON output when `json`.
fn command(cfg: &Config, sub: &str, extra: &[String], json: bool) -> Result<Command, String> {
    let (program, base) =
        testfmt::split_program(cfg.command.as_deref().unwrap_or("python3 -m ruff"))?;
    let paths = if cfg.paths.is_empty() {
        vec![".".to_string()]
    } else {
        cfg.paths.clone()
    };
    // A gate only checks, whatever the project's config says (`[tool.ruff] fix = true`
    // would make `ruff check` write the files).
    let mut cmd = Command::new(program)
        .args(base)
        .arg(sub)
        .arg(if sub == "format" {
            "--check"
        } else {
            "--no-fix"
        })
        .arg("--no-cache");
    if json {
        cmd = cmd.arg("--output-format=json");
    }
    cmd = cmd.args(extra.iter().cloned()).args(paths);
    cmd.cwd = cfg.cwd.clone();
    cmd.timeout_ms = testfmt::timeout_ms(&cfg.timeout)?;
    Ok(cmd)
}

/// ruff's usage error for a flag its `format` does not know.
fn no_output_format(out: &Output) -> bool {
    let text = out.combined();
    text.contains("unexpected argument") && text.contains("--output-format")
}

/// `Would reformat: src/x.py` lines (ruff format --check's text output).
fn would_reformat(stdout: &str, workspace: &str, cwd: Option<&str>) -> Vec<Finding> {
    stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Would reformat: "))
        .map(|p| {
            let d = Diagnostic {
                code: None,
                message: None,
                filename: p.trim().to_string(),
                location: None,
            };
            finding(d, workspace, cwd, true)
        })
        .collect()
}

/// Checks ruff's exit and reads its findings with `parse`.
fn read(
    out: Output,
    sub: &str,
    tail: usize,
    parse: impl Fn(&Output) -> Result<Vec<Finding>, String>,
) -> Run {
    if let Some(r) = testfmt::python_module_missing(&out, "ruff") {
        return Run::Errored(testfmt::finish(r, &out, tail));
    }
    let what = if sub == "format" {
        "ruff format --check"
    } else {
        "ruff check"
    };
    let errored = |why: String| {
        Run::Errored(testfmt::finish(
            planexec_pdk::report(Outcome::Errored, why),
            &out,
            tail,
        ))
    };
    match out.exit_code {
        Some(0) | Some(1) => {}
        Some(c) => {
            return errored(format!(
                "{what} exited {c} (ruff's own error): {}",
                first_line(&out)
            ))
        }
        None => return errored(format!("{what} was killed (timeout or signal)")),
    }
    let findings = match parse(&out) {
        Ok(f) => f,
        Err(e) => return errored(format!("{what}: unreadable JSON output ({e})")),
    };
    if out.exit_code == Some(1) && findings.is_empty() {
        return errored(format!(
            "{what} exited 1 but reported nothing: {}",
            first_line(&out)
        ));
    }
    Run::Findings(findings, out)
}

fn first_line(out: &Output) -> String {
    out.combined()
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .to_string()
}

/// ruff's JSON array: one finding per entry; absolute paths become workspace-relative.
pub fn parse(
    stdout: &str,
    workspace: &str,
    cwd: Option<&str>,
    format: bool,
) -> Result<Vec<Finding>, String> {
    let text = stdout.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let diags: Vec<Diagnostic> = serde_json::from_str(text).map_err(|e| e.to_string())?;
    Ok(diags
        .into_iter()
        .map(|d| finding(d, workspace, cwd, format))
        .collect())
}

fn finding(d: Diagnostic, workspace: &str, cwd: Option<&str>, format: bool) -> Finding {
    let path = if d.filename.starts_with('/') {
        testfmt::relativize_host_path(workspace, &d.filename).unwrap_or(d.filename)
    } else {
        testfmt::ws_rel(cwd, &d.filename)
    };
    let code = d.code.unwrap_or_else(|| {
        if format {
            "unformatted".into()
        } else {
            "syntax-error".into()
        }
    });
    let message = if format {
        format!("would reformat {path}")
    } else {
        d.message.unwrap_or_default()
    };
    Finding {
        severity: if format {
            Severity::Minor
        } else {
            Severity::Important
        },
        rule: format!("ruff/{code}"),
        message,
        path: Some(path),
        line: d.location.as_ref().map(|l| l.row),
        column: d.location.as_ref().map(|l| l.column),
        end_line: None,
        end_column: None,
    }
}

/// `F401 ×2, E711 ×1`, most frequent first.
fn rule_counts(fs: &[Finding]) -> String {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for f in fs {
        let code = f.rule.trim_start_matches("ruff/").to_string();
        match counts.iter_mut().find(|(c, _)| *c == code) {
            Some((_, n)) => *n += 1,
            None => counts.push((code, 1)),
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    counts
        .iter()
        .map(|(c, n)| format!("{c} ×{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

planexec_pdk::gate_component!(RuffGate);

#[cfg(test)]
mod tests {
    use super::*;
    use planexec_pdk::{ExecError, Level, Mounts};
    use serde_json::json;
    use std::cell::RefCell;

    fn request(config: serde_json::Value) -> GateRequest {
        GateRequest {
            name: "ruff".into(),
            config,
            mounts: Mounts {
                workspace: ws(),
                scratch: "/s".into(),
            },
            task: None,
            shard: None,
        }
    }

    /// Answers each command with the next of `outs` (ruff check, then ruff format).
    struct Seq {
        outs: RefCell<Vec<(i32, &'static str)>>,
        calls: RefCell<Vec<Command>>,
    }

    impl Seq {
        fn new(outs: &[(i32, &'static str)]) -> Self {
            Seq {
                outs: RefCell::new(outs.iter().rev().cloned().collect()),
                calls: RefCell::default(),
            }
        }
    }

    impl Host for Seq {
        fn exec(&self, cmd: &Command) -> Result<Output, ExecError> {
            self.calls.borrow_mut().push(cmd.clone());
            let (code, text) = self.outs.borrow_mut().pop().expect("no more outputs");
            let (stdout, stderr) = if code == 2 { ("", text) } else { (text, "") };
            Ok(Output {
                exit_code: Some(code),
                stdout: stdout.into(),
                stderr: stderr.into(),
                ..Default::default()
            })
        }
        fn log(&self, _: Level, _: &str) {}
    }

    const CHECK: &str = r#"[{"cell":null,"code":"F401","end_location":{"column":10,"row":1},"filename":"/host/ws/src/bad.py","fix":null,"location":{"column":8,"row":1},"message":"`os` imported but unused","name":"unused-import","noqa_row":1,"severity":"error","url":null}]"#;
    const FORMAT: &str = r#"[{"cell":null,"code":"unformatted","filename":"/host/ws/src/bad.py","fix":null,"location":{"column":12,"row":8},"message":"File would be reformatted","name":"unformatted","noqa_row":null,"severity":"error","url":null}]"#;

    fn ws() -> String {
        let d = std::env::temp_dir().join(format!("ruff-gate-ws-{}", std::process::id()));
        std::fs::create_dir_all(d.join("src")).unwrap();
        std::fs::write(d.join("src/bad.py"), "import os\n").unwrap();
        d.display().to_string()
    }

    #[test]
    fn violations_and_unformatted_files_are_findings() {
        let host = Seq::new(&[(1, CHECK), (1, FORMAT)]);
        let req = request(json!({}));
        let r = RuffGate::check(req, &host).unwrap();
        assert_eq!(r.outcome, Outcome::Failed);
        assert_eq!(
            r.summary,
            "ruff: 1 violation(s), 1 file(s) would be reformatted (F401 ×1)"
        );
        let f = &r.findings[0];
        assert_eq!(
            (f.rule.as_str(), f.path.as_deref(), f.line, f.column),
            ("ruff/F401", Some("src/bad.py"), Some(1), Some(8))
        );
        assert_eq!(r.findings[1].rule, "ruff/unformatted");
        let calls = host.calls.borrow();
        assert_eq!(
            calls[0].args,
            [
                "-m",
                "ruff",
                "check",
                "--no-fix",
                "--no-cache",
                "--output-format=json",
                "."
            ]
        );
        assert_eq!(
            calls[1].args,
            [
                "-m",
                "ruff",
                "format",
                "--check",
                "--no-cache",
                "--output-format=json",
                "."
            ]
        );
    }

    #[test]
    fn a_ruff_whose_format_has_no_output_format_is_asked_in_text() {
        let usage = "error: unexpected argument '--output-format' found\n\nUsage: ruff format --check [FILES]...";
        let host = Seq::new(&[
            (0, "[]"),
            (2, usage),
            (1, "Would reformat: src/a.py\n1 file would be reformatted\n"),
        ]);
        let req = request(json!({}));
        let r = RuffGate::check(req, &host).unwrap();
        assert_eq!(r.outcome, Outcome::Failed, "{}", r.summary);
        assert_eq!(r.findings.len(), 1);
        assert_eq!(
            (r.findings[0].rule.as_str(), r.findings[0].path.as_deref()),
            ("ruff/unformatted", Some("src/a.py"))
        );
        let calls = host.calls.borrow();
        assert!(
            !calls[2]
                .args
                .iter()
                .any(|a| a.starts_with("--output-format")),
            "{:?}",
            calls[2].args
        );
    }

    #[test]
    fn clean_passes_and_exit_2_is_errored() {
        let host = Seq::new(&[(0, "[]"), (0, "")]);
        let req = request(json!({}));
        assert_eq!(
            RuffGate::check(req, &host).unwrap().outcome,
            Outcome::Passed
        );
        let host = Seq::new(&[(2, "ruff failed\n  Cause: unknown rule selector: `XYZ`\n")]);
        let req = request(json!({"format": false}));
        let r = RuffGate::check(req, &host).unwrap();
        assert_eq!(r.outcome, Outcome::Errored);
        assert!(r.summary.contains("exited 2"), "{}", r.summary);
    }
}
