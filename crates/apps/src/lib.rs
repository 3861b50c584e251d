//! sixstack-apps: the tools around the stack as library code, testable without a terminal.
//!
//! - [`dump`]: the protocol dissector behind `sixstack dump`.
//! - [`probe`]: what ping6 and tracert6 need of a stack ([`probe::ProbeNet`]), so that the
//!   same logic runs in the simulator and against the daemon.
//! - [`ping`]: ping6, as iputils' ping.
//! - [`tracert`]: tracert6, traceroute with tracepath's path MTU.
//! - [`daemon_net`]: [`probe::ProbeNet`] over the daemon, through `sixstack-client`.
//! - [`ftp`]: the FTP client and server (`sixstack ftp`, `sixstack ftpd`), over [`net`].
//! - [`net`]: streams, listeners and datagrams for ttcp, ftp, ftpd and socks, over the
//!   kernel or over sixstack.
//! - [`ttcp`]: the classic throughput tool, TCP and UDP, over a [`net::Net`].
//! - [`socks`]: a SOCKS5 proxy (RFC 1928) from the host's loopback onto a [`net::Net`].
#![forbid(unsafe_code)]

pub mod daemon_net;
pub mod dump;
pub mod ftp;
pub mod net;
pub mod ping;
pub mod probe;
pub mod socks;
pub mod tracert;
pub mod ttcp;
