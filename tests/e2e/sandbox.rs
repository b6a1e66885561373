//! The sandbox holds: hostile plugins are stopped or denied, reported as
//! errored or failed, and the host keeps running the next gate.

use crate::support::*;
use planexec::config::GateConfig;
use planexec::plugins::{resolve_grants, Registry};
use planexec::sandbox::{Origin, Sandbox, SandboxOptions};
use planexec_record::Outcome;
use std::path::Path;
use std::time::{Duration, Instant};

fn gate(name: &str, plugin: &str, settings: serde_json::Value) -> GateConfig {
    GateConfig {
        name: name.into(),
        plugin: plugin.into(),
        settings,
        files: None,
        flags: Default::default(),
    }
}

/// One sandbox, many hostile calls in a row, then a normal gate: all in one process.
#[test]
fn hostile_plugins_are_contained_and_the_next_gate_still_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    std::fs::create_dir_all(&ws).unwrap();
    std::fs::write(ws.join("hello.txt"), "hello from the workspace\n").unwrap();
    let plugins = tmp.path().join("plugins");
    hostile_plugin(
        &plugins,
        "hostile",
        "gate",
        "commands = [\"*\"]\ntimeout = \"1s\"\nmemory = \"64MiB\"",
    );
    let reg = Registry::discover(&[plugins]).unwrap();
    let sandbox = Sandbox::new(SandboxOptions {
        cache_dir: Some(Some(cache_dir())),
        ..Default::default()
    })
    .unwrap();
    let p = reg.get("hostile").unwrap();
    let loaded = sandbox
        .load(
            p,
            resolve_grants(p, &Default::default(), &[], false).unwrap(),
        )
        .unwrap();
    let run = |mode: &str| {
        planexec::gate::run(
            &loaded,
            &gate(mode, "hostile", serde_json::json!({"mode": mode})),
            &ws,
            None,
        )
        .0
        .report
    };

    // Loops forever: stopped at its 1 s CPU deadline, reported as errored.
    let t = Instant::now();
    let r = run("loop");
    assert_eq!(r.outcome, Outcome::Errored, "{r:?}");
    assert!(r.summary.contains("CPU deadline"), "{}", r.summary);
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "took {:?}",
        t.elapsed()
    );

    // Reads outside the workspace: denied.
    let r = run("read-passwd");
    assert_eq!(r.outcome, Outcome::Failed, "{r:?}");
    assert!(r.summary.starts_with("denied"), "{}", r.summary);
    let r = run("escape-workspace");
    assert!(r.summary.starts_with("denied"), "{}", r.summary);

    // Writes into the workspace: denied, nothing written.
    let r = run("write-workspace");
    assert!(r.summary.starts_with("denied"), "{}", r.summary);
    assert!(!ws.join("pwned.txt").exists());

    // Environment: empty.
    let r = run("env");
    assert_eq!(r.summary, "no HOME; vars=[]");

    // Sockets: denied.
    let r = run("socket");
    assert!(r.summary.starts_with("denied"), "{}", r.summary);

    // A panic is a trap, reported with the plugin's own message.
    let r = run("panic");
    assert_eq!(r.outcome, Outcome::Errored);
    assert!(r.summary.contains("panicked on purpose"), "{r:?}");

    // Memory beyond the cap: errored, naming the cap.
    let r = run("memory");
    assert_eq!(r.outcome, Outcome::Errored);
    assert!(r.summary.contains("memory cap of 64 MiB"), "{}", r.summary);

    // A program that was not granted: refused by exec.
    let r = run("exec");
    assert!(r.summary.contains("NotGranted"), "{}", r.summary);

    // What it was granted still works: the workspace reads, scratch writes.
    let r = run("read-workspace");
    assert_eq!(r.summary, "read: hello from the workspace");
    let r = run("write-scratch");
    assert_eq!(r.summary, "scratch: ok");
}

#[test]
fn oversized_returns_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let plugins = tmp.path().join("plugins");
    hostile_plugin(
        &plugins,
        "hostile",
        "gate",
        "timeout = \"20s\"\nmemory = \"512MiB\"",
    );
    let reg = Registry::discover(&[plugins]).unwrap();
    let sandbox = Sandbox::new(SandboxOptions {
        cache_dir: Some(Some(cache_dir())),
        ..Default::default()
    })
    .unwrap();
    let p = reg.get("hostile").unwrap();
    let loaded = sandbox.load(p, Default::default()).unwrap();
    let g = gate("big", "hostile", serde_json::json!({"mode": "big-output"}));
    let r = planexec::gate::run(&loaded, &g, tmp.path(), None).0.report;
    assert_eq!(r.outcome, Outcome::Errored);
    assert!(r.summary.contains("over the host's cap"), "{}", r.summary);
}

#[test]
fn second_load_comes_from_the_cache_in_a_private_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let plugins = tmp.path().join("plugins");
    hostile_plugin(&plugins, "hostile", "gate", "");
    let reg = Registry::discover(&[plugins]).unwrap();
    let p = reg.get("hostile").unwrap();
    let s1 = Sandbox::new(SandboxOptions {
        cache_dir: Some(Some(cache.clone())),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(
        s1.load(p, Default::default()).unwrap().origin,
        Origin::Compiled
    );
    let s2 = Sandbox::new(SandboxOptions {
        cache_dir: Some(Some(cache.clone())),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(
        s2.load(p, Default::default()).unwrap().origin,
        Origin::Cache
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777,
        0o700
    );
    // A cache dir others can write is not trusted.
    let open = tmp.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let s3 = Sandbox::new(SandboxOptions {
        cache_dir: Some(Some(open)),
        ..Default::default()
    })
    .unwrap();
    assert!(s3.cache_dir().is_none());
    assert!(s3
        .cache_disabled_reason()
        .unwrap()
        .contains("writable by others"));
    assert_eq!(
        s3.load(p, Default::default()).unwrap().origin,
        Origin::Compiled
    );
}

fn ws_with(plugins_setup: impl FnOnce(&Path)) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    plugins_setup(&tmp.path().join("plugins"));
    tmp
}

#[test]
fn cli_loop_is_errored_with_exit_3() {
    let tmp = ws_with(|p| {
        hostile_plugin(p, "hostile", "gate", "timeout = \"500ms\"");
    });
    write(
        tmp.path(),
        "planexec.toml",
        "[gates.spin]\nplugin = \"hostile\"\nmode = \"loop\"\n",
    );
    let out = planexec(tmp.path(), &["gate", "run", "spin", "--plugins", "plugins"]);
    assert_eq!(out.code, 3, "{out:?}");
    assert!(
        out.stdout.contains("ERRORED spin") && out.stdout.contains("CPU deadline"),
        "{out:?}"
    );
}

#[test]
fn wrong_world_is_refused_naming_both_worlds() {
    let tmp = ws_with(|p| {
        hostile_plugin(p, "hostile", "reviewer", "");
    });
    let out = planexec(tmp.path(), &["plugins", "list", "--plugins", "plugins"]);
    assert_eq!(out.code, 0, "{out:?}");
    // Running it as a reviewer is not possible from `gate run`; load it through the library.
    let reg = Registry::discover(&[tmp.path().join("plugins")]).unwrap();
    let sandbox = Sandbox::new(SandboxOptions {
        cache_dir: Some(Some(cache_dir())),
        ..Default::default()
    })
    .unwrap();
    let err = sandbox
        .load(reg.get("hostile").unwrap(), Default::default())
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("plugin `hostile` has world `gate`"), "{err}");
    assert!(
        err.contains("expected `reviewer` (planexec:plugin@0.4.0)"),
        "{err}"
    );
    assert!(err.contains("plugin.toml"), "{err}");
}

/// A third-party reviewer built against contract 0.3.0 (tests/plugins/old-reviewer,
/// its own frozen WIT) is refused at load, naming the plugin, its contract and the
/// upgrade (its linker types would not match, so it is never instantiated).
#[test]
fn a_reviewer_built_against_contract_0_3_is_refused_with_how_to_upgrade() {
    let tmp = ws_with(|p| {
        let wasm = hostile_wasm().with_file_name("old_reviewer.wasm");
        let manifest = "name = \"old-reviewer\"\nkind = \"reviewer\"\nversion = \"0.0.1\"\ncomponent = \"old-reviewer.wasm\"\n[requests]\n";
        plugin_dir(p, "old-reviewer", manifest, &wasm);
    });
    let reg = Registry::discover(&[tmp.path().join("plugins")]).unwrap();
    let sandbox = Sandbox::new(SandboxOptions {
        cache_dir: Some(Some(cache_dir())),
        ..Default::default()
    })
    .unwrap();
    let err = sandbox
        .load(reg.get("old-reviewer").unwrap(), Default::default())
        .err()
        .expect("a 0.3.0 reviewer is refused")
        .to_string();
    assert!(
        err.contains(
            "plugin `old-reviewer` was built against the plugin contract planexec:plugin@0.3.0"
        ),
        "{err}"
    );
    assert!(err.contains("speaks @0.4.0"), "{err}");
    assert!(err.contains("rebuild it against"), "{err}");
    assert!(err.contains("old-reviewer/plugin.toml"), "{err}");
}

#[test]
fn ungranted_request_is_refused_before_anything_runs() {
    let tmp = ws_with(|p| {
        hostile_plugin(p, "hostile", "gate", "commands = [\"python3\"]");
    });
    write(
        tmp.path(),
        "planexec.toml",
        "[gates.w]\nplugin = \"hostile\"\nmode = \"write-scratch\"\n",
    );
    let out = planexec(tmp.path(), &["gate", "run", "w", "--plugins", "plugins"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("asks to run \"python3\""), "{out:?}");
    assert!(
        out.stderr.contains("[policy]") && out.stderr.contains("--grant python3"),
        "{out:?}"
    );
    assert!(!out.stdout.contains("PASSED"), "{out:?}");
    // Granted: it runs.
    let out = planexec(
        tmp.path(),
        &[
            "gate",
            "run",
            "w",
            "--plugins",
            "plugins",
            "--grant",
            "python3",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn bad_manifests_are_clear_errors_naming_file_and_field() {
    let wasm = hostile_wasm();
    let cases: &[(&str, &str, &str)] = &[
        ("colour = \"red\"\n", "colour", "unknown field"),
        (
            "sha256 = \"0000000000000000000000000000000000000000000000000000000000000000\"\n",
            "field `sha256`",
            "rebuild",
        ),
    ];
    for (extra, field, hint) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let manifest = format!("name = \"h\"\nkind = \"gate\"\ncomponent = \"h.wasm\"\n{extra}");
        plugin_dir(&tmp.path().join("plugins"), "h", &manifest, &wasm);
        write(
            tmp.path(),
            "planexec.toml",
            "[gates.h]\nmode = \"write-scratch\"\n",
        );
        let out = planexec(tmp.path(), &["gate", "run", "h", "--plugins", "plugins"]);
        assert_eq!(out.code, 2, "{out:?}");
        assert!(out.stderr.contains("plugins/h/plugin.toml"), "{out:?}");
        assert!(
            out.stderr.contains(field) && out.stderr.contains(hint),
            "{field}: {out:?}"
        );
    }
    // Missing component.
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "plugins/h/plugin.toml",
        "name = \"h\"\nkind = \"gate\"\ncomponent = \"h.wasm\"\n",
    );
    let out = planexec(tmp.path(), &["plugins", "list", "--plugins", "plugins"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("field `component`") && out.stderr.contains("h.wasm does not exist"),
        "{out:?}"
    );
}

#[test]
fn plugins_list_shows_the_standard_pack_and_grants() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "planexec.toml",
        "[policy]\ngrant = [\"cargo\"]\n",
    );
    let out = planexec(tmp.path(), &["plugins", "list", "--format", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let rows: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let cmd = rows
        .iter()
        .find(|r| r["name"] == "command")
        .expect("command gate listed");
    assert_eq!(cmd["kind"], "gate");
    assert_eq!(cmd["source"], "standard");
    assert_eq!(cmd["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(cmd["granted"], serde_json::json!(["cargo"]));
    // What each plugin's programs get: shapes, network, writes, env.
    let cargo = rows.iter().find(|r| r["name"] == "cargo-test").unwrap();
    assert_eq!(
        cargo["requests"]["commands"],
        serde_json::json!(["cargo test *"])
    );
    assert_eq!(cargo["requests"]["network"], "loopback");
    assert_eq!(cargo["grants"]["network"], "loopback");
    assert_eq!(
        cargo["grants"]["writes"],
        serde_json::json!(["target/", "Cargo.lock"])
    );
    let b = cargo["box"].as_str().unwrap();
    assert!(
        b.contains("runs cargo test *") && b.contains("network loopback"),
        "{b}"
    );
    let human = planexec(tmp.path(), &["plugins", "list"]);
    assert!(human.stdout.contains("box: runs cargo test *"), "{human:?}");
}
