//! The files `gate run --staged` / `--changed [REV]` checks, and where: the staged content is
//! written to a fresh directory the gates see as their workspace; the work tree is never touched.

use super::key::Checked;
use std::path::{Path, PathBuf};

/// Which files a gate run checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// What is staged for the next commit, as staged.
    Staged,
    /// What differs from a revision (`@{push}` when none is given).
    Changed(String),
}

/// A scope made ready: its files, the directory the gates run in, the key content.
pub struct Prepared {
    /// `staged`, `changed since main (merge base)`: how messages name the files.
    pub label: String,
    pub files: Vec<String>,
    pub workspace: PathBuf,
    pub checked: Option<Checked>,
    /// The staged copy, removed when this is dropped.
    _copy: Option<tempfile::TempDir>,
}

#[derive(Debug, thiserror::Error)]
pub enum ScopeError {
    #[error("{0}")]
    Git(#[from] planexec_vcs::VcsError),
    #[error("could not make a directory for the staged copy in {dir}: {source}; set TMPDIR to a writable directory")]
    TempDir {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The scope's files in `workspace`'s repository; for `Staged`, a copy of the index to run in.
pub fn prepare(scope: &Scope, workspace: &Path) -> Result<Prepared, ScopeError> {
    let repo = planexec_vcs::Repo::discover(workspace)?;
    match scope {
        Scope::Changed(rev) => {
            let c = repo.changed_since(rev)?;
            Ok(Prepared {
                label: format!("changed since {}", c.base),
                files: c.files,
                workspace: workspace.to_path_buf(),
                checked: None,
                _copy: None,
            })
        }
        Scope::Staged => {
            let files = repo.staged_files()?;
            let dir = copy_parent(repo.index_bytes()?);
            prune_stale(&dir);
            let copy = tempfile::Builder::new()
                .prefix("planexec-staged-")
                .tempdir_in(&dir)
                .map_err(|source| ScopeError::TempDir { dir, source })?;
            if !files.is_empty() {
                repo.write_index_to(copy.path())?;
            }
            let real = repo
                .workdir()
                .canonicalize()
                .unwrap_or_else(|_| repo.workdir().to_path_buf());
            Ok(Prepared {
                label: "staged".into(),
                files,
                workspace: copy.path().to_path_buf(),
                checked: Some(Checked {
                    repo: real,
                    content: repo.index_digest()?,
                }),
                _copy: Some(copy),
            })
        }
    }
}

/// Staged copies up to this size go to memory (`/dev/shm`): writing thousands of small
/// files to a disk costs seconds, to a tmpfs a tenth of that.
const IN_MEMORY: u64 = 256 << 20;

/// Where the staged copy goes: `/dev/shm` when it is a writable directory and the copy is
/// small enough, else the temporary directory (`TMPDIR`); `PLANEXEC_STAGED_DIR` overrides.
fn copy_parent(bytes: u64) -> PathBuf {
    if let Some(d) = std::env::var_os("PLANEXEC_STAGED_DIR") {
        return PathBuf::from(d);
    }
    let shm = Path::new("/dev/shm");
    // SAFETY: access(2) on a NUL-terminated literal path; it reads nothing else.
    let writable = unsafe { libc::access(c"/dev/shm".as_ptr(), libc::W_OK) } == 0;
    let usable = writable && std::fs::metadata(shm).is_ok_and(|m| m.is_dir());
    if bytes <= IN_MEMORY && usable {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

/// Removes staged copies a planexec killed -9 left behind more than a day ago.
fn prune_stale(dir: &Path) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let day = std::time::Duration::from_secs(24 * 3600);
    for e in rd.flatten() {
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > day);
        let ours = e
            .file_name()
            .to_string_lossy()
            .starts_with("planexec-staged-");
        let real_dir = e.file_type().is_ok_and(|t| t.is_dir());
        if old && ours && real_dir {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Every tracked file of `workspace`'s repository (`{files}` on a whole-tree run).
pub fn tracked(workspace: &Path) -> Result<Vec<String>, ScopeError> {
    Ok(planexec_vcs::Repo::discover(workspace)?.tracked_files()?)
}
