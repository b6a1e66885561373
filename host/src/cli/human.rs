//! Human-readable renderings of reports for the terminal.

use planexec_record::{GateRun, Outcome};
use std::fmt::Write;

pub fn outcome_word(o: Outcome) -> &'static str {
    match o {
        Outcome::Passed => "PASSED",
        Outcome::Failed => "FAILED",
        Outcome::Errored => "ERRORED",
        Outcome::Skipped => "SKIPPED",
    }
}

/// A gate's result: headline, counts, failures, findings, and evidence when it did not pass.
pub fn gate_run(run: &GateRun) -> String {
    let r = &run.report;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} {} ({}): {}",
        outcome_word(r.outcome),
        run.name,
        run.plugin,
        r.summary
    );
    if let Some(t) = r.tests {
        let _ = writeln!(
            s,
            "  tests: {} passed, {} failed, {} skipped, {} errored",
            t.passed, t.failed, t.skipped, t.errored
        );
    }
    if let Some(c) = r.coverage_percent {
        let _ = writeln!(s, "  coverage: {c:.1}%");
    }
    for f in &r.failures {
        let loc = match (&f.path, f.line) {
            (Some(p), Some(l)) => format!(" ({p}:{l})"),
            (Some(p), None) => format!(" ({p})"),
            _ => String::new(),
        };
        let _ = writeln!(
            s,
            "  FAIL {}{}: {}",
            f.name,
            loc,
            f.message.lines().next().unwrap_or("")
        );
        if let Some(cmd) = planexec_record::rerun::command(&run.plugin, &f.name) {
            let _ = writeln!(s, "    rerun: {cmd}");
        }
        for line in f.output.lines().take(20) {
            let _ = writeln!(s, "    | {line}");
        }
    }
    for f in &r.findings {
        let loc = match (&f.path, f.line) {
            (Some(p), Some(l)) => format!("{p}:{l}: "),
            (Some(p), None) => format!("{p}: "),
            _ => String::new(),
        };
        let _ = writeln!(s, "  {loc}{:?} [{}] {}", f.severity, f.rule, f.message).map(|_| ());
    }
    if r.outcome != Outcome::Passed && !r.evidence.trim().is_empty() {
        let _ = writeln!(s, "  output (tail):");
        for line in r.evidence.lines() {
            let _ = writeln!(s, "    | {line}");
        }
    }
    let _ = writeln!(s, "  took {} ms", r.duration_ms);
    s
}
