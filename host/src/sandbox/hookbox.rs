//! The box around the repository's git hooks on task commits: the work tree read-only
//! except the commit message, no network, a cleared environment, a tool cache of its own.

use super::child::{self, Places, Request};
use super::exec;
use crate::confine::{Confinement, Limits, Network};
use crate::plugins::Grants;
use planexec_vcs::{HookCall, HookExit, HookRunner};
use std::path::Path;

/// The most of a hook's output kept (its end).
const MAX_OUTPUT: usize = 64 << 10;

/// Runs each hook as a boxed program (or unboxed under `--unconfined`).
pub struct BoxedHooks {
    /// `required`, `best-effort`, or `off` (`--unconfined`): as for plugins' programs.
    pub confinement: Confinement,
    /// The policy's ceilings (`[policy.limits]`).
    pub limits: Limits,
}

impl BoxedHooks {
    /// What a hook may do: run itself (a script's interpreter comes from the system
    /// roots), read its own folder, write only `call.writable`; nothing passes through.
    fn grants(&self, call: &HookCall) -> Grants {
        Grants {
            programs: vec![call.path.to_string_lossy().into_owned()],
            requested: vec![],
            granted: vec![],
            network: Network::None,
            requested_network: Network::None,
            allow: Default::default(),
            secrets: Vec::new(),
            writes: call
                .writable
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect(),
            discard_writes: false,
            read: call
                .path
                .parent()
                .map(Path::to_path_buf)
                .into_iter()
                .collect(),
            env_set: vec![],
            env_pass: vec![],
            limits: self.limits,
            confinement: self.confinement,
            standard: false,
            untrusted: None,
        }
    }
}

impl HookRunner for BoxedHooks {
    fn run(&self, call: &HookCall) -> Result<HookExit, String> {
        let grants = self.grants(call);
        let scratch = tempfile::Builder::new()
            .prefix("planexec-hook-")
            .tempdir()
            .map_err(|e| format!("cannot create the hook's scratch: {e}"))?;
        let cache = super::tool_cache_dir(call.workdir, "git-hooks", None);
        let places = Places {
            plugin: "git-hooks",
            grants: &grants,
            workspace: Some(call.workdir),
            scratch: scratch.path(),
            cache: &cache,
        };
        let program = call.path.to_string_lossy().into_owned();
        let args: Vec<String> = call
            .args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let req = Request {
            program: &program,
            args: &args,
            env: &[],
            cwd: None,
            timeout: call.timeout,
            stdout_file: None,
            caps: (MAX_OUTPUT, 0),
        };
        let mut ready = child::prepare(&places, req).map_err(|e| e.to_string())?;
        // Set by planexec, not by a plugin: git's own variable for the hook.
        for (k, v) in call.env {
            ready
                .spec
                .env
                .push((k.to_string(), v.to_string_lossy().into_owned()));
        }
        let out = exec::run(&ready.spec, ready.boxed.take());
        ready.clean_up();
        let out = out.map_err(|e| e.to_string())?;
        Ok(HookExit {
            code: if out.timed_out || out.killed.is_some() {
                None
            } else {
                out.exit_code
            },
            output: output_tail(&out.stdout, &out.stderr),
        })
    }
}

/// stdout then stderr, the last 64 KiB, as text.
fn output_tail(stdout: &[u8], stderr: &[u8]) -> String {
    let mut all = String::from_utf8_lossy(stdout).into_owned();
    all.push_str(&String::from_utf8_lossy(stderr));
    let mut start = all.len().saturating_sub(MAX_OUTPUT);
    while !all.is_char_boundary(start) {
        start += 1;
    }
    all[start..].to_string()
}

/// The hooks' runner for a run under `confinement` and the policy's limits.
pub fn runner(confinement: Confinement, limits: Limits) -> std::sync::Arc<dyn HookRunner> {
    std::sync::Arc::new(BoxedHooks {
        confinement,
        limits,
    })
}
