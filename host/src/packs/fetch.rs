//! Fetching a pack's files from its source into a [`Tree`]: a local folder,
//! a git commit (git2), or a downloaded .tar.gz (ureq, flate2, tar).

use super::tree::{Tree, MAX_PACK_BYTES};
use super::{PackError, PackSource};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;

/// What a fetch produced: the files and what the source resolved to.
#[derive(Debug)]
pub struct Fetched {
    pub tree: Tree,
    /// The git commit (40 hex) or the archive's sha256; None for a folder.
    pub resolved: Option<String>,
}

/// Fetches `source`; `pin` (a locked commit or archive sha256) replaces the
/// rev for git and must match the download for archives.
pub fn fetch(pack: &str, source: &PackSource, pin: Option<&str>) -> Result<Fetched, PackError> {
    let bad = |message: String| PackError::Fetch {
        pack: pack.into(),
        source_text: source.to_string(),
        message,
    };
    match source {
        PackSource::Path(dir) => {
            let mut tree = Tree::default();
            read_folder(dir, "", &mut tree).map_err(bad)?;
            Ok(Fetched {
                tree,
                resolved: None,
            })
        }
        PackSource::Git { url, rev } => {
            let (tree, commit) =
                git_tree(url, pin.unwrap_or(rev)).map_err(|e| bad(e.to_string()))?;
            Ok(Fetched {
                tree,
                resolved: Some(commit),
            })
        }
        PackSource::Archive { url } => {
            let bytes = download(url).map_err(bad)?;
            let digest = hex::encode(Sha256::digest(&bytes));
            if let Some(p) = pin.filter(|p| *p != digest) {
                return Err(bad(format!(
                    "the archive now has sha256 {digest}, but planexec.lock pins {p}: it changed on the server\n  \
                     review it with `planexec packs update {pack}`"
                )));
            }
            let tree = untar(&bytes).map_err(bad)?;
            Ok(Fetched {
                tree,
                resolved: Some(digest),
            })
        }
    }
}

/// Reads a folder's regular files (skipping `.git`); a symlink or special file is refused.
fn read_folder(dir: &Path, prefix: &str, tree: &mut Tree) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for e in entries {
        let e = e.map_err(|e| format!("{}: {e}", dir.display()))?;
        let name = e.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}/{name}")
        };
        let ft = e.file_type().map_err(|e| format!("{}: {e}", e))?;
        if ft.is_dir() {
            if name != ".git" && name != "target" {
                read_folder(&e.path(), &rel, tree)?;
            }
        } else if ft.is_file() {
            let bytes = crate::input::read_bytes(&e.path(), dir, MAX_PACK_BYTES)
                .map_err(|e| e.to_string())?;
            tree.add(&rel, bytes)?;
        } else {
            return Err(format!(
                "`{rel}` is a symlink or special file; a pack holds only regular files"
            ));
        }
    }
    Ok(())
}

/// Fetches every branch and tag of `url` into a scratch bare repository and
/// reads the tree of the commit `rev` names (a tag, a branch, or a commit id).
fn git_tree(url: &str, rev: &str) -> Result<(Tree, String), git2::Error> {
    let tmp = tempfile::tempdir().map_err(|e| git2::Error::from_str(&e.to_string()))?;
    let repo = git2::Repository::init_bare(tmp.path())?;
    let mut remote = repo.remote_anonymous(url)?;
    remote.fetch(
        &[
            "+refs/heads/*:refs/remotes/origin/*",
            "+refs/tags/*:refs/tags/*",
        ],
        None,
        None,
    )?;
    let commit = resolve_rev(&repo, rev)?;
    let mut tree = Tree::default();
    walk_git(&repo, &commit.tree()?, "", &mut tree)?;
    Ok((tree, commit.id().to_string()))
}

fn resolve_rev<'r>(repo: &'r git2::Repository, rev: &str) -> Result<git2::Commit<'r>, git2::Error> {
    if rev.len() == 40 && rev.chars().all(|c| c.is_ascii_hexdigit()) {
        let oid = git2::Oid::from_str(rev)?;
        return repo.find_commit(oid).map_err(|_| {
            git2::Error::from_str(&format!(
                "commit {rev} is no longer reachable from any branch or tag of the source"
            ))
        });
    }
    for name in [
        format!("refs/tags/{rev}"),
        format!("refs/remotes/origin/{rev}"),
    ] {
        if let Ok(r) = repo.find_reference(&name) {
            return r.peel_to_commit();
        }
    }
    Err(git2::Error::from_str(&format!(
        "no tag, branch or commit `{rev}` in the source"
    )))
}

fn walk_git(
    repo: &git2::Repository,
    t: &git2::Tree,
    prefix: &str,
    out: &mut Tree,
) -> Result<(), git2::Error> {
    let fail = |m: String| git2::Error::from_str(&m);
    for e in t.iter() {
        let name = e
            .name()
            .ok_or_else(|| fail("a file name is not UTF-8".into()))?;
        let rel = if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}/{name}")
        };
        match e.filemode() {
            0o040000 => walk_git(repo, &repo.find_tree(e.id())?, &rel, out)?,
            0o100644 | 0o100755 => {
                let blob = repo.find_blob(e.id())?;
                out.add(&rel, blob.content().to_vec()).map_err(fail)?;
            }
            _ => {
                return Err(fail(format!(
                    "`{rel}` is a symlink or submodule; a pack holds only regular files"
                )))
            }
        }
    }
    Ok(())
}

/// GETs `url` (bounded); any status but 200 is an error.
fn download(url: &str) -> Result<Vec<u8>, String> {
    let mut resp = ureq::get(url)
        .call()
        .map_err(|e| format!("cannot download: {e}"))?;
    resp.body_mut()
        .with_config()
        .limit(MAX_PACK_BYTES)
        .read_to_vec()
        .map_err(|e| format!("cannot download: {e}"))
}

/// Unpacks a .tar.gz into memory: regular files and folders only; a symlink,
/// hard link, device, absolute path or `..` is refused, never written.
fn untar(gz: &[u8]) -> Result<Tree, String> {
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(gz));
    let mut tree = Tree::default();
    for entry in ar.entries().map_err(|e| format!("not a .tar.gz: {e}"))? {
        let mut entry = entry.map_err(|e| format!("not a .tar.gz: {e}"))?;
        let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        match entry.header().entry_type() {
            tar::EntryType::Directory => {
                super::tree::check_relative(&path)?;
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let mut bytes = Vec::new();
                (&mut entry)
                    .take(MAX_PACK_BYTES + 1)
                    .read_to_end(&mut bytes)
                    .map_err(|e| format!("`{path}`: {e}"))?;
                tree.add(&path, bytes)?;
            }
            other => {
                return Err(format!(
                    "`{path}` is a {other:?} entry; a pack archive may hold only regular files and folders"
                ))
            }
        }
    }
    if !tree.files.contains_key("pack.toml") {
        if let Some(top) = tree.single_top() {
            return Ok(tree.strip_prefix(&top));
        }
    }
    Ok(tree)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_gz(build: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        build(&mut b);
        let raw = b.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &raw).unwrap();
        gz.finish().unwrap()
    }

    fn header(path: &str, kind: tar::EntryType, size: u64) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        // set_path refuses `..`; write the raw name the way a hostile archiver would.
        let name = &mut h.as_old_mut().name;
        name[..path.len()].copy_from_slice(path.as_bytes());
        h.set_entry_type(kind);
        h.set_size(size);
        h.set_mode(0o644);
        h.set_cksum();
        h
    }

    #[test]
    fn strips_a_single_top_folder() {
        let gz = tar_gz(|b| {
            b.append(
                &header("acme-1.0/pack.toml", tar::EntryType::Regular, 2),
                &b"x\n"[..],
            )
            .unwrap();
        });
        let t = untar(&gz).unwrap();
        assert!(t.files.contains_key("pack.toml"), "{:?}", t.files.keys());
    }

    #[test]
    fn refuses_dotdot_absolute_and_links() {
        for (path, kind) in [
            ("../escape", tar::EntryType::Regular),
            ("/tmp/abs", tar::EntryType::Regular),
            ("a/../../escape", tar::EntryType::Regular),
            ("link", tar::EntryType::Symlink),
            ("hard", tar::EntryType::Link),
            ("dev", tar::EntryType::Char),
        ] {
            let size = if kind == tar::EntryType::Regular {
                1
            } else {
                0
            };
            let gz = tar_gz(|b| {
                let mut h = header(path, kind, size);
                if kind.is_symlink() || kind.is_hard_link() {
                    h.set_link_name("/etc/passwd").unwrap();
                    h.set_cksum();
                }
                b.append(&h, &b"x"[..size as usize]).unwrap();
            });
            let err = untar(&gz).unwrap_err();
            assert!(
                err.contains("refused") || err.contains("may hold only"),
                "{path}: {err}"
            );
        }
    }
}
