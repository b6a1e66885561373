//! `planexec plugin new KIND NAME` (a ready Cargo project on the plugin kit)
//! and `planexec plugin build DIR` (the component beside plugin.toml, sha256 filled in).

use super::{exit, report_error};
use crate::plugins::Kind;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

const WIT: &str = include_str!("../../../../wit/plugin.wit");
const CARGO: &str = include_str!("templates/Cargo.toml.tmpl");
const MANIFEST: &str = include_str!("templates/plugin.toml.tmpl");
const README: &str = include_str!("templates/README.md.tmpl");

/// The kit in the source tree this planexec was built from, when it is still there.
fn default_pdk() -> Result<PathBuf, String> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/pdk");
    checked_pdk(&p).map_err(|_| {
        format!(
            "plugin new: the plugin kit is not where this planexec was built ({}); \
             pass --pdk DIR (plugins/pdk of a planexec checkout) or --pdk git+URL",
            p.display()
        )
    })
}

/// `dir` as an absolute path when it holds the plugin kit (a Cargo.toml naming planexec-pdk).
fn checked_pdk(dir: &Path) -> Result<PathBuf, String> {
    let manifest = dir.join("Cargo.toml");
    let is_kit =
        std::fs::read_to_string(&manifest).is_ok_and(|t| t.contains("name = \"planexec-pdk\""));
    if !is_kit {
        return Err(format!(
            "plugin new: --pdk {}: no plugin kit there (expected a Cargo.toml of planexec-pdk: \
             plugins/pdk of a planexec checkout); pass that folder or --pdk git+URL",
            dir.display()
        ));
    }
    Ok(std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf()))
}

/// The `planexec-pdk` dependency of the new plugin's Cargo.toml.
fn pdk_dependency(pdk: Option<&str>, cwd: &Path) -> Result<String, String> {
    let path = match pdk {
        Some(p) if p.starts_with("git+") => {
            return Ok(format!(
                "{{ git = {} }}",
                toml::Value::String(p[4..].into())
            ))
        }
        Some(p) => checked_pdk(&cwd.join(p))?,
        None => default_pdk()?,
    };
    Ok(format!(
        "{{ path = {} }}",
        toml::Value::String(path.to_string_lossy().into())
    ))
}

/// Per kind: lib.rs, description, requested commands, extra request lines, usage text.
fn kind_parts(
    kind: Kind,
) -> (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
) {
    match kind {
        Kind::Gate => (
            include_str!("templates/gate.rs.tmpl"),
            "runs the configured program; passes on exit 0",
            "\"*\"",
            "",
            "    # planexec.toml\n    [policy]\n    grant = [\"make\"]\n    [gates.{{name}}]\n    program = \"make\"\n    args = [\"lint\"]\n\n    planexec gate run {{name}} --plugins .",
        ),
        Kind::Reviewer => (
            include_str!("templates/reviewer.rs.tmpl"),
            "approves changes that stay within the task's files",
            "",
            "",
            "    # planexec.toml\n    [run]\n    task_review = \"{{name}}\"\n\n    planexec run PLAN --plugins .",
        ),
        Kind::Formatter => (
            include_str!("templates/formatter.rs.tmpl"),
            "renders the run record as a Markdown summary",
            "",
            "",
            "    planexec run PLAN --plugins .   # with [run] formatters = [\"{{name}}\"]",
        ),
        Kind::Implementer => (
            include_str!("templates/implementer.rs.tmpl"),
            "runs the configured program for each task",
            "\"*\"",
            "# It changes the working tree (never .git); the policy must grant it too.\nwrites = [\".\"]",
            "    # planexec.toml\n    [policy]\n    grant = [\"my-agent\"]\n    [policy.plugins.{{name}}]\n    writes = [\".\"]\n    [run]\n    implementer = \"{{name}}\"\n    [implementers.{{name}}]\n    program = \"my-agent\"\n\n    planexec run PLAN --plugins .",
        ),
    }
}

fn camel(name: &str) -> String {
    name.split(['-', '_'])
        .filter(|p| !p.is_empty())
        .map(|p| p[..1].to_ascii_uppercase() + &p[1..])
        .collect()
}

/// A name that is a valid plugin and crate name: lowercase letters, digits, `-`.
fn check_name(name: &str) -> Result<(), String> {
    let ok = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{name}`: a plugin name is lowercase letters, digits and `-`, starting with a letter"
        ))
    }
}

fn fill(t: &str, vars: &[(&str, &str)]) -> String {
    vars.iter().fold(t.to_string(), |s, (k, v)| {
        s.replace(&format!("{{{{{k}}}}}"), v)
    })
}

pub fn new(kind: Kind, name: &str, dir: Option<&Path>, pdk: Option<&str>) -> i32 {
    if let Err(m) = check_name(name) {
        report_error(&format!("plugin new: {m}"));
        return exit::USAGE;
    }
    let Ok(cwd) = super::current_dir() else {
        return exit::USAGE;
    };
    let dest = cwd.join(dir.unwrap_or(Path::new(name)));
    if dest.symlink_metadata().is_ok() {
        report_error(&format!(
            "{} exists; choose another folder with --dir",
            dest.display()
        ));
        return exit::USAGE;
    }
    let pdk_dep = match pdk_dependency(pdk, &cwd) {
        Ok(d) => d,
        Err(m) => {
            report_error(&m);
            return exit::USAGE;
        }
    };
    let (lib, what, commands, extra, usage) = kind_parts(kind);
    let crate_name = name.replace('-', "_");
    let ty = camel(name);
    let vars = [
        ("kind", kind.as_str()),
        ("name", name),
        ("crate", &crate_name),
        ("Type", &ty),
        ("pdk", &pdk_dep),
        ("what", what),
        ("description", what),
        ("commands", commands),
        ("extra", extra),
    ];
    let usage = fill(usage, &vars);
    let files = [
        ("Cargo.toml", fill(CARGO, &vars)),
        ("src/lib.rs", fill(lib, &vars)),
        ("plugin.toml", fill(MANIFEST, &vars)),
        (
            "README.md",
            fill(&fill(README, &[("usage", &usage)]), &vars),
        ),
        ("wit/plugin.wit", WIT.to_string()),
        (".gitignore", "target/\n*.wasm\n".to_string()),
    ];
    if let Err(e) = std::fs::create_dir_all(&dest) {
        report_error(&format!("{}: cannot create: {e}", dest.display()));
        return exit::USAGE;
    }
    for (rel, text) in files {
        if let Err(e) = crate::rooted::write(&dest, Path::new(rel), text.as_bytes()) {
            report_error(&e);
            return exit::USAGE;
        }
    }
    println!("created the {kind} plugin `{name}` in {}", dest.display());
    println!(
        "next:\n  cd {}\n  cargo test\n  planexec plugin build .",
        dest.display()
    );
    exit::OK
}

/// Builds the plugin in `dir` for wasm32-wasip2, puts the component beside
/// plugin.toml and writes its sha256 there.
pub fn build(dir: &Path) -> i32 {
    let manifest_path = dir.join("plugin.toml");
    let text = match crate::input::read_text(&manifest_path, dir, crate::input::MAX_TOML) {
        Ok(t) => t,
        Err(e) => {
            report_error(&e);
            return exit::USAGE;
        }
    };
    let manifest = match crate::plugins::Manifest::parse(&text, &manifest_path) {
        Ok(m) => m,
        Err(e) => {
            report_error(&e);
            return exit::USAGE;
        }
    };
    if let Err(m) = check_cargo_project(dir) {
        report_error(&m);
        return exit::USAGE;
    }
    let wasm = match cargo_build(dir) {
        Ok(w) => w,
        Err(m) => {
            report_error(&format!("plugin build {}: {m}", dir.display()));
            return exit::FAILED;
        }
    };
    let bytes = match std::fs::read(&wasm) {
        Ok(b) => b,
        Err(e) => {
            report_error(&format!("{}: {e}", wasm.display()));
            return exit::FAILED;
        }
    };
    let sha = hex::encode(Sha256::digest(&bytes));
    let new_text = with_sha256(&text, &sha);
    let written = crate::rooted::write(dir, Path::new(&manifest.component), &bytes)
        .and_then(|_| crate::rooted::write(dir, Path::new("plugin.toml"), new_text.as_bytes()));
    if let Err(e) = written {
        report_error(&e);
        return exit::USAGE;
    }
    println!(
        "built {} ({} bytes, sha256 {sha})",
        dir.join(&manifest.component).display(),
        bytes.len()
    );
    exit::OK
}

/// `plugin build` builds Cargo projects; a folder without Cargo.toml (a Python plugin,
/// say) is refused with how such a plugin is built.
fn check_cargo_project(dir: &Path) -> Result<(), String> {
    if dir.join("Cargo.toml").is_file() {
        return Ok(());
    }
    let python = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| {
            let n = e.file_name();
            let n = n.to_string_lossy();
            n.ends_with(".py") || n == "pyproject.toml"
        });
    let how = if python {
        "a Python plugin is built with componentize-py: `componentize-py -d WIT_DIR -w gate componentize app -o NAME.wasm` \
         (examples/python-gate/README.md), then put its sha256 in plugin.toml"
    } else {
        "build the component with your language's tools, put it beside plugin.toml and its sha256 in plugin.toml"
    };
    Err(format!(
        "plugin build {}: builds Cargo projects (a Rust plugin made by `planexec plugin new`), and there is no Cargo.toml here; {how}",
        dir.display()
    ))
}

/// Runs cargo for wasm32-wasip2 in release mode; the .wasm it produced.
fn cargo_build(dir: &Path) -> Result<PathBuf, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--message-format=json-render-diagnostics",
            "--manifest-path",
        ])
        .arg(dir.join("Cargo.toml"))
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Err("cargo build failed (its errors are above); for a missing target: rustup target add wasm32-wasip2".into());
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["reason"] == "compiler-artifact")
        .flat_map(|v| v["filenames"].as_array().cloned().unwrap_or_default())
        .filter_map(|f| f.as_str().map(PathBuf::from))
        .rfind(|f| f.extension().is_some_and(|e| e == "wasm"))
        .ok_or_else(|| "cargo produced no .wasm (is the crate a cdylib?)".into())
}

/// `text` with its top-level `sha256 = "..."` set to `sha` (replaced, or added after `component`).
fn with_sha256(text: &str, sha: &str) -> String {
    let line = format!("sha256 = \"{sha}\"");
    let top = text
        .lines()
        .position(|l| l.trim_start().starts_with('['))
        .unwrap_or(usize::MAX);
    let is = |i: usize, l: &str, key: &str| i < top && l.trim_start().starts_with(key);
    let existing = text.lines().enumerate().any(|(i, l)| is(i, l, "sha256"));
    let mut out = Vec::new();
    for (i, l) in text.lines().enumerate() {
        if existing && is(i, l, "sha256") {
            out.push(line.clone());
            continue;
        }
        out.push(l.to_string());
        if !existing && is(i, l, "component") {
            out.push(line.clone());
        }
    }
    out.join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_is_added_once_then_replaced() {
        let t = "name = \"x\"\ncomponent = \"x.wasm\"\n[requests]\nsha256 = 1\n";
        let a = with_sha256(t, "aa");
        assert_eq!(a.matches("sha256 = \"aa\"").count(), 1, "{a}");
        let b = with_sha256(&a, "bb");
        assert!(
            b.contains("sha256 = \"bb\"") && !b.contains("\"aa\""),
            "{b}"
        );
        assert!(b.contains("[requests]\nsha256 = 1"), "{b}");
    }

    #[test]
    fn names_become_types() {
        assert_eq!(camel("team-lint"), "TeamLint");
        assert!(check_name("Bad_Name").is_err());
        assert!(check_name("team-lint2").is_ok());
    }
}
