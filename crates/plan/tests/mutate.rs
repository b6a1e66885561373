//! A stable-toolchain stand-in for the cargo-fuzz targets: a deterministic mutation loop over
//! the fixtures (byte flips, splices, line shuffles, inserted Markdown tokens), every dialect
//! forced and detected, through parse, check, waves and both renderings. No panic allowed.
//! `PLANEXEC_MUTATIONS=200000 cargo test -p planexec-plan --release --test mutate` runs longer.

use std::path::Path;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const TOKENS: &[&str] = &[
    "\n### T001: ",
    "\n## Task T002 – ",
    "\n- [ ] ",
    "\n- [x] (2026-01-01 10:00Z) ",
    "**Dependencies**: ",
    "T001–T999",
    "\n```\n",
    "\n````\n",
    "\n    ",
    "| ID | Task |\n|---|---|\n| T5 | x |\n",
    "\n---\n",
    "**Wave:** 9",
    "ST-1 ──→ ST-2 [soft]",
    "\n## Progress\n",
    "\n## Tolerances\n- more than 3 files\n",
    "Task 1.1 (x)",
    "\r\n",
    "—",
    "é",
    "🚀",
    "[P] [US1] ",
    "M1 complete",
    "all tasks from Waves 1-4",
    "<none>",
    "\n## 1. ",
    "Done when:\n- ",
    "\u{0}",
];

fn fixtures(dir: &Path, out: &mut Vec<Vec<u8>>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            fixtures(&p, out);
        } else if p.extension().is_some_and(|x| x == "md" || x == "json") {
            out.push(std::fs::read(&p).unwrap());
        }
    }
}

fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(v.len() + 1);
        match rng.below(6) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 if !v.is_empty() => {
                let end = (at + rng.below(64)).min(v.len());
                v.drain(at.min(end)..end);
            }
            2 => {
                let t = TOKENS[rng.below(TOKENS.len())].as_bytes();
                v.splice(at..at, t.iter().copied());
            }
            3 if !other.is_empty() => {
                let a = rng.below(other.len());
                let b = (a + rng.below(400)).min(other.len());
                v.splice(at..at, other[a..b].iter().copied());
            }
            4 => {
                let mut lines: Vec<&[u8]> = v.split(|&c| c == b'\n').collect();
                if lines.len() > 2 {
                    let i = rng.below(lines.len());
                    let j = rng.below(lines.len());
                    lines.swap(i, j);
                }
                v = lines.join(&b'\n');
            }
            _ => {
                let t = TOKENS[rng.below(TOKENS.len())].as_bytes();
                v.extend_from_slice(t);
            }
        }
    }
    v
}

#[test]
fn mutated_fixtures_never_panic() {
    let mut seeds = Vec::new();
    fixtures(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"),
        &mut seeds,
    );
    assert!(seeds.len() >= 15);
    let n: usize = std::env::var("PLANEXEC_MUTATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1500);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut parsed = 0;
    for i in 0..n {
        let a = &seeds[rng.below(seeds.len())];
        let b = &seeds[rng.below(seeds.len())];
        let input = mutate(&mut rng, a, b);
        let Ok(text) = String::from_utf8(input) else {
            continue;
        };
        let forced = if i % 5 == 4 {
            None
        } else {
            Some(planexec_plan::Dialect::ALL[i % planexec_plan::Dialect::ALL.len()])
        };
        let r = std::panic::catch_unwind(|| {
            if let Ok(plan) = planexec_plan::parse_str("m.md", &text, forced) {
                let _ = planexec_plan::render_explain(&plan, None);
                for t in plan.tasks.iter().take(3) {
                    let _ = planexec_plan::dialect::taskmaster::mark_done_text(&text, &t.id);
                }
                let d = planexec_plan::check(&plan);
                let _ = planexec_plan::waves(&plan);
                let _ = planexec_plan::render_check_human(&plan, &d);
                let _ = planexec_plan::render_check_json(&plan, &d);
                true
            } else {
                false
            }
        });
        match r {
            Ok(true) => parsed += 1,
            Ok(false) => {}
            Err(_) => {
                let dump = std::env::temp_dir().join(format!("planexec-mutate-crash-{i}.md"));
                std::fs::write(&dump, &text).unwrap();
                panic!(
                    "mutation {i} panicked (dialect {forced:?}); input saved to {}",
                    dump.display()
                );
            }
        }
    }
    assert!(parsed > n / 3, "only {parsed} of {n} mutations parsed");
}
