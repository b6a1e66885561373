//! The implementer checked, not trusted: the files it says it changed compared
//! with the cycle's real diff, as findings for the task review.

use planexec_record::{Finding, ImplementRun, Severity};

/// The implementer's own findings, then a finding for each claimed file that did
/// not change and each changed file it did not report. `changed` is the task's whole
/// diff; `earlier` the files earlier cycles of this attempt changed (rework keeps them
/// in the tree): one of those is not an unreported change of this cycle. An implementer
/// that claims nothing (a person, a patch) is only held to its own findings.
pub fn findings(
    imp: Option<&ImplementRun>,
    changed: &[String],
    earlier: &[String],
) -> Vec<Finding> {
    let Some(imp) = imp else { return Vec::new() };
    let mut out = imp.findings.clone();
    if imp.claimed_files.is_empty() {
        return out;
    }
    let norm = |p: &str| p.trim_start_matches("./").trim_end_matches('/').to_string();
    let claimed: Vec<String> = imp.claimed_files.iter().map(|p| norm(p)).collect();
    for p in claimed.iter().filter(|p| !changed.contains(p)) {
        out.push(finding(
            Severity::Important,
            "implementer/claimed-unchanged",
            p,
            format!(
                "{}: reported changing {p}, but it did not change in this cycle",
                imp.plugin
            ),
        ));
    }
    let new_here = |p: &&String| !claimed.contains(*p) && !earlier.contains(*p);
    for p in changed.iter().filter(new_here) {
        out.push(finding(
            Severity::Minor,
            "implementer/unreported-change",
            p,
            format!("{}: changed {p} but did not report it", imp.plugin),
        ));
    }
    out
}

fn finding(severity: Severity, rule: &str, path: &str, message: String) -> Finding {
    Finding {
        severity,
        rule: rule.into(),
        message,
        path: Some(path.into()),
        line: None,
        column: None,
        end_line: None,
        end_column: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use planexec_record::ImplementStatus;

    fn run(claimed: &[&str]) -> ImplementRun {
        let mut r = ImplementRun::new("agent", ImplementStatus::Done, "done");
        r.claimed_files = claimed.iter().map(|s| s.to_string()).collect();
        r
    }

    #[test]
    fn a_claimed_unchanged_file_and_an_unreported_change_are_findings() {
        let changed = vec!["src/a.py".to_string(), "src/c.py".to_string()];
        let f = findings(Some(&run(&["./src/a.py", "src/b.py"])), &changed, &[]);
        let rules: Vec<(&str, &str)> = f
            .iter()
            .map(|f| (f.rule.as_str(), f.path.as_deref().unwrap()))
            .collect();
        assert_eq!(
            rules,
            [
                ("implementer/claimed-unchanged", "src/b.py"),
                ("implementer/unreported-change", "src/c.py")
            ]
        );
        assert_eq!(f[0].severity, Severity::Important);
        assert_eq!(f[1].severity, Severity::Minor);
    }

    #[test]
    fn an_implementer_that_claims_nothing_keeps_only_its_own_findings() {
        let mut r = run(&[]);
        r.findings.push(finding(
            Severity::Important,
            "agent/committed",
            "x",
            "m".into(),
        ));
        let f = findings(Some(&r), &["src/a.py".to_string()], &[]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, "agent/committed");
        assert!(findings(None, &[], &[]).is_empty());
    }

    #[test]
    fn a_file_of_an_earlier_cycle_is_not_an_unreported_change() {
        let changed = vec!["src/a.py".to_string(), "tests/test_a.py".to_string()];
        let earlier = vec!["tests/test_a.py".to_string()];
        assert!(findings(Some(&run(&["src/a.py"])), &changed, &earlier).is_empty());
    }

    #[test]
    fn matching_claims_give_no_finding() {
        let changed = vec!["a.py".to_string()];
        assert!(findings(Some(&run(&["a.py"])), &changed, &[]).is_empty());
    }
}
