//! Link layers: how an IPv6 packet is framed and unframed on each kind of link, and
//! how an IPv6 multicast address maps to a link-layer one.
//!
//! Ethernet is RFC 2464, FDDI is RFC 2467 (LLC/SNAP, ethertype 0x86dd, MTU 4352),
//! loopback and point-to-point links carry bare IPv6 packets. Tunnels add their own
//! kinds later; a point-to-point link already needs no address resolution.

use std::net::Ipv6Addr;

use sixstack_wire::addr::EthernetAddress;
use sixstack_wire::ethernet;
use sixstack_wire::fddi;
use sixstack_wire::proto::EtherType;

use super::LinkAddr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    Ethernet {
        mac: EthernetAddress,
    },
    Fddi {
        mac: EthernetAddress,
    },
    Loopback,
    /// A link with exactly one other end: no address resolution, no link-layer header.
    PointToPoint,
}

/// A frame that passed the link layer's checks.
#[derive(Debug, Clone, Copy)]
pub struct Unframed<'a> {
    pub src: Option<LinkAddr>,
    /// Sent to a link-layer multicast or broadcast address (RFC 4443 §2.4 (e.3)).
    pub link_multicast: bool,
    pub packet: &'a [u8],
}

/// FDDI frame control for asynchronous LLC frames, priority 0 (RFC 2467 §3).
const FDDI_FC: u8 = fddi::FC_LLC_ASYNC;
/// LLC/SNAP header for IPv6 over FDDI: AA AA 03, OUI 0, ethertype 0x86dd (RFC 2467 §3).
const FDDI_SNAP: [u8; 8] = [0xaa, 0xaa, 0x03, 0, 0, 0, 0x86, 0xdd];

impl LinkKind {
    pub fn name(&self) -> &'static str {
        match self {
            LinkKind::Ethernet { .. } => "ethernet",
            LinkKind::Fddi { .. } => "fddi",
            LinkKind::Loopback => "loopback",
            LinkKind::PointToPoint => "point-to-point",
        }
    }

    /// Whether Neighbor Discovery resolves addresses on this link.
    pub fn resolves(&self) -> bool {
        matches!(self, LinkKind::Ethernet { .. } | LinkKind::Fddi { .. })
    }

    /// Whether the link carries multicast to many nodes (so DAD and MLD make sense).
    pub fn is_multicast_capable(&self) -> bool {
        !matches!(self, LinkKind::Loopback)
    }

    pub fn lladdr(&self) -> Option<LinkAddr> {
        match self {
            LinkKind::Ethernet { mac } | LinkKind::Fddi { mac } => Some(LinkAddr::Mac(*mac)),
            _ => None,
        }
    }

    pub fn mac(&self) -> Option<EthernetAddress> {
        match self {
            LinkKind::Ethernet { mac } | LinkKind::Fddi { mac } => Some(*mac),
            _ => None,
        }
    }

    /// RFC 2464 §2: 1500; RFC 2467 §4: 4352; loopback as Linux (65536 less headroom).
    pub fn default_mtu(&self) -> u32 {
        match self {
            LinkKind::Ethernet { .. } => 1500,
            LinkKind::Fddi { .. } => fddi::IPV6_MTU as u32,
            LinkKind::Loopback => 65520,
            LinkKind::PointToPoint => 1280,
        }
    }

    /// The pcap link type a capture of this link uses.
    pub fn pcap_link_type(&self) -> u32 {
        match self {
            LinkKind::Ethernet { .. } => 1,
            LinkKind::Fddi { .. } => 10,
            LinkKind::Loopback | LinkKind::PointToPoint => 101,
        }
    }

    /// The bytes `frame` puts before the IPv6 packet.
    pub fn header_len(&self) -> usize {
        match self {
            LinkKind::Ethernet { .. } => ethernet::HEADER_LEN,
            LinkKind::Fddi { .. } => fddi::HEADER_LEN + FDDI_SNAP.len(),
            LinkKind::Loopback | LinkKind::PointToPoint => 0,
        }
    }

    /// Frames `packet` for link-layer destination `dst`; for multicast IPv6 destinations
    /// the caller passes [`multicast_lladdr`].
    pub fn frame(&self, dst: Option<LinkAddr>, packet: &[u8]) -> Vec<u8> {
        match *self {
            LinkKind::Ethernet { mac } => {
                let dst = match dst {
                    Some(LinkAddr::Mac(m)) => m,
                    _ => EthernetAddress::BROADCAST,
                };
                let mut f = vec![0u8; ethernet::HEADER_LEN + packet.len()];
                f[0..6].copy_from_slice(&dst.0);
                f[6..12].copy_from_slice(&mac.0);
                f[12..14].copy_from_slice(&EtherType::IPV6.0.to_be_bytes());
                f[ethernet::HEADER_LEN..].copy_from_slice(packet);
                f
            }
            LinkKind::Fddi { mac } => {
                let dst = match dst {
                    Some(LinkAddr::Mac(m)) => m,
                    _ => EthernetAddress::BROADCAST,
                };
                let mut f = Vec::with_capacity(fddi::HEADER_LEN + FDDI_SNAP.len() + packet.len());
                f.push(FDDI_FC);
                f.extend_from_slice(&dst.0);
                f.extend_from_slice(&mac.0);
                f.extend_from_slice(&FDDI_SNAP);
                f.extend_from_slice(packet);
                f
            }
            LinkKind::Loopback | LinkKind::PointToPoint => packet.to_vec(),
        }
    }

    /// Checks a received frame and finds the IPv6 packet in it. The error names the
    /// reason of the drop.
    pub fn unframe<'a>(&self, frame: &'a [u8]) -> Result<Unframed<'a>, &'static str> {
        match *self {
            LinkKind::Ethernet { mac } => {
                let p = ethernet::Packet::new_checked(frame).map_err(|_| "frame truncated")?;
                if p.ethertype() != EtherType::IPV6 {
                    return Err("ethertype not IPv6");
                }
                let (dst, src) = (p.dst_addr(), p.src_addr());
                unframe_mac(mac, dst, src, p.into_payload())
            }
            LinkKind::Fddi { mac } => {
                let p = fddi::Packet::new_checked(frame).map_err(|_| "frame truncated")?;
                if !p.is_llc() {
                    return Err("fddi frame not LLC");
                }
                let (dst, src) = (p.dst_addr(), p.src_addr());
                let payload = p.into_payload();
                if payload.len() < FDDI_SNAP.len() || payload[..FDDI_SNAP.len()] != FDDI_SNAP {
                    return Err("fddi frame not LLC/SNAP IPv6");
                }
                unframe_mac(mac, dst, src, &payload[FDDI_SNAP.len()..])
            }
            LinkKind::Loopback | LinkKind::PointToPoint => Ok(Unframed {
                src: None,
                link_multicast: false,
                packet: frame,
            }),
        }
    }
}

fn unframe_mac(
    ours: EthernetAddress,
    dst: EthernetAddress,
    src: EthernetAddress,
    packet: &[u8],
) -> Result<Unframed<'_>, &'static str> {
    if src.0[0] & 1 != 0 {
        return Err("link-layer source is multicast");
    }
    // A frame with our own source address is kept: it is either our own reflected by the
    // medium (DAD's nonce recognises that, RFC 7527) or another node with the same
    // address (a cloned machine), which DAD must see to detect the duplicate
    // (RFC 4862 §5.4.5).
    let link_multicast = dst.0[0] & 1 != 0;
    if !link_multicast && dst != ours {
        return Err("frame not for our link-layer address");
    }
    Ok(Unframed {
        src: Some(LinkAddr::Mac(src)),
        link_multicast,
        packet,
    })
}

/// RFC 2464 §7 / RFC 2467 §7: 33:33 and the last 32 bits of the group.
pub fn multicast_lladdr(kind: &LinkKind, group: &Ipv6Addr) -> Option<LinkAddr> {
    match kind {
        LinkKind::Ethernet { .. } | LinkKind::Fddi { .. } => {
            Some(LinkAddr::Mac(EthernetAddress::from_ipv6_multicast(group)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 1]);
    const PEER: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 2]);

    #[test]
    fn rfc2464_7_multicast_mapping() {
        let g: Ipv6Addr = "ff02::1:ff00:1234".parse().unwrap();
        let m = multicast_lladdr(&LinkKind::Ethernet { mac: MAC }, &g).unwrap();
        assert_eq!(
            m,
            LinkAddr::Mac(EthernetAddress([0x33, 0x33, 0xff, 0, 0x12, 0x34]))
        );
    }

    #[test]
    fn ethernet_and_fddi_round_trip() {
        for kind in [
            LinkKind::Ethernet { mac: PEER },
            LinkKind::Fddi { mac: PEER },
        ] {
            let f = kind.frame(Some(LinkAddr::Mac(MAC)), b"\x60abc");
            let me = match kind {
                LinkKind::Ethernet { .. } => LinkKind::Ethernet { mac: MAC },
                _ => LinkKind::Fddi { mac: MAC },
            };
            let u = me.unframe(&f).unwrap();
            assert_eq!(u.packet, b"\x60abc");
            assert_eq!(u.src, Some(LinkAddr::Mac(PEER)));
            assert!(!u.link_multicast);
            // Not for us, and our own frame back: both refused.
            let other = LinkKind::Ethernet {
                mac: EthernetAddress([2, 0, 0, 0, 0, 9]),
            };
            if matches!(kind, LinkKind::Ethernet { .. }) {
                assert_eq!(
                    other.unframe(&f).unwrap_err(),
                    "frame not for our link-layer address"
                );
                assert!(kind.unframe(&f).is_err());
            }
        }
    }

    #[test]
    fn hostile_frames_refused() {
        let k = LinkKind::Ethernet { mac: MAC };
        assert!(k.unframe(&[]).is_err());
        assert!(k.unframe(&[0xff; 13]).is_err());
        let f = LinkKind::Fddi { mac: MAC };
        assert!(f.unframe(&[0x50; 14]).is_err());
    }
}
