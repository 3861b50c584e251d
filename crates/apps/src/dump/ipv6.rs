//! The IPv6 fixed header (RFC 8200 §3).

use core::net::Ipv6Addr;

use sixstack_wire::ErrorKind;
use sixstack_wire::ipv6::Packet;

use super::{Dissector, IpContext, Layer, Next};

pub(super) fn dissect_ipv6<'a>(d: &mut Dissector, data: &'a [u8]) -> Next<'a> {
    // A quoted packet may be cut short; a packet on the wire must be whole.
    let p = match Packet::new_lenient(data) {
        Ok(p) => p,
        Err(e) => {
            partial_header(d.layer("ipv6"), data);
            if d.is_quoted() && matches!(e.kind, ErrorKind::Truncated { .. }) {
                // A quote cut inside the header: show what there is, as tshark does.
                return Next::Done;
            }
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

/// The fields of a header cut short, each shown when all its bytes are there.
fn partial_header(l: &mut Layer, b: &[u8]) {
    if let Some(&v) = b.first() {
        l.uint("ipv6.version", v >> 4);
    }
    if b.len() >= 2 {
        let tc = (b[0] & 0x0f) << 4 | b[1] >> 4;
        l.uint("ipv6.tclass", tc)
            .uint("ipv6.tclass.dscp", tc >> 2)
            .uint("ipv6.tclass.ecn", tc & 0x3);
    }
    if b.len() >= 4 {
        l.uint(
            "ipv6.flow",
            u32::from_be_bytes([0, b[1] & 0x0f, b[2], b[3]]),
        );
    }
    if b.len() >= 6 {
        l.uint("ipv6.plen", u16::from_be_bytes([b[4], b[5]]));
    }
    if let Some(&nh) = b.get(6) {
        l.uint("ipv6.nxt", nh);
    }
    if let Some(&hl) = b.get(7) {
        l.uint("ipv6.hlim", hl);
    }
    for (name, range) in [("ipv6.src", 8..24), ("ipv6.dst", 24..40)] {
        if let Some(Ok(o)) = b.get(range).map(<[u8; 16]>::try_from) {
            l.ipv6(name, Ipv6Addr::from(o));
        }
    }
}
