//! The `command` gate: runs one granted program and passes on exit 0.
//!
//! Config: `{"program": "make", "args": ["test"]}` or `{"command": "make test"}`
//! (split on whitespace and quotes, never a shell); `timeout_ms`, `tail_lines`, `cwd`.
//! pytest run by it (`pytest ...`, `python3 -m pytest ...`) gets `-p no:cacheprovider`.

mod named;

use planexec_pdk::text::{split_command, tail};
use planexec_pdk::{Command as Cmd, Gate, GateReport, GateRequest, Host, Outcome};

#[derive(serde::Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Config {
    program: Option<String>,
    args: Vec<String>,
    command: Option<String>,
    timeout_ms: Option<u64>,
    tail_lines: Option<usize>,
    cwd: Option<String>,
}

/// `args` with `-p no:cacheprovider` right after pytest's own words when `program` runs
/// pytest: the workspace is read-only, and pytest would warn on every run that it cannot
/// write `.pytest_cache`, burying the failure in the rework feedback.
fn without_pytest_cache(program: &str, mut args: Vec<String>) -> Vec<String> {
    let base = program.rsplit('/').next().unwrap_or(program);
    let at = if matches!(base, "pytest" | "py.test") {
        0
    } else if base.starts_with("python")
        && args.len() >= 2
        && args[0] == "-m"
        && args[1] == "pytest"
    {
        2
    } else {
        return args;
    };
    if args
        .iter()
        .any(|a| a.contains("cacheprovider") || a.contains("cache_dir"))
    {
        return args;
    }
    args.splice(at..at, ["-p".to_string(), "no:cacheprovider".to_string()]);
    args
}

pub struct CommandGate;

impl Gate for CommandGate {
    fn check(req: GateRequest, host: &dyn Host) -> Result<GateReport, String> {
        let cfg: Config = planexec_pdk::config(&req.config)?;
        let (program, args) = match (&cfg.program, &cfg.command) {
            (Some(p), None) => (p.clone(), cfg.args.clone()),
            (None, Some(line)) => {
                let mut parts = split_command(line);
                if parts.is_empty() {
                    return Err("config: `command` is empty".into());
                }
                let p = parts.remove(0);
                parts.extend(cfg.args.iter().cloned());
                (p, parts)
            }
            (Some(_), Some(_)) => {
                return Err(
                    "config: give either `program` (+ `args`) or `command`, not both".into(),
                )
            }
            (None, None) => {
                return Err(
                    "config: no `program` or `command` to run (set it in planexec.toml)".into(),
                )
            }
        };
        let run_args = without_pytest_cache(&program, args.clone());
        let mut cmd = Cmd::new(program.clone()).args(run_args);
        cmd.cwd = cfg.cwd.clone();
        cmd.timeout_ms = cfg.timeout_ms;
        let out = host.exec(&cmd).map_err(|e| e.to_string())?;
        let shown = if args.is_empty() {
            program.clone()
        } else {
            format!("{program} {}", args.join(" "))
        };
        let (outcome, summary) = if out.timed_out {
            (
                Outcome::Failed,
                format!("`{shown}` timed out after {} ms", out.duration_ms),
            )
        } else {
            match out.exit_code {
                Some(0) => (Outcome::Passed, format!("`{shown}` exited 0")),
                Some(c) => (Outcome::Failed, format!("`{shown}` exited {c}")),
                None => (Outcome::Failed, format!("`{shown}` was killed by a signal")),
            }
        };
        let missing = (!out.timed_out)
            .then(|| named::missing(&program, &args, out.exit_code, &out.combined()))
            .flatten();
        let mut r = match missing {
            Some(what) => missing_test(&shown, &what),
            None => planexec_pdk::report(outcome, summary),
        };
        r.evidence = tail(&out.combined(), cfg.tail_lines.unwrap_or(40));
        r.exit_code = out.exit_code;
        r.duration_ms = out.duration_ms;
        Ok(r)
    }
}

/// A command that names a test that is not there fails, whatever it exited.
fn missing_test(shown: &str, what: &str) -> GateReport {
    let message = format!(
        "`{shown}` ran no test: {what}; the acceptance names a test that does not exist (write it, or correct the name)"
    );
    let mut r = planexec_pdk::report(Outcome::Failed, message.clone());
    r.findings.push(planexec_pdk::Finding {
        severity: planexec_pdk::Severity::Important,
        rule: "acceptance/missing-test".into(),
        message,
        path: None,
        line: None,
        column: None,
        end_line: None,
        end_column: None,
    });
    r
}

planexec_pdk::gate_component!(CommandGate);

#[cfg(test)]
mod tests {
    use super::*;
    use planexec_pdk::testing::FakeHost;
    use serde_json::json;

    fn req(config: serde_json::Value) -> GateRequest {
        GateRequest {
            name: "command".into(),
            config,
            mounts: Default::default(),
            task: None,
            shard: None,
        }
    }

    #[test]
    fn pytest_runs_without_its_cache() {
        let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            without_pytest_cache("python3", v(&["-m", "pytest", "-q", "t.py"])),
            v(&["-m", "pytest", "-p", "no:cacheprovider", "-q", "t.py"])
        );
        assert_eq!(
            without_pytest_cache("/venv/bin/pytest", v(&["-q"])),
            v(&["-p", "no:cacheprovider", "-q"])
        );
        assert_eq!(without_pytest_cache("make", v(&["test"])), v(&["test"]));
        let own = v(&["-m", "pytest", "-o", "cache_dir=/tmp/c"]);
        assert_eq!(without_pytest_cache("python3", own.clone()), own);
    }

    #[test]
    fn passes_on_zero_and_fails_otherwise() {
        let host = FakeHost::new().on("make", 0, "ok\n");
        let r = CommandGate::check(req(json!({"command": "make test"})), &host).unwrap();
        assert_eq!(r.outcome, Outcome::Passed);
        assert_eq!(host.calls.borrow()[0].args, ["test"]);
        let host = FakeHost::new().on("make", 2, "boom\n");
        let r = CommandGate::check(req(json!({"program": "make"})), &host).unwrap();
        assert_eq!(r.outcome, Outcome::Failed);
        assert_eq!(r.exit_code, Some(2));
        assert_eq!(r.evidence, "boom");
    }

    #[test]
    fn missing_program_is_an_error() {
        assert!(CommandGate::check(req(json!({})), &FakeHost::new()).is_err());
        assert!(CommandGate::check(req(json!({"bogus": 1})), &FakeHost::new()).is_err());
    }
}
