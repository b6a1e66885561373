//! Grants with a shape: a program, optionally with the argument patterns it may
//! be run with (`"python3 -m pytest *"`, `{ program = "git", args = ["diff *"] }`).
//!
//! A pattern is matched argument by argument; `*` inside a word matches any
//! text, and a final lone `*` matches any number of remaining arguments.

use serde::{Deserialize, Serialize};

/// A program and the argument shapes it may run with (`None`: any arguments).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    pub program: String,
    pub shapes: Option<Vec<String>>,
}

/// How a grant is written in planexec.toml.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum GrantEntry {
    /// `"git"` or `"python3 -m pytest *"`.
    Text(String),
    /// `{ program = "git", args = ["diff *", "apply *"] }`.
    Table {
        program: String,
        #[serde(default)]
        args: Option<Vec<String>>,
    },
}

impl GrantEntry {
    pub fn to_grant(&self) -> Grant {
        match self {
            GrantEntry::Text(t) => Grant::parse(t),
            GrantEntry::Table { program, args } => Grant {
                program: program.clone(),
                shapes: args.clone(),
            },
        }
    }
}

impl Grant {
    /// `"git"` -> any arguments; `"git diff *"` -> one shape, `diff *`.
    pub fn parse(text: &str) -> Grant {
        let text = text.trim();
        match text.split_once(char::is_whitespace) {
            Some((p, rest)) => Grant {
                program: p.to_string(),
                shapes: Some(vec![rest.trim().to_string()]),
            },
            None => Grant {
                program: text.to_string(),
                shapes: None,
            },
        }
    }

    /// Whether `args` fit one of the shapes (always, when unshaped).
    pub fn allows_args(&self, args: &[String]) -> bool {
        match &self.shapes {
            None => true,
            Some(shapes) => shapes.iter().any(|s| shape_matches(s, args)),
        }
    }

    pub fn describe(&self) -> String {
        match &self.shapes {
            None => self.program.clone(),
            Some(s) => s
                .iter()
                .map(|s| format!("{} {s}", self.program))
                .collect::<Vec<_>>()
                .join(" | "),
        }
    }
}

/// Merges grants of the same program: any unshaped grant wins; shapes add up.
pub fn merge(grants: impl IntoIterator<Item = Grant>) -> Vec<Grant> {
    let mut out: Vec<Grant> = Vec::new();
    for g in grants {
        match out.iter_mut().find(|o| o.program == g.program) {
            None => out.push(g),
            Some(o) => match (&mut o.shapes, g.shapes) {
                (None, _) => {}
                (s @ Some(_), None) => *s = None,
                (Some(a), Some(b)) => {
                    for x in b {
                        if !a.contains(&x) {
                            a.push(x);
                        }
                    }
                }
            },
        }
    }
    out
}

/// Matches `args` against a shape like `-m pytest *` or `--junitxml=* *`.
pub fn shape_matches(shape: &str, args: &[String]) -> bool {
    let pats: Vec<&str> = shape.split_whitespace().collect();
    let (fixed, rest_any) = match pats.split_last() {
        Some((&"*", init)) => (init, true),
        _ => (&pats[..], false),
    };
    if args.len() < fixed.len() || (!rest_any && args.len() != fixed.len()) {
        return false;
    }
    fixed.iter().zip(args).all(|(p, a)| word_matches(p, a))
}

/// Glob on one word: `*` matches any run of characters.
fn word_matches(pat: &str, word: &str) -> bool {
    let parts: Vec<&str> = pat.split('*').collect();
    if parts.len() == 1 {
        return pat == word;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !word.starts_with(first) || word.len() < first.len() + last.len() || !word.ends_with(last) {
        return false;
    }
    let mut rest = &word[first.len()..word.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn shapes_match_word_by_word_with_a_trailing_rest() {
        assert!(shape_matches("-m pytest *", &a("-m pytest -q tests")));
        assert!(shape_matches("-m pytest *", &a("-m pytest")));
        assert!(!shape_matches("-m pytest *", &a("-c print(1)")));
        assert!(!shape_matches("diff *", &a("-c alias.x=!sh x")));
        assert!(shape_matches(
            "--junitxml=* *",
            &a("--junitxml=/s/j.xml -q")
        ));
        assert!(!shape_matches("status", &a("status --porcelain")));
        assert!(shape_matches("a*c", &a("abbbc")));
        assert!(!shape_matches("a*c", &a("abbb")));
    }

    #[test]
    fn grants_parse_and_merge() {
        let g = Grant::parse("python3 -m pytest *");
        assert_eq!(g.program, "python3");
        assert!(g.allows_args(&a("-m pytest x")));
        assert!(!g.allows_args(&a("-c x")));
        let m = merge([Grant::parse("git diff *"), Grant::parse("git apply *")]);
        assert_eq!(m.len(), 1);
        assert!(m[0].allows_args(&a("apply x.patch")));
        let m = merge([Grant::parse("git diff *"), Grant::parse("git")]);
        assert!(m[0].allows_args(&a("-c x")));
    }
}
