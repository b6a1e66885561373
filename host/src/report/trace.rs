//! `--report trace=PATH`: the run as Chrome trace-event JSON (Perfetto, chrome://tracing):
//! a `run` span, then per lane its tasks, cycles and steps as nested complete events.

use super::spans::{timeline, Timeline};
use planexec_record::RunRecord;
use serde_json::{json, Value};

/// The trace of `r`: `{"traceEvents": [...], "displayTimeUnit": "ms"}`, times in
/// microseconds since the run started. Every string is a JSON string (serde escapes).
pub fn render(r: &RunRecord) -> String {
    let tl = timeline(r);
    let mut events = vec![
        meta("process_name", 0, &format!("planexec {}", r.run_id)),
        meta("thread_name", 0, "run"),
        json!({
            "name": format!("run {}", r.plan.title), "cat": "run", "ph": "X",
            "pid": 1, "tid": 0, "ts": 0, "dur": (tl.end - tl.start) * 1000,
            "args": {"span": "run", "status": r.status.as_str(), "run_id": r.run_id},
        }),
    ];
    events.extend(lanes(r, &tl));
    let doc = json!({"traceEvents": events, "displayTimeUnit": "ms"});
    serde_json::to_string_pretty(&doc).expect("trace serialises")
}

fn meta(name: &str, tid: u64, value: &str) -> Value {
    json!({"name": name, "ph": "M", "pid": 1, "tid": tid, "args": {"name": value}})
}

/// Thread ids: lane `l` row `r` is `l * 100 + r + 1`.
fn lanes(r: &RunRecord, tl: &Timeline) -> Vec<Value> {
    let mut out = Vec::new();
    for (l, lane) in tl.lanes.iter().enumerate() {
        for row in 0..lane.rows {
            let label = match row {
                0 => lane.name.clone(),
                n => format!("{} (at once {})", lane.name, n + 1),
            };
            out.push(meta("thread_name", tid(l, row), &label));
        }
        for (i, s) in lane.spans.iter().enumerate() {
            let parent = s.parent.map_or("run".to_string(), |p| format!("{l}.{p}"));
            let task = s.task.map(|t| r.tasks[t].id.clone());
            out.push(json!({
                "name": s.name, "cat": s.kind.name(), "ph": "X", "pid": 1,
                "tid": tid(l, s.row), "ts": (s.start - tl.start) * 1000,
                "dur": (s.end - s.start) * 1000,
                "args": {"span": format!("{l}.{i}"), "parent": parent, "task": task,
                         "cycle": s.cycle, "status": s.status},
            }));
        }
    }
    out
}

fn tid(lane: usize, row: usize) -> u64 {
    (lane * 100 + row + 1) as u64
}
