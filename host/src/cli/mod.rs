//! The command line: argument parsing, and for each subcommand a thin driver
//! over the library; here errors become messages and exit codes.

mod check_cmd;
mod ci_cmd;
mod doctor_cmd;
mod gate_cmd;
mod hooks_cmd;
mod human;
mod init_cmd;
mod mcp_cmd;
mod packs_cmd;
mod plugin_new;
mod plugins_cmd;
mod report_html;
mod report_merge;
mod run_cmd;
mod status_cmd;
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

/// What `check` prints: the lint and waves (human, json) or the graph (mermaid, dot).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum CheckFormat {
    #[default]
    Human,
    Json,
    Mermaid,
    Dot,
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
    /// Work with reports: merge the shards of a sharded `gate run`.
    #[command(subcommand)]
    Report(ReportCmd),
    /// Print CI configuration that runs this repository's gates sharded.
    #[command(subcommand)]
    Ci(CiCmd),
    /// Inspect installed plugins.
    #[command(subcommand)]
    Plugins(PluginsCmd),
    /// This repository's runs (status, tasks done/blocked, where each stopped, the resume and
    /// rollback commands), or one run's tasks with their cycles, gates and reviews.
    Status {
        /// A run id (from the list) to show its tasks.
        run_id: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Git hooks that run the gates: pre-commit on the staged files, pre-push on what the push sends.
    #[command(subcommand)]
    Hooks(HooksCmd),
    /// Write a commented planexec.toml for this repository (its languages, pre-commit and lefthook hooks).
    Init {
        /// Replace an existing planexec.toml.
        #[arg(long)]
        force: bool,
    },
    /// Serve the plan's run to an agent over MCP (stdio): next_task, submit, status, escalate.
    /// planexec checks and commits each submission itself (docs/agent-mode.md).
    Mcp {
        /// The plan file or plan folder.
        #[arg(required_unless_present = "print_config")]
        plan: Option<PathBuf>,
        /// The MCP transport; stdio is the one there is.
        #[arg(long, value_enum, default_value_t = mcp_cmd::Transport::Stdio)]
        transport: mcp_cmd::Transport,
        /// Print the snippet CLIENT reads to start this server for PLAN, and where it goes.
        #[arg(long, value_enum, value_name = "CLIENT")]
        print_config: Option<crate::mcp::Client>,
        #[command(flatten)]
        plugin_args: PluginArgs,
        /// Read the plan as this dialect instead of detecting it.
        #[arg(long)]
        dialect: Option<String>,
    },
    /// Print a shell completion script (bash, zsh, fish, ...).
    Completions { shell: clap_complete::Shell },
    /// Write a new plugin (`plugin new`) or build one (`plugin build`).
    #[command(subcommand)]
    Plugin(PluginCmd),
    /// Shared plugin packs pinned in planexec.lock: add, update (shows what changes), verify, list.
    #[command(subcommand)]
    Packs(PacksCmd),
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
        /// Run even when HEAD is detached (the task commits are then on no branch).
        #[arg(long)]
        allow_detached: bool,
        /// Independent tasks of a wave running at once, each in its own git worktree
        /// (default 1: one after another).
        #[arg(long, short = 'j', value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
        jobs: Option<usize>,
        /// Also write a report at the end: junit, sarif, json, html or trace, to PATH. Repeatable.
        #[arg(long = "report", value_name = "FORMAT=PATH")]
        report: Vec<crate::report::ReportSpec>,
        /// Read the plan as this dialect instead of detecting it.
        #[arg(long)]
        dialect: Option<String>,
        /// Output: human (default) or json (NDJSON events). `--resume` keeps the run's unless given.
        #[arg(long, value_enum)]
        format: Option<Format>,
        /// With --resume: raise (or set) the run's budgets, KEY=VALUE separated by commas:
        /// cost (US dollars), tokens (200k, 2m), minutes. Kept for later resumes.
        #[arg(long, requires = "resume", value_name = "cost=N,tokens=N,minutes=N")]
        budget: Option<crate::engine::BudgetRaise>,
        /// With --resume: take the work tree, as you fixed it, as blocked task TASK's result
        /// (its gates and reviews still judge it; nothing they reject is committed).
        #[arg(long, requires = "resume", value_name = "TASK", group = "handback")]
        accept: Option<String>,
        /// With --resume: undo what blocked task TASK's attempt changed (a copy is kept) and
        /// start its cycles again; your other changes stay.
        #[arg(long, requires = "resume", value_name = "TASK", group = "handback")]
        retry: Option<String>,
        /// With --resume and --reason: mark blocked task TASK skipped (never committed);
        /// the tasks that depend on it wait.
        #[arg(long, requires_all = ["resume", "reason"], value_name = "TASK", group = "handback")]
        skip: Option<String>,
        /// Why the task is skipped (with --skip), kept in the record and the log.
        #[arg(long, requires = "skip")]
        reason: Option<String>,
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
    /// Lint a plan (file or folder) and show its execution waves, or draw its graph.
    Check {
        plan: PathBuf,
        /// Read the plan as this dialect instead of detecting it (tid, speckit, planpipe, execplan, kiro, taskmaster).
        #[arg(long)]
        dialect: Option<String>,
        /// human, json, or the dependency graph by wave as mermaid or dot (Graphviz).
        #[arg(long, value_enum, default_value_t)]
        format: CheckFormat,
        /// Show, for each task (or only TASK), the source line that made it a task and where
        /// each of its fields came from (file:line).
        #[arg(long, value_name = "TASK", num_args = 0..=1, default_missing_value = "")]
        explain: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum GateCmd {
    /// Run gates in the current directory, at once: the ones named, or every configured gate
    /// (else the standard gates that apply to the project). Unchanged inputs reuse the result.
    Run {
        /// Gates configured in planexec.toml ([gates.NAME]) or gate plugins' names.
        names: Vec<String>,
        /// Gates running at once (default: the number of cores).
        #[arg(long, short = 'j', value_parser = clap::value_parser!(usize))]
        jobs: Option<usize>,
        /// Start no more gates once one failed.
        #[arg(long)]
        fail_fast: bool,
        /// Run every gate, ignoring (and not storing) cached results.
        #[arg(long)]
        no_cache: bool,
        #[command(flatten)]
        plugin_args: PluginArgs,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Also write a report: junit, sarif, json, html or trace, to PATH (e.g. html=out/run.html). Repeatable.
        #[arg(long = "report", value_name = "FORMAT=PATH")]
        report: Vec<crate::report::ReportSpec>,
        /// Run shard I of N of each test gate's tests (pytest, go-test, cargo-test, vitest,
        /// jest); other gates run whole. Merge the shards' JSON reports with `report merge`.
        #[arg(long, value_name = "I/N")]
        shard: Option<crate::shard::ShardArg>,
        /// Balance the shards by the test times in FILE (written by `report merge`); a
        /// missing FILE is noted and the tests are assigned by hash.
        #[arg(long, value_name = "FILE", requires = "shard")]
        durations: Option<PathBuf>,
        /// Check what is staged, as staged (a copy of the index; the work tree is not touched):
        /// file gates get the staged files they check, others run whole or are skipped.
        #[arg(long, conflicts_with = "changed")]
        staged: bool,
        /// Check the files changed since REV (default `@{push}`; without an upstream, the
        /// merge base with the default branch), in the work tree.
        #[arg(long, value_name = "REV", num_args = 0..=1, default_missing_value = "@{push}")]
        changed: Option<String>,
        /// Program and arguments for gates that run a command (`command`, `junit`).
        #[arg(last = true, value_name = "PROGRAM ARGS")]
        command: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum HooksCmd {
    /// Write planexec's hooks into the repository's hooks directory (core.hooksPath honoured);
    /// another tool's hook is named and left alone unless --force (then kept beside it).
    Install {
        /// Which hooks (default: pre-commit and pre-push). Repeatable.
        #[arg(long = "hook", value_parser = ["pre-commit", "pre-push", "commit-msg"])]
        hooks: Vec<String>,
        /// Replace another tool's hook (it is moved aside, and put back by `uninstall`).
        #[arg(long)]
        force: bool,
    },
    /// Remove planexec's hooks (only planexec's).
    Uninstall,
    /// Check a commit message file against planexec.toml's [hooks.commit-msg] rules
    /// (what the commit-msg hook runs; exit 1 naming each broken rule).
    CommitMsg {
        /// The message file git passes the hook (.git/COMMIT_EDITMSG).
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReportCmd {
    /// Merge the JSON reports of a sharded `gate run` into one result (every shard once, of
    /// one run), write the usual reports and the durations file for the next run.
    Merge {
        /// Each shard's JSON report (`gate run --shard I/N --report json=FILE`).
        #[arg(required = true, value_name = "REPORT.json")]
        reports: Vec<PathBuf>,
        /// Also write a report of the merged result: junit, sarif, json, html or trace, to PATH. Repeatable.
        #[arg(long = "report", value_name = "FORMAT=PATH")]
        report: Vec<crate::report::ReportSpec>,
        /// Where to write the test times that balance the next run's shards.
        #[arg(long, value_name = "FILE", default_value = crate::shard::durations::DEFAULT_FILE)]
        durations: PathBuf,
        #[command(flatten)]
        plugin_args: PluginArgs,
    },
    /// Write the HTML page of a run: a run id of this repository, or a JSON report
    /// (`--report json=FILE`, or a merged one).
    Html {
        #[arg(value_name = "RUN-ID|REPORT.json")]
        source: String,
        /// The HTML file to write.
        #[arg(short = 'o', long = "output", value_name = "PATH")]
        output: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum CiCmd {
    /// Print a GitHub Actions workflow: a matrix job per shard running this repository's
    /// gates, each uploading its JSON report, and a job merging them.
    Github {
        /// Shards (matrix jobs).
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=256))]
        shards: u32,
        /// Gates to run (default: those `gate run` would run here).
        names: Vec<String>,
        /// How the workflow installs planexec: `git+URL[#REV]` (cargo builds that source,
        /// after adding the wasm32-wasip2 target) or a shell command (default: the source
        /// this planexec was built from, when it knows one).
        #[arg(long, value_name = "git+URL[#REV] | COMMAND")]
        install: Option<String>,
        /// The policy file the jobs run with, read from the base branch (never the pull
        /// request's copy).
        #[arg(long = "ci-policy", value_name = "FILE", default_value = ci_cmd::DEFAULT_POLICY)]
        ci_policy: String,
        #[command(flatten)]
        plugin_args: PluginArgs,
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

#[derive(Debug, Subcommand)]
pub enum PluginCmd {
    /// Scaffold a plugin: a Cargo project on the plugin kit, plugin.toml, a unit test, a README.
    New {
        kind: KindArg,
        name: String,
        /// Where to create it (default: ./NAME).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// The plugin kit: a folder, or `git+URL` (default: this planexec's source tree).
        #[arg(long)]
        pdk: Option<String>,
    },
    /// Build a plugin folder for wasm32-wasip2 and write the component's sha256 into plugin.toml.
    Build { dir: PathBuf },
}

/// The kinds `plugin new` scaffolds.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KindArg {
    Gate,
    Reviewer,
    Formatter,
    Implementer,
}

impl From<KindArg> for crate::plugins::Kind {
    fn from(k: KindArg) -> Self {
        match k {
            KindArg::Gate => Self::Gate,
            KindArg::Reviewer => Self::Reviewer,
            KindArg::Formatter => Self::Formatter,
            KindArg::Implementer => Self::Implementer,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum PacksCmd {
    /// Fetch a pack, show what its plugins may do, declare it in planexec.toml and lock it.
    Add {
        /// A folder, `git+URL#REV` (a tag, branch or commit), or an http(s) .tar.gz URL.
        source: String,
        /// The name to declare it under (default: pack.toml's name).
        #[arg(long)]
        name: Option<String>,
        /// Accept without asking.
        #[arg(long)]
        yes: bool,
    },
    /// Fetch declared packs again and show, per plugin, what the new version may do
    /// that the locked one could not; writes planexec.lock only when accepted.
    Update {
        /// Only this pack.
        name: Option<String>,
        /// Accept without asking.
        #[arg(long)]
        yes: bool,
    },
    /// Check that planexec.lock matches the declared packs and their files (for CI).
    Verify,
    /// List declared packs, what they are locked at, and their plugins.
    List {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

/// Runs the CLI and returns the process exit code.
pub fn main() -> i32 {
    // Parsed first: `--version`, `--help` and usage errors start no thread and sweep nothing.
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
    crate::sandbox::install_signal_cleanup();
    crate::sandbox::remove_stale(&std::env::temp_dir());
    match cli.command {
        Cmd::Gate(GateCmd::Run {
            names,
            plugin_args,
            format,
            report,
            jobs,
            fail_fast,
            no_cache,
            shard,
            durations,
            staged,
            changed,
            command,
        }) => gate_cmd::run(gate_cmd::GateRunArgs {
            names: &names,
            plugin_args: &plugin_args,
            format,
            command: &command,
            reports: &report,
            jobs,
            fail_fast,
            no_cache,
            shard,
            durations: durations.as_deref(),
            scope: match (staged, changed) {
                (true, _) => Some(crate::gates::scope::Scope::Staged),
                (false, Some(rev)) => Some(crate::gates::scope::Scope::Changed(rev)),
                (false, None) => None,
            },
        }),
        Cmd::Hooks(HooksCmd::Install { hooks, force }) => hooks_cmd::install(&hooks, force),
        Cmd::Hooks(HooksCmd::Uninstall) => hooks_cmd::uninstall(),
        Cmd::Hooks(HooksCmd::CommitMsg { file }) => hooks_cmd::commit_msg(&file),
        Cmd::Status { run_id, format } => status_cmd::run(run_id.as_deref(), format),
        Cmd::Report(ReportCmd::Merge {
            reports,
            report,
            durations,
            plugin_args,
        }) => report_merge::run(&reports, &report, &durations, &plugin_args),
        Cmd::Report(ReportCmd::Html { source, output }) => report_html::run(&source, &output),
        Cmd::Ci(CiCmd::Github {
            shards,
            names,
            install,
            ci_policy,
            plugin_args,
        }) => ci_cmd::github(
            shards,
            &names,
            &ci_cmd::CiOptions {
                install,
                policy: ci_policy,
            },
            &plugin_args,
        ),
        Cmd::Plugins(PluginsCmd::List {
            plugin_args,
            format,
        }) => plugins_cmd::list(&plugin_args, format),
        Cmd::Init { force } => init_cmd::run(force),
        Cmd::Plugin(PluginCmd::New {
            kind,
            name,
            dir,
            pdk,
        }) => plugin_new::new(kind.into(), &name, dir.as_deref(), pdk.as_deref()),
        Cmd::Plugin(PluginCmd::Build { dir }) => plugin_new::build(&dir),
        Cmd::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "planexec",
                &mut std::io::stdout(),
            );
            exit::OK
        }
        Cmd::Packs(p) => match p {
            PacksCmd::Add { source, name, yes } => packs_cmd::add(&source, name.as_deref(), yes),
            PacksCmd::Update { name, yes } => packs_cmd::update(name.as_deref(), yes),
            PacksCmd::Verify => packs_cmd::verify(),
            PacksCmd::List { format } => packs_cmd::list(format),
        },
        Cmd::Run {
            plan,
            plugin_args,
            implementer,
            resume,
            allow_detached,
            jobs,
            report,
            dialect,
            format,
            budget,
            accept,
            retry,
            skip,
            reason,
        } => run_cmd::run(run_cmd::RunArgs {
            handback: run_cmd::handback(accept, retry, skip, reason),
            budget,
            plan,
            dialect,
            plugin_args,
            implementer,
            resume,
            allow_detached,
            jobs,
            format,
            reports: report,
        }),
        Cmd::Mcp {
            plan,
            transport: _,
            print_config,
            plugin_args,
            dialect,
        } => match print_config {
            Some(client) => mcp_cmd::print_config(client, plan.as_deref()),
            None => mcp_cmd::serve(plan.unwrap_or_default(), plugin_args, dialect),
        },
        Cmd::Rollback { run_id, yes } => run_cmd::rollback(&run_id, yes),
        Cmd::Trust { show, revoke } => trust_cmd::run(show, revoke),
        Cmd::Doctor { format } => doctor_cmd::run(format),
        Cmd::Check {
            plan,
            dialect,
            format,
            explain,
        } => check_cmd::run(&plan, dialect.as_deref(), format, explain.as_deref()),
    }
}

/// Writes `text` to stdout; a reader that went away (EPIPE: `planexec ... | head`) is
/// not an error, the rest is dropped.
pub(crate) fn print_out(text: &str) {
    use std::io::Write;
    let _quiet = IgnoreSigpipe::new();
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}

/// SIGPIPE ignored while alive (planexec otherwise dies on a closed pipe, main.rs), so a
/// write to a reader that went away is an EPIPE error to ignore, not the end of the process.
pub(crate) struct IgnoreSigpipe(libc::sighandler_t);

impl IgnoreSigpipe {
    pub(crate) fn new() -> IgnoreSigpipe {
        // SAFETY: changes the disposition of one signal; the previous one is restored on drop.
        IgnoreSigpipe(unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) })
    }
}

impl Drop for IgnoreSigpipe {
    fn drop(&mut self) {
        // SAFETY: as in `new`.
        unsafe {
            libc::signal(libc::SIGPIPE, self.0);
        }
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
    let registry = crate::packs::registry(&workspace, &config, &dirs).map_err(|e| {
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

/// `run`'s exit code for a run that ran (`planexec mcp` exits the same way).
pub(crate) fn run_exit_code(f: &crate::engine::Finished) -> i32 {
    run_cmd::exit_code(f)
}
