//! Writes beneath a root directory that never follow a symlink: each folder on
//! the way and the file itself are checked and opened through cap-std.
//! Beneath a git work tree, temp files live in `.git/planexec/tmp`.

use cap_std::ambient_authority;
use cap_std::fs::{Dir, OpenOptions};
use std::ffi::OsStr;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum RootedError {
    #[error("{root}: cannot open the folder to write in: {source}")]
    Root {
        root: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: `{link}` is a symlink; planexec never writes through one\n  remove the link, or write somewhere else")]
    Symlink { path: PathBuf, link: PathBuf },
    #[error("{path}: must be a relative path with no `..` inside {root}")]
    Escapes { path: PathBuf, root: PathBuf },
    #[error("{path}: cannot write: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Writes `bytes` to `root/rel` atomically (temp file, fsync, rename), creating
/// missing folders; refuses `..`, absolute paths, and any symlink on the way.
pub fn write(root: &Path, rel: &Path, bytes: &[u8]) -> Result<PathBuf, RootedError> {
    let full = root.join(rel);
    let (name, dirs) = split(root, rel)?;
    let io = |source| RootedError::Io {
        path: full.clone(),
        source,
    };
    let dir = walk(root, &dirs, &full)?;
    refuse_link(&dir, name, &full)?;
    let tmp = format!(
        ".{}.planexec-{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    );
    // Beneath a git work tree the temp file lives in .git/planexec/tmp, so a
    // write killed halfway never leaves a stray file among the user's.
    if let Some(tmp_dir) = git_temp_dir(root) {
        match write_then_rename(&tmp_dir, &tmp, &dir, name, bytes) {
            Err(e) if e.raw_os_error() == Some(libc::EXDEV) => {}
            r => return r.map(|_| full.clone()).map_err(io),
        }
    }
    write_then_rename(&dir, &tmp, &dir, name, bytes).map_err(io)?;
    Ok(full)
}

/// `rel`'s parts: its last name and the folders before it; `..` and absolute paths refused.
fn split<'a>(root: &Path, rel: &'a Path) -> Result<(&'a OsStr, Vec<&'a OsStr>), RootedError> {
    let escapes = || RootedError::Escapes {
        path: rel.to_path_buf(),
        root: root.to_path_buf(),
    };
    let mut parts: Vec<&OsStr> = rel
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .map(|c| match c {
            Component::Normal(n) => Ok(n),
            _ => Err(escapes()),
        })
        .collect::<Result<_, _>>()?;
    let name = parts.pop().ok_or_else(escapes)?;
    Ok((name, parts))
}

/// Opens `root/dirs...`, creating missing folders; any symlink on the way is refused.
fn walk(root: &Path, dirs: &[&OsStr], full: &Path) -> Result<Dir, RootedError> {
    let io = |source| RootedError::Io {
        path: full.to_path_buf(),
        source,
    };
    let mut dir =
        Dir::open_ambient_dir(root, ambient_authority()).map_err(|source| RootedError::Root {
            root: root.to_path_buf(),
            source,
        })?;
    let mut walked = root.to_path_buf();
    for d in dirs {
        walked.push(d);
        match dir.symlink_metadata(d) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(RootedError::Symlink {
                    path: full.to_path_buf(),
                    link: walked,
                })
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => dir.create_dir(d).map_err(io)?,
            Err(e) => return Err(io(e)),
        }
        dir = dir.open_dir(d).map_err(io)?;
    }
    Ok(dir)
}

/// Refuses `name` in `dir` if it is a symlink.
fn refuse_link(dir: &Dir, name: &OsStr, full: &Path) -> Result<(), RootedError> {
    match dir.symlink_metadata(name) {
        Ok(m) if m.file_type().is_symlink() => Err(RootedError::Symlink {
            path: full.to_path_buf(),
            link: full.to_path_buf(),
        }),
        _ => Ok(()),
    }
}

/// Makes sure `root/rel` exists without following any symlink: missing folders on the
/// way are created, and at the end a folder (`dir`) or an empty file. A symlink on the
/// way or at the end is refused. True when the last part was created here.
pub fn create(root: &Path, rel: &Path, dir: bool) -> Result<bool, RootedError> {
    let full = root.join(rel);
    if rel.components().all(|c| matches!(c, Component::CurDir)) {
        return Ok(false); // `.`: the root itself
    }
    let (name, dirs) = split(root, rel)?;
    let parent = walk(root, &dirs, &full)?;
    refuse_link(&parent, name, &full)?;
    let made = match dir {
        true => parent.create_dir(name),
        false => parent
            .open_with(name, OpenOptions::new().write(true).create_new(true))
            .map(drop),
    };
    match made {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            // Made by someone else meanwhile: a symlink is still refused.
            refuse_link(&parent, name, &full).map(|_| false)
        }
        Err(source) => Err(RootedError::Io { path: full, source }),
    }
}

/// `<root>/.git/planexec/tmp` (created) when `root` is a work tree whose `.git`
/// is a real folder; never through a symlink.
fn git_temp_dir(root: &Path) -> Option<Dir> {
    let root = Dir::open_ambient_dir(root, ambient_authority()).ok()?;
    let mut dir = root;
    for part in [".git", "planexec", "tmp"] {
        match dir.symlink_metadata(part) {
            Ok(m) if m.is_dir() => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && part != ".git" => {
                dir.create_dir(part).ok()?
            }
            _ => return None,
        }
        dir = dir.open_dir(part).ok()?;
    }
    Some(dir)
}

/// Writes `bytes` to `tmp` in `tmp_dir`, fsyncs, renames it to `name` in `dir`.
fn write_then_rename(
    tmp_dir: &Dir,
    tmp: &str,
    dir: &Dir,
    name: &std::ffi::OsStr,
    bytes: &[u8],
) -> std::io::Result<()> {
    let _ = tmp_dir.remove_file(tmp);
    let mut f = tmp_dir.open_with(tmp, OpenOptions::new().write(true).create_new(true))?;
    let written = f.write_all(bytes).and_then(|_| f.sync_all());
    drop(f);
    let r = written.and_then(|_| tmp_dir.rename(tmp, dir, name));
    if r.is_err() {
        let _ = tmp_dir.remove_file(tmp);
    }
    r
}

/// [`write`] for a path given by the user: relative ones beneath the current
/// directory, absolute ones beneath their parent folder (created if missing).
pub fn write_user_path(path: &Path, bytes: &[u8]) -> Result<PathBuf, RootedError> {
    if path.is_absolute() {
        let parent = path.parent().unwrap_or(Path::new("/"));
        std::fs::create_dir_all(parent).map_err(|source| RootedError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let name = path.file_name().map(PathBuf::from).unwrap_or_default();
        return write(parent, &name, bytes);
    }
    let cwd = std::env::current_dir().map_err(|source| RootedError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    write(&cwd, path, bytes).map(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_symlinks_on_the_way_and_at_the_end() {
        let t = tempfile::tempdir().unwrap();
        let out = t.path().join("outside");
        std::fs::create_dir(&out).unwrap();
        std::os::unix::fs::symlink(&out, t.path().join("link")).unwrap();
        std::os::unix::fs::symlink(out.join("f"), t.path().join("flink")).unwrap();
        assert!(matches!(
            write(t.path(), Path::new("link/x"), b"x"),
            Err(RootedError::Symlink { .. })
        ));
        assert!(matches!(
            write(t.path(), Path::new("flink"), b"x"),
            Err(RootedError::Symlink { .. })
        ));
        assert!(write(t.path(), Path::new("../x"), b"x").is_err());
        assert!(std::fs::read_dir(&out).unwrap().next().is_none());
        write(t.path(), Path::new("a/b/c.md"), b"hi").unwrap();
        assert_eq!(std::fs::read(t.path().join("a/b/c.md")).unwrap(), b"hi");
    }
}
