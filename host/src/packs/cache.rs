//! The pack cache: fetched packs stored under the user's cache folder keyed
//! by their content digest, so runs after the first fetch work offline.

use super::tree::Tree;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// `$PLANEXEC_PACKS_DIR`, else `$XDG_CACHE_HOME/planexec/packs`, else `~/.cache/planexec/packs`.
pub fn root() -> Option<PathBuf> {
    let var = |k| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var("PLANEXEC_PACKS_DIR").or_else(|| {
        var("XDG_CACHE_HOME")
            .or_else(|| var("HOME").map(|h| h.join(".cache")))
            .map(|c| c.join("planexec/packs"))
    })
}

/// The cached folder of the pack with `digest`, if present and fetched from
/// `origin` (so a lock cannot borrow another source's cached pack by digest).
/// Its content is checked against the lock by the caller (it may be tampered with).
pub fn get(root: &Path, digest: &str, origin: &str) -> Option<PathBuf> {
    let d = root.join(digest);
    let meta = d.symlink_metadata().ok()?;
    let origins = std::fs::read_to_string(root.join(format!("{digest}.origins"))).ok()?;
    (meta.is_dir() && origins.lines().any(|l| l == origin)).then_some(d)
}

/// Records that the entry `digest` was fetched from `origin`.
fn add_origin(root: &Path, digest: &str, origin: &str) -> std::io::Result<()> {
    let path = root.join(format!("{digest}.origins"));
    let mut text = std::fs::read_to_string(&path).unwrap_or_default();
    if !text.lines().any(|l| l == origin) {
        text.push_str(origin.lines().next().unwrap_or(""));
        text.push('\n');
        let tmp = root.join(format!(".{digest}.origins.tmp"));
        std::fs::write(&tmp, text)?;
        std::fs::rename(tmp, path)?;
    }
    Ok(())
}

/// Writes `tree` as `<root>/<digest>` (through a temp folder and a rename);
/// an existing entry is replaced (a fresh fetch repairs a tampered one).
pub fn put(root: &Path, tree: &Tree, origin: &str) -> std::io::Result<PathBuf> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(root)?;
    let digest = tree.digest();
    let tmp = tempfile::Builder::new()
        .prefix(".fetch-")
        .tempdir_in(root)?;
    for (rel, bytes) in &tree.files {
        let p = tmp.path().join(rel);
        if let Some(parent) = p.parent() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(parent)?;
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
    add_origin(root, &digest, origin)?;
    Ok(dest)
}
