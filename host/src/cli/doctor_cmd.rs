//! `planexec doctor`: what this machine supports for the box around programs
//! (Landlock ABI, namespaces, seccomp, cgroups) and what planexec will do with it.

use super::{exit, Format};
use crate::confine::{Support, SUPPORT};

pub fn run(format: Format) -> i32 {
    let s: &Support = &SUPPORT;
    let missing = s.missing();
    let verdict = verdict(s);
    let trial = trial_run();
    if format == Format::Json {
        let v = serde_json::json!({
            "support": s,
            "complete": missing.is_empty(),
            "missing": missing,
            "verdict": verdict,
            "trial": trial,
        });
        println!("{v}");
        return exit::OK;
    }
    let yes = |b: bool| if b { "yes" } else { "no" };
    println!("planexec doctor: the box around programs plugins and plans run");
    println!(
        "  Landlock              {}",
        if s.landlock_abi > 0 {
            format!("ABI {}", s.landlock_abi)
        } else {
            "no".into()
        }
    );
    println!("    filesystem rules    {}", yes(s.landlock_abi >= 1));
    println!("    TCP rules           {}", yes(s.landlock_abi >= 4));
    println!("    signal/socket scope {}", yes(s.landlock_abi >= 6));
    println!("  user namespaces       {}", yes(s.user_namespaces));
    println!("    network namespace   {}", yes(s.user_namespaces));
    println!("    PID namespace       {}", yes(s.user_namespaces));
    println!("    mount namespace     {}", yes(s.user_namespaces));
    println!("  seccomp               {}", yes(s.seccomp));
    println!("  per-namespace pid_max {}", yes(s.pid_ns_max));
    println!("  pids cgroup           {}", yes(s.pids_cgroup));
    for m in &missing {
        println!("  missing: {m}");
    }
    // SAFETY: getuid cannot fail.
    if !s.pids_cgroup && !s.pid_ns_max && unsafe { libc::getuid() } == 0 {
        println!("  note: running as root without a writable pids cgroup: the number of processes is not limited (RLIMIT_NPROC does not bind root)");
    }
    println!("  trial run             {trial}");
    println!("{verdict}");
    exit::OK
}

/// Runs `true` in a real box (through the planexec-box helper) and says how it went.
fn trial_run() -> String {
    use crate::confine::BoxSpec;
    use crate::sandbox::exec::{resolve_program, run, ProcessSpec};
    let Ok(tmp) = tempfile::tempdir() else {
        return "not run: no temporary directory".into();
    };
    let Ok(program) = resolve_program("true", tmp.path(), "/usr/bin:/bin") else {
        return "not run: `true` not found".into();
    };
    let bx = BoxSpec {
        workspace: Some(tmp.path().to_path_buf()),
        write: vec![tmp.path().to_path_buf()],
        ..Default::default()
    };
    let launch = match bx.launch(&SUPPORT) {
        Ok(l) => l,
        Err(e) => return format!("failed: {e}"),
    };
    let spec = ProcessSpec {
        program,
        args: vec![],
        env: vec![],
        clear_env: true,
        cwd: tmp.path().to_path_buf(),
        timeout: std::time::Duration::from_secs(10),
        stdout_file: None,
        capture_cap: 64 << 10,
        file_cap: 0,
        disk_watch: vec![],
        disk_growth: vec![],
        disk_cap: u64::MAX,
    };
    match run(&spec, Some(launch)) {
        Ok(o) if o.exit_code == Some(0) => {
            format!("ok: `true` ran boxed in {} ms", o.duration.as_millis())
        }
        Ok(o) => format!(
            "failed: exit {:?}: {}",
            o.exit_code,
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => format!("failed: {e}"),
    }
}

fn verdict(s: &Support) -> String {
    if s.complete() {
        return "planexec will box every program: cleared environment, Landlock filesystem rules, \
                private network, PID, mount and IPC namespaces with their own /proc, a session \
                without the terminal, an empty keyring and no inherited descriptors, no_new_privs, \
                seccomp, rlimits."
            .into();
    }
    "planexec will apply what this machine supports; programs of plugins outside the standard \
     pack are refused unless the policy sets `confinement = \"best-effort\"` (or --unconfined is given)."
        .into()
}
