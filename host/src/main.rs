//! The `planexec` binary: a thin wrapper over [`planexec::cli::main`].

fn main() {
    // Die quietly on a closed pipe (`planexec ... | head`), like other Unix tools.
    // SAFETY: setting a signal disposition before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    std::process::exit(planexec::cli::main())
}
