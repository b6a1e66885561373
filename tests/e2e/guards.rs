//! The guards around the engine, end to end on real git repositories: the
//! repository lock, rollback ending its run, stray temp files and stale
//! index.lock, exact paths, pre-flight checks, and the user's git hooks.

use crate::support::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A patch creating `file` (a name git would C-quote is written raw) with one line.
fn new_file(file: &str, content: &str) -> String {
    format!("diff --git a/{file} b/{file}\nnew file mode 100644\n--- /dev/null\n+++ b/{file}\n@@ -0,0 +1 @@\n+{content}\n")
}

/// A patch changing the single line of `file` from `old` to `new`.
fn change(file: &str, old: &str, new: &str) -> String {
    format!(
        "diff --git a/{file} b/{file}\n--- a/{file}\n+++ b/{file}\n@@ -1 +1 @@\n-{old}\n+{new}\n"
    )
}

/// (id, files, acceptance command)
type Task<'a> = (&'a str, &'a str, &'a str);

/// `plan/<name>.md` in T-ID form with these tasks (each depending on none).
fn plan_text(tasks: &[Task]) -> String {
    let mut plan = String::from("---\ntitle: Demo\n---\n# Plan: Demo\n\n## Tasks\n\n");
    for (id, files, accept) in tasks {
        plan.push_str(&format!(
            "### {id}: Task {id}\n**Summary**: Task {id}\n**Dependencies**: none\n**Files/modules touched**: {files}\n**Acceptance test**: `{accept}`\n\n"
        ));
    }
    plan
}

/// A committed repository with plan/plan.md, its patches, and a planexec.toml
/// granting grep, test, sleep, sh and git to the patch implementer's run.
fn repo(tasks: &[Task], patches: &[(&str, String)], extra_toml: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    git_init(d);
    write(d, "README", "base\n");
    write(d, "plan/plan.md", &plan_text(tasks));
    for (name, p) in patches {
        write(d, &format!("plan/patches/{name}"), p);
    }
    write(
        d,
        "planexec.toml",
        &format!("[policy]\ngrant = [\"grep\", \"git\", \"test\", \"sleep\", \"sh\"]\n[run]\nimplementer = \"patch\"\n{extra_toml}"),
    );
    git(d, &["add", "."]);
    git(d, &["commit", "-qm", "plan"]);
    tmp
}

fn one_task() -> tempfile::TempDir {
    repo(
        &[("T001", "greet.txt", "grep -q hello greet.txt")],
        &[("T001.patch", new_file("greet.txt", "hello"))],
        "",
    )
}

/// The run record in `.git/planexec/runs/<id>.json` (the newest when several).
fn record(d: &Path) -> serde_json::Value {
    let mut files: Vec<_> = std::fs::read_dir(d.join(".git/planexec/runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let st: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(files.last().unwrap()).unwrap()).unwrap();
    st["record"].clone()
}

fn subjects(d: &Path) -> Vec<String> {
    git(d, &["log", "--format=%s"])
        .lines()
        .map(String::from)
        .collect()
}

/// The real binary started in the background (for a run that stays live).
fn spawn_planexec(d: &Path, args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_planexec"))
        .args(args)
        .current_dir(d)
        .env("PLANEXEC_CACHE_DIR", cache_dir())
        .env("XDG_CONFIG_HOME", user_config_home())
        .env("PLANEXEC_TRUST", "1")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits until the repository lock names a run id (the run is past pre-flight).
fn wait_for_live_run(d: &Path) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let text = std::fs::read_to_string(d.join(".git/planexec/lock")).unwrap_or_default();
        if let Ok(h) = serde_json::from_str::<serde_json::Value>(&text) {
            if h["run_id"].as_str().is_some_and(|r| !r.is_empty()) {
                return h;
            }
        }
        assert!(Instant::now() < deadline, "the first run never went live");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_second_run_or_resume_while_a_run_is_live_is_refused_naming_the_holder() {
    let tmp = repo(
        // Long enough that the three refusals below happen while it is live, even under load
        // (`sleep` alone is not a command the plan parser runs; `sh` is).
        &[("T001", "greet.txt", "sh -c 'sleep 15'")],
        &[("T001.patch", new_file("greet.txt", "hello"))],
        "",
    );
    let d = tmp.path();
    // A second plan in the same repository: one lock per repository, not per plan.
    write(
        d,
        "plan2/plan.md",
        &plan_text(&[("T001", "other.txt", "test -f other.txt")]),
    );
    write(d, "plan2/patches/T001.patch", &new_file("other.txt", "x"));
    git(d, &["add", "."]);
    git(d, &["commit", "-qm", "plan2"]);
    let mut first = spawn_planexec(d, &["run", "plan/plan.md"]);
    let holder = wait_for_live_run(d);
    let run_id = holder["run_id"].as_str().unwrap().to_string();

    let other = planexec(d, &["run", "plan2/plan.md"]);
    assert_eq!(other.code, 2, "{other:?}");
    for want in [
        format!("pid {}", first.id()),
        format!("run {run_id}"),
        "plan/plan.md".into(),
    ] {
        assert!(other.stderr.contains(&want), "names {want}: {other:?}");
    }
    assert!(other.stderr.contains("wait for it to finish"), "{other:?}");
    let resume = planexec(d, &["run", "plan/plan.md", "--resume"]);
    assert_eq!(resume.code, 2, "{resume:?}");
    assert!(
        resume.stderr.contains(&format!("pid {}", first.id())),
        "{resume:?}"
    );
    let rollback = planexec(d, &["rollback", &run_id, "--yes"]);
    assert_eq!(
        rollback.code, 2,
        "a live run is never reset under: {rollback:?}"
    );

    assert!(first.wait().unwrap().success());
    assert_eq!(
        subjects(d)[0],
        "T001: Task T001",
        "the live run finished alone"
    );
    assert!(
        !d.join("other.txt").exists(),
        "the refused plan changed nothing"
    );
    // Once the run is over the repository is free again.
    let after = planexec(d, &["run", "plan2/plan.md"]);
    assert_eq!(after.code, 0, "{after:?}");
}

#[test]
fn the_lock_of_a_killed_run_is_taken_over_by_its_resume() {
    let tmp = one_task();
    let d = tmp.path();
    let killed = planexec_env(
        d,
        &["run", "plan/plan.md"],
        &[("PLANEXEC_TEST_KILL_AT", "2")],
    );
    assert_eq!(killed.code, -1, "{killed:?}");
    let resumed = planexec(d, &["run", "plan/plan.md", "--resume"]);
    assert_eq!(resumed.code, 0, "{resumed:?}");
    assert!(
        resumed
            .all()
            .contains("took over the repository lock of pid"),
        "{resumed:?}"
    );
    assert_eq!(subjects(d)[0], "T001: Task T001");
}

/// The `git ...` lines a rollback printed under "to undo this rollback".
fn restore_commands(out: &Out) -> Vec<Vec<String>> {
    out.stdout
        .lines()
        .skip_while(|l| !l.starts_with("to undo this rollback"))
        .skip(1)
        .filter_map(|l| l.trim().strip_prefix("git "))
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect()
}

#[test]
fn rollback_ends_the_run_keeps_each_rollbacks_refs_and_prints_how_to_restore() {
    let never = |n: &str| change("README", "base", n);
    let tmp = repo(
        &[("T001", "README", "grep -q hello README")],
        &[
            ("T001.patch", never("first")),
            ("T001.2.patch", change("README", "first", "second")),
            ("T001.3.patch", change("README", "second", "third")),
        ],
        "",
    );
    let d = tmp.path();
    assert_eq!(planexec(d, &["run", "plan/plan.md"]).code, 1, "blocked");
    let run1 = record(d)["run_id"].as_str().unwrap().to_string();
    let first = planexec(d, &["rollback", &run1, "--yes"]);
    assert_eq!(first.code, 0, "{first:?}");
    assert_eq!(std::fs::read_to_string(d.join("README")).unwrap(), "base\n");
    let refs1 = git(
        d,
        &[
            "for-each-ref",
            "--format=%(refname) %(objectname)",
            &format!("refs/planexec/runs/{run1}/rollback-1"),
        ],
    );
    assert!(
        refs1.contains("/rollback-1/discarded") && refs1.contains("/rollback-1/head"),
        "{refs1}"
    );
    assert!(
        first.stdout.contains(&format!("run {run1} is ended")),
        "{first:?}"
    );

    // Not refused forever: a new run starts (and blocks the same way).
    std::thread::sleep(Duration::from_millis(1100)); // a new second, a new run id
    let again = planexec(d, &["run", "plan/plan.md"]);
    assert_eq!(again.code, 1, "a new run, not a refusal: {again:?}");
    assert!(!again.stderr.contains("--resume"), "{again:?}");
    let run2 = record(d)["run_id"].as_str().unwrap().to_string();
    assert_ne!(run1, run2);
    // A second rollback of the first run keeps the first rollback's refs.
    write(d, "README", "my own edit\n");
    let second = planexec(d, &["rollback", &run1, "--yes"]);
    assert_eq!(second.code, 0, "{second:?}");
    let refs1_after = git(
        d,
        &[
            "for-each-ref",
            "--format=%(refname) %(objectname)",
            &format!("refs/planexec/runs/{run1}/rollback-1"),
        ],
    );
    assert_eq!(refs1, refs1_after, "rollback-1 is never overwritten");
    assert!(second.stdout.contains("rollback-2/discarded"), "{second:?}");
    // The printed commands bring back exactly what the second rollback discarded.
    let cmds = restore_commands(&second);
    assert_eq!(cmds.len(), 2, "{second:?}");
    for c in &cmds {
        let args: Vec<&str> = c.iter().map(String::as_str).collect();
        git(d, &args);
    }
    assert_eq!(
        std::fs::read_to_string(d.join("README")).unwrap(),
        "my own edit\n"
    );
}

#[test]
fn a_stray_temp_file_from_a_killed_write_is_never_a_tasks_change() {
    let tmp = one_task();
    let d = tmp.path();
    let killed = planexec_env(
        d,
        &["run", "plan/plan.md"],
        &[("PLANEXEC_TEST_KILL_AT", "2")],
    );
    assert_eq!(killed.code, -1, "{killed:?}");
    // What a kill -9 in the middle of writing the log leaves beside it.
    write(
        d,
        "plan/.plan-execution-log.md.planexec-4242.tmp",
        "half a log",
    );
    let resumed = planexec(d, &["run", "plan/plan.md", "--resume"]);
    assert_eq!(resumed.code, 0, "{resumed:?}");
    let rec = record(d);
    assert_eq!(
        rec["tasks"][0]["cycles"].as_array().unwrap().len(),
        1,
        "no rework for a stray file"
    );
    assert_eq!(
        git(d, &["show", "--name-only", "--format=", "HEAD"]).trim(),
        "greet.txt"
    );
    // planexec's own temp files now live under .git/planexec/.
    assert!(d.join(".git/planexec/tmp").is_dir());
    let strays: Vec<_> = std::fs::read_dir(d.join("plan"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".planexec-"))
        .collect();
    assert!(strays.is_empty(), "{strays:?}");
}

#[test]
fn a_stale_index_lock_is_removed_at_preflight_and_resume_and_a_held_one_is_an_error() {
    let tmp = one_task();
    let d = tmp.path();
    let lock = d.join(".git/index.lock");
    // Held: a live process has the lock open, as git does while it works.
    std::fs::write(&lock, "").unwrap();
    let mut holder = Command::new("sleep")
        .arg("60")
        .stdin(std::fs::File::open(&lock).unwrap())
        .spawn()
        .unwrap();
    let held = planexec(d, &["run", "plan/plan.md"]);
    let _ = holder.kill();
    let _ = holder.wait();
    assert_eq!(held.code, 2, "{held:?}");
    assert!(
        held.stderr.contains("index.lock")
            && held.stderr.contains(&format!("{} (sleep)", holder.id())),
        "{held:?}"
    );
    assert!(lock.exists(), "a held lock is never removed");
    // Stale at pre-flight: removed, the run commits.
    let out = planexec_env(
        d,
        &["run", "plan/plan.md"],
        &[("PLANEXEC_TEST_KILL_AT", "2")],
    );
    assert_eq!(out.code, -1, "{out:?}");
    assert!(!lock.exists(), "removed at pre-flight");
    // Stale at resume (what a kill -9 of git leaves): removed again.
    std::fs::write(&lock, "").unwrap();
    let resumed = planexec(d, &["run", "plan/plan.md", "--resume"]);
    assert_eq!(resumed.code, 0, "{resumed:?}");
    assert!(
        resumed
            .all()
            .contains("index.lock at resume: ok: removed a stale"),
        "{resumed:?}"
    );
    assert_eq!(subjects(d)[0], "T001: Task T001");
}

#[test]
fn non_ascii_spaced_and_underscored_file_names_are_in_scope() {
    let tmp = repo(
        &[
            ("T001", "`naïve.txt`", "grep -q ok naïve.txt"),
            ("T002", "`my notes.txt`", "grep -q ok my-notes-check"),
            ("T003", "_private.txt", "grep -q ok _private.txt"),
        ],
        &[
            ("T001.patch", new_file("naïve.txt", "ok")),
            (
                "T002.patch",
                format!(
                    "{}{}",
                    new_file("my notes.txt", "ok"),
                    new_file("my-notes-check", "ok")
                ),
            ),
            ("T003.patch", new_file("_private.txt", "ok")),
        ],
        "",
    );
    let d = tmp.path();
    // T002's second file is declared too, so only the spaced name is under test.
    let plan = std::fs::read_to_string(d.join("plan/plan.md"))
        .unwrap()
        .replace("`my notes.txt`", "`my notes.txt`, `my-notes-check`");
    write(d, "plan/plan.md", &plan);
    git(d, &["commit", "-qam", "plan"]);
    let out = planexec(d, &["run", "plan/plan.md"]);
    assert_eq!(out.code, 0, "{out:?}");
    let rec = record(d);
    for t in rec["tasks"].as_array().unwrap() {
        assert_eq!(
            t["cycles"].as_array().unwrap().len(),
            1,
            "{} in scope at once: {t}",
            t["id"]
        );
    }
    assert_eq!(
        git(
            d,
            &[
                "-c",
                "core.quotepath=false",
                "show",
                "--name-only",
                "--format=",
                "HEAD~2"
            ]
        )
        .trim(),
        "naïve.txt"
    );
}

#[test]
fn a_typo_in_a_plugins_settings_table_stops_preflight_with_file_and_line() {
    let tmp = repo(
        &[("T001", "greet.txt", "grep -q hello greet.txt")],
        &[("T001.patch", new_file("greet.txt", "hello"))],
        "\n[reviewers.task-review]\nmax_weak = 1\nmax_weeak = 2\n",
    );
    let d = tmp.path();
    let line = std::fs::read_to_string(d.join("planexec.toml"))
        .unwrap()
        .lines()
        .position(|l| l.starts_with("max_weeak"))
        .unwrap()
        + 1;
    let out = planexec(d, &["run", "plan/plan.md"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains(&format!("planexec.toml:{line}"))
            && out.stderr.contains("`max_weeak`")
            && out.stderr.contains("`max_weak`"),
        "{out:?}"
    );
    assert_eq!(subjects(d), ["plan"], "nothing committed");
    assert!(!d.join(".git/planexec/runs").exists(), "no run started");
}

#[test]
fn a_dirty_submodule_counts_as_dirty() {
    let sub = tempfile::tempdir().unwrap();
    let s = sub.path();
    git_init(s);
    write(s, "lib.txt", "v1\n");
    git(s, &["add", "."]);
    git(s, &["commit", "-qm", "lib"]);
    let tmp = one_task();
    let d = tmp.path();
    git(
        d,
        &[
            "-c",
            "protocol.file.allow=always",
            "submodule",
            "add",
            "-q",
            s.to_str().unwrap(),
            "lib",
        ],
    );
    git(d, &["commit", "-qm", "add lib"]);
    write(d, "lib/lib.txt", "my change inside the submodule\n");
    let out = planexec(d, &["run", "plan/plan.md"]);
    assert_eq!(out.code, 0, "{out:?}");
    let rec = record(d);
    assert_eq!(rec["preflight"]["dirty"], true, "{}", rec["preflight"]);
    let dirty = rec["preflight"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "dirty")
        .unwrap()["detail"]
        .clone();
    assert!(dirty.as_str().unwrap().contains("lib"), "{dirty}");
    assert_eq!(
        std::fs::read_to_string(d.join("lib/lib.txt")).unwrap(),
        "my change inside the submodule\n"
    );
}

#[test]
fn a_detached_head_is_refused_unless_allowed() {
    let tmp = one_task();
    let d = tmp.path();
    git(d, &["checkout", "-q", "--detach"]);
    let out = planexec(d, &["run", "plan/plan.md"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("detached") && out.stderr.contains("--allow-detached"),
        "{out:?}"
    );
    assert!(!d.join(".git/planexec/runs").exists());
    let allowed = planexec(d, &["run", "plan/plan.md", "--allow-detached"]);
    assert_eq!(allowed.code, 0, "{allowed:?}");
    assert_eq!(subjects(d)[0], "T001: Task T001");
}

#[test]
fn a_plan_given_by_absolute_path_from_outside_finds_its_repository() {
    let tmp = one_task();
    let d = tmp.path();
    let elsewhere = tempfile::tempdir().unwrap();
    let plan = d.join("plan/plan.md");
    let out = planexec(elsewhere.path(), &["run", plan.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(subjects(d)[0], "T001: Task T001");
}

#[test]
fn preflight_lists_each_check_once_and_resumes_do_not_pile_up() {
    let tmp = one_task();
    let d = tmp.path();
    // The plan's own quality gate loads the command gate a second time.
    let plan = std::fs::read_to_string(d.join("plan/plan.md")).unwrap();
    write(
        d,
        "plan/plan.md",
        &format!("{plan}## Quality Gates\n\n- `test -f README`\n"),
    );
    git(d, &["commit", "-qam", "gates"]);
    let k = |at: &str| {
        planexec_env(
            d,
            &["run", "plan/plan.md"],
            &[("PLANEXEC_TEST_KILL_AT", at)],
        )
    };
    assert_eq!(k("2").code, -1);
    for _ in 0..2 {
        let r = planexec_env(
            d,
            &["run", "plan/plan.md", "--resume"],
            &[("PLANEXEC_TEST_KILL_AT", "2")],
        );
        assert_eq!(r.code, -1, "{r:?}");
    }
    let done = planexec(d, &["run", "plan/plan.md", "--resume"]);
    assert_eq!(done.code, 0, "{done:?}");
    let rec = record(d);
    let names: Vec<String> = rec["preflight"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(names.len(), unique.len(), "a check listed twice: {names:?}");
    let resumed = rec["preflight"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "resumed")
        .unwrap()["detail"]
        .clone();
    assert!(
        resumed.as_str().unwrap().contains("(resume 3)"),
        "{resumed}"
    );
    let log = std::fs::read_to_string(d.join("plan/plan-execution-log.md")).unwrap();
    assert_eq!(log.matches("resumed").count(), 1, "{log}");
}

/// Writes an executable hook script.
fn hook(dir: &Path, name: &str, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join(name);
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn hooked_repo(extra_toml: &str) -> tempfile::TempDir {
    let tmp = repo(
        &[("T001", "greet.txt", "grep -q hello greet.txt")],
        &[
            ("T001.patch", new_file("greet.txt", "hello")),
            ("T001.2.patch", change("greet.txt", "hello", "hello world")),
        ],
        extra_toml,
    );
    let hooks = tmp.path().join(".git/hooks");
    hook(
        &hooks,
        "pre-commit",
        "grep -q world greet.txt || { echo 'lint: greet.txt must greet the world'; exit 1; }",
    );
    hook(
        &hooks,
        "commit-msg",
        "printf '\\nHooked-By: commit-msg\\n' >> \"$1\"",
    );
    tmp
}

#[test]
fn task_commits_run_the_repositorys_hooks_and_a_failing_hook_sends_the_task_to_rework() {
    let tmp = hooked_repo("");
    let d = tmp.path();
    let out = planexec(d, &["run", "plan/plan.md"]);
    assert_eq!(out.code, 0, "{out:?}");
    let rec = record(d);
    let cycles = rec["tasks"][0]["cycles"].as_array().unwrap();
    assert_eq!(cycles.len(), 2, "the hook failed cycle 1: {cycles:?}");
    let gate = cycles[0]["gates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "git-hook:pre-commit")
        .expect("the hook is a gate of cycle 1")
        .clone();
    assert_eq!(gate["report"]["outcome"], "failed");
    let feedback = cycles[0]["feedback"].to_string();
    assert!(
        feedback.contains("lint: greet.txt must greet the world"),
        "{feedback}"
    );
    // commit-msg ran too and may edit the message, as with git.
    let msg = git(d, &["show", "-s", "--format=%B", "HEAD"]);
    assert!(
        msg.starts_with("T001: Task T001") && msg.contains("Hooked-By: commit-msg"),
        "{msg}"
    );
}

#[test]
fn git_hooks_false_skips_the_hooks() {
    let tmp = hooked_repo("git_hooks = false\n");
    let d = tmp.path();
    let out = planexec(d, &["run", "plan/plan.md"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(record(d)["tasks"][0]["cycles"].as_array().unwrap().len(), 1);
    assert!(!git(d, &["show", "-s", "--format=%B", "HEAD"]).contains("Hooked-By"));
}

/// Hostile: with `core.hooksPath` inside the work tree, a task that writes a
/// hook would get its code run at its own commit. It never runs.
#[test]
fn a_hook_the_task_itself_wrote_is_never_run() {
    let marker_dir = tempfile::tempdir().unwrap();
    let marker = marker_dir.path().join("pwned");
    let evil = format!("#!/bin/sh\ntouch {}\n", marker.display());
    let patch = format!(
        "diff --git a/.githooks/pre-commit b/.githooks/pre-commit\nnew file mode 100755\n--- /dev/null\n+++ b/.githooks/pre-commit\n@@ -0,0 +1,2 @@\n{}",
        evil.lines().map(|l| format!("+{l}\n")).collect::<String>()
    );
    let tmp = repo(
        &[(
            "T001",
            "`.githooks/pre-commit`",
            "test -f .githooks/pre-commit",
        )],
        &[("T001.patch", patch)],
        "",
    );
    let d = tmp.path();
    git(d, &["config", "core.hooksPath", ".githooks"]);
    let out = planexec(d, &["run", "plan/plan.md"]);
    assert!(!marker.exists(), "the task's own hook ran: {out:?}");
    assert_eq!(out.code, 1, "{out:?}");
    // The hook the patch wrote is taken out again (a planted hook, tests/e2e/seal.rs),
    // or, were it left, refused at the commit.
    let rec = record(d);
    let reason = rec["tasks"][0]["blocked_reason"].to_string();
    assert!(
        reason.contains("differs from the run's start commit")
            || rec.to_string().contains("planexec/planted"),
        "{reason}"
    );
    assert_eq!(subjects(d), ["plan"]);
}

/// The field names of `struct Config { ... }` in `src` (serde's names: a
/// `#[serde(rename = "...")]` line wins), or `None` when there is no such struct.
fn config_fields(src: &str) -> Option<Vec<String>> {
    // A plugin whose Config flattens a shared struct lists its keys itself.
    if let Some(keys) = keys_const(src) {
        return Some(keys);
    }
    let start = src.find("struct Config {")?;
    let mut out = Vec::new();
    let mut rename = None;
    let body = src[start..].lines().skip(1).map(str::trim);
    for l in body.take_while(|l| *l != "}") {
        if let Some(r) = l.split("rename = \"").nth(1) {
            rename = r.split('"').next().map(String::from);
        } else if let Some((name, _)) = l.split_once(':').filter(|_| !l.starts_with("//")) {
            let name = name
                .trim_start_matches("pub(crate) ")
                .trim_start_matches("pub ");
            if name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit())
            {
                out.push(rename.take().unwrap_or_else(|| name.to_string()));
            }
        }
    }
    out.sort();
    Some(out)
}

/// The plugin's own `const KEYS: &[&str] = &[...]` (the keys it accepts), sorted.
fn keys_const(src: &str) -> Option<Vec<String>> {
    let start = src.find("const KEYS: &[&str] = &[")?;
    let body = &src[start..];
    let list = &body[body.find('[')? + 1..];
    let list = &list[list.find('[')? + 1..list.find("];")?];
    let mut out: Vec<String> = list
        .split(',')
        .map(|k| k.trim().trim_matches('"').to_string())
        .filter(|k| !k.is_empty())
        .collect();
    out.sort();
    Some(out)
}

/// Every standard plugin declares exactly the keys its code reads, so
/// pre-flight never refuses a real setting nor lets a typo through.
#[test]
fn every_standard_plugin_declares_the_settings_keys_its_config_reads() {
    let plugins = root().join("plugins");
    let mut checked = 0;
    for e in std::fs::read_dir(&plugins).unwrap() {
        let dir = e.unwrap().path();
        let Ok(manifest) = std::fs::read_to_string(dir.join("plugin.toml")) else {
            continue;
        };
        let m: toml::Table = toml::from_str(&manifest).unwrap();
        let mut declared: Vec<String> = m["config"]["keys"]
            .as_array()
            .unwrap_or_else(|| panic!("{} declares no [config] keys", dir.display()))
            .iter()
            .map(|k| k.as_str().unwrap().to_string())
            .collect();
        declared.sort();
        let lib = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap();
        let fields = config_fields(&lib)
            .or_else(|| {
                // jest and vitest read the shared runner config in testfmt.
                config_fields(
                    &std::fs::read_to_string(plugins.join("testfmt/src/jestjson.rs")).unwrap(),
                )
            })
            .unwrap();
        assert_eq!(
            declared,
            fields,
            "{}: [config] keys vs struct Config",
            dir.display()
        );
        checked += 1;
    }
    assert!(checked >= 25, "only {checked} plugins checked");
}

#[test]
fn rollback_of_a_waiting_run_ends_it_so_a_new_run_starts() {
    let tmp = one_task();
    let d = tmp.path();
    let waiting = planexec(d, &["run", "plan/plan.md", "--implementer", "manual"]);
    assert_eq!(waiting.code, 0, "{waiting:?}");
    let run1 = record(d)["run_id"].as_str().unwrap().to_string();
    assert_eq!(record(d)["status"], "waiting");
    let rb = planexec(d, &["rollback", &run1, "--yes"]);
    assert_eq!(rb.code, 0, "{rb:?}");
    assert_eq!(
        record(d)["status"],
        "failure",
        "the rolled-back run is over"
    );
    std::thread::sleep(Duration::from_millis(1100)); // a new second, a new run id
    let again = planexec(d, &["run", "plan/plan.md"]);
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(subjects(d)[0], "T001: Task T001");
    let resume = planexec(d, &["run", "plan/plan.md", "--resume"]);
    assert!(resume.stderr.contains("no unfinished run"), "{resume:?}");
}
