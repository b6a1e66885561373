//! Reading inputs that others wrote (planexec.toml, plugin.toml, components):
//! regular files only, inside their root (a symlink may point within it), bounded.

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The most a TOML file (planexec.toml, plugin.toml, user config) may be.
pub const MAX_TOML: u64 = 1 << 20;
/// The most a component (.wasm) may be.
pub const MAX_COMPONENT: u64 = 256 << 20;

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {reason}\n  planexec reads it only as a regular file inside {root}; replace it with one")]
    NotRegular {
        path: PathBuf,
        root: PathBuf,
        reason: String,
    },
    #[error("{path}: {size} bytes is over the {max}-byte limit for this file")]
    TooLarge { path: PathBuf, size: u64, max: u64 },
    #[error("{path}: is not UTF-8 text")]
    NotText { path: PathBuf },
}

/// Where `path` really is, refusing a symlink that leaves `root`.
fn resolve(path: &Path, root: &Path) -> Result<PathBuf, InputError> {
    let meta = path.symlink_metadata().map_err(|source| InputError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if !meta.file_type().is_symlink() {
        return Ok(path.to_path_buf());
    }
    let refuse = |reason: String| InputError::NotRegular {
        path: path.to_path_buf(),
        root: root.to_path_buf(),
        reason,
    };
    let target = path
        .canonicalize()
        .map_err(|e| refuse(format!("it is a symlink that does not resolve: {e}")))?;
    let root_c = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    if !target.starts_with(&root_c) {
        return Err(refuse(format!(
            "it is a symlink to {}, outside {}",
            target.display(),
            root_c.display()
        )));
    }
    Ok(target)
}

/// The bytes of `path`: a regular file inside `root` of at most `max` bytes.
pub fn read_bytes(path: &Path, root: &Path, max: u64) -> Result<Vec<u8>, InputError> {
    let real = resolve(path, root)?;
    let io = |source| InputError::Io {
        path: path.to_path_buf(),
        source,
    };
    // O_NONBLOCK: opening a FIFO must not hang; O_NOFOLLOW: resolved above.
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(&real)
        .map_err(io)?;
    let meta = f.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(InputError::NotRegular {
            path: path.to_path_buf(),
            root: root.to_path_buf(),
            reason: "it is not a regular file (a device, FIFO, socket or directory)".into(),
        });
    }
    let too_large = |size| InputError::TooLarge {
        path: path.to_path_buf(),
        size,
        max,
    };
    if meta.len() > max {
        return Err(too_large(meta.len()));
    }
    let mut data = Vec::with_capacity(meta.len() as usize);
    f.take(max + 1).read_to_end(&mut data).map_err(io)?;
    if data.len() as u64 > max {
        return Err(too_large(data.len() as u64));
    }
    Ok(data)
}

/// [`read_bytes`] as UTF-8 text.
pub fn read_text(path: &Path, root: &Path, max: u64) -> Result<String, InputError> {
    String::from_utf8(read_bytes(path, root, max)?).map_err(|_| InputError::NotText {
        path: path.to_path_buf(),
    })
}

/// Refuses a plan file or folder that is, or holds (four levels deep), a
/// symlink resolving outside `root`: a committed `plan.md -> ~/.ssh/id_rsa`
/// would otherwise be parsed and quoted. Paths the user typed are not links.
pub fn check_links_inside(path: &Path, root: &Path) -> Result<(), InputError> {
    let mut stack = vec![(path.to_path_buf(), 0u32)];
    let mut seen = 0usize;
    while let Some((p, depth)) = stack.pop() {
        let Ok(meta) = p.symlink_metadata() else {
            continue;
        };
        seen += 1;
        if meta.file_type().is_symlink() {
            resolve(&p, root)?;
        } else if meta.is_dir() && depth < 4 && seen < 10_000 {
            if let Ok(rd) = std::fs::read_dir(&p) {
                stack.extend(rd.flatten().map(|e| (e.path(), depth + 1)));
            }
        }
    }
    Ok(())
}
