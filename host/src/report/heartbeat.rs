//! Outside a terminal, a line every 30 s for each gate or implementer still running, and the
//! last line each of its programs printed: `still running: gate pytest, 1m30s`, so CI logs never
//! look hung (`PLANEXEC_HEARTBEAT=SECONDS` changes the period, 0 turns it off).

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// The period when PLANEXEC_HEARTBEAT does not say.
const DEFAULT: Duration = Duration::from_secs(30);

/// The running gates (by their shown name) and when each started; a thread prints.
pub struct Heartbeat {
    running: Arc<Mutex<BTreeMap<String, Instant>>>,
    every: Duration,
    started: bool,
}

/// The period from PLANEXEC_HEARTBEAT (seconds); `None`: off.
pub fn period_from_env() -> Option<Duration> {
    match std::env::var("PLANEXEC_HEARTBEAT") {
        Err(_) => Some(DEFAULT),
        Ok(v) => match v.trim().parse::<f64>() {
            Ok(s) if s > 0.0 && s.is_finite() => Some(Duration::from_secs_f64(s)),
            Ok(_) => None,
            Err(_) => Some(DEFAULT),
        },
    }
}

impl Heartbeat {
    pub fn new(every: Duration) -> Heartbeat {
        Heartbeat {
            running: Arc::new(Mutex::new(BTreeMap::new())),
            every,
            started: false,
        }
    }

    /// A gate started: beats begin (the thread starts with the first gate).
    pub fn started(&mut self, gate: String) {
        if let Ok(mut m) = self.running.lock() {
            m.insert(gate, Instant::now());
        }
        if !self.started {
            self.started = true;
            let weak = Arc::downgrade(&self.running);
            let every = self.every;
            let _ = std::thread::Builder::new()
                .name("planexec-heartbeat".into())
                .spawn(move || beat(weak, every));
        }
    }

    pub fn finished(&mut self, gate: &str) {
        if let Ok(mut m) = self.running.lock() {
            m.remove(gate);
        }
    }
}

/// Until the sink is gone: each period, the lines for the gates running a period or more.
fn beat(running: Weak<Mutex<BTreeMap<String, Instant>>>, every: Duration) {
    let tick = every.min(Duration::from_secs(1));
    let mut said: BTreeMap<String, u64> = BTreeMap::new();
    loop {
        std::thread::sleep(tick);
        let Some(running) = running.upgrade() else {
            return;
        };
        let gates: Vec<(String, Duration)> = match running.lock() {
            Ok(m) => m.iter().map(|(g, t)| (g.clone(), t.elapsed())).collect(),
            Err(_) => return,
        };
        drop(running);
        said.retain(|g, _| gates.iter().any(|(n, _)| n == g));
        let due: Vec<(String, Duration)> = gates
            .into_iter()
            .filter(|(g, took)| {
                let beats = (took.as_secs_f64() / every.as_secs_f64()) as u64;
                beats > 0 && said.insert(g.clone(), beats) != Some(beats)
            })
            .collect();
        if !due.is_empty() {
            print_beat(&due);
        }
    }
}

fn print_beat(due: &[(String, Duration)]) {
    let mut text = String::new();
    for (gate, took) in due {
        text.push_str(&format!("still running: {gate}, {}\n", clock(*took)));
    }
    for (program, took, line) in crate::sandbox::activity::snapshot() {
        let line = super::plain::strip_control(&crate::text::strip_sgr(&line));
        let last = if line.is_empty() {
            "no output yet".to_string()
        } else {
            format!("last output: {line}")
        };
        text.push_str(&format!("  {program} ({}): {last}\n", clock(took)));
    }
    let mut e = std::io::stderr().lock();
    let _ = e.write_all(text.as_bytes());
    let _ = e.flush();
}

/// `45s`, `1m30s`, `1h02m`.
pub fn clock(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_reads_like_a_person_would_say_it() {
        assert_eq!(clock(Duration::from_secs(45)), "45s");
        assert_eq!(clock(Duration::from_secs(90)), "1m30s");
        assert_eq!(clock(Duration::from_secs(3720)), "1h02m");
    }
}
