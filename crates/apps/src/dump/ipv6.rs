//! The IPv6 fixed header (RFC 8200 §3).

use sixstack_wire::ipv6::Packet;

use super::{Dissector, IpContext, Next};

pub(super) fn dissect_ipv6<'a>(d: &mut Dissector, data: &'a [u8]) -> Next<'a> {
    // A quoted packet may be cut short; a packet on the wire must be whole.
    let p = match Packet::new_lenient(data) {
        Ok(p) => p,
        Err(e) => {
            d.layer("ipv6");
            return d.malformed("ipv6", e.to_string());
        }
    };
    let l = d.layer("ipv6");
    l.uint("ipv6.version", p.version())
        .uint("ipv6.tclass", p.traffic_class())
        .uint("ipv6.tclass.dscp", p.dscp())
        .uint("ipv6.tclass.ecn", p.ecn())
        .uint("ipv6.flow", p.flow_label())
        .uint("ipv6.plen", p.payload_len())
        .uint("ipv6.nxt", p.next_header().0)
        .uint("ipv6.hlim", p.hop_limit())
        .ipv6("ipv6.src", p.src_addr())
        .ipv6("ipv6.dst", p.dst_addr());
    l.info(format!("IP6 {} > {}:", p.src_addr(), p.dst_addr()));
    if p.hop_limit() != 64 {
        l.info(format!("hlim {}", p.hop_limit()));
    }
    if p.flow_label() != 0 {
        l.info(format!("flowlabel 0x{:05x}", p.flow_label()));
    }
    d.ip = Some(IpContext::V6 {
        src: p.src_addr(),
        dst: p.dst_addr(),
    });
    if p.is_truncated() {
        d.incomplete = true;
    }
    if p.is_truncated() && !d.is_quoted() {
        d.malformed(
            "ipv6",
            format!(
                "payload length {} exceeds the {} bytes captured",
                p.payload_len(),
                data.len() - sixstack_wire::ipv6::HEADER_LEN
            ),
        );
    }
    Next::Ip(p.next_header(), p.into_payload())
}
