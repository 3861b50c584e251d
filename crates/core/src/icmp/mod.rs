//! ICMPv6 (RFC 4443).

pub mod ratelimit;
