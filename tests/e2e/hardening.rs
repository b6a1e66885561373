//! The host holds against hostile plugins and hostile repositories: untrusted
//! config, symlinked outputs, tampered caches, special files, blocked calls,
//! escape sequences, floods, scratch abuse, and manifests that lie.

use crate::support::*;
use planexec::config::GateConfig;
use planexec::plugins::{resolve_grants, Registry};
use planexec::sandbox::{Caps, Origin, Sandbox, SandboxOptions};
use planexec_record::Outcome;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn host_hostile_wasm() -> PathBuf {
    let w = hostile_wasm().with_file_name("host_hostile.wasm");
    assert!(w.is_file(), "{} was not built", w.display());
    w
}

fn hostile_formatter_wasm() -> PathBuf {
    let w = hostile_wasm().with_file_name("hostile_formatter.wasm");
    assert!(w.is_file(), "{} was not built", w.display());
    w
}

/// A plugin folder `<parent>/<name>` for the host-hostile gate.
fn evil_gate(parent: &Path, name: &str, requests: &str) -> PathBuf {
    let manifest = format!(
        "name = \"{name}\"\nkind = \"gate\"\nversion = \"0.0.1\"\ncomponent = \"{name}.wasm\"\n[requests]\n{requests}\n"
    );
    plugin_dir(parent, name, &manifest, &host_hostile_wasm())
}

/// Runs the binary the way it runs on a fresh clone: the repository's
/// planexec.toml NOT trusted, and a user config folder of the test's own.
fn untrusted(dir: &Path, home: &Path, args: &[&str], env: &[(&str, &str)]) -> Out {
    let mut e: Vec<(&str, &str)> = vec![
        ("PLANEXEC_TRUST", "0"),
        ("XDG_CONFIG_HOME", home.to_str().unwrap()),
    ];
    e.extend_from_slice(env);
    planexec_env(dir, args, &e)
}

fn one_gate(
    loaded: &planexec::sandbox::Loaded,
    ws: &Path,
    mode: &str,
    extra: serde_json::Value,
) -> planexec_record::GateReport {
    let mut settings = serde_json::json!({ "mode": mode });
    if let (Some(m), serde_json::Value::Object(x)) = (settings.as_object_mut(), extra) {
        m.extend(x);
    }
    let g = GateConfig {
        name: mode.into(),
        plugin: loaded.name().into(),
        settings,
        files: None,
        flags: Default::default(),
    };
    planexec::gate::run(loaded, &g, ws, None).0.report
}

/// Loads the evil gate `name` from `pack` under `policy` into a sandbox with
/// `caps`; the sandbox is returned too, as it must outlive the loaded plugin.
fn load_evil(
    pack: &Path,
    name: &str,
    caps: Caps,
    policy: &planexec::config::Policy,
) -> (Sandbox, planexec::sandbox::Loaded) {
    let reg = Registry::discover(&[pack.to_path_buf()]).unwrap();
    let p = reg.get(name).unwrap();
    let sb = sandbox_with(caps);
    let l = sb
        .load(p, resolve_grants(p, policy, &[], false).unwrap())
        .unwrap();
    (sb, l)
}

fn sandbox_with(caps: Caps) -> Sandbox {
    Sandbox::new(SandboxOptions {
        cache_dir: Some(Some(cache_dir())),
        caps,
        ..Default::default()
    })
    .unwrap()
}

// ---- 1. trust of configuration ----------------------------------------------

const HOSTILE_REPO_TOML: &str = r#"
[policy]
grant = ["sh", "printf"]
confinement = "off"
[gates.pytest]
plugin = "command"
command = "sh -c 'printf %s%s RAN -IT'"
[gates.tests]
plugin = "pytest"
command = "python3 -m coverage run evil.py"
"#;

/// Whether the program the repository's config named ran: it prints `RAN-IT`,
/// which its arguments do not contain (`printf %s%s RAN -IT`).
fn ran(out: &Out) -> bool {
    out.all().contains("RAN-IT")
}

#[test]
fn untrusted_repo_config_cannot_grant_sh_or_remap_a_standard_gate() {
    let tmp = tempfile::tempdir().unwrap();
    let (ws, home) = (tmp.path().join("ws"), tmp.path().join("home"));
    write(&ws, "planexec.toml", HOSTILE_REPO_TOML);
    let args = ["gate", "run", "pytest", "--format", "json"];
    let out = untrusted(&ws, &home, &args, &[]);
    assert!(!ran(&out), "sh ran: {out:?}");
    assert!(out.stderr.contains("is not trusted"), "{out:?}");
    assert!(out.stderr.contains("[policy] grant"), "{out:?}");
    assert!(out.stderr.contains("[gates.pytest] plugin"), "{out:?}");
    assert!(out.stderr.contains("planexec trust"), "{out:?}");
    // Control: the same config, trusted, does run sh.
    let trusted = untrusted(&ws, &home, &args, &[("PLANEXEC_TRUST", "1")]);
    assert!(ran(&trusted), "{trusted:?}");
}

#[test]
fn untrusted_repo_config_cannot_change_the_pytest_gates_command() {
    let tmp = tempfile::tempdir().unwrap();
    let (ws, home) = (tmp.path().join("ws"), tmp.path().join("home"));
    write(&ws, "planexec.toml", HOSTILE_REPO_TOML);
    write(&ws, "evil.py", "print('RAN' + '-IT')\n");
    let args = ["gate", "run", "tests", "--format", "json"];
    let out = untrusted(&ws, &home, &args, &[]);
    assert!(!ran(&out), "python ran the repo's command: {out:?}");
    assert!(out.stderr.contains("[gates.tests] command"), "{out:?}");
    let trusted = untrusted(&ws, &home, &args, &[("PLANEXEC_TRUST", "1")]);
    assert!(ran(&trusted), "{trusted:?}");
}

#[test]
fn untrusted_repo_cannot_ship_a_fake_standard_plugin_in_its_own_plugin_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let (ws, home) = (tmp.path().join("ws"), tmp.path().join("home"));
    evil_gate(&ws.join("plugins"), "pytest", "");
    write(&ws, "planexec.toml", "[plugins]\ndirs = [\"plugins\"]\n");
    let out = untrusted(&ws, &home, &["plugins", "list", "--format", "json"], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    let pytest = out
        .stdout
        .lines()
        .find(|l| l.contains("\"name\":\"pytest\""))
        .unwrap();
    assert!(pytest.contains("\"source\":\"standard\""), "{pytest}");
    assert!(out.stderr.contains("[plugins] dirs"), "{out:?}");
}

#[test]
fn planexec_trust_records_the_sha256_and_a_changed_file_needs_trusting_again() {
    let tmp = tempfile::tempdir().unwrap();
    let (ws, home) = (tmp.path().join("ws"), tmp.path().join("home"));
    let v1 = "[policy]\ngrant = [\"printf\"]\n[gates.mark]\nplugin = \"command\"\ncommand = \"printf %s%s RAN -IT\"\n";
    write(&ws, "planexec.toml", v1);
    let mark = ["gate", "run", "mark", "--format", "json"];
    let before = untrusted(&ws, &home, &mark, &[]);
    assert!(!ran(&before), "ran before trust: {before:?}");

    let t = untrusted(&ws, &home, &["trust"], &[]);
    assert_eq!(t.code, 0, "{t:?}");
    assert!(t.stdout.contains("policy.grant = [\"printf\"]"), "{t:?}");
    assert!(t.stdout.contains("[gates.mark] command"), "{t:?}");
    let store = std::fs::read_to_string(home.join("planexec/trusted.toml")).unwrap();
    assert!(store.contains(&planexec::trust::digest(v1)), "{store}");
    let after = untrusted(&ws, &home, &mark, &[]);
    assert_eq!(after.code, 0, "{after:?}");
    assert!(ran(&after), "{after:?}");

    // One more grant: untrusted again until trusted, and `trust --show` shows the change.
    write(
        &ws,
        "planexec.toml",
        &v1.replace("[\"printf\"]", "[\"printf\", \"sh\"]"),
    );
    let changed = untrusted(&ws, &home, &mark, &[]);
    assert!(!ran(&changed), "{changed:?}");
    assert!(changed.stderr.contains("is not trusted"), "{changed:?}");
    let show = untrusted(&ws, &home, &["trust", "--show"], &[]);
    assert!(
        show.stdout.contains("it changed since you trusted it"),
        "{show:?}"
    );
    assert!(
        show.stdout
            .contains("+ policy.grant = [\"printf\", \"sh\"]"),
        "{show:?}"
    );
    assert!(
        show.stdout.contains("- policy.grant = [\"printf\"]"),
        "{show:?}"
    );
}

#[test]
fn ci_trusts_only_explicitly_with_the_flag_or_the_variable() {
    let tmp = tempfile::tempdir().unwrap();
    let (ws, home) = (tmp.path().join("ws"), tmp.path().join("home"));
    write(&ws, "planexec.toml", "[policy]\ngrant = [\"printf\"]\n[gates.mark]\nplugin = \"command\"\ncommand = \"printf %s%s RAN -IT\"\n");
    let mark = ["gate", "run", "mark", "--format", "json"];
    let ci = untrusted(&ws, &home, &mark, &[("CI", "true")]);
    assert!(!ran(&ci), "CI alone trusted the repo: {ci:?}");
    let mut with_flag = mark.to_vec();
    with_flag.push("--trust");
    let flag = untrusted(&ws, &home, &with_flag, &[]);
    assert_eq!(flag.code, 0, "{flag:?}");
    assert!(ran(&flag), "{flag:?}");
    let var = untrusted(&ws, &home, &mark, &[("PLANEXEC_TRUST", "1")]);
    assert_eq!(var.code, 0, "{var:?}");
    assert!(ran(&var), "{var:?}");
}

#[test]
fn user_config_and_policy_file_grant_what_an_untrusted_repo_cannot() {
    let tmp = tempfile::tempdir().unwrap();
    let (ws, home) = (tmp.path().join("ws"), tmp.path().join("home"));
    std::fs::create_dir_all(&ws).unwrap();
    let args = [
        "gate", "run", "command", "--format", "json", "--", "printf", "%s%s", "RAN", "-IT",
    ];
    // The repository's own grant does not count while it is untrusted.
    write(&ws, "planexec.toml", "[policy]\ngrant = [\"printf\"]\n");
    let none = untrusted(&ws, &home, &args, &[]);
    assert_eq!(none.code, 2, "{none:?}");
    assert!(!ran(&none));
    assert!(none.stderr.contains("[policy] grant"), "{none:?}");
    write(
        &home,
        "planexec/config.toml",
        "[policy]\ngrant = [\"printf\"]\n",
    );
    let user = untrusted(&ws, &home, &args, &[]);
    assert_eq!(user.code, 0, "{user:?}");
    assert!(ran(&user), "{user:?}");
    std::fs::remove_file(home.join("planexec/config.toml")).unwrap();
    write(
        tmp.path(),
        "policy.toml",
        "[policy]\ngrant = [\"printf\"]\n",
    );
    let pol = tmp.path().join("policy.toml");
    let mut a = args.to_vec();
    a.splice(3..3, ["--policy", pol.to_str().unwrap()]);
    let file = untrusted(&ws, &home, &a, &[]);
    assert_eq!(file.code, 0, "{file:?}");
    assert!(ran(&file), "{file:?}");
    // A policy file is only policy: a [gates] table in it is refused.
    write(
        tmp.path(),
        "policy.toml",
        "[gates.x]\nplugin = \"command\"\n",
    );
    let bad = untrusted(&ws, &home, &a, &[]);
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(bad.stderr.contains("does not belong here"), "{bad:?}");
}

#[test]
fn a_plugin_overriding_a_standard_name_is_shown_as_such() {
    let tmp = tempfile::tempdir().unwrap();
    let (ws, home) = (tmp.path().join("ws"), tmp.path().join("home"));
    std::fs::create_dir_all(&ws).unwrap();
    let pack = tmp.path().join("pack");
    evil_gate(&pack, "pytest", "");
    let out = untrusted(
        &ws,
        &home,
        &["plugins", "list", "--plugins", pack.to_str().unwrap()],
        &[],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .contains("`pytest` OVERRIDES the standard plugin"),
        "{out:?}"
    );
    let json = untrusted(
        &ws,
        &home,
        &[
            "plugins",
            "list",
            "--format",
            "json",
            "--plugins",
            pack.to_str().unwrap(),
        ],
        &[],
    );
    let row = json
        .stdout
        .lines()
        .find(|l| l.contains("\"name\":\"pytest\""))
        .unwrap();
    assert!(row.contains("\"overrides_standard\":true"), "{row}");
}

// ---- 2. rooted writes, formatters write only the run's outputs --------------

#[test]
fn report_through_a_committed_symlinked_folder_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (ws, home, elsewhere) = (
        tmp.path().join("ws"),
        tmp.path().join("home"),
        tmp.path().join("elsewhere"),
    );
    std::fs::create_dir_all(&ws).unwrap();
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, ws.join("reports")).unwrap();
    let out = untrusted(
        &ws,
        &home,
        &[
            "gate",
            "run",
            "command",
            "--report",
            "json=reports/run.json",
            "--grant",
            "true",
            "--",
            "true",
        ],
        &[],
    );
    assert_ne!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("symlink"), "{out:?}");
    assert!(
        std::fs::read_dir(&elsewhere).unwrap().next().is_none(),
        "wrote through the link"
    );
    // A plain folder works.
    let ok = untrusted(
        &ws,
        &home,
        &[
            "gate",
            "run",
            "command",
            "--report",
            "json=out/run.json",
            "--grant",
            "true",
            "--",
            "true",
        ],
        &[],
    );
    assert_eq!(ok.code, 0, "{ok:?}");
    assert!(ws.join("out/run.json").is_file());
}

/// A one-task repository run with the patch implementer, plan under memory-bank/plan.
fn run_repo(extra_toml: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    git_init(d);
    write(d, "src/app.py", "print('app')\n");
    write(d, "memory-bank/plan/2026-01-01_demo.md", "---\ntitle: Demo\n---\n# Plan: Demo\n\n## Tasks\n\n### T001: Add greeting\n**Summary**: Add greeting\n**Dependencies**: none\n**Files/modules touched**: greet.txt, src/app.py\n**Acceptance test**: `grep -q hello greet.txt`\n\n");
    write(d, "memory-bank/plan/patches/T001.patch", "diff --git a/greet.txt b/greet.txt\nnew file mode 100644\n--- /dev/null\n+++ b/greet.txt\n@@ -0,0 +1 @@\n+hello\n");
    write(d, "planexec.toml", &format!("[policy]\ngrant = [\"grep\", \"git\"]\n[run]\nimplementer = \"patch\"\nfinal_gates = []\n{extra_toml}"));
    tmp
}

fn commit_all(d: &Path) {
    git(d, &["add", "."]);
    git(d, &["commit", "-qm", "start"]);
}

/// planexec.toml for a run with the hostile formatter asked to write `path`.
fn run_with_evil_formatter(path: &str, content: &str) -> tempfile::TempDir {
    let repo = run_repo("");
    let rd = repo.path();
    let pack = rd.join(".pack");
    let manifest = "name = \"evil-fmt\"\nkind = \"formatter\"\nversion = \"0.0.1\"\ncomponent = \"evil-fmt.wasm\"\n";
    plugin_dir(&pack, "evil-fmt", manifest, &hostile_formatter_wasm());
    write(rd, "planexec.toml", &format!(
        "[policy]\ngrant = [\"grep\", \"git\"]\n[plugins]\ndirs = [\".pack\"]\n[run]\nimplementer = \"patch\"\nfinal_gates = []\nformatters = [\"execution-log\", \"evil-fmt\"]\n[formatters.evil-fmt]\npath = \"{path}\"\ncontent = \"{content}\"\n"
    ));
    commit_all(rd);
    repo
}

#[test]
fn a_formatter_cannot_write_git_config_or_hooks() {
    for target in [".git/config", ".git/hooks/post-commit"] {
        let repo = run_with_evil_formatter(target, "[core]\\nfsmonitor = touch pwned\\n");
        let rd = repo.path();
        let before = std::fs::read(rd.join(".git/config")).unwrap();
        let out = planexec(rd, &["run", "memory-bank/plan/2026-01-01_demo.md"]);
        assert!(
            out.all().contains("formatter `evil-fmt` errored"),
            "{target}: {out:?}"
        );
        assert!(out.all().contains("inside .git/"), "{out:?}");
        assert_eq!(
            std::fs::read(rd.join(".git/config")).unwrap(),
            before,
            "{target}"
        );
        assert!(!rd.join(".git/hooks/post-commit").exists(), "{target}");
    }
}

#[test]
fn a_formatter_cannot_rewrite_a_tasks_source_file_before_the_commit() {
    let repo = run_with_evil_formatter("src/app.py", "import os; os.system('touch pwned')\\n");
    let rd = repo.path();
    let out = planexec(rd, &["run", "memory-bank/plan/2026-01-01_demo.md"]);
    assert!(
        out.all().contains("formatter `evil-fmt` errored"),
        "{out:?}"
    );
    assert!(out.all().contains("a task's file"), "{out:?}");
    assert_eq!(
        std::fs::read_to_string(rd.join("src/app.py")).unwrap(),
        "print('app')\n"
    );
    assert!(!git(rd, &["log", "-p", "--", "src/app.py"]).contains("os.system"));
}

#[test]
fn a_formatter_cannot_write_planexec_toml_or_any_other_repository_file() {
    for (path, why) in [
        ("planexec.toml", "the configuration"),
        ("conftest.py", "not one of this run's outputs"),
    ] {
        let repo = run_with_evil_formatter(path, "x = 1\\n");
        let rd = repo.path();
        let before = std::fs::read_to_string(rd.join("planexec.toml")).unwrap();
        let out = planexec(rd, &["run", "memory-bank/plan/2026-01-01_demo.md"]);
        assert!(out.all().contains(why), "{path}: {out:?}");
        assert_eq!(
            std::fs::read_to_string(rd.join("planexec.toml")).unwrap(),
            before
        );
        assert!(!rd.join("conftest.py").exists());
        // The run's own output, the execution log, is still written.
        assert!(
            std::fs::read_dir(rd.join("memory-bank/execute"))
                .unwrap()
                .next()
                .is_some(),
            "{out:?}"
        );
    }
}

#[test]
fn the_execution_log_is_not_written_through_a_committed_symlinked_folder() {
    let repo = run_repo("");
    let rd = repo.path();
    let elsewhere = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), rd.join("memory-bank/execute")).unwrap();
    commit_all(rd);
    let out = planexec(rd, &["run", "memory-bank/plan/2026-01-01_demo.md"]);
    assert!(out.all().contains("symlink"), "{out:?}");
    assert!(
        std::fs::read_dir(elsewhere.path())
            .unwrap()
            .next()
            .is_none(),
        "the log was written through the link: {out:?}"
    );
}

// ---- 3. cache integrity -----------------------------------------------------

#[test]
fn a_tampered_cache_entry_is_recompiled_and_reported_never_loaded() {
    let cache = tempfile::tempdir().unwrap();
    let sb = || {
        Sandbox::new(SandboxOptions {
            cache_dir: Some(Some(cache.path().to_path_buf())),
            // The standard plugins through the cache, not their embedded artifacts.
            ignore_precompiled: true,
            ..Default::default()
        })
        .unwrap()
    };
    let reg = Registry::discover(&[]).unwrap();
    let load = |name: &str| {
        let p = reg.get(name).unwrap();
        sb().load(
            p,
            resolve_grants(p, &Default::default(), &[], true).unwrap(),
        )
        .unwrap()
    };
    assert_eq!(load("command").origin, Origin::Compiled);
    assert_eq!(load("pytest").origin, Origin::Compiled);
    assert_eq!(load("pytest").origin, Origin::Cache);
    let entry = |name: &str| {
        let sha = reg.get(name).unwrap().component().unwrap().1;
        std::fs::read_dir(cache.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                p.to_string_lossy().contains(&sha) && p.extension().is_some_and(|e| e == "cwasm")
            })
            .unwrap()
    };
    // A valid precompiled file of another component under pytest's name (what a
    // child process that can write the cache would plant).
    std::fs::copy(entry("command"), entry("pytest")).unwrap();
    let l = load("pytest");
    assert_eq!(
        l.origin,
        Origin::Compiled,
        "the planted entry was deserialised"
    );
    assert!(
        l.cache_warning
            .as_deref()
            .unwrap_or("")
            .contains("not the one planexec recorded"),
        "{:?}",
        l.cache_warning
    );
    assert_eq!(
        load("pytest").origin,
        Origin::Cache,
        "the rewritten entry verifies"
    );
    // A symlink in its place is not followed.
    let e = entry("pytest");
    std::fs::remove_file(&e).unwrap();
    std::os::unix::fs::symlink(entry("command"), &e).unwrap();
    let l = load("pytest");
    assert_eq!(l.origin, Origin::Compiled);
    assert!(
        l.cache_warning.as_deref().unwrap_or("").contains("symlink"),
        "{:?}",
        l.cache_warning
    );
}

#[test]
fn gate_run_reports_a_tampered_cache_entry() {
    let cache = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let c = cache.path().to_str().unwrap();
    let args = ["gate", "run", "command", "--grant", "true", "--", "true"];
    // The standard gate through the cache, not its embedded artifact.
    let env = [
        ("PLANEXEC_CACHE_DIR", c),
        ("PLANEXEC_TEST_FLIP_PRECOMPILED", "1"),
    ];
    assert_eq!(planexec_env(tmp.path(), &args, &env).code, 0);
    for e in std::fs::read_dir(cache.path()).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "cwasm") {
            std::fs::write(&p, b"not a precompiled component").unwrap();
        }
    }
    let out = planexec_env(tmp.path(), &args, &env);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("was not used"), "{out:?}");
}

/// Issue 26: a first run with an empty component cache compiles no standard plugin (they
/// come precompiled in the binary); with the build-time engine's recorded digest made
/// another engine's, they are compiled and cached, and the gate still runs.
#[test]
fn a_first_run_compiles_no_standard_plugin_and_a_foreign_artifact_falls_back() {
    if option_env!("PLANEXEC_PRECOMPILE") == Some("0") {
        return; // built without the artifacts, on purpose
    }
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("compiled.log");
    let compiled = || std::fs::read_to_string(&log).unwrap_or_default();
    let cwasm = |dir: &Path| -> Vec<PathBuf> {
        std::fs::read_dir(dir)
            .map(|d| d.map(|e| e.unwrap().path()).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .filter(|p: &PathBuf| p.extension().is_some_and(|x| x == "cwasm"))
            .collect()
    };
    let args = ["gate", "run", "command", "--grant", "true", "--", "true"];
    let (first, second) = (tmp.path().join("first"), tmp.path().join("second"));
    let log_path = log.to_str().unwrap();
    let run = |cache: &Path, flip: bool| {
        let mut e = vec![
            ("PLANEXEC_CACHE_DIR", cache.to_str().unwrap()),
            ("PLANEXEC_TEST_COMPILE_LOG", log_path),
        ];
        if flip {
            e.push(("PLANEXEC_TEST_FLIP_PRECOMPILED", "1"));
        }
        planexec_env(tmp.path(), &args, &e)
    };
    let out = run(&first, false);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(compiled(), "", "a first run compiled standard plugins");
    assert!(cwasm(&first).is_empty(), "{:?}", cwasm(&first));

    let out = run(&second, true);
    assert_eq!(out.code, 0, "the fallback still runs the gate: {out:?}");
    let reg = Registry::discover(&[]).unwrap();
    let sha = reg.get("command").unwrap().component().unwrap().1;
    assert!(compiled().contains(&sha), "{:?}", compiled());
    assert!(
        cwasm(&second)
            .iter()
            .any(|p| p.to_string_lossy().contains(&sha)),
        "the compiled gate is cached as before"
    );
}

/// A plugin folder whose component is a precompiled artifact (valid for this very engine:
/// the cache's own entry for the command gate) is compiled like any other, and refused:
/// only the binary's embedded artifacts are ever deserialized.
#[test]
fn a_plugin_folder_holding_a_precompiled_artifact_is_never_deserialized() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let log = tmp.path().join("compiled.log");
    let c = cache.to_str().unwrap();
    let env = [
        ("PLANEXEC_CACHE_DIR", c),
        ("PLANEXEC_TEST_FLIP_PRECOMPILED", "1"),
        ("PLANEXEC_TEST_COMPILE_LOG", log.to_str().unwrap()),
    ];
    let noop = ["gate", "run", "command", "--grant", "true", "--", "true"];
    assert_eq!(planexec_env(tmp.path(), &noop, &env).code, 0);
    let command = Registry::discover(&[]).unwrap();
    let command = command.get("command").unwrap().component().unwrap().1;
    let artifact = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.extension().is_some_and(|x| x == "cwasm") && p.to_string_lossy().contains(&command)
        })
        .expect("the command gate was compiled and cached");
    let manifest = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/command/plugin.toml"),
    )
    .unwrap()
    .replace("name = \"command\"", "name = \"mimic\"")
    .replace("component = \"command.wasm\"", "component = \"mimic.wasm\"");
    let pack = tmp.path().join("pack");
    plugin_dir(&pack, "mimic", &manifest, &artifact);
    std::fs::remove_file(&log).unwrap();
    let p = pack.to_str().unwrap();
    let args = [
        "gate",
        "run",
        "mimic",
        "--plugins",
        p,
        "--grant",
        "true",
        "--",
        "true",
    ];
    let out = planexec_env(tmp.path(), &args, &env);
    assert_ne!(out.code, 0, "the artifact ran: {out:?}");
    assert!(out.all().contains("mimic"), "{out:?}");
    use sha2::Digest as _;
    let sha = hex::encode(sha2::Sha256::digest(std::fs::read(&artifact).unwrap()));
    assert!(
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains(&sha),
        "it was handed to the compiler"
    );
}

// ---- 4. safe reads of inputs --------------------------------------------------

#[test]
fn planexec_toml_linked_to_proc_environ_is_refused_without_quoting_the_environment() {
    let tmp = tempfile::tempdir().unwrap();
    let (ws, home) = (tmp.path().join("ws"), tmp.path().join("home"));
    std::fs::create_dir_all(&ws).unwrap();
    std::os::unix::fs::symlink("/proc/self/environ", ws.join("planexec.toml")).unwrap();
    let out = untrusted(
        &ws,
        &home,
        &["gate", "run", "pytest"],
        &[("SECRET_TOKEN", "hunter2-secret")],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(!out.all().contains("hunter2-secret"), "leaked: {out:?}");
    assert!(out.stderr.contains("outside"), "{out:?}");
}

#[test]
fn planexec_toml_linked_to_dev_zero_or_too_large_is_refused_quickly() {
    let tmp = tempfile::tempdir().unwrap();
    let (ws, home) = (tmp.path().join("ws"), tmp.path().join("home"));
    std::fs::create_dir_all(&ws).unwrap();
    std::os::unix::fs::symlink("/dev/zero", ws.join("planexec.toml")).unwrap();
    let t = Instant::now();
    let out = untrusted(&ws, &home, &["plugins", "list"], &[]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        t.elapsed() < Duration::from_secs(20),
        "took {:?}",
        t.elapsed()
    );
    std::fs::remove_file(ws.join("planexec.toml")).unwrap();
    write(
        &ws,
        "planexec.toml",
        &format!("# {}\n", "x".repeat(2 << 20)),
    );
    let big = untrusted(&ws, &home, &["plugins", "list"], &[]);
    assert_eq!(big.code, 2, "{big:?}");
    assert!(big.stderr.contains("over the"), "{big:?}");
}

#[test]
fn a_toml_error_quotes_only_the_offending_line() {
    let tmp = tempfile::tempdir().unwrap();
    let (ws, home) = (tmp.path().join("ws"), tmp.path().join("home"));
    write(
        &ws,
        "planexec.toml",
        "# token = ghp_SECRETSECRET\n[run]\nmax_cycles = \"\x1b[2Jthree\"\n",
    );
    let out = untrusted(&ws, &home, &["plugins", "list"], &[]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("line 3"), "{out:?}");
    assert!(!out.stderr.contains("ghp_SECRET"), "{out:?}");
    assert!(!out.stderr.contains('\x1b'), "raw escape printed: {out:?}");
}

#[test]
fn plugin_toml_linked_outside_its_folder_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (ws, home) = (tmp.path().join("ws"), tmp.path().join("home"));
    std::fs::create_dir_all(&ws).unwrap();
    let pack = tmp.path().join("pack");
    let d = evil_gate(&pack, "evil", "");
    let outside = tmp.path().join("outside.toml");
    std::fs::rename(d.join("plugin.toml"), &outside).unwrap();
    std::os::unix::fs::symlink(&outside, d.join("plugin.toml")).unwrap();
    let out = untrusted(
        &ws,
        &home,
        &["plugins", "list", "--plugins", pack.to_str().unwrap()],
        &[],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("outside"), "{out:?}");
}

#[test]
fn a_plan_that_is_a_fifo_or_a_device_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("plan.md");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let t = Instant::now();
    // `timeout` so that a reader blocked on the FIFO fails the test instead of hanging it.
    let o = Command::new("timeout")
        .args(["20", env!("CARGO_BIN_EXE_planexec"), "check", "plan.md"])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("not a regular file"), "{err}");
    assert!(t.elapsed() < Duration::from_secs(15));
    std::fs::remove_file(&fifo).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &fifo).unwrap();
    let out = planexec(tmp.path(), &["check", "plan.md"]);
    assert_eq!(out.code, 2, "{out:?}");
}

#[test]
fn a_plan_linked_outside_the_repository_is_refused_unread() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    git(tmp.path(), &["init", "-q", "ws"]);
    let secret = tmp.path().join("secret.md");
    std::fs::write(&secret, "# Plan: SECRET-KEY-MATERIAL\n\n## Tasks\n").unwrap();
    std::os::unix::fs::symlink(&secret, ws.join("plan.md")).unwrap();
    std::fs::create_dir_all(ws.join("plans")).unwrap();
    std::os::unix::fs::symlink(&secret, ws.join("plans/tasks.md")).unwrap();
    for (args, what) in [
        (vec!["check", "plan.md"], "check"),
        (vec!["run", "plan.md"], "run"),
        (vec!["check", "plans"], "folder"),
    ] {
        let out = planexec(&ws, &args);
        assert_eq!(out.code, 2, "{what}: {out:?}");
        assert!(out.stderr.contains("outside"), "{what}: {out:?}");
        assert!(!out.all().contains("SECRET-KEY"), "{what}: {out:?}");
    }
}

// ---- 5. deadlines ------------------------------------------------------------

#[test]
fn a_plugin_blocked_in_a_wasi_sleep_is_stopped_at_its_deadline() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = tmp.path().join("pack");
    evil_gate(&pack, "sleeper", "timeout = \"1s\"");
    let (_sb, l) = load_evil(&pack, "sleeper", Caps::default(), &Default::default());
    let t = Instant::now();
    let r = one_gate(&l, tmp.path(), "sleep", serde_json::json!({}));
    assert_eq!(r.outcome, Outcome::Errored, "{r:?}");
    assert!(r.summary.contains("deadline"), "{}", r.summary);
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "took {:?}",
        t.elapsed()
    );
}

#[test]
fn a_manifest_timeout_over_the_policy_maximum_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (ws, home) = (tmp.path().join("ws"), tmp.path().join("home"));
    std::fs::create_dir_all(&ws).unwrap();
    let pack = tmp.path().join("pack");
    evil_gate(&pack, "forever", "timeout = \"100000h\"");
    let args = [
        "gate",
        "run",
        "forever",
        "--plugins",
        pack.to_str().unwrap(),
    ];
    let out = untrusted(&ws, &home, &args, &[]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("requests.timeout") && out.stderr.contains("max_timeout"),
        "{out:?}"
    );
    // The user's policy may raise the ceiling.
    write(
        &home,
        "planexec/config.toml",
        "[limits]\nmax_timeout = \"200000h\"\n",
    );
    let raised = untrusted(&ws, &home, &args, &[]);
    assert!(!raised.stderr.contains("max_timeout"), "{raised:?}");
}

#[test]
fn time_in_programs_a_plugin_runs_is_bounded_by_the_policy() {
    let tmp = tempfile::tempdir().unwrap();
    let (ws, home) = (tmp.path().join("ws"), tmp.path().join("home"));
    std::fs::create_dir_all(&ws).unwrap();
    let pack = tmp.path().join("pack");
    evil_gate(&pack, "runner", "commands = [\"sleep\"]\ntimeout = \"10m\"");
    write(
        &home,
        "planexec/config.toml",
        "[policy]\ngrant = [\"sleep\"]\n[limits]\nmax_exec_time = \"1s\"\n",
    );
    write(
        &ws,
        "planexec.toml",
        "[gates.runner]\nmode = \"exec\"\nargv = \"sleep 60\"\n",
    );
    let t = Instant::now();
    let out = untrusted(
        &ws,
        &home,
        &[
            "gate",
            "run",
            "runner",
            "--format",
            "json",
            "--plugins",
            pack.to_str().unwrap(),
        ],
        &[],
    );
    assert!(
        t.elapsed() < Duration::from_secs(20),
        "took {:?}: {out:?}",
        t.elapsed()
    );
    let r = gate_report(&out);
    assert!(
        r["summary"].as_str().unwrap().contains("timed_out true"),
        "{r}"
    );
}

// ---- 6. output hygiene ---------------------------------------------------------

#[test]
fn escapes_and_workflow_commands_from_a_plugin_never_reach_the_terminal_or_ci() {
    let tmp = tempfile::tempdir().unwrap();
    let (ws, home) = (tmp.path().join("ws"), tmp.path().join("home"));
    std::fs::create_dir_all(&ws).unwrap();
    let pack = tmp.path().join("pack");
    evil_gate(&pack, "noisy", "");
    write(
        &home,
        "planexec/config.toml",
        &format!("[plugins]\ndirs = [\"{}\"]\n", pack.display()),
    );
    write(&ws, "planexec.toml", "[gates.noisy]\nmode = \"escapes\"\n");
    let summary = tmp.path().join("summary.md");
    for json in [false, true] {
        let mut args = vec!["gate", "run", "noisy"];
        if json {
            args.extend(["--format", "json"]);
        }
        let out = untrusted(
            &ws,
            &home,
            &args,
            &[
                ("GITHUB_ACTIONS", "true"),
                ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
            ],
        );
        let all = out.all();
        assert!(
            !all.contains('\x1b') && !all.contains('\x07'),
            "raw escapes: {out:?}"
        );
        for line in all.lines() {
            let l = line.trim_start();
            assert!(!l.starts_with("::stop-commands"), "{line}");
            assert!(
                !l.starts_with("::error::"),
                "a workflow command from plugin text: {line}"
            );
            assert!(!l.starts_with("::warning::"), "{line}");
        }
        assert!(all.contains("all gates passed"), "{out:?}");
    }
}

#[test]
fn the_log_import_is_capped() {
    let tmp = tempfile::tempdir().unwrap();
    let (ws, home) = (tmp.path().join("ws"), tmp.path().join("home"));
    std::fs::create_dir_all(&ws).unwrap();
    let pack = tmp.path().join("pack");
    evil_gate(&pack, "flood", "");
    write(
        &ws,
        "planexec.toml",
        "[gates.flood]\nmode = \"log-flood\"\n",
    );
    let out = untrusted(
        &ws,
        &home,
        &["gate", "run", "flood", "--plugins", pack.to_str().unwrap()],
        &[],
    );
    assert_eq!(out.code, 0, "{}", &out.stderr[..out.stderr.len().min(500)]);
    assert!(
        out.stderr.len() < 2 << 20,
        "{} bytes of log on stderr",
        out.stderr.len()
    );
    assert!(
        out.stderr.contains("log over the host's cap"),
        "no cap note"
    );
}

#[test]
fn a_million_empty_findings_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = tmp.path().join("pack");
    evil_gate(&pack, "many", "memory = \"512MiB\"");
    let (_sb, l) = load_evil(&pack, "many", Caps::default(), &Default::default());
    let r = one_gate(&l, tmp.path(), "many-findings", serde_json::json!({}));
    assert_eq!(r.outcome, Outcome::Errored, "{:?}", r.summary);
    assert!(
        r.summary.contains("1000000 findings, over the host's cap"),
        "{}",
        r.summary
    );
}

// ---- 7. scratch ------------------------------------------------------------------

#[test]
fn scratch_is_private_and_has_a_quota() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = tmp.path().join("pack");
    evil_gate(&pack, "filler", "commands = [\"stat\"]\ntimeout = \"30s\"");
    let policy = planexec::config::Policy {
        grant: vec![planexec::plugins::GrantEntry::Text("stat".into())],
        ..Default::default()
    };
    let caps = Caps {
        scratch: 8 << 20,
        ..Default::default()
    };
    let (_sb, l) = load_evil(&pack, "filler", caps, &policy);
    let r = one_gate(&l, tmp.path(), "fill-scratch", serde_json::json!({}));
    assert_eq!(r.outcome, Outcome::Errored, "{r:?}");
    assert!(r.summary.contains("scratch quota"), "{}", r.summary);
    // Its mode, seen by a program the plugin runs (through the binary: the box
    // helper sits beside it).
    let ws = tmp.path().join("ws");
    write(&ws, "planexec.toml", "[policy]\ngrant = [\"stat\"]\n[gates.filler]\nmode = \"exec\"\nargv = \"stat -c %a {scratch}\"\n");
    let pack = tmp.path().join("pack");
    let out = planexec(
        &ws,
        &[
            "gate",
            "run",
            "filler",
            "--format",
            "json",
            "--plugins",
            pack.to_str().unwrap(),
        ],
    );
    let r = gate_report(&out);
    assert_eq!(r["evidence"].as_str().unwrap().trim(), "700", "{out:?}");
}

fn scratch_dirs(tmp: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(tmp)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("planexec-scratch-")
        })
        .collect()
}

#[test]
fn sigterm_removes_the_scratch_of_a_running_call() {
    let tmp = tempfile::tempdir().unwrap();
    let (ws, home, tdir) = (
        tmp.path().join("ws"),
        tmp.path().join("home"),
        tmp.path().join("tmp"),
    );
    std::fs::create_dir_all(&ws).unwrap();
    std::fs::create_dir_all(&tdir).unwrap();
    let pack = tmp.path().join("pack");
    evil_gate(&pack, "holder", "timeout = \"2m\"");
    write(
        &ws,
        "planexec.toml",
        "[gates.holder]\nmode = \"hold-scratch\"\n",
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_planexec"))
        .args(["gate", "run", "holder", "--plugins", pack.to_str().unwrap()])
        .current_dir(&ws)
        .env("PLANEXEC_CACHE_DIR", cache_dir())
        .env("XDG_CONFIG_HOME", &home)
        .env("TMPDIR", &tdir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while !scratch_dirs(&tdir).iter().any(|d| d.join("held").exists()) {
        assert!(t.elapsed() < Duration::from_secs(60), "no scratch appeared");
        std::thread::sleep(Duration::from_millis(50));
    }
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let st = child.wait().unwrap();
    assert!(!st.success());
    assert!(
        scratch_dirs(&tdir).is_empty(),
        "left behind: {:?}",
        scratch_dirs(&tdir)
    );
}

#[test]
fn stale_scratch_of_dead_planexec_processes_is_removed_at_start_up() {
    let tmp = tempfile::tempdir().unwrap();
    let tdir = tmp.path().join("tmp");
    std::fs::create_dir_all(&tdir).unwrap();
    let mut gone = Command::new("true").spawn().unwrap();
    let dead = gone.id();
    gone.wait().unwrap();
    let stale = tdir.join(format!("planexec-scratch-{dead}-abc"));
    let live = tdir.join(format!("planexec-scratch-{}-def", std::process::id()));
    write(&stale, "junk", "x");
    write(&live, "junk", "x");
    let out = planexec_env(
        tmp.path(),
        &["plugins", "list"],
        &[("TMPDIR", tdir.to_str().unwrap())],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(!stale.exists(), "stale scratch kept");
    assert!(live.exists(), "a live process's scratch was removed");
}

// ---- 8. manifests that lie ---------------------------------------------------

#[test]
fn a_component_behind_a_symlinked_subfolder_or_link_out_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (ws, home) = (tmp.path().join("ws"), tmp.path().join("home"));
    std::fs::create_dir_all(&ws).unwrap();
    let pack = tmp.path().join("pack");
    let d = pack.join("sneaky");
    std::fs::create_dir_all(&d).unwrap();
    let outside = tmp.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::copy(host_hostile_wasm(), outside.join("x.wasm")).unwrap();
    std::os::unix::fs::symlink(&outside, d.join("sub")).unwrap();
    write(
        &d,
        "plugin.toml",
        "name = \"sneaky\"\nkind = \"gate\"\ncomponent = \"sub/x.wasm\"\n",
    );
    let out = untrusted(
        &ws,
        &home,
        &["plugins", "list", "--plugins", pack.to_str().unwrap()],
        &[],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("must be a file name beside plugin.toml"),
        "{out:?}"
    );
    std::os::unix::fs::symlink(outside.join("x.wasm"), d.join("x.wasm")).unwrap();
    write(
        &d,
        "plugin.toml",
        "name = \"sneaky\"\nkind = \"gate\"\ncomponent = \"x.wasm\"\n",
    );
    let out = untrusted(
        &ws,
        &home,
        &["plugins", "list", "--plugins", pack.to_str().unwrap()],
        &[],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("outside"), "{out:?}");
}

#[test]
fn control_characters_in_manifest_fields_are_refused_and_never_printed_raw() {
    let tmp = tempfile::tempdir().unwrap();
    let (ws, home) = (tmp.path().join("ws"), tmp.path().join("home"));
    std::fs::create_dir_all(&ws).unwrap();
    let pack = tmp.path().join("pack");
    let manifest = "name = \"ctl\"\nkind = \"gate\"\ndescription = \"\\u001b]52;c;ZXZpbA==\\u0007 fine\"\ncomponent = \"ctl.wasm\"\n";
    plugin_dir(&pack, "ctl", manifest, &host_hostile_wasm());
    let out = untrusted(
        &ws,
        &home,
        &["plugins", "list", "--plugins", pack.to_str().unwrap()],
        &[],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("control characters"), "{out:?}");
    assert!(!out.all().contains('\x1b'), "{out:?}");
}
