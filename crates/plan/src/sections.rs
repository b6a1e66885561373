//! Plan-wide sections: milestones, constraints, tolerances, risks, quality gates, success criteria.
//! Read the same way for every dialect, skipping blocks that belong to tasks.

use crate::fields::{
    commands_in_code, commands_in_text, field_of, line_label, norm_label, strip_box, Field,
};
use crate::markdown::{plain, Block, Doc, Kind};
use crate::model::{Milestone, Plan, Tolerances, Unreadable};
use crate::words::{self, names};

/// What a plan-level section holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecKind {
    Milestones,
    Constraints,
    Tolerances,
    Risks,
    Gates,
    Success,
    Progress,
    ConcreteSteps,
    Other,
}

/// Classify a section heading.
pub fn section_kind(name: &str) -> SecKind {
    let l = norm_label(name);
    let l = l.trim_start_matches(|c: char| !c.is_alphabetic());
    if l.contains("toleranc") || l.contains("exception trigger") {
        SecKind::Tolerances
    } else if l.starts_with("constraint") || l.starts_with("hard constraint") || l == "invariants" {
        SecKind::Constraints
    } else if l.starts_with("risk") {
        SecKind::Risks
    } else if l.contains("quality gate")
        || l.starts_with("gate")
        || l.contains("final gate")
        || l.starts_with("validation")
        || l.starts_with("verification")
        || l.starts_with("definition of done")
        || l.starts_with("quality criteria")
    {
        SecKind::Gates
    } else if l.starts_with("success criteria")
        || l.starts_with("success metrics")
        || l == "acceptance criteria"
        || l.starts_with("done criteria")
    {
        SecKind::Success
    } else if names(l, words::MILESTONES) {
        SecKind::Milestones
    } else if names(l, words::PROGRESS) {
        SecKind::Progress
    } else if names(l, words::CONCRETE_STEPS) {
        SecKind::ConcreteSteps
    } else {
        SecKind::Other
    }
}

/// Headings that end a task even when nested below its level (`### Risks` after `## T003`).
pub fn ends_task(name: &str) -> bool {
    let l = norm_label(name);
    let l = l.trim_start_matches(|c: char| !c.is_alphabetic());
    if field_of(l, true).is_some() {
        return false;
    }
    [
        "risk",
        "reference",
        "quality gate",
        "gate result",
        "success criteria",
        "rollback",
        "open question",
        "appendix",
        "glossary",
        "deployment",
        "toleranc",
        "constraint",
        "next step",
        "milestones",
        "timeline",
        "final gate",
        "decision log",
        "surprises",
        "outcomes",
        "progress",
    ]
    .iter()
    .any(|p| l.starts_with(p))
}

/// `### M1: Foundation`, `## Milestone 2 – API`, `## Phase 1: Setup`, `## Stage A: ...` -> (id, title).
pub fn parse_milestone_heading(text: &str) -> Option<(String, String)> {
    let t = plain(text);
    let t = t.trim_start_matches(|c: char| !c.is_alphanumeric());
    let b = t.as_bytes();
    if b.len() >= 2 && b[0] == b'M' && b[1].is_ascii_digit() {
        let n = t[1..]
            .find(|c: char| !c.is_ascii_digit())
            .map_or(t.len(), |i| i + 1);
        let rest = &t[n..];
        if rest.is_empty() || rest.starts_with([':', ' ', '-', '–', '—', '.', ')']) {
            return Some((t[..n].to_string(), title_after(rest)));
        }
    }
    for (word, prefix) in [
        ("milestone", "M"),
        ("phase", "Phase "),
        ("stage", "Stage "),
        ("epic", "Epic "),
    ] {
        if t.len() > word.len() + 1
            && t.get(..word.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(word))
            && t.as_bytes()[word.len()] == b' '
        {
            let rest = t[word.len() + 1..].trim_start();
            let n = rest
                .find(|c: char| !c.is_alphanumeric() && c != '.')
                .unwrap_or(rest.len());
            let num = rest[..n].trim_end_matches('.');
            if num.is_empty()
                || num.len() > 4
                || !(num.chars().all(|c| c.is_ascii_digit() || c == '.')
                    || (num.len() == 1 && num.chars().all(|c| c.is_ascii_uppercase())))
            {
                continue;
            }
            return Some((format!("{prefix}{num}"), title_after(&rest[n..])));
        }
    }
    None
}

fn title_after(rest: &str) -> String {
    rest.trim_start_matches(|c: char| {
        c == ':' || c == '-' || c == '–' || c == '—' || c == '.' || c == ')' || c.is_whitespace()
    })
    .trim()
    .to_string()
}

/// `### Wave 2` / `## Wave 2: Core` -> 2.
pub fn parse_wave_heading(text: &str) -> Option<u32> {
    let t = plain(text);
    let t = t.trim_start_matches(|c: char| !c.is_alphanumeric());
    if t.len() > 5 && t.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("wave ")) {
        let rest = t[5..].trim_start();
        let n = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        return rest[..n].parse().ok();
    }
    None
}

/// The list items and sentences of a block, each with the offset of its first line.
/// A list item is one unit with its wrapped continuation lines; in a paragraph a line starts a
/// new unit when it carries a label (`Scope: ...`) or the line before it ended a sentence.
pub fn units(b: &Block) -> Vec<(String, usize)> {
    let mut out: Vec<(String, usize)> = Vec::new();
    let mut ended = true;
    for (line, off) in b.lines() {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        let starts = out.is_empty() || (!b.is_item() && (ended || line_label(t).is_some()));
        match out.last_mut() {
            Some(last) if !starts => {
                last.0.push(' ');
                last.0.push_str(t);
            }
            _ => out.push((t.to_string(), off)),
        }
        ended = t.ends_with(['.', ';', ':', '!', '?']);
    }
    out
}

/// Read plan-wide sections into the plan. `in_task[i]` marks blocks that belong to tasks.
pub fn read_sections(doc: &Doc, plan: &mut Plan, in_task: &[bool]) {
    let mut stack: Vec<(u8, SecKind)> = Vec::new();
    let mut success_label = false;
    let mut constraint_paras: Vec<String> = Vec::new();
    let mut constraints_have_items = false;
    for (i, b) in doc.blocks.iter().enumerate() {
        if let Kind::Heading(level) = b.kind {
            while stack.last().is_some_and(|&(l, _)| l >= level) {
                stack.pop();
            }
            stack.push((level, section_kind(&b.text)));
            success_label = false;
            if !in_task.get(i).copied().unwrap_or(false) {
                if let Some((id, title)) = parse_milestone_heading(&b.text) {
                    if !plan.milestones.iter().any(|m| m.id == id) {
                        plan.milestones.push(Milestone {
                            id,
                            title,
                            span: doc.span(b.start),
                        });
                    }
                }
            }
            continue;
        }
        if in_task.get(i).copied().unwrap_or(false) {
            continue;
        }
        let kind = stack
            .iter()
            .rev()
            .map(|&(_, k)| k)
            .find(|&k| k != SecKind::Other)
            .unwrap_or(SecKind::Other);
        match b.kind {
            Kind::Para | Kind::Item { .. } => {
                for (line, off) in units(b) {
                    let line = line.as_str();
                    if let Some((f, value, _)) = line_label(line) {
                        success_label = f == Field::SuccessCriteria;
                        if success_label && !value.is_empty() {
                            plan.success_criteria.push(plain(value));
                        }
                        if success_label {
                            continue;
                        }
                    }
                    let text = plain(strip_box(line.trim()));
                    if text.is_empty() {
                        continue;
                    }
                    if success_label && b.is_item() {
                        plan.success_criteria.push(text);
                        continue;
                    }
                    match kind {
                        SecKind::Milestones => {
                            if let Some((id, title)) = parse_milestone_heading(&text) {
                                if !plan.milestones.iter().any(|m| m.id == id) {
                                    plan.milestones.push(Milestone {
                                        id,
                                        title,
                                        span: doc.span(off),
                                    });
                                }
                            }
                        }
                        SecKind::Constraints => {
                            if b.is_item() && b.depth <= 1 {
                                constraints_have_items = true;
                                plan.constraints.push(text);
                            } else {
                                constraint_paras.push(text);
                            }
                        }
                        SecKind::Tolerances => {
                            read_tolerance(&mut plan.tolerances, &text, doc.span(off))
                        }
                        SecKind::Risks if b.is_item() && b.depth <= 1 => {
                            plan.risks.push(text);
                        }
                        SecKind::Gates => {
                            let cmds = commands_in_text(line);
                            if cmds.is_empty() {
                                if b.is_item() {
                                    plan.success_criteria.push(text);
                                }
                            } else {
                                plan.final_gates.extend(cmds);
                            }
                        }
                        SecKind::Success if b.is_item() => {
                            plan.success_criteria.push(text);
                        }
                        _ => {}
                    }
                }
            }
            Kind::Code { .. } if kind == SecKind::Gates => {
                let lines: Vec<String> = b.text.lines().map(str::to_string).collect();
                plan.final_gates.extend(commands_in_code(&lines));
            }
            Kind::Table => {
                if kind == SecKind::Milestones {
                    for (r, row) in b.rows.iter().enumerate().skip(1) {
                        let joined = row.join(" ");
                        if let Some((id, _)) = parse_milestone_heading(&joined) {
                            let title = row.get(1).map(|s| plain(s)).unwrap_or_default();
                            if !plan.milestones.iter().any(|m| m.id == id) {
                                plan.milestones.push(Milestone {
                                    id,
                                    title,
                                    span: doc.span(b.row_offsets[r]),
                                });
                            }
                        }
                    }
                } else if kind == SecKind::Gates {
                    for row in b.rows.iter().skip(1) {
                        for cell in row {
                            plan.final_gates.extend(
                                crate::fields::code_spans(cell)
                                    .into_iter()
                                    .filter(|c| crate::fields::looks_command(c))
                                    .map(str::to_string),
                            );
                        }
                    }
                }
            }
            _ => {}
        }
    }
    if !constraints_have_items {
        plan.constraints.extend(constraint_paras);
    }
    let mut seen = std::collections::HashSet::new();
    plan.final_gates.retain(|g| seen.insert(g.clone()));
}

const NUMBER_WORDS: [&str; 13] = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve",
];

fn number(w: &str) -> Option<u64> {
    let w = w.trim_start_matches(['~', '<', '>', '≤', '(']);
    if let Ok(n) = w.replace([',', '_'], "").parse::<u64>() {
        return Some(n);
    }
    NUMBER_WORDS.iter().position(|&n| n == w).map(|p| p as u64)
}

/// Read one tolerance sentence. Numbers are taken from "N files", "N (net) lines",
/// "N attempts/iterations/tries", "N hours/minutes/days"; a sentence that names one of those
/// units but has no number is recorded as unreadable.
pub fn read_tolerance(t: &mut Tolerances, sentence: &str, span: crate::model::Span) {
    let lower = sentence.to_lowercase();
    let lower = join_thousands(&lower);
    let words: Vec<String> = lower
        .split(|c: char| {
            c.is_whitespace() || c == '/' || c == '(' || c == ')' || c == ',' || c == ';'
        })
        .map(|w| {
            w.trim_matches(|c: char| matches!(c, '.' | ':' | '*' | '`' | '"' | '\''))
                .to_string()
        })
        .filter(|w| !w.is_empty())
        .collect();
    if crate::failfirst::read_fail_first(t, &lower, sentence) {
        return;
    }
    let consumed = crate::budget::read_budget(t, &words, sentence);
    let mut found = !consumed.is_empty();
    let work_time = !measures_the_product(&lower);
    let whole_run = crate::budget::run_scoped(&words);
    let set32 = |slot: &mut Option<u32>, src: &mut Option<String>, n: u64| {
        if slot.is_none() {
            *slot = Some(n.min(u32::MAX as u64) as u32);
            *src = Some(sentence.to_string());
        }
    };
    for i in 0..words.len() {
        if consumed.contains(&i) {
            continue;
        }
        let w = &words[i];
        // joined forms: 2h, 90m, 30min, 250loc
        let (n, unit_inline) = match number(w) {
            Some(n) => (Some(n), None),
            None => {
                let d = w.find(|c: char| !c.is_ascii_digit()).unwrap_or(w.len());
                if d > 0 && d < w.len() {
                    (w[..d].parse().ok(), Some(w[d..].to_string()))
                } else {
                    (None, None)
                }
            }
        };
        let Some(n) = n else { continue };
        let mut units: Vec<&str> = Vec::new();
        if let Some(u) = &unit_inline {
            units.push(u.as_str());
        }
        for k in 1..=3 {
            if let Some(u) = words.get(i + k) {
                units.push(u.as_str());
            }
        }
        for (k, u) in units.iter().enumerate() {
            let u = *u;
            let matched = match u {
                "file" | "files" => {
                    set32(&mut t.max_files, &mut t.max_files_source, n);
                    true
                }
                "line" | "lines" | "loc" | "sloc" => {
                    set32(&mut t.max_net_lines, &mut t.max_net_lines_source, n);
                    true
                }
                "attempt" | "attempts" | "iteration" | "iterations" | "tries" | "try"
                | "retries" | "cycles" | "cycle" | "rounds" | "fixes" | "fix" | "passes"
                | "loops" => {
                    set32(&mut t.max_attempts, &mut t.max_attempts_source, n);
                    true
                }
                "hour" | "hours" | "h" | "hr" | "hrs" if work_time => {
                    set_minutes(t, n * 60, sentence, whole_run);
                    true
                }
                "minute" | "minutes" | "min" | "mins" | "m" if work_time => {
                    set_minutes(t, n, sentence, whole_run);
                    true
                }
                "day" | "days" | "d" if work_time => {
                    set_minutes(t, n * 24 * 60, sentence, whole_run);
                    true
                }
                _ => false,
            };
            if matched {
                found = true;
                break;
            }
            // filler words between a number and its unit: "250 net lines", "three focused attempts"
            let filler = is_filler(u);
            let joined_suffix = unit_inline.is_some() && k == 0;
            if k >= 2 || !(filler || joined_suffix) {
                break;
            }
        }
    }
    if !found {
        let numeric = [
            "file",
            "line",
            "loc",
            "attempt",
            "iteration",
            "tries",
            "retries",
            "hour",
            "minute",
            "day",
            "time",
        ]
        .iter()
        .any(|k| words.iter().any(|w| w.starts_with(k)));
        if numeric && work_time {
            t.unreadable.push(Unreadable {
                text: sentence.to_string(),
                span,
            });
        } else {
            t.other.push(sentence.to_string());
        }
    }
}

/// "1,000" -> "1000": a comma between digit groups is a thousands separator, not a list comma.
fn join_thousands(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.char_indices() {
        let group = c == ','
            && i > 0
            && b[i - 1].is_ascii_digit()
            && b.len() >= i + 4
            && b[i + 1..i + 4].iter().all(u8::is_ascii_digit)
            && b.get(i + 4).is_none_or(|x| !x.is_ascii_digit());
        if !group {
            out.push(c);
        }
    }
    out
}

/// A word that may sit between a number and its unit: an adjective or a short qualifier.
fn is_filler(w: &str) -> bool {
    !matches!(
        w,
        "or" | "and" | "per" | "each" | "every" | "than" | "to" | "in" | "if" | "then" | "stop"
    ) && w.len() <= 14
        && w.chars().all(|c| c.is_alphabetic() || c == '-')
}

/// Whether a sentence sets a target for the product (a benchmark, a latency, a test suite's
/// run time) rather than a limit on the work: its minutes are then not a time tolerance.
fn measures_the_product(lower: &str) -> bool {
    [
        "benchmark",
        "latency",
        "runtime",
        "run time",
        "response time",
        "p95",
        "p99",
        "throughput",
        "build time",
        "suite takes",
        "suite exceeds",
        "query",
        "startup",
        "timeout",
        "per request",
        "per test",
        "to run",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

/// A time limit: the task's, or the whole run's when the sentence says so.
fn set_minutes(t: &mut Tolerances, m: u64, sentence: &str, whole_run: bool) {
    if whole_run {
        if t.max_run_minutes.is_none() {
            t.max_run_minutes = Some(m);
            t.max_run_minutes_source = Some(sentence.to_string());
        }
        return;
    }
    if t.max_minutes.is_none() {
        t.max_minutes = Some(m);
        t.max_minutes_source = Some(sentence.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Span;

    #[test]
    fn tolerances_in_prose() {
        let mut t = Tolerances::default();
        read_tolerance(
            &mut t,
            "Scope: if implementation requires more than 4 files or 250 net lines, stop.",
            Span::default(),
        );
        read_tolerance(
            &mut t,
            "Iterations: if tests still fail after 3 attempts, stop and escalate.",
            Span::default(),
        );
        read_tolerance(
            &mut t,
            "Time: if a milestone takes more than 2 hours, stop and escalate.",
            Span::default(),
        );
        read_tolerance(
            &mut t,
            "Interface: if a public API signature must change, stop and escalate.",
            Span::default(),
        );
        read_tolerance(
            &mut t,
            "Time: if a milestone takes more than <T> hours, stop.",
            Span {
                line: 9,
                column: 3,
                offset: 0,
            },
        );
        assert_eq!(
            (t.max_files, t.max_net_lines, t.max_attempts, t.max_minutes),
            (Some(4), Some(250), Some(3), Some(120))
        );
        assert_eq!(t.other.len(), 1);
        assert_eq!(t.unreadable.len(), 1);
        assert_eq!(t.unreadable[0].span.line, 9);
        let mut t = Tolerances::default();
        read_tolerance(
            &mut t,
            "after three failed attempts or 90m",
            Span::default(),
        );
        assert_eq!((t.max_attempts, t.max_minutes), (Some(3), Some(90)));
        let mut t = Tolerances::default();
        read_tolerance(
            &mut t,
            "Compatibility: stay on the 1.89 baseline.",
            Span::default(),
        );
        read_tolerance(
            &mut t,
            "Time: stop if CI runtime exceeds 6 minutes.",
            Span::default(),
        );
        assert!(t.unreadable.is_empty() && t.max_minutes.is_none(), "{t:?}");
        assert_eq!(t.other.len(), 2);
    }

    #[test]
    fn milestone_headings() {
        assert_eq!(
            parse_milestone_heading("M1: Foundation"),
            Some(("M1".into(), "Foundation".into()))
        );
        assert_eq!(
            parse_milestone_heading("Milestone 2 – API"),
            Some(("M2".into(), "API".into()))
        );
        assert_eq!(
            parse_milestone_heading("Phase 3: User Story 1"),
            Some(("Phase 3".into(), "User Story 1".into()))
        );
        assert_eq!(
            parse_milestone_heading("Stage A: understand"),
            Some(("Stage A".into(), "understand".into()))
        );
        assert_eq!(parse_milestone_heading("Milestones"), None);
        assert_eq!(parse_wave_heading("Wave 2: core"), Some(2));
    }
}
