//! Gate suite benchmark on examples/python-app: pytest under coverage, mypy and black as
//! `planexec gate run` (result cache cleared, unchanged, one test file edited) against
//! lefthook 2.2.1 with `parallel: true`, pre-commit, and the three tools run directly.
//!
//! Run: `cargo bench -p planexec --bench gates` (medians of PLANEXEC_BENCH_RUNS, default 10).
//! It installs lefthook with `npm i -E lefthook@2.2.1` and pre-commit with pip on first use;
//! a tool that cannot be installed is reported and skipped.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

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
        "gate suite on examples/python-app (pytest under coverage, mypy, black; medians of {n})"
    );
    let cold = time(n, || {
        let _ = std::fs::remove_dir_all(&results);
        run_ok(&mut planexec(&[]));
    });
    let warm = time(n, || run_ok(&mut planexec(&[])));
    let mut k = 0;
    let changed = time(n, || {
        k += 1;
        edit_test(&app, k);
        run_ok(&mut planexec(&[]));
    });
    let direct = time(n, || {
        for c in [PYTEST, MYPY, BLACK] {
            run_ok(&mut shell(c, &app));
        }
    });
    let lh = lefthook().map(|bin| {
        std::fs::write(app.join("lefthook.yml"), lefthook_yml()).unwrap();
        time(n, || {
            run_ok(
                Command::new(&bin)
                    .args(["run", "bench", "--no-auto-install"])
                    .current_dir(&app)
                    .env("LEFTHOOK_QUIET", "meta,summary,success,execution"),
            )
        })
    });
    let pc = pre_commit(tmp.path()).map(|bin| {
        std::fs::write(app.join(".pre-commit-config.yaml"), pre_commit_yml()).unwrap();
        time(n, || {
            run_ok(
                Command::new(&bin)
                    .args(["run", "--all-files"])
                    .current_dir(&app)
                    .env("PRE_COMMIT_HOME", tmp.path().join("pre-commit-home")),
            )
        })
    });
    report(cold, warm, changed, direct, lh, pc);
}

fn report(
    cold: Duration,
    warm: Duration,
    changed: Duration,
    direct: Duration,
    lh: Option<Duration>,
    pc: Option<Duration>,
) {
    let vs = |d: Duration| match lh {
        Some(l) => format!("  ({:.2}x lefthook)", d.as_secs_f64() / l.as_secs_f64()),
        None => String::new(),
    };
    println!(
        "planexec, result cache cleared:   {}{}  (target <= 1.0x)",
        ms(cold),
        vs(cold)
    );
    println!(
        "planexec, nothing changed:        {}{}  (target <= 0.1x)",
        ms(warm),
        vs(warm)
    );
    println!(
        "planexec, one test file edited:   {}{}  (target <= 1.0x)",
        ms(changed),
        vs(changed)
    );
    match lh {
        Some(l) => println!("lefthook 2.2.1, parallel: true:   {}", ms(l)),
        None => println!("lefthook: not installed (npm i -E lefthook@2.2.1 failed); skipped"),
    }
    match pc {
        Some(p) => println!("pre-commit (serial):              {}{}", ms(p), vs(p)),
        None => println!("pre-commit: not installed (pip install failed); skipped"),
    }
    println!(
        "the three tools, one by one:      {}{}",
        ms(direct),
        vs(direct)
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
