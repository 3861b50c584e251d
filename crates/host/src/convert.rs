//! The core's tables and events as the control protocol shows them.

use std::collections::BTreeMap;
use std::net::Ipv6Addr;

use sixstack_api as api;
use sixstack_core::event::{Event, EventKind};
use sixstack_core::iface::{Interface, LinkKind};
use sixstack_core::ip::route::{Route, RouteKind, RouteOrigin};
use sixstack_core::nd::neighbor::NudState;
use sixstack_core::nd::ra::AdvertConfig;
use sixstack_core::slaac::{AddrState, Origin};
use sixstack_core::stats::{IpStats, Stats, UdpStats};
use sixstack_core::{IfaceId, Instant, RouteGet, RouteVia, Stack};
use sixstack_wire::ndiscopt::Preference;

/// Seconds left until `t`, or None for never.
fn remaining(now: Instant, t: Instant) -> Option<u64> {
    if t == Instant::FAR_FUTURE {
        return None;
    }
    Some(t.saturating_duration_since(now).as_secs())
}

pub fn link_info(i: &Interface, tap: bool) -> api::LinkInfo {
    api::LinkInfo {
        name: i.name.clone(),
        index: i.id.0,
        kind: match i.link {
            LinkKind::Ethernet { .. } => "ethernet",
            LinkKind::Fddi { .. } => "fddi",
            LinkKind::Loopback => "loopback",
            LinkKind::PointToPoint => "point-to-point",
        }
        .to_string(),
        mac: i.link.mac().map(|m| m.to_string()),
        mtu: i.mtu,
        up: i.up,
        enabled: i.enabled,
        router: i.is_router_interface(),
        tap,
        cur_hop_limit: i.cur_hop_limit,
        reachable_time_ms: i.reachable_time.as_millis() as u64,
        retrans_timer_ms: i.retrans_timer.as_millis() as u64,
        rdnss: i.rdnss.iter().map(|(a, _)| *a).collect(),
        dnssl: i.dnssl.iter().map(|(d, _)| d.clone()).collect(),
    }
}

pub fn addr_state(s: AddrState) -> api::AddrState {
    match s {
        AddrState::Tentative => api::AddrState::Tentative,
        AddrState::Preferred => api::AddrState::Preferred,
        AddrState::Deprecated => api::AddrState::Deprecated,
        AddrState::Duplicate => api::AddrState::Duplicate,
    }
}

pub fn addrs(i: &Interface, now: Instant) -> Vec<api::AddrInfo> {
    i.addrs
        .iter()
        .map(|e| api::AddrInfo {
            interface: i.name.clone(),
            address: e.addr,
            prefix_len: e.prefix_len,
            scope: api::Scope::of(&e.addr),
            state: addr_state(e.state),
            origin: match e.origin {
                Origin::LinkLocal => api::AddrOrigin::LinkLocal,
                Origin::Stable => api::AddrOrigin::Slaac,
                Origin::Temporary => api::AddrOrigin::Temporary,
                Origin::Manual => api::AddrOrigin::Static,
            },
            valid_lifetime: remaining(now, e.valid_until),
            preferred_lifetime: remaining(now, e.preferred_until),
        })
        .collect()
}

pub fn neigh_state(s: NudState) -> api::NeighState {
    match s {
        NudState::Incomplete => api::NeighState::Incomplete,
        NudState::Reachable => api::NeighState::Reachable,
        NudState::Stale => api::NeighState::Stale,
        NudState::Delay => api::NeighState::Delay,
        NudState::Probe => api::NeighState::Probe,
        NudState::Static => api::NeighState::Permanent,
    }
}

pub fn neighbors(i: &Interface) -> Vec<api::NeighInfo> {
    i.neighbors
        .iter()
        .map(|n| api::NeighInfo {
            dev: i.name.clone(),
            address: n.addr,
            lladdr: n.lladdr.map(|l| l.to_string()),
            state: neigh_state(n.state),
            router: n.is_router,
        })
        .collect()
}

/// An interface's multicast listening, and its querier's view of the link.
pub fn mld(i: &Interface, now: Instant) -> api::MldInfo {
    api::MldInfo {
        dev: i.name.clone(),
        version: match i.mld.version() {
            sixstack_core::mld::MldVersion::V1 => "v1",
            sixstack_core::mld::MldVersion::V2 => "v2",
        }
        .to_string(),
        joined: i.mld.groups().map(|(g, _, _)| g).collect(),
        querier: i.querier.as_ref().map(|q| {
            if !q.is_running() {
                "stopped"
            } else if q.is_querier() {
                "querier"
            } else {
                "non-querier"
            }
            .to_string()
        }),
        listeners: i
            .querier
            .as_ref()
            .map(|q| {
                q.listeners()
                    .map(|(group, t)| api::MldListener {
                        group,
                        expires: remaining(now, t).unwrap_or(0),
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// The settings an advertiser runs with, every field filled in, in the file's words.
pub fn ra_config(a: &AdvertConfig) -> api::RaConfig {
    let pref = |p: Preference| {
        match p {
            Preference::High => "high",
            Preference::Low => "low",
            Preference::Medium | Preference::Reserved => "medium",
        }
        .to_string()
    };
    api::RaConfig {
        max_interval: Some(a.max_rtr_adv_interval.as_secs()),
        min_interval: Some(a.min_rtr_adv_interval().as_secs()),
        router_lifetime: Some(a.adv_default_lifetime()),
        preference: Some(pref(a.adv_default_preference)),
        managed: a.adv_managed_flag,
        other_config: a.adv_other_config_flag,
        mtu: (a.adv_link_mtu != 0).then_some(a.adv_link_mtu),
        hop_limit: Some(a.adv_cur_hop_limit),
        reachable_time: Some(a.adv_reachable_time),
        retrans_timer: Some(a.adv_retrans_timer),
        rdnss: a.rdnss.clone(),
        rdnss_lifetime: Some(a.rdnss_lifetime()),
        dnssl: a.dnssl.clone(),
        dnssl_lifetime: Some(a.dnssl_lifetime()),
        prefixes: a
            .prefixes
            .iter()
            .map(|p| api::RaPrefix {
                prefix: format!("{}/{}", p.prefix, p.prefix_len),
                on_link: Some(p.on_link),
                autonomous: Some(p.autonomous),
                valid_lifetime: Some(p.valid_lifetime),
                preferred_lifetime: Some(p.preferred_lifetime),
            })
            .collect(),
        routes: a
            .routes
            .iter()
            .map(|r| api::RaRoute {
                prefix: format!("{}/{}", r.prefix, r.prefix_len),
                lifetime: Some(r.lifetime),
                preference: Some(pref(r.preference)),
            })
            .collect(),
    }
}

/// One entry of the route table.
pub fn route_info(r: &Route, dev: String, now: Instant) -> api::RouteInfo {
    api::RouteInfo {
        prefix: r.prefix,
        prefix_len: r.prefix_len,
        kind: match r.kind {
            RouteKind::Unicast => api::RouteType::Unicast,
            RouteKind::Blackhole => api::RouteType::Blackhole,
            RouteKind::Unreachable => api::RouteType::Unreachable,
            RouteKind::Prohibit => api::RouteType::Prohibit,
        },
        dev,
        via: r.next_hop,
        metric: r.metric,
        origin: match r.origin {
            RouteOrigin::Connected => api::RouteOrigin::Connected,
            RouteOrigin::Static => api::RouteOrigin::Static,
            RouteOrigin::RouterAdvert => api::RouteOrigin::Ra,
            RouteOrigin::Redirect => api::RouteOrigin::Redirect,
        },
        expires: r.expires.and_then(|t| remaining(now, t)),
    }
}

/// What [`Stack::route_get`] answered, with names.
pub fn route_get(g: &RouteGet, address: Ipv6Addr, dev: String, now: Instant) -> api::RouteGetInfo {
    let (chosen_by, route) = match g.via {
        None => ("local", None),
        Some(RouteVia::Scoped) => ("scoped", None),
        Some(RouteVia::Redirect) => ("redirect", None),
        Some(RouteVia::Table(r)) => ("table", Some(route_info(&r, dev.clone(), now))),
        Some(RouteVia::OnLinkPrefix { prefix, prefix_len }) => (
            "prefix",
            Some(api::RouteInfo {
                prefix,
                kind: api::RouteType::Unicast,
                prefix_len,
                dev: dev.clone(),
                via: None,
                metric: 0,
                origin: api::RouteOrigin::Ra,
                expires: None,
            }),
        ),
        Some(RouteVia::DefaultRouter) => ("default_router", None),
        Some(RouteVia::Multicast) => ("multicast", None),
    };
    api::RouteGetInfo {
        address,
        dev,
        via: (g.next_hop != address).then_some(g.next_hop),
        source: g.source,
        mtu: g.mtu,
        chosen_by: chosen_by.to_string(),
        route,
    }
}

/// The route table, and what Router Advertisements taught (on-link prefixes and default
/// routers, which the core keeps in each interface's router list).
pub fn routes(stack: &Stack, now: Instant) -> Vec<api::RouteInfo> {
    let name = |id: IfaceId| {
        stack
            .interface(id)
            .map(|i| i.name.clone())
            .unwrap_or_else(|| id.to_string())
    };
    let mut out: Vec<api::RouteInfo> = stack
        .routes()
        .iter()
        .map(|r| route_info(&r, name(r.iface), now))
        .collect();
    for i in stack.interfaces().filter(|i| i.up) {
        for p in i.routers.prefixes() {
            out.push(api::RouteInfo {
                prefix: p.prefix,
                kind: api::RouteType::Unicast,
                prefix_len: p.prefix_len,
                dev: i.name.clone(),
                via: None,
                metric: 256,
                origin: api::RouteOrigin::Ra,
                expires: remaining(now, p.expires),
            });
        }
        for r in i.routers.routers() {
            out.push(api::RouteInfo {
                prefix: Ipv6Addr::UNSPECIFIED,
                kind: api::RouteType::Unicast,
                prefix_len: 0,
                dev: i.name.clone(),
                via: Some(r.addr),
                metric: 1024,
                origin: api::RouteOrigin::Ra,
                expires: remaining(now, r.expires),
            });
        }
    }
    out
}

fn ip_counters(s: &IpStats) -> api::IpCounters {
    api::IpCounters {
        in_receives: s.in_receives,
        in_octets: s.in_octets,
        in_hdr_errors: s.in_hdr_errors,
        in_no_routes: s.in_no_routes,
        in_addr_errors: s.in_addr_errors,
        in_unknown_protos: s.in_unknown_protos,
        in_truncated_pkts: s.in_truncated_pkts,
        in_forw_datagrams: s.in_forw_datagrams,
        reasm_reqds: s.reasm_reqds,
        reasm_oks: s.reasm_oks,
        reasm_fails: s.reasm_fails,
        in_discards: s.in_discards,
        in_delivers: s.in_delivers,
        out_requests: s.out_requests,
        out_no_routes: s.out_no_routes,
        out_forw_datagrams: s.out_forw_datagrams,
        out_discards: s.out_discards,
        out_frag_reqds: s.out_frag_reqds,
        out_frag_oks: s.out_frag_oks,
        out_frag_fails: s.out_frag_fails,
        out_frag_creates: s.out_frag_creates,
        out_transmits: s.out_transmits,
        out_octets: s.out_octets,
        in_mcast_pkts: s.in_mcast_pkts,
        out_mcast_pkts: s.out_mcast_pkts,
    }
}

fn udp_counters(s: &UdpStats) -> api::UdpCounters {
    api::UdpCounters {
        in_datagrams: s.in_datagrams,
        no_ports: s.no_ports,
        in_errors: s.in_errors,
        out_datagrams: s.out_datagrams,
    }
}

fn by_type(t: &[u64; 256]) -> BTreeMap<String, u64> {
    t.iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
        .map(|(ty, n)| (ty.to_string(), *n))
        .collect()
}

fn names(m: &BTreeMap<&'static str, u64>) -> BTreeMap<String, u64> {
    m.iter().map(|(k, v)| ((*k).to_string(), *v)).collect()
}

pub fn stats(stack: &Stack) -> api::StatsInfo {
    let s: &Stats = stack.stats();
    api::StatsInfo {
        ip: ip_counters(&s.ip),
        icmp: api::IcmpCounters {
            in_msgs: s.icmp.in_msgs,
            in_errors: s.icmp.in_errors,
            out_msgs: s.icmp.out_msgs,
            out_errors: s.icmp.out_errors,
            out_rate_limited: s.icmp.out_rate_limited,
            in_by_type: by_type(&s.icmp.in_by_type),
            out_by_type: by_type(&s.icmp.out_by_type),
            errors_sent: names(&s.icmp.errors_sent),
        },
        udp: udp_counters(&s.udp),
        udplite: udp_counters(&s.udplite),
        drops: s
            .drops
            .iter()
            .map(|(k, v)| ((*k).to_string(), *v))
            .collect(),
        interfaces: stack
            .interfaces()
            .map(|i| api::IfaceCounters {
                name: i.name.clone(),
                ip: ip_counters(&i.stats),
                errors_sent: names(&i.errors_sent),
            })
            .collect(),
        sockets: stack.socket_count() as u64,
    }
}

/// An event with its interface named (`names` remembers removed interfaces too).
pub fn event(e: &Event, names: &BTreeMap<IfaceId, String>) -> api::EventInfo {
    use api::EventDetail as D;
    let detail = match &e.kind {
        EventKind::InterfaceAdded { name } => D::InterfaceAdded { name: name.clone() },
        EventKind::InterfaceRemoved => D::InterfaceRemoved,
        EventKind::LinkUp => D::LinkUp,
        EventKind::LinkDown => D::LinkDown,
        EventKind::InterfaceDisabled => D::InterfaceDisabled,
        EventKind::Address { addr, from, to } => D::Address {
            address: *addr,
            from: from.map(addr_state),
            to: to.map(addr_state),
        },
        EventKind::AddressConflict { addr } => D::AddressConflict { address: *addr },
        EventKind::Neighbor { addr, from, to } => D::Neighbor {
            address: *addr,
            from: from.map(neigh_state),
            to: to.map(neigh_state),
        },
        EventKind::RouterAdded { addr } => D::RouterAdded { address: *addr },
        EventKind::RouterRemoved { addr } => D::RouterRemoved { address: *addr },
        EventKind::PrefixAdded { prefix, len } => D::PrefixAdded {
            prefix: *prefix,
            prefix_len: *len,
        },
        EventKind::PrefixRemoved { prefix, len } => D::PrefixRemoved {
            prefix: *prefix,
            prefix_len: *len,
        },
        EventKind::RouteAdded {
            prefix,
            len,
            router,
        } => D::RouteAdded {
            prefix: *prefix,
            prefix_len: *len,
            via: *router,
        },
        EventKind::RouteRemoved {
            prefix,
            len,
            router,
        } => D::RouteRemoved {
            prefix: *prefix,
            prefix_len: *len,
            via: *router,
        },
        EventKind::MtuChanged { mtu } => D::MtuChanged { mtu: *mtu },
        EventKind::PathMtu { dst, mtu } => D::PathMtu {
            address: *dst,
            mtu: *mtu,
        },
        EventKind::Redirect { dst, target } => D::Redirect {
            address: *dst,
            target: *target,
        },
        EventKind::MldJoined { group } => D::MldJoined { group: *group },
        EventKind::MldLeft { group } => D::MldLeft { group: *group },
        EventKind::MldVersion { version } => D::MldVersion {
            version: format!("{version:?}").to_lowercase(),
        },
        EventKind::ListenersPresent { group } => D::ListenersPresent { group: *group },
        EventKind::ListenersGone { group } => D::ListenersGone { group: *group },
        EventKind::MldQuerier { on } => D::MldQuerier { on: *on },
        EventKind::ReassemblyTimeout { src } => D::ReassemblyTimeout { src: *src },
    };
    api::EventInfo {
        time_us: e.time.total_micros(),
        dev: e
            .iface
            .map(|i| names.get(&i).cloned().unwrap_or_else(|| i.to_string())),
        message: e.kind.to_string(),
        detail,
    }
}

/// The control protocol's error for a core error.
pub fn error_kind(e: &sixstack_core::Error) -> api::ErrorKind {
    use sixstack_core::Error as E;
    match e {
        E::NoSuchInterface => api::ErrorKind::NoSuchInterface,
        E::NoRoute => api::ErrorKind::NoRoute,
        E::NoSourceAddress => api::ErrorKind::NoSourceAddress,
        E::ZoneRequired => api::ErrorKind::ZoneRequired,
        E::InterfaceDown => api::ErrorKind::InterfaceDown,
        E::TooBig => api::ErrorKind::TooBig,
        E::Invalid(_) => api::ErrorKind::Invalid,
        E::NoSuchSocket => api::ErrorKind::NoSuchSocket,
        E::AddrInUse => api::ErrorKind::AddrInUse,
        E::WouldBlock => api::ErrorKind::WouldBlock,
        E::TableFull => api::ErrorKind::TableFull,
        E::NotConnected => api::ErrorKind::NotConnected,
        E::Tcp("connection refused") => api::ErrorKind::ConnectionRefused,
        E::Tcp("connection reset") => api::ErrorKind::ConnectionReset,
        E::Tcp(w) if w.contains("timed out") => api::ErrorKind::TimedOut,
        E::Tcp(_) => api::ErrorKind::NoRoute,
    }
}
