//! The repository's own git hooks (pre-commit, commit-msg) run on task commits
//! the way `git commit` runs them; a failing hook is a typed error with its output.

use crate::{Repo, Result, VcsError};
use git2::Oid;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one hook may run before it is killed and counted as failed.
pub const HOOK_TIMEOUT: Duration = Duration::from_secs(600);
/// The most of a hook's output kept in a [`HookFailure`] (its end).
const MAX_OUTPUT: u64 = 64 * 1024;

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

    /// Runs hook `name` with `args` in the work tree root, as git would. A hook
    /// inside the work tree must be byte-identical to its version in `trusted`
    /// (the run's start commit): a task may not change the code that runs unboxed.
    pub(crate) fn run_hook(
        &self,
        name: &str,
        args: &[&Path],
        env: &[(&str, &Path)],
        trusted: Option<Oid>,
    ) -> Result<()> {
        let Some(path) = self.hook_path(name) else {
            return Ok(());
        };
        self.check_hook_unchanged(name, &path, trusted)?;
        let fail = |code, output| {
            VcsError::Hook(HookFailure {
                hook: name.to_string(),
                path: path.clone(),
                code,
                output,
            })
        };
        let (status, output) = run_capturing(&path, args, env, &self.workdir)
            .map_err(|e| fail(None, format!("could not start it: {e}")))?;
        match status {
            Some(s) if s.success() => Ok(()),
            Some(s) => Err(fail(s.code(), output)),
            None => Err(fail(
                None,
                format!("{output}\n(killed after {}s)", HOOK_TIMEOUT.as_secs()),
            )),
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

/// Runs `program` in `cwd` with stdout and stderr into one temp file; its exit
/// status (`None` when killed at [`HOOK_TIMEOUT`]) and the end of its output.
fn run_capturing(
    program: &Path,
    args: &[&Path],
    env: &[(&str, &Path)],
    cwd: &Path,
) -> std::io::Result<(Option<std::process::ExitStatus>, String)> {
    let mut out = tempfile::tempfile()?;
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(cwd)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .stdin(Stdio::null())
        .stdout(Stdio::from(out.try_clone()?))
        .stderr(Stdio::from(out.try_clone()?));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn()?;
    let deadline = Instant::now() + HOOK_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    Ok((status, tail(&mut out)))
}

/// The end of what the hook printed, as text.
fn tail(f: &mut std::fs::File) -> String {
    let len = f.seek(std::io::SeekFrom::End(0)).unwrap_or(0);
    let _ = f.seek(std::io::SeekFrom::Start(len.saturating_sub(MAX_OUTPUT)));
    let mut buf = Vec::new();
    let _ = f.read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}
