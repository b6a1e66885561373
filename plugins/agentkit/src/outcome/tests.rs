//! Protocol tests: recorded outputs in each CLI's documented format
//! (tests/fixtures/agents/outputs), read the way a run reads them.

use super::*;

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("../../../../tests/fixtures/agents/outputs/", $name))
    };
}

#[test]
fn claude_json_success_gives_the_result_text_cost_and_tokens() {
    let o = parse_outcome(Format::ClaudeJson, fixture!("claude-success.json"), None).unwrap();
    assert_eq!(o.success, Some(true));
    assert!(o.message.starts_with("Implemented T002.") && o.message.contains("| src/greet.py |"));
    assert_eq!(o.cost_usd, Some(0.08342));
    assert_eq!(
        (o.input_tokens, o.output_tokens, o.turns),
        (Some(18234), Some(1422), Some(7))
    );
    assert_eq!(o.error, None);
    assert_eq!(
        o.usage_line(),
        "7 turns, 18234 in / 1422 out tokens, $0.0834"
    );
}

#[test]
fn claude_json_error_and_denied_tools_are_failures() {
    let o = parse_outcome(Format::ClaudeJson, fixture!("claude-error.json"), None).unwrap();
    assert_eq!(o.success, Some(false));
    assert!(o.error.unwrap().contains("error_max_turns"));
    // A banner line before the JSON is skipped; is_error false with a denied tool is not clean.
    let denied = "warming up\n{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":false,\"result\":\"ok\",\"permission_denials\":[{\"tool_name\":\"Edit\"}]}\n";
    let o = parse_outcome(Format::ClaudeJson, denied, None).unwrap();
    assert_eq!(o.success, Some(true));
    assert!(o.error.unwrap().contains("refused 1 tool use"));
    let e = parse_outcome(Format::ClaudeJson, "Error: invalid API key\n", None).unwrap_err();
    assert!(e.contains("no JSON result"), "{e}");
}

#[test]
fn codex_jsonl_reads_the_last_agent_message_and_sums_usage() {
    let o = parse_outcome(Format::CodexJsonl, fixture!("codex-success.jsonl"), None).unwrap();
    assert_eq!(o.success, Some(true));
    assert!(o.message.starts_with("Done.") && o.message.contains("src/greet.py"));
    assert_eq!(
        (o.input_tokens, o.output_tokens, o.turns),
        (Some(24763), Some(122), Some(1))
    );
    assert_eq!(o.cost_usd, None, "codex reports tokens, not cost");
    let o = parse_outcome(Format::CodexJsonl, fixture!("codex-failed.jsonl"), None).unwrap();
    assert_eq!(o.success, Some(false));
    assert!(o.error.unwrap().contains("rate limit"));
    let o = parse_outcome(Format::CodexJsonl, "{\"type\":\"thread.started\"}\n", None).unwrap();
    assert_eq!(o.success, Some(false), "no completed turn is no success");
    assert!(parse_outcome(Format::CodexJsonl, "plain text\n", None).is_err());
}

#[test]
fn aider_text_gives_edited_files_tokens_and_session_cost() {
    let o = parse_outcome(Format::AiderText, fixture!("aider-success.txt"), None).unwrap();
    assert_eq!(o.success, Some(true));
    assert_eq!(o.edited, ["src/greet.py"]);
    assert_eq!((o.input_tokens, o.output_tokens), (Some(2300), Some(95)));
    assert_eq!(o.cost_usd, Some(0.0071));
    let o = parse_outcome(Format::AiderText, fixture!("aider-no-match.txt"), None).unwrap();
    assert_eq!(o.success, Some(false));
    assert!(o.error.unwrap().contains("SearchReplaceNoExactMatch"));
    assert!(o.edited.is_empty());
    let o = parse_outcome(Format::AiderText, "Aider v0.86.2\n", None).unwrap();
    assert_eq!(o.success, Some(false));
    assert_eq!(o.error.as_deref(), Some("aider applied no edit"));
}

#[test]
fn gemini_json_response_stats_and_error() {
    let o = parse_outcome(Format::GeminiJson, fixture!("gemini-success.json"), None).unwrap();
    assert_eq!(o.success, Some(true));
    assert!(o.message.starts_with("Added shout()."));
    assert_eq!((o.input_tokens, o.output_tokens), (Some(14021), Some(388)));
    let o = parse_outcome(Format::GeminiJson, fixture!("gemini-error.json"), None).unwrap();
    assert_eq!(o.success, Some(false));
    assert!(o.error.unwrap().starts_with("Quota exceeded"));
}

#[test]
fn opencode_jsonl_last_text_steps_cost_and_error() {
    let o = parse_outcome(
        Format::OpencodeJsonl,
        fixture!("opencode-success.jsonl"),
        None,
    )
    .unwrap();
    assert_eq!(o.success, Some(true));
    assert!(o.message.starts_with("Done.") && o.message.contains("src/greet.py"));
    assert_eq!(
        (o.turns, o.input_tokens, o.output_tokens),
        (Some(2), Some(18520), Some(290))
    );
    assert!((o.cost_usd.unwrap() - 0.0164).abs() < 1e-9);
    let o = parse_outcome(
        Format::OpencodeJsonl,
        fixture!("opencode-error.jsonl"),
        None,
    )
    .unwrap();
    assert_eq!(o.success, Some(false));
    assert_eq!(o.error.as_deref(), Some("invalid x-api-key"));
}

#[test]
fn mini_trajectory_submitted_or_not() {
    let o = parse_outcome(
        Format::MiniTrajectory,
        "",
        Some(fixture!("mini-submitted.traj.json")),
    )
    .unwrap();
    assert_eq!(o.success, Some(true));
    assert!(o.message.contains("| src/greet.py | modified |"));
    assert_eq!((o.turns, o.cost_usd), (Some(3), Some(0.0)));
    let o = parse_outcome(
        Format::MiniTrajectory,
        "",
        Some(fixture!("mini-limits.traj.json")),
    )
    .unwrap();
    assert_eq!(o.success, Some(false));
    assert_eq!(
        o.error.as_deref(),
        Some("mini-swe-agent ended with LimitsExceeded")
    );
    assert!(parse_outcome(Format::MiniTrajectory, "", None)
        .unwrap_err()
        .contains("no trajectory"));
    assert!(parse_outcome(Format::MiniTrajectory, "", Some("{\"info\": {}}")).is_err());
}

#[test]
fn text_is_the_trimmed_output() {
    let o = parse_outcome(Format::Text, "  all done\n", None).unwrap();
    assert_eq!((o.success, o.message.as_str()), (None, "all done"));
}

/// Issue 28: the summary quotes claude's own error, not only its subtype.
#[test]
fn a_claude_error_quotes_its_result() {
    let out = r#"{"type":"result","subtype":"success","is_error":true,"result":"API Error: Unable to connect to API (ECONNREFUSED)"}"#;
    let o = parse_outcome(Format::ClaudeJson, out, None).unwrap();
    assert_eq!(o.success, Some(false));
    assert_eq!(
        o.error.as_deref(),
        Some("claude reported an error (success): API Error: Unable to connect to API (ECONNREFUSED)")
    );
}

/// Issue 28: with `--output-format stream-json --verbose` the result is the last event.
#[test]
fn claude_stream_json_is_read_from_its_last_event() {
    let stream = concat!(
        r#"{"type":"system","subtype":"init","tools":["Write"]}"#,
        "\n",
        r#"{"type":"assistant","message":{"content":[{"type":"tool_use","name":"Write","input":{}}]}}"#,
        "\n",
        r#"{"type":"result","subtype":"success","is_error":false,"num_turns":2,"result":"Done.","total_cost_usd":0.5}"#,
        "\n"
    );
    let o = parse_outcome(Format::ClaudeJson, stream, None).unwrap();
    assert_eq!(o.success, Some(true));
    assert_eq!(o.message, "Done.");
    assert_eq!(o.turns, Some(2));
}
