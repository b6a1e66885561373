//! planexec-vcs on real temporary git repositories.

mod common;

use common::*;
use planexec_vcs::{
    atomic_write, commit_message, plan_ref, ChangeKind, Repo, StatusKind, VcsError,
};
use std::path::PathBuf;

fn base() -> (tempfile::TempDir, git2::Repository, Repo) {
    let (dir, g) = init();
    write(dir.path(), "a.txt", "one\ntwo\nthree\n");
    write(dir.path(), "b.txt", "bee\n");
    write(dir.path(), "gone.txt", "to be deleted\n");
    write(dir.path(), ".gitignore", "*.log\n");
    commit_all(&g, "initial");
    let repo = Repo::discover(dir.path()).unwrap();
    (dir, g, repo)
}

#[test]
fn discover_from_a_subdirectory_and_reports_branch_and_head() {
    let (dir, g, _) = base();
    write(dir.path(), "sub/x.txt", "x\n");
    let repo = Repo::discover(dir.path().join("sub")).unwrap();
    assert_eq!(
        repo.workdir().canonicalize().unwrap(),
        dir.path().canonicalize().unwrap()
    );
    let head = g.head().unwrap().peel_to_commit().unwrap().id().to_string();
    assert_eq!(repo.head().unwrap(), Some(head.clone()));
    let branch = repo.branch().unwrap();
    assert!(branch == "master" || branch == "main", "{branch}");
    g.set_head_detached(git2::Oid::from_str(&head).unwrap())
        .unwrap();
    assert_eq!(repo.branch().unwrap(), "(detached)");
}

#[test]
fn not_a_repository_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = Repo::discover(dir.path()).unwrap_err();
    assert!(matches!(err, VcsError::NotARepo { .. }));
    assert!(err.to_string().contains("git init"), "{err}");
}

#[test]
fn dirty_tree_gets_a_rollback_commit_holding_the_users_files() {
    let (dir, g, repo) = base();
    let before = repo.head().unwrap().unwrap();
    write(dir.path(), "a.txt", "one\nTWO\nthree\n");
    write(dir.path(), "new/user.txt", "user work\n");
    write(dir.path(), "debug.log", "ignored\n");
    std::fs::remove_file(dir.path().join("gone.txt")).unwrap();
    assert!(repo.is_dirty().unwrap());
    let kinds: Vec<_> = repo
        .status_paths()
        .unwrap()
        .into_iter()
        .map(|s| (s.path, s.kind))
        .collect();
    assert!(
        kinds.contains(&("new/user.txt".into(), StatusKind::Untracked)),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("gone.txt".into(), StatusKind::Deleted)),
        "{kinds:?}"
    );
    assert!(!kinds.iter().any(|(p, _)| p == "debug.log"));

    let rp = repo.rollback_point("my topic", "run-1").unwrap();
    assert!(rp.dirty);
    let rc = rp.rollback_commit.clone().unwrap();
    assert_eq!(rp.start_commit, rc);
    assert_eq!(rp.previous_head.as_deref(), Some(before.as_str()));
    let c = g.find_commit(git2::Oid::from_str(&rc).unwrap()).unwrap();
    assert_eq!(
        c.message().unwrap().trim(),
        "rollback: before executing plan my topic"
    );
    assert_eq!(c.parent_id(0).unwrap().to_string(), before);
    assert_eq!(file_at(&g, &rc, "a.txt").unwrap(), b"one\nTWO\nthree\n");
    assert_eq!(file_at(&g, &rc, "new/user.txt").unwrap(), b"user work\n");
    assert!(file_at(&g, &rc, "gone.txt").is_none());
    assert!(
        file_at(&g, &rc, "debug.log").is_none(),
        ".gitignore is respected"
    );
    // The ref exists and points at the start commit; nothing was reset.
    let r = g.find_reference("refs/planexec/runs/run-1/start").unwrap();
    assert_eq!(r.target().unwrap().to_string(), rp.start_commit);
    assert_eq!(rp.start_ref, "refs/planexec/runs/run-1/start");
    assert_eq!(repo.head().unwrap(), Some(rc));
    assert!(!repo.is_dirty().unwrap());
    assert_eq!(read(dir.path(), "debug.log"), "ignored\n");
    assert_eq!(read(dir.path(), "a.txt"), "one\nTWO\nthree\n");
    if let Some(st) = porcelain(dir.path()) {
        assert!(st.is_empty(), "{st:?}");
    }
    assert_eq!(repo.list_runs().unwrap(), vec!["run-1".to_string()]);
    assert_eq!(repo.run_start("run-1").unwrap(), rp.start_commit);
}

#[test]
fn clean_tree_gets_no_rollback_commit_but_a_start_ref() {
    let (_dir, g, repo) = base();
    let head = repo.head().unwrap().unwrap();
    let rp = repo.rollback_point("t", "run-clean").unwrap();
    assert!(!rp.dirty);
    assert_eq!(rp.rollback_commit, None);
    assert_eq!(rp.start_commit, head);
    assert_eq!(repo.head().unwrap(), Some(head.clone()));
    let r = g
        .find_reference("refs/planexec/runs/run-clean/start")
        .unwrap();
    assert_eq!(r.target().unwrap().to_string(), head);
    // The same run id twice is refused; a bad run id too.
    assert!(matches!(
        repo.rollback_point("t", "run-clean"),
        Err(VcsError::RunExists { .. })
    ));
    assert!(matches!(
        repo.rollback_point("t", "a/b"),
        Err(VcsError::InvalidRunId { .. })
    ));
    assert!(matches!(
        repo.rollback_point("t", "a b"),
        Err(VcsError::InvalidRunId { .. })
    ));
}

#[test]
fn commit_paths_commits_exactly_the_given_files() {
    let (dir, g, repo) = base();
    let head = repo.head().unwrap().unwrap();
    write(dir.path(), "a.txt", "one\ntwo\nthree\nfour\n"); // task
    write(dir.path(), "b.txt", "bee changed by someone else\n"); // not the task
    write(dir.path(), "task/new.rs", "fn main() {}\n"); // task
    write(dir.path(), "stray.txt", "untracked, not the task\n");
    write(dir.path(), "staged.txt", "staged by the user\n");
    stage(&g, "staged.txt");

    let msg = commit_message("T001", "Add four", "Adds the fourth line.", "plan/p.md");
    let id = repo
        .commit_paths(&["a.txt".into(), "task/new.rs".into()], &msg)
        .unwrap();
    let c = g.find_commit(git2::Oid::from_str(&id).unwrap()).unwrap();
    assert_eq!(c.parent_id(0).unwrap().to_string(), head);
    assert_eq!(c.message().unwrap(), msg);
    assert_eq!(
        tree_paths(&g, &id),
        vec![".gitignore", "a.txt", "b.txt", "gone.txt", "task/new.rs"]
    );
    assert_eq!(
        file_at(&g, &id, "a.txt").unwrap(),
        b"one\ntwo\nthree\nfour\n"
    );
    assert_eq!(file_at(&g, &id, "b.txt").unwrap(), b"bee\n");
    assert_eq!(repo.head().unwrap(), Some(id.clone()));
    // Everything else is as it was, contents intact.
    assert_eq!(read(dir.path(), "b.txt"), "bee changed by someone else\n");
    assert_eq!(read(dir.path(), "stray.txt"), "untracked, not the task\n");
    assert_eq!(read(dir.path(), "staged.txt"), "staged by the user\n");
    let st: Vec<_> = repo
        .status_paths()
        .unwrap()
        .into_iter()
        .map(|s| (s.path, s.kind, s.staged))
        .collect();
    assert_eq!(
        st,
        vec![
            ("b.txt".to_string(), StatusKind::Modified, false),
            ("staged.txt".to_string(), StatusKind::Added, true),
            ("stray.txt".to_string(), StatusKind::Untracked, false),
        ]
    );
    if let Some(p) = porcelain(dir.path()) {
        assert_eq!(p, vec![" M b.txt", "?? stray.txt", "A  staged.txt"]);
        let shown = git_cli(dir.path(), &["show", "--name-status", "--format=", "HEAD"]).unwrap();
        assert_eq!(shown.trim(), "M\ta.txt\nA\ttask/new.rs");
    }
}

#[test]
fn commit_paths_handles_deletions_new_files_and_directories() {
    let (dir, g, repo) = base();
    std::fs::remove_file(dir.path().join("gone.txt")).unwrap();
    write(dir.path(), "src/lib/one.rs", "1\n");
    write(dir.path(), "src/lib/two.rs", "2\n");
    write(dir.path(), "b.txt", "other\n");
    let id = repo
        .commit_paths(
            &["gone.txt".into(), "src/lib".into()],
            "T002: restructure\n",
        )
        .unwrap();
    assert_eq!(
        tree_paths(&g, &id),
        vec![
            ".gitignore",
            "a.txt",
            "b.txt",
            "src/lib/one.rs",
            "src/lib/two.rs"
        ]
    );
    assert_eq!(file_at(&g, &id, "b.txt").unwrap(), b"bee\n");
    if let Some(p) = porcelain(dir.path()) {
        assert_eq!(p, vec![" M b.txt"]);
    }
    // Nothing left to commit for those paths.
    let err = repo
        .commit_paths(&["gone.txt".into()], "again")
        .unwrap_err();
    assert!(matches!(err, VcsError::NothingToCommit { .. }), "{err}");
    // Paths leaving the work tree are refused.
    assert!(matches!(
        repo.commit_paths(&["../x".into()], "x"),
        Err(VcsError::BadPath { .. })
    ));
    // Deleting a whole directory by naming it.
    std::fs::remove_dir_all(dir.path().join("src")).unwrap();
    let id2 = repo
        .commit_paths(&["src".into()], "T003: drop src")
        .unwrap();
    assert_eq!(tree_paths(&g, &id2), vec![".gitignore", "a.txt", "b.txt"]);
}

#[cfg(unix)]
#[test]
fn commit_paths_keeps_the_executable_bit() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, g, repo) = base();
    write(dir.path(), "run.sh", "#!/bin/sh\n");
    std::fs::set_permissions(
        dir.path().join("run.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let id = repo.commit_paths(&["run.sh".into()], "T1: script").unwrap();
    let tree = g
        .find_commit(git2::Oid::from_str(&id).unwrap())
        .unwrap()
        .tree()
        .unwrap();
    assert_eq!(
        tree.get_path(std::path::Path::new("run.sh"))
            .unwrap()
            .filemode(),
        0o100755
    );
}

#[test]
fn changes_since_head_counts_lines_and_detects_binaries() {
    let (dir, _g, repo) = base();
    assert!(repo.changes_since_head(&[]).unwrap().is_empty());
    write(dir.path(), "a.txt", "one\n2\n3\nthree\nfour\n"); // -1 +3
    write(dir.path(), "bin.dat", [0u8, 1, 2, 3, 0, 255, 0, 9]);
    write(dir.path(), "fresh/new.txt", "x\ny\n");
    write(dir.path(), "skip.log", "ignored\n");
    write(
        dir.path(),
        "memory-bank/execute/log.md",
        "planexec's own log\n",
    );
    write(dir.path(), ".planexec/state.json", "{}\n");
    std::fs::remove_file(dir.path().join("gone.txt")).unwrap();
    let ch = repo
        .changes_since_head(&[
            PathBuf::from("memory-bank/execute/log.md"),
            PathBuf::from(".planexec"),
        ])
        .unwrap();
    let by = |p: &str| {
        ch.files
            .iter()
            .find(|f| f.path == p)
            .unwrap_or_else(|| panic!("{p}: {ch:#?}"))
    };
    assert_eq!(ch.files.len(), 4, "{:#?}", ch.files);
    let a = by("a.txt");
    assert_eq!(
        (a.change, a.added_lines, a.removed_lines, a.binary),
        (ChangeKind::Modified, 3, 1, false)
    );
    assert_eq!(a.size, 19);
    assert!(
        a.patch.contains("-two\n") && a.patch.contains("+four\n"),
        "{}",
        a.patch
    );
    let b = by("bin.dat");
    assert_eq!(
        (b.change, b.binary, b.size, b.added_lines),
        (ChangeKind::Added, true, 8, 0)
    );
    let n = by("fresh/new.txt");
    assert_eq!(
        (n.change, n.added_lines, n.removed_lines),
        (ChangeKind::Added, 2, 0)
    );
    assert!(n.patch.contains("+x\n+y\n"), "{}", n.patch);
    let g = by("gone.txt");
    assert_eq!(
        (g.change, g.removed_lines, g.size),
        (ChangeKind::Deleted, 1, 14)
    );
    assert_eq!(ch.added_lines(), 5);
    assert_eq!(ch.removed_lines(), 2);
    assert_eq!(ch.net_lines(), 3);
    assert!(ch.patch.contains("diff --git a/a.txt b/a.txt"));
    assert!(ch.patch.contains("Binary files"), "{}", ch.patch);
    assert!(!ch.patch.contains("own log"));
    let mut paths = ch.paths();
    paths.sort();
    assert_eq!(paths, vec!["a.txt", "bin.dat", "fresh/new.txt", "gone.txt"]);
    // Cross-check the counts with git's own numstat for the tracked files.
    if let Some(ns) = git_cli(dir.path(), &["diff", "--numstat", "HEAD"]) {
        assert!(ns.contains("3\t1\ta.txt"), "{ns}");
        assert!(ns.contains("0\t1\tgone.txt"), "{ns}");
    }
}

#[test]
fn changes_since_head_sees_renames_and_staged_changes() {
    let (dir, _g, repo) = base();
    let long = "line\n".repeat(20);
    write(dir.path(), "old.txt", &long);
    let g = git2::Repository::open(dir.path()).unwrap();
    commit_all(&g, "add old");
    std::fs::rename(dir.path().join("old.txt"), dir.path().join("new.txt")).unwrap();
    write(dir.path(), "b.txt", "bee\nstaged\n");
    stage(&g, "b.txt");
    let ch = repo.changes_since_head(&[]).unwrap();
    let r = ch.files.iter().find(|f| f.path == "new.txt").unwrap();
    assert_eq!(r.change, ChangeKind::Renamed);
    assert_eq!(r.old_path.as_deref(), Some("old.txt"));
    let b = ch.files.iter().find(|f| f.path == "b.txt").unwrap();
    assert_eq!((b.change, b.added_lines), (ChangeKind::Modified, 1));
    // Committing the rename by its paths records it.
    let id = repo.commit_paths(&ch.paths(), "T1: rename").unwrap();
    let paths = tree_paths(&g, &id);
    assert!(paths.contains(&"new.txt".to_string()) && !paths.contains(&"old.txt".to_string()));
    assert!(!repo.is_dirty().unwrap());
}

#[test]
fn rollback_without_confirm_lists_and_changes_nothing() {
    let (dir, g, repo) = base();
    write(dir.path(), "a.txt", "user edit\n");
    let rp = repo.rollback_point("t", "r1").unwrap();
    write(dir.path(), "t1.txt", "task one\n");
    let c1 = repo
        .commit_paths(
            &["t1.txt".into()],
            &commit_message("T001", "one", "", "plan/p.md"),
        )
        .unwrap();
    write(dir.path(), "t2.txt", "task two\n");
    let c2 = repo
        .commit_paths(
            &["t2.txt".into()],
            &commit_message("T002", "two", "", "plan/p.md"),
        )
        .unwrap();
    write(dir.path(), "b.txt", "in progress\n");
    write(dir.path(), "scratch.txt", "untracked\n");

    let plan = repo.rollback("r1", false).unwrap();
    assert!(!plan.applied);
    assert_eq!(plan.start_commit, rp.start_commit);
    assert_eq!(plan.head.as_deref(), Some(c2.as_str()));
    let ids: Vec<_> = plan
        .commits
        .iter()
        .map(|c| (c.id.as_str(), c.summary.as_str()))
        .collect();
    assert_eq!(
        ids,
        vec![(c2.as_str(), "T002: two"), (c1.as_str(), "T001: one")]
    );
    assert_eq!(plan.uncommitted.len(), 1);
    assert_eq!(plan.uncommitted[0].path, "b.txt");
    assert_eq!(plan.untracked_kept, vec!["scratch.txt"]);
    // Nothing moved.
    assert_eq!(repo.head().unwrap(), Some(c2.clone()));
    assert_eq!(read(dir.path(), "b.txt"), "in progress\n");
    assert!(g
        .find_reference("refs/planexec/runs/r1/rollback-1/head")
        .is_err());

    let done = repo.rollback("r1", true).unwrap();
    assert!(done.applied);
    assert_eq!(repo.head().unwrap(), Some(rp.start_commit.clone()));
    assert_eq!(
        read(dir.path(), "a.txt"),
        "user edit\n",
        "the user's pre-run work survives"
    );
    assert_eq!(read(dir.path(), "b.txt"), "bee\n");
    assert!(!dir.path().join("t1.txt").exists());
    assert_eq!(read(dir.path(), "scratch.txt"), "untracked\n");
    // The discarded uncommitted change is kept in a commit under a planexec ref.
    let snap = g
        .find_reference(done.discarded_ref.as_deref().unwrap())
        .unwrap();
    let snap_id = snap.target().unwrap().to_string();
    assert_eq!(file_at(&g, &snap_id, "b.txt").unwrap(), b"in progress\n");
    assert_eq!(file_at(&g, &snap_id, "t2.txt").unwrap(), b"task two\n");
    let backup = g
        .find_reference(done.backup_ref.as_deref().unwrap())
        .unwrap();
    assert_eq!(backup.target().unwrap().to_string(), c2);
    let branch = repo.branch().unwrap();
    assert_ne!(branch, "(detached)");
    assert!(repo.rollback("r1", false).unwrap().commits.is_empty());
}

#[test]
fn unknown_run_lists_the_known_ones() {
    let (_dir, _g, repo) = base();
    let err = repo.rollback("nope", false).unwrap_err();
    assert!(err.to_string().contains("known runs: none"), "{err}");
    repo.rollback_point("t", "2024-01-01_a").unwrap();
    repo.rollback_point("t", "2024-01-02_b").unwrap();
    let err = repo.rollback("nope", true).unwrap_err();
    match &err {
        VcsError::UnknownRun { known, .. } => assert_eq!(known, &["2024-01-01_a", "2024-01-02_b"]),
        e => panic!("{e}"),
    }
    assert!(
        err.to_string().contains("2024-01-01_a, 2024-01-02_b"),
        "{err}"
    );
}

#[test]
fn unborn_repository_with_files_gets_a_root_rollback_commit() {
    let (dir, g) = init();
    let repo = Repo::discover(dir.path()).unwrap();
    assert_eq!(repo.head().unwrap(), None);
    assert!(!repo.is_dirty().unwrap());
    assert!(repo.changes_since_head(&[]).unwrap().is_empty());
    write(dir.path(), "README.md", "hello\n");
    assert!(repo.is_dirty().unwrap());
    let ch = repo.changes_since_head(&[]).unwrap();
    assert_eq!(ch.files.len(), 1);
    assert_eq!(ch.files[0].change, ChangeKind::Added);
    let rp = repo.rollback_point("first", "r").unwrap();
    assert!(rp.dirty);
    assert_eq!(rp.previous_head, None);
    let rc = rp.rollback_commit.unwrap();
    assert_eq!(
        g.find_commit(git2::Oid::from_str(&rc).unwrap())
            .unwrap()
            .parent_count(),
        0
    );
    assert_eq!(tree_paths(&g, &rc), vec!["README.md"]);
    assert_eq!(repo.head().unwrap(), Some(rc));
}

#[test]
fn unborn_clean_repository_gets_an_empty_root_commit_to_return_to() {
    let (dir, g) = init();
    let repo = Repo::discover(dir.path()).unwrap();
    let rp = repo.rollback_point("t", "r").unwrap();
    assert!(!rp.dirty);
    let rc = rp.rollback_commit.unwrap();
    assert!(tree_paths(&g, &rc).is_empty());
    write(dir.path(), "x.txt", "x\n");
    repo.commit_paths(&["x.txt".into()], "T1: x").unwrap();
    let plan = repo.rollback("r", true).unwrap();
    assert_eq!(plan.commits.len(), 1);
    assert!(!dir.path().join("x.txt").exists());
}

#[test]
fn commit_paths_in_an_unborn_repository_makes_the_root_commit() {
    let (dir, g) = init();
    let repo = Repo::discover(dir.path()).unwrap();
    write(dir.path(), "a.txt", "a\n");
    write(dir.path(), "b.txt", "b\n");
    let id = repo.commit_paths(&["a.txt".into()], "T1: a").unwrap();
    assert_eq!(tree_paths(&g, &id), vec!["a.txt"]);
    let st = repo.status_paths().unwrap();
    assert_eq!(st.len(), 1);
    assert_eq!(
        (st[0].path.as_str(), st[0].kind),
        ("b.txt", StatusKind::Untracked)
    );
}

#[test]
fn commit_message_has_the_planned_shape() {
    assert_eq!(
        commit_message(
            "T001",
            "Add parser\nextra",
            "Parses the plan.\n",
            "plan/p.md"
        ),
        "T001: Add parser\n\nParses the plan.\n\nRefs: plan/p.md\n"
    );
    assert_eq!(
        commit_message("T2", "x", "", "plan/p.md"),
        "T2: x\n\nRefs: plan/p.md\n"
    );
    assert_eq!(
        plan_ref("memory-bank/plan/2024_topic.md"),
        "plan/2024_topic.md"
    );
    assert_eq!(plan_ref("docs/plans/x.md"), "plan/x.md");
    assert_eq!(plan_ref("plan/x.md"), "plan/x.md");
}

#[test]
fn atomic_write_replaces_whole_files() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("state.json");
    atomic_write(&p, b"first").unwrap();
    atomic_write(&p, b"second, longer").unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), b"second, longer");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "no temp files left: {names:?}");
    let err = atomic_write(dir.path().join("missing/x"), b"x").unwrap_err();
    assert!(err.to_string().contains("missing"), "{err}");
}

#[test]
fn exclude_locally_hides_planexec_files_once() {
    let (dir, g, repo) = base();
    write(dir.path(), ".planexec/state.json", "{}");
    assert!(repo.is_dirty().unwrap());
    repo.exclude_locally(&["/.planexec/"]).unwrap();
    repo.exclude_locally(&["/.planexec/", ""]).unwrap();
    assert!(!repo.is_dirty().unwrap());
    let text = std::fs::read_to_string(g.path().join("info/exclude")).unwrap();
    assert_eq!(text.matches("/.planexec/").count(), 1, "{text}");
    let rp = repo.rollback_point("t", "r").unwrap();
    assert_eq!(rp.rollback_commit, None);
}

#[test]
fn rollback_on_a_clean_tree_needs_no_snapshot() {
    let (dir, _g, repo) = base();
    let rp = repo.rollback_point("t", "r").unwrap();
    write(dir.path(), "t.txt", "t\n");
    repo.commit_paths(&["t.txt".into()], "T1: t").unwrap();
    let done = repo.rollback("r", true).unwrap();
    assert_eq!(done.discarded_ref, None);
    assert_eq!(repo.head().unwrap(), Some(rp.start_commit));
    assert!(!repo.is_dirty().unwrap());
}
