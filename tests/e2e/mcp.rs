//! Issue 29, `planexec mcp`: the official Python MCP SDK, as a scripted agent
//! (tests/data/mcp_agent.py), drives a 3-task plan on a real pytest project over stdio;
//! planexec decides, commits, rejects, blocks; a `run` with the patch implementer doing
//! the same edits ends the same; a server killed mid-submit loses nothing.

use crate::support::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The pinned client (also in scripts/setup.sh).
const MCP_VERSION: &str = "mcp==2.3.0";

fn client_python() -> PathBuf {
    static PY: OnceLock<PathBuf> = OnceLock::new();
    PY.get_or_init(|| {
        pinned_venv("mcp-client", MCP_VERSION, |d| {
            d.join("lib").exists() && has_mcp(d)
        })
        .join("bin/python")
    })
    .clone()
}

fn has_mcp(venv: &Path) -> bool {
    Command::new(venv.join("bin/python"))
        .args(["-c", "import mcp"])
        .status()
        .is_ok_and(|s| s.success())
}

const CART: &str = "def count(items):\n    return len(items)\n";
const TOTAL_TEST: &str = "from shop.cart import total\n\n\ndef test_total_adds_prices():\n    assert total([2, 3]) == 5\n";
const DISCOUNT: &str = "def discount(price, percent):\n    return price - price * percent / 100\n";
const DISCOUNT_TEST: &str = "from shop.discount import discount\n\n\ndef test_ten_percent_off():\n    assert discount(50, 10) == 45\n";

fn cart_with_total(body: &str) -> String {
    format!("{CART}\n\ndef total(prices):\n    return {body}\n")
}

/// The agent's attempts: T001 wrong (off by one) then right, T002 right, T003 escalated.
fn scenario() -> Value {
    json!({ "tasks": {
        "T001": { "attempts": [
            { "shop/cart.py": cart_with_total("sum(prices) + 1"), "tests/test_total.py": TOTAL_TEST },
            { "shop/cart.py": cart_with_total("sum(prices)") },
        ]},
        "T002": { "attempts": [
            { "shop/discount.py": DISCOUNT, "tests/test_discount.py": DISCOUNT_TEST },
        ]},
        "T003": { "attempts": [], "escalate": "the plan does not say how to round cents; ask the person" },
    }})
}

const PLAN: &str = "# Plan: shop\n\n## Tasks\n\n\
### T001: Cart total\n**Summary**: Add total(prices) to the cart.\n**Dependencies**: none\n\
**Files/modules touched**: shop/cart.py, tests/test_total.py\n\
**Acceptance test**: `python3 -m pytest -q tests/test_total.py`\n\n\
### T002: Discount\n**Summary**: Add discount(price, percent).\n**Dependencies**: T001\n\
**Files/modules touched**: shop/discount.py, tests/test_discount.py\n\
**Acceptance test**: `python3 -m pytest -q tests/test_discount.py`\n\n\
### T003: Money format\n**Summary**: Format amounts as currency.\n**Dependencies**: T002\n\
**Files/modules touched**: shop/money.py\n\
**Acceptance test**: `python3 -m pytest -q tests`\n";

/// The shop project as a git repository with the plan; `patches` go to plan/patches/.
fn project(dir: &Path, patches: &[(&str, String)]) -> PathBuf {
    let ws = dir.to_path_buf();
    write(&ws, "shop/__init__.py", "");
    write(&ws, "shop/cart.py", CART);
    write(
        &ws,
        "tests/test_cart.py",
        "from shop.cart import count\n\n\ndef test_count():\n    assert count([1, 2]) == 2\n",
    );
    write(&ws, "plan/plan.md", PLAN);
    write(&ws, ".gitignore", ".pytest_cache/\n__pycache__/\n");
    write(
        &ws,
        "planexec.toml",
        "[policy]\ngrant = [\"python3\", \"git\"]\n[gates.pytest]\n[run]\nimplementer = \"patch\"\ntask_gates = [\"pytest\"]\nmax_cycles = 3\ncode_review = \"\"\n",
    );
    for (name, text) in patches {
        write(&ws, &format!("plan/patches/{name}"), text);
    }
    git_init(&ws);
    git(&ws, &["add", "."]);
    git(&ws, &["commit", "-qm", "shop"]);
    ws
}

/// Runs the scripted agent against `planexec mcp plan/plan.md` in `ws`; its log.
fn drive(ws: &Path, scenario: &Value, env: &[(&str, &str)]) -> Vec<Value> {
    let dir = ws.parent().unwrap();
    let (sc, out) = (dir.join("scenario.json"), dir.join("agent-log.json"));
    std::fs::write(&sc, scenario.to_string()).unwrap();
    let mut c = Command::new(client_python());
    c.arg(root().join("tests/data/mcp_agent.py"))
        .arg(env!("CARGO_BIN_EXE_planexec"))
        .arg(ws)
        .arg("plan/plan.md")
        .args([&sc, &out])
        .current_dir(ws);
    test_env(&mut c);
    for (k, v) in env {
        c.env(k, v);
    }
    let o = output_of(c);
    assert_eq!(o.code, 0, "the agent failed:\n{}", o.all());
    serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap()
}

fn calls<'a>(log: &'a [Value], tool: &str) -> Vec<&'a Value> {
    log.iter().filter(|e| e["tool"] == tool).collect()
}

fn record(ws: &Path) -> Value {
    let dir = ws.join(".git/planexec/runs");
    let f = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .expect("a run state");
    let st: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
    st["record"].clone()
}

/// Subject and files of each commit, newest first.
fn history(ws: &Path) -> Vec<(String, Vec<String>)> {
    let subjects = git(ws, &["log", "--format=%H %s"]);
    subjects
        .lines()
        .map(|l| {
            let (sha, subject) = l.split_once(' ').unwrap();
            let files = git(ws, &["show", "--name-only", "--format=", sha]);
            (
                subject.to_string(),
                files.lines().map(String::from).collect(),
            )
        })
        .collect()
}

/// What a task's record says, without what differs between implementers (names,
/// summaries, times, commit ids).
fn task_view(rec: &Value, id: &str) -> Value {
    let t = rec["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id)
        .unwrap();
    let cycles: Vec<Value> = t["cycles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let gates: Vec<Value> = c["gates"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| json!([g["name"], g["report"]["outcome"]]))
                .collect();
            let rules: Vec<&Value> = c["feedback"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| &f["rule"])
                .collect();
            json!({ "outcome": c["outcome"], "files": c["files"], "gates": gates, "feedback": rules,
                    "added": c["added_lines"], "removed": c["removed_lines"] })
        })
        .collect();
    json!({ "status": t["status"], "cycles": cycles })
}

/// The patch that turns `ws`'s work tree into the same tree with `files` written.
fn patch_of(ws: &Path, files: &Value) -> String {
    for (rel, text) in files.as_object().unwrap() {
        write(ws, rel, text.as_str().unwrap());
    }
    git(ws, &["add", "-A", "-N", "."]);
    let p = git(ws, &["diff"]);
    git(ws, &["add", "-A", "."]);
    p
}

/// The scenario's edits as the patch implementer's files (`T001.patch`, `T001.2.patch`, ...).
fn scenario_patches(dir: &Path) -> Vec<(&'static str, String)> {
    let s = scenario();
    let scratch = project(&dir.join("scratch"), &[]);
    let a = &s["tasks"]["T001"]["attempts"];
    vec![
        ("T001.patch", patch_of(&scratch, &a[0])),
        ("T001.2.patch", patch_of(&scratch, &a[1])),
        (
            "T002.patch",
            patch_of(&scratch, &s["tasks"]["T002"]["attempts"][0]),
        ),
    ]
}

#[test]
fn an_agent_over_mcp_works_the_plan_and_planexec_decides() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = project(&tmp.path().join("ws"), &[]);
    let mut s = scenario();
    s["probe"] = json!(true);
    let log = drive(&ws, &s, &[]);

    // The tools: few and small.
    let list = calls(&log, "tools/list")[0];
    let mut names: Vec<&str> = list["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["escalate", "next_task", "status", "submit"]);
    let tokens = list["tokens_estimate"].as_u64().unwrap();
    println!(
        "tool list: {} tools, {} bytes, about {tokens} tokens (bytes / 4)",
        names.len(),
        list["bytes"]
    );
    assert!(tokens < 2000, "the tool list is {tokens} tokens");

    // The brief carries the plan's text, files and acceptance commands.
    let first = &calls(&log, "next_task")[0]["result"]["task"];
    assert_eq!(first["task_id"], "T001");
    assert_eq!(
        first["files"],
        json!(["shop/cart.py", "tests/test_total.py"])
    );
    assert_eq!(
        first["acceptance_commands"],
        json!(["python3 -m pytest -q tests/test_total.py"])
    );

    // A submission for another task than the one in progress is refused, nothing run.
    let submits = calls(&log, "submit");
    let probe = submits[0];
    assert_eq!(probe["args"]["task_id"], "T002");
    assert!(probe["error"].as_bool().unwrap(), "{probe}");
    assert!(
        probe["text"]
            .as_str()
            .unwrap()
            .contains("T002 is not the task in progress (T001 is)"),
        "{probe}"
    );
    let submits = &submits[1..];

    // The wrong change is rejected with the failing assertion, named and placed.
    let wrong = &submits[0]["result"];
    assert_eq!(wrong["outcome"], "rejected", "{wrong}");
    let test_finding = wrong["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["rule"] == "gate/pytest/test"
                && f["message"]
                    .as_str()
                    .unwrap()
                    .contains("test_total_adds_prices")
        })
        .unwrap_or_else(|| panic!("no finding names the failing test: {wrong}"));
    assert!(
        test_finding["message"].as_str().unwrap().contains("assert"),
        "{test_finding}"
    );
    assert_eq!(
        test_finding["path"], "tests/test_total.py",
        "{test_finding}"
    );
    assert!(test_finding["line"].as_u64().is_some(), "{test_finding}");
    // The next brief carries the same findings.
    let second = &calls(&log, "next_task")[1]["result"]["task"];
    assert_eq!(second["cycle"], 2);
    assert_eq!(second["feedback"], wrong["findings"]);

    // The fix is committed with exactly the task's files; T002 too.
    let fixed = &submits[1]["result"];
    assert_eq!(fixed["outcome"], "done", "{fixed}");
    assert_eq!(
        fixed["files"],
        json!(["shop/cart.py", "tests/test_total.py"])
    );
    assert_eq!(submits[2]["result"]["outcome"], "done", "{}", submits[2]);
    let progress: Vec<&Value> = calls(&log, "progress");
    assert!(
        progress.iter().any(|p| p["message"]
            .as_str()
            .unwrap_or("")
            .contains("acceptance:T001#1")),
        "no progress notification named the acceptance gate: {progress:?}"
    );

    // Escalation: blocked in the answer, the record and the log; the run stops there.
    let esc = &calls(&log, "escalate")[0]["result"];
    assert_eq!(esc["outcome"], "blocked", "{esc}");
    assert!(
        esc["message"].as_str().unwrap().contains("round cents"),
        "{esc}"
    );
    assert_eq!(
        calls(&log, "next_task").last().unwrap()["result"]["state"],
        "blocked"
    );
    let status = &calls(&log, "status")[0]["result"];
    assert_eq!(status["tasks"][2]["status"], "blocked", "{status}");
    let rec = record(&ws);
    assert_eq!(rec["status"], "blocked");
    let t3 = &rec["tasks"][2];
    assert!(
        t3["blocked_reason"]
            .as_str()
            .unwrap()
            .contains("round cents"),
        "{t3}"
    );
    let log_text = std::fs::read_to_string(ws.join(rec["log_path"].as_str().unwrap())).unwrap();
    assert!(
        log_text.contains("round cents"),
        "the execution log does not say why T003 blocked"
    );

    // The same edits by the patch implementer under `run`: same history, record and outcome.
    let other = project(&tmp.path().join("patch"), &scenario_patches(tmp.path()));
    let out = planexec(&other, &["run", "plan/plan.md"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let (h_mcp, h_run) = (history(&ws), history(&other));
    assert_eq!(h_mcp[..2], h_run[..2], "the task commits differ");
    assert_eq!(h_mcp.len(), h_run.len(), "histories differ");
    assert_eq!(tree(&ws), tree(&other), "the trees after T002 differ");
    let rec_run = record(&other);
    for id in ["T001", "T002"] {
        assert_eq!(
            task_view(&rec, id),
            task_view(&rec_run, id),
            "{id}'s records differ"
        );
    }
    assert_eq!(rec_run["tasks"][2]["status"], "blocked");
    let log_run =
        std::fs::read_to_string(other.join(rec_run["log_path"].as_str().unwrap())).unwrap();
    assert_eq!(
        log_outline(&log_text),
        log_outline(&log_run),
        "the logs' T001 and T002 differ"
    );

    // A run started over MCP continues under `run --resume` (the person decided T003).
    let money = "diff --git a/shop/money.py b/shop/money.py\nnew file mode 100644\n--- /dev/null\n+++ b/shop/money.py\n@@ -0,0 +1,2 @@\n+def money(cents):\n+    return f\"{cents // 100}.{cents % 100:02d}\"\n";
    write(&ws, "plan/patches/T003.patch", money);
    git(&ws, &["add", "plan/patches"]);
    git(&ws, &["commit", "-qm", "T003 decided"]);
    let out = planexec(
        &ws,
        &["run", "plan/plan.md", "--resume", "--implementer", "patch"],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(record(&ws)["status"], "success");
}

/// HEAD's files and blob ids, the patch implementer's inputs (plan/patches) left out.
fn tree(ws: &Path) -> Vec<String> {
    git(ws, &["ls-tree", "-r", "HEAD"])
        .lines()
        .filter(|l| !l.contains("plan/patches/"))
        .map(String::from)
        .collect()
}

/// The log's sections for T001 and T002, with commit ids, times, durations and the
/// implementer's line (its name and summary) masked.
fn log_outline(log: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for l in log.lines() {
        if l.starts_with("### ") {
            inside = l.starts_with("### T001") || l.starts_with("### T002");
        }
        if inside && !l.starts_with("- Implementer:") {
            out.push(mask(l));
        }
    }
    out
}

fn mask(line: &str) -> String {
    let re = regex::Regex::new(
        r"[0-9a-f]{7,40}|\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)?Z|\(\d+s\)|\d+(\.\d+)? ?m?s\b",
    )
    .unwrap();
    re.replace_all(line, "_").into_owned()
}

#[test]
fn killing_the_server_mid_submit_loses_nothing_and_commits_once() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = project(&tmp.path().join("ws"), &[]);
    let slow = "import time\n\nfrom shop.cart import total\n\n\ndef test_total_adds_prices():\n    time.sleep(2)\n    assert total([2, 3]) == 5\n";
    let mut s = scenario();
    s["tasks"]["T001"]["attempts"] =
        json!([{ "shop/cart.py": cart_with_total("sum(prices)"), "tests/test_total.py": slow }]);
    s["tasks"]["T003"] =
        json!({ "attempts": [{ "shop/money.py": "def money(cents):\n    return str(cents)\n" }] });
    s["kill_on_progress"] = json!("T001");
    let log = drive(&ws, &s, &[("PLANEXEC_TEST_MCP_HEARTBEAT_MS", "500")]);
    assert_eq!(
        calls(&log, "killed").len(),
        1,
        "the server was never killed: {log:?}"
    );
    assert_eq!(calls(&log, "session-ended").len(), 1);
    assert_eq!(
        calls(&log, "next_task").last().unwrap()["result"]["state"],
        "done",
        "{log:?}"
    );
    // The slow gate of the second submission said it was still running.
    assert!(
        calls(&log, "progress").iter().any(|p| p["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("still running: gate")),
        "no heartbeat while the slow gate ran: {log:?}"
    );
    let t001: Vec<_> = history(&ws)
        .into_iter()
        .filter(|(s, _)| s.starts_with("T001:"))
        .collect();
    assert_eq!(t001.len(), 1, "T001 committed {} times", t001.len());
    let rec = record(&ws);
    assert_eq!(rec["status"], "success");
    assert!(
        rec["issues"].as_array().unwrap().iter().any(|i| i["issue"]
            .as_str()
            .unwrap()
            .contains("interrupted during T001")),
        "the recovery is not in the record: {}",
        rec["issues"]
    );
}

/// The server dies (SIGKILL, `PLANEXEC_TEST_KILL_AT`) right after T001's commit landed and
/// before its state was saved: the next server adopts the commit, never makes it again.
#[test]
fn a_server_killed_after_the_commit_adopts_it_and_never_commits_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = project(&tmp.path().join("ws"), &[]);
    let mut s = scenario();
    s["tasks"]["T001"]["attempts"] = json!([{ "shop/cart.py": cart_with_total("sum(prices)"), "tests/test_total.py": TOTAL_TEST }]);
    s["tasks"]["T003"] =
        json!({ "attempts": [{ "shop/money.py": "def money(cents):\n    return str(cents)\n" }] });
    s["dies_once"] = json!(true);
    // The 7th transition is the one just after T001's commit (start, in progress, gates,
    // in review, red-green, review, commit).
    let log = drive(&ws, &s, &[("PLANEXEC_TEST_KILL_AT", "7")]);
    assert_eq!(
        calls(&log, "session-ended").len(),
        1,
        "the server did not die: {log:?}"
    );
    let rec = record(&ws);
    assert!(
        rec["issues"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["resolution"]
                .as_str()
                .unwrap()
                .contains("had landed; adopted")),
        "the kill did not fall between the commit and its save: {}",
        rec["issues"]
    );
    let t001 = history(&ws)
        .into_iter()
        .filter(|(s, _)| s.starts_with("T001:"))
        .count();
    assert_eq!(t001, 1, "T001 committed {t001} times");
    assert_eq!(rec["status"], "success");
    // The agent's second session went straight on to T002.
    let briefs: Vec<&Value> = calls(&log, "next_task")
        .into_iter()
        .map(|c| &c["result"]["task"]["task_id"])
        .collect();
    assert_eq!(
        briefs,
        [&json!("T001"), &json!("T002"), &json!("T003"), &Value::Null]
    );
}

/// A submission over the plan's tolerance is not gated: the task is blocked and the
/// answer says which tolerance, so the agent stops and asks.
#[test]
fn a_tolerance_breach_blocks_and_the_submit_answer_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = project(&tmp.path().join("ws"), &[]);
    write(
        &ws,
        "plan/plan.md",
        &PLAN.replace(
            "## Tasks",
            "## Tolerances\n\n- At most 1 file per task.\n\n## Tasks",
        ),
    );
    git(&ws, &["commit", "-qam", "tolerance"]);
    let log = drive(&ws, &scenario(), &[]);
    let answer = &calls(&log, "submit")[0]["result"];
    assert_eq!(answer["outcome"], "blocked", "{answer}");
    let message = answer["message"].as_str().unwrap();
    assert!(
        message.contains("tolerance breached: the task changed 2 files, more than 1"),
        "{message}"
    );
    assert!(
        calls(&log, "progress").is_empty(),
        "gates ran on a breach: {log:?}"
    );
    assert_eq!(
        calls(&log, "next_task").last().unwrap()["result"]["state"],
        "blocked"
    );
    assert_eq!(history(&ws).len(), 2, "something was committed");
}

/// Each client's snippet parses in its format and names the plan absolutely; the Claude
/// Code one, started by the client from another folder, serves the plan.
#[test]
fn print_config_gives_each_client_a_snippet_that_starts_the_server_from_anywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = project(&tmp.path().join("ws"), &[]);
    let plan = ws.join("plan/plan.md").canonicalize().unwrap();
    let plan = plan.to_str().unwrap();
    let mut snippets = std::collections::BTreeMap::new();
    for client in ["claude", "codex", "gemini", "cursor", "vscode"] {
        let out = planexec(&ws, &["mcp", "plan/plan.md", "--print-config", client]);
        assert_eq!(out.code, 0, "{}", out.all());
        let v: Value = if client == "codex" {
            let t: toml::Table = out.stdout.parse().unwrap();
            serde_json::to_value(&t["mcp_servers"]["planexec"]).unwrap()
        } else {
            let v: Value = serde_json::from_str(&out.stdout).unwrap();
            let key = if client == "vscode" {
                "servers"
            } else {
                "mcpServers"
            };
            v[key]["planexec"].clone()
        };
        assert_eq!(v["args"], json!(["mcp", plan]), "{client}: {v}");
        snippets.insert(client, v);
    }
    assert_eq!(snippets["vscode"]["type"], "stdio");
    let out = planexec(&ws, &["mcp", "--print-config", "claude"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("needs the plan"), "{}", out.stderr);

    let claude = &snippets["claude"];
    let mut command = vec![claude["command"].as_str().unwrap().to_string()];
    command.extend(
        claude["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string()),
    );
    let mut s = scenario();
    s["tasks"]["T001"]["attempts"] = json!([{ "shop/cart.py": cart_with_total("sum(prices)"), "tests/test_total.py": TOTAL_TEST }]);
    s["tasks"]["T002"] = json!({ "attempts": [], "escalate": "stop here" });
    s["command"] = json!(command);
    s["server_cwd"] = json!("/");
    let log = drive(&ws, &s, &[]);
    assert_eq!(
        calls(&log, "submit")[0]["result"]["outcome"],
        "done",
        "{log:?}"
    );
    assert_eq!(
        calls(&log, "escalate")[0]["result"]["outcome"],
        "blocked",
        "{log:?}"
    );
}

// ---------------------------------------------------------------- a real agent CLI as the client

/// Claude Code's turns for the shop plan, one per tool result it has got: each task's
/// brief, its files written, `submit`; T001's first attempt is wrong and fixed after the
/// rejection; T003 is escalated. MCP tools reach the model as `mcp__planexec__NAME`.
fn claude_turns(ws: &Path) -> Vec<crate::model_server::Turn> {
    use crate::model_server::Turn;
    let write = |f: &str, text: &str| {
        Turn::call("Write", json!({ "file_path": ws.join(f), "content": text }))
    };
    let tool = |name: &str, args: Value| Turn::call(&format!("mcp__planexec__{name}"), args);
    vec![
        tool("next_task", json!({})),
        // Claude Code writes a file it has not read only after reading it.
        Turn::call("Read", json!({ "file_path": ws.join("shop/cart.py") })),
        write("shop/cart.py", &cart_with_total("sum(prices) + 1")),
        write("tests/test_total.py", TOTAL_TEST),
        tool("submit", json!({ "task_id": "T001" })),
        Turn::call("Read", json!({ "file_path": ws.join("shop/cart.py") })),
        write("shop/cart.py", &cart_with_total("sum(prices)")),
        tool(
            "submit",
            json!({ "task_id": "T001", "notes": "fixed the off-by-one" }),
        ),
        tool("next_task", json!({})),
        write("shop/discount.py", DISCOUNT),
        write("tests/test_discount.py", DISCOUNT_TEST),
        tool("submit", json!({ "task_id": "T002" })),
        tool("next_task", json!({})),
        tool(
            "escalate",
            json!({ "task_id": "T003", "reason": "the plan does not say how to round cents" }),
        ),
        Turn::answer("T001 and T002 are committed; T003 waits for the person."),
    ]
}

#[test]
fn claude_code_as_the_mcp_client_works_the_plan_and_planexec_decides() {
    // Issue 29: a real agent CLI (Claude Code 2.1.197, pinned by scripts/setup.sh) with
    // `--mcp-config` naming `planexec mcp`, its model a scripted server on 127.0.0.1.
    const KEY: &str = "sk-scripted-mcp-5d2c";
    const ASK: &str = "Work the plan with the planexec tools until none is left.";
    let tmp = tempfile::tempdir().unwrap();
    let ws = project(&tmp.path().join("shop"), &[]);
    let turns = claude_turns(&ws);
    let server = crate::model_server::ModelServer::start(KEY, move |prompt| {
        if prompt.contains(ASK) {
            turns.clone()
        } else {
            vec![crate::model_server::Turn::answer("ok")]
        }
    });
    // The snippet `--print-config claude` prints, with the test's environment for the server.
    let snippet = planexec(&ws, &["mcp", "plan/plan.md", "--print-config", "claude"]);
    assert_eq!(snippet.code, 0, "{snippet:?}");
    let mut config: Value = serde_json::from_str(&snippet.stdout).unwrap();
    let mut probe = Command::new("true");
    test_env(&mut probe);
    let env: serde_json::Map<String, Value> = probe
        .get_envs()
        .filter_map(|(k, v)| Some((k.to_str()?.to_string(), json!(v?.to_str()?))))
        .collect();
    config["mcpServers"]["planexec"]["env"] = Value::Object(env);
    let config_path = tmp.path().join("mcp.json");
    std::fs::write(&config_path, config.to_string()).unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();

    let mut c = Command::new(crate::presets::npm_tool("claude", "claude"));
    c.args([
        "-p",
        ASK,
        "--output-format",
        "json",
        "--no-session-persistence",
    ])
    .arg("--mcp-config")
    .arg(&config_path)
    .args(["--strict-mcp-config", "--permission-mode", "acceptEdits"])
    .args(["--allowedTools", "Read,Write,mcp__planexec"])
    .current_dir(&ws)
    .env_clear()
    .env("PATH", std::env::var("PATH").unwrap_or_default())
    .env("HOME", &home)
    .env(
        "ANTHROPIC_BASE_URL",
        format!("http://127.0.0.1:{}", server.port),
    )
    .env("ANTHROPIC_API_KEY", KEY)
    .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
    .env("CLAUDE_CODE_MAX_RETRIES", "2");
    let out = output_of(c);
    let asked = server.model_requests();
    assert_eq!(out.code, 0, "{out:?}\n{} model requests", asked.len());

    // What planexec decided, from its own evidence: T001 rejected once then committed
    // with exactly its files, T002 committed, T003 blocked with the agent's reason.
    let rec = record(&ws);
    let t1 = task_view(&rec, "T001");
    assert_eq!(rec["tasks"][0]["status"], "done", "{t1:#}");
    assert_eq!(
        rec["tasks"][0]["cycles"].as_array().unwrap().len(),
        2,
        "{t1:#}"
    );
    assert_eq!(rec["tasks"][1]["status"], "done", "{:#}", rec["tasks"][1]);
    assert_eq!(
        rec["tasks"][2]["status"], "blocked",
        "{:#}",
        rec["tasks"][2]
    );
    assert!(
        rec["tasks"][2]["blocked_reason"]
            .as_str()
            .unwrap_or_default()
            .contains("round cents"),
        "{:#}",
        rec["tasks"][2]
    );
    let commits = history(&ws);
    let files_of = |id: &str| {
        commits
            .iter()
            .find(|(m, _)| m.starts_with(&format!("{id}: ")))
            .map(|(_, f)| f.clone())
            .unwrap_or_else(|| panic!("no {id} commit: {commits:?}"))
    };
    assert_eq!(files_of("T001"), ["shop/cart.py", "tests/test_total.py"]);
    assert_eq!(
        files_of("T002"),
        ["shop/discount.py", "tests/test_discount.py"]
    );
    // The rejection reached the model as the submit tool's result: the failing assertion.
    let rejected = asked.iter().find(|s| s.step == 5).unwrap_or_else(|| {
        panic!(
            "no request after the first submit: {} requests",
            asked.len()
        )
    });
    assert!(
        rejected.body.contains("rejected") && rejected.body.contains("tests/test_total.py"),
        "{}",
        rejected.body
    );
}
