//! jest's and vitest's part of a sharded run: the test files the runner lists, assigned by
//! `shard`, passed back to it by path. A file whose path holds another's goes with it
//! (vitest's file filters match substrings), so every file runs in exactly one shard.

use crate::shard::{self, Part};
use planexec_pdk::{Command, GateReport, Host, ShardResult};

/// This shard's files (as the runner listed them) and what the report says of the shard,
/// or a report when nothing is to run or listing failed.
pub enum Plan {
    Run(Vec<String>, ShardResult),
    Done(GateReport),
}

/// Lists the test files with `list` (`jest --listTests --json`, `vitest list --filesOnly
/// --json`); `ws` is the workspace mount, for workspace-relative unit names.
pub fn plan(host: &dyn Host, list: &Command, part: &Part, runner: &str, ws: &str) -> Plan {
    let out = match shard::list(host, list, part) {
        Ok(o) => o,
        Err(r) => return Plan::Done(r),
    };
    let listed = match (out.exit_code, files(&out.stdout_str())) {
        (Some(0), Some(f)) => f,
        _ => {
            return Plan::Done(shard::unlisted(
                format!(
                    "{runner} could not list its test files ({}): the tests cannot be sharded",
                    crate::exit_text(out.exit_code)
                ),
                &out,
            ))
        }
    };
    let rel = |p: &str| crate::relativize_host_path(ws, p).unwrap_or_else(|| p.to_string());
    let names: Vec<String> = listed.iter().map(|p| rel(p)).collect();
    let roots = groups(&listed);
    let mut units: Vec<String> = roots.iter().map(|&i| names[i].clone()).collect();
    units.sort();
    units.dedup();
    // A recorded case `src/a.test.js > suite > test` belongs to its file's group.
    let unit_of = |case: &str| {
        let file = case.split(" > ").next().unwrap_or(case);
        names
            .iter()
            .position(|n| n == file)
            .map_or_else(|| file.to_string(), |i| names[roots[i]].clone())
    };
    let shards = shard::assign(part, &units, unit_of);
    let shard_of = |i: usize| {
        let u = units
            .binary_search(&names[roots[i]])
            .expect("a root is a unit");
        shards[u]
    };
    let mine: Vec<String> = (0..listed.len())
        .filter(|&i| shard_of(i) == part.index)
        .map(|i| listed[i].clone())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    let result = shard::result(part, units.len(), &sorted);
    if mine.is_empty() {
        return Plan::Done(shard::empty(part, listed.len(), "test files", result));
    }
    Plan::Run(mine, result)
}

/// The files of jest's `["/a.test.js", …]` or vitest's `[{"file": "/a.test.js"}, …]`.
fn files(stdout: &str) -> Option<Vec<String>> {
    let start = stdout.find('[')?;
    let v: serde_json::Value = serde_json::Deserializer::from_str(&stdout[start..])
        .into_iter()
        .next()?
        .ok()?;
    let mut out: Vec<String> = v
        .as_array()?
        .iter()
        .filter_map(|e| e.as_str().or_else(|| e["file"].as_str()).map(String::from))
        .collect();
    out.sort();
    out.dedup();
    Some(out)
}

/// For each file, the index of the shortest listed path it contains (itself when none):
/// a filter for that path would also select this file, so they share a shard.
fn groups(files: &[String]) -> Vec<usize> {
    let mut by_len: Vec<usize> = (0..files.len()).collect();
    by_len.sort_by_key(|&i| (files[i].len(), i));
    (0..files.len())
        .map(|i| {
            *by_len
                .iter()
                .find(|&&j| files[i].contains(files[j].as_str()))
                .unwrap_or(&i)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_listings_are_read_and_a_path_holding_another_goes_with_it() {
        let jest = r#"["/w/src/b.test.js","/w/src/a.test.js"]"#;
        let vitest =
            "[\n  {\"file\": \"/w/src/a.test.js\"},\n  {\"file\": \"/w/src/b.test.js\"}\n]";
        assert_eq!(files(jest), files(vitest));
        assert_eq!(
            files(jest).unwrap(),
            ["/w/src/a.test.js", "/w/src/b.test.js"]
        );
        assert_eq!(files("no json"), None);
        let f: Vec<String> = ["/w/a.test.js", "/w/a.test.jsx", "/w/b.test.js"]
            .map(String::from)
            .to_vec();
        assert_eq!(groups(&f), [0, 0, 2]);
    }

    #[test]
    fn every_file_is_in_exactly_one_shard() {
        let listed: Vec<String> = (0..23).map(|i| format!("/w/src/t{i}.test.js")).collect();
        let stdout = serde_json::to_string(&listed).unwrap();
        let mut seen = Vec::new();
        for index in 1..=4 {
            let host = planexec_pdk::testing::FakeHost::new().on("node", 0, &stdout);
            let part = Part {
                index,
                count: 4,
                durations: vec![],
            };
            let list = Command::new("node");
            match plan(&host, &list, &part, "jest", "/w") {
                Plan::Run(mine, r) => {
                    assert_eq!((r.index, r.count, r.listed), (index, 4, 23));
                    seen.extend(mine);
                }
                Plan::Done(r) => assert!(r.summary.contains("none of the 23"), "{}", r.summary),
            }
        }
        seen.sort();
        let mut all = listed.clone();
        all.sort();
        assert_eq!(seen, all);
    }
}
