//! Runs a program a plugin asked for: natively, never through a shell, in its
//! box (see crate::confine), in its own process group killed whole on timeout
//! or when its scratch outgrows the disk limit, output capped.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::confine::Launch;

/// A request to run one program, after placeholder substitution.
#[derive(Debug, Clone)]
pub struct ProcessSpec {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// Start from an empty environment (the box) rather than the host's.
    pub clear_env: bool,
    pub cwd: PathBuf,
    pub timeout: Duration,
    /// Where stdout goes instead of memory: (root, path beneath it), opened
    /// without following any symlink.
    pub stdout_file: Option<(PathBuf, PathBuf)>,
    /// Bytes of stdout/stderr kept in memory each.
    pub capture_cap: usize,
    /// Bytes written to `stdout_file` at most.
    pub file_cap: u64,
    /// Directories whose total size may not pass `disk_cap` while it runs.
    pub disk_watch: Vec<PathBuf>,
    /// Persistent directories (the tool cache) whose growth counts against `disk_cap`.
    pub disk_growth: Vec<Growth>,
    pub disk_cap: u64,
}

/// A directory that existed before the program and counts by what it grows.
#[derive(Debug, Clone)]
pub struct Growth {
    pub dir: PathBuf,
    /// Its size when the program started.
    pub before: u64,
}

impl Growth {
    /// `dir` and its size now (counted up to `cap` past a large cache, to stay cheap).
    pub fn from(dir: &Path, cap: u64) -> Growth {
        let before = super::state::dir_size(dir, u64::MAX.saturating_sub(cap));
        Growth {
            dir: dir.to_path_buf(),
            before,
        }
    }

    fn grown(&self, cap: u64) -> u64 {
        super::state::dir_size(&self.dir, self.before.saturating_add(cap))
            .saturating_sub(self.before)
    }
}

/// What the program wrote into its watched directories so far.
fn disk_used(spec: &ProcessSpec) -> u64 {
    let fresh: u64 = spec
        .disk_watch
        .iter()
        .map(|d| super::state::dir_size(d, spec.disk_cap))
        .sum();
    let grown: u64 = spec
        .disk_growth
        .iter()
        .map(|g| g.grown(spec.disk_cap))
        .sum();
    fresh.saturating_add(grown)
}

#[derive(Debug, Clone, Default)]
pub struct ProcessOutput {
    pub exit_code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub truncated: bool,
    pub timed_out: bool,
    pub duration: Duration,
    /// Why the host killed it early, besides a timeout (the disk limit).
    pub killed: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("program `{0}` not found on PATH")]
    NotFound(String),
    #[error("{0}")]
    NotGranted(String),
    #[error("{0}")]
    Failed(String),
}

/// Finds `program` on `path` (absolute entries only), or checks it when it
/// contains a `/`, relative to `cwd`.
pub fn resolve_program(program: &str, cwd: &Path, path: &str) -> Result<PathBuf, RunError> {
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
    for dir in std::env::split_paths(path).filter(|d| d.is_absolute()) {
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

/// Runs the process (in `boxed`, when given) to completion or until its
/// timeout, then kills its whole group and whatever is left of its box.
pub fn run(spec: &ProcessSpec, boxed: Option<Launch>) -> Result<ProcessOutput, RunError> {
    let start = Instant::now();
    let mut cmd = match &boxed {
        // planexec-box SPEC PROGRAM ARGS: the helper builds the box and execs.
        Some(l) => {
            let mut c = Command::new(&l.helper);
            c.arg(&l.spec).arg(&spec.program);
            c
        }
        None => Command::new(&spec.program),
    };
    let group = boxed.and_then(|l| l.group);
    cmd.args(&spec.args)
        .current_dir(&spec.cwd)
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0);
    if spec.clear_env {
        cmd.env_clear();
    }
    for (k, v) in &spec.env {
        cmd.env(k, v);
    }
    let out_file = match &spec.stdout_file {
        Some((root, rel)) => Some(
            open_beneath(root, rel)
                .map_err(|e| RunError::Failed(format!("stdout-file {}: {e}", rel.display())))?,
        ),
        None => None,
    };
    cmd.stdout(Stdio::piped());
    if let Some(sig) = crate::interrupt::pending() {
        return Err(RunError::Failed(format!(
            "not started: the run was interrupted by {}",
            crate::interrupt::name(sig)
        )));
    }
    let mut child = cmd.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => RunError::NotFound(spec.program.display().to_string()),
        _ => RunError::Failed(format!("{}: {e}", spec.program.display())),
    })?;
    let pid = child.id() as i32;
    let truncated = Arc::new(AtomicBool::new(false));
    let running = super::activity::start(&spec.program.to_string_lossy());
    let (seen_out, seen_err) = (running.tracker(), running.tracker());

    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let cap = spec.capture_cap;
    let t1 = truncated.clone();
    let file_cap = spec.file_cap;
    let out_reader = std::thread::spawn(move || match out_file {
        Some(f) => {
            copy_capped_to_file(stdout, f, file_cap, &t1, seen_out);
            Vec::new()
        }
        None => read_capped(stdout, cap, &t1, seen_out),
    });
    let t2 = truncated.clone();
    let err_reader = std::thread::spawn(move || read_capped(stderr, cap, &t2, seen_err));

    let mut timed_out = false;
    let mut killed = None;
    let mut next_disk_check = Duration::from_millis(100);
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) => {}
            Err(e) => return Err(RunError::Failed(e.to_string())),
        }
        let elapsed = start.elapsed();
        if let Some(sig) = crate::interrupt::pending() {
            killed = Some(format!(
                "planexec: stopped: the run was interrupted by {}",
                crate::interrupt::name(sig)
            ));
            kill_group(pid);
            break child.wait().ok();
        }
        if elapsed >= spec.timeout {
            timed_out = true;
            kill_group(pid);
            break child.wait().ok();
        }
        if elapsed >= next_disk_check && !spec.disk_watch.is_empty() {
            next_disk_check = elapsed + Duration::from_millis(100);
            let used = disk_used(spec);
            if used > spec.disk_cap {
                killed = Some(format!(
                    "planexec: killed: its scratch, tmp, HOME and tool cache hold {} MiB new, over the disk limit of {} MiB (requests.limits.disk)",
                    used >> 20,
                    spec.disk_cap >> 20
                ));
                kill_group(pid);
                break child.wait().ok();
            }
        }
        std::thread::sleep(poll_interval(elapsed));
    };
    // Grandchildren may still hold the pipes open; make sure the group and box are gone.
    kill_group(pid);
    if let Some(g) = &group {
        g.kill_all();
    }
    let stdout = out_reader.join().unwrap_or_default();
    let mut stderr = err_reader.join().unwrap_or_default();
    if let Some(k) = &killed {
        stderr.extend_from_slice(format!("\n{k}\n").as_bytes());
    }
    Ok(ProcessOutput {
        exit_code: status.and_then(|s| s.code()),
        stdout,
        stderr,
        truncated: truncated.load(Ordering::Relaxed),
        timed_out,
        duration: start.elapsed(),
        killed,
    })
}

fn kill_group(pid: i32) {
    // SAFETY: plain syscall; a negative pid addresses the child's process group.
    unsafe {
        libc::kill(-pid, libc::SIGKILL);
    }
}

/// Creates `rel` beneath `root` for writing (mode 0600), refusing any symlink
/// on the way and any path that leaves `root` (openat2 RESOLVE_BENEATH).
pub fn open_beneath(root: &Path, rel: &Path) -> std::io::Result<std::fs::File> {
    use std::ffi::CString;
    use std::os::fd::{FromRawFd, OwnedFd};
    use std::os::unix::ffi::OsStrExt;
    let dir = std::fs::File::open(root)?;
    let c = CString::new(rel.as_os_str().as_bytes()).map_err(std::io::Error::other)?;
    // SAFETY: open_how is plain data; zeroed then filled.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_CLOEXEC) as u64;
    how.mode = 0o600;
    how.resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_NO_MAGICLINKS;
    use std::os::fd::AsRawFd;
    // SAFETY: openat2 with a valid dirfd, C string and open_how of the right size.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dir.as_raw_fd(),
            c.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if fd < 0 {
        let e = std::io::Error::last_os_error();
        return Err(match e.raw_os_error() {
            Some(libc::ELOOP) | Some(libc::EXDEV) => std::io::Error::other(
                "refused: the path goes through a symlink or leaves its directory",
            ),
            _ => e,
        });
    }
    // SAFETY: a fresh descriptor we own.
    Ok(std::fs::File::from(unsafe {
        OwnedFd::from_raw_fd(fd as i32)
    }))
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

fn read_capped(
    mut r: impl Read,
    cap: usize,
    truncated: &AtomicBool,
    seen: super::activity::Tracker,
) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    loop {
        match r.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                seen.saw(&chunk[..n]);
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

fn copy_capped_to_file(
    mut r: impl Read,
    mut f: std::fs::File,
    cap: u64,
    truncated: &AtomicBool,
    seen: super::activity::Tracker,
) {
    use std::io::Write;
    let mut written = 0u64;
    let mut chunk = vec![0u8; 256 * 1024];
    loop {
        match r.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                seen.saw(&chunk[..n]);
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
            program: resolve_program(program, Path::new("/"), "/usr/bin:/bin").unwrap(),
            args: args.iter().map(|s| s.to_string()).collect(),
            env: vec![],
            clear_env: false,
            disk_watch: vec![],
            disk_growth: vec![],
            disk_cap: u64::MAX,
            cwd: std::env::temp_dir(),
            timeout: Duration::from_millis(timeout_ms),
            stdout_file: None,
            capture_cap: 1024,
            file_cap: 1 << 20,
        }
    }

    fn run_plain(s: &ProcessSpec) -> Result<ProcessOutput, RunError> {
        run(s, None)
    }

    #[test]
    fn captures_exit_code_and_output() {
        let o = run_plain(&spec("sh", &["-c", "echo hi; echo err >&2; exit 3"], 5000)).unwrap();
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
        let o = run_plain(&spec("sh", &["-c", &script], 200)).unwrap();
        assert!(o.timed_out);
        assert!(o.duration < Duration::from_secs(5));
        std::thread::sleep(Duration::from_millis(1500));
        assert!(!marker.exists(), "a grandchild outlived the timeout");
    }

    #[test]
    fn output_is_capped() {
        let o = run_plain(&spec("sh", &["-c", "yes | head -c 100000"], 5000)).unwrap();
        assert_eq!(o.stdout.len(), 1024);
        assert!(o.truncated);
    }

    #[test]
    fn missing_program_is_not_found() {
        assert!(matches!(
            resolve_program("no-such-program-xyz", Path::new("/"), "/usr/bin"),
            Err(RunError::NotFound(_))
        ));
    }
}
