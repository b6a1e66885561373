//! The gate result cache on disk: one JSON entry per key in a directory only the user can
//! write, with its sha256 beside it, bounded in size (oldest entries go first).

use planexec_record::GateRun;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The most the cache keeps; older entries are removed when a write goes over it.
const MAX_BYTES: u64 = 64 << 20;
/// The most one entry may be (a report is capped well below this).
const MAX_ENTRY: u64 = 8 << 20;

/// A stored result: the run it came from and when.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub key: String,
    /// RFC 3339 time the result was produced.
    pub at: String,
    pub run: GateRun,
}

pub struct ResultCache {
    dir: PathBuf,
}

/// Where results live: $PLANEXEC_RESULT_CACHE, else $XDG_CACHE_HOME/planexec/results,
/// else ~/.cache/planexec/results.
pub fn default_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("PLANEXEC_RESULT_CACHE").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("planexec").join("results"))
}

impl ResultCache {
    /// Opens (creating 0700) the cache at `dir`; Err says why it is not used.
    pub fn open(dir: PathBuf) -> Result<ResultCache, String> {
        crate::sandbox::cache::prepare(&dir)?;
        Ok(ResultCache { dir })
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.json"))
    }

    /// The stored entry for `key`, if there is one planexec wrote for exactly that key.
    pub fn get(&self, key: &str) -> Option<Entry> {
        let p = self.path(key);
        let data = crate::sandbox::cache::read_verified_max(&p, MAX_ENTRY).ok()??;
        let e: Entry = serde_json::from_slice(&data).ok()?;
        (e.key == key).then_some(e)
    }

    /// Stores `entry` (best effort), then trims the cache to its bound.
    pub fn put(&self, entry: &Entry) {
        let Ok(bytes) = serde_json::to_vec(entry) else {
            return;
        };
        if bytes.len() as u64 > MAX_ENTRY {
            return;
        }
        crate::sandbox::cache::store_verified(&self.dir, &self.path(&entry.key), &bytes);
        trim(&self.dir, MAX_BYTES);
    }
}

/// Removes the oldest entries (by mtime) until the directory holds at most `max` bytes.
fn trim(dir: &Path, max: u64) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut files: Vec<(std::time::SystemTime, u64, PathBuf)> = rd
        .flatten()
        .filter_map(|e| {
            let m = e.metadata().ok()?;
            let t = m.modified().ok()?;
            m.is_file().then(|| (t, m.len(), e.path()))
        })
        .collect();
    let mut total: u64 = files.iter().map(|f| f.1).sum();
    files.sort();
    for (_, len, path) in files {
        if total <= max {
            break;
        }
        let _ = std::fs::remove_file(&path);
        total = total.saturating_sub(len);
    }
}
