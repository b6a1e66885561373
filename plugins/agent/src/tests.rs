//! Native tests of the agent implementer: the prompt, the presets' command lines,
//! and the checks, run against real git repositories with a host that runs programs natively.

use super::*;
use planexec_pdk::testing::FakeHost;
use planexec_pdk::{Command, ExecError, Finding, Mounts, Output, Severity, Task};
use serde_json::json;
use std::path::{Path, PathBuf};

/// A temp dir holding `ws/` (a git repository) and `scratch/`, removed on drop.
struct Dirs(PathBuf);
impl Drop for Dirs {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
impl Dirs {
    fn ws(&self) -> PathBuf {
        self.0.join("ws")
    }
    fn scratch(&self) -> PathBuf {
        self.0.join("scratch")
    }
}

fn sh(dir: &Path, script: &str) -> String {
    let o = std::process::Command::new("sh")
        .args(["-c", script])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn dirs(tag: &str) -> Dirs {
    let d = std::env::temp_dir().join(format!("planexec-agent-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    let d = Dirs(d);
    std::fs::create_dir_all(d.ws().join("plan")).unwrap();
    std::fs::create_dir_all(d.scratch()).unwrap();
    std::fs::write(d.ws().join("a.py"), "x = 1\n").unwrap();
    std::fs::write(
        d.ws().join("plan/p.md"),
        "# Plan\n\n## Constraints\n\n- Python 3.9 only; no new dependencies.\n\n### Detail\nkeep APIs\n\n## Tolerances\n\n- at most 2 files\n\n## Tasks\n\nT001 ...\n",
    )
    .unwrap();
    sh(
        &d.ws(),
        "git init -q -b main && git config user.email t@t.invalid && git config user.name t \
         && git add . && git commit -q -m base",
    );
    d
}

/// Runs programs natively in the workspace, `{scratch}`/`{workspace}` replaced.
struct NativeHost<'a>(&'a Dirs);
impl Host for NativeHost<'_> {
    fn exec(&self, cmd: &Command) -> Result<Output, ExecError> {
        let s = |a: &str| {
            a.replace("{scratch}", self.0.scratch().to_str().unwrap())
                .replace("{workspace}", self.0.ws().to_str().unwrap())
        };
        let o = std::process::Command::new(&cmd.program)
            .args(cmd.args.iter().map(|a| s(a)))
            .envs(cmd.env.iter().cloned())
            .current_dir(self.0.ws())
            .output()
            .map_err(|e| ExecError::NotFound(e.to_string()))?;
        Ok(Output {
            exit_code: o.status.code(),
            stdout: o.stdout,
            stderr: o.stderr,
            ..Default::default()
        })
    }
    fn log(&self, _: Level, _: &str) {}
}

fn req(d: &Dirs, cycle: u32, config: serde_json::Value) -> ImplementRequest {
    ImplementRequest {
        config,
        mounts: Mounts {
            workspace: d.ws().display().to_string(),
            scratch: d.scratch().display().to_string(),
        },
        task: Task {
            id: "T001".into(),
            title: "Add flag".into(),
            summary: "Add --verbose.".into(),
            body: "Print each step.".into(),
            acceptance: vec!["--verbose prints steps".into()],
            acceptance_commands: vec!["python3 -m pytest -q tests/test_cli.py".into()],
            files: vec!["a.py".into()],
            out_of_scope: vec!["logging config".into()],
            steps: vec!["add the flag".into()],
            ..Default::default()
        },
        cycle,
        feedback: vec![],
        feedback_text: String::new(),
        plan_path: "plan/p.md".into(),
        plan_dir: "plan".into(),
        constraints: vec![],
        tolerances: vec![],
    }
}

const REPORT_A: &str = "| File | Action | Description |\n|---|---|---|\n| a.py | modified | x |\n";

fn agent_script(script: &str) -> serde_json::Value {
    json!({"program": "sh", "args": ["-c", script, "agent", "{prompt_file}"]})
}

#[test]
fn prompt_holds_task_plan_rules_report_and_every_finding() {
    let d = dirs("prompt");
    let mut r = req(&d, 2, json!({}));
    r.feedback = vec![
        Finding {
            severity: Severity::Important,
            rule: "gate/pytest/test".into(),
            message: "tests/test_cli.py::test_verbose: AssertionError: assert 'step' in ''".into(),
            path: Some("tests/test_cli.py".into()),
            line: Some(7),
            column: None,
            end_line: None,
            end_column: None,
        },
        Finding {
            severity: Severity::Critical,
            rule: "code-review/scope".into(),
            message: "changed logging config".into(),
            path: Some("src/log.py".into()),
            line: Some(3),
            column: None,
            end_line: None,
            end_column: None,
        },
    ];
    r.feedback_text =
        "- [code-review/scope] changed logging config (src/log.py:3)\nRevert src/log.py.".into();
    let plan = std::fs::read_to_string(d.ws().join("plan/p.md")).unwrap();
    let p = build_prompt(&r, Some(&plan), Some("Use type hints."));
    for want in [
        "# Task T001: Add flag",
        "plan `plan/p.md`",
        "exactly as specified: nothing more, nothing less",
        "Do not redesign",
        "Do not commit",
        "rework cycle 2",
        "## Summary\n\nAdd --verbose.",
        "## Details\n\nPrint each step.",
        "## Steps\n\n- add the flag",
        "## Files to change\n\n- a.py",
        "## Out of scope (do not touch)\n\n- logging config",
        "## Acceptance criteria\n\n- --verbose prints steps",
        "## Acceptance commands (must pass)\n\n- python3 -m pytest -q tests/test_cli.py",
        "## Constraints (from the plan)\n\n- Python 3.9 only; no new dependencies.\n\n### Detail\nkeep APIs",
        "## Tolerances (from the plan: a breach stops the task)\n\n- at most 2 files",
        "- [important] gate/pytest/test tests/test_cli.py:7: tests/test_cli.py::test_verbose: AssertionError: assert 'step' in ''",
        "- [critical] code-review/scope src/log.py:3: changed logging config",
        "Revert src/log.py.",
        "Use type hints.",
        "## Files changed\n\n| File | Action | Description |",
        "| # | Criterion | Status | Evidence |",
    ] {
        assert!(p.contains(want), "missing {want:?} in\n{p}");
    }
    assert_eq!(
        p.matches("changed logging config").count(),
        1,
        "the text repeats no finding:\n{p}"
    );
    // A multi-line message stays under its item, and the engine's repeat of it is left out.
    let mut r = req(&d, 2, json!({}));
    r.feedback = vec![Finding {
        severity: Severity::Important,
        rule: "gate/pytest/test".into(),
        message: "t.py::test_w: AssertionError: assert 'HI' == 'hi'\n  \n  - hi\n  + HI\n".into(),
        path: Some("t.py".into()),
        line: Some(5),
        column: None,
        end_line: None,
        end_column: None,
    }];
    r.feedback_text = "- [gate/pytest/test] t.py::test_w: AssertionError: assert 'HI' == 'hi'\n  - hi\n  + HI (t.py:5)\n- [review] also rename w\n".into();
    let p = build_prompt(&r, None, None);
    assert!(
        p.contains("- [important] gate/pytest/test t.py:5: t.py::test_w: AssertionError: assert 'HI' == 'hi'\n  - hi\n  + HI\n"),
        "{p}"
    );
    assert_eq!(p.matches("assert 'HI'").count(), 1, "{p}");
    assert!(p.contains("- [review] also rename w"), "{p}");
    assert!(
        !p.contains("## Tasks"),
        "the plan's sections end at the next heading"
    );
    let first = build_prompt(&req(&d, 1, json!({})), None, None);
    assert!(
        !first.contains("Findings") && !first.contains("rework") && !first.contains("Constraints")
    );
}

/// Issue 28: Gemini CLI reads its auth choice only from a settings file; the preset
/// writes it into the scratch folder and points GEMINI_CLI_HOME there.
#[test]
fn the_gemini_preset_writes_its_settings_where_its_home_points() {
    let d = dirs("gemini-home");
    let host = FakeHost::new().on("gemini", 0, "");
    let _ = AgentImplementer::implement(
        req(&d, 1, json!({"preset": "gemini", "check": false})),
        &host,
    );
    let settings = d.scratch().join("gemini-home/.gemini/settings.json");
    let text = std::fs::read_to_string(&settings).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["security"]["auth"]["selectedType"], "gemini-api-key");
    assert_eq!(v["privacy"]["usageStatisticsEnabled"], false);
    let calls = host.calls.borrow();
    assert!(calls[0]
        .env
        .contains(&("GEMINI_CLI_HOME".into(), "{scratch}/gemini-home".into())));
}

#[test]
fn presets_run_their_non_interactive_command_lines() {
    let d = dirs("presets");
    for (preset, program, want) in [
        (
            "claude",
            "claude",
            vec!["--output-format", "stream-json", "--verbose", "-p"],
        ),
        ("codex", "codex", vec!["exec", "--json"]),
        (
            "aider",
            "aider",
            vec![
                "--message-file",
                "{scratch}/prompt.md",
                "--no-auto-commits",
                "--",
                "a.py",
            ],
        ),
        ("gemini", "gemini", vec!["--output-format", "json", "-p"]),
        ("opencode", "opencode", vec!["run", "--format", "json"]),
        (
            "mini-swe-agent",
            "mini",
            vec![
                "-y",
                "--exit-immediately",
                "-o",
                "{scratch}/trajectory.json",
                "-t",
            ],
        ),
    ] {
        let host = FakeHost::new().on(program, 0, "");
        let _ = AgentImplementer::implement(
            req(&d, 1, json!({"preset": preset, "check": false})),
            &host,
        );
        let calls = host.calls.borrow();
        let c = calls
            .iter()
            .find(|c| c.program == program)
            .unwrap_or_else(|| panic!("{preset}: {calls:?}"));
        let mut at = 0;
        for w in &want {
            let i = c.args[at..]
                .iter()
                .position(|a| a == w)
                .unwrap_or_else(|| panic!("{preset}: no {w:?} after {at} in {:?}", c.args));
            at += i + 1;
        }
        let prompt = std::fs::read_to_string(d.scratch().join("prompt.md")).unwrap();
        assert!(
            c.args.iter().any(|a| a == &prompt)
                || c.args.iter().any(|a| a == "{scratch}/prompt.md"),
            "{preset} gets the prompt"
        );
    }
}

#[test]
fn a_preset_whose_output_reports_failure_fails_the_cycle_even_on_exit_zero() {
    let d = dirs("claude-error");
    let host = FakeHost::new().on(
        "claude",
        0,
        include_str!("../../../tests/fixtures/agents/outputs/claude-error.json"),
    );
    let r = AgentImplementer::implement(
        req(&d, 1, json!({"preset": "claude", "check": false})),
        &host,
    )
    .unwrap();
    assert_eq!(r.status, ImplementStatus::Failed);
    assert!(
        r.summary.contains("error_max_turns") && r.summary.contains("$0.9100"),
        "{}",
        r.summary
    );
    // mini-swe-agent exits 0 on LimitsExceeded: the trajectory decides.
    let traj = include_str!("../../../tests/fixtures/agents/outputs/mini-limits.traj.json");
    std::fs::write(d.scratch().join("trajectory.json"), traj).unwrap();
    let host = FakeHost::new().on("mini", 0, "");
    let r = AgentImplementer::implement(
        req(&d, 1, json!({"preset": "mini-swe-agent", "check": false})),
        &host,
    )
    .unwrap();
    assert_eq!(r.status, ImplementStatus::Failed);
    assert!(r.summary.contains("LimitsExceeded"), "{}", r.summary);
}

#[test]
fn an_honest_agent_is_done_and_its_usage_and_files_are_in_the_summary() {
    let d = dirs("honest");
    let script =
        format!("echo 'x = 2' > a.py && printf '%s' '{REPORT_A}' && grep -q 'Task T001' \"$1\"");
    let r =
        AgentImplementer::implement(req(&d, 1, agent_script(&script)), &NativeHost(&d)).unwrap();
    assert_eq!(r.status, ImplementStatus::Done, "{}", r.summary);
    assert!(r.summary.contains("changed a.py"), "{}", r.summary);
    assert!(!r.summary.contains("not reported"), "{}", r.summary);
    assert!(r.evidence.contains("| a.py | modified |"));
}

#[test]
fn a_claimed_file_that_did_not_change_fails_the_cycle() {
    let d = dirs("phantom");
    let report = format!("{REPORT_A}| b.py | created | y |\n");
    let script = format!("echo 'x = 2' > a.py && echo 'z' > c.py && printf '%s' '{report}'");
    let r =
        AgentImplementer::implement(req(&d, 1, agent_script(&script)), &NativeHost(&d)).unwrap();
    assert_eq!(r.status, ImplementStatus::Failed);
    assert!(
        r.summary
            .contains("reported changing b.py but the file did not change"),
        "{}",
        r.summary
    );
    assert!(
        r.summary.contains("changed but not reported: c.py"),
        "{}",
        r.summary
    );
}

#[test]
fn a_file_of_an_earlier_cycle_may_be_reported_again_in_rework() {
    // Issue 25: rework keeps cycle 1's a.py in the tree; reporting it again is true of the
    // task, not a phantom claim. A file in neither this cycle nor the tree still is.
    let d = dirs("rework");
    std::fs::write(d.ws().join("a.py"), "x = 2\n").unwrap(); // cycle 1's change, still in the tree
    let script =
        "echo 'y = 1' > b.py && printf '%s' '| b.py | created | y |\n| a.py | modified | x |\n'";
    let r = AgentImplementer::implement(req(&d, 2, agent_script(script)), &NativeHost(&d)).unwrap();
    assert_eq!(r.status, ImplementStatus::Done, "{}", r.summary);
    assert!(!r.summary.contains("did not change"), "{}", r.summary);
    let d = dirs("rework-phantom");
    std::fs::write(d.ws().join("a.py"), "x = 2\n").unwrap();
    let script =
        "echo 'y = 1' > b.py && printf '%s' '| b.py | created | y |\n| z.py | modified | x |\n'";
    let r = AgentImplementer::implement(req(&d, 2, agent_script(script)), &NativeHost(&d)).unwrap();
    assert_eq!(r.status, ImplementStatus::Failed, "{}", r.summary);
    assert!(
        r.summary.contains("reported changing z.py"),
        "{}",
        r.summary
    );
}

#[test]
fn a_commit_the_agent_made_is_undone_into_the_work_tree() {
    let d = dirs("commit");
    let base = sh(&d.ws(), "git rev-parse HEAD");
    let script =
        format!("echo 'x = 3' > a.py && git commit -qam 'agent wip' && printf '%s' '{REPORT_A}'");
    let r =
        AgentImplementer::implement(req(&d, 1, agent_script(&script)), &NativeHost(&d)).unwrap();
    assert_eq!(r.status, ImplementStatus::Failed);
    assert!(
        r.summary.contains("committed by itself") && r.summary.contains("agent wip"),
        "{}",
        r.summary
    );
    assert_eq!(
        sh(&d.ws(), "git rev-parse HEAD"),
        base,
        "HEAD is back on the base"
    );
    assert_eq!(
        sh(&d.ws(), "git status --porcelain"),
        " M a.py\n",
        "the change is in the work tree"
    );
    assert_eq!(
        std::fs::read_to_string(d.ws().join("a.py")).unwrap(),
        "x = 3\n"
    );
}

#[test]
fn config_errors_say_what_and_where() {
    let d = dirs("cfg");
    let host = FakeHost::new();
    let err = AgentImplementer::implement(req(&d, 1, json!({})), &host).unwrap_err();
    assert!(err.contains("no agent") && err.contains("preset"), "{err}");
    let err =
        AgentImplementer::implement(req(&d, 1, json!({"preset": "claude", "bogus": 1})), &host)
            .unwrap_err();
    assert!(err.contains("unknown key `bogus`"), "{err}");
    let err =
        AgentImplementer::implement(req(&d, 1, json!({"preset": "cursor"})), &host).unwrap_err();
    assert!(err.contains("unknown preset"), "{err}");
    // Checks need git: without it the error says what to grant.
    let host = FakeHost::new().on_error("git", ExecError::NotGranted("git".into()));
    let err =
        AgentImplementer::implement(req(&d, 1, json!({"preset": "claude"})), &host).unwrap_err();
    assert!(err.contains("grant git"), "{err}");
    let host = FakeHost::new().on_error("claude", ExecError::NotGranted("claude".into()));
    let err = AgentImplementer::implement(
        req(&d, 1, json!({"preset": "claude", "check": false})),
        &host,
    )
    .unwrap_err();
    assert!(err.contains("grant it"), "{err}");
}

#[test]
fn failure_and_timeout_keep_the_tail_of_the_output() {
    let d = dirs("fail");
    let out = Output {
        exit_code: Some(2),
        stdout: (1..=60)
            .map(|i| format!("line {i}\n"))
            .collect::<String>()
            .into_bytes(),
        stderr: b"rate limited\n".to_vec(),
        ..Default::default()
    };
    let host = FakeHost::new().on_output("my-agent", out);
    let cfg = json!({"program": "my-agent", "check": false, "tail_lines": 3});
    let r = AgentImplementer::implement(req(&d, 1, cfg.clone()), &host).unwrap();
    assert_eq!(r.status, ImplementStatus::Failed);
    assert!(r.summary.contains("exited 2"), "{}", r.summary);
    assert!(
        r.evidence.ends_with("line 59\nline 60\nrate limited"),
        "{}",
        r.evidence
    );
    let host = FakeHost::new().on_output(
        "my-agent",
        Output {
            timed_out: true,
            duration_ms: 5,
            ..Default::default()
        },
    );
    let r = AgentImplementer::implement(req(&d, 1, cfg), &host).unwrap();
    assert!(r.summary.contains("timed out after 5 ms"), "{}", r.summary);
}
