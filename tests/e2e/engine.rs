//! `planexec run` end to end on real temporary git repositories: commits,
//! rework, blocking, tolerances, scope, resume after SIGKILL, rollback.

use crate::support::*;
use std::path::Path;

/// A patch creating `file` with `content` (one line).
fn new_file_patch(file: &str, content: &str) -> String {
    format!("diff --git a/{file} b/{file}\nnew file mode 100644\n--- /dev/null\n+++ b/{file}\n@@ -0,0 +1 @@\n+{content}\n")
}

/// A patch changing the single line of `file` from `old` to `new`.
fn change_patch(file: &str, old: &str, new: &str) -> String {
    format!(
        "diff --git a/{file} b/{file}\n--- a/{file}\n+++ b/{file}\n@@ -1 +1 @@\n-{old}\n+{new}\n"
    )
}

struct T<'a> {
    id: &'a str,
    title: &'a str,
    deps: &'a str,
    files: &'a str,
    accept: &'a str,
}

/// A repo with plan/plan.md (T-ID), patches, and a planexec.toml granting grep and git.
fn repo(
    tasks: &[T],
    patches: &[(&str, String)],
    extra_toml: &str,
    tolerances: &str,
) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    git_init(d);
    write(d, "README", "base\n");
    let mut plan = String::from("---\ntitle: Demo\n---\n# Plan: Demo\n\n");
    if !tolerances.is_empty() {
        plan.push_str(&format!("## Tolerances\n\n{tolerances}\n\n"));
    }
    plan.push_str("## Tasks\n\n");
    for t in tasks {
        plan.push_str(&format!(
            "### {}: {}\n**Summary**: {}\n**Dependencies**: {}\n**Files/modules touched**: {}\n**Acceptance test**: `{}`\n\n",
            t.id, t.title, t.title, t.deps, t.files, t.accept
        ));
    }
    write(d, "plan/plan.md", &plan);
    for (name, p) in patches {
        write(d, &format!("plan/patches/{name}"), p);
    }
    write(d, "planexec.toml", &format!("[policy]\ngrant = [\"grep\", \"git\", \"test\"]\n[run]\nimplementer = \"patch\"\n{extra_toml}"));
    git(d, &["add", "."]);
    git(d, &["commit", "-qm", "plan"]);
    tmp
}

fn three_tasks() -> tempfile::TempDir {
    repo(
        &[
            T {
                id: "T001",
                title: "Add greeting",
                deps: "none",
                files: "greet.txt",
                accept: "grep -q hello greet.txt",
            },
            T {
                id: "T002",
                title: "Add farewell",
                deps: "T001",
                files: "bye.txt",
                accept: "grep -q bye bye.txt",
            },
            T {
                id: "T003",
                title: "Add names",
                deps: "T001, T002",
                files: "names.txt",
                accept: "grep -q ada names.txt",
            },
        ],
        &[
            ("T001.patch", new_file_patch("greet.txt", "hello")),
            ("T002.patch", new_file_patch("bye.txt", "hi")), // fails its gate once
            ("T002.2.patch", change_patch("bye.txt", "hi", "bye")),
            ("T003.patch", new_file_patch("names.txt", "ada")),
        ],
        "",
        "",
    )
}

fn run_record(dir: &Path) -> serde_json::Value {
    let runs = dir.join(".git/planexec/runs");
    let f = std::fs::read_dir(&runs)
        .unwrap()
        .next()
        .expect("a run state")
        .unwrap()
        .path();
    let st: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
    st["record"].clone()
}

/// Every file under `dir`, sorted.
fn walk_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            v.extend(walk_files(&p));
        } else {
            v.push(p);
        }
    }
    v.sort();
    v
}

fn subjects(dir: &Path) -> Vec<String> {
    git(dir, &["log", "--format=%s"])
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn three_task_plan_runs_to_success_with_one_commit_per_task() {
    let tmp = three_tasks();
    let d = tmp.path();
    write(d, "notes.txt", "my uncommitted work\n"); // dirty tree -> rollback commit
    let out = planexec(d, &["run", "plan/plan.md"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("final status:    Success"), "{out:?}");
    assert_eq!(
        subjects(d),
        [
            "T003: Add names",
            "T002: Add farewell",
            "T001: Add greeting",
            "rollback: before executing plan plan",
            "plan"
        ]
    );
    // Each task commit holds exactly its file; the message carries the Refs line.
    for (rev, file) in [
        ("HEAD", "names.txt"),
        ("HEAD~1", "bye.txt"),
        ("HEAD~2", "greet.txt"),
    ] {
        assert_eq!(
            git(d, &["show", "--name-only", "--format=", rev]).trim(),
            file
        );
        assert!(git(d, &["show", "-s", "--format=%B", rev]).contains("Refs: plan/plan.md"));
    }
    // The user's work is in the rollback commit and still in the tree.
    assert_eq!(
        git(d, &["show", "--name-only", "--format=", "HEAD~3"]).trim(),
        "notes.txt"
    );
    assert_eq!(
        std::fs::read_to_string(d.join("notes.txt")).unwrap(),
        "my uncommitted work\n"
    );
    // T002 needed a rework cycle; its first cycle's feedback names the failed gate.
    let rec = run_record(d);
    let t2 = &rec["tasks"][1];
    assert_eq!(t2["cycles"].as_array().unwrap().len(), 2);
    assert_eq!(t2["cycles"][0]["outcome"], "rework");
    assert!(t2["cycles"][0]["feedback"][0]["message"]
        .as_str()
        .unwrap()
        .contains("acceptance:T002#1"));
    // The start ref exists and the log is beside the plan.
    let run_id = rec["run_id"].as_str().unwrap();
    assert!(git(d, &["show-ref"]).contains(&format!("refs/planexec/runs/{run_id}/start")));
    let log = std::fs::read_to_string(d.join("plan/plan-execution-log.md")).unwrap();
    assert!(
        log.contains("## Task Execution")
            && log.contains(&git(d, &["rev-parse", "HEAD"]).trim().to_string())
    );
}

#[test]
fn a_task_that_never_passes_is_blocked_after_three_cycles() {
    let tmp = repo(
        &[
            T {
                id: "T001",
                title: "Add greeting",
                deps: "none",
                files: "greet.txt",
                accept: "grep -q hello greet.txt",
            },
            T {
                id: "T002",
                title: "Unrelated",
                deps: "none",
                files: "other.txt",
                accept: "grep -q x other.txt",
            },
        ],
        &[
            ("T001.patch", new_file_patch("greet.txt", "nope")),
            (
                "T001.2.patch",
                change_patch("greet.txt", "nope", "still nope"),
            ),
            (
                "T001.3.patch",
                change_patch("greet.txt", "still nope", "never"),
            ),
            ("T002.patch", new_file_patch("other.txt", "x")),
        ],
        "",
        "",
    );
    let d = tmp.path();
    let out = planexec(d, &["run", "plan/plan.md", "--format", "json"]);
    assert_eq!(out.code, 1, "{out:?}");
    // NDJSON on stdout, one object per line.
    let events: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect(l))
        .collect();
    assert!(events
        .iter()
        .any(|e| e["event"] == "task_blocked" && e["task"] == "T001"));
    assert_eq!(subjects(d), ["plan"]);
    let rec = run_record(d);
    assert_eq!(rec["status"], "blocked");
    assert_eq!(rec["tasks"][0]["status"], "blocked");
    assert_eq!(rec["tasks"][0]["cycles"].as_array().unwrap().len(), 3);
    assert!(rec["tasks"][0]["blocked_reason"]
        .as_str()
        .unwrap()
        .contains("failed 3 cycles"));
    // Stop and ask: the independent task T002 is not started either.
    assert_eq!(rec["tasks"][1]["status"], "pending");
    // A second run refuses and points at --resume.
    let again = planexec(d, &["run", "plan/plan.md"]);
    assert_eq!(again.code, 2, "{again:?}");
    assert!(again.stderr.contains("--resume"), "{again:?}");
}

#[test]
fn a_tolerance_breach_blocks_with_the_tolerance_quoted() {
    let tmp = repo(
        &[T {
            id: "T001",
            title: "Big change",
            deps: "none",
            files: "a.txt, b.txt",
            accept: "test -f a.txt",
        }],
        &[(
            "T001.patch",
            format!(
                "{}{}",
                new_file_patch("a.txt", "a"),
                new_file_patch("b.txt", "b")
            ),
        )],
        "",
        "- Scope: stop and escalate if a task touches more than 1 files or 100 net lines.",
    );
    let d = tmp.path();
    let out = planexec(d, &["run", "plan/plan.md"]);
    assert_eq!(out.code, 1, "{out:?}");
    let rec = run_record(d);
    let reason = rec["tasks"][0]["blocked_reason"].as_str().unwrap();
    assert!(
        reason.contains("tolerance breached") && reason.contains("more than 1"),
        "{reason}"
    );
    assert!(
        reason.contains("touches more than 1 files"),
        "the plan's sentence is quoted: {reason}"
    );
    assert_eq!(subjects(d), ["plan"]);
}

#[test]
fn a_file_outside_the_task_fails_the_task_review() {
    let tmp = repo(
        &[T { id: "T001", title: "Add greeting", deps: "none", files: "greet.txt", accept: "grep -q hello greet.txt" }],
        &[
            ("T001.patch", format!("{}{}", new_file_patch("greet.txt", "hello"), new_file_patch("stray.txt", "oops"))),
            ("T001.2.patch", "diff --git a/stray.txt b/stray.txt\ndeleted file mode 100644\n--- a/stray.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-oops\n".to_string()),
        ],
        "",
        "",
    );
    let d = tmp.path();
    let out = planexec(d, &["run", "plan/plan.md"]);
    assert_eq!(out.code, 0, "{out:?}");
    let rec = run_record(d);
    let c1 = &rec["tasks"][0]["cycles"][0];
    assert_eq!(c1["reviews"][0]["kind"], "task");
    assert_eq!(c1["reviews"][0]["outcome"], "changes_requested");
    let scope = c1["reviews"][0]["review"]["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Scope compliance")
        .unwrap()
        .clone();
    assert_eq!(scope["score"], "fail");
    assert!(c1["feedback"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["path"] == "stray.txt"));
    // The code review did not run in that cycle.
    assert_eq!(c1["reviews"].as_array().unwrap().len(), 1);
    // After rework the task commit holds only greet.txt.
    assert_eq!(
        git(d, &["show", "--name-only", "--format=", "HEAD"]).trim(),
        "greet.txt"
    );
}

/// Normalises what legitimately differs between two runs: times, ids, hashes.
fn normalise(s: &str) -> String {
    let mut out = String::new();
    for line in s.lines() {
        let mut l = line.to_string();
        for pat in [
            r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T _][0-9:.\-]+Z?",
            r"[0-9a-f]{40}",
            r"[0-9a-f]{10,12}",
            r"[0-9]{8}T[0-9]{6}Z",
            r"\([0-9]+ ms\)|[0-9]+ ms|\([0-9]+s\)",
        ] {
            l = regex_replace(&l, pat);
        }
        out.push_str(&l);
        out.push('\n');
    }
    out
}

fn regex_replace(s: &str, pat: &str) -> String {
    regex::Regex::new(pat)
        .unwrap()
        .replace_all(s, "<X>")
        .into_owned()
}

/// The log minus what a resume adds on purpose: the `resumed` check and the
/// Issues & Resolutions entry saying the run was interrupted.
fn without_issues(log: &str) -> String {
    let mut out = Vec::new();
    let mut skip = false;
    for l in log.lines() {
        if l.starts_with("## ") {
            skip = l.starts_with("## Issues");
        }
        if !skip && !l.contains("resumed:") {
            out.push(l);
        }
    }
    out.join("\n")
}

fn tree_and_messages(d: &Path) -> Vec<(String, String)> {
    git(d, &["log", "--format=%T %s"])
        .lines()
        .map(|l| {
            let (t, s) = l.split_once(' ').unwrap();
            (t.to_string(), s.to_string())
        })
        .collect()
}

#[test]
fn killed_at_every_transition_and_resumed_ends_like_an_uninterrupted_run() {
    let reference = three_tasks();
    let out = planexec(reference.path(), &["run", "plan/plan.md"]);
    assert_eq!(out.code, 0, "{out:?}");
    let want_commits = tree_and_messages(reference.path());
    let want_log = normalise(
        &std::fs::read_to_string(reference.path().join("plan/plan-execution-log.md")).unwrap(),
    );

    let mut at = 1;
    let mut journalled = 0;
    loop {
        let tmp = three_tasks();
        let d = tmp.path();
        let killed = planexec_env(
            d,
            &["run", "plan/plan.md"],
            &[("PLANEXEC_TEST_KILL_AT", &at.to_string())],
        );
        if killed.code == 0 {
            break; // the run has fewer transitions than `at`: every point was covered
        }
        assert_eq!(
            killed.code, -1,
            "killed by SIGKILL at transition {at}: {killed:?}"
        );
        // Mid-run the state is a snapshot plus an append-only journal; a crash in
        // the middle of an append leaves a torn last line, which resume ignores.
        if let Some(j) = journal_file(d) {
            journalled += 1;
            let mut f = std::fs::OpenOptions::new().append(true).open(j).unwrap();
            std::io::Write::write_all(&mut f, b"{\"entry\":\"task\",\"ta").unwrap();
        }
        let resumed = planexec(d, &["run", "plan/plan.md", "--resume"]);
        if resumed.code == 2 && resumed.stderr.contains("no unfinished run") {
            // Killed after the last save: the run had already finished.
            assert_eq!(run_record(d)["status"], "success", "kill at {at}");
        } else {
            assert_eq!(resumed.code, 0, "resume after kill at {at}: {resumed:?}");
        }
        assert_eq!(
            tree_and_messages(d),
            want_commits,
            "commits after kill at {at}"
        );
        let log =
            normalise(&std::fs::read_to_string(d.join("plan/plan-execution-log.md")).unwrap());
        let log_wo_resume = without_issues(&log);
        let want_wo = without_issues(&want_log);
        assert_eq!(log_wo_resume, want_wo, "log after kill at {at}");
        assert_eq!(journal_file(d), None, "the finished run folded its journal");
        at += 1;
        assert!(at < 200, "runaway");
    }
    assert!(at > 20, "expected many transitions, got {at}");
    assert!(
        journalled > at / 2,
        "most kills left a journal to replay ({journalled} of {at})"
    );
}

/// The run's journal, when it has one (a run that stopped has folded it).
fn journal_file(d: &Path) -> Option<std::path::PathBuf> {
    let dir = d.join(".git/planexec/journal");
    let f = std::fs::read_dir(dir).ok()?.next()?.ok()?.path();
    (std::fs::metadata(&f).ok()?.len() > 0).then_some(f)
}

#[test]
fn rollback_lists_then_restores_only_with_yes() {
    let tmp = three_tasks();
    let d = tmp.path();
    write(d, "notes.txt", "mine\n");
    assert_eq!(planexec(d, &["run", "plan/plan.md"]).code, 0);
    let run_id = run_record(d)["run_id"].as_str().unwrap().to_string();
    let head = git(d, &["rev-parse", "HEAD"]);
    let dry = planexec(d, &["rollback", &run_id]);
    assert_eq!(dry.code, 1, "{dry:?}");
    assert!(
        dry.stdout.contains("would discard commit") && dry.stdout.contains("T003: Add names"),
        "{dry:?}"
    );
    assert_eq!(
        git(d, &["rev-parse", "HEAD"]),
        head,
        "nothing changed without --yes"
    );
    let yes = planexec(d, &["rollback", &run_id, "--yes"]);
    assert_eq!(yes.code, 0, "{yes:?}");
    assert_eq!(subjects(d)[0], "rollback: before executing plan plan");
    assert_eq!(
        std::fs::read_to_string(d.join("notes.txt")).unwrap(),
        "mine\n",
        "the user's work survives"
    );
    assert!(!d.join("greet.txt").exists());
}

#[test]
fn manual_implementer_waits_and_resume_picks_up_the_work() {
    let tmp = repo(
        &[T {
            id: "T001",
            title: "Add greeting",
            deps: "none",
            files: "greet.txt",
            accept: "grep -q hello greet.txt",
        }],
        &[],
        "",
        "",
    );
    let d = tmp.path();
    let out = planexec(d, &["run", "plan/plan.md", "--implementer", "manual"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("Waiting"), "{out:?}");
    assert_eq!(run_record(d)["status"], "waiting");
    write(d, "greet.txt", "hello\n"); // the person does the work
    let out = planexec(
        d,
        &["run", "plan/plan.md", "--implementer", "manual", "--resume"],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(subjects(d)[0], "T001: Add greeting");
}

#[test]
fn preflight_failures_change_nothing() {
    let tmp = three_tasks();
    let d = tmp.path();
    write(
        d,
        "planexec.toml",
        "[policy]\ngrant = [\"git\"]\n[run]\nimplementer = \"patch\"\n",
    ); // grep not granted
    write(d, "wip.txt", "mine\n");
    let out = planexec(d, &["run", "plan/plan.md"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("pre-flight failed") && out.stderr.contains("grep"),
        "{out:?}"
    );
    assert_eq!(subjects(d), ["plan"]);
    assert!(git(d, &["status", "--porcelain"]).contains("wip.txt"));
    assert!(!d.join(".git/planexec/runs").exists());
}

#[test]
fn run_writes_the_requested_reports_at_the_end() {
    let tmp = three_tasks();
    let d = tmp.path();
    let out = planexec(
        d,
        &[
            "run",
            "plan/plan.md",
            "--report",
            "junit=out/junit.xml",
            "--report",
            "json=out/run.json",
            "--report",
            "sarif=out/run.sarif",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let rec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("out/run.json")).unwrap()).unwrap();
    assert_eq!(rec["status"], "success");
    assert_eq!(rec["tasks"].as_array().unwrap().len(), 3);
    let junit = std::fs::read_to_string(d.join("out/junit.xml")).unwrap();
    assert!(junit.matches("<testcase").count() >= 3, "{junit}");
    assert!(junit.contains("T002"), "{junit}");
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("out/run.sarif")).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    // Reports are not part of any task commit.
    assert!(!git(d, &["log", "--name-only", "--format="]).contains("out/"));
    let bad = planexec(d, &["run", "plan/plan.md", "--report", "xml=x.xml"]);
    assert_eq!(bad.code, 2, "{bad:?}");
}

/// A planpipe backlog: execution-status.md is kept beside the plan during the
/// run and execution-summary.md is written at the end; tasks commit with ST ids.
#[test]
fn planpipe_backlog_gets_status_and_summary_files() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    git_init(d);
    let st = |n: u32, file: &str, deps: &str| {
        format!(
            "### ST-{n}: Write {file}\n\n**Wave:** {n}\n\n#### Change Area\n\n| Module | File | Change Type | Description |\n|---|---|---|---|\n| notes | `{file}` | create | the file |\n\n#### Dependencies\n\n| Dependency | Type | From | Unblock Condition |\n|---|---|---|---|\n{deps}\n\n#### Completion Criteria\n\n- [ ] `grep -q ok {file}`\n\n"
        )
    };
    let backlog = format!(
        "# Execution Backlog: notes\n\n### Wave 1\n\n{}### Wave 2\n\n{}",
        st(1, "a.txt", "| — | — | — | — |"),
        st(2, "b.txt", "| ST-1 | blocking | ST-1 | a.txt exists |")
    );
    write(d, "backlog/execution-backlog.md", &backlog);
    write(
        d,
        "backlog/patches/ST-1.patch",
        &new_file_patch("a.txt", "ok"),
    );
    write(
        d,
        "backlog/patches/ST-2.patch",
        &new_file_patch("b.txt", "ok"),
    );
    write(
        d,
        "planexec.toml",
        "[policy]\ngrant = [\"grep\", \"git\"]\n[run]\nimplementer = \"patch\"\n",
    );
    git(d, &["add", "."]);
    git(d, &["commit", "-qm", "backlog"]);
    let out = planexec(d, &["run", "backlog/execution-backlog.md"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        subjects(d)[..2],
        [
            "ST-2: Write b.txt".to_string(),
            "ST-1: Write a.txt".to_string()
        ]
    );
    let status = std::fs::read_to_string(d.join("backlog/execution-status.md")).unwrap();
    assert!(
        status.contains("| ID | Title | Status | Wave | Review Cycles | Notes |"),
        "{status}"
    );
    assert!(
        status.contains("ST-1") && status.contains("ST-2"),
        "{status}"
    );
    let summary = std::fs::read_to_string(d.join("backlog/execution-summary.md")).unwrap();
    assert!(summary.contains("ST-2"), "{summary}");
    // Neither file is part of a task commit.
    assert!(!git(d, &["log", "--name-only", "--format="]).contains("execution-status.md"));
}

/// Stop and ask, then continue: after a block the person adds a fix and resumes;
/// the task gets a fresh rework budget and its earlier cycles stay on record.
#[test]
fn a_blocked_task_resumes_with_its_history_kept() {
    let tmp = repo(
        &[T {
            id: "T001",
            title: "Add greeting",
            deps: "none",
            files: "greet.txt",
            accept: "grep -q hello greet.txt",
        }],
        &[
            ("T001.patch", new_file_patch("greet.txt", "nope")),
            (
                "T001.2.patch",
                change_patch("greet.txt", "nope", "still nope"),
            ),
            (
                "T001.3.patch",
                change_patch("greet.txt", "still nope", "never"),
            ),
        ],
        "",
        "",
    );
    let d = tmp.path();
    assert_eq!(planexec(d, &["run", "plan/plan.md"]).code, 1);
    assert_eq!(
        std::fs::read_to_string(d.join("greet.txt")).unwrap(),
        "never\n"
    );
    // Issue 25, the documented way out: the person corrects the task's first input
    // (the whole file, as the task's start has none), commits it, and resumes. The
    // blocked attempt's `greet.txt` is set aside, so the patch applies to a clean tree.
    write(
        d,
        "plan/patches/T001.patch",
        &new_file_patch("greet.txt", "hello"),
    );
    // The person commits the plan change (uncommitted files would count as the task's).
    git(d, &["add", "plan/patches/T001.patch"]);
    git(d, &["commit", "-qm", "plan: fix T001"]);
    let out = planexec(d, &["run", "plan/plan.md", "--resume"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(subjects(d)[0], "T001: Add greeting");
    assert_eq!(
        std::fs::read_to_string(d.join("greet.txt")).unwrap(),
        "hello\n"
    );
    assert!(
        out.all().contains("T001 resumes after its block from a clean tree: its blocked attempt's changes to greet.txt were undone (a copy is in .git/planexec/blocked/"),
        "{out:?}"
    );
    let copies: Vec<_> = walk_files(&d.join(".git/planexec/blocked"));
    assert_eq!(copies.len(), 1, "{copies:?}");
    assert!(copies[0].ends_with("T001-cycle3/greet.txt"), "{copies:?}");
    assert_eq!(std::fs::read_to_string(&copies[0]).unwrap(), "never\n");
    let rec = run_record(d);
    let cycles = rec["tasks"][0]["cycles"].as_array().unwrap();
    assert_eq!(cycles.len(), 4, "the three blocked cycles are kept");
    assert_eq!(cycles[2]["outcome"], "blocked");
    assert_eq!(cycles[3]["outcome"], "passed");
    let log = std::fs::read_to_string(d.join("plan/plan-execution-log.md")).unwrap();
    assert!(log.contains("Cycle 1") && log.contains("Cycle 4"), "{log}");
}

/// Issue 12: after a block the person corrects the first patch and resumes; the
/// corrected `T001.patch` is used (not `T001.4.patch`), the block reason names
/// the first real cause, and every rejected cycle is under Issues & Resolutions.
#[test]
fn resume_after_a_block_uses_the_corrected_input_and_names_the_first_cause() {
    let tmp = repo(
        &[T {
            id: "T001",
            title: "Change base",
            deps: "none",
            files: "src/base.txt",
            accept: "grep -q new src/base.txt",
        }],
        &[("T001.patch", change_patch("src/base.txt", "wrong", "new"))],
        "",
        "",
    );
    let d = tmp.path();
    write(d, "src/base.txt", "base\n");
    git(d, &["add", "."]);
    git(d, &["commit", "-qm", "base"]);
    let out = planexec(d, &["run", "plan/plan.md"]);
    assert_eq!(out.code, 1, "{out:?}");
    let rec = run_record(d);
    let reason = rec["tasks"][0]["blocked_reason"].as_str().unwrap();
    assert!(
        reason.contains("first cause (cycle 1)") && reason.contains("patch failed: src/base.txt:1"),
        "{reason}"
    );
    assert!(reason.contains("last rejection (cycle 3)"), "{reason}");
    // Whole seconds, not nanoseconds.
    let ts = regex::Regex::new(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$").unwrap();
    assert!(
        ts.is_match(rec["started_at"].as_str().unwrap()),
        "{}",
        rec["started_at"]
    );
    let log = std::fs::read_to_string(d.join("plan/plan-execution-log.md")).unwrap();
    for n in 1..=3 {
        // Once each (issue 25: the engine's issue and the cycle's line were both listed).
        assert_eq!(
            log.matches(&format!("cycle {n} rejected")).count(),
            1,
            "cycle {n} in:\n{log}"
        );
    }

    write(
        d,
        "plan/patches/T001.patch",
        &change_patch("src/base.txt", "base", "new"),
    );
    git(d, &["add", "plan/patches/T001.patch"]);
    git(d, &["commit", "-qm", "plan: fix T001's patch"]);
    let out = planexec(d, &["run", "plan/plan.md", "--resume"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(subjects(d)[0], "T001: Change base");
    assert_eq!(
        std::fs::read_to_string(d.join("src/base.txt")).unwrap(),
        "new\n"
    );
    // The person's commit mid-run is an intervention in the record and the log,
    // and not one of the task's files.
    let rec = run_record(d);
    assert!(
        rec["issues"].as_array().unwrap().iter().any(|i| i["issue"]
            .as_str()
            .unwrap()
            .contains("HEAD moved outside planexec before T001")),
        "{}",
        rec["issues"]
    );
    assert_eq!(
        rec["tasks"][0]["cycles"][3]["files"],
        serde_json::json!(["src/base.txt"])
    );
    let log = std::fs::read_to_string(d.join("plan/plan-execution-log.md")).unwrap();
    assert!(log.contains("plan: fix T001's patch"), "{log}");
}

/// Issue 12: the manual implementer's brief is readable on stdout (task, files,
/// acceptance, the last cycle's findings once, with the failing output) and ends
/// with the resume command; the run's --grant and --implementer are saved and
/// reused by the plain `--resume` it prints, which says so.
#[test]
fn the_manual_brief_is_readable_and_the_printed_resume_command_works() {
    let tmp = repo(
        &[T {
            id: "T001",
            title: "Add greeting",
            deps: "none",
            files: "greet.txt",
            accept: "diff greet.txt plan/want.txt",
        }],
        &[],
        "",
        "",
    );
    let d = tmp.path();
    write(d, "plan/want.txt", "hello\n");
    git(d, &["add", "."]);
    git(d, &["commit", "-qm", "want"]);
    let out = planexec(
        d,
        &[
            "run",
            "plan/plan.md",
            "--implementer",
            "manual",
            "--grant",
            "diff",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    for want in [
        "T001 is waiting for you (manual):\n",
        "\n  T001: Add greeting\n",
        "Acceptance commands (must pass):\n",
        "Files:\n    - greet.txt\n",
        "to continue: planexec run plan/plan.md --resume\n",
    ] {
        assert!(
            out.stdout.contains(want),
            "missing {want:?}:\n{}",
            out.stdout
        );
    }
    write(d, "greet.txt", "hullo\n"); // the person gets it wrong once
    let out = planexec(d, &["run", "plan/plan.md", "--resume"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr
            .contains("resuming with the settings the run was started with")
            && out.stderr.contains("--grant diff")
            && out.stderr.contains("--implementer manual"),
        "{out:?}"
    );
    assert!(
        out.stdout.contains("Feedback from the last cycle:"),
        "{}",
        out.stdout
    );
    assert_eq!(
        out.stdout.matches("`acceptance:T001#1` failed").count(),
        1,
        "the gate's failure once:\n{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("> hello"),
        "the failing output: {}",
        out.stdout
    );
    write(d, "greet.txt", "hello\n");
    let out = planexec(d, &["run", "plan/plan.md", "--resume"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(subjects(d)[0], "T001: Add greeting");
}

/// Issue 12: `--format json` given when the run started is saved with it and
/// used by a plain `--resume` (NDJSON on stdout from the first line, and the
/// resume says it reused it); a `--format` on the resume command wins.
#[test]
fn resume_keeps_the_output_format_the_run_was_started_with() {
    let tmp = repo(
        &[T {
            id: "T001",
            title: "Add greeting",
            deps: "none",
            files: "greet.txt",
            accept: "grep -q hello greet.txt",
        }],
        &[],
        "",
        "",
    );
    let d = tmp.path();
    let ndjson = |out: &Out| -> Vec<serde_json::Value> {
        assert!(!out.stdout.trim().is_empty(), "{out:?}");
        out.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}\n{out:?}")))
            .collect()
    };
    let args = ["run", "plan/plan.md", "--implementer", "manual"];
    let out = planexec(d, &[&args[..], &["--format", "json"]].concat());
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        ndjson(&out).iter().any(|e| e["event"] == "run_started"),
        "{out:?}"
    );
    // Still waiting: a plain resume prints NDJSON again and says why.
    let out = planexec(d, &["run", "plan/plan.md", "--resume"]);
    assert_eq!(out.code, 0, "{out:?}");
    let events = ndjson(&out);
    assert!(events
        .iter()
        .any(|e| e["event"] == "run_started" && e["resumed"] == true));
    assert!(
        events.iter().any(|e| e["text"].as_str().is_some_and(|t| t
            .contains("resuming with the settings")
            && t.contains("--format json"))),
        "{events:?}"
    );
    // The command line's format wins over the saved one.
    let out = planexec(d, &["run", "plan/plan.md", "--resume", "--format", "human"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .lines()
            .all(|l| serde_json::from_str::<serde_json::Value>(l).is_err()),
        "human output: {}",
        out.stdout
    );
    assert!(
        out.stdout.contains("T001 is waiting for you (manual)"),
        "{}",
        out.stdout
    );
    write(d, "greet.txt", "hello\n");
    let out = planexec(d, &["run", "plan/plan.md", "--resume"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        ndjson(&out)
            .iter()
            .any(|e| e["event"] == "committed" && e["task"] == "T001"),
        "{}",
        out.stdout
    );
    assert_eq!(subjects(d)[0], "T001: Add greeting");
}

/// The first kill point at which the run died mid-task with the task's file in
/// the work tree (three_tasks: T001 writes greet.txt).
fn killed_mid_task() -> tempfile::TempDir {
    for at in 1..60 {
        let tmp = three_tasks();
        let d = tmp.path();
        let killed = planexec_env(
            d,
            &["run", "plan/plan.md"],
            &[("PLANEXEC_TEST_KILL_AT", &at.to_string())],
        );
        assert_eq!(killed.code, -1, "kill at {at}: {killed:?}");
        if d.join("greet.txt").exists() && git(d, &["status", "--porcelain"]).contains("greet.txt")
        {
            return tmp;
        }
    }
    panic!("no kill point left T001's work uncommitted");
}

/// Issue 12: recovery after kill -9 is said on the terminal, not only in the log.
#[test]
fn recovery_after_kill_is_printed_on_the_terminal() {
    let tmp = killed_mid_task();
    let d = tmp.path();
    let out = planexec(d, &["run", "plan/plan.md", "--resume"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("recovered T001 after an interruption")
            && out.stderr.contains("backed up to"),
        "{out:?}"
    );
}

/// Issue 12: when the interrupted task's work cannot be backed up, the run
/// stops and the work stays in the tree (it used to be deleted anyway).
#[test]
fn a_failed_backup_stops_the_run_and_keeps_the_work() {
    let tmp = killed_mid_task();
    let d = tmp.path();
    let before = std::fs::read_to_string(d.join("greet.txt")).unwrap();
    // A file where the backup folder must be created.
    write(d, ".git/planexec/interrupted", "in the way\n");
    let out = planexec(d, &["run", "plan/plan.md", "--resume"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.all().contains("could not be backed up"), "{out:?}");
    assert_eq!(
        std::fs::read_to_string(d.join("greet.txt")).unwrap(),
        before
    );
    assert_eq!(run_record(d)["tasks"][0]["status"], "blocked");
}

/// Whether a process with exactly these arguments is alive (any PID namespace
/// we can see: the box's processes are visible from the host's).
fn process_with_args(args: &[&str]) -> bool {
    let want: Vec<u8> = args
        .iter()
        .flat_map(|a| [a.as_bytes(), b"\0"].concat())
        .collect();
    std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
        std::fs::read(e.path().join("cmdline"))
            .map(|c| c.ends_with(&want) && c.len() > 0)
            .unwrap_or(false)
    })
}

/// Issue 12: Ctrl-C (SIGINT) or SIGTERM during a gate kills the gate's whole
/// process group, saves the state, prints the resume command, and exits 130 / 143.
#[test]
fn sigint_and_sigterm_stop_the_gate_save_the_state_and_print_the_resume_command() {
    for (sig, code, secs) in [(libc::SIGINT, 130, "29.25"), (libc::SIGTERM, 143, "29.75")] {
        let tmp = repo(
            &[T {
                id: "T001",
                title: "Add greeting",
                deps: "none",
                files: "greet.txt",
                accept: &format!("timeout {secs} tail -f README"),
            }],
            &[("T001.patch", new_file_patch("greet.txt", "hello"))],
            "",
            "",
        );
        let d = tmp.path();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_planexec"))
            .args([
                "run",
                "plan/plan.md",
                "--grant",
                "timeout",
                "--grant",
                "tail",
            ])
            .current_dir(d)
            .env("PLANEXEC_CACHE_DIR", cache_dir())
            .env("XDG_CONFIG_HOME", user_config_home())
            .env("PLANEXEC_TRUST", "1")
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let t = std::time::Instant::now();
        // The gate's command and its child (timeout forks tail).
        let gate = [secs, "tail", "-f", "README"];
        while !process_with_args(&["tail", "-f", "README"]) || !process_with_args(&gate) {
            assert!(t.elapsed().as_secs() < 60, "the gate never started");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        // SAFETY: a signal to the child we spawned.
        unsafe { libc::kill(child.id() as i32, sig) };
        let out = child.wait_with_output().unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert_eq!(out.status.code(), Some(code), "{stdout}\n{stderr}");
        assert!(
            t.elapsed().as_secs() < 25,
            "stopped at once, not after the gate"
        );
        assert!(!process_with_args(&gate), "the gate's process is gone");
        assert!(
            !process_with_args(&["tail", "-f", "README"]),
            "and its child, in the same process group"
        );
        assert!(
            stdout.contains("to continue: planexec run plan/plan.md --resume"),
            "{stdout}\n{stderr}"
        );
        assert!(stderr.contains("interrupted by"), "{stderr}");
        // The state is saved: a new run is refused and points at --resume.
        let again = planexec(d, &["run", "plan/plan.md"]);
        assert_eq!(again.code, 2, "{again:?}");
        assert!(again.stderr.contains("--resume"), "{again:?}");
    }
}

/// A repo whose PLAN.md is an ExecPlan (`Status: DRAFT`, two Progress items P1, P2).
fn execplan_repo(patches: &[(&str, String)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    git_init(d);
    write(d, "README", "base\n");
    write(d, "PLAN.md", "# ExecPlan: Greetings\n\nStatus: DRAFT\n\n## Purpose\n\nAdd greeting files.\n\n## Progress\n\n- [ ] Add greet.txt.\n- [ ] Add bye.txt.\n");
    for (name, p) in patches {
        write(d, &format!("patches/{name}"), p);
    }
    // The plan names no files or acceptance commands, so no task review (it would find them weak).
    write(d, "planexec.toml", "[policy]\ngrant = [\"grep\", \"git\"]\n[run]\nimplementer = \"patch\"\ntask_review = \"\"\n");
    git(d, &["add", "."]);
    git(d, &["commit", "-qm", "plan"]);
    tmp
}

fn status_line(d: &Path) -> String {
    let plan = std::fs::read_to_string(d.join("PLAN.md")).unwrap();
    plan.lines()
        .find(|l| l.starts_with("Status:"))
        .unwrap_or("")
        .to_string()
}

#[test]
fn an_execplan_status_line_says_how_the_run_left_it() {
    let tmp = execplan_repo(&[
        ("P1.patch", new_file_patch("greet.txt", "hello")),
        ("P2.patch", new_file_patch("bye.txt", "bye")),
    ]);
    let d = tmp.path();
    let out = planexec(d, &["run", "PLAN.md"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(status_line(d), "Status: COMPLETE");
    let out = planexec(d, &["check", "PLAN.md"]);
    assert!(out.all().contains("0 errors, 0 warnings"), "{out:?}");

    // P2's patch never applies (README is not what it says): the run blocks after P1.
    let bad = change_patch("README", "other", "changed");
    let tmp = execplan_repo(&[
        ("P1.patch", new_file_patch("greet.txt", "hello")),
        ("P2.patch", bad.clone()),
        ("P2.2.patch", bad.clone()),
        ("P2.3.patch", bad),
    ]);
    let d = tmp.path();
    let out = planexec(d, &["run", "PLAN.md"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(status_line(d), "Status: BLOCKED");
    let plan = std::fs::read_to_string(d.join("PLAN.md")).unwrap();
    assert!(
        plan.contains("- [x] (") && plan.contains("- [ ] Add bye.txt."),
        "{plan}"
    );
    let out = planexec(d, &["check", "PLAN.md"]);
    assert!(out.all().contains("0 warnings"), "{out:?}");
}

/// Issue 28: a task diff holding the value of a `[policy.secrets]` key is
/// rejected before any review (a finding naming the key, never its value), and
/// the rework that reads it from the environment instead is what gets committed.
#[test]
fn a_task_diff_holding_a_secret_is_rejected_and_never_committed() {
    let key = "sk-test-SECRET-0123456789";
    let dir = repo(
        &[T {
            id: "T001",
            title: "Configure the client",
            deps: "none",
            files: "key.txt",
            accept: "grep -q from-env key.txt",
        }],
        &[
            ("T001.patch", new_file_patch("key.txt", &format!("from-env {key}"))),
            ("T001.2.patch", change_patch("key.txt", &format!("from-env {key}"), "from-env MODEL_KEY")),
        ],
        "[policy.secrets]\nMODEL_KEY = { from_env = \"HOST_MODEL_KEY\", hosts = [\"api.example.com\"] }\n",
        "",
    );
    let d = dir.path();
    let out = output_of(planexec_command(
        d,
        &["run", "plan/plan.md"],
        &[("HOST_MODEL_KEY", key)],
    ));
    assert_eq!(out.code, 0, "{out:?}");
    let all = out.all();
    assert!(
        all.contains("planexec/secret-in-diff") || all.contains("holds the value of MODEL_KEY"),
        "{all}"
    );
    // Past the commit that holds the plan (whose patches carry the key).
    let root = git(d, &["rev-list", "--max-parents=0", "HEAD"]);
    let log = git(d, &["log", "-p", &format!("{}..HEAD", root.trim())]);
    assert!(log.contains("from-env MODEL_KEY"), "{log}");
    assert!(!log.contains(key), "the key was committed: {log}");
    let record = run_record(d).to_string();
    assert!(
        record.contains("holds the value of MODEL_KEY (key.txt)"),
        "{record}"
    );
    assert!(!record.contains(key), "the record holds the key");
}
