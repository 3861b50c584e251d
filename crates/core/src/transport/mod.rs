//! The transport layer: TCP (RFC 9293) as pure per-connection state machines.

pub mod tcp;
