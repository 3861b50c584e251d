//! sixstack-client: what applications link to use the sixstack daemon (`sixstack run`).
//!
//! - [`TcpStream`] and [`TcpListener`], [`UdpSocket`] (UDP, and UDP-Lite with
//!   [`UdpSocket::bind_udplite`]) and [`RawSocket`], blocking, in the shape of `std::net`;
//! - addresses with zones: [`SocketAddr`] (`[fe80::1%tap0]:7`), and
//!   [`sixstack_wire::addr::ScopedAddr`] (`fe80::1%tap0`) for addresses without a port;
//! - [`resolve`]: a name or a literal to addresses in RFC 6724 §6 order, by the daemon;
//! - [`Connection`]: the control requests of `sixstack-api`, for tools.
//!
//! The daemon is found at `$SIXSTACK_CONTROL`, else `/run/sixstack.sock`
//! ([`control_path`]). Every socket holds its own connection: when the program exits or
//! drops the socket, the daemon closes it, so a client that dies leaves nothing behind.
//! Errors are [`std::io::Error`]s; those the daemon gave carry its
//! [`sixstack_api::ApiError`] ([`api_error`]) with a message that says what to do.

#![forbid(unsafe_code)]

mod addr;
mod conn;
mod socket;
mod tcp;

use std::io;
use std::path::Path;

pub use addr::{SocketAddr, ToSocketAddrs};
pub use conn::{Connection, api_error, control_path, io_kind, to_io};
pub use sixstack_api as api;
pub use sixstack_wire::addr::{ScopedAddr, Zone};
pub use socket::{Datagram, RawPacket, RawSocket, UdpSocket};
pub use tcp::{Incoming, TcpListener, TcpStream, tcp_connections};

/// A host name or an address literal (`fe80::1%tap0` included) as addresses, best first
/// (RFC 6724 §6, by the daemon's own source addresses and routes). A literal needs no
/// daemon; a name is looked up by the daemon (its hosts file first, then DNS AAAA over
/// the stack to its configured or RDNSS-learnt servers).
pub fn resolve(name: &str) -> io::Result<Vec<ScopedAddr>> {
    if let Ok(a) = name.parse::<ScopedAddr>() {
        return Ok(vec![a]);
    }
    resolve_with(&mut Connection::open("sixstack-client resolve")?, name)
}

/// As [`resolve`], on a connection the caller has (to a daemon at another path).
pub fn resolve_with(conn: &mut Connection, name: &str) -> io::Result<Vec<ScopedAddr>> {
    match conn.call(api::Op::Resolve {
        name: name.to_string(),
    })? {
        api::Reply::Addresses { addresses } => {
            let out: Vec<ScopedAddr> = addresses
                .into_iter()
                .map(|a| {
                    ScopedAddr::new(
                        a.address,
                        a.zone.as_deref().and_then(|z| Zone::name(z).ok()),
                    )
                })
                .collect();
            if out.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("{name}: no IPv6 address known for this name"),
                ));
            }
            Ok(out)
        }
        r => Err(conn::unexpected(&r)),
    }
}

/// Opens a control connection to the daemon at `path` (None: [`control_path`]).
pub fn connect(path: Option<&Path>, who: &str) -> io::Result<Connection> {
    match path {
        Some(p) => Connection::open_at(p, who),
        None => Connection::open(who),
    }
}
