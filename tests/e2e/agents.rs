//! Issue 17, end to end: a real third-party agent CLI (mini-swe-agent, its
//! `deterministic` model: scripted, offline, free) implements a 2-task plan through
//! the real planexec binary, in a temp git repository, in the box.
//! The first attempt of T002 fails its test; the cycle-2 prompt carries the failing
//! assertion and its location; the rework passes; two task commits with exactly
//! their files. Also: a claimed file that did not change, a commit of the agent's
//! own (undone into the work tree), and the box keeping a host secret and `.git/` from it.
//!
//! And aider against a scripted OpenAI-compatible server on 127.0.0.1 (the same plan),
//! reached through planexec's proxy with a placeholder key (tests/e2e/model_server.rs).
//! Both CLIs are installed once into venvs under the target dir (pinned).

use crate::model_server::{ModelServer, Turn};
use crate::support::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const MINI_VERSION: &str = "mini-swe-agent==2.4.6";

/// The venv holding mini-swe-agent (installed on first use; `.ci/run` installs it ahead).
pub(crate) fn mini_venv() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        pinned_venv("mini-swe-agent", MINI_VERSION, |d| {
            d.join("bin/mini").exists()
        })
    })
    .clone()
}

fn git_init(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["config", "user.email", "tests@planexec.invalid"]);
    git(dir, &["config", "user.name", "planexec tests"]);
    git(dir, &["config", "commit.gpgsign", "false"]);
}

struct Run {
    _tmp: tempfile::TempDir,
    ws: PathBuf,
    capture: PathBuf,
    out: Out,
    record: Value,
}

impl Run {
    fn task(&self, id: &str) -> &Value {
        self.record["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == id)
            .unwrap_or_else(|| panic!("no task {id}: {:?}", self.out))
    }
    fn cycles(&self, id: &str) -> &Vec<Value> {
        self.task(id)["cycles"].as_array().unwrap()
    }
    fn prompt(&self, id: &str, cycle: u32) -> String {
        let p = self.capture.join(format!("{id}.{cycle}.md"));
        std::fs::read_to_string(&p)
            .unwrap_or_else(|e| panic!("{}: {e}\n{:?}", p.display(), self.out))
    }
    fn commit_files(&self, id: &str) -> Vec<String> {
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
}

const PLAN: &str = "# Greetings\n\n## Constraints\n\n- Standard library only.\n\n## Tolerances\n\n- At most 3 files per task.\n\n## Tasks\n\n\
### T001: Add shout\n**Summary**: Add shout().\n**Dependencies**: none\n**Files/modules touched**: src/shout.py, tests/test_shout.py\n**Acceptance test**: `python3 -m pytest -q tests/test_shout.py`\n\n\
### T002: Add whisper\n**Summary**: Add whisper().\n**Dependencies**: T001\n**Files/modules touched**: src/whisper.py, tests/test_whisper.py\n**Acceptance test**: `python3 -m pytest -q tests/test_whisper.py`\n\n";

/// A repo with the plan, mini-swe-agent as the implementer with `script` as its
/// scripted model's hands, and `planexec run plan/plan.md ARGS` run in it.
fn run(plan: &str, script: &str, max_cycles: u32, args: &[&str], env: &[(&str, &str)]) -> Run {
    run_reviewed(plan, script, max_cycles, args, env, None, "")
}

/// [`run`] with mini-swe-agent as the code reviewer too, its review script in `mode`,
/// and `task_review` as the task reviewer ("": none).
fn run_reviewed(
    plan: &str,
    script: &str,
    max_cycles: u32,
    args: &[&str],
    env: &[(&str, &str)],
    review_mode: Option<&str>,
    task_review: &str,
) -> Run {
    let extra = Extra::default();
    run_full(
        plan,
        script,
        max_cycles,
        args,
        env,
        review_mode,
        task_review,
        &extra,
    )
}

/// More of planexec.toml, and what each scripted model turn reports it cost
/// (the implementer's, and the code reviewer's one turn).
#[derive(Default)]
struct Extra {
    toml: &'static str,
    turn_cost: f64,
    review_cost: f64,
}

#[allow(clippy::too_many_arguments)]
fn run_full(
    plan: &str,
    script: &str,
    max_cycles: u32,
    args: &[&str],
    env: &[(&str, &str)],
    review_mode: Option<&str>,
    task_review: &str,
    extra: &Extra,
) -> Run {
    let venv = mini_venv();
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    let agent_dir = tmp.path().join("agent");
    let capture = tmp.path().join("capture");
    std::fs::create_dir_all(&agent_dir).unwrap();
    std::fs::create_dir_all(&capture).unwrap();
    let fixtures = root().join("tests/fixtures/agents/mini");
    std::fs::copy(fixtures.join(script), agent_dir.join(script)).unwrap();
    let yaml = std::fs::read_to_string(fixtures.join("scripted.yaml"))
        .unwrap()
        .replace("@CAPTURE@", capture.to_str().unwrap())
        .replace("@SCRIPT@", agent_dir.join(script).to_str().unwrap())
        .replace(
            "      extra:\n",
            &format!("      extra:\n        cost: {}\n", extra.turn_cost),
        );
    std::fs::write(agent_dir.join("mini.yaml"), yaml).unwrap();
    let mut reviewer = String::new();
    if let Some(mode) = review_mode {
        let replies = agent_dir.join("replies");
        std::fs::create_dir_all(&replies).unwrap();
        for (from, name) in [
            ("tests/fixtures/fake-agent/replies", "code-pass.md"),
            (
                "tests/fixtures/agents/replies",
                "code-changes-debug-print.md",
            ),
        ] {
            std::fs::copy(root().join(from).join(name), replies.join(name)).unwrap();
        }
        std::fs::copy(fixtures.join("review.sh"), agent_dir.join("review.sh")).unwrap();
        let yaml = std::fs::read_to_string(fixtures.join("reviewer.yaml"))
            .unwrap()
            .replace("@SCRIPT@", agent_dir.join("review.sh").to_str().unwrap())
            .replace("@MODE@", mode)
            .replace("@REPLIES@", replies.to_str().unwrap())
            .replace(
                "      extra:\n",
                &format!("      extra:\n        cost: {}\n", extra.review_cost),
            );
        let path = agent_dir.join("reviewer.yaml");
        std::fs::write(&path, yaml).unwrap();
        reviewer = format!(
            "\n[reviewers.agent-review]\npreset = \"mini-swe-agent\"\nprogram = {:?}\nextra_args = [\"-c\", {:?}]\ntimeout_ms = 120000\n",
            venv.join("bin/mini").to_str().unwrap(),
            path.to_str().unwrap()
        );
    }
    let code_review = if review_mode.is_some() {
        "agent-review"
    } else {
        ""
    };

    git_init(&ws);
    write(&ws, "src/__init__.py", "");
    write(&ws, "tests/__init__.py", "");
    write(&ws, "plan/plan.md", plan);
    let mini = venv.join("bin/mini");
    let config = format!(
        "[policy]\ngrant = [\"python3\", \"git\", {mini:?}]\nread = [{venv:?}, {agent:?}]\nwrites = [{capture:?}]\n\n\
         [run]\nimplementer = \"agent\"\nmax_cycles = {max_cycles}\ntask_gates = [\"pytest\"]\ntask_review = {task_review:?}\ncode_review = {code_review:?}\n\n\
         [gates.pytest]\nargs = [\"-q\", \"tests\"]\nallow_no_tests = true\n\n\
         [implementers.agent]\npreset = \"mini-swe-agent\"\nprogram = {mini:?}\nextra_args = [\"-c\", {yaml:?}]\ntimeout_ms = 120000\n{reviewer}\n{more}",
        mini = mini.to_str().unwrap(),
        venv = venv.to_str().unwrap(),
        agent = agent_dir.to_str().unwrap(),
        capture = capture.to_str().unwrap(),
        yaml = agent_dir.join("mini.yaml").to_str().unwrap(),
        task_review = task_review,
        more = extra.toml,
    );
    write(&ws, "planexec.toml", &config);
    git(&ws, &["add", "."]);
    git(&ws, &["commit", "-q", "-m", "base and plan"]);

    let mut a = vec!["run", "plan/plan.md"];
    a.extend_from_slice(args);
    let out = planexec_env(&ws, &a, env);
    let record = saved_record(&ws, &out);
    Run {
        _tmp: tmp,
        ws,
        capture,
        out,
        record,
    }
}

/// The run record as saved in the repository's run state.
fn saved_record(ws: &Path, out: &Out) -> Value {
    let state = std::fs::read_dir(ws.join(".git/planexec/runs"))
        .unwrap_or_else(|e| panic!("no run records ({e}): {out:?}"))
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .unwrap_or_else(|| panic!("no run record: {out:?}"));
    let state: Value = serde_json::from_str(&std::fs::read_to_string(state).unwrap()).unwrap();
    state["record"].clone()
}

/// Issue 31: the scripted model reports $0.30 a turn (two turns a cycle); the run's
/// budget is $1. Cycle 2 (T002's first) crosses it, so the run escalates before
/// cycle 3 with the reason in the record and log and exit 1; a plain resume escalates
/// again at once; `--resume --budget cost=5` continues T002 from the tree it left.
#[test]
fn a_run_whose_agent_spends_its_budget_escalates_before_the_next_cycle_and_resumes_raised() {
    let extra = Extra {
        toml: "[tolerances]\nmax_cost_usd = 1.0\n",
        turn_cost: 0.3,
        ..Default::default()
    };
    let mut r = run_full(PLAN, "greet-tasks.sh", 3, &[], &[], None, "", &extra);
    assert_eq!(r.out.code, 1, "{:?}", r.out);
    assert_eq!(r.record["status"], "escalated", "{:?}", r.out);
    assert_eq!(r.cycles("T001").len(), 1);
    assert_eq!(
        r.cycles("T002").len(),
        1,
        "no third cycle: {:#}",
        r.task("T002")
    );
    assert_eq!(r.task("T002")["status"], "rework", "{:#}", r.task("T002"));
    let c = &r.cycles("T002")[0]["implementer"]["usage"]["cost_usd"];
    assert!((c.as_f64().unwrap() - 0.6).abs() < 1e-9, "{c}");
    let issue = r.record["issues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["resolution"].as_str().unwrap().starts_with("escalated"))
        .unwrap_or_else(|| panic!("no escalation issue: {:#}", r.record["issues"]));
    let why = issue["issue"].as_str().unwrap();
    assert!(
        why.contains("$1.2000") && why.contains("planexec.toml [tolerances] max_cost_usd = 1"),
        "{why}"
    );
    assert!(
        r.out.all().contains("escalated before T002's next cycle"),
        "{:?}",
        r.out
    );
    let log = log_text(&r.ws);
    assert!(log.contains("Budget spent: run budget spent"), "{log}");
    assert!(log.contains("--resume --budget cost=N"), "{log}");

    // Resuming without a raised budget stops again before any cycle.
    let again = planexec_env(&r.ws, &["run", "plan/plan.md", "--resume"], &[]);
    assert_eq!(again.code, 1, "{again:?}");
    r.record = saved_record(&r.ws, &again);
    assert_eq!(r.record["status"], "escalated");
    assert_eq!(r.cycles("T002").len(), 1, "{again:?}");

    // Raised deliberately: T002's rework runs on the tree its first cycle left.
    let raised = planexec_env(
        &r.ws,
        &["run", "plan/plan.md", "--resume", "--budget", "cost=5"],
        &[],
    );
    assert_eq!(raised.code, 0, "{raised:?}");
    r.record = saved_record(&r.ws, &raised);
    assert_eq!(r.record["status"], "success");
    assert_eq!(r.cycles("T002").len(), 2);
    assert_eq!(
        r.commit_files("T002"),
        ["src/whisper.py", "tests/test_whisper.py"]
    );
    assert!(
        raised
            .all()
            .contains("run budget raised on resume: cost $5.00"),
        "{raised:?}"
    );
}

/// WIT 0.4.0: an agent reviewer's cost counts in the run budget. mini-swe-agent
/// implements for free and reviews as the code reviewer at $1.50 a review (its scripted
/// model's reported cost); the budget is $1. T001 passes and its review ($1.50) crosses
/// the budget, so the run escalates before T002 with the review's usage in the record,
/// the log and the HTML report; `--resume --budget cost=5` continues T002.
#[test]
fn an_agent_reviewers_cost_crosses_the_budget_and_the_run_escalates_before_the_next_task() {
    let extra = Extra {
        toml: "[tolerances]\nmax_cost_usd = 1.0\n",
        turn_cost: 0.0,
        review_cost: 1.5,
    };
    let mut r = run_full(
        PLAN,
        "greet-tasks.sh",
        3,
        &[],
        &[],
        Some("pass"),
        "",
        &extra,
    );
    assert_eq!(r.out.code, 1, "{:?}", r.out);
    assert_eq!(r.record["status"], "escalated", "{:?}", r.out);
    assert_eq!(r.task("T001")["status"], "done", "{:#}", r.task("T001"));
    assert!(
        r.cycles("T002").is_empty(),
        "T002 never started: {:#}",
        r.task("T002")
    );
    let review = code_review(&r.cycles("T001")[0]);
    assert_eq!(review["outcome"], "approved", "{review:#}");
    let c = review["usage"]["cost_usd"]
        .as_f64()
        .unwrap_or_else(|| panic!("{review:#}"));
    assert!((c - 1.5).abs() < 1e-9, "{review:#}");
    let imp = &r.cycles("T001")[0]["implementer"]["usage"]["cost_usd"];
    assert_eq!(
        imp.as_f64().unwrap_or(0.0),
        0.0,
        "the implementer spent nothing"
    );
    let issue = r.record["issues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["resolution"].as_str().unwrap().starts_with("escalated"))
        .unwrap_or_else(|| panic!("no escalation issue: {:#}", r.record["issues"]));
    let why = issue["issue"].as_str().unwrap();
    assert!(
        why.contains("$1.5000") && why.contains("planexec.toml [tolerances] max_cost_usd = 1"),
        "{why}"
    );
    assert!(
        r.out.all().contains("escalated before T002's next cycle"),
        "{:?}",
        r.out
    );
    let log = log_text(&r.ws);
    assert!(log.contains("- Review cost: $1.5000"), "{log}");
    assert!(log.contains("Budget spent: run budget spent"), "{log}");
    let html = r.ws.parent().unwrap().join("report.html");
    let run_id = r.record["run_id"].as_str().unwrap().to_string();
    let out = planexec_env(
        &r.ws,
        &["report", "html", &run_id, "-o", html.to_str().unwrap()],
        &[],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("cost $1.5000"),
        "the HTML report shows the review's cost"
    );

    // Raised deliberately: T002 runs (its rework included) and is reviewed too.
    let raised = planexec_env(
        &r.ws,
        &["run", "plan/plan.md", "--resume", "--budget", "cost=5"],
        &[],
    );
    assert_eq!(raised.code, 0, "{raised:?}");
    r.record = saved_record(&r.ws, &raised);
    assert_eq!(r.record["status"], "success");
    assert_eq!(
        r.commit_files("T002"),
        ["src/whisper.py", "tests/test_whisper.py"]
    );
}

/// `--budget` is for a deliberate resume only, and its value is checked.
#[test]
fn budget_needs_resume_and_a_readable_value() {
    let tmp = tempfile::tempdir().unwrap();
    let out = planexec_env(tmp.path(), &["run", "plan.md", "--budget", "cost=5"], &[]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("--resume"), "{out:?}");
    let out = planexec_env(
        tmp.path(),
        &["run", "plan.md", "--resume", "--budget", "dollars=5"],
        &[],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("unknown key"), "{out:?}");
}

/// The execution logs beside the plan, as one text.
fn log_text(ws: &Path) -> String {
    walk(&ws.join("plan"))
        .into_iter()
        .filter(|p| !p.ends_with("plan.md"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

#[test]
fn mini_swe_agent_implements_a_plan_and_reworks_from_the_failing_assertion() {
    let r = run(PLAN, "greet-tasks.sh", 3, &[], &[]);
    assert_eq!(r.out.code, 0, "{:?}", r.out);
    // T001 in one cycle; T002 rejected once by its test, then fixed.
    assert_eq!(r.cycles("T001").len(), 1, "{:#}", r.task("T001"));
    let t2 = r.cycles("T002");
    assert_eq!(t2.len(), 2, "{:#}", r.task("T002"));
    let c1 = &t2[0]["implementer"];
    assert_eq!(c1["plugin"], "agent");
    assert_eq!(c1["status"], "done", "{c1:#}");
    let s1 = c1["summary"].as_str().unwrap();
    assert!(
        s1.starts_with("T002: mini-swe-agent finished (2 turns, $0.0000)"),
        "{s1}"
    );
    assert!(
        s1.contains("changed src/whisper.py, tests/test_whisper.py"),
        "{s1}"
    );
    // Its cost is structured in the record; its transcript is kept with the run.
    assert_eq!(c1["usage"]["turns"], 2, "{c1:#}");
    assert_eq!(c1["usage"]["cost_usd"], 0.0, "{c1:#}");
    let tp = c1["transcript_path"]
        .as_str()
        .unwrap_or_else(|| panic!("{c1:#}"));
    assert!(
        tp.contains("/planexec/transcripts/") && tp.ends_with("/T002-cycle1.log"),
        "{tp}"
    );
    let transcript = std::fs::read_to_string(r.ws.join(tp)).unwrap();
    assert!(transcript.contains("--- trajectory"), "{transcript}");
    assert!(transcript.contains("whisper"), "{transcript}");
    assert!(t2[0]["gates"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["report"]["outcome"] == "failed"));
    // The cycle-2 prompt has the failing test, its assertion and its location.
    let p2 = r.prompt("T002", 2);
    assert!(p2.contains("## Findings of the previous attempt"), "{p2}");
    let line = p2
        .lines()
        .find(|l| l.contains("gate/pytest/test"))
        .unwrap_or_else(|| panic!("no failing test in the cycle-2 prompt:\n{p2}"));
    assert!(line.contains("tests/test_whisper.py:5"), "{line}");
    assert!(
        line.contains("test_whisper") && line.contains("assert 'HI' == 'hi'"),
        "{line}"
    );
    // The first prompt had the task, the plan's constraints and the rules, no findings.
    let p1 = r.prompt("T002", 1);
    assert!(
        p1.contains("# Task T002: Add whisper") && p1.contains("Standard library only."),
        "{p1}"
    );
    assert!(
        p1.contains("At most 3 files per task"),
        "the tolerances: {p1}"
    );
    assert!(
        p1.contains("Do not commit") && !p1.contains("Findings"),
        "{p1}"
    );
    let s2 = t2[1]["implementer"]["summary"].as_str().unwrap();
    assert!(
        s2.contains("finished") && s2.contains("changed src/whisper.py"),
        "{s2}"
    );
    assert!(
        !s2.contains("tests/test_whisper.py"),
        "cycle 2 changed only the source: {s2}"
    );
    // Two task commits with exactly their files, on top of the base.
    let log: Vec<String> = git(&r.ws, &["log", "--format=%s"])
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(
        log[..2],
        ["T002: Add whisper", "T001: Add shout"],
        "{log:?}"
    );
    assert_eq!(
        r.commit_files("T001"),
        ["src/shout.py", "tests/test_shout.py"]
    );
    assert_eq!(
        r.commit_files("T002"),
        ["src/whisper.py", "tests/test_whisper.py"]
    );
    assert_eq!(
        git(&r.ws, &["status", "--porcelain", "--", "src", "tests"]),
        "",
        "nothing left over"
    );
    // The execution log (beside the plan) shows both cycles and the agent's summaries.
    let logs: Vec<PathBuf> = walk(&r.ws.join("plan"))
        .into_iter()
        .filter(|p| !p.ends_with("plan.md"))
        .collect();
    let text = logs
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect::<String>();
    assert!(text.contains("T002: mini-swe-agent finished"), "{text}");
    assert_eq!(
        text.matches("- Cycle 1 — ").count(),
        2,
        "T001's and T002's first cycles: {text}"
    );
    assert_eq!(
        text.matches("- Cycle 2 — ").count(),
        1,
        "T002's rework: {text}"
    );
    assert!(text.contains("Feedback to the next cycle"), "{text}");
    let cost = text
        .lines()
        .find(|l| l.starts_with("- Cost: $0.0000, ") && l.ends_with(" turns over 2 cycles"))
        .unwrap_or_else(|| panic!("T002's cost over its two cycles: {text}"));
    assert!(cost.contains(" turns"), "{cost}");
    assert!(
        text.contains("- Transcript: `") && text.contains("/planexec/transcripts/"),
        "{text}"
    );
}

/// Issue 25: in a rework the agent may report again a file it made in an earlier cycle
/// (T001: the test, unchanged since cycle 1) without failing the cycle, and a file of an
/// earlier cycle it does not report again (T002) is not an "unreported change".
#[test]
fn a_reworking_agent_reports_or_omits_its_earlier_files_without_a_finding() {
    let r = run_reviewed(PLAN, "rework-claims.sh", 3, &[], &[], None, "task-review");
    assert_eq!(r.out.code, 0, "{:?}", r.out);
    for id in ["T001", "T002"] {
        let cycles = r.cycles(id);
        assert_eq!(cycles.len(), 2, "{id}: {:#}", r.task(id));
        let imp = &cycles[1]["implementer"];
        assert_eq!(imp["status"], "done", "{id} cycle 2: {imp:#}");
        let review = cycles[1]["reviews"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["kind"] == "task")
            .unwrap_or_else(|| panic!("{id}: no task review: {:#}", cycles[1]));
        let rules: Vec<&str> = review["review"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f["rule"].as_str())
            .collect();
        assert!(
            !rules.iter().any(|r| r.starts_with("implementer/")),
            "{id} cycle 2: {review:#}"
        );
    }
    assert_eq!(
        r.commit_files("T002"),
        ["src/whisper.py", "tests/test_whisper.py"]
    );
}

/// Issue 25: an agent CLI that fails by itself (a missing API key) says why on the
/// terminal and in the execution log, not only in the transcript file.
#[test]
fn an_agent_clis_own_error_reaches_the_terminal_and_the_log() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path();
    git_init(ws);
    write(ws, "plan/plan.md", &ONE_TASK.replace("{ID}", "T001"));
    write(
        ws,
        "planexec.toml",
        "[policy]\ngrant = [\"python3\", \"git\"]\n\n\
         [run]\nimplementer = \"agent\"\nmax_cycles = 1\ntask_review = \"\"\ncode_review = \"\"\n\n\
         [implementers.agent]\nprogram = \"python3\"\n\
         args = [\"-c\", \"import sys; print('starting'); sys.stderr.write('Traceback: ...\\\\nError: ANTHROPIC_API_KEY is not set\\\\n'); sys.exit(2)\"]\n",
    );
    git(ws, &["add", "."]);
    git(ws, &["commit", "-q", "-m", "base and plan"]);
    let out = planexec(ws, &["run", "plan/plan.md"]);
    assert_eq!(out.code, 1, "{out:?}");
    let said =
        "`python3` exited 2; last output: Traceback: ... | Error: ANTHROPIC_API_KEY is not set";
    assert!(out.all().contains(said), "{out:?}");
    let log = std::fs::read_to_string(ws.join("plan/plan-execution-log.md")).unwrap();
    assert!(log.contains(said), "{log}");
}

pub(crate) fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                v.extend(walk(&p));
            } else {
                v.push(p);
            }
        }
    }
    v
}

const ONE_TASK: &str = "# Misbehaving agent\n\n### {ID}: Add shout\n**Summary**: Add shout().\n**Dependencies**: none\n**Files/modules touched**: src/shout.py\n\n";

#[test]
fn a_file_the_agent_claims_but_did_not_change_fails_the_cycle() {
    let r = run(
        &ONE_TASK.replace("{ID}", "T001"),
        "misbehave.sh",
        1,
        &[],
        &[],
    );
    let c = &r.cycles("T001")[0];
    let imp = &c["implementer"];
    assert_eq!(imp["status"], "failed", "{imp:#}\n{:?}", r.out);
    let s = imp["summary"].as_str().unwrap();
    assert!(
        s.contains("the agent reported changing README.md but the file did not change"),
        "{s}"
    );
    assert!(
        c["feedback"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["message"].as_str().unwrap().contains("README.md")),
        "the claim is a finding for the next cycle: {c:#}"
    );
    assert!(!git(&r.ws, &["log", "--format=%s"]).contains("T001:"));
}

#[test]
fn a_commit_the_agent_made_itself_is_undone_into_the_work_tree() {
    // Unboxed: in the box .git is read-only and the agent's commit fails (next test).
    let r = run(
        &ONE_TASK.replace("{ID}", "T002"),
        "misbehave.sh",
        1,
        &["--unconfined"],
        &[],
    );
    let c = &r.cycles("T002")[0];
    let s = c["implementer"]["summary"].as_str().unwrap();
    assert_eq!(c["implementer"]["status"], "failed", "{s}");
    assert!(
        s.contains("the agent committed by itself") && s.contains("agent: my own commit"),
        "{s}"
    );
    let log = git(&r.ws, &["log", "--format=%s"]);
    assert!(
        !log.contains("agent: my own commit"),
        "the commit is gone: {log}"
    );
    assert_eq!(log.lines().next(), Some("base and plan"));
    assert!(
        c["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "src/shout.py"),
        "{c:#}"
    );
    assert!(
        git(&r.ws, &["status", "--porcelain"]).contains("src/shout.py"),
        "its change is in the work tree"
    );
}

#[test]
fn the_boxed_agent_cannot_read_a_host_secret_nor_write_git() {
    let secret = [("PLANEXEC_TEST_SECRET", "hunter2")];
    let plan = ONE_TASK.replace("{ID}", "T003");
    let r = run(&plan, "misbehave.sh", 1, &[], &secret);
    let read = |f: &str| {
        std::fs::read_to_string(r.capture.join(f))
            .unwrap_or_else(|e| panic!("{f}: {e}: {:?}", r.out))
    };
    assert_eq!(read("env.txt"), "secret=absent\n");
    assert_eq!(read("git.txt"), "refused\n");
    assert!(!r.ws.join(".git/planted").exists());
    assert_eq!(r.out.code, 0, "{:?}", r.out);
    // The same agent unboxed sees both: the test fails when the box does nothing.
    let r = run(&plan, "misbehave.sh", 1, &["--unconfined"], &secret);
    let read = |f: &str| std::fs::read_to_string(r.capture.join(f)).unwrap();
    assert_eq!(read("env.txt"), "secret=hunter2\n");
    assert_eq!(read("git.txt"), "wrote\n");
}

// ---------------------------------------------------------------- the agent reviewer

const SHOUT: &str = "# Shout\n\n### T001: Add shout\n**Summary**: Add shout().\n**Dependencies**: none\n**Files/modules touched**: src/shout.py, tests/test_shout.py\n**Acceptance test**: `python3 -m pytest -q tests/test_shout.py`\n\n";

fn code_review(cycle: &Value) -> &Value {
    cycle["reviews"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "code")
        .unwrap_or_else(|| panic!("no code review in {cycle:#}"))
}

#[test]
fn mini_swe_agent_as_code_reviewer_rejects_then_approves_and_its_findings_reach_rework() {
    let r = run_reviewed(
        SHOUT,
        "shout-tasks.sh",
        3,
        &[],
        &[],
        Some("debug-print"),
        "",
    );
    assert_eq!(r.out.code, 0, "{:?}", r.out);
    let cs = r.cycles("T001");
    assert_eq!(cs.len(), 2, "{:#}", r.task("T001"));
    let first = code_review(&cs[0]);
    assert_eq!(first["plugin"], "agent-review");
    assert_eq!(first["outcome"], "changes_requested", "{first:#}");
    // The rejection's finding, with its file:line, is in the next cycle's prompt.
    let p2 = r.prompt("T001", 2);
    assert!(
        p2.contains("src/shout.py:2") && p2.contains("debug print left in shout()"),
        "{p2}"
    );
    assert_eq!(code_review(&cs[1])["outcome"], "approved");
    assert_eq!(
        r.commit_files("T001"),
        ["src/shout.py", "tests/test_shout.py"]
    );
    let shout = std::fs::read_to_string(r.ws.join("src/shout.py")).unwrap();
    assert!(!shout.contains("print("), "{shout}");
}

#[test]
fn mini_swe_agent_as_code_reviewer_approves() {
    let r = run_reviewed(SHOUT, "shout-tasks.sh", 1, &[], &[], Some("pass"), "");
    let c = &r.cycles("T001")[0];
    let cr = code_review(c);
    assert_eq!(cr["outcome"], "approved", "{cr:#}");
    assert!(
        cr["review"]["summary"]
            .as_str()
            .unwrap()
            .starts_with("CODE_REVIEW_PASSED"),
        "{cr:#}"
    );
    // The reviewer's transcript is kept with the run, like the implementer's.
    let tp = cr["review"]["transcript_path"]
        .as_str()
        .unwrap_or_else(|| panic!("{cr:#}"));
    assert!(tp.ends_with("/T001-cycle1-code-review.log"), "{tp}");
    let transcript = std::fs::read_to_string(r.ws.join(tp)).unwrap();
    assert!(!transcript.trim().is_empty());
    // Cycle 1 still prints: the reviewer's verdict, not the code, decided.
    assert_eq!(r.out.code, 0, "{:?}", r.out);
    assert!(git(&r.ws, &["log", "--format=%s"]).starts_with("T001: Add shout"));
}

#[test]
fn mini_swe_agent_as_code_reviewer_with_a_garbage_reply_blocks_the_task() {
    let r = run_reviewed(SHOUT, "shout-tasks.sh", 3, &[], &[], Some("garbage"), "");
    assert_eq!(r.out.code, 1, "{:?}", r.out);
    let t = r.task("T001");
    assert_eq!(t["status"], "blocked", "{t:#}");
    assert_eq!(
        t["cycles"].as_array().unwrap().len(),
        1,
        "an errored review is no rework"
    );
    let cr = code_review(&t["cycles"][0]);
    assert_eq!(cr["outcome"], "errored", "{cr:#}");
    assert!(!git(&r.ws, &["log", "--format=%s"]).contains("T001:"));
}

// ---------------------------------------------------------------- aider

const AIDER_VERSION: &str = "aider-chat==0.86.2";

/// The venv holding aider (installed on first use; `.ci/run` installs it ahead).
pub(crate) fn aider_venv() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| pinned_venv("aider", AIDER_VERSION, |d| d.join("bin/aider").exists()))
        .clone()
}

/// What the scripted model answers aider: edits for the task the prompt names,
/// the buggy whisper first, the fix once the prompt carries findings.
fn aider_reply(body: &str) -> String {
    let block = |file: &str, search: &str, replace: &str| {
        format!("{file}\n```\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n```\n\n")
    };
    if body.contains("# Task T001") {
        block("src/shout.py", "", "def shout(name):\n    return name.upper() + \"!\"\n")
            + &block(
                "tests/test_shout.py",
                "",
                "from src.shout import shout\n\n\ndef test_shout():\n    assert shout(\"hi\") == \"HI!\"\n",
            )
    } else if body.contains("Findings of the previous attempt") {
        block(
            "src/whisper.py",
            "    return name.upper()\n",
            "    return name.lower()\n",
        )
    } else {
        block("src/whisper.py", "", "def whisper(name):\n    return name.upper()\n")
            + &block(
                "tests/test_whisper.py",
                "",
                "from src.whisper import whisper\n\n\ndef test_whisper():\n    assert whisper(\"Hi\") == \"hi\"\n",
            )
    }
}

#[test]
fn aider_against_a_scripted_model_implements_a_plan_and_reworks_from_the_failing_assertion() {
    let venv = aider_venv();
    let key = crate::presets::KEY;
    let model = ModelServer::start(key, |prompt| vec![Turn::answer(&aider_reply(prompt))]);
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    let agent_dir = tmp.path().join("agent");
    std::fs::create_dir_all(&agent_dir).unwrap();
    let meta = agent_dir.join("model-metadata.json");
    std::fs::write(
        &meta,
        r#"{"openai/test": {"max_input_tokens": 100000, "max_output_tokens": 4096, "input_cost_per_token": 0.000001, "output_cost_per_token": 0.000002, "litellm_provider": "openai", "mode": "chat"}}"#,
    )
    .unwrap();
    git_init(&ws);
    write(&ws, "src/__init__.py", "");
    write(&ws, "tests/__init__.py", "");
    write(&ws, "plan/plan.md", PLAN);
    let aider = venv.join("bin/aider");
    let base = format!("http://127.0.0.1:{}/v1", model.port);
    let config = format!(
        "[policy]\ngrant = [\"python3\", \"git\", {aider:?}]\nread = [{venv:?}, {agent:?}]\n\n\
         [policy.plugins.agent]\nnetwork = {{ allow = [\"127.0.0.1:{port}\"] }}\n\n\
         [policy.secrets]\nOPENAI_API_KEY = {{ from_env = \"PLANEXEC_TEST_MODEL_KEY\", hosts = [\"127.0.0.1:{port}\"] }}\n\n\
         [run]\nimplementer = \"agent\"\ntask_gates = [\"pytest\"]\ntask_review = \"\"\ncode_review = \"\"\n\n\
         [gates.pytest]\nargs = [\"-q\", \"tests\"]\n\n\
         [implementers.agent]\npreset = \"aider\"\nprogram = {aider:?}\ntimeout_ms = 180000\n\
         extra_args = [\"--model\", \"openai/test\", \"--openai-api-base\", {base:?}, \"--model-metadata-file\", {meta:?}, \"--edit-format\", \"diff\", \"--map-tokens\", \"0\", \"--no-auto-lint\"]\n\
         env = {{ LITELLM_LOCAL_MODEL_COST_MAP = \"True\" }}\n",
        aider = aider.to_str().unwrap(),
        venv = venv.to_str().unwrap(),
        agent = agent_dir.to_str().unwrap(),
        meta = meta.to_str().unwrap(),
        port = model.port,
    );
    write(&ws, "planexec.toml", &config);
    git(&ws, &["add", "."]);
    git(&ws, &["commit", "-q", "-m", "base and plan"]);
    let out = planexec_env(
        &ws,
        &["run", "plan/plan.md"],
        &[("PLANEXEC_TEST_MODEL_KEY", key)],
    );
    let asked = model.model_requests();
    // Every request came through the proxy with the real key (the server refuses others).
    assert!(asked.iter().all(|s| s.keyed), "a request without the key");
    let bodies: Vec<String> = asked.into_iter().map(|s| s.body).collect();
    assert_eq!(out.code, 0, "{out:?}\n{} requests", bodies.len());
    let log: Vec<String> = git(&ws, &["log", "--format=%s"])
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(
        log[..2],
        ["T002: Add whisper", "T001: Add shout"],
        "{log:?}"
    );
    let files = |id: &str| {
        let sha = git(&ws, &["log", "--format=%H", "--grep", &format!("^{id}: ")]);
        let mut v: Vec<String> = git(&ws, &["show", "--format=", "--name-only", sha.trim()])
            .lines()
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect();
        v.sort();
        v
    };
    assert_eq!(files("T001"), ["src/shout.py", "tests/test_shout.py"]);
    assert_eq!(files("T002"), ["src/whisper.py", "tests/test_whisper.py"]);
    // Three prompts reached the model; the last, T002's rework, carries the failing assertion.
    let rework: Vec<&String> = bodies
        .iter()
        .filter(|b| b.contains("Findings of the previous attempt"))
        .collect();
    assert_eq!(rework.len(), 1, "{} requests", bodies.len());
    assert!(
        rework[0].contains("tests/test_whisper.py:5"),
        "{}",
        rework[0]
    );
    assert!(rework[0].contains("assert 'HI' == 'hi'"), "{}", rework[0]);
}
