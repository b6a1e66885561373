//! `gate run --staged` / `--changed [REV]`: which files each gate gets (its `files` globs, or
//! its plugin's defaults) and how they reach it (`paths`, or `{files}` in a command).

use crate::config::GateConfig;
use globset::{GlobSet, GlobSetBuilder};
use serde_json::Value;

/// The placeholder a `command` gate's `command` or `args` may hold.
pub const FILES: &str = "{files}";

/// The file-based standard gates: the files they check by default, and whether the file
/// list is passed as their `paths` setting (tsc cannot take files without dropping its
/// tsconfig, so it runs whole when one of its files changed).
fn defaults(plugin: &str) -> Option<(&'static [&'static str], bool)> {
    const PY: &[&str] = &["*.py", "*.pyi"];
    const JS: &[&str] = &[
        "*.js", "*.jsx", "*.mjs", "*.cjs", "*.ts", "*.tsx", "*.mts", "*.cts",
    ];
    match plugin {
        "black" | "ruff" | "mypy" => Some((PY, true)),
        "bandit" => Some((&["*.py"], true)),
        "eslint" => Some((JS, true)),
        "tsc" => Some((&["*.ts", "*.tsx", "*.mts", "*.cts"], false)),
        _ => None,
    }
}

/// Test gates, which run whole: none of the standard ones can narrow to changed files.
pub const WHOLE: &[&str] = &[
    "pytest",
    "cargo-test",
    "go-test",
    "jest",
    "vitest",
    "junit",
    "coverage",
];

/// What a gate does with the scope's files.
#[derive(Debug, Clone, PartialEq)]
pub enum Narrowed {
    /// Run with these settings (the files put in), on `n` files.
    Files(Value, usize),
    /// Run as configured, on the whole tree, for this reason.
    Whole(String),
    /// Do not run: no file of the scope is one it checks.
    Skip(String),
}

/// A bad `files` glob.
#[derive(Debug, thiserror::Error)]
#[error("[gates.{gate}] files: `{glob}` is not a glob ({source}); write e.g. \"*.py\" or \"src/**/*.ts\"")]
pub struct GlobError {
    gate: String,
    glob: String,
    #[source]
    source: globset::Error,
}

/// The gate's file filter: its `files` globs, else its plugin's defaults; `None`: any file.
/// A glob without `/` matches a file's name in any directory (like lefthook's `glob`).
pub fn filter(cfg: &GateConfig) -> Result<Option<GlobSet>, GlobError> {
    let globs: Vec<String> = match (&cfg.files, defaults(&cfg.plugin)) {
        (Some(g), _) => g.clone(),
        (None, Some((d, _))) => d.iter().map(|s| s.to_string()).collect(),
        (None, None) => return Ok(None),
    };
    let mut b = GlobSetBuilder::new();
    for g in &globs {
        let pattern = if g.contains('/') {
            g.clone()
        } else {
            format!("**/{g}")
        };
        let glob = globset::GlobBuilder::new(&pattern)
            .literal_separator(true)
            .build()
            .map_err(|source| GlobError {
                gate: cfg.name.clone(),
                glob: g.clone(),
                source,
            })?;
        b.add(glob);
    }
    b.build().map(Some).map_err(|source| GlobError {
        gate: cfg.name.clone(),
        glob: globs.join(", "),
        source,
    })
}

/// The gate's files among `files` (relative to the work tree), and how it runs on them;
/// `scope` names the files in messages (`staged`, `changed since main`).
pub fn narrow(cfg: &GateConfig, files: &[String], scope: &str) -> Result<Narrowed, GlobError> {
    let set = filter(cfg)?;
    let mine: Vec<&String> = files
        .iter()
        .filter(|f| set.as_ref().is_none_or(|s| s.is_match(f.as_str())))
        .collect();
    let globs = || match (&cfg.files, defaults(&cfg.plugin)) {
        (Some(g), _) => g.join(", "),
        (_, Some((d, _))) => d.join(", "),
        _ => "any file".into(),
    };
    let cwd = cfg.settings.get("cwd").and_then(Value::as_str);
    let mine: Vec<String> = mine.into_iter().filter_map(|f| under_cwd(f, cwd)).collect();
    let mine = within_paths(cfg, mine);
    if mine.is_empty() && (set.is_some() || has_placeholder(&cfg.settings)) {
        return Ok(Narrowed::Skip(format!(
            "no {scope} file matches {}",
            globs()
        )));
    }
    if has_placeholder(&cfg.settings) {
        return Ok(Narrowed::Files(expand(&cfg.settings, &mine), mine.len()));
    }
    match defaults(&cfg.plugin) {
        Some((_, true)) => {
            let mut s = cfg.settings.clone();
            if let Value::Object(m) = &mut s {
                m.insert("paths".into(), Value::from(mine.clone()));
            }
            Ok(Narrowed::Files(s, mine.len()))
        }
        Some((_, false)) => Ok(Narrowed::Whole(format!(
            "{} cannot check single files without dropping its project settings: runs whole",
            cfg.plugin
        ))),
        None if WHOLE.contains(&cfg.plugin.as_str()) => Ok(Narrowed::Whole(format!(
            "{} is a test gate: runs whole",
            cfg.plugin
        ))),
        None => Ok(Narrowed::Whole(format!(
            "gate {} takes no file list (no {FILES} in its command): runs whole",
            cfg.name
        ))),
    }
}

/// `f` relative to the gate's `cwd`, when it is inside it.
fn under_cwd(f: &str, cwd: Option<&str>) -> Option<String> {
    match cwd
        .map(|c| c.trim_matches('/'))
        .filter(|c| !c.is_empty() && *c != ".")
    {
        None => Some(f.to_string()),
        Some(c) => f
            .strip_prefix(c)
            .and_then(|r| r.strip_prefix('/'))
            .map(String::from),
    }
}

/// Keeps the files inside the gate's configured `paths`, when it has some.
fn within_paths(cfg: &GateConfig, files: Vec<String>) -> Vec<String> {
    let Some(paths) = cfg.settings.get("paths").and_then(Value::as_array) else {
        return files;
    };
    let paths: Vec<&str> = paths
        .iter()
        .filter_map(Value::as_str)
        .map(|p| p.trim_start_matches("./").trim_end_matches('/'))
        .collect();
    if paths.is_empty() || paths.iter().any(|p| p.is_empty() || *p == ".") {
        return files;
    }
    files
        .into_iter()
        .filter(|f| {
            paths
                .iter()
                .any(|p| f == p || (f.starts_with(p) && f.as_bytes().get(p.len()) == Some(&b'/')))
        })
        .collect()
}

/// Whether the gate's `command` or `args` say `{files}`.
pub fn has_placeholder(settings: &Value) -> bool {
    let in_command = settings
        .get("command")
        .and_then(Value::as_str)
        .is_some_and(|c| c.contains(FILES));
    let in_args = settings
        .get("args")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|v| v.as_str() == Some(FILES)));
    in_command || in_args
}

/// The settings with `{files}` replaced by the files, one argument each: a `command` line
/// becomes `program` + `args` so no file name is ever split or quoted.
fn expand(settings: &Value, files: &[String]) -> Value {
    let mut s = settings.clone();
    let Value::Object(m) = &mut s else {
        return s;
    };
    let spread = |words: Vec<String>| -> Vec<Value> {
        words
            .into_iter()
            .flat_map(|w| {
                if w == FILES {
                    files.iter().cloned().map(Value::from).collect::<Vec<_>>()
                } else {
                    vec![Value::from(w)]
                }
            })
            .collect()
    };
    let args: Vec<String> = m
        .get("args")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    if let Some(line) = m
        .remove("command")
        .and_then(|c| c.as_str().map(String::from))
    {
        let mut words = planexec_record::words::split_command(&line);
        if words.is_empty() {
            m.insert("command".into(), Value::from(line));
            return s;
        }
        let program = words.remove(0);
        words.extend(args);
        m.insert("program".into(), Value::from(program));
        m.insert("args".into(), Value::from(spread(words)));
    } else {
        m.insert("args".into(), Value::from(spread(args)));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn gate(plugin: &str, files: Option<&[&str]>, settings: Value) -> GateConfig {
        GateConfig {
            name: plugin.into(),
            plugin: plugin.into(),
            settings,
            files: files.map(|f| f.iter().map(|s| s.to_string()).collect()),
            flags: Default::default(),
        }
    }

    fn list(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn black_gets_only_its_python_files_inside_its_paths() {
        let files = list(&["a.py", "src/b.py", "web/c.ts", "README.md"]);
        let g = gate("black", None, json!({"paths": ["src"]}));
        assert_eq!(
            narrow(&g, &files, "staged").unwrap(),
            Narrowed::Files(json!({"paths": ["src/b.py"]}), 1)
        );
        let g = gate("black", None, json!({}));
        let Narrowed::Files(s, 2) = narrow(&g, &files, "staged").unwrap() else {
            panic!()
        };
        assert_eq!(s["paths"], json!(["a.py", "src/b.py"]));
    }

    #[test]
    fn a_command_gate_spreads_files_into_arguments_and_skips_when_none_match() {
        let files = list(&["my file.py", "x.txt"]);
        let g = gate(
            "command",
            Some(&["*.py"]),
            json!({"command": "python3 'check.py' {files} --fast"}),
        );
        assert_eq!(
            narrow(&g, &files, "staged").unwrap(),
            Narrowed::Files(
                json!({"program": "python3", "args": ["check.py", "my file.py", "--fast"]}),
                1
            )
        );
        let Narrowed::Skip(why) = narrow(&g, &list(&["x.txt"]), "staged").unwrap() else {
            panic!()
        };
        assert_eq!(why, "no staged file matches *.py");
    }

    #[test]
    fn test_gates_and_tsc_run_whole_and_globs_with_a_slash_match_paths() {
        let files = list(&["src/a.ts"]);
        assert!(matches!(
            narrow(&gate("pytest", None, json!({})), &files, "s").unwrap(),
            Narrowed::Whole(_)
        ));
        assert!(matches!(
            narrow(&gate("tsc", None, json!({})), &files, "s").unwrap(),
            Narrowed::Whole(_)
        ));
        assert!(matches!(
            narrow(&gate("tsc", None, json!({})), &list(&["a.py"]), "s").unwrap(),
            Narrowed::Skip(_)
        ));
        let g = gate(
            "command",
            Some(&["lib/**/*.ts"]),
            json!({"args": ["{files}"], "program": "x"}),
        );
        assert!(matches!(
            narrow(&g, &files, "s").unwrap(),
            Narrowed::Skip(_)
        ));
        assert!(filter(&gate("command", Some(&["a[b"]), json!({}))).is_err());
    }
}
