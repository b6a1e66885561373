//! The environment of a boxed program: cleared, then an allowlist (PATH without
//! relative or workspace entries, locale, a HOME and TMPDIR inside the box,
//! toolchain homes, names the policy passes through) and the variables a plugin
//! may set, never ones that make a program load or run other code.

use std::path::Path;

/// Variables no plugin may set, whatever the grant (`*` ends a prefix).
pub const FORBIDDEN_ENV: &[&str] = &[
    "LD_*",
    "GCONV_PATH",
    "LOCPATH",
    "HOSTALIASES",
    "MALLOC_*",
    "GLIBC_TUNABLES",
    "BASH_ENV",
    "ENV",
    "BASH_FUNC_*",
    "SHELLOPTS",
    "BASHOPTS",
    "PS4",
    "PROMPT_COMMAND",
    "IFS",
    "CDPATH",
    "ZDOTDIR",
    "PATH",
    "HOME",
    "TMPDIR",
    "PYTHON*",
    "PERL5*",
    "PERLLIB",
    "RUBYOPT",
    "RUBYLIB",
    "NODE_OPTIONS",
    "NODE_PATH",
    "NPM_CONFIG_*",
    "npm_config_*",
    "JAVA_TOOL_OPTIONS",
    "_JAVA_OPTIONS",
    "JDK_JAVA_OPTIONS",
    "GIT_*",
    "GOFLAGS",
    "GOTOOLCHAIN",
    "GOROOT",
    "CGO_*",
    "CARGO_*",
    "RUSTC*",
    "RUSTFLAGS",
    "RUSTDOCFLAGS",
    "RUSTUP_*",
    "CC",
    "CXX",
    "LESSOPEN",
    "PAGER",
    "EDITOR",
    "VISUAL",
];

/// Harmless variables a plugin may set without a policy grant.
const ALWAYS_SETTABLE: &[&str] = &[
    "NO_COLOR",
    "CLICOLOR",
    "FORCE_COLOR",
    "CARGO_TERM_COLOR",
    "TERM",
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONUNBUFFERED",
    "PYTHONHASHSEED",
    "PYTHONIOENCODING",
    "PYTHONUTF8",
];

/// Host variables every box gets when set (locale, terminal, time zone).
const PASS_ALWAYS: &[&str] = &["LANG", "LANGUAGE", "TERM", "TZ", "NO_COLOR"];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EnvError {
    #[error("variable `{0}` may never be set for a program a plugin runs (it makes programs load or run other code)")]
    Forbidden(String),
    #[error("variable `{name}` may not be set by plugin `{plugin}`: it may set only {settable} (what its plugin.toml `requests.env` declares{granted}); to pass the host's own `{name}`, list it in planexec.toml `[policy] env`, or for a key `[policy.secrets]`")]
    NotGranted {
        plugin: String,
        name: String,
        settable: String,
        granted: &'static str,
    },
}

fn matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

pub fn is_forbidden(name: &str) -> bool {
    FORBIDDEN_ENV.iter().any(|p| matches(p, name))
}

/// What a box's environment is built from.
pub struct EnvSpec<'a> {
    pub plugin: &'a str,
    /// Names from `requests.env` that the policy granted (or all, for standard plugins).
    pub settable: &'a [String],
    /// A standard plugin: what it declares needs no grant.
    pub standard: bool,
    /// Host variables the policy passes through.
    pub pass: &'a [String],
    pub home: &'a Path,
    pub tmp: &'a Path,
    pub cache: &'a Path,
    pub workspace: &'a Path,
    /// The read-only bytecode prefix (`sandbox/pycache`), or None for an empty one in tmp.
    pub pycache: Option<&'a Path>,
}

/// Checks a plugin's variables: forbidden ones and ungranted ones are errors.
pub fn check_plugin_env(spec: &EnvSpec, vars: &[(String, String)]) -> Result<(), EnvError> {
    for (k, _) in vars {
        if ALWAYS_SETTABLE.contains(&k.as_str()) {
            continue;
        }
        if is_forbidden(k) {
            return Err(EnvError::Forbidden(k.clone()));
        }
        if !spec.settable.iter().any(|s| matches(s, k)) {
            return Err(EnvError::NotGranted {
                plugin: spec.plugin.into(),
                name: k.clone(),
                settable: match spec.settable.is_empty() {
                    true => "nothing".into(),
                    false => spec.settable.join(", "),
                },
                granted: match spec.standard {
                    true => "",
                    false => " and the policy grants in `[policy] env`",
                },
            });
        }
    }
    Ok(())
}

/// Builds the full environment (host variables read through `host`).
pub fn build(
    spec: &EnvSpec,
    vars: &[(String, String)],
    host: impl Fn(&str) -> Option<String>,
) -> Result<Vec<(String, String)>, EnvError> {
    check_plugin_env(spec, vars)?;
    let mut env: Vec<(String, String)> = Vec::new();
    env.push((
        "PATH".into(),
        clean_path(&host("PATH").unwrap_or_default(), spec.workspace),
    ));
    for k in PASS_ALWAYS {
        if let Some(v) = host(k) {
            env.push((k.to_string(), v));
        }
    }
    for (k, v) in std::env::vars() {
        if k.starts_with("LC_") {
            env.push((k, v));
        }
    }
    let p = |p: &Path| p.to_string_lossy().into_owned();
    env.push(("HOME".into(), p(spec.home)));
    for k in ["TMPDIR", "TMP", "TEMP"] {
        env.push((k.into(), p(spec.tmp)));
    }
    env.push(("XDG_CACHE_HOME".into(), p(&spec.cache.join("xdg"))));
    env.push(("GOCACHE".into(), p(&spec.cache.join("go-build"))));
    env.push(("npm_config_cache".into(), p(&spec.cache.join("npm"))));
    env.extend(no_startup_code(spec.tmp, spec.pycache));
    for (k, v) in toolchain_homes(&host) {
        env.push((k, v));
    }
    for k in spec.pass {
        if let Some(v) = host(k) {
            env.push((k.clone(), v));
        }
    }
    for (k, v) in vars {
        env.retain(|(ek, _)| ek != k);
        env.push((k.clone(), v.clone()));
    }
    Ok(env)
}

/// Nothing a program left behind runs in the next one: Python ignores the user site
/// (its `.pth` files and `usercustomize`) and reads bytecode only from `pycache`, a
/// prefix the box may read and never write (else an empty folder in the box's own tmp),
/// where it writes none; Go ignores a `go env -w` file. HOME itself is fresh per program.
fn no_startup_code(tmp: &Path, pycache: Option<&Path>) -> Vec<(String, String)> {
    let pycache = pycache
        .map(Path::to_path_buf)
        .unwrap_or_else(|| tmp.join("pycache"))
        .to_string_lossy()
        .into_owned();
    [
        ("PYTHONNOUSERSITE", "1".to_string()),
        ("PYTHONDONTWRITEBYTECODE", "1".to_string()),
        ("PYTHONPYCACHEPREFIX", pycache),
        ("GOENV", "off".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// Toolchain homes the box needs because HOME moved: rustup's, cargo's, pyenv's, Go's.
pub fn toolchain_homes(host: &impl Fn(&str) -> Option<String>) -> Vec<(String, String)> {
    let home = host("HOME").unwrap_or_default();
    let mut out = Vec::new();
    for (var, default) in [
        ("RUSTUP_HOME", ".rustup"),
        ("CARGO_HOME", ".cargo"),
        ("PYENV_ROOT", ".pyenv"),
        // Go's module cache, read-only in the box (downloads need network anyway).
        ("GOPATH", "go"),
    ] {
        let v = host(var).filter(|v| !v.is_empty()).or_else(|| {
            let d = Path::new(&home).join(default);
            (!home.is_empty() && d.is_dir()).then(|| d.to_string_lossy().into_owned())
        });
        if let Some(v) = v {
            out.push((var.to_string(), v));
        }
    }
    if let Some(v) = host("PYENV_VERSION") {
        out.push(("PYENV_VERSION".into(), v));
    }
    out
}

/// PATH without empty or relative entries (`.`, `bin`) and without the workspace.
pub fn clean_path(path: &str, workspace: &Path) -> String {
    let ws = workspace
        .canonicalize()
        .unwrap_or_else(|_| workspace.to_path_buf());
    std::env::split_paths(path)
        .filter(|d| d.is_absolute())
        .filter(|d| {
            let c = d.canonicalize().unwrap_or_else(|_| d.clone());
            !c.starts_with(&ws)
        })
        .map(|d| d.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec<'a>(settable: &'a [String], pass: &'a [String]) -> EnvSpec<'a> {
        EnvSpec {
            plugin: "p",
            settable,
            standard: true,
            pass,
            home: Path::new("/box/home"),
            tmp: Path::new("/box/tmp"),
            cache: Path::new("/box/cache"),
            workspace: Path::new("/ws"),
            pycache: None,
        }
    }

    #[test]
    fn forbidden_names_are_refused_even_when_granted() {
        let all = vec!["*".to_string()];
        for name in [
            "LD_PRELOAD",
            "BASH_ENV",
            "PYTHONPATH",
            "NODE_OPTIONS",
            "GIT_CONFIG_COUNT",
        ] {
            let e = check_plugin_env(&spec(&all, &[]), &[(name.into(), "x".into())]).unwrap_err();
            assert_eq!(e, EnvError::Forbidden(name.into()));
        }
    }

    #[test]
    fn only_declared_and_granted_names_may_be_set() {
        let s = vec!["MY_FLAG".to_string()];
        assert!(check_plugin_env(&spec(&s, &[]), &[("MY_FLAG".into(), "1".into())]).is_ok());
        assert!(matches!(
            check_plugin_env(&spec(&s, &[]), &[("OTHER".into(), "1".into())]),
            Err(EnvError::NotGranted { .. })
        ));
    }

    /// Issue 28: the refusal says what the plugin may set, not to grant what is granted.
    #[test]
    fn a_refused_name_is_told_what_the_plugin_may_set() {
        let s = vec!["MY_FLAG".to_string(), "TOOL_*".to_string()];
        let e = check_plugin_env(&spec(&s, &[]), &[("BASE_URL".into(), "x".into())])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(
                "variable `BASE_URL` may not be set by plugin `p`: it may set only MY_FLAG, TOOL_*"
            ) && e.contains("`[policy] env`")
                && !e.contains("the policy grants"),
            "{e}"
        );
    }

    #[test]
    fn host_secrets_do_not_pass_unless_the_policy_names_them() {
        let host = |k: &str| match k {
            "PATH" => Some(".:/usr/bin:bin".to_string()),
            "GITHUB_TOKEN" => Some("secret".to_string()),
            "GOFLAGS" => Some("-mod=vendor".to_string()),
            _ => None,
        };
        let env = build(&spec(&[], &[]), &[], host).unwrap();
        assert!(!env.iter().any(|(k, _)| k == "GITHUB_TOKEN"));
        assert_eq!(env.iter().find(|(k, _)| k == "PATH").unwrap().1, "/usr/bin");
        let pass = vec!["GOFLAGS".to_string()];
        let env = build(&spec(&[], &pass), &[], host).unwrap();
        assert!(env
            .iter()
            .any(|(k, v)| k == "GOFLAGS" && v == "-mod=vendor"));
        assert!(env.iter().any(|(k, v)| k == "HOME" && v == "/box/home"));
    }

    #[test]
    fn python_and_go_load_no_startup_code_from_earlier_runs() {
        let env = build(&spec(&[], &[]), &[], |_| None).unwrap();
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("PYTHONNOUSERSITE"), Some("1"));
        assert_eq!(get("PYTHONPYCACHEPREFIX"), Some("/box/tmp/pycache"));
        assert_eq!(get("GOENV"), Some("off"));
        let prefix = Path::new("/cache/ws/pycache");
        let env = build(
            &EnvSpec {
                pycache: Some(prefix),
                ..spec(&[], &[])
            },
            &[],
            |_| None,
        )
        .unwrap();
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("PYTHONPYCACHEPREFIX"), Some("/cache/ws/pycache"));
        assert_eq!(get("PYTHONDONTWRITEBYTECODE"), Some("1"));
        let e = check_plugin_env(
            &spec(&["*".into()], &[]),
            &[("PYTHONNOUSERSITE".into(), "".into())],
        );
        assert!(e.is_err(), "a plugin cannot turn the user site back on");
    }
}
