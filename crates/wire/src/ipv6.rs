//! The IPv6 fixed header (RFC 8200 §3).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Version| Traffic Class |           Flow Label                  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |         Payload Length        |  Next Header  |   Hop Limit   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                         Source Address (128)                  |
//! |                      Destination Address (128)                |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Two ways in: [`Packet::new_checked`] for the stack (the payload length must fit the
//! buffer) and [`Packet::new_lenient`] for packets quoted in ICMP errors and for the
//! dissector (only the 40 header bytes must be there; the payload is what remains).

use core::net::Ipv6Addr;

use crate::error::{Error, ErrorKind, Result, need};
use crate::proto::IpProtocol;

const PROTO: &str = "ipv6";

mod field {
    use core::ops::Range;
    pub const VER_TC_FLOW: Range<usize> = 0..4;
    pub const PAYLOAD_LEN: Range<usize> = 4..6;
    pub const NEXT_HEADER: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC: Range<usize> = 8..24;
    pub const DST: Range<usize> = 24..40;
}

pub const HEADER_LEN: usize = 40;
/// RFC 8200 §5: every link must carry packets of this size.
pub const MIN_MTU: usize = 1280;

/// A read (and, over a mutable buffer, write) view of an IPv6 header and its payload.
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<'a> Packet<&'a [u8]> {
    /// The payload, borrowed for as long as the underlying bytes (see [`Packet::payload`]).
    pub fn into_payload(self) -> &'a [u8] {
        let end = self.payload_end();
        &self.buffer[HEADER_LEN..end]
    }
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// A view without checks; accessors may panic on a short buffer. For emit paths
    /// whose buffer length the caller sized.
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// The strict view: version 6, and a payload length that fits the buffer. A payload
    /// length of zero is accepted (with a Hop-by-Hop header, the Jumbo Payload option of
    /// RFC 2675 then gives the length; without one, the payload is empty).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_lenient(buffer)?;
        let avail = p.buffer.as_ref().len() - HEADER_LEN;
        if usize::from(p.payload_len()) > avail {
            return Err(Error::new(
                PROTO,
                ErrorKind::BadLength,
                field::PAYLOAD_LEN.start,
                "payload length exceeds the packet",
            ));
        }
        Ok(p)
    }

    /// The lenient view: the 40 header bytes and version 6; the payload may be cut short.
    pub fn new_lenient(buffer: T) -> Result<Self> {
        let b = buffer.as_ref();
        need(PROTO, b, HEADER_LEN)?;
        if b[0] >> 4 != 6 {
            return Err(Error::new(
                PROTO,
                ErrorKind::BadVersion,
                0,
                "version is not 6",
            ));
        }
        Ok(Self { buffer })
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn word0(&self) -> u32 {
        let b = self.buffer.as_ref();
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[0] >> 4
    }

    pub fn traffic_class(&self) -> u8 {
        (self.word0() >> 20) as u8
    }

    /// The DSCP, the upper six bits of the traffic class (RFC 2474).
    pub fn dscp(&self) -> u8 {
        self.traffic_class() >> 2
    }

    /// The ECN codepoint, the lower two bits of the traffic class (RFC 3168).
    pub fn ecn(&self) -> u8 {
        self.traffic_class() & 0x3
    }

    pub fn flow_label(&self) -> u32 {
        self.word0() & 0x000f_ffff
    }

    pub fn payload_len(&self) -> u16 {
        let b = self.buffer.as_ref();
        u16::from_be_bytes([b[field::PAYLOAD_LEN.start], b[field::PAYLOAD_LEN.start + 1]])
    }

    pub fn next_header(&self) -> IpProtocol {
        IpProtocol(self.buffer.as_ref()[field::NEXT_HEADER])
    }

    pub fn hop_limit(&self) -> u8 {
        self.buffer.as_ref()[field::HOP_LIMIT]
    }

    pub fn src_addr(&self) -> Ipv6Addr {
        // Unwrap: the range is 16 bytes long and within the checked header.
        Ipv6Addr::from(<[u8; 16]>::try_from(&self.buffer.as_ref()[field::SRC]).unwrap())
    }

    pub fn dst_addr(&self) -> Ipv6Addr {
        // Unwrap: as above.
        Ipv6Addr::from(<[u8; 16]>::try_from(&self.buffer.as_ref()[field::DST]).unwrap())
    }

    /// Whether this may be a jumbogram: payload length zero and a Hop-by-Hop header, which
    /// must then carry the Jumbo Payload option with the real length (RFC 2675 §3).
    pub fn is_jumbo_candidate(&self) -> bool {
        self.payload_len() == 0 && self.next_header() == IpProtocol::HOPOPTS
    }

    /// Where the payload ends in the buffer: the payload length, cut to the buffer
    /// (lenient views), or the whole buffer for a jumbogram candidate.
    fn payload_end(&self) -> usize {
        let len = self.buffer.as_ref().len();
        if self.is_jumbo_candidate() {
            len
        } else {
            (HEADER_LEN + usize::from(self.payload_len())).min(len)
        }
    }

    /// The payload as the payload length gives it, cut to the buffer (lenient views), or
    /// the whole rest of the buffer for a jumbogram candidate (RFC 2675).
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..self.payload_end()]
    }

    /// Whether the payload length says more than the buffer holds (a truncated quote).
    pub fn is_truncated(&self) -> bool {
        usize::from(self.payload_len()) > self.buffer.as_ref().len() - HEADER_LEN
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn set_word0(&mut self, v: u32) {
        self.buffer.as_mut()[field::VER_TC_FLOW].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets version 6, the traffic class and the flow label at once.
    pub fn set_version_tc_flow(&mut self, traffic_class: u8, flow_label: u32) {
        self.set_word0(6 << 28 | u32::from(traffic_class) << 20 | (flow_label & 0x000f_ffff));
    }

    pub fn set_payload_len(&mut self, len: u16) {
        self.buffer.as_mut()[field::PAYLOAD_LEN].copy_from_slice(&len.to_be_bytes());
    }

    pub fn set_next_header(&mut self, nh: IpProtocol) {
        self.buffer.as_mut()[field::NEXT_HEADER] = nh.0;
    }

    pub fn set_hop_limit(&mut self, hl: u8) {
        self.buffer.as_mut()[field::HOP_LIMIT] = hl;
    }

    pub fn set_src_addr(&mut self, a: Ipv6Addr) {
        self.buffer.as_mut()[field::SRC].copy_from_slice(&a.octets());
    }

    pub fn set_dst_addr(&mut self, a: Ipv6Addr) {
        self.buffer.as_mut()[field::DST].copy_from_slice(&a.octets());
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = self.payload_end();
        &mut self.buffer.as_mut()[HEADER_LEN..end]
    }
}

/// The IPv6 header as values. Keeps traffic class and flow label: a router must.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    pub traffic_class: u8,
    pub flow_label: u32,
    pub payload_len: u16,
    pub next_header: IpProtocol,
    pub hop_limit: u8,
    pub src_addr: Ipv6Addr,
    pub dst_addr: Ipv6Addr,
}

impl Repr {
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Result<Self> {
        Ok(Self {
            traffic_class: p.traffic_class(),
            flow_label: p.flow_label(),
            payload_len: p.payload_len(),
            next_header: p.next_header(),
            hop_limit: p.hop_limit(),
            src_addr: p.src_addr(),
            dst_addr: p.dst_addr(),
        })
    }

    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the 40 header bytes at the start of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        need(PROTO, buf, HEADER_LEN)?;
        let mut p = Packet::new_unchecked(&mut buf[..HEADER_LEN]);
        p.set_version_tc_flow(self.traffic_class, self.flow_label);
        p.set_payload_len(self.payload_len);
        p.set_next_header(self.next_header);
        p.set_hop_limit(self.hop_limit);
        p.set_src_addr(self.src_addr);
        p.set_dst_addr(self.dst_addr);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[rustfmt::skip]
    const ECHO: [u8; 48] = [
        0x60, 0x0a, 0xbc, 0xde,             // version 6, tc 0x00, flow 0xabcde
        0x00, 0x08, 0x3a, 0x40,             // payload 8, next header 58, hop limit 64
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, // 2001:db8::1
        0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,       // fe80::2
        0x80, 0x00, 0x00, 0x00, 0x12, 0x34, 0x00, 0x01, // echo request
    ];

    #[test]
    fn parse_echo() {
        let p = Packet::new_checked(&ECHO[..]).unwrap();
        assert_eq!(p.version(), 6);
        assert_eq!(p.traffic_class(), 0);
        assert_eq!(p.flow_label(), 0xabcde);
        assert_eq!(p.payload_len(), 8);
        assert_eq!(p.next_header(), IpProtocol::ICMPV6);
        assert_eq!(p.hop_limit(), 64);
        assert_eq!(p.src_addr(), "2001:db8::1".parse::<Ipv6Addr>().unwrap());
        assert_eq!(p.dst_addr(), "fe80::2".parse::<Ipv6Addr>().unwrap());
        assert_eq!(p.payload().len(), 8);
    }

    #[test]
    fn malformed() {
        assert!(matches!(
            Packet::new_checked(&ECHO[..39]).unwrap_err().kind,
            ErrorKind::Truncated {
                needed: 40,
                available: 39
            }
        ));
        let mut bad = ECHO;
        bad[0] = 0x40;
        assert_eq!(
            Packet::new_checked(&bad[..]).unwrap_err().kind,
            ErrorKind::BadVersion
        );
        let short = &ECHO[..44];
        assert_eq!(
            Packet::new_checked(short).unwrap_err().kind,
            ErrorKind::BadLength
        );
        let lenient = Packet::new_lenient(short).unwrap();
        assert!(lenient.is_truncated());
        assert_eq!(lenient.payload().len(), 4);
    }

    proptest! {
        #[test]
        fn emit_parse_identity(tc: u8, flow in 0u32..0x10_0000, plen: u16, nh: u8, hl: u8,
                               src: [u8; 16], dst: [u8; 16]) {
            let repr = Repr {
                traffic_class: tc, flow_label: flow, payload_len: plen,
                next_header: IpProtocol(nh), hop_limit: hl,
                src_addr: src.into(), dst_addr: dst.into(),
            };
            let mut buf = [0u8; HEADER_LEN];
            repr.emit(&mut buf).unwrap();
            let p = Packet::new_lenient(&buf[..]).unwrap();
            prop_assert_eq!(Repr::parse(&p).unwrap(), repr);
        }

        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..100)) {
            if let Ok(p) = Packet::new_lenient(&data[..]) {
                let _ = Repr::parse(&p);
                let _ = p.payload();
            }
            let _ = Packet::new_checked(&data[..]);
        }
    }
}
