//! What the work tree holds now, as one digest: HEAD's tree plus every path that differs from
//! it or is untracked and not ignored. It is the workspace part of a gate's result-cache key.

use crate::{Repo, Result};
use git2::{ObjectType, Oid, StatusOptions};
use std::os::unix::ffi::OsStrExt;

impl Repo {
    /// A git object id (hex) over HEAD's tree id and, in path order, each changed or untracked
    /// (non-ignored) path with the blob id of its work-tree content, a symlink's target, or
    /// `deleted`. Two work trees with the same digest hold the same tracked and untracked files.
    /// Paths under `skip` (`dir/` for a directory, else an exact file) are left out.
    pub fn content_digest(&self, skip: &[String]) -> Result<String> {
        let mut opts = StatusOptions::new();
        opts.include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_ignored(false)
            .include_unmodified(false);
        let statuses = self
            .git()
            .statuses(Some(&mut opts))
            .map_err(self.err("status"))?;
        let head = match self.git().head().and_then(|h| h.peel_to_tree()) {
            Ok(t) => t.id().to_string(),
            Err(_) => "unborn".to_string(),
        };
        let mut entries: Vec<(Vec<u8>, String)> = Vec::with_capacity(statuses.len());
        for s in statuses.iter() {
            let path = s.path_bytes().to_vec();
            if skipped(&path, skip) {
                continue;
            }
            let full = self.workdir().join(std::ffi::OsStr::from_bytes(&path));
            entries.push((path, content_id(&full)));
        }
        entries.sort();
        let mut text = Vec::with_capacity(64 + entries.len() * 64);
        text.extend_from_slice(head.as_bytes());
        for (p, id) in &entries {
            text.push(b'\n');
            text.extend_from_slice(p);
            text.push(0);
            text.extend_from_slice(id.as_bytes());
        }
        Oid::hash_object(ObjectType::Blob, &text)
            .map(|o| o.to_string())
            .map_err(self.err("hash work tree"))
    }
}

fn skipped(path: &[u8], skip: &[String]) -> bool {
    skip.iter().any(|s| {
        let s = s.trim_start_matches("./").as_bytes();
        match s.last() {
            Some(b'/') => path.starts_with(s),
            _ => path == s || (path.starts_with(s) && path.get(s.len()) == Some(&b'/')),
        }
    })
}

/// The blob id of a file's content, `link:TARGET` for a symlink, `dir` for a directory (a
/// submodule or an untracked repository), `deleted` when it is gone.
fn content_id(path: &std::path::Path) -> String {
    match std::fs::symlink_metadata(path) {
        Err(_) => "deleted".into(),
        Ok(m) if m.file_type().is_symlink() => match std::fs::read_link(path) {
            Ok(t) => format!("link:{}", t.display()),
            Err(_) => "link:?".into(),
        },
        Ok(m) if m.is_dir() => "dir".into(),
        Ok(_) => Oid::hash_file(ObjectType::Blob, path)
            .map(|o| o.to_string())
            .unwrap_or_else(|_| "unreadable".into()),
    }
}

#[cfg(test)]
mod tests {
    use crate::Repo;
    use std::fs;

    fn repo_with_commit() -> (tempfile::TempDir, Repo) {
        let tmp = tempfile::tempdir().unwrap();
        let g = git2::Repository::init(tmp.path()).unwrap();
        fs::write(tmp.path().join("a.txt"), "one\n").unwrap();
        fs::write(tmp.path().join(".gitignore"), "ignored/\n").unwrap();
        let mut idx = g.index().unwrap();
        idx.add_path("a.txt".as_ref()).unwrap();
        idx.add_path(".gitignore".as_ref()).unwrap();
        let tree = g.find_tree(idx.write_tree().unwrap()).unwrap();
        let sig = git2::Signature::now("t", "t@example.com").unwrap();
        g.commit(Some("HEAD"), &sig, &sig, "base", &tree, &[])
            .unwrap();
        let repo = Repo::discover(tmp.path()).unwrap();
        (tmp, repo)
    }

    #[test]
    fn digest_changes_with_tracked_and_untracked_content_not_ignored_files() {
        let (tmp, repo) = repo_with_commit();
        let d = |r: &Repo| r.content_digest(&[]).unwrap();
        let clean = d(&repo);
        assert_eq!(clean, d(&repo), "stable");
        fs::create_dir_all(tmp.path().join("ignored")).unwrap();
        fs::write(tmp.path().join("ignored/x"), "x").unwrap();
        assert_eq!(clean, d(&repo), "ignored files are not in the digest");
        fs::write(tmp.path().join("a.txt"), "two\n").unwrap();
        let edited = d(&repo);
        assert_ne!(clean, edited, "a tracked file's content");
        fs::write(tmp.path().join("a.txt"), "one\n").unwrap();
        assert_eq!(clean, d(&repo), "back to HEAD's content");
        fs::write(tmp.path().join("new.txt"), "n").unwrap();
        let untracked = d(&repo);
        assert_ne!(clean, untracked, "an untracked file");
        fs::write(tmp.path().join("new.txt"), "m").unwrap();
        assert_ne!(untracked, d(&repo), "an untracked file's content");
        fs::remove_file(tmp.path().join("new.txt")).unwrap();
        fs::remove_file(tmp.path().join("a.txt")).unwrap();
        assert_ne!(clean, d(&repo), "a deleted tracked file");
        fs::write(tmp.path().join("a.txt"), "one\n").unwrap();
        fs::create_dir_all(tmp.path().join("out")).unwrap();
        fs::write(tmp.path().join("out/data"), "1").unwrap();
        let skip = ["out/".to_string()];
        assert_eq!(
            clean,
            repo.content_digest(&skip).unwrap(),
            "a skipped output directory"
        );
        assert_ne!(clean, d(&repo), "not skipped");
    }
}
