//! Addresses: IPv6 address text with zones (RFC 4007 §11, shown in RFC 5952 form),
//! scopes (RFC 4291 §2.7, RFC 4007), link-layer addresses, and the witness types
//! the core takes so that it never re-checks what an address is.

use core::fmt;
use core::net::Ipv6Addr;
use core::str::FromStr;

/// An IEEE 802 MAC address (EUI-48), as Ethernet and FDDI carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct EthernetAddress(pub [u8; 6]);

impl EthernetAddress {
    pub const BROADCAST: Self = Self([0xff; 6]);

    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        Some(Self(b.get(..6)?.try_into().ok()?))
    }

    pub const fn is_multicast(&self) -> bool {
        self.0[0] & 0x01 != 0
    }

    pub const fn is_broadcast(&self) -> bool {
        matches!(self.0, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
    }

    /// The Ethernet group address an IPv6 multicast address maps to (RFC 2464 §7).
    pub fn from_ipv6_multicast(group: &Ipv6Addr) -> Self {
        let o = group.octets();
        Self([0x33, 0x33, o[12], o[13], o[14], o[15]])
    }

    /// The modified EUI-64 interface identifier (RFC 4291 appendix A).
    pub fn modified_eui64(&self) -> [u8; 8] {
        let m = self.0;
        [m[0] ^ 0x02, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]]
    }
}

impl fmt::Display for EthernetAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

impl FromStr for EthernetAddress {
    type Err = AddrParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = [0u8; 6];
        let mut parts = s.split([':', '-']);
        for byte in &mut out {
            let p = parts
                .next()
                .ok_or(AddrParseError("too few octets in MAC address"))?;
            if p.is_empty() || p.len() > 2 {
                return Err(AddrParseError(
                    "a MAC address octet has one or two hex digits",
                ));
            }
            *byte = u8::from_str_radix(p, 16)
                .map_err(|_| AddrParseError("a MAC address octet is not hexadecimal"))?;
        }
        if parts.next().is_some() {
            return Err(AddrParseError("too many octets in MAC address"));
        }
        Ok(Self(out))
    }
}

/// Why address text did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddrParseError(pub &'static str);

impl fmt::Display for AddrParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for AddrParseError {}

/// IPv6 scopes (RFC 4291 §2.7 multicast scope values; unicast scopes map onto them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    InterfaceLocal = 0x1,
    LinkLocal = 0x2,
    RealmLocal = 0x3,
    AdminLocal = 0x4,
    SiteLocal = 0x5,
    OrganizationLocal = 0x8,
    Global = 0xe,
}

impl Scope {
    pub fn name(&self) -> &'static str {
        match self {
            Scope::InterfaceLocal => "interface-local",
            Scope::LinkLocal => "link-local",
            Scope::RealmLocal => "realm-local",
            Scope::AdminLocal => "admin-local",
            Scope::SiteLocal => "site-local",
            Scope::OrganizationLocal => "organization-local",
            Scope::Global => "global",
        }
    }

    fn from_multicast_bits(bits: u8) -> Scope {
        match bits {
            0x1 => Scope::InterfaceLocal,
            0x2 => Scope::LinkLocal,
            0x3 => Scope::RealmLocal,
            0x4 => Scope::AdminLocal,
            0x5 => Scope::SiteLocal,
            0x8 => Scope::OrganizationLocal,
            // RFC 4291 §2.7: unassigned and reserved values are treated as global
            // except 0 and f, which are reserved; RFC 7346 says treat 0 and f as global too.
            _ => Scope::Global,
        }
    }
}

/// Classification helpers the standard library lacks or keeps unstable.
pub trait Ipv6AddrExt {
    fn is_link_local_unicast(&self) -> bool;
    fn is_site_local_unicast(&self) -> bool;
    fn is_unique_local_unicast(&self) -> bool;
    fn is_solicited_node(&self) -> bool;
    /// The scope of the address (RFC 4007 §6; multicast from its scope field).
    fn scope(&self) -> Scope;
    /// The solicited-node multicast group of a unicast address (RFC 4291 §2.7.1).
    fn solicited_node(&self) -> Ipv6Addr;
}

impl Ipv6AddrExt for Ipv6Addr {
    fn is_link_local_unicast(&self) -> bool {
        self.segments()[0] & 0xffc0 == 0xfe80
    }

    fn is_site_local_unicast(&self) -> bool {
        self.segments()[0] & 0xffc0 == 0xfec0
    }

    fn is_unique_local_unicast(&self) -> bool {
        self.segments()[0] & 0xfe00 == 0xfc00
    }

    fn is_solicited_node(&self) -> bool {
        let o = self.octets();
        o[..11] == [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0] && o[11] == 0x01 && o[12] == 0xff
    }

    fn scope(&self) -> Scope {
        if self.is_multicast() {
            Scope::from_multicast_bits(self.octets()[1] & 0x0f)
        } else if self.is_loopback() || self.is_link_local_unicast() {
            // RFC 4007 §4: the loopback address is treated as link-local scope.
            Scope::LinkLocal
        } else if self.is_site_local_unicast() {
            Scope::SiteLocal
        } else {
            Scope::Global
        }
    }

    fn solicited_node(&self) -> Ipv6Addr {
        let o = self.octets();
        Ipv6Addr::new(
            0xff02,
            0,
            0,
            0,
            0,
            1,
            0xff00 | u16::from(o[13]),
            u16::from_be_bytes([o[14], o[15]]),
        )
    }
}

/// The longest interface name Linux allows (IFNAMSIZ less the terminating zero).
pub const MAX_ZONE_NAME: usize = 15;

/// A zone (RFC 4007 §11): an interface or site by name or by numeric index.
/// Names are stored inline so that parsing text allocates nothing.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum Zone {
    Index(u32),
    Name { len: u8, bytes: [u8; MAX_ZONE_NAME] },
}

impl Zone {
    pub fn name(name: &str) -> Result<Self, AddrParseError> {
        if name.is_empty() {
            return Err(AddrParseError("empty zone after '%'"));
        }
        if let Ok(i) = name.parse::<u32>() {
            return Ok(Zone::Index(i));
        }
        if name.len() > MAX_ZONE_NAME {
            return Err(AddrParseError("zone name longer than 15 bytes"));
        }
        if !name
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'%' && b != b'/')
        {
            return Err(AddrParseError(
                "zone name has a character that is not allowed",
            ));
        }
        let mut bytes = [0u8; MAX_ZONE_NAME];
        bytes[..name.len()].copy_from_slice(name.as_bytes());
        Ok(Zone::Name {
            len: name.len() as u8,
            bytes,
        })
    }

    /// The name, if the zone was given by name.
    pub fn as_name(&self) -> Option<&str> {
        match self {
            Zone::Index(_) => None,
            // Unwrap-free: bytes were checked to be ASCII when the zone was built.
            Zone::Name { len, bytes } => core::str::from_utf8(&bytes[..usize::from(*len)]).ok(),
        }
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Zone::Index(i) => write!(f, "{i}"),
            Zone::Name { .. } => f.write_str(self.as_name().unwrap_or("?")),
        }
    }
}

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Zone({self})")
    }
}

/// An IPv6 address with an optional zone: `fe80::1%tap0`, `2001:db8::1`.
/// Displayed in RFC 5952 canonical form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ScopedAddr {
    pub addr: Ipv6Addr,
    pub zone: Option<Zone>,
}

impl ScopedAddr {
    pub const fn new(addr: Ipv6Addr, zone: Option<Zone>) -> Self {
        Self { addr, zone }
    }
}

impl FromStr for ScopedAddr {
    type Err = AddrParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // Brackets are accepted around the address alone ("[fe80::1%eth0]").
        let s = s
            .strip_prefix('[')
            .and_then(|t| t.strip_suffix(']'))
            .unwrap_or(s);
        let (a, zone) = match s.split_once('%') {
            Some((a, z)) => (a, Some(Zone::name(z)?)),
            None => (s, None),
        };
        let addr = a.parse::<Ipv6Addr>().map_err(|_| {
            AddrParseError("not an IPv6 address (example: 2001:db8::1 or fe80::1%eth0)")
        })?;
        Ok(Self { addr, zone })
    }
}

impl fmt::Display for ScopedAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The standard library writes RFC 5952 §4 form: lowercase, longest run of zero
        // fields compressed (the first if tied), a single zero field not compressed.
        match &self.zone {
            Some(z) => write!(f, "{}%{}", self.addr, z),
            None => write!(f, "{}", self.addr),
        }
    }
}

macro_rules! witness {
    ($(#[$doc:meta])* $name:ident, $check:expr, $why:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Ipv6Addr);

        impl $name {
            /// Checks the address once; `None` when it is not of this kind.
            pub fn new(addr: Ipv6Addr) -> Option<Self> {
                let check: fn(&Ipv6Addr) -> bool = $check;
                check(&addr).then_some(Self(addr))
            }

            pub const fn get(&self) -> Ipv6Addr {
                self.0
            }
        }

        impl TryFrom<Ipv6Addr> for $name {
            type Error = AddrParseError;
            fn try_from(a: Ipv6Addr) -> Result<Self, AddrParseError> {
                Self::new(a).ok_or(AddrParseError($why))
            }
        }

        impl From<$name> for Ipv6Addr {
            fn from(a: $name) -> Ipv6Addr {
                a.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

witness!(
    /// An address that is not `::`.
    SpecifiedAddr, |a| !a.is_unspecified(), "the unspecified address is not allowed here"
);
witness!(
    /// A unicast address: specified and not multicast.
    UnicastAddr, |a| !a.is_unspecified() && !a.is_multicast(), "a unicast address is needed here"
);
witness!(
    /// A multicast address (ff00::/8).
    MulticastAddr, |a| a.is_multicast(), "a multicast address is needed here"
);
witness!(
    /// A link-local unicast address (fe80::/10).
    LinkLocalAddr, |a| a.is_link_local_unicast(), "a link-local address (fe80::/10) is needed here"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc5952_canonical_text() {
        // RFC 5952 §4.2.2, §4.2.3, §4.3 examples.
        let cases = [
            ("2001:0db8:0:0:0:0:2:1", "2001:db8::2:1"),
            ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
            ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),
            ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
            ("2001:DB8::AAAA", "2001:db8::aaaa"),
            ("0:0:0:0:0:0:0:0", "::"),
            ("::ffff:192.0.2.1", "::ffff:192.0.2.1"),
        ];
        for (input, want) in cases {
            let a: ScopedAddr = input.parse().unwrap();
            assert_eq!(a.to_string(), want, "{input}");
        }
    }

    #[test]
    fn zones() {
        let a: ScopedAddr = "fe80::1%tap0".parse().unwrap();
        assert_eq!(a.zone.unwrap().as_name(), Some("tap0"));
        assert_eq!(a.to_string(), "fe80::1%tap0");
        let b: ScopedAddr = "[fe80::1%3]".parse().unwrap();
        assert_eq!(b.zone, Some(Zone::Index(3)));
        assert!("fe80::1%".parse::<ScopedAddr>().is_err());
        assert!(
            "fe80::1%averyveryverylongname"
                .parse::<ScopedAddr>()
                .is_err()
        );
        assert!("fe80::g".parse::<ScopedAddr>().is_err());
    }

    #[test]
    fn scopes_and_groups() {
        let ll: Ipv6Addr = "fe80::1".parse().unwrap();
        assert_eq!(ll.scope(), Scope::LinkLocal);
        assert_eq!(
            "fec0::1".parse::<Ipv6Addr>().unwrap().scope(),
            Scope::SiteLocal
        );
        assert_eq!(
            "ff05::2".parse::<Ipv6Addr>().unwrap().scope(),
            Scope::SiteLocal
        );
        let sn = "2001:db8::12:3456"
            .parse::<Ipv6Addr>()
            .unwrap()
            .solicited_node();
        assert_eq!(sn, "ff02::1:ff12:3456".parse::<Ipv6Addr>().unwrap());
        assert!(sn.is_solicited_node());
        assert_eq!(
            EthernetAddress::from_ipv6_multicast(&sn).to_string(),
            "33:33:ff:12:34:56"
        );
        assert!(UnicastAddr::new(sn).is_none());
        assert!(MulticastAddr::new(sn).is_some());
    }

    #[test]
    fn mac_text() {
        let m: EthernetAddress = "00:1B:21:0a:0b:0c".parse().unwrap();
        assert_eq!(m.to_string(), "00:1b:21:0a:0b:0c");
        assert_eq!(
            m.modified_eui64(),
            [0x02, 0x1b, 0x21, 0xff, 0xfe, 0x0a, 0x0b, 0x0c]
        );
        assert!("00:1b:21:0a:0b".parse::<EthernetAddress>().is_err());
        assert!("00:1b:21:0a:0b:0c:0d".parse::<EthernetAddress>().is_err());
    }
}
