//! Blackhole, unreachable and prohibit routes in a router's forwarding path and for the
//! node's own packets (issue #6): silence, Destination Unreachable code 0, code 1 (RFC
//! 4443 §3.1), and no route for a packet we would send.

use std::net::Ipv6Addr;

use sixstack_core::iface::IfaceConfig;
use sixstack_core::ip::route::{Route, RouteKind, RouteOrigin};
use sixstack_core::{Duration, Error, IfaceId, Instant, Stack, StackConfig};
use sixstack_wire::addr::EthernetAddress;
use sixstack_wire::checksum::Checksum;

const OURS: [u8; 6] = [2, 0, 0, 0, 0, 1];
const PEER: [u8; 6] = [2, 0, 0, 0, 0, 2];

fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

/// An IPv6 packet in an Ethernet frame to us: `next` header, `payload` (checksums are not
/// looked at by a router forwarding).
fn frame(src: Ipv6Addr, dst: Ipv6Addr, next: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = OURS.to_vec();
    f.extend_from_slice(&PEER);
    f.extend_from_slice(&[0x86, 0xdd, 0x60, 0, 0, 0]);
    f.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    f.extend_from_slice(&[next, 64]);
    f.extend_from_slice(&src.octets());
    f.extend_from_slice(&dst.octets());
    f.extend_from_slice(payload);
    f
}

fn router() -> (Stack, IfaceId, IfaceId, Instant) {
    let mut s = Stack::new(StackConfig::router(), 3);
    let mut c0 = IfaceConfig::ethernet("eth0", EthernetAddress(OURS));
    c0.send_rs = false;
    let mut c1 = IfaceConfig::ethernet("eth1", EthernetAddress([2, 0, 0, 0, 1, 1]));
    c1.send_rs = false;
    let eth0 = s.add_interface(Instant::ZERO, c0);
    let eth1 = s.add_interface(Instant::ZERO, c1);
    s.add_address(Instant::ZERO, eth0, a("2001:db8:1::1"), 64)
        .unwrap();
    let mut now = Instant::ZERO;
    for _ in 0..100 {
        now += Duration::from_millis(100);
        s.poll(now);
    }
    for (p, len, kind) in [
        ("2001:db8:b::", 48, RouteKind::Blackhole),
        ("2001:db8:c::", 48, RouteKind::Unreachable),
        ("2001:db8:d::", 48, RouteKind::Prohibit),
    ] {
        s.add_route(Route {
            prefix: a(p),
            prefix_len: len,
            iface: eth1,
            next_hop: None,
            metric: 0,
            origin: RouteOrigin::Static,
            expires: None,
            kind,
        })
        .unwrap();
    }
    // The sender is a known neighbor, so an error to it leaves at once.
    let mut ns = vec![135, 0, 0, 0, 0, 0, 0, 0];
    ns.extend_from_slice(&a("2001:db8:1::1").octets());
    ns.extend_from_slice(&[1, 1]);
    ns.extend_from_slice(&PEER);
    let (src, dst) = (a("2001:db8:1::5"), a("2001:db8:1::1"));
    let c = Checksum::ipv6_pseudo_header(&src, &dst, ns.len() as u32, 58)
        .add_bytes(&ns)
        .finish();
    ns[2..4].copy_from_slice(&c.to_be_bytes());
    let mut f = frame(src, dst, 58, &ns);
    f[21] = 255;
    s.receive(now, eth0, &f);
    while s.transmit().is_some() {}
    (s, eth0, eth1, now)
}

/// What a UDP packet to `dst` makes the router send: (ICMPv6 type, code) of each frame.
fn forward(s: &mut Stack, eth0: IfaceId, now: Instant, dst: &str) -> Vec<(u8, u8)> {
    let udp = [0x30, 0x39, 0, 53, 0, 12, 0, 0, 1, 2, 3, 4];
    s.receive(now, eth0, &frame(a("2001:db8:1::5"), a(dst), 17, &udp));
    std::iter::from_fn(|| s.transmit())
        .map(|(_, f)| (f[54], f[55]))
        .collect()
}

#[test]
fn refusing_routes_in_forwarding_and_own_sends() {
    let (mut s, eth0, _eth1, now) = router();
    assert_eq!(forward(&mut s, eth0, now, "2001:db8:b::1"), []);
    assert_eq!(s.stats().drops_for("blackhole route"), 1);
    assert_eq!(forward(&mut s, eth0, now, "2001:db8:c::1"), [(1, 0)]);
    assert_eq!(s.stats().drops_for("unreachable route"), 1);
    assert_eq!(forward(&mut s, eth0, now, "2001:db8:d::1"), [(1, 1)]);
    assert_eq!(s.stats().drops_for("administratively prohibited route"), 1);
    // No route at all: code 0 as before.
    assert_eq!(forward(&mut s, eth0, now, "2001:db8:e::1"), [(1, 0)]);
    assert_eq!(s.stats().drops_for("no route to forward"), 1);
    for dst in ["2001:db8:b::1", "2001:db8:c::1", "2001:db8:d::1"] {
        assert_eq!(s.route_to(&a(dst), None), Err(Error::NoRoute), "{dst}");
    }
}
