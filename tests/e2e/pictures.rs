//! Pictures of plans and runs, checked by the real tools: `check --format dot` laid out by
//! Graphviz, the HTML report of a real run opened in headless Chromium, the trace checked.

use crate::support::*;
use std::path::{Path, PathBuf};
use std::process::Command;

const HOSTILE_TITLE: &str = "Demo <script>document.title='pwned'</script>";
const HOSTILE_TASK: &str = "Write b.txt \" onerror=\"document.title='pwned2'\" <img src=x onerror=\"document.title='pwned3'\">";

fn new_file(file: &str, content: &str) -> String {
    format!("diff --git a/{file} b/{file}\nnew file mode 100644\n--- /dev/null\n+++ b/{file}\n@@ -0,0 +1 @@\n+{content}\n")
}

fn change(file: &str, old: &str, new: &str) -> String {
    format!(
        "diff --git a/{file} b/{file}\n--- a/{file}\n+++ b/{file}\n@@ -1 +1 @@\n-{old}\n+{new}\n"
    )
}

const TEST_C: &str = "import os\n\nimport pytest\n\n\ndef test_c_is_ready():\n    if not os.path.exists(\"c.txt\"):\n        pytest.skip(\"no c.txt yet\")\n    assert open(\"c.txt\").read().strip() == \"ready\"\n";

/// T001 and T002 at once (wave 1; T001 reworked once), T003 after T001, blocked by a
/// failing pytest test in both its cycles. Titles carry markup that must never run.
fn run_repo() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    git_init(d);
    write(d, "tests/test_c.py", TEST_C);
    let task = |id: &str, title: &str, deps: &str, file: &str, accept: &str| {
        format!("### {id}: {title}\n**Summary**: Write {file}\n**Dependencies**: {deps}\n**Files/modules touched**: {file}\n**Acceptance test**: `{accept}`\n\n")
    };
    let plan = format!(
        "# Plan: {HOSTILE_TITLE}\n\n## Tasks\n\n{}{}{}",
        task("T001", "Write a.txt", "none", "a.txt", "grep -q good a.txt"),
        task("T002", HOSTILE_TASK, "none", "b.txt", "grep -q done b.txt"),
        task("T003", "Write c.txt", "T001", "c.txt", "test -f c.txt"),
    );
    write(d, "plan/plan.md", &plan);
    for (name, p) in [
        ("T001.patch", new_file("a.txt", "bad")),
        ("T001.2.patch", change("a.txt", "bad", "good")),
        ("T002.patch", new_file("b.txt", "done")),
        ("T003.patch", new_file("c.txt", "nope")),
        ("T003.2.patch", change("c.txt", "nope", "still nope")),
    ] {
        write(d, &format!("plan/patches/{name}"), &p);
    }
    write(
        d,
        "planexec.toml",
        "[policy]\ngrant = [\"sh\", \"grep\", \"test\", \"git\", \"python3\"]\n\
         [gates.tests]\nplugin = \"pytest\"\n\
         [run]\nimplementer = \"patch\"\ntask_gates = [\"tests\"]\nfinal_gates = [\"tests\"]\nmax_cycles = 2\n",
    );
    git(d, &["add", "."]);
    git(d, &["commit", "-qm", "plan"]);
    tmp
}

/// Headless Chromium on `page`: the DOM after its scripts ran, and a screenshot.
fn chromium(page: &Path, screenshot: &Path) -> String {
    let profile = tempfile::tempdir().unwrap();
    let base = |c: &mut Command| {
        c.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            "--window-size=1280,1600",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()));
    };
    let url = format!("file://{}", page.display());
    let mut dump = Command::new("chromium");
    base(&mut dump);
    let out = dump
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .expect("chromium runs (scripts/setup.sh installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut shot = Command::new("chromium");
    base(&mut shot);
    let s = shot
        .arg(format!("--screenshot={}", screenshot.display()))
        .arg(&url)
        .output()
        .unwrap();
    assert!(
        s.status.success() && screenshot.exists(),
        "{}",
        String::from_utf8_lossy(&s.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn cycles(run: &serde_json::Value) -> usize {
    run["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["cycles"].as_array().unwrap().len())
        .sum()
}

#[test]
fn the_html_report_of_a_real_run_shows_every_task_cycle_and_failure_and_runs_no_plan_text() {
    let tmp = run_repo();
    let d = tmp.path();
    let out = planexec(
        d,
        &[
            "run",
            "plan/plan.md",
            "--jobs",
            "2",
            "--report",
            "html=out/run.html",
            "--report",
            "trace=out/trace.json",
            "--report",
            "json=out/run.json",
        ],
    );
    assert_ne!(out.code, 0, "T003 blocks: {out:?}");
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("out/run.json")).unwrap()).unwrap();
    assert_eq!(run["status"], "blocked", "{out:?}");
    assert!(
        run["plan"]["title"].as_str().unwrap().contains("<script>"),
        "{}",
        run["plan"]
    );
    let statuses: Vec<&str> = run["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["done", "done", "blocked"]);
    assert_eq!(
        run["tasks"][0]["cycles"].as_array().unwrap().len(),
        2,
        "T001 reworked once"
    );
    // Every cycle timed its steps, and the schema names them.
    let timed = run["tasks"][0]["cycles"][1]["timings"].as_array().unwrap();
    let steps: Vec<&str> = timed.iter().map(|t| t["step"].as_str().unwrap()).collect();
    assert_eq!(steps.first(), Some(&"implementer"));
    assert_eq!(steps.last(), Some(&"commit"));
    // The boxed programs the implementer and the gates ran, timed by the host.
    let cycle = &run["tasks"][0]["cycles"][1];
    assert_eq!(
        cycle["implementer"]["programs"][0]["program"], "git",
        "{cycle}"
    );
    assert!(
        cycle["gates"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["programs"].as_array().is_some_and(|p| !p.is_empty())),
        "{cycle}"
    );
    assert!(
        steps.contains(&"gate") && steps.contains(&"review"),
        "{steps:?}"
    );
    crate::reports::assert_valid("docs/run-record.schema.json", &run);

    let page = d.join("out/run.html");
    let dom = chromium(&page, &d.join("out/run.png"));
    assert!(
        dom.contains("data-ready=\"1\""),
        "the page's own script ran: {dom}"
    );
    for id in ["T001", "T002", "T003"] {
        assert!(dom.contains(&format!("data-task=\"{id}\"")), "{id} missing");
    }
    let bars = dom.matches("class=\"bar cycle").count();
    assert_eq!(bars, cycles(&run), "a bar per cycle");
    assert!(dom.contains(&format!("{} cycles", cycles(&run))));
    assert!(dom.contains("test_c_is_ready"), "the failing test is named");
    // The hostile titles are shown as text and did nothing.
    assert!(dom.contains("&lt;script&gt;document.title='pwned'&lt;/script&gt;"));
    let title = dom
        .split("<title>")
        .nth(1)
        .and_then(|t| t.split("</title>").next());
    assert_eq!(
        title,
        Some("planexec run: Plan: Demo &lt;script&gt;document.title='pwned'&lt;/script&gt;")
    );
    assert!(
        !dom.contains("pwned</title>") && !dom.contains("<img"),
        "{dom}"
    );
    assert_eq!(
        dom.matches("<script").count(),
        1,
        "only the page's own script"
    );
    if let Ok(keep) = std::env::var("PLANEXEC_KEEP_SCREENSHOT") {
        std::fs::copy(d.join("out/run.png"), keep).unwrap();
    }

    // The execution log opens its Task Execution with the graph coloured by status.
    let log = std::fs::read_to_string(d.join(run["log_path"].as_str().unwrap())).unwrap();
    assert!(log.contains("```mermaid\nflowchart TD\n"), "{log}");
    assert!(
        log.contains("t2[\"T003: Write c.txt\"]:::blocked") && log.contains("t0 --> t2"),
        "{log}"
    );
    mermaid_parses(&[d.join(run["log_path"].as_str().unwrap())]);

    // The same page after the fact, from the JSON report and from the run id.
    let again = planexec(
        d,
        &["report", "html", "out/run.json", "-o", "out/again.html"],
    );
    assert_eq!(again.code, 0, "{again:?}");
    let html = std::fs::read_to_string(&page).unwrap();
    assert_eq!(
        std::fs::read_to_string(d.join("out/again.html")).unwrap(),
        html
    );
    let by_id = planexec(
        d,
        &[
            "report",
            "html",
            run["run_id"].as_str().unwrap(),
            "-o",
            "out/id.html",
        ],
    );
    assert_eq!(by_id.code, 0, "{by_id:?}");
    assert!(std::fs::read_to_string(d.join("out/id.html"))
        .unwrap()
        .contains("test_c_is_ready"));

    // The trace: well formed, nested, adding up to the run.
    let check = Command::new("python3")
        .arg(root().join("tests/data/check_trace.py"))
        .args([d.join("out/trace.json"), d.join("out/run.json")])
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
}

/// Every plan in the plan fixtures that `check` reads.
fn fixture_plans() -> Vec<PathBuf> {
    let base = root().join("crates/plan/tests/fixtures");
    let mut out = Vec::new();
    for dialect in [
        "execplan", "planpipe", "speckit", "tid", "reading", "lint", "wild",
    ] {
        for e in std::fs::read_dir(base.join(dialect)).unwrap() {
            out.push(e.unwrap().path());
        }
    }
    out.sort();
    out
}

#[test]
fn graphviz_lays_out_the_dot_of_every_fixture_plan() {
    let mut drawn = 0;
    for plan in fixture_plans() {
        let out = planexec(
            &root(),
            &["check", plan.to_str().unwrap(), "--format", "dot"],
        );
        if !out.stdout.starts_with("digraph") {
            continue; // unreadable on purpose, or a dependency cycle
        }
        let mut dot = Command::new("dot")
            .arg("-Tsvg")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("dot runs (scripts/setup.sh installs graphviz)");
        use std::io::Write;
        dot.stdin
            .take()
            .unwrap()
            .write_all(out.stdout.as_bytes())
            .unwrap();
        let o = dot.wait_with_output().unwrap();
        let svg = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success() && o.stderr.is_empty(),
            "{}: {}",
            plan.display(),
            String::from_utf8_lossy(&o.stderr)
        );
        let nodes = out.stdout.matches(" [label=").count();
        assert_eq!(
            svg.matches("class=\"node\"").count(),
            nodes,
            "{}",
            plan.display()
        );
        drawn += 1;
    }
    assert!(drawn >= 20, "only {drawn} fixture plans drawn");
}

/// Mermaid's own parser (tests/data/mermaid, installed by scripts/setup.sh) on `files`.
fn mermaid_parses(files: &[PathBuf]) {
    let dir = target_dir().join("mermaid");
    assert!(
        dir.join("node_modules/mermaid").is_dir(),
        "run scripts/setup.sh: no {}",
        dir.display()
    );
    std::fs::copy(
        root().join("tests/data/mermaid/check.mjs"),
        dir.join("check.mjs"),
    )
    .unwrap();
    let o = Command::new("node")
        .arg(dir.join("check.mjs"))
        .args(files)
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "{said}");
    assert!(
        said.contains(&format!("{} parsed, 0 failed", files.len())),
        "{said}"
    );
}

#[test]
fn mermaid_parses_the_graph_of_every_fixture_plan_and_refuses_a_broken_one() {
    let tmp = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (n, plan) in fixture_plans().into_iter().enumerate() {
        let out = planexec(
            &root(),
            &["check", plan.to_str().unwrap(), "--format", "mermaid"],
        );
        if out.stdout.starts_with("flowchart") {
            let f = tmp.path().join(format!("{n}.mmd"));
            std::fs::write(&f, out.stdout).unwrap();
            files.push(f);
        }
    }
    assert!(
        files.len() >= 20,
        "only {} fixture plans drawn",
        files.len()
    );
    mermaid_parses(&files);
    // The checker can fail: an unclosed label is refused.
    let bad = tmp.path().join("bad.mmd");
    std::fs::write(&bad, "flowchart TD\n  t0[\"T001: <b\n").unwrap();
    let dir = target_dir().join("mermaid");
    let o = Command::new("node")
        .arg(dir.join("check.mjs"))
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!o.status.success());
}

#[test]
fn gate_run_writes_the_html_page_and_the_trace_of_its_gates() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(
        d,
        "tests/test_calc.py",
        "def test_add():\n    assert 1 + 1 == 2\n\n\ndef test_sub():\n    assert 5 == 6\n",
    );
    let out = planexec(
        d,
        &[
            "gate",
            "run",
            "pytest",
            "--grant",
            "python3",
            "--no-cache",
            "--report",
            "html=g.html",
            "--report",
            "trace=g.trace.json",
            "--report",
            "json=g.json",
        ],
    );
    assert_eq!(out.code, 1, "{out:?}");
    let html = std::fs::read_to_string(d.join("g.html")).unwrap();
    assert!(
        html.contains("<text class=\"lane\" x=\"4\" y=\"36\">gate pytest</text>"),
        "{html}"
    );
    assert!(html.contains("tests/test_calc.py::test_sub"), "{html}");
    // The boxed programs the gate ran are in the record, and drawn inside the gate's bar.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("g.json")).unwrap()).unwrap();
    let programs = json["final_gates"][0]["programs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        programs
            .iter()
            .any(|p| p["program"] == "python3" && p["exit_code"] == 1),
        "{json}"
    );
    assert!(html.contains("class=\"bar program s-exit-1\""), "{html}");
    let check = Command::new("python3")
        .arg(root().join("tests/data/check_trace.py"))
        .args([d.join("g.trace.json"), d.join("g.json")])
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}
