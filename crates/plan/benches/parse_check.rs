//! Benchmark: parse and check a generated 1,000-task T-ID plan.
//! Run with `cargo bench -p planexec-plan --bench parse_check` (set CARGO_TARGET_DIR as usual).
//! Prints the median and worst time of parse+check+waves over 30 runs, the peak heap
//! (a counting global allocator) and the process's peak RSS (VmHWM from /proc).
//! Targets: under 20 ms and under 50 MB.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

struct Counting;
static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static COUNTING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(l) };
        if !p.is_null() && COUNTING.load(Ordering::Relaxed) {
            let now = CURRENT.fetch_add(l.size(), Ordering::Relaxed) + l.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) };
        if COUNTING.load(Ordering::Relaxed) {
            CURRENT.fetch_sub(l.size(), Ordering::Relaxed);
        }
    }
}

#[global_allocator]
static A: Counting = Counting;

/// A realistic plan: front matter, milestones, 1,000 tasks with every field, gates, risks.
fn generate(n: usize) -> String {
    let mut s = String::from("---\ntitle: \"Generated plan\"\nowner: bench\n---\n\n# Generated plan\n\n## Milestones\n\n");
    for m in 1..=10 {
        s.push_str(&format!("- M{m}: milestone {m}\n"));
    }
    s.push_str("\n## Tolerances\n\n- Scope: more than 40 files or 2500 net lines\n- Iterations: after 3 attempts\n- Time: more than 8 hours\n\n## Tasks\n\n");
    for i in 1..=n {
        let deps = match i {
            1 => "none".to_string(),
            _ if i % 10 == 1 => format!("T{:04}–T{:04}", i - 10, i - 1),
            _ => format!("T{:04}, T{:04} (setup)", i - 1, (i / 2).max(1)),
        };
        s.push_str(&format!(
            "### T{i:04}: Task number {i}\n\n**Summary**: Implement part {i} of the feature with care.\n**Dependencies**: {deps}\n**Target milestone**: M{}\n**Acceptance test**: `python3 -m pytest -q tests/test_part_{i}.py`\n**Files/modules touched**: `src/part_{i}.py`, `tests/test_part_{i}.py`\n\n**Steps**:\n1. Write the failing test.\n2. Implement `part_{i}`.\n\n",
            (i - 1) * 10 / n + 1
        ));
    }
    s.push_str("## Quality Gates\n\n```bash\npytest\nmypy src/\n```\n\n## Risks\n\n- none\n");
    s
}

fn vm_hwm_kb() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let l = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    l.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let text = generate(1000);
    let mut times: Vec<Duration> = Vec::new();
    let mut tasks = 0;
    let mut n_waves = 0;
    let mut n_diags = 0;
    for _ in 0..30 {
        let t = Instant::now();
        let plan = planexec_plan::parse_str("generated.md", &text, None).expect("parses");
        let diags = planexec_plan::check(&plan);
        let w = planexec_plan::waves(&plan).expect("no cycle");
        times.push(t.elapsed());
        tasks = plan.tasks.len();
        n_waves = w.len();
        n_diags = diags.len();
    }
    // one more run with the counting allocator on, for the peak heap
    COUNTING.store(true, Ordering::Relaxed);
    {
        let plan = planexec_plan::parse_str("generated.md", &text, None).expect("parses");
        let diags = planexec_plan::check(&plan);
        let _ = planexec_plan::waves(&plan);
        let _ = planexec_plan::render_check_json(&plan, &diags);
    }
    COUNTING.store(false, Ordering::Relaxed);
    let peak_heap = PEAK.load(Ordering::Relaxed);
    times.sort();
    let median = times[times.len() / 2];
    let worst = times[times.len() - 1];
    println!(
        "plan: {} bytes, {tasks} tasks, {n_waves} waves, {n_diags} diagnostics",
        text.len()
    );
    println!(
        "parse+check+waves: median {:.2} ms, best {:.2} ms, worst {:.2} ms (30 runs)",
        ms(median),
        ms(times[0]),
        ms(worst)
    );
    println!(
        "peak heap during parse+check+waves+JSON: {:.1} MB (plan text excluded)",
        peak_heap as f64 / 1e6
    );
    if let Some(kb) = vm_hwm_kb() {
        println!("process peak RSS (VmHWM): {:.1} MB", kb as f64 / 1024.0);
    }
    // where the time goes (one run each, after warm-up)
    let t = Instant::now();
    let src = planexec_plan::markdown::Source::new("generated.md".into(), text.clone());
    let doc = planexec_plan::markdown::Doc::parse(src).unwrap();
    let t_md = t.elapsed();
    let t = Instant::now();
    let _ = planexec_plan::dialect::detect(&doc);
    let t_detect = t.elapsed();
    let t = Instant::now();
    let mut plan = planexec_plan::dialect::parse_doc(&doc, Some(planexec_plan::Dialect::TId));
    let t_parse = t.elapsed();
    let t = Instant::now();
    planexec_plan::dialect::common::finish(&mut plan);
    let t_finish = t.elapsed();
    let t = Instant::now();
    let _ = planexec_plan::check(&plan);
    let t_check = t.elapsed();
    println!(
        "phases: markdown {:.2} ms, detect {:.2} ms, dialect {:.2} ms, resolve {:.2} ms, check+waves {:.2} ms",
        ms(t_md), ms(t_detect), ms(t_parse), ms(t_finish), ms(t_check)
    );
    let ok = median < Duration::from_millis(20) && peak_heap < 50_000_000;
    println!(
        "target (< 20 ms, < 50 MB): {}",
        if ok { "met" } else { "MISSED" }
    );
    assert_eq!(tasks, 1000);
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
