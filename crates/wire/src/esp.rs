//! The outer layout of the IP Encapsulating Security Payload (RFC 4303 §2), and the
//! trailer of its payload once decrypted.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |               Security Parameters Index (SPI)                 |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                      Sequence Number                          |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Payload Data* (variable)                   |   encrypted
//! ~                                                               ~   from here
//! +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |               |     Padding (0-255 bytes)                     |
//! +-+-+-+-+-+-+-+-+               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                               |  Pad Length   | Next Header   |   to here
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |         Integrity Check Value-ICV   (variable)                |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Without the keys only the SPI and the sequence number can be read; [`Trailer`]
//! takes the rest apart once decrypted (or as sent with NULL encryption, RFC 2410).

use crate::error::{Error, ErrorKind, Result, need};
use crate::proto::IpProtocol;

const PROTO: &str = "esp";

mod field {
    use core::ops::Range;
    pub const SPI: Range<usize> = 0..4;
    pub const SEQUENCE: Range<usize> = 4..8;
}

pub const HEADER_LEN: usize = 8;

/// A view of an ESP packet: SPI, sequence number, and the opaque rest.
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<'a> Packet<&'a [u8]> {
    /// The bytes after the sequence number: payload, trailer and ICV, still encrypted.
    pub fn into_payload(self) -> &'a [u8] {
        &self.buffer[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// The strict view: the two fixed fields, and an SPI other than 0.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_lenient(buffer)?;
        // RFC 4303 §2.1: SPI 0 must not be sent on the wire.
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

    /// The lenient view: the two fixed fields.
    pub fn new_lenient(buffer: T) -> Result<Self> {
        need(PROTO, buffer.as_ref(), HEADER_LEN)?;
        Ok(Self { buffer })
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn spi(&self) -> u32 {
        let b = &self.buffer.as_ref()[field::SPI];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    pub fn sequence_number(&self) -> u32 {
        let b = &self.buffer.as_ref()[field::SEQUENCE];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_spi(&mut self, v: u32) {
        self.buffer.as_mut()[field::SPI].copy_from_slice(&v.to_be_bytes());
    }

    pub fn set_sequence_number(&mut self, v: u32) {
        self.buffer.as_mut()[field::SEQUENCE].copy_from_slice(&v.to_be_bytes());
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[HEADER_LEN..]
    }
}

/// The two fixed fields as values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    pub spi: u32,
    pub sequence_number: u32,
}

impl Repr {
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Result<Self> {
        Ok(Self {
            spi: p.spi(),
            sequence_number: p.sequence_number(),
        })
    }

    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        need(PROTO, buf, HEADER_LEN)?;
        let mut p = Packet::new_unchecked(&mut buf[..HEADER_LEN]);
        p.set_spi(self.spi);
        p.set_sequence_number(self.sequence_number);
        Ok(())
    }
}

/// A decrypted ESP payload taken apart: the data, its padding, and the trailer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Trailer<'a> {
    /// The protected data (with any IV the cipher placed in front of it).
    pub payload: &'a [u8],
    pub padding: &'a [u8],
    pub next_header: IpProtocol,
    pub icv: &'a [u8],
}

impl<'a> Trailer<'a> {
    /// Takes apart the plaintext after the sequence number, whose last `icv_len` bytes
    /// are the ICV. Error offsets are relative to `plaintext`.
    pub fn parse(plaintext: &'a [u8], icv_len: usize) -> Result<Self> {
        need(PROTO, plaintext, icv_len.saturating_add(2))?;
        let icv_at = plaintext.len() - icv_len;
        let (body, icv) = plaintext.split_at(icv_at);
        let pad_len = usize::from(body[icv_at - 2]);
        let next_header = IpProtocol(body[icv_at - 1]);
        let Some(pad_at) = (icv_at - 2).checked_sub(pad_len) else {
            return Err(Error::new(
                PROTO,
                ErrorKind::BadLength,
                icv_at - 2,
                "pad length exceeds the payload",
            ));
        };
        Ok(Self {
            payload: &body[..pad_at],
            padding: &body[pad_at..icv_at - 2],
            next_header,
            icv,
        })
    }

    /// Whether the padding is the default 1, 2, 3, ... that RFC 4303 §2.4 has the
    /// receiver check when no other padding scheme was negotiated.
    pub fn padding_is_default(&self) -> bool {
        self.padding
            .iter()
            .enumerate()
            .all(|(i, &b)| usize::from(b) == i + 1)
    }

    /// The bytes from the payload to the end of the ICV.
    pub fn buffer_len(&self) -> usize {
        self.payload.len() + self.padding.len() + 2 + self.icv.len()
    }

    /// Writes payload, padding, pad length, next header and ICV at the start of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        if self.padding.len() > 255 {
            return Err(Error::new(
                PROTO,
                ErrorKind::BadLength,
                0,
                "padding over 255 bytes",
            ));
        }
        let len = self.buffer_len();
        need(PROTO, buf, len)?;
        let (p, rest) = buf[..len].split_at_mut(self.payload.len());
        p.copy_from_slice(self.payload);
        let (pad, rest) = rest.split_at_mut(self.padding.len());
        pad.copy_from_slice(self.padding);
        // Checked above to be at most 255.
        rest[0] = self.padding.len() as u8;
        rest[1] = self.next_header.0;
        rest[2..].copy_from_slice(self.icv);
        Ok(())
    }
}

/// Default padding (RFC 4303 §2.4): 1, 2, 3, ..., up to 255 bytes.
pub fn default_padding(len: u8) -> impl Iterator<Item = u8> {
    1..=len
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[rustfmt::skip]
    const NULL_ESP: [u8; 32] = [
        0x00, 0x00, 0xab, 0xcd, // SPI
        0x00, 0x00, 0x00, 0x01, // sequence number
        0x80, 0x00, 0x24, 0x48, 0x00, 0x00, 0x00, 0x00, // payload: ICMPv6 echo request
        0x01, 0x02,             // padding 1, 2
        0x02, 0x3a,             // pad length 2, next header 58
        0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, // ICV
    ];

    #[test]
    fn parse() {
        let p = Packet::new_checked(&NULL_ESP[..]).unwrap();
        assert_eq!((p.spi(), p.sequence_number()), (0xabcd, 1));
        let t = Trailer::parse(p.into_payload(), 12).unwrap();
        assert_eq!(t.payload, &NULL_ESP[8..16]);
        assert_eq!(t.padding, &[1, 2]);
        assert!(t.padding_is_default());
        assert_eq!(t.next_header, IpProtocol::ICMPV6);
        assert_eq!(t.icv, &NULL_ESP[20..]);
        let mut buf = [0u8; 24];
        t.emit(&mut buf).unwrap();
        assert_eq!(buf, NULL_ESP[8..]);
    }

    #[test]
    fn malformed() {
        let mut bad = NULL_ESP;
        bad[18] = 13; // pad length beyond the 10 bytes before it
        let e = Trailer::parse(&bad[8..], 12).unwrap_err();
        assert_eq!((e.kind, e.offset), (ErrorKind::BadLength, 10));
        assert!(Trailer::parse(&NULL_ESP[8..], 23).is_err());
        assert!(Trailer::parse(&NULL_ESP[8..], usize::MAX).is_err());
        let mut zero = NULL_ESP;
        zero[..4].copy_from_slice(&[0; 4]);
        assert_eq!(
            Packet::new_checked(&zero[..]).unwrap_err().kind,
            ErrorKind::BadValue
        );
        assert!(Packet::new_lenient(&NULL_ESP[..7]).is_err());
    }

    proptest! {
        #[test]
        fn emit_parse_identity(spi: u32, seq: u32,
                               payload in proptest::collection::vec(any::<u8>(), 0..40),
                               pad_len: u8, nh: u8, icv_len in 0usize..32) {
            let repr = Repr { spi, sequence_number: seq };
            let mut buf = [0u8; HEADER_LEN];
            repr.emit(&mut buf).unwrap();
            prop_assert_eq!(Repr::parse(&Packet::new_lenient(&buf[..]).unwrap()).unwrap(), repr);

            let padding: Vec<u8> = default_padding(pad_len).collect();
            let icv = vec![0x5a; icv_len];
            let t = Trailer { payload: &payload, padding: &padding, next_header: IpProtocol(nh),
                              icv: &icv };
            let mut buf = vec![0u8; t.buffer_len()];
            t.emit(&mut buf).unwrap();
            let back = Trailer::parse(&buf, icv_len).unwrap();
            prop_assert!(back.padding_is_default());
            prop_assert_eq!(back, t);
        }

        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..100), icv: usize) {
            if let Ok(p) = Packet::new_lenient(&data[..]) {
                let _ = (Repr::parse(&p), p.payload());
            }
            let _ = Packet::new_checked(&data[..]);
            let _ = Trailer::parse(&data, icv % 40);
            let _ = Trailer::parse(&data, icv);
        }
    }
}
