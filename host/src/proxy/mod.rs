//! The network-by-name proxy: an HTTP CONNECT / plain-HTTP / SOCKS5 proxy on a
//! Unix socket, one per boxed program, that resolves names on the host and
//! connects only where the allow list says; every refusal is kept for the log.
//!
//! The box reaches it through a relay on its own loopback (`confine/relay.rs`).

mod resolve;
pub mod rules;
pub mod secrets;
mod serve;
pub mod tls;

pub use resolve::Resolver;
pub use rules::{Allow, Rule};
pub use secrets::{Secret, SecretRule};

use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// The port of the relay on the box's own loopback.
pub const BOX_PORT: u16 = 3128;

/// Connections one proxy serves at once; more are closed at once (the host's
/// threads are not the box's to spend).
const MAX_CONNECTIONS: usize = 64;

/// A connection the proxy refused or could not make: what was asked, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub target: String,
    pub reason: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "network: refused {}: {}", self.target, self.reason)
    }
}

/// Shared by the proxy's threads.
struct Shared {
    allow: Allow,
    secrets: Vec<Secret>,
    resolver: Resolver,
    refused: Mutex<Vec<Refusal>>,
    stop: AtomicBool,
    /// The upstream connections opened, shut when the proxy stops (a server that
    /// never closes cannot keep a thread of the host waiting).
    upstream: Mutex<Vec<std::net::TcpStream>>,
    /// Connections being served, at most [`MAX_CONNECTIONS`].
    active: std::sync::atomic::AtomicUsize,
    /// Says each refusal on the terminal as it happens (with the plugin's name).
    label: String,
}

/// A running proxy; dropping it stops accepting and removes its socket.
pub struct Proxy {
    dir: tempfile::TempDir,
    socket: PathBuf,
    shared: Arc<Shared>,
}

impl Proxy {
    /// Starts a proxy for `allow`; `label` names whose programs it serves.
    pub fn start(allow: Allow, secrets: Vec<Secret>, label: &str) -> std::io::Result<Proxy> {
        let dir = tempfile::Builder::new()
            .prefix("planexec-proxy-")
            .tempdir()?;
        let socket = dir.path().join("proxy.sock");
        let listener = UnixListener::bind(&socket)?;
        let shared = Arc::new(Shared {
            allow,
            secrets,
            resolver: Resolver::from_env(),
            refused: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
            upstream: Mutex::new(Vec::new()),
            active: std::sync::atomic::AtomicUsize::new(0),
            label: label.to_string(),
        });
        let s = shared.clone();
        std::thread::Builder::new()
            .name("planexec-proxy".into())
            .spawn(move || accept_loop(listener, s))?;
        Ok(Proxy {
            dir,
            socket,
            shared,
        })
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// The connections refused so far.
    pub fn refused(&self) -> Vec<Refusal> {
        self.shared
            .refused
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Ok(mut v) = self.shared.upstream.lock() {
            for s in v.drain(..) {
                let _ = s.shutdown(std::net::Shutdown::Both);
            }
        }
        // Wakes the accept loop so it sees `stop`.
        let _ = std::os::unix::net::UnixStream::connect(&self.socket);
        let _ = std::fs::remove_file(&self.socket);
        let _ = self.dir.path();
    }
}

fn accept_loop(listener: UnixListener, shared: Arc<Shared>) {
    for conn in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(conn) = conn else { continue };
        if shared.active.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            shared.active.fetch_sub(1, Ordering::SeqCst);
            shared.refuse(
                "(any)",
                format!("more than {MAX_CONNECTIONS} connections at once"),
            );
            continue;
        }
        let s = shared.clone();
        let spawned = std::thread::Builder::new()
            .name("planexec-proxy-conn".into())
            .spawn(move || {
                serve::connection(conn, &s);
                s.active.fetch_sub(1, Ordering::SeqCst);
            });
        if spawned.is_err() {
            shared.active.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl Shared {
    /// Keeps a handle on an upstream connection, to shut it when the proxy stops.
    fn track(&self, s: &std::net::TcpStream) {
        if let (Ok(c), Ok(mut v)) = (s.try_clone(), self.upstream.lock()) {
            if self.stop.load(Ordering::SeqCst) {
                let _ = c.shutdown(std::net::Shutdown::Both);
            } else {
                v.push(c);
            }
        }
    }

    fn refuse(&self, target: &str, reason: String) {
        let r = Refusal {
            target: target.to_string(),
            reason,
        };
        eprintln!(
            "{}",
            crate::text::untrusted(&format!("planexec: {}: {r}", self.label))
        );
        if let Ok(mut v) = self.refused.lock() {
            if v.len() < 1000 {
                v.push(r);
            }
        }
    }
}
