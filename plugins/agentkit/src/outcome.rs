//! What an agent's machine-readable output says: whether it finished, its last
//! message (the report it was asked for), its error, and its cost and token counts.

use crate::preset::Format;
use serde_json::Value;

/// An agent run as its own output reports it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentOutcome {
    /// `Some(false)` when the output says the run failed; `None` when it says nothing.
    pub success: Option<bool>,
    /// The agent's final message (its report, or a reviewer's verdict).
    pub message: String,
    pub error: Option<String>,
    pub cost_usd: Option<f64>,
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub turns: Option<u64>,
    /// Files the agent's output says it edited (aider's `Applied edit to`).
    pub edited: Vec<String>,
}

impl AgentOutcome {
    /// One line for the log: `4 turns, 1200 in / 300 out tokens, $0.0123`.
    pub fn usage_line(&self) -> String {
        let mut parts = Vec::new();
        if let Some(t) = self.turns {
            parts.push(format!("{t} turns"));
        }
        match (self.input_tokens, self.output_tokens) {
            (Some(i), Some(o)) => parts.push(format!("{i} in / {o} out tokens")),
            (Some(i), None) => parts.push(format!("{i} tokens in")),
            (None, Some(o)) => parts.push(format!("{o} tokens out")),
            _ => {}
        }
        if let Some(c) = self.cost_usd {
            parts.push(format!("${c:.4}"));
        }
        parts.join(", ")
    }

    /// The cost and token counts as the WIT contract's usage (the implementer's
    /// report and, from 0.4.0, the agent reviewer's review carry it).
    pub fn usage(&self) -> planexec_pdk::Usage {
        planexec_pdk::Usage {
            cost_usd: self.cost_usd,
            input_tokens: self.input_tokens,
            output_tokens: self.output_tokens,
            turns: self.turns.map(|t| t.min(u32::MAX as u64) as u32),
        }
    }
}

/// Reads the output of `format`. `side_file` is what the agent wrote beside it
/// (mini-swe-agent's trajectory). An output that is not what the format promises
/// is an error saying so.
pub fn parse_outcome(
    format: Format,
    stdout: &str,
    side_file: Option<&str>,
) -> Result<AgentOutcome, String> {
    match format {
        Format::Text => Ok(AgentOutcome {
            message: stdout.trim().to_string(),
            ..Default::default()
        }),
        Format::ClaudeJson => claude(stdout),
        Format::CodexJsonl => codex(stdout),
        Format::AiderText => Ok(aider(stdout)),
        Format::GeminiJson => gemini(stdout),
        Format::OpencodeJsonl => opencode(stdout),
        Format::MiniTrajectory => {
            mini(side_file.ok_or("mini-swe-agent wrote no trajectory file (-o)")?)
        }
    }
}

fn u64_at(v: &Value, path: &[&str]) -> Option<u64> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_u64()
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_str()
}

/// The last line of `text` that parses as a JSON object (CLIs may print a banner first).
fn last_json_object(text: &str) -> Option<Value> {
    if let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(text.trim()) {
        return Some(v);
    }
    text.lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
        .find(Value::is_object)
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
        .filter(Value::is_object)
        .collect()
}

fn claude(stdout: &str) -> Result<AgentOutcome, String> {
    let v =
        last_json_object(stdout).ok_or("claude printed no JSON result (--output-format json)")?;
    let is_error = v["is_error"].as_bool().unwrap_or(true);
    let subtype = v["subtype"].as_str().unwrap_or("");
    let ok = !is_error && (subtype.is_empty() || subtype == "success");
    let denials = v["permission_denials"].as_array().map_or(0, Vec::len);
    let error = if !ok {
        // Its own words: `result` holds the error (`API Error: Unable to connect…`).
        let said: String = v["result"]
            .as_str()
            .unwrap_or("")
            .trim()
            .chars()
            .take(300)
            .collect();
        Some(match said.is_empty() {
            true => format!("claude reported an error ({subtype})"),
            false => format!("claude reported an error ({subtype}): {said}"),
        })
    } else if denials > 0 {
        Some(format!(
            "claude was refused {denials} tool use(s) (permission_denials)"
        ))
    } else {
        None
    };
    Ok(AgentOutcome {
        success: Some(ok),
        message: v["result"].as_str().unwrap_or("").to_string(),
        error,
        cost_usd: v["total_cost_usd"].as_f64(),
        input_tokens: u64_at(&v, &["usage", "input_tokens"]),
        output_tokens: u64_at(&v, &["usage", "output_tokens"]),
        turns: v["num_turns"].as_u64(),
        edited: vec![],
    })
}

fn codex(stdout: &str) -> Result<AgentOutcome, String> {
    let events = json_lines(stdout);
    if events.is_empty() {
        return Err("codex printed no JSON events (exec --json)".into());
    }
    let mut o = AgentOutcome::default();
    let (mut turns, mut input, mut output) = (0u64, 0u64, 0u64);
    for e in &events {
        match e["type"].as_str().unwrap_or("") {
            "turn.completed" => {
                turns += 1;
                input += u64_at(e, &["usage", "input_tokens"]).unwrap_or(0);
                output += u64_at(e, &["usage", "output_tokens"]).unwrap_or(0);
                o.success.get_or_insert(true);
            }
            "turn.failed" | "error" => {
                o.success = Some(false);
                let msg = str_at(e, &["error", "message"]).or_else(|| str_at(e, &["message"]));
                o.error = Some(msg.unwrap_or("codex reported a failed turn").to_string());
            }
            "item.completed" if str_at(e, &["item", "type"]) == Some("agent_message") => {
                o.message = str_at(e, &["item", "text"]).unwrap_or("").to_string();
            }
            _ => {}
        }
    }
    if o.success.is_none() {
        o.success = Some(false);
        o.error = Some("codex never completed a turn".into());
    }
    o.turns = Some(turns);
    o.input_tokens = Some(input);
    o.output_tokens = Some(output);
    Ok(o)
}

/// `Tokens: 2.3k sent, 120 received. Cost: $0.01 message, $0.03 session.`
fn aider_tokens(word: &str) -> Option<u64> {
    let w = word.trim().trim_end_matches(',');
    let (num, mult) = match w.strip_suffix('k') {
        Some(n) => (n, 1000.0),
        None => (w, 1.0),
    };
    num.parse::<f64>().ok().map(|n| (n * mult).round() as u64)
}

fn aider(stdout: &str) -> AgentOutcome {
    let mut o = AgentOutcome::default();
    let (mut input, mut output, mut seen) = (0u64, 0u64, false);
    for line in stdout.lines() {
        let l = line.trim();
        if let Some(f) = l.strip_prefix("Applied edit to ") {
            let f = f.trim().to_string();
            if !o.edited.contains(&f) {
                o.edited.push(f);
            }
        } else if let Some(rest) = l.strip_prefix("Tokens: ") {
            let w: Vec<&str> = rest.split_whitespace().collect();
            if let (Some(s), Some(r)) = (w.first(), w.get(2)) {
                input += aider_tokens(s).unwrap_or(0);
                output += aider_tokens(r).unwrap_or(0);
                seen = true;
            }
            if let Some(c) = rest.split("$").nth(2) {
                o.cost_usd = c.split_whitespace().next().and_then(|c| c.parse().ok());
            }
        } else if l.contains("did not conform to the edit format")
            || l.contains("SearchReplaceNoExactMatch")
            || l.contains("failed to apply")
        {
            o.error = Some(l.to_string());
        }
    }
    if seen {
        o.input_tokens = Some(input);
        o.output_tokens = Some(output);
    }
    o.success = Some(o.error.is_none() && !o.edited.is_empty());
    if o.edited.is_empty() && o.error.is_none() {
        o.error = Some("aider applied no edit".into());
    }
    o.message = stdout.trim().to_string();
    o
}

fn gemini(stdout: &str) -> Result<AgentOutcome, String> {
    let v = last_json_object(stdout).ok_or("gemini printed no JSON (--output-format json)")?;
    let error = match &v["error"] {
        Value::Null => None,
        e => Some(
            e["message"]
                .as_str()
                .map_or_else(|| e.to_string(), String::from),
        ),
    };
    let (mut input, mut output, mut any) = (0, 0, false);
    if let Some(models) = v["stats"]["models"].as_object() {
        for m in models.values() {
            input += u64_at(m, &["tokens", "prompt"]).unwrap_or(0);
            output += u64_at(m, &["tokens", "candidates"]).unwrap_or(0);
            any = true;
        }
    }
    Ok(AgentOutcome {
        success: Some(error.is_none() && v["response"].is_string()),
        message: v["response"].as_str().unwrap_or("").to_string(),
        error,
        input_tokens: any.then_some(input),
        output_tokens: any.then_some(output),
        ..Default::default()
    })
}

fn opencode(stdout: &str) -> Result<AgentOutcome, String> {
    let events = json_lines(stdout);
    if events.is_empty() {
        return Err("opencode printed no JSON events (run --format json)".into());
    }
    let mut o = AgentOutcome::default();
    let (mut steps, mut input, mut output, mut cost) = (0u64, 0u64, 0u64, 0f64);
    let mut text = String::new();
    for e in &events {
        match e["type"].as_str().unwrap_or("") {
            "text" => {
                // Each step's text; the report is the last step's.
                text = str_at(e, &["part", "text"]).unwrap_or("").to_string();
            }
            "step_finish" => {
                steps += 1;
                input += u64_at(e, &["part", "tokens", "input"]).unwrap_or(0);
                output += u64_at(e, &["part", "tokens", "output"]).unwrap_or(0);
                cost += e["part"]["cost"].as_f64().unwrap_or(0.0);
            }
            "error" => {
                let err = &e["error"];
                let msg = str_at(err, &["data", "message"])
                    .or_else(|| str_at(err, &["message"]))
                    .or_else(|| str_at(err, &["name"]));
                o.error = Some(msg.unwrap_or("opencode reported an error").to_string());
            }
            _ => {}
        }
    }
    o.success = Some(o.error.is_none() && steps > 0);
    if steps == 0 && o.error.is_none() {
        o.error = Some("opencode finished no step".into());
    }
    o.message = text;
    o.turns = Some(steps);
    o.input_tokens = Some(input);
    o.output_tokens = Some(output);
    o.cost_usd = Some(cost);
    Ok(o)
}

fn mini(trajectory: &str) -> Result<AgentOutcome, String> {
    let v: Value = serde_json::from_str(trajectory)
        .map_err(|e| format!("mini-swe-agent's trajectory is not JSON: {e}"))?;
    let info = &v["info"];
    let status = info["exit_status"]
        .as_str()
        .ok_or("mini-swe-agent's trajectory has no info.exit_status")?;
    let ok = status == "Submitted";
    Ok(AgentOutcome {
        success: Some(ok),
        message: info["submission"].as_str().unwrap_or("").to_string(),
        error: (!ok).then(|| format!("mini-swe-agent ended with {status}")),
        cost_usd: info["model_stats"]["instance_cost"].as_f64(),
        turns: u64_at(info, &["model_stats", "api_calls"]),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests;
