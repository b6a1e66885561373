//! Packs end to end: a pack from a local git repository and from an archive on
//! a test HTTP server; the lock, offline runs, tampering, updates and their diff.

use crate::support::*;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The standard `command` gate's component, built by host/build.rs.
pub(crate) fn command_wasm() -> PathBuf {
    let p = target_dir().join("wasm-plugins/wasm32-wasip2/release/command.wasm");
    assert!(p.is_file(), "{} was not built", p.display());
    p
}

/// Writes a pack folder: pack.toml and one gate `acme-check` requesting `commands`.
pub(crate) fn write_pack(dir: &Path, version: &str, commands: &[&str]) {
    let list: Vec<String> = commands.iter().map(|c| format!("{c:?}")).collect();
    write(dir, "pack.toml", &format!(
        "name = \"acme\"\nversion = \"{version}\"\ndescription = \"Acme's shared gates\"\n\n[policy]\ngrant = [{}]\n",
        list.join(", ")
    ));
    write(dir, "acme-check/plugin.toml", &format!(
        "name = \"acme-check\"\nkind = \"gate\"\nversion = \"{version}\"\ncomponent = \"acme-check.wasm\"\n\n[requests]\ncommands = [{}]\nnetwork = \"none\"\n",
        list.join(", ")
    ));
    std::fs::copy(command_wasm(), dir.join("acme-check/acme-check.wasm")).unwrap();
}

/// A git repository with the pack at tag v1 (runs `true`) and v2 (also asks for `curl`).
pub(crate) fn git_pack(root: &Path) -> PathBuf {
    let repo = root.join("acme-gates");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["config", "user.email", "t@example.com"]);
    git(&repo, &["config", "user.name", "t"]);
    write_pack(&repo, "1.0.0", &["true"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "v1"]);
    git(&repo, &["tag", "v1"]);
    write_pack(&repo, "2.0.0", &["true", "curl"]);
    git(&repo, &["commit", "-qam", "v2"]);
    git(&repo, &["tag", "v2"]);
    repo
}

/// A workspace whose policy grants `true` and whose gate `check` is the pack's plugin.
pub(crate) fn workspace(root: &Path) -> PathBuf {
    let ws = root.join("ws");
    write(&ws, "planexec.toml", "[policy]\ngrant = [\"true\"]\n\n[gates.check]\nplugin = \"acme-check\"\ncommand = \"true\"\n");
    ws
}

pub(crate) struct Env {
    pub(crate) packs: PathBuf,
}

impl Env {
    pub(crate) fn new(root: &Path) -> Env {
        Env {
            packs: root.join("pack-cache"),
        }
    }
    pub(crate) fn run(&self, dir: &Path, args: &[&str]) -> Out {
        self.run_env(dir, args, &[])
    }
    /// [`Env::run`] with extra environment variables.
    pub(crate) fn run_env(&self, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Out {
        let mut all = vec![("PLANEXEC_PACKS_DIR", self.packs.to_str().unwrap())];
        all.extend_from_slice(env);
        planexec_env(dir, args, &all)
    }
}

pub(crate) fn lock_of(ws: &Path) -> toml::Table {
    toml::from_str(&std::fs::read_to_string(ws.join("planexec.lock")).unwrap()).unwrap()
}

fn locked_plugin(ws: &Path) -> toml::Table {
    lock_of(ws)["packs"]["acme"]["plugins"][0]
        .as_table()
        .unwrap()
        .clone()
}

#[test]
fn git_pack_is_locked_run_refused_when_tampered_and_updated_only_with_yes() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = git_pack(tmp.path());
    let ws = workspace(tmp.path());
    let env = Env::new(tmp.path());
    let src = format!("git+file://{}#v1", repo.display());

    let out = env.run(&ws, &["packs", "add", &src, "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("may run program `true`"), "{out:?}");
    assert!(out.stdout.contains("suggests this policy"), "{out:?}");
    let v1 = git(&repo, &["rev-parse", "v1^{commit}"]);
    let lock = lock_of(&ws);
    assert_eq!(lock["packs"]["acme"]["commit"].as_str(), Some(v1.trim()));
    let wasm_sha = hex::encode(Sha256::digest(std::fs::read(command_wasm()).unwrap()));
    assert_eq!(
        locked_plugin(&ws)["component"].as_str(),
        Some(wasm_sha.as_str())
    );
    let before_add = "[policy]\ngrant = [\"true\"]\n\n[gates.check]\nplugin = \"acme-check\"\ncommand = \"true\"\n";
    let toml = std::fs::read_to_string(ws.join("planexec.toml")).unwrap();
    // Only the declaration is added: the pack's suggested policy is shown, never applied.
    assert_eq!(
        toml,
        format!("{before_add}\n[packs.acme]\nsource = \"{src}\"\n")
    );
    let out = env.run(&ws, &["packs", "list"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .contains(&format!("acme 1.0.0  {src}  @ {}", v1.trim())),
        "{out:?}"
    );
    assert!(
        out.stdout
            .contains("acme-check (gate 1.0.0)  requests: true"),
        "{out:?}"
    );

    let out = env.run(&ws, &["gate", "run", "check"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(env.run(&ws, &["packs", "verify"]).code, 0);

    // Tamper with the cached component: the run refuses, naming both digests.
    let digest = lock["packs"]["acme"]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let cached = env.packs.join(&digest).join("acme-check/acme-check.wasm");
    let mut bytes = std::fs::read(&cached).unwrap();
    bytes.extend_from_slice(b"\0evil");
    std::fs::write(&cached, &bytes).unwrap();
    let actual = hex::encode(Sha256::digest(&bytes));
    for args in [&["gate", "run", "check"][..], &["packs", "verify"][..]] {
        let out = env.run(&ws, args);
        assert_eq!(out.code, 2, "{args:?} {out:?}");
        for want in [
            "pack `acme`, plugin `acme-check`",
            &wasm_sha,
            &actual,
            "planexec packs update acme",
        ] {
            assert!(
                out.stderr.contains(want),
                "{args:?} missing {want}: {out:?}"
            );
        }
    }
    // A lost cache entry is fetched again at the locked commit.
    std::fs::remove_dir_all(env.packs.join(&digest)).unwrap();
    assert_eq!(env.run(&ws, &["gate", "run", "check"]).code, 0);

    // Point the config at v2: the run refuses until the update is accepted.
    std::fs::write(ws.join("planexec.toml"), toml.replace("#v1", "#v2")).unwrap();
    let out = env.run(&ws, &["gate", "run", "check"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("planexec packs update acme"), "{out:?}");
    let before = std::fs::read(ws.join("planexec.lock")).unwrap();
    let out = env.run(&ws, &["packs", "update"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout.contains("+ `acme-check` may run program `curl`"),
        "{out:?}"
    );
    assert!(out.stdout.contains("version: 1.0.0 -> 2.0.0"), "{out:?}");
    assert!(out.stdout.contains("nothing changed"), "{out:?}");
    assert_eq!(std::fs::read(ws.join("planexec.lock")).unwrap(), before);
    let out = env.run(&ws, &["packs", "update", "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(env.run(&ws, &["packs", "verify"]).code, 0);
    // The new version asks for curl, which the policy does not grant: it does not run.
    let out = env.run(&ws, &["gate", "run", "check"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("curl"), "{out:?}");
}

#[test]
fn a_tag_moved_under_the_lock_still_runs_the_locked_commit() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = git_pack(tmp.path());
    let ws = workspace(tmp.path());
    let env = Env::new(tmp.path());
    let src = format!("git+file://{}#v1", repo.display());
    assert_eq!(env.run(&ws, &["packs", "add", &src, "--yes"]).code, 0);
    // The pack's owner moves v1 to the version that asks for curl.
    git(&repo, &["tag", "-f", "v1", "v2"]);
    std::fs::remove_dir_all(&env.packs).unwrap();
    let out = env.run(&ws, &["gate", "run", "check"]);
    assert_eq!(
        out.code, 0,
        "the locked commit runs, not the moved tag: {out:?}"
    );
    assert_eq!(env.run(&ws, &["packs", "verify"]).code, 0);
    let out = env.run(&ws, &["packs", "update"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("may run program `curl`"), "{out:?}");
}

#[test]
fn an_untrusted_repository_cannot_declare_packs() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = git_pack(tmp.path());
    let ws = workspace(tmp.path());
    let env = Env::new(tmp.path());
    let src = format!("git+file://{}#v1", repo.display());
    assert_eq!(env.run(&ws, &["packs", "add", &src, "--yes"]).code, 0);
    let out = planexec_env(
        &ws,
        &["gate", "run", "check"],
        &[
            ("PLANEXEC_TRUST", "0"),
            ("PLANEXEC_PACKS_DIR", env.packs.to_str().unwrap()),
        ],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("[packs] acme"),
        "the ignored pack is named: {out:?}"
    );
    assert!(
        out.stderr.contains("no plugin named `acme-check`"),
        "{out:?}"
    );
}

#[test]
fn a_lock_edited_by_hand_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = tmp.path().join("gates");
    write_pack(&pack, "1.0.0", &["true"]);
    let ws = workspace(tmp.path());
    let env = Env::new(tmp.path());
    assert_eq!(
        env.run(&ws, &["packs", "add", pack.to_str().unwrap(), "--yes"])
            .code,
        0
    );
    let lock = std::fs::read_to_string(ws.join("planexec.lock")).unwrap();
    let sha = locked_plugin(&ws)["manifest"].as_str().unwrap().to_string();
    let forged = "0".repeat(64);
    std::fs::write(ws.join("planexec.lock"), lock.replace(&sha, &forged)).unwrap();
    let out = env.run(&ws, &["gate", "run", "check"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains(&forged) && out.stderr.contains(&sha),
        "{out:?}"
    );
    // The folder changing after the lock does not change what runs until an update.
    std::fs::write(ws.join("planexec.lock"), &lock).unwrap();
    write_pack(&pack, "1.1.0", &["true", "sh"]);
    assert_eq!(env.run(&ws, &["gate", "run", "check"]).code, 0);
    let out = env.run(&ws, &["packs", "update", "acme"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("may run program `sh`"), "{out:?}");
}

/// A tiny HTTP server on 127.0.0.1 serving `files` by path until dropped.
pub(crate) struct Server {
    port: u16,
    files: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    pub(crate) fn start() -> Server {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let files: Arc<Mutex<HashMap<String, Vec<u8>>>> = Default::default();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (f, s) = (files.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for conn in l.incoming() {
                if s.load(std::sync::atomic::Ordering::SeqCst) {
                    return;
                }
                let Ok(mut c) = conn else { continue };
                let mut req = Vec::new();
                let mut buf = [0u8; 1024];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match c.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let line = String::from_utf8_lossy(&req)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_string();
                let path = line.split(' ').nth(1).unwrap_or("").to_string();
                let body = f.lock().unwrap().get(&path).cloned();
                let (status, body) = match body {
                    Some(b) => ("200 OK", b),
                    None => ("404 Not Found", b"no".to_vec()),
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = c.write_all(head.as_bytes());
                let _ = c.write_all(&body);
            }
        });
        Server {
            port,
            files,
            stop,
            thread: Some(thread),
        }
    }
    pub(crate) fn serve(&self, path: &str, bytes: Vec<u8>) -> String {
        self.files.lock().unwrap().insert(path.into(), bytes);
        format!("http://127.0.0.1:{}{path}", self.port)
    }
    fn stop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A .tar.gz of `dir` under the top folder `top`, plus `extra` raw entries.
pub(crate) fn tar_gz(dir: &Path, top: &str, extra: &[(&str, tar::EntryType, &str)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    b.append_dir_all(top, dir).unwrap();
    for (name, kind, link) in extra {
        let mut h = tar::Header::new_gnu();
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_entry_type(*kind);
        h.set_mode(0o755);
        let body: &[u8] = if *kind == tar::EntryType::Regular {
            b"#!/bin/sh\necho owned\n"
        } else {
            b""
        };
        h.set_size(body.len() as u64);
        if !link.is_empty() {
            h.set_link_name(link).unwrap();
        }
        h.set_cksum();
        b.append(&h, body).unwrap();
    }
    let raw = b.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&raw).unwrap();
    gz.finish().unwrap()
}

#[test]
fn archive_pack_runs_offline_and_refuses_a_changed_archive() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = tmp.path().join("src-pack");
    write_pack(&pack, "1.0.0", &["true"]);
    let ws = workspace(tmp.path());
    let env = Env::new(tmp.path());
    let mut server = Server::start();
    let gz = tar_gz(&pack, "acme-1.0.0", &[]);
    let url = server.serve("/acme-1.0.0.tar.gz", gz.clone());

    let out = env.run(&ws, &["packs", "add", &url, "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    let lock = lock_of(&ws);
    let archive_sha = hex::encode(Sha256::digest(&gz));
    assert_eq!(
        lock["packs"]["acme"]["archive_sha256"].as_str(),
        Some(archive_sha.as_str())
    );

    // The server changes the archive under the same URL.
    let mut other = tmp.path().join("other");
    write_pack(&other, "1.0.0", &["true", "curl"]);
    server.serve("/acme-1.0.0.tar.gz", tar_gz(&other, "acme-1.0.0", &[]));
    assert_eq!(
        env.run(&ws, &["gate", "run", "check"]).code,
        0,
        "cached: not fetched again"
    );
    let digest = lock["packs"]["acme"]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    std::fs::remove_dir_all(env.packs.join(&digest)).unwrap();
    let out = env.run(&ws, &["gate", "run", "check"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("changed on the server") && out.stderr.contains(&archive_sha),
        "{out:?}"
    );

    // Serve the original again, fetch it once, stop the server: runs work offline.
    server.serve("/acme-1.0.0.tar.gz", gz);
    assert_eq!(env.run(&ws, &["packs", "verify"]).code, 0);
    server.stop();
    let out = env.run(&ws, &["gate", "run", "check"]);
    assert_eq!(out.code, 0, "offline: {out:?}");
    assert_eq!(env.run(&ws, &["packs", "verify"]).code, 0);
    other.push("unused");
}

#[test]
fn hostile_archives_are_refused_and_write_nothing_outside() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = tmp.path().join("src-pack");
    write_pack(&pack, "1.0.0", &["true"]);
    let ws = workspace(tmp.path());
    let env = Env::new(tmp.path());
    let server = Server::start();
    let escape = env.packs.join("escape.sh");
    let cases = [
        ("dotdot", "../../escape.sh", tar::EntryType::Regular, ""),
        (
            "absolute",
            escape.to_str().unwrap(),
            tar::EntryType::Regular,
            "",
        ),
        (
            "symlink",
            "acme/acme-check/evil",
            tar::EntryType::Symlink,
            "/etc/passwd",
        ),
        (
            "hardlink",
            "acme/acme-check/evil",
            tar::EntryType::Link,
            "/etc/passwd",
        ),
    ];
    for (label, name, kind, link) in cases {
        let url = server.serve(
            &format!("/{label}.tar.gz"),
            tar_gz(&pack, "acme", &[(name, kind, link)]),
        );
        let out = env.run(&ws, &["packs", "add", &url, "--yes"]);
        assert_eq!(out.code, 2, "{label}: {out:?}");
        assert!(
            out.stderr.contains("refused") || out.stderr.contains("may hold only"),
            "{label}: {out:?}"
        );
        assert!(
            !escape.exists() && !tmp.path().join("escape.sh").exists(),
            "{label} wrote outside"
        );
        assert!(
            !ws.join("planexec.lock").exists(),
            "{label}: nothing locked"
        );
    }
}

#[test]
fn a_lock_cannot_borrow_another_sources_cached_pack_by_digest() {
    let tmp = tempfile::tempdir().unwrap();
    let env = Env::new(tmp.path());
    let (pa, pb) = (tmp.path().join("a-gates"), tmp.path().join("b-gates"));
    write_pack(&pa, "1.0.0", &["true"]);
    write_pack(&pb, "1.0.0", &["true", "sh"]);
    let wa = workspace(&tmp.path().join("a"));
    let wb = workspace(&tmp.path().join("b"));
    assert_eq!(
        env.run(&wa, &["packs", "add", pa.to_str().unwrap(), "--yes"])
            .code,
        0
    );
    assert_eq!(
        env.run(&wb, &["packs", "add", pb.to_str().unwrap(), "--yes"])
            .code,
        0
    );
    // A's lock is edited to B's pinned content (cached already), keeping A's source.
    let mut la = lock_of(&wa);
    let lb = lock_of(&wb);
    let mut entry = lb["packs"]["acme"].as_table().unwrap().clone();
    entry.insert("source".into(), la["packs"]["acme"]["source"].clone());
    la["packs"]
        .as_table_mut()
        .unwrap()
        .insert("acme".into(), toml::Value::Table(entry));
    std::fs::write(wa.join("planexec.lock"), toml::to_string(&la).unwrap()).unwrap();
    let out = env.run(&wa, &["gate", "run", "check"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("the fetched pack"), "{out:?}");
    assert!(
        out.stderr
            .contains(lb["packs"]["acme"]["digest"].as_str().unwrap()),
        "{out:?}"
    );
}

#[test]
fn trusting_a_config_with_packs_covers_its_lock() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = git_pack(tmp.path());
    let ws = workspace(tmp.path());
    let env = Env::new(tmp.path());
    let src = format!("git+file://{}#v1", repo.display());
    assert_eq!(env.run(&ws, &["packs", "add", &src, "--yes"]).code, 0);
    let home = tmp.path().join("config-home");
    let untrusted = |args: &[&str]| {
        planexec_env(
            &ws,
            args,
            &[
                ("PLANEXEC_TRUST", "0"),
                ("XDG_CONFIG_HOME", home.to_str().unwrap()),
                ("PLANEXEC_PACKS_DIR", env.packs.to_str().unwrap()),
            ],
        )
    };
    let out = untrusted(&["trust"]);
    assert_eq!(out.code, 0, "{out:?}");
    // The pack is listed once, with its source (not again as an empty `[packs] acme`).
    assert!(
        out.stdout
            .contains(&format!("packs.acme.source = \"{src}\"")),
        "{out:?}"
    );
    assert!(!out.stdout.contains("[packs] acme"), "{out:?}");
    let out = untrusted(&["gate", "run", "check"]);
    assert_eq!(out.code, 0, "trusted: {out:?}");
    // A change to the lock alone (another commit of the same source) is no longer trusted.
    let v2 = git(&repo, &["rev-parse", "v2^{commit}"]);
    let v1 = git(&repo, &["rev-parse", "v1^{commit}"]);
    let lock = std::fs::read_to_string(ws.join("planexec.lock")).unwrap();
    std::fs::write(ws.join("planexec.lock"), lock.replace(v1.trim(), v2.trim())).unwrap();
    let out = untrusted(&["gate", "run", "check"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("is not trusted") && out.stderr.contains("[packs] acme"),
        "{out:?}"
    );
}

#[test]
fn a_lock_pointing_a_plugin_outside_the_pack_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = tmp.path().join("gates");
    write_pack(&pack, "1.0.0", &["true"]);
    let ws = workspace(tmp.path());
    let env = Env::new(tmp.path());
    assert_eq!(
        env.run(&ws, &["packs", "add", pack.to_str().unwrap(), "--yes"])
            .code,
        0
    );
    // A copy of the plugin outside the cache, with the lock's digests still matching it.
    let outside = tmp.path().join("elsewhere/acme-check");
    copy_tree(&pack.join("acme-check"), &outside);
    let lock = std::fs::read_to_string(ws.join("planexec.lock")).unwrap();
    let digest = lock_of(&ws)["packs"]["acme"]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let rel = "../../elsewhere/acme-check".to_string();
    assert!(env
        .packs
        .join(&digest)
        .join(&rel)
        .join("plugin.toml")
        .is_file());
    std::fs::write(
        ws.join("planexec.lock"),
        lock.replace("path = \"acme-check\"", &format!("path = \"{rel}\"")),
    )
    .unwrap();
    let out = env.run(&ws, &["gate", "run", "check"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("not a folder of the pack"), "{out:?}");
}

#[test]
fn packs_add_without_a_config_writes_one_and_says_what_to_do_next() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = tmp.path().join("gates");
    write_pack(&pack, "1.0.0", &["true"]);
    let ws = tmp.path().join("fresh");
    std::fs::create_dir_all(&ws).unwrap();
    let env = Env::new(tmp.path());
    let out = env.run(&ws, &["packs", "add", pack.to_str().unwrap(), "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    let toml = std::fs::read_to_string(ws.join("planexec.toml")).unwrap();
    assert_eq!(
        toml,
        format!("[packs.acme]\nsource = {:?}\n", pack.to_str().unwrap())
    );
    for want in [
        "next:",
        "use its plugins (acme-check) by name, e.g. `[gates.NAME] plugin = \"acme-check\"`",
        "grant in [policy]",
        "planexec trust",
    ] {
        assert!(out.stdout.contains(want), "missing {want}: {out:?}");
    }
    // What it says works: the gate, the grant, then a run.
    std::fs::write(
        ws.join("planexec.toml"),
        format!("[policy]\ngrant = [\"true\"]\n\n[gates.check]\nplugin = \"acme-check\"\ncommand = \"true\"\n\n{toml}"),
    )
    .unwrap();
    let out = env.run(&ws, &["gate", "run", "check"]);
    assert_eq!(out.code, 0, "{out:?}");
}
