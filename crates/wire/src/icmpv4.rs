//! ICMP for IPv4 (RFC 792): echo, and the errors a tunnel or translator meets —
//! destination unreachable (with the next-hop MTU of RFC 1191 §4), time exceeded and
//! parameter problem.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     Type      |     Code      |          Checksum             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   Identifier / unused / Pointer    |  Sequence / Next-hop MTU |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Echo data, or the IP header + first 64 bits of the datagram  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! The checksum covers the whole ICMP message, with no pseudo-header.

use crate::checksum::{Checksum, internet_checksum};
use crate::error::{Error, ErrorKind, Result, need};

const PROTO: &str = "icmp";

mod field {
    use core::ops::Range;
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: Range<usize> = 2..4;
    pub const REST: Range<usize> = 4..8;
}

pub const HEADER_LEN: usize = 8;

/// Message types (RFC 792; IANA "ICMP Type Numbers").
pub mod msg_type {
    pub const ECHO_REPLY: u8 = 0;
    pub const DST_UNREACHABLE: u8 = 3;
    pub const REDIRECT: u8 = 5;
    pub const ECHO_REQUEST: u8 = 8;
    pub const TIME_EXCEEDED: u8 = 11;
    pub const PARAM_PROBLEM: u8 = 12;
}

/// Destination unreachable codes (RFC 792, RFC 1122 §3.2.2.1, RFC 1812 §5.2.7.1).
pub mod unreach {
    pub const NET: u8 = 0;
    pub const HOST: u8 = 1;
    pub const PROTOCOL: u8 = 2;
    pub const PORT: u8 = 3;
    /// Fragmentation needed and DF set; the next-hop MTU is in the low 16 bits (RFC 1191).
    pub const FRAG_NEEDED: u8 = 4;
    pub const SOURCE_ROUTE_FAILED: u8 = 5;
    pub const ADMIN_PROHIBITED: u8 = 13;
}

/// Whether a message type is an error that quotes the datagram that caused it.
pub const fn is_error(t: u8) -> bool {
    matches!(t, 3 | 4 | 5 | 11 | 12)
}

/// A view of an ICMP message.
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<'a> Packet<&'a [u8]> {
    /// The bytes after the 8-byte header: echo data or the quoted datagram.
    pub fn into_data(self) -> &'a [u8] {
        &self.buffer[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// The 8 header bytes must be there; the message is the whole buffer.
    pub fn new_checked(buffer: T) -> Result<Self> {
        need(PROTO, buffer.as_ref(), HEADER_LEN)?;
        Ok(Self { buffer })
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn be16(&self, at: usize) -> u16 {
        let b = self.buffer.as_ref();
        u16::from_be_bytes([b[at], b[at + 1]])
    }

    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[field::TYPE]
    }

    pub fn code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }

    pub fn checksum(&self) -> u16 {
        self.be16(field::CHECKSUM.start)
    }

    /// The second 32-bit word, whose meaning the type gives.
    pub fn rest_of_header(&self) -> u32 {
        let b = &self.buffer.as_ref()[field::REST];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    /// Echo identifier.
    pub fn ident(&self) -> u16 {
        self.be16(field::REST.start)
    }

    /// Echo sequence number.
    pub fn seq_no(&self) -> u16 {
        self.be16(field::REST.start + 2)
    }

    /// The next-hop MTU of a fragmentation-needed message (RFC 1191 §4); 0 from routers
    /// that predate it.
    pub fn next_hop_mtu(&self) -> u16 {
        self.be16(field::REST.start + 2)
    }

    /// The octet a parameter problem points at, counted in the quoted header.
    pub fn pointer(&self) -> u8 {
        self.buffer.as_ref()[field::REST.start]
    }

    pub fn data(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }

    /// Whether the checksum over the whole message verifies.
    pub fn verify_checksum(&self) -> bool {
        Checksum::new().add_bytes(self.buffer.as_ref()).verifies()
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_msg_type(&mut self, v: u8) {
        self.buffer.as_mut()[field::TYPE] = v;
    }

    pub fn set_code(&mut self, v: u8) {
        self.buffer.as_mut()[field::CODE] = v;
    }

    pub fn set_checksum(&mut self, v: u16) {
        self.buffer.as_mut()[field::CHECKSUM].copy_from_slice(&v.to_be_bytes());
    }

    pub fn set_rest_of_header(&mut self, v: u32) {
        self.buffer.as_mut()[field::REST].copy_from_slice(&v.to_be_bytes());
    }

    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[HEADER_LEN..]
    }

    /// Computes and writes the checksum over the whole buffer.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = internet_checksum(self.buffer.as_ref());
        self.set_checksum(c);
    }
}

/// An ICMP message as values. Every variant keeps all of the second word (unused bits
/// included, where RFC 4884 puts a length), so nothing is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Repr<'a> {
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
    /// `unused` is the first half of the second word; `next_hop_mtu` the second (RFC 1191,
    /// meaningful for code 4).
    DstUnreachable {
        code: u8,
        unused: u16,
        next_hop_mtu: u16,
        data: &'a [u8],
    },
    TimeExceeded {
        code: u8,
        unused: u32,
        data: &'a [u8],
    },
    /// `unused` is the low 24 bits of the second word.
    ParamProblem {
        code: u8,
        pointer: u8,
        unused: u32,
        data: &'a [u8],
    },
    Other {
        msg_type: u8,
        code: u8,
        rest: u32,
        data: &'a [u8],
    },
}

impl<'a> Repr<'a> {
    /// Parses a message whose checksum verifies (RFC 1122 §3.2.2: an ICMP message with a
    /// bad checksum is discarded).
    pub fn parse(p: &Packet<&'a [u8]>) -> Result<Self> {
        if !p.verify_checksum() {
            return Err(Error::new(
                PROTO,
                ErrorKind::BadChecksum,
                field::CHECKSUM.start,
                "checksum does not verify",
            ));
        }
        let data = p.into_data();
        let rest = p.rest_of_header();
        Ok(match p.msg_type() {
            msg_type::ECHO_REQUEST if p.code() == 0 => Repr::EchoRequest {
                ident: p.ident(),
                seq_no: p.seq_no(),
                data,
            },
            msg_type::ECHO_REPLY if p.code() == 0 => Repr::EchoReply {
                ident: p.ident(),
                seq_no: p.seq_no(),
                data,
            },
            msg_type::DST_UNREACHABLE => Repr::DstUnreachable {
                code: p.code(),
                unused: (rest >> 16) as u16,
                next_hop_mtu: p.next_hop_mtu(),
                data,
            },
            msg_type::TIME_EXCEEDED => Repr::TimeExceeded {
                code: p.code(),
                unused: rest,
                data,
            },
            msg_type::PARAM_PROBLEM => Repr::ParamProblem {
                code: p.code(),
                pointer: p.pointer(),
                unused: rest & 0x00ff_ffff,
                data,
            },
            t => Repr::Other {
                msg_type: t,
                code: p.code(),
                rest,
                data,
            },
        })
    }

    fn parts(&self) -> (u8, u8, u32, &'a [u8]) {
        match *self {
            Repr::EchoRequest {
                ident,
                seq_no,
                data,
            } => (
                msg_type::ECHO_REQUEST,
                0,
                u32::from(ident) << 16 | u32::from(seq_no),
                data,
            ),
            Repr::EchoReply {
                ident,
                seq_no,
                data,
            } => (
                msg_type::ECHO_REPLY,
                0,
                u32::from(ident) << 16 | u32::from(seq_no),
                data,
            ),
            Repr::DstUnreachable {
                code,
                unused,
                next_hop_mtu,
                data,
            } => (
                msg_type::DST_UNREACHABLE,
                code,
                u32::from(unused) << 16 | u32::from(next_hop_mtu),
                data,
            ),
            Repr::TimeExceeded { code, unused, data } => {
                (msg_type::TIME_EXCEEDED, code, unused, data)
            }
            Repr::ParamProblem {
                code,
                pointer,
                unused,
                data,
            } => (
                msg_type::PARAM_PROBLEM,
                code,
                u32::from(pointer) << 24 | (unused & 0x00ff_ffff),
                data,
            ),
            Repr::Other {
                msg_type,
                code,
                rest,
                data,
            } => (msg_type, code, rest, data),
        }
    }

    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.parts().3.len()
    }

    /// Writes the message, checksum included, at the start of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        let (t, code, rest, data) = self.parts();
        let len = self.buffer_len();
        need(PROTO, buf, len)?;
        let mut p = Packet::new_unchecked(&mut buf[..len]);
        p.set_msg_type(t);
        p.set_code(code);
        p.set_rest_of_header(rest);
        p.data_mut().copy_from_slice(data);
        p.fill_checksum();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[rustfmt::skip]
    const FRAG_NEEDED: [u8; 36] = [
        0x03, 0x04, 0x00, 0x00,             // dst unreachable, frag needed, checksum (filled)
        0x00, 0x00, 0x05, 0x78,             // unused, next-hop MTU 1400
        0x45, 0x00, 0x05, 0xdc, 0x00, 0x01, 0x40, 0x00, // quoted IPv4 header
        0x40, 0x11, 0x00, 0x00, 192, 0, 2, 9, 192, 0, 2, 1,
        0x00, 0x05, 0x00, 0x06, 0x05, 0xc8, 0x00, 0x00, // first 8 bytes: UDP header
    ];

    #[test]
    fn parse_frag_needed() {
        let mut b = FRAG_NEEDED;
        Packet::new_unchecked(&mut b[..]).fill_checksum();
        let p = Packet::new_checked(&b[..]).unwrap();
        assert!(p.verify_checksum());
        assert_eq!((p.msg_type(), p.code(), p.next_hop_mtu()), (3, 4, 1400));
        assert!(is_error(p.msg_type()));
        let quoted = crate::ipv4::Packet::new_lenient(p.into_data()).unwrap();
        assert!(quoted.is_truncated());
        assert_eq!(quoted.payload().len(), 8);
        match Repr::parse(&p).unwrap() {
            Repr::DstUnreachable {
                code: 4,
                unused: 0,
                next_hop_mtu: 1400,
                data,
            } => {
                assert_eq!(data.len(), 28)
            }
            other => panic!("{other:?}"),
        }
        b[3] ^= 0xff;
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(Repr::parse(&p).unwrap_err().kind, ErrorKind::BadChecksum);
        assert!(Packet::new_checked(&b[..7]).is_err());
    }

    #[test]
    fn echo_checksum() {
        // scapy's ICMP() echo request: checksum 0xf7ff.
        let mut b = [0x08, 0x00, 0, 0, 0, 0, 0, 0];
        Packet::new_unchecked(&mut b[..]).fill_checksum();
        assert_eq!(Packet::new_checked(&b[..]).unwrap().checksum(), 0xf7ff);
    }

    proptest! {
        #[test]
        fn emit_parse_identity(data in proptest::collection::vec(any::<u8>(), 0..64),
                               kind in 0u8..6, t: u8, code: u8, a: u16, b: u16) {
            let w = u32::from(a) << 16 | u32::from(b);
            let repr = match kind {
                0 => Repr::EchoRequest { ident: a, seq_no: b, data: &data },
                1 => Repr::EchoReply { ident: a, seq_no: b, data: &data },
                2 => Repr::DstUnreachable { code, unused: a, next_hop_mtu: b, data: &data },
                3 => Repr::TimeExceeded { code, unused: w, data: &data },
                4 => Repr::ParamProblem { code, pointer: t, unused: w & 0x00ff_ffff, data: &data },
                // A type with its own variant would parse as that variant.
                _ => {
                    let msg_type = if matches!(t, 0 | 3 | 8 | 11 | 12) { 13 } else { t };
                    Repr::Other { msg_type, code, rest: w, data: &data }
                }
            };
            let mut buf = vec![0u8; repr.buffer_len()];
            repr.emit(&mut buf).unwrap();
            let p = Packet::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(Repr::parse(&p).unwrap(), repr);
        }

        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(p) = Packet::new_checked(&data[..]) {
                let _ = Repr::parse(&p);
                let _ = (p.ident(), p.seq_no(), p.pointer(), p.next_hop_mtu(), p.data());
            }
        }
    }
}
