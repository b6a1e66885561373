//! Taskmaster task files (`.taskmaster/tasks/tasks.json`, tagged `{"master": {"tasks": []}}` or
//! untagged `{"tasks": []}`, legacy `tasks/tasks.json`): ids, subtasks `3.2`, status, testStrategy.
//!
//! Positions come from a small scanner over the JSON text, so spans point at each task's object
//! and `run` can set `"status": "done"` in place without reformatting the file.

use std::ops::Range;
use std::path::Path;

use serde_json::Value;

use crate::diagnostic::{Diagnostic, Severity};
use crate::error::PlanError;
use crate::markdown::Source;
use crate::model::{DepKind, Dependency, Dialect, Plan, Task};

/// Whether a path is a Taskmaster task file by its name and place.
pub fn is_task_file(path: &Path) -> bool {
    let p = path.to_string_lossy().replace('\\', "/");
    p.ends_with("tasks/tasks.json") || p.ends_with(".taskmaster/tasks.json")
}

/// Where the task file of a folder is: `.taskmaster/tasks/tasks.json`, `tasks/tasks.json`,
/// `tasks.json`.
pub fn find_in(dir: &Path) -> Option<std::path::PathBuf> {
    [
        ".taskmaster/tasks/tasks.json",
        "tasks/tasks.json",
        "tasks.json",
    ]
    .iter()
    .map(|r| dir.join(r))
    .find(|p| p.is_file())
}

/// Read a Taskmaster file from disk.
pub fn load(path: &Path) -> Result<Plan, PlanError> {
    parse_source(&Source::read(path)?)
}

/// Read Taskmaster JSON text. Invalid JSON is a `PlanError::Json` with its line and column.
pub fn parse_source(src: &Source) -> Result<Plan, PlanError> {
    let root: Value = serde_json::from_str(&src.text).map_err(|e| PlanError::Json {
        path: src.path.clone(),
        line: e.line() as u32,
        column: e.column() as u32,
        message: e.to_string(),
    })?;
    let mut plan = Plan::new(src.path.clone(), Dialect::Taskmaster, "tasks-json");
    let current = current_tag(&src.path);
    let (tag, tasks) = task_list(&root, current.as_deref());
    plan.title = tag.map_or_else(|| "tasks".to_string(), |t| format!("tasks ({t})"));
    let objs = scan(&src.text);
    let range = tag_range(&objs, tag);
    let list = tasks.and_then(Value::as_array).cloned().unwrap_or_default();
    let looked = "looked for {\"tasks\": [...]}, a tag such as {\"master\": {\"tasks\": [...]}} or a bare list of tasks, each an object with \"id\" and \"title\"";
    let what = match tasks {
        None => Some("this JSON file has no Taskmaster \"tasks\" list"),
        Some(_) if !list.iter().all(is_task_value) => {
            Some("this JSON file's task list holds entries that are not Taskmaster tasks")
        }
        Some(_) => None,
    };
    if let Some(what) = what {
        plan.notes.push(Diagnostic::new(
            Severity::Error,
            "not-taskmaster",
            format!("{what} ({looked}); give planexec a Taskmaster tasks.json or a Markdown plan"),
            &src.path,
            src.span(0),
            src.line_text(1),
        ));
        return Ok(plan);
    }
    let full = writes_full_ids(&list, None);
    read_list(src, &objs, &range, &list, None, full, &mut plan);
    sibling_or_top(&mut plan);
    Ok(plan)
}

/// Read a list of tasks (or a task's subtasks, with `parent` its id) in order: each task, then
/// its subtasks (deeper levels too); a parent waits for its subtasks. A subtask's id is
/// `<parent>.<own id>`, Taskmaster's own naming (an own id `7.1` under task 7 is `7.7.1`), unless
/// the file writes every subtask id in full (`full`: `3.1` under 3, `3.1.2` under 3.1).
fn read_list(
    src: &Source,
    objs: &[Obj],
    range: &Range<usize>,
    list: &[Value],
    parent: Option<&str>,
    full: bool,
    plan: &mut Plan,
) {
    for t in list {
        let own = id_text(t.get("id"));
        let id = match parent {
            Some(p) => sub_id(p, &own, full),
            None => own,
        };
        let mut task = read_task(src, objs, range, t, &id, parent);
        let subs = t
            .get("subtasks")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for s in &subs {
            let sid = sub_id(&id, &id_text(s.get("id")), full);
            let d = dep(&sid, &task, DepKind::Blocking);
            task.dependencies.push(d);
        }
        let q = task.quote.clone();
        super::common::add_task(plan, task, q);
        read_list(src, objs, range, &subs, Some(&id), full, plan);
    }
}

/// A subtask's id in the plan: its own when the file writes ids in full, else `<parent>.<own>`.
fn sub_id(parent: &str, own: &str, full: bool) -> String {
    if full {
        own.to_string()
    } else {
        format!("{parent}.{own}")
    }
}

/// Whether every subtask in the file writes its id in full, its parent's id and a dot first
/// (`"3.1"` under task 3): one consistent id family, kept as written. A file mixing plain
/// (`1`) and dotted own ids keeps Taskmaster's `<parent>.<own>` naming for all.
fn writes_full_ids(list: &[Value], parent: Option<&str>) -> bool {
    let mut any = false;
    for t in list {
        let own = id_text(t.get("id"));
        if let Some(p) = parent {
            if !own.starts_with(&format!("{p}.")) {
                return false;
            }
            any = true;
        }
        if let Some(subs) = t.get("subtasks").and_then(Value::as_array) {
            if !subs.is_empty() {
                if !writes_full_ids(subs, Some(&own)) {
                    return false;
                }
                any = true;
            }
        }
    }
    any
}

/// A subtask's numeric dependency names a sibling (`12` under task 18 is `18.12`) when one
/// exists (other than itself), else the top-level task with that id (`12`).
fn sibling_or_top(plan: &mut Plan) {
    let ids: std::collections::HashSet<String> = plan.tasks.iter().map(|t| t.id.clone()).collect();
    for t in &mut plan.tasks {
        let Some((parent, _)) = t.id.rsplit_once('.') else {
            continue;
        };
        for d in &mut t.dependencies {
            if ids.contains(&d.id) && d.id != t.id {
                continue;
            }
            if let Some(own) = d.id.strip_prefix(&format!("{parent}.")) {
                if ids.contains(own) {
                    d.id = own.to_string();
                }
            }
        }
    }
}

/// The tag Taskmaster works in: `currentTag` of the `state.json` beside the `tasks/` folder
/// (`.taskmaster/state.json`), when there is one (read only when it is small).
pub fn current_tag(path: &Path) -> Option<String> {
    let state = path.parent()?.parent()?.join("state.json");
    if std::fs::metadata(&state).ok()?.len() > 64 * 1024 {
        return None;
    }
    let v: Value = serde_json::from_str(&std::fs::read_to_string(state).ok()?).ok()?;
    Some(v.get("currentTag")?.as_str()?.to_string())
}

/// The tasks list and its tag: `{"tasks": [...]}`, else the current tag (state.json), else
/// `master`, else the first tag with tasks.
fn task_list<'a>(root: &'a Value, current: Option<&str>) -> (Option<&'a str>, Option<&'a Value>) {
    if root.as_array().is_some_and(|a| !a.is_empty()) {
        return (None, Some(root));
    }
    if let Some(t) = root.get("tasks") {
        return (None, Some(t));
    }
    if let Some((k, t)) = current
        .and_then(|c| root.as_object()?.get_key_value(c))
        .and_then(|(k, v)| Some((k, v.get("tasks")?)))
    {
        return (Some(k.as_str()), Some(t));
    }
    if let Some(t) = root.get("master").and_then(|m| m.get("tasks")) {
        return (Some("master"), Some(t));
    }
    let obj = root.as_object();
    let first = obj.and_then(|o| o.iter().find(|(_, v)| v.get("tasks").is_some()));
    match first {
        Some((k, v)) => (Some(k.as_str()), v.get("tasks")),
        None => (None, None),
    }
}

/// A Taskmaster task: an object with an id (number or string) and a title.
fn is_task_value(v: &Value) -> bool {
    let id = v.get("id").is_some_and(|i| i.is_number() || i.is_string());
    id && v.get("title").is_some_and(Value::is_string)
}

fn id_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn dep(id: &str, t: &Task, kind: DepKind) -> Dependency {
    Dependency {
        id: id.to_string(),
        kind,
        span: t.field_spans.get("dependencies").copied().unwrap_or(t.span),
        file: None,
        quote: t.quote.clone().into(),
        prose: false,
    }
}

/// One task or subtask object as a task. `parent` is the parent's id for a subtask, whose
/// numeric dependencies name its siblings.
fn read_task(
    src: &Source,
    objs: &[Obj],
    range: &Range<usize>,
    v: &Value,
    id: &str,
    parent: Option<&str>,
) -> Task {
    let s = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim()
            .to_string()
    };
    let obj = find_obj(objs, range, id);
    let at = obj.map_or(0, |o| o.start);
    let span = src.span(at);
    let mut t = Task {
        origin: "an object of the tasks.json tasks list (or its subtasks)",
        id: id.to_string(),
        title: s("title"),
        summary: if s("description").is_empty() {
            s("title")
        } else {
            s("description")
        },
        body: s("details"),
        done: matches!(
            s("status").to_lowercase().as_str(),
            "done" | "completed" | "cancelled"
        ),
        source: src.path.clone(),
        span,
        line: span.line,
        quote: src.line_text(span.line).trim().to_string(),
        ..Task::default()
    };
    if let Some(o) = obj {
        for (k, r) in &o.fields {
            let key = match k.as_str() {
                "title" => "title",
                "description" => "summary",
                "details" => "body",
                "testStrategy" | "acceptanceCriteria" => "acceptance",
                "status" => "status",
                "dependencies" => "dependencies",
                _ => continue,
            };
            t.field_spans.insert(key.into(), src.span(r.start));
        }
        t.field_spans.insert("task".into(), span);
    }
    for key in ["testStrategy", "acceptanceCriteria"] {
        let v = s(key);
        if !v.is_empty() {
            t.acceptance.push(v);
        }
    }
    for d in v
        .get("dependencies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let raw = id_text(Some(d));
        if raw.is_empty() {
            continue;
        }
        let full = match (parent, raw.contains('.')) {
            (Some(p), false) => format!("{p}.{raw}"),
            _ => raw,
        };
        let d = dep(&full, &t, DepKind::Blocking);
        t.dependencies.push(d);
    }
    t
}

/// The scanned object of task `id` (`3`, `3.2`, or a string id `1.2.3`) inside the chosen
/// tag's range.
fn find_obj<'a>(objs: &'a [Obj], range: &Range<usize>, id: &str) -> Option<&'a Obj> {
    (0..objs.len())
        .filter(|&i| objs[i].is_task() && objs[i].start >= range.start && objs[i].end <= range.end)
        .find(|&i| full_id(objs, i) == id)
        .map(|i| &objs[i])
}

/// A task object's id as the plan knows it: its parent's id, a dot and its own, unless its own
/// already holds a dot.
fn full_id(objs: &[Obj], i: usize) -> String {
    let own = objs[i].id();
    match task_parent(objs, i) {
        Some(p) if !own.contains('.') => format!("{}.{own}", full_id(objs, p)),
        _ => own.to_string(),
    }
}

/// The nearest enclosing object that is a task.
fn task_parent(objs: &[Obj], i: usize) -> Option<usize> {
    let mut p = objs[i].parent;
    while let Some(k) = p {
        if objs[k].is_task() {
            return Some(k);
        }
        p = objs[k].parent;
    }
    None
}

/// The byte range of the chosen tag's value (the whole text when untagged).
fn tag_range(objs: &[Obj], tag: Option<&str>) -> Range<usize> {
    let root = objs.iter().find(|o| o.parent.is_none());
    match (root, tag) {
        (Some(r), Some(t)) => r
            .fields
            .iter()
            .find(|(k, _)| k == t)
            .map_or(0..usize::MAX, |(_, v)| v.clone()),
        _ => 0..usize::MAX,
    }
}

/// One JSON object in the text: its byte range, its fields' value ranges, its parent object.
#[derive(Debug, Clone)]
pub(crate) struct Obj {
    pub start: usize,
    pub end: usize,
    pub fields: Vec<(String, Range<usize>)>,
    pub parent: Option<usize>,
    text_id: String,
}

impl Obj {
    fn is_task(&self) -> bool {
        self.fields.iter().any(|(k, _)| k == "id") && self.fields.iter().any(|(k, _)| k == "title")
    }
    fn id(&self) -> &str {
        &self.text_id
    }
}

struct Frame {
    obj: Option<usize>,
    key: Option<String>,
    val: Option<usize>,
}

/// Scan JSON text into its objects (the text is known to be valid JSON).
pub(crate) fn scan(text: &str) -> Vec<Obj> {
    let b = text.as_bytes();
    let mut objs: Vec<Obj> = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b'"' => {
                let start = i;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                let s = &text[start + 1..i.min(b.len())];
                if let Some(f) = stack.last_mut() {
                    if f.obj.is_some() && f.key.is_none() {
                        f.key = Some(s.to_string());
                    } else if f.obj.is_some() && f.val.is_none() {
                        f.val = Some(start);
                    }
                }
            }
            b'{' | b'[' => {
                if let Some(f) = stack.last_mut() {
                    if f.obj.is_some() && f.key.is_some() && f.val.is_none() {
                        f.val = Some(i);
                    }
                }
                let parent = stack.iter().rev().find_map(|f| f.obj);
                let obj = (c == b'{').then(|| {
                    objs.push(Obj {
                        start: i,
                        end: i,
                        fields: Vec::new(),
                        parent,
                        text_id: String::new(),
                    });
                    objs.len() - 1
                });
                stack.push(Frame {
                    obj,
                    key: None,
                    val: None,
                });
            }
            b',' | b'}' | b']' => {
                if let Some(f) = stack.last_mut() {
                    if let (Some(o), Some(k), Some(v)) = (f.obj, f.key.take(), f.val.take()) {
                        let end = v + text[v..i].trim_end().len();
                        objs[o].fields.push((k, v..end));
                    }
                }
                if c != b',' {
                    if let Some(Frame { obj: Some(o), .. }) = stack.pop() {
                        objs[o].end = i + 1;
                        let id = objs[o]
                            .fields
                            .iter()
                            .find(|(k, _)| k == "id")
                            .map(|(_, r)| text[r.clone()].trim_matches('"').trim().to_string());
                        objs[o].text_id = id.unwrap_or_default();
                    }
                }
            }
            c if !c.is_ascii_whitespace() && c != b':' => {
                if let Some(f) = stack.last_mut() {
                    if f.obj.is_some() && f.key.is_some() && f.val.is_none() {
                        f.val = Some(i);
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    objs
}

/// Set task `id`'s `"status"` to `"done"` in the JSON text, changing nothing else (a missing
/// status is added after the object's `{`). None when the task is not in the text.
pub fn mark_done_text(text: &str, id: &str) -> Option<String> {
    mark_done_in_tag(text, id, None)
}

/// `mark_done_text` in the tag Taskmaster works in (`current`, from `current_tag`).
pub fn mark_done_in_tag(text: &str, id: &str, current: Option<&str>) -> Option<String> {
    let root: Value = serde_json::from_str(text).ok()?;
    let (tag, _) = task_list(&root, current);
    let objs = scan(text);
    let range = tag_range(&objs, tag);
    let o = find_obj(&objs, &range, id)?;
    let mut out = String::with_capacity(text.len() + 20);
    match o.fields.iter().find(|(k, _)| k == "status") {
        Some((_, r)) => {
            out.push_str(&text[..r.start]);
            out.push_str("\"done\"");
            out.push_str(&text[r.end..]);
        }
        None => {
            out.push_str(&text[..o.start + 1]);
            out.push_str(" \"status\": \"done\",");
            out.push_str(&text[o.start + 1..]);
        }
    }
    Some(out)
}
