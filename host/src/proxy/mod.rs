//! The network-by-name proxy: an HTTP CONNECT / plain-HTTP / SOCKS5 proxy on a
//! Unix socket, one per boxed program, that resolves names on the host and
//! connects only where the allow list says; every refusal is kept for the log.
//!
//! The box reaches it through a relay on its own loopback (`confine/relay.rs`).

mod resolve;
pub mod rules;
pub mod secrets;
pub mod tls;
mod serve;

pub use resolve::Resolver;
pub use rules::{Allow, Rule};
pub use secrets::{Secret, SecretRule};

use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// The port of the relay on the box's own loopback.
pub const BOX_PORT: u16 = 3128;

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
        let dir = tempfile::Builder::new().prefix("planexec-proxy-").tempdir()?;
        let socket = dir.path().join("proxy.sock");
        let listener = UnixListener::bind(&socket)?;
        let shared = Arc::new(Shared {
            allow,
            secrets,
            resolver: Resolver::from_env(),
            refused: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
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
        self.shared.refused.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
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
        let s = shared.clone();
        let _ = std::thread::Builder::new()
            .name("planexec-proxy-conn".into())
            .spawn(move || serve::connection(conn, &s));
    }
}

impl Shared {
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
