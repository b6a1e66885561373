//! The `task-review` reviewer: a deterministic spec-compliance review of one task's changes.
//! Scores the seeds' five Task Reviewer criteria PASS/WEAK/FAIL from gate reports, declared files, constraints and boundaries.

mod constraints;

use planexec_pdk::{
    Criterion, Finding, Host, Outcome, Review, ReviewRequest, Reviewer, Score, Severity,
};
use reviewkit::paths::{is_test_path, matches_any, patterns_of};
use reviewkit::score::{approved, criterion, finding, summary_line, worst};
use reviewkit::{parse_diff, FileStatus};
use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::Path;

pub const PASSED: &str = "TASK_REVIEW_PASSED";
pub const CHANGES_REQUESTED: &str = "TASK_REVIEW_CHANGES_REQUESTED";

pub const COMPLETION: &str = "Completion criteria";
pub const SCOPE: &str = "Scope compliance";
pub const REQUIRED: &str = "Required changes";
pub const DESIGN: &str = "Design alignment";
pub const BOUNDARY: &str = "Boundary integrity";

/// Configuration (the plugin's table in planexec.toml); every key is optional.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// WEAK criteria tolerated in an approval (the seeds: one).
    pub max_weak: usize,
    /// Completion score when no gate reported a pass (no gates, all skipped).
    pub no_gates: Score,
    /// Completion score when a gate errored (could not judge) and none failed.
    pub errored_gates: Score,
    /// Scope score when the task declares no files or modules.
    pub undeclared_files: Score,
    /// Required-changes score when declared files were not touched.
    pub missing_required: Score,
    /// Files that may change outside the declared area as support (lockfiles).
    pub supporting_files: Vec<String>,
    /// Scope score when only supporting files changed outside the declared area.
    pub supporting: Score,
    /// Scope score when only test files changed outside the declared area.
    pub tests_outside_scope: Score,
    /// Paths (patterns) every check ignores.
    pub ignore: Vec<String>,
    /// Check the plan's constraints (frozen paths, new dependencies, forbidden names).
    pub constraints: bool,
    /// Treat files declared by other tasks as a boundary.
    pub other_tasks: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_weak: 1,
            no_gates: Score::Weak,
            errored_gates: Score::Fail,
            undeclared_files: Score::Weak,
            missing_required: Score::Fail,
            supporting_files: [
                "Cargo.lock",
                "go.sum",
                "package-lock.json",
                "yarn.lock",
                "pnpm-lock.yaml",
                "poetry.lock",
                "uv.lock",
                "Pipfile.lock",
                "Gemfile.lock",
                "composer.lock",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            supporting: Score::Weak,
            tests_outside_scope: Score::Weak,
            ignore: Vec::new(),
            constraints: true,
            other_tasks: true,
        }
    }
}

pub struct TaskReview;

impl Reviewer for TaskReview {
    fn review(req: ReviewRequest, _host: &dyn Host) -> Result<Review, String> {
        let cfg: Config = planexec_pdk::config(&req.config)?;
        Ok(review(&req, &cfg))
    }
}

planexec_pdk::reviewer_component!(TaskReview);

/// A changed path (deleted and renamed-away paths included).
struct Changed {
    path: String,
}

fn changed_files(req: &ReviewRequest, cfg: &Config) -> Vec<Changed> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for c in &req.changed_files {
        if seen.insert(c.path.clone()) {
            out.push(Changed {
                path: c.path.clone(),
            });
        }
    }
    for f in parse_diff(&req.diff) {
        if let Some(old) = f
            .old_path
            .as_ref()
            .filter(|_| f.status == FileStatus::Renamed)
        {
            if seen.insert(old.clone()) {
                out.push(Changed { path: old.clone() });
            }
        }
        if seen.insert(f.path.clone()) {
            out.push(Changed {
                path: f.path.clone(),
            });
        }
    }
    out.retain(|c| matches_any(&cfg.ignore, &c.path).is_none());
    out
}

fn list(items: &[String], max: usize) -> String {
    let mut s = items
        .iter()
        .take(max)
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > max {
        s.push_str(&format!(" and {} more", items.len() - max));
    }
    s
}

/// The declared files as patterns, where an entry naming a changed path
/// exactly (a name with spaces such as `my notes.txt`) stays that one path.
fn declared_patterns(files: &[String], changed: &[Changed]) -> Vec<String> {
    let exact = |f: &String| {
        let f = f.trim().trim_matches('`');
        changed.iter().any(|c| c.path == f).then(|| f.to_string())
    };
    let rest: Vec<String> = files
        .iter()
        .filter(|f| exact(f).is_none())
        .cloned()
        .collect();
    let mut own = patterns_of(&rest);
    own.extend(files.iter().filter_map(exact));
    own.sort();
    own.dedup();
    own
}

/// Runs the five checks and applies the approval rule.
pub fn review(req: &ReviewRequest, cfg: &Config) -> Review {
    let mut findings: Vec<Finding> = Vec::new();
    let changed = changed_files(req, cfg);
    let task = &req.task;
    let own = declared_patterns(&task.files, &changed);

    // 1. Completion criteria: the gate reports are the evidence.
    let completion = {
        let failed: Vec<_> = req
            .gate_reports
            .iter()
            .filter(|(_, r)| r.outcome == Outcome::Failed)
            .collect();
        let errored: Vec<_> = req
            .gate_reports
            .iter()
            .filter(|(_, r)| r.outcome == Outcome::Errored)
            .collect();
        let passed: Vec<String> = req
            .gate_reports
            .iter()
            .filter(|(_, r)| r.outcome == Outcome::Passed)
            .map(|(n, _)| n.clone())
            .collect();
        let acc = match (task.acceptance.len(), task.acceptance_commands.len()) {
            (0, 0) => "the task states no acceptance criteria".to_string(),
            (a, c) => format!("the task states {a} acceptance criteria ({c} runnable)"),
        };
        for (n, r) in failed.iter().chain(errored.iter()) {
            let what = if r.outcome == Outcome::Failed {
                "failed"
            } else {
                "errored"
            };
            findings.push(finding(
                Severity::Important,
                "task-review/completion",
                format!("gate `{n}` {what}: {}", r.summary),
                None,
                None,
            ));
        }
        if !failed.is_empty() {
            let names: Vec<String> = failed.iter().map(|(n, _)| n.clone()).collect();
            criterion(
                COMPLETION,
                Score::Fail,
                format!(
                    "Gate(s) {} failed, so the completion criteria are not met; {acc}.",
                    list(&names, 4)
                ),
            )
        } else if !errored.is_empty() {
            let names: Vec<String> = errored.iter().map(|(n, _)| n.clone()).collect();
            criterion(
                COMPLETION,
                cfg.errored_gates,
                format!(
                    "Gate(s) {} errored and could not verify completion; {acc}.",
                    list(&names, 4)
                ),
            )
        } else if passed.is_empty() {
            criterion(
                COMPLETION,
                cfg.no_gates,
                format!(
                    "No gate reported a pass, so completion has no verifiable evidence; {acc}."
                ),
            )
        } else {
            criterion(
                COMPLETION,
                Score::Pass,
                format!(
                    "All {} gate(s) passed ({}); {acc}.",
                    passed.len(),
                    list(&passed, 4)
                ),
            )
        }
    };

    // 2. Scope compliance: every changed file inside the declared change area.
    let scope = if own.is_empty() {
        criterion(SCOPE, cfg.undeclared_files, format!("The task declares no files or modules, so {} changed file(s) cannot be checked against a change area.", changed.len()))
    } else {
        let (mut hard, mut tests, mut support) = (Vec::new(), Vec::new(), Vec::new());
        for c in &changed {
            if matches_any(&own, &c.path).is_some() {
                continue;
            }
            if is_test_path(&c.path) {
                tests.push(c.path.clone());
            } else if matches_any(&cfg.supporting_files, &c.path).is_some() {
                support.push(c.path.clone());
            } else {
                hard.push(c.path.clone());
            }
        }
        for (paths, sev, what) in [
            (
                &hard,
                Severity::Important,
                "outside the task's declared files",
            ),
            (
                &tests,
                Severity::Minor,
                "is a test outside the task's declared files",
            ),
            (
                &support,
                Severity::Minor,
                "is a supporting file outside the task's declared files",
            ),
        ] {
            for p in paths.iter() {
                findings.push(finding(
                    sev,
                    "task-review/scope",
                    format!("`{p}` changed {what} ({})", list(&own, 3)),
                    Some(p),
                    None,
                ));
            }
        }
        if !hard.is_empty() {
            criterion(
                SCOPE,
                Score::Fail,
                format!(
                    "{} file(s) changed outside the declared change area: {}.",
                    hard.len(),
                    list(&hard, 4)
                ),
            )
        } else if !tests.is_empty() || !support.is_empty() {
            let mut s = Score::Pass;
            if !tests.is_empty() {
                s = worst(s, cfg.tests_outside_scope);
            }
            if !support.is_empty() {
                s = worst(s, cfg.supporting);
            }
            let extra: Vec<String> = tests.iter().chain(support.iter()).cloned().collect();
            criterion(
                SCOPE,
                s,
                format!(
                    "Changes stay in the declared area except supporting/test files: {}.",
                    list(&extra, 4)
                ),
            )
        } else {
            criterion(
                SCOPE,
                Score::Pass,
                format!(
                    "All {} changed file(s) fall within the declared files ({}).",
                    changed.len(),
                    list(&own, 3)
                ),
            )
        }
    };

    // 3. Required changes: every declared file or module was touched.
    let required = if changed.is_empty() {
        findings.push(finding(
            Severity::Important,
            "task-review/required",
            "the task produced no changes at all",
            None,
            None,
        ));
        criterion(
            REQUIRED,
            Score::Fail,
            "No files changed: nothing of the task's change area was addressed.",
        )
    } else if own.is_empty() {
        criterion(
            REQUIRED,
            Score::Pass,
            format!(
                "No declared change area to compare with; {} file(s) changed.",
                changed.len()
            ),
        )
    } else {
        let missing: Vec<String> = own
            .iter()
            .filter(|p| {
                !changed
                    .iter()
                    .any(|c| reviewkit::matches_pattern(p, &c.path))
            })
            .cloned()
            .collect();
        for m in &missing {
            findings.push(finding(
                if cfg.missing_required == Score::Fail {
                    Severity::Important
                } else {
                    Severity::Minor
                },
                "task-review/required",
                format!("declared `{m}` was not touched"),
                Some(m),
                None,
            ));
        }
        if missing.is_empty() {
            criterion(
                REQUIRED,
                Score::Pass,
                format!("Every declared file or module ({}) was changed.", own.len()),
            )
        } else {
            criterion(
                REQUIRED,
                cfg.missing_required,
                format!(
                    "{} of {} declared file(s)/module(s) were not touched: {}.",
                    missing.len(),
                    own.len(),
                    list(&missing, 4)
                ),
            )
        }
    };

    // 4. Design alignment: the plan's checkable constraints.
    let design = if !cfg.constraints || req.constraints.is_empty() {
        criterion(
            DESIGN,
            Score::Pass,
            if req.constraints.is_empty() {
                "The plan states no constraints to violate."
            } else {
                "Constraint checks are disabled in config."
            },
        )
    } else {
        let rules = constraints::parse(&req.constraints);
        let mut violated: Vec<String> = Vec::new();
        for c in &changed {
            for (pat, i) in &rules.frozen {
                if reviewkit::matches_pattern(pat, &c.path) {
                    findings.push(finding(
                        Severity::Important,
                        "task-review/design",
                        format!(
                            "`{}` changed, but the plan says: {}",
                            c.path, req.constraints[*i]
                        ),
                        Some(&c.path),
                        None,
                    ));
                    violated.push(format!("`{}` is frozen", c.path));
                }
            }
        }
        let files = parse_diff(&req.diff);
        let deps = constraints::added_dependencies(&files, Path::new(&req.mounts.workspace));
        for i in &rules.no_new_deps {
            for d in &deps {
                findings.push(finding(
                    Severity::Important,
                    "task-review/design",
                    format!(
                        "new dependency `{}` added, but the plan says: {}",
                        d.name, req.constraints[*i]
                    ),
                    Some(&d.path),
                    d.line,
                ));
                violated.push(format!("new dependency `{}`", d.name));
            }
        }
        for (name, i) in &rules.forbidden_names {
            let mut hit: Option<(String, Option<u32>)> = None;
            if let Some(d) = deps
                .iter()
                .find(|d| d.name == *name || d.name.ends_with(&format!("/{name}")))
            {
                hit = Some((d.path.clone(), d.line));
            }
            if hit.is_none() {
                'files: for f in files
                    .iter()
                    .filter(|f| !is_test_path(&f.path) && !constraints::is_manifest(&f.path))
                {
                    for l in f.added() {
                        let t = l.text.trim_start();
                        if t.starts_with("//")
                            || t.starts_with('#')
                            || t.starts_with("/*")
                            || t.starts_with('*')
                        {
                            continue;
                        }
                        if constraints::has_word(&l.text, name) {
                            hit = Some((f.path.clone(), l.new_line));
                            break 'files;
                        }
                    }
                }
            }
            if let Some((p, line)) = hit {
                findings.push(finding(
                    Severity::Important,
                    "task-review/design",
                    format!("`{name}` used, but the plan says: {}", req.constraints[*i]),
                    Some(&p),
                    line,
                ));
                violated.push(format!("`{name}` used"));
            }
        }
        let checked = req.constraints.len() - rules.unchecked.len();
        violated.dedup();
        if !violated.is_empty() {
            criterion(
                DESIGN,
                Score::Fail,
                format!(
                    "The change violates the plan's constraints: {}.",
                    violated.join("; ")
                ),
            )
        } else {
            criterion(DESIGN, Score::Pass, format!("{checked} of {} plan constraint(s) are machine-checkable and all hold; the rest were not evaluated.", req.constraints.len()))
        }
    };

    // 5. Boundary integrity: out-of-scope items and other tasks' files untouched.
    let boundary = {
        let oos = patterns_of(&task.out_of_scope);
        let others = if cfg.other_tasks {
            patterns_of(&req.other_tasks_files)
        } else {
            Vec::new()
        };
        let mut bad = Vec::new();
        for c in &changed {
            if let Some(p) = matches_any(&oos, &c.path) {
                findings.push(finding(
                    Severity::Important,
                    "task-review/boundary",
                    format!(
                        "`{}` changed, but the task lists `{p}` as out of scope",
                        c.path
                    ),
                    Some(&c.path),
                    None,
                ));
                bad.push(c.path.clone());
            } else if matches_any(&own, &c.path).is_none() {
                if let Some(p) = matches_any(&others, &c.path) {
                    findings.push(finding(
                        Severity::Important,
                        "task-review/boundary",
                        format!(
                            "`{}` changed, but it belongs to another task (`{p}`)",
                            c.path
                        ),
                        Some(&c.path),
                        None,
                    ));
                    bad.push(c.path.clone());
                }
            }
        }
        if bad.is_empty() {
            criterion(
                BOUNDARY,
                Score::Pass,
                format!(
                    "No out-of-scope item ({}) or other task's file ({}) was touched.",
                    oos.len(),
                    others.len()
                ),
            )
        } else {
            criterion(
                BOUNDARY,
                Score::Fail,
                format!(
                    "{} file(s) cross the task's boundary: {}.",
                    bad.len(),
                    list(&bad, 4)
                ),
            )
        }
    };

    let completion =
        with_implementer_findings(completion, &req.implementer_findings, &mut findings);
    let criteria = vec![completion, scope, required, design, boundary];
    let ok = approved(&criteria, cfg.max_weak);
    let subject = if task.title.is_empty() {
        task.id.clone()
    } else {
        format!("{} — {}", task.id, task.title)
    };
    let summary = summary_line(
        if ok { PASSED } else { CHANGES_REQUESTED },
        &subject,
        &criteria,
    );
    Review {
        approved: ok,
        criteria,
        findings,
        summary,
        transcript_path: None,
        transcript: String::new(),
        usage: None,
    }
}

/// The host's check of the implementer's report against the diff (a file claimed
/// but unchanged, one changed but unreported) weighs on completion: claims are
/// evidence only when they match what happened. Each becomes a finding of the review.
fn with_implementer_findings(
    mut completion: Criterion,
    given: &[Finding],
    findings: &mut Vec<Finding>,
) -> Criterion {
    if given.is_empty() {
        return completion;
    }
    let serious = given
        .iter()
        .any(|f| matches!(f.severity, Severity::Critical | Severity::Important));
    completion.score = worst(
        completion.score,
        if serious { Score::Fail } else { Score::Weak },
    );
    let first = &given[0].message;
    let what = if given.iter().all(|f| f.rule.starts_with("tests-prove/")) {
        "New tests pass without the change, so they do not prove it"
    } else {
        "The implementer's report does not match the diff"
    };
    completion.reasoning.push_str(&format!(
        " {what} ({} finding(s); first: {first}).",
        given.len()
    ));
    findings.extend(given.iter().cloned());
    completion
}

#[cfg(test)]
mod tests;
