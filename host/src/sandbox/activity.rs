//! What the programs plugins run are printing right now: the last line of each running
//! program's output, for the heartbeat of a run outside a terminal (report/plain.rs).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The most of one line kept.
const MAX_LINE: usize = 200;

struct Entry {
    program: String,
    started: Instant,
    last_line: String,
}

static RUNNING: Mutex<BTreeMap<u64, Entry>> = Mutex::new(BTreeMap::new());
static NEXT: AtomicU64 = AtomicU64::new(1);

/// One running program; it is forgotten when this is dropped.
pub struct Running(u64);

/// A handle the output readers update.
#[derive(Clone, Copy)]
pub struct Tracker(u64);

/// Records `program` as running from now.
pub fn start(program: &str) -> Running {
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    let name = std::path::Path::new(program)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| program.to_string());
    if let Ok(mut m) = RUNNING.lock() {
        m.insert(
            id,
            Entry {
                program: name,
                started: Instant::now(),
                last_line: String::new(),
            },
        );
    }
    Running(id)
}

impl Running {
    pub fn tracker(&self) -> Tracker {
        Tracker(self.0)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(mut m) = RUNNING.lock() {
            m.remove(&self.0);
        }
    }
}

impl Tracker {
    /// A chunk of the program's output: its last non-empty line is kept.
    pub fn saw(&self, chunk: &[u8]) {
        let text = String::from_utf8_lossy(chunk);
        let Some(line) = text
            .split(['\n', '\r'])
            .map(str::trim)
            .rfind(|l| !l.is_empty())
        else {
            return;
        };
        let line: String = line.chars().take(MAX_LINE).collect();
        if let Ok(mut m) = RUNNING.lock() {
            if let Some(e) = m.get_mut(&self.0) {
                e.last_line = line;
            }
        }
    }
}

/// Each running program: its name, how long it has run, the last line it printed.
pub fn snapshot() -> Vec<(String, Duration, String)> {
    RUNNING
        .lock()
        .map(|m| {
            m.values()
                .map(|e| (e.program.clone(), e.started.elapsed(), e.last_line.clone()))
                .collect()
        })
        .unwrap_or_default()
}
