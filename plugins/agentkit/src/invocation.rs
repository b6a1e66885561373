//! The agent's command line from a preset or the generic form (`program`, `args`),
//! with `{prompt}`, `{prompt_file}`, `{trajectory}`, `{task_id}` and `{plan}` filled in.

use crate::preset::{self, Format};
use planexec_pdk::text::split_command;
use planexec_pdk::Command;
use std::collections::BTreeMap;

/// Where the prompt file is, as the host sees it in arguments.
pub const PROMPT_FILE_ARG: &str = "{scratch}/prompt.md";
/// Where mini-swe-agent writes its trajectory (`{trajectory}`).
pub const TRAJECTORY_ARG: &str = "{scratch}/trajectory.json";

#[derive(serde::Deserialize)]
#[serde(untagged)]
pub enum CommandLine {
    Argv(Vec<String>),
    Line(String),
}

/// The settings that say which agent runs and how (shared by both agent plugins).
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct Invocation {
    /// A known CLI: claude, codex, aider, gemini, opencode, mini-swe-agent.
    pub preset: Option<String>,
    /// The program (generic form), or another path for the preset's program.
    pub program: Option<String>,
    /// All arguments (generic form), or instead of the preset's.
    pub args: Option<Vec<String>>,
    /// Appended to the preset's (or `args`): a model, a config file.
    pub extra_args: Vec<String>,
    /// The older one-field form: an argv list or one line.
    pub command: Option<CommandLine>,
    /// How completion is read (generic form; a preset knows its own).
    pub output: Option<Format>,
    pub env: BTreeMap<String, String>,
    pub cwd: Option<String>,
    pub timeout_ms: Option<u64>,
}

/// The values placeholders stand for.
pub struct Placeholders<'a> {
    pub prompt: &'a str,
    pub task_id: &'a str,
    pub plan: &'a str,
    /// The task's files (for presets that take them on the command line).
    pub files: &'a [String],
}

/// A resolved invocation: the command for the host and how to read its output.
pub struct Resolved {
    pub command: Command,
    pub format: Format,
    /// The display name (preset or program).
    pub name: String,
    /// Files to write below the scratch folder first (the preset's).
    pub files: Vec<(String, String)>,
}

impl Invocation {
    /// The program and raw arguments, and the output format.
    fn argv(
        &self,
        ph: &Placeholders,
    ) -> Result<(String, Vec<String>, Format, Vec<(String, String)>), String> {
        if let Some(name) = &self.preset {
            let p = preset::preset(name).ok_or_else(|| {
                format!(
                    "config: unknown preset {name:?}; use one of {} or the generic form (program, args)",
                    preset::names()
                )
            })?;
            let program = self.program.clone().unwrap_or_else(|| p.program.into());
            let mut args: Vec<String> = match &self.args {
                Some(a) => a.clone(),
                None => p.args.iter().map(|a| a.to_string()).collect(),
            };
            args.extend(self.extra_args.iter().cloned());
            if p.pass_files && !ph.files.is_empty() {
                args.push("--".into());
                args.extend(ph.files.iter().cloned());
            }
            let env = p
                .env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            return Ok((program, args, self.output.unwrap_or(p.format), env));
        }
        let mut argv: Vec<String> = match (&self.program, &self.command) {
            (Some(p), None) => {
                let mut v = vec![p.clone()];
                v.extend(self.args.clone().unwrap_or_default());
                v
            }
            (None, Some(CommandLine::Argv(v))) => v.clone(),
            (None, Some(CommandLine::Line(l))) => split_command(l),
            (Some(_), Some(_)) => return Err("config: set `program` or `command`, not both".into()),
            (None, None) => Vec::new(),
        };
        if argv.is_empty() || argv[0].trim().is_empty() {
            return Err(format!(
                "config: no agent; set preset = one of {} (or program = \"...\", args = [\"{{prompt}}\"]) \
                 under [implementers.agent] in planexec.toml",
                preset::names()
            ));
        }
        argv.extend(self.extra_args.iter().cloned());
        let program = argv.remove(0);
        Ok((
            program,
            argv,
            self.output.unwrap_or(Format::Text),
            Vec::new(),
        ))
    }

    /// What names the model's server: the preset's vendor hosts, and the text of the
    /// configuration's own arguments and variables (a base URL there), never the prompt.
    pub fn model_hints(&self) -> (Vec<String>, String) {
        let hosts = self
            .preset
            .as_deref()
            .and_then(preset::preset)
            .map(|p| p.model_hosts.iter().map(|h| h.to_string()).collect())
            .unwrap_or_default();
        let mut text = self.extra_args.clone();
        text.extend(self.args.clone().unwrap_or_default());
        text.extend(self.env.values().cloned());
        (hosts, text.join("\n"))
    }

    /// The command with placeholders filled in. Without `{prompt}` or
    /// `{prompt_file}` in any argument, the prompt goes last.
    pub fn resolve(&self, ph: &Placeholders) -> Result<Resolved, String> {
        let (program, args, format, preset_env) = self.argv(ph)?;
        let uses_prompt = args
            .iter()
            .any(|a| a.contains("{prompt}") || a.contains("{prompt_file}"));
        let subst = |a: &str| {
            a.replace("{prompt_file}", PROMPT_FILE_ARG)
                .replace("{trajectory}", TRAJECTORY_ARG)
                .replace("{task_id}", ph.task_id)
                .replace("{plan}", ph.plan)
                .replace("{prompt}", ph.prompt)
        };
        let mut args: Vec<String> = args.iter().map(|a| subst(a)).collect();
        if !uses_prompt {
            args.push(ph.prompt.to_string());
        }
        let mut env: BTreeMap<String, String> = preset_env.into_iter().collect();
        env.extend(self.env.iter().map(|(k, v)| (k.clone(), v.clone())));
        let name = self.preset.clone().unwrap_or_else(|| program.clone());
        let files = self
            .preset
            .as_deref()
            .and_then(preset::preset)
            .map(|p| {
                p.files
                    .iter()
                    .map(|(f, t)| (f.to_string(), t.to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let mut command = Command::new(program).args(args);
        command.env = env.into_iter().collect();
        command.cwd = self.cwd.clone();
        command.timeout_ms = self.timeout_ms;
        Ok(Resolved {
            command,
            format,
            name,
            files,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn inv(v: serde_json::Value) -> Invocation {
        serde_json::from_value(v).unwrap()
    }
    const PH: Placeholders = Placeholders {
        prompt: "PROMPT",
        task_id: "T001",
        plan: "plan/p.md",
        files: &[],
    };

    #[test]
    fn a_preset_gives_its_flags_env_and_format_and_extra_args_go_last() {
        let r = inv(
            json!({"preset": "mini-swe-agent", "extra_args": ["-c", "m.yaml"], "env": {"X": "1"}}),
        )
        .resolve(&PH)
        .unwrap();
        assert_eq!(r.command.program, "mini");
        assert_eq!(
            r.command.args,
            [
                "-y",
                "--exit-immediately",
                "-o",
                TRAJECTORY_ARG,
                "-t",
                "PROMPT",
                "-c",
                "m.yaml"
            ]
        );
        assert!(r
            .command
            .env
            .contains(&("MSWEA_CONFIGURED".into(), "true".into())));
        assert!(r.command.env.contains(&("X".into(), "1".into())));
        assert_eq!(r.format, Format::MiniTrajectory);
        let r = inv(json!({"preset": "aider", "program": "/opt/aider/bin/aider"}))
            .resolve(&PH)
            .unwrap();
        assert_eq!(r.command.program, "/opt/aider/bin/aider");
        assert_eq!(r.command.args[1], PROMPT_FILE_ARG);
        assert_eq!(r.name, "aider");
    }

    #[test]
    fn the_generic_form_and_the_command_line_form() {
        let r = inv(json!({"program": "my-agent", "args": ["--task", "{task_id}", "{prompt_file}"], "output": "claude-json"}))
            .resolve(&PH)
            .unwrap();
        assert_eq!(r.command.args, ["--task", "T001", PROMPT_FILE_ARG]);
        assert_eq!(r.format, Format::ClaudeJson);
        let r = inv(json!({"command": "codex exec"})).resolve(&PH).unwrap();
        assert_eq!(
            r.command.args,
            ["exec", "PROMPT"],
            "no placeholder: the prompt goes last"
        );
        assert_eq!(r.format, Format::Text);
    }

    #[test]
    fn errors_say_what_to_set() {
        let e = inv(json!({"preset": "cursor"})).resolve(&PH).err().unwrap();
        assert!(
            e.contains("unknown preset \"cursor\"") && e.contains("mini-swe-agent"),
            "{e}"
        );
        let e = inv(json!({})).resolve(&PH).err().unwrap();
        assert!(
            e.contains("no agent") && e.contains("[implementers.agent]"),
            "{e}"
        );
        let e = inv(json!({"program": "a", "command": "b"}))
            .resolve(&PH)
            .err()
            .unwrap();
        assert!(e.contains("not both"), "{e}");
    }
}
