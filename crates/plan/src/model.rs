//! The plan model: one set of types every dialect parser fills in.
//! It is what `planexec check --format json` prints and what the engine consumes.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Serialize;

pub use crate::diagnostic::Span;

/// The plan formats planexec reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Dialect {
    /// T-ID plans (memory-bank/plan/, .artifacts/plan/), with or without a tickets/ folder.
    #[serde(rename = "t-id")]
    TId,
    /// spec-kit tasks.md checklists (`- [ ] T001 [P] [US1] ...`).
    #[serde(rename = "spec-kit")]
    SpecKit,
    /// planpipe backlogs: execution-backlog.md, a subtasks/ folder, or a raw numbered list.
    #[serde(rename = "planpipe")]
    Planpipe,
    /// ExecPlans: living documents whose Progress checkboxes are the tasks.
    #[serde(rename = "execplan")]
    ExecPlan,
    /// Kiro specs: `.kiro/specs/<feature>/tasks.md` with `- [ ] 1. Title` and nested `- [ ] 1.1`.
    #[serde(rename = "kiro")]
    Kiro,
    /// Taskmaster: `.taskmaster/tasks/tasks.json` (tagged or not), legacy `tasks/tasks.json`.
    #[serde(rename = "taskmaster")]
    Taskmaster,
}

impl Dialect {
    /// All dialects, in detection-priority order.
    pub const ALL: [Dialect; 6] = [
        Dialect::TId,
        Dialect::SpecKit,
        Dialect::Planpipe,
        Dialect::ExecPlan,
        Dialect::Kiro,
        Dialect::Taskmaster,
    ];

    /// The name used by `--dialect` and in the JSON model.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::TId => "t-id",
            Dialect::SpecKit => "spec-kit",
            Dialect::Planpipe => "planpipe",
            Dialect::ExecPlan => "execplan",
            Dialect::Kiro => "kiro",
            Dialect::Taskmaster => "taskmaster",
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The `--dialect` value was not one of the known names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown dialect `{0}`: expected one of t-id, spec-kit, planpipe, execplan, kiro, taskmaster"
)]
pub struct UnknownDialect(pub String);

impl FromStr for Dialect {
    type Err = UnknownDialect;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm: String = s
            .trim()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        match norm.as_str() {
            "tid" | "t" | "memorybank" | "artifacts" => Ok(Dialect::TId),
            "speckit" | "spec" => Ok(Dialect::SpecKit),
            "planpipe" | "backlog" | "pp" => Ok(Dialect::Planpipe),
            "execplan" | "execplans" | "exec" => Ok(Dialect::ExecPlan),
            "kiro" => Ok(Dialect::Kiro),
            "taskmaster" | "tm" => Ok(Dialect::Taskmaster),
            _ => Err(UnknownDialect(s.to_string())),
        }
    }
}

/// How a dependency constrains order (planpipe's dependency types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DepKind {
    /// The dependency must be done first (the default).
    Blocking,
    /// Nice to have first; does not order waves.
    Soft,
    /// Must come after, for ordering reasons only (orders waves like blocking).
    Sequencing,
    /// Shares files or resources with the other task: never in parallel with it.
    Shared,
}

impl DepKind {
    pub fn name(self) -> &'static str {
        match self {
            DepKind::Blocking => "blocking",
            DepKind::Soft => "soft",
            DepKind::Sequencing => "sequencing",
            DepKind::Shared => "shared",
        }
    }

    /// Whether this kind orders execution waves.
    pub fn orders(self) -> bool {
        matches!(self, DepKind::Blocking | DepKind::Sequencing)
    }

    /// Recognise a kind word (`blocking`, `soft`, `sequencing`, `shared`, and a few synonyms).
    pub fn from_word(w: &str) -> Option<DepKind> {
        let w = w
            .trim()
            .trim_matches(|c: char| !c.is_alphanumeric())
            .to_ascii_lowercase();
        match w.as_str() {
            "blocking" | "blocker" | "blocks" | "hard" | "required" => Some(DepKind::Blocking),
            "soft" | "optional" | "weak" | "nice-to-have" => Some(DepKind::Soft),
            "sequencing" | "sequence" | "sequential" | "order" | "ordering" => {
                Some(DepKind::Sequencing)
            }
            "shared" | "shares" | "conflict" | "file-conflict" => Some(DepKind::Shared),
            _ => None,
        }
    }
}

/// One dependency of a task on another task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dependency {
    /// The id of the task depended upon (as written, after range and group expansion).
    pub id: String,
    pub kind: DepKind,
    /// Where the dependency was stated.
    pub span: Span,
    /// The file it was stated in (the plan, a ticket, or dependency-graph.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// The source text it was read from (shared by every id one line names).
    #[serde(serialize_with = "ser_shared")]
    pub quote: std::sync::Arc<str>,
    /// Read from running prose (a spec-kit line's "depends on ..."), not from a Dependencies
    /// field, table or graph: an unknown id there is a warning and is dropped, not an error.
    #[serde(skip)]
    pub prose: bool,
}

/// A shared quote serialised as a plain string (without serde's `rc` feature).
fn ser_shared<S: serde::Serializer>(q: &std::sync::Arc<str>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(q)
}

/// A milestone (M1..Mn, `### Milestone 2: ...`, a spec-kit phase or ExecPlan stage).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Milestone {
    pub id: String,
    pub title: String,
    pub span: Span,
}

/// Escalation thresholds. Any may be absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tolerances {
    pub max_files: Option<u32>,
    pub max_net_lines: Option<u32>,
    pub max_attempts: Option<u32>,
    pub max_minutes: Option<u64>,
    /// The sentence each number was read from.
    pub max_files_source: Option<String>,
    pub max_net_lines_source: Option<String>,
    pub max_attempts_source: Option<String>,
    pub max_minutes_source: Option<String>,
    /// Run-wide budgets ("budget: $5", "at most 200k tokens", "the whole run: no more
    /// than 2 hours"): cost in US cents, tokens in and out, minutes of the whole run.
    pub max_cost_cents: Option<u64>,
    pub max_tokens: Option<u64>,
    pub max_run_minutes: Option<u64>,
    pub max_cost_source: Option<String>,
    pub max_tokens_source: Option<String>,
    pub max_run_minutes_source: Option<String>,
    /// Red before green for this plan's tasks ("red before green: off", "new tests must
    /// fail first: weak"): `fail`, `weak` or `off`; over planexec.toml's `[review]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tests_must_fail_first: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tests_must_fail_first_source: Option<String>,
    /// Tolerances without a number (interface, dependencies, ambiguity...), as written.
    pub other: Vec<String>,
    /// Sentences that look like a numeric tolerance but could not be read.
    pub unreadable: Vec<Unreadable>,
}

/// A tolerance sentence that could not be read, with its position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unreadable {
    pub text: String,
    pub span: Span,
}

/// One unit of work.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Task {
    pub id: String,
    pub title: String,
    pub summary: String,
    /// The task's Markdown source, heading excluded.
    pub body: String,
    pub dependencies: Vec<Dependency>,
    pub wave: Option<u32>,
    pub milestone: Option<String>,
    /// Acceptance criteria as text.
    pub acceptance: Vec<String>,
    /// The runnable commands among (or inside) the acceptance criteria.
    pub acceptance_commands: Vec<String>,
    pub files: Vec<String>,
    pub out_of_scope: Vec<String>,
    pub steps: Vec<String>,
    /// Marked parallel-safe (spec-kit `[P]`).
    pub parallel: bool,
    /// Already ticked / marked done in the plan.
    pub done: bool,
    /// Labels such as spec-kit user stories (`US1`).
    pub tags: Vec<String>,
    /// ExecPlan progress stamp as written (`2025-10-01 13:00Z`), if any.
    pub stamp: Option<String>,
    /// For an ExecPlan stage or milestone: the text of the Progress item `run` ticks for it
    /// (at `line`), when the Progress section has one that names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<String>,
    /// Every Progress item tied to this task (line, text), when there are several (an ExecPlan
    /// stage named by more than one item): `run` ticks them all.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub progress_lines: Vec<(u32, String)>,
    /// The file the task was read from (the plan, or a ticket / subtask file).
    pub source: PathBuf,
    /// Position of the task's heading (or checklist line / table row).
    pub span: Span,
    /// 1-based line of the heading or checklist line; for ExecPlans the Progress line to tick.
    pub line: u32,
    /// Position of each field, keyed by field name (summary, dependencies, acceptance, files, ...).
    pub field_spans: BTreeMap<String, Span>,
    /// What made this a task, for `check --explain`: "task heading", "table row", "Progress item"...
    #[serde(skip)]
    pub origin: &'static str,
    /// The source line of the heading, for quoting in diagnostics.
    #[serde(skip)]
    pub(crate) quote: String,
    /// Problems noticed while reading this task's fields (mangled file names, placeholders).
    #[serde(skip)]
    pub(crate) notes: Vec<crate::diagnostic::Diagnostic>,
}

/// A parsed plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub title: String,
    /// The plan file (for a folder: its main file, or the folder itself for a subtasks/ folder).
    pub source: PathBuf,
    pub dialect: Dialect,
    /// Which layout of the dialect: single-file, tickets, tasks-md, backlog, subtasks, raw-list, execplan.
    pub variant: String,
    pub front_matter: serde_json::Value,
    /// ExecPlan `Status:` line (or front matter status), as written.
    pub status: Option<String>,
    pub milestones: Vec<Milestone>,
    pub constraints: Vec<String>,
    pub tolerances: Tolerances,
    pub risks: Vec<String>,
    /// Plan-wide quality gate commands, run after the last task.
    pub final_gates: Vec<String>,
    pub success_criteria: Vec<String>,
    pub tasks: Vec<Task>,
    /// Which candidate reading was chosen and why (and the runner-up when close); `None` when
    /// the dialect was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reading: Option<String>,
    /// Problems noticed while parsing (as diagnostics, reported by `check`).
    #[serde(skip)]
    pub(crate) notes: Vec<crate::diagnostic::Diagnostic>,
    /// Ids stated in several places (duplicates), kept for `check`: id, file, span, quote, and
    /// whether the second statement repeats the first one's title (the same task twice).
    #[serde(skip)]
    pub(crate) duplicates: Vec<(String, PathBuf, Span, String, bool)>,
    /// Ids of `tasks`, for constant-time duplicate checks while parsing.
    #[serde(skip)]
    pub(crate) ids: std::collections::HashSet<String>,
    /// Waves the author marked sequential: dependencies inside such a wave are expected.
    #[serde(skip)]
    pub(crate) sequential_waves: Vec<u32>,
}

impl Plan {
    pub(crate) fn new(source: PathBuf, dialect: Dialect, variant: &str) -> Plan {
        Plan {
            title: String::new(),
            source,
            dialect,
            variant: variant.to_string(),
            front_matter: serde_json::Value::Null,
            status: None,
            milestones: Vec::new(),
            constraints: Vec::new(),
            tolerances: Tolerances::default(),
            risks: Vec::new(),
            final_gates: Vec::new(),
            success_criteria: Vec::new(),
            tasks: Vec::new(),
            reading: None,
            notes: Vec::new(),
            duplicates: Vec::new(),
            ids: std::collections::HashSet::new(),
            sequential_waves: Vec::new(),
        }
    }

    /// Whether the author marked wave `wave` sequential (`## Wave 2 (sequential)`):
    /// its tasks never run at once.
    pub fn is_sequential_wave(&self, wave: u32) -> bool {
        self.sequential_waves.contains(&wave)
    }

    /// The folder the plan lives in (for a plan folder, that folder).
    pub fn plan_root(&self) -> &Path {
        if self.source.is_dir() {
            &self.source
        } else {
            self.source.parent().unwrap_or_else(|| Path::new("."))
        }
    }

    /// The plan's path relative to its plan folder's parent, with `/` separators:
    /// `plan/2026-11-20_auth.md` for `memory-bank/plan/2026-11-20_auth.md`.
    pub fn refs_path(&self) -> String {
        let mut parts: Vec<String> = self
            .source
            .components()
            .filter_map(|c| match c {
                std::path::Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect();
        if parts.len() > 2 {
            parts.drain(..parts.len() - 2);
        }
        parts.join("/")
    }

    /// A short slug of the plan: its file stem (or folder name) without a leading date,
    /// falling back to the title. `2026-11-20_auth.md` gives `auth`.
    pub fn topic(&self) -> String {
        let stem = if self.source.is_dir() {
            self.source.file_name()
        } else {
            let s = self.source.file_stem();
            match s.map(|s| s.to_string_lossy().to_ascii_lowercase()) {
                Some(n)
                    if ["plan", "tasks", "readme", "execution-backlog", "index"]
                        .contains(&n.as_str()) =>
                {
                    self.source.parent().and_then(|p| p.file_name()).or(s)
                }
                _ => s,
            }
        };
        let raw = stem
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let raw = strip_date_prefix(&raw);
        let slug = slugify(raw);
        if slug.is_empty() {
            let t = slugify(&self.title);
            if t.is_empty() {
                "plan".to_string()
            } else {
                t
            }
        } else {
            slug
        }
    }

    /// The task with this id, if any.
    pub fn task(&self, id: &str) -> Option<&Task> {
        self.tasks.iter().find(|t| t.id == id)
    }
}

fn strip_date_prefix(s: &str) -> &str {
    // 2026-11-20_auth, 2026-11-20-auth, 2026-11-20_14-03-22_auth
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'-' || b[i] == b'_') {
        i += 1;
    }
    let digits = s[..i].bytes().filter(|c| c.is_ascii_digit()).count();
    if digits >= 6 && i < b.len() {
        &s[i..]
    } else {
        s
    }
}

/// Lowercase ASCII slug: letters and digits, runs of anything else become one `-`, at most 48 chars.
pub fn slugify(s: &str) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c.to_ascii_lowercase());
        } else {
            dash = true;
        }
        if out.len() >= 48 {
            break;
        }
    }
    out
}
