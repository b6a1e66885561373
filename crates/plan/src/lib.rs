//! The plan model.
