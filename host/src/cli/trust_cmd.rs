//! `planexec trust`: shows what this repository's planexec.toml grants (and what
//! changed since it was last trusted), then records its sha256 in the user's config.

use super::{exit, report_error};
use crate::trust::{self, Store};

pub fn run(show: bool, revoke: bool) -> i32 {
    let cwd = match super::current_dir() {
        Ok(d) => d,
        Err(c) => return c,
    };
    let workspace = planexec_vcs::Repo::discover(&cwd)
        .map(|r| r.workdir().to_path_buf())
        .unwrap_or(cwd);
    let path = workspace.join(crate::config::FILE_NAME);
    let Some(dir) = trust::config_dir() else {
        report_error(&"no user config folder: set HOME or XDG_CONFIG_HOME");
        return exit::USAGE;
    };
    let store = Store::new(&dir);
    if revoke {
        return match store.revoke(&path) {
            Ok(true) => {
                println!("{}: no longer trusted", path.display());
                exit::OK
            }
            Ok(false) => {
                println!("{}: was not trusted", path.display());
                exit::OK
            }
            Err(e) => {
                report_error(&format!("{}: {e}", dir.join(trust::STORE).display()));
                exit::USAGE
            }
        };
    }
    let text = match crate::input::read_text(&path, &workspace, crate::input::MAX_TOML) {
        Ok(t) => t,
        Err(e) => {
            report_error(&format!(
                "{e}\n  run `planexec trust` where the planexec.toml to trust is"
            ));
            return exit::USAGE;
        }
    };
    let table: toml::Table =
        match crate::config::Config::parse(&text, &path, &workspace).and_then(|_| {
            toml::from_str(&text).map_err(|e| crate::config::ConfigError::Invalid {
                path: path.clone(),
                message: e.to_string(),
            })
        }) {
            Ok(t) => t,
            Err(e) => {
                report_error(&e);
                return exit::USAGE;
            }
        };
    // With packs declared, trust covers planexec.lock too (trust::trusted_content).
    let text = trust::trusted_content(&workspace, &text);
    let sha = trust::digest(&text);
    let new = trust::capabilities(&table);
    print_changes(&store, &path, &sha, &new);
    if show {
        println!("nothing recorded (--show); run `planexec trust` to trust it");
        return exit::OK;
    }
    match store.record(&path, &text) {
        Ok(_) => {
            println!(
                "trusted {} (sha256 {}) in {}",
                path.display(),
                &sha[..12],
                dir.join(trust::STORE).display()
            );
            exit::OK
        }
        Err(e) => {
            report_error(&format!("cannot record trust in {}: {e}", dir.display()));
            exit::USAGE
        }
    }
}

fn print_changes(store: &Store, path: &std::path::Path, sha: &str, new: &[String]) {
    let old_sha = store.trusted_sha(path);
    let show = |l: &str| println!("  {}", crate::text::untrusted(l));
    println!("{} (sha256 {})", path.display(), &sha[..12]);
    if old_sha.as_deref() == Some(sha) {
        println!("already trusted as it is");
    }
    println!("what it grants or changes about what runs:");
    if new.is_empty() {
        println!("  nothing (no [policy], [plugins], [limits], or program settings)");
    }
    new.iter().for_each(|l| show(l));
    let Some(old) = old_sha.filter(|o| o != sha) else {
        return;
    };
    println!(
        "it changed since you trusted it (sha256 {}):",
        &old[..old.len().min(12)]
    );
    match store
        .trusted_text(&old)
        .and_then(|t| toml::from_str::<toml::Table>(&t).ok())
    {
        Some(old_table) => {
            let d = trust::diff(&trust::capabilities(&old_table), new);
            if d.is_empty() {
                println!("  no change to what it grants");
            }
            d.iter().for_each(|l| show(l));
        }
        None => println!("  (no copy of the old content was kept)"),
    }
}
