//! The pack cache: fetched packs stored under the user's cache folder keyed
//! by their content digest, so runs after the first fetch work offline.

use super::tree::Tree;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// `$PLANEXEC_PACKS_DIR`, else `$XDG_CACHE_HOME/planexec/packs`, else `~/.cache/planexec/packs`.
pub fn root() -> Option<PathBuf> {
    let var = |k| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("PLANEXEC_PACKS_DIR").or_else(|| {
        var("XDG_CACHE_HOME")
            .or_else(|| var("HOME").map(|h| h.join(".cache")))
            .map(|c| c.join("planexec/packs"))
    })
}

/// The cached folder of the pack with `digest`, if present. Its content is
/// checked against the lock by the caller (a cache entry may be tampered with).
pub fn get(root: &Path, digest: &str) -> Option<PathBuf> {
    let d = root.join(digest);
    let meta = d.symlink_metadata().ok()?;
    meta.is_dir().then_some(d)
}

/// Writes `tree` as `<root>/<digest>` (through a temp folder and a rename);
/// an existing entry is replaced.
pub fn put(root: &Path, tree: &Tree) -> std::io::Result<PathBuf> {
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(root)?;
    let digest = tree.digest();
    let tmp = tempfile::Builder::new().prefix(".fetch-").tempdir_in(root)?;
    for (rel, bytes) in &tree.files {
        let p = tmp.path().join(rel);
        if let Some(parent) = p.parent() {
            std::fs::DirBuilder::new().recursive(true).mode(0o700).create(parent)?;
        }
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(libc::O_NOFOLLOW)
            .mode(0o600)
            .open(&p)?;
        std::io::Write::write_all(&mut f, bytes)?;
    }
    let dest = root.join(&digest);
    if dest.symlink_metadata().is_ok() {
        let _ = std::fs::remove_dir_all(&dest).or_else(|_| std::fs::remove_file(&dest));
    }
    let kept = tmp.keep();
    std::fs::rename(&kept, &dest)?;
    Ok(dest)
}
