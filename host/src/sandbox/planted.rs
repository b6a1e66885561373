//! What programs with workspace writes leave that would run later outside the box
//! (bytecode, Python startup files, git hooks, gitfiles, git config): found and undone.
//!
//! A snapshot before a plugin call records only those names (one directory walk, a stat
//! per matching name); after the call, each such file that is new or changed is removed,
//! or restored to its earlier content when planexec kept it (gitfiles, `.gitmodules`,
//! startup files), and reported. Bytecode and startup files under a declared write root
//! (`[policy] writes`, `requests.writes` other than the whole workspace) are build outputs
//! the user asked for and stay; git's files never do.

use planexec_record::{Finding, Severity};
use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Contents planexec keeps to restore (gitfiles and startup files are small).
const KEEP_CONTENT: u64 = 64 << 10;

/// Why a name matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `*.pyc` / `*.pyo`: Python runs it instead of (or without) the source.
    Bytecode,
    /// `*.pth`, `sitecustomize`, `usercustomize`: Python runs them at start-up.
    Startup,
    /// A `.git` file or folder below the workspace root (a gitfile names the git dir).
    GitDir,
    /// `config` of a git dir, or `.gitmodules`: `core.fsmonitor`, `core.hooksPath`...
    GitConfig,
    /// A file in a hooks folder (`hooks/` of a git dir, or `core.hooksPath`).
    Hook,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Bytecode => "Python bytecode",
            Kind::Startup => "a Python start-up file",
            Kind::GitDir => "a git dir or gitfile",
            Kind::GitConfig => "git configuration",
            Kind::Hook => "a git hook",
        }
    }

    /// Build outputs a declared write root may hold.
    fn may_be_declared(self) -> bool {
        matches!(self, Kind::Bytecode | Kind::Startup)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    kind: Kind,
    dir: bool,
    stamp: (u64, u64, i64, i64, i64, i64),
    content: Option<Vec<u8>>,
}

/// One file undone after a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planted {
    /// Relative to the workspace.
    pub path: String,
    pub kind: Kind,
    /// "removed", "restored", or why neither worked.
    pub action: String,
}

/// The matching names of a workspace at one moment.
pub struct Snapshot {
    root: PathBuf,
    hooks: Vec<String>,
    seen: HashMap<String, Seen>,
}

impl Snapshot {
    /// Walks `root` (not its own `.git`, which the box keeps read-only); `hooks` are
    /// hooks folders relative to it (`core.hooksPath` inside the workspace).
    pub fn take(root: &Path, hooks: Vec<String>) -> Snapshot {
        let mut s = Snapshot {
            root: root.to_path_buf(),
            hooks,
            seen: HashMap::new(),
        };
        s.seen = s.scan();
        s
    }

    /// Undoes what changed since the snapshot, except build outputs under `declared`.
    pub fn sweep(&self, declared: &[String]) -> Vec<Planted> {
        let mut out = Vec::new();
        for (rel, now) in self.scan() {
            let before = self.seen.get(&rel);
            if before.is_some_and(|b| b.stamp == now.stamp || b.dir && now.dir) {
                continue; // unchanged, or a nested git dir that was there (its files are checked)
            }
            if now.kind.may_be_declared() && covered(&rel, declared) {
                continue;
            }
            let action = self.undo(&rel, before.and_then(|b| b.content.as_deref()));
            out.push(Planted {
                path: rel,
                kind: now.kind,
                action,
            });
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        out
    }

    fn undo(&self, rel: &str, earlier: Option<&[u8]>) -> String {
        let p = self.root.join(rel);
        let removed = match std::fs::symlink_metadata(&p) {
            Ok(m) if m.is_dir() => std::fs::remove_dir_all(&p),
            Ok(_) => std::fs::remove_file(&p),
            Err(e) => Err(e),
        };
        if let Err(e) = removed {
            return format!("could not be removed: {e}");
        }
        match earlier {
            Some(bytes) => match std::fs::write(&p, bytes) {
                Ok(()) => "restored".into(),
                Err(e) => format!("removed; its earlier content could not be restored: {e}"),
            },
            None => "removed".into(),
        }
    }

    fn scan(&self) -> HashMap<String, Seen> {
        let mut found = HashMap::new();
        let mut todo = vec![(String::new(), false)];
        while let Some((dir, in_git)) = todo.pop() {
            let Ok(entries) = std::fs::read_dir(self.root.join(&dir)) else {
                continue;
            };
            let names: Vec<(String, bool)> = entries
                .flatten()
                .map(|e| {
                    let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
                    (e.file_name().to_string_lossy().into_owned(), is_dir)
                })
                .collect();
            let has = |name: &str, dir: bool| names.iter().any(|(n, d)| n == name && *d == dir);
            // Git accepts a folder as a git dir when it has HEAD, objects/ and refs/.
            let git_dir = in_git || has("HEAD", false) && has("objects", true) && has("refs", true);
            for (name, is_dir) in names {
                let rel = join(&dir, &name);
                if dir.is_empty() && name == ".git" {
                    continue; // the repository's own: read-only in the box
                }
                if let Some(kind) = self.kind_of(&dir, &name, is_dir, git_dir) {
                    if let Some(seen) = seen(&self.root.join(&rel), kind) {
                        found.insert(rel.clone(), seen);
                    }
                    if kind != Kind::GitDir {
                        continue;
                    }
                }
                if is_dir && !(git_dir && name == "objects") {
                    todo.push((rel, git_dir || name == ".git"));
                }
            }
        }
        found
    }

    fn kind_of(&self, dir: &str, name: &str, is_dir: bool, git_dir: bool) -> Option<Kind> {
        if name == ".git" {
            return Some(Kind::GitDir);
        }
        let parent = dir.rsplit('/').next().unwrap_or(dir);
        if git_dir && !is_dir && name == "config" {
            return Some(Kind::GitConfig);
        }
        if !is_dir && (git_dir && parent == "hooks" || self.hooks.iter().any(|h| h == dir)) {
            return Some(Kind::Hook);
        }
        if name == ".gitmodules" {
            return Some(Kind::GitConfig);
        }
        if name.ends_with(".pyc") || name.ends_with(".pyo") {
            return Some(Kind::Bytecode);
        }
        let stem = name.strip_suffix(".py").unwrap_or(name);
        if name.ends_with(".pth") || stem == "sitecustomize" || stem == "usercustomize" {
            return Some(Kind::Startup);
        }
        None
    }
}

/// Its stamp, and its content when it is a small file planexec can put back.
fn seen(p: &Path, kind: Kind) -> Option<Seen> {
    let m = std::fs::symlink_metadata(p).ok()?;
    let keep = kind != Kind::Bytecode && m.is_file() && m.len() <= KEEP_CONTENT;
    Some(Seen {
        kind,
        dir: m.is_dir(),
        stamp: (
            m.ino(),
            m.size(),
            m.mtime(),
            m.mtime_nsec(),
            m.ctime(),
            m.ctime_nsec(),
        ),
        content: keep.then(|| std::fs::read(p).ok()).flatten(),
    })
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// Whether `rel` lies under one of the declared write roots (never the whole workspace).
fn covered(rel: &str, declared: &[String]) -> bool {
    declared.iter().any(|d| {
        let d = d.trim_start_matches("./").trim_end_matches('/');
        !d.is_empty() && d != "." && (rel == d || rel.starts_with(&format!("{d}/")))
    })
}

/// `core.hooksPath` when it lies inside `workspace`, relative to it.
pub fn hooks_path_in(workspace: &Path) -> Vec<String> {
    let Ok(repo) = git2::Repository::open(workspace) else {
        return Vec::new();
    };
    let Ok(p) = repo.config().and_then(|c| c.get_path("core.hooksPath")) else {
        return Vec::new();
    };
    let abs = if p.is_absolute() {
        p
    } else {
        workspace.join(p)
    };
    let ws = workspace
        .canonicalize()
        .unwrap_or_else(|_| workspace.to_path_buf());
    let abs = abs.canonicalize().unwrap_or(abs);
    abs.strip_prefix(&ws)
        .ok()
        .map(|r| r.to_string_lossy().trim_end_matches('/').to_string())
        .into_iter()
        .collect()
}

/// One finding per file undone, naming it, for the gate report or the implementer.
pub fn findings(plugin: &str, planted: &[Planted]) -> Vec<Finding> {
    planted
        .iter()
        .map(|p| Finding {
            severity: Severity::Important,
            rule: "planexec/planted".into(),
            message: format!(
                "{plugin}'s programs wrote {} ({}), which would run later outside the box: {}",
                p.path,
                p.kind.label(),
                p.action
            ),
            path: Some(p.path.clone()),
            line: None,
            column: None,
            end_line: None,
            end_column: None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    #[test]
    fn new_bytecode_startup_files_gitfiles_and_hooks_are_undone_and_the_rest_stays() {
        let tmp = tempfile::tempdir().unwrap();
        let r = tmp.path();
        write(r, ".git/HEAD", "ref: refs/heads/main\n");
        write(r, "sub/.git", "gitdir: ../.git/modules/sub\n");
        write(r, ".venv/lib/site-packages/old.pth", "import os\n");
        write(r, "src/app.py", "x = 1\n");
        let snap = Snapshot::take(r, vec![".githooks".into()]);
        write(r, "sub/.git", "gitdir: ../.evilgit\n");
        write(r, ".evilgit/HEAD", "ref: refs/heads/main\n");
        std::fs::create_dir_all(r.join(".evilgit/objects")).unwrap();
        std::fs::create_dir_all(r.join(".evilgit/refs")).unwrap();
        write(r, "docs/config", "not git\n");
        write(r, ".evilgit/config", "[core]\n\tfsmonitor = touch /tmp/x\n");
        write(r, "tests/__pycache__/test_a.cpython-311.pyc", "evil");
        write(r, ".venv/lib/site-packages/evil.pth", "import evil\n");
        write(r, ".githooks/post-checkout", "#!/bin/sh\n");
        write(r, "build/out/gen.pyc", "ok");
        write(r, "src/app.py", "x = 2\n");
        let got = snap.sweep(&["build/".into(), ".".into()]);
        let paths: Vec<&str> = got.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                ".evilgit/config",
                ".githooks/post-checkout",
                ".venv/lib/site-packages/evil.pth",
                "sub/.git",
                "tests/__pycache__/test_a.cpython-311.pyc"
            ]
        );
        assert_eq!(
            std::fs::read_to_string(r.join("sub/.git")).unwrap(),
            "gitdir: ../.git/modules/sub\n",
            "the gitfile is put back"
        );
        assert!(!r.join(".evilgit/config").exists());
        assert!(!r.join(".venv/lib/site-packages/evil.pth").exists());
        assert!(r.join(".venv/lib/site-packages/old.pth").exists());
        assert!(
            r.join("build/out/gen.pyc").exists(),
            "declared build output"
        );
        assert_eq!(
            std::fs::read_to_string(r.join("src/app.py")).unwrap(),
            "x = 2\n"
        );
        assert!(findings("agent", &got)[3]
            .message
            .contains("sub/.git (a git dir or gitfile"));
    }
}
