//! Turns one `exec` request of a plugin into a boxed process: grants and
//! argument shapes checked, placeholders substituted, environment and box built.

use super::exec::{self as native, ProcessSpec};
use crate::confine::{self, env::EnvSpec, BoxSpec, Confinement, Launch, SUPPORT};
use crate::plugins::Grants;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

/// Where one plugin instance's programs live.
pub struct Places<'a> {
    pub plugin: &'a str,
    pub grants: &'a Grants,
    /// None when the plugin has `workspace = "none"`.
    pub workspace: Option<&'a Path>,
    /// The real workspace (the box's working directory for workspace-less plugins is scratch).
    pub scratch: &'a Path,
    /// The plugin's persistent tool cache (`{cache}`).
    pub cache: &'a Path,
}

/// A command ready to run, with the directories to remove after it.
pub struct Ready {
    pub spec: ProcessSpec,
    pub boxed: Option<Launch>,
    pub tmp: Option<tempfile::TempDir>,
    /// The copy-on-write workspace's layers (what the program wrote): held, and
    /// so removed, with the program's run.
    #[allow(dead_code)]
    pub layers: Option<tempfile::TempDir>,
    /// What the box could not apply here (best-effort runs), for the log.
    pub weakened: Vec<String>,
    /// Write roots planexec created for this command; removed after it if still empty.
    pub created: Vec<PathBuf>,
    /// What the host did or could not do for this command (debug lines for the log).
    pub notes: Vec<String>,
    /// The proxy of a named network, running while the program runs.
    pub proxy: Option<crate::proxy::Proxy>,
}

impl Ready {
    /// Removes the write roots planexec created that the program left empty.
    pub fn clean_up(&self) {
        for p in &self.created {
            match std::fs::symlink_metadata(p) {
                Ok(m) if m.is_dir() => {
                    let _ = std::fs::remove_dir(p);
                }
                Ok(m) if m.is_file() && m.len() == 0 => {
                    let _ = std::fs::remove_file(p);
                }
                _ => {}
            }
        }
    }
}

impl Places<'_> {
    pub fn substitute(&self, arg: &str) -> Result<String, String> {
        if arg.contains("{workspace}") && self.workspace.is_none() {
            return Err(format!(
                "plugin `{}` has `workspace = \"none\"` and may not pass {{workspace}} to a program",
                self.plugin
            ));
        }
        let ws = self.workspace.map(|w| w.to_string_lossy().into_owned());
        Ok(arg
            .replace("{workspace}", ws.as_deref().unwrap_or(""))
            .replace("{scratch}", &self.scratch.to_string_lossy())
            .replace("{cache}", &self.cache.to_string_lossy()))
    }

    /// The project's own environment, searched before PATH: the workspace's
    /// `.venv/bin` or `venv/bin`, and `$VIRTUAL_ENV/bin` when the policy passes it.
    pub fn project_bins(&self) -> Vec<PathBuf> {
        project_bins(self.workspace, self.grants)
    }

    /// The working directory: inside the workspace, never through a symlink out of it.
    pub fn cwd(&self, cwd: Option<&str>) -> Result<PathBuf, String> {
        let Some(ws) = self.workspace else {
            return Ok(self.scratch.to_path_buf());
        };
        let Some(c) = cwd.filter(|c| !c.is_empty() && *c != ".") else {
            return Ok(ws.to_path_buf());
        };
        if Path::new(c)
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
        {
            return Err(format!(
                "cwd `{c}` must be a relative path inside the workspace"
            ));
        }
        inside(ws, &ws.join(c)).map_err(|e| format!("cwd `{c}`: {e}"))
    }

    /// A writable workspace path, refused if it leaves the workspace. When
    /// missing it is created: a directory if `rel` ends with `/`, else an empty file,
    /// beneath the workspace without following a symlink (a committed link is refused).
    fn write_root(
        &self,
        ws: &Path,
        rel: &str,
        created: &mut Vec<PathBuf>,
    ) -> Result<PathBuf, String> {
        let trimmed = Path::new(rel.trim_end_matches('/'));
        let dir = rel.ends_with('/') || rel == ".";
        let made =
            crate::rooted::create(ws, trimmed, dir).map_err(|e| format!("writes `{rel}`: {e}"))?;
        let p = ws.join(trimmed);
        if made {
            created.push(p.clone());
        }
        inside(ws, &p).map_err(|e| format!("writes `{rel}`: {e}"))
    }
}

/// `p` canonicalized, or an error if it resolves outside `root`.
fn inside(root: &Path, p: &Path) -> Result<PathBuf, String> {
    let root = root.canonicalize().map_err(|e| e.to_string())?;
    let real = p.canonicalize().map_err(|e| e.to_string())?;
    if !real.starts_with(&root) {
        return Err(format!(
            "resolves to {} outside the workspace (a symlink?)",
            real.display()
        ));
    }
    Ok(real)
}

/// One `exec` request of a plugin, before any check.
pub struct Request<'a> {
    pub program: &'a str,
    pub args: &'a [String],
    pub env: &'a [(String, String)],
    pub cwd: Option<&'a str>,
    pub timeout: Duration,
    pub stdout_file: Option<(PathBuf, PathBuf)>,
    /// (bytes of stdout/stderr kept in memory, bytes of a stdout file).
    pub caps: (usize, u64),
}

/// The whole request: grant and shape checks, substitution, env, box.
pub fn prepare(places: &Places, req: Request) -> Result<Ready, native::RunError> {
    let spec = resolve(places, req)?;
    let _ = std::fs::create_dir_all(places.cache);
    if places.grants.confinement == Confinement::Off {
        return Ok(Ready {
            spec,
            boxed: None,
            tmp: None,
            layers: None,
            weakened: vec!["unconfined (--unconfined or confinement = \"off\")".into()],
            created: vec![],
            notes: vec![],
            proxy: None,
        });
    }
    enclose(places, spec)
}

/// Checks grant and shape, finds the program, substitutes placeholders.
/// The spec's env holds only the plugin's own variables.
fn resolve(places: &Places, req: Request) -> Result<ProcessSpec, native::RunError> {
    let refused = native::RunError::NotGranted;
    places
        .grants
        .check_args(req.program, req.args)
        .map_err(refused)?;
    let cwd = places.cwd(req.cwd).map_err(native::RunError::Failed)?;
    let search = search_path(places.workspace, places.scratch, places.grants);
    let program = native::resolve_program(req.program, &cwd, &search)?;
    let args = req
        .args
        .iter()
        .map(|a| places.substitute(a))
        .collect::<Result<Vec<_>, _>>()
        .map_err(refused)?;
    let env = req
        .env
        .iter()
        .map(|(k, v)| Ok((k.clone(), places.substitute(v)?)))
        .collect::<Result<Vec<_>, String>>()
        .map_err(refused)?;
    Ok(ProcessSpec {
        program,
        args,
        env,
        clear_env: places.grants.confinement != Confinement::Off,
        cwd,
        timeout: req.timeout,
        stdout_file: req.stdout_file,
        capture_cap: req.caps.0,
        file_cap: req.caps.1,
        disk_watch: vec![],
        disk_growth: vec![],
        disk_cap: places.grants.limits.disk,
    })
}

/// Refuses a non-standard plugin's program when the box is incomplete and the
/// policy requires it; otherwise returns what is missing (for the log).
fn check_confinable(places: &Places, program: &Path) -> Result<Vec<String>, native::RunError> {
    let missing = SUPPORT.missing();
    if missing.is_empty()
        || places.grants.confinement != Confinement::Required
        || places.grants.standard
    {
        return Ok(missing);
    }
    Err(native::RunError::NotGranted(format!(
        "plugin `{}` may not run `{}`: this machine cannot confine it ({})\n  \
         run `planexec doctor` for details; to run it anyway set `[policy] confinement = \"best-effort\"`, \
         or pass --unconfined",
        places.plugin,
        program.display(),
        missing.join("; ")
    )))
}

/// Puts the project's environment first on the box's PATH, so the tools a
/// gate starts find the same interpreter.
fn prepend_project_bins(env: &mut [(String, String)], bins: &[PathBuf]) {
    if bins.is_empty() {
        return;
    }
    let joined: Vec<String> = bins
        .iter()
        .map(|b| b.to_string_lossy().into_owned())
        .collect();
    for (k, v) in env.iter_mut().filter(|(k, _)| k == "PATH") {
        let _ = k;
        *v = format!("{}:{v}", joined.join(":"));
    }
}

/// Builds the box's environment and directories and describes it for the helper.
fn enclose(places: &Places, mut spec: ProcessSpec) -> Result<Ready, native::RunError> {
    let failed = native::RunError::Failed;
    let weakened = check_confinable(places, &spec.program)?;
    let tmp = tempfile::Builder::new()
        .prefix("planexec-box-")
        .tempdir()
        .map_err(|e| failed(format!("cannot create the box's tmp: {e}")))?;
    // A fresh HOME per program: dotfiles a program leaves (an `.npmrc`, a user site
    // `.pth`, a `.gitconfig`) never configure the next one. Only `{cache}` persists.
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).map_err(|e| failed(format!("{}: {e}", home.display())))?;
    let mut created = Vec::new();
    let host_path = std::env::var("PATH").unwrap_or_default();
    let mut bx =
        box_spec(places, &spec.program, &host_path, tmp.path(), &mut created).map_err(failed)?;
    let mut pyc = bytecode_prefix(places, &spec.program, &bx);
    if let Some(p) = &pyc.prefix {
        bx.read_exec.push(p.clone());
        bx.read_only.push(p.clone());
    }
    let view = bytecode_view(&mut pyc, tmp.path(), places.workspace);
    let env_spec = EnvSpec {
        plugin: places.plugin,
        settable: &places.grants.env_set,
        standard: places.grants.standard,
        pass: &places.grants.env_pass,
        home: &home,
        tmp: tmp.path(),
        cache: places.cache,
        workspace: places.workspace.unwrap_or(places.scratch),
        pycache: view.as_deref(),
    };
    spec.env = confine::env::build(&env_spec, &spec.env, |k| std::env::var(k).ok())
        .map_err(|e| native::RunError::NotGranted(e.to_string()))?;
    prepend_project_bins(&mut spec.env, &places.project_bins());
    for s in &places.grants.secrets {
        // Never the value, under its name or any other the policy passes.
        spec.env.retain(|(k, v)| *k != s.name && *v != s.value);
        spec.env.push((s.name.clone(), s.placeholder.clone()));
    }
    let layers = copy_on_write(places).map_err(failed)?;
    bx.layers = layers.as_ref().map(|l| l.path().to_path_buf());
    let proxy = match bx.network {
        confine::Network::Named => {
            let p = crate::proxy::Proxy::start(
                places.grants.allow.clone(),
                places.grants.secrets.clone(),
                places.plugin,
            )
            .map_err(|e| failed(format!("cannot start the network proxy: {e}")))?;
            bx.proxy_socket = Some(p.socket().to_path_buf());
            set_proxy_env(&mut spec.env);
            if !places.grants.secrets.is_empty() {
                trust_proxy_ca(&mut spec.env, tmp.path()).map_err(failed)?;
            }
            Some(p)
        }
        _ => None,
    };
    spec.disk_watch = vec![places.scratch.to_path_buf(), tmp.path().to_path_buf()];
    spec.disk_watch.extend(bx.layers.clone());
    spec.disk_growth = vec![super::exec::Growth::from(places.cache, spec.disk_cap)];
    let boxed = bx
        .launch(&SUPPORT)
        .map_err(|e| failed(format!("cannot build the box: {e}")))?;
    Ok(Ready {
        spec,
        boxed: Some(boxed),
        tmp: Some(tmp),
        layers,
        weakened,
        created,
        notes: pyc.note.into_iter().collect(),
        proxy,
    })
}

/// The program's own view of the read-only prefix, in its tmp (`pycache/view.rs`): what
/// it writes there (`py_compile`) is its own and gone with it. None: an empty folder.
fn bytecode_view(
    pyc: &mut super::pycache::Outcome,
    tmp: &Path,
    ws: Option<&Path>,
) -> Option<PathBuf> {
    let (ro, ws) = (pyc.prefix.as_ref()?, ws?);
    let out = tmp.join("pycache");
    match super::pycache::view::build(ro, &out, ws) {
        Ok(()) => Some(out),
        Err(e) => {
            let _ = std::fs::remove_dir_all(&out);
            pyc.note = Some(format!(
                "python bytecode prefix not used: its view in the box's tmp: {e}"
            ));
            None
        }
    }
}

/// The read-only bytecode prefix for the box's Python, filled first when the program is a
/// Python program from a trusted interpreter (never for the filler's own runs).
fn bytecode_prefix(places: &Places, program: &Path, bx: &BoxSpec) -> super::pycache::Outcome {
    let (Some(ws), false) = (places.workspace, places.plugin == super::pycache::FILLER) else {
        return super::pycache::Outcome {
            prefix: None,
            note: None,
        };
    };
    let writable: Vec<PathBuf> = bx.write.iter().chain(&bx.write_noexec).cloned().collect();
    let ctx = super::pycache::Context {
        workspace: ws,
        writable: &writable,
        confinement: places.grants.confinement,
        limits: places.grants.limits,
    };
    let search = search_path(places.workspace, places.scratch, places.grants);
    super::pycache::for_program(&ctx, program, &search)
}

/// The layers of a copy-on-write workspace, when the plugin asked for one
/// (`workspace-writes = "discard"`) and the box can stack it; otherwise the
/// workspace stays read-only. Never with write grants: those writes must land.
fn copy_on_write(places: &Places) -> Result<Option<tempfile::TempDir>, String> {
    let Some(ws) = places.workspace else {
        return Ok(None);
    };
    let g = places.grants;
    if !g.discard_writes
        || !g.writes.is_empty()
        || !SUPPORT.user_namespaces
        || !confine::overlay_safe(ws)
    {
        return Ok(None);
    }
    let dir = tempfile::Builder::new()
        .prefix("planexec-layers-")
        .tempdir()
        .map_err(|e| format!("cannot create the workspace's layers: {e}"))?;
    for sub in ["upper", "work"] {
        std::fs::create_dir(dir.path().join(sub))
            .map_err(|e| format!("cannot create the workspace's layers: {e}"))?;
    }
    if !confine::overlay_safe(dir.path()) {
        return Ok(None);
    }
    Ok(Some(dir))
}

/// Where the system's certificate bundle may be (the box's trust store starts from it).
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
];

/// Makes the box trust the proxy's per-run CA (for the hosts a secret goes to):
/// a bundle of the system's roots plus the CA for OpenSSL, Python and curl, the
/// CA alone for Node (`NODE_EXTRA_CA_CERTS` adds to its own roots).
fn trust_proxy_ca(env: &mut Vec<(String, String)>, tmp: &Path) -> Result<(), String> {
    let ca = crate::proxy::tls::ca()
        .map_err(|e| format!("cannot make the proxy's certificate authority: {e}"))?
        .pem();
    let system = SYSTEM_BUNDLES
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_default();
    let (only, bundle) = (
        tmp.join("planexec-proxy-ca.pem"),
        tmp.join("planexec-ca-bundle.pem"),
    );
    std::fs::write(&only, &ca).map_err(|e| format!("{}: {e}", only.display()))?;
    std::fs::write(&bundle, format!("{system}\n{ca}"))
        .map_err(|e| format!("{}: {e}", bundle.display()))?;
    let (only, bundle) = (only.to_string_lossy(), bundle.to_string_lossy());
    for (k, v) in [
        ("SSL_CERT_FILE", &bundle),
        ("REQUESTS_CA_BUNDLE", &bundle),
        ("CURL_CA_BUNDLE", &bundle),
        ("GIT_SSL_CAINFO", &bundle),
        ("NODE_EXTRA_CA_CERTS", &only),
    ] {
        env.retain(|(n, _)| n != k);
        env.push((k.to_string(), v.to_string()));
    }
    Ok(())
}

/// The variables HTTP clients read to find a proxy (curl, Python, Go, Node 24+
/// with `NODE_USE_ENV_PROXY`), all pointing at the box's relay; nothing bypasses it.
/// `ALL_PROXY` names the relay's HTTP side too: Python's httpx (under the OpenAI and
/// Anthropic SDKs, LiteLLM, so aider and mini-swe-agent) refuses to start with a
/// `socks5h://` one unless `socksio` is installed. The relay still speaks SOCKS5.
fn set_proxy_env(env: &mut Vec<(String, String)>) {
    let http = format!("http://127.0.0.1:{}", crate::proxy::BOX_PORT);
    let vars = [
        ("HTTPS_PROXY", http.as_str()),
        ("HTTP_PROXY", &http),
        ("ALL_PROXY", &http),
        ("NO_PROXY", ""),
        ("NODE_USE_ENV_PROXY", "1"),
    ];
    for (k, v) in vars {
        for name in [k.to_string(), k.to_ascii_lowercase()] {
            env.retain(|(n, _)| *n != name);
            env.push((name, v.to_string()));
        }
    }
}

fn box_spec(
    places: &Places,
    program: &Path,
    path_var: &str,
    tmp: &Path,
    created: &mut Vec<PathBuf>,
) -> Result<BoxSpec, String> {
    let ws = places.workspace;
    let mut write = vec![tmp.to_path_buf(), places.cache.to_path_buf()];
    let mut read_only = Vec::new();
    let mut hidden = Vec::new();
    if let Some(ws) = ws {
        for w in &places.grants.writes {
            if Path::new(w).is_absolute() {
                // Only the trusted policy can name a directory outside the workspace.
                std::fs::create_dir_all(w).map_err(|e| format!("writes `{w}`: {e}"))?;
                write.push(PathBuf::from(w));
            } else {
                write.push(places.write_root(ws, w, created)?);
            }
        }
        let git = ws.join(".git");
        if git.exists() {
            read_only.push(git.clone());
        }
        // planexec's own state (run records, backups, other tasks' worktrees).
        if git.join("planexec").is_dir() {
            hidden.push(git.join("planexec"));
        }
    }
    let mut read_exec = confine::toolchain_roots(program, path_var, ws.unwrap_or(places.scratch));
    read_exec.extend(places.grants.read.iter().cloned());
    read_exec.extend(ws.map(linked_git_dirs).unwrap_or_default());
    Ok(BoxSpec {
        read_exec,
        workspace: ws.map(Path::to_path_buf),
        write,
        write_noexec: vec![places.scratch.to_path_buf()],
        read_only,
        hidden,
        layers: None,
        network: places.grants.network,
        proxy_socket: None,
        limits: places.grants.limits,
    })
}

/// A linked worktree (a parallel task's, engine/wave.rs) has a `.git` file
/// naming `<common>/worktrees/<name>`: git in the box may read that folder and
/// the repository's shared objects, refs and config, never the main work tree,
/// the run state under `planexec/` or another worktree. Anything not of that
/// shape grants nothing.
pub fn linked_git_dirs(ws: &Path) -> Vec<PathBuf> {
    let Ok(text) = std::fs::read_to_string(ws.join(".git")) else {
        return Vec::new(); // a folder (the main checkout) or none
    };
    let Some(dir) = text.trim().strip_prefix("gitdir:") else {
        return Vec::new();
    };
    let Ok(gitdir) = ws.join(dir.trim()).canonicalize() else {
        return Vec::new();
    };
    let Some(common) = gitdir
        .parent()
        .filter(|w| w.file_name().is_some_and(|n| n == "worktrees"))
        .and_then(Path::parent)
        .filter(|c| c.join("objects").is_dir())
        .map(Path::to_path_buf)
    else {
        return Vec::new();
    };
    let mut out = vec![gitdir];
    for part in [
        "objects",
        "refs",
        "packed-refs",
        "config",
        "HEAD",
        "info",
        "shallow",
    ] {
        out.push(common.join(part));
    }
    out
}

/// The project's own environment, searched before PATH: the workspace's
/// `.venv/bin` or `venv/bin`, and `$VIRTUAL_ENV/bin` when the policy passes it.
pub fn project_bins(workspace: Option<&Path>, grants: &Grants) -> Vec<PathBuf> {
    let mut bins: Vec<PathBuf> = Vec::new();
    if let Some(ws) = workspace {
        for d in [".venv/bin", "venv/bin"] {
            if let Ok(real) = inside(ws, &ws.join(d)) {
                bins.push(real);
            }
        }
    }
    if grants.env_pass.iter().any(|e| e == "VIRTUAL_ENV") {
        if let Some(v) = std::env::var_os("VIRTUAL_ENV").filter(|v| !v.is_empty()) {
            bins.push(PathBuf::from(v).join("bin"));
        }
    }
    bins
}

/// Where a program name is looked up: the project's bins, then the host PATH without
/// relative or workspace entries (`outside` stands in for the workspace when there is none).
pub fn search_path(workspace: Option<&Path>, outside: &Path, grants: &Grants) -> String {
    let host_path = std::env::var("PATH").unwrap_or_default();
    let clean = confine::env::clean_path(&host_path, workspace.unwrap_or(outside));
    std::env::join_paths(
        project_bins(workspace, grants)
            .iter()
            .chain(std::env::split_paths(&clean).collect::<Vec<_>>().iter()),
    )
    .map(|p| p.to_string_lossy().into_owned())
    .unwrap_or(clean)
}

#[cfg(test)]
mod tests {
    use super::linked_git_dirs;

    #[test]
    fn a_linked_worktree_may_read_its_git_dir_and_the_shared_objects_only() {
        let tmp = tempfile::tempdir().unwrap();
        let common = tmp.path().join("repo/.git");
        let gitdir = common.join("worktrees/run-T1");
        std::fs::create_dir_all(&gitdir).unwrap();
        std::fs::create_dir_all(common.join("objects")).unwrap();
        let ws = common.join("planexec/worktrees/run/T1");
        std::fs::create_dir_all(&ws).unwrap();
        std::fs::write(ws.join(".git"), format!("gitdir: {}\n", gitdir.display())).unwrap();
        let dirs = linked_git_dirs(&ws);
        let common = common.canonicalize().unwrap();
        assert_eq!(dirs[0], gitdir.canonicalize().unwrap());
        assert!(dirs.contains(&common.join("objects")) && dirs.contains(&common.join("refs")));
        for d in &dirs {
            assert!(!d.starts_with(common.join("planexec")), "{}", d.display());
            assert_ne!(d, &common, "never the whole git dir");
        }
        // A `.git` file naming any other folder grants nothing.
        std::fs::write(
            ws.join(".git"),
            format!("gitdir: {}\n", tmp.path().display()),
        )
        .unwrap();
        assert!(linked_git_dirs(&ws).is_empty());
        std::fs::create_dir_all(tmp.path().join("main/.git")).unwrap();
        assert!(
            linked_git_dirs(&tmp.path().join("main")).is_empty(),
            "a main checkout"
        );
    }
}
