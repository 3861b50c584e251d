//! The Linux "cooked" capture header, version 1 (pcap LINKTYPE_LINUX_SLL, 113): what
//! `tcpdump -i any` writes in place of a link-layer header.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |          Packet type          |        ARPHRD_ type           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Link-layer address length    |                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
//! |          Link-layer address (8 octets, zero-padded)           |
//! +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                               |        Protocol type          |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! The protocol type is an EtherType, or for some ARPHRD types a Linux `ETH_P_` value
//! below 0x0600 (e.g. 0x0004 for 802.2 LLC frames).

use crate::error::{Error, ErrorKind, Result, need};
use crate::proto::EtherType;

const PROTO: &str = "sll";

mod field {
    use core::ops::Range;
    pub const PKTTYPE: Range<usize> = 0..2;
    pub const HATYPE: Range<usize> = 2..4;
    pub const HALEN: Range<usize> = 4..6;
    pub const ADDR: Range<usize> = 6..14;
    pub const PROTOCOL: Range<usize> = 14..16;
}

pub const HEADER_LEN: usize = 16;
/// The room for the link-layer address; longer addresses are cut to it.
pub const ADDR_LEN: usize = 8;

/// Packet types (Linux `PACKET_*`).
pub mod pkttype {
    pub const HOST: u16 = 0;
    pub const BROADCAST: u16 = 1;
    pub const MULTICAST: u16 = 2;
    pub const OTHERHOST: u16 = 3;
    pub const OUTGOING: u16 = 4;
}

/// A few ARPHRD_ values (Linux `if_arp.h`).
pub mod hatype {
    pub const ETHER: u16 = 1;
    pub const LOOPBACK: u16 = 772;
    pub const IPGRE: u16 = 778;
    pub const NONE: u16 = 0xfffe;
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// A view of a cooked capture header and its payload.
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

    /// The 16 header bytes must be there.
    pub fn new_checked(buffer: T) -> Result<Self> {
        need(PROTO, buffer.as_ref(), HEADER_LEN)?;
        Ok(Self { buffer })
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn packet_type(&self) -> u16 {
        be16(self.buffer.as_ref(), field::PKTTYPE.start)
    }

    pub fn hatype(&self) -> u16 {
        be16(self.buffer.as_ref(), field::HATYPE.start)
    }

    /// The address length as written; may exceed the eight octets of room.
    pub fn addr_len(&self) -> u16 {
        be16(self.buffer.as_ref(), field::HALEN.start)
    }

    /// All eight octets of the address field.
    pub fn addr_field(&self) -> &[u8] {
        &self.buffer.as_ref()[field::ADDR]
    }

    /// The address: the first `addr_len` octets, at most eight.
    pub fn addr(&self) -> &[u8] {
        let n = usize::from(self.addr_len()).min(ADDR_LEN);
        &self.addr_field()[..n]
    }

    pub fn protocol(&self) -> EtherType {
        EtherType(be16(self.buffer.as_ref(), field::PROTOCOL.start))
    }

    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_packet_type(&mut self, v: u16) {
        self.buffer.as_mut()[field::PKTTYPE].copy_from_slice(&v.to_be_bytes());
    }

    pub fn set_hatype(&mut self, v: u16) {
        self.buffer.as_mut()[field::HATYPE].copy_from_slice(&v.to_be_bytes());
    }

    pub fn set_addr_len(&mut self, v: u16) {
        self.buffer.as_mut()[field::HALEN].copy_from_slice(&v.to_be_bytes());
    }

    pub fn set_addr_field(&mut self, a: &[u8; ADDR_LEN]) {
        self.buffer.as_mut()[field::ADDR].copy_from_slice(a);
    }

    pub fn set_protocol(&mut self, t: EtherType) {
        self.buffer.as_mut()[field::PROTOCOL].copy_from_slice(&t.0.to_be_bytes());
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[HEADER_LEN..]
    }
}

/// The cooked header as values. The whole address field is kept, padding included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    pub packet_type: u16,
    pub hatype: u16,
    pub addr_len: u16,
    pub addr: [u8; ADDR_LEN],
    pub protocol: EtherType,
}

impl Repr {
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Result<Self> {
        Ok(Self {
            packet_type: p.packet_type(),
            hatype: p.hatype(),
            addr_len: p.addr_len(),
            // Unwrap: the address field is eight bytes within the checked header.
            addr: p.addr_field().try_into().unwrap(),
            protocol: p.protocol(),
        })
    }

    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        need(PROTO, buf, HEADER_LEN)?;
        if self.packet_type > 0xff {
            // Linux has a handful of packet types; a large value is a caller's mistake.
            return Err(Error::new(
                PROTO,
                ErrorKind::BadValue,
                0,
                "unknown packet type",
            ));
        }
        let mut p = Packet::new_unchecked(&mut buf[..HEADER_LEN]);
        p.set_packet_type(self.packet_type);
        p.set_hatype(self.hatype);
        p.set_addr_len(self.addr_len);
        p.set_addr_field(&self.addr);
        p.set_protocol(self.protocol);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[rustfmt::skip]
    const COOKED: [u8; 18] = [
        0x00, 0x04,                         // packet type: outgoing
        0x00, 0x01,                         // ARPHRD_ETHER
        0x00, 0x06,                         // address length 6
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x00, 0x00, // address, padded
        0x86, 0xdd,                         // protocol IPv6
        0x60, 0x00,                         // payload
    ];

    #[test]
    fn parse_cooked() {
        let p = Packet::new_checked(&COOKED[..]).unwrap();
        assert_eq!(p.packet_type(), pkttype::OUTGOING);
        assert_eq!(p.hatype(), hatype::ETHER);
        assert_eq!(p.addr_len(), 6);
        assert_eq!(p.addr(), &[0x00, 0x11, 0x22, 0x33, 0x44, 0x55]);
        assert_eq!(p.protocol(), EtherType::IPV6);
        assert_eq!(p.into_payload(), &[0x60, 0x00]);
        let mut long = COOKED;
        long[5] = 20;
        assert_eq!(
            Packet::new_checked(&long[..]).unwrap().addr().len(),
            ADDR_LEN
        );
        assert!(Packet::new_checked(&COOKED[..15]).is_err());
    }

    proptest! {
        #[test]
        fn emit_parse_identity(pt in 0u16..0x100, ha: u16, al: u16, addr: [u8; 8], proto: u16) {
            let repr = Repr { packet_type: pt, hatype: ha, addr_len: al, addr,
                              protocol: EtherType(proto) };
            let mut buf = [0u8; HEADER_LEN];
            repr.emit(&mut buf).unwrap();
            let p = Packet::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(Repr::parse(&p).unwrap(), repr);
        }

        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..40)) {
            if let Ok(p) = Packet::new_checked(&data[..]) {
                let _ = Repr::parse(&p);
                let _ = (p.addr(), p.payload());
            }
        }
    }
}
