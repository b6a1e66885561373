//! History between two commits: what someone else committed while a run was
//! stopped or between its tasks (a user's intervention).

use crate::{CommitInfo, Repo, Result, VcsError};
use git2::Oid;

impl Repo {
    /// The commits reachable from `head` but not from `base`, newest first.
    pub fn commits_between(&self, base: &str, head: &str) -> Result<Vec<CommitInfo>> {
        let git = |op: &'static str| {
            let workdir = self.workdir.clone();
            move |source| VcsError::Git {
                op,
                workdir,
                source,
            }
        };
        let mut walk = self.repo.revwalk().map_err(git("revwalk"))?;
        walk.push(Oid::from_str(head).map_err(git("parse of a commit id"))?)
            .map_err(git("revwalk"))?;
        if let Ok(b) = Oid::from_str(base) {
            // A base that is not an ancestor (history rewritten) hides nothing.
            let _ = walk.hide(b);
        }
        let mut out = Vec::new();
        for oid in walk {
            let oid = oid.map_err(git("revwalk"))?;
            let c = self
                .repo
                .find_commit(oid)
                .map_err(git("read of a commit"))?;
            out.push(CommitInfo {
                id: oid.to_string(),
                summary: c.summary().unwrap_or("").to_string(),
            });
        }
        Ok(out)
    }
}

impl Repo {
    /// Moves the branch back to `base` keeping the work tree as it is (a mixed
    /// reset): commits someone made since `base` become uncommitted changes again.
    /// Returns those commits, newest first; nothing happens when HEAD is `base`.
    pub fn undo_commits_to(&self, base: &str) -> Result<Vec<CommitInfo>> {
        let Some(head) = self.head()? else {
            return Ok(Vec::new());
        };
        if head == base {
            return Ok(Vec::new());
        }
        let undone = self.commits_between(base, &head)?;
        let oid = Oid::from_str(base).map_err(self.err("parse of a commit id"))?;
        let target = self
            .repo
            .find_object(oid, None)
            .map_err(self.err("finding the task's base commit"))?;
        self.repo
            .reset(&target, git2::ResetType::Mixed, None)
            .map_err(self.err("reset to the task's base"))?;
        Ok(undone)
    }
}
