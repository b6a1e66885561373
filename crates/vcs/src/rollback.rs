//! Rolling a run back to its start commit: what it would discard, and doing it
//! only when confirmed, with the old HEAD and the discarded work kept under refs.

use crate::{Repo, Result, StatusEntry, StatusKind, RUNS_REF_PREFIX};
use git2::{IndexAddOption, ObjectType, Oid, ResetType};

/// One commit, for listings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    pub id: String,
    pub summary: String,
}

/// What restoring a run's start commit discards (and, when confirmed, did discard).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollbackPlan {
    pub run_id: String,
    pub start_commit: String,
    /// HEAD when the plan was made.
    pub head: Option<String>,
    pub branch: String,
    /// Commits reachable from HEAD but not from the start commit, newest first.
    pub commits: Vec<CommitInfo>,
    /// Uncommitted changes to tracked files: discarded by the reset.
    pub uncommitted: Vec<StatusEntry>,
    /// Untracked (non-ignored) files: a hard reset leaves them in place.
    pub untracked_kept: Vec<String>,
    /// Whether the reset was carried out.
    pub applied: bool,
    /// When applied: the ref keeping the pre-rollback HEAD reachable.
    pub backup_ref: Option<String>,
    /// When applied over uncommitted changes: the ref of a commit (not on any
    /// branch) holding the work tree as it was, so the reset loses nothing.
    pub discarded_ref: Option<String>,
}

impl RollbackPlan {
    /// Nothing would be lost: HEAD is the start commit and the tree is clean.
    pub fn is_noop(&self) -> bool {
        self.commits.is_empty() && self.uncommitted.is_empty()
    }

    /// When applied: the git commands that bring back what the rollback saved
    /// (the old HEAD, then the uncommitted changes on top, unstaged).
    pub fn restore_commands(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(b) = &self.backup_ref {
            out.push(format!("git reset --hard {b}"));
        }
        if let Some(d) = &self.discarded_ref {
            out.push(format!("git restore --source={d} --worktree -- ."));
        }
        out
    }
}

impl Repo {
    /// Commits the whole work tree (as `git add -A` would stage it) without
    /// moving any branch, and records it under the ref `name` (never overwritten).
    pub(crate) fn snapshot_work_tree(
        &self,
        run_id: &str,
        name: &str,
        head: Option<Oid>,
    ) -> Result<()> {
        let mut index = self.repo.index().map_err(self.err("opening the index"))?;
        // The Repo may be long-lived: pick up changes others made to the index file.
        index.read(false).map_err(self.err("reading the index"))?;
        index
            .add_all(["*"], IndexAddOption::DEFAULT, None)
            .map_err(self.err("staging the work tree for a snapshot"))?;
        index
            .update_all(["*"], None)
            .map_err(self.err("staging deletions for a snapshot"))?;
        let tree_id = index
            .write_tree()
            .map_err(self.err("writing the snapshot tree"))?;
        // Forget the staging above: the index on disk is what the user had.
        index.read(true).map_err(self.err("re-reading the index"))?;
        let tree = self
            .repo
            .find_tree(tree_id)
            .map_err(self.err("reading the snapshot tree"))?;
        let parent = match head {
            Some(h) => Some(self.repo.find_commit(h).map_err(self.err("reading HEAD"))?),
            None => None,
        };
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        let sig = self.signature();
        let msg = format!("planexec: uncommitted changes discarded by rolling back run {run_id}\n");
        let id = self
            .repo
            .commit(None, &sig, &sig, &msg, &tree, &parents)
            .map_err(self.err("snapshotting uncommitted changes"))?;
        self.repo
            .reference(name, id, false, &msg)
            .map_err(self.err("recording the snapshot ref"))?;
        Ok(())
    }

    /// `refs/planexec/runs/<run_id>/rollback-<N>`, the first N not used yet:
    /// each rollback of a run keeps its own refs.
    fn next_rollback_prefix(&self, run_id: &str) -> Result<String> {
        let base = format!("{RUNS_REF_PREFIX}{run_id}/rollback-");
        let used = self
            .repo
            .references_glob(&format!("{base}*"))
            .map_err(self.err("listing rollback refs"))?
            .filter_map(|r| r.ok())
            .filter_map(|r| {
                let name = r.name()?.strip_prefix(&base)?.to_string();
                name.split('/').next()?.parse::<u32>().ok()
            })
            .max()
            .unwrap_or(0);
        Ok(format!("{base}{}", used + 1))
    }

    /// What restoring run `run_id`'s start commit would discard. With `confirm`,
    /// hard-resets the current branch (or detached HEAD) to it, first saving the
    /// old HEAD under `refs/planexec/runs/<run_id>/rollback-<N>/head` and any
    /// uncommitted changes as a commit under `.../rollback-<N>/discarded`, with
    /// N one more than the last rollback of this run (nothing is overwritten).
    /// Untracked files are left in place. Without `confirm`, changes nothing.
    pub fn rollback(&self, run_id: &str, confirm: bool) -> Result<RollbackPlan> {
        let start = self.run_start(run_id)?;
        let start_oid = Oid::from_str(&start).map_err(self.err("reading the start ref"))?;
        let head = self.head_oid()?;
        let mut commits = Vec::new();
        if let Some(h) = head {
            let mut walk = self.repo.revwalk().map_err(self.err("listing commits"))?;
            walk.push(h).map_err(self.err("listing commits"))?;
            walk.hide(start_oid).map_err(self.err("listing commits"))?;
            for oid in walk {
                let oid = oid.map_err(self.err("listing commits"))?;
                let c = self
                    .repo
                    .find_commit(oid)
                    .map_err(self.err("reading a commit"))?;
                commits.push(CommitInfo {
                    id: oid.to_string(),
                    summary: c.summary().unwrap_or("").to_string(),
                });
            }
        }
        let mut uncommitted = Vec::new();
        let mut untracked_kept = Vec::new();
        for s in self.status_paths()? {
            if s.kind == StatusKind::Untracked {
                untracked_kept.push(s.path);
            } else {
                uncommitted.push(s);
            }
        }
        let mut plan = RollbackPlan {
            run_id: run_id.to_string(),
            start_commit: start,
            head: head.map(|h| h.to_string()),
            branch: self.branch()?,
            commits,
            uncommitted,
            untracked_kept,
            applied: false,
            backup_ref: None,
            discarded_ref: None,
        };
        if confirm {
            let prefix = self.next_rollback_prefix(run_id)?;
            if !plan.uncommitted.is_empty() {
                let name = format!("{prefix}/discarded");
                self.snapshot_work_tree(run_id, &name, head)?;
                plan.discarded_ref = Some(name);
            }
            if let Some(h) = head {
                let backup = format!("{prefix}/head");
                self.repo
                    .reference(
                        &backup,
                        h,
                        false,
                        &format!("planexec: HEAD before rolling back run {run_id}"),
                    )
                    .map_err(self.err("saving HEAD before the rollback"))?;
                plan.backup_ref = Some(backup);
            }
            let obj = self
                .repo
                .find_object(start_oid, Some(ObjectType::Commit))
                .map_err(self.err("reading the start commit"))?;
            self.repo
                .reset(&obj, ResetType::Hard, None)
                .map_err(self.err("resetting to the start commit"))?;
            plan.applied = true;
        }
        Ok(plan)
    }
}
