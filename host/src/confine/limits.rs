//! Resource limits of a boxed command: memory (RLIMIT_DATA), address space, file
//! size, processes, CPU time (rlimits and the pids cgroup) and the disk its scratch may use.

use serde::{Deserialize, Serialize};

/// Limits of one command, from the manifest within the policy's maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// RLIMIT_DATA, bytes: private writable memory (heap, anonymous mappings), the memory
    /// bound. Reserved but inaccessible ranges (V8's WebAssembly guard regions) do not count.
    pub memory: u64,
    /// RLIMIT_AS, bytes (u64::MAX: unlimited, the default; V8 reserves ~10 GiB per wasm memory).
    #[serde(default = "unlimited")]
    pub address_space: u64,
    /// RLIMIT_FSIZE, bytes.
    pub file_size: u64,
    /// Processes and threads (pids cgroup; RLIMIT_NPROC for non-root users).
    pub processes: u64,
    /// RLIMIT_CPU, seconds.
    pub cpu_seconds: u64,
    /// Bytes the box's scratch and tmp may hold together (checked while it runs).
    pub disk: u64,
}

fn unlimited() -> u64 {
    u64::MAX
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory: 16 << 30,
            address_space: u64::MAX,
            file_size: 4 << 30,
            processes: 1024,
            cpu_seconds: 3600,
            disk: 8 << 30,
        }
    }
}

impl Limits {
    /// Each field the smaller of the two.
    pub fn min(self, cap: Limits) -> Limits {
        Limits {
            memory: self.memory.min(cap.memory),
            address_space: self.address_space.min(cap.address_space),
            file_size: self.file_size.min(cap.file_size),
            processes: self.processes.min(cap.processes),
            cpu_seconds: self.cpu_seconds.min(cap.cpu_seconds),
            disk: self.disk.min(cap.disk),
        }
    }
}

/// The rlimits to set, in the form setrlimit takes.
pub struct Raw(Vec<(libc::__rlimit_resource_t, u64)>);

impl From<&Limits> for Raw {
    /// Each limit no higher than this process's own hard limit (lowering only).
    fn from(l: &Limits) -> Raw {
        let wanted = [
            (libc::RLIMIT_DATA, l.memory),
            (libc::RLIMIT_AS, l.address_space),
            (libc::RLIMIT_FSIZE, l.file_size),
            (libc::RLIMIT_NPROC, l.processes),
            (libc::RLIMIT_CPU, l.cpu_seconds),
            (libc::RLIMIT_CORE, 0),
        ];
        Raw(wanted
            .iter()
            .map(|&(r, v)| (r, v.min(hard_limit(r))))
            .collect())
    }
}

fn hard_limit(res: libc::__rlimit_resource_t) -> u64 {
    let mut cur = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit into a valid struct.
    if unsafe { libc::getrlimit(res, &mut cur) } == 0 {
        cur.rlim_max
    } else {
        u64::MAX
    }
}

/// In the child: lowers soft and hard limits (no allocation).
pub fn apply(raw: &Raw) -> std::io::Result<()> {
    for &(res, v) in &raw.0 {
        let lim = libc::rlimit {
            rlim_cur: v,
            rlim_max: v,
        };
        // SAFETY: setrlimit with a valid struct.
        if unsafe { libc::setrlimit(res, &lim) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}
