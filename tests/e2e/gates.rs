//! The standard test and quality gates, end to end: the real `planexec` binary runs each
//! gate on the real tool (cargo, pytest, go, mypy, black, coverage) against fixture
//! projects copied into temp dirs, and the `--format json` report is checked for counts,
//! names, files and lines. Parity tests compare planexec's counts with the tool's own
//! summary on examples/python-app and examples/go-app.
//!
//! A missing tool fails the test with what to install (`.ci/run` installs them all); the
//! tests never skip silently.

use crate::support::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Fails the test, saying what to install, when `program args` does not run.
fn require(program: &str, args: &[&str], install: &str) {
    let ok = Command::new(program)
        .args(args)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        ok,
        "`{program} {}` does not run: install it ({install}); .ci/run installs everything the tests need",
        args.join(" ")
    );
}

fn require_python(module: &str) {
    require(
        "python3",
        &["-m", module, "--version"],
        &format!("python3 -m pip install {module}"),
    );
}

fn require_go() {
    require("go", &["version"], "apt-get install -y golang-go");
}

/// Copies plugins/<plugin>/tests/projects/<project> to `<tmp>/<project>`.
fn fixture(tmp: &Path, plugin: &str, project: &str) -> PathBuf {
    let dst = tmp.join(project);
    copy_tree(&plugin_project(plugin, project), &dst);
    dst
}

/// Copies examples/<name> to `<tmp>/<name>`.
fn example(tmp: &Path, name: &str) -> PathBuf {
    let dst = tmp.join(name);
    copy_tree(&root().join("examples").join(name), &dst);
    dst
}

/// `planexec gate run NAME --format json EXTRA...` in `dir`: the output and the report.
fn gate(dir: &Path, name: &str, extra: &[&str]) -> (Out, Value) {
    gate_env(dir, name, extra, &[])
}

fn gate_env(dir: &Path, name: &str, extra: &[&str], env: &[(&str, &str)]) -> (Out, Value) {
    let mut args = vec!["gate", "run", name, "--format", "json"];
    args.extend_from_slice(extra);
    let out = planexec_env(dir, &args, env);
    let report = gate_report(&out);
    (out, report)
}

/// (passed, failed, skipped, errored) of a report.
fn counts(r: &Value) -> (u64, u64, u64, u64) {
    let t = &r["tests"];
    assert!(t.is_object(), "report has no test counts: {r:#}");
    let n = |k: &str| t[k].as_u64().unwrap();
    (n("passed"), n("failed"), n("skipped"), n("errored"))
}

fn failures(r: &Value) -> Vec<Value> {
    r["failures"].as_array().cloned().unwrap_or_default()
}

fn failure<'a>(r: &'a Value, name: &str) -> &'a Value {
    r["failures"]
        .as_array()
        .and_then(|fs| fs.iter().find(|f| f["name"] == name))
        .unwrap_or_else(|| panic!("no failure named {name:?} in {r:#}"))
}

fn findings(r: &Value) -> Vec<Value> {
    r["findings"].as_array().cloned().unwrap_or_default()
}

// ---------------------------------------------------------------- cargo-test

/// Fixture crates build into one dir under the target dir, not in the workspace and not
/// under the outer build's lock.
fn fixture_target() -> String {
    target_dir()
        .join("e2e-gate-fixtures")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn cargo_test_fails_names_the_failing_test_then_passes_once_fixed() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = fixture(tmp.path(), "cargo-test", "failing");
    let tgt = fixture_target();
    let env = [("CARGO_TARGET_DIR", tgt.as_str())];
    // The box passes CARGO_TARGET_DIR through and lets cargo write there only
    // because the policy says so.
    std::fs::create_dir_all(&tgt).unwrap();
    write(
        &ws,
        "planexec.toml",
        &format!("[policy]\nenv = [\"CARGO_TARGET_DIR\"]\nwrites = [{tgt:?}]\n"),
    );

    // Two passing tests (tests::adds, adds_from_outside), one failing (tests::subtracts),
    // one #[ignore]d.
    let (out, r) = gate_env(&ws, "cargo-test", &[], &env);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(r["outcome"], "failed", "{out:?}");
    assert_eq!(counts(&r), (2, 1, 1, 0), "{r:#}");
    assert_eq!(failures(&r).len(), 1, "{r:#}");
    let f = failure(&r, "tests::subtracts");
    assert_eq!(f["path"], "src/lib.rs", "{f:#}");
    assert_eq!(f["line"], 19, "{f:#}");
    assert!(
        f["message"].as_str().unwrap().contains("left == right"),
        "{f:#}"
    );
    assert!(
        f["output"].as_str().unwrap().contains("checking 5 - 3"),
        "captured stdout kept: {f:#}"
    );

    // The human form names it too.
    let human = planexec_env(&ws, &["gate", "run", "cargo-test"], &env);
    assert_eq!(human.code, 1, "{human:?}");
    assert!(human.stdout.contains("tests::subtracts"), "{human:?}");

    // Fix the bug in the temp copy: the gate passes.
    let lib = std::fs::read_to_string(ws.join("src/lib.rs")).unwrap();
    let fixed = lib.replace("a + b // bug on purpose", "a - b");
    assert_ne!(lib, fixed);
    write(&ws, "src/lib.rs", &fixed);
    let (out, r) = gate_env(&ws, "cargo-test", &[], &env);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(r["outcome"], "passed");
    assert_eq!(counts(&r), (3, 0, 1, 0), "{r:#}");
    assert!(failures(&r).is_empty());
    assert!(
        !ws.join("target").exists(),
        "CARGO_TARGET_DIR from the environment reaches cargo"
    );
}

#[test]
fn cargo_test_compile_error_fails_with_the_compiler_message() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = fixture(tmp.path(), "cargo-test", "broken");
    let tgt = fixture_target();
    let (out, r) = gate_env(
        &ws,
        "cargo-test",
        &[],
        &[("CARGO_TARGET_DIR", tgt.as_str())],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(r["outcome"], "failed");
    let fs = findings(&r);
    let f = fs
        .iter()
        .find(|f| f["rule"] == "rustc/E0425")
        .unwrap_or_else(|| panic!("no E0425 finding: {r:#}"));
    assert_eq!(f["path"], "src/lib.rs");
    assert_eq!(f["line"], 2);
    assert!(f["message"].as_str().unwrap().contains("`c`"), "{f:#}");
}

// ---------------------------------------------------------------- pytest

#[test]
fn pytest_failing_tests_have_ids_files_and_lines() {
    require_python("pytest");
    let tmp = tempfile::tempdir().unwrap();
    let ws = fixture(tmp.path(), "pytest", "failing");
    // No planexec.toml: the gate works unconfigured; python3 is granted on the command line.
    let (out, r) = gate(&ws, "pytest", &["--grant", "python3"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(r["outcome"], "failed");
    // test_add, TestDiv::test_div pass; test_add_wrong, test_div_zero fail; skip + xfail
    // are skipped; the broken fixture is an error.
    assert_eq!(counts(&r), (2, 2, 2, 1), "{r:#}");
    let f = failure(&r, "tests/test_calc.py::test_add_wrong");
    assert_eq!(f["path"], "tests/test_calc.py");
    assert_eq!(f["line"], 12);
    assert!(
        f["message"].as_str().unwrap().contains("assert 4 == 5"),
        "{f:#}"
    );
    assert!(
        f["output"].as_str().unwrap().contains("about to check"),
        "{f:#}"
    );
    let f = failure(&r, "tests/test_calc.py::TestDiv::test_div_zero");
    assert_eq!(f["path"], "tests/test_calc.py");
    assert_eq!(f["line"], 20);
    assert!(
        f["message"].as_str().unwrap().contains("ZeroDivisionError"),
        "{f:#}"
    );
    failure(&r, "tests/test_calc.py::test_uses_broken");
    // Nothing left behind in the workspace.
    assert!(!ws.join(".pytest_cache").exists());
}

#[test]
fn pytest_passing_project_passes() {
    require_python("pytest");
    let tmp = tempfile::tempdir().unwrap();
    let ws = fixture(tmp.path(), "pytest", "passing");
    let (out, r) = gate(&ws, "pytest", &["--grant", "python3"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(r["outcome"], "passed");
    assert_eq!(counts(&r), (2, 0, 0, 0), "{r:#}");
}

// ---------------------------------------------------------------- go-test

#[test]
fn go_failing_subtest_is_named_with_file_and_line() {
    require_go();
    let tmp = tempfile::tempdir().unwrap();
    let ws = fixture(tmp.path(), "go-test", "failing");
    write(&ws, "planexec.toml", "[policy]\ngrant = [\"go\"]\n\n[gates.go-test]\npackages = [\"./calc\"]\nargs = [\"-count=1\"]\n");
    let (out, r) = gate(&ws, "go-test", &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(r["outcome"], "failed");
    // TestAdd and TestSub/small pass, TestSub/wrong fails, TestSkipped skips.
    assert_eq!(counts(&r), (2, 1, 1, 0), "{r:#}");
    assert_eq!(failures(&r).len(), 1, "{r:#}");
    let f = failure(&r, "example.com/failing/calc::TestSub/wrong");
    assert_eq!(f["path"], "calc/calc_test.go");
    assert_eq!(f["line"], 22);
    assert_eq!(f["message"], "Sub(1, 3) = -2, want 2");
}

#[test]
fn go_subtests_named_with_slashes_count_once_and_rerun_alone() {
    // `t.Run("a/b", ...)`: no phantom parent test, no phantom failure (issue 34),
    // and the printed rerun command runs just that subtest.
    require_go();
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("slashes");
    write(&ws, "go.mod", "module example.com/slashes\n\ngo 1.21\n");
    write(
        &ws,
        "paths_test.go",
        "package slashes\n\nimport \"testing\"\n\nfunc TestPaths(t *testing.T) {\n\
         \tt.Run(\"usr/bin\", func(t *testing.T) { t.Errorf(\"got %d\", 1) })\n\
         \tt.Run(\"usr/lib\", func(t *testing.T) {})\n\
         \tt.Run(\"etc\", func(t *testing.T) {})\n}\n",
    );
    write(
        &ws,
        "planexec.toml",
        "[policy]\ngrant = [\"go\"]\n\n[gates.go-test]\nargs = [\"-count=1\"]\n",
    );
    let (out, r) = gate(&ws, "go-test", &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(counts(&r), (2, 1, 0, 0), "{r:#}");
    assert_eq!(failures(&r).len(), 1, "{r:#}");
    let f = failure(&r, "example.com/slashes::TestPaths/usr/bin");
    assert_eq!(
        (f["path"].as_str(), f["line"].as_u64()),
        (Some("paths_test.go"), Some(6))
    );
    let human = planexec(&ws, &["gate", "run", "go-test"]);
    let cmd = human
        .stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("rerun: "))
        .unwrap_or_else(|| panic!("no rerun line: {human:?}"));
    let o = Command::new("sh")
        .args(["-c", &format!("{cmd} -v -count=1")])
        .current_dir(&ws)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let ran: Vec<&str> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("--- "))
        .collect();
    assert_eq!(
        ran.len(),
        2,
        "`{cmd}` ran more or less than TestPaths/usr/bin:\n{text}"
    );
    assert!(
        ran.iter().any(|l| l.contains("FAIL: TestPaths/usr/bin")),
        "{text}"
    );
}

#[test]
fn go_package_that_does_not_compile_names_package_and_compiler_message() {
    require_go();
    let tmp = tempfile::tempdir().unwrap();
    let ws = fixture(tmp.path(), "go-test", "failing");
    write(&ws, "planexec.toml", "[policy]\ngrant = [\"go\"]\n\n[gates.go-test]\npackages = [\"./broken\"]\nargs = [\"-count=1\"]\n");
    let (out, r) = gate(&ws, "go-test", &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(r["outcome"], "failed");
    let f = failure(&r, "example.com/failing/broken");
    assert!(
        f["message"].as_str().unwrap().contains("undefined: nope"),
        "{f:#}"
    );
    assert_eq!(f["path"], "broken/broken.go");
    assert_eq!(f["line"], 5);
    assert_eq!(counts(&r).3, 1, "a build failure counts as errored: {r:#}");
    assert!(
        r["summary"]
            .as_str()
            .unwrap()
            .contains("example.com/failing/broken"),
        "{r:#}"
    );
}

#[test]
fn go_passing_module_passes() {
    require_go();
    let tmp = tempfile::tempdir().unwrap();
    let ws = fixture(tmp.path(), "go-test", "passing");
    let (out, r) = gate(&ws, "go-test", &["--grant", "go"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(r["outcome"], "passed");
    // TestAdd, TestSub/small, TestSub/negative (leaf tests).
    assert_eq!(counts(&r), (3, 0, 0, 0), "{r:#}");
}

// ---------------------------------------------------------------- mypy

#[test]
fn mypy_errors_have_file_line_column_and_code() {
    require_python("mypy");
    let tmp = tempfile::tempdir().unwrap();
    let ws = fixture(tmp.path(), "mypy", "errors");
    let (out, r) = gate(&ws, "mypy", &["--grant", "python3"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(r["outcome"], "failed");
    let fs = findings(&r);
    assert_eq!(fs.len(), 3, "{r:#}");
    let f = fs
        .iter()
        .find(|f| f["rule"] == "mypy/return-value")
        .unwrap_or_else(|| panic!("{r:#}"));
    assert_eq!(f["path"], "src/app/__init__.py");
    assert_eq!(f["line"], 9);
    assert_eq!(f["column"], 12, "1-based column");
    // `greet(3)` spans columns 12..=19 (mypy's --show-error-end).
    assert_eq!(
        (f["end_line"].as_u64(), f["end_column"].as_u64()),
        (Some(9), Some(19)),
        "{f:#}"
    );
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("Incompatible return value type"),
        "{f:#}"
    );
    let f = fs
        .iter()
        .find(|f| f["rule"] == "mypy/assignment")
        .unwrap_or_else(|| panic!("{r:#}"));
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(12), Some(14))
    );
    assert!(fs.iter().any(|f| f["rule"] == "mypy/arg-type"), "{r:#}");
    assert!(
        !ws.join(".mypy_cache").exists(),
        "mypy's cache goes to scratch"
    );
}

#[test]
fn mypy_clean_project_passes() {
    require_python("mypy");
    let tmp = tempfile::tempdir().unwrap();
    let ws = fixture(tmp.path(), "mypy", "clean");
    let (out, r) = gate(&ws, "mypy", &["--grant", "python3"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(r["outcome"], "passed");
    assert!(findings(&r).is_empty(), "{r:#}");
}

// ---------------------------------------------------------------- black

#[test]
fn black_names_the_files_it_would_reformat() {
    require_python("black");
    let tmp = tempfile::tempdir().unwrap();
    let ws = fixture(tmp.path(), "black", "unformatted");
    let before = std::fs::read_to_string(ws.join("src/calc.py")).unwrap();
    let (out, r) = gate(&ws, "black", &["--grant", "python3"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(r["outcome"], "failed");
    let mut paths: Vec<String> = findings(&r)
        .iter()
        .map(|f| {
            assert_eq!(f["rule"], "black/would-reformat", "{f:#}");
            f["path"].as_str().unwrap().to_string()
        })
        .collect();
    paths.sort();
    assert_eq!(
        paths,
        ["src/calc.py", "src/data.py"],
        "workspace-relative, ok.py left out: {r:#}"
    );
    assert_eq!(
        std::fs::read_to_string(ws.join("src/calc.py")).unwrap(),
        before,
        "--check only"
    );
}

#[test]
fn black_clean_project_passes() {
    require_python("black");
    let tmp = tempfile::tempdir().unwrap();
    let ws = fixture(tmp.path(), "black", "clean");
    let (out, r) = gate(&ws, "black", &["--grant", "python3"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(r["outcome"], "passed");
}

#[test]
fn black_that_cannot_parse_a_file_is_errored_with_its_location() {
    require_python("black");
    let tmp = tempfile::tempdir().unwrap();
    let ws = fixture(tmp.path(), "black", "broken");
    let (out, r) = gate(&ws, "black", &["--grant", "python3"]);
    assert_eq!(
        out.code, 3,
        "exit 123 is the gate erroring, not failing: {out:?}"
    );
    assert_eq!(r["outcome"], "errored");
    let fs = findings(&r);
    let f = fs
        .iter()
        .find(|f| f["rule"] == "black/error")
        .unwrap_or_else(|| panic!("{r:#}"));
    assert_eq!(f["path"], "src/bad.py");
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(1), Some(9))
    );
}

// ---------------------------------------------------------------- coverage

/// The data file lives in a directory the policy lets the boxed pytest write
/// (coverage deletes and recreates it, which a single granted file does not allow).
const COVERAGE_TOML: &str = "[policy]\ngrant = [\"python3\"]\n\n[policy.plugins.pytest]\nwrites = [\".coverage-data/\"]\n\n[gates.pytest]\ncommand = \"python3 -m coverage run --data-file=.coverage-data/coverage -m pytest\"\n\n[gates.coverage]\nthreshold = 80\ndata_file = \".coverage-data/coverage\"\n";

/// Records coverage with the pytest gate (under `coverage run`), then runs the coverage gate.
fn pytest_then_coverage(ws: &Path) -> (Out, Value) {
    require_python("pytest");
    require_python("coverage");
    write(ws, "planexec.toml", COVERAGE_TOML);
    let (out, _) = gate(ws, "pytest", &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        ws.join(".coverage-data/coverage").exists(),
        "coverage run wrote its data file"
    );
    gate(ws, "coverage", &[])
}

#[test]
fn coverage_below_threshold_fails_with_total_and_threshold() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = fixture(tmp.path(), "coverage", "low");
    let (out, r) = pytest_then_coverage(&ws);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(r["outcome"], "failed");
    assert_eq!(r["coverage_percent"].as_f64(), Some(25.0), "{r:#}");
    let s = r["summary"].as_str().unwrap();
    assert!(
        s.contains("25.0%") && s.contains("80"),
        "total and threshold in the summary: {s}"
    );
    let fs = findings(&r);
    let f = fs
        .iter()
        .find(|f| f["path"] == "src/shapes/names.py")
        .unwrap_or_else(|| panic!("least covered file, workspace-relative: {r:#}"));
    assert_eq!(f["rule"], "coverage/least-covered");
    assert_eq!(f["line"], 4);
}

#[test]
fn coverage_at_threshold_passes() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = fixture(tmp.path(), "coverage", "full");
    let (out, r) = pytest_then_coverage(&ws);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(r["outcome"], "passed");
    assert_eq!(r["coverage_percent"].as_f64(), Some(100.0), "{r:#}");
}

// ---------------------------------------------------------------- junit

const JUNIT_TOML: &str = "[policy]\ngrant = [\"python3\"]\n\n[policy.plugins.junit]\nwrites = [\"reports/\"]\n\n[gates.unit]\nplugin = \"junit\"\ncommand = \"python3 -m pytest -p no:cacheprovider -o junit_family=xunit1 --junitxml=reports/junit.xml\"\nreport = \"reports/junit.xml\"\npytest_ids = true\n";

#[test]
fn junit_gate_reads_the_report_its_command_wrote() {
    require_python("pytest");
    let tmp = tempfile::tempdir().unwrap();
    let ws = fixture(tmp.path(), "pytest", "failing");
    write(&ws, "planexec.toml", JUNIT_TOML);
    let (out, r) = gate(&ws, "unit", &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(r["outcome"], "failed");
    assert!(ws.join("reports/junit.xml").exists());
    // Same counts as the pytest gate: the report is pytest's own.
    assert_eq!(counts(&r), (2, 2, 2, 1), "{r:#}");
    let f = failure(&r, "tests/test_calc.py::test_add_wrong");
    assert_eq!(f["path"], "tests/test_calc.py");
    assert_eq!(f["line"], 12);

    let ws = fixture(tmp.path(), "pytest", "passing");
    write(&ws, "planexec.toml", JUNIT_TOML);
    let (out, r) = gate(&ws, "unit", &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(counts(&r), (2, 0, 0, 0), "{r:#}");
}

const JUNIT_SCRIPT: &str = r#"mkdir -p out
cat > out/junit.xml <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="shop" tests="4" failures="1" errors="0" skipped="1">
    <testcase classname="shop.CartTest" name="adds" time="0.01"/>
    <testcase classname="shop.CartTest" name="removes" time="0.01"/>
    <testcase classname="shop.CartTest" name="totals" time="0.02" file="src/cart.ts" line="41">
      <failure message="expected 12 to equal 13">AssertionError: expected 12 to equal 13</failure>
    </testcase>
    <testcase classname="shop.CartTest" name="later"><skipped/></testcase>
  </testsuite>
</testsuites>
XML
"#;

#[test]
fn junit_gate_over_any_command_and_a_stale_report() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    write(&ws, "write-junit.sh", JUNIT_SCRIPT);
    write(
        &ws,
        "planexec.toml",
        "[policy.plugins.junit]\nwrites = [\"out/\"]\n\n[gates.unit]\nplugin = \"junit\"\nreport = \"out/junit.xml\"\n",
    );
    // The command comes from the command line; `sh` is granted there.
    let (out, r) = gate(
        &ws,
        "unit",
        &["--grant", "sh", "--", "sh", "write-junit.sh"],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(counts(&r), (2, 1, 1, 0), "{r:#}");
    let f = failure(&r, "shop.CartTest.totals");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("expected 12 to equal 13"),
        "{f:#}"
    );
    assert_eq!(f["path"], "src/cart.ts");
    assert_eq!(f["line"], 41);

    // A command that does not write the report: the old one (a minute old) is not read as fresh.
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
    std::fs::File::options()
        .write(true)
        .open(ws.join("out/junit.xml"))
        .unwrap()
        .set_modified(old)
        .unwrap();
    let (out, r) = gate(&ws, "unit", &["--grant", "true", "--", "true"]);
    assert_eq!(out.code, 3, "{out:?}");
    assert_eq!(r["outcome"], "errored");
    assert!(
        r["summary"]
            .as_str()
            .unwrap()
            .contains("older than this run"),
        "{r:#}"
    );

    // Not granted: a usage error before anything runs.
    let out = planexec(&ws, &["gate", "run", "unit", "--", "sh", "write-junit.sh"]);
    assert_eq!(out.code, 2, "{out:?}");
}

// ---------------------------------------------------------------- parity

/// Counts in a pytest summary line such as `==== 1 failed, 3 passed in 0.02s ====`.
fn pytest_summary(stdout: &str) -> (u64, u64, u64, u64) {
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.contains(" passed") || l.contains(" failed") || l.contains(" error"))
        .unwrap_or_else(|| panic!("no pytest summary line in:\n{stdout}"));
    let words: Vec<&str> = line
        .split([' ', ',', '='])
        .filter(|w| !w.is_empty())
        .collect();
    let (mut p, mut f, mut s, mut e) = (0, 0, 0, 0);
    for w in words.windows(2) {
        let Ok(n) = w[0].parse::<u64>() else { continue };
        match w[1] {
            "passed" => p += n,
            "failed" => f += n,
            "skipped" | "xfailed" | "xpassed" => s += n,
            "error" | "errors" => e += n,
            _ => {}
        }
    }
    (p, f, s, e)
}

#[test]
fn python_app_passes_every_gate_with_pytests_own_counts() {
    require_python("pytest");
    require_python("coverage");
    require_python("mypy");
    require_python("black");
    let tmp = tempfile::tempdir().unwrap();
    let ws = example(tmp.path(), "python-app");

    let (out, r) = gate(&ws, "pytest", &[]);
    assert_eq!(out.code, 0, "{out:?}");
    let ours = counts(&r);
    for g in ["mypy", "black", "coverage"] {
        let (out, r) = gate(&ws, g, &[]);
        assert_eq!(out.code, 0, "{g}: {out:?}");
        assert_eq!(r["outcome"], "passed", "{g}");
        if g == "coverage" {
            // Same total as coverage's own report (which rounds to a whole percent).
            let o = Command::new("python3")
                .args([
                    "-m",
                    "coverage",
                    "report",
                    "--format=total",
                    "--data-file=.coverage-data/coverage",
                ])
                .current_dir(&ws)
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            let theirs: f64 = String::from_utf8_lossy(&o.stdout).trim().parse().unwrap();
            let pct = r["coverage_percent"].as_f64().unwrap();
            assert!(
                (pct - theirs).abs() <= 0.5,
                "planexec {pct}% vs coverage {theirs}%"
            );
        }
    }

    // The tool's own summary line.
    let o = Command::new("python3")
        .args(["-m", "pytest", "-p", "no:cacheprovider"])
        .current_dir(&ws)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{stdout}");
    let theirs = pytest_summary(&stdout);
    assert_eq!(ours, theirs, "planexec vs pytest's summary line");
    assert!(ours.0 >= 3, "{ours:?}");
}

/// Leaf-test outcomes from `go test -v`: `--- PASS: TestX/sub` lines, parents of subtests
/// left out (planexec counts a test with subtests through its subtests).
fn go_v_counts(stdout: &str) -> (u64, u64, u64) {
    let mut tests: Vec<(String, &str)> = Vec::new();
    for l in stdout.lines() {
        let l = l.trim_start();
        for (prefix, what) in [
            ("--- PASS: ", "pass"),
            ("--- FAIL: ", "fail"),
            ("--- SKIP: ", "skip"),
        ] {
            if let Some(rest) = l.strip_prefix(prefix) {
                tests.push((rest.split_whitespace().next().unwrap().to_string(), what));
            }
        }
    }
    let leaf = |name: &str| {
        !tests
            .iter()
            .any(|(other, _)| other.starts_with(&format!("{name}/")))
    };
    let n = |what: &str| {
        tests
            .iter()
            .filter(|(name, w)| *w == what && leaf(name))
            .count() as u64
    };
    (n("pass"), n("fail"), n("skip"))
}

#[test]
fn go_app_counts_match_go_test_v() {
    require_go();
    let tmp = tempfile::tempdir().unwrap();
    let ws = example(tmp.path(), "go-app");
    let (out, r) = gate(&ws, "go-test", &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(r["outcome"], "passed");
    let (p, f, s, e) = counts(&r);

    let o = Command::new("go")
        .args(["test", "-v", "-count=1", "./..."])
        .current_dir(&ws)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let theirs = go_v_counts(&stdout);
    assert_eq!(
        (p, f, s),
        theirs,
        "planexec vs `go test -v` (leaf tests):\n{stdout}"
    );
    assert_eq!(e, 0);
    assert!(p >= 4, "{p}");
    // And `go test`'s own package summary agrees that every package passed.
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("ok ") || l.starts_with("ok\t")),
        "{stdout}"
    );
}

// ---------------------------------------------------------------- exact failures (issue 15)

#[test]
fn black_parse_error_for_a_target_version_is_a_finding_at_its_location() {
    require_python("black");
    let tmp = tempfile::tempdir().unwrap();
    // pyproject: requires-python >= 3.13 and target-version py313, so black says
    // `error: cannot parse for target version Python 3.13: PATH:2:10`.
    let ws = fixture(tmp.path(), "black", "target");
    let (out, r) = gate(&ws, "black", &["--grant", "python3"]);
    assert_eq!(out.code, 3, "{out:?}");
    assert_eq!(r["outcome"], "errored");
    let fs = findings(&r);
    let f = fs
        .iter()
        .find(|f| f["rule"] == "black/error")
        .unwrap_or_else(|| panic!("no black/error finding: {r:#}"));
    assert_eq!(f["path"], "src/legacy.py", "{r:#}");
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(2), Some(10))
    );
    let summary = r["summary"].as_str().unwrap();
    assert!(summary.contains("cannot parse src/legacy.py"), "{summary}");
    assert!(!summary.contains("internal error"), "{summary}");
}

/// A virtualenv with no packages at all (not even pip), outside the workspace, whose
/// `bin` goes first on PATH: `python3` there has none of the tools.
fn empty_venv(tmp: &Path) -> String {
    let venv = tmp.join("bare-env");
    let ok = Command::new("python3")
        .args(["-m", "venv", "--without-pip"])
        .arg(&venv)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "python3 -m venv failed: install python3-venv");
    format!(
        "{}:{}",
        venv.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

#[test]
fn a_missing_python_tool_is_errored_by_every_python_gate() {
    let tmp = tempfile::tempdir().unwrap();
    let path = empty_venv(tmp.path());
    for (gate_name, plugin, project) in [
        ("pytest", "pytest", "passing"),
        ("mypy", "mypy", "clean"),
        ("black", "black", "clean"),
        ("ruff", "ruff", "clean"),
    ] {
        let ws = fixture(tmp.path(), plugin, project);
        let (out, r) = gate_env(&ws, gate_name, &["--grant", "python3"], &[("PATH", &path)]);
        assert_eq!(out.code, 3, "{gate_name}: errored, not failed: {out:?}");
        assert_eq!(r["outcome"], "errored", "{gate_name}: {r:#}");
        let summary = r["summary"].as_str().unwrap();
        assert!(
            summary.contains(&format!("{gate_name} is not installed")),
            "{gate_name}: {summary}"
        );
        assert!(!summary.contains("Some("), "{summary}");
        std::fs::remove_dir_all(&ws).unwrap();
    }
}

#[test]
fn pytest_inherited_teardown_and_subtest_failures_match_pytest() {
    require_python("pytest");
    let tmp = tempfile::tempdir().unwrap();
    let ws = fixture(tmp.path(), "pytest", "exact");
    let (out, r) = gate(&ws, "pytest", &["--grant", "python3"]);
    assert_eq!(out.code, 1, "{out:?}");
    let o = Command::new("python3")
        .args(["-m", "pytest", "-p", "no:cacheprovider"])
        .current_dir(&ws)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    // pytest: 5 failed (2 inherited, 1 subtest + its test, 1 with a teardown error too),
    // 5 passed (one of them errors in teardown), 2 errors.
    assert_eq!(pytest_summary(&stdout), (5, 5, 0, 2), "{stdout}");
    assert_eq!(
        counts(&r),
        pytest_summary(&stdout),
        "planexec vs pytest: {r:#}"
    );
    // Every name is a node id pytest reruns: the module that collected the test.
    let mut names: Vec<String> = failures(&r)
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect();
    names.dedup();
    assert_eq!(
        names.len(),
        failures(&r).len(),
        "no duplicate names: {names:?}"
    );
    for n in &names {
        let o = Command::new("python3")
            .args(["-m", "pytest", "-p", "no:cacheprovider", "-q", n])
            .current_dir(&ws)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(
            !stdout.contains("no tests ran") && o.status.code() != Some(4),
            "{n} does not rerun: {stdout}"
        );
    }
    let f = failure(&r, "tests/test_shapes.py::TestTriangle::test_sides_even");
    assert_eq!(
        (f["path"].as_str(), f["line"].as_u64()),
        (Some("tests/test_base.py"), Some(11))
    );
    failure(&r, "tests/test_shapes.py::TestPentagon::test_sides_even");
    failure(&r, "tests/test_teardown.py::test_uses_resource");
}

#[test]
fn cargo_test_should_panic_and_doctest_failures_have_messages_and_file_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = fixture(tmp.path(), "cargo-test", "exact");
    let tgt = fixture_target();
    let env = [("CARGO_TARGET_DIR", tgt.as_str())];
    std::fs::create_dir_all(&tgt).unwrap();
    write(
        &ws,
        "planexec.toml",
        &format!("[policy]\nenv = [\"CARGO_TARGET_DIR\"]\nwrites = [{tgt:?}]\n"),
    );
    let (out, r) = gate_env(&ws, "cargo-test", &[], &env);
    assert_eq!(out.code, 1, "{out:?}");
    // cargo: unit tests `1 passed; 1 failed`, doc tests `0 passed; 2 failed`.
    assert_eq!(counts(&r), (1, 3, 0, 0), "{r:#}");
    let f = failure(&r, "tests::half_of_odd_panics");
    assert_eq!(f["message"], "test did not panic as expected", "{f:#}");
    assert_eq!(
        (f["path"].as_str(), f["line"].as_u64()),
        (Some("src/lib.rs"), Some(29))
    );
    let f = failure(&r, "src/lib.rs - half (line 7)");
    assert!(
        f["message"].as_str().unwrap().contains("compile_fail"),
        "{f:#}"
    );
    assert_eq!(
        (f["path"].as_str(), f["line"].as_u64()),
        (Some("src/lib.rs"), Some(7))
    );
    let f = failure(&r, "src/lib.rs - half (line 14)");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("half of three rounds down"),
        "{f:#}"
    );
    assert_eq!(
        (f["path"].as_str(), f["line"].as_u64()),
        (Some("src/lib.rs"), Some(16)),
        "the line of the assert_eq! in the file, not in rustdoc's wrapper: {f:#}"
    );
}

#[test]
fn go_failing_example_has_got_and_want_in_its_message_and_its_func_line() {
    require_go();
    let tmp = tempfile::tempdir().unwrap();
    let ws = fixture(tmp.path(), "go-test", "example");
    write(
        &ws,
        "planexec.toml",
        "[policy]\ngrant = [\"go\"]\n\n[gates.go-test]\nargs = [\"-count=1\"]\n",
    );
    let (out, r) = gate(&ws, "go-test", &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(counts(&r), (1, 1, 0, 0), "{r:#}");
    let f = failure(&r, "example.com/exdemo::ExampleDouble");
    assert_eq!(f["message"], "got: 6; want: 7", "{f:#}");
    assert_eq!(
        (f["path"].as_str(), f["line"].as_u64()),
        (Some("calc_test.go"), Some(14))
    );
}

#[test]
fn go_run_pattern_matching_nothing_says_so() {
    require_go();
    let tmp = tempfile::tempdir().unwrap();
    let ws = fixture(tmp.path(), "go-test", "example");
    write(&ws, "planexec.toml", "[policy]\ngrant = [\"go\"]\n\n[gates.go-test]\nargs = [\"-count=1\", \"-run\", \"NoMatch\"]\n");
    let (out, r) = gate(&ws, "go-test", &[]);
    assert_eq!(out.code, 1, "{out:?}");
    let summary = r["summary"].as_str().unwrap();
    assert!(
        summary.contains("no test matched the -run pattern"),
        "{summary}"
    );
    assert!(!summary.contains("no test files"), "{summary}");
}

#[test]
fn go_module_download_failure_is_summarised_by_the_error() {
    require_go();
    let tmp = tempfile::tempdir().unwrap();
    // Requires a module that is in no cache; the box has no network, so go cannot fetch it.
    let ws = fixture(tmp.path(), "go-test", "offline");
    let (out, r) = gate(&ws, "go-test", &["--grant", "go"]);
    assert_ne!(out.code, 0, "{out:?}");
    let summary = r["summary"].as_str().unwrap();
    assert!(!summary.contains("go: downloading"), "{summary}");
    assert!(summary.contains("example.org/nowhere/lib"), "{summary}");
    assert!(
        summary.contains("go mod download"),
        "says what to do: {summary}"
    );
}

// ---------------------------------------------------------------- ruff

/// A number before `word` in a tool's summary line (`Found 4 errors.`, `1 file would be reformatted`).
fn number_before(text: &str, word: &str) -> u64 {
    let words: Vec<&str> = text.split_whitespace().collect();
    words
        .windows(2)
        .rev()
        .find_map(|w| {
            (w[1].trim_end_matches(['.', ',', ')']) == word)
                .then(|| w[0].trim_start_matches('(').parse().ok())
                .flatten()
        })
        .unwrap_or(0)
}

/// ruff's own run in `ws`: `python3 -m ruff ARGS`, its stdout.
fn ruff_says(ws: &Path, args: &[&str]) -> String {
    let o = Command::new("python3")
        .args(["-m", "ruff"])
        .args(args)
        .arg("--no-cache")
        .current_dir(ws)
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn ruff_violations_and_unformatted_files_match_ruffs_summary() {
    require_python("ruff");
    let tmp = tempfile::tempdir().unwrap();
    let ws = fixture(tmp.path(), "ruff", "failing");
    let (out, r) = gate(&ws, "ruff", &["--grant", "python3"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(r["outcome"], "failed");
    let fs = findings(&r);
    let lint: Vec<&Value> = fs
        .iter()
        .filter(|f| f["rule"] != "ruff/unformatted")
        .collect();
    let unformatted: Vec<&Value> = fs
        .iter()
        .filter(|f| f["rule"] == "ruff/unformatted")
        .collect();
    // ruff: "Found 4 errors." and "1 file would be reformatted, 1 file already formatted".
    let theirs_lint = number_before(&ruff_says(&ws, &["check"]), "errors");
    let theirs_fmt = number_before(&ruff_says(&ws, &["format", "--check"]), "file");
    assert_eq!(
        (lint.len() as u64, unformatted.len() as u64),
        (theirs_lint, theirs_fmt),
        "{r:#}"
    );
    assert_eq!((theirs_lint, theirs_fmt), (4, 1));
    let f = fs
        .iter()
        .find(|f| f["rule"] == "ruff/B006")
        .unwrap_or_else(|| panic!("{r:#}"));
    assert_eq!(f["path"], "src/shop/__init__.py");
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(7), Some(27))
    );
    let f = fs
        .iter()
        .find(|f| f["rule"] == "ruff/E711")
        .unwrap_or_else(|| panic!("{r:#}"));
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(13), Some(21))
    );
    assert_eq!(unformatted[0]["path"], "src/shop/tax.py");
    assert!(
        !ws.join(".ruff_cache").exists(),
        "no cache in the workspace"
    );
}

#[test]
fn ruff_checks_even_when_the_project_says_fix() {
    // `[tool.ruff] fix = true` must not turn the gate into a write (issue 34):
    // the gate reports what `ruff check --no-fix` reports and changes nothing.
    require_python("ruff");
    let tmp = tempfile::tempdir().unwrap();
    let ws = fixture(tmp.path(), "ruff", "failing");
    let toml = std::fs::read_to_string(ws.join("pyproject.toml")).unwrap();
    std::fs::write(
        ws.join("pyproject.toml"),
        format!("{toml}\n[tool.ruff]\nfix = true\n"),
    )
    .unwrap();
    let before = std::fs::read_to_string(ws.join("src/shop/__init__.py")).unwrap();
    let (out, r) = gate(&ws, "ruff", &["--grant", "python3"]);
    assert_eq!(out.code, 1, "{out:?}");
    let lint = findings(&r)
        .iter()
        .filter(|f| f["rule"] != "ruff/unformatted")
        .count() as u64;
    let theirs = number_before(&ruff_says(&ws, &["check", "--no-fix"]), "errors");
    assert_eq!((lint, theirs), (4, 4), "{r:#}");
    assert_eq!(
        std::fs::read_to_string(ws.join("src/shop/__init__.py")).unwrap(),
        before
    );
}

#[test]
fn an_older_ruff_in_the_projects_venv_runs_the_same_gate() {
    // The version matrix (issue 34): ruff 0.12's `format` has no `--output-format`;
    // the gate asks again in text. The project's .venv pins that ruff.
    let wheels = target_dir().join("tool-versions/wheels");
    assert!(
        wheels.join(".ruff-0.12.12").exists(),
        "ruff 0.12.12's wheel is missing from {}: run scripts/setup.sh",
        wheels.display()
    );
    let tmp = tempfile::tempdir().unwrap();
    let ws = fixture(tmp.path(), "ruff", "failing");
    let venv = |args: &[&str]| {
        let o = Command::new(args[0])
            .args(&args[1..])
            .current_dir(&ws)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    venv(&["python3", "-m", "venv", ".venv"]);
    let links = wheels.to_string_lossy().into_owned();
    venv(&[
        ".venv/bin/pip",
        "install",
        "--quiet",
        "--no-index",
        "--find-links",
        &links,
        "ruff==0.12.12",
    ]);
    let (out, r) = gate(&ws, "ruff", &["--grant", "python3"]);
    assert_eq!(out.code, 1, "{out:?}");
    let fs = findings(&r);
    let unformatted: Vec<&Value> = fs
        .iter()
        .filter(|f| f["rule"] == "ruff/unformatted")
        .collect();
    let lint = fs.len() - unformatted.len();
    let theirs = |args: &[&str]| {
        let o = Command::new(".venv/bin/python")
            .args(["-m", "ruff"])
            .args(args)
            .arg("--no-cache")
            .current_dir(&ws)
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    assert!(theirs(&["--version"]).contains("0.12.12"));
    assert_eq!(
        (lint as u64, unformatted.len() as u64),
        (
            number_before(&theirs(&["check", "--no-fix"]), "errors"),
            number_before(&theirs(&["format", "--check"]), "file")
        ),
        "{r:#}"
    );
    assert_eq!(unformatted[0]["path"], "src/shop/tax.py", "{r:#}");
}

#[test]
fn ruff_clean_project_passes() {
    require_python("ruff");
    let tmp = tempfile::tempdir().unwrap();
    let ws = fixture(tmp.path(), "ruff", "clean");
    let (out, r) = gate(&ws, "ruff", &["--grant", "python3"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(r["outcome"], "passed");
    assert!(findings(&r).is_empty(), "{r:#}");
    assert!(ruff_says(&ws, &["check"]).contains("All checks passed"));
}

// ---------------------------------------------------------------- bandit

/// bandit's own count in `ws` at a severity level: the results of `bandit -r src -f json`.
fn bandit_says(ws: &Path, severity: &str) -> usize {
    let o = Command::new("python3")
        .args([
            "-m",
            "bandit",
            "-r",
            "src",
            "-f",
            "json",
            "-q",
            "--severity-level",
            severity,
        ])
        .current_dir(ws)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("bandit JSON: {e}"));
    v["results"].as_array().unwrap().len()
}

#[test]
fn bandit_issues_have_severity_confidence_and_location_and_honour_the_threshold() {
    require_python("bandit");
    let tmp = tempfile::tempdir().unwrap();
    let ws = fixture(tmp.path(), "bandit", "insecure");
    let (out, r) = gate(&ws, "bandit", &["--grant", "python3"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(r["outcome"], "failed");
    let fs = findings(&r);
    // bandit: 5 issues (B404, B602, B324, B101, B105); 2 of high severity.
    assert_eq!(fs.len(), bandit_says(&ws, "low"), "{r:#}");
    assert_eq!(fs.len(), 5);
    let f = fs
        .iter()
        .find(|f| f["rule"] == "bandit/B602")
        .unwrap_or_else(|| panic!("{r:#}"));
    assert_eq!(f["path"], "src/svc/app.py");
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(6), Some(12))
    );
    assert_eq!(f["severity"], "critical", "{f:#}");
    assert!(
        f["message"].as_str().unwrap().contains("confidence high"),
        "{f:#}"
    );
    assert!(
        r["summary"]
            .as_str()
            .unwrap()
            .starts_with("Security: 5 issue(s) (2 high, 0 medium, 3 low"),
        "{r:#}"
    );

    write(
        &ws,
        "planexec.toml",
        "[policy]\ngrant = [\"python3\"]\n\n[gates.bandit]\nseverity = \"high\"\n",
    );
    let (out, r) = gate(&ws, "bandit", &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(findings(&r).len(), bandit_says(&ws, "high"), "{r:#}");
    assert_eq!(findings(&r).len(), 2);
}

#[test]
fn bandit_secure_project_passes() {
    require_python("bandit");
    let tmp = tempfile::tempdir().unwrap();
    let ws = fixture(tmp.path(), "bandit", "secure");
    let (out, r) = gate(&ws, "bandit", &["--grant", "python3"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(r["outcome"], "passed");
    assert_eq!(bandit_says(&ws, "low"), 0);
}

// ---------------------------------------------------------------- eslint, tsc (Node)

/// Copies the JS/TS fixture (plugins/eslint/tests/projects/js-app: pinned eslint and
/// typescript in package.json and package-lock.json) and installs its own node_modules with
/// `npm ci`. A machine without npm fails the test (.ci/run checks it is there).
fn js_app(tmp: &Path) -> PathBuf {
    npm_fixture(tmp, "eslint", "js-app")
}

/// Copies plugins/<plugin>/tests/projects/<project> and runs `npm ci` in the copy: the
/// project's own pinned tools in its node_modules.
fn npm_fixture(tmp: &Path, plugin: &str, project: &str) -> PathBuf {
    let ws = fixture(tmp, plugin, project);
    let _ = std::fs::remove_dir_all(ws.join("node_modules"));
    let o = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--prefer-offline"])
        .current_dir(&ws)
        .output()
        .unwrap_or_else(|e| panic!("npm does not run ({e}): install Node 20 and npm"));
    assert!(
        o.status.success(),
        "npm ci failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    ws
}

/// The faults the failing cases add: an `==` (eqeqeq), an unused variable (no-unused-vars), a
/// `console` call (no-undef, and a no-console warning by eslint.config.js), and three type
/// errors (TS2322 twice, TS2345).
fn add_js_faults(ws: &Path) {
    write(ws, "src/bad.js", "export function same(a, b) {\n  const unused = 1;\n  console.log(a);\n  return a == b;\n}\n");
    write(ws, "src/bad.ts", "import { withTax } from \"./price\";\n\nexport const label: number = \"total\";\nexport const price: string = withTax(\"10\");\n");
}

/// Runs a tool of the fixture's node_modules natively: its stdout.
fn node_says(ws: &Path, script: &str, args: &[&str]) -> String {
    let o = Command::new("node")
        .arg(script)
        .args(args)
        .current_dir(ws)
        .output()
        .unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn eslint_and_tsc_pass_on_the_clean_project() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = js_app(tmp.path());
    for g in ["eslint", "tsc"] {
        let (out, r) = gate(&ws, g, &["--grant", "node"]);
        assert_eq!(out.code, 0, "{g}: {out:?}");
        assert_eq!(r["outcome"], "passed", "{g}: {r:#}");
        assert!(findings(&r).is_empty(), "{g}: {r:#}");
    }
}

#[test]
fn eslint_problems_match_eslints_summary() {
    eslint_matches_its_summary("js-app");
}

#[test]
fn eslint_8_with_a_legacy_eslintrc_runs_the_same_gate() {
    // The version matrix (issue 34): eslint 8.57 and its `.eslintrc.json`, which most
    // projects on eslint 8 still use.
    eslint_matches_its_summary("eslint8-app");
}

#[test]
fn eslint_9_runs_the_same_gate() {
    eslint_matches_its_summary("eslint9-app");
}

/// An older eslint's fixture holds only its pins (and its own config): the sources, and
/// the flat config when it has none, are js-app's.
fn eslint_project(tmp: &Path, project: &str) -> PathBuf {
    let ws = npm_fixture(tmp, "eslint", project);
    if !ws.join("src").exists() {
        let app = plugin_project("eslint", "js-app");
        copy_tree(&app.join("src"), &ws.join("src"));
        if !ws.join(".eslintrc.json").exists() {
            std::fs::copy(app.join("eslint.config.js"), ws.join("eslint.config.js")).unwrap();
        }
    }
    ws
}

fn eslint_matches_its_summary(project: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let ws = eslint_project(tmp.path(), project);
    let (out, r) = gate(&ws, "eslint", &["--grant", "node"]);
    assert_eq!(out.code, 0, "the clean project: {out:?}");
    assert!(findings(&r).is_empty(), "{r:#}");
    add_js_faults(&ws);
    let (out, r) = gate(&ws, "eslint", &["--grant", "node"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(r["outcome"], "failed");
    // eslint: "✖ 4 problems (3 errors, 1 warning)".
    let theirs = node_says(&ws, "node_modules/eslint/bin/eslint.js", &["."]);
    let fs = findings(&r);
    let errors = fs.iter().filter(|f| f["severity"] == "important").count() as u64;
    let warnings = fs.len() as u64 - errors;
    assert_eq!(
        (errors, warnings),
        (
            number_before(&theirs, "errors"),
            number_before(&theirs, "warning")
        ),
        "{theirs}\n{r:#}"
    );
    assert_eq!((errors, warnings), (3, 1));
    let f = fs
        .iter()
        .find(|f| f["rule"] == "eslint/eqeqeq")
        .unwrap_or_else(|| panic!("{r:#}"));
    assert_eq!(f["path"], "src/bad.js");
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(4), Some(12))
    );
    assert!(
        fs.iter().any(|f| f["rule"] == "eslint/no-unused-vars"),
        "{r:#}"
    );
    let f = fs
        .iter()
        .find(|f| f["rule"] == "eslint/no-console")
        .unwrap_or_else(|| panic!("{r:#}"));
    assert_eq!(f["severity"], "minor");
}

#[test]
fn tsc_errors_match_tscs_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = js_app(tmp.path());
    add_js_faults(&ws);
    let (out, r) = gate(&ws, "tsc", &["--grant", "node"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(r["outcome"], "failed");
    // tsc --pretty: "Found 3 errors in the same file, starting at: src/bad.ts:3".
    let theirs = node_says(
        &ws,
        "node_modules/typescript/bin/tsc",
        &["--noEmit", "--pretty", "-p", "."],
    );
    let fs = findings(&r);
    assert_eq!(
        fs.len() as u64,
        number_before(&theirs, "errors"),
        "{theirs}\n{r:#}"
    );
    assert_eq!(fs.len(), 3);
    let f = &fs[0];
    assert_eq!(f["rule"], "tsc/TS2322");
    assert_eq!(f["path"], "src/bad.ts");
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(3), Some(14))
    );
    assert!(
        fs.iter()
            .any(|f| f["rule"] == "tsc/TS2345" && f["column"] == 38),
        "{r:#}"
    );
}

#[test]
fn eslint_and_tsc_without_node_modules_are_errored_with_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = fixture(tmp.path(), "eslint", "js-app");
    let _ = std::fs::remove_dir_all(ws.join("node_modules"));
    for g in ["eslint", "tsc"] {
        let (out, r) = gate(&ws, g, &["--grant", "node"]);
        assert_eq!(out.code, 3, "{g}: {out:?}");
        assert!(
            r["summary"].as_str().unwrap().contains("npm install"),
            "{g}: {r:#}"
        );
    }
}

// ---------------------------------------------------------------- vitest, jest (Node)

/// A failing test file for the vitest and jest fixtures (`math > subtracts wrongly` fails at its
/// `expect` line, after `import`'s lines; `math > is skipped` is skipped) and one that cannot
/// even load.
fn add_failing_tests(ws: &Path, import: &str) {
    write(
        ws,
        "src/wrong.test.js",
        &format!("{import}\n\ndescribe(\"math\", () => {{\n  test(\"subtracts wrongly\", () => {{\n    expect(sub(3, 1)).toBe(4);\n  }});\n  test.skip(\"is skipped\", () => {{}});\n}});\n"),
    );
    write(
        ws,
        "src/broken.test.js",
        "describe(\"broken\", () => {\n  test(\"never runs\", () => {\n",
    );
}

/// `Tests:  1 failed, 2 passed, 4 total` (jest) / `Tests  1 failed | 2 passed | 1 skipped (4)`
/// (vitest): the numbers before each word of the runner's own summary line.
fn runner_tests_line(text: &str) -> String {
    text.lines()
        .map(jest_plain)
        .find(|l| l.trim_start().starts_with("Tests"))
        .unwrap_or_else(|| panic!("no Tests line in:\n{text}"))
}

fn jest_plain(l: &str) -> String {
    let mut out = String::new();
    let mut skip = false;
    for c in l.chars() {
        if c == '\u{1b}' {
            skip = true;
        } else if skip {
            skip = !c.is_ascii_alphabetic();
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn vitest_counts_and_failures_match_vitests_summary() {
    vitest_matches_its_summary("vitest-app"); // vitest 4, vite 8
}

#[test]
fn vitest_as_an_acceptance_command_runs_in_the_box() {
    // Issue 25: a plan's acceptance command runs through the `command` gate; vitest
    // writes its cache and a bundled config into the tree, which the copy-on-write
    // workspace takes (it used to fail on the read-only workspace).
    let tmp = tempfile::tempdir().unwrap();
    let ws = npm_fixture(tmp.path(), "vitest", "vitest-app");
    let out = planexec(
        &ws,
        &[
            "gate",
            "run",
            "command",
            "--format",
            "json",
            "--grant",
            "node",
            "--",
            "node",
            "node_modules/vitest/vitest.mjs",
            "run",
        ],
    );
    let r = gate_report(&out);
    assert_eq!(r["outcome"], "passed", "{out:?}");
    assert!(
        !ws.join("node_modules/.vite").exists(),
        "its cache reached the workspace"
    );
}

#[test]
fn an_older_vitest_runs_the_same_gate() {
    // The version matrix (issue 34): vitest 2.1 rejects `--configLoader`, which
    // the gate passed while the workspace was read-only.
    vitest_matches_its_summary("vitest2-app");
}

#[test]
fn a_failed_title_with_regex_characters_reruns_exactly_that_test() {
    // Issue 34: `FILE -t TITLE` matched nothing (or more) when a title holds
    // regex characters; the rerun command the report prints runs that test alone.
    let tmp = tempfile::tempdir().unwrap();
    let ws = npm_fixture(tmp.path(), "vitest", "vitest-app");
    write(
        &ws,
        "src/odd.test.js",
        "import { describe, expect, test } from \"vitest\";\n\
         describe(\"sum (a + b) * 2\", () => {\n\
           test(\"is [fast] $cheap?\", () => { expect(1).toBe(2); });\n\
           test(\"is [fast] $cheap? twice\", () => { expect(1).toBe(1); });\n\
         });\n",
    );
    let out = planexec(&ws, &["gate", "run", "vitest", "--grant", "node"]);
    assert_eq!(out.code, 1, "{out:?}");
    let cmd = out
        .stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("rerun: "))
        .unwrap_or_else(|| panic!("no rerun line: {out:?}"));
    assert!(cmd.contains("-t '^sum"), "{cmd}");
    let o = Command::new("sh")
        .args(["-c", cmd])
        .current_dir(&ws)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let line = runner_tests_line(&text);
    assert_eq!(
        (
            number_before(&line, "failed"),
            number_before(&line, "passed")
        ),
        (1, 0),
        "`{cmd}` did not rerun exactly the failed test:\n{text}"
    );
}

fn vitest_matches_its_summary(project: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let ws = npm_fixture(tmp.path(), "vitest", project);
    if !ws.join("src").exists() {
        // An older vitest's fixture holds only its pins: the tests are vitest-app's.
        let app = plugin_project("vitest", "vitest-app");
        copy_tree(&app.join("src"), &ws.join("src"));
        std::fs::copy(app.join("vitest.config.js"), ws.join("vitest.config.js")).unwrap();
    }
    let (out, r) = gate(&ws, "vitest", &["--grant", "node"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(counts(&r), (2, 0, 1, 0), "{r:#}");
    add_failing_tests(
        &ws,
        "import { describe, expect, test } from \"vitest\";\nimport { sub } from \"./math.js\";",
    );
    let (out, r) = gate(&ws, "vitest", &["--grant", "node"]);
    assert_eq!(out.code, 1, "{out:?}");
    let theirs = node_says(&ws, "node_modules/vitest/vitest.mjs", &["run"]);
    let line = runner_tests_line(&theirs);
    let (p, f, s, e) = counts(&r);
    assert_eq!(
        (p, f, s),
        (
            number_before(&line, "passed"),
            number_before(&line, "failed"),
            number_before(&line, "skipped")
        ),
        "{line}\n{r:#}"
    );
    assert_eq!((p, f, s, e), (2, 1, 2, 1), "{r:#}");
    let fl = failure(&r, "src/wrong.test.js > math > subtracts wrongly");
    assert_eq!(
        (fl["path"].as_str(), fl["line"].as_u64()),
        (Some("src/wrong.test.js"), Some(6)),
        "the expect line (two import lines)"
    );
    assert!(
        fl["message"]
            .as_str()
            .unwrap()
            .contains("expected 2 to be 4"),
        "{fl:#}"
    );
    failure(&r, "src/broken.test.js");
    let _ = std::fs::remove_dir_all(ws.join("node_modules/.vite")); // node_says' own run
    let (_, again) = gate(&ws, "vitest", &["--grant", "node"]);
    assert_eq!(counts(&again), (p, f, s, e));
    assert!(
        !ws.join("node_modules/.vite").exists(),
        "the gate's cache reached the workspace"
    );
}

#[test]
fn jests_flags_never_reach_the_tests_process_argv() {
    // A CLI library's tests parse process.argv; jest runs one test file in its own
    // process, so the gate's --ci --json ... used to land there (issue 34).
    for project in ["jest-app", "jest29-app"] {
        let tmp = tempfile::tempdir().unwrap();
        let ws = npm_fixture(tmp.path(), "jest", project);
        write(
            &ws,
            "src/argv.test.js",
            "test(\"sees the argv of a plain jest run\", () => {\n  expect(process.argv.slice(2)).toEqual([]);\n});\n",
        );
        let (out, r) = gate(&ws, "jest", &["--grant", "node", "--", "src/argv.test.js"]);
        assert_eq!(out.code, 0, "{project}: {out:?}");
        assert_eq!(counts(&r), (1, 0, 0, 0), "{project}: {r:#}");
    }
}

#[test]
fn jest_counts_and_failures_match_jests_summary() {
    jest_matches_its_summary("jest-app");
}

#[test]
fn jest_29_runs_the_same_gate() {
    // The version matrix (issue 34): jest 29, the version most projects pin.
    jest_matches_its_summary("jest29-app");
}

fn jest_matches_its_summary(project: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let ws = npm_fixture(tmp.path(), "jest", project);
    if !ws.join("src").exists() {
        // An older jest's fixture holds only its pins: the tests are jest-app's.
        copy_tree(
            &plugin_project("jest", "jest-app").join("src"),
            &ws.join("src"),
        );
    }
    let (out, r) = gate(&ws, "jest", &["--grant", "node"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(counts(&r), (2, 0, 1, 0), "{r:#}");
    add_failing_tests(&ws, "const { sub } = require(\"./math\");");
    let (out, r) = gate(&ws, "jest", &["--grant", "node"]);
    assert_eq!(out.code, 1, "{out:?}");
    let theirs = node_says(&ws, "node_modules/jest/bin/jest.js", &["--ci"]);
    let line = runner_tests_line(&theirs);
    let (p, f, s, e) = counts(&r);
    let their_skipped = number_before(&line, "skipped") + number_before(&line, "todo");
    assert_eq!(
        (p, f, s),
        (
            number_before(&line, "passed"),
            number_before(&line, "failed"),
            their_skipped
        ),
        "{line}\n{r:#}"
    );
    assert_eq!((p, f, s, e), (2, 1, 2, 1), "{r:#}");
    let fl = failure(&r, "src/wrong.test.js > math > subtracts wrongly");
    assert_eq!(
        (fl["path"].as_str(), fl["line"].as_u64()),
        (Some("src/wrong.test.js"), Some(5)),
        "{fl:#}"
    );
    assert!(
        fl["message"].as_str().unwrap().contains("Expected: 4"),
        "{fl:#}"
    );
    failure(&r, "src/broken.test.js");
}

// ---------------------------------------------------------------- GitHub step summary

#[test]
fn github_step_summary_lists_the_failing_tests() {
    require_python("pytest");
    let tmp = tempfile::tempdir().unwrap();
    let ws = fixture(tmp.path(), "pytest", "failing");
    let summary = tmp.path().join("step-summary.md");
    let s = summary.to_string_lossy().into_owned();
    let (out, _) = gate_env(
        &ws,
        "pytest",
        &["--grant", "python3"],
        &[("GITHUB_ACTIONS", "true"), ("GITHUB_STEP_SUMMARY", &s)],
    );
    assert_eq!(out.code, 1, "{out:?}");
    let md = std::fs::read_to_string(&summary)
        .unwrap_or_else(|e| panic!("no step summary ({e}): {out:?}"));
    assert!(md.contains("### Failing tests"), "{md}");
    assert!(
        md.contains("| pytest | `tests/test_calc.py::test_add_wrong` | tests/test_calc.py:12 | assert 4 == 5 |"),
        "{md}"
    );
    assert!(
        md.contains("`tests/test_calc.py::TestDiv::test_div_zero`"),
        "{md}"
    );
}

// ---------------------------------------------------------------- gate run -- ARGS

#[test]
fn gate_run_flags_after_the_double_dash_go_to_the_tool() {
    require_python("pytest");
    let tmp = tempfile::tempdir().unwrap();
    let ws = fixture(tmp.path(), "pytest", "failing");
    let (out, r) = gate(&ws, "pytest", &["--grant", "python3", "--", "-k", "add"]);
    assert_eq!(out.code, 1, "{out:?}");
    // -k add: test_add passes, test_add_wrong fails; the rest is deselected.
    assert_eq!(counts(&r), (1, 1, 0, 0), "{r:#}");
    failure(&r, "tests/test_calc.py::test_add_wrong");

    // A path after `--` is the tool's argument, not a program to grant (issue 34).
    let (out, r) = gate(
        &ws,
        "pytest",
        &["--grant", "python3", "--", "tests/test_calc.py::test_add"],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(counts(&r), (1, 0, 0, 0), "{r:#}");
}

#[test]
fn pytest_native_tracebacks_still_locate_the_failing_line() {
    require_python("pytest");
    let tmp = tempfile::tempdir().unwrap();
    let ws = fixture(tmp.path(), "pytest", "failing");
    let (out, r) = gate(&ws, "pytest", &["--grant", "python3", "--", "--tb=native"]);
    assert_eq!(out.code, 1, "{out:?}");
    let f = failure(&r, "tests/test_calc.py::test_add_wrong");
    assert_eq!(
        (f["path"].as_str(), f["line"].as_u64()),
        (Some("tests/test_calc.py"), Some(12)),
        "the assert, not the def: {f:#}"
    );
}

#[test]
fn pytest_line_and_no_tracebacks_still_locate_the_failing_line() {
    require_python("pytest");
    let tmp = tempfile::tempdir().unwrap();
    let ws = fixture(tmp.path(), "pytest", "failing");
    let at_assert = |r: &Value, how: &str| {
        let f = failure(r, "tests/test_calc.py::test_add_wrong");
        assert_eq!(
            (f["path"].as_str(), f["line"].as_u64()),
            (Some("tests/test_calc.py"), Some(12)),
            "{how}: the assert, not the def (line 11): {f:#}"
        );
    };
    for flags in [&["--tb=line"][..], &["--tb", "no"][..]] {
        let mut args = vec!["--grant", "python3", "--"];
        args.extend_from_slice(flags);
        let (out, r) = gate(&ws, "pytest", &args);
        assert_eq!(out.code, 1, "{out:?}");
        at_assert(&r, &flags.join(" "));
    }
    // The project's own `addopts` asks for line tracebacks.
    let toml = std::fs::read_to_string(ws.join("pyproject.toml")).unwrap();
    write(
        &ws,
        "pyproject.toml",
        &format!("{toml}addopts = \"--tb=line\"\n"),
    );
    let (out, r) = gate(&ws, "pytest", &["--grant", "python3"]);
    assert_eq!(out.code, 1, "{out:?}");
    at_assert(&r, "addopts --tb=line");
}

#[test]
fn pytest_in_a_subproject_names_and_paths_are_workspace_relative_and_rerun() {
    require_python("pytest");
    let tmp = tempfile::tempdir().unwrap();
    // The Python project (with its pyproject.toml, so pytest's rootdir) is `app/` of a
    // bigger repository: pytest prints paths relative to app/.
    let ws = tmp.path().join("repo");
    std::fs::create_dir_all(&ws).unwrap();
    let app = fixture(&ws, "pytest", "failing");
    std::fs::rename(&app, ws.join("app")).unwrap();
    write(
        &ws,
        "planexec.toml",
        "[policy]\ngrant = [\"python3\"]\n\n[gates.pytest]\ncwd = \"app\"\n",
    );
    let (out, r) = gate(&ws, "pytest", &[]);
    assert_eq!(out.code, 1, "{out:?}");
    // Name and location on one base, the workspace.
    let id = "app/tests/test_calc.py::test_add_wrong";
    let f = failure(&r, id);
    assert_eq!(
        (f["path"].as_str(), f["line"].as_u64()),
        (Some("app/tests/test_calc.py"), Some(12)),
        "{f:#}"
    );
    assert_reruns(&ws, id);
}

/// `python3 -m pytest ID` at the workspace root runs exactly that one test, and it fails.
fn assert_reruns(ws: &Path, id: &str) {
    let rerun = std::process::Command::new("python3")
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", id])
        .current_dir(ws)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&rerun.stdout);
    assert!(
        said.contains("1 failed") && !said.contains("passed"),
        "{id}: {said}"
    );
}

#[test]
fn pytest_run_from_a_subdirectory_locates_failures_workspace_relative() {
    require_python("pytest");
    let tmp = tempfile::tempdir().unwrap();
    let ws = fixture(tmp.path(), "pytest", "failing");
    // pytest's rootdir stays the workspace (pyproject.toml there): its paths are relative to
    // it, not to `cwd`.
    write(
        &ws,
        "planexec.toml",
        "[policy]\ngrant = [\"python3\"]\n\n[gates.pytest]\ncwd = \"tests\"\n",
    );
    let (out, r) = gate(&ws, "pytest", &[]);
    assert_eq!(out.code, 1, "{out:?}");
    let f = failure(&r, "tests/test_calc.py::test_add_wrong");
    assert_eq!(
        (f["path"].as_str(), f["line"].as_u64()),
        (Some("tests/test_calc.py"), Some(12)),
        "{f:#}"
    );
    assert_reruns(&ws, "tests/test_calc.py::test_add_wrong");
}

#[test]
fn pytest_keeps_its_own_cache_between_runs_per_gate_outside_the_workspace() {
    require_python("pytest");
    let tmp = tempfile::tempdir().unwrap();
    let ws = fixture(tmp.path(), "pytest", "failing");
    let tools = tmp.path().join("tools");
    let tools_s = tools.to_string_lossy().into_owned();
    let env = [("PLANEXEC_TOOL_CACHE", tools_s.as_str())];
    let args = ["--grant", "python3", "--no-cache"];
    let (out, r) = gate_env(&ws, "pytest", &args, &env);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(counts(&r), (2, 2, 2, 1), "{r:#}");
    // `--lf` reruns only what failed last time: pytest found its cache from the first run.
    let lf: Vec<&str> = args.iter().copied().chain(["--", "--lf"]).collect();
    let (out, r) = gate_env(&ws, "pytest", &lf, &env);
    assert_eq!(out.code, 1, "{out:?}");
    let (passed, failed, _, errored) = counts(&r);
    assert_eq!(
        (passed, failed, errored),
        (0, 2, 1),
        "only the last failures ran: {r:#}"
    );
    assert!(
        !ws.join(".pytest_cache").exists(),
        "nothing written into the workspace"
    );
    assert!(
        !ws.join("tests/__pycache__").exists(),
        "bytecode goes to the box's prefix"
    );
    let found = walk(&tools)
        .into_iter()
        .any(|p| p.ends_with("pytest/v/cache/lastfailed"));
    assert!(
        found,
        "pytest's cache is under PLANEXEC_TOOL_CACHE: {:?}",
        walk(&tools)
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_gates_default_flags_can_be_dropped_or_replaced_by_config() {
    // Issue 34: a default flag that does not fit a project can be dropped or replaced in
    // planexec.toml; the programs the gate ran (in the record) show the edited arguments.
    require_python("pytest");
    let tmp = tempfile::tempdir().unwrap();
    let ws = fixture(tmp.path(), "pytest", "failing");
    let toml = |gate: &str| {
        std::fs::write(
            ws.join("planexec.toml"),
            format!("[policy]\ngrant = [\"python3\"]\n\n[gates.pytest]\n{gate}"),
        )
        .unwrap()
    };
    toml(
        "drop_flags = [\"-o junit_log_passing_tests=false\"]\n\
         replace_flags = { \"--tb=short\" = \"--tb=native\" }\n",
    );
    let (out, r) = gate(&ws, "pytest", &["--trust", "--report", "json=g.json"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(counts(&r), (2, 2, 2, 1), "{r:#}");
    let rec: Value =
        serde_json::from_str(&std::fs::read_to_string(ws.join("g.json")).unwrap()).unwrap();
    let programs = rec["final_gates"][0]["programs"]
        .as_array()
        .unwrap()
        .clone();
    let run = programs
        .iter()
        .map(|p| p["args"].as_str().unwrap_or_default())
        .find(|a| a.contains("--junitxml"))
        .unwrap_or_else(|| panic!("{programs:#?}"));
    assert!(run.contains("--tb=native"), "{run}");
    assert!(!run.contains("--tb=short"), "{run}");
    assert!(!run.contains("junit_log_passing_tests"), "{run}");
    assert!(run.contains("junit_family=xunit1"), "{run}");

    // A value of the wrong shape is a config error naming the gate and the key.
    toml("drop_flags = \"--tb=short\"\n");
    let out = planexec_env(&ws, &["gate", "run", "pytest", "--trust"], &[]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("[gates.pytest] field `drop_flags` must be a list of strings"),
        "{out:?}"
    );
}
