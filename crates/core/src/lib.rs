//! sixstack-core: one [`Stack`] is one IPv6 node, sans-IO. It reacts to frames received,
//! time passing and calls; it answers with frames to transmit, socket data and events.
//! Time and randomness are handed in, so the same seed and inputs give the same outputs.

pub mod iface;
pub mod rng;
pub mod time;
