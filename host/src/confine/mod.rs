//! The box around every program a plugin or a plan runs: a cleared environment,
//! Landlock filesystem rules, private namespaces, rlimits, a syscall filter.
//!
//! The host describes the box ([`BoxSpec::launch`]) and starts the small
//! `planexec-box` helper ([`helper`]), which builds it in its own single-threaded
//! process and execs the program; forking the large host itself would cost
//! milliseconds. See docs/architecture.md ("The box") and SECURITY.md.

mod cgroup;
pub mod env;
mod fs;
pub mod helper;
mod limits;
mod ns;
pub mod probe;
mod relay;
mod seccomp;
mod session;

pub use cgroup::Group;
pub use env::{EnvError, FORBIDDEN_ENV};
pub use fs::toolchain_roots;
pub use limits::Limits;
pub use ns::overlay_safe;
pub use probe::{Support, SUPPORT};
pub use session::{cloexec_inherited, close_inherited};

use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;

/// How much network a boxed program gets. Ordered: none < loopback < named < full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Network {
    /// A private network namespace with its loopback down, no TCP, no unix sockets.
    #[default]
    None,
    /// A private network namespace with its own loopback up (never the host's).
    Loopback,
    /// A private loopback whose one way out is the host's proxy, which connects
    /// only to the hosts of an allow list (`network = { allow = [...] }`).
    Named,
    /// The host's network.
    Full,
}

impl Network {
    pub fn as_str(self) -> &'static str {
        match self {
            Network::None => "none",
            Network::Loopback => "loopback",
            Network::Named => "named",
            Network::Full => "full",
        }
    }
    pub fn parse(s: &str) -> Option<Network> {
        match s {
            "none" => Some(Network::None),
            "loopback" => Some(Network::Loopback),
            "full" => Some(Network::Full),
            _ => None,
        }
    }
}

/// A `network` setting as written: a level, or `{ allow = ["host:port", ...] }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(
    untagged,
    expecting = "\"none\", \"loopback\", \"full\", or { allow = [\"host:port\", ...] }"
)]
pub enum NetworkSetting {
    Level(Network),
    Allow { allow: Vec<String> },
}

impl NetworkSetting {
    /// The level and, for a named network, its parsed allow list.
    pub fn resolve(&self) -> Result<(Network, Vec<crate::proxy::Rule>), String> {
        match self {
            NetworkSetting::Level(Network::Named) => Err(
                "network \"named\" is written as `network = { allow = [\"host:port\", ...] }`"
                    .into(),
            ),
            NetworkSetting::Level(n) => Ok((*n, Vec::new())),
            NetworkSetting::Allow { allow } => {
                let rules = allow
                    .iter()
                    .map(|r| crate::proxy::Rule::parse(r))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((Network::Named, rules))
            }
        }
    }
}

/// What the policy accepts when the kernel cannot confine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Confinement {
    /// Every layer must work; programs of non-standard plugins are refused otherwise.
    #[default]
    Required,
    /// Apply what the kernel supports and run anyway (said at pre-flight).
    BestEffort,
    /// No box at all (`--unconfined`; logged).
    Off,
}

impl Confinement {
    pub fn as_str(self) -> &'static str {
        match self {
            Confinement::Required => "required",
            Confinement::BestEffort => "best-effort",
            Confinement::Off => "off",
        }
    }
}

/// Everything one boxed program may touch.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BoxSpec {
    /// Read and execute (system and toolchain roots).
    pub read_exec: Vec<PathBuf>,
    /// Read and execute: the workspace.
    pub workspace: Option<PathBuf>,
    /// Read, write, create, execute (box tmp, gate cache, granted workspace paths).
    pub write: Vec<PathBuf>,
    /// Read and write but never execute, mounted noexec where possible (scratch).
    pub write_noexec: Vec<PathBuf>,
    /// Made read-only inside writable roots (every `.git`).
    pub read_only: Vec<PathBuf>,
    /// Covered by an empty read-only tmpfs (planexec's own `.git/planexec`).
    #[serde(default)]
    pub hidden: Vec<PathBuf>,
    /// Copy-on-write workspace: a host folder (never granted to the program) that
    /// holds the overlay's upper and work layers. The program may write anywhere in
    /// the workspace but `.git`; its writes land there and vanish with the box.
    #[serde(default)]
    pub layers: Option<PathBuf>,
    pub network: Network,
    /// The host proxy's Unix socket the box's relay forwards to (named network).
    #[serde(default)]
    pub proxy_socket: Option<PathBuf>,
    pub limits: Limits,
}

#[derive(Debug, thiserror::Error)]
pub enum BoxError {
    #[error("cannot build the Landlock rules for {path}: {source}")]
    Landlock {
        path: PathBuf,
        source: landlock::RulesetError,
    },
    #[error("cannot build the Landlock ruleset: {0}")]
    Ruleset(#[from] landlock::RulesetError),
    #[error("cannot build the syscall filter: {0}")]
    Seccomp(String),
    #[error("{0}")]
    Path(String),
}

/// A box ready to enter: ruleset, filter and namespace plan built.
pub struct Prepared {
    ruleset: Option<landlock::RulesetCreated>,
    landlock_abi: i32,
    filter: Option<seccompiler::BpfProgram>,
    ns: ns::Plan,
    limits: limits::Raw,
}

/// The most processes and threads a box with `limits` really holds: a PID
/// namespace's `pid_max` is never below the kernel's floor of 301.
pub fn process_cap(limits: &Limits, support: &Support) -> u64 {
    if support.pid_ns_max {
        ns::pid_max_for(limits.processes) - 1
    } else {
        limits.processes
    }
}

/// How the host starts a boxed program: the helper, its spec, the pids cgroup.
pub struct Launch {
    pub helper: PathBuf,
    /// The helper's first argument (JSON of [`helper::Spec`]).
    pub spec: String,
    pub group: Option<Arc<Group>>,
}

impl BoxSpec {
    /// Creates the pids cgroup and describes the box for the helper.
    pub fn launch(&self, support: &Support) -> Result<Launch, BoxError> {
        let helper = helper::path().ok_or_else(|| {
            BoxError::Path(format!(
                "the box helper `{}` is not beside the planexec binary; reinstall planexec \
                 (it builds both), or run with --unconfined",
                helper::NAME
            ))
        })?;
        let group = cgroup::Group::create(self.limits.processes).map(Arc::new);
        let spec = helper::Spec {
            bx: self.clone(),
            support: support.clone(),
            cgroup_procs: group.as_ref().map(|g| g.procs_path()),
        };
        Ok(Launch {
            helper,
            spec: serde_json::to_string(&spec).map_err(|e| BoxError::Path(e.to_string()))?,
            group,
        })
    }

    /// Builds the ruleset, filter and namespace plan (in the helper).
    pub fn prepare(&self, support: &Support) -> Result<Prepared, BoxError> {
        let ruleset = if support.landlock_abi > 0 {
            Some(fs::ruleset(self, support)?)
        } else {
            None
        };
        let filter = if support.seccomp {
            Some(seccomp::filter(self.network)?)
        } else {
            None
        };
        let ns = ns::Plan::new(self, support)?;
        Ok(Prepared {
            ruleset,
            landlock_abi: support.landlock_abi,
            filter,
            ns,
            limits: limits::Raw::from(&self.limits),
        })
    }
}

impl Prepared {
    /// Enters the box (in the helper's own single-threaded process). The
    /// helper becomes a reaper waiting for PID 1 of a new PID namespace, which
    /// returns from here into the exec of the real program, in a session of its
    /// own (no terminal) with an empty session keyring.
    pub fn enter(&mut self) -> std::io::Result<()> {
        self.ns.enter()?;
        if let Some(r) = self.ruleset.take() {
            let stacked = self.ns.stacked();
            self.ruleset = Some(
                fs::allow_stacked(r, &stacked, self.landlock_abi).map_err(std::io::Error::other)?,
            );
        }
        session::leave_terminal()?;
        session::empty_keyring()?;
        limits::apply(&self.limits)?;
        if let Some(r) = self.ruleset.take() {
            r.restrict_self()
                .map_err(|_| std::io::Error::other("landlock_restrict_self failed"))?;
        }
        if let Some(f) = &self.filter {
            seccompiler::apply_filter(f)
                .map_err(|_| std::io::Error::other("seccomp filter failed"))?;
        }
        Ok(())
    }
}
