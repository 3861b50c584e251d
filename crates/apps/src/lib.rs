//! sixstack-apps: the tools around the stack as library code, testable without a terminal.
//!
//! - [`dump`]: the protocol dissector behind `sixstack dump`.
#![forbid(unsafe_code)]

pub mod dump;
