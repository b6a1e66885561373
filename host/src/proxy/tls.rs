//! TLS termination for the hosts a secret goes to: a CA made once per planexec
//! process (rcgen; its key never leaves this process), a certificate per host,
//! rustls towards the box and towards the real server (the host's roots).

use super::secrets::{substitute, Secret};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// The per-run certificate authority the box trusts.
pub struct Ca {
    cert: rcgen::Certificate,
    key: rcgen::KeyPair,
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The CA of this planexec process, made on first use.
pub fn ca() -> Result<&'static Ca, String> {
    static CA: OnceLock<Result<Ca, String>> = OnceLock::new();
    CA.get_or_init(Ca::new).as_ref().map_err(Clone::clone)
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    crate::lazy::tls_starting("proxy provider");
    Arc::new(rustls::crypto::ring::default_provider())
}

impl Ca {
    fn new() -> Result<Ca, String> {
        crate::lazy::tls_starting("proxy CA");
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
        let mut p = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
        p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        p.distinguished_name
            .push(DnType::CommonName, "planexec per-run proxy CA");
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let now = time::OffsetDateTime::now_utc();
        p.not_before = now - time::Duration::days(1);
        p.not_after = now + time::Duration::days(7);
        let key = KeyPair::generate().map_err(err)?;
        let cert = p.self_signed(&key).map_err(err)?;
        Ok(Ca { cert, key })
    }

    /// The CA certificate (PEM) for the box's trust stores.
    pub fn pem(&self) -> String {
        self.cert.pem()
    }

    /// A server config presenting a certificate for `host`, signed by this CA.
    fn server_config(&self, host: &str) -> Result<Arc<rustls::ServerConfig>, String> {
        let mut p = rcgen::CertificateParams::new(vec![host.to_string()]).map_err(err)?;
        let now = time::OffsetDateTime::now_utc();
        p.not_before = now - time::Duration::days(1);
        p.not_after = now + time::Duration::days(7);
        let key = rcgen::KeyPair::generate().map_err(err)?;
        let cert = p.signed_by(&key, &self.cert, &self.key).map_err(err)?;
        let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let mut c = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(err)?
            .with_no_client_auth()
            .with_single_cert(vec![cert.der().clone()], der)
            .map_err(err)?;
        c.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(c))
    }
}

/// The host's roots (the system's, or SSL_CERT_FILE / SSL_CERT_DIR) for the real server.
fn client_config() -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(c);
    }
    if roots.is_empty() {
        return Err(
            "the host has no certificates to check the server with; set SSL_CERT_FILE".into(),
        );
    }
    let mut c = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(err)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    c.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(c))
}

/// Terminates the box's TLS for `host`, opens TLS to the real server, puts the
/// secrets into the first request's headers (and asks to close after it), then
/// copies both ways. A failure ends the connection; the reason is returned.
pub fn intercept(
    client: UnixStream,
    upstream: TcpStream,
    host: &str,
    port: u16,
    secrets: &[Secret],
) -> Result<(), String> {
    let sc = rustls::ServerConnection::new(ca()?.server_config(host)?).map_err(err)?;
    let mut down = rustls::StreamOwned::new(sc, client);
    let (head, rest) = read_head(&mut down)?;
    let name = ServerName::try_from(host.to_string()).map_err(err)?;
    let cc = rustls::ClientConnection::new(client_config()?, name).map_err(err)?;
    let mut up = rustls::StreamOwned::new(cc, upstream);
    let head = close_after(&substitute(&head, secrets, host, port));
    up.write_all(head.as_bytes())
        .map_err(|e| format!("TLS to {host}:{port}: {e}"))?;
    up.write_all(&rest).map_err(err)?;
    up.flush().map_err(err)?;
    pump(&mut down, &mut up);
    Ok(())
}

fn read_head(s: &mut impl Read) -> Result<(String, Vec<u8>), String> {
    let mut buf = Vec::new();
    let mut b = [0u8; 8192];
    loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..i + 4]).into_owned();
            return Ok((head, buf[i + 4..].to_vec()));
        }
        if buf.len() > 64 * 1024 {
            return Err("request head too large".into());
        }
        match s.read(&mut b) {
            Ok(0) => return Err("the client closed before its request".into()),
            Ok(n) => buf.extend_from_slice(&b[..n]),
            Err(e) => return Err(format!("TLS from the box: {e}")),
        }
    }
}

/// The head with `Connection: close` (a later request on the connection would
/// carry the placeholder unreplaced, so the client opens a new one).
fn close_after(head: &str) -> String {
    let mut out = String::new();
    for l in head.split("\r\n").filter(|l| !l.is_empty()) {
        let name = l
            .split(':')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if out.is_empty() || (name != "connection" && name != "keep-alive") {
            out.push_str(l);
            out.push_str("\r\n");
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    out
}

/// Copies between two TLS streams on one thread, polling each with a short timeout,
/// until the server is done (or either side fails).
fn pump(
    down: &mut rustls::StreamOwned<rustls::ServerConnection, UnixStream>,
    up: &mut rustls::StreamOwned<rustls::ClientConnection, TcpStream>,
) {
    let tick = Some(Duration::from_millis(5));
    let _ = down.sock.set_read_timeout(tick);
    let _ = up.sock.set_read_timeout(tick);
    let mut b = [0u8; 16 * 1024];
    let mut client_open = true;
    let quiet =
        |e: &std::io::Error| matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut);
    loop {
        if client_open {
            match down.read(&mut b) {
                Ok(0) => client_open = false,
                Ok(n) => {
                    if up.write_all(&b[..n]).and_then(|_| up.flush()).is_err() {
                        break;
                    }
                }
                Err(e) if quiet(&e) => {}
                Err(_) => client_open = false,
            }
        }
        match up.read(&mut b) {
            Ok(0) => break,
            Ok(n) => {
                if down.write_all(&b[..n]).and_then(|_| down.flush()).is_err() {
                    return;
                }
            }
            Err(e) if quiet(&e) => {}
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => break,
            Err(_) => break,
        }
    }
    down.conn.send_close_notify();
    let _ = down.flush();
}
