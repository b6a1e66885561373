//! What the box did to a program that failed, read from its exit and output: a
//! denied write, a missing device, a limit or the network; each with the setting that changes it.

use crate::confine::{Limits, Network};
use std::path::Path;

/// What one failed program met in the box, and how to change it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effect {
    pub what: String,
    pub fix: String,
}

impl Effect {
    fn new(what: String, fix: String) -> Effect {
        Effect { what, fix }
    }
    /// One line: what happened; what to do.
    pub fn line(&self) -> String {
        format!("{}; {}", self.what, self.fix)
    }
}

/// The box a program ran in, as far as explaining its failure needs.
pub struct Context<'a> {
    pub plugin: &'a str,
    pub program: &'a str,
    pub workspace: Option<&'a Path>,
    pub limits: &'a Limits,
    pub network: Network,
    /// Its workspace writes land in a copy-on-write layer.
    pub discard_writes: bool,
}

/// Devices a boxed program may open (besides its own `/dev/shm`).
const DEVICES: &str =
    "/dev/null, /dev/zero, /dev/full, /dev/random, /dev/urandom, /dev/tty and its own /dev/shm";
/// How much of the output's end is read (tools print the fatal error last).
const TAIL: usize = 64 << 10;
const SIGXCPU: i32 = 24;
const SIGXFSZ: i32 = 25;

/// The box's effects a failed program's output shows; empty when it passed.
pub fn explain(ctx: &Context, exit: Option<i32>, stdout: &[u8], stderr: &[u8]) -> Vec<Effect> {
    if exit == Some(0) {
        return Vec::new();
    }
    let text = format!("{}\n{}", tail(stderr), tail(stdout));
    let mut out = Vec::new();
    let checks: [fn(&Context, Option<i32>, &str) -> Option<Effect>; 7] = [
        denied_write,
        device,
        processes,
        memory,
        file_size,
        cpu,
        network,
    ];
    for check in checks {
        out.extend(check(ctx, exit, &text));
    }
    out
}

fn tail(b: &[u8]) -> String {
    let start = b.len().saturating_sub(TAIL);
    String::from_utf8_lossy(&b[start..]).into_owned()
}

/// The first line containing any of `needles` (case-insensitive).
fn line_with<'t>(text: &'t str, needles: &[&str]) -> Option<&'t str> {
    text.lines().find(|l| {
        let low = l.to_ascii_lowercase();
        needles.iter().any(|n| low.contains(n))
    })
}

/// The path a "permission denied" / "read-only file system" line names, if quoted or last.
fn named_path(line: &str) -> Option<String> {
    for q in ['\'', '"', '`'] {
        let mut parts = line.split(q);
        parts.next();
        if let Some(p) = parts.next().filter(|p| p.contains('/') || p.contains('.')) {
            return Some(p.to_string());
        }
    }
    // `touch: cannot touch 'x'` is handled above; `sh: 1: cannot create x: Permission denied`:
    line.split(':')
        .map(str::trim)
        .find(|w| w.starts_with('/') || w.starts_with("cannot create "))
        .map(|w| w.trim_start_matches("cannot create ").to_string())
}

fn denied_write(ctx: &Context, _: Option<i32>, text: &str) -> Option<Effect> {
    let line = line_with(
        text,
        &[
            "permission denied",
            "read-only file system",
            "eacces",
            "erofs",
        ],
    )?;
    let path = named_path(line).unwrap_or_default();
    if path.starts_with("/dev/") {
        return None; // a device: see `device`
    }
    let in_ws = ctx
        .workspace
        .is_some_and(|ws| !path.starts_with('/') || Path::new(&path).starts_with(ws));
    let shown = if path.is_empty() {
        "a file".to_string()
    } else {
        format!("`{path}`")
    };
    if path.split('/').any(|c| c == ".git") {
        return Some(Effect::new(
            format!(
                "`{}` was refused a write to {shown}: `.git` is read-only in the box",
                ctx.program
            ),
            "commits and refs are planexec's job; a gate must not change them".into(),
        ));
    }
    if in_ws && !ctx.discard_writes {
        return Some(Effect::new(
            format!(
                "`{}` was refused a write to {shown}: the box keeps the workspace read-only for plugin `{}`",
                ctx.program, ctx.plugin
            ),
            format!(
                "a plugin whose programs write into the tree can ask `workspace-writes = \"discard\"` in its \
                 plugin.toml (the writes then vanish after it); to keep them, grant the path: \
                 `[policy.plugins.{}] writes = [\"PATH\"]`",
                ctx.plugin
            ),
        ));
    }
    Some(Effect::new(
        format!("`{}` was refused a write to {shown}, outside what the box lets it write", ctx.program),
        format!(
            "programs may write their fresh HOME, TMPDIR and the plugin's cache; a folder outside the \
             workspace must be granted by the policy: `[policy.plugins.{}] writes = [\"/ABSOLUTE/PATH\"]`",
            ctx.plugin
        ),
    ))
}

fn device(ctx: &Context, _: Option<i32>, text: &str) -> Option<Effect> {
    let line = text.lines().find(|l| {
        let low = l.to_ascii_lowercase();
        l.contains("/dev/")
            && !l.contains("/dev/shm")
            && [
                "no such file",
                "permission denied",
                "operation not permitted",
                "cannot open",
            ]
            .iter()
            .any(|n| low.contains(n))
    })?;
    let dev: String = line[line.find("/dev/")?..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "/_-.".contains(*c))
        .collect();
    Some(Effect::new(
        format!(
            "`{}` could not open `{dev}`: the box offers only {DEVICES}",
            ctx.program
        ),
        "a test that needs another device cannot run boxed; run that gate with --unconfined, \
         on a machine where that is acceptable"
            .into(),
    ))
}

fn processes(ctx: &Context, _: Option<i32>, text: &str) -> Option<Effect> {
    let hit = line_with(
        text,
        &[
            "can't start new thread",
            "unable to create native thread",
            "cannot fork",
            "fork: retry",
            "fork failed",
            "pthread_create failed",
            "failed to spawn thread",
            "failed to create thread",
        ],
    )
    .or_else(|| {
        text.lines().find(|l| {
            let low = l.to_ascii_lowercase();
            low.contains("resource temporarily unavailable")
                && ["fork", "thread", "spawn", "clone"]
                    .iter()
                    .any(|w| low.contains(w))
        })
    });
    hit?;
    Some(Effect::new(
        format!(
            "`{}` could not start a process or thread: the box caps plugin `{}` at {} processes and threads",
            ctx.program,
            ctx.plugin,
            crate::confine::process_cap(ctx.limits, &crate::confine::SUPPORT)
        ),
        limit_fix(ctx.plugin, "processes", "4096"),
    ))
}

fn memory(ctx: &Context, _: Option<i32>, text: &str) -> Option<Effect> {
    line_with(
        text,
        &[
            "cannot allocate memory",
            "memoryerror",
            "std::bad_alloc",
            "out of memory: ",
            "failed to allocate",
        ],
    )?;
    Some(Effect::new(
        format!(
            "`{}` ran out of memory: the box gives each process {} of private memory",
            ctx.program,
            size(ctx.limits.memory)
        ),
        limit_fix(ctx.plugin, "memory", "\"32GiB\""),
    ))
}

fn file_size(ctx: &Context, exit: Option<i32>, text: &str) -> Option<Effect> {
    if exit != Some(128 + SIGXFSZ) && line_with(text, &["file too large"]).is_none() {
        return None;
    }
    Some(Effect::new(
        format!(
            "`{}` wrote a file over the box's {} file-size limit",
            ctx.program,
            size(ctx.limits.file_size)
        ),
        limit_fix(ctx.plugin, "file-size", "\"8GiB\""),
    ))
}

fn cpu(ctx: &Context, exit: Option<i32>, text: &str) -> Option<Effect> {
    if exit != Some(128 + SIGXCPU) && line_with(text, &["cpu time limit exceeded"]).is_none() {
        return None;
    }
    Some(Effect::new(
        format!(
            "`{}` used the box's {} s of CPU time",
            ctx.program, ctx.limits.cpu_seconds
        ),
        limit_fix(ctx.plugin, "cpu", "\"2h\""),
    ))
}

fn network(ctx: &Context, _: Option<i32>, text: &str) -> Option<Effect> {
    if ctx.network == Network::Full {
        return None;
    }
    line_with(
        text,
        &[
            "network is unreachable",
            "temporary failure in name resolution",
            "name or service not known",
            "getaddrinfo enotfound",
            "getaddrinfo eai_again",
            "could not resolve host",
            "no address associated with hostname",
        ],
    )?;
    let wider = match ctx.network {
        Network::None => "\"loopback\" (its own 127.0.0.1), the hosts it needs (`{ allow = [\"HOST:PORT\"] }`) or \"full\"",
        Network::Named => "the host it asked for in its allow list (`{ allow = [\"HOST:PORT\"] }`)",
        _ => "the hosts it needs (`{ allow = [\"HOST:PORT\"] }`) or \"full\"",
    };
    Some(Effect::new(
        format!(
            "`{}` had no route out: plugin `{}`'s programs have network `{}`",
            ctx.program,
            ctx.plugin,
            ctx.network.as_str()
        ),
        format!(
            "a test that needs it must be granted {wider}: `[policy.plugins.{}] network = ...` \
             (the plugin's plugin.toml must request it too)",
            ctx.plugin
        ),
    ))
}

fn limit_fix(plugin: &str, key: &str, example: &str) -> String {
    format!(
        "raise it for this plugin in the trusted policy: `[policy.plugins.{plugin}.limits] {key} = {example}` \
         (within `[policy.limits] {key}`, the most any plugin gets)"
    )
}

fn size(bytes: u64) -> String {
    match bytes {
        u64::MAX => "unlimited".into(),
        b if b >= 1 << 30 && b % (1 << 30) == 0 => format!("{} GiB", b >> 30),
        b => format!("{} MiB", b >> 20),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx<'a>(ws: &'a Path, limits: &'a Limits, network: Network, discard: bool) -> Context<'a> {
        Context {
            plugin: "pytest",
            program: "python3",
            workspace: Some(ws),
            limits,
            network,
            discard_writes: discard,
        }
    }

    fn one(c: &Context, exit: Option<i32>, err: &str) -> Vec<Effect> {
        explain(c, exit, b"", err.as_bytes())
    }

    #[test]
    fn a_passing_program_has_no_effects_whatever_it_printed() {
        let l = Limits::default();
        let c = ctx(Path::new("/ws"), &l, Network::None, false);
        assert!(one(
            &c,
            Some(0),
            "PermissionError: [Errno 13] Permission denied: 'x'"
        )
        .is_empty());
    }

    #[test]
    fn a_denied_write_in_the_tree_names_the_path_and_both_ways_out() {
        let l = Limits::default();
        let c = ctx(Path::new("/ws"), &l, Network::None, false);
        let e = one(
            &c,
            Some(1),
            "PermissionError: [Errno 13] Permission denied: 'out/report.txt'",
        );
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].what.contains("`out/report.txt`") && e[0].what.contains("read-only"));
        assert!(
            e[0].fix.contains("workspace-writes = \"discard\"")
                && e[0].fix.contains("writes = [\"PATH\"]")
        );
        let node = one(
            &c,
            Some(1),
            "Error: EACCES: permission denied, open '/ws/node_modules/.vite/x.json'",
        );
        assert!(
            node[0].what.contains("/ws/node_modules/.vite/x.json"),
            "{node:?}"
        );
    }

    #[test]
    fn a_denied_write_outside_the_tree_points_at_the_policys_absolute_writes() {
        let l = Limits::default();
        let c = ctx(Path::new("/ws"), &l, Network::None, true);
        let e = one(
            &c,
            Some(1),
            "OSError: [Errno 13] Permission denied: '/var/lib/thing/lock'",
        );
        assert!(
            e[0].what.contains("outside") && e[0].fix.contains("/ABSOLUTE/PATH"),
            "{e:?}"
        );
    }

    #[test]
    fn limits_name_their_value_and_the_key_that_raises_them() {
        let l = Limits {
            processes: 32,
            ..Limits::default()
        };
        let c = ctx(Path::new("/ws"), &l, Network::None, false);
        let e = one(&c, Some(1), "RuntimeError: can't start new thread");
        let cap = crate::confine::process_cap(&l, &crate::confine::SUPPORT);
        assert!(
            e[0].what.contains(&format!("{cap} processes"))
                && e[0].fix.contains("limits] processes"),
            "{e:?}"
        );
        let e = one(&c, Some(1), "bash: fork: Resource temporarily unavailable");
        assert!(e[0].what.contains(&cap.to_string()), "{e:?}");
        let e = one(&c, Some(128 + SIGXFSZ), "");
        assert!(e[0].fix.contains("file-size"), "{e:?}");
        let e = one(&c, Some(1), "MemoryError");
        assert!(e[0].what.contains("16 GiB"), "{e:?}");
    }

    #[test]
    fn devices_and_the_network_are_explained_and_full_network_never_is() {
        let l = Limits::default();
        let c = ctx(Path::new("/ws"), &l, Network::None, false);
        let e = one(&c, Some(1), "open /dev/kvm: no such file or directory");
        assert!(e[0].what.contains("`/dev/kvm`"), "{e:?}");
        let e = one(&c, Some(1), "urllib.error.URLError: <urlopen error [Errno -3] Temporary failure in name resolution>");
        assert!(
            e[0].what.contains("network `none`") && e[0].fix.contains("loopback"),
            "{e:?}"
        );
        let full = ctx(Path::new("/ws"), &l, Network::Full, false);
        assert!(one(&full, Some(1), "Temporary failure in name resolution").is_empty());
    }
}
