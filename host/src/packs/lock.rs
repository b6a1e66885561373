//! planexec.lock: for each pack its source, what that resolved to, and for
//! each plugin the sha256 of manifest and component plus what it requests.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const LOCK_FILE: &str = "planexec.lock";
const HEADER: &str = "# planexec.lock: written by `planexec packs add|update`; commit it.\n\
# Every run checks the packs it uses against these digests and refuses on any difference.\n\n";

/// The whole lock file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lock {
    pub version: u32,
    #[serde(default)]
    pub packs: BTreeMap<String, LockedPack>,
}

/// One pack as it was accepted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedPack {
    /// The source as declared (`git+URL#REV`, an archive URL, a folder).
    pub source: String,
    /// The git commit the rev resolved to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The archive's sha256.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive_sha256: Option<String>,
    /// sha256 over every file of the pack (the cache key).
    pub digest: String,
    /// pack.toml's version.
    pub version: String,
    /// pack.toml's suggested policy fragment, as TOML text ("" for none); never applied.
    #[serde(default)]
    pub suggested_policy: String,
    #[serde(default)]
    pub plugins: Vec<LockedPlugin>,
}

/// One plugin of a pack: identity, digests and what it requests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedPlugin {
    pub name: String,
    /// Its folder inside the pack.
    pub path: String,
    pub kind: String,
    pub version: String,
    /// The planexec world the component exports (`planexec:plugin/gate-plugin@0.4.0`).
    pub world: String,
    /// sha256 of plugin.toml.
    pub manifest: String,
    /// sha256 of the component.
    pub component: String,
    pub commands: Vec<String>,
    pub network: String,
    pub writes: Vec<String>,
    pub env: Vec<String>,
    /// Workspace access, deadline, memory and program limits; absent in locks
    /// written before planexec recorded them (an update then shows them all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<LockedResources>,
}

/// What a plugin may use besides programs: whether it reads the workspace, how long
/// and how much memory one call may take, and the limits of the programs it runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedResources {
    /// "read-only" or "none".
    pub workspace: String,
    /// The deadline of one call, seconds.
    pub timeout_secs: u64,
    /// The memory cap of the instance, bytes.
    pub memory: u64,
    /// Limits of each program it runs: address space, file size and disk in bytes.
    pub address_space: u64,
    pub file_size: u64,
    pub processes: u64,
    pub cpu_seconds: u64,
    pub disk: u64,
}

impl LockedResources {
    /// The resources a manifest requests (numbers past TOML's integers are kept at its largest).
    pub fn of(r: &crate::plugins::Requests) -> LockedResources {
        let n = |v: u64| v.min(i64::MAX as u64);
        LockedResources {
            workspace: match r.workspace {
                crate::plugins::WorkspaceAccess::ReadOnly => "read-only",
                crate::plugins::WorkspaceAccess::None => "none",
            }
            .into(),
            timeout_secs: n(r.timeout.as_secs()),
            memory: n(r.memory),
            address_space: n(r.limits.memory), // "program memory" (RLIMIT_DATA)
            file_size: n(r.limits.file_size),
            processes: n(r.limits.processes),
            cpu_seconds: n(r.limits.cpu_seconds),
            disk: n(r.limits.disk),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        source: crate::input::InputError,
    },
    #[error("{path}: {message}\n  restore it from version control, or rewrite it with `planexec packs update`")]
    Invalid { path: PathBuf, message: String },
    #[error("{path}: cannot write: {source}")]
    Write {
        path: PathBuf,
        source: crate::rooted::RootedError,
    },
}

impl Lock {
    /// Reads `<workspace>/planexec.lock`; an absent file is an empty lock.
    pub fn read(workspace: &Path) -> Result<Lock, LockError> {
        let path = workspace.join(LOCK_FILE);
        if path.symlink_metadata().is_err() {
            return Ok(Lock {
                version: 1,
                ..Default::default()
            });
        }
        let text = crate::input::read_text(&path, workspace, crate::input::MAX_TOML).map_err(
            |source| LockError::Read {
                path: path.clone(),
                source,
            },
        )?;
        let lock: Lock = toml::from_str(&text).map_err(|e| LockError::Invalid {
            path: path.clone(),
            message: crate::plugins::manifest_error_line(&text, &e),
        })?;
        if lock.version != 1 {
            return Err(LockError::Invalid {
                path,
                message: format!(
                    "lock version {} is not 1 (written by a newer planexec?)",
                    lock.version
                ),
            });
        }
        Ok(lock)
    }

    /// Writes it atomically, never through a symlink.
    pub fn write(&self, workspace: &Path) -> Result<PathBuf, LockError> {
        let body = toml::to_string(self).expect("a lock always serializes");
        crate::rooted::write(
            workspace,
            Path::new(LOCK_FILE),
            format!("{HEADER}{body}").as_bytes(),
        )
        .map_err(|source| LockError::Write {
            path: workspace.join(LOCK_FILE),
            source,
        })
    }
}
