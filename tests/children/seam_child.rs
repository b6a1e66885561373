//! A program that reaches for what the box could share with the host, for the
//! seam tests (tests/e2e/seams.rs). Built by the test suite with rustc; never shipped.
//!
//! Usage: seam_child MODE [ARGS...]. It prints `ESCAPED: ...` and exits 1 when
//! it reached the host, `CONTAINED: ...` and exits 0 when it was stopped.

use std::ffi::CString;
use std::io::Read;
use std::os::raw::{c_char, c_int, c_long, c_ulong, c_void};
use std::os::unix::io::FromRawFd;

extern "C" {
    fn ioctl(fd: c_int, req: c_ulong, ...) -> c_int;
    fn syscall(n: c_long, ...) -> c_long;
    fn shmget(key: c_int, size: usize, flags: c_int) -> c_int;
    fn shmat(id: c_int, addr: *const c_void, flags: c_int) -> *mut c_void;
    fn mmap(addr: *mut c_void, len: usize, prot: c_int, flags: c_int, fd: c_int, off: i64) -> *mut c_void;
    fn socket(domain: c_int, ty: c_int, proto: c_int) -> c_int;
    fn connect(fd: c_int, addr: *const c_void, len: u32) -> c_int;
    fn fork() -> c_int;
    fn pause() -> c_int;
    fn _exit(code: c_int) -> !;
}

#[cfg(target_arch = "x86_64")]
mod nr {
    pub const KEYCTL: i64 = 250;
    pub const BPF: i64 = 321;
    pub const NAME_TO_HANDLE_AT: i64 = 303;
    pub const OPEN_BY_HANDLE_AT: i64 = 304;
}
#[cfg(target_arch = "aarch64")]
mod nr {
    pub const KEYCTL: i64 = 219;
    pub const BPF: i64 = 280;
    pub const NAME_TO_HANDLE_AT: i64 = 264;
    pub const OPEN_BY_HANDLE_AT: i64 = 265;
}
const IO_URING_SETUP: c_long = 425;
const IO_URING_ENTER: c_long = 426;
const PIDFD_OPEN: c_long = 434;
const PIDFD_GETFD: c_long = 438;
const TIOCSTI: c_ulong = 0x5412;

include!("verdict.rs");

fn errno() -> std::io::Error {
    std::io::Error::last_os_error()
}

fn cstr(s: &str) -> CString {
    CString::new(s).unwrap()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
    match arg(0).as_str() {
        "tty" => tty(),
        "keyring" => keyring(&arg(1)),
        "shm-read" => shm_read(arg(1).parse().expect("KEY")),
        "shm-create" => shm_create(arg(1).parse().expect("KEY")),
        "proc-cmdline" => proc_cmdline(&format!("PROC-SECRET-{}", arg(1))),
        "fd" => read_fd(arg(1).parse().expect("FD")),
        "io-uring" => io_uring(&arg(1)),
        "routes" => routes(),
        other => {
            eprintln!("unknown mode {other}");
            std::process::exit(2)
        }
    }
}

/// Types into the terminal with TIOCSTI (fds 0-2, then /dev/tty) and writes a
/// raw escape sequence (a window title) to /dev/tty.
fn tty() -> ! {
    let mut notes = Vec::new();
    for fd in 0..3 {
        // SAFETY: TIOCSTI takes a pointer to one byte.
        if unsafe { ioctl(fd, TIOCSTI, b"#".as_ptr()) } == 0 {
            escaped(format!("TIOCSTI on fd {fd} typed into a terminal"));
        }
        notes.push(format!("TIOCSTI on fd {fd}: {}", errno()));
    }
    match std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty") {
        Err(e) => notes.push(format!("/dev/tty: {e} (errno {})", e.raw_os_error().unwrap_or(0))),
        Ok(f) => {
            use std::io::Write;
            use std::os::unix::io::AsRawFd;
            let _ = (&f).write_all(b"\x1b]0;BOX-PWNED\x07");
            for b in b"echo BOX-INJECTED\n" {
                // SAFETY: TIOCSTI takes a pointer to one byte.
                unsafe { ioctl(f.as_raw_fd(), TIOCSTI, b as *const u8) };
            }
            escaped("opened /dev/tty, wrote an escape sequence and typed into it".into())
        }
    }
    contained(notes.join("; "))
}

const KEYCTL_SEARCH: c_long = 10;
const KEYCTL_READ: c_long = 11;
const KEY_SPEC_SESSION_KEYRING: c_long = -3;

/// Reads the payload of key `id`, if permitted.
fn read_key(id: c_long) -> Result<String, std::io::Error> {
    let mut buf = [0u8; 256];
    // SAFETY: KEYCTL_READ into a buffer of the given size.
    let n = unsafe { syscall(nr::KEYCTL, KEYCTL_READ, id, buf.as_mut_ptr(), buf.len()) };
    if n < 0 {
        return Err(errno());
    }
    Ok(String::from_utf8_lossy(&buf[..(n as usize).min(buf.len())]).into_owned())
}

/// Looks for the user key `desc` in the session keyring, then by its id in /proc/keys.
fn keyring(desc: &str) -> ! {
    let (ty, d) = (cstr("user"), cstr(desc));
    // SAFETY: KEYCTL_SEARCH with two C strings.
    let id = unsafe { syscall(nr::KEYCTL, KEYCTL_SEARCH, KEY_SPEC_SESSION_KEYRING, ty.as_ptr(), d.as_ptr(), 0 as c_long) };
    let mut notes = vec![];
    if id >= 0 {
        match read_key(id) {
            Ok(v) => escaped(format!("read key {desc} from the session keyring: {v}")),
            Err(e) => notes.push(format!("found {id} in @s, read: {e}")),
        }
    } else {
        notes.push(format!("search @s: {}", errno()));
    }
    let keys = std::fs::read_to_string("/proc/keys").unwrap_or_default();
    for line in keys.lines().filter(|l| l.contains(desc)) {
        let id = c_long::from_str_radix(line.split_whitespace().next().unwrap_or(""), 16).unwrap_or(-1);
        match read_key(id) {
            Ok(v) => escaped(format!("read key {desc} by its id {id}: {v}")),
            Err(e) => notes.push(format!("id {id} from /proc/keys, read: {e}")),
        }
    }
    contained(notes.join("; "))
}

fn shm_read(key: c_int) -> ! {
    // SAFETY: shmget/shmat of an existing segment, read as a C string.
    unsafe {
        let id = shmget(key, 0, 0);
        if id < 0 {
            contained(format!("shmget({key}): {}", errno()));
        }
        let p = shmat(id, std::ptr::null(), 0o10000);
        if p as isize == -1 {
            contained(format!("shmat: {}", errno()));
        }
        let s = std::ffi::CStr::from_ptr(p as *const c_char);
        escaped(format!("read a host segment: {}", s.to_string_lossy()))
    }
}

fn shm_create(key: c_int) -> ! {
    // SAFETY: a new segment, written as a C string.
    unsafe {
        let id = shmget(key, 4096, 0o1000 | 0o2000 | 0o600);
        if id < 0 {
            println!("shmget create: {}", errno());
            std::process::exit(3);
        }
        let p = shmat(id, std::ptr::null(), 0) as *mut u8;
        std::ptr::copy_nonoverlapping(b"left by the box\0".as_ptr(), p, 16);
    }
    println!("created segment {key}");
    std::process::exit(0)
}

fn proc_cmdline(needle: &str) -> ! {
    let mut seen = 0;
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = e.file_name();
        if !name.to_string_lossy().bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        seen += 1;
        let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmd).replace('\0', " ").contains(needle) {
            escaped(format!("pid {} has {needle} on its command line", name.to_string_lossy()));
        }
    }
    contained(format!("{seen} processes visible, none with the secret"))
}

fn read_fd(fd: c_int) -> ! {
    let mut s = String::new();
    // SAFETY: an inherited descriptor, if there is one; read once.
    let mut f = unsafe { std::fs::File::from_raw_fd(fd) };
    match f.read_to_string(&mut s) {
        Ok(_) => escaped(format!("fd {fd}: {}", s.trim())),
        Err(e) => contained(format!("fd {fd}: {e}")),
    }
}

/// io_uring_params: 10 words, then the sq and cq ring offsets (10 words each).
#[repr(C)]
#[derive(Default)]
struct Params {
    sq_entries: u32,
    cq_entries: u32,
    flags: u32,
    sq_thread_cpu: u32,
    sq_thread_idle: u32,
    features: u32,
    wq_fd: u32,
    resv: [u32; 3],
    sq_off: [u32; 10],
    cq_off: [u32; 10],
}

/// Maps `len` bytes of ring `fd` at `off`.
unsafe fn map(fd: c_int, len: usize, off: i64) -> *mut u8 {
    let p = mmap(std::ptr::null_mut(), len, 3, 0x01 | 0x8000, fd, off);
    if p as isize == -1 {
        escaped(format!("io_uring is open (mmap failed: {})", errno()));
    }
    p as *mut u8
}

/// Creates an AF_UNIX socket with IORING_OP_SOCKET (the socket filter never
/// sees it) and connects it to `path`.
fn io_uring(path: &str) -> ! {
    let mut p = Params::default();
    // SAFETY: io_uring_setup with a zeroed params struct.
    let fd = unsafe { syscall(IO_URING_SETUP, 4 as c_long, &mut p as *mut Params) } as c_int;
    if fd < 0 {
        contained(format!("io_uring_setup: {}", errno()));
    }
    let res = unsafe { submit_socket(fd, &p) };
    if res < 0 {
        escaped(format!("io_uring is open (IORING_OP_SOCKET: errno {})", -res));
    }
    let mut addr = [0u8; 110];
    addr[0] = 1; // AF_UNIX
    addr[2..2 + path.len()].copy_from_slice(path.as_bytes());
    // SAFETY: connect with a sockaddr_un of the right size.
    let rc = unsafe { connect(res, addr.as_ptr() as *const c_void, addr.len() as u32) };
    if rc == 0 {
        escaped(format!("connected to {path} through an io_uring socket"));
    }
    escaped(format!("io_uring is open (connect: {})", errno()))
}

/// One IORING_OP_SOCKET submission; the completion's result (a descriptor or -errno).
unsafe fn submit_socket(fd: c_int, p: &Params) -> c_int {
    let (sq, cq) = (&p.sq_off, &p.cq_off);
    let sq_ring = map(fd, sq[6] as usize + p.sq_entries as usize * 4, 0);
    let cq_ring = map(fd, cq[5] as usize + p.cq_entries as usize * 16, 0x8000000);
    let sqes = map(fd, p.sq_entries as usize * 64, 0x10000000);
    let sqe = std::slice::from_raw_parts_mut(sqes, 64);
    sqe.fill(0);
    sqe[0] = 45; // IORING_OP_SOCKET
    sqe[4..8].copy_from_slice(&1i32.to_ne_bytes()); // fd: the domain, AF_UNIX
    sqe[8..16].copy_from_slice(&1u64.to_ne_bytes()); // off: the type, SOCK_STREAM
    let at = |base: *mut u8, off: u32| base.add(off as usize) as *mut u32;
    let tail = at(sq_ring, sq[1]);
    let mask = *at(sq_ring, sq[2]);
    *at(sq_ring, sq[6]).add((*tail & mask) as usize) = 0;
    std::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst);
    *tail += 1;
    std::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst);
    if syscall(IO_URING_ENTER, fd as c_long, 1 as c_long, 1 as c_long, 1 as c_long, 0usize, 0usize) < 0 {
        escaped(format!("io_uring is open (enter: {})", errno()));
    }
    let head = *at(cq_ring, cq[0]);
    let cmask = *at(cq_ring, cq[2]);
    let cqe = cq_ring.add(cq[5] as usize + (head & cmask) as usize * 16);
    *(cqe.add(8) as *const i32)
}

/// Other calls around the path and socket checks: file handles, another
/// process's descriptors, kernel programs. Contained when every one is refused.
fn routes() -> ! {
    let mut open = Vec::new();
    let mut notes = Vec::new();
    let mut note = |what: &str, ok: bool| {
        if ok {
            open.push(what.to_string());
        } else {
            notes.push(format!("{what}: {}", errno()));
        }
    };
    // SAFETY: each call gets buffers of the sizes it expects.
    unsafe {
        let mut handle = [0u8; 136];
        handle[..4].copy_from_slice(&128u32.to_ne_bytes());
        let mut mount_id: c_int = 0;
        let dot = cstr("/etc");
        let named = syscall(nr::NAME_TO_HANDLE_AT, -100 as c_long, dot.as_ptr(), handle.as_mut_ptr(), &mut mount_id as *mut c_int, 0 as c_long) == 0;
        note("name_to_handle_at", named);
        let root = libc_open("/etc");
        let opened = syscall(nr::OPEN_BY_HANDLE_AT, root as c_long, handle.as_mut_ptr(), 0o200000 as c_long) >= 0;
        note("open_by_handle_at", opened);
        let child = fork();
        if child == 0 {
            pause();
            _exit(0);
        }
        let pidfd = syscall(PIDFD_OPEN, child as c_long, 0 as c_long);
        let got = syscall(PIDFD_GETFD, pidfd, 1 as c_long, 0 as c_long) >= 0;
        note("pidfd_getfd", got);
        libc_kill(child);
        let attr: [u32; 5] = [2, 4, 4, 1, 0]; // BPF_MAP_TYPE_ARRAY, key 4, value 4, 1 entry
        let map = syscall(nr::BPF, 0 as c_long, attr.as_ptr(), 20 as c_long) >= 0;
        note("bpf", map);
        // Created, never connected: that it exists is the escape.
        note("socket(AF_VSOCK)", socket(40, 1, 0) >= 0);
    }
    if !open.is_empty() {
        escaped(format!("allowed: {}", open.join(", ")));
    }
    contained(notes.join("; "))
}

fn libc_open(path: &str) -> c_int {
    extern "C" {
        fn open(p: *const c_char, flags: c_int, ...) -> c_int;
    }
    let c = cstr(path);
    // SAFETY: open of a C string, O_RDONLY|O_DIRECTORY.
    unsafe { open(c.as_ptr(), 0o200000) }
}

fn libc_kill(pid: c_int) {
    extern "C" {
        fn kill(pid: c_int, sig: c_int) -> c_int;
    }
    // SAFETY: SIGKILL to our own child.
    unsafe { kill(pid, 9) };
}
