//! What the benchmarks share: timing by medians, running commands, the target dir, lefthook
//! from npm (installed once), scratch git repositories and copies of the example projects.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

pub fn time(n: usize, mut f: impl FnMut()) -> Duration {
    f(); // warm-up
    median(
        (0..n)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect(),
    )
}

pub fn run_ok(c: &mut Command) {
    let o = c.output().expect("runs");
    assert!(
        o.status.success(),
        "{c:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

pub fn target_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_relative() { root.join(p) } else { p })
        .unwrap_or_else(|| root.join("target"))
}

/// lefthook from npm, installed once into the target dir.
pub fn lefthook() -> Option<PathBuf> {
    let dir = target_dir().join("bench-tools");
    let bin = dir.join("node_modules/.bin/lefthook");
    if !bin.exists() {
        std::fs::create_dir_all(&dir).ok()?;
        // --ignore-scripts, in its own folder: lefthook's postinstall would install
        // git hooks into the repository npm runs in; its binary comes as a dependency.
        let st = Command::new("npm")
            .args([
                "i",
                "-E",
                "--no-audit",
                "--no-fund",
                "--ignore-scripts",
                "lefthook@2.2.1",
                "--prefix",
            ])
            .arg(&dir)
            .current_dir(&dir)
            .status()
            .ok()?;
        if !st.success() {
            return None;
        }
    }
    // The platform binary itself, not the node wrapper in .bin (which adds node's start-up).
    let native = dir.join(format!(
        "node_modules/lefthook-linux-{}/bin/lefthook",
        if cfg!(target_arch = "aarch64") {
            "arm64"
        } else {
            "x64"
        }
    ));
    if native.exists() {
        return Some(native);
    }
    bin.exists().then_some(bin)
}

pub fn git_repo(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    run_ok(Command::new("git").args(["init", "-q"]).current_dir(dir));
}

pub fn copy_tree(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap().flatten() {
        let name = e.file_name();
        if matches!(
            name.to_str(),
            Some(".mypy_cache" | "__pycache__" | ".pytest_cache" | ".coverage-data")
        ) {
            continue;
        }
        let to = dst.join(&name);
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), &to).unwrap();
        }
    }
}

/// pre-commit from pip, installed once into a venv in the target dir.
pub fn pre_commit(_tmp: &Path) -> Option<PathBuf> {
    let venv = target_dir().join("bench-tools/pre-commit-venv");
    let bin = venv.join("bin/pre-commit");
    if !bin.exists() {
        let ok = Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg(&venv)
            .status()
            .ok()?
            .success()
            && Command::new(venv.join("bin/pip"))
                .args([
                    "install",
                    "-q",
                    "--disable-pip-version-check",
                    "pre-commit==4.5.1",
                ])
                .status()
                .ok()?
                .success();
        if !ok {
            return None;
        }
    }
    Some(bin)
}

/// Wall time and CPU time (user + system of every waited-for descendant) of one run.
#[derive(Clone, Copy)]
pub struct Sample {
    pub wall: Duration,
    pub cpu: Duration,
}

fn children_cpu() -> Duration {
    // SAFETY: getrusage fills the zeroed struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(u.ru_utime) + tv(u.ru_stime)
}

/// Runs the cases in turn, `n` rounds after one warm-up round (so a change of the
/// machine's load hits every case alike), and returns each case's median wall and CPU.
pub fn alternate(n: usize, cases: &mut [&mut dyn FnMut()]) -> Vec<Sample> {
    for c in cases.iter_mut() {
        c();
    }
    let mut walls = vec![Vec::new(); cases.len()];
    let mut cpus = vec![Vec::new(); cases.len()];
    for _ in 0..n {
        for (i, c) in cases.iter_mut().enumerate() {
            let (t, cpu) = (Instant::now(), children_cpu());
            c();
            walls[i].push(t.elapsed());
            cpus[i].push(children_cpu().saturating_sub(cpu));
        }
    }
    walls
        .into_iter()
        .zip(cpus)
        .map(|(w, c)| Sample {
            wall: median(w),
            cpu: median(c),
        })
        .collect()
}

/// "12.34 ms wall, 8.00 ms CPU".
pub fn wall_cpu(s: Sample) -> String {
    format!("{} wall, {} CPU", ms(s.wall), ms(s.cpu))
}

/// The machine's load average (1, 5, 15 minutes), for the record.
pub fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}
