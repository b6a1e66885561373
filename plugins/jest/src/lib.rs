//! The `jest` gate: runs the project's own jest with `--ci --json --outputFile={scratch}/jest.json
//! --testLocationInResults --watchman=false`, started through a launcher that hands jest-cli
//! those flags while the tests see the `process.argv` of a plain `jest` run, and reads its JSON
//! report: counts and each failing test named `file > describe > test` with its line.

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
    launcher: Some(("jest-launch.cjs", LAUNCHER)),
};

/// `node jest-launch.cjs node_modules/jest/bin/jest.js ARGS`: jest-cli's own `run(ARGS)`
/// with `process.argv` as a plain `jest` leaves it, since tests that run in jest's process
/// (one test file, `--runInBand`) see it, and a CLI library's tests parse it.
const LAUNCHER: &str = r#"// Written by planexec's jest gate.
const path = require("path");
const script = path.resolve(process.argv[2]);
const args = process.argv.slice(3);
process.argv = [process.argv[0], script];
const cli = require(require.resolve("jest-cli", { paths: [path.dirname(path.dirname(script))] }));
cli.run(args);
"#;

pub struct JestGate;

impl Gate for JestGate {
    fn check(req: GateRequest, host: &dyn Host) -> Result<GateReport, String> {
        check(req, host, &JEST)
    }
}

planexec_pdk::gate_component!(JestGate);
