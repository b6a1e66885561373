//! The on-disk cache of precompiled components, keyed by the component's
//! sha256 and the engine's compatibility hash, in a directory only the user can write.

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
    pub fn load(
        &self,
        engine: &Engine,
        bytes: &[u8],
        sha256: &str,
    ) -> wasmtime::Result<(Component, Origin)> {
        if let Some(path) = self.entry(sha256) {
            if path.is_file() {
                // SAFETY: the file is in a directory only this user can write, named by
                // the digest of the component it was compiled from and by the engine's
                // compatibility hash; wasmtime also checks its header and version.
                if let Ok(c) = unsafe { Component::deserialize_file(engine, &path) } {
                    return Ok((c, Origin::Cache));
                }
                let _ = std::fs::remove_file(&path);
            }
            let compiled = engine.precompile_component(bytes)?;
            let dir = self.dir.as_ref().unwrap();
            if let Ok(mut tmp) = tempfile::NamedTempFile::new_in(dir) {
                use std::io::Write;
                if tmp.write_all(&compiled).is_ok() && tmp.as_file().sync_all().is_ok() {
                    let _ = tmp.persist(&path);
                }
            }
            // SAFETY: these bytes were produced by this engine a moment ago.
            let c = unsafe { Component::deserialize(engine, &compiled)? };
            return Ok((c, Origin::Compiled));
        }
        Ok((Component::new(engine, bytes)?, Origin::Compiled))
    }
}

fn prepare(dir: &Path) -> Result<(), String> {
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
