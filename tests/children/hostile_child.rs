//! A program that tries one escape per mode, for the box tests (tests/e2e/confine.rs).
//! Built by the test suite with rustc; never shipped.
//!
//! Usage: hostile_child MODE [ARGS...]. It prints `ESCAPED: ...` and exits 1 when
//! the attempt worked, `CONTAINED: ...` and exits 0 when it was stopped.

use std::ffi::CString;
use std::io::{Read, Write};
use std::os::raw::{c_char, c_int, c_long, c_void};
use std::time::Duration;

extern "C" {
    fn fork() -> c_int;
    fn setsid() -> c_int;
    fn kill(pid: c_int, sig: c_int) -> c_int;
    fn ptrace(req: c_long, pid: c_int, addr: *mut c_void, data: *mut c_void) -> c_long;
    fn dlopen(path: *const c_char, flags: c_int) -> *mut c_void;
    fn dlerror() -> *const c_char;
    fn link(old: *const c_char, new: *const c_char) -> c_int;
    fn _exit(code: c_int) -> !;
}

include!("verdict.rs");

/// Ok(x) means the attack worked.
fn verdict<T: std::fmt::Debug, E: std::fmt::Display>(what: &str, r: Result<T, E>) -> ! {
    match r {
        Ok(v) => escaped(format!("{what}: {v:?}")),
        Err(e) => contained(format!("{what}: {e}")),
    }
}

/// The planexec that started this child: the nearest ancestor named planexec
/// (an unrelated planexec elsewhere on the machine may end at any moment), else
/// any visible one.
fn planexec_pid() -> Option<i32> {
    let comm = |pid: i32| std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    let ppid = |pid: i32| -> Option<i32> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("PPid:"))
            .and_then(|v| v.trim().parse().ok())
    };
    let mut pid = std::process::id() as i32;
    while let Some(parent) = ppid(pid).filter(|p| *p > 0) {
        if comm(parent).trim() == "planexec" {
            return Some(parent);
        }
        pid = parent;
    }
    for e in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = e.file_name();
        let Some(pid) = name.to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        if comm(pid).trim() == "planexec" {
            return Some(pid);
        }
    }
    None
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().cloned().unwrap_or_default();
    let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
    match mode.as_str() {
        "read" => verdict("read", std::fs::read_to_string(arg(1)).map(|s| s.len())),
        "write" => verdict("write", std::fs::write(arg(1), "pwned by hostile_child")),
        "env" => {
            let name = arg(1);
            match std::env::var(&name) {
                Ok(v) => escaped(format!("{name}={v}")),
                Err(_) => contained(format!("{name} is not set")),
            }
        }
        "tcp" => verdict(
            "tcp connect",
            std::net::TcpStream::connect_timeout(
                &arg(1).parse().expect("ADDR:PORT"),
                Duration::from_secs(2),
            )
            .map(|_| "connected"),
        ),
        "udp" => {
            let r = std::net::UdpSocket::bind("0.0.0.0:0").and_then(|s| s.send_to(b"hostile", arg(1)));
            verdict("udp send", r)
        }
        "unix" => verdict(
            "unix connect",
            std::os::unix::net::UnixStream::connect(arg(1)).map(|_| "connected"),
        ),
        "dns" => dns(),
        "daemon" => daemon(&arg(1)),
        "fork-bomb" => fork_bomb(arg(1).parse().unwrap_or(300)),
        "memory" => memory(arg(1).parse().unwrap_or(2048)),
        "disk" => disk(&arg(1), arg(2).parse().unwrap_or(300)),
        "signal" => match planexec_pid() {
            None => contained("no planexec process is visible".into()),
            Some(pid) => {
                // SAFETY: signal 0 only checks permission; nothing is delivered.
                let rc = unsafe { kill(pid, 0) };
                if rc == 0 {
                    escaped(format!("may signal planexec (pid {pid})"))
                } else {
                    contained(format!("kill({pid}, 0): {}", std::io::Error::last_os_error()))
                }
            }
        },
        "proc-environ" => match planexec_pid() {
            None => contained("no planexec process is visible".into()),
            Some(pid) => verdict(
                "read planexec's environ",
                std::fs::read(format!("/proc/{pid}/environ")).map(|b| b.len()),
            ),
        },
        "ptrace" => match planexec_pid() {
            None => contained("no planexec process is visible".into()),
            Some(pid) => {
                const PTRACE_SEIZE: c_long = 0x4206;
                const PTRACE_DETACH: c_long = 17;
                // SAFETY: seize does not stop the tracee; detached right away.
                let rc = unsafe { ptrace(PTRACE_SEIZE, pid, std::ptr::null_mut(), std::ptr::null_mut()) };
                if rc == 0 {
                    unsafe { ptrace(PTRACE_DETACH, pid, std::ptr::null_mut(), std::ptr::null_mut()) };
                    escaped(format!("seized planexec (pid {pid})"))
                } else {
                    contained(format!("ptrace: {}", std::io::Error::last_os_error()))
                }
            }
        },
        "exec" => {
            use std::os::unix::fs::PermissionsExt;
            // An attacker marks its file executable first (chmod is not the wall).
            let _ = std::fs::set_permissions(arg(1), std::fs::Permissions::from_mode(0o755));
            verdict(
                "exec",
                std::process::Command::new(arg(1)).args(&args[2..]).status().map(|s| s.code()),
            )
        }
        "dlopen" => {
            let c = CString::new(arg(1)).unwrap();
            // SAFETY: dlopen of a path; RTLD_NOW.
            let h = unsafe { dlopen(c.as_ptr(), 2) };
            if h.is_null() {
                let e = unsafe { std::ffi::CStr::from_ptr(dlerror()) };
                contained(format!("dlopen: {}", e.to_string_lossy()))
            } else {
                escaped(format!("loaded {}", arg(1)))
            }
        }
        "hardlink" => {
            let (src, dst) = (CString::new(arg(1)).unwrap(), CString::new(arg(2)).unwrap());
            // SAFETY: link(2) of two C strings.
            if unsafe { link(src.as_ptr(), dst.as_ptr()) } != 0 {
                contained(format!("link: {}", std::io::Error::last_os_error()))
            } else {
                verdict("read through the hardlink", std::fs::read_to_string(arg(2)).map(|s| s.len()))
            }
        }
        "print-env" => {
            for (k, v) in std::env::vars() {
                println!("{k}={v}");
            }
        }
        "ok" => println!("hostile_child ran"),
        other => {
            eprintln!("unknown mode {other}");
            std::process::exit(2)
        }
    }
}

/// A query for `.` NS to the first nameserver of /etc/resolv.conf.
fn dns() -> ! {
    let conf = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let server = conf
        .lines()
        .find_map(|l| l.strip_prefix("nameserver "))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "127.0.0.53".into());
    let query: &[u8] = &[0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1];
    let r = std::net::UdpSocket::bind("0.0.0.0:0").and_then(|s| {
        let addr = if server.contains(':') { format!("[{server}]:53") } else { format!("{server}:53") };
        s.send_to(query, addr)
    });
    verdict("dns query sent", r)
}

/// Leaves a setsid() daemon that writes `path` after the command ended.
fn daemon(path: &str) -> ! {
    // SAFETY: fork in a single-threaded program.
    let pid = unsafe { fork() };
    if pid == 0 {
        unsafe { setsid() };
        std::thread::sleep(Duration::from_millis(1500));
        let _ = std::fs::write(path, "the daemon survived");
        unsafe { _exit(0) };
    }
    // Give the daemon time to leave the process group before the parent exits.
    std::thread::sleep(Duration::from_millis(300));
    println!("left a daemon (pid {pid}) behind");
    std::process::exit(0)
}

fn fork_bomb(n: usize) -> ! {
    let mut made = 0;
    for _ in 0..n {
        // SAFETY: the children only sleep and exit.
        let pid = unsafe { fork() };
        if pid == 0 {
            std::thread::sleep(Duration::from_secs(5));
            unsafe { _exit(0) };
        }
        if pid < 0 {
            break;
        }
        made += 1;
    }
    if made >= n {
        escaped(format!("forked {made} processes"))
    } else {
        contained(format!("stopped after {made} of {n} processes"))
    }
}

fn memory(mib: usize) -> ! {
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    for _ in 0..mib {
        let mut v = Vec::new();
        if v.try_reserve_exact(1 << 20).is_err() {
            contained(format!("allocation refused after {} MiB", blocks.len()));
        }
        v.resize(1 << 20, 1u8);
        blocks.push(v);
    }
    escaped(format!("allocated {mib} MiB"))
}

fn disk(dir: &str, mib: usize) -> ! {
    let block = vec![7u8; 1 << 20];
    for i in 0..mib {
        let path = format!("{dir}/fill-{}", i / 16);
        let mut f = match std::fs::OpenOptions::new().create(true).append(true).open(&path) {
            Ok(f) => f,
            Err(e) => contained(format!("after {i} MiB: {e}")),
        };
        if let Err(e) = f.write_all(&block) {
            contained(format!("after {i} MiB: {e}"));
        }
        if i % 16 == 15 {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    let mut s = String::new();
    let _ = std::io::stdin().read_to_string(&mut s);
    escaped(format!("wrote {mib} MiB"))
}
