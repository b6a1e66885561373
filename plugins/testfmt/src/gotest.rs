//! Streaming parser for `go test -json` (test2json) output: events of parallel packages
//! keyed on Package + Test, subtests, skips, build failures, panics and timeouts.

use crate::{capped, push_capped, Failures, MAX_MESSAGE, MAX_OUTPUT};
use planexec_pdk::{Outcome, TestCase, TestCounts, TestFailure};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::io::BufRead;

#[derive(Deserialize)]
struct Event {
    #[serde(rename = "Action", default)]
    action: String,
    #[serde(rename = "Package", default)]
    package: String,
    #[serde(rename = "Test", default)]
    test: Option<String>,
    #[serde(rename = "Output", default)]
    output: Option<String>,
    #[serde(rename = "Elapsed", default)]
    elapsed: Option<f64>,
    /// Go >= 1.21: `build-output` / `build-fail` events name the package here.
    #[serde(rename = "ImportPath", default)]
    import_path: Option<String>,
}

/// What a `go test -json` stream said.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct GoTestResult {
    /// Leaf tests only: a test with subtests counts through its subtests.
    /// `errored` counts packages that failed without a failing test (build failure, crash in TestMain).
    pub counts: TestCounts,
    pub failures: Failures,
    /// Every leaf test (and every package that failed outside a test) as a test case.
    pub cases: crate::Cases,
    pub packages_passed: u32,
    pub packages_failed: Vec<String>,
    /// Packages reported `[build failed]` / `[setup failed]`.
    pub build_failed: Vec<String>,
    /// Lines that were not JSON (Go 1.19 prints `FAIL pkg [build failed]` so), capped.
    pub non_json: String,
    pub lines: u64,
}

#[derive(Default)]
struct Running {
    output: String,
    has_children: bool,
    child_failed: bool,
}

/// Feed it lines of `go test -json`; memory holds only tests still running.
pub struct Parser {
    module: Option<String>,
    cwd: Option<String>,
    running: HashMap<(String, String), Running>,
    pkg_output: HashMap<String, String>,
    build_output: HashMap<String, String>,
    pkg_test_failed: HashSet<String>,
    pub result: GoTestResult,
}

impl Parser {
    /// `module` is the module path from go.mod (to map packages to directories), `cwd` the
    /// workspace-relative directory go ran in.
    pub fn new(module: Option<String>, cwd: Option<String>) -> Self {
        Parser {
            module,
            cwd,
            running: HashMap::new(),
            pkg_output: HashMap::new(),
            build_output: HashMap::new(),
            pkg_test_failed: HashSet::new(),
            result: GoTestResult::default(),
        }
    }

    /// Reads a whole stream.
    pub fn read<R: BufRead>(&mut self, mut r: R) -> std::io::Result<()> {
        let mut buf = Vec::with_capacity(4096);
        loop {
            buf.clear();
            if r.read_until(b'\n', &mut buf)? == 0 {
                return Ok(());
            }
            self.line(&buf);
        }
    }

    pub fn line(&mut self, raw: &[u8]) {
        self.result.lines += 1;
        let trimmed = raw.trim_ascii();
        if trimmed.is_empty() {
            return;
        }
        let ev: Event = match trimmed.first() {
            Some(b'{') => match serde_json::from_slice(trimmed) {
                Ok(e) => e,
                Err(_) => return self.non_json(&String::from_utf8_lossy(trimmed)),
            },
            _ => return self.non_json(&String::from_utf8_lossy(trimmed)),
        };
        let pkg = ev.package;
        match (ev.action.as_str(), ev.test) {
            ("run", Some(t)) => {
                if let Some(p) = self.parent_mut(&pkg, &t) {
                    p.has_children = true;
                }
                self.running.entry((pkg, t)).or_default();
            }
            ("output", Some(t)) => {
                let r = self.running.entry((pkg, t)).or_default();
                push_capped(
                    &mut r.output,
                    ev.output.as_deref().unwrap_or(""),
                    MAX_OUTPUT,
                );
            }
            ("output", None) => {
                let o = self.pkg_output.entry(pkg).or_default();
                push_capped(o, ev.output.as_deref().unwrap_or(""), MAX_OUTPUT);
            }
            ("build-output", _) => {
                let ip = ev.import_path.unwrap_or_default();
                let key = ip.split(" [").next().unwrap_or("").to_string();
                push_capped(
                    self.build_output.entry(key).or_default(),
                    ev.output.as_deref().unwrap_or(""),
                    MAX_OUTPUT,
                );
            }
            (act @ ("pass" | "fail" | "skip"), Some(t)) => self.test_done(pkg, t, act, ev.elapsed),
            (act @ ("pass" | "fail" | "skip"), None) => self.package_done(pkg, act),
            _ => {}
        }
    }

    /// The nearest running test that `test` is a subtest of: `TestX/a/b` is a
    /// subtest of `TestX/a` if that runs, else of `TestX` (`t.Run("a/b", ...)`:
    /// a subtest name may itself hold slashes).
    fn parent_mut(&mut self, pkg: &str, test: &str) -> Option<&mut Running> {
        let cuts: Vec<usize> = test.match_indices('/').map(|(i, _)| i).collect();
        let key = cuts
            .iter()
            .rev()
            .map(|&i| (pkg.to_string(), test[..i].to_string()))
            .find(|k| self.running.contains_key(k))?;
        self.running.get_mut(&key)
    }

    fn non_json(&mut self, line: &str) {
        push_capped(&mut self.result.non_json, line, MAX_OUTPUT);
        push_capped(&mut self.result.non_json, "\n", MAX_OUTPUT);
        // `FAIL\texample.com/x [build failed]`
        if let Some(rest) = line.strip_prefix("FAIL") {
            let rest = rest.trim();
            for tag in [" [build failed]", " [setup failed]"] {
                if let Some(pkg) = rest.strip_suffix(tag) {
                    let pkg = pkg.trim().to_string();
                    if !self.result.build_failed.contains(&pkg) {
                        self.result.build_failed.push(pkg.clone());
                        self.result.packages_failed.push(pkg.clone());
                        self.result.counts.errored += 1;
                        let msg = self.build_output.remove(&pkg).unwrap_or_default();
                        self.push_build_failure(&pkg, &msg);
                        let f = self.result.failures.list.last().cloned();
                        self.list(&pkg, "", Outcome::Errored, f.as_ref(), &msg, None);
                    }
                }
            }
        }
    }

    fn test_done(&mut self, pkg: String, test: String, act: &str, elapsed: Option<f64>) {
        let key = (pkg, test);
        let run = self.running.remove(&key).unwrap_or_default();
        let (pkg, test) = key;
        if act == "fail" {
            if let Some(p) = self.parent_mut(&pkg, &test) {
                p.child_failed = true;
            }
        }
        // A parent counts through its subtests, unless it failed on its own.
        if run.has_children && !(act == "fail" && !run.child_failed) {
            return;
        }
        match act {
            "pass" => {
                self.result.counts.passed += 1;
                self.list(&pkg, &test, Outcome::Passed, None, &run.output, elapsed);
            }
            "skip" => {
                self.result.counts.skipped += 1;
                self.list(&pkg, &test, Outcome::Skipped, None, &run.output, elapsed);
            }
            _ => {
                self.result.counts.failed += 1;
                self.pkg_test_failed.insert(pkg.clone());
                let f = self.failure(&pkg, &test, &run.output, None);
                self.list(&pkg, &test, Outcome::Failed, Some(&f), "", elapsed);
                self.result.failures.push(f);
            }
        }
    }

    /// Lists one test case; a failure gives it its message, location and output.
    fn list(
        &mut self,
        pkg: &str,
        test: &str,
        outcome: Outcome,
        f: Option<&TestFailure>,
        output: &str,
        seconds: Option<f64>,
    ) {
        self.result.cases.push(TestCase {
            name: if test.is_empty() { pkg } else { test }.to_string(),
            classname: pkg.to_string(),
            path: f.and_then(|f| f.path.clone()),
            line: f.and_then(|f| f.line),
            seconds: seconds.filter(|s| s.is_finite() && *s >= 0.0),
            outcome,
            message: f.map(|f| f.message.clone()).unwrap_or_default(),
            output: f
                .map_or(output, |f| f.output.as_str())
                .trim_end()
                .to_string(),
        });
    }

    fn package_done(&mut self, pkg: String, act: &str) {
        let out = self.pkg_output.remove(&pkg).unwrap_or_default();
        // Tests still running when their package ended: a panic or a timeout killed them.
        let mut stuck: Vec<(String, Running)> = Vec::new();
        let keys: Vec<_> = self
            .running
            .keys()
            .filter(|(p, _)| *p == pkg)
            .cloned()
            .collect();
        for k in keys {
            let r = self.running.remove(&k).unwrap();
            stuck.push((k.1, r));
        }
        match act {
            "pass" => self.result.packages_passed += 1,
            "skip" => {}
            _ => {
                self.result.packages_failed.push(pkg.clone());
                stuck.sort_by(|a, b| a.0.cmp(&b.0));
                let mut any = false;
                for (test, r) in stuck {
                    if r.has_children {
                        continue;
                    }
                    any = true;
                    self.result.counts.failed += 1;
                    let why = if r.output.contains("panic: test timed out") {
                        Some("test timed out (the package's -timeout)")
                    } else {
                        Some("test did not finish (the test binary crashed)")
                    };
                    let f = self.failure(&pkg, &test, &r.output, why);
                    self.list(&pkg, &test, Outcome::Failed, Some(&f), "", None);
                    self.result.failures.push(f);
                }
                if !any && !self.pkg_test_failed.contains(&pkg) {
                    let build = self.build_output.remove(&pkg);
                    if let Some(b) = build {
                        self.result.build_failed.push(pkg.clone());
                        self.result.counts.errored += 1;
                        self.push_build_failure(&pkg, &b);
                        let f = self.result.failures.list.last().cloned();
                        self.list(&pkg, "", Outcome::Errored, f.as_ref(), &b, None);
                    } else {
                        self.result.counts.errored += 1;
                        let f =
                            self.failure(&pkg, "", &out, Some("package failed outside any test"));
                        self.list(&pkg, "", Outcome::Errored, Some(&f), "", None);
                        self.result.failures.push(f);
                    }
                }
            }
        }
        self.pkg_test_failed.remove(&pkg);
    }

    /// A build failure of `pkg` with the compiler's message (may be empty until merged with stderr).
    fn push_build_failure(&mut self, pkg: &str, msg: &str) {
        let (path, line) = first_location(msg)
            .map(|(p, l)| (Some(crate::ws_rel(self.cwd.as_deref(), &p)), Some(l)))
            .unwrap_or((None, None));
        let first = msg
            .lines()
            .find(|l| !l.starts_with('#') && !l.trim().is_empty())
            .unwrap_or("");
        self.result.failures.push(TestFailure {
            name: pkg.to_string(),
            message: if first.is_empty() {
                "build failed".into()
            } else {
                format!("build failed: {}", first.trim())
            },
            path,
            line,
            output: msg.trim_end().to_string(),
        });
    }

    /// The directory of `pkg`, workspace-relative, when it is in the module.
    pub fn package_dir(&self, pkg: &str) -> Option<String> {
        let m = self.module.as_deref()?;
        let rel = if pkg == m {
            ""
        } else {
            pkg.strip_prefix(m)?.strip_prefix('/')?
        };
        let c = self.cwd.as_deref().unwrap_or("").trim_matches('/');
        Some(match (c.is_empty() || c == ".", rel.is_empty()) {
            (true, _) => rel.to_string(),
            (false, true) => c.to_string(),
            (false, false) => format!("{c}/{rel}"),
        })
    }

    fn failure(&self, pkg: &str, test: &str, output: &str, why: Option<&str>) -> TestFailure {
        let mut message = example_mismatch(output).unwrap_or_default();
        let mut loc: Option<(String, u32)> = None;
        let mut lines = output.lines().peekable();
        while let Some(l) = lines.next() {
            let t = l.trim();
            if t.is_empty() || t.starts_with("=== ") || t.starts_with("--- ") {
                continue;
            }
            // `    calc_test.go:22: Sub(1, 3) = -2, want 2`
            if let Some((file, n)) = crate::path_line_prefix(t) {
                if file.ends_with(".go") && !file.contains('/') {
                    if message.is_empty() {
                        let after = t.splitn(3, ':').nth(2).unwrap_or("").trim();
                        message = after.to_string();
                        loc = Some((file.to_string(), n));
                    }
                    continue;
                }
            }
            if message.is_empty() && !t.starts_with("FAIL") && !t.starts_with("exit status") {
                message = t.to_string();
            }
            // Panic stack: the first frame in this package, then `\t/abs/path/x_test.go:9 +0x2e`.
            if loc.is_none() && t.starts_with(&format!("{pkg}.")) {
                if let Some(frame) = lines.peek() {
                    let f = frame.trim();
                    let f = f.split(" +0x").next().unwrap_or(f);
                    if let Some((path, n)) = f.rsplit_once(':') {
                        if let Ok(n) = n.parse() {
                            let base = path.rsplit('/').next().unwrap_or(path);
                            loc = Some((base.to_string(), n));
                        }
                    }
                }
            }
        }
        if let Some(w) = why {
            message = if message.is_empty() {
                w.to_string()
            } else {
                format!("{w}: {message}")
            };
        }
        if message.is_empty() {
            message = "failed".into();
        }
        let (path, line) = match (loc, self.package_dir(pkg)) {
            (Some((f, n)), Some(d)) if d.is_empty() => (Some(f), Some(n)),
            (Some((f, n)), Some(d)) => (Some(format!("{d}/{f}")), Some(n)),
            (Some((f, n)), None) => (Some(f), Some(n)),
            (None, _) => (None, None),
        };
        TestFailure {
            name: if test.is_empty() {
                pkg.to_string()
            } else {
                format!("{pkg}::{test}")
            },
            message: capped(&message, MAX_MESSAGE),
            path,
            line,
            output: output.trim_end().to_string(),
        }
    }

    pub fn finish(mut self) -> GoTestResult {
        // Packages whose stream ended mid-way (go killed): remaining tests did not finish.
        let pkgs: HashSet<String> = self.running.keys().map(|(p, _)| p.clone()).collect();
        let mut pkgs: Vec<_> = pkgs.into_iter().collect();
        pkgs.sort();
        for p in pkgs {
            self.package_done(p, "fail");
        }
        self.result
    }
}

/// The first `path:line` of a compiler message.
/// A failing `Example`'s output `got:\n6\nwant:\n7\n` as one message, `got: 6; want: 7` (each
/// block on its lines when longer).
fn example_mismatch(output: &str) -> Option<String> {
    let lines: Vec<&str> = output
        .lines()
        .filter(|l| !l.starts_with("=== ") && !l.starts_with("--- "))
        .collect();
    let got = lines.iter().position(|l| l.trim() == "got:")?;
    let want = got + lines[got..].iter().position(|l| l.trim() == "want:")?;
    let block = |b: &[&str]| {
        let text = b.join("\n");
        if b.len() == 1 {
            text
        } else {
            format!("\n{text}\n")
        }
    };
    let end = lines[want + 1..]
        .iter()
        .position(|l| l.starts_with("FAIL") || l.starts_with("exit status"))
        .map_or(lines.len(), |i| want + 1 + i);
    Some(format!(
        "got: {}; want: {}",
        block(&lines[got + 1..want]),
        block(&lines[want + 1..end])
    ))
}

fn first_location(msg: &str) -> Option<(String, u32)> {
    msg.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| crate::path_line_prefix(l).map(|(p, n)| (p.to_string(), n)))
}

/// Go 1.19 prints build errors on stderr, in blocks headed `# pkg` or `# pkg [pkg.test]`.
/// Returns (package, message) pairs.
pub fn build_errors(stderr: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for l in stderr.lines() {
        if let Some(h) = l.strip_prefix("# ") {
            let pkg = h.split(" [").next().unwrap_or(h).trim().to_string();
            out.push((pkg, String::new()));
        } else if let Some((_, m)) = out.last_mut() {
            push_capped(m, l, MAX_OUTPUT);
            push_capped(m, "\n", MAX_OUTPUT);
        }
    }
    out
}

/// Gives build failures their compiler message from stderr (Go < 1.21).
pub fn merge_build_errors(res: &mut GoTestResult, stderr: &str, cwd: Option<&str>) {
    for (pkg, msg) in build_errors(stderr) {
        if let Some(f) = res
            .failures
            .list
            .iter_mut()
            .find(|f| f.name == pkg && f.output.is_empty())
        {
            let first = msg.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            f.message = format!("build failed: {}", first.trim());
            if let Some((p, n)) = first_location(&msg) {
                f.path = Some(crate::ws_rel(cwd, &p));
                f.line = Some(n);
            }
            f.output = msg.trim_end().to_string();
        }
    }
}

/// The module path from a go.mod text.
pub fn module_path(go_mod: &str) -> Option<String> {
    go_mod.lines().find_map(|l| {
        l.trim()
            .strip_prefix("module ")
            .map(|m| m.trim().trim_matches('"').to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(lines: &[&str]) -> GoTestResult {
        let mut p = Parser::new(Some("example.com/m".into()), None);
        for l in lines {
            p.line(l.as_bytes());
        }
        p.finish()
    }

    #[test]
    fn a_subtest_whose_name_holds_a_slash_is_its_parents_leaf() {
        let ev = |a: &str, t: &str| {
            format!(r#"{{"Action":"{a}","Package":"example.com/m","Test":"{t}"}}"#)
        };
        let lines = [
            ev("run", "TestPaths"),
            ev("run", "TestPaths/a/b"),
            r#"{"Action":"output","Package":"example.com/m","Test":"TestPaths/a/b","Output":"    p_test.go:9: got 1\n"}"#.to_string(),
            ev("fail", "TestPaths/a/b"),
            ev("run", "TestPaths/c"),
            ev("pass", "TestPaths/c"),
            ev("fail", "TestPaths"),
            r#"{"Action":"fail","Package":"example.com/m"}"#.to_string(),
        ];
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let r = feed(&refs);
        assert_eq!((r.counts.passed, r.counts.failed), (1, 1), "{r:#?}");
        assert_eq!(
            r.failures.list.len(),
            1,
            "no phantom parent failure: {:#?}",
            r.failures.list
        );
        assert_eq!(r.failures.list[0].name, "example.com/m::TestPaths/a/b");
        assert_eq!(r.failures.list[0].line, Some(9));
    }
}
