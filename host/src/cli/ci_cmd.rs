//! `planexec ci github`: a GitHub Actions workflow for this repository's gates, sharded:
//! a matrix job per shard uploading its JSON report, and a job merging them (docs/ci.md).

use super::{exit, report_error, PluginArgs};
use crate::shard::durations::DEFAULT_FILE;
use std::fmt::Write;

/// Prints the workflow for `shards` shards of the gates named (default: those `gate run`
/// would run here).
pub fn github(shards: u32, names: &[String], args: &PluginArgs) -> i32 {
    let (workspace, config, _) = match super::load_workspace(args) {
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
    print!("{}", workflow(shards, &gates));
    exit::OK
}

/// Gate names that are safe in a shell command line and YAML plain scalar as they are,
/// and that no command line reads as an option (`--trust`, `--unconfined`).
fn plain_name(n: &str) -> bool {
    n.starts_with(|c: char| c.is_ascii_alphanumeric())
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
}

/// The workflow text for `(gate name, plugin)` pairs.
pub fn workflow(shards: u32, gates: &[(String, String)]) -> String {
    let names: Vec<&str> = gates.iter().map(|(n, _)| n.as_str()).collect();
    let matrix: Vec<String> = (1..=shards).map(|i| i.to_string()).collect();
    let mut w = String::new();
    let _ = write!(
        w,
        r#"# Written by `planexec ci github --shards {shards}`: each gate's tests split across {shards}
# runners, the shards' JSON reports merged into one result (docs/ci.md).
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
{setup}{install}{boxed}      - name: Test times of the last merged run
        uses: actions/cache/restore@v4
        with:
          path: {DEFAULT_FILE}
          key: planexec-durations-${{{{ github.run_id }}}}
          restore-keys: planexec-durations-
      - name: Run shard ${{{{ matrix.shard }}}} of {shards}
        run: planexec gate run {gates} --shard ${{{{ matrix.shard }}}}/{shards} --durations {DEFAULT_FILE} --report json=planexec-shard-${{{{ matrix.shard }}}}.json
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
{install}      - name: Download every shard's report
        uses: actions/download-artifact@v4
        with:
          pattern: planexec-shard-*
          path: shards
          merge-multiple: true
      - name: Merge the shards
        run: planexec report merge shards/*.json --report junit=planexec-junit.xml --report sarif=planexec.sarif --durations {DEFAULT_FILE}
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
        matrix = matrix.join(", "),
        setup = setup_steps(gates),
        install = INSTALL,
        boxed = BOX,
        gates = names.join(" "),
    );
    w
}

/// Installing planexec (both jobs).
const INSTALL: &str = r#"      - name: Install planexec
        # However your team installs planexec: a release binary, or from source like this.
        run: cargo install --locked planexec
"#;

/// Letting the box of the shard jobs use user namespaces: Ubuntu 24.04 runners restrict
/// unprivileged ones through AppArmor (`planexec doctor` shows what is left).
const BOX: &str = r#"      - name: Let planexec's box use user namespaces
        run: sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 || true
"#;

/// The toolchain steps the gates' plugins need.
fn setup_steps(gates: &[(String, String)]) -> String {
    let has = |p: &[&str]| gates.iter().any(|(_, plugin)| p.contains(&plugin.as_str()));
    let mut s = String::new();
    if has(&["pytest", "mypy", "ruff", "black", "bandit", "coverage"]) {
        s.push_str(
            r#"      - uses: actions/setup-python@v5
        with:
          python-version: "3.x"
      - name: Install the Python test tools
        # and the project's own dependencies
        run: python3 -m pip install pytest
"#,
        );
    }
    if has(&["go-test"]) {
        s.push_str(
            r#"      - uses: actions/setup-go@v5
        with:
          go-version-file: go.mod
      - name: Download the Go modules (the box has no network)
        run: go mod download
"#,
        );
    }
    if has(&["vitest", "jest", "eslint", "tsc"]) {
        s.push_str(
            r#"      - uses: actions/setup-node@v4
        with:
          node-version: "lts/*"
      - name: Install the Node packages
        run: npm ci
"#,
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

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
