//! Shared by planexec's agent plugins (the `agent` implementer and `agent-review`):
//! the presets of the agent CLIs teams use, the command line built from one, and its output read.

pub mod invocation;
pub mod outcome;
pub mod preset;

pub use invocation::{Invocation, Placeholders};
pub use outcome::{parse_outcome, AgentOutcome};
pub use preset::{preset, Format, Preset, PRESETS};
