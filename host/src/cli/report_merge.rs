//! `planexec report merge REPORT.json...`: the shards of a sharded `gate run` judged as one
//! run: printed, written as `--report` outputs and GitHub annotations, and their test times
//! written to the durations file for the next run.

use super::{exit, human, report_error, PluginArgs};
use crate::report::{self, EnvView, ReportError, ReportSpec};
use crate::sandbox::{Sandbox, SandboxOptions};
use crate::shard::durations::Durations;
use crate::shard::merge::{self, ShardReport};
use planexec_record::{Outcome, RunRecord, RunStatus};
use std::path::{Path, PathBuf};

/// The most one shard's JSON report may be.
const MAX_REPORT: u64 = 256 << 20;

pub fn run(paths: &[PathBuf], reports: &[ReportSpec], durations: &Path, args: &PluginArgs) -> i32 {
    let mut shards = Vec::with_capacity(paths.len());
    for p in paths {
        match read_shard(p) {
            Ok(s) => shards.push(s),
            Err(e) => {
                report_error(&e);
                return exit::USAGE;
            }
        }
    }
    let record = match merge::merge(shards) {
        Ok(r) => r,
        Err(e) => {
            report_error(&e);
            return exit::USAGE;
        }
    };
    // The files first: a reader of stdout that stops early (`| head`) must not cost them.
    let mut code = exit_code(&record);
    if let Err(c) = write_outputs(&record, reports, durations, args) {
        code = c;
    }
    // A closed stdout (EPIPE) ends neither the job summary nor the exit code.
    let _quiet = super::IgnoreSigpipe::new();
    // In GitHub Actions: an annotation per failing test and finding, and the job summary.
    let env = EnvView::from_env();
    if env.github_actions {
        let mut github = report::GithubSink {
            annotations_to_stderr: false,
            summary_path: env.step_summary,
        };
        report::Sink::finish(&mut github, &record);
    }
    for g in &record.final_gates {
        super::print_out(&crate::text::untrusted(&human::gate_run(g)));
    }
    code
}

/// One shard's report: a regular file inside its folder, bounded, a run record.
fn read_shard(path: &Path) -> Result<ShardReport, String> {
    let root = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let text = crate::input::read_text(path, root, MAX_REPORT).map_err(|e| e.to_string())?;
    let record = RunRecord::from_json(&text).map_err(|e| {
        format!(
            "{}:{}:{}: not a planexec JSON report: {e}\n  write each shard's with `planexec gate run --shard I/N --report json=FILE`",
            path.display(),
            e.line(),
            e.column()
        )
    })?;
    Ok(ShardReport {
        path: path.to_path_buf(),
        record,
    })
}

/// Success 0; a failed gate 1; an errored gate (none failed) 3: as `gate run` would have.
fn exit_code(record: &RunRecord) -> i32 {
    let outcomes = || record.final_gates.iter().map(|g| g.report.outcome);
    if record.status == RunStatus::Success {
        exit::OK
    } else if outcomes().any(|o| o == Outcome::Errored) {
        exit::PLUGIN_ERRORED
    } else {
        exit::FAILED
    }
}

/// The `--report` files and the durations file; Err(exit code) when one cannot be written.
fn write_outputs(
    record: &RunRecord,
    reports: &[ReportSpec],
    durations: &Path,
    args: &PluginArgs,
) -> Result<(), i32> {
    let d = Durations::from_gates(&record.final_gates);
    crate::rooted::write_user_path(durations, d.to_json().as_bytes()).map_err(|e| {
        report_error(&format!("cannot write the durations file: {e}"));
        exit::USAGE
    })?;
    eprintln!(
        "wrote durations {} ({})",
        durations.display(),
        crate::text::count(d.gates.len(), "gate")
    );
    if reports.is_empty() {
        return Ok(());
    }
    let (workspace, config, registry) = super::load_workspace(args)?;
    let sandbox = config
        .caps()
        .map_err(|e| e.to_string())
        .and_then(|caps| {
            Sandbox::new(SandboxOptions {
                caps,
                ..Default::default()
            })
            .map_err(|e| e.to_string())
        })
        .map_err(|e| {
            report_error(&e);
            exit::USAGE
        })?;
    match report::write_reports(reports, record, &sandbox, &registry, &config, &workspace) {
        Ok(paths) => {
            for (spec, p) in reports.iter().zip(paths) {
                eprintln!("wrote {} report {}", spec.format, p.display());
            }
            Ok(())
        }
        Err(e) => {
            report_error(&e);
            Err(match e {
                ReportError::Render { .. } | ReportError::NoArtifact { .. } => exit::PLUGIN_ERRORED,
                _ => exit::USAGE,
            })
        }
    }
}
