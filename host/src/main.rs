//! The `planexec` binary: a thin wrapper over [`planexec::cli::main`].

fn main() {
    // Die quietly on a closed pipe (`planexec ... | head`), like other Unix tools.
    // SAFETY: setting a signal disposition before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // What our parent left open (`exec 7<secret`) never reaches a child.
    planexec::confine::cloexec_inherited();
    std::process::exit(planexec::cli::main())
}
