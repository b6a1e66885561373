//! The box's syscall filter: no ptrace of anything, no reading other processes'
//! memory, and without network no unix-domain sockets (they reach host daemons).

use super::{BoxError, Network};
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};
use std::collections::BTreeMap;

#[cfg(target_arch = "x86_64")]
const ARCH: TargetArch = TargetArch::x86_64;
#[cfg(target_arch = "aarch64")]
const ARCH: TargetArch = TargetArch::aarch64;

/// Compiles the filter for a box with `network`.
pub fn filter(network: Network) -> Result<BpfProgram, BoxError> {
    let err = |e: seccompiler::BackendError| BoxError::Seccomp(e.to_string());
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    for sys in [
        libc::SYS_ptrace,
        libc::SYS_process_vm_readv,
        libc::SYS_process_vm_writev,
    ] {
        rules.insert(sys, vec![]);
    }
    if network != Network::Full {
        // socketpair(2) stays allowed: it cannot reach anything outside.
        let unix = SeccompCondition::new(
            0,
            SeccompCmpArgLen::Dword,
            SeccompCmpOp::Eq,
            libc::AF_UNIX as u64,
        )
        .map_err(err)?;
        rules.insert(
            libc::SYS_socket,
            vec![SeccompRule::new(vec![unix]).map_err(err)?],
        );
    }
    let f = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EACCES as u32),
        ARCH,
    )
    .map_err(err)?;
    f.try_into()
        .map_err(|e: seccompiler::BackendError| BoxError::Seccomp(e.to_string()))
}
