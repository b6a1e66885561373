//! Packs: shared plugin folders declared by `[packs.NAME] source = ...`, pinned
//! in planexec.lock by digest, fetched once into the cache and verified on every run.

mod cache;
mod diff;
mod download;
mod fetch;
mod git;
mod lock;
mod packfile;
mod smart_http;
mod source;
mod tree;
mod untar;

pub use diff::capability_diff;
pub use lock::{Lock, LockError, LockedPack, LockedPlugin, LockedResources, LOCK_FILE};
pub use packfile::PackToml;
pub use source::PackSource;

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Everything that can stop a pack from being used.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    #[error("pack `{pack}` ({source_text}): {message}")]
    Fetch {
        pack: String,
        source_text: String,
        message: String,
    },
    #[error("pack `{pack}`: {message}")]
    Invalid { pack: String, message: String },
    #[error("pack `{pack}` is declared but not in planexec.lock\n  run `planexec packs update {pack}` to review what it may do and lock it")]
    NotLocked { pack: String },
    #[error("pack `{pack}`: the config says source `{declared}` but planexec.lock has `{locked}`\n  run `planexec packs update {pack}` to review the change and lock it")]
    SourceChanged {
        pack: String,
        declared: String,
        locked: String,
    },
    #[error("pack `{pack}`, plugin `{plugin}`: {what} has sha256 {actual}, but planexec.lock expects {expected}\n  nothing ran; if the change is intended, run `planexec packs update {pack}` to review what it may do and accept it")]
    Mismatch {
        pack: String,
        plugin: String,
        what: String,
        expected: String,
        actual: String,
    },
    #[error("planexec.lock has pack `{pack}`, which no config declares\n  run `planexec packs update` to drop it")]
    Stale { pack: String },
    #[error("no cache folder for packs: set PLANEXEC_PACKS_DIR, XDG_CACHE_HOME or HOME")]
    NoCache,
    #[error("{path}: cannot write the pack cache: {source}")]
    Cache {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Lock(#[from] LockError),
}

/// A pack as declared: `[packs.NAME] source = "..."`, paths made absolute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    pub name: String,
    /// The text as written (what the lock records).
    pub text: String,
    pub source: PackSource,
}

/// A pack ready to load: its cached folder and the plugins the lock pins.
#[derive(Debug, Clone)]
pub struct Ready {
    pub name: String,
    pub dir: PathBuf,
    pub plugins: Vec<LockedPlugin>,
}

/// A freshly resolved pack: pack.toml and the lock entry it would get.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub pack: PackToml,
    pub locked: LockedPack,
}

fn cache_root() -> Result<PathBuf, PackError> {
    cache::root().ok_or(PackError::NoCache)
}

/// Where a cache entry came from: the source without its rev, and the pin.
fn origin(source: &PackSource, pin: Option<&str>) -> String {
    let place = match source {
        PackSource::Path(p) => p.display().to_string(),
        PackSource::Git { url, .. } => format!("git+{url}"),
        PackSource::Archive { url } => url.clone(),
    };
    format!("{place} {}", pin.unwrap_or("-"))
}

/// Fetches `decl` at its declared rev (network), stores it in the cache and describes it.
pub fn resolve(decl: &Declared) -> Result<Resolved, PackError> {
    let f = fetch::fetch(&decl.name, &decl.source, None)?;
    let (pack, locked) =
        packfile::describe(&f.tree, &decl.text, f.resolved.clone()).map_err(|message| {
            PackError::Invalid {
                pack: decl.name.clone(),
                message,
            }
        })?;
    let root = cache_root()?;
    let from = origin(&decl.source, f.resolved.as_deref());
    cache::put(&root, &f.tree, &from).map_err(|source| PackError::Cache { path: root, source })?;
    Ok(Resolved { pack, locked })
}

/// The cached folder of a locked pack, fetching it at the locked commit or
/// archive digest when it is not cached yet.
fn cached(decl: &Declared, locked: &LockedPack) -> Result<PathBuf, PackError> {
    let root = cache_root()?;
    let pin = locked
        .commit
        .as_deref()
        .or(locked.archive_sha256.as_deref());
    let from = origin(&decl.source, pin);
    if let Some(d) = cache::get(&root, &locked.digest, &from) {
        return Ok(d);
    }
    let f = fetch::fetch(&decl.name, &decl.source, pin)?;
    if f.tree.digest() != locked.digest {
        return Err(PackError::Mismatch {
            pack: decl.name.clone(),
            plugin: "*".into(),
            what: format!("the fetched pack ({})", decl.text),
            expected: locked.digest.clone(),
            actual: f.tree.digest(),
        });
    }
    cache::put(&root, &f.tree, &from).map_err(|source| PackError::Cache { path: root, source })
}

/// Checks every declared pack against the lock and its cached files; the
/// packs to load. Stale lock entries are an error only when `strict`.
pub fn ready(declared: &[Declared], lock: &Lock, strict: bool) -> Result<Vec<Ready>, PackError> {
    if strict {
        if let Some(stale) = lock
            .packs
            .keys()
            .find(|k| !declared.iter().any(|d| &d.name == *k))
        {
            return Err(PackError::Stale {
                pack: stale.clone(),
            });
        }
    }
    let mut out = Vec::new();
    for decl in declared {
        let locked = lock
            .packs
            .get(&decl.name)
            .ok_or_else(|| PackError::NotLocked {
                pack: decl.name.clone(),
            })?;
        if locked.source != decl.text {
            return Err(PackError::SourceChanged {
                pack: decl.name.clone(),
                declared: decl.text.clone(),
                locked: locked.source.clone(),
            });
        }
        let dir = cached(decl, locked)?;
        for p in &locked.plugins {
            verify_plugin(&decl.name, &dir, p)?;
        }
        out.push(Ready {
            name: decl.name.clone(),
            dir,
            plugins: locked.plugins.clone(),
        });
    }
    Ok(out)
}

/// sha256 of a file inside `root` (regular file, bounded), or the error text.
pub fn file_digest(path: &Path, root: &Path) -> Result<String, String> {
    crate::input::read_bytes(path, root, crate::input::MAX_COMPONENT)
        .map(|b| hex::encode(Sha256::digest(&b)))
        .map_err(|e| e.to_string())
}

/// Compares a cached plugin's manifest and component with the lock.
fn verify_plugin(pack: &str, dir: &Path, p: &LockedPlugin) -> Result<(), PackError> {
    // A plugin folder is one name inside the pack; a lock edited to point elsewhere is refused.
    if p.path.contains('/') || tree::check_relative(&p.path).is_err() {
        return Err(PackError::Invalid {
            pack: pack.into(),
            message: format!(
                "planexec.lock: plugin `{}` has path `{}`, which is not a folder of the pack\n  restore the lock, or rewrite it with `planexec packs update {pack}`",
                p.name, p.path
            ),
        });
    }
    let pdir = dir.join(&p.path);
    let manifest_path = pdir.join("plugin.toml");
    let mismatch = |what: String, expected: &str, actual: String| PackError::Mismatch {
        pack: pack.into(),
        plugin: p.name.clone(),
        what,
        expected: expected.into(),
        actual,
    };
    let m = file_digest(&manifest_path, &pdir).unwrap_or_else(|e| format!("(unreadable: {e})"));
    if m != p.manifest {
        return Err(mismatch(
            format!("its manifest {}", manifest_path.display()),
            &p.manifest,
            m,
        ));
    }
    let text = std::fs::read_to_string(&manifest_path).unwrap_or_default();
    let manifest =
        crate::plugins::Manifest::parse(&text, &manifest_path).map_err(|e| PackError::Invalid {
            pack: pack.into(),
            message: e.to_string(),
        })?;
    let cpath = pdir.join(&manifest.component);
    let c = file_digest(&cpath, &pdir).unwrap_or_else(|e| format!("(unreadable: {e})"));
    if c != p.component {
        return Err(mismatch(
            format!("its component {}", cpath.display()),
            &p.component,
            c,
        ));
    }
    Ok(())
}

/// `[packs.NAME]` tables of one config (already merged), as declarations.
pub fn declared_in(t: &BTreeMap<String, String>, base: &Path) -> Result<Vec<Declared>, PackError> {
    t.iter()
        .map(|(name, text)| {
            let source = PackSource::parse(text, base).map_err(|message| PackError::Invalid {
                pack: name.clone(),
                message: format!("field `source`: {message}"),
            })?;
            Ok(Declared {
                name: name.clone(),
                text: text.clone(),
                source,
            })
        })
        .collect()
}

/// The packs a run in `workspace` uses, verified against its planexec.lock.
pub fn for_run(workspace: &Path, config: &crate::config::Config) -> Result<Vec<Ready>, PackError> {
    if config.packs.is_empty() {
        return Ok(Vec::new());
    }
    let declared = declared_in(&config.packs, workspace)?;
    let lock = Lock::read(workspace)?;
    ready(&declared, &lock, false)
}

/// The plugins of a run: the standard pack, the verified packs, then `dirs`.
pub fn registry(
    workspace: &Path,
    config: &crate::config::Config,
    dirs: &[PathBuf],
) -> Result<crate::plugins::Registry, String> {
    let packs = for_run(workspace, config).map_err(|e| e.to_string())?;
    let mut reg = crate::plugins::Registry::discover(&[]).map_err(|e| e.to_string())?;
    for p in &packs {
        reg.add_pack(p).map_err(|e| e.to_string())?;
    }
    for d in dirs {
        reg.add_dir(d).map_err(|e| e.to_string())?;
    }
    Ok(reg)
}
