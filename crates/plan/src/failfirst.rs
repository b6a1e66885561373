//! Red before green in a plan's Tolerances (or Review) sentences, in the words plans use:
//! "red before green: off", "new tests must fail first: weak", "tests need not fail first".

use crate::model::Tolerances;

/// Reads the mode ("fail", "weak", "off") from one lower-cased sentence that speaks of
/// tests failing first; true when it did (the sentence is then no other tolerance).
pub fn read_fail_first(t: &mut Tolerances, lower: &str, sentence: &str) -> bool {
    let about = [
        "red before green",
        "red-before-green",
        "fail first",
        "fail-first",
        "fails first",
        "failing first",
        "tests_must_fail_first",
        "passes-without-change",
    ];
    if !about.iter().any(|a| lower.contains(a)) {
        return false;
    }
    let word = |ws: &[&str]| {
        lower
            .split(|c: char| !c.is_alphanumeric())
            .any(|w| ws.contains(&w))
    };
    let phrase = |ps: &[&str]| ps.iter().any(|p| lower.contains(p));
    let off = word(&["off", "disabled", "ignored"])
        || phrase(&[
            "need not",
            "needn't",
            "not required",
            "no need",
            "do not have to",
            "don't have to",
            "does not apply",
            "doesn't apply",
        ]);
    let mode = if off {
        "off"
    } else if word(&["weak", "warn", "warning", "advisory", "lenient"]) {
        "weak"
    } else {
        "fail"
    };
    if t.tests_must_fail_first.is_none() {
        t.tests_must_fail_first = Some(mode.to_string());
        t.tests_must_fail_first_source = Some(sentence.to_string());
    }
    true
}

#[cfg(test)]
mod tests {
    use crate::model::{Span, Tolerances};
    use crate::sections::read_tolerance;

    fn mode(s: &str) -> Option<String> {
        let mut t = Tolerances::default();
        read_tolerance(&mut t, s, Span::default());
        assert!(t.other.is_empty() && t.unreadable.is_empty(), "{t:?}");
        t.tests_must_fail_first
    }

    #[test]
    fn reads_the_mode_in_the_words_plans_use() {
        assert_eq!(mode("Red before green: off").as_deref(), Some("off"));
        assert_eq!(
            mode("New tests need not fail first (legacy code).").as_deref(),
            Some("off")
        );
        assert_eq!(
            mode("tests_must_fail_first = \"weak\"").as_deref(),
            Some("weak")
        );
        assert_eq!(
            mode("Red before green is advisory only.").as_deref(),
            Some("weak")
        );
        assert_eq!(
            mode("Every new test must fail first.").as_deref(),
            Some("fail")
        );
        assert_eq!(
            mode("Tests that do not fail first are sent back.").as_deref(),
            Some("fail")
        );
        assert_eq!(mode("At most 4 files per task."), None);
    }
}
