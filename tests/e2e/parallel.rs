//! Independent tasks of a wave at once (`planexec run --jobs`), end to end: each
//! in its own git worktree, commits in plan order, redone on the branch when not.

use crate::support::*;
use std::path::Path;
use std::time::{Duration, Instant};

fn new_file_patch(file: &str, content: &str) -> String {
    format!("diff --git a/{file} b/{file}\nnew file mode 100644\n--- /dev/null\n+++ b/{file}\n@@ -0,0 +1 @@\n+{content}\n")
}

fn change_patch(file: &str, old: &str, new: &str) -> String {
    format!(
        "diff --git a/{file} b/{file}\n--- a/{file}\n+++ b/{file}\n@@ -1 +1 @@\n-{old}\n+{new}\n"
    )
}

/// A task: id, declared files, acceptance command.
struct T<'a>(&'a str, &'a str, &'a str);

/// A repository with plan/plan.md (no dependencies: one wave), its patches,
/// and a planexec.toml for the patch implementer granting sh, grep and test.
fn repo(tasks: &[T], patches: &[(&str, String)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    repo_in(tmp.path(), tasks, patches);
    tmp
}

fn repo_in(d: &Path, tasks: &[T], patches: &[(&str, String)]) {
    git_init(d);
    write(d, "README", "base\n");
    let mut plan = String::from("---\ntitle: Demo\n---\n# Plan: Demo\n\n## Tasks\n\n");
    for T(id, files, accept) in tasks {
        plan.push_str(&format!(
            "### {id}: Write {files}\n**Summary**: Write {files}\n**Dependencies**: none\n**Files/modules touched**: {files}\n**Acceptance test**: `{accept}`\n\n"
        ));
    }
    write(d, "plan/plan.md", &plan);
    for (name, p) in patches {
        write(d, &format!("plan/patches/{name}"), p);
    }
    write(
        d,
        "planexec.toml",
        "[policy]\ngrant = [\"sh\", \"grep\", \"test\", \"git\"]\n[run]\nimplementer = \"patch\"\n",
    );
    git(d, &["add", "."]);
    git(d, &["commit", "-qm", "plan"]);
}

/// Four independent tasks, each accepted by a 2-second command.
fn four_slow_tasks() -> tempfile::TempDir {
    let ids = ["T001", "T002", "T003", "T004"];
    let files = ["f1.txt", "f2.txt", "f3.txt", "f4.txt"];
    let accepts: Vec<String> = files
        .iter()
        .map(|f| format!("sh -c 'sleep 2 && grep -q done {f}'"))
        .collect();
    let tasks: Vec<T> = (0..4).map(|i| T(ids[i], files[i], &accepts[i])).collect();
    let patches: Vec<(String, String)> = (0..4)
        .map(|i| {
            (
                format!("{}.patch", ids[i]),
                new_file_patch(files[i], "done"),
            )
        })
        .collect();
    let patches: Vec<(&str, String)> = patches
        .iter()
        .map(|(n, p)| (n.as_str(), p.clone()))
        .collect();
    repo(&tasks, &patches)
}

/// Each commit from HEAD down: its subject and exactly the files it holds.
fn history(d: &Path) -> Vec<(String, Vec<String>)> {
    git(d, &["log", "--format=%H %s"])
        .lines()
        .map(|l| {
            let (sha, subject) = l.split_once(' ').unwrap();
            let files = git(d, &["show", "--name-only", "--format=", sha]);
            (
                subject.to_string(),
                files.lines().map(String::from).collect(),
            )
        })
        .collect()
}

fn commit(subject: &str, files: &[&str]) -> (String, Vec<String>) {
    (
        subject.to_string(),
        files.iter().map(|f| f.to_string()).collect(),
    )
}

fn no_worktrees_left(d: &Path) {
    let list = git(d, &["worktree", "list"]);
    assert_eq!(list.lines().count(), 1, "worktrees left: {list}");
    assert!(!d.join(".git/planexec/worktrees").exists());
    assert_eq!(git(d, &["branch", "--list"]).trim(), "* main");
}

fn timed_run(d: &Path, jobs: &str) -> Duration {
    let t = Instant::now();
    let out = planexec(d, &["run", "plan/plan.md", "--jobs", jobs]);
    let took = t.elapsed();
    assert_eq!(out.code, 0, "--jobs {jobs}: {out:?}");
    took
}

#[test]
fn a_wave_of_four_independent_tasks_runs_at_once_and_lands_in_plan_order() {
    let seq = four_slow_tasks();
    let par = four_slow_tasks();
    let sequential = timed_run(seq.path(), "1");
    let parallel = timed_run(par.path(), "4");
    let ratio = parallel.as_secs_f64() / sequential.as_secs_f64();
    eprintln!(
        "four 2-second tasks: --jobs 1 {:.2} s, --jobs 4 {:.2} s, ratio {ratio:.2}",
        sequential.as_secs_f64(),
        parallel.as_secs_f64()
    );
    assert!(
        ratio < 0.8,
        "parallel {parallel:?} vs sequential {sequential:?}"
    );
    let want = vec![
        commit("T004: Write f4.txt", &["f4.txt"]),
        commit("T003: Write f3.txt", &["f3.txt"]),
        commit("T002: Write f2.txt", &["f2.txt"]),
        commit("T001: Write f1.txt", &["f1.txt"]),
        commit(
            "plan",
            &[
                "README",
                "plan/patches/T001.patch",
                "plan/patches/T002.patch",
                "plan/patches/T003.patch",
                "plan/patches/T004.patch",
                "plan/plan.md",
                "planexec.toml",
            ],
        ),
    ];
    assert_eq!(history(par.path()), want);
    assert_eq!(history(seq.path()), want, "--jobs 1 makes the same history");
    for d in [par.path(), seq.path()] {
        let dirty = git(d, &["status", "--porcelain", "--untracked-files=no"]);
        assert_eq!(dirty, "", "the work tree matches HEAD");
        assert_eq!(std::fs::read_to_string(d.join("f3.txt")).unwrap(), "done\n");
        no_worktrees_left(d);
    }
    let log = std::fs::read_to_string(par.path().join("plan/plan-execution-log.md")).unwrap();
    for id in ["T001", "T002", "T003", "T004"] {
        assert!(log.contains(id), "{log}");
    }
}

#[test]
fn two_tasks_touching_the_same_file_run_one_after_another() {
    // T002 changes the line T001 writes: run from the wave's start it could not apply.
    let tmp = repo(
        &[
            T("T001", "shared.txt", "grep -q one shared.txt"),
            T("T002", "shared.txt", "grep -q two shared.txt"),
            T("T003", "other.txt", "grep -q other other.txt"),
        ],
        &[
            ("T001.patch", new_file_patch("shared.txt", "one")),
            ("T002.patch", change_patch("shared.txt", "one", "two")),
            ("T003.patch", new_file_patch("other.txt", "other")),
        ],
    );
    let d = tmp.path();
    let out = planexec(d, &["run", "plan/plan.md", "--jobs", "4"]);
    assert_eq!(out.code, 0, "{out:?}");
    let said = format!("{}{}", out.stdout, out.stderr);
    assert!(said.contains("T001, T003 run at once"), "{said}");
    assert!(!said.contains("runs again on the branch"), "{said}");
    let h = history(d);
    assert_eq!(h[0], commit("T003: Write other.txt", &["other.txt"]));
    assert_eq!(h[1], commit("T002: Write shared.txt", &["shared.txt"]));
    assert_eq!(h[2], commit("T001: Write shared.txt", &["shared.txt"]));
    assert_eq!(
        std::fs::read_to_string(d.join("shared.txt")).unwrap(),
        "two\n"
    );
    no_worktrees_left(d);
}

#[test]
fn a_task_whose_diff_strays_outside_its_files_is_redone_on_the_branch() {
    let stray = format!(
        "{}{}",
        new_file_patch("a.txt", "alpha"),
        new_file_patch("stray.txt", "oops")
    );
    let tmp = repo(
        &[
            T("T001", "a.txt", "grep -q alpha a.txt"),
            T("T002", "b.txt", "grep -q beta b.txt"),
        ],
        &[
            ("T001.patch", stray),
            ("T002.patch", new_file_patch("b.txt", "beta")),
        ],
    );
    let d = tmp.path();
    // No reviewers: the task review would send the stray file back; here only
    // planexec's own check of the worktree diff stands between it and the branch.
    write(
        d,
        "planexec.toml",
        "[policy]\ngrant = [\"grep\", \"git\"]\n[run]\nimplementer = \"patch\"\ntask_review = \"\"\ncode_review = \"\"\n",
    );
    git(d, &["commit", "-qam", "no reviewers"]);
    let out = planexec(d, &["run", "plan/plan.md", "--jobs", "2"]);
    assert_eq!(out.code, 0, "{out:?}");
    let said = format!("{}{}", out.stdout, out.stderr);
    assert!(
        said.contains("T001 changed files outside its declared set (stray.txt; declared: a.txt)"),
        "{said}"
    );
    assert!(said.contains("T001 runs again on the branch"), "{said}");
    // T001 redone on the branch first (plan order), then T002's worktree commit applied.
    let h = history(d);
    assert_eq!(h[0], commit("T002: Write b.txt", &["b.txt"]));
    assert_eq!(h[1], commit("T001: Write a.txt", &["a.txt", "stray.txt"]));
    let log = std::fs::read_to_string(d.join("plan/plan-execution-log.md")).unwrap();
    assert!(log.contains("outside its declared set"), "{log}");
    assert!(log.contains("ran again on the branch"), "{log}");
    no_worktrees_left(d);
}

/// engine-guards: a parallel task's programs get its worktree, nothing more:
/// not the main checkout, not another task's worktree.
#[test]
fn a_parallel_tasks_gate_cannot_write_the_main_checkout_or_another_tasks_worktree() {
    let main = tempfile::tempdir().unwrap();
    let m = main.path().canonicalize().unwrap();
    let attack = |me: &str, other: &str, file: &str| {
        format!(
            "sh -c 'echo pwned > {m}/pwned-{me}; echo pwned > {m}/README; for w in {m}/.git/planexec/worktrees/{other}; do echo pwned > $w/pwned-{me}; echo pwned > $w/README; done; grep -q ok {file}'",
            m = m.display()
        )
    };
    let a1 = attack("T001", "T002", "a.txt");
    let a2 = attack("T002", "T001", "b.txt");
    repo_in(
        &m,
        &[T("T001", "a.txt", &a1), T("T002", "b.txt", &a2)],
        &[
            ("T001.patch", new_file_patch("a.txt", "ok")),
            ("T002.patch", new_file_patch("b.txt", "ok")),
        ],
    );
    let out = planexec(&m, &["run", "plan/plan.md", "--jobs", "2"]);
    assert_eq!(out.code, 0, "{out:?}");
    let said = format!("{}{}", out.stdout, out.stderr);
    assert!(said.contains("T001, T002 run at once"), "{said}");
    assert!(
        !said.contains("outside its declared set"),
        "a write reached a worktree: {said}"
    );
    assert!(!m.join("pwned-T001").exists() && !m.join("pwned-T002").exists());
    assert_eq!(std::fs::read_to_string(m.join("README")).unwrap(), "base\n");
    let h = history(&m);
    assert_eq!(h[0], commit("T002: Write b.txt", &["b.txt"]));
    assert_eq!(h[1], commit("T001: Write a.txt", &["a.txt"]));
    no_worktrees_left(&m);
}

/// kill -9 at every transition of a parallel wave, then --resume: committed
/// work is kept, no worktree stays registered, the history is the same.
#[test]
fn a_run_killed_mid_wave_resumes_to_the_same_history_and_leaves_no_worktree() {
    let make = || {
        repo(
            &[
                T("T001", "a.txt", "grep -q a a.txt"),
                T("T002", "b.txt", "grep -q b b.txt"),
                T("T003", "c.txt", "grep -q c c.txt"),
            ],
            &[
                ("T001.patch", new_file_patch("a.txt", "a")),
                ("T002.patch", new_file_patch("b.txt", "b")),
                ("T003.patch", new_file_patch("c.txt", "c")),
            ],
        )
    };
    let want = [
        commit("T003: Write c.txt", &["c.txt"]),
        commit("T002: Write b.txt", &["b.txt"]),
        commit("T001: Write a.txt", &["a.txt"]),
    ];
    let mut at = 1;
    let mut cleaned = 0;
    loop {
        let tmp = make();
        let d = tmp.path();
        let killed = planexec_env(
            d,
            &["run", "plan/plan.md", "--jobs", "3"],
            &[("PLANEXEC_TEST_KILL_AT", &at.to_string())],
        );
        if killed.code == 0 {
            break;
        }
        assert_eq!(killed.code, -1, "SIGKILL at transition {at}: {killed:?}");
        let resumed = planexec(d, &["run", "plan/plan.md", "--resume", "--jobs", "3"]);
        if resumed.code == 2 && resumed.stderr.contains("no unfinished run") {
            assert!(at > 1, "killed before the run started");
        } else {
            assert_eq!(resumed.code, 0, "resume after kill at {at}: {resumed:?}");
        }
        if format!("{}{}", resumed.stdout, resumed.stderr)
            .contains("task worktree(s) a stopped run left")
        {
            cleaned += 1;
        }
        assert_eq!(history(d)[..3], want[..], "history after kill at {at}");
        no_worktrees_left(d);
        at += 1;
        assert!(at < 200, "runaway");
    }
    assert!(
        cleaned > 0,
        "no kill landed while worktrees existed ({at} points)"
    );
}
