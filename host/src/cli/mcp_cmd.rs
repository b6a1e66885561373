//! `planexec mcp PLAN` (serve the run to an agent over stdio) and
//! `planexec mcp --print-config CLIENT` (the snippet a client reads).

use super::{exit, report_error, PluginArgs};
use crate::engine::RunOptions;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Transport {
    Stdio,
}

pub fn serve(plan: PathBuf, plugin_args: PluginArgs, dialect: Option<String>) -> i32 {
    let dialect = match dialect
        .as_deref()
        .map(str::parse::<planexec_plan::Dialect>)
        .transpose()
    {
        Ok(d) => d,
        Err(e) => {
            report_error(&e);
            return exit::USAGE;
        }
    };
    if plugin_args.unconfined {
        super::warn_unconfined();
    }
    if let Err(e) = crate::interrupt::install() {
        eprintln!("warning: cannot handle Ctrl-C gracefully: {e}");
    }
    let opts = RunOptions {
        plan,
        dialect,
        plugin_dirs: plugin_args.plugins.clone(),
        grants: plugin_args.grant.clone(),
        sources: plugin_args.sources(),
        unconfined: plugin_args.unconfined,
        ..Default::default()
    };
    match crate::mcp::serve(opts) {
        Ok(code) => code,
        Err(e) => {
            report_error(&e);
            exit::USAGE
        }
    }
}

/// Prints CLIENT's snippet for PLAN (absolute) and, on stderr, the file it goes in.
pub fn print_config(client: crate::mcp::Client, plan: Option<&Path>) -> i32 {
    let Some(plan) = plan else {
        report_error(&"--print-config needs the plan: planexec mcp PLAN --print-config CLIENT");
        return exit::USAGE;
    };
    let abs = match std::env::current_dir() {
        Ok(cwd) => cwd.join(plan),
        Err(e) => {
            report_error(&e);
            return exit::USAGE;
        }
    };
    if !abs.exists() {
        report_error(&format!(
            "no plan at {}: give the plan file or folder",
            abs.display()
        ));
        return exit::USAGE;
    }
    let abs = abs.canonicalize().unwrap_or(abs);
    eprintln!(
        "# for {}: {}",
        format!("{client:?}").to_lowercase(),
        client.file()
    );
    super::print_out(&crate::mcp::snippet(client, &crate::mcp::program(), &abs));
    exit::OK
}
