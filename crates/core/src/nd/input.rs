//! Neighbor Discovery messages in and out (RFC 4861 §6-§8): the validity rules that
//! depend on the IPv6 header, and the glue between the messages and the state machines
//! of the neighbor cache, the router list, SLAAC and the router advertiser.

use std::net::Ipv6Addr;

use sixstack_wire::addr::{EthernetAddress, Ipv6AddrExt};
use sixstack_wire::icmpv6;
use sixstack_wire::ndisc;
use sixstack_wire::ndiscopt::{self, Preference, prefix_flags};
use sixstack_wire::proto::IpProtocol;

use crate::event::EventKind;
use crate::iface::link::multicast_lladdr;
use crate::iface::{IfaceId, LinkAddr, LinkKind};
use crate::ip::input::RxMeta;
use crate::ip::output::{MIN_MTU, build_packet};
use crate::nd::ra::AdvertDue;
use crate::nd::router::{RaInfo, RaPrefix, RaRoute};
use crate::slaac::{AddrState, PrefixInfo};
use crate::stack::{Stack, all_nodes, all_routers};
use crate::time::{Duration, Instant};

/// NA flags (RFC 4861 §4.4).
const NA_ROUTER: u8 = 0x80;
const NA_SOLICITED: u8 = 0x40;
const NA_OVERRIDE: u8 = 0x20;

/// A link-layer address option's bytes as this link's address type.
fn lladdr_from(kind: &LinkKind, bytes: &[u8]) -> Option<LinkAddr> {
    match kind {
        LinkKind::Ethernet { .. } | LinkKind::Fddi { .. } => {
            EthernetAddress::from_bytes(bytes.get(..6)?).map(LinkAddr::Mac)
        }
        _ => None,
    }
}

/// The options of an ND message, the ones the glue acts on.
#[derive(Default)]
struct Options<'a> {
    source_ll: Option<&'a [u8]>,
    target_ll: Option<&'a [u8]>,
    nonce: Option<&'a [u8]>,
    mtu: Option<u32>,
    prefixes: Vec<(u8, u8, u32, u32, Ipv6Addr)>,
    routes: Vec<RaRoute>,
    rdnss: Vec<(u32, Ipv6Addr)>,
    dnssl: Vec<(u32, String)>,
}

/// Bounds what one hostile RA can make us store.
const MAX_OPTIONS_KEPT: usize = 64;

fn options<'a>(nd: &ndisc::Repr<'a>) -> Options<'a> {
    let mut o = Options::default();
    for opt in nd.options_iter().flatten() {
        match opt {
            ndiscopt::Repr::SourceLinkLayerAddr(d) => o.source_ll = Some(d),
            ndiscopt::Repr::TargetLinkLayerAddr(d) => o.target_ll = Some(d),
            ndiscopt::Repr::Nonce(d) => o.nonce = Some(d),
            ndiscopt::Repr::Mtu(m) => o.mtu = Some(m),
            ndiscopt::Repr::PrefixInformation {
                prefix_len,
                flags,
                valid_lifetime,
                preferred_lifetime,
                prefix,
            } if o.prefixes.len() < MAX_OPTIONS_KEPT => {
                o.prefixes.push((
                    prefix_len,
                    flags,
                    valid_lifetime,
                    preferred_lifetime,
                    prefix,
                ));
            }
            ndiscopt::Repr::RouteInformation {
                prefix_len,
                preference,
                route_lifetime,
                prefix,
            } if o.routes.len() < MAX_OPTIONS_KEPT => o.routes.push(RaRoute {
                prefix,
                prefix_len,
                preference,
                lifetime: route_lifetime,
            }),
            ndiscopt::Repr::Rdnss { lifetime, addrs } => {
                for c in addrs.chunks_exact(16).take(MAX_OPTIONS_KEPT) {
                    if let Ok(b) = <[u8; 16]>::try_from(c) {
                        o.rdnss.push((lifetime, Ipv6Addr::from(b)));
                    }
                }
            }
            ndiscopt::Repr::Dnssl { lifetime, names } => {
                let opt_names = ndiscopt::DomainNames::new(names);
                for n in opt_names.flatten().take(MAX_OPTIONS_KEPT) {
                    o.dnssl.push((lifetime, n.to_string()));
                }
            }
            _ => {}
        }
    }
    o
}

fn encode_options(opts: &[ndiscopt::Repr<'_>]) -> Vec<u8> {
    let mut ob = vec![0u8; ndiscopt::buffer_len_all(opts)];
    // The buffer is sized by buffer_len_all, so emitting cannot run out of room.
    let _ = ndiscopt::emit_all(opts, &mut ob);
    ob
}

impl Stack {
    pub(crate) fn nd_input(&mut self, now: Instant, meta: RxMeta, nd: &ndisc::Repr<'_>) {
        let Some(kind) = self.ifaces.get(&meta.iface).map(|i| i.link) else {
            return;
        };
        let opts = options(nd);
        let sll = opts.source_ll.and_then(|b| lladdr_from(&kind, b));
        match *nd {
            ndisc::Repr::RouterSolicit { .. } => self.rs_input(now, meta, sll, opts.source_ll),
            ndisc::Repr::RouterAdvert {
                cur_hop_limit,
                flags,
                router_lifetime,
                reachable_time,
                retrans_time,
                ..
            } => self.ra_input(
                now,
                meta,
                sll,
                &opts,
                (
                    cur_hop_limit,
                    flags,
                    router_lifetime,
                    reachable_time,
                    retrans_time,
                ),
            ),
            ndisc::Repr::NeighborSolicit { target_addr, .. } => {
                self.ns_input(now, meta, target_addr, sll, &opts)
            }
            ndisc::Repr::NeighborAdvert {
                flags, target_addr, ..
            } => {
                let tll = opts.target_ll.and_then(|b| lladdr_from(&kind, b));
                self.na_input(now, meta, flags, target_addr, tll)
            }
            ndisc::Repr::Redirect {
                target_addr,
                dest_addr,
                ..
            } => {
                let tll = opts.target_ll.and_then(|b| lladdr_from(&kind, b));
                self.redirect_input(now, meta, target_addr, dest_addr, tll)
            }
        }
    }

    fn rs_input(
        &mut self,
        now: Instant,
        meta: RxMeta,
        sll: Option<LinkAddr>,
        raw_sll: Option<&[u8]>,
    ) {
        // RFC 4861 §6.1.1: from the unspecified address, no source link-layer option.
        if meta.src.is_unspecified() && raw_sll.is_some() {
            self.stats
                .drop("RS from :: with a link-layer address option");
            return;
        }
        let mut nd_out = Vec::new();
        let Some(i) = self.ifaces.get_mut(&meta.iface) else {
            return;
        };
        let Some(adv) = i.advertiser.as_mut() else {
            // §6.2.6: hosts silently discard Router Solicitations.
            self.stats.drop("RS received by a host interface");
            return;
        };
        adv.on_router_solicit(now, &mut self.rng, meta.src);
        if !meta.src.is_unspecified() {
            // §6.2.6: the solicitor is not a router.
            match sll {
                Some(ll) => i
                    .neighbors
                    .on_link_addr(now, meta.src, ll, Some(false), &mut nd_out),
                None => i.neighbors.set_is_router(&meta.src, false, &mut nd_out),
            }
        }
        self.run_neighbor(now, meta.iface, nd_out);
    }

    fn ra_input(
        &mut self,
        now: Instant,
        meta: RxMeta,
        sll: Option<LinkAddr>,
        opts: &Options<'_>,
        (cur_hop_limit, flags, router_lifetime, reachable_ms, retrans_ms): (u8, u8, u16, u32, u32),
    ) {
        // RFC 4861 §6.1.2: the source is a link-local address.
        if !meta.src.is_link_local_unicast() {
            self.stats.drop("RA source not link-local");
            return;
        }
        let mut nd_out = Vec::new();
        let mut router_out = Vec::new();
        let mut slaac_out = Vec::new();
        let mut mtu_changed = None;
        let Some(i) = self.ifaces.get_mut(&meta.iface) else {
            return;
        };
        if !i.accept_ra {
            self.stats.drop("RA ignored: interface does not accept RAs");
            return;
        }
        let rng = &mut self.rng;
        // §6.3.4: each non-zero field updates the host's variable.
        if cur_hop_limit != 0 {
            i.cur_hop_limit = cur_hop_limit;
        }
        if reachable_ms != 0 {
            let base = Duration::from_millis(u64::from(reachable_ms));
            if base != i.base_reachable_time {
                i.base_reachable_time = base;
                i.reachable_time = rng.scale(base, 0.5, 1.5);
            }
        }
        if retrans_ms != 0 {
            i.retrans_timer = Duration::from_millis(u64::from(retrans_ms));
            i.addrs.set_retrans_timer(i.retrans_timer);
        }
        if let Some(mtu) = opts.mtu {
            // §6.3.4: an MTU option outside [1280, link maximum] is ignored.
            if mtu >= MIN_MTU && mtu <= i.link.default_mtu() && mtu != i.mtu {
                i.mtu = mtu;
                mtu_changed = Some(mtu);
            }
        }
        match sll {
            Some(ll) => i
                .neighbors
                .on_link_addr(now, meta.src, ll, Some(true), &mut nd_out),
            None => i.neighbors.set_is_router(&meta.src, true, &mut nd_out),
        }
        let info = RaInfo {
            router_lifetime,
            preference: match Preference::from_bits(flags >> 3) {
                // RFC 4191 §2.2: a reserved preference is treated as medium.
                Preference::Reserved => Preference::Medium,
                p => p,
            },
            prefixes: opts
                .prefixes
                .iter()
                .map(|&(prefix_len, f, valid, preferred, prefix)| RaPrefix {
                    prefix,
                    prefix_len,
                    on_link: f & prefix_flags::ON_LINK != 0,
                    autonomous: f & prefix_flags::AUTONOMOUS != 0,
                    valid_lifetime: valid,
                    preferred_lifetime: preferred,
                })
                .collect(),
            routes: opts.routes.clone(),
        };
        i.routers
            .on_router_advert(now, meta.src, &info, &mut router_out);
        i.solicitor.on_router_advert();
        for p in info.prefixes.iter().filter(|p| p.autonomous) {
            let pio = PrefixInfo {
                prefix: p.prefix,
                prefix_len: p.prefix_len,
                autonomous: true,
                valid_lifetime: p.valid_lifetime,
                preferred_lifetime: p.preferred_lifetime,
            };
            i.addrs.on_prefix_info(now, rng, &pio, &mut slaac_out);
        }
        for &(lifetime, addr) in &opts.rdnss {
            i.rdnss.retain(|(a, _)| *a != addr);
            if lifetime != 0 && i.rdnss.len() < MAX_OPTIONS_KEPT {
                i.rdnss
                    .push((addr, now + Duration::from_secs(u64::from(lifetime))));
            }
        }
        for (lifetime, name) in &opts.dnssl {
            i.dnssl.retain(|(n, _)| n != name);
            if *lifetime != 0 && i.dnssl.len() < MAX_OPTIONS_KEPT {
                i.dnssl.push((
                    name.clone(),
                    now + Duration::from_secs(u64::from(*lifetime)),
                ));
            }
        }
        if let Some(mtu) = mtu_changed {
            self.event(Some(meta.iface), EventKind::MtuChanged { mtu });
        }
        self.run_neighbor(now, meta.iface, nd_out);
        self.run_router_events(now, meta.iface, router_out);
        self.run_slaac(now, meta.iface, slaac_out);
    }

    fn ns_input(
        &mut self,
        now: Instant,
        meta: RxMeta,
        target: Ipv6Addr,
        sll: Option<LinkAddr>,
        opts: &Options<'_>,
    ) {
        // RFC 4861 §7.1.1 validity.
        if target.is_multicast() {
            self.stats.drop("NS target is multicast");
            return;
        }
        if meta.src.is_unspecified() {
            if !meta.dst.is_solicited_node() {
                self.stats.drop("NS from :: not to a solicited-node group");
                return;
            }
            if opts.source_ll.is_some() {
                self.stats
                    .drop("NS from :: with a link-layer address option");
                return;
            }
        }
        let Some(i) = self.ifaces.get_mut(&meta.iface) else {
            return;
        };
        let state = i.addrs.get(&target).map(|e| e.state);
        // RFC 4861 §7.2.4: R is set by a router, whether or not it advertises (§6.2.2:
        // AdvSendAdvertisements is off by default on a router).
        let is_router = self.cfg.forwarding || i.advertiser.is_some();
        let mut slaac_out = Vec::new();
        let mut nd_out = Vec::new();
        match state {
            None | Some(AddrState::Duplicate) => {
                self.stats.drop("NS target is not our address");
                return;
            }
            Some(AddrState::Tentative) if !meta.src.is_unspecified() => {
                // RFC 4862 §5.4.3: address resolution for a tentative address is ignored.
                self.stats.drop("NS for a tentative address");
                return;
            }
            Some(_) if meta.src.is_unspecified() => {
                // RFC 4862 §5.4.3, RFC 7527: another node's DAD for one of our addresses:
                // a duplicate if ours is tentative, unless the nonce says it is our own
                // probe looped back; answered (§7.2.4) if ours is assigned.
                let silent =
                    i.addrs
                        .on_dad_solicit(now, &mut self.rng, &target, opts.nonce, &mut slaac_out);
                self.run_slaac(now, meta.iface, slaac_out);
                if silent {
                    return;
                }
            }
            Some(_) => {
                if let Some(ll) = sll
                    && !meta.src.is_unspecified()
                {
                    // §7.2.3: create or update the solicitor's entry.
                    i.neighbors
                        .on_link_addr(now, meta.src, ll, None, &mut nd_out);
                }
            }
        }
        self.run_neighbor(now, meta.iface, nd_out);
        let router = if is_router { NA_ROUTER } else { 0 };
        if meta.src.is_unspecified() {
            // §7.2.4: answering DAD: to all-nodes, Solicited clear.
            self.send_neighbor_advert(now, meta.iface, all_nodes(), target, router | NA_OVERRIDE);
        } else {
            self.send_neighbor_advert(
                now,
                meta.iface,
                meta.src,
                target,
                router | NA_SOLICITED | NA_OVERRIDE,
            );
        }
    }

    fn na_input(
        &mut self,
        now: Instant,
        meta: RxMeta,
        flags: u8,
        target: Ipv6Addr,
        tll: Option<LinkAddr>,
    ) {
        // RFC 4861 §7.1.2 validity.
        if target.is_multicast() {
            self.stats.drop("NA target is multicast");
            return;
        }
        if meta.dst.is_multicast() && flags & NA_SOLICITED != 0 {
            self.stats.drop("NA to multicast with Solicited set");
            return;
        }
        let Some(i) = self.ifaces.get_mut(&meta.iface) else {
            return;
        };
        match i.addrs.get(&target).map(|e| e.state) {
            Some(AddrState::Tentative) => {
                // RFC 4862 §5.4.4: someone already uses the address.
                let mut out = Vec::new();
                i.addrs.on_advert(now, &mut self.rng, &target, &mut out);
                self.run_slaac(now, meta.iface, out);
                return;
            }
            // RFC 4862 §5.4.5: a duplicate address is not ours; its owner is an ordinary
            // neighbor whose advertisements resolve it.
            Some(AddrState::Duplicate) | None => {}
            Some(_) => {
                // Our own advertisement reflected back is no conflict.
                if tll.is_none() || tll != i.link.lladdr() {
                    self.event(
                        Some(meta.iface),
                        EventKind::AddressConflict { addr: target },
                    );
                }
                return;
            }
        }
        let mut out = Vec::new();
        let rt = i.reachable_time;
        i.neighbors.on_advert(
            now,
            target,
            tll,
            flags & NA_ROUTER != 0,
            flags & NA_SOLICITED != 0,
            flags & NA_OVERRIDE != 0,
            rt,
            &mut out,
        );
        self.run_neighbor(now, meta.iface, out);
    }

    fn redirect_input(
        &mut self,
        now: Instant,
        meta: RxMeta,
        target: Ipv6Addr,
        dest: Ipv6Addr,
        tll: Option<LinkAddr>,
    ) {
        // RFC 4861 §8.1 validity.
        if !meta.src.is_link_local_unicast() {
            self.stats.drop("Redirect source not link-local");
            return;
        }
        if dest.is_multicast() {
            self.stats.drop("Redirect destination is multicast");
            return;
        }
        if !(target.is_link_local_unicast() || target == dest) {
            self.stats
                .drop("Redirect target neither link-local nor the destination");
            return;
        }
        if self.cfg.forwarding {
            self.stats.drop("Redirect ignored by a router");
            return;
        }
        match self.route(&dest, None) {
            Ok((i, nh)) if i == meta.iface && nh == meta.src => {}
            _ => {
                self.stats.drop("Redirect not from the current first hop");
                return;
            }
        }
        if self.redirects.len() >= self.cfg.max_redirects
            && let Some(oldest) = self
                .redirects
                .iter()
                .min_by_key(|(_, (_, _, t))| *t)
                .map(|(d, _)| *d)
        {
            self.redirects.remove(&oldest);
        }
        self.redirects.insert(dest, (meta.iface, target, now));
        let mut out = Vec::new();
        if let Some(i) = self.ifaces.get_mut(&meta.iface) {
            // §8.3: the target is a router unless it is the destination itself.
            let is_router = (target != dest).then_some(true);
            match tll {
                Some(ll) => i
                    .neighbors
                    .on_link_addr(now, target, ll, is_router, &mut out),
                None if is_router.is_some() => i.neighbors.set_is_router(&target, true, &mut out),
                None => {}
            }
        }
        self.run_neighbor(now, meta.iface, out);
        self.event(Some(meta.iface), EventKind::Redirect { dst: dest, target });
    }

    // ----- sending ------------------------------------------------------------------------

    /// Sends an ND or MLD packet straight to the link: multicast mapped, unicast to a known
    /// link-layer address, or through the neighbor cache when `ll` is None.
    fn nd_link_out(
        &mut self,
        now: Instant,
        id: IfaceId,
        pkt: Vec<u8>,
        dst: Ipv6Addr,
        ll: Option<LinkAddr>,
    ) {
        let Some(kind) = self.ifaces.get(&id).map(|i| i.link) else {
            return;
        };
        if !kind.resolves() {
            self.link_send(now, id, dst, pkt);
            return;
        }
        let ll = if dst.is_multicast() {
            multicast_lladdr(&kind, &dst)
        } else {
            ll
        };
        match ll {
            Some(ll) => {
                let frame = kind.frame(Some(ll), &pkt);
                if dst.is_multicast() {
                    self.stats.ip.out_mcast_pkts += 1;
                }
                self.push_frame(id, frame);
            }
            None => self.link_send(now, id, dst, pkt),
        }
    }

    fn own_lladdr_option(&self, id: IfaceId) -> Option<Vec<u8>> {
        self.ifaces.get(&id)?.link.lladdr().map(LinkAddr::to_bytes)
    }

    /// The encoded Source (or, with `target`, Target) Link-layer Address option of
    /// interface `id`; nothing on links without link-layer addresses.
    fn lladdr_options(&self, id: IfaceId, target: bool) -> Vec<u8> {
        let Some(ll) = self.own_lladdr_option(id) else {
            return Vec::new();
        };
        let opt = if target {
            ndiscopt::Repr::TargetLinkLayerAddr(&ll)
        } else {
            ndiscopt::Repr::SourceLinkLayerAddr(&ll)
        };
        encode_options(&[opt])
    }

    fn emit_nd(
        &mut self,
        src: Ipv6Addr,
        dst: Ipv6Addr,
        hop_limit: u8,
        nd: ndisc::Repr<'_>,
    ) -> Option<Vec<u8>> {
        let repr = icmpv6::Repr::Ndisc(nd);
        let mut msg = vec![0u8; repr.buffer_len()];
        repr.emit(&src, &dst, &mut msg).ok()?;
        self.count_icmp_out(repr.msg_type());
        build_packet(src, dst, IpProtocol::ICMPV6, hop_limit, &msg).ok()
    }

    pub(crate) fn send_neighbor_solicit(
        &mut self,
        now: Instant,
        id: IfaceId,
        target: Ipv6Addr,
        unicast: Option<LinkAddr>,
    ) {
        // §7.2.2: a source address of ours on the interface, matching the target's scope.
        let src = if target.is_link_local_unicast() {
            self.link_local_of(id)
        } else {
            self.select_source(&target, Some(id))
                .or_else(|| self.link_local_of(id))
        };
        let Some(src) = src else {
            self.stats.drop("NS not sent: no source address yet");
            return;
        };
        let dst = if unicast.is_some() {
            target
        } else {
            target.solicited_node()
        };
        let ob = self.lladdr_options(id, false);
        let nd = ndisc::Repr::NeighborSolicit {
            target_addr: target,
            options: &ob,
        };
        if let Some(pkt) = self.emit_nd(src, dst, 255, nd) {
            self.nd_link_out(now, id, pkt, dst, unicast);
        }
    }

    pub(crate) fn send_dad_solicit(
        &mut self,
        now: Instant,
        id: IfaceId,
        target: Ipv6Addr,
        nonce: [u8; 6],
    ) {
        let dst = target.solicited_node();
        let ob = encode_options(&[ndiscopt::Repr::Nonce(&nonce)]);
        let nd = ndisc::Repr::NeighborSolicit {
            target_addr: target,
            options: &ob,
        };
        // RFC 4862 §5.4.2: from the unspecified address.
        if let Some(pkt) = self.emit_nd(Ipv6Addr::UNSPECIFIED, dst, 255, nd) {
            self.nd_link_out(now, id, pkt, dst, None);
        }
    }

    fn send_neighbor_advert(
        &mut self,
        now: Instant,
        id: IfaceId,
        dst: Ipv6Addr,
        target: Ipv6Addr,
        flags: u8,
    ) {
        let ob = self.lladdr_options(id, true);
        let nd = ndisc::Repr::NeighborAdvert {
            flags,
            target_addr: target,
            options: &ob,
        };
        // §7.2.4: the source is the target address itself when it is ours.
        if let Some(pkt) = self.emit_nd(target, dst, 255, nd) {
            self.nd_link_out(now, id, pkt, dst, None);
        }
    }

    pub(crate) fn send_router_solicit(&mut self, now: Instant, id: IfaceId) {
        let src = self.link_local_of(id).unwrap_or(Ipv6Addr::UNSPECIFIED);
        // §4.1: no link-layer option when the source is unspecified.
        let ob = if src.is_unspecified() {
            Vec::new()
        } else {
            self.lladdr_options(id, false)
        };
        let nd = ndisc::Repr::RouterSolicit { options: &ob };
        if let Some(pkt) = self.emit_nd(src, all_routers(), 255, nd) {
            self.nd_link_out(now, id, pkt, all_routers(), None);
        }
    }

    pub(crate) fn send_router_advert(&mut self, now: Instant, id: IfaceId, due: AdvertDue) {
        // §6.1.2 / §6.2.3: a router advertises from its link-local address.
        let Some(src) = self.link_local_of(id) else {
            self.stats.drop("RA not sent: no link-local address yet");
            return;
        };
        let ll = self.own_lladdr_option(id);
        let Some(adv) = self.ifaces.get(&id).and_then(|i| i.advertiser.as_ref()) else {
            return;
        };
        let mut msg = adv.build(ll.as_deref(), due.final_);
        let dst = due.dst;
        if msg.len() < 4 {
            return;
        }
        let mut p = icmpv6::Packet::new_unchecked(&mut msg[..]);
        p.fill_checksum(&src, &dst);
        self.count_icmp_out(icmpv6::Message::ROUTER_ADVERT);
        if let Ok(pkt) = build_packet(src, dst, IpProtocol::ICMPV6, 255, &msg) {
            self.nd_link_out(now, id, pkt, dst, None);
        }
    }

    /// RFC 4861 §8.2: a router that forwards a packet back out of the interface it came
    /// in on tells the (on-link) sender about the better first hop.
    pub(crate) fn maybe_send_redirect(
        &mut self,
        now: Instant,
        meta: RxMeta,
        pkt: &[u8],
        next_hop: Ipv6Addr,
    ) {
        if meta.dst.is_multicast() || meta.src.is_link_local_unicast() {
            return;
        }
        // RFC 4861 §8.2: the target is the destination itself or the better router named
        // by its link-local address (hosts discard any other, §8.1). A router known only
        // by a global address cannot be named.
        if next_hop != meta.dst && !next_hop.is_link_local_unicast() {
            return;
        }
        // The source must be a neighbor: on-link by one of our connected prefixes.
        let on_link = self
            .routes
            .lookup(&meta.src, Some(meta.iface))
            .is_some_and(|r| r.next_hop.is_none());
        if !on_link || !self.icmp_limit.allow(now) {
            return;
        }
        let Some(src) = self.link_local_of(meta.iface) else {
            return;
        };
        let target = next_hop;
        let tll = self
            .ifaces
            .get(&meta.iface)
            .and_then(|i| i.neighbors.lookup(&target))
            .and_then(|n| n.lladdr)
            .map(LinkAddr::to_bytes);
        // Quote as much as fits in the minimum MTU (§4.5), cut to whole 8-byte units rather
        // than padded (as Linux does), so the option holds nothing but the packet.
        let room = MIN_MTU as usize - 40 - 40 - 8 - 8 - 16;
        let quote = &pkt[..pkt.len().min(room) & !7];
        let mut opts: Vec<ndiscopt::Repr<'_>> = Vec::new();
        if let Some(t) = tll.as_deref() {
            opts.push(ndiscopt::Repr::TargetLinkLayerAddr(t));
        }
        opts.push(ndiscopt::Repr::RedirectedHeader(quote));
        let mut ob = vec![0u8; ndiscopt::buffer_len_all(&opts)];
        if ndiscopt::emit_all(&opts, &mut ob).is_err() {
            return;
        }
        let nd = ndisc::Repr::Redirect {
            target_addr: target,
            dest_addr: meta.dst,
            options: &ob,
        };
        if let Some(p) = self.emit_nd(src, meta.src, 255, nd) {
            self.nd_link_out(now, meta.iface, p, meta.src, None);
            *self.stats.icmp.errors_sent.entry("redirect").or_default() += 1;
            if let Some(i) = self.ifaces.get_mut(&meta.iface) {
                *i.errors_sent.entry("redirect").or_default() += 1;
            }
        }
    }
}
