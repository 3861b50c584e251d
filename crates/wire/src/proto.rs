//! Protocol numbers shared by several formats: IP protocol / next header values
//! (IANA "Assigned Internet Protocol Numbers") and EtherTypes (IEEE 802).
//!
//! Both are open newtypes, not enums: a value this crate does not know is still
//! carried and shown, never lost.

use core::fmt;

/// An IPv4 protocol / IPv6 next header value.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct IpProtocol(pub u8);

impl IpProtocol {
    pub const HOPOPTS: Self = Self(0);
    pub const ICMP: Self = Self(1);
    pub const IPV4: Self = Self(4);
    pub const TCP: Self = Self(6);
    pub const UDP: Self = Self(17);
    pub const IPV6: Self = Self(41);
    pub const ROUTING: Self = Self(43);
    pub const FRAGMENT: Self = Self(44);
    pub const ESP: Self = Self(50);
    pub const AH: Self = Self(51);
    pub const ICMPV6: Self = Self(58);
    pub const NO_NEXT_HEADER: Self = Self(59);
    pub const DSTOPTS: Self = Self(60);
    pub const MOBILITY: Self = Self(135);
    pub const UDPLITE: Self = Self(136);

    /// Whether this value names an IPv6 extension header that the chain walks through
    /// (RFC 8200 §4; AH and ESP end the walk of a dissector that cannot decrypt).
    pub const fn is_ipv6_extension(self) -> bool {
        matches!(self.0, 0 | 43 | 44 | 60 | 51 | 135)
    }

    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "hopopts",
            1 => "icmp",
            4 => "ipv4",
            6 => "tcp",
            17 => "udp",
            41 => "ipv6",
            43 => "routing",
            44 => "fragment",
            50 => "esp",
            51 => "ah",
            58 => "icmpv6",
            59 => "none",
            60 => "dstopts",
            135 => "mobility",
            136 => "udplite",
            _ => return None,
        })
    }
}

impl From<u8> for IpProtocol {
    fn from(v: u8) -> Self {
        Self(v)
    }
}

impl From<IpProtocol> for u8 {
    fn from(v: IpProtocol) -> u8 {
        v.0
    }
}

impl fmt::Display for IpProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "proto-{}", self.0),
        }
    }
}

impl fmt::Debug for IpProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IpProtocol({}={})", self.0, self)
    }
}

/// An EtherType (also the protocol field of LLC/SNAP and Linux cooked captures).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct EtherType(pub u16);

impl EtherType {
    pub const IPV4: Self = Self(0x0800);
    pub const ARP: Self = Self(0x0806);
    pub const VLAN: Self = Self(0x8100);
    pub const QINQ: Self = Self(0x88a8);
    pub const IPV6: Self = Self(0x86dd);

    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x0800 => "ipv4",
            0x0806 => "arp",
            0x8100 => "vlan",
            0x88a8 => "qinq",
            0x86dd => "ipv6",
            _ => return None,
        })
    }
}

impl fmt::Display for EtherType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "0x{:04x}", self.0),
        }
    }
}

impl fmt::Debug for EtherType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EtherType(0x{:04x})", self.0)
    }
}
