//! The agent's report read from its last message (the seeds' "Files changed" and
//! criteria tables) and compared with what really changed in the work tree.

/// What the agent says it did.
#[derive(Debug, Default, PartialEq)]
pub struct Claims {
    /// Paths from the files table, in order.
    pub files: Vec<String>,
    /// `(criterion, status)` from the criteria table.
    pub criteria: Vec<(String, String)>,
}

const ACTIONS: &[&str] = &[
    "modified", "created", "deleted", "added", "removed", "renamed", "updated",
];

fn cells(line: &str) -> Option<Vec<String>> {
    let l = line.trim();
    let inner = l.strip_prefix('|')?.strip_suffix('|')?;
    Some(
        inner
            .split('|')
            .map(|c| c.trim().trim_matches('`').trim().to_string())
            .collect(),
    )
}

/// The report tables in `message`; `None` when it has no files table.
pub fn parse_claims(message: &str) -> Option<Claims> {
    let mut c = Claims::default();
    let mut any_files_table = false;
    for line in message.lines() {
        let Some(row) = cells(line) else { continue };
        if row
            .iter()
            .all(|x| x.chars().all(|ch| ch == '-' || ch == ':'))
        {
            continue;
        }
        let lower: Vec<String> = row.iter().map(|x| x.to_lowercase()).collect();
        if lower.first().map(String::as_str) == Some("file") {
            any_files_table = true;
            continue;
        }
        if row.len() >= 2 && ACTIONS.contains(&lower[1].as_str()) {
            any_files_table = true;
            if !row[0].is_empty() && !c.files.contains(&row[0]) {
                c.files.push(row[0].clone());
            }
        } else if row.len() >= 3 && matches!(lower[2].as_str(), "met" | "not met" | "partial") {
            c.criteria.push((row[1].clone(), lower[2].clone()));
        }
    }
    any_files_table.then_some(c)
}

/// Claimed files that did not change, and changed files that were not claimed.
pub fn compare(claimed: &[String], changed: &[String]) -> (Vec<String>, Vec<String>) {
    let norm = |p: &str| p.trim_start_matches("./").to_string();
    let claimed: Vec<String> = claimed.iter().map(|p| norm(p)).collect();
    let changed: Vec<String> = changed.iter().map(|p| norm(p)).collect();
    let phantom = claimed
        .iter()
        .filter(|p| !changed.contains(p))
        .cloned()
        .collect();
    let unreported = changed
        .iter()
        .filter(|p| !claimed.contains(p))
        .cloned()
        .collect();
    (phantom, unreported)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "Done.\n\n## Files changed\n\n| File | Action | Description |\n|---|---|---|\n| `src/greet.py` | modified | shout() |\n| tests/test_greet.py | created | its test |\n\n## Criteria\n\n| # | Criterion | Status | Evidence |\n|---|---|---|---|\n| 1 | shout() upper-cases | met | pytest |\n| 2 | docs | not met | none |\n";

    #[test]
    fn reads_both_tables() {
        let c = parse_claims(REPORT).unwrap();
        assert_eq!(c.files, ["src/greet.py", "tests/test_greet.py"]);
        assert_eq!(
            c.criteria,
            [
                ("shout() upper-cases".to_string(), "met".to_string()),
                ("docs".to_string(), "not met".to_string())
            ]
        );
        assert_eq!(parse_claims("I did it."), None);
        // A files table that lists nothing is a report of no files.
        let empty = parse_claims("| File | Action | Description |\n|---|---|---|\n").unwrap();
        assert!(empty.files.is_empty());
    }

    #[test]
    fn compares_claims_with_the_changes() {
        let claimed = vec!["src/greet.py".to_string(), "./README.md".to_string()];
        let changed = vec!["src/greet.py".to_string(), "src/extra.py".to_string()];
        let (phantom, unreported) = compare(&claimed, &changed);
        assert_eq!(phantom, ["README.md"]);
        assert_eq!(unreported, ["src/extra.py"]);
        assert_eq!(compare(&changed, &changed), (vec![], vec![]));
    }
}
