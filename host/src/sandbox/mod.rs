//! The sandbox: a wasmtime engine and linker, the component cache, and calls
//! into plugins with grants, limits and deadlines, failures turned into reasons.

pub mod activity;
pub mod bindings;
pub(crate) mod cache;
pub(crate) mod child;
pub mod convert;
pub mod effects;
pub(crate) mod engine_config;
pub mod exec;
pub mod hookbox;
pub mod planted;
pub(crate) mod pycache;
mod scratch;
mod state;
mod toolcache;

pub use cache::{default_dir as default_cache_dir, Origin};
pub use scratch::{install_signal_cleanup, remove_stale};
pub use state::{Caps, ExecRecord, LogLine};
pub use toolcache::tool_cache_dir;

use crate::plugins::{Grants, Kind, Plugin, PluginError, WorkspaceAccess};
use bindings::{formatter, gate, implementer, reviewer};
use cache::ComponentCache;
use state::PluginState;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Engine, Store, UpdateDeadline};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

/// How often the epoch ticks; the CPU deadline is checked at each tick.
const TICK: Duration = Duration::from_millis(10);
/// How often the watcher checks a call that is blocked in a WASI call.
const WATCH: Duration = Duration::from_millis(50);

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot start the WebAssembly engine: {0}")]
    Engine(String),
    #[error(transparent)]
    Plugin(#[from] PluginError),
    #[error("{path}: plugin `{name}` is not a valid component: {reason}")]
    Compile {
        name: String,
        path: PathBuf,
        reason: String,
    },
    #[error("{path}: plugin `{name}` has world {has}, expected {expected}\n  rebuild it against wit/ planexec:plugin@{version}, or set `kind` in plugin.toml to match", version = bindings::VERSION)]
    WrongWorld {
        name: String,
        path: PathBuf,
        has: String,
        expected: String,
    },
    #[error("{path}: plugin `{name}` was built against the plugin contract planexec:plugin@{has}; this planexec speaks @{version} only\n  rebuild it against this planexec's wit/plugin.wit (or the matching planexec-pdk): docs/plugins.md says what each version changed", version = bindings::VERSION)]
    ContractVersion {
        name: String,
        path: PathBuf,
        has: String,
    },
    #[error("{path}: field `requests.timeout`: plugin `{name}` asks for {asked}, over the policy's maximum of {max}\n  lower it in plugin.toml, or raise [limits] max_timeout in your user config or --policy file")]
    Timeout {
        name: String,
        path: PathBuf,
        asked: String,
        max: String,
    },
    #[error("{path}: plugin `{name}` cannot be linked: {reason}\n  it may import interfaces the host does not provide (only WASI p2, planexec:plugin/exec and /log)")]
    Link {
        name: String,
        path: PathBuf,
        reason: String,
    },
}

/// Why a call into a plugin produced no result. Always reported, never fatal to the host.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("plugin `{plugin}` errored: {reason}")]
pub struct PluginFailure {
    pub plugin: String,
    pub reason: String,
}

/// What happened during one call, besides its result.
#[derive(Debug, Clone, Default)]
pub struct CallInfo {
    pub logs: Vec<LogLine>,
    pub execs: Vec<ExecRecord>,
    /// What the plugin wrote to its own stderr (capped).
    pub stderr: String,
    pub duration: Duration,
    /// What its programs wrote that would run later outside the box, undone.
    pub planted: Vec<planted::Planted>,
}

#[derive(Debug, Clone, Default)]
pub struct SandboxOptions {
    /// None: the default cache dir; Some(None): no cache.
    pub cache_dir: Option<Option<PathBuf>>,
    pub caps: Caps,
    /// Compile (or take from the cache) even the standard plugins build.rs precompiled.
    pub ignore_precompiled: bool,
}

pub struct Sandbox {
    engine: Engine,
    linker: Linker<PluginState>,
    cache: ComponentCache,
    caps: Caps,
    stop_ticker: Arc<AtomicBool>,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop_ticker.store(true, Ordering::Relaxed);
    }
}

impl Sandbox {
    pub fn new(opts: SandboxOptions) -> Result<Sandbox, SandboxError> {
        let engine = Engine::new(&engine_config::engine_config())
            .map_err(|e| SandboxError::Engine(e.to_string()))?;
        let mut linker: Linker<PluginState> = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(|e| SandboxError::Engine(e.to_string()))?;
        gate::Gate::add_to_linker::<PluginState, HasSelf<PluginState>>(&mut linker, |s| s)
            .map_err(|e| SandboxError::Engine(e.to_string()))?;
        let stop = Arc::new(AtomicBool::new(false));
        {
            let engine = engine.clone();
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("planexec-epoch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(TICK);
                        engine.increment_epoch();
                    }
                })
                .map_err(|e| SandboxError::Engine(e.to_string()))?;
        }
        let dir = match opts.cache_dir {
            None => cache::default_dir(),
            Some(d) => d,
        };
        let mut cache = ComponentCache::open(&engine, dir);
        if opts.ignore_precompiled {
            cache.ignore_precompiled();
        }
        Ok(Sandbox {
            engine,
            linker,
            cache,
            caps: opts.caps,
            stop_ticker: stop,
        })
    }

    pub fn cache_dir(&self) -> Option<&Path> {
        self.cache.dir()
    }

    /// Why the cache is not in use, if it is not.
    pub fn cache_disabled_reason(&self) -> Option<&str> {
        self.cache.disabled_reason.as_deref()
    }

    /// Compiles (or loads from cache), checks the world, links. Nothing runs yet.
    pub fn load(&self, plugin: &Plugin, grants: Grants) -> Result<Loaded, SandboxError> {
        let t = Instant::now();
        let asked = plugin.manifest.requests.timeout;
        if asked > self.caps.max_timeout {
            return Err(SandboxError::Timeout {
                name: plugin.name().into(),
                path: plugin.manifest_path.clone(),
                asked: humantime::format_duration(asked).to_string(),
                max: humantime::format_duration(self.caps.max_timeout).to_string(),
            });
        }
        let (bytes, sha256) = plugin.component()?;
        let (component, origin, cache_warning) = self
            .cache
            .load(&self.engine, &bytes, &sha256)
            .map_err(|e| SandboxError::Compile {
                name: plugin.name().into(),
                path: plugin.manifest_path.clone(),
                reason: format!("{e:#}"),
            })?;
        check_world(&self.engine, &component, plugin)?;
        let link_err = |e: wasmtime::Error| SandboxError::Link {
            name: plugin.name().into(),
            path: plugin.manifest_path.clone(),
            reason: format!("{e:#}"),
        };
        let ipre = self.linker.instantiate_pre(&component).map_err(link_err)?;
        let pre = match plugin.kind() {
            Kind::Gate => Pre::Gate(gate::GatePre::new(ipre).map_err(link_err)?),
            Kind::Reviewer => Pre::Reviewer(reviewer::ReviewerPre::new(ipre).map_err(link_err)?),
            Kind::Formatter => {
                Pre::Formatter(formatter::FormatterPre::new(ipre).map_err(link_err)?)
            }
            Kind::Implementer => {
                Pre::Implementer(implementer::ImplementerPre::new(ipre).map_err(link_err)?)
            }
        };
        Ok(Loaded {
            plugin: plugin.clone(),
            sha256,
            grants,
            pre,
            origin,
            cache_warning,
            load_time: t.elapsed(),
            engine: self.engine.clone(),
            caps: self.caps.clone(),
        })
    }
}

/// Reads the component's exports and checks it implements `<kind>-plugin@VERSION`;
/// the right kind at another contract version is refused as [`SandboxError::ContractVersion`].
fn check_world(
    engine: &Engine,
    component: &Component,
    plugin: &Plugin,
) -> Result<(), SandboxError> {
    let expected = format!(
        "{}/{}-plugin@{}",
        bindings::PACKAGE,
        plugin.kind().world(),
        bindings::VERSION
    );
    let ty = component.component_type();
    let exports: Vec<String> = ty.exports(engine).map(|(n, _)| n.to_string()).collect();
    if exports.iter().any(|e| e == &expected) {
        return Ok(());
    }
    let prefix = format!("{}/", bindings::PACKAGE);
    let same_kind = format!("{prefix}{}-plugin@", plugin.kind().world());
    if let Some(ver) = exports.iter().find_map(|e| e.strip_prefix(&same_kind)) {
        return Err(SandboxError::ContractVersion {
            name: plugin.name().into(),
            path: plugin.manifest_path.clone(),
            has: ver.to_string(),
        });
    }
    let has = exports
        .iter()
        .find_map(|e| {
            let rest = e.strip_prefix(&prefix)?;
            let (iface, ver) = rest.split_once('@').unwrap_or((rest, "unversioned"));
            let world = iface.strip_suffix("-plugin")?;
            Some(format!("`{world}` ({}@{ver})", bindings::PACKAGE))
        })
        .unwrap_or_else(|| {
            if exports.is_empty() {
                "none (it exports nothing)".to_string()
            } else {
                format!("none of planexec's (it exports {})", exports.join(", "))
            }
        });
    Err(SandboxError::WrongWorld {
        name: plugin.name().into(),
        path: plugin.manifest_path.clone(),
        has,
        expected: format!(
            "`{}` ({}@{})",
            plugin.kind().world(),
            bindings::PACKAGE,
            bindings::VERSION
        ),
    })
}

enum Pre {
    Gate(gate::GatePre<PluginState>),
    Reviewer(reviewer::ReviewerPre<PluginState>),
    Formatter(formatter::FormatterPre<PluginState>),
    Implementer(implementer::ImplementerPre<PluginState>),
}

/// A plugin ready to instantiate: compiled, world-checked, linked.
pub struct Loaded {
    pub plugin: Plugin,
    pub sha256: String,
    pub grants: Grants,
    pub origin: Origin,
    /// Set when a cached entry failed verification and was recompiled (report it).
    pub cache_warning: Option<String>,
    /// Time to get from bytes to an InstancePre.
    pub load_time: Duration,
    pre: Pre,
    engine: Engine,
    caps: Caps,
}

/// Guest paths of the two mounts.
pub const WORKSPACE_MOUNT: &str = "/workspace";
pub const SCRATCH_MOUNT: &str = "/scratch";

impl Loaded {
    pub fn name(&self) -> &str {
        self.plugin.name()
    }

    /// The name of its tool cache: its name, source and component digest.
    fn cache_key(&self) -> String {
        let source = match (&self.plugin.pack, &self.plugin.source) {
            (Some(pack), _) => format!("pack:{pack}"),
            (None, crate::plugins::Source::Standard) => "standard".to_string(),
            (None, crate::plugins::Source::Dir(d)) => format!("dir:{}", d.display()),
        };
        toolcache::plugin_key(self.plugin.name(), &source, &self.sha256)
    }

    pub fn mounts(&self) -> bindings::types::Mounts {
        bindings::types::Mounts {
            workspace: WORKSPACE_MOUNT.into(),
            scratch: SCRATCH_MOUNT.into(),
        }
    }

    fn store(
        &self,
        workspace: &Path,
        gate: Option<&str>,
    ) -> Result<(Store<PluginState>, scratch::Scratch, MemoryOutputPipe), String> {
        let scratch = scratch::create()?;
        let stdout = MemoryOutputPipe::new(self.caps.plugin_output);
        let stderr = MemoryOutputPipe::new(self.caps.plugin_output);
        let mut b = WasiCtxBuilder::new();
        b.stdout(stdout)
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            // Calls are synchronous anyway: file reads on this thread, not through tokio's
            // spawn_blocking for every read (about 3x faster reading a large report).
            .allow_blocking_current_thread(true);
        if self.plugin.manifest.requests.workspace == WorkspaceAccess::ReadOnly {
            b.preopened_dir(workspace, WORKSPACE_MOUNT, FsPerms::ReadOnly)
                .map_err(|e| format!("cannot open the workspace {}: {e}", workspace.display()))?;
        }
        b.preopened_dir(scratch.path(), SCRATCH_MOUNT, FsPerms::ReadWrite)
            .map_err(|e| format!("cannot open the scratch directory: {e}"))?;
        let req = &self.plugin.manifest.requests;
        let limits = state::Limiter {
            memory: req.memory as usize,
            denied: false,
        };
        let state = PluginState {
            wasi: b.build(),
            table: Default::default(),
            limits,
            plugin: self.plugin.name().into(),
            grants: self.grants.clone(),
            workspace: workspace.to_path_buf(),
            workspace_visible: req.workspace == WorkspaceAccess::ReadOnly,
            scratch: scratch.path().to_path_buf(),
            tool_cache: toolcache::tool_cache_dir(workspace, &self.cache_key(), gate),
            caps: self.caps.clone(),
            budget: req.timeout,
            clock: state::Clock::start(),
            deadline_hit: false,
            scratch_hit: false,
            ticks: 0,
            exec_timeout: req.timeout,
            exec_cap: req.timeout,
            exec_used: Duration::ZERO,
            log_bytes: 0,
            logs: Vec::new(),
            execs: Vec::new(),
            flags: Default::default(),
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limits);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|mut ctx| {
            let s = ctx.data_mut();
            if s.cpu_used() > s.budget {
                s.deadline_hit = true;
                return Err(wasmtime::Error::msg("CPU deadline exceeded"));
            }
            s.ticks = s.ticks.wrapping_add(1);
            if s.ticks % 10 == 0 && state::dir_size(&s.scratch, s.caps.scratch) > s.caps.scratch {
                s.scratch_hit = true;
                return Err(wasmtime::Error::msg("scratch quota exceeded"));
            }
            Ok(UpdateDeadline::Continue(1))
        });
        Ok((store, scratch, stderr))
    }

    /// Drives `fut` to completion on a fresh single-threaded runtime, unless the
    /// plugin's deadline passes first (it may be blocked in a WASI call, where
    /// the epoch check never runs): then the call is dropped and `None` returned.
    fn drive<T>(
        &self,
        clock: &state::Clock,
        fut: impl std::future::Future<Output = T>,
    ) -> Option<T> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .ok()?;
        let budget = self.plugin.manifest.requests.timeout;
        rt.block_on(async {
            tokio::pin!(fut);
            let mut tick = tokio::time::interval(WATCH);
            loop {
                tokio::select! {
                    r = &mut fut => return Some(r),
                    _ = tick.tick() => {
                        if clock.used() > budget {
                            return None;
                        }
                    }
                }
            }
        })
    }

    /// Instantiates a fresh instance, runs `f`, and turns every failure into a reason.
    fn call<R>(
        &self,
        workspace: &Path,
        f: impl AsyncFnOnce(&mut Store<PluginState>, &Pre) -> wasmtime::Result<Result<R, String>>,
    ) -> (Result<R, PluginFailure>, CallInfo) {
        self.call_as(workspace, None, f)
    }

    /// [`Loaded::call`] for gate `gate`, whose programs get a tool cache of their own.
    fn call_as<R>(
        &self,
        workspace: &Path,
        gate: Option<&str>,
        f: impl AsyncFnOnce(&mut Store<PluginState>, &Pre) -> wasmtime::Result<Result<R, String>>,
    ) -> (Result<R, PluginFailure>, CallInfo) {
        let t = Instant::now();
        let fail = |reason: String| PluginFailure {
            plugin: self.plugin.name().into(),
            reason,
        };
        let (mut store, _scratch, stderr) = match self.store(workspace, gate) {
            Ok(s) => s,
            Err(e) => return (Err(fail(e)), CallInfo::default()),
        };
        let clock = store.data().clock.clone();
        let writes = !self.grants.writes.is_empty()
            && self.plugin.manifest.requests.workspace == WorkspaceAccess::ReadOnly;
        let watch =
            writes.then(|| planted::Snapshot::take(workspace, planted::hooks_path_in(workspace)));
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.drive(&clock, f(&mut store, &self.pre))
        }));
        let stderr_text = crate::text::untrusted(&String::from_utf8_lossy(&stderr.contents()));
        let state = store.data_mut();
        let info = CallInfo {
            logs: std::mem::take(&mut state.logs),
            execs: std::mem::take(&mut state.execs),
            stderr: stderr_text.clone(),
            duration: t.elapsed(),
            planted: watch
                .map(|w| w.sweep(&self.grants.writes))
                .unwrap_or_default(),
        };
        let with_stderr = |mut reason: String| {
            let tail = crate::text::tail(&stderr_text, 5);
            if !tail.trim().is_empty() {
                reason.push_str(&format!("; its stderr ends: {}", tail.trim()));
            }
            fail(reason)
        };
        let result = match r {
            Err(_) => Err(fail(
                "the host panicked while calling the plugin (a bug in planexec)".into(),
            )),
            Ok(None) => Err(with_stderr(format!(
                "exceeded its deadline of {} while blocked in a WASI call (requests.timeout in its plugin.toml)",
                humantime::format_duration(state.budget)
            ))),
            Ok(Some(Ok(Ok(v)))) => Ok(v),
            Ok(Some(Ok(Err(msg)))) => Err(fail(crate::text::untrusted(&msg))),
            Ok(Some(Err(trap))) => Err(with_stderr(self.trap_reason(state, &trap))),
        };
        (result, info)
    }

    fn trap_reason(&self, state: &PluginState, trap: &wasmtime::Error) -> String {
        if state.deadline_hit {
            return format!(
                "exceeded its CPU deadline of {} (requests.timeout in its plugin.toml)",
                humantime::format_duration(state.budget)
            );
        }
        if state.scratch_hit {
            return format!(
                "went over its scratch quota of {} MiB",
                self.caps.scratch >> 20
            );
        }
        if state.limits.denied {
            return format!(
                "hit its memory cap of {} MiB (requests.memory in its plugin.toml)",
                self.plugin.manifest.requests.memory >> 20
            );
        }
        let text = crate::text::untrusted(&format!("{trap:#}"));
        format!("trapped: {}", first_line(&text))
    }

    fn check_returned(&self, size: usize) -> Result<(), String> {
        if size > self.caps.returned {
            return Err(format!(
                "returned {size} bytes, over the host's cap of {} bytes",
                self.caps.returned
            ));
        }
        Ok(())
    }

    /// Runs a gate. Any failure comes back as `Err` with the reason.
    /// `flags` edits the arguments of every program it runs (`drop_flags`, `replace_flags`).
    pub fn check(
        &self,
        workspace: &Path,
        req: bindings::gate_plugin::GateRequest,
        flags: &crate::gates::flags::FlagEdits,
    ) -> (Result<planexec_record::GateReport, PluginFailure>, CallInfo) {
        let gate = req.name.clone();
        let (result, info) = self.call_as(workspace, Some(&gate), async |store, pre| {
            store.data_mut().flags = flags.clone();
            let Pre::Gate(pre) = pre else {
                unreachable!("kind checked at load")
            };
            let inst = pre.instantiate_async(&mut *store).await?;
            let r = inst
                .planexec_plugin_gate_plugin()
                .call_check(&mut *store, &req)
                .await?;
            Ok(r.and_then(|rep| {
                convert::report_counts(&rep)?;
                self.check_returned(convert::report_size(&rep))?;
                Ok(convert::gate_report(rep))
            }))
        });
        let result = result.map(|r| with_effects(self.with_planted(r, &info.planted), &info.execs));
        (result, info)
    }

    /// A gate whose programs planted code fails, with a finding per file.
    fn with_planted(
        &self,
        mut report: planexec_record::GateReport,
        planted: &[planted::Planted],
    ) -> planexec_record::GateReport {
        if planted.is_empty() {
            return report;
        }
        report
            .findings
            .extend(planted::findings(self.plugin.name(), planted));
        if report.outcome == planexec_record::Outcome::Passed {
            report.outcome = planexec_record::Outcome::Failed;
        }
        report.summary = format!(
            "{} (failed: its programs wrote {} file(s) that would run outside the box; undone)",
            report.summary,
            planted.len()
        );
        report
    }

    pub fn review(
        &self,
        workspace: &Path,
        req: bindings::reviewer_plugin::ReviewRequest,
    ) -> (Result<planexec_record::Review, PluginFailure>, CallInfo) {
        self.call(workspace, async |store, pre| {
            let Pre::Reviewer(pre) = pre else {
                unreachable!("kind checked at load")
            };
            let inst = pre.instantiate_async(&mut *store).await?;
            let r = inst
                .planexec_plugin_reviewer_plugin()
                .call_evaluate(&mut *store, &req)
                .await?;
            Ok(r.and_then(|rev| {
                convert::review_counts(&rev)?;
                self.check_returned(convert::review_size(&rev))?;
                Ok(convert::review(rev))
            }))
        })
    }

    pub fn render(
        &self,
        workspace: &Path,
        config: &serde_json::Value,
        record_json: &str,
    ) -> (Result<Vec<(String, Vec<u8>)>, PluginFailure>, CallInfo) {
        let req = bindings::formatter_plugin::RenderRequest {
            config: config.to_string(),
            run_record: record_json.to_string(),
        };
        self.call(workspace, async |store, pre| {
            let Pre::Formatter(pre) = pre else {
                unreachable!("kind checked at load")
            };
            let inst = pre.instantiate_async(&mut *store).await?;
            let r = inst
                .planexec_plugin_formatter_plugin()
                .call_render(&mut *store, &req)
                .await?;
            Ok(r.and_then(|arts| {
                if arts.len() > convert::MAX_ITEMS {
                    return Err(format!(
                        "returned {} artifacts, over the host's cap",
                        arts.len()
                    ));
                }
                let size: usize = arts.iter().map(|a| a.path.len() + a.content.len()).sum();
                // Formatters legitimately return whole files: allow 8x the report cap.
                if size > self.caps.returned * 8 {
                    return Err(format!(
                        "returned {size} bytes of artifacts, over the host's cap"
                    ));
                }
                Ok(arts.into_iter().map(|a| (a.path, a.content)).collect())
            }))
        })
    }

    pub fn implement(
        &self,
        workspace: &Path,
        req: bindings::implementer_plugin::ImplementRequest,
    ) -> (
        Result<bindings::implementer_plugin::ImplementReport, PluginFailure>,
        CallInfo,
    ) {
        self.call(workspace, async |store, pre| {
            let Pre::Implementer(pre) = pre else {
                unreachable!("kind checked at load")
            };
            let inst = pre.instantiate_async(&mut *store).await?;
            let r = inst
                .planexec_plugin_implementer_plugin()
                .call_implement(&mut *store, &req)
                .await?;
            Ok(r.and_then(|mut rep| {
                self.check_returned(rep.summary.len() + rep.evidence.len())?;
                rep.summary = crate::text::untrusted(&rep.summary);
                rep.evidence = crate::text::untrusted(&rep.evidence);
                Ok(rep)
            }))
        })
    }

    /// Instantiates the plugin without calling it (for benchmarks).
    pub fn instantiate_only(&self, workspace: &Path) -> Result<Duration, PluginFailure> {
        let t = Instant::now();
        let (r, _) = self.call(workspace, async |store, pre| {
            match pre {
                Pre::Gate(p) => {
                    p.instantiate_async(&mut *store).await?;
                }
                Pre::Reviewer(p) => {
                    p.instantiate_async(&mut *store).await?;
                }
                Pre::Formatter(p) => {
                    p.instantiate_async(&mut *store).await?;
                }
                Pre::Implementer(p) => {
                    p.instantiate_async(&mut *store).await?;
                }
            }
            Ok(Ok(()))
        });
        r.map(|_| t.elapsed())
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

/// A failed gate says what the box did to its programs (a denied write, a limit
/// hit), each with the setting that changes it: `planexec/box` findings.
fn with_effects(
    mut report: planexec_record::GateReport,
    execs: &[ExecRecord],
) -> planexec_record::GateReport {
    if report.outcome == planexec_record::Outcome::Passed {
        return report;
    }
    let mut seen = std::collections::HashSet::new();
    for e in execs.iter().flat_map(|x| &x.effects) {
        if seen.insert(e.line()) {
            report.findings.push(planexec_record::Finding {
                severity: planexec_record::Severity::Info,
                rule: "planexec/box".into(),
                message: e.line(),
                path: None,
                line: None,
                column: None,
                end_line: None,
                end_column: None,
            });
        }
    }
    report
}
