//! Runs a program a plugin asked for: natively, never through a shell, in the
//! workspace, in its own process group killed whole on timeout, output capped.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A request to run one program, after placeholder substitution.
#[derive(Debug, Clone)]
pub struct ProcessSpec {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub cwd: PathBuf,
    pub timeout: Duration,
    /// Where stdout goes instead of memory (and its cap).
    pub stdout_file: Option<PathBuf>,
    /// Bytes of stdout/stderr kept in memory each.
    pub capture_cap: usize,
    /// Bytes written to `stdout_file` at most.
    pub file_cap: u64,
}

#[derive(Debug, Clone, Default)]
pub struct ProcessOutput {
    pub exit_code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub truncated: bool,
    pub timed_out: bool,
    pub duration: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("program `{0}` not found on PATH")]
    NotFound(String),
    #[error("{0}")]
    Failed(String),
}

/// Finds `program` on PATH (or checks it when it contains a `/`, relative to `cwd`).
pub fn resolve_program(program: &str, cwd: &Path) -> Result<PathBuf, RunError> {
    if program.contains('/') {
        let p = if Path::new(program).is_absolute() {
            PathBuf::from(program)
        } else {
            cwd.join(program)
        };
        return if p.is_file() {
            Ok(p)
        } else {
            Err(RunError::NotFound(program.into()))
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let cand = dir.join(program);
        if is_executable(&cand) {
            return Ok(cand);
        }
    }
    Err(RunError::NotFound(program.into()))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Runs the process to completion or until its timeout, then kills its whole group.
pub fn run(spec: &ProcessSpec) -> Result<ProcessOutput, RunError> {
    let start = Instant::now();
    let mut cmd = Command::new(&spec.program);
    cmd.args(&spec.args)
        .current_dir(&spec.cwd)
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0);
    for (k, v) in &spec.env {
        cmd.env(k, v);
    }
    let out_file = match &spec.stdout_file {
        Some(p) => {
            let f = std::fs::File::create(p)
                .map_err(|e| RunError::Failed(format!("{}: {e}", p.display())))?;
            Some(f)
        }
        None => None,
    };
    cmd.stdout(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => RunError::NotFound(spec.program.display().to_string()),
        _ => RunError::Failed(format!("{}: {e}", spec.program.display())),
    })?;
    let pid = child.id() as i32;
    let truncated = Arc::new(AtomicBool::new(false));

    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let cap = spec.capture_cap;
    let t1 = truncated.clone();
    let file_cap = spec.file_cap;
    let out_reader = std::thread::spawn(move || match out_file {
        Some(f) => {
            copy_capped_to_file(stdout, f, file_cap, &t1);
            Vec::new()
        }
        None => read_capped(stdout, cap, &t1),
    });
    let t2 = truncated.clone();
    let err_reader = std::thread::spawn(move || read_capped(stderr, cap, &t2));

    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) => {}
            Err(e) => return Err(RunError::Failed(e.to_string())),
        }
        if start.elapsed() >= spec.timeout {
            timed_out = true;
            // SAFETY: plain syscall; a negative pid addresses the child's process group.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
            break child.wait().ok();
        }
        std::thread::sleep(poll_interval(start.elapsed()));
    };
    // Grandchildren may still hold the pipes open; make sure the group is gone.
    unsafe {
        libc::kill(-pid, libc::SIGKILL);
    }
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    Ok(ProcessOutput {
        exit_code: status.and_then(|s| s.code()),
        stdout,
        stderr,
        truncated: truncated.load(Ordering::Relaxed),
        timed_out,
        duration: start.elapsed(),
    })
}

/// Short polls first so quick commands return fast, then back off.
fn poll_interval(elapsed: Duration) -> Duration {
    if elapsed < Duration::from_millis(20) {
        Duration::from_micros(200)
    } else if elapsed < Duration::from_secs(1) {
        Duration::from_millis(2)
    } else {
        Duration::from_millis(20)
    }
}

fn read_capped(mut r: impl Read, cap: usize, truncated: &AtomicBool) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    loop {
        match r.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = cap.saturating_sub(buf.len());
                if n > room {
                    truncated.store(true, Ordering::Relaxed);
                }
                buf.extend_from_slice(&chunk[..n.min(room)]);
            }
        }
    }
    buf
}

fn copy_capped_to_file(mut r: impl Read, mut f: std::fs::File, cap: u64, truncated: &AtomicBool) {
    use std::io::Write;
    let mut written = 0u64;
    let mut chunk = vec![0u8; 256 * 1024];
    loop {
        match r.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = cap.saturating_sub(written) as usize;
                if n > room {
                    truncated.store(true, Ordering::Relaxed);
                }
                let k = n.min(room);
                if k > 0 && f.write_all(&chunk[..k]).is_err() {
                    break;
                }
                written += k as u64;
            }
        }
    }
    let _ = f.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(program: &str, args: &[&str], timeout_ms: u64) -> ProcessSpec {
        ProcessSpec {
            program: resolve_program(program, Path::new("/")).unwrap(),
            args: args.iter().map(|s| s.to_string()).collect(),
            env: vec![],
            cwd: std::env::temp_dir(),
            timeout: Duration::from_millis(timeout_ms),
            stdout_file: None,
            capture_cap: 1024,
            file_cap: 1 << 20,
        }
    }

    #[test]
    fn captures_exit_code_and_output() {
        let o = run(&spec("sh", &["-c", "echo hi; echo err >&2; exit 3"], 5000)).unwrap();
        assert_eq!(o.exit_code, Some(3));
        assert_eq!(o.stdout, b"hi\n");
        assert_eq!(o.stderr, b"err\n");
        assert!(!o.timed_out);
    }

    #[test]
    fn timeout_kills_the_whole_group() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("survived");
        let script = format!("(sleep 1; touch {}) & sleep 30", marker.display());
        let o = run(&spec("sh", &["-c", &script], 200)).unwrap();
        assert!(o.timed_out);
        assert!(o.duration < Duration::from_secs(5));
        std::thread::sleep(Duration::from_millis(1500));
        assert!(!marker.exists(), "a grandchild outlived the timeout");
    }

    #[test]
    fn output_is_capped() {
        let o = run(&spec("sh", &["-c", "yes | head -c 100000"], 5000)).unwrap();
        assert_eq!(o.stdout.len(), 1024);
        assert!(o.truncated);
    }

    #[test]
    fn missing_program_is_not_found() {
        assert!(matches!(
            resolve_program("no-such-program-xyz", Path::new("/")),
            Err(RunError::NotFound(_))
        ));
    }
}
