//! Run-wide budgets in a plan's Tolerances section, in the words plans use:
//! "budget: $5", "5 USD", "at most 200k tokens", "the whole run: no more than 2 hours".

use crate::model::Tolerances;

/// Reads a cost or a token budget from the sentence's `words` (lower case, split as
/// `read_tolerance` splits them) and returns the indices of the words it used.
pub fn read_budget(t: &mut Tolerances, words: &[String], sentence: &str) -> Vec<usize> {
    let mut used = Vec::new();
    for (i, w) in words.iter().enumerate() {
        if let Some(cents) = dollars(w, words.get(i + 1).map(String::as_str)) {
            if t.max_cost_cents.is_none() {
                t.max_cost_cents = Some(cents);
                t.max_cost_source = Some(sentence.to_string());
            }
            used.push(i);
            continue;
        }
        let names_tokens = (1..=2).any(|k| {
            words
                .get(i + k)
                .is_some_and(|u| u == "token" || u == "tokens")
        });
        if let (true, Some(n)) = (names_tokens, scaled(w)) {
            if t.max_tokens.is_none() {
                t.max_tokens = Some(n);
                t.max_tokens_source = Some(sentence.to_string());
            }
            used.push(i);
        }
    }
    used
}

/// Whether a sentence limits the whole run rather than one task: its time words then
/// set the run's minutes ("the whole run", "in total", "overall", "budget").
pub fn run_scoped(words: &[String]) -> bool {
    words.iter().enumerate().any(|(i, w)| {
        matches!(
            w.as_str(),
            "run" | "total" | "overall" | "altogether" | "budget" | "entire"
        ) || (w == "in" && words.get(i + 1).is_some_and(|n| n == "all"))
    })
}

/// "$5", "$2.50", or "5" followed by "usd"/"dollars": the amount in cents.
fn dollars(w: &str, next: Option<&str>) -> Option<u64> {
    let amount = match w.strip_prefix('$') {
        Some(rest) => rest,
        None if matches!(next, Some("usd" | "dollar" | "dollars")) => w,
        None => return None,
    };
    let v: f64 = amount.parse().ok()?;
    (v.is_finite() && v >= 0.0).then(|| (v * 100.0).round() as u64)
}

/// "200000", "200k", "1.5m": a count with an optional thousand/million suffix.
fn scaled(w: &str) -> Option<u64> {
    let (num, mul) = match w.char_indices().last()? {
        (i, 'k') => (&w[..i], 1e3),
        (i, 'm') => (&w[..i], 1e6),
        _ => (w, 1.0),
    };
    let v: f64 = num.parse().ok()?;
    (v.is_finite() && v >= 0.0).then(|| (v * mul).round() as u64)
}

#[cfg(test)]
mod tests {
    use crate::model::{Span, Tolerances};
    use crate::sections::read_tolerance;

    fn read(sentences: &[&str]) -> Tolerances {
        let mut t = Tolerances::default();
        for s in sentences {
            read_tolerance(&mut t, s, Span::default());
        }
        t
    }

    #[test]
    fn budgets_in_plan_words() {
        let t = read(&[
            "Budget: $5 for the whole plan.",
            "Tokens: at most 200k tokens.",
            "Time: the whole run takes no more than 2 hours.",
        ]);
        assert_eq!(t.max_cost_cents, Some(500), "{t:?}");
        assert_eq!(t.max_tokens, Some(200_000), "{t:?}");
        assert_eq!(t.max_run_minutes, Some(120), "{t:?}");
        assert_eq!(t.max_minutes, None, "a run's time is not a task's: {t:?}");
        assert!(t.unreadable.is_empty(), "{t:?}");
        let t = read(&["Spend no more than 2.50 USD and 1.5M tokens in all."]);
        assert_eq!(
            (t.max_cost_cents, t.max_tokens),
            (Some(250), Some(1_500_000))
        );
    }

    #[test]
    fn a_tasks_time_stays_the_tasks() {
        let t = read(&["Time: if a milestone takes more than 2 hours, stop and escalate."]);
        assert_eq!((t.max_minutes, t.max_run_minutes), (Some(120), None));
        let t = read(&["at most 3 files and 2m tokens"]);
        assert_eq!(
            (t.max_files, t.max_tokens, t.max_minutes),
            (Some(3), Some(2_000_000), None)
        );
    }
}
