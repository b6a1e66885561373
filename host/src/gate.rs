//! Running one configured gate: builds the request, calls the plugin, and turns
//! any plugin failure into an `errored` report so the caller always gets a report.

use crate::config::GateConfig;
use crate::sandbox::bindings::{gate_plugin, types as wt};
use crate::sandbox::{CallInfo, Loaded};
use planexec_record::{GateReport, GateRun};
use std::path::Path;

/// Runs `loaded` as the gate `cfg` in `workspace`, optionally for a task.
pub fn run(
    loaded: &Loaded,
    cfg: &GateConfig,
    workspace: &Path,
    task: Option<wt::Task>,
) -> (GateRun, CallInfo) {
    let req = gate_plugin::GateRequest {
        name: cfg.name.clone(),
        config: cfg.settings.to_string(),
        mounts: loaded.mounts(),
        task,
        shard: None,
    };
    let (r, info) = loaded.check(workspace, req);
    let report = match r {
        Ok(rep) => rep,
        Err(f) => {
            let mut rep = GateReport::errored(f.reason);
            rep.duration_ms = info.duration.as_millis() as u64;
            rep.evidence = crate::text::tail(&info.stderr, 20);
            rep
        }
    };
    (
        GateRun {
            name: cfg.name.clone(),
            plugin: loaded.name().to_string(),
            report,
        },
        info,
    )
}
