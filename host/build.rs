//! Builds the standard plugin pack (plugins/, wasm32-wasip2) and embeds it.
//!
//! Each folder of plugins/ with a plugin.toml becomes one embedded plugin:
//! its manifest text, its component bytes (deflated) and the component's sha256,
//! and, when the host is the target, the component precompiled for the host's engine
//! configuration (`src/sandbox/engine_config.rs`, shared with the host), deflated.

use sha2::{Digest, Sha256};
use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

#[path = "src/sandbox/engine_config.rs"]
#[allow(dead_code)]
mod engine_config;

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir.parent().unwrap().to_path_buf();
    let plugins = root.join("plugins");
    for p in ["plugins", "wit", "crates/record"] {
        println!("cargo:rerun-if-changed={}", root.join(p).display());
    }
    println!("cargo:rerun-if-env-changed=PLANEXEC_ALLOW_BROKEN_PLUGINS");
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_DIR");
    println!("cargo:rerun-if-env-changed=PLANEXEC_PRECOMPILE");
    println!("cargo:rerun-if-changed=src/sandbox/engine_config.rs");

    let target_root = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_relative() { root.join(p) } else { p })
        .unwrap_or_else(|| root.join("target"));
    let wasm_target = target_root.join("wasm-plugins");

    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(&cargo);
    cmd.args([
        "build",
        "--release",
        "--keep-going",
        "--target",
        "wasm32-wasip2",
        "--manifest-path",
    ])
    .arg(plugins.join("Cargo.toml"))
    .arg("--target-dir")
    .arg(&wasm_target);
    // The outer build's settings must not leak into the guest build.
    for (k, _) in env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        let keep =
            k == "CARGO_HOME" || k == "CARGO_NET_OFFLINE" || k.starts_with("CARGO_REGISTRIES");
        if (k.starts_with("CARGO_") && !keep)
            || k.starts_with("RUSTFLAGS")
            || k == "RUSTC_WRAPPER"
            || k == "RUSTC_WORKSPACE_WRAPPER"
            || k == "MAKEFLAGS"
            || k == "MFLAGS"
            || k == "CARGO_MAKEFLAGS"
            || k == "RUSTDOCFLAGS"
            || k == "TARGET"
            || k == "HOST"
            || k == "OUT_DIR"
            || k == "OPT_LEVEL"
            || k == "PROFILE"
            || k == "DEBUG"
            || k == "NUM_JOBS"
        {
            cmd.env_remove(&k);
        }
    }
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("could not run {cargo}: {e}"));
    let allow_broken = env::var_os("PLANEXEC_ALLOW_BROKEN_PLUGINS").is_some();
    if !status.success() {
        if allow_broken {
            println!("cargo:warning=some plugins failed to build; embedding the last good builds");
        } else {
            panic!(
                "building the standard plugin pack failed (see the errors above).\n\
                 If the target is missing: rustup target add wasm32-wasip2"
            );
        }
    }

    let out_wasm = wasm_target.join("wasm32-wasip2").join("release");
    let mut entries: Vec<(String, PathBuf, PathBuf)> = Vec::new();
    let mut dirs: Vec<_> = fs::read_dir(&plugins)
        .unwrap()
        .filter_map(|e| e.ok())
        .collect();
    dirs.sort_by_key(|e| e.file_name());
    for e in dirs {
        let dir = e.path();
        let manifest = dir.join("plugin.toml");
        if !manifest.is_file() {
            continue;
        }
        let name = e.file_name().to_string_lossy().into_owned();
        let wasm = out_wasm.join(format!("{}.wasm", name.replace('-', "_")));
        if !wasm.is_file() {
            if allow_broken {
                println!(
                    "cargo:warning=plugin {name}: no component at {}",
                    wasm.display()
                );
                continue;
            }
            panic!(
                "plugin {name}: the build produced no component at {}",
                wasm.display()
            );
        }
        entries.push((name, manifest, wasm));
    }

    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    let pre = Precompiler::new(&out_dir);
    let mut src = String::from("/// The standard plugin pack, embedded at build time.\npub static STD_PACK: &[StdPlugin] = &[\n");
    for (name, manifest, wasm) in &entries {
        let bytes = fs::read(wasm).unwrap();
        let digest = hex::encode(Sha256::digest(&bytes));
        // Deflated (about a third of the size; inflated only when a component is compiled),
        // and a copy, so the include does not change under a running build.
        let out = out_dir.join(format!("{name}.wasm.z"));
        fs::write(&out, deflate(&bytes)).unwrap();
        let precompiled = match pre.as_ref().filter(|p| p.wants(name)) {
            Some(p) => format!(
                "Some(include_bytes!({:?}))",
                abs(&p.artifact(name, &bytes, &digest))
            ),
            None => "None".into(),
        };
        writeln!(
            src,
            "    StdPlugin {{ dir: {name:?}, manifest: include_str!({m:?}), deflated: include_bytes!({w:?}), sha256: {digest:?}, precompiled: {precompiled} }},",
            m = abs(manifest),
            w = abs(&out),
        )
        .unwrap();
    }
    src.push_str("];\n");
    let engine = pre.as_ref().map(|p| p.digest.as_str()).unwrap_or("");
    writeln!(
        src,
        "/// The compatibility digest of the engine the artifacts were precompiled with (empty: none were).\npub static PRECOMPILED_FOR: &str = {engine:?};"
    )
    .unwrap();
    if let Some(p) = &pre {
        p.finish();
    }
    fs::write(out_dir.join("std_pack.rs"), src).unwrap();
}

/// What a release build precompiles: the gates a first `gate run` of a Python, Rust or Go
/// project loads. All 25 artifacts deflated are 9.4 MB, which would take the release
/// binary over its 25 MB bound; these are 2.8 MB (docs/benchmarks.md).
const FIRST_RUN: &[&str] = &[
    "command",
    "pytest",
    "mypy",
    "black",
    "ruff",
    "coverage",
    "cargo-test",
    "go-test",
];

/// Precompiles components for the engine the host makes (same configuration), keeping
/// each artifact in OUT_DIR by component digest and engine so an unchanged plugin is
/// not compiled again.
struct Precompiler {
    engine: wasmtime::Engine,
    /// The plugins to precompile; None: all.
    only: Option<Vec<String>>,
    digest: String,
    out_dir: PathBuf,
    started: Instant,
    kept: std::cell::RefCell<Vec<PathBuf>>,
    compiled: std::cell::Cell<usize>,
}

impl Precompiler {
    /// None for a cross build (the artifacts would be the build machine's) or when
    /// PLANEXEC_PRECOMPILE=0: the host then compiles the embedded wasm once and caches it.
    /// PLANEXEC_PRECOMPILE=all precompiles every plugin, a comma list those named; unset,
    /// a release build precompiles [`FIRST_RUN`] (the size bound) and others all.
    fn new(out_dir: &Path) -> Option<Precompiler> {
        let (host, target) = (env::var("HOST").ok()?, env::var("TARGET").ok()?);
        let asked = env::var("PLANEXEC_PRECOMPILE").ok();
        if host != target || asked.as_deref() == Some("0") {
            return None;
        }
        let only = match asked.as_deref() {
            Some("all") => None,
            Some(list) => Some(list.split(',').map(|n| n.trim().to_string()).collect()),
            None if env::var("PROFILE").is_ok_and(|p| p == "release") => {
                Some(FIRST_RUN.iter().map(|n| n.to_string()).collect())
            }
            None => None,
        };
        let engine = wasmtime::Engine::new(&engine_config::engine_config())
            .unwrap_or_else(|e| panic!("the build-time wasmtime engine: {e}"));
        let digest = engine_config::compatibility_digest(&engine);
        Some(Precompiler {
            engine,
            only,
            digest,
            out_dir: out_dir.to_path_buf(),
            started: Instant::now(),
            kept: Default::default(),
            compiled: Default::default(),
        })
    }

    /// Whether plugin `name` is precompiled.
    fn wants(&self, name: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|o| o.iter().any(|n| n == name))
    }

    /// The deflated artifact of `bytes` (component `sha256`), compiled now unless kept.
    fn artifact(&self, name: &str, bytes: &[u8], sha256: &str) -> PathBuf {
        let path = self
            .out_dir
            .join(format!("{sha256}-{}.cwasm.z", &self.digest[..16]));
        if !path.is_file() {
            let cwasm = self
                .engine
                .precompile_component(bytes)
                .unwrap_or_else(|e| panic!("precompiling plugin {name}: {e:#}"));
            fs::write(&path, deflate(&cwasm)).unwrap();
            self.compiled.set(self.compiled.get() + 1);
        }
        self.kept.borrow_mut().push(path.clone());
        path
    }

    /// Removes artifacts no plugin uses any more and notes the time and sizes
    /// (OUT_DIR/precompile.txt, for docs/benchmarks.md).
    fn finish(&self) {
        let kept = self.kept.borrow();
        let mut total = 0;
        for e in fs::read_dir(&self.out_dir).unwrap().filter_map(|e| e.ok()) {
            let p = e.path();
            if p.to_string_lossy().ends_with(".cwasm.z") {
                if kept.contains(&p) {
                    total += e.metadata().map(|m| m.len()).unwrap_or(0);
                } else {
                    let _ = fs::remove_file(&p);
                }
            }
        }
        let note = format!(
            "compiled {} of {} components in {:.2} s; {} bytes deflated\n",
            self.compiled.get(),
            kept.len(),
            self.started.elapsed().as_secs_f64(),
            total
        );
        fs::write(self.out_dir.join("precompile.txt"), note).unwrap();
    }
}

fn deflate(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(bytes).unwrap();
    z.finish().unwrap()
}

fn abs(p: &Path) -> String {
    p.canonicalize().unwrap().to_string_lossy().into_owned()
}
