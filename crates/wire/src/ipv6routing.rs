//! The Routing header (RFC 8200 §4.4) and its types 0 (RFC 5095, deprecated: parsed so
//! that the stack can refuse it), 2 (Mobile IPv6, RFC 6275 §6.4) and 4 (the Segment
//! Routing Header, RFC 8754).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Next Header  |  Hdr Ext Len  |  Routing Type | Segments Left |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                       type-specific data                      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!
//! Types 0 and 2: Reserved (32 bits), then 16-byte addresses (one for type 2).
//! Type 4 (SRH):
//! |  Last Entry   |     Flags     |              Tag              |
//! |            Segment List[0] ... Segment List[Last Entry]       |
//! |                        Optional TLVs                          |
//! ```
//!
//! The header is `(Hdr Ext Len + 1) * 8` bytes long.

use core::net::Ipv6Addr;

use crate::error::{Error, ErrorKind, Result, need};
use crate::proto::IpProtocol;

const PROTO: &str = "ipv6.routing";

mod field {
    pub const NEXT_HEADER: usize = 0;
    pub const HDR_EXT_LEN: usize = 1;
    pub const ROUTING_TYPE: usize = 2;
    pub const SEGMENTS_LEFT: usize = 3;
    pub const DATA: usize = 4;
    /// Types 0 and 2: the reserved word, then the addresses.
    pub const RESERVED: core::ops::Range<usize> = 4..8;
    pub const ADDRESSES: usize = 8;
    /// Type 4.
    pub const LAST_ENTRY: usize = 4;
    pub const FLAGS: usize = 5;
    pub const TAG: core::ops::Range<usize> = 6..8;
    pub const SEGMENTS: usize = 8;
}

pub const MIN_HEADER_LEN: usize = 8;

/// Routing Type values (IANA "IPv6 Routing Types").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct RoutingType(pub u8);

impl RoutingType {
    /// RFC 5095 deprecates it: a node must treat it as unrecognised.
    pub const TYPE0: Self = Self(0);
    pub const TYPE2: Self = Self(2);
    pub const RPL: Self = Self(3);
    pub const SEGMENT_ROUTING: Self = Self(4);
}

/// A list of 16-byte IPv6 addresses, borrowed from a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddressList<'a>(&'a [u8]);

impl<'a> AddressList<'a> {
    pub fn len(&self) -> usize {
        self.0.len() / 16
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, i: usize) -> Option<Ipv6Addr> {
        let b: [u8; 16] = self.0.get(i * 16..i * 16 + 16)?.try_into().ok()?;
        Some(Ipv6Addr::from(b))
    }

    pub fn last(&self) -> Option<Ipv6Addr> {
        self.len().checked_sub(1).and_then(|i| self.get(i))
    }

    pub fn iter(&self) -> impl Iterator<Item = Ipv6Addr> + 'a {
        self.0.chunks_exact(16).map(|c| {
            let mut b = [0u8; 16];
            b.copy_from_slice(c);
            Ipv6Addr::from(b)
        })
    }
}

/// The type-specific part of a routing header, parsed by its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Routing<'a> {
    /// RFC 5095: parsed only so that rules can name it.
    Type0 {
        reserved: u32,
        addresses: AddressList<'a>,
    },
    /// RFC 6275 §6.4.
    Type2 {
        reserved: u32,
        home_address: Ipv6Addr,
    },
    /// RFC 8754 §2: the segment list in reverse order (Segment List[0] is the last
    /// segment), and TLVs kept raw.
    SegmentRouting {
        last_entry: u8,
        flags: u8,
        tag: u16,
        segments: AddressList<'a>,
        tlvs: &'a [u8],
    },
    /// Any other type: the data after the first four bytes.
    Other {
        routing_type: RoutingType,
        data: &'a [u8],
    },
}

/// A view of a routing header and what follows it.
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<'a> Packet<&'a [u8]> {
    /// The type-specific data, parsed; see [`Packet::routing`].
    pub fn into_routing(self) -> Result<Routing<'a>> {
        let b = self.buffer;
        let end = self.header_len().min(b.len());
        let header = &b[..end];
        let truncated = || Error::truncated(PROTO, self.header_len(), b.len());
        match self.routing_type() {
            RoutingType::TYPE0 => {
                let reserved = header.get(field::RESERVED).ok_or_else(truncated)?;
                // RFC 5095 §A: Hdr Ext Len is twice the number of addresses.
                if !self.hdr_ext_len().is_multiple_of(2) {
                    return Err(Error::new(
                        PROTO,
                        ErrorKind::BadLength,
                        field::HDR_EXT_LEN,
                        "type 0 length is not a whole number of addresses",
                    ));
                }
                Ok(Routing::Type0 {
                    reserved: be32(reserved),
                    addresses: AddressList(&header[field::ADDRESSES.min(end)..]),
                })
            }
            RoutingType::TYPE2 => {
                // RFC 6275 §6.4: Hdr Ext Len is 2.
                if self.hdr_ext_len() != 2 {
                    return Err(Error::new(
                        PROTO,
                        ErrorKind::BadLength,
                        field::HDR_EXT_LEN,
                        "type 2 length is not 2",
                    ));
                }
                let reserved = header.get(field::RESERVED).ok_or_else(truncated)?;
                let hoa: [u8; 16] = header
                    .get(field::ADDRESSES..field::ADDRESSES + 16)
                    .ok_or_else(truncated)?
                    .try_into()
                    .map_err(|_| truncated())?;
                Ok(Routing::Type2 {
                    reserved: be32(reserved),
                    home_address: Ipv6Addr::from(hoa),
                })
            }
            RoutingType::SEGMENT_ROUTING => {
                let tag = header.get(field::TAG).ok_or_else(truncated)?;
                let last_entry = header[field::LAST_ENTRY];
                let seg_end = field::SEGMENTS + (usize::from(last_entry) + 1) * 16;
                // RFC 8754 §2: the segment list must fit the header.
                if seg_end > self.header_len() {
                    return Err(Error::new(
                        PROTO,
                        ErrorKind::BadLength,
                        field::LAST_ENTRY,
                        "segment list runs past the header",
                    ));
                }
                Ok(Routing::SegmentRouting {
                    last_entry,
                    flags: header[field::FLAGS],
                    tag: u16::from_be_bytes([tag[0], tag[1]]),
                    segments: AddressList(&header[field::SEGMENTS..seg_end.min(end)]),
                    tlvs: header.get(seg_end..).unwrap_or(&[]),
                })
            }
            t => Ok(Routing::Other {
                routing_type: t,
                data: header.get(field::DATA..).unwrap_or(&[]),
            }),
        }
    }

    /// What follows the header (empty if the header itself is cut short).
    pub fn into_payload(self) -> &'a [u8] {
        self.buffer.get(self.header_len()..).unwrap_or(&[])
    }
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// The strict view: the whole header is in the buffer.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_lenient(buffer)?;
        need(PROTO, p.buffer.as_ref(), p.header_len())?;
        Ok(p)
    }

    /// The lenient view: the first four bytes; the rest may be cut short.
    pub fn new_lenient(buffer: T) -> Result<Self> {
        need(PROTO, buffer.as_ref(), field::DATA)?;
        Ok(Self { buffer })
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn next_header(&self) -> IpProtocol {
        IpProtocol(self.buffer.as_ref()[field::NEXT_HEADER])
    }

    pub fn hdr_ext_len(&self) -> u8 {
        self.buffer.as_ref()[field::HDR_EXT_LEN]
    }

    pub fn header_len(&self) -> usize {
        (usize::from(self.hdr_ext_len()) + 1) * 8
    }

    pub fn routing_type(&self) -> RoutingType {
        RoutingType(self.buffer.as_ref()[field::ROUTING_TYPE])
    }

    pub fn segments_left(&self) -> u8 {
        self.buffer.as_ref()[field::SEGMENTS_LEFT]
    }

    /// The type-specific data, cut to the buffer.
    pub fn data(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        &b[field::DATA..self.header_len().min(b.len())]
    }

    pub fn is_truncated(&self) -> bool {
        self.header_len() > self.buffer.as_ref().len()
    }

    /// The type-specific data, parsed.
    pub fn routing(&self) -> Result<Routing<'_>> {
        Packet::new_unchecked(self.buffer.as_ref()).into_routing()
    }

    /// The destination the packet will finally reach, for upper-layer pseudo-header
    /// checksums (RFC 8200 §8.1): `None` when no segments are left or the type is
    /// unknown, since then the IPv6 destination is final.
    pub fn final_destination(&self) -> Option<Ipv6Addr> {
        if self.segments_left() == 0 {
            return None;
        }
        self.routing().ok()?.final_destination()
    }

    /// What follows the header (empty if the header itself is cut short).
    pub fn payload(&self) -> &[u8] {
        self.buffer.as_ref().get(self.header_len()..).unwrap_or(&[])
    }
}

impl Routing<'_> {
    pub fn routing_type(&self) -> RoutingType {
        match self {
            Routing::Type0 { .. } => RoutingType::TYPE0,
            Routing::Type2 { .. } => RoutingType::TYPE2,
            Routing::SegmentRouting { .. } => RoutingType::SEGMENT_ROUTING,
            Routing::Other { routing_type, .. } => *routing_type,
        }
    }

    /// The last address of the route, whatever the segments left.
    pub fn final_destination(&self) -> Option<Ipv6Addr> {
        match self {
            Routing::Type0 { addresses, .. } => addresses.last(),
            Routing::Type2 { home_address, .. } => Some(*home_address),
            // RFC 8754 §2: Segment List[0] is the last segment of the path.
            Routing::SegmentRouting { segments, .. } => segments.get(0),
            Routing::Other { .. } => None,
        }
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_next_header(&mut self, nh: IpProtocol) {
        self.buffer.as_mut()[field::NEXT_HEADER] = nh.0;
    }

    pub fn set_hdr_ext_len(&mut self, len: u8) {
        self.buffer.as_mut()[field::HDR_EXT_LEN] = len;
    }

    pub fn set_routing_type(&mut self, t: RoutingType) {
        self.buffer.as_mut()[field::ROUTING_TYPE] = t.0;
    }

    pub fn set_segments_left(&mut self, v: u8) {
        self.buffer.as_mut()[field::SEGMENTS_LEFT] = v;
    }

    pub fn data_mut(&mut self) -> &mut [u8] {
        let end = self.header_len().min(self.buffer.as_ref().len());
        &mut self.buffer.as_mut()[field::DATA..end]
    }
}

/// The type-specific part as owned values (raw parts borrowed).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RoutingRepr<'a> {
    Type0 {
        reserved: u32,
        addresses: Vec<Ipv6Addr>,
    },
    Type2 {
        reserved: u32,
        home_address: Ipv6Addr,
    },
    /// Last Entry is `segments.len() - 1`; TLVs fill the header to a multiple of 8.
    SegmentRouting {
        flags: u8,
        tag: u16,
        segments: Vec<Ipv6Addr>,
        tlvs: &'a [u8],
    },
    Other {
        routing_type: RoutingType,
        data: &'a [u8],
    },
}

/// A routing header as values.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Repr<'a> {
    pub next_header: IpProtocol,
    pub segments_left: u8,
    pub routing: RoutingRepr<'a>,
}

impl<'a> Repr<'a> {
    /// Parses a whole header; a header cut short is refused.
    pub fn parse(p: &Packet<&'a [u8]>) -> Result<Self> {
        need(PROTO, p.buffer, p.header_len())?;
        let routing = match p.into_routing()? {
            Routing::Type0 {
                reserved,
                addresses,
            } => RoutingRepr::Type0 {
                reserved,
                addresses: addresses.iter().collect(),
            },
            Routing::Type2 {
                reserved,
                home_address,
            } => RoutingRepr::Type2 {
                reserved,
                home_address,
            },
            Routing::SegmentRouting {
                flags,
                tag,
                segments,
                tlvs,
                ..
            } => RoutingRepr::SegmentRouting {
                flags,
                tag,
                segments: segments.iter().collect(),
                tlvs,
            },
            Routing::Other { routing_type, data } => RoutingRepr::Other { routing_type, data },
        };
        Ok(Self {
            next_header: p.next_header(),
            segments_left: p.segments_left(),
            routing,
        })
    }

    /// The bytes the header takes; [`Repr::emit`] requires a multiple of 8.
    pub fn buffer_len(&self) -> usize {
        match &self.routing {
            RoutingRepr::Type0 { addresses, .. } => field::ADDRESSES + 16 * addresses.len(),
            RoutingRepr::Type2 { .. } => field::ADDRESSES + 16,
            RoutingRepr::SegmentRouting { segments, tlvs, .. } => {
                field::SEGMENTS + 16 * segments.len() + tlvs.len()
            }
            RoutingRepr::Other { data, .. } => field::DATA + data.len(),
        }
    }

    pub fn routing_type(&self) -> RoutingType {
        match &self.routing {
            RoutingRepr::Type0 { .. } => RoutingType::TYPE0,
            RoutingRepr::Type2 { .. } => RoutingType::TYPE2,
            RoutingRepr::SegmentRouting { .. } => RoutingType::SEGMENT_ROUTING,
            RoutingRepr::Other { routing_type, .. } => *routing_type,
        }
    }

    /// Writes the header at the start of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        let len = self.buffer_len();
        if !len.is_multiple_of(8) || len > 256 * 8 {
            return Err(Error::new(
                PROTO,
                ErrorKind::BadLength,
                field::HDR_EXT_LEN,
                "header is not a multiple of 8 bytes up to 2048",
            ));
        }
        let bad_type = |reason| Err(Error::new(PROTO, ErrorKind::BadValue, field::DATA, reason));
        match &self.routing {
            RoutingRepr::Other { routing_type, .. }
                if matches!(
                    *routing_type,
                    RoutingType::TYPE0 | RoutingType::TYPE2 | RoutingType::SEGMENT_ROUTING
                ) =>
            {
                return bad_type("raw data for a type that has its own form");
            }
            RoutingRepr::SegmentRouting { segments, .. } if segments.is_empty() => {
                return bad_type("segment routing header without segments");
            }
            _ => {}
        }
        need(PROTO, buf, len)?;
        let buf = &mut buf[..len];
        let mut p = Packet::new_unchecked(&mut *buf);
        p.set_next_header(self.next_header);
        // len is 8..=2048 and a multiple of 8.
        p.set_hdr_ext_len((len / 8 - 1) as u8);
        p.set_routing_type(self.routing_type());
        p.set_segments_left(self.segments_left);
        let put_addrs = |buf: &mut [u8], addrs: &[Ipv6Addr]| {
            for (c, a) in buf.chunks_exact_mut(16).zip(addrs) {
                c.copy_from_slice(&a.octets());
            }
        };
        match &self.routing {
            RoutingRepr::Type0 {
                reserved,
                addresses,
            } => {
                buf[field::RESERVED].copy_from_slice(&reserved.to_be_bytes());
                put_addrs(&mut buf[field::ADDRESSES..], addresses);
            }
            RoutingRepr::Type2 {
                reserved,
                home_address,
            } => {
                buf[field::RESERVED].copy_from_slice(&reserved.to_be_bytes());
                buf[field::ADDRESSES..].copy_from_slice(&home_address.octets());
            }
            RoutingRepr::SegmentRouting {
                flags,
                tag,
                segments,
                tlvs,
            } => {
                // Segments is non-empty (checked above) and at most 2040 / 16 long.
                buf[field::LAST_ENTRY] = (segments.len() - 1) as u8;
                buf[field::FLAGS] = *flags;
                buf[field::TAG].copy_from_slice(&tag.to_be_bytes());
                let seg_end = field::SEGMENTS + 16 * segments.len();
                put_addrs(&mut buf[field::SEGMENTS..seg_end], segments);
                buf[seg_end..].copy_from_slice(tlvs);
            }
            RoutingRepr::Other { data, .. } => buf[field::DATA..].copy_from_slice(data),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn a(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    #[rustfmt::skip]
    const TYPE0: [u8; 40] = [
        0x3a, 0x04, 0x00, 0x02, // next header 58, hdr ext len 4, type 0, segments left 2
        0x00, 0x00, 0x00, 0x00, // reserved
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a, // 2001:db8::a
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b, // 2001:db8::b
    ];

    #[rustfmt::skip]
    const TYPE2: [u8; 24] = [
        0x3a, 0x02, 0x02, 0x01, // next header 58, hdr ext len 2, type 2, segments left 1
        0x00, 0x00, 0x00, 0x00, // reserved
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x77, // home address
    ];

    #[rustfmt::skip]
    const SRH: [u8; 48] = [
        0x3a, 0x05, 0x04, 0x01, // next header 58, hdr ext len 5, type 4, segments left 1
        0x01, 0x80, 0x12, 0x34, // last entry 1, flags 0x80, tag 0x1234
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0c, // segment list[0]
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0d, // segment list[1]
        0x04, 0x06, 0, 0, 0, 0, 0, 0, // TLV: PadN (type 4), 6 bytes
    ];

    #[test]
    fn parse_type0() {
        let p = Packet::new_checked(&TYPE0[..]).unwrap();
        assert_eq!(
            (p.next_header(), p.header_len(), p.segments_left()),
            (IpProtocol::ICMPV6, 40, 2)
        );
        let Routing::Type0 {
            reserved: 0,
            addresses,
        } = p.routing().unwrap()
        else {
            panic!()
        };
        assert_eq!(
            addresses.iter().collect::<Vec<_>>(),
            [a("2001:db8::a"), a("2001:db8::b")]
        );
        assert_eq!(p.final_destination(), Some(a("2001:db8::b")));
        let repr = Repr::parse(&p).unwrap();
        let mut buf = [0u8; 40];
        repr.emit(&mut buf).unwrap();
        assert_eq!(buf, TYPE0);
    }

    #[test]
    fn parse_type2() {
        let p = Packet::new_checked(&TYPE2[..]).unwrap();
        assert_eq!(
            p.routing().unwrap(),
            Routing::Type2 {
                reserved: 0,
                home_address: a("2001:db8::77")
            }
        );
        assert_eq!(p.final_destination(), Some(a("2001:db8::77")));
        let mut bad = TYPE2;
        bad[1] = 4;
        let e = Packet::new_lenient(&bad[..])
            .unwrap()
            .routing()
            .unwrap_err();
        assert_eq!((e.kind, e.offset), (ErrorKind::BadLength, 1));
    }

    #[test]
    fn parse_srh() {
        let p = Packet::new_checked(&SRH[..]).unwrap();
        let Routing::SegmentRouting {
            last_entry,
            flags,
            tag,
            segments,
            tlvs,
        } = p.routing().unwrap()
        else {
            panic!()
        };
        assert_eq!(
            (last_entry, flags, tag, segments.len()),
            (1, 0x80, 0x1234, 2)
        );
        assert_eq!(tlvs, &SRH[40..]);
        assert_eq!(p.final_destination(), Some(a("2001:db8::c")));
        let repr = Repr::parse(&p).unwrap();
        let mut buf = [0u8; 48];
        repr.emit(&mut buf).unwrap();
        assert_eq!(buf, SRH);
        // No segments left: the IPv6 destination is final.
        let mut done = SRH;
        done[3] = 0;
        assert_eq!(
            Packet::new_checked(&done[..]).unwrap().final_destination(),
            None
        );
        // Last entry beyond the header.
        let mut bad = SRH;
        bad[4] = 2;
        let e = Packet::new_checked(&bad[..])
            .unwrap()
            .routing()
            .unwrap_err();
        assert_eq!((e.kind, e.offset), (ErrorKind::BadLength, 4));
    }

    #[test]
    fn truncated() {
        assert!(Packet::new_checked(&TYPE0[..30]).is_err());
        let p = Packet::new_lenient(&TYPE0[..30]).unwrap();
        assert!(p.is_truncated());
        let Routing::Type0 { addresses, .. } = p.routing().unwrap() else {
            panic!()
        };
        assert_eq!(addresses.len(), 1);
        assert!(Repr::parse(&p).is_err());
        assert!(p.into_payload().is_empty());
    }

    fn repr_strategy() -> impl Strategy<Value = (u8, u8, u8, u32, Vec<[u8; 16]>, Vec<u8>)> {
        (
            0u8..4,
            any::<u8>(),
            any::<u8>(),
            any::<u32>(),
            proptest::collection::vec(any::<[u8; 16]>(), 1..6),
            proptest::collection::vec(any::<u8>(), 0..24),
        )
    }

    proptest! {
        #[test]
        fn emit_parse_identity(
            (kind, nh, segleft, word, addrs, extra) in repr_strategy()
        ) {
            let addrs: Vec<Ipv6Addr> = addrs.into_iter().map(Ipv6Addr::from).collect();
            // Round the raw parts to whole 8-byte units.
            let tlvs = vec![0u8; extra.len() / 8 * 8];
            let data = [&word.to_be_bytes()[..], &extra[..]].concat();
            let data = &data[..4 + (data.len() - 4) / 8 * 8];
            let routing = match kind {
                0 => RoutingRepr::Type0 {
                    reserved: word,
                    addresses: addrs.clone(),
                },
                1 => RoutingRepr::Type2 { reserved: word, home_address: addrs[0] },
                2 => RoutingRepr::SegmentRouting {
                    flags: nh, tag: word as u16, segments: addrs, tlvs: &tlvs,
                },
                _ => RoutingRepr::Other { routing_type: RoutingType(5 + segleft % 200), data },
            };
            let repr = Repr { next_header: IpProtocol(nh), segments_left: segleft, routing };
            let mut buf = vec![0u8; repr.buffer_len()];
            repr.emit(&mut buf).unwrap();
            let p = Packet::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(p.header_len(), buf.len());
            prop_assert_eq!(Repr::parse(&p).unwrap(), repr);
        }

        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok(p) = Packet::new_lenient(&data[..]) {
                let _ = (p.next_header(), p.routing_type(), p.segments_left(), p.data());
                let _ = (p.final_destination(), p.payload(), p.is_truncated());
                if let Ok(
                    Routing::Type0 { addresses, .. }
                    | Routing::SegmentRouting { segments: addresses, .. },
                ) = p.routing()
                {
                    let _ = (addresses.iter().count(), addresses.last(), addresses.get(300));
                }
                let _ = Repr::parse(&p);
            }
            let _ = Packet::new_checked(&data[..]);
        }
    }
}
