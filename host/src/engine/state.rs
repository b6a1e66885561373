//! The persisted run state: the run record plus what resume needs, written
//! atomically after every transition under .git/planexec/.

use planexec_record::{RunRecord, RunStatus};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const STATE_VERSION: u32 = 1;

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
}

/// Where states live: `<git dir>/planexec/`.
pub struct Store {
    dir: PathBuf,
}

impl Store {
    pub fn new(git_dir: &Path) -> Store {
        Store {
            dir: git_dir.join("planexec"),
        }
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

    /// Writes the state (temp file, fsync, rename) and the plan's active pointer.
    pub fn save(&self, st: &State) -> std::io::Result<()> {
        let json = serde_json::to_vec(st).expect("state serialises");
        std::fs::create_dir_all(&self.dir)?;
        let rooted = |p: PathBuf, bytes: &[u8]| {
            let rel = p.strip_prefix(&self.dir).unwrap_or(&p).to_path_buf();
            crate::rooted::write(&self.dir, &rel, bytes)
                .map(|_| ())
                .map_err(std::io::Error::other)
        };
        rooted(self.run_file(&st.record.run_id), &json)?;
        let active = self.active_file(&st.plan_key);
        if matches!(st.record.status, RunStatus::Success | RunStatus::Failure) {
            let _ = std::fs::remove_file(active);
        } else {
            rooted(active, st.record.run_id.as_bytes())?;
        }
        Ok(())
    }

    /// The unfinished run of this plan, if any.
    pub fn active(&self, plan_key: &str) -> Result<Option<State>, String> {
        let p = self.active_file(plan_key);
        let Ok(run_id) = std::fs::read_to_string(&p) else {
            return Ok(None);
        };
        self.load(run_id.trim()).map(Some)
    }

    pub fn load(&self, run_id: &str) -> Result<State, String> {
        let p = self.run_file(run_id);
        let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
        let st: State = serde_json::from_str(&text).map_err(|e| {
            format!(
                "{}: not a planexec run state ({e}); move it away to start over",
                p.display()
            )
        })?;
        if st.version != STATE_VERSION {
            return Err(format!(
                "{}: state version {} is not {STATE_VERSION}",
                p.display(),
                st.version
            ));
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
    let mut st = store.load(run_id)?;
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
    store.save(&st).map_err(|e| e.to_string())?;
    Ok(true)
}
