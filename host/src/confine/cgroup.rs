//! A pids cgroup per boxed command: caps the number of processes (which
//! RLIMIT_NPROC cannot do for root) and lets the host kill every one of them.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

const PIDS_ROOT: &str = "/sys/fs/cgroup/pids";

/// Whether planexec may create pids cgroups here (cgroup v1 pids hierarchy,
/// writable); also removes the groups of planexec processes that died.
pub fn available() -> bool {
    let probe = PathBuf::from(PIDS_ROOT).join(format!("planexec-probe-{}", std::process::id()));
    let ok = std::fs::create_dir(&probe).is_ok();
    if ok {
        let _ = std::fs::remove_dir(&probe);
        remove_stale();
    }
    ok
}

/// `planexec-<pid>-<n>` groups whose planexec process is gone.
fn remove_stale() {
    let Ok(rd) = std::fs::read_dir(PIDS_ROOT) else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix("planexec-")) else {
            continue;
        };
        let pid = rest.split('-').next().and_then(|p| p.parse::<i32>().ok());
        // SAFETY: signal 0 only asks whether the process exists.
        if let Some(pid) = pid.filter(|&p| unsafe { libc::kill(p, 0) } != 0) {
            let _ = pid;
            let _ = std::fs::remove_dir(e.path());
        }
    }
}

/// One command's cgroup, removed on drop.
pub struct Group {
    dir: PathBuf,
}

impl Group {
    /// Creates the group with `pids.max = max`; None when cgroups are not usable,
    /// or not needed: for a non-root user RLIMIT_NPROC, counted per user namespace,
    /// already bounds the box (and joining a cgroup costs an RCU grace period).
    pub fn create(max: u64) -> Option<Group> {
        // SAFETY: getuid cannot fail.
        let root = unsafe { libc::getuid() } == 0;
        let pid_ns_caps_it = super::SUPPORT.pid_ns_max && super::SUPPORT.user_namespaces;
        if !root || pid_ns_caps_it || !super::SUPPORT.pids_cgroup || max == 0 {
            return None;
        }
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = PathBuf::from(PIDS_ROOT).join(format!(
            "planexec-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir(&dir).ok()?;
        let set = std::fs::OpenOptions::new()
            .write(true)
            .open(dir.join("pids.max"))
            .and_then(|mut f| f.write_all(max.to_string().as_bytes()));
        match set {
            Ok(()) => Some(Group { dir }),
            Err(_) => {
                let _ = std::fs::remove_dir(&dir);
                None
            }
        }
    }

    /// The file a process writes "0" to, to join the group.
    pub fn procs_path(&self) -> PathBuf {
        self.dir.join("cgroup.procs")
    }

    /// Kills every process still in the group.
    pub fn kill_all(&self) {
        for _ in 0..50 {
            let Ok(text) = std::fs::read_to_string(self.dir.join("cgroup.procs")) else {
                return;
            };
            let pids: Vec<i32> = text.lines().filter_map(|l| l.trim().parse().ok()).collect();
            if pids.is_empty() {
                return;
            }
            for p in pids {
                // SAFETY: plain syscall on a pid read from our own cgroup.
                unsafe {
                    libc::kill(p, libc::SIGKILL);
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }

    fn remove(&self) {
        for _ in 0..50 {
            if std::fs::remove_dir(&self.dir).is_ok() || !self.dir.exists() {
                return;
            }
            self.kill_all();
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.remove();
    }
}

/// In the helper: moves the calling process into the group at `procs`.
pub fn join(procs: &std::path::Path) -> std::io::Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .open(procs)?
        .write_all(b"0")
}
