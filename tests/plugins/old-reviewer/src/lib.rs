//! A reviewer built against the previous contract (planexec:plugin@0.3.0, frozen in
//! ./wit): the host must refuse it at load with how to upgrade, never link or run it.

wit_bindgen::generate!({ world: "reviewer", path: "wit" });

use exports::planexec::plugin::reviewer_plugin::{Guest, ReviewRequest};
use planexec::plugin::types::Review;

struct OldReviewer;

impl Guest for OldReviewer {
    fn evaluate(_req: ReviewRequest) -> Result<Review, String> {
        Ok(Review {
            approved: true,
            criteria: vec![],
            findings: vec![],
            summary: "approved by a 0.3.0 reviewer".into(),
            transcript: String::new(),
        })
    }
}

export!(OldReviewer);
