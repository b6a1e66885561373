//! Plugins: manifests (plugin.toml), the embedded standard pack, plugin folders
//! given with --plugins, digests, and the capability grants each plugin gets.

mod grants;
mod manifest;
mod registry;
pub(crate) mod settings;
mod shape;
pub(crate) mod std_pack;
mod units;

pub use grants::{check_configured_program, resolve_grants, Grants};
pub use manifest::describe_toml_error as manifest_error_line;
pub use manifest::{check_write_path, Kind, LimitsTable, Manifest, Requests, WorkspaceAccess};
pub(crate) use registry::inflate;
pub use registry::{ComponentBytes, Plugin, Registry, Source};
pub use settings::{check_settings, UnknownSetting};
pub use shape::{merge as merge_grants, shape_matches, Grant, GrantEntry};
pub use units::{parse_duration, parse_size};

use std::path::PathBuf;

/// Whether `name` is a plugin of the embedded standard pack.
pub fn is_standard_name(name: &str) -> bool {
    std_pack::STD_PACK.iter().any(|p| p.dir == name)
}

/// Everything that can be wrong with a plugin before it runs.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}\n  fix the manifest; see docs/plugins.md for its keys")]
    Manifest { path: PathBuf, message: String },
    #[error("{path}: field `component`: {component} does not exist\n  build the plugin and place its component beside plugin.toml")]
    MissingComponent { path: PathBuf, component: PathBuf },
    #[error("{path}: field `sha256`: the manifest says {expected} but {component} has {actual}\n  rebuild the plugin or update the digest if the new component is trusted")]
    DigestMismatch {
        path: PathBuf,
        component: PathBuf,
        expected: String,
        actual: String,
    },
    #[error("--plugins {0}: not a directory")]
    NotADirectory(PathBuf),
    #[error("{path}: plugin `{name}` is defined twice (also in {other})")]
    Duplicate {
        path: PathBuf,
        name: String,
        other: String,
    },
    #[error("no plugin named `{name}`; installed: {known}\n  add a folder with --plugins DIR, or run `planexec plugins list`")]
    Unknown { name: String, known: String },
    #[error("plugin `{name}` is a {actual} plugin, not a {expected}")]
    WrongKind {
        name: String,
        actual: Kind,
        expected: Kind,
    },
    #[error("{0}")]
    NotGranted(String),
    #[error("pack `{pack}`, plugin `{plugin}`: {what} has sha256 {actual}, but planexec.lock expects {expected}\n  nothing ran; if the change is intended, run `planexec packs update {pack}` to review what it may do and accept it")]
    LockMismatch {
        pack: String,
        plugin: String,
        what: String,
        expected: String,
        actual: String,
    },
}
