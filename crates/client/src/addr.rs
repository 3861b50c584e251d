//! Socket addresses with zones: `[fe80::1%tap0]:7`, `[2001:db8::1]:53`.

use std::fmt;
use std::io;
use std::net::{Ipv6Addr, SocketAddrV6};
use std::str::FromStr;

use sixstack_wire::addr::{ScopedAddr, Zone};

/// An IPv6 address, its zone (an interface name or index, RFC 4007 §11) and a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SocketAddr {
    pub ip: Ipv6Addr,
    pub zone: Option<Zone>,
    pub port: u16,
}

impl SocketAddr {
    pub const fn new(ip: Ipv6Addr, port: u16) -> Self {
        Self {
            ip,
            zone: None,
            port,
        }
    }

    pub const fn with_zone(ip: Ipv6Addr, zone: Option<Zone>, port: u16) -> Self {
        Self { ip, zone, port }
    }

    pub fn ip(&self) -> &Ipv6Addr {
        &self.ip
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn scoped(&self) -> ScopedAddr {
        ScopedAddr::new(self.ip, self.zone)
    }

    /// The zone as the daemon's protocol carries it.
    pub(crate) fn zone_text(&self) -> Option<String> {
        zone_text(self.zone)
    }
}

pub(crate) fn zone_text(z: Option<Zone>) -> Option<String> {
    z.map(|z| z.to_string())
}

/// A zone as the daemon wrote it ("tap0", "3").
pub(crate) fn zone_of(s: Option<&str>) -> Option<Zone> {
    Zone::name(s?).ok()
}

impl fmt::Display for SocketAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}]:{}", self.scoped(), self.port)
    }
}

/// `[addr%zone]:port`; the zone is optional.
impl FromStr for SocketAddr {
    type Err = io::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{s:?}: {why} (example: [2001:db8::1]:7 or [fe80::1%tap0]:7)"),
            )
        };
        let (host, port) = s
            .strip_prefix('[')
            .and_then(|r| r.split_once("]:"))
            .ok_or_else(|| bad("not [address]:port"))?;
        let a: ScopedAddr = host.parse().map_err(|e| bad(&format!("{e}")))?;
        let port = port.parse().map_err(|_| bad("bad port"))?;
        Ok(Self::with_zone(a.addr, a.zone, port))
    }
}

impl From<SocketAddrV6> for SocketAddr {
    /// A scope id of 0 is no zone; another is the interface index.
    fn from(a: SocketAddrV6) -> Self {
        let zone = (a.scope_id() != 0).then(|| Zone::Index(a.scope_id()));
        Self::with_zone(*a.ip(), zone, a.port())
    }
}

/// What can name the far (or near) end of a socket, as `std::net::ToSocketAddrs`. Names
/// ("host:port") are resolved through the daemon, in RFC 6724 order.
pub trait ToSocketAddrs {
    fn to_socket_addrs(&self) -> io::Result<Vec<SocketAddr>>;
}

impl ToSocketAddrs for SocketAddr {
    fn to_socket_addrs(&self) -> io::Result<Vec<SocketAddr>> {
        Ok(vec![*self])
    }
}

impl ToSocketAddrs for SocketAddrV6 {
    fn to_socket_addrs(&self) -> io::Result<Vec<SocketAddr>> {
        Ok(vec![(*self).into()])
    }
}

impl ToSocketAddrs for (Ipv6Addr, u16) {
    fn to_socket_addrs(&self) -> io::Result<Vec<SocketAddr>> {
        Ok(vec![SocketAddr::new(self.0, self.1)])
    }
}

impl ToSocketAddrs for (ScopedAddr, u16) {
    fn to_socket_addrs(&self) -> io::Result<Vec<SocketAddr>> {
        Ok(vec![SocketAddr::with_zone(
            self.0.addr,
            self.0.zone,
            self.1,
        )])
    }
}

impl ToSocketAddrs for (&str, u16) {
    fn to_socket_addrs(&self) -> io::Result<Vec<SocketAddr>> {
        Ok(crate::resolve(self.0)?
            .into_iter()
            .map(|a| SocketAddr::with_zone(a.addr, a.zone, self.1))
            .collect())
    }
}

/// `[addr%zone]:port`, or `name:port` resolved through the daemon.
impl ToSocketAddrs for str {
    fn to_socket_addrs(&self) -> io::Result<Vec<SocketAddr>> {
        if self.starts_with('[') {
            return Ok(vec![self.parse()?]);
        }
        let (host, port) = self.rsplit_once(':').ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{self:?}: no port (write name:port or [address]:port)"),
            )
        })?;
        let port: u16 = port.parse().map_err(|_| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("{self:?}: bad port"))
        })?;
        (host, port).to_socket_addrs()
    }
}

impl ToSocketAddrs for String {
    fn to_socket_addrs(&self) -> io::Result<Vec<SocketAddr>> {
        self.as_str().to_socket_addrs()
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {
    fn to_socket_addrs(&self) -> io::Result<Vec<SocketAddr>> {
        (**self).to_socket_addrs()
    }
}

/// The first address, or an error that says none was found.
pub(crate) fn first(a: impl ToSocketAddrs) -> io::Result<SocketAddr> {
    a.to_socket_addrs()?
        .into_iter()
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "the name has no IPv6 address"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_with_and_without_zone() {
        let a: SocketAddr = "[fe80::1%tap0]:7".parse().unwrap();
        assert_eq!(a.ip, "fe80::1".parse::<Ipv6Addr>().unwrap());
        assert_eq!(a.zone.unwrap().as_name(), Some("tap0"));
        assert_eq!(a.port, 7);
        assert_eq!(a.to_string(), "[fe80::1%tap0]:7");
        let b: SocketAddr = "[2001:db8::1]:53".parse().unwrap();
        assert_eq!((b.zone, b.to_string().as_str()), (None, "[2001:db8::1]:53"));
        assert!("2001:db8::1:53".parse::<SocketAddr>().is_err());
        assert!("[fe80::1%]:1".parse::<SocketAddr>().is_err());
        assert!("[::1]:99999".parse::<SocketAddr>().is_err());
    }

    #[test]
    fn std_scope_id_is_a_zone_index() {
        let s = SocketAddrV6::new("fe80::2".parse().unwrap(), 9, 0, 3);
        let a: SocketAddr = s.into();
        assert_eq!(a.zone, Some(Zone::Index(3)));
        assert_eq!(a.zone_text().as_deref(), Some("3"));
        let literal = "[2001:db8::5]:80".to_socket_addrs().unwrap();
        assert_eq!(
            literal,
            vec![SocketAddr::new("2001:db8::5".parse().unwrap(), 80)]
        );
    }
}
