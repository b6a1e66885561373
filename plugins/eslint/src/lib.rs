//! The `eslint` gate: runs the project's own eslint (`node node_modules/eslint/bin/eslint.js`)
//! with `-f json`, and reports one finding per problem: rule `eslint/<rule>`
//! (`eslint/parse` for a file it cannot parse), error or warning, file, line and column.
//! Errors fail the gate; warnings fail it only past `max_warnings`. Exit 2 (bad config, a
//! missing plugin) is `errored`.

use planexec_pdk::{Command, Finding, Gate, GateReport, GateRequest, Host, Outcome, Severity};
use testfmt::Timeout;

const ESLINT: &str = "node node_modules/eslint/bin/eslint.js";

#[derive(serde::Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Config {
    /// Files, directories or globs (default `["."]`; eslint.config.js decides what is linted).
    paths: Vec<String>,
    /// Extra eslint flags (e.g. `["--rule", "no-console: error"]`).
    args: Vec<String>,
    /// Warnings allowed before the gate fails (default: any number).
    max_warnings: Option<u32>,
    /// How to start eslint (default `node node_modules/eslint/bin/eslint.js`).
    command: Option<String>,
    timeout: Option<Timeout>,
    cwd: Option<String>,
    tail_lines: Option<usize>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileResult {
    file_path: String,
    #[serde(default)]
    messages: Vec<Message>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Message {
    rule_id: Option<String>,
    severity: u8,
    message: String,
    line: Option<u32>,
    column: Option<u32>,
    #[serde(default)]
    fatal: bool,
}

pub struct EslintGate;

impl Gate for EslintGate {
    fn check(req: GateRequest, host: &dyn Host) -> Result<GateReport, String> {
        let cfg: Config = planexec_pdk::config(&req.config)?;
        let tail = cfg.tail_lines.unwrap_or(40);
        let tool = testfmt::NodeTool {
            package: "eslint",
            script: "bin/eslint.js",
            name: "eslint",
        };
        let cwd = cfg.cwd.as_deref();
        let (program, base) =
            match testfmt::node_command(&req.mounts, cwd, cfg.command.as_deref(), ESLINT, tool)? {
                Ok(pb) => pb,
                Err(missing) => return Ok(missing),
            };
        let paths = if cfg.paths.is_empty() {
            vec![".".to_string()]
        } else {
            cfg.paths.clone()
        };
        let mut cmd = Command::new(program)
            .args(base)
            .args(["-f", "json", "--no-color"])
            .args(cfg.args.iter().cloned())
            .args(paths);
        cmd.cwd = cfg.cwd.clone();
        cmd.timeout_ms = testfmt::timeout_ms(&cfg.timeout)?;
        let out = match testfmt::run(host, &cmd) {
            Ok(o) => o,
            Err(r) => return Ok(r),
        };
        let r = match out.exit_code {
            Some(0 | 1) => {
                match parse(&out.stdout_str(), &req.mounts.workspace, cfg.cwd.as_deref()) {
                    Ok(findings) => judge(findings, cfg.max_warnings),
                    Err(e) => planexec_pdk::report(
                        Outcome::Errored,
                        format!("eslint printed no readable JSON report ({e})"),
                    ),
                }
            }
            code => {
                let first = out
                    .stderr_str()
                    .lines()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("")
                    .to_string();
                planexec_pdk::report(
                    Outcome::Errored,
                    format!(
                        "eslint {} (configuration or internal error): {first}",
                        testfmt::exit_text(code)
                    ),
                )
            }
        };
        Ok(testfmt::finish(r, &out, tail))
    }
}

fn judge(findings: Vec<Finding>, max_warnings: Option<u32>) -> GateReport {
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Important)
        .count();
    let warnings = findings.len() - errors;
    let too_many = max_warnings.is_some_and(|m| warnings > m as usize);
    let mut summary = format!("eslint: {errors} error(s), {warnings} warning(s)");
    if too_many {
        summary.push_str(&format!(
            " (more than max_warnings = {})",
            max_warnings.unwrap_or(0)
        ));
    }
    let outcome = if errors > 0 || too_many {
        Outcome::Failed
    } else {
        Outcome::Passed
    };
    let mut r = planexec_pdk::report(outcome, summary);
    r.findings = findings;
    r
}

/// eslint's JSON: an array of files, each with its messages; absolute paths become
/// workspace-relative.
pub fn parse(stdout: &str, workspace: &str, cwd: Option<&str>) -> Result<Vec<Finding>, String> {
    let files: Vec<FileResult> = serde_json::from_str(stdout.trim()).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for f in files {
        let path = if f.file_path.starts_with('/') {
            testfmt::relativize_host_path(workspace, &f.file_path).unwrap_or(f.file_path)
        } else {
            testfmt::ws_rel(cwd, &f.file_path)
        };
        for m in f.messages {
            let rule = match (&m.rule_id, m.fatal) {
                (Some(r), _) => format!("eslint/{r}"),
                (None, true) => "eslint/parse".to_string(),
                (None, false) => "eslint/other".to_string(),
            };
            out.push(Finding {
                severity: if m.severity >= 2 {
                    Severity::Important
                } else {
                    Severity::Minor
                },
                rule,
                message: m.message,
                path: Some(path.clone()),
                line: m.line,
                column: m.column,
                end_line: None,
                end_column: None,
            });
        }
    }
    Ok(out)
}

planexec_pdk::gate_component!(EslintGate);

#[cfg(test)]
mod tests {
    use super::*;

    const OUT: &str = r#"[{"filePath":"/host/ws/src/bad.js","messages":[
        {"ruleId":"eqeqeq","severity":2,"message":"Expected '===' and instead saw '=='.","line":2,"column":9},
        {"ruleId":"no-console","severity":1,"message":"Unexpected console statement.","line":3,"column":3},
        {"ruleId":null,"fatal":true,"severity":2,"message":"Parsing error: Unexpected token","line":9,"column":1}],
        "errorCount":2,"warningCount":1}]"#;

    #[test]
    fn problems_are_findings_with_rule_severity_and_location() {
        let ws = std::env::temp_dir().join(format!("eslint-gate-{}", std::process::id()));
        std::fs::create_dir_all(ws.join("src")).unwrap();
        std::fs::write(ws.join("src/bad.js"), "").unwrap();
        let fs = parse(OUT, &ws.display().to_string(), None).unwrap();
        assert_eq!(fs.len(), 3);
        assert_eq!(
            (
                fs[0].rule.as_str(),
                fs[0].path.as_deref(),
                fs[0].line,
                fs[0].column
            ),
            ("eslint/eqeqeq", Some("src/bad.js"), Some(2), Some(9))
        );
        assert_eq!(fs[1].severity, Severity::Minor);
        assert_eq!(fs[2].rule, "eslint/parse");
        let r = judge(fs.clone(), None);
        assert_eq!(
            (r.outcome, r.summary.as_str()),
            (Outcome::Failed, "eslint: 2 error(s), 1 warning(s)")
        );
        let warnings_only: Vec<_> = fs
            .into_iter()
            .filter(|f| f.severity == Severity::Minor)
            .collect();
        assert_eq!(judge(warnings_only.clone(), None).outcome, Outcome::Passed);
        assert_eq!(judge(warnings_only, Some(0)).outcome, Outcome::Failed);
    }
}
