//! go test's part of a sharded run: the top-level tests `go test -list` finds in every
//! package, assigned by name (`testfmt::shard`), run with one `-run '^(A|B)$'`.
//!
//! A name is one unit across packages: `-run` applies to every package, so all tests of that
//! name run in one shard, and each test still runs exactly once.

use planexec_pdk::{Command, GateReport, Host, ShardResult};
use testfmt::shard::{self, Part};

/// The `-run` argument of this shard, or a report when nothing is to run or listing failed.
pub enum Plan {
    /// The `-run` argument, and what the report says of the shard.
    Run(String, ShardResult),
    Done(GateReport),
}

/// Lists the tests with `list` (`go test -list .` with the gate's flags and packages).
pub fn plan(host: &dyn Host, list: &Command, part: &Part) -> Plan {
    let out = match shard::list(host, list, part) {
        Ok(o) => o,
        Err(r) => return Plan::Done(r),
    };
    if out.exit_code != Some(0) {
        return Plan::Done(shard::unlisted(
            format!(
                "go test -list {}: the tests cannot be sharded (does every package build?)",
                testfmt::exit_text(out.exit_code)
            ),
            &out,
        ));
    }
    let listing = listed(&out.stdout_str());
    let mut units: Vec<String> = listing
        .iter()
        .map(|l| {
            l.split_once("::")
                .map_or(l.as_str(), |(_, n)| n)
                .to_string()
        })
        .collect();
    units.sort();
    units.dedup();
    let top = |name: &str| name.split('/').next().unwrap_or(name).to_string();
    let mine = shard::mine(part, &units, top);
    let result = shard::result(part, units.len(), &listing);
    if mine.is_empty() {
        return Plan::Done(shard::empty(part, units.len(), "tests", result));
    }
    let names: Vec<&str> = mine.iter().map(|s| s.as_str()).collect();
    Plan::Run(format!("-run=^({})$", names.join("|")), result)
}

/// `package::Test` for each test, fuzz test and example `go test -list` printed: a
/// package's names come before its `ok`/`?` line. Benchmarks do not run under `go test`.
fn listed(stdout: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut pending: Vec<&str> = Vec::new();
    for line in stdout.lines().map(str::trim_end) {
        let ident = !line.is_empty() && line.chars().all(|c| c.is_alphanumeric() || c == '_');
        if ident
            && ["Test", "Fuzz", "Example"]
                .iter()
                .any(|p| line.starts_with(p))
        {
            pending.push(line);
        } else if let Some(rest) = line.strip_prefix("ok ").or_else(|| line.strip_prefix("? ")) {
            let pkg = rest.split_whitespace().next().unwrap_or("");
            out.extend(pending.drain(..).map(|n| format!("{pkg}::{n}")));
        }
    }
    out.extend(pending.drain(..).map(|n| format!("::{n}")));
    out.sort();
    out
}

/// A `-run` of the user's cannot be combined with the shard's own.
pub fn has_run_flag(args: &[String]) -> bool {
    args.iter()
        .any(|a| a == "-run" || a == "--run" || a.starts_with("-run=") || a.starts_with("--run="))
}

#[cfg(test)]
mod tests {
    use super::*;
    use planexec_pdk::testing::FakeHost;

    const LISTING: &str = "TestAdd\nTestSub\nBenchmarkAdd\nExampleAdd\nok  \texample.com/m/calc\t0.002s\nTestAdd\nFuzzParse\nok  \texample.com/m/parse\t0.001s\n?   \texample.com/m/cmd\t[no test files]\n";

    #[test]
    fn lists_tests_by_package_without_benchmarks() {
        assert_eq!(
            listed(LISTING),
            [
                "example.com/m/calc::ExampleAdd",
                "example.com/m/calc::TestAdd",
                "example.com/m/calc::TestSub",
                "example.com/m/parse::FuzzParse",
                "example.com/m/parse::TestAdd",
            ]
        );
    }

    #[test]
    fn the_shards_run_each_name_once() {
        let mut all: Vec<String> = Vec::new();
        for index in 1..=2 {
            let host = FakeHost::new().on("go", 0, LISTING);
            let part = Part {
                index,
                count: 2,
                durations: vec![],
            };
            match plan(&host, &Command::new("go"), &part) {
                Plan::Run(r, result) => {
                    assert_eq!(result.listed, 4);
                    let inner = r
                        .strip_prefix("-run=^(")
                        .and_then(|r| r.strip_suffix(")$"))
                        .unwrap();
                    all.extend(inner.split('|').map(String::from));
                }
                Plan::Done(d) => assert_eq!(d.outcome, planexec_pdk::Outcome::Passed),
            }
        }
        all.sort();
        assert_eq!(all, ["ExampleAdd", "FuzzParse", "TestAdd", "TestSub"]);
        assert!(has_run_flag(&["-count=1".into(), "-run=X".into()]));
        assert!(!has_run_flag(&["-count=1".into()]));
    }
}
