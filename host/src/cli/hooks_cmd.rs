//! `planexec hooks install|uninstall|commit-msg`: git hooks that run the gates on what a
//! commit or a push holds (`--staged`, `--changed @{push}`) and check commit messages.

use super::{exit, report_error};
use planexec_vcs::{Installed, Repo, HOOK_MARKER};

/// The hooks planexec writes by default.
pub const HOOKS: &[&str] = &["pre-commit", "pre-push"];

/// Every hook planexec can write (`uninstall` removes any of them).
pub const ALL_HOOKS: &[&str] = &["pre-commit", "pre-push", "commit-msg"];

/// The script of hook `name`: planexec by the path it was installed from, else on PATH.
fn script(name: &str) -> String {
    let args = match name {
        "pre-push" => "gate run --changed '@{push}'",
        "commit-msg" => "hooks commit-msg \"$1\"",
        _ => "gate run --staged",
    };
    let exe = std::env::current_exe()
        .map(|p| p.to_string_lossy().replace('\'', "'\\''"))
        .unwrap_or_else(|_| "planexec".into());
    format!(
        "#!/bin/sh\n{HOOK_MARKER} {name}\n\
         # Written by `planexec hooks install`; `planexec hooks uninstall` removes it.\n\
         installed='{exe}'\n\
         PLANEXEC=\"${{PLANEXEC:-$installed}}\"\n\
         [ -x \"$PLANEXEC\" ] || PLANEXEC=planexec\n\
         exec \"$PLANEXEC\" {args}\n"
    )
}

fn repo() -> Result<Repo, i32> {
    let cwd = std::env::current_dir().map_err(|e| {
        report_error(&format!("cannot read the current directory: {e}"));
        exit::USAGE
    })?;
    Repo::discover(&cwd).map_err(|e| {
        report_error(&e);
        exit::USAGE
    })
}

pub fn install(hooks: &[String], force: bool) -> i32 {
    let repo = match repo() {
        Ok(r) => r,
        Err(c) => return c,
    };
    let names: Vec<&str> = if hooks.is_empty() {
        HOOKS.to_vec()
    } else {
        hooks.iter().map(String::as_str).collect()
    };
    let mut code = exit::OK;
    for name in names {
        match repo.install_hook(name, &script(name), force) {
            Ok(Installed::Written(p)) => println!("installed {name} hook {}", p.display()),
            Ok(Installed::Replaced { path, kept }) => println!(
                "installed {name} hook {} (the one there was moved to {}; `planexec hooks uninstall` puts it back)",
                path.display(),
                kept.display()
            ),
            Ok(Installed::Refused { path, owner }) => {
                report_error(&format!(
                    "{} is {owner} {name} hook, not planexec's; left as it is. Move its checks to planexec.toml (`planexec init` imports pre-commit and lefthook configs, see docs/hooks.md), then run `planexec hooks install --force` (it keeps the old hook beside it)",
                    path.display()
                ));
                code = exit::FAILED;
            }
            Err(e) => {
                report_error(&e);
                return exit::USAGE;
            }
        }
    }
    code
}

pub fn uninstall() -> i32 {
    let repo = match repo() {
        Ok(r) => r,
        Err(c) => return c,
    };
    match repo.uninstall_hooks(ALL_HOOKS) {
        Ok(removed) if removed.is_empty() => {
            println!("no planexec hook in {}", repo.hooks_dir().display());
            exit::OK
        }
        Ok(removed) => {
            for p in removed {
                println!("removed {}", p.display());
            }
            exit::OK
        }
        Err(e) => {
            report_error(&e);
            exit::USAGE
        }
    }
}

/// `planexec hooks commit-msg FILE`: the message against `[hooks.commit-msg]`; exit 1
/// naming each broken rule, 2 when the file or the rules cannot be read.
pub fn commit_msg(file: &std::path::Path) -> i32 {
    let repo = match repo() {
        Ok(r) => r,
        Err(c) => return c,
    };
    let ws = repo.workdir();
    let config = match crate::config::Config::load(ws) {
        Ok(c) => c,
        Err(e) => {
            report_error(&e);
            return exit::USAGE;
        }
    };
    let toml = std::fs::read_to_string(ws.join("planexec.toml")).unwrap_or_default();
    let place = crate::commit_msg::rules_place("planexec.toml", &toml);
    let text = match read_message(file) {
        Ok(t) => t,
        Err(e) => {
            report_error(&e);
            return exit::USAGE;
        }
    };
    match crate::commit_msg::problems(&text, &config.hooks.commit_msg, &place) {
        Ok(found) if found.is_empty() => exit::OK,
        Ok(found) => {
            for p in &found {
                report_error(&format!("commit message: {p}"));
            }
            eprintln!(
                "the commit was stopped; your message is kept in {} (`git commit -e -F {}` edits it again)",
                file.display(),
                file.display()
            );
            exit::FAILED
        }
        Err(e) => {
            report_error(&e);
            exit::USAGE
        }
    }
}

/// The message file, at most 1 MiB.
fn read_message(file: &std::path::Path) -> Result<String, String> {
    use std::io::Read;
    let f = std::fs::File::open(file)
        .map_err(|e| format!("{}: cannot read the commit message: {e}", file.display()))?;
    let mut buf = Vec::new();
    f.take(1 << 20)
        .read_to_end(&mut buf)
        .map_err(|e| format!("{}: cannot read the commit message: {e}", file.display()))?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}
