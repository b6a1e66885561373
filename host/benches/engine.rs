//! Engine benchmark: `planexec run` on a generated 100-task T-ID plan in a temp git
//! repo. Each task's patch adds one small text file and its acceptance command is
//! `true`, so every task goes through the whole loop (patch implementer -> `git
//! apply`, acceptance gate -> `true`, task review, code review, commit) while the
//! commands themselves cost next to nothing.
//!
//! It prints the run's wall time, the time of the commands the run executed (measured
//! by running the same `git apply` and `true` 100 times each directly, in the same
//! environment), and planexec's own share per task: (wall - commands) / tasks.
//! Target: under 30 ms of host time per task.
//!
//! Run: `cargo bench -p planexec --bench engine` (one measured run after a warm-up run
//! that fills the component cache; `PLANEXEC_BENCH_TASKS=N` changes the task count).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_planexec");

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn sh(dir: &Path, program: &str, args: &[&str]) {
    let o = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        o.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn git_init(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    sh(dir, "git", &["init", "-q", "-b", "main"]);
    sh(
        dir,
        "git",
        &["config", "user.email", "bench@planexec.invalid"],
    );
    sh(dir, "git", &["config", "user.name", "planexec bench"]);
    sh(dir, "git", &["config", "commit.gpgsign", "false"]);
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn id(n: usize) -> String {
    format!("T{n:03}")
}

/// The patch of task n: a new file `files/fNNN.txt` with one line.
fn patch(n: usize) -> String {
    let f = format!("files/f{n:03}.txt");
    format!(
        "diff --git a/{f} b/{f}\nnew file mode 100644\n--- /dev/null\n+++ b/{f}\n@@ -0,0 +1 @@\n+file {n} of the engine benchmark\n"
    )
}

/// A repo with README, planexec.toml, plan/plan.md and plan/patches/ for `tasks` tasks.
fn setup(dir: &Path, tasks: usize) {
    git_init(dir);
    write(dir, "README.md", "# engine benchmark\n");
    write(
        dir,
        "planexec.toml",
        "[policy]\ngrant = [\"true\", \"git\"]\n\n[run]\nimplementer = \"patch\"\n",
    );
    let mut plan = String::from("# Engine benchmark\n\n");
    for n in 1..=tasks {
        let id = id(n);
        plan.push_str(&format!(
            "### {id}: Add file {n}\n**Summary**: Add files/f{n:03}.txt.\n**Dependencies**: none\n**Files/modules touched**: files/f{n:03}.txt\n**Acceptance test**: `true`\n\n"
        ));
        write(dir, &format!("plan/patches/{id}.patch"), &patch(n));
    }
    write(dir, "plan/plan.md", &plan);
    sh(dir, "git", &["add", "."]);
    sh(dir, "git", &["commit", "-q", "-m", "plan"]);
}

fn planexec_run(dir: &Path, cache: &Path) -> (Duration, std::process::Output) {
    let t = Instant::now();
    let o = Command::new(BIN)
        .args(["run", "plan/plan.md", "--format", "json"])
        .current_dir(dir)
        .env("PLANEXEC_CACHE_DIR", cache)
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .expect("planexec runs");
    (t.elapsed(), o)
}

fn main() {
    let tasks: usize = std::env::var("PLANEXEC_BENCH_TASKS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    let tmp = tempfile::tempdir().unwrap();
    let cache: PathBuf = tmp.path().join("cache");
    std::fs::create_dir_all(&cache).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o700)).unwrap();
    }

    // Warm-up: one task, fills the component cache (cold compiles are the sandbox
    // benchmark's subject, not this one's).
    let warm = tmp.path().join("warm");
    setup(&warm, 1);
    let (cold_wall, o) = planexec_run(&warm, &cache);
    assert!(
        o.status.success(),
        "warm-up run failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );

    // The measured run.
    let ws = tmp.path().join("ws");
    setup(&ws, tasks);
    let (wall, o) = planexec_run(&ws, &cache);
    assert!(
        o.status.success(),
        "run failed ({:?}):\n{}\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let log = Command::new("git")
        .args(["log", "--format=%s"])
        .current_dir(&ws)
        .output()
        .unwrap();
    let commits = String::from_utf8_lossy(&log.stdout)
        .lines()
        .filter(|l| l.starts_with('T'))
        .count();
    assert_eq!(commits, tasks, "one commit per task");

    // The commands the run executed, timed directly in the same environment: the
    // patch implementer's `git apply` per task, the acceptance command `true` per task.
    let direct = tmp.path().join("direct");
    setup(&direct, tasks);
    let t = Instant::now();
    for n in 1..=tasks {
        let p = direct.join(format!("plan/patches/{}.patch", id(n)));
        sh(
            &direct,
            "git",
            &["apply", "--whitespace=nowarn", p.to_str().unwrap()],
        );
    }
    let git_apply = t.elapsed();
    let t = Instant::now();
    for _ in 0..tasks {
        sh(&direct, "true", &[]);
    }
    let truth = t.elapsed();
    let commands = git_apply + truth;
    let host = wall.saturating_sub(commands);
    let per_task = host / tasks as u32;

    println!("planexec engine benchmark: {tasks} tasks, patch implementer, acceptance `true`");
    println!(
        "  warm-up run (1 task, cold component cache): {}",
        ms(cold_wall)
    );
    println!("  total wall time:                  {}", ms(wall));
    println!(
        "  commands run ({tasks}x git apply + {tasks}x true): {} ({} + {})",
        ms(commands),
        ms(git_apply),
        ms(truth)
    );
    println!("  planexec's own share:             {}", ms(host));
    println!(
        "  per task: wall {}, commands {}, planexec {} (target < 30 ms) {}",
        ms(wall / tasks as u32),
        ms(commands / tasks as u32),
        ms(per_task),
        if per_task < Duration::from_millis(30) {
            "OK"
        } else {
            "OVER TARGET"
        }
    );
}
