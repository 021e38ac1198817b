//! One module per command.

pub mod policy;
pub mod serve;
