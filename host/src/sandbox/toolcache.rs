//! The tools' own caches kept between runs (mypy's, go's, pytest's: `{cache}`),
//! one per workspace and gate under the user's cache dir, pruned so they stay bounded.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// A workspace's caches go once it has not been used for this long.
const MAX_IDLE: Duration = Duration::from_secs(30 * 24 * 3600);
/// The file in a workspace's cache folder that names the workspace (and whose
/// modification time says when it was last used).
const OWNER: &str = "workspace";
/// The file under the base whose modification time says when the last prune ran.
const PRUNED_AT: &str = ".pruned";
/// Pruning runs at most this often (it stats every workspace the cache has seen).
const PRUNE_EVERY: Duration = Duration::from_secs(24 * 3600);

/// `$PLANEXEC_TOOL_CACHE`, else `$XDG_CACHE_HOME/planexec/tools`, else `~/.cache/planexec/tools`.
pub fn base() -> PathBuf {
    std::env::var_os("PLANEXEC_TOOL_CACHE")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("planexec/tools"))
        })
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/planexec/tools"))
        })
        .unwrap_or_else(|| std::env::temp_dir().join("planexec-tools"))
}

fn workspace_dir(base: &Path, workspace: &Path) -> (PathBuf, PathBuf) {
    let real = workspace
        .canonicalize()
        .unwrap_or_else(|_| workspace.to_path_buf());
    let key = hex::encode(&Sha256::digest(real.to_string_lossy().as_bytes())[..8]);
    (base.join(key), real)
}

/// The folder of `workspace`'s caches under [`base`] (each plugin's is a folder in it).
pub fn workspace_folder(workspace: &Path) -> PathBuf {
    workspace_dir(&base(), workspace).0
}

/// Who a tool cache belongs to: the plugin's name (for people reading the folder), its
/// component's sha256 and where it came from. Two plugins share a cache only when all
/// three match, so a pack plugin named `pytest` never shares the standard one's.
pub fn plugin_key(name: &str, source: &str, component_sha256: &str) -> String {
    let mut h = Sha256::new();
    h.update(source.as_bytes());
    h.update([0]);
    h.update(component_sha256.as_bytes());
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{safe}-{}", hex::encode(&h.finalize()[..8]))
}

/// The persistent tool cache of the plugin `plugin` ([`plugin_key`]) for `workspace`,
/// keyed by workspace and plugin, and by gate for a gate (two gates of one plugin,
/// running at once, never share a tool's cache). Marks the workspace's folder as used,
/// and at most once a day ([`prune_daily`]) prunes the folders of workspaces that are
/// gone or long unused.
pub fn tool_cache_dir(workspace: &Path, plugin: &str, gate: Option<&str>) -> PathBuf {
    let base = base();
    static PRUNED: std::sync::Once = std::sync::Once::new();
    PRUNED.call_once(|| {
        prune_daily(&base, SystemTime::now());
    });
    let (ws_dir, real) = workspace_dir(&base, workspace);
    if std::fs::create_dir_all(&ws_dir).is_ok() {
        let _ = std::fs::write(ws_dir.join(OWNER), real.to_string_lossy().as_bytes());
    }
    let dir = ws_dir.join(plugin);
    match gate.filter(|g| *g != plugin) {
        Some(g) => dir.join(format!("gate-{}", hex::encode(g.as_bytes()))),
        None => dir,
    }
}

/// Runs [`prune`] unless the last one (the modification time of `base/.pruned`) was
/// less than a day before `now`; says whether it ran. The stamp is renewed first, so
/// processes started together do not all prune.
pub fn prune_daily(base: &Path, now: SystemTime) -> bool {
    let stamp = base.join(PRUNED_AT);
    let recent = std::fs::metadata(&stamp)
        .and_then(|m| m.modified())
        .is_ok_and(|at| now.duration_since(at).is_ok_and(|age| age < PRUNE_EVERY));
    if recent {
        return false;
    }
    if std::fs::create_dir_all(base).is_ok() {
        let _ = std::fs::write(&stamp, b"");
    }
    prune(base, MAX_IDLE, now);
    true
}

/// Removes each workspace folder under `base` whose workspace no longer exists,
/// that was last used more than `max_idle` before `now`, or that names no
/// workspace. Errors are ignored: a cache that cannot be pruned still works.
pub fn prune(base: &Path, max_idle: Duration, now: SystemTime) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for e in entries.flatten() {
        let dir = e.path();
        if e.file_name() == super::pycache::DIR {
            continue; // the shared bytecode prefix, refreshed by its own stamps
        }
        if !e.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let owner = dir.join(OWNER);
        let stale = match (std::fs::read_to_string(&owner), std::fs::metadata(&owner)) {
            (Ok(ws), Ok(meta)) => {
                let idle = meta
                    .modified()
                    .ok()
                    .and_then(|m| now.duration_since(m).ok())
                    .unwrap_or_default();
                !Path::new(&ws).is_dir() || idle > max_idle
            }
            _ => true,
        };
        if stale {
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugins_of_one_name_from_other_sources_or_components_have_other_keys() {
        let std = plugin_key("pytest", "standard", "aa");
        assert!(std.starts_with("pytest-"));
        assert_ne!(std, plugin_key("pytest", "pack:acme", "aa"));
        assert_ne!(std, plugin_key("pytest", "standard", "bb"));
        assert_eq!(std, plugin_key("pytest", "standard", "aa"));
        assert!(!plugin_key("../x", "d", "c").contains('/'));
    }

    #[test]
    fn each_gate_of_a_plugin_has_its_own_tool_cache_inside_the_plugins() {
        let ws = Path::new("/nonexistent/ws");
        let plugin = tool_cache_dir(ws, "pytest", None);
        assert_eq!(tool_cache_dir(ws, "pytest", Some("pytest")), plugin);
        let unit = tool_cache_dir(ws, "pytest", Some("unit"));
        let slow = tool_cache_dir(ws, "pytest", Some("../slow"));
        assert_ne!(unit, slow);
        assert!(unit.starts_with(&plugin) && slow.starts_with(&plugin));
        assert_eq!(
            slow.parent(),
            Some(plugin.as_path()),
            "a name never climbs out"
        );
        assert_ne!(
            tool_cache_dir(Path::new("/nonexistent/other"), "pytest", None),
            plugin
        );
    }

    #[test]
    fn pruning_runs_at_most_once_a_day() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().join("tools");
        let gone_ws = tmp.path().join("gone");
        std::fs::create_dir_all(&gone_ws).unwrap();
        let gone = used(&base, &gone_ws);
        std::fs::remove_dir_all(&gone_ws).unwrap();
        let now = SystemTime::now();
        assert!(prune_daily(&base, now), "no stamp yet: it prunes");
        assert!(!gone.exists(), "and drops the gone workspace's cache");

        let gone = used(&base, &gone_ws);
        let later = now + Duration::from_secs(23 * 3600);
        assert!(!prune_daily(&base, later), "23 hours on: no prune");
        assert!(gone.exists(), "nothing was stat'ed or removed");

        let next_day = now + Duration::from_secs(25 * 3600);
        assert!(prune_daily(&base, next_day), "25 hours on: it prunes again");
        assert!(!gone.exists());
    }

    fn used(base: &Path, ws: &Path) -> PathBuf {
        let (dir, real) = workspace_dir(base, ws);
        std::fs::create_dir_all(dir.join("mypy")).unwrap();
        std::fs::write(dir.join("mypy/cache.db"), "x").unwrap();
        std::fs::write(dir.join(OWNER), real.to_string_lossy().as_bytes()).unwrap();
        dir
    }

    #[test]
    fn prune_drops_gone_idle_and_ownerless_workspaces_and_keeps_live_ones() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().join("tools");
        let live_ws = tmp.path().join("live");
        let gone_ws = tmp.path().join("gone");
        let idle_ws = tmp.path().join("idle");
        for w in [&live_ws, &gone_ws, &idle_ws] {
            std::fs::create_dir_all(w).unwrap();
        }
        let live = used(&base, &live_ws);
        let gone = used(&base, &gone_ws);
        let idle = used(&base, &idle_ws);
        std::fs::remove_dir_all(&gone_ws).unwrap();
        let old = SystemTime::now() - Duration::from_secs(40 * 24 * 3600);
        std::fs::File::options()
            .write(true)
            .open(idle.join(OWNER))
            .unwrap()
            .set_modified(old)
            .unwrap();
        let ownerless = base.join("0123456789abcdef");
        std::fs::create_dir_all(ownerless.join("go")).unwrap();
        prune(&base, MAX_IDLE, SystemTime::now());
        assert!(
            live.join("mypy/cache.db").is_file(),
            "a live workspace keeps its cache"
        );
        assert!(!gone.exists(), "a deleted workspace's cache goes");
        assert!(
            !idle.exists(),
            "a workspace unused for 40 days loses its cache"
        );
        assert!(!ownerless.exists());
    }
}
