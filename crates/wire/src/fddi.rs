//! FDDI frames as IPv6 uses them (RFC 2467 §3): the MAC header, then an IEEE 802.2 LLC
//! header with a SNAP extension that carries the EtherType (RFC 1042 encapsulation).
//!
//! ```text
//! +----+--------------+--------------+------+------+-----+-----------+---------+------
//! | FC |   Dest (6)   |  Source (6)  | DSAP | SSAP | CTL |  OUI (3)  | EthType | ...
//! +----+--------------+--------------+------+------+-----+-----------+---------+------
//!  0x5X                                0xAA   0xAA   0x03   00 00 00   0x86DD
//! ```
//!
//! The frame starts at the Frame Control byte, as in pcap's LINKTYPE_FDDI (10); preamble,
//! start delimiter and FCS are not captured.
//!
//! Bit order: FDDI sends each address octet most significant bit first, the reverse of
//! the canonical (Ethernet) order of IEEE 802. This view returns the address octets as
//! they are stored; [`bit_swapped`] converts between the two orders. Wireshark reads
//! LINKTYPE_FDDI captures as holding the non-canonical order and shows the bit-swapped
//! form; tcpdump on Linux shows the octets as stored.

use crate::addr::EthernetAddress;
use crate::error::{Result, need};

const PROTO: &str = "fddi";

mod field {
    use core::ops::Range;
    pub const FC: usize = 0;
    pub const DST: Range<usize> = 1..7;
    pub const SRC: Range<usize> = 7..13;
}

pub const HEADER_LEN: usize = 13;
/// RFC 2467 §3: LLC frames, asynchronous, priority in the low three bits (0x50..=0x57).
pub const FC_LLC_ASYNC: u8 = 0x50;
/// RFC 2467 §2: the default MTU of IPv6 over FDDI.
pub const IPV6_MTU: usize = 4352;

/// Reverses the bit order of each octet of an address: non-canonical (FDDI, Token Ring
/// wire order) to canonical and back.
pub fn bit_swapped(a: EthernetAddress) -> EthernetAddress {
    EthernetAddress(a.0.map(u8::reverse_bits))
}

/// A view of an FDDI MAC header and its payload (the LLC header onwards).
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

    /// The 13 header bytes must be there.
    pub fn new_checked(buffer: T) -> Result<Self> {
        need(PROTO, buffer.as_ref(), HEADER_LEN)?;
        Ok(Self { buffer })
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Frame Control: class, address length and format bits (CLFF) and the ZZZZ bits.
    pub fn frame_control(&self) -> u8 {
        self.buffer.as_ref()[field::FC]
    }

    /// The CLFF bits, the upper nibble of FC (0x5: asynchronous LLC with 48-bit addresses).
    pub fn frame_class(&self) -> u8 {
        self.frame_control() >> 4
    }

    /// The priority of an asynchronous LLC frame, the low three bits of FC.
    pub fn priority(&self) -> u8 {
        self.frame_control() & 0x7
    }

    /// Whether this is an asynchronous LLC frame, the kind that carries IP.
    pub fn is_llc(&self) -> bool {
        self.frame_control() & 0xf8 == FC_LLC_ASYNC
    }

    /// The destination address octets as stored in the frame.
    pub fn dst_addr(&self) -> EthernetAddress {
        // Unwrap: the range is 6 bytes within the checked header.
        EthernetAddress(self.buffer.as_ref()[field::DST].try_into().unwrap())
    }

    /// The source address octets as stored in the frame.
    pub fn src_addr(&self) -> EthernetAddress {
        // Unwrap: as above.
        EthernetAddress(self.buffer.as_ref()[field::SRC].try_into().unwrap())
    }

    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_frame_control(&mut self, fc: u8) {
        self.buffer.as_mut()[field::FC] = fc;
    }

    pub fn set_dst_addr(&mut self, a: EthernetAddress) {
        self.buffer.as_mut()[field::DST].copy_from_slice(&a.0);
    }

    pub fn set_src_addr(&mut self, a: EthernetAddress) {
        self.buffer.as_mut()[field::SRC].copy_from_slice(&a.0);
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[HEADER_LEN..]
    }
}

/// The FDDI MAC header as values; addresses in the order stored in the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    pub frame_control: u8,
    pub dst_addr: EthernetAddress,
    pub src_addr: EthernetAddress,
}

impl Repr {
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Result<Self> {
        Ok(Self {
            frame_control: p.frame_control(),
            dst_addr: p.dst_addr(),
            src_addr: p.src_addr(),
        })
    }

    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        need(PROTO, buf, HEADER_LEN)?;
        let mut p = Packet::new_unchecked(&mut buf[..HEADER_LEN]);
        p.set_frame_control(self.frame_control);
        p.set_dst_addr(self.dst_addr);
        p.set_src_addr(self.src_addr);
        Ok(())
    }
}

/// IEEE 802.2 LLC with the SNAP extension (RFC 1042), as FDDI, Token Ring and 802.3
/// length-typed frames carry it.
///
/// ```text
/// +------+------+-----------+-----------------+----------+
/// | DSAP | SSAP | Control   | OUI (3, SNAP)   | PID (2)  |
/// +------+------+-----------+-----------------+----------+
/// ```
///
/// The control field is one octet for U-format PDUs (low bits 11) and two for I and S
/// formats; the SNAP part is present when DSAP and SSAP are both 0xAA.
pub mod llc {
    use crate::error::{Error, ErrorKind, Result, need};
    use crate::proto::EtherType;

    const PROTO: &str = "llc";

    /// The SNAP SAP (RFC 1042).
    pub const SAP_SNAP: u8 = 0xaa;
    /// Unnumbered Information, the U-format control that carries datagrams.
    pub const CONTROL_UI: u8 = 0x03;
    /// DSAP, SSAP and a U-format control.
    pub const MIN_LEN: usize = 3;
    pub const SNAP_LEN: usize = 5;
    /// The LLC/SNAP header of RFC 1042: AA AA 03, OUI 00-00-00, EtherType.
    pub const RFC1042_LEN: usize = MIN_LEN + SNAP_LEN;

    /// A view of an LLC header, its SNAP extension when present, and the payload.
    #[derive(Debug, Clone, Copy)]
    pub struct Packet<T: AsRef<[u8]>> {
        buffer: T,
    }

    impl<'a> Packet<&'a [u8]> {
        pub fn into_payload(self) -> &'a [u8] {
            let n = self.header_len();
            &self.buffer[n..]
        }
    }

    impl<T: AsRef<[u8]>> Packet<T> {
        pub const fn new_unchecked(buffer: T) -> Self {
            Self { buffer }
        }

        /// The whole header must be there: the control field as its format says, and the
        /// SNAP extension when the SAPs are SNAP.
        pub fn new_checked(buffer: T) -> Result<Self> {
            let b = buffer.as_ref();
            need(PROTO, b, MIN_LEN)?;
            let p = Self { buffer };
            need(PROTO, p.buffer.as_ref(), p.header_len())?;
            Ok(p)
        }

        pub fn dsap(&self) -> u8 {
            self.buffer.as_ref()[0]
        }

        pub fn ssap(&self) -> u8 {
            self.buffer.as_ref()[1]
        }

        /// Whether the control field is the one-octet U format.
        pub fn is_u_format(&self) -> bool {
            self.buffer.as_ref()[2] & 0x3 == 0x3
        }

        pub fn control_len(&self) -> usize {
            if self.is_u_format() { 1 } else { 2 }
        }

        /// The control field; a two-octet one (I and S formats) read with its first octet
        /// as the low byte, so that N(S) is bits 1..=7 and N(R) bits 9..=15.
        pub fn control(&self) -> u16 {
            let b = self.buffer.as_ref();
            if self.is_u_format() {
                u16::from(b[2])
            } else {
                u16::from_le_bytes([b[2], b[3]])
            }
        }

        pub fn is_snap(&self) -> bool {
            self.dsap() == SAP_SNAP && self.ssap() == SAP_SNAP
        }

        pub fn header_len(&self) -> usize {
            2 + self.control_len() + if self.is_snap() { SNAP_LEN } else { 0 }
        }

        fn snap(&self) -> Option<&[u8]> {
            if !self.is_snap() {
                return None;
            }
            let start = 2 + self.control_len();
            self.buffer.as_ref().get(start..start + SNAP_LEN)
        }

        /// The SNAP organisationally unique identifier (0 for RFC 1042 EtherTypes).
        pub fn oui(&self) -> Option<u32> {
            self.snap()
                .map(|s| u32::from_be_bytes([0, s[0], s[1], s[2]]))
        }

        /// The SNAP protocol identifier: an EtherType when the OUI is 0.
        pub fn pid(&self) -> Option<u16> {
            self.snap().map(|s| u16::from_be_bytes([s[3], s[4]]))
        }

        /// The EtherType of an RFC 1042 frame (SNAP with OUI 0).
        pub fn ethertype(&self) -> Option<EtherType> {
            match (self.oui(), self.pid()) {
                (Some(0), Some(pid)) => Some(EtherType(pid)),
                _ => None,
            }
        }

        pub fn payload(&self) -> &[u8] {
            &self.buffer.as_ref()[self.header_len()..]
        }
    }

    /// The RFC 1042 form of the header: SNAP SAPs, UI, OUI and protocol identifier.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct Repr {
        pub dsap: u8,
        pub ssap: u8,
        /// A U-format control octet.
        pub control: u8,
        /// The SNAP OUI and PID when both SAPs are SNAP.
        pub snap: Option<(u32, u16)>,
    }

    impl Repr {
        /// An RFC 1042 header for an EtherType.
        pub const fn rfc1042(ethertype: EtherType) -> Self {
            Self {
                dsap: SAP_SNAP,
                ssap: SAP_SNAP,
                control: CONTROL_UI,
                snap: Some((0, ethertype.0)),
            }
        }

        /// U-format headers only: I and S formats belong to LLC type 2 connections.
        pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Result<Self> {
            if !p.is_u_format() {
                return Err(Error::new(
                    PROTO,
                    ErrorKind::BadValue,
                    2,
                    "not a U-format control",
                ));
            }
            let snap = match (p.oui(), p.pid()) {
                (Some(o), Some(pid)) => Some((o, pid)),
                _ => None,
            };
            Ok(Self {
                dsap: p.dsap(),
                ssap: p.ssap(),
                control: p.control() as u8,
                snap,
            })
        }

        pub fn buffer_len(&self) -> usize {
            MIN_LEN + if self.snap.is_some() { SNAP_LEN } else { 0 }
        }

        pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
            let snap_saps = self.dsap == SAP_SNAP && self.ssap == SAP_SNAP;
            if self.control & 0x3 != 0x3
                || snap_saps != self.snap.is_some()
                || self.snap.is_some_and(|(o, _)| o > 0xff_ffff)
            {
                return Err(Error::new(
                    PROTO,
                    ErrorKind::BadValue,
                    0,
                    "inconsistent LLC header",
                ));
            }
            need(PROTO, buf, self.buffer_len())?;
            buf[0] = self.dsap;
            buf[1] = self.ssap;
            buf[2] = self.control;
            if let Some((oui, pid)) = self.snap {
                buf[3..6].copy_from_slice(&oui.to_be_bytes()[1..]);
                buf[6..8].copy_from_slice(&pid.to_be_bytes());
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::proto::EtherType;
    use proptest::prelude::*;

    #[rustfmt::skip]
    const FRAME: [u8; 25] = [
        0x51,                               // FC: async LLC, priority 1
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, // dst
        0x80, 0xc0, 0xa0, 0xe0, 0xf0, 0x01, // src
        0xaa, 0xaa, 0x03,                   // DSAP SNAP, SSAP SNAP, control UI
        0x00, 0x00, 0x00,                   // OUI 00-00-00
        0x86, 0xdd,                         // EtherType IPv6
        0x60, 0x00, 0x00, 0x00,             // payload
    ];

    #[test]
    fn parse_frame() {
        let p = Packet::new_checked(&FRAME[..]).unwrap();
        assert_eq!(p.frame_control(), 0x51);
        assert_eq!((p.frame_class(), p.priority(), p.is_llc()), (5, 1, true));
        assert_eq!(p.dst_addr().to_string(), "00:11:22:33:44:55");
        assert_eq!(bit_swapped(p.dst_addr()).to_string(), "00:88:44:cc:22:aa");
        assert_eq!(bit_swapped(p.src_addr()).to_string(), "01:03:05:07:0f:80");
        let l = llc::Packet::new_checked(p.into_payload()).unwrap();
        assert_eq!((l.dsap(), l.ssap(), l.control()), (0xaa, 0xaa, 0x03));
        assert_eq!((l.oui(), l.pid()), (Some(0), Some(0x86dd)));
        assert_eq!(l.ethertype(), Some(EtherType::IPV6));
        assert_eq!(l.into_payload(), &[0x60, 0, 0, 0]);
        assert_eq!(
            llc::Repr::parse(&l).unwrap(),
            llc::Repr::rfc1042(EtherType::IPV6)
        );
    }

    #[test]
    fn malformed() {
        assert!(matches!(
            Packet::new_checked(&FRAME[..12]).unwrap_err().kind,
            ErrorKind::Truncated {
                needed: 13,
                available: 12
            }
        ));
        // SNAP SAPs promise five more bytes.
        assert!(matches!(
            llc::Packet::new_checked(&FRAME[13..19]).unwrap_err().kind,
            ErrorKind::Truncated {
                needed: 8,
                available: 6
            }
        ));
        // An I-format control is two octets; without SNAP the header is 4 bytes.
        let i_frame = [0x42, 0x42, 0x0a, 0x05, 0xff];
        let l = llc::Packet::new_checked(&i_frame[..]).unwrap();
        assert_eq!(
            (l.control_len(), l.control(), l.header_len()),
            (2, 0x050a, 4)
        );
        assert_eq!(l.oui(), None);
        assert!(llc::Repr::parse(&l).is_err());
    }

    proptest! {
        #[test]
        fn emit_parse_identity(fc: u8, dst: [u8; 6], src: [u8; 6], dsap: u8, ssap: u8,
                               ctl in 0u8..64, oui in 0u32..0x100_0000, pid: u16) {
            let repr = Repr { frame_control: fc, dst_addr: EthernetAddress(dst),
                              src_addr: EthernetAddress(src) };
            let control = ctl << 2 | 0x3;
            let snap = (dsap == llc::SAP_SNAP && ssap == llc::SAP_SNAP).then_some((oui, pid));
            let l = llc::Repr { dsap, ssap, control, snap };
            let mut buf = [0u8; HEADER_LEN + llc::RFC1042_LEN];
            repr.emit(&mut buf).unwrap();
            l.emit(&mut buf[HEADER_LEN..]).unwrap();
            let p = Packet::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(Repr::parse(&p).unwrap(), repr);
            let lp = llc::Packet::new_checked(p.into_payload()).unwrap();
            prop_assert_eq!(llc::Repr::parse(&lp).unwrap(), l);
            prop_assert_eq!(bit_swapped(bit_swapped(EthernetAddress(dst))), EthernetAddress(dst));
        }

        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..40)) {
            if let Ok(p) = Packet::new_checked(&data[..]) {
                let _ = Repr::parse(&p);
                let _ = (p.frame_class(), p.priority(), p.is_llc());
            }
            if let Ok(l) = llc::Packet::new_checked(&data[..]) {
                let _ = (l.control(), l.oui(), l.pid(), l.ethertype(), l.payload());
                let _ = llc::Repr::parse(&l);
            }
        }
    }
}
