//! End-to-end tests of the planexec binary and library on real parts: real git
//! repositories in temp dirs, real components built from plugins/, real tools.

mod agents;
mod check;
mod ci;
mod confine;
mod engine;
mod firsthour;
mod gates;
mod gateset;
mod guards;
mod handback;
mod hardening;
mod hooks;
mod hostile_input;
mod init;
mod mcp;
mod model_server;
mod network;
mod pack;
mod packs;
mod packs_https;
mod parallel;
mod pictures;
mod presets;
mod project;
mod proof;
mod python_gate;
mod reports;
mod reviews;
mod sandbox;
mod scaffold;
mod seal;
mod seams;
mod shard;
mod status;
mod support;
