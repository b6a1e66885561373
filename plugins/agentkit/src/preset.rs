//! The agent CLIs planexec knows: each one's non-interactive command line, extra
//! environment, and the machine-readable output its completion is read from.

/// How an agent reports its completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Plain text: done on exit 0; the message is the tail of stdout.
    Text,
    /// `claude -p --output-format stream-json --verbose` (or `json`): its last line, one object with `is_error`, `result`, `total_cost_usd`.
    ClaudeJson,
    /// `codex exec --json`: JSONL events (`turn.completed`, `turn.failed`, `item.completed`).
    CodexJsonl,
    /// aider's console text: `Applied edit to FILE`, `Tokens: … Cost: $…`.
    AiderText,
    /// `gemini -p --output-format json`: `{response, stats, error}`.
    GeminiJson,
    /// `opencode run --format json`: NDJSON events (`text`, `step_finish`, `error`).
    OpencodeJsonl,
    /// mini-swe-agent's trajectory file (`-o`): `info.exit_status`, `info.submission`.
    MiniTrajectory,
}

/// One agent CLI's non-interactive use.
#[derive(Debug, Clone, Copy)]
pub struct Preset {
    pub name: &'static str,
    pub program: &'static str,
    /// Arguments with placeholders (`{prompt}`, `{prompt_file}`, `{trajectory}`).
    pub args: &'static [&'static str],
    /// Environment every run gets (the preset's offline and quiet switches).
    pub env: &'static [(&'static str, &'static str)],
    pub format: Format,
    /// The task's files go last on the command line (aider edits only the files it is given).
    pub pass_files: bool,
    /// Files written into the scratch folder before each run (path below it, text):
    /// settings a CLI reads only from a file.
    pub files: &'static [(&'static str, &'static str)],
    /// The hosts of the vendor's own model API (a refused connection to one of them,
    /// or to a host the configuration names, means the model cannot be reached).
    pub model_hosts: &'static [&'static str],
}

/// Gemini CLI's settings: the API-key auth `-p` accepts (a base URL alone selects a
/// "gateway" mode it rejects), no usage statistics, no update checks.
const GEMINI_SETTINGS: &str = r#"{
  "security": { "auth": { "selectedType": "gemini-api-key" } },
  "privacy": { "usageStatisticsEnabled": false },
  "general": { "disableAutoUpdate": true, "disableUpdateNag": true }
}
"#;

/// Every preset, by name.
pub const PRESETS: &[Preset] = &[
    Preset {
        name: "claude",
        program: "claude",
        args: &[
            // Every event (tool calls included) for the transcript; the last line is
            // the result object.
            "--output-format",
            "stream-json",
            "--verbose",
            "--no-session-persistence",
            "--permission-mode",
            "acceptEdits",
            "--allowedTools",
            "Read,Edit,Write,Glob,Grep,Bash",
            "-p",
            "{prompt}",
        ],
        env: &[
            ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1"),
            // An unreachable model fails in seconds, not after ten backed-off retries.
            ("CLAUDE_CODE_MAX_RETRIES", "2"),
        ],
        format: Format::ClaudeJson,
        pass_files: false,
        files: &[],
        model_hosts: &["api.anthropic.com"],
    },
    Preset {
        name: "codex",
        program: "codex",
        args: &[
            "exec",
            "--json",
            // planexec's box is the sandbox: codex's own (bubblewrap) cannot start
            // inside it, and 0.171 rejects the old `--full-auto`.
            "--dangerously-bypass-approvals-and-sandbox",
            "--skip-git-repo-check",
            // No session files (they would keep the prompt and any printed key).
            "--ephemeral",
            "{prompt}",
        ],
        env: &[],
        format: Format::CodexJsonl,
        pass_files: false,
        files: &[],
        model_hosts: &["api.openai.com"],
    },
    Preset {
        name: "aider",
        program: "aider",
        args: &[
            "--message-file",
            "{prompt_file}",
            "--yes-always",
            "--no-auto-commits",
            "--no-dirty-commits",
            "--no-gitignore",
            "--no-check-update",
            "--analytics-disable",
            "--no-show-release-notes",
            "--no-show-model-warnings",
            "--no-pretty",
            "--no-fancy-input",
            "--no-detect-urls",
            "--input-history-file",
            "{scratch}/aider.input.history",
            "--chat-history-file",
            "{scratch}/aider.chat.history.md",
        ],
        env: &[],
        format: Format::AiderText,
        pass_files: true,
        files: &[],
        model_hosts: &[],
    },
    Preset {
        name: "gemini",
        program: "gemini",
        args: &[
            "--output-format",
            "json",
            "--approval-mode",
            "yolo",
            "-p",
            "{prompt}",
        ],
        env: &[
            // Its home (settings, history) in the scratch folder, with the settings below.
            ("GEMINI_CLI_HOME", "{scratch}/gemini-home"),
            // Every folder is untrusted in the box's fresh home, and yolo would be
            // silently downgraded there.
            ("GEMINI_CLI_TRUST_WORKSPACE", "true"),
        ],
        format: Format::GeminiJson,
        pass_files: false,
        files: &[("gemini-home/.gemini/settings.json", GEMINI_SETTINGS)],
        model_hosts: &["generativelanguage.googleapis.com"],
    },
    Preset {
        name: "opencode",
        program: "opencode",
        args: &["run", "--format", "json", "{prompt}"],
        env: &[
            // Offline: no model list, update, language-server download or share link.
            ("OPENCODE_DISABLE_MODELS_FETCH", "true"),
            ("OPENCODE_DISABLE_AUTOUPDATE", "true"),
            ("OPENCODE_DISABLE_LSP_DOWNLOAD", "true"),
            ("OPENCODE_DISABLE_SHARE", "true"),
        ],
        format: Format::OpencodeJsonl,
        pass_files: false,
        files: &[],
        model_hosts: &[],
    },
    Preset {
        name: "mini-swe-agent",
        program: "mini",
        args: &[
            "-y",
            "--exit-immediately",
            "-o",
            "{trajectory}",
            "-t",
            "{prompt}",
        ],
        env: &[
            ("MSWEA_CONFIGURED", "true"),
            ("MSWEA_SILENT_STARTUP", "1"),
            // Never the host's ~/.config/mini-swe-agent/.env.
            ("MSWEA_GLOBAL_CONFIG_DIR", "{cache}/mini-swe-agent"),
        ],
        format: Format::MiniTrajectory,
        pass_files: false,
        files: &[],
        model_hosts: &[],
    },
];

/// The preset called `name`.
pub fn preset(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

/// The names, for error messages.
pub fn names() -> String {
    PRESETS
        .iter()
        .map(|p| format!("\"{}\"", p.name))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_passes_the_prompt_and_aider_never_commits() {
        for p in PRESETS {
            assert!(
                p.args
                    .iter()
                    .any(|a| a.contains("{prompt}") || a.contains("{prompt_file}")),
                "{} gets no prompt",
                p.name
            );
        }
        let aider = preset("aider").unwrap();
        assert!(
            aider.args.contains(&"--no-auto-commits") && aider.args.contains(&"--no-dirty-commits")
        );
        assert_eq!(
            preset("mini-swe-agent").unwrap().format,
            Format::MiniTrajectory
        );
        assert!(preset("cursor").is_none());
        assert!(names().contains("\"opencode\""));
    }

    /// Codex CLI 0.171 exits 2 on `--full-auto`, and its bubblewrap sandbox cannot
    /// start in planexec's box (issue 28).
    #[test]
    fn codex_runs_unsandboxed_inside_the_box_without_session_files() {
        let codex = preset("codex").unwrap();
        assert!(!codex.args.contains(&"--full-auto"));
        assert!(!codex.args.iter().any(|a| a.starts_with("--sandbox")));
        assert!(codex
            .args
            .contains(&"--dangerously-bypass-approvals-and-sandbox"));
        assert!(codex.args.contains(&"--ephemeral"));
    }
}
