//! What ping6 and tracert6 need of a network stack, and nothing more: send an ICMPv6
//! message or a UDP datagram with per-probe options, receive the ICMPv6 messages that come
//! back (with the time the stack received them), read a clock and ask for the path MTU.
//!
//! [`ProbeNet`] is implemented by `sixstack-client` over the daemon and, in the tests, by
//! a sixstack node of the simulator, so the same logic runs in both. Time is a
//! [`Duration`] since an origin the implementation chooses (the simulator's zero, the
//! process start), never the wall clock.

use std::fmt;
use std::net::Ipv6Addr;
use std::time::Duration;

use sixstack_wire::addr::{ScopedAddr, Zone};
use sixstack_wire::icmpv6;
use sixstack_wire::ipv6;
use sixstack_wire::ipv6chain::Chain;
use sixstack_wire::proto::IpProtocol;

/// RFC 8200 §5: every link carries packets of this size.
pub const MIN_MTU: u32 = 1280;
/// Bytes of an IPv6 header.
pub const IPV6_HEADER: usize = 40;
/// Bytes of an ICMPv6 echo header and of a UDP header.
pub const ICMP_ECHO_HEADER: usize = 8;
pub const UDP_HEADER: usize = 8;

/// What the path MTU means for a probe (`ping -M`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PmtuMode {
    /// Never fragment: a probe larger than the path MTU is a local error
    /// ("message too long"), as with IPV6_DONTFRAG.
    Do,
    /// Fragment to the path MTU the stack knows (learnt from Packet Too Big).
    #[default]
    Want,
    /// Ignore the path MTU: fragment to the minimum MTU of 1280 bytes (RFC 8200 §5
    /// allows a node to do so instead of path MTU discovery). A stack that cannot do
    /// this fragments to the path MTU as with `Want`.
    Dont,
}

/// Per-probe settings of the IPv6 header and the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SendOptions {
    /// None: the stack's default (the link's Cur Hop Limit).
    pub hop_limit: Option<u8>,
    /// The Traffic Class octet (DSCP and ECN).
    pub traffic_class: u8,
    /// The 20-bit Flow Label (RFC 6437).
    pub flow_label: u32,
    pub pmtu: PmtuMode,
    /// None: RFC 6724's choice of source.
    pub source: Option<Ipv6Addr>,
}

/// An ICMPv6 message received by the stack on our behalf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// When the stack received it (the same clock as [`ProbeNet::now`]).
    pub time: Duration,
    pub from: Ipv6Addr,
    /// The arrival interface, for a link-local source (`fe80::1%tap0`).
    pub zone: Option<Zone>,
    pub hop_limit: u8,
    /// The ICMPv6 message, from its type octet on.
    pub message: Vec<u8>,
}

impl Received {
    /// The source with its zone when it is link-local, as people write it.
    pub fn from_scoped(&self) -> ScopedAddr {
        let link_local = self.from.segments()[0] & 0xffc0 == 0xfe80;
        ScopedAddr::new(self.from, self.zone.filter(|_| link_local))
    }
}

/// Why a probe could not be sent or received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeError {
    /// The probe is larger than the path MTU and may not be fragmented.
    TooBig { mtu: u32 },
    /// This probe failed (no route, interface down, ...); later ones may work.
    Send(String),
    /// Nothing more can be done (the daemon went away, the socket is gone).
    Fatal(String),
}

impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProbeError::TooBig { mtu } => write!(f, "message too long, mtu={mtu}"),
            ProbeError::Send(why) | ProbeError::Fatal(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for ProbeError {}

/// A network stack as ping6 and tracert6 see it.
pub trait ProbeNet {
    /// Monotonic time since the implementation's origin.
    fn now(&mut self) -> Duration;

    /// Sends an ICMPv6 message (type, code, a zero checksum that the stack fills, body).
    fn send_icmp(
        &mut self,
        dst: &ScopedAddr,
        opts: &SendOptions,
        message: &[u8],
    ) -> Result<(), ProbeError>;

    /// Sends a UDP datagram to `port` from the probe socket; returns its source port.
    fn send_udp(
        &mut self,
        dst: &ScopedAddr,
        port: u16,
        opts: &SendOptions,
        payload: &[u8],
    ) -> Result<u16, ProbeError>;

    /// The next ICMPv6 message addressed to us, waiting until `deadline` at most;
    /// `Ok(None)` when the deadline passed first.
    fn recv(&mut self, deadline: Duration) -> Result<Option<Received>, ProbeError>;

    /// The path MTU towards `dst` as the stack knows it, or the MTU of the link it leaves
    /// by; None when there is no route.
    fn path_mtu(&mut self, dst: &ScopedAddr) -> Option<u32>;
}

/// What an ICMPv6 error quotes of the packet that caused it, when that packet was one of
/// our probes (RFC 4443 §2.4 (c): as much of it as fits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quote {
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    pub probe: QuotedProbe,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotedProbe {
    Echo { ident: u16, seq: u16 },
    Udp { src_port: u16, dst_port: u16 },
}

/// An ICMPv6 message about one of our probes, or an answer to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    EchoReply {
        ident: u16,
        seq: u16,
        /// The length of the whole ICMPv6 message.
        len: usize,
    },
    /// An error (Destination Unreachable, Packet Too Big, Time Exceeded, Parameter
    /// Problem) and what it quotes.
    Error { kind: ErrorKind, quote: Quote },
}

/// The four ICMPv6 errors of RFC 4443 §3, with what each carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    DstUnreachable(u8),
    PacketTooBig(u32),
    TimeExceeded(u8),
    ParamProblem { code: u8, pointer: u32 },
}

impl ErrorKind {
    /// The text iputils' ping prints after "From X icmp_seq=N ".
    pub fn describe(&self) -> String {
        match *self {
            ErrorKind::DstUnreachable(code) => {
                let why = match code {
                    0 => "No route",
                    1 => "Administratively prohibited",
                    2 => "Beyond scope of source address",
                    3 => "Address unreachable",
                    4 => "Port unreachable",
                    5 => "Source address failed ingress/egress policy",
                    6 => "Reject route to destination",
                    _ => return format!("Destination unreachable: Unknown code {code}"),
                };
                format!("Destination unreachable: {why}")
            }
            ErrorKind::PacketTooBig(mtu) => format!("Packet too big: mtu={mtu}"),
            ErrorKind::TimeExceeded(0) => "Time exceeded: Hop limit".to_string(),
            ErrorKind::TimeExceeded(1) => "Time exceeded: Defragmentation failure".to_string(),
            ErrorKind::TimeExceeded(code) => format!("Time exceeded: Unknown code {code}"),
            ErrorKind::ParamProblem { code, pointer } => {
                let why = match code {
                    0 => "Wrong header field",
                    1 => "Unknown header",
                    2 => "Unknown option",
                    _ => "Unknown code",
                };
                format!("Parameter problem: {why} at {pointer}")
            }
        }
    }

    /// A short machine name for JSON.
    pub fn name(&self) -> &'static str {
        match self {
            ErrorKind::DstUnreachable(_) => "destination-unreachable",
            ErrorKind::PacketTooBig(_) => "packet-too-big",
            ErrorKind::TimeExceeded(_) => "time-exceeded",
            ErrorKind::ParamProblem { .. } => "parameter-problem",
        }
    }

    pub fn code(&self) -> u8 {
        match *self {
            ErrorKind::DstUnreachable(c) | ErrorKind::TimeExceeded(c) => c,
            ErrorKind::PacketTooBig(_) => 0,
            ErrorKind::ParamProblem { code, .. } => code,
        }
    }
}

/// Reads an ICMPv6 message as an answer to a probe; None for anything else (neighbor
/// discovery, MLD, echo requests, errors about packets that were no probe).
pub fn parse_answer(message: &[u8]) -> Option<Answer> {
    // The stack verified the checksum; the message is parsed without the addresses.
    let p = icmpv6::Packet::new_checked(message).ok()?;
    let repr = icmpv6::Repr::parse(&p).ok()?;
    let (kind, invoking) = match repr {
        icmpv6::Repr::EchoReply { ident, seq_no, .. } => {
            return Some(Answer::EchoReply {
                ident,
                seq: seq_no,
                len: message.len(),
            });
        }
        icmpv6::Repr::DstUnreachable { code, invoking } => {
            (ErrorKind::DstUnreachable(code), invoking)
        }
        icmpv6::Repr::PacketTooBig { mtu, invoking } => (ErrorKind::PacketTooBig(mtu), invoking),
        icmpv6::Repr::TimeExceeded { code, invoking } => (ErrorKind::TimeExceeded(code), invoking),
        icmpv6::Repr::ParamProblem {
            code,
            pointer,
            invoking,
        } => (ErrorKind::ParamProblem { code, pointer }, invoking),
        _ => return None,
    };
    Some(Answer::Error {
        kind,
        quote: parse_quote(invoking)?,
    })
}

/// The probe an ICMPv6 error quotes: the IPv6 header, any extension headers (a first
/// fragment included), then the echo request or the UDP ports.
pub fn parse_quote(invoking: &[u8]) -> Option<Quote> {
    let q = ipv6::Packet::new_lenient(invoking).ok()?;
    // The quote may be cut short of the payload length the header claims.
    let payload = &invoking[IPV6_HEADER..];
    let chain = Chain::walk(q.next_header(), payload);
    let (proto, off) = chain.upper_layer()?;
    let upper = payload.get(off..)?;
    let probe = match proto {
        IpProtocol::ICMPV6 => {
            let h = upper.get(..8)?;
            if h[0] != icmpv6::Message::ECHO_REQUEST.0 {
                return None;
            }
            QuotedProbe::Echo {
                ident: u16::from_be_bytes([h[4], h[5]]),
                seq: u16::from_be_bytes([h[6], h[7]]),
            }
        }
        IpProtocol::UDP | IpProtocol::UDPLITE => {
            let h = upper.get(..4)?;
            QuotedProbe::Udp {
                src_port: u16::from_be_bytes([h[0], h[1]]),
                dst_port: u16::from_be_bytes([h[2], h[3]]),
            }
        }
        _ => return None,
    };
    Some(Quote {
        src: q.src_addr(),
        dst: q.dst_addr(),
        probe,
    })
}

/// An Echo Request message: type 128, code 0, checksum left zero for the stack, then the
/// identifier, the sequence number and `data`.
pub fn echo_request(ident: u16, seq: u16, data: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(ICMP_ECHO_HEADER + data.len());
    m.extend_from_slice(&[icmpv6::Message::ECHO_REQUEST.0, 0, 0, 0]);
    m.extend_from_slice(&ident.to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(data);
    m
}

/// Milliseconds with the precision iputils shows: three decimals below 1 ms, two below
/// 10, one below 100, none above.
pub fn format_ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 99.95 {
        format!("{:.0}", ms)
    } else if ms >= 9.995 {
        format!("{ms:.1}")
    } else if ms >= 1.0 {
        format!("{ms:.2}")
    } else {
        format!("{ms:.3}")
    }
}

/// Milliseconds as a JSON number, to the microsecond.
pub fn json_ms(d: Duration) -> f64 {
    (d.as_micros() as f64) / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[rustfmt::skip]
    const TIME_EXCEEDED_QUOTING_ECHO: [u8; 8 + 40 + 8 + 4] = [
        0x03, 0x00, 0x00, 0x00,   // Time Exceeded, code 0 (hop limit), checksum
        0x00, 0x00, 0x00, 0x00,   // unused
        // the quoted IPv6 header: version 6, payload 12, next header 58, hop limit 1
        0x60, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x3a, 0x01,
        0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, // 2001:db8:1::10
        0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20, // 2001:db8:2::20
        0x80, 0x00, 0x00, 0x00,   // Echo Request
        0x12, 0x34, 0x00, 0x07,   // identifier 0x1234, sequence 7
        0xaa, 0xbb, 0xcc, 0xdd,   // data
    ];

    #[test]
    fn time_exceeded_quoting_an_echo_request() {
        let a = parse_answer(&TIME_EXCEEDED_QUOTING_ECHO).unwrap();
        let Answer::Error { kind, quote } = a else {
            panic!("not an error: {a:?}");
        };
        assert_eq!(kind, ErrorKind::TimeExceeded(0));
        assert_eq!(quote.dst, "2001:db8:2::20".parse::<Ipv6Addr>().unwrap());
        assert_eq!(
            quote.probe,
            QuotedProbe::Echo {
                ident: 0x1234,
                seq: 7
            }
        );
        assert_eq!(kind.describe(), "Time exceeded: Hop limit");
    }

    #[test]
    fn a_quote_cut_inside_the_echo_header_is_no_probe() {
        assert_eq!(
            parse_quote(&TIME_EXCEEDED_QUOTING_ECHO[8..8 + 40 + 6]),
            None
        );
        assert_eq!(parse_quote(&TIME_EXCEEDED_QUOTING_ECHO[8..30]), None);
    }

    #[test]
    fn echo_request_layout() {
        assert_eq!(
            echo_request(0x0102, 0x0304, &[9]),
            [0x80, 0, 0, 0, 1, 2, 3, 4, 9]
        );
    }

    #[test]
    fn milliseconds_as_iputils_prints_them() {
        assert_eq!(format_ms(Duration::from_micros(123)), "0.123");
        assert_eq!(format_ms(Duration::from_micros(4_567)), "4.57");
        assert_eq!(format_ms(Duration::from_micros(45_678)), "45.7");
        assert_eq!(format_ms(Duration::from_micros(456_789)), "457");
    }
}
