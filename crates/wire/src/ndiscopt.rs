//! Neighbor Discovery options (RFC 4861 §4.6), with RFC 4191 Route Information,
//! RFC 8106 RDNSS and DNSSL, RFC 3971 Nonce, and the R flag of RFC 6275 §7.2.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     Type      |    Length     |              ...              |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ~                              ...                              ~
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! The Length counts units of 8 octets including Type and Length. [`Iter`] walks an
//! option area and stops at the first option of length zero or one that runs past the
//! area (RFC 4861 §4.6: both are invalid, and the whole message is then discarded).

use core::fmt;
use core::net::Ipv6Addr;

use crate::addr::EthernetAddress;
use crate::error::{Error, ErrorKind, Result, need};

const PROTO: &str = "icmpv6.opt";

mod field {
    pub const TYPE: usize = 0;
    pub const LENGTH: usize = 1;
    pub const DATA: usize = 2;
    // Prefix Information (RFC 4861 §4.6.2), offsets from the option's start.
    pub const PI_PREFIX_LEN: usize = 2;
    pub const PI_FLAGS: usize = 3;
    pub const PI_VALID: usize = 4;
    pub const PI_PREFERRED: usize = 8;
    pub const PI_PREFIX: usize = 16;
    // Route Information (RFC 4191 §2.3).
    pub const RI_PREFIX_LEN: usize = 2;
    pub const RI_FLAGS: usize = 3;
    pub const RI_LIFETIME: usize = 4;
    pub const RI_PREFIX: usize = 8;
    // MTU, RDNSS, DNSSL, Redirected Header: two reserved bytes, then a word or data.
    pub const WORD: usize = 4;
    pub const AFTER_WORD: usize = 8;
}

/// Option types (IANA "IPv6 Neighbor Discovery Option Formats").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct OptionType(pub u8);

impl OptionType {
    pub const SOURCE_LL_ADDR: Self = Self(0x01);
    pub const TARGET_LL_ADDR: Self = Self(0x02);
    pub const PREFIX_INFORMATION: Self = Self(0x03);
    pub const REDIRECTED_HEADER: Self = Self(0x04);
    pub const MTU: Self = Self(0x05);
    pub const NONCE: Self = Self(0x0e);
    pub const ROUTE_INFORMATION: Self = Self(0x18);
    pub const RDNSS: Self = Self(0x19);
    pub const DNSSL: Self = Self(0x1f);
}

/// Prefix Information flags (RFC 4861 §4.6.2, RFC 6275 §7.2).
pub mod prefix_flags {
    pub const ON_LINK: u8 = 0x80;
    pub const AUTONOMOUS: u8 = 0x40;
    /// Router Address (RFC 6275 §7.2): the prefix field holds a whole router address.
    pub const ROUTER_ADDRESS: u8 = 0x20;
}

/// Default Router / route preference (RFC 4191 §2.1), two bits as a signed value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Preference {
    Medium,
    High,
    Low,
    /// 10: reserved; RFC 4191 §2.1 says treat as Medium (RAs) or ignore the route.
    Reserved,
}

impl Preference {
    pub const fn from_bits(bits: u8) -> Self {
        match bits & 0x3 {
            0b00 => Preference::Medium,
            0b01 => Preference::High,
            0b11 => Preference::Low,
            _ => Preference::Reserved,
        }
    }

    pub const fn bits(self) -> u8 {
        match self {
            Preference::Medium => 0b00,
            Preference::High => 0b01,
            Preference::Low => 0b11,
            Preference::Reserved => 0b10,
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            Preference::Medium => "medium",
            Preference::High => "high",
            Preference::Low => "low",
            Preference::Reserved => "reserved",
        }
    }
}

/// A view of one option: at least Type and Length, and a length that is neither zero nor
/// runs past the buffer.
#[derive(Debug, Clone, Copy)]
pub struct NdiscOption<T: AsRef<[u8]>> {
    buffer: T,
}

impl<'a> NdiscOption<&'a [u8]> {
    /// Everything after Type and Length, as long as the Length says.
    pub fn into_data(self) -> &'a [u8] {
        &self.buffer[field::DATA..self.total_len()]
    }

    /// The option's bytes from `at` up to its end, or nothing when it is shorter.
    fn tail(self, at: usize) -> &'a [u8] {
        self.buffer.get(at..self.total_len()).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]>> NdiscOption<T> {
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Checks Type, Length and that the option fits the buffer (RFC 4861 §4.6).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let b = buffer.as_ref();
        need(PROTO, b, 2)?;
        let len = usize::from(b[field::LENGTH]) * 8;
        if len == 0 {
            // RFC 4861 §4.6: nodes MUST silently discard a packet with a zero-length option.
            return Err(Error::new(
                PROTO,
                ErrorKind::BadOption,
                field::LENGTH,
                "option length is zero",
            ));
        }
        if len > b.len() {
            return Err(Error::new(
                PROTO,
                ErrorKind::BadOption,
                field::LENGTH,
                "option runs past the message",
            ));
        }
        Ok(Self { buffer })
    }

    pub fn option_type(&self) -> OptionType {
        OptionType(self.buffer.as_ref()[field::TYPE])
    }

    /// The Length field, in units of 8 octets.
    pub fn length(&self) -> u8 {
        self.buffer.as_ref()[field::LENGTH]
    }

    /// The option's size in bytes.
    pub fn total_len(&self) -> usize {
        usize::from(self.length()) * 8
    }

    fn read<const N: usize>(&self, at: usize) -> [u8; N] {
        let mut out = [0u8; N];
        let b = &self.buffer.as_ref()[..self.total_len()];
        if let Some(src) = b.get(at..) {
            let n = src.len().min(N);
            out[..n].copy_from_slice(&src[..n]);
        }
        out
    }

    fn u32_at(&self, at: usize) -> u32 {
        u32::from_be_bytes(self.read(at))
    }

    /// Source/Target Link-Layer Address: the first six data bytes as a MAC (Ethernet).
    pub fn ethernet_addr(&self) -> Option<EthernetAddress> {
        EthernetAddress::from_bytes(&self.buffer.as_ref()[field::DATA..self.total_len()])
    }

    /// Prefix Information / Route Information: the prefix length.
    pub fn prefix_len(&self) -> u8 {
        self.read::<1>(field::PI_PREFIX_LEN)[0]
    }

    /// Prefix Information / Route Information: the flags byte.
    pub fn flags(&self) -> u8 {
        self.read::<1>(field::PI_FLAGS)[0]
    }

    pub fn valid_lifetime(&self) -> u32 {
        self.u32_at(field::PI_VALID)
    }

    pub fn preferred_lifetime(&self) -> u32 {
        self.u32_at(field::PI_PREFERRED)
    }

    /// Prefix Information: the prefix (zero where the option is too short).
    pub fn prefix(&self) -> Ipv6Addr {
        Ipv6Addr::from(self.read::<16>(field::PI_PREFIX))
    }

    /// Route Information: the route preference bits.
    pub fn route_preference(&self) -> Preference {
        Preference::from_bits(self.read::<1>(field::RI_FLAGS)[0] >> 3)
    }

    pub fn route_lifetime(&self) -> u32 {
        self.u32_at(field::RI_LIFETIME)
    }

    /// Route Information: the 0, 8 or 16 prefix bytes present, zero-extended.
    pub fn route_prefix(&self) -> Ipv6Addr {
        Ipv6Addr::from(self.read::<16>(field::RI_PREFIX))
    }

    /// MTU, or the Lifetime of RDNSS and DNSSL: the word after two reserved bytes.
    pub fn word(&self) -> u32 {
        self.u32_at(field::WORD)
    }
}

impl<'a> NdiscOption<&'a [u8]> {
    /// RDNSS: the address area (a multiple of 16 bytes).
    pub fn rdnss_addrs(self) -> AddrIter<'a> {
        let b = self.tail(field::AFTER_WORD);
        AddrIter {
            rest: &b[..b.len() / 16 * 16],
        }
    }

    /// DNSSL: the domain names in DNS wire format, with their zero padding.
    pub fn dnssl_names(self) -> DomainNames<'a> {
        DomainNames {
            rest: self.tail(field::AFTER_WORD),
            done: false,
        }
    }

    /// Route Information: the prefix bytes present (0, 8 or 16).
    pub fn route_prefix_bytes(self) -> &'a [u8] {
        self.tail(field::RI_PREFIX)
    }

    /// Redirected Header: the quoted packet (RFC 4861 §4.6.3), after six reserved bytes.
    pub fn redirected_packet(self) -> &'a [u8] {
        self.tail(field::AFTER_WORD)
    }
}

/// A bounded walk over an option area: each step consumes at least 8 bytes, and the
/// first invalid option ends the walk with its error.
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    rest: &'a [u8],
    offset: usize,
    failed: bool,
}

impl<'a> Iter<'a> {
    pub fn new(options: &'a [u8]) -> Self {
        Self {
            rest: options,
            offset: 0,
            failed: false,
        }
    }

    /// The offset of the next option within the area.
    pub fn offset(&self) -> usize {
        self.offset
    }
}

impl<'a> Iterator for Iter<'a> {
    type Item = Result<NdiscOption<&'a [u8]>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        match NdiscOption::new_checked(self.rest) {
            Ok(o) => {
                let n = o.total_len();
                let opt = NdiscOption {
                    buffer: &self.rest[..n],
                };
                self.rest = &self.rest[n..];
                self.offset += n;
                Some(Ok(opt))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e.at(self.offset)))
            }
        }
    }
}

/// Checks a whole option area: every option valid, none past the end.
pub fn validate(options: &[u8]) -> Result<()> {
    Iter::new(options).try_for_each(|o| o.map(|_| ()))
}

/// The IPv6 addresses of an RDNSS option.
#[derive(Debug, Clone)]
pub struct AddrIter<'a> {
    rest: &'a [u8],
}

impl Iterator for AddrIter<'_> {
    type Item = Ipv6Addr;

    fn next(&mut self) -> Option<Ipv6Addr> {
        let (a, rest) = self.rest.split_first_chunk::<16>()?;
        self.rest = rest;
        Some(Ipv6Addr::from(*a))
    }
}

/// The longest domain name in wire format (RFC 1035 §2.3.4).
const MAX_NAME_LEN: usize = 255;
const MAX_LABEL_LEN: usize = 63;

/// A domain name in DNS wire format, checked: labels of 1-63 bytes, ending in the root
/// label, at most 255 bytes. Shown as dotted text without the final dot.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct DomainName<'a> {
    /// The wire bytes including the terminating zero.
    wire: &'a [u8],
}

impl<'a> DomainName<'a> {
    pub fn wire(&self) -> &'a [u8] {
        self.wire
    }

    /// The labels, in order, without the root.
    pub fn labels(&self) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        let mut rest = self.wire;
        core::iter::from_fn(move || {
            let (&n, tail) = rest.split_first()?;
            let n = usize::from(n);
            if n == 0 || n > tail.len() {
                return None;
            }
            let (label, tail) = tail.split_at(n);
            rest = tail;
            Some(label)
        })
    }
}

impl fmt::Display for DomainName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, label) in self.labels().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            for &c in label {
                if c.is_ascii_graphic() && c != b'.' && c != b'\\' {
                    write!(f, "{}", c as char)?;
                } else {
                    write!(f, "\\{c:03}")?;
                }
            }
        }
        Ok(())
    }
}

impl fmt::Debug for DomainName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DomainName({self})")
    }
}

/// The names of a DNSSL option. Stops at the zero padding that ends the list; yields an
/// error for a compression pointer (RFC 8106 §5.2 forbids them), a label past the end,
/// or a name over 255 bytes, and then stops.
#[derive(Debug, Clone)]
pub struct DomainNames<'a> {
    rest: &'a [u8],
    done: bool,
}

impl<'a> DomainNames<'a> {
    /// Walks a DNSSL name area as [`Repr::Dnssl`] holds it.
    pub fn new(names: &'a [u8]) -> Self {
        Self {
            rest: names,
            done: false,
        }
    }
}

impl<'a> Iterator for DomainNames<'a> {
    type Item = Result<DomainName<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        // A zero where a name would start is padding: the list is over.
        if self.rest.first().is_none_or(|&b| b == 0) {
            self.done = true;
            return None;
        }
        let mut at = 0;
        loop {
            let Some(&n) = self.rest.get(at) else {
                self.done = true;
                return Some(Err(Error::new(
                    PROTO,
                    ErrorKind::BadValue,
                    at,
                    "domain name runs past the option",
                )));
            };
            if n & 0xc0 != 0 {
                // RFC 8106 §5.2: the names MUST NOT be compressed; 01/10 prefixes are unused.
                self.done = true;
                return Some(Err(Error::new(
                    PROTO,
                    ErrorKind::BadValue,
                    at,
                    "compressed or extended label in a domain name",
                )));
            }
            let n = usize::from(n);
            at += 1 + n;
            if at > MAX_NAME_LEN {
                self.done = true;
                return Some(Err(Error::new(
                    PROTO,
                    ErrorKind::BadValue,
                    at,
                    "domain name longer than 255 bytes",
                )));
            }
            if n == 0 {
                let (name, rest) = self.rest.split_at(at);
                self.rest = rest;
                return Some(Ok(DomainName { wire: name }));
            }
            debug_assert!(n <= MAX_LABEL_LEN);
        }
    }
}

/// Writes `names` (dotted text, e.g. `example.com`) in DNS wire format into `buf`,
/// returning the bytes used, or `None` if a label is empty or too long or `buf` too small.
pub fn encode_domain_names<'s>(
    names: impl IntoIterator<Item = &'s str>,
    buf: &mut [u8],
) -> Option<usize> {
    let mut at = 0;
    for name in names {
        let start = at;
        for label in name.trim_end_matches('.').split('.') {
            if label.is_empty() || label.len() > MAX_LABEL_LEN {
                return None;
            }
            *buf.get_mut(at)? = label.len() as u8;
            buf.get_mut(at + 1..at + 1 + label.len())?
                .copy_from_slice(label.as_bytes());
            at += 1 + label.len();
        }
        *buf.get_mut(at)? = 0;
        at += 1;
        if at - start > MAX_NAME_LEN {
            return None;
        }
    }
    Some(at)
}

/// An option as values. Data areas are borrowed, so nothing is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repr<'a> {
    /// The link-layer address with any padding (six bytes for Ethernet).
    SourceLinkLayerAddr(&'a [u8]),
    TargetLinkLayerAddr(&'a [u8]),
    PrefixInformation {
        prefix_len: u8,
        flags: u8,
        valid_lifetime: u32,
        preferred_lifetime: u32,
        prefix: Ipv6Addr,
    },
    /// The quoted packet, with its padding.
    RedirectedHeader(&'a [u8]),
    Mtu(u32),
    /// RFC 4191 §2.3. Emitted with the fewest prefix bytes its prefix length needs.
    RouteInformation {
        prefix_len: u8,
        preference: Preference,
        route_lifetime: u32,
        prefix: Ipv6Addr,
    },
    /// RFC 8106 §5.1; `addrs` is the address area, a multiple of 16 bytes.
    Rdnss {
        lifetime: u32,
        addrs: &'a [u8],
    },
    /// RFC 8106 §5.2; `names` is the wire-format name list with its padding.
    Dnssl {
        lifetime: u32,
        names: &'a [u8],
    },
    /// RFC 3971 §5.3.2: the nonce bytes.
    Nonce(&'a [u8]),
    Unknown {
        option_type: u8,
        data: &'a [u8],
    },
}

impl<'a> Repr<'a> {
    /// Parses a checked option, refusing a known type whose length is wrong for it.
    pub fn parse(o: &NdiscOption<&'a [u8]>) -> Result<Self> {
        let bad = |reason| {
            Err(Error::new(
                PROTO,
                ErrorKind::BadOption,
                field::LENGTH,
                reason,
            ))
        };
        let len = o.length();
        Ok(match o.option_type() {
            OptionType::SOURCE_LL_ADDR => Repr::SourceLinkLayerAddr(o.into_data()),
            OptionType::TARGET_LL_ADDR => Repr::TargetLinkLayerAddr(o.into_data()),
            OptionType::PREFIX_INFORMATION => {
                if len != 4 {
                    return bad("prefix information length is not 4");
                }
                Repr::PrefixInformation {
                    prefix_len: o.prefix_len(),
                    flags: o.flags(),
                    valid_lifetime: o.valid_lifetime(),
                    preferred_lifetime: o.preferred_lifetime(),
                    prefix: o.prefix(),
                }
            }
            OptionType::REDIRECTED_HEADER => Repr::RedirectedHeader(o.redirected_packet()),
            OptionType::MTU => {
                if len != 1 {
                    return bad("MTU option length is not 1");
                }
                Repr::Mtu(o.word())
            }
            OptionType::ROUTE_INFORMATION => {
                let plen = o.prefix_len();
                // RFC 4191 §2.3: the length must hold the prefix.
                if plen > 128 || len > 3 || (plen > 64 && len < 3) || (plen > 0 && len < 2) {
                    return bad("route information length does not fit its prefix length");
                }
                Repr::RouteInformation {
                    prefix_len: plen,
                    preference: o.route_preference(),
                    route_lifetime: o.route_lifetime(),
                    prefix: o.route_prefix(),
                }
            }
            OptionType::RDNSS => {
                // RFC 8106 §5.1: at least one address, so the length is odd and at least 3.
                if len < 3 || len.is_multiple_of(2) {
                    return bad("RDNSS length is not an odd number of at least 3");
                }
                Repr::Rdnss {
                    lifetime: o.word(),
                    addrs: o.tail(field::AFTER_WORD),
                }
            }
            OptionType::DNSSL => {
                if len < 2 {
                    return bad("DNSSL length is less than 2");
                }
                let names = o.tail(field::AFTER_WORD);
                for n in (DomainNames {
                    rest: names,
                    done: false,
                }) {
                    n?;
                }
                Repr::Dnssl {
                    lifetime: o.word(),
                    names,
                }
            }
            OptionType::NONCE => Repr::Nonce(o.into_data()),
            t => Repr::Unknown {
                option_type: t.0,
                data: o.into_data(),
            },
        })
    }

    pub fn option_type(&self) -> OptionType {
        match self {
            Repr::SourceLinkLayerAddr(_) => OptionType::SOURCE_LL_ADDR,
            Repr::TargetLinkLayerAddr(_) => OptionType::TARGET_LL_ADDR,
            Repr::PrefixInformation { .. } => OptionType::PREFIX_INFORMATION,
            Repr::RedirectedHeader(_) => OptionType::REDIRECTED_HEADER,
            Repr::Mtu(_) => OptionType::MTU,
            Repr::RouteInformation { .. } => OptionType::ROUTE_INFORMATION,
            Repr::Rdnss { .. } => OptionType::RDNSS,
            Repr::Dnssl { .. } => OptionType::DNSSL,
            Repr::Nonce(_) => OptionType::NONCE,
            Repr::Unknown { option_type, .. } => OptionType(*option_type),
        }
    }

    /// The content length before padding to a multiple of 8.
    fn content_len(&self) -> usize {
        match self {
            Repr::SourceLinkLayerAddr(d)
            | Repr::TargetLinkLayerAddr(d)
            | Repr::Nonce(d)
            | Repr::Unknown { data: d, .. } => 2 + d.len(),
            Repr::PrefixInformation { .. } => 32,
            Repr::RedirectedHeader(d)
            | Repr::Rdnss { addrs: d, .. }
            | Repr::Dnssl { names: d, .. } => 8 + d.len(),
            Repr::Mtu(_) => 8,
            Repr::RouteInformation { prefix_len, .. } => match prefix_len {
                0 => 8,
                1..=64 => 16,
                _ => 24,
            },
        }
    }

    /// The option's size, padded to a multiple of 8 bytes.
    pub fn buffer_len(&self) -> usize {
        self.content_len().div_ceil(8) * 8
    }

    /// Writes the option at the start of `buf`, zero-padded. Fails when it is larger than
    /// the Length field can say (2040 bytes).
    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        let len = self.buffer_len();
        if len / 8 > usize::from(u8::MAX) {
            return Err(Error::new(
                PROTO,
                ErrorKind::BadLength,
                field::LENGTH,
                "option longer than 2040 bytes",
            ));
        }
        need(PROTO, buf, len)?;
        let b = &mut buf[..len];
        b.fill(0);
        b[field::TYPE] = self.option_type().0;
        b[field::LENGTH] = (len / 8) as u8;
        match self {
            Repr::SourceLinkLayerAddr(d)
            | Repr::TargetLinkLayerAddr(d)
            | Repr::Nonce(d)
            | Repr::Unknown { data: d, .. } => {
                b[field::DATA..field::DATA + d.len()].copy_from_slice(d)
            }
            Repr::PrefixInformation {
                prefix_len,
                flags,
                valid_lifetime,
                preferred_lifetime,
                prefix,
            } => {
                b[field::PI_PREFIX_LEN] = *prefix_len;
                b[field::PI_FLAGS] = *flags;
                b[field::PI_VALID..field::PI_VALID + 4]
                    .copy_from_slice(&valid_lifetime.to_be_bytes());
                b[field::PI_PREFERRED..field::PI_PREFERRED + 4]
                    .copy_from_slice(&preferred_lifetime.to_be_bytes());
                b[field::PI_PREFIX..field::PI_PREFIX + 16].copy_from_slice(&prefix.octets());
            }
            Repr::RedirectedHeader(d)
            | Repr::Rdnss { addrs: d, .. }
            | Repr::Dnssl { names: d, .. } => {
                if let Repr::Rdnss { lifetime, .. } | Repr::Dnssl { lifetime, .. } = self {
                    b[field::WORD..field::WORD + 4].copy_from_slice(&lifetime.to_be_bytes());
                }
                b[field::AFTER_WORD..field::AFTER_WORD + d.len()].copy_from_slice(d);
            }
            Repr::Mtu(mtu) => b[field::WORD..field::WORD + 4].copy_from_slice(&mtu.to_be_bytes()),
            Repr::RouteInformation {
                prefix_len,
                preference,
                route_lifetime,
                prefix,
            } => {
                b[field::RI_PREFIX_LEN] = *prefix_len;
                b[field::RI_FLAGS] = preference.bits() << 3;
                b[field::RI_LIFETIME..field::RI_LIFETIME + 4]
                    .copy_from_slice(&route_lifetime.to_be_bytes());
                let n = len - field::RI_PREFIX;
                b[field::RI_PREFIX..].copy_from_slice(&prefix.octets()[..n]);
            }
        }
        Ok(())
    }
}

/// The total size of a list of options.
pub fn buffer_len_all(options: &[Repr<'_>]) -> usize {
    options.iter().map(Repr::buffer_len).sum()
}

/// Writes a list of options one after another; returns the bytes written.
pub fn emit_all(options: &[Repr<'_>], buf: &mut [u8]) -> Result<usize> {
    let mut at = 0;
    for o in options {
        let rest = buf.get_mut(at..).unwrap_or_default();
        o.emit(rest).map_err(|e| e.at(at))?;
        at += o.buffer_len();
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[rustfmt::skip]
    const OPTIONS: [u8; 64] = [
        0x01, 0x01,                         // source link-layer address, length 1
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, // 00:11:22:33:44:55
        0x03, 0x04,                         // prefix information, length 4
        0x40, 0xc0,                         // prefix length 64, flags L A
        0x00, 0x01, 0x51, 0x80,             // valid lifetime 86400
        0x00, 0x00, 0x38, 0x40,             // preferred lifetime 14400
        0x00, 0x00, 0x00, 0x00,             // reserved
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 2001:db8::
        0x18, 0x02,                         // route information, length 2
        0x30, 0x18,                         // prefix length 48, preference low
        0x00, 0x00, 0x02, 0x58,             // route lifetime 600
        0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, // 2001:db8:1::
        0x1f, 0x01,                         // DNSSL, length 1 (bad: no room for names)
        0x00, 0x00, 0x00, 0x00, 0x02, 0x58, // reserved, lifetime 600
    ];

    #[test]
    fn walk() {
        let mut it = Iter::new(&OPTIONS);
        let o = it.next().unwrap().unwrap();
        assert_eq!(
            Repr::parse(&o).unwrap(),
            Repr::SourceLinkLayerAddr(&OPTIONS[2..8])
        );
        assert_eq!(o.ethernet_addr().unwrap().to_string(), "00:11:22:33:44:55");
        let o = it.next().unwrap().unwrap();
        assert_eq!(
            Repr::parse(&o).unwrap(),
            Repr::PrefixInformation {
                prefix_len: 64,
                flags: prefix_flags::ON_LINK | prefix_flags::AUTONOMOUS,
                valid_lifetime: 86400,
                preferred_lifetime: 14400,
                prefix: "2001:db8::".parse().unwrap(),
            }
        );
        let o = it.next().unwrap().unwrap();
        assert_eq!(
            Repr::parse(&o).unwrap(),
            Repr::RouteInformation {
                prefix_len: 48,
                preference: Preference::Low,
                route_lifetime: 600,
                prefix: "2001:db8:1::".parse().unwrap(),
            }
        );
        let o = it.next().unwrap().unwrap();
        assert_eq!(Repr::parse(&o).unwrap_err().kind, ErrorKind::BadOption);
        assert!(it.next().is_none());
    }

    #[test]
    fn zero_length_and_overrun_stop_the_walk() {
        let zero = [0x01, 0x00, 0, 0, 0, 0, 0, 0, 0x01, 0x01, 0, 0, 0, 0, 0, 0];
        let mut it = Iter::new(&zero);
        assert_eq!(it.next().unwrap().unwrap_err().kind, ErrorKind::BadOption);
        assert!(it.next().is_none());
        let over = [
            0x05, 0x01, 0, 0, 0, 0, 0x05, 0xdc, 0x05, 0x02, 0, 0, 0, 0, 0, 0,
        ];
        let mut it = Iter::new(&over);
        assert!(it.next().unwrap().is_ok());
        let e = it.next().unwrap().unwrap_err();
        assert_eq!((e.kind, e.offset), (ErrorKind::BadOption, 9));
        assert!(it.next().is_none());
        assert!(validate(&over).is_err());
        assert!(validate(&OPTIONS[..56]).is_ok());
    }

    #[test]
    fn dnssl_names() {
        #[rustfmt::skip]
        let opt = [
            0x1f, 0x03, 0x00, 0x00,         // DNSSL, length 3, reserved
            0x00, 0x00, 0x02, 0x58,         // lifetime 600
            0x03, b'l', b'a', b'b', 0x03, b'c', b'o', b'm', 0x00, // lab.com
            0x01, b'x', 0x00,               // x
            0x00, 0x00, 0x00, 0x00,         // padding
        ];
        let o = NdiscOption::new_checked(&opt[..]).unwrap();
        let names: Vec<String> = o.dnssl_names().map(|n| n.unwrap().to_string()).collect();
        assert_eq!(names, ["lab.com", "x"]);
        let mut ptr = opt;
        ptr[12] = 0xc0;
        let o = NdiscOption::new_checked(&ptr[..]).unwrap();
        assert!(Repr::parse(&o).is_err());
        let mut runs_off = opt;
        runs_off[17] = 0x3f;
        let o = NdiscOption::new_checked(&runs_off[..]).unwrap();
        assert!(o.dnssl_names().any(|n| n.is_err()));
        let mut buf = [0u8; 32];
        let n = encode_domain_names(["lab.com", "x."], &mut buf).unwrap();
        assert_eq!(&buf[..n], &opt[8..20]);
        assert!(encode_domain_names(["a..b"], &mut buf).is_none());
    }

    fn arb_repr() -> impl Strategy<Value = (u8, Vec<u8>, u8, u8, u32, u32, [u8; 16])> {
        (
            0u8..10,
            proptest::collection::vec(any::<u8>(), 1..5),
            any::<u8>(),
            0u8..=128,
            any::<u32>(),
            any::<u32>(),
            any::<[u8; 16]>(),
        )
    }

    fn mask(prefix: [u8; 16], plen: u8) -> Ipv6Addr {
        let bytes = match plen {
            0 => 0,
            1..=64 => 8,
            _ => 16,
        };
        let mut p = [0u8; 16];
        p[..bytes].copy_from_slice(&prefix[..bytes]);
        Ipv6Addr::from(p)
    }

    proptest! {
        #[test]
        fn emit_parse_identity((kind, words, byte, plen, a, b, addr) in arb_repr()) {
            // Data areas whose padded length is a multiple of 8 round-trip exactly.
            let raw6: Vec<u8> = words.iter().cycle().take(6 + 8 * (words.len() % 3)).copied().collect();
            let raw8: Vec<u8> = words.iter().cycle().take(8 * words.len()).copied().collect();
            let addrs: Vec<u8> = addr.iter().cycle().take(16 * (1 + words.len())).copied().collect();
            let mut names = [0u8; 64];
            let n = encode_domain_names(["example.com", "a.b"], &mut names).unwrap();
            let names_padded = &names[..n.div_ceil(8) * 8];
            let r = match kind {
                0 => Repr::SourceLinkLayerAddr(&raw6),
                1 => Repr::TargetLinkLayerAddr(&raw6),
                2 => Repr::PrefixInformation { prefix_len: plen, flags: byte, valid_lifetime: a, preferred_lifetime: b, prefix: addr.into() },
                3 => Repr::RedirectedHeader(&raw8),
                4 => Repr::Mtu(a),
                5 => Repr::RouteInformation { prefix_len: plen, preference: Preference::from_bits(byte), route_lifetime: a, prefix: mask(addr, plen) },
                6 => Repr::Rdnss { lifetime: a, addrs: &addrs },
                7 => Repr::Dnssl { lifetime: a, names: names_padded },
                8 => Repr::Nonce(&raw6),
                _ => Repr::Unknown { option_type: byte.max(0x20), data: &raw6 },
            };
            let mut buf = vec![0u8; r.buffer_len()];
            r.emit(&mut buf).unwrap();
            let o = NdiscOption::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(Repr::parse(&o).unwrap(), r);
        }

        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..120)) {
            for o in Iter::new(&data).flatten() {
                let _ = Repr::parse(&o);
                let _ = (o.prefix(), o.route_prefix(), o.word(), o.valid_lifetime(), o.ethernet_addr());
                let _ = o.rdnss_addrs().count();
                for n in o.dnssl_names().flatten() {
                    let _ = n.to_string();
                }
                let _ = (o.route_prefix_bytes(), o.redirected_packet(), o.into_data());
            }
            prop_assert!(Iter::new(&data).count() <= data.len() / 8 + 1);
        }
    }
}
