//! The persisted run state: the run record plus what resume needs, written
//! atomically after every transition under .git/planexec/.

use planexec_record::{RunRecord, RunStatus};
use serde::{Deserialize, Serialize};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const STATE_VERSION: u32 = 1;

/// A run state that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("{}: cannot read the run state: {source}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not a planexec run state ({source}); move it away to start over", .path.display())]
    Corrupt {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{}: state version {found} is not {STATE_VERSION}; finish or roll back that run with the planexec that started it", .path.display())]
    Version { path: PathBuf, found: u32 },
}

/// How the run was started, reused by `--resume` so the printed resume
/// command works as printed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    #[serde(default)]
    pub grants: Vec<String>,
    #[serde(default)]
    pub implementer: Option<String>,
    #[serde(default)]
    pub plugin_dirs: Vec<PathBuf>,
    /// `FORMAT=PATH` of each `--report`.
    #[serde(default)]
    pub reports: Vec<String>,
    #[serde(default)]
    pub unconfined: bool,
    #[serde(default)]
    pub dialect: Option<String>,
    #[serde(default)]
    pub allow_detached: bool,
    /// `--format` (`human`, `json`); `None` when the run was started without one.
    #[serde(default)]
    pub format: Option<String>,
    /// `--jobs N`; `None` when the run was started without one.
    #[serde(default)]
    pub jobs: Option<usize>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    pub record: RunRecord,
    /// HEAD when each task's current attempt began (to detect a commit made just before a crash).
    pub task_base: BTreeMap<String, String>,
    /// Workspace-relative plan path the run was started with.
    pub plan_key: String,
    /// Set when the implementer asked to wait; the next resume tells it the person acted.
    pub waiting_task: Option<String>,
    /// Cycles a task already had when it was resumed after a block: the rework
    /// limit counts only the cycles since, and the earlier ones stay in the log.
    #[serde(default)]
    pub cycle_base: BTreeMap<String, u32>,
    /// The command-line settings the run was started with.
    #[serde(default)]
    pub settings: Settings,
    /// HEAD as the run left it (start commit, then each task's commit): a
    /// different HEAD at the next task means someone else committed.
    #[serde(default)]
    pub last_head: Option<String>,
    /// What each blocked task's attempt left in the work tree: path -> git blob id of
    /// its content then (empty: deleted). `--resume` undoes those still as they were left.
    #[serde(default)]
    pub blocked_left: BTreeMap<String, BTreeMap<String, String>>,
    /// The person's own uncommitted changes when a task was handed back (`--retry`,
    /// `--skip`): path -> blob id (empty: deleted). Not any task's while unchanged.
    #[serde(default)]
    pub held: BTreeMap<String, String>,
    /// Budgets raised with `--resume --budget` (budget.rs), kept for later resumes.
    #[serde(default)]
    pub budget: super::budget::Raised,
    /// Seconds the run worked in its earlier sessions (the run-minutes budget).
    #[serde(default)]
    pub worked_seconds: u64,
    /// When this session started (not saved).
    #[serde(skip)]
    pub session_start: Option<std::time::Instant>,
    /// The task the run escalated before (a spent budget): resume starts its next cycle.
    #[serde(default)]
    pub escalated_task: Option<String>,
}

impl State {
    /// Seconds worked: the earlier sessions' and this one's.
    pub fn worked(&self) -> u64 {
        self.worked_seconds + self.session_start.map_or(0, |s| s.elapsed().as_secs())
    }

    /// Adds this session's time to the saved total (when the run stops).
    pub fn bank_session_time(&mut self) {
        self.worked_seconds = self.worked();
        self.session_start = Some(std::time::Instant::now());
    }
}

/// Where states live: `<git dir>/planexec/`. A run's state is a snapshot
/// (`runs/<id>.json`) plus an append-only journal (`journal/<id>.ndjson`) of what
/// changed since; the journal is folded into the snapshot when it outgrows it
/// and when the run stops, so a save costs the same at task 1 and task 1,000.
pub struct Store {
    dir: PathBuf,
    /// The run whose snapshot is on disk, and the sizes of it and its journal.
    snapshot: RefCell<Option<String>>,
    snapshot_bytes: Cell<u64>,
    journal_bytes: Cell<u64>,
}

/// The journal is compacted once it is bigger than this and than the snapshot.
const JOURNAL_MIN: u64 = 1 << 20;

impl Store {
    pub fn new(git_dir: &Path) -> Store {
        Store {
            dir: git_dir.join("planexec"),
            snapshot: RefCell::new(None),
            snapshot_bytes: Cell::new(0),
            journal_bytes: Cell::new(0),
        }
    }

    fn journal_file(&self, run_id: &str) -> PathBuf {
        self.dir.join("journal").join(format!("{run_id}.ndjson"))
    }

    /// Saves the state: appends `changed` tasks and the run-level fields to
    /// the journal, or writes a new snapshot (the first save, a stopped run, a
    /// journal grown past the snapshot).
    pub fn save(
        &self,
        st: &mut State,
        changed: impl IntoIterator<Item = String>,
    ) -> std::io::Result<()> {
        let has_snapshot = self.snapshot.borrow().as_deref() == Some(st.record.run_id.as_str());
        let grown = self.journal_bytes.get() > JOURNAL_MIN.max(self.snapshot_bytes.get());
        if !has_snapshot || grown || st.record.status != RunStatus::Running {
            return self.compact(st);
        }
        let bytes = super::journal::lines(st, changed);
        let len = super::journal::append(&self.journal_file(&st.record.run_id), &bytes)?;
        self.journal_bytes.set(len);
        Ok(())
    }

    fn run_file(&self, run_id: &str) -> PathBuf {
        self.dir.join("runs").join(format!("{run_id}.json"))
    }

    /// The plan's active-run pointer, named by a stable digest of its path
    /// (stable across planexec and Rust versions, unlike std's hasher).
    fn active_file(&self, plan_key: &str) -> PathBuf {
        use sha2::{Digest, Sha256};
        let digest = hex::encode(Sha256::digest(plan_key.as_bytes()));
        self.dir.join("active").join(&digest[..16])
    }

    /// Folds the journal into a new snapshot now.
    pub fn flush(&self, st: &State) -> std::io::Result<()> {
        self.compact(st)
    }

    /// Writes the whole state (temp file, fsync, rename), then drops the journal
    /// it contains, and keeps the plan's active pointer.
    fn compact(&self, st: &State) -> std::io::Result<()> {
        let json = serde_json::to_vec(st).expect("state serialises");
        std::fs::create_dir_all(&self.dir)?;
        let rooted = |p: PathBuf, bytes: &[u8]| {
            let rel = p.strip_prefix(&self.dir).unwrap_or(&p).to_path_buf();
            crate::rooted::write(&self.dir, &rel, bytes)
                .map(|_| ())
                .map_err(std::io::Error::other)
        };
        rooted(self.run_file(&st.record.run_id), &json)?;
        match std::fs::remove_file(self.journal_file(&st.record.run_id)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        *self.snapshot.borrow_mut() = Some(st.record.run_id.clone());
        self.snapshot_bytes.set(json.len() as u64);
        self.journal_bytes.set(0);
        let active = self.active_file(&st.plan_key);
        if matches!(st.record.status, RunStatus::Success | RunStatus::Failure) {
            let _ = std::fs::remove_file(active);
        } else {
            rooted(active, st.record.run_id.as_bytes())?;
        }
        Ok(())
    }

    /// Where the partial work of a task interrupted by a crash is backed up.
    pub fn interrupted_dir(&self, run_id: &str, task: &str) -> PathBuf {
        self.dir.join("interrupted").join(run_id).join(task)
    }

    /// Where a blocked attempt's changes are copied before `--resume` undoes them.
    pub fn blocked_dir(&self, run_id: &str, task: &str, cycle: u32) -> PathBuf {
        self.dir
            .join("blocked")
            .join(run_id)
            .join(format!("{task}-cycle{cycle}"))
    }

    /// The unfinished run of this plan, if any.
    pub fn active(&self, plan_key: &str) -> Result<Option<State>, StateError> {
        let p = self.active_file(plan_key);
        let Ok(run_id) = std::fs::read_to_string(&p) else {
            return Ok(None);
        };
        self.load(run_id.trim()).map(Some)
    }

    pub fn load(&self, run_id: &str) -> Result<State, StateError> {
        let path = self.run_file(run_id);
        let text = std::fs::read_to_string(&path).map_err(|source| StateError::Read {
            path: path.clone(),
            source,
        })?;
        let mut st: State = serde_json::from_str(&text).map_err(|source| StateError::Corrupt {
            path: path.clone(),
            source,
        })?;
        let journal = super::journal::replay(&self.journal_file(run_id), &mut st)?;
        *self.snapshot.borrow_mut() = Some(run_id.to_string());
        self.snapshot_bytes.set(text.len() as u64);
        self.journal_bytes.set(journal);
        if st.version != STATE_VERSION {
            return Err(StateError::Version {
                path,
                found: st.version,
            });
        }
        Ok(st)
    }
}

/// engine-guards: after `planexec rollback RUN --yes` the run is over: an
/// unfinished one ends as failed (so `planexec run` starts afresh), and the
/// record says it was rolled back. `Ok(false)` when there is no such state.
pub fn end_rolled_back(git_dir: &Path, run_id: &str, saved: &str) -> Result<bool, String> {
    let store = Store::new(git_dir);
    if !store.run_file(run_id).exists() {
        return Ok(false);
    }
    // The snapshot plus its journal: runs/<id>.json alone can be stale after a kill -9.
    let mut st = store.load(run_id).map_err(|e| e.to_string())?;
    if !matches!(st.record.status, RunStatus::Success | RunStatus::Failure) {
        st.record.status = RunStatus::Failure;
        st.record.finished_at.get_or_insert_with(super::now);
    }
    st.record.issues.push(planexec_record::Issue {
        task: None,
        issue: format!("run {run_id} was rolled back at {}", super::now()),
        resolution: saved.to_string(),
    });
    st.waiting_task = None;
    // A stopped run is written whole: the journal folds in and the plan's active pointer goes.
    store.flush(&st).map_err(|e| e.to_string())?;
    Ok(true)
}
