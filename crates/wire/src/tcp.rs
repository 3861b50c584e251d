//! The TCP header (RFC 9293 §3.1) and its options: MSS (RFC 9293 §3.2), Window Scale and
//! Timestamps (RFC 7323), SACK-Permitted and SACK (RFC 2018).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |          Source Port          |       Destination Port        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                        Sequence Number                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Acknowledgment Number                      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Data |     |A|C|E|U|A|P|R|S|F|                               |
//! | Offset| Rsv |E|W|C|R|C|S|S|Y|I|            Window             |
//! |       |     | |R|E|G|K|H|T|N|N|                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |           Checksum            |         Urgent Pointer        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                           [Options]                           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                             Data                              :
//! ```
//!
//! AE (Accurate ECN, RFC 9768; formerly NS, RFC 3540) is the lowest of the four bits RFC
//! 9293 calls reserved. The segment's length is the IP payload's: TCP has no length field.

use core::cmp::Ordering;
use core::fmt;
use core::ops;

use crate::error::{Error, ErrorKind, Result, need};
use crate::proto::IpProtocol;
pub use crate::udp::PseudoHeader;

const PROTO: &str = "tcp";

mod field {
    use core::ops::Range;
    pub const SRC_PORT: Range<usize> = 0..2;
    pub const DST_PORT: Range<usize> = 2..4;
    pub const SEQ_NUM: Range<usize> = 4..8;
    pub const ACK_NUM: Range<usize> = 8..12;
    /// Data offset (4 bits), reserved (3 bits), then the nine flag bits.
    pub const OFF_FLAGS: Range<usize> = 12..14;
    pub const WINDOW: Range<usize> = 14..16;
    pub const CHECKSUM: Range<usize> = 16..18;
    pub const URGENT: Range<usize> = 18..20;
}

/// The fixed header, without options.
pub const HEADER_LEN: usize = 20;
/// The longest header: data offset 15 words.
pub const MAX_HEADER_LEN: usize = 60;
/// The longest options area.
pub const MAX_OPTIONS_LEN: usize = MAX_HEADER_LEN - HEADER_LEN;

/// Option kinds (IANA "TCP Option Kind Numbers").
pub mod kind {
    pub const EOL: u8 = 0x00;
    pub const NOP: u8 = 0x01;
    pub const MSS: u8 = 0x02;
    pub const WINDOW_SCALE: u8 = 0x03;
    pub const SACK_PERMITTED: u8 = 0x04;
    pub const SACK: u8 = 0x05;
    pub const TIMESTAMPS: u8 = 0x08;
}

/// A sequence number, compared modulo 2^32 (RFC 9293 §3.4): `a < b` when `b` lies less
/// than 2^31 ahead of `a`. Not a total order, so no `Ord`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SeqNumber(pub u32);

impl SeqNumber {
    /// The signed distance from `other` to `self`, wrapping.
    pub fn diff(self, other: SeqNumber) -> i32 {
        self.0.wrapping_sub(other.0) as i32
    }

    /// Whether `self` lies in `[start, start + len)`, the acceptability test of RFC 9293 §3.10.7.4.
    pub fn in_window(self, start: SeqNumber, len: u32) -> bool {
        self.0.wrapping_sub(start.0) < len
    }

    pub fn max(self, other: SeqNumber) -> SeqNumber {
        if self.diff(other) >= 0 { self } else { other }
    }

    pub fn min(self, other: SeqNumber) -> SeqNumber {
        if self.diff(other) <= 0 { self } else { other }
    }
}

impl PartialOrd for SeqNumber {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.diff(*other).cmp(&0))
    }
}

impl ops::Add<u32> for SeqNumber {
    type Output = SeqNumber;
    fn add(self, rhs: u32) -> SeqNumber {
        SeqNumber(self.0.wrapping_add(rhs))
    }
}

impl ops::AddAssign<u32> for SeqNumber {
    fn add_assign(&mut self, rhs: u32) {
        self.0 = self.0.wrapping_add(rhs);
    }
}

impl ops::Sub<u32> for SeqNumber {
    type Output = SeqNumber;
    fn sub(self, rhs: u32) -> SeqNumber {
        SeqNumber(self.0.wrapping_sub(rhs))
    }
}

impl ops::Sub for SeqNumber {
    type Output = i32;
    fn sub(self, rhs: SeqNumber) -> i32 {
        self.diff(rhs)
    }
}

impl fmt::Display for SeqNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The twelve bits after the data offset: three reserved, AE, CWR, ECE, URG, ACK, PSH, RST,
/// SYN, FIN. The reserved bits are kept as received.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Flags(pub u16);

impl Flags {
    pub const FIN: Self = Self(0x001);
    pub const SYN: Self = Self(0x002);
    pub const RST: Self = Self(0x004);
    pub const PSH: Self = Self(0x008);
    pub const ACK: Self = Self(0x010);
    pub const URG: Self = Self(0x020);
    pub const ECE: Self = Self(0x040);
    pub const CWR: Self = Self(0x080);
    /// Accurate ECN (RFC 9768), formerly the ECN-nonce NS bit (RFC 3540, historic).
    pub const AE: Self = Self(0x100);
    pub const RESERVED: Self = Self(0xe00);
    const MASK: u16 = 0xfff;

    pub const fn empty() -> Self {
        Self(0)
    }

    pub const fn bits(self) -> u16 {
        self.0
    }

    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    pub const fn fin(self) -> bool {
        self.contains(Self::FIN)
    }
    pub const fn syn(self) -> bool {
        self.contains(Self::SYN)
    }
    pub const fn rst(self) -> bool {
        self.contains(Self::RST)
    }
    pub const fn psh(self) -> bool {
        self.contains(Self::PSH)
    }
    pub const fn ack(self) -> bool {
        self.contains(Self::ACK)
    }
    pub const fn urg(self) -> bool {
        self.contains(Self::URG)
    }
    pub const fn ece(self) -> bool {
        self.contains(Self::ECE)
    }
    pub const fn cwr(self) -> bool {
        self.contains(Self::CWR)
    }
    pub const fn ae(self) -> bool {
        self.contains(Self::AE)
    }
    pub const fn reserved(self) -> u16 {
        (self.0 & Self::RESERVED.0) >> 9
    }
}

impl ops::BitOr for Flags {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

impl ops::BitOrAssign for Flags {
    fn bitor_assign(&mut self, rhs: Self) {
        self.0 |= rhs.0;
    }
}

/// tcpdump's letters: `S.` for SYN-ACK, `none` for no flag; AE is `e`, CWR `W`.
impl fmt::Display for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let letters = [
            (Self::FIN, 'F'),
            (Self::SYN, 'S'),
            (Self::RST, 'R'),
            (Self::PSH, 'P'),
            (Self::ACK, '.'),
            (Self::URG, 'U'),
            (Self::ECE, 'E'),
            (Self::CWR, 'W'),
            (Self::AE, 'e'),
        ];
        let mut any = false;
        for (flag, c) in letters {
            if self.contains(flag) {
                write!(f, "{c}")?;
                any = true;
            }
        }
        if !any {
            f.write_str("none")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Flags({:#05x} [{self}])", self.0)
    }
}

/// Up to four SACK blocks (RFC 2018 §3: four fit in 40 option bytes), each the left edge
/// and the right edge (one past the block).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SackBlocks {
    blocks: [(SeqNumber, SeqNumber); 4],
    len: u8,
}

impl SackBlocks {
    pub const MAX: usize = 4;

    pub const fn new() -> Self {
        Self {
            blocks: [(SeqNumber(0), SeqNumber(0)); 4],
            len: 0,
        }
    }

    /// Adds a block; refuses a fifth.
    pub fn push(&mut self, left: SeqNumber, right: SeqNumber) -> bool {
        match self.blocks.get_mut(usize::from(self.len)) {
            Some(slot) => {
                *slot = (left, right);
                self.len += 1;
                true
            }
            None => false,
        }
    }

    pub fn as_slice(&self) -> &[(SeqNumber, SeqNumber)] {
        &self.blocks[..usize::from(self.len)]
    }

    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The option's length: kind, length, eight bytes a block.
    fn option_len(&self) -> usize {
        2 + 8 * self.len()
    }
}

impl fmt::Debug for SackBlocks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.as_slice().iter().map(|(l, r)| l.0..r.0))
            .finish()
    }
}

/// One option, as found in the options area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpOption<'a> {
    EndOfList,
    NoOperation,
    MaxSegmentSize(u16),
    /// The shift count as sent; see [`window_shift`] for the one to use.
    WindowScale(u8),
    SackPermitted,
    Sack(SackBlocks),
    Timestamps {
        tsval: u32,
        tsecr: u32,
    },
    /// Any other kind, with its data (after kind and length).
    Unknown {
        kind: u8,
        data: &'a [u8],
    },
}

impl TcpOption<'_> {
    pub fn kind(&self) -> u8 {
        match self {
            TcpOption::EndOfList => kind::EOL,
            TcpOption::NoOperation => kind::NOP,
            TcpOption::MaxSegmentSize(_) => kind::MSS,
            TcpOption::WindowScale(_) => kind::WINDOW_SCALE,
            TcpOption::SackPermitted => kind::SACK_PERMITTED,
            TcpOption::Sack(_) => kind::SACK,
            TcpOption::Timestamps { .. } => kind::TIMESTAMPS,
            TcpOption::Unknown { kind, .. } => *kind,
        }
    }

    /// The bytes this option takes in the header.
    pub fn buffer_len(&self) -> usize {
        match self {
            TcpOption::EndOfList | TcpOption::NoOperation => 1,
            TcpOption::MaxSegmentSize(_) => 4,
            TcpOption::WindowScale(_) => 3,
            TcpOption::SackPermitted => 2,
            TcpOption::Sack(s) => s.option_len(),
            TcpOption::Timestamps { .. } => 10,
            TcpOption::Unknown { data, .. } => 2 + data.len(),
        }
    }

    /// Writes the option at the start of `buf`, which must hold [`TcpOption::buffer_len`]
    /// bytes; returns that length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let n = self.buffer_len();
        if n > usize::from(u8::MAX) {
            return Err(Error::new(
                PROTO,
                ErrorKind::BadOption,
                0,
                "option longer than 255",
            ));
        }
        need(PROTO, buf, n)?;
        buf[0] = self.kind();
        if n > 1 {
            buf[1] = n as u8;
        }
        match self {
            TcpOption::EndOfList | TcpOption::NoOperation | TcpOption::SackPermitted => {}
            TcpOption::MaxSegmentSize(v) => buf[2..4].copy_from_slice(&v.to_be_bytes()),
            TcpOption::WindowScale(v) => buf[2] = *v,
            TcpOption::Sack(s) => {
                for (i, (l, r)) in s.as_slice().iter().enumerate() {
                    let at = 2 + 8 * i;
                    buf[at..at + 4].copy_from_slice(&l.0.to_be_bytes());
                    buf[at + 4..at + 8].copy_from_slice(&r.0.to_be_bytes());
                }
            }
            TcpOption::Timestamps { tsval, tsecr } => {
                buf[2..6].copy_from_slice(&tsval.to_be_bytes());
                buf[6..10].copy_from_slice(&tsecr.to_be_bytes());
            }
            TcpOption::Unknown { data, .. } => buf[2..n].copy_from_slice(data),
        }
        Ok(n)
    }
}

/// The window shift to use for a received Window Scale option.
pub fn window_shift(received: u8) -> u8 {
    // RFC 7323 §2.3: a shift above 14 MUST be used as 14.
    received.min(14)
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// A bounded walk over an options area. Yields each option with its offset in the TCP
/// header; ends after EOL, at the end of the area, or after the first error (a length
/// below 2, past the area, or wrong for its kind), so it cannot loop.
#[derive(Debug, Clone)]
pub struct OptionsIter<'a> {
    /// The options bytes present (may be cut short of `declared` in a lenient view).
    data: &'a [u8],
    /// The options area's length per the data offset.
    declared: usize,
    pos: usize,
    done: bool,
}

impl<'a> OptionsIter<'a> {
    /// A walk over `data`, the options area as the data offset declares it; `data` may be
    /// shorter than `declared` when the capture is cut.
    pub fn new(data: &'a [u8], declared: usize) -> Self {
        let data = &data[..data.len().min(declared)];
        Self {
            data,
            declared,
            pos: 0,
            done: false,
        }
    }

    /// The capture ends inside the option at `at`; the error points at the option.
    fn cut(&mut self, at: usize, needed: usize) -> Option<Result<(usize, TcpOption<'a>)>> {
        self.done = true;
        let available = HEADER_LEN + self.data.len();
        let kind = ErrorKind::Truncated { needed, available };
        Some(Err(Error::new(
            PROTO,
            kind,
            HEADER_LEN + at,
            "option cut short",
        )))
    }

    fn fail(&mut self, at: usize, reason: &'static str) -> Option<Result<(usize, TcpOption<'a>)>> {
        self.done = true;
        Some(Err(Error::new(
            PROTO,
            ErrorKind::BadOption,
            HEADER_LEN + at,
            reason,
        )))
    }
}

impl<'a> Iterator for OptionsIter<'a> {
    /// The option's offset from the start of the TCP header, and the option.
    type Item = Result<(usize, TcpOption<'a>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.pos >= self.declared {
            return None;
        }
        let at = self.pos;
        let offset = HEADER_LEN + at;
        let Some(&k) = self.data.get(at) else {
            return self.cut(at, offset + 1);
        };
        match k {
            kind::EOL => {
                // RFC 9293 §3.2: End of Option List ends the options; what follows is padding.
                self.done = true;
                return Some(Ok((offset, TcpOption::EndOfList)));
            }
            kind::NOP => {
                self.pos += 1;
                return Some(Ok((offset, TcpOption::NoOperation)));
            }
            _ => {}
        }
        if at + 2 > self.declared {
            return self.fail(at, "option length byte past the header");
        }
        let Some(&len) = self.data.get(at + 1) else {
            return self.cut(at, offset + 2);
        };
        let len = usize::from(len);
        if len < 2 {
            return self.fail(at, "option length below 2");
        }
        if at + len > self.declared {
            return self.fail(at, "option runs past the header");
        }
        if at + len > self.data.len() {
            return self.cut(at, offset + len);
        }
        let body = &self.data[at + 2..at + len];
        let opt = match (k, len) {
            (kind::MSS, 4) => TcpOption::MaxSegmentSize(u16::from_be_bytes([body[0], body[1]])),
            (kind::WINDOW_SCALE, 3) => TcpOption::WindowScale(body[0]),
            (kind::SACK_PERMITTED, 2) => TcpOption::SackPermitted,
            (kind::SACK, n) if n >= 10 && (n - 2) % 8 == 0 && n <= 34 => {
                let mut s = SackBlocks::new();
                for b in body.chunks_exact(8) {
                    s.push(SeqNumber(be32(&b[..4])), SeqNumber(be32(&b[4..])));
                }
                TcpOption::Sack(s)
            }
            (kind::TIMESTAMPS, 10) => TcpOption::Timestamps {
                tsval: be32(&body[..4]),
                tsecr: be32(&body[4..]),
            },
            (
                kind::MSS
                | kind::WINDOW_SCALE
                | kind::SACK_PERMITTED
                | kind::SACK
                | kind::TIMESTAMPS,
                _,
            ) => {
                return self.fail(at, "option length wrong for its kind");
            }
            (kind, _) => TcpOption::Unknown { kind, data: body },
        };
        self.pos += len;
        Some(Ok((offset, opt)))
    }
}

/// A view of a TCP segment.
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<'a> Packet<&'a [u8]> {
    /// The data after the options, borrowed for as long as the underlying bytes.
    pub fn into_payload(self) -> &'a [u8] {
        let at = self.header_len().min(self.buffer.len());
        &self.buffer[at..]
    }

    /// The options present, borrowed for as long as the underlying bytes.
    pub fn into_options(self) -> &'a [u8] {
        let end = self.header_len().min(self.buffer.len());
        &self.buffer[HEADER_LEN..end]
    }

    /// The walk over the options, borrowing the underlying bytes.
    pub fn into_options_iter(self) -> OptionsIter<'a> {
        let declared = self.header_len() - HEADER_LEN;
        OptionsIter::new(self.into_options(), declared)
    }
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// The strict view: the whole header, options included, is in the buffer, and the data
    /// offset is at least 5. The options themselves are checked by the walk over them.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_lenient(buffer)?;
        need(PROTO, p.buffer.as_ref(), p.header_len())?;
        Ok(p)
    }

    /// The lenient view, for quoted or cut segments: the 20 fixed bytes and a sane data
    /// offset; the options may be cut short.
    pub fn new_lenient(buffer: T) -> Result<Self> {
        need(PROTO, buffer.as_ref(), HEADER_LEN)?;
        let p = Self { buffer };
        if p.data_offset() < 5 {
            return Err(Error::new(
                PROTO,
                ErrorKind::BadLength,
                field::OFF_FLAGS.start,
                "data offset below 5 words",
            ));
        }
        Ok(p)
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn u16_at(&self, r: ops::Range<usize>) -> u16 {
        let b = self.buffer.as_ref();
        u16::from_be_bytes([b[r.start], b[r.start + 1]])
    }

    pub fn src_port(&self) -> u16 {
        self.u16_at(field::SRC_PORT)
    }

    pub fn dst_port(&self) -> u16 {
        self.u16_at(field::DST_PORT)
    }

    pub fn seq_number(&self) -> SeqNumber {
        SeqNumber(be32(&self.buffer.as_ref()[field::SEQ_NUM]))
    }

    pub fn ack_number(&self) -> SeqNumber {
        SeqNumber(be32(&self.buffer.as_ref()[field::ACK_NUM]))
    }

    /// The header's length in 32-bit words.
    pub fn data_offset(&self) -> u8 {
        self.buffer.as_ref()[field::OFF_FLAGS.start] >> 4
    }

    /// The header's length in bytes, options included.
    pub fn header_len(&self) -> usize {
        usize::from(self.data_offset()) * 4
    }

    pub fn flags(&self) -> Flags {
        Flags(self.u16_at(field::OFF_FLAGS) & Flags::MASK)
    }

    pub fn window_len(&self) -> u16 {
        self.u16_at(field::WINDOW)
    }

    pub fn checksum(&self) -> u16 {
        self.u16_at(field::CHECKSUM)
    }

    pub fn urgent_pointer(&self) -> u16 {
        self.u16_at(field::URGENT)
    }

    /// The options bytes present (cut to the buffer in a lenient view).
    pub fn options(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        &b[HEADER_LEN..self.header_len().min(b.len())]
    }

    /// Whether the options area is cut short of the data offset.
    pub fn options_truncated(&self) -> bool {
        self.header_len() > self.buffer.as_ref().len()
    }

    pub fn options_iter(&self) -> OptionsIter<'_> {
        OptionsIter::new(self.options(), self.header_len() - HEADER_LEN)
    }

    pub fn payload(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        &b[self.header_len().min(b.len())..]
    }

    /// The segment's length in sequence space: data, plus one each for SYN and FIN.
    pub fn segment_len(&self) -> usize {
        self.payload().len() + usize::from(self.flags().syn()) + usize::from(self.flags().fin())
    }

    /// Whether the checksum verifies over the pseudo-header and the whole buffer, which
    /// must be the whole segment.
    pub fn verify_checksum(&self, ph: &PseudoHeader) -> bool {
        let b = self.buffer.as_ref();
        let mut c = ph.checksum(IpProtocol::TCP, b.len());
        c.add_bytes(b);
        c.verifies()
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn set_u16(&mut self, r: ops::Range<usize>, v: u16) {
        self.buffer.as_mut()[r].copy_from_slice(&v.to_be_bytes());
    }

    pub fn set_src_port(&mut self, v: u16) {
        self.set_u16(field::SRC_PORT, v);
    }

    pub fn set_dst_port(&mut self, v: u16) {
        self.set_u16(field::DST_PORT, v);
    }

    pub fn set_seq_number(&mut self, v: SeqNumber) {
        self.buffer.as_mut()[field::SEQ_NUM].copy_from_slice(&v.0.to_be_bytes());
    }

    pub fn set_ack_number(&mut self, v: SeqNumber) {
        self.buffer.as_mut()[field::ACK_NUM].copy_from_slice(&v.0.to_be_bytes());
    }

    /// Sets the data offset (in words, 5 to 15) and the twelve flag bits at once.
    pub fn set_offset_flags(&mut self, data_offset: u8, flags: Flags) {
        let v = u16::from(data_offset & 0xf) << 12 | (flags.0 & Flags::MASK);
        self.set_u16(field::OFF_FLAGS, v);
    }

    pub fn set_window_len(&mut self, v: u16) {
        self.set_u16(field::WINDOW, v);
    }

    pub fn set_checksum(&mut self, v: u16) {
        self.set_u16(field::CHECKSUM, v);
    }

    pub fn set_urgent_pointer(&mut self, v: u16) {
        self.set_u16(field::URGENT, v);
    }

    pub fn options_mut(&mut self) -> &mut [u8] {
        let end = self.header_len().min(self.buffer.as_ref().len());
        &mut self.buffer.as_mut()[HEADER_LEN..end]
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        let at = self.header_len().min(self.buffer.as_ref().len());
        &mut self.buffer.as_mut()[at..]
    }

    /// Computes and writes the checksum over the pseudo-header and the whole buffer.
    pub fn fill_checksum(&mut self, ph: &PseudoHeader) {
        self.set_checksum(0);
        let b = self.buffer.as_ref();
        let mut c = ph.checksum(IpProtocol::TCP, b.len());
        c.add_bytes(b);
        let v = c.finish();
        self.set_checksum(v);
    }
}

/// Options of kinds the [`Repr`] has no field for (or repeats of those it has), kept raw,
/// kind and length bytes included, in the order received.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RawOptions {
    bytes: [u8; MAX_OPTIONS_LEN],
    len: u8,
}

impl Default for RawOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl RawOptions {
    pub const fn new() -> Self {
        Self {
            bytes: [0; MAX_OPTIONS_LEN],
            len: 0,
        }
    }

    /// Appends one option's bytes; refuses what would not fit in 40 bytes.
    pub fn push(&mut self, option: &[u8]) -> bool {
        let at = usize::from(self.len);
        match self.bytes.get_mut(at..at + option.len()) {
            Some(dst) => {
                dst.copy_from_slice(option);
                self.len += option.len() as u8;
                true
            }
            None => false,
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Walks the kept options.
    pub fn iter(&self) -> OptionsIter<'_> {
        OptionsIter::new(self.as_bytes(), self.as_bytes().len())
    }
}

impl fmt::Debug for RawOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RawOptions({:02x?})", self.as_bytes())
    }
}

/// A TCP header as values, options included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq_number: SeqNumber,
    /// As sent; meaningful only with ACK.
    pub ack_number: SeqNumber,
    pub flags: Flags,
    pub window_len: u16,
    pub urgent_pointer: u16,
    pub max_seg_size: Option<u16>,
    /// The shift count as sent (see [`window_shift`]).
    pub window_scale: Option<u8>,
    pub sack_permitted: bool,
    pub sack_blocks: SackBlocks,
    /// (TSval, TSecr).
    pub timestamps: Option<(u32, u32)>,
    pub unknown_options: RawOptions,
    pub payload_len: usize,
}

impl Repr {
    /// The header of a segment from a strict view, walking the options (an option with a
    /// bad length is an error at its offset). The checksum is not checked: see
    /// [`Packet::verify_checksum`].
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Result<Self> {
        if p.options_truncated() {
            return Err(Error::truncated(
                PROTO,
                p.header_len(),
                p.buffer.as_ref().len(),
            ));
        }
        let mut r = Repr {
            src_port: p.src_port(),
            dst_port: p.dst_port(),
            seq_number: p.seq_number(),
            ack_number: p.ack_number(),
            flags: p.flags(),
            window_len: p.window_len(),
            urgent_pointer: p.urgent_pointer(),
            max_seg_size: None,
            window_scale: None,
            sack_permitted: false,
            sack_blocks: SackBlocks::new(),
            timestamps: None,
            unknown_options: RawOptions::new(),
            payload_len: p.payload().len(),
        };
        let opts = p.options();
        // RFC 7323 Appendix A's layout, which nearly every segment of a connection with
        // timestamps carries: NOP, NOP, Timestamps. Read at once; the loop below would
        // give the same.
        if let [1, 1, 8, 10, v0, v1, v2, v3, e0, e1, e2, e3] = *opts {
            let tsval = u32::from_be_bytes([v0, v1, v2, v3]);
            let tsecr = u32::from_be_bytes([e0, e1, e2, e3]);
            r.timestamps = Some((tsval, tsecr));
            return Ok(r);
        }
        for item in p.options_iter() {
            let (offset, opt) = item?;
            let raw_at = offset - HEADER_LEN;
            let raw = &opts[raw_at..raw_at + opt.buffer_len()];
            let kept = match opt {
                TcpOption::EndOfList | TcpOption::NoOperation => true,
                TcpOption::MaxSegmentSize(v) if r.max_seg_size.is_none() => {
                    r.max_seg_size = Some(v);
                    true
                }
                TcpOption::WindowScale(v) if r.window_scale.is_none() => {
                    r.window_scale = Some(v);
                    true
                }
                TcpOption::SackPermitted if !r.sack_permitted => {
                    r.sack_permitted = true;
                    true
                }
                TcpOption::Sack(s) if r.sack_blocks.is_empty() => {
                    r.sack_blocks = s;
                    true
                }
                TcpOption::Timestamps { tsval, tsecr } if r.timestamps.is_none() => {
                    r.timestamps = Some((tsval, tsecr));
                    true
                }
                _ => false,
            };
            // Always fits: the raw store holds 40 bytes, as many as the options area.
            if !kept {
                r.unknown_options.push(raw);
            }
        }
        Ok(r)
    }

    /// The options' length before padding, in the layout [`Repr::emit`] writes.
    fn options_len(&self) -> usize {
        let mut n = 0;
        if self.max_seg_size.is_some() {
            n += 4;
        }
        if self.window_scale.is_some() {
            n += 4; // NOP, then the 3-byte option
        }
        n += match (self.sack_permitted, self.timestamps.is_some()) {
            (true, true) => 12,
            (true, false) => 4,  // NOP, NOP, SACK-Permitted
            (false, true) => 12, // NOP, NOP, Timestamps
            (false, false) => 0,
        };
        if !self.sack_blocks.is_empty() {
            n += 2 + self.sack_blocks.option_len();
        }
        n + self.unknown_options.as_bytes().len()
    }

    /// The header's length: 20 bytes and the options, padded to a multiple of 4.
    pub fn header_len(&self) -> usize {
        HEADER_LEN + self.options_len().next_multiple_of(4)
    }

    pub fn buffer_len(&self) -> usize {
        self.header_len() + self.payload_len
    }

    /// Writes the header, options and checksum into `buf`, whose data (`payload_len` bytes
    /// after [`Repr::header_len`]) the caller has already written in place.
    pub fn emit(&self, buf: &mut [u8], ph: &PseudoHeader) -> Result<()> {
        let opts_len = self.options_len();
        if opts_len > MAX_OPTIONS_LEN {
            return Err(Error::new(
                PROTO,
                ErrorKind::BadOption,
                HEADER_LEN,
                "options exceed 40 bytes",
            ));
        }
        let hlen = self.header_len();
        let total = self.buffer_len();
        need(PROTO, buf, total)?;
        let buf = &mut buf[..total];
        let mut p = Packet::new_unchecked(&mut *buf);
        p.set_src_port(self.src_port);
        p.set_dst_port(self.dst_port);
        p.set_seq_number(self.seq_number);
        p.set_ack_number(self.ack_number);
        p.set_offset_flags((hlen / 4) as u8, self.flags);
        p.set_window_len(self.window_len);
        p.set_urgent_pointer(self.urgent_pointer);
        let o = &mut buf[HEADER_LEN..hlen];
        let mut at = 0;
        let put = |o: &mut [u8], opt: TcpOption<'_>, at: &mut usize| -> Result<()> {
            *at += opt.emit(&mut o[*at..])?;
            Ok(())
        };
        if let Some(v) = self.max_seg_size {
            put(o, TcpOption::MaxSegmentSize(v), &mut at)?;
        }
        if let Some(v) = self.window_scale {
            put(o, TcpOption::NoOperation, &mut at)?;
            put(o, TcpOption::WindowScale(v), &mut at)?;
        }
        match (self.sack_permitted, self.timestamps) {
            (true, Some((tsval, tsecr))) => {
                put(o, TcpOption::SackPermitted, &mut at)?;
                put(o, TcpOption::Timestamps { tsval, tsecr }, &mut at)?;
            }
            (true, None) => {
                put(o, TcpOption::NoOperation, &mut at)?;
                put(o, TcpOption::NoOperation, &mut at)?;
                put(o, TcpOption::SackPermitted, &mut at)?;
            }
            (false, Some((tsval, tsecr))) => {
                put(o, TcpOption::NoOperation, &mut at)?;
                put(o, TcpOption::NoOperation, &mut at)?;
                put(o, TcpOption::Timestamps { tsval, tsecr }, &mut at)?;
            }
            (false, None) => {}
        }
        if !self.sack_blocks.is_empty() {
            put(o, TcpOption::NoOperation, &mut at)?;
            put(o, TcpOption::NoOperation, &mut at)?;
            put(o, TcpOption::Sack(self.sack_blocks), &mut at)?;
        }
        let raw = self.unknown_options.as_bytes();
        o[at..at + raw.len()].copy_from_slice(raw);
        at += raw.len();
        // RFC 9293 §3.1: the header is padded with zeros to a 32-bit boundary; a zero
        // byte is End of Option List.
        o[at..].fill(kind::EOL);
        let mut p = Packet::new_unchecked(buf);
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
                0,
                "payload length differs",
            ));
        }
        need(PROTO, buf, self.buffer_len())?;
        buf[self.header_len()..self.buffer_len()].copy_from_slice(payload);
        self.emit(buf, ph)
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

    /// scapy's TCP(sport=5001, dport=80, flags='SA', seq=1, ack=2, window=65535,
    /// options=[MSS 1440, SAckOK, Timestamp (1, 0), NOP, WScale 7, SAck (1, 2)]) over
    /// 2001:db8::1 > 2001:db8::2; tshark: checksum good.
    #[rustfmt::skip]
    const SYNACK: [u8; 52] = [
        0x13, 0x89, 0x00, 0x50,             // ports 5001 > 80
        0x00, 0x00, 0x00, 0x01,             // seq 1
        0x00, 0x00, 0x00, 0x02,             // ack 2
        0xd0, 0x12,                         // data offset 13 words, flags SYN ACK
        0xff, 0xff,                         // window 65535
        0xa3, 0x99,                         // checksum
        0x00, 0x00,                         // urgent pointer
        0x02, 0x04, 0x05, 0xa0,             // MSS 1440
        0x04, 0x02,                         // SACK permitted
        0x08, 0x0a, 0, 0, 0, 1, 0, 0, 0, 0, // timestamps 1, 0
        0x01,                               // NOP
        0x03, 0x03, 0x07,                   // window scale 7
        0x05, 0x0a, 0, 0, 0, 1, 0, 0, 0, 2, // SACK 1-2
        0x00, 0x00,                         // EOL, padding
    ];

    #[test]
    fn parse_synack() {
        let p = Packet::new_checked(&SYNACK[..]).unwrap();
        assert_eq!((p.src_port(), p.dst_port()), (5001, 80));
        assert_eq!(
            (p.seq_number(), p.ack_number()),
            (SeqNumber(1), SeqNumber(2))
        );
        assert_eq!(p.header_len(), 52);
        assert_eq!(p.flags(), Flags::SYN | Flags::ACK);
        assert_eq!(p.flags().to_string(), "S.");
        assert_eq!(p.window_len(), 65535);
        assert!(p.verify_checksum(&v6()));
        let opts: Vec<_> = p.options_iter().map(|o| o.unwrap().1).collect();
        let mut sack = SackBlocks::new();
        sack.push(SeqNumber(1), SeqNumber(2));
        assert_eq!(
            opts,
            [
                TcpOption::MaxSegmentSize(1440),
                TcpOption::SackPermitted,
                TcpOption::Timestamps { tsval: 1, tsecr: 0 },
                TcpOption::NoOperation,
                TcpOption::WindowScale(7),
                TcpOption::Sack(sack),
                TcpOption::EndOfList,
            ]
        );
        let r = Repr::parse(&p).unwrap();
        assert_eq!(r.max_seg_size, Some(1440));
        assert_eq!(r.window_scale, Some(7));
        assert!(r.sack_permitted);
        assert_eq!(r.sack_blocks, sack);
        assert_eq!(r.timestamps, Some((1, 0)));
        assert!(r.unknown_options.is_empty());
        assert_eq!(r.payload_len, 0);
        // Our layout differs from scapy's but carries the same options, within 40 bytes.
        let mut out = [0u8; 60];
        let n = r.buffer_len();
        assert_eq!(n % 4, 0);
        r.emit(&mut out, &v6()).unwrap();
        let q = Packet::new_checked(&out[..n]).unwrap();
        assert!(q.verify_checksum(&v6()));
        assert_eq!(Repr::parse(&q).unwrap(), r);
    }

    #[test]
    fn bad_options() {
        // MSS with length 5, at option offset 0.
        let mut b = SYNACK;
        b[21] = 5;
        let p = Packet::new_checked(&b[..]).unwrap();
        let e = p.options_iter().find_map(|o| o.err()).unwrap();
        assert_eq!((e.kind, e.offset), (ErrorKind::BadOption, 20));
        assert_eq!(Repr::parse(&p).unwrap_err().kind, ErrorKind::BadOption);
        // A zero length would loop forever in a naive walk.
        let mut b = SYNACK;
        b[24..26].copy_from_slice(&[0x63, 0]);
        let p = Packet::new_checked(&b[..]).unwrap();
        let items: Vec<_> = p.options_iter().collect();
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].unwrap_err().offset, 24);
        // A length past the data offset.
        let mut b = SYNACK;
        b[50..52].copy_from_slice(&[0x63, 0x28]);
        let e = Packet::new_checked(&b[..])
            .unwrap()
            .options_iter()
            .find_map(|o| o.err())
            .unwrap();
        assert_eq!((e.kind, e.offset), (ErrorKind::BadOption, 50));
        // A kind byte alone at the end of the area.
        let mut b = SYNACK;
        b[51] = 0x63;
        b[50] = 0x01;
        let e = Packet::new_checked(&b[..])
            .unwrap()
            .options_iter()
            .find_map(|o| o.err())
            .unwrap();
        assert_eq!((e.kind, e.offset), (ErrorKind::BadOption, 51));
        // SACK of 12 bytes is not 2 + 8n.
        let mut b = SYNACK;
        b[40..52].copy_from_slice(&[0x05, 0x0c, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0]);
        let e = Packet::new_checked(&b[..])
            .unwrap()
            .options_iter()
            .find_map(|o| o.err())
            .unwrap();
        assert_eq!((e.kind, e.offset), (ErrorKind::BadOption, 40));
    }

    #[test]
    fn truncated() {
        assert!(matches!(
            Packet::new_checked(&SYNACK[..19]).unwrap_err().kind,
            ErrorKind::Truncated { .. }
        ));
        assert!(Packet::new_checked(&SYNACK[..30]).is_err());
        let p = Packet::new_lenient(&SYNACK[..30]).unwrap();
        assert!(p.options_truncated());
        let items: Vec<_> = p.options_iter().collect();
        assert_eq!(items[0].unwrap().1, TcpOption::MaxSegmentSize(1440));
        assert_eq!(items[1].unwrap().1, TcpOption::SackPermitted);
        let e = items[2].unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::Truncated {
                needed: 36,
                available: 30
            }
        );
        assert_eq!(e.offset, 26);
        assert_eq!(items.len(), 3);
        assert_eq!(p.payload(), b"");
        let mut b = SYNACK;
        b[12] = 0x40;
        assert_eq!(
            Packet::new_lenient(&b[..]).unwrap_err().kind,
            ErrorKind::BadLength
        );
    }

    #[test]
    fn unknown_and_repeated_options_kept() {
        let mut r = Repr {
            src_port: 1,
            dst_port: 2,
            seq_number: SeqNumber(0xffff_fff0),
            ack_number: SeqNumber(0),
            flags: Flags::SYN | Flags::AE | Flags(0x200),
            window_len: 100,
            urgent_pointer: 0,
            max_seg_size: Some(1220),
            window_scale: None,
            sack_permitted: false,
            sack_blocks: SackBlocks::new(),
            timestamps: None,
            unknown_options: RawOptions::new(),
            payload_len: 3,
        };
        assert!(r.unknown_options.push(&[0xfd, 0x05, 0xab, 0xcd, 0xef]));
        assert!(r.unknown_options.push(&[0x02, 0x04, 0x05, 0xa0]));
        let mut buf = [0u8; 60];
        r.emit_with_payload(&mut buf, b"abc", &v6()).unwrap();
        let p = Packet::new_checked(&buf[..r.buffer_len()]).unwrap();
        assert_eq!(p.header_len(), 36);
        assert_eq!(p.payload(), b"abc");
        assert_eq!(Repr::parse(&p).unwrap(), r);
        assert_eq!(p.flags().reserved(), 1);
        // Too many options for 40 bytes.
        r.timestamps = Some((1, 2));
        r.window_scale = Some(14);
        for i in 0..4 {
            r.sack_blocks.push(SeqNumber(i), SeqNumber(i + 1));
        }
        assert!(!r.sack_blocks.push(SeqNumber(9), SeqNumber(10)));
        assert_eq!(
            r.emit(&mut [0u8; 200], &v6()).unwrap_err().kind,
            ErrorKind::BadOption
        );
    }

    #[test]
    fn seq_numbers_wrap() {
        let a = SeqNumber(0xffff_fff0);
        let b = a + 0x20;
        assert_eq!(b, SeqNumber(0x10));
        assert!(a < b);
        assert!(b > a);
        assert_eq!(b - a, 0x20);
        assert_eq!(a - b, -0x20);
        assert!(b.in_window(a, 0x21) && !b.in_window(a, 0x20));
        assert_eq!(a.max(b), b);
        assert_eq!(a.min(b), a);
        assert_eq!(window_shift(15), 14);
    }

    fn arb_repr() -> impl Strategy<Value = Repr> {
        (
            (
                any::<u16>(),
                any::<u16>(),
                any::<u32>(),
                any::<u32>(),
                0u16..0x1000,
                any::<u16>(),
                any::<u16>(),
            ),
            (
                proptest::option::of(any::<u16>()),
                proptest::option::of(any::<u8>()),
                any::<bool>(),
                proptest::collection::vec((any::<u32>(), any::<u32>()), 0..=2),
                proptest::option::of((any::<u32>(), any::<u32>())),
                proptest::option::of((0x10u8..=0xfe, proptest::collection::vec(any::<u8>(), 0..3))),
                0usize..50,
            ),
        )
            .prop_map(
                |((sp, dp, seq, ack, fl, win, urg), (mss, ws, sp_ok, sacks, ts, unk, plen))| {
                    let mut sack_blocks = SackBlocks::new();
                    for (l, r) in sacks {
                        sack_blocks.push(SeqNumber(l), SeqNumber(r));
                    }
                    let mut unknown_options = RawOptions::new();
                    if let Some((k, data)) = unk {
                        let mut raw = vec![k, 2 + data.len() as u8];
                        raw.extend(data);
                        unknown_options.push(&raw);
                    }
                    Repr {
                        src_port: sp,
                        dst_port: dp,
                        seq_number: SeqNumber(seq),
                        ack_number: SeqNumber(ack),
                        flags: Flags(fl),
                        window_len: win,
                        urgent_pointer: urg,
                        max_seg_size: mss,
                        window_scale: ws,
                        sack_permitted: sp_ok,
                        sack_blocks,
                        timestamps: ts,
                        unknown_options,
                        payload_len: plen,
                    }
                },
            )
    }

    proptest! {
        #[test]
        fn emit_parse_identity(r in arb_repr(), src: [u8; 16], dst: [u8; 16]) {
            let ph = PseudoHeader::V6 { src: src.into(), dst: dst.into() };
            let mut buf = vec![0u8; r.buffer_len()];
            if r.options_len() > MAX_OPTIONS_LEN {
                prop_assert_eq!(r.emit(&mut buf, &ph).unwrap_err().kind, ErrorKind::BadOption);
                return Ok(());
            }
            r.emit(&mut buf, &ph).unwrap();
            let p = Packet::new_checked(&buf[..]).unwrap();
            prop_assert!(p.verify_checksum(&ph));
            prop_assert_eq!(p.header_len() % 4, 0);
            prop_assert_eq!(Repr::parse(&p).unwrap(), r);
        }

        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..80)) {
            let ph = v6();
            if let Ok(p) = Packet::new_lenient(&data[..]) {
                let _ = (p.flags().to_string(), p.payload(), p.options(), p.segment_len(), p.verify_checksum(&ph));
                let n = p.options_iter().take(100).count();
                prop_assert!(n <= 40);
                let _ = Repr::parse(&p);
                let _ = p.into_options_iter().count();
            }
            let walk = OptionsIter::new(&data, 40);
            prop_assert!(walk.count() <= 40);
            let walk = OptionsIter::new(&data, data.len());
            prop_assert!(walk.count() <= data.len());
        }
    }
}
