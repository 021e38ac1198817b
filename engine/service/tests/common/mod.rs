//! What several test binaries of the service share.

pub mod inputs;
