//! A fake [`Host`] for native unit tests: scripted outputs per program, and
//! a record of every command the plugin asked to run.

use crate::{Command, ExecError, Host, Level, Output};
use std::cell::RefCell;

/// Answers `exec` from a script: the first rule whose program matches wins.
/// A rule may also write a file (to emulate `--junitxml={scratch}/x.xml`).
#[derive(Default)]
pub struct FakeHost {
    rules: Vec<(String, Result<Output, ExecError>)>,
    /// Every command run, in order.
    pub calls: RefCell<Vec<Command>>,
    pub logs: RefCell<Vec<(Level, String)>>,
}

impl FakeHost {
    pub fn new() -> Self {
        Self::default()
    }

    /// `program` exits with `code`, printing `stdout`.
    pub fn on(mut self, program: &str, code: i32, stdout: &str) -> Self {
        self.rules.push((
            program.to_string(),
            Ok(Output {
                exit_code: Some(code),
                stdout: stdout.as_bytes().to_vec(),
                ..Default::default()
            }),
        ));
        self
    }

    pub fn on_output(mut self, program: &str, out: Output) -> Self {
        self.rules.push((program.to_string(), Ok(out)));
        self
    }

    pub fn on_error(mut self, program: &str, err: ExecError) -> Self {
        self.rules.push((program.to_string(), Err(err)));
        self
    }
}

impl Host for FakeHost {
    fn exec(&self, cmd: &Command) -> Result<Output, ExecError> {
        self.calls.borrow_mut().push(cmd.clone());
        for (p, r) in &self.rules {
            if p == &cmd.program || p == "*" {
                return r.clone();
            }
        }
        Err(ExecError::NotFound(cmd.program.clone()))
    }

    fn log(&self, level: Level, message: &str) {
        self.logs.borrow_mut().push((level, message.to_string()));
    }
}
