//! `planexec gate run [NAME...]`: gates in the current directory, as a CI step, all at once
//! and cached; shown like a run (NDJSON, plain lines, live display, GitHub annotations) and
//! reported like one (`--report FORMAT=PATH`): a record with the gates as its final gates.

use super::{exit, human, report_error, Format, PluginArgs};
use crate::config::{Config, GateConfig};
use crate::gates::files::{self, Narrowed};
use crate::gates::scope::{self, Prepared};
use crate::gates::{self, store::ResultCache, Done, Job, Progress};
use crate::plugins::{check_configured_program, resolve_grants, Kind, Registry};
use crate::report::{self, EnvView, Event, Level, ReportError, ReportSpec, Reporter};
use crate::sandbox::{Loaded, Sandbox, SandboxOptions};
use crate::shard::{durations::Durations, GateShard, ShardArg};
use planexec_record::{GateRun, Outcome};
use std::io::IsTerminal;
use std::path::Path;

/// `planexec gate run` as the user asked for it.
pub struct GateRunArgs<'a> {
    /// Gates to run; empty: every configured gate, else the standard gates that apply.
    pub names: &'a [String],
    pub plugin_args: &'a PluginArgs,
    pub format: Format,
    /// The words after `--` (one gate only).
    pub command: &'a [String],
    pub reports: &'a [ReportSpec],
    /// Gates at once; default the number of cores.
    pub jobs: Option<usize>,
    pub fail_fast: bool,
    pub no_cache: bool,
    /// `--shard I/N`: each test gate runs its part I of N of its tests.
    pub shard: Option<ShardArg>,
    /// `--durations FILE`: recorded test times that balance the shards.
    pub durations: Option<&'a Path>,
    /// `--staged` / `--changed [REV]`: only those files, for the gates that check files.
    pub scope: Option<gates::scope::Scope>,
}

pub fn run(a: GateRunArgs) -> i32 {
    let (workspace, config, registry) = match super::load_workspace(a.plugin_args) {
        Ok(t) => t,
        Err(c) => return c,
    };
    let gates = match chosen_gates(&a, &config, &workspace) {
        Ok(g) => g,
        Err(c) => return c,
    };
    let (gates, skips, notes, prepared) = match scoped(&a, gates, &workspace) {
        Ok(t) => t,
        Err(c) => return c,
    };
    let checked_in = prepared
        .as_ref()
        .map_or(workspace.clone(), |p| p.workspace.clone());
    let durations = match shard_durations(&a) {
        Ok(d) => d,
        Err(c) => return c,
    };
    // Every formatter named by --report must exist before the gates run.
    for spec in a.reports {
        let Some(plugin) = spec.format.plugin() else {
            continue;
        };
        if let Err(e) = registry.get_kind(plugin, Kind::Formatter) {
            report_error(&e);
            return exit::USAGE;
        }
    }
    let sandbox = match config.caps().map_err(|e| e.to_string()).and_then(|caps| {
        Sandbox::new(SandboxOptions {
            caps,
            ..Default::default()
        })
        .map_err(|e| e.to_string())
    }) {
        Ok(s) => s,
        Err(e) => {
            report_error(&e);
            return exit::USAGE;
        }
    };
    let mut loaded = Vec::with_capacity(gates.len());
    for g in &gates {
        match load_gate(g, &registry, &config, a.plugin_args, &sandbox) {
            Ok(l) => loaded.push(l),
            Err(c) => return c,
        }
    }
    let json = a.format == Format::Json;
    let env = EnvView::from_env();
    let mut reporter = Reporter::new(report::sinks(json, std::io::stdout().is_terminal(), &env));
    for w in loaded.iter().filter_map(|l| l.cache_warning.as_ref()) {
        warn(&mut reporter, Level::Warn, w.clone());
    }
    for n in notes {
        warn(&mut reporter, Level::Info, n);
    }
    let cache = open_cache(a.no_cache, &mut reporter);
    let order = match ordering(&gates, &loaded, &config) {
        Ok(o) => o,
        Err(c) => return c,
    };
    let outputs: Vec<String> = loaded
        .iter()
        .flat_map(|l| l.grants.writes.clone())
        .collect();
    let jobs: Vec<Job> = gates
        .into_iter()
        .zip(&loaded)
        .zip(order)
        .zip(skips)
        .map(|(((cfg, l), after), skip)| Job {
            cache: config.caches(&cfg.name),
            shard: a.shard.map(|part| GateShard {
                part,
                durations: durations
                    .as_ref()
                    .map(|d| d.for_gate(&cfg.name))
                    .unwrap_or_default(),
            }),
            cfg,
            loaded: l,
            after,
            task: None,
            skip,
        })
        .collect();
    let opts = gates::Options {
        jobs: a.jobs.unwrap_or_else(default_jobs),
        fail_fast: a.fail_fast,
        cache: cache.as_ref(),
        outputs,
        checked: prepared.as_ref().and_then(|p| p.checked.clone()),
    };
    let started_at = report::now_rfc3339();
    let names: Vec<String> = jobs.iter().map(|j| j.cfg.name.clone()).collect();
    let run_id = report::gate_run_id(&names.join("+"), &started_at);
    reporter.emit(Event::GateRunStarted {
        run_id: run_id.clone(),
        gates: names.clone(),
        started_at: started_at.clone(),
    });
    let mut timings = Vec::new();
    let done = gates::run_set(&jobs, &checked_in, &opts, |p| {
        if let gates::Progress::Finished(_, d) = &p {
            let ms = d.run.report.duration_ms;
            let step = planexec_record::StepKind::Gate;
            timings.push(report::timing::ending_now(step, d.run.name.clone(), ms));
        }
        show(&mut reporter, &jobs, p)
    });
    if !json {
        for d in &done {
            print_done(d);
        }
    }
    let mut code = exit_code(&done);
    let runs: Vec<GateRun> = done.into_iter().map(|d| d.run).collect();
    let mut record = report::gate_record(runs, started_at, report::now_rfc3339());
    record.timings = timings;
    record.shard = a.shard.map(|s| planexec_record::Shard {
        index: s.index,
        count: s.count,
        durations: durations.as_ref().map(Durations::digest),
    });
    if let Some(c) = write_reports(
        a.reports,
        &record,
        &sandbox,
        &registry,
        &config,
        &workspace,
        &mut reporter,
    ) {
        code = c;
    }
    reporter.emit(Event::GateRunFinished {
        run_id,
        gates: names,
        status: if code == exit::OK {
            record.status
        } else {
            planexec_record::RunStatus::Failure
        },
        outcome: worst(&record.final_gates),
        exit_code: code,
        finished_at: record.finished_at.clone().unwrap_or_default(),
    });
    reporter.finish(&record);
    code
}

/// The durations file of `--durations` (needs `--shard`); none yet is said and not an error:
/// the first sharded run of a CI setup has none, and shards by hash.
fn shard_durations(a: &GateRunArgs) -> Result<Option<Durations>, i32> {
    let Some(path) = a.durations else {
        return Ok(None);
    };
    if a.shard.is_none() {
        report_error(&"--durations balances shards: it needs --shard I/N");
        return Err(exit::USAGE);
    }
    match Durations::read(path) {
        Ok(Some(d)) => Ok(Some(d)),
        Ok(None) => {
            eprintln!(
                "note: no durations file at {} yet: tests are assigned to shards by hash (`planexec report merge` writes it)",
                crate::text::untrusted(&path.display().to_string())
            );
            Ok(None)
        }
        Err(e) => {
            report_error(&e);
            Err(exit::USAGE)
        }
    }
}

/// The gates narrowed to the scope's files (`--staged`, `--changed`; without one, `{files}`
/// means every tracked file): their settings, why each is skipped if it is, notes on gates
/// that run whole, and the prepared scope (its staged copy lives as long as it does).
#[allow(clippy::type_complexity)]
fn scoped(
    a: &GateRunArgs,
    mut gates: Vec<GateConfig>,
    workspace: &Path,
) -> Result<
    (
        Vec<GateConfig>,
        Vec<Option<String>>,
        Vec<String>,
        Option<Prepared>,
    ),
    i32,
> {
    let usage = |e: &dyn std::fmt::Display| {
        report_error(e);
        exit::USAGE
    };
    let prepared = match &a.scope {
        Some(s) => Some(scope::prepare(s, workspace).map_err(|e| usage(&e))?),
        None => None,
    };
    let mut skips = Vec::with_capacity(gates.len());
    let mut notes = Vec::new();
    let mut tracked: Option<Vec<String>> = None;
    for g in &mut gates {
        let (files, label) = match &prepared {
            Some(p) => (&p.files, p.label.as_str()),
            None if files::has_placeholder(&g.settings) => {
                if tracked.is_none() {
                    tracked = Some(scope::tracked(workspace).map_err(|e| usage(&e))?);
                }
                (
                    tracked.as_ref().unwrap_or_else(|| unreachable!()),
                    "tracked",
                )
            }
            None => {
                skips.push(None);
                continue;
            }
        };
        if files.is_empty() && prepared.is_some() {
            skips.push(Some(format!("no {label} files")));
            continue;
        }
        match files::narrow(g, files, label).map_err(|e| usage(&e))? {
            Narrowed::Files(settings, n) => {
                notes.push(format!("gate {}: {n} {label} file(s)", g.name));
                g.settings = settings;
                skips.push(None);
            }
            Narrowed::Whole(why) => {
                notes.push(format!("gate {}: {why}", g.name));
                skips.push(None);
            }
            Narrowed::Skip(why) => skips.push(Some(why)),
        }
    }
    Ok((gates, skips, notes, prepared))
}

/// The gates named, or the default set; `-- ARGS` applies to a single gate only.
fn chosen_gates(
    a: &GateRunArgs,
    config: &Config,
    workspace: &Path,
) -> Result<Vec<GateConfig>, i32> {
    let mut gates: Vec<GateConfig> = if a.names.is_empty() {
        gates::select::default_gates(config, workspace)
    } else {
        a.names.iter().map(|n| config.gate(n)).collect()
    };
    if gates.is_empty() {
        report_error(&"no gates to run: none is configured in planexec.toml ([gates.NAME]) and no project file (pyproject.toml, go.mod, Cargo.toml, package.json) names a standard gate; name one: `planexec gate run pytest`");
        return Err(exit::USAGE);
    }
    if !a.command.is_empty() {
        if gates.len() != 1 {
            report_error(&format!(
                "arguments after `--` go to one gate, but {} gates would run ({}); name the one gate they are for",
                gates.len(),
                gates.iter().map(|g| g.name.as_str()).collect::<Vec<_>>().join(", ")
            ));
            return Err(exit::USAGE);
        }
        let runs_a_command = matches!(gates[0].plugin.as_str(), "command" | "junit");
        apply_command_line(&mut gates[0].settings, a.command, runs_a_command);
    }
    Ok(gates)
}

/// The gate's plugin, granted what the policy (and --grant) allows, loaded in the sandbox.
fn load_gate(
    gate: &GateConfig,
    registry: &Registry,
    config: &Config,
    args: &PluginArgs,
    sandbox: &Sandbox,
) -> Result<Loaded, i32> {
    let usage = |e: &dyn std::fmt::Display| {
        report_error(e);
        exit::USAGE
    };
    let plugin = registry
        .get_kind(&gate.plugin, Kind::Gate)
        .map_err(|e| usage(&e))?;
    let grants =
        resolve_grants(plugin, &config.policy, &args.grant, true).map_err(|e| usage(&e))?;
    check_configured_program(plugin, &grants, &gate.name, &gate.settings).map_err(|e| usage(&e))?;
    sandbox.load(plugin, grants).map_err(|e| usage(&e))
}

/// For each gate, the gates of the set it waits for: its `[gates.NAME] after`, and for the
/// coverage plugin every gate that may write the workspace (coverage reads what they write).
fn ordering(
    gates: &[GateConfig],
    loaded: &[Loaded],
    config: &Config,
) -> Result<Vec<Vec<usize>>, i32> {
    let index = |n: &str| gates.iter().position(|g| g.name == n);
    let after: Vec<Vec<usize>> = gates
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let mut a: Vec<usize> = config
                .after(&g.name)
                .iter()
                .filter_map(|n| index(n))
                .collect();
            if loaded[i].name() == "coverage" {
                a.extend(
                    (0..gates.len()).filter(|&j| j != i && !loaded[j].grants.writes.is_empty()),
                );
            }
            a.sort_unstable();
            a.dedup();
            a
        })
        .collect();
    if let Some(c) = gates::cycle(&after) {
        let names: Vec<&str> = c.iter().map(|&i| gates[i].name.as_str()).collect();
        report_error(&format!(
            "planexec.toml: the gates' `after` lists form a cycle ({} -> {}); remove one of them",
            names.join(" -> "),
            names[0]
        ));
        return Err(exit::USAGE);
    }
    Ok(after)
}

/// The result cache, unless --no-cache or it cannot be used (then said once, as a note).
fn open_cache(no_cache: bool, reporter: &mut Reporter) -> Option<ResultCache> {
    if no_cache {
        return None;
    }
    let dir = gates::store::default_dir()?;
    match ResultCache::open(dir) {
        Ok(c) => Some(c),
        Err(why) => {
            warn(
                reporter,
                Level::Warn,
                format!("gate result cache off: {why}"),
            );
            None
        }
    }
}

fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

fn warn(reporter: &mut Reporter, level: Level, text: String) {
    reporter.emit(Event::Message { level, text });
}

/// Live events: a gate started, a gate finished (a cache hit says whose result it reuses).
fn show(reporter: &mut Reporter, jobs: &[Job], p: Progress) {
    match p {
        Progress::Started(i) => reporter.emit(Event::GateStarted {
            task: None,
            gate: jobs[i].cfg.name.clone(),
        }),
        Progress::Finished(_, d) => {
            if let Some(at) = &d.cached_at {
                warn(
                    reporter,
                    Level::Info,
                    format!(
                        "gate {}: cache hit, the result of the run at {at} (inputs unchanged; --no-cache runs it)",
                        d.run.name
                    ),
                );
            }
            reporter.emit(Event::GateFinished {
                task: None,
                run: d.run.clone(),
            });
        }
    }
}

/// One gate's output, kept together: its plugin's log lines, then the result.
fn print_done(d: &Done) {
    if let Some(info) = &d.info {
        for l in &info.logs {
            let line = format!("[{}] {:?}: {}", d.run.plugin, l.level, l.message);
            eprintln!("{}", crate::text::untrusted(&line));
        }
    }
    if let Some(at) = &d.cached_at {
        println!(
            "gate {}: cached result of the run at {at}",
            crate::text::untrusted(&d.run.name)
        );
    }
    print!("{}", crate::text::untrusted(&human::gate_run(&d.run)));
}

/// The worst outcome of the gates: errored, then failed, passed, skipped.
fn worst(runs: &[GateRun]) -> Outcome {
    let rank = |o: Outcome| match o {
        Outcome::Errored => 3,
        Outcome::Failed => 2,
        Outcome::Passed => 1,
        Outcome::Skipped => 0,
    };
    runs.iter()
        .map(|r| r.report.outcome)
        .max_by_key(|o| rank(*o))
        .unwrap_or(Outcome::Skipped)
}

/// The worst outcome decides: a configuration the gate refused (usage), an errored gate,
/// a failed one, else success.
fn exit_code(done: &[Done]) -> i32 {
    let code = |d: &Done| match d.run.report.outcome {
        Outcome::Passed | Outcome::Skipped => exit::OK,
        Outcome::Failed => exit::FAILED,
        // The gate refused its configuration (`config: ...`): the user's to fix, a usage error.
        Outcome::Errored if is_config_error(&d.run.report.summary) => exit::USAGE,
        Outcome::Errored => exit::PLUGIN_ERRORED,
    };
    let rank = |c: i32| match c {
        c if c == exit::USAGE => 3,
        c if c == exit::PLUGIN_ERRORED => 2,
        c if c == exit::FAILED => 1,
        _ => 0,
    };
    done.iter()
        .map(code)
        .max_by_key(|c| rank(*c))
        .unwrap_or(exit::OK)
}

/// `--report` outputs; Some(exit code) when one could not be written.
fn write_reports(
    reports: &[ReportSpec],
    record: &planexec_record::RunRecord,
    sandbox: &Sandbox,
    registry: &Registry,
    config: &Config,
    workspace: &Path,
    reporter: &mut Reporter,
) -> Option<i32> {
    if reports.is_empty() {
        return None;
    }
    match report::write_reports(reports, record, sandbox, registry, config, workspace) {
        Ok(paths) => {
            for (spec, p) in reports.iter().zip(paths) {
                warn(
                    reporter,
                    Level::Info,
                    format!("wrote {} report {}", spec.format, p.display()),
                );
            }
            None
        }
        Err(e) => {
            report_error(&e);
            Some(match e {
                ReportError::Render { .. } | ReportError::NoArtifact { .. } => exit::PLUGIN_ERRORED,
                _ => exit::USAGE,
            })
        }
    }
}

/// The words after `--`: for a gate that runs a command (`command`, `junit`), a first word
/// that is not a flag is the program (`-- cargo nextest run` replaces `program` + `args`);
/// everything else (`pytest -- tests/x.py -k slow`, `-- --release`) is appended to the
/// gate's `args`, as if configured.
fn apply_command_line(settings: &mut serde_json::Value, command: &[String], runs_a_command: bool) {
    let serde_json::Value::Object(m) = settings else {
        return;
    };
    let Some((first, rest)) = command.split_first() else {
        return;
    };
    if first.starts_with('-') || !runs_a_command {
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
        apply_command_line(&mut s, &["-k".into(), "slow".into()], false);
        assert_eq!(s, json!({"args": ["tests", "-k", "slow"]}));
        let mut s = json!({"command": "x"});
        apply_command_line(&mut s, &["cargo".into(), "nextest".into()], true);
        assert_eq!(s, json!({"program": "cargo", "args": ["nextest"]}));
    }

    #[test]
    fn a_path_after_the_double_dash_of_a_test_gate_is_an_argument_not_a_program() {
        let mut s = json!({});
        apply_command_line(
            &mut s,
            &["tests/test_x.py".into(), "-k".into(), "slow".into()],
            false,
        );
        assert_eq!(s, json!({"args": ["tests/test_x.py", "-k", "slow"]}));
    }
}
