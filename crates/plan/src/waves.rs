//! Execution waves: which tasks can start together, from blocking and sequencing dependencies.
//! A cycle is an error that spells the cycle out (`T002 -> T004 -> T002`).

use std::collections::HashMap;

use crate::model::Plan;

/// The dependency graph has a cycle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("dependency cycle: {}", .cycle.join(" -> "))]
pub struct CycleError {
    /// The ids on the cycle, the first repeated at the end.
    pub cycle: Vec<String>,
}

/// Group tasks into waves: wave 1 holds tasks with no ordering dependencies, wave k tasks
/// whose ordering dependencies are all in earlier waves. Order within a wave is plan order.
/// Dependencies on unknown ids and soft/shared dependencies are ignored.
pub fn waves(plan: &Plan) -> Result<Vec<Vec<String>>, CycleError> {
    let n = plan.tasks.len();
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(n);
    for (i, t) in plan.tasks.iter().enumerate() {
        index.entry(t.id.as_str()).or_insert(i);
    }
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut succs: Vec<Vec<usize>> = vec![Vec::new(); n];
    // `seen[j] == i + 1`: j is already a predecessor of i (no quadratic `contains`)
    let mut seen: Vec<usize> = vec![0; n];
    for (i, t) in plan.tasks.iter().enumerate() {
        if index.get(t.id.as_str()) != Some(&i) {
            continue; // a duplicate id: reported by check, left out here
        }
        for d in &t.dependencies {
            if !d.kind.orders() {
                continue;
            }
            if let Some(&j) = index.get(d.id.as_str()) {
                if j != i && seen[j] != i + 1 {
                    seen[j] = i + 1;
                    preds[i].push(j);
                    succs[j].push(i);
                }
            }
        }
    }
    let live: Vec<bool> = (0..n)
        .map(|i| index.get(plan.tasks[i].id.as_str()) == Some(&i))
        .collect();
    let mut remaining: Vec<usize> = preds.iter().map(|p| p.len()).collect();
    let mut level = vec![usize::MAX; n];
    let mut current: Vec<usize> = (0..n).filter(|&i| live[i] && remaining[i] == 0).collect();
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut placed = 0;
    while !current.is_empty() {
        current.sort_unstable();
        let mut next = Vec::new();
        for &i in &current {
            level[i] = out.len();
            for &s in &succs[i] {
                remaining[s] -= 1;
                if remaining[s] == 0 {
                    next.push(s);
                }
            }
        }
        placed += current.len();
        out.push(current.iter().map(|&i| plan.tasks[i].id.clone()).collect());
        current = next;
    }
    let live_count = live.iter().filter(|&&l| l).count();
    if placed < live_count {
        let start = (0..n)
            .find(|&i| live[i] && level[i] == usize::MAX)
            .unwrap_or(0);
        return Err(CycleError {
            cycle: find_cycle(plan, &preds, &level, start),
        });
    }
    Ok(out)
}

/// Walk predecessors among unplaced tasks until a task repeats; return that loop in
/// dependency order (a task, then what it depends on, ... back to the task).
fn find_cycle(plan: &Plan, preds: &[Vec<usize>], level: &[usize], start: usize) -> Vec<String> {
    let mut seen: HashMap<usize, usize> = HashMap::new();
    let mut path = Vec::new();
    let mut cur = start;
    loop {
        if let Some(&pos) = seen.get(&cur) {
            let mut cyc: Vec<String> = path[pos..]
                .iter()
                .map(|&i: &usize| plan.tasks[i].id.clone())
                .collect();
            // start the cycle at its first task in plan order, for stable messages
            let min = path[pos..]
                .iter()
                .enumerate()
                .min_by_key(|(_, &i)| i)
                .map_or(0, |(k, _)| k);
            cyc.rotate_left(min);
            cyc.push(cyc[0].clone());
            return cyc;
        }
        seen.insert(cur, path.len());
        path.push(cur);
        match preds[cur].iter().find(|&&p| level[p] == usize::MAX) {
            Some(&p) => cur = p,
            None => return vec![plan.tasks[cur].id.clone()],
        }
    }
}
