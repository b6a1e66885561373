//! `planexec status`: a finished, a blocked and a live run of real plans, listed and shown;
//! the heartbeat of a long implementer outside a terminal.

use crate::support::*;
use std::path::Path;

/// A one-task plan whose patch creates x.txt (`no`), accepted by `accept`.
fn one_task(dir: &Path, accept: &str) {
    std::fs::create_dir_all(dir).unwrap();
    git_init(dir);
    write_one_task_plan(dir, accept);
    write(
        dir,
        "planexec.toml",
        "[policy]\ngrant = [\"grep\", \"git\", \"python3\"]\n[run]\nimplementer = \"patch\"\nmax_cycles = 1\n",
    );
    git(dir, &["add", "."]);
    git(dir, &["commit", "-qm", "plan"]);
}

fn status_json(d: &Path, args: &[&str]) -> serde_json::Value {
    let mut a = vec!["status", "--format", "json"];
    a.extend_from_slice(args);
    let out = planexec(d, &a);
    assert_eq!(out.code, 0, "{out:?}");
    serde_json::from_str(out.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {out:?}"))
}

#[test]
fn status_of_a_finished_and_a_blocked_run() {
    let tmp = tempfile::tempdir().unwrap();
    let (ok, bad) = (tmp.path().join("ok"), tmp.path().join("bad"));
    one_task(&ok, "grep -q no x.txt");
    one_task(&bad, "grep -q yes x.txt");
    assert_eq!(planexec(&ok, &["run", "plan/plan.md"]).code, 0);
    assert_eq!(planexec(&bad, &["run", "plan/plan.md"]).code, 1);
    let runs = status_json(&ok, &[]);
    assert_eq!(runs.as_array().unwrap().len(), 1, "{runs}");
    let r = &runs[0];
    assert_eq!(
        (
            r["status"].as_str(),
            r["done"].as_u64(),
            r["tasks"].as_u64()
        ),
        (Some("success"), Some(1), Some(1)),
        "{r}"
    );
    assert!(r["resume"].is_null() && r["stopped_at"].is_null(), "{r}");
    let runs = status_json(&bad, &[]);
    let r = &runs[0];
    assert_eq!(r["status"], "blocked", "{r}");
    assert_eq!(r["blocked"], 1, "{r}");
    assert!(
        r["stopped_at"]
            .as_str()
            .unwrap()
            .starts_with("T001 blocked: "),
        "{r}"
    );
    assert_eq!(r["resume"], "planexec run plan/plan.md --resume", "{r}");
    let id = r["run_id"].as_str().unwrap();
    assert_eq!(r["rollback"], format!("planexec rollback {id} --yes"));
    let one = status_json(&bad, &[id]);
    let cycle = &one["tasks"][0]["cycles"][0];
    assert_eq!(cycle["outcome"], "blocked", "{one}");
    assert_eq!(cycle["gates"][0]["outcome"], "failed", "{one}");
    let human = planexec(&bad, &["status", id]);
    assert!(
        human.stdout.contains("T001 blocked  Add x")
            && human.stdout.contains("#1 blocked: acceptance"),
        "{human:?}"
    );
    let missing = planexec(&bad, &["status", "nope"]);
    assert_eq!(missing.code, 2, "{missing:?}");
}

#[test]
fn status_of_a_live_run_then_of_the_same_run_killed() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let token = format!("status-live-{}", std::process::id());
    one_task(
        d,
        &format!("python3 -c 'import time; time.sleep(60)' {token}"),
    );
    let mut child = planexec_command(d, &["run", "plan/plan.md"], &[])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    let live = loop {
        let runs = status_json(d, &[]);
        if runs.as_array().is_some_and(|a| !a.is_empty()) && runs[0]["status"] == "running" {
            break runs;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never seen running: {runs}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert!(
        live[0]["rollback"].is_null(),
        "no rollback offered while it runs: {live}"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    let after = status_json(d, &[]);
    assert_eq!(after[0]["status"], "interrupted", "{after}");
    assert_eq!(
        after[0]["resume"], "planexec run plan/plan.md --resume",
        "{after}"
    );
    for pid in crate::hooks::processes_with(&token) {
        let _ = std::process::Command::new("kill")
            .args(["-9", &pid])
            .status();
    }
}

/// Outside a terminal a long implementer says so while it works, with its last output line.
#[test]
fn a_long_implementer_outside_a_terminal_has_a_heartbeat() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    git_init(d);
    write(d, "plan/plan.md", "# P\n\n### T001: Add x\n**Summary**: Add x.\n**Dependencies**: none\n**Files/modules touched**: x.txt\n\n");
    write(
        d,
        "planexec.toml",
        "[policy]\ngrant = [\"python3\", \"git\"]\n\n\
         [run]\nimplementer = \"agent\"\nmax_cycles = 1\ntask_review = \"\"\ncode_review = \"\"\n\n\
         [implementers.agent]\nprogram = \"python3\"\n\
         args = [\"-c\", \"import time; print('thinking about T001', flush=True); time.sleep(3.5)\"]\n",
    );
    git(d, &["add", "."]);
    git(d, &["commit", "-qm", "plan"]);
    let out = planexec_env(d, &["run", "plan/plan.md"], &[("PLANEXEC_HEARTBEAT", "1")]);
    assert!(
        out.stderr.contains("still running: T001: implementer, 2s"),
        "{out:?}"
    );
    assert!(
        out.stderr.contains("s): last output: thinking about T001"),
        "{out:?}"
    );
}
