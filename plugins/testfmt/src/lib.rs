//! Shared by the test gates (cargo-test, pytest, go-test, junit, mypy, black, coverage):
//! streaming parsers for JUnit XML, `go test -json` and libtest text, plus config and report helpers.

pub mod gen;
pub mod gotest;
pub mod jestjson;
pub mod jsshard;
pub mod junit;
pub mod libtest;
pub mod shard;

/// Test helpers for the gates' native unit tests.
pub mod testing {
    use planexec_pdk::{Command, ExecError, Host, Level, Output};
    use std::path::PathBuf;

    /// A host that writes `content` to `path` whenever a command runs (as a tool writing
    /// its report into scratch would), then answers like `inner`.
    pub struct WritesFile<H: Host> {
        pub inner: H,
        pub path: PathBuf,
        pub content: Vec<u8>,
    }

    impl<H: Host> Host for WritesFile<H> {
        fn exec(&self, cmd: &Command) -> Result<Output, ExecError> {
            std::fs::write(&self.path, &self.content)
                .map_err(|e| ExecError::Failed(e.to_string()))?;
            self.inner.exec(cmd)
        }
        fn log(&self, level: Level, message: &str) {
            self.inner.log(level, message)
        }
    }
}

use planexec_pdk::{
    report, Command, GateReport, Host, Mounts, Outcome, Output, TestCounts, TestFailure,
};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Failures kept in a report; beyond this only the counts grow.
pub const MAX_FAILURES: usize = 200;
/// Bytes of captured output kept per failure.
pub const MAX_OUTPUT: usize = 8 * 1024;
/// Bytes kept per failure message.
pub const MAX_MESSAGE: usize = 2 * 1024;

/// Appends `s` to `buf` while `buf` holds fewer than `max` bytes; marks a cut once.
pub fn push_capped(buf: &mut String, s: &str, max: usize) {
    if buf.len() >= max {
        return;
    }
    let room = max - buf.len();
    if s.len() <= room {
        buf.push_str(s);
    } else {
        let mut cut = room;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        buf.push_str(&s[..cut]);
        buf.push_str("\n… (truncated)");
    }
}

/// `s` cut to at most `max` bytes (on a char boundary).
pub fn capped(s: &str, max: usize) -> String {
    let mut out = String::new();
    push_capped(&mut out, s, max);
    out
}

/// A timeout in config: a number of seconds or a duration such as `"90s"`, `"10m"`, `"1h"`, `"500ms"`.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(untagged)]
pub enum Timeout {
    Seconds(u64),
    Text(String),
}

impl Timeout {
    pub fn millis(&self) -> Result<u64, String> {
        match self {
            Timeout::Seconds(s) => Ok(s * 1000),
            Timeout::Text(t) => {
                let t = t.trim();
                let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
                let (num, unit) = t.split_at(split);
                let n: u64 = num.parse().map_err(|_| {
                    format!("config: bad timeout {t:?} (use e.g. \"90s\", \"10m\")")
                })?;
                let mult = match unit.trim() {
                    "" | "s" => 1000,
                    "ms" => 1,
                    "m" => 60_000,
                    "h" => 3_600_000,
                    _ => {
                        return Err(format!(
                            "config: bad timeout unit in {t:?} (use ms, s, m or h)"
                        ))
                    }
                };
                Ok(n * mult)
            }
        }
    }
}

/// Converts an optional config timeout to milliseconds.
/// A project's own Node tool: the npm package it comes in, the script in it that
/// must exist, and the name a person knows it by.
pub struct NodeTool<'a> {
    pub package: &'a str,
    pub script: &'a str,
    pub name: &'a str,
}

/// The program and base arguments of a Node gate: the configured `command` as given,
/// else `default` when the project has the tool installed; `Ok(Err(report))` (errored,
/// saying to run `npm install`) when it does not.
pub fn node_command(
    mounts: &Mounts,
    cwd: Option<&str>,
    command: Option<&str>,
    default: &str,
    tool: NodeTool,
) -> Result<Result<(String, Vec<String>), GateReport>, String> {
    if command.is_none() {
        if let Some(r) = node_tool_missing(mounts, cwd, tool.package, tool.script, tool.name) {
            return Ok(Err(r));
        }
    }
    split_program(command.unwrap_or(default)).map(Ok)
}

/// An `errored` report when the project has no `node_modules/<package>/<script>`
/// (the Node gates run the project's own tools); None when it is installed.
pub fn node_tool_missing(
    mounts: &Mounts,
    cwd: Option<&str>,
    package: &str,
    script: &str,
    tool: &str,
) -> Option<GateReport> {
    let base = std::path::Path::new(&mounts.workspace).join(cwd.unwrap_or(""));
    if base
        .join("node_modules")
        .join(package)
        .join(script)
        .is_file()
    {
        return None;
    }
    Some(report(
        Outcome::Errored,
        format!(
            "{tool} is not installed in this project (no node_modules/{package}): run `npm install` (or `npm i -D -E {package}@VERSION`) first"
        ),
    ))
}

/// The paths a Python checker looks at: the configured ones, else `src` when the
/// project (or `cwd` in it) has one, else `.`.
pub fn default_paths(mounts: &Mounts, cwd: Option<&str>, configured: &[String]) -> Vec<String> {
    if !configured.is_empty() {
        return configured.to_vec();
    }
    let base = Path::new(&mounts.workspace).join(cwd.unwrap_or(""));
    vec![if base.join("src").is_dir() {
        "src"
    } else {
        "."
    }
    .to_string()]
}

pub fn timeout_ms(t: &Option<Timeout>) -> Result<Option<u64>, String> {
    t.as_ref().map(Timeout::millis).transpose()
}

/// Splits a configured command line (`"python3 -m pytest"`) into program and args.
pub fn split_program(line: &str) -> Result<(String, Vec<String>), String> {
    let mut parts = planexec_pdk::text::split_command(line);
    if parts.is_empty() {
        return Err("config: `command` is empty".into());
    }
    let p = parts.remove(0);
    Ok((p, parts))
}

/// Runs `cmd`; a host refusal or a missing program becomes an `errored` report.
pub fn run(host: &dyn Host, cmd: &Command) -> Result<Output, GateReport> {
    host.exec(cmd).map_err(|e| {
        let mut r = report(
            Outcome::Errored,
            format!("could not run `{}`: {e}", cmd.program),
        );
        r.evidence = shown(cmd);
        r
    })
}

/// The command as a person would type it.
pub fn shown(cmd: &Command) -> String {
    let mut s = cmd.program.clone();
    for a in &cmd.args {
        s.push(' ');
        if a.contains(' ') {
            s.push_str(&format!("'{a}'"));
        } else {
            s.push_str(a);
        }
    }
    s
}

/// Fills exit code, duration and the output's tail into `r`.
pub fn finish(mut r: GateReport, out: &Output, tail_lines: usize) -> GateReport {
    r.exit_code = out.exit_code;
    r.duration_ms = out.duration_ms;
    if r.evidence.is_empty() {
        r.evidence = planexec_pdk::text::tail(&out.combined(), tail_lines);
    }
    r
}

/// How a tool ended, for summaries: `"exited 1"`, or `"was killed (timeout or signal)"` when
/// there is no exit code.
pub fn exit_text(code: Option<i32>) -> String {
    match code {
        Some(c) => format!("exited {c}"),
        None => "was killed (timeout or signal)".to_string(),
    }
}

/// An `errored` report when `python3 -m MODULE` could not start because the module is not
/// installed for the Python that ran (`No module named MODULE`); `None` otherwise.
pub fn python_module_missing(out: &Output, module: &str) -> Option<GateReport> {
    let all = out.combined();
    let missing = all.contains(&format!("No module named {module}"))
        || all.contains(&format!("No module named '{module}'"));
    if out.exit_code == Some(0) || !missing {
        return None;
    }
    Some(report(
        Outcome::Errored,
        format!(
            "{module} is not installed for this Python (No module named {module}): install it in the project's environment (`python3 -m pip install {module}`, or in .venv)"
        ),
    ))
}

/// `"3 passed, 1 failed, 2 skipped, 0 errored"`.
pub fn counts_text(t: &TestCounts) -> String {
    format!(
        "{} passed, {} failed, {} skipped, {} errored",
        t.passed, t.failed, t.skipped, t.errored
    )
}

/// Failures kept up to [`MAX_FAILURES`], counting the ones dropped.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Failures {
    pub list: Vec<TestFailure>,
    pub dropped: usize,
}

impl Failures {
    pub fn push(&mut self, f: TestFailure) {
        if self.list.len() < MAX_FAILURES {
            self.list.push(f);
        } else {
            self.dropped += 1;
        }
    }
}

/// Test cases listed per gate, at most this many (the host refuses over 10,000).
pub const MAX_CASES: usize = 5_000;

/// Every test case a tool reported, kept up to [`MAX_CASES`], counting the ones dropped.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Cases {
    pub list: Vec<planexec_pdk::TestCase>,
    pub dropped: usize,
}

impl Cases {
    pub fn push(&mut self, c: planexec_pdk::TestCase) {
        if self.list.len() < MAX_CASES {
            self.list.push(c);
        } else {
            self.dropped += 1;
        }
    }
}

/// Resolves a configured report path to the guest path: `{scratch}/x` under the scratch
/// mount, `{workspace}/x` or a relative `x` under the workspace mount (joined to `cwd`).
pub fn guest_path(mounts: &Mounts, cwd: Option<&str>, p: &str) -> PathBuf {
    if let Some(rest) = p.strip_prefix("{scratch}") {
        return Path::new(&mounts.scratch).join(rest.trim_start_matches('/'));
    }
    if let Some(rest) = p.strip_prefix("{workspace}") {
        return Path::new(&mounts.workspace).join(rest.trim_start_matches('/'));
    }
    let base = match cwd {
        Some(c) => Path::new(&mounts.workspace).join(c),
        None => PathBuf::from(&mounts.workspace),
    };
    base.join(p)
}

/// Joins a workspace-relative `cwd` and a path a tool printed relative to it.
pub fn ws_rel(cwd: Option<&str>, p: &str) -> String {
    let p = p.strip_prefix("./").unwrap_or(p);
    match cwd {
        Some(c) if !c.is_empty() && c != "." && !p.starts_with('/') => {
            format!("{}/{}", c.trim_end_matches('/'), p)
        }
        _ => p.to_string(),
    }
}

/// Makes an absolute host path that a tool printed workspace-relative: the longest
/// trailing part of it that exists under the workspace mount. `None` when nothing matches.
pub fn relativize_host_path(workspace_mount: &str, host_path: &str) -> Option<String> {
    if !host_path.starts_with('/') {
        return Some(host_path.to_string());
    }
    let parts: Vec<&str> = host_path.split('/').filter(|s| !s.is_empty()).collect();
    for start in 0..parts.len() {
        let rel = parts[start..].join("/");
        if Path::new(workspace_mount).join(&rel).exists() {
            return Some(rel);
        }
    }
    None
}

/// Finds `path:line` at the start of `line` (`tests/test_x.py:12: AssertionError`,
/// `src/lib.rs:19:9`). Returns the path and line number.
pub fn path_line_prefix(line: &str) -> Option<(&str, u32)> {
    let line = line.trim_start();
    let colon = line.find(':')?;
    let path = &line[..colon];
    if path.is_empty() || path.contains(char::is_whitespace) || !path.contains('.') {
        return None;
    }
    let rest = &line[colon + 1..];
    let digits = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    if digits == 0 {
        return None;
    }
    let n = rest[..digits].parse().ok()?;
    Some((path, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts() {
        assert_eq!(Timeout::Text("10m".into()).millis(), Ok(600_000));
        assert_eq!(Timeout::Text("90s".into()).millis(), Ok(90_000));
        assert_eq!(Timeout::Text("250ms".into()).millis(), Ok(250));
        assert_eq!(Timeout::Seconds(3).millis(), Ok(3000));
        assert!(Timeout::Text("3 days".into()).millis().is_err());
    }

    #[test]
    fn caps_and_paths() {
        let mut s = String::new();
        push_capped(&mut s, "héllo", 2);
        assert!(s.starts_with('h') && s.contains("truncated"));
        assert_eq!(
            path_line_prefix("tests/test_x.py:12: AssertionError"),
            Some(("tests/test_x.py", 12))
        );
        assert_eq!(
            path_line_prefix("src/lib.rs:19:9"),
            Some(("src/lib.rs", 19))
        );
        assert_eq!(path_line_prefix("E   assert 1: 2"), None);
        assert_eq!(ws_rel(Some("app"), "./x.py"), "app/x.py");
        let m = Mounts::default();
        assert_eq!(
            guest_path(&m, None, "{scratch}/j.xml"),
            PathBuf::from("/scratch/j.xml")
        );
        assert_eq!(
            guest_path(&m, Some("sub"), "out/j.xml"),
            PathBuf::from("/workspace/sub/out/j.xml")
        );
    }
}
