//! Gate suite benchmark on examples/python-app: pytest under coverage, mypy and black as
//! `planexec gate run` (`--no-cache` with compiled components cached, `--no-cache` with
//! the component cache emptied, unchanged, one test file edited) against lefthook 2.2.1
//! with `parallel: true`, pre-commit, and the three tools run directly, in turn each round.
//!
//! Run: `cargo bench -p planexec --bench gates` (medians of PLANEXEC_BENCH_RUNS, default 10).
//! It installs lefthook with `npm i -E lefthook@2.2.1` and pre-commit with pip on first use;
//! a tool that cannot be installed is reported and skipped.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

const PYTEST: &str = "python3 -m coverage run --data-file=.coverage-data/coverage -m pytest -q";
const MYPY: &str = "python3 -m mypy src tests";
const BLACK: &str = "python3 -m black --check -q src tests";

fn main() {
    let n: usize = std::env::var("PLANEXEC_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let tmp = tempfile::tempdir().unwrap();
    let app = example(tmp.path());
    let results = tmp.path().join("results");
    let planexec = |extra: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_planexec"));
        c.args(["gate", "run", "pytest", "mypy", "black"])
            .args(extra)
            .current_dir(&app)
            .env("PLANEXEC_CACHE_DIR", tmp.path().join("components"))
            .env("PLANEXEC_TOOL_CACHE", tmp.path().join("tools"))
            .env("PLANEXEC_RESULT_CACHE", &results)
            .env("PLANEXEC_TRUST", "1")
            .env("NO_COLOR", "1");
        c
    };
    println!(
        "gate suite on examples/python-app (pytest under coverage, mypy, black; medians of {n} rounds, cases alternating; load {})",
        load()
    );
    let components = tmp.path().join("components");
    let mut k = 0;
    let mut changed = || {
        k += 1;
        edit_test(&app, k);
        run_ok(&mut planexec(&[]));
    };
    let mut warm = || run_ok(&mut planexec(&[]));
    let mut cold = || run_ok(&mut planexec(&["--no-cache"]));
    let mut empty = || {
        let _ = std::fs::remove_dir_all(&components);
        run_ok(&mut planexec(&["--no-cache"]));
    };
    let mut direct = || {
        for c in [PYTEST, MYPY, BLACK] {
            run_ok(&mut shell(c, &app));
        }
    };
    let lh = lefthook();
    if lh.is_some() {
        std::fs::write(app.join("lefthook.yml"), lefthook_yml()).unwrap();
    }
    let mut lefthook_run = || {
        if let Some(bin) = &lh {
            run_ok(
                Command::new(bin)
                    .args(["run", "bench", "--no-auto-install"])
                    .current_dir(&app)
                    .env("LEFTHOOK_QUIET", "meta,summary,success,execution"),
            )
        }
    };
    let pc = pre_commit(tmp.path());
    if pc.is_some() {
        std::fs::write(app.join(".pre-commit-config.yaml"), pre_commit_yml()).unwrap();
    }
    let mut pre_commit_run = || {
        if let Some(bin) = &pc {
            run_ok(
                Command::new(bin)
                    .args(["run", "--all-files"])
                    .current_dir(&app)
                    .env("PRE_COMMIT_HOME", tmp.path().join("pre-commit-home")),
            )
        }
    };
    let s = alternate(
        n,
        &mut [
            &mut changed,
            &mut warm,
            &mut cold,
            &mut empty,
            &mut lefthook_run,
            &mut pre_commit_run,
            &mut direct,
        ],
    );
    report(&s, lh.is_some(), pc.is_some());
}

fn report(s: &[Sample], lh: bool, pc: bool) {
    let vs = |d: Sample| match lh {
        true => format!(
            "  ({:.2}x lefthook wall, {:.2}x CPU)",
            d.wall.as_secs_f64() / s[4].wall.as_secs_f64(),
            d.cpu.as_secs_f64() / s[4].cpu.as_secs_f64()
        ),
        false => String::new(),
    };
    let rows = [
        (
            "planexec --no-cache, components cached:",
            2,
            "  (target <= 0.9x)",
        ),
        (
            "planexec --no-cache, nothing cached:    ",
            3,
            "  (target <= 1.3x)",
        ),
        (
            "planexec, nothing changed (result hit): ",
            1,
            "  (target <= 0.1x)",
        ),
        (
            "planexec, one test file edited:         ",
            0,
            "  (target <= 1.0x)",
        ),
    ];
    for (name, i, target) in rows {
        println!("{name} {}{}{target}", wall_cpu(s[i]), vs(s[i]));
    }
    match lh {
        true => println!(
            "lefthook 2.2.1, parallel: true:          {}",
            wall_cpu(s[4])
        ),
        false => println!("lefthook: not installed (npm i -E lefthook@2.2.1 failed); skipped"),
    }
    match pc {
        true => println!(
            "pre-commit (serial):                     {}{}",
            wall_cpu(s[5]),
            vs(s[5])
        ),
        false => println!("pre-commit: not installed (pip install failed); skipped"),
    }
    println!(
        "the three tools, one by one:             {}{}",
        wall_cpu(s[6]),
        vs(s[6])
    );
}

/// A copy of examples/python-app as a committed git repository.
fn example(tmp: &Path) -> PathBuf {
    let app = tmp.join("python-app");
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/python-app"),
        &app,
    );
    git_repo(&app);
    std::fs::write(
        app.join(".gitignore"),
        ".coverage-data/\n.mypy_cache/\n__pycache__/\nlefthook.yml\n.pre-commit-config.yaml\n",
    )
    .unwrap();
    for args in [
        &["add", "."][..],
        &[
            "-c",
            "user.email=b@example.com",
            "-c",
            "user.name=b",
            "commit",
            "-qm",
            "app",
        ],
    ] {
        run_ok(Command::new("git").args(args).current_dir(&app));
    }
    app
}

/// Changes a test file (a first comment line, which black accepts), so every gate's inputs differ.
fn edit_test(app: &Path, k: usize) {
    let dir = app.join("tests");
    let file = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.extension().is_some_and(|x| x == "py")
                && p.file_name()
                    .is_some_and(|f| f.to_string_lossy().starts_with("test_"))
        })
        .expect("a test file");
    let text = std::fs::read_to_string(&file).unwrap();
    let base = match text.strip_prefix("# bench edit ") {
        Some(rest) => rest.split_once('\n').map_or("", |(_, b)| b).to_string(),
        None => text,
    };
    std::fs::write(&file, format!("# bench edit {k}\n{base}")).unwrap();
}

fn shell(cmd: &str, dir: &Path) -> Command {
    let mut c = Command::new("sh");
    c.args(["-c", cmd]).current_dir(dir);
    c
}

fn lefthook_yml() -> String {
    format!("bench:\n  parallel: true\n  commands:\n    pytest:\n      run: {PYTEST}\n    mypy:\n      run: {MYPY}\n    black:\n      run: {BLACK}\n")
}

fn pre_commit_yml() -> String {
    let hook = |id: &str, entry: &str| {
        format!("      - id: {id}\n        name: {id}\n        entry: {entry}\n        language: system\n        pass_filenames: false\n        always_run: true\n")
    };
    format!(
        "repos:\n  - repo: local\n    hooks:\n{}{}{}",
        hook("pytest", PYTEST),
        hook("mypy", MYPY),
        hook("black", BLACK)
    )
}
