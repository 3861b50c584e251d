//! Structured events: every state change a researcher wants on a timeline (address
//! tentative -> preferred, neighbor REACHABLE -> STALE, router learned ...). The stack
//! queues them with their time; the driver drains them.

use std::fmt;
use std::net::Ipv6Addr;

use crate::iface::IfaceId;
use crate::mld::MldVersion;
use crate::nd::neighbor::NudState;
use crate::slaac::AddrState;
use crate::time::Instant;

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub time: Instant,
    pub iface: Option<IfaceId>,
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    InterfaceAdded {
        name: String,
    },
    InterfaceRemoved,
    LinkUp,
    LinkDown,
    /// RFC 4862 §5.4.5: IP operation disabled after a duplicate hardware-derived address.
    InterfaceDisabled,
    Address {
        addr: Ipv6Addr,
        from: Option<AddrState>,
        to: Option<AddrState>,
    },
    /// An NA or DAD probe claims an address we use (not tentative): a conflict to report.
    AddressConflict {
        addr: Ipv6Addr,
    },
    Neighbor {
        addr: Ipv6Addr,
        from: Option<NudState>,
        to: Option<NudState>,
    },
    RouterAdded {
        addr: Ipv6Addr,
    },
    RouterRemoved {
        addr: Ipv6Addr,
    },
    PrefixAdded {
        prefix: Ipv6Addr,
        len: u8,
    },
    PrefixRemoved {
        prefix: Ipv6Addr,
        len: u8,
    },
    RouteAdded {
        prefix: Ipv6Addr,
        len: u8,
        router: Ipv6Addr,
    },
    RouteRemoved {
        prefix: Ipv6Addr,
        len: u8,
        router: Ipv6Addr,
    },
    MtuChanged {
        mtu: u32,
    },
    PathMtu {
        dst: Ipv6Addr,
        mtu: u32,
    },
    Redirect {
        dst: Ipv6Addr,
        target: Ipv6Addr,
    },
    MldJoined {
        group: Ipv6Addr,
    },
    MldLeft {
        group: Ipv6Addr,
    },
    MldVersion {
        version: MldVersion,
    },
    /// MLD router side (RFC 3810 §7): a group got or lost its listeners on the link.
    ListenersPresent {
        group: Ipv6Addr,
    },
    ListenersGone {
        group: Ipv6Addr,
    },
    /// This router became (true) or stopped being (false) the link's MLD querier.
    MldQuerier {
        on: bool,
    },
    ReassemblyTimeout {
        src: Ipv6Addr,
    },
}

fn state<T: fmt::Debug>(s: &Option<T>, none: &str) -> String {
    match s {
        Some(s) => format!("{s:?}").to_uppercase(),
        None => none.to_string(),
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use EventKind::*;
        match self {
            InterfaceAdded { name } => write!(f, "interface {name} added"),
            InterfaceRemoved => write!(f, "interface removed"),
            LinkUp => write!(f, "link up"),
            LinkDown => write!(f, "link down"),
            InterfaceDisabled => write!(f, "IPv6 disabled: duplicate hardware-derived address"),
            Address { addr, from, to } => {
                write!(
                    f,
                    "address {addr} {} -> {}",
                    state(from, "(new)"),
                    state(to, "(removed)")
                )
            }
            AddressConflict { addr } => write!(f, "address {addr} claimed by another node"),
            Neighbor { addr, from, to } => {
                write!(
                    f,
                    "neighbor {addr} {} -> {}",
                    state(from, "(new)"),
                    state(to, "(removed)")
                )
            }
            RouterAdded { addr } => write!(f, "default router {addr} added"),
            RouterRemoved { addr } => write!(f, "default router {addr} removed"),
            PrefixAdded { prefix, len } => write!(f, "on-link prefix {prefix}/{len} added"),
            PrefixRemoved { prefix, len } => write!(f, "on-link prefix {prefix}/{len} removed"),
            RouteAdded {
                prefix,
                len,
                router,
            } => {
                write!(f, "route {prefix}/{len} via {router} added")
            }
            RouteRemoved {
                prefix,
                len,
                router,
            } => {
                write!(f, "route {prefix}/{len} via {router} removed")
            }
            MtuChanged { mtu } => write!(f, "link MTU {mtu}"),
            PathMtu { dst, mtu } => write!(f, "path MTU to {dst} is {mtu}"),
            Redirect { dst, target } => write!(f, "redirect: {dst} via {target}"),
            MldJoined { group } => write!(f, "joined {group}"),
            MldLeft { group } => write!(f, "left {group}"),
            MldVersion { version } => write!(f, "MLD compatibility mode {version:?}"),
            ListenersPresent { group } => write!(f, "listeners for {group} on the link"),
            ListenersGone { group } => write!(f, "no more listeners for {group}"),
            MldQuerier { on: true } => write!(f, "MLD querier"),
            MldQuerier { on: false } => write!(f, "MLD querier: another router queries"),
            ReassemblyTimeout { src } => write!(f, "reassembly from {src} timed out"),
        }
    }
}
