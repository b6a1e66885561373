//! Engine benchmark: `planexec run` on generated T-ID plans of 10, 100 and 1,000
//! tasks in temp git repos. Each task's patch adds one small text file and its acceptance command is
//! `true`, so every task goes through the whole loop (patch implementer -> `git
//! apply`, acceptance gate -> `true`, task review, code review, commit) while the
//! commands themselves cost next to nothing.
//!
//! For each size it prints the run's wall time, the time of the commands the run
//! executed (measured by running the same `git apply` and `true` once per task
//! directly, in the same environment), planexec's own share per task: (wall -
//! commands) / tasks, and the run's peak memory (max RSS from wait4).
//! Targets: at most 30 ms of host time per task, not growing with the plan's size;
//! at most 100 MB peak memory at 1,000 tasks.
//!
//! Run: `cargo bench -p planexec --bench engine` (measured runs after a warm-up run
//! that fills the component cache; `PLANEXEC_BENCH_TASKS=10,100` changes the sizes).

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

/// Runs planexec in `dir`; returns its wall time, exit status, stderr and peak RSS (bytes).
fn planexec_run(dir: &Path, cache: &Path) -> (Duration, bool, String, u64) {
    let err = dir.join("../stderr.txt");
    let t = Instant::now();
    let child = Command::new(BIN)
        .args(["run", "plan/plan.md", "--jobs", "1", "--format", "json"])
        .current_dir(dir)
        .env("PLANEXEC_CACHE_DIR", cache)
        // The generated planexec.toml is the benchmark's own: trusted; no user config.
        .env("PLANEXEC_TRUST", "1")
        .env("XDG_CONFIG_HOME", cache.join("config-home"))
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .expect("planexec runs");
    let mut status = 0;
    // SAFETY: a zeroed rusage is valid; wait4 reaps exactly our child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as i32, "wait4");
    let wall = t.elapsed();
    let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    let stderr = std::fs::read_to_string(&err).unwrap_or_default();
    (wall, ok, stderr, usage.ru_maxrss as u64 * 1024)
}

struct Row {
    tasks: usize,
    wall: Duration,
    commands: Duration,
    peak: u64,
}

/// One measured run of `tasks` tasks.
fn measure(root: &Path, cache: &Path, tasks: usize) -> Row {
    let ws = root.join(format!("ws{tasks}"));
    setup(&ws, tasks);
    let (wall, ok, stderr, peak) = planexec_run(&ws, cache);
    assert!(ok, "run of {tasks} tasks failed:\n{stderr}");
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
    let direct = root.join(format!("direct{tasks}"));
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
    for _ in 0..tasks {
        sh(&direct, "true", &[]);
    }
    let commands = t.elapsed();
    let _ = std::fs::remove_dir_all(&ws);
    let _ = std::fs::remove_dir_all(&direct);
    Row {
        tasks,
        wall,
        commands,
        peak,
    }
}

fn main() {
    let sizes: Vec<usize> = std::env::var("PLANEXEC_BENCH_TASKS")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10, 100, 1000]);
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
    let (cold_wall, ok, stderr, _) = planexec_run(&warm, &cache);
    assert!(ok, "warm-up run failed: {stderr}");

    println!("planexec engine benchmark: patch implementer, acceptance `true`");
    println!(
        "  warm-up run (1 task, cold component cache): {}",
        ms(cold_wall)
    );
    println!("  tasks | wall       | commands   | planexec/task | peak RSS");
    for tasks in sizes {
        let r = measure(tmp.path(), &cache, tasks);
        let per_task = r.wall.saturating_sub(r.commands) / r.tasks as u32;
        println!(
            "  {:>5} | {:>10} | {:>10} | {:>13} | {:.1} MB {}",
            r.tasks,
            ms(r.wall),
            ms(r.commands),
            ms(per_task),
            r.peak as f64 / 1e6,
            if per_task <= Duration::from_millis(30) {
                "OK"
            } else {
                "OVER TARGET"
            }
        );
    }
}
