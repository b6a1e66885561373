//! `planexec gate run NAME`: one gate, in the current directory, as a CI step.
//! Shown like a run (events to the sinks: NDJSON, plain lines, live display,
//! GitHub annotations) and reported like one (`--report FORMAT=PATH`): a run
//! record with no tasks and the gate as its only final gate.

use super::{exit, human, report_error, Format, PluginArgs};
use crate::plugins::{check_configured_program, resolve_grants, Kind};
use crate::report::{self, EnvView, Event, Level, ReportError, ReportSpec, Reporter};
use crate::sandbox::{Sandbox, SandboxOptions};
use planexec_record::Outcome;
use std::io::IsTerminal;

pub fn run(
    name: &str,
    args: &PluginArgs,
    format: Format,
    command: &[String],
    reports: &[ReportSpec],
) -> i32 {
    let (workspace, config, registry) = match super::load_workspace(args) {
        Ok(t) => t,
        Err(c) => return c,
    };
    let mut gate = config.gate(name);
    apply_command_line(&mut gate.settings, command);
    let plugin = match registry.get_kind(&gate.plugin, Kind::Gate) {
        Ok(p) => p,
        Err(e) => {
            report_error(&e);
            return exit::USAGE;
        }
    };
    // Every formatter named by --report must exist before the gate runs.
    for spec in reports {
        if let Err(e) = registry.get_kind(spec.format.plugin(), Kind::Formatter) {
            report_error(&e);
            return exit::USAGE;
        }
    }
    let grants = match resolve_grants(plugin, &config.policy, &args.grant, true) {
        Ok(g) => g,
        Err(e) => {
            report_error(&e);
            return exit::USAGE;
        }
    };
    if let Err(e) = check_configured_program(plugin, &grants, &gate.name, &gate.settings) {
        report_error(&e);
        return exit::USAGE;
    }
    let caps = match config.caps() {
        Ok(c) => c,
        Err(e) => {
            report_error(&e);
            return exit::USAGE;
        }
    };
    let sandbox = match Sandbox::new(SandboxOptions {
        caps,
        ..Default::default()
    }) {
        Ok(s) => s,
        Err(e) => {
            report_error(&e);
            return exit::USAGE;
        }
    };
    let loaded = match sandbox.load(plugin, grants) {
        Ok(l) => l,
        Err(e) => {
            report_error(&e);
            return exit::USAGE;
        }
    };
    let json = format == Format::Json;
    let env = EnvView::from_env();
    let mut reporter = Reporter::new(report::sinks(json, std::io::stdout().is_terminal(), &env));
    if let Some(w) = &loaded.cache_warning {
        reporter.emit(Event::Message {
            level: Level::Warn,
            text: w.clone(),
        });
    }
    let started_at = report::now_rfc3339();
    let run_id = report::gate_run_id(&gate.name, &started_at);
    reporter.emit(Event::GateRunStarted {
        run_id: run_id.clone(),
        gate: gate.name.clone(),
        plugin: gate.plugin.clone(),
        started_at: started_at.clone(),
    });
    reporter.emit(Event::GateStarted {
        task: None,
        gate: gate.name.clone(),
    });
    let (run, info) = crate::gate::run(&loaded, &gate, &workspace, None);
    reporter.emit(Event::GateFinished {
        task: None,
        run: run.clone(),
    });
    if !json {
        for l in &info.logs {
            let line = format!("[{}] {:?}: {}", run.plugin, l.level, l.message);
            eprintln!("{}", crate::text::untrusted(&line));
        }
        print!("{}", crate::text::untrusted(&human::gate_run(&run)));
    }
    let mut code = match run.report.outcome {
        Outcome::Passed | Outcome::Skipped => exit::OK,
        Outcome::Failed => exit::FAILED,
        // The gate refused its configuration (`config: ...`): the user's to fix, a usage error.
        Outcome::Errored if is_config_error(&run.report.summary) => exit::USAGE,
        Outcome::Errored => exit::PLUGIN_ERRORED,
    };
    let record = report::gate_record(run, started_at, report::now_rfc3339());
    if !reports.is_empty() {
        match report::write_reports(reports, &record, &sandbox, &registry, &config, &workspace) {
            Ok(paths) => {
                for (spec, p) in reports.iter().zip(paths) {
                    reporter.emit(Event::Message {
                        level: Level::Info,
                        text: format!("wrote {} report {}", spec.format, p.display()),
                    });
                }
            }
            Err(e) => {
                report_error(&e);
                code = match e {
                    ReportError::Render { .. } | ReportError::NoArtifact { .. } => {
                        exit::PLUGIN_ERRORED
                    }
                    _ => exit::USAGE,
                };
            }
        }
    }
    reporter.emit(Event::GateRunFinished {
        run_id,
        gate: gate.name.clone(),
        status: if code == exit::OK {
            record.status
        } else {
            planexec_record::RunStatus::Failure
        },
        outcome: record.final_gates[0].report.outcome,
        exit_code: code,
        finished_at: record.finished_at.clone().unwrap_or_default(),
    });
    reporter.finish(&record);
    code
}

/// The words after `--`: flags (`-- -k slow`, `-- --release`) are appended to the gate's
/// `args`, as if configured; a program (`-- cargo nextest run`) replaces the gate's command
/// (`program` + `args`, for the `command` and `junit` gates).
fn apply_command_line(settings: &mut serde_json::Value, command: &[String]) {
    let serde_json::Value::Object(m) = settings else {
        return;
    };
    let Some((first, rest)) = command.split_first() else {
        return;
    };
    if first.starts_with('-') {
        let mut args: Vec<serde_json::Value> = m
            .get("args")
            .and_then(|a| a.as_array().cloned())
            .unwrap_or_default();
        args.extend(command.iter().cloned().map(serde_json::Value::from));
        m.insert("args".into(), args.into());
    } else {
        m.remove("command");
        m.insert("program".into(), first.clone().into());
        m.insert("args".into(), rest.to_vec().into());
    }
}

/// A gate's summary when the plugin rejected its configuration.
fn is_config_error(summary: &str) -> bool {
    summary.starts_with("config: ") || summary.contains(": config: ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flags_after_the_double_dash_extend_args_and_a_program_replaces_the_command() {
        let mut s = json!({"args": ["tests"]});
        apply_command_line(&mut s, &["-k".into(), "slow".into()]);
        assert_eq!(s, json!({"args": ["tests", "-k", "slow"]}));
        let mut s = json!({"command": "x"});
        apply_command_line(&mut s, &["cargo".into(), "nextest".into()]);
        assert_eq!(s, json!({"program": "cargo", "args": ["nextest"]}));
    }
}
