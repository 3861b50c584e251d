//! The IPv4 header (RFC 791 §3.1), as far as IPv6-in-IPv4 tunnels (RFC 4213) and
//! translation (RFC 7915) need it. Options are kept as raw bytes.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Version|  IHL  |   DS field    |          Total Length         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |         Identification        |Flags|      Fragment Offset    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Time to Live |    Protocol   |         Header Checksum       |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                       Source Address                          |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Destination Address                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Options                    |    Padding    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! The DS field is the old Type of Service octet: DSCP in its upper six bits (RFC 2474)
//! and ECN in the lower two (RFC 3168). Flags are reserved (must be zero), DF and MF.
//!
//! [`Packet::new_checked`] is for the stack (header and total length within the buffer);
//! [`Packet::new_lenient`] is for datagrams quoted in ICMP errors (the header must be
//! whole; the payload may be cut short).

use core::net::Ipv4Addr;

use crate::checksum::{Checksum, internet_checksum};
use crate::error::{Error, ErrorKind, Result, need};
use crate::proto::IpProtocol;

const PROTO: &str = "ip";

mod field {
    use core::ops::Range;
    pub const VER_IHL: usize = 0;
    pub const DS_FIELD: usize = 1;
    pub const TOTAL_LEN: Range<usize> = 2..4;
    pub const IDENT: Range<usize> = 4..6;
    pub const FLAGS_FRAG: Range<usize> = 6..8;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: Range<usize> = 10..12;
    pub const SRC: Range<usize> = 12..16;
    pub const DST: Range<usize> = 16..20;
}

/// The header without options.
pub const HEADER_LEN: usize = 20;
/// IHL is four bits of 32-bit words: at most 60 bytes, 40 of them options.
pub const MAX_HEADER_LEN: usize = 60;
pub const MAX_OPTIONS_LEN: usize = MAX_HEADER_LEN - HEADER_LEN;
/// RFC 791 §3.1: every host must accept datagrams of this size.
pub const MIN_MTU: usize = 576;

const FLAG_RESERVED: u16 = 0x8000;
const FLAG_DF: u16 = 0x4000;
const FLAG_MF: u16 = 0x2000;
const FRAG_OFFSET_MASK: u16 = 0x1fff;

/// Option types (RFC 791 §3.1; IANA "IP Option Numbers").
pub mod option {
    pub const END_OF_LIST: u8 = 0x00;
    pub const NO_OPERATION: u8 = 0x01;
    pub const RECORD_ROUTE: u8 = 0x07;
    pub const ROUTER_ALERT: u8 = 0x94;
}

/// A view of an IPv4 header and its payload.
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<'a> Packet<&'a [u8]> {
    /// The payload, borrowed for as long as the underlying bytes (see [`Packet::payload`]).
    pub fn into_payload(self) -> &'a [u8] {
        let (start, end) = self.payload_range();
        &self.buffer[start..end]
    }

    /// The options, borrowed for as long as the underlying bytes.
    pub fn into_options(self) -> &'a [u8] {
        &self.buffer[HEADER_LEN..self.header_len()]
    }
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// A view without checks; accessors may panic on a short buffer.
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// The strict view: version 4, a header length of at least 20 bytes within the
    /// buffer, and a total length that covers the header and fits the buffer (bytes
    /// after the total length, such as Ethernet padding, are not payload).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_lenient(buffer)?;
        let total = usize::from(p.total_len());
        if total < p.header_len() {
            return Err(Error::new(
                PROTO,
                ErrorKind::BadLength,
                field::TOTAL_LEN.start,
                "total length is less than the header length",
            ));
        }
        if total > p.buffer.as_ref().len() {
            return Err(Error::new(
                PROTO,
                ErrorKind::BadLength,
                field::TOTAL_LEN.start,
                "total length exceeds the packet",
            ));
        }
        Ok(p)
    }

    /// The lenient view: version 4 and the whole header (options included); the total
    /// length is not checked and the payload is what of it the buffer holds.
    pub fn new_lenient(buffer: T) -> Result<Self> {
        let b = buffer.as_ref();
        need(PROTO, b, HEADER_LEN)?;
        if b[field::VER_IHL] >> 4 != 4 {
            return Err(Error::new(
                PROTO,
                ErrorKind::BadVersion,
                0,
                "version is not 4",
            ));
        }
        let hl = usize::from(b[field::VER_IHL] & 0x0f) * 4;
        if hl < HEADER_LEN {
            return Err(Error::new(
                PROTO,
                ErrorKind::BadLength,
                field::VER_IHL,
                "header length is less than 20 bytes",
            ));
        }
        need(PROTO, b, hl)?;
        Ok(Self { buffer })
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn be16(&self, at: usize) -> u16 {
        let b = self.buffer.as_ref();
        u16::from_be_bytes([b[at], b[at + 1]])
    }

    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] >> 4
    }

    /// The header length in bytes (IHL times four).
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::VER_IHL] & 0x0f) * 4
    }

    /// The DS field (formerly Type of Service).
    pub fn ds_field(&self) -> u8 {
        self.buffer.as_ref()[field::DS_FIELD]
    }

    pub fn dscp(&self) -> u8 {
        self.ds_field() >> 2
    }

    pub fn ecn(&self) -> u8 {
        self.ds_field() & 0x3
    }

    pub fn total_len(&self) -> u16 {
        self.be16(field::TOTAL_LEN.start)
    }

    pub fn ident(&self) -> u16 {
        self.be16(field::IDENT.start)
    }

    /// The three flag bits as a number: reserved 0x4, DF 0x2, MF 0x1.
    pub fn flags(&self) -> u8 {
        (self.be16(field::FLAGS_FRAG.start) >> 13) as u8
    }

    /// The reserved flag, which RFC 791 §3.1 says must be zero.
    pub fn reserved_flag(&self) -> bool {
        self.be16(field::FLAGS_FRAG.start) & FLAG_RESERVED != 0
    }

    pub fn dont_frag(&self) -> bool {
        self.be16(field::FLAGS_FRAG.start) & FLAG_DF != 0
    }

    pub fn more_frags(&self) -> bool {
        self.be16(field::FLAGS_FRAG.start) & FLAG_MF != 0
    }

    /// The fragment offset in units of eight octets, as carried.
    pub fn frag_offset(&self) -> u16 {
        self.be16(field::FLAGS_FRAG.start) & FRAG_OFFSET_MASK
    }

    /// The fragment offset in octets.
    pub fn frag_offset_bytes(&self) -> u32 {
        u32::from(self.frag_offset()) * 8
    }

    /// Whether this is a fragment (not the first, or not the last).
    pub fn is_fragment(&self) -> bool {
        self.more_frags() || self.frag_offset() != 0
    }

    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[field::TTL]
    }

    pub fn protocol(&self) -> IpProtocol {
        IpProtocol(self.buffer.as_ref()[field::PROTOCOL])
    }

    pub fn checksum(&self) -> u16 {
        self.be16(field::CHECKSUM.start)
    }

    /// Whether the header checksum verifies (RFC 791 §3.1: the header only).
    pub fn verify_checksum(&self) -> bool {
        Checksum::new()
            .add_bytes(&self.buffer.as_ref()[..self.header_len()])
            .verifies()
    }

    pub fn src_addr(&self) -> Ipv4Addr {
        // Unwrap: the range is 4 bytes within the checked header.
        Ipv4Addr::from(<[u8; 4]>::try_from(&self.buffer.as_ref()[field::SRC]).unwrap())
    }

    pub fn dst_addr(&self) -> Ipv4Addr {
        // Unwrap: as above.
        Ipv4Addr::from(<[u8; 4]>::try_from(&self.buffer.as_ref()[field::DST]).unwrap())
    }

    /// The option bytes between the fixed header and the payload, padding included.
    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..self.header_len()]
    }

    fn payload_range(&self) -> (usize, usize) {
        let b = self.buffer.as_ref();
        let hl = self.header_len();
        let end = usize::from(self.total_len()).clamp(hl, b.len());
        (hl, end)
    }

    /// The payload as the total length gives it, cut to the buffer (lenient views).
    pub fn payload(&self) -> &[u8] {
        let (start, end) = self.payload_range();
        &self.buffer.as_ref()[start..end]
    }

    /// Whether the total length says more than the buffer holds (a truncated quote).
    pub fn is_truncated(&self) -> bool {
        usize::from(self.total_len()) > self.buffer.as_ref().len()
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn set_be16(&mut self, at: usize, v: u16) {
        self.buffer.as_mut()[at..at + 2].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets version 4 and the header length in bytes (a multiple of 4, 20..=60).
    pub fn set_version_header_len(&mut self, header_len: usize) {
        self.buffer.as_mut()[field::VER_IHL] = 0x40 | ((header_len / 4) as u8 & 0x0f);
    }

    pub fn set_ds_field(&mut self, v: u8) {
        self.buffer.as_mut()[field::DS_FIELD] = v;
    }

    pub fn set_total_len(&mut self, v: u16) {
        self.set_be16(field::TOTAL_LEN.start, v);
    }

    pub fn set_ident(&mut self, v: u16) {
        self.set_be16(field::IDENT.start, v);
    }

    /// Sets the three flags (reserved, DF, MF) and the offset in eight-octet units.
    pub fn set_flags_frag_offset(&mut self, flags: u8, frag_offset: u16) {
        let v = u16::from(flags & 0x7) << 13 | (frag_offset & FRAG_OFFSET_MASK);
        self.set_be16(field::FLAGS_FRAG.start, v);
    }

    pub fn set_ttl(&mut self, v: u8) {
        self.buffer.as_mut()[field::TTL] = v;
    }

    pub fn set_protocol(&mut self, p: IpProtocol) {
        self.buffer.as_mut()[field::PROTOCOL] = p.0;
    }

    pub fn set_checksum(&mut self, v: u16) {
        self.set_be16(field::CHECKSUM.start, v);
    }

    pub fn set_src_addr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[field::SRC].copy_from_slice(&a.octets());
    }

    pub fn set_dst_addr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[field::DST].copy_from_slice(&a.octets());
    }

    /// Computes and writes the header checksum over the header as it stands.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let hl = self.header_len();
        let c = internet_checksum(&self.buffer.as_ref()[..hl]);
        self.set_checksum(c);
    }

    /// Decrements the TTL and patches the checksum incrementally (RFC 1624 eqn. 3).
    pub fn decrement_ttl(&mut self) {
        let old = u16::from_be_bytes([self.ttl(), self.protocol().0]);
        let ttl = self.ttl().wrapping_sub(1);
        self.set_ttl(ttl);
        let new = u16::from_be_bytes([ttl, self.protocol().0]);
        let mut c = Checksum::new();
        c.add_u16(!self.checksum()).add_u16(!old).add_u16(new);
        self.set_checksum(c.finish());
    }

    pub fn options_mut(&mut self) -> &mut [u8] {
        let hl = self.header_len();
        &mut self.buffer.as_mut()[HEADER_LEN..hl]
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        let (start, end) = self.payload_range();
        &mut self.buffer.as_mut()[start..end]
    }
}

/// One option met by [`OptionsIter`]: its type, its whole bytes (type and length
/// octets included), and its offset within the options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpOption<'a> {
    pub kind: u8,
    pub bytes: &'a [u8],
    pub offset: usize,
}

impl<'a> IpOption<'a> {
    /// The option data after the type and length octets (empty for EOL and NOP).
    pub fn data(&self) -> &'a [u8] {
        self.bytes.get(2..).unwrap_or(&[])
    }
}

/// Walks the options of a header (RFC 791 §3.1): End of Option List ends the walk
/// (what follows is padding), No Operation is one octet, all others carry a length that
/// must be at least 2 and stay within the options. A bad length yields one error.
#[derive(Debug, Clone)]
pub struct OptionsIter<'a> {
    rest: &'a [u8],
    offset: usize,
    done: bool,
}

impl<'a> OptionsIter<'a> {
    pub fn new(options: &'a [u8]) -> Self {
        Self {
            rest: options,
            offset: 0,
            done: false,
        }
    }
}

impl<'a> Iterator for OptionsIter<'a> {
    type Item = Result<IpOption<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let kind = *self.rest.first()?;
        let len = match kind {
            option::END_OF_LIST => {
                self.done = true;
                1
            }
            option::NO_OPERATION => 1,
            _ => match self.rest.get(1) {
                Some(&l) if l >= 2 && usize::from(l) <= self.rest.len() => usize::from(l),
                _ => {
                    self.done = true;
                    return Some(Err(Error::new(
                        PROTO,
                        ErrorKind::BadOption,
                        HEADER_LEN + self.offset,
                        "option length runs past the header or is less than 2",
                    )));
                }
            },
        };
        let (bytes, rest) = self.rest.split_at(len);
        let item = IpOption {
            kind,
            bytes,
            offset: self.offset,
        };
        self.rest = rest;
        self.offset += len;
        Some(Ok(item))
    }
}

/// Raw option bytes, up to 40, kept without allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Options {
    bytes: [u8; MAX_OPTIONS_LEN],
    len: u8,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            bytes: [0; MAX_OPTIONS_LEN],
            len: 0,
        }
    }
}

impl Options {
    /// Options from raw bytes: at most 40, and a multiple of 4 (padded as the header
    /// needs, RFC 791 §3.1).
    pub fn new(raw: &[u8]) -> Result<Self> {
        if raw.len() > MAX_OPTIONS_LEN || !raw.len().is_multiple_of(4) {
            return Err(Error::new(
                PROTO,
                ErrorKind::BadOption,
                HEADER_LEN,
                "options are not a multiple of 4 bytes up to 40",
            ));
        }
        let mut bytes = [0u8; MAX_OPTIONS_LEN];
        bytes[..raw.len()].copy_from_slice(raw);
        Ok(Self {
            bytes,
            len: raw.len() as u8,
        })
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The IPv4 header as values: everything but the checksum (recomputed on emit) and the
/// lengths (derived from the options and the payload length).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    pub ds_field: u8,
    pub ident: u16,
    pub reserved_flag: bool,
    pub dont_frag: bool,
    pub more_frags: bool,
    /// In units of eight octets.
    pub frag_offset: u16,
    pub ttl: u8,
    pub protocol: IpProtocol,
    pub src_addr: Ipv4Addr,
    pub dst_addr: Ipv4Addr,
    pub options: Options,
    pub payload_len: u16,
}

impl Repr {
    /// Parses a header whose checksum verifies (RFC 1122 §3.2.1.2: a datagram whose
    /// header checksum fails MUST be discarded). The payload length comes from the total
    /// length and is not checked against the buffer here; a strict view has done that.
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Result<Self> {
        if !p.verify_checksum() {
            return Err(Error::new(
                PROTO,
                ErrorKind::BadChecksum,
                field::CHECKSUM.start,
                "header checksum does not verify",
            ));
        }
        let hl = p.header_len();
        let total = usize::from(p.total_len());
        if total < hl {
            return Err(Error::new(
                PROTO,
                ErrorKind::BadLength,
                field::TOTAL_LEN.start,
                "total length is less than the header length",
            ));
        }
        Ok(Self {
            ds_field: p.ds_field(),
            ident: p.ident(),
            reserved_flag: p.reserved_flag(),
            dont_frag: p.dont_frag(),
            more_frags: p.more_frags(),
            frag_offset: p.frag_offset(),
            ttl: p.ttl(),
            protocol: p.protocol(),
            src_addr: p.src_addr(),
            dst_addr: p.dst_addr(),
            options: Options::new(p.options())?,
            payload_len: (total - hl) as u16,
        })
    }

    pub fn header_len(&self) -> usize {
        HEADER_LEN + self.options.len()
    }

    pub fn buffer_len(&self) -> usize {
        self.header_len()
    }

    /// Writes the header (with its checksum) at the start of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        let hl = self.header_len();
        let total = u16::try_from(hl + usize::from(self.payload_len)).map_err(|_| {
            Error::new(
                PROTO,
                ErrorKind::BadLength,
                field::TOTAL_LEN.start,
                "datagram over 65535",
            )
        })?;
        if self.frag_offset > FRAG_OFFSET_MASK {
            return Err(Error::new(
                PROTO,
                ErrorKind::BadValue,
                field::FLAGS_FRAG.start,
                "fragment offset over 13 bits",
            ));
        }
        need(PROTO, buf, hl)?;
        let mut p = Packet::new_unchecked(&mut buf[..hl]);
        p.set_version_header_len(hl);
        p.set_ds_field(self.ds_field);
        p.set_total_len(total);
        p.set_ident(self.ident);
        let flags = u8::from(self.reserved_flag) << 2
            | u8::from(self.dont_frag) << 1
            | u8::from(self.more_frags);
        p.set_flags_frag_offset(flags, self.frag_offset);
        p.set_ttl(self.ttl);
        p.set_protocol(self.protocol);
        p.set_src_addr(self.src_addr);
        p.set_dst_addr(self.dst_addr);
        p.options_mut().copy_from_slice(self.options.as_slice());
        p.fill_checksum();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[rustfmt::skip]
    const ICMP_ECHO: [u8; 28] = [
        0x45, 0x00, 0x00, 0x1c,             // version 4, IHL 5, DS 0, total length 28
        0x12, 0x34, 0x40, 0x00,             // id 0x1234, DF, offset 0
        0x40, 0x01, 0x00, 0x00,             // TTL 64, protocol ICMP, checksum (filled below)
        192, 0, 2, 1,                       // source 192.0.2.1
        192, 0, 2, 2,                       // destination 192.0.2.2
        0x08, 0x00, 0xf7, 0xfe, 0x00, 0x01, 0x00, 0x00, // ICMP echo request
    ];

    fn echo() -> [u8; 28] {
        let mut b = ICMP_ECHO;
        Packet::new_unchecked(&mut b[..]).fill_checksum();
        b
    }

    #[test]
    fn parse_echo() {
        let b = echo();
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!((p.version(), p.header_len(), p.total_len()), (4, 20, 28));
        assert_eq!(p.ident(), 0x1234);
        assert_eq!(p.flags(), 0x2);
        assert!(p.dont_frag() && !p.more_frags() && !p.reserved_flag());
        assert_eq!(p.frag_offset(), 0);
        assert_eq!((p.ttl(), p.protocol()), (64, IpProtocol::ICMP));
        assert!(p.verify_checksum());
        assert_eq!(p.checksum(), 0xa4a9); // as scapy computes it
        assert_eq!(p.src_addr(), Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(p.dst_addr(), Ipv4Addr::new(192, 0, 2, 2));
        assert_eq!(p.payload().len(), 8);
        let r = Repr::parse(&p).unwrap();
        assert_eq!(r.payload_len, 8);
    }

    #[test]
    fn malformed() {
        let b = echo();
        assert!(matches!(
            Packet::new_checked(&b[..19]).unwrap_err().kind,
            ErrorKind::Truncated {
                needed: 20,
                available: 19
            }
        ));
        let mut bad = b;
        bad[0] = 0x65;
        assert_eq!(
            Packet::new_checked(&bad[..]).unwrap_err().kind,
            ErrorKind::BadVersion
        );
        bad[0] = 0x44;
        assert_eq!(
            Packet::new_checked(&bad[..]).unwrap_err().kind,
            ErrorKind::BadLength
        );
        bad[0] = 0x4f; // 60-byte header in a 28-byte buffer
        assert!(matches!(
            Packet::new_lenient(&bad[..]).unwrap_err().kind,
            ErrorKind::Truncated {
                needed: 60,
                available: 28
            }
        ));
        let short = &b[..24];
        assert_eq!(
            Packet::new_checked(short).unwrap_err().kind,
            ErrorKind::BadLength
        );
        let lenient = Packet::new_lenient(short).unwrap();
        assert!(lenient.is_truncated());
        assert_eq!(lenient.payload().len(), 4);
        let mut sum = b;
        sum[11] ^= 1;
        let p = Packet::new_checked(&sum[..]).unwrap();
        assert!(!p.verify_checksum());
        assert_eq!(Repr::parse(&p).unwrap_err().kind, ErrorKind::BadChecksum);
    }

    #[test]
    fn options_walk() {
        // Router Alert, NOP, Record Route cut short by the end of the options.
        let opts = [0x94, 0x04, 0x00, 0x00, 0x01, 0x07, 0x09, 0x04];
        let mut it = OptionsIter::new(&opts);
        let ra = it.next().unwrap().unwrap();
        assert_eq!((ra.kind, ra.data()), (option::ROUTER_ALERT, &[0u8, 0][..]));
        assert_eq!(it.next().unwrap().unwrap().kind, option::NO_OPERATION);
        let e = it.next().unwrap().unwrap_err();
        assert_eq!((e.kind, e.offset), (ErrorKind::BadOption, 25));
        assert!(it.next().is_none());
        // EOL ends the walk; zero lengths are refused rather than looped on.
        assert_eq!(OptionsIter::new(&[0, 0x07, 0x00, 0]).count(), 1);
        assert!(
            OptionsIter::new(&[0x07, 0x00, 0, 0])
                .next()
                .unwrap()
                .is_err()
        );
    }

    #[test]
    fn decrement_ttl_keeps_checksum_valid() {
        let mut b = echo();
        let mut p = Packet::new_unchecked(&mut b[..]);
        p.decrement_ttl();
        assert_eq!(p.ttl(), 63);
        assert!(p.verify_checksum());
    }

    proptest! {
        #[test]
        fn emit_parse_identity(ds: u8, ident: u16, rf: bool, df: bool, mf: bool,
                               off in 0u16..0x2000, ttl: u8, proto: u8, src: [u8; 4],
                               dst: [u8; 4], words in 0usize..=10,
                               opt in proptest::collection::vec(any::<u8>(), 40),
                               plen in 0u16..1000) {
            let repr = Repr {
                ds_field: ds, ident, reserved_flag: rf, dont_frag: df, more_frags: mf,
                frag_offset: off, ttl, protocol: IpProtocol(proto), src_addr: src.into(),
                dst_addr: dst.into(), options: Options::new(&opt[..words * 4]).unwrap(),
                payload_len: plen,
            };
            let mut buf = vec![0u8; repr.buffer_len() + usize::from(plen)];
            repr.emit(&mut buf).unwrap();
            let p = Packet::new_checked(&buf[..]).unwrap();
            prop_assert!(p.verify_checksum());
            prop_assert_eq!(Repr::parse(&p).unwrap(), repr);
        }

        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..100)) {
            if let Ok(p) = Packet::new_lenient(&data[..]) {
                let _ = Repr::parse(&p);
                let _ = (p.payload(), p.is_truncated(), p.verify_checksum(), p.flags());
                for o in OptionsIter::new(p.options()) {
                    let _ = o.map(|o| o.data());
                }
            }
            let _ = Packet::new_checked(&data[..]);
        }
    }
}
