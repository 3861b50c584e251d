//! The Fragment header (RFC 8200 §4.5).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Next Header  |   Reserved    |      Fragment Offset    |Res|M|
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                         Identification                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! The header is always 8 bytes. The fragment offset counts 8-octet units.

use crate::error::{Result, need};
use crate::proto::IpProtocol;

const PROTO: &str = "ipv6.fraghdr";

mod field {
    use core::ops::Range;
    pub const NEXT_HEADER: usize = 0;
    pub const RESERVED: usize = 1;
    pub const OFFSET_FLAGS: Range<usize> = 2..4;
    pub const IDENT: Range<usize> = 4..8;
}

pub const HEADER_LEN: usize = 8;

/// A view of a fragment header and the fragment that follows it.
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<'a> Packet<&'a [u8]> {
    /// The fragment's data: what follows the header.
    pub fn into_payload(self) -> &'a [u8] {
        &self.buffer[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// The header has a fixed length, so strict and lenient views are the same.
    pub fn new_checked(buffer: T) -> Result<Self> {
        need(PROTO, buffer.as_ref(), HEADER_LEN)?;
        Ok(Self { buffer })
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn offset_flags(&self) -> u16 {
        let b = &self.buffer.as_ref()[field::OFFSET_FLAGS];
        u16::from_be_bytes([b[0], b[1]])
    }

    pub fn next_header(&self) -> IpProtocol {
        IpProtocol(self.buffer.as_ref()[field::NEXT_HEADER])
    }

    /// The reserved octet (zero on send, ignored on receipt).
    pub fn reserved(&self) -> u8 {
        self.buffer.as_ref()[field::RESERVED]
    }

    /// The fragment offset in 8-octet units.
    pub fn frag_offset(&self) -> u16 {
        self.offset_flags() >> 3
    }

    /// The fragment offset in bytes.
    pub fn frag_offset_bytes(&self) -> usize {
        usize::from(self.frag_offset()) * 8
    }

    /// The two reserved bits between the offset and M.
    pub fn res(&self) -> u8 {
        ((self.offset_flags() >> 1) & 0x3) as u8
    }

    /// The M flag: more fragments follow.
    pub fn more_frags(&self) -> bool {
        self.offset_flags() & 0x1 != 0
    }

    pub fn ident(&self) -> u32 {
        let b = &self.buffer.as_ref()[field::IDENT];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    /// Offset zero: the fragment holds the headers that follow this one.
    pub fn is_first(&self) -> bool {
        self.frag_offset() == 0
    }

    /// An atomic fragment (RFC 6946): offset 0 and M clear, a whole packet that must be
    /// processed alone, outside any reassembly.
    pub fn is_atomic(&self) -> bool {
        self.frag_offset() == 0 && !self.more_frags()
    }

    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn set_offset_flags(&mut self, v: u16) {
        self.buffer.as_mut()[field::OFFSET_FLAGS].copy_from_slice(&v.to_be_bytes());
    }

    pub fn set_next_header(&mut self, nh: IpProtocol) {
        self.buffer.as_mut()[field::NEXT_HEADER] = nh.0;
    }

    pub fn set_reserved(&mut self, v: u8) {
        self.buffer.as_mut()[field::RESERVED] = v;
    }

    /// Sets the offset (8-octet units, 13 bits), the reserved bits and M at once.
    pub fn set_offset_res_more(&mut self, offset: u16, res: u8, more: bool) {
        self.set_offset_flags((offset & 0x1fff) << 3 | u16::from(res & 0x3) << 1 | u16::from(more));
    }

    pub fn set_ident(&mut self, v: u32) {
        self.buffer.as_mut()[field::IDENT].copy_from_slice(&v.to_be_bytes());
    }
}

/// The fragment header as values, the reserved fields included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    pub next_header: IpProtocol,
    pub reserved: u8,
    /// In 8-octet units, 13 bits.
    pub frag_offset: u16,
    /// The two reserved bits.
    pub res: u8,
    pub more_frags: bool,
    pub ident: u32,
}

impl Repr {
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Result<Self> {
        Ok(Self {
            next_header: p.next_header(),
            reserved: p.reserved(),
            frag_offset: p.frag_offset(),
            res: p.res(),
            more_frags: p.more_frags(),
            ident: p.ident(),
        })
    }

    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        need(PROTO, buf, HEADER_LEN)?;
        let mut p = Packet::new_unchecked(&mut buf[..HEADER_LEN]);
        p.set_next_header(self.next_header);
        p.set_reserved(self.reserved);
        p.set_offset_res_more(self.frag_offset, self.res, self.more_frags);
        p.set_ident(self.ident);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use proptest::prelude::*;

    #[rustfmt::skip]
    const FIRST: [u8; 12] = [
        0x3a, 0x00,             // next header 58, reserved
        0x00, 0x01,             // offset 0, res 0, M
        0x12, 0x34, 0x56, 0x78, // identification
        0x80, 0x00, 0x24, 0x48, // start of an ICMPv6 echo request
    ];

    #[rustfmt::skip]
    const LATER: [u8; 8] = [
        0x3b, 0x00,             // next header 59, reserved
        0x04, 0xd0,             // offset 154 (1232 bytes), res 0, M clear
        0x12, 0x34, 0x56, 0x78, // identification
    ];

    #[test]
    fn parse() {
        let p = Packet::new_checked(&FIRST[..]).unwrap();
        assert_eq!(p.next_header(), IpProtocol::ICMPV6);
        assert_eq!(
            (p.frag_offset(), p.more_frags(), p.ident()),
            (0, true, 0x1234_5678)
        );
        assert!(p.is_first() && !p.is_atomic());
        assert_eq!(p.into_payload(), &FIRST[8..]);
        let p = Packet::new_checked(&LATER[..]).unwrap();
        assert_eq!(
            (p.frag_offset(), p.frag_offset_bytes(), p.more_frags()),
            (154, 1232, false)
        );
        assert!(!p.is_first() && !p.is_atomic());
        let mut atomic = LATER;
        atomic[2..4].copy_from_slice(&[0, 0]);
        assert!(Packet::new_checked(&atomic[..]).unwrap().is_atomic());
        assert!(matches!(
            Packet::new_checked(&LATER[..7]).unwrap_err().kind,
            ErrorKind::Truncated {
                needed: 8,
                available: 7
            }
        ));
    }

    proptest! {
        #[test]
        fn emit_parse_identity(nh: u8, reserved: u8, off in 0u16..0x2000, res in 0u8..4,
                               more: bool, ident: u32) {
            let repr = Repr {
                next_header: IpProtocol(nh), reserved, frag_offset: off, res,
                more_frags: more, ident,
            };
            let mut buf = [0u8; HEADER_LEN];
            repr.emit(&mut buf).unwrap();
            prop_assert_eq!(Repr::parse(&Packet::new_checked(&buf[..]).unwrap()).unwrap(), repr);
        }

        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..20)) {
            if let Ok(p) = Packet::new_checked(&data[..]) {
                let _ = (Repr::parse(&p), p.is_atomic(), p.frag_offset_bytes(), p.payload());
            }
        }
    }
}
