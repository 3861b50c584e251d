//! Ethernet II frames (IEEE 802.3 clause 3.2.6 type field; RFC 894 for IPv4, RFC 2464 for
//! IPv6) and the IEEE 802.1Q VLAN tag, including the 802.1ad service tag of QinQ.
//!
//! ```text
//! +----------------+----------------+-----------+---------------------
//! | Destination(6) |   Source (6)   | EtherType |  Payload ...
//! +----------------+----------------+-----------+---------------------
//!
//! An 802.1Q / 802.1ad tag sits where the EtherType was: TPID 0x8100 / 0x88a8 as the
//! EtherType, then
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | PCP |D|         VID           |     (inner) EtherType         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! The frame check sequence is not part of the view: captures rarely carry it.
//! [`Tags`] walks the tags of a frame to its final EtherType and payload, with a bound.

use crate::addr::EthernetAddress;
use crate::error::{Error, ErrorKind, Result, need};
use crate::proto::EtherType;

const PROTO: &str = "eth";
const VLAN_PROTO: &str = "vlan";

mod field {
    use core::ops::Range;
    pub const DST: Range<usize> = 0..6;
    pub const SRC: Range<usize> = 6..12;
    pub const ETHERTYPE: Range<usize> = 12..14;
}

pub const HEADER_LEN: usize = 14;
/// The length of one 802.1Q / 802.1ad tag after its TPID: TCI and inner EtherType.
pub const TAG_LEN: usize = 4;
/// More stacked tags than this is not a real frame (QinQ uses two).
pub const MAX_TAGS: usize = 8;
/// Type field values below this are an IEEE 802.3 length, not an EtherType
/// (IEEE 802.3 clause 3.2.6: 0x0600 and above are types).
pub const MIN_ETHERTYPE: u16 = 0x0600;

/// A view of an Ethernet II header and its payload.
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<'a> Packet<&'a [u8]> {
    /// The payload, borrowed for as long as the underlying bytes.
    pub fn into_payload(self) -> &'a [u8] {
        &self.buffer[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// The 14 header bytes must be there; the rest is payload.
    pub fn new_checked(buffer: T) -> Result<Self> {
        need(PROTO, buffer.as_ref(), HEADER_LEN)?;
        Ok(Self { buffer })
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn dst_addr(&self) -> EthernetAddress {
        // Unwrap: the range is 6 bytes within the checked header.
        EthernetAddress(self.buffer.as_ref()[field::DST].try_into().unwrap())
    }

    pub fn src_addr(&self) -> EthernetAddress {
        // Unwrap: as above.
        EthernetAddress(self.buffer.as_ref()[field::SRC].try_into().unwrap())
    }

    /// The type field: an EtherType, or an 802.3 length when below [`MIN_ETHERTYPE`].
    pub fn ethertype(&self) -> EtherType {
        let b = self.buffer.as_ref();
        EtherType(u16::from_be_bytes([
            b[field::ETHERTYPE.start],
            b[field::ETHERTYPE.start + 1],
        ]))
    }

    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }

    /// The tags after this header and the EtherType and payload they lead to.
    pub fn tags(&self) -> Tags<'_> {
        Tags::new(self.ethertype(), self.payload())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_dst_addr(&mut self, a: EthernetAddress) {
        self.buffer.as_mut()[field::DST].copy_from_slice(&a.0);
    }

    pub fn set_src_addr(&mut self, a: EthernetAddress) {
        self.buffer.as_mut()[field::SRC].copy_from_slice(&a.0);
    }

    pub fn set_ethertype(&mut self, t: EtherType) {
        self.buffer.as_mut()[field::ETHERTYPE].copy_from_slice(&t.0.to_be_bytes());
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[HEADER_LEN..]
    }
}

/// The Ethernet II header as values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    pub dst_addr: EthernetAddress,
    pub src_addr: EthernetAddress,
    pub ethertype: EtherType,
}

impl Repr {
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Result<Self> {
        Ok(Self {
            dst_addr: p.dst_addr(),
            src_addr: p.src_addr(),
            ethertype: p.ethertype(),
        })
    }

    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the 14 header bytes at the start of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        need(PROTO, buf, HEADER_LEN)?;
        let mut p = Packet::new_unchecked(&mut buf[..HEADER_LEN]);
        p.set_dst_addr(self.dst_addr);
        p.set_src_addr(self.src_addr);
        p.set_ethertype(self.ethertype);
        Ok(())
    }
}

/// Whether an EtherType is the TPID of an 802.1Q customer tag or an 802.1ad service tag.
pub const fn is_tag_tpid(t: EtherType) -> bool {
    matches!(t.0, 0x8100 | 0x88a8)
}

/// A view of one VLAN tag after its TPID: the TCI and the EtherType it encloses.
#[derive(Debug, Clone, Copy)]
pub struct VlanPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<'a> VlanPacket<&'a [u8]> {
    pub fn into_payload(self) -> &'a [u8] {
        &self.buffer[TAG_LEN..]
    }
}

impl<T: AsRef<[u8]>> VlanPacket<T> {
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    pub fn new_checked(buffer: T) -> Result<Self> {
        need(VLAN_PROTO, buffer.as_ref(), TAG_LEN)?;
        Ok(Self { buffer })
    }

    pub fn tci(&self) -> u16 {
        let b = self.buffer.as_ref();
        u16::from_be_bytes([b[0], b[1]])
    }

    /// Priority code point (IEEE 802.1Q §6.9.3), 0..=7.
    pub fn pcp(&self) -> u8 {
        (self.tci() >> 13) as u8
    }

    /// Drop eligible indicator (formerly CFI).
    pub fn dei(&self) -> bool {
        self.tci() & 0x1000 != 0
    }

    /// VLAN identifier, 0..=4095 (0: priority tag only; 4095 reserved).
    pub fn vid(&self) -> u16 {
        self.tci() & 0x0fff
    }

    pub fn ethertype(&self) -> EtherType {
        let b = self.buffer.as_ref();
        EtherType(u16::from_be_bytes([b[2], b[3]]))
    }

    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[TAG_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> VlanPacket<T> {
    pub fn set_tci(&mut self, pcp: u8, dei: bool, vid: u16) {
        let tci = u16::from(pcp & 0x7) << 13 | u16::from(dei) << 12 | (vid & 0x0fff);
        self.buffer.as_mut()[0..2].copy_from_slice(&tci.to_be_bytes());
    }

    pub fn set_ethertype(&mut self, t: EtherType) {
        self.buffer.as_mut()[2..4].copy_from_slice(&t.0.to_be_bytes());
    }
}

/// One VLAN tag as values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VlanRepr {
    pub pcp: u8,
    pub dei: bool,
    pub vid: u16,
    pub ethertype: EtherType,
}

impl VlanRepr {
    pub fn parse<T: AsRef<[u8]>>(p: &VlanPacket<T>) -> Result<Self> {
        Ok(Self {
            pcp: p.pcp(),
            dei: p.dei(),
            vid: p.vid(),
            ethertype: p.ethertype(),
        })
    }

    pub const fn buffer_len(&self) -> usize {
        TAG_LEN
    }

    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        if self.pcp > 7 || self.vid > 0x0fff {
            return Err(Error::new(
                VLAN_PROTO,
                ErrorKind::BadValue,
                0,
                "PCP or VID out of range",
            ));
        }
        need(VLAN_PROTO, buf, TAG_LEN)?;
        let mut p = VlanPacket::new_unchecked(&mut buf[..TAG_LEN]);
        p.set_tci(self.pcp, self.dei, self.vid);
        p.set_ethertype(self.ethertype);
        Ok(())
    }
}

/// One tag met by [`Tags`]: its TPID (0x8100 or 0x88a8), its view, and where it began
/// in the slice the walk started from.
#[derive(Debug, Clone, Copy)]
pub struct Tag<'a> {
    pub tpid: EtherType,
    pub tag: VlanPacket<&'a [u8]>,
    pub offset: usize,
}

/// Walks stacked VLAN tags. Yields each tag, then `None`; afterwards [`Tags::ethertype`]
/// and [`Tags::payload`] are the innermost EtherType and payload. A tag cut short or more
/// than [`MAX_TAGS`] tags yield one error and end the walk.
#[derive(Debug, Clone)]
pub struct Tags<'a> {
    ethertype: EtherType,
    rest: &'a [u8],
    offset: usize,
    count: usize,
    done: bool,
}

impl<'a> Tags<'a> {
    /// Starts from a type field and the bytes after it.
    pub fn new(ethertype: EtherType, payload: &'a [u8]) -> Self {
        Self {
            ethertype,
            rest: payload,
            offset: 0,
            count: 0,
            done: false,
        }
    }

    /// The EtherType reached so far (the final one once the walk has ended).
    pub fn ethertype(&self) -> EtherType {
        self.ethertype
    }

    pub fn payload(&self) -> &'a [u8] {
        self.rest
    }

    /// How many tags have been walked.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Runs the walk to its end; the final EtherType and payload.
    pub fn untag(mut self) -> Result<(EtherType, &'a [u8])> {
        for t in self.by_ref() {
            t?;
        }
        Ok((self.ethertype, self.rest))
    }
}

impl<'a> Iterator for Tags<'a> {
    type Item = Result<Tag<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || !is_tag_tpid(self.ethertype) {
            return None;
        }
        if self.count == MAX_TAGS {
            self.done = true;
            return Some(Err(Error::new(
                VLAN_PROTO,
                ErrorKind::TooDeep,
                self.offset,
                "too many VLAN tags",
            )));
        }
        let tag = match VlanPacket::new_checked(self.rest) {
            Ok(t) => t,
            Err(e) => {
                self.done = true;
                return Some(Err(e.at(self.offset)));
            }
        };
        let item = Tag {
            tpid: self.ethertype,
            tag,
            offset: self.offset,
        };
        self.ethertype = tag.ethertype();
        self.rest = tag.into_payload();
        self.offset += TAG_LEN;
        self.count += 1;
        Some(Ok(item))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[rustfmt::skip]
    const QINQ: [u8; 26] = [
        0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, // dst 66:77:88:99:aa:bb
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, // src 00:11:22:33:44:55
        0x88, 0xa8,                         // TPID 802.1ad
        0x00, 0x64, 0x81, 0x00,             // PCP 0, DEI 0, VID 100; inner TPID 802.1Q
        0x70, 0x05, 0x86, 0xdd,             // PCP 3, DEI 1, VID 5; EtherType IPv6
        0xde, 0xad, 0xbe, 0xef,             // payload
    ];

    #[test]
    fn parse_qinq() {
        let p = Packet::new_checked(&QINQ[..]).unwrap();
        assert_eq!(p.dst_addr().to_string(), "66:77:88:99:aa:bb");
        assert_eq!(p.src_addr().to_string(), "00:11:22:33:44:55");
        assert_eq!(p.ethertype(), EtherType::QINQ);
        let mut tags = p.tags();
        let outer = tags.next().unwrap().unwrap();
        assert_eq!(outer.tpid, EtherType::QINQ);
        assert_eq!(
            (outer.tag.pcp(), outer.tag.dei(), outer.tag.vid()),
            (0, false, 100)
        );
        let inner = tags.next().unwrap().unwrap();
        assert_eq!(inner.tpid, EtherType::VLAN);
        assert_eq!(inner.offset, 4);
        assert_eq!(
            (inner.tag.pcp(), inner.tag.dei(), inner.tag.vid()),
            (3, true, 5)
        );
        assert!(tags.next().is_none());
        assert_eq!(tags.ethertype(), EtherType::IPV6);
        assert_eq!(tags.payload(), &[0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(p.tags().untag().unwrap(), (EtherType::IPV6, &QINQ[22..]));
    }

    #[test]
    fn malformed() {
        assert!(matches!(
            Packet::new_checked(&QINQ[..13]).unwrap_err().kind,
            ErrorKind::Truncated {
                needed: 14,
                available: 13
            }
        ));
        let p = Packet::new_checked(&QINQ[..20]).unwrap();
        let e = p.tags().untag().unwrap_err();
        assert_eq!(e.protocol, "vlan");
        assert_eq!(e.offset, 6);
        // Tags that go on forever end at the bound.
        let endless = [0x81, 0x00].repeat(40);
        let e = Tags::new(EtherType::VLAN, &endless).untag().unwrap_err();
        assert_eq!(e.kind, ErrorKind::TooDeep);
    }

    proptest! {
        #[test]
        fn emit_parse_identity(dst: [u8; 6], src: [u8; 6], et: u16,
                               pcp in 0u8..8, dei: bool, vid in 0u16..0x1000, inner: u16) {
            let repr = Repr { dst_addr: EthernetAddress(dst), src_addr: EthernetAddress(src),
                              ethertype: EtherType(et) };
            let mut buf = [0u8; HEADER_LEN + TAG_LEN];
            repr.emit(&mut buf).unwrap();
            let tag = VlanRepr { pcp, dei, vid, ethertype: EtherType(inner) };
            tag.emit(&mut buf[HEADER_LEN..]).unwrap();
            let p = Packet::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(Repr::parse(&p).unwrap(), repr);
            let v = VlanPacket::new_checked(p.payload()).unwrap();
            prop_assert_eq!(VlanRepr::parse(&v).unwrap(), tag);
        }

        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(p) = Packet::new_checked(&data[..]) {
                let _ = Repr::parse(&p);
                for t in p.tags().flatten() {
                    let _ = VlanRepr::parse(&t.tag);
                }
                let _ = p.tags().untag();
            }
            let _ = Tags::new(EtherType::VLAN, &data).untag();
        }
    }
}
