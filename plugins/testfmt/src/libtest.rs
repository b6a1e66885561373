//! Parser for the stable text output of Rust's libtest (`cargo test`): per-test lines,
//! the `test result:` summary of every test binary (summed), failure sections, compiler errors.

use crate::{push_capped, Failures, MAX_MESSAGE, MAX_OUTPUT};
use planexec_pdk::{Finding, Outcome, Severity, TestCase, TestCounts, TestFailure};
use std::io::BufRead;

/// What the test binaries printed, summed over all of them.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct LibtestResult {
    pub counts: TestCounts,
    pub failures: Failures,
    /// Every `test NAME ... ok|FAILED|ignored` line as a test case (failures with their
    /// section's message, location and output).
    pub cases: crate::Cases,
    /// Number of `test result:` summaries seen (one per test binary that ran).
    pub binaries: u32,
    /// Tests reported `FAILED` on their own line (may exceed the summaries if a binary crashed).
    pub failed_lines: u32,
}

/// Parses libtest's stdout line by line, never holding more than one failure section.
pub fn parse<R: BufRead>(mut r: R) -> std::io::Result<LibtestResult> {
    let mut res = LibtestResult::default();
    let mut section: Option<(String, String)> = None;
    let mut line = Vec::new();
    loop {
        line.clear();
        if r.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let text = String::from_utf8_lossy(&line);
        let l = text.trim_end_matches(['\n', '\r']);
        if let Some(name) = l
            .strip_prefix("---- ")
            .and_then(|s| s.strip_suffix(" stdout ----"))
        {
            close(&mut res, section.take());
            section = Some((name.to_string(), String::new()));
            continue;
        }
        if section.is_some() && (l == "failures:" || l.starts_with("test result: ")) {
            close(&mut res, section.take());
        }
        if let Some((_, buf)) = section.as_mut() {
            push_capped(buf, l, MAX_OUTPUT);
            push_capped(buf, "\n", MAX_OUTPUT);
            continue;
        }
        if let Some(rest) = l.strip_prefix("test result: ") {
            add_summary(&mut res, rest);
        } else if let Some(rest) = l.strip_prefix("test ") {
            if let Some((name, outcome)) = rest.rsplit_once(" ... ") {
                let name = test_name(name);
                list_case(&mut res, name, outcome);
                if outcome == "FAILED" {
                    res.failed_lines += 1;
                    let (path, line) = doctest_location(name);
                    res.failures.push(TestFailure {
                        name: name.to_string(),
                        message: String::new(),
                        path,
                        line,
                        output: String::new(),
                    });
                }
            }
        }
    }
    close(&mut res, section.take());
    for c in res.cases.list.iter_mut() {
        if let Some(f) = res.failures.list.iter().find(|f| f.name == c.name) {
            c.message = f.message.clone();
            c.path = f.path.clone();
            c.line = f.line;
            c.output = f.output.clone();
        }
    }
    Ok(res)
}

/// A test case from its result line: the module path is its classname (`doctests` for doc
/// tests, `crate` for tests at a crate's root).
fn list_case(res: &mut LibtestResult, name: &str, outcome: &str) {
    let outcome = match outcome {
        "ok" => Outcome::Passed,
        "FAILED" => Outcome::Failed,
        o if o.starts_with("ignored") => Outcome::Skipped,
        _ => return,
    };
    let (path, line) = doctest_location(name);
    let classname = if path.is_some() {
        "doctests".to_string()
    } else {
        name.rsplit_once("::")
            .map_or("crate", |(m, _)| m)
            .to_string()
    };
    res.cases.push(TestCase {
        name: name.to_string(),
        classname,
        path,
        line,
        seconds: None,
        outcome,
        message: String::new(),
        output: String::new(),
    });
}

/// `1 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.15s` after `ok. `/`FAILED. `.
fn add_summary(res: &mut LibtestResult, rest: &str) {
    let rest = rest.split_once(". ").map(|(_, r)| r).unwrap_or(rest);
    res.binaries += 1;
    for part in rest.split(';') {
        let mut it = part.split_whitespace();
        let (Some(n), Some(what)) = (it.next(), it.next()) else {
            continue;
        };
        let Ok(n) = n.parse::<u32>() else { continue };
        match what {
            "passed" => res.counts.passed += n,
            "failed" => res.counts.failed += n,
            "ignored" => res.counts.skipped += n,
            _ => {}
        }
    }
}

/// The test's path as libtest takes it back as a filter: without the ` - should panic`
/// and ` - compile fail` suffixes of the result line (the `---- name stdout ----` header and
/// `cargo test NAME` use the bare name).
fn test_name(name: &str) -> &str {
    [" - should panic", " - compile fail"]
        .iter()
        .find_map(|s| name.strip_suffix(s))
        .unwrap_or(name)
}

/// Doc tests are named `src/lib.rs - add (line 3)`.
pub fn doctest_location(name: &str) -> (Option<String>, Option<u32>) {
    if let Some((path, rest)) = name.split_once(" - ") {
        if let Some(n) = rest
            .rsplit_once("(line ")
            .and_then(|(_, n)| n.strip_suffix(')'))
        {
            return (Some(path.to_string()), n.parse().ok());
        }
    }
    (None, None)
}

/// Attaches a `---- name stdout ----` section to its failure: output, panic message, location.
fn close(res: &mut LibtestResult, section: Option<(String, String)>) {
    let Some((name, out)) = section else { return };
    let (message, loc) = panic_message(&out);
    let f = match res
        .failures
        .list
        .iter_mut()
        .rev()
        .find(|f| f.name == name && f.output.is_empty())
    {
        Some(f) => f,
        None => return,
    };
    let (message, loc) = match note_location(&out) {
        Some((msg, l)) if loc.is_none() => (msg, Some(l)),
        _ => (message, loc),
    };
    f.message = message;
    if let Some((p, l)) = loc {
        f.path = Some(p);
        f.line = Some(l);
    }
    f.output = out.trim_end().to_string();
}

/// The panic message and `file:line` from a failure section; handles both
/// `panicked at src/lib.rs:19:9:\nmessage` (Rust >= 1.73) and `panicked at 'message', src/lib.rs:19:9`.
pub fn panic_message(out: &str) -> (String, Option<(String, u32)>) {
    let mut lines = out.lines();
    while let Some(l) = lines.next() {
        let Some(idx) = l.find("panicked at ") else {
            continue;
        };
        let rest = &l[idx + "panicked at ".len()..];
        if let Some(old) = rest.strip_prefix('\'') {
            if let Some((msg, loc)) = old.rsplit_once("', ") {
                return (crate::capped(msg, MAX_MESSAGE), location(loc));
            }
        }
        let loc = location(rest.trim_end_matches(':'));
        let mut msg = String::new();
        for m in lines.by_ref() {
            if m.is_empty() || m.starts_with("stack backtrace:") || m.starts_with("note: ") {
                break;
            }
            if !msg.is_empty() {
                msg.push('\n');
            }
            push_capped(&mut msg, m, MAX_MESSAGE);
        }
        return (msg, loc);
    }
    let first = out
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("test failed");
    (crate::capped(first, MAX_MESSAGE), None)
}

/// libtest's `note: test did not panic as expected at src/lib.rs:29:8` (a `should_panic` test
/// that returned): the message and the test's location.
fn note_location(out: &str) -> Option<(String, (String, u32))> {
    let l = out
        .lines()
        .find_map(|l| l.strip_prefix("note: test did not panic as expected at "))?;
    Some(("test did not panic as expected".to_string(), location(l)?))
}

/// The file line of a panic inside a doc test's snippet. rustdoc compiles the snippet inside a
/// wrapper (`#![allow(unused)]`, `extern crate NAME;` when the snippet names the crate,
/// `fn main() {` when it has none), so `panicked at src/lib.rs:6:1` counts lines of that
/// wrapper. `fence` is the `(line N)` of the test's name (the opening ``` line), `source`
/// the file's text and `krate` the crate's name. `None` when the line is not inside the
/// snippet (the panic came from the crate's own code, whose lines are real).
pub fn doctest_file_line(fence: u32, panic_line: u32, source: &str, krate: &str) -> Option<u32> {
    let snippet: Vec<&str> = source
        .lines()
        .skip(fence as usize)
        .map(|l| {
            let t = l.trim_start();
            let t = t
                .strip_prefix("///")
                .or_else(|| t.strip_prefix("//!"))
                .unwrap_or(t);
            t.strip_prefix(' ').unwrap_or(t)
        })
        .take_while(|l| !l.trim_start().starts_with("```"))
        .collect();
    let code = snippet.join("\n");
    let mut preamble = 1;
    if !code.contains("extern crate") && mentions(&code, krate) {
        preamble += 2;
    }
    if !code.contains("fn main") {
        preamble += 1;
    }
    let k = panic_line
        .checked_sub(preamble)
        .filter(|k| *k >= 1 && (*k as usize) <= snippet.len())?;
    Some(fence + k)
}

/// Whether `code` uses the identifier `name` (`exact::half`), not merely a longer word.
fn mentions(code: &str, name: &str) -> bool {
    code.match_indices(name).any(|(i, _)| {
        let before = code[..i].chars().next_back();
        let after = code[i + name.len()..].chars().next();
        let ident = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        !ident(before) && !ident(after)
    })
}

/// `src/lib.rs:19:9` -> (`src/lib.rs`, 19).
fn location(s: &str) -> Option<(String, u32)> {
    let mut it = s.trim().rsplitn(3, ':');
    let _col = it.next()?;
    let line: u32 = it.next()?.parse().ok()?;
    let path = it.next()?;
    Some((path.to_string(), line))
}

/// Compiler errors from cargo's stderr: one finding per `error[...]`/`error:` block with its
/// first ` --> file:line:col`, skipping cargo's own `could not compile`/`test failed` lines.
pub fn compile_errors(stderr: &str) -> (Vec<Finding>, String) {
    let mut findings = Vec::new();
    let mut text = String::new();
    let mut cur: Option<Finding> = None;
    for l in stderr.lines() {
        if l.starts_with("error") {
            if let Some(f) = cur.take() {
                findings.push(f);
            }
            let msg = l.split_once(": ").map(|(_, m)| m).unwrap_or(l);
            let cargo_own = msg.starts_with("could not compile")
                || msg.starts_with("test failed, to rerun")
                || msg.contains(" target failed")
                || msg.contains(" targets failed")
                || l.starts_with("error: aborting");
            if !cargo_own {
                let rule = match l.strip_prefix("error[").and_then(|s| s.split_once(']')) {
                    Some((code, _)) => format!("rustc/{code}"),
                    None => "rustc/error".to_string(),
                };
                cur = Some(Finding {
                    severity: Severity::Critical,
                    rule,
                    message: msg.to_string(),
                    path: None,
                    line: None,
                    column: None,
                    end_line: None,
                    end_column: None,
                });
                push_capped(&mut text, l, MAX_OUTPUT);
                push_capped(&mut text, "\n", MAX_OUTPUT);
            }
            continue;
        }
        if let Some(f) = cur.as_mut() {
            if l.starts_with("warning") || l.starts_with("For more information") {
                findings.push(cur.take().unwrap());
                continue;
            }
            if f.path.is_none() {
                if let Some(loc) = l.trim_start().strip_prefix("--> ") {
                    let mut it = loc.rsplitn(3, ':');
                    f.column = it.next().and_then(|c| c.parse().ok());
                    f.line = it.next().and_then(|c| c.parse().ok());
                    f.path = it.next().map(str::to_string);
                }
            }
            push_capped(&mut text, l, MAX_OUTPUT);
            push_capped(&mut text, "\n", MAX_OUTPUT);
        }
    }
    if let Some(f) = cur.take() {
        findings.push(f);
    }
    (findings, text.trim_end().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_and_new_panic_formats() {
        let (m, loc) = panic_message("thread 'a' panicked at 'boom', src/x.rs:3:5\nnote: run");
        assert_eq!(
            (m.as_str(), loc),
            ("boom", Some(("src/x.rs".to_string(), 3)))
        );
        let (m, loc) =
            panic_message("thread 'a' (12) panicked at src/x.rs:4:1:\nboom\nagain\n\nnote: x");
        assert_eq!(
            (m.as_str(), loc),
            ("boom\nagain", Some(("src/x.rs".to_string(), 4)))
        );
    }

    #[test]
    fn doctest_names() {
        assert_eq!(
            doctest_location("src/lib.rs - add (line 3)"),
            (Some("src/lib.rs".into()), Some(3))
        );
    }
}
