//! The `planexec-box` helper: started by the host with a box spec, it joins the
//! pids cgroup, builds the box in its own small process and execs the program.
//!
//! Usage (internal): `planexec-box SPEC-JSON PROGRAM ARGS...`, environment and
//! working directory already set by the host. Exit 125 when the box cannot be
//! built (the reason on stderr), 127 when the program cannot be executed.

use super::{BoxSpec, Support};
use serde::{Deserialize, Serialize};
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// The helper's file name, beside the planexec binary.
pub const NAME: &str = "planexec-box";

/// What the host hands the helper.
#[derive(Debug, Serialize, Deserialize)]
pub struct Spec {
    pub bx: BoxSpec,
    pub support: Support,
    pub cgroup_procs: Option<PathBuf>,
}

/// The helper beside the running executable (or `$PLANEXEC_BOX_HELPER`).
pub fn path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PLANEXEC_BOX_HELPER") {
        return Some(PathBuf::from(p));
    }
    let exe = std::env::current_exe().ok()?;
    let p = exe.with_file_name(NAME);
    p.is_file().then_some(p)
}

fn fail(code: i32, msg: String) -> ! {
    eprintln!("planexec-box: {msg}");
    std::process::exit(code)
}

/// The helper's whole life: never returns.
pub fn main() -> ! {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    if args.len() < 2 {
        fail(
            125,
            "usage: planexec-box SPEC PROGRAM ARGS... (started by planexec)".into(),
        );
    }
    let spec: Spec = serde_json::from_slice(args[0].as_bytes())
        .unwrap_or_else(|e| fail(125, format!("bad box spec: {e}")));
    if let Some(p) = &spec.cgroup_procs {
        if let Err(e) = super::cgroup::join(p) {
            fail(
                125,
                format!("cannot join the pids cgroup {}: {e}", p.display()),
            );
        }
    }
    let argv: Vec<CString> = args[1..]
        .iter()
        .map(|a| {
            CString::new(a.as_bytes()).unwrap_or_else(|_| fail(125, "NUL in an argument".into()))
        })
        .collect();
    let mut prepared = spec
        .bx
        .prepare(&spec.support)
        .unwrap_or_else(|e| fail(125, format!("cannot build the box: {e}")));
    if let Err(e) = prepared.enter() {
        fail(125, format!("cannot enter the box: {e}"));
    }
    let mut ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    super::close_inherited();
    // SAFETY: a NULL-terminated argv of valid C strings; environ is inherited.
    unsafe { libc::execv(argv[0].as_ptr(), ptrs.as_ptr()) };
    fail(
        127,
        format!(
            "cannot execute {}: {}",
            argv[0].to_string_lossy(),
            std::io::Error::last_os_error()
        ),
    )
}
