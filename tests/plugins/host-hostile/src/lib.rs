//! A gate that attacks the host itself rather than the sandbox, chosen by its
//! config's `mode`: blocks in WASI, floods the log, returns a million findings,
//! prints terminal escapes and workflow commands, fills scratch, runs programs.
//! The hardening tests check each is stopped, capped or escaped.

wit_bindgen::generate!({ world: "gate", path: "../../../wit" });

use exports::planexec::plugin::gate_plugin::{GateRequest, Guest};
use planexec::plugin::exec;
use planexec::plugin::log::{emit, Level};
use planexec::plugin::types::{Finding, GateReport, Outcome, Severity};

fn report(outcome: Outcome, summary: String) -> GateReport {
    GateReport {
        outcome,
        summary,
        tests: None,
        failures: vec![],
        cases: vec![],
        coverage_percent: None,
        findings: vec![],
        evidence: String::new(),
        exit_code: None,
        duration_ms: 0, shard: None, }
}

/// Tiny extraction of `"key":"value"` so the plugin needs no JSON crate.
fn field(config: &str, key: &str) -> String {
    config
        .split(&format!("\"{key}\""))
        .nth(1)
        .and_then(|r| r.split('"').nth(1))
        .unwrap_or("")
        .to_string()
}

fn finding(message: &str) -> Finding {
    Finding {
        severity: Severity::Important,
        rule: "evil/rule".into(),
        message: message.into(),
        path: Some("src/app.py".into()),
        line: Some(1),
        column: None, end_line: None, end_column: None, }
}

/// Runs `argv` (space-separated; `{scratch}` allowed) and returns its stdout.
fn run(argv: &str) -> Result<GateReport, String> {
    let mut parts = argv.split(' ').map(String::from);
    let program = parts.next().unwrap_or_default();
    let out = exec::run(&exec::Command {
        program,
        args: parts.collect(),
        env: vec![],
        cwd: None,
        timeout_ms: None,
        stdout_file: None,
    });
    match out {
        Ok(o) => {
            let mut r = report(
                Outcome::Passed,
                format!(
                    "exit {:?} timed_out {} took {} ms",
                    o.exit_code, o.timed_out, o.duration_ms
                ),
            );
            r.evidence = String::from_utf8_lossy(&o.stdout).into_owned();
            Ok(r)
        }
        Err(e) => Ok(report(Outcome::Failed, format!("exec refused: {e:?}"))),
    }
}

struct HostHostile;

impl Guest for HostHostile {
    fn check(req: GateRequest) -> Result<GateReport, String> {
        let scratch = req.mounts.scratch.clone();
        match field(&req.config, "mode").as_str() {
            "sleep" => {
                std::thread::sleep(std::time::Duration::from_secs(30));
                Ok(report(Outcome::Passed, "SLEPT through the deadline".into()))
            }
            "log-flood" => {
                let line = "L".repeat(8 * 1024);
                for _ in 0..20_000 {
                    emit(Level::Info, &line);
                }
                Ok(report(Outcome::Passed, "flooded".into()))
            }
            "many-findings" => {
                let mut r = report(Outcome::Failed, "a million findings".into());
                r.findings = (0..1_000_000)
                    .map(|_| Finding {
                        severity: Severity::Info,
                        rule: String::new(),
                        message: String::new(),
                        path: None,
                        line: None,
                        column: None, end_line: None, end_column: None, })
                    .collect();
                Ok(r)
            }
            "escapes" => {
                emit(Level::Warn, "log \x1b]52;c;cHduZWQ=\x07 line\n::error::from the log");
                let mut r = report(
                    Outcome::Passed,
                    "\x1b[2J\x1b[Hall gates passed \x1b]0;title\x07".into(),
                );
                r.findings = vec![finding("bad\n::stop-commands::tok\n::error::injected")];
                r.evidence = "\x1b[31mred\x1b[0m\n::warning::ev".into();
                Ok(r)
            }
            "fill-scratch" => {
                let chunk = vec![7u8; 1 << 20];
                for i in 0..100_000 {
                    std::fs::write(format!("{scratch}/fill-{i}"), &chunk)
                        .map_err(|e| format!("write stopped: {e}"))?;
                }
                Ok(report(Outcome::Passed, "FILLED scratch".into()))
            }
            "hold-scratch" => {
                std::fs::write(format!("{scratch}/held"), "x").map_err(|e| e.to_string())?;
                std::thread::sleep(std::time::Duration::from_secs(60));
                Ok(report(Outcome::Passed, "held".into()))
            }
            "exec" => run(&field(&req.config, "argv")),
            other => Err(format!("unknown mode `{other}`")),
        }
    }
}

export!(HostHostile);
