//! The relay inside a box with a named network: a listener on the box's own
//! loopback whose every connection is forwarded to the host proxy's Unix socket.
//!
//! It runs in the helper's reaper (inside the network namespace, outside the
//! program's PID namespace, Landlock and seccomp filter), so the program can
//! reach the proxy and nothing else.

use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

/// Binds the relay's port on the box's loopback and forks the relay process,
/// which dies with the helper. Called in the new user and network namespaces,
/// before the PID namespace (a process that unshared one cannot start threads).
pub fn start(port: u16, socket: &Path) -> std::io::Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", port))?;
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: fork in the single-threaded helper; the child only closes
    // descriptors, sets its death signal and runs the relay.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(std::io::Error::last_os_error());
    }
    if pid > 0 {
        return Ok(()); // the listener closes here; the relay keeps its copy
    }
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        if libc::getppid() != parent {
            libc::_exit(0);
        }
        let fd = std::os::fd::AsRawFd::as_raw_fd(&listener) as u32;
        if fd > 3 {
            libc::syscall(libc::SYS_close_range, 3u32, fd - 1, 0u32);
        }
        libc::syscall(libc::SYS_close_range, fd + 1, u32::MAX, 0u32);
        for std_fd in 0..3 {
            libc::close(std_fd);
        }
    }
    serve(listener, socket.to_path_buf());
    unsafe { libc::_exit(0) }
}

/// Forwards each connection to the proxy's socket (the relay process's life).
fn serve(listener: TcpListener, socket: PathBuf) {
    for conn in listener.incoming().flatten() {
        let socket = socket.clone();
        let _ = std::thread::Builder::new().spawn(move || forward(conn, &socket));
    }
}

fn forward(conn: TcpStream, socket: &Path) {
    let Ok(up) = UnixStream::connect(socket) else {
        let _ = conn.shutdown(Shutdown::Both);
        return;
    };
    let (Ok(mut c2), Ok(mut up2)) = (conn.try_clone(), up.try_clone()) else {
        return;
    };
    let back = std::thread::spawn(move || {
        let _ = std::io::copy(&mut up2, &mut c2);
        let _ = c2.shutdown(Shutdown::Write);
    });
    let (mut conn, mut up) = (conn, up);
    let _ = std::io::copy(&mut conn, &mut up);
    let _ = up.shutdown(Shutdown::Write);
    let _ = back.join();
}
