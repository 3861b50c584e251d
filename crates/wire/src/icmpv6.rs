//! ICMPv6, the Internet Control Message Protocol for IPv6 (RFC 4443).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     Type      |     Code      |          Checksum             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |            Unused / MTU / Pointer / Identifier, Sequence      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   As much of the invoking packet as fits (errors), or data    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! The view covers every message; Neighbor Discovery ([`crate::ndisc`]) and MLD
//! ([`crate::mld`]) add their accessors to the same [`Packet`]. The checksum covers the
//! IPv6 pseudo-header (RFC 4443 §2.3, RFC 8200 §8.1).

use core::net::Ipv6Addr;

use crate::checksum::Checksum;
use crate::error::{Error, ErrorKind, Result, need};
use crate::proto::IpProtocol;
use crate::{mld, ndisc};

const PROTO: &str = "icmpv6";

mod field {
    use core::ops::Range;
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: Range<usize> = 2..4;
    /// The second word: unused, MTU, pointer, or identifier and sequence number.
    pub const WORD1: Range<usize> = 4..8;
    pub const ECHO_IDENT: Range<usize> = 4..6;
    pub const ECHO_SEQ_NO: Range<usize> = 6..8;
    pub const PAYLOAD: usize = 8;
}

/// Type, code and checksum: what every ICMPv6 message has.
pub const MIN_LEN: usize = 4;
/// Type, code, checksum and the second word: errors and echo messages.
pub const HEADER_LEN: usize = 8;

/// An ICMPv6 message type (IANA "ICMPv6 Parameters"). Open: unknown types are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Message(pub u8);

impl Message {
    pub const DST_UNREACHABLE: Self = Self(0x01);
    pub const PACKET_TOO_BIG: Self = Self(0x02);
    pub const TIME_EXCEEDED: Self = Self(0x03);
    pub const PARAM_PROBLEM: Self = Self(0x04);
    pub const ECHO_REQUEST: Self = Self(0x80);
    pub const ECHO_REPLY: Self = Self(0x81);
    /// RFC 2710 §3; also the MLDv2 query (RFC 3810 §5.1).
    pub const MLD_QUERY: Self = Self(0x82);
    pub const MLD_REPORT: Self = Self(0x83);
    pub const MLD_DONE: Self = Self(0x84);
    pub const ROUTER_SOLICIT: Self = Self(0x85);
    pub const ROUTER_ADVERT: Self = Self(0x86);
    pub const NEIGHBOR_SOLICIT: Self = Self(0x87);
    pub const NEIGHBOR_ADVERT: Self = Self(0x88);
    pub const REDIRECT: Self = Self(0x89);
    pub const ROUTER_RENUMBERING: Self = Self(0x8a);
    pub const NODE_INFO_QUERY: Self = Self(0x8b);
    pub const NODE_INFO_RESPONSE: Self = Self(0x8c);
    pub const INV_NEIGHBOR_SOLICIT: Self = Self(0x8d);
    pub const INV_NEIGHBOR_ADVERT: Self = Self(0x8e);
    /// RFC 3810 §5.2.
    pub const MLDV2_REPORT: Self = Self(0x8f);
    /// Mobile IPv6 (RFC 6275 §6.5-6.8), kept raw.
    pub const HA_DISCOVERY_REQUEST: Self = Self(0x90);
    pub const HA_DISCOVERY_REPLY: Self = Self(0x91);
    pub const MOBILE_PREFIX_SOLICIT: Self = Self(0x92);
    pub const MOBILE_PREFIX_ADVERT: Self = Self(0x93);

    /// RFC 4443 §2.1: types 0-127 are errors.
    pub const fn is_error(self) -> bool {
        self.0 < 0x80
    }

    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x01 => "destination unreachable",
            0x02 => "packet too big",
            0x03 => "time exceeded",
            0x04 => "parameter problem",
            0x80 => "echo request",
            0x81 => "echo reply",
            0x82 => "multicast listener query",
            0x83 => "multicast listener report",
            0x84 => "multicast listener done",
            0x85 => "router solicitation",
            0x86 => "router advertisement",
            0x87 => "neighbor solicitation",
            0x88 => "neighbor advertisement",
            0x89 => "redirect",
            0x8a => "router renumbering",
            0x8b => "node information query",
            0x8c => "node information reply",
            0x8d => "inverse neighbor solicitation",
            0x8e => "inverse neighbor advertisement",
            0x8f => "multicast listener report v2",
            0x90 => "home agent discovery request",
            0x91 => "home agent discovery reply",
            0x92 => "mobile prefix solicitation",
            0x93 => "mobile prefix advertisement",
            _ => return None,
        })
    }
}

/// Destination Unreachable codes (RFC 4443 §3.1).
pub mod dst_unreachable {
    pub const NO_ROUTE: u8 = 0x00;
    pub const ADMIN_PROHIBITED: u8 = 0x01;
    pub const BEYOND_SCOPE: u8 = 0x02;
    pub const ADDR_UNREACHABLE: u8 = 0x03;
    pub const PORT_UNREACHABLE: u8 = 0x04;
    pub const FAILED_POLICY: u8 = 0x05;
    pub const REJECT_ROUTE: u8 = 0x06;
    /// RFC 6550 §20.17: error in Source Routing Header.
    pub const SOURCE_ROUTING_HEADER: u8 = 0x07;
}

/// Time Exceeded codes (RFC 4443 §3.3).
pub mod time_exceeded {
    pub const HOP_LIMIT: u8 = 0x00;
    pub const FRAG_REASSEMBLY: u8 = 0x01;
}

/// Parameter Problem codes (RFC 4443 §3.4, RFC 7112 §3).
pub mod param_problem {
    pub const ERRONEOUS_FIELD: u8 = 0x00;
    pub const UNRECOGNIZED_NXT_HDR: u8 = 0x01;
    pub const UNRECOGNIZED_OPTION: u8 = 0x02;
    pub const INCOMPLETE_HEADER_CHAIN: u8 = 0x03;
}

/// The smallest valid length of a message of this type, or [`MIN_LEN`] for unknown types.
fn min_len(t: Message) -> usize {
    match t {
        _ if t.is_error() => HEADER_LEN,
        Message::ECHO_REQUEST | Message::ECHO_REPLY => HEADER_LEN,
        Message::MLD_QUERY | Message::MLD_REPORT | Message::MLD_DONE => mld::V1_LEN,
        Message::MLDV2_REPORT => mld::REPORT_V2_HEADER_LEN,
        Message::ROUTER_SOLICIT => ndisc::RS_LEN,
        Message::ROUTER_ADVERT => ndisc::RA_LEN,
        Message::NEIGHBOR_SOLICIT => ndisc::NS_LEN,
        Message::NEIGHBOR_ADVERT => ndisc::NA_LEN,
        Message::REDIRECT => ndisc::REDIRECT_LEN,
        _ => MIN_LEN,
    }
}

/// A read (and, over a mutable buffer, write) view of one ICMPv6 message.
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    pub(crate) buffer: T,
}

impl<'a> Packet<&'a [u8]> {
    /// What follows the first eight bytes: the invoking packet of an error, the data of
    /// an echo message. Empty when the message is shorter.
    pub fn into_payload(self) -> &'a [u8] {
        self.buffer.get(field::PAYLOAD..).unwrap_or(&[])
    }

    /// Everything after type, code and checksum.
    pub fn into_body(self) -> &'a [u8] {
        &self.buffer[MIN_LEN..]
    }

    /// The bytes from `offset` on, or nothing when the message is shorter.
    pub(crate) fn into_tail(self, offset: usize) -> &'a [u8] {
        self.buffer.get(offset..).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// The strict view: the buffer holds the fixed part its type requires.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_lenient(buffer)?;
        need(PROTO, p.buffer.as_ref(), min_len(p.msg_type()))?;
        Ok(p)
    }

    /// The lenient view, for quoted or truncated messages: type, code and checksum only.
    /// Accessors past them read zero from missing bytes.
    pub fn new_lenient(buffer: T) -> Result<Self> {
        need(PROTO, buffer.as_ref(), MIN_LEN)?;
        Ok(Self { buffer })
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Whether the buffer holds the fixed part this message type requires.
    pub fn is_complete(&self) -> bool {
        self.buffer.as_ref().len() >= min_len(self.msg_type())
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// Reads `N` bytes at `at`, zero-filled where the buffer is shorter (lenient views).
    pub(crate) fn read<const N: usize>(&self, at: usize) -> [u8; N] {
        let mut out = [0u8; N];
        if let Some(src) = self.buffer.as_ref().get(at..) {
            let n = src.len().min(N);
            out[..n].copy_from_slice(&src[..n]);
        }
        out
    }

    pub(crate) fn read_u16(&self, at: usize) -> u16 {
        u16::from_be_bytes(self.read(at))
    }

    pub(crate) fn read_u32(&self, at: usize) -> u32 {
        u32::from_be_bytes(self.read(at))
    }

    pub(crate) fn read_addr(&self, at: usize) -> Ipv6Addr {
        Ipv6Addr::from(self.read::<16>(at))
    }

    pub fn msg_type(&self) -> Message {
        Message(self.buffer.as_ref()[field::TYPE])
    }

    pub fn msg_code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }

    pub fn checksum(&self) -> u16 {
        self.read_u16(field::CHECKSUM.start)
    }

    /// The second word as a whole (unused in most errors).
    pub fn word1(&self) -> u32 {
        self.read_u32(field::WORD1.start)
    }

    /// Packet Too Big: the MTU of the next-hop link (RFC 4443 §3.2).
    pub fn mtu(&self) -> u32 {
        self.word1()
    }

    /// Parameter Problem: the offset of the offending octet (RFC 4443 §3.4).
    pub fn pointer(&self) -> u32 {
        self.word1()
    }

    pub fn echo_ident(&self) -> u16 {
        self.read_u16(field::ECHO_IDENT.start)
    }

    pub fn echo_seq_no(&self) -> u16 {
        self.read_u16(field::ECHO_SEQ_NO.start)
    }

    /// See [`Packet::into_payload`].
    pub fn payload(&self) -> &[u8] {
        self.buffer.as_ref().get(field::PAYLOAD..).unwrap_or(&[])
    }

    /// The checksum this message should carry between `src` and `dst`, computed as if
    /// the checksum field were zero.
    pub fn compute_checksum(&self, src: &Ipv6Addr, dst: &Ipv6Addr) -> u16 {
        let b = self.buffer.as_ref();
        let mut c = Checksum::ipv6_pseudo_header(src, dst, b.len() as u32, IpProtocol::ICMPV6.0);
        c.add_bytes(&b[..field::CHECKSUM.start]);
        c.add_bytes(&b[field::CHECKSUM.end..]);
        c.finish()
    }

    /// Whether the checksum verifies (RFC 4443 §2.3). The buffer must be the whole message.
    pub fn verify_checksum(&self, src: &Ipv6Addr, dst: &Ipv6Addr) -> bool {
        let b = self.buffer.as_ref();
        Checksum::ipv6_pseudo_header(src, dst, b.len() as u32, IpProtocol::ICMPV6.0)
            .add_bytes(b)
            .verifies()
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_msg_type(&mut self, t: Message) {
        self.buffer.as_mut()[field::TYPE] = t.0;
    }

    pub fn set_msg_code(&mut self, code: u8) {
        self.buffer.as_mut()[field::CODE] = code;
    }

    pub fn set_checksum(&mut self, v: u16) {
        self.buffer.as_mut()[field::CHECKSUM].copy_from_slice(&v.to_be_bytes());
    }

    pub fn set_word1(&mut self, v: u32) {
        self.buffer.as_mut()[field::WORD1].copy_from_slice(&v.to_be_bytes());
    }

    pub fn set_echo_ident(&mut self, v: u16) {
        self.buffer.as_mut()[field::ECHO_IDENT].copy_from_slice(&v.to_be_bytes());
    }

    pub fn set_echo_seq_no(&mut self, v: u16) {
        self.buffer.as_mut()[field::ECHO_SEQ_NO].copy_from_slice(&v.to_be_bytes());
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::PAYLOAD..]
    }

    /// Computes and writes the checksum for the whole buffer between `src` and `dst`.
    pub fn fill_checksum(&mut self, src: &Ipv6Addr, dst: &Ipv6Addr) {
        let c = self.compute_checksum(src, dst);
        self.set_checksum(c);
    }
}

/// An ICMPv6 message as values. Borrowed data (invoking packets, echo data, option and
/// record areas) is kept byte for byte; unknown types are kept raw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repr<'a> {
    DstUnreachable {
        code: u8,
        invoking: &'a [u8],
    },
    PacketTooBig {
        mtu: u32,
        invoking: &'a [u8],
    },
    TimeExceeded {
        code: u8,
        invoking: &'a [u8],
    },
    ParamProblem {
        code: u8,
        pointer: u32,
        invoking: &'a [u8],
    },
    EchoRequest {
        ident: u16,
        seq_no: u16,
        data: &'a [u8],
    },
    EchoReply {
        ident: u16,
        seq_no: u16,
        data: &'a [u8],
    },
    Ndisc(ndisc::Repr<'a>),
    Mld(mld::Repr<'a>),
    /// Any other type (Mobile IPv6, node information, unassigned), with everything after
    /// the checksum.
    Other {
        msg_type: Message,
        code: u8,
        body: &'a [u8],
    },
}

impl<'a> Repr<'a> {
    /// Parses a message from a checked view. The checksum is not verified here: that
    /// needs the addresses, see [`Packet::verify_checksum`].
    pub fn parse(p: &Packet<&'a [u8]>) -> Result<Self> {
        need(PROTO, p.buffer, min_len(p.msg_type()))?;
        let code = p.msg_code();
        Ok(match p.msg_type() {
            Message::DST_UNREACHABLE => Repr::DstUnreachable {
                code,
                invoking: p.into_payload(),
            },
            Message::PACKET_TOO_BIG => Repr::PacketTooBig {
                mtu: p.mtu(),
                invoking: p.into_payload(),
            },
            Message::TIME_EXCEEDED => Repr::TimeExceeded {
                code,
                invoking: p.into_payload(),
            },
            Message::PARAM_PROBLEM => Repr::ParamProblem {
                code,
                pointer: p.pointer(),
                invoking: p.into_payload(),
            },
            Message::ECHO_REQUEST => Repr::EchoRequest {
                ident: p.echo_ident(),
                seq_no: p.echo_seq_no(),
                data: p.into_payload(),
            },
            Message::ECHO_REPLY => Repr::EchoReply {
                ident: p.echo_ident(),
                seq_no: p.echo_seq_no(),
                data: p.into_payload(),
            },
            Message::ROUTER_SOLICIT
            | Message::ROUTER_ADVERT
            | Message::NEIGHBOR_SOLICIT
            | Message::NEIGHBOR_ADVERT
            | Message::REDIRECT => Repr::Ndisc(ndisc::Repr::parse(p)?),
            Message::MLD_QUERY
            | Message::MLD_REPORT
            | Message::MLD_DONE
            | Message::MLDV2_REPORT => Repr::Mld(mld::Repr::parse(p)?),
            t => Repr::Other {
                msg_type: t,
                code,
                body: p.into_body(),
            },
        })
    }

    pub fn msg_type(&self) -> Message {
        match self {
            Repr::DstUnreachable { .. } => Message::DST_UNREACHABLE,
            Repr::PacketTooBig { .. } => Message::PACKET_TOO_BIG,
            Repr::TimeExceeded { .. } => Message::TIME_EXCEEDED,
            Repr::ParamProblem { .. } => Message::PARAM_PROBLEM,
            Repr::EchoRequest { .. } => Message::ECHO_REQUEST,
            Repr::EchoReply { .. } => Message::ECHO_REPLY,
            Repr::Ndisc(n) => n.msg_type(),
            Repr::Mld(m) => m.msg_type(),
            Repr::Other { msg_type, .. } => *msg_type,
        }
    }

    pub fn buffer_len(&self) -> usize {
        match self {
            Repr::DstUnreachable { invoking, .. }
            | Repr::PacketTooBig { invoking, .. }
            | Repr::TimeExceeded { invoking, .. }
            | Repr::ParamProblem { invoking, .. } => HEADER_LEN + invoking.len(),
            Repr::EchoRequest { data, .. } | Repr::EchoReply { data, .. } => {
                HEADER_LEN + data.len()
            }
            Repr::Ndisc(n) => n.buffer_len(),
            Repr::Mld(m) => m.buffer_len(),
            Repr::Other { body, .. } => MIN_LEN + body.len(),
        }
    }

    /// Writes the message at the start of `buf` and fills its checksum for `src` → `dst`.
    /// Returns the number of bytes written.
    pub fn emit(&self, src: &Ipv6Addr, dst: &Ipv6Addr, buf: &mut [u8]) -> Result<usize> {
        let len = self.buffer_len();
        need(PROTO, buf, len)?;
        let buf = &mut buf[..len];
        buf.fill(0);
        let code = match self {
            Repr::DstUnreachable { code, .. }
            | Repr::TimeExceeded { code, .. }
            | Repr::ParamProblem { code, .. }
            | Repr::Other { code, .. } => *code,
            _ => 0,
        };
        {
            let mut p = Packet::new_unchecked(&mut *buf);
            p.set_msg_type(self.msg_type());
            p.set_msg_code(code);
        }
        match self {
            Repr::DstUnreachable { invoking, .. } | Repr::TimeExceeded { invoking, .. } => {
                buf[HEADER_LEN..].copy_from_slice(invoking);
            }
            Repr::PacketTooBig { mtu: w, invoking }
            | Repr::ParamProblem {
                pointer: w,
                invoking,
                ..
            } => {
                Packet::new_unchecked(&mut *buf).set_word1(*w);
                buf[HEADER_LEN..].copy_from_slice(invoking);
            }
            Repr::EchoRequest {
                ident,
                seq_no,
                data,
            }
            | Repr::EchoReply {
                ident,
                seq_no,
                data,
            } => {
                let mut p = Packet::new_unchecked(&mut *buf);
                p.set_echo_ident(*ident);
                p.set_echo_seq_no(*seq_no);
                p.payload_mut().copy_from_slice(data);
            }
            Repr::Ndisc(n) => n.emit_body(buf)?,
            Repr::Mld(m) => m.emit_body(buf)?,
            Repr::Other { body, .. } => buf[MIN_LEN..].copy_from_slice(body),
        }
        Packet::new_unchecked(buf).fill_checksum(src, dst);
        Ok(len)
    }
}

/// Checks that an ICMPv6 message's buffer holds `len` bytes (shared by ndisc and mld).
pub(crate) fn need_len(buf: &[u8], len: usize) -> Result<()> {
    need(PROTO, buf, len)
}

/// An error for a field of an ICMPv6 message (shared by ndisc and mld).
pub(crate) fn bad(kind: ErrorKind, offset: usize, reason: &'static str) -> Error {
    Error::new(PROTO, kind, offset, reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SRC: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
    const DST: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);

    #[rustfmt::skip]
    const ECHO: [u8; 12] = [
        0x80, 0x00,             // echo request, code 0
        0x5f, 0x75,             // checksum for 2001:db8::1 > 2001:db8::2 (as scapy computes it)
        0x00, 0x01,             // identifier 1
        0x00, 0x07,             // sequence number 7
        0x61, 0x62, 0x63, 0x64, // data "abcd"
    ];

    #[rustfmt::skip]
    const TOO_BIG: [u8; 16] = [
        0x02, 0x00, 0x00, 0x00, // packet too big, code 0, checksum (not filled)
        0x00, 0x00, 0x05, 0x00, // MTU 1280
        0x60, 0x00, 0x00, 0x00, 0x05, 0xdc, 0x11, 0x40, // the start of the invoking packet
    ];

    #[test]
    fn parse_echo() {
        let p = Packet::new_checked(&ECHO[..]).unwrap();
        assert_eq!(p.msg_type(), Message::ECHO_REQUEST);
        assert_eq!(p.echo_ident(), 1);
        assert_eq!(p.echo_seq_no(), 7);
        assert_eq!(p.compute_checksum(&SRC, &DST), p.checksum());
        assert!(p.verify_checksum(&SRC, &DST));
        assert!(!p.verify_checksum(&DST, &DST));
        assert_eq!(
            Repr::parse(&p).unwrap(),
            Repr::EchoRequest {
                ident: 1,
                seq_no: 7,
                data: b"abcd"
            }
        );
    }

    #[test]
    fn parse_too_big() {
        let p = Packet::new_checked(&TOO_BIG[..]).unwrap();
        assert!(p.msg_type().is_error());
        assert_eq!(p.mtu(), 1280);
        match Repr::parse(&p).unwrap() {
            Repr::PacketTooBig {
                mtu: 1280,
                invoking,
            } => assert_eq!(invoking, &TOO_BIG[8..]),
            r => panic!("{r:?}"),
        }
    }

    #[test]
    fn short_and_lenient() {
        assert!(matches!(
            Packet::new_checked(&ECHO[..3]).unwrap_err().kind,
            ErrorKind::Truncated {
                needed: 4,
                available: 3
            }
        ));
        assert!(Packet::new_checked(&ECHO[..6]).is_err());
        let p = Packet::new_lenient(&ECHO[..6]).unwrap();
        assert!(!p.is_complete());
        assert_eq!(p.echo_ident(), 1);
        assert_eq!(p.echo_seq_no(), 0);
        assert_eq!(p.into_payload(), &[] as &[u8]);
    }

    #[test]
    fn emit_echo_matches_fixture() {
        let r = Repr::EchoRequest {
            ident: 1,
            seq_no: 7,
            data: b"abcd",
        };
        let mut buf = [0u8; 12];
        assert_eq!(r.emit(&SRC, &DST, &mut buf).unwrap(), 12);
        assert_eq!(buf, ECHO);
    }

    fn arb_error() -> impl Strategy<Value = (u8, u8, u32, Vec<u8>)> {
        (
            0u8..4,
            any::<u8>(),
            any::<u32>(),
            proptest::collection::vec(any::<u8>(), 0..64),
        )
    }

    proptest! {
        #[test]
        fn emit_parse_identity((kind, code, word, data) in arb_error(), echo: bool,
                               other_type in 0x90u8..0x94) {
            let r = match (kind, echo) {
                (_, true) if code % 2 == 0 => Repr::EchoRequest { ident: word as u16, seq_no: (word >> 16) as u16, data: &data },
                (_, true) if code % 3 == 0 => Repr::EchoReply { ident: word as u16, seq_no: (word >> 16) as u16, data: &data },
                (_, true) => Repr::Other { msg_type: Message(other_type), code, body: &data },
                (0, _) => Repr::DstUnreachable { code, invoking: &data },
                (1, _) => Repr::PacketTooBig { mtu: word, invoking: &data },
                (2, _) => Repr::TimeExceeded { code, invoking: &data },
                _ => Repr::ParamProblem { code, pointer: word, invoking: &data },
            };
            let mut buf = vec![0u8; r.buffer_len()];
            r.emit(&SRC, &DST, &mut buf).unwrap();
            let p = Packet::new_checked(&buf[..]).unwrap();
            prop_assert!(p.verify_checksum(&SRC, &DST));
            prop_assert_eq!(Repr::parse(&p).unwrap(), r);
        }

        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok(p) = Packet::new_lenient(&data[..]) {
                let _ = (p.checksum(), p.mtu(), p.echo_ident(), p.echo_seq_no(), p.payload());
                let _ = p.verify_checksum(&SRC, &DST);
                let _ = Repr::parse(&p);
            }
            if let Ok(p) = Packet::new_checked(&data[..]) {
                let _ = Repr::parse(&p);
            }
        }
    }
}
