//! `planexec packs add|update|verify|list`: declare packs, review what an
//! update may newly do before it is locked, and check the lock in CI.

use super::{exit, report_error, Format};
use crate::packs::{self, capability_diff, Declared, Lock, PackSource};
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

/// The packs declared for `workspace` (user config and planexec.toml, whatever its
/// trust: these commands fetch and hash, they never run a pack's code).
fn declared(workspace: &Path) -> Result<Vec<Declared>, i32> {
    let sources = crate::trust::Sources {
        trust_repo: true,
        ..crate::trust::Sources::from_env(false, None)
    };
    let assembled = crate::config::Config::assemble(workspace, &sources).map_err(|e| {
        report_error(&e);
        exit::USAGE
    })?;
    packs::declared_in(&assembled.config.packs, workspace).map_err(|e| {
        report_error(&e);
        exit::USAGE
    })
}

fn read_lock(workspace: &Path) -> Result<Lock, i32> {
    Lock::read(workspace).map_err(|e| {
        report_error(&e);
        exit::USAGE
    })
}

/// `--yes`, or a `y` typed at a prompt on a terminal.
fn confirmed(yes: bool, question: &str) -> bool {
    if yes {
        return true;
    }
    if !std::io::stdin().is_terminal() {
        return false;
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    matches!(line.trim(), "y" | "Y" | "yes")
}

fn print_diff(name: &str, lines: &[String]) {
    println!("pack `{}`:", crate::text::untrusted(name));
    for l in lines {
        // A line break inside untrusted text continues deeper, so it cannot pose as a line of its own.
        println!("  {}", crate::text::untrusted(l).replace('\n', "\n      "));
    }
}

pub fn add(source: &str, name: Option<&str>, yes: bool) -> i32 {
    let Ok(workspace) = super::current_dir() else {
        return exit::USAGE;
    };
    let parsed = match PackSource::parse(source, &workspace) {
        Ok(s) => s,
        Err(m) => {
            report_error(&format!("packs add: {m}"));
            return exit::USAGE;
        }
    };
    let mut decl = Declared {
        name: name.map_or_else(|| parsed.short_name(), str::to_string),
        text: source.into(),
        source: parsed,
    };
    let resolved = match packs::resolve(&decl) {
        Ok(r) => r,
        Err(e) => {
            report_error(&e);
            return exit::USAGE;
        }
    };
    decl.name = name
        .map(str::to_string)
        .unwrap_or(resolved.pack.name.clone());
    let Ok(existing) = declared(&workspace) else {
        return exit::USAGE;
    };
    if existing.iter().any(|d| d.name == decl.name) {
        report_error(&format!(
            "pack `{}` is already declared; change its source there and run `planexec packs update {}`",
            decl.name, decl.name
        ));
        return exit::USAGE;
    }
    let title = format!(
        "{} {}: {}",
        resolved.pack.name, resolved.pack.version, resolved.pack.description
    );
    println!("{}", crate::text::untrusted(&title).replace('\n', " "));
    print_diff(&decl.name, &capability_diff(None, &resolved.locked));
    if !confirmed(yes, "Add this pack and lock it?") {
        println!("nothing changed; rerun with --yes to add it");
        return exit::FAILED;
    }
    let Ok(mut lock) = read_lock(&workspace) else {
        return exit::USAGE;
    };
    if let Err(e) = append_declaration(&workspace, &decl.name, source) {
        report_error(&e);
        return exit::USAGE;
    }
    let plugins: Vec<String> = resolved
        .locked
        .plugins
        .iter()
        .map(|p| p.name.clone())
        .collect();
    lock.packs.insert(decl.name.clone(), resolved.locked);
    let code = write_lock(&workspace, &lock);
    if code == exit::OK {
        print_next_steps(&plugins);
    }
    code
}

/// What a user does after `packs add`: use the plugins, grant, trust, commit.
fn print_next_steps(plugins: &[String]) {
    let example = plugins.first().map_or("PLUGIN", String::as_str);
    println!("next:");
    println!(
        "  use its plugins ({}) by name, e.g. `[gates.NAME] plugin = \"{}\"` in planexec.toml",
        crate::text::untrusted(&plugins.join(", ")),
        crate::text::untrusted(example)
    );
    println!("  grant in [policy] what you accept of what they request (the suggestion above is not applied)");
    println!(
        "  review planexec.toml, run `planexec trust`, and commit planexec.toml and planexec.lock"
    );
}

/// Appends `[packs.NAME] source = ...` to planexec.toml (created if absent), keeping its text.
fn append_declaration(workspace: &Path, name: &str, source: &str) -> Result<(), String> {
    let path = workspace.join(crate::config::FILE_NAME);
    let mut text = if path.exists() {
        crate::input::read_text(&path, workspace, crate::input::MAX_TOML)
            .map_err(|e| e.to_string())?
    } else {
        String::new()
    };
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    let key = toml::Value::String(name.into());
    let src = toml::Value::String(source.into());
    let bare = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    let key = if bare {
        name.to_string()
    } else {
        key.to_string()
    };
    if !text.is_empty() {
        text.push('\n');
    }
    text.push_str(&format!("[packs.{key}]\nsource = {src}\n"));
    crate::rooted::write(
        workspace,
        Path::new(crate::config::FILE_NAME),
        text.as_bytes(),
    )
    .map_err(|e| e.to_string())?;
    println!(
        "added [packs.{key}] to planexec.toml; its content changed, so review and run `planexec trust` if you trusted it before"
    );
    Ok(())
}

fn write_lock(workspace: &Path, lock: &Lock) -> i32 {
    match lock.write(workspace) {
        Ok(p) => {
            println!("wrote {}", p.display());
            exit::OK
        }
        Err(e) => {
            report_error(&e);
            exit::USAGE
        }
    }
}

pub fn update(name: Option<&str>, yes: bool) -> i32 {
    let Ok(workspace) = super::current_dir() else {
        return exit::USAGE;
    };
    let Ok(all) = declared(&workspace) else {
        return exit::USAGE;
    };
    let Ok(old) = read_lock(&workspace) else {
        return exit::USAGE;
    };
    if let Some(n) = name.filter(|n| !all.iter().any(|d| d.name == *n)) {
        report_error(&format!(
            "no pack named `{n}` is declared; add one with `planexec packs add SOURCE`"
        ));
        return exit::USAGE;
    }
    let mut new = old.clone();
    let mut changed = false;
    for decl in all.iter().filter(|d| name.is_none_or(|n| n == d.name)) {
        let resolved = match packs::resolve(decl) {
            Ok(r) => r,
            Err(e) => {
                report_error(&e);
                return exit::USAGE;
            }
        };
        let mut lines = capability_diff(old.packs.get(&decl.name), &resolved.locked);
        if old
            .packs
            .get(&decl.name)
            .is_some_and(|o| o.source != resolved.locked.source)
        {
            lines.insert(
                0,
                format!("source: {} -> {}", old.packs[&decl.name].source, decl.text),
            );
        }
        if old.packs.get(&decl.name) != Some(&resolved.locked) {
            changed = true;
            if lines.is_empty() {
                lines.push("no change in what it may do (files other than plugins changed)".into());
            }
            print_diff(&decl.name, &lines);
        }
        new.packs.insert(decl.name.clone(), resolved.locked);
    }
    if name.is_none() {
        let stale: Vec<String> = old
            .packs
            .keys()
            .filter(|k| !all.iter().any(|d| &d.name == *k))
            .cloned()
            .collect();
        for s in stale {
            println!(
                "pack `{}`: no longer declared; dropped from the lock",
                crate::text::untrusted(&s)
            );
            new.packs.remove(&s);
            changed = true;
        }
    }
    if !changed {
        println!("packs are up to date; planexec.lock unchanged");
        return exit::OK;
    }
    if !confirmed(yes, "Accept these changes and write planexec.lock?") {
        println!("nothing changed; rerun with --yes to accept these changes");
        return exit::FAILED;
    }
    write_lock(&workspace, &new)
}

pub fn verify() -> i32 {
    let Ok(workspace) = super::current_dir() else {
        return exit::USAGE;
    };
    let Ok(all) = declared(&workspace) else {
        return exit::USAGE;
    };
    let Ok(lock) = read_lock(&workspace) else {
        return exit::USAGE;
    };
    match packs::ready(&all, &lock, true) {
        Ok(ready) => {
            let plugins: usize = ready.iter().map(|r| r.plugins.len()).sum();
            println!(
                "{}, {} match planexec.lock",
                crate::text::count(ready.len(), "pack"),
                crate::text::count(plugins, "plugin")
            );
            exit::OK
        }
        Err(e) => {
            report_error(&e);
            exit::USAGE
        }
    }
}

pub fn list(format: Format) -> i32 {
    let Ok(workspace) = super::current_dir() else {
        return exit::USAGE;
    };
    let Ok(all) = declared(&workspace) else {
        return exit::USAGE;
    };
    let Ok(lock) = read_lock(&workspace) else {
        return exit::USAGE;
    };
    if format == Format::Json {
        let v = serde_json::json!({
            "declared": all.iter().map(|d| (d.name.clone(), d.text.clone())).collect::<std::collections::BTreeMap<_, _>>(),
            "lock": lock.packs,
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return exit::OK;
    }
    if all.is_empty() {
        println!("no packs declared; add one with `planexec packs add SOURCE`");
    }
    for d in &all {
        let Some(l) = lock.packs.get(&d.name) else {
            let line = format!(
                "{}  {}  (not locked: run `planexec packs update {}`)",
                d.name, d.text, d.name
            );
            println!("{}", crate::text::untrusted(&line));
            continue;
        };
        let pin = l
            .commit
            .as_deref()
            .or(l.archive_sha256.as_deref())
            .unwrap_or(&l.digest);
        let line = format!("{} {}  {}  @ {}", d.name, l.version, d.text, pin);
        println!("{}", crate::text::untrusted(&line));
        for p in &l.plugins {
            let line = format!(
                "  {} ({} {})  requests: {}",
                p.name,
                p.kind,
                p.version,
                p.commands.join(", ")
            );
            println!("{}", crate::text::untrusted(&line));
        }
    }
    exit::OK
}
