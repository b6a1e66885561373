//! planexec-plan: the plan model, its readers (a general outline reader under thin dialect
//! layers: T-ID, spec-kit, planpipe, ExecPlan, Kiro, Taskmaster), `check`, waves, done markers.
//!
//! ```no_run
//! let plan = planexec_plan::load(std::path::Path::new("memory-bank/plan/x.md"), None)?;
//! let diags = planexec_plan::check(&plan);
//! print!("{}", planexec_plan::render_check_human(&plan, &diags));
//! # Ok::<(), planexec_plan::PlanError>(())
//! ```

pub mod budget;
pub mod check;
pub mod deps;
pub mod diagnostic;
pub mod dialect;
pub mod error;
pub mod explain;
pub mod failfirst;
pub mod fields;
pub mod graph;
pub mod ids;
pub mod living;
pub mod markdown;
pub mod model;
pub mod render;
pub mod sections;
pub mod waves;
pub mod words;

pub use check::{check, has_errors, Diagnostic, Severity, RULES};
pub use dialect::{detect, load};
pub use error::PlanError;
pub use explain::render_explain;
pub use living::{mark_done, set_status, tick_progress};
pub use model::{
    DepKind, Dependency, Dialect, Milestone, Plan, Span, Task, Tolerances, UnknownDialect,
    Unreadable,
};
pub use render::{render_check_human, render_check_json};
pub use waves::{waves, CycleError};

/// Parse plan text held in memory (for tests, fuzzing and benchmarks). `name` is used in messages.
pub fn parse_str(name: &str, text: &str, dialect: Option<Dialect>) -> Result<Plan, PlanError> {
    let src = markdown::Source::from_bytes(std::path::Path::new(name), text.as_bytes().to_vec())?;
    let doc = markdown::Doc::parse(src)?;
    let mut plan = dialect::parse_doc(&doc, dialect);
    dialect::common::finish(&mut plan);
    Ok(plan)
}
