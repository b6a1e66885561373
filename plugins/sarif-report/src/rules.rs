//! SARIF `reportingDescriptor`s: one rule per distinct rule id of the results, with
//! the name, descriptions and help text GitHub code scanning requires (GH2012).

use planexec_pdk::record::Severity;
use reportkit::{Source, SourcedFinding};
use serde_json::{json, Value};

fn severity_rank(s: Severity) -> u8 {
    match s {
        Severity::Critical => 3,
        Severity::Important => 2,
        Severity::Minor => 1,
        Severity::Info => 0,
    }
}

/// `code-review/secret` -> `CodeReviewSecret`: SARIF's rule name is a readable
/// identifier distinct from the id.
pub fn rule_name(id: &str) -> String {
    let mut o = String::new();
    for part in id.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut cs = part.chars();
        if let Some(first) = cs.next() {
            o.extend(first.to_uppercase());
            o.push_str(cs.as_str());
        }
    }
    if o.is_empty() {
        "Finding".into()
    } else {
        o
    }
}

/// What reported the rule, as a person reads it: `the gate pytest, the code review`.
fn reporters(sources: &[&Source]) -> String {
    let mut out: Vec<String> = Vec::new();
    for s in sources {
        let who = match s {
            Source::TaskGate { gate, .. } => format!("the task gate `{gate}`"),
            Source::FinalGate { gate } => format!("the final gate `{gate}`"),
            Source::Review { kind, plugin, .. } => {
                format!("the {} (`{plugin}`)", reportkit::review_kind_label(*kind))
            }
        };
        if !out.contains(&who) {
            out.push(who);
        }
    }
    out.join(", ")
}

/// What to do about a rule's results, by what kind of rule it is.
fn advice(id: &str) -> &'static str {
    let tail = id.rsplit('/').next().unwrap_or(id);
    if tail.starts_with("test-") || tail == "failure" {
        "A test failed. Read the failure message and the test's output in the planexec \
         JUnit report or execution log, fix the code or the test at the location, and run \
         the gate again (`planexec gate run GATE`)."
    } else if id.starts_with("task-review/") {
        "The task review found that the change does not do what the plan's task asks \
         (scope, acceptance criteria, tests). Compare the change with the task in the plan \
         and adjust the change or the plan."
    } else if id.starts_with("code-review/") || id.starts_with("agent-review/") {
        "The code review found a problem in the changed code. Fix it at the location; \
         planexec sends such findings back to the implementer as rework."
    } else {
        "A gate's tool reported this at the location. Fix the code there, or configure \
         the tool if the rule does not apply, and run the gate again (`planexec gate run GATE`)."
    }
}

/// One rule per distinct rule id, in order of first appearance; returns the rules
/// and their ids (for `ruleIndex`).
pub fn rules(found: &[SourcedFinding<'_>]) -> (Vec<Value>, Vec<String>) {
    let mut ids: Vec<String> = Vec::new();
    let mut worst: Vec<Severity> = Vec::new();
    let mut sources: Vec<Vec<&Source>> = Vec::new();
    for sf in found {
        let i = match ids.iter().position(|r| r == &sf.finding.rule) {
            Some(i) => i,
            None => {
                ids.push(sf.finding.rule.clone());
                worst.push(sf.finding.severity);
                sources.push(Vec::new());
                ids.len() - 1
            }
        };
        if severity_rank(sf.finding.severity) > severity_rank(worst[i]) {
            worst[i] = sf.finding.severity;
        }
        sources[i].push(&sf.source);
    }
    let rules = ids
        .iter()
        .enumerate()
        .map(|(i, id)| rule(id, worst[i], &sources[i]))
        .collect();
    (rules, ids)
}

fn rule(id: &str, worst: Severity, sources: &[&Source]) -> Value {
    let by = reporters(sources);
    let mut tags = vec!["planexec"];
    for s in sources {
        let t = match s {
            Source::TaskGate { .. } => "gate",
            Source::Review { .. } => "review",
            Source::FinalGate { .. } => "final-gate",
        };
        if !tags.contains(&t) {
            tags.push(t);
        }
    }
    let sev = reportkit::severity_str(worst);
    let full = format!(
        "Rule `{id}`, reported during a planexec run by {by}; the most severe result of \
         this rule in the run is {sev}."
    );
    let advice = advice(id);
    json!({
        "id": id,
        "name": rule_name(id),
        "shortDescription": { "text": format!("{id} (reported by {by})") },
        "fullDescription": { "text": full },
        "help": {
            "text": format!("{full} {advice}"),
            "markdown": format!("**{id}**\n\n{full}\n\n{advice}"),
        },
        "defaultConfiguration": { "level": crate::level(worst) },
        "properties": { "tags": tags },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_differ_from_ids() {
        assert_eq!(rule_name("code-review/secret"), "CodeReviewSecret");
        assert_eq!(rule_name("mypy/arg-type"), "MypyArgType");
        assert_eq!(rule_name("///"), "Finding");
    }
}
