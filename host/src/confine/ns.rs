//! Namespaces of the box: a user namespace (no host capabilities), a private
//! network (loopback only, or nothing), a PID namespace whose end kills every
//! daemon with its own fresh `/proc`, a private IPC namespace (SysV shared
//! memory, semaphores, message queues), and a mount namespace making `.git`
//! read-only and scratch noexec, with its own `/dev/shm` and, when asked, a
//! copy-on-write workspace (an overlay whose writes vanish with the box).

use super::{BoxError, BoxSpec, Network, Support};
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// What the child does, prepared in the parent.
pub struct Plan {
    enabled: bool,
    flags: libc::c_int,
    uid_map: Vec<u8>,
    gid_map: Vec<u8>,
    /// (path, extra mount flags, flags the mount already has and must keep).
    remounts: Vec<(CString, libc::c_ulong, libc::c_ulong)>,
    /// Folders covered by an empty read-only tmpfs.
    hides: Vec<CString>,
    lo_up: bool,
    /// The host proxy's socket, relayed from the box's loopback (named network).
    relay: Option<PathBuf>,
    /// Written to the new PID namespace's `kernel.pid_max` (caps its processes).
    pid_max: Option<Vec<u8>>,
    overlay: Option<Overlay>,
    /// A private tmpfs over `/dev/shm` (POSIX shared memory, semaphores).
    shm: Option<CString>,
}

/// What the box mounted over a host path, for the Landlock rules naming it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stacked {
    /// The box's own procfs (read).
    Proc,
    /// The copy-on-write workspace (read, write, execute; never device files).
    Workspace,
    /// The box's own `/dev/shm` (read and write, never execute).
    Shm,
}

/// The copy-on-write workspace: an overlay of the workspace over itself.
struct Overlay {
    workspace: CString,
    options: CString,
    /// The working directory, entered again once the overlay covers it.
    cwd: CString,
}

const SHM: &str = "/dev/shm";
/// The most the box's `/dev/shm` holds (it is memory).
const SHM_MAX: u64 = 1 << 30;

impl Plan {
    pub fn new(spec: &BoxSpec, support: &Support) -> Result<Plan, BoxError> {
        // SAFETY: getuid/getgid cannot fail.
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        let mut flags =
            libc::CLONE_NEWUSER | libc::CLONE_NEWNS | libc::CLONE_NEWPID | libc::CLONE_NEWIPC;
        if spec.network != Network::Full {
            flags |= libc::CLONE_NEWNET;
        }
        let mut remounts = Vec::new();
        for p in &spec.read_only {
            remounts.push(remount(p, libc::MS_RDONLY)?);
        }
        for p in &spec.write_noexec {
            remounts.push(remount(
                p,
                libc::MS_NOEXEC | libc::MS_NOSUID | libc::MS_NODEV,
            )?);
        }
        let hides = spec
            .hidden
            .iter()
            .map(|p| CString::new(p.as_os_str().as_bytes()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| BoxError::Path("NUL in a hidden path".into()))?;
        Ok(Plan {
            hides,
            enabled: support.user_namespaces,
            flags,
            uid_map: format!("{uid} {uid} 1\n").into_bytes(),
            gid_map: format!("{gid} {gid} 1\n").into_bytes(),
            remounts,
            lo_up: matches!(spec.network, Network::Loopback | Network::Named),
            relay: (spec.network == Network::Named)
                .then(|| spec.proxy_socket.clone())
                .flatten(),
            pid_max: support
                .pid_ns_max
                .then(|| format!("{}\n", pid_max_for(spec.limits.processes)).into_bytes()),
            overlay: overlay(spec, support)?,
            shm: (support.user_namespaces && Path::new(SHM).is_dir() && !uses_host_shm(spec)).then(
                || {
                    let size = spec.limits.disk.min(SHM_MAX);
                    CString::new(format!("size={size},mode=1777")).expect("no NUL")
                },
            ),
        })
    }

    /// The mounts [`Plan::enter`] stacked over host paths.
    pub fn stacked(&self) -> Vec<(std::path::PathBuf, Stacked)> {
        let mut out = Vec::new();
        if !self.enabled {
            return out;
        }
        out.push(("/proc".into(), Stacked::Proc));
        if let Some(o) = &self.overlay {
            let ws = std::ffi::OsStr::from_bytes(o.workspace.as_bytes());
            out.push((ws.into(), Stacked::Workspace));
        }
        if self.shm.is_some() {
            out.push((SHM.into(), Stacked::Shm));
        }
        out
    }

    /// In the child: unshare, map ids, remount, bring loopback up, then fork so
    /// that the caller continues as PID 1 of the new PID namespace, with a
    /// procfs of that namespace over `/proc` (host processes are not in it).
    pub fn enter(&self) -> std::io::Result<()> {
        if !self.enabled {
            // SAFETY: prctl with constant arguments.
            unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
            return Ok(());
        }
        // SAFETY: every call below is a plain system call on prepared buffers.
        unsafe {
            // With a relay, the user and network namespaces come first: the relay
            // process forked into them stays out of the PID namespace (where it
            // could start threads, and the program cannot see or trace it).
            let first = match self.relay {
                Some(_) => self.flags & (libc::CLONE_NEWUSER | libc::CLONE_NEWNET),
                None => self.flags,
            };
            check(libc::unshare(first))?;
            write_file(c"/proc/self/setgroups", b"deny")?;
            write_file(c"/proc/self/uid_map", &self.uid_map)?;
            write_file(c"/proc/self/gid_map", &self.gid_map)?;
            if let Some(sock) = &self.relay {
                loopback_up()?;
                super::relay::start(crate::proxy::BOX_PORT, sock)?;
                check(libc::unshare(self.flags & !first))?;
            }
            check(libc::mount(
                std::ptr::null(),
                c"/".as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ))?;
            if let Some(o) = &self.overlay {
                o.mount()?;
            }
            for (path, extra, keep) in &self.remounts {
                check(libc::mount(
                    path.as_ptr(),
                    path.as_ptr(),
                    std::ptr::null(),
                    libc::MS_BIND | libc::MS_REC,
                    std::ptr::null(),
                ))?;
                check(libc::mount(
                    std::ptr::null(),
                    path.as_ptr(),
                    std::ptr::null(),
                    libc::MS_BIND | libc::MS_REMOUNT | extra | keep,
                    std::ptr::null(),
                ))?;
            }
            for p in &self.hides {
                hide(p)?;
            }
            if let Some(opts) = &self.shm {
                let flags = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
                check(libc::mount(
                    c"tmpfs".as_ptr(),
                    c"/dev/shm".as_ptr(),
                    c"tmpfs".as_ptr(),
                    flags,
                    opts.as_ptr().cast(),
                ))
                .map_err(|e| {
                    std::io::Error::other(format!("cannot mount the box's /dev/shm: {e}"))
                })?;
            }
            if self.lo_up {
                loopback_up()?;
            }
            become_pid1()?;
            if let Some(max) = &self.pid_max {
                write_file(c"/proc/sys/kernel/pid_max", max)?;
            }
            mount_proc()
        }
    }
}

/// Whether the box's paths live in the host's `/dev/shm` (a staged copy of the index
/// is made there): the box's own tmpfs would hide them, so it keeps the host's, to
/// which Landlock grants only those paths.
fn uses_host_shm(spec: &BoxSpec) -> bool {
    let shm = Path::new(SHM);
    spec.workspace
        .iter()
        .chain(&spec.read_exec)
        .chain(&spec.write)
        .chain(&spec.write_noexec)
        .chain(&spec.layers)
        .any(|p| p.starts_with(shm))
}

/// The overlay for `spec.layers`, checked: only with user namespaces (else the
/// box could not stack it, and the workspace stays read-only), and only for paths
/// the overlay's option string can carry.
fn overlay(spec: &BoxSpec, support: &Support) -> Result<Option<Overlay>, BoxError> {
    let (Some(layers), Some(ws)) = (&spec.layers, &spec.workspace) else {
        return Ok(None);
    };
    if !support.user_namespaces {
        return Err(BoxError::Path(
            "a copy-on-write workspace needs user namespaces".into(),
        ));
    }
    let (upper, work) = (layers.join("upper"), layers.join("work"));
    for p in [ws, &upper, &work] {
        if !overlay_safe(p) {
            return Err(BoxError::Path(format!(
                "{}: a copy-on-write workspace cannot be on a path with `,`, `:` or `\\`",
                p.display()
            )));
        }
    }
    let options = format!(
        "lowerdir={},upperdir={},workdir={},userxattr",
        ws.display(),
        upper.display(),
        work.display()
    );
    let cwd = std::env::current_dir().map_err(|e| BoxError::Path(format!("cwd: {e}")))?;
    let c = |s: &[u8]| CString::new(s).map_err(|_| BoxError::Path("NUL in a path".into()));
    Ok(Some(Overlay {
        workspace: c(ws.as_os_str().as_bytes())?,
        options: c(options.as_bytes())?,
        cwd: c(cwd.as_os_str().as_bytes())?,
    }))
}

/// Whether the overlay's mount options can name `p` (they split on `,` and `:`).
pub fn overlay_safe(p: &Path) -> bool {
    !p.as_os_str()
        .as_bytes()
        .iter()
        .any(|b| matches!(b, b',' | b':' | b'\\'))
}

impl Overlay {
    /// Stacks the overlay on the workspace and re-enters the working directory
    /// through it (the old one still names the host's folder).
    unsafe fn mount(&self) -> std::io::Result<()> {
        check(libc::mount(
            c"overlay".as_ptr(),
            self.workspace.as_ptr(),
            c"overlay".as_ptr(),
            libc::MS_NOSUID | libc::MS_NODEV,
            self.options.as_ptr().cast(),
        ))
        .map_err(|e| {
            std::io::Error::other(format!("cannot stack the copy-on-write workspace: {e}"))
        })?;
        check(libc::chdir(self.cwd.as_ptr()))
    }
}

/// Mounts the procfs of the current PID namespace over `/proc` (in PID 1: the
/// Landlock rule on the old `/proc` covers the mount stacked on it).
unsafe fn mount_proc() -> std::io::Result<()> {
    let flags = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
    let rc = libc::mount(
        c"proc".as_ptr(),
        c"/proc".as_ptr(),
        c"proc".as_ptr(),
        flags,
        std::ptr::null(),
    );
    if rc < 0 {
        return Err(std::io::Error::other(format!(
            "cannot mount a fresh /proc: {}",
            std::io::Error::last_os_error()
        )));
    }
    Ok(())
}

/// `kernel.pid_max` for at most `processes` processes: PIDs run from 1, and the
/// kernel's smallest value is 301 (so the cap is never below 300 processes).
pub fn pid_max_for(processes: u64) -> u64 {
    processes.saturating_add(1).max(301)
}

/// Covers `p` with an empty, read-only tmpfs.
unsafe fn hide(p: &std::ffi::CStr) -> std::io::Result<()> {
    let flags = libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
    check(libc::mount(
        c"tmpfs".as_ptr(),
        p.as_ptr(),
        c"tmpfs".as_ptr(),
        flags,
        c"size=4k,mode=0500".as_ptr().cast(),
    ))
}

/// Prepares a bind-remount of `p` with `extra` flags, keeping the locked ones.
fn remount(
    p: &Path,
    extra: libc::c_ulong,
) -> Result<(CString, libc::c_ulong, libc::c_ulong), BoxError> {
    let c = CString::new(p.as_os_str().as_bytes())
        .map_err(|_| BoxError::Path(format!("{}: NUL in path", p.display())))?;
    // SAFETY: statvfs on a valid C string into a zeroed struct.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return Err(BoxError::Path(format!(
            "{}: {}",
            p.display(),
            std::io::Error::last_os_error()
        )));
    }
    let pairs = [
        (libc::ST_RDONLY, libc::MS_RDONLY),
        (libc::ST_NOSUID, libc::MS_NOSUID),
        (libc::ST_NODEV, libc::MS_NODEV),
        (libc::ST_NOEXEC, libc::MS_NOEXEC),
        (libc::ST_NOATIME, libc::MS_NOATIME),
        (libc::ST_NODIRATIME, libc::MS_NODIRATIME),
        (libc::ST_RELATIME, libc::MS_RELATIME),
    ];
    let keep = pairs
        .iter()
        .filter(|(st_flag, _)| st.f_flag & st_flag != 0)
        .fold(0, |acc, (_, ms)| acc | ms);
    Ok((c, extra, keep))
}

fn check(rc: libc::c_int) -> std::io::Result<()> {
    if rc < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(())
    }
}

unsafe fn write_file(path: &std::ffi::CStr, data: &[u8]) -> std::io::Result<()> {
    let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
    check(fd)?;
    let n = libc::write(fd, data.as_ptr().cast(), data.len());
    libc::close(fd);
    if n != data.len() as isize {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Sets `lo` up in the new network namespace.
unsafe fn loopback_up() -> std::io::Result<()> {
    let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
    check(fd)?;
    let mut ifr: libc::ifreq = std::mem::zeroed();
    ifr.ifr_name[0] = b'l' as libc::c_char;
    ifr.ifr_name[1] = b'o' as libc::c_char;
    ifr.ifr_ifru.ifru_flags = (libc::IFF_UP | libc::IFF_LOOPBACK | libc::IFF_RUNNING) as i16;
    let rc = libc::ioctl(fd, libc::SIOCSIFFLAGS, &ifr);
    libc::close(fd);
    check(rc)
}

/// Forks: the child returns (PID 1 of the new namespace, killed if this process
/// dies); this process waits for it, then exits with its status. The namespace,
/// and every process in it, ends with PID 1.
unsafe fn become_pid1() -> std::io::Result<()> {
    let pid = libc::fork();
    check(pid)?;
    if pid == 0 {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        return Ok(());
    }
    // The reaper keeps no descriptors: the parent's exec-error pipe and the
    // output pipes must close when PID 1 execs and exits.
    libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
    libc::close(0);
    libc::close(1);
    libc::close(2);
    let mut status = 0;
    loop {
        let r = libc::waitpid(pid, &mut status, 0);
        if r == pid {
            break;
        }
        if r < 0 && *libc::__errno_location() != libc::EINTR {
            libc::_exit(127);
        }
    }
    if libc::WIFSIGNALED(status) {
        let sig = libc::WTERMSIG(status);
        libc::signal(sig, libc::SIG_DFL);
        libc::kill(libc::getpid(), sig);
        libc::_exit(128 + sig);
    }
    libc::_exit(libc::WEXITSTATUS(status));
}

#[cfg(test)]
mod tests {
    #[test]
    fn pid_max_counts_pid_1_and_never_goes_below_the_kernels_floor() {
        assert_eq!(super::pid_max_for(1024), 1025);
        assert_eq!(super::pid_max_for(64), 301);
        assert_eq!(super::pid_max_for(u64::MAX), u64::MAX);
    }
}
