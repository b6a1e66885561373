//! Network by name (issue 28): a boxed program reaches the hosts of its allow
//! list through planexec's proxy and nothing else; the proxy resolves names on
//! the host (mapped here by its test hooks onto servers on 127.0.0.1).

use crate::confine::{evidence, Scene};
use crate::support::*;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// A plain HTTP server on 127.0.0.1 answering every request with `body`;
/// keeps the request heads it received.
pub(crate) struct Server {
    pub(crate) port: u16,
    pub(crate) heads: Arc<Mutex<Vec<String>>>,
}

impl Server {
    pub(crate) fn start(body: &'static str) -> Server {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let h = heads.clone();
        std::thread::spawn(move || {
            for mut c in l.incoming().flatten() {
                let mut head = Vec::new();
                let mut b = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match c.read(&mut b) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&b[..n]),
                    }
                }
                h.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&head).into_owned());
                let _ = write!(
                    c,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Server { port, heads }
    }
}

/// Each probe: `NAME:REACHED` with what the server said, or `NAME:REFUSED`.
const PROBE: &str = r#"
import os, socket, sys, urllib.request, http.client
def report(name, f):
    try:
        print(name + ":REACHED " + f())
    except Exception as e:
        print(name + ":REFUSED " + str(e).replace("\n", " "))
def via_env(url):
    return lambda: urllib.request.urlopen(url, timeout=20).read().decode()
def via_connect(host, port):
    def go():
        c = http.client.HTTPConnection("127.0.0.1", 3128, timeout=20)
        c.set_tunnel(host, port)
        c.request("GET", "/")
        return c.getresponse().read().decode()
    return go
def via_socks(host, port):
    def go():
        s = socket.create_connection(("127.0.0.1", 3128), timeout=20)
        s.sendall(b"\x05\x01\x00"); assert s.recv(2) == b"\x05\x00"
        n = host.encode()
        s.sendall(b"\x05\x01\x00\x03" + bytes([len(n)]) + n + port.to_bytes(2, "big"))
        r = s.recv(10)
        if r[1] != 0: raise Exception("socks reply %d" % r[1])
        s.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk: break
            data += chunk
        return data.decode().split("\r\n\r\n", 1)[1]
    return go
def direct(port):
    return lambda: str(socket.create_connection(("127.0.0.1", port), timeout=5))
P, Q = int(sys.argv[1]), int(sys.argv[2])
report("allowed-env", via_env("http://api.allowed.test:8080/"))
report("allowed-connect", via_connect("api.allowed.test", 8080))
report("allowed-socks", via_socks("api.allowed.test", 8080))
report("denied", via_env("http://evil.test:8080/"))
report("denied-socks", via_socks("evil.test", 8080))
report("host-loopback", via_env("http://127.0.0.1:%d/" % P))
report("loopback-name", via_connect("loop.allowed.test", P))
report("private", via_env("http://internal.allowed.test:8080/"))
report("listed-address", via_env("http://127.0.0.1:%d/" % Q))
report("bypass", direct(P))
report("unreachable", via_env("http://dead.allowed.test:8080/"))
"#;

fn scene(q: u16, p: u16) -> Scene {
    Scene::new(&format!(
        "[policy.plugins.command]\nnetwork = {{ allow = [\"api.allowed.test:8080\", \
         \"dead.allowed.test:8080\", \"internal.allowed.test:8080\", \"loop.allowed.test:{p}\", \"127.0.0.1:{q}\"] }}\n"
    ))
}

fn line<'a>(ev: &'a str, name: &str) -> &'a str {
    let tag = format!("{name}:");
    ev.lines()
        .find_map(|l| l.find(&tag).map(|i| &l[i..]))
        .unwrap_or_else(|| panic!("no `{name}` line in {ev}"))
}

#[test]
fn a_boxed_program_reaches_allowed_names_only() {
    let a = Server::start("SERVER-A-OK");
    let b = Server::start("SERVER-B-OK");
    let s = scene(b.port, a.port);
    let hosts = "api.allowed.test=203.0.113.7,evil.test=203.0.113.8,dead.allowed.test=203.0.113.9,\
                 internal.allowed.test=10.20.30.40,loop.allowed.test=127.0.0.1";
    // A port nothing listens on: the model server that is down.
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dial = format!(
        "203.0.113.7:8080=127.0.0.1:{p},203.0.113.8:8080=127.0.0.1:{p},10.20.30.40:8080=127.0.0.1:{p},\
         203.0.113.9:8080=127.0.0.1:{closed}",
        p = a.port
    );
    let (pa, pb) = (a.port.to_string(), b.port.to_string());
    let out = s.gate(
        &[
            "command", "--grant", "python3", "--", "python3", "-c", PROBE, &pa, &pb,
        ],
        true,
        &[
            ("PLANEXEC_TEST_PROXY_HOSTS", hosts),
            ("PLANEXEC_TEST_PROXY_DIAL", &dial),
        ],
    );
    let ev = evidence(&out);
    for reached in ["allowed-env", "allowed-connect", "allowed-socks"] {
        assert!(
            line(&ev, reached).contains("REACHED SERVER-A-OK"),
            "{reached}: {ev}\n{out:?}"
        );
    }
    assert!(
        line(&ev, "listed-address").contains("REACHED SERVER-B-OK"),
        "{ev}"
    );
    for refused in [
        "denied",
        "denied-socks",
        "host-loopback",
        "loopback-name",
        "private",
        "bypass",
        "unreachable",
    ] {
        assert!(line(&ev, refused).contains("REFUSED"), "{refused}: {ev}");
    }
    // Each refusal is said with the host it asked for: in the gate's evidence and on the terminal.
    for (target, why) in [
        ("evil.test:8080", "not in the allow list"),
        (&format!("127.0.0.1:{pa}"), "not in the allow list"),
        (
            &format!("loop.allowed.test:{pa}"),
            "127.0.0.1 is the host's own or a private address",
        ),
        (
            "internal.allowed.test:8080",
            "10.20.30.40 is the host's own or a private address",
        ),
        ("dead.allowed.test:8080", "unreachable from the host"),
    ] {
        let said = format!("network: refused {target}: {why}");
        assert!(ev.contains(&said), "evidence lacks `{said}`: {ev}");
        assert!(
            out.stderr.contains(&said),
            "terminal lacks `{said}`: {}",
            out.stderr
        );
    }
    // The server saw only the three allowed requests, never the refused ones.
    assert_eq!(
        a.heads.lock().unwrap().len(),
        3,
        "{:?}",
        a.heads.lock().unwrap()
    );
}

#[test]
fn the_proxy_variables_point_at_the_box_relay_and_nothing_bypasses_it() {
    let s =
        Scene::new("[policy.plugins.command]\nnetwork = { allow = [\"api.allowed.test:443\"] }\n");
    let out = s.gate(
        &["command", "--grant", "python3", "--", "python3", "-c",
          "import os\nfor k in ['HTTPS_PROXY','https_proxy','HTTP_PROXY','http_proxy','ALL_PROXY','all_proxy','NO_PROXY','no_proxy','NODE_USE_ENV_PROXY']: print(k + '=' + repr(os.environ.get(k)))"],
        true,
        &[("NO_PROXY", "*"), ("HTTPS_PROXY", "http://elsewhere:1")],
    );
    let ev = evidence(&out);
    for want in [
        "HTTPS_PROXY='http://127.0.0.1:3128'",
        "https_proxy='http://127.0.0.1:3128'",
        "HTTP_PROXY='http://127.0.0.1:3128'",
        "ALL_PROXY='http://127.0.0.1:3128'",
        "all_proxy='http://127.0.0.1:3128'",
        "NO_PROXY=''",
        "no_proxy=''",
        "NODE_USE_ENV_PROXY='1'",
    ] {
        assert!(ev.contains(want), "{want}: {ev}\n{out:?}");
    }
}

#[test]
fn a_bad_allow_entry_is_a_configuration_error_naming_it() {
    let s = Scene::new("[policy]\nnetwork = { allow = [\"api.example.com\"] }\n");
    let out = s.gate(&["command", "--grant", "true", "--", "true"], true, &[]);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("planexec.toml")
            && out
                .stderr
                .contains("[policy] network: network allow entry `api.example.com`: no port"),
        "{}",
        out.stderr
    );
}

#[test]
fn plugins_list_names_the_full_network_as_the_wider_grant() {
    let s = Scene::new(
        "[policy.plugins.command]\nnetwork = \"full\"\n[policy.plugins.junit]\nnetwork = { allow = [\"api.example.com:443\"] }\n",
    );
    let out = output_of(planexec_command(
        &s.ws(),
        &["plugins", "list", "--grant", "python3"],
        &[],
    ));
    let all = out.all();
    assert!(
        all.contains("network FULL (the whole internet and the host's own network)"),
        "{all}"
    );
    assert!(
        all.contains("network only [api.example.com:443] through planexec's proxy"),
        "{all}"
    );
}

/// A boxed program reading its key variable sees only the placeholder; the
/// model server on a listed host receives the real key (through the plain proxy
/// and through a CONNECT tunnel carrying plain HTTP), another allowed host
/// only the placeholder, and nothing the run prints holds the key.
#[test]
fn the_box_sees_a_placeholder_and_only_the_listed_host_gets_the_key() {
    let model = Server::start("MODEL-OK");
    let other = Server::start("OTHER-OK");
    let key = "sk-real-key-6f1d2c9a8b7e";
    let s = Scene::new(&format!(
        "[policy]\nenv = [\"MODEL_KEY\", \"HOST_MODEL_KEY\"]\n\
         [policy.plugins.command]\nnetwork = {{ allow = [\"127.0.0.1:{}\", \"127.0.0.1:{}\"] }}\n\
         [policy.secrets]\nMODEL_KEY = {{ from_env = \"HOST_MODEL_KEY\", hosts = [\"127.0.0.1:{}\"] }}\n",
        model.port, other.port, model.port
    ));
    let probe = "import os, urllib.request\n\
        k = os.environ.get('MODEL_KEY')\n\
        print('SEEN=' + repr(k) + ' HOSTVAR=' + repr(os.environ.get('HOST_MODEL_KEY')))\n\
        for p in os.sys.argv[1:]:\n    \
            r = urllib.request.Request('http://127.0.0.1:%s/v1/messages' % p, headers={'x-api-key': k, 'Authorization': 'Bearer ' + k})\n    \
            print(urllib.request.urlopen(r, timeout=20).read().decode())\n\
        import http.client\n\
        c = http.client.HTTPConnection('127.0.0.1', 3128, timeout=20)\n\
        c.set_tunnel('127.0.0.1', int(os.sys.argv[1]))\n\
        c.request('GET', '/tunnel', headers={'x-api-key': k})\n\
        print('TUNNEL=' + c.getresponse().read().decode())\n";
    let (pm, po) = (model.port.to_string(), other.port.to_string());
    let out = s.gate(
        &[
            "command", "--grant", "python3", "--", "python3", "-c", probe, &pm, &po,
        ],
        true,
        &[("HOST_MODEL_KEY", key), ("MODEL_KEY", key)],
    );
    let ev = evidence(&out);
    assert!(
        ev.contains("SEEN='planexec-placeholder-MODEL_KEY' HOSTVAR=None"),
        "{ev}\n{out:?}"
    );
    assert!(ev.contains("MODEL-OK") && ev.contains("OTHER-OK"), "{ev}");
    let got = model.heads.lock().unwrap().join("\n");
    assert!(
        got.to_ascii_lowercase()
            .contains(&format!("x-api-key: {key}")),
        "{got}"
    );
    assert!(got.contains(&format!("Bearer {key}")), "{got}");
    // Plain HTTP inside a CONNECT tunnel (how Node's proxy agents reach an http:// server).
    assert!(ev.contains("TUNNEL=MODEL-OK"), "{ev}");
    let tunnel = model
        .heads
        .lock()
        .unwrap()
        .iter()
        .find(|h| h.starts_with("GET /tunnel"))
        .cloned();
    let tunnel = tunnel.unwrap_or_else(|| panic!("no tunnelled request: {got}"));
    assert!(
        tunnel
            .to_ascii_lowercase()
            .contains(&format!("x-api-key: {key}")),
        "{tunnel}"
    );
    let other_got = other.heads.lock().unwrap().join("\n");
    assert!(
        !other_got.contains(key) && other_got.contains("planexec-placeholder-MODEL_KEY"),
        "{other_got}"
    );
    assert!(
        !out.all().contains(key),
        "the key reached planexec's output"
    );
}

/// Over https: the proxy terminates the box's TLS for the host a secret goes to
/// (with a per-run CA the box trusts), puts the key into the request, and talks
/// TLS to the real server, which it checks against the host's roots. The server
/// (tests/fixtures/tls-server) answers /private/ only with the right credentials.
#[test]
fn over_https_the_listed_host_gets_the_key_and_the_box_only_the_placeholder() {
    use crate::packs_https::{make_ca, server_cert, TlsServer};
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("site");
    write(&root, "files/model.txt", "MODEL-ANSWER\n");
    let certs = tmp.path().join("certs");
    let ca = make_ca(&certs, "ca");
    let cert = server_cert(&certs, "ca");
    let server = TlsServer::start(&root, &cert, 0, "agent:k3y-Val-9f8e7d");
    let value = "Basic YWdlbnQ6azN5LVZhbC05ZjhlN2Q=";
    let port = server.port;
    let s = Scene::new(&format!(
        "[policy.plugins.command]\nnetwork = {{ allow = [\"127.0.0.1:{port}\"] }}\n\
         [policy.secrets]\nSITE_AUTH = {{ from_env = \"HOST_SITE_AUTH\", hosts = [\"127.0.0.1:{port}\"] }}\n"
    ));
    let probe = "import os, sys, urllib.request\n\
        a = os.environ['SITE_AUTH']\n\
        print('SEEN=' + a)\n\
        r = urllib.request.Request('https://127.0.0.1:%s/private/model.txt' % sys.argv[1], headers={'Authorization': a})\n\
        print('BODY=' + urllib.request.urlopen(r, timeout=30).read().decode())\n";
    let out = s.gate(
        &[
            "command",
            "--grant",
            "python3",
            "--",
            "python3",
            "-c",
            probe,
            &port.to_string(),
        ],
        true,
        &[
            ("HOST_SITE_AUTH", value),
            ("SSL_CERT_FILE", ca.to_str().unwrap()),
        ],
    );
    let ev = evidence(&out);
    assert!(
        ev.contains("SEEN=planexec-placeholder-SITE_AUTH"),
        "{ev}\n{out:?}"
    );
    assert!(ev.contains("BODY=MODEL-ANSWER"), "{ev}\n{out:?}");
    assert!(
        !out.all().contains("YWdlbnQ6azN5LVZhbC05ZjhlN2Q"),
        "the key reached planexec's output"
    );
}

/// A secret whose host variable is not set stops the run in pre-flight, naming it.
#[test]
fn a_secret_without_its_host_variable_fails_pre_flight() {
    let s = Scene::new(
        "[policy.secrets]\nMODEL_KEY = { from_env = \"PLANEXEC_TEST_UNSET_KEY\", hosts = [\"api.example.com\"] }\n",
    );
    write(&s.ws(), "plan.md", "# Plan: x\n\n## Tasks\n\n### T001: One\n**Summary**: one\n**Dependencies**: none\n**Files/modules touched**: a.txt\n**Acceptance test**: `true`\n");
    let out = output_of(planexec_command(
        &s.ws(),
        &["run", "plan.md", "--implementer", "manual"],
        &[],
    ));
    assert_ne!(out.code, 0, "{out:?}");
    let all = out.all();
    assert!(
        all.contains("[policy.secrets] `MODEL_KEY` (from_env = \"PLANEXEC_TEST_UNSET_KEY\"): the host variable is not set"),
        "{all}"
    );
}

/// Hostile: a boxed program holding a hundred tunnels open gets at most 64 at
/// once; the rest are closed and said, and the host's threads stay bounded.
#[test]
fn a_flood_of_tunnels_is_capped() {
    let a = Server::start("NEVER-READ");
    let s =
        Scene::new("[policy.plugins.command]\nnetwork = { allow = [\"api.allowed.test:8080\"] }\n");
    let dial = format!("203.0.113.7:8080=127.0.0.1:{}", a.port);
    let probe = "import socket\n\
        socks = []\n\
        for i in range(100):\n    \
            s = socket.create_connection(('127.0.0.1', 3128), timeout=10)\n    \
            s.sendall(b'CONNECT api.allowed.test:8080 HTTP/1.1\\r\\n\\r\\n')\n    \
            socks.append(s)\n\
        ok = 0\n\
        for s in socks:\n    \
            try:\n        \
                ok += b' 200 ' in s.recv(100)\n    \
            except Exception:\n        \
                pass\n\
        print('ESTABLISHED=%d' % ok, file=__import__('sys').stderr)\n";
    let out = s.gate(
        &[
            "command", "--grant", "python3", "--", "python3", "-c", probe,
        ],
        true,
        &[
            ("PLANEXEC_TEST_PROXY_HOSTS", "api.allowed.test=203.0.113.7"),
            ("PLANEXEC_TEST_PROXY_DIAL", &dial),
        ],
    );
    let ev = evidence(&out);
    assert!(ev.contains("ESTABLISHED=64"), "{ev}\n{out:?}");
    assert!(
        ev.contains("network: refused (any): more than 64 connections at once (36 times)"),
        "{ev}"
    );
}
