//! The `vitest` gate: runs the project's own vitest
//! (`node --disable-wasm-trap-handler node_modules/vitest/vitest.mjs run --reporter=default --reporter=json
//! --outputFile={scratch}/vitest.json`, flags every vitest since 1.x takes; what it writes in the
//! tree, its cache and bundled config, lands in the box's copy-on-write layer) and reads its JSON
//! report (jest's shape): counts and each failing test named `file > describe > test` with its line.

use planexec_pdk::{Gate, GateReport, GateRequest, Host};
use testfmt::jestjson::gate::{check, Runner};

const VITEST: Runner = Runner {
    name: "vitest",
    script: "node_modules/vitest/vitest.mjs",
    // V8 reserves ~10 GiB of address space per WebAssembly memory for its trap handler;
    // vite's wasm parsers then exceed the box's address-space limit (16 GiB).
    node_args: "--disable-wasm-trap-handler ",
    args: &[
        "run",
        "--reporter=default",
        "--reporter=json",
        "--outputFile={report}",
    ],
    report: "vitest.json",
    list: &["list", "--filesOnly", "--json"],
    // File filters: absolute paths, each matching its own file (and any file whose path
    // holds it, which testfmt::jsshard keeps in the same shard).
    by_path: &[],
    launcher: None,
};

pub struct VitestGate;

impl Gate for VitestGate {
    fn check(req: GateRequest, host: &dyn Host) -> Result<GateReport, String> {
        check(req, host, &VITEST)
    }
}

planexec_pdk::gate_component!(VitestGate);
