//! The box's syscall filter: no ptrace or other processes' memory or descriptors,
//! no io_uring, bpf or file handles, no terminal injection (`TIOCSTI`), and
//! without network no unix-domain or vsock sockets (host daemons, hypervisor).

use super::{BoxError, Network};
use seccompiler::{
    sock_filter, BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition,
    SeccompFilter, SeccompRule, TargetArch,
};
use std::collections::BTreeMap;

#[cfg(target_arch = "x86_64")]
const ARCH: TargetArch = TargetArch::x86_64;
#[cfg(target_arch = "aarch64")]
const ARCH: TargetArch = TargetArch::aarch64;

/// Refused outright, whatever the grants.
const REFUSED: &[libc::c_long] = &[
    // Other processes: tracing, memory, descriptors.
    libc::SYS_ptrace,
    libc::SYS_process_vm_readv,
    libc::SYS_process_vm_writev,
    libc::SYS_pidfd_getfd,
    // io_uring runs operations (IORING_OP_SOCKET, ...) this filter never sees.
    libc::SYS_io_uring_setup,
    libc::SYS_io_uring_enter,
    libc::SYS_io_uring_register,
    // Kernel programs, and opening files by handle around path checks.
    libc::SYS_bpf,
    libc::SYS_open_by_handle_at,
    libc::SYS_name_to_handle_at,
];

/// Terminal ioctls that type into, or drive, a terminal (the box has none;
/// this holds even for a terminal descriptor it is handed).
const TIOCSTI: u64 = 0x5412;
const TIOCLINUX: u64 = 0x541C;

fn err(e: seccompiler::BackendError) -> BoxError {
    BoxError::Seccomp(e.to_string())
}

/// A rule matching when argument `arg` (its low 32 bits) equals `value`.
fn arg_eq(arg: u8, value: u64) -> Result<SeccompRule, BoxError> {
    let c = SeccompCondition::new(arg, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, value)
        .map_err(err)?;
    SeccompRule::new(vec![c]).map_err(err)
}

/// Compiles the filter for a box with `network`; refused calls fail with EPERM.
pub fn filter(network: Network) -> Result<BpfProgram, BoxError> {
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    for sys in REFUSED {
        rules.insert(*sys, vec![]);
    }
    rules.insert(
        libc::SYS_ioctl,
        vec![arg_eq(1, TIOCSTI)?, arg_eq(1, TIOCLINUX)?],
    );
    if network != Network::Full {
        // Unix sockets reach host daemons, vsock the hypervisor's services; no
        // network namespace stops either. socketpair(2) cannot reach outside.
        rules.insert(
            libc::SYS_socket,
            vec![
                arg_eq(0, libc::AF_UNIX as u64)?,
                arg_eq(0, libc::AF_VSOCK as u64)?,
            ],
        );
    }
    let f = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        ARCH,
    )
    .map_err(err)?;
    let mut prog: BpfProgram = f.try_into().map_err(err)?;
    refuse_x32(&mut prog);
    Ok(prog)
}

/// x32 system calls are x86-64 numbers with bit 30 set, which the rules above
/// do not match: every such number is refused (ENOSYS, as on kernels without
/// x32). Prepended; BPF jumps are relative, so the program after it is intact.
fn refuse_x32(prog: &mut BpfProgram) {
    if !cfg!(target_arch = "x86_64") {
        return;
    }
    const X32_SYSCALL_BIT: u32 = 0x4000_0000;
    let ins = |code: u32, jt: u8, jf: u8, k: u32| sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    };
    let prefix = [
        // A = seccomp_data.nr (offset 0)
        ins(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, 0, 0, 0),
        ins(
            libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K,
            0,
            1,
            X32_SYSCALL_BIT,
        ),
        ins(
            libc::BPF_RET | libc::BPF_K,
            0,
            0,
            libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32,
        ),
    ];
    prog.splice(0..0, prefix);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_compiles_for_every_network_and_refuses_x32_numbers_first() {
        for network in [Network::None, Network::Loopback, Network::Full] {
            let prog = filter(network).unwrap();
            if cfg!(target_arch = "x86_64") {
                assert_eq!(prog[1].k, 0x4000_0000, "{network:?}");
                assert_eq!(
                    prog[2].k,
                    libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32,
                    "{network:?}"
                );
            }
        }
    }
}
