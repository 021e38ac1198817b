//! One module per command.

pub mod audit;
pub mod bench;
pub mod policy;
pub mod serve;
pub mod sweep;
