//! IPv6 output (RFC 8200): the next hop (redirects, the route table, on-link prefixes,
//! default routers), the source address (RFC 6724), fragmentation to the path MTU, the
//! link layer (multicast mapping or address resolution), and forwarding in router mode.

use std::net::Ipv6Addr;

use sixstack_wire::addr::Ipv6AddrExt;
use sixstack_wire::ethernet;
use sixstack_wire::ipv6;
use sixstack_wire::proto::{EtherType, IpProtocol};

use crate::addr::select::{self, SourceCandidate};
use crate::icmp::IcmpError;
use crate::iface::link::multicast_lladdr;
use crate::iface::{IfaceId, LinkAddr, LinkKind};
use crate::ip::frag;
use crate::ip::input::RxMeta;
use crate::ip::route::RouteKind;
use crate::nd::neighbor::{NeighborCache, NudState};
use crate::slaac::{AddrState, Origin};
use crate::stack::{Error, Stack, same_prefix};
use crate::stats::IpStats;
use crate::time::Instant;

/// The IPv6 minimum link MTU (RFC 8200 §5).
pub const MIN_MTU: u32 = 1280;

/// Builds an IPv6 packet around `upper` (which starts with any extension headers).
pub(crate) fn build_packet(
    src: Ipv6Addr,
    dst: Ipv6Addr,
    next_header: IpProtocol,
    hop_limit: u8,
    upper: &[u8],
) -> Result<Vec<u8>, Error> {
    let payload_len = u16::try_from(upper.len()).map_err(|_| Error::TooBig)?;
    let mut pkt = vec![0u8; ipv6::HEADER_LEN + upper.len()];
    let repr = ipv6::Repr {
        traffic_class: 0,
        flow_label: 0,
        payload_len,
        next_header,
        hop_limit,
        src_addr: src,
        dst_addr: dst,
    };
    repr.emit(&mut pkt).map_err(|_| Error::TooBig)?;
    pkt[ipv6::HEADER_LEN..].copy_from_slice(upper);
    Ok(pkt)
}

/// The destination address of a whole IPv6 packet; None when it is shorter than a header.
fn packet_dst(pkt: &[u8]) -> Option<Ipv6Addr> {
    let b: [u8; 16] = pkt.get(24..40)?.try_into().ok()?;
    Some(Ipv6Addr::from(b))
}

/// Reachability of a neighbor as RFC 4861 §6.3.6 router selection wants it.
fn reachability(neighbors: &NeighborCache, addr: &Ipv6Addr) -> Option<bool> {
    match neighbors.lookup(addr)?.state {
        NudState::Incomplete => None,
        _ => Some(true),
    }
}

/// What chose the first hop of a route decision ([`Stack::route_get`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteVia {
    /// A link-local or link-scope multicast destination: its zone names the link.
    Scoped,
    /// A Redirect (RFC 4861 §8.3) for this destination.
    Redirect,
    /// An entry of the route table.
    Table(crate::ip::route::Route),
    /// An on-link prefix learned from a Router Advertisement (RFC 4861 §6.3.4).
    OnLinkPrefix { prefix: Ipv6Addr, prefix_len: u8 },
    /// The default router list (RFC 4861 §6.3.6).
    DefaultRouter,
    /// A multicast destination of wider scope, out of the default zone.
    Multicast,
}

impl Stack {
    /// Whether `addr` is one of our usable unicast addresses on any interface.
    pub(crate) fn is_own_addr(&self, addr: &Ipv6Addr) -> Option<IfaceId> {
        self.ifaces
            .values()
            .find(|i| i.addrs.is_assigned(addr))
            .map(|i| i.id)
    }

    /// The first hop towards `dst`: (interface, next-hop address).
    pub(crate) fn route(
        &mut self,
        dst: &Ipv6Addr,
        zone: Option<IfaceId>,
    ) -> Result<(IfaceId, Ipv6Addr), Error> {
        match self.route_decision(dst, zone)? {
            // Blackhole, unreachable, prohibit: no route for our own packets;
            // forward_check tells them apart for forwarded ones.
            (_, _, RouteVia::Table(r)) if r.kind != RouteKind::Unicast => Err(Error::NoRoute),
            (i, nh, _) => Ok((i, nh)),
        }
    }

    /// The first hop towards `dst` and what chose it (RFC 4861 §5.2 conceptual sending
    /// algorithm, with the route table in front of the prefix and default router lists).
    pub(crate) fn route_decision(
        &mut self,
        dst: &Ipv6Addr,
        zone: Option<IfaceId>,
    ) -> Result<(IfaceId, Ipv6Addr, RouteVia), Error> {
        if let Some(z) = zone
            && !self.ifaces.contains_key(&z)
        {
            return Err(Error::NoSuchInterface);
        }
        let scoped =
            dst.is_link_local_unicast() || (dst.is_multicast() && dst.octets()[1] & 0x0f <= 2);
        if scoped {
            // RFC 4007 §6: a link-scope destination names its link by its zone.
            let iface = zone
                .or_else(|| self.default_zone())
                .ok_or(Error::ZoneRequired)?;
            return Ok((iface, *dst, RouteVia::Scoped));
        }
        if let Some((i, target, _)) = self.redirects.get(dst)
            && zone.is_none_or(|z| z == *i)
        {
            return Ok((*i, *target, RouteVia::Redirect));
        }
        let mut best: Option<(u8, IfaceId, Ipv6Addr, RouteVia)> = None;
        if let Some(r) = self.routes.lookup(dst, zone) {
            let nh = r.next_hop.unwrap_or(*dst);
            best = Some((r.prefix_len, r.iface, nh, RouteVia::Table(r)));
        }
        for i in self
            .ifaces
            .values()
            .filter(|i| i.up && zone.is_none_or(|z| z == i.id))
        {
            for p in i.routers.prefixes() {
                if same_prefix(dst, &p.prefix, p.prefix_len)
                    && best.as_ref().is_none_or(|b| p.prefix_len > b.0)
                {
                    let via = RouteVia::OnLinkPrefix {
                        prefix: p.prefix,
                        prefix_len: p.prefix_len,
                    };
                    best = Some((p.prefix_len, i.id, *dst, via));
                }
            }
        }
        if let Some((len, i, nh, via)) = best
            && len > 0
        {
            return Ok((i, nh, via));
        }
        for i in self
            .ifaces
            .values_mut()
            .filter(|i| i.up && zone.is_none_or(|z| z == i.id))
        {
            let crate::iface::Interface {
                routers, neighbors, ..
            } = i;
            if let Some(r) = routers.choose_router(dst, |a| reachability(neighbors, a)) {
                return Ok((i.id, r, RouteVia::DefaultRouter));
            }
        }
        if dst.is_multicast() {
            let iface = zone
                .or_else(|| self.default_zone())
                .ok_or(Error::ZoneRequired)?;
            return Ok((iface, *dst, RouteVia::Multicast));
        }
        best.map(|(_, i, nh, via)| (i, nh, via))
            .ok_or(Error::NoRoute)
    }

    /// The addresses this node may use as sources leaving by `out_iface` (RFC 6724 §4):
    /// scoped addresses only from their own zone.
    fn source_candidates(&self, out_iface: Option<IfaceId>) -> Vec<SourceCandidate> {
        let out_site = out_iface.and_then(|o| self.ifaces.get(&o)).map(|i| i.site);
        let mut cands = Vec::new();
        for i in self.ifaces.values().filter(|i| i.up && i.enabled) {
            for e in i.addrs.iter() {
                if !matches!(e.state, AddrState::Preferred | AddrState::Deprecated) {
                    continue;
                }
                let allowed = if e.addr.is_link_local_unicast() || e.addr.is_loopback() {
                    Some(i.id) == out_iface
                } else if e.addr.is_site_local_unicast() {
                    out_site.is_none_or(|s| s == i.site)
                } else {
                    true
                };
                if allowed {
                    cands.push(SourceCandidate {
                        addr: e.addr,
                        iface: i.id,
                        preferred: e.state == AddrState::Preferred,
                        temporary: e.origin == Origin::Temporary,
                        home: false,
                        care_of: false,
                        prefix_len: e.prefix_len,
                    });
                }
            }
        }
        cands
    }

    /// RFC 6724 §5: the source address towards `dst` leaving by `out_iface`.
    pub(crate) fn select_source(
        &self,
        dst: &Ipv6Addr,
        out_iface: Option<IfaceId>,
    ) -> Option<Ipv6Addr> {
        let cands = self.source_candidates(out_iface);
        select::select_source(
            dst,
            out_iface,
            &cands,
            &self.cfg.policy,
            self.cfg.prefer_temporary,
        )
    }

    /// RFC 6724 §6: `dsts` in the order an application should try them (what name
    /// resolution returns). Unreachable ones last.
    pub fn order_destinations(&mut self, dsts: &[Ipv6Addr]) -> Vec<Ipv6Addr> {
        let mut infos = Vec::with_capacity(dsts.len());
        for d in dsts {
            let out = match self.is_own_addr(d) {
                Some(i) => Some(i),
                None => self.route(d, None).ok().map(|r| r.0),
            };
            let source = out.and_then(|o| {
                let cands = self.source_candidates(Some(o));
                select::select_source_candidate(
                    d,
                    Some(o),
                    &cands,
                    &self.cfg.policy,
                    self.cfg.prefer_temporary,
                )
                .cloned()
            });
            let mut info = select::DestInfo::new(*d, source);
            info.reachable = out.map(|_| true);
            infos.push(info);
        }
        select::sort_destinations(&mut infos, &self.cfg.policy);
        infos.into_iter().map(|i| i.addr).collect()
    }

    /// A usable address of `iface` for link-local traffic (ND, MLD), if any.
    pub(crate) fn link_local_of(&self, iface: IfaceId) -> Option<Ipv6Addr> {
        self.ifaces.get(&iface).and_then(|i| i.addrs.link_local())
    }

    /// Sends a packet this node originates. `zone` restricts it to an interface.
    pub(crate) fn output(
        &mut self,
        now: Instant,
        pkt: Vec<u8>,
        zone: Option<IfaceId>,
    ) -> Result<(), Error> {
        self.now = self.now.max(now);
        self.stats.ip.out_requests += 1;
        let dst = packet_dst(&pkt).ok_or(Error::Invalid("not an IPv6 packet"))?;
        if !dst.is_multicast()
            && let Some(owner) = self.is_own_addr(&dst)
        {
            // To ourselves: through loopback, delivered on the next poll.
            let via = self
                .ifaces
                .values()
                .find(|i| matches!(i.link, LinkKind::Loopback))
                .map(|i| i.id)
                .filter(|_| dst.is_loopback())
                .unwrap_or(owner);
            self.queue_loopback(via, pkt);
            return Ok(());
        }
        let (iface, next_hop) = match self.route(&dst, zone) {
            Ok(r) => r,
            Err(e) => {
                self.stats.ip.out_no_routes += 1;
                self.stats.drop("no route for an outgoing packet");
                return Err(e);
            }
        };
        self.send_via(now, iface, next_hop, pkt, true)
    }

    /// Puts a packet on interface `iface` towards `next_hop`, fragmenting packets we
    /// originate (`local`) to the path MTU; a forwarded packet that is too big is refused.
    pub(crate) fn send_via(
        &mut self,
        now: Instant,
        iface: IfaceId,
        next_hop: Ipv6Addr,
        pkt: Vec<u8>,
        local: bool,
    ) -> Result<(), Error> {
        self.now = self.now.max(now);
        let Some(i) = self.ifaces.get(&iface) else {
            return Err(Error::NoSuchInterface);
        };
        if !i.up || !i.enabled {
            self.stats.ip.out_discards += 1;
            self.stats.drop("outgoing interface down");
            return Err(Error::InterfaceDown);
        }
        let dst = packet_dst(&pkt).ok_or(Error::Invalid("not an IPv6 packet"))?;
        let mut mtu = i.mtu.max(MIN_MTU);
        if !dst.is_multicast()
            && let Some(p) = self.pmtu.get(&dst)
        {
            mtu = mtu.min(p.max(MIN_MTU));
        }
        if pkt.len() <= mtu as usize {
            self.link_send(now, iface, next_hop, pkt);
            return Ok(());
        }
        if !local {
            return Err(Error::TooBig);
        }
        self.stats.ip.out_frag_reqds += 1;
        let ident = self.next_frag_ident();
        match frag::fragment(&pkt, mtu as usize, ident) {
            Ok(frags) => {
                self.stats.ip.out_frag_oks += 1;
                self.stats.ip.out_frag_creates += frags.len() as u64;
                for f in frags {
                    self.link_send(now, iface, next_hop, f);
                }
                Ok(())
            }
            Err(reason) => {
                self.stats.ip.out_frag_fails += 1;
                self.stats.drop(reason);
                Err(Error::TooBig)
            }
        }
    }

    /// [`send_via`](Self::send_via) for a packet we originate that sits in `buf` after
    /// `head` bytes of room: when the interface is an up Ethernet, the room is the
    /// Ethernet header's, the packet fits the path MTU and the next hop is resolved
    /// (`NeighborCache::resolved`), the header is written into the room and the buffer
    /// queued as the frame (no second buffer, no copy); otherwise the room is cut off
    /// and the packet goes the ordinary way.
    pub(crate) fn send_via_headroom(
        &mut self,
        now: Instant,
        iface: IfaceId,
        next_hop: Ipv6Addr,
        mut buf: Vec<u8>,
        head: usize,
    ) -> Result<(), Error> {
        self.now = self.now.max(now);
        let pkt_len = buf.len().saturating_sub(head);
        let dst = buf.get(head..).and_then(packet_dst);
        if let (Some(i), Some(dst)) = (self.ifaces.get(&iface), dst)
            && head == ethernet::HEADER_LEN
            && i.up
            && i.enabled
            && let LinkKind::Ethernet { mac } = i.link
            && !next_hop.is_multicast()
            && !dst.is_multicast()
        {
            let mut mtu = i.mtu.max(MIN_MTU);
            if let Some(p) = self.pmtu.get(&dst) {
                mtu = mtu.min(p.max(MIN_MTU));
            }
            if pkt_len <= mtu as usize
                && let Some(LinkAddr::Mac(to)) = i.neighbors.resolved(now, &next_hop)
            {
                buf[0..6].copy_from_slice(&to.0);
                buf[6..12].copy_from_slice(&mac.0);
                buf[12..14].copy_from_slice(&EtherType::IPV6.0.to_be_bytes());
                self.push_frame(iface, buf);
                return Ok(());
            }
        }
        if head > 0 {
            buf.drain(..head.min(buf.len()));
        }
        self.send_via(now, iface, next_hop, buf, true)
    }

    /// Queues a packet for our own delivery on the next poll. Bounded like the transmit
    /// queue: a peer that makes us answer ourselves faster than we are polled (spoofed
    /// sources) costs drops, not memory.
    fn queue_loopback(&mut self, iface: IfaceId, pkt: Vec<u8>) {
        if self.loopback.len() >= self.cfg.max_transmit_queue {
            self.stats.ip.out_discards += 1;
            self.stats.drop("loopback queue full");
            return;
        }
        self.loopback.push_back((iface, pkt));
    }

    /// Hands a packet that fits the link to the link layer.
    pub(crate) fn link_send(
        &mut self,
        now: Instant,
        iface: IfaceId,
        next_hop: Ipv6Addr,
        pkt: Vec<u8>,
    ) {
        let Some(i) = self.ifaces.get_mut(&iface) else {
            return;
        };
        if pkt.get(24..40).is_some_and(|d| d[0] == 0xff) {
            self.stats.ip.out_mcast_pkts += 1;
            i.stats.out_mcast_pkts += 1;
        }
        match i.link {
            LinkKind::Loopback => self.queue_loopback(iface, pkt),
            LinkKind::PointToPoint => self.push_frame(iface, pkt),
            kind @ (LinkKind::Ethernet { .. } | LinkKind::Fddi { .. }) => {
                if next_hop.is_multicast() {
                    let frame = kind.frame(multicast_lladdr(&kind, &next_hop), &pkt);
                    self.push_frame(iface, frame);
                } else if let Some(lladdr) = i.neighbors.resolved(now, &next_hop) {
                    let frame = kind.frame(Some(lladdr), &pkt);
                    self.push_frame(iface, frame);
                } else {
                    let mut out = Vec::new();
                    let retrans = i.retrans_timer;
                    i.neighbors.send(now, next_hop, pkt, retrans, &mut out);
                    self.run_neighbor(now, iface, out);
                }
            }
        }
    }

    /// Router mode: RFC 8200 §3 hop limit, RFC 4007 §9 zones, RFC 4443 errors.
    pub(crate) fn forward(&mut self, now: Instant, meta: RxMeta, pkt: &[u8]) {
        let before = self.stats.ip;
        let out = self.forward_inner(now, meta, pkt).unwrap_or(meta.iface);
        // The per-interface view of the same counters (RFC 4293 ipIfStatsTable).
        let (inc, outc) = IpStats::growth(&before, &self.stats.ip);
        if let Some(i) = self.ifaces.get_mut(&meta.iface) {
            i.stats.add(&inc);
        }
        if let Some(i) = self.ifaces.get_mut(&out) {
            i.stats.add(&outc);
        }
    }

    /// Forwards, or drops with the error to send; returns the interface it left by.
    fn forward_inner(&mut self, now: Instant, meta: RxMeta, pkt: &[u8]) -> Option<IfaceId> {
        match self.forward_check(meta) {
            Err((reason, err)) => {
                self.stats.drop(reason);
                if let Some(err) = err {
                    self.icmp_error_for(now, Some(meta.iface), pkt, false, err);
                }
            }
            Ok((out, next_hop, mtu)) => {
                let mut copy = pkt.to_vec();
                copy[7] = meta.hop_limit - 1;
                self.stats.ip.in_forw_datagrams += 1;
                if copy.len() > mtu as usize {
                    // RFC 8200 §5: routers never fragment; RFC 4443 §3.2 Packet Too Big.
                    self.stats.ip.out_frag_fails += 1;
                    self.stats.drop("packet too big to forward");
                    let err = IcmpError::PacketTooBig(mtu);
                    self.icmp_error_for(now, Some(meta.iface), pkt, false, err);
                    return Some(out);
                }
                if out == meta.iface {
                    self.maybe_send_redirect(now, meta, pkt, next_hop);
                }
                self.stats.ip.out_forw_datagrams += 1;
                let _ = self.send_via(now, out, next_hop, copy, false);
                return Some(out);
            }
        }
        None
    }

    /// Whether and where a router forwards a packet: (interface, next hop, its MTU), or
    /// why not and the error to send back.
    #[allow(clippy::type_complexity)]
    fn forward_check(
        &mut self,
        meta: RxMeta,
    ) -> Result<(IfaceId, Ipv6Addr, u32), (&'static str, Option<IcmpError>)> {
        if meta.link_multicast {
            self.stats.ip.in_discards += 1;
            return Err(("unicast packet in a link-layer multicast frame", None));
        }
        if meta.src.is_unspecified() {
            // RFC 4291 §2.5.2: never forwarded.
            self.stats.ip.in_discards += 1;
            return Err(("unspecified source not forwarded", None));
        }
        if meta.dst.is_link_local_unicast() {
            self.stats.ip.in_discards += 1;
            return Err(("link-local destination not forwarded", None));
        }
        if meta.src.is_link_local_unicast() {
            // RFC 4007 §9: a link-local source never leaves its link.
            self.stats.ip.in_discards += 1;
            let err = IcmpError::DstUnreachable(2);
            return Err(("link-local source not forwarded", Some(err)));
        }
        if meta.hop_limit <= 1 {
            // RFC 8200 §3 / RFC 4443 §3.3: hop limit exceeded in transit.
            self.stats.ip.in_hdr_errors += 1;
            return Err(("hop limit exceeded", Some(IcmpError::TimeExceeded(0))));
        }
        let Ok((out, next_hop)) = self.route(&meta.dst, None) else {
            // A refusing route (looked up again only on this path) says how to refuse.
            return Err(match self.routes.lookup(&meta.dst, None).map(|r| r.kind) {
                Some(RouteKind::Blackhole) => ("blackhole route", None),
                Some(RouteKind::Unreachable) => {
                    self.stats.ip.in_no_routes += 1;
                    ("unreachable route", Some(IcmpError::DstUnreachable(0)))
                }
                Some(RouteKind::Prohibit) => {
                    let err = IcmpError::DstUnreachable(1);
                    ("administratively prohibited route", Some(err))
                }
                _ => {
                    self.stats.ip.in_no_routes += 1;
                    ("no route to forward", Some(IcmpError::DstUnreachable(0)))
                }
            });
        };
        let in_site = self.ifaces.get(&meta.iface).map(|i| i.site);
        let out_site = self.ifaces.get(&out).map(|i| i.site);
        if (meta.src.is_site_local_unicast() || meta.dst.is_site_local_unicast())
            && in_site != out_site
        {
            // RFC 4007 §9: site-local packets stay in their site. The destination's zone
            // comes first: a site-local destination has no route outside the arrival
            // site (code 0); only a site-local source with a destination beyond its
            // site is "beyond scope of source address" (code 2).
            let code = if meta.dst.is_site_local_unicast() {
                0
            } else {
                2
            };
            self.stats.ip.in_discards += 1;
            let err = IcmpError::DstUnreachable(code);
            return Err(("site-local packet would cross a site border", Some(err)));
        }
        let mtu = self.ifaces.get(&out).map(|i| i.mtu).unwrap_or(MIN_MTU);
        Ok((out, next_hop, mtu))
    }
}
