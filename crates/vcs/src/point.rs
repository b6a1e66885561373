//! The rollback point: the commit a run starts from, recorded under
//! `refs/planexec/runs/<run-id>/start`, and the lookup of known runs.

use crate::{valid_run_id, Repo, Result, VcsError, RUNS_REF_PREFIX};
use git2::IndexAddOption;

/// What [`Repo::rollback_point`] did before the run started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollbackPoint {
    /// The commit the run starts from (the rollback commit when one was made,
    /// else HEAD); recorded under `refs/planexec/runs/<run-id>/start`.
    pub start_commit: String,
    /// The `rollback: before executing plan <topic>` commit, when the tree was dirty
    /// (or the repository had no commit yet).
    pub rollback_commit: Option<String>,
    /// Whether the work tree had uncommitted changes (a submodule's included).
    pub dirty: bool,
    /// HEAD before the rollback commit (`None` in a repository with no commit).
    pub previous_head: Option<String>,
    /// The branch name, or `(detached)`.
    pub branch: String,
    /// The ref the start commit was recorded under.
    pub start_ref: String,
}

impl Repo {
    pub(crate) fn start_ref_name(run_id: &str) -> String {
        format!("{RUNS_REF_PREFIX}{run_id}/start")
    }

    /// Makes the run's rollback point. When the tree is dirty, stages everything
    /// (respecting .gitignore, like `git add -A`) and commits it as
    /// `rollback: before executing plan <topic>`; in a repository with no commit
    /// it makes that commit even when clean, so there is a start to return to.
    /// Always records the start commit under `refs/planexec/runs/<run_id>/start`.
    /// Never resets, checks out or stashes.
    pub fn rollback_point(&self, topic: &str, run_id: &str) -> Result<RollbackPoint> {
        if !valid_run_id(run_id) {
            return Err(VcsError::InvalidRunId {
                run_id: run_id.to_string(),
            });
        }
        let start_ref = Self::start_ref_name(run_id);
        if self.repo.find_reference(&start_ref).is_ok() {
            return Err(VcsError::RunExists {
                run_id: run_id.to_string(),
                workdir: self.workdir.clone(),
                reference: start_ref,
            });
        }
        let branch = self.branch()?;
        let previous = self.head_oid()?;
        let dirty_paths = self.is_dirty()?;
        // A submodule's own changes are not part of the rollback commit, but the tree is dirty.
        let dirty = dirty_paths || !self.dirty_submodules()?.is_empty();
        let mut rollback_commit = None;
        let start = if let (false, Some(p)) = (dirty_paths, previous) {
            p
        } else {
            let mut index = self.repo.index().map_err(self.err("opening the index"))?;
            // The Repo may be long-lived: pick up changes others made to the index file.
            index.read(false).map_err(self.err("reading the index"))?;
            index
                .add_all(["*"], IndexAddOption::DEFAULT, None)
                .map_err(self.err("staging the work tree for the rollback commit"))?;
            index
                .update_all(["*"], None)
                .map_err(self.err("staging deletions for the rollback commit"))?;
            let tree_id = index
                .write_tree()
                .map_err(self.err("writing the rollback tree"))?;
            index.write().map_err(self.err("writing the index"))?;
            let tree = self
                .repo
                .find_tree(tree_id)
                .map_err(self.err("reading the rollback tree"))?;
            let parent = match previous {
                Some(p) => Some(self.repo.find_commit(p).map_err(self.err("reading HEAD"))?),
                None => None,
            };
            let parents: Vec<&git2::Commit> = parent.iter().collect();
            let sig = self.signature();
            let msg = format!("rollback: before executing plan {}\n", topic.trim());
            let id = self
                .repo
                .commit(Some("HEAD"), &sig, &sig, &msg, &tree, &parents)
                .map_err(self.err("making the rollback commit"))?;
            rollback_commit = Some(id.to_string());
            id
        };
        self.repo
            .reference(
                &start_ref,
                start,
                false,
                &format!("planexec: start of run {run_id}"),
            )
            .map_err(self.err("recording the run's start ref"))?;
        Ok(RollbackPoint {
            start_commit: start.to_string(),
            rollback_commit,
            dirty,
            previous_head: previous.map(|o| o.to_string()),
            branch,
            start_ref,
        })
    }

    /// The start commit recorded for `run_id`.
    pub fn run_start(&self, run_id: &str) -> Result<String> {
        let name = Self::start_ref_name(run_id);
        let found = if valid_run_id(run_id) {
            self.repo.find_reference(&name).ok()
        } else {
            None
        };
        match found.and_then(|r| r.target()) {
            Some(oid) => Ok(oid.to_string()),
            None => Err(VcsError::UnknownRun {
                run_id: run_id.to_string(),
                workdir: self.workdir.clone(),
                known: self.list_runs()?,
            }),
        }
    }

    /// Run ids with a recorded start ref, sorted.
    pub fn list_runs(&self) -> Result<Vec<String>> {
        let glob = format!("{RUNS_REF_PREFIX}*");
        let refs = self
            .repo
            .references_glob(&glob)
            .map_err(self.err("listing planexec refs"))?;
        let mut out = Vec::new();
        for r in refs {
            let r = r.map_err(self.err("listing planexec refs"))?;
            if let Some(name) = r.name() {
                if let Some(id) = name
                    .strip_prefix(RUNS_REF_PREFIX)
                    .and_then(|s| s.strip_suffix("/start"))
                {
                    if !id.contains('/') {
                        out.push(id.to_string());
                    }
                }
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }
}
