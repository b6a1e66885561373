//! The `coverage` gate: reads coverage.py's JSON report (running `coverage json` into scratch when
//! a `.coverage` data file exists) and passes when the total is at or above the threshold.

use planexec_pdk::{Command, Finding, Gate, GateReport, GateRequest, Host, Outcome, Severity};
use serde::de::IgnoredAny;
use std::collections::BTreeMap;
use std::path::Path;
use testfmt::Timeout;

#[derive(serde::Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Config {
    /// Minimum total percent covered (default 80).
    threshold: Option<f64>,
    /// `"auto"` (default: run `coverage json` if the data file exists, else read `report`),
    /// `"always"` or `"never"` (only read `report`).
    run: Option<String>,
    /// An existing JSON report to read when not running (default `coverage.json`).
    report: Option<String>,
    /// coverage's data file, workspace-relative (default `.coverage`).
    data_file: Option<String>,
    /// How to start coverage (default `python3 -m coverage`).
    command: Option<String>,
    /// Least-covered files listed as findings (default 5).
    least_covered: Option<usize>,
    timeout: Option<Timeout>,
    cwd: Option<String>,
    tail_lines: Option<usize>,
}

#[derive(serde::Deserialize)]
pub struct Report {
    pub totals: Summary,
    #[serde(default)]
    pub files: BTreeMap<String, FileEntry>,
}

#[derive(serde::Deserialize)]
pub struct Summary {
    pub percent_covered: f64,
    #[serde(default)]
    pub covered_lines: u64,
    #[serde(default)]
    pub num_statements: u64,
    #[serde(default)]
    pub missing_lines: u64,
}

#[derive(serde::Deserialize)]
pub struct FileEntry {
    pub summary: Summary,
    #[serde(default)]
    pub missing_lines: Vec<u32>,
    #[serde(default)]
    pub executed_lines: IgnoredAny,
}

const OUT: &str = "coverage.json";

pub struct CoverageGate;

impl Gate for CoverageGate {
    fn check(req: GateRequest, host: &dyn Host) -> Result<GateReport, String> {
        let cfg: Config = planexec_pdk::config(&req.config)?;
        let threshold = cfg.threshold.unwrap_or(80.0);
        let cwd = cfg.cwd.as_deref();
        let ws = Path::new(&req.mounts.workspace).join(cwd.unwrap_or(""));
        let data_file = cfg.data_file.clone().unwrap_or_else(|| ".coverage".into());
        let run = match cfg.run.as_deref().unwrap_or("auto") {
            "always" => true,
            "never" => false,
            "auto" => ws.join(&data_file).exists(),
            o => {
                return Err(format!(
                    "config: run must be \"auto\", \"always\" or \"never\", not {o:?}"
                ))
            }
        };
        let tail = cfg.tail_lines.unwrap_or(40);
        let mut exec_out = None;
        let path = if run {
            let (program, base) =
                testfmt::split_program(cfg.command.as_deref().unwrap_or("python3 -m coverage"))?;
            let mut cmd = Command::new(program).args(base).args([
                "json",
                "-o",
                &format!("{{scratch}}/{OUT}"),
            ]);
            if cfg.data_file.is_some() {
                cmd = cmd.arg(format!("--data-file={data_file}"));
            }
            cmd.cwd = cfg.cwd.clone();
            cmd.timeout_ms = testfmt::timeout_ms(&cfg.timeout)?;
            let p = Path::new(&req.mounts.scratch).join(OUT);
            let _ = std::fs::remove_file(&p);
            let out = match testfmt::run(host, &cmd) {
                Ok(o) => o,
                Err(r) => return Ok(r),
            };
            if out.exit_code != Some(0) {
                let first = out
                    .combined()
                    .lines()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("")
                    .to_string();
                let r = planexec_pdk::report(
                    Outcome::Errored,
                    format!(
                        "`coverage json` {}: {first}",
                        testfmt::exit_text(out.exit_code)
                    ),
                );
                return Ok(testfmt::finish(r, &out, tail));
            }
            exec_out = Some(out);
            p
        } else {
            let rp = cfg.report.clone().unwrap_or_else(|| OUT.into());
            let p = testfmt::guest_path(&req.mounts, cwd, &rp);
            if !p.exists() {
                return Ok(planexec_pdk::report(
                    Outcome::Errored,
                    format!("no coverage data: neither {data_file} nor {rp} exists (run the tests under `coverage run` first)"),
                ));
            }
            p
        };
        let file = std::fs::File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let report: Report = match serde_json::from_reader(std::io::BufReader::new(file)) {
            Ok(r) => r,
            Err(e) => {
                return Ok(planexec_pdk::report(
                    Outcome::Errored,
                    format!("unreadable coverage JSON: {e}"),
                ))
            }
        };
        let mut r = judge(&report, threshold, cfg.least_covered.unwrap_or(5), cwd);
        if let Some(out) = &exec_out {
            r = testfmt::finish(r, out, tail);
        }
        Ok(r)
    }
}

/// The verdict for a parsed report: total vs threshold, least-covered files as findings.
pub fn judge(report: &Report, threshold: f64, least: usize, cwd: Option<&str>) -> GateReport {
    let t = &report.totals;
    let pct = t.percent_covered;
    let pass = pct + 1e-9 >= threshold;
    let mut r = planexec_pdk::report(
        if pass {
            Outcome::Passed
        } else {
            Outcome::Failed
        },
        format!(
            "coverage {pct:.1}% {} threshold {threshold}% ({} of {} statements covered)",
            if pass { ">=" } else { "<" },
            t.covered_lines,
            t.num_statements
        ),
    );
    r.coverage_percent = Some(pct);
    let mut files: Vec<(&String, &FileEntry)> = report
        .files
        .iter()
        .filter(|(_, f)| f.summary.num_statements > 0 && f.summary.percent_covered < 100.0)
        .collect();
    files.sort_by(|a, b| {
        a.1.summary
            .percent_covered
            .total_cmp(&b.1.summary.percent_covered)
            .then(a.0.cmp(b.0))
    });
    for (name, f) in files.into_iter().take(least) {
        let s = &f.summary;
        r.findings.push(Finding {
            severity: if s.percent_covered < threshold {
                Severity::Minor
            } else {
                Severity::Info
            },
            rule: "coverage/least-covered".into(),
            message: format!(
                "{name}: {:.1}% covered ({} of {} statements missed; first missed line {})",
                s.percent_covered,
                s.missing_lines,
                s.num_statements,
                f.missing_lines
                    .first()
                    .map(|l| l.to_string())
                    .unwrap_or_else(|| "-".into())
            ),
            path: Some(testfmt::ws_rel(cwd, name)),
            line: f.missing_lines.first().copied(),
            column: None,
            end_line: None,
            end_column: None,
        });
    }
    r.evidence = format!(
        "total {pct:.2}%, threshold {threshold}%, {} files",
        report.files.len()
    );
    r
}

planexec_pdk::gate_component!(CoverageGate);

#[cfg(test)]
mod tests {
    use super::*;
    use planexec_pdk::testing::FakeHost;
    use planexec_pdk::Mounts;
    use serde_json::json;

    fn dir() -> String {
        env!("CARGO_MANIFEST_DIR").to_string()
    }

    /// Runs the gate over project `case` (which has a `.coverage` data file after `coverage run`)
    /// with the fixture report written to scratch when coverage "runs".
    fn run(case: &str, config: serde_json::Value) -> (GateReport, Vec<planexec_pdk::Command>) {
        // One scratch per call: tests of the same case run in parallel threads.
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let scratch =
            std::env::temp_dir().join(format!("cov-gate-{case}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&scratch).unwrap();
        let host = testfmt::testing::WritesFile {
            inner: FakeHost::new().on("python3", 0, "Wrote JSON report\n"),
            path: scratch.join(OUT),
            content: std::fs::read(format!("{}/tests/fixtures/{case}.coverage.json", dir()))
                .unwrap(),
        };
        let mounts = Mounts {
            workspace: format!("{}/tests/fixtures", dir()),
            scratch: scratch.display().to_string(),
        };
        let req = GateRequest {
            name: "coverage".into(),
            config,
            mounts,
            task: None,
            shard: None,
        };
        let r = CoverageGate::check(req, &host).unwrap();
        let calls = host.inner.calls.borrow().clone();
        let _ = std::fs::remove_dir_all(&scratch);
        (r, calls)
    }

    #[test]
    fn full_coverage_passes_by_running_coverage_json() {
        let (r, calls) = run("full", json!({"run": "always"}));
        assert_eq!(r.outcome, Outcome::Passed, "{}", r.summary);
        assert_eq!(r.coverage_percent, Some(100.0));
        assert_eq!(
            calls[0].args,
            ["-m", "coverage", "json", "-o", "{scratch}/coverage.json"]
        );
        assert!(r.findings.is_empty());
    }

    #[test]
    fn below_threshold_fails_and_lists_least_covered() {
        let (r, _) = run("low", json!({"run": "always", "threshold": 90}));
        assert_eq!(r.outcome, Outcome::Failed);
        assert_eq!(r.coverage_percent, Some(25.0));
        assert_eq!(
            r.summary,
            "coverage 25.0% < threshold 90% (3 of 12 statements covered)"
        );
        let got: Vec<_> = r
            .findings
            .iter()
            .map(|f| (f.path.as_deref().unwrap(), f.line.unwrap()))
            .collect();
        assert_eq!(
            got,
            [("src/shapes/names.py", 4), ("src/shapes/__init__.py", 7)]
        );
        assert!(
            r.findings[0]
                .message
                .contains("0.0% covered (6 of 6 statements missed"),
            "{}",
            r.findings[0].message
        );
        let (r, _) = run("low", json!({"run": "always", "threshold": 25}));
        assert_eq!(r.outcome, Outcome::Passed);
    }

    #[test]
    fn reads_an_existing_report_without_running() {
        let (r, calls) = run(
            "low",
            json!({"run": "never", "report": "low.coverage.json"}),
        );
        assert!(calls.is_empty());
        assert_eq!(r.outcome, Outcome::Failed);
        assert_eq!(r.coverage_percent, Some(25.0));
    }

    #[test]
    fn no_data_is_errored() {
        let req = GateRequest {
            name: "c".into(),
            config: json!({}),
            mounts: Mounts {
                workspace: "/nonexistent".into(),
                scratch: "/nonexistent".into(),
            },
            task: None,
            shard: None,
        };
        let r = CoverageGate::check(req, &FakeHost::new()).unwrap();
        assert_eq!(r.outcome, Outcome::Errored);
        assert!(r.summary.contains("no coverage data"));
    }
}
