//! The `patch` implementer: applies the patch a plan ships for a task with `git apply`.
//!
//! Cycle 1 uses `<plan_dir>/patches/<TASK-ID>.patch`; rework cycle c (c >= 2)
//! uses `<TASK-ID>.<c>.patch` (the engine counts cycles from 1 again after a
//! block and `--resume`, so a corrected `<ID>.patch` is used). A missing file
//! for the cycle is `Failed`
//! ("no patch for cycle c"). Existence is checked through the read-only
//! workspace mount; the patch is applied by the host running the granted
//! `git apply --whitespace=nowarn {workspace}/<plan_dir>/patches/<file>`
//! (all or nothing: git apply changes no file when any hunk fails).
//! Config (all optional): `dir` (default `"patches"`, relative to the plan's
//! folder), `args` (extra `git apply` arguments), `timeout_ms`, `tail_lines`.

use planexec_pdk::text::tail;
use planexec_pdk::{
    Command as Cmd, Host, ImplementReport, ImplementRequest, ImplementStatus, Implementer, Level,
};

#[derive(serde::Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Config {
    dir: Option<String>,
    args: Vec<String>,
    timeout_ms: Option<u64>,
    tail_lines: Option<usize>,
}

/// The patch file name for `task_id` in `cycle`: `<ID>.patch` for cycle 1 (or 0),
/// `<ID>.<cycle>.patch` from cycle 2 on.
pub fn patch_file_name(task_id: &str, cycle: u32) -> String {
    if cycle <= 1 {
        format!("{task_id}.patch")
    } else {
        format!("{task_id}.{cycle}.patch")
    }
}

/// Joins workspace-relative parts with `/`, skipping empty and `.` parts.
fn join(parts: &[&str]) -> String {
    let mut out: Vec<&str> = Vec::new();
    for p in parts {
        for seg in p.split('/') {
            if !seg.is_empty() && seg != "." {
                out.push(seg);
            }
        }
    }
    out.join("/")
}

fn safe_rel(p: &str) -> bool {
    !p.starts_with('/') && !p.split('/').any(|s| s == "..") && !p.contains('\\')
}

fn report(status: ImplementStatus, summary: String, evidence: String) -> ImplementReport {
    ImplementReport::new(status, summary, evidence)
}

pub struct PatchImplementer;

impl Implementer for PatchImplementer {
    fn implement(req: ImplementRequest, host: &dyn Host) -> Result<ImplementReport, String> {
        let cfg: Config = planexec_pdk::config(&req.config)?;
        let id = req.task.id.trim();
        if id.is_empty() || !safe_rel(id) || id.contains('/') {
            return Err(format!(
                "task id `{id}` cannot name a patch file; use ids like T001"
            ));
        }
        let dir = cfg.dir.as_deref().unwrap_or("patches");
        if !safe_rel(dir) || !safe_rel(&req.plan_dir) {
            return Err(format!(
                "config: patch dir `{dir}` (in plan dir `{}`) must be relative and stay inside the workspace",
                req.plan_dir
            ));
        }
        let file = patch_file_name(id, req.cycle);
        let rel = join(&[&req.plan_dir, dir, &file]);
        let mounted = format!("{}/{}", req.mounts.workspace.trim_end_matches('/'), rel);
        match std::fs::metadata(&mounted) {
            Ok(m) if m.is_file() => {}
            Ok(_) => {
                return Ok(report(
                    ImplementStatus::Failed,
                    format!("{id}: {rel} is not a file"),
                    String::new(),
                ))
            }
            Err(_) => {
                return Ok(report(
                    ImplementStatus::Failed,
                    format!(
                        "{id}: no patch for cycle {} (expected {rel}); add it or use another implementer",
                        req.cycle
                    ),
                    String::new(),
                ))
            }
        }
        let mut cmd = Cmd::new("git")
            .args(["apply", "--whitespace=nowarn"])
            .args(cfg.args.iter().cloned());
        cmd = cmd.arg(format!("{{workspace}}/{rel}"));
        cmd.timeout_ms = cfg.timeout_ms;
        host.log(Level::Info, &format!("{id}: git apply {rel}"));
        let out = host.exec(&cmd).map_err(|e| {
            format!("{id}: could not run `git apply` ({e}); grant the `git` program to the patch implementer")
        })?;
        let lines = cfg.tail_lines.unwrap_or(40);
        if out.timed_out {
            return Ok(report(
                ImplementStatus::Failed,
                format!(
                    "{id}: `git apply {rel}` timed out after {} ms",
                    out.duration_ms
                ),
                tail(&out.combined(), lines),
            ));
        }
        match out.exit_code {
            Some(0) => Ok(report(
                ImplementStatus::Done,
                format!("{id}: applied {rel}"),
                tail(&out.combined(), lines),
            )),
            code => {
                let stderr = out.stderr_str();
                let why = if stderr.trim().is_empty() {
                    out.combined()
                } else {
                    stderr
                };
                let first = why
                    .lines()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("")
                    .trim()
                    .to_string();
                let status = match code {
                    Some(c) => format!("exited {c}"),
                    None => "was killed by a signal".into(),
                };
                Ok(report(
                    ImplementStatus::Failed,
                    format!("{id}: `git apply {rel}` {status}: {first}"),
                    tail(&why, lines),
                ))
            }
        }
    }
}

planexec_pdk::implementer_component!(PatchImplementer);

#[cfg(test)]
mod tests {
    use super::*;
    use planexec_pdk::testing::FakeHost;
    use planexec_pdk::{Mounts, Output, Task};
    use serde_json::json;

    struct Ws(std::path::PathBuf);
    impl Drop for Ws {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn workspace(tag: &str, files: &[&str]) -> Ws {
        let d = std::env::temp_dir().join(format!("planexec-patch-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        for f in files {
            let p = d.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "--- a/x\n+++ b/x\n").unwrap();
        }
        std::fs::create_dir_all(&d).unwrap();
        Ws(d)
    }

    fn req(ws: &Ws, cycle: u32, config: serde_json::Value) -> ImplementRequest {
        ImplementRequest {
            config,
            mounts: Mounts {
                workspace: ws.0.display().to_string(),
                scratch: "/scratch".into(),
            },
            task: Task {
                id: "T001".into(),
                title: "Add x".into(),
                ..Default::default()
            },
            cycle,
            feedback: vec![],
            feedback_text: String::new(),
            plan_path: "memory-bank/plan/p.md".into(),
            plan_dir: "memory-bank/plan".into(),
            constraints: vec![],
            tolerances: vec![],
        }
    }

    #[test]
    fn file_names_per_cycle() {
        assert_eq!(patch_file_name("T001", 1), "T001.patch");
        assert_eq!(patch_file_name("T001", 2), "T001.2.patch");
        assert_eq!(patch_file_name("T001", 3), "T001.3.patch");
    }

    #[test]
    fn applies_the_cycle_one_patch() {
        let ws = workspace("one", &["memory-bank/plan/patches/T001.patch"]);
        let host = FakeHost::new().on("git", 0, "");
        let r = PatchImplementer::implement(req(&ws, 1, json!({})), &host).unwrap();
        assert_eq!(r.status, ImplementStatus::Done, "{}", r.summary);
        let calls = host.calls.borrow();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].program, "git");
        assert_eq!(
            calls[0].args,
            [
                "apply",
                "--whitespace=nowarn",
                "{workspace}/memory-bank/plan/patches/T001.patch"
            ]
        );
    }

    #[test]
    fn rework_cycle_uses_the_numbered_patch() {
        let ws = workspace(
            "rework",
            &[
                "memory-bank/plan/patches/T001.patch",
                "memory-bank/plan/patches/T001.2.patch",
            ],
        );
        let host = FakeHost::new().on("git", 0, "");
        let r = PatchImplementer::implement(req(&ws, 2, json!({})), &host).unwrap();
        assert_eq!(r.status, ImplementStatus::Done);
        assert!(host.calls.borrow()[0].args[2].ends_with("/patches/T001.2.patch"));
        // No file for cycle 3: Failed, and git is never run.
        let host = FakeHost::new().on("git", 0, "");
        let r = PatchImplementer::implement(req(&ws, 3, json!({})), &host).unwrap();
        assert_eq!(r.status, ImplementStatus::Failed);
        assert!(r.summary.contains("no patch for cycle 3"), "{}", r.summary);
        assert!(
            r.summary.contains("memory-bank/plan/patches/T001.3.patch"),
            "{}",
            r.summary
        );
        assert!(host.calls.borrow().is_empty());
    }

    #[test]
    fn git_failure_reports_stderr() {
        let ws = workspace("fail", &["memory-bank/plan/patches/T001.patch"]);
        let out = Output {
            exit_code: Some(1),
            stderr: b"error: patch failed: x:1\nerror: x: patch does not apply\n".to_vec(),
            ..Default::default()
        };
        let host = FakeHost::new().on_output("git", out);
        let r = PatchImplementer::implement(req(&ws, 1, json!({})), &host).unwrap();
        assert_eq!(r.status, ImplementStatus::Failed);
        assert!(
            r.summary.contains("exited 1: error: patch failed: x:1"),
            "{}",
            r.summary
        );
        assert!(r.evidence.contains("patch does not apply"));
    }

    #[test]
    fn config_dir_and_args_and_errors() {
        let ws = workspace("cfg", &["memory-bank/plan/fixes/T001.patch"]);
        let host = FakeHost::new().on("git", 0, "");
        let r = PatchImplementer::implement(
            req(&ws, 1, json!({"dir": "fixes", "args": ["--3way"]})),
            &host,
        )
        .unwrap();
        assert_eq!(r.status, ImplementStatus::Done);
        assert_eq!(host.calls.borrow()[0].args[2], "--3way");
        assert!(PatchImplementer::implement(req(&ws, 1, json!({"bogus": 1})), &host).is_err());
        assert!(PatchImplementer::implement(req(&ws, 1, json!({"dir": "../x"})), &host).is_err());
        let host = FakeHost::new(); // git not granted / not found
        let err =
            PatchImplementer::implement(req(&ws, 1, json!({"dir": "fixes"})), &host).unwrap_err();
        assert!(err.contains("grant the `git` program"), "{err}");
    }

    /// Runs commands for real, as the host would: `{workspace}` becomes the dir.
    struct NativeHost(std::path::PathBuf);
    impl Host for NativeHost {
        fn exec(&self, c: &Cmd) -> Result<Output, planexec_pdk::ExecError> {
            let ws = self.0.display().to_string();
            let out = std::process::Command::new(&c.program)
                .args(c.args.iter().map(|a| a.replace("{workspace}", &ws)))
                .current_dir(&self.0)
                .output()
                .map_err(|e| planexec_pdk::ExecError::NotFound(e.to_string()))?;
            Ok(Output {
                exit_code: out.status.code(),
                stdout: out.stdout,
                stderr: out.stderr,
                ..Default::default()
            })
        }
        fn log(&self, _: Level, _: &str) {}
    }

    #[test]
    fn real_git_apply_changes_the_workspace_or_nothing() {
        if std::process::Command::new("git")
            .arg("--version")
            .output()
            .is_err()
        {
            return; // no git CLI on this machine
        }
        let ws = workspace("real", &[]);
        std::fs::write(ws.0.join("hello.txt"), "hello\n").unwrap();
        let patches = ws.0.join("memory-bank/plan/patches");
        std::fs::create_dir_all(&patches).unwrap();
        std::fs::write(
            patches.join("T001.patch"),
            "--- a/hello.txt\n+++ b/hello.txt\n@@ -1 +1,2 @@\n hello\n+world\n",
        )
        .unwrap();
        std::fs::write(
            patches.join("T001.2.patch"),
            "--- a/hello.txt\n+++ b/hello.txt\n@@ -1 +1 @@\n-nothing like this\n+x\n",
        )
        .unwrap();
        let host = NativeHost(ws.0.clone());
        let r = PatchImplementer::implement(req(&ws, 1, json!({})), &host).unwrap();
        assert_eq!(
            r.status,
            ImplementStatus::Done,
            "{} {}",
            r.summary,
            r.evidence
        );
        assert_eq!(
            std::fs::read_to_string(ws.0.join("hello.txt")).unwrap(),
            "hello\nworld\n"
        );
        let r = PatchImplementer::implement(req(&ws, 2, json!({})), &host).unwrap();
        assert_eq!(r.status, ImplementStatus::Failed);
        assert!(r.summary.contains("error"), "{}", r.summary);
        assert_eq!(
            std::fs::read_to_string(ws.0.join("hello.txt")).unwrap(),
            "hello\nworld\n"
        );
    }
}
