//! A gate that misbehaves on purpose, chosen by its config's `mode`; the
//! sandbox tests check the host survives each and reports it.

wit_bindgen::generate!({ world: "gate", path: "../../../wit" });

use exports::planexec::plugin::gate_plugin::{GateRequest, Guest};
use planexec::plugin::types::{GateReport, Outcome};

fn report(outcome: Outcome, summary: String) -> GateReport {
    GateReport {
        outcome,
        summary,
        tests: None,
        failures: vec![],
        coverage_percent: None,
        findings: vec![],
        evidence: String::new(),
        exit_code: None,
        duration_ms: 0,
    }
}

fn mode(config: &str) -> String {
    // Tiny extraction of "mode":"x" so the plugin needs no JSON crate.
    config
        .split("\"mode\"")
        .nth(1)
        .and_then(|r| r.split('"').nth(1))
        .unwrap_or("")
        .to_string()
}

struct Hostile;

impl Guest for Hostile {
    fn check(req: GateRequest) -> Result<GateReport, String> {
        let ws = req.mounts.workspace.clone();
        match mode(&req.config).as_str() {
            "loop" => {
                let mut x: u64 = 0;
                loop {
                    x = x.wrapping_add(1);
                    std::hint::black_box(x);
                }
            }
            "read-passwd" => match std::fs::read_to_string("/etc/passwd") {
                Ok(s) => Ok(report(Outcome::Passed, format!("READ /etc/passwd: {} bytes", s.len()))),
                Err(e) => Ok(report(Outcome::Failed, format!("denied: {e}"))),
            },
            "escape-workspace" => match std::fs::read_to_string(format!("{ws}/../../../../etc/passwd")) {
                Ok(s) => Ok(report(Outcome::Passed, format!("READ via ..: {} bytes", s.len()))),
                Err(e) => Ok(report(Outcome::Failed, format!("denied: {e}"))),
            },
            "write-workspace" => match std::fs::write(format!("{ws}/pwned.txt"), "pwned") {
                Ok(()) => Ok(report(Outcome::Passed, "WROTE the workspace".into())),
                Err(e) => Ok(report(Outcome::Failed, format!("denied: {e}"))),
            },
            "read-workspace" => match std::fs::read_to_string(format!("{ws}/hello.txt")) {
                Ok(s) => Ok(report(Outcome::Passed, format!("read: {}", s.trim()))),
                Err(e) => Ok(report(Outcome::Failed, format!("could not read: {e}"))),
            },
            "write-scratch" => {
                let p = format!("{}/note.txt", req.mounts.scratch);
                std::fs::write(&p, "ok").map_err(|e| e.to_string())?;
                let back = std::fs::read_to_string(&p).map_err(|e| e.to_string())?;
                Ok(report(Outcome::Passed, format!("scratch: {back}")))
            }
            "env" => {
                let vars: Vec<String> = std::env::vars().map(|(k, _)| k).collect();
                match std::env::var("HOME") {
                    Ok(v) => Ok(report(Outcome::Passed, format!("HOME={v}; vars={vars:?}"))),
                    Err(_) => Ok(report(Outcome::Failed, format!("no HOME; vars={vars:?}"))),
                }
            }
            "socket" => match std::net::TcpStream::connect("127.0.0.1:9") {
                Ok(_) => Ok(report(Outcome::Passed, "CONNECTED".into())),
                Err(e) => Ok(report(Outcome::Failed, format!("denied: {e}"))),
            },
            "panic" => panic!("hostile plugin panicked on purpose"),
            "memory" => {
                let mut v: Vec<Vec<u8>> = Vec::new();
                loop {
                    v.push(vec![1u8; 16 << 20]);
                    std::hint::black_box(&v);
                }
            }
            "big-output" => {
                let mut r = report(Outcome::Passed, "big".into());
                r.evidence = "x".repeat(64 << 20);
                Ok(r)
            }
            "exec" => {
                let prog = req.config.split("\"program\"").nth(1).and_then(|r| r.split('"').nth(1)).unwrap_or("true").to_string();
                let out = planexec::plugin::exec::run(&planexec::plugin::exec::Command {
                    program: prog,
                    args: vec![],
                    env: vec![],
                    cwd: None,
                    timeout_ms: None,
                    stdout_file: None,
                });
                match out {
                    Ok(o) => Ok(report(Outcome::Passed, format!("ran: exit {:?}", o.exit_code))),
                    Err(e) => Ok(report(Outcome::Failed, format!("exec refused: {e:?}"))),
                }
            }
            other => Err(format!("unknown mode `{other}`")),
        }
    }
}

export!(Hostile);
