//! The black gate (being written).
