//! Issue 27: handing a blocked task back on `--resume`: `--accept` (the person's work
//! tree judged and committed), `--retry` (the attempt undone, cycles again), `--skip`.

use crate::support::*;
use std::path::Path;

fn new_file_patch(file: &str, content: &str) -> String {
    format!("diff --git a/{file} b/{file}\nnew file mode 100644\n--- /dev/null\n+++ b/{file}\n@@ -0,0 +1 @@\n+{content}\n")
}

/// T001 (greet.txt) blocks after its one cycle (its patch writes "nope"); T002 needs
/// T001; T003 is independent. One cycle per attempt (`max_cycles = 1`).
fn blocked_repo() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    git_init(d);
    write(d, "README", "base\n");
    let task = |id: &str, title: &str, deps: &str, file: &str, word: &str| {
        format!("### {id}: {title}\n**Summary**: {title}\n**Dependencies**: {deps}\n**Files/modules touched**: {file}\n**Acceptance test**: `grep -q {word} {file}`\n\n")
    };
    let plan = format!(
        "---\ntitle: Handback\n---\n# Plan: Handback\n\n## Tasks\n\n{}{}{}",
        task("T001", "Add greeting", "none", "greet.txt", "hello"),
        task("T002", "Add farewell", "T001", "bye.txt", "bye"),
        task("T003", "Add names", "none", "names.txt", "ada"),
    );
    write(d, "plan/plan.md", &plan);
    write(
        d,
        "plan/patches/T001.patch",
        &new_file_patch("greet.txt", "nope"),
    );
    write(
        d,
        "plan/patches/T002.patch",
        &new_file_patch("bye.txt", "bye"),
    );
    write(
        d,
        "plan/patches/T003.patch",
        &new_file_patch("names.txt", "ada"),
    );
    write(
        d,
        "planexec.toml",
        "[policy]\ngrant = [\"grep\", \"git\"]\n[run]\nimplementer = \"patch\"\nmax_cycles = 1\n",
    );
    git(d, &["add", "."]);
    git(d, &["commit", "-qm", "plan"]);
    let out = planexec(d, &["run", "plan/plan.md"]);
    assert_eq!(out.code, 1, "T001 blocks: {out:?}");
    assert_eq!(read(d, "greet.txt"), "nope\n");
    tmp
}

fn read(d: &Path, rel: &str) -> String {
    std::fs::read_to_string(d.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn record(d: &Path) -> serde_json::Value {
    let runs = d.join(".git/planexec/runs");
    let f = std::fs::read_dir(runs)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let st: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
    st["record"].clone()
}

fn task<'a>(rec: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    rec["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id)
        .unwrap()
}

fn subjects(d: &Path) -> Vec<String> {
    git(d, &["log", "--format=%s"])
        .lines()
        .map(String::from)
        .collect()
}

fn issue_of(rec: &serde_json::Value, text: &str) -> serde_json::Value {
    rec["issues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["issue"].as_str().unwrap().contains(text))
        .unwrap_or_else(|| panic!("no issue with {text:?} in {}", rec["issues"]))
        .clone()
}

fn log(d: &Path) -> String {
    read(d, "plan/plan-execution-log.md")
}

#[test]
fn accept_takes_the_fixed_work_tree_as_the_tasks_commit() {
    let tmp = blocked_repo();
    let d = tmp.path();
    write(d, "greet.txt", "hello\n"); // the person's fix
    let out = planexec(d, &["run", "plan/plan.md", "--resume", "--accept", "T001"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        subjects(d)[..3],
        [
            "T002: Add farewell",
            "T003: Add names",
            "T001: Add greeting"
        ]
    );
    assert_eq!(git(d, &["show", "HEAD~2:greet.txt"]), "hello\n");
    assert_eq!(
        git(d, &["show", "--name-only", "--format=", "HEAD~2"]).trim(),
        "greet.txt"
    );
    let rec = record(d);
    let t1 = task(&rec, "T001");
    assert_eq!(t1["status"], "done");
    let last = t1["cycles"].as_array().unwrap().last().unwrap();
    assert_eq!(last["implementer"]["plugin"], "person (--accept)");
    assert_eq!(last["outcome"], "passed");
    // The acceptance command judged the person's tree.
    assert_eq!(last["gates"][0]["report"]["outcome"], "passed");
    assert!(!last["reviews"].as_array().unwrap().is_empty());
    issue_of(&rec, "T001 was handed back with --accept");
    assert!(
        log(d).contains("T001 was handed back with --accept"),
        "{}",
        log(d)
    );
}

#[test]
fn accept_of_a_still_failing_tree_is_rejected_and_nothing_is_committed() {
    let tmp = blocked_repo();
    let d = tmp.path();
    let head = git(d, &["rev-parse", "HEAD"]);
    write(d, "greet.txt", "still wrong\n");
    let out = planexec(d, &["run", "plan/plan.md", "--resume", "--accept", "T001"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(git(d, &["rev-parse", "HEAD"]), head, "nothing committed");
    assert_eq!(
        read(d, "greet.txt"),
        "still wrong\n",
        "the person's tree is left as is"
    );
    let rec = record(d);
    let t1 = task(&rec, "T001");
    assert_eq!(t1["status"], "blocked");
    let reason = t1["blocked_reason"].as_str().unwrap();
    assert!(
        reason.contains("handed back with --accept was rejected")
            && reason.contains("acceptance:T001#1")
            && reason.contains("nothing was committed"),
        "{reason}"
    );
    // No implementer ran again: the last cycle is the person's.
    let last = t1["cycles"].as_array().unwrap().last().unwrap();
    assert_eq!(last["implementer"]["plugin"], "person (--accept)");
    assert_eq!(task(&rec, "T002")["status"], "pending");
}

#[test]
fn retry_undoes_the_attempt_and_keeps_the_persons_other_changes() {
    let tmp = blocked_repo();
    let d = tmp.path();
    // The person corrects the task's input, commits that, edits the attempt's file, and
    // has unrelated work of their own in the tree.
    write(
        d,
        "plan/patches/T001.patch",
        &new_file_patch("greet.txt", "hello"),
    );
    git(d, &["commit", "-qam", "plan: fix T001"]);
    write(d, "greet.txt", "half done\n");
    write(d, "README", "base\nmy own note\n");
    write(d, "scratch.txt", "mine\n");
    let out = planexec(d, &["run", "plan/plan.md", "--resume", "--retry", "T001"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        subjects(d)[..4],
        [
            "T002: Add farewell",
            "T003: Add names",
            "T001: Add greeting",
            "plan: fix T001"
        ]
    );
    assert_eq!(git(d, &["show", "HEAD~2:greet.txt"]), "hello\n");
    // The person's unrelated changes are still there, in no task's commit.
    assert_eq!(read(d, "README"), "base\nmy own note\n");
    assert_eq!(read(d, "scratch.txt"), "mine\n");
    let status = git(d, &["status", "--porcelain"]);
    assert!(
        status.contains(" M README") && status.contains("?? scratch.txt"),
        "{status}"
    );
    for c in ["HEAD", "HEAD~1", "HEAD~2"] {
        let files = git(d, &["show", "--name-only", "--format=", c]);
        assert!(
            !files.contains("README") && !files.contains("scratch"),
            "{c}: {files}"
        );
    }
    // The attempt's file, with the person's edit, was copied aside before it was undone.
    let copy = walk(&d.join(".git/planexec/blocked"));
    assert_eq!(copy.len(), 1, "{copy:?}");
    assert_eq!(std::fs::read_to_string(&copy[0]).unwrap(), "half done\n");
    let rec = record(d);
    let t1 = task(&rec, "T001");
    assert_eq!(t1["status"], "done");
    assert_eq!(
        t1["cycles"].as_array().unwrap().len(),
        2,
        "the blocked cycle is kept"
    );
    let i = issue_of(&rec, "T001 was handed back with --retry");
    let res = i["resolution"].as_str().unwrap();
    assert!(
        res.contains("greet.txt") && res.contains("README, scratch.txt"),
        "{res}"
    );
    assert!(log(d).contains("T001 was handed back with --retry"));
}

#[test]
fn skip_marks_the_task_skipped_and_its_dependants_wait() {
    let tmp = blocked_repo();
    let d = tmp.path();
    let out = planexec(
        d,
        &[
            "run",
            "plan/plan.md",
            "--resume",
            "--skip",
            "T001",
            "--reason",
            "done by hand later",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.all()
            .contains("T002 waits: it depends on T001, which was skipped"),
        "{out:?}"
    );
    assert_eq!(subjects(d)[..2], ["T003: Add names", "plan"]);
    assert!(
        !d.join("greet.txt").exists(),
        "the attempt's file was set aside"
    );
    assert!(!d.join("bye.txt").exists(), "T002 did not run");
    let rec = record(d);
    assert_eq!(rec["status"], "waiting");
    assert_eq!(task(&rec, "T001")["status"], "skipped");
    assert_eq!(task(&rec, "T002")["status"], "pending");
    assert_eq!(task(&rec, "T003")["status"], "done");
    issue_of(&rec, "T001 was skipped with --skip: done by hand later");
    let log = log(d);
    assert!(
        log.contains("skipped") && log.contains("done by hand later"),
        "{log}"
    );
    // Later the person hands it back done: T002 runs then.
    write(d, "greet.txt", "hello\n");
    let out = planexec(d, &["run", "plan/plan.md", "--resume", "--accept", "T001"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        subjects(d)[..2],
        ["T002: Add farewell", "T001: Add greeting"]
    );
    assert_eq!(record(d)["status"], "success");
}

#[test]
fn handing_back_a_task_that_is_not_blocked_or_unknown_is_refused() {
    let tmp = blocked_repo();
    let d = tmp.path();
    let state = record(d);
    let out = planexec(d, &["run", "plan/plan.md", "--resume", "--accept", "T009"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("--accept T009: run ")
            && out
                .stderr
                .contains("has no task T009 (its tasks: T001, T002, T003)")
            && out.stderr.contains("the blocked task is T001"),
        "{out:?}"
    );
    let out = planexec(d, &["run", "plan/plan.md", "--resume", "--retry", "T003"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("--retry T003: T003 is pending, not blocked; only a blocked task is handed back; the blocked task is T001"),
        "{out:?}"
    );
    let out = planexec(d, &["run", "plan/plan.md", "--resume", "--skip", "T001"]);
    assert_eq!(out.code, 2, "--skip needs --reason: {out:?}");
    let out = planexec(d, &["run", "plan/plan.md", "--accept", "T001"]);
    assert_eq!(out.code, 2, "--accept needs --resume: {out:?}");
    // Nothing changed: the attempt's file and the run are as the block left them.
    assert_eq!(read(d, "greet.txt"), "nope\n");
    assert_eq!(record(d), state);
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            v.extend(walk(&p));
        } else {
            v.push(p);
        }
    }
    v
}
