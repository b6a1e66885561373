//! The `bandit` gate ("Security: N issues"): runs `bandit -r PATHS -f json -q` with the
//! configured severity and confidence thresholds and reports one finding per issue
//! (`bandit/B602`, file, line, column, severity, confidence, CWE). Any issue at or above the
//! thresholds fails the gate; files bandit could not scan are listed and make it `errored`
//! when nothing else was found.

use planexec_pdk::{Command, Finding, Gate, GateReport, GateRequest, Host, Outcome, Severity};
use testfmt::Timeout;

#[derive(serde::Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Config {
    /// What to scan (default `["src"]` if src/ exists, else `["."]`).
    paths: Vec<String>,
    /// Lowest severity reported and failing: `"low"` (default), `"medium"` or `"high"`.
    severity: Option<String>,
    /// Lowest confidence reported and failing: `"low"` (default), `"medium"` or `"high"`.
    confidence: Option<String>,
    /// Extra bandit flags (e.g. `["-c", "pyproject.toml"]`, `["--skip", "B101"]`).
    args: Vec<String>,
    /// How to start bandit (default `python3 -m bandit`).
    command: Option<String>,
    timeout: Option<Timeout>,
    cwd: Option<String>,
    tail_lines: Option<usize>,
}

#[derive(serde::Deserialize)]
struct BanditOutput {
    #[serde(default)]
    results: Vec<Issue>,
    #[serde(default)]
    errors: Vec<ScanError>,
}

#[derive(serde::Deserialize)]
struct Issue {
    test_id: String,
    issue_text: String,
    issue_severity: String,
    issue_confidence: String,
    filename: String,
    line_number: u32,
    #[serde(default)]
    col_offset: Option<u32>,
    #[serde(default)]
    issue_cwe: Option<Cwe>,
}

#[derive(serde::Deserialize)]
struct Cwe {
    id: Option<u32>,
}

#[derive(serde::Deserialize)]
struct ScanError {
    filename: String,
    reason: String,
}

pub struct BanditGate;

impl Gate for BanditGate {
    fn check(req: GateRequest, host: &dyn Host) -> Result<GateReport, String> {
        let cfg: Config = planexec_pdk::config(&req.config)?;
        let severity = level(cfg.severity.as_deref(), "severity")?;
        let confidence = level(cfg.confidence.as_deref(), "confidence")?;
        let paths = testfmt::default_paths(&req.mounts, cfg.cwd.as_deref(), &cfg.paths);
        let (program, base) =
            testfmt::split_program(cfg.command.as_deref().unwrap_or("python3 -m bandit"))?;
        let mut cmd = Command::new(program)
            .args(base)
            .args([
                "-f",
                "json",
                "-q",
                "--severity-level",
                severity,
                "--confidence-level",
                confidence,
            ])
            .args(cfg.args.iter().cloned())
            .arg("-r")
            .args(paths.iter().cloned());
        cmd.cwd = cfg.cwd.clone();
        cmd.timeout_ms = testfmt::timeout_ms(&cfg.timeout)?;
        let tail = cfg.tail_lines.unwrap_or(40);
        let out = match testfmt::run(host, &cmd) {
            Ok(o) => o,
            Err(r) => return Ok(r),
        };
        if let Some(r) = testfmt::python_module_missing(&out, "bandit") {
            return Ok(testfmt::finish(r, &out, tail));
        }
        let r = match (
            out.exit_code,
            serde_json::from_str::<BanditOutput>(out.stdout_str().trim()),
        ) {
            (Some(0 | 1), Ok(parsed)) => judge(parsed, cfg.cwd.as_deref(), severity, confidence),
            (Some(0 | 1), Err(e)) => planexec_pdk::report(
                Outcome::Errored,
                format!("bandit printed no readable JSON report ({e})"),
            ),
            (code, _) => planexec_pdk::report(
                Outcome::Errored,
                format!(
                    "bandit {} (usage or internal error)",
                    testfmt::exit_text(code)
                ),
            ),
        };
        Ok(testfmt::finish(r, &out, tail))
    }
}

/// `"low"`, `"medium"` or `"high"` (the default is `"low"`: everything).
fn level<'a>(v: Option<&'a str>, key: &str) -> Result<&'a str, String> {
    match v.unwrap_or("low") {
        l @ ("low" | "medium" | "high") => Ok(l),
        other => Err(format!(
            "config: {key} must be \"low\", \"medium\" or \"high\", not \"{other}\""
        )),
    }
}

fn judge(p: BanditOutput, cwd: Option<&str>, severity: &str, confidence: &str) -> GateReport {
    let mut by = [0usize; 3];
    let mut findings: Vec<Finding> = p
        .results
        .into_iter()
        .map(|i| {
            let sev = match i.issue_severity.as_str() {
                "HIGH" => 2,
                "MEDIUM" => 1,
                _ => 0,
            };
            by[sev] += 1;
            finding(i, cwd)
        })
        .collect();
    let issues = findings.len();
    let errors = p.errors.len();
    findings.extend(p.errors.into_iter().map(|e| Finding {
        severity: Severity::Info,
        rule: "bandit/error".into(),
        message: format!(
            "bandit could not scan {}: {}",
            testfmt::ws_rel(cwd, &e.filename),
            e.reason
        ),
        path: Some(testfmt::ws_rel(cwd, &e.filename)),
        line: None,
        column: None,
        end_line: None,
        end_column: None,
    }));
    let mut summary = format!(
        "Security: {issues} issue(s) ({} high, {} medium, {} low; severity >= {severity}, confidence >= {confidence})",
        by[2], by[1], by[0]
    );
    if errors > 0 {
        summary.push_str(&format!("; {errors} file(s) could not be scanned"));
    }
    let outcome = match (issues, errors) {
        (0, 0) => Outcome::Passed,
        (0, _) => Outcome::Errored,
        _ => Outcome::Failed,
    };
    let mut r = planexec_pdk::report(outcome, summary);
    r.findings = findings;
    r
}

fn finding(i: Issue, cwd: Option<&str>) -> Finding {
    let cwe = i
        .issue_cwe
        .and_then(|c| c.id)
        .map(|id| format!(", CWE-{id}"))
        .unwrap_or_default();
    Finding {
        severity: match i.issue_severity.as_str() {
            "HIGH" => Severity::Critical,
            "MEDIUM" => Severity::Important,
            _ => Severity::Minor,
        },
        rule: format!("bandit/{}", i.test_id),
        message: format!(
            "{} (severity {}, confidence {}{cwe})",
            i.issue_text,
            i.issue_severity.to_lowercase(),
            i.issue_confidence.to_lowercase()
        ),
        path: Some(testfmt::ws_rel(cwd, &i.filename)),
        line: Some(i.line_number),
        column: i.col_offset.map(|c| c + 1),
        end_line: None,
        end_column: None,
    }
}

planexec_pdk::gate_component!(BanditGate);

#[cfg(test)]
mod tests {
    use super::*;
    use planexec_pdk::testing::FakeHost;
    use planexec_pdk::Mounts;
    use serde_json::json;

    const OUT: &str = r#"{"errors": [], "metrics": {}, "results": [
      {"code": "", "col_offset": 11, "filename": "src/app.py", "issue_confidence": "HIGH", "issue_cwe": {"id": 78, "link": ""},
       "issue_severity": "HIGH", "issue_text": "subprocess call with shell=True identified, security issue.", "line_number": 6,
       "line_range": [6], "more_info": "", "test_id": "B602", "test_name": "subprocess_popen_with_shell_equals_true"},
      {"code": "", "col_offset": 4, "filename": "src/app.py", "issue_confidence": "HIGH", "issue_cwe": {"id": 703, "link": ""},
       "issue_severity": "LOW", "issue_text": "Use of assert detected.", "line_number": 14,
       "line_range": [14], "more_info": "", "test_id": "B101", "test_name": "assert_used"}]}"#;

    fn run(config: serde_json::Value, code: i32, stdout: &str) -> (GateReport, FakeHost) {
        let host = FakeHost::new().on("python3", code, stdout);
        let mounts = Mounts {
            workspace: "/nonexistent".into(),
            scratch: "/s".into(),
        };
        (
            BanditGate::check(
                GateRequest {
                    name: "bandit".into(),
                    config,
                    mounts,
                    task: None,
                    shard: None,
                },
                &host,
            )
            .unwrap(),
            host,
        )
    }

    #[test]
    fn issues_are_findings_with_severity_confidence_and_location() {
        let (r, host) = run(json!({"severity": "low"}), 1, OUT);
        assert_eq!(r.outcome, Outcome::Failed);
        assert_eq!(
            r.summary,
            "Security: 2 issue(s) (1 high, 0 medium, 1 low; severity >= low, confidence >= low)"
        );
        let f = &r.findings[0];
        assert_eq!(
            (f.rule.as_str(), f.path.as_deref(), f.line, f.column),
            ("bandit/B602", Some("src/app.py"), Some(6), Some(12))
        );
        assert_eq!(f.severity, Severity::Critical);
        assert!(
            f.message
                .ends_with("(severity high, confidence high, CWE-78)"),
            "{}",
            f.message
        );
        let args = &host.calls.borrow()[0].args;
        assert_eq!(
            args[..8],
            [
                "-m",
                "bandit",
                "-f",
                "json",
                "-q",
                "--severity-level",
                "low",
                "--confidence-level"
            ]
        );
        assert_eq!(args[args.len() - 2..], ["-r", "."]);
    }

    #[test]
    fn nothing_found_passes_and_bad_thresholds_are_config_errors() {
        let (r, _) = run(
            json!({"severity": "high"}),
            0,
            r#"{"errors": [], "results": []}"#,
        );
        assert_eq!(r.outcome, Outcome::Passed);
        let host = FakeHost::new();
        let mounts = Mounts::default();
        let e = BanditGate::check(
            GateRequest {
                name: "b".into(),
                config: json!({"severity": "severe"}),
                mounts,
                task: None,
                shard: None,
            },
            &host,
        );
        assert!(e.unwrap_err().contains("severity must be"));
    }
}
