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

/// One standard gate a project's files call for: `gate run` with no config runs it,
/// `init` proposes it (with `why`, its settings and the programs it needs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected {
    pub gate: &'static str,
    pub why: String,
    /// Lines for its `[gates.NAME]` table (may be empty).
    pub settings: &'static str,
    pub programs: &'static [&'static str],
}

/// Standard gates for the project files found at the workspace root.
pub fn detected(ws: &Path) -> Vec<&'static str> {
    detect(ws).into_iter().map(|d| d.gate).collect()
}

/// The one detection `gate run` and `init` share: Rust, Go, Python (pytest, and the
/// checkers a project configures), then the Node tools package.json depends on.
pub fn detect(ws: &Path) -> Vec<Detected> {
    let has = |f: &str| ws.join(f).is_file();
    let text = |f: &str| std::fs::read_to_string(ws.join(f)).unwrap_or_default();
    let mut out = Vec::new();
    let mut add = |gate, why: &str, settings, programs| {
        out.push(Detected {
            gate,
            why: why.to_string(),
            settings,
            programs,
        })
    };
    if has("Cargo.toml") {
        add("cargo-test", "Cargo.toml", "", &["cargo"]);
    }
    if has("go.mod") {
        add("go-test", "go.mod", "packages = [\"./...\"]\n", &["go"]);
    }
    let python = [
        "pyproject.toml",
        "setup.py",
        "setup.cfg",
        "requirements.txt",
        "pytest.ini",
    ];
    if python.iter().any(|f| has(f)) {
        let (pyproject, setup_cfg) = (text("pyproject.toml"), text("setup.cfg"));
        let py: &[&str] = &["python3"];
        add(
            "pytest",
            "a Python project (pyproject.toml / setup.cfg / requirements)",
            "",
            py,
        );
        if has("mypy.ini") || pyproject.contains("[tool.mypy") || section(&setup_cfg, "mypy") {
            add(
                "mypy",
                "mypy is configured (mypy.ini, [tool.mypy] or setup.cfg [mypy])",
                "",
                py,
            );
        }
        if pyproject.contains("[tool.black]") {
            add("black", "[tool.black] in pyproject.toml", "", py);
        }
        if pyproject.contains("[tool.ruff") || has("ruff.toml") || has(".ruff.toml") {
            add("ruff", "ruff is configured", "", py);
        }
    }
    let package = text("package.json");
    for (dep, gate) in [
        ("eslint", "eslint"),
        ("typescript", "tsc"),
        ("vitest", "vitest"),
        ("jest", "jest"),
    ] {
        if package.contains(&format!("\"{dep}\"")) {
            add(
                gate,
                &format!("package.json depends on {dep}"),
                "",
                &["node"],
            );
        }
    }
    out
}

/// Whether an INI text has the section `[name]` (or `[name-...]`, mypy's per-module ones).
fn section(ini: &str, name: &str) -> bool {
    ini.lines().map(str::trim).any(|l| {
        l.strip_prefix('[')
            .and_then(|l| l.strip_suffix(']'))
            .is_some_and(|s| s == name || s.starts_with(&format!("{name}-")))
    })
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
        // setup.cfg's [mypy] section alone: `gate run` runs mypy too, as init proposes it.
        std::fs::write(d.path().join("pyproject.toml"), "[project]\nname = \"x\"\n").unwrap();
        std::fs::write(
            d.path().join("setup.cfg"),
            "[mypy-vendored.*]\nignore_errors = True\n",
        )
        .unwrap();
        assert!(detected(d.path()).contains(&"mypy"));
    }
}
