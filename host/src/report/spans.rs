//! Where a run's time went, laid out once for the HTML timeline and the trace:
//! lanes of tasks (a lane per task running at once) and final gates, nested spans.

use super::timing::epoch_ms;
use planexec_record::{Cycle, ProgramRun, RunRecord, StepKind, Timing};

/// What a span covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanKind {
    Task,
    Cycle,
    Step(StepKind),
    /// A boxed program a gate, the implementer or a reviewer ran, inside that step's span.
    Program,
}

impl SpanKind {
    pub fn name(self) -> &'static str {
        match self {
            SpanKind::Task => "task",
            SpanKind::Cycle => "cycle",
            SpanKind::Step(StepKind::Implementer) => "implementer",
            SpanKind::Step(StepKind::Gate) => "gate",
            SpanKind::Step(StepKind::Review) => "review",
            SpanKind::Step(StepKind::Commit) => "commit",
            SpanKind::Program => "program",
        }
    }
}

/// One bar: milliseconds since the epoch; `row` 0 is the lane's own, more rows hold
/// steps that ran at the same time as others; `parent` indexes the lane's spans.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    pub kind: SpanKind,
    pub name: String,
    pub task: Option<usize>,
    pub cycle: Option<u32>,
    pub start: i64,
    pub end: i64,
    pub row: usize,
    pub parent: Option<usize>,
    /// The outcome shown as the bar's colour (cycle outcome, task status, gate outcome).
    pub status: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Lane {
    pub name: String,
    pub rows: usize,
    pub spans: Vec<Span>,
}

/// The run's lanes between its start and end.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    pub start: i64,
    pub end: i64,
    pub lanes: Vec<Lane>,
}

/// Lays out the record: tasks into the first lane free at their start, each task's
/// cycles inside it and each cycle's steps inside that; final gates a lane each.
pub fn timeline(r: &RunRecord) -> Timeline {
    let mut lanes: Vec<Lane> = Vec::new();
    let mut tasks: Vec<(usize, Vec<Span>)> = r
        .tasks
        .iter()
        .enumerate()
        .filter_map(|(i, t)| Some((i, task_spans(i, &t.id, t.status.as_str(), &t.cycles)?)))
        .collect();
    tasks.sort_by_key(|(_, s)| s[0].start);
    for (_, spans) in tasks {
        let start = spans[0].start;
        let free = lanes.iter().position(|l| lane_end(l) <= start);
        let lane = match free {
            Some(n) => &mut lanes[n],
            None => {
                let name = format!("lane {}", lanes.len() + 1);
                lanes.push(Lane {
                    name,
                    rows: 1,
                    spans: Vec::new(),
                });
                lanes.last_mut().unwrap()
            }
        };
        let base = lane.spans.len();
        for mut s in spans {
            s.parent = s.parent.map(|p| p + base);
            lane.rows = lane.rows.max(s.row + 1);
            lane.spans.push(s);
        }
    }
    for (g, t) in r.final_gates.iter().zip(final_timings(r)) {
        let (start, end) = span_of(&t);
        let status = format!("{:?}", g.report.outcome).to_lowercase();
        let span = Span {
            kind: SpanKind::Step(StepKind::Gate),
            name: g.name.clone(),
            task: None,
            cycle: None,
            start,
            end,
            row: 0,
            parent: None,
            status,
        };
        let mut spans = vec![span];
        spans.extend(program_spans(&g.programs, &spans[0], 0));
        lanes.push(Lane {
            name: format!("gate {}", g.name),
            rows: 1,
            spans,
        });
    }
    let all = lanes.iter().flat_map(|l| l.spans.iter());
    let first = all.clone().map(|s| s.start).min();
    let last = all.map(|s| s.end).max();
    let start = epoch_ms(&r.started_at)
        .into_iter()
        .chain(first)
        .min()
        .unwrap_or(0);
    let finished = r.finished_at.as_deref().and_then(epoch_ms);
    let end = finished
        .into_iter()
        .chain(last)
        .chain([start])
        .max()
        .unwrap_or(start);
    Timeline { start, end, lanes }
}

fn lane_end(l: &Lane) -> i64 {
    l.spans.iter().map(|s| s.end).max().unwrap_or(i64::MIN)
}

/// The timings of the final gates, by gate name (none recorded: zero-length at the end).
fn final_timings(r: &RunRecord) -> Vec<Timing> {
    let at = r
        .finished_at
        .clone()
        .unwrap_or_else(|| r.started_at.clone());
    r.final_gates
        .iter()
        .map(|g| {
            r.timings
                .iter()
                .find(|t| t.name == g.name)
                .cloned()
                .unwrap_or(Timing {
                    step: StepKind::Gate,
                    name: g.name.clone(),
                    started_at: at.clone(),
                    duration_ms: g.report.duration_ms,
                })
        })
        .collect()
}

fn span_of(t: &Timing) -> (i64, i64) {
    let start = epoch_ms(&t.started_at).unwrap_or(0);
    (start, start + t.duration_ms as i64)
}

/// A task's span first, then per cycle its span and its steps; None when it never ran.
fn task_spans(task: usize, id: &str, status: &str, cycles: &[Cycle]) -> Option<Vec<Span>> {
    let mut out = vec![Span {
        kind: SpanKind::Task,
        name: id.to_string(),
        task: Some(task),
        cycle: None,
        start: 0,
        end: 0,
        row: 0,
        parent: None,
        status: status.to_string(),
    }];
    let mut floor = i64::MIN;
    for c in cycles {
        let (start, end) = cycle_bounds(c, floor)?;
        floor = end;
        let parent = out.len();
        out.push(Span {
            kind: SpanKind::Cycle,
            name: format!("{id} cycle {}", c.number),
            task: Some(task),
            cycle: Some(c.number),
            start,
            end,
            row: 0,
            parent: Some(0),
            status: format!("{:?}", c.outcome).to_lowercase(),
        });
        let steps = step_spans(task, c, parent);
        let base = out.len();
        out.extend(steps.iter().cloned());
        for (k, step) in steps.iter().enumerate() {
            if let Some(programs) = step_programs(c, step) {
                out.extend(program_spans(programs, step, base + k));
            }
        }
    }
    if out.len() == 1 {
        return None;
    }
    out[0].start = out[1].start;
    out[0].end = out.iter().map(|s| s.end).max().unwrap_or(out[0].start);
    Some(out)
}

/// A cycle runs from its first step to its last (else its recorded start and end),
/// never before the previous cycle ended.
fn cycle_bounds(c: &Cycle, floor: i64) -> Option<(i64, i64)> {
    let steps: Vec<(i64, i64)> = c.timings.iter().map(span_of).collect();
    let (start, end) = if steps.is_empty() {
        let start = epoch_ms(&c.started_at)?;
        let end = c.finished_at.as_deref().and_then(epoch_ms).unwrap_or(start);
        (start, end.max(start))
    } else {
        let start = steps.iter().map(|s| s.0).min()?;
        (start, steps.iter().map(|s| s.1).max()?)
    };
    let start = start.max(floor);
    Some((start, end.max(start)))
}

/// The cycle's steps, packed into rows so that none overlaps another in its row.
fn step_spans(task: usize, c: &Cycle, parent: usize) -> Vec<Span> {
    let mut rows: Vec<i64> = Vec::new();
    let mut steps: Vec<&Timing> = c.timings.iter().collect();
    steps.sort_by_key(|t| span_of(t).0);
    steps
        .into_iter()
        .map(|t| {
            let (start, end) = span_of(t);
            let row = match rows.iter().position(|&e| e <= start) {
                Some(r) => r,
                None => {
                    rows.push(i64::MIN);
                    rows.len() - 1
                }
            };
            rows[row] = end;
            Span {
                kind: SpanKind::Step(t.step),
                name: t.name.clone(),
                task: Some(task),
                cycle: Some(c.number),
                start,
                end,
                row,
                parent: Some(parent),
                status: step_status(c, t),
            }
        })
        .collect()
}

/// The programs the step behind `step` ran: a gate's, the implementer's, a review's.
fn step_programs<'a>(c: &'a Cycle, step: &Span) -> Option<&'a [ProgramRun]> {
    match step.kind {
        SpanKind::Step(StepKind::Gate) => c
            .gates
            .iter()
            .find(|g| g.name == step.name)
            .map(|g| g.programs.as_slice()),
        SpanKind::Step(StepKind::Implementer) => {
            c.implementer.as_ref().map(|i| i.programs.as_slice())
        }
        SpanKind::Step(StepKind::Review) => c
            .reviews
            .iter()
            .find(|r| {
                step.name
                    .starts_with(&format!("{:?}", r.kind).to_lowercase())
            })
            .map(|r| r.programs.as_slice()),
        _ => None,
    }
}

/// `programs` as children of the step span `parent` (index `at` in its lane), on the
/// same row and kept inside it (the step's time is measured apart from theirs).
fn program_spans(programs: &[ProgramRun], parent: &Span, at: usize) -> Vec<Span> {
    programs
        .iter()
        .filter_map(|p| {
            let start = epoch_ms(&p.started_at)?.clamp(parent.start, parent.end);
            let end = (start + p.duration_ms as i64).min(parent.end);
            let status = match (p.timed_out, p.exit_code) {
                (true, _) => "timed-out".to_string(),
                (false, Some(0)) => "passed".to_string(),
                (false, Some(n)) => format!("exit-{n}"),
                (false, None) => "killed".to_string(),
            };
            Some(Span {
                kind: SpanKind::Program,
                name: p.program.clone(),
                task: parent.task,
                cycle: parent.cycle,
                start,
                end,
                row: parent.row,
                parent: Some(at),
                status,
            })
        })
        .collect()
}

/// A gate's outcome, a review's verdict; otherwise the cycle's outcome.
fn step_status(c: &Cycle, t: &Timing) -> String {
    match t.step {
        StepKind::Gate => c
            .gates
            .iter()
            .find(|g| g.name == t.name)
            .map(|g| format!("{:?}", g.report.outcome).to_lowercase()),
        StepKind::Review => c
            .reviews
            .iter()
            .find(|r| t.name.starts_with(&format!("{:?}", r.kind).to_lowercase()))
            .map(|r| format!("{:?}", r.outcome).to_lowercase()),
        StepKind::Implementer => c
            .implementer
            .as_ref()
            .map(|i| format!("{:?}", i.status).to_lowercase()),
        StepKind::Commit => Some("passed".into()),
    }
    .unwrap_or_default()
}
