//! Native tests of agent-review: the reply parser on pass, changes-requested, garbage and
//! contradictory replies (tests/fixtures/fake-agent/replies), with FakeHost and the real fake agent.

use super::*;
use planexec_pdk::testing::FakeHost;
use planexec_pdk::{report, ExecError, Mounts, Outcome, Output, Severity, Task};
use serde_json::{json, Value};

macro_rules! reply {
    ($f:literal) => {
        include_str!(concat!("../../../tests/fixtures/fake-agent/replies/", $f))
    };
}

fn req(kind: ReviewKind, config: Value) -> ReviewRequest {
    ReviewRequest {
        kind,
        config,
        mounts: Mounts::default(),
        task: Task {
            id: "ST-2".into(),
            title: "Enforce SSO at login".into(),
            acceptance: vec!["Login redirects when the tenant enforces SSO".into()],
            files: vec!["internal/auth/handler.go".into()],
            out_of_scope: vec!["internal/tenant/".into()],
            ..Default::default()
        },
        constraints: vec!["Do not modify `migrations/`".into()],
        other_tasks_files: vec!["internal/tenant/repository.go".into()],
        diff: "diff --git a/internal/auth/handler.go b/internal/auth/handler.go\n--- a/internal/auth/handler.go\n+++ b/internal/auth/handler.go\n@@ -1 +1,2 @@\n x\n+y\n".into(),
        changed_files: Vec::new(),
        gate_reports: vec![("go-test".into(), report(Outcome::Passed, "12 passed"))],
        implementer_findings: vec![],
    }
}

fn agent() -> Value {
    json!({"command": ["fake-agent", "{prompt}"]})
}

fn run(kind: ReviewKind, reply: &str) -> Result<Review, String> {
    let host = FakeHost::new().on("fake-agent", 0, reply);
    AgentReview::review(req(kind, agent()), &host)
}

#[test]
fn task_pass_reply_is_an_approval_with_five_criteria() {
    let r = run(ReviewKind::Task, reply!("task-pass.md")).unwrap();
    assert!(r.approved);
    assert_eq!(r.criteria.len(), 5);
    assert_eq!(r.criteria[3].name, "Design alignment");
    assert_eq!(r.criteria[3].score, Score::Weak, "bold scores are read");
    assert!(r.criteria[0].reasoning.contains("go test"));
    assert!(
        r.findings.is_empty(),
        "`None.` is not an issue: {:?}",
        r.findings
    );
    assert!(
        r.summary.starts_with(
            "TASK_REVIEW_PASSED: 5 criteria: 4 PASS, 1 WEAK, 0 FAIL — The subtask was completed"
        ),
        "{}",
        r.summary
    );
}

#[test]
fn task_changes_requested_reply_lists_issues() {
    let r = run(ReviewKind::Task, reply!("task-changes.md")).unwrap();
    assert!(!r.approved);
    assert_eq!(r.findings.len(), 2);
    assert_eq!(
        r.findings[0].path.as_deref(),
        Some("internal/tenant/repository.go")
    );
    assert_eq!(r.findings[0].line, Some(23));
    assert!(
        r.findings[0]
            .message
            .ends_with("through the existing `ByDomain` call."),
        "{}",
        r.findings[0].message
    );
    assert_eq!(r.findings[0].severity, Severity::Important);
    assert!(r.summary.starts_with("TASK_REVIEW_CHANGES_REQUESTED"));
}

#[test]
fn code_replies_parse_findings_by_severity() {
    let r = run(ReviewKind::Code, reply!("code-pass.md")).unwrap();
    assert!(r.approved);
    assert_eq!(r.criteria.len(), 6);
    assert_eq!(r.findings.len(), 1);
    assert_eq!(
        (
            r.findings[0].severity,
            r.findings[0].path.as_deref(),
            r.findings[0].line
        ),
        (Severity::Minor, Some("src/engine/retry/tests.rs"), Some(12))
    );
    let r = run(ReviewKind::Code, reply!("code-changes.md")).unwrap();
    assert!(!r.approved);
    let sev: Vec<_> = r.findings.iter().map(|f| (f.severity, f.line)).collect();
    assert_eq!(
        sev,
        [
            (Severity::Critical, Some(12)),
            (Severity::Critical, Some(13)),
            (Severity::Important, None)
        ]
    );
    assert_eq!(
        r.findings[2].path.as_deref(),
        Some("tests/test_settings.py")
    );
}

#[test]
fn garbage_contradictory_wrong_kind_and_echoed_template_are_errors() {
    let e = run(ReviewKind::Task, reply!("garbage.md")).unwrap_err();
    assert!(e.contains("no verdict"), "{e}");
    let e = run(ReviewKind::Code, reply!("contradictory.md")).unwrap_err();
    assert!(e.contains("contradictory") && e.contains("Security"), "{e}");
    let e = run(ReviewKind::Code, reply!("task-pass.md")).unwrap_err();
    assert!(e.contains("wrong kind"), "{e}");
    let e = run(ReviewKind::Task, reply!("echoed-template.md")).unwrap_err();
    assert!(e.contains("several verdicts"), "{e}");
    // PASSED with more WEAK than the seeds allow is a contradiction too.
    let two_weak =
        reply!("task-pass.md").replace("| Scope compliance | PASS", "| Scope compliance | WEAK");
    assert!(run(ReviewKind::Task, &two_weak)
        .unwrap_err()
        .contains("2 WEAK"));
    // A verdict without a table, a missing row, a bad score.
    let no_table = "## Verdict: TASK_REVIEW_PASSED\n\nAll good.\n";
    assert!(run(ReviewKind::Task, no_table)
        .unwrap_err()
        .contains("no `| Criterion"));
    let missing = reply!("task-pass.md").replace(
        "| Boundary integrity | PASS | Nothing under `internal/tenant/` was touched. |\n",
        "",
    );
    assert!(run(ReviewKind::Task, &missing)
        .unwrap_err()
        .contains("Boundary integrity"));
    let bad =
        reply!("task-pass.md").replace("| Scope compliance | PASS", "| Scope compliance | OK");
    assert!(run(ReviewKind::Task, &bad)
        .unwrap_err()
        .contains("not PASS/WEAK/FAIL"));
    assert!(run(ReviewKind::Task, "   \n")
        .unwrap_err()
        .contains("nothing"));
}

#[test]
fn agent_failures_are_errors_never_approvals() {
    let host = FakeHost::new().on("fake-agent", 1, reply!("task-pass.md"));
    let e = AgentReview::review(req(ReviewKind::Task, agent()), &host).unwrap_err();
    assert!(e.contains("exited 1"), "{e}");
    let host = FakeHost::new().on_output(
        "fake-agent",
        Output {
            exit_code: None,
            timed_out: true,
            duration_ms: 5,
            ..Default::default()
        },
    );
    assert!(AgentReview::review(req(ReviewKind::Task, agent()), &host)
        .unwrap_err()
        .contains("timed out"));
    let host = FakeHost::new().on_error("fake-agent", ExecError::NotGranted("fake-agent".into()));
    assert!(AgentReview::review(req(ReviewKind::Task, agent()), &host)
        .unwrap_err()
        .contains("not granted"));
    assert!(
        AgentReview::review(req(ReviewKind::Task, json!({})), &FakeHost::new())
            .unwrap_err()
            .contains("no agent `command`")
    );
    assert!(AgentReview::review(
        req(ReviewKind::Task, json!({"command": ["x"], "bogus": 1})),
        &FakeHost::new()
    )
    .is_err());
}

#[test]
fn prompt_carries_definition_inputs_and_placeholders() {
    let host = FakeHost::new().on("claude", 0, reply!("code-pass.md"));
    let cfg = json!({"command": ["claude", "-p", "{prompt}", "--kind={kind}", "--id={task_id}"], "env": {"A": "1"}, "timeout_ms": 1000, "instructions": "Prefer anyhow."});
    AgentReview::review(req(ReviewKind::Code, cfg), &host).unwrap();
    let calls = host.calls.borrow();
    let c = &calls[0];
    assert_eq!(
        (
            c.program.as_str(),
            c.args[0].as_str(),
            c.args[2].as_str(),
            c.args[3].as_str()
        ),
        ("claude", "-p", "--kind=code", "--id=ST-2")
    );
    assert_eq!(c.env, [("A".to_string(), "1".to_string())]);
    assert_eq!(c.timeout_ms, Some(1000));
    let p = &c.args[1];
    for needle in [
        "the Task Reviewer has confirmed",
        "| Security | No vulnerabilities introduced",
        "# Code Review: ST-2 — Enforce SSO at login",
        "CODE_REVIEW_PASSED only when no criterion is FAIL and at most two are WEAK",
        "- Login redirects when the tenant enforces SSO",
        "- Do not modify `migrations/`",
        "- internal/tenant/repository.go",
        "`go-test`: passed — 12 passed",
        "```diff\ndiff --git a/internal/auth/handler.go",
        "Prefer anyhow.",
    ] {
        assert!(p.contains(needle), "prompt lacks {needle:?}");
    }
    let host = FakeHost::new().on("claude", 0, reply!("task-pass.md"));
    AgentReview::review(
        req(
            ReviewKind::Task,
            json!({"command": ["claude", "-p", "{prompt}"], "max_diff_bytes": 10}),
        ),
        &host,
    )
    .unwrap();
    let p = &host.calls.borrow()[0].args[1];
    assert!(
        p.contains("You are an independent reviewer")
            && p.contains("| Boundary integrity | \"Out of scope\" items")
    );
    assert!(p.contains("diff cut at 10 of"));
}

/// A host that really runs programs (for the fake agent), substituting `{scratch}`.
struct ProcHost {
    scratch: std::path::PathBuf,
}

impl planexec_pdk::Host for ProcHost {
    fn exec(&self, cmd: &Command) -> Result<Output, ExecError> {
        let s = self.scratch.to_string_lossy();
        let out = std::process::Command::new(&cmd.program)
            .args(cmd.args.iter().map(|a| a.replace("{scratch}", &s)))
            .output()
            .map_err(|e| ExecError::NotFound(e.to_string()))?;
        Ok(Output {
            exit_code: out.status.code(),
            stdout: out.stdout,
            stderr: out.stderr,
            ..Default::default()
        })
    }
    fn log(&self, _: Level, _: &str) {}
}

#[test]
fn real_fake_agent_with_prompt_and_reply_files() {
    if std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("python3 not found; skipped");
        return;
    }
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/fake-agent/fake-agent.py"
    );
    let dir = std::env::temp_dir().join(format!("agent-review-scratch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let host = ProcHost {
        scratch: dir.clone(),
    };
    let mut q = req(
        ReviewKind::Task,
        json!({
            "command": ["python3", script, "--expect", "Boundary integrity", "--expect", "internal/auth/handler.go", "task-pass.md", "{prompt_file}"]
        }),
    );
    q.mounts.scratch = dir.to_string_lossy().into_owned();
    let r = AgentReview::review(q.clone(), &host).unwrap();
    assert!(r.approved);
    assert!(dir.join(PROMPT_FILE).exists());
    // Reply through a file; an agent failing after answering is still an error.
    q.config = json!({"command": ["python3", script, "task-changes.md", "--reply-to", "{reply_file}", "{prompt}"], "reply_from_file": true});
    let r = AgentReview::review(q.clone(), &host).unwrap();
    assert!(!r.approved);
    q.config = json!({"command": ["python3", script, "--exit", "4", "task-pass.md"]});
    assert!(AgentReview::review(q.clone(), &host)
        .unwrap_err()
        .contains("exited 4"));
    q.config = json!({"command": ["python3", script, "--expect", "no such text", "task-pass.md", "{prompt}"]});
    assert!(AgentReview::review(q, &host)
        .unwrap_err()
        .contains("exited 3"));
    std::fs::remove_dir_all(&dir).ok();
}

// ---------------------------------------------------------------- presets

/// `reply` wrapped the way each CLI's machine-readable output carries its last message.
fn wrapped(preset: &str, reply: &str) -> String {
    match preset {
        "claude" => json!({"type": "result", "subtype": "success", "is_error": false, "result": reply, "total_cost_usd": 0.01, "num_turns": 1}).to_string(),
        "codex" => format!(
            "{}\n{}\n{}\n",
            json!({"type": "thread.started", "thread_id": "t"}),
            json!({"type": "item.completed", "item": {"id": "i", "type": "agent_message", "text": reply}}),
            json!({"type": "turn.completed", "usage": {"input_tokens": 10, "output_tokens": 5}})
        ),
        "gemini" => json!({"response": reply, "stats": {"models": {}}}).to_string(),
        "opencode" => format!(
            "{}\n{}\n",
            json!({"type": "text", "part": {"type": "text", "text": reply}}),
            json!({"type": "step_finish", "part": {"cost": 0.0, "tokens": {"input": 1, "output": 1}}})
        ),
        _ => unreachable!(),
    }
}

#[test]
fn presets_read_the_verdict_from_each_clis_output() {
    for (preset, program) in [
        ("claude", "claude"),
        ("codex", "codex"),
        ("gemini", "gemini"),
        ("opencode", "opencode"),
    ] {
        let host = FakeHost::new().on(program, 0, &wrapped(preset, reply!("task-pass.md")));
        let r = AgentReview::review(req(ReviewKind::Task, json!({"preset": preset})), &host)
            .unwrap_or_else(|e| panic!("{preset}: {e}"));
        assert!(r.approved, "{preset}");
        assert_eq!(r.criteria.len(), 5, "{preset}");
        let host = FakeHost::new().on(program, 0, &wrapped(preset, reply!("task-changes.md")));
        let r =
            AgentReview::review(req(ReviewKind::Task, json!({"preset": preset})), &host).unwrap();
        assert!(!r.approved && !r.findings.is_empty(), "{preset}: {r:?}");
        let host = FakeHost::new().on(program, 0, &wrapped(preset, reply!("garbage.md")));
        let e = AgentReview::review(req(ReviewKind::Task, json!({"preset": preset})), &host)
            .unwrap_err();
        assert!(e.contains("unusable agent reply"), "{preset}: {e}");
        // The raw output is not the verdict: a reply outside the JSON is not read.
        let host = FakeHost::new().on(program, 0, reply!("task-pass.md"));
        assert!(
            AgentReview::review(req(ReviewKind::Task, json!({"preset": preset})), &host).is_err(),
            "{preset}"
        );
    }
    let calls = {
        let host = FakeHost::new().on("claude", 0, &wrapped("claude", reply!("task-pass.md")));
        AgentReview::review(
            req(
                ReviewKind::Task,
                json!({"preset": "claude", "extra_args": ["--model", "opus"]}),
            ),
            &host,
        )
        .unwrap();
        host.calls.take()
    };
    assert!(calls[0]
        .args
        .windows(2)
        .any(|w| w == ["--output-format", "stream-json"]));
    assert_eq!(
        calls[0].args[calls[0].args.len() - 2..],
        ["--model", "opus"]
    );
    assert_eq!(calls[0].timeout_ms, Some(20 * 60 * 1000));
}

/// The review carries what the agent's output says it cost, read as the agent
/// implementer reads it (agentkit); a plain-text reply says nothing.
#[test]
fn a_presets_reported_cost_and_tokens_are_the_reviews_usage() {
    let on = |preset: &str, program: &str| {
        let host = FakeHost::new().on(program, 0, &wrapped(preset, reply!("task-pass.md")));
        AgentReview::review(req(ReviewKind::Task, json!({"preset": preset})), &host)
            .unwrap()
            .usage
    };
    let claude = on("claude", "claude").expect("claude's output reports its cost");
    assert_eq!(claude.cost_usd, Some(0.01));
    assert_eq!(claude.turns, Some(1));
    let codex = on("codex", "codex").expect("codex's output reports its tokens");
    assert_eq!(
        (codex.input_tokens, codex.output_tokens),
        (Some(10), Some(5))
    );
    let host = FakeHost::new().on("agent", 0, reply!("task-pass.md"));
    let r = AgentReview::review(req(ReviewKind::Task, json!({"command": ["agent"]})), &host);
    assert_eq!(r.unwrap().usage, None);
}

#[test]
fn a_preset_whose_output_says_it_failed_is_an_errored_review() {
    let host = FakeHost::new().on(
        "claude",
        0,
        &json!({"type": "result", "subtype": "error_during_execution", "is_error": true, "result": reply!("task-pass.md")}).to_string(),
    );
    let e =
        AgentReview::review(req(ReviewKind::Task, json!({"preset": "claude"})), &host).unwrap_err();
    assert!(
        e.contains("reported a failure") && e.contains("error_during_execution"),
        "{e}"
    );
    let e = AgentReview::review(
        req(
            ReviewKind::Task,
            json!({"preset": "claude", "command": ["x"]}),
        ),
        &FakeHost::new(),
    )
    .unwrap_err();
    assert!(e.contains("not both"), "{e}");
}
