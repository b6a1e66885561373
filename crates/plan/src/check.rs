//! `planexec check`: lint rules over a parsed plan, as diagnostics with file:line:column.
//! Errors make the CLI exit 2; warnings alone exit 0.

use std::collections::HashMap;

pub use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{DepKind, Plan, Span};
use crate::waves::waves;

/// The rules, for documentation and `--explain`-style listings: (name, severity, what it finds).
pub const RULES: &[(&str, Severity, &str)] = &[
    ("no-tasks", Severity::Error, "the plan has no tasks (or an ExecPlan has no Progress checkboxes)"),
    ("duplicate-id", Severity::Error, "two different tasks share an id (a warning when the second repeats the first one's title: it is read once)"),
    ("unknown-dependency", Severity::Error, "a Dependencies field, table or graph names an id no task has (a warning when the id is only mentioned in prose; it is then ignored)"),
    ("self-dependency", Severity::Error, "a task depends on itself"),
    ("dependency-cycle", Severity::Error, "dependencies form a cycle; the cycle is spelled out"),
    ("missing-acceptance", Severity::Warning, "a task has no acceptance criteria; only the plan-wide gates and the review judge it"),
    ("missing-files", Severity::Warning, "a task names no files or modules it may touch (not when it says `none`)"),
    ("wave-order", Severity::Warning, "a task's declared wave is not after the wave of a task it depends on; planexec orders by the dependencies (silent inside a wave marked sequential)"),
    ("template-placeholder", Severity::Warning, "a field still holds the template's placeholder (`<task title>`, `<none|T000,T002>`); planexec ignores it"),
    ("file-name", Severity::Warning, "a file name written without backticks that Markdown would mangle (`__main__.py`) or that holds spaces; planexec uses the source text"),
    ("unreadable-tolerance", Severity::Warning, "a tolerance sentence names a limit planexec could not read"),
    ("order-overridden", Severity::Warning, "a stated dependency runs against document or phase order; planexec drops the order-only dependency that would close a cycle"),
    ("dependency-disagreement", Severity::Warning, "the same dependency is stated twice with different kinds"),
    ("unknown-milestone", Severity::Warning, "a task targets a milestone the milestones list does not have"),
    ("status-disagreement", Severity::Warning, "an ExecPlan's Status line disagrees with its checkboxes"),
    ("progress-unlinked", Severity::Warning, "an ExecPlan stage or milestone run as a task has no Progress item naming it, so run cannot tick one"),
    ("generated-ids", Severity::Warning, "the plan gives its tasks no ids; planexec numbered them `P<section>.<item>` in document order"),
    ("unresolved-dependency", Severity::Warning, "a Dependencies field holds words that name no task, phase or milestone; planexec ignores them"),
    ("not-taskmaster", Severity::Error, "a file read as Taskmaster JSON is not valid JSON or has no tasks list"),
    ("not-an-execplan", Severity::Error, "a file read as an ExecPlan has no Progress checkboxes and no steps, stages or milestones to run"),
];

/// Run every rule over the plan. Diagnostics come sorted by file, line and column.
pub fn check(plan: &Plan) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = plan.notes.clone();
    out.extend(plan.tasks.iter().flat_map(|t| t.notes.iter().cloned()));
    let file_of = |t: &crate::model::Task| t.source.clone();

    if plan.tasks.is_empty() && !out.iter().any(|d| d.rule == "not-an-execplan") {
        out.push(Diagnostic::new(
            Severity::Error,
            "no-tasks",
            format!(
                "no tasks found in this {} plan: planexec looked for task headings (`### <id>: title`, `## 1. Title`), checkbox items (`- [ ] ...`), numbered lists, table rows with an ID column, bold ids (`**<id>** Title`) and bullets under Tasks / Phase / Stage / Epic / Milestone headings, and found none; add {}",
                plan.dialect,
                no_tasks_hint(plan)
            ),
            &plan.source,
            Span {
                line: 1,
                column: 1,
                offset: 0,
            },
            "",
        ));
    }

    for (id, file, span, quote, same) in &plan.duplicates {
        let first = plan
            .task(id)
            .map(|t| format!("{}:{}", t.source.display(), t.line))
            .unwrap_or_default();
        let (severity, message) = if *same {
            (Severity::Warning, format!("task {id} is stated again with the same title (first at {first}); planexec reads it once, from the first"))
        } else {
            (Severity::Error, format!("task id {id} is used twice (first at {first}) for different tasks; give each task its own id"))
        };
        out.push(Diagnostic::new(
            severity,
            "duplicate-id",
            message,
            file,
            *span,
            quote,
        ));
    }

    let index: HashMap<&str, usize> = plan
        .tasks
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id.as_str(), i))
        .collect();
    let families: std::collections::HashSet<&str> =
        plan.tasks.iter().map(|t| id_family(&t.id)).collect();
    let plan_wide = !plan.success_criteria.is_empty() || !plan.final_gates.is_empty();
    let any_files = plan.tasks.iter().any(|t| !t.files.is_empty());
    let milestone_ids: Vec<&str> = plan.milestones.iter().map(|m| m.id.as_str()).collect();

    for t in &plan.tasks {
        let file = file_of(t);
        for d in &t.dependencies {
            let dfile = d.file.clone().unwrap_or_else(|| file.clone());
            if d.id == t.id {
                out.push(Diagnostic::new(
                    Severity::Error,
                    "self-dependency",
                    format!("task {} depends on itself", t.id),
                    &dfile,
                    d.span,
                    &d.quote,
                ));
            } else if !index.contains_key(d.id.as_str()) {
                let foreign = !families.contains(id_family(&d.id));
                let (severity, message) = if foreign {
                    (Severity::Warning, format!(
                        "task {} depends on {}, a record of another id family ({}) than every task in this plan (a decision or requirement, not work planexec runs); planexec ignores it",
                        t.id, d.id, id_family(&d.id)
                    ))
                } else {
                    (
                        Severity::Error,
                        format!(
                            "task {} depends on {}, which no task in this plan has as its id",
                            t.id, d.id
                        ),
                    )
                };
                out.push(Diagnostic::new(
                    severity,
                    "unknown-dependency",
                    message,
                    &dfile,
                    d.span,
                    &d.quote,
                ));
            }
        }
        if t.acceptance.is_empty()
            && t.acceptance_commands.is_empty()
            && plan.dialect != crate::model::Dialect::ExecPlan
        {
            let msg = if plan_wide || plan.dialect == crate::model::Dialect::SpecKit {
                format!("task {} has no acceptance criteria of its own; only the plan-wide criteria apply", t.id)
            } else {
                format!(
                    "task {} has no acceptance criteria; planexec will judge it by the quality gates and the review alone; {}",
                    t.id,
                    acceptance_hint(plan)
                )
            };
            out.push(Diagnostic::new(
                Severity::Warning,
                "missing-acceptance",
                msg,
                &file,
                t.span,
                &heading_quote(plan, t),
            ));
        }
        let files_stated = t.field_spans.contains_key("files");
        if t.files.is_empty()
            && !files_stated
            && (plan.dialect != crate::model::Dialect::ExecPlan || any_files)
        {
            out.push(Diagnostic::new(
                Severity::Warning,
                "missing-files",
                format!(
                    "task {} names no files or modules it may touch; the task review cannot check its scope (WEAK by default)",
                    t.id
                ),
                &file,
                t.span,
                &heading_quote(plan, t),
            ));
        }
        if let Some(w) = t.wave {
            for d in &t.dependencies {
                if !d.kind.orders() {
                    continue;
                }
                if let Some(&j) = index.get(d.id.as_str()) {
                    if let Some(dw) = plan.tasks[j].wave {
                        let sequential = dw == w && plan.sequential_waves.contains(&w);
                        if dw >= w && !sequential {
                            out.push(Diagnostic::new(
                                Severity::Warning,
                                "wave-order",
                                format!(
                                    "task {} is in wave {w} but depends ({}) on {} in wave {dw}; planexec runs {} first and {} after it, whatever the wave numbers say",
                                    t.id,
                                    d.kind.name(),
                                    d.id,
                                    d.id,
                                    t.id
                                ),
                                &d.file.clone().unwrap_or_else(|| file.clone()),
                                d.span,
                                &d.quote,
                            ));
                        }
                    }
                }
            }
        }
        if let Some(m) = &t.milestone {
            let key = m.split([':', ' ']).next().unwrap_or(m);
            if !milestone_ids.is_empty()
                && crate::ids::is_milestone_id(key)
                && !milestone_ids.contains(&key)
            {
                let span = t.field_spans.get("milestone").copied().unwrap_or(t.span);
                out.push(Diagnostic::new(
                    Severity::Warning,
                    "unknown-milestone",
                    format!(
                        "task {} targets milestone {key}, which the milestones list does not have",
                        t.id
                    ),
                    &file,
                    span,
                    m,
                ));
            }
        }
    }

    if let Err(e) = waves(plan) {
        let first = e.cycle.first().and_then(|id| plan.task(id));
        let (file, span, quote) = match first {
            Some(t) => {
                let next = e.cycle.get(1).cloned().unwrap_or_default();
                match t.dependencies.iter().find(|d| d.id == next) {
                    Some(d) => (
                        d.file.clone().unwrap_or_else(|| t.source.clone()),
                        d.span,
                        d.quote.to_string(),
                    ),
                    None => (t.source.clone(), t.span, heading_quote(plan, t)),
                }
            }
            None => (plan.source.clone(), Span::default(), String::new()),
        };
        out.push(Diagnostic::new(
            Severity::Error,
            "dependency-cycle",
            format!(
                "dependency cycle: {}; remove one of these dependencies",
                e.cycle.join(" -> ")
            ),
            &file,
            span,
            &quote,
        ));
    }

    for u in &plan.tolerances.unreadable {
        out.push(Diagnostic::new(
            Severity::Warning,
            "unreadable-tolerance",
            format!(
                "could not read a number from this tolerance: \"{}\"",
                u.text
            ),
            &plan.source,
            u.span,
            &u.text,
        ));
    }

    out.sort_by(|a, b| {
        (&a.file, a.line, a.column, a.rule).cmp(&(&b.file, b.line, b.column, b.rule))
    });
    out.dedup();
    out
}

/// How to add tasks, in the words of the plan's dialect and layout.
fn no_tasks_hint(plan: &Plan) -> &'static str {
    use crate::model::Dialect;
    match (plan.dialect, plan.variant.as_str()) {
        (Dialect::TId, "tickets") => "ticket files such as `tickets/T001.md` with a `# T001: title` heading",
        (Dialect::TId, _) => "task headings such as `### T001: title`",
        (Dialect::SpecKit, _) => "checklist lines such as `- [ ] T001 Description in path/to/file`",
        (Dialect::Planpipe, "raw-list") => "numbered task headings such as `## 1. title` with a `Done when:` list",
        (Dialect::Planpipe, "subtasks") => "subtask files such as `subtasks/ST-1.md` with a `# ST-1: title` heading",
        (Dialect::Planpipe, _) => {
            "subtask headings such as `### ST-1: title`, or numbered ones such as `## 1. title` with a `Done when:` list"
        }
        (Dialect::ExecPlan, _) => "`- [ ]` items under `## Progress`",
        (Dialect::Kiro, _) => "numbered checkboxes such as `- [ ] 1. Title`",
        (Dialect::Taskmaster, _) => "objects in the \"tasks\" list with an id and a title",
    }
}

/// How to add acceptance criteria, in the words of the plan's dialect.
fn acceptance_hint(plan: &Plan) -> &'static str {
    use crate::model::Dialect;
    match (plan.dialect, plan.variant.as_str()) {
        (Dialect::Planpipe, "raw-list") => "add a `Done when:` list under the task",
        (Dialect::Planpipe, _) => "add a **Completion Criteria** list of `- [ ]` items",
        (Dialect::SpecKit, _) => "add a `**Checkpoint**:` line to its phase",
        (Dialect::ExecPlan, _) => "add a `Validation:` line to the step",
        (Dialect::Kiro, _) => "add a `_Verify: ..._` line under the task",
        (Dialect::Taskmaster, _) => "fill in its \"testStrategy\"",
        (Dialect::TId, "tickets") => "add an **Acceptance test** line to its ticket",
        (Dialect::TId, _) => "add an **Acceptance test** line",
    }
}

fn heading_quote(_plan: &Plan, t: &crate::model::Task) -> String {
    if !t.quote.is_empty() {
        t.quote.clone()
    } else if t.title.is_empty() {
        t.id.clone()
    } else {
        format!("{}: {}", t.id, t.title)
    }
}

/// Whether any diagnostic is an error (the CLI exits 2 then).
pub fn has_errors(diags: &[Diagnostic]) -> bool {
    diags.iter().any(|d| d.severity == Severity::Error)
}

#[allow(dead_code)]
fn _kinds_used(k: DepKind) -> bool {
    k.orders()
}

/// The letters an id starts with, its family: `DEC-` for `DEC-016`, `T` for `T001`, empty for
/// `1.2`. A dependency on a family no task has names another kind of record.
fn id_family(id: &str) -> &str {
    let n = id.find(|c: char| c.is_ascii_digit()).unwrap_or(id.len());
    &id[..n]
}
