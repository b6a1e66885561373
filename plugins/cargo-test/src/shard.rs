//! cargo test's part of a sharded run: the tests `cargo test -- --list` finds in every test
//! binary (doc tests included), assigned by name (`testfmt::shard`), run with `--exact`.
//!
//! A name is one unit across binaries: libtest's filters apply to every binary, so all tests
//! of that name run in one shard, and each test still runs exactly once.

use planexec_pdk::{Command, GateReport, Host, Outcome, Output, ShardResult};
use testfmt::shard::{self, Part};

pub enum Plan {
    /// The names for `--exact`, and what the report says of the shard.
    Run(Vec<String>, ShardResult),
    /// Listing failed (a test target does not compile): judge its output like a run's.
    ListingFailed(Output),
    Done(GateReport),
}

/// Lists the tests with `list` (`cargo test ... -- --list`).
pub fn plan(host: &dyn Host, list: &Command, part: &Part) -> Plan {
    if let Err(e) = shard::check(part) {
        return Plan::Done(planexec_pdk::report(Outcome::Errored, e));
    }
    let out = match testfmt::run(host, list) {
        Ok(o) => o,
        Err(r) => return Plan::Done(r),
    };
    if out.exit_code != Some(0) {
        return Plan::ListingFailed(out);
    }
    let listing = listed(&out.stdout_str());
    let mut units = listing.clone();
    units.dedup();
    let mine = shard::mine(part, &units, |n| n.to_string());
    let result = shard::result(part, units.len(), &listing);
    if mine.is_empty() {
        let mut r = planexec_pdk::report(
            Outcome::Passed,
            format!(
                "shard {}/{}: none of the {} tests is this shard's",
                part.index,
                part.count,
                units.len()
            ),
        );
        r.tests = Some(Default::default());
        r.shard = Some(result);
        return Plan::Done(r);
    }
    Plan::Run(mine.into_iter().cloned().collect(), result)
}

/// Each `NAME: test` line of every binary's `--list` (benchmarks are not run by cargo test),
/// sorted; a name in two binaries is listed twice.
fn listed(stdout: &str) -> Vec<String> {
    let mut out: Vec<String> = stdout
        .lines()
        .filter_map(|l| l.trim_end().strip_suffix(": test"))
        .map(str::to_string)
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use planexec_pdk::testing::FakeHost;

    const LISTING: &str = "tests::adds: test\ntests::subs: test\nbench_x: benchmark\n\n2 tests, 1 benchmark\ntests::adds: test\nsrc/lib.rs - add (line 3): test\n";

    #[test]
    fn lists_every_binarys_tests_and_runs_each_name_once() {
        assert_eq!(
            listed(LISTING),
            ["src/lib.rs - add (line 3)", "tests::adds", "tests::adds", "tests::subs"]
        );
        let mut all = Vec::new();
        for index in 1..=2 {
            let host = FakeHost::new().on("cargo", 0, LISTING);
            let part = Part { index, count: 2, durations: vec![] };
            match plan(&host, &Command::new("cargo"), &part) {
                Plan::Run(names, result) => {
                    assert_eq!(result.listed, 3);
                    all.extend(names)
                }
                Plan::Done(r) => assert_eq!(r.outcome, Outcome::Passed),
                Plan::ListingFailed(_) => panic!("listing failed"),
            }
        }
        all.sort();
        assert_eq!(all, ["src/lib.rs - add (line 3)", "tests::adds", "tests::subs"]);
    }
}
