//! What a boxed program would otherwise share with planexec's own session: the
//! controlling terminal, the session keyring and inherited file descriptors.

use std::io::Error;

const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
const TIOCNOTTY: libc::c_ulong = 0x5422;

/// Leaves the user's terminal: a new session (no controlling terminal, so
/// `/dev/tty` is ENXIO and `TIOCSTI` has no target). A process-group leader
/// cannot start a session (the helper without namespaces); it detaches from the
/// terminal with `TIOCNOTTY` instead, which its children inherit.
pub fn leave_terminal() -> std::io::Result<()> {
    // SAFETY: plain system calls on a constant path and a fresh descriptor.
    unsafe {
        if libc::setsid() >= 0 {
            return Ok(());
        }
        let fd = libc::open(
            c"/dev/tty".as_ptr(),
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        );
        if fd < 0 {
            return Ok(()); // no controlling terminal to leave
        }
        let rc = libc::ioctl(fd, TIOCNOTTY);
        libc::close(fd);
        if rc < 0 {
            return Err(Error::other(format!(
                "cannot leave the controlling terminal: {}",
                Error::last_os_error()
            )));
        }
        Ok(())
    }
}

/// Joins a new, empty, anonymous session keyring: keys in planexec's session
/// keyring are no longer possessed. A kernel without keyrings (ENOSYS) or a
/// filter refusing keyctl (EPERM) leaves nothing to reach.
pub fn empty_keyring() -> std::io::Result<()> {
    // SAFETY: keyctl(JOIN_SESSION_KEYRING, NULL) takes no buffer.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            KEYCTL_JOIN_SESSION_KEYRING,
            std::ptr::null::<libc::c_char>(),
        )
    };
    if rc >= 0 {
        return Ok(());
    }
    let e = Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::ENOSYS | libc::EPERM) => Ok(()),
        _ => Err(Error::other(format!(
            "cannot join an empty session keyring: {e}"
        ))),
    }
}

/// Closes every descriptor above 2 (right before exec: nothing the helper
/// inherited reaches the program).
pub fn close_inherited() {
    // SAFETY: close_range on a range; failure (an old kernel) falls back below.
    if unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) } == 0 {
        return;
    }
    for fd in open_fds() {
        // SAFETY: closing a descriptor number this process holds.
        unsafe { libc::close(fd) };
    }
}

/// Marks every inherited descriptor above 2 close-on-exec (planexec at start:
/// what its parent left open, `exec 7<secret`, never reaches a child).
pub fn cloexec_inherited() {
    let flag = libc::CLOSE_RANGE_CLOEXEC;
    // SAFETY: close_range with CLOEXEC only changes descriptor flags.
    if unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, flag) } == 0 {
        return;
    }
    for fd in open_fds() {
        // SAFETY: fcntl on a descriptor number this process holds.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
}

/// Descriptors above 2, from /proc/self/fd (the fallback before Linux 5.11).
fn open_fds() -> Vec<libc::c_int> {
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return Vec::new();
    };
    let fds: Vec<libc::c_int> = dir
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .filter(|fd| *fd > 2)
        .collect();
    fds
}
