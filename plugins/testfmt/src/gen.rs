//! Generators of large test reports (JUnit XML, `go test -json`) for benchmarks and
//! memory tests: deterministic, written straight to a file, about 500 bytes per test.

use std::io::{self, Write};

/// Writes a JUnit XML report of `n` test cases (every 100th fails, every 50th is skipped),
/// about 500 bytes per case: 100,000 cases make about 50 MB.
pub fn junit<W: Write>(w: &mut W, n: usize) -> io::Result<()> {
    writeln!(w, r#"<?xml version="1.0" encoding="utf-8"?>"#)?;
    writeln!(
        w,
        r#"<testsuites name="generated"><testsuite name="generated" tests="{n}">"#
    )?;
    for i in 0..n {
        let m = i / 1000;
        write!(
            w,
            r#"<testcase classname="tests.module_{m:05}.TestGenerated" name="test_case_{i:07}_checks_something_reasonable" file="tests/module_{m:05}.py" line="{}" time="0.001">"#,
            i % 1000 * 7
        )?;
        if i % 100 == 99 {
            write!(
                w,
                r#"<failure message="assert {i} == {} &amp; more">def test_case_{i:07}():
&gt;       assert compute({i}) == {}
E       AssertionError: values differ &lt;got {i}&gt; (this line pads the failure to a realistic size)
E       where the left side came from compute() and the right side from the fixture table

tests/module_{m:05}.py:{}: AssertionError</failure>"#,
                i + 1,
                i + 1,
                i % 1000 * 7 + 2
            )?;
        } else if i % 50 == 49 {
            write!(
                w,
                r#"<skipped type="pytest.skip" message="not on this platform" />"#
            )?;
        }
        write!(
            w,
            "<system-out>log line one for case {i}: starting the check with a few words of context\nlog line two for case {i}: finished; values were within the expected range &amp; fine\nlog line three for case {i:07}: teardown released the temporary directory, the database handle and two sockets cleanly</system-out>"
        )?;
        writeln!(w, "</testcase>")?;
    }
    writeln!(w, "</testsuite></testsuites>")
}

/// Writes a `go test -json` stream of `n` tests spread over 8 packages whose events
/// interleave (as parallel packages do); every 100th test fails, every 50th skips.
/// About 500 bytes per test: 100,000 tests make about 50 MB.
pub fn gotest<W: Write>(w: &mut W, n: usize) -> io::Result<()> {
    const PKGS: usize = 8;
    let t = "2026-01-01T00:00:00.000000000Z";
    for i in 0..n {
        let pkg = format!("example.com/big/pkg{}", i % PKGS);
        let name = format!("TestGenerated{i:07}");
        writeln!(
            w,
            r#"{{"Time":"{t}","Action":"run","Package":"{pkg}","Test":"{name}"}}"#
        )?;
        writeln!(
            w,
            r#"{{"Time":"{t}","Action":"output","Package":"{pkg}","Test":"{name}","Output":"=== RUN   {name}\n"}}"#
        )?;
        let (word, act) = if i % 100 == 99 {
            writeln!(
                w,
                r#"{{"Time":"{t}","Action":"output","Package":"{pkg}","Test":"{name}","Output":"    gen_test.go:{}: got {i}, want {} (\"quoted\" detail)\n"}}"#,
                i % 1000 + 10,
                i + 1
            )?;
            ("FAIL", "fail")
        } else if i % 50 == 49 {
            ("SKIP", "skip")
        } else {
            ("PASS", "pass")
        };
        writeln!(
            w,
            r#"{{"Time":"{t}","Action":"output","Package":"{pkg}","Test":"{name}","Output":"--- {word}: {name} (0.00s)\n"}}"#
        )?;
        writeln!(
            w,
            r#"{{"Time":"{t}","Action":"{act}","Package":"{pkg}","Test":"{name}","Elapsed":0.001}}"#
        )?;
    }
    for p in 0..PKGS {
        let pkg = format!("example.com/big/pkg{p}");
        writeln!(
            w,
            r#"{{"Time":"{t}","Action":"output","Package":"{pkg}","Output":"FAIL\n"}}"#
        )?;
        writeln!(
            w,
            r#"{{"Time":"{t}","Action":"fail","Package":"{pkg}","Elapsed":1.5}}"#
        )?;
    }
    Ok(())
}

/// Expected counts for `n` generated tests: (passed, failed, skipped).
pub fn expected(n: usize) -> (u32, u32, u32) {
    let failed = (0..n).filter(|i| i % 100 == 99).count() as u32;
    let skipped = (0..n).filter(|i| i % 100 != 99 && i % 50 == 49).count() as u32;
    (n as u32 - failed - skipped, failed, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_reports_parse_to_the_expected_counts() {
        let n = 1000;
        let (p, f, s) = expected(n);
        let mut buf = Vec::new();
        junit(&mut buf, n).unwrap();
        assert!(buf.len() > 400 * n, "{} bytes", buf.len());
        let mut res = crate::junit::JunitResult::default();
        crate::junit::parse(&buf[..], crate::junit::Style::Pytest, &mut res).unwrap();
        assert_eq!(
            (res.counts.passed, res.counts.failed, res.counts.skipped),
            (p, f, s)
        );
        let first = &res.failures.list[0];
        assert_eq!(
            first.name,
            "tests/module_00000.py::TestGenerated::test_case_0000099_checks_something_reasonable"
        );
        assert_eq!(first.message, "assert 99 == 100 & more");
        assert_eq!(
            (first.path.as_deref(), first.line),
            (Some("tests/module_00000.py"), Some(695))
        );
        assert!(first.output.contains("log line two for case 99"));

        let mut buf = Vec::new();
        gotest(&mut buf, n).unwrap();
        assert!(buf.len() > 400 * n, "{} bytes", buf.len());
        let mut parser = crate::gotest::Parser::new(Some("example.com/big".into()), None);
        parser.read(&buf[..]).unwrap();
        let res = parser.finish();
        assert_eq!(
            (res.counts.passed, res.counts.failed, res.counts.skipped),
            (p, f, s)
        );
        assert_eq!(res.packages_failed.len(), 8);
        let first = &res.failures.list[0];
        assert_eq!(first.message, "got 99, want 100 (\"quoted\" detail)");
        assert_eq!(
            (first.path.as_deref(), first.line),
            (Some("pkg3/gen_test.go"), Some(109))
        );
    }
}
