//! The plugin pack's own unit tests (plugins/ is a separate wasm workspace),
//! run natively here so that `cargo test --workspace` covers them too.

use crate::support::*;
use std::process::Command;

#[test]
fn plugin_pack_unit_tests_pass() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["test", "--quiet", "--manifest-path"])
        .arg(root().join("plugins/Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir().join("plugins-native"))
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "plugin pack tests failed:\n{text}");
    let passed: u32 = text
        .lines()
        .filter_map(|l| l.strip_prefix("test result: ok. "))
        .filter_map(|l| l.split(' ').next()?.parse::<u32>().ok())
        .sum();
    assert!(
        passed >= 100,
        "expected the pack's unit tests to run, saw {passed} passing:\n{text}"
    );
}
