//! Write the dense benchmark plan (every task depends on all earlier ones) to a file, for
//! `/usr/bin/time -v planexec check FILE`: `cargo run -p planexec-plan --example dense_plan -- FILE [N]`.

#[path = "../tests/dense.rs"]
#[allow(dead_code)]
mod dense;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| "dense-plan.md".into());
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(820);
    let text = dense::dense_plan(n);
    std::fs::write(&path, &text).expect("write the plan");
    eprintln!("{path}: {n} tasks, {} bytes", text.len());
    let t = std::time::Instant::now();
    let plan = planexec_plan::parse_str(&path, &text, None).expect("parse");
    let parsed = t.elapsed();
    let diags = planexec_plan::check(&plan);
    let checked = t.elapsed();
    let waves = planexec_plan::waves(&plan).map(|w| w.len()).unwrap_or(0);
    let human = planexec_plan::render_check_human(&plan, &diags);
    let shown = t.elapsed();
    eprintln!(
        "parse {parsed:?}, +check {:?}, +waves and human output {:?}: {waves} waves, {} bytes shown",
        checked - parsed,
        shown - checked,
        human.len()
    );
    if std::env::var_os("DENSE_JSON").is_some() {
        let json = planexec_plan::render_check_json(&plan, &diags);
        eprintln!("+json {:?}: {} bytes", t.elapsed() - shown, json.len());
    }
}
