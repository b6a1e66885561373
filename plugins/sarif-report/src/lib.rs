//! The `sarif-report` formatter: SARIF 2.1.0 for code scanning (GitHub, VS Code SARIF
//! viewer, Azure DevOps): a result for every review and gate finding and failing test.
//!
//! Severity maps to level: critical and important → `error`, minor → `warning`,
//! info → `note`. Config: `path` (default `planexec.sarif`), `cycles`: `last` (the
//! default: only the findings that stand, each task's last judged cycle plus final
//! gates) or `all` (every cycle; findings of fixed cycles carry `baselineState: absent`).

mod rules;

use planexec_pdk::record::{Outcome, ReviewOutcome, RunRecord, RunStatus, Severity};
use planexec_pdk::{Artifact, Formatter};
use reportkit::{CycleScope, Source, SourcedFinding};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

pub const DEFAULT_PATH: &str = "planexec.sarif";
pub const SARIF_SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The key of planexec's own fingerprint in `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "planexecFinding/v1";

#[derive(serde::Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum Cycles {
    All,
    #[default]
    Last,
}

#[derive(serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Config {
    path: String,
    cycles: Cycles,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            path: DEFAULT_PATH.into(),
            cycles: Cycles::Last,
        }
    }
}

pub struct SarifReport;

impl Formatter for SarifReport {
    fn render(config: serde_json::Value, record: RunRecord) -> Result<Vec<Artifact>, String> {
        let cfg: Config = planexec_pdk::config(&config)?;
        reportkit::check_artifact_path(&cfg.path)?;
        let scope = match cfg.cycles {
            Cycles::All => CycleScope::All,
            Cycles::Last => CycleScope::Last,
        };
        let mut text = serde_json::to_string_pretty(&render_sarif(&record, scope)).expect("json");
        text.push('\n');
        Ok(vec![Artifact {
            path: cfg.path,
            content: text.into_bytes(),
        }])
    }
}

planexec_pdk::formatter_component!(SarifReport);

/// SARIF level of a severity.
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::Important => "error",
        Severity::Minor => "warning",
        Severity::Info => "note",
    }
}

/// A workspace-relative path as a relative URI reference: `\` becomes `/`, and
/// bytes outside RFC 3986's unreserved, sub-delims, `/`, `:` and `@` are
/// percent-encoded (spaces, `%`, `#`, `?`, non-ASCII).
pub fn path_uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let path = path.strip_prefix("./").unwrap_or(&path);
    let mut o = String::new();
    for (i, b) in path.bytes().enumerate() {
        let keep = b.is_ascii_alphanumeric()
            || b"-._~!$&'()*+,;=/@".contains(&b)
            // A colon in the first segment would read as a scheme.
            || (b == b':' && path[..i].contains('/'));
        if keep {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

fn source_tag(s: &Source) -> &'static str {
    match s {
        Source::TaskGate { .. } => "gate",
        Source::Review { .. } => "review",
        Source::FinalGate { .. } => "final-gate",
    }
}

fn source_props(s: &Source) -> Value {
    match s {
        Source::TaskGate { task, cycle, gate } => {
            json!({"source": "gate", "task": task, "cycle": cycle, "gate": gate})
        }
        Source::Review {
            task,
            cycle,
            kind,
            plugin,
        } => json!({
            "source": "review",
            "task": task,
            "cycle": cycle,
            "review": reportkit::review_kind_label(*kind),
            "plugin": plugin,
        }),
        Source::FinalGate { gate } => json!({"source": "final-gate", "gate": gate}),
    }
}

/// The physical location of a finding. GitHub requires a region on every result: a
/// finding about a whole file points at its line 1, one with no file at the plan
/// file's line 1 (the task it belongs to is in the message and properties), or at
/// `planexec.toml`'s for `gate run`, which has no plan.
fn location(f: &planexec_pdk::Finding, plan_path: &str) -> Value {
    let fallback = if plan_path.is_empty() {
        "planexec.toml"
    } else {
        plan_path
    };
    let (uri, line, column, whole) = match f.path.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => (path_uri(p), f.line.filter(|l| *l >= 1), f.column, false),
        None => (path_uri(fallback), None, None, true),
    };
    let mut region = Map::new();
    region.insert("startLine".into(), json!(line.unwrap_or(1)));
    let column = line.and(column.filter(|c| *c >= 1));
    if let Some(c) = column {
        region.insert("startColumn".into(), json!(c));
    }
    if let Some((end_line, end_column)) = line.and_then(|l| span_end(f, l, column)) {
        region.insert("endLine".into(), json!(end_line));
        if let Some(c) = end_column {
            region.insert("endColumn".into(), json!(c));
        }
    }
    let mut phys = json!({ "artifactLocation": { "uri": uri }, "region": region });
    if line.is_none() {
        phys["region"]["message"] = json!({ "text": if whole {
            "no file given: the plan file (or planexec.toml) stands for it"
        } else {
            "the whole file (no line given)"
        } });
    }
    json!({ "physicalLocation": phys })
}

/// The region's end in SARIF's terms: `endLine`, and `endColumn` one past the span's
/// last character (findings carry the last character's column). Only an end at or
/// after the start is written; a column end needs a start column.
fn span_end(
    f: &planexec_pdk::Finding,
    line: u32,
    column: Option<u32>,
) -> Option<(u32, Option<u32>)> {
    let end_line = f.end_line.filter(|e| *e >= line)?;
    let end_column = match (column, f.end_column) {
        (Some(start), Some(end)) if end_line > line || end >= start => Some(end + 1),
        _ => None,
    };
    Some((end_line, end_column))
}

/// A fingerprint that survives line moves: sha256 of rule, path and message with
/// digits removed (line numbers inside messages shift), hex, first 32 characters.
pub fn fingerprint(f: &planexec_pdk::Finding) -> String {
    let msg: String = f.message.chars().filter(|c| !c.is_ascii_digit()).collect();
    let mut h = Sha256::new();
    for part in [
        f.rule.as_str(),
        f.path.as_deref().unwrap_or(""),
        msg.as_str(),
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    h.finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn result(
    sf: &SourcedFinding<'_>,
    rule_index: usize,
    plan_path: &str,
    stands: Option<bool>,
) -> Value {
    let f = &*sf.finding;
    let mut r = Map::new();
    r.insert("ruleId".into(), json!(f.rule));
    r.insert("ruleIndex".into(), json!(rule_index));
    r.insert("level".into(), json!(level(f.severity)));
    r.insert(
        "message".into(),
        json!({ "text": format!("{} [{}]", f.message, sf.source.label()) }),
    );
    r.insert("locations".into(), json!([location(f, plan_path)]));
    r.insert(
        "partialFingerprints".into(),
        json!({ FINGERPRINT_KEY: fingerprint(f) }),
    );
    if let Some(stands) = stands {
        r.insert(
            "baselineState".into(),
            json!(if stands { "new" } else { "absent" }),
        );
    }
    let mut props = source_props(&sf.source);
    props["severity"] = json!(reportkit::severity_str(f.severity));
    props["tags"] = json!(["planexec", source_tag(&sf.source)]);
    r.insert("properties".into(), props);
    Value::Object(r)
}

/// Errored gates and reviews: the tool could not judge them.
fn notifications(rec: &RunRecord) -> Vec<Value> {
    let mut out = Vec::new();
    for t in &rec.tasks {
        for c in &t.cycles {
            for g in c
                .gates
                .iter()
                .filter(|g| g.report.outcome == Outcome::Errored)
            {
                out.push(json!({
                    "level": "error",
                    "message": { "text": format!("{} cycle {}: gate {} errored: {}", t.id, c.number, g.name, g.report.summary) },
                }));
            }
            for r in c
                .reviews
                .iter()
                .filter(|r| r.outcome == ReviewOutcome::Errored)
            {
                out.push(json!({
                    "level": "error",
                    "message": { "text": format!(
                        "{} cycle {}: {} errored: {}",
                        t.id,
                        c.number,
                        reportkit::review_kind_label(r.kind),
                        r.error.as_deref().unwrap_or("no error recorded")
                    ) },
                }));
            }
        }
    }
    for g in rec
        .final_gates
        .iter()
        .filter(|g| g.report.outcome == Outcome::Errored)
    {
        out.push(json!({
            "level": "error",
            "message": { "text": format!("final gate {} errored: {}", g.name, g.report.summary) },
        }));
    }
    out
}

/// Whether a finding of `source` stands in the final state (its task's judged cycle,
/// or a final gate).
fn stands(rec: &RunRecord, source: &Source) -> bool {
    match (source.task(), source.cycle()) {
        (Some(task), Some(cycle)) => rec
            .tasks
            .iter()
            .find(|t| t.id == task)
            .and_then(|t| t.judged_cycle())
            .is_some_and(|c| c.number == cycle),
        _ => true,
    }
}

/// The SARIF log.
pub fn render_sarif(rec: &RunRecord, scope: CycleScope) -> Value {
    let found = reportkit::findings(rec, scope);
    let (rules, ids) = rules::rules(&found);
    let results: Vec<Value> = found
        .iter()
        .map(|sf| {
            let i = ids
                .iter()
                .position(|r| r == &sf.finding.rule)
                .expect("rule listed");
            let baseline = (scope == CycleScope::All).then(|| stands(rec, &sf.source));
            result(sf, i, &rec.plan.path, baseline)
        })
        .collect();
    let version = rec
        .env
        .get("planexec")
        .cloned()
        .unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_string());
    let driver = json!({
        "name": "planexec",
        "version": version,
        "semanticVersion": version,
        "rules": rules,
    });
    let mut invocation = json!({ "executionSuccessful": rec.status == RunStatus::Success });
    if reportkit::time::parse_rfc3339(&rec.started_at).is_some() {
        invocation["startTimeUtc"] = json!(rec.started_at);
    }
    if let Some(end) = rec
        .finished_at
        .as_deref()
        .filter(|e| reportkit::time::parse_rfc3339(e).is_some())
    {
        invocation["endTimeUtc"] = json!(end);
    }
    let notes = notifications(rec);
    if !notes.is_empty() {
        invocation["toolExecutionNotifications"] = json!(notes);
    }
    invocation["properties"] = json!({ "status": rec.status.as_str() });
    json!({
        "$schema": SARIF_SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": driver },
            "automationDetails": { "id": format!("planexec/{}/", rec.plan.topic) },
            "invocations": [invocation],
            "columnKind": "unicodeCodePoints",
            "results": results,
            "properties": {
                "run_id": rec.run_id,
                "plan": rec.plan.path,
                "start_commit": rec.preflight.start_commit,
                "end_commit": rec.end_commit,
            },
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reportkit::fixtures;

    const SCHEMA: &str = include_str!("../../../tests/data/sarif-schema-2.1.0.json");

    fn validate(doc: &Value) {
        let schema: Value = serde_json::from_str(SCHEMA).unwrap();
        let v = jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("schema compiles");
        let errs: Vec<String> = v
            .iter_errors(doc)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errs.is_empty(), "{errs:#?}\n{doc:#}");
    }

    fn render(rec: RunRecord, cfg: Value) -> Value {
        let a = SarifReport::render(cfg, rec).unwrap();
        assert_eq!(a.len(), 1);
        serde_json::from_slice(&a[0].content).unwrap()
    }

    #[test]
    fn every_fixture_validates() {
        for rec in [
            fixtures::successful_run(),
            fixtures::failed_final_gate_run(),
            fixtures::blocked_run(),
            fixtures::errored_review_run(),
            fixtures::running_run(),
            fixtures::implementer_failed_run(),
            fixtures::secret_fixed_run(),
        ] {
            for cycles in ["all", "last"] {
                let doc = render(rec.clone(), json!({ "cycles": cycles }));
                validate(&doc);
                github_required(&doc);
            }
        }
    }

    #[test]
    fn regions_carry_span_ends_with_an_exclusive_end_column() {
        let f = |line, column, end_line, end_column| planexec_pdk::Finding {
            severity: planexec_pdk::Severity::Important,
            rule: "mypy/return-value".into(),
            message: "m".into(),
            path: Some("a.py".into()),
            line,
            column,
            end_line,
            end_column,
        };
        let region = |x| location(&x, "plan.md")["physicalLocation"]["region"].clone();
        assert_eq!(
            region(f(Some(2), Some(12), Some(2), Some(16))),
            json!({"startLine": 2, "startColumn": 12, "endLine": 2, "endColumn": 17})
        );
        assert_eq!(
            region(f(Some(4), Some(10), Some(6), Some(3))),
            json!({"startLine": 4, "startColumn": 10, "endLine": 6, "endColumn": 4})
        );
        // No start column: the end line only; an end before the start: nothing.
        assert_eq!(
            region(f(Some(4), None, Some(5), Some(3))),
            json!({"startLine": 4, "endLine": 5})
        );
        assert_eq!(
            region(f(Some(4), Some(9), Some(4), Some(2))),
            json!({"startLine": 4, "startColumn": 9, "endLine": 4})
        );
        assert_eq!(
            region(f(Some(4), Some(9), Some(3), Some(20))),
            json!({"startLine": 4, "startColumn": 9})
        );
    }

    #[test]
    fn blocked_run_results_rules_and_levels() {
        let doc = render(fixtures::blocked_run(), json!({ "cycles": "all" }));
        let run = &doc["runs"][0];
        assert_eq!(run["tool"]["driver"]["name"], "planexec");
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(
            ids,
            [
                "pytest/failure",
                "task-review/missing-test",
                "code-review/injection",
                "code-review/naming",
                "code-review/note"
            ]
        );
        assert!(rules.iter().all(|r| r["shortDescription"]["text"]
            .as_str()
            .is_some_and(|t| !t.is_empty())));
        let results = run["results"].as_array().unwrap();
        // T001 c1: 1 gate + 1 review finding; T002: injection ×3, naming, note.
        assert_eq!(results.len(), 7);
        for r in results {
            let i = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[i]["id"], r["ruleId"]);
        }
        let inj: Vec<&Value> = results
            .iter()
            .filter(|r| r["ruleId"] == "code-review/injection")
            .collect();
        assert_eq!(inj.len(), 3);
        assert_eq!(inj[0]["level"], "error");
        let loc = &inj[2]["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "src/auth/refresh.py");
        assert_eq!(loc["region"]["startLine"], 42);
        assert!(inj[2]["message"]["text"]
            .as_str()
            .unwrap()
            .ends_with("<unsafe> & \"quoted\" | piped [T002 cycle 3, code review]"));
        assert_eq!(inj[2]["properties"]["task"], "T002");
        let naming = results
            .iter()
            .find(|r| r["ruleId"] == "code-review/naming")
            .unwrap();
        assert_eq!(naming["level"], "warning");
        let note = results
            .iter()
            .find(|r| r["ruleId"] == "code-review/note")
            .unwrap();
        assert_eq!(note["level"], "note");
        // No file: the plan file's line 1 stands for the task.
        let loc = &note["locations"][0]["physicalLocation"];
        assert_eq!(
            loc["artifactLocation"]["uri"],
            "memory-bank/plan/2026-11-22_auth.md"
        );
        assert_eq!(loc["region"]["startLine"], 1);
        // Path without line: the whole file, line 1.
        let mt = results
            .iter()
            .find(|r| r["ruleId"] == "task-review/missing-test")
            .unwrap();
        assert_eq!(
            mt["locations"][0]["physicalLocation"]["region"]["startLine"],
            1
        );
        // T001's cycle-1 findings were fixed by cycle 2: absent; T002 cycle 3's stand.
        assert_eq!(mt["baselineState"], "absent");
        assert_eq!(inj[2]["baselineState"], "new");
        assert_eq!(inj[0]["baselineState"], "absent");
        assert_eq!(run["invocations"][0]["executionSuccessful"], false);

        let last = render(fixtures::blocked_run(), json!({}));
        let standing = last["runs"][0]["results"].as_array().unwrap();
        assert_eq!(standing.len(), 3);
        assert!(standing.iter().all(|r| r["properties"]["cycle"] == 3));
        assert!(standing.iter().all(|r| r.get("baselineState").is_none()));
    }

    #[test]
    fn final_gate_findings_and_errored_review_notifications() {
        let doc = render(fixtures::failed_final_gate_run(), json!({}));
        let r = &doc["runs"][0]["results"][0];
        assert_eq!(r["ruleId"], "mypy/arg-type");
        assert_eq!(r["level"], "error");
        assert_eq!(r["properties"]["source"], "final-gate");
        let ok = render(fixtures::successful_run(), json!({}));
        assert_eq!(ok["runs"][0]["results"], json!([]));
        assert_eq!(ok["runs"][0]["invocations"][0]["executionSuccessful"], true);
        let err = render(fixtures::errored_review_run(), json!({}));
        let n = &err["runs"][0]["invocations"][0]["toolExecutionNotifications"][0];
        assert_eq!(
            n["message"]["text"],
            "T001 cycle 1: task review errored: reviewer timed out after 300s"
        );
    }

    #[test]
    fn schema_catches_mistakes() {
        let schema: Value = serde_json::from_str(SCHEMA).unwrap();
        let v = jsonschema::validator_for(&schema).unwrap();
        let good = render(fixtures::blocked_run(), json!({}));
        assert!(v.is_valid(&good));
        let mut bad = good.clone();
        bad["runs"][0]["results"][0]["level"] = json!("fatal");
        assert!(!v.is_valid(&bad));
        let mut bad = good.clone();
        bad["runs"][0]["results"][0]["severity"] = json!("error");
        assert!(!v.is_valid(&bad));
        let mut bad = good;
        bad["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
            json!(0);
        assert!(!v.is_valid(&bad));
    }

    #[test]
    fn uris_and_config() {
        assert_eq!(path_uri("src/a b#1.py"), "src/a%20b%231.py");
        assert_eq!(path_uri("./dir\\é.rs"), "dir/%C3%A9.rs");
        assert_eq!(path_uri("c:x/y:z"), "c%3Ax/y:z");
        let a = SarifReport::render(json!({}), fixtures::successful_run()).unwrap();
        assert_eq!(a[0].path, DEFAULT_PATH);
        assert!(
            SarifReport::render(json!({ "cycles": "some" }), fixtures::successful_run()).is_err()
        );
        assert!(
            SarifReport::render(json!({ "path": "/x.sarif" }), fixtures::successful_run()).is_err()
        );
        let mut rec = fixtures::blocked_run();
        rec.tasks[1].cycles[2].reviews[1]
            .review
            .as_mut()
            .unwrap()
            .findings[0]
            .path = Some("src/odd path?.py".into());
        rec.tasks[1].cycles[2].reviews[1]
            .review
            .as_mut()
            .unwrap()
            .findings[0]
            .column = Some(5);
        let doc = render(rec, json!({}));
        validate(&doc);
        let loc = &doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "src/odd%20path%3F.py");
        assert_eq!(loc["region"]["startColumn"], 5);
    }

    /// What GitHub code scanning requires beyond the schema (its documented upload
    /// requirements, Multitool's GitHub rules GH1001..GH2012): driver name; every rule
    /// with a name unlike its id, short and full descriptions and help; every result
    /// with a rule id, a message, a location with a region start line, and a fingerprint.
    fn github_required(doc: &Value) {
        for run in doc["runs"].as_array().unwrap() {
            let driver = &run["tool"]["driver"];
            assert!(driver["name"].is_string());
            assert!(driver["version"].is_string(), "{driver:#}");
            for r in driver["rules"].as_array().unwrap() {
                assert_ne!(r["name"], r["id"], "{r:#}");
                for k in ["shortDescription", "fullDescription", "help"] {
                    assert!(
                        r[k]["text"].as_str().is_some_and(|t| !t.is_empty()),
                        "rule lacks {k}: {r:#}"
                    );
                }
                assert!(r["help"]["markdown"].is_string());
            }
            for res in run["results"].as_array().unwrap() {
                assert!(res["ruleId"].is_string() && res["message"]["text"].is_string());
                let loc = &res["locations"][0]["physicalLocation"];
                assert!(loc["artifactLocation"]["uri"].is_string(), "{res:#}");
                assert!(
                    loc["region"]["startLine"].as_u64().is_some_and(|l| l >= 1),
                    "{res:#}"
                );
                assert!(res["partialFingerprints"][FINGERPRINT_KEY].is_string());
            }
            let inv = &run["invocations"][0];
            assert!(inv["startTimeUtc"].is_string(), "{inv:#}");
            assert!(inv["properties"].get("startTimeUtc").is_none());
        }
    }

    #[test]
    fn last_cycle_that_failed_in_the_implementer_keeps_the_judged_findings() {
        let doc = render(fixtures::implementer_failed_run(), json!({}));
        let results = doc["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), 3, "{doc:#}");
        assert!(results.iter().all(|r| r["properties"]["cycle"] == 3));
    }

    #[test]
    fn secret_fixed_and_failing_test_reported() {
        let doc = render(fixtures::secret_fixed_run(), json!({}));
        let results = doc["runs"][0]["results"].as_array().unwrap();
        let ids: Vec<&str> = results
            .iter()
            .map(|r| r["ruleId"].as_str().unwrap())
            .collect();
        // The secret was fixed in cycle 2; the failing test stands as a result.
        assert_eq!(ids, ["pytest/test-failed"], "{doc:#}");
        let loc = &results[0]["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "tests/test_calc.py");
        // Where it failed (the failure's line), not where the test is defined.
        assert_eq!(loc["region"]["startLine"], 8);
        let all = render(fixtures::secret_fixed_run(), json!({ "cycles": "all" }));
        let secret = all["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["ruleId"] == "code-review/secret")
            .expect("listed with cycles = all");
        assert_eq!(secret["baselineState"], "absent");
    }

    #[test]
    fn fingerprints_survive_line_moves_but_not_other_messages() {
        let mut f = fixtures::finding(
            Severity::Minor,
            "r/x",
            "line 3 is long",
            Some("a.py"),
            Some(3),
        );
        let a = fingerprint(&f);
        f.line = Some(9);
        f.message = "line 9 is long".into();
        assert_eq!(fingerprint(&f), a);
        f.message = "other".into();
        assert_ne!(fingerprint(&f), a);
    }

    #[test]
    fn invocation_times_are_sarif_properties() {
        let doc = render(fixtures::blocked_run(), json!({}));
        let inv = &doc["runs"][0]["invocations"][0];
        assert_eq!(inv["startTimeUtc"], "2026-11-22T10:00:00Z");
        assert_eq!(inv["endTimeUtc"], "2026-11-22T11:30:00Z");
    }
}
