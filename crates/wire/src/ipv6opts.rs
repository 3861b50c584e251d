//! The Hop-by-Hop Options and Destination Options headers (RFC 8200 §4.3, §4.6) and the
//! options they carry (RFC 8200 §4.2).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Next Header  |  Hdr Ext Len  |                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
//! |                            Options                            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!
//! An option (TLV; Pad1 is the single byte 0x00):
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+- - - - - - - - -
//! |  Option Type  |  Opt Data Len |  Option Data
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+- - - - - - - - -
//! ```
//!
//! Both headers share this layout, so one view serves both. The header is
//! `(Hdr Ext Len + 1) * 8` bytes long; the options fill it exactly.

use core::net::Ipv6Addr;

use crate::error::{Error, ErrorKind, Result, need};
use crate::proto::IpProtocol;

const PROTO: &str = "ipv6.opt";

mod field {
    pub const NEXT_HEADER: usize = 0;
    pub const HDR_EXT_LEN: usize = 1;
    pub const OPTIONS: usize = 2;
}

/// The shortest options header: Hdr Ext Len 0.
pub const MIN_HEADER_LEN: usize = 8;
/// The longest options header: Hdr Ext Len 255.
pub const MAX_HEADER_LEN: usize = 256 * 8;

/// What a node must do with an option whose type it does not recognise: the two high
/// bits of the option type (RFC 8200 §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnrecognizedAction {
    /// 00: skip over the option and go on with the header.
    Skip,
    /// 01: discard the packet.
    Discard,
    /// 10: discard the packet and send an ICMPv6 Parameter Problem, code 2, whatever
    /// the destination address.
    DiscardAndIcmp,
    /// 11: discard the packet and send the Parameter Problem only if the destination
    /// address is not multicast.
    DiscardAndIcmpUnlessMulticast,
}

/// An option type byte: action bits, the may-change bit, and five low-order bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct OptionType(pub u8);

impl OptionType {
    pub const PAD1: Self = Self(0x00);
    pub const PADN: Self = Self(0x01);
    /// RFC 2711.
    pub const ROUTER_ALERT: Self = Self(0x05);
    /// RFC 2675.
    pub const JUMBO_PAYLOAD: Self = Self(0xc2);
    /// RFC 6275 §6.3.
    pub const HOME_ADDRESS: Self = Self(0xc9);

    /// The two high-order bits as a number, 0 to 3.
    pub const fn action_bits(self) -> u8 {
        self.0 >> 6
    }

    /// What to do if this type is not recognised (RFC 8200 §4.2).
    pub const fn action(self) -> UnrecognizedAction {
        match self.action_bits() {
            0 => UnrecognizedAction::Skip,
            1 => UnrecognizedAction::Discard,
            2 => UnrecognizedAction::DiscardAndIcmp,
            _ => UnrecognizedAction::DiscardAndIcmpUnlessMulticast,
        }
    }

    /// The third-highest bit: the option data may change en route, so an
    /// Authentication Header computes its ICV over zeros in its place (RFC 8200 §4.2).
    pub const fn may_change(self) -> bool {
        self.0 & 0x20 != 0
    }

    /// The five low-order bits.
    pub const fn rest(self) -> u8 {
        self.0 & 0x1f
    }
}

/// One option, borrowed from the header it was parsed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ipv6Option<'a> {
    /// One byte of padding, with no length field.
    Pad1,
    /// Padding of two or more bytes; the data is kept as found (it should be zero).
    PadN(&'a [u8]),
    /// The Router Alert value (RFC 2711: 0 is MLD, 1 RSVP, 2 Active Networks).
    RouterAlert(u16),
    /// The Jumbo Payload length (RFC 2675), which replaces the IPv6 payload length.
    JumboPayload(u32),
    /// The mobile node's home address (RFC 6275 §6.3).
    HomeAddress(Ipv6Addr),
    /// Any other type, or one of the above types in a header that does not know it,
    /// with its raw data.
    Unknown {
        option_type: OptionType,
        data: &'a [u8],
    },
}

/// Zero bytes for the data of PadN options that [`Repr::padded`] inserts.
static ZEROS: [u8; 8] = [0; 8];

impl<'a> Ipv6Option<'a> {
    pub const fn option_type(&self) -> OptionType {
        match self {
            Ipv6Option::Pad1 => OptionType::PAD1,
            Ipv6Option::PadN(_) => OptionType::PADN,
            Ipv6Option::RouterAlert(_) => OptionType::ROUTER_ALERT,
            Ipv6Option::JumboPayload(_) => OptionType::JUMBO_PAYLOAD,
            Ipv6Option::HomeAddress(_) => OptionType::HOME_ADDRESS,
            Ipv6Option::Unknown { option_type, .. } => *option_type,
        }
    }

    /// The Opt Data Len of this option (zero for Pad1, which has none).
    pub const fn data_len(&self) -> usize {
        match self {
            Ipv6Option::Pad1 => 0,
            Ipv6Option::PadN(d) | Ipv6Option::Unknown { data: d, .. } => d.len(),
            Ipv6Option::RouterAlert(_) => 2,
            Ipv6Option::JumboPayload(_) => 4,
            Ipv6Option::HomeAddress(_) => 16,
        }
    }

    /// The bytes this option takes in a header.
    pub const fn buffer_len(&self) -> usize {
        match self {
            Ipv6Option::Pad1 => 1,
            _ => 2 + self.data_len(),
        }
    }

    pub const fn is_padding(&self) -> bool {
        matches!(self, Ipv6Option::Pad1 | Ipv6Option::PadN(_))
    }

    /// The alignment requirement `(x, y)`: the option type must start at an offset
    /// `x * n + y` from the start of the header.
    pub const fn alignment(&self) -> (usize, usize) {
        match self {
            // RFC 2711 §2.1: 2n+0.
            Ipv6Option::RouterAlert(_) => (2, 0),
            // RFC 2675 §2: 4n+2.
            Ipv6Option::JumboPayload(_) => (4, 2),
            // RFC 6275 §6.3: 8n+6.
            Ipv6Option::HomeAddress(_) => (8, 6),
            _ => (1, 0),
        }
    }

    /// Parses the option at `pos` of an options area; returns it and its length.
    /// Error offsets are relative to the area.
    fn parse_at(area: &'a [u8], pos: usize) -> Result<(Self, usize)> {
        let option_type = OptionType(area[pos]);
        if option_type == OptionType::PAD1 {
            return Ok((Ipv6Option::Pad1, 1));
        }
        let Some(&len) = area.get(pos + 1) else {
            return Err(Error::new(
                PROTO,
                ErrorKind::BadOption,
                pos,
                "option length missing",
            ));
        };
        let end = pos + 2 + usize::from(len);
        let Some(data) = area.get(pos + 2..end) else {
            return Err(Error::new(
                PROTO,
                ErrorKind::BadOption,
                pos,
                "option runs past the header",
            ));
        };
        let wrong_len = || {
            Error::new(
                PROTO,
                ErrorKind::BadOption,
                pos,
                "option length wrong for its type",
            )
        };
        let opt = match option_type {
            OptionType::PADN => Ipv6Option::PadN(data),
            OptionType::ROUTER_ALERT => {
                let v: [u8; 2] = data.try_into().map_err(|_| wrong_len())?;
                Ipv6Option::RouterAlert(u16::from_be_bytes(v))
            }
            OptionType::JUMBO_PAYLOAD => {
                let v: [u8; 4] = data.try_into().map_err(|_| wrong_len())?;
                Ipv6Option::JumboPayload(u32::from_be_bytes(v))
            }
            OptionType::HOME_ADDRESS => {
                let v: [u8; 16] = data.try_into().map_err(|_| wrong_len())?;
                Ipv6Option::HomeAddress(Ipv6Addr::from(v))
            }
            _ => Ipv6Option::Unknown { option_type, data },
        };
        Ok((opt, end - pos))
    }

    /// Writes the option at the start of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        let len = self.data_len();
        if len > 255 {
            return Err(Error::new(
                PROTO,
                ErrorKind::BadOption,
                0,
                "option data over 255 bytes",
            ));
        }
        need(PROTO, buf, self.buffer_len())?;
        buf[0] = self.option_type().0;
        if let Ipv6Option::Pad1 = self {
            return Ok(());
        }
        buf[1] = len as u8;
        let data = &mut buf[2..2 + len];
        match self {
            Ipv6Option::Pad1 => {}
            Ipv6Option::PadN(d) | Ipv6Option::Unknown { data: d, .. } => data.copy_from_slice(d),
            Ipv6Option::RouterAlert(v) => data.copy_from_slice(&v.to_be_bytes()),
            Ipv6Option::JumboPayload(v) => data.copy_from_slice(&v.to_be_bytes()),
            Ipv6Option::HomeAddress(a) => data.copy_from_slice(&a.octets()),
        }
        Ok(())
    }

    /// The padding option of `n` bytes (none for 0).
    fn padding(n: usize) -> Option<Self> {
        match n {
            0 => None,
            1 => Some(Ipv6Option::Pad1),
            // Alignment gaps are below 8 bytes, so ZEROS always suffices.
            n => Some(Ipv6Option::PadN(&ZEROS[..(n - 2).min(ZEROS.len())])),
        }
    }
}

/// The options of a header in order, each with the offset of its type byte from the
/// start of the header (what an ICMPv6 Parameter Problem points at).
///
/// Every step consumes at least one byte, and the walk ends at the first error.
#[derive(Debug, Clone)]
pub struct OptionIter<'a> {
    area: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> OptionIter<'a> {
    /// Walks an options area (the header without its first two bytes).
    pub fn new(area: &'a [u8]) -> Self {
        Self {
            area,
            pos: 0,
            failed: false,
        }
    }
}

impl<'a> Iterator for OptionIter<'a> {
    type Item = Result<(usize, Ipv6Option<'a>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.area.len() {
            return None;
        }
        let offset = field::OPTIONS + self.pos;
        match Ipv6Option::parse_at(self.area, self.pos) {
            Ok((opt, len)) => {
                self.pos += len;
                Some(Ok((offset, opt)))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e.at(field::OPTIONS)))
            }
        }
    }
}

/// A view of a Hop-by-Hop or Destination Options header and what follows it.
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<'a> Packet<&'a [u8]> {
    /// The options, borrowed for as long as the underlying bytes.
    pub fn into_options(self) -> OptionIter<'a> {
        let end = self.header_len().min(self.buffer.len());
        OptionIter::new(&self.buffer[field::OPTIONS..end])
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

    /// The strict view: the whole header, as its length gives it, is in the buffer.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_lenient(buffer)?;
        need(PROTO, p.buffer.as_ref(), p.header_len())?;
        Ok(p)
    }

    /// The lenient view: the first two bytes; the options may be cut short.
    pub fn new_lenient(buffer: T) -> Result<Self> {
        need(PROTO, buffer.as_ref(), field::OPTIONS)?;
        Ok(Self { buffer })
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn next_header(&self) -> IpProtocol {
        IpProtocol(self.buffer.as_ref()[field::NEXT_HEADER])
    }

    /// The length in 8-octet units, not counting the first 8 octets.
    pub fn hdr_ext_len(&self) -> u8 {
        self.buffer.as_ref()[field::HDR_EXT_LEN]
    }

    /// The length of the header in bytes.
    pub fn header_len(&self) -> usize {
        (usize::from(self.hdr_ext_len()) + 1) * 8
    }

    /// The options area, cut to the buffer in a lenient view.
    pub fn options_area(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        &b[field::OPTIONS..self.header_len().min(b.len())]
    }

    pub fn options(&self) -> OptionIter<'_> {
        OptionIter::new(self.options_area())
    }

    pub fn is_truncated(&self) -> bool {
        self.header_len() > self.buffer.as_ref().len()
    }

    /// What follows the header (empty if the header itself is cut short).
    pub fn payload(&self) -> &[u8] {
        self.buffer.as_ref().get(self.header_len()..).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_next_header(&mut self, nh: IpProtocol) {
        self.buffer.as_mut()[field::NEXT_HEADER] = nh.0;
    }

    pub fn set_hdr_ext_len(&mut self, len: u8) {
        self.buffer.as_mut()[field::HDR_EXT_LEN] = len;
    }

    pub fn options_area_mut(&mut self) -> &mut [u8] {
        let end = self.header_len().min(self.buffer.as_ref().len());
        &mut self.buffer.as_mut()[field::OPTIONS..end]
    }
}

/// An options header as values: every option in order, padding included, so that
/// [`Repr::emit`] gives back the parsed bytes exactly.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Repr<'a> {
    pub next_header: IpProtocol,
    pub options: Vec<Ipv6Option<'a>>,
}

impl<'a> Repr<'a> {
    /// Parses a whole header; a header cut short is refused.
    pub fn parse(p: &Packet<&'a [u8]>) -> Result<Self> {
        need(PROTO, p.buffer, p.header_len())?;
        let options = p
            .into_options()
            .map(|r| r.map(|(_, o)| o))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            next_header: p.next_header(),
            options,
        })
    }

    /// A header carrying `options` in order, with Pad1/PadN inserted for each option's
    /// alignment and at the end (RFC 8200 §4.2). Padding options in the input are
    /// dropped: the padding is computed afresh.
    pub fn padded(
        next_header: IpProtocol,
        options: impl IntoIterator<Item = Ipv6Option<'a>>,
    ) -> Result<Self> {
        let mut out = Vec::new();
        let mut at = field::OPTIONS;
        for opt in options.into_iter().filter(|o| !o.is_padding()) {
            let (x, y) = opt.alignment();
            // x is 1, 2, 4 or 8, so the gap is below 8.
            let gap = (y + x - at % x) % x;
            if let Some(p) = Ipv6Option::padding(gap) {
                out.push(p);
            }
            at += gap + opt.buffer_len();
            if at > MAX_HEADER_LEN {
                return Err(Error::new(
                    PROTO,
                    ErrorKind::BadLength,
                    1,
                    "options exceed 2048 bytes",
                ));
            }
            out.push(opt);
        }
        if let Some(p) = Ipv6Option::padding((8 - at % 8) % 8) {
            out.push(p);
        }
        Ok(Self {
            next_header,
            options: out,
        })
    }

    /// The bytes the header takes: a multiple of 8 for a header that [`Repr::emit`] accepts.
    pub fn buffer_len(&self) -> usize {
        field::OPTIONS
            + self
                .options
                .iter()
                .map(Ipv6Option::buffer_len)
                .sum::<usize>()
    }

    /// Writes the header at the start of `buf`. The options must fill a multiple of 8
    /// bytes, as [`Repr::padded`] makes them.
    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        let len = self.buffer_len();
        if !len.is_multiple_of(8) || len > MAX_HEADER_LEN {
            return Err(Error::new(
                PROTO,
                ErrorKind::BadLength,
                field::HDR_EXT_LEN,
                "options do not fill a multiple of 8 bytes up to 2048",
            ));
        }
        need(PROTO, buf, len)?;
        let mut p = Packet::new_unchecked(&mut buf[..len]);
        p.set_next_header(self.next_header);
        // len is 8..=2048 and a multiple of 8, so this is 0..=255.
        p.set_hdr_ext_len((len / 8 - 1) as u8);
        let mut at = field::OPTIONS;
        for opt in &self.options {
            opt.emit(&mut buf[at..len]).map_err(|e| e.at(at))?;
            at += opt.buffer_len();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[rustfmt::skip]
    const HBH: [u8; 32] = [
        0x3a, 0x02,                         // next header 58, hdr ext len 2 (24 bytes)
        0x05, 0x02, 0x00, 0x00,             // router alert, MLD
        0xc2, 0x04, 0x00, 0x01, 0x11, 0x70, // jumbo payload 70000
        0x01, 0x02, 0x00, 0x00,             // PadN 2
        0x3e, 0x03, 0x61, 0x62, 0x63,       // experimental 0x3e, "abc"
        0x01, 0x01, 0x00,                   // PadN 1
        0x80, 0x00, 0x24, 0x48, 0x00, 0x00, 0x00, 0x00, // ICMPv6 echo request
    ];

    #[rustfmt::skip]
    const DST_HAO: [u8; 24] = [
        0x3a, 0x02,                         // next header 58, hdr ext len 2
        0x01, 0x02, 0x00, 0x00,             // PadN 2: HAO at 8n+6
        0xc9, 0x10,                         // home address, 16 bytes
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x99, // 2001:db8::99
    ];

    #[test]
    fn parse_hbh() {
        let p = Packet::new_checked(&HBH[..]).unwrap();
        assert_eq!(p.next_header(), IpProtocol::ICMPV6);
        assert_eq!(p.header_len(), 24);
        let opts: Vec<_> = p.options().map(|r| r.unwrap()).collect();
        assert_eq!(
            opts,
            [
                (2, Ipv6Option::RouterAlert(0)),
                (6, Ipv6Option::JumboPayload(70000)),
                (12, Ipv6Option::PadN(&[0, 0])),
                (
                    16,
                    Ipv6Option::Unknown {
                        option_type: OptionType(0x3e),
                        data: b"abc"
                    }
                ),
                (21, Ipv6Option::PadN(&[0])),
            ]
        );
        assert_eq!(p.into_payload(), &HBH[24..]);
        let repr = Repr::parse(&p).unwrap();
        let mut buf = [0u8; 24];
        repr.emit(&mut buf).unwrap();
        assert_eq!(buf, HBH[..24]);
    }

    #[test]
    fn parse_hao_and_padded() {
        let p = Packet::new_checked(&DST_HAO[..]).unwrap();
        let repr = Repr::parse(&p).unwrap();
        let hoa = "2001:db8::99".parse().unwrap();
        assert_eq!(repr.options[1], Ipv6Option::HomeAddress(hoa));
        let built = Repr::padded(IpProtocol::ICMPV6, [Ipv6Option::HomeAddress(hoa)]).unwrap();
        assert_eq!(built, repr);
    }

    #[test]
    fn padded_alignment() {
        let r = Repr::padded(
            IpProtocol::TCP,
            [
                Ipv6Option::RouterAlert(0),
                Ipv6Option::JumboPayload(1 << 20),
            ],
        )
        .unwrap();
        // RA at 2 (2n), jumbo needs 4n+2: 2+4=6 is 4*1+2, so no gap; then 12 -> pad 4.
        assert_eq!(
            r.options,
            [
                Ipv6Option::RouterAlert(0),
                Ipv6Option::JumboPayload(1 << 20),
                Ipv6Option::PadN(&[0, 0]),
            ]
        );
        assert_eq!(r.buffer_len(), 16);
        let r = Repr::padded(IpProtocol::TCP, [Ipv6Option::Pad1]).unwrap();
        assert_eq!(r.options, [Ipv6Option::PadN(&[0, 0, 0, 0])]);
    }

    #[test]
    fn option_type_bits() {
        let t = OptionType(0xc2);
        assert_eq!(
            t.action(),
            UnrecognizedAction::DiscardAndIcmpUnlessMulticast
        );
        assert!(!t.may_change());
        assert_eq!(t.rest(), 0x02);
        assert_eq!(OptionType(0x3e).action(), UnrecognizedAction::Skip);
        assert!(OptionType(0x3e).may_change());
        assert_eq!(OptionType(0x4f).action(), UnrecognizedAction::Discard);
        assert_eq!(
            OptionType(0x8a).action(),
            UnrecognizedAction::DiscardAndIcmp
        );
    }

    #[test]
    fn malformed() {
        // An option running past the header: PadN of 7 in a 6-byte area.
        let bad = [0x3a, 0x00, 0x00, 0x01, 0x07, 0x00, 0x00, 0x00];
        let p = Packet::new_checked(&bad[..]).unwrap();
        let e = p.options().last().unwrap().unwrap_err();
        assert_eq!((e.kind, e.offset), (ErrorKind::BadOption, 3));
        assert!(Repr::parse(&p).is_err());
        // Length byte missing at the very end.
        let bad = [0x3a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05];
        let e = Packet::new_checked(&bad[..])
            .unwrap()
            .options()
            .last()
            .unwrap()
            .unwrap_err();
        assert_eq!((e.kind, e.offset), (ErrorKind::BadOption, 7));
        // Router alert of the wrong length.
        let bad = [0x3a, 0x00, 0x05, 0x03, 0x00, 0x00, 0x00, 0x00];
        let e = Packet::new_checked(&bad[..])
            .unwrap()
            .options()
            .next()
            .unwrap()
            .unwrap_err();
        assert_eq!((e.kind, e.offset), (ErrorKind::BadOption, 2));
        // Truncated header.
        assert!(matches!(
            Packet::new_checked(&HBH[..20]).unwrap_err().kind,
            ErrorKind::Truncated {
                needed: 24,
                available: 20
            }
        ));
        let lenient = Packet::new_lenient(&HBH[..20]).unwrap();
        assert!(lenient.is_truncated());
        assert!(lenient.into_payload().is_empty());
        assert!(Repr::parse(&lenient).is_err());
    }

    /// A generated option: a kind selector and data bytes.
    fn option_strategy() -> impl Strategy<Value = (u8, u8, Vec<u8>)> {
        (
            0u8..6,
            any::<u8>(),
            proptest::collection::vec(any::<u8>(), 0..20),
        )
    }

    fn build<'a>((kind, t, data): &'a (u8, u8, Vec<u8>)) -> Ipv6Option<'a> {
        match kind {
            0 => Ipv6Option::Pad1,
            1 => Ipv6Option::PadN(data),
            2 => Ipv6Option::RouterAlert(u16::from(*t) << 8 | 0x11),
            3 => Ipv6Option::JumboPayload(u32::from(*t) << 16 | 0x1234),
            4 => Ipv6Option::HomeAddress(Ipv6Addr::from([*t; 16])),
            _ => {
                let t = match *t {
                    0 | 1 | 0x05 | 0xc2 | 0xc9 => 0x1e,
                    t => t,
                };
                Ipv6Option::Unknown {
                    option_type: OptionType(t),
                    data,
                }
            }
        }
    }

    proptest! {
        #[test]
        fn emit_parse_identity(nh: u8, generated in proptest::collection::vec(option_strategy(), 0..12)) {
            let mut options: Vec<_> = generated.iter().map(build).collect();
            // Make the raw list fill a multiple of 8 with trailing PadN zeros.
            let used = 2 + options.iter().map(Ipv6Option::buffer_len).sum::<usize>();
            if let Some(p) = Ipv6Option::padding((8 - used % 8) % 8) {
                options.push(p);
            }
            let repr = Repr { next_header: IpProtocol(nh), options };
            let mut buf = vec![0u8; repr.buffer_len()];
            repr.emit(&mut buf).unwrap();
            let p = Packet::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(p.header_len(), buf.len());
            prop_assert_eq!(Repr::parse(&p).unwrap(), repr);
        }

        #[test]
        fn padded_is_aligned(nh: u8, generated in proptest::collection::vec(option_strategy(), 0..12)) {
            let repr = Repr::padded(IpProtocol(nh), generated.iter().map(build)).unwrap();
            prop_assert_eq!(repr.buffer_len() % 8, 0);
            let mut buf = vec![0u8; repr.buffer_len()];
            repr.emit(&mut buf).unwrap();
            let p = Packet::new_checked(&buf[..]).unwrap();
            for r in p.options() {
                let (off, opt) = r.unwrap();
                let (x, y) = opt.alignment();
                prop_assert_eq!(off % x, y);
            }
            prop_assert_eq!(Repr::parse(&p).unwrap(), repr);
        }

        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            if let Ok(p) = Packet::new_lenient(&data[..]) {
                let _ = (p.next_header(), p.header_len(), p.is_truncated(), p.payload());
                for (_, o) in p.options().flatten() {
                    let _ = (o.option_type().action(), o.buffer_len());
                }
                let _ = Repr::parse(&p);
                let _ = p.into_payload();
            }
            let _ = Packet::new_checked(&data[..]);
        }
    }
}
