//! The box around programs plugins and plans run (issue 10): each hostile
//! behaviour of tests/children/hostile_child.rs is contained when boxed, and the
//! same attempt escapes with `--unconfined`, so every test fails without the box.

use crate::support::*;
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

/// Builds the hostile children (tests/children) with rustc once; returns the
/// directory holding them.
pub(crate) fn child_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = target_dir().join("test-children/bin");
        std::fs::create_dir_all(&dir).unwrap();
        for name in ["hostile_child", "seam_child"] {
            let src = root().join(format!("tests/children/{name}.rs"));
            let st = Command::new("rustc")
                .args(["--edition", "2021", "-O", "-o"])
                .arg(dir.join(name))
                .arg(&src)
                .status()
                .expect("rustc runs");
            assert!(st.success(), "building {} failed", src.display());
        }
        dir
    })
    .clone()
}

/// A temp dir with a git workspace `ws/`, a secret beside it, and a fake HOME.
pub(crate) struct Scene {
    pub(crate) tmp: tempfile::TempDir,
}

impl Scene {
    pub(crate) fn new(config: &str) -> Scene {
        let tmp = tempfile::tempdir().unwrap();
        let ws = tmp.path().join("ws");
        std::fs::create_dir_all(&ws).unwrap();
        let git = |args: &[&str]| {
            let o = Command::new("git")
                .args(args)
                .current_dir(&ws)
                .output()
                .unwrap();
            assert!(o.status.success(), "git {args:?}");
        };
        git(&["init", "-q", "-b", "main"]);
        write(&ws, "hello.txt", "hello\n");
        write(&ws, "planexec.toml", config);
        write(tmp.path(), "secret.txt", "TOP-SECRET\n");
        write(tmp.path(), "home/.ssh/id_ed25519", "PRIVATE KEY\n");
        Scene { tmp }
    }
    pub(crate) fn ws(&self) -> PathBuf {
        self.tmp.path().join("ws")
    }
    pub(crate) fn p(&self, rel: &str) -> String {
        self.tmp.path().join(rel).to_string_lossy().into_owned()
    }
    fn tools(&self) -> PathBuf {
        self.tmp.path().join("tools")
    }
    /// `planexec gate run GATE` here, boxed or `--unconfined`, the child on PATH.
    pub(crate) fn gate(&self, gate_args: &[&str], boxed: bool, env: &[(&str, &str)]) -> Out {
        output_of(self.command(gate_args, boxed, env))
    }
    /// The command [`Scene::gate`] runs.
    pub(crate) fn command(&self, gate_args: &[&str], boxed: bool, env: &[(&str, &str)]) -> Command {
        let path = format!(
            "{}:{}",
            child_dir().display(),
            std::env::var("PATH").unwrap()
        );
        let home = self.p("home");
        let tools = self.tools().to_string_lossy().into_owned();
        let mut e: Vec<(&str, &str)> = vec![
            ("PATH", &path),
            ("HOME", &home),
            ("PLANEXEC_TOOL_CACHE", &tools),
            ("GITHUB_TOKEN", "ghp_secret_from_the_host"),
        ];
        e.extend_from_slice(env);
        let mut args = vec!["gate", "run"];
        args.extend_from_slice(&gate_args[..1]);
        args.extend(["--format", "json"]);
        if !boxed {
            args.push("--unconfined");
        }
        args.extend_from_slice(&gate_args[1..]);
        planexec_command(&self.ws(), &args, &e)
    }
    /// The hostile child through the command gate: `hostile_child MODE ARGS`.
    fn child(&self, mode_args: &[&str], boxed: bool) -> Out {
        let mut a = vec!["command", "--grant", "hostile_child", "--", "hostile_child"];
        a.extend_from_slice(mode_args);
        self.gate(&a, boxed, &[])
    }
}

pub(crate) fn evidence(out: &Out) -> String {
    let r = gate_report(out);
    format!(
        "{} {}",
        r["summary"].as_str().unwrap_or(""),
        r["evidence"].as_str().unwrap_or("")
    )
}

pub(crate) fn assert_contained(out: &Out) {
    let ev = evidence(out);
    assert!(ev.contains("CONTAINED"), "not contained: {ev}\n{out:?}");
    assert!(!ev.contains("ESCAPED"), "{ev}");
}

pub(crate) fn assert_escaped(out: &Out) {
    let ev = evidence(out);
    assert!(
        ev.contains("ESCAPED"),
        "the unconfined control did not escape: {ev}\n{out:?}"
    );
}

/// One behaviour: boxed it is contained; the same attempt unboxed escapes.
fn both(scene: &Scene, mode_args: &[&str]) {
    assert_contained(&scene.child(mode_args, true));
    assert_escaped(&scene.child(mode_args, false));
}

// ------------------------------------------------------------------ files

#[test]
fn reading_a_secret_in_home_is_denied() {
    let s = Scene::new("");
    both(&s, &["read", &s.p("home/.ssh/id_ed25519")]);
}

#[test]
fn reading_a_file_beside_the_workspace_is_denied() {
    let s = Scene::new("");
    both(&s, &["read", &s.p("secret.txt")]);
}

#[test]
fn writing_outside_the_workspace_is_denied() {
    let s = Scene::new("");
    let target = s.p("planted.txt");
    assert_contained(&s.child(&["write", &target], true));
    assert!(!Path::new(&target).exists());
    assert_escaped(&s.child(&["write", &target], false));
}

#[test]
fn gates_cannot_write_the_workspace() {
    // The command gate sees a copy-on-write workspace: its write succeeds in the
    // box (the child says ESCAPED there) and never reaches the host's file.
    let s = Scene::new("");
    let target = s.ws().join("hello.txt");
    let made = s.ws().join("made-by-the-gate.txt");
    let sh = format!(
        "hostile_child write {t}; hostile_child write {m}; cat {t}",
        t = target.display(),
        m = made.display()
    );
    let out = s.gate(
        &[
            "command",
            "--grant",
            "sh",
            "--grant",
            "hostile_child",
            "--",
            "sh",
            "-c",
            &sh,
        ],
        true,
        &[],
    );
    assert!(
        evidence(&out).contains("pwned by hostile_child"),
        "the write did not land in the box's own view: {out:?}"
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "hello\n");
    assert!(!made.exists(), "a file the gate made reached the workspace");
    assert_escaped(&s.child(&["write", target.to_str().unwrap()], false));
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        "pwned by hostile_child",
        "the unconfined control did not write"
    );
}

#[test]
fn writing_git_hooks_is_denied() {
    let s = Scene::new("");
    let hook = s.ws().join(".git/hooks/post-commit");
    assert_contained(&s.child(&["write", hook.to_str().unwrap()], true));
    assert!(!hook.exists());
    assert_escaped(&s.child(&["write", hook.to_str().unwrap()], false));
}

#[test]
fn writing_git_config_is_denied() {
    let s = Scene::new("");
    let cfg = s.ws().join(".git/config");
    let before = std::fs::read_to_string(&cfg).unwrap();
    assert_contained(&s.child(&["write", cfg.to_str().unwrap()], true));
    assert_eq!(std::fs::read_to_string(&cfg).unwrap(), before);
    assert_escaped(&s.child(&["write", cfg.to_str().unwrap()], false));
}

#[test]
fn writing_the_component_cache_is_denied() {
    let s = Scene::new("");
    let cache = s.tmp.path().join("components");
    std::fs::create_dir_all(&cache).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o700)).unwrap();
    let entry = cache.join("evil.cwasm");
    let cache_env = [("PLANEXEC_CACHE_DIR", cache.to_str().unwrap())];
    let run = |boxed| {
        s.gate(
            &[
                "command",
                "--grant",
                "hostile_child",
                "--",
                "hostile_child",
                "write",
                entry.to_str().unwrap(),
            ],
            boxed,
            &cache_env,
        )
    };
    assert_contained(&run(true));
    assert!(!entry.exists());
    assert_escaped(&run(false));
}

#[test]
fn a_symlink_in_the_workspace_pointing_outside_is_not_followed() {
    let s = Scene::new("");
    std::os::unix::fs::symlink(s.p("secret.txt"), s.ws().join("link.txt")).unwrap();
    both(&s, &["read", s.ws().join("link.txt").to_str().unwrap()]);
}

#[test]
fn a_hardlink_to_a_secret_cannot_be_made() {
    let s = Scene::new("");
    // {cache} is writable inside the box: the link would land there.
    both(&s, &["hardlink", &s.p("secret.txt"), "{cache}/stolen.txt"]);
}

// ------------------------------------------------------------------ environment

#[test]
fn host_environment_secrets_do_not_reach_programs() {
    let s = Scene::new("");
    both(&s, &["env", "GITHUB_TOKEN"]);
}

#[test]
fn policy_passes_through_only_the_names_it_lists() {
    let s = Scene::new("[policy]\nenv = [\"MY_SETTING\"]\n");
    let out = s.gate(
        &[
            "command",
            "--grant",
            "hostile_child",
            "--",
            "hostile_child",
            "print-env",
        ],
        true,
        &[("MY_SETTING", "visible")],
    );
    let ev = evidence(&out);
    assert!(ev.contains("MY_SETTING=visible"), "{ev}");
    assert!(!ev.contains("GITHUB_TOKEN"), "{ev}");
    assert!(
        ev.contains(&format!("HOME={}", s.tools().display())),
        "HOME is the box's: {ev}"
    );
}

fn hostile_run_plugin(s: &Scene, requests: &str) -> PathBuf {
    let plugins = s.tmp.path().join("plugins");
    hostile_plugin(&plugins, "h", "gate", requests);
    plugins
}

/// The hostile plugin's `run` mode with `settings` (JSON-ish TOML in [gates.h]).
fn hostile_run(s: &Scene, plugins: &Path, boxed: bool) -> Out {
    s.gate(
        &[
            "h",
            "--plugins",
            plugins.to_str().unwrap(),
            "--grant",
            "hostile_child",
        ],
        boxed,
        &[],
    )
}

/// The hostile plugin's program is refused at exec, with `why` in the reason.
fn assert_exec_refused(s: &Scene, plugins: &Path, why: &str) {
    let ev = evidence(&hostile_run(s, plugins, true));
    assert!(ev.contains("exec refused") && ev.contains(why), "{ev}");
}

fn env_injection(var: &str, value: &str) {
    let config = format!(
        "[gates.h]\nmode = \"run\"\nexe = \"hostile_child\"\nargs = [\"env\", \"{var}\"]\nenv = [\"{var}={value}\"]\n"
    );
    let s = Scene::new(&config);
    let plugins = hostile_run_plugin(
        &s,
        &format!("commands = [\"hostile_child\"]\nenv = [\"MY_FLAG\"]"),
    );
    let boxed = hostile_run(&s, &plugins, true);
    let ev = evidence(&boxed);
    assert!(
        ev.contains("exec refused") && ev.contains(var) && ev.contains("may never be set"),
        "{ev}"
    );
    assert_escaped(&hostile_run(&s, &plugins, false));
}

#[test]
fn ld_preload_from_a_plugin_is_refused() {
    env_injection("LD_PRELOAD", "{scratch}/evil.so");
}

#[test]
fn bash_env_from_a_plugin_is_refused() {
    env_injection("BASH_ENV", "{scratch}/evil.sh");
}

#[test]
fn pythonpath_injection_from_a_plugin_is_refused() {
    env_injection("PYTHONPATH", "{scratch}");
}

#[test]
fn git_config_injection_from_a_plugin_is_refused() {
    env_injection("GIT_CONFIG_COUNT", "1");
}

#[test]
fn node_options_from_a_plugin_is_refused() {
    env_injection("NODE_OPTIONS", "--require={scratch}/evil.js");
}

#[test]
fn an_undeclared_variable_is_refused() {
    let config = "[gates.h]\nmode = \"run\"\nexe = \"hostile_child\"\nargs = [\"env\", \"OTHER\"]\nenv = [\"OTHER=1\"]\n";
    let s = Scene::new(config);
    let plugins = hostile_run_plugin(&s, "commands = [\"hostile_child\"]");
    assert_exec_refused(&s, &plugins, "requests.env");
}

// ------------------------------------------------------------------ network

#[test]
fn tcp_to_a_host_loopback_listener_is_unreachable() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let s = Scene::new("");
    both(&s, &["tcp", &addr]);
}

#[test]
fn tcp_with_network_none_is_denied() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let s = Scene::new("[policy]\nnetwork = \"none\"\n");
    both(&s, &["tcp", &addr]);
}

#[test]
fn udp_to_a_host_socket_never_arrives() {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let addr = sock.local_addr().unwrap().to_string();
    let s = Scene::new("");
    let mut buf = [0u8; 64];
    s.child(&["udp", &addr], true);
    assert!(
        sock.recv(&mut buf).is_err(),
        "a datagram from the box arrived"
    );
    s.child(&["udp", &addr], false);
    assert!(
        sock.recv(&mut buf).is_ok(),
        "the unconfined control sent nothing"
    );
}

#[test]
fn unix_socket_to_a_host_listener_is_denied() {
    let s = Scene::new("");
    let path = s.p("daemon.sock");
    let _l = std::os::unix::net::UnixListener::bind(&path).unwrap();
    both(&s, &["unix", &path]);
}

#[test]
fn dns_queries_do_not_leave_the_box() {
    let s = Scene::new("[policy]\nnetwork = \"none\"\n");
    both(&s, &["dns"]);
}

#[test]
fn private_loopback_works_for_test_suites() {
    // A program that listens and connects on its own loopback (what test suites do).
    let s = Scene::new("");
    let out = s.gate(
        &["command", "--grant", "python3", "--", "python3", "-c",
          "import socket; l=socket.socket(); l.bind(('127.0.0.1',0)); l.listen(); c=socket.create_connection(l.getsockname()); print('LOOPBACK OK')"],
        true,
        &[],
    );
    assert!(evidence(&out).contains("LOOPBACK OK"), "{out:?}");
}

// ------------------------------------------------------------------ processes

#[test]
fn a_setsid_daemon_dies_with_the_command() {
    let s = Scene::new("");
    let find = |s: &Scene| {
        glob_files(&s.tools())
            .into_iter()
            .any(|p| p.ends_with("alive"))
    };
    s.child(&["daemon", "{cache}/alive"], true);
    std::thread::sleep(Duration::from_millis(3000));
    assert!(!find(&s), "the daemon outlived the boxed command");
    let control = s.child(&["daemon", "{cache}/alive"], false);
    let survived = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        find(&s)
    });
    assert!(
        survived,
        "the unconfined control left no daemon: {control:?}"
    );
}

fn glob_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

#[test]
fn a_fork_bomb_is_stopped_at_the_process_limit() {
    let s = Scene::new("[policy.limits]\nprocesses = 64\n");
    let doc = planexec(&s.ws(), &["doctor", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(doc.stdout.trim()).unwrap();
    // SAFETY: getuid cannot fail.
    let root = unsafe { libc::getuid() } == 0;
    if root && v["support"]["pids_cgroup"] != true && v["support"]["pid_ns_max"] != true {
        // RLIMIT_NPROC does not bind root; planexec doctor says so on such machines.
        eprintln!("SKIPPED: running as root without a writable pids cgroup");
        return;
    }
    // With a per-namespace pid_max the cap is never below 300 processes.
    both(&s, &["fork-bomb", "1000"]);
}

#[test]
fn a_memory_bomb_is_stopped_at_the_memory_limit() {
    let s = Scene::new("[policy.limits]\nmemory = \"512MiB\"\n");
    both(&s, &["memory", "2048"]);
}

/// Node code using WebAssembly: V8 reserves ~10 GiB of address space per wasm memory
/// (its trap handler's guard regions), which no address-space cap of 16 GiB survives.
const NODE_WASM: &str = "const ms = []; for (let i = 0; i < 4; i++) ms.push(new WebAssembly.Memory({initial: 1, maximum: 65536})); \
    const mod = new WebAssembly.Module(new Uint8Array([0,97,115,109,1,0,0,0,5,3,1,0,1])); \
    for (let i = 0; i < 2; i++) new WebAssembly.Instance(mod); console.log('WASM OK ' + ms.length)";

#[test]
fn node_webassembly_runs_in_the_box_and_memory_is_still_bounded() {
    let s = Scene::new("");
    let out = s.gate(
        &["command", "--grant", "node", "--", "node", "-e", NODE_WASM],
        true,
        &[],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(evidence(&out).contains("WASM OK 4"), "{out:?}");
    // Memory written, not merely reserved, is still bounded by [policy.limits] memory.
    let s = Scene::new("[policy.limits]\nmemory = \"512MiB\"\n");
    let grow = "const m = new WebAssembly.Memory({initial: 1, maximum: 65536}); m.grow(16384); new Uint8Array(m.buffer).fill(1); console.log('GR' + 'EW 1 GiB')";
    let out = s.gate(
        &["command", "--grant", "node", "--", "node", "-e", grow],
        true,
        &[],
    );
    assert_ne!(out.code, 0, "{out:?}");
    assert!(!evidence(&out).contains("GREW"), "{out:?}");
    // An address-space cap is still a setting: 16 GiB breaks the wasm program again.
    let s = Scene::new("[policy.limits]\naddress-space = \"16GiB\"\n");
    let out = s.gate(
        &["command", "--grant", "node", "--", "node", "-e", NODE_WASM],
        true,
        &[],
    );
    assert_ne!(out.code, 0, "{out:?}");
}

#[test]
fn filling_the_disk_is_stopped_at_the_disk_limit() {
    let s = Scene::new("[policy.limits]\ndisk = \"64MiB\"\n");
    let boxed = s.child(&["disk", "{scratch}", "400"], true);
    let ev = evidence(&boxed);
    assert!(ev.contains("over the disk limit of 64 MiB"), "{ev}");
    assert!(!ev.contains("ESCAPED"), "{ev}");
    assert_escaped(&s.child(&["disk", "{scratch}", "400"], false));
}

#[test]
fn one_huge_file_is_stopped_at_the_file_size_limit() {
    let s = Scene::new("[policy.limits]\nfile-size = \"8MiB\"\n");
    let boxed = s.child(&["disk", "{scratch}", "12"], true);
    let ev = evidence(&boxed);
    assert!(!ev.contains("ESCAPED"), "{ev}");
    assert_escaped(&s.child(&["disk", "{scratch}", "12"], false));
}

#[test]
fn signalling_planexec_is_denied() {
    let s = Scene::new("");
    both(&s, &["signal"]);
}

#[test]
fn reading_planexecs_environment_through_proc_is_denied() {
    let s = Scene::new("");
    both(&s, &["proc-environ"]);
}

#[test]
fn ptrace_of_planexec_is_denied() {
    let s = Scene::new("");
    both(&s, &["ptrace"]);
}

// ------------------------------------------------------------------ scratch

#[test]
fn a_program_copied_into_scratch_cannot_be_executed() {
    let s = Scene::new(
        "[gates.h]\nmode = \"run\"\nexe = \"hostile_child\"\nargs = [\"exec\", \"{scratch}/evil\", \"ok\"]\ncopy = [\"evil\", \"evil\"]\n",
    );
    std::fs::copy(child_dir().join("hostile_child"), s.ws().join("evil")).unwrap();
    let plugins = hostile_run_plugin(&s, "commands = [\"hostile_child\"]");
    let boxed = hostile_run(&s, &plugins, true);
    assert!(evidence(&boxed).contains("CONTAINED"), "{boxed:?}");
    assert_escaped(&hostile_run(&s, &plugins, false));
}

#[test]
fn a_shared_object_in_scratch_cannot_be_loaded() {
    let lib = [
        "/lib/x86_64-linux-gnu/libm.so.6",
        "/usr/lib/x86_64-linux-gnu/libm.so.6",
        "/lib64/libm.so.6",
    ]
    .into_iter()
    .find(|p| Path::new(p).exists())
    .expect("a libm to copy");
    let s = Scene::new(
        "[gates.h]\nmode = \"run\"\nexe = \"hostile_child\"\nargs = [\"dlopen\", \"{scratch}/evil.so\"]\ncopy = [\"evil.so\", \"evil.so\"]\n",
    );
    std::fs::copy(lib, s.ws().join("evil.so")).unwrap();
    let plugins = hostile_run_plugin(&s, "commands = [\"hostile_child\"]");
    let boxed = hostile_run(&s, &plugins, true);
    assert!(evidence(&boxed).contains("CONTAINED"), "{boxed:?}");
    assert_escaped(&hostile_run(&s, &plugins, false));
}

// ------------------------------------------------------------------ grants with a shape

/// Refused before anything runs (exit 2), naming the shapes; nothing escaped.
fn assert_refused_by_shape(out: &Out) {
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("does not fit the argument shapes"),
        "{out:?}"
    );
    assert!(!out.all().contains("ESCAPED"), "{out:?}");
}

#[test]
fn git_alias_is_refused_under_an_argument_shaped_grant() {
    let alias = ["git", "-c", "alias.x=!echo ESC''APED", "x"];
    let shaped = Scene::new(
        "[policy]\ngrant = [{ program = \"git\", args = [\"status *\", \"diff *\"] }]\n",
    );
    let mut a = vec!["command", "--"];
    a.extend_from_slice(&alias);
    assert_refused_by_shape(&shaped.gate(&a, true, &[]));
    // Control: an unshaped grant lets the alias run.
    let open = Scene::new("[policy]\ngrant = [\"git\"]\n");
    assert_escaped(&open.gate(&a, true, &[]));
}

#[test]
fn python_c_is_refused_under_an_argument_shaped_grant() {
    let code = ["python3", "-c", "print('ESC' + 'APED')"];
    let shaped = Scene::new("[policy]\ngrant = [\"python3 -m pytest *\"]\n");
    let mut a = vec!["command", "--"];
    a.extend_from_slice(&code);
    assert_refused_by_shape(&shaped.gate(&a, true, &[]));
    let open = Scene::new("[policy]\ngrant = [\"python3\"]\n");
    assert_escaped(&open.gate(&a, true, &[]));
}

// ------------------------------------------------------------------ host-side paths

#[test]
fn a_program_found_through_a_dot_path_entry_is_not_run() {
    let s = Scene::new("");
    write(&s.ws(), "python3", "#!/bin/sh\necho ESCAPED\n");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        s.ws().join("python3"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let path = format!(".:{}", std::env::var("PATH").unwrap());
    let out = s.gate(
        &[
            "command",
            "--grant",
            "python3",
            "--",
            "python3",
            "-c",
            "print('REAL PYTHON')",
        ],
        true,
        &[("PATH", &path)],
    );
    let ev = evidence(&out);
    assert!(
        ev.contains("REAL PYTHON") && !ev.contains("ESCAPED"),
        "{ev}"
    );
}

#[test]
fn stdout_file_through_a_scratch_symlink_is_refused() {
    // Scratch is a sibling of the scene's temp dir: a relative link reaches the victim.
    let s = Scene::new("");
    let rel = format!(
        "../{}/victim",
        s.tmp.path().file_name().unwrap().to_string_lossy()
    );
    write(
        &s.ws(),
        "planexec.toml",
        &format!("[gates.h]\nmode = \"run\"\nexe = \"hostile_child\"\nargs = [\"ok\"]\nsymlink = [\"{rel}\", \"out\"]\nstdout_file = \"{{scratch}}/out\"\n"),
    );
    let victim = s.p("victim");
    std::fs::write(&victim, "keep me").unwrap();
    let plugins = hostile_run_plugin(&s, "commands = [\"hostile_child\"]");
    let out = hostile_run(&s, &plugins, true);
    assert!(evidence(&out).contains("exec refused"), "{out:?}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
}

#[test]
fn a_cwd_that_is_a_symlink_out_of_the_workspace_is_refused() {
    let s = Scene::new(
        "[gates.h]\nmode = \"run\"\nexe = \"hostile_child\"\nargs = [\"ok\"]\ncwd = \"out\"\n",
    );
    std::os::unix::fs::symlink(s.tmp.path(), s.ws().join("out")).unwrap();
    let plugins = hostile_run_plugin(&s, "commands = [\"hostile_child\"]");
    assert_exec_refused(&s, &plugins, "outside the workspace");
}

#[test]
fn a_workspace_none_plugin_cannot_pass_the_workspace_to_a_program() {
    let s = Scene::new("[gates.h]\nmode = \"run\"\nexe = \"hostile_child\"\nargs = [\"read\", \"{workspace}/hello.txt\"]\n");
    let plugins = hostile_run_plugin(&s, "commands = [\"hostile_child\"]\nworkspace = \"none\"");
    assert_exec_refused(&s, &plugins, "workspace = \\\"none\\\"");
}

// ------------------------------------------------------------------ kernel support

#[test]
fn without_landlock_non_standard_plugins_are_refused_and_doctor_says_why() {
    let s = Scene::new("[gates.h]\nmode = \"run\"\nexe = \"hostile_child\"\nargs = [\"ok\"]\n");
    let plugins = hostile_run_plugin(&s, "commands = [\"hostile_child\"]");
    let pretend = [("PLANEXEC_PRETEND_KERNEL", "no-landlock")];
    let out = s.gate(
        &[
            "h",
            "--plugins",
            plugins.to_str().unwrap(),
            "--grant",
            "hostile_child",
        ],
        true,
        &pretend,
    );
    let ev = evidence(&out);
    assert!(
        ev.contains("cannot confine") && ev.contains("Landlock") && ev.contains("planexec doctor"),
        "{ev}"
    );
    // best-effort accepts it.
    write(&s.ws(), "planexec.toml", "[policy]\nconfinement = \"best-effort\"\n[gates.h]\nmode = \"run\"\nexe = \"hostile_child\"\nargs = [\"ok\"]\n");
    let out = s.gate(
        &[
            "h",
            "--plugins",
            plugins.to_str().unwrap(),
            "--grant",
            "hostile_child",
        ],
        true,
        &pretend,
    );
    assert!(evidence(&out).contains("hostile_child ran"), "{out:?}");
    let doc = planexec_env(&s.ws(), &["doctor"], &pretend);
    assert_eq!(doc.code, 0, "{doc:?}");
    assert!(doc.stdout.contains("Landlock              no"), "{doc:?}");
    assert!(doc.stdout.contains("missing: Landlock"), "{doc:?}");
    assert!(doc.stdout.contains("best-effort"), "{doc:?}");
    let real = planexec(&s.ws(), &["doctor", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(real.stdout.trim()).unwrap();
    assert!(v["support"]["landlock_abi"].as_i64().unwrap() >= 1, "{v}");
    assert!(
        v["trial"].as_str().unwrap().starts_with("ok"),
        "a real boxed run works: {v}"
    );
}

// ------------------------------------------------------------------ plans

#[test]
fn a_plans_acceptance_command_runs_in_the_same_box() {
    let s = Scene::new("[policy]\ngrant = [\"hostile_child\", \"git\"]\n\n[run]\nimplementer = \"patch\"\ntask_review = \"\"\ncode_review = \"\"\n");
    let secret = s.p("secret.txt");
    let plan = format!(
        "---\ntitle: Box\n---\n# Plan\n\n### T001: Touch nothing\n**Summary**: reads a secret in its acceptance command.\n**Dependencies**: none\n**Acceptance test**: `hostile_child read {secret}`\n**Files/modules touched**: hello.txt\n"
    );
    write(&s.ws(), "plan/plan.md", &plan);
    write(&s.ws(), "plan/patches/T001.patch", "diff --git a/hello.txt b/hello.txt\n--- a/hello.txt\n+++ b/hello.txt\n@@ -1 +1 @@\n-hello\n+hello world\n");
    let git = |args: &[&str]| {
        assert!(Command::new("git")
            .args(args)
            .current_dir(s.ws())
            .status()
            .unwrap()
            .success());
    };
    git(&["-c", "user.email=t@t", "-c", "user.name=t", "add", "-A"]);
    git(&[
        "-c",
        "user.email=t@t",
        "-c",
        "user.name=t",
        "commit",
        "-qm",
        "base",
    ]);
    let path = format!(
        "{}:{}",
        child_dir().display(),
        std::env::var("PATH").unwrap()
    );
    let env = [
        ("PATH", path.as_str()),
        ("GIT_AUTHOR_NAME", "t"),
        ("GIT_AUTHOR_EMAIL", "t@t"),
        ("GIT_COMMITTER_NAME", "t"),
        ("GIT_COMMITTER_EMAIL", "t@t"),
    ];
    let boxed = planexec_env(&s.ws(), &["run", "plan/plan.md"], &env);
    assert_eq!(
        boxed.code, 0,
        "contained, so the acceptance command passes: {boxed:?}"
    );
    let log =
        std::fs::read_to_string(s.ws().join("plan/plan-execution-log.md")).unwrap_or_default();
    assert!(!log.contains("TOP-SECRET"), "{log}");
}

#[test]
fn an_acceptance_command_outside_its_grants_shape_is_refused_at_pre_flight() {
    let s = Scene::new("[policy]\ngrant = [{ program = \"git\", args = [\"status *\", \"apply *\"] }]\n\n[run]\nimplementer = \"manual\"\n");
    let plan = "---\ntitle: Shapes\n---\n# Plan\n\n### T001: Nothing\n**Summary**: runs git through an alias in its acceptance command.\n**Dependencies**: none\n**Acceptance test**: `git -c alias.x=!true x`\n**Files/modules touched**: hello.txt\n";
    write(&s.ws(), "plan/plan.md", plan);
    let head_before = Command::new("git")
        .args(["status", "--porcelain"])
        .current_dir(s.ws())
        .output()
        .unwrap()
        .stdout;
    let out = planexec(&s.ws(), &["run", "plan/plan.md"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("does not fit the argument shapes"),
        "{out:?}"
    );
    assert!(
        out.stderr.contains("plan/plan.md:"),
        "names the plan line: {out:?}"
    );
    let head_after = Command::new("git")
        .args(["status", "--porcelain"])
        .current_dir(s.ws())
        .output()
        .unwrap()
        .stdout;
    assert_eq!(head_before, head_after, "pre-flight changed nothing");
}

#[test]
fn a_plugin_cannot_run_its_program_outside_the_shape_its_manifest_declares() {
    let s = Scene::new("");
    let secret = s.p("secret.txt");
    write(
        &s.ws(),
        "planexec.toml",
        &format!(
            "[gates.h]\nmode = \"run\"\nexe = \"hostile_child\"\nargs = [\"read\", \"{secret}\"]\n"
        ),
    );
    let plugins = hostile_run_plugin(&s, "commands = [\"hostile_child ok\"]");
    let out = hostile_run(&s, &plugins, true);
    let ev = evidence(&out);
    assert!(
        ev.contains("exec refused") && ev.contains("its plugin.toml declares"),
        "{ev}"
    );
    // Control: an unshaped request runs it (and the box then stops the read).
    let plugins2 = s.tmp.path().join("plugins2");
    hostile_plugin(&plugins2, "h", "gate", "commands = [\"hostile_child\"]");
    let out = s.gate(
        &[
            "h",
            "--plugins",
            plugins2.to_str().unwrap(),
            "--grant",
            "hostile_child",
        ],
        true,
        &[],
    );
    assert!(evidence(&out).contains("CONTAINED"), "{out:?}");
}

#[test]
fn the_projects_virtualenv_is_the_python_the_gates_run() {
    let s = Scene::new("");
    // A venv that sees the machine's pytest, and a test that passes only inside it.
    let st = Command::new("python3")
        .args([
            "-m",
            "venv",
            "--system-site-packages",
            "--without-pip",
            ".venv",
        ])
        .current_dir(s.ws())
        .status()
        .unwrap();
    assert!(st.success());
    write(
        &s.ws(),
        "tests/test_env.py",
        "import sys\n\ndef test_runs_in_the_venv():\n    assert sys.prefix.endswith('.venv'), sys.prefix\n",
    );
    let out = s.gate(&["pytest"], true, &[]);
    let r = gate_report(&out);
    assert_eq!(r["outcome"], "passed", "{out:?}");
    assert_eq!(r["tests"]["passed"], 1, "{r}");
}

// ------------------------------------------------------- what tests expect

#[test]
fn a_test_gets_a_writable_tree_shared_memory_and_home_that_vanish_after_it() {
    // What ordinary test runs expect (issue 34): writing into the tree, POSIX
    // shared memory (multiprocessing locks), a writable HOME. None of it
    // reaches the host.
    let s = Scene::new("");
    let py = "import multiprocessing, os, pathlib\n\
              multiprocessing.Lock()\n\
              pathlib.Path('out/result.txt').parent.mkdir()\n\
              pathlib.Path('out/result.txt').write_text('written')\n\
              pathlib.Path(os.environ['HOME'], '.toolrc').write_text('x')\n\
              print('TREE', pathlib.Path('out/result.txt').read_text())";
    let out = s.gate(
        &["command", "--grant", "python3", "--", "python3", "-c", py],
        true,
        &[],
    );
    assert_eq!(out.code, 0, "the test could not do what tests do: {out:?}");
    assert!(
        evidence(&out).contains("TREE written") || out.stdout.contains("TREE written"),
        "{out:?}"
    );
    assert!(
        !s.ws().join("out").exists(),
        "the gate's write reached the workspace"
    );
    assert!(!Path::new(&s.p("home/.toolrc")).exists());
}

#[test]
fn the_boxs_shared_memory_is_its_own() {
    // A file in the host's /dev/shm is not visible in the box, and what the box
    // puts in its /dev/shm never appears in the host's.
    let s = Scene::new("");
    let host_secret = PathBuf::from(format!("/dev/shm/planexec-test-{}", std::process::id()));
    std::fs::write(&host_secret, "HOST-SHM-SECRET").unwrap();
    let boxed = s.child(&["read", host_secret.to_str().unwrap()], true);
    let planted = format!("/dev/shm/planexec-planted-{}", std::process::id());
    let wrote = s.child(&["write", &planted], true);
    let escaped = s.child(&["read", host_secret.to_str().unwrap()], false);
    std::fs::remove_file(&host_secret).unwrap();
    assert_contained(&boxed);
    assert_escaped(&wrote); // it may write its own /dev/shm...
    let leaked = Path::new(&planted).exists();
    let _ = std::fs::remove_file(&planted);
    assert!(!leaked, "...but that file reached the host's /dev/shm");
    assert_escaped(&escaped);
}

#[test]
fn a_test_failing_on_a_box_limit_is_told_which_and_the_setting_that_raises_it() {
    // 1,000 threads against a cap of 64 (300 where the cap is the namespace's
    // pid_max): the failure itself is the program's, the explanation (a
    // `planexec/box` finding) is planexec's.
    let s = Scene::new("[policy.limits]\nprocesses = 64\n");
    let py = "import threading, time\n\
              ts = [threading.Thread(target=time.sleep, args=(2,)) for _ in range(1000)]\n\
              [t.start() for t in ts]";
    let out = s.gate(
        &["command", "--grant", "python3", "--", "python3", "-c", py],
        true,
        &[],
    );
    let r = gate_report(&out);
    assert_eq!(r["outcome"], "failed", "{out:?}");
    let box_notes: Vec<String> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "planexec/box")
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(box_notes.len(), 1, "{box_notes:?}\n{out:?}");
    assert!(
        (box_notes[0].contains("at 64 processes") || box_notes[0].contains("at 300 processes"))
            && box_notes[0].contains("[policy.plugins.command.limits] processes"),
        "{box_notes:?}"
    );
}

#[test]
fn a_write_the_box_refuses_is_explained_with_the_grant_that_allows_it() {
    // A granted write turns the copy-on-write tree off (granted writes must
    // land), so a write beside the grant is refused, and the report says why.
    let s = Scene::new("[policy.plugins.command]\nwrites = [\"out/\"]\n");
    let py = "open('elsewhere.txt', 'w').write('x')";
    let out = s.gate(
        &["command", "--grant", "python3", "--", "python3", "-c", py],
        true,
        &[],
    );
    let r = gate_report(&out);
    let msgs: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "planexec/box")
        .filter_map(|f| f["message"].as_str())
        .collect();
    assert!(
        msgs.iter().any(|m| m.contains("`elsewhere.txt`")
            && m.contains("read-only")
            && m.contains("writes = [\"PATH\"]")),
        "{msgs:?}\n{out:?}"
    );
    assert!(!s.ws().join("elsewhere.txt").exists());
}

#[test]
fn the_policy_raises_one_plugins_process_limit_above_the_maximum() {
    let s = Scene::new(
        "[policy.limits]\nprocesses = 64\n[policy.plugins.command.limits]\nprocesses = 2048\n",
    );
    let py = "import threading, time\n\
              ts = [threading.Thread(target=time.sleep, args=(1,)) for _ in range(1000)]\n\
              [t.start() for t in ts]\n[t.join() for t in ts]\nprint('THREADS OK')";
    let out = s.gate(
        &["command", "--grant", "python3", "--", "python3", "-c", py],
        true,
        &[],
    );
    assert_eq!(gate_report(&out)["outcome"], "passed", "{out:?}");
}
