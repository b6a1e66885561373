//! The on-disk cache of precompiled components, keyed by the component's
//! sha256 and the engine's compatibility hash, in a directory only the user can
//! write; each entry is checked against the digest recorded when it was written.

use crate::plugins::ComponentBytes;
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use wasmtime::component::Component;
use wasmtime::Engine;

/// Where the cache lives: $PLANEXEC_CACHE_DIR, else $XDG_CACHE_HOME/planexec, else ~/.cache/planexec.
pub fn default_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("PLANEXEC_CACHE_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("planexec").join("components"))
}

/// How a component was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Deserialized from the on-disk cache.
    Cache,
    /// Compiled now (and stored, when the cache is usable).
    Compiled,
}

pub struct ComponentCache {
    dir: Option<PathBuf>,
    engine_key: String,
    /// Why the cache is off, when it is.
    pub disabled_reason: Option<String>,
}

impl ComponentCache {
    /// Opens (creating with mode 0700) the cache dir. A dir that others can write
    /// or that another user owns disables the cache rather than trusting it.
    pub fn open(engine: &Engine, dir: Option<PathBuf>) -> ComponentCache {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        env!("CARGO_PKG_VERSION").hash(&mut h);
        let engine_key = format!("{:016x}", h.finish());
        let Some(dir) = dir else {
            return ComponentCache {
                dir: None,
                engine_key,
                disabled_reason: Some("no cache directory (HOME unset)".into()),
            };
        };
        match prepare(&dir) {
            Ok(()) => ComponentCache {
                dir: Some(dir),
                engine_key,
                disabled_reason: None,
            },
            Err(why) => ComponentCache {
                dir: None,
                engine_key,
                disabled_reason: Some(why),
            },
        }
    }

    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    fn entry(&self, sha256: &str) -> Option<PathBuf> {
        self.dir
            .as_ref()
            .map(|d| d.join(format!("{sha256}-{}.cwasm", self.engine_key)))
    }

    /// Loads the component from the cache, or compiles it and stores the result.
    /// An entry is used only if it verifies (see [`read_verified`]); one that does
    /// not is recompiled and the third value says why, for the caller to report.
    pub fn load(
        &self,
        engine: &Engine,
        component: &ComponentBytes,
        sha256: &str,
    ) -> wasmtime::Result<(Component, Origin, Option<String>)> {
        let bytes = || {
            component
                .bytes()
                .map_err(|e| wasmtime::format_err!("the embedded component does not inflate: {e}"))
        };
        let Some(path) = self.entry(sha256) else {
            return Ok((Component::new(engine, &bytes()?)?, Origin::Compiled, None));
        };
        let why = match read_verified(&path) {
            Ok(None) => None,
            // SAFETY: these bytes are the ones planexec wrote for this digest and
            // engine (their sha256 matches the one it recorded beside them), in a
            // directory only this user can write; wasmtime also checks the header.
            Ok(Some(data)) => match unsafe { Component::deserialize(engine, &data) } {
                Ok(c) => return Ok((c, Origin::Cache, None)),
                Err(e) => Some(format!("it does not deserialize: {e}")),
            },
            Err(why) => Some(why),
        };
        let warning = why.map(|w| {
            format!(
                "component cache entry {} was not used ({w}); recompiled it",
                path.display()
            )
        });
        let _ = std::fs::remove_file(&path);
        let _ = std::fs::remove_file(digest_path(&path));
        let compiled = engine.precompile_component(&bytes()?)?;
        let dir = self.dir.as_ref().expect("entry implies dir");
        store_verified(dir, &path, &compiled);
        // SAFETY: these bytes were produced by this engine a moment ago.
        let c = unsafe { Component::deserialize(engine, &compiled)? };
        Ok((c, Origin::Compiled, warning))
    }
}

/// The entry's recorded sha256 lives beside it: `NAME.sha256`.
fn digest_path(entry: &Path) -> PathBuf {
    let mut p = entry.as_os_str().to_owned();
    p.push(".sha256");
    PathBuf::from(p)
}

/// Writes `bytes` to `dest` and their sha256 beside it (the digest first, so a reader never
/// trusts a half-written pair); true on success.
pub(crate) fn store_verified(dir: &Path, dest: &Path, bytes: &[u8]) -> bool {
    let digest = hex::encode(Sha256::digest(bytes));
    persist(dir, &digest_path(dest), digest.as_bytes()) && persist(dir, dest, bytes)
}

/// Writes `bytes` to `dest` through a private temp file in `dir`; true on success.
fn persist(dir: &Path, dest: &Path, bytes: &[u8]) -> bool {
    use std::io::Write;
    let Ok(mut tmp) = tempfile::NamedTempFile::new_in(dir) else {
        return false;
    };
    tmp.write_all(bytes).is_ok() && tmp.as_file().sync_all().is_ok() && tmp.persist(dest).is_ok()
}

/// The most a cache entry may be (a precompiled standard plugin is a few MiB).
const MAX_ENTRY: u64 = 512 << 20;

/// Opens `path` without following a symlink and checks it is a regular file
/// this user owns that no one else can write; reads at most `max` bytes.
fn read_private(path: &Path, max: u64) -> Result<Option<Vec<u8>>, String> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let f = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return Err("it is a symlink".into()),
        Err(e) => return Err(format!("cannot open it: {e}")),
    };
    let meta = f.metadata().map_err(|e| e.to_string())?;
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    if !meta.is_file() {
        return Err("it is not a regular file".into());
    }
    if meta.uid() != uid {
        return Err("it belongs to another user".into());
    }
    if meta.permissions().mode() & 0o022 != 0 {
        return Err("others can write it".into());
    }
    if meta.len() > max {
        return Err(format!("it is {} bytes, over {max}", meta.len()));
    }
    let mut data = Vec::with_capacity(meta.len() as usize);
    f.take(max + 1)
        .read_to_end(&mut data)
        .map_err(|e| e.to_string())?;
    Ok(Some(data))
}

/// The entry's bytes if it exists and its sha256 is the one planexec recorded
/// beside it when it wrote it; `Err` says why it is not trusted.
pub fn read_verified(path: &Path) -> Result<Option<Vec<u8>>, String> {
    read_verified_max(path, MAX_ENTRY)
}

/// [`read_verified`] of an entry of at most `max` bytes.
pub(crate) fn read_verified_max(path: &Path, max: u64) -> Result<Option<Vec<u8>>, String> {
    let Some(data) = read_private(path, max)? else {
        return Ok(None);
    };
    let recorded = read_private(&digest_path(path), 128)
        .map_err(|w| format!("its recorded digest: {w}"))?
        .ok_or_else(|| "no digest was recorded for it".to_string())?;
    let actual = hex::encode(Sha256::digest(&data));
    if recorded.trim_ascii() != actual.as_bytes() {
        return Err("its sha256 is not the one planexec recorded when it wrote it".into());
    }
    Ok(Some(data))
}

pub(crate) fn prepare(dir: &Path) -> Result<(), String> {
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let meta = std::fs::metadata(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    if meta.uid() != uid {
        return Err(format!(
            "{} belongs to another user; not trusting its contents",
            dir.display()
        ));
    }
    if meta.permissions().mode() & 0o022 != 0 {
        return Err(format!(
            "{} is writable by others; not trusting its contents (chmod 700 it)",
            dir.display()
        ));
    }
    Ok(())
}
