//! The work tree's status in `git status` terms (what is dirty), and keeping
//! planexec's own files out of it through `info/exclude`.

use crate::{atomic_write, Repo, Result, VcsError};
use git2::{Status, StatusOptions, SubmoduleStatus};

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

impl Repo {
    pub(crate) fn status_options() -> StatusOptions {
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

    /// Submodules with uncommitted or untracked changes inside, or checked
    /// out at another commit than the superproject records: their paths.
    pub fn dirty_submodules(&self) -> Result<Vec<String>> {
        let subs = self
            .repo
            .submodules()
            .map_err(self.err("listing submodules"))?;
        let mut out = Vec::new();
        for sm in subs {
            let name = sm.name().unwrap_or_default().to_string();
            let st = self
                .repo
                .submodule_status(&name, git2::SubmoduleIgnore::None)
                .map_err(self.err("reading a submodule's status"))?;
            let dirty = SubmoduleStatus::WD_MODIFIED
                | SubmoduleStatus::WD_INDEX_MODIFIED
                | SubmoduleStatus::WD_WD_MODIFIED
                | SubmoduleStatus::WD_UNTRACKED
                | SubmoduleStatus::INDEX_MODIFIED;
            if st.intersects(dirty) {
                out.push(sm.path().to_string_lossy().into_owned());
            }
        }
        Ok(out)
    }
}
