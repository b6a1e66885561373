//! What an update changes about what a pack may do, plugin by plugin, old vs new:
//! programs and argument shapes, network, writes, env, workspace, time, memory, limits.

use super::lock::{LockedPack, LockedPlugin, LockedResources};

/// Lines describing how `new` differs from `old` (None: the pack is new). Empty: no change.
pub fn capability_diff(old: Option<&LockedPack>, new: &LockedPack) -> Vec<String> {
    let mut out = Vec::new();
    let empty = LockedPack::default();
    let o = old.unwrap_or(&empty);
    if o.version != new.version {
        out.push(format!(
            "pack version: {} -> {}",
            show(&o.version),
            new.version
        ));
    }
    if o.commit != new.commit {
        out.push(format!(
            "commit: {} -> {}",
            opt(&o.commit),
            opt(&new.commit)
        ));
    }
    if o.archive_sha256 != new.archive_sha256 {
        out.push(format!(
            "archive sha256: {} -> {}",
            opt(&o.archive_sha256),
            opt(&new.archive_sha256)
        ));
    }
    for p in &new.plugins {
        match o.plugins.iter().find(|q| q.name == p.name) {
            None => out.extend(added(p)),
            Some(q) => out.extend(changed(q, p)),
        }
    }
    for q in o
        .plugins
        .iter()
        .filter(|q| !new.plugins.iter().any(|p| p.name == q.name))
    {
        out.push(format!("- plugin `{}` ({}) removed", q.name, q.kind));
    }
    if o.suggested_policy != new.suggested_policy && !new.suggested_policy.is_empty() {
        out.push(format!(
            "the pack suggests this policy (not applied; copy what you accept into your [policy]):\n{}",
            indent(&new.suggested_policy)
        ));
    }
    out
}

fn added(p: &LockedPlugin) -> Vec<String> {
    let mut v = vec![format!(
        "+ plugin `{}` ({} {}, world {}) added",
        p.name, p.kind, p.version, p.world
    )];
    v.extend(
        p.commands
            .iter()
            .map(|c| format!("  + `{}` may run program `{c}`", p.name)),
    );
    v.push(format!("  `{}` network: {}", p.name, p.network));
    v.extend(
        p.writes
            .iter()
            .map(|w| format!("  + `{}` writes `{w}`", p.name)),
    );
    v.extend(
        p.env
            .iter()
            .map(|e| format!("  + `{}` sets env `{e}`", p.name)),
    );
    v.extend(
        p.resources
            .as_ref()
            .map(|r| format!("  {}", all_resources(&p.name, r))),
    );
    v
}

/// One line naming every resource `r` grants plugin `name`.
fn all_resources(name: &str, r: &LockedResources) -> String {
    let each: Vec<String> = measures(r)
        .iter()
        .map(|(what, v, unit)| format!("{what} {}", amount(*v, *unit)))
        .collect();
    format!("`{name}` workspace: {}; {}", r.workspace, each.join(", "))
}

#[derive(Clone, Copy)]
enum Unit {
    Bytes,
    Seconds,
    Count,
}

/// Each resource with its name and unit, in the order they are shown.
fn measures(r: &LockedResources) -> [(&'static str, u64, Unit); 7] {
    [
        ("call timeout", r.timeout_secs, Unit::Seconds),
        ("call memory", r.memory, Unit::Bytes),
        ("program memory", r.address_space, Unit::Bytes),
        ("program cpu time", r.cpu_seconds, Unit::Seconds),
        ("program processes", r.processes, Unit::Count),
        ("program file size", r.file_size, Unit::Bytes),
        ("program disk", r.disk, Unit::Bytes),
    ]
}

fn amount(v: u64, unit: Unit) -> String {
    match unit {
        Unit::Seconds => humantime::format_duration(std::time::Duration::from_secs(v)).to_string(),
        Unit::Count => v.to_string(),
        Unit::Bytes => {
            let (n, u) = [(30, "GiB"), (20, "MiB"), (10, "KiB")]
                .iter()
                .find(|(shift, _)| v >= 1 << shift && v.is_multiple_of(1 << shift))
                .map_or((v, "bytes"), |(shift, u)| (v >> shift, *u));
            format!("{n} {u}")
        }
    }
}

/// A change of workspace access or of any limit: widened or raised ones marked `+`.
fn resources_changed(
    name: &str,
    o: Option<&LockedResources>,
    n: Option<&LockedResources>,
) -> Vec<String> {
    let Some(n) = n else {
        return Vec::new();
    };
    let Some(o) = o else {
        return vec![format!(
            "+ {} (not recorded in the old lock)",
            all_resources(name, n)
        )];
    };
    let mut v = Vec::new();
    if o.workspace != n.workspace {
        let mark = if n.workspace == "none" { "~" } else { "+" };
        v.push(format!(
            "{mark} `{name}` workspace: {} -> {}",
            o.workspace, n.workspace
        ));
    }
    for ((what, a, unit), (_, b, _)) in measures(o).into_iter().zip(measures(n)) {
        if a != b {
            let (mark, verb) = if b > a {
                ("+", "raises")
            } else {
                ("~", "lowers")
            };
            v.push(format!(
                "{mark} `{name}` {verb} {what}: {} -> {}",
                amount(a, unit),
                amount(b, unit)
            ));
        }
    }
    v
}

fn changed(o: &LockedPlugin, n: &LockedPlugin) -> Vec<String> {
    let name = &n.name;
    let mut v = Vec::new();
    for (what, a, b) in [
        ("kind", &o.kind, &n.kind),
        ("version", &o.version, &n.version),
        ("world", &o.world, &n.world),
        ("network", &o.network, &n.network),
    ] {
        if a != b {
            v.push(format!("~ `{name}` {what}: {a} -> {b}"));
        }
    }
    for (what, a, b) in [
        ("may run program", &o.commands, &n.commands),
        ("writes", &o.writes, &n.writes),
        ("sets env", &o.env, &n.env),
    ] {
        v.extend(
            b.iter()
                .filter(|x| !a.contains(x))
                .map(|x| format!("+ `{name}` {what} `{x}`")),
        );
        v.extend(
            a.iter()
                .filter(|x| !b.contains(x))
                .map(|x| format!("- `{name}` no longer {what} `{x}`")),
        );
    }
    v.extend(resources_changed(
        name,
        o.resources.as_ref(),
        n.resources.as_ref(),
    ));
    if o.component != n.component || o.manifest != n.manifest {
        v.push(format!(
            "~ `{name}` code changed: component {} -> {}, manifest {} -> {}",
            short(&o.component),
            short(&n.component),
            short(&o.manifest),
            short(&n.manifest)
        ));
    }
    v
}

fn show(s: &str) -> &str {
    if s.is_empty() {
        "(none)"
    } else {
        s
    }
}
fn opt(s: &Option<String>) -> String {
    s.as_deref().map(short).unwrap_or("(none)").to_string()
}
fn short(s: &str) -> &str {
    &s[..s.len().min(12)]
}
fn indent(s: &str) -> String {
    s.lines().map(|l| format!("    {l}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plugin(commands: &[&str]) -> LockedPlugin {
        LockedPlugin {
            name: "lint".into(),
            kind: "gate".into(),
            version: "1".into(),
            world: "w".into(),
            commands: commands.iter().map(|s| s.to_string()).collect(),
            network: "none".into(),
            ..Default::default()
        }
    }

    #[test]
    fn names_a_new_program_and_a_removed_plugin() {
        let old = LockedPack {
            plugins: vec![
                plugin(&["ruff"]),
                LockedPlugin {
                    name: "gone".into(),
                    kind: "gate".into(),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let new = LockedPack {
            plugins: vec![plugin(&["ruff", "curl *"])],
            ..Default::default()
        };
        let d = capability_diff(Some(&old), &new).join("\n");
        assert!(d.contains("+ `lint` may run program `curl *`"), "{d}");
        assert!(!d.contains("`ruff`"), "{d}");
        assert!(d.contains("plugin `gone` (gate) removed"), "{d}");
        assert!(capability_diff(Some(&new), &new).is_empty());
    }

    #[test]
    fn names_workspace_access_and_raised_limits() {
        let base = LockedResources {
            workspace: "none".into(),
            timeout_secs: 600,
            memory: 256 << 20,
            address_space: 16 << 30,
            file_size: 4 << 30,
            processes: 1024,
            cpu_seconds: 3600,
            disk: 8 << 30,
        };
        let with = |r: LockedResources| LockedPack {
            plugins: vec![LockedPlugin {
                resources: Some(r),
                ..plugin(&["ruff"])
            }],
            ..Default::default()
        };
        let raised = LockedResources {
            workspace: "read-only".into(),
            timeout_secs: 3600,
            memory: 4 << 30,
            processes: 512,
            ..base.clone()
        };
        let d = capability_diff(Some(&with(base.clone())), &with(raised)).join("\n");
        assert!(d.contains("+ `lint` workspace: none -> read-only"), "{d}");
        assert!(d.contains("+ `lint` raises call timeout: 10m -> 1h"), "{d}");
        assert!(
            d.contains("+ `lint` raises call memory: 256 MiB -> 4 GiB"),
            "{d}"
        );
        assert!(
            d.contains("~ `lint` lowers program processes: 1024 -> 512"),
            "{d}"
        );
        assert!(!d.contains("disk"), "{d}");
        let old = LockedPack {
            plugins: vec![plugin(&["ruff"])],
            ..Default::default()
        };
        let d = capability_diff(Some(&old), &with(base)).join("\n");
        assert!(
            d.contains("not recorded in the old lock") && d.contains("workspace: none"),
            "{d}"
        );
    }
}
