//! Neighbor Discovery (RFC 4861, RFC 4191, RFC 7559).

mod input;
pub mod neighbor;
pub mod ra;
pub mod router;
pub mod rs;
