//! The per-instance store data: WASI context (read-only workspace, private
//! scratch, no env, no sockets), limits, CPU accounting, and the host imports.

use super::bindings::{exec, log};
use super::child;
use super::exec as native;
use crate::plugins::Grants;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
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
    /// Bytes of log lines one call may emit (the `log` import).
    pub log: usize,
    /// Bytes a call may keep in its scratch directory.
    pub scratch: u64,
    /// The longest `requests.timeout` a manifest may ask for (`[limits] max_timeout`).
    pub max_timeout: Duration,
    /// Time one call may spend in programs it runs, all commands summed
    /// (`[limits] max_exec_time`).
    pub exec_budget: Duration,
}

impl Default for Caps {
    fn default() -> Self {
        Caps {
            exec_capture: 16 << 20,
            exec_file: 2 << 30,
            plugin_output: 256 << 10,
            returned: 8 << 20,
            log: 256 << 10,
            scratch: 4 << 30,
            max_timeout: Duration::from_secs(3600),
            exec_budget: Duration::from_secs(3600),
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
    /// When it started (the host's clock).
    pub started: time::OffsetDateTime,
    pub exit_code: Option<i32>,
    pub duration: Duration,
    pub timed_out: bool,
    /// Layers of the box this machine could not apply (empty when fully boxed).
    pub weakened: Vec<String>,
    /// What the box did to it, when it failed (`effects.rs`): a denied write, a limit.
    pub effects: Vec<super::effects::Effect>,
}

/// A call's clock, shared with the watcher that stops a plugin blocked in a
/// WASI call: wall time since the start, less the time spent in `exec`.
#[derive(Debug)]
pub struct Clock {
    started: Instant,
    in_exec_nanos: AtomicU64,
}

impl Clock {
    pub fn start() -> Arc<Clock> {
        Arc::new(Clock {
            started: Instant::now(),
            in_exec_nanos: AtomicU64::new(0),
        })
    }

    /// Time counted against the plugin's own deadline.
    pub fn used(&self) -> Duration {
        let exec = Duration::from_nanos(self.in_exec_nanos.load(Ordering::Relaxed));
        self.started.elapsed().saturating_sub(exec)
    }

    fn add_exec(&self, d: Duration) {
        self.in_exec_nanos
            .fetch_add(d.as_nanos() as u64, Ordering::Relaxed);
    }
}

/// Bytes under `dir` (not following symlinks), counting stops once over `limit`.
pub fn dir_size(dir: &Path, limit: u64) -> u64 {
    let mut total = 0u64;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let Ok(m) = e.metadata() else { continue };
            total += m.len();
            if m.is_dir() {
                stack.push(e.path());
            }
            if total > limit {
                return total;
            }
        }
    }
    total
}

pub struct PluginState {
    pub(super) wasi: WasiCtx,
    pub(super) table: ResourceTable,
    pub(super) limits: Limiter,
    pub(super) plugin: String,
    pub(super) grants: Grants,
    pub(super) workspace: PathBuf,
    /// False for `workspace = "none"` plugins: their programs get no workspace either.
    pub(super) workspace_visible: bool,
    pub(super) scratch: PathBuf,
    /// The plugin's persistent tool cache (`{cache}`).
    pub(super) tool_cache: PathBuf,
    pub(super) caps: Caps,
    /// CPU budget for wasm execution (time inside exec calls does not count).
    pub(super) budget: Duration,
    pub(super) clock: Arc<Clock>,
    pub(super) deadline_hit: bool,
    /// The scratch directory went over `caps.scratch`.
    pub(super) scratch_hit: bool,
    pub(super) ticks: u32,
    /// The longest a command may run when the plugin gives no timeout.
    pub(super) exec_timeout: Duration,
    /// The manifest's timeout: no one command runs longer.
    pub(super) exec_cap: Duration,
    /// Time spent in commands so far (bounded by `caps.exec_budget`).
    pub(super) exec_used: Duration,
    pub(super) log_bytes: usize,
    pub logs: Vec<LogLine>,
    pub execs: Vec<ExecRecord>,
    /// The gate's `drop_flags` / `replace_flags`, applied to every program's arguments.
    pub flags: crate::gates::flags::FlagEdits,
}

impl PluginState {
    /// Time spent executing the plugin's own code so far.
    pub(super) fn cpu_used(&self) -> Duration {
        self.clock.used()
    }

    fn places(&self) -> child::Places<'_> {
        child::Places {
            plugin: &self.plugin,
            grants: &self.grants,
            workspace: self.workspace_visible.then_some(self.workspace.as_path()),
            scratch: &self.scratch,
            cache: &self.tool_cache,
        }
    }

    /// Maps a `{scratch}/...` path to (scratch, relative path), refusing anything outside.
    fn scratch_path(&self, p: &str) -> Result<(PathBuf, PathBuf), String> {
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
        Ok((self.scratch.clone(), rel.to_path_buf()))
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
        let stdout_file = match &cmd.stdout_file {
            Some(p) => Some(self.scratch_path(p).map_err(exec::ExecError::Failed)?),
            None => None,
        };
        let timeout = cmd
            .timeout_ms
            .map(Duration::from_millis)
            .unwrap_or(self.exec_timeout)
            .min(self.exec_timeout);
        let args = self.edited_args(&cmd.args);
        let req = child::Request {
            program: &cmd.program,
            args: &args,
            env: &cmd.env,
            cwd: cmd.cwd.as_deref(),
            timeout,
            stdout_file,
            caps: (self.caps.exec_capture, self.caps.exec_file),
        };
        let mut ready = child::prepare(&self.places(), req).map_err(to_exec_error)?;
        for line in std::mem::take(&mut ready.notes) {
            log::Host::emit(self, log::Level::Debug, line);
        }
        let argv: Vec<String> = std::iter::once(cmd.program.clone())
            .chain(ready.spec.args.iter().cloned())
            .collect();
        let boxed = ready.boxed.is_some();
        let started = time::OffsetDateTime::now_utc();
        let out = native::run(&ready.spec, ready.boxed.take());
        ready.clean_up();
        drop(ready.tmp.take());
        let refused = ready.proxy.take().map(|p| p.refused()).unwrap_or_default();
        let weakened = std::mem::take(&mut ready.weakened);
        let mut out = out.map_err(to_exec_error)?;
        self.note_refused(&refused, &mut out.stderr);
        let effects = if boxed && !out.timed_out {
            let ctx = super::effects::Context {
                plugin: &self.plugin,
                program: &cmd.program,
                workspace: self.workspace_visible.then_some(self.workspace.as_path()),
                limits: &self.grants.limits,
                network: self.grants.network,
                discard_writes: ready.layers.is_some(),
            };
            super::effects::explain(&ctx, out.exit_code, &out.stdout, &out.stderr)
        } else {
            Vec::new()
        };
        self.execs.push(ExecRecord {
            argv,
            started,
            exit_code: out.exit_code,
            duration: out.duration,
            timed_out: out.timed_out,
            weakened,
            effects,
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

impl PluginState {
    /// `args` after the gate's flag edits; an edit that would touch the gate's report file
    /// is left out and said in its log.
    fn edited_args(&mut self, args: &[String]) -> Vec<String> {
        if self.flags.is_empty() {
            return args.to_vec();
        }
        let applied = self.flags.apply(args);
        for r in applied.refused {
            log::Host::emit(
                self,
                log::Level::Warn,
                format!("drop_flags/replace_flags: `{r}` names the gate's report file in {{scratch}}; left as it is"),
            );
        }
        applied.args
    }

    /// Each connection the proxy refused: a warning in the plugin's log and a
    /// line at the end of the program's stderr (gate output, evidence, transcripts).
    fn note_refused(&mut self, refused: &[crate::proxy::Refusal], stderr: &mut Vec<u8>) {
        // The same refusal many times over is one line with its count.
        let mut seen: Vec<(&crate::proxy::Refusal, usize)> = Vec::new();
        for r in refused {
            match seen.iter_mut().find(|(x, _)| *x == r) {
                Some((_, n)) => *n += 1,
                None => seen.push((r, 1)),
            }
        }
        for (r, n) in seen {
            let times = if n > 1 {
                format!(" ({n} times)")
            } else {
                String::new()
            };
            let line = format!("planexec: {r}{times}");
            stderr.extend_from_slice(format!("\n{line}\n").as_bytes());
            log::Host::emit(self, log::Level::Warn, line);
        }
    }
}

fn to_exec_error(e: native::RunError) -> exec::ExecError {
    match e {
        native::RunError::NotFound(m) => exec::ExecError::NotFound(m),
        native::RunError::NotGranted(m) => exec::ExecError::NotGranted(m),
        native::RunError::Failed(m) => exec::ExecError::Failed(m),
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
        let left = self.caps.exec_budget.saturating_sub(self.exec_used);
        if left.is_zero() {
            return Err(exec::ExecError::Failed(format!(
                "plugin `{}` used its exec time budget of {} for this call; \
                 raise [limits] max_exec_time in the user's or --policy config",
                self.plugin,
                humantime::format_duration(self.caps.exec_budget)
            )));
        }
        self.exec_timeout = self.exec_cap.min(left);
        let t = Instant::now();
        let r = self.run_command(cmd);
        self.exec_used += t.elapsed();
        self.clock.add_exec(t.elapsed());
        r
    }
}

impl log::Host for PluginState {
    /// Keeps at most 10 000 lines and `caps.log` bytes, escaped; then one note.
    fn emit(&mut self, level: log::Level, message: String) {
        const MAX_LINES: usize = 10_000;
        if self.log_bytes >= self.caps.log || self.logs.len() >= MAX_LINES {
            return;
        }
        let mut m = crate::text::untrusted(&message);
        let room = self.caps.log - self.log_bytes;
        crate::text::truncate(&mut m, room.min(8 * 1024));
        self.log_bytes += m.len().max(1);
        self.logs.push(LogLine { level, message: m });
        if self.log_bytes >= self.caps.log || self.logs.len() >= MAX_LINES {
            self.logs.push(LogLine {
                level: log::Level::Warn,
                message: format!(
                    "plugin `{}`: log over the host's cap ({} bytes or {MAX_LINES} lines); the rest was dropped",
                    self.plugin, self.caps.log
                ),
            });
        }
    }
}

impl super::bindings::types::Host for PluginState {}
