//! Python bytecode boxed programs read and never write: one prefix per workspace beside
//! its tool caches (never inside one), filled only from interpreters out of the box's reach.
//!
//! The prefix holds two kinds of `.pyc`: hard links to the `__pycache__` files of the
//! interpreter's own trees (standard library, site-packages) outside the workspace, which
//! the box cannot write and which are as trusted as the interpreter; and checked-hash
//! bytecode of the workspace's virtualenv, compiled by that interpreter run with `-I -S`
//! in a box whose only writable folder is the prefix. Every boxed program reads the prefix
//! read-only, through its own view of it (`view.rs`) given as `PYTHONPYCACHEPREFIX`.

mod fill;
pub mod view;

use crate::confine::{Confinement, Limits};
use std::path::{Path, PathBuf};

/// The filler's name in its own box: not a valid plugin name, so never a plugin's.
pub const FILLER: &str = "planexec:pycache";
/// The prefix's folder in the tool-cache folder or a workspace's (a plugin's is `name-hash`).
pub const DIR: &str = "pycache";

#[derive(Debug, thiserror::Error)]
pub enum FillError {
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("`{0}` is not a trusted interpreter: it lies in {1}, which boxed programs can write")]
    Untrusted(PathBuf, String),
    #[error("the bytecode prefix {0} lies in {1}, which boxed programs can write")]
    Writable(PathBuf, String),
    #[error("asking `{0}` for its paths failed: {1}")]
    Probe(PathBuf, String),
    #[error("compiling the virtualenv's sources with `{0}` failed: {1}")]
    Compile(PathBuf, String),
}

/// What one boxed program's launch needs to know.
pub struct Context<'a> {
    pub workspace: &'a Path,
    /// The box's writable folders (tmp, `{cache}`, granted writes, scratch).
    pub writable: &'a [PathBuf],
    pub confinement: Confinement,
    pub limits: Limits,
}

/// The prefix to give the box (None: its own empty tmp, as before), and a line for the log.
pub struct Outcome {
    pub prefix: Option<PathBuf>,
    pub note: Option<String>,
}

/// The prefix's folder: the workspace's own when it has a virtualenv (its compiled sources
/// are for its programs only), else one shared by all workspaces (only interpreters' trees,
/// which every box running them may read anyway; a `gate run --staged` copy uses it too).
pub fn prefix_dir(workspace: &Path) -> PathBuf {
    let venv = [".venv", "venv"]
        .iter()
        .any(|v| workspace.join(v).join("pyvenv.cfg").is_file());
    match venv {
        true => super::toolcache::workspace_folder(workspace).join(DIR),
        false => super::toolcache::base().join(DIR),
    }
}

/// The workspace's prefix (filled first when `program` is a Python program and stale).
pub fn for_program(ctx: &Context, program: &Path, search: &str) -> Outcome {
    let dir = prefix_dir(ctx.workspace);
    if let Err(e) = outside_writable(&dir, ctx) {
        return note(None, format!("python bytecode prefix not used: {e}"));
    }
    let filled = interpreter_of(program, search).map(|c| fill::fill(ctx, &dir, &c));
    let prefix = dir.is_dir().then_some(dir);
    match filled {
        Some(Ok(Some(done))) => note(prefix, done),
        Some(Err(e)) => note(
            prefix,
            format!("python bytecode not filled (programs compile from source): {e}"),
        ),
        _ => Outcome { prefix, note: None },
    }
}

fn note(prefix: Option<PathBuf>, line: String) -> Outcome {
    Outcome {
        prefix,
        note: Some(line),
    }
}

/// The folders no trusted interpreter and no prefix may lie in, with their names.
fn unsafe_roots(ctx: &Context) -> Vec<(PathBuf, String)> {
    let mut roots = vec![
        (ctx.workspace.to_path_buf(), "the workspace".to_string()),
        (std::env::temp_dir(), "the temporary folder".to_string()),
    ];
    for w in ctx.writable {
        roots.push((w.clone(), format!("the box's writable {}", w.display())));
    }
    roots
}

fn real(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|_| p.to_path_buf())
}

fn outside_writable(dir: &Path, ctx: &Context) -> Result<(), FillError> {
    let d = dir.parent().map(real).unwrap_or_default().join(DIR);
    for (root, name) in unsafe_roots(ctx).into_iter().skip(2) {
        if d.starts_with(real(&root)) || d.starts_with(&root) {
            return Err(FillError::Writable(dir.to_path_buf(), name));
        }
    }
    if d.starts_with(real(ctx.workspace)) {
        return Err(FillError::Writable(
            dir.to_path_buf(),
            "the workspace".into(),
        ));
    }
    Ok(())
}

/// `exe`'s real path, refused when it lies where a boxed program can write
/// (the workspace, the tool caches, the temporary folder, this box's writable roots).
fn trusted(exe: &Path, ctx: &Context) -> Result<PathBuf, FillError> {
    let r = exe
        .canonicalize()
        .map_err(|e| FillError::Io(exe.to_path_buf(), e))?;
    let mut roots = unsafe_roots(ctx);
    roots.push((super::toolcache::base(), "the tool caches".into()));
    for (root, name) in roots {
        if r.starts_with(real(&root)) {
            return Err(FillError::Untrusted(r, name));
        }
    }
    Ok(r)
}

/// `python`, `python3`, `python3.11`.
fn python_name(name: &str) -> bool {
    name.strip_prefix("python")
        .is_some_and(|r| r.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// The interpreter `program` runs: itself when named like one, else its shebang's
/// (`#!/path/python3`, `#!/usr/bin/env python3` looked up in `search`).
pub fn interpreter_of(program: &Path, search: &str) -> Option<PathBuf> {
    let name = program.file_name()?.to_str()?;
    if python_name(name) {
        return Some(program.to_path_buf());
    }
    let line = shebang(program)?;
    let mut words = line.split_whitespace();
    let first = PathBuf::from(words.next()?);
    if first.file_name()? == "env" {
        let name = words.find(|w| !w.starts_with('-') && !w.contains('='))?;
        if !python_name(name) {
            return None;
        }
        return std::env::split_paths(search)
            .map(|d| d.join(name))
            .find(|p| p.is_file());
    }
    python_name(first.file_name()?.to_str()?).then_some(first)
}

/// The first line of a script after `#!`, if it has one.
fn shebang(program: &Path) -> Option<String> {
    use std::io::Read;
    let mut head = [0u8; 256];
    let n = std::fs::File::open(program).ok()?.read(&mut head).ok()?;
    let line = head[..n]
        .strip_prefix(b"#!")?
        .split(|b| *b == b'\n')
        .next()?;
    Some(std::str::from_utf8(line).ok()?.trim().to_string())
}

/// The virtualenv `candidate` belongs to, when it is the workspace's (`<venv>/bin/python`).
fn venv_of(candidate: &Path, ws: &Path) -> Option<PathBuf> {
    let bin = candidate.parent().filter(|b| b.ends_with("bin"))?;
    let venv = real(bin.parent()?);
    (venv.join("pyvenv.cfg").is_file() && venv.starts_with(real(ws))).then_some(venv)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx<'a>(ws: &'a Path, writable: &'a [PathBuf]) -> Context<'a> {
        Context {
            workspace: ws,
            writable,
            confinement: Confinement::Required,
            limits: Limits::default(),
        }
    }

    #[test]
    fn python_programs_are_found_by_name_or_shebang() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        let script = |name: &str, text: &str| {
            std::fs::write(d.join(name), text).unwrap();
            d.join(name)
        };
        assert!(python_name("python3.11") && python_name("python") && !python_name("pythonx"));
        let direct = script("pytest", "#!/opt/py/bin/python3.12\nimport sys\n");
        assert_eq!(
            interpreter_of(&direct, ""),
            Some(PathBuf::from("/opt/py/bin/python3.12"))
        );
        let found = script("python3", "");
        let env = script("tool", "#!/usr/bin/env -S python3 -u\n");
        assert_eq!(interpreter_of(&env, &d.to_string_lossy()), Some(found));
        assert_eq!(interpreter_of(&script("run", "#!/bin/sh\n"), ""), None);
        assert_eq!(interpreter_of(&script("bin", "\x7fELF"), ""), None);
    }

    #[test]
    fn an_interpreter_the_box_can_write_is_never_trusted() {
        let tmp = tempfile::tempdir().unwrap();
        let ws = tmp.path().join("ws");
        std::fs::create_dir_all(ws.join(".venv/bin")).unwrap();
        std::fs::write(ws.join(".venv/bin/python"), "").unwrap();
        let e = trusted(&ws.join(".venv/bin/python"), &ctx(&ws, &[])).unwrap_err();
        assert!(e.to_string().contains("the workspace"), "{e}");
        let outside = tmp.path().join("cache/python3");
        std::fs::create_dir_all(outside.parent().unwrap()).unwrap();
        std::fs::write(&outside, "").unwrap();
        let writable = [tmp.path().join("cache")];
        assert!(trusted(&outside, &ctx(&ws, &writable)).is_err());
        assert!(trusted(Path::new("/bin/sh"), &ctx(&ws, &writable)).is_ok());
    }
}
