//! git's smart HTTP protocol over ureq and rustls, registered with libgit2 for `https://`,
//! so no process links or starts OpenSSL; logins come from git's credential helpers.

use git2::transport::{Service, SmartSubtransport, SmartSubtransportStream, Transport};
use git2::{Error, ErrorClass, ErrorCode};
use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;
use ureq::ResponseExt;

/// The wait `https://` fetches use; set by `register` before each fetch.
static WAIT: Mutex<Duration> = Mutex::new(Duration::from_secs(30));

/// Makes libgit2 fetch `https://` URLs through this module; `wait` bounds connecting
/// and each answer (a body gets ten times it). Safe to call before every fetch.
pub fn register(wait: Duration) -> Result<(), String> {
    *WAIT.lock().unwrap_or_else(|p| p.into_inner()) = wait;
    static ONCE: Once = Once::new();
    let mut result = Ok(());
    ONCE.call_once(|| {
        crate::lazy::tls_starting("git https transport");
        // SAFETY: registration happens once, before any https fetch, from the fetching thread.
        result = unsafe { git2::transport::register("https", factory) }
            .map_err(|e| e.message().to_string());
    });
    result
}

fn factory(remote: &git2::Remote<'_>) -> Result<Transport, Error> {
    let wait = *WAIT.lock().unwrap_or_else(|p| p.into_inner());
    let agent = super::download::agent(true, wait).map_err(|m| http_error(&m))?;
    let sub = Subtransport(Arc::new(Shared {
        agent,
        base: Mutex::new(String::new()),
        login: Mutex::new(Login::NotAsked),
    }));
    Transport::smart(remote, true, sub)
}

struct Subtransport(Arc<Shared>);

struct Shared {
    agent: ureq::Agent,
    /// The repository's URL, after the redirects of the first request.
    base: Mutex<String>,
    login: Mutex<Login>,
}

#[derive(Clone)]
enum Login {
    NotAsked,
    Given(String, String),
}

impl SmartSubtransport for Subtransport {
    fn action(
        &self,
        url: &str,
        action: Service,
    ) -> Result<Box<dyn SmartSubtransportStream>, Error> {
        let mut base = self.0.base.lock().unwrap_or_else(|p| p.into_inner());
        if base.is_empty() {
            *base = url.trim_end_matches('/').to_string();
        }
        let (path, post) = match action {
            Service::UploadPackLs => ("/info/refs?service=git-upload-pack", false),
            Service::UploadPack => ("/git-upload-pack", true),
            Service::ReceivePackLs | Service::ReceivePack => {
                return Err(http_error(
                    "planexec only fetches over https; it never pushes",
                ))
            }
        };
        drop(base);
        let mut stream = Stream {
            shared: self.0.clone(),
            path,
            post,
            sent: Vec::new(),
            body: None,
        };
        // The GET is sent at once, so that a refused certificate or login keeps its error code.
        if !post {
            stream.body = Some(stream.send()?);
        }
        Ok(Box::new(stream))
    }

    fn close(&self) -> Result<(), Error> {
        Ok(())
    }
}

/// One request: what libgit2 writes is the POST body; the first read sends it.
struct Stream {
    shared: Arc<Shared>,
    path: &'static str,
    post: bool,
    sent: Vec<u8>,
    body: Option<ureq::BodyReader<'static>>,
}

impl Stream {
    fn send(&mut self) -> Result<ureq::BodyReader<'static>, Error> {
        let base = self
            .shared
            .base
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let url = format!("{base}{}", self.path);
        let resp = match self.request(&url, None) {
            Err(ureq::Error::StatusCode(401)) => self.with_login(&base, &url)?,
            other => other.map_err(|e| ureq_error(&url, &e))?,
        };
        if !self.post {
            self.remember_base(&resp);
            expect_smart(&resp, &url)?;
        }
        Ok(resp.into_body().into_reader())
    }

    /// Asks git's credential helpers once, then retries; a second 401 is a refusal.
    fn with_login(&self, base: &str, url: &str) -> Result<ureq::http::Response<ureq::Body>, Error> {
        let mut login = self.shared.login.lock().unwrap_or_else(|p| p.into_inner());
        if matches!(*login, Login::NotAsked) {
            let config = git2::Config::open_default()?;
            let (user, pass) = git2::CredentialHelper::new(base)
                .config(&config)
                .execute()
                .ok_or_else(|| {
                    auth_error("the server requires a login and no git credential helper gave one")
                })?;
            *login = Login::Given(user, pass);
        }
        let given = login.clone();
        drop(login);
        match self.request(url, Some(given)) {
            Err(ureq::Error::StatusCode(401 | 403)) => Err(auth_error(
                "the server refused the credentials git's credential helper gave",
            )),
            other => other.map_err(|e| ureq_error(url, &e)),
        }
    }

    fn request(
        &self,
        url: &str,
        login: Option<Login>,
    ) -> Result<ureq::http::Response<ureq::Body>, ureq::Error> {
        let auth = match login {
            Some(Login::Given(u, p)) => Some(basic(&u, &p)),
            _ => None,
        };
        if self.post {
            let mut req = self
                .shared
                .agent
                .post(url)
                .header("Content-Type", "application/x-git-upload-pack-request")
                .header("Accept", "application/x-git-upload-pack-result");
            if let Some(a) = &auth {
                req = req.header("Authorization", a);
            }
            req.send(&self.sent[..])
        } else {
            let mut req = self.shared.agent.get(url);
            if let Some(a) = &auth {
                req = req.header("Authorization", a);
            }
            req.call()
        }
    }

    /// After redirects, later requests go where the first one ended.
    fn remember_base(&self, resp: &ureq::http::Response<ureq::Body>) {
        let end = resp.get_uri().to_string();
        if let Some(b) = end.strip_suffix(self.path) {
            *self.shared.base.lock().unwrap_or_else(|p| p.into_inner()) = b.to_string();
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.body.is_none() {
            let body = self
                .send()
                .map_err(|e| io::Error::other(e.message().to_string()))?;
            self.body = Some(body);
        }
        self.body.as_mut().map_or(Ok(0), |b| b.read(buf))
    }
}

impl Write for Stream {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.sent.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A dumb HTTP server answers `info/refs` without the smart content type.
fn expect_smart(resp: &ureq::http::Response<ureq::Body>, url: &str) -> Result<(), Error> {
    let kind = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if kind.starts_with("application/x-git-upload-pack-advertisement") {
        return Ok(());
    }
    Err(http_error(&format!(
        "{url} is not a smart git HTTP server (content type `{kind}`); planexec fetches only from smart servers"
    )))
}

/// A ureq failure as a libgit2 error whose code and text `git::explain` reads.
fn ureq_error(url: &str, e: &ureq::Error) -> Error {
    match e {
        ureq::Error::Timeout(t) => Error::new(
            ErrorCode::Timeout,
            ErrorClass::Net,
            format!("{url}: timed out ({t})"),
        ),
        ureq::Error::StatusCode(code) => {
            http_error(&format!("unexpected HTTP status code: {code} ({url})"))
        }
        _ => match super::download::tls_failure(e) {
            Some(tls) => Error::new(ErrorCode::Certificate, ErrorClass::Ssl, tls),
            None => Error::new(
                ErrorCode::GenericError,
                ErrorClass::Net,
                format!("{url}: {e}"),
            ),
        },
    }
}

fn http_error(m: &str) -> Error {
    Error::new(ErrorCode::GenericError, ErrorClass::Http, m)
}

fn auth_error(m: &str) -> Error {
    Error::new(ErrorCode::Auth, ErrorClass::Http, m)
}

/// The value of a Basic login header.
fn basic(user: &str, pass: &str) -> String {
    use base64::Engine as _;
    let coded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
    format!("Basic {coded}")
}
