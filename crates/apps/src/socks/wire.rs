//! The SOCKS version 5 messages (RFC 1928), parsed from and emitted into byte buffers: the
//! method negotiation (§3), the request (§4), the reply (§6) and the UDP request header
//! (§7). No I/O: the proxy reads into a bounded buffer and asks [`parse_greeting`] or
//! [`parse_request`] whether the message is complete.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

pub const VERSION: u8 = 0x05;

/// §3 METHOD values.
pub const METHOD_NO_AUTH: u8 = 0x00;
pub const METHOD_NONE_ACCEPTABLE: u8 = 0xff;

/// §4 ATYP values.
pub const ATYP_IPV4: u8 = 0x01;
pub const ATYP_DOMAIN: u8 = 0x03;
pub const ATYP_IPV6: u8 = 0x04;

/// The longest greeting: VER, NMETHODS, 255 methods.
pub const MAX_GREETING: usize = 2 + 255;
/// The longest request: VER CMD RSV ATYP, a 255-byte domain with its length, the port.
pub const MAX_REQUEST: usize = 4 + 1 + 255 + 2;

/// §4 CMD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Connect,
    Bind,
    UdpAssociate,
    /// Answered with [`Reply::CommandNotSupported`].
    Other(u8),
}

impl Command {
    fn from_byte(b: u8) -> Self {
        match b {
            0x01 => Self::Connect,
            0x02 => Self::Bind,
            0x03 => Self::UdpAssociate,
            o => Self::Other(o),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Bind => "bind",
            Self::UdpAssociate => "udp-associate",
            Self::Other(_) => "unknown",
        }
    }
}

/// DST.ADDR / BND.ADDR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Addr {
    Ip(IpAddr),
    /// A fully qualified domain name, §4: "the first octet of the address field contains
    /// the number of octets of name that follow, there is no terminating NUL octet".
    Domain(String),
}

impl std::fmt::Display for Addr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Ip(IpAddr::V6(a)) => write!(f, "[{a}]"),
            Self::Ip(IpAddr::V4(a)) => write!(f, "{a}"),
            Self::Domain(d) => f.write_str(d),
        }
    }
}

/// A §4 request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub command: Command,
    pub addr: Addr,
    pub port: u16,
}

/// §6 REP values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    Succeeded,
    GeneralFailure,
    NotAllowed,
    NetworkUnreachable,
    HostUnreachable,
    ConnectionRefused,
    TtlExpired,
    CommandNotSupported,
    AddressTypeNotSupported,
}

impl Reply {
    pub fn code(self) -> u8 {
        match self {
            Self::Succeeded => 0x00,
            Self::GeneralFailure => 0x01,
            Self::NotAllowed => 0x02,
            Self::NetworkUnreachable => 0x03,
            Self::HostUnreachable => 0x04,
            Self::ConnectionRefused => 0x05,
            Self::TtlExpired => 0x06,
            Self::CommandNotSupported => 0x07,
            Self::AddressTypeNotSupported => 0x08,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::GeneralFailure => "general failure",
            Self::NotAllowed => "not allowed",
            Self::NetworkUnreachable => "network unreachable",
            Self::HostUnreachable => "host unreachable",
            Self::ConnectionRefused => "connection refused",
            Self::TtlExpired => "TTL expired",
            Self::CommandNotSupported => "command not supported",
            Self::AddressTypeNotSupported => "address type not supported",
        }
    }

    /// The reply owed when connecting (or resolving) failed with `e`. A timeout is "host
    /// unreachable": nothing answered. Linux reports an ICMPv6 Time Exceeded as "host
    /// unreachable" too, so 0x06 only comes from a stack that says `TimedOut` for it —
    /// none does today.
    pub fn from_io(e: &io::Error) -> Self {
        use io::ErrorKind as K;
        match e.kind() {
            K::ConnectionRefused | K::ConnectionReset => Self::ConnectionRefused,
            K::NetworkUnreachable | K::NetworkDown => Self::NetworkUnreachable,
            K::HostUnreachable | K::TimedOut | K::WouldBlock | K::NotFound => Self::HostUnreachable,
            K::AddrNotAvailable => Self::HostUnreachable,
            // An administratively prohibited route (ICMPv6 code 1) comes back as EACCES.
            K::PermissionDenied => Self::NotAllowed,
            _ => Self::GeneralFailure,
        }
    }
}

/// Why a message is not SOCKS5.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// VER is not 5 (a SOCKS4 client, or not SOCKS at all).
    Version(u8),
    /// ATYP is not 1, 3 or 4: answered with [`Reply::AddressTypeNotSupported`].
    AddressType(u8),
    /// A domain name of length 0.
    EmptyDomain,
    /// A domain name with bytes that are not printable ASCII.
    BadDomain,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Version(v) => write!(f, "version {v:#04x}, not SOCKS5"),
            Self::AddressType(a) => write!(f, "unknown address type {a:#04x}"),
            Self::EmptyDomain => f.write_str("empty domain name"),
            Self::BadDomain => f.write_str("domain name with non-printable bytes"),
        }
    }
}

/// A parse over a buffer that may hold only the start of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed<T> {
    /// At least this many bytes in all are needed.
    Incomplete(usize),
    /// The message and the bytes it took.
    Done(T, usize),
}

/// §3: `VER NMETHODS METHODS...`; the methods offered.
pub fn parse_greeting(b: &[u8]) -> Result<Parsed<Vec<u8>>, ParseError> {
    let Some(&ver) = b.first() else {
        return Ok(Parsed::Incomplete(2));
    };
    if ver != VERSION {
        return Err(ParseError::Version(ver));
    }
    let Some(&n) = b.get(1) else {
        return Ok(Parsed::Incomplete(2));
    };
    let end = 2 + usize::from(n);
    match b.get(2..end) {
        Some(m) => Ok(Parsed::Done(m.to_vec(), end)),
        None => Ok(Parsed::Incomplete(end)),
    }
}

/// The method we choose: "no authentication" when offered, else "no acceptable methods"
/// (§3: "the client MUST close the connection").
pub fn choose_method(offered: &[u8]) -> u8 {
    if offered.contains(&METHOD_NO_AUTH) {
        METHOD_NO_AUTH
    } else {
        METHOD_NONE_ACCEPTABLE
    }
}

/// ATYP, the address and the port, from the start of `b` (shared by §4 and §7).
fn parse_addr_port(b: &[u8]) -> Result<Parsed<(Addr, u16)>, ParseError> {
    let Some(&atyp) = b.first() else {
        return Ok(Parsed::Incomplete(1));
    };
    let (addr, at) = match atyp {
        ATYP_IPV4 => match b.get(1..5) {
            Some(a) => (
                Addr::Ip(IpAddr::V4(Ipv4Addr::new(a[0], a[1], a[2], a[3]))),
                5,
            ),
            None => return Ok(Parsed::Incomplete(7)),
        },
        ATYP_IPV6 => match b.get(1..17) {
            Some(a) => {
                let mut o = [0u8; 16];
                o.copy_from_slice(a);
                (Addr::Ip(IpAddr::V6(Ipv6Addr::from(o))), 17)
            }
            None => return Ok(Parsed::Incomplete(19)),
        },
        ATYP_DOMAIN => {
            let Some(&len) = b.get(1) else {
                return Ok(Parsed::Incomplete(2));
            };
            if len == 0 {
                return Err(ParseError::EmptyDomain);
            }
            let end = 2 + usize::from(len);
            let Some(name) = b.get(2..end) else {
                return Ok(Parsed::Incomplete(end + 2));
            };
            if !name.iter().all(|c| c.is_ascii_graphic()) {
                return Err(ParseError::BadDomain);
            }
            // Printable ASCII is UTF-8.
            let name = String::from_utf8_lossy(name).into_owned();
            (Addr::Domain(name), end)
        }
        other => return Err(ParseError::AddressType(other)),
    };
    match b.get(at..at + 2) {
        Some(p) => Ok(Parsed::Done(
            (addr, u16::from_be_bytes([p[0], p[1]])),
            at + 2,
        )),
        None => Ok(Parsed::Incomplete(at + 2)),
    }
}

/// §4: `VER CMD RSV ATYP DST.ADDR DST.PORT`. RSV is not checked.
pub fn parse_request(b: &[u8]) -> Result<Parsed<Request>, ParseError> {
    let Some(&ver) = b.first() else {
        return Ok(Parsed::Incomplete(4));
    };
    if ver != VERSION {
        return Err(ParseError::Version(ver));
    }
    let Some(&cmd) = b.get(1) else {
        return Ok(Parsed::Incomplete(4));
    };
    if b.len() < 3 {
        return Ok(Parsed::Incomplete(4));
    }
    Ok(match parse_addr_port(&b[3..])? {
        Parsed::Incomplete(n) => Parsed::Incomplete(3 + n),
        Parsed::Done((addr, port), n) => Parsed::Done(
            Request {
                command: Command::from_byte(cmd),
                addr,
                port,
            },
            3 + n,
        ),
    })
}

/// Appends ATYP, the address and the port. An IPv4-mapped IPv6 address (what a
/// dual-stack socket reports for an IPv4 peer) goes out as IPv4.
fn put_addr(out: &mut Vec<u8>, a: SocketAddr) {
    match a.ip() {
        IpAddr::V4(v4) => {
            out.push(ATYP_IPV4);
            out.extend_from_slice(&v4.octets());
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => {
                out.push(ATYP_IPV4);
                out.extend_from_slice(&v4.octets());
            }
            None => {
                out.push(ATYP_IPV6);
                out.extend_from_slice(&v6.octets());
            }
        },
    }
    out.extend_from_slice(&a.port().to_be_bytes());
}

/// §6: `VER REP RSV ATYP BND.ADDR BND.PORT`. Without a bound address (a failure), the
/// unspecified IPv4 address and port 0, as most servers send.
pub fn reply(rep: Reply, bound: Option<SocketAddr>) -> Vec<u8> {
    let mut out = vec![VERSION, rep.code(), 0x00];
    put_addr(
        &mut out,
        bound.unwrap_or(SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0))),
    );
    out
}

/// A §7 UDP request header and where its data starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpHeader {
    pub frag: u8,
    pub addr: Addr,
    pub port: u16,
}

/// §7: `RSV(2) FRAG ATYP DST.ADDR DST.PORT DATA`; the header and the offset of DATA.
/// `None` when the datagram is too short or malformed: it is dropped.
pub fn parse_udp(b: &[u8]) -> Option<(UdpHeader, usize)> {
    let frag = *b.get(2)?;
    match parse_addr_port(b.get(3..)?) {
        Ok(Parsed::Done((addr, port), n)) => Some((UdpHeader { frag, addr, port }, 3 + n)),
        _ => None,
    }
}

/// The §7 header for a datagram that came from `from`, followed by `data`.
pub fn build_udp(from: SocketAddr, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(3 + 19 + data.len());
    out.extend_from_slice(&[0, 0, 0]);
    put_addr(&mut out, from);
    out.extend_from_slice(data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greeting_complete_partial_and_hostile() {
        assert_eq!(
            parse_greeting(&[5, 2, 0, 2]),
            Ok(Parsed::Done(vec![0, 2], 4))
        );
        assert_eq!(parse_greeting(&[]), Ok(Parsed::Incomplete(2)));
        assert_eq!(parse_greeting(&[5]), Ok(Parsed::Incomplete(2)));
        assert_eq!(parse_greeting(&[5, 3, 0]), Ok(Parsed::Incomplete(5)));
        // SOCKS4 and HTTP are not SOCKS5.
        assert_eq!(parse_greeting(&[4, 1]), Err(ParseError::Version(4)));
        assert_eq!(parse_greeting(b"GET /"), Err(ParseError::Version(b'G')));
        // No methods at all: complete, and nothing acceptable.
        assert_eq!(parse_greeting(&[5, 0]), Ok(Parsed::Done(vec![], 2)));
        assert_eq!(choose_method(&[]), METHOD_NONE_ACCEPTABLE);
        // The largest count a byte can say fits in MAX_GREETING.
        let mut big = vec![5, 255];
        big.extend(std::iter::repeat_n(2u8, 255));
        assert_eq!(big.len(), MAX_GREETING);
        match parse_greeting(&big) {
            Ok(Parsed::Done(m, n)) => {
                assert_eq!((m.len(), n), (255, MAX_GREETING));
                assert_eq!(choose_method(&m), METHOD_NONE_ACCEPTABLE);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(parse_greeting(&big[..100]), Ok(Parsed::Incomplete(257)));
        // Username/password only (RFC 1929) is refused.
        assert_eq!(choose_method(&[2]), METHOD_NONE_ACCEPTABLE);
        assert_eq!(choose_method(&[2, 0]), METHOD_NO_AUTH);
    }

    #[rustfmt::skip]
    const CONNECT_V6: [u8; 22] = [
        0x05, 0x01, 0x00,       // VER, CMD connect, RSV
        0x04,                   // ATYP IPv6
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, // 2001:db8::2
        0x00, 0x50,             // port 80
    ];

    #[test]
    fn request_ipv6_ipv4_and_domain() {
        assert_eq!(
            parse_request(&CONNECT_V6),
            Ok(Parsed::Done(
                Request {
                    command: Command::Connect,
                    addr: Addr::Ip("2001:db8::2".parse().unwrap()),
                    port: 80
                },
                22
            ))
        );
        #[rustfmt::skip]
        let v4 = [5, 3, 0, 1, 192, 0, 2, 1, 0x13, 0x88];
        match parse_request(&v4) {
            Ok(Parsed::Done(r, 10)) => {
                assert_eq!(r.command, Command::UdpAssociate);
                assert_eq!(r.addr, Addr::Ip("192.0.2.1".parse().unwrap()));
                assert_eq!(r.port, 5000);
            }
            other => panic!("{other:?}"),
        }
        let mut d = vec![5, 1, 0, 3, 11];
        d.extend_from_slice(b"example.org");
        d.extend_from_slice(&[1, 187]);
        match parse_request(&d) {
            Ok(Parsed::Done(r, n)) => {
                assert_eq!(n, d.len());
                assert_eq!(r.addr, Addr::Domain("example.org".into()));
                assert_eq!(r.port, 443);
            }
            other => panic!("{other:?}"),
        }
        // BIND and unknown commands parse; the proxy answers them 0x07.
        let mut b = CONNECT_V6;
        b[1] = 2;
        assert!(matches!(
            parse_request(&b),
            Ok(Parsed::Done(
                Request {
                    command: Command::Bind,
                    ..
                },
                _
            ))
        ));
        b[1] = 9;
        assert!(matches!(
            parse_request(&b),
            Ok(Parsed::Done(
                Request {
                    command: Command::Other(9),
                    ..
                },
                _
            ))
        ));
    }

    #[test]
    fn request_truncated_at_every_length() {
        for n in 0..CONNECT_V6.len() {
            match parse_request(&CONNECT_V6[..n]) {
                Ok(Parsed::Incomplete(need)) => assert!(need > n && need <= 22, "{n}: {need}"),
                other => panic!("{n}: {other:?}"),
            }
        }
        let mut d = vec![5, 1, 0, 3, 255];
        d.extend(std::iter::repeat_n(b'a', 255));
        d.extend_from_slice(&[0, 80]);
        assert_eq!(d.len(), MAX_REQUEST);
        for n in 0..d.len() {
            match parse_request(&d[..n]) {
                Ok(Parsed::Incomplete(need)) => {
                    assert!(need > n && need <= MAX_REQUEST, "{n}: {need}")
                }
                other => panic!("{n}: {other:?}"),
            }
        }
        match parse_request(&d) {
            Ok(Parsed::Done(r, n)) => {
                assert_eq!(n, MAX_REQUEST);
                assert!(matches!(r.addr, Addr::Domain(ref s) if s.len() == 255));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn request_hostile() {
        assert_eq!(parse_request(&[4, 1, 0, 1]), Err(ParseError::Version(4)));
        assert_eq!(
            parse_request(&[5, 1, 0, 7, 1, 2]),
            Err(ParseError::AddressType(7))
        );
        assert_eq!(
            parse_request(&[5, 1, 0, 0]),
            Err(ParseError::AddressType(0))
        );
        assert_eq!(
            parse_request(&[5, 1, 0, 3, 0, 0, 80]),
            Err(ParseError::EmptyDomain)
        );
        assert_eq!(
            parse_request(&[5, 1, 0, 3, 3, b'a', 0, b'b', 0, 80]),
            Err(ParseError::BadDomain)
        );
        assert_eq!(
            parse_request(&[5, 1, 0, 3, 2, 0xc3, 0xa9, 0, 80]),
            Err(ParseError::BadDomain)
        );
        // Extra bytes after a request are not part of it.
        let mut extra = CONNECT_V6.to_vec();
        extra.extend_from_slice(b"GET");
        assert!(matches!(parse_request(&extra), Ok(Parsed::Done(_, 22))));
    }

    #[test]
    fn replies() {
        assert_eq!(
            reply(
                Reply::Succeeded,
                Some("[2001:db8::1]:4660".parse().unwrap())
            ),
            [
                5, 0, 0, 4, 0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x12, 0x34
            ]
        );
        assert_eq!(
            reply(Reply::ConnectionRefused, None),
            [5, 5, 0, 1, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(
            reply(
                Reply::Succeeded,
                Some("[::ffff:192.0.2.7]:80".parse().unwrap())
            ),
            [5, 0, 0, 1, 192, 0, 2, 7, 0, 80]
        );
        let codes: Vec<u8> = [
            Reply::Succeeded,
            Reply::GeneralFailure,
            Reply::NotAllowed,
            Reply::NetworkUnreachable,
            Reply::HostUnreachable,
            Reply::ConnectionRefused,
            Reply::TtlExpired,
            Reply::CommandNotSupported,
            Reply::AddressTypeNotSupported,
        ]
        .iter()
        .map(|r| r.code())
        .collect();
        assert_eq!(codes, (0..=8).collect::<Vec<u8>>());
    }

    #[test]
    fn io_errors_map_to_rfc_1928_section_6() {
        use io::ErrorKind as K;
        let r = |k| Reply::from_io(&io::Error::from(k));
        assert_eq!(r(K::ConnectionRefused), Reply::ConnectionRefused);
        assert_eq!(r(K::NetworkUnreachable), Reply::NetworkUnreachable);
        assert_eq!(r(K::HostUnreachable), Reply::HostUnreachable);
        assert_eq!(r(K::TimedOut), Reply::HostUnreachable);
        assert_eq!(r(K::NotFound), Reply::HostUnreachable);
        assert_eq!(r(K::PermissionDenied), Reply::NotAllowed);
        assert_eq!(r(K::Unsupported), Reply::GeneralFailure);
        // ECONNREFUSED from the OS.
        assert_eq!(
            Reply::from_io(&io::Error::from_raw_os_error(111)),
            Reply::ConnectionRefused
        );
    }

    #[test]
    fn udp_header_parse_and_build() {
        let d = build_udp("[2001:db8::9]:53".parse().unwrap(), b"hello");
        #[rustfmt::skip]
        let want: Vec<u8> = [
            &[0u8, 0, 0, 4][..],                                    // RSV, FRAG 0, ATYP IPv6
            &[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9], // 2001:db8::9
            &[0, 53],                                               // port
            b"hello",
        ]
        .concat();
        assert_eq!(d, want);
        let (h, at) = parse_udp(&d).unwrap();
        assert_eq!(h.frag, 0);
        assert_eq!(h.addr, Addr::Ip("2001:db8::9".parse().unwrap()));
        assert_eq!(h.port, 53);
        assert_eq!(&d[at..], b"hello");
        let mut dom = vec![0, 0, 1, 3, 4];
        dom.extend_from_slice(b"host\x00\x07data");
        let (h, at) = parse_udp(&dom).unwrap();
        assert_eq!((h.frag, h.port, &dom[at..]), (1, 7, &b"data"[..]));
        assert_eq!(h.addr, Addr::Domain("host".into()));
        // Empty data is a datagram too.
        let (_, at) = parse_udp(&[0, 0, 0, 1, 1, 2, 3, 4, 0, 1]).unwrap();
        assert_eq!(at, 10);
        for bad in [
            &[][..],
            &[0, 0],
            &[0, 0, 0],
            &[0, 0, 0, 1, 1, 2],
            &[0, 0, 0, 9, 1, 2, 3, 4, 0, 1],
            &[0, 0, 0, 3, 0, 0, 1],
        ] {
            assert_eq!(parse_udp(bad), None, "{bad:?}");
        }
    }
}
