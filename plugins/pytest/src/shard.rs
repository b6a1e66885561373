//! pytest's part of a sharded run: the node ids from `--collect-only -q`, grouped so that an
//! id another one starts with goes with it, assigned by `testfmt::shard`, the rest deselected.

use planexec_pdk::{Command, GateReport, Host, ShardResult};
use testfmt::shard::{self, Part};

/// What the shard runs: `--deselect` for every id of the other shards, or a report when
/// there is nothing to run (no test is this shard's) or the listing failed.
pub enum Plan {
    /// The arguments to add, and what the report says of the shard.
    Deselect(Vec<String>, ShardResult),
    Done(GateReport),
}

/// Lists the tests with `list` (pytest with the gate's arguments, collecting only) and
/// decides this shard's part.
pub fn plan(host: &dyn Host, list: &Command, part: &Part) -> Plan {
    let out = match shard::list(host, list, part) {
        Ok(o) => o,
        Err(r) => return Plan::Done(r),
    };
    let ids = node_ids(&out.stdout_str());
    if !matches!(out.exit_code, Some(0) | Some(5)) {
        return Plan::Done(shard::unlisted(
            format!(
                "pytest --collect-only {} (collection errors?): the tests cannot be sharded",
                testfmt::exit_text(out.exit_code)
            ),
            &out,
        ));
    }
    let roots = groups(&ids);
    let root_of = |name: &str| {
        ids.binary_search_by(|i| i.as_str().cmp(name))
            .map(|k| roots[k].clone())
            .unwrap_or_else(|_| name.to_string())
    };
    let mut units: Vec<String> = roots.clone();
    units.dedup();
    let shards = shard::assign(part, &units, root_of);
    let mine = |root: &str| {
        let k = units
            .binary_search_by(|u| u.as_str().cmp(root))
            .expect("a root is a unit");
        shards[k] == part.index
    };
    let ran = roots.iter().filter(|r| mine(r)).count();
    let result = shard::result(part, ids.len(), &ids);
    if ran == 0 {
        return Plan::Done(shard::empty(part, ids.len(), "tests", result));
    }
    let others = units
        .iter()
        .zip(&shards)
        .filter(|(_, s)| **s != part.index)
        .flat_map(|(u, _)| ["--deselect".to_string(), u.clone()])
        .collect();
    Plan::Deselect(others, result)
}

/// The node ids `pytest --collect-only -q` printed (the lines before its summary), sorted.
fn node_ids(stdout: &str) -> Vec<String> {
    let mut ids: Vec<String> = stdout
        .lines()
        .map(str::trim_end)
        .take_while(|l| !l.is_empty())
        .filter(|l| l.contains("::"))
        .map(str::to_string)
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// For each of the sorted `ids`, the first id it starts with (itself when none): pytest's
/// `--deselect` takes prefixes, so deselecting `t.py::test_1` also drops `t.py::test_10`;
/// both must then be in the same shard. The ids starting with one follow it when sorted.
fn groups(ids: &[String]) -> Vec<String> {
    let mut root: Option<&String> = None;
    ids.iter()
        .map(|id| {
            match root {
                Some(r) if id.starts_with(r.as_str()) => {}
                _ => root = Some(id),
            }
            root.expect("set above").clone()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use planexec_pdk::testing::FakeHost;

    const LISTING: &str = "t.py::test_1\nt.py::test_10\nt.py::test_2\nt.py::test_3[a]\nt.py::test_3[b]\nu.py::T::test_x\n\n6 tests collected in 0.01s\n";

    #[test]
    fn ids_that_start_with_another_go_with_it() {
        let ids = node_ids(LISTING);
        assert_eq!(ids.len(), 6);
        let g = groups(&ids);
        assert_eq!(g[0], "t.py::test_1");
        assert_eq!(
            g[1], "t.py::test_1",
            "test_10 is dropped by --deselect t.py::test_1"
        );
        assert_eq!(g[3], "t.py::test_3[a]");
        assert_eq!(g[4], "t.py::test_3[b]");
    }

    #[test]
    fn the_shards_deselect_disjoint_parts_that_cover_the_list() {
        let ids = node_ids(LISTING);
        let mut ran: Vec<String> = Vec::new();
        for index in 1..=3 {
            let host = FakeHost::new().on("python3", 0, LISTING);
            let part = Part {
                index,
                count: 3,
                durations: vec![],
            };
            let list = Command::new("python3").args(["-m", "pytest", "--collect-only", "-q"]);
            let deselected = match plan(&host, &list, &part) {
                Plan::Deselect(d, r) => {
                    assert_eq!((r.index, r.count, r.listed), (index, 3, 6));
                    d
                }
                Plan::Done(r) => {
                    assert_eq!(r.outcome, planexec_pdk::Outcome::Passed, "{}", r.summary);
                    assert!(r.shard.is_some());
                    continue;
                }
            };
            // What pytest would run: the ids no --deselect prefix matches.
            let prefixes: Vec<&String> = deselected.iter().filter(|a| *a != "--deselect").collect();
            ran.extend(
                ids.iter()
                    .filter(|i| !prefixes.iter().any(|p| i.starts_with(p.as_str())))
                    .cloned(),
            );
        }
        ran.sort();
        assert_eq!(ran, ids, "every test in exactly one shard");
    }

    #[test]
    fn a_collection_error_fails_the_shard() {
        let host = FakeHost::new().on("python3", 2, "ERROR collecting t.py\n");
        let part = Part {
            index: 1,
            count: 2,
            durations: vec![],
        };
        match plan(&host, &Command::new("python3"), &part) {
            Plan::Done(r) => assert_eq!(r.outcome, planexec_pdk::Outcome::Failed),
            Plan::Deselect(..) => panic!("ran despite a collection error"),
        }
    }
}
