//! `planexec check PLAN`: lint a plan and show its execution waves, or draw its dependency
//! graph (`--format mermaid|dot`); `--explain [TASK]` shows where each task and field was read from.

use super::{exit, report_error, CheckFormat as Format};
use planexec_plan as plan;
use std::path::Path;

pub fn run(path: &Path, dialect: Option<&str>, format: Format, explain: Option<&str>) -> i32 {
    let dialect = match dialect.map(str::parse::<plan::Dialect>).transpose() {
        Ok(d) => d,
        Err(e) => {
            report_error(&e);
            return exit::USAGE;
        }
    };
    let root = super::current_dir()
        .map(|cwd| {
            planexec_vcs::Repo::discover(&cwd)
                .map(|r| r.workdir().to_path_buf())
                .unwrap_or(cwd)
        })
        .unwrap_or_default();
    if let Err(e) = crate::input::check_links_inside(path, &root) {
        report_error(&e);
        return exit::USAGE;
    }
    let p = match plan::load(path, dialect) {
        Ok(p) => p,
        Err(e) => {
            report_error(&e);
            return exit::USAGE;
        }
    };
    let diags = plan::check(&p);
    if let Some(only) = explain {
        return explain_tasks(&p, (!only.is_empty()).then_some(only));
    }
    match format {
        Format::Human => print!(
            "{}",
            crate::text::untrusted(&plan::render_check_human(&p, &diags))
        ),
        Format::Json => println!("{}", plan::render_check_json(&p, &diags)),
        Format::Mermaid | Format::Dot => {
            let drawn = if format == Format::Dot {
                plan::graph::dot(&p)
            } else {
                plan::graph::mermaid(&p)
            };
            match drawn {
                Ok(text) => print!("{}", crate::text::untrusted(&text)),
                Err(e) => {
                    report_error(&e);
                    return exit::USAGE;
                }
            }
        }
    }
    if plan::has_errors(&diags) {
        exit::USAGE
    } else {
        exit::OK
    }
}

/// `--explain [TASK]`: provenance of each task's reading; exit 2 for an unknown TASK.
fn explain_tasks(p: &plan::Plan, only: Option<&str>) -> i32 {
    match plan::render_explain(p, only) {
        Ok(text) => {
            print!("{}", crate::text::untrusted(&text));
            exit::OK
        }
        Err(e) => {
            report_error(&e);
            exit::USAGE
        }
    }
}
