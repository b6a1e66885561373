//! What this kernel lets planexec use for the box (Landlock ABI, user, network,
//! PID and mount namespaces, seccomp, a pids cgroup), probed once per process.
//!
//! `PLANEXEC_PRETEND_KERNEL=no-landlock,no-userns,no-seccomp,no-cgroup` makes
//! planexec believe a feature is missing (tests of the refusal and `doctor`).

use serde::{Deserialize, Serialize};
use std::sync::LazyLock;

/// The features the box can use on this machine.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Support {
    /// 0 when Landlock is absent or disabled.
    pub landlock_abi: i32,
    /// User namespaces (and with them network, PID and mount namespaces).
    pub user_namespaces: bool,
    pub seccomp: bool,
    /// A pids cgroup planexec may create (process count for root, too).
    pub pids_cgroup: bool,
    /// `kernel.pid_max` is per PID namespace (Linux 6.14+): the box's own
    /// namespace caps its processes, for root too, with no cgroup to join.
    #[serde(default)]
    pub pid_ns_max: bool,
}

/// Probed once, on first use.
pub static SUPPORT: LazyLock<Support> = LazyLock::new(Support::probe);

impl Support {
    pub fn probe() -> Support {
        let pretend = std::env::var("PLANEXEC_PRETEND_KERNEL").unwrap_or_default();
        let off = |what: &str| pretend.split(',').any(|p| p.trim() == what);
        Support {
            landlock_abi: if off("no-landlock") {
                0
            } else {
                landlock_abi()
            },
            user_namespaces: !off("no-userns") && user_namespaces(),
            seccomp: !off("no-seccomp") && seccomp(),
            pids_cgroup: !off("no-cgroup") && super::cgroup::available(),
            pid_ns_max: !off("no-pid-max") && kernel_at_least(6, 14),
        }
    }

    /// Every layer the box is built from works here.
    pub fn complete(&self) -> bool {
        self.missing().is_empty()
    }

    /// What is missing, in words a user can act on.
    pub fn missing(&self) -> Vec<String> {
        let mut m = Vec::new();
        if self.landlock_abi < 1 {
            m.push(
                "Landlock (Linux 5.13+, enabled with `lsm=...,landlock` on the kernel command line): \
                 programs could read and write anywhere the user can"
                    .into(),
            );
        } else if self.landlock_abi < 4 {
            m.push(format!(
                "Landlock ABI {} (4+ needed for TCP rules, 6+ for signal scoping)",
                self.landlock_abi
            ));
        }
        if !self.user_namespaces {
            m.push(
                "unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1 or \
                 user.max_user_namespaces > 0): no private network, PID, mount or IPC namespace or own /proc, \
                 so programs reach the network and daemons can outlive a command"
                    .into(),
            );
        }
        if !self.seccomp {
            m.push("seccomp filters: unix sockets and ptrace are not filtered".into());
        }
        m
    }
}

fn landlock_abi() -> i32 {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: the documented way to ask for the ABI version: NULL attr, size 0.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<u8>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    if v < 0 {
        0
    } else {
        v as i32
    }
}

/// Whether the running kernel's release is at least `major.minor`.
fn kernel_at_least(major: u32, minor: u32) -> bool {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut parts = release
        .trim()
        .split(['.', '-'])
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let v = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    v >= (major, minor)
}

fn seccomp() -> bool {
    // SAFETY: read-only prctl.
    unsafe { libc::prctl(libc::PR_GET_SECCOMP, 0, 0, 0, 0) >= 0 }
}

/// Whether user namespaces are enabled, from the kernel's switches (no fork:
/// forking the host costs milliseconds; the helper reports a real failure).
fn user_namespaces() -> bool {
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .ok()
            .map(|s| s.trim().to_string())
    };
    let max_ok = read("/proc/sys/user/max_user_namespaces").is_none_or(|v| v != "0");
    let clone_ok = read("/proc/sys/kernel/unprivileged_userns_clone").is_none_or(|v| v != "0");
    let apparmor_ok =
        read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns").is_none_or(|v| v != "1");
    // SAFETY: getuid cannot fail.
    let root = unsafe { libc::getuid() } == 0;
    std::path::Path::new("/proc/self/ns/user").exists()
        && max_ok
        && (root || (clone_ok && apparmor_ok))
}
