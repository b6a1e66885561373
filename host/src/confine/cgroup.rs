//! A pids cgroup per boxed command: caps the number of processes (which
//! RLIMIT_NPROC cannot do for root) and lets the host kill every one of them.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

const PIDS_ROOT: &str = "/sys/fs/cgroup/pids";

/// Whether planexec may create pids cgroups here (cgroup v1 pids hierarchy, writable).
pub fn available() -> bool {
    let probe = PathBuf::from(PIDS_ROOT).join(format!("planexec-probe-{}", std::process::id()));
    let ok = std::fs::create_dir(&probe).is_ok();
    if ok {
        let _ = std::fs::remove_dir(&probe);
    }
    ok
}

/// One command's cgroup, removed on drop.
pub struct Group {
    dir: PathBuf,
}

impl Group {
    /// Creates the group with `pids.max = max`; None when cgroups are not usable.
    pub fn create(max: u64) -> Option<Group> {
        if !super::SUPPORT.pids_cgroup || max == 0 {
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
