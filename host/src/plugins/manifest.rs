//! plugin.toml: what a plugin is (name, kind, component, digest) and what it
//! requests (programs, workspace access, time and memory).

use super::{parse_duration, parse_size, PluginError};
use crate::confine::{Limits, Network, NetworkSetting};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Gate,
    Reviewer,
    Formatter,
    Implementer,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Gate => "gate",
            Kind::Reviewer => "reviewer",
            Kind::Formatter => "formatter",
            Kind::Implementer => "implementer",
        }
    }
    /// The WIT world this kind of plugin must implement.
    pub fn world(self) -> &'static str {
        self.as_str()
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WorkspaceAccess {
    ReadOnly,
    None,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequests {
    #[serde(default)]
    commands: Vec<String>,
    #[serde(default)]
    workspace: Option<String>,
    #[serde(default)]
    timeout: Option<String>,
    #[serde(default)]
    memory: Option<String>,
    #[serde(default)]
    network: Option<NetworkSetting>,
    #[serde(default)]
    writes: Vec<String>,
    #[serde(default, rename = "workspace-writes")]
    workspace_writes: Option<String>,
    #[serde(default)]
    env: Vec<String>,
    #[serde(default)]
    limits: Option<LimitsTable>,
}

/// `[requests.limits]` of a manifest, or `[policy.limits]` (the maximum).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LimitsTable {
    /// Private writable memory of each process, RLIMIT_DATA ("4GiB").
    pub memory: Option<String>,
    /// Address space of each process, RLIMIT_AS ("64GiB" or "unlimited", the default).
    pub address_space: Option<String>,
    pub processes: Option<u64>,
    /// CPU time of each process ("10m").
    pub cpu: Option<String>,
    /// Largest file a program may write ("1GiB").
    pub file_size: Option<String>,
    /// Scratch and tmp together ("2GiB").
    pub disk: Option<String>,
}

impl LimitsTable {
    /// The limits this table sets over `base`; `what` names the table in errors.
    pub fn apply(&self, base: Limits, what: &str) -> Result<Limits, String> {
        let size = |v: &Option<String>, key: &str, d: u64| match v {
            Some(t) => parse_size(t).map_err(|e| format!("field `{what}.{key}`: {e}")),
            None => Ok(d),
        };
        let cpu = match &self.cpu {
            Some(t) => parse_duration(t)
                .map_err(|e| format!("field `{what}.cpu`: {e}"))?
                .as_secs()
                .max(1),
            None => base.cpu_seconds,
        };
        Ok(Limits {
            memory: size(&self.memory, "memory", base.memory)?,
            address_space: match self.address_space.as_deref().map(str::trim) {
                Some("unlimited") => u64::MAX,
                _ => size(&self.address_space, "address-space", base.address_space)?,
            },
            file_size: size(&self.file_size, "file-size", base.file_size)?,
            processes: self.processes.unwrap_or(base.processes),
            cpu_seconds: cpu,
            disk: size(&self.disk, "disk", base.disk)?,
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    name: String,
    kind: Kind,
    #[serde(default = "default_version")]
    version: String,
    #[serde(default)]
    description: String,
    component: String,
    #[serde(default)]
    sha256: Option<String>,
    #[serde(default)]
    requests: Option<RawRequests>,
    #[serde(default)]
    config: Option<RawConfig>,
}

/// `[config]`: the settings keys the plugin reads from its table in planexec.toml.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    keys: Vec<String>,
}

fn default_version() -> String {
    "0.0.0".into()
}

/// What a plugin asks for. It gets the intersection with what the policy grants.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Requests {
    /// Programs it may ask the host to run; `*` means "whatever the policy grants".
    pub commands: Vec<String>,
    pub workspace: WorkspaceAccess,
    /// CPU deadline for one call (time spent inside the plugin, not in commands it runs).
    #[serde(with = "humantime_serde_secs")]
    pub timeout: Duration,
    /// Memory cap of the instance, bytes.
    pub memory: u64,
    /// Network for the programs it runs (it gets at most what the policy gives).
    pub network: Network,
    /// The hosts of a named network (`network = { allow = [...] }`).
    pub allow: Vec<crate::proxy::Rule>,
    /// Workspace paths its programs write (relative; "." is the whole workspace but `.git`).
    pub writes: Vec<String>,
    /// `workspace-writes = "discard"`: its programs see a copy-on-write workspace;
    /// what they write there (test caches, a test's output files) vanishes after them.
    #[serde(default)]
    pub discard_writes: bool,
    /// Variables it may set in `command.env` (if the policy grants them).
    pub env: Vec<String>,
    /// Limits of the programs it runs (within the policy's maximum).
    pub limits: Limits,
}

mod humantime_serde_secs {
    pub fn serialize<S: serde::Serializer>(
        d: &std::time::Duration,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }
}

/// A validated plugin.toml.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Manifest {
    pub name: String,
    pub kind: Kind,
    pub version: String,
    pub description: String,
    pub component: String,
    pub sha256: Option<String>,
    pub requests: Requests,
    /// `[config] keys`: every key its settings table may have; `None` when the
    /// manifest does not say (then pre-flight cannot check the table).
    pub config_keys: Option<Vec<String>>,
}

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);
pub const DEFAULT_MEMORY: u64 = 256 << 20;
/// Nothing may ask for more than this, whatever its manifest says.
pub const MAX_MEMORY: u64 = 4 << 30;

impl Manifest {
    /// Parses and validates manifest text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Manifest, PluginError> {
        let err = |message: String| PluginError::Manifest {
            path: path.to_path_buf(),
            message,
        };
        let raw: RawManifest =
            toml::from_str(text).map_err(|e| err(describe_toml_error(text, &e)))?;
        if raw.name.is_empty()
            || !raw
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(err(format!(
                "field `name`: `{}` must be non-empty and use only letters, digits, `-` and `_`",
                raw.name
            )));
        }
        if raw.component.contains("..") || raw.component.contains('/') || raw.component.is_empty() {
            return Err(err(format!(
                "field `component`: `{}` must be a file name beside plugin.toml",
                raw.component
            )));
        }
        for (field, v) in [("version", &raw.version), ("description", &raw.description)] {
            if v.chars().any(|c| c.is_control() && c != '\n') {
                return Err(err(format!(
                    "field `{field}`: contains control characters (such as ESC); remove them"
                )));
            }
        }
        if let Some(d) = &raw.sha256 {
            if d.len() != 64 || !d.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(err(format!("field `sha256`: `{d}` is not 64 hex digits")));
            }
        }
        let r = raw.requests.unwrap_or(RawRequests {
            commands: vec![],
            workspace: None,
            timeout: None,
            memory: None,
            network: None,
            writes: vec![],
            workspace_writes: None,
            env: vec![],
            limits: None,
        });
        let workspace = match r.workspace.as_deref() {
            None | Some("read-only") => WorkspaceAccess::ReadOnly,
            Some("none") => WorkspaceAccess::None,
            Some("read-write") => {
                return Err(err(
                    "field `requests.workspace`: plugins never get the workspace read-write; \
                     use \"read-only\" and change files through granted commands"
                        .into(),
                ))
            }
            Some(other) => {
                return Err(err(format!(
                    "field `requests.workspace`: `{other}` is not one of \"read-only\", \"none\""
                )))
            }
        };
        let discard_writes = match r.workspace_writes.as_deref() {
            None | Some("refuse") => false,
            Some("discard") if !r.writes.is_empty() => {
                return Err(err(
                    "field `requests.workspace-writes`: \"discard\" and `writes` exclude each other \
                     (granted writes must reach the workspace)"
                        .into(),
                ))
            }
            Some("discard") if workspace == WorkspaceAccess::None => {
                return Err(err(
                    "field `requests.workspace-writes`: \"discard\" needs `workspace = \"read-only\"`".into(),
                ))
            }
            Some("discard") => true,
            Some(other) => {
                return Err(err(format!(
                    "field `requests.workspace-writes`: `{other}` is not one of \"refuse\", \"discard\""
                )))
            }
        };
        let timeout = match &r.timeout {
            Some(t) => {
                parse_duration(t).map_err(|e| err(format!("field `requests.timeout`: {e}")))?
            }
            None => DEFAULT_TIMEOUT,
        };
        let memory = match &r.memory {
            Some(m) => parse_size(m).map_err(|e| err(format!("field `requests.memory`: {e}")))?,
            None => DEFAULT_MEMORY,
        };
        if memory > MAX_MEMORY {
            return Err(err(format!(
                "field `requests.memory`: {} is over the 4GiB limit",
                r.memory.unwrap()
            )));
        }
        for c in &r.commands {
            if c.trim().is_empty() || c.starts_with(char::is_whitespace) {
                return Err(err(format!(
                    "field `requests.commands`: `{c}` must be a program name, optionally followed by an argument shape (`python3 -m pytest *`)"
                )));
            }
        }
        for w in &r.writes {
            check_write_path(w).map_err(|m| err(format!("field `requests.writes`: {m}")))?;
        }
        for e in &r.env {
            if crate::confine::env::is_forbidden(e) {
                return Err(err(format!(
                    "field `requests.env`: `{e}` may never be set for a program a plugin runs"
                )));
            }
        }
        let (network, allow) = match &r.network {
            Some(n) => n
                .resolve()
                .map_err(|e| err(format!("field `requests.network`: {e}")))?,
            None => (Network::None, Vec::new()),
        };
        let limits = match &r.limits {
            Some(t) => t.apply(Limits::default(), "requests.limits").map_err(err)?,
            None => Limits::default(),
        };
        Ok(Manifest {
            name: raw.name,
            kind: raw.kind,
            version: raw.version,
            description: raw.description,
            component: raw.component,
            sha256: raw.sha256.map(|s| s.to_ascii_lowercase()),
            config_keys: raw.config.map(|c| c.keys),
            requests: Requests {
                commands: r.commands,
                workspace,
                timeout,
                memory,
                network,
                allow,
                writes: r.writes,
                discard_writes,
                env: r.env,
                limits,
            },
        })
    }
}

/// A writable workspace path: relative, inside the workspace, never `.git`.
pub fn check_write_path(w: &str) -> Result<(), String> {
    let p = Path::new(w.trim_end_matches('/'));
    if w.is_empty() || p.is_absolute() {
        return Err(format!("`{w}` must be a path relative to the workspace"));
    }
    for c in p.components() {
        match c {
            std::path::Component::Normal(n) if n == ".git" => {
                return Err(format!(
                    "`{w}`: `.git` is never writable by programs; commits are planexec's job"
                ))
            }
            std::path::Component::Normal(_) | std::path::Component::CurDir => {}
            _ => return Err(format!("`{w}` must stay inside the workspace (no `..`)")),
        }
    }
    Ok(())
}

/// Turns a toml error into "line N: ..." with the offending key.
pub fn describe_toml_error(text: &str, e: &toml::de::Error) -> String {
    let msg = e.message().trim().to_string();
    match e.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            let mut quoted = text.lines().nth(line - 1).unwrap_or("").trim().to_string();
            crate::text::truncate(&mut quoted, 200);
            let quoted = crate::text::untrusted(&quoted).replace('\n', " ");
            format!("line {line}: {msg}\n  | {quoted}")
        }
        None => msg,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = r#"
name = "pytest"
kind = "gate"
version = "0.1.0"
component = "pytest.wasm"
[requests]
commands = ["python3"]
timeout = "2m"
memory = "64MiB"
"#;

    #[test]
    fn parses_a_manifest() {
        let m = Manifest::parse(OK, Path::new("p/plugin.toml")).unwrap();
        assert_eq!(m.kind, Kind::Gate);
        assert_eq!(m.requests.commands, ["python3"]);
        assert_eq!(m.requests.timeout, Duration::from_secs(120));
        assert_eq!(m.requests.memory, 64 << 20);
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let text = OK.replace("[requests]", "colour = \"red\"\n[requests]");
        let e = Manifest::parse(&text, Path::new("p/plugin.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("p/plugin.toml"), "{e}");
        assert!(e.contains("colour"), "{e}");
        assert!(e.contains("line 6"), "{e}");
    }

    #[test]
    fn refuses_read_write_workspace_and_bad_units() {
        let e = Manifest::parse(
            &OK.replace("timeout = \"2m\"", "workspace = \"read-write\""),
            Path::new("x"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("requests.workspace"), "{e}");
        let e = Manifest::parse(&OK.replace("64MiB", "lots"), Path::new("x"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("requests.memory"), "{e}");
    }
}
