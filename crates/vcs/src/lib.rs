//! Git operations for planexec: rollback points, per-task atomic commits, diffs.
//! Built on git2 (libgit2); it never shells out to git and never discards user work unasked.

mod error;
mod fsutil;
mod history;
mod recovery;

pub use error::{Result, VcsError};
pub use fsutil::atomic_write;

use git2::build::TreeUpdateBuilder;
use git2::{
    Delta, DiffFindOptions, DiffOptions, ErrorCode, IndexAddOption, ObjectType, Oid, Patch,
    Repository, ResetType, Signature, Status, StatusOptions,
};
use std::path::{Component, Path, PathBuf};

/// Where planexec keeps its refs; one `refs/planexec/runs/<run-id>/start` per run.
pub const RUNS_REF_PREFIX: &str = "refs/planexec/runs/";

/// Identity used when git config has no `user.name` / `user.email`.
pub const FALLBACK_NAME: &str = "planexec";
pub const FALLBACK_EMAIL: &str = "planexec@localhost";

/// A git work tree planexec operates on.
pub struct Repo {
    repo: Repository,
    workdir: PathBuf,
}

impl std::fmt::Debug for Repo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repo")
            .field("workdir", &self.workdir)
            .finish()
    }
}

/// What [`Repo::rollback_point`] did before the run started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollbackPoint {
    /// The commit the run starts from (the rollback commit when one was made,
    /// else HEAD); recorded under `refs/planexec/runs/<run-id>/start`.
    pub start_commit: String,
    /// The `rollback: before executing plan <topic>` commit, when the tree was dirty
    /// (or the repository had no commit yet).
    pub rollback_commit: Option<String>,
    /// Whether the work tree had uncommitted changes.
    pub dirty: bool,
    /// HEAD before the rollback commit (`None` in a repository with no commit).
    pub previous_head: Option<String>,
    /// The branch name, or `(detached)`.
    pub branch: String,
    /// The ref the start commit was recorded under.
    pub start_ref: String,
}

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

/// State of one path in `git status` terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusKind {
    /// Not tracked and not ignored.
    Untracked,
    /// New in the index (staged add).
    Added,
    Modified,
    Deleted,
    Renamed,
    TypeChange,
    Conflicted,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEntry {
    pub path: String,
    pub kind: StatusKind,
    /// Whether some of the change is staged in the index.
    pub staged: bool,
}

/// One commit, for listings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    pub id: String,
    pub summary: String,
}

/// What restoring a run's start commit discards (and, when confirmed, did discard).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollbackPlan {
    pub run_id: String,
    pub start_commit: String,
    /// HEAD when the plan was made.
    pub head: Option<String>,
    pub branch: String,
    /// Commits reachable from HEAD but not from the start commit, newest first.
    pub commits: Vec<CommitInfo>,
    /// Uncommitted changes to tracked files: discarded by the reset.
    pub uncommitted: Vec<StatusEntry>,
    /// Untracked (non-ignored) files: a hard reset leaves them in place.
    pub untracked_kept: Vec<String>,
    /// Whether the reset was carried out.
    pub applied: bool,
    /// When applied: the ref keeping the pre-rollback HEAD reachable.
    pub backup_ref: Option<String>,
    /// When applied over uncommitted changes: the ref of a commit (not on any
    /// branch) holding the work tree as it was, so the reset loses nothing.
    pub discarded_ref: Option<String>,
}

impl RollbackPlan {
    /// Nothing would be lost: HEAD is the start commit and the tree is clean.
    pub fn is_noop(&self) -> bool {
        self.commits.is_empty() && self.uncommitted.is_empty()
    }
}

/// `T001: <summary>` + blank line + description + blank line + `Refs: <refs>`.
/// An empty description is left out; the summary is cut to its first line.
pub fn commit_message(task_id: &str, summary: &str, description: &str, refs: &str) -> String {
    let summary = summary.trim().lines().next().unwrap_or("").trim();
    let mut msg = format!("{}: {}\n", task_id.trim(), summary);
    let description = description.trim();
    if !description.is_empty() {
        msg.push('\n');
        msg.push_str(description);
        msg.push('\n');
    }
    let refs = refs.trim();
    if !refs.is_empty() {
        msg.push('\n');
        msg.push_str("Refs: ");
        msg.push_str(refs);
        msg.push('\n');
    }
    msg
}

/// The `plan/<file>.md` form of a plan path for the `Refs:` trailer: the part
/// from the last `plan/` directory on, else the file name.
pub fn plan_ref(plan_path: &str) -> String {
    let p = plan_path.replace('\\', "/");
    if let Some(i) = p.rfind("plan/") {
        if i == 0 || p.as_bytes()[i - 1] == b'/' {
            return p[i..].to_string();
        }
    }
    match p.rsplit('/').next() {
        Some(name) if !name.is_empty() => format!("plan/{name}"),
        _ => p,
    }
}

fn valid_run_id(run_id: &str) -> bool {
    !run_id.is_empty()
        && run_id.len() <= 200
        && !run_id.starts_with('.')
        && !run_id.ends_with(".lock")
        && !run_id.contains("..")
        && run_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

impl Repo {
    /// Opens the repository containing `path` (searching parent directories).
    pub fn discover(path: impl AsRef<Path>) -> Result<Repo> {
        let path = path.as_ref();
        let repo = Repository::discover(path).map_err(|source| VcsError::NotARepo {
            path: path.to_path_buf(),
            source,
        })?;
        let workdir = match repo.workdir() {
            Some(w) => w.to_path_buf(),
            None => {
                return Err(VcsError::Bare {
                    path: repo.path().to_path_buf(),
                })
            }
        };
        Ok(Repo { repo, workdir })
    }

    /// The work tree root.
    pub fn workdir(&self) -> &Path {
        &self.workdir
    }

    /// The underlying git2 repository, for what this crate does not cover.
    pub fn git(&self) -> &Repository {
        &self.repo
    }

    fn err(&self, op: &'static str) -> impl FnOnce(git2::Error) -> VcsError + '_ {
        move |source| VcsError::Git {
            op,
            workdir: self.workdir.clone(),
            source,
        }
    }

    /// The current branch's short name, or `(detached)`. Works in an unborn repository.
    pub fn branch(&self) -> Result<String> {
        if self
            .repo
            .head_detached()
            .map_err(self.err("reading HEAD"))?
        {
            return Ok("(detached)".into());
        }
        let head = self
            .repo
            .find_reference("HEAD")
            .map_err(self.err("reading HEAD"))?;
        let target = head.symbolic_target().unwrap_or("HEAD");
        Ok(target
            .strip_prefix("refs/heads/")
            .unwrap_or(target)
            .to_string())
    }

    fn head_oid(&self) -> Result<Option<Oid>> {
        match self.repo.head() {
            Ok(r) => {
                let c = r
                    .peel_to_commit()
                    .map_err(self.err("reading the HEAD commit"))?;
                Ok(Some(c.id()))
            }
            Err(e) if e.code() == ErrorCode::UnbornBranch || e.code() == ErrorCode::NotFound => {
                Ok(None)
            }
            Err(e) => Err(self.err("reading HEAD")(e)),
        }
    }

    /// The HEAD commit id, or `None` in a repository with no commit yet.
    pub fn head(&self) -> Result<Option<String>> {
        Ok(self.head_oid()?.map(|o| o.to_string()))
    }

    fn status_options() -> StatusOptions {
        let mut o = StatusOptions::new();
        o.include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_ignored(false)
            .exclude_submodules(true)
            .renames_head_to_index(false);
        o
    }

    /// Every path with a staged, unstaged or untracked (non-ignored) change.
    pub fn status_paths(&self) -> Result<Vec<StatusEntry>> {
        let mut opts = Self::status_options();
        let statuses = self
            .repo
            .statuses(Some(&mut opts))
            .map_err(self.err("reading status"))?;
        let mut out = Vec::new();
        for s in statuses.iter() {
            let st = s.status();
            let path = String::from_utf8_lossy(s.path_bytes()).into_owned();
            let staged = st.intersects(
                Status::INDEX_NEW
                    | Status::INDEX_MODIFIED
                    | Status::INDEX_DELETED
                    | Status::INDEX_RENAMED
                    | Status::INDEX_TYPECHANGE,
            );
            let kind = if st.contains(Status::CONFLICTED) {
                StatusKind::Conflicted
            } else if st.intersects(Status::WT_DELETED | Status::INDEX_DELETED) {
                StatusKind::Deleted
            } else if st.contains(Status::WT_NEW) && !staged {
                StatusKind::Untracked
            } else if st.contains(Status::INDEX_NEW) {
                StatusKind::Added
            } else if st.intersects(Status::WT_RENAMED | Status::INDEX_RENAMED) {
                StatusKind::Renamed
            } else if st.intersects(Status::WT_TYPECHANGE | Status::INDEX_TYPECHANGE) {
                StatusKind::TypeChange
            } else if st.intersects(Status::WT_MODIFIED | Status::INDEX_MODIFIED) {
                StatusKind::Modified
            } else {
                continue; // ignored / current
            };
            out.push(StatusEntry { path, kind, staged });
        }
        Ok(out)
    }

    /// Tracked changes (staged or not) or untracked non-ignored files exist.
    pub fn is_dirty(&self) -> Result<bool> {
        Ok(!self.status_paths()?.is_empty())
    }

    /// The author/committer: git config's `user.name`/`user.email`, else `planexec <planexec@localhost>`.
    pub fn signature(&self) -> Signature<'static> {
        match self.repo.signature() {
            Ok(s) => s.to_owned(),
            Err(_) => Signature::now(FALLBACK_NAME, FALLBACK_EMAIL)
                .expect("a fixed, valid fallback signature"),
        }
    }

    fn start_ref_name(run_id: &str) -> String {
        format!("{RUNS_REF_PREFIX}{run_id}/start")
    }

    /// Makes the run's rollback point. When the tree is dirty, stages everything
    /// (respecting .gitignore, like `git add -A`) and commits it as
    /// `rollback: before executing plan <topic>`; in a repository with no commit
    /// it makes that commit even when clean, so there is a start to return to.
    /// Always records the start commit under `refs/planexec/runs/<run_id>/start`.
    /// Never resets, checks out or stashes.
    pub fn rollback_point(&self, topic: &str, run_id: &str) -> Result<RollbackPoint> {
        if !valid_run_id(run_id) {
            return Err(VcsError::InvalidRunId {
                run_id: run_id.to_string(),
            });
        }
        let start_ref = Self::start_ref_name(run_id);
        if self.repo.find_reference(&start_ref).is_ok() {
            return Err(VcsError::RunExists {
                run_id: run_id.to_string(),
                workdir: self.workdir.clone(),
                reference: start_ref,
            });
        }
        let branch = self.branch()?;
        let previous = self.head_oid()?;
        let dirty = self.is_dirty()?;
        let mut rollback_commit = None;
        let start = if let (false, Some(p)) = (dirty, previous) {
            p
        } else {
            let mut index = self.repo.index().map_err(self.err("opening the index"))?;
            // The Repo may be long-lived: pick up changes others made to the index file.
            index.read(false).map_err(self.err("reading the index"))?;
            index
                .add_all(["*"], IndexAddOption::DEFAULT, None)
                .map_err(self.err("staging the work tree for the rollback commit"))?;
            index
                .update_all(["*"], None)
                .map_err(self.err("staging deletions for the rollback commit"))?;
            let tree_id = index
                .write_tree()
                .map_err(self.err("writing the rollback tree"))?;
            index.write().map_err(self.err("writing the index"))?;
            let tree = self
                .repo
                .find_tree(tree_id)
                .map_err(self.err("reading the rollback tree"))?;
            let parent = match previous {
                Some(p) => Some(self.repo.find_commit(p).map_err(self.err("reading HEAD"))?),
                None => None,
            };
            let parents: Vec<&git2::Commit> = parent.iter().collect();
            let sig = self.signature();
            let msg = format!("rollback: before executing plan {}\n", topic.trim());
            let id = self
                .repo
                .commit(Some("HEAD"), &sig, &sig, &msg, &tree, &parents)
                .map_err(self.err("making the rollback commit"))?;
            rollback_commit = Some(id.to_string());
            id
        };
        self.repo
            .reference(
                &start_ref,
                start,
                false,
                &format!("planexec: start of run {run_id}"),
            )
            .map_err(self.err("recording the run's start ref"))?;
        Ok(RollbackPoint {
            start_commit: start.to_string(),
            rollback_commit,
            dirty,
            previous_head: previous.map(|o| o.to_string()),
            branch,
            start_ref,
        })
    }

    /// The start commit recorded for `run_id`.
    pub fn run_start(&self, run_id: &str) -> Result<String> {
        let name = Self::start_ref_name(run_id);
        let found = if valid_run_id(run_id) {
            self.repo.find_reference(&name).ok()
        } else {
            None
        };
        match found.and_then(|r| r.target()) {
            Some(oid) => Ok(oid.to_string()),
            None => Err(VcsError::UnknownRun {
                run_id: run_id.to_string(),
                workdir: self.workdir.clone(),
                known: self.list_runs()?,
            }),
        }
    }

    /// Run ids with a recorded start ref, sorted.
    pub fn list_runs(&self) -> Result<Vec<String>> {
        let glob = format!("{RUNS_REF_PREFIX}*");
        let refs = self
            .repo
            .references_glob(&glob)
            .map_err(self.err("listing planexec refs"))?;
        let mut out = Vec::new();
        for r in refs {
            let r = r.map_err(self.err("listing planexec refs"))?;
            if let Some(name) = r.name() {
                if let Some(id) = name
                    .strip_prefix(RUNS_REF_PREFIX)
                    .and_then(|s| s.strip_suffix("/start"))
                {
                    if !id.contains('/') {
                        out.push(id.to_string());
                    }
                }
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    fn head_tree(&self) -> Result<Option<git2::Tree<'_>>> {
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
    fn rel_path(&self, p: &Path) -> Result<String> {
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

    fn bad_path(&self, p: &Path) -> VcsError {
        VcsError::BadPath {
            path: p.to_path_buf(),
            workdir: self.workdir.clone(),
        }
    }

    /// Every path changed in the work tree relative to HEAD (staged or not,
    /// untracked non-ignored files included), with kinds, line counts and the
    /// unified diff. Paths in `exclude` (files or directories, relative to the
    /// work tree) are left out: planexec's own log and state.
    pub fn changes_since_head(&self, exclude: &[PathBuf]) -> Result<TaskChanges> {
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
        Ok(out)
    }

    /// Commits exactly `paths` (their current work-tree state: new, modified or
    /// deleted) on top of HEAD, and returns the new commit id. The tree is HEAD's
    /// tree with only those paths replaced; the index is updated for those paths
    /// only, so every other staged, unstaged or untracked change stays as it was.
    /// A path that is a directory stands for every changed file under it.
    /// Fails with [`VcsError::NothingToCommit`] when the paths match HEAD.
    pub fn commit_paths(&self, paths: &[String], message: &str) -> Result<String> {
        if paths.is_empty() {
            return Err(VcsError::NothingToCommit {
                paths: Vec::new(),
                workdir: self.workdir.clone(),
            });
        }
        let head = self.head_oid()?;
        let head_commit = match head {
            Some(h) => Some(self.repo.find_commit(h).map_err(self.err("reading HEAD"))?),
            None => None,
        };
        let base_tree = match &head_commit {
            Some(c) => c.tree().map_err(self.err("reading HEAD's tree"))?,
            None => {
                let id = self
                    .repo
                    .treebuilder(None)
                    .and_then(|b| b.write())
                    .map_err(self.err("writing the empty tree"))?;
                self.repo
                    .find_tree(id)
                    .map_err(self.err("reading the empty tree"))?
            }
        };

        // Expand directories into the files under them that differ from HEAD.
        let mut rels: Vec<String> = Vec::new();
        for p in paths {
            let rel = self.rel_path(Path::new(p))?;
            let abs = self.workdir.join(&rel);
            let is_dir = std::fs::symlink_metadata(&abs)
                .map(|m| m.is_dir())
                .unwrap_or(false);
            let tree_is_dir = base_tree
                .get_path(Path::new(&rel))
                .map(|e| e.kind() == Some(ObjectType::Tree))
                .unwrap_or(false);
            if is_dir || tree_is_dir {
                let prefix = format!("{rel}/");
                for s in self.status_paths()? {
                    if s.path.starts_with(&prefix) {
                        rels.push(s.path);
                    }
                }
            } else {
                rels.push(rel);
            }
        }
        rels.sort();
        rels.dedup();

        let mut index = self.repo.index().map_err(self.err("opening the index"))?;
        // The Repo may be long-lived: pick up changes others made to the index file.
        index.read(false).map_err(self.err("reading the index"))?;
        let mut update = TreeUpdateBuilder::new();
        for rel in &rels {
            let abs = self.workdir.join(rel);
            let present = std::fs::symlink_metadata(&abs).is_ok();
            if present {
                index
                    .add_path(Path::new(rel))
                    .map_err(|source| VcsError::Stage {
                        path: rel.clone(),
                        workdir: self.workdir.clone(),
                        source,
                    })?;
                let entry = index
                    .get_path(Path::new(rel), 0)
                    .ok_or_else(|| VcsError::Stage {
                        path: rel.clone(),
                        workdir: self.workdir.clone(),
                        source: git2::Error::from_str("not in the index after staging"),
                    })?;
                let mode = match entry.mode {
                    0o100755 => git2::FileMode::BlobExecutable,
                    0o120000 => git2::FileMode::Link,
                    _ => git2::FileMode::Blob,
                };
                update.upsert(rel.as_str(), entry.id, mode);
            } else {
                // Deleted (or never existed): drop it from the index and the tree.
                let _ = index.remove_path(Path::new(rel));
                if base_tree.get_path(Path::new(rel)).is_ok() {
                    update.remove(rel.as_str());
                }
            }
        }
        let tree_id = update
            .create_updated(&self.repo, &base_tree)
            .map_err(self.err("building the task's tree"))?;
        if tree_id == base_tree.id() {
            return Err(VcsError::NothingToCommit {
                paths: rels,
                workdir: self.workdir.clone(),
            });
        }
        let tree = self
            .repo
            .find_tree(tree_id)
            .map_err(self.err("reading the task's tree"))?;
        // Index first: if the commit then fails, those paths are merely staged.
        index.write().map_err(self.err("writing the index"))?;
        let sig = self.signature();
        let parents: Vec<&git2::Commit> = head_commit.iter().collect();
        let id = self
            .repo
            .commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
            .map_err(self.err("making the task commit"))?;
        Ok(id.to_string())
    }

    /// Commits the whole work tree (as `git add -A` would stage it) without
    /// moving any branch, and records it under `refs/planexec/runs/<run_id>/discarded`.
    fn snapshot_work_tree(&self, run_id: &str, head: Option<Oid>) -> Result<String> {
        let mut index = self.repo.index().map_err(self.err("opening the index"))?;
        // The Repo may be long-lived: pick up changes others made to the index file.
        index.read(false).map_err(self.err("reading the index"))?;
        index
            .add_all(["*"], IndexAddOption::DEFAULT, None)
            .map_err(self.err("staging the work tree for a snapshot"))?;
        index
            .update_all(["*"], None)
            .map_err(self.err("staging deletions for a snapshot"))?;
        let tree_id = index
            .write_tree()
            .map_err(self.err("writing the snapshot tree"))?;
        // Forget the staging above: the index on disk is what the user had.
        index.read(true).map_err(self.err("re-reading the index"))?;
        let tree = self
            .repo
            .find_tree(tree_id)
            .map_err(self.err("reading the snapshot tree"))?;
        let parent = match head {
            Some(h) => Some(self.repo.find_commit(h).map_err(self.err("reading HEAD"))?),
            None => None,
        };
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        let sig = self.signature();
        let msg = format!("planexec: uncommitted changes discarded by rolling back run {run_id}\n");
        let id = self
            .repo
            .commit(None, &sig, &sig, &msg, &tree, &parents)
            .map_err(self.err("snapshotting uncommitted changes"))?;
        let name = format!("{RUNS_REF_PREFIX}{run_id}/discarded");
        self.repo
            .reference(&name, id, true, &msg)
            .map_err(self.err("recording the snapshot ref"))?;
        Ok(name)
    }

    /// Adds `patterns` (gitignore syntax, e.g. `/.planexec/`) to the repository's
    /// `info/exclude`, once each: planexec's own files stay out of status, rollback
    /// commits and diffs without touching the user's .gitignore.
    pub fn exclude_locally(&self, patterns: &[&str]) -> Result<()> {
        let info = self.repo.path().join("info");
        let file = info.join("exclude");
        let current = std::fs::read_to_string(&file).unwrap_or_default();
        let have: Vec<&str> = current.lines().map(str::trim).collect();
        let missing: Vec<&str> = patterns
            .iter()
            .map(|p| p.trim())
            .filter(|p| !p.is_empty() && !have.contains(p))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        std::fs::create_dir_all(&info).map_err(|source| VcsError::Io {
            what: "create",
            path: info.clone(),
            source,
        })?;
        let mut text = current;
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        for p in missing {
            text.push_str(p);
            text.push('\n');
        }
        atomic_write(&file, text.as_bytes())
    }

    /// What restoring run `run_id`'s start commit would discard. With `confirm`,
    /// hard-resets the current branch (or detached HEAD) to it, first saving the
    /// old HEAD under `refs/planexec/runs/<run_id>/before-rollback` and any
    /// uncommitted changes as a commit under `.../discarded`. Untracked files are
    /// left in place. Without `confirm`, changes nothing.
    pub fn rollback(&self, run_id: &str, confirm: bool) -> Result<RollbackPlan> {
        let start = self.run_start(run_id)?;
        let start_oid = Oid::from_str(&start).map_err(self.err("reading the start ref"))?;
        let head = self.head_oid()?;
        let mut commits = Vec::new();
        if let Some(h) = head {
            let mut walk = self.repo.revwalk().map_err(self.err("listing commits"))?;
            walk.push(h).map_err(self.err("listing commits"))?;
            walk.hide(start_oid).map_err(self.err("listing commits"))?;
            for oid in walk {
                let oid = oid.map_err(self.err("listing commits"))?;
                let c = self
                    .repo
                    .find_commit(oid)
                    .map_err(self.err("reading a commit"))?;
                commits.push(CommitInfo {
                    id: oid.to_string(),
                    summary: c.summary().unwrap_or("").to_string(),
                });
            }
        }
        let mut uncommitted = Vec::new();
        let mut untracked_kept = Vec::new();
        for s in self.status_paths()? {
            if s.kind == StatusKind::Untracked {
                untracked_kept.push(s.path);
            } else {
                uncommitted.push(s);
            }
        }
        let mut plan = RollbackPlan {
            run_id: run_id.to_string(),
            start_commit: start,
            head: head.map(|h| h.to_string()),
            branch: self.branch()?,
            commits,
            uncommitted,
            untracked_kept,
            applied: false,
            backup_ref: None,
            discarded_ref: None,
        };
        if confirm {
            if !plan.uncommitted.is_empty() {
                plan.discarded_ref = Some(self.snapshot_work_tree(run_id, head)?);
            }
            if let Some(h) = head {
                let backup = format!("{RUNS_REF_PREFIX}{run_id}/before-rollback");
                self.repo
                    .reference(
                        &backup,
                        h,
                        true,
                        &format!("planexec: HEAD before rolling back run {run_id}"),
                    )
                    .map_err(self.err("saving HEAD before the rollback"))?;
                plan.backup_ref = Some(backup);
            }
            let obj = self
                .repo
                .find_object(start_oid, Some(ObjectType::Commit))
                .map_err(self.err("reading the start commit"))?;
            self.repo
                .reset(&obj, ResetType::Hard, None)
                .map_err(self.err("resetting to the start commit"))?;
            plan.applied = true;
        }
        Ok(plan)
    }
}
