//! T-ID plans (memory-bank/plan/, .artifacts/plan/): `### T001: title` headings with bold fields,
//! tasks as table rows, and plan folders of PLAN.md plus tickets/T001.md.

use super::common::{add_task, heading_tasks, plan_title, table_tasks};
use crate::markdown::Doc;
use crate::model::Plan;
use crate::sections::read_sections;

/// Read a T-ID plan document into `plan`.
pub fn parse(doc: &Doc, plan: &mut Plan) {
    plan.title = plan_title(doc);
    let mut in_task = vec![false; doc.blocks.len()];
    heading_tasks(doc, plan, false, &mut in_task);
    if plan.tasks.is_empty() {
        table_tasks(doc, plan, &mut in_task);
    } else {
        // rows of task tables beside task headings: new ids are tasks too; rows repeating a
        // heading's id are an index of them
        let mut rows = Plan::new(plan.source.clone(), plan.dialect, "single-file");
        let mut row_blocks = vec![false; doc.blocks.len()];
        table_tasks(doc, &mut rows, &mut row_blocks);
        // a task table whose ids are of another family than every id heading (`T-103-01` rows
        // beside `### D-103-01` decisions) is the task list; the headings are notes
        let family = |id: &str| {
            id.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.' || c == '-')
                .to_string()
        };
        let row_families: std::collections::HashSet<String> =
            rows.tasks.iter().map(|t| family(&t.id)).collect();
        if rows.tasks.len() >= 2
            && !plan
                .tasks
                .iter()
                .any(|t| row_families.contains(&family(&t.id)))
        {
            plan.tasks = rows.tasks;
            in_task = row_blocks;
            read_sections(doc, plan, &in_task);
            return;
        }
        let fresh: Vec<_> = rows
            .tasks
            .into_iter()
            .filter(|t| plan.task(&t.id).is_none())
            .collect();
        if !fresh.is_empty() {
            for (m, r) in in_task.iter_mut().zip(&row_blocks) {
                *m |= *r;
            }
            for t in fresh {
                let q = t.quote.clone();
                add_task(plan, t, q);
            }
            plan.tasks.sort_by_key(|t| t.span.offset);
        }
    }
    read_sections(doc, plan, &in_task);
}
