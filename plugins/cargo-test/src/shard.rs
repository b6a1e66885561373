//! cargo test's part of a sharded run: the tests `cargo test -- --list` finds in every test
//! binary (doc tests included), assigned by name (`testfmt::shard`), run by name filters.
//!
//! libtest's filters apply to every binary and match substrings (`--exact` would be exact,
//! but rustdoc's doc tests never match it), so a unit is a group of names: a name goes with
//! every name it is part of (`tests::add` with `tests::add_two`), and all tests of a name in
//! any binary run in the one shard that has it; each test still runs exactly once. rustdoc
//! does not filter doc tests by their full names (in a workspace one crate's name selects
//! every crate's test of that file and line), so the doc tests are one unit, selected by
//! `DOC_TESTS`, a filter that is part of every doc test's name and of no other test's.

use planexec_pdk::{Command, GateReport, Host, Output, ShardResult};
use testfmt::shard::{self, Part};

/// Part of every doc test's name (`src/lib.rs - add (line 3)`); never of a test function's.
pub const DOC_TESTS: &str = " (line ";

pub enum Plan {
    /// The name filters, and what the report says of the shard.
    Run(Vec<String>, ShardResult),
    /// Listing failed (a test target does not compile): judge its output like a run's.
    ListingFailed(Output),
    Done(GateReport),
}

/// Lists the tests with `list` (`cargo test ... -- --list`).
pub fn plan(host: &dyn Host, list: &Command, part: &Part) -> Plan {
    let out = match shard::list(host, list, part) {
        Ok(o) => o,
        Err(r) => return Plan::Done(r),
    };
    if out.exit_code != Some(0) {
        return Plan::ListingFailed(out);
    }
    let listing = listed(&out.stdout_str());
    let mut names = listing.clone();
    names.dedup();
    let group = groups(&names);
    let mut units: Vec<String> = group.clone();
    units.sort();
    units.dedup();
    let unit_of = |n: &str| match names.binary_search_by(|x| x.as_str().cmp(n)) {
        Ok(k) => group[k].clone(),
        Err(_) => n.to_string(),
    };
    let shards = shard::assign(part, &units, unit_of);
    let ours = |g: &String| {
        let k = units.binary_search(g).expect("a group is a unit");
        shards[k] == part.index
    };
    let mut mine: Vec<String> = names
        .iter()
        .zip(&group)
        .filter(|(_, g)| ours(g))
        .map(|(n, _)| {
            if n.contains(DOC_TESTS) {
                DOC_TESTS.to_string()
            } else {
                n.clone()
            }
        })
        .collect();
    mine.dedup();
    let result = shard::result(part, names.len(), &listing);
    if mine.is_empty() {
        return Plan::Done(shard::empty(part, names.len(), "tests", result));
    }
    Plan::Run(mine, result)
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

/// For each of the sorted, distinct `names`, its group: the least name of the names joined
/// by one being part of another (union-find over substring containment), every doc test
/// in one.
fn groups(names: &[String]) -> Vec<String> {
    let mut parent: Vec<usize> = (0..names.len()).collect();
    fn root(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    let mut by_len: Vec<usize> = (0..names.len()).collect();
    by_len.sort_by_key(|&i| names[i].len());
    for (k, &short) in by_len.iter().enumerate() {
        for &long in &by_len[k + 1..] {
            if names[long].contains(names[short].as_str()) {
                let (a, b) = (root(&mut parent, short), root(&mut parent, long));
                // The least index (the least name, the list being sorted) is the root.
                parent[a.max(b)] = a.min(b);
            }
        }
    }
    let docs: Vec<usize> = (0..names.len())
        .filter(|&i| names[i].contains(DOC_TESTS))
        .collect();
    for pair in docs.windows(2) {
        let (a, b) = (root(&mut parent, pair[0]), root(&mut parent, pair[1]));
        parent[a.max(b)] = a.min(b);
    }
    (0..names.len())
        .map(|i| names[root(&mut parent, i)].clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use planexec_pdk::testing::FakeHost;

    const LISTING: &str = "tests::adds: test\ntests::subs: test\nbench_x: benchmark\n\n2 tests, 1 benchmark\ntests::adds: test\ntests::adds_more: test\nsrc/lib.rs - add (line 3): test\n";

    #[test]
    fn lists_every_binarys_tests_and_runs_each_name_once() {
        assert_eq!(
            listed(LISTING),
            [
                "src/lib.rs - add (line 3)",
                "tests::adds",
                "tests::adds",
                "tests::adds_more",
                "tests::subs"
            ]
        );
        let names: Vec<String> = ["a::x", "a::x_2", "b", "c::a::x_2_3"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            groups(&names),
            ["a::x", "a::x", "b", "a::x"],
            "a name goes with what contains it"
        );
        let mut all = Vec::new();
        for index in 1..=2 {
            let host = FakeHost::new().on("cargo", 0, LISTING);
            let part = Part {
                index,
                count: 2,
                durations: vec![],
            };
            match plan(&host, &Command::new("cargo"), &part) {
                Plan::Run(names, result) => {
                    assert_eq!(result.listed, 4);
                    all.extend(names)
                }
                Plan::Done(r) => assert_eq!(r.outcome, planexec_pdk::Outcome::Passed),
                Plan::ListingFailed(_) => panic!("listing failed"),
            }
        }
        all.sort();
        assert_eq!(
            all,
            [DOC_TESTS, "tests::adds", "tests::adds_more", "tests::subs"],
            "every name in exactly one shard, the doc tests by their common filter"
        );
        let docs: Vec<String> = [
            "a/src/lib.rs - f (line 3)",
            "b/src/lib.rs - f (line 3)",
            "t",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            groups(&docs),
            [docs[0].clone(), docs[0].clone(), "t".into()],
            "doc tests are one unit"
        );
    }
}
