//! What starts only when a command needs it: TLS (a pack fetch over https, the proxy's
//! interception), Cranelift compiling a component. Each start is noted, so a test can
//! prove a command never reached one.

/// Names `what` (a TLS stack starting) in the file `$PLANEXEC_TEST_TLS_LOG`, one line
/// each, when that variable is set; otherwise does nothing. Tests set it.
pub fn tls_starting(what: &str) {
    note("PLANEXEC_TEST_TLS_LOG", what);
}

/// Names `what` (a component Cranelift compiles now) in `$PLANEXEC_TEST_COMPILE_LOG`, one
/// line each, when that variable is set. Tests set it.
pub fn compiling(what: &str) {
    note("PLANEXEC_TEST_COMPILE_LOG", what);
}

/// Appends `what` as a line to the file the variable `var` names, if it is set.
fn note(var: &str, what: &str) {
    let Some(path) = std::env::var_os(var) else {
        return;
    };
    use std::io::Write as _;
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(f, "{what}");
    }
}
