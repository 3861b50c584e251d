//! Multicast Listener Discovery: MLDv1 (RFC 2710 §3) and MLDv2 (RFC 3810 §5).
//!
//! ```text
//! MLDv1 Query / Report / Done          MLDv2 Query (130, length >= 28)
//! +-------+-------+---------------+   +-------+-------+---------------+
//! | Type  | Code  |   Checksum    |   | Type  | Code  |   Checksum    |
//! +-------+-------+---------------+   +-------+-------+---------------+
//! | Max Resp Delay|   Reserved    |   | Max Resp Code |   Reserved    |
//! +---------------+---------------+   +---------------+---------------+
//! |   Multicast Address (128)     |   |   Multicast Address (128)     |
//! +-------------------------------+   +-------+-------+---------------+
//!                                     |Rsv|S|QRV| QQIC | Nr of Sources |
//! MLDv2 Report (143)                  +-------+-------+---------------+
//! +-------+-------+---------------+   |   Source Addresses [n] ...    |
//! | Type  | Code  |   Checksum    |
//! +-------+-------+---------------+   Multicast Address Record
//! |   Reserved    |  Nr of Records|   +-------+-------+---------------+
//! +---------------+---------------+   |RecType|AuxLen | Nr of Sources |
//! | Multicast Address Records ... |   +-------+-------+---------------+
//!                                     | Multicast Address (128)       |
//!                                     | Source Addresses [n] (128 each)|
//!                                     | Auxiliary Data (AuxLen words) |
//! ```
//!
//! Accessors are added to [`icmpv6::Packet`](crate::icmpv6::Packet); [`Repr`] is one arm
//! of [`icmpv6::Repr`](crate::icmpv6::Repr). Source lists and records are walked with
//! bounded iterators that never read past the message.

use core::net::Ipv6Addr;

use crate::error::{ErrorKind, Result};
use crate::icmpv6::{self, Message, Packet, bad, need_len};

mod field {
    pub const MAX_RESP: usize = 4;
    pub const MCAST_ADDR: usize = 8;
    pub const QUERY_FLAGS: usize = 24;
    pub const QQIC: usize = 25;
    pub const QUERY_NUM_SOURCES: usize = 26;
    pub const QUERY_SOURCES: usize = 28;
    pub const REPORT_NUM_RECORDS: usize = 6;
    pub const REPORT_RECORDS: usize = 8;
    // Within a multicast address record.
    pub const REC_TYPE: usize = 0;
    pub const REC_AUX_LEN: usize = 1;
    pub const REC_NUM_SOURCES: usize = 2;
    pub const REC_MCAST_ADDR: usize = 4;
    pub const REC_SOURCES: usize = 20;
}

/// MLDv1 messages (and an MLDv2 query is told from an MLDv1 one by length, RFC 3810 §8.1).
pub const V1_LEN: usize = field::QUERY_FLAGS;
pub const QUERY_V2_HEADER_LEN: usize = field::QUERY_SOURCES;
pub const REPORT_V2_HEADER_LEN: usize = field::REPORT_RECORDS;
pub const RECORD_HEADER_LEN: usize = field::REC_SOURCES;

/// Multicast Address Record types (RFC 3810 §5.2.12).
pub mod record_type {
    pub const MODE_IS_INCLUDE: u8 = 1;
    pub const MODE_IS_EXCLUDE: u8 = 2;
    pub const CHANGE_TO_INCLUDE: u8 = 3;
    pub const CHANGE_TO_EXCLUDE: u8 = 4;
    pub const ALLOW_NEW_SOURCES: u8 = 5;
    pub const BLOCK_OLD_SOURCES: u8 = 6;
}

/// The Maximum Response Delay in milliseconds from the Maximum Response Code
/// (RFC 3810 §5.1.3): linear below 32768, then a 3-bit exponent and 12-bit mantissa.
pub const fn decode_max_resp_code(code: u16) -> u32 {
    if code < 0x8000 {
        code as u32
    } else {
        let exp = (code >> 12) & 0x7;
        let mant = (code & 0x0fff) as u32;
        (mant | 0x1000) << (exp + 3)
    }
}

/// The Querier's Query Interval in seconds from the QQIC (RFC 3810 §5.1.9): linear below
/// 128, then a 3-bit exponent and 4-bit mantissa.
pub const fn decode_qqic(qqic: u8) -> u32 {
    if qqic < 0x80 {
        qqic as u32
    } else {
        let exp = (qqic >> 4) & 0x7;
        let mant = (qqic & 0x0f) as u32;
        (mant | 0x10) << (exp + 3)
    }
}

/// The smallest code whose decoded value is at least `ms` (saturating at 0xffff).
pub const fn encode_max_resp_code(ms: u32) -> u16 {
    if ms < 0x8000 {
        return ms as u16;
    }
    let mut exp = 0;
    while exp < 8 {
        // The largest mantissa at this exponent covers up to 0x1fff << (exp + 3).
        let unit = 1u32 << (exp + 3);
        let mant = ms.div_ceil(unit);
        if mant <= 0x1fff {
            return 0x8000 | (exp as u16) << 12 | (mant as u16 & 0x0fff);
        }
        exp += 1;
    }
    0xffff
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// MLDv1: the Maximum Response Delay in milliseconds; MLDv2: the Maximum Response
    /// Code (see [`decode_max_resp_code`]).
    pub fn max_resp_code(&self) -> u16 {
        self.read_u16(field::MAX_RESP)
    }

    pub fn mcast_addr(&self) -> Ipv6Addr {
        self.read_addr(field::MCAST_ADDR)
    }

    /// Whether a Multicast Listener Query is an MLDv2 one (RFC 3810 §8.1: length >= 28).
    pub fn is_query_v2(&self) -> bool {
        self.msg_type() == Message::MLD_QUERY && self.bytes().len() >= QUERY_V2_HEADER_LEN
    }

    /// MLDv2 query: the byte holding Resv, S and QRV.
    pub fn query_flags(&self) -> u8 {
        self.read::<1>(field::QUERY_FLAGS)[0]
    }

    /// MLDv2 query: Suppress Router-Side Processing.
    pub fn s_flag(&self) -> bool {
        self.query_flags() & 0x08 != 0
    }

    /// MLDv2 query: the Querier's Robustness Variable.
    pub fn qrv(&self) -> u8 {
        self.query_flags() & 0x07
    }

    pub fn qqic(&self) -> u8 {
        self.read::<1>(field::QQIC)[0]
    }

    /// MLDv2 query: the Number of Sources field.
    pub fn query_num_sources(&self) -> u16 {
        self.read_u16(field::QUERY_NUM_SOURCES)
    }

    /// MLDv2 report: the Nr of Mcast Address Records field.
    pub fn num_records(&self) -> u16 {
        self.read_u16(field::REPORT_NUM_RECORDS)
    }
}

impl<'a> Packet<&'a [u8]> {
    /// MLDv2 query: the sources the Number of Sources field announces that are present.
    pub fn into_query_sources(self) -> AddrIter<'a> {
        AddrIter::new(
            self.into_tail(field::QUERY_SOURCES),
            usize::from(self.query_num_sources()),
        )
    }

    /// MLDv2 report: the records area.
    pub fn into_records(self) -> &'a [u8] {
        self.into_tail(field::REPORT_RECORDS)
    }

    /// MLDv2 report: the records the count announces, walked within the message.
    pub fn records(self) -> RecordIter<'a> {
        RecordIter::new(self.into_records(), self.num_records())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn put(&mut self, at: usize, bytes: &[u8]) {
        self.buffer.as_mut()[at..at + bytes.len()].copy_from_slice(bytes);
    }

    pub fn set_max_resp_code(&mut self, v: u16) {
        self.put(field::MAX_RESP, &v.to_be_bytes());
    }

    pub fn set_mcast_addr(&mut self, a: Ipv6Addr) {
        self.put(field::MCAST_ADDR, &a.octets());
    }

    pub fn set_query_flags(&mut self, v: u8) {
        self.put(field::QUERY_FLAGS, &[v]);
    }

    pub fn set_qqic(&mut self, v: u8) {
        self.put(field::QQIC, &[v]);
    }

    pub fn set_query_num_sources(&mut self, v: u16) {
        self.put(field::QUERY_NUM_SOURCES, &v.to_be_bytes());
    }

    pub fn set_num_records(&mut self, v: u16) {
        self.put(field::REPORT_NUM_RECORDS, &v.to_be_bytes());
    }
}

/// Up to `count` IPv6 addresses from a byte area; stops early when the area ends.
#[derive(Debug, Clone)]
pub struct AddrIter<'a> {
    rest: &'a [u8],
    left: usize,
}

impl<'a> AddrIter<'a> {
    pub fn new(area: &'a [u8], count: usize) -> Self {
        Self {
            rest: area,
            left: count,
        }
    }
}

impl Iterator for AddrIter<'_> {
    type Item = Ipv6Addr;

    fn next(&mut self) -> Option<Ipv6Addr> {
        if self.left == 0 {
            return None;
        }
        let (a, rest) = self.rest.split_first_chunk::<16>()?;
        self.rest = rest;
        self.left -= 1;
        Some(Ipv6Addr::from(*a))
    }
}

/// One Multicast Address Record (RFC 3810 §5.2.4), checked to fit its buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    buffer: &'a [u8],
}

impl<'a> Record<'a> {
    /// Checks the fixed part, the sources and the auxiliary data all fit `buf`; the
    /// record is cut to its own length.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self> {
        need_len(buf, RECORD_HEADER_LEN)?;
        let r = Record { buffer: buf };
        let len = r.len();
        if len > buf.len() {
            return Err(bad(
                ErrorKind::BadLength,
                field::REC_NUM_SOURCES,
                "multicast address record runs past the message",
            ));
        }
        Ok(Record {
            buffer: &buf[..len],
        })
    }

    pub fn record_type(&self) -> u8 {
        self.buffer[field::REC_TYPE]
    }

    /// In 32-bit words.
    pub fn aux_data_len(&self) -> u8 {
        self.buffer[field::REC_AUX_LEN]
    }

    pub fn num_sources(&self) -> u16 {
        u16::from_be_bytes([
            self.buffer[field::REC_NUM_SOURCES],
            self.buffer[field::REC_NUM_SOURCES + 1],
        ])
    }

    pub fn mcast_addr(&self) -> Ipv6Addr {
        let mut a = [0u8; 16];
        a.copy_from_slice(&self.buffer[field::REC_MCAST_ADDR..field::REC_SOURCES]);
        Ipv6Addr::from(a)
    }

    /// The record's length from its fields.
    pub fn len(&self) -> usize {
        RECORD_HEADER_LEN
            + 16 * usize::from(self.num_sources())
            + 4 * usize::from(self.aux_data_len())
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn sources(&self) -> AddrIter<'a> {
        AddrIter::new(self.source_bytes(), usize::from(self.num_sources()))
    }

    fn source_bytes(&self) -> &'a [u8] {
        let end = RECORD_HEADER_LEN + 16 * usize::from(self.num_sources());
        &self.buffer[RECORD_HEADER_LEN..end]
    }

    pub fn aux_data(&self) -> &'a [u8] {
        &self.buffer[RECORD_HEADER_LEN + 16 * usize::from(self.num_sources())..]
    }
}

/// The records of an MLDv2 report: at most the count announced, each checked to fit;
/// the first that does not ends the walk with its error.
#[derive(Debug, Clone)]
pub struct RecordIter<'a> {
    rest: &'a [u8],
    left: u16,
    offset: usize,
}

impl<'a> RecordIter<'a> {
    pub fn new(area: &'a [u8], count: u16) -> Self {
        Self {
            rest: area,
            left: count,
            offset: 0,
        }
    }
}

impl<'a> Iterator for RecordIter<'a> {
    type Item = Result<Record<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        match Record::new_checked(self.rest) {
            Ok(r) => {
                self.left -= 1;
                self.rest = &self.rest[r.len()..];
                self.offset += r.len();
                Some(Ok(r))
            }
            Err(e) => {
                self.left = 0;
                Some(Err(e.at(REPORT_V2_HEADER_LEN + self.offset)))
            }
        }
    }
}

/// A Multicast Address Record as values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordRepr<'a> {
    pub record_type: u8,
    pub mcast_addr: Ipv6Addr,
    /// The source addresses, 16 bytes each.
    pub sources: &'a [u8],
    /// A multiple of 4 bytes.
    pub aux_data: &'a [u8],
}

impl<'a> RecordRepr<'a> {
    pub fn parse(r: &Record<'a>) -> Self {
        Self {
            record_type: r.record_type(),
            mcast_addr: r.mcast_addr(),
            sources: r.source_bytes(),
            aux_data: r.aux_data(),
        }
    }

    pub fn buffer_len(&self) -> usize {
        RECORD_HEADER_LEN + self.sources.len() + self.aux_data.len()
    }

    /// Writes the record; the source and aux data lengths must be multiples of 16 and 4
    /// and fit their count fields.
    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        let nsrc = self.sources.len() / 16;
        let aux = self.aux_data.len() / 4;
        if !self.sources.len().is_multiple_of(16)
            || nsrc > usize::from(u16::MAX)
            || !self.aux_data.len().is_multiple_of(4)
            || aux > 255
        {
            return Err(bad(
                ErrorKind::BadLength,
                0,
                "record sources or aux data of a bad length",
            ));
        }
        need_len(buf, self.buffer_len())?;
        buf[field::REC_TYPE] = self.record_type;
        buf[field::REC_AUX_LEN] = aux as u8;
        buf[field::REC_NUM_SOURCES..field::REC_MCAST_ADDR]
            .copy_from_slice(&(nsrc as u16).to_be_bytes());
        buf[field::REC_MCAST_ADDR..field::REC_SOURCES].copy_from_slice(&self.mcast_addr.octets());
        let s = RECORD_HEADER_LEN + self.sources.len();
        buf[RECORD_HEADER_LEN..s].copy_from_slice(self.sources);
        buf[s..s + self.aux_data.len()].copy_from_slice(self.aux_data);
        Ok(())
    }
}

/// An MLD message as values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repr<'a> {
    /// RFC 2710 §3.6: `max_resp_delay` in milliseconds.
    QueryV1 {
        max_resp_delay: u16,
        mcast_addr: Ipv6Addr,
    },
    QueryV2 {
        /// Encoded (see [`decode_max_resp_code`]).
        max_resp_code: u16,
        mcast_addr: Ipv6Addr,
        /// Resv, S and QRV as sent.
        flags: u8,
        qqic: u8,
        /// The source addresses, 16 bytes each (as many as Number of Sources says).
        sources: &'a [u8],
    },
    Report {
        mcast_addr: Ipv6Addr,
    },
    Done {
        mcast_addr: Ipv6Addr,
    },
    /// `records` is the checked records area holding `num_records` records.
    ReportV2 {
        num_records: u16,
        records: &'a [u8],
    },
}

impl<'a> Repr<'a> {
    pub fn parse(p: &Packet<&'a [u8]>) -> Result<Self> {
        let b: &'a [u8] = p.buffer;
        Ok(match p.msg_type() {
            Message::MLD_QUERY if p.is_query_v2() => {
                let n = usize::from(p.query_num_sources());
                need_len(b, QUERY_V2_HEADER_LEN + 16 * n)?;
                Repr::QueryV2 {
                    max_resp_code: p.max_resp_code(),
                    mcast_addr: p.mcast_addr(),
                    flags: p.query_flags(),
                    qqic: p.qqic(),
                    sources: &b[QUERY_V2_HEADER_LEN..QUERY_V2_HEADER_LEN + 16 * n],
                }
            }
            Message::MLD_QUERY | Message::MLD_REPORT | Message::MLD_DONE => {
                // RFC 3810 §8.1: a query of length 25-27 is neither version; ignore it.
                if b.len() < V1_LEN || (p.msg_type() == Message::MLD_QUERY && b.len() != V1_LEN) {
                    return Err(bad(
                        ErrorKind::BadLength,
                        0,
                        "MLD message of an invalid length",
                    ));
                }
                let mcast_addr = p.mcast_addr();
                match p.msg_type() {
                    Message::MLD_QUERY => Repr::QueryV1 {
                        max_resp_delay: p.max_resp_code(),
                        mcast_addr,
                    },
                    Message::MLD_REPORT => Repr::Report { mcast_addr },
                    _ => Repr::Done { mcast_addr },
                }
            }
            Message::MLDV2_REPORT => {
                need_len(b, REPORT_V2_HEADER_LEN)?;
                let mut len = 0;
                for r in p.records() {
                    len += r?.len();
                }
                Repr::ReportV2 {
                    num_records: p.num_records(),
                    records: &b[REPORT_V2_HEADER_LEN..REPORT_V2_HEADER_LEN + len],
                }
            }
            _ => return Err(bad(ErrorKind::BadValue, 0, "not an MLD message")),
        })
    }

    pub fn msg_type(&self) -> Message {
        match self {
            Repr::QueryV1 { .. } | Repr::QueryV2 { .. } => Message::MLD_QUERY,
            Repr::Report { .. } => Message::MLD_REPORT,
            Repr::Done { .. } => Message::MLD_DONE,
            Repr::ReportV2 { .. } => Message::MLDV2_REPORT,
        }
    }

    /// The records of a version 2 report (empty for other messages).
    pub fn records(&self) -> RecordIter<'a> {
        match self {
            Repr::ReportV2 {
                num_records,
                records,
            } => RecordIter::new(records, *num_records),
            _ => RecordIter::new(&[], 0),
        }
    }

    pub fn buffer_len(&self) -> usize {
        match self {
            Repr::QueryV1 { .. } | Repr::Report { .. } | Repr::Done { .. } => V1_LEN,
            Repr::QueryV2 { sources, .. } => QUERY_V2_HEADER_LEN + sources.len(),
            Repr::ReportV2 { records, .. } => REPORT_V2_HEADER_LEN + records.len(),
        }
    }

    /// Writes everything after type, code and checksum into a zeroed, exactly sized
    /// message buffer (see [`icmpv6::Repr::emit`]).
    pub(crate) fn emit_body(&self, buf: &mut [u8]) -> Result<()> {
        need_len(buf, self.buffer_len())?;
        let mut p = Packet::new_unchecked(&mut *buf);
        match *self {
            Repr::QueryV1 {
                max_resp_delay,
                mcast_addr,
            } => {
                p.set_max_resp_code(max_resp_delay);
                p.set_mcast_addr(mcast_addr);
            }
            Repr::Report { mcast_addr } | Repr::Done { mcast_addr } => p.set_mcast_addr(mcast_addr),
            Repr::QueryV2 {
                max_resp_code,
                mcast_addr,
                flags,
                qqic,
                sources,
            } => {
                if sources.len() % 16 != 0 || sources.len() / 16 > usize::from(u16::MAX) {
                    return Err(bad(
                        ErrorKind::BadLength,
                        field::QUERY_NUM_SOURCES,
                        "sources are not whole addresses",
                    ));
                }
                p.set_max_resp_code(max_resp_code);
                p.set_mcast_addr(mcast_addr);
                p.set_query_flags(flags);
                p.set_qqic(qqic);
                p.set_query_num_sources((sources.len() / 16) as u16);
                buf[QUERY_V2_HEADER_LEN..].copy_from_slice(sources);
            }
            Repr::ReportV2 {
                num_records,
                records,
            } => {
                p.set_num_records(num_records);
                buf[REPORT_V2_HEADER_LEN..].copy_from_slice(records);
            }
        }
        Ok(())
    }
}

impl<'a> From<Repr<'a>> for icmpv6::Repr<'a> {
    fn from(r: Repr<'a>) -> Self {
        icmpv6::Repr::Mld(r)
    }
}

/// Writes records one after another into `buf`; returns the bytes written.
pub fn emit_records(records: &[RecordRepr<'_>], buf: &mut [u8]) -> Result<usize> {
    let mut at = 0;
    for r in records {
        r.emit(buf.get_mut(at..).unwrap_or_default())
            .map_err(|e| e.at(at))?;
        at += r.buffer_len();
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SRC: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
    const DST: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x16);

    #[rustfmt::skip]
    const REPORT2: [u8; 64] = [
        0x8f, 0x00, 0x00, 0x00,             // MLDv2 report, code 0, checksum
        0x00, 0x00, 0x00, 0x02,             // reserved, 2 records
        0x04, 0x00, 0x00, 0x01,             // CHANGE_TO_EXCLUDE, aux 0, 1 source
        0xff, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, // ff05::1
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x07, // 2001:db8::7
        0x01, 0x01, 0x00, 0x00,             // MODE_IS_INCLUDE, aux 1 word, 0 sources
        0xff, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, // ff05::2
    ];

    #[rustfmt::skip]
    const QUERY2: [u8; 28] = [
        0x82, 0x00, 0x00, 0x00,             // MLD query, code 0, checksum
        0x9c, 0x40, 0x00, 0x00,             // max resp code 0x9c40, reserved
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // general query (::)
        0x0a, 0xc8,                         // S, QRV 2; QQIC 0xc8
        0x00, 0x00,                         // no sources
    ];

    #[test]
    fn codes() {
        // RFC 3810 §5.1.3 and §5.1.9 exponential forms.
        assert_eq!(decode_max_resp_code(10000), 10000);
        assert_eq!(decode_max_resp_code(0x9c40), 115_712);
        assert_eq!(decode_qqic(125), 125);
        assert_eq!(decode_qqic(0xc8), 3072);
        assert_eq!(decode_max_resp_code(0xffff), 0x1fff << 10);
        for ms in [0u32, 1, 32767, 32768, 40000, 115_712, 8_000_000] {
            assert!(decode_max_resp_code(encode_max_resp_code(ms)) >= ms.min(0x1fff << 10));
        }
    }

    #[test]
    fn parse_query_and_report() {
        let p = Packet::new_checked(&QUERY2[..]).unwrap();
        assert!(p.is_query_v2());
        assert!(p.s_flag());
        assert_eq!(p.qrv(), 2);
        assert_eq!(
            Repr::parse(&p).unwrap(),
            Repr::QueryV2 {
                max_resp_code: 0x9c40,
                mcast_addr: Ipv6Addr::UNSPECIFIED,
                flags: 0x0a,
                qqic: 0xc8,
                sources: &[]
            }
        );
        // The last record's aux data is missing: the walk stops with an error.
        let p = Packet::new_checked(&REPORT2[..]).unwrap();
        let mut it = p.records();
        let r = it.next().unwrap().unwrap();
        assert_eq!(r.record_type(), record_type::CHANGE_TO_EXCLUDE);
        assert_eq!(
            r.sources().collect::<Vec<_>>(),
            ["2001:db8::7".parse::<Ipv6Addr>().unwrap()]
        );
        assert!(it.next().unwrap().is_err());
        assert!(it.next().is_none());
        assert!(Repr::parse(&p).is_err());
        let mut whole = REPORT2.to_vec();
        whole.extend_from_slice(b"abcd");
        let p = Packet::new_checked(&whole[..]).unwrap();
        let r = Repr::parse(&p).unwrap();
        let recs: Vec<_> = r
            .records()
            .map(|r| RecordRepr::parse(&r.unwrap()))
            .collect();
        assert_eq!(recs[1].aux_data, b"abcd");
    }

    #[test]
    fn bounded_when_counts_lie() {
        let mut q = QUERY2;
        q[26] = 0xff;
        let p = Packet::new_checked(&q[..]).unwrap();
        assert_eq!(p.into_query_sources().count(), 0);
        assert!(Repr::parse(&p).is_err());
        let mut r = REPORT2;
        r[6] = 0xff;
        assert!(Packet::new_checked(&r[..]).unwrap().records().count() <= 3);
    }

    proptest! {
        #[test]
        fn emit_parse_identity(kind in 0u8..5, code: u16, flags: u8, qqic: u8, a: [u8; 16],
                               nsrc in 0usize..3, naux in 0usize..3, nrec in 0usize..3) {
            let srcs: Vec<u8> = a.iter().cycle().take(16 * nsrc).copied().collect();
            let aux: Vec<u8> = a.iter().cycle().take(4 * naux).copied().collect();
            let recs: Vec<RecordRepr> = (0..nrec).map(|i| RecordRepr {
                record_type: i as u8 + 1, mcast_addr: a.into(), sources: &srcs, aux_data: &aux,
            }).collect();
            let mut area = vec![0u8; recs.iter().map(RecordRepr::buffer_len).sum()];
            emit_records(&recs, &mut area).unwrap();
            let r = match kind {
                0 => Repr::QueryV1 { max_resp_delay: code, mcast_addr: a.into() },
                1 => Repr::QueryV2 { max_resp_code: code, mcast_addr: a.into(), flags, qqic, sources: &srcs },
                2 => Repr::Report { mcast_addr: a.into() },
                3 => Repr::Done { mcast_addr: a.into() },
                _ => Repr::ReportV2 { num_records: nrec as u16, records: &area },
            };
            let whole = icmpv6::Repr::from(r);
            let mut buf = vec![0u8; whole.buffer_len()];
            whole.emit(&SRC, &DST, &mut buf).unwrap();
            let p = Packet::new_checked(&buf[..]).unwrap();
            prop_assert!(p.verify_checksum(&SRC, &DST));
            prop_assert_eq!(icmpv6::Repr::parse(&p).unwrap(), whole);
            if kind == 4 {
                prop_assert_eq!(whole_records(&r), recs);
            }
        }

        #[test]
        fn never_panics(t in 0x82u8..0x90, data in proptest::collection::vec(any::<u8>(), 0..160)) {
            let mut data = data;
            if let Some(b) = data.first_mut() {
                *b = if t > 0x84 { 0x8f } else { t };
            }
            if let Ok(p) = Packet::new_lenient(&data[..]) {
                let _ = (p.max_resp_code(), p.mcast_addr(), p.qrv(), p.qqic(), p.num_records());
                let _ = p.into_query_sources().count();
                for r in p.records().flatten() {
                    let _ = (r.sources().count(), r.aux_data(), RecordRepr::parse(&r));
                }
                let _ = Repr::parse(&p);
            }
        }
    }

    fn whole_records<'a>(r: &Repr<'a>) -> Vec<RecordRepr<'a>> {
        r.records()
            .map(|x| RecordRepr::parse(&x.unwrap()))
            .collect()
    }
}
