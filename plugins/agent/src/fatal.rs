//! Failures no rework can fix, said at once in the CLI's own words: a command line
//! the CLI refuses (an unknown flag), a model server the box was refused or cannot reach.

use planexec_pdk::Output;

/// What CLIs print for a flag they do not know (commander, clap, yargs, argparse, click).
const USAGE_ERRORS: &[&str] = &[
    "unknown option",
    "unexpected argument",
    "unknown argument",
    "unrecognized arguments",
    "no such option",
];

/// The line where the CLI refused its command line (it exited non-zero).
pub fn usage_error(out: &Output) -> Option<String> {
    if out.exit_code == Some(0) || out.timed_out {
        return None;
    }
    let text = format!("{}\n{}", out.stderr_str(), out.stdout_str());
    text.lines()
        .map(str::trim)
        .find(|l| {
            let l = l.to_ascii_lowercase();
            USAGE_ERRORS.iter().any(|p| l.contains(p))
        })
        .map(|l| l.chars().take(300).collect())
}

/// The connections planexec's proxy refused or could not make (`planexec: network:
/// refused HOST: why`, added to the program's stderr by the host).
pub fn refused_connections(out: &Output) -> Vec<String> {
    out.stderr_str()
        .lines()
        .filter_map(|l| l.trim().strip_prefix("planexec: "))
        .filter(|l| l.starts_with("network: refused"))
        .map(String::from)
        .collect()
}

/// Where the model server is: the preset's vendor hosts and the configuration's text.
pub struct ModelHints<'a> {
    pub hosts: &'a [String],
    pub config: &'a str,
}

impl ModelHints<'_> {
    /// Whether a refusal (`network: refused HOST:PORT: why`) is of the model's server.
    fn names(&self, refusal: &str) -> bool {
        let target = refusal
            .trim_start_matches("network: refused ")
            .split(": ")
            .next()
            .unwrap_or("");
        let host = target.rsplit_once(':').map_or(target, |(h, _)| h);
        let host = host.trim_start_matches('[').trim_end_matches(']');
        !host.is_empty()
            && (self.hosts.iter().any(|h| h == host)
                || self.config.contains(target)
                || self.config.contains(host))
    }
}

/// Why the task must stop now rather than be reworked, if it must: the CLI refused
/// its flags, or it failed and the proxy refused a connection to its model's server.
pub fn fatal(
    out: &Output,
    failed: bool,
    name: &str,
    said: &str,
    model: &ModelHints,
) -> Option<String> {
    if let Some(line) = usage_error(out) {
        return Some(format!(
            "`{name}` refused its command line: {line}; check `args` and `extra_args` under \
             [implementers.agent] in planexec.toml"
        ));
    }
    let refused: Vec<String> = refused_connections(out)
        .into_iter()
        .filter(|r| model.names(r))
        .collect();
    if failed && !refused.is_empty() {
        return Some(format!(
            "`{name}` could not reach its model server: {}; allow the host in \
             [policy.plugins.agent] network = {{ allow = [\"HOST:PORT\"] }} or start the server{said}",
            refused.join("; ")
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(code: i32, stdout: &str, stderr: &str) -> Output {
        Output {
            exit_code: Some(code),
            stdout: stdout.as_bytes().to_vec(),
            stderr: stderr.as_bytes().to_vec(),
            truncated: false,
            timed_out: false,
            duration_ms: 5,
        }
    }

    #[test]
    fn unknown_flags_of_each_cli_family_are_found() {
        for (code, err) in [
            (1, "error: unknown option '--no-such-flag'"),
            (
                2,
                "error: unexpected argument '--no-such-flag' found\n\nUsage: codex exec",
            ),
            (1, "Usage: gemini\nUnknown arguments: such-flag, suchFlag"),
            (2, "aider: error: unrecognized arguments: --nope"),
            (2, "Error: No such option: --nope"),
        ] {
            let f = fatal(&out(code, "", err), true, "cli", "", &NONE).unwrap();
            assert!(f.starts_with("`cli` refused its command line: "), "{f}");
        }
        assert!(fatal(
            &out(0, "", "unknown option is fine on success"),
            false,
            "cli",
            "",
            &NONE
        )
        .is_none());
    }

    const NONE: ModelHints = ModelHints {
        hosts: &[],
        config: "",
    };

    #[test]
    fn a_refused_model_ends_the_task_only_when_the_agent_failed() {
        let err = "API Error\nplanexec: network: refused 127.0.0.1:9: not in the allow list\n";
        let model = ModelHints {
            hosts: &[],
            config: "ANTHROPIC_BASE_URL=http://127.0.0.1:9",
        };
        let f = fatal(
            &out(1, "", err),
            true,
            "claude",
            "; it said: API Error",
            &model,
        )
        .unwrap();
        assert!(
            f.contains("could not reach its model server: network: refused 127.0.0.1:9: not in the allow list")
                && f.ends_with("; it said: API Error"),
            "{f}"
        );
        // A refused side connection of an agent that finished is no reason to stop.
        assert!(fatal(&out(0, "", err), false, "claude", "", &model).is_none());
        // Nor one to a host that is not the model's (codex asks github.com at start).
        let side = "planexec: network: refused github.com:443: not in the allow list\n";
        assert!(fatal(&out(1, "", side), true, "codex", "", &model).is_none());
        let vendor = ModelHints {
            hosts: &["api.openai.com".to_string()],
            config: "",
        };
        let hosted = "planexec: network: refused api.openai.com:443: not in the allow list\n";
        assert!(fatal(&out(1, "", hosted), true, "codex", "", &vendor).is_some());
    }
}
