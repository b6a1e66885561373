//! The `sarif-report` formatter: SARIF 2.1.0 with a result for every review and
//! gate finding, for code scanning (GitHub, VS Code SARIF viewer, Azure DevOps).
//!
//! Severity maps to level: critical and important → `error`, minor → `warning`,
//! info → `note`. Config: `path` (default `planexec.sarif`), `cycles` (`all`,
//! the default, or `last`: only the cycle each task ended with, plus final gates).

use planexec_pdk::record::{Outcome, ReviewOutcome, RunRecord, RunStatus, Severity};
use planexec_pdk::{Artifact, Formatter};
use reportkit::{CycleScope, Source, SourcedFinding};
use serde_json::{json, Map, Value};

pub const DEFAULT_PATH: &str = "planexec.sarif";
pub const SARIF_SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

#[derive(serde::Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum Cycles {
    #[default]
    All,
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
            cycles: Cycles::All,
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

fn severity_rank(s: Severity) -> u8 {
    match s {
        Severity::Critical => 3,
        Severity::Important => 2,
        Severity::Minor => 1,
        Severity::Info => 0,
    }
}

/// One rule per distinct rule id, in order of first appearance.
fn rules(found: &[SourcedFinding<'_>]) -> (Vec<Value>, Vec<String>) {
    let mut ids: Vec<String> = Vec::new();
    let mut worst: Vec<Severity> = Vec::new();
    let mut tags: Vec<Vec<&'static str>> = Vec::new();
    for sf in found {
        let i = match ids.iter().position(|r| r == &sf.finding.rule) {
            Some(i) => i,
            None => {
                ids.push(sf.finding.rule.clone());
                worst.push(sf.finding.severity);
                tags.push(Vec::new());
                ids.len() - 1
            }
        };
        if severity_rank(sf.finding.severity) > severity_rank(worst[i]) {
            worst[i] = sf.finding.severity;
        }
        let t = source_tag(&sf.source);
        if !tags[i].contains(&t) {
            tags[i].push(t);
        }
    }
    let rules = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let from = tags[i]
                .iter()
                .map(|t| t.replace('-', " "))
                .collect::<Vec<_>>()
                .join(", ");
            let mut all_tags = vec!["planexec".to_string()];
            all_tags.extend(tags[i].iter().map(|t| t.to_string()));
            json!({
                "id": id,
                "name": id,
                "shortDescription": { "text": format!("{id} (reported by a planexec {from})") },
                "defaultConfiguration": { "level": level(worst[i]) },
                "properties": { "tags": all_tags },
            })
        })
        .collect();
    (rules, ids)
}

fn result(sf: &SourcedFinding<'_>, rule_index: usize) -> Value {
    let f = sf.finding;
    let mut r = Map::new();
    r.insert("ruleId".into(), json!(f.rule));
    r.insert("ruleIndex".into(), json!(rule_index));
    r.insert("level".into(), json!(level(f.severity)));
    r.insert(
        "message".into(),
        json!({ "text": format!("{} [{}]", f.message, sf.source.label()) }),
    );
    if let Some(p) = f.path.as_deref().filter(|p| !p.is_empty()) {
        let mut phys = Map::new();
        phys.insert("artifactLocation".into(), json!({ "uri": path_uri(p) }));
        if let Some(line) = f.line.filter(|l| *l >= 1) {
            let mut region = Map::new();
            region.insert("startLine".into(), json!(line));
            if let Some(c) = f.column.filter(|c| *c >= 1) {
                region.insert("startColumn".into(), json!(c));
            }
            phys.insert("region".into(), Value::Object(region));
        }
        r.insert("locations".into(), json!([{ "physicalLocation": phys }]));
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

/// The SARIF log.
pub fn render_sarif(rec: &RunRecord, scope: CycleScope) -> Value {
    let found = reportkit::findings(rec, scope);
    let (rules, ids) = rules(&found);
    let results: Vec<Value> = found
        .iter()
        .map(|sf| {
            result(
                sf,
                ids.iter()
                    .position(|r| r == &sf.finding.rule)
                    .expect("rule listed"),
            )
        })
        .collect();
    let mut driver = json!({ "name": "planexec", "rules": rules });
    if let Some(v) = rec.env.get("planexec") {
        driver["version"] = json!(v);
    }
    let mut invocation = json!({ "executionSuccessful": rec.status == RunStatus::Success });
    let notes = notifications(rec);
    if !notes.is_empty() {
        invocation["toolExecutionNotifications"] = json!(notes);
    }
    invocation["properties"] = json!({
        "status": rec.status.as_str(),
        "startTimeUtc": rec.started_at,
        "endTimeUtc": rec.finished_at,
    });
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
        ] {
            for cycles in ["all", "last"] {
                validate(&render(rec.clone(), json!({ "cycles": cycles })));
            }
        }
    }

    #[test]
    fn blocked_run_results_rules_and_levels() {
        let doc = render(fixtures::blocked_run(), json!({}));
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
        assert!(note.get("locations").is_none());
        // Path without line: a location without a region.
        let mt = results
            .iter()
            .find(|r| r["ruleId"] == "task-review/missing-test")
            .unwrap();
        assert!(mt["locations"][0]["physicalLocation"]
            .get("region")
            .is_none());
        assert_eq!(run["invocations"][0]["executionSuccessful"], false);

        let last = render(fixtures::blocked_run(), json!({ "cycles": "last" }));
        assert_eq!(last["runs"][0]["results"].as_array().unwrap().len(), 3);
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
        let loc = &doc["runs"][0]["results"][4]["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "src/odd%20path%3F.py");
        assert_eq!(loc["region"]["startColumn"], 5);
    }
}
