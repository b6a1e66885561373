//! Fetching a pack's files from its source into a [`Tree`]: a local folder,
//! a git commit (git.rs), or a downloaded .tar.gz (download.rs, then untar.rs).

use super::tree::{Tree, MAX_PACK_BYTES};
use super::{PackError, PackSource};
use sha2::{Digest, Sha256};
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
            let tree = super::untar::untar(&bytes).map_err(bad)?;
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
