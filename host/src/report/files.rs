//! Report files: `--report FORMAT=PATH` rendered by the formatter plugins and
//! written atomically, formatter artifacts written under an output folder
//! (planpipe status, execution log), and the run record of a lone gate run.

use crate::config::Config;
use crate::plugins::{resolve_grants, Kind, PluginError, Registry};
use crate::sandbox::{Sandbox, SandboxError};
use planexec_record::{
    GateRun, Outcome, PlanInfo, Preflight, RunRecord, RunStatus, SCHEMA_VERSION,
};
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;

/// The formats `--report` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Junit,
    Sarif,
    Json,
    /// One self-contained HTML page, rendered by the host (`report/html.rs`).
    Html,
    /// Chrome trace-event JSON, rendered by the host (`report/trace.rs`).
    Trace,
}

impl ReportFormat {
    pub const ALL: [ReportFormat; 5] = [
        ReportFormat::Junit,
        ReportFormat::Sarif,
        ReportFormat::Json,
        ReportFormat::Html,
        ReportFormat::Trace,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReportFormat::Junit => "junit",
            ReportFormat::Sarif => "sarif",
            ReportFormat::Json => "json",
            ReportFormat::Html => "html",
            ReportFormat::Trace => "trace",
        }
    }

    /// The formatter plugin that renders this format (None: the host renders it).
    pub fn plugin(self) -> Option<&'static str> {
        match self {
            ReportFormat::Junit => Some("junit-report"),
            ReportFormat::Sarif => Some("sarif-report"),
            ReportFormat::Json => Some("json-report"),
            ReportFormat::Html | ReportFormat::Trace => None,
        }
    }

    /// The host's own rendering of `record` in this format, for html and trace.
    pub fn render_here(self, record: &RunRecord) -> Option<Vec<u8>> {
        match self {
            ReportFormat::Html => Some(super::html::render(record).into_bytes()),
            ReportFormat::Trace => Some(super::trace::render(record).into_bytes()),
            _ => None,
        }
    }
}

impl std::fmt::Display for ReportFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

fn accepted() -> String {
    ReportFormat::ALL
        .iter()
        .map(|f| f.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// One `--report FORMAT=PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportSpec {
    pub format: ReportFormat,
    /// Where to write, relative to the current directory unless absolute.
    pub path: PathBuf,
}

impl FromStr for ReportSpec {
    type Err = ReportError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason: String| ReportError::Spec {
            value: s.to_string(),
            reason,
        };
        let Some((fmt, path)) = s.split_once('=') else {
            return Err(bad(format!(
                "expected FORMAT=PATH, e.g. junit=out/junit.xml (formats: {})",
                accepted()
            )));
        };
        let format = match fmt.trim().to_ascii_lowercase().as_str() {
            "junit" => ReportFormat::Junit,
            "sarif" => ReportFormat::Sarif,
            "json" => ReportFormat::Json,
            "html" => ReportFormat::Html,
            "trace" => ReportFormat::Trace,
            other => {
                return Err(bad(format!(
                    "unknown report format `{other}`; accepted formats: {}",
                    accepted()
                )))
            }
        };
        if path.trim().is_empty() {
            return Err(bad(format!(
                "no path after `{fmt}=`; e.g. {fmt}=out/report"
            )));
        }
        if path.ends_with('/') {
            return Err(bad(format!("`{path}` names a directory; give a file name")));
        }
        Ok(ReportSpec {
            format,
            path: PathBuf::from(path),
        })
    }
}

/// What can go wrong writing reports.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("`{value}`: {reason}")]
    Spec { value: String, reason: String },
    #[error(transparent)]
    Plugin(#[from] PluginError),
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    #[error("formatter `{plugin}` failed: {reason}\n  check its [formatters.{plugin}] table in planexec.toml (see docs/reports.md)")]
    Render { plugin: String, reason: String },
    #[error("formatter `{plugin}` returned no `{wanted}` (it returned: {got})")]
    NoArtifact {
        plugin: String,
        wanted: String,
        got: String,
    },
    #[error("formatter artifact path `{path}` refused: {reason}")]
    ArtifactPath { path: String, reason: String },
    #[error("cannot create directory {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: planexec_vcs::VcsError,
    },
    #[error(transparent)]
    Rooted(#[from] crate::rooted::RootedError),
}

/// Checks that a formatter's artifact path is relative, non-empty and never climbs out (`..`).
pub fn check_artifact_path(path: &str) -> Result<(), ReportError> {
    let refuse = |reason: &str| {
        Err(ReportError::ArtifactPath {
            path: path.to_string(),
            reason: reason.into(),
        })
    };
    if path.trim().is_empty() {
        return refuse("it is empty");
    }
    if path.ends_with('/') || path.ends_with('\\') {
        return refuse("it names a directory");
    }
    if path.starts_with('/') || path.starts_with('\\') || path.contains(':') || path.contains('\0')
    {
        return refuse("it must be relative");
    }
    let p = Path::new(path);
    if p.is_absolute() {
        return refuse("it must be relative");
    }
    for c in p.components() {
        match c {
            Component::Normal(_) | Component::CurDir => {}
            Component::ParentDir => return refuse("it must not contain `..`"),
            _ => return refuse("it must be relative"),
        }
    }
    if path.split('\\').any(|c| c == "..") {
        return refuse("it must not contain `..`");
    }
    Ok(())
}

/// Writes one file the user named (`--report`) atomically, creating its parent
/// folders, never through a symlink (see [`crate::rooted::write_user_path`]).
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    crate::rooted::write_user_path(path, bytes)?;
    Ok(())
}

/// Writes formatter artifacts under `dir`, each atomically. Every path is
/// checked first: an absolute or `..` path refuses the whole set.
pub fn write_artifacts(
    dir: &Path,
    artifacts: &[(String, Vec<u8>)],
) -> Result<Vec<PathBuf>, ReportError> {
    for (p, _) in artifacts {
        check_artifact_path(p)?;
    }
    let mut written = Vec::new();
    for (p, bytes) in artifacts {
        written.push(crate::rooted::write(dir, Path::new(p), bytes)?);
    }
    Ok(written)
}

/// Renders `record` with the formatter plugin `plugin`: its `[formatters.NAME]`
/// table from planexec.toml, overlaid with `overrides` (an object).
pub fn render(
    plugin: &str,
    overrides: serde_json::Value,
    record: &RunRecord,
    sandbox: &Sandbox,
    registry: &Registry,
    config: &Config,
    workspace: &Path,
) -> Result<Vec<(String, Vec<u8>)>, ReportError> {
    let p = registry.get_kind(plugin, Kind::Formatter)?;
    let grants = resolve_grants(p, &config.policy, &[], false)?;
    let loaded = sandbox.load(p, grants)?;
    let mut settings = config.formatter_settings(plugin);
    if !settings.is_object() {
        settings = serde_json::json!({});
    }
    if let (serde_json::Value::Object(m), serde_json::Value::Object(o)) = (&mut settings, overrides)
    {
        m.extend(o);
    }
    let (r, _info) = loaded.render(workspace, &settings, &record.to_json());
    r.map_err(|f| ReportError::Render {
        plugin: plugin.to_string(),
        reason: f.reason,
    })
}

/// `--report FORMAT=PATH`: renders each with its formatter plugin (config
/// `{"path": <file name>}`) and writes the artifact atomically to PATH.
/// Returns the paths written, in order.
pub fn write_reports(
    specs: &[ReportSpec],
    record: &RunRecord,
    sandbox: &Sandbox,
    registry: &Registry,
    config: &Config,
    workspace: &Path,
) -> Result<Vec<PathBuf>, ReportError> {
    let mut written = Vec::new();
    for spec in specs {
        if let Some(bytes) = spec.format.render_here(record) {
            write_file(&spec.path, &bytes)?;
            written.push(spec.path.clone());
            continue;
        }
        let plugin = spec
            .format
            .plugin()
            .expect("a formatter renders the others");
        let name = spec
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| ReportError::Spec {
                value: format!("{}={}", spec.format, spec.path.display()),
                reason: "the path has no file name".into(),
            })?;
        let arts = render(
            plugin,
            serde_json::json!({ "path": name }),
            record,
            sandbox,
            registry,
            config,
            workspace,
        )?;
        let pick = match arts.iter().position(|(p, _)| *p == name) {
            Some(i) => Some(i),
            None if arts.len() == 1 => Some(0),
            None => None,
        };
        let Some(i) = pick else {
            return Err(ReportError::NoArtifact {
                plugin: plugin.into(),
                wanted: name,
                got: arts
                    .iter()
                    .map(|(p, _)| p.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        };
        write_file(&spec.path, &arts[i].1)?;
        written.push(spec.path.clone());
    }
    Ok(written)
}

/// Now, RFC 3339 UTC to the second (`2026-11-22T10:00:00Z`).
pub fn now_rfc3339() -> String {
    let f = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::OffsetDateTime::now_utc()
        .format(&f)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

/// The run id of a `gate run`: `gate-<names joined by +>-<digits of the start time>`.
pub fn gate_run_id(gates: &str, started_at: &str) -> String {
    let stamp: String = started_at.chars().filter(|c| c.is_ascii_digit()).collect();
    format!("gate-{gates}-{stamp}")
}

/// The run record of `planexec gate run`: no plan, no tasks, the gates as its final
/// gates in the order given; success when every one passed or was skipped.
pub fn gate_record(gates: Vec<GateRun>, started_at: String, finished_at: String) -> RunRecord {
    let ok = gates
        .iter()
        .all(|g| matches!(g.report.outcome, Outcome::Passed | Outcome::Skipped));
    let status = if ok {
        RunStatus::Success
    } else {
        RunStatus::Failure
    };
    let names: Vec<&str> = gates.iter().map(|g| g.name.as_str()).collect();
    let (title, topic) = match names.as_slice() {
        [one] => (format!("gate {one}"), one.to_string()),
        _ => (format!("gates {}", names.join(", ")), "gates".to_string()),
    };
    RunRecord {
        schema_version: SCHEMA_VERSION,
        run_id: gate_run_id(&names.join("+"), &started_at),
        plan: PlanInfo {
            path: String::new(),
            title,
            dialect: "none".into(),
            topic,
            refs: String::new(),
            success_criteria: Vec::new(),
        },
        status,
        started_at,
        finished_at: Some(finished_at),
        preflight: Preflight {
            branch: String::new(),
            head: String::new(),
            dirty: false,
            rollback_commit: None,
            start_commit: String::new(),
            checks: Vec::new(),
        },
        tasks: Vec::new(),
        final_gates: gates,
        issues: Vec::new(),
        end_commit: None,
        log_path: None,
        // The same facts a plan run records (SARIF's driver version comes from here).
        env: [
            (
                "planexec".to_string(),
                env!("CARGO_PKG_VERSION").to_string(),
            ),
            (
                "os".to_string(),
                format!("{}-{}", std::env::consts::OS, std::env::consts::ARCH),
            ),
        ]
        .into_iter()
        .collect(),
        shard: None,
        timings: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_report_specs() {
        let s: ReportSpec = "junit=out/junit.xml".parse().unwrap();
        assert_eq!(s.format, ReportFormat::Junit);
        assert_eq!(s.path, PathBuf::from("out/junit.xml"));
        assert_eq!(
            "SARIF=a.sarif".parse::<ReportSpec>().unwrap().format,
            ReportFormat::Sarif
        );
        let e = "xml=a.xml".parse::<ReportSpec>().unwrap_err().to_string();
        assert!(
            e.contains("`xml=a.xml`") && e.contains("junit, sarif, json, html, trace"),
            "{e}"
        );
        let e = "junit.xml".parse::<ReportSpec>().unwrap_err().to_string();
        assert!(e.contains("FORMAT=PATH"), "{e}");
        assert!("json=".parse::<ReportSpec>().is_err());
        assert!("json=out/".parse::<ReportSpec>().is_err());
    }

    #[test]
    fn artifact_paths_stay_inside() {
        assert!(check_artifact_path("memory-bank/execute/x.md").is_ok());
        assert!(check_artifact_path("/etc/passwd").is_err());
        assert!(check_artifact_path("a/../../b").is_err());
        assert!(check_artifact_path("..").is_err());
        assert!(check_artifact_path("C:/x").is_err());
        assert!(check_artifact_path("").is_err());
        assert!(check_artifact_path("dir/").is_err());
        let tmp = tempfile::tempdir().unwrap();
        let bad = vec![
            ("ok.md".to_string(), b"x".to_vec()),
            ("../evil".to_string(), b"x".to_vec()),
        ];
        assert!(write_artifacts(tmp.path(), &bad).is_err());
        assert!(
            !tmp.path().join("ok.md").exists(),
            "nothing written when one path is refused"
        );
        let good = vec![("a/b.md".to_string(), b"hi".to_vec())];
        let w = write_artifacts(tmp.path(), &good).unwrap();
        assert_eq!(std::fs::read(&w[0]).unwrap(), b"hi");
    }
}
