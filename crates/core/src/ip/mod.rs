//! IPv6 (RFC 8200): input, output, fragmentation and reassembly, routes, path MTU.

pub mod frag;
pub(crate) mod input;
pub(crate) mod output;
pub mod pmtu;
pub mod reasm;
pub mod route;
