//! A 2 MB plan where every task depends on all earlier ones (issue 24): it must read, check and
//! order without quadratic copies of its dependency lines. No timing asserts; see
//! `cargo run --release -p planexec-plan --example dense_plan` for the measured numbers.

/// `n` tasks, task k depending on tasks 1..k-1 in one Dependencies line.
pub fn dense_plan(n: usize) -> String {
    let mut s = String::from("# Dense plan\n\n");
    for k in 1..=n {
        s.push_str(&format!("### T{k:04}: Task {k}\n\n**Dependencies**: "));
        if k == 1 {
            s.push_str("none");
        }
        for j in 1..k {
            if j > 1 {
                s.push_str(", ");
            }
            s.push_str(&format!("T{j:04}"));
        }
        s.push_str(&format!(
            "\n**Files**: `src/m{k}.rs`\n**Acceptance test**: `cargo test m{k}`\n\n"
        ));
    }
    s
}

#[test]
fn a_dense_two_megabyte_plan_is_read_and_ordered() {
    let text = dense_plan(820);
    assert!(text.len() > 2_000_000, "{} bytes", text.len());
    let plan = planexec_plan::parse_str("dense.md", &text, None).unwrap();
    assert_eq!(plan.tasks.len(), 820);
    assert_eq!(plan.tasks[819].dependencies.len(), 819);
    let diags = planexec_plan::check(&plan);
    assert!(!planexec_plan::has_errors(&diags));
    let waves = planexec_plan::waves(&plan).unwrap();
    assert_eq!(waves.len(), 820);
    let json = planexec_plan::render_check_json(&plan, &diags);
    assert!(json.len() < 200_000_000);
}
