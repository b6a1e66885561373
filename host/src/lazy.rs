//! What starts only when a command needs it: TLS (a pack fetch over https, the proxy's
//! interception). Each start is noted, so a test can prove a command never reached one.

/// Names `what` (a TLS stack starting) in the file `$PLANEXEC_TEST_TLS_LOG`, one line
/// each, when that variable is set; otherwise does nothing. Tests set it.
pub fn tls_starting(what: &str) {
    let Some(path) = std::env::var_os("PLANEXEC_TEST_TLS_LOG") else {
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
