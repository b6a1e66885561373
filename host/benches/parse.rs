//! Large-output benchmark: the junit and go-test gates parse a 100,000-test report
//! (~50-60 MB) INSIDE the sandbox, through the library, next to the same parsers run
//! natively (plugins/testfmt's bench_native example).
//!
//! Run: `cargo bench -p planexec --bench parse [-- N]`
//! (N tests, default 100000; PLANEXEC_BENCH_NATIVE=0 leaves out the native run;
//! PLANEXEC_BENCH_PLUGINS=DIR measures the junit/go-test plugin folders in DIR instead of
//! the standard pack's, e.g. to compare build settings).
//!
//! - junit: the report is a workspace file, read by the plugin through its read-only
//!   workspace mount (no command), stream-parsed with quick-xml in the component.
//! - go-test: the gate runs `go test -json`; a fake `go` first on PATH prints the
//!   pre-recorded stream, which the host writes to the plugin's scratch file, where the
//!   plugin stream-parses it. The time includes that copy (shown separately).

use planexec::config::GateConfig;
use planexec::plugins::{resolve_grants, Registry};
use planexec::sandbox::{Sandbox, SandboxOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A copy of plugins/testfmt/src/gen.rs (the plugins workspace is not a dependency of the
/// host): deterministic reports of about 500 bytes per test.
mod gen {
    use super::*;

    pub fn junit<W: Write>(w: &mut W, n: usize) -> io::Result<()> {
        writeln!(w, r#"<?xml version="1.0" encoding="utf-8"?>"#)?;
        writeln!(
            w,
            r#"<testsuites name="generated"><testsuite name="generated" tests="{n}">"#
        )?;
        for i in 0..n {
            let m = i / 1000;
            write!(
                w,
                r#"<testcase classname="tests.module_{m:05}.TestGenerated" name="test_case_{i:07}_checks_something_reasonable" file="tests/module_{m:05}.py" line="{}" time="0.001">"#,
                i % 1000 * 7
            )?;
            if i % 100 == 99 {
                write!(
                    w,
                    r#"<failure message="assert {i} == {} &amp; more">def test_case_{i:07}():
&gt;       assert compute({i}) == {}
E       AssertionError: values differ &lt;got {i}&gt; (this line pads the failure to a realistic size)
E       where the left side came from compute() and the right side from the fixture table

tests/module_{m:05}.py:{}: AssertionError</failure>"#,
                    i + 1,
                    i + 1,
                    i % 1000 * 7 + 2
                )?;
            } else if i % 50 == 49 {
                write!(
                    w,
                    r#"<skipped type="pytest.skip" message="not on this platform" />"#
                )?;
            }
            write!(
                w,
                "<system-out>log line one for case {i}: starting the check with a few words of context\nlog line two for case {i}: finished; values were within the expected range &amp; fine\nlog line three for case {i:07}: teardown released the temporary directory, the database handle and two sockets cleanly</system-out>"
            )?;
            writeln!(w, "</testcase>")?;
        }
        writeln!(w, "</testsuite></testsuites>")
    }

    pub fn gotest<W: Write>(w: &mut W, n: usize) -> io::Result<()> {
        const PKGS: usize = 8;
        let t = "2026-01-01T00:00:00.000000000Z";
        for i in 0..n {
            let pkg = format!("example.com/big/pkg{}", i % PKGS);
            let name = format!("TestGenerated{i:07}");
            writeln!(
                w,
                r#"{{"Time":"{t}","Action":"run","Package":"{pkg}","Test":"{name}"}}"#
            )?;
            writeln!(
                w,
                r#"{{"Time":"{t}","Action":"output","Package":"{pkg}","Test":"{name}","Output":"=== RUN   {name}\n"}}"#
            )?;
            let (word, act) = if i % 100 == 99 {
                writeln!(
                    w,
                    r#"{{"Time":"{t}","Action":"output","Package":"{pkg}","Test":"{name}","Output":"    gen_test.go:{}: got {i}, want {} (\"quoted\" detail)\n"}}"#,
                    i % 1000 + 10,
                    i + 1
                )?;
                ("FAIL", "fail")
            } else if i % 50 == 49 {
                ("SKIP", "skip")
            } else {
                ("PASS", "pass")
            };
            writeln!(
                w,
                r#"{{"Time":"{t}","Action":"output","Package":"{pkg}","Test":"{name}","Output":"--- {word}: {name} (0.00s)\n"}}"#
            )?;
            writeln!(
                w,
                r#"{{"Time":"{t}","Action":"{act}","Package":"{pkg}","Test":"{name}","Elapsed":0.001}}"#
            )?;
        }
        for p in 0..PKGS {
            let pkg = format!("example.com/big/pkg{p}");
            writeln!(
                w,
                r#"{{"Time":"{t}","Action":"output","Package":"{pkg}","Output":"FAIL\n"}}"#
            )?;
            writeln!(
                w,
                r#"{{"Time":"{t}","Action":"fail","Package":"{pkg}","Elapsed":1.5}}"#
            )?;
        }
        Ok(())
    }

    /// (passed, failed, skipped) for `n` generated tests.
    pub fn expected(n: usize) -> (u64, u64, u64) {
        let failed = (0..n).filter(|i| i % 100 == 99).count() as u64;
        let skipped = (0..n).filter(|i| i % 100 != 99 && i % 50 == 49).count() as u64;
        (n as u64 - failed - skipped, failed, skipped)
    }
}

fn write_file(path: &Path, f: impl FnOnce(&mut BufWriter<std::fs::File>) -> io::Result<()>) -> f64 {
    let mut w = BufWriter::new(std::fs::File::create(path).unwrap());
    f(&mut w).unwrap();
    w.flush().unwrap();
    drop(w);
    std::fs::metadata(path).unwrap().len() as f64 / 1e6
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Runs plugins/testfmt's native benchmark; returns its output lines.
fn native(n: usize, dir: &Path) -> Result<String, String> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_relative() { root().join(p) } else { p })
        .unwrap_or_else(|| root().join("target"))
        .join("wasm-plugins");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut c = Command::new(cargo);
    c.args([
        "run",
        "-q",
        "--release",
        "-p",
        "testfmt",
        "--example",
        "bench_native",
        "--manifest-path",
    ])
    .arg(root().join("plugins/Cargo.toml"))
    .arg("--target-dir")
    .arg(&target)
    .arg("--")
    .arg(n.to_string())
    .arg(dir);
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if (k.starts_with("CARGO_") && k != "CARGO_HOME")
            || k.starts_with("RUSTFLAGS")
            || k == "RUSTC_WRAPPER"
        {
            c.env_remove(&k);
        }
    }
    let o = c.output().map_err(|e| e.to_string())?;
    if !o.status.success() {
        return Err(String::from_utf8_lossy(&o.stderr).into_owned());
    }
    Ok(String::from_utf8_lossy(&o.stdout).into_owned())
}

fn best_of(runs: usize, mut f: impl FnMut() -> (Duration, Duration)) -> (Duration, Duration) {
    (0..runs)
        .map(|_| f())
        .min_by_key(|(total, _)| *total)
        .unwrap()
}

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let (ep, ef, es) = gen::expected(n);
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&ws).unwrap();
    std::fs::create_dir_all(&bin).unwrap();

    let junit_path = ws.join("big-junit.xml");
    let junit_mb = write_file(&junit_path, |w| gen::junit(w, n));
    let go_path = tmp.path().join("big-gotest.json");
    let go_mb = write_file(&go_path, |w| gen::gotest(w, n));
    // `go test -json` over the pre-recorded stream: the fake `go` prints it and exits 1
    // (tests failed), as go does.
    std::fs::write(ws.join("go.mod"), "module example.com/big\n\ngo 1.19\n").unwrap();
    let fake_go = bin.join("go");
    std::fs::write(
        &fake_go,
        format!("#!/bin/sh\ncat '{}'\nexit 1\n", go_path.display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake_go, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![bin.clone()];
    dirs.extend(std::env::split_paths(&path));
    std::env::set_var("PATH", std::env::join_paths(dirs).unwrap());

    let extra: Vec<PathBuf> = std::env::var_os("PLANEXEC_BENCH_PLUGINS")
        .map(PathBuf::from)
        .into_iter()
        .collect();
    let reg = Registry::discover(&extra).expect("standard pack");
    let sandbox = Sandbox::new(SandboxOptions {
        cache_dir: Some(Some(tmp.path().join("cache"))),
        ..Default::default()
    })
    .unwrap();
    let runs = 3;
    println!("planexec large-output benchmark: {n} tests ({ep} passed, {ef} failed, {es} skipped), best of {runs}");

    let mut rows = Vec::new();
    for (plugin, mb, settings) in [
        (
            "junit",
            junit_mb,
            serde_json::json!({"report": "big-junit.xml", "pytest_ids": true}),
        ),
        ("go-test", go_mb, serde_json::json!({"packages": ["./..."]})),
    ] {
        let p = reg.get(plugin).expect("standard plugin");
        let memory = p.manifest.requests.memory;
        let grants = resolve_grants(p, &Default::default(), &["go".to_string()], false).unwrap();
        let loaded = sandbox.load(p, grants).unwrap();
        let cfg = GateConfig {
            name: plugin.into(),
            plugin: plugin.into(),
            settings,
            files: None,
            flags: Default::default(),
        };
        let (total, exec) = best_of(runs, || {
            let t = Instant::now();
            let (run, info) = planexec::gate::run(&loaded, &cfg, &ws, None);
            let total = t.elapsed();
            let r = &run.report;
            let c = r
                .tests
                .as_ref()
                .unwrap_or_else(|| panic!("{plugin}: no counts: {} {}", r.summary, info.stderr));
            assert_eq!(
                (c.passed as u64, c.failed as u64, c.skipped as u64),
                (ep, ef, es),
                "{plugin}: {}",
                r.summary
            );
            assert_eq!(
                r.failures.len(),
                ef.min(200) as usize,
                "{plugin}: at most 200 failures kept"
            );
            (total, info.execs.iter().map(|e| e.duration).sum())
        });
        let parse = total.saturating_sub(exec);
        rows.push((plugin, mb, total, exec, parse, memory));
    }

    for (plugin, mb, total, exec, parse, memory) in &rows {
        let s = total.as_secs_f64();
        print!(
            "in-sandbox {plugin:<8} {mb:6.1} MB: gate {s:.3} s = {:4.0} MB/s",
            mb / s
        );
        if !exec.is_zero() {
            print!(
                " (command + copy to scratch {:.3} s; parse {:.3} s = {:.0} MB/s)",
                exec.as_secs_f64(),
                parse.as_secs_f64(),
                mb / parse.as_secs_f64()
            );
        }
        println!("; plugin memory cap {} MiB", memory >> 20);
    }

    if std::env::var("PLANEXEC_BENCH_NATIVE").as_deref() == Ok("0") {
        return;
    }
    match native(n, tmp.path()) {
        Ok(out) => {
            for l in out.lines() {
                println!("native     {l}");
            }
        }
        Err(e) => println!(
            "native: not measured (cargo run -p testfmt --example bench_native failed: {})",
            e.trim()
        ),
    }
}
