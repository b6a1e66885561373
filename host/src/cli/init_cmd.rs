//! `planexec init`: looks at a repository (Python, Go, Rust, Node; pre-commit
//! and lefthook hooks) and writes a commented planexec.toml with its gates.

use super::{exit, report_error};
use std::path::Path;

/// One gate init proposes: its table body and the programs it needs granted.
struct Proposal {
    name: String,
    why: String,
    body: String,
    grants: Vec<String>,
}

/// What init found: gates to write and hooks it could not import (with why).
#[derive(Default)]
struct Found {
    gates: Vec<Proposal>,
    /// Gates written commented out, with why they cannot run as they are.
    commented: Vec<(Proposal, String)>,
    skipped: Vec<String>,
}

pub fn run(force: bool) -> i32 {
    let Ok(dir) = super::current_dir() else {
        return exit::USAGE;
    };
    let path = dir.join(crate::config::FILE_NAME);
    if path.symlink_metadata().is_ok() && !force {
        report_error(&format!(
            "{} exists; pass --force to replace it",
            path.display()
        ));
        return exit::USAGE;
    }
    let found = inspect(&dir);
    let text = render(&found);
    if let Err(e) = crate::config::Config::parse(&text, &path, &dir) {
        report_error(&format!(
            "planexec init produced a planexec.toml that does not parse, so nothing was written (a bug: please report it with the hook files of this repository): {e}"
        ));
        return exit::USAGE;
    }
    if let Err(e) = crate::rooted::write(&dir, Path::new(crate::config::FILE_NAME), text.as_bytes())
    {
        report_error(&e);
        return exit::USAGE;
    }
    let n = found.gates.len();
    let plural = if n == 1 { "gate" } else { "gates" };
    println!("wrote {} with {n} {plural}", path.display());
    for (g, why) in &found.commented {
        println!(
            "written commented out: {}: {}",
            crate::text::untrusted(&g.name),
            crate::text::untrusted(why)
        );
    }
    for s in &found.skipped {
        println!("not imported: {}", crate::text::untrusted(s));
    }
    println!("next:\n  review planexec.toml, then `planexec trust` (it records what you reviewed)");
    for g in &found.gates {
        println!("  planexec gate run {}", crate::text::untrusted(&g.name));
    }
    println!("  planexec check PLAN.md, then planexec run PLAN.md");
    exit::OK
}

/// Everything init proposes for `dir`.
fn inspect(dir: &Path) -> Found {
    let mut f = Found::default();
    for d in crate::gates::select::detect(dir) {
        f.gates
            .push(standard(d.gate, &d.why, d.settings, d.programs));
    }
    pre_commit(dir, &mut f);
    lefthook(dir, &mut f);
    f
}

fn standard(name: &str, why: &str, body: &str, grants: &[&str]) -> Proposal {
    Proposal {
        name: name.into(),
        why: why.into(),
        body: body.into(),
        grants: grants.iter().map(|s| s.to_string()).collect(),
    }
}

/// A command gate for `run`, or why it cannot be one (planexec runs no shell).
fn command_gate(name: &str, why: &str, run: &str) -> Result<Proposal, String> {
    if !gate_name(name) {
        return Err(format!("`{name}`: not a name planexec can give a gate (letters, digits, `-` and `_`); configure it by hand"));
    }
    if run.contains(['|', '&', ';', '$', '>', '<', '`', '{', '*']) {
        return Err(format!("`{name}`: `{run}` needs a shell (pipes, variables, globs or placeholders); planexec runs programs directly"));
    }
    let words: Vec<&str> = run.split_whitespace().collect();
    let program = *words
        .first()
        .ok_or_else(|| format!("`{name}`: empty command"))?;
    if let Some(why) = never_granted(program, &words[1..]) {
        return Err(format!("`{name}`: {why}"));
    }
    Ok(Proposal {
        name: name.into(),
        why: why.into(),
        body: format!(
            "plugin = \"command\"\ncommand = {}\n",
            toml::Value::String(run.into())
        ),
        grants: vec![program.into()],
    })
}

/// Programs that run whatever their arguments say: granting one grants everything.
const SHELLS: &[&str] = &[
    "sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "fish", "csh", "tcsh", "busybox", "pwsh",
    "nu", "xonsh", "elvish",
];
const WRAPPERS: &[&str] = &[
    "env",
    "sudo",
    "doas",
    "su",
    "runuser",
    "xargs",
    "nohup",
    "timeout",
    "nice",
    "ionice",
    "stdbuf",
    "setsid",
    "time",
    "command",
    "exec",
    "eval",
    "chroot",
    "unshare",
    "nsenter",
    "strace",
    "ltrace",
    "gdb",
    "watch",
    "flock",
    "script",
    "parallel",
    "taskset",
    "chrt",
    "prlimit",
    "systemd-run",
    "firejail",
    "bwrap",
];
/// Interpreters and the flags that make them run code written on the command line.
const INLINE_CODE: &[(&str, &[&str])] = &[
    ("python", &["-c"]),
    ("pypy", &["-c"]),
    ("perl", &["-e", "-E"]),
    ("ruby", &["-e"]),
    ("node", &["-e", "--eval", "-p", "--print"]),
    ("nodejs", &["-e", "--eval", "-p", "--print"]),
    ("deno", &["eval"]),
    ("bun", &["-e", "--eval"]),
    ("php", &["-r"]),
    ("lua", &["-e"]),
];

/// Why `program args` may not be imported as a grant, if it may not: a shell, a
/// program that runs another (`env`, `xargs`...), an environment assignment, or an
/// interpreter given code inline.
fn never_granted(program: &str, args: &[&str]) -> Option<String> {
    if program.contains('=') {
        return Some(format!("`{program}` sets an environment variable; planexec never takes a hook's environment (LD_PRELOAD and the like are refused)"));
    }
    if program.contains('/') {
        return Some(format!("`{program}` is a script in the repository; grant and configure it by hand if you trust it"));
    }
    if !program
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-'))
        || program.starts_with('-')
    {
        return Some(format!(
            "`{program}` is not a program name; write the gate by hand"
        ));
    }
    if SHELLS.contains(&program) {
        return Some(format!("`{program}` is a shell: a grant of it lets any plugin run any command; write a gate for the program it runs by hand"));
    }
    if WRAPPERS.contains(&program) {
        return Some(format!("`{program}` runs the program named in its arguments: a grant of it lets any plugin run any command; write a gate for that program by hand"));
    }
    let base = program.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    INLINE_CODE
        .iter()
        .find(|(p, _)| *p == base)
        .and_then(|(_, flags)| args.iter().find(|a| flags.contains(a)))
        .map(|flag| format!("`{program} {flag}` runs code written in the hook file itself; put it in a file and write a gate for it by hand"))
}

/// A name `[gates.NAME]`, `gate run NAME` and a workflow can all carry as it is.
fn gate_name(n: &str) -> bool {
    n.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Untrusted text made one safe TOML comment line (no control characters, no line break).
fn comment(s: &str) -> String {
    crate::text::untrusted(s).replace('\n', " ")
}

/// Local `system` hooks of `.pre-commit-config.yaml` as command gates.
fn pre_commit(dir: &Path, f: &mut Found) {
    let Ok(text) = std::fs::read_to_string(dir.join(".pre-commit-config.yaml")) else {
        return;
    };
    let doc: serde_yaml::Value = match serde_yaml::from_str(&text) {
        Ok(d) => d,
        Err(e) => {
            return f
                .skipped
                .push(format!(".pre-commit-config.yaml: not YAML ({e})"))
        }
    };
    for repo in doc["repos"].as_sequence().into_iter().flatten() {
        let url = repo["repo"].as_str().unwrap_or("?");
        for hook in repo["hooks"].as_sequence().into_iter().flatten() {
            let id = hook["id"].as_str().unwrap_or("?");
            if url != "local" {
                f.skipped.push(format!("pre-commit hook `{id}` from {url}: a remote hook repository; use the matching planexec gate or a pack"));
                continue;
            }
            let lang = hook["language"].as_str().unwrap_or("");
            if lang != "system" {
                f.skipped.push(format!("pre-commit hook `{id}`: language `{lang}` (only `system` hooks run as they are)"));
                continue;
            }
            let mut run = hook["entry"].as_str().unwrap_or("").to_string();
            for a in hook["args"]
                .as_sequence()
                .into_iter()
                .flatten()
                .filter_map(|a| a.as_str())
            {
                run.push(' ');
                run.push_str(a);
            }
            let takes_files = hook["pass_filenames"].as_bool() != Some(false);
            let gate = command_gate(
                &format!("pre-commit-{id}"),
                "a local pre-commit hook (run on the whole tree, not on staged files)",
                &run,
            );
            match gate {
                Ok(p) if takes_files => whole_tree(p, &run, "pre-commit", f),
                Ok(p) => f.gates.push(p),
                Err(m) => f.skipped.push(format!("pre-commit hook {m}")),
            }
        }
    }
}

/// Lefthook's file-list placeholders: each is a list of paths the command checks.
const FILE_PLACEHOLDERS: &[&str] = &["{staged_files}", "{all_files}", "{files}", "{push_files}"];

/// `run` without lefthook's file-list placeholders, and whether it had one.
fn strip_file_placeholders(run: &str) -> (String, bool) {
    let mut out = run.to_string();
    for p in FILE_PLACEHOLDERS {
        out = out.replace(p, " ");
    }
    let had = out != run;
    (out.split_whitespace().collect::<Vec<_>>().join(" "), had)
}

/// A gate for a hook that is given file names: pointed at the whole tree when its
/// tool takes a directory, else written commented out with why.
fn whole_tree(mut p: Proposal, run: &str, who: &str, f: &mut Found) {
    let words: Vec<&str> = run.split_whitespace().collect();
    match tree_args(&words) {
        Some(extra) => {
            let full = format!("{run} {}", extra.join(" "));
            p.body = format!(
                "plugin = \"command\"\ncommand = {}\n",
                toml::Value::String(full)
            );
            p.why = format!("{}; given `.` for the file names the hook is passed", p.why);
            if words.first() == Some(&"gofmt") {
                p.why.push_str("; gofmt exits 0 even when it lists files, so only a syntax error fails it");
            }
            f.gates.push(p);
        }
        None => f.commented.push((
            p,
            format!("{who} passes it file names; planexec runs gates on the whole tree: give it the paths it should check"),
        )),
    }
}

/// Tools that check a whole directory when given one: (program, subcommand or "",
/// flags meaning "check only" of which one must be present, the flag added when
/// none is, the arguments that name the tree).
const DIR_TOOLS: &[(&str, &str, &[&str], &str, &str)] = &[
    ("black", "", &["--check"], "--check", "."),
    ("ruff", "format", &["--check"], "--check", "."),
    ("ruff", "", &[], "", "."),
    (
        "isort",
        "",
        &["--check-only", "-c", "--check"],
        "--check-only",
        ".",
    ),
    ("flake8", "", &[], "", "."),
    ("mypy", "", &[], "", "."),
    ("pylint", "", &[], "", "--recursive=y ."),
    ("bandit", "", &["-r", "--recursive"], "-r", "."),
    ("eslint", "", &[], "", "."),
    (
        "prettier",
        "",
        &["--check", "-c", "--list-different", "-l"],
        "--check",
        ".",
    ),
    ("gofmt", "", &["-l", "-d"], "-l", "."),
    ("go", "vet", &[], "", "./..."),
    ("pyflakes", "", &[], "", "."),
    ("pycodestyle", "", &[], "", "."),
    ("codespell", "", &[], "", "."),
    ("yamllint", "", &[], "", "."),
];

/// The arguments that make `words` (a hook command given file names) check the
/// whole tree, or None when its tool is not known to take a directory.
fn tree_args(words: &[&str]) -> Option<Vec<String>> {
    let (program, args) = match words {
        [py, "-m", module, rest @ ..] if py.starts_with("python") => (*module, rest),
        [program, rest @ ..] => (*program, rest),
        [] => return None,
    };
    let (_, _, check, add, tree) = DIR_TOOLS
        .iter()
        .find(|(p, sub, ..)| *p == program && (sub.is_empty() || args.contains(sub)))?;
    let mut extra = Vec::new();
    if !check.is_empty() && !args.iter().any(|a| check.contains(a)) {
        extra.push(add.to_string());
    }
    extra.extend(tree.split_whitespace().map(String::from));
    Some(extra)
}

/// `commands` of every hook in `lefthook.yml` as command gates.
fn lefthook(dir: &Path, f: &mut Found) {
    let Some(text) = ["lefthook.yml", "lefthook.yaml"]
        .iter()
        .find_map(|n| std::fs::read_to_string(dir.join(n)).ok())
    else {
        return;
    };
    let doc: serde_yaml::Value = match serde_yaml::from_str(&text) {
        Ok(d) => d,
        Err(e) => return f.skipped.push(format!("lefthook.yml: not YAML ({e})")),
    };
    for (hook, body) in doc.as_mapping().into_iter().flatten() {
        let hook = hook.as_str().unwrap_or("?");
        for (name, cmd) in body["commands"].as_mapping().into_iter().flatten() {
            let name = name.as_str().unwrap_or("?");
            let run = cmd["run"].as_str().unwrap_or("");
            let (run, takes_files) = strip_file_placeholders(run);
            let gate = command_gate(
                &format!("lefthook-{name}"),
                &format!("lefthook {hook} command"),
                &run,
            );
            match gate {
                Ok(p) if takes_files => whole_tree(p, &run, "lefthook", f),
                Ok(p) => f.gates.push(p),
                Err(m) => f.skipped.push(format!("lefthook command {m}")),
            }
        }
        for (name, _) in body["scripts"].as_mapping().into_iter().flatten() {
            f.skipped.push(format!("lefthook script `{}` ({hook}): scripts are files in the repository; configure them by hand", name.as_str().unwrap_or("?")));
        }
    }
}

/// The commented planexec.toml.
fn render(f: &Found) -> String {
    let mut out = String::from("# planexec.toml written by `planexec init`; review it, then run `planexec trust`.\n# Keys: docs/configuration.md. Shared gates: docs/packs.md.\n\n");
    let mut grants: Vec<&str> = f
        .gates
        .iter()
        .flat_map(|g| g.grants.iter().map(String::as_str))
        .collect();
    grants.sort();
    grants.dedup();
    out.push_str("# The programs plugins may run (each plugin still gets only what it requests).\n[policy]\n");
    let list: Vec<String> = grants
        .iter()
        .map(|g| toml::Value::String(g.to_string()).to_string())
        .collect();
    out.push_str(&format!("grant = [{}]\n", list.join(", ")));
    for g in &f.gates {
        out.push_str(&format!(
            "\n# {}: {}\n[gates.{}]\n{}",
            comment(&g.name),
            comment(&g.why),
            toml_key(&g.name),
            g.body
        ));
    }
    for (g, why) in &f.commented {
        out.push_str(&format!(
            "\n# {}: {}\n# Commented out: {}\n# [gates.{}]\n",
            comment(&g.name),
            comment(&g.why),
            comment(why),
            toml_key(&g.name)
        ));
        for line in g.body.lines() {
            out.push_str(&format!("# {}\n", comment(line)));
        }
    }
    if !f.skipped.is_empty() {
        out.push_str("\n# Not imported (configure by hand if you need them):\n");
        for s in &f.skipped {
            out.push_str(&format!("#   {}\n", comment(s)));
        }
    }
    let names: Vec<String> = f
        .gates
        .iter()
        .map(|g| toml::Value::String(g.name.clone()).to_string())
        .collect();
    out.push_str(&format!("\n[run]\n# Gates run after each task (final gates default to every [gates.*]).\ntask_gates = [{}]\n", names.join(", ")));
    out
}

fn toml_key(k: &str) -> String {
    if k.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        k.into()
    } else {
        toml::Value::String(k.into()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_of(files: &[(&str, &str)]) -> (Found, crate::config::Config) {
        let d = tempfile::tempdir().unwrap();
        for (p, t) in files {
            std::fs::write(d.path().join(p), t).unwrap();
        }
        let found = inspect(d.path());
        let text = render(&found);
        let config = crate::config::Config::parse(&text, Path::new("planexec.toml"), d.path())
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        (found, config)
    }

    fn names(c: &crate::config::Config) -> Vec<String> {
        c.gates.iter().map(|g| g.name.clone()).collect()
    }

    #[test]
    fn rust_and_node_projects_get_their_gates_and_grants() {
        let (_, c) = config_of(&[
            ("Cargo.toml", "[package]\nname = \"x\"\n"),
            (
                "package.json",
                "{\"devDependencies\": {\"jest\": \"29\", \"typescript\": \"5\"}}",
            ),
        ]);
        // One detection with `gate run` (gates/select.rs): checkers before test runners.
        assert_eq!(names(&c), ["cargo-test", "tsc", "jest"]);
        let grants: Vec<String> = c
            .policy
            .grant
            .iter()
            .map(|g| g.to_grant().program)
            .collect();
        assert_eq!(grants, ["cargo", "node"]);
        assert_eq!(c.run.task_gates, ["cargo-test", "tsc", "jest"]);
    }

    #[test]
    fn an_empty_repository_gets_a_valid_config_with_no_gates() {
        let (found, c) = config_of(&[("README.md", "hi\n")]);
        assert!(found.gates.is_empty() && c.gates.is_empty());
    }

    #[test]
    fn hooks_needing_a_shell_or_a_repository_script_are_not_imported() {
        let yaml = "pre-commit:\n  commands:\n    a:\n      run: ./scripts/check.sh\n    b:\n      run: cargo fmt -- --check\n  scripts:\n    c.sh:\n      runner: bash\n";
        let (found, c) = config_of(&[("lefthook.yml", yaml)]);
        assert_eq!(names(&c), ["lefthook-b"]);
        let skipped = found.skipped.join("\n");
        assert!(
            skipped.contains("`lefthook-a`") && skipped.contains("script in the repository"),
            "{skipped}"
        );
        assert!(skipped.contains("lefthook script `c.sh`"), "{skipped}");
    }

    #[test]
    fn tools_given_file_names_get_the_tree_and_a_check_flag() {
        let args =
            |run: &str| tree_args(&run.split_whitespace().collect::<Vec<_>>()).map(|a| a.join(" "));
        assert_eq!(args("black").as_deref(), Some("--check ."));
        assert_eq!(args("ruff format").as_deref(), Some("--check ."));
        assert_eq!(args("ruff check --fix").as_deref(), Some("."));
        assert_eq!(args("python3 -m mypy --strict").as_deref(), Some("."));
        assert_eq!(args("bandit -r").as_deref(), Some("."));
        assert_eq!(args("prettier").as_deref(), Some("--check ."));
        assert_eq!(args("python3 -m py_compile"), None);
        assert_eq!(args("go vet").as_deref(), Some("./..."));
        assert_eq!(args("go build"), None);
    }

    #[test]
    fn shells_wrappers_and_inline_code_are_never_granted() {
        for (run, why) in [
            ("sh -c make", "is a shell"),
            ("bash scripts/x", "is a shell"),
            ("env LD_PRELOAD=/x.so true", "runs the program named"),
            ("LD_PRELOAD=/x.so true", "sets an environment variable"),
            ("python3.12 -c print(1)", "runs code written in the hook"),
            ("node --eval 1", "runs code written in the hook"),
            ("--trust", "not a program name"),
        ] {
            let e = command_gate("g", "", run).err().unwrap_or_default();
            assert!(e.contains(why), "{run}: {e}");
        }
        assert!(command_gate("g", "", "python3 -m pytest").is_ok());
        assert!(command_gate("--x", "", "true").is_err());
        assert!(command_gate("a\nb", "", "true").is_err());
    }
}
