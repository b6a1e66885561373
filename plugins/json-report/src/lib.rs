//! The `json-report` formatter: the run record itself, as JSON, for machines.
//! The schema (SCHEMA_VERSION 1) is docs/run-record.md and docs/run-record.schema.json.
//!
//! Config: `path` (default `planexec-report.json`), `pretty` (default true).

use planexec_pdk::record::RunRecord;
use planexec_pdk::{Artifact, Formatter};

pub const DEFAULT_PATH: &str = "planexec-report.json";

#[derive(serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Config {
    path: String,
    pretty: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            path: DEFAULT_PATH.into(),
            pretty: true,
        }
    }
}

pub struct JsonReport;

/// The record as JSON text (`schema_version` first, as the record declares it).
pub fn render_json(rec: &RunRecord, pretty: bool) -> String {
    let mut s = if pretty {
        rec.to_json()
    } else {
        serde_json::to_string(rec).expect("run record serialises")
    };
    s.push('\n');
    s
}

impl Formatter for JsonReport {
    fn render(config: serde_json::Value, record: RunRecord) -> Result<Vec<Artifact>, String> {
        let cfg: Config = planexec_pdk::config(&config)?;
        reportkit::check_artifact_path(&cfg.path)?;
        Ok(vec![Artifact {
            path: cfg.path,
            content: render_json(&record, cfg.pretty).into_bytes(),
        }])
    }
}

planexec_pdk::formatter_component!(JsonReport);

#[cfg(test)]
mod tests {
    use super::*;
    use planexec_pdk::record::SCHEMA_VERSION;
    use reportkit::fixtures;
    use serde_json::{json, Value};

    const SCHEMA: &str = include_str!("../../../docs/run-record.schema.json");

    fn validator() -> jsonschema::Validator {
        let schema: Value = serde_json::from_str(SCHEMA).unwrap();
        jsonschema::validator_for(&schema).expect("schema compiles")
    }

    fn errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
        v.iter_errors(doc)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect()
    }

    fn render(rec: RunRecord, cfg: Value) -> (String, Value) {
        let a = JsonReport::render(cfg, rec).unwrap();
        assert_eq!(a.len(), 1);
        let text = String::from_utf8(a[0].content.clone()).unwrap();
        let doc = serde_json::from_str(&text).unwrap();
        (a[0].path.clone(), doc)
    }

    /// A record with every optional field set, so the schema sees them all.
    fn maximal() -> RunRecord {
        let mut rec = fixtures::blocked_run();
        rec.tasks[1].cycles[2].reviews[1]
            .review
            .as_mut()
            .unwrap()
            .findings[0]
            .column = Some(9);
        rec.tasks[1].cycles[2].gates[0].report.coverage_percent = Some(71.25);
        rec.tasks[1].cycles[2].gates[0].report.exit_code = Some(-1);
        rec.preflight.rollback_commit = Some("9f8e7d6".into());
        rec.tasks[0].commit = Some("aaa1111".into());
        rec.tasks[0].started_at = Some("2026-11-22T10:01:00Z".into());
        rec.tasks[1].cycles[2]
            .reviews
            .push(fixtures::errored_review_run().tasks[0].cycles[0].reviews[0].clone());
        rec.final_gates = fixtures::failed_final_gate_run().final_gates;
        rec.final_gates
            .extend(fixtures::secret_fixed_run().final_gates);
        rec.shard = Some(planexec_pdk::record::Shard {
            index: 2,
            count: 4,
            durations: Some(format!("sha256:{}", "0b".repeat(32))),
        });
        rec.final_gates[0].report.shard = Some(planexec_pdk::ShardResult {
            index: 2,
            count: 4,
            listed: 48,
            list_digest: format!("sha256:{}", "0a".repeat(32)),
        });
        let usage = planexec_pdk::Usage {
            cost_usd: Some(0.25),
            input_tokens: Some(1200),
            output_tokens: Some(300),
            turns: Some(4),
        };
        let c = &mut rec.tasks[1].cycles[2];
        c.reviews[1].usage = Some(usage.clone());
        c.reviews[1].review.as_mut().unwrap().transcript_path = Some("r.log".into());
        let imp = c.implementer.as_mut().unwrap();
        imp.usage = Some(usage);
        imp.claimed_files = vec!["src/auth/refresh.py".into()];
        imp.findings = vec![c.reviews[1].review.as_ref().unwrap().findings[0].clone()];
        imp.transcript_path = Some("i.log".into());
        rec
    }

    #[test]
    fn every_fixture_validates_against_the_schema() {
        let v = validator();
        for rec in [
            fixtures::successful_run(),
            fixtures::failed_final_gate_run(),
            fixtures::blocked_run(),
            fixtures::errored_review_run(),
            fixtures::running_run(),
            fixtures::implementer_failed_run(),
            fixtures::secret_fixed_run(),
            maximal(),
        ] {
            let id = rec.run_id.clone();
            let (path, doc) = render(rec, json!({}));
            assert_eq!(path, DEFAULT_PATH);
            let errs = errors(&v, &doc);
            assert!(errs.is_empty(), "{id}: {errs:#?}");
            assert_eq!(doc["schema_version"], json!(SCHEMA_VERSION));
        }
    }

    #[test]
    fn output_is_the_record_and_round_trips() {
        let rec = maximal();
        let (_, doc) = render(
            rec.clone(),
            json!({"pretty": false, "path": "ci/report.json"}),
        );
        let back: RunRecord = serde_json::from_value(doc.clone()).unwrap();
        assert_eq!(back, rec);
        assert_eq!(doc["tasks"][1]["status"], "blocked");
        assert_eq!(
            doc["tasks"][1]["cycles"][2]["reviews"][2]["outcome"],
            "errored"
        );
        let compact = render_json(&rec, false);
        assert_eq!(compact.lines().count(), 1);
        assert_eq!(render_json(&rec, true), render_json(&rec, true));
    }

    #[test]
    fn schema_rejects_drift() {
        let v = validator();
        let (_, mut doc) = render(fixtures::blocked_run(), json!({}));
        assert!(v.is_valid(&doc));
        doc["tasks"][0]["status"] = json!("finished");
        assert!(!v.is_valid(&doc), "unknown status accepted");
        let (_, mut doc) = render(fixtures::blocked_run(), json!({}));
        doc["tasks"][0]["colour"] = json!("red");
        assert!(!v.is_valid(&doc), "unknown field accepted");
        let (_, mut doc) = render(fixtures::blocked_run(), json!({}));
        doc.as_object_mut().unwrap().remove("preflight");
        assert!(!v.is_valid(&doc), "missing required field accepted");
        let (_, mut doc) = render(fixtures::blocked_run(), json!({}));
        doc["schema_version"] = json!(2);
        assert!(!v.is_valid(&doc), "other schema version accepted");
    }

    #[test]
    fn schema_names_every_serialised_field() {
        // Walk a maximal record's JSON: every object key must be a property the
        // schema declares somewhere (catches a record field the docs lack).
        let schema: Value = serde_json::from_str(SCHEMA).unwrap();
        let mut declared = std::collections::BTreeSet::new();
        fn collect(v: &Value, out: &mut std::collections::BTreeSet<String>) {
            match v {
                Value::Object(m) => {
                    if let Some(Value::Object(p)) = m.get("properties") {
                        out.extend(p.keys().cloned());
                    }
                    m.values().for_each(|x| collect(x, out));
                }
                Value::Array(a) => a.iter().for_each(|x| collect(x, out)),
                _ => {}
            }
        }
        collect(&schema, &mut declared);
        let (_, doc) = render(maximal(), json!({}));
        fn keys(v: &Value, skip_env: bool, out: &mut Vec<String>) {
            match v {
                Value::Object(m) => {
                    for (k, x) in m {
                        out.push(k.clone());
                        if !(skip_env && k == "env") {
                            keys(x, skip_env, out);
                        }
                    }
                }
                Value::Array(a) => a.iter().for_each(|x| keys(x, skip_env, out)),
                _ => {}
            }
        }
        let mut used = Vec::new();
        keys(&doc, true, &mut used);
        for k in used {
            assert!(
                declared.contains(&k),
                "field `{k}` missing from docs/run-record.schema.json"
            );
        }
        let docs = include_str!("../../../docs/run-record.md");
        for k in &declared {
            assert!(
                docs.contains(&format!("`{k}`")),
                "field `{k}` not documented in docs/run-record.md"
            );
        }
    }

    #[test]
    fn rejects_bad_config() {
        let rec = fixtures::successful_run();
        assert!(JsonReport::render(json!({"path": "/tmp/x.json"}), rec.clone()).is_err());
        assert!(JsonReport::render(json!({"indent": 2}), rec).is_err());
    }
}
