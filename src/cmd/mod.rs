//! One module per command.

pub mod policy;
