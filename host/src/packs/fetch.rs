//! Fetching a pack's files from its source into a [`Tree`]: a local folder,
//! a git commit (git.rs), or a downloaded .tar.gz (download.rs, then flate2 and tar).

use super::tree::{Tree, MAX_PACK_BYTES};
use super::{PackError, PackSource};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;
use std::time::Duration;

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
            let wait = timeout().map_err(bad)?;
            let (tree, commit) = super::git::tree_at(url, pin.unwrap_or(rev), wait).map_err(bad)?;
            Ok(Fetched {
                tree,
                resolved: Some(commit),
            })
        }
        PackSource::Archive { url } => {
            let bytes = super::download::get(url, timeout().map_err(bad)?).map_err(bad)?;
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

/// What the user can do when the server's certificate is not trusted.
pub const TRUST_HINT: &str =
    "if the server's certificate comes from a private certificate authority, \
point SSL_CERT_FILE at that authority's certificate (PEM) for this command, e.g. \
`export SSL_CERT_FILE=/path/to/ca.pem` (docs/packs.md, \"Private certificate authorities\")";

/// The message for a server that did not answer within `wait` (git sources and archives).
pub fn timed_out(url: &str, wait: Duration, detail: &str) -> String {
    format!(
        "the server did not answer within {} ({detail})\n  nothing was written; check that {url} is up, \
         or give a slow server longer with PLANEXEC_FETCH_TIMEOUT (e.g. `PLANEXEC_FETCH_TIMEOUT=5m`)",
        humantime::format_duration(wait)
    )
}

/// How long a fetch waits for the server: `PLANEXEC_FETCH_TIMEOUT` (e.g. `90s`), else a minute.
pub fn timeout() -> Result<Duration, String> {
    match std::env::var("PLANEXEC_FETCH_TIMEOUT") {
        Err(_) => Ok(Duration::from_secs(60)),
        Ok(v) => humantime::parse_duration(v.trim())
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| {
                format!("PLANEXEC_FETCH_TIMEOUT=`{v}` is not a duration\n  nothing was written; write e.g. `90s` or `5m`")
            }),
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
