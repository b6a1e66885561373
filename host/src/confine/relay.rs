//! The relay inside a box with a named network: a listener on the box's own
//! loopback whose every connection is forwarded to the host proxy's Unix socket.
//!
//! It runs in the helper's reaper (inside the network namespace, outside the
//! program's PID namespace, Landlock and seccomp filter), so the program can
//! reach the proxy and nothing else.

use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

/// Binds the relay's port on the box's loopback (before the program starts).
pub fn bind(port: u16) -> std::io::Result<TcpListener> {
    TcpListener::bind(("127.0.0.1", port))
}

/// Forwards connections until the process exits (a thread of the reaper).
pub fn spawn(listener: TcpListener, socket: PathBuf) {
    let _ = std::thread::Builder::new().spawn(move || {
        for conn in listener.incoming().flatten() {
            let socket = socket.clone();
            let _ = std::thread::Builder::new().spawn(move || forward(conn, &socket));
        }
    });
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
