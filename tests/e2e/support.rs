//! Shared helpers for the end-to-end tests: the real binary, temp workspaces,
//! plugin folders built from real components (tests/plugins), a private cache.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_relative() { root().join(p) } else { p })
        .unwrap_or_else(|| root().join("target"))
}

/// A component cache shared by the tests (mode 0700), so each plugin compiles once.
pub fn cache_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = target_dir().join("test-component-cache");
        std::fs::create_dir_all(&d).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700)).unwrap();
        d
    })
    .clone()
}

/// Builds tests/plugins (the hostile plugins) once and returns the component path.
pub fn hostile_wasm() -> PathBuf {
    static WASM: OnceLock<PathBuf> = OnceLock::new();
    WASM.get_or_init(|| {
        let tdir = target_dir().join("test-plugins");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let st = Command::new(cargo)
            .args([
                "build",
                "--release",
                "--target",
                "wasm32-wasip2",
                "--manifest-path",
            ])
            .arg(root().join("tests/plugins/Cargo.toml"))
            .arg("--target-dir")
            .arg(&tdir)
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .status()
            .expect("cargo runs");
        assert!(st.success(), "building tests/plugins failed");
        tdir.join("wasm32-wasip2/release/hostile.wasm")
    })
    .clone()
}

/// Writes a plugin folder `<parent>/<name>/` with `manifest` and a copy of `wasm`.
pub fn plugin_dir(parent: &Path, name: &str, manifest: &str, wasm: &Path) -> PathBuf {
    let d = parent.join(name);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("plugin.toml"), manifest).unwrap();
    std::fs::copy(wasm, d.join(format!("{name}.wasm"))).unwrap();
    d
}

/// A hostile gate plugin folder with the given requests table body.
pub fn hostile_plugin(parent: &Path, name: &str, kind: &str, requests: &str) -> PathBuf {
    let manifest = format!(
        "name = \"{name}\"\nkind = \"{kind}\"\nversion = \"0.0.1\"\ncomponent = \"{name}.wasm\"\n[requests]\n{requests}\n"
    );
    plugin_dir(parent, name, &manifest, &hostile_wasm())
}

pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

impl std::fmt::Debug for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// An empty user config folder for the tests (XDG_CONFIG_HOME), so a
/// developer's own ~/.config/planexec never changes what the tests see.
pub fn user_config_home() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = target_dir().join(format!("test-config-home-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    })
    .clone()
}

/// Runs the real binary in `dir`, trusting the repository's planexec.toml the
/// way a user who wrote it would (`PLANEXEC_TRUST=1`).
pub fn planexec(dir: &Path, args: &[&str]) -> Out {
    planexec_env(dir, args, &[])
}

/// [`planexec`] with extra environment variables (they win over the defaults,
/// e.g. `("PLANEXEC_TRUST", "0")` for an untrusted repository).
pub fn planexec_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Out {
    output_of(planexec_command(dir, args, env))
}

/// The command [`planexec_env`] runs, to start it another way (a terminal, an
/// extra descriptor).
pub fn planexec_command(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_planexec"));
    c.args(args).current_dir(dir);
    test_env(&mut c);
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

/// The environment every planexec the tests start gets (also through another
/// program that starts it, like an MCP client).
pub fn test_env(c: &mut Command) {
    c.env("PLANEXEC_CACHE_DIR", cache_dir())
        .env("XDG_CONFIG_HOME", user_config_home())
        .env("PLANEXEC_RESULT_CACHE", user_config_home().join("results"))
        .env("PLANEXEC_TOOL_CACHE", target_dir().join("test-tool-cache"))
        .env("XDG_STATE_HOME", user_config_home().join("state"))
        .env("PLANEXEC_TRUST", "1")
        .env("NO_COLOR", "1");
    c.env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY");
}

/// Runs `c` to the end, its output captured.
pub fn output_of(mut c: Command) -> Out {
    let o = c.output().expect("planexec runs");
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

pub fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(p, text).unwrap();
}

/// Copies the tree `src` into `dst` (created), leaving out build outputs and tool caches
/// (`target`, `__pycache__`, `.pytest_cache`, `.mypy_cache`, `.coverage`).
pub fn copy_tree(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap_or_else(|e| panic!("{}: {e}", src.display())) {
        let e = e.unwrap();
        let name = e.file_name();
        let n = name.to_string_lossy();
        if matches!(
            n.as_ref(),
            "target" | "__pycache__" | ".pytest_cache" | ".mypy_cache" | ".coverage"
        ) {
            continue;
        }
        let (from, to) = (e.path(), dst.join(&name));
        if e.file_type().unwrap().is_dir() {
            copy_tree(&from, &to);
        } else {
            std::fs::copy(&from, &to).unwrap();
        }
    }
}

/// The report of the `gate_finished` event that `planexec gate run --format json` printed.
pub fn gate_report(out: &Out) -> serde_json::Value {
    let line = out
        .stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{') && l.contains("\"gate_finished\""))
        .unwrap_or_else(|| panic!("no gate_finished event on stdout: {out:?}"));
    let ev: serde_json::Value =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("bad JSON ({e}): {out:?}"));
    assert_eq!(ev["event"], "gate_finished", "{out:?}");
    ev["report"].clone()
}

/// Builds tests/plugins once (with the hostile plugin) and returns the
/// `bad-reviewer` component: a reviewer that loops, traps or errors by config `mode`.
pub fn bad_reviewer_wasm() -> PathBuf {
    let hostile = hostile_wasm();
    let wasm = hostile.with_file_name("bad_reviewer.wasm");
    assert!(wasm.is_file(), "{} was not built", wasm.display());
    wasm
}

/// `git init` on branch main in `dir`, with the tests' committer (nothing committed).
pub fn git_init(dir: &Path) {
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["config", "user.email", "dev@example.com"]);
    git(dir, &["config", "user.name", "Dev"]);
}

/// Runs git in `dir`, asserting success; its stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let o = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        o.status.success(),
        "git {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// plugins/<plugin>/tests/projects/<project>: a plugin's fixture project.
pub fn plugin_project(plugin: &str, project: &str) -> PathBuf {
    root()
        .join("plugins")
        .join(plugin)
        .join("tests/projects")
        .join(project)
}

/// A one-task plan in `dir` (`T001: Add x`, files x.txt, acceptance `accept`) and the
/// patch `plan/patches/T001.patch` creating x.txt (`no`).
pub fn write_one_task_plan(dir: &Path, accept: &str) {
    write(
        dir,
        "plan/plan.md",
        &format!("# Plan: P\n\n## Tasks\n\n### T001: Add x\n**Summary**: Add x\n**Dependencies**: none\n**Files/modules touched**: x.txt\n**Acceptance test**: `{accept}`\n\n"),
    );
    write(
        dir,
        "plan/patches/T001.patch",
        "diff --git a/x.txt b/x.txt\nnew file mode 100644\n--- /dev/null\n+++ b/x.txt\n@@ -0,0 +1 @@\n+no\n",
    );
}

/// A Python venv under `target/agent-tools/NAME` holding the pinned `requirement`,
/// made on first use when `ready` says it lacks it (scripts/setup.sh makes them ahead).
pub fn pinned_venv(name: &str, requirement: &str, ready: impl Fn(&Path) -> bool) -> PathBuf {
    let dir = target_dir().join("agent-tools").join(name);
    if !ready(&dir) {
        std::fs::create_dir_all(dir.parent().unwrap()).unwrap();
        let st = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&dir)
            .status()
            .unwrap();
        assert!(st.success(), "python3 -m venv {} failed", dir.display());
        let st = Command::new(dir.join("bin/pip"))
            .args(["install", "-q", "--disable-pip-version-check", requirement])
            .status()
            .unwrap();
        assert!(
            st.success(),
            "installing {requirement} failed (scripts/setup.sh installs it)"
        );
    }
    dir
}
