//! Matching changed paths against what a plan declares (exact paths, directories,
//! `*`/`**` globs, module names), and telling test files from source by convention.

/// Pulls the path patterns out of plan entries such as `src/a.rs`, "`src/a.rs` — add x",
/// "internal/tenant/ (all files)" or a bare module name like `auth`. Prose without a
/// path-like token yields nothing.
pub fn patterns_of(entries: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for e in entries {
        let e = e.trim();
        if e.is_empty() {
            continue;
        }
        if e.contains('`') {
            for (i, span) in e.split('`').enumerate() {
                if i % 2 == 1 {
                    let s = clean_token(span);
                    // A quoted name may have spaces (`my notes.txt`); a quoted phrase may not.
                    let spaced_path = s.contains(['.', '/']) && !s.contains(" -");
                    if !s.is_empty() && (!s.contains(char::is_whitespace) || spaced_path) {
                        out.push(s);
                    }
                }
            }
            continue;
        }
        let tokens: Vec<&str> = e.split_whitespace().collect();
        if tokens.len() == 1 {
            let s = clean_token(tokens[0]);
            if !s.is_empty() && s.chars().any(|c| c.is_alphanumeric()) {
                out.push(s);
            }
            continue;
        }
        for t in tokens {
            let s = clean_token(t);
            if is_path_like(&s) {
                out.push(s);
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn clean_token(t: &str) -> String {
    let t = t
        .trim()
        .trim_matches(|c: char| matches!(c, '"' | '\'' | '(' | ')' | '[' | ']' | ',' | ';' | ':'));
    let t = t.trim_end_matches('.');
    let t = t.strip_prefix("./").unwrap_or(t);
    if t.contains("::") {
        let t = t.strip_prefix("crate::").unwrap_or(t);
        return t.replace("::", "/");
    }
    t.to_string()
}

/// A token that names a file or directory rather than a word of prose.
pub fn is_path_like(s: &str) -> bool {
    if s.is_empty() || s.contains("://") || !s.chars().any(|c| c.is_alphanumeric()) {
        return false;
    }
    if matches!(
        s.to_ascii_lowercase().as_str(),
        "e.g" | "i.e" | "etc" | "vs" | "n/a" | "and/or"
    ) {
        return false;
    }
    if s.contains('/') || s.contains('*') {
        return true;
    }
    match s.rsplit_once('.') {
        Some((stem, ext)) => {
            !ext.is_empty()
                && ext.len() <= 8
                && ext.chars().all(|c| c.is_ascii_alphanumeric())
                && (!stem.is_empty() || s.starts_with('.'))
                && !ext.chars().all(|c| c.is_ascii_digit())
        }
        None => false,
    }
}

fn norm(p: &str) -> &str {
    let p = p.trim();
    let p = p.strip_prefix("./").unwrap_or(p);
    let p = p.trim_start_matches('/');
    p.trim_end_matches('/')
}

/// Whether `path` (workspace-relative) falls under the declared `pattern`.
pub fn matches_pattern(pattern: &str, path: &str) -> bool {
    let pat = norm(pattern);
    let path = norm(path);
    if pat.is_empty() || path.is_empty() {
        return false;
    }
    if pat.contains('*') || pat.contains('?') {
        // A glob matches the path or any directory above it.
        let comps: Vec<&str> = path.split('/').collect();
        return (1..=comps.len()).any(|n| glob(pat.as_bytes(), comps[..n].join("/").as_bytes()));
    }
    if pat == path || path.starts_with(&format!("{pat}/")) {
        return true;
    }
    let pcomps: Vec<&str> = pat.split('/').collect();
    let comps: Vec<&str> = path.split('/').collect();
    let last_pat = pcomps[pcomps.len() - 1];
    let names_a_file = last_pat.contains('.');
    // Suffix of the path (`auth/handler.go` for `internal/auth/handler.go`) or a
    // run of components anywhere (`auth` or `engine/state` as module names).
    for start in 0..comps.len() {
        if start + pcomps.len() > comps.len() {
            break;
        }
        let ok = pcomps.iter().enumerate().all(|(i, pc)| {
            let c = comps[start + i];
            if *pc == c {
                return true;
            }
            // The last pattern component may name a module whose file is `<pc>.<ext>`.
            i == pcomps.len() - 1 && !names_a_file && start + i == comps.len() - 1 && stem(c) == *pc
        });
        if ok {
            if names_a_file {
                // A file name must be the path's tail, not a directory in the middle.
                if start + pcomps.len() == comps.len() {
                    return true;
                }
            } else {
                return true;
            }
        }
    }
    false
}

fn stem(name: &str) -> &str {
    match name.rsplit_once('.') {
        Some((s, _)) if !s.is_empty() => s,
        _ => name,
    }
}

/// `*` matches within a path component, `**` across components, `?` one character.
fn glob(p: &[u8], s: &[u8]) -> bool {
    if p.is_empty() {
        return s.is_empty();
    }
    if p.starts_with(b"**") {
        let mut rest = &p[2..];
        if rest.first() == Some(&b'/') {
            // `**/x` also matches `x` at the top.
            rest = &rest[1..];
            if glob(rest, s) {
                return true;
            }
        }
        return (0..=s.len()).any(|i| glob(rest, &s[i..]));
    }
    match p[0] {
        b'*' => (0..=s.len())
            .take_while(|&i| i == 0 || s[i - 1] != b'/')
            .any(|i| glob(&p[1..], &s[i..])),
        b'?' => !s.is_empty() && s[0] != b'/' && glob(&p[1..], &s[1..]),
        c => !s.is_empty() && s[0] == c && glob(&p[1..], &s[1..]),
    }
}

/// Whether `path` falls under any of `patterns`; returns the first that matches.
pub fn matches_any<'a>(patterns: &'a [String], path: &str) -> Option<&'a str> {
    patterns
        .iter()
        .find(|p| matches_pattern(p, path))
        .map(|s| s.as_str())
}

/// Test files by the usual conventions: `tests/`, `test_*.py`, `*_test.go`,
/// `*.test.ts`, `*.spec.js`, `src/**/tests.rs`, `FooTest.java`, `*_spec.rb`, ...
pub fn is_test_path(path: &str) -> bool {
    let path = norm(path);
    let comps: Vec<&str> = path.split('/').collect();
    let (dirs, name) = comps.split_at(comps.len() - 1);
    let name = name[0];
    if dirs.iter().any(|d| {
        matches!(
            *d,
            "tests"
                | "test"
                | "__tests__"
                | "spec"
                | "specs"
                | "testdata"
                | "testing"
                | "e2e"
                | "__mocks__"
                | "fixtures"
        )
    }) {
        return true;
    }
    let lower = name.to_ascii_lowercase();
    let st = stem(&lower);
    st.starts_with("test_")
        || st.ends_with("_test")
        || st.ends_with("_tests")
        || st.ends_with("_spec")
        || st.ends_with(".test")
        || st.ends_with(".spec")
        || st == "tests"
        || st == "test"
        || st == "conftest"
        || (lower.ends_with(".java")
            || lower.ends_with(".kt")
            || lower.ends_with(".cs")
            || lower.ends_with(".swift"))
            && (stem(name).ends_with("Test") || stem(name).ends_with("Tests"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_patterns_from_plan_entries() {
        let e: Vec<String> = [
            "`internal/auth/service.go` — add SSO check",
            "internal/tenant/ (all files)",
            "auth",
            "Refactoring the billing flow, e.g. invoices",
            "crate::engine::state",
            "./docs/x.md,",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            patterns_of(&e),
            [
                "auth",
                "docs/x.md",
                "engine/state",
                "internal/auth/service.go",
                "internal/tenant/"
            ]
        );
    }

    #[test]
    fn matching_rules() {
        assert!(matches_pattern("src/a.rs", "src/a.rs"));
        assert!(matches_pattern("./src/a.rs", "src/a.rs"));
        assert!(matches_pattern("src", "src/a/b.rs"));
        assert!(matches_pattern("src/", "src/a/b.rs"));
        assert!(!matches_pattern("src", "srcx/a.rs"));
        assert!(matches_pattern("src/*.rs", "src/a.rs"));
        assert!(!matches_pattern("src/*.rs", "src/a/b.py"));
        assert!(matches_pattern("src/*", "src/a/b.py"));
        assert!(matches_pattern("src/**/*.py", "src/a/b/c.py"));
        assert!(matches_pattern("**/*.md", "README.md"));
        assert!(matches_pattern("auth", "internal/auth/handler.go"));
        assert!(matches_pattern("handler", "internal/auth/handler.go"));
        assert!(!matches_pattern("auth", "internal/author/handler.go"));
        assert!(matches_pattern("engine/state", "src/engine/state.rs"));
        assert!(matches_pattern(
            "auth/handler.go",
            "internal/auth/handler.go"
        ));
        assert!(matches_pattern("Cargo.toml", "crates/x/Cargo.toml"));
    }

    #[test]
    fn test_paths() {
        for p in [
            "tests/e2e.rs",
            "pkg/x_test.go",
            "app/test_views.py",
            "web/a.test.ts",
            "src/engine/tests.rs",
            "a/FooTest.java",
            "spec/x_spec.rb",
            "src/__tests__/a.js",
        ] {
            assert!(is_test_path(p), "{p}");
        }
        for p in [
            "src/lib.rs",
            "pkg/x.go",
            "app/views.py",
            "web/a.ts",
            "src/testament.rs",
            "src/latest.py",
        ] {
            assert!(!is_test_path(p), "{p}");
        }
    }
}
