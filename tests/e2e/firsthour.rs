//! Issue 25, a new user's first hour: the smaller defects met on the way, each on the
//! real binary in a temp repository (what the terminal, the feedback and the log say).

use crate::support::*;
use std::path::Path;

fn repo(dir: &Path) {
    git_init(dir);
}

/// A one-task T-ID plan at plan/plan.md whose acceptance command is `accept`, with the
/// patch `T001.patch` creating x.txt (`no`).
fn one_task(dir: &Path, accept: &str, toml: &str) {
    repo(dir);
    write_one_task_plan(dir, accept);
    write(dir, "planexec.toml", toml);
    git(dir, &["add", "."]);
    git(dir, &["commit", "-qm", "plan"]);
}

/// The first cycle's feedback messages in the run's state.
fn feedback(dir: &Path) -> Vec<String> {
    let runs = dir.join(".git/planexec/runs");
    let f = std::fs::read_dir(&runs)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let st: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
    st["record"]["tasks"][0]["cycles"][0]["feedback"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect()
}

/// An edit after `planexec trust` makes planexec.toml untrusted: the refusal says to
/// trust it again, not to add the grant it already has.
#[test]
fn an_edited_config_is_refused_with_run_planexec_trust() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    one_task(
        d,
        "grep -q no x.txt",
        "[policy]\ngrant = [\"grep\", \"git\"]\n[run]\nimplementer = \"patch\"\n",
    );
    let untrusted = [("PLANEXEC_TRUST", "0")];
    let config = tmp.path().join("config");
    let xdg = ("XDG_CONFIG_HOME", config.to_str().unwrap());
    assert_eq!(planexec_env(d, &["trust"], &[untrusted[0], xdg]).code, 0);
    let mut toml = std::fs::read_to_string(d.join("planexec.toml")).unwrap();
    toml.push_str("\n[tolerances]\nmax_files = 5\n");
    write(d, "planexec.toml", &toml);
    git(d, &["commit", "-qam", "tolerances"]);
    let out = planexec_env(d, &["run", "plan/plan.md"], &[untrusted[0], xdg]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("planexec.toml grants `git`, but it changed since you last ran `planexec trust`, so its [policy] was ignored"),
        "{out:?}"
    );
    assert!(out.stderr.contains("run `planexec trust`"), "{out:?}");
    assert!(!out.stderr.contains("grant = [\"git\"]"), "{out:?}");
}

/// A refused `requests.writes` names the fix on lines indented like the others, not 15
/// stray spaces.
#[test]
fn a_refused_write_says_the_fix_on_evenly_indented_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    repo(d);
    write(
        d,
        "plugs/x/plugin.toml",
        "name = \"x\"\nkind = \"gate\"\nversion = \"0.1.0\"\ncomponent = \"x.wasm\"\n[requests]\ncommands = []\nwrites = [\"out/\"]\n",
    );
    write(d, "plugs/x/x.wasm", "not a component\n");
    let out = planexec(d, &["gate", "run", "x", "--plugins", "plugs"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("which the policy does not grant\n  grant it in planexec.toml:\n    [policy.plugins.x]\n    writes = [\"out/\"]"),
        "{out:?}"
    );
}

/// `[implementer.manual]` (singular) is refused with the right section named, and the
/// docs use the section the config accepts.
#[test]
fn a_singular_section_suggests_the_plural_one() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    repo(d);
    write(d, "planexec.toml", "[implementer.manual]\n");
    let out = planexec(d, &["plugins", "list"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("did you mean [implementers]?"),
        "{out:?}"
    );
    for doc in ["docs/implementers.md", "docs/configuration.md", "README.md"] {
        let text = std::fs::read_to_string(root().join(doc)).unwrap();
        for wrong in ["[implementer.", "[reviewer.", "[gate.", "[formatter."] {
            assert!(!text.contains(wrong), "{doc} shows {wrong}");
        }
    }
}

/// `planexec report merge ... | head`: a reader that went away is not a reason to lose the
/// reports, the job summary or the exit code.
#[test]
fn report_merge_into_a_closed_pipe_still_writes_its_reports() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    repo(d);
    write(
        d,
        "pyproject.toml",
        "[tool.pytest.ini_options]\ntestpaths = [\"tests\"]\n",
    );
    write(
        d,
        "tests/test_a.py",
        "def test_a():\n    pass\n\ndef test_b():\n    pass\n",
    );
    for i in 1..=2 {
        let shard = format!("{i}/2");
        let report = format!("json=s{i}.json");
        let out = planexec(
            d,
            &[
                "gate", "run", "pytest", "--shard", &shard, "--report", &report,
            ],
        );
        assert_eq!(out.code, 0, "{out:?}");
    }
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let summary = d.join("summary.md");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_planexec"))
        .args([
            "report",
            "merge",
            "s1.json",
            "s2.json",
            "--report",
            "junit=j.xml",
            "--durations",
            "d.json",
        ])
        .current_dir(d)
        .env("PLANEXEC_CACHE_DIR", cache_dir())
        .env("XDG_CONFIG_HOME", user_config_home())
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .stdout(writer)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert!(d.join("j.xml").is_file() && d.join("d.json").is_file());
    assert!(std::fs::read_to_string(&summary)
        .unwrap()
        .contains("pytest"));
}

/// A tool's colour codes reach the rework feedback and the terminal as the text they
/// colour, not as escaped `\x1b[31m` noise.
#[test]
fn colour_codes_in_acceptance_output_are_dropped_from_the_feedback() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(
        d,
        "tools/check.py",
        "import sys\nprint(\"\\x1b[31mFAILED\\x1b[0m x.txt is \\x1b[1mnot\\x1b[0m ready\")\nsys.exit(1)\n",
    );
    one_task(
        d,
        "python3 tools/check.py",
        "[policy]\ngrant = [\"python3\", \"git\"]\n[run]\nimplementer = \"patch\"\nmax_cycles = 1\n",
    );
    let out = planexec(d, &["run", "plan/plan.md"]);
    assert_eq!(out.code, 1, "{out:?}");
    let fb = feedback(d).join("\n");
    assert!(fb.contains("FAILED x.txt is not ready"), "{fb}");
    assert!(!fb.contains('\x1b'), "{fb}");
    let log = std::fs::read_to_string(d.join("plan/plan-execution-log.md")).unwrap();
    assert!(
        log.contains("FAILED x.txt is not ready") && !log.contains("x1b"),
        "{log}"
    );
    assert!(
        !out.all().contains("x1b") && !out.all().contains('\u{FFFD}'),
        "{out:?}"
    );
    // And said in the singular: `failed 1 cycle`, `1 task, 0 warnings`.
    assert!(out.all().contains("T001 failed 1 cycle ("), "{out:?}");
    assert!(out.all().contains("1 task, 0 warnings"), "{out:?}");
}

/// pytest as an acceptance command: its cache cannot be written in the read-only
/// workspace, and its warnings must not crowd out the failure in the feedback.
#[test]
fn pytest_acceptance_feedback_has_no_cache_warnings() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(d, "tests/__init__.py", "");
    write(
        d,
        "tests/test_x.py",
        "import pathlib\n\n\ndef test_x():\n    assert pathlib.Path(\"x.txt\").read_text() == \"yes\\n\"\n",
    );
    one_task(
        d,
        "python3 -m pytest -q tests/test_x.py",
        "[policy]\ngrant = [\"python3\", \"git\"]\n[run]\nimplementer = \"patch\"\nmax_cycles = 1\n",
    );
    let out = planexec(d, &["run", "plan/plan.md"]);
    assert_eq!(out.code, 1, "{out:?}");
    let fb = feedback(d).join("\n");
    assert!(fb.contains("assert 'no\\n' == 'yes\\n'"), "{fb}");
    assert!(
        !fb.contains("PytestCacheWarning") && !fb.contains("cache"),
        "{fb}"
    );
}

/// Outside a terminal a gate that runs long says so while it runs, with the last line its
/// program printed (CI logs must not look hung).
#[test]
fn a_long_gate_outside_a_terminal_has_a_heartbeat_with_its_last_output() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    repo(d);
    write(
        d,
        "planexec.toml",
        "[policy]\ngrant = [\"python3\"]\n\n[gates.slow]\nplugin = \"command\"\nprogram = \"python3\"\n\
         args = [\"-c\", \"import time; print('collected 3 items', flush=True); time.sleep(3.5)\"]\n",
    );
    let out = planexec_env(d, &["gate", "run", "slow"], &[("PLANEXEC_HEARTBEAT", "1")]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("still running: gate slow, 1s"),
        "{out:?}"
    );
    assert!(
        out.stderr.contains("still running: gate slow, 3s"),
        "{out:?}"
    );
    assert!(
        out.stderr.contains("  python3 (")
            && out.stderr.contains("s): last output: collected 3 items"),
        "{out:?}"
    );
    let quiet = planexec_env(
        d,
        &["gate", "run", "slow", "--no-cache"],
        &[("PLANEXEC_HEARTBEAT", "0")],
    );
    assert!(!quiet.stderr.contains("still running"), "{quiet:?}");
}
