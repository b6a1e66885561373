//! `planexec check --explain [TASK]`: for each task, the source line that made it a task and
//! where each field came from (file:line with the line itself), so a misreading shows why.

use std::collections::HashMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use crate::model::{Plan, Span, Task};

/// The longest value or source line shown, in characters.
const WIDTH: usize = 100;

/// Explain every task, or only `only`. Err names the known ids when `only` is not one.
pub fn render_explain(plan: &Plan, only: Option<&str>) -> Result<String, String> {
    let tasks: Vec<&Task> = match only {
        Some(id) => match plan.task(id) {
            Some(t) => vec![t],
            None => {
                let ids: Vec<&str> = plan.tasks.iter().map(|t| t.id.as_str()).collect();
                return Err(format!(
                    "no task {id} in {}; its tasks are: {}",
                    plan.source.display(),
                    cut(&ids.join(", "))
                ));
            }
        },
        None => plan.tasks.iter().collect(),
    };
    let mut lines = Lines::default();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "plan: {} read as {} ({}): {} tasks",
        plan.source.display(),
        plan.dialect,
        plan.variant,
        plan.tasks.len()
    );
    for t in tasks {
        s.push('\n');
        explain_task(&mut s, &mut lines, t);
    }
    Ok(s)
}

/// One task: its id and title, why it is a task, then each field with its provenance.
fn explain_task(s: &mut String, lines: &mut Lines, t: &Task) {
    let _ = writeln!(s, "{}  {}", t.id, cut(&t.title));
    let why = if t.origin.is_empty() {
        "read by its dialect"
    } else {
        t.origin
    };
    at(s, lines, "task", why, &t.source, t.span);
    let spans = &t.field_spans;
    let field = |s: &mut String, lines: &mut Lines, key: &str, value: String| {
        if value.is_empty() {
            return;
        }
        match spans.get(key) {
            Some(sp) => at(s, lines, key, &value, &t.source, *sp),
            None => {
                let _ = writeln!(s, "  {key:<13}{}  (from the task's own line)", cut(&value));
            }
        }
    };
    field(
        s,
        lines,
        "summary",
        if t.summary != t.title {
            t.summary.clone()
        } else {
            String::new()
        },
    );
    field(s, lines, "files", t.files.join(", "));
    field(s, lines, "acceptance", t.acceptance.join(" | "));
    field(
        s,
        lines,
        "milestone",
        t.milestone.clone().unwrap_or_default(),
    );
    field(
        s,
        lines,
        "wave",
        t.wave.map(|w| w.to_string()).unwrap_or_default(),
    );
    field(s, lines, "tags", t.tags.join(", "));
    dependencies(s, lines, t);
    done(s, lines, t);
}

/// Dependencies grouped by the line that states them.
fn dependencies(s: &mut String, lines: &mut Lines, t: &Task) {
    let mut by_line: Vec<(PathBuf, Span, Vec<String>)> = Vec::new();
    for d in &t.dependencies {
        let file = d.file.clone().unwrap_or_else(|| t.source.clone());
        let name = format!("{} ({})", d.id, d.kind.name());
        match by_line
            .iter_mut()
            .find(|(f, sp, _)| *f == file && sp.line == d.span.line)
        {
            Some((_, _, v)) => v.push(name),
            None => by_line.push((file, d.span, vec![name])),
        }
    }
    if by_line.is_empty() {
        let _ = writeln!(s, "  {:<13}none", "dependencies");
    }
    for (file, span, names) in by_line {
        at(s, lines, "dependencies", &names.join(", "), &file, span);
    }
}

/// The done state and what it was read from.
fn done(s: &mut String, lines: &mut Lines, t: &Task) {
    let word = if t.done { "yes" } else { "no" };
    if !t.progress_lines.is_empty() {
        let _ = writeln!(
            s,
            "  {:<13}{word}: all of its Progress items must be ticked",
            "done"
        );
        for (line, text) in &t.progress_lines {
            let sp = Span {
                line: *line,
                column: 1,
                offset: 0,
            };
            at(
                s,
                lines,
                "",
                &format!("Progress: {}", cut(text)),
                &t.source,
                sp,
            );
        }
        return;
    }
    let sp = t.field_spans.get("status").copied().unwrap_or(Span {
        line: t.line,
        column: 1,
        offset: 0,
    });
    at(s, lines, "done", word, &t.source, sp);
}

/// `  key          value  file:line` and the source line under it.
fn at(s: &mut String, lines: &mut Lines, key: &str, value: &str, file: &Path, sp: Span) {
    let _ = writeln!(
        s,
        "  {key:<13}{}  {}:{}",
        cut(value),
        file.display(),
        sp.line
    );
    if let Some(l) = lines.get(file, sp.line) {
        let _ = writeln!(s, "  {:<13}| {}", "", cut(l.trim()));
    }
}

fn cut(v: &str) -> String {
    let v = v.replace('\n', " ");
    match v.char_indices().nth(WIDTH) {
        Some((i, _)) => format!("{}…", &v[..i]),
        None => v,
    }
}

/// Source files read once, for quoting lines.
#[derive(Default)]
struct Lines(HashMap<PathBuf, Option<String>>);

impl Lines {
    fn get(&mut self, file: &Path, line: u32) -> Option<String> {
        let text = self
            .0
            .entry(file.to_path_buf())
            .or_insert_with(|| std::fs::read_to_string(file).ok());
        text.as_deref()?
            .lines()
            .nth((line as usize).checked_sub(1)?)
            .map(str::to_string)
    }
}
