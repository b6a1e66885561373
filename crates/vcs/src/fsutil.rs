//! Crash-safe file writes: a reader sees the old content or the new, never a torn file.
//! Used by the engine for its state file and logs.

use crate::{Result, VcsError};
use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` atomically: a temp file in the same directory,
/// write, fsync the file, rename over `path`, fsync the directory. An existing
/// file's permissions are kept; a new file gets 0644 on Unix.
pub fn atomic_write(path: impl AsRef<Path>, bytes: &[u8]) -> Result<()> {
    let path = path.as_ref();
    let io = |what: &'static str, p: &Path| {
        let p = p.to_path_buf();
        move |source| VcsError::Io {
            what,
            path: p,
            source,
        }
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".planexec-tmp-")
        .tempfile_in(dir)
        .map_err(io("create a temporary file in", dir))?;
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
    tmp.persist(path).map_err(|e| VcsError::Io {
        what: "rename a temporary file onto",
        path: path.to_path_buf(),
        source: e.error,
    })?;
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
