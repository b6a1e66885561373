//! The on-disk cache of precompiled components, keyed by the component's
//! sha256 and the engine's compatibility hash, in a directory only the user can
//! write; each entry is checked against the digest recorded when it was written.
//! Standard plugins come first from the artifacts build.rs embedded, when they fit.

use super::engine_config::compatibility_digest;
use crate::plugins::std_pack::PRECOMPILED_FOR;
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
    /// A standard plugin deserialized from the artifact build.rs precompiled into the binary.
    Embedded,
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
    /// Whether the standard plugins' embedded artifacts were made for this engine.
    precompiled_fits: bool,
}

impl ComponentCache {
    /// Opens (creating with mode 0700) the cache dir. A dir that others can write
    /// or that another user owns disables the cache rather than trusting it.
    pub fn open(engine: &Engine, dir: Option<PathBuf>) -> ComponentCache {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        env!("CARGO_PKG_VERSION").hash(&mut h);
        let engine_key = format!("{:016x}", h.finish());
        let (dir, disabled_reason) = match dir.map(|d| (prepare(&d), d)) {
            None => (None, Some("no cache directory (HOME unset)".into())),
            Some((Ok(()), d)) => (Some(d), None),
            Some((Err(why), _)) => (None, Some(why)),
        };
        ComponentCache {
            dir,
            engine_key,
            disabled_reason,
            precompiled_fits: precompiled_fits(engine),
        }
    }

    /// Never uses the embedded artifacts (every standard plugin is compiled or cached).
    pub fn ignore_precompiled(&mut self) {
        self.precompiled_fits = false;
    }

    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    fn entry(&self, sha256: &str) -> Option<PathBuf> {
        self.dir
            .as_ref()
            .map(|d| d.join(format!("{sha256}-{}.cwasm", self.engine_key)))
    }

    /// A standard plugin's embedded artifact when it fits this engine, else the cache's
    /// entry, else a compilation (stored). The third value is a warning to report.
    pub fn load(
        &self,
        engine: &Engine,
        component: &ComponentBytes,
        sha256: &str,
    ) -> wasmtime::Result<(Component, Origin, Option<String>)> {
        let mut note = None;
        if let ComponentBytes::Embedded {
            precompiled: Some(artifact),
            ..
        } = component
        {
            if self.precompiled_fits {
                match embedded(engine, artifact) {
                    Ok(c) => return Ok((c, Origin::Embedded, None)),
                    Err(e) => note = Some(format!("the standard plugin's precompiled artifact did not load ({e}); compiled it")),
                }
            }
        }
        let (c, origin, warning) = self.load_or_compile(engine, component, sha256)?;
        Ok((c, origin, warning.or(note)))
    }

    /// Loads the component from the cache, or compiles it and stores the result.
    /// An entry is used only if it verifies (see [`read_verified`]); one that does
    /// not is recompiled and the third value says why, for the caller to report.
    fn load_or_compile(
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
            crate::lazy::compiling(sha256);
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
        crate::lazy::compiling(sha256);
        let compiled = engine.precompile_component(&bytes()?)?;
        let dir = self.dir.as_ref().expect("entry implies dir");
        store_verified(dir, &path, &compiled);
        // SAFETY: these bytes were produced by this engine a moment ago.
        let c = unsafe { Component::deserialize(engine, &compiled)? };
        Ok((c, Origin::Compiled, warning))
    }
}

/// Whether build.rs's artifacts were precompiled for an engine compatible with `engine`.
/// `PLANEXEC_TEST_FLIP_PRECOMPILED` (tests) makes the recorded digest another engine's:
/// it can only turn the artifacts off.
fn precompiled_fits(engine: &Engine) -> bool {
    let flipped = std::env::var_os("PLANEXEC_TEST_FLIP_PRECOMPILED").is_some();
    !PRECOMPILED_FOR.is_empty() && !flipped && PRECOMPILED_FOR == compatibility_digest(engine)
}

/// A standard plugin's artifact, precompiled at build time, inflated and deserialized.
fn embedded(engine: &Engine, deflated: &[u8]) -> wasmtime::Result<Component> {
    let bytes = crate::plugins::inflate(deflated)
        .map_err(|e| wasmtime::format_err!("it does not inflate: {e}"))?;
    // SAFETY: deserializing trusts the bytes to be wasmtime's own output, and these are:
    // build.rs precompiled them from this tree's plugins/ with the configuration this
    // engine is made from (engine_config.rs) and include_bytes!-ed them into this binary.
    // Only `ComponentBytes::Embedded`, built solely from STD_PACK, carries them: no file
    // read at run time (a plugin folder, a pack, the cache) reaches this call. The caller
    // checked they were made for an engine compatible with this one, and wasmtime checks
    // the artifact's header (version, target, flags) against the engine again.
    unsafe { Component::deserialize(engine, &bytes) }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::std_pack::STD_PACK;

    fn deflated(bytes: &[u8]) -> &'static [u8] {
        use std::io::Write as _;
        let mut z = flate2::write::DeflateEncoder::new(Vec::new(), Default::default());
        z.write_all(bytes).unwrap();
        Box::leak(z.finish().unwrap().into_boxed_slice())
    }

    #[test]
    fn an_embedded_artifact_that_does_not_deserialize_is_compiled_instead() {
        let engine = Engine::new(&super::super::engine_config::engine_config()).unwrap();
        let mut cache = ComponentCache::open(&engine, None);
        cache.precompiled_fits = true;
        let p = STD_PACK.iter().find(|p| p.dir == "command").unwrap();
        let component = ComponentBytes::Embedded {
            deflated: p.deflated,
            precompiled: Some(deflated(b"\x7fELF, but not wasmtime's")),
        };
        let (_, origin, warning) = cache.load(&engine, &component, p.sha256).unwrap();
        assert_eq!(origin, Origin::Compiled);
        assert!(warning.unwrap().contains("did not load"));
    }

    #[test]
    fn the_embedded_artifacts_fit_the_running_engine() {
        let engine = Engine::new(&super::super::engine_config::engine_config()).unwrap();
        if option_env!("PLANEXEC_PRECOMPILE") == Some("0") {
            return; // built without the artifacts, on purpose
        }
        let cache = ComponentCache::open(&engine, None);
        assert!(cache.precompiled_fits, "built for {PRECOMPILED_FOR:?}");
        for p in STD_PACK {
            let component = ComponentBytes::Embedded {
                deflated: p.deflated,
                precompiled: p.precompiled,
            };
            let (_, origin, _) = cache.load(&engine, &component, p.sha256).unwrap();
            assert_eq!(origin, Origin::Embedded, "{}", p.dir);
        }
    }
}
