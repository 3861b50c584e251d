//! IPv6 extension headers: Hop-by-Hop and Destination Options (RFC 8200 §4.3, §4.6),
//! Routing (§4.4), Fragment (§4.5), AH (RFC 4302) and ESP (RFC 4303).

use std::fmt::Write as _;

use sixstack_wire::ErrorKind;
use sixstack_wire::ah;
use sixstack_wire::esp;
use sixstack_wire::ipv6fragment;
use sixstack_wire::ipv6opts::{self, Ipv6Option, OptionIter, OptionType};
use sixstack_wire::ipv6routing::{self, Routing};

use super::model::Layer;
use super::{Dissector, IpContext, Next};

/// The field names of one of the two options headers.
struct OptsNames {
    layer: &'static str,
    nxt: &'static str,
    len: &'static str,
    len_oct: &'static str,
    summary: &'static str,
}

const HOPOPTS: OptsNames = OptsNames {
    layer: "ipv6.hopopts",
    nxt: "ipv6.hopopts.nxt",
    len: "ipv6.hopopts.len",
    len_oct: "ipv6.hopopts.len_oct",
    summary: "HBH",
};

const DSTOPTS: OptsNames = OptsNames {
    layer: "ipv6.dstopts",
    nxt: "ipv6.dstopts.nxt",
    len: "ipv6.dstopts.len",
    len_oct: "ipv6.dstopts.len_oct",
    summary: "DSTOPT",
};

/// Tunnel Encapsulation Limit (RFC 2473 §5.1), which Wireshark decodes too.
const TUNNEL_ENCAP_LIMIT: OptionType = OptionType(0x04);

pub(super) fn dissect_hopopts<'a>(d: &mut Dissector, p: &'a [u8]) -> Next<'a> {
    dissect_options(d, p, &HOPOPTS)
}

pub(super) fn dissect_dstopts<'a>(d: &mut Dissector, p: &'a [u8]) -> Next<'a> {
    dissect_options(d, p, &DSTOPTS)
}

/// RFC 4727 §5.1.2: the experimental option types, whatever their action bits.
fn is_experimental(t: OptionType) -> bool {
    t.rest() == 0x1e
}

fn dissect_options<'a>(d: &mut Dissector, data: &'a [u8], names: &OptsNames) -> Next<'a> {
    let quoted = d.is_quoted();
    let p = match ipv6opts::Packet::new_lenient(data) {
        Ok(p) => p,
        Err(e) => {
            d.layer(names.layer);
            return cut_or_malformed(d, names.layer, e, quoted);
        }
    };
    let l = d.layer(names.layer);
    l.uint(names.nxt, p.next_header().0)
        .uint(names.len, p.hdr_ext_len())
        .uint(names.len_oct, p.header_len() as u64);
    let mut info = String::from(names.summary);
    let mut failure = None;
    let area = p.options_area();
    let mut pos = 0;
    // Each turn consumes at least one byte of the area.
    while pos < area.len() {
        match OptionIter::new(&area[pos..]).next() {
            Some(Ok((_, opt))) => {
                option_fields(l, &opt, &mut info);
                pos += opt.buffer_len();
            }
            Some(Err(e)) => {
                // Show what there is of the option that failed, as Wireshark does.
                let t = OptionType(area[pos]);
                l.uint("ipv6.opt.type", t.0)
                    .uint("ipv6.opt.type.action", t.action_bits())
                    .flag("ipv6.opt.type.change", t.may_change())
                    .uint("ipv6.opt.type.rest", t.rest());
                if let Some(&n) = area.get(pos + 1) {
                    l.uint("ipv6.opt.length", n);
                    let _ = write!(info, " (type 0x{:02x}: bad len={n})", t.0);
                }
                // A known option of the wrong length (RFC 2711 §2.1, RFC 2675 §2,
                // RFC 6275 §6.3) is as malformed as one that runs past the header.
                failure = Some(e.at(pos));
                break;
            }
            None => break,
        }
    }
    l.info(info);
    let truncated = p.is_truncated();
    match failure {
        // In a quote, an option cut by the end of the quote is no fault.
        Some(_) if quoted && truncated => Next::Done,
        Some(e) => d.malformed(names.layer, e.to_string()),
        None if truncated => cut_or_malformed(
            d,
            names.layer,
            sixstack_wire::Error::truncated(names.layer, p.header_len(), data.len()),
            quoted,
        ),
        None => Next::Ip(p.next_header(), p.into_payload()),
    }
}

fn option_fields(l: &mut Layer, opt: &Ipv6Option<'_>, info: &mut String) {
    let t = opt.option_type();
    l.uint("ipv6.opt.type", t.0);
    if let Ipv6Option::Pad1 = opt {
        l.str("ipv6.opt.pad1", "");
        return;
    }
    l.uint("ipv6.opt.type.action", t.action_bits())
        .flag("ipv6.opt.type.change", t.may_change())
        .uint("ipv6.opt.type.rest", t.rest())
        .uint("ipv6.opt.length", opt.data_len() as u64);
    match opt {
        Ipv6Option::Pad1 => {}
        Ipv6Option::PadN(b) => {
            l.bytes("ipv6.opt.padn", b);
        }
        Ipv6Option::RouterAlert(v) => {
            l.uint("ipv6.opt.router_alert", *v);
            let _ = write!(info, " (rtalert: 0x{v:04x})");
        }
        Ipv6Option::JumboPayload(v) => {
            l.uint("ipv6.opt.jumbo", *v);
            let _ = write!(info, " (jumbo: {v})");
        }
        Ipv6Option::HomeAddress(a) => {
            l.ipv6("ipv6.opt.mipv6.home_address", *a);
            let _ = write!(info, " (homeaddr: {a})");
        }
        Ipv6Option::Unknown { option_type, data } => {
            match (*option_type, data) {
                (TUNNEL_ENCAP_LIMIT, [v]) => {
                    l.uint("ipv6.opt.tel", *v);
                }
                (t, _) if is_experimental(t) => {
                    l.bytes("ipv6.opt.experimental", data);
                }
                _ => {
                    l.bytes("ipv6.opt.unknown", data);
                }
            }
            let _ = write!(info, " (type 0x{:02x}: len={})", option_type.0, data.len());
        }
    }
}

/// The RPL Source Route header (RFC 6554 §3): addresses with their first CmprI (the
/// last one CmprE) octets elided, taken from the IPv6 destination.
fn rpl_fields(l: &mut Layer, data: &[u8], header_len: usize, ip_dst: core::net::Ipv6Addr) {
    let Some(word) = data.get(..4) else { return };
    let word = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
    let cmpr_i = (word >> 28) as usize;
    let cmpr_e = (word >> 24 & 0xf) as usize;
    let pad = (word >> 20 & 0xf) as usize;
    l.uint("ipv6.routing.rpl.cmprI", cmpr_i as u64)
        .uint("ipv6.routing.rpl.cmprE", cmpr_e as u64)
        .uint("ipv6.routing.rpl.pad", pad as u64)
        .uint("ipv6.routing.rpl.reserved", word & 0xf_ffff);
    // RFC 6554 §3: n = ((HdrExtLen * 8 - Pad - (16 - CmprE)) / (16 - CmprI)) + 1.
    let body = (header_len - 8) as i64 - pad as i64 - (16 - cmpr_e) as i64;
    let count = body.div_euclid((16 - cmpr_i) as i64) + 1;
    l.int("ipv6.routing.rpl.addr_count", count);
    let mut at = 4;
    for i in 0..count.max(0) {
        let elided = if i + 1 == count { cmpr_e } else { cmpr_i };
        let Some(tail) = data.get(at..at + 16 - elided) else {
            break;
        };
        at += 16 - elided;
        let mut full = ip_dst.octets();
        full[elided..].copy_from_slice(tail);
        l.bytes("ipv6.routing.rpl.address", tail)
            .ipv6("ipv6.routing.rpl.full_address", full.into());
    }
}

/// tcpdump's list of route addresses: `, [0]a, [1]b`.
fn addr_info(info: &mut String, addrs: impl Iterator<Item = core::net::Ipv6Addr>) {
    for (i, a) in addrs.enumerate() {
        let _ = write!(info, ", [{i}]{a}");
    }
}

/// The end of a header that does not fit the data: fine in a quote, malformed otherwise.
fn cut_or_malformed(
    d: &mut Dissector,
    proto: &'static str,
    e: sixstack_wire::Error,
    quoted: bool,
) -> Next<'static> {
    if quoted && matches!(e.kind, ErrorKind::Truncated { .. }) {
        Next::Done
    } else {
        d.malformed(proto, e.to_string())
    }
}

pub(super) fn dissect_routing<'a>(d: &mut Dissector, data: &'a [u8]) -> Next<'a> {
    const PROTO: &str = "ipv6.routing";
    let quoted = d.is_quoted();
    let p = match ipv6routing::Packet::new_lenient(data) {
        Ok(p) => p,
        Err(e) => {
            d.layer(PROTO);
            return cut_or_malformed(d, PROTO, e, quoted);
        }
    };
    let d_ip = d.ip;
    let l = d.layer(PROTO);
    l.uint("ipv6.routing.nxt", p.next_header().0)
        .uint("ipv6.routing.len", p.hdr_ext_len())
        .uint("ipv6.routing.len_oct", p.header_len() as u64)
        .uint("ipv6.routing.type", p.routing_type().0)
        .uint("ipv6.routing.segleft", p.segments_left());
    let mut info = format!(
        "srcrt (len={}, type={}, segleft={}",
        p.hdr_ext_len(),
        p.routing_type().0,
        p.segments_left()
    );
    let routing = p.into_routing();
    match &routing {
        Ok(Routing::Type0 { addresses, .. }) => {
            l.bytes("ipv6.routing.src.reserved", &data[4..8]);
            for a in addresses.iter() {
                l.ipv6("ipv6.routing.src.addr", a);
            }
            addr_info(&mut info, addresses.iter());
        }
        Ok(Routing::Type2 { home_address, .. }) => {
            l.bytes("ipv6.routing.mipv6.reserved", &data[4..8])
                .ipv6("ipv6.routing.mipv6.home_address", *home_address);
            addr_info(&mut info, core::iter::once(*home_address));
        }
        Ok(Routing::SegmentRouting {
            last_entry,
            flags,
            tag,
            segments,
            ..
        }) => {
            l.uint("ipv6.routing.srh.last_entry", *last_entry)
                .uint("ipv6.routing.srh.flags", *flags)
                .bytes("ipv6.routing.srh.tag", &tag.to_be_bytes());
            for a in segments.iter() {
                l.ipv6("ipv6.routing.srh.addr", a);
            }
            let _ = write!(
                info,
                ", last-entry={last_entry}, flags=0x{flags:x}, tag={tag:x}"
            );
            addr_info(&mut info, segments.iter());
        }
        Ok(Routing::Other {
            routing_type: ipv6routing::RoutingType::RPL,
            data,
        }) => {
            let ip_dst = match d_ip {
                Some(IpContext::V6 { dst, .. }) => dst,
                _ => core::net::Ipv6Addr::UNSPECIFIED,
            };
            rpl_fields(l, data, p.header_len(), ip_dst);
        }
        Ok(Routing::Other { data, .. }) => {
            l.bytes("ipv6.routing.unknown_data", data);
        }
        Err(_)
            if p.routing_type() == ipv6routing::RoutingType::SEGMENT_ROUTING && data.len() >= 8 =>
        {
            // Last Entry runs past the header: show the fixed fields and the segments
            // that the header does hold.
            l.uint("ipv6.routing.srh.last_entry", data[4])
                .uint("ipv6.routing.srh.flags", data[5])
                .bytes("ipv6.routing.srh.tag", &data[6..8]);
            let end = p.header_len().min(data.len());
            for c in data[8..end].chunks_exact(16) {
                let mut a = [0u8; 16];
                a.copy_from_slice(c);
                l.ipv6("ipv6.routing.srh.addr", a.into());
            }
        }
        Err(_) => {}
    }
    info.push(')');
    l.info(info);
    let routing = match routing {
        Ok(r) => r,
        Err(e) => return cut_or_malformed(d, PROTO, e, quoted),
    };
    if p.is_truncated() {
        let e = sixstack_wire::Error::truncated(PROTO, p.header_len(), data.len());
        return cut_or_malformed(d, PROTO, e, quoted);
    }
    // RFC 8200 §8.1: the upper-layer checksum covers the final destination.
    if p.segments_left() > 0
        && let Some(final_dst) = routing.final_destination()
        && let Some(IpContext::V6 { dst, .. }) = &mut d.ip
    {
        *dst = final_dst;
    }
    Next::Ip(p.next_header(), p.into_payload())
}

pub(super) fn dissect_fragment<'a>(d: &mut Dissector, data: &'a [u8]) -> Next<'a> {
    const PROTO: &str = "ipv6.fraghdr";
    let p = match ipv6fragment::Packet::new_checked(data) {
        Ok(p) => p,
        Err(e) => {
            d.layer(PROTO);
            let quoted = d.is_quoted();
            return cut_or_malformed(d, PROTO, e, quoted);
        }
    };
    let l = d.layer(PROTO);
    l.uint("ipv6.fraghdr.nxt", p.next_header().0)
        .uint("ipv6.fraghdr.reserved_octet", p.reserved())
        .uint("ipv6.fraghdr.offset", p.frag_offset())
        .uint("ipv6.fraghdr.reserved_bits", p.res())
        .flag("ipv6.fraghdr.more", p.more_frags())
        .uint("ipv6.fraghdr.ident", p.ident());
    let rest = p.into_payload();
    l.info(format!(
        "frag (0x{:08x}:{}|{})",
        p.ident(),
        p.frag_offset_bytes(),
        rest.len()
    ));
    if p.is_first() {
        if p.more_frags() {
            d.incomplete = true;
        }
        Next::Ip(p.next_header(), rest)
    } else {
        // Not the first fragment: what follows is the middle of a packet, not a header.
        Next::Data(rest)
    }
}

pub(super) fn dissect_ah<'a>(d: &mut Dissector, data: &'a [u8]) -> Next<'a> {
    const PROTO: &str = "ah";
    let quoted = d.is_quoted();
    let p = match ah::Packet::new_lenient(data) {
        Ok(p) => p,
        Err(e) => {
            d.layer(PROTO);
            return cut_or_malformed(d, PROTO, e, quoted);
        }
    };
    let l = d.layer(PROTO);
    l.uint("ah.next_header", p.next_header().0)
        .uint("ah.length", p.payload_len())
        .bytes("ah.reserved", &data[2..4])
        .uint("ah.spi", p.spi())
        .uint("ah.sequence", p.sequence_number())
        .bytes("ah.icv", p.icv());
    l.info(format!(
        "AH(spi=0x{:08x},seq=0x{:x}):",
        p.spi(),
        p.sequence_number()
    ));
    if p.header_len() < ah::MIN_HEADER_LEN {
        return d.malformed(PROTO, "payload length below the fixed fields");
    }
    if p.is_truncated() {
        let e = sixstack_wire::Error::truncated(PROTO, p.header_len(), data.len());
        return cut_or_malformed(d, PROTO, e, quoted);
    }
    Next::Ip(p.next_header(), p.into_payload())
}

pub(super) fn dissect_esp<'a>(d: &mut Dissector, data: &'a [u8]) -> Next<'a> {
    const PROTO: &str = "esp";
    let p = match esp::Packet::new_lenient(data) {
        Ok(p) => p,
        Err(e) => {
            d.layer(PROTO);
            let quoted = d.is_quoted();
            return cut_or_malformed(d, PROTO, e, quoted);
        }
    };
    let l = d.layer(PROTO);
    l.uint("esp.spi", p.spi())
        .uint("esp.sequence", p.sequence_number());
    l.info(format!(
        "ESP(spi=0x{:08x},seq=0x{:x}), length {}",
        p.spi(),
        p.sequence_number(),
        data.len()
    ));
    // The rest is encrypted: nothing more to show without the keys.
    Next::Done
}

#[cfg(test)]
mod tests {
    use super::super::{LinkType, dissect};
    use super::*;
    use crate::dump::model::Value;

    /// An IPv6 header from 2001:db8::1 to 2001:db8::2 with this next header and payload.
    fn ipv6(nh: u8, payload: &[u8]) -> Vec<u8> {
        let mut p = vec![0x60, 0, 0, 0];
        p.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        p.extend_from_slice(&[nh, 64]);
        p.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        p.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        p.extend_from_slice(payload);
        p
    }

    fn layer<'l>(layers: &'l [Layer], name: &str) -> &'l Layer {
        layers.iter().find(|l| l.protocol == name).unwrap()
    }

    #[rustfmt::skip]
    const HBH: [u8; 24] = [
        0x3b, 0x02,                         // next header 59, hdr ext len 2
        0x05, 0x02, 0x00, 0x00,             // router alert, MLD
        0xc2, 0x04, 0x00, 0x01, 0x11, 0x70, // jumbo payload 70000
        0x00,                               // Pad1
        0x01, 0x00,                         // PadN 0
        0x3e, 0x03, 0x61, 0x62, 0x63,       // experimental 0x3e, "abc"
        0x04, 0x01, 0x05,                   // tunnel encapsulation limit 5
        0x00,                               // Pad1
    ];

    #[test]
    fn hop_by_hop() {
        let (layers, malformed) = dissect(LinkType::IPV6, &ipv6(0, &HBH));
        assert_eq!(malformed, None);
        let l = layer(&layers, "ipv6.hopopts");
        assert_eq!(l.get("ipv6.hopopts.len_oct"), Some(&Value::Uint(24)));
        let types: Vec<_> = l
            .fields
            .iter()
            .filter(|f| f.name == "ipv6.opt.type")
            .map(|f| &f.value)
            .collect();
        assert_eq!(types.len(), 7);
        assert_eq!(l.get("ipv6.opt.jumbo"), Some(&Value::Uint(70000)));
        assert_eq!(
            l.get("ipv6.opt.experimental"),
            Some(&Value::Bytes(b"abc".to_vec()))
        );
        assert_eq!(l.get("ipv6.opt.tel"), Some(&Value::Uint(5)));
        assert_eq!(
            l.info,
            "HBH (rtalert: 0x0000) (jumbo: 70000) (type 0x3e: len=3) (type 0x04: len=1)"
        );
    }

    #[test]
    fn wrong_length_is_shown_then_malformed() {
        let mut h = HBH;
        h[3] = 0x03; // router alert of 3 bytes, eating the first byte of the jumbo option
        h[6] = 0x00; // ... which the rest turns into Pad1 and PadN 4
        h[7] = 0x01;
        h[8] = 0x03;
        let (layers, malformed) = dissect(LinkType::IPV6, &ipv6(0, &h));
        // RFC 2711 §2.1: a Router Alert's value is two octets; anything else is malformed.
        assert_eq!(malformed.unwrap().protocol, "ipv6.hopopts");
        let l = layer(&layers, "ipv6.hopopts");
        assert_eq!(l.get("ipv6.opt.length"), Some(&Value::Uint(3)));
        assert!(
            l.info.starts_with("HBH (type 0x05: bad len=3)"),
            "{}",
            l.info
        );
    }

    #[test]
    fn bad_option_is_malformed_after_fields() {
        let mut h = HBH;
        h[16] = 0x20; // the experimental option now runs past the header
        let (layers, malformed) = dissect(LinkType::IPV6, &ipv6(0, &h));
        assert_eq!(malformed.unwrap().protocol, "ipv6.hopopts");
        assert_eq!(
            layer(&layers, "ipv6.hopopts").get("ipv6.opt.jumbo"),
            Some(&Value::Uint(70000))
        );
    }

    #[test]
    fn routing_updates_destination() {
        #[rustfmt::skip]
        let rt2 = [
            0x3b, 0x02, 0x02, 0x01, 0, 0, 0, 0, // next 59, len 2, type 2, segleft 1, reserved
            0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x77, // home address
        ];
        let mut d = Dissector::default();
        let pkt = ipv6(43, &rt2);
        let next = super::super::ipv6::dissect_ipv6(&mut d, &pkt);
        let Next::Ip(_, rest) = next else { panic!() };
        let next = dissect_routing(&mut d, rest);
        assert!(matches!(
            next,
            Next::Ip(sixstack_wire::IpProtocol::NO_NEXT_HEADER, [])
        ));
        let Some(IpContext::V6 { dst, .. }) = d.ip else {
            panic!()
        };
        assert_eq!(dst, "2001:db8::77".parse::<core::net::Ipv6Addr>().unwrap());
        assert_eq!(
            d.layers[1].info,
            "srcrt (len=2, type=2, segleft=1, [0]2001:db8::77)"
        );
    }

    #[test]
    fn rpl_source_route() {
        #[rustfmt::skip]
        let rpl = [
            0x3b, 0x03, 0x03, 0x02, // next 59, len 3, type 3 (RPL), segleft 2
            0x8c, 0x40, 0x00, 0x00, // CmprI 8, CmprE 12, Pad 4, reserved
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, // two 8-byte addresses
            0x0a, 0x0b, 0x0c, 0x0d, // the last address, 4 bytes
            0, 0, 0, 0,             // pad
        ];
        let (layers, malformed) = dissect(LinkType::IPV6, &ipv6(43, &rpl));
        assert_eq!(malformed, None);
        let l = layer(&layers, "ipv6.routing");
        assert_eq!(l.get("ipv6.routing.rpl.addr_count"), Some(&Value::Int(3)));
        let full: Vec<_> = l
            .fields
            .iter()
            .filter(|f| f.name == "ipv6.routing.rpl.full_address")
            .map(|f| f.value.to_string())
            .collect();
        assert_eq!(
            full,
            [
                "2001:db8::102:304:506:708",
                "2001:db8::90a:b0c:d0e:f10",
                "2001:db8::a0b:c0d"
            ]
        );
    }

    #[test]
    fn fragments() {
        let first = [0x3a, 0, 0x00, 0x01, 0x12, 0x34, 0x56, 0x78, 0x80, 0, 0, 0];
        let mut d = Dissector::default();
        assert!(matches!(
            dissect_fragment(&mut d, &first),
            Next::Ip(_, [0x80, 0, 0, 0])
        ));
        assert_eq!(d.layers[0].info, "frag (0x12345678:0|4)");
        let later = [0x3a, 0, 0x04, 0xd0, 0x12, 0x34, 0x56, 0x78, 0x78, 0x78];
        let mut d = Dissector::default();
        assert!(matches!(
            dissect_fragment(&mut d, &later),
            Next::Data([0x78, 0x78])
        ));
        assert_eq!(d.layers[0].info, "frag (0x12345678:1232|2)");
        assert_eq!(
            d.layers[0].get("ipv6.fraghdr.offset"),
            Some(&Value::Uint(154))
        );
    }

    #[test]
    fn ah_and_esp() {
        #[rustfmt::skip]
        let ah = [
            0x3b, 0x04, 0, 0, 0, 0, 0x12, 0x34, 0, 0, 0, 1, // next 59, len 4, SPI, seq
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,          // ICV
        ];
        let mut d = Dissector::default();
        assert!(matches!(dissect_ah(&mut d, &ah), Next::Ip(_, [])));
        assert_eq!(d.layers[0].info, "AH(spi=0x00001234,seq=0x1):");
        assert_eq!(
            d.layers[0].get("ah.icv"),
            Some(&Value::Bytes(ah[12..].to_vec()))
        );
        let mut d = Dissector::default();
        assert!(matches!(dissect_ah(&mut d, &ah[..20]), Next::Done));
        assert!(d.malformed.is_some());
        let esp = [0, 0, 0xab, 0xcd, 0, 0, 0, 2, 0xde, 0xad];
        let mut d = Dissector::default();
        assert!(matches!(dissect_esp(&mut d, &esp), Next::Done));
        assert_eq!(d.layers[0].info, "ESP(spi=0x0000abcd,seq=0x2), length 10");
    }

    #[test]
    fn quoted_truncation_is_not_malformed() {
        let mut d = Dissector {
            quoted: 1,
            ..Dissector::default()
        };
        assert!(matches!(dissect_hopopts(&mut d, &HBH[..10]), Next::Done));
        assert!(d.malformed.is_none());
        assert_eq!(
            d.layers[0].get("ipv6.opt.router_alert"),
            Some(&Value::Uint(0))
        );
        let mut d = Dissector::default();
        dissect_hopopts(&mut d, &HBH[..10]);
        assert!(d.malformed.is_some());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(first in 0u8..=255, data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..120)) {
            for quoted in [0, 1] {
                let mut d = Dissector { quoted, ..Dissector::default() };
                let _ = match first % 6 {
                    0 => dissect_hopopts(&mut d, &data),
                    1 => dissect_dstopts(&mut d, &data),
                    2 => dissect_routing(&mut d, &data),
                    3 => dissect_fragment(&mut d, &data),
                    4 => dissect_ah(&mut d, &data),
                    _ => dissect_esp(&mut d, &data),
                };
            }
        }
    }
}
