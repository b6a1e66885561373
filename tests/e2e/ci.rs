//! Issue 25: the workflow `planexec ci github` prints, executed. Its YAML is parsed and
//! each job's `run` steps run with bash, as GitHub Actions runs them (`bash -eo pipefail`,
//! the job's env, `if: always()`), in a fresh clone of a fixture repository; `uses:`
//! steps get their effect from the test (checkout: the clone; artifacts and the cache:
//! folders). The install step is the documented `--install` override, copying this
//! build's binaries onto PATH.

use crate::support::*;
use serde_yaml::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const SHARDS: u32 = 2;

/// A Python project with pytest, mypy and black gates and a `command` gate that runs only
/// when planexec.toml is trusted, pushed to a bare `origin`. Returns (origin, main's sha).
fn origin(tmp: &Path) -> (PathBuf, String) {
    let work = tmp.join("work");
    std::fs::create_dir_all(&work).unwrap();
    git(&work, &["init", "-q", "-b", "main"]);
    git(&work, &["config", "user.email", "dev@example.com"]);
    git(&work, &["config", "user.name", "Dev"]);
    write(
        &work,
        "pyproject.toml",
        "[tool.pytest.ini_options]\ntestpaths = [\"tests\"]\n\n[tool.mypy]\nstrict = true\n\n[tool.black]\n",
    );
    write(&work, "src/__init__.py", "");
    write(
        &work,
        "src/calc.py",
        "def add(a: int, b: int) -> int:\n    return a + b\n",
    );
    write(&work, "tests/__init__.py", "");
    for i in 1..=4 {
        write(
            &work,
            &format!("tests/test_calc_{i}.py"),
            &format!("from src.calc import add\n\n\ndef test_add_{i}() -> None:\n    assert add({i}, 1) == {}\n", i + 1),
        );
    }
    write(&work, "tools/check.py", "print(\"project check: ok\")\n");
    write(
        &work,
        "planexec.toml",
        "[policy]\ngrant = [\"python3\"]\n\n[gates.pytest]\n\n[gates.mypy]\npaths = [\"src\"]\n\n[gates.black]\npaths = [\"src\", \"tests\"]\n\n\
         [gates.check]\nplugin = \"command\"\ncommand = \"python3 tools/check.py\"\n",
    );
    write(
        &work,
        ".github/planexec-policy.toml",
        "[policy]\ngrant = [\"python3\"]\n",
    );
    git(&work, &["add", "."]);
    git(&work, &["commit", "-qm", "project"]);
    let bare = tmp.join("origin.git");
    git(
        tmp,
        &[
            "clone",
            "-q",
            "--bare",
            work.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    let sha = git(&work, &["rev-parse", "HEAD"]).trim().to_string();
    (bare, sha)
}

/// Where a job runs: its clone, its runner's folders, and the values of the expressions.
struct Runner {
    dir: PathBuf,
    env: Vec<(String, String)>,
    exprs: BTreeMap<&'static str, String>,
    /// Uploaded artifacts (`<name>/<files>`) and the durations cache, shared by the jobs.
    artifacts: PathBuf,
    cache: PathBuf,
}

/// A fresh runner for one job: a clone of `origin` at `commit`, an empty user config
/// (nothing trusted), `RUNNER_TEMP`, a job summary file and this build's binaries on PATH
/// once the install step copied them to `bin`.
fn runner(tmp: &Path, name: &str, origin: &Path, commit: &str, base: &str, shard: u32) -> Runner {
    let root = tmp.join(name);
    let dir = root.join("ws");
    let url = format!("file://{}", origin.display());
    git(tmp, &["clone", "-q", &url, dir.to_str().unwrap()]);
    git(&dir, &["checkout", "-q", commit]);
    for d in ["bin", "config", "temp", "results"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    let path = format!(
        "{}:{}",
        root.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let s = |p: PathBuf| p.to_string_lossy().into_owned();
    let mut env = vec![
        ("PATH".to_string(), path),
        ("CI".into(), "true".into()),
        ("GITHUB_ACTIONS".into(), "true".into()),
        ("GITHUB_STEP_SUMMARY".into(), s(root.join("summary.md"))),
        ("RUNNER_TEMP".into(), s(root.join("temp"))),
        ("XDG_CONFIG_HOME".into(), s(root.join("config"))),
        ("PLANEXEC_TEST_BIN".into(), s(root.join("bin"))),
        ("PLANEXEC_RESULT_CACHE".into(), s(root.join("results"))),
        ("PLANEXEC_CACHE_DIR".into(), s(cache_dir())),
        (
            "PLANEXEC_TOOL_CACHE".into(),
            s(target_dir().join("test-tool-cache")),
        ),
        // What actions/setup-python gives a job: a Python pip installs into. This
        // machine's may be the system's, marked externally managed (PEP 668, Debian).
        ("PIP_BREAK_SYSTEM_PACKAGES".into(), "1".into()),
    ];
    for k in ["HOME", "LANG", "RUSTUP_HOME", "CARGO_HOME", "PYENV_ROOT"] {
        if let Ok(v) = std::env::var(k) {
            env.push((k.into(), v));
        }
    }
    let exprs = BTreeMap::from([
        ("matrix.shard", shard.to_string()),
        ("github.run_id", "4242".to_string()),
        (
            "github.event.pull_request.base.sha || github.sha",
            base.to_string(),
        ),
    ]);
    Runner {
        dir,
        env,
        exprs,
        artifacts: tmp.join("artifacts"),
        cache: tmp.join("actions-cache"),
    }
}

impl Runner {
    /// `text` with every `${{ expr }}` replaced; an expression the test does not know fails it.
    fn expand(&self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(i) = rest.find("${{") {
            out.push_str(&rest[..i]);
            let end = rest[i..].find("}}").expect("closed expression") + i;
            let expr = rest[i + 3..end].trim();
            let v = self
                .exprs
                .get(expr)
                .unwrap_or_else(|| panic!("the test does not know `{expr}`"));
            out.push_str(v);
            rest = &rest[end + 2..];
        }
        out.push_str(rest);
        out
    }

    /// Runs the job's steps; the log of each and whether the job failed.
    fn run_job(&self, job: &Value) -> (bool, String) {
        let mut failed = false;
        let mut log = String::new();
        let mut job_env = self.env.clone();
        for (k, v) in mapping(&job["env"]) {
            job_env.push((k, self.expand(&v)));
        }
        for step in job["steps"].as_sequence().expect("steps") {
            let always = step["if"].as_str() == Some("always()");
            if failed && !always {
                continue;
            }
            let name = step["name"]
                .as_str()
                .or(step["uses"].as_str())
                .unwrap_or("?");
            log.push_str(&format!("=== {name}\n"));
            let ok = match (step["uses"].as_str(), step["run"].as_str()) {
                (Some(action), None) => {
                    self.action(action, &step["with"]);
                    true
                }
                (None, Some(script)) => {
                    let mut env = job_env.clone();
                    for (k, v) in mapping(&step["env"]) {
                        env.push((k, self.expand(&v)));
                    }
                    self.bash(&self.expand(script), &env, &mut log)
                }
                _ => panic!("a step either uses an action or runs a script: {step:?}"),
            };
            failed |= !ok;
        }
        (failed, log)
    }

    /// GitHub Actions' default shell for `run` on Linux.
    fn bash(&self, script: &str, env: &[(String, String)], log: &mut String) -> bool {
        let file = self.dir.parent().unwrap().join("step.sh");
        std::fs::write(&file, script).unwrap();
        let o = Command::new("bash")
            .args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&file)
            .current_dir(&self.dir)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .output()
            .expect("bash runs");
        log.push_str(&String::from_utf8_lossy(&o.stdout));
        log.push_str(&String::from_utf8_lossy(&o.stderr));
        log.push_str(&format!("--- exit {:?}\n", o.status.code()));
        o.status.success()
    }

    /// What an action the workflow uses does, done with folders.
    fn action(&self, action: &str, with: &Value) {
        let arg = |k: &str| with[k].as_str().map(|v| self.expand(v));
        let name = action.split('@').next().unwrap();
        match name {
            "actions/checkout" | "actions/setup-python" => {}
            "actions/cache/restore" => {
                let p = arg("path").unwrap();
                if self.cache.join(&p).is_file() {
                    std::fs::copy(self.cache.join(&p), self.dir.join(&p)).unwrap();
                }
            }
            "actions/cache/save" => {
                let p = arg("path").unwrap();
                if self.dir.join(&p).is_file() {
                    std::fs::create_dir_all(&self.cache).unwrap();
                    std::fs::copy(self.dir.join(&p), self.cache.join(&p)).unwrap();
                }
            }
            "actions/upload-artifact" => {
                let to = self.artifacts.join(arg("name").unwrap());
                std::fs::create_dir_all(&to).unwrap();
                for p in arg("path").unwrap().lines().map(str::trim) {
                    let from = self.dir.join(p);
                    if from.is_file() {
                        std::fs::copy(&from, to.join(p)).unwrap();
                    }
                }
            }
            "actions/download-artifact" => {
                let prefix = arg("pattern").unwrap().trim_end_matches('*').to_string();
                assert_eq!(with["merge-multiple"].as_bool(), Some(true));
                let to = self.dir.join(arg("path").unwrap());
                std::fs::create_dir_all(&to).unwrap();
                for e in std::fs::read_dir(&self.artifacts).unwrap().flatten() {
                    if e.file_name().to_string_lossy().starts_with(&prefix) {
                        copy_tree(&e.path(), &to);
                    }
                }
            }
            other => panic!("the test does not know the action {other}"),
        }
    }
}

fn mapping(v: &Value) -> Vec<(String, String)> {
    v.as_mapping()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) => s.clone(),
                        other => serde_yaml::to_string(other).unwrap().trim().to_string(),
                    };
                    (k.as_str().unwrap().to_string(), v)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The workflow for the fixture, with this build's binaries as the install step.
fn workflow(tmp: &Path, origin: &Path) -> (Value, Out) {
    let gen = tmp.join("gen");
    git(
        tmp,
        &[
            "clone",
            "-q",
            origin.to_str().unwrap(),
            gen.to_str().unwrap(),
        ],
    );
    let install = format!(
        "cp {} {} \"$PLANEXEC_TEST_BIN/\"",
        env!("CARGO_BIN_EXE_planexec"),
        env!("CARGO_BIN_EXE_planexec-box")
    );
    let out = planexec(
        &gen,
        &[
            "ci",
            "github",
            "--shards",
            &SHARDS.to_string(),
            "--install",
            &install,
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let w: Value =
        serde_yaml::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout));
    (w, out)
}

#[test]
fn the_generated_workflow_runs_its_shards_and_merges_them() {
    let tmp = tempfile::tempdir().unwrap();
    let (origin, main) = origin(tmp.path());
    let (w, out) = workflow(tmp.path(), &origin);
    // Every gate's tool is installed, and the gate that runs a configured program is named.
    let text = &out.stdout;
    assert!(
        text.contains("python3 -m pip install black mypy pytest"),
        "{text}"
    );
    assert!(
        out.stderr
            .contains("gate `check` runs whatever its settings name"),
        "{out:?}"
    );

    for i in 1..=SHARDS {
        let r = runner(tmp.path(), &format!("shard-{i}"), &origin, &main, &main, i);
        let (failed, log) = r.run_job(&w["jobs"]["shard"]);
        println!("--- shard {i}\n{log}");
        assert!(!failed, "shard {i}:\n{log}");
        assert!(
            log.contains("trusted "),
            "planexec.toml is trusted as main has it:\n{log}"
        );
        assert!(
            log.contains("project check: ok") || log.contains("PASSED check"),
            "{log}"
        );
        for gate in ["pytest", "mypy", "black", "check"] {
            assert!(
                log.contains(&format!("gate {gate} (")),
                "{gate} ran:\n{log}"
            );
        }
        assert!(!log.contains("not trusted"), "{log}");
    }
    let r = runner(tmp.path(), "merge", &origin, &main, &main, 0);
    let (failed, log) = r.run_job(&w["jobs"]["merge"]);
    println!("--- merge\n{log}");
    assert!(!failed, "merge:\n{log}");
    let junit = std::fs::read_to_string(
        tmp.path()
            .join("artifacts/planexec-report/planexec-junit.xml"),
    )
    .unwrap_or_else(|e| panic!("{e}:\n{log}"));
    assert_eq!(junit.matches("<testcase").count() >= 4, true, "{junit}");
    assert!(
        tmp.path()
            .join("actions-cache/planexec-durations.json")
            .is_file(),
        "the durations are kept for the next run:\n{log}"
    );
}

/// A pull request that changes planexec.toml (a gate now runs its own script) and the
/// policy file is run with neither: its config is not trusted and the base branch's
/// policy applies, so its script never runs.
#[test]
fn the_generated_workflow_never_trusts_a_pull_requests_own_config() {
    let tmp = tempfile::tempdir().unwrap();
    let (origin, main) = origin(tmp.path());
    let (w, _) = workflow(tmp.path(), &origin);
    let pr = tmp.path().join("pr");
    git(
        tmp.path(),
        &[
            "clone",
            "-q",
            origin.to_str().unwrap(),
            pr.to_str().unwrap(),
        ],
    );
    git(&pr, &["config", "user.email", "someone@example.com"]);
    git(&pr, &["config", "user.name", "Someone"]);
    write(
        &pr,
        "tools/pwn.py",
        "print(\"PWNED: the pull request chose what runs\")\n",
    );
    let toml = std::fs::read_to_string(pr.join("planexec.toml"))
        .unwrap()
        .replace("tools/check.py", "tools/pwn.py");
    write(&pr, "planexec.toml", &toml);
    write(
        &pr,
        ".github/planexec-policy.toml",
        "[policy]\ngrant = [\"python3\", \"sh\"]\n",
    );
    git(&pr, &["add", "."]);
    git(&pr, &["commit", "-qm", "change what runs"]);
    git(&pr, &["push", "-q", "origin", "HEAD:refs/heads/pull-1"]);
    let head = git(&pr, &["rev-parse", "HEAD"]).trim().to_string();

    let r = runner(tmp.path(), "pr-shard-1", &origin, &head, &main, 1);
    let (failed, log) = r.run_job(&w["jobs"]["shard"]);
    println!("--- pull request, shard 1\n{log}");
    assert!(
        log.contains("::warning::planexec.toml or planexec.lock differs from the base branch"),
        "{log}"
    );
    assert!(
        !log.contains("PWNED"),
        "the pull request's command ran:\n{log}"
    );
    assert!(failed, "its `check` gate has no program to run:\n{log}");
    assert!(log.contains("gate check (command) ERRORED"), "{log}");
    // The other gates still ran, with the base branch's policy.
    assert!(log.contains("gate pytest (pytest) passed"), "{log}");
}
