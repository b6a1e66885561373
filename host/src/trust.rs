//! Trust of configuration: policy comes from the user's config, `--policy FILE`,
//! or a repository planexec.toml whose exact content (sha256) the user trusted.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The user's config file inside [`config_dir`].
pub const USER_CONFIG: &str = "config.toml";
/// The trust store inside [`config_dir`]: which planexec.toml contents are trusted.
pub const STORE: &str = "trusted.toml";

/// Sections a repository may set whatever its trust: they do not change what runs.
/// Everything else that names programs, arguments or plugin folders is dropped
/// from an untrusted planexec.toml (see [`strip_untrusted`]).
/// `packs` is here because a pack is code the repository asks to run (SECURITY.md).
const TRUSTED_ONLY_SECTIONS: [&str; 4] = ["policy", "plugins", "packs", "limits"];

/// Plugin settings that choose a program, its arguments or its working directory.
const EXEC_KEYS: [&str; 12] = [
    "command",
    "program",
    "args",
    "test_args",
    "package",
    "packages",
    "cwd",
    "env",
    "run",
    "instructions",
    "reply_from_file",
    "data_file",
];

fn is_exec_key(k: &str) -> bool {
    EXEC_KEYS.contains(&k)
        || k.ends_with("_args")
        || k.ends_with("_command")
        || k.ends_with("_program")
}

/// `$XDG_CONFIG_HOME/planexec`, else `~/.config/planexec`.
pub fn config_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("planexec"))
}

/// Where this invocation may take policy from.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// `--trust` or `PLANEXEC_TRUST=1`: trust the repository's planexec.toml as it is.
    pub trust_repo: bool,
    /// `--policy FILE`.
    pub policy_file: Option<PathBuf>,
    /// The user's config folder (None: no user config, no trust store).
    pub user_dir: Option<PathBuf>,
}

impl Sources {
    /// From the flags and the environment (PLANEXEC_TRUST, XDG_CONFIG_HOME, HOME).
    pub fn from_env(trust_flag: bool, policy_file: Option<PathBuf>) -> Sources {
        let env_trust = std::env::var("PLANEXEC_TRUST")
            .map(|v| matches!(v.trim(), "1" | "true" | "yes"))
            .unwrap_or(false);
        Sources {
            trust_repo: trust_flag || env_trust,
            policy_file,
            user_dir: config_dir(),
        }
    }
}

/// What trusting a planexec.toml covers: its text, and when it declares packs,
/// the planexec.lock beside it (as TOML comments, so the whole still parses as
/// the config): a changed lock pins other code, so it needs trusting again.
pub fn trusted_content(workspace: &Path, text: &str) -> String {
    let declares_packs = toml::from_str::<toml::Table>(text).ok().is_some_and(|t| {
        t.get("packs")
            .is_some_and(|p| p.as_table().is_some_and(|p| !p.is_empty()))
    });
    let lock = workspace.join(crate::packs::LOCK_FILE);
    let lock_text = declares_packs
        .then(|| crate::input::read_text(&lock, workspace, crate::input::MAX_TOML).ok())
        .flatten();
    match lock_text {
        None => text.to_string(),
        Some(l) => {
            let mut out = format!(
                "{text}\n# --- {} (covered by this trust)\n",
                crate::packs::LOCK_FILE
            );
            for line in l.lines() {
                out.push_str(&format!("# {line}\n"));
            }
            out
        }
    }
}

/// sha256 of a config's text, hex.
pub fn digest(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The trust store: `trusted.toml` (path -> sha256) plus a copy of each trusted
/// content under `trusted/<sha256>.toml`, to show what a change grants.
pub struct Store {
    dir: PathBuf,
}

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct StoreFile {
    #[serde(default)]
    repo: Vec<Entry>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Entry {
    config: PathBuf,
    sha256: String,
}

impl Store {
    pub fn new(dir: &Path) -> Store {
        Store {
            dir: dir.to_path_buf(),
        }
    }

    fn read(&self) -> StoreFile {
        let p = self.dir.join(STORE);
        crate::input::read_text(&p, &self.dir, crate::input::MAX_TOML)
            .ok()
            .and_then(|t| toml::from_str(&t).ok())
            .unwrap_or_default()
    }

    /// The sha256 trusted for the config at `path`, if any.
    pub fn trusted_sha(&self, path: &Path) -> Option<String> {
        let key = canonical(path);
        self.read()
            .repo
            .into_iter()
            .find(|e| e.config == key)
            .map(|e| e.sha256)
    }

    /// The content that was trusted as `sha`, if a copy was kept.
    pub fn trusted_text(&self, sha: &str) -> Option<String> {
        let p = self.dir.join("trusted").join(format!("{sha}.toml"));
        crate::input::read_text(&p, &self.dir, crate::input::MAX_TOML).ok()
    }

    /// Records `text` (read from `path`) as trusted, replacing an earlier entry.
    pub fn record(&self, path: &Path, text: &str) -> std::io::Result<String> {
        let sha = digest(text);
        let copies = self.dir.join("trusted");
        make_private_dir(&copies)?;
        planexec_vcs::atomic_write(copies.join(format!("{sha}.toml")), text.as_bytes())
            .map_err(std::io::Error::other)?;
        let key = canonical(path);
        let mut f = self.read();
        f.repo.retain(|e| e.config != key);
        f.repo.push(Entry {
            config: key,
            sha256: sha.clone(),
        });
        self.write(&f)?;
        Ok(sha)
    }

    /// Forgets `path`; true when it was trusted.
    pub fn revoke(&self, path: &Path) -> std::io::Result<bool> {
        let key = canonical(path);
        let mut f = self.read();
        let before = f.repo.len();
        f.repo.retain(|e| e.config != key);
        self.write(&f)?;
        Ok(f.repo.len() != before)
    }

    fn write(&self, f: &StoreFile) -> std::io::Result<()> {
        make_private_dir(&self.dir)?;
        let text = toml::to_string(f).map_err(std::io::Error::other)?;
        let text = format!("# Written by `planexec trust`: repository configs whose exact content you trusted.\n{text}");
        planexec_vcs::atomic_write(self.dir.join(STORE), text.as_bytes())
            .map_err(std::io::Error::other)
    }
}

fn make_private_dir(d: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(d)
}

fn canonical(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|_| p.to_path_buf())
}

/// Drops from an untrusted repository config everything that changes what
/// runs: `[policy]`, `[plugins]`, `[limits]`, a gate named like a standard
/// plugin mapped to another plugin (`[gates.black] plugin = "cargo-test"`
/// would run the repository's build scripts when the user asked for black),
/// and program / argument / cwd settings of every plugin table. An alias such
/// as `[gates.tests] plugin = "pytest"` stays.
/// Returns what was dropped, as `[section] key` strings.
pub fn strip_untrusted(t: &mut toml::Table) -> Vec<String> {
    let mut ignored = Vec::new();
    for s in TRUSTED_ONLY_SECTIONS {
        if let Some(toml::Value::Table(sec)) = t.remove(s) {
            ignored.extend(sec.keys().map(|k| format!("[{s}] {k}")));
        }
    }
    for section in ["gates", "reviewers", "implementers", "formatters"] {
        let Some(toml::Value::Table(sec)) = t.get_mut(section) else {
            continue;
        };
        for (name, v) in sec.iter_mut() {
            let toml::Value::Table(entry) = v else {
                continue;
            };
            let remap = section == "gates"
                && crate::plugins::is_standard_name(name)
                && entry
                    .get("plugin")
                    .is_some_and(|p| p.as_str() != Some(name.as_str()));
            let drop: Vec<String> = entry
                .keys()
                .filter(|k| is_exec_key(k) || (remap && *k == "plugin"))
                .cloned()
                .collect();
            for k in drop {
                entry.remove(&k);
                ignored.push(format!("[{section}.{name}] {k}"));
            }
            if let Some(toml::Value::Array(paths)) = entry.get_mut("paths") {
                let before = paths.len();
                paths.retain(|p| !p.as_str().is_some_and(|s| s.starts_with('-')));
                if paths.len() != before {
                    ignored.push(format!("[{section}.{name}] paths starting with `-`"));
                }
            }
        }
    }
    ignored
}

/// What a config grants or changes about what runs, one line per setting
/// (`[policy] grant = ["sh"]`); `planexec trust` shows these and their diff.
pub fn capabilities(t: &toml::Table) -> Vec<String> {
    let mut probe = t.clone();
    let mut lines = Vec::new();
    for s in TRUSTED_ONLY_SECTIONS {
        if let Some(toml::Value::Table(sec)) = t.get(s) {
            flatten(s, sec, &mut lines);
        }
    }
    for item in strip_untrusted(&mut probe) {
        if item.starts_with("[policy]")
            || item.starts_with("[plugins]")
            || item.starts_with("[limits]")
            || item.starts_with("[packs]")
        {
            continue;
        }
        lines.push(format!("{item} = {}", lookup(t, &item).unwrap_or_default()));
    }
    lines
}

fn flatten(prefix: &str, t: &toml::Table, out: &mut Vec<String>) {
    for (k, v) in t {
        let key = format!("{prefix}.{k}");
        match v {
            toml::Value::Table(sub) => flatten(&key, sub, out),
            v => out.push(format!("{key} = {v}")),
        }
    }
}

/// The value of `[section.name] key` in `t`, as TOML.
fn lookup(t: &toml::Table, item: &str) -> Option<String> {
    let (sec, key) = item.trim_start_matches('[').split_once("] ")?;
    let (section, name) = sec.split_once('.')?;
    let v = t.get(section)?.get(name)?.get(key)?;
    Some(v.to_string())
}

/// Deep-merges `from` into `into`: tables merge, arrays concatenate (no
/// duplicates), other values from `from` win.
pub fn merge(into: &mut toml::Table, from: toml::Table) {
    for (k, v) in from {
        match (into.get_mut(&k), v) {
            (Some(toml::Value::Table(a)), toml::Value::Table(b)) => merge(a, b),
            (Some(toml::Value::Array(a)), toml::Value::Array(b)) => {
                for x in b {
                    if !a.contains(&x) {
                        a.push(x);
                    }
                }
            }
            (_, v) => {
                into.insert(k, v);
            }
        }
    }
}

/// The lines of `new` not in `old` (`+ ...`) and of `old` not in `new` (`- ...`).
pub fn diff(old: &[String], new: &[String]) -> Vec<String> {
    let mut out: Vec<String> = new
        .iter()
        .filter(|l| !old.contains(l))
        .map(|l| format!("+ {l}"))
        .collect();
    out.extend(
        old.iter()
            .filter(|l| !new.contains(l))
            .map(|l| format!("- {l}")),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_what_changes_what_runs() {
        let mut t: toml::Table = toml::from_str(
            r#"
[policy]
grant = ["sh"]
[plugins]
dirs = ["evil"]
[gates.pytest]
plugin = "command"
command = "sh -c id"
threshold = 80
[gates.types]
plugin = "mypy"
paths = ["src", "--config-file=x"]
[run]
max_cycles = 2
"#,
        )
        .unwrap();
        let ignored = strip_untrusted(&mut t);
        assert!(
            ignored.contains(&"[policy] grant".to_string()),
            "{ignored:?}"
        );
        assert!(ignored.contains(&"[plugins] dirs".to_string()));
        assert!(ignored.contains(&"[gates.pytest] plugin".to_string()));
        assert!(ignored.contains(&"[gates.pytest] command".to_string()));
        // An alias to a standard plugin is no remap of a standard name.
        assert!(t["gates"]["pytest"].get("threshold").is_some());
        assert_eq!(t["gates"]["types"]["plugin"].as_str(), Some("mypy"));
        assert_eq!(t["gates"]["types"]["paths"].as_array().unwrap().len(), 1);
        assert!(t.get("policy").is_none() && t.get("run").is_some());
    }

    #[test]
    fn merge_concatenates_grants() {
        let mut a: toml::Table = toml::from_str("[policy]\ngrant=[\"git\"]").unwrap();
        let b: toml::Table = toml::from_str("[policy]\ngrant=[\"git\",\"go\"]").unwrap();
        merge(&mut a, b);
        assert_eq!(a["policy"]["grant"].as_array().unwrap().len(), 2);
    }
}
