//! The junit gate (being written).
