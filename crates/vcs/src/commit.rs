//! Task commits: the commit message's shape and committing exactly a task's
//! paths on top of HEAD, leaving every other change in the tree as it was.

use crate::hooks::{HookArgs, HookRunner};
use crate::{Repo, Result, VcsError};
use git2::build::TreeUpdateBuilder;
use git2::{ObjectType, Oid};
use std::path::Path;

/// How [`Repo::commit_paths_with`] commits.
#[derive(Clone, Default)]
pub struct CommitOptions {
    /// Run the pre-commit and commit-msg hooks, and how.
    pub hooks: Option<Hooks>,
}

/// The hooks of a task commit: who runs them, and since which commit a hook inside
/// the work tree must be unchanged (the run's start; with `None` such a hook is refused).
#[derive(Clone)]
pub struct Hooks {
    pub runner: std::sync::Arc<dyn HookRunner>,
    pub trusted: Option<String>,
}

/// `T001: <summary>` + blank line + description + blank line + `Refs: <refs>`.
/// An empty description is left out; the summary is cut to its first line.
pub fn commit_message(task_id: &str, summary: &str, description: &str, refs: &str) -> String {
    let summary = summary.trim().lines().next().unwrap_or("").trim();
    let mut msg = format!("{}: {}\n", task_id.trim(), summary);
    let description = description.trim();
    if !description.is_empty() {
        msg.push('\n');
        msg.push_str(description);
        msg.push('\n');
    }
    let refs = refs.trim();
    if !refs.is_empty() {
        msg.push('\n');
        msg.push_str("Refs: ");
        msg.push_str(refs);
        msg.push('\n');
    }
    msg
}

/// The `plan/<file>.md` form of a plan path for the `Refs:` trailer: the part
/// from the last `plan/` directory on, else the file name.
pub fn plan_ref(plan_path: &str) -> String {
    let p = plan_path.replace('\\', "/");
    if let Some(i) = p.rfind("plan/") {
        if i == 0 || p.as_bytes()[i - 1] == b'/' {
            return p[i..].to_string();
        }
    }
    match p.rsplit('/').next() {
        Some(name) if !name.is_empty() => format!("plan/{name}"),
        _ => p,
    }
}

impl Repo {
    /// Commits exactly `paths` (their current work-tree state: new, modified or
    /// deleted) on top of HEAD, and returns the new commit id. The tree is HEAD's
    /// tree with only those paths replaced; the index is updated for those paths
    /// only, so every other staged, unstaged or untracked change stays as it was.
    /// A path that is a directory stands for every changed file under it.
    /// Fails with [`VcsError::NothingToCommit`] when the paths match HEAD.
    pub fn commit_paths(&self, paths: &[String], message: &str) -> Result<String> {
        self.commit_paths_with(paths, message, &CommitOptions::default())
    }

    /// [`Repo::commit_paths`], running the repository's pre-commit and
    /// commit-msg hooks when `opts.hooks` says so (a commit-msg hook may edit
    /// the message, as with git). A failing hook is [`VcsError::Hook`]; the
    /// task's paths then stay staged and nothing is committed.
    pub fn commit_paths_with(
        &self,
        paths: &[String],
        message: &str,
        opts: &CommitOptions,
    ) -> Result<String> {
        if paths.is_empty() {
            return Err(VcsError::NothingToCommit {
                paths: Vec::new(),
                workdir: self.workdir.clone(),
            });
        }
        let before = self.stamp();
        let head = self.head_oid()?;
        let head_commit = match head {
            Some(h) => Some(self.repo.find_commit(h).map_err(self.err("reading HEAD"))?),
            None => None,
        };
        let base_tree = match &head_commit {
            Some(c) => c.tree().map_err(self.err("reading HEAD's tree"))?,
            None => {
                let id = self
                    .repo
                    .treebuilder(None)
                    .and_then(|b| b.write())
                    .map_err(self.err("writing the empty tree"))?;
                self.repo
                    .find_tree(id)
                    .map_err(self.err("reading the empty tree"))?
            }
        };

        // Expand directories into the files under them that differ from HEAD.
        let mut rels: Vec<String> = Vec::new();
        for p in paths {
            let rel = self.rel_path(Path::new(p))?;
            let abs = self.workdir.join(&rel);
            let is_dir = std::fs::symlink_metadata(&abs)
                .map(|m| m.is_dir())
                .unwrap_or(false);
            let tree_is_dir = base_tree
                .get_path(Path::new(&rel))
                .map(|e| e.kind() == Some(ObjectType::Tree))
                .unwrap_or(false);
            if is_dir || tree_is_dir {
                let prefix = format!("{rel}/");
                for s in self.status_paths()? {
                    if s.path.starts_with(&prefix) {
                        rels.push(s.path);
                    }
                }
            } else {
                rels.push(rel);
            }
        }
        rels.sort();
        rels.dedup();

        let mut index = self.repo.index().map_err(self.err("opening the index"))?;
        // The Repo may be long-lived: pick up changes others made to the index file.
        index.read(false).map_err(self.err("reading the index"))?;
        let mut update = TreeUpdateBuilder::new();
        for rel in &rels {
            let abs = self.workdir.join(rel);
            let present = std::fs::symlink_metadata(&abs).is_ok();
            if present {
                index
                    .add_path(Path::new(rel))
                    .map_err(|source| VcsError::Stage {
                        path: rel.clone(),
                        workdir: self.workdir.clone(),
                        source,
                    })?;
                let entry = index
                    .get_path(Path::new(rel), 0)
                    .ok_or_else(|| VcsError::Stage {
                        path: rel.clone(),
                        workdir: self.workdir.clone(),
                        source: git2::Error::from_str("not in the index after staging"),
                    })?;
                let mode = match entry.mode {
                    0o100755 => git2::FileMode::BlobExecutable,
                    0o120000 => git2::FileMode::Link,
                    _ => git2::FileMode::Blob,
                };
                update.upsert(rel.as_str(), entry.id, mode);
            } else {
                // Deleted (or never existed): drop it from the index and the tree.
                let _ = index.remove_path(Path::new(rel));
                if base_tree.get_path(Path::new(rel)).is_ok() {
                    update.remove(rel.as_str());
                }
            }
        }
        let tree_id = update
            .create_updated(&self.repo, &base_tree)
            .map_err(self.err("building the task's tree"))?;
        if tree_id == base_tree.id() {
            return Err(VcsError::NothingToCommit {
                paths: rels,
                workdir: self.workdir.clone(),
            });
        }
        let tree = self
            .repo
            .find_tree(tree_id)
            .map_err(self.err("reading the task's tree"))?;
        // Index first: if the commit then fails, those paths are merely staged.
        index.write().map_err(self.err("writing the index"))?;
        let written = self.stamp();
        let message = match &opts.hooks {
            Some(h) => self.commit_hooks(message, h)?,
            None => message.to_string(),
        };
        let sig = self.signature();
        let parents: Vec<&git2::Commit> = head_commit.iter().collect();
        let id = self
            .repo
            .commit(Some("HEAD"), &sig, &sig, &message, &tree, &parents)
            .map_err(self.err("making the task commit"))?;
        self.committed(&before, &written);
        Ok(id.to_string())
    }

    /// pre-commit, then commit-msg on a message file of its own (the only file the
    /// hooks may write); the message as the hook left it.
    fn commit_hooks(&self, message: &str, hooks: &Hooks) -> Result<String> {
        let trusted = hooks.trusted.as_deref().and_then(|t| Oid::from_str(t).ok());
        let runner = hooks.runner.as_ref();
        let index = self.repo.path().join("index");
        let env: &[(&str, &Path)] = &[("GIT_INDEX_FILE", &index)];
        let pre_commit = HookArgs {
            name: "pre-commit",
            args: &[],
            env,
            writable: &[],
        };
        self.run_hook(runner, pre_commit, trusted)?;
        let io = |what, path: &Path, source| VcsError::Io {
            what,
            path: path.to_path_buf(),
            source,
        };
        let dir = tempfile::Builder::new()
            .prefix("planexec-commit-msg-")
            .tempdir()
            .map_err(|e| io("create", Path::new("planexec-commit-msg"), e))?;
        let file = dir.path().join("COMMIT_EDITMSG");
        std::fs::write(&file, message).map_err(|e| io("write", &file, e))?;
        let commit_msg = HookArgs {
            name: "commit-msg",
            args: &[file.as_path()],
            env: &[],
            writable: &[dir.path()],
        };
        self.run_hook(runner, commit_msg, trusted)?;
        std::fs::read_to_string(&file).map_err(|e| io("read", &file, e))
    }
}
