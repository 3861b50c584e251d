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
