//! What a task changed: every path that differs between HEAD and the work
//! tree, with kinds, line counts and the unified diff, for review and commit.

use crate::{Repo, Result, VcsError};
use git2::{Delta, DiffFindOptions, DiffOptions, Patch};
use std::path::{Component, Path, PathBuf};

/// How a path differs between HEAD and the work tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
    Renamed,
}

/// One changed path between HEAD and the work tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedFile {
    /// Path relative to the work tree root, with `/` separators (the new path for renames).
    pub path: String,
    /// The old path, for renames.
    pub old_path: Option<String>,
    pub change: ChangeKind,
    pub binary: bool,
    /// Size in bytes of the new content (of the old content for deletions).
    pub size: u64,
    pub added_lines: u32,
    pub removed_lines: u32,
    /// This file's unified diff (`Binary files ... differ` for binaries).
    pub patch: String,
}

/// Everything changed in the work tree relative to HEAD.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskChanges {
    pub files: Vec<ChangedFile>,
    /// The whole unified diff, every file's patch in order.
    pub patch: String,
}

impl TaskChanges {
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
    /// Every path touched, including the old side of renames: what to pass to
    /// [`Repo::commit_paths`] to commit exactly these changes.
    pub fn paths(&self) -> Vec<String> {
        let mut out = Vec::new();
        for f in &self.files {
            if let Some(o) = &f.old_path {
                out.push(o.clone());
            }
            out.push(f.path.clone());
        }
        out
    }
    pub fn added_lines(&self) -> u64 {
        self.files.iter().map(|f| f.added_lines as u64).sum()
    }
    pub fn removed_lines(&self) -> u64 {
        self.files.iter().map(|f| f.removed_lines as u64).sum()
    }
    /// Added minus removed lines.
    pub fn net_lines(&self) -> i64 {
        self.added_lines() as i64 - self.removed_lines() as i64
    }
}

impl Repo {
    pub(crate) fn head_tree(&self) -> Result<Option<git2::Tree<'_>>> {
        match self.head_oid()? {
            Some(oid) => {
                let c = self
                    .repo
                    .find_commit(oid)
                    .map_err(self.err("reading HEAD"))?;
                Ok(Some(c.tree().map_err(self.err("reading HEAD's tree"))?))
            }
            None => Ok(None),
        }
    }

    /// Turns a path (relative to the work tree, or absolute inside it) into the
    /// repository's `a/b` form; rejects paths leaving the work tree.
    pub(crate) fn rel_path(&self, p: &Path) -> Result<String> {
        let rel: PathBuf = if p.is_absolute() {
            let canon_wd = self
                .workdir
                .canonicalize()
                .unwrap_or_else(|_| self.workdir.clone());
            match p
                .strip_prefix(&self.workdir)
                .or_else(|_| p.strip_prefix(&canon_wd))
            {
                Ok(r) => r.to_path_buf(),
                Err(_) => return Err(self.bad_path(p)),
            }
        } else {
            p.to_path_buf()
        };
        let mut parts = Vec::new();
        for c in rel.components() {
            match c {
                Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
                Component::CurDir => {}
                _ => return Err(self.bad_path(p)),
            }
        }
        if parts.is_empty() || parts[0] == ".git" {
            return Err(self.bad_path(p));
        }
        Ok(parts.join("/"))
    }

    pub(crate) fn bad_path(&self, p: &Path) -> VcsError {
        VcsError::BadPath {
            path: p.to_path_buf(),
            workdir: self.workdir.clone(),
        }
    }

    /// Every path changed in the work tree relative to HEAD (staged or not,
    /// untracked non-ignored files included), with kinds, line counts and the
    /// unified diff. Paths in `exclude` (files or directories, relative to the
    /// work tree) are left out: planexec's own log and state.
    ///
    /// The first call diffs the whole tree and starts watching it; later calls
    /// read only the paths that changed since, or were still dirty (`watch.rs`),
    /// so a task's diff costs the same in a small and a large tree.
    pub fn changes_since_head(&self, exclude: &[PathBuf]) -> Result<TaskChanges> {
        let (paths, stamp) = self.paths_to_diff();
        let (out, dirty) = self.diff_changes(paths.as_deref(), exclude)?;
        self.diffed(stamp, dirty);
        Ok(out)
    }

    /// [`Repo::changes_since_head`] by a diff of the whole tree, whatever the watch knows.
    pub fn changes_since_head_full(&self, exclude: &[PathBuf]) -> Result<TaskChanges> {
        Ok(self.diff_changes(None, exclude)?.0)
    }

    /// The changes under `paths` (exact paths or directories; `None`: everywhere),
    /// and every path the diff found dirty, excluded ones too.
    fn diff_changes(
        &self,
        paths: Option<&[String]>,
        exclude: &[PathBuf],
    ) -> Result<(TaskChanges, Vec<String>)> {
        let mut dirty = Vec::new();
        if paths.is_some_and(|p| p.is_empty()) {
            return Ok((TaskChanges::default(), dirty));
        }
        let excluded: Vec<String> = exclude
            .iter()
            .filter_map(|p| self.rel_path(p).ok())
            .collect();
        let is_excluded = |path: &str| {
            excluded.iter().any(|e| {
                path == e
                    || path
                        .strip_prefix(e.as_str())
                        .is_some_and(|r| r.starts_with('/'))
            })
        };
        let tree = self.head_tree()?;
        let mut opts = DiffOptions::new();
        opts.include_untracked(true)
            .recurse_untracked_dirs(true)
            .show_untracked_content(true)
            .include_typechange(true)
            .ignore_submodules(true);
        for p in paths.unwrap_or_default() {
            opts.pathspec(p);
        }
        opts.disable_pathspec_match(paths.is_some());
        let mut diff = self
            .repo
            .diff_tree_to_workdir_with_index(tree.as_ref(), Some(&mut opts))
            .map_err(self.err("diffing HEAD against the work tree"))?;
        let mut find = DiffFindOptions::new();
        find.renames(true).for_untracked(true);
        diff.find_similar(Some(&mut find))
            .map_err(self.err("detecting renames"))?;

        let mut out = TaskChanges::default();
        for idx in 0..diff.deltas().len() {
            let delta = diff.get_delta(idx).expect("index in range");
            let change = match delta.status() {
                Delta::Added | Delta::Untracked | Delta::Copied => ChangeKind::Added,
                Delta::Deleted => ChangeKind::Deleted,
                Delta::Modified | Delta::Typechange => ChangeKind::Modified,
                Delta::Renamed => ChangeKind::Renamed,
                _ => continue,
            };
            let path_of = |f: git2::DiffFile<'_>| {
                f.path()
                    .map(|p| p.to_string_lossy().replace('\\', "/"))
                    .unwrap_or_default()
            };
            let new_path = path_of(delta.new_file());
            let old_path = path_of(delta.old_file());
            let path = if change == ChangeKind::Deleted {
                old_path.clone()
            } else {
                new_path
            };
            if change == ChangeKind::Renamed {
                dirty.push(old_path.clone());
            }
            dirty.push(path.clone());
            if is_excluded(&path) || (change == ChangeKind::Renamed && is_excluded(&old_path)) {
                continue;
            }
            let patch = Patch::from_diff(&diff, idx).map_err(self.err("computing a patch"))?;
            let (mut added, mut removed, mut text, mut binary) =
                (0usize, 0usize, String::new(), false);
            if let Some(mut p) = patch {
                let (_, a, r) = p.line_stats().map_err(self.err("counting diff lines"))?;
                added = a;
                removed = r;
                binary = p.delta().flags().is_binary();
                let buf = p.to_buf().map_err(self.err("printing a patch"))?;
                text = String::from_utf8_lossy(&buf).into_owned();
            }
            binary |= delta.flags().is_binary();
            if binary {
                added = 0;
                removed = 0;
            }
            let size = if change == ChangeKind::Deleted {
                self.repo
                    .find_blob(delta.old_file().id())
                    .map(|b| b.size() as u64)
                    .unwrap_or(delta.old_file().size())
            } else {
                std::fs::symlink_metadata(self.workdir.join(&path))
                    .map(|m| m.len())
                    .unwrap_or(delta.new_file().size())
            };
            out.patch.push_str(&text);
            out.files.push(ChangedFile {
                path,
                old_path: (change == ChangeKind::Renamed).then_some(old_path),
                change,
                binary,
                size,
                added_lines: added.min(u32::MAX as usize) as u32,
                removed_lines: removed.min(u32::MAX as usize) as u32,
                patch: text,
            });
        }
        Ok((out, dirty))
    }
}
