//! Interfaces: their identity and the link-layer addresses that Neighbor Discovery
//! resolves to. Framing per link type lives in the files beside this one.

use std::fmt;
use std::net::Ipv4Addr;

use sixstack_wire::addr::EthernetAddress;

/// An interface of one stack; also its link zone index (RFC 4007 §6: each interface is
/// its own link zone, so the two are the same number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IfaceId(pub u32);

impl fmt::Display for IfaceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What ND resolves an IPv6 address to. Ethernet and FDDI carry 48-bit MAC addresses
/// (RFC 2464, RFC 2467); 6over4 and ISATAP carry IPv4 addresses (RFC 2529, RFC 5214).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkAddr {
    Mac(EthernetAddress),
    Ipv4(Ipv4Addr),
}

impl LinkAddr {
    /// The bytes carried in a Source/Target Link-layer Address option, before padding.
    pub fn to_bytes(self) -> Vec<u8> {
        match self {
            LinkAddr::Mac(m) => m.0.to_vec(),
            LinkAddr::Ipv4(a) => a.octets().to_vec(),
        }
    }
}

impl fmt::Display for LinkAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkAddr::Mac(m) => write!(f, "{m}"),
            LinkAddr::Ipv4(a) => write!(f, "{a}"),
        }
    }
}

pub mod link;

use std::net::Ipv6Addr;

pub use link::{LinkKind, Unframed};

use crate::mld::querier::{Querier, QuerierConfig};
use crate::mld::{MldConfig, MldHost};
use crate::nd::neighbor::{NeighborCache, NeighborConfig};
use crate::nd::ra::{AdvertConfig, Advertiser};
use crate::nd::router::{RouterList, RouterListConfig};
use crate::nd::rs::{RouterSolicitor, RsConfig};
use crate::slaac::{AddrTable, SlaacConfig};
use crate::stats::IpStats;
use crate::time::{Duration, Instant};

/// The node variables of one interface (RFC 4861 §6.3.2, RFC 4862 §5.1, RFC 3810 §9),
/// with the RFCs' defaults.
#[derive(Debug, Clone)]
pub struct IfaceConfig {
    pub name: String,
    pub link: LinkKind,
    /// Link MTU; the link type's default when None.
    pub mtu: Option<u32>,
    /// The site zone this interface belongs to (RFC 4007 §5): site-local addresses and
    /// packets never cross from one site to another.
    pub site: u32,
    /// Learn routers, prefixes and parameters from Router Advertisements (hosts).
    pub accept_ra: bool,
    /// Send Router Solicitations when the link comes up (hosts).
    pub send_rs: bool,
    /// RFC 4861 §6.3.2 BaseReachableTime (REACHABLE_TIME, 30 s).
    pub base_reachable_time: Duration,
    /// RFC 4861 §6.3.2 RetransTimer (RETRANS_TIMER, 1 s).
    pub retrans_timer: Duration,
    /// RFC 4861 §6.3.2 CurHopLimit; RFC 8200 suggests 64.
    pub cur_hop_limit: u8,
    pub neighbor: NeighborConfig,
    pub slaac: SlaacConfig,
    pub mld: MldConfig,
    pub rs: RsConfig,
    pub router_list: RouterListConfig,
    /// RFC 7217 Net_Iface: what identifies the interface to the stable-IID function. The
    /// MAC address when None (the interface name would survive a NIC swap; a research
    /// setup may want either).
    pub net_iface: Option<Vec<u8>>,
    /// Send Router Advertisements on this interface (router mode, RFC 4861 §6.2).
    pub advertise: Option<AdvertConfig>,
    /// Be an MLD querier (RFC 3810 §7) on this interface; None = only when advertising,
    /// with the defaults.
    pub querier: Option<QuerierConfig>,
}

impl IfaceConfig {
    pub fn new(name: &str, link: LinkKind) -> Self {
        Self {
            name: name.to_string(),
            link,
            mtu: None,
            site: 1,
            accept_ra: true,
            send_rs: true,
            base_reachable_time: Duration::from_secs(30),
            retrans_timer: Duration::from_secs(1),
            cur_hop_limit: 64,
            neighbor: NeighborConfig::default(),
            slaac: SlaacConfig::default(),
            mld: MldConfig::default(),
            rs: RsConfig::default(),
            router_list: RouterListConfig::default(),
            net_iface: None,
            advertise: None,
            querier: None,
        }
    }

    pub fn ethernet(name: &str, mac: EthernetAddress) -> Self {
        Self::new(name, LinkKind::Ethernet { mac })
    }

    pub fn fddi(name: &str, mac: EthernetAddress) -> Self {
        Self::new(name, LinkKind::Fddi { mac })
    }

    pub fn loopback() -> Self {
        let mut c = Self::new("lo", LinkKind::Loopback);
        c.accept_ra = false;
        c.send_rs = false;
        c
    }

    pub fn point_to_point(name: &str) -> Self {
        Self::new(name, LinkKind::PointToPoint)
    }
}

/// One interface of a stack and the per-link protocol state it owns.
#[derive(Debug)]
pub struct Interface {
    pub id: IfaceId,
    pub name: String,
    pub link: LinkKind,
    pub site: u32,
    pub accept_ra: bool,
    pub send_rs: bool,
    /// Administratively and physically up.
    pub up: bool,
    /// False after RFC 4862 §5.4.5 disabled IP on it.
    pub enabled: bool,
    pub mtu: u32,
    pub cur_hop_limit: u8,
    pub base_reachable_time: Duration,
    /// RFC 4861 §6.3.2: uniformly random in [0.5, 1.5] × BaseReachableTime.
    pub reachable_time: Duration,
    pub retrans_timer: Duration,
    pub neighbors: NeighborCache,
    pub addrs: AddrTable,
    pub mld: MldHost,
    pub routers: RouterList,
    pub solicitor: RouterSolicitor,
    pub advertiser: Option<Advertiser>,
    pub querier: Option<Querier>,
    /// RFC 8106 recursive DNS servers and search list learned from RAs, with expiry.
    pub rdnss: Vec<(Ipv6Addr, Instant)>,
    pub dnssl: Vec<(String, Instant)>,
    pub stats: IpStats,
    /// ICMPv6 errors sent about packets that arrived here, by reason
    /// (`IcmpError::reason`), and Redirects sent here.
    pub errors_sent: std::collections::BTreeMap<&'static str, u64>,
}

impl Interface {
    pub fn is_router_interface(&self) -> bool {
        self.advertiser.is_some()
    }
}
