//! Scratch directories: one per call, mode 0700, named by the owning process
//! id, removed on drop, on SIGINT/SIGTERM, and (when stale) at start-up.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

const PREFIX: &str = "planexec-scratch-";

/// Scratch directories of this process that still exist.
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// A call's scratch directory; removed (and forgotten) when dropped.
pub struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Ok(mut live) = LIVE.lock() {
            live.retain(|p| p != self.dir.path());
        }
    }
}

/// Creates `planexec-scratch-<pid>-XXXX` in the temp dir, mode 0700.
pub fn create() -> Result<Scratch, String> {
    let dir = tempfile::Builder::new()
        .prefix(&format!("{PREFIX}{}-", std::process::id()))
        .tempdir()
        .map_err(|e| format!("cannot create a scratch directory: {e}"))?;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
        .map_err(|e| format!("cannot make the scratch directory private: {e}"))?;
    if let Ok(mut live) = LIVE.lock() {
        live.push(dir.path().to_path_buf());
    }
    Ok(Scratch { dir })
}

fn remove_live() {
    let dirs = match LIVE.lock() {
        Ok(mut l) => std::mem::take(&mut *l),
        Err(_) => return,
    };
    for d in dirs {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// On SIGINT or SIGTERM: removes this process's scratch directories, then
/// dies of the signal as it would have. Call once, early in `main`. During a
/// run (crate::interrupt installed) the first signal only asks the engine to
/// stop; a second one ends the process here.
pub fn install_signal_cleanup() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
        return;
    };
    let _ = std::thread::Builder::new()
        .name("planexec-signals".into())
        .spawn(move || {
            let mut seen = 0;
            for sig in signals.forever() {
                seen += 1;
                if seen == 1 && crate::interrupt::installed() {
                    continue;
                }
                remove_live();
                let _ = signal_hook::low_level::emulate_default_handler(sig);
                std::process::exit(128 + sig);
            }
        });
}

/// Whether the process `pid` is gone.
fn dead(pid: i32) -> bool {
    // SAFETY: kill with signal 0 only checks for existence.
    let r = unsafe { libc::kill(pid, 0) };
    r != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
}

/// Removes scratch directories under `tmp` left by planexec processes that no
/// longer run (killed with SIGKILL, or a crash) and that this user owns.
/// Returns how many were removed.
pub fn remove_stale(tmp: &Path) -> usize {
    let Ok(rd) = std::fs::read_dir(tmp) else {
        return 0;
    };
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    let mut n = 0;
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(PREFIX)
            .and_then(|r| r.split('-').next())
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(meta) = e.path().symlink_metadata() else {
            continue;
        };
        if !meta.is_dir() || meta.uid() != uid || pid <= 0 || !dead(pid) {
            continue;
        }
        if std::fs::remove_dir_all(e.path()).is_ok() {
            n += 1;
        }
    }
    n
}
