//! What an update changes about what a pack may do, plugin by plugin, old vs
//! new: programs and argument shapes, network, writes, env, worlds, plugins.

use super::lock::{LockedPack, LockedPlugin};

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
}
