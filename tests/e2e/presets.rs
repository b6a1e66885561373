//! Issue 28, item 3: each agent preset drives its real, pinned CLI through a two-task
//! plan with one rework from the failing assertion, offline: the model is a scripted
//! server on 127.0.0.1 (`model_server`), reached only through planexec's proxy (the
//! allow list names it), and the box holds a placeholder key the server would refuse.
//! Item 4: an unreachable model, a refused variable and an unknown flag end the task at once.

use crate::agents::walk;
use crate::model_server::{ModelServer, Turn};
use crate::support::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// The key the host holds; the box sees only `planexec-placeholder-NAME`.
pub const KEY: &str = "sk-scripted-4e1f9a0c7b2d";

pub const PLAN: &str = "# Greetings\n\n## Constraints\n\n- Standard library only.\n\n## Tasks\n\n\
### T001: Add shout\n**Summary**: Add shout().\n**Dependencies**: none\n**Files/modules touched**: src/shout.py, tests/test_shout.py\n**Acceptance test**: `python3 -m pytest -q tests/test_shout.py`\n\n\
### T002: Add whisper\n**Summary**: Add whisper().\n**Dependencies**: T001\n**Files/modules touched**: src/whisper.py, tests/test_whisper.py\n**Acceptance test**: `python3 -m pytest -q tests/test_whisper.py`\n\n";

/// The files the scripted model writes for the prompt it got: T001's, T002's with a
/// bug (whisper shouts), and only the fix once the prompt carries the findings.
pub fn edits(prompt: &str) -> Vec<(&'static str, &'static str)> {
    if prompt.contains("# Task T001") {
        vec![
            ("src/shout.py", "def shout(name):\n    return name.upper() + \"!\"\n"),
            (
                "tests/test_shout.py",
                "from src.shout import shout\n\n\ndef test_shout():\n    assert shout(\"hi\") == \"HI!\"\n",
            ),
        ]
    } else if prompt.contains("Findings of the previous attempt") {
        vec![(
            "src/whisper.py",
            "def whisper(name):\n    return name.lower()\n",
        )]
    } else {
        vec![
            ("src/whisper.py", "def whisper(name):\n    return name.upper()\n"),
            (
                "tests/test_whisper.py",
                "from src.whisper import whisper\n\n\ndef test_whisper():\n    assert whisper(\"Hi\") == \"hi\"\n",
            ),
        ]
    }
}

/// The report the prompt asks for: the files table of this cycle.
pub fn report(files: &[(&str, &str)]) -> String {
    let mut s = String::from("Done.\n\n| File | Action |\n|---|---|\n");
    for (f, _) in files {
        s.push_str(&format!("| {f} | created |\n"));
    }
    s
}

/// An installed agent CLI: its program, what the box must let it read, the secret
/// variable it reads its key from, and its planexec.toml settings.
pub struct Cli {
    pub preset: &'static str,
    pub program: PathBuf,
    pub read: Vec<PathBuf>,
    pub key_var: &'static str,
    /// More of `[implementers.agent]` (TOML lines; `@URL@` is the server's).
    pub settings: String,
    /// More of `[policy.plugins.agent]` (limits for a Node CLI).
    pub policy: String,
}

/// The npm-installed CLI `dir` under the agent tools (scripts/setup.sh installs them).
pub fn npm_tool(dir: &str, bin: &str) -> PathBuf {
    let p = target_dir()
        .join("agent-tools")
        .join(dir)
        .join("node_modules/.bin")
        .join(bin);
    p.canonicalize()
        .unwrap_or_else(|e| panic!("{}: {e} (scripts/setup.sh installs it)", p.display()))
}

/// Where the box may read an npm tool from: its whole install folder.
pub fn npm_root(dir: &str) -> PathBuf {
    target_dir()
        .join("agent-tools")
        .join(dir)
        .canonicalize()
        .unwrap()
}

pub struct PresetRun {
    pub _tmp: tempfile::TempDir,
    pub ws: PathBuf,
    pub out: Out,
    pub record: Value,
}

impl PresetRun {
    pub fn task(&self, id: &str) -> &Value {
        self.record["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == id)
            .unwrap_or_else(|| panic!("no task {id}: {:?}", self.out))
    }
    pub fn cycles(&self, id: &str) -> &Vec<Value> {
        self.task(id)["cycles"].as_array().unwrap()
    }
    pub fn commit_files(&self, id: &str) -> Vec<String> {
        let sha = git(
            &self.ws,
            &["log", "--format=%H", "--grep", &format!("^{id}: ")],
        );
        let sha = sha
            .lines()
            .next()
            .unwrap_or_else(|| panic!("no {id} commit: {:?}", self.out));
        let mut v: Vec<String> = git(&self.ws, &["show", "--format=", "--name-only", sha])
            .lines()
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect();
        v.sort();
        v
    }
    /// Everything planexec kept: the record, the logs beside the plan, the run state
    /// and every cycle's transcript.
    pub fn everything_kept(&self) -> String {
        let mut all = self.record.to_string();
        let transcripts = self.record["tasks"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|t| t["cycles"].as_array().cloned().unwrap_or_default())
            .filter_map(|c| {
                c["implementer"]["transcript_path"]
                    .as_str()
                    .map(|p| self.ws.join(p))
            });
        let files = walk(&self.ws.join("plan"))
            .into_iter()
            .chain(walk(&self.ws.join(".git/planexec")))
            .chain(transcripts);
        for p in files {
            all.push_str(&String::from_utf8_lossy(
                &std::fs::read(p).unwrap_or_default(),
            ));
        }
        all
    }
}

/// A temp folder and the workspace a run will use in it (a script may need its path).
pub fn workspace() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    (tmp, ws)
}

/// A repository with [`PLAN`], `cli` as the agent implementer pointed at `server`
/// through the proxy, and `planexec run plan/plan.md` run in it. `allow` is the
/// agent's allow list (`None`: the server's address).
pub fn run_preset(
    cli: &Cli,
    tmp: tempfile::TempDir,
    server_port: u16,
    allow: Option<&str>,
    max_cycles: u32,
) -> PresetRun {
    let ws = tmp.path().join("ws");
    std::fs::create_dir_all(&ws).unwrap();
    git_init(&ws);
    git(&ws, &["config", "commit.gpgsign", "false"]);
    write(&ws, "src/__init__.py", "");
    write(&ws, "tests/__init__.py", "");
    write(&ws, "plan/plan.md", PLAN);
    let server = format!("127.0.0.1:{server_port}");
    let allow = allow.map_or_else(|| format!("\"{server}\""), String::from);
    let read: Vec<String> = cli
        .read
        .iter()
        .map(|p| format!("{:?}", p.to_str().unwrap()))
        .collect();
    let program = cli.program.to_str().unwrap();
    let config = format!(
        "[policy]\ngrant = [\"python3\", \"git\", {program:?}]\nread = [{read}]\n\n\
         [policy.plugins.agent]\nnetwork = {{ allow = [{allow}] }}\n{policy}\n\
         [policy.secrets]\n{var} = {{ from_env = \"PLANEXEC_TEST_MODEL_KEY\", hosts = [\"{server}\"] }}\n\n\
         [run]\nimplementer = \"agent\"\nmax_cycles = {max_cycles}\ntask_gates = [\"pytest\"]\ntask_review = \"\"\ncode_review = \"\"\n\n\
         [gates.pytest]\nargs = [\"-q\", \"tests\"]\n\n\
         [implementers.agent]\npreset = \"{preset}\"\nprogram = {program:?}\ntimeout_ms = 180000\n{settings}\n",
        read = read.join(", "),
        policy = cli.policy,
        var = cli.key_var,
        preset = cli.preset,
        settings = cli.settings.replace("@URL@", &format!("http://{server}")),
    );
    write(&ws, "planexec.toml", &config);
    git(&ws, &["add", "."]);
    git(&ws, &["commit", "-q", "-m", "base and plan"]);
    let out = planexec_env(
        &ws,
        &["run", "plan/plan.md"],
        &[("PLANEXEC_TEST_MODEL_KEY", KEY)],
    );
    let record = saved_record(&ws, &out);
    PresetRun {
        _tmp: tmp,
        ws,
        out,
        record,
    }
}

/// The run record as saved in the repository's run state.
fn saved_record(ws: &Path, out: &Out) -> Value {
    let Ok(dir) = std::fs::read_dir(ws.join(".git/planexec/runs")) else {
        return json!({"none": format!("{out:?}")});
    };
    let Some(state) = dir
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "json"))
    else {
        return json!({"none": format!("{out:?}")});
    };
    let state: Value = serde_json::from_str(&std::fs::read_to_string(state).unwrap()).unwrap();
    state["record"].clone()
}

/// What every preset's run must show: two task commits with exactly their files,
/// T002 reworked once from the failing assertion (its prompt reached the model with
/// the test's file:line), every model request carrying the real key, and the key
/// nowhere in what planexec kept.
pub fn assert_plan_done(r: &PresetRun, server: &ModelServer) {
    let asked = server.model_requests();
    assert_eq!(r.out.code, 0, "{:?}\n{} model requests", r.out, asked.len());
    assert_eq!(
        r.commit_files("T001"),
        ["src/shout.py", "tests/test_shout.py"]
    );
    assert_eq!(
        r.commit_files("T002"),
        ["src/whisper.py", "tests/test_whisper.py"]
    );
    assert_eq!(r.cycles("T001").len(), 1, "{:#}", r.task("T001"));
    let t2 = r.cycles("T002");
    assert_eq!(t2.len(), 2, "{:#}", r.task("T002"));
    assert!(
        t2[0]["gates"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["report"]["outcome"] == "failed"),
        "{:#}",
        t2[0]
    );
    let rework: Vec<_> = asked
        .iter()
        .filter(|s| s.prompt.contains("Findings of the previous attempt"))
        .collect();
    assert!(
        !rework.is_empty(),
        "the rework prompt never reached the model"
    );
    assert!(
        rework[0].prompt.contains("tests/test_whisper.py:5"),
        "{}",
        rework[0].prompt
    );
    assert!(
        asked.iter().all(|s| s.keyed),
        "a model request without the real key"
    );
    // The rework touched only src/whisper.py and said so: no false unreported change.
    let c2 = t2[1].to_string();
    assert!(!c2.contains("implementer/unreported-change"), "{c2}");
    assert!(
        !r.everything_kept().contains(KEY),
        "the key reached what planexec kept"
    );
    assert!(!r.out.all().contains(KEY), "the key reached the terminal");
}

// ---------------------------------------------------------------- Claude Code

/// Claude Code 2.1.197 (a native binary), its tools `Write` with absolute paths.
fn claude() -> Cli {
    Cli {
        preset: "claude",
        program: npm_tool("claude", "claude"),
        read: vec![npm_root("claude")],
        key_var: "ANTHROPIC_API_KEY",
        settings: "env = { ANTHROPIC_BASE_URL = \"@URL@\" }\n".into(),
        policy: String::new(),
    }
}

/// Writes each file with Claude Code's `Write` tool (after a `Read` in the rework:
/// it refuses to overwrite a file it has not read), then reports.
fn claude_script(ws: PathBuf) -> impl Fn(&str) -> Vec<Turn> + Send + Sync {
    move |prompt| {
        let files = edits(prompt);
        let rework = prompt.contains("Findings of the previous attempt");
        let mut turns: Vec<Turn> = Vec::new();
        for (f, text) in &files {
            let path = ws.join(f);
            if rework {
                turns.push(Turn::call("Read", json!({ "file_path": path })));
            }
            turns.push(Turn::call(
                "Write",
                json!({"file_path": path, "content": text}),
            ));
        }
        turns.push(Turn::answer(&report(&files)));
        turns
    }
}

#[test]
fn claude_code_implements_a_plan_through_the_proxy_with_a_placeholder_key() {
    let (tmp, ws) = workspace();
    let server = ModelServer::start(KEY, claude_script(ws));
    let r = run_preset(&claude(), tmp, server.port, None, 3);
    assert_plan_done(&r, &server);
    // Its transcript is the stream of events: the tool calls are in it.
    let tp = r.cycles("T001")[0]["implementer"]["transcript_path"]
        .as_str()
        .unwrap()
        .to_string();
    let transcript = std::fs::read_to_string(r.ws.join(tp)).unwrap();
    assert!(
        transcript.contains("\"tool_use\"") && transcript.contains("\"Write\""),
        "{transcript}"
    );
}

// ---------------------------------------------------------------- Codex CLI

/// Codex CLI 0.171.0 (its Node launcher and native binary), the Responses API at a
/// provider of the user's own: `OPENAI_BASE_URL` is not read, `-c model_providers…` is.
fn codex() -> Cli {
    let provider = "model_providers.scripted={name=\"scripted\", base_url=\"@URL@/v1\", \
                    env_key=\"OPENAI_API_KEY\", wire_api=\"responses\", request_max_retries=1, stream_max_retries=0}";
    Cli {
        preset: "codex",
        program: npm_tool("codex", "codex"),
        read: vec![npm_root("codex")],
        key_var: "OPENAI_API_KEY",
        settings: format!(
            "extra_args = [\"-c\", \"model_provider=scripted\", \"-c\", {provider:?}, \"-c\", \"model=gpt-5-codex\"]\n"
        ),
        policy: String::new(),
    }
}

/// Writes each file with one `exec_command` (a shell here-document), then reports.
fn codex_script(prompt: &str) -> Vec<Turn> {
    let files = edits(prompt);
    let mut turns: Vec<Turn> = files
        .iter()
        .map(|(f, text)| {
            let dir = Path::new(f).parent().unwrap().display().to_string();
            let cmd = format!("mkdir -p {dir} && cat > {f} <<'PLANEXEC_EOF'\n{text}PLANEXEC_EOF");
            Turn::call("exec_command", json!({ "cmd": cmd }))
        })
        .collect();
    turns.push(Turn::answer(&report(&files)));
    turns
}

#[test]
fn codex_implements_a_plan_through_the_proxy_with_a_placeholder_key() {
    let (tmp, _) = workspace();
    let server = ModelServer::start(KEY, codex_script);
    let r = run_preset(&codex(), tmp, server.port, None, 3);
    assert_plan_done(&r, &server);
    assert!(server
        .model_requests()
        .iter()
        .all(|s| s.wire == Some(crate::model_server::Wire::Responses)));
}

// ---------------------------------------------------------------- item 4: fail at once

/// The execution logs beside the plan, as one text.
fn log_text(ws: &Path) -> String {
    walk(&ws.join("plan"))
        .into_iter()
        .filter(|p| !p.ends_with("plan.md"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

/// A run whose T001 blocked in its first cycle (three allowed) saying `want` on the
/// terminal, in the record's reason and in the execution log.
fn assert_blocked_at_once(r: &PresetRun, want: &str) {
    assert_eq!(r.out.code, 1, "{:?}", r.out);
    let t = r.task("T001");
    assert_eq!(t["status"], "blocked", "{t:#}");
    assert_eq!(
        t["cycles"].as_array().unwrap().len(),
        1,
        "not retried as rework: {t:#}"
    );
    let reason = t["blocked_reason"].as_str().unwrap();
    assert!(reason.contains(want), "{reason}");
    assert!(r.out.all().contains(want), "terminal: {:?}", r.out);
    assert!(log_text(&r.ws).contains(want), "log: {}", log_text(&r.ws));
}

#[test]
fn claude_refused_its_model_by_the_allow_list_stops_at_once_naming_the_host() {
    let (tmp, ws) = workspace();
    let server = ModelServer::start(KEY, claude_script(ws));
    let t0 = std::time::Instant::now();
    let r = run_preset(&claude(), tmp, server.port, Some("\"127.0.0.1:9\""), 3);
    eprintln!("refused model: the run ended after {:?}", t0.elapsed());
    let want = format!(
        "`claude` could not reach its model server: network: refused 127.0.0.1:{}: not in the allow list",
        server.port
    );
    assert_blocked_at_once(&r, &want);
    // Claude Code's own words are quoted too.
    let reason = r.task("T001")["blocked_reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(reason.contains("API Error"), "{reason}");
    assert!(server.model_requests().is_empty());
}

#[test]
fn claude_with_its_model_server_down_stops_at_once_saying_unreachable() {
    let (tmp, ws) = workspace();
    let server = ModelServer::start(KEY, claude_script(ws));
    // Listed, but nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cli = claude();
    cli.settings = format!("env = {{ ANTHROPIC_BASE_URL = \"http://127.0.0.1:{closed}\" }}\n");
    let allow = format!("\"127.0.0.1:{closed}\"");
    let t0 = std::time::Instant::now();
    let r = run_preset(&cli, tmp, server.port, Some(&allow), 3);
    eprintln!("unreachable model: the run ended after {:?}", t0.elapsed());
    assert_blocked_at_once(
        &r,
        &format!("network: refused 127.0.0.1:{closed}: unreachable from the host"),
    );
}

#[test]
fn an_unknown_flag_stops_the_task_at_once_quoting_the_cli() {
    let (tmp, ws) = workspace();
    let server = ModelServer::start(KEY, claude_script(ws));
    let mut cli = claude();
    cli.settings.push_str("extra_args = [\"--no-such-flag\"]\n");
    let r = run_preset(&cli, tmp, server.port, None, 3);
    assert_blocked_at_once(
        &r,
        "`claude` refused its command line: error: unknown option '--no-such-flag'",
    );
}

#[test]
fn a_variable_the_agent_may_not_set_fails_pre_flight_naming_the_line_and_what_it_may_set() {
    let (tmp, ws) = workspace();
    let server = ModelServer::start(KEY, claude_script(ws));
    let mut cli = claude();
    cli.settings =
        "env = { ANTHROPIC_BASE_URL = \"@URL@\", ANTHROPIC_AUTH_TOKEN = \"x\" }\n".into();
    let r = run_preset(&cli, tmp, server.port, None, 3);
    assert_ne!(r.out.code, 0, "{:?}", r.out);
    assert!(
        r.record.get("tasks").is_none(),
        "no run started: {:#}",
        r.record
    );
    let all = r.out.all();
    let line = std::fs::read_to_string(r.ws.join("planexec.toml"))
        .unwrap()
        .lines()
        .position(|l| l.starts_with("env = "))
        .unwrap()
        + 1;
    assert!(
        all.contains(&format!("planexec.toml:{line}: [implementers.agent] env: variable `ANTHROPIC_AUTH_TOKEN` may not be set by plugin `agent`: it may set only "))
            && all.contains("ANTHROPIC_BASE_URL")
            && all.contains("[policy.secrets]"),
        "{all}"
    );
    assert!(server.seen().is_empty(), "nothing ran");
}

// ---------------------------------------------------------------- Gemini CLI

/// Gemini CLI 0.61.0 (Node), `GOOGLE_GEMINI_BASE_URL` with the API-key auth its preset's
/// settings file selects; it reaches an http:// server through a CONNECT tunnel.
fn gemini() -> Cli {
    Cli {
        preset: "gemini",
        program: npm_tool("gemini", "gemini"),
        read: vec![npm_root("gemini")],
        key_var: "GEMINI_API_KEY",
        settings: "env = { GOOGLE_GEMINI_BASE_URL = \"@URL@\" }\n".into(),
        policy: String::new(),
    }
}

/// Writes each file with Gemini CLI's `write_file` (paths relative to the workspace).
fn gemini_script(prompt: &str) -> Vec<Turn> {
    let files = edits(prompt);
    let mut turns: Vec<Turn> = files
        .iter()
        .map(|(f, text)| Turn::call("write_file", json!({"file_path": f, "content": text})))
        .collect();
    turns.push(Turn::answer(&report(&files)));
    turns
}

#[test]
fn gemini_implements_a_plan_through_the_proxy_with_a_placeholder_key() {
    let (tmp, _) = workspace();
    let server = ModelServer::start(KEY, gemini_script);
    let r = run_preset(&gemini(), tmp, server.port, None, 3);
    assert_plan_done(&r, &server);
}

// ---------------------------------------------------------------- opencode

/// opencode 1.18.33 (a native binary), a provider of the user's own through its bundled
/// OpenAI-compatible SDK (chat completions), the key read from a placeholder variable.
fn opencode() -> Cli {
    let config = json!({
        "provider": {"scripted": {"npm": "@ai-sdk/openai-compatible", "name": "Scripted",
            "options": {"baseURL": "@URL@/v1", "apiKey": "{env:SCRIPTED_API_KEY}"},
            "models": {"m": {"name": "m"}}}},
        "model": "scripted/m",
    })
    .to_string();
    Cli {
        preset: "opencode",
        program: npm_tool("opencode", "opencode"),
        read: vec![npm_root("opencode")],
        key_var: "SCRIPTED_API_KEY",
        settings: format!("env = {{ OPENCODE_CONFIG_CONTENT = {config:?} }}\n"),
        policy: String::new(),
    }
}

/// Writes each file with opencode's `write` (absolute paths).
fn opencode_script(ws: PathBuf) -> impl Fn(&str) -> Vec<Turn> + Send + Sync {
    move |prompt| {
        let files = edits(prompt);
        let mut turns: Vec<Turn> = files
            .iter()
            .map(|(f, text)| Turn::call("write", json!({"filePath": ws.join(f), "content": text})))
            .collect();
        turns.push(Turn::answer(&report(&files)));
        turns
    }
}

#[test]
fn opencode_implements_a_plan_through_the_proxy_with_a_placeholder_key() {
    let (tmp, ws) = workspace();
    let server = ModelServer::start(KEY, opencode_script(ws));
    let r = run_preset(&opencode(), tmp, server.port, None, 3);
    assert_plan_done(&r, &server);
}

// ---------------------------------------------------------------- mini-swe-agent

/// mini-swe-agent 2.4.6 with its LiteLLM tool-calling model (chat completions), not its
/// offline `deterministic` one: the same plan through the proxy, the key a placeholder.
fn mini(tmp: &Path, port: u16) -> Cli {
    let venv = crate::agents::mini_venv();
    let yaml = std::fs::read_to_string(root().join("tests/fixtures/agents/mini/proxied.yaml"))
        .unwrap()
        .replace("@URL@", &format!("http://127.0.0.1:{port}"));
    let path = tmp.join("mini.yaml");
    std::fs::write(&path, yaml).unwrap();
    Cli {
        preset: "mini-swe-agent",
        program: venv.join("bin/mini"),
        read: vec![venv.clone(), tmp.to_path_buf()],
        key_var: "OPENAI_API_KEY",
        settings: format!(
            "extra_args = [\"-c\", {:?}]\nenv = {{ LITELLM_LOCAL_MODEL_COST_MAP = \"True\" }}\n",
            path.to_str().unwrap()
        ),
        policy: String::new(),
    }
}

/// Writes each file with one `bash` call, then submits the report.
fn mini_script(prompt: &str) -> Vec<Turn> {
    let files = edits(prompt);
    let mut turns: Vec<Turn> = files
        .iter()
        .map(|(f, text)| {
            let dir = Path::new(f).parent().unwrap().display().to_string();
            let cmd = format!("mkdir -p {dir} && cat > {f} <<'PLANEXEC_EOF'\n{text}PLANEXEC_EOF");
            Turn::call("bash", json!({ "command": cmd }))
        })
        .collect();
    let submit = format!(
        "cat <<'PLANEXEC_EOF'\nCOMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT\n{}PLANEXEC_EOF",
        report(&files)
    );
    turns.push(Turn::call("bash", json!({ "command": submit })));
    turns
}

#[test]
fn mini_swe_agent_with_a_served_model_implements_a_plan_through_the_proxy() {
    let (tmp, _) = workspace();
    let server = ModelServer::start(KEY, mini_script);
    let cli = mini(tmp.path(), server.port);
    let r = run_preset(&cli, tmp, server.port, None, 3);
    assert_plan_done(&r, &server);
}
