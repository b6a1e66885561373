//! Sandbox benchmark: cold compile of a standard plugin, load from the cache,
//! instantiation, and `planexec gate run command` next to running `true`.
//!
//! Run: `cargo bench -p planexec --bench sandbox` (prints medians of N runs).

use planexec::plugins::{Grants, Registry};
use planexec::sandbox::{Origin, Sandbox, SandboxOptions};
use std::process::Command;
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let n = 20;
    let reg = Registry::discover(&[]).expect("standard pack");
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let ws = tmp.path().join("ws");
    std::fs::create_dir_all(&ws).unwrap();

    println!("planexec sandbox benchmark (medians of {n} runs unless noted)");
    for name in ["command", "cargo-test", "pytest", "code-review"] {
        let Ok(p) = reg.get(name) else { continue };
        // Cold: a fresh cache each time.
        let mut cold = Vec::new();
        for i in 0..3 {
            let dir = tmp.path().join(format!("cold-{name}-{i}"));
            let s = Sandbox::new(SandboxOptions {
                cache_dir: Some(Some(dir)),
                // Cranelift's compile, not the embedded artifact.
                ignore_precompiled: true,
                ..Default::default()
            })
            .unwrap();
            let l = s.load(p, Grants::default()).unwrap();
            assert_eq!(l.origin, Origin::Compiled);
            cold.push(l.load_time);
        }
        let s = Sandbox::new(SandboxOptions {
            cache_dir: Some(Some(cache.clone())),
            ignore_precompiled: true,
            ..Default::default()
        })
        .unwrap();
        s.load(p, Grants::default()).unwrap();
        let mut warm = Vec::new();
        let mut inst = Vec::new();
        for _ in 0..n {
            let l = s.load(p, Grants::default()).unwrap();
            assert_eq!(l.origin, Origin::Cache);
            warm.push(l.load_time);
            inst.push(l.instantiate_only(&ws).unwrap());
        }
        let (w, i) = (median(warm), median(inst));
        println!(
            "{name:<12} component {:>7} KiB  cold compile {:>12} (median of 3)  cached load {:>10}  instantiate {:>10}  load+instantiate {:>10}",
            p.component().unwrap().0.bytes().unwrap().len() / 1024,
            ms(median(cold)),
            ms(w),
            ms(i),
            ms(w + i)
        );
    }

    let bin = env!("CARGO_BIN_EXE_planexec");
    let run = |args: &[&str], cmd: &str| {
        let mut c = Command::new(cmd);
        c.args(args)
            .current_dir(&ws)
            .env("PLANEXEC_CACHE_DIR", &cache);
        let t = Instant::now();
        let st = c.output().unwrap().status;
        assert!(st.success(), "{cmd} {args:?} failed");
        t.elapsed()
    };
    run(
        &["gate", "run", "command", "--grant", "true", "--", "true"],
        bin,
    ); // warm the cache
    let gate: Vec<_> = (0..n)
        .map(|_| {
            run(
                &["gate", "run", "command", "--grant", "true", "--", "true"],
                bin,
            )
        })
        .collect();
    let raw: Vec<_> = (0..n).map(|_| run(&[], "true")).collect();
    let (g, r) = (median(gate), median(raw));
    println!(
        "`planexec gate run command -- true`: {}   `true`: {}   overhead: {}",
        ms(g),
        ms(r),
        ms(g.saturating_sub(r))
    );
}
