//! The command that reruns exactly one failed test of a standard test gate, from the
//! failure's name: each runner's own filter, escaped and anchored, shell-quoted.

/// `None` for gates whose names are not tests (or a name of another shape).
pub fn command(plugin: &str, name: &str) -> Option<String> {
    match plugin {
        "pytest" => Some(format!("python3 -m pytest {}", quote(name))),
        "vitest" => Some(js("npx vitest run", "", name)),
        "jest" => Some(js("npx jest", "--runTestsByPath ", name)),
        "go-test" => go(name),
        "cargo-test" => Some(cargo(name)),
        _ => None,
    }
}

/// `src/a.test.js > describe > test`: the file, then `-t` with the full title (the
/// runners join the titles with a space) as an anchored, escaped JavaScript regex.
fn js(runner: &str, by_path: &str, name: &str) -> String {
    let mut parts = name.split(" > ");
    let file = parts.next().unwrap_or(name);
    let titles: Vec<&str> = parts.collect();
    let mut cmd = format!("{runner} {by_path}{}", quote(file));
    if !titles.is_empty() {
        let pattern = format!("^{}$", escape_regex(&titles.join(" ")));
        cmd.push_str(&format!(" -t {}", quote(&pattern)));
    }
    cmd
}

/// `example.com/m/calc::TestAdd/case_1`: `go test -run '^TestAdd$/^case_1$' PACKAGE`
/// (go matches each slash-separated level on its own).
fn go(name: &str) -> Option<String> {
    let (pkg, test) = name.rsplit_once("::")?;
    let levels: Vec<String> = test
        .split('/')
        .map(|l| format!("^{}$", escape_regex(l)))
        .collect();
    Some(format!(
        "go test -run {} {}",
        quote(&levels.join("/")),
        quote(pkg)
    ))
}

/// libtest's exact filter; a doc test's name holds spaces, which rustdoc splits
/// filters on, so the package's doc tests rerun together.
fn cargo(name: &str) -> String {
    if name.contains(" - ") && name.contains("(line ") {
        return "cargo test --doc".into();
    }
    format!("cargo test -- --exact {}", quote(name))
}

/// Every character a JavaScript or RE2 regex treats specially, backslashed.
pub fn escape_regex(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\^$.|?*+()[]{}/".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A POSIX shell word: bare when safe, else single-quoted.
pub fn quote(s: &str) -> String {
    let safe = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+".contains(c));
    if safe {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn javascript_titles_are_anchored_and_escaped() {
        assert_eq!(
            command("vitest", "src/a.test.js > math (fast) > adds [1+2]*3").unwrap(),
            "npx vitest run src/a.test.js -t '^math \\(fast\\) adds \\[1\\+2\\]\\*3$'"
        );
        assert_eq!(
            command("jest", "src/it's.test.js > a.b").unwrap(),
            "npx jest --runTestsByPath 'src/it'\\''s.test.js' -t '^a\\.b$'"
        );
        assert_eq!(
            command("vitest", "src/broken.test.js").unwrap(),
            "npx vitest run src/broken.test.js"
        );
    }

    #[test]
    fn go_levels_are_anchored_one_by_one() {
        assert_eq!(
            command("go-test", "example.com/m/calc::TestDiv/by_zero.case").unwrap(),
            "go test -run '^TestDiv$/^by_zero\\.case$' example.com/m/calc"
        );
        assert_eq!(command("go-test", "no-separator"), None);
    }

    #[test]
    fn pytest_and_cargo_names_are_quoted_whole() {
        assert_eq!(
            command("pytest", "tests/test_x.py::test_y[a b-1]").unwrap(),
            "python3 -m pytest 'tests/test_x.py::test_y[a b-1]'"
        );
        assert_eq!(
            command("cargo-test", "tests::adds").unwrap(),
            "cargo test -- --exact tests::adds"
        );
        assert_eq!(
            command("cargo-test", "src/lib.rs - add (line 5)").unwrap(),
            "cargo test --doc"
        );
        assert_eq!(command("ruff", "x"), None);
    }
}
