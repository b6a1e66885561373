//! Plan constraints a machine can check: "do not modify X" (frozen paths), "no new
//! dependencies", and "do not use `name`" (forbidden names in added code or manifests).

use reviewkit::diff::{FileDiff, LineKind};
use reviewkit::paths::{is_path_like, patterns_of};
use std::path::Path;

/// What the plan's constraints forbid, each rule with the index of its constraint.
#[derive(Debug, Default, PartialEq)]
pub struct Rules {
    pub frozen: Vec<(String, usize)>,
    pub no_new_deps: Vec<usize>,
    pub forbidden_names: Vec<(String, usize)>,
    /// Constraints with nothing machine-checkable in them.
    pub unchecked: Vec<usize>,
}

const FREEZE: &[&str] = &[
    "do not modify",
    "don't modify",
    "must not modify",
    "never modify",
    "should not modify",
    "do not change",
    "don't change",
    "must not change",
    "never change",
    "should not change",
    "do not touch",
    "don't touch",
    "must not touch",
    "never touch",
    "do not edit",
    "don't edit",
    "must not edit",
    "never edit",
    "do not alter",
    "must not alter",
    "must not be modified",
    "must not be changed",
    "should not be modified",
    "must not be touched",
    "must remain unchanged",
    "stay unchanged",
    "leave unchanged",
    "is read-only",
    "are read-only",
    "is frozen",
    "are frozen",
    "off-limits",
    "off limits",
];
const NEGATIVE: &[&str] = &[
    "no ", "not ", "n't ", "never ", "without ", "forbid", "avoid", "prohibit", "disallow",
];
const DEP_WORDS: &[&str] = &[
    "dependenc",
    "deps",
    "third-party",
    "third party",
    "external crate",
    "external package",
    "new crate",
    "new package",
    "new librar",
];
const USE_WORDS: &[&str] = &[
    "do not use",
    "don't use",
    "must not use",
    "never use",
    "avoid",
    "not depend on",
    "no use of",
    "forbidden",
    "must not import",
    "do not import",
    "don't import",
    "must not call",
    "do not call",
    "don't call",
    "not allowed",
    "banned",
];

/// Reads the plan's constraints into checkable rules.
pub fn parse(constraints: &[String]) -> Rules {
    let mut r = Rules::default();
    for (i, c) in constraints.iter().enumerate() {
        let lc = format!("{} ", c.to_lowercase());
        let mut checked = false;
        if FREEZE.iter().any(|p| lc.contains(p)) {
            let mut pats: Vec<String> = patterns_of(std::slice::from_ref(c))
                .into_iter()
                .filter(|p| c.contains('`') || is_path_like(p))
                .collect();
            // "the auth module", "the billing package": a module name.
            let words: Vec<&str> = c.split_whitespace().collect();
            for w in words.windows(2) {
                let kind = w[1]
                    .trim_matches(|ch: char| !ch.is_alphanumeric())
                    .to_lowercase();
                if matches!(
                    kind.as_str(),
                    "module" | "package" | "crate" | "directory" | "folder" | "dir"
                ) {
                    let name = w[0].trim_matches(|ch: char| ch == '`' || ch == '"' || ch == '\'');
                    if !name.is_empty()
                        && !matches!(
                            name.to_lowercase().as_str(),
                            "the"
                                | "a"
                                | "any"
                                | "this"
                                | "that"
                                | "other"
                                | "new"
                                | "existing"
                                | "shared"
                        )
                    {
                        pats.push(name.to_string());
                    }
                }
            }
            pats.sort();
            pats.dedup();
            if !pats.is_empty() {
                checked = true;
                r.frozen.extend(pats.into_iter().map(|p| (p, i)));
            }
        }
        let negative = NEGATIVE.iter().any(|n| lc.contains(n));
        let names: Vec<String> = backticked_or_quoted(c)
            .into_iter()
            .filter(|n| !is_path_like(n) || !n.contains('/'))
            .collect();
        if !checked && negative && DEP_WORDS.iter().any(|d| lc.contains(d)) {
            checked = true;
            if names.is_empty() {
                r.no_new_deps.push(i);
            } else {
                r.forbidden_names
                    .extend(names.iter().map(|n| (n.clone(), i)));
            }
        } else if !checked && USE_WORDS.iter().any(|u| lc.contains(u)) && !names.is_empty() {
            checked = true;
            r.forbidden_names
                .extend(names.iter().map(|n| (n.clone(), i)));
        }
        if !checked {
            r.unchecked.push(i);
        }
    }
    r
}

fn backticked_or_quoted(c: &str) -> Vec<String> {
    let mut out = Vec::new();
    for q in ['`', '"'] {
        for (i, span) in c.split(q).enumerate() {
            if i % 2 == 1 {
                let s = span.trim();
                if !s.is_empty() && !s.contains(char::is_whitespace) {
                    out.push(s.to_string());
                }
            }
        }
    }
    out
}

/// A dependency added in a manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct DepAdd {
    pub path: String,
    pub line: Option<u32>,
    pub name: String,
}

fn basename(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

pub fn is_manifest(path: &str) -> bool {
    let b = basename(path);
    matches!(
        b,
        "Cargo.toml"
            | "package.json"
            | "go.mod"
            | "pyproject.toml"
            | "Gemfile"
            | "pom.xml"
            | "build.gradle"
            | "build.gradle.kts"
            | "Pipfile"
            | "setup.py"
            | "setup.cfg"
            | "composer.json"
    ) || (b.starts_with("requirements") && b.ends_with(".txt"))
}

/// Dependencies the diff adds to manifests. The enclosing TOML section or JSON
/// object is read from the new file in the workspace when it is there, else from
/// the hunk's own lines.
pub fn added_dependencies(files: &[FileDiff], workspace: &Path) -> Vec<DepAdd> {
    let mut out = Vec::new();
    for f in files {
        if !is_manifest(&f.path) {
            continue;
        }
        let b = basename(&f.path);
        let content = std::fs::read_to_string(workspace.join(&f.path)).ok();
        let file_lines: Option<Vec<&str>> = content.as_deref().map(|c| c.lines().collect());
        for h in &f.hunks {
            // Section before the hunk, from the real file.
            let mut section = String::new();
            if let Some(fl) = &file_lines {
                let start = (h.new_start as usize).saturating_sub(1).min(fl.len());
                section = enclosing(b, &fl[..start]);
            }
            let mut seen: Vec<&str> = Vec::new();
            for l in &h.lines {
                if l.kind == LineKind::Removed {
                    continue;
                }
                let t = l.text.trim();
                if l.kind == LineKind::Added {
                    if let Some(name) = dep_name(b, &section, t) {
                        out.push(DepAdd {
                            path: f.path.clone(),
                            line: l.new_line,
                            name,
                        });
                    }
                }
                seen.push(&l.text);
                let s = enclosing(b, &seen);
                if !s.is_empty() {
                    section = s;
                    seen.clear();
                    seen.push(&l.text);
                }
            }
        }
    }
    out
}

/// The innermost section or object key governing the line after `lines`.
fn enclosing(basename: &str, lines: &[&str]) -> String {
    match basename {
        "Cargo.toml" | "pyproject.toml" | "Pipfile" | "setup.cfg" => lines
            .iter()
            .rev()
            .find_map(|l| {
                let t = l.trim();
                if t.starts_with('[') && t.ends_with(']') {
                    Some(t.trim_matches(|c| c == '[' || c == ']').to_string())
                } else if basename == "pyproject.toml"
                    && t.starts_with("dependencies")
                    && t.ends_with('[')
                {
                    Some("dependencies-list".to_string())
                } else {
                    None
                }
            })
            .unwrap_or_default(),
        "package.json" | "composer.json" => lines
            .iter()
            .rev()
            .find_map(|l| {
                let t = l.trim();
                if t.ends_with('{') {
                    Some(t.split('"').nth(1).unwrap_or("").to_string())
                } else {
                    None
                }
            })
            .unwrap_or_default(),
        "go.mod" => lines
            .iter()
            .rev()
            .find_map(|l| {
                let t = l.trim();
                if t == ")" {
                    Some("-".to_string())
                } else if t.starts_with("require (") {
                    Some("require".to_string())
                } else {
                    None
                }
            })
            .unwrap_or_default(),
        _ => String::new(),
    }
}

fn dep_name(basename: &str, section: &str, t: &str) -> Option<String> {
    if t.is_empty() || t.starts_with('#') || t.starts_with("//") {
        return None;
    }
    let key = |t: &str, sep: char| -> Option<String> {
        let k = t.split(sep).next()?.trim().trim_matches('"');
        let k = k.split('.').next()?.trim();
        (!k.is_empty()
            && !k.starts_with('[')
            && k.chars().all(|c| c.is_alphanumeric() || "-_@/".contains(c)))
        .then(|| k.to_string())
    };
    match basename {
        "Cargo.toml" => {
            if let Some(h) = t.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
                let parts: Vec<&str> = h.split('.').collect();
                if let Some(i) = parts.iter().position(|p| p.ends_with("dependencies")) {
                    return parts.get(i + 1).map(|n| n.to_string());
                }
                return None;
            }
            let sect_is_deps = section
                .split('.')
                .next_back()
                .is_some_and(|s| s.ends_with("dependencies"));
            if sect_is_deps && t.contains('=') {
                return key(t, '=');
            }
            None
        }
        "pyproject.toml" | "Pipfile" => {
            if section == "dependencies-list" || section.ends_with("optional-dependencies") {
                let s = t.trim_start_matches('"').trim_start_matches('\'');
                if t.starts_with('"') || t.starts_with('\'') {
                    let n: String = s
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || "-_.".contains(*c))
                        .collect();
                    return (!n.is_empty()).then_some(n);
                }
                return None;
            }
            if (section.contains("dependencies")
                || section == "packages"
                || section == "dev-packages")
                && t.contains('=')
            {
                return key(t, '=').filter(|k| k != "python");
            }
            None
        }
        "package.json" | "composer.json" => {
            let deps = section.to_lowercase().contains("dependencies")
                || section == "require"
                || section == "require-dev";
            if deps && t.starts_with('"') && t.contains(':') {
                return key(t, ':');
            }
            None
        }
        "go.mod" => {
            let rest = t
                .strip_prefix("require ")
                .unwrap_or(if section == "require" { t } else { "" });
            let mut it = rest.split_whitespace();
            let (m, v) = (it.next()?, it.next()?);
            (v.starts_with('v') && m != "(").then(|| m.to_string())
        }
        "Gemfile" => t
            .strip_prefix("gem ")
            .map(|r| r.split(['\'', '"']).nth(1).unwrap_or(r).to_string()),
        "pom.xml" => t
            .strip_prefix("<artifactId>")
            .and_then(|r| r.split('<').next())
            .map(str::to_string),
        "build.gradle" | "build.gradle.kts" => {
            let confs = [
                "implementation",
                "api",
                "compileOnly",
                "runtimeOnly",
                "testImplementation",
            ];
            confs
                .iter()
                .any(|c| t.starts_with(c))
                .then(|| t.split(['\'', '"']).nth(1).unwrap_or(t).to_string())
        }
        _ if basename.starts_with("requirements") => {
            if t.starts_with('-') {
                return None;
            }
            let n: String = t
                .chars()
                .take_while(|c| c.is_alphanumeric() || "-_.".contains(*c))
                .collect();
            (!n.is_empty()).then_some(n)
        }
        _ => None,
    }
}

/// Whether `name` occurs in `text` as a whole word (identifier boundaries).
pub fn has_word(text: &str, name: &str) -> bool {
    let is_id = |c: char| c.is_alphanumeric() || c == '_';
    let mut from = 0;
    while let Some(i) = text[from..].find(name) {
        let s = from + i;
        let e = s + name.len();
        let before = text[..s].chars().next_back();
        let after = text[e..].chars().next();
        let edge_ok = |c: Option<char>, inner: Option<char>| match (c, inner) {
            (Some(c), Some(n)) if is_id(n) => !is_id(c),
            _ => true,
        };
        if edge_ok(before, name.chars().next()) && edge_ok(after, name.chars().next_back()) {
            return true;
        }
        from = s + name.len().max(1);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use reviewkit::parse_diff;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn parses_constraints() {
        let r = parse(&s(&[
            "Do not modify `migrations/` or config/config.go",
            "Do not touch the tenant module.",
            "No new dependencies.",
            "Do not use `unsafe`.",
            "Keep the public API stable.",
        ]));
        assert_eq!(
            r.frozen,
            vec![("migrations/".to_string(), 0), ("tenant".to_string(), 1)]
        );
        assert_eq!(r.no_new_deps, vec![2]);
        assert_eq!(r.forbidden_names, vec![("unsafe".to_string(), 3)]);
        assert_eq!(r.unchecked, vec![4]);
    }

    #[test]
    fn finds_added_dependencies() {
        let d = "diff --git a/Cargo.toml b/Cargo.toml\n--- a/Cargo.toml\n+++ b/Cargo.toml\n@@ -5,3 +5,5 @@\n [dependencies]\n serde = \"1\"\n+regex = \"1\"\n+tokio = { version = \"1\" }\n [dev-dependencies]\n\
diff --git a/go.mod b/go.mod\n--- a/go.mod\n+++ b/go.mod\n@@ -3,3 +3,4 @@\n require (\n \tgithub.com/a/b v1.0.0\n+\tgithub.com/c/d v0.2.0\n )\n\
diff --git a/web/package.json b/web/package.json\n--- a/web/package.json\n+++ b/web/package.json\n@@ -1,4 +1,5 @@\n {\n   \"dependencies\": {\n+    \"lodash\": \"^4.0.0\",\n     \"react\": \"18\"\n   }\n";
        let adds = added_dependencies(&parse_diff(d), Path::new("/nonexistent"));
        let names: Vec<(&str, u32)> = adds
            .iter()
            .map(|a| (a.name.as_str(), a.line.unwrap()))
            .collect();
        assert_eq!(
            names,
            [
                ("regex", 7),
                ("tokio", 8),
                ("github.com/c/d", 5),
                ("lodash", 3)
            ]
        );
        assert!(has_word("let x = unsafe { y };", "unsafe"));
        assert!(!has_word("let unsafely = 1;", "unsafe"));
    }
}
