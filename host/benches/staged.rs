//! `planexec gate run --staged` with one staged file in a repository of 2,000 Python files,
//! against `pre-commit run` and `lefthook run pre-commit` doing the same (black on that file).
//!
//! Run: `cargo bench -p planexec --bench staged` (PLANEXEC_BENCH_RUNS rounds, default 15;
//! each round stages a new edit, then runs the three in turn; medians). It installs lefthook
//! with `npm i -E lefthook@2.2.1` and pre-commit with pip on first use.

mod common;

use common::*;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const FILES: usize = 2000;

fn main() {
    let n: usize = std::env::var("PLANEXEC_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(15);
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    make_repo(&repo);
    let planexec = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_planexec"));
        c.args(["gate", "run", "--staged"])
            .current_dir(&repo)
            .env("PLANEXEC_CACHE_DIR", tmp.path().join("components"))
            .env("PLANEXEC_TOOL_CACHE", tmp.path().join("tools"))
            .env("PLANEXEC_RESULT_CACHE", tmp.path().join("results"))
            .env("PLANEXEC_TRUST", "1")
            .env("NO_COLOR", "1");
        c
    };
    let lefthook = lefthook();
    let pre_commit = pre_commit(tmp.path());
    let home = tmp.path().join("pre-commit-home");
    let mut times: [Vec<Duration>; 3] = Default::default();
    for k in 0..=n {
        stage_edit(&repo, k);
        let mut one = |i: usize, c: &mut Command| {
            let t = Instant::now();
            run_ok(c);
            if k > 0 {
                times[i].push(t.elapsed()); // round 0 warms every tool up
            }
        };
        one(0, &mut planexec());
        if let Some(l) = &lefthook {
            one(
                1,
                Command::new(l)
                    .args(["run", "pre-commit"])
                    .current_dir(&repo),
            );
        }
        if let Some(p) = &pre_commit {
            let mut c = Command::new(p);
            c.arg("run")
                .current_dir(&repo)
                .env("PRE_COMMIT_HOME", &home);
            one(2, &mut c);
        }
    }
    println!("one staged file in a repository of {FILES} Python files, black on it (medians of {n}, alternating)");
    let [px, lh, pc] = times.map(|v| (!v.is_empty()).then(|| median(v)));
    let px = px.unwrap();
    println!("planexec gate run --staged:   {}", ms(px));
    for (name, t) in [
        ("lefthook run pre-commit:", lh),
        ("pre-commit run:         ", pc),
    ] {
        match t {
            Some(t) => println!(
                "{name}      {}  (planexec {:.2}x)",
                ms(t),
                px.as_secs_f64() / t.as_secs_f64()
            ),
            None => println!("{name}      not installed; skipped"),
        }
    }
}

/// A committed repository of FILES black-clean modules with planexec, lefthook and
/// pre-commit each configured to run black on the staged Python files.
fn make_repo(repo: &Path) {
    git_repo(repo);
    for i in 0..FILES {
        let dir = repo.join(format!("pkg{}", i / 100));
        std::fs::create_dir_all(&dir).unwrap();
        let body = format!("def f{i}(x: int) -> int:\n    return x + {i}\n");
        std::fs::write(dir.join(format!("mod{i}.py")), body).unwrap();
    }
    std::fs::write(
        repo.join("planexec.toml"),
        "[policy]\ngrant = [\"python3\"]\n\n[gates.black]\n",
    )
    .unwrap();
    std::fs::write(
        repo.join("lefthook.yml"),
        "pre-commit:\n  commands:\n    black:\n      glob: \"*.py\"\n      run: python3 -m black --check {staged_files}\n",
    )
    .unwrap();
    std::fs::write(
        repo.join(".pre-commit-config.yaml"),
        "repos:\n  - repo: local\n    hooks:\n      - id: black\n        name: black\n        entry: python3 -m black --check\n        language: system\n        types: [python]\n",
    )
    .unwrap();
    git(repo, &["add", "."]);
    git(repo, &["commit", "-qm", "start"]);
}

/// Stages a new version of one module (a comment naming the round).
fn stage_edit(repo: &Path, k: usize) {
    let f = repo.join("pkg7/mod777.py");
    let body = format!("# round {k}\ndef f777(x: int) -> int:\n    return x + 777\n");
    std::fs::write(&f, body).unwrap();
    git(repo, &["add", "pkg7/mod777.py"]);
}

fn git(dir: &Path, args: &[&str]) {
    run_ok(
        Command::new("git")
            .args(["-c", "user.email=b@example.com", "-c", "user.name=b"])
            .args(args)
            .current_dir(dir),
    );
}
