//! The `agent` implementer: runs an agent CLI with a prompt built from the task and the last feedback.
//!
//! Config: `command` (required), an argv list such as `["claude", "-p", "{prompt}"]`
//! or one line split on whitespace and quotes (never a shell). In each argument
//! `{prompt}` becomes the prompt text, `{prompt_file}` becomes `{scratch}/prompt.md`
//! (written by this plugin; the host turns `{scratch}` into a real path), `{task_id}`
//! the task id and `{plan}` the plan path. With neither `{prompt}` nor
//! `{prompt_file}`, the prompt is appended as the last argument.
//! Optional: `timeout_ms`, `tail_lines` (default 40), `env`, `cwd`, `instructions`
//! (extra text added to every prompt). Done on exit 0, Failed otherwise with the
//! tail of the agent's output.

use planexec_pdk::text::{split_command, tail};
use planexec_pdk::{
    Command as Cmd, Finding, Host, ImplementReport, ImplementRequest, ImplementStatus, Implementer,
    Level, Severity,
};
use std::collections::BTreeMap;
use std::fmt::Write as _;

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum CommandLine {
    Argv(Vec<String>),
    Line(String),
}

#[derive(serde::Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Config {
    command: Option<CommandLine>,
    timeout_ms: Option<u64>,
    tail_lines: Option<usize>,
    env: BTreeMap<String, String>,
    cwd: Option<String>,
    instructions: Option<String>,
}

/// Where the prompt file lives, as the host will see it in arguments.
pub const PROMPT_FILE_ARG: &str = "{scratch}/prompt.md";

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::Important => "important",
        Severity::Minor => "minor",
        Severity::Info => "info",
    }
}

fn finding_line(f: &Finding) -> String {
    let mut s = format!("[{}]", severity(f.severity));
    if !f.rule.is_empty() {
        let _ = write!(s, " {}", f.rule);
    }
    if let Some(p) = &f.path {
        let _ = write!(s, " {p}");
        if let Some(l) = f.line {
            let _ = write!(s, ":{l}");
        }
    }
    let _ = write!(s, ": {}", f.message.trim());
    s
}

fn section(out: &mut String, title: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n## {title}\n");
    for i in items {
        let _ = writeln!(out, "- {}", i.trim());
    }
}

/// The prompt: the task as the plan states it, the rules of the run, and the
/// last cycle's findings and rejection text.
pub fn build_prompt(req: &ImplementRequest, extra: Option<&str>) -> String {
    let t = &req.task;
    let mut p = String::new();
    let _ = writeln!(p, "# Task {}: {}\n", t.id, t.title.trim());
    let _ = writeln!(
        p,
        "You are implementing exactly one task of the implementation plan `{}`, in the \
         repository in the current directory. Follow the task as written; change nothing \
         outside its scope; do not commit, stash or reset (planexec commits each task after \
         its gates and reviews pass).",
        req.plan_path
    );
    if req.cycle > 1 {
        let _ = writeln!(
            p,
            "\nThis is rework cycle {}: the previous attempt was rejected. Fix what the feedback \
             below says; keep the parts that were fine.",
            req.cycle
        );
    }
    if !t.summary.trim().is_empty() {
        let _ = writeln!(p, "\n## Summary\n\n{}", t.summary.trim());
    }
    if !t.body.trim().is_empty() {
        let _ = writeln!(p, "\n## Details\n\n{}", t.body.trim());
    }
    section(&mut p, "Steps", &t.steps);
    section(&mut p, "Files to change", &t.files);
    section(&mut p, "Acceptance criteria", &t.acceptance);
    section(
        &mut p,
        "Acceptance commands (must pass)",
        &t.acceptance_commands,
    );
    section(&mut p, "Out of scope (do not touch)", &t.out_of_scope);
    if !req.feedback.is_empty() || !req.feedback_text.trim().is_empty() {
        let _ = writeln!(p, "\n## Feedback from the previous attempt\n");
        for f in &req.feedback {
            let _ = writeln!(p, "- {}", finding_line(f));
        }
        if !req.feedback_text.trim().is_empty() {
            if !req.feedback.is_empty() {
                p.push('\n');
            }
            let _ = writeln!(p, "{}", req.feedback_text.trim());
        }
    }
    if let Some(x) = extra.filter(|x| !x.trim().is_empty()) {
        let _ = writeln!(p, "\n## Instructions\n\n{}", x.trim());
    }
    p
}

pub struct AgentImplementer;

impl Implementer for AgentImplementer {
    fn implement(req: ImplementRequest, host: &dyn Host) -> Result<ImplementReport, String> {
        let cfg: Config = planexec_pdk::config(&req.config)?;
        let argv = match &cfg.command {
            Some(CommandLine::Argv(v)) => v.clone(),
            Some(CommandLine::Line(l)) => split_command(l),
            None => Vec::new(),
        };
        if argv.is_empty() || argv[0].trim().is_empty() {
            return Err(
                "config: no agent `command`; set e.g. command = [\"claude\", \"-p\", \"{prompt}\"] \
                 in planexec.toml"
                    .into(),
            );
        }
        let prompt = build_prompt(&req, cfg.instructions.as_deref());
        let uses_file = argv.iter().any(|a| a.contains("{prompt_file}"));
        let uses_text = argv.iter().any(|a| a.contains("{prompt}"));
        let scratch_file = format!("{}/prompt.md", req.mounts.scratch.trim_end_matches('/'));
        if let Err(e) = std::fs::write(&scratch_file, &prompt) {
            if uses_file {
                return Err(format!("could not write the prompt to {scratch_file}: {e}"));
            }
            host.log(Level::Warn, &format!("could not write {scratch_file}: {e}"));
        }
        let subst = |a: &str| {
            a.replace("{prompt_file}", PROMPT_FILE_ARG)
                .replace("{task_id}", &req.task.id)
                .replace("{plan}", &req.plan_path)
                .replace("{prompt}", &prompt)
        };
        let program = subst(&argv[0]);
        let mut args: Vec<String> = argv[1..].iter().map(|a| subst(a)).collect();
        if !uses_file && !uses_text {
            args.push(prompt.clone());
        }
        let mut cmd = Cmd::new(program.clone()).args(args);
        cmd.env = cfg
            .env
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        cmd.cwd = cfg.cwd.clone();
        cmd.timeout_ms = cfg.timeout_ms;
        host.log(
            Level::Info,
            &format!("{}: running {program} (cycle {})", req.task.id, req.cycle),
        );
        let out = host.exec(&cmd).map_err(|e| {
            format!(
                "{}: could not run `{program}` ({e}); grant it to the agent implementer",
                req.task.id
            )
        })?;
        let lines = cfg.tail_lines.unwrap_or(40);
        let evidence = tail(&out.combined(), lines);
        let (status, summary) = if out.timed_out {
            (
                ImplementStatus::Failed,
                format!("`{program}` timed out after {} ms", out.duration_ms),
            )
        } else {
            match out.exit_code {
                Some(0) => (ImplementStatus::Done, format!("`{program}` exited 0")),
                Some(c) => (ImplementStatus::Failed, format!("`{program}` exited {c}")),
                None => (
                    ImplementStatus::Failed,
                    format!("`{program}` was killed by a signal"),
                ),
            }
        };
        Ok(ImplementReport {
            status,
            summary: format!("{}: {summary}", req.task.id),
            evidence,
        })
    }
}

planexec_pdk::implementer_component!(AgentImplementer);

#[cfg(test)]
mod tests {
    use super::*;
    use planexec_pdk::testing::FakeHost;
    use planexec_pdk::{Mounts, Output, Task};
    use serde_json::json;

    struct Scratch(std::path::PathBuf);
    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    fn scratch(tag: &str) -> Scratch {
        let d = std::env::temp_dir().join(format!("planexec-agent-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Scratch(d)
    }

    fn req(s: &Scratch, cycle: u32, config: serde_json::Value) -> ImplementRequest {
        ImplementRequest {
            config,
            mounts: Mounts {
                workspace: "/workspace".into(),
                scratch: s.0.display().to_string(),
            },
            task: Task {
                id: "T003".into(),
                title: "Add CLI flag".into(),
                summary: "Add --verbose.".into(),
                body: "Print each step.".into(),
                acceptance: vec!["--verbose prints steps".into()],
                acceptance_commands: vec!["pytest -k verbose".into()],
                files: vec!["src/cli.py".into()],
                out_of_scope: vec!["logging config".into()],
                steps: vec!["add the flag".into()],
                ..Default::default()
            },
            cycle,
            feedback: vec![],
            feedback_text: String::new(),
            plan_path: "memory-bank/plan/p.md".into(),
            plan_dir: "memory-bank/plan".into(),
        }
    }

    #[test]
    fn prompt_holds_the_task_and_feedback() {
        let s = scratch("prompt");
        let mut r = req(&s, 2, json!({}));
        r.feedback = vec![Finding {
            severity: Severity::Critical,
            rule: "code-review/scope".into(),
            message: "changed logging config".into(),
            path: Some("src/log.py".into()),
            line: Some(3),
            column: None,
        }];
        r.feedback_text = "Revert src/log.py.".into();
        let p = build_prompt(&r, Some("Use type hints."));
        for want in [
            "# Task T003: Add CLI flag",
            "memory-bank/plan/p.md",
            "rework cycle 2",
            "## Summary\n\nAdd --verbose.",
            "## Details\n\nPrint each step.",
            "## Steps\n\n- add the flag",
            "## Files to change\n\n- src/cli.py",
            "## Acceptance criteria\n\n- --verbose prints steps",
            "- pytest -k verbose",
            "## Out of scope (do not touch)\n\n- logging config",
            "- [critical] code-review/scope src/log.py:3: changed logging config",
            "Revert src/log.py.",
            "Use type hints.",
        ] {
            assert!(p.contains(want), "missing {want:?} in\n{p}");
        }
        let first = build_prompt(&req(&s, 1, json!({})), None);
        assert!(!first.contains("Feedback") && !first.contains("rework"));
    }

    #[test]
    fn runs_the_command_with_the_prompt_and_is_done_on_zero() {
        let s = scratch("run");
        let host = FakeHost::new().on("claude", 0, "all done\n");
        let r = AgentImplementer::implement(
            req(
                &s,
                1,
                json!({"command": ["claude", "-p", "{prompt}"], "env": {"A": "1"}}),
            ),
            &host,
        )
        .unwrap();
        assert_eq!(r.status, ImplementStatus::Done);
        assert_eq!(r.evidence, "all done");
        let calls = host.calls.borrow();
        assert_eq!(calls[0].program, "claude");
        assert_eq!(calls[0].args[0], "-p");
        assert!(calls[0].args[1].starts_with("# Task T003: Add CLI flag"));
        assert_eq!(calls[0].args.len(), 2);
        assert_eq!(calls[0].env, [("A".to_string(), "1".to_string())]);
        let written = std::fs::read_to_string(s.0.join("prompt.md")).unwrap();
        assert_eq!(written, calls[0].args[1]);
    }

    #[test]
    fn prompt_file_and_command_line_forms() {
        let s = scratch("file");
        let host = FakeHost::new().on("aider", 0, "");
        AgentImplementer::implement(
            req(
                &s,
                1,
                json!({"command": "aider --yes --message-file {prompt_file}"}),
            ),
            &host,
        )
        .unwrap();
        assert_eq!(
            host.calls.borrow()[0].args,
            ["--yes", "--message-file", "{scratch}/prompt.md"]
        );
        assert!(s.0.join("prompt.md").exists());
        // No placeholder: the prompt goes last.
        let host = FakeHost::new().on("codex", 0, "");
        AgentImplementer::implement(req(&s, 1, json!({"command": ["codex", "exec"]})), &host)
            .unwrap();
        let calls = host.calls.borrow();
        assert_eq!(calls[0].args.len(), 2);
        assert!(calls[0].args[1].contains("# Task T003"));
    }

    #[test]
    fn failure_reports_the_tail_of_the_output() {
        let s = scratch("fail");
        let out = Output {
            exit_code: Some(2),
            stdout: (1..=60)
                .map(|i| format!("line {i}\n"))
                .collect::<String>()
                .into_bytes(),
            stderr: b"rate limited\n".to_vec(),
            ..Default::default()
        };
        let host = FakeHost::new().on_output("claude", out);
        let r = AgentImplementer::implement(
            req(
                &s,
                1,
                json!({"command": ["claude", "-p", "{prompt}"], "tail_lines": 5}),
            ),
            &host,
        )
        .unwrap();
        assert_eq!(r.status, ImplementStatus::Failed);
        assert!(r.summary.contains("exited 2"), "{}", r.summary);
        assert_eq!(
            r.evidence,
            "line 57\nline 58\nline 59\nline 60\nrate limited"
        );
        let host = FakeHost::new().on_output(
            "claude",
            Output {
                timed_out: true,
                duration_ms: 5,
                ..Default::default()
            },
        );
        let r =
            AgentImplementer::implement(req(&s, 1, json!({"command": ["claude"]})), &host).unwrap();
        assert_eq!(r.status, ImplementStatus::Failed);
        assert!(r.summary.contains("timed out"));
    }

    #[test]
    fn config_errors() {
        let s = scratch("cfg");
        let host = FakeHost::new();
        let err = AgentImplementer::implement(req(&s, 1, json!({})), &host).unwrap_err();
        assert!(err.contains("no agent `command`"), "{err}");
        assert!(AgentImplementer::implement(
            req(&s, 1, json!({"command": ["x"], "bogus": 1})),
            &host
        )
        .is_err());
        let err = AgentImplementer::implement(req(&s, 1, json!({"command": ["nope"]})), &host)
            .unwrap_err();
        assert!(err.contains("grant it"), "{err}");
    }
}
