//! The `agent-review` reviewer: a task or code review delegated to an agent CLI.
//! Builds the seeds' reviewer prompt, runs the configured command through the host, and parses the reply strictly.

mod parse;
mod prompt;

pub use parse::{parse_reply, Parsed};
use planexec_pdk::text::tail;
use planexec_pdk::{
    Command, Host, Level, Review, ReviewKind, ReviewRequest, Reviewer, Score, Usage,
};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Configuration (the plugin's table in planexec.toml).
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The agent command line, e.g. `["claude", "-p", "{prompt}"]`. Placeholders:
    /// `{prompt}` (the prompt text), `{prompt_file}` (a file holding it, under
    /// `{scratch}`), `{reply_file}` (where the agent writes its reply, with
    /// `reply_from_file`), `{kind}` (`task`/`code`), `{task_id}`; `{workspace}` and
    /// `{scratch}` are the host's.
    pub command: Vec<String>,
    /// A known CLI instead of `command` (the agent implementer's presets):
    /// claude, codex, aider, gemini, opencode, mini-swe-agent.
    pub preset: Option<String>,
    /// The generic form: program and args (with the same placeholders).
    pub program: Option<String>,
    pub args: Option<Vec<String>>,
    /// Appended to the preset's (or `args`).
    pub extra_args: Vec<String>,
    /// How the reply is read (the preset's format by default, else plain text).
    pub output: Option<agentkit::Format>,
    /// Extra environment for the agent (the plugin itself has none).
    pub env: BTreeMap<String, String>,
    /// Workspace-relative working directory.
    pub cwd: Option<String>,
    pub timeout_ms: u64,
    /// Read the reply from `{reply_file}` instead of stdout.
    pub reply_from_file: bool,
    /// Diffs longer than this are cut in the prompt (the agent can read the workspace).
    pub max_diff_bytes: usize,
    /// Appended to the prompt: project-specific review guidance.
    pub instructions: String,
    /// WEAK criteria a PASSED verdict may carry (default: 1 for task, 2 for code).
    pub max_weak: Option<usize>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            command: Vec::new(),
            preset: None,
            program: None,
            args: None,
            extra_args: Vec::new(),
            output: None,
            env: BTreeMap::new(),
            cwd: None,
            timeout_ms: 20 * 60 * 1000,
            reply_from_file: false,
            max_diff_bytes: 200_000,
            instructions: String::new(),
            max_weak: None,
        }
    }
}

pub const PROMPT_FILE: &str = "planexec-review-prompt.md";
pub const REPLY_FILE: &str = "planexec-review-reply.md";

pub struct AgentReview;

impl Reviewer for AgentReview {
    fn review(req: ReviewRequest, host: &dyn Host) -> Result<Review, String> {
        let cfg: Config = planexec_pdk::config(&req.config)?;
        let kind_word = if req.kind == ReviewKind::Task {
            "task"
        } else {
            "code"
        };
        let prompt = prompt::build(&req, cfg.max_diff_bytes, &cfg.instructions);
        let scratch = std::path::Path::new(&req.mounts.scratch);
        if cfg.reply_from_file {
            let _ = std::fs::remove_file(scratch.join(REPLY_FILE));
        }
        let (cmd, format) = agent_command(&cfg, &req, &prompt, kind_word)?;
        if cmd.args.iter().any(|a| a.contains(PROMPT_FILE)) {
            std::fs::write(scratch.join(PROMPT_FILE), &prompt)
                .map_err(|e| format!("writing the prompt file in scratch: {e}"))?;
        }
        let name = cmd.program.clone();
        host.log(
            Level::Info,
            &format!(
                "agent-review: running `{name}` for a {kind_word} review of {}",
                req.task.id
            ),
        );
        let out = host
            .exec(&cmd)
            .map_err(|e| format!("agent `{name}`: {e}"))?;
        if out.timed_out {
            return Err(format!(
                "agent `{name}` timed out after {} ms",
                out.duration_ms
            ));
        }
        match out.exit_code {
            Some(0) => {}
            Some(c) => {
                return Err(format!(
                    "agent `{name}` exited {c}: {}",
                    tail(&out.combined(), 20)
                ))
            }
            None => return Err(format!("agent `{name}` was killed by a signal")),
        }
        let stdout = out.stdout_str();
        let (reply, usage) = if cfg.reply_from_file {
            // The reply is the file; the output may still say what the run cost.
            let usage = reply_of(format, &stdout, scratch).ok().and_then(|r| r.1);
            let reply = std::fs::read_to_string(scratch.join(REPLY_FILE))
                .map_err(|e| format!("agent wrote no reply file ({REPLY_FILE}): {e}"))?;
            (reply, usage)
        } else {
            reply_of(format, &stdout, scratch)?
        };
        if reply.trim().is_empty() {
            return Err(format!("agent `{name}` replied with nothing"));
        }
        let max_weak = cfg
            .max_weak
            .unwrap_or(if req.kind == ReviewKind::Task { 1 } else { 2 });
        let mut review = review_from_reply(req.kind, &reply, max_weak).map_err(|e| {
            let cut = if out.truncated {
                " (the reply may have been truncated by the host)"
            } else {
                ""
            };
            format!(
                "unusable agent reply{cut}: {e}; reply ends: {}",
                tail(&reply, 8)
            )
        })?;
        review.transcript = out.combined();
        review.usage = usage;
        Ok(review)
    }
}

planexec_pdk::reviewer_component!(AgentReview);

/// The agent's command (from `command`, or a preset / program through agentkit)
/// and how its reply is read.
fn agent_command(
    cfg: &Config,
    req: &ReviewRequest,
    prompt: &str,
    kind_word: &str,
) -> Result<(Command, agentkit::Format), String> {
    let extra = |a: &str| {
        a.replace("{reply_file}", &format!("{{scratch}}/{REPLY_FILE}"))
            .replace("{kind}", kind_word)
    };
    if cfg.preset.is_none() && cfg.program.is_none() {
        if cfg.command.is_empty() {
            return Err(format!(
                "config: no agent `command` or `preset`; set preset = one of {} or command = [\"claude\", \"-p\", \"{{prompt}}\"]",
                agentkit::preset::names()
            ));
        }
        let subst = |a: &str| {
            extra(a)
                .replace("{prompt_file}", &format!("{{scratch}}/{PROMPT_FILE}"))
                .replace("{task_id}", &req.task.id)
                .replace("{prompt}", prompt)
        };
        let mut cmd =
            Command::new(subst(&cfg.command[0])).args(cfg.command[1..].iter().map(|a| subst(a)));
        cmd.env = cfg
            .env
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        cmd.cwd = cfg.cwd.clone();
        cmd.timeout_ms = Some(cfg.timeout_ms);
        return Ok((cmd, cfg.output.unwrap_or(agentkit::Format::Text)));
    }
    if !cfg.command.is_empty() {
        return Err("config: set `command` or `preset`/`program`, not both".into());
    }
    let inv = agentkit::Invocation {
        preset: cfg.preset.clone(),
        program: cfg.program.clone(),
        args: cfg
            .args
            .as_ref()
            .map(|a| a.iter().map(|x| extra(x)).collect()),
        extra_args: cfg.extra_args.iter().map(|x| extra(x)).collect(),
        output: cfg.output,
        env: cfg.env.clone(),
        cwd: cfg.cwd.clone(),
        timeout_ms: Some(cfg.timeout_ms),
        ..Default::default()
    };
    let r = inv.resolve(&agentkit::Placeholders {
        prompt,
        task_id: &req.task.id,
        plan: "",
        files: &[],
    })?;
    // A preset's settings files (gemini's) go into the scratch folder as for the implementer.
    for (rel, text) in &r.files {
        let path = std::path::Path::new(&req.mounts.scratch).join(rel);
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        std::fs::write(&path, text)
            .map_err(|e| format!("could not write the preset's {}: {e}", path.display()))?;
    }
    // The preset's own {prompt_file} is the implementer's name; the reviewer's file is this one.
    let mut cmd = r.command;
    for a in cmd.args.iter_mut() {
        *a = a.replace(
            agentkit::invocation::PROMPT_FILE_ARG,
            &format!("{{scratch}}/{PROMPT_FILE}"),
        );
    }
    Ok((cmd, r.format))
}

/// The reviewer's reply in the agent's output: the JSON result's text for claude,
/// the last message for codex and opencode, the response for gemini, the submission for
/// mini; with the cost and tokens the output reports, read as the agent implementer does.
fn reply_of(
    format: agentkit::Format,
    stdout: &str,
    scratch: &std::path::Path,
) -> Result<(String, Option<Usage>), String> {
    if format == agentkit::Format::Text {
        return Ok((stdout.to_string(), None));
    }
    let side = (format == agentkit::Format::MiniTrajectory)
        .then(|| std::fs::read_to_string(scratch.join("trajectory.json")).ok())
        .flatten();
    let o = agentkit::parse_outcome(format, stdout, side.as_deref())?;
    if o.success == Some(false) {
        return Err(format!(
            "the agent reported a failure: {}",
            o.error.unwrap_or_default()
        ));
    }
    let usage = o.usage();
    Ok((o.message, (usage != Usage::default()).then_some(usage)))
}

/// Turns a reply into a review, or an error when it cannot be trusted.
pub fn review_from_reply(kind: ReviewKind, reply: &str, max_weak: usize) -> Result<Review, String> {
    let p = parse_reply(kind, reply, max_weak)?;
    let (pass, changes) = parse::verdicts(kind);
    let verdict = if p.passed { pass } else { changes };
    let n = |s| p.criteria.iter().filter(|c| c.score == s).count();
    let mut summary = format!(
        "{verdict}: {} criteria: {} PASS, {} WEAK, {} FAIL",
        p.criteria.len(),
        n(Score::Pass),
        n(Score::Weak),
        n(Score::Fail)
    );
    if !p.summary.is_empty() {
        summary.push_str(" — ");
        summary.push_str(&p.summary);
    }
    Ok(Review {
        approved: p.passed,
        criteria: p.criteria,
        findings: p.findings,
        summary,
        transcript_path: None,
        transcript: String::new(),
        usage: None,
    })
}

#[cfg(test)]
mod tests;
