//! Streaming JUnit XML reader (quick-xml): counts and failures of every `<testcase>`,
//! for pytest, cargo nextest, jest, maven surefire and anything else writing the de-facto schema.

use crate::{capped, push_capped, Failures, MAX_MESSAGE, MAX_OUTPUT};
use planexec_pdk::{TestCounts, TestFailure};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use std::io::BufRead;

/// How to name tests and locate failures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Style {
    /// `classname.name` (or `name` when there is no classname).
    #[default]
    Generic,
    /// pytest node ids `tests/test_x.py::Class::test_y`, from xunit1 `file` or the classname.
    Pytest,
}

/// Everything read from one or more JUnit files.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct JunitResult {
    pub counts: TestCounts,
    pub failures: Failures,
    pub cases: u64,
    /// Every `<testcase>` as a test case (a pytest teardown error of a failed test joins it).
    pub listed: crate::Cases,
    /// pytest: `(classname, name)` of the last test case, to tell a teardown error of a test
    /// that already failed (a second `<testcase>` element) from one of a test that passed.
    prev: Option<(String, String)>,
}

#[derive(Default)]
struct Case {
    classname: String,
    name: String,
    file: Option<String>,
    line: Option<u32>,
    time: Option<f64>,
    /// 0 none, 1 skipped, 2 failure, 3 error (the worst child wins).
    kind: u8,
    /// `<failure>` children: pytest 9 writes one per failed subtest plus one for the test.
    failures: u32,
    /// An `<error>` whose message starts `failed on teardown`: pytest ran the test itself.
    teardown: bool,
    message: String,
    text: String,
    out: String,
}

#[derive(PartialEq)]
enum Sink {
    None,
    Text,
    Out,
}

/// Parses one JUnit XML stream into `acc` (call again for more files).
pub fn parse<R: BufRead>(reader: R, style: Style, acc: &mut JunitResult) -> Result<(), String> {
    let mut rd = Reader::from_reader(reader);
    let mut buf = Vec::with_capacity(8 * 1024);
    let mut case: Option<Case> = None;
    let mut sink = Sink::None;
    let mut depth_in_child = 0u32;
    loop {
        buf.clear();
        let ev = rd
            .read_event_into(&mut buf)
            .map_err(|e| format!("JUnit XML: {e} at byte {}", rd.buffer_position()))?;
        match ev {
            Event::Start(e) => {
                let n = e.local_name();
                match (n.as_ref(), case.as_mut()) {
                    ("testcase", _) => case = Some(start_case(&e)),
                    (kind @ ("failure" | "error" | "skipped"), Some(c)) => {
                        child(c, kind, &e);
                        sink = if kind == "skipped" {
                            Sink::None
                        } else {
                            Sink::Text
                        };
                        depth_in_child = 1;
                    }
                    ("system-out" | "system-err", Some(c)) => {
                        let _ = c;
                        sink = Sink::Out;
                        depth_in_child = 1;
                    }
                    _ if depth_in_child > 0 => depth_in_child += 1,
                    _ => {}
                }
            }
            Event::Empty(e) => {
                let n = e.local_name();
                match (n.as_ref(), case.as_mut()) {
                    ("testcase", _) => finish(start_case(&e), style, acc),
                    (kind @ ("failure" | "error" | "skipped"), Some(c)) => child(c, kind, &e),
                    _ => {}
                }
            }
            Event::End(e) => {
                let n = e.local_name();
                if n.as_ref() == "testcase" {
                    if let Some(c) = case.take() {
                        finish(c, style, acc);
                    }
                    sink = Sink::None;
                    depth_in_child = 0;
                } else if depth_in_child > 0 {
                    depth_in_child -= 1;
                    if depth_in_child == 0 {
                        sink = Sink::None;
                    }
                }
            }
            Event::Text(t) => add_text(&mut case, &sink, &t.xml10_content()),
            Event::CData(t) => add_text(&mut case, &sink, &t.xml10_content()),
            Event::GeneralRef(r) => {
                let s: String = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => quick_xml::escape::resolve_xml_entity(&r)
                        .unwrap_or("")
                        .to_string(),
                };
                add_text(&mut case, &sink, &s);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(())
}

fn add_text(case: &mut Option<Case>, sink: &Sink, s: &str) {
    let Some(c) = case.as_mut() else { return };
    match sink {
        Sink::Text => push_capped(&mut c.text, s, MAX_OUTPUT),
        Sink::Out => push_capped(&mut c.out, s, MAX_OUTPUT),
        Sink::None => {}
    }
}

fn attr(e: &BytesStart, key: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == key)
        .map(|a| {
            #[allow(deprecated)]
            let v = a
                .unescape_value()
                .map(|v| v.into_owned())
                .unwrap_or_else(|_| a.value.to_string());
            v
        })
}

fn start_case(e: &BytesStart) -> Case {
    Case {
        classname: attr(e, "classname").unwrap_or_default(),
        name: attr(e, "name").unwrap_or_default(),
        file: attr(e, "file").filter(|f| !f.is_empty()),
        line: attr(e, "line").and_then(|l| l.parse().ok()),
        time: attr(e, "time").and_then(|t| t.parse().ok()),
        ..Default::default()
    }
}

fn child(c: &mut Case, kind: &str, e: &BytesStart) {
    let k = match kind {
        "skipped" => 1,
        "failure" => 2,
        _ => 3,
    };
    if k == 2 {
        c.failures += 1;
    }
    if k == 3 && attr(e, "message").is_some_and(|m| m.starts_with("failed on teardown")) {
        c.teardown = true;
    }
    if k > c.kind {
        c.kind = k;
        c.message = capped(&attr(e, "message").unwrap_or_default(), MAX_MESSAGE);
        c.text.clear();
    }
}

fn finish(c: Case, style: Style, acc: &mut JunitResult) {
    acc.cases += 1;
    list_case(&c, style, acc);
    if style == Style::Pytest {
        return finish_pytest(c, acc);
    }
    match c.kind {
        0 => acc.counts.passed += 1,
        1 => acc.counts.skipped += 1,
        k => {
            if k == 2 {
                acc.counts.failed += 1;
            } else {
                acc.counts.errored += 1;
            }
            if acc.failures.list.len() >= crate::MAX_FAILURES {
                acc.failures.dropped += 1;
                return;
            }
            acc.failures.push(to_failure(c, style));
        }
    }
}

/// Counts like pytest's own summary line: a test that passed but errored in teardown is
/// `1 passed, 1 error` (one `<testcase>` with the error); one that failed and errored in
/// teardown is `1 failed, 1 error` (two `<testcase>` elements, the second listed as a note on
/// the first failure); every `<failure>` of a test with subtests is one failed.
fn finish_pytest(c: Case, acc: &mut JunitResult) {
    let id = (c.classname.clone(), c.name.clone());
    let repeat = acc.prev.as_ref() == Some(&id);
    acc.prev = Some(id);
    match c.kind {
        0 => acc.counts.passed += 1,
        1 => acc.counts.skipped += 1,
        2 => {
            acc.counts.failed += c.failures.max(1);
            acc.failures.push(to_failure(c, Style::Pytest));
        }
        _ => {
            acc.counts.errored += 1;
            if c.teardown && !repeat {
                acc.counts.passed += 1;
            }
            let f = to_failure(c, Style::Pytest);
            match acc.failures.list.last_mut() {
                Some(last) if repeat && last.name == f.name => {
                    last.message.push_str("\nthen ");
                    last.message.push_str(&f.message);
                }
                _ => acc.failures.push(f),
            }
        }
    }
}

/// Adds the case to `acc.listed`; pytest's second `<testcase>` for the same test (its
/// teardown error) adds its message to the first instead.
fn list_case(c: &Case, style: Style, acc: &mut JunitResult) {
    let id = (c.classname.clone(), c.name.clone());
    if style == Style::Pytest && acc.prev.as_ref() == Some(&id) {
        if let Some(last) = acc.listed.list.last_mut() {
            last.message.push_str("\nthen ");
            last.message.push_str(&c.message);
        }
        return;
    }
    let name = test_id(c, style);
    let path = c.file.clone().or_else(|| {
        let file = name.split("::").next().filter(|f| f.ends_with(".py"))?;
        Some(file.to_string())
    });
    let mut output = c.text.clone();
    if !c.out.is_empty() {
        push_capped(&mut output, &c.out, MAX_OUTPUT);
    }
    acc.listed.push(planexec_pdk::TestCase {
        name,
        classname: c.classname.clone(),
        path,
        line: c
            .line
            .map(|l| if style == Style::Pytest { l + 1 } else { l }),
        seconds: c.time.filter(|t| t.is_finite() && *t >= 0.0),
        outcome: match c.kind {
            0 => planexec_pdk::Outcome::Passed,
            1 => planexec_pdk::Outcome::Skipped,
            2 => planexec_pdk::Outcome::Failed,
            _ => planexec_pdk::Outcome::Errored,
        },
        message: c.message.clone(),
        output,
    });
}

/// pytest: classname `tests.test_calc.TestDiv` + file `tests/test_calc.py` -> `tests/test_calc.py::TestDiv::name`.
fn test_id(c: &Case, style: Style) -> String {
    match style {
        Style::Pytest => {
            // A collection error: no classname, the module's dotted name; its node id is the file.
            if c.classname.is_empty() {
                return match &c.file {
                    Some(file) => file.clone(),
                    None if !c.name.contains("::") && !c.name.contains('/') => {
                        format!("{}.py", c.name.replace('.', "/"))
                    }
                    None => c.name.clone(),
                };
            }
            if let Some(file) = &c.file {
                let module = file.trim_end_matches(".py").replace('/', ".");
                let rest = c
                    .classname
                    .strip_prefix(&module)
                    .map(|r| r.trim_start_matches('.'));
                return match rest {
                    Some("") => format!("{file}::{}", c.name),
                    Some(class) => format!("{file}::{}::{}", class.replace('.', "::"), c.name),
                    None => collected_id(&c.classname, &c.name),
                };
            }
            if c.classname.is_empty() {
                c.name.clone()
            } else {
                format!("{}::{}", c.classname, c.name)
            }
        }
        Style::Generic => {
            if c.classname.is_empty() {
                c.name.clone()
            } else {
                format!("{}.{}", c.classname, c.name)
            }
        }
    }
}

/// The node id of a test pytest collected in another module than the one defining it (a
/// method inherited from a base class in `tests/test_a.py`, collected through a subclass in
/// `tests/test_b.py`): xunit1's `file` names the definition, but the classname is pytest's
/// node id with `/` and `::` turned into dots (`tests.test_b.TestB`). The module is the part
/// before the first component that starts with an upper-case letter (pytest's `Test*`
/// classes), or the whole classname for a function.
fn collected_id(classname: &str, name: &str) -> String {
    let parts: Vec<&str> = classname.split('.').collect();
    let split = parts
        .iter()
        .skip(1)
        .position(|p| p.starts_with(|ch: char| ch.is_ascii_uppercase()))
        .map(|i| i + 1)
        .unwrap_or(parts.len());
    let module = parts[..split].join("/");
    let mut id = format!("{module}.py");
    for class in &parts[split..] {
        id.push_str("::");
        id.push_str(class);
    }
    format!("{id}::{name}")
}

/// `--tb=native`: the innermost `File "/abs/tests/test_x.py", line 12, in test_y` frame of
/// the test's own file (Python prints absolute paths there).
fn native_frame(text: &str, file: &str) -> Option<(String, u32)> {
    let mut found = None;
    for l in text.lines() {
        let Some(rest) = l.trim_start().strip_prefix("File \"") else {
            continue;
        };
        let Some((path, after)) = rest.split_once("\", line ") else {
            continue;
        };
        if path != file && !path.ends_with(&format!("/{file}")) {
            continue;
        }
        let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
        if let Ok(n) = digits.parse() {
            found = Some((file.to_string(), n));
        }
    }
    found
}

fn to_failure(c: Case, style: Style) -> TestFailure {
    let name = test_id(&c, style);
    // The location: the first `path:line:` of the traceback inside the test's own file,
    // else the last location printed, else the testcase's file/line attributes.
    let mut first_in_file = None;
    let mut last = None;
    for l in c.text.lines() {
        if let Some((p, n)) = crate::path_line_prefix(l) {
            if l.starts_with(' ') {
                continue;
            }
            if first_in_file.is_none() && c.file.as_deref() == Some(p) {
                first_in_file = Some((p.to_string(), n));
            }
            last = Some((p.to_string(), n));
        }
    }
    let native = c.file.as_deref().and_then(|f| native_frame(&c.text, f));
    let (path, line) = match first_in_file.or(native).or(last) {
        Some((p, n)) => (Some(p), Some(n)),
        None => (
            c.file.clone(),
            // pytest's xunit1 `line` is 0-based; others' is 1-based.
            c.line
                .map(|l| if style == Style::Pytest { l + 1 } else { l }),
        ),
    };
    let message = if c.message.is_empty() {
        c.text
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("failed")
            .trim()
            .to_string()
    } else {
        c.message
    };
    let mut output = c.text.trim_end().to_string();
    let out = c.out.trim();
    if !out.is_empty() {
        output.push_str("\n\n");
        output.push_str(out);
    }
    TestFailure {
        name,
        message,
        path,
        line,
        output,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(xml: &str) -> Vec<String> {
        let mut acc = JunitResult::default();
        parse(xml.as_bytes(), Style::Pytest, &mut acc).unwrap();
        acc.failures.list.iter().map(|f| f.name.clone()).collect()
    }

    #[test]
    fn a_pytest_collection_error_is_named_by_its_file() {
        let with_file = r#"<testsuite><testcase classname="" name="pkg.tests.test_io" file="pkg/tests/test_io.py"><error message="collection failure">ImportError</error></testcase></testsuite>"#;
        assert_eq!(names(with_file), ["pkg/tests/test_io.py"]);
        let without = r#"<testsuite><testcase classname="" name="pkg.tests.test_io"><error message="collection failure">x</error></testcase></testsuite>"#;
        assert_eq!(names(without), ["pkg/tests/test_io.py"]);
    }
}
