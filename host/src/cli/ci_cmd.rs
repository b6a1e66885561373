//! `planexec ci github`: a GitHub Actions workflow for this repository's gates, sharded:
//! a matrix job per shard uploading its JSON report, and a job merging them (docs/ci.md).

use super::{exit, report_error, PluginArgs};
use crate::shard::durations::DEFAULT_FILE;
use std::fmt::Write;

/// How the workflow installs planexec and where its jobs take their policy from
/// (`planexec ci github --install CMD --ci-policy FILE`).
#[derive(Debug, Clone)]
pub struct CiOptions {
    /// `git+URL[#REV]` (cargo install from that source), a shell command, or `None`:
    /// from the source this planexec was built from, when it knows one.
    pub install: Option<String>,
    /// The policy file the jobs read, as the base branch has it (relative to the repository).
    pub policy: String,
}

/// The policy file the workflow reads by default.
pub const DEFAULT_POLICY: &str = ".github/planexec-policy.toml";

/// Prints the workflow for `shards` shards of the gates named (default: those `gate run`
/// would run here).
pub fn github(shards: u32, names: &[String], ci: &CiOptions, args: &PluginArgs) -> i32 {
    let (workspace, config, registry) = match super::load_workspace(args) {
        Ok(t) => t,
        Err(c) => return c,
    };
    let gates: Vec<(String, String)> = if names.is_empty() {
        crate::gates::select::default_gates(&config, &workspace)
            .into_iter()
            .map(|g| (g.name, g.plugin))
            .collect()
    } else {
        names
            .iter()
            .map(|n| config.gate(n))
            .map(|g| (g.name, g.plugin))
            .collect()
    };
    if gates.is_empty() {
        report_error(&"no gates to put in the workflow: none is configured in planexec.toml and no project file names a standard gate; name them: `planexec ci github pytest`");
        return exit::USAGE;
    }
    if let Some((bad, _)) = gates.iter().find(|(n, _)| !plain_name(n)) {
        report_error(&format!(
            "gate `{}` (planexec.toml): a gate name in a workflow's command line must start with a letter or digit and hold only letters, digits and `-_.:` (a name like `--trust` would be read as an option); rename the gate",
            crate::text::untrusted(bad)
        ));
        return exit::USAGE;
    }
    let settings = match workflow_settings(shards, ci, &gates, &registry) {
        Ok(s) => s,
        Err(m) => {
            report_error(&m);
            return exit::USAGE;
        }
    };
    for n in &settings.tools.notes {
        eprintln!("note: {}", crate::text::untrusted(n));
    }
    eprintln!("{}", policy_note(&settings.policy));
    print!("{}", workflow(&settings, &gates));
    exit::OK
}

/// Gate names that are safe in a shell command line and YAML plain scalar as they are,
/// and that no command line reads as an option (`--trust`, `--unconfined`).
fn plain_name(n: &str) -> bool {
    n.starts_with(|c: char| c.is_ascii_alphanumeric())
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
}

/// Everything the workflow text depends on besides the gates.
pub struct Settings {
    pub shards: u32,
    /// The body of the install step's `run: |` block (one command a line).
    pub install: Vec<String>,
    pub policy: String,
    pub tools: Tools,
}

/// The install, policy and tool settings for `gates`, checked.
fn workflow_settings(
    shards: u32,
    ci: &CiOptions,
    gates: &[(String, String)],
    registry: &crate::plugins::Registry,
) -> Result<Settings, String> {
    Ok(Settings {
        shards,
        install: install_lines(ci.install.as_deref())?,
        policy: checked_policy_path(&ci.policy)?,
        tools: gate_tools(gates, registry),
    })
}

/// The source this planexec was built from (`repository` in its Cargo.toml), if any.
fn own_source() -> Option<&'static str> {
    Some(env!("CARGO_PKG_REPOSITORY")).filter(|s| !s.is_empty())
}

/// The install step's commands: `git+URL[#REV]` builds planexec from that source with
/// cargo (after adding the wasm32-wasip2 target its build needs); any other text is run
/// as it is; none: from [`own_source`].
pub fn install_lines(install: Option<&str>) -> Result<Vec<String>, String> {
    let given = install.map(str::trim).filter(|s| !s.is_empty());
    let spec = match (given, own_source()) {
        (Some(s), _) => s.to_string(),
        (None, Some(url)) => format!("git+{url}#v{}", env!("CARGO_PKG_VERSION")),
        (None, None) => return Err(
            "say how the workflow installs planexec: this planexec was built without a source URL. \
             Pass --install git+URL[#REV] (the planexec repository: cargo builds it, with the \
             wasm32-wasip2 target) or --install 'COMMAND' (e.g. one that downloads your release \
             binaries planexec and planexec-box onto PATH)"
                .into(),
        ),
    };
    let Some(source) = spec.strip_prefix("git+") else {
        return Ok(spec.lines().map(String::from).collect());
    };
    let (url, rev) = match source.split_once('#') {
        Some((u, r)) => (u, Some(r)),
        None => (source, None),
    };
    let safe = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.:/@~+%".contains(c))
    };
    if !safe(url) || rev.is_some_and(|r| !safe(r)) {
        return Err(format!(
            "--install {spec}: a git source is git+URL or git+URL#REV with no spaces or shell characters"
        ));
    }
    let rev = rev.map(|r| rev_flag(r)).unwrap_or_default();
    Ok(vec![
        "rustup target add wasm32-wasip2".into(),
        format!("cargo install --locked --git {url}{rev} planexec"),
    ])
}

/// `--tag v1.2.0` for a tag-like revision, `--rev SHA` for a commit, `--branch B` otherwise.
fn rev_flag(rev: &str) -> String {
    let is_sha = rev.len() >= 7 && rev.chars().all(|c| c.is_ascii_hexdigit());
    let is_tag = rev.starts_with('v') && rev[1..].starts_with(|c: char| c.is_ascii_digit());
    match (is_sha, is_tag) {
        (true, _) => format!(" --rev {rev}"),
        (_, true) => format!(" --tag {rev}"),
        _ => format!(" --branch {rev}"),
    }
}

/// The policy path, relative to the repository, plain enough for a command line.
fn checked_policy_path(p: &str) -> Result<String, String> {
    let plain = p
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    let inside = !p.starts_with('/') && !p.split('/').any(|s| s == ".." || s.is_empty());
    if plain && inside {
        Ok(p.to_string())
    } else {
        Err(format!(
            "--ci-policy {p}: give a path inside the repository (letters, digits, `-_./`), e.g. {DEFAULT_POLICY}"
        ))
    }
}

/// Said on stderr with the workflow: what its jobs trust.
fn policy_note(policy: &str) -> String {
    format!(
        "note: the workflow's jobs trust planexec.toml (and planexec.lock) only when a pull request \
         left them as the base branch has them; a pull request that changes them runs its gates \
         untrusted, with --policy {policy} of the base branch (optional: [policy], [plugins], \
         [packs], [limits]) as the only policy (docs/ci.md)"
    )
}

/// What the gates' programs need installed on the runner, read from their plugins'
/// requested commands (`python3 -m MODULE`, `go`, `node`, `cargo`).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Tools {
    /// pip packages (a module run with `python3 -m`).
    pub python: std::collections::BTreeSet<String>,
    pub go: bool,
    pub node: bool,
    pub cargo: bool,
    /// What the workflow cannot install by itself, said on stderr.
    pub notes: Vec<String>,
}

/// The tools of every gate's plugin.
fn gate_tools(gates: &[(String, String)], registry: &crate::plugins::Registry) -> Tools {
    let mut t = Tools::default();
    for (gate, plugin) in gates {
        match registry.get(plugin) {
            Ok(p) => add_commands(&mut t, gate, &p.manifest.requests.commands),
            Err(_) => t.notes.push(format!(
                "gate `{gate}`: plugin `{plugin}` is not installed here; install its tools in the workflow yourself"
            )),
        }
    }
    t
}

/// One plugin's requested commands, as tools to install: the first `python3 -m MODULE`
/// (pip package MODULE), a toolchain for `go`, `node`, `cargo`; anything else is noted.
fn add_commands(t: &mut Tools, gate: &str, commands: &[String]) {
    let modules: Vec<&str> = commands
        .iter()
        .filter_map(|c| c.strip_prefix("python3 -m "))
        .filter_map(|rest| rest.split_whitespace().next())
        .collect();
    for c in commands {
        let program = c.split_whitespace().next().unwrap_or("");
        match program {
            "python3" => {}
            "go" => t.go = true,
            "node" => t.node = true,
            "cargo" => t.cargo = true,
            "*" => t.notes.push(format!(
                "gate `{gate}` runs whatever its settings name: install that program in the workflow yourself"
            )),
            p if modules.contains(&p) => {}
            p => t.notes.push(format!(
                "gate `{gate}` runs `{p}`: install it in the workflow yourself"
            )),
        }
    }
    // The plugin's own tool: the first module it runs (pytest's `coverage run` is optional).
    t.python.extend(
        modules
            .first()
            .filter(|m| plain_name(m))
            .map(|m| m.to_string()),
    );
}

/// The workflow text for `(gate name, plugin)` pairs.
pub fn workflow(s: &Settings, gates: &[(String, String)]) -> String {
    let shards = s.shards;
    let names: Vec<&str> = gates.iter().map(|(n, _)| n.as_str()).collect();
    let matrix: Vec<String> = (1..=shards).map(|i| i.to_string()).collect();
    let policy_file = "\"$RUNNER_TEMP/planexec-policy.toml\"";
    let mut w = String::new();
    let _ = write!(
        w,
        r#"# Written by `planexec ci github --shards {shards}`: each gate's tests split across {shards}
# runners, the shards' JSON reports merged into one result. planexec.toml is trusted only
# as the base branch has it, plus {policy} from there (docs/ci.md).
name: planexec gates
on:
  push:
  pull_request:
permissions:
  contents: read
jobs:
  shard:
    name: gates (shard ${{{{ matrix.shard }}}} of {shards})
    runs-on: ubuntu-latest
    strategy:
      fail-fast: false
      matrix:
        shard: [{matrix}]
    steps:
      - uses: actions/checkout@v4
{setup}{install}{boxed}{take_policy}      - name: Test times of the last merged run
        uses: actions/cache/restore@v4
        with:
          path: {DEFAULT_FILE}
          key: planexec-durations-${{{{ github.run_id }}}}
          restore-keys: planexec-durations-
      - name: Run shard ${{{{ matrix.shard }}}} of {shards}
        run: planexec gate run {gates} --policy {policy_file} --shard ${{{{ matrix.shard }}}}/{shards} --durations {DEFAULT_FILE} --report json=planexec-shard-${{{{ matrix.shard }}}}.json
      - name: Upload the shard's report
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: planexec-shard-${{{{ matrix.shard }}}}
          path: planexec-shard-${{{{ matrix.shard }}}}.json
          if-no-files-found: error
  merge:
    name: gates (merged)
    needs: shard
    if: always()
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
{install}{take_policy}      - name: Download every shard's report
        uses: actions/download-artifact@v4
        with:
          pattern: planexec-shard-*
          path: shards
          merge-multiple: true
      - name: Merge the shards
        run: planexec report merge shards/*.json --policy {policy_file} --report junit=planexec-junit.xml --report sarif=planexec.sarif --durations {DEFAULT_FILE}
      - name: Keep the test times for the next run's shards
        if: always()
        uses: actions/cache/save@v4
        with:
          path: {DEFAULT_FILE}
          key: planexec-durations-${{{{ github.run_id }}}}
      - name: Upload the merged reports
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: planexec-report
          path: |
            planexec-junit.xml
            planexec.sarif
          if-no-files-found: warn
"#,
        policy = s.policy,
        matrix = matrix.join(", "),
        setup = setup_steps(&s.tools),
        install = install_step(&s.install),
        boxed = BOX,
        take_policy = trust_step(&s.policy),
        gates = names.join(" "),
    );
    w
}

/// Installing planexec (both jobs): `lines` as a `run: |` block.
fn install_step(lines: &[String]) -> String {
    let mut s = String::from(
        "      - name: Install planexec\n        # `planexec ci github --install` chose how (docs/ci.md).\n        run: |\n",
    );
    for l in lines {
        s.push_str(&format!("          {l}\n"));
    }
    s
}

/// Trust as the base branch has it (a push: the pushed commit): planexec.toml is trusted
/// only when the pull request left it and planexec.lock unchanged, and the policy file is
/// copied from the base branch to `$RUNNER_TEMP`, out of the pull request's reach.
fn trust_step(policy: &str) -> String {
    format!(
        r#"      - name: Trust the configuration as the base branch has it
        # Never the pull request's own changes: its author would choose what runs on this runner.
        env:
          BASE: ${{{{ github.event.pull_request.base.sha || github.sha }}}}
        run: |
          git fetch --no-tags --depth=1 origin "$BASE"
          git show "$BASE:{policy}" > "$RUNNER_TEMP/planexec-policy.toml" 2>/dev/null || : > "$RUNNER_TEMP/planexec-policy.toml"
          if [ ! -f planexec.toml ]; then
            echo "no planexec.toml: the gates run with their standard settings"
          elif git diff --quiet "$BASE" -- planexec.toml planexec.lock; then
            planexec trust
          else
            echo "::warning::planexec.toml or planexec.lock differs from the base branch: not trusted in this run (its policy and program settings are ignored; {policy} of the base branch applies)"
          fi
"#
    )
}

/// Letting the box of the shard jobs use user namespaces: Ubuntu 24.04 runners restrict
/// unprivileged ones through AppArmor (`planexec doctor` shows what is left).
const BOX: &str = r#"      - name: Let planexec's box use user namespaces
        run: sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 || true
"#;

/// The toolchain steps the gates' programs need.
fn setup_steps(t: &Tools) -> String {
    let mut s = String::new();
    if !t.python.is_empty() {
        let packages: Vec<&str> = t.python.iter().map(String::as_str).collect();
        s.push_str(&format!(
            r#"      - uses: actions/setup-python@v5
        with:
          python-version: "3.x"
      - name: Install the gates' Python tools
        # and the project's own dependencies
        run: python3 -m pip install {}
"#,
            packages.join(" ")
        ));
    }
    if t.go {
        s.push_str(
            r#"      - uses: actions/setup-go@v5
        with:
          go-version-file: go.mod
      - name: Download the Go modules (the box has no network)
        run: go mod download
"#,
        );
    }
    if t.node {
        s.push_str(
            r#"      - uses: actions/setup-node@v4
        with:
          node-version: "lts/*"
      - name: Install the Node packages
        run: npm ci
"#,
        );
    }
    if t.cargo {
        s.push_str(
            r#"      - name: Fetch the crates (the box has no network)
        run: cargo fetch
"#,
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_from_a_git_source_builds_with_the_wasm_target() {
        let l = install_lines(Some("git+https://example.com/p.git#v1.2.0")).unwrap();
        assert_eq!(
            l,
            [
                "rustup target add wasm32-wasip2",
                "cargo install --locked --git https://example.com/p.git --tag v1.2.0 planexec"
            ]
        );
        let l = install_lines(Some("git+https://example.com/p.git#0123abcd")).unwrap();
        assert!(l[1].contains("--rev 0123abcd"), "{l:?}");
        let l = install_lines(Some("git+https://example.com/p.git#main")).unwrap();
        assert!(l[1].contains("--branch main"), "{l:?}");
        assert!(install_lines(Some("git+https://x/p.git; rm -rf ~")).is_err());
        let cmd = "curl -L https://example.com/planexec.tgz | tar xz -C ~/.local/bin";
        assert_eq!(install_lines(Some(cmd)).unwrap(), [cmd]);
    }

    #[test]
    fn policy_paths_stay_inside_the_repository() {
        assert!(checked_policy_path(".github/planexec-policy.toml").is_ok());
        for bad in ["/etc/p.toml", "../p.toml", "a b.toml", "a//b", "$(x)"] {
            assert!(checked_policy_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_gates_tools_come_from_their_requested_commands() {
        let mut t = Tools::default();
        let cmds = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        add_commands(
            &mut t,
            "pytest",
            &cmds(&["python3 -m pytest *", "python3 -m coverage run *"]),
        );
        add_commands(
            &mut t,
            "ruff",
            &cmds(&["python3 -m ruff check *", "ruff check *"]),
        );
        add_commands(&mut t, "go-test", &cmds(&["go test *"]));
        add_commands(&mut t, "lint", &cmds(&["*"]));
        add_commands(&mut t, "odd", &cmds(&["shellcheck *"]));
        assert_eq!(t.python.iter().collect::<Vec<_>>(), ["pytest", "ruff"]);
        assert!(t.go && !t.node && !t.cargo);
        assert_eq!(t.notes.len(), 2, "{:?}", t.notes);
        assert!(t.notes[1].contains("`shellcheck`"), "{:?}", t.notes);
    }

    #[test]
    fn names_that_need_quoting_are_refused() {
        assert!(plain_name("pytest") && plain_name("acceptance:T001") && plain_name("go_test.v2"));
        for bad in [
            "", "a b", "x;rm", "$(x)", "a'b", "#c", "--trust", "-x", ":a", ".x",
        ] {
            assert!(!plain_name(bad), "{bad}");
        }
    }
}
