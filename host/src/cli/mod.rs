//! The command line: argument parsing, and for each subcommand a thin driver
//! over the library; here errors become messages and exit codes.

mod check_cmd;
mod doctor_cmd;
mod gate_cmd;
mod human;
mod plugins_cmd;
mod run_cmd;
mod trust_cmd;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Exit codes, documented in the README.
pub mod exit {
    /// Every gate passed / the run succeeded.
    pub const OK: i32 = 0;
    /// A gate failed, a task is blocked, or a final gate failed.
    pub const FAILED: i32 = 1;
    /// Usage, configuration or input error; nothing ran.
    pub const USAGE: i32 = 2;
    /// A plugin errored (trap, timeout, bad output).
    pub const PLUGIN_ERRORED: i32 = 3;
    /// The run was stopped by SIGINT (Ctrl-C) / SIGTERM; its state is saved.
    pub const INTERRUPTED: i32 = 130;
    pub const TERMINATED: i32 = 143;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    #[default]
    Human,
    Json,
}

#[derive(Debug, Parser)]
#[command(
    name = "planexec",
    version,
    about = "Executes implementation plans with discipline that cannot be skipped."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Cmd,
}

#[derive(Debug, clap::Args, Clone, Default)]
pub struct PluginArgs {
    /// Add a folder of plugins (each a folder with plugin.toml and its component). Repeatable.
    #[arg(long = "plugins", value_name = "DIR")]
    pub plugins: Vec<PathBuf>,
    /// Grant a program to plugins for this invocation (adds to planexec.toml's policy). Repeatable.
    #[arg(long = "grant", value_name = "PROGRAM")]
    pub grant: Vec<String>,
    /// Run the programs plugins ask for without the box (logged; for debugging only).
    #[arg(long)]
    pub unconfined: bool,
    /// Trust this repository's planexec.toml as it is, for this invocation (also PLANEXEC_TRUST=1).
    /// Never for a pull request's own config in CI.
    #[arg(long)]
    pub trust: bool,
    /// Take policy ([policy], [plugins], [limits]) from FILE as well as the user's config.
    #[arg(long = "policy", value_name = "FILE")]
    pub policy: Option<PathBuf>,
}

impl PluginArgs {
    pub fn sources(&self) -> crate::trust::Sources {
        crate::trust::Sources::from_env(self.trust, self.policy.clone())
    }
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Run or inspect gates.
    #[command(subcommand)]
    Gate(GateCmd),
    /// Inspect installed plugins.
    #[command(subcommand)]
    Plugins(PluginsCmd),
    /// Execute a plan: rollback point, tasks in order, gates, dual review, one commit per task.
    Run {
        /// The plan file or plan folder.
        plan: PathBuf,
        #[command(flatten)]
        plugin_args: PluginArgs,
        /// The implementer adapter (overrides [run] implementer in planexec.toml).
        #[arg(long)]
        implementer: Option<String>,
        /// Continue the unfinished run of this plan.
        #[arg(long)]
        resume: bool,
        /// Also write a report at the end: junit, sarif or json, to PATH. Repeatable.
        #[arg(long = "report", value_name = "FORMAT=PATH")]
        report: Vec<crate::report::ReportSpec>,
        /// Read the plan as this dialect instead of detecting it.
        #[arg(long)]
        dialect: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Restore a run's start commit (asks for --yes; says what it would discard).
    Rollback {
        run_id: String,
        /// Really do it.
        #[arg(long)]
        yes: bool,
    },
    /// Trust this repository's planexec.toml (records its sha256 in your config) after
    /// showing what it grants and, if it changed, what changed.
    Trust {
        /// Only show what it grants; record nothing.
        #[arg(long)]
        show: bool,
        /// Forget it: its policy and program settings stop counting.
        #[arg(long, conflicts_with = "show")]
        revoke: bool,
    },
    /// Show what this machine supports for confining programs, and what planexec will do.
    Doctor {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Lint a plan (file or folder) and show its execution waves.
    Check {
        plan: PathBuf,
        /// Read the plan as this dialect instead of detecting it (tid, speckit, planpipe, execplan).
        #[arg(long)]
        dialect: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

#[derive(Debug, Subcommand)]
pub enum GateCmd {
    /// Run one gate in the current directory.
    Run {
        /// A gate configured in planexec.toml ([gates.NAME]) or a gate plugin's name.
        name: String,
        #[command(flatten)]
        plugin_args: PluginArgs,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Also write a report: junit, sarif or json, to PATH (e.g. junit=out/junit.xml). Repeatable.
        #[arg(long = "report", value_name = "FORMAT=PATH")]
        report: Vec<crate::report::ReportSpec>,
        /// Program and arguments for gates that run a command (`command`, `junit`).
        #[arg(last = true, value_name = "PROGRAM ARGS")]
        command: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum PluginsCmd {
    /// List plugins with their kind, version, digest and capabilities.
    List {
        #[command(flatten)]
        plugin_args: PluginArgs,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

/// Runs the CLI and returns the process exit code.
pub fn main() -> i32 {
    crate::sandbox::install_signal_cleanup();
    crate::sandbox::remove_stale(&std::env::temp_dir());
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
            let _ = e.print();
            return code;
        }
    };
    match cli.command {
        Cmd::Gate(GateCmd::Run {
            name,
            plugin_args,
            format,
            report,
            command,
        }) => gate_cmd::run(&name, &plugin_args, format, &command, &report),
        Cmd::Plugins(PluginsCmd::List {
            plugin_args,
            format,
        }) => plugins_cmd::list(&plugin_args, format),
        Cmd::Run {
            plan,
            plugin_args,
            implementer,
            resume,
            report,
            dialect,
            format,
        } => run_cmd::run(run_cmd::RunArgs {
            plan,
            dialect,
            plugin_args,
            implementer,
            resume,
            format,
            reports: report,
        }),
        Cmd::Rollback { run_id, yes } => run_cmd::rollback(&run_id, yes),
        Cmd::Trust { show, revoke } => trust_cmd::run(show, revoke),
        Cmd::Doctor { format } => doctor_cmd::run(format),
        Cmd::Check {
            plan,
            dialect,
            format,
        } => check_cmd::run(&plan, dialect.as_deref(), format),
    }
}

/// Prints an error the way every command does: `error: ...` on stderr.
pub(crate) fn report_error(e: &dyn std::fmt::Display) {
    eprintln!("error: {}", crate::text::untrusted(&e.to_string()));
}

/// The current directory, its planexec.toml, and the plugins it can see
/// (the standard pack, `[plugins] dirs`, then `--plugins`); errors printed, exit 2.
pub(crate) fn load_workspace(
    args: &PluginArgs,
) -> Result<(PathBuf, crate::config::Config, crate::plugins::Registry), i32> {
    let workspace = current_dir()?;
    let assembled = crate::config::Config::assemble(&workspace, &args.sources()).map_err(|e| {
        report_error(&e);
        exit::USAGE
    })?;
    if let Some(w) = assembled.ignored_warning() {
        eprintln!("warning: {}", crate::text::untrusted(&w));
    }
    let mut config = assembled.config;
    if args.unconfined {
        warn_unconfined();
        config.policy.confinement = crate::confine::Confinement::Off;
    }
    let mut dirs = config.plugin_dirs.clone();
    dirs.extend(args.plugins.iter().cloned());
    let registry = crate::plugins::Registry::discover(&dirs).map_err(|e| {
        report_error(&e);
        exit::USAGE
    })?;
    Ok((workspace, config, registry))
}

/// Said on stderr whenever `--unconfined` is used.
pub(crate) fn warn_unconfined() {
    eprintln!(
        "warning: --unconfined: the programs plugins run are not boxed (they see the whole environment, \
         filesystem and network of this user)"
    );
}

pub(crate) fn current_dir() -> Result<PathBuf, i32> {
    std::env::current_dir().map_err(|e| {
        report_error(&format!("cannot read the current directory: {e}"));
        exit::USAGE
    })
}
