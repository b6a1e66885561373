// Helpers shared by the integration tests (included with `mod common;`).
#![allow(dead_code)]

use std::path::PathBuf;

use planexec_plan::{DepKind, Dialect, Plan, Task};

pub fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

pub fn load(rel: &str) -> Plan {
    planexec_plan::load(&fixture(rel), None).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

pub fn load_as(rel: &str, d: Dialect) -> Plan {
    planexec_plan::load(&fixture(rel), Some(d)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

pub fn ids(plan: &Plan) -> Vec<&str> {
    plan.tasks.iter().map(|t| t.id.as_str()).collect()
}

pub fn task<'a>(plan: &'a Plan, id: &str) -> &'a Task {
    plan.task(id)
        .unwrap_or_else(|| panic!("no task {id} in {:?}", ids(plan)))
}

pub fn deps(t: &Task) -> Vec<(String, DepKind)> {
    t.dependencies
        .iter()
        .map(|d| (d.id.clone(), d.kind))
        .collect()
}

pub fn dep_ids(t: &Task) -> Vec<&str> {
    t.dependencies.iter().map(|d| d.id.as_str()).collect()
}

pub fn waves(plan: &Plan) -> Vec<Vec<String>> {
    planexec_plan::waves(plan).expect("no cycle")
}

pub fn w(v: &[&[&str]]) -> Vec<Vec<String>> {
    v.iter()
        .map(|x| x.iter().map(|s| s.to_string()).collect())
        .collect()
}

/// Diagnostics as `rule@line` strings, for compact assertions.
pub fn rules(plan: &Plan) -> Vec<String> {
    planexec_plan::check(plan)
        .iter()
        .map(|d| format!("{}@{}", d.rule, d.line))
        .collect()
}
