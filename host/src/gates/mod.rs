//! A set of gates run as one step: concurrently up to `jobs`, results kept in the given
//! order, each looked up in and stored to the result cache by the key of its inputs.

pub mod files;
pub mod flags;
pub mod key;
pub mod scope;
pub mod select;
pub mod store;

use crate::config::GateConfig;
use crate::sandbox::{CallInfo, Loaded};
use planexec_record::{GateReport, GateRun, Outcome};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Condvar, Mutex};
use store::{Entry, ResultCache};

/// One gate of the set, loaded and ready.
pub struct Job<'a> {
    pub cfg: GateConfig,
    pub loaded: &'a Loaded,
    /// `[gates.NAME] cache = false` says no.
    pub cache: bool,
    /// Jobs (indices) that must finish before this one starts.
    pub after: Vec<usize>,
    /// The task the gate runs for (per-task gates of a run).
    pub task: Option<crate::sandbox::bindings::types::Task>,
    /// The part of its tests the gate runs (`gate run --shard I/N`), none: all of them.
    pub shard: Option<crate::shard::GateShard>,
    /// Why the gate is `skipped` without running (`gate run --staged`: none of its files).
    pub skip: Option<String>,
}

pub struct Options<'a> {
    /// Gates running at once (at least 1).
    pub jobs: usize,
    /// Once a gate fails or errors, start no more.
    pub fail_fast: bool,
    pub cache: Option<&'a ResultCache>,
    /// Workspace paths gates of the set may write: their outputs, left out of every key.
    pub outputs: Vec<String>,
    /// What the gates check when it is not the workspace's work tree (`gate run --staged`
    /// checks a copy of the index): the repository and a digest of that content, for keys.
    pub checked: Option<key::Checked>,
}

/// What became of one gate.
pub struct Done {
    pub run: GateRun,
    /// The plugin call (absent for a cache hit or a gate that never started).
    pub info: Option<CallInfo>,
    /// For a cache hit: when the reused result was produced.
    pub cached_at: Option<String>,
    /// Why the result was not looked up in the cache, when it was not.
    pub uncached: Option<String>,
}

/// What the caller hears while the set runs, to show it live.
pub enum Progress<'r> {
    Started(usize),
    Finished(usize, &'r Done),
}

/// Which jobs have started and finished; workers wait on it for a job whose `after` is done.
struct Board {
    started: Vec<bool>,
    finished: Vec<bool>,
}

impl Board {
    /// The first job not started whose dependencies finished; Err(()) when none is left.
    fn take(&mut self, jobs: &[Job]) -> Result<Option<usize>, ()> {
        if self.started.iter().all(|s| *s) {
            return Err(());
        }
        let ready = (0..jobs.len())
            .find(|&i| !self.started[i] && jobs[i].after.iter().all(|&d| self.finished[d]));
        if let Some(i) = ready {
            self.started[i] = true;
        }
        Ok(ready)
    }
}

/// Runs every job, at most `opts.jobs` at a time and each after the jobs in its `after`
/// (which must not form a cycle: see [`cycle`]); returns their results in job order.
pub fn run_set(
    jobs: &[Job],
    workspace: &Path,
    opts: &Options,
    mut on: impl FnMut(Progress),
) -> Vec<Done> {
    let board = Mutex::new(Board {
        started: vec![false; jobs.len()],
        finished: vec![false; jobs.len()],
    });
    let turn = Condvar::new();
    let stop = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<(usize, Option<Done>)>();
    let mut results: Vec<Option<Done>> = (0..jobs.len()).map(|_| None).collect();
    std::thread::scope(|s| {
        for _ in 0..opts.jobs.clamp(1, jobs.len().max(1)) {
            let tx = tx.clone();
            let (board, turn, stop) = (&board, &turn, &stop);
            s.spawn(move || loop {
                let i = {
                    let mut b = board.lock().unwrap_or_else(|p| p.into_inner());
                    loop {
                        match b.take(jobs) {
                            Err(()) => return,
                            Ok(Some(i)) => break i,
                            Ok(None) => b = turn.wait(b).unwrap_or_else(|p| p.into_inner()),
                        }
                    }
                };
                let done = if let Some(why) = &jobs[i].skip {
                    skipped(&jobs[i], why)
                } else if opts.fail_fast && stop.load(Ordering::SeqCst) {
                    not_started(&jobs[i])
                } else {
                    run_one(&jobs[i], workspace, opts, || {
                        let _ = tx.send((i, None));
                    })
                };
                if !matches!(done.run.report.outcome, Outcome::Passed | Outcome::Skipped) {
                    stop.store(true, Ordering::SeqCst);
                }
                let _ = tx.send((i, Some(done)));
                board.lock().unwrap_or_else(|p| p.into_inner()).finished[i] = true;
                turn.notify_all();
            });
        }
        drop(tx);
        for (i, msg) in rx {
            match msg {
                None => on(Progress::Started(i)),
                Some(done) => {
                    on(Progress::Finished(i, &done));
                    results[i] = Some(done);
                }
            }
        }
    });
    results
        .into_iter()
        .zip(jobs)
        .map(|(r, j)| r.unwrap_or_else(|| not_started(j)))
        .collect()
}

/// A cycle among the jobs' `after` lists, as job indices, if there is one.
pub fn cycle(after: &[Vec<usize>]) -> Option<Vec<usize>> {
    fn visit(i: usize, after: &[Vec<usize>], state: &mut [u8], path: &mut Vec<usize>) -> bool {
        match state[i] {
            1 => {
                let from = path.iter().position(|&p| p == i).unwrap_or(0);
                path.drain(..from);
                return true;
            }
            2 => return false,
            _ => {}
        }
        state[i] = 1;
        path.push(i);
        for &d in &after[i] {
            if visit(d, after, state, path) {
                return true;
            }
        }
        path.pop();
        state[i] = 2;
        false
    }
    let mut state = vec![0u8; after.len()];
    for i in 0..after.len() {
        let mut path = Vec::new();
        if visit(i, after, &mut state, &mut path) {
            return Some(path);
        }
    }
    None
}

/// A gate kept from starting because an earlier one failed (`--fail-fast`, or a run).
fn not_started(job: &Job) -> Done {
    Done {
        run: skipped_run(&job.cfg.name, job.loaded.name()),
        info: None,
        cached_at: None,
        uncached: None,
    }
}

/// A gate with nothing to check: `skipped`, saying why.
fn skipped(job: &Job, why: &str) -> Done {
    let mut done = not_started(job);
    done.run.report.summary = why.to_string();
    done
}

/// The `skipped` result of a gate that never started because an earlier one failed.
pub fn skipped_run(name: &str, plugin: &str) -> GateRun {
    let mut report = GateReport::errored("not started: an earlier gate failed");
    report.outcome = Outcome::Skipped;
    GateRun {
        name: name.to_string(),
        plugin: plugin.to_string(),
        report,
        programs: Vec::new(),
    }
}

/// One gate: its cached result when its inputs are unchanged, else a real run (stored
/// when it passed or failed; an errored run says nothing about the code and is not kept).
/// `started` is called when the gate really runs (not for a cache hit).
fn run_one(job: &Job, workspace: &Path, opts: &Options, started: impl FnOnce()) -> Done {
    let cache = opts.cache;
    let key = match (cache, job.cache) {
        (None, _) => Err("the result cache is off".to_string()),
        (Some(_), false) => Err(format!("[gates.{}] cache = false", job.cfg.name)),
        (Some(_), true) => key::gate_key(
            job.loaded,
            &job.cfg,
            job.shard.as_ref(),
            workspace,
            &opts.outputs,
            opts.checked.as_ref(),
        ),
    };
    if let (Some(c), Ok(k)) = (cache, &key) {
        if let Some(e) = c.get(k) {
            let mut run = e.run;
            run.name = job.cfg.name.clone();
            return Done {
                run,
                info: None,
                cached_at: Some(e.at),
                uncached: None,
            };
        }
    }
    started();
    let at = crate::report::now_rfc3339();
    let (run, info) = crate::gate::run_shard(
        job.loaded,
        &job.cfg,
        workspace,
        job.task.clone(),
        job.shard.as_ref(),
    );
    if let (Some(c), Ok(k)) = (cache, &key) {
        if matches!(run.report.outcome, Outcome::Passed | Outcome::Failed) {
            c.put(&Entry {
                key: k.clone(),
                at,
                run: run.clone(),
            });
        }
    }
    Done {
        run,
        info: Some(info),
        cached_at: None,
        uncached: key.err(),
    }
}

#[cfg(test)]
mod tests {
    use super::cycle;

    #[test]
    fn finds_a_cycle_of_after_lists_and_none_in_a_chain() {
        assert_eq!(cycle(&[vec![], vec![0], vec![1, 0]]), None);
        assert_eq!(cycle(&[vec![2], vec![0], vec![1]]), Some(vec![0, 2, 1]));
        assert_eq!(cycle(&[vec![], vec![1]]), Some(vec![1]));
    }
}
