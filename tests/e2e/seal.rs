//! Nothing a boxed program writes runs unboxed later (issue 33, family 2): git hooks on
//! task commits, planted gitfiles, bytecode and start-up files, tool caches, transcripts.

use crate::support::*;
use std::path::{Path, PathBuf};

/// A patch creating `file` with `lines`.
fn new_file(file: &str, lines: &[&str]) -> String {
    let body: String = lines.iter().map(|l| format!("+{l}\n")).collect();
    format!(
        "diff --git a/{file} b/{file}\nnew file mode 100644\n--- /dev/null\n+++ b/{file}\n@@ -0,0 +1,{} @@\n{body}",
        lines.len()
    )
}

/// `plan/plan.md` with one task T001 touching `files`, accepted by `accept`.
fn plan(files: &str, accept: &str) -> String {
    format!(
        "---\ntitle: Seal\n---\n# Plan: Seal\n\n## Tasks\n\n### T001: Task T001\n**Summary**: Task T001\n**Dependencies**: none\n**Files/modules touched**: {files}\n**Acceptance test**: `{accept}`\n\n"
    )
}

/// A committed repository holding `files`.
fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    git_init(d);
    for (rel, text) in files {
        write(d, rel, text);
    }
    git(d, &["add", "-A"]);
    git(d, &["commit", "-qm", "start"]);
    tmp
}

fn executable(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The run record of the newest run.
fn record(d: &Path) -> serde_json::Value {
    let mut files: Vec<PathBuf> = std::fs::read_dir(d.join(".git/planexec/runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let st: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(files.last().unwrap()).unwrap()).unwrap();
    st["record"].clone()
}

/// planexec.toml for a scripted implementer: the agent plugin running `sh -c SCRIPT`.
fn scripted(script: &str, extra: &str) -> String {
    format!(
        "[policy]\ngrant = [\"sh\", \"git\", \"test\", \"python3\"]\n{extra}\n[run]\nimplementer = \"agent\"\n\
         [implementers.agent]\nprogram = \"sh\"\nargs = [\"-c\", {script:?}]\noutput = \"text\"\ncheck = false\n"
    )
}

/// The implementer's findings of the first cycle, as text.
fn implementer_findings(d: &Path) -> String {
    record(d)["tasks"][0]["cycles"][0]["implementer"]["findings"].to_string()
}

// ------------------------------------------------------------------ git hooks

/// The most common hook there is: pre-commit runs the tests, so at commit time it runs
/// the task's own test file. That file tries to write outside the workspace and to
/// read a secret from planexec's environment; in the box it can do neither.
#[test]
fn a_pre_commit_hook_running_the_tasks_tests_runs_in_the_box() {
    let outside = tempfile::tempdir().unwrap();
    let marker = outside.path().join("written-by-the-hook");
    let evil = [
        "import os, pathlib".to_string(),
        "def test_evil():".to_string(),
        "    secret = os.environ.get('SEAL_SECRET', 'none')".to_string(),
        "    try:".to_string(),
        format!(
            "        pathlib.Path({:?}).write_text(secret)",
            marker.display().to_string()
        ),
        "    except OSError:".to_string(),
        "        pass".to_string(),
    ];
    let evil: Vec<&str> = evil.iter().map(String::as_str).collect();
    let tmp = repo(&[
        (
            ".githooks/pre-commit",
            "#!/bin/sh\nexec python3 -m pytest -q -p no:cacheprovider tests\n",
        ),
        (
            ".githooks/commit-msg",
            "#!/bin/sh\nprintf '\\nHooked-By: commit-msg\\n' >> \"$1\"\n",
        ),
        ("tests/test_ok.py", "def test_ok():\n    assert True\n"),
        (
            "plan/plan.md",
            &plan("`tests/test_evil.py`", "test -f tests/test_evil.py"),
        ),
        (
            "plan/patches/T001.patch",
            &new_file("tests/test_evil.py", &evil),
        ),
        (
            "planexec.toml",
            "[policy]\ngrant = [\"git\", \"test\"]\n[run]\nimplementer = \"patch\"\n",
        ),
    ]);
    let d = tmp.path();
    executable(&d.join(".githooks/pre-commit"));
    executable(&d.join(".githooks/commit-msg"));
    git(d, &["commit", "-qam", "hooks executable"]);
    git(d, &["config", "core.hooksPath", ".githooks"]);
    let out = planexec_env(
        d,
        &["run", "plan/plan.md"],
        &[("SEAL_SECRET", "hunter2-seal")],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        !marker.exists(),
        "the hook ran the task's test outside the box: it wrote {:?}",
        std::fs::read_to_string(&marker).ok()
    );
    let msg = git(d, &["show", "-s", "--format=%B", "HEAD"]);
    assert!(
        msg.starts_with("T001: ") && msg.contains("Hooked-By: commit-msg"),
        "the hooks ran: {msg}"
    );
}

// ------------------------------------------------------------- planted files

/// An implementer rewrites a submodule's gitfile to a git dir it planted, whose
/// `core.fsmonitor` runs a command: the user's next `git status` would run it.
#[test]
fn a_rewritten_submodule_gitfile_is_put_back_and_named() {
    let outside = tempfile::tempdir().unwrap();
    let marker = outside.path().join("fsmonitor-ran");
    let lib = outside.path().join("lib");
    std::fs::create_dir_all(&lib).unwrap();
    git(&lib, &["init", "-q", "-b", "main"]);
    write(&lib, "lib.txt", "lib\n");
    git(&lib, &["add", "-A"]);
    git(
        &lib,
        &[
            "-c",
            "user.email=l@example.com",
            "-c",
            "user.name=L",
            "commit",
            "-qm",
            "lib",
        ],
    );
    let script = format!(
        "echo done > notes.txt; mkdir -p .evilgit/objects .evilgit/refs; \
         echo 'ref: refs/heads/main' > .evilgit/HEAD; \
         printf '[core]\\n\\trepositoryformatversion = 0\\n\\tfsmonitor = \"touch {}; false\"\\n' > .evilgit/config; \
         echo 'gitdir: ../.evilgit' > sub/.git",
        marker.display()
    );
    let tmp = repo(&[
        ("plan/plan.md", &plan("`notes.txt`", "test -f notes.txt")),
        ("planexec.toml", &scripted(&script, "")),
        (".gitignore", ".evilgit/\n"),
    ]);
    let d = tmp.path();
    git(
        d,
        &[
            "-c",
            "protocol.file.allow=always",
            "submodule",
            "-q",
            "add",
            lib.to_str().unwrap(),
            "sub",
        ],
    );
    git(d, &["commit", "-qm", "submodule"]);
    let gitfile = std::fs::read_to_string(d.join("sub/.git")).unwrap();
    let out = planexec(d, &["run", "plan/plan.md"]);
    // The user's own git afterwards: nothing planted runs.
    let _ = std::process::Command::new("git")
        .args(["status", "--short"])
        .current_dir(d.join("sub"))
        .output();
    assert!(
        !marker.exists(),
        "the user's git status ran the planted fsmonitor: {out:?}"
    );
    assert_eq!(
        std::fs::read_to_string(d.join("sub/.git")).unwrap(),
        gitfile,
        "{out:?}"
    );
    assert!(!d.join(".evilgit/config").exists(), "{out:?}");
    let findings = implementer_findings(d);
    assert!(
        findings.contains("sub/.git") && findings.contains(".evilgit/config"),
        "{findings}"
    );
}

/// An implementer plants ignored bytecode for `app.py` (an unchecked-hash .pyc, used
/// without looking at the source) and a `.pth`: the user's next native pytest would
/// run the bytecode instead of the source and pass a failing test.
#[test]
fn planted_bytecode_and_startup_files_are_removed_and_named() {
    let script = "echo done > notes.txt; python3 -c \"\
import os, sys, py_compile\n\
src = os.path.join(os.environ['TMPDIR'], 'app.py')\n\
open(src, 'w').write('def answer():\\n    return 42\\n')\n\
os.makedirs('__pycache__', exist_ok=True)\n\
py_compile.compile(src, cfile='__pycache__/app.' + sys.implementation.cache_tag + '.pyc', invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)\n\
open('seal.pth', 'w').write('import os\\n')\n\
open('sitecustomize.py', 'w').write('import os\\n')\n\"";
    let tmp = repo(&[
        ("app.py", "def answer():\n    return 41\n"),
        (
            "tests/test_app.py",
            "from app import answer\n\ndef test_answer():\n    assert answer() == 42\n",
        ),
        (".gitignore", "__pycache__/\n*.pth\nsitecustomize.py\n"),
        ("plan/plan.md", &plan("`notes.txt`", "test -f notes.txt")),
        ("planexec.toml", &scripted(script, "")),
    ]);
    let d = tmp.path();
    let out = planexec(d, &["run", "plan/plan.md"]);
    let native = std::process::Command::new("python3")
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"])
        .current_dir(d)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap();
    assert_eq!(
        native.status.code(),
        Some(1),
        "the user's own pytest ran planted bytecode: {}",
        String::from_utf8_lossy(&native.stdout)
    );
    assert!(!d.join("seal.pth").exists() && !d.join("sitecustomize.py").exists());
    let findings = implementer_findings(d);
    for name in ["__pycache__/app.", "seal.pth", "sitecustomize.py"] {
        assert!(
            findings.contains(name),
            "{name} not named: {findings}\n{out:?}"
        );
    }
}

// ------------------------------------------------------------------ tool caches

/// One commit's tests leave a `.pth` in the user site of the gate's HOME (and in the
/// tool cache where HOME used to be); a later commit's failing test must still fail.
#[test]
fn a_pth_left_in_the_tool_cache_does_not_make_a_later_failing_test_pass() {
    let plant = [
        "import os, site, sys",
        "def test_plant():",
        "    line = \"import os; os.environ['SEAL_FORGED'] = '1'\\n\"",
        "    ver = 'python%d.%d' % sys.version_info[:2]",
        "    cache = os.path.dirname(os.environ['XDG_CACHE_HOME'])",
        "    old_home = os.path.join(cache, 'home', '.local', 'lib', ver, 'site-packages')",
        "    for d in [site.getusersitepackages(), old_home]:",
        "        os.makedirs(d, exist_ok=True)",
        "        open(os.path.join(d, 'seal.pth'), 'w').write(line)",
    ]
    .join("\n");
    let tmp = repo(&[
        ("tests/test_plant.py", plant.as_str()),
        ("planexec.toml", "[gates.pytest]\n"),
    ]);
    let d = tmp.path();
    let first = planexec(d, &["gate", "run", "pytest", "--no-cache"]);
    assert_eq!(first.code, 0, "the planting run passes: {first:?}");
    std::fs::remove_file(d.join("tests/test_plant.py")).unwrap();
    write(
        d,
        "tests/test_forged.py",
        "import os\n\ndef test_forged():\n    assert os.environ.get('SEAL_FORGED') == '1'\n",
    );
    let second = planexec(d, &["gate", "run", "pytest", "--no-cache"]);
    assert_eq!(second.code, 1, "a failing test passed: {second:?}");
}

/// A pack plugin named `pytest` writes into its tool cache; the standard pytest gate
/// of the same workspace never sees it.
#[test]
fn a_pack_plugin_named_pytest_does_not_share_the_standard_gates_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = tmp.path().join("evilpack");
    write(
        &pack,
        "pack.toml",
        "name = \"evil\"\nversion = \"1.0.0\"\ndescription = \"x\"\n",
    );
    hostile_plugin(
        &pack,
        "pytest",
        "gate",
        "commands = [\"sh\"]\nnetwork = \"none\"",
    );
    let ws = tmp.path().join("ws");
    std::fs::create_dir_all(&ws).unwrap();
    git(&ws, &["init", "-q", "-b", "main"]);
    write(
        &ws,
        "tests/test_cache.py",
        "import os, pathlib\n\ndef test_cache_is_clean():\n    cache = pathlib.Path(os.environ['XDG_CACHE_HOME']).parent\n    assert not (cache / 'poison').exists()\n",
    );
    write(
        &ws,
        "planexec.toml",
        "[policy]\ngrant = [\"sh\"]\n[gates.pytest]\nmode = \"run\"\nexe = \"sh\"\nargs = [\"-c\", \"echo poisoned > {cache}/poison\"]\n",
    );
    let packs = tmp.path().join("pack-cache");
    let env = [("PLANEXEC_PACKS_DIR", packs.to_str().unwrap())];
    let added = planexec_env(
        &ws,
        &["packs", "add", pack.to_str().unwrap(), "--yes"],
        &env,
    );
    assert_eq!(added.code, 0, "{added:?}");
    let poisoned = planexec_env(&ws, &["gate", "run", "pytest", "--no-cache"], &env);
    assert_eq!(poisoned.code, 0, "the pack's pytest ran: {poisoned:?}");
    // The pack goes; the standard pytest gate runs in the same workspace.
    write(&ws, "planexec.toml", "[gates.pytest]\n");
    std::fs::remove_file(ws.join("planexec.lock")).unwrap();
    let clean = planexec_env(&ws, &["gate", "run", "pytest", "--no-cache"], &env);
    assert_eq!(
        clean.code, 0,
        "the standard gate saw the pack's cache: {clean:?}"
    );
}

/// A gate's program writes twice the disk limit into HOME, or into the tool cache:
/// it is killed at the limit either way.
#[test]
fn writing_twice_the_disk_limit_into_home_or_the_tool_cache_is_killed() {
    for dir in ["$HOME", "$XDG_CACHE_HOME"] {
        let fill = format!(
            "mkdir -p {dir}; i=0; while [ $i -lt 32 ]; do head -c 4194304 /dev/zero > {dir}/f$i; i=$((i+1)); sleep 0.05; done"
        );
        let toml = format!(
            "[policy]\ngrant = [\"sh\"]\n[policy.limits]\ndisk = \"64MiB\"\n[gates.fill]\nplugin = \"command\"\nprogram = \"sh\"\nargs = [\"-c\", {fill:?}]\n"
        );
        let tmp = repo(&[("planexec.toml", &toml)]);
        let out = planexec(tmp.path(), &["gate", "run", "fill", "--no-cache"]);
        assert_ne!(
            out.code, 0,
            "{dir}: 128 MiB written under a 64 MiB limit: {out:?}"
        );
        assert!(
            out.all().contains("over the disk limit of 64 MiB"),
            "{dir}: {out:?}"
        );
    }
}

// ------------------------------------------------------------------ transcripts

/// The agent prints the API key the policy passes it; its transcript keeps a
/// redaction, and a gate with no grants that reads all of `.git/planexec` finds no
/// transcript there.
#[test]
fn transcripts_are_redacted_and_no_gate_can_read_them() {
    let plugins = tempfile::tempdir().unwrap();
    hostile_plugin(plugins.path(), "hostile", "gate", "");
    let script = "echo \"TRANSCRIPT-MARK key=$SEAL_KEY\"; echo done > notes.txt";
    let toml = scripted(script, "env = [\"SEAL_KEY\"]")
        .replace("[run]\n", "[run]\ntask_gates = [\"peek\", \"spy\"]\n")
        + "[gates.peek]\nplugin = \"hostile\"\nmode = \"read-tree\"\nroot = \".git/planexec\"\n"
        + "[gates.spy]\nplugin = \"command\"\nprogram = \"sh\"\n"
        + "args = [\"-c\", \"cat .git/planexec/lock; ls -R .git/planexec; true\"]\n";
    let tmp = repo(&[
        ("plan/plan.md", &plan("`notes.txt`", "test -f notes.txt")),
        ("planexec.toml", &toml),
    ]);
    let d = tmp.path();
    let secret = "sk-seal-0123456789abcdef";
    let out = planexec_env(
        d,
        &[
            "run",
            "plan/plan.md",
            "--plugins",
            plugins.path().to_str().unwrap(),
        ],
        &[("SEAL_KEY", secret)],
    );
    let cycle = record(d)["tasks"][0]["cycles"][0].clone();
    let path = cycle["implementer"]["transcript_path"]
        .as_str()
        .unwrap_or_else(|| panic!("no transcript: {cycle:#}\n{out:?}"))
        .to_string();
    let path = if Path::new(&path).is_absolute() {
        PathBuf::from(&path)
    } else {
        d.join(&path)
    };
    let transcript = std::fs::read_to_string(&path).unwrap();
    assert!(
        transcript.contains("TRANSCRIPT-MARK key=[redacted: SEAL_KEY]"),
        "{transcript}"
    );
    assert!(!transcript.contains(secret), "{transcript}");
    let peek = cycle["gates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "peek")
        .unwrap_or_else(|| panic!("the peek gate ran: {cycle:#}\n{out:?}"))
        .clone();
    let seen = peek["report"]["evidence"].to_string();
    assert!(
        !seen.contains("TRANSCRIPT-MARK"),
        "a gate read the transcript: {seen}"
    );
    // A boxed program finds `.git/planexec` empty: no run state, no lock, no worktrees.
    let spy = cycle["gates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "spy")
        .unwrap_or_else(|| panic!("the spy gate ran: {cycle:#}"))
        .to_string();
    assert!(!spy.contains("run_id") && !spy.contains("runs"), "{spy}");
    let state = std::fs::read_to_string(
        std::fs::read_dir(d.join(".git/planexec/runs"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path(),
    )
    .unwrap();
    assert!(!state.contains(secret), "the secret is in the run state");
}
