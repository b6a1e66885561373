//! `planexec gate run` of several gates: they run at once, every result is reported in the
//! configured order, and a gate whose inputs did not change is answered from the result cache.

use crate::support::*;
use serde_json::Value;
use std::path::Path;

/// A git repository with `planexec.toml` = `toml` and one tracked source file.
fn repo(toml: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    git(d, &["init", "-q", "-b", "main"]);
    write(d, "src/lib.txt", "one\n");
    write(d, ".gitignore", "marks/\nignored/\n");
    write(d, "planexec.toml", toml);
    git(d, &["add", "."]);
    git(
        d,
        &[
            "-c",
            "user.email=t@example.com",
            "-c",
            "user.name=t",
            "commit",
            "-qm",
            "base",
        ],
    );
    tmp
}

/// `planexec gate run ARGS --format json` with a result cache of its own in `cache`.
fn gates(dir: &Path, cache: &Path, args: &[&str], path_dir: Option<&Path>) -> (Out, Vec<Value>) {
    let mut all = vec!["gate", "run", "--format", "json"];
    all.extend_from_slice(args);
    let path = match path_dir {
        Some(p) => format!(
            "{}:{}",
            p.display(),
            std::env::var("PATH").unwrap_or_default()
        ),
        None => std::env::var("PATH").unwrap_or_default(),
    };
    let cache = cache.to_string_lossy().into_owned();
    let out = planexec_env(
        dir,
        &all,
        &[("PLANEXEC_RESULT_CACHE", &cache), ("PATH", &path)],
    );
    let finished = out
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["event"] == "gate_finished")
        .collect();
    (out, finished)
}

fn outcomes(finished: &[Value]) -> Vec<(String, String)> {
    finished
        .iter()
        .map(|e| {
            let name = e["gate"].as_str().or(e["name"].as_str()).unwrap_or("?");
            (
                name.to_string(),
                e["report"]["outcome"].as_str().unwrap_or("?").to_string(),
            )
        })
        .collect()
}

fn hits(out: &Out) -> usize {
    out.stdout.matches("cache hit").count() + out.stderr.matches("cache hit").count()
}

/// Two gates that each write a marker and wait for the other's: they pass only when
/// they run at the same time.
const RENDEZVOUS: &str = r#"[policy]
grant = ["sh"]
[policy.plugins.command]
writes = ["marks/"]
[gates.left]
plugin = "command"
program = "sh"
args = ["-c", "mkdir -p marks && touch marks/left && for i in $(seq 100); do [ -f marks/right ] && exit 0; sleep 0.05; done; exit 1"]
[gates.right]
plugin = "command"
program = "sh"
args = ["-c", "mkdir -p marks && touch marks/right && for i in $(seq 100); do [ -f marks/left ] && exit 0; sleep 0.05; done; exit 1"]
"#;

#[test]
fn gates_run_at_the_same_time_and_one_job_runs_them_one_after_another() {
    let tmp = repo(RENDEZVOUS);
    // The box grants writes to paths that exist when it is built.
    std::fs::create_dir_all(tmp.path().join("marks")).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let (out, fin) = gates(tmp.path(), cache.path(), &["--jobs", "2"], None);
    assert_eq!(out.code, 0, "{out:?}");
    let mut got = outcomes(&fin);
    got.sort();
    assert_eq!(
        got,
        [
            ("left".into(), "passed".into()),
            ("right".into(), "passed".into())
        ],
        "{out:?}"
    );
    // One at a time, neither sees the other's marker.
    std::fs::remove_dir_all(tmp.path().join("marks")).unwrap();
    std::fs::create_dir_all(tmp.path().join("marks")).unwrap();
    let (out, fin) = gates(
        tmp.path(),
        cache.path(),
        &["--jobs", "1", "--no-cache"],
        None,
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(outcomes(&fin).iter().any(|(_, o)| o == "failed"), "{out:?}");
}

const PASS_AND_FAIL: &str = r#"[policy]
grant = ["true", "false"]
[gates.bad]
plugin = "command"
program = "false"
[gates.good]
plugin = "command"
program = "true"
"#;

#[test]
fn a_failure_is_reported_beside_the_others_in_configured_order() {
    let tmp = repo(PASS_AND_FAIL);
    let cache = tempfile::tempdir().unwrap();
    let report = tmp.path().join("out/report.json");
    let spec = format!("json={}", report.display());
    let (out, _) = gates(tmp.path(), cache.path(), &["--report", &spec], None);
    assert_eq!(out.code, 1, "{out:?}");
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let finals = r["final_gates"]
        .as_array()
        .or(r["record"]["final_gates"].as_array());
    let names: Vec<(&str, &str)> = finals
        .unwrap_or_else(|| panic!("no final_gates in {r:#}"))
        .iter()
        .map(|g| {
            (
                g["name"].as_str().unwrap(),
                g["report"]["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(names, [("bad", "failed"), ("good", "passed")]);
    // --fail-fast with one job: nothing starts after the failure.
    let (out, fin) = gates(
        tmp.path(),
        cache.path(),
        &["--jobs", "1", "--fail-fast", "--no-cache"],
        None,
    );
    assert_eq!(out.code, 1, "{out:?}");
    let got = outcomes(&fin);
    assert_eq!(got[0].1, "failed", "{out:?}");
    assert_eq!(got[1].1, "skipped", "{out:?}");
    assert!(out.stdout.contains("not started"), "{out:?}");
}

/// A gate that runs `mytool` (a script in a PATH directory of the test) and counts its runs
/// in `marks/runs`.
fn counting_repo(dir_for_tool: &Path) -> tempfile::TempDir {
    write(
        dir_for_tool,
        "mytool",
        "#!/bin/sh\necho run >> marks/runs\n",
    );
    set_exec(&dir_for_tool.join("mytool"));
    repo(
        r#"[policy]
grant = ["mytool"]
[policy.plugins.command]
writes = ["marks/"]
[gates.count]
plugin = "command"
program = "mytool"
"#,
    )
}

fn set_exec(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn runs(ws: &Path) -> usize {
    std::fs::read_to_string(ws.join("marks/runs"))
        .unwrap_or_default()
        .lines()
        .count()
}

#[test]
fn unchanged_inputs_hit_the_cache_and_every_kind_of_change_misses() {
    let bin = tempfile::tempdir().unwrap();
    let tmp = counting_repo(bin.path());
    let ws = tmp.path();
    std::fs::create_dir_all(ws.join("marks")).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mut expect = 0;
    let mut step = |what: &str, hit: bool| {
        let (out, fin) = gates(ws, cache.path(), &[], Some(bin.path()));
        assert_eq!(out.code, 0, "{what}: {out:?}");
        assert_eq!(
            outcomes(&fin),
            [("count".to_string(), "passed".to_string())]
        );
        if !hit {
            expect += 1;
        }
        assert_eq!(
            runs(ws),
            expect,
            "{what}: the tool ran {} times: {out:?}",
            runs(ws)
        );
        assert_eq!(hits(&out) > 0, hit, "{what}: {out:?}");
    };
    step("first run", false);
    step("nothing changed", true);
    write(ws, "src/lib.txt", "two\n");
    step("a tracked file changed", false);
    step("unchanged again", true);
    write(ws, "src/new.txt", "new\n");
    step("an untracked file appeared", false);
    write(ws, "ignored/x", "ignored\n");
    step("an ignored file is not an input", true);
    let toml = std::fs::read_to_string(ws.join("planexec.toml")).unwrap();
    write(ws, "planexec.toml", &format!("{toml}timeout_ms = 60000\n"));
    step("the gate's config changed", false);
    write(
        bin.path(),
        "mytool",
        "#!/bin/sh\necho run >> marks/runs\n# v2\n",
    );
    step("the tool on PATH changed", false);
    step("and then it is cached", true);
    let (out, _) = gates(ws, cache.path(), &["--no-cache"], Some(bin.path()));
    assert_eq!(
        (out.code, runs(ws), hits(&out)),
        (0, expect + 1, 0),
        "--no-cache: {out:?}"
    );
}

#[test]
fn a_failed_result_is_replayed_with_its_report_and_cache_false_always_runs() {
    let tmp = repo(
        r#"[policy]
grant = ["sh"]
[policy.plugins.command]
writes = ["marks/"]
[gates.fails]
plugin = "command"
program = "sh"
args = ["-c", "mkdir -p marks; echo run >> marks/fails; echo 'expected 5, got 6'; exit 1"]
[gates.fresh]
plugin = "command"
program = "sh"
args = ["-c", "mkdir -p marks; echo run >> marks/fresh"]
cache = false
"#,
    );
    let ws = tmp.path();
    let cache = tempfile::tempdir().unwrap();
    let (first, fin1) = gates(ws, cache.path(), &[], None);
    let (second, fin2) = gates(ws, cache.path(), &[], None);
    assert_eq!((first.code, second.code), (1, 1), "{second:?}");
    let count = |f: &str| {
        std::fs::read_to_string(ws.join("marks").join(f))
            .unwrap()
            .lines()
            .count()
    };
    assert_eq!(count("fails"), 1, "the failed gate was replayed, not rerun");
    assert_eq!(count("fresh"), 2, "cache = false runs every time");
    let evidence = |fin: &[Value]| {
        fin.iter()
            .find(|e| e["report"]["outcome"] == "failed")
            .unwrap()["report"]["evidence"]
            .clone()
    };
    assert_eq!(evidence(&fin1), evidence(&fin2));
    assert!(evidence(&fin2)
        .as_str()
        .unwrap()
        .contains("expected 5, got 6"));
}

#[test]
fn no_names_runs_the_configured_set_and_usage_errors_exit_2() {
    let tmp = repo(PASS_AND_FAIL);
    let cache = tempfile::tempdir().unwrap();
    let (out, fin) = gates(tmp.path(), cache.path(), &[], None);
    assert_eq!(out.code, 1);
    assert_eq!(fin.len(), 2, "{out:?}");
    // `-- ARGS` belong to one gate.
    let (out, _) = gates(tmp.path(), cache.path(), &["--", "-x"], None);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("one gate"), "{out:?}");
    // A cycle of `after` lists.
    let cyc = repo(
        &format!("{PASS_AND_FAIL}after = [\"bad\"]\n")
            .replace("[gates.good]", "after = [\"good\"]\n[gates.good]"),
    );
    let (out, _) = gates(cyc.path(), cache.path(), &[], None);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("cycle"), "{out:?}");
}

#[test]
fn after_makes_a_gate_wait_even_with_jobs_to_spare() {
    // `right` waits for `left`'s marker only briefly: it passes only if `left` finished first.
    let tmp = repo(
        r#"[policy]
grant = ["sh"]
[policy.plugins.command]
writes = ["marks/"]
[gates.second]
plugin = "command"
program = "sh"
args = ["-c", "test -f marks/first-done"]
after = ["first"]
[gates.first]
plugin = "command"
program = "sh"
args = ["-c", "sleep 0.5; mkdir -p marks; touch marks/first-done"]
"#,
    );
    let cache = tempfile::tempdir().unwrap();
    let (out, fin) = gates(tmp.path(), cache.path(), &["--jobs", "2"], None);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(fin.len(), 2);
}

/// A one-task T-ID plan whose acceptance commands are `accept`, with patch T001.patch
/// creating `greet.txt`, and planexec.toml = `toml` (implementer patch).
fn plan_repo(accept: &[&str], toml: &str) -> tempfile::TempDir {
    let tmp = repo(toml);
    let d = tmp.path();
    let mut plan = String::from("---\ntitle: Demo\n---\n# Plan: Demo\n\n## Tasks\n\n### T001: Greet\n**Summary**: Greet\n**Dependencies**: none\n**Files/modules touched**: greet.txt\n");
    for a in accept {
        plan.push_str(&format!("**Acceptance test**: `{a}`\n"));
    }
    write(d, "plan/plan.md", &plan);
    write(
        d,
        "plan/patches/T001.patch",
        "diff --git a/greet.txt b/greet.txt\nnew file mode 100644\n--- /dev/null\n+++ b/greet.txt\n@@ -0,0 +1 @@\n+hello\n",
    );
    git(d, &["add", "."]);
    git(
        d,
        &[
            "-c",
            "user.email=t@example.com",
            "-c",
            "user.name=t",
            "commit",
            "-qm",
            "plan",
        ],
    );
    tmp
}

fn run_record(d: &Path) -> Value {
    let runs = d.join(".git/planexec/runs");
    let f = std::fs::read_dir(&runs)
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    serde_json::from_str::<Value>(&std::fs::read_to_string(f).unwrap()).unwrap()["record"].clone()
}

#[test]
fn a_runs_task_gates_run_at_once_and_none_starts_after_a_failure() {
    // Per-task gates `left` and `right` pass only when they run at the same time.
    let toml = RENDEZVOUS
        .replace("grant = [\"sh\"]", "grant = [\"sh\", \"git\", \"grep\"]")
        .replace(
            "writes = [\"marks/\"]",
            "writes = [\"marks/\"]\n[policy.plugins.patch]\ngrant = [\"git\"]",
        )
        + "[run]\nimplementer = \"patch\"\ntask_gates = [\"left\", \"right\"]\nfinal_gates = []\n";
    let tmp = plan_repo(&["grep -q hello greet.txt"], &toml);
    let d = tmp.path();
    // The box grants writes to paths that exist when it is built.
    std::fs::create_dir_all(d.join("marks")).unwrap();
    let out = planexec(d, &["run", "plan/plan.md"]);
    assert_eq!(
        out.code,
        0,
        "{out:?} {:#}",
        run_record(d)["tasks"][0]["cycles"][0]["gates"]
    );
    let log = git(d, &["log", "--format=%s"]);
    assert!(log.starts_with("T001: Greet"), "{log}");

    // A failing acceptance command: the next one (in order after it) never starts.
    let toml = "[policy]\ngrant = [\"sh\", \"git\", \"grep\", \"test\"]\n[policy.plugins.command]\nwrites = [\"marks/\"]\n[run]\nimplementer = \"patch\"\nmax_cycles = 1\nfinal_gates = []\n";
    let tmp = plan_repo(
        &["test -f missing.txt", "sh -c 'touch marks/second-ran'"],
        toml,
    );
    let d = tmp.path();
    std::fs::create_dir_all(d.join("marks")).unwrap();
    let out = planexec(d, &["run", "plan/plan.md"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        !d.join("marks/second-ran").exists(),
        "no gate starts after a failure: {out:?}"
    );
    let gates = &run_record(d)["tasks"][0]["cycles"][0]["gates"];
    let outcomes: Vec<&str> = gates
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["report"]["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["failed", "skipped"], "{gates:#}");
}
