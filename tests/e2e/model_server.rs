//! Scripted model servers for real agent CLIs: one HTTP server on 127.0.0.1 that speaks
//! Anthropic Messages, OpenAI Responses and chat completions, and Gemini, each reply the next turn of a script.
//!
//! A script maps the conversation's prompt (the user's words) to a list of turns; the
//! turn answered is the number of tool results the request carries, so the server keeps
//! no state between requests. A request without the real key is refused (401).
//! Used by tests/e2e/presets.rs (every preset's real CLI) and agents.rs (aider).

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// One model turn: a tool call in the CLI's own vocabulary, or the final answer.
#[derive(Clone, Debug)]
pub enum Turn {
    Call(String, Value),
    Answer(String),
}

impl Turn {
    pub fn call(name: &str, args: Value) -> Turn {
        Turn::Call(name.into(), args)
    }
    pub fn answer(text: &str) -> Turn {
        Turn::Answer(text.into())
    }
}

/// The wire protocol of a model request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wire {
    /// `POST /v1/messages` (Claude Code).
    Anthropic,
    /// `POST …/responses` (Codex CLI).
    Responses,
    /// `POST …/chat/completions` (aider, opencode).
    Chat,
    /// `POST …/models/M:generateContent` or `:streamGenerateContent` (Gemini CLI).
    Gemini,
}

/// One request the server received (tests read what they need of it).
#[derive(Clone, Debug)]
#[allow(dead_code)]
pub struct Seen {
    pub wire: Option<Wire>,
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The user's words in the conversation (tool results left out).
    pub prompt: String,
    /// The number of tool results the conversation carries: the turn it got.
    pub step: usize,
    /// Whether a header (or the URL) carried the real key.
    pub keyed: bool,
}

type Script = dyn Fn(&str) -> Vec<Turn> + Send + Sync;

/// A scripted model server on 127.0.0.1; it runs until the test process ends.
pub struct ModelServer {
    pub port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl ModelServer {
    /// Serves `script`, answering only requests that carry `key`.
    pub fn start(key: &str, script: impl Fn(&str) -> Vec<Turn> + Send + Sync + 'static) -> Self {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (kept, key) = (seen.clone(), key.to_string());
        let script: Arc<Script> = Arc::new(script);
        std::thread::spawn(move || {
            for c in l.incoming().flatten() {
                let (kept, key, script) = (kept.clone(), key.clone(), script.clone());
                std::thread::spawn(move || {
                    let _ = serve(c, &key, &*script, &kept);
                });
            }
        });
        ModelServer { port, seen }
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// The model requests (a wire protocol recognised) so far.
    pub fn model_requests(&self) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.wire.is_some())
            .collect()
    }
}

/// One connection: one request read, answered, and closed.
fn serve(c: TcpStream, key: &str, script: &Script, kept: &Mutex<Vec<Seen>>) -> std::io::Result<()> {
    let mut r = BufReader::new(c.try_clone()?);
    let (method, path, headers) = read_head(&mut r)?;
    let body = read_body(&mut r, &headers)?;
    let body = String::from_utf8_lossy(&body).into_owned();
    let wire = wire_of(&method, &path);
    let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let keyed = path.contains(key) || headers.iter().any(|(_, h)| h.contains(key));
    let (prompt, step) = wire.map(|w| conversation(w, &v)).unwrap_or_default();
    kept.lock().unwrap().push(Seen {
        wire,
        method: method.clone(),
        path: path.clone(),
        headers,
        body,
        prompt: prompt.clone(),
        step,
        keyed,
    });
    let mut c = c;
    let Some(wire) = wire else {
        let body = if method == "HEAD" {
            ""
        } else {
            r#"{"object":"list","data":[]}"#
        };
        return respond(&mut c, "200 OK", "application/json", body);
    };
    if !keyed {
        let e = json!({"error": {"type": "authentication_error", "code": 401, "status": "UNAUTHENTICATED",
            "message": "scripted model server: the request did not carry the real key"}});
        return respond(
            &mut c,
            "401 Unauthorized",
            "application/json",
            &e.to_string(),
        );
    }
    // A request offering no tools (a title, or aider, which has none) gets the script's
    // last turn: its answer. Gemini CLI's side requests (which model routes, who speaks
    // next) want JSON; an unparsable reply costs it retries with backoff.
    let turns = script(&prompt);
    let tools = v["tools"].as_array().is_some_and(|t| !t.is_empty());
    let at = if tools { step } else { usize::MAX };
    let turn = match (wire, tools) {
        (Wire::Gemini, false) => Turn::answer(GEMINI_SIDE_ANSWER),
        _ => turns
            .get(at)
            .or(turns.last())
            .cloned()
            .unwrap_or(Turn::answer("(no script)")),
    };
    let streamed = v["stream"].as_bool().unwrap_or(false)
        || path.contains("stream")
        || wire == Wire::Responses;
    let (kind, text) = match streamed {
        true => ("text/event-stream", sse(wire, &turn, step, &v)),
        false => ("application/json", whole(wire, &turn, step, &v).to_string()),
    };
    respond(&mut c, "200 OK", kind, &text)
}

fn read_head(r: &mut impl BufRead) -> std::io::Result<(String, String, Vec<(String, String)>)> {
    let mut line = String::new();
    r.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if r.read_line(&mut h)? == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    Ok((method, path, headers))
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The body, by content-length or chunked.
fn read_body(r: &mut impl BufRead, headers: &[(String, String)]) -> std::io::Result<Vec<u8>> {
    if header(headers, "transfer-encoding").is_some_and(|t| t.contains("chunked")) {
        let mut body = Vec::new();
        loop {
            let mut size = String::new();
            r.read_line(&mut size)?;
            let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
                .unwrap_or(0);
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk)?;
            if n == 0 {
                return Ok(body);
            }
            body.extend_from_slice(&chunk[..n]);
        }
    }
    let n = header(headers, "content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; n];
    r.read_exact(&mut body)?;
    Ok(body)
}

fn respond(c: &mut TcpStream, status: &str, kind: &str, body: &str) -> std::io::Result<()> {
    write!(
        c,
        "HTTP/1.1 {status}\r\ncontent-type: {kind}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )?;
    c.flush()
}

fn wire_of(method: &str, path: &str) -> Option<Wire> {
    let p = path.split('?').next().unwrap_or("");
    if method != "POST" {
        return None;
    }
    if p.ends_with("/messages") {
        Some(Wire::Anthropic)
    } else if p.ends_with("/responses") {
        Some(Wire::Responses)
    } else if p.ends_with("/chat/completions") {
        Some(Wire::Chat)
    } else if p.ends_with(":generateContent") || p.ends_with(":streamGenerateContent") {
        Some(Wire::Gemini)
    } else {
        None
    }
}

/// The texts of a message's content: a string, or parts with `text`.
fn texts(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// The user's words and the number of tool results in a request.
fn conversation(wire: Wire, v: &Value) -> (String, usize) {
    let list = |k: &str| v[k].as_array().cloned().unwrap_or_default();
    let user = |m: &&Value| m["role"] == "user";
    match wire {
        Wire::Anthropic => {
            let msgs = list("messages");
            let results = msgs
                .iter()
                .filter_map(|m| m["content"].as_array())
                .flatten()
                .filter(|b| b["type"] == "tool_result")
                .count();
            let prompt = msgs
                .iter()
                .filter(user)
                .map(|m| texts(&m["content"]))
                .collect();
            (prompt, results)
        }
        Wire::Responses => {
            let items = list("input");
            let results = items
                .iter()
                .filter(|i| i["type"].as_str().is_some_and(|t| t.ends_with("_output")))
                .count();
            let prompt = items
                .iter()
                .filter(user)
                .map(|m| texts(&m["content"]))
                .collect();
            (prompt, results)
        }
        Wire::Chat => {
            let msgs = list("messages");
            let results = msgs.iter().filter(|m| m["role"] == "tool").count();
            let prompt = msgs
                .iter()
                .filter(user)
                .map(|m| texts(&m["content"]))
                .collect();
            (prompt, results)
        }
        Wire::Gemini => {
            let contents = list("contents");
            let parts: Vec<&Value> = contents
                .iter()
                .filter_map(|c| c["parts"].as_array())
                .flatten()
                .collect();
            let results = parts
                .iter()
                .filter(|p| p.get("functionResponse").is_some())
                .count();
            let prompt = contents
                .iter()
                .filter(user)
                .map(|m| texts(&m["parts"]))
                .collect();
            (prompt, results)
        }
    }
}

/// What Gemini CLI's router and next-speaker check accept.
const GEMINI_SIDE_ANSWER: &str =
    r#"{"reasoning": "scripted", "model_choice": "pro", "next_speaker": "user"}"#;

const USAGE_IN: u64 = 100;
const USAGE_OUT: u64 = 20;

/// The turn as one JSON reply (a request that did not ask for a stream).
fn whole(wire: Wire, turn: &Turn, step: usize, req: &Value) -> Value {
    let id = format!("call_{step}");
    match (wire, turn) {
        (Wire::Anthropic, t) => {
            let (content, stop) = match t {
                Turn::Call(n, a) => (
                    json!([{"type": "tool_use", "id": id, "name": n, "input": a}]),
                    "tool_use",
                ),
                Turn::Answer(s) => (json!([{"type": "text", "text": s}]), "end_turn"),
            };
            json!({"id": format!("msg_{step}"), "type": "message", "role": "assistant", "model": req["model"],
                "content": content, "stop_reason": stop, "stop_sequence": null,
                "usage": {"input_tokens": USAGE_IN, "output_tokens": USAGE_OUT}})
        }
        (Wire::Chat, t) => {
            let (msg, finish) = match t {
                Turn::Call(n, a) => (
                    json!({"role": "assistant", "content": null, "tool_calls": [{"id": id, "type": "function",
                    "function": {"name": n, "arguments": a.to_string()}}]}),
                    "tool_calls",
                ),
                Turn::Answer(s) => (json!({"role": "assistant", "content": s}), "stop"),
            };
            json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": req["model"],
                "choices": [{"index": 0, "message": msg, "finish_reason": finish}],
                "usage": {"prompt_tokens": USAGE_IN, "completion_tokens": USAGE_OUT, "total_tokens": USAGE_IN + USAGE_OUT}})
        }
        (Wire::Gemini, t) => gemini_chunk(t),
        (Wire::Responses, _) => json!({"output": responses_items(turn, step)}),
    }
}

fn gemini_chunk(turn: &Turn) -> Value {
    let part = match turn {
        Turn::Call(n, a) => json!({"functionCall": {"name": n, "args": a}}),
        Turn::Answer(s) => json!({"text": s}),
    };
    json!({"candidates": [{"content": {"role": "model", "parts": [part]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": USAGE_IN, "candidatesTokenCount": USAGE_OUT, "totalTokenCount": USAGE_IN + USAGE_OUT},
        "modelVersion": "scripted"})
}

fn responses_items(turn: &Turn, step: usize) -> Value {
    match turn {
        Turn::Call(n, a) => {
            json!([{"type": "function_call", "id": format!("fc_{step}"), "call_id": format!("call_{step}"),
            "name": n, "arguments": a.to_string(), "status": "completed"}])
        }
        Turn::Answer(s) => {
            json!([{"type": "message", "id": format!("msg_{step}"), "role": "assistant", "status": "completed",
            "content": [{"type": "output_text", "text": s, "annotations": []}]}])
        }
    }
}

/// The turn as server-sent events in the wire's streaming form.
fn sse(wire: Wire, turn: &Turn, step: usize, req: &Value) -> String {
    let data = |v: Value| format!("data: {v}\n\n");
    let event = |t: &str, mut v: Value| {
        v["type"] = json!(t);
        format!("event: {t}\ndata: {v}\n\n")
    };
    match wire {
        Wire::Anthropic => {
            let mut s = event(
                "message_start",
                json!({"message": {"id": format!("msg_{step}"), "type": "message",
                "role": "assistant", "model": req["model"], "content": [], "stop_reason": null, "stop_sequence": null,
                "usage": {"input_tokens": USAGE_IN, "output_tokens": 1}}}),
            );
            let stop = match turn {
                Turn::Call(n, a) => {
                    s += &event(
                        "content_block_start",
                        json!({"index": 0, "content_block":
                        {"type": "tool_use", "id": format!("toolu_{step}"), "name": n, "input": {}}}),
                    );
                    s += &event(
                        "content_block_delta",
                        json!({"index": 0, "delta":
                        {"type": "input_json_delta", "partial_json": a.to_string()}}),
                    );
                    "tool_use"
                }
                Turn::Answer(t) => {
                    s += &event(
                        "content_block_start",
                        json!({"index": 0, "content_block": {"type": "text", "text": ""}}),
                    );
                    s += &event(
                        "content_block_delta",
                        json!({"index": 0, "delta": {"type": "text_delta", "text": t}}),
                    );
                    "end_turn"
                }
            };
            s += &event("content_block_stop", json!({"index": 0}));
            s += &event(
                "message_delta",
                json!({"delta": {"stop_reason": stop, "stop_sequence": null},
                "usage": {"output_tokens": USAGE_OUT}}),
            );
            s + &event("message_stop", json!({}))
        }
        Wire::Responses => {
            let id = format!("resp_{step}");
            let items = responses_items(turn, step);
            let mut s = event(
                "response.created",
                json!({"response": {"id": id, "status": "in_progress", "output": []}}),
            );
            for (i, item) in items.as_array().unwrap().iter().enumerate() {
                s += &event(
                    "response.output_item.added",
                    json!({"output_index": i, "item": item}),
                );
                s += &event(
                    "response.output_item.done",
                    json!({"output_index": i, "item": item}),
                );
            }
            s + &event(
                "response.completed",
                json!({"response": {"id": id, "status": "completed", "output": items,
                "usage": {"input_tokens": USAGE_IN, "input_tokens_details": {"cached_tokens": 0},
                    "output_tokens": USAGE_OUT, "output_tokens_details": {"reasoning_tokens": 0},
                    "total_tokens": USAGE_IN + USAGE_OUT}}}),
            )
        }
        Wire::Chat => {
            let chunk = |delta: Value, finish: Value| {
                json!({"id": "chatcmpl-1", "object": "chat.completion.chunk",
                "created": 0, "model": req["model"], "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
            };
            let (delta, finish) = match turn {
                Turn::Call(n, a) => (
                    json!({"role": "assistant", "tool_calls": [{"index": 0, "id": format!("call_{step}"),
                    "type": "function", "function": {"name": n, "arguments": a.to_string()}}]}),
                    "tool_calls",
                ),
                Turn::Answer(t) => (json!({"role": "assistant", "content": t}), "stop"),
            };
            let mut last = chunk(json!({}), json!(finish));
            last["usage"] = json!({"prompt_tokens": USAGE_IN, "completion_tokens": USAGE_OUT,
                "total_tokens": USAGE_IN + USAGE_OUT});
            data(chunk(delta, Value::Null)) + &data(last) + "data: [DONE]\n\n"
        }
        Wire::Gemini => data(gemini_chunk(turn)),
    }
}
