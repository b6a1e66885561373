//! Builds the standard plugin pack (plugins/, wasm32-wasip2) and embeds it.
//!
//! Each folder of plugins/ with a plugin.toml becomes one embedded plugin:
//! its manifest text, its component bytes (deflated) and the component's sha256.

use sha2::{Digest, Sha256};
use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir.parent().unwrap().to_path_buf();
    let plugins = root.join("plugins");
    for p in ["plugins", "wit", "crates/record"] {
        println!("cargo:rerun-if-changed={}", root.join(p).display());
    }
    println!("cargo:rerun-if-env-changed=PLANEXEC_ALLOW_BROKEN_PLUGINS");
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_DIR");

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

    let mut src = String::from("/// The standard plugin pack, embedded at build time.\npub static STD_PACK: &[StdPlugin] = &[\n");
    for (name, manifest, wasm) in &entries {
        let bytes = fs::read(wasm).unwrap();
        let digest = hex::encode(Sha256::digest(&bytes));
        // Deflated (about a third of the size; inflated only when a component is compiled),
        // and a copy, so the include does not change under a running build.
        let out = PathBuf::from(env::var("OUT_DIR").unwrap()).join(format!("{name}.wasm.z"));
        fs::write(&out, deflate(&bytes)).unwrap();
        writeln!(
            src,
            "    StdPlugin {{ dir: {name:?}, manifest: include_str!({m:?}), deflated: include_bytes!({w:?}), sha256: {digest:?} }},",
            m = abs(manifest),
            w = abs(&out),
        )
        .unwrap();
    }
    src.push_str("];\n");
    fs::write(
        PathBuf::from(env::var("OUT_DIR").unwrap()).join("std_pack.rs"),
        src,
    )
    .unwrap();
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
