//! T-ID plans (memory-bank/plan/, .artifacts/plan/): `### T001: title` headings with bold fields,
//! tasks as table rows, and plan folders of PLAN.md plus tickets/T001.md.

use super::common::{heading_tasks, plan_title, table_tasks};
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
    }
    read_sections(doc, plan, &in_task);
}
