//! Task worktrees: a linked git worktree per parallel task (detached at a commit),
//! removing them (also those a crash left), and a task's commit applied onto HEAD.

use crate::{Repo, Result, VcsError};
use git2::{Oid, Repository, WorktreeAddOptions, WorktreePruneOptions};
use std::path::{Path, PathBuf};

/// Branches that exist only while a worktree is being added.
const TEMP_BRANCH_PREFIX: &str = "planexec-worktree/";

impl Repo {
    /// Adds a linked worktree `name` at `path` (which must not exist) with a
    /// detached HEAD at `commit`, and opens it. No branch is left behind.
    pub fn add_worktree(&self, name: &str, path: &Path, commit: &str) -> Result<Repo> {
        let oid = Oid::from_str(commit).map_err(self.err("reading the worktree's commit"))?;
        let c = self
            .repo
            .find_commit(oid)
            .map_err(self.err("reading the worktree's commit"))?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| VcsError::Io {
                what: "create the worktrees folder",
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let branch_name = format!("{TEMP_BRANCH_PREFIX}{name}");
        let mut branch = self
            .repo
            .branch(&branch_name, &c, true)
            .map_err(self.err("creating a worktree's branch"))?;
        let mut opts = WorktreeAddOptions::new();
        opts.reference(Some(branch.get()));
        let added = self.repo.worktree(name, path, Some(&opts));
        let opened = added.and_then(|wt| {
            let r = Repository::open_from_worktree(&wt)?;
            r.set_head_detached(oid)?;
            Ok(r)
        });
        let _ = branch.delete();
        let repo = opened.map_err(self.err("adding a task worktree"))?;
        let workdir = repo.workdir().unwrap_or(path).to_path_buf();
        Ok(Repo {
            repo,
            workdir,
            watch: std::cell::RefCell::new(crate::watch::WatchState::Unstarted),
        })
    }

    /// Removes the linked worktree `name`: its registration and its files.
    pub fn remove_worktree(&self, name: &str) -> Result<()> {
        let wt = self
            .repo
            .find_worktree(name)
            .map_err(self.err("finding a task worktree"))?;
        let path = wt.path().to_path_buf();
        prune(&wt).map_err(self.err("removing a task worktree"))?;
        remove_dir(&path)
    }

    /// Removes every linked worktree whose folder is under `dir` (those a
    /// crashed run left registered), the folder itself, and any branch left by
    /// an interrupted [`Repo::add_worktree`]. Returns the worktrees removed.
    pub fn remove_worktrees_under(&self, dir: &Path) -> Result<Vec<String>> {
        let mut removed = Vec::new();
        let names = self
            .repo
            .worktrees()
            .map_err(self.err("listing worktrees"))?;
        let canon = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
        let root = canon(dir);
        for name in names.iter().flatten() {
            let Ok(wt) = self.repo.find_worktree(name) else {
                continue;
            };
            let p = wt.path();
            if p.starts_with(dir) || canon(p).starts_with(&root) {
                prune(&wt).map_err(self.err("removing a task worktree"))?;
                removed.push(name.to_string());
            }
        }
        remove_dir(dir)?;
        let branches = self
            .repo
            .branches(Some(git2::BranchType::Local))
            .map_err(self.err("listing branches"))?;
        for (mut b, _) in branches.flatten() {
            let temp = b
                .name()
                .ok()
                .flatten()
                .is_some_and(|n| n.starts_with(TEMP_BRANCH_PREFIX));
            if temp {
                b.delete()
                    .map_err(self.err("deleting a worktree's branch"))?;
            }
        }
        Ok(removed)
    }

    /// The paths `commit` changed against its first parent (both sides of a
    /// rename), sorted.
    pub fn commit_paths_changed(&self, commit: &str) -> Result<Vec<String>> {
        let c = self.find(commit)?;
        let tree = c.tree().map_err(self.err("reading a commit's tree"))?;
        let parent = match c.parent(0) {
            Ok(p) => Some(p.tree().map_err(self.err("reading a commit's tree"))?),
            Err(_) => None,
        };
        let diff = self
            .repo
            .diff_tree_to_tree(parent.as_ref(), Some(&tree), None)
            .map_err(self.err("diffing a commit"))?;
        let mut out = std::collections::BTreeSet::new();
        for d in diff.deltas() {
            for f in [d.old_file(), d.new_file()] {
                if let Some(p) = f.path() {
                    if !f.id().is_zero() {
                        out.insert(p.to_string_lossy().replace('\\', "/"));
                    }
                }
            }
        }
        Ok(out.into_iter().collect())
    }

    /// Applies `commit`'s change (against its parent) onto HEAD as a new commit
    /// with the same author and message, then checks out exactly its paths in
    /// the work tree. Nothing changes when the change conflicts with HEAD
    /// ([`VcsError::ApplyConflict`]) or when one of its paths has uncommitted
    /// changes in the work tree ([`VcsError::ApplyDirty`]). Returns the new commit.
    pub fn apply_commit(&self, commit: &str) -> Result<String> {
        let c = self.find(commit)?;
        let paths = self.commit_paths_changed(commit)?;
        let dirty: Vec<String> = paths
            .iter()
            .filter(|p| {
                self.repo
                    .status_file(Path::new(p))
                    .map(|s| !s.is_empty() && !s.contains(git2::Status::IGNORED))
                    .unwrap_or(false)
            })
            .cloned()
            .collect();
        if !dirty.is_empty() {
            return Err(VcsError::ApplyDirty {
                paths: dirty,
                workdir: self.workdir.clone(),
            });
        }
        let head = self
            .repo
            .head()
            .and_then(|h| h.peel_to_commit())
            .map_err(self.err("reading HEAD"))?;
        let mut index = self
            .repo
            .cherrypick_commit(&c, &head, 0, None)
            .map_err(self.err("applying a task's commit"))?;
        if index.has_conflicts() {
            let mut conflicted = std::collections::BTreeSet::new();
            if let Ok(cs) = index.conflicts() {
                for e in cs.flatten() {
                    for side in [e.ancestor, e.our, e.their].into_iter().flatten() {
                        conflicted.insert(String::from_utf8_lossy(&side.path).into_owned());
                    }
                }
            }
            return Err(VcsError::ApplyConflict {
                paths: conflicted.into_iter().collect(),
                workdir: self.workdir.clone(),
            });
        }
        let tree_id = index
            .write_tree_to(&self.repo)
            .map_err(self.err("writing the applied tree"))?;
        let tree = self
            .repo
            .find_tree(tree_id)
            .map_err(self.err("reading the applied tree"))?;
        let msg = c.message().unwrap_or("");
        let new = self
            .repo
            .commit(
                Some("HEAD"),
                &c.author(),
                &self.signature(),
                msg,
                &tree,
                &[&head],
            )
            .map_err(self.err("committing the applied change"))?;
        self.check_out_paths(&paths)?;
        Ok(new.to_string())
    }

    fn find(&self, commit: &str) -> Result<git2::Commit<'_>> {
        let oid = Oid::from_str(commit).map_err(self.err("reading a commit"))?;
        self.repo
            .find_commit(oid)
            .map_err(self.err("reading a commit"))
    }

    /// The work tree and index of `paths` made HEAD's (added, changed or removed).
    fn check_out_paths(&self, paths: &[String]) -> Result<()> {
        let mut co = git2::build::CheckoutBuilder::new();
        co.force();
        for p in paths {
            co.path(p);
        }
        self.repo
            .checkout_head(Some(&mut co))
            .map_err(self.err("checking out the applied change"))?;
        // A path HEAD no longer has: gone from the index and the work tree.
        let head_tree = self.head_tree()?;
        let mut index = self.repo.index().map_err(self.err("reading the index"))?;
        for p in paths {
            let in_head = head_tree
                .as_ref()
                .is_some_and(|t| t.get_path(Path::new(p)).is_ok());
            if !in_head {
                let _ = index.remove_path(Path::new(p));
                let abs = self.workdir.join(p);
                if abs.symlink_metadata().is_ok() {
                    std::fs::remove_file(&abs).map_err(|source| VcsError::Io {
                        what: "remove a file the task deleted",
                        path: abs.clone(),
                        source,
                    })?;
                }
            }
        }
        index.write().map_err(self.err("writing the index"))
    }
}

fn prune(wt: &git2::Worktree) -> std::result::Result<(), git2::Error> {
    let mut opts = WorktreePruneOptions::new();
    opts.valid(true).locked(true).working_tree(true);
    wt.prune(Some(&mut opts))
}

fn remove_dir(dir: &Path) -> Result<()> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(VcsError::Io {
            what: "remove the task worktrees folder",
            path: PathBuf::from(dir),
            source: e,
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(d: &Path, args: &[&str]) -> String {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(d)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    }

    fn repo() -> (tempfile::TempDir, Repo, String) {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        git(d, &["init", "-q", "-b", "main"]);
        git(d, &["config", "user.email", "dev@example.com"]);
        git(d, &["config", "user.name", "Dev"]);
        std::fs::write(d.join("a.txt"), "a\n").unwrap();
        std::fs::write(d.join("gone.txt"), "x\n").unwrap();
        git(d, &["add", "."]);
        git(d, &["commit", "-qm", "base"]);
        let r = Repo::discover(d).unwrap();
        let head = r.head().unwrap().unwrap();
        (tmp, r, head)
    }

    fn commit_in(wt: &Repo, writes: &[(&str, &str)], msg: &str) -> String {
        let mut paths = Vec::new();
        for (p, text) in writes {
            std::fs::write(wt.workdir().join(p), text).unwrap();
            paths.push(p.to_string());
        }
        wt.commit_paths(&paths, msg).unwrap()
    }

    #[test]
    fn a_worktree_is_detached_at_the_commit_and_leaves_no_branch() {
        let (tmp, r, head) = repo();
        let dir = tmp.path().join(".git/planexec/worktrees");
        let wt = r.add_worktree("run-T1", &dir.join("T1"), &head).unwrap();
        assert_eq!(wt.head().unwrap().as_deref(), Some(head.as_str()));
        assert_eq!(wt.branch().unwrap(), "(detached)");
        assert!(dir.join("T1/a.txt").is_file());
        assert_eq!(git(tmp.path(), &["branch", "--list"]).trim(), "* main");
        r.remove_worktree("run-T1").unwrap();
        assert!(!dir.join("T1").exists());
        assert_eq!(git(tmp.path(), &["worktree", "list"]).lines().count(), 1);
    }

    #[test]
    fn a_commit_made_in_a_worktree_is_applied_onto_a_moved_head() {
        let (tmp, r, head) = repo();
        let dir = tmp.path().join(".git/planexec/worktrees");
        let w1 = r.add_worktree("r-T1", &dir.join("T1"), &head).unwrap();
        let w2 = r.add_worktree("r-T2", &dir.join("T2"), &head).unwrap();
        let c1 = commit_in(&w1, &[("b.txt", "b\n")], "T1: b");
        std::fs::remove_file(w2.workdir().join("gone.txt")).unwrap();
        std::fs::write(w2.workdir().join("c.txt"), "c\n").unwrap();
        let c2 = w2
            .commit_paths(&["c.txt".into(), "gone.txt".into()], "T2: c")
            .unwrap();
        assert_eq!(w2.commit_paths_changed(&c2).unwrap(), ["c.txt", "gone.txt"]);
        let n1 = r.apply_commit(&c1).unwrap();
        let n2 = r.apply_commit(&c2).unwrap();
        assert_eq!(
            git(tmp.path(), &["log", "--format=%s"])
                .lines()
                .collect::<Vec<_>>(),
            ["T2: c", "T1: b", "base"]
        );
        assert_eq!(r.head().unwrap().unwrap(), n2);
        assert_eq!(r.commit_paths_changed(&n1).unwrap(), ["b.txt"]);
        assert!(tmp.path().join("b.txt").is_file() && tmp.path().join("c.txt").is_file());
        assert!(!tmp.path().join("gone.txt").exists());
        assert_eq!(git(tmp.path(), &["status", "--porcelain"]), "");
    }

    #[test]
    fn a_conflicting_commit_is_refused_and_nothing_changes() {
        let (tmp, r, head) = repo();
        let dir = tmp.path().join(".git/planexec/worktrees");
        let w1 = r.add_worktree("r-T1", &dir.join("T1"), &head).unwrap();
        let w2 = r.add_worktree("r-T2", &dir.join("T2"), &head).unwrap();
        let c1 = commit_in(&w1, &[("a.txt", "one\n")], "T1: a");
        let c2 = commit_in(&w2, &[("a.txt", "two\n")], "T2: a");
        r.apply_commit(&c1).unwrap();
        let before = r.head().unwrap();
        let e = r.apply_commit(&c2).unwrap_err();
        assert!(
            matches!(&e, VcsError::ApplyConflict { paths, .. } if paths == &["a.txt"]),
            "{e}"
        );
        assert_eq!(r.head().unwrap(), before);
        assert_eq!(
            std::fs::read_to_string(tmp.path().join("a.txt")).unwrap(),
            "one\n"
        );
    }

    #[test]
    fn a_path_with_uncommitted_work_is_never_overwritten() {
        let (tmp, r, head) = repo();
        let dir = tmp.path().join(".git/planexec/worktrees");
        let w1 = r.add_worktree("r-T1", &dir.join("T1"), &head).unwrap();
        let c1 = commit_in(&w1, &[("notes.txt", "task\n")], "T1: notes");
        std::fs::write(tmp.path().join("notes.txt"), "mine\n").unwrap();
        let e = r.apply_commit(&c1).unwrap_err();
        assert!(matches!(e, VcsError::ApplyDirty { .. }), "{e}");
        assert_eq!(
            std::fs::read_to_string(tmp.path().join("notes.txt")).unwrap(),
            "mine\n"
        );
        assert_eq!(r.head().unwrap().unwrap(), head);
    }

    #[test]
    fn worktrees_left_by_a_crash_are_removed() {
        let (tmp, r, head) = repo();
        let dir = tmp.path().join(".git/planexec/worktrees");
        drop(r.add_worktree("r-T1", &dir.join("T1"), &head).unwrap());
        drop(r.add_worktree("r-T2", &dir.join("T2"), &head).unwrap());
        // A crash between creating the temporary branch and deleting it.
        git(tmp.path(), &["branch", "planexec-worktree/r-T3"]);
        let mut removed = r.remove_worktrees_under(&dir).unwrap();
        removed.sort();
        assert_eq!(removed, ["r-T1", "r-T2"]);
        assert!(!dir.exists());
        assert_eq!(git(tmp.path(), &["worktree", "list"]).lines().count(), 1);
        assert_eq!(git(tmp.path(), &["branch", "--list"]).trim(), "* main");
    }
}
