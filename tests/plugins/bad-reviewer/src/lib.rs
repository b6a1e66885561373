//! A reviewer that never judges, chosen by its config's `mode`: `loop` spins
//! until the host stops it, `panic` traps, `error` returns an error. The e2e
//! review tests check that each blocks the task as errored and never passes it.
//! Any other mode (or none) panics too: this reviewer never approves.

wit_bindgen::generate!({ world: "reviewer", path: "../../../wit" });

use exports::planexec::plugin::reviewer_plugin::{Guest, ReviewRequest};
use planexec::plugin::types::Review;

fn mode(config: &str) -> String {
    // Tiny extraction of "mode":"x" so the plugin needs no JSON crate.
    config
        .split("\"mode\"")
        .nth(1)
        .and_then(|r| r.split('"').nth(1))
        .unwrap_or("")
        .to_string()
}

struct BadReviewer;

impl Guest for BadReviewer {
    fn evaluate(req: ReviewRequest) -> Result<Review, String> {
        match mode(&req.config).as_str() {
            "loop" => {
                let mut x: u64 = 0;
                loop {
                    x = x.wrapping_add(1);
                    std::hint::black_box(x);
                }
            }
            "error" => Err("bad-reviewer refuses to judge on purpose".into()),
            m => panic!("bad-reviewer panicked on purpose (mode {m:?})"),
        }
    }
}

export!(BadReviewer);
