//! Sockets in the core: a handle-based table that the simulator and the daemon drive the
//! same way. UDP and UDP-Lite (RFC 768, RFC 3828) with binding, connecting, zones, hop
//! limits and multicast membership; raw sockets by next header with an ICMPv6 type filter
//! (RFC 3542 §3.2) that can also send whole packets with their own IPv6 header.

use std::collections::{BTreeMap, VecDeque};
use std::net::Ipv6Addr;

use sixstack_wire::addr::Ipv6AddrExt;
use sixstack_wire::icmpv6;
use sixstack_wire::ipv6;
use sixstack_wire::ipv6chain::Chain;
use sixstack_wire::proto::IpProtocol;
use sixstack_wire::udp::{self, PseudoHeader};

use crate::icmp::IcmpError;
use crate::iface::IfaceId;
use crate::ip::input::RxMeta;
use crate::ip::output::build_packet;
use crate::stack::{Error, Stack};
use crate::time::Instant;

pub mod tcp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SocketHandle(pub u32);

/// RFC 6335 §6: the dynamic port range ephemeral ports come from.
pub(crate) const EPHEMERAL: std::ops::RangeInclusive<u16> = 49152..=65535;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketKind {
    Udp,
    UdpLite,
    Raw(IpProtocol),
}

/// A datagram received on a UDP or UDP-Lite socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram {
    /// When the stack received it (SO_TIMESTAMP).
    pub time: Instant,
    pub src: Ipv6Addr,
    pub src_port: u16,
    pub dst: Ipv6Addr,
    pub dst_port: u16,
    /// The arrival interface: the zone of a link-local source.
    pub iface: IfaceId,
    pub hop_limit: u8,
    /// UDP-Lite: how many bytes the checksum covered (the whole datagram for UDP).
    pub coverage: usize,
    pub payload: Vec<u8>,
}

/// A packet received on a raw socket: the whole IPv6 packet and where its upper layer
/// (the protocol the socket asked for) starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawPacket {
    /// When the stack received it (SO_TIMESTAMP).
    pub time: Instant,
    pub iface: IfaceId,
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    pub hop_limit: u8,
    pub packet: Vec<u8>,
    pub upper_offset: usize,
}

impl RawPacket {
    pub fn upper(&self) -> &[u8] {
        &self.packet[self.upper_offset.min(self.packet.len())..]
    }
}

/// An ICMPv6 error about a datagram this socket sent (what IPV6_RECVERR reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IcmpNotice {
    pub from: Ipv6Addr,
    pub msg_type: u8,
    pub code: u8,
    pub dst: Ipv6Addr,
    pub dst_port: u16,
}

#[derive(Debug, Clone)]
struct Socket {
    kind: SocketKind,
    local: Option<(Ipv6Addr, u16, Option<IfaceId>)>,
    remote: Option<(Ipv6Addr, u16, Option<IfaceId>)>,
    hop_limit: Option<u8>,
    mcast_hop_limit: Option<u8>,
    mcast_iface: Option<IfaceId>,
    /// UDP-Lite checksum coverage to send (0: the whole datagram) and the minimum accepted.
    lite_send_coverage: u16,
    lite_recv_min_coverage: u16,
    icmp_filter: Option<Box<[bool; 256]>>,
    groups: Vec<(Ipv6Addr, IfaceId)>,
    rx: VecDeque<Datagram>,
    raw_rx: VecDeque<RawPacket>,
    errors: VecDeque<IcmpNotice>,
}

#[derive(Debug, Default)]
pub struct SocketTable {
    sockets: BTreeMap<SocketHandle, Socket>,
    next: u32,
    max: usize,
}

impl SocketTable {
    pub fn new(max: usize) -> Self {
        Self {
            sockets: BTreeMap::new(),
            next: 1,
            max,
        }
    }

    pub(crate) fn forget_iface(&mut self, id: IfaceId) {
        for s in self.sockets.values_mut() {
            s.groups.retain(|(_, i)| *i != id);
            if s.mcast_iface == Some(id) {
                s.mcast_iface = None;
            }
        }
    }

    fn port_in_use(&self, kind: SocketKind, port: u16, addr: &Ipv6Addr) -> bool {
        self.sockets.values().any(|s| {
            s.kind == kind
                && s.local.is_some_and(|(a, p, _)| {
                    p == port && (a == *addr || a.is_unspecified() || addr.is_unspecified())
                })
        })
    }

    pub fn len(&self) -> usize {
        self.sockets.len()
    }

    /// A handle no socket has had: TCP sockets share the numbering.
    pub(crate) fn new_handle(&mut self) -> SocketHandle {
        let h = SocketHandle(self.next);
        self.next += 1;
        h
    }

    pub fn is_empty(&self) -> bool {
        self.sockets.is_empty()
    }
}

impl Stack {
    fn socket(&mut self, h: SocketHandle) -> Result<&mut Socket, Error> {
        self.sockets.sockets.get_mut(&h).ok_or(Error::NoSuchSocket)
    }

    fn open(&mut self, kind: SocketKind) -> Result<SocketHandle, Error> {
        if self.sockets.sockets.len() >= self.sockets.max {
            return Err(Error::TableFull);
        }
        let h = SocketHandle(self.sockets.next);
        self.sockets.next += 1;
        self.sockets.sockets.insert(
            h,
            Socket {
                kind,
                local: None,
                remote: None,
                hop_limit: None,
                mcast_hop_limit: None,
                mcast_iface: None,
                lite_send_coverage: 0,
                lite_recv_min_coverage: 0,
                icmp_filter: None,
                groups: Vec::new(),
                rx: VecDeque::new(),
                raw_rx: VecDeque::new(),
                errors: VecDeque::new(),
            },
        );
        Ok(h)
    }

    pub fn udp_open(&mut self) -> Result<SocketHandle, Error> {
        self.open(SocketKind::Udp)
    }

    pub fn udplite_open(&mut self) -> Result<SocketHandle, Error> {
        self.open(SocketKind::UdpLite)
    }

    /// A raw socket for one next-header value (RFC 3542 §3).
    pub fn raw_open(&mut self, protocol: IpProtocol) -> Result<SocketHandle, Error> {
        self.open(SocketKind::Raw(protocol))
    }

    pub fn close(&mut self, now: Instant, h: SocketHandle) -> Result<(), Error> {
        self.now = self.now.max(now);
        let s = self.sockets.sockets.remove(&h).ok_or(Error::NoSuchSocket)?;
        for (g, i) in s.groups {
            self.mld_leave(now, i, g);
        }
        Ok(())
    }

    /// Binds to a local address (unspecified for any) and port (0 for an ephemeral one).
    /// A link-local address needs its zone.
    pub fn bind(
        &mut self,
        h: SocketHandle,
        addr: Ipv6Addr,
        port: u16,
        zone: Option<IfaceId>,
    ) -> Result<u16, Error> {
        if addr.is_multicast() {
            return Err(Error::Invalid("cannot bind to a multicast address"));
        }
        if !addr.is_unspecified() && self.is_own_addr(&addr).is_none() {
            return Err(Error::Invalid("address is not assigned to this node"));
        }
        let zone = match zone {
            Some(z) => Some(z),
            None if addr.is_link_local_unicast() => {
                Some(self.default_zone().ok_or(Error::ZoneRequired)?)
            }
            None => None,
        };
        if let Some(z) = zone
            && addr.is_link_local_unicast()
            && !self
                .ifaces
                .get(&z)
                .is_some_and(|i| i.addrs.is_assigned(&addr))
        {
            // RFC 4007 §6: a link-local address means something only on its own link.
            return Err(Error::Invalid("address is not assigned in that zone"));
        }
        let kind = self.socket(h)?.kind;
        let port = if port == 0 && !matches!(kind, SocketKind::Raw(_)) {
            self.ephemeral_port(kind, &addr)?
        } else {
            if !matches!(kind, SocketKind::Raw(_)) && self.sockets.port_in_use(kind, port, &addr) {
                return Err(Error::AddrInUse);
            }
            port
        };
        self.socket(h)?.local = Some((addr, port, zone));
        Ok(port)
    }

    fn ephemeral_port(&mut self, kind: SocketKind, addr: &Ipv6Addr) -> Result<u16, Error> {
        // RFC 6056 §3.3.1: a random start, then the next free one.
        let span = u32::from(*EPHEMERAL.end() - *EPHEMERAL.start()) + 1;
        let start = self.rng.below(u64::from(span)) as u32;
        for k in 0..span {
            let port = *EPHEMERAL.start() + ((start + k) % span) as u16;
            if !self.sockets.port_in_use(kind, port, addr) {
                return Ok(port);
            }
        }
        Err(Error::AddrInUse)
    }

    /// Fixes the remote end: `send` goes there and only its datagrams are received.
    pub fn connect(
        &mut self,
        h: SocketHandle,
        addr: Ipv6Addr,
        port: u16,
        zone: Option<IfaceId>,
    ) -> Result<(), Error> {
        if self.socket(h)?.local.is_none() {
            self.bind(h, Ipv6Addr::UNSPECIFIED, 0, None)?;
        }
        self.socket(h)?.remote = Some((addr, port, zone));
        Ok(())
    }

    pub fn local_addr(&self, h: SocketHandle) -> Option<(Ipv6Addr, u16, Option<IfaceId>)> {
        self.sockets.sockets.get(&h)?.local
    }

    pub fn set_hop_limit(&mut self, h: SocketHandle, hl: Option<u8>) -> Result<(), Error> {
        self.socket(h)?.hop_limit = hl;
        Ok(())
    }

    pub fn set_multicast_hop_limit(
        &mut self,
        h: SocketHandle,
        hl: Option<u8>,
    ) -> Result<(), Error> {
        self.socket(h)?.mcast_hop_limit = hl;
        Ok(())
    }

    pub fn set_multicast_iface(
        &mut self,
        h: SocketHandle,
        iface: Option<IfaceId>,
    ) -> Result<(), Error> {
        self.socket(h)?.mcast_iface = iface;
        Ok(())
    }

    /// RFC 3828 §3.1: bytes of the datagram (header included) the checksum covers; 0 for
    /// all of it; otherwise at least 8.
    pub fn set_udplite_send_coverage(
        &mut self,
        h: SocketHandle,
        coverage: u16,
    ) -> Result<(), Error> {
        if coverage != 0 && coverage < 8 {
            return Err(Error::Invalid("UDP-Lite coverage must be 0 or at least 8"));
        }
        self.socket(h)?.lite_send_coverage = coverage;
        Ok(())
    }

    /// RFC 3828 §3.1: datagrams covering less than this are dropped.
    pub fn set_udplite_recv_min_coverage(
        &mut self,
        h: SocketHandle,
        coverage: u16,
    ) -> Result<(), Error> {
        self.socket(h)?.lite_recv_min_coverage = coverage;
        Ok(())
    }

    /// RFC 3542 §3.2: only these ICMPv6 types reach the socket.
    pub fn set_icmp_filter(&mut self, h: SocketHandle, pass: &[u8]) -> Result<(), Error> {
        let mut f = Box::new([false; 256]);
        for t in pass {
            f[usize::from(*t)] = true;
        }
        self.socket(h)?.icmp_filter = Some(f);
        Ok(())
    }

    pub fn join_multicast(
        &mut self,
        now: Instant,
        h: SocketHandle,
        group: Ipv6Addr,
        iface: IfaceId,
    ) -> Result<(), Error> {
        self.now = self.now.max(now);
        if !group.is_multicast() {
            return Err(Error::Invalid("not a multicast address"));
        }
        if !self.ifaces.contains_key(&iface) {
            return Err(Error::NoSuchInterface);
        }
        let s = self.socket(h)?;
        if s.groups.contains(&(group, iface)) {
            return Err(Error::AddrInUse);
        }
        s.groups.push((group, iface));
        let mut out = Vec::new();
        if let Some(i) = self.ifaces.get_mut(&iface) {
            i.mld
                .join(now, &mut self.rng, group, &mut out)
                .map_err(Error::Invalid)?;
        }
        self.run_mld(now, iface, out);
        Ok(())
    }

    pub fn leave_multicast(
        &mut self,
        now: Instant,
        h: SocketHandle,
        group: Ipv6Addr,
        iface: IfaceId,
    ) -> Result<(), Error> {
        self.now = self.now.max(now);
        let s = self.socket(h)?;
        let before = s.groups.len();
        s.groups.retain(|g| *g != (group, iface));
        if s.groups.len() == before {
            return Err(Error::Invalid("not a member"));
        }
        self.mld_leave(now, iface, group);
        Ok(())
    }

    fn mld_leave(&mut self, now: Instant, iface: IfaceId, group: Ipv6Addr) {
        let mut out = Vec::new();
        if let Some(i) = self.ifaces.get_mut(&iface) {
            i.mld.leave(now, &mut self.rng, group, &mut out);
        }
        self.run_mld(now, iface, out);
    }

    /// The next datagram of a UDP or UDP-Lite socket.
    pub fn recv(&mut self, h: SocketHandle) -> Result<Datagram, Error> {
        self.socket(h)?.rx.pop_front().ok_or(Error::WouldBlock)
    }

    pub fn raw_recv(&mut self, h: SocketHandle) -> Result<RawPacket, Error> {
        self.socket(h)?.raw_rx.pop_front().ok_or(Error::WouldBlock)
    }

    pub fn take_error(&mut self, h: SocketHandle) -> Option<IcmpNotice> {
        self.socket(h).ok()?.errors.pop_front()
    }

    /// What waits in a socket: (datagrams or raw packets received, ICMPv6 errors). The
    /// first is at most `socket_queue_len`.
    pub fn socket_queued(&self, h: SocketHandle) -> Option<(usize, usize)> {
        let s = self.sockets.sockets.get(&h)?;
        Some((s.rx.len() + s.raw_rx.len(), s.errors.len()))
    }

    pub fn send(&mut self, now: Instant, h: SocketHandle, payload: &[u8]) -> Result<usize, Error> {
        let (addr, port, zone) = self
            .socket(h)?
            .remote
            .ok_or(Error::Invalid("not connected"))?;
        self.send_to(now, h, addr, port, zone, payload)
    }

    /// Sends one datagram. The source is the bound address, or RFC 6724's choice.
    pub fn send_to(
        &mut self,
        now: Instant,
        h: SocketHandle,
        dst: Ipv6Addr,
        port: u16,
        zone: Option<IfaceId>,
        payload: &[u8],
    ) -> Result<usize, Error> {
        let kind = self.socket(h)?.kind;
        if matches!(kind, SocketKind::Raw(_)) {
            return self.raw_send_to(now, h, dst, zone, payload);
        }
        if port == 0 {
            return Err(Error::Invalid("destination port 0"));
        }
        if payload.len() > usize::from(u16::MAX) - udp::HEADER_LEN {
            return Err(Error::TooBig);
        }
        if self.socket(h)?.local.is_none() {
            self.bind(h, Ipv6Addr::UNSPECIFIED, 0, None)?;
        }
        let (src, src_port, zone, hl) = self.source_for(h, &dst, zone)?;
        let lite = kind == SocketKind::UdpLite;
        let ph = PseudoHeader::V6 { src, dst };
        let mut dgram = vec![0u8; udp::HEADER_LEN + payload.len()];
        if lite {
            let cov = self.socket(h)?.lite_send_coverage;
            let cov = if usize::from(cov) > dgram.len() {
                0
            } else {
                cov
            };
            dgram[udp::HEADER_LEN..].copy_from_slice(payload);
            let mut p = udp::lite::Packet::new_unchecked(&mut dgram[..]);
            p.set_src_port(src_port);
            p.set_dst_port(port);
            p.set_checksum_coverage(cov);
            p.fill_checksum(&ph)
                .map_err(|_| Error::Invalid("UDP-Lite coverage"))?;
        } else {
            let repr = udp::Repr {
                src_port,
                dst_port: port,
                payload_len: payload.len(),
            };
            repr.emit_with_payload(&mut dgram, payload, &ph)
                .map_err(|_| Error::TooBig)?;
        }
        let proto = if lite {
            IpProtocol::UDPLITE
        } else {
            IpProtocol::UDP
        };
        let pkt = build_packet(src, dst, proto, hl, &dgram)?;
        self.output(now, pkt, zone)?;
        if lite {
            self.stats.udplite.out_datagrams += 1;
        } else {
            self.stats.udp.out_datagrams += 1;
        }
        Ok(payload.len())
    }

    /// The source address, port, zone and hop limit a socket sends to `dst` with.
    fn source_for(
        &mut self,
        h: SocketHandle,
        dst: &Ipv6Addr,
        zone: Option<IfaceId>,
    ) -> Result<(Ipv6Addr, u16, Option<IfaceId>, u8), Error> {
        let s = self.socket(h)?;
        let (laddr, lport, lzone) = s.local.unwrap_or((Ipv6Addr::UNSPECIFIED, 0, None));
        let zone = zone.or(lzone).or(if dst.is_multicast() {
            s.mcast_iface
        } else {
            None
        });
        let (hop, mhop) = (s.hop_limit, s.mcast_hop_limit);
        let out = match self.is_own_addr(dst) {
            Some(i) => i,
            None => self.route(dst, zone)?.0,
        };
        if !self.ifaces.get(&out).is_some_and(|i| i.up) {
            // Said before source selection, which finds nothing on a down interface.
            return Err(Error::InterfaceDown);
        }
        let src = if laddr.is_unspecified() {
            self.select_source(dst, Some(out))
                .ok_or(Error::NoSourceAddress)?
        } else {
            laddr
        };
        // RFC 3493 §5.2: multicast hop limit 1 unless the socket says otherwise.
        let hl = if dst.is_multicast() {
            mhop.unwrap_or(1)
        } else {
            hop.unwrap_or_else(|| self.hop_limit_for(out))
        };
        let zone = zone.or(Some(out).filter(|_| dst.is_link_local_unicast() || dst.is_multicast()));
        Ok((src, lport, zone, hl))
    }

    /// Sends `payload` as the upper layer of a packet the stack builds. On an ICMPv6 socket
    /// the stack fills the checksum (RFC 3542 §3.1).
    pub fn raw_send_to(
        &mut self,
        now: Instant,
        h: SocketHandle,
        dst: Ipv6Addr,
        zone: Option<IfaceId>,
        payload: &[u8],
    ) -> Result<usize, Error> {
        let SocketKind::Raw(proto) = self.socket(h)?.kind else {
            return Err(Error::Invalid("not a raw socket"));
        };
        let (src, _, zone, hl) = self.source_for(h, &dst, zone)?;
        let mut upper = payload.to_vec();
        if proto == IpProtocol::ICMPV6 {
            if upper.len() < icmpv6::MIN_LEN {
                return Err(Error::Invalid("ICMPv6 message shorter than 4 bytes"));
            }
            icmpv6::Packet::new_unchecked(&mut upper[..]).fill_checksum(&src, &dst);
            self.count_icmp_out(icmpv6::Message(upper[0]));
        }
        let pkt = build_packet(src, dst, proto, hl, &upper)?;
        self.output(now, pkt, zone)?;
        Ok(payload.len())
    }

    /// Sends a whole packet with its own IPv6 header, as given (what testers need to send
    /// anything). Only the link layer is the stack's; `zone` picks the interface for
    /// scoped destinations.
    pub fn raw_send_packet(
        &mut self,
        now: Instant,
        h: SocketHandle,
        packet: &[u8],
        zone: Option<IfaceId>,
    ) -> Result<usize, Error> {
        self.socket(h)?;
        let p =
            ipv6::Packet::new_checked(packet).map_err(|_| Error::Invalid("not an IPv6 packet"))?;
        let dst = p.dst_addr();
        let (iface, next_hop) = self.route(&dst, zone)?;
        self.stats.ip.out_requests += 1;
        self.send_via(now, iface, next_hop, packet.to_vec(), false)?;
        Ok(packet.len())
    }

    /// Copies a received packet to every raw socket of its protocol. True if one took it.
    pub(crate) fn raw_deliver(
        &mut self,
        meta: RxMeta,
        pkt: &[u8],
        nh: IpProtocol,
        off: usize,
    ) -> bool {
        let limit = self.cfg.socket_queue_len;
        let now = self.now;
        let icmp_type = pkt.get(off).copied();
        let mut taken = false;
        let mut overflow = 0;
        for s in self.sockets.sockets.values_mut() {
            if s.kind != SocketKind::Raw(nh) {
                continue;
            }
            if let Some((a, _, z)) = s.local
                && ((!a.is_unspecified() && a != meta.dst) || z.is_some_and(|z| z != meta.iface))
            {
                continue;
            }
            if nh == IpProtocol::ICMPV6
                && let (Some(f), Some(t)) = (&s.icmp_filter, icmp_type)
                && !f[usize::from(t)]
            {
                continue;
            }
            taken = true;
            if s.raw_rx.len() >= limit {
                overflow += 1;
                continue;
            }
            s.raw_rx.push_back(RawPacket {
                time: now,
                iface: meta.iface,
                src: meta.src,
                dst: meta.dst,
                hop_limit: meta.hop_limit,
                packet: pkt.to_vec(),
                upper_offset: off,
            });
        }
        for _ in 0..overflow {
            self.stats.drop("raw socket queue full");
        }
        taken
    }

    pub(crate) fn udp_input(
        &mut self,
        now: Instant,
        meta: RxMeta,
        pkt: &[u8],
        off: usize,
        lite: bool,
    ) {
        let data = &pkt[off..];
        let ph = PseudoHeader::V6 {
            src: meta.src,
            dst: meta.dst,
        };
        let (src_port, dst_port, coverage, payload) = if lite {
            let Ok(p) = udp::lite::Packet::new_checked(data) else {
                self.stats.udplite.in_errors += 1;
                self.stats.drop("UDP-Lite header or coverage invalid");
                return;
            };
            if p.verify_checksum(&ph).is_err() {
                self.stats.udplite.in_errors += 1;
                self.stats.drop("UDP-Lite checksum bad");
                return;
            }
            (p.src_port(), p.dst_port(), p.coverage(), p.into_payload())
        } else {
            let Ok(p) = udp::Packet::new_checked(data) else {
                self.stats.udp.in_errors += 1;
                self.stats.drop("UDP header or length invalid");
                return;
            };
            match p.checksum_verdict(&ph) {
                udp::Verdict::Good => {}
                udp::Verdict::IllegalZero => {
                    // RFC 8200 §8.1: a zero UDP checksum over IPv6 is discarded.
                    self.stats.udp.in_errors += 1;
                    self.stats.drop("UDP checksum zero over IPv6");
                    return;
                }
                _ => {
                    self.stats.udp.in_errors += 1;
                    self.stats.drop("UDP checksum bad");
                    return;
                }
            }
            let len = usize::from(p.len());
            (p.src_port(), p.dst_port(), len, p.into_payload())
        };
        let kind = if lite {
            SocketKind::UdpLite
        } else {
            SocketKind::Udp
        };
        // The most specific socket wins for unicast; every matching one for multicast.
        let mut matches: Vec<(u8, SocketHandle)> = Vec::new();
        for (h, s) in &self.sockets.sockets {
            if s.kind != kind {
                continue;
            }
            let Some((la, lp, lz)) = s.local else {
                continue;
            };
            if lp != dst_port || lz.is_some_and(|z| z != meta.iface) {
                continue;
            }
            if !la.is_unspecified() && la != meta.dst {
                continue;
            }
            let mut score = 0;
            if !la.is_unspecified() {
                score += 2;
            }
            if let Some((ra, rp, _)) = s.remote {
                if ra != meta.src || rp != src_port {
                    continue;
                }
                score += 4;
            }
            // Every interface is in all-nodes without asking (RFC 4291 §2.8): its
            // datagrams reach every socket on the port; other groups, those that joined.
            if meta.dst.is_multicast()
                && meta.dst != crate::stack::all_nodes()
                && !s
                    .groups
                    .iter()
                    .any(|(g, i)| *g == meta.dst && *i == meta.iface)
            {
                continue;
            }
            matches.push((score, *h));
        }
        let stats = if lite {
            &mut self.stats.udplite
        } else {
            &mut self.stats.udp
        };
        if matches.is_empty() {
            stats.no_ports += 1;
            self.stats.drop("UDP port unreachable");
            if !meta.dst.is_multicast() {
                self.icmp_error_for(
                    now,
                    Some(meta.iface),
                    pkt,
                    meta.link_multicast,
                    IcmpError::DstUnreachable(4),
                );
            }
            return;
        }
        if !meta.dst.is_multicast() {
            matches.sort_by_key(|(score, h)| (std::cmp::Reverse(*score), *h));
            matches.truncate(1);
        }
        let limit = self.cfg.socket_queue_len;
        for (_, h) in matches {
            let Some(s) = self.sockets.sockets.get_mut(&h) else {
                continue;
            };
            if lite && coverage < usize::from(s.lite_recv_min_coverage) {
                // RFC 3828 §3.1: coverage below what the application asked for.
                self.stats.udplite.in_errors += 1;
                self.stats
                    .drop("UDP-Lite coverage below the socket's minimum");
                continue;
            }
            if s.rx.len() >= limit {
                let stats = if lite {
                    &mut self.stats.udplite
                } else {
                    &mut self.stats.udp
                };
                stats.in_errors += 1;
                self.stats.drop("socket receive queue full");
                continue;
            }
            s.rx.push_back(Datagram {
                time: now,
                src: meta.src,
                src_port,
                dst: meta.dst,
                dst_port,
                iface: meta.iface,
                hop_limit: meta.hop_limit,
                coverage,
                payload: payload.to_vec(),
            });
            let stats = if lite {
                &mut self.stats.udplite
            } else {
                &mut self.stats.udp
            };
            stats.in_datagrams += 1;
        }
        self.stats.ip.in_delivers += 1;
    }

    /// An ICMPv6 error quoting a UDP datagram we sent: tell the socket that sent it.
    pub(crate) fn udp_error_input(
        &mut self,
        meta: RxMeta,
        msg_type: u8,
        code: u8,
        invoking: &[u8],
    ) {
        let Ok(q) = ipv6::Packet::new_lenient(invoking) else {
            return;
        };
        let (qdst, payload) = (q.dst_addr(), q.payload());
        let chain = Chain::walk(q.next_header(), payload);
        let Some((proto, off)) = chain.upper_layer() else {
            return;
        };
        let kind = match proto {
            IpProtocol::UDP => SocketKind::Udp,
            IpProtocol::UDPLITE => SocketKind::UdpLite,
            _ => return,
        };
        let Some(hdr) = payload.get(off..off + 4) else {
            return;
        };
        let sport = u16::from_be_bytes([hdr[0], hdr[1]]);
        let dport = u16::from_be_bytes([hdr[2], hdr[3]]);
        for s in self.sockets.sockets.values_mut() {
            if s.kind == kind && s.local.is_some_and(|(_, p, _)| p == sport) && s.errors.len() < 16
            {
                s.errors.push_back(IcmpNotice {
                    from: meta.src,
                    msg_type,
                    code,
                    dst: qdst,
                    dst_port: dport,
                });
            }
        }
    }
}
