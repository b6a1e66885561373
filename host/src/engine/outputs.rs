//! What a run writes and decides besides the loop: where the execution log
//! lives, the living outputs (log, planpipe status), tolerances, final gates,
//! and the final report.

use super::Ctx;
use crate::config::Config;
use crate::report::Event;
use planexec_plan::Plan;
use planexec_record::*;
use std::path::{Component, Path, PathBuf};

/// Where the one execution log goes: memory-bank/execute/ for memory-bank plans,
/// .artifacts/execute/ for .artifacts plans, else beside the plan.
pub fn log_path(workspace: &Path, plan: &Plan, started: &time::OffsetDateTime) -> String {
    let stamp = started
        .format(time::macros::format_description!(
            "[year]-[month]-[day]_[hour]-[minute]-[second]"
        ))
        .unwrap_or_default();
    let root = plan.plan_root();
    let rel_root = super::rel(workspace, root);
    let parts: Vec<&str> = rel_root.split('/').collect();
    let file = format!("{stamp}_{}.md", plan.topic());
    for (i, w) in parts.windows(2).enumerate() {
        if (w[0] == "memory-bank" || w[0] == ".artifacts") && w[1] == "plan" {
            let mut p: Vec<&str> = parts[..i].to_vec();
            p.push(w[0]);
            p.push("execute");
            return format!("{}/{file}", p.join("/"));
        }
    }
    let dir = if rel_root.is_empty() || rel_root == "." {
        String::new()
    } else {
        format!("{rel_root}/")
    };
    format!("{dir}{}-execution-log.md", plan.topic())
}

/// Files planexec writes into the work tree; never part of a task's changes.
pub fn own_files(workspace: &Path, plan: &Plan, record: &RunRecord) -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Some(l) = &record.log_path {
        v.push(workspace.join(l));
    }
    v.push(plan.plan_root().join("execution-status.md"));
    v.push(plan.plan_root().join("execution-summary.md"));
    // plans whose done markers the run writes back (planexec_plan::mark_done)
    use planexec_plan::Dialect::{ExecPlan, Kiro, SpecKit, Taskmaster};
    if matches!(plan.dialect, ExecPlan | Kiro | SpecKit | Taskmaster) || plan.variant == "outline" {
        v.push(plan.source.clone());
    }
    v
}

pub fn env_facts() -> std::collections::BTreeMap<String, String> {
    let mut m = std::collections::BTreeMap::new();
    m.insert("planexec".into(), env!("CARGO_PKG_VERSION").into());
    m.insert(
        "os".into(),
        format!("{}-{}", std::env::consts::OS, std::env::consts::ARCH),
    );
    m
}

/// Re-renders the execution log and planpipe status from the record and writes
/// them atomically, beneath the workspace, never through a symlink. A formatter
/// that returns anything but this run's outputs errors and nothing of it is written.
pub fn write_living(ctx: &mut Ctx) {
    let json = serde_json::to_string(&ctx.state.record).expect("record serialises");
    let mut problems = Vec::new();
    let rendered = ctx
        .plugins
        .render(ctx.workspace, &json, ctx.state.record.log_path.as_deref());
    for r in rendered {
        let base: PathBuf = if r.plugin == "planpipe-status" {
            ctx.plan.plan_root().to_path_buf()
        } else {
            ctx.workspace.to_path_buf()
        };
        let arts = match r.result {
            Ok(a) => a,
            Err(f) => {
                problems.push((crate::report::Level::Warn, f));
                continue;
            }
        };
        let dests: Result<Vec<PathBuf>, String> = arts
            .iter()
            .map(|(path, _)| artifact_dest(ctx, &base, path))
            .collect();
        let dests = match dests {
            Ok(d) => d,
            Err(why) => {
                problems.push((
                    crate::report::Level::Error,
                    format!(
                        "formatter `{}` errored: {why}; nothing it returned was written",
                        r.plugin
                    ),
                ));
                continue;
            }
        };
        for (dst, (_, content)) in dests.iter().zip(&arts) {
            let (root, rel) = match dst.strip_prefix(ctx.workspace) {
                Ok(rel) => (ctx.workspace, rel),
                Err(_) => (base.as_path(), dst.strip_prefix(&base).unwrap_or(dst)),
            };
            if let Err(e) = crate::rooted::write(root, rel, content) {
                problems.push((crate::report::Level::Warn, e.to_string()));
            }
        }
    }
    for (level, text) in problems {
        ctx.emit(Event::Message { level, text });
    }
}

/// When the living outputs are rewritten: at the first status change, then
/// once at least [`Pace::MIN`] and ten times the last rendering's cost have
/// passed, and always when the run stops. Rendering reads the whole record, so
/// rendering at every status change would make a long plan's cost quadratic;
/// paced, it stays under a tenth of the run's time.
#[derive(Debug, Default)]
pub struct Pace {
    last: Option<std::time::Instant>,
    cost: std::time::Duration,
}

impl Pace {
    pub const MIN: std::time::Duration = std::time::Duration::from_millis(500);

    pub fn due(&self) -> bool {
        match self.last {
            None => true,
            Some(t) => t.elapsed() >= Self::MIN.max(self.cost * 10),
        }
    }

    pub fn rendered(&mut self, cost: std::time::Duration) {
        self.last = Some(std::time::Instant::now());
        self.cost = cost;
    }
}

/// The run's own outputs: the execution log, planpipe's status and summary.
fn outputs(ctx: &Ctx) -> Vec<PathBuf> {
    let root = ctx.plan.plan_root();
    let mut v = vec![
        root.join("execution-status.md"),
        root.join("execution-summary.md"),
    ];
    if let Some(l) = &ctx.state.record.log_path {
        v.push(ctx.workspace.join(l));
    }
    v
}

/// Where an artifact named `rel` (relative to `base`) goes, if it may: one of
/// [`outputs`], never inside `.git`, never planexec.toml, never a task's file.
fn artifact_dest(ctx: &Ctx, base: &Path, rel: &str) -> Result<PathBuf, String> {
    let shown = crate::text::untrusted(rel);
    let dst = safe_join(base, rel).ok_or_else(|| {
        format!("it asked to write `{shown}`, which is absolute or climbs out with `..`")
    })?;
    let refuse = |what: &str| Err(format!("it asked to write `{shown}`, {what}"));
    if dst.components().any(|c| c.as_os_str() == ".git") {
        return refuse("inside .git/");
    }
    if dst
        .file_name()
        .is_some_and(|n| n == crate::config::FILE_NAME)
    {
        return refuse("the configuration");
    }
    let task_file = ctx
        .state
        .record
        .tasks
        .iter()
        .flat_map(|t| &t.planned_files)
        .any(|f| ctx.workspace.join(f) == dst);
    if task_file {
        return refuse("a task's file");
    }
    if !outputs(ctx).contains(&dst) {
        let allowed: Vec<String> = outputs(ctx)
            .iter()
            .map(|p| super::rel(ctx.workspace, p))
            .collect();
        return refuse(&format!(
            "which is not one of this run's outputs ({})",
            allowed.join(", ")
        ));
    }
    Ok(dst)
}

/// `base/rel` when `rel` is relative and stays inside `base`.
pub fn safe_join(base: &Path, rel: &str) -> Option<PathBuf> {
    let p = Path::new(rel);
    if rel.is_empty() || p.components().any(|c| !matches!(c, Component::Normal(_))) {
        return None;
    }
    Some(base.join(p))
}

/// The tolerances in force: the plan's, else planexec.toml's.
pub struct Limits {
    max_files: Option<(u32, String)>,
    max_net_lines: Option<(u32, String)>,
    max_attempts: Option<(u32, String)>,
    max_minutes: Option<(u64, String)>,
    /// Every tolerance in force as the plan (or planexec.toml) words it.
    written: Vec<String>,
}

impl Limits {
    pub fn new(plan: &Plan, config: &Config) -> Limits {
        let t = &plan.tolerances;
        let plan_has = t.max_files.is_some()
            || t.max_net_lines.is_some()
            || t.max_attempts.is_some()
            || t.max_minutes.is_some();
        if plan_has {
            let q = |s: &Option<String>, d: String| {
                format!("plan Tolerances: \"{}\"", s.clone().unwrap_or(d))
            };
            return Limits {
                max_files: t
                    .max_files
                    .map(|v| (v, q(&t.max_files_source, format!("max {v} files")))),
                max_net_lines: t
                    .max_net_lines
                    .map(|v| (v, q(&t.max_net_lines_source, format!("max {v} net lines")))),
                max_attempts: t
                    .max_attempts
                    .map(|v| (v, q(&t.max_attempts_source, format!("max {v} attempts")))),
                max_minutes: t
                    .max_minutes
                    .map(|v| (v, q(&t.max_minutes_source, format!("max {v} minutes")))),
                written: [
                    &t.max_files_source,
                    &t.max_net_lines_source,
                    &t.max_attempts_source,
                    &t.max_minutes_source,
                ]
                .into_iter()
                .flatten()
                .chain(&t.other)
                .cloned()
                .collect(),
            };
        }
        let c = config.tolerances.clone().unwrap_or_default();
        let q = |k: &str, v: String| format!("planexec.toml [tolerances] {k} = {v}");
        let mut limits = Limits {
            max_files: c.max_files.map(|v| (v, q("max_files", v.to_string()))),
            max_net_lines: c
                .max_net_lines
                .map(|v| (v, q("max_net_lines", v.to_string()))),
            max_attempts: c
                .max_attempts
                .map(|v| (v, q("max_attempts", v.to_string()))),
            max_minutes: c.max_minutes.map(|v| (v, q("max_minutes", v.to_string()))),
            written: Vec::new(),
        };
        let quotes = [
            &limits.max_files.as_ref().map(|(_, q)| q.clone()),
            &limits.max_net_lines.as_ref().map(|(_, q)| q.clone()),
            &limits.max_attempts.as_ref().map(|(_, q)| q.clone()),
            &limits.max_minutes.as_ref().map(|(_, q)| q.clone()),
        ];
        limits.written = quotes
            .into_iter()
            .flatten()
            .chain(&t.other)
            .cloned()
            .collect();
        limits
    }

    /// Every tolerance in force as written, for the implementer's prompt.
    pub fn as_written(&self) -> &[String] {
        &self.written
    }

    pub fn max_cycles(&self, configured: u32) -> u32 {
        match &self.max_attempts {
            Some((a, _)) => configured.min(*a).max(1),
            None => configured,
        }
    }

    pub fn attempts_quote(&self, configured: u32) -> String {
        match &self.max_attempts {
            Some((a, q)) if *a <= configured => format!("tolerance breached: {q}"),
            _ => format!("rework limit: [run] max_cycles = {configured}"),
        }
    }

    /// A breach of files, net lines or time, quoted.
    pub fn breach(
        &self,
        files: usize,
        net_lines: i64,
        started: time::OffsetDateTime,
    ) -> Option<String> {
        if let Some((max, q)) = &self.max_files {
            if files as u64 > *max as u64 {
                return Some(format!(
                    "tolerance breached: the task changed {files} files, more than {max} ({q})"
                ));
            }
        }
        if let Some((max, q)) = &self.max_net_lines {
            if net_lines.unsigned_abs() > *max as u64 {
                return Some(format!("tolerance breached: the task changed {net_lines} net lines, more than {max} ({q})"));
            }
        }
        if let Some((max, q)) = &self.max_minutes {
            let mins = (time::OffsetDateTime::now_utc() - started).whole_minutes();
            if mins > *max as i64 {
                return Some(format!(
                    "tolerance breached: the task took {mins} minutes, more than {max} ({q})"
                ));
            }
        }
        None
    }
}

/// Gate C: the final quality gates in order; the first failure stops them.
/// `Err(signal)` when the run was interrupted before they all ran.
pub fn run_final_gates(ctx: &mut Ctx) -> Result<RunStatus, i32> {
    if let Some(sig) = (ctx.stop)() {
        return Err(sig);
    }
    let refs: Vec<(String, super::ports::GateRef)> = ctx
        .plugins
        .final_gates()
        .into_iter()
        .enumerate()
        .map(|(n, (name, _))| (name, super::ports::GateRef::Final(n)))
        .collect();
    // At once, none started after a failure (those are recorded `skipped`).
    let (plugins, workspace) = (ctx.plugins, ctx.workspace);
    let mut timings = Vec::new();
    let runs = plugins.gates(workspace, &refs, None, &mut |seen| {
        if let super::ports::GateSeen::Finished(r) = &seen {
            timings.push(super::task::gate_timing(r));
        }
        ctx.reporter.emit(super::task::gate_event(&None, seen))
    });
    ctx.state.record.timings.extend(timings);
    let mut status = RunStatus::Success;
    for run in runs {
        if matches!(run.report.outcome, Outcome::Failed | Outcome::Errored) {
            status = RunStatus::Failure;
            ctx.state.record.issues.push(Issue {
                task: None,
                issue: format!(
                    "final gate `{}` {:?}: {}",
                    run.name, run.report.outcome, run.report.summary
                ),
                resolution: "recorded; nothing was rolled back. Fix it in a follow-up task".into(),
            });
        }
        ctx.state.record.final_gates.push(run);
    }
    ctx.persist();
    match (ctx.stop)() {
        Some(sig) => Err(sig),
        None => Ok(status),
    }
}

/// The seeds' final report, for stdout; `plan` as the user gave it, for the
/// resume command.
pub fn final_report(r: &RunRecord, plan: &Path) -> String {
    let done = r
        .tasks
        .iter()
        .filter(|t| t.status == TaskStatus::Done)
        .count();
    let attempted = r
        .tasks
        .iter()
        .filter(|t| !t.cycles.is_empty() || t.status == TaskStatus::Done)
        .count();
    let status = match r.status {
        RunStatus::Success => "Success",
        RunStatus::Failure => "Failure",
        RunStatus::Blocked => "Blocked",
        RunStatus::Waiting => "Waiting (continue with --resume)",
        RunStatus::Escalated => {
            "Escalated (a run budget is spent; continue with --resume --budget)"
        }
        RunStatus::Running => "Interrupted (continue with --resume)",
    };
    let mut s = String::new();
    s.push_str(&format!(
        "Final report: {} ({})\n",
        r.plan.title, r.plan.path
    ));
    s.push_str(&format!("  run id:          {}\n", r.run_id));
    s.push_str(&format!(
        "  tasks attempted: {attempted}\n  tasks completed: {done} of {}\n",
        r.tasks.len()
    ));
    s.push_str(&format!("  final status:    {status}\n"));
    for t in &r.tasks {
        let extra = match (&t.commit, &t.blocked_reason) {
            (Some(c), _) => format!("commit {}", &c[..c.len().min(10)]),
            (None, Some(b)) => b.clone(),
            _ => String::new(),
        };
        s.push_str(&format!(
            "  {:<10} {:<12} {} {}\n",
            t.id,
            t.status.as_str(),
            t.title,
            extra
        ));
    }
    if !r.final_gates.is_empty() {
        s.push_str("  gate results:\n");
        for g in &r.final_gates {
            s.push_str(&format!(
                "    {:<10} {:?}: {}\n",
                g.name, g.report.outcome, g.report.summary
            ));
        }
    }
    let mut files: Vec<&String> = r
        .tasks
        .iter()
        .filter(|t| t.status == TaskStatus::Done)
        .flat_map(|t| t.cycles.last().map(|c| &c.files))
        .flatten()
        .collect();
    files.sort();
    files.dedup();
    s.push_str(&format!(
        "  files touched:   {}\n",
        if files.is_empty() {
            "-".into()
        } else {
            files
                .iter()
                .map(|f| f.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        }
    ));
    if let Some(l) = &r.log_path {
        s.push_str(&format!("  execution log:   {l}\n"));
    }
    s.push_str(&next_steps(r, plan));
    s
}

/// A stopped run: what the waiting implementer asks (its brief, as written),
/// then the command that continues the run with its saved settings.
fn next_steps(r: &RunRecord, plan: &Path) -> String {
    if !matches!(
        r.status,
        RunStatus::Waiting | RunStatus::Blocked | RunStatus::Running | RunStatus::Escalated
    ) {
        return String::new();
    }
    let mut s = String::new();
    let waiting = r.tasks.iter().find_map(|t| {
        let imp = t.cycles.last()?.implementer.as_ref()?;
        (imp.status == ImplementStatus::Waiting).then_some((t, imp))
    });
    if let (RunStatus::Waiting, Some((t, imp))) = (r.status, waiting) {
        s.push_str(&format!(
            "\n{} is waiting for you ({}):\n",
            t.id, imp.plugin
        ));
        for l in imp.summary.lines() {
            s.push_str(&format!("  {l}\n"));
        }
    }
    s.push_str(&format!(
        "\nto continue: {}\n",
        super::setup::resume_command(plan)
    ));
    s
}
