//! A pack's files held in memory between fetch and cache: relative paths
//! checked to stay inside the pack, and the content digest that names it.

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Component, Path};

/// The most a whole pack may hold (all files together).
pub const MAX_PACK_BYTES: u64 = 512 << 20;
/// The most files a pack may hold.
pub const MAX_PACK_FILES: usize = 10_000;

/// Regular files by relative path (`/`-separated, no `.`/`..`, no absolute path).
#[derive(Debug, Clone, Default)]
pub struct Tree {
    pub files: BTreeMap<String, Vec<u8>>,
    bytes: u64,
}

impl Tree {
    /// Adds a file, refusing a path that could leave the pack and a pack over its limits.
    pub fn add(&mut self, path: &str, bytes: Vec<u8>) -> Result<(), String> {
        let clean = check_relative(path)?;
        self.bytes += bytes.len() as u64;
        if self.bytes > MAX_PACK_BYTES || self.files.len() >= MAX_PACK_FILES {
            return Err(format!(
                "the pack is over {MAX_PACK_BYTES} bytes or {MAX_PACK_FILES} files"
            ));
        }
        if self.files.insert(clean.clone(), bytes).is_some() {
            return Err(format!("`{clean}` appears twice"));
        }
        Ok(())
    }

    /// sha256 over every file's path and sha256, in path order: the pack's identity.
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        for (p, b) in &self.files {
            h.update(p.as_bytes());
            h.update([0]);
            h.update(hex::encode(Sha256::digest(b)).as_bytes());
            h.update(b"\n");
        }
        hex::encode(h.finalize())
    }

    /// The tree below `prefix/` (used to drop an archive's single top folder).
    pub fn strip_prefix(self, prefix: &str) -> Tree {
        let p = format!("{prefix}/");
        let files: BTreeMap<String, Vec<u8>> = self
            .files
            .into_iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(&p)?.to_string(), v)))
            .collect();
        let bytes = files.values().map(|v| v.len() as u64).sum();
        Tree { files, bytes }
    }

    /// The single top-level folder every file is in, if there is one.
    pub fn single_top(&self) -> Option<String> {
        let mut tops = self.files.keys().map(|k| k.split_once('/').map(|(t, _)| t));
        let first = tops.next()??;
        tops.all(|t| t == Some(first)).then(|| first.to_string())
    }
}

/// `path` as a clean relative path, or why it is refused.
pub fn check_relative(path: &str) -> Result<String, String> {
    if path.contains('\0') || path.contains('\\') {
        return Err(format!("`{path}`: a path with NUL or `\\` is refused"));
    }
    let mut parts = Vec::new();
    for c in Path::new(path).components() {
        match c {
            Component::Normal(n) => parts.push(n.to_string_lossy().into_owned()),
            Component::CurDir => {}
            _ => {
                return Err(format!(
                    "`{path}`: an absolute path or `..` would leave the pack; refused"
                ))
            }
        }
    }
    if parts.is_empty() {
        return Err(format!("`{path}`: empty path"));
    }
    Ok(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_paths_that_leave_the_pack() {
        let mut t = Tree::default();
        assert!(t.add("../evil", vec![]).is_err());
        assert!(t.add("a/../../evil", vec![]).is_err());
        assert!(t.add("/etc/passwd", vec![]).is_err());
        assert!(t.add("./a/b", vec![1]).is_ok());
        assert!(t.add("a/b", vec![2]).is_err(), "duplicate after cleaning");
    }

    #[test]
    fn digest_changes_with_content_and_path() {
        let mut a = Tree::default();
        a.add("x", b"1".to_vec()).unwrap();
        let mut b = Tree::default();
        b.add("x", b"2".to_vec()).unwrap();
        let mut c = Tree::default();
        c.add("y", b"1".to_vec()).unwrap();
        assert_ne!(a.digest(), b.digest());
        assert_ne!(a.digest(), c.digest());
    }
}
