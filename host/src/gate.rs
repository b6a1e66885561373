//! Running one configured gate: builds the request, calls the plugin, and turns
//! any plugin failure into an `errored` report so the caller always gets a report.

use crate::config::GateConfig;
use crate::sandbox::bindings::{gate_plugin, types as wt};
use crate::sandbox::{CallInfo, Loaded};
use crate::shard::GateShard;
use planexec_record::{GateReport, GateRun, Outcome, ProgramRun};
use std::path::Path;

/// Runs `loaded` as the gate `cfg` in `workspace`, optionally for a task.
pub fn run(
    loaded: &Loaded,
    cfg: &GateConfig,
    workspace: &Path,
    task: Option<wt::Task>,
) -> (GateRun, CallInfo) {
    run_shard(loaded, cfg, workspace, task, None)
}

/// [`run`], for one shard of the gate's tests when `shard` is set: the plugin picks its
/// part and reports which it ran; a report of another shard than asked is `errored`.
pub fn run_shard(
    loaded: &Loaded,
    cfg: &GateConfig,
    workspace: &Path,
    task: Option<wt::Task>,
    shard: Option<&GateShard>,
) -> (GateRun, CallInfo) {
    let req = gate_plugin::GateRequest {
        name: cfg.name.clone(),
        config: cfg.settings.to_string(),
        mounts: loaded.mounts(),
        task,
        shard: shard.map(GateShard::to_wit),
    };
    let (r, info) = loaded.check(workspace, req, &cfg.flags);
    let mut report = match r {
        Ok(rep) => rep,
        Err(f) => {
            let mut rep = GateReport::errored(f.reason);
            rep.duration_ms = info.duration.as_millis() as u64;
            rep.evidence = crate::text::tail(&info.stderr, 20);
            rep
        }
    };
    if report.duration_ms == 0 {
        // A plugin that does not time its programs: the call's own time.
        report.duration_ms = info.duration.as_millis() as u64;
    }
    if let Err(why) = GateShard::check(shard, report.shard.as_ref()) {
        report.outcome = Outcome::Errored;
        report.summary = format!("{why}: {}", report.summary);
        report.shard = None;
    }
    (
        GateRun {
            name: cfg.name.clone(),
            plugin: loaded.name().to_string(),
            report,
            programs: program_runs(&info.execs),
        },
        info,
    )
}

/// The most of a program's arguments kept in the record (they can be long: file lists).
const MAX_ARGS: usize = 1024;

/// The programs a call ran, for the trace and the HTML timeline: the program's file name
/// and its arguments shortened, escaped as untrusted text.
pub fn program_runs(execs: &[crate::sandbox::ExecRecord]) -> Vec<ProgramRun> {
    execs
        .iter()
        .filter_map(|e| {
            let (program, args) = e.argv.split_first()?;
            let name = Path::new(program)
                .file_name()
                .map_or(program.clone(), |n| n.to_string_lossy().into_owned());
            let mut args = crate::text::untrusted(&args.join(" "));
            crate::text::truncate(&mut args, MAX_ARGS);
            Some(ProgramRun {
                program: crate::text::untrusted(&name),
                args,
                started_at: crate::report::timing::stamp_ms(e.started),
                duration_ms: e.duration.as_millis() as u64,
                exit_code: e.exit_code,
                timed_out: e.timed_out,
            })
        })
        .collect()
}
