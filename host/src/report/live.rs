//! The live terminal display: one line per task (id, title, status), a spinner with
//! elapsed time for each running gate, and the running programs' last output line
//! (each with its own elapsed time), above a scrolling history
//! of what happened. Used only when stdout is a terminal and neither CI nor
//! NO_COLOR is set (and not with `--format json`); see [`super::sinks`].

use super::plain::{line, strip_control};
use super::{Event, Sink};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use planexec_record::{RunRecord, TaskStatus};
use std::collections::HashMap;
use std::time::Duration;

pub struct LiveSink {
    multi: MultiProgress,
    /// Task bars in plan order, with each task's title.
    tasks: Vec<(String, String, ProgressBar)>,
    /// Running gates: (task, gate) -> spinner.
    gates: HashMap<(Option<String>, String), ProgressBar>,
    /// The running programs' last lines (redrawn with the spinners), once something runs.
    output: Option<ProgressBar>,
}

/// The last line of each running program, newest last: `python3 (12s): collected 3 items`.
pub fn last_lines(running: &[(String, Duration, String)]) -> String {
    let mut v: Vec<&(String, Duration, String)> = running.iter().collect();
    v.sort_by_key(|(_, took, _)| std::cmp::Reverse(*took));
    v.iter()
        .map(|(program, took, line)| {
            let line = strip_control(&crate::text::strip_sgr(line));
            let line = if line.is_empty() {
                "no output yet".into()
            } else {
                line
            };
            format!("↳ {} ({}s): {line}", strip_control(program), took.as_secs())
        })
        .collect::<Vec<_>>()
        .join("  ·  ")
}

fn output_style() -> ProgressStyle {
    ProgressStyle::with_template("    {last:.dim}")
        .expect("static template")
        .with_key(
            "last",
            |_: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&last_lines(&crate::sandbox::activity::snapshot()));
            },
        )
}

fn task_style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix:.bold} {msg}").expect("static template")
}

fn gate_style() -> ProgressStyle {
    ProgressStyle::with_template("  {spinner:.cyan} {msg} {elapsed:.dim}")
        .expect("static template")
        .tick_strings(&["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏", "✔"])
}

fn icon(s: TaskStatus) -> &'static str {
    match s {
        TaskStatus::Pending => "·",
        TaskStatus::Ready => "○",
        TaskStatus::InProgress => "▶",
        TaskStatus::InReview => "◆",
        TaskStatus::Rework => "↻",
        TaskStatus::Done => "✔",
        TaskStatus::Blocked => "✘",
        TaskStatus::Skipped => "⤼",
    }
}

impl LiveSink {
    /// Draws on stdout (the caller checked it is a terminal).
    pub fn stdout() -> Self {
        Self::with_target(ProgressDrawTarget::stdout())
    }

    pub fn with_target(target: ProgressDrawTarget) -> Self {
        LiveSink {
            multi: MultiProgress::with_draw_target(target),
            tasks: Vec::new(),
            gates: HashMap::new(),
            output: None,
        }
    }

    /// The output line, added below the bars the first time something runs.
    fn show_output(&mut self) {
        if self.output.is_none() {
            let bar = self
                .multi
                .add(ProgressBar::new_spinner().with_style(output_style()));
            bar.enable_steady_tick(Duration::from_millis(250));
            self.output = Some(bar);
        }
    }

    fn task_bar(&self, id: &str) -> Option<&(String, String, ProgressBar)> {
        self.tasks.iter().find(|(t, _, _)| t == id)
    }

    fn set_task(&self, id: &str, status: TaskStatus, cycle: u32) {
        if let Some((_, title, bar)) = self.task_bar(id) {
            let cyc = if cycle > 1 {
                format!(" (cycle {cycle})")
            } else {
                String::new()
            };
            bar.set_message(format!(
                "{} {} — {}{cyc}",
                icon(status),
                strip_control(title),
                status.as_str()
            ));
        }
    }

    fn history(&self, text: String) {
        let _ = self.multi.println(text);
    }
}

impl Sink for LiveSink {
    fn event(&mut self, ev: &Event) {
        match ev {
            Event::RunStarted { tasks, .. } => {
                self.history(line(ev));
                for t in tasks {
                    let bar = self
                        .multi
                        .add(ProgressBar::new_spinner().with_style(task_style()));
                    bar.set_prefix(strip_control(&t.id));
                    self.tasks.push((t.id.clone(), t.title.clone(), bar));
                    self.set_task(&t.id, TaskStatus::Pending, 0);
                }
            }
            Event::TaskStatus {
                task,
                status,
                cycle,
            } => {
                if *status == TaskStatus::InProgress {
                    self.show_output();
                }
                self.set_task(task, *status, *cycle)
            }
            Event::GateStarted { task, gate } => {
                self.show_output();
                let bar = self
                    .multi
                    .add(ProgressBar::new_spinner().with_style(gate_style()));
                let label = match task {
                    Some(t) => format!("{} gate {}", strip_control(t), strip_control(gate)),
                    None => format!("gate {}", strip_control(gate)),
                };
                bar.set_message(label);
                bar.enable_steady_tick(Duration::from_millis(100));
                self.gates.insert((task.clone(), gate.clone()), bar);
            }
            Event::GateFinished { task, run } => {
                if let Some(bar) = self.gates.remove(&(task.clone(), run.name.clone())) {
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                }
                self.history(line(ev));
            }
            Event::TaskBlocked { task, .. } => {
                self.history(line(ev));
                self.set_task(task, TaskStatus::Blocked, 0);
            }
            _ => self.history(line(ev)),
        }
    }

    fn finish(&mut self, _record: &RunRecord) {
        for (_, bar) in self.gates.drain() {
            bar.finish_and_clear();
        }
        if let Some(bar) = self.output.take() {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
        // Replace the live task lines with the same lines as plain text, so the
        // final list stays in the scrollback and what follows starts on a new line.
        let mut lines = Vec::new();
        for (_, _, bar) in self.tasks.drain(..) {
            lines.push(format!("{} {}", bar.prefix(), bar.message()));
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
        let _ = self.multi.clear();
        if !lines.is_empty() {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            for l in lines {
                let _ = writeln!(out, "{l}");
            }
            let _ = out.flush();
        }
    }
}

impl Drop for LiveSink {
    fn drop(&mut self) {
        for (_, bar) in self.gates.drain() {
            bar.finish_and_clear();
        }
        if let Some(bar) = self.output.take() {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::last_lines;
    use std::time::Duration;

    #[test]
    fn the_output_line_names_each_running_program_its_time_and_last_line() {
        let running = vec![
            (
                "pytest".to_string(),
                Duration::from_secs(3),
                "\x1b[32mtests/a.py ..\x1b[0m".to_string(),
            ),
            (
                "python3".to_string(),
                Duration::from_secs(75),
                String::new(),
            ),
        ];
        assert_eq!(
            last_lines(&running),
            "↳ python3 (75s): no output yet  ·  ↳ pytest (3s): tests/a.py .."
        );
    }
}
