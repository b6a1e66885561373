//! The box's Landlock ruleset: read and execute system and toolchain roots, read
//! the workspace, write only the box's own directories; TCP, signals and
//! abstract sockets scoped to the box.

use super::ns::Stacked;
use super::{BoxError, BoxSpec, Network, Support};
use landlock::{
    Access, AccessFs, AccessNet, BitFlags, CompatLevel, Compatible, PathBeneath, PathFd, Ruleset,
    RulesetAttr, RulesetCreated, RulesetCreatedAttr, Scope, ABI,
};
use std::path::{Component, Path, PathBuf};

/// System roots every boxed program may read and execute.
const SYSTEM_ROOTS: &[&str] = &[
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc",
];
/// Read-only pseudo filesystems (process and device information). `/proc` is
/// granted here only when the box cannot mount its own ([`allow_stacked`]).
const INFO_ROOTS: &[&str] = &["/proc", "/sys"];
const PROC: &str = "/proc";
/// Device files a program may open for reading and writing.
const DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
    "/dev/tty",
];

fn abi(support: &Support) -> ABI {
    ABI::from(support.landlock_abi)
}

/// Builds the ruleset for `spec`; missing optional paths are skipped.
pub fn ruleset(spec: &BoxSpec, support: &Support) -> Result<RulesetCreated, BoxError> {
    let abi = abi(support);
    let all = AccessFs::from_all(abi);
    let read = AccessFs::from_read(abi);
    let mut rs = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(all)?;
    if spec.network == Network::None && support.landlock_abi >= 4 {
        rs = rs.handle_access(AccessNet::BindTcp | AccessNet::ConnectTcp)?;
    }
    if support.landlock_abi >= 6 {
        rs = rs.scope(Scope::Signal | Scope::AbstractUnixSocket)?;
    }
    let mut rs = rs.create()?.no_new_privs(true);
    let info = AccessFs::ReadFile | AccessFs::ReadDir;
    let device = AccessFs::ReadFile | AccessFs::WriteFile | AccessFs::IoctlDev;
    let no_exec = all & !AccessFs::Execute;
    let mut rules: Vec<(PathBuf, BitFlags<AccessFs>)> = Vec::new();
    rules.extend(SYSTEM_ROOTS.iter().map(|p| (PathBuf::from(p), read)));
    rules.extend(spec.read_exec.iter().map(|p| (p.clone(), read)));
    let own_proc = support.user_namespaces;
    rules.extend(
        INFO_ROOTS
            .iter()
            .filter(|p| !(own_proc && **p == PROC))
            .map(|p| (PathBuf::from(p), info)),
    );
    rules.extend(DEVICES.iter().map(|p| (PathBuf::from(p), device)));
    rules.extend(spec.workspace.iter().map(|p| (p.clone(), read)));
    rules.extend(spec.write.iter().map(|p| (p.clone(), all)));
    rules.extend(spec.write_noexec.iter().map(|p| (p.clone(), no_exec)));
    for (path, access) in rules {
        let Ok(fd) = PathFd::new(&path) else {
            continue; // an optional root that does not exist here
        };
        let access = if path.is_dir() {
            access
        } else {
            access & AccessFs::from_file(abi)
        };
        rs = rs
            .add_rule(PathBeneath::new(fd, access))
            .map_err(|source| BoxError::Landlock { path, source })?;
    }
    Ok(rs)
}

/// Grants access to the mounts the box stacked over host paths, once mounted: a
/// rule on the host's `/proc` (or workspace, or `/dev/shm`) does not reach into a
/// mount stacked on it (Landlock skips hidden mount points), so each rule must
/// name the new mount. Called only after the mounts succeeded: nothing here ever
/// names a host folder.
pub fn allow_stacked(
    mut rs: RulesetCreated,
    stacked: &[(PathBuf, Stacked)],
    landlock_abi: i32,
) -> Result<RulesetCreated, BoxError> {
    let abi = ABI::from(landlock_abi);
    let no_dev = AccessFs::from_all(abi) & !(AccessFs::MakeChar | AccessFs::MakeBlock);
    for (path, kind) in stacked {
        let access = match kind {
            Stacked::Proc => AccessFs::ReadFile | AccessFs::ReadDir,
            Stacked::Workspace => no_dev,
            Stacked::Shm => no_dev & !AccessFs::Execute,
        };
        let fd = PathFd::new(path).map_err(|e| BoxError::Path(e.to_string()))?;
        rs = rs
            .add_rule(PathBeneath::new(fd, access))
            .map_err(|source| BoxError::Landlock {
                path: path.clone(),
                source,
            })?;
    }
    Ok(rs)
}

/// Read-and-execute roots of the toolchains a boxed program may use: the roots
/// of PATH entries (a directory under $HOME is widened to its top level, e.g.
/// `~/.pyenv`), the program's own root, and roots named by well-known
/// variables. Never `$HOME` itself, the workspace, or anything of cargo's home
/// but its binaries, registry and git checkouts (credentials stay out).
pub fn toolchain_roots(program: &Path, path_var: &str, workspace: &Path) -> Vec<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let mut roots: Vec<PathBuf> = Vec::new();
    let mut add = |p: PathBuf| {
        if let Some(r) = root_of(&p, home.as_deref(), workspace) {
            roots.extend(r);
        }
    };
    for dir in std::env::split_paths(path_var) {
        if dir.is_absolute() {
            add(dir);
        }
    }
    if let Ok(real) = program.canonicalize() {
        if let Some(parent) = real.parent() {
            add(parent.to_path_buf());
        }
    }
    let host = |k: &str| std::env::var(k).ok();
    for (_, v) in super::env::toolchain_homes(&host) {
        add(PathBuf::from(v));
    }
    for var in [
        "RUSTUP_HOME",
        "CARGO_HOME",
        "GOROOT",
        "GOPATH",
        "GOMODCACHE",
        "PYENV_ROOT",
        "VIRTUAL_ENV",
        "CONDA_PREFIX",
        "NVM_DIR",
        "VOLTA_HOME",
    ] {
        if let Some(v) = std::env::var_os(var).filter(|v| !v.is_empty()) {
            add(PathBuf::from(v));
        }
    }
    roots.sort();
    roots.dedup();
    roots
}

/// The root(s) to grant for one toolchain path, or None to grant nothing.
fn root_of(p: &Path, home: Option<&Path>, workspace: &Path) -> Option<Vec<PathBuf>> {
    let p = p.canonicalize().ok()?;
    let ws = workspace
        .canonicalize()
        .unwrap_or_else(|_| workspace.to_path_buf());
    if p.starts_with(&ws) || ws.starts_with(&p) || p == Path::new("/") {
        return None;
    }
    if SYSTEM_ROOTS.iter().any(|r| p.starts_with(r)) {
        return None; // already readable
    }
    if let Some(h) = home.and_then(|h| h.canonicalize().ok()) {
        if p == h {
            return None;
        }
        if let Ok(rest) = p.strip_prefix(&h) {
            let top = match rest.components().next() {
                Some(Component::Normal(c)) => h.join(c),
                _ => return None,
            };
            return Some(widen_home_root(&top));
        }
    }
    // /opt/tool/bin -> /opt/tool
    let root = match p.file_name().and_then(|n| n.to_str()) {
        Some("bin" | "sbin" | "shims") => p.parent().unwrap_or(&p).to_path_buf(),
        _ => p,
    };
    if root == Path::new("/") || root.parent() == Some(Path::new("/")) {
        return Some(vec![]); // never a whole top-level directory like /home or /tmp
    }
    Some(vec![root])
}

/// A top-level directory of $HOME, minus what must stay private (cargo's credentials).
fn widen_home_root(top: &Path) -> Vec<PathBuf> {
    let is_cargo_home = top.join("bin").join("cargo").exists() && top.join("registry").exists()
        || top.file_name().is_some_and(|n| n == ".cargo");
    if is_cargo_home {
        return ["bin", "registry", "git", "config.toml", "config"]
            .iter()
            .map(|s| top.join(s))
            .filter(|p| p.exists())
            .collect();
    }
    let private = [
        ".ssh", ".gnupg", ".aws", ".config", ".local", ".cache", ".docker", ".kube",
    ];
    if top
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| private.contains(&n))
    {
        return vec![];
    }
    vec![top.to_path_buf()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn home_roots_widen_to_their_top_level_but_never_private_dirs_or_cargo_credentials() {
        let home = tempfile::tempdir().unwrap();
        let h = home.path();
        for d in [
            ".pyenv/shims",
            ".cargo/bin",
            ".cargo/registry",
            ".ssh",
            ".local/bin",
        ] {
            std::fs::create_dir_all(h.join(d)).unwrap();
        }
        std::fs::write(h.join(".cargo/credentials.toml"), "token").unwrap();
        let ws = h.join("ws");
        std::fs::create_dir_all(&ws).unwrap();
        let h = h.canonicalize().unwrap();
        let root = |p: &str| root_of(&h.join(p), Some(&h), &ws).unwrap_or_default();
        assert_eq!(root(".pyenv/shims"), vec![h.join(".pyenv")]);
        let cargo = root(".cargo/bin");
        assert!(
            cargo.contains(&h.join(".cargo/bin")) && cargo.contains(&h.join(".cargo/registry"))
        );
        assert!(!cargo
            .iter()
            .any(|p| p == &h.join(".cargo") || p.ends_with("credentials.toml")));
        assert!(root(".ssh").is_empty());
        assert!(root(".local/bin").is_empty());
        assert!(root_of(&h, Some(&h), &ws).is_none(), "never HOME itself");
        assert!(root_of(&ws, Some(&h), &ws).is_none(), "never the workspace");
    }

    #[test]
    fn system_and_top_level_dirs_are_not_added() {
        let ws = tempfile::tempdir().unwrap();
        assert!(root_of(Path::new("/usr/local/bin"), None, ws.path()).is_none());
        assert!(root_of(Path::new("/tmp"), None, ws.path())
            .unwrap_or_default()
            .is_empty());
    }
}
