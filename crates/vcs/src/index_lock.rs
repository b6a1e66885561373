//! A stale `.git/index.lock` (left by a git or planexec process that died) is
//! found and removed before a run; one a live process holds open is an error.

use crate::{Repo, Result, VcsError};
use std::path::{Path, PathBuf};

/// What [`Repo::clear_stale_index_lock`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexLock {
    /// No `index.lock`.
    Absent,
    /// There was one and no process had it open: it was removed.
    RemovedStale(PathBuf),
}

impl Repo {
    /// Removes `<git dir>/index.lock` when no process has it open (git holds
    /// the file open for as long as it owns the lock). When one does, fails
    /// with [`VcsError::IndexLocked`] naming the processes.
    pub fn clear_stale_index_lock(&self) -> Result<IndexLock> {
        let lock = self.repo.path().join("index.lock");
        if std::fs::symlink_metadata(&lock).is_err() {
            return Ok(IndexLock::Absent);
        }
        let holders = processes_with_open(&lock);
        if !holders.is_empty() {
            return Err(VcsError::IndexLocked {
                path: lock,
                holders,
            });
        }
        std::fs::remove_file(&lock).map_err(|source| VcsError::Io {
            what: "remove the stale lock",
            path: lock.clone(),
            source,
        })?;
        Ok(IndexLock::RemovedStale(lock))
    }
}

/// `pid (command)` of every process with `path` open, from /proc/*/fd.
fn processes_with_open(path: &Path) -> Vec<String> {
    let target = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for p in procs.flatten() {
        let name = p.file_name().to_string_lossy().into_owned();
        if name.parse::<u32>().is_err() {
            continue;
        }
        let Ok(fds) = std::fs::read_dir(p.path().join("fd")) else {
            continue;
        };
        let holds = fds
            .flatten()
            .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|l| l == target));
        if holds {
            let comm = std::fs::read_to_string(p.path().join("comm")).unwrap_or_default();
            out.push(format!("{name} ({})", comm.trim()));
        }
    }
    out
}
