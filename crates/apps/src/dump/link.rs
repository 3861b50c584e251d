//! Link layers: Ethernet II with 802.1Q tags, FDDI with LLC/SNAP, Linux cooked, BSD null.
//!
//! As `tcpdump -nn` without `-e`, the one-line summary shows no link-layer addresses for
//! IP and ARP; other payloads get `src > dst, ethertype 0x....` so the line says something.

use sixstack_wire::EtherType;
use sixstack_wire::ethernet::{self, MIN_ETHERTYPE, Tags};
use sixstack_wire::fddi::{self, llc};
use sixstack_wire::sll;

use super::{Dissector, LinkType, Next};

/// Whether the summary line says enough about this payload without link addresses.
fn speaks_for_itself(t: EtherType) -> bool {
    matches!(t, EtherType::IPV4 | EtherType::IPV6 | EtherType::ARP)
}

pub(super) fn dissect_ethernet<'a>(d: &mut Dissector, data: &'a [u8]) -> Next<'a> {
    let p = match ethernet::Packet::new_checked(data) {
        Ok(p) => p,
        Err(e) => {
            d.layer("eth");
            return d.malformed("eth", e.to_string());
        }
    };
    let eth_index = d.layers.len();
    let l = d.layer("eth");
    l.mac("eth.dst", p.dst_addr()).mac("eth.src", p.src_addr());
    let t = p.ethertype();
    if t.0 < MIN_ETHERTYPE {
        // IEEE 802.3 length field: an LLC header follows, and bytes past it are padding.
        l.uint("eth.len", t.0);
        let body = p.into_payload();
        let body = &body[..usize::from(t.0).min(body.len())];
        let next = dissect_llc(d, body);
        if !matches!(next, Next::EtherType(t, _) if speaks_for_itself(t)) {
            let info = format!("{} > {}, 802.3, length {}", p.src_addr(), p.dst_addr(), t.0);
            d.layers[eth_index].info(info);
        }
        return next;
    }
    l.uint("eth.type", t.0);
    let mut tags = Tags::new(t, p.into_payload());
    for tag in tags.by_ref() {
        let tag = match tag {
            Ok(tag) => tag,
            Err(e) => {
                d.layer("vlan");
                return d.malformed("vlan", e.to_string());
            }
        };
        let v = tag.tag;
        if tag.tpid == EtherType::QINQ {
            // Wireshark shows an 802.1ad service tag as its own protocol.
            let l = d.layer("ieee8021ad");
            l.uint("ieee8021ad.priority", v.pcp())
                .uint("ieee8021ad.dei", v.dei())
                .uint("ieee8021ad.id", v.vid())
                .uint("ieee8021ah.etype", v.ethertype().0);
            l.info(format!("vlan {}", v.vid()));
        } else {
            let l = d.layer("vlan");
            l.uint("vlan.priority", v.pcp())
                .flag("vlan.dei", v.dei())
                .uint("vlan.id", v.vid())
                .uint("vlan.etype", v.ethertype().0);
            l.info(format!("vlan {}", v.vid()));
        }
    }
    let inner = tags.ethertype();
    if !speaks_for_itself(inner) {
        d.layers[eth_index].info(format!(
            "{} > {}, ethertype {}, length {}",
            p.src_addr(),
            p.dst_addr(),
            inner,
            data.len()
        ));
    }
    if inner.0 < MIN_ETHERTYPE {
        // A length inside a tag: LLC follows here too.
        let body = tags.payload();
        return dissect_llc(d, &body[..usize::from(inner.0).min(body.len())]);
    }
    Next::EtherType(inner, tags.payload())
}

/// IEEE 802.2 LLC and SNAP (layer `llc`), after FDDI, 802.3 lengths and cooked captures.
fn dissect_llc<'a>(d: &mut Dissector, data: &'a [u8]) -> Next<'a> {
    let p = match llc::Packet::new_checked(data) {
        Ok(p) => p,
        Err(e) => {
            d.layer("llc");
            return d.malformed("llc", e.to_string());
        }
    };
    let l = d.layer("llc");
    l.uint("llc.dsap", p.dsap())
        .uint("llc.ssap", p.ssap())
        .uint("llc.control", p.control());
    if let (Some(oui), Some(pid)) = (p.oui(), p.pid()) {
        l.uint("llc.oui", oui);
        // Wireshark names the protocol identifier an EtherType (llc.type) under the
        // RFC 1042 OUI, and a PID under any other.
        if oui == 0 {
            l.uint("llc.type", pid);
        } else {
            l.uint("llc.pid", pid);
        }
    }
    match p.ethertype() {
        Some(t) => {
            if !speaks_for_itself(t) {
                l.info(format!("LLC, ethertype {t}"));
            }
            Next::EtherType(t, p.into_payload())
        }
        None => {
            l.info(format!(
                "LLC, dsap 0x{:02x}, ssap 0x{:02x}",
                p.dsap(),
                p.ssap()
            ));
            Next::Data(p.into_payload())
        }
    }
}

pub(super) fn dissect_fddi<'a>(d: &mut Dissector, data: &'a [u8]) -> Next<'a> {
    let p = match fddi::Packet::new_checked(data) {
        Ok(p) => p,
        Err(e) => {
            d.layer("fddi");
            return d.malformed("fddi", e.to_string());
        }
    };
    // Wireshark takes LINKTYPE_FDDI addresses as non-canonical and shows them
    // bit-swapped into canonical order; so do we, to agree with it field by field.
    let (dst, src) = (
        fddi::bit_swapped(p.dst_addr()),
        fddi::bit_swapped(p.src_addr()),
    );
    let l = d.layer("fddi");
    l.uint("fddi.fc", p.frame_control());
    if p.is_llc() {
        l.uint("fddi.fc.clf", p.frame_class())
            .uint("fddi.fc.prio", p.priority());
    }
    l.mac("fddi.dst", dst).mac("fddi.src", src);
    if !p.is_llc() {
        l.info(format!("{src} > {dst}, fc 0x{:02x}", p.frame_control()));
        return Next::Data(p.into_payload());
    }
    let index = d.layers.len() - 1;
    let next = dissect_llc(d, p.into_payload());
    if !matches!(next, Next::EtherType(t, _) if speaks_for_itself(t)) {
        d.layers[index].info(format!("{src} > {dst}"));
    }
    next
}

pub(super) fn dissect_sll<'a>(d: &mut Dissector, data: &'a [u8]) -> Next<'a> {
    let p = match sll::Packet::new_checked(data) {
        Ok(p) => p,
        Err(e) => {
            d.layer("sll");
            return d.malformed("sll", e.to_string());
        }
    };
    let l = d.layer("sll");
    l.uint("sll.pkttype", p.packet_type())
        .uint("sll.hatype", p.hatype())
        .uint("sll.halen", p.addr_len());
    let addr = p.addr();
    match (p.hatype(), addr.len()) {
        (sll::hatype::ETHER, 6) => {
            // Unwrap: six bytes, matched on this line.
            l.mac(
                "sll.src.eth",
                sixstack_wire::EthernetAddress::from_bytes(addr).unwrap(),
            );
        }
        (sll::hatype::IPGRE, 4) => {
            l.ipv4(
                "sll.src.ipv4",
                core::net::Ipv4Addr::new(addr[0], addr[1], addr[2], addr[3]),
            );
        }
        (_, 0) => {}
        _ => {
            l.bytes("sll.src.other", addr);
        }
    }
    let unused = &p.addr_field()[addr.len()..];
    if !unused.is_empty() {
        l.bytes("sll.unused", unused);
    }
    let proto = p.protocol();
    if p.hatype() == sll::hatype::IPGRE {
        l.uint("sll.gretype", proto.0);
        return Next::EtherType(proto, p.into_payload());
    }
    if proto.0 >= MIN_ETHERTYPE {
        l.uint("sll.etype", proto.0);
        if !speaks_for_itself(proto) {
            l.info(format!("ethertype {proto}"));
        }
        return Next::EtherType(proto, p.into_payload());
    }
    // A Linux ETH_P_ value: 0x0004 is an 802.2 LLC frame.
    l.uint("sll.ltype", proto.0);
    if proto.0 == 0x0004 {
        return dissect_llc(d, p.into_payload());
    }
    l.info(format!("linux protocol 0x{:04x}", proto.0));
    Next::Data(p.into_payload())
}

/// BSD loopback: a 4-byte address family, in the byte order of the writer's host for
/// LINKTYPE_NULL and in network order for LINKTYPE_LOOP (OpenBSD).
pub(super) fn dissect_null<'a>(d: &mut Dissector, data: &'a [u8], lt: LinkType) -> Next<'a> {
    let Some((family, rest)) = data.split_first_chunk::<4>() else {
        d.layer("null");
        return d.malformed(
            "null",
            format!("null: truncated: needs 4 bytes, has {}", data.len()),
        );
    };
    // Families are small numbers: a big-endian one starts with two zero bytes, a
    // little-endian one (almost always) does not.
    let af = if lt == LinkType::LOOP || family[..2] == [0, 0] {
        u32::from_be_bytes(*family)
    } else {
        u32::from_le_bytes(*family)
    };
    let l = d.layer("null");
    l.uint("null.family", af);
    match af {
        2 => Next::EtherType(EtherType::IPV4, rest),
        // AF_INET6 differs by system: 24 (NetBSD, OpenBSD), 28 (FreeBSD), 30 (Darwin).
        24 | 28 | 30 => Next::EtherType(EtherType::IPV6, rest),
        _ => {
            l.info(format!("AF {af}"));
            Next::Data(rest)
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::dump::model::Value;
    use crate::dump::{LinkType, dissect};

    #[rustfmt::skip]
    const VLAN_ARP: [u8; 46] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, // dst, src
        0x81, 0x00, 0x60, 0x05, 0x08, 0x06, // 802.1Q: PCP 3, VID 5; ARP
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, // Ethernet/IPv4 request
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 192, 0, 2, 1, // sender
        0, 0, 0, 0, 0, 0, 192, 0, 2, 2,     // target
    ];

    #[test]
    fn ethernet_vlan_arp() {
        let (layers, bad) = dissect(LinkType::ETHERNET, &VLAN_ARP);
        assert!(bad.is_none(), "{bad:?}");
        let names: Vec<_> = layers.iter().map(|l| l.protocol).collect();
        assert_eq!(names, ["eth", "vlan", "arp"]);
        assert_eq!(layers[0].get("eth.type"), Some(&Value::Uint(0x8100)));
        assert_eq!(layers[1].get("vlan.priority"), Some(&Value::Uint(3)));
        assert_eq!(layers[1].get("vlan.id"), Some(&Value::Uint(5)));
        assert_eq!(layers[1].info, "vlan 5");
        assert_eq!(layers[0].info, "");
        // Tags that never end are bounded, not looped on.
        let mut endless = VLAN_ARP[..12].to_vec();
        endless.extend([0x81, 0x00].repeat(200));
        let (_, bad) = dissect(LinkType::ETHERNET, &endless);
        assert_eq!(bad.unwrap().protocol, "vlan");
    }

    #[test]
    fn null_byte_order() {
        let ip6 = [0x60u8; 40];
        for (family, lt) in [
            ([30, 0, 0, 0], LinkType::NULL),
            ([0, 0, 0, 24], LinkType::NULL),
            ([0, 0, 0, 28], LinkType::LOOP),
        ] {
            let frame: Vec<u8> = family.iter().chain(&ip6).copied().collect();
            let (layers, _) = dissect(lt, &frame);
            assert_eq!(layers[1].protocol, "ipv6", "{family:?}");
        }
        let (_, bad) = dissect(LinkType::NULL, &[2, 0]);
        assert!(bad.is_some());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..120),
                        lt in proptest::sample::select(vec![0u32, 1, 10, 101, 108, 113])) {
            let _ = dissect(LinkType(lt), &data);
        }
    }

    #[test]
    fn fddi_snap() {
        let mut frame = vec![
            0x50, 0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x80, 0xc0, 0xa0, 0xe0, 0xf0, 1,
        ];
        frame.extend([0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x06]);
        let (layers, _) = dissect(LinkType::FDDI, &frame);
        assert_eq!(
            layers[0].get("fddi.dst").unwrap().to_string(),
            "00:88:44:cc:22:aa"
        );
        assert_eq!(layers[1].get("llc.type"), Some(&Value::Uint(0x0806)));
        assert_eq!(layers[2].protocol, "arp");
    }
}
