//! Building criteria and findings, counting scores, and the approval rule shared by
//! the reviewers: approved only with no FAIL and at most `max_weak` WEAK criteria.

use planexec_pdk::{Criterion, Finding, Score, Severity};

pub type ScoreLevel = Score;

pub fn criterion(name: &str, score: Score, reasoning: impl Into<String>) -> Criterion {
    Criterion {
        name: name.to_string(),
        score,
        reasoning: reasoning.into(),
    }
}

pub fn finding(
    severity: Severity,
    rule: &str,
    message: impl Into<String>,
    path: Option<&str>,
    line: Option<u32>,
) -> Finding {
    Finding {
        severity,
        rule: rule.to_string(),
        message: message.into(),
        path: path.map(str::to_string),
        line,
        column: None,
        end_line: None,
        end_column: None,
    }
}

pub fn count(criteria: &[Criterion], score: Score) -> usize {
    criteria.iter().filter(|c| c.score == score).count()
}

/// No FAIL, and at most `max_weak` WEAK.
pub fn approved(criteria: &[Criterion], max_weak: usize) -> bool {
    count(criteria, Score::Fail) == 0 && count(criteria, Score::Weak) <= max_weak
}

/// The worse of two scores.
pub fn worst(a: Score, b: Score) -> Score {
    fn rank(s: Score) -> u8 {
        match s {
            Score::Pass => 0,
            Score::Weak => 1,
            Score::Fail => 2,
        }
    }
    if rank(a) >= rank(b) {
        a
    } else {
        b
    }
}

pub fn score_word(s: Score) -> &'static str {
    match s {
        Score::Pass => "PASS",
        Score::Weak => "WEAK",
        Score::Fail => "FAIL",
    }
}

/// "5 criteria: 4 PASS, 1 WEAK, 0 FAIL"
pub fn tally(criteria: &[Criterion]) -> String {
    format!(
        "{} criteria: {} PASS, {} WEAK, {} FAIL",
        criteria.len(),
        count(criteria, Score::Pass),
        count(criteria, Score::Weak),
        count(criteria, Score::Fail)
    )
}

/// The one-line summary: `<VERDICT>: <subject> — <tally>[; <non-PASS criteria>]`.
pub fn summary_line(verdict: &str, subject: &str, criteria: &[Criterion]) -> String {
    let bad: Vec<String> = criteria
        .iter()
        .filter(|c| c.score != Score::Pass)
        .map(|c| format!("{} {}", c.name.to_lowercase(), score_word(c.score)))
        .collect();
    let mut s = format!("{verdict}: {subject} — {}", tally(criteria));
    if !bad.is_empty() {
        s.push_str(&format!(" ({})", bad.join(", ")));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approval_rule() {
        let c = |s| criterion("x", s, "");
        assert!(approved(&[c(Score::Pass), c(Score::Weak)], 1));
        assert!(!approved(&[c(Score::Weak), c(Score::Weak)], 1));
        assert!(!approved(&[c(Score::Fail)], 5));
        assert_eq!(worst(Score::Weak, Score::Fail), Score::Fail);
        assert_eq!(
            summary_line("V", "T1", &[c(Score::Pass), c(Score::Weak)]),
            "V: T1 — 2 criteria: 1 PASS, 1 WEAK, 0 FAIL (x WEAK)"
        );
    }
}
