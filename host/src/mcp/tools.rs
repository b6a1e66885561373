//! The MCP tools (rmcp): next_task, submit, status, escalate. Each waits on the
//! desk (desk.rs); none runs anything the agent passes.

use super::desk::{Ask, Desk, Phase};
use super::types::*;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::model::{ProgressNotificationParam, ServerCapabilities, ServerConfig};
use rmcp::service::RequestContext;
use rmcp::{tool, tool_handler, tool_router, RoleServer, ServerHandler};
use std::path::PathBuf;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};

#[derive(Clone)]
pub struct Server {
    desk: Arc<Desk>,
    asks: Arc<Mutex<Sender<Ask>>>,
    git_dir: PathBuf,
    tool_router: ToolRouter<Self>,
}

/// How often a submission still being checked says so: 10 s, or
/// `PLANEXEC_TEST_MCP_HEARTBEAT_MS` (the tests' hook).
fn heartbeat() -> std::time::Duration {
    let ms = std::env::var("PLANEXEC_TEST_MCP_HEARTBEAT_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000u64);
    std::time::Duration::from_millis(ms.max(100))
}

const INSTRUCTIONS: &str = "planexec hands out a plan's tasks one at a time and decides itself \
whether each is done. Loop: next_task, edit the files in the work tree, submit; on `rejected` fix \
the findings and submit again; on `blocked` stop and ask the person. Do not commit: planexec commits.";

#[tool_router]
impl Server {
    pub fn new(desk: Arc<Desk>, asks: Sender<Ask>, git_dir: PathBuf) -> Self {
        Server {
            desk,
            asks: Arc::new(Mutex::new(asks)),
            git_dir,
            tool_router: Self::tool_router(),
        }
    }

    /// Drops the engine's line: a task it waits on is left waiting (desk.rs).
    pub fn hang_up(&self) {
        let (dead, _) = std::sync::mpsc::channel();
        *self.asks.lock().unwrap() = dead;
    }

    #[tool(
        description = "The task to work on now (text, files, acceptance commands, constraints, the last rejection's findings), or that the plan is done, blocked or waiting. Waits while planexec is busy."
    )]
    async fn next_task(&self) -> Json<Next> {
        let mut rx = self.desk.phase.subscribe();
        let phase = rx
            .wait_for(|p| matches!(p, Phase::Awaiting(_) | Phase::Ended { .. }))
            .await
            .map(|p| p.clone())
            .unwrap_or(Phase::Starting);
        Json(match phase {
            Phase::Awaiting(b) => Next {
                state: "task".into(),
                message: format!(
                    "edit the work tree for {}, then call submit with task_id {0}",
                    b.task_id
                ),
                task: Some(b),
            },
            Phase::Ended { state, message } => Next {
                state,
                task: None,
                message,
            },
            _ => Next {
                state: "failed".into(),
                task: None,
                message: "the engine is gone".into(),
            },
        })
    }

    #[tool(
        description = "Hand in the work tree as the task's result. planexec reads the diff itself, runs the acceptance commands and gates (boxed) and the reviews, then commits exactly the task's files (done) or answers rejected with the failing tests and findings."
    )]
    async fn submit(
        &self,
        Parameters(a): Parameters<SubmitArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<Verdict>, String> {
        let (reply, answer) = oneshot::channel();
        let (progress, mut heard) = mpsc::unbounded_channel();
        let task = a.task_id.clone();
        self.ask(
            &task,
            Ask::Submit {
                task: task.clone(),
                notes: a.notes,
                reply,
                progress,
            },
        )?;
        let token = ctx.meta.get_progress_token();
        let mut answer = std::pin::pin!(answer);
        let mut n = 0u32;
        // A long gate says it is still running, so clients that wait on progress keep waiting.
        let mut beat = tokio::time::interval(heartbeat());
        beat.tick().await;
        loop {
            let text = tokio::select! {
                v = &mut answer => return verdict(v),
                Some(text) = heard.recv() => text,
                _ = beat.tick() => format!("still running: {}", self.desk.now.lock().unwrap()),
            };
            beat.reset();
            n += 1;
            if let Some(t) = &token {
                let p = ProgressNotificationParam::new(t.clone(), n as f64).with_message(text);
                let _ = ctx.peer.notify_progress(p).await;
            }
        }
    }

    #[tool(
        description = "Stop and ask the person about this task: it is marked blocked with the reason and the run stops."
    )]
    async fn escalate(
        &self,
        Parameters(a): Parameters<EscalateArgs>,
    ) -> Result<Json<Verdict>, String> {
        let (reply, answer) = oneshot::channel();
        let task = a.task_id.clone();
        self.ask(
            &task,
            Ask::Escalate {
                task: task.clone(),
                reason: a.reason,
                reply,
            },
        )?;
        verdict(answer.await)
    }

    #[tool(description = "Every task's state and cycles used, and what planexec is doing now.")]
    async fn status(&self) -> Result<Json<Status>, String> {
        let run_id = self.desk.run_id.lock().unwrap().clone();
        let Some(run_id) = run_id else {
            return Err("the run has not started yet (pre-flight); try again".into());
        };
        let record = crate::engine::saved_record(&self.git_dir, &run_id)?;
        let now = match &*self.desk.phase.borrow() {
            Phase::Starting => "pre-flight".to_string(),
            Phase::Working(w) => format!("{w}: {}", self.desk.now.lock().unwrap()),
            Phase::Awaiting(b) => format!("waiting for your work on {}", b.task_id),
            Phase::Ended { state, .. } => format!("the run has ended ({state})"),
        };
        Ok(Json(super::status_of(&record, now)))
    }

    /// Hands `ask` to the engine when it waits on `task`.
    fn ask(&self, task: &str, ask: Ask) -> Result<(), String> {
        match &*self.desk.phase.borrow() {
            Phase::Awaiting(b) if b.task_id == task => {}
            Phase::Awaiting(b) => {
                return Err(format!(
                    "{task} is not the task in progress ({} is); call next_task",
                    b.task_id
                ))
            }
            Phase::Ended { message, .. } => return Err(format!("the run has ended: {message}")),
            _ => return Err("planexec is not waiting for work now; call next_task".into()),
        }
        self.asks
            .lock()
            .unwrap()
            .send(ask)
            .map_err(|_| "the run has ended; call next_task".to_string())
    }
}

fn verdict(v: Result<Verdict, oneshot::error::RecvError>) -> Result<Json<Verdict>, String> {
    match v {
        Ok(v) if v.outcome == "refused" => Err(v.message),
        Ok(v) => Ok(Json(v)),
        Err(_) => Err("the run stopped before the verdict; call next_task".into()),
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(rmcp::model::Implementation::new(
                "planexec",
                env!("CARGO_PKG_VERSION"),
            ))
            .with_instructions(INSTRUCTIONS)
    }
}
