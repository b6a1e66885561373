//! planexec: executes implementation plans with discipline that cannot be skipped.
//!
//! Data flows one way: [`plan`] (the model, from crates/plan) -> engine (task
//! loop) -> [`sandbox`] (plugins as WebAssembly components, granted only what
//! policy allows) -> run record -> formatters -> files. The binary (`cli`)
//! decides how errors print and which exit code they get.

pub mod cli;
pub mod commit_msg;
pub mod config;
pub mod confine;
pub mod engine;
pub mod gate;
pub mod gates;
pub mod input;
pub mod interrupt;
pub mod lazy;
pub mod lock;
pub mod mcp;
pub mod packs;
pub mod plugins;
pub mod proxy;
pub mod redact;
pub mod report;
pub mod rooted;
pub mod sandbox;
pub mod shard;
pub mod text;
pub mod trust;

pub use planexec_plan as plan;
pub use planexec_record as record;
