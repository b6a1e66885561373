//! Choosing among candidate readings of one document: every dialect reader that finds tasks and
//! the outline reader at each unit level, scored against each other with explainable criteria.
//!
//! Criteria (points): contradictions the reading would report (-40 each: duplicate ids of
//! different tasks, dependencies on ids that exist nowhere, cycles); the file's own ids kept
//! (+20 × share of tasks whose id the file wrote); one id family (+10 × share of the largest
//! family); a done state the file's marks support (-30 × relative distance between the ticked
//! boxes and the tasks read as done); the file's checkboxes outside context sections read as
//! tasks (-15 × share left as details; without checkboxes, the headings marked done stand for the
//! ticks); a single task where the file has several work-like lines
//! (-15); the detected dialect's own reading (+25: the detector's signals are evidence too, so
//! another reading wins only by fixing what the detected one gets wrong).

use super::{detect, read_as, units};
use crate::check::check;
use crate::diagnostic::Severity;
use crate::markdown::Doc;
use crate::model::{Dialect, Plan};

/// Documents larger than this are read by the detected dialect alone, so that `check` of a
/// very large plan stays fast; the reading note says so.
const CHOOSE_LIMIT: usize = 512 << 10;

/// One candidate reading and its score.
struct Reading {
    name: String,
    plan: Plan,
    score: i64,
    why: Vec<String>,
}

/// Read `doc` every applicable way and keep the best-scored reading; the plan's `reading`
/// names it, its reasons, and the runner-up when the two are within 10 points.
pub fn choose(doc: &Doc) -> Plan {
    let detected = detect(doc);
    if detected == Dialect::Taskmaster {
        return read_as(doc, detected);
    }
    if doc.src.text.len() > CHOOSE_LIMIT {
        let mut plan = read_as(doc, detected);
        plan.reading = Some(format!(
            "{} (detected; the file is over {} KiB, so no other reading was scored)",
            reading_name(&plan),
            CHOOSE_LIMIT >> 10
        ));
        return plan;
    }
    let marks = Marks::of(doc);
    let mut cands: Vec<Reading> = Vec::new();
    let mut dialects = vec![detected];
    for d in [
        Dialect::TId,
        Dialect::SpecKit,
        Dialect::ExecPlan,
        Dialect::Kiro,
    ] {
        if !dialects.contains(&d) {
            dialects.push(d);
        }
    }
    for d in dialects {
        let plan = read_as(doc, d);
        push(&mut cands, plan, d == detected, &marks);
    }
    if let Some(plan) = units::id_headings(doc) {
        push(&mut cands, plan, false, &marks);
    }
    if let Some(plan) = units::group_headings(doc) {
        push(&mut cands, plan, false, &marks);
    }
    pick(cands)
}

fn reading_name(plan: &Plan) -> String {
    if matches!(
        plan.variant.as_str(),
        "outline" | "id-headings" | "group-headings"
    ) {
        format!("{} ({})", plan.variant, plan.dialect)
    } else {
        plan.dialect.to_string()
    }
}

/// Score a reading and add it unless an equal reading (same ids) is already there.
fn push(cands: &mut Vec<Reading>, plan: Plan, detected: bool, marks: &Marks) {
    if plan.tasks.is_empty() && !cands.is_empty() {
        return;
    }
    let ids: Vec<&str> = plan.tasks.iter().map(|t| t.id.as_str()).collect();
    if cands.iter().any(|c| {
        c.plan.tasks.len() == ids.len() && c.plan.tasks.iter().zip(&ids).all(|(t, i)| t.id == *i)
    }) {
        return;
    }
    let (score, why) = score(&plan, detected, marks);
    cands.push(Reading {
        name: reading_name(&plan),
        plan,
        score,
        why,
    });
}

fn pick(mut cands: Vec<Reading>) -> Plan {
    // stable: on equal scores the earlier candidate (the detected dialect first) wins
    let best = (0..cands.len())
        .max_by_key(|&i| (cands[i].score, std::cmp::Reverse(i)))
        .unwrap_or(0);
    let runner = (0..cands.len())
        .filter(|&i| i != best)
        .max_by_key(|&i| (cands[i].score, std::cmp::Reverse(i)));
    let mut note = format!(
        "{} ({} tasks, score {}: {})",
        cands[best].name,
        cands[best].plan.tasks.len(),
        cands[best].score,
        cands[best].why.join(", ")
    );
    if let Some(r) = runner.filter(|&r| cands[best].score - cands[r].score <= 10) {
        let r = &cands[r];
        note.push_str(&format!(
            "; runner-up {} ({} tasks, score {}: {})",
            r.name,
            r.plan.tasks.len(),
            r.score,
            r.why.join(", ")
        ));
    }
    let mut plan = cands.swap_remove(best).plan;
    plan.reading = Some(note);
    plan
}

/// What the file itself marks: ticked and open checkboxes outside code blocks, and the lines of
/// the checkboxes outside context sections (Progress, Criteria, Notes...), the work-like lines.
/// A file without checkboxes marks its done state on headings (`## Phase 3 (COMPLETED)`):
/// then `ticked` counts those headings.
struct Marks {
    ticked: usize,
    boxes: usize,
    work_lines: std::collections::HashSet<u32>,
}

impl Marks {
    fn of(doc: &Doc) -> Marks {
        let ctx = super::outline::context_map(doc);
        let mut m = Marks {
            ticked: 0,
            boxes: 0,
            work_lines: Default::default(),
        };
        for (b, c) in doc.blocks.iter().zip(ctx) {
            if let Some((done, _)) = b.task_box() {
                m.boxes += 1;
                m.ticked += usize::from(done);
                if !c {
                    m.work_lines.insert(doc.span(b.start).line);
                }
            }
        }
        if m.boxes == 0 {
            m.ticked = doc
                .blocks
                .iter()
                .filter(|b| b.heading_level().is_some_and(|l| l > 1))
                .filter(|b| units::heading_says_done(&crate::markdown::plain(&b.text)))
                .count();
        }
        m
    }
}

/// The score of one reading and the reasons, in words.
fn score(plan: &Plan, detected: bool, marks: &Marks) -> (i64, Vec<String>) {
    let mut s = 0i64;
    let mut why = Vec::new();
    let n = plan.tasks.len();
    if n == 0 {
        return (-1000, vec!["no tasks".into()]);
    }
    let bad = contradictions(plan);
    if bad > 0 {
        s -= 40 * bad as i64;
        why.push(format!("{bad} contradictions"));
    }
    let generated = plan.notes.iter().any(|d| d.rule == "generated-ids");
    if !generated {
        s += 20;
        why.push("the file's own ids".into());
    }
    let fam = family_share(plan);
    s += (10.0 * fam).round() as i64;
    if fam < 0.9 {
        why.push(format!("{:.0} % of ids in one family", fam * 100.0));
    }
    if marks.boxes > 0 || marks.ticked > 0 {
        let done = plan.tasks.iter().filter(|t| t.done).count();
        let dist = done.abs_diff(marks.ticked) as f64 / done.max(marks.ticked).max(1) as f64;
        let p = (30.0 * dist).round() as i64;
        if p > 0 {
            s -= p;
            why.push(format!("{done} done where the file ticks {}", marks.ticked));
        }
    }
    if !marks.work_lines.is_empty() && plan.tasks.iter().all(|t| t.source == plan.source) {
        let on = plan
            .tasks
            .iter()
            .filter(|t| marks.work_lines.contains(&t.line))
            .count();
        let share = on as f64 / marks.work_lines.len() as f64;
        let p = (15.0 * (1.0 - share.min(1.0))).round() as i64;
        if p > 0 {
            s -= p;
            why.push(format!(
                "{on} of the file's {} work checkboxes read as tasks",
                marks.work_lines.len()
            ));
        }
    }
    if n == 1 && marks.boxes >= 5 {
        s -= 15;
        why.push("one task for the whole file".into());
    }
    if detected {
        s += 25;
        why.push("the detected dialect".into());
    }
    (s, why)
}

/// Errors the reading would make `check` exit 2 with: contradictions within the reading.
fn contradictions(plan: &Plan) -> usize {
    let mut p = plan.clone();
    super::common::finish(&mut p);
    check(&p)
        .iter()
        .filter(|d| {
            d.severity == Severity::Error
                && matches!(
                    d.rule,
                    "duplicate-id" | "unknown-dependency" | "dependency-cycle" | "not-an-execplan"
                )
        })
        .count()
}

/// The share of tasks whose id belongs to the largest family (what comes before its last
/// number, a letter after the number ignored: `T` for `T001` and `T078A`, `M19-T` for
/// `M19-T001`, `` for `1.2` and `3A`).
fn family_share(plan: &Plan) -> f64 {
    let mut counts: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for t in &plan.tasks {
        *counts.entry(family(&t.id)).or_default() += 1;
    }
    let max = counts.values().copied().max().unwrap_or(0);
    max as f64 / plan.tasks.len().max(1) as f64
}

fn family(id: &str) -> &str {
    let b = id.as_bytes();
    let mut n = b.len();
    if n >= 2 && b[n - 1].is_ascii_alphabetic() && b[n - 2].is_ascii_digit() {
        n -= 1;
    }
    id[..n].trim_end_matches(|c: char| c.is_ascii_digit() || c == '.')
}
