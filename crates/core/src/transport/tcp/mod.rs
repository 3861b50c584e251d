//! TCP (RFC 9293) in the core, sans-IO: one [`Tcb`] per connection and a [`Listener`] per
//! listening port, each a pure state machine. Segments come in parsed
//! (`sixstack_wire::tcp::Repr` and the payload), segments to send are pulled with
//! `poll_transmit`, time comes in as `now`, and ISNs and secrets are handed in.
//!
//! | file | what it owns |
//! | --- | --- |
//! | `tcb.rs` | one connection: the states of §3.3.2, §3.10's event processing, RFC 5961, 6298, 7323, 5681/6582, 2018/6675 |
//! | `listener.rs` | LISTEN: the SYN backlog, the accept queue, SYN cookies |
//! | `assembler.rs` | out-of-order data, bounded |
//! | `rtt.rs` | RFC 6298's estimator |
//! | `config.rs` | the constants and limits, with the RFCs' defaults |
//! | `cc.rs`, `sack.rs`, `isn.rs`, `syncookie.rs` | congestion control, the SACK scoreboard, RFC 6528 ISNs, SYN cookies |
//!
//! What the glue (the socket layer) does:
//! - demultiplexes: a segment whose checksum verified goes to the `Tcb` of its four-tuple
//!   (`Tcb::receive`), else to the `Listener` of its port (`Listener::receive`, with the
//!   route's path MTU), else gets [`reset_for`]'s RST;
//! - after every input (`receive`, `poll`, a user call) drains `poll_transmit(now)` until
//!   `None`, and wraps each [`Segment`] in IPv6 from `src` to `dst` with
//!   `repr.emit_with_payload` (which fills the checksum); then drains `poll_event`;
//! - calls `poll(now)` at `poll_at()`;
//! - creates active connections with `Tcb::connect` (ISS from `isn.rs`, a random timestamp
//!   offset) and calls `set_path_mtu` before the first `poll_transmit`; takes established
//!   passive ones with `Listener::accept` and drives them from then on;
//! - routes ICMPv6 errors quoting a connection's segment to it: Packet Too Big to
//!   `set_path_mtu`, the others to `icmp_error`, when `icmp_quote_valid` accepts the quoted
//!   sequence number (RFC 5927);
//! - frees a `Tcb` after its `Closed` event once `poll_transmit` returns `None`.

mod assembler;
pub mod cc;
pub mod config;
pub mod isn;
pub mod listener;
mod rtt;
pub mod sack;
pub mod syncookie;
pub mod tcb;
pub mod types;

pub use config::{ShareConfig, TcpConfig};
pub use listener::{Listener, ListenerStats};
pub use tcb::{Tcb, reset_for};
pub use types::{FourTuple, IcmpError, Segment, State, TcpEvent, TcpInfo};

#[cfg(test)]
mod tests;
