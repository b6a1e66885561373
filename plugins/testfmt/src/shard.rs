//! Sharding a test list across CI runners: which shard runs which unit (a stable hash, or
//! greedy longest-processing-time by recorded durations), and the list's digest.
//!
//! A unit is what a gate can select on its tool's command line: a pytest node id, a go or
//! libtest test name. Every unit is in exactly one shard; the same list, count and durations
//! always give the same assignment, on every runner.

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// One shard of `count` (1-based `index`, as `--shard 2/4` says) and the recorded seconds
/// of the tests of an earlier merged run (empty: none recorded): the gate request's shard.
pub use planexec_pdk::Shard as Part;

/// Refuses an index outside 1..=count (the host checks too; a plugin never trusts it).
pub fn check(part: &Part) -> Result<(), String> {
    if part.count == 0 || part.index == 0 || part.index > part.count {
        return Err(format!(
            "shard {}/{}: the index must be between 1 and the count",
            part.index, part.count
        ));
    }
    Ok(())
}

/// The shard the host asked `req` to run, if any.
pub fn part_of(req: &planexec_pdk::GateRequest) -> Option<Part> {
    req.shard.clone()
}

/// The units of `units` this shard runs, in list order. `unit_of` maps a recorded test name
/// (the durations' keys, the gate's case names) to its unit; the recorded seconds of every
/// test of a unit add up to its weight. With no recorded durations units are spread by a
/// stable hash of their name; with them, by [`balance`].
pub fn mine<'a>(
    part: &Part,
    units: &'a [String],
    unit_of: impl Fn(&str) -> String,
) -> Vec<&'a String> {
    let shards = assign(part, units, unit_of);
    units
        .iter()
        .zip(shards)
        .filter(|(_, s)| *s == part.index)
        .map(|(u, _)| u)
        .collect()
}

/// The shard (1-based) of each unit of `units`.
pub fn assign(part: &Part, units: &[String], unit_of: impl Fn(&str) -> String) -> Vec<u32> {
    let count = part.count.max(1);
    let mut weight: BTreeMap<String, f64> = BTreeMap::new();
    for (name, secs) in &part.durations {
        if secs.is_finite() && *secs >= 0.0 {
            *weight.entry(unit_of(name)).or_default() += secs;
        }
    }
    let known: Vec<f64> = units
        .iter()
        .filter_map(|u| weight.get(u).copied())
        .collect();
    if known.iter().all(|w| *w <= 0.0) {
        return units.iter().map(|u| by_hash(u, count)).collect();
    }
    // A unit new since the durations were recorded weighs what a recorded one does on average.
    let mean = known.iter().sum::<f64>() / known.len() as f64;
    let w: Vec<f64> = units
        .iter()
        .map(|u| weight.get(u).copied().unwrap_or(mean))
        .collect();
    balance(units, &w, count)
}

/// The shard (1-based) of `name` of `count`: FNV-1a (64-bit) of its bytes, modulo the count.
pub fn by_hash(name: &str, count: u32) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % u64::from(count.max(1))) as u32 + 1
}

/// Greedy longest-processing-time: the heaviest unit first (ties by name), each to the
/// shard with the least time so far (ties: the one with fewest units, then the lowest index).
pub fn balance(units: &[String], weights: &[f64], count: u32) -> Vec<u32> {
    let mut order: Vec<usize> = (0..units.len()).collect();
    order.sort_by(|&a, &b| {
        weights[b]
            .total_cmp(&weights[a])
            .then_with(|| units[a].cmp(&units[b]))
    });
    let mut load = vec![(0.0f64, 0usize); count.max(1) as usize];
    let mut out = vec![0u32; units.len()];
    for i in order {
        let (s, _) = load
            .iter()
            .enumerate()
            .min_by(|a, b| {
                (a.1 .0.total_cmp(&b.1 .0))
                    .then_with(|| a.1 .1.cmp(&b.1 .1))
                    .then_with(|| a.0.cmp(&b.0))
            })
            .expect("at least one shard");
        load[s].0 += weights[i];
        load[s].1 += 1;
        out[i] = s as u32 + 1;
    }
    out
}

/// `sha256:<hex>` of the full list (sorted, one unit a line): equal on every shard of a run,
/// different when the list differs, so shards of different runs are not merged.
pub fn digest(units: &[String]) -> String {
    let mut sorted: Vec<&str> = units.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    let mut h = Sha256::new();
    for u in sorted {
        h.update(u.as_bytes());
        h.update(b"\n");
    }
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// What a sharded gate reports with its result (`gate-report.shard`): which shard it ran,
/// how many units the whole list has (`listed`), and the digest of `listing` (the units,
/// or finer: a go test name with its package).
pub fn result(part: &Part, listed: usize, listing: &[String]) -> planexec_pdk::ShardResult {
    planexec_pdk::ShardResult {
        index: part.index,
        count: part.count,
        listed: listed as u32,
        list_digest: digest(listing),
    }
}

/// Checks the shard, then runs the gate's listing command: its output, or the report
/// to return (a bad shard is errored; a program that cannot run, as `run` reports it).
pub fn list(
    host: &dyn planexec_pdk::Host,
    list: &planexec_pdk::Command,
    part: &Part,
) -> Result<planexec_pdk::Output, planexec_pdk::GateReport> {
    check(part).map_err(|e| planexec_pdk::report(planexec_pdk::Outcome::Errored, e))?;
    crate::run(host, list)
}

/// The report of a listing that failed: `headline` (what failed and why the tests
/// cannot be sharded), the output's tail and its exit code.
pub fn unlisted(headline: String, out: &planexec_pdk::Output) -> planexec_pdk::GateReport {
    let mut r = planexec_pdk::report(planexec_pdk::Outcome::Failed, headline);
    r.evidence = planexec_pdk::text::tail(&out.combined(), 40);
    r.exit_code = out.exit_code;
    r
}

/// The report of a shard with nothing to run: passed, zero tests, the shard's result.
/// `what` names the units (`tests`, `test files`) of the `listed` the whole list has.
pub fn empty(
    part: &Part,
    listed: usize,
    what: &str,
    result: planexec_pdk::ShardResult,
) -> planexec_pdk::GateReport {
    let mut r = planexec_pdk::report(
        planexec_pdk::Outcome::Passed,
        format!(
            "shard {}/{}: none of the {listed} {what} is this shard's",
            part.index, part.count
        ),
    );
    r.tests = Some(Default::default());
    r.shard = Some(result);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| format!("tests/test_m.py::test_{i}"))
            .collect()
    }

    fn part(index: u32, count: u32, durations: Vec<(String, f64)>) -> Part {
        Part {
            index,
            count,
            durations,
        }
    }

    #[test]
    fn every_unit_is_in_exactly_one_shard_and_the_union_is_the_list() {
        let units = names(41);
        for durations in [vec![], vec![("tests/test_m.py::test_3".to_string(), 2.0)]] {
            let mut seen: Vec<&String> = (1..=4)
                .flat_map(|i| mine(&part(i, 4, durations.clone()), &units, |n| n.to_string()))
                .collect();
            seen.sort();
            let mut all: Vec<&String> = units.iter().collect();
            all.sort();
            assert_eq!(seen, all);
        }
    }

    #[test]
    fn the_hash_is_stable_and_spreads_the_list() {
        // FNV-1a of "a" is 0xaf63dc4c8601ec8c: pinned, so runners of any build agree.
        assert_eq!(
            by_hash("a", u32::MAX),
            (0xaf63dc4c8601ec8c_u64 % u32::MAX as u64) as u32 + 1
        );
        let units = names(400);
        let a = assign(&part(1, 4, vec![]), &units, |n| n.to_string());
        assert_eq!(a, assign(&part(3, 4, vec![]), &units, |n| n.to_string()));
        for s in 1..=4 {
            let n = a.iter().filter(|&&x| x == s).count();
            assert!((60..=140).contains(&n), "shard {s} has {n} of 400");
        }
    }

    #[test]
    fn durations_balance_the_shards_and_ties_break_by_name() {
        let units: Vec<String> = ["a", "b", "c", "d", "e", "f"].map(String::from).to_vec();
        let w = [4.0, 3.0, 3.0, 2.0, 2.0, 2.0];
        // LPT: a→1, b→2, c→3; d to the least loaded of 2 and 3 (3.0 each), the lower: 2;
        // e→3; f→1 (4.0 against 5.0 and 5.0).
        assert_eq!(balance(&units, &w, 3), vec![1, 2, 3, 2, 3, 1]);
        let durations: Vec<(String, f64)> = units.iter().cloned().zip(w.iter().copied()).collect();
        let a = assign(&part(1, 3, durations), &units, |n| n.to_string());
        assert_eq!(a, vec![1, 2, 3, 2, 3, 1]);
    }

    #[test]
    fn equal_or_zero_times_spread_the_units_evenly() {
        let units = names(8);
        let a = balance(&units, &[0.5; 8], 4);
        assert!(
            (1..=4).all(|s| a.iter().filter(|&&x| x == s).count() == 2),
            "{a:?}"
        );
        // Times that are all zero (a tool that measures none) say nothing: by hash.
        let zero: Vec<(String, f64)> = units.iter().map(|u| (u.clone(), 0.0)).collect();
        let by = assign(&part(1, 4, zero), &units, |n| n.to_string());
        assert_eq!(by, assign(&part(1, 4, vec![]), &units, |n| n.to_string()));
    }

    #[test]
    fn recorded_tests_add_up_to_their_unit_and_new_units_weigh_the_mean() {
        // Subtests `T/x` belong to unit `T`; `T` weighs 5, `U` 1, new `V` the mean 3.
        let units: Vec<String> = ["T", "U", "V"].map(String::from).to_vec();
        let durations = vec![
            ("T/x".to_string(), 2.0),
            ("T/y".to_string(), 3.0),
            ("U".to_string(), 1.0),
        ];
        let top = |n: &str| n.split('/').next().unwrap_or(n).to_string();
        assert_eq!(assign(&part(1, 2, durations), &units, top), vec![1, 2, 2]);
    }

    #[test]
    fn the_digest_ignores_order_and_sees_any_difference() {
        let a = names(5);
        let mut b = a.clone();
        b.reverse();
        assert_eq!(digest(&a), digest(&b));
        b.pop();
        assert_ne!(digest(&a), digest(&b));
        assert!(digest(&a).starts_with("sha256:") && digest(&a).len() == 71);
    }

    #[test]
    fn an_index_outside_the_count_is_refused() {
        assert!(check(&part(0, 4, vec![])).is_err());
        assert!(check(&part(5, 4, vec![])).is_err());
        assert!(check(&part(4, 4, vec![])).is_ok());
        let r = result(&part(2, 4, vec![]), 3, &names(3));
        assert_eq!((r.index, r.count, r.listed), (2, 4, 3));
        assert_eq!(r.list_digest, digest(&names(3)));
    }
}
