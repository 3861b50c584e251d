//! The Address Resolution Protocol (RFC 826), read for any hardware and protocol
//! address sizes and represented for Ethernet and IPv4, the pair this stack meets.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |        Hardware type (ar$hrd) |        Protocol type (ar$pro) |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | HW len (ar$hln)| Proto len (ar$pln)|       Opcode (ar$op)     |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Sender hardware address (ar$sha, hln bytes)                   |
//! | Sender protocol address (ar$spa, pln bytes)                   |
//! | Target hardware address (ar$tha, hln bytes)                   |
//! | Target protocol address (ar$tpa, pln bytes)                   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use core::net::Ipv4Addr;

use crate::addr::EthernetAddress;
use crate::error::{Error, ErrorKind, Result, need};
use crate::proto::EtherType;

const PROTO: &str = "arp";

mod field {
    use core::ops::Range;
    pub const HTYPE: Range<usize> = 0..2;
    pub const PTYPE: Range<usize> = 2..4;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OPER: Range<usize> = 6..8;
}

/// The fixed part before the addresses.
pub const FIXED_LEN: usize = 8;
/// An Ethernet/IPv4 ARP packet: 8 + 2 × (6 + 4).
pub const ETHERNET_IPV4_LEN: usize = 28;
/// ar$hrd for Ethernet (IANA "Hardware Types").
pub const HTYPE_ETHERNET: u16 = 1;

/// ar$op values (RFC 826; RFC 903 for RARP).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Operation(pub u16);

impl Operation {
    pub const REQUEST: Self = Self(1);
    pub const REPLY: Self = Self(2);
    pub const RARP_REQUEST: Self = Self(3);
    pub const RARP_REPLY: Self = Self(4);
}

/// A view of an ARP packet.
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<'a> Packet<&'a [u8]> {
    pub fn into_sender_hardware_addr(self) -> &'a [u8] {
        let (s, e) = self.range(0);
        &self.buffer[s..e]
    }
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// The fixed part and all four addresses, as the two lengths give them, must be there.
    pub fn new_checked(buffer: T) -> Result<Self> {
        need(PROTO, buffer.as_ref(), FIXED_LEN)?;
        let p = Self { buffer };
        need(PROTO, p.buffer.as_ref(), p.packet_len())?;
        Ok(p)
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn be16(&self, at: usize) -> u16 {
        let b = self.buffer.as_ref();
        u16::from_be_bytes([b[at], b[at + 1]])
    }

    pub fn hardware_type(&self) -> u16 {
        self.be16(field::HTYPE.start)
    }

    pub fn protocol_type(&self) -> EtherType {
        EtherType(self.be16(field::PTYPE.start))
    }

    pub fn hardware_len(&self) -> u8 {
        self.buffer.as_ref()[field::HLEN]
    }

    pub fn protocol_len(&self) -> u8 {
        self.buffer.as_ref()[field::PLEN]
    }

    pub fn operation(&self) -> Operation {
        Operation(self.be16(field::OPER.start))
    }

    /// The length the two address lengths give; at most 8 + 2 × (255 + 255).
    pub fn packet_len(&self) -> usize {
        FIXED_LEN + 2 * (usize::from(self.hardware_len()) + usize::from(self.protocol_len()))
    }

    /// The byte range of address `i`: sha, spa, tha, tpa.
    fn range(&self, i: usize) -> (usize, usize) {
        let h = usize::from(self.hardware_len());
        let p = usize::from(self.protocol_len());
        let start = FIXED_LEN + (i / 2) * (h + p) + (i % 2) * h;
        (start, start + if i.is_multiple_of(2) { h } else { p })
    }

    fn addr(&self, i: usize) -> &[u8] {
        let (s, e) = self.range(i);
        &self.buffer.as_ref()[s..e]
    }

    pub fn sender_hardware_addr(&self) -> &[u8] {
        self.addr(0)
    }

    pub fn sender_protocol_addr(&self) -> &[u8] {
        self.addr(1)
    }

    pub fn target_hardware_addr(&self) -> &[u8] {
        self.addr(2)
    }

    pub fn target_protocol_addr(&self) -> &[u8] {
        self.addr(3)
    }

    /// Whether this is the Ethernet/IPv4 form: 6-byte hardware and 4-byte IPv4 addresses.
    pub fn is_ethernet_ipv4(&self) -> bool {
        self.hardware_type() == HTYPE_ETHERNET
            && self.protocol_type() == EtherType::IPV4
            && self.hardware_len() == 6
            && self.protocol_len() == 4
    }

    /// Bytes after the packet (Ethernet padding).
    pub fn trailer(&self) -> &[u8] {
        &self.buffer.as_ref()[self.packet_len()..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn set_be16(&mut self, at: usize, v: u16) {
        self.buffer.as_mut()[at..at + 2].copy_from_slice(&v.to_be_bytes());
    }

    pub fn set_hardware_type(&mut self, v: u16) {
        self.set_be16(field::HTYPE.start, v);
    }

    pub fn set_protocol_type(&mut self, v: EtherType) {
        self.set_be16(field::PTYPE.start, v.0);
    }

    pub fn set_hardware_len(&mut self, v: u8) {
        self.buffer.as_mut()[field::HLEN] = v;
    }

    pub fn set_protocol_len(&mut self, v: u8) {
        self.buffer.as_mut()[field::PLEN] = v;
    }

    pub fn set_operation(&mut self, v: Operation) {
        self.set_be16(field::OPER.start, v.0);
    }

    /// Writes address `i` (sha, spa, tha, tpa); the lengths must be set first.
    fn set_addr(&mut self, i: usize, a: &[u8]) {
        let (s, e) = self.range(i);
        self.buffer.as_mut()[s..e].copy_from_slice(a);
    }
}

/// An Ethernet/IPv4 ARP packet as values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    pub operation: Operation,
    pub source_hardware_addr: EthernetAddress,
    pub source_protocol_addr: Ipv4Addr,
    pub target_hardware_addr: EthernetAddress,
    pub target_protocol_addr: Ipv4Addr,
}

impl Repr {
    /// Ethernet/IPv4 packets only; others are refused as values this stack cannot hold.
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Result<Self> {
        if !p.is_ethernet_ipv4() {
            return Err(Error::new(
                PROTO,
                ErrorKind::BadValue,
                0,
                "not Ethernet/IPv4 ARP",
            ));
        }
        let ipv4 = |b: &[u8]| Ipv4Addr::new(b[0], b[1], b[2], b[3]);
        Ok(Self {
            operation: p.operation(),
            // Unwraps: the lengths were checked to be 6 above, and the view holds them.
            source_hardware_addr: EthernetAddress::from_bytes(p.sender_hardware_addr()).unwrap(),
            source_protocol_addr: ipv4(p.sender_protocol_addr()),
            target_hardware_addr: EthernetAddress::from_bytes(p.target_hardware_addr()).unwrap(),
            target_protocol_addr: ipv4(p.target_protocol_addr()),
        })
    }

    pub const fn buffer_len(&self) -> usize {
        ETHERNET_IPV4_LEN
    }

    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        need(PROTO, buf, ETHERNET_IPV4_LEN)?;
        let mut p = Packet::new_unchecked(&mut buf[..ETHERNET_IPV4_LEN]);
        p.set_hardware_type(HTYPE_ETHERNET);
        p.set_protocol_type(EtherType::IPV4);
        p.set_hardware_len(6);
        p.set_protocol_len(4);
        p.set_operation(self.operation);
        p.set_addr(0, &self.source_hardware_addr.0);
        p.set_addr(1, &self.source_protocol_addr.octets());
        p.set_addr(2, &self.target_hardware_addr.0);
        p.set_addr(3, &self.target_protocol_addr.octets());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[rustfmt::skip]
    const REQUEST: [u8; 30] = [
        0x00, 0x01, 0x08, 0x00,             // Ethernet, IPv4
        0x06, 0x04, 0x00, 0x01,             // hln 6, pln 4, request
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, // sha
        192, 0, 2, 1,                       // spa
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // tha
        192, 0, 2, 2,                       // tpa
        0x00, 0x00,                         // padding
    ];

    #[test]
    fn parse_request() {
        let p = Packet::new_checked(&REQUEST[..]).unwrap();
        assert!(p.is_ethernet_ipv4());
        assert_eq!(p.operation(), Operation::REQUEST);
        assert_eq!(p.trailer().len(), 2);
        let r = Repr::parse(&p).unwrap();
        assert_eq!(r.source_hardware_addr.to_string(), "00:11:22:33:44:55");
        assert_eq!(r.source_protocol_addr, Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(r.target_protocol_addr, Ipv4Addr::new(192, 0, 2, 2));
        assert_eq!(p.into_sender_hardware_addr(), &REQUEST[8..14]);
    }

    #[test]
    fn malformed() {
        assert!(matches!(
            Packet::new_checked(&REQUEST[..27]).unwrap_err().kind,
            ErrorKind::Truncated {
                needed: 28,
                available: 27
            }
        ));
        let mut odd = REQUEST;
        odd[4] = 8; // 8-byte hardware addresses: 8 + 2 * 12 = 32 bytes
        assert!(Packet::new_checked(&odd[..]).is_err());
        odd[4] = 7;
        let p = Packet::new_checked(&odd[..]).unwrap();
        assert_eq!(p.target_protocol_addr().len(), 4);
        assert_eq!(Repr::parse(&p).unwrap_err().kind, ErrorKind::BadValue);
    }

    proptest! {
        #[test]
        fn emit_parse_identity(op: u16, sha: [u8; 6], spa: [u8; 4], tha: [u8; 6], tpa: [u8; 4]) {
            let repr = Repr {
                operation: Operation(op),
                source_hardware_addr: EthernetAddress(sha), source_protocol_addr: spa.into(),
                target_hardware_addr: EthernetAddress(tha), target_protocol_addr: tpa.into(),
            };
            let mut buf = [0u8; ETHERNET_IPV4_LEN];
            repr.emit(&mut buf).unwrap();
            let p = Packet::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(Repr::parse(&p).unwrap(), repr);
        }

        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..80)) {
            if let Ok(p) = Packet::new_checked(&data[..]) {
                let _ = Repr::parse(&p);
                let _ = (p.sender_hardware_addr(), p.sender_protocol_addr(),
                         p.target_hardware_addr(), p.target_protocol_addr(), p.trailer());
            }
        }
    }
}
