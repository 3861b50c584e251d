//! sixstack-wire: every packet format the stack speaks, as checked zero-copy views over
//! bytes (`Packet<T>` style), owned representations (`Repr`) that lose nothing a router
//! must keep, and emit into a caller's buffer. Checksums and pcap files live here too.
//!
//! No state, no I/O, and no allocation on the parse path. Malformed input is data: every
//! view returns an [`Error`] naming the format, the problem and the byte offset.
#![forbid(unsafe_code)]

pub mod addr;
pub mod ah;
pub mod arp;
pub mod checksum;
pub mod error;
pub mod esp;
pub mod ethernet;
pub mod fddi;
pub mod icmpv4;
pub mod icmpv6;
pub mod ipv4;
pub mod ipv6;
pub mod ipv6chain;
pub mod ipv6fragment;
pub mod ipv6opts;
pub mod ipv6routing;
pub mod mld;
pub mod mobility;
pub mod ndisc;
pub mod ndiscopt;
pub mod pcap;
pub mod proto;
pub mod sll;
pub mod tcp;
pub mod udp;

pub use addr::{EthernetAddress, Ipv6AddrExt, Scope, ScopedAddr, Zone};
pub use checksum::Checksum;
pub use error::{Error, ErrorKind, Result};
pub use proto::{EtherType, IpProtocol};
