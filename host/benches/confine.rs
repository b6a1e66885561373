//! Box benchmark: the no-op gate (`gate run command -- true`) boxed and
//! `--unconfined`, lefthook 2.2 running `true`, and the mypy gate on
//! examples/python-app against mypy itself with a warm cache.
//!
//! Run: `cargo bench -p planexec --bench confine` (prints medians of N runs).
//! lefthook is installed on first use with `npm i -E lefthook@2.2.1` into the
//! target directory; without npm that line is skipped.

mod common;

use common::*;
use std::path::Path;
use std::process::Command;

fn main() {
    let n: usize = std::env::var("PLANEXEC_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let bin = env!("CARGO_BIN_EXE_planexec");
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    git_repo(&ws);
    let cache = tmp.path().join("cache");
    let tools = tmp.path().join("tools");
    let planexec = |dir: &Path, args: &[&str]| {
        let mut c = Command::new(bin);
        c.args(args)
            .current_dir(dir)
            .env("PLANEXEC_CACHE_DIR", &cache)
            .env("PLANEXEC_TOOL_CACHE", &tools)
            .env("NO_COLOR", "1");
        c
    };
    println!("planexec box benchmark (medians of {n} runs)");
    let noop = ["gate", "run", "command", "--grant", "true", "--", "true"];
    let boxed = time(n, || run_ok(&mut planexec(&ws, &noop)));
    let mut open_args = noop.to_vec();
    open_args.insert(3, "--unconfined");
    let unboxed = time(n, || run_ok(&mut planexec(&ws, &open_args)));
    let raw = time(n, || run_ok(&mut Command::new("true")));
    println!("no-op gate boxed:        {}", ms(boxed));
    println!(
        "no-op gate --unconfined: {}  (the box costs {})",
        ms(unboxed),
        ms(boxed.saturating_sub(unboxed))
    );
    println!("`true` alone:            {}", ms(raw));
    match lefthook() {
        Some(lh) => {
            let repo = tmp.path().join("lh");
            git_repo(&repo);
            std::fs::write(
                repo.join("lefthook.yml"),
                "bench:\n  parallel: true\n  commands:\n    noop:\n      run: \"true\"\n",
            )
            .unwrap();
            let t = time(n, || {
                run_ok(
                    Command::new(&lh)
                        .args(["run", "bench", "--no-auto-install"])
                        .current_dir(&repo)
                        .env("LEFTHOOK_QUIET", "meta,summary,success,execution"),
                )
            });
            println!(
                "lefthook 2.2.1 `true`:   {}  (boxed / lefthook = {:.2}; target <= 0.6)",
                ms(t),
                boxed.as_secs_f64() / t.as_secs_f64()
            );
        }
        None => println!("lefthook: not installed (npm i -E lefthook@2.2.1 failed); skipped"),
    }

    // mypy on examples/python-app: the gate (cache in {cache}) against mypy with a warm cache.
    let app = tmp.path().join("python-app");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/python-app");
    copy_tree(&src, &app);
    git_repo(&app);
    let mypy_runs = n.min(10);
    let gate = time(mypy_runs, || {
        run_ok(&mut planexec(&app, &["gate", "run", "mypy"]))
    });
    let mcache = tmp.path().join("mypy-cache");
    let direct = time(mypy_runs, || {
        run_ok(
            Command::new("python3")
                .args([
                    "-m",
                    "mypy",
                    "--show-column-numbers",
                    "--no-error-summary",
                    "--no-color-output",
                    "--no-pretty",
                ])
                .arg(format!("--cache-dir={}", mcache.display()))
                .args(["src", "tests"])
                .current_dir(&app),
        )
    });
    println!(
        "mypy gate (warm cache):  {}   mypy itself (warm cache): {}   ratio {:.2} (target <= 1.2)",
        ms(gate),
        ms(direct),
        gate.as_secs_f64() / direct.as_secs_f64()
    );
}
