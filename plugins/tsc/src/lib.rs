//! The `tsc` gate: runs the project's TypeScript compiler
//! (`node node_modules/typescript/bin/tsc --noEmit --pretty false -p PROJECT`) and reports one
//! finding per diagnostic: rule `tsc/TS2322`, file, line, column and the message with its
//! indented elaboration lines. Errors fail the gate; a diagnostic without a file (a bad
//! tsconfig, `TS5058`) makes it `errored`.

use planexec_pdk::{Command, Finding, Gate, GateReport, GateRequest, Host, Outcome, Severity};
use testfmt::Timeout;

const TSC: &str = "node node_modules/typescript/bin/tsc";

#[derive(serde::Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Config {
    /// The tsconfig (or its directory) for `-p` (default `"."`).
    project: Option<String>,
    /// Extra tsc flags (e.g. `["--strict"]`).
    args: Vec<String>,
    /// How to start tsc (default `node node_modules/typescript/bin/tsc`).
    command: Option<String>,
    timeout: Option<Timeout>,
    cwd: Option<String>,
    tail_lines: Option<usize>,
}

pub struct TscGate;

impl Gate for TscGate {
    fn check(req: GateRequest, host: &dyn Host) -> Result<GateReport, String> {
        let cfg: Config = planexec_pdk::config(&req.config)?;
        let tail = cfg.tail_lines.unwrap_or(40);
        let tool = testfmt::NodeTool {
            package: "typescript",
            script: "bin/tsc",
            name: "TypeScript",
        };
        let cwd = cfg.cwd.as_deref();
        let (program, base) =
            match testfmt::node_command(&req.mounts, cwd, cfg.command.as_deref(), TSC, tool)? {
                Ok(pb) => pb,
                Err(missing) => return Ok(missing),
            };
        let mut cmd = Command::new(program)
            .args(base)
            .args(["--noEmit", "--pretty", "false", "-p"])
            .arg(cfg.project.clone().unwrap_or_else(|| ".".into()))
            .args(cfg.args.iter().cloned());
        cmd.cwd = cfg.cwd.clone();
        cmd.timeout_ms = testfmt::timeout_ms(&cfg.timeout)?;
        let out = match testfmt::run(host, &cmd) {
            Ok(o) => o,
            Err(r) => return Ok(r),
        };
        let findings = parse(&out.stdout_str(), cfg.cwd.as_deref());
        let errors = findings
            .iter()
            .filter(|f| f.severity == Severity::Important)
            .count();
        let global = findings
            .iter()
            .find(|f| f.path.is_none())
            .map(|f| format!("{}: {}", f.rule, f.message));
        let mut r = match (out.exit_code, global) {
            (_, Some(g)) => planexec_pdk::report(
                Outcome::Errored,
                format!("tsc could not check the project: {g}"),
            ),
            (Some(0), None) => planexec_pdk::report(Outcome::Passed, "tsc: no errors"),
            (Some(1 | 2), None) if errors > 0 => planexec_pdk::report(
                Outcome::Failed,
                format!("tsc: {errors} error(s) ({})", code_counts(&findings)),
            ),
            (code, None) => planexec_pdk::report(
                Outcome::Errored,
                format!(
                    "tsc {} but printed no error the gate could parse (see the output)",
                    testfmt::exit_text(code)
                ),
            ),
        };
        r.findings = findings;
        Ok(testfmt::finish(r, &out, tail))
    }
}

/// `src/a.ts(3,14): error TS2322: message` lines, with the indented lines after them appended
/// to the message; `error TS5058: message` (no file) is a finding without a path.
pub fn parse(stdout: &str, cwd: Option<&str>) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    for l in stdout.lines() {
        if l.starts_with(' ') {
            if let Some(prev) = out.last_mut() {
                prev.message.push('\n');
                prev.message.push_str(l.trim());
            }
            continue;
        }
        if let Some(f) = diagnostic(l, cwd) {
            out.push(f);
        }
    }
    out
}

fn diagnostic(l: &str, cwd: Option<&str>) -> Option<Finding> {
    let (loc, rest) = match l.find("): ") {
        Some(i) if l[..i].contains('(') => (Some(&l[..i + 1]), &l[i + 3..]),
        _ => (None, l),
    };
    let (kind, rest) = rest.split_once(' ')?;
    if !matches!(kind, "error" | "warning" | "message") {
        return None;
    }
    let (code, message) = rest.split_once(": ")?;
    if !code.starts_with("TS") {
        return None;
    }
    let (path, line, column) = match loc {
        Some(loc) => {
            let (p, lc) = loc.rsplit_once('(')?;
            let (line, col) = lc.trim_end_matches(')').split_once(',')?;
            (
                Some(testfmt::ws_rel(cwd, p)),
                line.parse().ok(),
                col.parse().ok(),
            )
        }
        None => (None, None, None),
    };
    Some(Finding {
        severity: if kind == "error" {
            Severity::Important
        } else {
            Severity::Minor
        },
        rule: format!("tsc/{code}"),
        message: message.to_string(),
        path,
        line,
        column,
        end_line: None,
        end_column: None,
    })
}

/// `TS2322 ×2, TS2345 ×1`, most frequent first.
fn code_counts(fs: &[Finding]) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for f in fs {
        let code = f.rule.trim_start_matches("tsc/");
        match counts.iter_mut().find(|(c, _)| *c == code) {
            Some((_, n)) => *n += 1,
            None => counts.push((code, 1)),
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    counts
        .iter()
        .map(|(c, n)| format!("{c} ×{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

planexec_pdk::gate_component!(TscGate);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnostics_with_and_without_a_file() {
        let out = "src/bad.ts(3,14): error TS2322: Type 'string' is not assignable to type 'number'.\n\
                   src/bad.ts(4,38): error TS2345: Argument of type 'string' is not assignable.\n  Details here.\n\
                   error TS5058: The specified path does not exist: 'nope'.\n";
        let fs = parse(out, Some("web"));
        assert_eq!(fs.len(), 3);
        assert_eq!(
            (
                fs[0].rule.as_str(),
                fs[0].path.as_deref(),
                fs[0].line,
                fs[0].column
            ),
            ("tsc/TS2322", Some("web/src/bad.ts"), Some(3), Some(14))
        );
        assert_eq!(
            fs[1].message,
            "Argument of type 'string' is not assignable.\nDetails here."
        );
        assert_eq!(
            (fs[2].rule.as_str(), fs[2].path.as_deref()),
            ("tsc/TS5058", None)
        );
        assert_eq!(code_counts(&fs), "TS2322 ×1, TS2345 ×1, TS5058 ×1");
    }
}
