//! The per-instance store data: WASI context (read-only workspace, private
//! scratch, no env, no sockets), limits, CPU accounting, and the host imports.

use super::bindings::{exec, log};
use super::exec as native;
use crate::plugins::Grants;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use wasmtime::component::ResourceTable;
use wasmtime::ResourceLimiter;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// Caps applied to every instance.
#[derive(Debug, Clone)]
pub struct Caps {
    /// stdout / stderr of a command a plugin runs, kept in memory (each).
    pub exec_capture: usize,
    /// A command's stdout redirected to a scratch file.
    pub exec_file: u64,
    /// The plugin's own stdout / stderr (each).
    pub plugin_output: usize,
    /// Data a plugin returns to the host (strings of its report, summed).
    pub returned: usize,
}

impl Default for Caps {
    fn default() -> Self {
        Caps {
            exec_capture: 16 << 20,
            exec_file: 2 << 30,
            plugin_output: 256 << 10,
            returned: 8 << 20,
        }
    }
}

/// Caps linear memory and tables; remembers when it refused growth so the
/// trap that follows can be reported as "hit its memory cap".
pub struct Limiter {
    pub memory: usize,
    pub denied: bool,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory {
            self.denied = true;
            return Err(wasmtime::Error::msg("memory cap reached"));
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1 << 20)
    }
}

/// A log line a plugin emitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub level: log::Level,
    pub message: String,
}

/// One program the plugin ran, for the evidence trail.
#[derive(Debug, Clone)]
pub struct ExecRecord {
    pub argv: Vec<String>,
    pub exit_code: Option<i32>,
    pub duration: Duration,
    pub timed_out: bool,
}

pub struct PluginState {
    pub(super) wasi: WasiCtx,
    pub(super) table: ResourceTable,
    pub(super) limits: Limiter,
    pub(super) plugin: String,
    pub(super) grants: Grants,
    pub(super) workspace: PathBuf,
    pub(super) scratch: PathBuf,
    pub(super) caps: Caps,
    /// CPU budget for wasm execution (time inside exec calls does not count).
    pub(super) budget: Duration,
    pub(super) started: Instant,
    pub(super) in_host: Duration,
    pub(super) deadline_hit: bool,
    /// The longest a command may run when the plugin gives no timeout.
    pub(super) exec_timeout: Duration,
    pub logs: Vec<LogLine>,
    pub execs: Vec<ExecRecord>,
}

impl PluginState {
    /// Time spent executing the plugin's own code so far.
    pub(super) fn cpu_used(&self) -> Duration {
        self.started.elapsed().saturating_sub(self.in_host)
    }

    fn substitute(&self, arg: &str) -> String {
        arg.replace("{workspace}", &self.workspace.to_string_lossy())
            .replace("{scratch}", &self.scratch.to_string_lossy())
    }

    /// Maps a `{scratch}/...` path to the host path, refusing anything outside scratch.
    fn scratch_path(&self, p: &str) -> Result<PathBuf, String> {
        let rel = p
            .strip_prefix("{scratch}/")
            .or_else(|| p.strip_prefix("/scratch/"))
            .ok_or_else(|| format!("stdout-file `{p}` must be a path under {{scratch}}/"))?;
        let rel = Path::new(rel);
        if rel
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return Err(format!("stdout-file `{p}` must stay inside {{scratch}}"));
        }
        Ok(self.scratch.join(rel))
    }

    fn workspace_dir(&self, cwd: Option<&str>) -> Result<PathBuf, String> {
        let Some(c) = cwd.filter(|c| !c.is_empty() && *c != ".") else {
            return Ok(self.workspace.clone());
        };
        let rel = Path::new(c);
        if rel
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return Err(format!(
                "cwd `{c}` must be a relative path inside the workspace"
            ));
        }
        Ok(self.workspace.join(rel))
    }

    fn run_command(&mut self, cmd: exec::Command) -> Result<exec::Output, exec::ExecError> {
        if !self.grants.allows(&cmd.program) {
            return Err(exec::ExecError::NotGranted(format!(
                "plugin `{}` may not run `{}` (granted: {}); grant it in planexec.toml [policy] grant or with --grant {}",
                self.plugin,
                cmd.program,
                if self.grants.programs.is_empty() { "nothing".into() } else { self.grants.programs.join(", ") },
                cmd.program
            )));
        }
        let cwd = self
            .workspace_dir(cmd.cwd.as_deref())
            .map_err(exec::ExecError::Failed)?;
        let program = native::resolve_program(&cmd.program, &cwd)
            .map_err(|e| exec::ExecError::NotFound(e.to_string()))?;
        let stdout_file = match &cmd.stdout_file {
            Some(p) => Some(self.scratch_path(p).map_err(exec::ExecError::Failed)?),
            None => None,
        };
        let args: Vec<String> = cmd.args.iter().map(|a| self.substitute(a)).collect();
        let env: Vec<(String, String)> = cmd
            .env
            .iter()
            .map(|(k, v)| (k.clone(), self.substitute(v)))
            .collect();
        let timeout = cmd
            .timeout_ms
            .map(Duration::from_millis)
            .unwrap_or(self.exec_timeout)
            .min(self.exec_timeout);
        let spec = native::ProcessSpec {
            program,
            args: args.clone(),
            env,
            cwd,
            timeout,
            stdout_file,
            capture_cap: self.caps.exec_capture,
            file_cap: self.caps.exec_file,
        };
        let out = native::run(&spec).map_err(|e| match e {
            native::RunError::NotFound(m) => exec::ExecError::NotFound(m),
            native::RunError::Failed(m) => exec::ExecError::Failed(m),
        })?;
        let mut argv = vec![cmd.program.clone()];
        argv.extend(args);
        self.execs.push(ExecRecord {
            argv,
            exit_code: out.exit_code,
            duration: out.duration,
            timed_out: out.timed_out,
        });
        Ok(exec::Output {
            exit_code: out.exit_code,
            stdout: out.stdout,
            stderr: out.stderr,
            truncated: out.truncated,
            timed_out: out.timed_out,
            duration_ms: out.duration.as_millis() as u64,
        })
    }
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl exec::Host for PluginState {
    fn run(&mut self, cmd: exec::Command) -> Result<exec::Output, exec::ExecError> {
        let t = Instant::now();
        let r = self.run_command(cmd);
        self.in_host += t.elapsed();
        r
    }
}

impl log::Host for PluginState {
    fn emit(&mut self, level: log::Level, message: String) {
        const MAX_LINES: usize = 10_000;
        if self.logs.len() < MAX_LINES {
            let mut m = message;
            m.truncate(8 * 1024);
            self.logs.push(LogLine { level, message: m });
        }
    }
}

impl super::bindings::types::Host for PluginState {}
