//! End-to-end tests of the planexec binary and library on real parts: real git
//! repositories in temp dirs, real components built from plugins/, real tools.

mod gates;
mod reviews;
mod check;
mod engine;
mod pack;
mod reports;
mod sandbox;
mod support;
