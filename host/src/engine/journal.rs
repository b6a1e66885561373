//! The run state's append-only journal: each save appends the task records
//! that changed and the run-level fields, one JSON line each; load replays it.

use super::state::{State, StateError};
use planexec_record::TaskRecord;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;

/// One journal line: a full replacement of one task record, or of everything
/// but the task records (run status, issues, checks, resume bookkeeping).
#[derive(Serialize, Deserialize)]
#[serde(tag = "entry", rename_all = "snake_case")]
enum Entry {
    Task { task: Box<TaskRecord> },
    Run { state: Box<State> },
}

/// The lines for a save: the changed tasks, then the run-level fields.
pub fn lines(st: &mut State, changed: impl IntoIterator<Item = String>) -> Vec<u8> {
    let mut out = Vec::new();
    for id in changed {
        if let Some(t) = st.record.tasks.iter().find(|t| t.id == id) {
            serde_json::to_writer(
                &mut out,
                &TaskLine {
                    entry: "task",
                    task: t,
                },
            )
            .expect("task serialises");
            out.push(b'\n');
        }
    }
    let tasks = std::mem::take(&mut st.record.tasks);
    serde_json::to_writer(
        &mut out,
        &RunLine {
            entry: "run",
            state: st,
        },
    )
    .expect("state serialises");
    st.record.tasks = tasks;
    out.push(b'\n');
    out
}

#[derive(Serialize)]
struct TaskLine<'a> {
    entry: &'static str,
    task: &'a TaskRecord,
}

#[derive(Serialize)]
struct RunLine<'a> {
    entry: &'static str,
    state: &'a State,
}

/// Appends `bytes` in one write and syncs it; never through a symlink.
pub fn append(path: &Path, bytes: &[u8]) -> std::io::Result<u64> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().expect("journal has a folder");
    if dir
        .symlink_metadata()
        .is_ok_and(|m| m.file_type().is_symlink())
    {
        return Err(std::io::Error::other(format!(
            "{} is a symlink; planexec writes its state only into real folders",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir)?;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_data()?;
    Ok(f.metadata()?.len())
}

/// Replays the journal at `path` onto the snapshot `st`. A torn last line (a
/// crash in the middle of an append) is ignored; any other bad line is an error.
pub fn replay(path: &Path, st: &mut State) -> Result<u64, StateError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(source) => {
            return Err(StateError::Read {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let complete = text.ends_with('\n');
    let lines: Vec<&str> = text.lines().collect();
    for (n, line) in lines.iter().enumerate() {
        let entry: Entry = match serde_json::from_str(line) {
            Ok(e) => e,
            Err(_) if n + 1 == lines.len() && !complete => break,
            Err(source) => {
                return Err(StateError::Corrupt {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        apply(st, entry);
    }
    Ok(text.len() as u64)
}

fn apply(st: &mut State, entry: Entry) {
    match entry {
        Entry::Task { task } => match st.record.tasks.iter_mut().find(|t| t.id == task.id) {
            Some(t) => *t = *task,
            None => st.record.tasks.push(*task),
        },
        Entry::Run { state } => {
            let tasks = std::mem::take(&mut st.record.tasks);
            *st = *state;
            st.record.tasks = tasks;
        }
    }
}
