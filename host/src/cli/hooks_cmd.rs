//! `planexec hooks install|uninstall`: git hooks that run the gates on what a commit or a
//! push holds (`gate run --staged`, `gate run --changed @{push}`).

use super::{exit, report_error};
use planexec_vcs::{Installed, Repo, HOOK_MARKER};

/// The hooks planexec writes.
pub const HOOKS: &[&str] = &["pre-commit", "pre-push"];

/// The script of hook `name`: planexec by the path it was installed from, else on PATH.
fn script(name: &str) -> String {
    let args = match name {
        "pre-push" => "gate run --changed '@{push}'",
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
    match repo.uninstall_hooks(HOOKS) {
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
