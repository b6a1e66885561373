//! One task through its cycles: implement -> gates -> task review -> code
//! review -> commit, with rework, tolerances, and resume after a crash.

use super::{now, Ctx};
use crate::config::GateConfig;
use crate::report::Event;
use crate::sandbox::bindings::{implementer_plugin as ip, reviewer_plugin as rp, types as wt};
use crate::sandbox::convert;
use planexec_record::*;

pub enum End {
    Done,
    Blocked,
    Waiting,
}

/// The plan's task as the WIT contract's record.
pub fn wit_task(t: &planexec_plan::Task) -> wt::Task {
    use planexec_plan::DepKind;
    wt::Task {
        id: t.id.clone(),
        title: t.title.clone(),
        summary: t.summary.clone(),
        body: t.body.clone(),
        acceptance: t.acceptance.clone(),
        acceptance_commands: t.acceptance_commands.clone(),
        files: t.files.clone(),
        out_of_scope: t.out_of_scope.clone(),
        dependencies: t
            .dependencies
            .iter()
            .map(|d| wt::Dependency {
                id: d.id.clone(),
                kind: match d.kind {
                    DepKind::Blocking => wt::DependencyKind::Blocking,
                    DepKind::Soft => wt::DependencyKind::Soft,
                    DepKind::Sequencing => wt::DependencyKind::Sequencing,
                    DepKind::Shared => wt::DependencyKind::Shared,
                },
            })
            .collect(),
        milestone: t.milestone.clone(),
        steps: t.steps.clone(),
    }
}

fn set_status(ctx: &mut Ctx, id: &str, status: TaskStatus, cycle: u32) {
    ctx.task_mut(id).status = status;
    ctx.emit(Event::TaskStatus {
        task: id.to_string(),
        status,
        cycle,
    });
    ctx.persist();
}

fn block(ctx: &mut Ctx, id: &str, reason: String) -> End {
    let t = ctx.task_mut(id);
    t.status = TaskStatus::Blocked;
    t.blocked_reason = Some(reason.clone());
    t.finished_at = Some(now());
    if let Some(c) = t.cycles.last_mut() {
        if c.outcome == CycleOutcome::Running || c.outcome == CycleOutcome::Rework {
            c.outcome = CycleOutcome::Blocked;
            c.finished_at.get_or_insert_with(now);
        }
    }
    ctx.state.record.issues.push(Issue {
        task: Some(id.to_string()),
        issue: reason.clone(),
        resolution:
            "blocked: the run stopped to ask; fix the cause, then `planexec run PLAN --resume`"
                .into(),
    });
    ctx.emit(Event::TaskBlocked {
        task: id.to_string(),
        reason,
    });
    ctx.emit(Event::TaskStatus {
        task: id.to_string(),
        status: TaskStatus::Blocked,
        cycle: 0,
    });
    ctx.persist();
    End::Blocked
}

fn finding(rule: &str, message: String) -> Finding {
    Finding {
        severity: Severity::Important,
        rule: rule.into(),
        message,
        path: None,
        line: None,
        column: None,
    }
}

/// After a crash mid-task: a commit that landed before the state was saved is
/// adopted; otherwise the task's partial changes are backed up and undone.
fn recover(ctx: &mut Ctx, id: &str) -> Option<End> {
    let base = ctx.state.task_base.get(id).cloned()?;
    let head = ctx.repo.head().ok().flatten()?;
    if head != base {
        let git = ctx.repo.git();
        if let Ok(c) = git.find_commit(git2::Oid::from_str(&head).ok()?) {
            let is_ours = c.message().unwrap_or("").starts_with(&format!("{id}: "))
                && c.parent_id(0).map(|p| p.to_string()) == Ok(base.clone());
            if is_ours {
                let files = ctx
                    .task_mut(id)
                    .cycles
                    .last()
                    .map(|c| c.files.clone())
                    .unwrap_or_default();
                finish_done(ctx, id, head, files);
                return Some(End::Done);
            }
        }
    }
    // Redo from the start: keep a copy of the partial work, then restore the task's files.
    if let Ok(changes) = ctx.repo.changes_since_head(&ctx.own_files) {
        if !changes.is_empty() {
            let backup = ctx
                .repo
                .git()
                .path()
                .join("planexec")
                .join("interrupted")
                .join(&ctx.state.record.run_id)
                .join(id);
            for f in &changes.files {
                let src = ctx.workspace.join(&f.path);
                // Not through a symlink: it could lead to any file the user can read.
                if src.symlink_metadata().is_ok_and(|m| m.is_file()) {
                    let dst = backup.join(&f.path);
                    let _ = std::fs::create_dir_all(dst.parent().unwrap());
                    let _ = std::fs::copy(&src, &dst);
                }
            }
            restore_to_head(ctx, &changes);
            ctx.state.record.issues.push(Issue {
                task: Some(id.to_string()),
                issue: format!("the run was interrupted during {id}"),
                resolution: format!(
                    "partial changes backed up to {}; the task was redone from its start",
                    backup.display()
                ),
            });
        }
    }
    let t = ctx.task_mut(id);
    t.cycles.clear();
    t.status = TaskStatus::Ready;
    None
}

fn restore_to_head(ctx: &Ctx, changes: &planexec_vcs::TaskChanges) {
    let git = ctx.repo.git();
    let mut co = git2::build::CheckoutBuilder::new();
    co.force();
    let mut any = false;
    for f in &changes.files {
        match f.change {
            planexec_vcs::ChangeKind::Added => {
                let _ = std::fs::remove_file(ctx.workspace.join(&f.path));
            }
            _ => {
                co.path(&f.path);
                any = true;
            }
        }
        if let Some(old) = &f.old_path {
            co.path(old);
            any = true;
        }
    }
    if any {
        let _ = git.checkout_head(Some(&mut co));
    }
}

fn finish_done(ctx: &mut Ctx, id: &str, commit: String, files: Vec<String>) {
    let t = ctx.task_mut(id);
    t.commit = Some(commit.clone());
    t.status = TaskStatus::Done;
    t.finished_at = Some(now());
    if let Some(c) = t.cycles.last_mut() {
        c.outcome = CycleOutcome::Passed;
        c.finished_at.get_or_insert_with(now);
    }
    ctx.state.task_base.remove(id);
    ctx.emit(Event::Committed {
        task: id.to_string(),
        commit,
        files,
    });
    ctx.emit(Event::TaskStatus {
        task: id.to_string(),
        status: TaskStatus::Done,
        cycle: 0,
    });
    if ctx.plan.dialect == planexec_plan::Dialect::ExecPlan {
        if let Some(pt) = ctx.plan.tasks.iter().find(|t| t.id == id) {
            if let Err(e) =
                planexec_plan::tick_progress(&ctx.plan.source, pt, time::OffsetDateTime::now_utc())
            {
                ctx.emit(Event::Message {
                    level: crate::report::Level::Warn,
                    text: format!("could not tick {id} in the plan: {e}"),
                });
            }
        }
    }
    ctx.persist();
}

pub fn run_task(ctx: &mut Ctx, id: &str) -> End {
    let plan_task = ctx
        .plan
        .tasks
        .iter()
        .find(|t| t.id == id)
        .expect("task in plan")
        .clone();
    let status = ctx.task_mut(id).status;
    match status {
        TaskStatus::Done => return End::Done,
        TaskStatus::Blocked => {
            // Resumed after a block: the person fixed the cause; try again with a
            // fresh rework budget, keeping the earlier cycles in the record and log.
            let t = ctx.task_mut(id);
            t.blocked_reason = None;
            t.status = TaskStatus::Ready;
            let done_cycles = t.cycles.len() as u32;
            ctx.state.cycle_base.insert(id.to_string(), done_cycles);
            ctx.state.task_base.remove(id);
        }
        TaskStatus::InProgress | TaskStatus::InReview | TaskStatus::Rework
            if ctx.state.waiting_task.as_deref() != Some(id) =>
        {
            if let Some(end) = recover(ctx, id) {
                return end;
            }
        }
        _ => {}
    }
    if plan_task.done && ctx.task_mut(id).cycles.is_empty() {
        let t = ctx.task_mut(id);
        t.status = TaskStatus::Done;
        ctx.state.record.issues.push(Issue {
            task: Some(id.into()),
            issue: format!("{id} is already marked done in the plan"),
            resolution: "skipped; no commit".into(),
        });
        ctx.emit(Event::TaskStatus {
            task: id.into(),
            status: TaskStatus::Done,
            cycle: 0,
        });
        ctx.persist();
        return End::Done;
    }
    let task_started = {
        let t = ctx.task_mut(id);
        t.started_at.get_or_insert_with(now).clone()
    };
    let started_at = time::OffsetDateTime::parse(
        &task_started,
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    let wtask = wit_task(&plan_task);
    let max_cycles = ctx.tolerances.max_cycles(ctx.config.run.max_cycles);

    loop {
        let resumed_wait = ctx.state.waiting_task.as_deref() == Some(id);
        let cycle_no = {
            let t = ctx.task_mut(id);
            if resumed_wait {
                t.cycles.len() as u32
            } else {
                t.cycles.len() as u32 + 1
            }
        };
        if !resumed_wait {
            let base = ctx.repo.head().ok().flatten().unwrap_or_default();
            ctx.state.task_base.insert(id.to_string(), base);
            let t = ctx.task_mut(id);
            t.cycles.push(Cycle {
                number: cycle_no,
                started_at: now(),
                finished_at: None,
                implementer: None,
                gates: vec![],
                reviews: vec![],
                files: vec![],
                added_lines: 0,
                removed_lines: 0,
                outcome: CycleOutcome::Running,
                feedback: vec![],
            });
        }
        set_status(ctx, id, TaskStatus::InProgress, cycle_no);

        // 1. Implement.
        let feedback: Vec<Finding> = {
            let t = ctx.task_mut(id);
            let n = t.cycles.len();
            if n >= 2 {
                t.cycles[n - 2].feedback.clone()
            } else {
                vec![]
            }
        };
        let mut settings = ctx.kit.implementer_settings.clone();
        if resumed_wait {
            if let serde_json::Value::Object(m) = &mut settings {
                m.insert("resumed".into(), true.into());
            }
        }
        let req = ip::ImplementRequest {
            config: settings.to_string(),
            mounts: ctx.kit.implementer.mounts(),
            task: wtask.clone(),
            cycle: cycle_no,
            feedback: feedback.iter().map(convert::finding_to_wit).collect(),
            feedback_text: feedback_text(&feedback),
            plan_path: ctx.state.plan_key.clone(),
            plan_dir: super::rel(ctx.workspace, ctx.plan.plan_root()),
        };
        let (r, _info) = ctx.kit.implementer.implement(ctx.workspace, req);
        ctx.state.waiting_task = None;
        let imp = match r {
            Ok(rep) => ImplementRun {
                plugin: ctx.kit.implementer.name().into(),
                status: match rep.status {
                    ip::ImplementStatus::Done => ImplementStatus::Done,
                    ip::ImplementStatus::Waiting => ImplementStatus::Waiting,
                    ip::ImplementStatus::Failed => ImplementStatus::Failed,
                },
                summary: rep.summary,
                evidence: rep.evidence,
            },
            Err(f) => ImplementRun {
                plugin: ctx.kit.implementer.name().into(),
                status: ImplementStatus::Errored,
                summary: f.reason,
                evidence: String::new(),
            },
        };
        ctx.emit(Event::ImplementerFinished {
            task: id.into(),
            cycle: cycle_no,
            plugin: imp.plugin.clone(),
            status: format!("{:?}", imp.status).to_lowercase(),
            summary: imp.summary.clone(),
        });
        let imp_status = imp.status;
        let imp_summary = imp.summary.clone();
        ctx.task_mut(id).cycles.last_mut().unwrap().implementer = Some(imp);
        if imp_status == ImplementStatus::Waiting {
            ctx.state.waiting_task = Some(id.into());
            ctx.task_mut(id).cycles.last_mut().unwrap().outcome = CycleOutcome::Waiting;
            ctx.persist();
            return End::Waiting;
        }
        let mut rejected: Vec<Finding> = Vec::new();
        if imp_status != ImplementStatus::Done {
            rejected.push(finding(
                "implementer",
                format!("the implementer did not produce the change: {imp_summary}"),
            ));
        }

        // 2. What changed; tolerances.
        let changes = match ctx.repo.changes_since_head(&ctx.own_files) {
            Ok(c) => c,
            Err(e) => return block(ctx, id, format!("cannot read the task's changes: {e}")),
        };
        {
            let c = ctx.task_mut(id).cycles.last_mut().unwrap();
            c.files = changes.paths();
            c.added_lines = changes.added_lines();
            c.removed_lines = changes.removed_lines();
        }
        if let Some(breach) =
            ctx.tolerances
                .breach(changes.files.len(), changes.net_lines(), started_at)
        {
            return block(ctx, id, breach);
        }
        if rejected.is_empty() {
            // 3. Gates: acceptance commands, then the configured per-task gates.
            let mut gates: Vec<(GateConfig, &crate::sandbox::Loaded)> = plan_task
                .acceptance_commands
                .iter()
                .enumerate()
                .map(|(n, c)| {
                    (
                        GateConfig {
                            name: format!("acceptance:{id}#{}", n + 1),
                            plugin: "command".into(),
                            settings: serde_json::json!({ "command": c }),
                        },
                        &ctx.kit.acceptance,
                    )
                })
                .collect();
            gates.extend(ctx.kit.task_gates.iter().map(|(g, l)| (g.clone(), l)));
            for (g, loaded) in gates {
                ctx.emit(Event::GateStarted {
                    task: Some(id.into()),
                    gate: g.name.clone(),
                });
                let (run, _) = crate::gate::run(loaded, &g, ctx.workspace, Some(wtask.clone()));
                ctx.emit(Event::GateFinished {
                    task: Some(id.into()),
                    run: run.clone(),
                });
                if matches!(run.report.outcome, Outcome::Failed | Outcome::Errored) {
                    rejected.push(finding(
                        &format!("gate/{}", run.name),
                        format!(
                            "gate `{}` {}: {}",
                            run.name,
                            format!("{:?}", run.report.outcome).to_lowercase(),
                            run.report.summary
                        ),
                    ));
                    rejected.extend(run.report.findings.iter().cloned());
                    for f in &run.report.failures {
                        rejected.push(Finding {
                            severity: Severity::Important,
                            rule: format!("gate/{}/test", run.name),
                            message: format!("{}: {}", f.name, f.message),
                            path: f.path.clone(),
                            line: f.line,
                            column: None,
                        });
                    }
                }
                ctx.task_mut(id).cycles.last_mut().unwrap().gates.push(run);
                ctx.save();
            }
        }
        if rejected.is_empty() && changes.is_empty() {
            rejected.push(finding("implementer", "the task changed no files".into()));
        }

        // 4. Reviews: task review, then code review only when it approved.
        if rejected.is_empty() {
            set_status(ctx, id, TaskStatus::InReview, cycle_no);
            let gate_reports: Vec<rp::NamedReport> = ctx
                .task_mut(id)
                .cycles
                .last()
                .unwrap()
                .gates
                .iter()
                .map(|g| rp::NamedReport {
                    name: g.name.clone(),
                    report: convert::gate_report_to_wit(&g.report),
                })
                .collect();
            let other_files: Vec<String> = ctx
                .plan
                .tasks
                .iter()
                .filter(|t| t.id != id)
                .flat_map(|t| t.files.iter().cloned())
                .collect();
            let changed: Vec<rp::ChangedFile> = changes
                .files
                .iter()
                .map(|f| rp::ChangedFile {
                    path: f.path.clone(),
                    change: match f.change {
                        planexec_vcs::ChangeKind::Added => rp::ChangeKind::Added,
                        planexec_vcs::ChangeKind::Modified => rp::ChangeKind::Modified,
                        planexec_vcs::ChangeKind::Deleted => rp::ChangeKind::Deleted,
                        planexec_vcs::ChangeKind::Renamed => rp::ChangeKind::Renamed,
                    },
                    binary: f.binary,
                    size: f.size,
                    added_lines: f.added_lines,
                    removed_lines: f.removed_lines,
                })
                .collect();
            let mut approved_findings: Vec<Finding> = Vec::new();
            for (kind, reviewer) in [
                (rp::ReviewKind::Task, &ctx.kit.task_review),
                (rp::ReviewKind::Code, &ctx.kit.code_review),
            ] {
                let Some((loaded, settings)) = reviewer else {
                    continue;
                };
                let req = rp::ReviewRequest {
                    kind,
                    config: settings.to_string(),
                    mounts: loaded.mounts(),
                    task: wtask.clone(),
                    constraints: ctx.plan.constraints.clone(),
                    other_tasks_files: other_files.clone(),
                    diff: changes.patch.clone(),
                    changed_files: changed.clone(),
                    gate_reports: gate_reports.clone(),
                };
                let (r, _) = loaded.review(ctx.workspace, req);
                let rkind = if kind == rp::ReviewKind::Task {
                    ReviewKind::Task
                } else {
                    ReviewKind::Code
                };
                let run = match r {
                    Ok(rev) => ReviewRun {
                        kind: rkind,
                        plugin: loaded.name().into(),
                        outcome: if rev.approved {
                            ReviewOutcome::Approved
                        } else {
                            ReviewOutcome::ChangesRequested
                        },
                        review: Some(rev),
                        error: None,
                    },
                    Err(f) => ReviewRun {
                        kind: rkind,
                        plugin: loaded.name().into(),
                        outcome: ReviewOutcome::Errored,
                        review: None,
                        error: Some(f.reason),
                    },
                };
                ctx.emit(Event::ReviewFinished {
                    task: id.into(),
                    run: run.clone(),
                });
                let outcome = run.outcome;
                let err = run.error.clone();
                if let Some(rev) = &run.review {
                    if rev.approved {
                        // Kept for the feedback in case a later review rejects the cycle.
                        approved_findings.extend(rev.findings.iter().cloned());
                    } else {
                        rejected.push(finding(
                            &format!("{}/verdict", run.plugin),
                            rev.summary.clone(),
                        ));
                        rejected.extend(rev.findings.iter().cloned());
                        for c in rev.criteria.iter().filter(|c| c.score != Score::Pass) {
                            rejected.push(Finding {
                                severity: if c.score == Score::Fail {
                                    Severity::Important
                                } else {
                                    Severity::Minor
                                },
                                rule: format!(
                                    "{}/{}",
                                    run.plugin,
                                    c.name.to_lowercase().replace(' ', "-")
                                ),
                                message: format!("{} {:?}: {}", c.name, c.score, c.reasoning),
                                path: None,
                                line: None,
                                column: None,
                            });
                        }
                    }
                }
                let plugin = run.plugin.clone();
                ctx.task_mut(id)
                    .cycles
                    .last_mut()
                    .unwrap()
                    .reviews
                    .push(run);
                ctx.save();
                if outcome == ReviewOutcome::Errored {
                    return block(
                        ctx,
                        id,
                        format!("reviewer `{plugin}` errored ({}); a review that cannot judge never passes a task", err.unwrap_or_default()),
                    );
                }
                if outcome != ReviewOutcome::Approved {
                    // Findings of both reviews go to the implementer.
                    rejected.append(&mut approved_findings);
                    break;
                }
            }
        }

        // 5. Commit, or rework.
        if rejected.is_empty() {
            let files = changes.paths();
            let msg = planexec_vcs::commit_message(
                id,
                &commit_summary(&plan_task),
                &plan_task.summary_or_body(),
                &ctx.state.record.plan.refs,
            );
            // engine-guards: the repository's hooks run on the commit; a failing one goes to rework.
            let opts = commit_options(ctx);
            match ctx.repo.commit_paths_with(&files, &msg, &opts) {
                Ok(commit) => {
                    super::kill_point();
                    finish_done(ctx, id, commit, files);
                    return End::Done;
                }
                Err(planexec_vcs::VcsError::Hook(h)) => {
                    let run = hook_gate_run(&h);
                    rejected.push(finding(&format!("gate/{}", run.name), h.to_string()));
                    ctx.task_mut(id).cycles.last_mut().unwrap().gates.push(run);
                }
                Err(e) => return block(ctx, id, format!("could not commit the task: {e}")),
            }
        }
        {
            let c = ctx.task_mut(id).cycles.last_mut().unwrap();
            c.feedback = rejected.clone();
            c.outcome = CycleOutcome::Rework;
            c.finished_at = Some(now());
        }
        let attempts = cycle_no - ctx.state.cycle_base.get(id).copied().unwrap_or(0);
        if attempts >= max_cycles {
            let why: Vec<String> = rejected
                .iter()
                .take(8)
                .map(|f| format!("[{}] {}", f.rule, f.message))
                .collect();
            let limit = ctx.tolerances.attempts_quote(ctx.config.run.max_cycles);
            return block(
                ctx,
                id,
                format!(
                    "{id} failed {attempts} cycles ({limit}); last rejection: {}",
                    why.join("; ")
                ),
            );
        }
        set_status(ctx, id, TaskStatus::Rework, cycle_no);
    }
}

fn commit_summary(t: &planexec_plan::Task) -> String {
    if t.title.trim().is_empty() {
        t.summary.clone()
    } else {
        t.title.clone()
    }
}

trait SummaryOrBody {
    fn summary_or_body(&self) -> String;
}

impl SummaryOrBody for planexec_plan::Task {
    fn summary_or_body(&self) -> String {
        if !self.summary.trim().is_empty() && self.summary.trim() != self.title.trim() {
            self.summary.clone()
        } else {
            String::new()
        }
    }
}

/// The last cycle's rejection as text for a person or an agent.
pub fn feedback_text(findings: &[Finding]) -> String {
    let mut s = String::new();
    for f in findings {
        let loc = match (&f.path, f.line) {
            (Some(p), Some(l)) => format!(" ({p}:{l})"),
            (Some(p), None) => format!(" ({p})"),
            _ => String::new(),
        };
        s.push_str(&format!("- [{}] {}{loc}\n", f.rule, f.message));
    }
    s
}

/// engine-guards: `[run] git_hooks` as the commit step's options; a hook inside
/// the work tree must be as it was at the run's start commit.
fn commit_options(ctx: &Ctx) -> planexec_vcs::CommitOptions {
    planexec_vcs::CommitOptions {
        hooks: ctx
            .config
            .run
            .git_hooks
            .then(|| Some(ctx.state.record.preflight.start_commit.clone())),
    }
}

/// engine-guards: a failed git hook, recorded like a failed gate with its output.
fn hook_gate_run(h: &planexec_vcs::HookFailure) -> GateRun {
    let mut report = GateReport::errored(h.to_string());
    report.outcome = Outcome::Failed;
    report.exit_code = h.code;
    report.evidence = h.output.clone();
    GateRun {
        name: format!("git-hook:{}", h.hook),
        plugin: "git".into(),
        report,
    }
}
