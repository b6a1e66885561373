//! Filling a workspace's bytecode prefix: the interpreter asked for its trees (boxed),
//! their `__pycache__` files linked in, the workspace virtualenv compiled (boxed, `-I -S`).

use super::{trusted, venv_of, Context, FillError, FILLER};
use crate::confine::Network;
use crate::plugins::Grants;
use crate::sandbox::child::{self, Places, Request};
use crate::sandbox::exec;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, UNIX_EPOCH};

/// Beside the prefix, never inside it: no boxed program can open it, so none can hold it.
const LOCK: &str = "pycache.lock";
/// Per interpreter, what the last fill saw (inside the prefix: readable and harmless).
const STAMPS: &str = ".stamps";
const PROBE_TIMEOUT: Duration = Duration::from_secs(30);
const COMPILE_TIMEOUT: Duration = Duration::from_secs(600);

/// Prints what the filler needs to know about an interpreter (run with `-I -S`).
const PROBE: &str = "import json, os, sys, sysconfig\n\
p = sysconfig.get_paths()\n\
print(json.dumps({'executable': os.path.realpath(sys.executable), \
'tag': sys.implementation.cache_tag or '', \
'version': '%d.%d' % sys.version_info[:2], \
'trees': sorted({p[k] for k in ('stdlib', 'platstdlib', 'purelib', 'platlib') if k in p})}))\n";

/// Compiles (never imports) each `.py` under the given trees into `sys.pycache_prefix`,
/// checked-hash, skipping symlinks and sources older than their bytecode.
const COMPILE: &str = r#"
import os, sys, importlib.util, py_compile
mode = py_compile.PycInvalidationMode.CHECKED_HASH
n = 0
for root in sys.argv[1:]:
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if x != '__pycache__']
        for f in files:
            src = os.path.join(d, f)
            if not f.endswith('.py') or os.path.islink(src):
                continue
            pyc = importlib.util.cache_from_source(src)
            try:
                if os.stat(pyc).st_mtime_ns >= os.stat(src).st_mtime_ns:
                    continue
            except OSError:
                pass
            try:
                py_compile.compile(src, cfile=pyc, doraise=True, invalidation_mode=mode)
                n += 1
            except Exception:
                pass
print(n)
"#;

/// What the probe said about an interpreter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Probe {
    executable: PathBuf,
    tag: String,
    version: String,
    trees: Vec<PathBuf>,
}

/// What a fill saw: while all of it is unchanged, nothing is filled again.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Stamp {
    candidate: (PathBuf, i64, u64),
    probe: Probe,
    trees: Vec<(PathBuf, i64)>,
}

/// Fills `dir` for the interpreter `candidate` unless its stamp is fresh; says what it did.
pub(super) fn fill(
    ctx: &Context,
    dir: &Path,
    candidate: &Path,
) -> Result<Option<String>, FillError> {
    let cand = trusted(candidate, ctx)?;
    let venv = venv_of(candidate, ctx.workspace);
    let stamp_path = dir.join(STAMPS).join(stamp_key(&cand, venv.as_deref()));
    if read_stamp(&stamp_path).is_some_and(|s| fresh(&s, &cand)) {
        return Ok(None);
    }
    let _lock = lock(dir)?;
    if read_stamp(&stamp_path).is_some_and(|s| fresh(&s, &cand)) {
        return Ok(None); // filled by another process while this one waited
    }
    let started = Instant::now();
    let probe = probe(ctx, &cand)?;
    let exe = trusted(&probe.executable, ctx)?;
    let mut trees: Vec<PathBuf> = probe
        .trees
        .iter()
        .filter(|t| trusted(t, ctx).is_ok())
        .cloned()
        .collect();
    let linked = link_trees(&trees, dir, &probe.tag)?;
    let site = venv
        .map(|v| v.join(format!("lib/python{}/site-packages", probe.version)))
        .filter(|s| s.is_dir());
    let compiled = match &site {
        Some(s) => compile(ctx, &exe, dir, s)?,
        None => 0,
    };
    trees.extend(site);
    let stamp = Stamp {
        candidate: meta(&cand),
        probe,
        trees: trees
            .into_iter()
            .map(|t| (mtime(&t), t))
            .map(|(m, t)| (t, m))
            .collect(),
    };
    write_stamp(&stamp_path, &stamp)?;
    Ok(Some(format!(
        "python bytecode for {} filled into {} in {} ms ({linked} linked, {compiled} compiled)",
        exe.display(),
        dir.display(),
        started.elapsed().as_millis()
    )))
}

fn stamp_key(cand: &Path, venv: Option<&Path>) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(cand.as_os_str().as_encoded_bytes());
    h.update([0]);
    h.update(venv.unwrap_or(Path::new("")).as_os_str().as_encoded_bytes());
    hex::encode(&h.finalize()[..8])
}

fn mtime(p: &Path) -> i64 {
    std::fs::metadata(p)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(-1, |d| d.as_nanos() as i64)
}

fn meta(p: &Path) -> (PathBuf, i64, u64) {
    let len = std::fs::metadata(p).map_or(0, |m| m.len());
    (p.to_path_buf(), mtime(p), len)
}

fn fresh(s: &Stamp, cand: &Path) -> bool {
    s.candidate == meta(cand) && s.trees.iter().all(|(t, m)| mtime(t) == *m)
}

fn read_stamp(p: &Path) -> Option<Stamp> {
    serde_json::from_slice(&std::fs::read(p).ok()?).ok()
}

fn write_stamp(p: &Path, s: &Stamp) -> Result<(), FillError> {
    let io = |e| FillError::Io(p.to_path_buf(), e);
    std::fs::create_dir_all(p.parent().unwrap_or(p)).map_err(io)?;
    let text = serde_json::to_vec(s).unwrap_or_default();
    std::fs::write(p, text).map_err(io)
}

/// The fill's lock, beside the prefix (waits for another process's fill).
fn lock(dir: &Path) -> Result<std::fs::File, FillError> {
    let p = dir.parent().unwrap_or(dir).join(LOCK);
    let io = |e| FillError::Io(p.clone(), e);
    std::fs::create_dir_all(dir).map_err(io)?;
    let f = std::fs::File::create(&p).map_err(io)?;
    f.lock().map_err(io)?;
    Ok(f)
}

/// Asks the interpreter (boxed, no workspace, `-I -S`) where its trees are.
fn probe(ctx: &Context, cand: &Path) -> Result<Probe, FillError> {
    let args = ["-I", "-S", "-B", "-c", PROBE].map(String::from);
    let fail = |e: String| FillError::Probe(cand.to_path_buf(), e);
    let out = boxed(ctx, cand, &args, None, &[], PROBE_TIMEOUT).map_err(fail)?;
    let p: Probe = serde_json::from_str(out.trim()).map_err(|e| fail(format!("{e}: {out}")))?;
    if p.tag.is_empty() {
        return Err(fail("it writes no bytecode (no cache tag)".into()));
    }
    Ok(p)
}

/// Compiles the virtualenv's site-packages (boxed: reads the workspace, writes only `dir`).
fn compile(ctx: &Context, exe: &Path, dir: &Path, site: &Path) -> Result<usize, FillError> {
    let prefix = format!("pycache_prefix={}", dir.display());
    let site = site.to_string_lossy().into_owned();
    let args = [
        "-I",
        "-S",
        "-B",
        "-X",
        prefix.as_str(),
        "-c",
        COMPILE,
        site.as_str(),
    ]
    .map(String::from);
    let fail = |e: String| FillError::Compile(exe.to_path_buf(), e);
    let out = boxed(
        ctx,
        exe,
        &args,
        Some(ctx.workspace),
        &[dir.to_path_buf()],
        COMPILE_TIMEOUT,
    )
    .map_err(fail)?;
    out.trim()
        .parse()
        .map_err(|_| fail(format!("unexpected output: {out}")))
}

/// Runs `exe ARGS` in a box of its own: no network, nothing passed through, writable only `writes`.
fn boxed(
    ctx: &Context,
    exe: &Path,
    args: &[String],
    workspace: Option<&Path>,
    writes: &[PathBuf],
    timeout: Duration,
) -> Result<String, String> {
    let program = exe.to_string_lossy().into_owned();
    let grants = filler_grants(ctx, &program, writes);
    let scratch = tempfile::Builder::new()
        .prefix("planexec-pycache-")
        .tempdir()
        .map_err(|e| format!("cannot create the filler's scratch: {e}"))?;
    let cache = scratch.path().join("cache");
    let places = Places {
        plugin: FILLER,
        grants: &grants,
        workspace,
        scratch: scratch.path(),
        cache: &cache,
    };
    let req = Request {
        program: &program,
        args,
        env: &[],
        cwd: None,
        timeout,
        stdout_file: None,
        caps: (1 << 20, 0),
    };
    let mut ready = child::prepare(&places, req).map_err(|e| e.to_string())?;
    let out = exec::run(&ready.spec, ready.boxed.take());
    ready.clean_up();
    let out = out.map_err(|e| e.to_string())?;
    if out.exit_code != Some(0) || out.timed_out {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: String = err
            .chars()
            .rev()
            .take(400)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        return Err(format!("exit {:?}: {}", out.exit_code, tail.trim()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn filler_grants(ctx: &Context, program: &str, writes: &[PathBuf]) -> Grants {
    Grants {
        programs: vec![program.to_string()],
        requested: vec![],
        granted: vec![],
        network: Network::None,
        requested_network: Network::None,
        allow: Default::default(),
        secrets: Vec::new(),
        writes: writes
            .iter()
            .map(|w| w.to_string_lossy().into_owned())
            .collect(),
        discard_writes: false,
        read: vec![],
        env_set: vec![],
        env_pass: vec![],
        limits: ctx.limits,
        confinement: ctx.confinement,
        standard: true,
        untrusted: None,
    }
}

/// Hard-links (or copies) each tree's `__pycache__/*.<tag>.pyc` to where a prefix
/// lookup finds it: `dir/<source folder>/<file>`. A tree inside another is walked once.
fn link_trees(trees: &[PathBuf], dir: &Path, tag: &str) -> Result<usize, FillError> {
    let suffix = format!(".{tag}.pyc");
    let mut n = 0;
    for t in trees {
        if trees.iter().any(|o| o != t && t.starts_with(o)) {
            continue;
        }
        let mut stack = vec![t.clone()];
        while let Some(d) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in entries.flatten() {
                if !e.file_type().is_ok_and(|f| f.is_dir()) {
                    continue; // files, and symlinks never followed
                }
                if e.file_name() == "__pycache__" {
                    n += link_pycs(
                        &e.path(),
                        &dir.join(d.strip_prefix("/").unwrap_or(&d)),
                        &suffix,
                    )?;
                } else {
                    stack.push(e.path());
                }
            }
        }
    }
    Ok(n)
}

fn link_pycs(cache: &Path, out: &Path, suffix: &str) -> Result<usize, FillError> {
    use std::os::unix::fs::MetadataExt;
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |e| FillError::Io(p, e)
    };
    let mut n = 0;
    for e in std::fs::read_dir(cache).map_err(io(cache))?.flatten() {
        let name = e.file_name();
        if !name.to_string_lossy().ends_with(suffix) || !e.file_type().is_ok_and(|f| f.is_file()) {
            continue;
        }
        let (src, dst) = (e.path(), out.join(&name));
        let src_ino = std::fs::metadata(&src).map_or(0, |m| m.ino());
        match std::fs::symlink_metadata(&dst) {
            Ok(m) if m.ino() == src_ino => continue,
            Ok(_) => std::fs::remove_file(&dst).map_err(io(&dst))?,
            Err(_) => std::fs::create_dir_all(out).map_err(io(out))?,
        }
        if std::fs::hard_link(&src, &dst).is_err() {
            std::fs::copy(&src, &dst).map_err(io(&dst))?;
        }
        n += 1;
    }
    Ok(n)
}
