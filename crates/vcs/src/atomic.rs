//! Crash-safe file writes: a reader sees the old content or the new, never a torn file.
//! The temp file can live in a directory of the caller's choice (`.git/planexec/tmp`),
//! so a write killed halfway never leaves a stray file in the work tree.

use crate::{Result, VcsError};
use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` atomically: a temp file in the same directory,
/// write, fsync the file, rename over `path`, fsync the directory. An existing
/// file's permissions are kept; a new file gets 0644 on Unix.
pub fn atomic_write(path: impl AsRef<Path>, bytes: &[u8]) -> Result<()> {
    let path = path.as_ref();
    write_via(parent_dir(path), path, bytes, false)
}

/// [`atomic_write`] with the temp file in `tmp_dir` (created if missing), so a
/// crash never leaves one beside `path`. When `tmp_dir` is on another file
/// system (rename fails with EXDEV), falls back to `path`'s own directory.
pub fn atomic_write_in(tmp_dir: &Path, path: impl AsRef<Path>, bytes: &[u8]) -> Result<()> {
    let path = path.as_ref();
    std::fs::create_dir_all(tmp_dir).map_err(|source| VcsError::Io {
        what: "create",
        path: tmp_dir.to_path_buf(),
        source,
    })?;
    write_via(tmp_dir, path, bytes, true)
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

fn write_via(tmp_dir: &Path, path: &Path, bytes: &[u8], may_fall_back: bool) -> Result<()> {
    let io = |what: &'static str, p: &Path| {
        let p = p.to_path_buf();
        move |source| VcsError::Io {
            what,
            path: p,
            source,
        }
    };
    let dir = parent_dir(path);
    let mut tmp = tempfile::Builder::new()
        .prefix(".planexec-tmp-")
        .tempfile_in(tmp_dir)
        .map_err(io("create a temporary file in", tmp_dir))?;
    tmp.write_all(bytes).map_err(io("write", tmp.path()))?;
    let perms = match std::fs::metadata(path) {
        Ok(m) => Some(m.permissions()),
        Err(_) => default_permissions(),
    };
    if let Some(perms) = perms {
        tmp.as_file()
            .set_permissions(perms)
            .map_err(io("set permissions of", path))?;
    }
    tmp.as_file().sync_all().map_err(io("fsync", tmp.path()))?;
    match tmp.persist(path) {
        Ok(_) => {}
        Err(e) if may_fall_back && e.error.raw_os_error() == Some(libc::EXDEV) => {
            drop(e);
            return write_via(dir, path, bytes, false);
        }
        Err(e) => {
            return Err(VcsError::Io {
                what: "rename a temporary file onto",
                path: path.to_path_buf(),
                source: e.error,
            })
        }
    }
    sync_dir(dir).map_err(io("fsync the directory", dir))?;
    Ok(())
}

#[cfg(unix)]
fn default_permissions() -> Option<std::fs::Permissions> {
    use std::os::unix::fs::PermissionsExt;
    Some(std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn default_permissions() -> Option<std::fs::Permissions> {
    None
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}
