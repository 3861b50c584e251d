//! The [`Stack`]: one IPv6 node. It owns the interfaces and the node-wide tables (routes,
//! path MTUs, reassembly, sockets), runs the per-interface state machines (neighbor cache,
//! addresses, MLD, router list, router solicitation and advertisement) and turns their
//! actions into packets. Packet input is in `ip::input`, output in `ip::output`, ICMPv6 in
//! `icmp`, Neighbor Discovery messages in `nd::input`, sockets in `socket`.

use std::collections::{BTreeMap, VecDeque};
use std::net::Ipv6Addr;

use sixstack_wire::addr::Ipv6AddrExt;

use crate::config::StackConfig;
use crate::event::{Event, EventKind};
use crate::icmp::ratelimit::TokenBucket;
use crate::iface::{IfaceConfig, IfaceId, Interface, LinkKind};
use crate::ip::output::{MIN_MTU, RouteVia};
use crate::ip::pmtu::PathMtuCache;
use crate::ip::reasm::{Expired, Reassembler};
use crate::ip::route::{Route, RouteKind, RouteOrigin, RouteTable};
use crate::mld::querier::{Querier, QuerierAction, QuerierConfig};
use crate::mld::{MldAction, MldHost};
use crate::nd::neighbor::{NeighborAction, NeighborCache};
use crate::nd::ra::{AdvertConfig, Advertiser};
use crate::nd::router::{RouterEvent, RouterList};
use crate::nd::rs::RouterSolicitor;
use crate::rng::Rng;
use crate::slaac::{AddrState, AddrTable, SlaacAction};
use crate::socket::SocketTable;
use crate::stats::Stats;
use crate::time::Instant;

/// The answer of [`Stack::route_get`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteGet {
    pub iface: IfaceId,
    /// The neighbor the packet goes to: the destination itself when on-link.
    pub next_hop: Ipv6Addr,
    /// What chose the first hop; `None` for a local destination.
    pub via: Option<RouteVia>,
    /// The source address RFC 6724 §5 picks; `None` when no address fits.
    pub source: Option<Ipv6Addr>,
    /// The path MTU towards the destination (the link MTU when nothing smaller is known).
    pub mtu: u32,
    /// The destination is one of our addresses.
    pub local: bool,
}

/// Why a call could not do what it was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    NoSuchInterface,
    NoRoute,
    NoSourceAddress,
    /// A link-local or other scoped destination without a zone, and no default zone.
    ZoneRequired,
    InterfaceDown,
    TooBig,
    Invalid(&'static str),
    NoSuchSocket,
    AddrInUse,
    WouldBlock,
    TableFull,
    /// A TCP socket that is not (or no longer) connected.
    NotConnected,
    /// Why a TCP connection ended: "connection refused", "connection reset", "timed
    /// out", or the ICMPv6 error that ended it.
    Tcp(&'static str),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::NoSuchInterface => write!(f, "no such interface"),
            Error::NoRoute => write!(f, "no route to destination"),
            Error::NoSourceAddress => write!(f, "no usable source address"),
            Error::ZoneRequired => write!(f, "scoped address needs a zone (e.g. fe80::1%eth0)"),
            Error::InterfaceDown => write!(f, "interface is down"),
            Error::TooBig => write!(f, "message too long"),
            Error::Invalid(why) => write!(f, "invalid argument: {why}"),
            Error::NoSuchSocket => write!(f, "no such socket"),
            Error::AddrInUse => write!(f, "address in use"),
            Error::WouldBlock => write!(f, "nothing to receive"),
            Error::TableFull => write!(f, "table full"),
            Error::NotConnected => write!(f, "not connected"),
            Error::Tcp(why) => write!(f, "{why}"),
        }
    }
}

impl std::error::Error for Error {}

/// One IPv6 node, sans-IO.
#[derive(Debug)]
pub struct Stack {
    pub(crate) cfg: StackConfig,
    pub(crate) rng: Rng,
    pub(crate) now: Instant,
    pub(crate) ifaces: BTreeMap<IfaceId, Interface>,
    next_iface: u32,
    pub(crate) routes: RouteTable,
    pub(crate) tcp: crate::socket::tcp::TcpTable,
    pub(crate) pmtu: PathMtuCache,
    pub(crate) reasm: Reassembler,
    /// RFC 4861 §8.3: destination -> (interface, better first hop); oldest evicted.
    pub(crate) redirects: BTreeMap<Ipv6Addr, (IfaceId, Ipv6Addr, Instant)>,
    pub(crate) icmp_limit: TokenBucket,
    pub(crate) sockets: SocketTable,
    tx: VecDeque<(IfaceId, Vec<u8>)>,
    /// Packets to our own addresses, delivered on the next `poll` (never recursively).
    pub(crate) loopback: VecDeque<(IfaceId, Vec<u8>)>,
    events: VecDeque<Event>,
    pub(crate) stats: Stats,
    pub(crate) frag_ident: u32,
    /// Frame buffers handed back by the driver ([`Stack::recycle`]), reused for frames
    /// built here; at most [`RECYCLED_BUFFERS`].
    pub(crate) buffers: Vec<Vec<u8>>,
}

/// Frame buffers [`Stack::recycle`] keeps at most (about 200 KB of 1500-byte frames).
pub const RECYCLED_BUFFERS: usize = 128;

impl Stack {
    pub fn new(cfg: StackConfig, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let frag_ident = rng.next_u32();
        Self {
            routes: RouteTable::new(cfg.max_routes),
            tcp: Default::default(),
            pmtu: PathMtuCache::new(cfg.pmtu.clone()),
            reasm: Reassembler::new(cfg.reassembly.clone()),
            icmp_limit: TokenBucket::new(cfg.icmp_error_rate, cfg.icmp_error_burst),
            sockets: SocketTable::new(cfg.max_sockets),
            cfg,
            rng,
            now: Instant::ZERO,
            ifaces: BTreeMap::new(),
            next_iface: 1,
            redirects: BTreeMap::new(),
            tx: VecDeque::new(),
            loopback: VecDeque::new(),
            events: VecDeque::new(),
            stats: Stats::default(),
            frag_ident,
            buffers: Vec::new(),
        }
    }

    pub fn config(&self) -> &StackConfig {
        &self.cfg
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    pub fn is_router(&self) -> bool {
        self.cfg.forwarding
    }

    // ----- interfaces -------------------------------------------------------------------

    /// Adds an interface, up at once (plug and play: DAD and router solicitation start).
    pub fn add_interface(&mut self, now: Instant, cfg: IfaceConfig) -> IfaceId {
        self.now = self.now.max(now);
        let id = IfaceId(self.next_iface);
        self.next_iface += 1;
        let mtu = cfg.mtu.unwrap_or_else(|| cfg.link.default_mtu());
        let net_iface = match (&cfg.net_iface, cfg.link.mac()) {
            (Some(n), _) => n.clone(),
            (None, Some(m)) => m.0.to_vec(),
            (None, None) => cfg.name.as_bytes().to_vec(),
        };
        let mut slaac = cfg.slaac.clone();
        if slaac.stable_secret == [0; 32] {
            // RFC 7217 §5: the secret must not be guessable. A driver that persists one
            // (the daemon) passes it in; otherwise it comes from this stack's seed.
            self.rng.fill_bytes(&mut slaac.stable_secret);
        }
        if matches!(cfg.link, LinkKind::Loopback) {
            slaac.dup_addr_detect_transmits = 0;
        }
        let mut addrs = AddrTable::new(slaac, net_iface, cfg.link.mac().map(|m| m.0));
        addrs.set_retrans_timer(cfg.retrans_timer);
        let mut mld_cfg = cfg.mld.clone();
        mld_cfg.mtu = mtu as usize;
        let reachable_time = self.rng.scale(cfg.base_reachable_time, 0.5, 1.5);
        let iface = Interface {
            id,
            name: cfg.name.clone(),
            link: cfg.link,
            site: cfg.site,
            accept_ra: cfg.accept_ra && cfg.advertise.is_none(),
            send_rs: cfg.send_rs && cfg.advertise.is_none() && cfg.link.is_multicast_capable(),
            up: false,
            enabled: true,
            mtu,
            cur_hop_limit: cfg.cur_hop_limit,
            base_reachable_time: cfg.base_reachable_time,
            reachable_time,
            retrans_timer: cfg.retrans_timer,
            neighbors: NeighborCache::new(cfg.neighbor.clone()),
            addrs,
            mld: MldHost::new(mld_cfg),
            routers: RouterList::new(cfg.router_list.clone()),
            solicitor: RouterSolicitor::new(cfg.rs.clone()),
            advertiser: cfg.advertise.clone().map(|mut a| {
                // Configuring advertisements on an interface is asking for them.
                a.adv_send_advertisements = true;
                Advertiser::new(a)
            }),
            querier: match (&cfg.querier, &cfg.advertise) {
                (Some(q), _) => Some(Querier::new(q.clone())),
                (None, Some(_)) => Some(Querier::new(QuerierConfig::default())),
                (None, None) => None,
            },
            rdnss: Vec::new(),
            dnssl: Vec::new(),
            stats: Default::default(),
            errors_sent: Default::default(),
        };
        self.ifaces.insert(id, iface);
        self.event(
            Some(id),
            EventKind::InterfaceAdded {
                name: cfg.name.clone(),
            },
        );
        if matches!(cfg.link, LinkKind::Loopback) {
            let mut out = Vec::new();
            if let Some(i) = self.ifaces.get_mut(&id) {
                let _ = i.addrs.add_manual(
                    now,
                    &mut self.rng,
                    Ipv6Addr::LOCALHOST,
                    128,
                    None,
                    &mut out,
                );
            }
            self.run_slaac(now, id, out);
        }
        self.set_link(now, id, true);
        id
    }

    /// Removes an interface and everything learned through it.
    pub fn remove_interface(&mut self, now: Instant, id: IfaceId) -> Result<(), Error> {
        self.set_link(now, id, false);
        let iface = self.ifaces.remove(&id).ok_or(Error::NoSuchInterface)?;
        // Its addresses go with it: say so, or the event stream leaves them tentative.
        for e in iface.addrs.iter() {
            self.event(
                Some(id),
                EventKind::Address {
                    addr: e.addr,
                    from: Some(e.state),
                    to: None,
                },
            );
        }
        self.routes.remove_iface(id);
        self.redirects.retain(|_, (i, _, _)| *i != id);
        self.sockets.forget_iface(id);
        self.tx.retain(|(i, _)| *i != id);
        self.event(Some(id), EventKind::InterfaceRemoved);
        Ok(())
    }

    /// Changes an interface's MTU at run time (an administrator's `ip link set mtu`): at
    /// least the IPv6 minimum of 1280 (RFC 8200 §5). Later packets, MLD Reports and
    /// forwarded packets (a Packet Too Big when they no longer fit) follow it, and TCP
    /// connections out of the interface lower their segment size at once.
    pub fn set_mtu(&mut self, now: Instant, id: IfaceId, mtu: u32) -> Result<(), Error> {
        self.now = self.now.max(now);
        if !(MIN_MTU..=u32::from(u16::MAX)).contains(&mtu) {
            return Err(Error::Invalid("MTU outside 1280..=65535"));
        }
        let iface = self.ifaces.get_mut(&id).ok_or(Error::NoSuchInterface)?;
        if iface.mtu == mtu {
            return Ok(());
        }
        iface.mtu = mtu;
        iface.mld.set_mtu(mtu as usize);
        self.event(Some(id), EventKind::MtuChanged { mtu });
        self.tcp_link_mtu_changed(now, id);
        Ok(())
    }

    /// Link up or down (a cable pulled, a device closed). Up restarts DAD, MLD reports and
    /// router solicitation (RFC 4862 §5.4, RFC 3810 §6.1, RFC 4861 §6.3.7).
    pub fn set_link(&mut self, now: Instant, id: IfaceId, up: bool) {
        self.now = self.now.max(now);
        let Some(iface) = self.ifaces.get_mut(&id) else {
            return;
        };
        if iface.up == up {
            return;
        }
        iface.up = up;
        let mut slaac_out = Vec::new();
        let mut mld_out = Vec::new();
        let mut nd_out = Vec::new();
        let mut router_out = Vec::new();
        let mut querier_out = Vec::new();
        let rng = &mut self.rng;
        let router = self.cfg.forwarding;
        if up {
            iface.enabled = true;
            // RFC 4861 §6.3.2: a new random ReachableTime on each (re)start.
            iface.reachable_time = rng.scale(iface.base_reachable_time, 0.5, 1.5);
            if iface.link.is_multicast_capable() {
                iface.mld.link_up(now, rng, &mut mld_out);
                // RFC 4291 §2.8: every router interface listens to all-routers.
                if router || iface.advertiser.is_some() {
                    let _ = iface.mld.join(now, rng, all_routers(), &mut mld_out);
                }
            }
            iface.addrs.start(now, rng, &mut slaac_out);
            if iface.send_rs {
                iface.solicitor.start(now, rng);
            }
        } else {
            if let Some(q) = iface.querier.as_mut() {
                q.stop(&mut querier_out);
            }
            if let Some(a) = iface.advertiser.as_mut() {
                let _ = a.stop(now);
            }
            iface.solicitor.stop();
            iface.addrs.stop(&mut slaac_out);
            iface.mld.link_down();
            iface.neighbors.flush(&mut nd_out);
            iface.routers.clear(&mut router_out);
            // Learned from those routers' RAs too, and not aged while the link is down.
            iface.rdnss.clear();
            iface.dnssl.clear();
        }
        self.event(
            Some(id),
            if up {
                EventKind::LinkUp
            } else {
                EventKind::LinkDown
            },
        );
        self.run_slaac(now, id, slaac_out);
        self.run_mld(now, id, mld_out);
        self.run_neighbor(now, id, nd_out);
        self.run_router_events(now, id, router_out);
        self.run_querier(now, id, querier_out);
    }

    /// The node is about to stop (RFC 4861 §6.2.5): every advertising interface that is
    /// up schedules up to `finals` final advertisements (router lifetime 0), which `poll`
    /// sends at the rate limit. Returns how many are to go in all; see
    /// [`finals_pending`](Self::finals_pending).
    pub fn stop_advertising(&mut self, now: Instant, finals: u32) -> u32 {
        self.now = self.now.max(now);
        self.ifaces
            .values_mut()
            .filter(|i| i.up)
            .filter_map(|i| i.advertiser.as_mut())
            .map(|a| a.stop_with(now, finals))
            .sum()
    }

    /// Changes an interface's Router Advertisements while it runs. `Some`: advertise
    /// with this configuration from now on (a change goes out at once, rate limit
    /// permitting, §6.2.4; a new advertising interface also stops soliciting and
    /// learning from other routers' RAs, joins all-routers and becomes an MLD querier
    /// candidate). `None`: cease advertising with final advertisements (§6.2.5); the
    /// interface stays a router's, it does not go back to learning from RAs.
    pub fn set_advertise(
        &mut self,
        now: Instant,
        id: IfaceId,
        cfg: Option<AdvertConfig>,
    ) -> Result<(), Error> {
        self.now = self.now.max(now);
        let iface = self.ifaces.get_mut(&id).ok_or(Error::NoSuchInterface)?;
        let Some(mut cfg) = cfg else {
            if let Some(a) = iface.advertiser.as_mut() {
                a.stop(now);
                let mut c = a.config().clone();
                c.adv_send_advertisements = false;
                a.set_config(now, c);
            }
            return Ok(());
        };
        cfg.adv_send_advertisements = true;
        let ready = iface.up && iface.addrs.link_local().is_some();
        let mut mld_out = Vec::new();
        let mut qout = Vec::new();
        match iface.advertiser.as_mut() {
            Some(a) => {
                let was = a.is_advertising();
                a.set_config(now, cfg);
                if !was && ready {
                    a.start(now, &mut self.rng);
                }
            }
            None => {
                let mut a = Advertiser::new(cfg);
                iface.accept_ra = false;
                iface.send_rs = false;
                iface.solicitor.stop();
                if iface.up && iface.link.is_multicast_capable() && !self.cfg.forwarding {
                    // RFC 4291 §2.8: a router's interfaces listen to all-routers (a
                    // forwarding node joined it at link up already).
                    let _ = iface
                        .mld
                        .join(now, &mut self.rng, all_routers(), &mut mld_out);
                }
                if iface.querier.is_none() {
                    let mut q = Querier::new(QuerierConfig::default());
                    if ready && iface.link.is_multicast_capable() {
                        q.start(now);
                        q.poll(now, &mut qout);
                    }
                    iface.querier = Some(q);
                }
                if ready {
                    a.start(now, &mut self.rng);
                }
                iface.advertiser = Some(a);
            }
        }
        self.run_mld(now, id, mld_out);
        self.run_querier(now, id, qout);
        Ok(())
    }

    /// Interfaces that are up and still have final advertisements to send.
    pub fn finals_pending(&self) -> usize {
        self.ifaces
            .values()
            .filter(|i| i.up && i.addrs.link_local().is_some())
            .filter(|i| i.advertiser.as_ref().is_some_and(|a| a.is_ceasing()))
            .count()
    }

    pub fn interfaces(&self) -> impl Iterator<Item = &Interface> {
        self.ifaces.values()
    }

    pub fn interface(&self, id: IfaceId) -> Option<&Interface> {
        self.ifaces.get(&id)
    }

    pub fn interface_by_name(&self, name: &str) -> Option<IfaceId> {
        self.ifaces.values().find(|i| i.name == name).map(|i| i.id)
    }

    /// The zone used for a scoped address given without one: the only interface that is
    /// not loopback, when there is exactly one (RFC 4007 §6 default zone).
    pub fn default_zone(&self) -> Option<IfaceId> {
        let mut it = self
            .ifaces
            .values()
            .filter(|i| !matches!(i.link, LinkKind::Loopback));
        let first = it.next()?;
        if it.next().is_some() {
            return None;
        }
        Some(first.id)
    }

    // ----- addresses and routes ---------------------------------------------------------

    /// Adds an address by hand; it goes through DAD. A prefix shorter than 128 adds an
    /// on-link route for it.
    pub fn add_address(
        &mut self,
        now: Instant,
        id: IfaceId,
        addr: Ipv6Addr,
        prefix_len: u8,
    ) -> Result<(), Error> {
        if prefix_len > 128 || addr.is_multicast() || addr.is_unspecified() {
            return Err(Error::Invalid(
                "address must be unicast with a prefix of 0..=128",
            ));
        }
        self.now = self.now.max(now);
        let mut out = Vec::new();
        let iface = self.ifaces.get_mut(&id).ok_or(Error::NoSuchInterface)?;
        if addr.is_loopback() && !matches!(iface.link, LinkKind::Loopback) {
            // RFC 4291 §2.5.3: the loopback address is the loopback interface's only.
            return Err(Error::Invalid("::1 belongs to the loopback interface"));
        }
        iface
            .addrs
            .add_manual(now, &mut self.rng, addr, prefix_len, None, &mut out)
            .map_err(Error::Invalid)?;
        if prefix_len < 128 && !addr.is_link_local_unicast() {
            let _ = self.routes.add(Route {
                prefix: addr,
                prefix_len,
                iface: id,
                next_hop: None,
                metric: 256,
                origin: RouteOrigin::Connected,
                expires: None,
                kind: RouteKind::Unicast,
            });
        }
        self.run_slaac(now, id, out);
        Ok(())
    }

    pub fn remove_address(
        &mut self,
        now: Instant,
        id: IfaceId,
        addr: Ipv6Addr,
    ) -> Result<(), Error> {
        self.now = self.now.max(now);
        let mut out = Vec::new();
        let iface = self.ifaces.get_mut(&id).ok_or(Error::NoSuchInterface)?;
        let prefix_len = iface.addrs.get(&addr).map(|e| e.prefix_len);
        if !iface.addrs.remove(&addr, &mut out) {
            return Err(Error::Invalid("no such address on the interface"));
        }
        if let Some(len) = prefix_len {
            let still_used = iface
                .addrs
                .iter()
                .any(|e| e.prefix_len == len && same_prefix(&e.addr, &addr, len));
            if !still_used {
                self.routes.remove(addr, len, Some(id), None);
            }
        }
        self.run_slaac(now, id, out);
        Ok(())
    }

    pub fn add_route(&mut self, route: Route) -> Result<(), Error> {
        if !self.ifaces.contains_key(&route.iface) {
            return Err(Error::NoSuchInterface);
        }
        self.routes.add(route).map_err(|_| Error::TableFull)
    }

    pub fn remove_route(
        &mut self,
        prefix: Ipv6Addr,
        prefix_len: u8,
        iface: Option<IfaceId>,
        next_hop: Option<Ipv6Addr>,
    ) -> usize {
        self.routes.remove(prefix, prefix_len, iface, next_hop)
    }

    /// The first hop towards `dst` (interface, next-hop address), as a packet sent now
    /// would take it: redirects, routes, on-link prefixes, default routers (RFC 4861 §5.2).
    pub fn route_to(
        &mut self,
        dst: &Ipv6Addr,
        zone: Option<IfaceId>,
    ) -> Result<(IfaceId, Ipv6Addr), Error> {
        self.route(dst, zone)
    }

    pub fn routes(&self) -> &RouteTable {
        &self.routes
    }

    /// RFC 4861 §7.3.1: an upper layer saw forward progress with neighbor `addr` (a TCP
    /// acknowledgment of new data), so NUD need not probe it.
    pub fn confirm_reachable(&mut self, now: Instant, iface: IfaceId, addr: Ipv6Addr) {
        self.now = self.now.max(now);
        let mut out = Vec::new();
        if let Some(i) = self.ifaces.get_mut(&iface) {
            let rt = i.reachable_time;
            i.neighbors.confirm_reachable(now, &addr, rt, &mut out);
        }
        self.run_neighbor(now, iface, out);
    }

    pub fn path_mtu(&self, dst: &Ipv6Addr) -> Option<u32> {
        self.pmtu.get(dst)
    }

    /// The interface a packet to `dst` leaves by and the source address RFC 6724 §5
    /// picks for it (what a driver shows, or uses to build a whole packet itself).
    pub fn source_towards(
        &mut self,
        dst: &Ipv6Addr,
        zone: Option<IfaceId>,
    ) -> Result<(IfaceId, Ipv6Addr), Error> {
        let iface = match self.is_own_addr(dst) {
            Some(i) if zone.is_none() => i,
            _ => self.route(dst, zone)?.0,
        };
        let src = self
            .select_source(dst, Some(iface))
            .ok_or(Error::NoSourceAddress)?;
        Ok((iface, src))
    }

    /// How a packet sent now to `dst` would go, and why (what `ip route get` shows): the
    /// interface, the next hop, what chose them, the source RFC 6724 §5 picks and the
    /// path MTU. A destination that is one of our addresses is [`RouteGet::local`].
    pub fn route_get(&mut self, dst: &Ipv6Addr, zone: Option<IfaceId>) -> Result<RouteGet, Error> {
        if let Some(i) = self.is_own_addr(dst)
            && zone.is_none_or(|z| z == i)
        {
            return Ok(RouteGet {
                iface: i,
                next_hop: *dst,
                via: None,
                source: Some(*dst),
                mtu: self.ifaces.get(&i).map_or(MIN_MTU, |i| i.mtu),
                local: true,
            });
        }
        let (iface, next_hop, via) = self.route_decision(dst, zone)?;
        let link_mtu = self.ifaces.get(&iface).map_or(MIN_MTU, |i| i.mtu);
        Ok(RouteGet {
            iface,
            next_hop,
            via: Some(via),
            source: self.select_source(dst, Some(iface)),
            mtu: self.pmtu.get(dst).map_or(link_mtu, |p| p.min(link_mtu)),
            local: false,
        })
    }

    /// Empties an interface's neighbor cache of learned entries (packets waiting for
    /// resolution are dropped; static entries stay). Returns how many entries went.
    pub fn flush_neighbors(&mut self, now: Instant, id: IfaceId) -> Result<usize, Error> {
        self.now = self.now.max(now);
        let mut out = Vec::new();
        let iface = self.ifaces.get_mut(&id).ok_or(Error::NoSuchInterface)?;
        let before = iface.neighbors.len();
        iface.neighbors.flush(&mut out);
        let n = before - iface.neighbors.len();
        self.run_neighbor(now, id, out);
        Ok(n)
    }

    /// How many sockets are open.
    pub fn socket_count(&self) -> usize {
        self.sockets.len()
    }

    /// The addresses of an interface that are usable (preferred or deprecated).
    pub fn assigned_addrs(&self, id: IfaceId) -> Vec<Ipv6Addr> {
        self.ifaces
            .get(&id)
            .map(|i| {
                i.addrs
                    .iter()
                    .filter(|e| matches!(e.state, AddrState::Preferred | AddrState::Deprecated))
                    .map(|e| e.addr)
                    .collect()
            })
            .unwrap_or_default()
    }

    // ----- driving ----------------------------------------------------------------------

    /// Fires every timer due at or before `now`.
    pub fn poll(&mut self, now: Instant) {
        self.now = self.now.max(now);
        let ids: Vec<IfaceId> = self.ifaces.keys().copied().collect();
        for id in ids {
            self.poll_iface(now, id);
        }
        for r in self.routes.expire(now) {
            if let Some(nh) = r.next_hop {
                self.event(
                    Some(r.iface),
                    EventKind::RouteRemoved {
                        prefix: r.prefix,
                        len: r.prefix_len,
                        router: nh,
                    },
                );
            }
        }
        self.pmtu.poll(now);
        self.expire_reassembly(now);
        self.tcp_poll(now);
        // Loopback traffic: bounded by what is queued now, so a packet that answers itself
        // waits for the next poll instead of looping here.
        let n = self.loopback.len();
        for _ in 0..n {
            if let Some((iface, pkt)) = self.loopback.pop_front() {
                self.ip_input(now, iface, &pkt, false);
            }
        }
    }

    /// Reassemblies past their 60 s (RFC 8200 §4.5); also run before each new fragment.
    pub(crate) fn expire_reassembly(&mut self, now: Instant) {
        if self.reasm.poll_at().is_none_or(|t| t > now) {
            return;
        }
        let mut expired: Vec<Expired> = Vec::new();
        self.reasm.poll(now, &mut expired);
        for e in expired {
            self.stats.ip.reasm_fails += 1;
            self.stats.drop("reassembly timeout");
            self.event(None, EventKind::ReassemblyTimeout { src: e.src });
            if let Some(first) = e.first_fragment {
                // RFC 8200 §4.5: Time Exceeded code 1 only when the first fragment came.
                self.icmp_error_for(
                    now,
                    None,
                    &first,
                    false,
                    crate::icmp::IcmpError::TimeExceeded(1),
                );
            }
        }
    }

    fn poll_iface(&mut self, now: Instant, id: IfaceId) {
        let Some(iface) = self.ifaces.get_mut(&id) else {
            return;
        };
        if !iface.up {
            return;
        }
        let rng = &mut self.rng;
        let mut nd_out = Vec::new();
        let mut slaac_out = Vec::new();
        let mut mld_out = Vec::new();
        let mut router_out = Vec::new();
        iface.neighbors.poll(now, iface.retrans_timer, &mut nd_out);
        iface.addrs.poll(now, rng, &mut slaac_out);
        iface.mld.poll(now, rng, &mut mld_out);
        iface.routers.poll(now, &mut router_out);
        iface.rdnss.retain(|(_, t)| *t > now);
        iface.dnssl.retain(|(_, t)| *t > now);
        let send_rs = iface.send_rs && iface.solicitor.poll(now, rng);
        // RFC 4861 §4.2: an RA comes from the link-local address. One due before that
        // address passed DAD waits for it, rather than being counted as sent and lost.
        let advert = match iface.advertiser.as_mut() {
            Some(a) if iface.addrs.link_local().is_some() => a.poll(now, rng),
            _ => None,
        };
        let mut querier_out = Vec::new();
        if let Some(q) = iface.querier.as_mut() {
            q.poll(now, &mut querier_out);
        }
        self.run_neighbor(now, id, nd_out);
        self.run_slaac(now, id, slaac_out);
        self.run_mld(now, id, mld_out);
        self.run_router_events(now, id, router_out);
        self.run_querier(now, id, querier_out);
        if send_rs {
            self.send_router_solicit(now, id);
        }
        if let Some(due) = advert {
            self.send_router_advert(now, id, due);
        }
    }

    /// The next instant at which `poll` has something to do.
    pub fn poll_at(&self) -> Option<Instant> {
        if !self.loopback.is_empty() {
            return Some(self.now);
        }
        let mut at: Option<Instant> = None;
        let mut take = |t: Option<Instant>| {
            if let Some(t) = t {
                at = Some(at.map_or(t, |a| a.min(t)));
            }
        };
        for i in self.ifaces.values().filter(|i| i.up) {
            take(i.neighbors.poll_at());
            take(i.addrs.poll_at());
            take(i.mld.poll_at());
            take(i.routers.poll_at());
            if i.send_rs {
                take(i.solicitor.poll_at());
            }
            if i.addrs.link_local().is_some() {
                take(i.advertiser.as_ref().and_then(|a| a.poll_at()));
            }
            take(i.querier.as_ref().and_then(|q| q.poll_at()));
            take(i.rdnss.iter().map(|(_, t)| *t).min());
            take(i.dnssl.iter().map(|(_, t)| *t).min());
        }
        take(self.routes.poll_at());
        take(self.tcp.poll_at());
        take(self.pmtu.poll_at());
        take(self.reasm.poll_at());
        at
    }

    /// The next frame to put on the wire, with the interface it leaves by.
    pub fn transmit(&mut self) -> Option<(IfaceId, Vec<u8>)> {
        self.tx.pop_front()
    }

    /// Gives back a frame's buffer once the driver is done with it (a frame from
    /// [`transmit`](Self::transmit) that was sent, as a NIC's transmit completion
    /// returns it): the stack builds later frames in it instead of allocating. Optional;
    /// at most [`RECYCLED_BUFFERS`] are kept, the rest freed.
    pub fn recycle(&mut self, mut buf: Vec<u8>) {
        if self.buffers.len() < RECYCLED_BUFFERS && buf.capacity() > 0 {
            buf.clear();
            self.buffers.push(buf);
        }
    }

    /// A buffer for a frame: a recycled one if any.
    pub(crate) fn buffer(buffers: &mut Vec<Vec<u8>>) -> Vec<u8> {
        buffers.pop().unwrap_or_default()
    }

    /// Events since the last call, oldest first.
    pub fn take_events(&mut self) -> Vec<Event> {
        self.events.drain(..).collect()
    }

    // ----- occupancy of the bounded queues and tables (read-only, for tests and benches) --

    /// Frames waiting for [`transmit`](Self::transmit); at most `max_transmit_queue`.
    pub fn transmit_queue_len(&self) -> usize {
        self.tx.len()
    }

    /// Packets to our own addresses waiting for the next `poll`.
    pub fn loopback_queue_len(&self) -> usize {
        self.loopback.len()
    }

    /// Events waiting for [`take_events`](Self::take_events); at most `max_events`.
    pub fn pending_events(&self) -> usize {
        self.events.len()
    }

    /// Memory the reassembly buffers account for; at most `reassembly.max_bytes`.
    pub fn reassembly_bytes(&self) -> usize {
        self.reasm.bytes_used()
    }

    /// Datagrams in reassembly; at most `reassembly.max_datagrams`.
    pub fn reassembly_datagrams(&self) -> usize {
        self.reasm.datagrams()
    }

    /// Entries of the path MTU cache; at most `pmtu.max_entries`.
    pub fn path_mtu_entries(&self) -> usize {
        self.pmtu.len()
    }

    /// Redirects remembered; at most `max_redirects`.
    pub fn redirect_entries(&self) -> usize {
        self.redirects.len()
    }

    pub(crate) fn event(&mut self, iface: Option<IfaceId>, kind: EventKind) {
        if self.events.len() >= self.cfg.max_events {
            self.events.pop_front();
            self.stats.drop("event queue full");
        }
        self.events.push_back(Event {
            time: self.now,
            iface,
            kind,
        });
    }

    /// Queues a finished frame for the driver.
    pub(crate) fn push_frame(&mut self, iface: IfaceId, frame: Vec<u8>) {
        if self.tx.len() >= self.cfg.max_transmit_queue {
            self.tx.pop_front();
            self.stats.ip.out_discards += 1;
            self.stats.drop("transmit queue full");
        }
        // RFC 4293 OutOctets: the octets of the IP datagrams, as InOctets counts them.
        let hdr = self.ifaces.get(&iface).map_or(0, |i| i.link.header_len());
        let octets = frame.len().saturating_sub(hdr) as u64;
        self.stats.ip.out_transmits += 1;
        self.stats.ip.out_octets += octets;
        if let Some(i) = self.ifaces.get_mut(&iface) {
            i.stats.out_transmits += 1;
            i.stats.out_octets += octets;
        }
        self.tx.push_back((iface, frame));
    }

    // ----- running the per-interface state machines' actions ----------------------------

    pub(crate) fn run_neighbor(&mut self, now: Instant, id: IfaceId, actions: Vec<NeighborAction>) {
        for a in actions {
            match a {
                NeighborAction::Solicit { target, unicast } => {
                    self.send_neighbor_solicit(now, id, target, unicast)
                }
                NeighborAction::Send { lladdr, packet } => {
                    if let Some(kind) = self.ifaces.get(&id).map(|i| i.link) {
                        let frame = kind.frame(Some(lladdr), &packet);
                        self.push_frame(id, frame);
                    }
                }
                NeighborAction::Failed { addr: _, packets } => {
                    for p in packets {
                        self.stats.ip.out_discards += 1;
                        self.stats.drop("address resolution failed");
                        // RFC 4861 §7.2.2: Destination Unreachable, address unreachable.
                        self.icmp_error_for(
                            now,
                            Some(id),
                            &p,
                            false,
                            crate::icmp::IcmpError::DstUnreachable(3),
                        );
                    }
                }
                NeighborAction::Dropped { reason, .. } => {
                    self.stats.ip.out_discards += 1;
                    self.stats.drop(reason);
                }
                NeighborAction::StateChanged { addr, from, to } => {
                    self.event(Some(id), EventKind::Neighbor { addr, from, to });
                }
                NeighborAction::NoLongerRouter { addr } => {
                    let mut out = Vec::new();
                    if let Some(i) = self.ifaces.get_mut(&id) {
                        i.routers.remove_router(&addr, &mut out);
                    }
                    self.run_router_events(now, id, out);
                }
            }
        }
    }

    pub(crate) fn run_slaac(&mut self, now: Instant, id: IfaceId, actions: Vec<SlaacAction>) {
        for a in actions {
            match a {
                SlaacAction::SendDadSolicit { target, nonce } => {
                    self.send_dad_solicit(now, id, target, nonce)
                }
                SlaacAction::JoinGroup(g) => {
                    let mut out = Vec::new();
                    if let Some(i) = self.ifaces.get_mut(&id)
                        && i.link.is_multicast_capable()
                    {
                        let _ = i.mld.join(now, &mut self.rng, g, &mut out);
                    }
                    self.run_mld(now, id, out);
                }
                SlaacAction::LeaveGroup(g) => {
                    let mut out = Vec::new();
                    if let Some(i) = self.ifaces.get_mut(&id)
                        && i.link.is_multicast_capable()
                    {
                        i.mld.leave(now, &mut self.rng, g, &mut out);
                    }
                    self.run_mld(now, id, out);
                }
                SlaacAction::AddressReady(addr) => {
                    // RFC 3810 §5.2.13: reports sent from :: before the link-local address
                    // was ready are sent again from it.
                    if addr.is_link_local_unicast() {
                        let mut out = Vec::new();
                        let mut qout = Vec::new();
                        let mut advert = None;
                        if let Some(i) = self.ifaces.get_mut(&id)
                            && i.link.is_multicast_capable()
                        {
                            i.mld.link_up(now, &mut self.rng, &mut out);
                            // RFC 3810 §5.1.14: queries come from a link-local address,
                            // so the querier starts when there is one.
                            if let Some(q) = i.querier.as_mut()
                                && !q.is_running()
                            {
                                q.start(now);
                                q.poll(now, &mut qout);
                            }
                        }
                        // RFC 4861 §6.1.2: RAs come from a link-local address too.
                        if let Some(a) =
                            self.ifaces.get_mut(&id).and_then(|i| i.advertiser.as_mut())
                            && !a.is_advertising()
                        {
                            a.start(now, &mut self.rng);
                            advert = a.poll(now, &mut self.rng);
                        }
                        self.run_mld(now, id, out);
                        self.run_querier(now, id, qout);
                        if let Some(due) = advert {
                            self.send_router_advert(now, id, due);
                        }
                    }
                }
                SlaacAction::StateChanged { addr, from, to } => {
                    self.event(Some(id), EventKind::Address { addr, from, to });
                }
                SlaacAction::InterfaceDisabled => {
                    if let Some(i) = self.ifaces.get_mut(&id) {
                        i.enabled = false;
                    }
                    self.event(Some(id), EventKind::InterfaceDisabled);
                }
            }
        }
    }

    pub(crate) fn run_mld(&mut self, now: Instant, id: IfaceId, actions: Vec<MldAction>) {
        for a in actions {
            match a {
                MldAction::Send { dst, message } => self.send_mld(now, id, dst, message),
                MldAction::Joined(group) => self.event(Some(id), EventKind::MldJoined { group }),
                MldAction::Left(group) => self.event(Some(id), EventKind::MldLeft { group }),
                MldAction::VersionChanged(version) => {
                    self.event(Some(id), EventKind::MldVersion { version })
                }
            }
        }
    }

    pub(crate) fn run_querier(&mut self, now: Instant, id: IfaceId, actions: Vec<QuerierAction>) {
        for a in actions {
            match a {
                QuerierAction::Send { dst, message } => self.send_mld(now, id, dst, message),
                QuerierAction::ListenersPresent(group) => {
                    self.event(Some(id), EventKind::ListenersPresent { group })
                }
                QuerierAction::ListenersGone(group) => {
                    self.event(Some(id), EventKind::ListenersGone { group })
                }
                QuerierAction::Querier(on) => self.event(Some(id), EventKind::MldQuerier { on }),
            }
        }
    }

    pub(crate) fn run_router_events(
        &mut self,
        _now: Instant,
        id: IfaceId,
        events: Vec<RouterEvent>,
    ) {
        for e in events {
            let kind = match e {
                RouterEvent::RouterAdded(addr) => EventKind::RouterAdded { addr },
                RouterEvent::RouterRemoved(addr) => EventKind::RouterRemoved { addr },
                RouterEvent::PrefixAdded(prefix, len) => EventKind::PrefixAdded { prefix, len },
                RouterEvent::PrefixRemoved(prefix, len) => EventKind::PrefixRemoved { prefix, len },
                RouterEvent::RouteAdded(prefix, len, router) => EventKind::RouteAdded {
                    prefix,
                    len,
                    router,
                },
                RouterEvent::RouteRemoved(prefix, len, router) => EventKind::RouteRemoved {
                    prefix,
                    len,
                    router,
                },
                RouterEvent::RouterRefused(_) => {
                    self.stats.drop("default router list full");
                    continue;
                }
                RouterEvent::PrefixRefused(..) => {
                    self.stats.drop("prefix list full");
                    continue;
                }
                RouterEvent::RouteRefused(..) => {
                    self.stats.drop("route information list full");
                    continue;
                }
            };
            self.event(Some(id), kind);
        }
    }

    pub(crate) fn next_frag_ident(&mut self) -> u32 {
        // RFC 7739 §5: identifiers that are hard to predict; a random start, then +1 with
        // a random step keeps them unique per destination for a long time.
        self.frag_ident = self
            .frag_ident
            .wrapping_add(1 + (self.rng.next_u32() & 0xff));
        self.frag_ident
    }
}

pub(crate) fn all_nodes() -> Ipv6Addr {
    Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1)
}

pub(crate) fn all_routers() -> Ipv6Addr {
    Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2)
}

/// Whether `a` and `b` share their first `len` bits.
pub(crate) fn same_prefix(a: &Ipv6Addr, b: &Ipv6Addr, len: u8) -> bool {
    let m = |x: &Ipv6Addr| crate::ip::route::mask(u128::from(*x), len);
    m(a) == m(b)
}
