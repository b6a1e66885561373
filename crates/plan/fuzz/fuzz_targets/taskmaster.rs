//! Fuzz the taskmaster dialect parser: parse, check, waves and both renderings must never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use planexec_plan::Dialect;

fuzz_target!(|data: &[u8]| {
    planexec_plan_fuzz_common(data, Dialect::Taskmaster);
});

fn planexec_plan_fuzz_common(data: &[u8], dialect: Dialect) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for forced in [Some(dialect), None] {
        if let Ok(plan) = planexec_plan::parse_str("tasks.json", text, forced) {
            let diags = planexec_plan::check(&plan);
            let _ = planexec_plan::waves(&plan);
            let _ = planexec_plan::render_check_human(&plan, &diags);
            let _ = planexec_plan::render_check_json(&plan, &diags);
            let _ = planexec_plan::render_explain(&plan, None);
            for t in plan.tasks.iter().take(4) {
                let _ = planexec_plan::dialect::taskmaster::mark_done_text(text, &t.id);
            }
        }
    }
}
