//! The repository's own git hooks (pre-commit, commit-msg) on task commits: found the
//! way `git commit` finds them, run by a [`HookRunner`] the caller gives (planexec's box).

use crate::{Repo, Result, VcsError};
use git2::Oid;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long one hook may run before it is killed and counted as failed.
pub const HOOK_TIMEOUT: Duration = Duration::from_secs(600);

/// One hook to run, as git would: in the work tree root, with these arguments and variables.
#[derive(Debug, Clone)]
pub struct HookCall<'a> {
    /// `pre-commit` or `commit-msg`.
    pub name: &'a str,
    /// The executable hook file.
    pub path: &'a Path,
    pub args: &'a [&'a Path],
    pub env: &'a [(&'a str, &'a Path)],
    /// The work tree root (its working directory).
    pub workdir: &'a Path,
    /// Files the hook may change (the commit message); everything else is read-only.
    pub writable: &'a [&'a Path],
    pub timeout: Duration,
}

/// How a hook ended: its exit code (`None` when killed) and the end of its output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookExit {
    pub code: Option<i32>,
    /// stdout and stderr together, the last 64 KiB at most.
    pub output: String,
}

/// Runs hooks for [`Repo::commit_paths_with`]. The repository's hooks are repository
/// content, and a task can change what they run (its own test files): planexec's
/// runner boxes them; this crate never starts one itself.
pub trait HookRunner: Send + Sync {
    /// `Err` when it could not start (the reason).
    fn run(&self, call: &HookCall) -> std::result::Result<HookExit, String>;
}

/// Which hook [`Repo::commit_paths_with`] runs, with what.
pub(crate) struct HookArgs<'a> {
    pub name: &'a str,
    pub args: &'a [&'a Path],
    pub env: &'a [(&'a str, &'a Path)],
    pub writable: &'a [&'a Path],
}

/// A hook that exited non-zero, was killed, or could not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookFailure {
    /// `pre-commit` or `commit-msg`.
    pub hook: String,
    pub path: PathBuf,
    /// The exit code; `None` when killed by a signal or by the timeout.
    pub code: Option<i32>,
    /// Its stdout and stderr together (the last 64 KiB).
    pub output: String,
}

impl std::fmt::Display for HookFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.code {
            Some(c) => write!(
                f,
                "the {} hook ({}) exited {c}",
                self.hook,
                self.path.display()
            )?,
            None => write!(
                f,
                "the {} hook ({}) was killed",
                self.hook,
                self.path.display()
            )?,
        }
        let out = self.output.trim();
        if !out.is_empty() {
            write!(f, ":\n{out}")?;
        }
        Ok(())
    }
}

impl Repo {
    /// Where git looks for hooks: `core.hooksPath` (relative to the work tree),
    /// else `hooks/` in the common git directory.
    pub fn hooks_dir(&self) -> PathBuf {
        let configured = self
            .repo
            .config()
            .and_then(|mut c| c.snapshot())
            .and_then(|c| c.get_path("core.hooksPath"));
        match configured {
            Ok(p) if p.is_absolute() => p,
            Ok(p) => self.workdir.join(p),
            Err(_) => self.repo.commondir().join("hooks"),
        }
    }

    /// The executable hook `name`, if there is one (git skips non-executable ones too).
    fn hook_path(&self, name: &str) -> Option<PathBuf> {
        use std::os::unix::fs::PermissionsExt;
        let p = self.hooks_dir().join(name);
        let m = std::fs::metadata(&p).ok()?;
        (m.is_file() && m.permissions().mode() & 0o111 != 0).then_some(p)
    }

    /// Runs hook `name` with `args` through `runner`. A hook inside the work tree must
    /// be byte-identical to its version in `trusted` (the run's start commit).
    pub(crate) fn run_hook(
        &self,
        runner: &dyn HookRunner,
        hook: HookArgs,
        trusted: Option<Oid>,
    ) -> Result<()> {
        let HookArgs {
            name,
            args,
            env,
            writable,
        } = hook;
        let Some(path) = self.hook_path(name) else {
            return Ok(());
        };
        // planexec's own hook runs the gates the task's commit has just passed.
        if crate::is_planexec_hook(&path) {
            return Ok(());
        }
        self.check_hook_unchanged(name, &path, trusted)?;
        let fail = |code, output| {
            VcsError::Hook(HookFailure {
                hook: name.to_string(),
                path: path.clone(),
                code,
                output,
            })
        };
        let call = HookCall {
            name,
            path: &path,
            args,
            env,
            workdir: &self.workdir,
            writable,
            timeout: HOOK_TIMEOUT,
        };
        match runner.run(&call) {
            Err(e) => Err(fail(None, format!("could not start it: {e}"))),
            Ok(HookExit { code: Some(0), .. }) => Ok(()),
            Ok(HookExit { code, output }) => Err(fail(code, output)),
        }
    }

    fn check_hook_unchanged(&self, name: &str, path: &Path, trusted: Option<Oid>) -> Result<()> {
        let canon = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
        let (hook, wd) = (canon(path), canon(&self.workdir));
        let Ok(rel) = hook.strip_prefix(&wd) else {
            return Ok(()); // outside the work tree: the user's own file
        };
        if rel.starts_with(".git") {
            return Ok(());
        }
        let changed = || VcsError::HookChanged {
            hook: name.to_string(),
            path: path.to_path_buf(),
        };
        let Some(commit) = trusted else {
            return Err(changed());
        };
        let committed = self
            .repo
            .find_commit(commit)
            .and_then(|c| c.tree())
            .and_then(|t| t.get_path(rel))
            .and_then(|e| self.repo.find_blob(e.id()))
            .map(|b| b.content().to_vec());
        match (committed, std::fs::read(&hook)) {
            (Ok(a), Ok(b)) if a == b => Ok(()),
            _ => Err(changed()),
        }
    }
}
