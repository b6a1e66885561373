//! Shared helpers for planexec's reviewer plugins (task-review, code-review, agent-review).
//! Unified-diff parsing with new-file line numbers, plan path matching, and PASS/WEAK/FAIL scoring.

pub mod diff;
pub mod paths;
pub mod score;

pub use diff::{parse_diff, DiffLine, FileDiff, FileStatus, Hunk, LineKind};
pub use paths::{is_test_path, matches_any, matches_pattern, patterns_of};
pub use score::{
    approved, count, criterion, finding, score_word, summary_line, tally, worst, ScoreLevel,
};
