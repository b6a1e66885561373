//! The `agent-review` reviewer: a task or code review delegated to an agent CLI.
//! Builds the seeds' reviewer prompt, runs the configured command through the host, and parses the reply strictly.

mod parse;
mod prompt;

pub use parse::{parse_reply, Parsed};
use planexec_pdk::text::tail;
use planexec_pdk::{Command, Host, Level, Review, ReviewKind, ReviewRequest, Reviewer, Score};
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
        if cfg.command.is_empty() {
            return Err(
                "config: no agent `command` (e.g. command = [\"claude\", \"-p\", \"{prompt}\"])"
                    .into(),
            );
        }
        let kind_word = if req.kind == ReviewKind::Task {
            "task"
        } else {
            "code"
        };
        let prompt = prompt::build(&req, cfg.max_diff_bytes, &cfg.instructions);
        let scratch = std::path::Path::new(&req.mounts.scratch);
        if cfg.command.iter().any(|a| a.contains("{prompt_file}")) {
            std::fs::write(scratch.join(PROMPT_FILE), &prompt)
                .map_err(|e| format!("writing the prompt file in scratch: {e}"))?;
        }
        if cfg.reply_from_file {
            let _ = std::fs::remove_file(scratch.join(REPLY_FILE));
        }
        let subst = |a: &str| {
            a.replace("{prompt_file}", &format!("{{scratch}}/{PROMPT_FILE}"))
                .replace("{reply_file}", &format!("{{scratch}}/{REPLY_FILE}"))
                .replace("{kind}", kind_word)
                .replace("{task_id}", &req.task.id)
                .replace("{prompt}", &prompt)
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
        host.log(
            Level::Info,
            &format!(
                "agent-review: running `{}` for a {kind_word} review of {}",
                cfg.command[0], req.task.id
            ),
        );
        let out = host
            .exec(&cmd)
            .map_err(|e| format!("agent `{}`: {e}", cfg.command[0]))?;
        if out.timed_out {
            return Err(format!(
                "agent `{}` timed out after {} ms",
                cfg.command[0], out.duration_ms
            ));
        }
        match out.exit_code {
            Some(0) => {}
            Some(c) => {
                return Err(format!(
                    "agent `{}` exited {c}: {}",
                    cfg.command[0],
                    tail(&out.combined(), 20)
                ))
            }
            None => return Err(format!("agent `{}` was killed by a signal", cfg.command[0])),
        }
        let reply = if cfg.reply_from_file {
            std::fs::read_to_string(scratch.join(REPLY_FILE))
                .map_err(|e| format!("agent wrote no reply file ({REPLY_FILE}): {e}"))?
        } else {
            out.stdout_str()
        };
        if reply.trim().is_empty() {
            return Err(format!("agent `{}` replied with nothing", cfg.command[0]));
        }
        let max_weak = cfg
            .max_weak
            .unwrap_or(if req.kind == ReviewKind::Task { 1 } else { 2 });
        review_from_reply(req.kind, &reply, max_weak).map_err(|e| {
            let cut = if out.truncated {
                " (the reply was truncated by the host)"
            } else {
                ""
            };
            format!(
                "unusable agent reply{cut}: {e}; reply ends: {}",
                tail(&reply, 8)
            )
        })
    }
}

planexec_pdk::reviewer_component!(AgentReview);

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
    })
}

#[cfg(test)]
mod tests;
