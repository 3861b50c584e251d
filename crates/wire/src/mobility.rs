//! The Mobility Header of Mobile IPv6 (RFC 6275 §6.1), its messages (§6.1.2–§6.1.9) and
//! its options (§6.2).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Payload Proto |  Header Len   |   MH Type     |   Reserved    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |           Checksum            |                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               |
//! .                                                               .
//! .                       Message Data                            .
//! .                                                               .
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Header Len counts 8-octet units after the first eight octets, so the header is always a
//! multiple of 8 octets long (§6.1.1). Each known message has fixed fields followed by
//! mobility options, TLVs like the IPv6 extension-header options but with their own type
//! space:
//!
//! ```text
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+- - - - - - - - -
//! |  Option Type  | Option Length |   Option Data...
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+- - - - - - - - -
//! ```
//!
//! (Pad1 is the single octet 0.) [`Packet::new_checked`] is the view for the stack: the
//! header length fits the buffer, is at least what the message type needs (§9.2), and
//! every option lies within the header. [`Packet::new_lenient`] needs only the six octets
//! up to the checksum, for quoted or truncated packets. The checksum covers the IPv6
//! pseudo-header with next header 135 (§6.1.1).

use core::net::Ipv6Addr;

use crate::checksum::Checksum;
use crate::error::{Error, ErrorKind, Result, need};
use crate::proto::IpProtocol;

const PROTO: &str = "mipv6";

mod field {
    use core::ops::Range;
    pub const PAYLOAD_PROTO: usize = 0;
    pub const HEADER_LEN: usize = 1;
    pub const MH_TYPE: usize = 2;
    pub const RESERVED: usize = 3;
    pub const CHECKSUM: Range<usize> = 4..6;
    pub const DATA: usize = 6;
}

/// The octets up to and including the checksum, present in every message.
pub const FIXED_LEN: usize = field::DATA;
/// The shortest header: Header Len 0, eight octets.
pub const MIN_HEADER_LEN: usize = 8;
/// The longest header: Header Len 255.
pub const MAX_HEADER_LEN: usize = (255 + 1) * 8;

/// A Mobility Header type (IANA "Mobility Header Types - for the MH Type field").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MhType(pub u8);

impl MhType {
    pub const BINDING_REFRESH_REQUEST: Self = Self(0x00);
    pub const HOME_TEST_INIT: Self = Self(0x01);
    pub const CARE_OF_TEST_INIT: Self = Self(0x02);
    pub const HOME_TEST: Self = Self(0x03);
    pub const CARE_OF_TEST: Self = Self(0x04);
    pub const BINDING_UPDATE: Self = Self(0x05);
    pub const BINDING_ACK: Self = Self(0x06);
    pub const BINDING_ERROR: Self = Self(0x07);

    /// The octets of fixed message fields after the checksum, before the options, for the
    /// types RFC 6275 defines; `None` for others, whose data is opaque here.
    pub const fn message_len(self) -> Option<usize> {
        Some(match self.0 {
            0x00 => 2,
            0x01 | 0x02 => 10,
            0x03 | 0x04 => 18,
            0x05 | 0x06 => 6,
            0x07 => 18,
            _ => return None,
        })
    }

    /// The offset of the first option within the header, for known types.
    pub const fn options_offset(self) -> Option<usize> {
        match self.message_len() {
            Some(n) => Some(FIXED_LEN + n),
            None => None,
        }
    }

    /// The abbreviation RFC 6275 and tcpdump use ("BU", "HoTI", ...).
    pub const fn abbrev(self) -> Option<&'static str> {
        Some(match self.0 {
            0x00 => "BRR",
            0x01 => "HoTI",
            0x02 => "CoTI",
            0x03 => "HoT",
            0x04 => "CoT",
            0x05 => "BU",
            0x06 => "BA",
            0x07 => "BE",
            _ => return None,
        })
    }
}

/// A read (and, over a mutable buffer, write) view of a Mobility Header.
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<'a> Packet<&'a [u8]> {
    /// The message data after the checksum, up to the header's end (cut to the buffer).
    pub fn into_message_data(self) -> &'a [u8] {
        let end = self.end();
        &self.buffer[field::DATA..end]
    }

    /// The options of a known message type (empty for others), borrowed for `'a`.
    pub fn into_options(self) -> Options<'a> {
        let end = self.end();
        match self.mh_type().options_offset() {
            Some(off) if off <= end => Options::new(&self.buffer[off..end], off),
            _ => Options::new(&[], end),
        }
    }

    /// The octets after the header (what the payload proto would name).
    pub fn into_payload(self) -> &'a [u8] {
        let end = self.end();
        &self.buffer[end..]
    }
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// A view without checks; accessors may panic on a short buffer. For emit paths
    /// whose buffer length the caller sized.
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// The strict view: the whole header is in the buffer, it is long enough for its
    /// message type, and its options are well formed.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_lenient(buffer)?;
        let len = p.header_len_bytes();
        let avail = p.buffer.as_ref().len();
        if len > avail {
            return Err(Error::new(
                PROTO,
                ErrorKind::BadLength,
                field::HEADER_LEN,
                "header length exceeds the buffer",
            ));
        }
        // RFC 6275 §9.2: Header Len MUST NOT be less than the message type requires.
        if let Some(min) = p.mh_type().options_offset()
            && len < min
        {
            return Err(Error::new(
                PROTO,
                ErrorKind::BadLength,
                field::HEADER_LEN,
                "header length too small for the message type",
            ));
        }
        let b = &p.buffer.as_ref()[..len];
        if let Some(off) = p.mh_type().options_offset() {
            for opt in Options::new(&b[off..], off) {
                opt?.check()?;
            }
        }
        Ok(p)
    }

    /// The lenient view: the six octets through the checksum; the rest may be cut short.
    pub fn new_lenient(buffer: T) -> Result<Self> {
        need(PROTO, buffer.as_ref(), FIXED_LEN)?;
        Ok(Self { buffer })
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The end of the header within the buffer, cut to the buffer.
    fn end(&self) -> usize {
        self.header_len_bytes().min(self.buffer.as_ref().len())
    }

    pub fn payload_proto(&self) -> IpProtocol {
        IpProtocol(self.buffer.as_ref()[field::PAYLOAD_PROTO])
    }

    /// Header Len as on the wire: 8-octet units after the first eight octets.
    pub fn header_len(&self) -> u8 {
        self.buffer.as_ref()[field::HEADER_LEN]
    }

    /// The header's length in octets, `(Header Len + 1) * 8`.
    pub fn header_len_bytes(&self) -> usize {
        (usize::from(self.header_len()) + 1) * 8
    }

    pub fn mh_type(&self) -> MhType {
        MhType(self.buffer.as_ref()[field::MH_TYPE])
    }

    pub fn reserved(&self) -> u8 {
        self.buffer.as_ref()[field::RESERVED]
    }

    pub fn checksum(&self) -> u16 {
        let b = self.buffer.as_ref();
        u16::from_be_bytes([b[field::CHECKSUM.start], b[field::CHECKSUM.start + 1]])
    }

    /// The message data after the checksum, up to the header's end (cut to the buffer).
    pub fn message_data(&self) -> &[u8] {
        &self.buffer.as_ref()[field::DATA..self.end()]
    }

    /// The options of a known message type; empty for others.
    pub fn options(&self) -> Options<'_> {
        Packet::new_unchecked(self.buffer.as_ref()).into_options()
    }

    /// Whether the header length says more than the buffer holds.
    pub fn is_truncated(&self) -> bool {
        self.header_len_bytes() > self.buffer.as_ref().len()
    }

    /// The checksum the header should carry, computed with the field taken as zero.
    pub fn compute_checksum(&self, src: &Ipv6Addr, dst: &Ipv6Addr) -> u16 {
        let b = &self.buffer.as_ref()[..self.end()];
        // RFC 6275 §6.1.1: the pseudo-header's length is that of the Mobility Header.
        let mut c = Checksum::ipv6_pseudo_header(
            src,
            dst,
            self.header_len_bytes() as u32,
            IpProtocol::MOBILITY.0,
        );
        c.add_bytes(&b[..field::CHECKSUM.start])
            .add_bytes(&b[field::CHECKSUM.end..]);
        c.finish()
    }

    /// Whether the checksum verifies; false when the header is cut short.
    pub fn verify_checksum(&self, src: &Ipv6Addr, dst: &Ipv6Addr) -> bool {
        if self.is_truncated() {
            return false;
        }
        let b = &self.buffer.as_ref()[..self.end()];
        let mut c = Checksum::ipv6_pseudo_header(
            src,
            dst,
            self.header_len_bytes() as u32,
            IpProtocol::MOBILITY.0,
        );
        c.add_bytes(b);
        c.verifies()
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_payload_proto(&mut self, p: IpProtocol) {
        self.buffer.as_mut()[field::PAYLOAD_PROTO] = p.0;
    }

    pub fn set_header_len(&mut self, units: u8) {
        self.buffer.as_mut()[field::HEADER_LEN] = units;
    }

    pub fn set_mh_type(&mut self, t: MhType) {
        self.buffer.as_mut()[field::MH_TYPE] = t.0;
    }

    pub fn set_reserved(&mut self, v: u8) {
        self.buffer.as_mut()[field::RESERVED] = v;
    }

    pub fn set_checksum(&mut self, v: u16) {
        self.buffer.as_mut()[field::CHECKSUM].copy_from_slice(&v.to_be_bytes());
    }

    pub fn message_data_mut(&mut self) -> &mut [u8] {
        let end = self.end();
        &mut self.buffer.as_mut()[field::DATA..end]
    }

    /// Computes and writes the checksum over the header as it now stands.
    pub fn fill_checksum(&mut self, src: &Ipv6Addr, dst: &Ipv6Addr) {
        let c = self.compute_checksum(src, dst);
        self.set_checksum(c);
    }
}

/// Mobility option types (IANA "Mobility Options").
pub mod option_type {
    pub const PAD1: u8 = 0x00;
    pub const PADN: u8 = 0x01;
    pub const BINDING_REFRESH_ADVICE: u8 = 0x02;
    pub const ALTERNATE_CARE_OF_ADDRESS: u8 = 0x03;
    pub const NONCE_INDICES: u8 = 0x04;
    pub const BINDING_AUTHORIZATION_DATA: u8 = 0x05;
}

/// One option as found: its type and its octets, type and length included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawOption<'a> {
    pub option_type: u8,
    /// The whole option, type and length octets included (one octet for Pad1).
    pub bytes: &'a [u8],
    /// Where the option starts within the Mobility Header.
    pub offset: usize,
}

impl<'a> RawOption<'a> {
    /// The Option Data (empty for Pad1).
    pub fn data(&self) -> &'a [u8] {
        self.bytes.get(2..).unwrap_or(&[])
    }

    /// Refuses a known type whose length is not the one its section of §6.2 fixes.
    pub fn check(&self) -> Result<()> {
        let want = match self.option_type {
            option_type::BINDING_REFRESH_ADVICE => 2,
            option_type::ALTERNATE_CARE_OF_ADDRESS => 16,
            option_type::NONCE_INDICES => 4,
            _ => return Ok(()),
        };
        if self.data().len() != want {
            return Err(Error::new(
                PROTO,
                ErrorKind::BadOption,
                self.offset + 1,
                "option length wrong for its type",
            ));
        }
        Ok(())
    }

    /// The Option Length octet; `None` for Pad1, which has none.
    pub fn option_len(&self) -> Option<u8> {
        if self.option_type == option_type::PAD1 {
            None
        } else {
            self.bytes.get(1).copied()
        }
    }
}

/// An iterator over the mobility options of one header. Every step consumes at least one
/// octet, so it ends; an option that runs past the header yields one error and ends it.
#[derive(Debug, Clone)]
pub struct Options<'a> {
    rest: &'a [u8],
    /// Offset of `rest` within the Mobility Header, for error offsets.
    offset: usize,
}

impl<'a> Options<'a> {
    fn new(rest: &'a [u8], offset: usize) -> Self {
        Self { rest, offset }
    }
}

impl<'a> Iterator for Options<'a> {
    type Item = Result<RawOption<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        let (&t, tail) = self.rest.split_first()?;
        let offset = self.offset;
        let len = if t == option_type::PAD1 {
            1
        } else {
            match tail.first() {
                Some(&l) => 2 + usize::from(l),
                None => {
                    self.rest = &[];
                    return Some(Err(Error::new(
                        PROTO,
                        ErrorKind::BadOption,
                        offset,
                        "option length octet past the header",
                    )));
                }
            }
        };
        if len > self.rest.len() {
            self.rest = &[];
            return Some(Err(Error::new(
                PROTO,
                ErrorKind::BadOption,
                offset,
                "option runs past the header",
            )));
        }
        let (bytes, rest) = self.rest.split_at(len);
        self.rest = rest;
        self.offset += len;
        Some(Ok(RawOption {
            option_type: t,
            bytes,
            offset,
        }))
    }
}

/// A mobility option as values. Padding and unknown options keep their octets.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MobilityOption {
    /// §6.2.2: a single zero octet.
    Pad1,
    /// §6.2.3: the Option Data, normally zeros, kept as found.
    PadN(Vec<u8>),
    /// §6.2.4: the refresh interval, in 4-second units.
    BindingRefreshAdvice { refresh_interval: u16 },
    /// §6.2.5.
    AlternateCareOfAddress(Ipv6Addr),
    /// §6.2.6.
    NonceIndices {
        home_nonce_index: u16,
        care_of_nonce_index: u16,
    },
    /// §6.2.7: the authenticator.
    BindingAuthorizationData(Vec<u8>),
    /// Any other type, with its Option Data.
    Unknown { option_type: u8, data: Vec<u8> },
}

impl MobilityOption {
    /// The value of a found option; a known type with the wrong length is refused.
    pub fn parse(raw: &RawOption<'_>) -> Result<Self> {
        use option_type::*;
        raw.check()?;
        let d = raw.data();
        // Unwraps below: check() fixed the data length of each of these types.
        Ok(match raw.option_type {
            PAD1 => Self::Pad1,
            PADN => Self::PadN(d.to_vec()),
            BINDING_REFRESH_ADVICE => {
                let b: [u8; 2] = d.try_into().unwrap();
                Self::BindingRefreshAdvice {
                    refresh_interval: u16::from_be_bytes(b),
                }
            }
            ALTERNATE_CARE_OF_ADDRESS => {
                let b: [u8; 16] = d.try_into().unwrap();
                Self::AlternateCareOfAddress(Ipv6Addr::from(b))
            }
            NONCE_INDICES => {
                let b: [u8; 4] = d.try_into().unwrap();
                Self::NonceIndices {
                    home_nonce_index: u16::from_be_bytes([b[0], b[1]]),
                    care_of_nonce_index: u16::from_be_bytes([b[2], b[3]]),
                }
            }
            BINDING_AUTHORIZATION_DATA => Self::BindingAuthorizationData(d.to_vec()),
            t => Self::Unknown {
                option_type: t,
                data: d.to_vec(),
            },
        })
    }

    pub fn option_type(&self) -> u8 {
        use option_type::*;
        match self {
            Self::Pad1 => PAD1,
            Self::PadN(_) => PADN,
            Self::BindingRefreshAdvice { .. } => BINDING_REFRESH_ADVICE,
            Self::AlternateCareOfAddress(_) => ALTERNATE_CARE_OF_ADDRESS,
            Self::NonceIndices { .. } => NONCE_INDICES,
            Self::BindingAuthorizationData(_) => BINDING_AUTHORIZATION_DATA,
            Self::Unknown { option_type, .. } => *option_type,
        }
    }

    fn data_len(&self) -> usize {
        match self {
            Self::Pad1 => 0,
            Self::PadN(d) | Self::BindingAuthorizationData(d) | Self::Unknown { data: d, .. } => {
                d.len()
            }
            Self::BindingRefreshAdvice { .. } => 2,
            Self::AlternateCareOfAddress(_) => 16,
            Self::NonceIndices { .. } => 4,
        }
    }

    /// The option's length on the wire.
    pub fn buffer_len(&self) -> usize {
        match self {
            Self::Pad1 => 1,
            _ => 2 + self.data_len(),
        }
    }

    /// The alignment requirement `xn+y` as `(x, y)`, from the option's section of §6.2.
    pub fn alignment(&self) -> (usize, usize) {
        match self {
            Self::BindingRefreshAdvice { .. } | Self::NonceIndices { .. } => (2, 0),
            Self::AlternateCareOfAddress(_) => (8, 6),
            Self::BindingAuthorizationData(_) => (8, 2),
            _ => (1, 0),
        }
    }

    /// The padding option that fills `n` octets (`None` for zero): Pad1 for one, else PadN.
    pub fn padding(n: usize) -> Option<Self> {
        match n {
            0 => None,
            1 => Some(Self::Pad1),
            n => Some(Self::PadN(vec![0; n - 2])),
        }
    }

    /// Writes the option at the start of `buf`, which must hold [`Self::buffer_len`] octets.
    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        let len = self.buffer_len();
        need(PROTO, buf, len)?;
        let data_len = u8::try_from(self.data_len()).map_err(|_| {
            Error::new(
                PROTO,
                ErrorKind::BadOption,
                1,
                "option data over 255 octets",
            )
        })?;
        buf[0] = self.option_type();
        if let Self::Pad1 = self {
            return Ok(());
        }
        buf[1] = data_len;
        let d = &mut buf[2..len];
        match self {
            Self::Pad1 => {}
            Self::PadN(v) | Self::BindingAuthorizationData(v) | Self::Unknown { data: v, .. } => {
                d.copy_from_slice(v)
            }
            Self::BindingRefreshAdvice { refresh_interval } => {
                d.copy_from_slice(&refresh_interval.to_be_bytes())
            }
            Self::AlternateCareOfAddress(a) => d.copy_from_slice(&a.octets()),
            Self::NonceIndices {
                home_nonce_index,
                care_of_nonce_index,
            } => {
                d[..2].copy_from_slice(&home_nonce_index.to_be_bytes());
                d[2..].copy_from_slice(&care_of_nonce_index.to_be_bytes());
            }
        }
        Ok(())
    }
}

/// Fills `buf` with one padding option: Pad1 for one octet, PadN for more.
fn emit_padding(buf: &mut [u8]) {
    match buf.len() {
        0 => {}
        1 => buf[0] = option_type::PAD1,
        n => {
            buf.fill(0);
            buf[0] = option_type::PADN;
            // Cast: at most seven octets of padding are ever needed.
            buf[1] = (n - 2) as u8;
        }
    }
}

/// The Binding Update flags (§6.1.7), in the octet after the sequence number.
pub mod bu_flag {
    pub const A: u16 = 0x8000;
    pub const H: u16 = 0x4000;
    pub const L: u16 = 0x2000;
    pub const K: u16 = 0x1000;
}

/// The Binding Acknowledgement K flag (§6.1.8).
pub const BA_FLAG_K: u8 = 0x80;

/// A Mobility Header message's fixed fields as values.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Message {
    /// §6.1.2.
    BindingRefreshRequest { reserved: u16 },
    /// §6.1.3.
    HomeTestInit {
        reserved: u16,
        home_init_cookie: [u8; 8],
    },
    /// §6.1.4.
    CareOfTestInit {
        reserved: u16,
        care_of_init_cookie: [u8; 8],
    },
    /// §6.1.5.
    HomeTest {
        home_nonce_index: u16,
        home_init_cookie: [u8; 8],
        home_keygen_token: [u8; 8],
    },
    /// §6.1.6.
    CareOfTest {
        care_of_nonce_index: u16,
        care_of_init_cookie: [u8; 8],
        care_of_keygen_token: [u8; 8],
    },
    /// §6.1.7. `flags` is the 16 bits after the sequence number: A H L K ([`bu_flag`])
    /// and the bits later RFCs assign, kept as found. The lifetime is in 4-second units.
    BindingUpdate {
        sequence: u16,
        flags: u16,
        lifetime: u16,
    },
    /// §6.1.8. `flags` holds K ([`BA_FLAG_K`]) and the bits later RFCs assign.
    BindingAcknowledgement {
        status: u8,
        flags: u8,
        sequence: u16,
        lifetime: u16,
    },
    /// §6.1.9.
    BindingError {
        status: u8,
        reserved: u8,
        home_address: Ipv6Addr,
    },
    /// A type this module does not know, with all its data after the checksum.
    Unknown { mh_type: u8, data: Vec<u8> },
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn arr8(b: &[u8], at: usize) -> [u8; 8] {
    // Unwrap: the slice is exactly eight octets.
    b[at..at + 8].try_into().unwrap()
}

impl Message {
    /// The fixed fields of a message of type `t` from its data (the octets after the
    /// checksum). Needs only the fixed fields, not the options after them.
    pub fn parse(t: MhType, data: &[u8]) -> Result<Self> {
        if let Some(n) = t.message_len()
            && data.len() < n
        {
            return Err(Error::truncated(
                PROTO,
                FIXED_LEN + n,
                FIXED_LEN + data.len(),
            ));
        }
        let d = data;
        Ok(match t {
            MhType::BINDING_REFRESH_REQUEST => Self::BindingRefreshRequest {
                reserved: be16(d, 0),
            },
            MhType::HOME_TEST_INIT => Self::HomeTestInit {
                reserved: be16(d, 0),
                home_init_cookie: arr8(d, 2),
            },
            MhType::CARE_OF_TEST_INIT => Self::CareOfTestInit {
                reserved: be16(d, 0),
                care_of_init_cookie: arr8(d, 2),
            },
            MhType::HOME_TEST => Self::HomeTest {
                home_nonce_index: be16(d, 0),
                home_init_cookie: arr8(d, 2),
                home_keygen_token: arr8(d, 10),
            },
            MhType::CARE_OF_TEST => Self::CareOfTest {
                care_of_nonce_index: be16(d, 0),
                care_of_init_cookie: arr8(d, 2),
                care_of_keygen_token: arr8(d, 10),
            },
            MhType::BINDING_UPDATE => Self::BindingUpdate {
                sequence: be16(d, 0),
                flags: be16(d, 2),
                lifetime: be16(d, 4),
            },
            MhType::BINDING_ACK => Self::BindingAcknowledgement {
                status: d[0],
                flags: d[1],
                sequence: be16(d, 2),
                lifetime: be16(d, 4),
            },
            MhType::BINDING_ERROR => Self::BindingError {
                status: d[0],
                reserved: d[1],
                // Unwrap: sixteen octets, checked above.
                home_address: Ipv6Addr::from(<[u8; 16]>::try_from(&d[2..18]).unwrap()),
            },
            MhType(t) => Self::Unknown {
                mh_type: t,
                data: d.to_vec(),
            },
        })
    }

    pub fn mh_type(&self) -> MhType {
        match self {
            Self::BindingRefreshRequest { .. } => MhType::BINDING_REFRESH_REQUEST,
            Self::HomeTestInit { .. } => MhType::HOME_TEST_INIT,
            Self::CareOfTestInit { .. } => MhType::CARE_OF_TEST_INIT,
            Self::HomeTest { .. } => MhType::HOME_TEST,
            Self::CareOfTest { .. } => MhType::CARE_OF_TEST,
            Self::BindingUpdate { .. } => MhType::BINDING_UPDATE,
            Self::BindingAcknowledgement { .. } => MhType::BINDING_ACK,
            Self::BindingError { .. } => MhType::BINDING_ERROR,
            Self::Unknown { mh_type, .. } => MhType(*mh_type),
        }
    }

    /// The octets of the message's fields after the checksum.
    pub fn buffer_len(&self) -> usize {
        match self {
            Self::Unknown { data, .. } => data.len(),
            // Unwrap: every other variant is a type with a known length.
            m => m.mh_type().message_len().unwrap(),
        }
    }

    /// Writes the fields at the start of `buf`, which must hold [`Self::buffer_len`] octets.
    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        need(PROTO, buf, self.buffer_len())?;
        match self {
            Self::BindingRefreshRequest { reserved } => {
                buf[..2].copy_from_slice(&reserved.to_be_bytes())
            }
            Self::HomeTestInit {
                reserved,
                home_init_cookie: c,
            }
            | Self::CareOfTestInit {
                reserved,
                care_of_init_cookie: c,
            } => {
                buf[..2].copy_from_slice(&reserved.to_be_bytes());
                buf[2..10].copy_from_slice(c);
            }
            Self::HomeTest {
                home_nonce_index: i,
                home_init_cookie: c,
                home_keygen_token: k,
            }
            | Self::CareOfTest {
                care_of_nonce_index: i,
                care_of_init_cookie: c,
                care_of_keygen_token: k,
            } => {
                buf[..2].copy_from_slice(&i.to_be_bytes());
                buf[2..10].copy_from_slice(c);
                buf[10..18].copy_from_slice(k);
            }
            Self::BindingUpdate {
                sequence,
                flags,
                lifetime,
            } => {
                buf[..2].copy_from_slice(&sequence.to_be_bytes());
                buf[2..4].copy_from_slice(&flags.to_be_bytes());
                buf[4..6].copy_from_slice(&lifetime.to_be_bytes());
            }
            Self::BindingAcknowledgement {
                status,
                flags,
                sequence,
                lifetime,
            } => {
                buf[0] = *status;
                buf[1] = *flags;
                buf[2..4].copy_from_slice(&sequence.to_be_bytes());
                buf[4..6].copy_from_slice(&lifetime.to_be_bytes());
            }
            Self::BindingError {
                status,
                reserved,
                home_address,
            } => {
                buf[0] = *status;
                buf[1] = *reserved;
                buf[2..18].copy_from_slice(&home_address.octets());
            }
            Self::Unknown { data, .. } => buf[..data.len()].copy_from_slice(data),
        }
        Ok(())
    }
}

/// A Mobility Header as values: nothing a node must keep is lost (reserved fields,
/// flags later RFCs define, padding and unknown options keep their octets).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Repr {
    pub payload_proto: IpProtocol,
    /// The reserved octet after the MH Type.
    pub reserved: u8,
    pub message: Message,
    /// The options, in order, padding included; always empty for unknown message types.
    pub options: Vec<MobilityOption>,
}

impl Repr {
    /// A header with payload proto 59 (§6.1.1 SHOULD) and reserved zero.
    pub fn new(message: Message, options: Vec<MobilityOption>) -> Self {
        Self {
            payload_proto: IpProtocol::NO_NEXT_HEADER,
            reserved: 0,
            message,
            options,
        }
    }

    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Result<Self> {
        if p.is_truncated() {
            return Err(Error::truncated(
                PROTO,
                p.header_len_bytes(),
                p.buffer.as_ref().len(),
            ));
        }
        if let Some(min) = p.mh_type().options_offset()
            && p.header_len_bytes() < min
        {
            return Err(Error::new(
                PROTO,
                ErrorKind::BadLength,
                field::HEADER_LEN,
                "header length too small for the message type",
            ));
        }
        let message = Message::parse(p.mh_type(), p.message_data())?;
        let mut options = Vec::new();
        for raw in p.options() {
            options.push(MobilityOption::parse(&raw?)?);
        }
        Ok(Self {
            payload_proto: p.payload_proto(),
            reserved: p.reserved(),
            message,
            options,
        })
    }

    fn unpadded_len(&self) -> usize {
        FIXED_LEN
            + self.message.buffer_len()
            + self
                .options
                .iter()
                .map(MobilityOption::buffer_len)
                .sum::<usize>()
    }

    /// The header's length on the wire: padded to a multiple of 8 octets (§6.1.1).
    pub fn buffer_len(&self) -> usize {
        self.unpadded_len().div_ceil(8) * 8
    }

    /// Inserts the padding each option's alignment requirement asks for (§6.2) and the
    /// trailing padding that makes the header a multiple of 8 octets (§6.1.1), so that
    /// the options list is exactly what [`Self::emit`] writes.
    pub fn pad_options(&mut self) {
        if matches!(self.message, Message::Unknown { .. }) {
            return;
        }
        let mut at = FIXED_LEN + self.message.buffer_len();
        let mut out = Vec::with_capacity(self.options.len() + 2);
        for o in self.options.drain(..) {
            let (x, y) = o.alignment();
            let gap = (y + x - at % x) % x;
            if let Some(pad) = MobilityOption::padding(gap) {
                at += pad.buffer_len();
                out.push(pad);
            }
            at += o.buffer_len();
            out.push(o);
        }
        if let Some(pad) = MobilityOption::padding(at.div_ceil(8) * 8 - at) {
            out.push(pad);
        }
        self.options = out;
    }

    /// Writes the header at the start of `buf` with its checksum for `src` and `dst`,
    /// padding it to a multiple of 8 octets if the options do not.
    pub fn emit(&self, buf: &mut [u8], src: &Ipv6Addr, dst: &Ipv6Addr) -> Result<()> {
        let len = self.buffer_len();
        if len > MAX_HEADER_LEN {
            return Err(Error::new(
                PROTO,
                ErrorKind::BadLength,
                field::HEADER_LEN,
                "header over 2048 octets",
            ));
        }
        if matches!(self.message, Message::Unknown { .. }) && !self.options.is_empty() {
            return Err(Error::new(
                PROTO,
                ErrorKind::BadOption,
                field::DATA,
                "options of an unknown message type",
            ));
        }
        need(PROTO, buf, len)?;
        let buf = &mut buf[..len];
        let mut at = FIXED_LEN;
        self.message.emit(&mut buf[at..])?;
        at += self.message.buffer_len();
        for o in &self.options {
            o.emit(&mut buf[at..])?;
            at += o.buffer_len();
        }
        emit_padding(&mut buf[at..]);
        let mut p = Packet::new_unchecked(buf);
        p.set_payload_proto(self.payload_proto);
        // Cast: len <= MAX_HEADER_LEN, checked above, so the units fit in a u8.
        p.set_header_len((len / 8 - 1) as u8);
        p.set_mh_type(self.message.mh_type());
        p.set_reserved(self.reserved);
        p.set_checksum(0);
        p.fill_checksum(src, dst);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SRC: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
    const DST: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);

    /// A Binding Update from 2001:db8::1 to 2001:db8::2, as scapy builds it.
    #[rustfmt::skip]
    const BU: [u8; 56] = [
        0x3b, 0x06, 0x05, 0x00,             // payload proto 59, hlen 6 (56 octets), BU, reserved
        0xa7, 0xd3,                         // checksum
        0x00, 0x05,                         // sequence 5
        0xd0, 0x00,                         // flags A H K
        0x00, 0x03,                         // lifetime 3 (12 s)
        0x01, 0x00,                         // PadN, 0 octets (ACoA is 8n+6 aligned)
        0x03, 0x10,                         // Alternate Care-of Address, 16 octets
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x07, // 2001:db8::7
        0x04, 0x04, 0x00, 0x03, 0x00, 0x04, // Nonce Indices: home 3, care-of 4
        0x01, 0x02, 0x00, 0x00,             // PadN, 2 octets
        0x05, 0x0c,                         // Binding Authorization Data, 12 octets
        0x05, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
    ];

    /// A Home Test, as scapy builds it.
    #[rustfmt::skip]
    const HOT: [u8; 24] = [
        0x3b, 0x02, 0x03, 0x00,             // payload proto 59, hlen 2 (24 octets), HoT
        0xb7, 0x33,                         // checksum
        0x00, 0x07,                         // home nonce index 7
        0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, // home init cookie
        0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, // home keygen token
    ];

    #[test]
    fn parse_binding_update() {
        let p = Packet::new_checked(&BU[..]).unwrap();
        assert_eq!(p.payload_proto(), IpProtocol::NO_NEXT_HEADER);
        assert_eq!(p.header_len(), 6);
        assert_eq!(p.header_len_bytes(), 56);
        assert_eq!(p.mh_type(), MhType::BINDING_UPDATE);
        assert_eq!(p.checksum(), 0xa7d3);
        assert!(p.verify_checksum(&SRC, &DST));
        assert_eq!(p.compute_checksum(&SRC, &DST), 0xa7d3);
        let r = Repr::parse(&p).unwrap();
        assert_eq!(
            r.message,
            Message::BindingUpdate {
                sequence: 5,
                flags: bu_flag::A | bu_flag::H | bu_flag::K,
                lifetime: 3
            }
        );
        assert_eq!(r.options.len(), 5);
        assert_eq!(r.options[0], MobilityOption::PadN(vec![]));
        assert_eq!(
            r.options[1],
            MobilityOption::AlternateCareOfAddress("2001:db8::7".parse().unwrap())
        );
        assert_eq!(
            r.options[2],
            MobilityOption::NonceIndices {
                home_nonce_index: 3,
                care_of_nonce_index: 4
            }
        );
        let mut auth = vec![0x55; 12];
        auth[0] = 0x05;
        assert_eq!(r.options[4], MobilityOption::BindingAuthorizationData(auth));
        let mut out = [0u8; 56];
        r.emit(&mut out, &SRC, &DST).unwrap();
        assert_eq!(out, BU);
    }

    #[test]
    fn parse_home_test() {
        let p = Packet::new_checked(&HOT[..]).unwrap();
        assert!(p.verify_checksum(&SRC, &DST));
        let r = Repr::parse(&p).unwrap();
        assert_eq!(
            r.message,
            Message::HomeTest {
                home_nonce_index: 7,
                home_init_cookie: [1; 8],
                home_keygen_token: [0xaa; 8]
            }
        );
        assert!(r.options.is_empty());
        let mut out = [0u8; 24];
        r.emit(&mut out, &SRC, &DST).unwrap();
        assert_eq!(out, HOT);
    }

    #[test]
    fn bad_checksum() {
        let mut b = HOT;
        b[5] ^= 1;
        let p = Packet::new_checked(&b[..]).unwrap();
        assert!(!p.verify_checksum(&SRC, &DST));
        assert_eq!(p.compute_checksum(&SRC, &DST), 0xb733);
    }

    #[test]
    fn malformed() {
        assert!(matches!(
            Packet::new_lenient(&HOT[..5]).unwrap_err().kind,
            ErrorKind::Truncated {
                needed: 6,
                available: 5
            }
        ));
        // Header Len says 24 octets; 16 are there.
        assert_eq!(
            Packet::new_checked(&HOT[..16]).unwrap_err().kind,
            ErrorKind::BadLength
        );
        let lenient = Packet::new_lenient(&HOT[..16]).unwrap();
        assert!(lenient.is_truncated());
        assert!(!lenient.verify_checksum(&SRC, &DST));
        assert_eq!(lenient.message_data().len(), 10);
        // A HoT in 16 octets is too short for its fields (§9.2).
        let mut short = HOT;
        short[1] = 1;
        let e = Packet::new_checked(&short[..]).unwrap_err();
        assert_eq!((e.kind, e.offset), (ErrorKind::BadLength, 1));
        // An Alternate Care-of Address whose length runs past the header.
        let mut past = BU;
        past[15] = 0x30;
        let e = Packet::new_checked(&past[..]).unwrap_err();
        assert_eq!((e.kind, e.offset), (ErrorKind::BadOption, 14));
        let p = Packet::new_lenient(&past[..]).unwrap();
        let mut opts = p.options();
        assert!(opts.next().unwrap().is_ok());
        assert!(opts.next().unwrap().is_err());
        assert!(opts.next().is_none());
        // Nonce Indices of the wrong length.
        let mut ni = BU;
        ni[33] = 0x02; // length 2 instead of 4; the rest reads as other options
        assert_eq!(
            Packet::new_checked(&ni[..]).unwrap_err().kind,
            ErrorKind::BadOption
        );
    }

    #[test]
    fn unknown_type_kept_raw() {
        #[rustfmt::skip]
        let b: [u8; 16] = [
            0x3b, 0x01, 0x20, 0x00, 0x00, 0x00, // type 32
            0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa,
        ];
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.options().count(), 0);
        let r = Repr::parse(&p).unwrap();
        assert_eq!(
            r.message,
            Message::Unknown {
                mh_type: 0x20,
                data: b[6..].to_vec()
            }
        );
        let mut out = [0u8; 16];
        r.emit(&mut out, &SRC, &DST).unwrap();
        assert_eq!(out[6..], b[6..]);
        assert!(
            Packet::new_checked(&out[..])
                .unwrap()
                .verify_checksum(&SRC, &DST)
        );
    }

    #[test]
    fn padding_to_alignment() {
        let mut r = Repr::new(
            Message::BindingUpdate {
                sequence: 1,
                flags: bu_flag::A,
                lifetime: 100,
            },
            vec![MobilityOption::AlternateCareOfAddress(DST)],
        );
        r.pad_options();
        // The options start at 12; 8n+6 asks for 2 octets of padding first, which ends
        // the header on 32 with no trailing padding.
        assert_eq!(r.options[0], MobilityOption::PadN(vec![]));
        assert_eq!(r.options.len(), 2);
        assert_eq!(r.buffer_len(), 32);
        let mut out = [0u8; 32];
        r.emit(&mut out, &SRC, &DST).unwrap();
        let p = Packet::new_checked(&out[..]).unwrap();
        assert_eq!(Repr::parse(&p).unwrap(), r);
        // emit pads on its own when the options do not end on 8 octets.
        let bare = Repr::new(
            Message::BindingRefreshRequest { reserved: 0 },
            vec![MobilityOption::BindingRefreshAdvice {
                refresh_interval: 1,
            }],
        );
        assert_eq!(bare.buffer_len(), 16);
        let mut out = [0xffu8; 16];
        bare.emit(&mut out, &SRC, &DST).unwrap();
        assert_eq!(&out[12..], &[0x01, 0x02, 0x00, 0x00]);
    }

    fn option() -> impl Strategy<Value = MobilityOption> {
        let bytes = || proptest::collection::vec(any::<u8>(), 0..40);
        prop_oneof![
            Just(MobilityOption::Pad1),
            bytes().prop_map(MobilityOption::PadN),
            any::<u16>().prop_map(|i| MobilityOption::BindingRefreshAdvice {
                refresh_interval: i
            }),
            any::<[u8; 16]>().prop_map(|a| MobilityOption::AlternateCareOfAddress(a.into())),
            (any::<u16>(), any::<u16>()).prop_map(|(h, c)| MobilityOption::NonceIndices {
                home_nonce_index: h,
                care_of_nonce_index: c
            }),
            bytes().prop_map(MobilityOption::BindingAuthorizationData),
            (6u8.., bytes()).prop_map(|(t, d)| MobilityOption::Unknown {
                option_type: t,
                data: d
            }),
        ]
    }

    fn message() -> impl Strategy<Value = Message> {
        prop_oneof![
            any::<u16>().prop_map(|r| Message::BindingRefreshRequest { reserved: r }),
            (any::<u16>(), any::<[u8; 8]>()).prop_map(|(r, c)| Message::HomeTestInit {
                reserved: r,
                home_init_cookie: c
            }),
            (any::<u16>(), any::<[u8; 8]>()).prop_map(|(r, c)| Message::CareOfTestInit {
                reserved: r,
                care_of_init_cookie: c
            }),
            (any::<u16>(), any::<[u8; 8]>(), any::<[u8; 8]>()).prop_map(|(i, c, k)| {
                Message::HomeTest {
                    home_nonce_index: i,
                    home_init_cookie: c,
                    home_keygen_token: k,
                }
            }),
            (any::<u16>(), any::<[u8; 8]>(), any::<[u8; 8]>()).prop_map(|(i, c, k)| {
                Message::CareOfTest {
                    care_of_nonce_index: i,
                    care_of_init_cookie: c,
                    care_of_keygen_token: k,
                }
            }),
            (any::<u16>(), any::<u16>(), any::<u16>()).prop_map(|(s, f, l)| {
                Message::BindingUpdate {
                    sequence: s,
                    flags: f,
                    lifetime: l,
                }
            }),
            (any::<u8>(), any::<u8>(), any::<u16>(), any::<u16>()).prop_map(|(st, f, s, l)| {
                Message::BindingAcknowledgement {
                    status: st,
                    flags: f,
                    sequence: s,
                    lifetime: l,
                }
            }),
            (any::<u8>(), any::<u8>(), any::<[u8; 16]>()).prop_map(|(s, r, a)| {
                Message::BindingError {
                    status: s,
                    reserved: r,
                    home_address: a.into(),
                }
            }),
            // Data that with the six fixed octets makes a multiple of eight.
            (8u8.., (0usize..10)).prop_map(|(t, n)| Message::Unknown {
                mh_type: t,
                data: vec![t; 2 + 8 * n]
            }),
        ]
    }

    proptest! {
        #[test]
        fn emit_parse_identity(proto: u8, reserved: u8, message in message(),
                               options in proptest::collection::vec(option(), 0..8),
                               src: [u8; 16], dst: [u8; 16]) {
            let (src, dst) = (Ipv6Addr::from(src), Ipv6Addr::from(dst));
            let unknown = matches!(message, Message::Unknown { .. });
            let mut repr = Repr {
                payload_proto: IpProtocol(proto),
                reserved,
                message,
                options: if unknown { vec![] } else { options },
            };
            repr.pad_options();
            let mut buf = vec![0u8; repr.buffer_len()];
            repr.emit(&mut buf, &src, &dst).unwrap();
            prop_assert_eq!(buf.len() % 8, 0);
            let p = Packet::new_checked(&buf[..]).unwrap();
            prop_assert!(p.verify_checksum(&src, &dst));
            prop_assert_eq!(Repr::parse(&p).unwrap(), repr);
        }

        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..120)) {
            if let Ok(p) = Packet::new_lenient(&data[..]) {
                let _ = (p.payload_proto(), p.header_len(), p.mh_type(), p.reserved(), p.checksum());
                let _ = p.message_data();
                let _ = p.verify_checksum(&SRC, &DST);
                let _ = p.compute_checksum(&SRC, &DST);
                let _ = Message::parse(p.mh_type(), p.message_data());
                // Not cut short with take(): the walk must end on its own.
                for o in p.options().flatten() {
                    let _ = (MobilityOption::parse(&o), o.option_len(), o.data());
                }
                let _ = Repr::parse(&p);
                let _ = p.into_payload();
            }
            if let Ok(p) = Packet::new_checked(&data[..]) {
                let r = Repr::parse(&p).unwrap();
                let mut out = vec![0u8; r.buffer_len()];
                r.emit(&mut out, &SRC, &DST).unwrap();
            }
        }
    }
}
