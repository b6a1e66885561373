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
        cases: vec![],
        coverage_percent: None,
        findings: vec![],
        evidence: String::new(),
        exit_code: None,
        duration_ms: 0, shard: None, }
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

/// Tiny extraction of `"key":"value"`.
fn string(config: &str, key: &str) -> Option<String> {
    config
        .split(&format!("\"{key}\":"))
        .nth(1)
        .and_then(|r| r.split('"').nth(1))
        .map(String::from)
}

/// Tiny extraction of `"key":["a","b"]` (no quotes or commas inside the items).
fn list(config: &str, key: &str) -> Vec<String> {
    let Some(rest) = config.split(&format!("\"{key}\":")).nth(1) else {
        return vec![];
    };
    let Some(body) = rest.split('[').nth(1).and_then(|r| r.split(']').next()) else {
        return vec![];
    };
    body.split(',')
        .map(|s| s.trim().trim_matches('"').to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Mode `run`: prepares scratch (`copy`: [ws-relative, scratch-relative]; `symlink`:
/// [target, scratch-relative]), then runs `exe` `args` with `env` ("K=V")
/// and `stdout_file`; reports the program's output as evidence.
fn run_mode(req: &GateRequest) -> Result<GateReport, String> {
    let c = &req.config;
    let copy = list(c, "copy");
    if copy.len() == 2 {
        let bytes = std::fs::read(format!("{}/{}", req.mounts.workspace, copy[0])).map_err(|e| e.to_string())?;
        std::fs::write(format!("{}/{}", req.mounts.scratch, copy[1]), bytes).map_err(|e| e.to_string())?;
    }
    let link = list(c, "symlink");
    if link.len() == 2 {
        extern "C" {
            fn symlink(target: *const std::ffi::c_char, path: *const std::ffi::c_char) -> i32;
        }
        let t = std::ffi::CString::new(link[0].clone()).unwrap();
        let p = std::ffi::CString::new(format!("{}/{}", req.mounts.scratch, link[1])).unwrap();
        // SAFETY: wasi-libc's symlink(3) with two C strings.
        if unsafe { symlink(t.as_ptr(), p.as_ptr()) } != 0 {
            return Err(format!("symlink: {}", std::io::Error::last_os_error()));
        }
    }
    let env = list(c, "env")
        .into_iter()
        .filter_map(|kv| kv.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
        .collect();
    let out = planexec::plugin::exec::run(&planexec::plugin::exec::Command {
        // `exe`, not `program`: the host checks a `program` setting before the call.
        program: string(c, "exe").unwrap_or_else(|| "true".into()),
        args: list(c, "args"),
        env,
        cwd: string(c, "cwd"),
        timeout_ms: None,
        stdout_file: string(c, "stdout_file"),
    });
    match out {
        Ok(o) => {
            let mut r = report(
                if o.exit_code == Some(0) { Outcome::Passed } else { Outcome::Failed },
                format!("ran: exit {:?}", o.exit_code),
            );
            r.evidence = format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
            Ok(r)
        }
        Err(e) => Ok(report(Outcome::Failed, format!("exec refused: {e:?}"))),
    }
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
            // Says it ran shard 2 of 2, whatever it was asked.
            "claims-shard" => {
                let mut r = report(Outcome::Passed, "ran shard 2/2 (a claim)".into());
                r.shard = Some(planexec::plugin::types::ShardResult {
                    index: 2,
                    count: 2,
                    listed: 1,
                    list_digest: format!("sha256:{}", "0".repeat(64)),
                });
                Ok(r)
            }
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
            // Reads every file under `{ws}/<root>` it can and returns them (a spy).
            "read-tree" => {
                let root = string(&req.config, "root").unwrap_or_default();
                let mut text = String::new();
                let mut todo = vec![std::path::PathBuf::from(format!("{ws}/{root}"))];
                while let Some(d) = todo.pop() {
                    let Ok(rd) = std::fs::read_dir(&d) else { continue };
                    for e in rd.flatten() {
                        let p = e.path();
                        if p.is_dir() {
                            todo.push(p);
                        } else if let Ok(s) = std::fs::read_to_string(&p) {
                            text.push_str(&format!("{}: {s}\n", p.display()));
                        }
                    }
                }
                let mut r = report(Outcome::Passed, format!("read {} bytes", text.len()));
                r.evidence = text;
                Ok(r)
            }
            "run" => run_mode(&req),
            other => Err(format!("unknown mode `{other}`")),
        }
    }
}

export!(Hostile);
