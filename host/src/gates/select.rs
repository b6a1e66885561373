//! Which gates `planexec gate run` runs when none is named: every `[gates.*]` of
//! planexec.toml in file order, else the standard gates that apply to the project.

use crate::config::{Config, GateConfig};
use std::path::Path;

/// The configured gates, or the detected standard ones (with no settings).
pub fn default_gates(config: &Config, workspace: &Path) -> Vec<GateConfig> {
    if !config.gates.is_empty() {
        return config.gates.clone();
    }
    detected(workspace)
        .into_iter()
        .map(|name| config.gate(name))
        .collect()
}

/// Standard gates for the project files found at the workspace root.
pub fn detected(ws: &Path) -> Vec<&'static str> {
    let has = |f: &str| ws.join(f).exists();
    let text = |f: &str| std::fs::read_to_string(ws.join(f)).unwrap_or_default();
    let mut gates = Vec::new();
    if has("Cargo.toml") {
        gates.push("cargo-test");
    }
    if has("go.mod") {
        gates.push("go-test");
    }
    let pyproject = text("pyproject.toml");
    let python = [
        "pyproject.toml",
        "setup.py",
        "setup.cfg",
        "requirements.txt",
        "pytest.ini",
    ]
    .iter()
    .any(|f| has(f));
    if python {
        gates.push("pytest");
        if pyproject.contains("[tool.mypy]") || has("mypy.ini") {
            gates.push("mypy");
        }
        if pyproject.contains("[tool.black]") {
            gates.push("black");
        }
        if pyproject.contains("[tool.ruff") || has("ruff.toml") {
            gates.push("ruff");
        }
    }
    let package = text("package.json");
    if !package.is_empty() {
        let dep = |d: &str| package.contains(&format!("\"{d}\""));
        for (d, gate) in [
            ("eslint", "eslint"),
            ("typescript", "tsc"),
            ("vitest", "vitest"),
            ("jest", "jest"),
        ] {
            if dep(d) {
                gates.push(gate);
            }
        }
    }
    gates
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_the_standard_gates_a_project_uses() {
        let d = tempfile::tempdir().unwrap();
        assert!(detected(d.path()).is_empty());
        std::fs::write(
            d.path().join("pyproject.toml"),
            "[tool.mypy]\nstrict = true\n",
        )
        .unwrap();
        std::fs::write(d.path().join("go.mod"), "module x\n").unwrap();
        std::fs::write(
            d.path().join("package.json"),
            r#"{"devDependencies": {"typescript": "5.0.0", "vitest": "3.0.0"}}"#,
        )
        .unwrap();
        assert_eq!(
            detected(d.path()),
            ["go-test", "pytest", "mypy", "tsc", "vitest"]
        );
    }
}
