//! The non-Rust example gate (examples/python-gate): built from its Python
//! source with componentize-py by the test suite, pinned by sha256, and run.

use crate::support::*;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// The plugin folder with the freshly built component and its sha256 in plugin.toml.
fn python_gate() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let src = root().join("examples/python-gate");
        let d = target_dir().join("test-python-gate/no-merge-markers");
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        let wasm = d.join("no_merge_markers.wasm");
        let out = Command::new("componentize-py")
            .arg("-d")
            .arg(root().join("wit"))
            .args(["-w", "gate", "componentize", "app", "-p"])
            .arg(&src)
            .arg("-o")
            .arg(&wasm)
            .output()
            .expect("componentize-py runs (installed by scripts/setup.sh and .ci/run)");
        assert!(
            out.status.success(),
            "componentize-py: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let sha = hex::encode(Sha256::digest(std::fs::read(&wasm).unwrap()));
        let manifest = std::fs::read_to_string(src.join("plugin.toml")).unwrap();
        let pinned = manifest.replace(
            "component = \"no_merge_markers.wasm\"",
            &format!("component = \"no_merge_markers.wasm\"\nsha256 = \"{sha}\""),
        );
        std::fs::write(d.join("plugin.toml"), pinned).unwrap();
        d
    })
    .clone()
}

#[test]
fn python_gate_passes_a_clean_tree_and_fails_on_a_marker() {
    let plugin = python_gate();
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path();
    write(
        ws,
        "planexec.toml",
        "[gates.markers]\nplugin = \"no-merge-markers\"\npaths = [\"src\"]\n",
    );
    write(ws, "src/lib.rs", "pub fn two() -> u32 { 2 }\n");
    write(
        ws,
        "notes/todo.md",
        "DO NOT MERGE (outside the scanned paths)\n",
    );
    let p = plugin.to_str().unwrap();
    let out = planexec(
        ws,
        &["gate", "run", "markers", "--plugins", p, "--format", "json"],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(gate_report(&out)["outcome"], "passed", "{out:?}");

    write(
        ws,
        "src/main.rs",
        "fn main() {\n    // DO NOT MERGE: debug print\n}\n",
    );
    let out = planexec(
        ws,
        &["gate", "run", "markers", "--plugins", p, "--format", "json"],
    );
    assert_eq!(out.code, 1, "{out:?}");
    let report = gate_report(&out);
    assert_eq!(report["outcome"], "failed");
    let f = &report["findings"][0];
    assert_eq!(
        (f["path"].as_str(), f["line"].as_u64(), f["column"].as_u64()),
        (Some("src/main.rs"), Some(2), Some(8)),
        "{report}"
    );
    // The span's end: the marker's last character (`DO NOT MERGE`, 12 characters).
    assert_eq!(
        (f["end_line"].as_u64(), f["end_column"].as_u64()),
        (Some(2), Some(19)),
        "{report}"
    );
}

#[test]
fn python_gate_refuses_a_path_outside_the_workspace_and_a_changed_component() {
    let plugin = python_gate();
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path();
    write(
        ws,
        "planexec.toml",
        "[gates.markers]\nplugin = \"no-merge-markers\"\npaths = [\"../..\"]\n",
    );
    let p = plugin.to_str().unwrap();
    let out = planexec(ws, &["gate", "run", "markers", "--plugins", p]);
    assert_eq!(out.code, 2, "a config error: {out:?}");
    assert!(out.all().contains("leaves the workspace"), "{out:?}");

    // The manifest pins the component: a swapped component is refused before it runs.
    let swapped = tmp.path().join("swapped");
    copy_tree(&plugin, &swapped);
    let mut bytes = std::fs::read(swapped.join("no_merge_markers.wasm")).unwrap();
    bytes.push(0);
    std::fs::write(swapped.join("no_merge_markers.wasm"), bytes).unwrap();
    let out = planexec(
        ws,
        &[
            "gate",
            "run",
            "markers",
            "--plugins",
            swapped.to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("field `sha256`"), "{out:?}");
}
