//! Done markers written back in each plan's own format: an ExecPlan's Progress checkbox with its
//! UTC stamp, a Kiro / spec-kit / checklist checkbox, Taskmaster's `"status": "done"`.
//! Only that line or value changes; the file is rewritten atomically (temporary file, rename).

use std::io::Write;
use std::path::Path;

use time::OffsetDateTime;

use crate::error::PlanError;
use crate::model::Task;

/// Record `task` as done in its plan file, in the plan's own format. Plans with no done marker
/// of their own (T-ID headings, planpipe backlogs) are left alone.
pub fn mark_done(
    plan: &crate::model::Plan,
    task: &Task,
    now: OffsetDateTime,
) -> Result<(), PlanError> {
    use crate::model::Dialect;
    match plan.dialect {
        Dialect::ExecPlan => tick_progress(&task.source, task, now),
        Dialect::Taskmaster => set_json_done(&task.source, task),
        _ => tick_checkbox(&task.source, task),
    }
}

/// Set `"status": "done"` on a Taskmaster task, changing nothing else in the JSON.
fn set_json_done(path: &Path, task: &Task) -> Result<(), PlanError> {
    let text = std::fs::read_to_string(path).map_err(|source| PlanError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let out = crate::dialect::taskmaster::mark_done_in_tag(
        &text,
        &task.id,
        crate::dialect::taskmaster::current_tag(path).as_deref(),
    )
    .ok_or_else(|| PlanError::Tick {
        path: path.to_path_buf(),
        line: task.line,
        task: task.id.clone(),
        message: "the task is no longer in the file; was it edited?".into(),
    })?;
    write_atomic(path, out.as_bytes()).map_err(|source| PlanError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Tick the task's own checkbox (`- [ ]` -> `- [x]`, nothing else) when its line is one; a task
/// written as a heading or table row has none and is left alone.
fn tick_checkbox(path: &Path, task: &Task) -> Result<(), PlanError> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(());
    };
    let lines = line_ranges(&text);
    let names_task = |i: usize| {
        let l = &text[lines[i].0..lines[i].1];
        checkbox(l).is_some_and(|(_, rest)| {
            let p = crate::markdown::plain(rest);
            !task.title.is_empty() && p.contains(task.title.as_str())
        })
    };
    let at = task.line as usize;
    let idx = if at >= 1 && at <= lines.len() && names_task(at - 1) {
        at - 1
    } else {
        match (0..lines.len())
            .filter(|&i| names_task(i))
            .collect::<Vec<_>>()
            .as_slice()
        {
            [i] => *i,
            _ => return Ok(()),
        }
    };
    let (s, e) = lines[idx];
    let line = &text[s..e];
    let Some((box_at, _)) = checkbox(line) else {
        return Ok(());
    };
    if !line[box_at..].starts_with("[ ]") {
        return Ok(());
    }
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..s + box_at]);
    out.push_str("[x]");
    out.push_str(&text[s + box_at + 3..]);
    write_atomic(path, out.as_bytes()).map_err(|source| PlanError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Tick `task`'s Progress checkbox in the file at `path`: `- [ ]` becomes `- [x]` followed by
/// `(YYYY-MM-DD HH:MMZ)`, replacing a stamp already there. Every other byte is kept, line
/// endings included. Ticking an already ticked item changes nothing. The task is found at its
/// recorded line; if the file moved on, by its text. A stage tied to several Progress items
/// ticks them all.
pub fn tick_progress(path: &Path, task: &Task, now: OffsetDateTime) -> Result<(), PlanError> {
    if task.progress_lines.is_empty() {
        return tick_one(path, task, now);
    }
    for (line, text) in &task.progress_lines {
        let mut one = task.clone();
        one.line = *line;
        one.progress = Some(text.clone());
        tick_one(path, &one, now)?;
    }
    Ok(())
}

fn tick_one(path: &Path, task: &Task, now: OffsetDateTime) -> Result<(), PlanError> {
    let err = |line: u32, message: String| PlanError::Tick {
        path: path.to_path_buf(),
        line,
        task: task.id.clone(),
        message,
    };
    let bytes = std::fs::read(path).map_err(|source| PlanError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8(bytes)
        .map_err(|_| err(task.line, "the file is not valid UTF-8".into()))?;
    let lines: Vec<(usize, usize)> = line_ranges(&text);
    let matches_task = |s: &str| -> bool {
        let Some((_, rest)) = checkbox(s) else {
            return false;
        };
        let rest = crate::markdown::plain(rest);
        let (_, body) = crate::dialect::execplan::split_stamp(&rest);
        let want = task.progress.as_ref().unwrap_or(&task.title);
        !want.is_empty()
            && (body == *want || body.starts_with(want.as_str()) || want.starts_with(body))
    };
    let at = task.line as usize;
    let idx = if at >= 1
        && at <= lines.len()
        && checkbox(&text[lines[at - 1].0..lines[at - 1].1]).is_some()
        && ((task.title.is_empty() && task.progress.is_none())
            || matches_task(&text[lines[at - 1].0..lines[at - 1].1]))
    {
        at - 1
    } else {
        let found: Vec<usize> = (0..lines.len())
            .filter(|&i| matches_task(&text[lines[i].0..lines[i].1]))
            .collect();
        match found.as_slice() {
            [i] => *i,
            [] => {
                return Err(err(
                    task.line,
                    format!(
                        "no Progress checkbox with the text \"{}\" was found; was the plan edited?",
                        task.title
                    ),
                ))
            }
            _ => {
                return Err(err(
                    task.line,
                    format!(
                        "{} checkboxes read \"{}\"; make them distinct",
                        found.len(),
                        task.title
                    ),
                ))
            }
        }
    };
    let (s, e) = lines[idx];
    let line = &text[s..e];
    let (box_at, rest) = checkbox(line)
        .ok_or_else(|| err(idx as u32 + 1, "that line is not a checkbox item".into()))?;
    if line[box_at..].starts_with("[x]") || line[box_at..].starts_with("[X]") {
        return Ok(());
    }
    let stamp = format!(
        "({:04}-{:02}-{:02} {:02}:{:02}Z)",
        now.to_offset(time::UtcOffset::UTC).year(),
        u8::from(now.to_offset(time::UtcOffset::UTC).month()),
        now.to_offset(time::UtcOffset::UTC).day(),
        now.to_offset(time::UtcOffset::UTC).hour(),
        now.to_offset(time::UtcOffset::UTC).minute()
    );
    // drop an existing leading stamp: `(2026-01-01 10:00Z) ` or `(2026-01-01) `
    let rest_trim = rest.trim_start();
    let rest_after = match rest_trim
        .strip_prefix('(')
        .and_then(|r| r.find(')').map(|c| (r, c)))
    {
        Some((r, c))
            if r[..c].len() >= 10
                && r.as_bytes()[4] == b'-'
                && r.as_bytes()[..4].iter().all(|b| b.is_ascii_digit()) =>
        {
            r[c + 1..].trim_start()
        }
        _ => rest_trim,
    };
    let new_line = format!("{}[x] {} {}", &line[..box_at], stamp, rest_after);
    let mut out = String::with_capacity(text.len() + 24);
    out.push_str(&text[..s]);
    out.push_str(new_line.trim_end_matches(' '));
    out.push_str(&text[e..]);
    write_atomic(path, out.as_bytes()).map_err(|source| PlanError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Byte ranges of each line's content, line endings excluded.
fn line_ranges(text: &str) -> Vec<(usize, usize)> {
    let mut v = Vec::new();
    let mut start = 0;
    for (i, b) in text.bytes().enumerate() {
        if b == b'\n' {
            let end = if i > start && text.as_bytes()[i - 1] == b'\r' {
                i - 1
            } else {
                i
            };
            v.push((start, end));
            start = i + 1;
        }
    }
    if start < text.len() {
        v.push((start, text.len()));
    }
    v
}

/// If the line is a checkbox item, the byte index of `[` and the text after `] `.
fn checkbox(line: &str) -> Option<(usize, &str)> {
    let t = line.trim_start();
    let lead = line.len() - t.len();
    let after_marker = t
        .strip_prefix("- ")
        .or_else(|| t.strip_prefix("* "))
        .or_else(|| t.strip_prefix("+ "))?;
    let at = lead + 2 + (after_marker.len() - after_marker.trim_start().len());
    let a = after_marker.trim_start();
    for b in ["[ ]", "[x]", "[X]"] {
        if let Some(rest) = a.strip_prefix(b) {
            return Some((at, rest.strip_prefix(' ').unwrap_or(rest)));
        }
    }
    None
}

/// Set an ExecPlan's `Status:` value to `new` in place: `old` (the value as written, see
/// `Plan::status`) is replaced on the first line naming Status; nothing else changes.
pub fn set_status(path: &Path, old: &str, new: &str) -> Result<(), PlanError> {
    let io = |source| PlanError::Io {
        path: path.to_path_buf(),
        source,
    };
    let text = std::fs::read_to_string(path).map_err(io)?;
    let Some(at) = status_value_at(&text, old) else {
        return Err(PlanError::Tick {
            path: path.to_path_buf(),
            line: 0,
            task: "Status".into(),
            message: format!("no `Status: {old}` line was found; was the plan edited?"),
        });
    };
    if old == new {
        return Ok(());
    }
    let out = format!("{}{new}{}", &text[..at], &text[at + old.len()..]);
    write_atomic(path, out.as_bytes()).map_err(io)
}

/// Byte offset of `old` after `Status` on the first line that has both.
fn status_value_at(text: &str, old: &str) -> Option<usize> {
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let lower = line.to_lowercase();
        if let Some(k) = lower.find("status") {
            if let Some(v) = line.get(k..).and_then(|rest| rest.find(old)) {
                return Some(start + k + v);
            }
        }
        start += line.len();
    }
    None
}

/// Write a file atomically: a temporary file beside it, flushed, then renamed over it.
pub fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "plan".into());
    let tmp = dir.join(format!(".{name}.planexec-{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        if let Ok(meta) = std::fs::metadata(path) {
            let _ = f.set_permissions(meta.permissions());
        }
        f.write_all(data)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_status_changes_only_the_status_value() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("PLAN.md");
        let text = "# ExecPlan: x\n\nThe status quo stays.\n\n**Status**: DRAFT (owner: me)\n\n## Progress\n\n- [x] DRAFT it\n";
        std::fs::write(&p, text).unwrap();
        set_status(&p, "DRAFT (owner: me)", "COMPLETE").unwrap();
        let out = std::fs::read_to_string(&p).unwrap();
        assert_eq!(out, text.replace("DRAFT (owner: me)", "COMPLETE"));
        let e = set_status(&p, "DRAFT", "BLOCKED").unwrap_err().to_string();
        assert!(e.contains("Status: DRAFT"), "{e}");
    }
}
