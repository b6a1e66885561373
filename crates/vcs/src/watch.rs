//! Which work-tree paths may have changed since the last diff: an inotify watch on every
//! directory git can see, so a task's diff reads only those paths (the idea of git's fsmonitor).
//!
//! The watch is started by the first [`Repo::changes_since_head`], which then diffs the whole
//! tree; later diffs read only the paths the kernel reported plus the ones still dirty. Any
//! doubt means a whole-tree diff again: lost events (queue overflow), a watched directory moved,
//! a `.gitignore` or `.gitattributes` changed, a name that is not UTF-8, or the index, the
//! repository's config, `info/exclude`, `info/attributes` or HEAD changed by anyone but this
//! repository's own commits. Not seen until such a full diff: writes through a hard link that
//! lives outside the work tree (the kernel reports them on the other path) and a change of the
//! user's global excludes file.

use crate::Repo;
use inotify::{EventMask, Inotify, WatchMask};
use std::collections::{BTreeSet, HashMap};
use std::ffi::OsStr;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// What the watch knows between two diffs.
pub(crate) enum WatchState {
    /// No diff yet.
    Unstarted,
    /// inotify is not available (or ran out of watches): every diff reads the whole tree.
    Off,
    On(Box<Watch>),
}

pub(crate) struct Watch {
    inotify: Inotify,
    /// Watch descriptor -> the directory it watches, relative (`""` for the root).
    dirs: HashMap<i32, String>,
    /// Paths changed since the last diff, and the ones that diff found dirty.
    candidates: BTreeSet<String>,
    /// Events were lost or the watched paths went stale: rebuild and diff everything.
    broken: bool,
    /// The repository's state when the candidates were last complete.
    stamp: Option<Stamp>,
}

/// The index, config, `info/exclude`, `info/attributes` and HEAD: what changes git's view
/// of the work tree without touching it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stamp {
    files: [Option<(u64, u64, i64, i64)>; 4],
    head: Option<git2::Oid>,
}

fn mask() -> WatchMask {
    WatchMask::CREATE
        | WatchMask::DELETE
        | WatchMask::MODIFY
        | WatchMask::ATTRIB
        | WatchMask::CLOSE_WRITE
        | WatchMask::MOVED_FROM
        | WatchMask::MOVED_TO
        | WatchMask::DELETE_SELF
        | WatchMask::MOVE_SELF
        | WatchMask::DONT_FOLLOW
        | WatchMask::ONLYDIR
        | WatchMask::EXCL_UNLINK
}

fn file_stamp(p: &Path) -> Option<(u64, u64, i64, i64)> {
    let m = std::fs::symlink_metadata(p).ok()?;
    Some((m.ino(), m.size(), m.mtime(), m.mtime_nsec()))
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

impl Repo {
    pub(crate) fn stamp(&self) -> Stamp {
        let git = self.repo.path();
        Stamp {
            files: [
                file_stamp(&git.join("index")),
                file_stamp(&git.join("config")),
                file_stamp(&git.join("info").join("exclude")),
                file_stamp(&git.join("info").join("attributes")),
            ],
            head: self.head_oid().ok().flatten(),
        }
    }

    /// The paths the next diff must read (`None`: the whole tree) and the stamp to keep with
    /// its result.
    pub(crate) fn paths_to_diff(&self) -> (Option<Vec<String>>, Stamp) {
        let stamp = self.stamp();
        let mut state = self.watch.borrow_mut();
        if let WatchState::On(w) = &mut *state {
            self.drain(w);
            if !w.broken && w.stamp.as_ref() == Some(&stamp) {
                return (Some(w.candidates.iter().cloned().collect()), stamp);
            }
        }
        let rebuild = match &*state {
            WatchState::Unstarted => true,
            WatchState::On(w) => w.broken,
            WatchState::Off => false,
        };
        if rebuild {
            *state = match self.start_watch() {
                Some(w) => WatchState::On(Box::new(w)),
                None => WatchState::Off,
            };
        }
        (None, stamp)
    }

    /// After a diff that began at `stamp`: the dirty paths it found are what the next one
    /// reads again, with whatever changes in between.
    pub(crate) fn diffed(&self, stamp: Stamp, dirty: Vec<String>) {
        if let WatchState::On(w) = &mut *self.watch.borrow_mut() {
            w.candidates = dirty.into_iter().collect();
            w.stamp = Some(stamp);
        }
    }

    /// After this repository's own commit: when nothing else moved the index or HEAD since
    /// the last diff (`before`) and no hook touched the index after planexec wrote it
    /// (`written`), the new state is the known one.
    pub(crate) fn committed(&self, before: &Stamp, written: &Stamp) {
        if let WatchState::On(w) = &mut *self.watch.borrow_mut() {
            let now = self.stamp();
            if w.stamp.as_ref() == Some(before) && now.files == written.files {
                w.stamp = Some(now);
            } else {
                w.stamp = None;
            }
        }
    }

    fn start_watch(&self) -> Option<Watch> {
        let mut w = Watch {
            inotify: Inotify::init().ok()?,
            dirs: HashMap::new(),
            candidates: BTreeSet::new(),
            broken: false,
            stamp: None,
        };
        self.watch_tree(&mut w, "").ok()?;
        Some(w)
    }

    /// Watches `rel` and every directory under it that git can see (not `.git`, not ignored
    /// unless something in it is tracked). A directory that vanished meanwhile is skipped.
    fn watch_tree(&self, w: &mut Watch, rel: &str) -> std::io::Result<()> {
        let mut todo = vec![rel.to_string()];
        while let Some(dir) = todo.pop() {
            let abs = self.workdir.join(&dir);
            match w.inotify.watches().add(&abs, mask()) {
                Ok(wd) => {
                    w.dirs.insert(wd.get_watch_descriptor_id(), dir.clone());
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => continue,
                Err(e) => return Err(e),
            }
            let Ok(entries) = std::fs::read_dir(&abs) else {
                continue;
            };
            for e in entries.flatten() {
                if !e.file_type().is_ok_and(|t| t.is_dir()) || e.file_name() == ".git" {
                    continue;
                }
                let child = join(&dir, &e.file_name().to_string_lossy());
                if !self.hidden_dir(&child) {
                    todo.push(child);
                }
            }
        }
        Ok(())
    }

    /// An ignored directory with nothing tracked in it: git shows nothing under it.
    fn hidden_dir(&self, rel: &str) -> bool {
        if !self.repo.is_path_ignored(rel).unwrap_or(false) {
            return false;
        }
        let tracked = self
            .repo
            .index()
            .ok()
            .is_some_and(|i| i.find_prefix(format!("{rel}/")).is_ok());
        !tracked
    }

    /// Reads every pending event into the candidates.
    fn drain(&self, w: &mut Watch) {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let events: Vec<(i32, EventMask, Option<Option<String>>)> =
                match w.inotify.read_events(&mut buf) {
                    Ok(evs) => evs
                        .map(|e| {
                            // A name that is not UTF-8 cannot be a diff's exact path.
                            let name = e.name.map(|n: &OsStr| n.to_str().map(str::to_owned));
                            (e.wd.get_watch_descriptor_id(), e.mask, name)
                        })
                        .collect(),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                    Err(_) => {
                        w.broken = true;
                        return;
                    }
                };
            for (wd, mask, name) in events {
                match name {
                    Some(None) => w.broken = true,
                    Some(Some(n)) => self.event(w, wd, mask, Some(n)),
                    None => self.event(w, wd, mask, None),
                }
            }
        }
    }

    fn event(&self, w: &mut Watch, wd: i32, mask: EventMask, name: Option<String>) {
        if mask.contains(EventMask::Q_OVERFLOW) || mask.contains(EventMask::MOVE_SELF) {
            w.broken = true;
            return;
        }
        if mask.contains(EventMask::IGNORED) {
            w.dirs.remove(&wd);
            return;
        }
        let (Some(dir), Some(name)) = (w.dirs.get(&wd).cloned(), name) else {
            return;
        };
        if dir.is_empty() && name == ".git" {
            return;
        }
        let path = join(&dir, &name);
        let is_dir = mask.contains(EventMask::ISDIR);
        let rules = name == ".gitignore" || name == ".gitattributes";
        if rules || (is_dir && mask.contains(EventMask::MOVED_FROM)) {
            // What git shows, or where the watched directories are, changed.
            w.broken = true;
        } else if is_dir
            && mask.intersects(EventMask::CREATE | EventMask::MOVED_TO)
            && !self.hidden_dir(&path)
            && self.watch_tree(w, &path).is_err()
        {
            w.broken = true;
        }
        w.candidates.insert(path);
    }
}

#[cfg(test)]
mod tests {
    use crate::Repo;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    fn committed_repo() -> (tempfile::TempDir, Repo) {
        let tmp = tempfile::tempdir().unwrap();
        let g = git2::Repository::init(tmp.path()).unwrap();
        let d = tmp.path();
        write(d, "a.txt", "one\n");
        write(d, "dir/b.txt", "bee\n");
        write(d, "dir/sub/c.txt", "sea\n");
        write(d, "run.sh", "echo\n");
        write(d, ".gitignore", "ignored/\n");
        write(
            d,
            "ignored/kept.txt",
            "tracked under an ignored directory\n",
        );
        let mut idx = g.index().unwrap();
        for p in [
            "a.txt",
            "dir/b.txt",
            "dir/sub/c.txt",
            "run.sh",
            ".gitignore",
            "ignored/kept.txt",
        ] {
            idx.add_path(p.as_ref()).unwrap();
        }
        idx.write().unwrap();
        let tree = g.find_tree(idx.write_tree().unwrap()).unwrap();
        let sig = git2::Signature::now("t", "t@example.com").unwrap();
        g.commit(Some("HEAD"), &sig, &sig, "base", &tree, &[])
            .unwrap();
        write(d, "ignored/scratch.txt", "never shown\n");
        let repo = Repo::discover(d).unwrap();
        (tmp, repo)
    }

    /// The watched diff equals a whole-tree diff; returns the changed paths.
    fn same(repo: &Repo, step: &str) -> Vec<String> {
        let watched = repo.changes_since_head(&[]).unwrap();
        let full = repo.changes_since_head_full(&[]).unwrap();
        assert_eq!(watched, full, "after {step}");
        watched.paths()
    }

    /// The next diff reads only the watched paths (not the whole tree).
    fn limited(repo: &Repo, step: &str) {
        assert!(
            repo.paths_to_diff().0.is_some(),
            "limited diff after {step}"
        );
    }

    #[test]
    fn a_watched_diff_finds_what_a_whole_tree_diff_finds() {
        let (tmp, repo) = committed_repo();
        let d = tmp.path();
        assert!(same(&repo, "the start").is_empty());
        limited(&repo, "the start");

        write(d, "a.txt", "two\n");
        assert_eq!(same(&repo, "an edit"), ["a.txt"]);
        limited(&repo, "an edit");

        write(d, "new/deep/er/n.txt", "new\n");
        assert_eq!(
            same(&repo, "a new nested directory"),
            ["a.txt", "new/deep/er/n.txt"]
        );
        repo.commit_paths(&["a.txt".into(), "new/deep/er/n.txt".into()], "c1")
            .unwrap();
        assert!(same(&repo, "the commit").is_empty());
        limited(&repo, "this repository's own commit");

        write(d, "new/deep/er/n.txt", "changed\n");
        assert_eq!(
            same(&repo, "an edit in the new directory"),
            ["new/deep/er/n.txt"]
        );
        fs::remove_file(d.join("dir/sub/c.txt")).unwrap();
        fs::set_permissions(d.join("run.sh"), fs::Permissions::from_mode(0o755)).unwrap();
        write(d, "ignored/kept.txt", "edited\n");
        write(d, "ignored/other.txt", "ignored\n");
        std::os::unix::fs::symlink("a.txt", d.join("link")).unwrap();
        assert_eq!(
            same(&repo, "a deletion, a chmod, ignored files, a symlink"),
            [
                "dir/sub/c.txt",
                "ignored/kept.txt",
                "link",
                "new/deep/er/n.txt",
                "run.sh"
            ]
        );
        limited(&repo, "those");
        fs::rename(d.join("dir/b.txt"), d.join("dir/b2.txt")).unwrap();
        assert!(same(&repo, "a rename").contains(&"dir/b2.txt".to_string()));
        limited(&repo, "a file renamed");

        // Lost track: a directory moved, the ignore rules changed, the index written by
        // another git process. Each is followed by a whole-tree diff, then watched again.
        fs::rename(d.join("dir"), d.join("moved")).unwrap();
        assert!(same(&repo, "a directory move").contains(&"moved/b2.txt".to_string()));
        write(d, "moved/sub/again.txt", "x\n");
        assert!(same(&repo, "a file in the moved directory")
            .contains(&"moved/sub/again.txt".to_string()));
        limited(&repo, "the rebuilt watch");
        write(d, ".gitignore", "\n");
        assert!(same(&repo, "unignoring").contains(&"ignored/scratch.txt".to_string()));
        write(d, "ignored/scratch.txt", "now seen\n");
        same(&repo, "an edit in the unignored directory");
        let other = git2::Repository::open(d).unwrap();
        let mut idx = other.index().unwrap();
        idx.remove_path("a.txt".as_ref()).unwrap();
        idx.write().unwrap();
        assert!(same(&repo, "another process's index write").contains(&"a.txt".to_string()));
        limited(&repo, "the index write");
    }

    /// More events than the kernel queues: the lost ones are noticed, the next diff reads the
    /// whole tree, and the rebuilt watch reads only what changes after it.
    #[test]
    fn lost_events_mean_a_whole_tree_diff() {
        let (tmp, repo) = committed_repo();
        let d = tmp.path();
        same(&repo, "the start");
        let queued: usize = fs::read_to_string("/proc/sys/fs/inotify/max_queued_events")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(16384);
        // Each new file is at least a create and a close-write event.
        for n in 0..queued / 2 + 10 {
            fs::write(d.join(format!("f{n}")), "x").unwrap();
        }
        fs::remove_file(d.join("a.txt")).unwrap();
        assert!(repo.paths_to_diff().0.is_none(), "the overflow is noticed");
        let paths = same(&repo, "the overflow");
        assert_eq!(
            paths.len(),
            queued / 2 + 11,
            "every new file and the deletion"
        );
        assert!(paths.contains(&"a.txt".to_string()));
        write(d, "dir/b.txt", "edited\n");
        same(&repo, "an edit after the overflow");
        limited(&repo, "the rebuilt watch");
    }

    #[test]
    fn nothing_changed_reads_nothing() {
        let (_tmp, repo) = committed_repo();
        same(&repo, "the start");
        assert_eq!(repo.paths_to_diff().0, Some(vec![]));
    }
}
