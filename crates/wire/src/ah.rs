//! The IP Authentication Header (RFC 4302 §2).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Next Header   |  Payload Len  |          RESERVED             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                 Security Parameters Index (SPI)               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Sequence Number Field                      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                Integrity Check Value-ICV (variable)           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Payload Len is the header length in 32-bit words minus 2, so the header is
//! `(Payload Len + 2) * 4` bytes and the ICV is what lies after the first 12.

use crate::error::{Error, ErrorKind, Result, need};
use crate::proto::IpProtocol;

const PROTO: &str = "ah";

mod field {
    use core::ops::Range;
    pub const NEXT_HEADER: usize = 0;
    pub const PAYLOAD_LEN: usize = 1;
    pub const RESERVED: Range<usize> = 2..4;
    pub const SPI: Range<usize> = 4..8;
    pub const SEQUENCE: Range<usize> = 8..12;
    pub const ICV: usize = 12;
}

/// The fixed part, before the ICV.
pub const MIN_HEADER_LEN: usize = 12;

/// A view of an Authentication Header and what follows it.
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<'a> Packet<&'a [u8]> {
    /// The ICV, cut to the buffer in a lenient view.
    pub fn into_icv(self) -> &'a [u8] {
        let end = self.header_len().min(self.buffer.len());
        self.buffer.get(field::ICV..end).unwrap_or(&[])
    }

    /// What follows the header (empty if the header itself is cut short).
    pub fn into_payload(self) -> &'a [u8] {
        self.buffer.get(self.header_len()..).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// The strict view for an IPv6 stack: the whole header is in the buffer, its
    /// length covers the fixed fields, it is a multiple of 8 bytes, and the SPI is not 0.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_lenient(buffer)?;
        if p.header_len() < MIN_HEADER_LEN {
            return Err(Error::new(
                PROTO,
                ErrorKind::BadLength,
                field::PAYLOAD_LEN,
                "payload length below the fixed fields",
            ));
        }
        // RFC 4302 §2.2: over IPv6 the header is a multiple of 8 octets.
        if p.header_len() % 8 != 0 {
            return Err(Error::new(
                PROTO,
                ErrorKind::BadLength,
                field::PAYLOAD_LEN,
                "header length is not a multiple of 8",
            ));
        }
        need(PROTO, p.buffer.as_ref(), p.header_len())?;
        // RFC 4302 §2.4: SPI 0 must not be sent on the wire.
        if p.spi() == 0 {
            return Err(Error::new(
                PROTO,
                ErrorKind::BadValue,
                field::SPI.start,
                "SPI is 0",
            ));
        }
        Ok(p)
    }

    /// The lenient view: the 12 fixed bytes; the ICV may be cut short or its length odd.
    pub fn new_lenient(buffer: T) -> Result<Self> {
        need(PROTO, buffer.as_ref(), MIN_HEADER_LEN)?;
        Ok(Self { buffer })
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn next_header(&self) -> IpProtocol {
        IpProtocol(self.buffer.as_ref()[field::NEXT_HEADER])
    }

    /// The length in 4-octet units, minus 2.
    pub fn payload_len(&self) -> u8 {
        self.buffer.as_ref()[field::PAYLOAD_LEN]
    }

    /// The header length in bytes, ICV included.
    pub fn header_len(&self) -> usize {
        (usize::from(self.payload_len()) + 2) * 4
    }

    pub fn reserved(&self) -> u16 {
        let b = &self.buffer.as_ref()[field::RESERVED];
        u16::from_be_bytes([b[0], b[1]])
    }

    pub fn spi(&self) -> u32 {
        let b = &self.buffer.as_ref()[field::SPI];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    pub fn sequence_number(&self) -> u32 {
        let b = &self.buffer.as_ref()[field::SEQUENCE];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    /// The ICV length the header announces (zero if the length is too short to hold one).
    pub fn icv_len(&self) -> usize {
        self.header_len().saturating_sub(MIN_HEADER_LEN)
    }

    pub fn icv(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        b.get(field::ICV..self.header_len().min(b.len()))
            .unwrap_or(&[])
    }

    pub fn is_truncated(&self) -> bool {
        self.header_len() > self.buffer.as_ref().len()
    }

    pub fn payload(&self) -> &[u8] {
        self.buffer.as_ref().get(self.header_len()..).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_next_header(&mut self, nh: IpProtocol) {
        self.buffer.as_mut()[field::NEXT_HEADER] = nh.0;
    }

    pub fn set_payload_len(&mut self, v: u8) {
        self.buffer.as_mut()[field::PAYLOAD_LEN] = v;
    }

    pub fn set_reserved(&mut self, v: u16) {
        self.buffer.as_mut()[field::RESERVED].copy_from_slice(&v.to_be_bytes());
    }

    pub fn set_spi(&mut self, v: u32) {
        self.buffer.as_mut()[field::SPI].copy_from_slice(&v.to_be_bytes());
    }

    pub fn set_sequence_number(&mut self, v: u32) {
        self.buffer.as_mut()[field::SEQUENCE].copy_from_slice(&v.to_be_bytes());
    }

    /// The ICV, to be zeroed for the ICV computation and then filled in.
    pub fn icv_mut(&mut self) -> &mut [u8] {
        let end = self.header_len().min(self.buffer.as_ref().len());
        self.buffer
            .as_mut()
            .get_mut(field::ICV..end)
            .unwrap_or(&mut [])
    }
}

/// The Authentication Header as values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr<'a> {
    pub next_header: IpProtocol,
    pub reserved: u16,
    pub spi: u32,
    pub sequence_number: u32,
    pub icv: &'a [u8],
}

impl<'a> Repr<'a> {
    /// Parses a whole header; a header cut short is refused.
    pub fn parse(p: &Packet<&'a [u8]>) -> Result<Self> {
        if p.header_len() < MIN_HEADER_LEN {
            return Err(Error::new(
                PROTO,
                ErrorKind::BadLength,
                field::PAYLOAD_LEN,
                "payload length below the fixed fields",
            ));
        }
        need(PROTO, p.buffer, p.header_len())?;
        Ok(Self {
            next_header: p.next_header(),
            reserved: p.reserved(),
            spi: p.spi(),
            sequence_number: p.sequence_number(),
            icv: p.into_icv(),
        })
    }

    pub fn buffer_len(&self) -> usize {
        MIN_HEADER_LEN + self.icv.len()
    }

    /// Writes the header at the start of `buf`; the ICV must make it a multiple of 4
    /// bytes (of 8 for IPv6, which the caller chooses the ICV for).
    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        let len = self.buffer_len();
        if !len.is_multiple_of(4) || len > (255 + 2) * 4 {
            return Err(Error::new(
                PROTO,
                ErrorKind::BadLength,
                field::PAYLOAD_LEN,
                "ICV length is not a multiple of 4 up to 1016",
            ));
        }
        need(PROTO, buf, len)?;
        let mut p = Packet::new_unchecked(&mut buf[..len]);
        p.set_next_header(self.next_header);
        // len is 12..=1028 and a multiple of 4.
        p.set_payload_len((len / 4 - 2) as u8);
        p.set_reserved(self.reserved);
        p.set_spi(self.spi);
        p.set_sequence_number(self.sequence_number);
        p.icv_mut().copy_from_slice(self.icv);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[rustfmt::skip]
    const AH: [u8; 28] = [
        0x3a, 0x04, 0x00, 0x00, // next header 58, payload len 4 (24 bytes), reserved
        0x00, 0x00, 0x12, 0x34, // SPI
        0x00, 0x00, 0x00, 0x01, // sequence number
        0x40, 0x5d, 0x5e, 0xa2, 0x9b, 0xe0, 0x99, 0x84, 0x2d, 0x95, 0xed, 0x80, // ICV (96 bits)
        0x80, 0x00, 0x24, 0x48, // start of an ICMPv6 echo request
    ];

    #[test]
    fn parse() {
        let p = Packet::new_checked(&AH[..]).unwrap();
        assert_eq!(p.next_header(), IpProtocol::ICMPV6);
        assert_eq!(
            (p.header_len(), p.spi(), p.sequence_number()),
            (24, 0x1234, 1)
        );
        assert_eq!(p.icv(), &AH[12..24]);
        assert_eq!(p.into_payload(), &AH[24..]);
        let repr = Repr::parse(&p).unwrap();
        let mut buf = [0u8; 24];
        repr.emit(&mut buf).unwrap();
        assert_eq!(buf, AH[..24]);
    }

    #[test]
    fn malformed() {
        let mut bad = AH;
        bad[1] = 3; // 20 bytes: not a multiple of 8
        assert_eq!(
            Packet::new_checked(&bad[..]).unwrap_err().kind,
            ErrorKind::BadLength
        );
        assert!(Packet::new_lenient(&bad[..]).is_ok());
        bad[1] = 0; // 8 bytes: shorter than the fixed fields
        assert_eq!(
            Packet::new_checked(&bad[..]).unwrap_err().kind,
            ErrorKind::BadLength
        );
        assert_eq!(Packet::new_lenient(&bad[..]).unwrap().icv(), &[] as &[u8]);
        let mut bad = AH;
        bad[4..8].copy_from_slice(&[0; 4]);
        assert_eq!(
            Packet::new_checked(&bad[..]).unwrap_err().kind,
            ErrorKind::BadValue
        );
        assert!(matches!(
            Packet::new_checked(&AH[..20]).unwrap_err().kind,
            ErrorKind::Truncated {
                needed: 24,
                available: 20
            }
        ));
    }

    proptest! {
        #[test]
        fn emit_parse_identity(nh: u8, reserved: u16, spi in 1u32.., seq: u32,
                               icv_words in 0usize..8, byte: u8) {
            let icv = vec![byte; icv_words * 8 + 4];
            let repr = Repr { next_header: IpProtocol(nh), reserved, spi, sequence_number: seq,
                              icv: &icv };
            let mut buf = vec![0u8; repr.buffer_len()];
            repr.emit(&mut buf).unwrap();
            let p = Packet::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(Repr::parse(&p).unwrap(), repr);
        }

        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..100)) {
            if let Ok(p) = Packet::new_lenient(&data[..]) {
                let _ = (p.icv(), p.icv_len(), p.payload(), p.is_truncated(), Repr::parse(&p));
                let _ = (p.into_icv(), p.into_payload());
            }
            let _ = Packet::new_checked(&data[..]);
        }
    }
}
