//! What the agent did to the repository, seen through git and the read-only
//! workspace: HEAD before and after (a commit of its own), and the files it changed.

use planexec_pdk::{Command as Cmd, Host};
use std::collections::BTreeMap;

/// The work tree's changed paths against HEAD, each with a digest of its content
/// (`None`: deleted).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Snapshot {
    pub head: Option<String>,
    pub dirty: BTreeMap<String, Option<u64>>,
}

fn git(host: &dyn Host, args: &[&str]) -> Result<String, String> {
    let out = host
        .exec(&Cmd::new("git").args(args.iter().copied()))
        .map_err(|e| {
            format!(
                "could not run git ({e}); grant git to the agent implementer \
                 ([policy.plugins.agent] grant = [\"git\", ...]): it checks what the agent changed"
            )
        })?;
    if out.exit_code != Some(0) {
        return Err(format!(
            "git {} failed: {}",
            args.join(" "),
            out.stderr_str().trim()
        ));
    }
    Ok(out.stdout_str())
}

/// FNV-1a: enough to tell whether a file's bytes changed between two moments.
fn digest(bytes: &[u8], h: u64) -> u64 {
    bytes
        .iter()
        .fold(h, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100000001b3))
}

/// The digest of a file, read in chunks (a file larger than the plugin's memory is fine).
fn file_digest(path: &str) -> Option<u64> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).ok()?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut h = 0xcbf29ce484222325u64;
    loop {
        match f.read(&mut buf).ok()? {
            0 => return Some(h),
            n => h = digest(&buf[..n], h),
        }
    }
}

/// Paths from `git status --porcelain=v1 -z` (renames off: each side is its own path).
pub fn status_paths(z: &str) -> Vec<String> {
    z.split('\0')
        .filter(|e| e.len() > 3)
        .map(|e| e[3..].to_string())
        .collect()
}

pub fn snapshot(host: &dyn Host, workspace: &str) -> Result<Snapshot, String> {
    let head = git(host, &["rev-parse", "--verify", "-q", "HEAD"])
        .ok()
        .map(|s| s.trim().to_string());
    let z = git(
        host,
        &[
            "status",
            "--porcelain=v1",
            "-z",
            "--untracked-files=all",
            "--no-renames",
        ],
    )?;
    let root = workspace.trim_end_matches('/');
    let dirty = status_paths(&z)
        .into_iter()
        .map(|p| {
            let d = file_digest(&format!("{root}/{p}"));
            (p, d)
        })
        .collect();
    Ok(Snapshot { head, dirty })
}

/// Paths whose content differs between the two snapshots (this cycle's changes).
pub fn changed_between(before: &Snapshot, after: &Snapshot) -> Vec<String> {
    let mut v: Vec<String> = after
        .dirty
        .iter()
        .filter(|(p, d)| before.dirty.get(*p) != Some(d))
        .map(|(p, _)| p.clone())
        .collect();
    v.extend(
        before
            .dirty
            .keys()
            .filter(|p| !after.dirty.contains_key(*p))
            .cloned(),
    );
    v.sort();
    v
}

/// Moves HEAD back to `base`, keeping the agent's commits' changes in the work
/// tree (`git reset --mixed`); the subjects of the commits it undid.
pub fn undo_commits(host: &dyn Host, base: &str, head: &str) -> Result<Vec<String>, String> {
    let range = format!("{base}..{head}");
    let subjects = git(host, &["log", "--format=%h %s", &range])?;
    git(host, &["reset", "-q", "--mixed", base])?;
    Ok(subjects.lines().map(String::from).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_paths_and_changes_between_snapshots() {
        assert_eq!(
            status_paths(" M src/a.py\0?? new.txt\0 D gone.py\0"),
            ["src/a.py", "new.txt", "gone.py"]
        );
        let snap = |items: &[(&str, Option<u64>)]| Snapshot {
            head: None,
            dirty: items.iter().map(|(p, d)| (p.to_string(), *d)).collect(),
        };
        // Cycle 2 starts with cycle 1's change to a.py: only what differs now counts.
        let before = snap(&[("a.py", Some(1)), ("b.py", Some(2)), ("c.py", Some(3))]);
        let after = snap(&[("a.py", Some(1)), ("b.py", Some(9)), ("d.py", None)]);
        assert_eq!(changed_between(&before, &after), ["b.py", "c.py", "d.py"]);
        assert_ne!(digest(b"x", 0), digest(b"y", 0));
        let f = std::env::temp_dir().join(format!("planexec-digest-{}", std::process::id()));
        std::fs::write(&f, vec![7u8; 200_000]).unwrap();
        let whole = digest(&vec![7u8; 200_000], 0xcbf29ce484222325);
        assert_eq!(
            file_digest(f.to_str().unwrap()),
            Some(whole),
            "chunks digest like the whole"
        );
        std::fs::remove_file(&f).unwrap();
        assert_eq!(file_digest("/nonexistent/planexec"), None);
    }
}
