//! One module per command.

pub mod audit;
pub mod bench;
pub mod digest;
pub mod import;
pub mod policy;
pub mod publish;
pub mod replay;
pub(crate) mod seed;
pub mod serve;
pub mod source;
pub mod sweep;
pub mod token;
