//! IPv4, ICMPv4 and ARP, as far as tunnels and translation need them.

use core::net::Ipv4Addr;

use sixstack_wire::arp;
use sixstack_wire::icmpv4::{self, msg_type, unreach};
use sixstack_wire::ipv4::{self, OptionsIter};
use sixstack_wire::{EtherType, EthernetAddress};

use super::model::ChecksumStatus;
use super::{Dissector, IpContext, Next};

pub(super) fn dissect_ipv4<'a>(d: &mut Dissector, data: &'a [u8]) -> Next<'a> {
    // Lenient in both cases: a quoted datagram may be cut short, and on the wire a
    // truncated one is shown as far as it goes and marked malformed below.
    let p = match ipv4::Packet::new_lenient(data) {
        Ok(p) => p,
        Err(e) => {
            d.layer("ip");
            return d.malformed("ip", e.to_string());
        }
    };
    let status = ChecksumStatus::from_verified(p.verify_checksum());
    let l = d.layer("ip");
    l.uint("ip.version", p.version())
        .uint("ip.hdr_len", p.header_len() as u64)
        .uint("ip.dsfield", p.ds_field())
        .uint("ip.dsfield.dscp", p.dscp())
        .uint("ip.dsfield.ecn", p.ecn())
        .uint("ip.len", p.total_len())
        .uint("ip.id", p.ident())
        // Wireshark 4.0 shows the three flag bits as a number (DF = 2) and the offset in
        // eight-octet units, as carried.
        .uint("ip.flags", p.flags())
        .flag("ip.flags.rb", p.reserved_flag())
        .flag("ip.flags.df", p.dont_frag())
        .flag("ip.flags.mf", p.more_frags())
        .uint("ip.frag_offset", p.frag_offset())
        .uint("ip.ttl", p.ttl())
        .uint("ip.proto", p.protocol().0)
        .checksum("ip.checksum", "ip.checksum.status", p.checksum(), status)
        .ipv4("ip.src", p.src_addr())
        .ipv4("ip.dst", p.dst_addr());
    let mut bad_option = None;
    for o in OptionsIter::new(p.options()) {
        match o {
            Ok(o) => {
                l.uint("ip.opt.type", o.kind)
                    .flag("ip.opt.type.copy", o.kind & 0x80 != 0)
                    .uint("ip.opt.type.class", (o.kind >> 5) & 0x3)
                    .uint("ip.opt.type.number", o.kind & 0x1f);
                if o.bytes.len() >= 2 {
                    l.uint("ip.opt.len", o.bytes.len() as u64);
                }
            }
            Err(e) => bad_option = Some(e),
        }
    }
    l.info(format!("IP {} > {}:", p.src_addr(), p.dst_addr()));
    if p.ttl() != 64 {
        l.info(format!("ttl {}", p.ttl()));
    }
    if p.frag_offset() != 0 {
        // As tcpdump: a later fragment has no upper-layer header to show.
        l.info(format!("ip-proto-{}", p.protocol().0));
    }
    d.ip = Some(IpContext::V4 {
        src: p.src_addr(),
        dst: p.dst_addr(),
    });
    if let Some(e) = bad_option {
        return d.malformed("ip", e.to_string());
    }
    if usize::from(p.total_len()) < p.header_len() {
        return d.malformed(
            "ip",
            format!(
                "total length {} is less than the header length {}",
                p.total_len(),
                p.header_len()
            ),
        );
    }
    if p.is_truncated() && !d.is_quoted() {
        d.malformed(
            "ip",
            format!(
                "total length {} exceeds the {} bytes captured",
                p.total_len(),
                data.len()
            ),
        );
    }
    if p.is_truncated() || p.more_frags() {
        d.incomplete = true;
    }
    let proto = p.protocol();
    let non_first_fragment = p.frag_offset() != 0;
    let payload = p.into_payload();
    if non_first_fragment {
        return Next::Data(payload);
    }
    Next::Ip(proto, payload)
}

/// The destination address, protocol and first bytes of a datagram quoted in an error,
/// for the summary line (as tcpdump names what was unreachable).
fn quoted_summary(data: &[u8]) -> Option<(Ipv4Addr, u8, &[u8])> {
    let q = ipv4::Packet::new_lenient(data).ok()?;
    Some((q.dst_addr(), q.protocol().0, q.into_payload()))
}

fn unreachable_info(code: u8, mtu: u16, quoted: &[u8]) -> String {
    let Some((dst, proto, upper)) = quoted_summary(quoted) else {
        return format!("ICMP unreachable code {code}");
    };
    match code {
        unreach::NET => format!("ICMP net {dst} unreachable"),
        unreach::HOST => format!("ICMP host {dst} unreachable"),
        unreach::PROTOCOL => format!("ICMP {dst} protocol {proto} unreachable"),
        unreach::PORT => match (proto, upper.get(2..4)) {
            (6 | 17, Some(port)) => format!(
                "ICMP {dst} {} port {} unreachable",
                if proto == 6 { "tcp" } else { "udp" },
                u16::from_be_bytes([port[0], port[1]])
            ),
            _ => format!("ICMP {dst} port unreachable"),
        },
        unreach::FRAG_NEEDED => format!("ICMP {dst} unreachable - need to frag (mtu {mtu})"),
        unreach::SOURCE_ROUTE_FAILED => format!("ICMP {dst} unreachable - source route failed"),
        unreach::ADMIN_PROHIBITED => format!("ICMP {dst} unreachable - admin prohibited filter"),
        c => format!("ICMP {dst} unreachable - code {c}"),
    }
}

pub(super) fn dissect_icmp<'a>(d: &mut Dissector, data: &'a [u8]) -> Next<'a> {
    let p = match icmpv4::Packet::new_checked(data) {
        Ok(p) => p,
        Err(e) => {
            d.layer("icmp");
            if d.is_quoted() {
                return Next::Data(data);
            }
            return d.malformed("icmp", e.to_string());
        }
    };
    // Inside a quote the message is usually cut, and its checksum covers what is missing.
    let status = if d.is_quoted() {
        ChecksumStatus::Unverified
    } else {
        ChecksumStatus::from_verified(p.verify_checksum())
    };
    let (t, code) = (p.msg_type(), p.code());
    let rest = &data[4..8];
    let l = d.layer("icmp");
    l.uint("icmp.type", t).uint("icmp.code", code).checksum(
        "icmp.checksum",
        "icmp.checksum.status",
        p.checksum(),
        status,
    );
    let body = p.into_data();
    let length = data.len();
    match t {
        msg_type::ECHO_REQUEST | msg_type::ECHO_REPLY => {
            l.uint("icmp.ident", p.ident()).uint("icmp.seq", p.seq_no());
            let what = if t == msg_type::ECHO_REQUEST {
                "request"
            } else {
                "reply"
            };
            l.info(format!(
                "ICMP echo {what}, id {}, seq {}, length {length}",
                p.ident(),
                p.seq_no()
            ));
            return Next::Data(body);
        }
        msg_type::DST_UNREACHABLE => {
            if code == unreach::FRAG_NEEDED {
                l.bytes("icmp.unused", &rest[..2])
                    .uint("icmp.mtu", p.next_hop_mtu());
            } else {
                l.bytes("icmp.unused", rest);
            }
            l.info(format!(
                "{}, length {length}",
                unreachable_info(code, p.next_hop_mtu(), body)
            ));
        }
        4 => {
            // Source quench (RFC 792; deprecated by RFC 6633) quotes the datagram too.
            l.bytes("icmp.unused", rest);
            l.info(format!("ICMP source quench, length {length}"));
        }
        5 => {
            let gw = core::net::Ipv4Addr::new(rest[0], rest[1], rest[2], rest[3]);
            l.ipv4("icmp.redir_gw", gw);
            l.info(format!(
                "ICMP redirect to {gw}, code {code}, length {length}"
            ));
        }
        msg_type::TIME_EXCEEDED => {
            l.bytes("icmp.unused", rest);
            let what = match code {
                0 => "in-transit".to_string(),
                1 => "ip reassembly".to_string(),
                c => format!("code {c}"),
            };
            l.info(format!("ICMP time exceeded {what}, length {length}"));
        }
        msg_type::PARAM_PROBLEM => {
            l.uint("icmp.pointer", p.pointer())
                .bytes("icmp.unused", &rest[1..]);
            l.info(format!(
                "ICMP parameter problem - octet {}, length {length}",
                p.pointer()
            ));
        }
        _ => {
            l.info(format!("ICMP type-#{t}, length {length}"));
            return Next::Data(body);
        }
    }
    // An error quoting an error is not followed further: RFC 1122 §3.2.2 forbids
    // sending one, and the quote of a quote is a loop an attacker can build.
    if d.is_quoted() || !icmpv4::is_error(t) {
        return Next::Data(body);
    }
    Next::QuotedIpv4(body)
}

pub(super) fn dissect_arp<'a>(d: &mut Dissector, data: &'a [u8]) -> Next<'a> {
    let p = match arp::Packet::new_checked(data) {
        Ok(p) => p,
        Err(e) => {
            d.layer("arp");
            return d.malformed("arp", e.to_string());
        }
    };
    let l = d.layer("arp");
    l.uint("arp.hw.type", p.hardware_type())
        .uint("arp.proto.type", p.protocol_type().0)
        .uint("arp.hw.size", p.hardware_len())
        .uint("arp.proto.size", p.protocol_len())
        .uint("arp.opcode", p.operation().0);
    let ipv4 = p.protocol_type() == EtherType::IPV4 && p.protocol_len() == 4;
    let pairs = [
        (p.sender_hardware_addr(), p.sender_protocol_addr(), true),
        (p.target_hardware_addr(), p.target_protocol_addr(), false),
    ];
    for (hw, proto, sender) in pairs {
        match EthernetAddress::from_bytes(hw).filter(|_| hw.len() == 6) {
            Some(m) => l.mac(
                if sender {
                    "arp.src.hw_mac"
                } else {
                    "arp.dst.hw_mac"
                },
                m,
            ),
            None => l.bytes(if sender { "arp.src.hw" } else { "arp.dst.hw" }, hw),
        };
        if ipv4 {
            let a = Ipv4Addr::new(proto[0], proto[1], proto[2], proto[3]);
            l.ipv4(
                if sender {
                    "arp.src.proto_ipv4"
                } else {
                    "arp.dst.proto_ipv4"
                },
                a,
            );
        } else {
            l.bytes(
                if sender {
                    "arp.src.proto"
                } else {
                    "arp.dst.proto"
                },
                proto,
            );
        }
    }
    let length = p.packet_len();
    let info = match (arp::Repr::parse(&p), p.operation()) {
        (Ok(r), arp::Operation::REQUEST) => format!(
            "ARP, Request who-has {} tell {}, length {length}",
            r.target_protocol_addr, r.source_protocol_addr
        ),
        (Ok(r), arp::Operation::REPLY) => format!(
            "ARP, Reply {} is-at {}, length {length}",
            r.source_protocol_addr, r.source_hardware_addr
        ),
        (_, op) => format!(
            "ARP, hardware type {}, protocol 0x{:04x}, opcode {}, length {length}",
            p.hardware_type(),
            p.protocol_type().0,
            op.0
        ),
    };
    l.info(info);
    // Bytes after the packet are the link layer's padding, not data.
    Next::Done
}

#[cfg(test)]
mod tests {
    use crate::dump::model::Value;
    use crate::dump::{LinkType, dissect};

    /// IPv4 (protocol 41) carrying IPv6 carrying 8 bytes, checksum filled in by the test.
    fn six_in_four() -> Vec<u8> {
        #[rustfmt::skip]
        let mut f = vec![
            0x45, 0x00, 0x00, 0x44, 0x00, 0x01, 0x00, 0x00, // total length 68
            0x40, 0x29, 0x00, 0x00, 192, 0, 2, 1, 192, 0, 2, 2, // TTL 64, protocol 41
            0x60, 0, 0, 0, 0x00, 0x08, 0x3b, 0x40,             // IPv6, plen 8, no next header
        ];
        f.extend([0x20, 0x01, 0x0d, 0xb8].iter().chain(&[0; 11]).chain(&[1]));
        f.extend([0x20, 0x01, 0x0d, 0xb8].iter().chain(&[0; 11]).chain(&[2]));
        f.extend([0u8; 8]);
        sixstack_wire::ipv4::Packet::new_unchecked(&mut f[..]).fill_checksum();
        f
    }

    #[test]
    fn ipv6_in_ipv4() {
        let (layers, bad) = dissect(LinkType::RAW, &six_in_four());
        assert!(bad.is_none(), "{bad:?}");
        assert_eq!(layers[0].protocol, "ip");
        assert_eq!(layers[0].get("ip.proto"), Some(&Value::Uint(41)));
        assert_eq!(
            layers[0].get("ip.checksum.status"),
            Some(&Value::Str("good".into()))
        );
        assert_eq!(layers[0].info, "IP 192.0.2.1 > 192.0.2.2:");
        assert_eq!(layers[1].protocol, "ipv6");
    }

    #[test]
    fn later_fragment_is_data() {
        let mut f = six_in_four();
        f[6] = 0x00;
        f[7] = 0x06; // offset 48 bytes
        let (layers, _) = dissect(LinkType::RAW, &f);
        assert_eq!(layers[0].get("ip.frag_offset"), Some(&Value::Uint(6)));
        assert_eq!(
            layers[0].get("ip.checksum.status"),
            Some(&Value::Str("bad".into()))
        );
        assert_eq!(layers[1].protocol, "data");
    }

    #[test]
    fn icmp_error_quotes_and_stops() {
        // Time exceeded quoting a time exceeded quoting nothing more: two ip layers at most.
        let inner = [
            0x45, 0, 0, 28, 0, 1, 0, 0, 64, 1, 0, 0, 192, 0, 2, 9, 192, 0, 2, 1, 11, 0, 0, 0, 0, 0,
            0, 0,
        ];
        let mut f = vec![
            0x45, 0, 0, 56, 0, 1, 0, 0, 64, 1, 0, 0, 192, 0, 2, 1, 192, 0, 2, 9,
        ];
        f.extend([11, 0, 0, 0, 0, 0, 0, 0]);
        f.extend(inner);
        let (layers, bad) = dissect(LinkType::RAW, &f);
        assert!(bad.is_none(), "{bad:?}");
        let names: Vec<_> = layers.iter().map(|l| l.protocol).collect();
        assert_eq!(names, ["ip", "icmp", "ip", "icmp"]);
        assert_eq!(
            layers[3].get("icmp.checksum.status"),
            Some(&Value::Str("unverified".into()))
        );
    }

    #[test]
    fn hostile_headers() {
        // IHL 15 in a short buffer, zero-length options, total length below the header.
        for f in [
            &[
                0x4f, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            ][..],
            &[
                0x46, 0, 0, 24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0,
            ][..],
            &[
                0x45, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            ][..],
        ] {
            let (_, bad) = dissect(LinkType::RAW, f);
            assert_eq!(bad.unwrap().protocol, "ip");
        }
    }
}
