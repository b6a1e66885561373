//! The go-test gate (being written).
