//! sixstack-sim: a deterministic discrete-event network. Nodes (anything implementing
//! [`Node`], later the real `sixstack_core::Stack`) are plugged into links that model an
//! MTU, propagation delay, jitter, loss, duplication, reordering and bandwidth. Time is
//! virtual and jumps from event to event, so an hour of protocol time takes milliseconds.
//!
//! Every frame that enters a link is captured in memory (bounded) and, when asked, written
//! to `<link-name>.pcap` with virtual-time timestamps, so Wireshark shows what crossed it.
//! All randomness comes from one seed: the same seed and the same calls give the same
//! events, bit for bit.
//!
//! A scenario is plain Rust:
//!
//! ```
//! use sixstack_core::iface::IfaceId;
//! use sixstack_core::time::{Duration, Instant};
//! use sixstack_sim::{LinkConfig, Network, Node};
//!
//! /// Sends one frame at start-up and counts what it hears.
//! struct Hello { out: Vec<(IfaceId, Vec<u8>)>, heard: usize }
//! impl Node for Hello {
//!     fn receive(&mut self, _: Instant, _: IfaceId, _: &[u8]) { self.heard += 1 }
//!     fn poll(&mut self, _: Instant) {}
//!     fn poll_at(&self) -> Option<Instant> { None }
//!     fn transmit(&mut self) -> Option<(IfaceId, Vec<u8>)> { self.out.pop() }
//! }
//!
//! let mut net = Network::new(1);
//! let a = net.add_node("a", Hello { out: vec![(IfaceId(0), vec![0; 60])], heard: 0 });
//! let b = net.add_node("b", Hello { out: vec![], heard: 0 });
//! let lan = net.add_link("lan", LinkConfig::default());
//! net.attach(lan, a, IfaceId(0));
//! net.attach(lan, b, IfaceId(0));
//! net.run_for(Duration::from_millis(1));
//! assert_eq!(net.node(b).heard, 1);
//! assert_eq!(net.captured(lan).len(), 1);
//! ```
//!
//! The adapter that makes `sixstack_core::Stack` a [`Node`] is to live in `stack.rs`
//! beside these modules (written with the stack's glue, not here).

#![forbid(unsafe_code)]

mod capture;
mod link;
mod network;
mod node;
// mod stack; — `impl Node for sixstack_core::Stack`, written with the stack's glue.

pub use capture::{Captured, TapVerdict};
pub use link::{LinkConfig, LinkStats, dlt};
pub use network::{Limits, LinkId, NetStats, Network, NodeId, Tap};
pub use node::Node;
