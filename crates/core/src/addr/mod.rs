//! Addresses: scopes and zones (RFC 4007), selection (RFC 6724).

pub mod select;
