//! Parsing an agent's review reply: the verdict string, the `| Criterion | Score |
//! Reasoning |` table, the issues it lists and its summary. Anything doubtful is an error.

use planexec_pdk::{Criterion, Finding, ReviewKind, Score, Severity};

pub const TASK_CRITERIA: &[&str] = &[
    "Completion criteria",
    "Scope compliance",
    "Required changes",
    "Design alignment",
    "Boundary integrity",
];
pub const CODE_CRITERIA: &[&str] = &[
    "Correctness",
    "Quality",
    "Pattern adherence",
    "Regression risk",
    "Test coverage",
    "Security",
];

/// The verdict strings, (passed, changes requested), per kind.
pub fn verdicts(kind: ReviewKind) -> (&'static str, &'static str) {
    match kind {
        ReviewKind::Task => ("TASK_REVIEW_PASSED", "TASK_REVIEW_CHANGES_REQUESTED"),
        ReviewKind::Code => ("CODE_REVIEW_PASSED", "CODE_REVIEW_CHANGES_REQUESTED"),
    }
}

const ALL: &[&str] = &[
    "TASK_REVIEW_PASSED",
    "TASK_REVIEW_CHANGES_REQUESTED",
    "CODE_REVIEW_PASSED",
    "CODE_REVIEW_CHANGES_REQUESTED",
];

#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub passed: bool,
    pub criteria: Vec<Criterion>,
    pub findings: Vec<Finding>,
    pub summary: String,
}

fn tokens_in(s: &str) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = ALL
        .iter()
        .copied()
        .filter(|t| {
            // A token, not a prefix of a longer identifier.
            let mut from = 0;
            while let Some(i) = s[from..].find(t) {
                let e = from + i + t.len();
                if !s[e..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
                    return true;
                }
                from = e;
            }
            false
        })
        .collect();
    v.dedup();
    v
}

fn verdict(kind: ReviewKind, reply: &str) -> Result<bool, String> {
    let (pass, changes) = verdicts(kind);
    // The `Verdict:` line decides when it names exactly one verdict.
    let mut chosen: Option<&str> = None;
    for line in reply.lines() {
        if line.to_ascii_lowercase().contains("verdict") {
            let t = tokens_in(line);
            if t.len() == 1 {
                chosen = Some(t[0]);
                break;
            }
            if t.len() > 1 {
                return Err(format!(
                    "the verdict line names several verdicts: {}",
                    line.trim()
                ));
            }
        }
    }
    let v = match chosen {
        Some(v) => v,
        None => {
            let t = tokens_in(reply);
            match t.len() {
                0 => {
                    return Err(format!(
                        "no verdict string ({pass} or {changes}) in the reply"
                    ))
                }
                1 => t[0],
                _ => {
                    return Err(format!(
                        "ambiguous reply: several verdict strings ({})",
                        t.join(", ")
                    ))
                }
            }
        }
    };
    if v == pass {
        Ok(true)
    } else if v == changes {
        Ok(false)
    } else {
        Err(format!(
            "wrong kind of verdict `{v}` for a {} review",
            if kind == ReviewKind::Task {
                "task"
            } else {
                "code"
            }
        ))
    }
}

fn cells(line: &str) -> Vec<String> {
    let t = line.trim();
    let t = t.strip_prefix('|').unwrap_or(t);
    let t = t.strip_suffix('|').unwrap_or(t);
    t.split('|').map(|c| c.trim().to_string()).collect()
}

fn plain(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '*' | '`' | '_'))
        .collect::<String>()
        .trim()
        .to_string()
}

fn score_of(cell: &str) -> Option<Score> {
    let p = plain(cell).to_ascii_uppercase();
    let word: String = p
        .chars()
        .skip_while(|c| !c.is_ascii_alphabetic())
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    match word.as_str() {
        "PASS" | "PASSED" => Some(Score::Pass),
        "WEAK" => Some(Score::Weak),
        "FAIL" | "FAILED" => Some(Score::Fail),
        _ => None,
    }
}

fn criteria(kind: ReviewKind, reply: &str) -> Result<Vec<Criterion>, String> {
    let expected = if kind == ReviewKind::Task {
        TASK_CRITERIA
    } else {
        CODE_CRITERIA
    };
    let lines: Vec<&str> = reply.lines().collect();
    let header = lines.iter().position(|l| {
        let c: Vec<String> = cells(l).iter().map(|c| plain(c).to_lowercase()).collect();
        l.trim_start().starts_with('|')
            && c.iter().any(|x| x == "criterion")
            && c.iter().any(|x| x == "score")
    });
    let Some(h) = header else {
        return Err("no `| Criterion | Score | Reasoning |` table in the reply".into());
    };
    let head: Vec<String> = cells(lines[h])
        .iter()
        .map(|c| plain(c).to_lowercase())
        .collect();
    let ci = head.iter().position(|x| x == "criterion").unwrap();
    let si = head.iter().position(|x| x == "score").unwrap();
    let ri = head
        .iter()
        .position(|x| x.starts_with("reasoning") || x.starts_with("evidence"));
    let mut found: Vec<Option<Criterion>> = vec![None; expected.len()];
    for l in &lines[h + 1..] {
        if !l.trim_start().starts_with('|') {
            break;
        }
        let c = cells(l);
        if c.iter()
            .all(|x| x.chars().all(|ch| matches!(ch, '-' | ':' | ' ')))
        {
            continue;
        }
        let name = plain(c.get(ci).map(String::as_str).unwrap_or("")).to_lowercase();
        let Some(idx) = expected.iter().position(|e| e.to_lowercase() == name) else {
            continue;
        };
        let raw = c.get(si).map(String::as_str).unwrap_or("");
        let score = score_of(raw).ok_or_else(|| {
            format!(
                "criterion `{}` has score `{raw}`, not PASS/WEAK/FAIL",
                expected[idx]
            )
        })?;
        let reasoning = match ri {
            Some(r) if r < c.len() => c[r..].join(" | "),
            _ => String::new(),
        };
        if found[idx].is_none() {
            found[idx] = Some(Criterion {
                name: expected[idx].to_string(),
                score,
                reasoning,
            });
        }
    }
    let missing: Vec<&str> = expected
        .iter()
        .zip(&found)
        .filter(|(_, f)| f.is_none())
        .map(|(e, _)| *e)
        .collect();
    if !missing.is_empty() {
        return Err(format!("the criteria table lacks: {}", missing.join(", ")));
    }
    Ok(found.into_iter().map(Option::unwrap).collect())
}

/// `path:line` or `path` from the first backticked span of an item.
fn location(item: &str) -> (Option<String>, Option<u32>) {
    let Some(span) = item.split('`').nth(1) else {
        return (None, None);
    };
    let span = span.trim();
    if span.is_empty() || span.contains(char::is_whitespace) {
        return (None, None);
    }
    let (p, l) = match span.rsplit_once(':') {
        Some((p, n))
            if n.split('-')
                .next()
                .is_some_and(|x| !x.is_empty() && x.chars().all(|c| c.is_ascii_digit())) =>
        {
            (p, n.split('-').next().and_then(|x| x.parse().ok()))
        }
        _ => (span, None),
    };
    if p.contains('/') || p.contains('.') {
        (Some(p.to_string()), l)
    } else {
        (None, None)
    }
}

fn item_start(l: &str) -> Option<&str> {
    let t = l.trim_start();
    let digits = t.chars().take_while(|c| c.is_ascii_digit()).count();
    if digits > 0 {
        let rest = &t[digits..];
        if let Some(r) = rest.strip_prefix(". ").or_else(|| rest.strip_prefix(") ")) {
            return Some(r.trim());
        }
    }
    t.strip_prefix("- ")
        .or_else(|| t.strip_prefix("* "))
        .map(str::trim)
}

fn is_none_item(s: &str) -> bool {
    let p = plain(s).to_lowercase();
    let p = p.trim_matches(|c: char| !c.is_alphanumeric());
    p.is_empty()
        || p == "none"
        || p.starts_with("no critical")
        || p.starts_with("no important")
        || p.starts_with("no minor")
        || p.starts_with("no issues")
        || p == "n/a"
}

fn findings(kind: ReviewKind, reply: &str) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    let mut section: Option<Severity> = None;
    for l in reply.lines() {
        let t = l.trim();
        if t.starts_with('#') {
            let h = t.trim_start_matches('#').trim().to_lowercase();
            section = match kind {
                ReviewKind::Task if h.starts_with("issues") => Some(Severity::Important),
                ReviewKind::Code if h.starts_with("critical") => Some(Severity::Critical),
                ReviewKind::Code if h.starts_with("important") => Some(Severity::Important),
                ReviewKind::Code if h.starts_with("minor") => Some(Severity::Minor),
                _ => None,
            };
            continue;
        }
        let Some(sev) = section else { continue };
        if let Some(item) = item_start(l) {
            if is_none_item(item) {
                continue;
            }
            let (path, line) = location(item);
            let message = item.replace("**", "").trim().to_string();
            out.push(Finding {
                severity: sev,
                rule: format!(
                    "agent-review/{}",
                    if kind == ReviewKind::Task {
                        "task"
                    } else {
                        "code"
                    }
                ),
                message,
                path,
                line,
                column: None,
                end_line: None,
                end_column: None,
            });
        } else if !t.is_empty() && !t.starts_with('(') && !t.starts_with('[') {
            if let Some(last) = out.last_mut() {
                last.message.push(' ');
                last.message.push_str(t);
            }
        }
    }
    out
}

fn summary_section(reply: &str) -> String {
    let mut in_summary = false;
    let mut text = Vec::new();
    for l in reply.lines() {
        let t = l.trim();
        if t.starts_with('#') {
            if in_summary {
                break;
            }
            in_summary = t
                .trim_start_matches('#')
                .trim()
                .eq_ignore_ascii_case("summary");
            continue;
        }
        if in_summary && !t.is_empty() {
            text.push(t);
        }
    }
    let s = text.join(" ");
    if s.chars().count() > 400 {
        format!("{}…", s.chars().take(400).collect::<String>())
    } else {
        s
    }
}

/// Parses a reply; `max_weak` is the approval threshold the verdict must agree with.
pub fn parse_reply(kind: ReviewKind, reply: &str, max_weak: usize) -> Result<Parsed, String> {
    let passed = verdict(kind, reply)?;
    let criteria = criteria(kind, reply)?;
    let fails: Vec<&str> = criteria
        .iter()
        .filter(|c| c.score == Score::Fail)
        .map(|c| c.name.as_str())
        .collect();
    let weak = criteria.iter().filter(|c| c.score == Score::Weak).count();
    let (pass, _) = verdicts(kind);
    if passed && !fails.is_empty() {
        return Err(format!(
            "contradictory reply: {pass} but FAIL on {}",
            fails.join(", ")
        ));
    }
    if passed && weak > max_weak {
        return Err(format!(
            "contradictory reply: {pass} with {weak} WEAK criteria (at most {max_weak} allowed)"
        ));
    }
    Ok(Parsed {
        passed,
        criteria,
        findings: findings(kind, reply),
        summary: summary_section(reply),
    })
}
