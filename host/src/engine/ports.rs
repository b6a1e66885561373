//! The engine's plugins behind one trait (implement, gate, review, render) over
//! the run record's plain types, so the task loop runs in unit tests with fakes.

use super::preflight::Kit;
use crate::config::GateConfig;
use crate::sandbox::bindings::{implementer_plugin as ip, reviewer_plugin as rp};
use crate::sandbox::convert;
use crate::sandbox::Loaded;
use planexec_plan::Task;
use planexec_record::*;
use std::path::Path;

/// What the implementer is asked to do in one cycle.
pub struct ImplementInput<'a> {
    pub task: &'a Task,
    pub cycle: u32,
    /// The previous cycle's rejection, once per finding.
    pub feedback: &'a [Finding],
    /// Workspace-relative plan path and folder.
    pub plan_path: &'a str,
    pub plan_dir: String,
    /// The implementer asked to wait and the person has now resumed the run.
    pub resumed: bool,
    /// The plan's constraints and tolerances, as written.
    pub constraints: &'a [String],
    pub tolerances: &'a [String],
}

/// What a reviewer judges.
pub struct ReviewInput<'a> {
    pub kind: ReviewKind,
    pub task: &'a Task,
    pub constraints: &'a [String],
    /// The host's check of the implementer's claims against the diff.
    pub implementer_findings: &'a [Finding],
    pub other_tasks_files: Vec<String>,
    pub changes: &'a planexec_vcs::TaskChanges,
    pub gates: &'a [GateRun],
}

/// Which gate to run.
#[derive(Debug, Clone, Copy)]
pub enum GateRef<'a> {
    /// The task's n-th acceptance command (1-based).
    Acceptance { n: usize, command: &'a str },
    /// The n-th configured per-task gate.
    Task(usize),
    /// The n-th final gate.
    Final(usize),
}

/// One formatter's artifacts, or why it produced none.
pub struct Rendered {
    pub plugin: String,
    pub result: Result<Vec<(String, Vec<u8>)>, String>,
}

/// What [`Plugins::gates`] tells its caller while the gates run.
pub enum GateSeen<'a> {
    Started(&'a str),
    Finished(&'a GateRun),
}

fn failed(r: &GateRun) -> bool {
    matches!(
        r.report.outcome,
        planexec_record::Outcome::Failed | planexec_record::Outcome::Errored
    )
}

/// Whoever does a cycle's work when it is not the configured implementer plugin:
/// `planexec mcp`'s agent (host/src/mcp/), which waits in `implement` for the
/// agent's `submit`. Gates, reviews and formatters stay the loaded plugins'.
pub trait Driver: Sync {
    fn implement(&self, workspace: &Path, input: &ImplementInput) -> ImplementRun;
}

/// The loaded plugins with the implementer replaced by a [`Driver`].
pub struct Driven<'a> {
    pub kit: &'a Kit,
    pub by: &'a dyn Driver,
}

impl Plugins for Driven<'_> {
    fn implement(&self, workspace: &Path, input: &ImplementInput) -> ImplementRun {
        self.by.implement(workspace, input)
    }
    fn task_gates(&self) -> Vec<String> {
        self.kit.task_gates()
    }
    fn final_gates(&self) -> Vec<(String, String)> {
        self.kit.final_gates()
    }
    fn gate(&self, workspace: &Path, gate: GateRef, task: Option<&Task>) -> GateRun {
        self.kit.gate(workspace, gate, task)
    }
    fn gates(
        &self,
        workspace: &Path,
        gates: &[(String, GateRef)],
        task: Option<&Task>,
        seen: &mut dyn FnMut(GateSeen),
    ) -> Vec<GateRun> {
        self.kit.gates(workspace, gates, task, seen)
    }
    fn review(&self, workspace: &Path, input: &ReviewInput) -> Option<ReviewRun> {
        self.kit.review(workspace, input)
    }
    fn render(&self, workspace: &Path, json: &str, log_path: Option<&str>) -> Vec<Rendered> {
        self.kit.render(workspace, json, log_path)
    }
}

/// `Sync`: the tasks of a wave call them from several threads (wave.rs).
pub trait Plugins: Sync {
    fn implement(&self, workspace: &Path, input: &ImplementInput) -> ImplementRun;
    /// The configured per-task gates' names (besides the acceptance commands).
    fn task_gates(&self) -> Vec<String>;
    /// The final gates' names and plugins.
    fn final_gates(&self) -> Vec<(String, String)>;
    fn gate(&self, workspace: &Path, gate: GateRef, task: Option<&Task>) -> GateRun;
    /// Runs `gates`, starting none once one failed or errored (those come back
    /// `skipped`, "not started"); `seen` hears each start and result as it happens;
    /// results in the order given. This one runs them one by one; the loaded
    /// plugins run them at once (`gates::run_set`), acceptance commands in order.
    fn gates(
        &self,
        workspace: &Path,
        gates: &[(String, GateRef)],
        task: Option<&Task>,
        seen: &mut dyn FnMut(GateSeen),
    ) -> Vec<GateRun> {
        let mut out: Vec<GateRun> = Vec::with_capacity(gates.len());
        for (name, g) in gates {
            if out.iter().any(|r| failed(r)) {
                out.push(crate::gates::skipped_run(name, ""));
                continue;
            }
            seen(GateSeen::Started(name));
            let run = self.gate(workspace, *g, task);
            seen(GateSeen::Finished(&run));
            out.push(run);
        }
        out
    }
    /// None when no reviewer of that kind is configured.
    fn review(&self, workspace: &Path, input: &ReviewInput) -> Option<ReviewRun>;
    /// Every formatter's rendering of the record; `log_path` goes to execution-log.
    fn render(&self, workspace: &Path, record_json: &str, log_path: Option<&str>) -> Vec<Rendered>;
}

impl Kit {
    /// The configuration and loaded plugin of a gate of the run.
    fn gate_config(&self, gate: GateRef, task: Option<&Task>) -> (GateConfig, &Loaded) {
        match gate {
            GateRef::Acceptance { n, command } => (
                GateConfig {
                    name: format!(
                        "acceptance:{}#{n}",
                        task.map(|t| t.id.as_str()).unwrap_or("")
                    ),
                    plugin: "command".into(),
                    settings: serde_json::json!({ "command": command }),
                    files: None,
                    flags: Default::default(),
                },
                &self.acceptance,
            ),
            GateRef::Task(n) => (self.task_gates[n].0.clone(), &self.task_gates[n].1),
            GateRef::Final(n) => (self.final_gates[n].0.clone(), &self.final_gates[n].1),
        }
    }
}

impl Plugins for Kit {
    fn implement(&self, workspace: &Path, i: &ImplementInput) -> ImplementRun {
        let mut settings = self.implementer_settings.clone();
        if let (true, serde_json::Value::Object(m)) = (i.resumed, &mut settings) {
            m.insert("resumed".into(), true.into());
        }
        let req = ip::ImplementRequest {
            config: settings.to_string(),
            mounts: self.implementer.mounts(),
            task: convert::task_to_wit(i.task),
            cycle: i.cycle,
            feedback: i.feedback.iter().map(convert::finding_to_wit).collect(),
            feedback_text: super::task::feedback_text(i.feedback),
            plan_path: i.plan_path.to_string(),
            plan_dir: i.plan_dir.clone(),
            constraints: i.constraints.to_vec(),
            tolerances: i.tolerances.to_vec(),
        };
        let plugin = self.implementer.name().to_string();
        let (result, info) = self.implementer.implement(workspace, req);
        let mut run = match result {
            Ok(rep) => convert::implement_report(plugin.clone(), rep),
            Err(f) => ImplementRun::new(plugin.clone(), ImplementStatus::Errored, f.reason),
        };
        let planted = crate::sandbox::planted::findings(&plugin, &info.planted);
        run.findings.extend(planted);
        run.programs = crate::gate::program_runs(&info.execs);
        run
    }

    fn task_gates(&self) -> Vec<String> {
        self.task_gates
            .iter()
            .map(|(g, _)| g.name.clone())
            .collect()
    }

    fn final_gates(&self) -> Vec<(String, String)> {
        self.final_gates
            .iter()
            .map(|(g, l)| (g.name.clone(), l.name().to_string()))
            .collect()
    }

    fn gate(&self, workspace: &Path, gate: GateRef, task: Option<&Task>) -> GateRun {
        let (cfg, loaded) = self.gate_config(gate, task);
        crate::gate::run(loaded, &cfg, workspace, task.map(convert::task_to_wit)).0
    }

    fn gates(
        &self,
        workspace: &Path,
        gates: &[(String, GateRef)],
        task: Option<&Task>,
        seen: &mut dyn FnMut(GateSeen),
    ) -> Vec<GateRun> {
        let wit = task.map(convert::task_to_wit);
        let mut last_acceptance: Option<usize> = None;
        let jobs: Vec<crate::gates::Job> = gates
            .iter()
            .enumerate()
            .map(|(i, (_, g))| {
                let (cfg, loaded) = self.gate_config(*g, task);
                // Acceptance commands keep their order (one may build what the next tests).
                let after = match g {
                    GateRef::Acceptance { .. } => last_acceptance.replace(i).into_iter().collect(),
                    _ => Vec::new(),
                };
                crate::gates::Job {
                    cfg,
                    loaded,
                    cache: false,
                    after,
                    task: wit.clone(),
                    shard: None,
                    skip: None,
                }
            })
            .collect();
        let opts = crate::gates::Options {
            jobs: std::thread::available_parallelism().map_or(2, |n| n.get()),
            fail_fast: true,
            cache: None,
            outputs: Vec::new(),
            checked: None,
        };
        let done = crate::gates::run_set(&jobs, workspace, &opts, |p| match p {
            crate::gates::Progress::Started(i) => seen(GateSeen::Started(&jobs[i].cfg.name)),
            crate::gates::Progress::Finished(_, d) => seen(GateSeen::Finished(&d.run)),
        });
        done.into_iter().map(|d| d.run).collect()
    }

    fn review(&self, workspace: &Path, i: &ReviewInput) -> Option<ReviewRun> {
        let (reviewer, kind) = match i.kind {
            ReviewKind::Task => (&self.task_review, rp::ReviewKind::Task),
            ReviewKind::Code => (&self.code_review, rp::ReviewKind::Code),
        };
        let (loaded, settings) = reviewer.as_ref()?;
        let req = rp::ReviewRequest {
            kind,
            config: settings.to_string(),
            mounts: loaded.mounts(),
            task: convert::task_to_wit(i.task),
            constraints: i.constraints.to_vec(),
            other_tasks_files: i.other_tasks_files.clone(),
            diff: i.changes.patch.clone(),
            changed_files: convert::changed_files_to_wit(i.changes),
            gate_reports: convert::gate_runs_to_wit(i.gates),
            implementer_findings: i
                .implementer_findings
                .iter()
                .map(convert::finding_to_wit)
                .collect(),
        };
        let plugin = loaded.name().to_string();
        let (result, info) = loaded.review(workspace, req);
        let programs = crate::gate::program_runs(&info.execs);
        Some(match result {
            Ok(mut rev) => ReviewRun {
                kind: i.kind,
                plugin,
                outcome: if rev.approved {
                    ReviewOutcome::Approved
                } else {
                    ReviewOutcome::ChangesRequested
                },
                usage: rev.usage.take(),
                review: Some(rev),
                error: None,
                programs,
            },
            Err(f) => ReviewRun {
                kind: i.kind,
                plugin,
                outcome: ReviewOutcome::Errored,
                review: None,
                error: Some(f.reason),
                programs,
                usage: None,
            },
        })
    }

    fn render(&self, workspace: &Path, json: &str, log_path: Option<&str>) -> Vec<Rendered> {
        let mut out = Vec::new();
        for (loaded, settings) in &self.formatters {
            let mut settings = settings.clone();
            if let (true, serde_json::Value::Object(m), Some(p)) =
                (loaded.name() == "execution-log", &mut settings, log_path)
            {
                // The host chooses where the log goes (docs/reports.md).
                m.insert("path".into(), p.into());
            }
            out.push(Rendered {
                plugin: loaded.name().to_string(),
                result: loaded
                    .render(workspace, &settings, json)
                    .0
                    .map_err(|f| f.to_string()),
            });
        }
        out
    }
}
