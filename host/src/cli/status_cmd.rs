//! `planexec status [RUN] [--format json]`: this repository's runs at a glance (status, tasks
//! done and blocked, where each stopped, how to resume or roll back), or one run's tasks.

use super::{exit, report_error, Format};
use planexec_record::{CycleOutcome, RunRecord, RunStatus, TaskRecord, TaskStatus};
use serde_json::{json, Value};

pub fn run(run_id: Option<&str>, format: Format) -> i32 {
    let git_dir = match std::env::current_dir()
        .map_err(|e| e.to_string())
        .and_then(|d| planexec_vcs::Repo::discover(&d).map_err(|e| e.to_string()))
    {
        Ok(r) => r.git().path().to_path_buf(),
        Err(e) => {
            report_error(&e);
            return exit::USAGE;
        }
    };
    let live = crate::lock::live_holder(&git_dir).map(|h| h.run_id);
    let runs = crate::engine::saved_records(&git_dir);
    match run_id {
        None => {
            let rows: Vec<Value> = runs
                .iter()
                .map(|(id, r)| match r {
                    Ok(rec) => summary(rec, live.as_deref()),
                    Err(e) => json!({"run_id": id, "error": e}),
                })
                .collect();
            print_list(&rows, format);
            exit::OK
        }
        Some(id) => match runs.into_iter().find(|(i, _)| i == id) {
            Some((_, Ok(rec))) => {
                let mut v = summary(&rec, live.as_deref());
                v["tasks"] = rec.tasks.iter().map(task).collect();
                print_one(&v, format);
                exit::OK
            }
            Some((_, Err(e))) => {
                report_error(&e);
                exit::USAGE
            }
            None => {
                report_error(&format!(
                    "no run `{id}` in this repository; `planexec status` lists its runs"
                ));
                exit::USAGE
            }
        },
    }
}

/// The state a person cares about: `running` only while a planexec holds the lock for it.
fn state(rec: &RunRecord, live: Option<&str>) -> &'static str {
    match rec.status {
        RunStatus::Running if live == Some(rec.run_id.as_str()) => "running",
        RunStatus::Running => "interrupted",
        s => s.as_str(),
    }
}

fn summary(rec: &RunRecord, live: Option<&str>) -> Value {
    let count = |s: TaskStatus| rec.tasks.iter().filter(|t| t.status == s).count();
    let st = state(rec, live);
    let stopped = rec
        .tasks
        .iter()
        .find(|t| t.status == TaskStatus::Blocked)
        .or_else(|| {
            rec.tasks
                .iter()
                .find(|t| t.status != TaskStatus::Done && t.status != TaskStatus::Pending)
        })
        .map(|t| match &t.blocked_reason {
            Some(r) => format!("{} blocked: {}", t.id, first_line(r)),
            None => format!("{} {}", t.id, t.status.as_str()),
        });
    let resumable = matches!(st, "blocked" | "waiting" | "interrupted");
    json!({
        "run_id": rec.run_id,
        "plan": rec.plan.path,
        "started_at": rec.started_at,
        "finished_at": rec.finished_at,
        "status": st,
        "tasks": rec.tasks.len(),
        "done": count(TaskStatus::Done),
        "blocked": count(TaskStatus::Blocked),
        "stopped_at": if st == "success" { None } else { stopped },
        "resume": resumable.then(|| format!("planexec run {} --resume", rec.plan.path)),
        "rollback": (st != "running").then(|| format!("planexec rollback {} --yes", rec.run_id)),
    })
}

/// One task: its status, and per cycle the gates' and reviews' outcomes.
fn task(t: &TaskRecord) -> Value {
    let cycles: Vec<Value> = t
        .cycles
        .iter()
        .map(|c| {
            json!({
                "cycle": c.number,
                "outcome": match c.outcome {
                    CycleOutcome::Running => "running",
                    CycleOutcome::Passed => "passed",
                    CycleOutcome::Rework => "rework",
                    CycleOutcome::Blocked => "blocked",
                    CycleOutcome::Waiting => "waiting",
                },
                "gates": c.gates.iter().map(|g| json!({"name": g.name, "outcome": g.report.outcome})).collect::<Vec<_>>(),
                "reviews": c.reviews.iter().map(|r| json!({"kind": r.kind, "outcome": r.outcome})).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "id": t.id,
        "title": t.title,
        "status": t.status.as_str(),
        "commit": t.commit,
        "blocked_reason": t.blocked_reason,
        "cycles": cycles,
    })
}

fn first_line(s: &str) -> String {
    let l = s.lines().next().unwrap_or("");
    if l.chars().count() > 100 {
        format!("{}…", l.chars().take(100).collect::<String>())
    } else {
        l.to_string()
    }
}

fn text(v: &Value, k: &str) -> String {
    crate::text::untrusted(v[k].as_str().unwrap_or("-"))
}

fn print_list(rows: &[Value], format: Format) {
    if format == Format::Json {
        println!("{}", Value::from(rows.to_vec()));
        return;
    }
    if rows.is_empty() {
        println!("no planexec runs in this repository yet (`planexec run PLAN` starts one)");
    }
    for r in rows {
        if r.get("error").is_some() {
            println!("{}  unreadable: {}", text(r, "run_id"), text(r, "error"));
            continue;
        }
        print_head(r);
    }
}

fn print_head(r: &Value) {
    println!(
        "{}  {}  {}  started {}  {}/{} done, {} blocked",
        text(r, "run_id"),
        text(r, "status"),
        text(r, "plan"),
        text(r, "started_at"),
        r["done"],
        r["tasks"],
        r["blocked"]
    );
    for (k, label) in [
        ("stopped_at", "stopped at"),
        ("resume", "resume"),
        ("rollback", "roll back"),
    ] {
        if r[k].is_string() {
            println!("    {label}: {}", text(r, k));
        }
    }
}

fn print_one(v: &Value, format: Format) {
    if format == Format::Json {
        println!("{v}");
        return;
    }
    print_head(v);
    for t in v["tasks"].as_array().into_iter().flatten() {
        let cycles: Vec<String> = t["cycles"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                let gates: Vec<String> = c["gates"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|g| {
                        format!(
                            "{} {}",
                            g["name"].as_str().unwrap_or("?"),
                            g["outcome"].as_str().unwrap_or("?")
                        )
                    })
                    .collect();
                let reviews: Vec<String> = c["reviews"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|r| {
                        format!(
                            "{} review {}",
                            r["kind"].as_str().unwrap_or("?"),
                            r["outcome"].as_str().unwrap_or("?")
                        )
                    })
                    .collect();
                format!(
                    "#{} {}: {}",
                    c["cycle"],
                    c["outcome"].as_str().unwrap_or("?"),
                    [gates, reviews].concat().join(", ")
                )
            })
            .collect();
        println!(
            "  {} {}  {}",
            text(t, "id"),
            text(t, "status"),
            text(t, "title")
        );
        for c in cycles {
            println!("      {}", crate::text::untrusted(&c));
        }
        if t["blocked_reason"].is_string() {
            println!(
                "      blocked: {}",
                crate::text::untrusted(&first_line(t["blocked_reason"].as_str().unwrap_or("")))
            );
        }
    }
}
