//! The `agent` implementer: runs an agent CLI (a preset or a configured program) with a
//! prompt built from the task and the last feedback, then checks what it did against what it claims.
//!
//! Config: `preset` (claude, codex, aider, gemini, opencode, mini-swe-agent) or the
//! generic `program` + `args` (or `command`), `extra_args`, `output`, `env`, `cwd`,
//! `timeout_ms`, `tail_lines`, `instructions`, `check` (see docs/implementers.md).

pub mod claims;
pub mod fatal;
pub mod prompt;
pub mod worktree;

use agentkit::invocation::{Invocation, Placeholders, TRAJECTORY_ARG};
use agentkit::{parse_outcome, AgentOutcome, Format};
use planexec_pdk::text::tail;
use planexec_pdk::{
    Finding, Host, ImplementReport, ImplementRequest, ImplementStatus, Implementer, Level, Severity,
};
pub use prompt::build_prompt;

/// Keys of this plugin's table; any other is an error.
const KEYS: &[&str] = &[
    "preset",
    "program",
    "args",
    "extra_args",
    "command",
    "output",
    "env",
    "cwd",
    "timeout_ms",
    "tail_lines",
    "instructions",
    "check",
];

#[derive(serde::Deserialize)]
#[serde(default)]
struct Config {
    #[serde(flatten)]
    invocation: Invocation,
    tail_lines: usize,
    instructions: Option<String>,
    /// Compare the agent's claims and HEAD with the repository (needs git granted).
    check: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            invocation: Invocation::default(),
            tail_lines: 40,
            instructions: None,
            check: true,
        }
    }
}

fn config(raw: &serde_json::Value) -> Result<Config, String> {
    if let Some(m) = raw.as_object() {
        if let Some(k) = m.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(format!(
                "config: unknown key `{k}` under [implementers.agent]; known: {}",
                KEYS.join(", ")
            ));
        }
    }
    serde_json::from_value(raw.clone()).map_err(|e| format!("config: {e}"))
}

/// What went wrong in a cycle, each a reason for the engine's finding.
fn problems(
    out: &planexec_pdk::Output,
    o: &Result<AgentOutcome, String>,
    name: &str,
) -> Vec<String> {
    let mut v = Vec::new();
    let mut said = last_words(out);
    if out.timed_out {
        v.push(format!(
            "`{name}` timed out after {} ms{said}",
            out.duration_ms
        ));
    } else if out.exit_code.is_none() {
        v.push(format!("`{name}` was killed by a signal{said}"));
    } else if out.exit_code != Some(0) {
        v.push(format!(
            "`{name}` exited {}{said}",
            out.exit_code.unwrap_or(-1)
        ));
    }
    // The CLI's own words go with the first reason (once).
    if !v.is_empty() {
        said.clear();
    }
    match o {
        Err(e) => v.push(format!("{e}{said}")),
        Ok(o) if o.success == Some(false) => v.push(format!(
            "{}{said}",
            o.error
                .clone()
                .unwrap_or_else(|| format!("`{name}` reported a failure"))
        )),
        _ => {}
    }
    v
}

/// The agent CLI's own last words (its error, usually), for the summary that the terminal
/// and the execution log show: `: last output: a | b | c` from stderr, else stdout.
fn last_words(out: &planexec_pdk::Output) -> String {
    let err = out.stderr_str();
    let text = if err.trim().is_empty() {
        out.stdout_str()
    } else {
        err
    };
    // Not its JSON events (their error is read from them) nor planexec's own notes.
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('{') && !l.starts_with("planexec: "))
        .collect();
    let last: Vec<String> = lines[lines.len().saturating_sub(3)..]
        .iter()
        .map(|l| l.chars().take(300).collect())
        .collect();
    if last.is_empty() {
        String::new()
    } else {
        format!("; last output: {}", last.join(" | "))
    }
}

pub struct AgentImplementer;

impl Implementer for AgentImplementer {
    fn implement(req: ImplementRequest, host: &dyn Host) -> Result<ImplementReport, String> {
        let cfg = config(&req.config)?;
        let ws = req.mounts.workspace.trim_end_matches('/').to_string();
        let plan_text = std::fs::read_to_string(format!("{ws}/{}", req.plan_path)).ok();
        let prompt = build_prompt(&req, plan_text.as_deref(), cfg.instructions.as_deref());
        let resolved = cfg.invocation.resolve(&Placeholders {
            prompt: &prompt,
            task_id: &req.task.id,
            plan: &req.plan_path,
            files: &req.task.files,
        })?;
        let mut command = resolved.command.clone();
        // The agent (and the commands it runs) can find the prompt and the task.
        command
            .env
            .push(("PLANEXEC_PROMPT_FILE".into(), "{scratch}/prompt.md".into()));
        command
            .env
            .push(("PLANEXEC_TASK_ID".into(), req.task.id.clone()));
        command
            .env
            .push(("PLANEXEC_CYCLE".into(), req.cycle.to_string()));
        let scratch = req.mounts.scratch.trim_end_matches('/').to_string();
        std::fs::write(format!("{scratch}/prompt.md"), &prompt)
            .map_err(|e| format!("could not write the prompt to {scratch}/prompt.md: {e}"))?;
        for (rel, text) in &resolved.files {
            let path = format!("{scratch}/{rel}");
            if let Some((dir, _)) = path.rsplit_once('/') {
                let _ = std::fs::create_dir_all(dir);
            }
            std::fs::write(&path, text)
                .map_err(|e| format!("could not write the preset's {path}: {e}"))?;
        }
        let before = match cfg.check {
            true => Some(worktree::snapshot(host, &ws)?),
            false => None,
        };
        let name = resolved.name.clone();
        host.log(
            Level::Info,
            &format!("{}: running {name} (cycle {})", req.task.id, req.cycle),
        );
        let out = host.exec(&command).map_err(|e| {
            format!(
                "{}: could not run `{}` ({e}); grant it to the agent implementer",
                req.task.id, resolved.command.program
            )
        })?;
        let side_text = (resolved.format == Format::MiniTrajectory)
            .then(|| std::fs::read_to_string(TRAJECTORY_ARG.replace("{scratch}", &scratch)).ok())
            .flatten();
        let outcome = parse_outcome(resolved.format, &out.stdout_str(), side_text.as_deref());
        let failed =
            !matches!(&outcome, Ok(o) if o.success != Some(false)) || out.exit_code != Some(0);
        // The CLI's own words: the error its output reports, else its last lines.
        let said = match &outcome {
            Ok(AgentOutcome { error: Some(e), .. }) => format!("; it said: {e}"),
            _ => last_words(&out),
        };
        let (hosts, config_text) = cfg.invocation.model_hints();
        let model = fatal::ModelHints {
            hosts: &hosts,
            config: &config_text,
        };
        if let Some(why) = fatal::fatal(&out, failed, &name, &said, &model) {
            return Err(format!("{}: {why}", req.task.id));
        }
        let mut bad = problems(&out, &outcome, &name);
        let mut notes = Vec::new();
        let mut findings = Vec::new();
        let message = outcome
            .as_ref()
            .map(|o| o.message.clone())
            .unwrap_or_default();
        if let Some(before) = &before {
            check(
                host,
                &ws,
                before,
                outcome.as_ref().ok(),
                &message,
                &mut bad,
                &mut notes,
                &mut findings,
            )?;
        }
        let usage_text = outcome
            .as_ref()
            .map(AgentOutcome::usage_line)
            .unwrap_or_default();
        let status = if bad.is_empty() {
            ImplementStatus::Done
        } else {
            ImplementStatus::Failed
        };
        let summary = summary_line(&req.task.id, &name, &usage_text, &bad, &notes);
        let evidence = evidence(&message, &out.combined(), cfg.tail_lines);
        let mut report = ImplementReport::new(status, summary, evidence);
        report.findings = findings;
        if let Ok(o) = &outcome {
            report.claimed_files = claimed_files(o, &message);
            report.usage = Some(o.usage());
        }
        report.transcript = transcript(&out, side_text.as_deref());
        Ok(report)
    }
}

/// `T001: mini-swe-agent finished (2 turns, $0.0000); changed a.py`: the outcome,
/// the usage the agent reported, why it failed, and what it changed.
fn summary_line(task: &str, name: &str, usage: &str, bad: &[String], notes: &[String]) -> String {
    let mut s = format!("{task}: {name}");
    s.push_str(if bad.is_empty() {
        " finished"
    } else {
        " failed"
    });
    if !usage.is_empty() {
        s.push_str(&format!(" ({usage})"));
    }
    for x in bad.iter().chain(notes) {
        s.push_str("; ");
        s.push_str(x);
    }
    s
}

/// The files the agent says it changed: its edit log when the output has one,
/// else the report table of its last message.
fn claimed_files(o: &AgentOutcome, message: &str) -> Vec<String> {
    if !o.edited.is_empty() {
        return o.edited.clone();
    }
    claims::parse_claims(message)
        .map(|c| c.files)
        .unwrap_or_default()
}

/// Everything the agent printed, then the trajectory it wrote beside it (if any).
fn transcript(out: &planexec_pdk::Output, side: Option<&str>) -> String {
    let mut t = out.combined();
    if let Some(side) = side {
        t.push_str("\n--- trajectory\n");
        t.push_str(side);
    }
    t
}

/// The agent's final message (its report), then the tail of its output.
fn evidence(message: &str, output: &str, lines: usize) -> String {
    let mut e = String::new();
    if !message.trim().is_empty() {
        e.push_str(message.trim());
        e.push_str("\n\n--- output (tail)\n");
    }
    e.push_str(&tail(output, lines));
    e
}

/// The agent checked, not trusted: a commit of its own is undone into the work
/// tree; claimed files that are not in the task's diff fail the cycle; files changed in
/// this cycle but not reported are noted.
fn check(
    host: &dyn Host,
    ws: &str,
    before: &worktree::Snapshot,
    outcome: Option<&AgentOutcome>,
    message: &str,
    bad: &mut Vec<String>,
    notes: &mut Vec<String>,
    findings: &mut Vec<Finding>,
) -> Result<(), String> {
    let mut after = worktree::snapshot(host, ws)?;
    if let (Some(b), Some(a)) = (&before.head, &after.head) {
        if a != b {
            match worktree::undo_commits(host, b, a) {
                Ok(subjects) => {
                    let m = format!(
                        "the agent committed by itself ({}); planexec commits: the commit was \
                         undone into the work tree, do not commit",
                        subjects.join(", ")
                    );
                    findings.push(committed_finding(&m));
                    bad.push(m);
                }
                Err(e) => bad.push(format!(
                    "the agent committed by itself and it could not be undone: {e}"
                )),
            }
            after = worktree::snapshot(host, ws)?;
        }
    }
    let changed = worktree::changed_between(before, &after);
    let claimed = match outcome.filter(|o| !o.edited.is_empty()) {
        Some(o) => Some(o.edited.clone()),
        None => claims::parse_claims(message).map(|c| c.files),
    };
    match claimed {
        Some(claimed) => {
            // A file of the task's diff it made in an earlier cycle (rework keeps it)
            // may be reported again: only a claim the work tree does not show is false.
            let in_diff: Vec<String> = after.dirty.keys().chain(&changed).cloned().collect();
            let (phantom, _) = claims::compare(&claimed, &in_diff);
            let (_, unreported) = claims::compare(&claimed, &changed);
            if !phantom.is_empty() {
                bad.push(format!(
                    "the agent reported changing {} but the file did not change",
                    phantom.join(", ")
                ));
            }
            if !unreported.is_empty() {
                notes.push(format!(
                    "changed but not reported: {}",
                    unreported.join(", ")
                ));
            }
        }
        None => notes.push("the agent gave no files-changed report".into()),
    }
    if !changed.is_empty() {
        notes.push(format!("changed {}", changed.join(", ")));
    }
    Ok(())
}

fn committed_finding(message: &str) -> Finding {
    Finding {
        severity: Severity::Important,
        rule: "agent/committed".into(),
        message: message.into(),
        path: None,
        line: None,
        column: None,
        end_line: None,
        end_column: None,
    }
}

planexec_pdk::implementer_component!(AgentImplementer);

#[cfg(test)]
mod tests;
