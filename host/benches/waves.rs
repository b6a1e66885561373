//! Parallel tasks benchmark: one wave of 4 independent tasks, each accepted by a
//! 2-second command (`sh -c 'sleep 2 && grep -q done FILE'`), run by
//! `planexec run` with `--jobs 1` (one after another, the default), `--jobs` = the
//! number of cores and `--jobs 4`, each in a fresh temp git repository.
//!
//! Prints each run's wall time (median of `PLANEXEC_BENCH_RUNS`, default 3) and
//! its ratio to `--jobs 1`, and checks each run made the 4 task commits in plan
//! order. Target (issue 13): `--jobs` = cores ≤ 0.6× sequential on 2 cores.
//!
//! Run: `cargo bench -p planexec --bench waves`.

mod common;

use common::{median, run_ok};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_planexec");
const TASKS: usize = 4;

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn git(dir: &Path, args: &[&str]) -> String {
    let o = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "git {args:?}");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The plan, its patches and a planexec.toml, committed in `dir`.
fn make_repo(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["config", "user.email", "bench@planexec.invalid"]);
    git(dir, &["config", "user.name", "planexec bench"]);
    git(dir, &["config", "commit.gpgsign", "false"]);
    let mut plan = String::from("---\ntitle: Wave\n---\n# Plan: Wave\n\n## Tasks\n\n");
    for n in 1..=TASKS {
        let f = format!("f{n}.txt");
        plan.push_str(&format!(
            "### T{n:03}: Write {f}\n**Summary**: Write {f}\n**Dependencies**: none\n**Files/modules touched**: {f}\n**Acceptance test**: `sh -c 'sleep 2 && grep -q done {f}'`\n\n"
        ));
        write(
            dir,
            &format!("plan/patches/T{n:03}.patch"),
            &format!("diff --git a/{f} b/{f}\nnew file mode 100644\n--- /dev/null\n+++ b/{f}\n@@ -0,0 +1 @@\n+done\n"),
        );
    }
    write(dir, "plan/plan.md", &plan);
    write(
        dir,
        "planexec.toml",
        "[policy]\ngrant = [\"sh\", \"grep\", \"git\"]\n[run]\nimplementer = \"patch\"\n",
    );
    git(dir, &["add", "."]);
    git(dir, &["commit", "-qm", "plan"]);
}

/// One run in a fresh repository; its wall time.
fn run_once(root: &Path, n: usize, jobs: Option<&str>) -> Duration {
    let dir = root.join(format!("{}-{n}", jobs.unwrap_or("default")));
    make_repo(&dir);
    let cache = root.join("cache");
    let mut args = vec!["run", "plan/plan.md"];
    if let Some(j) = jobs {
        args.extend(["--jobs", j]);
    }
    let t = Instant::now();
    run_ok(
        Command::new(BIN)
            .args(&args)
            .current_dir(&dir)
            .env("PLANEXEC_CACHE_DIR", &cache)
            .env("PLANEXEC_TRUST", "1")
            .env("XDG_CONFIG_HOME", cache.join("config-home"))
            .env("NO_COLOR", "1")
            .env_remove("GITHUB_ACTIONS"),
    );
    let took = t.elapsed();
    let subjects = git(&dir, &["log", "--format=%s"]);
    let want: Vec<String> = (1..=TASKS)
        .rev()
        .map(|k| format!("T{k:03}: Write f{k}.txt"))
        .chain(["plan".to_string()])
        .collect();
    assert_eq!(subjects.lines().collect::<Vec<_>>(), want, "{jobs:?}");
    took
}

fn main() {
    let runs: usize = std::env::var("PLANEXEC_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let tmp = tempfile::tempdir().unwrap();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    run_once(tmp.path(), 0, Some("1")); // warm-up: fills the component cache
    let mut rows = Vec::new();
    let cores_arg = cores.to_string();
    for jobs in ["1", cores_arg.as_str(), "4"] {
        let times: Vec<Duration> = (1..=runs)
            .map(|n| run_once(tmp.path(), n, Some(jobs)))
            .collect();
        rows.push((jobs, median(times)));
    }
    let seq = rows[0].1.as_secs_f64();
    println!("one wave of {TASKS} tasks, each with a 2-second acceptance command ({cores} cores, median of {runs})");
    for (jobs, t) in rows {
        let label = format!("--jobs {jobs}");
        println!(
            "  {label:<22} {:>6.2} s   {:.2}x sequential",
            t.as_secs_f64(),
            t.as_secs_f64() / seq
        );
    }
}
