//! Scenario tests: the socket layer of sixstack nodes end to end — UDP (RFC 768, RFC 8200
//! §8.1), UDP-Lite (RFC 3828), raw sockets (RFC 3542) — and source address selection
//! (RFC 6724, RFC 4007 site zones) as sockets see it.

use std::net::Ipv6Addr;

use sixstack_core::iface::IfaceConfig;
use sixstack_core::ip::route::{Route, RouteKind, RouteOrigin};
use sixstack_core::slaac::AddrState;
use sixstack_core::socket::SocketHandle;
use sixstack_core::{Duration, Error, IfaceId, Instant, Stack, StackConfig};
use sixstack_sim::testkit::*;
use sixstack_sim::{Captured, LinkConfig, LinkId, Network, NodeId, TapVerdict};
use sixstack_wire::addr::EthernetAddress;
use sixstack_wire::icmpv6::{self, Message};
use sixstack_wire::ndisc;
use sixstack_wire::ndiscopt::{self, prefix_flags};
use sixstack_wire::proto::IpProtocol;
use sixstack_wire::udp::{self, PseudoHeader};

const TESTER_MAC: EthernetAddress = EthernetAddress([0x02, 0x00, 0x5e, 0x00, 0x53, 0xfe]);
const TESTER: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0xfe);
const UDPLITE: IpProtocol = IpProtocol(136);

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// One link with the given stacks on it (eth0 each), run for 5 s: DAD done everywhere.
fn lan_of(seed: u64, test: &str, stacks: Vec<Stack>) -> (Network<Stack>, LinkId, Vec<NodeId>) {
    let mut net = Network::new(seed);
    let link = net.add_link("lan", LinkConfig::ethernet());
    record(&mut net, test);
    let mut ids = Vec::new();
    for (i, s) in stacks.into_iter().enumerate() {
        let id = net.add_node(&format!("h{}", i + 1), s);
        net.attach(link, id, ETH0);
        ids.push(id);
    }
    net.run_until(Instant::from_secs(5));
    for &id in &ids {
        assert!(link_local(net.node(id), ETH0).is_some(), "DAD done");
    }
    (net, link, ids)
}

/// `n` default hosts on one link, settled.
fn settled(seed: u64, n: u8, test: &str) -> (Network<Stack>, LinkId, Vec<NodeId>) {
    let stacks = (1..=n)
        .map(|i| host(seed.wrapping_add(u64::from(i)), mac(i)))
        .collect();
    lan_of(seed, test, stacks)
}

fn add_addr(net: &mut Network<Stack>, node: NodeId, iface: IfaceId, a: &str, len: u8) {
    let now = net.now();
    net.node_mut(node)
        .add_address(now, iface, ip(a), len)
        .expect("address");
}

/// Adds the addresses and runs DAD to the end.
fn with_addrs(net: &mut Network<Stack>, addrs: &[(NodeId, &str)]) {
    for (n, a) in addrs {
        add_addr(net, *n, ETH0, a, 64);
    }
    net.run_for(secs(3));
    for (n, a) in addrs {
        assert!(net.node(*n).assigned_addrs(ETH0).contains(&ip(a)), "{a}");
    }
}

fn udp_bound(net: &mut Network<Stack>, node: NodeId, addr: &str, port: u16) -> SocketHandle {
    let s = net.node_mut(node);
    let h = s.udp_open().expect("socket");
    s.bind(h, ip(addr), port, None).expect("bind");
    h
}

fn send(
    net: &mut Network<Stack>,
    node: NodeId,
    h: SocketHandle,
    dst: Ipv6Addr,
    port: u16,
    payload: &[u8],
) -> Result<usize, Error> {
    let now = net.now();
    net.node_mut(node).send_to(now, h, dst, port, None, payload)
}

fn recv_all(
    net: &mut Network<Stack>,
    node: NodeId,
    h: SocketHandle,
) -> Vec<sixstack_core::Datagram> {
    let s = net.node_mut(node);
    std::iter::from_fn(|| s.recv(h).ok()).collect()
}

fn raw_all(
    net: &mut Network<Stack>,
    node: NodeId,
    h: SocketHandle,
) -> Vec<sixstack_core::RawPacket> {
    let s = net.node_mut(node);
    std::iter::from_fn(|| s.raw_recv(h).ok()).collect()
}

/// The UDP (or UDP-Lite) packets captured since `t`.
fn udp_seen(net: &Network<Stack>, link: LinkId, proto: IpProtocol, t: Instant) -> Vec<Seen> {
    packets(net, link)
        .into_iter()
        .filter(|p| p.time >= t && p.proto == proto)
        .collect()
}

fn udp_checksum_good(s: &Seen) -> bool {
    let p = udp::Packet::new_checked(&s.upper[..]).expect("UDP header");
    p.checksum_verdict(&PseudoHeader::V6 {
        src: s.src,
        dst: s.dst,
    }) == udp::Verdict::Good
}

/// A UDP datagram with a correct checksum; `mangle` may spoil it afterwards.
fn udp_dgram(src: Ipv6Addr, dst: Ipv6Addr, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let repr = udp::Repr {
        src_port: sport,
        dst_port: dport,
        payload_len: payload.len(),
    };
    let mut d = vec![0u8; repr.buffer_len()];
    repr.emit_with_payload(&mut d, payload, &PseudoHeader::V6 { src, dst })
        .expect("emit");
    d
}

/// A UDP-Lite datagram with coverage `cov` (legal) and a correct checksum.
fn lite_dgram(
    src: Ipv6Addr,
    dst: Ipv6Addr,
    sport: u16,
    dport: u16,
    cov: u16,
    payload: &[u8],
) -> Vec<u8> {
    let repr = udp::lite::Repr {
        src_port: sport,
        dst_port: dport,
        checksum_coverage: cov,
        payload_len: payload.len(),
    };
    let mut d = vec![0u8; repr.buffer_len()];
    repr.emit_with_payload(&mut d, payload, &PseudoHeader::V6 { src, dst })
        .expect("emit");
    d
}

/// A frame from the tester to `to_mac` carrying `upper` as `proto`.
fn tester_frame(
    to_mac: EthernetAddress,
    dst: Ipv6Addr,
    proto: IpProtocol,
    upper: &[u8],
) -> Vec<u8> {
    ethernet(
        TESTER_MAC,
        to_mac,
        &ipv6_packet(TESTER, dst, proto, 64, upper),
    )
}

fn echo_request_msg(ident: u16, seq: u16, data: &[u8]) -> Vec<u8> {
    let mut m = vec![Message::ECHO_REQUEST.0, 0, 0, 0];
    m.extend_from_slice(&ident.to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(data);
    m
}

// ----- UDP --------------------------------------------------------------------------------

#[test]
fn rfc4007_6_udp_over_link_local_addresses_with_zones() {
    let (mut net, link, ids) = settled(31, 2, "rfc4007_6_udp_over_link_local_addresses_with_zones");
    let (h1, h2) = (ids[0], ids[1]);
    let (ll1, ll2) = (
        link_local(net.node(h1), ETH0).unwrap(),
        link_local(net.node(h2), ETH0).unwrap(),
    );
    let rx = udp_bound(&mut net, h1, "::", 7000);
    let t = net.now();
    let tx = net.node_mut(h2).udp_open().unwrap();
    net.node_mut(h2)
        .send_to(t, tx, ll1, 7000, Some(ETH0), b"hello")
        .unwrap();
    net.run_for(ms(100));
    let got = recv_all(&mut net, h1, rx);
    assert_eq!(got.len(), 1);
    let d = &got[0];
    let sport = net.node(h2).local_addr(tx).unwrap().1;
    assert_eq!(
        (d.src, d.src_port, d.dst, d.dst_port, d.iface),
        (ll2, sport, ll1, 7000, ETH0),
        "the arrival interface is the zone of the link-local source"
    );
    assert_eq!(d.payload, b"hello");
    assert_eq!(d.coverage, 8 + 5);

    // The answer goes back to the source in its zone.
    let t2 = net.now();
    net.node_mut(h1)
        .send_to(t2, rx, d.src, d.src_port, Some(d.iface), b"world")
        .unwrap();
    net.run_for(ms(100));
    let back = recv_all(&mut net, h2, tx);
    assert_eq!(back.len(), 1);
    assert_eq!((back[0].src, back[0].src_port), (ll1, 7000));
    assert_eq!(back[0].payload, b"world");

    let wire = udp_seen(&net, link, IpProtocol::UDP, t);
    assert_eq!(wire.len(), 2);
    for s in &wire {
        assert!(udp_checksum_good(s), "RFC 8200 §8.1 checksum: {s:?}");
        assert_eq!(s.hop_limit, 64);
    }

    // With a second interface there is no default zone: a link-local destination without
    // one is refused rather than guessed (RFC 4007 §6).
    let t3 = net.now();
    net.node_mut(h2)
        .add_interface(t3, IfaceConfig::ethernet("eth1", mac(0x22)));
    assert_eq!(
        net.node_mut(h2).send_to(t3, tx, ll1, 7000, None, b"where?"),
        Err(Error::ZoneRequired)
    );
    assert_eq!(
        net.node_mut(h2)
            .send_to(t3, tx, ll1, 7000, Some(ETH0), b"here"),
        Ok(4)
    );
}

#[test]
fn rfc768_udp_over_global_addresses() {
    let (mut net, link, ids) = settled(32, 2, "rfc768_udp_over_global_addresses");
    let (h1, h2) = (ids[0], ids[1]);
    with_addrs(&mut net, &[(h1, "2001:db8:1::1"), (h2, "2001:db8:1::2")]);
    let rx = udp_bound(&mut net, h1, "::", 53);
    let tx = net.node_mut(h2).udp_open().unwrap();
    let t = net.now();
    send(&mut net, h2, tx, ip("2001:db8:1::1"), 53, b"query").unwrap();
    net.run_for(ms(100));
    let got = recv_all(&mut net, h1, rx);
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].src, got[0].dst, got[0].dst_port),
        (ip("2001:db8:1::2"), ip("2001:db8:1::1"), 53),
        "RFC 6724: a global source for a global destination"
    );
    let t2 = net.now();
    net.node_mut(h1)
        .send_to(t2, rx, got[0].src, got[0].src_port, None, b"answer")
        .unwrap();
    net.run_for(ms(100));
    let back = recv_all(&mut net, h2, tx);
    assert_eq!(back.len(), 1);
    assert_eq!((back[0].src, back[0].src_port), (ip("2001:db8:1::1"), 53));
    assert_eq!(back[0].payload, b"answer");
    let wire = udp_seen(&net, link, IpProtocol::UDP, t);
    assert_eq!(wire.len(), 2);
    assert!(wire.iter().all(udp_checksum_good));
    assert_eq!(net.node(h1).stats().udp.in_datagrams, 1);
    assert_eq!(net.node(h1).stats().udp.out_datagrams, 1);
}

#[test]
fn rfc3493_3_8_bind_to_a_specific_address_or_to_any() {
    let (mut net, link, ids) = settled(33, 2, "rfc3493_3_8_bind_to_a_specific_address_or_to_any");
    let (h1, h2) = (ids[0], ids[1]);
    with_addrs(
        &mut net,
        &[
            (h1, "2001:db8:1::1"),
            (h1, "2001:db8:1::11"),
            (h2, "2001:db8:1::2"),
        ],
    );
    let specific = udp_bound(&mut net, h1, "2001:db8:1::1", 9000);
    let any = udp_bound(&mut net, h1, "::", 9001);
    let s = net.node_mut(h1);
    let other = s.udp_open().unwrap();
    assert_eq!(
        s.bind(other, ip("::"), 9000, None),
        Err(Error::AddrInUse),
        "any would overlap the specific binding"
    );
    assert_eq!(
        s.bind(other, ip("2001:db8:1::1"), 9000, None),
        Err(Error::AddrInUse)
    );
    assert!(matches!(
        s.bind(other, ip("2001:db8:1::99"), 9002, None),
        Err(Error::Invalid(_))
    ));

    let tx = net.node_mut(h2).udp_open().unwrap();
    let t = net.now();
    for (dst, port) in [
        ("2001:db8:1::1", 9000),
        ("2001:db8:1::11", 9000),
        ("2001:db8:1::1", 9001),
        ("2001:db8:1::11", 9001),
    ] {
        send(&mut net, h2, tx, ip(dst), port, dst.as_bytes()).unwrap();
    }
    net.run_for(ms(200));
    let to_specific = recv_all(&mut net, h1, specific);
    assert_eq!(to_specific.len(), 1, "only datagrams to its own address");
    assert_eq!(to_specific[0].dst, ip("2001:db8:1::1"));
    let to_any = recv_all(&mut net, h1, any);
    let dsts: Vec<Ipv6Addr> = to_any.iter().map(|d| d.dst).collect();
    assert_eq!(dsts, vec![ip("2001:db8:1::1"), ip("2001:db8:1::11")]);
    // The datagram to the other address on port 9000 found no socket.
    assert_eq!(net.node(h1).stats().udp.no_ports, 1);
    let unreach = icmp(&net, link, Message::DST_UNREACHABLE, Some(h1));
    assert_eq!(unreach.len(), 1);
    assert_eq!(unreach[0].src, ip("2001:db8:1::11"));
    assert_eq!(unreach[0].icmp_code(), Some(4));
    assert!(unreach[0].time >= t);

    // Sending from the specific socket uses its address even where RFC 6724 would not.
    let rx2 = udp_bound(&mut net, h2, "::", 7777);
    let t2 = net.now();
    net.node_mut(h1)
        .send_to(t2, specific, ip("2001:db8:1::2"), 7777, None, b"x")
        .unwrap();
    net.run_for(ms(100));
    let got = recv_all(&mut net, h2, rx2);
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].src, got[0].src_port), (ip("2001:db8:1::1"), 9000));
}

#[test]
fn rfc768_connected_socket_receives_only_from_its_peer() {
    let (mut net, link, ids) =
        settled(34, 3, "rfc768_connected_socket_receives_only_from_its_peer");
    let (h1, h2, h3) = (ids[0], ids[1], ids[2]);
    let ll: Vec<Ipv6Addr> = ids
        .iter()
        .map(|&n| link_local(net.node(n), ETH0).unwrap())
        .collect();
    let c = udp_bound(&mut net, h1, "::", 9000);
    net.node_mut(h1)
        .connect(c, ll[1], 9001, Some(ETH0))
        .unwrap();
    let peer = udp_bound(&mut net, h2, "::", 9001);
    let peer_other_port = udp_bound(&mut net, h2, "::", 9002);
    let stranger = udp_bound(&mut net, h3, "::", 9001);
    let t = net.now();
    for (n, h, msg) in [
        (h2, peer, &b"from the peer"[..]),
        (h2, peer_other_port, b"from the peer's other port"),
        (h3, stranger, b"from a stranger"),
    ] {
        net.node_mut(n)
            .send_to(t, h, ll[0], 9000, Some(ETH0), msg)
            .unwrap();
    }
    net.run_for(ms(200));
    let got = recv_all(&mut net, h1, c);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].payload, b"from the peer");
    assert_eq!(net.node(h1).stats().udp.no_ports, 2);
    // Nobody else listens there: the other two senders hear port unreachable.
    let unreach = icmp(&net, link, Message::DST_UNREACHABLE, Some(h1));
    assert_eq!(unreach.len(), 2);
    assert!(unreach.iter().all(|u| u.icmp_code() == Some(4)));
    let n = net.node_mut(h3).take_error(stranger).expect("ICMP notice");
    assert_eq!(
        (n.from, n.msg_type, n.code, n.dst_port),
        (ll[0], 1, 4, 9000)
    );

    // `send` on the connected socket goes to the peer.
    let t2 = net.now();
    net.node_mut(h1).send(t2, c, b"reply").unwrap();
    net.run_for(ms(100));
    let r = recv_all(&mut net, h2, peer);
    assert_eq!(r.len(), 1);
    assert_eq!(
        (r[0].src, r[0].src_port, &r[0].payload[..]),
        (ll[0], 9000, &b"reply"[..])
    );
}

#[test]
fn rfc6335_6_ephemeral_ports_from_the_dynamic_range() {
    let (mut net, link, ids) = settled(35, 2, "rfc6335_6_ephemeral_ports_from_the_dynamic_range");
    let (h1, h2) = (ids[0], ids[1]);
    let mut ports = std::collections::BTreeSet::new();
    for _ in 0..200 {
        let s = net.node_mut(h1);
        let h = s.udp_open().unwrap();
        let p = s.bind(h, Ipv6Addr::UNSPECIFIED, 0, None).unwrap();
        assert!((49152..=65535).contains(&p), "port {p}");
        assert!(ports.insert(p), "port {p} given twice");
    }
    // Not just counting up from the bottom of the range (RFC 6056 §3.3.1 randomizes).
    let (lo, hi) = (*ports.first().unwrap(), *ports.last().unwrap());
    assert!(
        hi - lo > 1000,
        "spread over the range, not consecutive: {lo}..{hi}"
    );

    // An unbound socket that sends gets one too, and it is what goes on the wire.
    let ll2 = link_local(net.node(h2), ETH0).unwrap();
    let rx = udp_bound(&mut net, h2, "::", 4000);
    let t = net.now();
    let s = net.node_mut(h1);
    let tx = s.udp_open().unwrap();
    s.send_to(t, tx, ll2, 4000, None, b"x").unwrap();
    let local = net.node(h1).local_addr(tx).expect("bound by sending").1;
    assert!((49152..=65535).contains(&local));
    net.run_for(ms(100));
    assert_eq!(recv_all(&mut net, h2, rx)[0].src_port, local);
    let wire = udp_seen(&net, link, IpProtocol::UDP, t);
    let hdr = udp::Packet::new_checked(&wire[0].upper[..]).unwrap();
    assert_eq!(hdr.src_port(), local);
}

#[test]
fn rfc8200_8_1_zero_udp_checksum_dropped_and_counted() {
    let (mut net, link, ids) = settled(36, 1, "rfc8200_8_1_zero_udp_checksum_dropped_and_counted");
    let h1 = ids[0];
    let ll1 = link_local(net.node(h1), ETH0).unwrap();
    let rx = udp_bound(&mut net, h1, "::", 7000);
    let before = net.node(h1).stats().clone();
    let mut d = udp_dgram(TESTER, ll1, 1234, 7000, b"no checksum");
    d[6] = 0;
    d[7] = 0;
    net.inject(link, None, tester_frame(mac(1), ll1, IpProtocol::UDP, &d));
    // The same datagram with its checksum is taken: only the zero made the difference.
    let good = udp_dgram(TESTER, ll1, 1234, 7000, b"no checksum");
    net.inject(
        link,
        None,
        tester_frame(mac(1), ll1, IpProtocol::UDP, &good),
    );
    net.run_for(ms(100));
    let got = recv_all(&mut net, h1, rx);
    assert_eq!(got.len(), 1);
    let st = net.node(h1).stats();
    assert_eq!(st.drops_for("UDP checksum zero over IPv6"), 1);
    assert_eq!(st.udp.in_errors, before.udp.in_errors + 1);
    assert_eq!(st.udp.in_datagrams, before.udp.in_datagrams + 1);
    assert!(
        icmp(&net, link, Message::DST_UNREACHABLE, Some(h1)).is_empty(),
        "a bad datagram gets no ICMP error"
    );
}

#[test]
fn rfc768_bad_udp_checksum_dropped() {
    let (mut net, link, ids) = settled(37, 1, "rfc768_bad_udp_checksum_dropped");
    let h1 = ids[0];
    let ll1 = link_local(net.node(h1), ETH0).unwrap();
    let rx = udp_bound(&mut net, h1, "::", 7000);
    let before = net.node(h1).stats().clone();
    let mut d = udp_dgram(TESTER, ll1, 1234, 7000, b"corrupted");
    let last = d.len() - 1;
    d[last] ^= 0x20;
    net.inject(link, None, tester_frame(mac(1), ll1, IpProtocol::UDP, &d));
    net.run_for(ms(100));
    assert!(recv_all(&mut net, h1, rx).is_empty());
    let st = net.node(h1).stats();
    assert_eq!(st.drops_for("UDP checksum bad"), 1);
    assert_eq!(st.udp.in_errors, before.udp.in_errors + 1);
    assert_eq!(st.udp.in_datagrams, before.udp.in_datagrams);
    assert_eq!(st.ip.in_delivers, before.ip.in_delivers);
    assert!(icmp(&net, link, Message::DST_UNREACHABLE, Some(h1)).is_empty());
}

#[test]
fn rfc4443_3_1_port_unreachable_for_an_unbound_port() {
    let (mut net, link, ids) = settled(38, 2, "rfc4443_3_1_port_unreachable_for_an_unbound_port");
    let (h1, h2) = (ids[0], ids[1]);
    let (ll1, ll2) = (
        link_local(net.node(h1), ETH0).unwrap(),
        link_local(net.node(h2), ETH0).unwrap(),
    );
    let tx = net.node_mut(h2).udp_open().unwrap();
    let t = net.now();
    send(&mut net, h2, tx, ll1, 4444, b"anyone?").unwrap();
    net.run_for(ms(200));
    let sent = udp_seen(&net, link, IpProtocol::UDP, t);
    assert_eq!(sent.len(), 1);
    let errs = icmp(&net, link, Message::DST_UNREACHABLE, Some(h1));
    assert_eq!(errs.len(), 1);
    let e = &errs[0];
    assert_eq!((e.src, e.dst), (ll1, ll2));
    match e.icmp().expect("valid ICMPv6") {
        icmpv6::Repr::DstUnreachable { code, invoking } => {
            assert_eq!(code, 4, "port unreachable");
            assert_eq!(invoking, &sent[0].packet[..], "the whole datagram quoted");
        }
        other => panic!("{other:?}"),
    }
    let st = net.node(h1).stats();
    assert_eq!(st.udp.no_ports, 1);
    assert_eq!(st.drops_for("UDP port unreachable"), 1);
    assert_eq!(st.icmp.out_by_type[1], 1);
    let n = net
        .node_mut(h2)
        .take_error(tx)
        .expect("the sender hears it");
    assert_eq!(
        (n.from, n.msg_type, n.code, n.dst, n.dst_port),
        (ll1, 1, 4, ll1, 4444)
    );
}

#[test]
fn rfc768_socket_receive_queue_is_bounded_and_drops_counted() {
    let cfg = StackConfig {
        socket_queue_len: 4,
        ..StackConfig::default()
    };
    let mut small = Stack::new(cfg, 391);
    small.add_interface(Instant::ZERO, IfaceConfig::ethernet("eth0", mac(1)));
    let (mut net, _link, ids) = lan_of(
        39,
        "rfc768_socket_receive_queue_is_bounded_and_drops_counted",
        vec![small, host(392, mac(2))],
    );
    let (h1, h2) = (ids[0], ids[1]);
    let ll1 = link_local(net.node(h1), ETH0).unwrap();
    let rx = udp_bound(&mut net, h1, "::", 7000);
    let tx = net.node_mut(h2).udp_open().unwrap();
    // One first, so that h2 knows h1's link-layer address: the burst then goes out
    // whole rather than waiting (and being cut) in address resolution.
    send(&mut net, h2, tx, ll1, 7000, b"warm-up").unwrap();
    net.run_for(ms(200));
    assert_eq!(recv_all(&mut net, h1, rx).len(), 1);
    let before = net.node(h1).stats().clone();
    for i in 0..10u8 {
        send(&mut net, h2, tx, ll1, 7000, &[i]).unwrap();
    }
    net.run_for(ms(200));
    let st = net.node(h1).stats();
    assert_eq!(st.udp.in_datagrams - before.udp.in_datagrams, 4);
    assert_eq!(st.drops_for("socket receive queue full"), 6);
    assert_eq!(st.udp.in_errors - before.udp.in_errors, 6);
    let got = recv_all(&mut net, h1, rx);
    let firsts: Vec<u8> = got.iter().map(|d| d.payload[0]).collect();
    assert_eq!(firsts, vec![0, 1, 2, 3], "the oldest kept, in order");
    // Room again once read.
    send(&mut net, h2, tx, ll1, 7000, &[10]).unwrap();
    net.run_for(ms(100));
    assert_eq!(recv_all(&mut net, h1, rx)[0].payload, vec![10]);
}

#[test]
fn rfc3493_5_2_multicast_hop_limit_defaults_to_1() {
    let (mut net, link, ids) = settled(40, 2, "rfc3493_5_2_multicast_hop_limit_defaults_to_1");
    let (h1, h2) = (ids[0], ids[1]);
    let ll2 = link_local(net.node(h2), ETH0).unwrap();
    let g = ip("ff05::db8:5");
    let h = net.node_mut(h1).udp_open().unwrap();
    let t = net.now();
    send(&mut net, h1, h, g, 5000, b"m1").unwrap();
    send(&mut net, h1, h, ll2, 5000, b"u1").unwrap();
    net.node_mut(h1)
        .set_multicast_hop_limit(h, Some(8))
        .unwrap();
    net.node_mut(h1).set_hop_limit(h, Some(5)).unwrap();
    send(&mut net, h1, h, g, 5000, b"m2").unwrap();
    send(&mut net, h1, h, ll2, 5000, b"u2").unwrap();
    net.run_for(ms(200));
    let seen: Vec<(Ipv6Addr, u8)> = udp_seen(&net, link, IpProtocol::UDP, t)
        .iter()
        .map(|s| (s.dst, s.hop_limit))
        .collect();
    assert_eq!(
        seen,
        vec![(g, 1), (g, 8), (ll2, 64), (ll2, 5)],
        "multicast 1 by default, unicast CurHopLimit; each set on its own"
    );
}

// ----- UDP-Lite ---------------------------------------------------------------------------

/// A tap that flips the first payload byte of UDP-Lite and UDP datagrams whose payload
/// starts with `marker` (the frame is Ethernet, IPv6 with no extension headers).
fn corrupting_tap(marker: &'static [u8]) -> Box<dyn FnMut(&Captured) -> TapVerdict> {
    Box::new(move |c: &Captured| {
        let f = &c.frame;
        let proto = f.get(14 + 6).copied();
        if (proto == Some(UDPLITE.0) || proto == Some(IpProtocol::UDP.0))
            && f.get(62..62 + marker.len()) == Some(marker)
        {
            let mut g = f.clone();
            g[62] ^= 0xff;
            TapVerdict::Replace(g)
        } else {
            TapVerdict::Pass
        }
    })
}

#[test]
fn rfc3828_3_1_header_only_coverage_delivers_a_corrupted_payload() {
    let test = "rfc3828_3_1_header_only_coverage_delivers_a_corrupted_payload";
    let (mut net, link, ids) = settled(41, 2, test);
    let (h1, h2) = (ids[0], ids[1]);
    let ll1 = link_local(net.node(h1), ETH0).unwrap();
    let s1 = net.node_mut(h1);
    let lite_rx = s1.udplite_open().unwrap();
    s1.bind(lite_rx, Ipv6Addr::UNSPECIFIED, 5001, None).unwrap();
    let udp_rx = udp_bound(&mut net, h1, "::", 5002);
    let s2 = net.node_mut(h2);
    let lite_tx = s2.udplite_open().unwrap();
    s2.set_udplite_send_coverage(lite_tx, 8).unwrap();
    let udp_tx = s2.udp_open().unwrap();
    net.set_tap(link, corrupting_tap(b"video"));
    let t = net.now();
    send(&mut net, h2, lite_tx, ll1, 5001, b"video frame").unwrap();
    send(&mut net, h2, udp_tx, ll1, 5002, b"video frame").unwrap();
    net.run_for(ms(100));

    let lite = udp_seen(&net, link, UDPLITE, t);
    assert_eq!(lite.len(), 1);
    let p = udp::lite::Packet::new_checked(&lite[0].upper[..]).unwrap();
    assert_eq!(p.checksum_coverage(), 8, "RFC 3828 §3.1: the header only");
    assert_eq!(p.payload()[0], b'v' ^ 0xff, "corrupted in flight");

    let got = recv_all(&mut net, h1, lite_rx);
    assert_eq!(got.len(), 1, "UDP-Lite delivers the damaged payload");
    assert_eq!(got[0].coverage, 8);
    let mut want = b"video frame".to_vec();
    want[0] ^= 0xff;
    assert_eq!(got[0].payload, want);
    assert_eq!(net.node(h1).stats().udplite.in_datagrams, 1);

    assert!(recv_all(&mut net, h1, udp_rx).is_empty(), "UDP drops it");
    assert_eq!(net.node(h1).stats().drops_for("UDP checksum bad"), 1);
}

#[test]
fn rfc3828_3_1_coverage_below_the_receivers_minimum_dropped() {
    let test = "rfc3828_3_1_coverage_below_the_receivers_minimum_dropped";
    let (mut net, link, ids) = settled(42, 2, test);
    let (h1, h2) = (ids[0], ids[1]);
    let ll1 = link_local(net.node(h1), ETH0).unwrap();
    let s1 = net.node_mut(h1);
    let rx = s1.udplite_open().unwrap();
    s1.bind(rx, Ipv6Addr::UNSPECIFIED, 5001, None).unwrap();
    s1.set_udplite_recv_min_coverage(rx, 20).unwrap();
    let s2 = net.node_mut(h2);
    let tx = s2.udplite_open().unwrap();
    assert!(matches!(
        s2.set_udplite_send_coverage(tx, 5),
        Err(Error::Invalid(_))
    ));
    let payload = [0x55u8; 30];
    let t = net.now();
    for cov in [8u16, 20, 0] {
        net.node_mut(h2).set_udplite_send_coverage(tx, cov).unwrap();
        send(&mut net, h2, tx, ll1, 5001, &payload).unwrap();
    }
    net.run_for(ms(100));
    let wire: Vec<u16> = udp_seen(&net, link, UDPLITE, t)
        .iter()
        .map(|s| {
            udp::lite::Packet::new_checked(&s.upper[..])
                .unwrap()
                .checksum_coverage()
        })
        .collect();
    assert_eq!(wire, vec![8, 20, 0]);
    let got: Vec<usize> = recv_all(&mut net, h1, rx)
        .iter()
        .map(|d| d.coverage)
        .collect();
    assert_eq!(
        got,
        vec![20, 38],
        "coverage 8 < 20 dropped; 0 is the whole 38 bytes"
    );
    let st = net.node(h1).stats();
    assert_eq!(
        st.drops_for("UDP-Lite coverage below the socket's minimum"),
        1
    );
    assert_eq!(st.udplite.in_errors, 1);
    assert_eq!(st.udplite.in_datagrams, 2);
}

#[test]
fn rfc3828_3_1_coverage_zero_covers_the_whole_datagram() {
    let test = "rfc3828_3_1_coverage_zero_covers_the_whole_datagram";
    let (mut net, link, ids) = settled(43, 2, test);
    let (h1, h2) = (ids[0], ids[1]);
    let ll1 = link_local(net.node(h1), ETH0).unwrap();
    let s1 = net.node_mut(h1);
    let rx = s1.udplite_open().unwrap();
    s1.bind(rx, Ipv6Addr::UNSPECIFIED, 5001, None).unwrap();
    let tx = net.node_mut(h2).udplite_open().unwrap();
    net.set_tap(link, corrupting_tap(b"flip"));
    let t = net.now();
    send(&mut net, h2, tx, ll1, 5001, b"intact payload").unwrap();
    send(&mut net, h2, tx, ll1, 5001, b"flip me").unwrap();
    net.run_for(ms(100));
    let wire = udp_seen(&net, link, UDPLITE, t);
    assert_eq!(wire.len(), 2);
    let p = udp::lite::Packet::new_checked(&wire[0].upper[..]).unwrap();
    assert_eq!(p.checksum_coverage(), 0, "the default coverage field");
    assert_eq!(p.coverage(), wire[0].upper.len());
    assert!(
        p.verify_checksum(&PseudoHeader::V6 {
            src: wire[0].src,
            dst: wire[0].dst
        })
        .is_ok()
    );
    let got = recv_all(&mut net, h1, rx);
    assert_eq!(
        got.len(),
        1,
        "the damaged one is dropped: the payload was covered"
    );
    assert_eq!(got[0].payload, b"intact payload");
    assert_eq!(got[0].coverage, 8 + 14);
    assert_eq!(net.node(h1).stats().drops_for("UDP-Lite checksum bad"), 1);
}

#[test]
fn rfc3828_3_1_coverage_beyond_the_datagram_or_below_8_dropped() {
    let test = "rfc3828_3_1_coverage_beyond_the_datagram_or_below_8_dropped";
    let (mut net, link, ids) = settled(44, 1, test);
    let h1 = ids[0];
    let ll1 = link_local(net.node(h1), ETH0).unwrap();
    let s1 = net.node_mut(h1);
    let rx = s1.udplite_open().unwrap();
    s1.bind(rx, Ipv6Addr::UNSPECIFIED, 5001, None).unwrap();
    let payload = b"twelve bytes";
    for bad_cov in [8 + 12 + 1, 4u16] {
        let mut d = lite_dgram(TESTER, ll1, 1111, 5001, 0, payload);
        d[4..6].copy_from_slice(&bad_cov.to_be_bytes());
        net.inject(link, None, tester_frame(mac(1), ll1, UDPLITE, &d));
    }
    // Control: a legal coverage equal to the datagram length passes.
    let ok = lite_dgram(TESTER, ll1, 1111, 5001, 8 + 12, payload);
    net.inject(link, None, tester_frame(mac(1), ll1, UDPLITE, &ok));
    net.run_for(ms(100));
    let got = recv_all(&mut net, h1, rx);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].coverage, 20);
    let st = net.node(h1).stats();
    assert_eq!(st.drops_for("UDP-Lite header or coverage invalid"), 2);
    assert_eq!(st.udplite.in_errors, 2);
}

#[test]
fn rfc3828_3_1_zero_checksum_is_illegal() {
    let (mut net, link, ids) = settled(45, 1, "rfc3828_3_1_zero_checksum_is_illegal");
    let h1 = ids[0];
    let ll1 = link_local(net.node(h1), ETH0).unwrap();
    let s1 = net.node_mut(h1);
    let rx = s1.udplite_open().unwrap();
    s1.bind(rx, Ipv6Addr::UNSPECIFIED, 5001, None).unwrap();
    let mut d = lite_dgram(TESTER, ll1, 1111, 5001, 8, b"no checksum");
    d[6] = 0;
    d[7] = 0;
    net.inject(link, None, tester_frame(mac(1), ll1, UDPLITE, &d));
    let ok = lite_dgram(TESTER, ll1, 1111, 5001, 8, b"checksummed");
    net.inject(link, None, tester_frame(mac(1), ll1, UDPLITE, &ok));
    net.run_for(ms(100));
    let got = recv_all(&mut net, h1, rx);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].payload, b"checksummed");
    let st = net.node(h1).stats();
    assert_eq!(st.drops_for("UDP-Lite checksum bad"), 1);
    assert_eq!(st.udplite.in_errors, 1);
    assert!(icmp(&net, link, Message::DST_UNREACHABLE, Some(h1)).is_empty());
}

// ----- raw sockets ------------------------------------------------------------------------

#[test]
fn rfc3542_3_2_icmp6_filter_passes_only_echo_replies() {
    let (mut net, link, ids) = settled(46, 2, "rfc3542_3_2_icmp6_filter_passes_only_echo_replies");
    let (h1, h2) = (ids[0], ids[1]);
    let ll2 = link_local(net.node(h2), ETH0).unwrap();
    let s = net.node_mut(h1);
    let filtered = s.raw_open(IpProtocol::ICMPV6).unwrap();
    s.set_icmp_filter(filtered, &[Message::ECHO_REPLY.0])
        .unwrap();
    let all = s.raw_open(IpProtocol::ICMPV6).unwrap();
    let t = net.now();
    net.node_mut(h1)
        .raw_send_to(
            t,
            filtered,
            ll2,
            Some(ETH0),
            &echo_request_msg(0x4242, 1, b"ping"),
        )
        .unwrap();
    net.run_for(secs(1));

    // The stack filled the checksum of what the raw socket sent (RFC 3542 §3.1).
    let req = icmp(&net, link, Message::ECHO_REQUEST, Some(h1));
    assert_eq!(req.len(), 1);
    assert!(matches!(
        req[0].icmp(),
        Some(icmpv6::Repr::EchoRequest {
            ident: 0x4242,
            seq_no: 1,
            data: b"ping"
        })
    ));
    let got = raw_all(&mut net, h1, filtered);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].src, ll2);
    assert_eq!(
        got[0].upper()[..8],
        [
            129,
            0,
            got[0].upper()[2],
            got[0].upper()[3],
            0x42,
            0x42,
            0,
            1
        ]
    );
    assert_eq!(&got[0].upper()[8..], b"ping");
    // The unfiltered socket saw Neighbor Discovery too.
    let types: Vec<u8> = raw_all(&mut net, h1, all)
        .iter()
        .map(|p| p.upper()[0])
        .collect();
    assert!(types.contains(&Message::ECHO_REPLY.0), "{types:?}");
    assert!(types.contains(&Message::NEIGHBOR_ADVERT.0), "{types:?}");
    assert_eq!(net.node(h1).stats().icmp.in_by_type[129], 1);
}

#[test]
fn rfc8200_4_raw_socket_for_unknown_next_header_takes_packets() {
    let test = "rfc8200_4_raw_socket_for_unknown_next_header_takes_packets";
    let (mut net, link, ids) = settled(47, 2, test);
    let (h1, h2) = (ids[0], ids[1]);
    let (ll1, ll2) = (
        link_local(net.node(h1), ETH0).unwrap(),
        link_local(net.node(h2), ETH0).unwrap(),
    );
    // RFC 3692 experimental protocol number.
    let exp = IpProtocol(253);
    let rx = net.node_mut(h1).raw_open(exp).unwrap();
    let tx = net.node_mut(h2).raw_open(exp).unwrap();
    let t = net.now();
    net.node_mut(h2)
        .raw_send_to(t, tx, ll1, Some(ETH0), b"experiment")
        .unwrap();
    net.run_for(ms(200));
    let got = raw_all(&mut net, h1, rx);
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].src, got[0].dst), (ll2, ll1));
    assert_eq!(got[0].upper(), b"experiment");
    assert_eq!(got[0].packet[6], 253);
    assert!(icmp(&net, link, Message::PARAM_PROBLEM, Some(h1)).is_empty());
    assert_eq!(net.node(h1).stats().ip.in_unknown_protos, 0);

    // Without the socket: RFC 8200 §4 Parameter Problem code 1 at the Next Header field.
    let t2 = net.now();
    net.node_mut(h1).close(t2, rx).unwrap();
    net.node_mut(h2)
        .raw_send_to(t2, tx, ll1, Some(ETH0), b"experiment")
        .unwrap();
    net.run_for(ms(200));
    let pp = icmp(&net, link, Message::PARAM_PROBLEM, Some(h1));
    assert_eq!(pp.len(), 1);
    match pp[0].icmp().unwrap() {
        icmpv6::Repr::ParamProblem { code, pointer, .. } => assert_eq!((code, pointer), (1, 6)),
        other => panic!("{other:?}"),
    }
    let st = net.node(h1).stats();
    assert_eq!(st.ip.in_unknown_protos, 1);
    assert_eq!(st.drops_for("unknown next header"), 1);
}

#[test]
fn rfc8200_3_raw_send_packet_puts_a_hand_made_packet_on_the_wire_unchanged() {
    let test = "rfc8200_3_raw_send_packet_puts_a_hand_made_packet_on_the_wire_unchanged";
    let (mut net, link, ids) = settled(48, 2, test);
    let (h1, h2) = (ids[0], ids[1]);
    let ll2 = link_local(net.node(h2), ETH0).unwrap();
    let h = net.node_mut(h1).raw_open(IpProtocol(253)).unwrap();
    // Weird on purpose: traffic class and flow label set, hop limit 0, a source that is
    // no address of the sender, an experimental next header.
    let mut weird = ipv6_packet(
        ip("2001:db8::dead"),
        ip("ff02::1"),
        IpProtocol(253),
        0,
        b"hand made",
    );
    weird[0..4].copy_from_slice(&[0x6b, 0x81, 0x23, 0x45]);
    // To a unicast neighbor, after address resolution: a Hop-by-Hop header with an
    // unknown option to skip, from the unspecified address.
    let hbh = options_header(
        IpProtocol::NO_NEXT_HEADER,
        &[sixstack_wire::ipv6opts::Ipv6Option::Unknown {
            option_type: sixstack_wire::ipv6opts::OptionType(0x1e),
            data: &[1, 2, 3, 4],
        }],
        &[],
    );
    let strange = ipv6_packet(Ipv6Addr::UNSPECIFIED, ll2, IpProtocol::HOPOPTS, 7, &hbh);
    let before = net.node(h1).stats().ip.out_requests;
    let t = net.now();
    let s = net.node_mut(h1);
    assert_eq!(s.raw_send_packet(t, h, &weird, Some(ETH0)), Ok(weird.len()));
    assert_eq!(
        s.raw_send_packet(t, h, &strange, Some(ETH0)),
        Ok(strange.len())
    );
    assert!(matches!(
        s.raw_send_packet(t, h, &[0x60, 0, 0], Some(ETH0)),
        Err(Error::Invalid(_))
    ));
    net.run_for(secs(1));
    let sent: Vec<Seen> = packets(&net, link)
        .into_iter()
        .filter(|p| p.time >= t && p.from == Some(h1))
        .collect();
    let w = sent
        .iter()
        .find(|p| p.dst == ip("ff02::1"))
        .expect("weird one");
    assert_eq!(w.packet, weird, "bit for bit");
    assert_eq!(w.eth_dst, mcast_mac(&ip("ff02::1")));
    let st = sent.iter().find(|p| p.dst == ll2).expect("strange one");
    assert_eq!(st.packet, strange, "bit for bit, after address resolution");
    assert_eq!(st.eth_dst, mac(2));
    assert!(
        sent.iter()
            .any(|p| p.is_icmp(Message::NEIGHBOR_SOLICIT) && p.time < st.time),
        "resolved first"
    );
    assert_eq!(net.node(h1).stats().ip.out_requests, before + 2);
}

// ----- source address selection -----------------------------------------------------------

#[test]
fn rfc6724_5_rule_6_ula_source_for_ula_destination_global_for_global() {
    let test = "rfc6724_5_rule_6_ula_source_for_ula_destination_global_for_global";
    let (mut net, link, ids) = settled(49, 2, test);
    let (h1, h2) = (ids[0], ids[1]);
    with_addrs(
        &mut net,
        &[
            (h1, "fd00:1::1"),
            (h1, "2001:db8:1::1"),
            (h2, "fd00:9::9"),
            (h2, "2001:db8:9::9"),
        ],
    );
    for p in ["fd00:9::", "2001:db8:9::"] {
        net.node_mut(h1)
            .add_route(Route {
                prefix: ip(p),
                prefix_len: 64,
                iface: ETH0,
                next_hop: None,
                metric: 256,
                origin: RouteOrigin::Static,
                expires: None,
                kind: RouteKind::Unicast,
            })
            .unwrap();
    }
    let rx = udp_bound(&mut net, h2, "::", 8000);
    let tx = net.node_mut(h1).udp_open().unwrap();
    let t = net.now();
    send(&mut net, h1, tx, ip("2001:db8:9::9"), 8000, b"global").unwrap();
    send(&mut net, h1, tx, ip("fd00:9::9"), 8000, b"ula").unwrap();
    net.run_for(secs(1));
    let got: Vec<(Ipv6Addr, Ipv6Addr)> = recv_all(&mut net, h2, rx)
        .iter()
        .map(|d| (d.src, d.dst))
        .collect();
    assert_eq!(
        got,
        vec![
            (ip("2001:db8:1::1"), ip("2001:db8:9::9")),
            (ip("fd00:1::1"), ip("fd00:9::9")),
        ]
    );
    let wire: Vec<Ipv6Addr> = udp_seen(&net, link, IpProtocol::UDP, t)
        .iter()
        .map(|s| s.src)
        .collect();
    assert_eq!(wire, vec![ip("2001:db8:1::1"), ip("fd00:1::1")]);
}

/// A Router Advertisement (router lifetime 0: prefixes only) with two autonomous on-link
/// prefixes: `1::/64` preferred for `short` seconds, `2::/64` for an hour.
fn ra_two_prefixes(short: u32) -> Vec<u8> {
    let opts = nd_options(&[
        ndiscopt::Repr::PrefixInformation {
            prefix_len: 64,
            flags: prefix_flags::ON_LINK | prefix_flags::AUTONOMOUS,
            valid_lifetime: 7200,
            preferred_lifetime: short,
            prefix: ip("2001:db8:1::"),
        },
        ndiscopt::Repr::PrefixInformation {
            prefix_len: 64,
            flags: prefix_flags::ON_LINK | prefix_flags::AUTONOMOUS,
            valid_lifetime: 7200,
            preferred_lifetime: 3600,
            prefix: ip("2001:db8:2::"),
        },
        ndiscopt::Repr::SourceLinkLayerAddr(&TESTER_MAC.0),
    ]);
    let pkt = nd_packet(
        TESTER,
        ip("ff02::1"),
        255,
        ndisc::Repr::RouterAdvert {
            cur_hop_limit: 64,
            flags: 0,
            router_lifetime: 0,
            reachable_time: 0,
            retrans_time: 0,
            options: &opts,
        },
    );
    ethernet(TESTER_MAC, mcast_mac(&ip("ff02::1")), &pkt)
}

fn in_prefix(a: &Ipv6Addr, p: &str) -> bool {
    a.segments()[..4] == ip(p).segments()[..4]
}

#[test]
fn rfc6724_5_rule_3_deprecated_address_avoided() {
    let (mut net, link, ids) = settled(50, 2, "rfc6724_5_rule_3_deprecated_address_avoided");
    let (h1, h2) = (ids[0], ids[1]);
    with_addrs(&mut net, &[(h2, "2001:db8:1::99")]);
    net.inject(link, None, ra_two_prefixes(20));
    net.run_for(secs(4));
    let g = globals(net.node(h1), ETH0);
    let a1 = *g
        .iter()
        .find(|a| in_prefix(a, "2001:db8:1::"))
        .expect("SLAAC in 1::/64");
    let a2 = *g
        .iter()
        .find(|a| in_prefix(a, "2001:db8:2::"))
        .expect("SLAAC in 2::/64");
    let rx = udp_bound(&mut net, h2, "::", 8000);
    let tx = net.node_mut(h1).udp_open().unwrap();
    send(&mut net, h1, tx, ip("2001:db8:1::99"), 8000, b"fresh").unwrap();
    net.run_for(secs(1));
    let d = recv_all(&mut net, h2, rx);
    assert_eq!(d[0].src, a1, "both preferred: rule 8, the longest match");

    // 20 s after the RA the 1::/64 address is deprecated (RFC 4862 §5.5.4).
    net.run_until(Instant::from_secs(30));
    let e = net
        .node(h1)
        .interface(ETH0)
        .unwrap()
        .addrs
        .get(&a1)
        .unwrap()
        .state;
    assert_eq!(e, AddrState::Deprecated);
    let events = net.node_mut(h1).take_events();
    assert!(events.iter().any(|e| e.kind
        == sixstack_core::EventKind::Address {
            addr: a1,
            from: Some(AddrState::Preferred),
            to: Some(AddrState::Deprecated)
        }));
    send(&mut net, h1, tx, ip("2001:db8:1::99"), 8000, b"later").unwrap();
    net.run_for(secs(1));
    let d = recv_all(&mut net, h2, rx);
    assert_eq!(d.len(), 1);
    assert_eq!(
        d[0].src, a2,
        "rule 3: a preferred address over a deprecated one"
    );
    // A socket bound to the deprecated address may still use it (RFC 4862 §5.5.4).
    let s = net.node_mut(h1);
    let old = s.udp_open().unwrap();
    s.bind(old, a1, 0, None).unwrap();
    send(&mut net, h1, old, ip("2001:db8:1::99"), 8000, b"existing").unwrap();
    net.run_for(secs(1));
    assert_eq!(recv_all(&mut net, h2, rx)[0].src, a1);
}

#[test]
fn rfc4007_5_site_local_addresses_used_only_within_their_site() {
    let test = "rfc4007_5_site_local_addresses_used_only_within_their_site";
    // h1 has two interfaces in two sites: eth0 in site 1 with fec0:1::1 and a global,
    // eth1 in site 2 with a global only.
    let mut r = Stack::new(StackConfig::default(), 511);
    r.add_interface(Instant::ZERO, IfaceConfig::ethernet("eth0", mac(1)));
    let mut c = IfaceConfig::ethernet("eth1", mac(0x11));
    c.site = 2;
    r.add_interface(Instant::ZERO, c);
    let mut net = Network::new(51);
    let lan1 = net.add_link("lan1", LinkConfig::ethernet());
    let lan2 = net.add_link("lan2", LinkConfig::ethernet());
    record(&mut net, test);
    let h1 = net.add_node("h1", r);
    let a = net.add_node("a", host(512, mac(2)));
    let b = net.add_node("b", host(513, mac(3)));
    net.attach(lan1, h1, ETH0);
    net.attach(lan2, h1, ETH1);
    net.attach(lan1, a, ETH0);
    net.attach(lan2, b, ETH0);
    net.run_until(Instant::from_secs(5));
    add_addr(&mut net, h1, ETH0, "fec0:1::1", 64);
    add_addr(&mut net, h1, ETH0, "2001:db8:1::1", 64);
    add_addr(&mut net, h1, ETH1, "2001:db8:2::1", 64);
    add_addr(&mut net, a, ETH0, "fec0:1::2", 64);
    add_addr(&mut net, b, ETH0, "fec0:2::3", 64);
    net.node_mut(h1)
        .add_route(Route {
            prefix: ip("fec0:2::"),
            prefix_len: 64,
            iface: ETH1,
            next_hop: None,
            metric: 256,
            origin: RouteOrigin::Static,
            expires: None,
            kind: RouteKind::Unicast,
        })
        .unwrap();
    net.run_for(secs(3));

    let rx_a = udp_bound(&mut net, a, "::", 8000);
    let rx_b = udp_bound(&mut net, b, "::", 8000);
    let tx = net.node_mut(h1).udp_open().unwrap();
    send(&mut net, h1, tx, ip("fec0:1::2"), 8000, b"same site").unwrap();
    send(&mut net, h1, tx, ip("fec0:2::3"), 8000, b"other site").unwrap();
    net.run_for(secs(1));
    let got_a = recv_all(&mut net, a, rx_a);
    assert_eq!(got_a.len(), 1);
    assert_eq!(got_a[0].src, ip("fec0:1::1"), "site-local within its site");
    let got_b = recv_all(&mut net, b, rx_b);
    assert_eq!(got_b.len(), 1);
    assert_eq!(
        got_b[0].src,
        ip("2001:db8:2::1"),
        "site 1's site-local address never leaves into site 2"
    );
    assert!(
        packets(&net, lan2)
            .iter()
            .all(|p| p.src != ip("fec0:1::1") && p.dst != ip("fec0:1::1"))
    );

    // Received: site 1's site-local address is not ours as seen from site 2; a global of
    // another interface is (the weak host model).
    let before = net.node(h1).stats().clone();
    for dst in ["fec0:1::1", "2001:db8:1::1"] {
        net.inject(
            lan2,
            None,
            ethernet(
                TESTER_MAC,
                mac(0x11),
                &echo_request(ip("2001:db8:2::fe"), ip(dst), 7, 1, b"x"),
            ),
        );
    }
    net.run_for(ms(100));
    let st = net.node(h1).stats();
    assert_eq!(
        st.drops_for("not for this node"),
        before.drops_for("not for this node") + 1
    );
    assert_eq!(st.icmp.in_by_type[128], before.icmp.in_by_type[128] + 1);
}

#[test]
fn rfc6724_5_rule_2_source_scope_fits_the_multicast_destination() {
    let test = "rfc6724_5_rule_2_source_scope_fits_the_multicast_destination";
    let (mut net, link, ids) = settled(52, 1, test);
    let h1 = ids[0];
    with_addrs(&mut net, &[(h1, "2001:db8:1::1")]);
    let ll = link_local(net.node(h1), ETH0).unwrap();
    let tx = net.node_mut(h1).udp_open().unwrap();
    let t = net.now();
    for g in ["ff02::1", "ff05::db8:1", "ff0e::db8:1"] {
        send(&mut net, h1, tx, ip(g), 5000, b"m").unwrap();
    }
    net.run_for(ms(100));
    let seen: Vec<(Ipv6Addr, Ipv6Addr)> = udp_seen(&net, link, IpProtocol::UDP, t)
        .iter()
        .map(|s| (s.dst, s.src))
        .collect();
    assert_eq!(
        seen,
        vec![
            (ip("ff02::1"), ll),
            (ip("ff05::db8:1"), ip("2001:db8:1::1")),
            (ip("ff0e::db8:1"), ip("2001:db8:1::1")),
        ],
        "link scope from the link-local, wider scopes from the global"
    );
}

#[test]
fn rfc6724_5_rule_5_prefer_an_address_of_the_outgoing_interface() {
    let test = "rfc6724_5_rule_5_prefer_an_address_of_the_outgoing_interface";
    let mut s = host(531, mac(1));
    s.add_interface(Instant::ZERO, IfaceConfig::ethernet("eth1", mac(0x11)));
    let mut net = Network::new(53);
    let lan1 = net.add_link("lan1", LinkConfig::ethernet());
    let lan2 = net.add_link("lan2", LinkConfig::ethernet());
    record(&mut net, test);
    let h1 = net.add_node("h1", s);
    let b = net.add_node("b", host(532, mac(2)));
    net.attach(lan1, h1, ETH0);
    net.attach(lan2, h1, ETH1);
    net.attach(lan2, b, ETH0);
    net.run_until(Instant::from_secs(5));
    // eth0's address shares 63 bits with the destination, eth1's only 46: rule 8 alone
    // would pick eth0's, but the packet leaves by eth1.
    add_addr(&mut net, h1, ETH0, "2001:db8:3:1::1", 64);
    add_addr(&mut net, h1, ETH1, "2001:db8:2::1", 64);
    add_addr(&mut net, b, ETH0, "2001:db8:3::9", 64);
    net.node_mut(h1)
        .add_route(Route {
            prefix: ip("2001:db8:3::"),
            prefix_len: 64,
            iface: ETH1,
            next_hop: None,
            metric: 256,
            origin: RouteOrigin::Static,
            expires: None,
            kind: RouteKind::Unicast,
        })
        .unwrap();
    net.run_for(secs(3));
    let rx = udp_bound(&mut net, b, "::", 8000);
    let tx = net.node_mut(h1).udp_open().unwrap();
    let t = net.now();
    send(&mut net, h1, tx, ip("2001:db8:3::9"), 8000, b"via eth1").unwrap();
    net.run_for(ms(200));
    let got = recv_all(&mut net, b, rx);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].src, ip("2001:db8:2::1"));
    assert!(udp_seen(&net, lan1, IpProtocol::UDP, t).is_empty());
}

#[test]
fn rfc4291_2_7_1_udp_to_all_nodes_reaches_every_listening_socket() {
    let test = "rfc4291_2_7_1_udp_to_all_nodes_reaches_every_listening_socket";
    let (mut net, link, ids) = settled(54, 3, test);
    let (h1, h2, h3) = (ids[0], ids[1], ids[2]);
    let ll1 = link_local(net.node(h1), ETH0).unwrap();
    // Every node is in ff02::1 (RFC 4291 §2.8) without asking: a socket on the port
    // hears datagrams to it, as an IPv4 socket hears broadcasts.
    let rx2 = udp_bound(&mut net, h2, "::", 5353);
    let rx3 = udp_bound(&mut net, h3, "::", 5353);
    let tx = net.node_mut(h1).udp_open().unwrap();
    let t = net.now();
    send(&mut net, h1, tx, ip("ff02::1"), 5353, b"everyone").unwrap();
    net.run_for(ms(100));
    let wire = udp_seen(&net, link, IpProtocol::UDP, t);
    assert_eq!(wire.len(), 1);
    assert_eq!((wire[0].hop_limit, wire[0].src), (1, ll1));
    for (n, rx) in [(h2, rx2), (h3, rx3)] {
        let got = recv_all(&mut net, n, rx);
        assert_eq!(got.len(), 1, "{:?}", net.node(n).stats().drops);
        assert_eq!((got[0].src, got[0].dst), (ll1, ip("ff02::1")));
        assert_eq!(got[0].payload, b"everyone");
        assert_eq!(net.node(n).stats().udp.no_ports, 0);
    }
    // Multicast to a port nobody listens on draws no ICMP error (RFC 4443 §2.4 (e.3)).
    send(&mut net, h1, tx, ip("ff02::1"), 5354, b"nobody").unwrap();
    net.run_for(ms(100));
    assert_eq!(net.node(h2).stats().udp.no_ports, 1);
    assert!(icmp(&net, link, Message::DST_UNREACHABLE, None).is_empty());
}

#[test]
fn rfc4007_6_a_link_local_address_is_bound_only_in_its_own_zone() {
    let test = "rfc4007_6_a_link_local_address_is_bound_only_in_its_own_zone";
    let mut s = host(551, mac(1));
    s.add_interface(Instant::ZERO, IfaceConfig::ethernet("eth1", mac(0x11)));
    let mut net = Network::new(55);
    let lan1 = net.add_link("lan1", LinkConfig::ethernet());
    let lan2 = net.add_link("lan2", LinkConfig::ethernet());
    record(&mut net, test);
    let h1 = net.add_node("h1", s);
    let b = net.add_node("b", host(552, mac(2)));
    net.attach(lan1, h1, ETH0);
    net.attach(lan2, h1, ETH1);
    net.attach(lan2, b, ETH0);
    net.run_until(Instant::from_secs(5));
    let ll0 = link_local(net.node(h1), ETH0).unwrap();
    let ll1 = link_local(net.node(h1), ETH1).unwrap();
    let llb = link_local(net.node(b), ETH0).unwrap();
    let s = net.node_mut(h1);
    let h = s.udp_open().unwrap();
    assert_eq!(
        s.bind(h, ll0, 7000, None),
        Err(Error::ZoneRequired),
        "two links: which one?"
    );
    assert!(
        matches!(s.bind(h, ll0, 7000, Some(ETH1)), Err(Error::Invalid(_))),
        "eth0's link-local address is not an address of eth1's link"
    );
    assert_eq!(s.bind(h, ll1, 7000, Some(ETH1)), Ok(7000));
    let rx = udp_bound(&mut net, b, "::", 7001);
    let t = net.now();
    net.node_mut(h1)
        .send_to(t, h, llb, 7001, Some(ETH1), b"zoned")
        .unwrap();
    net.run_for(ms(100));
    let got = recv_all(&mut net, b, rx);
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].src, got[0].src_port), (ll1, 7000));
    assert!(
        packets(&net, lan2).iter().all(|p| p.src != ll0),
        "eth0's link-local never appears on eth1's link"
    );
}
