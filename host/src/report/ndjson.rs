//! `--format json`: every event as one JSON object on its own line (NDJSON),
//! flushed per line so `planexec ... --format json | jq` sees each as it happens.

use super::{Event, Sink};
use planexec_record::RunRecord;
use serde_json::Value;
use std::io::Write;

/// The JSON object for one event. Most events serialise as tagged by
/// `event`; `gate_finished` is flattened to `{"event","task"?,"gate","plugin","report"}`
/// (the shape `planexec gate run --format json` has always printed).
pub fn event_json(ev: &Event) -> Value {
    if let Event::GateFinished { task, run } = ev {
        let mut m = serde_json::Map::new();
        m.insert("event".into(), "gate_finished".into());
        if let Some(t) = task {
            m.insert("task".into(), t.clone().into());
        }
        m.insert("gate".into(), run.name.clone().into());
        m.insert("plugin".into(), run.plugin.clone().into());
        m.insert(
            "report".into(),
            serde_json::to_value(&run.report).unwrap_or(Value::Null),
        );
        return Value::Object(m);
    }
    let mut v = serde_json::to_value(ev).unwrap_or(Value::Null);
    // Optional fields that are absent say nothing: drop JSON nulls for `task`.
    if let Value::Object(m) = &mut v {
        if m.get("task") == Some(&Value::Null) {
            m.remove("task");
        }
    }
    v
}

/// Writes each event as one NDJSON line to `W` (stdout by default).
pub struct NdjsonSink<W: Write = std::io::Stdout> {
    out: W,
}

impl NdjsonSink<std::io::Stdout> {
    pub fn stdout() -> Self {
        NdjsonSink {
            out: std::io::stdout(),
        }
    }
}

impl<W: Write> NdjsonSink<W> {
    pub fn new(out: W) -> Self {
        NdjsonSink { out }
    }
    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write> Sink for NdjsonSink<W> {
    fn event(&mut self, ev: &Event) {
        let line = event_json(ev).to_string();
        // A closed pipe (`| head`) must not kill the run: ignore write errors.
        let _ = writeln!(self.out, "{line}");
        let _ = self.out.flush();
    }
    fn finish(&mut self, _record: &RunRecord) {
        let _ = self.out.flush();
    }
}
