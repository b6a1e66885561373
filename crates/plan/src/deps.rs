//! Dependency text: lists, ranges (`T001–T007`), notes, none-words, group references
//! (`M1 complete`, `all tasks from Waves 1-4`), kind words, and ASCII graphs (`ST-1 ──→ ST-2 [soft]`).

use std::collections::{HashMap, HashSet};

use crate::diagnostic::{Diagnostic, Severity};
use crate::ids::{
    boundary_before, is_milestone_id, is_non_task_id, scan_id, scan_number, split_numbered,
};
use crate::model::{DepKind, Dependency, Plan};

/// Markers for references that are resolved once all tasks are known.
pub(crate) const GROUP_MILESTONE: &str = "@milestone:";
pub(crate) const GROUP_WAVES: &str = "@waves:";
pub(crate) const GROUP_BEFORE: &str = "@before";
pub(crate) const BARE_NUMBER: &str = "#";
/// A tracker key with no digit (`proj-ory`): a dependency only if some task has that id.
pub(crate) const MAYBE_KEY: &str = "?";
/// Words in a Dependencies field that name no id or group: a warning quoting them.
pub(crate) const WORDS: &str = "@words:";

/// Group words a Dependencies field may name: `Phase 3`, `Stage B`, `Milestone 2`, `Epic 1`.
const GROUP_WORDS: [&str; 6] = ["phase", "stage", "milestone", "epic", "sprint", "part"];

/// The key of a group name for matching: `Phase 1` -> `phase1`, `Milestone 2`/`M2` -> `m2`.
pub fn group_key(name: &str) -> String {
    let id = crate::sections::parse_milestone_heading(name)
        .map(|(id, _)| id)
        .unwrap_or_else(|| name.split([':', ' ']).next().unwrap_or(name).to_string());
    let k: String = id
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '.')
        .collect::<String>()
        .to_lowercase();
    match k.strip_prefix("milestone") {
        Some(n) => format!("m{n}"),
        None => k,
    }
}

/// A group named in a dependency segment (`Phase 3`, `all of Stage B`): its key.
fn group_ref(lower: &str) -> Option<String> {
    for w in GROUP_WORDS {
        for (i, _) in lower.match_indices(w) {
            if !boundary_before(lower, i) {
                continue;
            }
            let rest = lower[i + w.len()..].strip_prefix(' ')?;
            let tok: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '.')
                .collect();
            let tok = tok.trim_end_matches('.');
            let ok = !tok.is_empty()
                && (tok.chars().all(|c| c.is_ascii_digit() || c == '.')
                    || (tok.len() == 1 && tok.chars().all(|c| c.is_ascii_alphabetic())));
            if ok {
                let w = if w == "milestone" { "m" } else { w };
                return Some(format!("{w}{tok}"));
            }
        }
    }
    None
}

const MAX_RANGE: u64 = 500;
/// Upper bound on a task's dependencies after group expansion.
const MAX_DEPS_PER_TASK: usize = 5000;

/// Whether the text says "no dependencies".
pub fn is_none_word(text: &str) -> bool {
    let t = text
        .trim()
        .trim_matches(|c: char| c == '*' || c == '`' || c == '_')
        .trim();
    let l = t.to_lowercase();
    let head: String = l
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '/' || *c == '<' || *c == '>')
        .collect();
    t.is_empty()
        || matches!(
            t,
            "-" | "–" | "—" | "--" | "n/a" | "N/A" | "<none>" | "~" | "∅"
        )
        || matches!(
            head.as_str(),
            "none" | "<none>" | "nothing" | "n/a" | "na" | "no" | "independent"
        )
        || l.starts_with("no dependencies")
        || l.starts_with("no deps")
}

/// Whether a value is a template placeholder left in the plan: `<none|T000,T002>`, `<task title>`.
pub fn is_placeholder(text: &str) -> bool {
    let t = text.trim().trim_matches('`').trim();
    t.len() > 2
        && t.starts_with('<')
        && t.ends_with('>')
        && !t[1..t.len() - 1].contains(['<', '>'])
        && !t.starts_with("<http")
}

/// Parse a dependency value into references with kinds. `default` is the kind when none is named.
pub fn parse_dep_text(text: &str, default: DepKind) -> Vec<(String, DepKind)> {
    let mut out: Vec<(String, DepKind)> = Vec::new();
    if is_none_word(text) || is_placeholder(text) {
        return out;
    }
    for seg in split_top(text) {
        let (core, notes) = strip_notes(seg);
        let mut kind = default;
        for w in notes.split(|c: char| !c.is_alphanumeric() && c != '-') {
            if let Some(k) = DepKind::from_word(w) {
                kind = k;
                break;
            }
        }
        // `soft: ST-1` / `blocking — ST-2`
        let mut core = core.trim();
        if let Some((head, rest)) = core.split_once([':', '—']) {
            if let Some(k) = DepKind::from_word(head) {
                kind = k;
                core = rest.trim();
            }
        }
        if is_none_word(core) && out.is_empty() && core.len() < 30 {
            continue;
        }
        // the common case, one id alone (`T0042`): no group or range words to look for
        if let Some(n) = scan_id(core).filter(|&n| n == core.len() && !is_non_task_id(core)) {
            out.push((core[..n].to_string(), kind));
            continue;
        }
        let lower = core.to_lowercase();
        if lower.contains("wave") {
            let nums: Vec<u32> = numbers(core);
            if let (Some(&a), Some(&b)) = (nums.first(), nums.last()) {
                if lower.contains("all") || lower.contains("complete") || lower.contains("wave") {
                    out.push((format!("{GROUP_WAVES}{a}-{b}"), kind));
                    continue;
                }
            }
        }
        if (lower.contains("all")
            && (lower.contains("previous")
                || lower.contains("prior")
                || lower.contains("above")
                || lower.contains("earlier")))
            || lower.trim() == "all"
        {
            out.push((GROUP_BEFORE.to_string(), kind));
            continue;
        }
        let before = out.len();
        if let Some(g) = group_ref(&lower) {
            out.push((format!("{GROUP_MILESTONE}{g}"), kind));
            // `Phase 3, Task 1.3` splits into segments; `Phase 3 (T010)` keeps its ids too
            let (rest, _) = strip_notes(core);
            if scan_refs_count(&rest) == 0 {
                continue;
            }
        }
        scan_refs(core, kind, &mut out);
        if out.len() == before && core.trim().chars().any(char::is_alphabetic) {
            out.push((format!("{WORDS}{}", core.trim()), kind));
        }
    }
    let mut seen = HashSet::new();
    out.retain(|(id, _)| seen.insert(id.clone()));
    out
}

fn numbers(s: &str) -> Vec<u32> {
    s.split(|c: char| !c.is_ascii_digit())
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Split at commas, semicolons, ` and ` and `&` that are outside parentheses and brackets.
fn split_top(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'(' | b'[' => depth += 1,
            b')' | b']' => depth -= 1,
            b',' | b';' | b'&' | b'\n' if depth <= 0 => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            b' ' if depth <= 0 && text[i..].starts_with(" and ") => {
                out.push(&text[start..i]);
                start = i + 5;
                i += 4;
            }
            _ => {}
        }
        i += 1;
    }
    out.push(&text[start..]);
    out.into_iter()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// Remove parenthesised and bracketed notes, returning (text without notes, the notes).
fn strip_notes(s: &str) -> (String, String) {
    let mut core = String::new();
    let mut notes = String::new();
    let mut depth = 0i32;
    for c in s.chars() {
        match c {
            '(' | '[' => {
                depth += 1;
                notes.push(' ');
            }
            ')' | ']' => {
                depth -= 1;
                notes.push(' ');
            }
            _ if depth > 0 => notes.push(c),
            _ => core.push(c),
        }
    }
    (core, notes)
}

/// How many references a piece of text holds apart from group names.
fn scan_refs_count(s: &str) -> usize {
    let mut v = Vec::new();
    let lower = s.to_lowercase();
    let cleaned: String = match group_ref(&lower) {
        Some(_) => {
            let mut t = s.to_string();
            for w in GROUP_WORDS {
                if let Some(i) = t.to_lowercase().find(w) {
                    let end = t[i..]
                        .char_indices()
                        .skip(w.len() + 1)
                        .find(|(_, c)| !(c.is_alphanumeric() || *c == '.'))
                        .map_or(t.len(), |(k, _)| i + k);
                    t.replace_range(i..end, " ");
                }
            }
            t
        }
        None => s.to_string(),
    };
    scan_refs(&cleaned, DepKind::Blocking, &mut v);
    v.len()
}

/// Find ids and ranges in free text.
fn scan_refs(s: &str, kind: DepKind, out: &mut Vec<(String, DepKind)>) {
    let s = s.replace(['`', '*'], " ");
    let mut i = 0;
    let mut last_end = 0;
    let mut last_id: Option<String> = None;
    while i < s.len() {
        if !s.is_char_boundary(i) {
            i += 1;
            continue;
        }
        let rest = &s[i..];
        let dash_before = s[..i].ends_with(['-', '–', '—']) && last_end > 0;
        if boundary_before(&s, i) || dash_before {
            // `Task 1.1`
            if rest
                .get(..5)
                .is_some_and(|p| p.eq_ignore_ascii_case("task "))
            {
                if let Some(n) = scan_number(&rest[5..]) {
                    let id = rest[5..5 + n].to_string();
                    out.push((format!("{BARE_NUMBER}{id}"), kind));
                    last_id = Some(format!("{BARE_NUMBER}{id}"));
                    i += 5 + n;
                    last_end = i;
                    continue;
                }
            }
            if let Some(n) = scan_id(rest) {
                let id = &rest[..n];
                // `TF2.x`, `T1.*`: a family of tasks, named in words, not a task
                let wild = rest[n..].strip_prefix('.').and_then(|w| w.chars().next());
                if matches!(wild, Some('x' | 'X' | '*'))
                    && rest[n + 2..]
                        .chars()
                        .next()
                        .is_none_or(|c| !c.is_alphanumeric())
                {
                    out.push((format!("{WORDS}{}", &rest[..n + 2]), kind));
                    i += n + 2;
                    last_end = i;
                    continue;
                }
                if !is_non_task_id(id) {
                    // a range: previous id, a dash or `..`/`to`, this id
                    let between = s[last_end..i].trim();
                    let is_range = matches!(
                        between,
                        "-" | "–" | "—" | ".." | "..." | "to" | "through" | "thru" | "→"
                    );
                    if let (true, Some(prev)) = (is_range, last_id.as_deref()) {
                        if let (Some((p1, a, w)), Some((p2, b, _))) =
                            (split_numbered(prev), split_numbered(id))
                        {
                            if p1 == p2 && a < b && b - a <= MAX_RANGE {
                                for k in a + 1..b {
                                    out.push((format!("{p1}{k:0w$}"), kind));
                                }
                            }
                        }
                    }
                    out.push((id.to_string(), kind));
                    last_id = Some(id.to_string());
                }
                i += n;
                last_end = i;
                continue;
            }
            if let Some(n) = crate::ids::scan_loose_key(rest) {
                out.push((format!("{MAYBE_KEY}{}", &rest[..n]), kind));
                i += n;
                last_end = i;
                continue;
            }
            if let Some(n) = scan_number(rest).filter(|_| {
                boundary_before(&s, i)
                    || last_id
                        .as_deref()
                        .is_some_and(|l| l.starts_with(BARE_NUMBER))
            }) {
                let id = &rest[..n];
                let between = s[last_end..i].trim();
                let is_range = matches!(between, "-" | "–" | "—" | ".." | "to");
                if let (true, Some(prev)) = (is_range, last_id.as_deref()) {
                    if let Some(p) = prev.strip_prefix(BARE_NUMBER) {
                        if let (Ok(a), Ok(b)) = (p.parse::<u64>(), id.parse::<u64>()) {
                            if a < b && b - a <= MAX_RANGE {
                                for k in a + 1..b {
                                    out.push((format!("{BARE_NUMBER}{k}"), kind));
                                }
                            }
                        }
                    }
                }
                out.push((format!("{BARE_NUMBER}{id}"), kind));
                last_id = Some(format!("{BARE_NUMBER}{id}"));
                i += n;
                last_end = i;
                continue;
            }
        }
        i += 1;
    }
}

/// Arrows that read "left comes before right".
const ARROWS: [&str; 12] = [
    "──→",
    "─→",
    "──▶",
    "─▶",
    "-->",
    "->",
    "=>",
    "→",
    "⟶",
    "▶",
    "⇒",
    "➜",
];

/// Words that start a dependency inside a task's own line or heading: `(depends on T1)`,
/// `(depends: T1, T2)`, `— after 2`, `blocked by T4`.
pub const INLINE_DEP_KEYS: [&str; 10] = [
    "depends on ",
    "depend on ",
    "depends:",
    "deps:",
    "dependencies:",
    "requires ",
    "after ",
    "blocked by ",
    "waits for ",
    "needs ",
];

/// The texts after each inline dependency word in a line, each up to a `)` or `;`.
pub fn inline_dep_texts(text: &str) -> Vec<&str> {
    let lower = text.to_ascii_lowercase();
    let mut out = Vec::new();
    for key in INLINE_DEP_KEYS {
        if let Some(p) = lower.find(key) {
            let rest = &text[p + key.len()..];
            out.push(rest.split([')', ';']).next().unwrap_or(rest));
        }
    }
    out
}

/// Phrases that tie two sets of tasks, and whether the left side comes first: `A depends on B`
/// (B before A), `A blocks B` / `A before B` / `A needed for B` (A before B). Longer phrases
/// first (`required for` before `require`).
const DEP_PHRASES: [(&str, bool); 28] = [
    ("depends on", false),
    ("依賴", false),
    ("依赖", false),
    ("depende de", false),
    ("dépend de", false),
    ("hängt ab von", false),
    ("después de", false),
    (" après ", false),
    (" nach ", false),
    ("depend on", false),
    ("blocked by", false),
    ("waits for", false),
    ("wait for", false),
    ("needed for", true),
    ("needed by", true),
    ("required for", true),
    ("required by", true),
    ("prerequisite for", true),
    ("prerequisite of", true),
    ("must precede", true),
    ("precedes", true),
    ("requires", false),
    ("require", false),
    (" after ", false),
    (" before ", true),
    (" blocks ", true),
    (" block ", true),
    (" unblocks ", true),
];

/// Edges in one line of a dependency graph: `(before, after, kind)`.
/// Reads `ST-1 ──→ ST-2 [soft]`, chains `A -> B -> C`, and `ST-3 depends on ST-1, ST-2`.
/// The kind is None when the line names none.
pub fn parse_graph_line(line: &str) -> Vec<(String, String, Option<DepKind>)> {
    let mut edges = Vec::new();
    let (core, notes) = strip_notes(line);
    let kind = notes
        .split(|c: char| !c.is_alphanumeric() && c != '-')
        .find_map(DepKind::from_word);
    // ids a note holds still count in prose: `Content (T023-T025) needed for build (T030)`
    let flat: String = line
        .chars()
        .map(|c| if "()[]".contains(c) { ' ' } else { c })
        .collect();
    let lower = flat.to_ascii_lowercase();
    for (phrase, reversed) in DEP_PHRASES {
        if let Some(p) = lower.find(phrase) {
            let (a, b) = (clause_before(&flat[..p]), &flat[p + phrase.len()..]);
            let subjects = ids_in(a);
            if subjects.is_empty() {
                continue;
            }
            let objects = ids_in(clause_after(b));
            // many tasks on both sides (`Tests (T004-T009) before implementation (T010-T018)`)
            // state an order between groups, which a stated edge between two tasks overrides
            let kind = match kind {
                None if subjects.len() > 1 && objects.len() > 1 => Some(DepKind::Sequencing),
                k => k,
            };
            for o in objects {
                for s in &subjects {
                    let (before, after) = if reversed { (s, &o) } else { (&o, s) };
                    if before != after {
                        edges.push((before.clone(), after.clone(), kind));
                    }
                }
            }
            return edges;
        }
    }
    let mut parts: Vec<&str> = vec![core.as_str()];
    for arrow in ARROWS {
        parts = parts.into_iter().flat_map(|p| p.split(arrow)).collect();
    }
    if parts.len() < 2 {
        return edges;
    }
    let groups: Vec<Vec<String>> = parts.iter().map(|p| ids_in(p)).collect();
    for w in groups.windows(2) {
        for a in &w[0] {
            for b in &w[1] {
                edges.push((a.clone(), b.clone(), kind));
            }
        }
    }
    edges
}

/// The clause a dependency phrase's subject sits in (`T001 done; T002, T003 block T004` gives
/// `T002, T003`); empty when the clause denies the dependency (`T018 does not block T013`).
fn clause_before(s: &str) -> &str {
    let c = s.rsplit([';', '.', '；', '。']).next().unwrap_or(s);
    // `T019–T022 各自並行（T021 依賴 ...`: the nearest part that names a task
    let c = c
        .rsplit(['（', '，'])
        .find(|part| !ids_in(part).is_empty())
        .unwrap_or(c);
    let l = c.trim_end().to_ascii_lowercase();
    if l.ends_with(" not") || l.ends_with("n't") || l.ends_with(" never") {
        return "";
    }
    c
}

/// The clause after a dependency phrase, up to a sentence break: `T018; T030 is parallel` gives
/// `T018`.
fn clause_after(s: &str) -> &str {
    s.split([';', '(', '；', '。', '）']).next().unwrap_or(s)
}

fn ids_in(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    scan_refs(s, DepKind::Blocking, &mut out);
    out.into_iter()
        .map(|(id, _)| id)
        .filter(|id| !id.starts_with(BARE_NUMBER))
        .map(|id| id.trim_start_matches(MAYBE_KEY).to_string())
        .collect()
}

/// Expand group references and bare numbers, drop duplicates, and report
/// dependencies stated twice with different kinds.
pub(crate) fn resolve(plan: &mut Plan) {
    let ids: HashSet<String> = plan.tasks.iter().map(|t| t.id.clone()).collect();
    let numeric_plan = plan
        .tasks
        .iter()
        .any(|t| t.id.chars().next().is_some_and(|c| c.is_ascii_digit()));
    let milestone_of: Vec<(String, Option<String>, Option<u32>)> = plan
        .tasks
        .iter()
        .map(|t| (t.id.clone(), t.milestone.clone(), t.wave))
        .collect();
    let mut by_milestone: HashMap<String, Vec<String>> = HashMap::new();
    for (id, m, _) in &milestone_of {
        if let Some(m) = m {
            by_milestone
                .entry(group_key(m))
                .or_default()
                .push(id.clone());
        }
    }
    let mut notes = Vec::new();
    for ti in 0..plan.tasks.len() {
        let deps = std::mem::take(&mut plan.tasks[ti].dependencies);
        let mut out = DepList::default();
        let push = |d: Dependency,
                    out: &mut DepList,
                    notes: &mut Vec<Diagnostic>,
                    source: &std::path::Path| {
            if let Some(prev) = out.at.get(&d.id).map(|&i| &out.list[i]) {
                if prev.kind != d.kind {
                    let file = d.file.clone().unwrap_or_else(|| source.to_path_buf());
                    notes.push(Diagnostic::new(
                        Severity::Warning,
                        "dependency-disagreement",
                        format!(
                            "task {} depends on {} as {} here but as {} at line {}",
                            plan_task_id(&milestone_of, ti),
                            d.id,
                            d.kind.name(),
                            prev.kind.name(),
                            prev.span.line
                        ),
                        &file,
                        d.span,
                        &d.quote,
                    ));
                }
                return;
            }
            out.at.insert(d.id.clone(), out.list.len());
            out.list.push(d);
        };
        let source = plan.tasks[ti].source.clone();
        for d in deps {
            if let Some(words) = d.id.strip_prefix(WORDS) {
                if !d.prose {
                    notes.push(unresolved(&milestone_of[ti].0, words, &d, &source));
                }
            } else if let Some(m) = d.id.strip_prefix(GROUP_MILESTONE) {
                let m = group_key(m);
                if !by_milestone.contains_key(&m) && !d.prose {
                    notes.push(unresolved(&milestone_of[ti].0, &m, &d, &source));
                }
                for id in by_milestone.get(&m).into_iter().flatten() {
                    if *id != milestone_of[ti].0 {
                        push(
                            Dependency {
                                id: id.clone(),
                                ..d.clone()
                            },
                            &mut out,
                            &mut notes,
                            &source,
                        );
                    }
                }
            } else if let Some(r) = d.id.strip_prefix(GROUP_WAVES) {
                let (a, b) = r.split_once('-').unwrap_or((r, r));
                let (a, b): (u32, u32) = (a.parse().unwrap_or(0), b.parse().unwrap_or(0));
                for (id, _, w) in &milestone_of {
                    if w.is_some_and(|w| w >= a && w <= b) && *id != milestone_of[ti].0 {
                        push(
                            Dependency {
                                id: id.clone(),
                                ..d.clone()
                            },
                            &mut out,
                            &mut notes,
                            &source,
                        );
                    }
                }
            } else if d.id == GROUP_BEFORE {
                for (id, _, _) in &milestone_of[..ti] {
                    push(
                        Dependency {
                            id: id.clone(),
                            ..d.clone()
                        },
                        &mut out,
                        &mut notes,
                        &source,
                    );
                }
            } else if let Some(n) = d.id.strip_prefix(BARE_NUMBER) {
                if ids.contains(n) || numeric_plan {
                    push(
                        Dependency {
                            id: n.to_string(),
                            ..d.clone()
                        },
                        &mut out,
                        &mut notes,
                        &source,
                    );
                }
            } else if let Some(k) = d.id.strip_prefix(MAYBE_KEY) {
                if ids.contains(k) {
                    let d = Dependency {
                        id: k.to_string(),
                        ..d.clone()
                    };
                    push(d, &mut out, &mut notes, &source);
                }
            } else if d.prose && !ids.contains(&d.id) {
                let file = d.file.clone().unwrap_or_else(|| source.clone());
                notes.push(Diagnostic::new(
                    Severity::Warning,
                    "unknown-dependency",
                    format!(
                        "task {} mentions {} in its text, but no task has that id; planexec does not treat it as a dependency",
                        plan_task_id(&milestone_of, ti),
                        d.id
                    ),
                    &file,
                    d.span,
                    &d.quote,
                ));
            } else if is_milestone_id(&d.id) && !ids.contains(&d.id) {
                for id in by_milestone.get(&group_key(&d.id)).into_iter().flatten() {
                    if *id != milestone_of[ti].0 {
                        push(
                            Dependency {
                                id: id.clone(),
                                ..d.clone()
                            },
                            &mut out,
                            &mut notes,
                            &source,
                        );
                    }
                }
            } else {
                let d = Dependency {
                    id: variant_of(&ids, &d.id).unwrap_or(d.id.clone()),
                    ..d
                };
                push(d, &mut out, &mut notes, &source);
            }
        }
        // group references on huge generated plans could otherwise grow quadratically
        out.list.truncate(MAX_DEPS_PER_TASK);
        plan.tasks[ti].dependencies = out.list;
    }
    plan.notes.extend(notes);
}

/// The one task id that writes `id` with a variant suffix (`T031` names `T031-MIN` when no task
/// is `T031`).
fn variant_of(ids: &HashSet<String>, id: &str) -> Option<String> {
    if ids.contains(id) {
        return None;
    }
    let mut found = ids
        .iter()
        .filter(|k| k.strip_prefix(id).is_some_and(|r| r.starts_with('-')));
    match (found.next(), found.next()) {
        (Some(k), None) => Some(k.clone()),
        _ => None,
    }
}

/// A task's dependencies being resolved, with an index by id (dense plans name hundreds).
#[derive(Default)]
struct DepList {
    list: Vec<Dependency>,
    at: HashMap<String, usize>,
}

/// An `unresolved-dependency` warning: words in a Dependencies field that name no task.
fn unresolved(task: &str, words: &str, d: &Dependency, source: &std::path::Path) -> Diagnostic {
    let file = d.file.clone().unwrap_or_else(|| source.to_path_buf());
    Diagnostic::new(
        Severity::Warning,
        "unresolved-dependency",
        format!(
            "task {task} lists \"{words}\" as a dependency, but that names no task, phase or milestone of this plan; planexec ignores it: write the task's id (such as `T001`) if it must wait"
        ),
        &file,
        d.span,
        &d.quote,
    )
}

fn plan_task_id(list: &[(String, Option<String>, Option<u32>)], i: usize) -> &str {
    &list[i].0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(s: &str) -> Vec<String> {
        parse_dep_text(s, DepKind::Blocking)
            .into_iter()
            .map(|(i, _)| i)
            .collect()
    }

    #[test]
    fn lists_ranges_notes_and_none() {
        assert!(ids("none").is_empty());
        assert!(ids("None (foundation)").is_empty());
        assert!(ids("-").is_empty());
        assert!(ids("<none>").is_empty());
        assert_eq!(ids("T000, T002"), ["T000", "T002"]);
        assert_eq!(ids("T001 (Express setup)"), ["T001"]);
        assert_eq!(ids("T001–T004"), ["T001", "T002", "T003", "T004"]);
        assert_eq!(ids("T1-T3 and T7"), ["T1", "T2", "T3", "T7"]);
        assert_eq!(ids("Task 1.1 (migration)"), ["#1.1"]);
        assert_eq!(ids("M1 complete"), ["M1"]);
        assert_eq!(ids("all tasks from Waves 1-4"), ["@waves:1-4"]);
        assert_eq!(ids("`ST-1`, `ST-2`"), ["ST-1", "ST-2"]);
        assert_eq!(ids("proj-7sk"), ["proj-7sk"]);
        assert_eq!(ids("proj-7sk, proj-ory"), ["proj-7sk", "?proj-ory"]);
        assert!(ids("<none|T000,T002>").is_empty());
        assert_eq!(ids("T003 per FR-016"), ["T003"]);
        let k = parse_dep_text("ST-1 (soft), ST-2 [sequencing]", DepKind::Blocking);
        assert_eq!(
            k,
            [
                ("ST-1".into(), DepKind::Soft),
                ("ST-2".into(), DepKind::Sequencing)
            ]
        );
    }

    #[test]
    fn graph_lines() {
        assert_eq!(
            parse_graph_line("ST-1 ──→ ST-2 [soft]"),
            [("ST-1".into(), "ST-2".into(), Some(DepKind::Soft))]
        );
        assert_eq!(parse_graph_line("ST-1 -> ST-2 -> ST-3").len(), 2);
        assert_eq!(parse_graph_line("ST-3 depends on ST-1, ST-2").len(), 2);
        assert!(parse_graph_line("no arrows here ST-1").is_empty());
        let e = |l: &str| -> Vec<(String, String)> {
            parse_graph_line(l)
                .into_iter()
                .map(|(a, b, _)| (a, b))
                .collect()
        };
        assert_eq!(
            e("T010-T011 block T019"),
            [
                ("T010".into(), "T019".into()),
                ("T011".into(), "T019".into())
            ]
        );
        assert_eq!(e("T019 requires T010"), [("T010".into(), "T019".into())]);
        assert_eq!(
            e("T007, T008 both block T009"),
            [
                ("T007".into(), "T009".into()),
                ("T008".into(), "T009".into())
            ]
        );
        assert!(e("pending T018 evidence does not block T013").is_empty());
        assert_eq!(
            e("T063 independent [P], T064-T065 sequential after T063"),
            [
                ("T063".into(), "T064".into()),
                ("T063".into(), "T065".into())
            ]
        );
    }
}
