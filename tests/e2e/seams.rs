//! The box shares nothing with the host (issue 33, family 1): no terminal, no
//! host SysV IPC, /proc or session keyring, no inherited descriptors, no io_uring.

use crate::confine::{assert_contained, assert_escaped, child_dir, evidence, Scene};
use crate::support::*;
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `planexec gate run command --grant seam_child -- seam_child MODE ARGS`.
fn seam_args<'a>(mode_args: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec!["command", "--grant", "seam_child", "--", "seam_child"];
    a.extend_from_slice(mode_args);
    a
}

fn seam(s: &Scene, mode_args: &[&str], boxed: bool) -> Out {
    s.gate(&seam_args(mode_args), boxed, &[])
}

// ------------------------------------------------------------------ the terminal

/// What a run under a pseudo-terminal left: planexec's output (as the terminal
/// showed it) and what was typed into the terminal's input.
struct PtyRun {
    out: Out,
    shown: String,
    typed: String,
}

/// Runs `seam_child tty` with planexec on a new pseudo-terminal as its
/// controlling terminal (a user's interactive shell), boxed or not.
fn under_pty(s: &Scene, boxed: bool) -> PtyRun {
    let (master, slave) = openpty_raw();
    let mut c = s.command(&seam_args(&["tty"]), boxed, &[]);
    let stdio = |fd: &OwnedFd| Stdio::from(fd.try_clone().unwrap());
    let err = tempfile::tempfile().unwrap();
    c.stdin(stdio(&slave))
        .stdout(stdio(&slave))
        .stderr(err.try_clone().unwrap());
    // SAFETY: setsid and TIOCSCTTY are async-signal-safe system calls.
    unsafe {
        c.pre_exec(|| {
            if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = c.spawn().expect("planexec starts");
    drop(c);
    let (shown, code) = drain_until_exit(&master, &mut child);
    let typed = pending_input(&slave);
    let stderr =
        std::fs::read_to_string(format!("/proc/self/fd/{}", err.as_raw_fd())).unwrap_or_default();
    let out = Out {
        code,
        stdout: shown.clone(),
        stderr,
    };
    PtyRun { out, shown, typed }
}

/// A pseudo-terminal in raw mode (every byte typed in is readable at once).
fn openpty_raw() -> (OwnedFd, OwnedFd) {
    let (mut m, mut s): (RawFd, RawFd) = (-1, -1);
    // SAFETY: openpty fills two descriptors; termios is plain data.
    unsafe {
        let rc = libc::openpty(
            &mut m,
            &mut s,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        );
        assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
        let mut t: libc::termios = std::mem::zeroed();
        libc::tcgetattr(s, &mut t);
        libc::cfmakeraw(&mut t);
        libc::tcsetattr(s, libc::TCSANOW, &t);
        (OwnedFd::from_raw_fd(m), OwnedFd::from_raw_fd(s))
    }
}

/// Reads the terminal's output until planexec exits; its exit code.
fn drain_until_exit(master: &OwnedFd, child: &mut std::process::Child) -> (String, i32) {
    let mut shown = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let mut pfd = libc::pollfd {
            fd: master.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: poll on one descriptor; read into a local buffer.
        let ready = unsafe { libc::poll(&mut pfd, 1, 100) } > 0;
        if ready {
            let mut buf = [0u8; 4096];
            let n = unsafe { libc::read(master.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if n > 0 {
                shown.extend_from_slice(&buf[..n as usize]);
                continue;
            }
        }
        if let Some(st) = child.try_wait().unwrap() {
            return (
                String::from_utf8_lossy(&shown).into_owned(),
                st.code().unwrap_or(-1),
            );
        }
        assert!(Instant::now() < deadline, "planexec did not finish");
    }
}

/// The bytes waiting in the terminal's input queue (what a shell would read next).
fn pending_input(slave: &OwnedFd) -> String {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD into an int; read at most n bytes into a buffer of n.
    unsafe {
        libc::ioctl(slave.as_raw_fd(), libc::FIONREAD, &mut n);
        let mut buf = vec![0u8; n.max(0) as usize];
        let got = libc::read(slave.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len());
        buf.truncate(got.max(0) as usize);
        String::from_utf8_lossy(&buf).into_owned()
    }
}

/// Whether this machine lets a process type into its own terminal (TIOCSTI).
fn tiocsti_works_here() -> bool {
    // SAFETY: geteuid cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    let legacy = std::fs::read_to_string("/proc/sys/dev/tty/legacy_tiocsti")
        .map(|v| v.trim() == "1")
        .unwrap_or(true);
    root || legacy
}

#[test]
fn a_boxed_program_cannot_type_into_or_write_raw_escapes_to_the_users_terminal() {
    let s = Scene::new("");
    let boxed = under_pty(&s, true);
    assert!(
        boxed.typed.is_empty(),
        "typed into the user's terminal: {:?}\n{:?}",
        boxed.typed,
        boxed.out
    );
    assert!(
        !boxed.shown.contains("\x1b]0;BOX-PWNED"),
        "a raw escape reached the terminal: {:?}",
        boxed.out
    );
    let ev = evidence(&boxed.out);
    assert!(ev.contains("CONTAINED"), "{ev}\n{:?}", boxed.out);
    assert!(
        ev.contains("/dev/tty: No such device or address"),
        "no controlling terminal, so /dev/tty is ENXIO: {ev}"
    );
    // Control: unboxed, the same program reaches the terminal.
    let open = under_pty(&s, false);
    assert!(
        open.shown.contains("\x1b]0;BOX-PWNED"),
        "the control wrote no escape: {:?}",
        open.out
    );
    if tiocsti_works_here() {
        assert!(
            open.typed.contains("echo BOX-INJECTED"),
            "the control typed nothing: {:?}",
            open.typed
        );
    }
}

// ------------------------------------------------------------------ the session keyring

const KEY_DESC: &str = "planexec-seam-key";

/// Starts `c` in a new session keyring holding the user key `desc` = `secret`
/// (a login session's keyring, with a token in it).
fn with_session_key(c: &mut Command, desc: &str, secret: &str) {
    let (ty, d) = (CString::new("user").unwrap(), CString::new(desc).unwrap());
    let payload = secret.as_bytes().to_vec();
    // SAFETY: keyctl and add_key are system calls on buffers prepared before fork.
    unsafe {
        c.pre_exec(move || {
            let join = libc::syscall(libc::SYS_keyctl, 1 as libc::c_long, 0 as libc::c_long);
            let add = libc::syscall(
                libc::SYS_add_key,
                ty.as_ptr(),
                d.as_ptr(),
                payload.as_ptr(),
                payload.len(),
                -3 as libc::c_long,
            );
            if join < 0 || add < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[test]
fn a_key_in_planexecs_session_keyring_is_not_readable() {
    let s = Scene::new("");
    let run = |boxed| {
        let mut c = s.command(&seam_args(&["keyring", KEY_DESC]), boxed, &[]);
        with_session_key(&mut c, KEY_DESC, "KEYRING-SECRET");
        output_of(c)
    };
    let boxed = run(true);
    assert_contained(&boxed);
    assert!(!boxed.all().contains("KEYRING-SECRET"), "{boxed:?}");
    assert_escaped(&run(false));
}

// ------------------------------------------------------------------ SysV IPC

/// A SysV key of this test process, `n` telling segments apart.
fn shm_key(n: i32) -> i32 {
    ((std::process::id() as i32 & 0xffff) << 8 | n) & 0x7fff_ffff
}

/// Removes the segment of `key`, if any; whether there was one.
fn remove_segment(key: i32) -> bool {
    // SAFETY: shmget of an existing segment and IPC_RMID of its id.
    unsafe {
        let id = libc::shmget(key, 0, 0);
        if id >= 0 {
            libc::shmctl(id, libc::IPC_RMID, std::ptr::null_mut());
        }
        id >= 0
    }
}

/// A host segment holding `text`, removed on drop.
struct HostSegment(i32);

impl HostSegment {
    fn create(key: i32, text: &str) -> HostSegment {
        remove_segment(key);
        // SAFETY: a new 4 KiB segment; `text` (shorter) copied in with a NUL.
        unsafe {
            let id = libc::shmget(key, 4096, libc::IPC_CREAT | libc::IPC_EXCL | 0o600);
            assert!(id >= 0, "shmget: {}", std::io::Error::last_os_error());
            let p = libc::shmat(id, std::ptr::null(), 0) as *mut u8;
            std::ptr::copy_nonoverlapping(text.as_ptr(), p, text.len());
            *p.add(text.len()) = 0;
            libc::shmdt(p.cast());
        }
        HostSegment(key)
    }
}

impl Drop for HostSegment {
    fn drop(&mut self) {
        remove_segment(self.0);
    }
}

#[test]
fn sysv_shared_memory_is_not_shared_with_the_host() {
    let s = Scene::new("");
    let host = HostSegment::create(shm_key(1), "SHM-SECRET");
    let key = host.0.to_string();
    let boxed = seam(&s, &["shm-read", &key], true);
    assert_contained(&boxed);
    assert!(!boxed.all().contains("SHM-SECRET"), "{boxed:?}");
    assert_escaped(&seam(&s, &["shm-read", &key], false));
    // A segment the box creates is gone with the box.
    let left = shm_key(2);
    remove_segment(left);
    let made = seam(&s, &["shm-create", &left.to_string()], true);
    assert!(evidence(&made).contains("created segment"), "{made:?}");
    assert!(
        !remove_segment(left),
        "a segment the box created outlived it"
    );
    // Control: unboxed, it stays behind.
    seam(&s, &["shm-create", &left.to_string()], false);
    assert!(remove_segment(left), "the unboxed control left no segment");
}

// ------------------------------------------------------------------ /proc

/// A process killed on drop.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn host_processes_and_their_command_lines_are_not_visible() {
    let nonce = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let _host = Running(
        Command::new("sleep")
            .arg("60")
            .arg0(format!("sleep PROC-SECRET-{nonce}"))
            .spawn()
            .unwrap(),
    );
    std::thread::sleep(Duration::from_millis(100));
    let s = Scene::new("");
    let boxed = seam(&s, &["proc-cmdline", &nonce], true);
    assert_contained(&boxed);
    assert!(
        evidence(&boxed).contains("1 processes visible"),
        "only the box's own process: {boxed:?}"
    );
    assert_escaped(&seam(&s, &["proc-cmdline", &nonce], false));
}

// ------------------------------------------------------------------ inherited descriptors

/// Starts `c` with `path` open on descriptor 7, not close-on-exec (`exec 7<secret`).
fn with_fd7(c: &mut Command, path: &str) {
    let f = std::fs::File::open(path).unwrap();
    // SAFETY: dup2 and fcntl are async-signal-safe. When the file already is fd 7,
    // dup2 changes nothing and keeps its CLOEXEC, so the flag is cleared explicitly.
    unsafe {
        c.pre_exec(move || {
            if libc::dup2(f.as_raw_fd(), 7) < 0 || libc::fcntl(7, libc::F_SETFD, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[test]
fn a_descriptor_left_open_by_planexecs_parent_is_not_readable() {
    let s = Scene::new("");
    // Boxed, and unconfined too: planexec never hands it to a child.
    for boxed in [true, false] {
        let mut c = s.command(&seam_args(&["fd", "7"]), boxed, &[]);
        with_fd7(&mut c, &s.p("secret.txt"));
        let out = output_of(c);
        assert_contained(&out);
        assert!(!out.all().contains("TOP-SECRET"), "{out:?}");
    }
}

#[test]
fn the_box_helper_closes_every_descriptor_above_2_before_exec() {
    use planexec::confine::{helper, BoxSpec, SUPPORT};
    let s = Scene::new("");
    let child = child_dir().join("seam_child");
    let spec = helper::Spec {
        bx: BoxSpec {
            read_exec: vec![child_dir()],
            workspace: Some(s.ws()),
            write: vec![s.ws()],
            ..Default::default()
        },
        support: SUPPORT.clone(),
        cgroup_procs: None,
    };
    let run = |boxed: bool| {
        let mut c = if boxed {
            let mut c = Command::new(env!("CARGO_BIN_EXE_planexec-box"));
            c.arg(serde_json::to_string(&spec).unwrap()).arg(&child);
            c
        } else {
            Command::new(&child)
        };
        c.args(["fd", "7"]).current_dir(s.ws());
        with_fd7(&mut c, &s.p("secret.txt"));
        let o = c.output().unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let boxed = run(true);
    assert!(
        boxed.contains("CONTAINED") && !boxed.contains("TOP-SECRET"),
        "{boxed}"
    );
    let control = run(false);
    assert!(control.contains("ESCAPED: fd 7: TOP-SECRET"), "{control}");
}

// ------------------------------------------------------------------ io_uring and other routes

#[test]
fn io_uring_is_refused_so_it_cannot_open_a_unix_socket_to_a_host_daemon() {
    let s = Scene::new("");
    let path = s.p("daemon.sock");
    let _daemon = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let boxed = seam(&s, &["io-uring", &path], true);
    assert_contained(&boxed);
    assert!(
        evidence(&boxed).contains("io_uring_setup: Operation not permitted"),
        "{boxed:?}"
    );
    let open = seam(&s, &["io-uring", &path], false);
    assert_escaped(&open);
    assert!(
        evidence(&open).contains("through an io_uring socket"),
        "{open:?}"
    );
}

#[test]
fn file_handles_pidfd_getfd_bpf_and_vsock_are_refused() {
    let s = Scene::new("");
    let boxed = seam(&s, &["routes"], true);
    assert_contained(&boxed);
    let calls = [
        "name_to_handle_at",
        "open_by_handle_at",
        "pidfd_getfd",
        "bpf",
        "socket(AF_VSOCK)",
    ];
    for call in calls {
        assert!(
            evidence(&boxed).contains(&format!("{call}: Operation not permitted")),
            "{call}: {boxed:?}"
        );
    }
    assert_escaped(&seam(&s, &["routes"], false));
}
