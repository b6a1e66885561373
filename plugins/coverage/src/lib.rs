//! The coverage gate (being written).
