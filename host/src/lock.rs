//! One lock per repository, held while a run (or a rollback) is live: an OS
//! file lock (flock) on `.git/planexec/lock`, with the holder recorded inside.
//!
//! The kernel drops the lock when its holder dies, so a dead holder's lock is
//! free again without guessing from pids (no pid-reuse race); the recorded
//! pid, run id and plan only make the refusal message useful.

use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// Who holds (or last held) the lock.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub pid: u32,
    /// Empty while a new run is still in pre-flight.
    pub run_id: String,
    pub plan: String,
    /// `run`, `resume` or `rollback`.
    pub action: String,
    pub since: String,
}

/// The repository lock; released when dropped or when the process ends.
#[derive(Debug)]
pub struct RepoLock {
    file: File,
    path: PathBuf,
    holder: Holder,
    /// A holder recorded by a process that died without releasing the file.
    pub took_over: Option<Holder>,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{}", held_message(.path, .holder.as_ref()))]
    Held {
        path: PathBuf,
        holder: Option<Holder>,
    },
    #[error("{path}: cannot {what} the repository lock: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn held_message(path: &Path, h: Option<&Holder>) -> String {
    match h {
        Some(h) => format!(
            "another planexec is working in this repository: pid {} ({}{}{}, since {}); \
             wait for it to finish or stop it (kill {}), then run again; its lock is {}",
            h.pid,
            h.action,
            if h.plan.is_empty() {
                String::new()
            } else {
                format!(" of {}", h.plan)
            },
            if h.run_id.is_empty() {
                String::new()
            } else {
                format!(", run {}", h.run_id)
            },
            h.since,
            h.pid,
            path.display()
        ),
        None => format!(
            "another planexec is working in this repository (lock {}); wait for it to finish, then run again",
            path.display()
        ),
    }
}

impl RepoLock {
    /// Takes the lock of the repository whose git directory is `git_dir`, or
    /// fails at once with [`LockError::Held`] naming the live holder.
    pub fn acquire(git_dir: &Path, holder: Holder) -> Result<RepoLock, LockError> {
        let dir = git_dir.join("planexec");
        let path = dir.join("lock");
        let io = |what, source| LockError::Io {
            what,
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(&dir).map_err(|e| io("create the folder of", e))?;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| io("open", e))?;
        match try_lock_after_dead_holder(&mut file) {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(LockError::Held {
                    holder: read_holder(&mut file),
                    path,
                })
            }
            Err(TryLockError::Error(e)) => return Err(io("take", e)),
        }
        let took_over = read_holder(&mut file).filter(|h| h.pid != 0);
        let mut lock = RepoLock {
            file,
            path,
            holder,
            took_over,
        };
        lock.write_holder()?;
        Ok(lock)
    }

    /// Records the run id once it is known (a new run gets it after pre-flight).
    pub fn set_run(&mut self, run_id: &str) -> Result<(), LockError> {
        self.holder.run_id = run_id.to_string();
        self.write_holder()
    }

    pub fn holder(&self) -> &Holder {
        &self.holder
    }

    fn write_holder(&mut self) -> Result<(), LockError> {
        let json = serde_json::to_vec(&self.holder).expect("holder serialises");
        let r = (|| {
            self.file.set_len(0)?;
            self.file.rewind()?;
            self.file.write_all(&json)?;
            self.file.sync_data()
        })();
        r.map_err(|source| LockError::Io {
            what: "record the holder in",
            path: self.path.clone(),
            source,
        })
    }
}

impl Drop for RepoLock {
    fn drop(&mut self) {
        // Leave no holder behind; the kernel releases the flock with the file.
        let _ = self.file.set_len(0);
    }
}

/// The live holder of the repository's lock, if a planexec holds it now (read without
/// taking the lock: a shared flock probe, released at once).
pub fn live_holder(git_dir: &Path) -> Option<Holder> {
    let mut file = File::open(git_dir.join("planexec").join("lock")).ok()?;
    match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            None
        }
        Err(TryLockError::WouldBlock) => Some(read_holder(&mut file).unwrap_or_default()),
        Err(TryLockError::Error(_)) => None,
    }
}

/// Takes the flock; when it is held but its recorded holder is dead, waits up to two
/// seconds: a process the holder forked just before it died keeps the lock open until
/// that child's exec closes it (the lock is close-on-exec).
fn try_lock_after_dead_holder(file: &mut File) -> Result<(), TryLockError> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        match file.try_lock() {
            Err(TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                let dead = read_holder(file).is_some_and(|h| h.pid != 0 && !alive(h.pid));
                if !dead {
                    return Err(TryLockError::WouldBlock);
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// Whether a process with this id exists (signal 0 checks without sending).
fn alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill with signal 0 sends nothing; it only reports whether `pid` exists.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

fn read_holder(f: &mut File) -> Option<Holder> {
    let mut s = String::new();
    f.rewind().ok()?;
    f.read_to_string(&mut s).ok()?;
    serde_json::from_str(&s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder(plan: &str) -> Holder {
        Holder {
            pid: std::process::id(),
            run_id: String::new(),
            plan: plan.into(),
            action: "run".into(),
            since: "now".into(),
        }
    }

    #[test]
    fn a_second_lock_is_refused_naming_the_holder_and_freed_on_drop() {
        let tmp = tempfile::tempdir().unwrap();
        let mut first = RepoLock::acquire(tmp.path(), holder("plan/a.md")).unwrap();
        first.set_run("R1").unwrap();
        let err = RepoLock::acquire(tmp.path(), holder("plan/b.md")).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("plan/a.md")
                && msg.contains("run R1")
                && msg.contains(&format!("pid {}", std::process::id())),
            "{msg}"
        );
        drop(first);
        let again = RepoLock::acquire(tmp.path(), holder("plan/b.md")).unwrap();
        assert_eq!(again.took_over, None, "a released lock leaves no holder");
    }

    #[test]
    fn a_holder_left_by_a_dead_process_is_taken_over() {
        let tmp = tempfile::tempdir().unwrap();
        let stale = Holder {
            pid: 999_999,
            run_id: "R0".into(),
            ..holder("plan/a.md")
        };
        std::fs::create_dir_all(tmp.path().join("planexec")).unwrap();
        std::fs::write(
            tmp.path().join("planexec/lock"),
            serde_json::to_vec(&stale).unwrap(),
        )
        .unwrap();
        let lock = RepoLock::acquire(tmp.path(), holder("plan/b.md")).unwrap();
        assert_eq!(lock.took_over, Some(stale));
    }

    #[test]
    fn a_lock_a_dead_holders_child_still_has_open_is_waited_for() {
        // The dead run's forked child holds the open lock until its exec closes it.
        let tmp = tempfile::tempdir().unwrap();
        let dead = Holder {
            pid: 999_999,
            ..holder("plan/a.md")
        };
        std::fs::create_dir_all(tmp.path().join("planexec")).unwrap();
        let path = tmp.path().join("planexec/lock");
        std::fs::write(&path, serde_json::to_vec(&dead).unwrap()).unwrap();
        let child_copy = File::open(&path).unwrap();
        child_copy.try_lock().unwrap();
        let exec = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            drop(child_copy);
        });
        let lock = RepoLock::acquire(tmp.path(), holder("plan/b.md")).unwrap();
        assert_eq!(lock.took_over, Some(dead));
        exec.join().unwrap();
    }

    #[test]
    fn a_lock_held_under_a_live_holder_is_refused_at_once() {
        let tmp = tempfile::tempdir().unwrap();
        let _first = RepoLock::acquire(tmp.path(), holder("plan/a.md")).unwrap();
        let started = std::time::Instant::now();
        assert!(RepoLock::acquire(tmp.path(), holder("plan/b.md")).is_err());
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }
}
