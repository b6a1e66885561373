//! planexec library.
