//! The `junit-report` formatter: JUnit XML with the plan's tasks and gates as
//! test cases, for CI test reporters (Jenkins, GitLab, GitHub test-report actions).
//!
//! Suite `tasks` (a case per task: failure when blocked, skipped when not run),
//! then a suite per gate of each task's last judged cycle and per final gate: a
//! case per test the gate ran, or one case for the gate itself when it lists no
//! tests (or failed without a failing test). Valid against the Jenkins xUnit
//! plugin's JUnit XSD. Config: `path` (default `planexec-junit.xml`).

use planexec_pdk::record::{
    GateRun, Outcome, ReviewOutcome, RunRecord, TaskRecord, TaskStatus, TestCase,
};
use planexec_pdk::{Artifact, Formatter};
use reportkit::time;

pub const DEFAULT_PATH: &str = "planexec-junit.xml";

#[derive(serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Config {
    path: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            path: DEFAULT_PATH.into(),
        }
    }
}

pub struct JunitReport;

impl Formatter for JunitReport {
    fn render(config: serde_json::Value, record: RunRecord) -> Result<Vec<Artifact>, String> {
        let cfg: Config = planexec_pdk::config(&config)?;
        reportkit::check_artifact_path(&cfg.path)?;
        Ok(vec![Artifact {
            path: cfg.path,
            content: render_xml(&record).into_bytes(),
        }])
    }
}

planexec_pdk::formatter_component!(JunitReport);

/// Escapes text for XML attributes and content, dropping characters XML 1.0
/// cannot carry at all (control characters other than tab, LF, CR).
/// Hand-written rather than quick-xml's `escape`, which keeps those characters.
pub fn xml_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            '\n' => o.push_str("&#10;"),
            '\r' => o.push_str("&#13;"),
            '\t' => o.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => o.push('\u{FFFD}'),
            c => o.push(c),
        }
    }
    o
}

/// Element text: like [`xml_escape`] but keeps newlines readable.
fn text(s: &str) -> String {
    xml_escape(s).replace("&#10;", "\n").replace("&#9;", "\t")
}

/// What a test case ended as.
enum Verdict {
    Passed,
    Failure {
        message: String,
        kind: String,
        body: String,
    },
    Error {
        message: String,
        kind: String,
        body: String,
    },
    Skipped {
        message: String,
    },
}

struct Case {
    classname: String,
    name: String,
    time_s: Option<f64>,
    verdict: Verdict,
    system_out: String,
}

struct Suite {
    name: String,
    cases: Vec<Case>,
}

impl Suite {
    fn count(&self, f: impl Fn(&Verdict) -> bool) -> usize {
        self.cases.iter().filter(|c| f(&c.verdict)).count()
    }
    fn failures(&self) -> usize {
        self.count(|v| matches!(v, Verdict::Failure { .. }))
    }
    fn errors(&self) -> usize {
        self.count(|v| matches!(v, Verdict::Error { .. }))
    }
    fn skipped(&self) -> usize {
        self.count(|v| matches!(v, Verdict::Skipped { .. }))
    }
    fn time(&self) -> f64 {
        self.cases.iter().filter_map(|c| c.time_s).sum()
    }
}

fn findings_text(fs: &[planexec_pdk::Finding]) -> String {
    fs.iter()
        .map(|f| {
            let at = reportkit::location(f)
                .map(|l| format!(" at {l}"))
                .unwrap_or_default();
            format!(
                "[{}] {}{at}: {}",
                reportkit::severity_str(f.severity),
                f.rule,
                f.message
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn task_case(t: &TaskRecord) -> Case {
    let time_s = match (&t.started_at, &t.finished_at) {
        (Some(s), Some(e)) => time::fractional_seconds_between(s, e),
        _ => None,
    };
    let mut out = Vec::new();
    if let Some(c) = &t.commit {
        out.push(format!("commit: {c}"));
    }
    out.push(format!(
        "cycles: {} ({} rework)",
        t.cycles.len(),
        reportkit::rework_rounds(t)
    ));
    let files = reportkit::task_files(t);
    if !files.is_empty() {
        out.push(format!("files: {}", files.join(", ")));
    }
    let verdict = match t.status {
        TaskStatus::Done => Verdict::Passed,
        TaskStatus::Blocked => {
            let reason = t.blocked_reason.clone().unwrap_or_else(|| "blocked".into());
            let mut body = vec![format!("{}: blocked: {reason}", t.id)];
            if let Some(c) = t.cycles.last() {
                for g in c
                    .gates
                    .iter()
                    .filter(|g| matches!(g.report.outcome, Outcome::Failed | Outcome::Errored))
                {
                    body.push(format!(
                        "gate {} {}: {}",
                        g.name,
                        reportkit::outcome_str(g.report.outcome),
                        g.report.summary
                    ));
                }
                for r in c
                    .reviews
                    .iter()
                    .filter(|r| r.outcome != ReviewOutcome::Approved)
                {
                    let why = r.reason();
                    body.push(format!(
                        "{} {}: {why}",
                        reportkit::review_kind_label(r.kind),
                        reportkit::review_outcome_str(r.outcome)
                    ));
                    if let Some(v) = &r.review {
                        if !v.findings.is_empty() {
                            body.push(findings_text(&v.findings));
                        }
                    }
                }
            }
            Verdict::Failure {
                message: format!("blocked: {reason}"),
                kind: "blocked".into(),
                body: body.join("\n"),
            }
        }
        s => Verdict::Skipped {
            message: match s {
                TaskStatus::Pending | TaskStatus::Ready => format!("not run ({})", s.as_str()),
                _ => format!("unfinished ({})", s.as_str()),
            },
        },
    };
    Case {
        classname: "planexec.tasks".into(),
        name: format!("{}: {}", t.id, t.title),
        time_s,
        verdict,
        system_out: out.join("\n"),
    }
}

fn gate_case(g: &GateRun, classname: String, name: String) -> Case {
    let r = &g.report;
    let mut body = Vec::new();
    for f in &r.failures {
        let at = match (&f.path, f.line) {
            (Some(p), Some(l)) => format!(" ({p}:{l})"),
            (Some(p), None) => format!(" ({p})"),
            _ => String::new(),
        };
        body.push(format!("{}{at}: {}", f.name, f.message));
        if !f.output.trim().is_empty() {
            body.push(f.output.trim_end().to_string());
        }
    }
    if !r.findings.is_empty() {
        body.push(findings_text(&r.findings));
    }
    if !r.evidence.trim().is_empty() {
        body.push(format!(
            "--- evidence ---\n{}",
            reportkit::md::tail(r.evidence.trim_end(), 40)
        ));
    }
    // The message: the summary, or the first finding when there is no summary.
    let message = if r.summary.trim().is_empty() {
        r.findings
            .first()
            .map(|f| f.message.clone())
            .unwrap_or_else(|| reportkit::outcome_str(r.outcome).into())
    } else {
        r.summary.clone()
    };
    let verdict = match r.outcome {
        Outcome::Passed => Verdict::Passed,
        Outcome::Failed => Verdict::Failure {
            message,
            kind: "failed".into(),
            body: body.join("\n"),
        },
        Outcome::Errored => Verdict::Error {
            message,
            kind: "errored".into(),
            body: body.join("\n"),
        },
        Outcome::Skipped => Verdict::Skipped { message },
    };
    let mut out = vec![
        format!("plugin: {}", g.plugin),
        format!("summary: {}", r.summary),
    ];
    if let Some(t) = r.tests {
        out.push(format!("tests: {}", reportkit::tests_line(&t)));
    }
    if let Some(c) = r.coverage_percent {
        out.push(format!("coverage: {c:.1}%"));
    }
    if let Some(c) = r.exit_code {
        out.push(format!("exit code: {c}"));
    }
    Case {
        classname,
        name,
        time_s: Some(r.duration_ms as f64 / 1000.0),
        verdict,
        system_out: out.join("\n"),
    }
}

/// One test a gate ran: its location first in system-out (the XSD has no file or
/// line attribute), its message and output in the failure, error or skip.
fn test_case(t: &TestCase) -> Case {
    let at = match (&t.path, t.line) {
        (Some(p), Some(l)) => format!("{p}:{l}"),
        (Some(p), None) => p.clone(),
        _ => String::new(),
    };
    let body = [at.as_str(), t.output.trim_end()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("\n");
    let message = if t.message.is_empty() {
        reportkit::outcome_str(t.outcome).to_string()
    } else {
        t.message.clone()
    };
    let verdict = match t.outcome {
        Outcome::Passed => Verdict::Passed,
        Outcome::Failed => Verdict::Failure {
            message,
            kind: "failed".into(),
            body,
        },
        Outcome::Errored => Verdict::Error {
            message,
            kind: "errored".into(),
            body,
        },
        Outcome::Skipped => Verdict::Skipped { message },
    };
    Case {
        classname: t.classname.clone(),
        name: t.name.clone(),
        time_s: t.seconds,
        verdict,
        system_out: if at.is_empty() {
            String::new()
        } else {
            format!("file: {at}")
        },
    }
}

/// A gate's suite: its tests, plus a case for the gate itself when it listed none or
/// did not pass although none of its tests failed (a tool error, a coverage threshold).
/// The suite is named `label`, as is the gate's own case.
fn gate_suite(g: &GateRun, label: String, classname: String) -> Suite {
    let mut cases: Vec<Case> = g.report.cases.iter().map(test_case).collect();
    let explained = g
        .report
        .cases
        .iter()
        .any(|c| matches!(c.outcome, Outcome::Failed | Outcome::Errored));
    let passing = matches!(g.report.outcome, Outcome::Passed | Outcome::Skipped);
    if cases.is_empty() || !(passing || explained) {
        cases.push(gate_case(g, classname, label.clone()));
    }
    Suite { name: label, cases }
}

fn suites(rec: &RunRecord) -> Vec<Suite> {
    let mut out = Vec::new();
    if !rec.tasks.is_empty() {
        out.push(Suite {
            name: "tasks".into(),
            cases: rec.tasks.iter().map(task_case).collect(),
        });
    }
    for t in &rec.tasks {
        if let Some(c) = reportkit::judged_cycle(t) {
            for g in &c.gates {
                out.push(gate_suite(
                    g,
                    format!("{} / {} (cycle {})", t.id, g.name, c.number),
                    format!("planexec.gates.{}", t.id),
                ));
            }
        }
    }
    for g in &rec.final_gates {
        out.push(gate_suite(
            g,
            format!("final / {}", g.name),
            "planexec.gates.final".into(),
        ));
    }
    out
}

fn secs(t: f64) -> String {
    // Never "-0.000": negative or NaN durations (clock skew, empty suites) read as zero.
    let t = if t.is_finite() && t > 0.0 { t } else { 0.0 };
    format!("{t:.3}")
}

/// The JUnit XML document.
pub fn render_xml(rec: &RunRecord) -> String {
    let suites = suites(rec);
    let total = |f: fn(&Suite) -> usize| suites.iter().map(f).sum::<usize>();
    let mut o = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    o.push_str(&format!(
        "<testsuites name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" time=\"{}\">\n",
        xml_escape(&format!("planexec: {}", rec.plan.title)),
        total(|s| s.cases.len()),
        total(Suite::failures),
        total(Suite::errors),
        secs(suites.iter().map(Suite::time).sum())
    ));
    for (i, s) in suites.iter().enumerate() {
        o.push_str(&format!(
            "  <testsuite name=\"{}\" id=\"{i}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\" timestamp=\"{}\">\n",
            xml_escape(&s.name),
            s.cases.len(),
            s.failures(),
            s.errors(),
            s.skipped(),
            secs(s.time()),
            xml_escape(rec.started_at.trim_end_matches('Z')),
        ));
        if i == 0 {
            properties(&mut o, rec);
        }
        for c in &s.cases {
            case_xml(&mut o, c);
        }
        o.push_str("  </testsuite>\n");
    }
    o.push_str("</testsuites>\n");
    o
}

/// The run's properties, once (on the first suite): consumers that merge suites'
/// properties choke on the same name twice.
fn properties(o: &mut String, rec: &RunRecord) {
    o.push_str("    <properties>\n");
    for (k, v) in [
        ("run_id", rec.run_id.as_str()),
        ("plan", rec.plan.path.as_str()),
        ("status", rec.status.as_str()),
        ("start_commit", rec.preflight.start_commit.as_str()),
        ("end_commit", rec.end_commit.as_deref().unwrap_or("")),
    ] {
        o.push_str(&format!(
            "      <property name=\"{k}\" value=\"{}\"/>\n",
            xml_escape(v)
        ));
    }
    o.push_str("    </properties>\n");
}

fn case_xml(o: &mut String, c: &Case) {
    let time = c
        .time_s
        .map(|t| format!(" time=\"{}\"", secs(t)))
        .unwrap_or_else(|| " time=\"0.000\"".into());
    o.push_str(&format!(
        "    <testcase classname=\"{}\" name=\"{}\"{time}>\n",
        xml_escape(&c.classname),
        xml_escape(&c.name)
    ));
    match &c.verdict {
        Verdict::Passed => {}
        Verdict::Failure {
            message,
            kind,
            body,
        } => o.push_str(&format!(
            "      <failure message=\"{}\" type=\"{kind}\">{}</failure>\n",
            xml_escape(message),
            text(body)
        )),
        Verdict::Error {
            message,
            kind,
            body,
        } => o.push_str(&format!(
            "      <error message=\"{}\" type=\"{kind}\">{}</error>\n",
            xml_escape(message),
            text(body)
        )),
        Verdict::Skipped { message } => o.push_str(&format!(
            "      <skipped message=\"{}\"/>\n",
            xml_escape(message)
        )),
    }
    if !c.system_out.is_empty() {
        o.push_str(&format!(
            "      <system-out>{}</system-out>\n",
            text(&c.system_out)
        ));
    }
    o.push_str("    </testcase>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use quick_xml::events::Event;
    use quick_xml::{Reader, XmlVersion};
    use reportkit::fixtures;
    use serde_json::json;
    use std::collections::BTreeMap;

    #[derive(Debug, Default)]
    struct Parsed {
        /// (element, attributes) for testsuites/testsuite/testcase/failure/error/skipped.
        elements: Vec<(String, BTreeMap<String, String>)>,
        /// Text content of failure/error elements.
        bodies: Vec<String>,
    }

    fn parse(xml: &str) -> Parsed {
        let mut r = Reader::from_str(xml);
        let mut p = Parsed::default();
        let mut in_body = false;
        loop {
            match r.read_event().expect("well-formed XML") {
                Event::Start(e) | Event::Empty(e) => {
                    let name = e.name().as_ref().to_string();
                    let mut attrs = BTreeMap::new();
                    for a in e.attributes() {
                        let a = a.unwrap();
                        let k = a.key.as_ref().to_string();
                        let v = a
                            .normalized_value(XmlVersion::Explicit1_0)
                            .unwrap()
                            .into_owned();
                        attrs.insert(k, v);
                    }
                    in_body = matches!(name.as_str(), "failure" | "error");
                    if in_body {
                        p.bodies.push(String::new());
                    }
                    p.elements.push((name, attrs));
                }
                Event::Text(t) if in_body => {
                    let s = t.xml_content(XmlVersion::Explicit1_0).into_owned();
                    p.bodies.last_mut().unwrap().push_str(&s);
                }
                Event::GeneralRef(e) if in_body => {
                    let s = match e.as_ref() {
                        "lt" => "<",
                        "gt" => ">",
                        "amp" => "&",
                        "quot" => "\"",
                        "apos" => "'",
                        _ => "?",
                    };
                    p.bodies.last_mut().unwrap().push_str(s);
                }
                Event::End(e) => {
                    if matches!(e.name().as_ref(), "failure" | "error") {
                        in_body = false;
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        p
    }

    fn all<'a>(p: &'a Parsed, el: &str) -> Vec<&'a BTreeMap<String, String>> {
        p.elements
            .iter()
            .filter(|(n, _)| n == el)
            .map(|(_, a)| a)
            .collect()
    }

    fn num(a: &BTreeMap<String, String>, k: &str) -> usize {
        a[k].parse().unwrap()
    }

    /// Checks every count attribute against the elements actually present.
    fn check_counts(xml: &str) -> Parsed {
        let p = parse(xml);
        // Walk in order: each testsuite owns the testcases after it.
        let mut suites: Vec<(BTreeMap<String, String>, [usize; 4])> = Vec::new();
        for (n, a) in &p.elements {
            match n.as_str() {
                "testsuite" => suites.push((a.clone(), [0; 4])),
                "testcase" => suites.last_mut().unwrap().1[0] += 1,
                "failure" => suites.last_mut().unwrap().1[1] += 1,
                "error" => suites.last_mut().unwrap().1[2] += 1,
                "skipped" => suites.last_mut().unwrap().1[3] += 1,
                _ => {}
            }
        }
        let mut sum = [0; 4];
        for (a, c) in &suites {
            assert_eq!(
                [
                    num(a, "tests"),
                    num(a, "failures"),
                    num(a, "errors"),
                    num(a, "skipped")
                ],
                *c,
                "{a:?}"
            );
            for i in 0..4 {
                sum[i] += c[i];
            }
        }
        let root = all(&p, "testsuites")[0];
        assert_eq!(
            [
                num(root, "tests"),
                num(root, "failures"),
                num(root, "errors")
            ],
            sum[..3]
        );
        // The Jenkins xUnit XSD has no `skipped` on the root.
        assert!(!root.contains_key("skipped"), "{root:?}");
        assert!(
            all(&p, "properties").len() <= 1,
            "properties repeated: {xml}"
        );
        p
    }

    fn render(rec: RunRecord) -> String {
        let a = JunitReport::render(json!({}), rec).unwrap();
        assert_eq!(a[0].path, DEFAULT_PATH);
        String::from_utf8(a[0].content.clone()).unwrap()
    }

    #[test]
    fn successful_run_all_pass() {
        let xml = render(fixtures::successful_run());
        let p = check_counts(&xml);
        let suites = all(&p, "testsuite");
        assert_eq!(
            suites
                .iter()
                .map(|s| s["name"].as_str())
                .collect::<Vec<_>>(),
            [
                "tasks",
                "T001 / pytest (cycle 1)",
                "T002 / pytest (cycle 1)",
                "final / pytest",
                "final / mypy",
                "final / black"
            ]
        );
        assert_eq!(num(suites[0], "tests"), 2);
        // Gates listing no tests: one case each.
        assert!(suites[1..].iter().all(|s| num(s, "tests") == 1));
        assert_eq!(all(&p, "properties").len(), 1);
        let root = all(&p, "testsuites")[0];
        assert_eq!(root["failures"], "0");
        let names: Vec<_> = all(&p, "testcase")
            .iter()
            .map(|c| c["name"].clone())
            .collect();
        assert!(names.contains(&"T001: Token model".to_string()));
        assert!(names.contains(&"T002 / pytest (cycle 1)".to_string()));
        assert!(names.contains(&"final / mypy".to_string()));
        let t1 = all(&p, "testcase")
            .into_iter()
            .find(|c| c["name"] == "T001: Token model")
            .unwrap();
        assert_eq!(t1["time"], "540.000");
    }

    #[test]
    fn blocked_run_fails_and_skips_tasks() {
        let xml = render(fixtures::blocked_run());
        let p = check_counts(&xml);
        let tasks = all(&p, "testsuite")[0];
        assert_eq!(
            (
                num(tasks, "tests"),
                num(tasks, "failures"),
                num(tasks, "skipped")
            ),
            (3, 1, 1)
        );
        let f = all(&p, "failure")[0];
        assert_eq!(
            f["message"],
            "blocked: rework limit reached: 3 failed cycles"
        );
        assert_eq!(f["type"], "blocked");
        // The finding's special characters survive the round trip.
        assert!(p.bodies[0].contains("SQL built with f-string: `f\"SELECT * FROM t WHERE id={id}\"` <unsafe> & \"quoted\" | piped"));
        assert!(p.bodies[0].contains("[critical] code-review/injection at src/auth/refresh.py:42"));
        let skipped = all(&p, "skipped")[0];
        assert_eq!(skipped["message"], "not run (pending)");
        // Gates: T001 cycle 2 pytest, T002 cycle 3 pytest + black; no final gates.
        let gates = &all(&p, "testsuite")[1..];
        assert_eq!(gates.iter().map(|s| num(s, "tests")).sum::<usize>(), 3);
        assert!(gates.iter().all(|s| num(s, "failures") == 0));
    }

    #[test]
    fn each_test_a_gate_lists_is_its_own_case() {
        let mut rec = fixtures::secret_fixed_run();
        rec.tasks[0].started_at = Some("2026-11-22T10:01:00.100Z".into());
        rec.tasks[0].finished_at = Some("2026-11-22T10:01:00.404Z".into());
        let xml = render(rec);
        let p = check_counts(&xml);
        let suites = all(&p, "testsuite");
        let py = suites
            .iter()
            .find(|s| s["name"] == "final / pytest")
            .expect("a suite for the final pytest gate");
        assert_eq!(
            (num(py, "tests"), num(py, "failures"), num(py, "skipped")),
            (3, 1, 1),
            "{xml}"
        );
        let cases = all(&p, "testcase");
        let sub = cases
            .iter()
            .find(|c| c["name"] == "tests/test_calc.py::test_sub")
            .unwrap();
        assert_eq!(sub["classname"], "tests.test_calc");
        assert_eq!(sub["time"], "0.001");
        assert!(xml.contains("<system-out>file: tests/test_calc.py:7</system-out>"));
        let f = all(&p, "failure")
            .into_iter()
            .find(|f| f["message"] == "assert 5 == 6")
            .expect("the failing test's message");
        assert_eq!(f["type"], "failed");
        // Task times keep their fraction: 0.304 s, not 0.000.
        let t1 = cases
            .iter()
            .find(|c| c["name"] == "T001: Token model")
            .unwrap();
        assert_eq!(t1["time"], "0.304");
    }

    #[test]
    fn failed_and_errored_gates() {
        let mut rec = fixtures::failed_final_gate_run();
        rec.final_gates[2].report.outcome = Outcome::Errored;
        rec.final_gates[2].report.summary = "black not found\u{1b}[0m".into();
        let xml = render(rec);
        let p = check_counts(&xml);
        let root = all(&p, "testsuites")[0];
        assert_eq!((num(root, "failures"), num(root, "errors")), (1, 1));
        assert_eq!(all(&p, "failure")[0]["message"], "Found 1 error in 1 file");
        assert!(p.bodies[0].contains(
            "[important] mypy/arg-type at src/auth/refresh.py:17: Argument 1 to \"refresh\""
        ));
        assert_eq!(all(&p, "error")[0]["message"], "black not found\u{FFFD}[0m");
        let rec = fixtures::errored_review_run();
        let p = check_counts(&render(rec));
        assert!(p.bodies[0].contains("task review errored: reviewer timed out after 300s"));
    }

    #[test]
    fn escapes() {
        assert_eq!(
            xml_escape("a<b>&\"c'\n\u{7}"),
            "a&lt;b&gt;&amp;&quot;c&apos;&#10;\u{FFFD}"
        );
        let rec = fixtures::running_run();
        let p = check_counts(&render(rec));
        assert_eq!(all(&p, "skipped").len(), 2);
        assert!(
            JunitReport::render(json!({"path": "../x.xml"}), fixtures::successful_run()).is_err()
        );
    }
}
