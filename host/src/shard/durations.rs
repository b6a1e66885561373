//! The durations file (`planexec-durations.json`): each gate's tests and their seconds in
//! a merged run, written by `report merge` and read by `gate run --shard` to balance shards.

use crate::input::{self, InputError};
use planexec_record::{GateRun, Outcome};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where `report merge` writes it, and `gate run --durations` reads it, by default.
pub const DEFAULT_FILE: &str = "planexec-durations.json";
/// Format version of the file.
pub const VERSION: u32 = 1;
/// The most the file may be (a million tests at ~60 bytes each).
pub const MAX_BYTES: u64 = 64 << 20;

/// `{"planexec_durations": 1, "gates": {"pytest": {"tests/test_a.py::test_x": 0.25}}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Durations {
    pub planexec_durations: u32,
    /// Gate name → test name (the gate's case name) → seconds.
    pub gates: BTreeMap<String, BTreeMap<String, f64>>,
}

#[derive(Debug, thiserror::Error)]
pub enum DurationsError {
    #[error(transparent)]
    Read(#[from] InputError),
    #[error("{path}:{line}:{column}: not a durations file: {source}\n  it is written by `planexec report merge --durations FILE`; delete it to shard by hash")]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        source: serde_json::Error,
    },
    #[error("{path}: durations file version {found}, this planexec reads version {VERSION}; write it again with this planexec's `report merge`")]
    Version { path: PathBuf, found: u32 },
    #[error("{path}: gate {gate}, test {test}: {seconds} is not a number of seconds (0 or more)")]
    Seconds {
        path: PathBuf,
        gate: String,
        test: String,
        seconds: f64,
    },
}

impl Durations {
    /// The seconds of every test case of each merged gate that ran any (a gate run whole
    /// in every shard counts once; a test listed twice, as cargo's same name in two test
    /// binaries, adds up).
    pub fn from_gates(gates: &[GateRun]) -> Self {
        let mut out = BTreeMap::new();
        for g in gates {
            let mut tests: BTreeMap<String, f64> = BTreeMap::new();
            for c in &g.report.cases {
                // A skipped test took no time; one without a time (libtest) says nothing.
                let Some(s) = c.seconds.filter(|_| c.outcome != Outcome::Skipped) else {
                    continue;
                };
                *tests.entry(c.name.clone()).or_default() += s.max(0.0);
            }
            if !tests.is_empty() {
                out.insert(g.name.clone(), tests);
            }
        }
        Durations {
            planexec_durations: VERSION,
            gates: out,
        }
    }

    /// The recorded seconds of gate `name`'s tests (empty when none are recorded).
    pub fn for_gate(&self, name: &str) -> Vec<(String, f64)> {
        self.gates
            .get(name)
            .map(|t| t.iter().map(|(k, v)| (k.clone(), *v)).collect())
            .unwrap_or_default()
    }

    /// `sha256:<hex>` of the file's content as this planexec writes it: equal for every
    /// shard given the same file.
    pub fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        format!(
            "sha256:{}",
            hex::encode(Sha256::digest(self.to_json().as_bytes()))
        )
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("durations serialise");
        s.push('\n');
        s
    }

    /// Parses the file's text; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, DurationsError> {
        let d: Durations = serde_json::from_str(text).map_err(|source| DurationsError::Parse {
            path: path.to_path_buf(),
            line: source.line(),
            column: source.column(),
            source,
        })?;
        if d.planexec_durations != VERSION {
            return Err(DurationsError::Version {
                path: path.to_path_buf(),
                found: d.planexec_durations,
            });
        }
        for (gate, tests) in &d.gates {
            if let Some((test, s)) = tests.iter().find(|(_, s)| !s.is_finite() || **s < 0.0) {
                return Err(DurationsError::Seconds {
                    path: path.to_path_buf(),
                    gate: gate.clone(),
                    test: test.clone(),
                    seconds: *s,
                });
            }
        }
        Ok(d)
    }

    /// The file at `path` (a regular file inside its folder, bounded); None when there is
    /// none yet (the first run of a CI setup shards by hash).
    pub fn read(path: &Path) -> Result<Option<Self>, DurationsError> {
        if !path.exists() && path.symlink_metadata().is_err() {
            return Ok(None);
        }
        let root = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let text = input::read_text(path, root, MAX_BYTES)?;
        Self::parse(&text, path).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use planexec_record::{GateReport, TestCase};

    fn case(name: &str, secs: f64, outcome: Outcome) -> TestCase {
        TestCase {
            name: name.into(),
            classname: String::new(),
            path: None,
            line: None,
            seconds: Some(secs),
            outcome,
            message: String::new(),
            output: String::new(),
        }
    }

    #[test]
    fn records_each_gates_tests_and_reads_back() {
        let mut report = GateReport::errored("x");
        report.cases = vec![
            case("a", 0.5, Outcome::Passed),
            case("b", 1.0, Outcome::Failed),
            case("b", 0.25, Outcome::Passed),
            case("c", 9.0, Outcome::Skipped),
        ];
        let g = GateRun {
            name: "pytest".into(),
            plugin: "pytest".into(),
            report,
            programs: vec![],
        };
        let d = Durations::from_gates(&[g]);
        assert_eq!(
            d.for_gate("pytest"),
            vec![("a".into(), 0.5), ("b".into(), 1.25)]
        );
        assert!(d.for_gate("go-test").is_empty());
        let back = Durations::parse(&d.to_json(), Path::new("d.json")).unwrap();
        assert_eq!(back, d);
    }

    #[test]
    fn bad_files_say_where_and_what_to_do() {
        let p = Path::new("d.json");
        let e = Durations::parse("{\n  \"gates\": 3\n}", p)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("d.json:2:"), "{e}");
        assert!(e.contains("report merge"), "{e}");
        let e = Durations::parse(r#"{"planexec_durations": 9, "gates": {}}"#, p).unwrap_err();
        assert!(e.to_string().contains("version 9"), "{e}");
        let neg = r#"{"planexec_durations": 1, "gates": {"g": {"t": -1.0}}}"#;
        let e = Durations::parse(neg, p).unwrap_err().to_string();
        assert!(e.contains("gate g, test t"), "{e}");
        assert_eq!(
            Durations::read(Path::new("/nonexistent/d.json")).unwrap(),
            None
        );
    }
}
