//! Reports for people and for CI, through the real binary: `--report` files
//! (JUnit parsed back and counted, SARIF validated against the 2.1.0 schema,
//! the JSON report against docs/run-record.schema.json), the `--format json`
//! NDJSON stream parsed line by line, GitHub Actions annotations and job
//! summary, and the live display on a pseudo-terminal (util-linux `script`)
//! versus plain lines with no escape codes when not on a terminal.

use crate::support::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The real binary in `dir`, with a clean display environment: no CI, no
/// NO_COLOR, no GitHub variables unless `env` sets them.
fn planexec_clean(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Out {
    let mut c = Command::new(env!("CARGO_BIN_EXE_planexec"));
    c.args(args)
        .current_dir(dir)
        .env("PLANEXEC_CACHE_DIR", cache_dir())
        .env("XDG_CONFIG_HOME", user_config_home())
        .env("PLANEXEC_TRUST", "1");
    for k in [
        "CI",
        "NO_COLOR",
        "GITHUB_ACTIONS",
        "GITHUB_STEP_SUMMARY",
        "TERM",
    ] {
        c.env_remove(k);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().expect("planexec runs");
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dst.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), &to).unwrap();
        }
    }
}

fn read_json(p: &Path) -> Value {
    let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}\n{text}", p.display()))
}

/// Every NDJSON line of stdout parsed; panics naming the line that is not one JSON object.
fn ndjson(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .enumerate()
        .map(|(i, l)| {
            let v: Value = serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("stdout line {} is not JSON ({e}): {l}", i + 1));
            assert!(
                v.is_object() && v["event"].is_string(),
                "line {} has no event: {l}",
                i + 1
            );
            v
        })
        .collect()
}

fn schema_errors(schema_path: &Path, doc: &Value) -> Vec<String> {
    let schema = read_json(schema_path);
    let v = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("{} does not compile: {e}", schema_path.display()));
    v.iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

pub(crate) fn assert_valid(schema_rel: &str, doc: &Value) {
    let errs = schema_errors(&root().join(schema_rel), doc);
    assert!(
        errs.is_empty(),
        "not valid against {schema_rel}: {errs:#?}\n{doc:#}"
    );
}

/// One parsed `<testsuite>`: its attributes and what its cases hold.
#[derive(Debug, Default)]
struct Suite {
    attrs: BTreeMap<String, String>,
    cases: Vec<Case>,
}

#[derive(Debug, Default, Clone)]
struct Case {
    classname: String,
    name: String,
    /// failure, error or skipped, with its message attribute.
    result: Option<(String, String)>,
}

/// Parses JUnit XML with quick-xml: the root's attributes and each suite.
fn parse_junit(xml: &str) -> (BTreeMap<String, String>, Vec<Suite>) {
    use quick_xml::events::{BytesStart, Event};
    fn attrs(e: &BytesStart) -> BTreeMap<String, String> {
        e.attributes()
            .map(|a| {
                let a = a.expect("well-formed attribute");
                let k = a.key.into_inner().to_string();
                let v = a
                    .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .expect("attribute unescapes")
                    .into_owned();
                (k, v)
            })
            .collect()
    }
    let mut r = quick_xml::Reader::from_str(xml);
    let (mut root, mut suites) = (BTreeMap::new(), Vec::<Suite>::new());
    let mut case: Option<Case> = None;
    let mut depth = 0usize;
    loop {
        let ev = r
            .read_event()
            .unwrap_or_else(|e| panic!("JUnit XML does not parse: {e}\n{xml}"));
        let (start, empty) = match &ev {
            Event::Start(e) => (Some(e.clone()), false),
            Event::Empty(e) => (Some(e.clone()), true),
            _ => (None, false),
        };
        if let Some(e) = start {
            let name = e.name().into_inner().to_string();
            let a = attrs(&e);
            match name.as_str() {
                "testsuites" => root = a,
                "testsuite" => suites.push(Suite {
                    attrs: a,
                    cases: vec![],
                }),
                "testcase" => {
                    let c = Case {
                        classname: a.get("classname").cloned().unwrap_or_default(),
                        name: a.get("name").cloned().unwrap_or_default(),
                        result: None,
                    };
                    if empty {
                        suites
                            .last_mut()
                            .expect("testcase inside a testsuite")
                            .cases
                            .push(c);
                    } else {
                        case = Some(c);
                    }
                }
                "failure" | "error" | "skipped" => {
                    let c = case.as_mut().expect("result inside a testcase");
                    assert!(c.result.is_none(), "one result per case: {c:?}");
                    c.result = Some((name.clone(), a.get("message").cloned().unwrap_or_default()));
                }
                _ => {}
            }
            if !empty {
                depth += 1;
            }
        }
        match ev {
            Event::End(e) => {
                depth -= 1;
                if e.name().into_inner() == "testcase" {
                    let c = case.take().unwrap();
                    suites.last_mut().unwrap().cases.push(c);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(depth, 0, "unbalanced XML");
    (root, suites)
}

fn count(cases: &[Case], what: &str) -> usize {
    cases
        .iter()
        .filter(|c| c.result.as_ref().is_some_and(|(k, _)| k == what))
        .count()
}

/// Checks each suite's and the root's counts against the cases; returns all cases.
fn check_junit_counts(xml: &str) -> Vec<Case> {
    let (root_attrs, suites) = parse_junit(xml);
    let mut all = Vec::new();
    for s in &suites {
        let n = |k: &str| {
            s.attrs
                .get(k)
                .map(|v| v.parse::<usize>().unwrap())
                .unwrap_or(0)
        };
        assert_eq!(
            n("tests"),
            s.cases.len(),
            "suite {:?} tests count\n{xml}",
            s.attrs.get("name")
        );
        for k in ["failures", "errors"] {
            let kind = if k == "failures" { "failure" } else { "error" };
            assert_eq!(
                n(k),
                count(&s.cases, kind),
                "suite {:?} {k}\n{xml}",
                s.attrs.get("name")
            );
        }
        assert_eq!(
            n("skipped"),
            count(&s.cases, "skipped"),
            "suite {:?} skipped\n{xml}",
            s.attrs.get("name")
        );
        all.extend(s.cases.iter().cloned());
    }
    let n = |k: &str| root_attrs.get(k).map(|v| v.parse::<usize>().unwrap());
    if let Some(t) = n("tests") {
        assert_eq!(t, all.len(), "root tests count\n{xml}");
    }
    if let Some(f) = n("failures") {
        assert_eq!(f, count(&all, "failure"), "root failures\n{xml}");
    }
    all
}

#[test]
fn gate_run_writes_junit_sarif_and_json_reports_and_streams_ndjson() {
    let tmp = tempfile::tempdir().unwrap();
    let out = planexec_clean(
        tmp.path(),
        &[
            "gate",
            "run",
            "command",
            "--grant",
            "false",
            "--report",
            "junit=j.xml",
            "--report",
            "sarif=out/s.sarif",
            "--report",
            "json=r.json",
            "--format",
            "json",
            "--",
            "false",
        ],
        &[],
    );
    assert_eq!(out.code, 1, "a failing gate exits 1: {out:?}");

    // NDJSON: every stdout line one event; gate_started, then gate_finished in its old shape.
    let events = ndjson(&out.stdout);
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    let started = names
        .iter()
        .position(|n| *n == "gate_started")
        .expect("gate_started");
    let finished = names
        .iter()
        .position(|n| *n == "gate_finished")
        .expect("gate_finished");
    assert!(started < finished, "{names:?}");
    let f = &events[finished];
    assert_eq!(f["gate"], "command");
    assert_eq!(f["plugin"], "command");
    assert_eq!(f["report"]["outcome"], "failed");
    assert_eq!(f["report"]["exit_code"], 1);
    assert_eq!(
        names.iter().filter(|n| **n == "message").count(),
        3,
        "one message per report written: {names:?}"
    );
    // Human text goes to stderr, never stdout.
    assert!(
        out.stderr.contains("gate command (command) FAILED"),
        "{out:?}"
    );
    assert!(
        !out.stdout.contains("\x1b[") && !out.stderr.contains("\x1b["),
        "{out:?}"
    );

    // JUnit: parsed, counted, one failing gate case.
    let xml = std::fs::read_to_string(tmp.path().join("j.xml")).unwrap();
    let cases = check_junit_counts(&xml);
    assert_eq!(cases.len(), 1, "{cases:?}\n{xml}");
    assert_eq!(cases[0].classname, "planexec.gates.final");
    assert!(cases[0].name.contains("command"), "{cases:?}");
    let (kind, msg) = cases[0].result.clone().expect("a failure");
    assert_eq!(kind, "failure");
    assert!(msg.contains("`false` exited 1"), "{msg}");

    // SARIF: valid against the OASIS 2.1.0 schema; no findings, an unsuccessful invocation.
    let sarif = read_json(&tmp.path().join("out/s.sarif"));
    assert_valid("tests/data/sarif-schema-2.1.0.json", &sarif);
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(sarif["runs"][0]["tool"]["driver"]["name"], "planexec");
    assert_eq!(
        sarif["runs"][0]["results"]
            .as_array()
            .map(|a| a.len())
            .unwrap_or(0),
        0
    );
    assert_eq!(
        sarif["runs"][0]["invocations"][0]["executionSuccessful"],
        false
    );

    // JSON: the run record, valid against the documented schema, and it round-trips.
    let rec = read_json(&tmp.path().join("r.json"));
    assert_valid("docs/run-record.schema.json", &rec);
    let parsed: planexec::record::RunRecord =
        serde_json::from_value(rec.clone()).expect("a RunRecord");
    assert_eq!(parsed.schema_version, planexec::record::SCHEMA_VERSION);
    assert_eq!(parsed.status, planexec::record::RunStatus::Failure);
    assert!(parsed.tasks.is_empty());
    assert_eq!(parsed.final_gates.len(), 1);
    assert_eq!(parsed.final_gates[0].name, "command");
}

#[test]
fn passing_gate_reports_success() {
    let tmp = tempfile::tempdir().unwrap();
    let out = planexec_clean(
        tmp.path(),
        &[
            "gate",
            "run",
            "command",
            "--grant",
            "true",
            "--report",
            "junit=j.xml",
            "--report",
            "json=r.json",
            "--",
            "true",
        ],
        &[],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let cases = check_junit_counts(&std::fs::read_to_string(tmp.path().join("j.xml")).unwrap());
    assert_eq!(cases.len(), 1);
    assert!(
        cases[0].result.is_none(),
        "a passing case has no failure: {cases:?}"
    );
    let rec = read_json(&tmp.path().join("r.json"));
    assert_valid("docs/run-record.schema.json", &rec);
    assert_eq!(rec["status"], "success");
    // Human mode: the report on stdout as before, plain progress lines on stderr.
    assert!(out.stdout.starts_with("PASSED command"), "{out:?}");
    assert!(out.stderr.contains("gate command started"), "{out:?}");
}

#[test]
fn bad_report_values_are_usage_errors_naming_the_value_and_formats() {
    let tmp = tempfile::tempdir().unwrap();
    for bad in ["xml=a.xml", "junit.xml", "json="] {
        let out = planexec_clean(
            tmp.path(),
            &["gate", "run", "command", "--report", bad, "--", "true"],
            &[],
        );
        assert_eq!(out.code, 2, "{bad}: {out:?}");
        assert!(out.stderr.contains(bad), "{bad}: names the value: {out:?}");
    }
    let out = planexec_clean(
        tmp.path(),
        &[
            "gate",
            "run",
            "command",
            "--report",
            "xml=a.xml",
            "--",
            "true",
        ],
        &[],
    );
    assert!(out.stderr.contains("junit, sarif, json"), "{out:?}");
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "nothing ran, nothing written"
    );
}

/// black on plugins/black/tests/projects/unformatted: a failing gate with findings.
fn black_workspace(tmp: &Path) -> PathBuf {
    let ok = Command::new("python3")
        .args(["-m", "black", "--version"])
        .output()
        .map(|o| o.status.success());
    assert!(
        matches!(ok, Ok(true)),
        "`python3 -m black` does not run: install it (python3 -m pip install black); .ci/run installs it"
    );
    let ws = tmp.join("unformatted");
    copy_dir(
        &root().join("plugins/black/tests/projects/unformatted"),
        &ws,
    );
    ws
}

#[test]
fn findings_reach_sarif_junit_and_github_annotations() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = black_workspace(tmp.path());
    let summary = tmp.path().join("step-summary.md");
    std::fs::write(&summary, "# earlier step\n").unwrap();
    let out = planexec_clean(
        &ws,
        &[
            "gate",
            "run",
            "black",
            "--grant",
            "python3",
            "--report",
            "sarif=s.sarif",
            "--report",
            "junit=j.xml",
            "--report",
            "json=r.json",
        ],
        &[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
        ],
    );
    assert_eq!(out.code, 1, "{out:?}");

    // SARIF: one result per finding, with rule id, level, file.
    let sarif = read_json(&ws.join("s.sarif"));
    assert_github_sarif(&sarif);
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    let mut uris: Vec<&str> = results
        .iter()
        .map(|r| {
            assert_eq!(r["ruleId"], "black/would-reformat", "{r:#}");
            assert_eq!(r["level"], "warning", "minor is a warning: {r:#}");
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    uris.sort();
    assert_eq!(uris, ["src/calc.py", "src/data.py"], "{sarif:#}");
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0]["id"], "black/would-reformat");

    // JUnit: the failing gate case carries the findings.
    let xml = std::fs::read_to_string(ws.join("j.xml")).unwrap();
    let cases = check_junit_counts(&xml);
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].result.as_ref().unwrap().0, "failure");
    assert!(
        xml.contains("src/calc.py"),
        "findings in the failure body: {xml}"
    );

    let rec = read_json(&ws.join("r.json"));
    assert_valid("docs/run-record.schema.json", &rec);

    // GitHub: one annotation per finding, on stdout, escaped; summary appended.
    let ann: Vec<&str> = out.stdout.lines().filter(|l| l.starts_with("::")).collect();
    assert_eq!(ann.len(), 2, "{out:?}");
    for a in &ann {
        assert!(a.starts_with("::warning file=src/"), "{a}");
        assert!(
            a.contains(",title=black/would-reformat (final gate black)::would reformat src/"),
            "{a}"
        );
    }
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.starts_with("# earlier step\n"),
        "appended, not overwritten: {md}"
    );
    assert!(md.contains("## ❌ planexec: gate black — failure"), "{md}");
    assert!(md.contains("| black | ❌ failed |"), "{md}");
    assert!(
        md.contains("**Findings:** 0 critical, 0 important, 2 minor, 0 info"),
        "{md}"
    );
}

#[test]
fn github_output_with_format_json_keeps_stdout_ndjson() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = black_workspace(tmp.path());
    let summary = tmp.path().join("summary.md");
    let out = planexec_clean(
        &ws,
        &[
            "gate", "run", "black", "--grant", "python3", "--format", "json",
        ],
        &[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
        ],
    );
    assert_eq!(out.code, 1, "{out:?}");
    let events = ndjson(&out.stdout);
    assert!(events.iter().any(|e| e["event"] == "gate_finished"));
    assert_eq!(
        out.stderr
            .lines()
            .filter(|l| l.starts_with("::warning file="))
            .count(),
        2,
        "{out:?}"
    );
    assert!(std::fs::read_to_string(&summary)
        .unwrap()
        .contains("planexec: gate black"));
}

#[test]
fn no_github_output_without_github_actions() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = black_workspace(tmp.path());
    let summary = tmp.path().join("summary.md");
    let out = planexec_clean(
        &ws,
        &["gate", "run", "black", "--grant", "python3"],
        &[("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(!out.all().contains("::warning"), "{out:?}");
    assert!(!summary.exists());
}

/// Runs `args` on a pseudo-terminal (util-linux `script`) and returns all it printed.
fn on_tty(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut cmd = quote(env!("CARGO_BIN_EXE_planexec"));
    for a in args {
        cmd.push(' ');
        cmd.push_str(&quote(a));
    }
    let mut c = Command::new("script");
    c.args(["-q", "-e", "-c", &cmd, "/dev/null"])
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .env("PLANEXEC_CACHE_DIR", cache_dir())
        .env("XDG_CONFIG_HOME", user_config_home())
        .env("PLANEXEC_TRUST", "1")
        .env("TERM", "xterm-256color");
    for k in ["CI", "NO_COLOR", "GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY"] {
        c.env_remove(k);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c
        .output()
        .expect("`script` (util-linux) runs: apt-get install -y util-linux");
    let mut all = String::from_utf8_lossy(&o.stdout).into_owned();
    all.push_str(&String::from_utf8_lossy(&o.stderr));
    (o.status.code().unwrap_or(-1), all)
}

const SLOW_GATE: &[&str] = &[
    "gate", "run", "command", "--grant", "sleep", "--", "sleep", "1",
];

#[test]
fn live_display_on_a_terminal_shows_the_gate_spinner() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, all) = on_tty(tmp.path(), SLOW_GATE, &[]);
    assert_eq!(code, 0, "{all}");
    assert!(all.contains("\x1b["), "escape codes on a terminal: {all:?}");
    assert!(
        all.contains("\x1b[2K"),
        "the spinner line is redrawn in place: {all:?}"
    );
    assert!(all.contains("gate command"), "{all:?}");
    // The spinner ticked: several distinct frames were drawn.
    let frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]
        .iter()
        .filter(|f| all.contains(*f))
        .count();
    assert!(
        frames >= 3,
        "the spinner animates while the gate runs ({frames} frames): {all:?}"
    );
    assert!(
        all.contains("PASSED command"),
        "the report follows the display: {all:?}"
    );
}

#[test]
fn no_live_display_when_not_a_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    let out = planexec_clean(tmp.path(), SLOW_GATE, &[("TERM", "xterm-256color")]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        !out.stdout.contains('\x1b') && !out.stderr.contains('\x1b'),
        "no escape codes: {out:?}"
    );
    assert!(
        out.stderr.contains("gate command started"),
        "plain lines instead: {out:?}"
    );
}

#[test]
fn no_live_display_on_a_terminal_under_ci_or_no_color() {
    let tmp = tempfile::tempdir().unwrap();
    for env in [("CI", "true"), ("NO_COLOR", "1")] {
        let (code, all) = on_tty(tmp.path(), SLOW_GATE, &[env]);
        assert_eq!(code, 0, "{all}");
        assert!(
            !all.contains("\x1b["),
            "{env:?}: plain lines, no escape codes: {all:?}"
        );
        assert!(all.contains("gate command started"), "{env:?}: {all:?}");
    }
    // --format json on a terminal: NDJSON, no display.
    let (code, all) = on_tty(
        tmp.path(),
        &[
            "gate", "run", "command", "--grant", "true", "--format", "json", "--", "true",
        ],
        &[],
    );
    assert_eq!(code, 0, "{all}");
    assert!(!all.contains("\x1b["), "{all:?}");
    assert!(all.contains("{\"event\":\"gate_finished\""), "{all:?}");
}

// ------------------------------------------------------------ planexec run

/// A git repo with a two-task T-ID plan the `patch` implementer completes.
fn plan_repo() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    git_init(d);
    write(d, "README", "base\n");
    let mut plan = String::from("---\ntitle: Demo\n---\n# Plan: Demo\n\n## Tasks\n\n");
    for (id, title, file, word, deps) in [
        ("T001", "Add greeting", "greet.txt", "hello", "none"),
        ("T002", "Add farewell", "bye.txt", "bye", "T001"),
    ] {
        plan.push_str(&format!(
            "### {id}: {title}\n**Summary**: {title}\n**Dependencies**: {deps}\n**Files/modules touched**: {file}\n**Acceptance test**: `grep -q {word} {file}`\n\n"
        ));
        write(
            d,
            &format!("plan/patches/{id}.patch"),
            &format!("diff --git a/{file} b/{file}\nnew file mode 100644\n--- /dev/null\n+++ b/{file}\n@@ -0,0 +1 @@\n+{word}\n"),
        );
    }
    write(d, "plan/plan.md", &plan);
    write(
        d,
        "planexec.toml",
        "[policy]\ngrant = [\"grep\", \"git\", \"test\"]\n[run]\nimplementer = \"patch\"\n",
    );
    git(d, &["add", "."]);
    git(d, &["commit", "-qm", "plan"]);
    tmp
}

#[test]
fn run_live_display_on_a_terminal_shows_the_task_list() {
    let tmp = plan_repo();
    let (code, all) = on_tty(tmp.path(), &["run", "plan/plan.md"], &[]);
    assert_eq!(code, 0, "{all}");
    assert!(all.contains("\x1b["), "escape codes on a terminal: {all:?}");
    for want in ["T001", "Add greeting", "T002", "Add farewell", "— done"] {
        assert!(all.contains(want), "task list shows {want:?}: {all:?}");
    }
}

#[test]
fn run_streams_ndjson_and_plain_lines_without_a_terminal() {
    let tmp = plan_repo();
    let out = planexec_clean(
        tmp.path(),
        &["run", "plan/plan.md", "--format", "json"],
        &[],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let events = ndjson(&out.stdout);
    assert_eq!(
        events.first().map(|e| e["event"].clone()),
        Some("run_started".into()),
        "{}",
        out.stdout
    );
    assert_eq!(
        events.last().map(|e| e["event"].clone()),
        Some("run_finished".into()),
        "{}",
        out.stdout
    );
    assert_eq!(events.last().unwrap()["status"], "success");
    let done: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "task_status" && e["status"] == "done")
        .collect();
    assert_eq!(done.len(), 2, "{}", out.stdout);
    for e in events.iter().filter(|e| e["event"] == "gate_finished") {
        assert!(
            e["gate"].is_string() && e["plugin"].is_string() && e["report"]["outcome"].is_string(),
            "{e}"
        );
    }
    assert!(
        !out.stdout.contains('\x1b') && !out.stderr.contains('\x1b'),
        "{out:?}"
    );

    let tmp = plan_repo();
    let out = planexec_clean(
        tmp.path(),
        &["run", "plan/plan.md"],
        &[("TERM", "xterm-256color")],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        !out.stdout.contains('\x1b') && !out.stderr.contains('\x1b'),
        "no escape codes off a terminal: {out:?}"
    );
    assert!(out.stderr.contains("T001: done"), "plain lines: {out:?}");
}

// ------------------------------------- consumers other people wrote (issue 19)

/// Runs tests/data/check_reports.py (xmlschema, junitparser, PyYAML) and parses its JSON.
fn python_check(args: &[&str]) -> Value {
    let script = root().join("tests/data/check_reports.py");
    let o = Command::new("python3")
        .arg(&script)
        .args(args)
        .output()
        .expect("python3 runs");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success(),
        "check_reports.py {args:?} failed ({:?}): {stderr}",
        o.status.code()
    );
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stderr}"))
}

/// JUnit XML read by junitparser after xmlschema validated it against the Jenkins
/// xUnit plugin's XSD; returns junitparser's totals.
fn junit_consumers(path: &Path) -> Value {
    let xsd = root().join("tests/data/jenkins-xunit-junit-10.xsd");
    let v = python_check(&["junit", path.to_str().unwrap(), xsd.to_str().unwrap()]);
    let xml = std::fs::read_to_string(path).unwrap();
    assert_eq!(v["schema_errors"], serde_json::json!([]), "{xml}");
    for s in v["suites"].as_array().unwrap() {
        let declared = &s["declared"];
        let seen = serde_json::json!([s["tests"], s["failures"], s["errors"], s["skipped"]]);
        assert_eq!(
            declared, &seen,
            "suite counts disagree with its cases: {s}\n{xml}"
        );
    }
    v
}

/// GitHub code scanning's requirements beyond the schema (its SARIF upload docs and
/// the Multitool's GitHub rules): rules with a name unlike the id, full description and
/// help; every result with a location, a region start line and a fingerprint; a driver
/// version; invocation times where SARIF defines them.
fn assert_github_sarif(doc: &Value) {
    assert_valid("tests/data/sarif-schema-2.1.0.json", doc);
    let run = &doc["runs"][0];
    let driver = &run["tool"]["driver"];
    assert!(driver["version"].is_string(), "{driver:#}");
    for r in driver["rules"].as_array().unwrap() {
        assert_ne!(r["name"], r["id"], "{r:#}");
        for k in ["shortDescription", "fullDescription", "help"] {
            assert!(
                r[k]["text"].as_str().is_some_and(|t| !t.is_empty()),
                "rule without {k}: {r:#}"
            );
        }
    }
    for res in run["results"].as_array().unwrap() {
        let loc = &res["locations"][0]["physicalLocation"];
        assert!(
            loc["artifactLocation"]["uri"]
                .as_str()
                .is_some_and(|u| !u.is_empty()),
            "{res:#}"
        );
        assert!(
            loc["region"]["startLine"].as_u64().is_some_and(|l| l >= 1),
            "result without a region: {res:#}"
        );
        assert!(
            res["partialFingerprints"]
                .as_object()
                .is_some_and(|m| !m.is_empty()),
            "{res:#}"
        );
    }
    let inv = &run["invocations"][0];
    assert!(
        inv["startTimeUtc"].is_string() && inv["endTimeUtc"].is_string(),
        "{inv:#}"
    );
}

/// mypy's error spans reach SARIF as regions with an end (GitHub underlines the
/// expression, not the whole line): `"seven"` on line 12 is columns 14..=20.
#[test]
fn mypy_spans_are_sarif_regions_with_end_line_and_end_column() {
    if std::process::Command::new("python3")
        .args(["-m", "mypy", "--version"])
        .output()
        .map_or(true, |o| !o.status.success())
    {
        panic!("mypy is not installed; .ci/run installs it");
    }
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("errors");
    copy_dir(&root().join("plugins/mypy/tests/projects/errors"), &ws);
    let out = planexec_clean(
        &ws,
        &[
            "gate",
            "run",
            "mypy",
            "--grant",
            "python3",
            "--report",
            "sarif=s.sarif",
        ],
        &[],
    );
    assert_eq!(out.code, 1, "{out:?}");
    let doc = read_json(&ws.join("s.sarif"));
    assert_github_sarif(&doc);
    let results = doc["runs"][0]["results"].as_array().unwrap();
    let region = |rule: &str| {
        results
            .iter()
            .find(|r| r["ruleId"] == rule)
            .unwrap_or_else(|| panic!("no {rule}: {doc:#}"))["locations"][0]["physicalLocation"]
            ["region"]
            .clone()
    };
    assert_eq!(
        region("mypy/assignment"),
        serde_json::json!({"startLine": 12, "startColumn": 14, "endLine": 12, "endColumn": 21})
    );
    assert_eq!(
        region("mypy/return-value"),
        serde_json::json!({"startLine": 9, "startColumn": 12, "endLine": 9, "endColumn": 20})
    );
}

const CALC_TESTS: &str = "import pytest\n\n\ndef test_add():\n    assert 1 + 1 == 2\n\n\ndef test_sub():\n    assert 5 == 6\n\n\n@pytest.mark.skip(reason=\"not ready\")\ndef test_later():\n    pass\n";

#[test]
fn gate_run_pytest_gives_each_test_its_own_case_for_junit_consumers_and_sarif() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "tests/test_calc.py", CALC_TESTS);
    let out = planexec_clean(
        tmp.path(),
        &[
            "gate",
            "run",
            "pytest",
            "--grant",
            "python3",
            "--report",
            "junit=j.xml",
            "--report",
            "sarif=s.sarif",
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(out.code, 1, "{out:?}");
    // NDJSON: a start and an end event around the gate, the end with the overall status.
    let events = ndjson(&out.stdout);
    assert_eq!(events[0]["event"], "gate_run_started", "{}", out.stdout);
    assert_eq!(events[0]["gates"], serde_json::json!(["pytest"]));
    let last = events.last().unwrap();
    assert_eq!(last["event"], "gate_run_finished", "{}", out.stdout);
    assert_eq!(
        (&last["status"], &last["outcome"], &last["exit_code"]),
        (&"failure".into(), &"failed".into(), &1.into())
    );
    assert_eq!(last["run_id"], events[0]["run_id"]);
    let report = gate_report(&out);
    assert_eq!(
        report["tests"],
        serde_json::json!({"passed": 1, "failed": 1, "skipped": 1, "errored": 0})
    );
    assert_eq!(
        report["cases"].as_array().map(Vec::len),
        Some(3),
        "{report:#}"
    );

    // JUnit: junitparser counts what pytest counted, after the Jenkins XSD accepted it.
    let j = junit_consumers(&tmp.path().join("j.xml"));
    assert_eq!(
        (&j["tests"], &j["failures"], &j["skipped"], &j["errors"]),
        (&3.into(), &1.into(), &1.into(), &0.into()),
        "{j:#}"
    );
    let suite = &j["suites"][0];
    assert_eq!(suite["name"], "final / pytest");
    let names: Vec<&str> = suite["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "tests/test_calc.py::test_add",
            "tests/test_calc.py::test_sub",
            "tests/test_calc.py::test_later"
        ]
    );
    assert!(suite["cases"][0]["classname"]
        .as_str()
        .is_some_and(|c| c.contains("test_calc")));
    let xml = std::fs::read_to_string(tmp.path().join("j.xml")).unwrap();
    assert!(xml.contains("assert 5 == 6"), "{xml}");

    // SARIF: the failing test is a result at its line; GitHub's requirements hold.
    let sarif = read_json(&tmp.path().join("s.sarif"));
    assert_github_sarif(&sarif);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{sarif:#}");
    assert_eq!(results[0]["ruleId"], "pytest/test-failed");
    let loc = &results[0]["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "tests/test_calc.py");
    assert_eq!(loc["region"]["startLine"], 9, "{sarif:#}");
    assert_eq!(
        sarif["runs"][0]["tool"]["driver"]["version"],
        env!("CARGO_PKG_VERSION")
    );

    // GitHub Actions: the failing test is an annotation at its line.
    let gh = planexec_clean(
        tmp.path(),
        &["gate", "run", "pytest", "--grant", "python3"],
        &[("GITHUB_ACTIONS", "true")],
    );
    let ann: Vec<&str> = gh.stdout.lines().filter(|l| l.starts_with("::")).collect();
    assert_eq!(ann.len(), 1, "{gh:?}");
    assert!(
        ann[0].starts_with("::error file=tests/test_calc.py,line=9,title=pytest/test-failed"),
        "{}",
        ann[0]
    );
}

/// A repository whose plan (in `plan_dir`) has one task: cycle 1 adds a settings file
/// with an AWS key, which the code review rejects; with `fix`, cycle 2 removes the key,
/// without it there is no patch for cycle 2 and the task blocks in the implementer.
fn secret_repo(plan_dir: &str, fix: bool) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    git_init(d);
    write(d, "README", "base\n");
    let plan = "# Plan: Settings\n\n### T001: Add settings\n**Summary**: Add settings.\n**Dependencies**: none\n**Files/modules touched**: src/settings.py, tests/test_settings.py\n**Acceptance test**: `grep -q REGION src/settings.py`\n";
    write(d, &format!("{plan_dir}/2026-12-01_settings.md"), plan);
    let test = "from src.settings import REGION\n\n\ndef test_region():\n    assert REGION == \"eu-west-1\"\n";
    let mut p1 = String::from("diff --git a/src/settings.py b/src/settings.py\nnew file mode 100644\n--- /dev/null\n+++ b/src/settings.py\n@@ -0,0 +1,2 @@\n+REGION = \"eu-west-1\"\n+AWS_ACCESS_KEY_ID = \"AKIAQ7ZK3LM5NP2RXW4T\"\n");
    p1.push_str("diff --git a/tests/test_settings.py b/tests/test_settings.py\nnew file mode 100644\n--- /dev/null\n+++ b/tests/test_settings.py\n@@ -0,0 +1,5 @@\n");
    for l in test.lines() {
        p1.push_str(&format!("+{l}\n"));
    }
    write(d, &format!("{plan_dir}/patches/T001.patch"), &p1);
    if fix {
        write(
            d,
            &format!("{plan_dir}/patches/T001.2.patch"),
            "diff --git a/src/settings.py b/src/settings.py\n--- a/src/settings.py\n+++ b/src/settings.py\n@@ -1,2 +1 @@\n REGION = \"eu-west-1\"\n-AWS_ACCESS_KEY_ID = \"AKIAQ7ZK3LM5NP2RXW4T\"\n",
        );
    }
    write(
        d,
        "planexec.toml",
        "[policy]\ngrant = [\"grep\", \"git\"]\n[run]\nimplementer = \"patch\"\n",
    );
    git(d, &["add", "."]);
    git(d, &["commit", "-qm", "plan"]);
    tmp
}

/// Runs the secret repo's plan with SARIF and JUnit reports; returns the output, the
/// SARIF document, junitparser's totals and the execution log's path.
fn run_secret_plan(tmp: &Path, plan: &str) -> (Out, Value, Value, PathBuf) {
    let summary = tmp.join(".git/step-summary.md");
    let out = planexec_clean(
        tmp,
        &[
            "run",
            plan,
            "--report",
            "sarif=out/s.sarif",
            "--report",
            "junit=out/j.xml",
            "--format",
            "json",
        ],
        &[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
        ],
    );
    let events = ndjson(&out.stdout);
    let end = events.last().unwrap();
    assert_eq!(end["event"], "run_finished", "{out:?}");
    let log = tmp.join(end["log_path"].as_str().expect("a log path"));
    let sarif = read_json(&tmp.join("out/s.sarif"));
    let junit = junit_consumers(&tmp.join("out/j.xml"));
    (out, sarif, junit, log)
}

fn front_keys(log: &Path) -> Vec<String> {
    let fm = python_check(&["front", log.to_str().unwrap()]);
    let mut k: Vec<String> = fm.as_object().expect("a mapping").keys().cloned().collect();
    k.sort();
    k
}

fn assert_no_entities(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap();
    for e in ["&gt;", "&lt;", "&amp;", "&quot;"] {
        assert!(!text.contains(e), "{e} in {}:\n{text}", log.display());
    }
    text
}

#[test]
fn secret_rejected_then_fixed_leaves_no_sarif_alert_and_seed_000_front_matter() {
    let tmp = secret_repo("memory-bank/plan", true);
    let (out, sarif, junit, log) =
        run_secret_plan(tmp.path(), "memory-bank/plan/2026-12-01_settings.md");
    assert_eq!(out.code, 0, "{out:?}");
    assert_github_sarif(&sarif);
    let ids: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert!(
        !ids.iter().any(|i| i.starts_with("code-review/secret")),
        "the key was removed in cycle 2; no alert stands: {ids:?}"
    );
    assert_eq!(junit["failures"], 0, "{junit:#}");
    assert!(
        log.starts_with(tmp.path().join("memory-bank/execute")),
        "{}",
        log.display()
    );
    assert_eq!(
        front_keys(&log),
        [
            "date",
            "end_commit",
            "env",
            "owner",
            "phase",
            "plan_path",
            "start_commit",
            "title"
        ]
    );
    let text = assert_no_entities(&log);
    assert!(
        text.contains("- T001 – cycle 1 rejected: code review"),
        "{text}"
    );
}

#[test]
fn blocked_after_a_rejected_cycle_keeps_its_findings_and_seed_001_front_matter() {
    let tmp = secret_repo(".artifacts/plan", false);
    let (out, sarif, junit, log) =
        run_secret_plan(tmp.path(), ".artifacts/plan/2026-12-01_settings.md");
    assert_ne!(out.code, 0, "{out:?}");
    assert_github_sarif(&sarif);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let secret = results
        .iter()
        .find(|r| {
            r["ruleId"]
                .as_str()
                .is_some_and(|i| i.starts_with("code-review/secret"))
        })
        .unwrap_or_else(|| panic!("cycle 1's finding stands after cycle 2 failed: {sarif:#}"));
    let loc = &secret["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "src/settings.py");
    assert_eq!(loc["region"]["startLine"], 2, "{secret:#}");
    assert!(
        results.iter().all(|r| r["properties"]["cycle"] == 1),
        "{sarif:#}"
    );
    // GitHub Actions: the standing finding is annotated and in the summary's table
    // (annotations go to stderr beside --format json).
    assert!(
        out.stderr
            .lines()
            .any(|l| l.starts_with("::error file=src/settings.py,line=2")),
        "{out:?}"
    );
    let md = std::fs::read_to_string(tmp.path().join(".git/step-summary.md")).unwrap();
    assert!(
        md.contains("| Severity | Rule | Location | Message |"),
        "{md}"
    );
    assert!(md.contains("src/settings.py:2"), "{md}");
    assert_eq!(junit["failures"], 1, "the blocked task: {junit:#}");
    assert!(
        log.starts_with(tmp.path().join(".artifacts/execute")),
        "{}",
        log.display()
    );
    assert_eq!(
        front_keys(&log),
        [
            "created_at",
            "end_commit",
            "env",
            "link",
            "ontological_relations",
            "owner",
            "plan_path",
            "start_commit",
            "tags",
            "title",
            "type",
            "uuid"
        ]
    );
    let text = assert_no_entities(&log);
    assert!(
        text.contains("- T001 – cycle 1 rejected: code review"),
        "{text}"
    );
    assert!(text.contains("- T001 – blocked: "), "{text}");
}
