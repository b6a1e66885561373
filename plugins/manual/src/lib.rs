//! The `manual` implementer: stops the run and shows a person the task to implement.
//!
//! First call: returns `Waiting` with a summary that prints the task (id,
//! title, acceptance criteria and commands, files, out of scope) and the last
//! cycle's feedback, and tells the person to make the changes and run
//! `planexec run PLAN --resume`. On resume the engine calls it again for the
//! same cycle with config `resumed = true` (the person has acted): it returns
//! `Done` and the engine gates and reviews the work tree.
//! Config (all optional): `resumed` (set by the engine), `instructions` (extra text shown).

use planexec_pdk::{
    Finding, Host, ImplementReport, ImplementRequest, ImplementStatus, Implementer, Severity,
};
use std::fmt::Write as _;

#[derive(serde::Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Config {
    resumed: bool,
    instructions: Option<String>,
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::Important => "important",
        Severity::Minor => "minor",
        Severity::Info => "info",
    }
}

fn finding_line(f: &Finding) -> String {
    let mut s = format!("[{}] ", severity(f.severity));
    if !f.rule.is_empty() {
        let _ = write!(s, "{}: ", f.rule);
    }
    s.push_str(f.message.trim());
    if let Some(p) = &f.path {
        let _ = write!(s, " ({p}");
        if let Some(l) = f.line {
            let _ = write!(s, ":{l}");
        }
        s.push(')');
    }
    s
}

fn list(out: &mut String, title: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{title}:");
    for i in items {
        let _ = writeln!(out, "  - {}", i.trim());
    }
}

/// The text a person reads: the task and what to fix from the last cycle.
pub fn instructions(req: &ImplementRequest, extra: Option<&str>) -> String {
    let t = &req.task;
    let mut out = String::new();
    let _ = write!(out, "{}: {}", t.id, t.title.trim());
    if req.cycle > 1 {
        let _ = write!(out, " (rework, cycle {})", req.cycle);
    }
    out.push('\n');
    if !t.summary.trim().is_empty() {
        let _ = writeln!(out, "{}", t.summary.trim());
    }
    list(&mut out, "Acceptance criteria", &t.acceptance);
    list(
        &mut out,
        "Acceptance commands (must pass)",
        &t.acceptance_commands,
    );
    list(&mut out, "Files", &t.files);
    list(&mut out, "Out of scope (do not change)", &t.out_of_scope);
    if !req.feedback.is_empty() || !req.feedback_text.trim().is_empty() {
        let _ = writeln!(out, "\nFeedback from the last cycle:");
        // The findings once; the text form only when there are no findings.
        for f in &req.feedback {
            let text = finding_line(f);
            let mut lines = text.lines();
            let _ = writeln!(out, "  - {}", lines.next().unwrap_or(""));
            for l in lines {
                let _ = writeln!(out, "      {}", l.trim_end());
            }
        }
        if req.feedback.is_empty() {
            for l in req.feedback_text.trim().lines() {
                let _ = writeln!(out, "  {l}");
            }
        }
    }
    if let Some(x) = extra.filter(|x| !x.trim().is_empty()) {
        let _ = writeln!(out, "\n{}", x.trim());
    }
    let _ = write!(
        out,
        "\nMake these changes in the work tree (do not commit: planexec commits each task), then run:\n  planexec run {} --resume",
        req.plan_path
    );
    out
}

pub struct ManualImplementer;

impl Implementer for ManualImplementer {
    fn implement(req: ImplementRequest, _host: &dyn Host) -> Result<ImplementReport, String> {
        let cfg: Config = planexec_pdk::config(&req.config)?;
        if cfg.resumed {
            return Ok(ImplementReport::new(
                ImplementStatus::Done,
                format!(
                    "{}: resumed; the changes in the work tree go to the gates and reviews",
                    req.task.id
                ),
                String::new(),
            ));
        }
        Ok(ImplementReport::new(
            ImplementStatus::Waiting,
            instructions(&req, cfg.instructions.as_deref()),
            req.task.body.clone(),
        ))
    }
}

planexec_pdk::implementer_component!(ManualImplementer);

#[cfg(test)]
mod tests {
    use super::*;
    use planexec_pdk::testing::FakeHost;
    use planexec_pdk::{Mounts, Task};
    use serde_json::json;

    fn req(cycle: u32, config: serde_json::Value) -> ImplementRequest {
        ImplementRequest {
            config,
            mounts: Mounts::default(),
            task: Task {
                id: "T002".into(),
                title: "Parse dates".into(),
                summary: "Accept ISO dates.".into(),
                body: "Long body".into(),
                acceptance: vec!["`parse('2024-01-01')` works".into()],
                acceptance_commands: vec!["pytest tests/test_dates.py".into()],
                files: vec!["src/dates.py".into()],
                out_of_scope: vec!["time zones".into()],
                ..Default::default()
            },
            cycle,
            feedback: vec![],
            feedback_text: String::new(),
            plan_path: "memory-bank/plan/p.md".into(),
            plan_dir: "memory-bank/plan".into(),
            constraints: vec![],
            tolerances: vec![],
        }
    }

    #[test]
    fn waits_and_prints_the_task() {
        let host = FakeHost::new();
        let r = ManualImplementer::implement(req(1, json!({})), &host).unwrap();
        assert_eq!(r.status, ImplementStatus::Waiting);
        let s = &r.summary;
        for want in [
            "T002: Parse dates\n",
            "Accept ISO dates.",
            "Acceptance criteria:\n  - `parse('2024-01-01')` works",
            "pytest tests/test_dates.py",
            "Files:\n  - src/dates.py",
            "time zones",
            "planexec run memory-bank/plan/p.md --resume",
        ] {
            assert!(s.contains(want), "missing {want:?} in\n{s}");
        }
        assert!(!s.contains("Feedback"));
        assert_eq!(r.evidence, "Long body");
        assert!(host.calls.borrow().is_empty(), "manual runs nothing");
    }

    #[test]
    fn shows_last_cycles_feedback() {
        let mut rq = req(
            2,
            json!({"instructions": "Ask Ana before touching the schema."}),
        );
        rq.feedback = vec![Finding {
            severity: Severity::Important,
            rule: "pytest/failure".into(),
            message: "test_leap_year failed".into(),
            path: Some("tests/test_dates.py".into()),
            line: Some(12),
            column: None,
            end_line: None,
            end_column: None,
        }];
        // The engine sends the same findings as text too: shown once, not twice.
        rq.feedback_text =
            "- [pytest/failure] test_leap_year failed (tests/test_dates.py:12)".into();
        let r = ManualImplementer::implement(rq.clone(), &FakeHost::new()).unwrap();
        assert!(r.summary.contains("(rework, cycle 2)"));
        assert!(r.summary.contains(
            "  - [important] pytest/failure: test_leap_year failed (tests/test_dates.py:12)"
        ));
        assert_eq!(
            r.summary.matches("test_leap_year failed").count(),
            1,
            "{}",
            r.summary
        );
        assert!(r.summary.contains("Ask Ana"));
        // Without findings the text is what is shown.
        rq.feedback.clear();
        rq.feedback_text = "Leap years are wrong.".into();
        let r = ManualImplementer::implement(rq, &FakeHost::new()).unwrap();
        assert!(r.summary.contains("Leap years are wrong."));
    }

    #[test]
    fn resumed_means_done() {
        let r = ManualImplementer::implement(req(1, json!({"resumed": true})), &FakeHost::new())
            .unwrap();
        assert_eq!(r.status, ImplementStatus::Done);
        assert!(
            ManualImplementer::implement(req(1, json!({"resume": true})), &FakeHost::new())
                .is_err()
        );
    }
}
