//! ICMPv6 (RFC 4443), Neighbor Discovery (RFC 4861 and extensions), MLDv1/v2.

use sixstack_wire::icmpv6::{Message, Packet, dst_unreachable, param_problem, time_exceeded};
use sixstack_wire::mld;
use sixstack_wire::ndiscopt::{self, NdiscOption, OptionType};

use super::model::{ChecksumStatus, Layer};
use super::{Dissector, IpContext, Next};

const PROTO: &str = "icmpv6";

pub(super) fn dissect_icmpv6<'a>(d: &mut Dissector, data: &'a [u8]) -> Next<'a> {
    let p = match Packet::new_lenient(data) {
        Ok(p) => p,
        Err(e) => {
            // What there is of a message cut short, as tshark shows it.
            let l = d.layer(PROTO);
            if let Some(&t) = data.first() {
                l.uint("icmpv6.type", t);
            }
            if let Some(&c) = data.get(1) {
                l.uint("icmpv6.code", c);
            }
            if d.is_quoted() {
                return Next::Done;
            }
            return d.malformed(PROTO, e.to_string());
        }
    };
    // Inside an error's quote, or when the capture is already cut short, the checksum's
    // data may be incomplete; tshark leaves quoted checksums unverified as well.
    let status = match d.ip {
        _ if !d.can_verify_upper() || d.malformed.is_some() => ChecksumStatus::Unverified,
        Some(IpContext::V6 { src, dst }) => {
            ChecksumStatus::from_verified(p.verify_checksum(&src, &dst))
        }
        _ => ChecksumStatus::Unverified,
    };
    let quoted = d.is_quoted();
    let t = p.msg_type();
    let l = d.layer(PROTO);
    l.uint("icmpv6.type", t.0)
        .uint("icmpv6.code", p.msg_code())
        .checksum(
            "icmpv6.checksum",
            "icmpv6.checksum.status",
            p.checksum(),
            status,
        );
    let len = data.len();
    if !p.is_complete() {
        // Show the first word of an ND or MLD message that is cut after it.
        if let Some(w) = data.get(4..8) {
            match t {
                Message::NEIGHBOR_SOLICIT | Message::REDIRECT => {
                    l.bytes("icmpv6.reserved", w);
                }
                Message::NEIGHBOR_ADVERT => na_flags(l, p.neighbor_flags_word()),
                Message::ROUTER_ADVERT => {
                    ra_flags(l, &p);
                }
                Message::MLD_QUERY | Message::MLD_REPORT | Message::MLD_DONE => {
                    l.uint("icmpv6.mld.maximum_response_delay", p.max_resp_code())
                        .bytes("icmpv6.reserved", &w[2..]);
                }
                _ => {}
            }
        }
        l.info(format!("ICMP6, {}, length {len}", type_name(t)));
        if quoted {
            return Next::Done;
        }
        return d.malformed(
            PROTO,
            format!("{} needs more than {len} bytes", type_name(t)),
        );
    }
    let mut next = Next::Done;
    match t {
        Message::DST_UNREACHABLE | Message::TIME_EXCEEDED => {
            l.bytes("icmpv6.reserved", &data[4..8]);
            let what = if t == Message::DST_UNREACHABLE {
                format!("destination unreachable, {}", unreach_text(p.msg_code()))
            } else if p.msg_code() == time_exceeded::HOP_LIMIT {
                "time exceeded in-transit".to_string()
            } else if p.msg_code() == time_exceeded::FRAG_REASSEMBLY {
                "time exceeded in-transit (reassembly)".to_string()
            } else {
                format!("time exceeded, unknown code ({})", p.msg_code())
            };
            l.info(format!("ICMP6, {what}, length {len}"));
            next = quote(p.into_payload());
        }
        Message::PACKET_TOO_BIG => {
            l.uint("icmpv6.mtu", p.mtu());
            l.info(format!(
                "ICMP6, packet too big, mtu {}, length {len}",
                p.mtu()
            ));
            next = quote(p.into_payload());
        }
        Message::PARAM_PROBLEM => {
            l.uint("icmpv6.pointer", p.pointer());
            let what = match p.msg_code() {
                param_problem::ERRONEOUS_FIELD => "erroneous",
                param_problem::UNRECOGNIZED_NXT_HDR => "next header",
                param_problem::UNRECOGNIZED_OPTION => "option",
                param_problem::INCOMPLETE_HEADER_CHAIN => "incomplete header chain",
                _ => "unknown",
            };
            l.info(format!(
                "ICMP6, parameter problem, {what} - octet {}, length {len}",
                p.pointer()
            ));
            next = quote(p.into_payload());
        }
        Message::ECHO_REQUEST | Message::ECHO_REPLY => {
            l.uint("icmpv6.echo.identifier", p.echo_ident())
                .uint("icmpv6.echo.sequence_number", p.echo_seq_no());
            l.info(format!(
                "ICMP6, {}, id {}, seq {}, length {len}",
                type_name(t),
                p.echo_ident(),
                p.echo_seq_no()
            ));
            let payload = p.into_payload();
            if !payload.is_empty() {
                next = Next::Data(payload);
            }
        }
        Message::MLD_QUERY | Message::MLD_REPORT | Message::MLD_DONE => {
            mld_v1_or_query_v2(l, &p, len)
        }
        Message::MLDV2_REPORT => {
            l.bytes("icmpv6.reserved", &data[4..6])
                .uint("icmpv6.mldr.nb_mcast_records", p.num_records());
            l.info(format!(
                "ICMP6, multicast listener report v2, {} group record(s), length {len}",
                p.num_records()
            ));
            let mut rest = p.into_records();
            for _ in 0..p.num_records() {
                if rest.is_empty() {
                    break;
                }
                match mld::Record::new_checked(rest) {
                    Ok(r) => {
                        record_fields(l, &r);
                        for s in r.sources() {
                            l.ipv6("icmpv6.mldr.mar.source_address", s);
                        }
                        if r.aux_data_len() > 0 {
                            l.bytes("icmpv6.mldr.mar.auxiliary_data", r.aux_data());
                        }
                        rest = &rest[r.len()..];
                    }
                    Err(e) => {
                        // Show the record's fixed part when it is there, as far as it parses.
                        if let Some(head) = rest.first_chunk::<{ mld::RECORD_HEADER_LEN }>() {
                            let mut group = [0u8; 16];
                            group.copy_from_slice(&head[4..]);
                            l.uint("icmpv6.mldr.mar.record_type", head[0])
                                .uint("icmpv6.mldr.mar.aux_data_len", head[1])
                                .uint(
                                    "icmpv6.mldr.mar.nb_sources",
                                    u16::from_be_bytes([head[2], head[3]]),
                                )
                                .ipv6("icmpv6.mldr.mar.multicast_address", group.into());
                        }
                        return stop(d, quoted, e.to_string());
                    }
                }
            }
        }
        Message::ROUTER_SOLICIT => {
            l.bytes("icmpv6.reserved", &data[4..8]);
            l.info(format!("ICMP6, router solicitation, length {len}"));
        }
        Message::ROUTER_ADVERT => {
            ra_flags(l, &p);
            l.uint("icmpv6.nd.ra.reachable_time", p.reachable_time())
                .uint("icmpv6.nd.ra.retrans_timer", p.retrans_time());
            l.info(format!("ICMP6, router advertisement, length {len}"));
        }
        Message::NEIGHBOR_SOLICIT => {
            l.bytes("icmpv6.reserved", &data[4..8])
                .ipv6("icmpv6.nd.ns.target_address", p.target_addr());
            l.info(format!(
                "ICMP6, neighbor solicitation, who has {}, length {len}",
                p.target_addr()
            ));
        }
        Message::NEIGHBOR_ADVERT => {
            na_flags(l, p.neighbor_flags_word());
            l.ipv6("icmpv6.nd.na.target_address", p.target_addr());
            l.info(format!(
                "ICMP6, neighbor advertisement, tgt is {}, length {len}",
                p.target_addr()
            ));
        }
        Message::REDIRECT => {
            l.bytes("icmpv6.reserved", &data[4..8])
                .ipv6("icmpv6.nd.rd.target_address", p.target_addr())
                .ipv6("icmpv6.rd.na.destination_address", p.dest_addr());
            l.info(format!(
                "ICMP6, redirect, {} to {}, length {len}",
                p.dest_addr(),
                p.target_addr()
            ));
        }
        // Mobile IPv6 (RFC 6275 §6.5-6.8): an identifier, then addresses or options.
        Message::HA_DISCOVERY_REQUEST
        | Message::HA_DISCOVERY_REPLY
        | Message::MOBILE_PREFIX_SOLICIT
        | Message::MOBILE_PREFIX_ADVERT
            if len >= 8 =>
        {
            l.uint("icmpv6.mip6.identifier", p.echo_ident());
            if t == Message::MOBILE_PREFIX_ADVERT {
                let f = p.echo_seq_no();
                l.uint("icmpv6.mip6.flag", f)
                    .flag("icmpv6.mip6.flag.m", f & 0x8000 != 0)
                    .flag("icmpv6.mip6.flag.o", f & 0x4000 != 0)
                    .uint("icmpv6.mip6.flag.rsv", f & 0x3fff);
            } else {
                l.bytes("icmpv6.reserved", &data[6..8]);
            }
            if t == Message::HA_DISCOVERY_REPLY {
                for a in mld::AddrIter::new(p.payload(), usize::MAX) {
                    l.ipv6("icmpv6.mip6.home_agent_address", a);
                }
            }
            l.info(format!(
                "ICMP6, {}, id {}, length {len}",
                type_name(t),
                p.echo_ident()
            ));
            if t == Message::MOBILE_PREFIX_ADVERT {
                return dissect_options(d, p.into_payload(), quoted);
            }
        }
        _ => {
            let body = p.into_body();
            if !body.is_empty() {
                l.bytes("icmpv6.data", body);
            }
            l.info(format!("ICMP6, {}, length {len}", type_name(t)));
        }
    }
    if p.ndisc_options_offset().is_some() {
        return dissect_options(d, p.into_ndisc_options(), quoted);
    }
    next
}

/// The invoking packet of an error, if any of it is there.
fn quote(invoking: &[u8]) -> Next<'_> {
    if invoking.is_empty() {
        Next::Done
    } else {
        Next::QuotedIpv6(invoking)
    }
}

/// Ends the layer with a parse error: malformed on the wire, quietly inside a quote.
fn stop(d: &mut Dissector, quoted: bool, reason: String) -> Next<'static> {
    if quoted {
        Next::Done
    } else {
        d.malformed(PROTO, reason)
    }
}

fn type_name(t: Message) -> String {
    match t.name() {
        Some(n) => n.to_string(),
        None => format!("type {}", t.0),
    }
}

/// tcpdump's words for the Destination Unreachable codes (RFC 4443 §3.1).
fn unreach_text(code: u8) -> String {
    match code {
        dst_unreachable::NO_ROUTE => "unreachable route".into(),
        dst_unreachable::ADMIN_PROHIBITED => "unreachable prohibited".into(),
        dst_unreachable::BEYOND_SCOPE => "beyond scope".into(),
        dst_unreachable::ADDR_UNREACHABLE => "unreachable address".into(),
        dst_unreachable::PORT_UNREACHABLE => "unreachable port".into(),
        dst_unreachable::FAILED_POLICY => "failed ingress/egress policy".into(),
        dst_unreachable::REJECT_ROUTE => "reject route".into(),
        dst_unreachable::SOURCE_ROUTING_HEADER => "error in source routing header".into(),
        c => format!("unknown unreach code ({c})"),
    }
}

/// The first word of a Router Advertisement.
fn ra_flags(l: &mut Layer, p: &Packet<&[u8]>) {
    let f = p.router_flags();
    l.uint("icmpv6.nd.ra.cur_hop_limit", p.cur_hop_limit())
        .uint("icmpv6.nd.ra.flag", f)
        .flag("icmpv6.nd.ra.flag.m", f & 0x80 != 0)
        .flag("icmpv6.nd.ra.flag.o", f & 0x40 != 0)
        .flag("icmpv6.nd.ra.flag.h", f & 0x20 != 0)
        .uint("icmpv6.nd.ra.flag.prf", (f & 0x18) >> 3)
        .flag("icmpv6.nd.ra.flag.p", f & 0x04 != 0)
        .uint("icmpv6.nd.ra.flag.rsv", f & 0x03)
        .uint("icmpv6.nd.ra.router_lifetime", p.router_lifetime());
}

fn na_flags(l: &mut Layer, w: u32) {
    l.uint("icmpv6.nd.na.flag", w)
        .flag("icmpv6.nd.na.flag.r", w & 0x8000_0000 != 0)
        .flag("icmpv6.nd.na.flag.s", w & 0x4000_0000 != 0)
        .flag("icmpv6.nd.na.flag.o", w & 0x2000_0000 != 0)
        .uint("icmpv6.nd.na.flag.rsv", w & 0x1fff_ffff);
}

fn record_fields(l: &mut Layer, r: &mld::Record<'_>) {
    l.uint("icmpv6.mldr.mar.record_type", r.record_type())
        .uint("icmpv6.mldr.mar.aux_data_len", r.aux_data_len())
        .uint("icmpv6.mldr.mar.nb_sources", r.num_sources())
        .ipv6("icmpv6.mldr.mar.multicast_address", r.mcast_addr());
}

fn mld_v1_or_query_v2(l: &mut Layer, p: &Packet<&[u8]>, len: usize) {
    let b = p.into_inner();
    if p.is_query_v2() {
        let f = p.query_flags();
        l.uint(
            "icmpv6.mld.maximum_response_code",
            mld::decode_max_resp_code(p.max_resp_code()),
        )
        .bytes("icmpv6.reserved", &b[6..8])
        .ipv6("icmpv6.mld.multicast_address", p.mcast_addr())
        .uint("icmpv6.mld.flag", f)
        .flag("icmpv6.mld.flag.s", p.s_flag())
        .uint("icmpv6.mld.flag.qrv", p.qrv())
        .uint("icmpv6.mld.flag.reserved", f >> 4)
        .uint("icmpv6.mld.qqi", mld::decode_qqic(p.qqic()))
        .uint("icmpv6.mld.nb_sources", p.query_num_sources());
        for s in p.into_query_sources() {
            l.ipv6("icmpv6.mld.source_address", s);
        }
        let n = p.query_num_sources();
        if n > 0 {
            l.info(format!(
                "ICMP6, multicast listener query v2 [gaddr {}, {n} source(s)], length {len}",
                p.mcast_addr()
            ));
        } else {
            l.info(format!(
                "ICMP6, multicast listener query v2 [gaddr {}], length {len}",
                p.mcast_addr()
            ));
        }
    } else {
        l.uint("icmpv6.mld.maximum_response_delay", p.max_resp_code())
            .bytes("icmpv6.reserved", &b[6..8])
            .ipv6("icmpv6.mld.multicast_address", p.mcast_addr());
        l.info(format!(
            "ICMP6, {} max resp delay: {} addr: {}, length {len}",
            type_name(p.msg_type()),
            p.max_resp_code(),
            p.mcast_addr()
        ));
    }
}

/// The ND options, as far as they are valid; a Redirected Header's packet is what follows.
fn dissect_options<'a>(d: &mut Dissector, area: &'a [u8], quoted: bool) -> Next<'a> {
    let mut next = Next::Done;
    let mut rest = area;
    // Each step consumes at least one 8-byte unit, or stops.
    while rest.len() >= 2 {
        let (t, n) = (rest[0], rest[1]);
        let Some(l) = d.current() else { break };
        l.uint("icmpv6.opt.type", t).uint("icmpv6.opt.length", n);
        let o = match NdiscOption::new_checked(rest) {
            Ok(o) => o,
            Err(e) => return stop(d, quoted, e.to_string()),
        };
        rest = &rest[o.total_len()..];
        let data = o.into_data();
        match o.option_type() {
            OptionType::SOURCE_LL_ADDR | OptionType::TARGET_LL_ADDR => {
                let addr = if n == 1 { &data[..6] } else { data };
                l.bytes("icmpv6.opt.linkaddr", addr);
                if o.option_type() == OptionType::SOURCE_LL_ADDR {
                    l.bytes("icmpv6.opt.src_linkaddr", addr);
                } else {
                    l.bytes("icmpv6.opt.target_linkaddr", addr);
                }
            }
            OptionType::PREFIX_INFORMATION => {
                let f = o.flags();
                l.uint("icmpv6.opt.prefix.length", o.prefix_len())
                    .uint("icmpv6.opt.prefix.flag", f)
                    .flag(
                        "icmpv6.opt.prefix.flag.l",
                        f & ndiscopt::prefix_flags::ON_LINK != 0,
                    )
                    .flag(
                        "icmpv6.opt.prefix.flag.a",
                        f & ndiscopt::prefix_flags::AUTONOMOUS != 0,
                    )
                    .flag(
                        "icmpv6.opt.prefix.flag.r",
                        f & ndiscopt::prefix_flags::ROUTER_ADDRESS != 0,
                    )
                    .uint("icmpv6.opt.prefix.flag.reserved", f & 0x1f)
                    .uint("icmpv6.opt.prefix.valid_lifetime", o.valid_lifetime())
                    .uint(
                        "icmpv6.opt.prefix.preferred_lifetime",
                        o.preferred_lifetime(),
                    )
                    .ipv6("icmpv6.opt.prefix", o.prefix());
            }
            OptionType::REDIRECTED_HEADER => {
                let pkt = o.redirected_packet();
                if !pkt.is_empty() {
                    next = Next::QuotedIpv6(pkt);
                }
            }
            OptionType::MTU => {
                l.uint("icmpv6.opt.mtu", o.word());
            }
            OptionType::NONCE => {
                l.bytes("icmpv6.opt.nonce", data);
            }
            OptionType::ROUTE_INFORMATION => {
                let f = o.flags();
                l.uint("icmpv6.opt.prefix.length", o.prefix_len())
                    .uint("icmpv6.opt.route_info.flag", f)
                    .uint(
                        "icmpv6.opt.route_info.flag.route_preference",
                        (f & 0x18) >> 3,
                    )
                    .uint("icmpv6.opt.route_info.flag.reserved", f & 0xe7)
                    .uint("icmpv6.opt.route_lifetime", o.route_lifetime());
                if n > 1 {
                    l.ipv6("icmpv6.opt.prefix", o.route_prefix());
                }
            }
            OptionType::RDNSS => {
                l.uint("icmpv6.opt.rdnss.lifetime", o.word());
                for a in o.rdnss_addrs() {
                    l.ipv6("icmpv6.opt.rdnss", a);
                }
            }
            OptionType::DNSSL => {
                l.uint("icmpv6.opt.dnssl.lifetime", o.word());
                for name in o.dnssl_names() {
                    match name {
                        Ok(name) => {
                            l.str("icmpv6.opt.dnssl", name.to_string());
                        }
                        Err(e) => return stop(d, quoted, e.to_string()),
                    }
                }
            }
            _ => {
                l.bytes("icmpv6.data", data);
            }
        }
    }
    if rest.len() == 1 {
        return stop(d, quoted, "one stray byte after the options".into());
    }
    next
}

#[cfg(test)]
mod tests {
    use super::super::model::Value;
    use super::super::{LinkType, dissect};
    use proptest::prelude::*;

    /// An IPv6 header from 2001:db8::1 to ff02::1:ff00:2 carrying `icmp`.
    fn ipv6(icmp: &[u8]) -> Vec<u8> {
        let mut p = vec![0x60, 0, 0, 0];
        p.extend_from_slice(&(icmp.len() as u16).to_be_bytes());
        p.extend_from_slice(&[58, 255]);
        p.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        p.extend_from_slice(&[0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, 2]);
        p.extend_from_slice(icmp);
        p
    }

    #[rustfmt::skip]
    const NS: [u8; 40] = [
        0x87, 0x00, 0xa0, 0x79,             // neighbor solicitation, checksum (as scapy made it)
        0x00, 0x00, 0x00, 0x00,             // reserved
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, // target 2001:db8::2
        0x01, 0x01, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, // source link-layer address
        0x0e, 0x01, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, // nonce
    ];

    #[test]
    fn neighbor_solicitation() {
        let (layers, malformed) = dissect(LinkType::IPV6, &ipv6(&NS));
        assert!(malformed.is_none(), "{malformed:?}");
        let l = &layers[1];
        assert_eq!(l.protocol, "icmpv6");
        assert_eq!(
            l.get("icmpv6.checksum.status"),
            Some(&Value::Str("good".into()))
        );
        assert_eq!(
            l.get("icmpv6.nd.ns.target_address"),
            Some(&Value::Ipv6("2001:db8::2".parse().unwrap()))
        );
        assert_eq!(
            l.get("icmpv6.opt.src_linkaddr"),
            Some(&Value::Bytes(vec![0, 0x11, 0x22, 0x33, 0x44, 0x55]))
        );
        assert_eq!(
            l.get("icmpv6.opt.nonce"),
            Some(&Value::Bytes(vec![1, 2, 3, 4, 5, 6]))
        );
        assert_eq!(
            l.info,
            "ICMP6, neighbor solicitation, who has 2001:db8::2, length 40"
        );
        let mut bad = NS;
        bad[2] = 0;
        let (layers, _) = dissect(LinkType::IPV6, &ipv6(&bad));
        assert_eq!(
            layers[1].get("icmpv6.checksum.status"),
            Some(&Value::Str("bad".into()))
        );
    }

    #[test]
    fn zero_length_option_stops() {
        let mut ns = NS;
        ns[25] = 0;
        let (layers, malformed) = dissect(LinkType::IPV6, &ipv6(&ns));
        assert_eq!(malformed.unwrap().protocol, "icmpv6");
        assert_eq!(layers[1].get("icmpv6.opt.length"), Some(&Value::Uint(0)));
        assert!(layers[1].get("icmpv6.opt.nonce").is_none());
    }

    proptest! {
        #[test]
        fn never_panics(t in prop_oneof![0u8..5, 128u8..148, any::<u8>()],
                        body in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut icmp = vec![t];
            icmp.extend_from_slice(&body);
            let _ = dissect(LinkType::IPV6, &ipv6(&icmp));
        }
    }
}
