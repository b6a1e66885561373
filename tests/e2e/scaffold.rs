//! `planexec plugin new` for each kind: scaffolded, unit-tested natively, built
//! with `planexec plugin build` once per test run, then run through the binary.

use crate::support::*;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const KINDS: [&str; 4] = ["gate", "reviewer", "formatter", "implementer"];

/// The scaffold folder of `kind` (`team-KIND`), all four made and built once.
fn scaffold(kind: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // A fixed place, so cargo's target folder stays warm between test runs.
        let d = target_dir().join("test-scaffolds");
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        let wasm_target = target_dir().join("test-scaffolds-wasm");
        for k in KINDS {
            let out = planexec(&d, &["plugin", "new", k, &format!("team-{k}")]);
            assert_eq!(out.code, 0, "{out:?}");
            let dir = d.join(format!("team-{k}"));
            for f in [
                "Cargo.toml",
                "src/lib.rs",
                "plugin.toml",
                "README.md",
                "wit/plugin.wit",
            ] {
                assert!(dir.join(f).is_file(), "{k}: {f} missing");
            }
            native_tests(&dir);
            let out = planexec_env(
                &d,
                &["plugin", "build", &format!("team-{k}")],
                &[("CARGO_TARGET_DIR", wasm_target.to_str().unwrap())],
            );
            assert_eq!(out.code, 0, "{k}: {out:?}");
        }
        d
    })
    .join(format!("team-{kind}"))
}

/// The scaffold's own unit tests (against the kit's fake host), run natively.
fn native_tests(dir: &Path) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["test", "--quiet", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .env(
            "CARGO_TARGET_DIR",
            target_dir().join("test-scaffolds-native"),
        )
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{}: {text}", dir.display());
    let passed: u32 = text
        .lines()
        .filter_map(|l| l.strip_prefix("test result: ok. "))
        .filter_map(|l| l.split(' ').next()?.parse::<u32>().ok())
        .sum();
    assert!(passed >= 1, "the scaffold's unit tests did not run: {text}");
}

#[test]
fn plugin_build_writes_the_components_sha256() {
    for k in KINDS {
        let dir = scaffold(k);
        let wasm = dir.join(format!("team_{k}.wasm"));
        let sha = hex::encode(Sha256::digest(std::fs::read(&wasm).unwrap()));
        let manifest = std::fs::read_to_string(dir.join("plugin.toml")).unwrap();
        assert!(
            manifest.contains(&format!("sha256 = \"{sha}\"")),
            "{k}: {manifest}"
        );
    }
}

#[test]
fn scaffolded_gate_and_formatter_run_through_the_binary() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path();
    write(ws, "planexec.toml", "[policy]\ngrant = [\"true\", \"false\"]\n\n[gates.ok]\nplugin = \"team-gate\"\nprogram = \"true\"\n\n[gates.bad]\nplugin = \"team-gate\"\nprogram = \"false\"\n");
    let gate = scaffold("gate");
    let g = gate.to_str().unwrap();
    let out = planexec(ws, &["gate", "run", "ok", "--plugins", g]);
    assert_eq!(out.code, 0, "{out:?}");
    // Issue 25: not `exited Some(0)`, and the time its program took, not `took 0 ms`.
    assert!(out.all().contains("team-gate: `true` exited 0"), "{out:?}");
    assert!(!out.all().contains("took 0 ms"), "{out:?}");
    assert_eq!(
        planexec(ws, &["gate", "run", "bad", "--plugins", g]).code,
        1
    );

    // The formatter, installed under the name of the JSON report, renders the gate's record.
    let fmt = tmp.path().join("fmt");
    copy_tree(&scaffold("formatter"), &fmt);
    let manifest = std::fs::read_to_string(fmt.join("plugin.toml")).unwrap();
    std::fs::write(
        fmt.join("plugin.toml"),
        manifest.replace("name = \"team-formatter\"", "name = \"json-report\""),
    )
    .unwrap();
    let out = planexec(
        ws,
        &[
            "gate",
            "run",
            "ok",
            "--plugins",
            g,
            "--plugins",
            fmt.to_str().unwrap(),
            "--report",
            "json=out/summary.md",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let md = std::fs::read_to_string(ws.join("out/summary.md")).unwrap();
    assert!(
        md.starts_with("# team-formatter:") && md.contains("gate ok: Passed"),
        "{md}"
    );
}

#[test]
fn scaffolded_implementer_and_reviewer_drive_a_plan() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    git_init(d);
    write(d, "plan/plan.md", "---\ntitle: Demo\n---\n# Plan: Demo\n\n## Tasks\n\n### T001: Add greeting\n**Summary**: Add greeting\n**Dependencies**: none\n**Files/modules touched**: greet.txt\n**Acceptance test**: `grep -q hello greet.txt`\n\n");
    write(d, "planexec.toml", "[policy]\ngrant = [\"grep\", \"sh\"]\n\n[policy.plugins.team-implementer]\nwrites = [\".\"]\n\n[run]\nimplementer = \"team-implementer\"\ntask_review = \"team-reviewer\"\ncode_review = \"\"\n\n[implementers.team-implementer]\nprogram = \"sh\"\nargs = [\"-c\", \"echo hello > greet.txt\"]\n");
    git(d, &["add", "."]);
    git(d, &["commit", "-qm", "plan"]);
    let (i, r) = (scaffold("implementer"), scaffold("reviewer"));
    let out = planexec(
        d,
        &[
            "run",
            "plan/plan.md",
            "--plugins",
            i.to_str().unwrap(),
            "--plugins",
            r.to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.all().contains("all within the task"),
        "the scaffolded reviewer judged: {out:?}"
    );
    assert_eq!(
        git(d, &["log", "-1", "--format=%s"]).trim(),
        "T001: Add greeting"
    );
    assert_eq!(
        std::fs::read_to_string(d.join("greet.txt")).unwrap(),
        "hello\n"
    );
}

/// Issue 25: a `--pdk` folder that is not the plugin kit is refused before anything is
/// written (a scaffold pointing at nothing fails later, in cargo, far from the cause).
#[test]
fn plugin_new_refuses_a_pdk_folder_that_is_not_the_kit() {
    let tmp = tempfile::tempdir().unwrap();
    let out = planexec(
        tmp.path(),
        &["plugin", "new", "gate", "team-x", "--pdk", "no/such/kit"],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("--pdk") && out.stderr.contains("no/such/kit: no plugin kit there"),
        "{out:?}"
    );
    assert!(!tmp.path().join("team-x").exists(), "nothing written");
    let kit = root().join("plugins/pdk");
    let out = planexec(
        tmp.path(),
        &[
            "plugin",
            "new",
            "gate",
            "team-y",
            "--pdk",
            kit.to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
}

/// Issue 25: `plugin build` on a Python plugin says it builds Cargo projects and how a
/// Python one is built, instead of suggesting a Rust target.
#[test]
fn plugin_build_on_a_python_plugin_says_it_builds_cargo_projects() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("python-gate");
    copy_tree(&root().join("examples/python-gate"), &dir);
    let out = planexec(tmp.path(), &["plugin", "build", "python-gate"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("builds Cargo projects"), "{out:?}");
    assert!(out.stderr.contains("componentize-py"), "{out:?}");
    assert!(!out.stderr.contains("rustup target add"), "{out:?}");
}
