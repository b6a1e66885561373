//! What a commit or a push would check: the staged files and the index's content written into
//! a separate directory (the work tree and the index are only read), and the files changed since a revision.

use crate::{Repo, Result, VcsError};
use git2::{Delta, DiffOptions, ObjectType, Oid, Tree};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// The base `--changed` compared against, and the files that differ from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedSince {
    /// What the base was, in words (`origin/main (the upstream)`, `main (merge base)`, ...).
    pub base: String,
    /// Paths (relative to the work tree) added or modified since the base, sorted.
    pub files: Vec<String>,
}

impl Repo {
    /// Paths whose staged content differs from HEAD (added, modified, renamed, copied, type
    /// changed; deletions have nothing to check), sorted.
    pub fn staged_files(&self) -> Result<Vec<String>> {
        let index = self.fresh_index()?;
        let head = self.head_tree()?;
        let mut opts = DiffOptions::new();
        opts.include_typechange(true);
        let diff = self
            .repo
            .diff_tree_to_index(head.as_ref(), Some(&index), Some(&mut opts))
            .map_err(self.err("diff HEAD to the index"))?;
        Ok(paths_of(&diff))
    }

    /// The size of every file the index holds, summed (what a staged copy writes).
    pub fn index_bytes(&self) -> Result<u64> {
        let index = self.fresh_index()?;
        Ok(index.iter().map(|e| u64::from(e.file_size)).sum())
    }

    /// Every path in the index (stage 0), sorted: what `{files}` means on a whole-tree run.
    pub fn tracked_files(&self) -> Result<Vec<String>> {
        let index = self.fresh_index()?;
        let mut out: Vec<String> = index
            .iter()
            .filter(|e| e.mode != 0o160000)
            .map(|e| String::from_utf8_lossy(&e.path).into_owned())
            .collect();
        out.dedup();
        Ok(out)
    }

    /// A digest (git object id, hex) of the index's stage-0 entries: path, mode and blob id.
    /// Two indexes with the same digest stage the same content.
    pub fn index_digest(&self) -> Result<String> {
        let index = self.fresh_index()?;
        let mut text = Vec::with_capacity(index.len() * 80);
        for e in index.iter() {
            text.extend_from_slice(&e.path);
            text.push(0);
            text.extend_from_slice(format!("{:o} {}\n", e.mode, e.id).as_bytes());
        }
        Oid::hash_object(ObjectType::Blob, &text)
            .map(|o| o.to_string())
            .map_err(self.err("hash the index"))
    }

    /// Writes every staged file (the index's content, not the work tree's) under `dir`, which
    /// must exist and be empty; neither the work tree nor the index is written. A file with an
    /// unresolved merge conflict is an error. Returns the number of files written.
    pub fn write_index_to(&self, dir: &Path) -> Result<usize> {
        let index = self.fresh_index()?;
        if index.has_conflicts() {
            return Err(VcsError::Io {
                what: "check the staged content of",
                path: self.workdir.clone(),
                source: std::io::Error::other(
                    "the index has unresolved merge conflicts; resolve and `git add` them first",
                ),
            });
        }
        let mut n = 0;
        for e in index.iter() {
            let rel = Path::new(std::ffi::OsStr::from_bytes(&e.path));
            if rel.is_absolute() || rel.components().any(|c| c.as_os_str() == "..") {
                continue;
            }
            let dest = dir.join(rel);
            write_entry(&self.repo, &dest, e.mode, e.id).map_err(|source| VcsError::Io {
                what: "write the staged copy of",
                path: dest.clone(),
                source,
            })?;
            n += 1;
        }
        Ok(n)
    }

    /// Files added or modified in the work tree (committed or not, staged or not, and
    /// untracked ones git does not ignore) since `rev`; `@{push}`, `@{upstream}` and `@{u}`
    /// without an upstream fall back to the merge base with the default branch, else every
    /// tracked file counts as changed (a first push).
    pub fn changed_since(&self, rev: &str) -> Result<ChangedSince> {
        let (base, tree) = self.base_tree(rev)?;
        let mut opts = DiffOptions::new();
        opts.include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_typechange(true);
        let diff = self
            .repo
            .diff_tree_to_workdir_with_index(tree.as_ref(), Some(&mut opts))
            .map_err(self.err("diff against the base"))?;
        Ok(ChangedSince {
            base,
            files: paths_of(&diff),
        })
    }

    /// The index as it is on disk now (git2 keeps the one it read first).
    fn fresh_index(&self) -> Result<git2::Index> {
        let mut index = self.repo.index().map_err(self.err("read the index"))?;
        index.read(false).map_err(self.err("read the index"))?;
        Ok(index)
    }

    /// The tree `rev` names, with how it was found.
    fn base_tree(&self, rev: &str) -> Result<(String, Option<Tree<'_>>)> {
        let upstreamish = matches!(rev, "@{push}" | "@{upstream}" | "@{u}");
        if upstreamish {
            if let Some((name, oid)) = self.upstream() {
                return Ok((format!("{name} (the upstream)"), Some(self.tree_of(oid)?)));
            }
            for cand in [
                "origin/HEAD",
                "origin/main",
                "origin/master",
                "main",
                "master",
            ] {
                if let Some(b) = self.merge_base_with(cand) {
                    return Ok((
                        format!("{cand} (merge base; no upstream)"),
                        Some(self.tree_of(b)?),
                    ));
                }
            }
            return Ok((
                "nothing (no upstream and no default branch: every file counts)".into(),
                None,
            ));
        }
        let obj = self
            .repo
            .revparse_single(rev)
            .map_err(self.err("resolve the --changed revision"))?;
        let tree = obj
            .peel_to_tree()
            .map_err(self.err("read the revision's tree"))?;
        Ok((rev.to_string(), Some(tree)))
    }

    fn upstream(&self) -> Option<(String, Oid)> {
        let head = self.repo.head().ok()?;
        let name = head.shorthand()?.to_string();
        let branch = self.repo.find_branch(&name, git2::BranchType::Local).ok()?;
        let up = branch.upstream().ok()?;
        let up_name = up.name().ok()??.to_string();
        Some((up_name, up.get().target()?))
    }

    /// The merge base of HEAD and `rev`, when `rev` exists and is not HEAD's own branch.
    fn merge_base_with(&self, rev: &str) -> Option<Oid> {
        let head = self.repo.head().ok()?;
        if head.shorthand() == Some(rev) {
            return None;
        }
        let other = self.repo.revparse_single(rev).ok()?.peel_to_commit().ok()?;
        self.repo.merge_base(head.target()?, other.id()).ok()
    }

    fn tree_of(&self, commit: Oid) -> Result<Tree<'_>> {
        self.repo
            .find_commit(commit)
            .and_then(|c| c.tree())
            .map_err(self.err("read the base commit's tree"))
    }
}

/// The new-side paths of a diff's additions and modifications, sorted and unique.
fn paths_of(diff: &git2::Diff) -> Vec<String> {
    let mut out: Vec<String> = diff
        .deltas()
        .filter(|d| {
            matches!(
                d.status(),
                Delta::Added
                    | Delta::Modified
                    | Delta::Renamed
                    | Delta::Copied
                    | Delta::Typechange
                    | Delta::Untracked
            )
        })
        .filter_map(|d| {
            d.new_file()
                .path()
                .map(|p| p.to_string_lossy().into_owned())
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// One index entry written at `dest`: a regular or executable file, a symlink, or for a
/// submodule (gitlink) an empty directory.
fn write_entry(repo: &git2::Repository, dest: &Path, mode: u32, id: Oid) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent)?;
    }
    if mode == 0o160000 {
        return std::fs::create_dir_all(dest);
    }
    let blob = repo.find_blob(id).map_err(std::io::Error::other)?;
    if mode == 0o120000 {
        let target = std::ffi::OsStr::from_bytes(blob.content());
        return std::os::unix::fs::symlink(target, dest);
    }
    std::fs::write(dest, blob.content())?;
    let perm = if mode & 0o111 != 0 { 0o755 } else { 0o644 };
    std::fs::set_permissions(dest, std::fs::Permissions::from_mode(perm))
}

#[cfg(test)]
mod tests {
    use crate::Repo;
    use std::fs;
    use std::process::Command;

    fn git(dir: &std::path::Path, args: &[&str]) {
        let ok = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@t"])
            .args(args)
            .current_dir(dir)
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    }

    #[test]
    fn the_staged_copy_is_the_index_not_the_work_tree_and_nothing_is_written_there() {
        let d = tempfile::tempdir().unwrap();
        git(d.path(), &["init", "-q"]);
        fs::write(d.path().join("a.py"), "x = 1\n").unwrap();
        fs::write(d.path().join("b.py"), "y = 1\n").unwrap();
        git(d.path(), &["add", "."]);
        git(d.path(), &["commit", "-qm", "one"]);
        fs::write(d.path().join("a.py"), "x = 2\n").unwrap();
        git(d.path(), &["add", "a.py"]);
        fs::write(d.path().join("a.py"), "x = 3\n").unwrap();
        let repo = Repo::discover(d.path()).unwrap();
        assert_eq!(repo.staged_files().unwrap(), ["a.py"]);
        let before = repo.index_digest().unwrap();
        let out = tempfile::tempdir().unwrap();
        assert_eq!(repo.write_index_to(out.path()).unwrap(), 2);
        assert_eq!(
            fs::read_to_string(out.path().join("a.py")).unwrap(),
            "x = 2\n"
        );
        assert_eq!(
            fs::read_to_string(d.path().join("a.py")).unwrap(),
            "x = 3\n"
        );
        assert_eq!(repo.index_digest().unwrap(), before);
        git(d.path(), &["add", "a.py"]);
        assert_ne!(repo.index_digest().unwrap(), before);
    }

    #[test]
    fn changed_since_a_branch_point_counts_commits_edits_and_untracked_files() {
        let d = tempfile::tempdir().unwrap();
        git(d.path(), &["init", "-q", "-b", "main"]);
        fs::write(d.path().join("a.py"), "x = 1\n").unwrap();
        git(d.path(), &["add", "."]);
        git(d.path(), &["commit", "-qm", "one"]);
        git(d.path(), &["checkout", "-qb", "topic"]);
        fs::write(d.path().join("b.py"), "y = 1\n").unwrap();
        git(d.path(), &["add", "."]);
        git(d.path(), &["commit", "-qm", "two"]);
        fs::write(d.path().join("c.py"), "z = 1\n").unwrap();
        let repo = Repo::discover(d.path()).unwrap();
        let c = repo.changed_since("main").unwrap();
        assert_eq!(c.files, ["b.py", "c.py"]);
        let c = repo.changed_since("@{push}").unwrap();
        assert!(c.base.starts_with("main (merge base"), "{}", c.base);
        assert_eq!(c.files, ["b.py", "c.py"]);
    }
}
