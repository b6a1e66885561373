//! A plugin's settings table in planexec.toml checked against the keys its
//! plugin.toml declares (`[config] keys`), so a typo stops pre-flight.

use super::{Kind, Registry};
use crate::config::Config;
use std::path::PathBuf;

/// A key no plugin of that table declares: where it is and what is allowed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "{}{}: [{section}] has no setting `{key}`: {kind} `{plugin}` accepts {}; fix or remove the key",
    .file.display(),
    .line.map(|n| format!(":{n}")).unwrap_or_default(),
    quoted(.allowed)
)]
pub struct UnknownSetting {
    pub file: PathBuf,
    pub line: Option<usize>,
    /// `gates.lint`, `reviewers.task-review`, ...
    pub section: String,
    pub key: String,
    pub kind: Kind,
    pub plugin: String,
    pub allowed: Vec<String>,
}

fn quoted(keys: &[String]) -> String {
    keys.iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks every settings table of `config` whose plugin is known and declares
/// its keys; returns how many tables were checked (of how many there are).
pub fn check_settings(
    config: &Config,
    registry: &Registry,
) -> Result<(usize, usize), UnknownSetting> {
    let tables = config.plugin_tables();
    let file = config
        .path
        .clone()
        .unwrap_or_else(|| PathBuf::from(crate::config::FILE_NAME));
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    let mut checked = 0;
    for t in &tables {
        // An unknown plugin fails when (and if) the run loads it.
        let Some(allowed) = registry
            .get(&t.plugin)
            .ok()
            .and_then(|p| p.manifest.config_keys.as_ref())
        else {
            continue;
        };
        checked += 1;
        if let Some(bad) = t.keys.iter().find(|k| !allowed.contains(k)) {
            return Err(UnknownSetting {
                file,
                line: key_line(&text, &t.section, bad),
                section: t.section.clone(),
                key: bad.clone(),
                kind: t.kind,
                plugin: t.plugin.clone(),
                allowed: allowed.clone(),
            });
        }
    }
    Ok((checked, tables.len()))
}

/// The 1-based line of `key = ...` under the `[section]` header, if written so.
pub(crate) fn key_line(text: &str, section: &str, key: &str) -> Option<usize> {
    let header = format!("[{section}]");
    let mut inside = false;
    for (n, l) in text.lines().enumerate() {
        let t = l.trim();
        if t.starts_with('[') {
            inside = t.replace(['"', ' '], "") == header;
            continue;
        }
        let k = t.split('=').next().unwrap_or("").trim().trim_matches('"');
        if inside && k == key {
            return Some(n + 1);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_line_finds_the_key_under_its_own_header_only() {
        let text = "[gates.a]\nargs = []\n[gates.\"b\"]\nargz = 1\nargs = 2\n";
        assert_eq!(key_line(text, "gates.b", "argz"), Some(4));
        assert_eq!(key_line(text, "gates.b", "args"), Some(5));
        assert_eq!(key_line(text, "gates.a", "argz"), None);
    }
}
