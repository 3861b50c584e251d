//! `UdpSocket` (UDP and UDP-Lite) and `RawSocket`, blocking, in the shape of `std::net`.
//! Each holds its own connection to the daemon: dropping the socket closes it there.

use std::io;
use std::net::Ipv6Addr;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use sixstack_api::{Bytes, IcmpErrorInfo, Op, Reply, SocketId, SocketKind, SocketOption};
use sixstack_wire::addr::{ScopedAddr, Zone};

use crate::addr::{SocketAddr, ToSocketAddrs, first, zone_of, zone_text};
use crate::conn::{Connection, unexpected};

/// How long past a receive timeout we wait for the daemon's own TimedOut answer.
const GRACE: Duration = Duration::from_secs(5);

#[derive(Debug)]
struct Inner {
    conn: Connection,
    id: SocketId,
    read_timeout: Option<Duration>,
    nonblocking: bool,
}

#[derive(Debug)]
struct Handle(Mutex<Inner>);

impl Handle {
    fn open(path: Option<&Path>, kind: SocketKind, who: &str) -> io::Result<Self> {
        let mut conn = match path {
            Some(p) => Connection::open_at(p, who)?,
            None => Connection::open(who)?,
        };
        let id = match conn.call(Op::SocketOpen { kind })? {
            Reply::Socket { socket } => socket,
            r => return Err(unexpected(&r)),
        };
        Ok(Self(Mutex::new(Inner {
            conn,
            id,
            read_timeout: None,
            nonblocking: false,
        })))
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> io::Result<T>) -> io::Result<T> {
        // A panic while another thread held the lock leaves a usable connection.
        let mut g = self.0.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut g)
    }

    fn call(&self, op: impl FnOnce(SocketId) -> Op) -> io::Result<Reply> {
        self.with(|i| {
            let op = op(i.id);
            i.conn.call(op)
        })
    }

    fn done(&self, op: impl FnOnce(SocketId) -> Op) -> io::Result<()> {
        match self.call(op)? {
            Reply::Done => Ok(()),
            r => Err(unexpected(&r)),
        }
    }

    fn option(&self, option: SocketOption) -> io::Result<()> {
        self.done(|socket| Op::SetOption { socket, option })
    }

    fn bound(r: Reply) -> io::Result<SocketAddr> {
        match r {
            Reply::Bound {
                address,
                port,
                zone,
            } => Ok(SocketAddr::with_zone(
                address,
                zone_of(zone.as_deref()),
                port,
            )),
            r => Err(unexpected(&r)),
        }
    }

    fn bind(&self, a: SocketAddr) -> io::Result<SocketAddr> {
        Self::bound(self.call(|socket| Op::Bind {
            socket,
            address: a.ip,
            port: a.port,
            zone: a.zone_text(),
        })?)
    }

    fn send_to(&self, data: &[u8], to: Option<(ScopedAddr, u16)>) -> io::Result<usize> {
        let r = self.call(|socket| Op::SendTo {
            socket,
            address: to.map(|t| t.0.addr),
            port: to.map_or(0, |t| t.1),
            zone: to.and_then(|t| zone_text(t.0.zone)),
            data: Bytes::from(data),
        })?;
        match r {
            Reply::Sent { bytes } => Ok(bytes),
            r => Err(unexpected(&r)),
        }
    }

    /// One receive, honouring the read timeout and non-blocking mode; `wait` overrides.
    fn recv(&self, wait: Option<Option<Duration>>) -> io::Result<Reply> {
        self.with(|i| {
            let timeout = match wait {
                Some(w) => w,
                None if i.nonblocking => Some(Duration::ZERO),
                None => i.read_timeout,
            };
            let op = Op::Recv {
                socket: i.id,
                timeout_ms: timeout.map(|t| t.as_millis().min(u128::from(u64::MAX)) as u64),
            };
            i.conn.call_within(op, timeout.map(|t| t + GRACE))
        })
    }
}

/// A received UDP or UDP-Lite datagram with what the stack knows of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram {
    pub src: SocketAddr,
    pub dst: Ipv6Addr,
    pub dst_port: u16,
    pub hop_limit: u8,
    /// UDP-Lite: bytes the checksum covered.
    pub coverage: usize,
    /// When the stack received it, since the daemon started.
    pub time: Duration,
    pub data: Vec<u8>,
}

/// A UDP (or, opened with [`UdpSocket::bind_udplite`], a UDP-Lite, RFC 3828) socket of
/// the sixstack daemon.
///
/// ```no_run
/// use sixstack_client::UdpSocket;
/// let s = UdpSocket::bind("[::]:0")?;
/// s.send_to(b"hello", "[fe80::1%tap0]:7")?;
/// let mut buf = [0; 1500];
/// let (n, from) = s.recv_from(&mut buf)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct UdpSocket {
    h: Handle,
}

impl UdpSocket {
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<Self> {
        Self::bind_kind(None, SocketKind::Udp, addr)
    }

    /// A UDP-Lite socket (RFC 3828); the checksum covers everything until
    /// [`UdpSocket::set_udplite_send_coverage`] says otherwise.
    pub fn bind_udplite(addr: impl ToSocketAddrs) -> io::Result<Self> {
        Self::bind_kind(None, SocketKind::Udplite, addr)
    }

    /// As `bind`, to the daemon at `control` rather than [`crate::control_path`].
    pub fn bind_at(control: &Path, udplite: bool, addr: impl ToSocketAddrs) -> io::Result<Self> {
        let kind = if udplite {
            SocketKind::Udplite
        } else {
            SocketKind::Udp
        };
        Self::bind_kind(Some(control), kind, addr)
    }

    fn bind_kind(
        control: Option<&Path>,
        kind: SocketKind,
        addr: impl ToSocketAddrs,
    ) -> io::Result<Self> {
        let a = first(addr)?;
        let h = Handle::open(control, kind, "sixstack-client udp")?;
        h.bind(a)?;
        Ok(Self { h })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Handle::bound(self.h.call(|socket| Op::LocalAddr { socket })?)
    }

    /// Fixes the remote end: `send` goes there, `recv` takes only its datagrams.
    pub fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        let a = first(addr)?;
        self.h.call(|socket| Op::Connect {
            socket,
            address: a.ip,
            port: a.port,
            zone: a.zone_text(),
        })?;
        Ok(())
    }

    pub fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.h.send_to(buf, None)
    }

    pub fn send_to(&self, buf: &[u8], addr: impl ToSocketAddrs) -> io::Result<usize> {
        let a = first(addr)?;
        self.h.send_to(buf, Some((a.scoped(), a.port)))
    }

    /// The next datagram with its source; a longer one is cut to `buf`, as std does.
    pub fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let d = self.recv_datagram()?;
        let n = d.data.len().min(buf.len());
        buf[..n].copy_from_slice(&d.data[..n]);
        Ok((n, d.src))
    }

    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.recv_from(buf).map(|(n, _)| n)
    }

    /// The next datagram with everything the stack knows of it.
    pub fn recv_datagram(&self) -> io::Result<Datagram> {
        match self.h.recv(None)? {
            Reply::Datagram(d) => Ok(Datagram {
                src: SocketAddr::with_zone(
                    d.src,
                    if d.src.segments()[0] & 0xffc0 == 0xfe80 {
                        zone_of(Some(&d.zone))
                    } else {
                        None
                    },
                    d.src_port,
                ),
                dst: d.dst,
                dst_port: d.dst_port,
                hop_limit: d.hop_limit,
                coverage: d.coverage,
                time: Duration::from_micros(d.time_us),
                data: d.data.into_vec(),
            }),
            r => Err(unexpected(&r)),
        }
    }

    /// None: block until a datagram comes. `Some(0)` is refused, as by std.
    pub fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        set_read_timeout(&self.h, t)
    }

    pub fn read_timeout(&self) -> io::Result<Option<Duration>> {
        self.h.with(|i| Ok(i.read_timeout))
    }

    pub fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        self.h.with(|i| {
            i.nonblocking = on;
            Ok(())
        })
    }

    /// IPV6_UNICAST_HOPS.
    pub fn set_unicast_hops_v6(&self, hops: u8) -> io::Result<()> {
        self.h.option(SocketOption::HopLimit(Some(hops)))
    }

    /// IPV6_MULTICAST_HOPS.
    pub fn set_multicast_hops_v6(&self, hops: u8) -> io::Result<()> {
        self.h.option(SocketOption::MulticastHopLimit(Some(hops)))
    }

    /// Joins `group` on the interface named `dev` (std takes an index; the daemon names
    /// its interfaces).
    pub fn join_multicast_v6(&self, group: &Ipv6Addr, dev: &str) -> io::Result<()> {
        self.h.option(SocketOption::JoinGroup {
            group: *group,
            dev: dev.to_string(),
        })
    }

    pub fn leave_multicast_v6(&self, group: &Ipv6Addr, dev: &str) -> io::Result<()> {
        self.h.option(SocketOption::LeaveGroup {
            group: *group,
            dev: dev.to_string(),
        })
    }

    /// RFC 3828 §3.1: bytes the checksum covers, header included (0: all; else ≥ 8).
    pub fn set_udplite_send_coverage(&self, coverage: u16) -> io::Result<()> {
        self.h.option(SocketOption::UdpliteSendCoverage(coverage))
    }

    /// RFC 3828 §3.1: datagrams covering less are dropped.
    pub fn set_udplite_recv_min_coverage(&self, coverage: u16) -> io::Result<()> {
        self.h
            .option(SocketOption::UdpliteRecvMinCoverage(coverage))
    }

    /// The oldest ICMPv6 error about a datagram this socket sent (IPV6_RECVERR).
    pub fn take_error(&self) -> io::Result<Option<IcmpErrorInfo>> {
        take_error(&self.h)
    }
}

fn set_read_timeout(h: &Handle, t: Option<Duration>) -> io::Result<()> {
    if t == Some(Duration::ZERO) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "cannot set a 0 duration timeout",
        ));
    }
    h.with(|i| {
        i.read_timeout = t;
        Ok(())
    })
}

fn take_error(h: &Handle) -> io::Result<Option<IcmpErrorInfo>> {
    match h.call(|socket| Op::TakeError { socket })? {
        Reply::SocketError { error } => Ok(error),
        r => Err(unexpected(&r)),
    }
}

/// A packet received on a raw socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawPacket {
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    /// The arrival interface.
    pub zone: Option<Zone>,
    pub hop_limit: u8,
    /// When the stack received it, since the daemon started.
    pub time: Duration,
    /// The whole IPv6 packet.
    pub packet: Vec<u8>,
    /// Where the upper-layer message the socket asked for starts in `packet`.
    pub upper_offset: usize,
}

impl RawPacket {
    pub fn upper(&self) -> &[u8] {
        &self.packet[self.upper_offset.min(self.packet.len())..]
    }
}

/// A raw socket of the daemon (RFC 3542): every packet of one next-header value, and
/// sending upper-layer messages (the stack adds the IPv6 header, and for ICMPv6 the
/// checksum) or whole packets.
#[derive(Debug)]
pub struct RawSocket {
    h: Handle,
}

impl RawSocket {
    pub fn open(next_header: u8) -> io::Result<Self> {
        Self::open_kind(None, next_header)
    }

    /// An ICMPv6 raw socket (next header 58).
    pub fn icmpv6() -> io::Result<Self> {
        Self::open(58)
    }

    pub fn open_at(control: &Path, next_header: u8) -> io::Result<Self> {
        Self::open_kind(Some(control), next_header)
    }

    fn open_kind(control: Option<&Path>, next_header: u8) -> io::Result<Self> {
        let h = Handle::open(
            control,
            SocketKind::Raw { next_header },
            "sixstack-client raw",
        )?;
        Ok(Self { h })
    }

    /// Receive only packets to this address (and zone); send from it.
    pub fn bind(&self, addr: ScopedAddr) -> io::Result<()> {
        self.h
            .bind(SocketAddr::with_zone(addr.addr, addr.zone, 0))?;
        Ok(())
    }

    pub fn send_to(&self, msg: &[u8], dst: ScopedAddr) -> io::Result<usize> {
        self.h.send_to(msg, Some((dst, 0)))
    }

    /// A whole IPv6 packet, header included, sent as it is; `zone` picks the interface
    /// for a scoped destination.
    pub fn send_packet(&self, packet: &[u8], zone: Option<Zone>) -> io::Result<usize> {
        match self.h.call(|socket| Op::RawSendPacket {
            socket,
            packet: Bytes::from(packet),
            zone: zone_text(zone),
        })? {
            Reply::Sent { bytes } => Ok(bytes),
            r => Err(unexpected(&r)),
        }
    }

    pub fn recv(&self) -> io::Result<RawPacket> {
        self.recv_within(None)
    }

    /// Waits at most `wait` (None: the read timeout) for a packet.
    pub fn recv_within(&self, wait: Option<Duration>) -> io::Result<RawPacket> {
        match self.h.recv(wait.map(Some))? {
            Reply::RawPacket(p) => Ok(RawPacket {
                src: p.src,
                dst: p.dst,
                zone: zone_of(Some(&p.zone)),
                hop_limit: p.hop_limit,
                time: Duration::from_micros(p.time_us),
                upper_offset: p.upper_offset,
                packet: p.packet.into_vec(),
            }),
            r => Err(unexpected(&r)),
        }
    }

    pub fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        set_read_timeout(&self.h, t)
    }

    pub fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        self.h.with(|i| {
            i.nonblocking = on;
            Ok(())
        })
    }

    /// None: the interface's default hop limit.
    pub fn set_hop_limit(&self, hops: Option<u8>) -> io::Result<()> {
        self.h.option(SocketOption::HopLimit(hops))
    }

    /// RFC 3542 §3.2: only these ICMPv6 types reach the socket.
    pub fn set_icmp_filter(&self, pass: &[u8]) -> io::Result<()> {
        self.h.option(SocketOption::IcmpFilter(pass.to_vec()))
    }

    pub fn take_error(&self) -> io::Result<Option<IcmpErrorInfo>> {
        take_error(&self.h)
    }

    /// The path MTU the stack knows towards `dst` (the link MTU when nothing smaller was
    /// learnt).
    pub fn path_mtu(&self, dst: ScopedAddr) -> io::Result<u32> {
        match self.h.with(|i| {
            i.conn.call(Op::PathMtu {
                address: dst.addr,
                zone: zone_text(dst.zone),
            })
        })? {
            Reply::Mtu { mtu } => Ok(mtu),
            r => Err(unexpected(&r)),
        }
    }

    /// The source address the stack picks towards `dst` (RFC 6724 §5) and the interface
    /// the packet leaves by.
    pub fn source_for(&self, dst: ScopedAddr) -> io::Result<(Ipv6Addr, String)> {
        match self.h.with(|i| {
            i.conn.call(Op::SourceFor {
                address: dst.addr,
                zone: zone_text(dst.zone),
            })
        })? {
            Reply::Source { address, dev } => Ok((address, dev)),
            r => Err(unexpected(&r)),
        }
    }

    /// Any request on this socket's connection (links, stats ...).
    pub fn call(&self, op: Op) -> io::Result<Reply> {
        self.h.with(|i| i.conn.call(op))
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Closing the connection closes the socket in the daemon; saying so first is
        // polite and lets the daemon log it as a close rather than a vanished client.
        let _ = self.conn.send(Op::Close { socket: self.id });
    }
}
