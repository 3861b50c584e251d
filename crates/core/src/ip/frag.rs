//! Fragmentation of outgoing packets at the source (RFC 8200 §4.5): the split into
//! an unfragmentable part repeated in every fragment and a fragmentable part cut into
//! multiples of 8 octets, each behind a Fragment header.
//!
//! ```text
//! original:  | unfragmentable | fragmentable part ...                        |
//! fragment:  | unfragmentable | Fragment hdr | data[0..n)                     |
//! fragment:  | unfragmentable | Fragment hdr | data[n..2n)                    |
//! fragment:  | unfragmentable | Fragment hdr | data[2n..end)  (M = 0)         |
//! ```

use sixstack_wire::ipv6::{self, HEADER_LEN, MIN_MTU};
use sixstack_wire::ipv6chain::{Chain, Walker};
use sixstack_wire::ipv6fragment::{self, HEADER_LEN as FRAG_HEADER_LEN};
use sixstack_wire::proto::IpProtocol;

/// Byte 6 of the IPv6 header, its Next Header field.
const IPV6_NEXT_HEADER: usize = 6;
/// The largest IPv6 payload without a Jumbo Payload option.
const MAX_PAYLOAD: usize = 65535;

/// The length of the unfragmentable part of `packet` (RFC 8200 §4.5: the IPv6 header and
/// every header up to and including the Routing header, else the Hop-by-Hop header, else
/// none) and the offset of the Next Header byte that a Fragment header would be named in.
pub fn unfragmentable_len(packet: &[u8]) -> Result<(usize, usize), &'static str> {
    let ip = ipv6::Packet::new_checked(packet).map_err(|_| "malformed IPv6 header")?;
    let mut len = HEADER_LEN;
    let mut nh_offset = IPV6_NEXT_HEADER;
    for h in Walker::new(ip.next_header(), ip.payload()) {
        let h = h.map_err(|_| "malformed extension header chain")?;
        match h.header_type {
            // RFC 8200 §4.3: Hop-by-Hop only ever follows the IPv6 header at once.
            IpProtocol::HOPOPTS if h.offset != 0 => return Err("Hop-by-Hop header not first"),
            IpProtocol::HOPOPTS | IpProtocol::ROUTING => {
                len = HEADER_LEN + h.offset + h.len;
                nh_offset = HEADER_LEN + h.offset;
            }
            IpProtocol::FRAGMENT => return Err("packet already has a Fragment header"),
            _ => {}
        }
    }
    Ok((len, nh_offset))
}

/// How much of an upper-layer header must travel in the first fragment.
pub(crate) fn upper_header_len(protocol: IpProtocol, rest: &[u8]) -> usize {
    match protocol {
        // The data offset, in 32-bit words, in the high nibble of byte 12.
        IpProtocol::TCP => rest.get(12).map_or(20, |b| usize::from(b >> 4) * 4).max(20),
        IpProtocol::UDP | IpProtocol::UDPLITE => 8,
        // Type, code, checksum (RFC 4443 §2.1).
        IpProtocol::ICMPV6 => 4,
        // SPI and sequence number (RFC 4303 §2).
        IpProtocol::ESP => 8,
        _ => 0,
    }
}

/// Splits `packet` (a whole IPv6 packet) into fragments of at most `mtu` bytes with
/// identification `ident`. A packet that fits is returned whole as the only piece: no
/// atomic fragments are made (RFC 8021). Fails on an MTU below 1280, a jumbogram, a
/// packet that already carries a Fragment header, an unfragmentable part that leaves no
/// room, or a header chain that does not fit in the first fragment (RFC 7112 §5).
pub fn fragment(packet: &[u8], mtu: usize, ident: u32) -> Result<Vec<Vec<u8>>, &'static str> {
    if mtu < MIN_MTU {
        return Err("MTU below 1280");
    }
    let ip = ipv6::Packet::new_checked(packet).map_err(|_| "malformed IPv6 header")?;
    if ip.is_jumbo_candidate() {
        // RFC 2675 §3: the Jumbo Payload option and a Fragment header never go together.
        return Err("a jumbogram cannot be fragmented");
    }
    let packet = &packet[..HEADER_LEN + usize::from(ip.payload_len())];
    if packet.len() <= mtu {
        return Ok(vec![packet.to_vec()]);
    }
    let (unfrag, nh_offset) = unfragmentable_len(packet)?;
    let original_nh = packet[nh_offset];
    let rest = &packet[unfrag..];
    // Each fragment's Payload Length must fit 16 bits too, whatever the MTU.
    let limit = mtu.min(HEADER_LEN + MAX_PAYLOAD);
    let room = limit.saturating_sub(unfrag + FRAG_HEADER_LEN) & !7;
    if room < 8 {
        return Err("unfragmentable part leaves no room under the MTU");
    }
    let chain = Chain::walk(IpProtocol(original_nh), rest);
    let Some((upper, upper_offset)) = chain.upper_layer() else {
        return Err("malformed extension header chain");
    };
    let chain_len = (upper_offset + upper_header_len(upper, &rest[upper_offset..])).min(rest.len());
    // RFC 7112 §5: the first fragment MUST hold the entire header chain.
    if chain_len > room {
        return Err("header chain does not fit in the first fragment");
    }
    let mut out = Vec::with_capacity(rest.len().div_ceil(room));
    for (i, chunk) in rest.chunks(room).enumerate() {
        let offset = i * room;
        let mut f = Vec::with_capacity(unfrag + FRAG_HEADER_LEN + chunk.len());
        f.extend_from_slice(&packet[..unfrag]);
        f[nh_offset] = IpProtocol::FRAGMENT.0;
        // At most MAX_PAYLOAD by the choice of `room`.
        let payload_len = (unfrag - HEADER_LEN + FRAG_HEADER_LEN + chunk.len()) as u16;
        ipv6::Packet::new_unchecked(&mut f[..]).set_payload_len(payload_len);
        let hdr = ipv6fragment::Repr {
            next_header: IpProtocol(original_nh),
            reserved: 0,
            // Below 8192: `rest` is shorter than MAX_PAYLOAD.
            frag_offset: (offset / 8) as u16,
            res: 0,
            more_frags: offset + chunk.len() < rest.len(),
            ident,
        };
        let mut hbuf = [0u8; FRAG_HEADER_LEN];
        hdr.emit(&mut hbuf)
            .map_err(|_| "fragment header does not fit")?;
        f.extend_from_slice(&hbuf);
        f.extend_from_slice(chunk);
        out.push(f);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ip::reasm::{ReasmConfig, ReasmOutcome, Reassembler};
    use crate::time::Instant;
    use proptest::prelude::*;
    use std::net::Ipv6Addr;

    const SRC: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
    const DST: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);

    /// An IPv6 packet with `headers` (extension headers, already chained) starting with
    /// next header `first`, then `upper` bytes of payload.
    fn packet(first: u8, headers: &[u8], upper: &[u8]) -> Vec<u8> {
        let plen = (headers.len() + upper.len()) as u16;
        let mut p = vec![0u8; HEADER_LEN];
        ipv6::Repr {
            traffic_class: 0,
            flow_label: 0x12345,
            payload_len: plen,
            next_header: IpProtocol(first),
            hop_limit: 64,
            src_addr: SRC,
            dst_addr: DST,
        }
        .emit(&mut p)
        .unwrap();
        p.extend_from_slice(headers);
        p.extend_from_slice(upper);
        p
    }

    fn udp(len: usize) -> Vec<u8> {
        let mut u = vec![0u8; len];
        u[..8].copy_from_slice(&[0x12, 0x34, 0x00, 0x35, (len >> 8) as u8, len as u8, 0, 0]);
        for (i, b) in u[8..].iter_mut().enumerate() {
            *b = i as u8;
        }
        u
    }

    #[rustfmt::skip]
    const HBH: [u8; 8] = [60, 0, 0x01, 0x04, 0, 0, 0, 0]; // next: DestOpts
    #[rustfmt::skip]
    const DSTOPTS_TO_RH: [u8; 8] = [43, 0, 0x01, 0x04, 0, 0, 0, 0]; // next: Routing
    #[rustfmt::skip]
    const ROUTING: [u8; 24] = [
        60, 2, 0, 0, 0, 0, 0, 0,                                    // next: DestOpts
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a,
    ];
    #[rustfmt::skip]
    const DSTOPTS_TO_UDP: [u8; 8] = [17, 0, 0x01, 0x04, 0, 0, 0, 0];

    fn full_chain() -> Vec<u8> {
        [&HBH[..], &DSTOPTS_TO_RH, &ROUTING, &DSTOPTS_TO_UDP].concat()
    }

    #[test]
    fn rfc8200_4_5_unfragmentable_part() {
        assert_eq!(unfragmentable_len(&packet(17, &[], &udp(8))), Ok((40, 6)));
        let hbh_udp = [17, 0, 0x01, 0x04, 0, 0, 0, 0];
        assert_eq!(
            unfragmentable_len(&packet(0, &hbh_udp, &udp(8))),
            Ok((48, 40))
        );
        // Destination Options without a Routing header after them are fragmentable.
        assert_eq!(
            unfragmentable_len(&packet(60, &DSTOPTS_TO_UDP, &udp(8))),
            Ok((40, 6))
        );
        // Everything through the Routing header, the Destination Options before it too.
        assert_eq!(
            unfragmentable_len(&packet(0, &full_chain(), &udp(8))),
            Ok((80, 56))
        );
        let mut fragged = packet(44, &[17, 0, 0, 0, 0, 0, 0, 1], &udp(8));
        assert_eq!(
            unfragmentable_len(&fragged),
            Err("packet already has a Fragment header")
        );
        fragged[0] = 0x40;
        assert_eq!(unfragmentable_len(&fragged), Err("malformed IPv6 header"));
        assert_eq!(
            unfragmentable_len(&packet(0, &HBH[..4], &[])),
            Err("malformed extension header chain")
        );
    }

    /// Hand-checked: 1508 bytes of UDP over a 1280 link give 1232 + 276.
    #[test]
    fn rfc8200_4_5_fragment_fixture_udp() {
        let p = packet(17, &[], &udp(1508));
        let frags = fragment(&p, 1280, 0x1234_5678).unwrap();
        assert_eq!(frags.len(), 2);
        assert_eq!(frags[0].len(), 1280);
        assert_eq!(frags[1].len(), 40 + 8 + 276);
        #[rustfmt::skip]
        let first_hdr = [
            0x60, 0x01, 0x23, 0x45, 0x04, 0xd8, 44, 64, // payload length 1240, NH Fragment
        ];
        assert_eq!(frags[0][..8], first_hdr);
        assert_eq!(frags[0][8..40], p[8..40]);
        // NH UDP, offset 0, M set, identification.
        assert_eq!(
            frags[0][40..48],
            [17, 0, 0x00, 0x01, 0x12, 0x34, 0x56, 0x78]
        );
        assert_eq!(frags[0][48..], p[40..40 + 1232]);
        assert_eq!(frags[1][4..8], [0x01, 0x1c, 44, 64]); // payload length 284
        // Offset 154 (1232 bytes), M clear.
        assert_eq!(
            frags[1][40..48],
            [17, 0, 0x04, 0xd0, 0x12, 0x34, 0x56, 0x78]
        );
        assert_eq!(frags[1][48..], p[40 + 1232..]);
    }

    /// Hand-checked: the unfragmentable part (HBH, DestOpts, Routing) is in every
    /// fragment, the second Destination Options header travels in the first fragment only.
    #[test]
    fn rfc8200_4_5_fragment_fixture_with_routing_header() {
        let p = packet(0, &full_chain(), &udp(3000));
        let frags = fragment(&p, 1500, 7).unwrap();
        // 80 bytes unfragmentable, room (1500 - 88) & !7 = 1408; 3008 bytes to cut.
        let sizes: Vec<_> = frags.iter().map(Vec::len).collect();
        assert_eq!(sizes, [1496, 1496, 88 + 192]);
        for (i, f) in frags.iter().enumerate() {
            assert_eq!(f[6], 0, "IPv6 NH still Hop-by-Hop");
            assert_eq!(f[40..56], p[40..56]);
            assert_eq!(f[56], 44, "Routing header now names the Fragment header");
            assert_eq!(f[57..80], p[57..80]);
            let fh = ipv6fragment::Packet::new_checked(&f[80..]).unwrap();
            assert_eq!(fh.next_header(), IpProtocol::DSTOPTS);
            assert_eq!(fh.frag_offset_bytes(), i * 1408);
            assert_eq!(fh.more_frags(), i < 2);
            assert_eq!(fh.ident(), 7);
            let plen = usize::from(u16::from_be_bytes([f[4], f[5]]));
            assert_eq!(plen + 40, f.len());
        }
        assert_eq!(frags[0][88..96], DSTOPTS_TO_UDP);
    }

    #[test]
    fn small_packet_is_not_fragmented() {
        let p = packet(17, &[], &udp(1000));
        assert_eq!(fragment(&p, 1280, 1).unwrap(), std::slice::from_ref(&p));
        // Link padding after the payload length is not sent.
        let mut padded = p.clone();
        padded.extend_from_slice(&[0; 6]);
        assert_eq!(fragment(&padded, 1280, 1).unwrap(), [p]);
    }

    #[test]
    fn refusals() {
        let p = packet(17, &[], &udp(2000));
        assert_eq!(fragment(&p, 1279, 1), Err("MTU below 1280"));
        let mut jumbo = p.clone();
        jumbo[4..6].copy_from_slice(&[0, 0]);
        jumbo[6] = 0;
        assert_eq!(
            fragment(&jumbo, 1280, 1),
            Err("a jumbogram cannot be fragmented")
        );
        // A Routing header so long that the unfragmentable part fills the MTU.
        let mut rh = vec![17, 156, 0, 0, 0, 0, 0, 0];
        rh.resize(157 * 8, 0);
        let p = packet(43, &rh, &udp(200));
        assert_eq!(
            fragment(&p, 1280, 1),
            Err("unfragmentable part leaves no room under the MTU")
        );
        // Destination Options after the Routing header longer than a fragment's room.
        let mut rh = vec![60, 144, 0, 0, 0, 0, 0, 0];
        rh.resize(145 * 8, 0);
        let mut dst = vec![17, 9, 0x01, 78];
        dst.resize(80, 0);
        let p = packet(43, &[rh, dst].concat(), &udp(200));
        assert_eq!(
            fragment(&p, 1280, 1),
            Err("header chain does not fit in the first fragment")
        );
    }

    fn reassemble(frags: &[Vec<u8>]) -> Option<Vec<u8>> {
        let mut r = Reassembler::new(ReasmConfig::default());
        let mut done = None;
        for f in frags {
            let (_, nh) = unfragmentable_len_of_fragment(f);
            let fo = fragment_header_offset(f);
            match r.insert(Instant::ZERO, f, nh, fo) {
                ReasmOutcome::Pending => {}
                ReasmOutcome::Complete(p) => done = Some(p),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(r.datagrams(), 0);
        assert_eq!(r.bytes_used(), 0);
        done
    }

    /// Where the glue finds the Fragment header: walk to it.
    fn fragment_header_offset(f: &[u8]) -> usize {
        let c = Chain::walk(IpProtocol(f[6]), &f[40..]);
        40 + c.fragment.unwrap().offset
    }

    fn unfragmentable_len_of_fragment(f: &[u8]) -> (usize, usize) {
        let fo = fragment_header_offset(f);
        let mut nh = 6;
        for h in Walker::new(IpProtocol(f[6]), &f[40..]).flatten() {
            if 40 + h.offset + h.len == fo {
                nh = 40 + h.offset;
            }
        }
        (fo, nh)
    }

    #[test]
    fn rfc8200_4_5_fragment_then_reassemble_fixtures() {
        let p = packet(0, &full_chain(), &udp(3000));
        let mut frags = fragment(&p, 1500, 7).unwrap();
        assert_eq!(reassemble(&frags).unwrap(), p);
        frags.reverse();
        assert_eq!(reassemble(&frags).unwrap(), p);
        let p = packet(17, &[], &udp(65535 - 8));
        let frags = fragment(&p, 1280, 9).unwrap();
        assert_eq!(frags.len(), 54);
        assert_eq!(reassemble(&frags).unwrap(), p);
    }

    proptest! {
        #[test]
        fn fragment_reassemble_identity(
            len in 8usize..20000,
            mtu in 1280usize..9000,
            chain in 0usize..4,
            ident: u32,
            order in proptest::collection::vec(any::<u16>(), 0..64),
        ) {
            let p = match chain {
                0 => packet(17, &[], &udp(len)),
                1 => packet(0, &full_chain(), &udp(len)),
                2 => packet(60, &DSTOPTS_TO_UDP, &udp(len)),
                _ => packet(43, &[&ROUTING[..], &DSTOPTS_TO_UDP].concat(), &udp(len)),
            };
            let mut frags = fragment(&p, mtu, ident).unwrap();
            prop_assert!(frags.iter().all(|f| f.len() <= mtu));
            if p.len() <= mtu {
                prop_assert_eq!(&frags, &vec![p.clone()]);
            } else {
                prop_assert!(frags.len() >= 2);
                for f in &frags[..frags.len() - 1] {
                    let (fo, _) = unfragmentable_len_of_fragment(f);
                    prop_assert_eq!((f.len() - fo - 8) % 8, 0);
                }
                // Any order, with some duplicates.
                for (i, k) in order.iter().enumerate() {
                    let n = frags.len();
                    frags.swap(i % n, usize::from(*k) % n);
                }
                let dup = frags[usize::from(order.first().copied().unwrap_or(0)) % frags.len()].clone();
                frags.insert(0, dup);
                let mut r = Reassembler::new(ReasmConfig::default());
                let mut done = None;
                for f in &frags {
                    let (fo, nh) = unfragmentable_len_of_fragment(f);
                    match r.insert(Instant::ZERO, f, nh, fo) {
                        ReasmOutcome::Pending | ReasmOutcome::Dropped("duplicate fragment") => {}
                        ReasmOutcome::Complete(q) => done = Some(q),
                        other => prop_assert!(false, "{:?}", other),
                    }
                }
                prop_assert_eq!(done, Some(p));
            }
        }

        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..3000), mtu in 0usize..3000) {
            let _ = unfragmentable_len(&data);
            if let Ok(frags) = fragment(&data, mtu, 1) {
                prop_assert!(frags.iter().all(|f| f.len() <= mtu));
            }
        }
    }
}
