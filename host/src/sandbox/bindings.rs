//! Host-side bindings for the four plugin worlds of wit/plugin.wit, generated
//! by wasmtime's bindgen; the shared interfaces are generated once (gate).
//! Exports are async (so a call blocked in WASI can be cancelled at its
//! deadline); the host's own imports (exec, log) stay synchronous.

pub mod gate {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "gate",
        exports: { default: async },
    });
}

pub mod reviewer {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "reviewer",
        exports: { default: async },
        with: {
            "planexec:plugin/types": super::gate::planexec::plugin::types,
            "planexec:plugin/exec": super::gate::planexec::plugin::exec,
            "planexec:plugin/log": super::gate::planexec::plugin::log,
        },
    });
}

pub mod formatter {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "formatter",
        exports: { default: async },
        with: {
            "planexec:plugin/log": super::gate::planexec::plugin::log,
        },
    });
}

pub mod implementer {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "implementer",
        exports: { default: async },
        with: {
            "planexec:plugin/types": super::gate::planexec::plugin::types,
            "planexec:plugin/exec": super::gate::planexec::plugin::exec,
            "planexec:plugin/log": super::gate::planexec::plugin::log,
        },
    });
}

pub use formatter::exports::planexec::plugin::formatter_plugin;
pub use gate::exports::planexec::plugin::gate_plugin;
pub use gate::planexec::plugin::{exec, log, types};
pub use implementer::exports::planexec::plugin::implementer_plugin;
pub use reviewer::exports::planexec::plugin::reviewer_plugin;

/// The export each world must have, with the contract's version.
pub const PACKAGE: &str = "planexec:plugin";
pub const VERSION: &str = "0.4.0";
