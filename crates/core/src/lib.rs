//! sixstack-core: one [`Stack`] is one IPv6 node, sans-IO. It reacts to frames received,
//! time passing and calls; it answers with frames to transmit, socket data and events.
//! Time and randomness are handed in, so the same seed and inputs give the same outputs.

pub mod addr;
pub mod config;
pub mod event;
pub mod icmp;
pub mod iface;
pub mod ip;
pub mod mld;
pub mod nd;
pub mod rng;
pub mod slaac;
pub mod socket;
mod stack;
pub mod stats;
pub mod time;
pub mod transport;

pub use config::StackConfig;
pub use event::{Event, EventKind};
pub use iface::{IfaceConfig, IfaceId, LinkAddr, LinkKind};
pub use ip::output::{MIN_MTU, RouteVia};
pub use socket::{Datagram, RawPacket, SocketHandle};
pub use stack::{Error, RouteGet, Stack};
pub use time::{Duration, Instant};
