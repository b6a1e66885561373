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
    if let Some((program, rest)) = command.split_first() {
        if let serde_json::Value::Object(m) = &mut gate.settings {
            m.remove("command");
            m.insert("program".into(), program.clone().into());
            m.insert("args".into(), rest.to_vec().into());
        }
    }
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
    reporter.finish(&record);
    code
}
