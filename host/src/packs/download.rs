//! Downloading a pack archive over http(s) with ureq: the certificates it trusts
//! (the system's, or SSL_CERT_FILE / SSL_CERT_DIR), a size bound, errors that say what to do.

use super::fetch::TRUST_HINT;
use super::tree::MAX_PACK_BYTES;
use std::sync::Arc;
use std::time::Duration;
use ureq::tls::{Certificate, RootCerts, TlsConfig};

/// GETs `url` (bounded); any status but 200 is an error; the error is the whole message.
/// `wait` bounds connecting and the wait for the answer; the whole body gets ten times it.
pub fn get(url: &str, wait: Duration) -> Result<Vec<u8>, String> {
    let agent = agent(url.starts_with("https://"), wait)?;
    let mut resp = agent.get(url).call().map_err(|e| explain(url, wait, &e))?;
    resp.body_mut()
        .with_config()
        .limit(MAX_PACK_BYTES)
        .read_to_vec()
        .map_err(|e| explain(url, wait, &e))
}

/// The agent for downloads and git's https fetches: the roots below; `wait` bounds
/// connecting and the wait for an answer, a body gets ten times it. With `https_only`
/// (an https source stays https), a redirect to plain http:// is refused.
pub fn agent(https_only: bool, wait: Duration) -> Result<ureq::Agent, String> {
    crate::lazy::tls_starting("download agent");
    let config = ureq::Agent::config_builder()
        .tls_config(TlsConfig::builder().root_certs(roots()?).build())
        .https_only(https_only)
        .timeout_connect(Some(wait))
        .timeout_recv_response(Some(wait))
        .timeout_recv_body(Some(wait * 10))
        .build();
    Ok(ureq::Agent::new_with_config(config))
}

/// The roots an https download trusts: the system's certificates where OpenSSL finds
/// them, or those SSL_CERT_FILE / SSL_CERT_DIR name instead when either is set, or the
/// bundled Mozilla roots on a machine that has none.
fn roots() -> Result<RootCerts, String> {
    let found = rustls_native_certs::load_native_certs();
    let certs: Vec<Certificate<'static>> = found
        .certs
        .iter()
        .map(|c| Certificate::from_der(c.as_ref()).to_owned())
        .collect();
    if !certs.is_empty() {
        return Ok(RootCerts::Specific(Arc::new(certs)));
    }
    let set: Vec<String> = ["SSL_CERT_FILE", "SSL_CERT_DIR"]
        .iter()
        .filter_map(|k| std::env::var(k).ok().map(|v| format!("{k}={v}")))
        .collect();
    if set.is_empty() {
        return Ok(RootCerts::WebPki);
    }
    let why: Vec<String> = found.errors.iter().map(|e| e.to_string()).collect();
    Err(format!(
        "{} {} no certificate planexec can read{}\n  nothing was written; point SSL_CERT_FILE at a PEM file of certificates",
        set.join(" and "),
        if set.len() == 1 { "holds" } else { "hold" },
        if why.is_empty() {
            String::new()
        } else {
            format!(" ({})", why.join("; "))
        }
    ))
}

/// The message for a failed download: what happened and what to do about it.
fn explain(url: &str, wait: Duration, e: &ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(t) => super::fetch::timed_out(url, wait, &format!("{t}")),
        ureq::Error::StatusCode(404) => format!(
            "the server has no file at {url} (HTTP 404)\n  nothing was written; check the URL \
             (the archive's name and version)"
        ),
        ureq::Error::StatusCode(code @ (401 | 403)) => format!(
            "the server wants a login to download {url} (HTTP {code})\n  nothing was written; \
             planexec downloads archives without credentials: publish the archive where this machine \
             can read it, or use a `git+https://` source (git's credential helpers give its login)"
        ),
        ureq::Error::StatusCode(code) => {
            format!("the server answered HTTP {code} for {url}\n  nothing was written")
        }
        ureq::Error::RequireHttpsOnly(to) => format!(
            "the server redirected the download to a URL that is not https ({to})\n  nothing was written; \
             an https source is only fetched over https: ask the server's owner, or use the URL it should redirect to"
        ),
        ureq::Error::BodyExceedsLimit(limit) => format!(
            "the archive at {url} is larger than {limit} bytes\n  nothing was written; a pack is limited to that size"
        ),
        _ if tls_failure(e).is_some() => format!(
            "the TLS connection to the server failed: {}\n  nothing was written; {TRUST_HINT}",
            tls_failure(e).unwrap_or_default()
        ),
        _ => format!(
            "cannot download {url}: {e}\n  nothing was written; check the URL and that this machine can reach the server"
        ),
    }
}

/// The TLS error behind `e`, if a TLS handshake or certificate check is what failed.
pub fn tls_failure(e: &ureq::Error) -> Option<String> {
    match e {
        ureq::Error::Rustls(r) => Some(r.to_string()),
        ureq::Error::Tls(m) => Some(m.to_string()),
        ureq::Error::Io(io) => io
            .get_ref()
            .and_then(|i| i.downcast_ref::<rustls::Error>())
            .map(|r| r.to_string()),
        _ => None,
    }
}
