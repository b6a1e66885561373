//! `planexec doctor`: what this machine supports for the box around programs
//! (Landlock ABI, namespaces, seccomp, cgroups) and what planexec will do with it.

use super::{exit, Format};
use crate::confine::{Support, SUPPORT};

pub fn run(format: Format) -> i32 {
    let s: &Support = &SUPPORT;
    let missing = s.missing();
    let verdict = verdict(s);
    if format == Format::Json {
        let v = serde_json::json!({
            "support": s,
            "complete": missing.is_empty(),
            "missing": missing,
            "verdict": verdict,
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
    println!("  pids cgroup           {}", yes(s.pids_cgroup));
    for m in &missing {
        println!("  missing: {m}");
    }
    println!("{verdict}");
    exit::OK
}

fn verdict(s: &Support) -> String {
    if s.complete() {
        return "planexec will box every program: cleared environment, Landlock filesystem rules, \
                private network, PID and mount namespaces, no_new_privs, seccomp, rlimits."
            .into();
    }
    "planexec will apply what this machine supports; programs of plugins outside the standard \
     pack are refused unless the policy sets `confinement = \"best-effort\"` (or --unconfined is given)."
        .into()
}
