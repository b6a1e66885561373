//! planexec-vcs guards on real temporary git repositories: hooks on task
//! commits, rollback refs that never overwrite, stale index.lock, dirty
//! submodules, and atomic writes whose temp file lives elsewhere.

mod common;

use common::*;
use planexec_vcs::{atomic_write_in, CommitOptions, Hooks, IndexLock, Repo, VcsError};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn base() -> (tempfile::TempDir, git2::Repository, Repo) {
    let (dir, g) = init();
    write(dir.path(), "a.txt", "one\n");
    commit_all(&g, "initial");
    let repo = Repo::discover(dir.path()).unwrap();
    (dir, g, repo)
}

fn hook(dir: &Path, name: &str, body: &str) {
    let p = dir.join(name);
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn hooks(trusted: Option<String>) -> CommitOptions {
    CommitOptions {
        hooks: Some(Hooks {
            runner: std::sync::Arc::new(NativeHooks),
            trusted,
        }),
    }
}

fn with_hooks() -> CommitOptions {
    hooks(None)
}

#[test]
fn a_failing_pre_commit_hook_is_a_typed_error_with_its_output_and_commits_nothing() {
    let (dir, g, repo) = base();
    hook(
        &g.path().join("hooks"),
        "pre-commit",
        "echo 'style: a.txt is shouting' >&2; exit 3",
    );
    write(dir.path(), "a.txt", "ONE\n");
    let head = repo.head().unwrap();
    let err = repo
        .commit_paths_with(&["a.txt".into()], "T001: x\n", &with_hooks())
        .unwrap_err();
    match err {
        VcsError::Hook(h) => {
            assert_eq!(h.hook, "pre-commit");
            assert_eq!(h.code, Some(3));
            assert!(h.output.contains("style: a.txt is shouting"), "{h:?}");
        }
        other => panic!("not a hook error: {other}"),
    }
    assert_eq!(repo.head().unwrap(), head, "nothing committed");
    // Without hooks the same commit goes through (the old behaviour).
    repo.commit_paths(&["a.txt".into()], "T001: x\n").unwrap();
}

#[test]
fn commit_msg_may_edit_the_message_and_sees_the_index() {
    let (dir, g, repo) = base();
    let hooks = g.path().join("hooks");
    hook(
        &hooks,
        "pre-commit",
        "test -n \"$GIT_INDEX_FILE\" || exit 9",
    );
    hook(
        &hooks,
        "commit-msg",
        "printf 'Signed-off-by: Hook\\n' >> \"$1\"",
    );
    write(dir.path(), "a.txt", "two\n");
    let id = repo
        .commit_paths_with(&["a.txt".into()], "T001: x\n", &with_hooks())
        .unwrap();
    let c = g.find_commit(git2::Oid::from_str(&id).unwrap()).unwrap();
    assert_eq!(c.message().unwrap(), "T001: x\nSigned-off-by: Hook\n");
}

#[test]
fn a_hook_in_the_work_tree_runs_only_as_committed_at_the_trusted_commit() {
    let (dir, g, repo) = base();
    g.config()
        .unwrap()
        .set_str("core.hooksPath", "hooks")
        .unwrap();
    hook(&dir.path().join("hooks"), "pre-commit", "exit 0");
    commit_all(&g, "hooks");
    let trusted = repo.head().unwrap();
    write(dir.path(), "a.txt", "two\n");
    let opts = hooks(trusted.clone());
    repo.commit_paths_with(&["a.txt".into()], "T001: x\n", &opts)
        .unwrap();
    // The task rewrites the hook: refused before it runs.
    let marker = dir.path().join("ran");
    hook(
        &dir.path().join("hooks"),
        "pre-commit",
        &format!("touch {}", marker.display()),
    );
    write(dir.path(), "a.txt", "three\n");
    let err = repo
        .commit_paths_with(&["a.txt".into()], "T002: y\n", &opts)
        .unwrap_err();
    assert!(matches!(err, VcsError::HookChanged { .. }), "{err}");
    assert!(!marker.exists());
}

#[test]
fn each_rollback_keeps_its_own_refs_and_says_how_to_restore() {
    let (dir, g, repo) = base();
    let rp = repo.rollback_point("t", "r1").unwrap();
    write(dir.path(), "a.txt", "first try\n");
    let one = repo.rollback("r1", true).unwrap();
    write(dir.path(), "a.txt", "second try\n");
    let two = repo.rollback("r1", true).unwrap();
    assert_eq!(
        one.discarded_ref.as_deref(),
        Some("refs/planexec/runs/r1/rollback-1/discarded")
    );
    assert_eq!(
        two.discarded_ref.as_deref(),
        Some("refs/planexec/runs/r1/rollback-2/discarded")
    );
    let blob = |r: &str| {
        let c = g.find_reference(r).unwrap().peel_to_commit().unwrap();
        let e = c.tree().unwrap().get_path(Path::new("a.txt")).unwrap();
        String::from_utf8(g.find_blob(e.id()).unwrap().content().to_vec()).unwrap()
    };
    assert_eq!(
        blob("refs/planexec/runs/r1/rollback-1/discarded"),
        "first try\n"
    );
    assert_eq!(
        blob("refs/planexec/runs/r1/rollback-2/discarded"),
        "second try\n"
    );
    assert_eq!(
        two.restore_commands(),
        [
            "git reset --hard refs/planexec/runs/r1/rollback-2/head".to_string(),
            "git restore --source=refs/planexec/runs/r1/rollback-2/discarded --worktree -- ."
                .into()
        ]
    );
    assert_eq!(repo.head().unwrap(), Some(rp.start_commit));
}

#[test]
fn a_stale_index_lock_is_removed_and_a_held_one_names_its_holder() {
    let (_dir, g, repo) = base();
    let lock = g.path().join("index.lock");
    assert_eq!(repo.clear_stale_index_lock().unwrap(), IndexLock::Absent);
    std::fs::write(&lock, "").unwrap();
    let held = std::fs::File::open(&lock).unwrap(); // this process holds it
    let err = repo.clear_stale_index_lock().unwrap_err();
    assert!(
        err.to_string().contains(&std::process::id().to_string()),
        "{err}"
    );
    assert!(lock.exists());
    drop(held);
    assert!(matches!(
        repo.clear_stale_index_lock().unwrap(),
        IndexLock::RemovedStale(_)
    ));
    assert!(!lock.exists());
}

#[test]
fn a_submodule_with_changes_of_its_own_is_dirty() {
    let (sub, sg) = init();
    write(sub.path(), "lib.txt", "v1\n");
    commit_all(&sg, "lib");
    let (dir, g, repo) = base();
    let mut sm = g
        .submodule(sub.path().to_str().unwrap(), Path::new("lib"), true)
        .unwrap();
    sm.clone(None).unwrap();
    sm.add_finalize().unwrap();
    commit_all(&g, "add lib");
    assert!(repo.dirty_submodules().unwrap().is_empty());
    write(dir.path(), "lib/lib.txt", "changed inside\n");
    assert_eq!(repo.dirty_submodules().unwrap(), ["lib"]);
    assert!(repo.rollback_point("t", "r1").unwrap().dirty);
}

#[test]
fn atomic_write_in_keeps_its_temp_file_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().join("tmp");
    let target = dir.path().join("work/out.txt");
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    atomic_write_in(&tmp, &target, b"hello").unwrap();
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "hello");
    assert_eq!(
        std::fs::read_dir(target.parent().unwrap()).unwrap().count(),
        1
    );
    assert!(tmp.is_dir());
}
