//! Git operations for planexec: rollback points, per-task atomic commits, diffs.
//! Built on git2 (libgit2); it never shells out to git and never discards user work unasked.
//!
//! One module per job: `point` (rollback point, start refs), `changes` (task
//! diffs), `watch` (which paths a diff must read), `commit` (exact-path commits
//! and their hooks), `rollback`, `status`, `index_lock`, `atomic` (crash-safe
//! writes), `worktree` (parallel tasks' linked worktrees, a task's commit applied onto HEAD).

mod atomic;
mod changes;
mod commit;
mod digest;
mod error;
mod history;
mod hooks;
mod index_lock;
mod install;
mod point;
mod recovery;
mod rollback;
mod staged;
mod status;
mod watch;
mod worktree;

pub use atomic::{atomic_write, atomic_write_in};
pub use changes::{ChangeKind, ChangedFile, TaskChanges};
pub use commit::{commit_message, plan_ref, CommitOptions, Hooks};
pub use error::{Result, VcsError};
pub use hooks::{HookCall, HookExit, HookFailure, HookRunner, HOOK_TIMEOUT};
pub use index_lock::IndexLock;
pub use install::{hook_owner, is_planexec_hook, Installed, HOOK_MARKER, SET_ASIDE};
pub use point::RollbackPoint;
pub use rollback::{CommitInfo, RollbackPlan};
pub use staged::ChangedSince;
pub use status::{StatusEntry, StatusKind};

use git2::{ErrorCode, Oid, Repository, Signature};
use std::path::{Path, PathBuf};

/// Where planexec keeps its refs; one `refs/planexec/runs/<run-id>/start` per run.
pub const RUNS_REF_PREFIX: &str = "refs/planexec/runs/";

/// Identity used when git config has no `user.name` / `user.email`.
pub const FALLBACK_NAME: &str = "planexec";
pub const FALLBACK_EMAIL: &str = "planexec@localhost";

/// A git work tree planexec operates on.
pub struct Repo {
    pub(crate) repo: Repository,
    pub(crate) workdir: PathBuf,
    /// What changed since the last diff (`watch.rs`).
    pub(crate) watch: std::cell::RefCell<watch::WatchState>,
}

impl std::fmt::Debug for Repo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repo")
            .field("workdir", &self.workdir)
            .finish()
    }
}

pub(crate) fn valid_run_id(run_id: &str) -> bool {
    !run_id.is_empty()
        && run_id.len() <= 200
        && !run_id.starts_with('.')
        && !run_id.ends_with(".lock")
        && !run_id.contains("..")
        && run_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

impl Repo {
    /// Opens the repository containing `path` (searching parent directories).
    pub fn discover(path: impl AsRef<Path>) -> Result<Repo> {
        let path = path.as_ref();
        let repo = Repository::discover(path).map_err(|source| VcsError::NotARepo {
            path: path.to_path_buf(),
            source,
        })?;
        let workdir = match repo.workdir() {
            Some(w) => w.to_path_buf(),
            None => {
                return Err(VcsError::Bare {
                    path: repo.path().to_path_buf(),
                })
            }
        };
        Ok(Repo {
            repo,
            workdir,
            watch: std::cell::RefCell::new(watch::WatchState::Unstarted),
        })
    }

    /// The work tree root.
    pub fn workdir(&self) -> &Path {
        &self.workdir
    }

    /// The underlying git2 repository, for what this crate does not cover.
    pub fn git(&self) -> &Repository {
        &self.repo
    }

    pub(crate) fn err(&self, op: &'static str) -> impl FnOnce(git2::Error) -> VcsError + '_ {
        move |source| VcsError::Git {
            op,
            workdir: self.workdir.clone(),
            source,
        }
    }

    /// The current branch's short name, or `(detached)`. Works in an unborn repository.
    pub fn branch(&self) -> Result<String> {
        if self
            .repo
            .head_detached()
            .map_err(self.err("reading HEAD"))?
        {
            return Ok("(detached)".into());
        }
        let head = self
            .repo
            .find_reference("HEAD")
            .map_err(self.err("reading HEAD"))?;
        let target = head.symbolic_target().unwrap_or("HEAD");
        Ok(target
            .strip_prefix("refs/heads/")
            .unwrap_or(target)
            .to_string())
    }

    pub(crate) fn head_oid(&self) -> Result<Option<Oid>> {
        match self.repo.head() {
            Ok(r) => {
                let c = r
                    .peel_to_commit()
                    .map_err(self.err("reading the HEAD commit"))?;
                Ok(Some(c.id()))
            }
            Err(e) if e.code() == ErrorCode::UnbornBranch || e.code() == ErrorCode::NotFound => {
                Ok(None)
            }
            Err(e) => Err(self.err("reading HEAD")(e)),
        }
    }

    /// The HEAD commit id, or `None` in a repository with no commit yet.
    pub fn head(&self) -> Result<Option<String>> {
        Ok(self.head_oid()?.map(|o| o.to_string()))
    }

    /// The author/committer: git config's `user.name`/`user.email`, else `planexec <planexec@localhost>`.
    pub fn signature(&self) -> Signature<'static> {
        match self.repo.signature() {
            Ok(s) => s.to_owned(),
            Err(_) => Signature::now(FALLBACK_NAME, FALLBACK_EMAIL)
                .expect("a fixed, valid fallback signature"),
        }
    }
}
