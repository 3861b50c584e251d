//! IPv6 input (RFC 8200): header validation, the decision "for us, forward or drop",
//! extension headers in the order they come, option action bits, routing headers,
//! fragments handed to reassembly, and dispatch to ICMPv6, UDP, UDP-Lite and raw sockets.

use std::net::Ipv6Addr;

use sixstack_wire::addr::Ipv6AddrExt;
use sixstack_wire::error::ErrorKind;
use sixstack_wire::ipv6;
use sixstack_wire::ipv6opts::{self, Ipv6Option, UnrecognizedAction};
use sixstack_wire::ipv6routing;
use sixstack_wire::proto::IpProtocol;

use crate::icmp::IcmpError;
use crate::iface::{IfaceId, LinkKind};
use crate::slaac::AddrState;
use crate::stack::Stack;
use crate::time::Instant;

/// Extension headers we walk before giving up on a packet: bounds the work a hostile
/// chain can cause. Real packets have a handful.
const MAX_EXTENSION_HEADERS: usize = 32;

/// What a received packet is to this node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Disposition {
    Local,
    Forward,
    Drop(&'static str),
}

/// The facts about a received packet that its handlers need.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RxMeta {
    pub iface: IfaceId,
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    pub hop_limit: u8,
    pub link_multicast: bool,
}

impl Stack {
    /// A frame arrived on an interface.
    pub fn receive(&mut self, now: Instant, iface: IfaceId, frame: &[u8]) {
        self.now = self.now.max(now);
        let Some(i) = self.ifaces.get(&iface) else {
            self.stats.drop("no such interface");
            return;
        };
        if !i.up {
            self.stats.drop("interface down");
            return;
        }
        if !i.enabled {
            self.stats.drop("IPv6 disabled on interface");
            return;
        }
        match i.link.unframe(frame) {
            Ok(u) => self.ip_input(now, iface, u.packet, u.link_multicast),
            Err(reason) => {
                if let Some(i) = self.ifaces.get_mut(&iface) {
                    i.stats.in_discards += 1;
                }
                self.stats.drop(reason);
            }
        }
    }

    pub(crate) fn ip_input(
        &mut self,
        now: Instant,
        iface: IfaceId,
        data: &[u8],
        link_multicast: bool,
    ) {
        self.stats.ip.in_receives += 1;
        self.stats.ip.in_octets += data.len() as u64;
        if let Some(i) = self.ifaces.get_mut(&iface) {
            i.stats.in_receives += 1;
            i.stats.in_octets += data.len() as u64;
        }
        let p = match ipv6::Packet::new_checked(data) {
            Ok(p) => p,
            Err(e) => {
                match e.kind {
                    // RFC 4293 InTruncatedPkts: the frame did not carry enough data, be it
                    // for the fixed header or for what Payload Length announces.
                    ErrorKind::Truncated { .. } | ErrorKind::BadLength => {
                        self.stats.ip.in_truncated_pkts += 1;
                        self.stats.drop("IPv6 packet truncated");
                    }
                    ErrorKind::BadVersion => {
                        self.stats.ip.in_hdr_errors += 1;
                        self.stats.drop("IP version not 6");
                    }
                    _ => {
                        self.stats.ip.in_hdr_errors += 1;
                        self.stats.drop("IPv6 header invalid");
                    }
                }
                return;
            }
        };
        let plen = usize::from(p.payload_len());
        if plen == 0 && p.next_header() == IpProtocol::HOPOPTS {
            // RFC 2675 jumbograms need a link MTU above 65575 bytes: none of ours has one.
            self.stats.ip.in_hdr_errors += 1;
            self.stats.drop("jumbogram not supported");
            return;
        }
        // Link-layer padding after the payload is not part of the packet.
        let pkt = &data[..ipv6::HEADER_LEN + plen];
        let (src, dst) = (p.src_addr(), p.dst_addr());
        let is_loopback_iface = self
            .ifaces
            .get(&iface)
            .is_some_and(|i| matches!(i.link, LinkKind::Loopback));
        let bad = if src.is_multicast() {
            // RFC 4291 §2.7: multicast addresses must not be used as source addresses.
            Some("source address is multicast")
        } else if !is_loopback_iface && (src.is_loopback() || dst.is_loopback()) {
            // RFC 4291 §2.5.3: never sent outside a node, dropped when received.
            Some("loopback address from the wire")
        } else if dst.is_unspecified() {
            Some("destination address unspecified")
        } else if dst.is_multicast() && dst.octets()[1] & 0x0f == 0 {
            // RFC 4291 §2.7: scope 0 is reserved.
            Some("multicast destination of reserved scope 0")
        } else if !is_loopback_iface && dst.is_multicast() && dst.octets()[1] & 0x0f == 1 {
            // RFC 4291 §2.7: interface-local multicast never leaves the node.
            Some("interface-local multicast from the wire")
        } else {
            None
        };
        if let Some(reason) = bad {
            self.stats.ip.in_addr_errors += 1;
            self.stats.drop(reason);
            return;
        }
        let meta = RxMeta {
            iface,
            src,
            dst,
            hop_limit: p.hop_limit(),
            link_multicast,
        };
        match self.classify(iface, &dst) {
            Disposition::Local => {
                if dst.is_multicast() {
                    self.stats.ip.in_mcast_pkts += 1;
                }
                self.local_input(now, meta, pkt, false);
            }
            Disposition::Forward => self.forward(now, meta, pkt),
            Disposition::Drop(reason) => {
                self.stats.ip.in_addr_errors += 1;
                self.stats.drop(reason);
            }
        }
    }

    fn classify(&self, iface: IfaceId, dst: &Ipv6Addr) -> Disposition {
        let Some(i) = self.ifaces.get(&iface) else {
            return Disposition::Drop("no such interface");
        };
        if dst.is_multicast() {
            // The address table listens to solicited-node groups of tentative addresses
            // before their (delayed) MLD join, so that DAD hears other probes.
            // A querier hears every group: reports go to ff02::16 (v2) or the group (v1).
            if i.mld.is_member(dst)
                || i.addrs.listens_to(dst)
                || i.querier.is_some()
                || (dst.octets()[1] & 0x0f == 1 && dst.segments()[7] == 1)
            {
                return Disposition::Local;
            }
            return Disposition::Drop("not a member of the multicast group");
        }
        match self.local_addr_state(iface, dst) {
            Some(AddrState::Preferred | AddrState::Deprecated) => return Disposition::Local,
            // RFC 4862 §5.4: packets to a tentative address are silently discarded (DAD's
            // own messages go to the solicited-node group, not to the address).
            Some(AddrState::Tentative) => {
                return Disposition::Drop("destination address tentative");
            }
            Some(AddrState::Duplicate) | None => {}
        }
        if self.cfg.forwarding {
            Disposition::Forward
        } else {
            Disposition::Drop("not for this node")
        }
    }

    /// The state of `dst` if it is one of our unicast addresses reachable from a packet
    /// that arrived on `iface`, honouring zones (RFC 4007 §9): a link-local address only on
    /// its own interface, a site-local one only within the same site, a global one on any
    /// interface (the weak host model, RFC 1122 §3.3.4.2).
    pub(crate) fn local_addr_state(&self, iface: IfaceId, dst: &Ipv6Addr) -> Option<AddrState> {
        let arrival = self.ifaces.get(&iface)?;
        let scope_ok = |i: &crate::iface::Interface| {
            if dst.is_link_local_unicast() || dst.is_loopback() {
                i.id == iface
            } else if dst.is_site_local_unicast() {
                i.site == arrival.site
            } else {
                true
            }
        };
        let mut best = None;
        for i in self.ifaces.values().filter(|i| scope_ok(i)) {
            if let Some(e) = i.addrs.get(dst) {
                match e.state {
                    AddrState::Preferred | AddrState::Deprecated => return Some(e.state),
                    s => best = best.or(Some(s)),
                }
            }
        }
        best
    }

    /// The extension header loop of RFC 8200 §4: each header processed in the order it
    /// appears, until an upper-layer protocol takes the packet.
    pub(crate) fn local_input(
        &mut self,
        now: Instant,
        meta: RxMeta,
        pkt: &[u8],
        reassembled: bool,
    ) {
        let mut nh = IpProtocol(pkt[6]);
        let mut off = ipv6::HEADER_LEN;
        let mut nh_off = 6usize;
        for _ in 0..MAX_EXTENSION_HEADERS {
            let rest = &pkt[off..];
            match nh {
                IpProtocol::HOPOPTS | IpProtocol::DSTOPTS => {
                    if nh == IpProtocol::HOPOPTS && off != ipv6::HEADER_LEN {
                        // RFC 8200 §4.1: Hop-by-Hop only right after the IPv6 header.
                        self.stats.ip.in_hdr_errors += 1;
                        self.stats.drop("Hop-by-Hop header not first");
                        self.param_problem(now, meta, pkt, 1, nh_off as u32);
                        return;
                    }
                    let Ok(h) = ipv6opts::Packet::new_checked(rest) else {
                        self.stats.ip.in_hdr_errors += 1;
                        self.stats.drop("options header truncated");
                        return;
                    };
                    let hbh = nh == IpProtocol::HOPOPTS;
                    if !self.process_options(now, meta, pkt, off, hbh) {
                        return;
                    }
                    nh_off = off;
                    nh = h.next_header();
                    off += h.header_len();
                }
                IpProtocol::ROUTING => {
                    let Ok(h) = ipv6routing::Packet::new_checked(rest) else {
                        self.stats.ip.in_hdr_errors += 1;
                        self.stats.drop("routing header truncated");
                        return;
                    };
                    if h.segments_left() != 0 {
                        // RFC 5095 §3: type 0 is never processed; RFC 8200 §4.4: an
                        // unrecognized type with segments left gets Parameter Problem code
                        // 0 at the Routing Type. We act on no routing type as a host.
                        let reason = if h.routing_type() == ipv6routing::RoutingType::TYPE0 {
                            "routing header type 0 (RFC 5095)"
                        } else {
                            "routing header type not processed"
                        };
                        self.stats.ip.in_hdr_errors += 1;
                        self.stats.drop(reason);
                        self.param_problem(now, meta, pkt, 0, (off + 2) as u32);
                        return;
                    }
                    nh_off = off;
                    nh = h.next_header();
                    off += h.header_len();
                }
                IpProtocol::FRAGMENT => {
                    if reassembled {
                        self.stats.ip.in_hdr_errors += 1;
                        self.stats
                            .drop("fragment header inside a reassembled packet");
                        return;
                    }
                    self.fragment_input(now, meta, pkt, nh_off, off);
                    return;
                }
                IpProtocol::NO_NEXT_HEADER => {
                    self.raw_deliver(meta, pkt, nh, off);
                    self.stats.ip.in_delivers += 1;
                    return;
                }
                IpProtocol::ICMPV6 => {
                    // Raw ICMPv6 sockets get the message once its checksum is known good.
                    self.icmp_input(now, meta, pkt, off);
                    return;
                }
                IpProtocol::UDP | IpProtocol::UDPLITE => {
                    self.raw_deliver(meta, pkt, nh, off);
                    self.udp_input(now, meta, pkt, off, nh == IpProtocol::UDPLITE);
                    return;
                }
                IpProtocol::TCP => {
                    self.raw_deliver(meta, pkt, nh, off);
                    self.tcp_input(now, meta, pkt, off);
                    return;
                }
                _ => {
                    if self.raw_deliver(meta, pkt, nh, off) {
                        self.stats.ip.in_delivers += 1;
                        return;
                    }
                    // RFC 8200 §4: unrecognized Next Header -> Parameter Problem code 1
                    // pointing at the field that named it.
                    self.stats.ip.in_unknown_protos += 1;
                    self.stats.drop("unknown next header");
                    self.param_problem(now, meta, pkt, 1, nh_off as u32);
                    return;
                }
            }
            if off > pkt.len() {
                self.stats.ip.in_hdr_errors += 1;
                self.stats.drop("extension header runs past the packet");
                return;
            }
        }
        self.stats.ip.in_hdr_errors += 1;
        self.stats.drop("too many extension headers");
    }

    /// Walks the options of a Hop-by-Hop or Destination Options header at `off`. Returns
    /// whether the packet goes on (RFC 8200 §4.2 action bits).
    fn process_options(
        &mut self,
        now: Instant,
        meta: RxMeta,
        pkt: &[u8],
        off: usize,
        hbh: bool,
    ) -> bool {
        let Ok(h) = ipv6opts::Packet::new_checked(&pkt[off..]) else {
            return false;
        };
        for item in h.options() {
            let (o_off, opt) = match item {
                Ok(x) => x,
                Err(e) => {
                    // An option whose length runs past its header.
                    self.stats.ip.in_hdr_errors += 1;
                    self.stats.drop("option length runs past its header");
                    self.param_problem(now, meta, pkt, 0, (off + e.offset) as u32);
                    return false;
                }
            };
            let option_type = match opt {
                Ipv6Option::Pad1 | Ipv6Option::PadN(_) => continue,
                Ipv6Option::RouterAlert(_) if hbh => continue,
                other => other.option_type(),
            };
            match option_type.action() {
                UnrecognizedAction::Skip => continue,
                UnrecognizedAction::Discard => {
                    self.stats.drop("unrecognized option (discard)");
                    return false;
                }
                UnrecognizedAction::DiscardAndIcmp => {
                    self.stats.drop("unrecognized option (discard, ICMP)");
                    self.param_problem(now, meta, pkt, 2, (off + o_off) as u32);
                    return false;
                }
                UnrecognizedAction::DiscardAndIcmpUnlessMulticast => {
                    self.stats
                        .drop("unrecognized option (discard, ICMP unless multicast)");
                    if !meta.dst.is_multicast() {
                        self.param_problem(now, meta, pkt, 2, (off + o_off) as u32);
                    }
                    return false;
                }
            }
        }
        true
    }

    fn fragment_input(
        &mut self,
        now: Instant,
        meta: RxMeta,
        pkt: &[u8],
        nh_off: usize,
        off: usize,
    ) {
        use crate::ip::reasm::ReasmOutcome;
        self.stats.ip.reasm_reqds += 1;
        self.expire_reassembly(now);
        match self.reasm.insert(now, pkt, nh_off, off) {
            ReasmOutcome::Pending => {}
            ReasmOutcome::Complete(whole) => {
                self.stats.ip.reasm_oks += 1;
                self.local_input(now, meta, &whole, true);
            }
            ReasmOutcome::Dropped(reason) => {
                self.stats.ip.reasm_fails += 1;
                self.stats.drop(reason);
            }
            ReasmOutcome::ParamProblem { code, pointer } => {
                self.stats.ip.reasm_fails += 1;
                self.stats.drop("fragment invalid");
                self.param_problem(now, meta, pkt, code, pointer);
            }
        }
    }

    fn param_problem(&mut self, now: Instant, meta: RxMeta, pkt: &[u8], code: u8, pointer: u32) {
        self.icmp_error_for(
            now,
            Some(meta.iface),
            pkt,
            meta.link_multicast,
            IcmpError::ParamProblem(code, pointer),
        );
    }
}
