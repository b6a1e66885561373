//! Each boxed program's own view of the read-only prefix: symlinks into it, with real
//! folders along the workspace's path, so bytecode a program writes lands in its tmp.

use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

/// Builds at `out` a view of the read-only prefix `ro`: every entry a symlink into `ro`,
/// except the folders on the way to the workspace's mirror (`ro` + `workspace`), which are
/// real folders of `out`. Python then reads the prefix's bytecode through the links, and
/// a program that writes bytecode for its own sources (`python -m py_compile app.py`)
/// writes into `out`, the box's tmp, gone with the program; writes through a link reach
/// `ro`, which the box mounts read-only.
pub fn build(ro: &Path, out: &Path, workspace: &Path) -> std::io::Result<()> {
    let along: Vec<OsString> = workspace
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_owned()),
            _ => None,
        })
        .collect();
    let (mut ro, mut out): (PathBuf, PathBuf) = (ro.into(), out.into());
    for i in 0..=along.len() {
        std::fs::create_dir_all(&out)?;
        let next = along.get(i);
        if let Ok(entries) = std::fs::read_dir(&ro) {
            for e in entries {
                let name = e?.file_name();
                if Some(&name) != next {
                    std::os::unix::fs::symlink(ro.join(&name), out.join(&name))?;
                }
            }
        }
        if let Some(n) = next {
            ro.push(n);
            out.push(n);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_view_links_the_prefix_and_keeps_the_workspace_path_real() {
        let t = tempfile::tempdir().unwrap();
        let ro = t.path().join("ro");
        let pyc = ro.join("usr/lib/python3/json/__init__.cpython-311.pyc");
        std::fs::create_dir_all(pyc.parent().unwrap()).unwrap();
        std::fs::write(&pyc, b"pyc").unwrap();
        let venv = ro.join("home/me/proj/.venv/lib/x.cpython-311.pyc");
        std::fs::create_dir_all(venv.parent().unwrap()).unwrap();
        std::fs::write(&venv, b"venv").unwrap();
        std::fs::create_dir_all(ro.join("home/other")).unwrap();
        let out = t.path().join("view");
        build(&ro, &out, Path::new("/home/me/proj")).unwrap();
        let via = out.join("usr/lib/python3/json/__init__.cpython-311.pyc");
        assert_eq!(std::fs::read(via).unwrap(), b"pyc");
        assert_eq!(
            std::fs::read(out.join("home/me/proj/.venv/lib/x.cpython-311.pyc")).unwrap(),
            b"venv"
        );
        assert!(out.join("usr").is_symlink() && out.join("home/other").is_symlink());
        for real in ["home", "home/me", "home/me/proj"] {
            assert!(!out.join(real).is_symlink(), "{real} must be a real folder");
        }
        std::fs::write(out.join("home/me/proj/app.cpython-311.pyc"), b"own").unwrap();
        assert!(!ro.join("home/me/proj/app.cpython-311.pyc").exists());
    }
}
