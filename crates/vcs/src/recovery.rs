//! Recovery after a crash mid-task: whether HEAD is the task's own commit, a
//! backup of its partial work, and undoing that work only once it is backed up.

use crate::{ChangeKind, Repo, Result, TaskChanges, VcsError};
use git2::Oid;
use std::path::Path;

impl Repo {
    /// Whether `head` is `task_id`'s commit (`<id>: ` subject) made on `base`.
    pub fn is_task_commit(&self, head: &str, base: &str, task_id: &str) -> bool {
        let Ok(oid) = Oid::from_str(head) else {
            return false;
        };
        let Ok(c) = self.repo.find_commit(oid) else {
            return false;
        };
        c.message()
            .unwrap_or("")
            .starts_with(&format!("{task_id}: "))
            && c.parent_id(0).map(|p| p.to_string()).as_deref() == Ok(base)
    }

    /// The git blob id of the work tree's `path` as it is now: a regular file's
    /// content, a symlink's target; `None` when nothing is there.
    pub fn work_blob(&self, path: &str) -> Option<String> {
        let p = self.workdir.join(path);
        let meta = p.symlink_metadata().ok()?;
        let oid = if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&p).ok()?;
            use std::os::unix::ffi::OsStrExt;
            Oid::hash_object(git2::ObjectType::Blob, target.as_os_str().as_bytes())
        } else if meta.is_file() {
            Oid::hash_file(git2::ObjectType::Blob, &p)
        } else {
            return None;
        };
        oid.ok().map(|o| o.to_string())
    }

    /// Copies every changed regular file into `dest` (same relative paths).
    /// Symlinks are not followed: they could lead to any file the user can read.
    /// The first copy error is returned; nothing in the work tree is touched.
    pub fn back_up_changes(&self, changes: &TaskChanges, dest: &Path) -> Result<Vec<String>> {
        let mut copied = Vec::new();
        for f in &changes.files {
            let src = self.workdir.join(&f.path);
            if !src.symlink_metadata().is_ok_and(|m| m.is_file()) {
                continue;
            }
            let dst = dest.join(&f.path);
            let io = |what, path: &Path| {
                let path = path.to_path_buf();
                move |source| VcsError::Io { what, path, source }
            };
            let parent = dst.parent().unwrap_or(dest);
            std::fs::create_dir_all(parent).map_err(io("create the backup folder", parent))?;
            std::fs::copy(&src, &dst).map_err(io("back up", &dst))?;
            copied.push(f.path.clone());
        }
        Ok(copied)
    }

    /// Restores the changed paths to HEAD: added files are removed, modified,
    /// deleted and renamed ones checked out again.
    pub fn restore_to_head(&self, changes: &TaskChanges) -> Result<()> {
        let mut co = git2::build::CheckoutBuilder::new();
        co.force();
        let mut any = false;
        for f in &changes.files {
            if f.change == ChangeKind::Added {
                let p = self.workdir.join(&f.path);
                match std::fs::remove_file(&p) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(VcsError::Io {
                            what: "remove",
                            path: p,
                            source: e,
                        })
                    }
                    _ => {}
                }
            } else {
                co.path(&f.path);
                any = true;
            }
            if let Some(old) = &f.old_path {
                co.path(old);
                any = true;
            }
        }
        if any {
            self.repo
                .checkout_head(Some(&mut co))
                .map_err(|source| VcsError::Git {
                    op: "checkout of the interrupted task's files",
                    workdir: self.workdir.clone(),
                    source,
                })?;
        }
        Ok(())
    }
}
