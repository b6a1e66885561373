//! End-to-end tests of the planexec binary and library on real parts: real git
//! repositories in temp dirs, real components built from plugins/, real tools.

mod agents;
mod check;
mod confine;
mod engine;
mod gates;
mod gateset;
mod hardening;
mod pack;
mod reports;
mod reviews;
mod sandbox;
mod support;
