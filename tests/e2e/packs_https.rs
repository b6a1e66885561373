//! Packs over https end to end: a TLS smart-HTTP git server and archive server on
//! 127.0.0.1 with a test certificate authority; trust, offline runs, updates, errors.

use crate::packs::{git_pack, lock_of, tar_gz, workspace, write_pack, Env};
use crate::support::*;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn openssl(dir: &Path, args: &[&str]) {
    let o = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl command runs (.ci/run installs it)");
    assert!(
        o.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A new certificate authority `NAME.pem` / `NAME.key` in `dir`.
pub(crate) fn make_ca(dir: &Path, name: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let (pem, key) = (format!("{name}.pem"), format!("{name}.key"));
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &pem,
            "-days",
            "2",
            "-subj",
            &format!("/CN=planexec test {name}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    dir.join(pem)
}

/// The server's certificate for 127.0.0.1, signed by the authority `ca`: (cert, key).
pub(crate) fn server_cert(dir: &Path, ca: &str) -> (PathBuf, PathBuf) {
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    write(
        dir,
        "server.ext",
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    );
    (dir.join("server.pem"), dir.join("server.key"))
}

/// tests/fixtures/tls-server/tls_server.py serving `root` (git repositories, and
/// archives under `root/files`) on 127.0.0.1; killed when dropped.
pub(crate) struct TlsServer {
    child: Child,
    pub(crate) port: u16,
    log: PathBuf,
}

impl TlsServer {
    pub(crate) fn start(
        root: &Path,
        cert: &(PathBuf, PathBuf),
        port: u16,
        auth: &str,
    ) -> TlsServer {
        Self::start_redirecting(root, cert, port, auth, "")
    }

    /// [`TlsServer::start`] that also redirects `/moved/X` to `redirect_to` + `/X`.
    fn start_redirecting(
        root: &Path,
        cert: &(PathBuf, PathBuf),
        port: u16,
        auth: &str,
        redirect_to: &str,
    ) -> TlsServer {
        let port_file = root.join(format!("port-{}", rand_tag()));
        let log = root.join("server.log");
        let script = crate::support::root().join("tests/fixtures/tls-server/tls_server.py");
        let child = Command::new("python3")
            .arg(script)
            .args(["--root", root.to_str().unwrap()])
            .args(["--cert", cert.0.to_str().unwrap()])
            .args(["--key", cert.1.to_str().unwrap()])
            .args(["--port", &port.to_string()])
            .args(["--port-file", port_file.to_str().unwrap()])
            .args(["--auth", auth])
            .args(["--redirect-to", redirect_to])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("python3 runs");
        let mut server = TlsServer {
            child,
            port: 0,
            log,
        };
        let start = Instant::now();
        while !port_file.exists() {
            let exited = server.child.try_wait().unwrap();
            assert!(
                exited.is_none() && start.elapsed() < Duration::from_secs(30),
                "the TLS server did not start: {}",
                std::fs::read_to_string(&server.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server.port = std::fs::read_to_string(&port_file)
            .unwrap()
            .parse()
            .unwrap();
        server
    }

    fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn rand_tag() -> String {
    format!("{:?}", Instant::now()).replace(|c: char| !c.is_ascii_alphanumeric(), "")
}

/// A served tree: the pack repository at `root/acme.git` (tags v1, v2), the same
/// pack as `root/files/acme-1.0.0.tar.gz`, and a server certificate signed by `ca`.
struct Site {
    root: PathBuf,
    repo: PathBuf,
    ca: PathBuf,
    cert: (PathBuf, PathBuf),
}

fn site(tmp: &Path) -> Site {
    let root = tmp.join("site");
    let repo = git_pack(tmp);
    std::fs::create_dir_all(root.join("files")).unwrap();
    git(
        tmp,
        &[
            "clone",
            "-q",
            "--bare",
            repo.to_str().unwrap(),
            root.join("acme.git").to_str().unwrap(),
        ],
    );
    let src = tmp.join("archive-src");
    write_pack(&src, "1.0.0", &["true"]);
    std::fs::write(
        root.join("files/acme-1.0.0.tar.gz"),
        tar_gz(&src, "acme-1.0.0", &[]),
    )
    .unwrap();
    let certs = tmp.join("certs");
    let ca = make_ca(&certs, "ca");
    let cert = server_cert(&certs, "ca");
    Site {
        root,
        repo,
        ca,
        cert,
    }
}

/// Refused with exit 2, naming `pack` and `url` and each of `want`; nothing written.
fn refused(out: &Out, ws: &Path, toml_before: &str, pack: &str, url: &str, want: &[&str]) {
    assert_eq!(out.code, 2, "{out:?}");
    let head = format!("pack `{pack}` (");
    for w in [head.as_str(), url, "nothing was written"]
        .iter()
        .chain(want)
    {
        assert!(out.stderr.contains(w), "missing {w:?}: {out:?}");
    }
    assert!(
        !ws.join("planexec.lock").exists(),
        "nothing locked: {out:?}"
    );
    assert_eq!(
        std::fs::read_to_string(ws.join("planexec.toml")).unwrap(),
        toml_before,
        "planexec.toml unchanged"
    );
}

#[test]
fn a_git_https_pack_is_locked_runs_offline_and_updates_with_a_diff() {
    let tmp = tempfile::tempdir().unwrap();
    let site = site(tmp.path());
    let ws = workspace(tmp.path());
    let env = Env::new(tmp.path());
    let trust = [("SSL_CERT_FILE", site.ca.to_str().unwrap())];
    let server = TlsServer::start(&site.root, &site.cert, 0, "");
    let port = server.port;
    let src = format!("git+{}#v1", server.url("/acme.git"));

    let out = env.run_env(&ws, &["packs", "add", &src, "--yes"], &trust);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("may run program `true`"), "{out:?}");
    let v1 = git(&site.repo, &["rev-parse", "v1^{commit}"]);
    let lock = lock_of(&ws);
    assert_eq!(lock["packs"]["acme"]["commit"].as_str(), Some(v1.trim()));
    assert_eq!(lock["packs"]["acme"]["source"].as_str(), Some(src.as_str()));

    // The server goes away: runs and verification use the cache.
    drop(server);
    let out = env.run(&ws, &["gate", "run", "check"]);
    assert_eq!(out.code, 0, "offline: {out:?}");
    assert_eq!(env.run(&ws, &["packs", "verify"]).code, 0);

    // Back on the same address, the config moves to the tag v2, which also asks for curl.
    let _server = TlsServer::start(&site.root, &site.cert, port, "");
    let toml = std::fs::read_to_string(ws.join("planexec.toml")).unwrap();
    std::fs::write(ws.join("planexec.toml"), toml.replace("#v1", "#v2")).unwrap();
    let before = std::fs::read(ws.join("planexec.lock")).unwrap();
    let out = env.run_env(&ws, &["packs", "update"], &trust);
    assert_eq!(out.code, 1, "{out:?}");
    for want in [
        "+ `acme-check` may run program `curl`",
        "version: 1.0.0 -> 2.0.0",
        "nothing changed",
    ] {
        assert!(out.stdout.contains(want), "missing {want}: {out:?}");
    }
    assert_eq!(std::fs::read(ws.join("planexec.lock")).unwrap(), before);
    let out = env.run_env(&ws, &["packs", "update", "--yes"], &trust);
    assert_eq!(out.code, 0, "{out:?}");
    let v2 = git(&site.repo, &["rev-parse", "v2^{commit}"]);
    assert_eq!(
        lock_of(&ws)["packs"]["acme"]["commit"].as_str(),
        Some(v2.trim())
    );
}

#[test]
fn an_https_archive_pack_is_locked_and_runs_offline() {
    let tmp = tempfile::tempdir().unwrap();
    let site = site(tmp.path());
    let ws = workspace(tmp.path());
    let env = Env::new(tmp.path());
    let server = TlsServer::start(&site.root, &site.cert, 0, "");
    let url = server.url("/acme-1.0.0.tar.gz");
    let trust = [("SSL_CERT_FILE", site.ca.to_str().unwrap())];
    let out = env.run_env(&ws, &["packs", "add", &url, "--yes"], &trust);
    assert_eq!(out.code, 0, "{out:?}");
    let gz = std::fs::read(site.root.join("files/acme-1.0.0.tar.gz")).unwrap();
    use sha2::Digest;
    let sha = hex::encode(sha2::Sha256::digest(&gz));
    assert_eq!(
        lock_of(&ws)["packs"]["acme"]["archive_sha256"].as_str(),
        Some(sha.as_str())
    );
    drop(server);
    let out = env.run(&ws, &["gate", "run", "check"]);
    assert_eq!(out.code, 0, "offline: {out:?}");
}

#[test]
fn a_certificate_from_an_untrusted_authority_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let site = site(tmp.path());
    let ws = workspace(tmp.path());
    let toml = std::fs::read_to_string(ws.join("planexec.toml")).unwrap();
    let env = Env::new(tmp.path());
    let server = TlsServer::start(&site.root, &site.cert, 0, "");
    // Another authority than the one that signed the server's certificate.
    let other = make_ca(&tmp.path().join("other"), "other-ca");
    let untrusted = [("SSL_CERT_FILE", other.to_str().unwrap())];
    let git_url = server.url("/acme.git");
    let archive = server.url("/acme-1.0.0.tar.gz");
    for (source, pack, url) in [
        (format!("git+{git_url}#v1"), "acme", git_url.as_str()),
        (archive.clone(), "acme-1.0.0", archive.as_str()),
    ] {
        let out = env.run_env(&ws, &["packs", "add", &source, "--yes"], &untrusted);
        refused(
            &out,
            &ws,
            &toml,
            pack,
            url,
            &["TLS connection", "certificate", "SSL_CERT_FILE"],
        );
        // The same source is accepted once its authority is trusted.
        let ok = env.run_env(
            &ws,
            &["packs", "add", &source, "--yes", "--name", pack],
            &[("SSL_CERT_FILE", site.ca.to_str().unwrap())],
        );
        assert_eq!(ok.code, 0, "{ok:?}");
        std::fs::write(ws.join("planexec.toml"), &toml).unwrap();
        std::fs::remove_file(ws.join("planexec.lock")).unwrap();
    }
}

#[test]
fn https_fetch_failures_name_the_pack_the_url_and_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let site = site(tmp.path());
    let ws = workspace(tmp.path());
    let toml = std::fs::read_to_string(ws.join("planexec.toml")).unwrap();
    let env = Env::new(tmp.path());
    let server = TlsServer::start(&site.root, &site.cert, 0, "");
    let trust = [("SSL_CERT_FILE", site.ca.to_str().unwrap())];
    let (missing, private) = (server.url("/missing.git"), server.url("/private/acme.git"));
    let (repo, gz404) = (server.url("/acme.git"), server.url("/gone-1.0.tar.gz"));
    let gz401 = server.url("/private/acme-1.0.0.tar.gz");
    let cases: Vec<(String, &str, &str, &[&str])> = vec![
        (
            format!("git+{missing}#v1"),
            "missing",
            &missing,
            &["HTTP 404", "check the URL"],
        ),
        (
            format!("git+{private}#v1"),
            "acme",
            &private,
            &["credential helper"],
        ),
        (
            format!("git+{repo}#v9"),
            "acme",
            &repo,
            &["no tag, branch or commit `v9`", "git ls-remote"],
        ),
        (
            gz404.clone(),
            "gone-1.0",
            &gz404,
            &["HTTP 404", "check the URL"],
        ),
        (
            gz401.clone(),
            "acme-1.0.0",
            &gz401,
            &["HTTP 401", "without credentials"],
        ),
    ];
    for (source, pack, url, want) in cases {
        let out = env.run_env(&ws, &["packs", "add", &source, "--yes"], &trust);
        refused(&out, &ws, &toml, pack, url, want);
    }
    // The server is down: the URL and the reason are named.
    let port = server.port;
    drop(server);
    let out = env.run_env(
        &ws,
        &["packs", "add", &format!("git+{repo}#v1"), "--yes"],
        &trust,
    );
    refused(&out, &ws, &toml, "acme", &repo, &["can reach the server"]);
    // A declared pack whose rev is gone: `packs update` refuses and keeps the lock.
    let _server = TlsServer::start(&site.root, &site.cert, port, "");
    let src = format!("git+{repo}#v1");
    assert_eq!(
        env.run_env(&ws, &["packs", "add", &src, "--yes"], &trust)
            .code,
        0
    );
    let lock = std::fs::read(ws.join("planexec.lock")).unwrap();
    let declared = std::fs::read_to_string(ws.join("planexec.toml")).unwrap();
    std::fs::write(ws.join("planexec.toml"), declared.replace("#v1", "#v7")).unwrap();
    let out = env.run_env(&ws, &["packs", "update", "--yes"], &trust);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("pack `acme` (") && out.stderr.contains("`v7`"),
        "{out:?}"
    );
    assert_eq!(std::fs::read(ws.join("planexec.lock")).unwrap(), lock);
}

#[test]
fn a_private_git_pack_takes_its_login_from_git_credential_helpers() {
    let tmp = tempfile::tempdir().unwrap();
    let site = site(tmp.path());
    let ws = workspace(tmp.path());
    let toml = std::fs::read_to_string(ws.join("planexec.toml")).unwrap();
    let env = Env::new(tmp.path());
    let server = TlsServer::start(&site.root, &site.cert, 0, "acme:s3cret");
    let url = server.url("/private/acme.git");
    let src = format!("git+{url}#v1");
    // The helpers never read the request git2 writes to them: planexec (which dies on a
    // closed pipe otherwise) must not be killed when they exit first.
    let home = |password: &str| {
        let h = tmp.path().join(format!("home-{password}"));
        write(
            &h,
            ".gitconfig",
            &format!("[credential]\n\thelper = \"!f() {{ echo username=acme; echo password={password}; }}; f\"\n"),
        );
        h
    };
    let (wrong, right) = (home("guess"), home("s3cret"));
    let ca = site.ca.to_str().unwrap();
    let out = env.run_env(
        &ws,
        &["packs", "add", &src, "--yes"],
        &[("SSL_CERT_FILE", ca), ("HOME", wrong.to_str().unwrap())],
    );
    refused(&out, &ws, &toml, "acme", &url, &["refused the credentials"]);
    let out = env.run_env(
        &ws,
        &["packs", "add", &src, "--yes"],
        &[("SSL_CERT_FILE", ca), ("HOME", right.to_str().unwrap())],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(lock_of(&ws)["packs"]["acme"]["commit"].is_str());
}

#[test]
fn a_server_that_never_answers_is_given_up_on_after_the_fetch_timeout() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = workspace(tmp.path());
    let toml = std::fs::read_to_string(ws.join("planexec.toml")).unwrap();
    let env = Env::new(tmp.path());
    // Accepts connections and holds them open without a word (not even a TLS hello).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in listener.incoming() {
            held.push(c);
        }
    });
    let git_url = format!("https://127.0.0.1:{port}/acme.git");
    let archive = format!("https://127.0.0.1:{port}/acme-1.0.0.tar.gz");
    for (source, pack, url) in [
        (format!("git+{git_url}#v1"), "acme", git_url.as_str()),
        (archive.clone(), "acme-1.0.0", archive.as_str()),
    ] {
        let start = Instant::now();
        let out = env.run_env(
            &ws,
            &["packs", "add", &source, "--yes"],
            &[("PLANEXEC_FETCH_TIMEOUT", "1s")],
        );
        refused(
            &out,
            &ws,
            &toml,
            pack,
            url,
            &["did not answer within 1s", "PLANEXEC_FETCH_TIMEOUT"],
        );
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "gave up late: {out:?}"
        );
    }
    let out = env.run_env(
        &ws,
        &["packs", "add", &archive, "--yes"],
        &[("PLANEXEC_FETCH_TIMEOUT", "soon")],
    );
    refused(
        &out,
        &ws,
        &toml,
        "acme-1.0.0",
        &archive,
        &["PLANEXEC_FETCH_TIMEOUT=`soon` is not a duration"],
    );
}

#[test]
fn an_https_archive_redirected_to_plain_http_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let site = site(tmp.path());
    let ws = workspace(tmp.path());
    let toml = std::fs::read_to_string(ws.join("planexec.toml")).unwrap();
    let env = Env::new(tmp.path());
    let trust = [("SSL_CERT_FILE", site.ca.to_str().unwrap())];
    // The same archive over plain http, where the https server sends `/moved/...`.
    let plain = crate::packs::Server::start();
    let gz = std::fs::read(site.root.join("files/acme-1.0.0.tar.gz")).unwrap();
    let http_url = plain.serve("/acme-1.0.0.tar.gz", gz);
    let base = http_url.trim_end_matches("/acme-1.0.0.tar.gz");
    let server = TlsServer::start_redirecting(&site.root, &site.cert, 0, "", base);
    let url = server.url("/moved/acme-1.0.0.tar.gz");
    let out = env.run_env(&ws, &["packs", "add", &url, "--yes"], &trust);
    refused(
        &out,
        &ws,
        &toml,
        "acme-1.0.0",
        &url,
        &["redirected", "not https", &http_url],
    );
    // The plain http URL itself, named as such, is the user's explicit choice.
    let out = env.run_env(&ws, &["packs", "add", &http_url, "--yes"], &trust);
    assert_eq!(out.code, 0, "{out:?}");
}

/// Issue 26: TLS starts only when a pack is fetched over https. `--version`, a no-op
/// gate and a gate from the already fetched pack never start it; the fetch does.
#[test]
fn tls_starts_only_when_a_pack_is_fetched_over_https() {
    let tmp = tempfile::tempdir().unwrap();
    let site = site(tmp.path());
    let ws = workspace(tmp.path());
    let env = Env::new(tmp.path());
    let plain = tmp.path().join("plain");
    std::fs::create_dir_all(&plain).unwrap();
    git_init(&plain);
    let log = tmp.path().join("tls.log");
    let probe = [
        ("PLANEXEC_TEST_TLS_LOG", log.to_str().unwrap()),
        ("SSL_CERT_FILE", site.ca.to_str().unwrap()),
    ];
    let started = || std::fs::read_to_string(&log).unwrap_or_default();

    let out = env.run_env(&plain, &["--version"], &probe);
    assert_eq!(out.code, 0, "{out:?}");
    let noop = ["gate", "run", "command", "--grant", "true", "--", "true"];
    let out = env.run_env(&plain, &noop, &probe);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(started(), "", "--version and a no-op gate start no TLS");

    let server = TlsServer::start(&site.root, &site.cert, 0, "");
    let url = server.url("/acme-1.0.0.tar.gz");
    let out = env.run_env(&ws, &["packs", "add", &url, "--yes"], &probe);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        started().contains("download agent"),
        "the fetch starts TLS: {:?}",
        started()
    );

    drop(server);
    std::fs::remove_file(&log).unwrap();
    let out = env.run_env(&ws, &["gate", "run", "check"], &probe);
    assert_eq!(out.code, 0, "offline: {out:?}");
    assert_eq!(started(), "", "a gate from the cached pack starts no TLS");
}
