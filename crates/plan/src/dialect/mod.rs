//! Choosing a dialect (automatically or by `--dialect`) and loading files and plan folders.
//! Each dialect's parser lives in its own module and fills the one model.

pub mod choose;
pub mod common;
pub mod execplan;
pub mod kiro;
pub mod outline;
pub mod planpipe;
pub mod speckit;
pub mod taskmaster;
pub mod tid;
pub mod units;

use std::path::{Path, PathBuf};

use crate::error::PlanError;
use crate::ids::scan_id;
use crate::markdown::{plain, Doc, Kind, Source};
use crate::model::{Dialect, Plan};
use crate::sections::{parse_wave_heading, section_kind, SecKind};

/// Guess the dialect of a document from its content, then its path.
pub fn detect(doc: &Doc) -> Dialect {
    let mut st = 0;
    let mut waves = 0;
    let mut tid = 0;
    let mut numbered = 0;
    let mut numbered_done_when = false;
    let mut speckit = 0;
    let mut boxes = 0;
    let mut exec_markers = 0;
    let mut progress = false;
    let mut status_line = false;
    let mut table_ids = false;
    for b in &doc.blocks {
        match b.kind {
            Kind::Heading(_) => {
                if let Some(h) = common::parse_task_heading(&b.text).filter(|h| !h.loose) {
                    if h.id.starts_with("ST-") {
                        st += 1;
                    } else if !h.numbered {
                        tid += 1;
                    } else {
                        numbered += 1;
                    }
                }
                if parse_wave_heading(&b.text).is_some() {
                    waves += 1;
                }
                let l = plain(&b.text).to_lowercase();
                match section_kind(&b.text) {
                    SecKind::Progress => {
                        progress = true;
                        exec_markers += 1
                    }
                    SecKind::Tolerances | SecKind::ConcreteSteps => exec_markers += 1,
                    _ => {}
                }
                if l.starts_with("purpose")
                    || l.starts_with("decision log")
                    || l.starts_with("surprises")
                    || l.starts_with("outcomes")
                    || l.contains("validation and acceptance")
                    || l.contains("validation & acceptance")
                    || l.starts_with("idempotence")
                {
                    exec_markers += 1;
                }
            }
            Kind::Item {
                checked: Some(_), ..
            } => {
                boxes += 1;
                if scan_id(b.text.trim_start_matches(['*', '`', ' '])).is_some() {
                    speckit += 1;
                }
            }
            Kind::Para => {
                let t = b.text.trim_start_matches(['*', ' ']);
                if t.starts_with("Status:") || t.starts_with("Status**:") {
                    status_line = true;
                }
                if contains_ci(&b.text, "done when") {
                    numbered_done_when = true;
                }
            }
            Kind::Item { .. }
                if b.text
                    .get(..9)
                    .is_some_and(|p| p.eq_ignore_ascii_case("done when")) =>
            {
                numbered_done_when = true;
            }
            Kind::Table => {
                if let Some(h) = b.rows.first() {
                    if h.iter().any(|c| {
                        matches!(
                            plain(c).to_lowercase().as_str(),
                            "id" | "task id" | "task" | "#"
                        )
                    }) {
                        table_ids = true;
                    }
                }
            }
            _ => {}
        }
    }
    if status_line {
        exec_markers += 1;
    }
    // the document says what it is: `# ExecPlan: ...`
    let first = doc.blocks.iter().find(|b| b.heading_level().is_some());
    if first.is_some_and(|b| contains_ci(&b.text, "execplan") || contains_ci(&b.text, "exec plan"))
    {
        exec_markers += 2;
    }
    // the plan's title (its first heading, an H1) is not a task: `# FP-0098 - Title`
    if tid == 1 && first.is_some_and(is_title_task) {
        tid = 0;
    }
    let path = doc.src.path.to_string_lossy().to_lowercase();
    if path.ends_with(".json") {
        return Dialect::Taskmaster;
    }
    // id-led boxes under .kiro/specs are Kiro tasks with their own ids (`M19-T001`)
    if kiro::looks_kiro(doc) && tid == 0 && (speckit == 0 || path.contains(".kiro/specs/")) {
        return Dialect::Kiro;
    }
    if st > 0 || (waves > 0 && tid == 0) {
        return Dialect::Planpipe;
    }
    if progress && exec_markers >= 3 && tid == 0 {
        return Dialect::ExecPlan;
    }
    // id-led checklist lines outnumbering id headings twice over are a task list whose
    // headings only group it (`### Step 2.5 — ...` above `- [ ] T059 ...`)
    if tid > 0 && speckit <= 2 * tid {
        return Dialect::TId;
    }
    // a spec-kit list leads most of its checkboxes with ids; one `- [ ] E2E test suite` among
    // ninety plain checkboxes is a plain checklist
    if speckit > 0 && speckit * 4 >= boxes {
        return Dialect::SpecKit;
    }
    if progress && exec_markers >= 2 {
        return Dialect::ExecPlan;
    }
    if table_ids {
        return Dialect::TId;
    }
    if (numbered_done_when && numbered > 0)
        || path.contains("backlog")
        || path.contains("planpipe")
        || path.contains("subtask")
    {
        return Dialect::Planpipe;
    }
    if path.contains("execplan")
        || path.contains("exec-plan")
        || path.contains("exec_plan")
        || path.contains("/.agent")
        || exec_markers >= 2
    {
        return Dialect::ExecPlan;
    }
    if path.ends_with("tasks.md") {
        return Dialect::SpecKit;
    }
    Dialect::TId
}

/// Whether a heading is the document's title written like a task heading (`# FP-0098 - Title`):
/// an H1 that parses as one.
pub(crate) fn is_title_task(b: &crate::markdown::Block) -> bool {
    b.heading_level() == Some(1) && common::parse_task_heading(&b.text).is_some()
}

/// ASCII case-insensitive substring test without allocating.
fn contains_ci(hay: &str, needle: &str) -> bool {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    h.len() >= n.len() && h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

/// Parse one document in the given dialect, or (none given) in the best of its candidate
/// readings (`choose`).
pub fn parse_doc(doc: &Doc, forced: Option<Dialect>) -> Plan {
    match forced {
        Some(d) => read_as(doc, d),
        None => choose::choose(doc),
    }
}

/// Read one document as the given dialect (the outline reader when that dialect finds nothing).
pub fn read_as(doc: &Doc, dialect: Dialect) -> Plan {
    let mut plan = Plan::new(doc.src.path.clone(), dialect, "single-file");
    plan.front_matter = doc.front_matter.clone();
    match dialect {
        Dialect::TId => tid::parse(doc, &mut plan),
        Dialect::SpecKit => {
            plan.variant = "tasks-md".into();
            speckit::parse(doc, &mut plan)
        }
        Dialect::Planpipe => {
            let v = planpipe::parse(doc, &mut plan);
            plan.variant = v.into();
        }
        Dialect::ExecPlan => {
            plan.variant = "execplan".into();
            execplan::parse(doc, &mut plan)
        }
        Dialect::Kiro => {
            plan.variant = "kiro-spec".into();
            kiro::parse(doc, &mut plan)
        }
        Dialect::Taskmaster => match taskmaster::parse_source(&doc.src) {
            Ok(p) => return p,
            Err(e) => plan.notes.push(crate::diagnostic::Diagnostic::new(
                crate::diagnostic::Severity::Error,
                "not-taskmaster",
                e.to_string(),
                &doc.src.path,
                doc.span(0),
                doc.src.line_text(1),
            )),
        },
    }
    if plan.tasks.is_empty() && outline::parse(doc, &mut plan) {
        plan.variant = "outline".into();
        plan.notes.retain(|n| n.rule != "not-an-execplan");
    }
    plan
}

/// Load a plan file or plan folder.
pub fn load(path: &Path, dialect: Option<Dialect>) -> Result<Plan, PlanError> {
    let meta = std::fs::metadata(path).map_err(|source| PlanError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut plan = if meta.is_dir() {
        load_folder(path, dialect)?
    } else {
        load_file(path, dialect)?
    };
    common::finish(&mut plan);
    Ok(plan)
}

fn load_file(path: &Path, dialect: Option<Dialect>) -> Result<Plan, PlanError> {
    let json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if dialect == Some(Dialect::Taskmaster) || (dialect.is_none() && json) {
        return taskmaster::load(path);
    }
    let doc = Doc::parse(Source::read(path)?)?;
    Ok(parse_doc(&doc, dialect))
}

fn md_files(dir: &Path) -> Result<Vec<PathBuf>, PlanError> {
    let rd = std::fs::read_dir(dir).map_err(|source| PlanError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut v: Vec<PathBuf> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("md")))
        .collect();
    v.sort_by_key(|p| natural_key(p));
    Ok(v)
}

/// Sort key so that st-2 comes before st-10.
fn natural_key(p: &Path) -> (String, u64, String) {
    let stem = p
        .file_stem()
        .map(|s| s.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let digits_at = stem
        .find(|c: char| c.is_ascii_digit())
        .unwrap_or(stem.len());
    let n: String = stem[digits_at..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    (
        stem[..digits_at].to_string(),
        n.parse().unwrap_or(0),
        stem.clone(),
    )
}

fn find_ci(dir: &Path, names: &[&str]) -> Option<PathBuf> {
    let rd = std::fs::read_dir(dir).ok()?;
    let entries: Vec<PathBuf> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    for n in names {
        if let Some(p) = entries.iter().find(|p| {
            p.file_name()
                .is_some_and(|f| f.to_string_lossy().eq_ignore_ascii_case(n))
        }) {
            return Some(p.clone());
        }
    }
    None
}

fn load_folder(dir: &Path, dialect: Option<Dialect>) -> Result<Plan, PlanError> {
    if let Some(tm) = taskmaster::find_in(dir)
        .filter(|_| dialect.is_none() || dialect == Some(Dialect::Taskmaster))
    {
        return taskmaster::load(&tm);
    }
    let subtasks = find_ci(dir, &["subtasks"]).filter(|p| p.is_dir());
    let tickets = find_ci(dir, &["tickets"]).filter(|p| p.is_dir());
    let graph = find_ci(dir, &["dependency-graph.md"]);
    // the subtasks/ folder itself
    let own_subtasks = dir
        .file_name()
        .is_some_and(|n| n.eq_ignore_ascii_case("subtasks") || n.eq_ignore_ascii_case("tickets"));
    // a tickets/ folder's README.md or INDEX.md describes the tickets; it is not the plan
    let main = (!own_subtasks)
        .then(|| {
            find_ci(
                dir,
                &[
                    "PLAN.md",
                    "plan.md",
                    "execution-backlog.md",
                    "tasks.md",
                    "README.md",
                ],
            )
        })
        .flatten();
    if let Some(main) = main {
        let mut plan = load_file(&main, dialect)?;
        if let Some(t) = &tickets {
            merge_folder(&mut plan, t)?;
            plan.variant = "tickets".into();
        }
        if let Some(s) = &subtasks {
            merge_folder(&mut plan, s)?;
            plan.variant = "backlog+subtasks".into();
        }
        if let Some(g) = &graph {
            planpipe::read_graph_file(g, &mut plan)?;
        }
        return Ok(plan);
    }
    if let Some(s) = subtasks
        .clone()
        .or_else(|| own_subtasks.then(|| dir.to_path_buf()))
        .or_else(|| tickets.clone())
    {
        let d = dialect.unwrap_or(
            if s.file_name()
                .is_some_and(|n| n.eq_ignore_ascii_case("tickets"))
            {
                Dialect::TId
            } else {
                Dialect::Planpipe
            },
        );
        let mut plan = Plan::new(dir.to_path_buf(), d, "subtasks");
        plan.title = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut files = md_files(&s)?;
        files.retain(|f| !common::is_index_file(f));
        let settled = settled_folders(&s)?;
        if files.is_empty() && settled.is_empty() {
            return Err(PlanError::NoPlanInFolder {
                path: dir.to_path_buf(),
                looked_for: "subtasks/*.md, or ticket files in state folders (tickets/done/, tickets/building/)".into(),
            });
        }
        for (f, done) in files.into_iter().map(|f| (f, false)).chain(settled) {
            let doc = Doc::parse(Source::read(&f)?)?;
            let mut t = common::ticket_task(&doc, &f);
            t.done |= done;
            let q = doc.quote(t.span.offset);
            common::add_task(&mut plan, t, q);
        }
        let g = graph.or_else(|| {
            s.parent()
                .and_then(|p| find_ci(p, &["dependency-graph.md"]))
        });
        if let Some(g) = g {
            planpipe::read_graph_file(&g, &mut plan)?;
        }
        return Ok(plan);
    }
    let mds = md_files(dir)?;
    if mds.len() == 1 {
        return load_file(&mds[0], dialect);
    }
    Err(PlanError::NoPlanInFolder {
        path: dir.to_path_buf(),
        looked_for: format!(
            "PLAN.md, execution-backlog.md, tasks.md, README.md, a subtasks/ folder, or a single .md file; found {} .md files",
            mds.len()
        ),
    })
}

/// Tickets moved into status folders (`tickets/FIXED/`, `done/`, `closed/`, `archive/`) are done;
/// those in `WONTFIX/`, `cancelled/`, `rejected/`, `duplicate/` are not work and are left out, as
/// are `templates/`; any other folder is a state of open work (`building/`, `backlog/`, `todo/`).
fn settled_folders(dir: &Path) -> Result<Vec<(PathBuf, bool)>, PlanError> {
    const DONE: [&str; 9] = [
        "done",
        "fixed",
        "closed",
        "completed",
        "complete",
        "resolved",
        "shipped",
        "archive",
        "archived",
    ];
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut subs: Vec<PathBuf> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    subs.sort();
    let mut out = Vec::new();
    for sub in subs {
        let name = sub
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        const NOT_WORK: [&str; 9] = [
            "wontfix",
            "cancelled",
            "canceled",
            "rejected",
            "duplicate",
            "duplicates",
            "templates",
            "template",
            "_templates",
        ];
        if NOT_WORK.contains(&name.as_str()) || name.starts_with('.') {
            continue;
        }
        let done = DONE.contains(&name.as_str());
        let files = md_files(&sub)?;
        out.extend(
            files
                .into_iter()
                .filter(|f| !common::is_index_file(f))
                .map(|f| (f, done)),
        );
    }
    Ok(out)
}

fn merge_folder(plan: &mut Plan, dir: &Path) -> Result<(), PlanError> {
    for f in md_files(dir)?.iter().filter(|f| !common::is_index_file(f)) {
        let doc = Doc::parse(Source::read(f)?)?;
        let t = common::ticket_task(&doc, f);
        common::merge_ticket(plan, t);
    }
    Ok(())
}
