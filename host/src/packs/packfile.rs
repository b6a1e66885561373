//! A pack's own files read from a fetched [`Tree`]: pack.toml (name, version,
//! description, suggested policy) and each plugin folder turned into a lock entry.

use super::lock::{LockedPack, LockedPlugin, LockedResources};
use super::tree::Tree;
use crate::plugins::Manifest;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::path::Path;

/// pack.toml.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackToml {
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub description: String,
    /// A policy fragment the pack suggests; shown, never applied.
    #[serde(default)]
    pub policy: Option<toml::Table>,
}

/// Reads pack.toml and every `<folder>/plugin.toml` of `tree` into a lock entry.
pub fn describe(
    tree: &Tree,
    source: &str,
    resolved: Option<String>,
) -> Result<(PackToml, LockedPack), String> {
    let text = text_of(tree, "pack.toml")?;
    let pack: PackToml = toml::from_str(&text).map_err(|e| {
        format!(
            "pack.toml: {}",
            crate::plugins::manifest_error_line(&text, &e)
        )
    })?;
    check_pack_toml(&pack)?;
    let mut plugins = Vec::new();
    for (path, _) in tree
        .files
        .iter()
        .filter(|(p, _)| p.ends_with("/plugin.toml"))
    {
        let folder = path.trim_end_matches("/plugin.toml");
        if folder.contains('/') {
            continue;
        }
        plugins.push(plugin_entry(tree, folder)?);
    }
    if plugins.is_empty() {
        return Err("the pack has no plugin folders (each a folder with plugin.toml)".into());
    }
    let suggested_policy = match &pack.policy {
        Some(p) => {
            let mut t = toml::Table::new();
            t.insert("policy".into(), toml::Value::Table(p.clone()));
            toml::to_string(&t).unwrap_or_default()
        }
        None => String::new(),
    };
    let (commit, archive_sha256) = match source.starts_with("git+") {
        true => (resolved, None),
        false => (None, resolved),
    };
    let locked = LockedPack {
        source: source.into(),
        commit,
        archive_sha256,
        digest: tree.digest(),
        version: pack.version.clone(),
        suggested_policy,
        plugins,
    };
    Ok((pack, locked))
}

/// pack.toml's name is a plain name and its version and description hold no control
/// characters (an ESC would forge what the reviewer of `packs add` sees).
fn check_pack_toml(pack: &PackToml) -> Result<(), String> {
    let plain = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if pack.name.is_empty() || !pack.name.chars().all(plain) {
        return Err(format!(
            "pack.toml: field `name`: `{}` must be non-empty and use only letters, digits, `-` and `_`; ask the pack's author to fix it",
            crate::text::untrusted(&pack.name)
        ));
    }
    for (field, v) in [
        ("version", &pack.version),
        ("description", &pack.description),
    ] {
        if v.chars().any(|c| c.is_control() && c != '\n')
            || (field == "version" && v.contains('\n'))
        {
            return Err(format!(
                "pack.toml: field `{field}`: contains control characters (such as ESC or a line break); ask the pack's author to remove them"
            ));
        }
    }
    Ok(())
}

fn text_of(tree: &Tree, path: &str) -> Result<String, String> {
    let b = tree
        .files
        .get(path)
        .ok_or_else(|| format!("{path} is missing"))?;
    String::from_utf8(b.clone()).map_err(|_| format!("{path} is not UTF-8"))
}

fn plugin_entry(tree: &Tree, folder: &str) -> Result<LockedPlugin, String> {
    let mpath = format!("{folder}/plugin.toml");
    let text = text_of(tree, &mpath)?;
    let m = Manifest::parse(&text, Path::new(&mpath)).map_err(|e| e.to_string())?;
    let cpath = super::tree::check_relative(&format!("{folder}/{}", m.component))?;
    let component = tree
        .files
        .get(&cpath)
        .ok_or_else(|| format!("{mpath}: its component {cpath} is not in the pack"))?;
    let digest = hex::encode(Sha256::digest(component));
    if let Some(want) = m.sha256.as_ref().filter(|w| **w != digest) {
        return Err(format!(
            "{mpath}: says sha256 {want} but {cpath} has {digest}"
        ));
    }
    Ok(LockedPlugin {
        name: m.name.clone(),
        path: folder.into(),
        kind: m.kind.as_str().into(),
        version: m.version.clone(),
        world: world_of(component).unwrap_or_else(|| "none".into()),
        manifest: hex::encode(Sha256::digest(text.as_bytes())),
        component: digest,
        commands: m.requests.commands.clone(),
        network: network_text(&m.requests),
        writes: m.requests.writes.clone(),
        env: m.requests.env.clone(),
        resources: Some(LockedResources::of(&m.requests)),
    })
}

/// The `planexec:plugin/...` export a component declares, read with wasmparser.
pub fn world_of(component: &[u8]) -> Option<String> {
    for payload in wasmparser::Parser::new(0).parse_all(component) {
        if let Ok(wasmparser::Payload::ComponentExportSection(s)) = payload {
            for e in s.into_iter().flatten() {
                if e.name.name.starts_with("planexec:plugin/") {
                    return Some(e.name.name.to_string());
                }
            }
        }
    }
    None
}

/// `none`, `loopback`, `full`, or `allow a:443,*.b:443` (a changed list shows in an update's diff).
fn network_text(r: &crate::plugins::Requests) -> String {
    match r.network {
        crate::confine::Network::Named => format!(
            "allow {}",
            r.allow
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(",")
        ),
        n => n.as_str().into(),
    }
}
