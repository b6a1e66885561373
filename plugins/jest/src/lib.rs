//! The `jest` gate: runs the project's own jest (`node node_modules/jest/bin/jest.js --ci
//! --json --outputFile={scratch}/jest.json --testLocationInResults --watchman=false`) and
//! reads its JSON report: counts and each failing test named `file > describe > test` with
//! its line.

use planexec_pdk::{Gate, GateReport, GateRequest, Host};
use testfmt::jestjson::gate::{check, Runner};

const JEST: Runner = Runner {
    name: "jest",
    script: "node_modules/jest/bin/jest.js",
    node_args: "",
    args: &[
        "--ci",
        "--json",
        "--outputFile={report}",
        "--testLocationInResults",
        "--watchman=false",
    ],
    report: "jest.json",
    list: &["--listTests", "--json", "--watchman=false"],
    by_path: &["--runTestsByPath"],
};

pub struct JestGate;

impl Gate for JestGate {
    fn check(req: GateRequest, host: &dyn Host) -> Result<GateReport, String> {
        check(req, host, &JEST)
    }
}

planexec_pdk::gate_component!(JestGate);
