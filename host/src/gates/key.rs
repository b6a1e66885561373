//! The result-cache key of one gate: everything its result can depend on (plugin, config,
//! grants, the programs it may run and their installed packages, environment, workspace).

use crate::config::GateConfig;
use crate::sandbox::Loaded;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Bump when what goes into a key changes meaning.
const KEY_VERSION: u32 = 1;

/// What a gate checks when it is not the work tree as it is: the repository it stands for
/// and the digest of the content (`gate run --staged`: the index).
#[derive(Debug, Clone)]
pub struct Checked {
    pub repo: PathBuf,
    pub content: String,
}

/// The key (sha256 hex) of running `loaded` as gate `cfg` in `workspace` (for one shard of
/// its tests, with the durations that assign them), or why this gate cannot be cached (the
/// workspace is not a git work tree).
/// `outputs` are workspace paths gates may write (`[policy] writes`): left out of the
/// workspace digest, since they are what gates produce, not what they check.
pub fn gate_key(
    loaded: &Loaded,
    cfg: &GateConfig,
    shard: Option<&crate::shard::GateShard>,
    workspace: &Path,
    outputs: &[String],
    checked: Option<&Checked>,
) -> Result<String, String> {
    let (content, real) = match checked {
        Some(c) => (format!("index:{}", c.content), c.repo.clone()),
        None => {
            let repo = planexec_vcs::Repo::discover(workspace)
                .map_err(|_| "not a git work tree, so its content has no digest".to_string())?;
            let content = repo
                .content_digest(outputs)
                .map_err(|e| format!("cannot digest the work tree: {e}"))?;
            let real = workspace
                .canonicalize()
                .unwrap_or_else(|_| workspace.to_path_buf());
            (content, real)
        }
    };
    let inputs = json!({
        "v": KEY_VERSION,
        "planexec": planexec_identity(),
        "plugin": loaded.sha256,
        "gate": cfg.name,
        "settings": cfg.settings,
        "flags": cfg.flags.to_json(),
        "shard": shard.map(|s| json!({
            "index": s.part.index,
            "count": s.part.count,
            "durations": s.durations,
        })),
        "grants": serde_json::to_value(&loaded.grants).unwrap_or(Value::Null),
        "programs": programs(loaded, &real),
        "env": environment(&loaded.grants.env_pass),
        "workspace": real.to_string_lossy(),
        "content": content,
    });
    Ok(hex::encode(Sha256::digest(inputs.to_string().as_bytes())))
}

/// planexec's version and its binary's size and mtime (a rebuilt host may box differently).
fn planexec_identity() -> Value {
    let exe = std::env::current_exe().ok();
    json!({
        "version": env!("CARGO_PKG_VERSION"),
        "exe": exe.as_deref().map(file_identity),
    })
}

/// Each program the gate may run, as it resolves on the box's search path, with what
/// it loads that is not in the workspace digest (site-packages, toolchains, node_modules).
fn programs(loaded: &Loaded, workspace: &Path) -> Value {
    let outside = std::env::temp_dir();
    let search = crate::sandbox::child::search_path(Some(workspace), &outside, &loaded.grants);
    let mut out = serde_json::Map::new();
    for name in &loaded.grants.programs {
        let found = crate::sandbox::exec::resolve_program(name, workspace, &search).ok();
        let v = match found {
            None => Value::Null,
            Some(p) => json!({
                "path": p.to_string_lossy(),
                "file": file_identity(&p),
                "loads": loads(name, &p, workspace),
            }),
        };
        out.insert(name.clone(), v);
    }
    Value::Object(out)
}

/// Canonical path, size, mtime and ctime (ns) of `p`, following symlinks.
fn file_identity(p: &Path) -> Value {
    let real = p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    match std::fs::metadata(&real) {
        Ok(m) => json!([
            real.to_string_lossy(),
            m.len(),
            m.mtime(),
            m.mtime_nsec(),
            m.ctime(),
            m.ctime_nsec()
        ]),
        Err(_) => Value::Null,
    }
}

/// Installed packages a program loads, as directory mtimes (an install or removal changes
/// the directory) and lock files: Python's site-packages beside the interpreter (and the
/// venv's), the project's `node_modules/.package-lock.json`, rustup's toolchains.
fn loads(name: &str, path: &Path, workspace: &Path) -> Value {
    let mut dirs: Vec<PathBuf> = Vec::new();
    if name.starts_with("python") {
        let real = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        for bin in [path, real.as_path()] {
            if let Some(prefix) = bin.parent().and_then(Path::parent) {
                dirs.extend(site_packages(prefix));
            }
        }
    }
    if matches!(name, "cargo" | "rustc" | "rustup") {
        let home = std::env::var_os("RUSTUP_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".rustup")));
        if let Some(h) = home {
            dirs.push(h.join("settings.toml"));
            if let Ok(rd) = std::fs::read_dir(h.join("toolchains")) {
                dirs.extend(rd.flatten().map(|e| e.path().join("bin/rustc")));
            }
        }
    }
    dirs.push(workspace.join("node_modules/.package-lock.json"));
    dirs.sort();
    dirs.dedup();
    Value::Array(
        dirs.iter()
            .map(|d| json!([d.to_string_lossy(), file_identity(d)]))
            .collect(),
    )
}

fn site_packages(prefix: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(prefix.join("lib")) else {
        return Vec::new();
    };
    rd.flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("python"))
        .map(|e| e.path().join("site-packages"))
        .collect()
}

/// The host environment a gate's programs can see: PATH, the variables the policy passes,
/// the toolchain selectors, and planexec's own settings (`PLANEXEC_*`).
fn environment(pass: &[String]) -> Value {
    let mut names: Vec<String> = [
        "PATH",
        "RUSTUP_TOOLCHAIN",
        "VIRTUAL_ENV",
        "GOROOT",
        "GOTOOLCHAIN",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain(pass.iter().cloned())
    .collect();
    names.extend(
        std::env::vars_os()
            .filter_map(|(k, _)| k.into_string().ok())
            .filter(|k| k.starts_with("PLANEXEC_")),
    );
    names.sort();
    names.dedup();
    let m: serde_json::Map<String, Value> = names
        .into_iter()
        .map(|n| {
            let v = std::env::var_os(&n).map(|v| Value::from(v.to_string_lossy().into_owned()));
            (n, v.unwrap_or(Value::Null))
        })
        .collect();
    Value::Object(m)
}
