//! Helpers for tests on real temporary git repositories: set up with git2,
//! cross-checked with the git CLI when it is installed.

#![allow(dead_code)]

use git2::{IndexAddOption, Repository, Signature};
use std::path::Path;
use std::process::Command;
use tempfile::TempDir;

/// A fresh repository with `user.name`/`user.email` set locally.
pub fn init() -> (TempDir, Repository) {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    {
        let mut cfg = repo.config().unwrap();
        cfg.set_str("user.name", "Test User").unwrap();
        cfg.set_str("user.email", "test@example.com").unwrap();
    }
    (dir, repo)
}

pub fn write(dir: &Path, rel: &str, content: impl AsRef<[u8]>) {
    let p = dir.join(rel);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(p, content).unwrap();
}

pub fn read(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap()
}

/// Stages everything (like `git add -A`) and commits it on HEAD.
pub fn commit_all(repo: &Repository, msg: &str) -> git2::Oid {
    let mut index = repo.index().unwrap();
    index.add_all(["*"], IndexAddOption::DEFAULT, None).unwrap();
    index.update_all(["*"], None).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = Signature::now("Test User", "test@example.com").unwrap();
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    repo.commit(Some("HEAD"), &sig, &sig, msg, &tree, &parents)
        .unwrap()
}

/// Stages one path in the index (like `git add <path>`).
pub fn stage(repo: &Repository, rel: &str) {
    let mut index = repo.index().unwrap();
    index.add_path(Path::new(rel)).unwrap();
    index.write().unwrap();
}

/// The content of `rel` in commit `id`'s tree, or None.
pub fn file_at(repo: &Repository, id: &str, rel: &str) -> Option<Vec<u8>> {
    let c = repo.find_commit(git2::Oid::from_str(id).unwrap()).unwrap();
    let tree = c.tree().unwrap();
    let entry = tree.get_path(Path::new(rel)).ok()?;
    Some(repo.find_blob(entry.id()).unwrap().content().to_vec())
}

/// Every blob path in commit `id`'s tree, sorted.
pub fn tree_paths(repo: &Repository, id: &str) -> Vec<String> {
    let c = repo.find_commit(git2::Oid::from_str(id).unwrap()).unwrap();
    let mut out = Vec::new();
    c.tree()
        .unwrap()
        .walk(git2::TreeWalkMode::PreOrder, |root, e| {
            if e.kind() == Some(git2::ObjectType::Blob) {
                out.push(format!("{root}{}", e.name().unwrap()));
            }
            git2::TreeWalkResult::Ok
        })
        .unwrap();
    out.sort();
    out
}

/// `git <args>` in `dir`, stdout; None when the git CLI is not installed.
pub fn git_cli(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap())
}

/// `git status --porcelain` lines, sorted; None without the git CLI.
pub fn porcelain(dir: &Path) -> Option<Vec<String>> {
    let s = git_cli(dir, &["status", "--porcelain", "--untracked-files=all"])?;
    let mut v: Vec<String> = s.lines().map(str::to_string).collect();
    v.sort();
    Some(v)
}

/// Runs hooks natively, as `git commit` would (the tests' stand-in for planexec's box).
pub struct NativeHooks;

impl planexec_vcs::HookRunner for NativeHooks {
    fn run(&self, call: &planexec_vcs::HookCall) -> Result<planexec_vcs::HookExit, String> {
        let mut cmd = Command::new(call.path);
        cmd.args(call.args).current_dir(call.workdir);
        for (k, v) in call.env {
            cmd.env(k, v);
        }
        let o = cmd.output().map_err(|e| e.to_string())?;
        let mut output = String::from_utf8_lossy(&o.stdout).into_owned();
        output.push_str(&String::from_utf8_lossy(&o.stderr));
        Ok(planexec_vcs::HookExit {
            code: o.status.code(),
            output,
        })
    }
}
