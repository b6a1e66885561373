//! Commands that name tests (pytest node ids and `-k`, `go test -run`, `cargo test NAME`)
//! but ran none of them: a failure naming the missing test, never a pass on exit 0.

/// What the command named and found no test for, or `None` (it ran tests, or names none).
pub fn missing(program: &str, args: &[String], exit: Option<i32>, output: &str) -> Option<String> {
    let base = program.rsplit('/').next().unwrap_or(program);
    if matches!(base, "pytest" | "py.test") {
        return pytest(args, exit, output);
    }
    if base.starts_with("python") && args.len() >= 2 && args[0] == "-m" && args[1] == "pytest" {
        return pytest(&args[2..], exit, output);
    }
    match (base, args.first().map(String::as_str)) {
        ("go", Some("test")) => go_test(&args[1..], output),
        ("cargo", Some("test")) => cargo_test(&args[1..], output),
        _ => None,
    }
}

/// pytest says which node id or file it did not find; a `-k` or node id that selects
/// nothing exits 5 (no tests ran).
fn pytest(args: &[String], exit: Option<i32>, output: &str) -> Option<String> {
    for l in output.lines() {
        for head in ["ERROR: not found: ", "ERROR: file or directory not found: "] {
            if let Some(rest) = l.trim().strip_prefix(head) {
                let what = rest.split(" (no match").next().unwrap_or(rest).trim();
                return Some(format!("`{what}` does not exist"));
            }
        }
    }
    let named = args
        .iter()
        .any(|a| a.contains("::") || a == "-k" || a.starts_with("-k"));
    (named && exit == Some(5)).then(|| format!("`{}` selects no test", args.join(" ")))
}

/// `go test -run X` prints `[no tests to run]` for each package where X matched nothing.
fn go_test(args: &[String], output: &str) -> Option<String> {
    let pattern = args.iter().enumerate().find_map(|(i, a)| {
        let flag = a.trim_start_matches('-');
        match flag.split_once('=') {
            Some(("run", v)) if a.starts_with('-') => Some(v.to_string()),
            _ if flag == "run" && a.starts_with('-') => args.get(i + 1).cloned(),
            _ => None,
        }
    })?;
    let ran = output.lines().any(|l| {
        let l = l.trim_start();
        l.starts_with("=== RUN")
            || l.starts_with("--- ")
            || (l.starts_with("ok") && !l.contains("[no tests to run]"))
            || l.starts_with("FAIL")
    });
    let said_none = output.contains("no tests to run") || output.contains("[no test files]");
    (!ran && said_none).then(|| format!("`-run {pattern}` matches no test"))
}

/// `cargo test NAME`: every test binary said `running 0 tests`.
fn cargo_test(args: &[String], output: &str) -> Option<String> {
    let filters = cargo_filters(args);
    if filters.is_empty() {
        return None;
    }
    let counts: Vec<u64> = output
        .lines()
        .filter_map(|l| {
            let n = l.trim().strip_prefix("running ")?.strip_suffix(" tests")?;
            n.parse().ok()
        })
        .collect();
    let ran_one = output.lines().any(|l| l.trim() == "running 1 test");
    (!counts.is_empty() && !ran_one && counts.iter().all(|&n| n == 0))
        .then(|| format!("`{}` matches no test", filters.join(" ")))
}

/// The test-name filters of `cargo test`'s arguments: positional words before `--`,
/// and words after it that are not flags.
fn cargo_filters(args: &[String]) -> Vec<String> {
    const TAKES_VALUE: &[&str] = &[
        "-p",
        "--package",
        "--test",
        "--bin",
        "--example",
        "--bench",
        "--features",
        "-F",
        "--target",
        "--target-dir",
        "--manifest-path",
        "-j",
        "--jobs",
        "--profile",
        "--color",
        "--exclude",
        "--message-format",
        "-Z",
        "--config",
    ];
    let mut out = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--" {
            let mut skip = false;
            for b in it.by_ref() {
                if skip {
                    skip = false;
                } else if matches!(b.as_str(), "--skip" | "--test-threads" | "--format" | "-Z") {
                    skip = true;
                } else if !b.starts_with('-') {
                    out.push(b.clone());
                }
            }
            break;
        }
        if TAKES_VALUE.contains(&a.as_str()) {
            it.next();
        } else if !a.starts_with('-') {
            out.push(a.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn go_run_that_matched_nothing() {
        let out =
            "testing: warning: no tests to run\nPASS\nok  \tex/calc\t0.002s [no tests to run]\n";
        assert_eq!(
            missing(
                "go",
                &v(&["test", "-run", "TestNope", "./..."]),
                Some(0),
                out
            )
            .as_deref(),
            Some("`-run TestNope` matches no test")
        );
        let ran = "ok  \tex/calc\t0.002s\nok  \tex/other\t0.001s [no tests to run]\n";
        assert_eq!(
            missing("go", &v(&["test", "-run=TestAdd", "./..."]), Some(0), ran),
            None
        );
        assert_eq!(
            missing("go", &v(&["test", "./..."]), Some(0), out),
            None,
            "no -run: not named"
        );
    }

    #[test]
    fn cargo_filter_that_matched_nothing() {
        let none = "running 0 tests\n\ntest result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 3 filtered out\n\n   Doc-tests calc\n\nrunning 0 tests\n";
        assert_eq!(
            missing(
                "cargo",
                &v(&["test", "-p", "calc", "adds_nope"]),
                Some(0),
                none
            )
            .as_deref(),
            Some("`adds_nope` matches no test")
        );
        let one = "running 1 test\ntest adds ... ok\nrunning 0 tests\n";
        assert_eq!(missing("cargo", &v(&["test", "adds"]), Some(0), one), None);
        assert_eq!(
            missing("cargo", &v(&["test", "-p", "calc"]), Some(0), none),
            None
        );
        assert_eq!(
            cargo_filters(&v(&["--test", "it", "--", "--exact", "a::b"])),
            ["a::b"]
        );
    }

    #[test]
    fn pytest_node_that_is_not_there() {
        let out = "ERROR: not found: /ws/tests/test_x.py::test_y\n(no match in any of [<Module test_x.py>])\n";
        assert_eq!(
            missing(
                "python3",
                &v(&["-m", "pytest", "tests/test_x.py::test_y"]),
                Some(4),
                out
            )
            .as_deref(),
            Some("`/ws/tests/test_x.py::test_y` does not exist")
        );
        let k = "collected 3 items / 3 deselected\n===== 3 deselected in 0.01s =====\n";
        assert!(missing("pytest", &v(&["-k", "nope"]), Some(5), k).is_some());
        assert_eq!(missing("pytest", &v(&["-q"]), Some(0), "3 passed"), None);
    }
}
