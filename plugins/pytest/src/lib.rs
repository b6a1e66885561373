//! The pytest gate (being written).
