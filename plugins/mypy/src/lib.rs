//! The mypy gate (being written).
