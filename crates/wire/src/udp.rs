//! UDP (RFC 768) and UDP-Lite (RFC 3828), over IPv6 (RFC 8200 §8.1) or IPv4.
//!
//! ```text
//!  0      7 8     15 16    23 24    31
//! +--------+--------+--------+--------+
//! |     Source      |   Destination   |
//! |      Port       |      Port       |
//! +--------+--------+--------+--------+
//! |     Length      |    Checksum     |   UDP-Lite: Checksum Coverage | Checksum
//! +--------+--------+--------+--------+
//! |          data octets ...
//! +---------------- ...
//! ```
//!
//! UDP's Length counts header and data; the checksum covers a pseudo-header, the header and
//! the data. UDP-Lite puts the Checksum Coverage where UDP has its Length: the datagram's
//! length is then the IP payload's, and the checksum covers the pseudo-header and only the
//! first `coverage` bytes (0 meaning all of them). UDP-Lite types live in [`lite`].
//!
//! Over IPv6 a zero UDP checksum is not "no checksum" as over IPv4: RFC 8200 §8.1 makes it
//! invalid, which [`Packet::checksum_verdict`] reports as [`Verdict::IllegalZero`].

use core::net::{Ipv4Addr, Ipv6Addr};

use crate::checksum::Checksum;
use crate::error::{Error, ErrorKind, Result, need};
use crate::proto::IpProtocol;

const PROTO: &str = "udp";

mod field {
    use core::ops::Range;
    pub const SRC_PORT: Range<usize> = 0..2;
    pub const DST_PORT: Range<usize> = 2..4;
    /// UDP's Length; UDP-Lite's Checksum Coverage.
    pub const LENGTH: Range<usize> = 4..6;
    pub const CHECKSUM: Range<usize> = 6..8;
}

pub const HEADER_LEN: usize = 8;

/// The addresses of the pseudo-header an upper-layer checksum covers (RFC 8200 §8.1 for
/// IPv6, RFC 768 for IPv4). TCP uses it too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PseudoHeader {
    V6 { src: Ipv6Addr, dst: Ipv6Addr },
    V4 { src: Ipv4Addr, dst: Ipv4Addr },
}

impl PseudoHeader {
    /// The running sum of the pseudo-header for `upper_layer_length` bytes of `protocol`.
    pub fn checksum(&self, protocol: IpProtocol, upper_layer_length: usize) -> Checksum {
        match self {
            PseudoHeader::V6 { src, dst } => {
                // A length above u32::MAX cannot be in a packet; saturate rather than wrap.
                let len = u32::try_from(upper_layer_length).unwrap_or(u32::MAX);
                Checksum::ipv6_pseudo_header(src, dst, len, protocol.0)
            }
            PseudoHeader::V4 { src, dst } => {
                let len = u16::try_from(upper_layer_length).unwrap_or(u16::MAX);
                Checksum::ipv4_pseudo_header(src, dst, protocol.0, len)
            }
        }
    }

    pub fn is_ipv6(&self) -> bool {
        matches!(self, PseudoHeader::V6 { .. })
    }
}

/// What a received checksum says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    Good,
    Bad,
    /// Zero over IPv4: the sender computed none (RFC 768); nothing to verify.
    Absent,
    /// Zero where a checksum is mandatory: UDP over IPv6 (RFC 8200 §8.1) and UDP-Lite
    /// (RFC 3828 §3.1). The receiver must drop the datagram.
    IllegalZero,
    /// The bytes the checksum covers are not all in the buffer (a cut quote).
    Unverifiable,
}

impl Verdict {
    /// Whether a stack accepts the datagram on this verdict.
    pub fn is_acceptable(self) -> bool {
        matches!(self, Verdict::Good | Verdict::Absent)
    }
}

/// The value to write in a UDP or UDP-Lite checksum field: a computed zero is sent as all
/// ones, as zero means "none" (RFC 768; RFC 3828 §3.1).
fn wire_checksum(c: &Checksum) -> u16 {
    match c.finish() {
        0 => 0xffff,
        v => v,
    }
}

fn read_u16<T: AsRef<[u8]>>(b: &T, r: core::ops::Range<usize>) -> u16 {
    let b = b.as_ref();
    u16::from_be_bytes([b[r.start], b[r.start + 1]])
}

/// A view of a UDP header and its data.
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<'a> Packet<&'a [u8]> {
    /// The data, borrowed for as long as the underlying bytes (see [`Packet::payload`]).
    pub fn into_payload(self) -> &'a [u8] {
        let end = self.datagram_end();
        &self.buffer[HEADER_LEN..end]
    }
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// A view without checks; accessors may panic on a short buffer.
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// The strict view: the header, a Length of at least 8 (RFC 768), and no more than the
    /// buffer holds. Bytes after Length are not the datagram's.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_lenient(buffer)?;
        let len = usize::from(p.len());
        if len < HEADER_LEN {
            return Err(Error::new(
                PROTO,
                ErrorKind::BadLength,
                field::LENGTH.start,
                "length below the header's 8 bytes",
            ));
        }
        if len > p.buffer.as_ref().len() {
            return Err(Error::new(
                PROTO,
                ErrorKind::BadLength,
                field::LENGTH.start,
                "length exceeds the IP payload",
            ));
        }
        Ok(p)
    }

    /// The lenient view, for quoted datagrams: only the 8 header bytes must be there.
    pub fn new_lenient(buffer: T) -> Result<Self> {
        need(PROTO, buffer.as_ref(), HEADER_LEN)?;
        Ok(Self { buffer })
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn src_port(&self) -> u16 {
        read_u16(&self.buffer, field::SRC_PORT)
    }

    pub fn dst_port(&self) -> u16 {
        read_u16(&self.buffer, field::DST_PORT)
    }

    /// The Length field: header and data, in bytes.
    pub fn len(&self) -> u16 {
        read_u16(&self.buffer, field::LENGTH)
    }

    pub fn is_empty(&self) -> bool {
        usize::from(self.len()) <= HEADER_LEN
    }

    pub fn checksum(&self) -> u16 {
        read_u16(&self.buffer, field::CHECKSUM)
    }

    /// Where the datagram ends in the buffer: at Length, cut to the buffer, never before
    /// the header.
    fn datagram_end(&self) -> usize {
        let b = self.buffer.as_ref();
        usize::from(self.len()).clamp(HEADER_LEN, b.len())
    }

    /// The data as Length gives it, cut to the buffer.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..self.datagram_end()]
    }

    /// Whether Length says more than the buffer holds.
    pub fn is_truncated(&self) -> bool {
        usize::from(self.len()) > self.buffer.as_ref().len()
    }

    /// Checks the checksum against the pseudo-header of `ph`.
    pub fn checksum_verdict(&self, ph: &PseudoHeader) -> Verdict {
        if self.checksum() == 0 {
            // RFC 8200 §8.1: a zero UDP checksum over IPv6 MUST be discarded.
            return if ph.is_ipv6() {
                Verdict::IllegalZero
            } else {
                Verdict::Absent
            };
        }
        let len = usize::from(self.len());
        if len < HEADER_LEN {
            return Verdict::Bad;
        }
        if self.is_truncated() {
            return Verdict::Unverifiable;
        }
        let mut c = ph.checksum(IpProtocol::UDP, len);
        c.add_bytes(&self.buffer.as_ref()[..len]);
        if c.verifies() {
            Verdict::Good
        } else {
            Verdict::Bad
        }
    }

    /// [`Packet::checksum_verdict`] as a result, for the stack: an error unless the
    /// datagram is to be accepted.
    pub fn verify_checksum(&self, ph: &PseudoHeader) -> Result<()> {
        let at = field::CHECKSUM.start;
        match self.checksum_verdict(ph) {
            Verdict::Good | Verdict::Absent => Ok(()),
            Verdict::Bad => Err(Error::new(
                PROTO,
                ErrorKind::BadChecksum,
                at,
                "bad checksum",
            )),
            Verdict::IllegalZero => Err(Error::new(
                PROTO,
                ErrorKind::BadChecksum,
                at,
                "zero checksum over IPv6",
            )),
            Verdict::Unverifiable => Err(Error::truncated(
                PROTO,
                usize::from(self.len()),
                self.buffer.as_ref().len(),
            )),
        }
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_src_port(&mut self, v: u16) {
        self.buffer.as_mut()[field::SRC_PORT].copy_from_slice(&v.to_be_bytes());
    }

    pub fn set_dst_port(&mut self, v: u16) {
        self.buffer.as_mut()[field::DST_PORT].copy_from_slice(&v.to_be_bytes());
    }

    pub fn set_len(&mut self, v: u16) {
        self.buffer.as_mut()[field::LENGTH].copy_from_slice(&v.to_be_bytes());
    }

    pub fn set_checksum(&mut self, v: u16) {
        self.buffer.as_mut()[field::CHECKSUM].copy_from_slice(&v.to_be_bytes());
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = self.datagram_end();
        &mut self.buffer.as_mut()[HEADER_LEN..end]
    }

    /// Computes and writes the checksum over the pseudo-header and the first Length bytes.
    /// Length must fit the buffer (as [`Packet::new_checked`] ensures).
    pub fn fill_checksum(&mut self, ph: &PseudoHeader) {
        self.set_checksum(0);
        let len = self.datagram_end();
        let mut c = ph.checksum(IpProtocol::UDP, len);
        c.add_bytes(&self.buffer.as_ref()[..len]);
        self.set_checksum(wire_checksum(&c));
    }
}

/// A UDP header as values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    pub src_port: u16,
    pub dst_port: u16,
    /// Bytes of data after the header.
    pub payload_len: usize,
}

impl Repr {
    /// The header of a datagram from a strict view (checksum not checked: see
    /// [`Packet::verify_checksum`]).
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Result<Self> {
        let len = usize::from(p.len());
        if len < HEADER_LEN {
            return Err(Error::new(
                PROTO,
                ErrorKind::BadLength,
                field::LENGTH.start,
                "length below the header's 8 bytes",
            ));
        }
        Ok(Self {
            src_port: p.src_port(),
            dst_port: p.dst_port(),
            payload_len: len - HEADER_LEN,
        })
    }

    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN + self.payload_len
    }

    /// Writes the header and the checksum into `buf`, whose data (`payload_len` bytes
    /// after the header) the caller has already written: the stack fills data in place,
    /// then the header, without a copy.
    pub fn emit(&self, buf: &mut [u8], ph: &PseudoHeader) -> Result<()> {
        let total = self.buffer_len();
        let Ok(len16) = u16::try_from(total) else {
            return Err(Error::new(
                PROTO,
                ErrorKind::BadLength,
                field::LENGTH.start,
                "datagram longer than 65535 bytes",
            ));
        };
        need(PROTO, buf, total)?;
        let mut p = Packet::new_unchecked(&mut buf[..total]);
        p.set_src_port(self.src_port);
        p.set_dst_port(self.dst_port);
        p.set_len(len16);
        p.fill_checksum(ph);
        Ok(())
    }

    /// Copies `payload` after the header, then [`Repr::emit`]s.
    pub fn emit_with_payload(
        &self,
        buf: &mut [u8],
        payload: &[u8],
        ph: &PseudoHeader,
    ) -> Result<()> {
        if payload.len() != self.payload_len {
            return Err(Error::new(
                PROTO,
                ErrorKind::BadLength,
                HEADER_LEN,
                "payload length differs",
            ));
        }
        need(PROTO, buf, self.buffer_len())?;
        buf[HEADER_LEN..self.buffer_len()].copy_from_slice(payload);
        self.emit(buf, ph)
    }
}

/// UDP-Lite (RFC 3828): the UDP header with Checksum Coverage in place of Length.
pub mod lite {
    use super::{HEADER_LEN, PseudoHeader, Verdict, field, read_u16, wire_checksum};
    use crate::error::{Error, ErrorKind, Result, need};
    use crate::proto::IpProtocol;

    const PROTO: &str = "udplite";

    /// A view of a UDP-Lite datagram: the whole buffer is the datagram (its length is the
    /// IP payload's, RFC 3828 §3.1).
    #[derive(Debug, Clone, Copy)]
    pub struct Packet<T: AsRef<[u8]>> {
        buffer: T,
    }

    impl<'a> Packet<&'a [u8]> {
        pub fn into_payload(self) -> &'a [u8] {
            &self.buffer[HEADER_LEN..]
        }
    }

    impl<T: AsRef<[u8]>> Packet<T> {
        pub const fn new_unchecked(buffer: T) -> Self {
            Self { buffer }
        }

        /// The strict view: the header, and a coverage of 0 or from 8 to the datagram's
        /// length.
        pub fn new_checked(buffer: T) -> Result<Self> {
            let p = Self::new_lenient(buffer)?;
            p.check_coverage()?;
            Ok(p)
        }

        /// The lenient view, for quoted or cut datagrams: the 8 header bytes only.
        pub fn new_lenient(buffer: T) -> Result<Self> {
            need(PROTO, buffer.as_ref(), HEADER_LEN)?;
            Ok(Self { buffer })
        }

        pub fn into_inner(self) -> T {
            self.buffer
        }

        /// RFC 3828 §3.1: a coverage below 8 or above the datagram's length is illegal and
        /// the datagram MUST be discarded.
        pub fn check_coverage(&self) -> Result<()> {
            let cov = usize::from(self.checksum_coverage());
            if cov != 0 && !(HEADER_LEN..=self.datagram_len()).contains(&cov) {
                return Err(Error::new(
                    PROTO,
                    ErrorKind::BadLength,
                    field::LENGTH.start,
                    "checksum coverage below 8 or beyond the datagram",
                ));
            }
            Ok(())
        }

        pub fn src_port(&self) -> u16 {
            read_u16(&self.buffer, field::SRC_PORT)
        }

        pub fn dst_port(&self) -> u16 {
            read_u16(&self.buffer, field::DST_PORT)
        }

        /// The Checksum Coverage field as sent; 0 means the whole datagram.
        pub fn checksum_coverage(&self) -> u16 {
            read_u16(&self.buffer, field::LENGTH)
        }

        /// The bytes the checksum covers: the whole datagram when the field is 0.
        pub fn coverage(&self) -> usize {
            match self.checksum_coverage() {
                0 => self.datagram_len(),
                n => usize::from(n),
            }
        }

        pub fn checksum(&self) -> u16 {
            read_u16(&self.buffer, field::CHECKSUM)
        }

        /// The datagram's length: the buffer's (the IP payload).
        pub fn datagram_len(&self) -> usize {
            self.buffer.as_ref().len()
        }

        pub fn payload(&self) -> &[u8] {
            &self.buffer.as_ref()[HEADER_LEN..]
        }

        /// Checks the checksum over the pseudo-header (with the datagram's length) and the
        /// covered bytes. `datagram_len` is the IP payload's length, which may exceed the
        /// buffer in a cut quote; pass `None` when the buffer is the whole datagram.
        pub fn checksum_verdict(&self, ph: &PseudoHeader, datagram_len: Option<usize>) -> Verdict {
            let total = datagram_len.unwrap_or(self.datagram_len());
            if self.checksum() == 0 {
                // RFC 3828 §3.1: the checksum is mandatory; zero is never sent.
                return Verdict::IllegalZero;
            }
            let cov = match self.checksum_coverage() {
                0 => total,
                n => usize::from(n),
            };
            if cov < HEADER_LEN || cov > total {
                return Verdict::Bad;
            }
            if cov > self.datagram_len() {
                return Verdict::Unverifiable;
            }
            let mut c = ph.checksum(IpProtocol::UDPLITE, total);
            c.add_bytes(&self.buffer.as_ref()[..cov]);
            if c.verifies() {
                Verdict::Good
            } else {
                Verdict::Bad
            }
        }

        /// The stack's check: coverage legal and checksum good.
        pub fn verify_checksum(&self, ph: &PseudoHeader) -> Result<()> {
            self.check_coverage()?;
            match self.checksum_verdict(ph, None) {
                Verdict::Good => Ok(()),
                Verdict::IllegalZero => Err(Error::new(
                    PROTO,
                    ErrorKind::BadChecksum,
                    field::CHECKSUM.start,
                    "zero checksum",
                )),
                _ => Err(Error::new(
                    PROTO,
                    ErrorKind::BadChecksum,
                    field::CHECKSUM.start,
                    "bad checksum",
                )),
            }
        }
    }

    impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
        pub fn set_src_port(&mut self, v: u16) {
            self.buffer.as_mut()[field::SRC_PORT].copy_from_slice(&v.to_be_bytes());
        }

        pub fn set_dst_port(&mut self, v: u16) {
            self.buffer.as_mut()[field::DST_PORT].copy_from_slice(&v.to_be_bytes());
        }

        pub fn set_checksum_coverage(&mut self, v: u16) {
            self.buffer.as_mut()[field::LENGTH].copy_from_slice(&v.to_be_bytes());
        }

        pub fn set_checksum(&mut self, v: u16) {
            self.buffer.as_mut()[field::CHECKSUM].copy_from_slice(&v.to_be_bytes());
        }

        pub fn payload_mut(&mut self) -> &mut [u8] {
            &mut self.buffer.as_mut()[HEADER_LEN..]
        }

        /// Computes and writes the checksum; the coverage must be legal.
        pub fn fill_checksum(&mut self, ph: &PseudoHeader) -> Result<()> {
            self.check_coverage()?;
            self.set_checksum(0);
            let total = self.datagram_len();
            let cov = self.coverage();
            let mut c = ph.checksum(IpProtocol::UDPLITE, total);
            c.add_bytes(&self.buffer.as_ref()[..cov]);
            self.set_checksum(wire_checksum(&c));
            Ok(())
        }
    }

    /// A UDP-Lite header as values.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct Repr {
        pub src_port: u16,
        pub dst_port: u16,
        /// The Checksum Coverage field: 0 for the whole datagram, else 8 or more.
        pub checksum_coverage: u16,
        pub payload_len: usize,
    }

    impl Repr {
        pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Result<Self> {
            p.check_coverage()?;
            Ok(Self {
                src_port: p.src_port(),
                dst_port: p.dst_port(),
                checksum_coverage: p.checksum_coverage(),
                payload_len: p.datagram_len() - HEADER_LEN,
            })
        }

        pub const fn header_len(&self) -> usize {
            HEADER_LEN
        }

        pub const fn buffer_len(&self) -> usize {
            HEADER_LEN + self.payload_len
        }

        /// Writes header and checksum into `buf`, whose data the caller already wrote
        /// after the header. Refuses an illegal coverage.
        pub fn emit(&self, buf: &mut [u8], ph: &PseudoHeader) -> Result<()> {
            let total = self.buffer_len();
            need(PROTO, buf, total)?;
            let mut p = Packet::new_unchecked(&mut buf[..total]);
            p.set_src_port(self.src_port);
            p.set_dst_port(self.dst_port);
            p.set_checksum_coverage(self.checksum_coverage);
            p.fill_checksum(ph)
        }

        /// Copies `payload` after the header, then [`Repr::emit`]s.
        pub fn emit_with_payload(
            &self,
            buf: &mut [u8],
            payload: &[u8],
            ph: &PseudoHeader,
        ) -> Result<()> {
            if payload.len() != self.payload_len {
                return Err(Error::new(
                    PROTO,
                    ErrorKind::BadLength,
                    HEADER_LEN,
                    "payload length differs",
                ));
            }
            need(PROTO, buf, self.buffer_len())?;
            buf[HEADER_LEN..self.buffer_len()].copy_from_slice(payload);
            self.emit(buf, ph)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn v6() -> PseudoHeader {
        PseudoHeader::V6 {
            src: "2001:db8::1".parse().unwrap(),
            dst: "2001:db8::2".parse().unwrap(),
        }
    }

    /// 2001:db8::1 port 5001 to 2001:db8::2 port 40001, "hello world!", made by scapy and
    /// checked good by tshark.
    #[rustfmt::skip]
    const DGRAM: [u8; 20] = [
        0x13, 0x89,             // source port 5001
        0x9c, 0x41,             // destination port 40001
        0x00, 0x14,             // length 20
        0x62, 0x97,             // checksum
        b'h', b'e', b'l', b'l', b'o', b' ', b'w', b'o', b'r', b'l', b'd', b'!',
    ];

    /// The same ports and addresses over UDP-Lite, coverage 8, 20 data bytes (tshark: good).
    #[rustfmt::skip]
    const LITE: [u8; 28] = [
        0x13, 0x89,             // source port 5001
        0x9c, 0x41,             // destination port 40001
        0x00, 0x08,             // checksum coverage 8: the header only
        0xf4, 0x13,             // checksum
        b'0', b'1', b'2', b'3', b'4', b'5', b'6', b'7', b'8', b'9',
        b'a', b'b', b'c', b'd', b'e', b'f', b'g', b'h', b'i', b'j',
    ];

    #[test]
    fn parse_udp() {
        let p = Packet::new_checked(&DGRAM[..]).unwrap();
        assert_eq!((p.src_port(), p.dst_port(), p.len()), (5001, 40001, 20));
        assert_eq!(p.payload(), b"hello world!");
        assert_eq!(p.checksum_verdict(&v6()), Verdict::Good);
        assert!(p.verify_checksum(&v6()).is_ok());
        let r = Repr::parse(&p).unwrap();
        assert_eq!(
            r,
            Repr {
                src_port: 5001,
                dst_port: 40001,
                payload_len: 12
            }
        );
        let mut out = [0u8; 20];
        r.emit_with_payload(&mut out, b"hello world!", &v6())
            .unwrap();
        assert_eq!(out, DGRAM);
    }

    #[test]
    fn checksum_conditions() {
        let mut bad = DGRAM;
        bad[7] ^= 1;
        let p = Packet::new_checked(&bad[..]).unwrap();
        assert_eq!(p.checksum_verdict(&v6()), Verdict::Bad);
        assert_eq!(
            p.verify_checksum(&v6()).unwrap_err().kind,
            ErrorKind::BadChecksum
        );
        let mut zero = DGRAM;
        zero[6..8].copy_from_slice(&[0, 0]);
        let p = Packet::new_checked(&zero[..]).unwrap();
        assert_eq!(p.checksum_verdict(&v6()), Verdict::IllegalZero);
        assert!(p.verify_checksum(&v6()).is_err());
        let v4 = PseudoHeader::V4 {
            src: [192, 0, 2, 1].into(),
            dst: [192, 0, 2, 2].into(),
        };
        assert_eq!(p.checksum_verdict(&v4), Verdict::Absent);
        assert!(p.verify_checksum(&v4).is_ok());
    }

    #[test]
    fn ipv4_checksum() {
        // scapy: IP(192.0.2.1 > 192.0.2.2)/UDP(5001, 40001)/"hello world!", checksum 0x3a08.
        let v4 = PseudoHeader::V4 {
            src: [192, 0, 2, 1].into(),
            dst: [192, 0, 2, 2].into(),
        };
        let r = Repr {
            src_port: 5001,
            dst_port: 40001,
            payload_len: 12,
        };
        let mut out = [0u8; 20];
        r.emit_with_payload(&mut out, b"hello world!", &v4).unwrap();
        let p = Packet::new_checked(&out[..]).unwrap();
        assert_eq!(p.checksum(), 0x3a08);
        assert_eq!(p.checksum_verdict(&v4), Verdict::Good);
        assert_eq!(p.checksum_verdict(&v6()), Verdict::Bad);
    }

    #[test]
    fn malformed_udp() {
        assert!(matches!(
            Packet::new_checked(&DGRAM[..7]).unwrap_err().kind,
            ErrorKind::Truncated {
                needed: 8,
                available: 7
            }
        ));
        let mut short = DGRAM;
        short[5] = 4;
        assert_eq!(
            Packet::new_checked(&short[..]).unwrap_err().kind,
            ErrorKind::BadLength
        );
        let cut = Packet::new_lenient(&DGRAM[..12]).unwrap();
        assert!(Packet::new_checked(&DGRAM[..12]).is_err());
        assert!(cut.is_truncated());
        assert_eq!(cut.payload(), b"hell");
        assert_eq!(cut.checksum_verdict(&v6()), Verdict::Unverifiable);
        // Length below 8 in a lenient view: an empty payload, no panic.
        let p = Packet::new_lenient(&short[..]).unwrap();
        assert_eq!(p.payload(), b"");
        assert_eq!(p.checksum_verdict(&v6()), Verdict::Bad);
    }

    #[test]
    fn parse_lite() {
        let p = lite::Packet::new_checked(&LITE[..]).unwrap();
        assert_eq!(
            (p.src_port(), p.dst_port(), p.checksum_coverage()),
            (5001, 40001, 8)
        );
        assert_eq!(p.coverage(), 8);
        assert_eq!(p.checksum_verdict(&v6(), None), Verdict::Good);
        // Outside the coverage, damage goes unnoticed: that is the point of UDP-Lite.
        let mut tail = LITE;
        tail[27] ^= 0xff;
        let p = lite::Packet::new_checked(&tail[..]).unwrap();
        assert!(p.verify_checksum(&v6()).is_ok());
        let r = lite::Repr::parse(&p).unwrap();
        assert_eq!(r.payload_len, 20);
        let mut out = [0u8; 28];
        r.emit_with_payload(&mut out, &LITE[8..], &v6()).unwrap();
        assert_eq!(out, LITE);
    }

    #[test]
    fn lite_coverage() {
        for (cov, ok) in [
            (0u16, true),
            (8, true),
            (20, true),
            (28, true),
            (4, false),
            (29, false),
        ] {
            let mut b = LITE;
            b[4..6].copy_from_slice(&cov.to_be_bytes());
            let r = lite::Packet::new_checked(&b[..]);
            assert_eq!(r.is_ok(), ok, "coverage {cov}");
            if !ok {
                let e = r.unwrap_err();
                assert_eq!((e.kind, e.offset), (ErrorKind::BadLength, 4));
                let rep = lite::Repr {
                    src_port: 1,
                    dst_port: 2,
                    checksum_coverage: cov,
                    payload_len: 20,
                };
                assert!(rep.emit(&mut [0u8; 28], &v6()).is_err());
            }
        }
        // Coverage 0 covers everything: the tail then matters.
        let r = lite::Repr {
            src_port: 1,
            dst_port: 2,
            checksum_coverage: 0,
            payload_len: 20,
        };
        let mut b = [0u8; 28];
        r.emit(&mut b, &v6()).unwrap();
        b[27] ^= 1;
        let p = lite::Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.checksum_verdict(&v6(), None), Verdict::Bad);
    }

    proptest! {
        #[test]
        fn udp_emit_parse_identity(sp: u16, dp: u16, payload in proptest::collection::vec(any::<u8>(), 0..64),
                                   src: [u8; 16], dst: [u8; 16]) {
            let ph = PseudoHeader::V6 { src: src.into(), dst: dst.into() };
            let r = Repr { src_port: sp, dst_port: dp, payload_len: payload.len() };
            let mut buf = vec![0u8; r.buffer_len()];
            r.emit_with_payload(&mut buf, &payload, &ph).unwrap();
            let p = Packet::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(Repr::parse(&p).unwrap(), r);
            prop_assert_eq!(p.checksum_verdict(&ph), Verdict::Good);
            prop_assert_ne!(p.checksum(), 0);
        }

        #[test]
        fn lite_emit_parse_identity(sp: u16, dp: u16, payload in proptest::collection::vec(any::<u8>(), 0..64),
                                    cov_pick: u16, src: [u8; 4], dst: [u8; 4]) {
            let ph = PseudoHeader::V4 { src: src.into(), dst: dst.into() };
            let total = (HEADER_LEN + payload.len()) as u16;
            let cov = if cov_pick % 3 == 0 { 0 } else { 8 + cov_pick % (total - 7) };
            let r = lite::Repr { src_port: sp, dst_port: dp, checksum_coverage: cov, payload_len: payload.len() };
            let mut buf = vec![0u8; r.buffer_len()];
            r.emit_with_payload(&mut buf, &payload, &ph).unwrap();
            let p = lite::Packet::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(lite::Repr::parse(&p).unwrap(), r);
            prop_assert_eq!(p.checksum_verdict(&ph, None), Verdict::Good);
        }

        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..64), v6: bool) {
            let ph = if v6 { self::v6() } else { PseudoHeader::V4 { src: [1, 2, 3, 4].into(), dst: [5, 6, 7, 8].into() } };
            if let Ok(p) = Packet::new_lenient(&data[..]) {
                let _ = (p.payload(), p.checksum_verdict(&ph), p.is_truncated(), Repr::parse(&p));
            }
            if let Ok(p) = Packet::new_checked(&data[..]) {
                let _ = (Repr::parse(&p), p.verify_checksum(&ph));
            }
            if let Ok(p) = lite::Packet::new_lenient(&data[..]) {
                let _ = (p.payload(), p.coverage(), p.checksum_verdict(&ph, Some(1000)), p.checksum_verdict(&ph, None));
                let _ = (lite::Repr::parse(&p), p.verify_checksum(&ph));
            }
        }
    }
}
