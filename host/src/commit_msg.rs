//! The commit-msg hook's check: a commit message read as git leaves it (comments and
//! everything below the scissors line dropped) against `[hooks.commit-msg]`'s rules.

use crate::config::CommitMsgRules;

/// A rule `[hooks.commit-msg]` sets that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("{where_}: [hooks.commit-msg] pattern `{pattern}` is not a regular expression ({source}); fix it in planexec.toml")]
    Pattern {
        where_: String,
        pattern: String,
        #[source]
        source: regex::Error,
    },
}

/// Subjects git or a rebase writes, which no pattern is asked of.
const GIT_MADE: [&str; 5] = ["Merge ", "Revert \"", "fixup! ", "squash! ", "amend! "];

/// The message as git will record it: lines starting with `#` and all after the
/// scissors line removed, trailing blank lines dropped.
pub fn cleaned(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text
        .lines()
        .take_while(|l| !l.starts_with("# ------------------------ >8 ------------------------"))
        .filter(|l| !l.starts_with('#'))
        .map(str::trim_end)
        .skip_while(|l| l.is_empty())
        .collect();
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

/// What is wrong with the message, one sentence each (empty: it passes). `where_`
/// names the rules' place (`planexec.toml:12`) in the sentences.
pub fn problems(
    text: &str,
    rules: &CommitMsgRules,
    where_: &str,
) -> Result<Vec<String>, RuleError> {
    let lines = cleaned(text);
    let Some(subject) = lines.first().copied() else {
        return Ok(vec![
            "the commit message is empty: write a subject line".into()
        ]);
    };
    let mut out = Vec::new();
    let n = subject.chars().count();
    if rules.max_subject > 0 && n > rules.max_subject {
        out.push(format!(
            "the subject line has {n} characters, more than {} ([hooks.commit-msg] max_subject, {where_}): shorten it and put the detail in the body",
            rules.max_subject
        ));
    }
    if lines.get(1).is_some_and(|l| !l.is_empty()) {
        out.push(
            "the second line is not blank: leave one empty line between the subject and the body"
                .into(),
        );
    }
    let made_by_git = GIT_MADE.iter().any(|p| subject.starts_with(p));
    if let (Some(pattern), false) = (&rules.pattern, made_by_git) {
        let re = regex::Regex::new(pattern).map_err(|source| RuleError::Pattern {
            where_: where_.to_string(),
            pattern: pattern.clone(),
            source,
        })?;
        if !re.is_match(subject) {
            out.push(format!(
                "the subject `{subject}` does not match [hooks.commit-msg] pattern `{pattern}` ({where_})"
            ));
        }
    }
    Ok(out)
}

/// `planexec.toml:LINE` of the `[hooks.commit-msg]` table in `toml_text`, else the file.
pub fn rules_place(file: &str, toml_text: &str) -> String {
    toml_text
        .lines()
        .position(|l| l.trim().starts_with("[hooks.commit-msg]"))
        .map(|i| format!("{file}:{}", i + 1))
        .unwrap_or_else(|| format!("{file} (defaults)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(pattern: Option<&str>) -> CommitMsgRules {
        CommitMsgRules {
            pattern: pattern.map(String::from),
            max_subject: 50,
        }
    }

    #[test]
    fn reads_the_message_as_git_records_it() {
        let text = "\n# Please enter\nT001: add it\n\nbody\n\n# ------------------------ >8 ------------------------\ndiff --git a b\n";
        assert_eq!(cleaned(text), ["T001: add it", "", "body"]);
    }

    #[test]
    fn names_each_broken_rule() {
        let r = rules(Some(r"^T\d{3}: "));
        assert!(problems("T001: add it\n", &r, "x").unwrap().is_empty());
        let p = problems(
            &format!("{}\nbody\n", "a".repeat(60)),
            &r,
            "planexec.toml:3",
        )
        .unwrap();
        assert_eq!(p.len(), 3, "{p:?}");
        assert!(
            p[0].contains("60 characters") && p[0].contains("planexec.toml:3"),
            "{p:?}"
        );
        assert!(p[2].contains("does not match"), "{p:?}");
        assert!(problems("Merge branch 'x'\n", &r, "x").unwrap().is_empty());
        assert!(problems("# only a comment\n", &r, "x").unwrap()[0].contains("empty"));
        assert!(problems("x\n", &rules(Some("(")), "x").is_err());
    }
}
