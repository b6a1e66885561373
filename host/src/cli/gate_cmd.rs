//! `planexec gate run NAME`: one gate, in the current directory, as a CI step.

use super::{exit, human, report_error, Format, PluginArgs};
use crate::config::Config;
use crate::plugins::{check_configured_program, resolve_grants, Kind, Registry};
use crate::sandbox::{Sandbox, SandboxOptions};
use planexec_record::Outcome;

pub fn run(name: &str, args: &PluginArgs, format: Format, command: &[String]) -> i32 {
    let workspace = match super::current_dir() {
        Ok(d) => d,
        Err(c) => return c,
    };
    let config = match Config::load(&workspace) {
        Ok(c) => c,
        Err(e) => {
            report_error(&e);
            return exit::USAGE;
        }
    };
    let mut dirs = config.plugin_dirs.clone();
    dirs.extend(args.plugins.iter().cloned());
    let registry = match Registry::discover(&dirs) {
        Ok(r) => r,
        Err(e) => {
            report_error(&e);
            return exit::USAGE;
        }
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
    let sandbox = match Sandbox::new(SandboxOptions::default()) {
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
    let (run, info) = crate::gate::run(&loaded, &gate, &workspace, None);
    match format {
        Format::Human => {
            for l in &info.logs {
                eprintln!("[{}] {:?}: {}", run.plugin, l.level, l.message);
            }
            print!("{}", human::gate_run(&run));
        }
        Format::Json => {
            let ev = serde_json::json!({"event": "gate_finished", "gate": run.name, "plugin": run.plugin, "report": run.report});
            println!("{ev}");
        }
    }
    match run.report.outcome {
        Outcome::Passed | Outcome::Skipped => exit::OK,
        Outcome::Failed => exit::FAILED,
        Outcome::Errored => exit::PLUGIN_ERRORED,
    }
}
