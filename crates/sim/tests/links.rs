//! Scenario tests: link layers and plug and play — IPv6 over FDDI (RFC 2467), the loopback
//! interface (RFC 4291 §2.5.3), interfaces added, removed, down and up while the node runs
//! (RFC 4862 §5.3-§5.4, RFC 3810 §6.1, RFC 4861 §6.3.7) — and what the node tells about
//! itself: RFC 4293 counters, a named reason for every drop, and ordered events.

use std::collections::BTreeMap;
use std::net::Ipv6Addr;

use sixstack_core::iface::IfaceConfig;
use sixstack_core::ip::route::{Route, RouteKind, RouteOrigin};
use sixstack_core::slaac::AddrState;
use sixstack_core::socket::SocketHandle;
use sixstack_core::{Duration, Error, EventKind, IfaceId, Instant, Stack, StackConfig};
use sixstack_sim::testkit::*;
use sixstack_sim::{LinkConfig, LinkId, Network, NodeId};
use sixstack_wire::addr::EthernetAddress;
use sixstack_wire::fddi;
use sixstack_wire::icmpv6::{self, Message};
use sixstack_wire::ipv6;
use sixstack_wire::ipv6opts::{Ipv6Option, OptionType};
use sixstack_wire::mld;
use sixstack_wire::ndisc;
use sixstack_wire::proto::{EtherType, IpProtocol};

const TESTER_MAC: EthernetAddress = EthernetAddress([0x02, 0x00, 0x5e, 0x00, 0x53, 0xfe]);
const TESTER: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0xfe);
const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
const ALL_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);
const ALL_MLDV2_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x16);

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn solicited_node(a: Ipv6Addr) -> Ipv6Addr {
    let o = a.octets();
    Ipv6Addr::new(
        0xff02,
        0,
        0,
        0,
        0,
        1,
        0xff00 | u16::from(o[13]),
        u16::from_be_bytes([o[14], o[15]]),
    )
}

fn echo_request_msg(ident: u16, seq: u16, data: &[u8]) -> Vec<u8> {
    let mut m = vec![Message::ECHO_REQUEST.0, 0, 0, 0];
    m.extend_from_slice(&ident.to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(data);
    m
}

/// A raw ICMPv6 socket that sees echo replies only.
fn pinger(net: &mut Network<Stack>, node: NodeId) -> SocketHandle {
    let s = net.node_mut(node);
    let h = s.raw_open(IpProtocol::ICMPV6).unwrap();
    s.set_icmp_filter(h, &[Message::ECHO_REPLY.0]).unwrap();
    h
}

fn ping(
    net: &mut Network<Stack>,
    node: NodeId,
    h: SocketHandle,
    dst: Ipv6Addr,
    zone: Option<IfaceId>,
    data: &[u8],
) -> Result<usize, Error> {
    let now = net.now();
    net.node_mut(node)
        .raw_send_to(now, h, dst, zone, &echo_request_msg(7, 1, data))
}

/// Echo replies a pinger got: (source, data).
fn replies(net: &mut Network<Stack>, node: NodeId, h: SocketHandle) -> Vec<(Ipv6Addr, Vec<u8>)> {
    let s = net.node_mut(node);
    std::iter::from_fn(|| s.raw_recv(h).ok())
        .map(|p| (p.src, p.upper()[8..].to_vec()))
        .collect()
}

fn from_since(net: &Network<Stack>, link: LinkId, node: NodeId, t: Instant) -> Vec<Seen> {
    packets(net, link)
        .into_iter()
        .filter(|p| p.from == Some(node) && p.time >= t)
        .collect()
}

fn mld_groups(s: &Seen) -> Vec<(u8, Ipv6Addr)> {
    match s.icmp() {
        Some(icmpv6::Repr::Mld(m @ mld::Repr::ReportV2 { .. })) => m
            .records()
            .filter_map(|r| r.ok())
            .map(|r| (r.record_type(), r.mcast_addr()))
            .collect(),
        _ => Vec::new(),
    }
}

fn ns_target(s: &Seen) -> Option<Ipv6Addr> {
    match s.icmp() {
        Some(icmpv6::Repr::Ndisc(ndisc::Repr::NeighborSolicit { target_addr, .. })) => {
            Some(target_addr)
        }
        _ => None,
    }
}

fn address_events(
    events: &[sixstack_core::Event],
    addr: Ipv6Addr,
) -> Vec<(Option<AddrState>, Option<AddrState>, Instant)> {
    events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Address { addr: a, from, to } if a == addr => Some((from, to, e.time)),
            _ => None,
        })
        .collect()
}

// ----- FDDI -------------------------------------------------------------------------------

/// What one captured FDDI frame holds, checked layer by layer with the wire crate.
struct FddiFrame {
    fc: u8,
    dst: EthernetAddress,
    src: EthernetAddress,
    packet: Vec<u8>,
}

fn parse_fddi(frame: &[u8]) -> FddiFrame {
    let f = fddi::Packet::new_checked(frame).expect("FDDI MAC header");
    assert!(f.is_llc(), "RFC 2467 §3: an LLC frame");
    let llc = fddi::llc::Packet::new_checked(f.payload()).expect("LLC header");
    assert_eq!((llc.dsap(), llc.ssap()), (0xaa, 0xaa), "SNAP SAPs");
    assert_eq!(llc.control(), 0x03, "Unnumbered Information");
    assert!(llc.is_snap());
    assert_eq!(llc.oui(), Some(0), "RFC 1042 OUI 00-00-00");
    assert_eq!(llc.ethertype(), Some(EtherType::IPV6));
    FddiFrame {
        fc: f.frame_control(),
        dst: f.dst_addr(),
        src: f.src_addr(),
        packet: llc.payload().to_vec(),
    }
}

#[test]
fn rfc2467_3_ping_across_fddi_in_llc_snap_frames() {
    let mut net = Network::new(61);
    let ring = net.add_link("ring", LinkConfig::fddi());
    record(&mut net, "rfc2467_3_ping_across_fddi_in_llc_snap_frames");
    let mut ids = Vec::new();
    for i in 1..=2u8 {
        let mut s = Stack::new(StackConfig::default(), 610 + u64::from(i));
        s.add_interface(Instant::ZERO, IfaceConfig::fddi("fddi0", mac(i)));
        let id = net.add_node(&format!("f{i}"), s);
        net.attach(ring, id, ETH0);
        ids.push(id);
    }
    let (f1, f2) = (ids[0], ids[1]);
    net.run_until(Instant::from_secs(5));
    let iface = net.node(f1).interface(ETH0).unwrap();
    assert_eq!(iface.mtu, 4352, "RFC 2467 §4: the default MTU");
    let ll2 = link_local(net.node(f2), ETH0).expect("DAD done over FDDI");
    let ll1 = link_local(net.node(f1), ETH0).unwrap();

    // An echo of 4000 bytes: larger than Ethernet carries, one FDDI frame each way.
    let h = pinger(&mut net, f1);
    let data: Vec<u8> = (0..4000u32).map(|i| i as u8).collect();
    let t = net.now();
    ping(&mut net, f1, h, ll2, Some(ETH0), &data).unwrap();
    net.run_for(secs(1));
    let got = replies(&mut net, f1, h);
    assert_eq!(got, vec![(ll2, data.clone())]);

    let frames: Vec<_> = net.captured(ring).to_vec();
    assert!(frames.len() > 6, "DAD, MLD, RS, ND and the echo");
    let mut echo_frames = Vec::new();
    for c in &frames {
        let f = parse_fddi(&c.frame);
        assert_eq!(f.fc, fddi::FC_LLC_ASYNC, "asynchronous LLC, priority 0");
        let p = ipv6::Packet::new_checked(&f.packet[..]).expect("IPv6 inside");
        if p.dst_addr().is_multicast() {
            // RFC 2467 §7: 33-33 and the group's last four octets.
            assert_eq!(f.dst, mcast_mac(&p.dst_addr()));
        }
        if c.time >= t && p.next_header() == IpProtocol::ICMPV6 {
            let t0 = p.payload()[0];
            if t0 == Message::ECHO_REQUEST.0 || t0 == Message::ECHO_REPLY.0 {
                echo_frames.push((t0, f.src, f.dst, c.frame.len(), p.src_addr()));
            }
        }
    }
    assert_eq!(
        echo_frames,
        vec![
            (128, mac(1), mac(2), 13 + 8 + 40 + 8 + 4000, ll1),
            (129, mac(2), mac(1), 13 + 8 + 40 + 8 + 4000, ll2),
        ],
        "unfragmented, unicast between the two stations"
    );
    assert_eq!(net.node(f1).stats().ip.out_frag_reqds, 0);

    // RFC 2467 §5: link-layer address options are one unit of 8 octets holding the 48-bit
    // address in canonical order.
    let mut lla = Vec::new();
    for c in &frames {
        let f = parse_fddi(&c.frame);
        let p = ipv6::Packet::new_checked(&f.packet[..]).unwrap();
        if p.next_header() != IpProtocol::ICMPV6 {
            continue;
        }
        let Ok(m) = icmpv6::Packet::new_checked(p.payload()) else {
            continue;
        };
        let options = match icmpv6::Repr::parse(&m) {
            Ok(icmpv6::Repr::Ndisc(
                ndisc::Repr::NeighborSolicit { options, .. }
                | ndisc::Repr::NeighborAdvert { options, .. }
                | ndisc::Repr::RouterSolicit { options },
            )) => options,
            _ => continue,
        };
        for o in sixstack_wire::ndiscopt::Iter::new(options) {
            let o = o.expect("valid option");
            assert_eq!(o.total_len(), 8, "one unit");
            match sixstack_wire::ndiscopt::Repr::parse(&o).unwrap() {
                sixstack_wire::ndiscopt::Repr::SourceLinkLayerAddr(a)
                | sixstack_wire::ndiscopt::Repr::TargetLinkLayerAddr(a) => {
                    lla.push((f.src, a[..6].to_vec()))
                }
                _ => {}
            }
        }
    }
    assert!(lla.iter().any(|(src, _)| *src == mac(1)));
    assert!(lla.iter().any(|(src, _)| *src == mac(2)));
    for (src, a) in &lla {
        assert_eq!(&a[..], &src.0[..], "the sender's own address, canonical");
    }

    // Bigger than the FDDI MTU: fragments of at most 4352 bytes.
    let big: Vec<u8> = vec![0xa5; 4400];
    let t2 = net.now();
    ping(&mut net, f1, h, ll2, Some(ETH0), &big).unwrap();
    net.run_for(secs(1));
    assert_eq!(replies(&mut net, f1, h), vec![(ll2, big)]);
    let sizes: Vec<usize> = net
        .captured(ring)
        .iter()
        .filter(|c| c.time >= t2 && c.from == Some(f1))
        .map(|c| parse_fddi(&c.frame).packet.len())
        .collect();
    assert_eq!(sizes.len(), 2, "{sizes:?}");
    assert!(sizes.iter().all(|&n| n <= 4352), "{sizes:?}");
    assert_eq!(sizes.iter().sum::<usize>(), 40 + 8 + 4400 + 40 + 2 * 8);
}

// ----- loopback ---------------------------------------------------------------------------

#[test]
fn rfc4291_2_5_3_loopback_answers_and_nothing_reaches_the_wire() {
    let mut s = host(621, mac(1));
    let lo = s.add_interface(Instant::ZERO, IfaceConfig::loopback());
    let (mut net, link, _) = {
        let mut net = Network::new(62);
        let link = net.add_link("lan", LinkConfig::ethernet());
        record(
            &mut net,
            "rfc4291_2_5_3_loopback_answers_and_nothing_reaches_the_wire",
        );
        let h = net.add_node("h1", s);
        net.attach(link, h, ETH0);
        (net, link, h)
    };
    let h1 = net.node_ids().next().unwrap();
    net.run_until(Instant::from_secs(5));
    let localhost = Ipv6Addr::LOCALHOST;
    assert!(
        net.node(h1).assigned_addrs(lo).contains(&localhost),
        "::1 on the loopback interface"
    );
    let now = net.now();
    assert!(
        matches!(
            net.node_mut(h1).add_address(now, ETH0, localhost, 128),
            Err(Error::Invalid(_))
        ),
        "::1 on no other interface"
    );

    let t = net.now();
    let p = pinger(&mut net, h1);
    ping(&mut net, h1, p, localhost, None, b"self").unwrap();
    let s = net.node_mut(h1);
    let rx = s.udp_open().unwrap();
    s.bind(rx, localhost, 7, None).unwrap();
    let tx = s.udp_open().unwrap();
    s.send_to(t, tx, localhost, 7, None, b"echo?").unwrap();
    net.run_for(ms(100));
    assert_eq!(
        replies(&mut net, h1, p),
        vec![(localhost, b"self".to_vec())]
    );
    let d = net.node_mut(h1).recv(rx).expect("datagram over loopback");
    assert_eq!((d.src, d.dst, d.iface), (localhost, localhost, lo));
    assert_eq!(d.payload, b"echo?");
    assert!(
        from_since(&net, link, h1, t).is_empty(),
        "RFC 4291 §2.5.3: never sent outside the node"
    );

    // The node's own addresses on eth0 are reached the same way, off the wire.
    let now = net.now();
    net.node_mut(h1)
        .add_address(now, ETH0, ip("2001:db8:1::1"), 64)
        .unwrap();
    net.run_for(secs(2));
    let ll = link_local(net.node(h1), ETH0).unwrap();
    let t2 = net.now();
    let s = net.node_mut(h1);
    let rx2 = s.udp_open().unwrap();
    s.bind(rx2, Ipv6Addr::UNSPECIFIED, 8, None).unwrap();
    s.send_to(t2, tx, ip("2001:db8:1::1"), 8, None, b"global")
        .unwrap();
    s.send_to(t2, tx, ll, 8, Some(ETH0), b"link-local").unwrap();
    net.run_for(ms(100));
    let s = net.node_mut(h1);
    let got: Vec<(Ipv6Addr, Ipv6Addr)> = std::iter::from_fn(|| s.recv(rx2).ok())
        .map(|d| (d.src, d.dst))
        .collect();
    assert_eq!(
        got,
        vec![(ip("2001:db8:1::1"), ip("2001:db8:1::1")), (ll, ll)],
        "RFC 6724 rule 1: the destination itself as source"
    );
    assert!(
        from_since(&net, link, h1, t2)
            .iter()
            .all(|p| p.proto != IpProtocol::UDP),
        "none of it on the wire"
    );

    // And from the wire, ::1 is refused.
    net.inject(
        link,
        None,
        ethernet(
            TESTER_MAC,
            mac(1),
            &echo_request(TESTER, localhost, 1, 1, b"spoof"),
        ),
    );
    net.run_for(ms(100));
    assert_eq!(
        net.node(h1)
            .stats()
            .drops_for("loopback address from the wire"),
        1
    );
    assert!(
        from_since(&net, link, h1, t)
            .iter()
            .all(|p| p.src != localhost && p.dst != localhost)
    );
}

// ----- plug and play ----------------------------------------------------------------------

#[test]
fn rfc4862_5_3_interface_added_at_run_time_configures_itself() {
    let mut net = Network::new(63);
    let lan1 = net.add_link("lan1", LinkConfig::ethernet());
    let lan2 = net.add_link("lan2", LinkConfig::ethernet());
    record(
        &mut net,
        "rfc4862_5_3_interface_added_at_run_time_configures_itself",
    );
    let h1 = net.add_node("h1", host(631, mac(1)));
    let h3 = net.add_node("h3", host(633, mac(3)));
    net.attach(lan1, h1, ETH0);
    net.attach(lan2, h3, ETH0);
    net.run_until(Instant::from_secs(10));
    net.node_mut(h1).take_events();

    let t = net.now();
    let eth1 = net
        .node_mut(h1)
        .add_interface(t, IfaceConfig::ethernet("eth1", mac(0x11)));
    assert_eq!(eth1, ETH1);
    net.attach(lan2, h1, eth1);
    net.run_for(secs(5));

    let ll = link_local(net.node(h1), eth1).expect("a link-local address of its own");
    assert_ne!(Some(ll), link_local(net.node(h1), ETH0));
    let sent = from_since(&net, lan2, h1, t);
    let mld: Vec<&Seen> = sent
        .iter()
        .filter(|s| s.is_icmp(Message::MLDV2_REPORT))
        .collect();
    assert!(!mld.is_empty());
    assert_eq!(mld[0].src, Ipv6Addr::UNSPECIFIED, "before DAD: from ::");
    assert_eq!(mld[0].dst, ALL_MLDV2_ROUTERS);
    assert!(
        mld.iter()
            .flat_map(|s| mld_groups(s))
            .any(|(_, g)| g == solicited_node(ll))
    );
    let dad: Vec<&Seen> = sent.iter().filter(|s| ns_target(s) == Some(ll)).collect();
    assert_eq!(dad.len(), 1, "DupAddrDetectTransmits = 1");
    assert_eq!(dad[0].src, Ipv6Addr::UNSPECIFIED);
    assert_eq!(dad[0].dst, solicited_node(ll));
    assert!(
        dad[0].time <= t + secs(1),
        "RFC 4862 §5.4.2: within the first 1 s"
    );
    let rs: Vec<&Seen> = sent
        .iter()
        .filter(|s| s.is_icmp(Message::ROUTER_SOLICIT))
        .collect();
    assert!(!rs.is_empty(), "RFC 4861 §6.3.7: solicits routers");
    assert_eq!(rs[0].dst, ALL_ROUTERS);
    assert!(rs[0].time <= t + secs(1), "MAX_RTR_SOLICITATION_DELAY");
    // Nothing of it leaked onto the other link.
    assert!(
        from_since(&net, lan1, h1, t)
            .iter()
            .all(|s| s.src != ll && ns_target(s) != Some(ll))
    );

    let ev = net.node_mut(h1).take_events();
    assert_eq!(
        ev[0].kind,
        EventKind::InterfaceAdded {
            name: "eth1".into()
        }
    );
    assert_eq!(ev[0].iface, Some(eth1));
    let addr_ev = address_events(&ev, ll);
    assert_eq!(
        addr_ev
            .iter()
            .map(|(f, to, _)| (*f, *to))
            .collect::<Vec<_>>(),
        vec![
            (None, Some(AddrState::Tentative)),
            (Some(AddrState::Tentative), Some(AddrState::Preferred)),
        ]
    );

    // It works: h3 answers a ping through the new interface.
    let ll3 = link_local(net.node(h3), ETH0).unwrap();
    let p = pinger(&mut net, h1);
    ping(&mut net, h1, p, ll3, Some(eth1), b"new link").unwrap();
    net.run_for(secs(1));
    assert_eq!(replies(&mut net, h1, p), vec![(ll3, b"new link".to_vec())]);
}

#[test]
fn rfc4861_5_2_removed_interface_leaves_no_route_behind() {
    let mut s = host(641, mac(1));
    s.add_interface(Instant::ZERO, IfaceConfig::ethernet("eth1", mac(0x11)));
    let mut net = Network::new(64);
    let lan1 = net.add_link("lan1", LinkConfig::ethernet());
    let lan2 = net.add_link("lan2", LinkConfig::ethernet());
    record(
        &mut net,
        "rfc4861_5_2_removed_interface_leaves_no_route_behind",
    );
    let h1 = net.add_node("h1", s);
    let h3 = net.add_node("h3", host(643, mac(3)));
    net.attach(lan1, h1, ETH0);
    net.attach(lan2, h1, ETH1);
    net.attach(lan2, h3, ETH0);
    net.run_until(Instant::from_secs(5));
    let now = net.now();
    let n = net.node_mut(h1);
    n.add_address(now, ETH1, ip("2001:db8:2::1"), 64).unwrap();
    n.add_route(Route {
        prefix: ip("2001:db8:99::"),
        prefix_len: 48,
        iface: ETH1,
        next_hop: Some(ip("fe80::99")),
        metric: 256,
        origin: RouteOrigin::Static,
        expires: None,
        kind: RouteKind::Unicast,
    })
    .unwrap();
    net.node_mut(h3)
        .add_address(now, ETH0, ip("2001:db8:2::3"), 64)
        .unwrap();
    net.run_for(secs(3));
    let on_eth1 = |net: &Network<Stack>| {
        net.node(h1)
            .routes()
            .iter()
            .filter(|r| r.iface == ETH1)
            .count()
    };
    assert_eq!(
        on_eth1(&net),
        2,
        "connected 2001:db8:2::/64 and the static /48"
    );
    let rx = {
        let s = net.node_mut(h3);
        let h = s.udp_open().unwrap();
        s.bind(h, Ipv6Addr::UNSPECIFIED, 9000, None).unwrap();
        h
    };
    let tx = net.node_mut(h1).udp_open().unwrap();
    let now = net.now();
    net.node_mut(h1)
        .send_to(now, tx, ip("2001:db8:2::3"), 9000, None, b"before")
        .unwrap();
    net.run_for(ms(100));
    assert!(net.node_mut(h3).recv(rx).is_ok());
    net.node_mut(h1).take_events();
    let ll_eth1 = link_local(net.node(h1), ETH1).unwrap();

    let t = net.now();
    net.node_mut(h1).remove_interface(t, ETH1).unwrap();
    assert_eq!(on_eth1(&net), 0, "every route through eth1 is gone");
    assert!(net.node(h1).interface(ETH1).is_none());
    assert!(net.node(h1).assigned_addrs(ETH1).is_empty());
    for dst in ["2001:db8:2::3", "2001:db8:99::1"] {
        assert_eq!(
            net.node_mut(h1)
                .send_to(t, tx, ip(dst), 9000, None, b"after"),
            Err(Error::NoRoute),
            "{dst}"
        );
    }
    assert_eq!(
        net.node_mut(h1).remove_interface(t, ETH1),
        Err(Error::NoSuchInterface)
    );
    let ev = net.node_mut(h1).take_events();
    assert!(
        ev.iter()
            .any(|e| e.kind == EventKind::InterfaceRemoved && e.iface == Some(ETH1))
    );
    // Each of its addresses is reported gone, last state first.
    for a in [ll_eth1, ip("2001:db8:2::1")] {
        let last = address_events(&ev, a)
            .pop()
            .expect("an event for the address");
        assert_eq!((last.1, last.2), (None, t), "{a} removed");
    }
    // Its address is no longer ours: a packet for it arriving on eth0 is not for us.
    let before = net.node(h1).stats().drops_for("not for this node");
    net.inject(
        lan1,
        None,
        ethernet(
            TESTER_MAC,
            mac(1),
            &echo_request(ip("2001:db8:1::fe"), ip("2001:db8:2::1"), 1, 1, b"x"),
        ),
    );
    net.run_for(secs(30));
    assert_eq!(
        net.node(h1).stats().drops_for("not for this node"),
        before + 1
    );
    assert!(
        from_since(&net, lan2, h1, t).is_empty(),
        "a removed interface sends nothing"
    );
    // The other interface is untouched.
    assert!(link_local(net.node(h1), ETH0).is_some());
}

#[test]
fn rfc4862_5_4_link_down_stops_traffic_and_up_restarts_dad_and_mld() {
    let (mut net, link, ids) = lan(65, 2);
    record(
        &mut net,
        "rfc4862_5_4_link_down_stops_traffic_and_up_restarts_dad_and_mld",
    );
    let (h1, h2) = (ids[0], ids[1]);
    net.run_until(Instant::from_secs(5));
    let ll1 = link_local(net.node(h1), ETH0).unwrap();
    let ll2 = link_local(net.node(h2), ETH0).unwrap();
    let p = pinger(&mut net, h1);
    net.node_mut(h1).take_events();

    let t1 = net.now();
    net.node_mut(h1).set_link(t1, ETH0, false);
    assert_eq!(
        ping(&mut net, h1, p, ll2, Some(ETH0), b"down"),
        Err(Error::InterfaceDown),
        "nothing is sent on a down link, and the caller is told why"
    );
    assert!(net.node(h1).assigned_addrs(ETH0).is_empty());
    // h2 pings h1 meanwhile: the frames reach the interface and are dropped.
    let p2 = pinger(&mut net, h2);
    let before = net.node(h1).stats().drops_for("interface down");
    ping(&mut net, h2, p2, ll1, Some(ETH0), b"are you there").unwrap();
    net.run_for(secs(20));
    assert!(
        from_since(&net, link, h1, t1).is_empty(),
        "silent while down"
    );
    assert!(net.node(h1).stats().drops_for("interface down") > before);
    assert!(replies(&mut net, h2, p2).is_empty());
    let ev = net.node_mut(h1).take_events();
    assert!(ev.iter().any(|e| e.kind == EventKind::LinkDown));
    assert_eq!(
        address_events(&ev, ll1)
            .iter()
            .map(|(f, to, _)| (*f, *to))
            .collect::<Vec<_>>(),
        vec![(Some(AddrState::Preferred), Some(AddrState::Tentative))]
    );

    let t2 = net.now();
    net.node_mut(h1).set_link(t2, ETH0, true);
    net.run_for(secs(5));
    let sent = from_since(&net, link, h1, t2);
    let first_mld = sent
        .iter()
        .find(|s| s.is_icmp(Message::MLDV2_REPORT))
        .expect("RFC 3810 §6.1: reports again on link up");
    assert_eq!(first_mld.time, t2, "at once");
    assert_eq!(
        first_mld.src,
        Ipv6Addr::UNSPECIFIED,
        "the address is tentative again"
    );
    assert!(mld_groups(first_mld).contains(&(
        sixstack_wire::mld::record_type::CHANGE_TO_EXCLUDE,
        solicited_node(ll1)
    )));
    let dad: Vec<&Seen> = sent.iter().filter(|s| ns_target(s) == Some(ll1)).collect();
    assert_eq!(dad.len(), 1, "RFC 4862 §5.4: DAD again");
    assert_eq!(dad[0].src, Ipv6Addr::UNSPECIFIED);
    assert!(dad[0].time <= t2 + secs(1));
    assert!(sent.iter().any(|s| s.is_icmp(Message::ROUTER_SOLICIT)));
    let ev = net.node_mut(h1).take_events();
    assert!(
        ev.iter()
            .any(|e| e.kind == EventKind::LinkUp && e.time == t2)
    );
    let ae = address_events(&ev, ll1);
    assert_eq!(ae.len(), 1);
    assert_eq!(ae[0].1, Some(AddrState::Preferred));
    assert!(ae[0].2 >= dad[0].time + secs(1), "after RetransTimer");

    ping(&mut net, h1, p, ll2, Some(ETH0), b"up").unwrap();
    net.run_for(secs(1));
    assert_eq!(replies(&mut net, h1, p), vec![(ll2, b"up".to_vec())]);
}

// ----- counters, drops, events ------------------------------------------------------------

#[test]
fn rfc4293_5_ping_counters_add_up() {
    let (mut net, link, ids) = lan(66, 2);
    record(&mut net, "rfc4293_5_ping_counters_add_up");
    let (h1, h2) = (ids[0], ids[1]);
    net.run_until(Instant::from_secs(5));
    let ll2 = link_local(net.node(h2), ETH0).unwrap();
    let p = pinger(&mut net, h1);
    // A first ping and 10 s of quiet: both neighbor entries are then confirmed, so the
    // measured ping is two packets and nothing else.
    ping(&mut net, h1, p, ll2, Some(ETH0), b"warm-up").unwrap();
    net.run_for(secs(10));
    assert_eq!(replies(&mut net, h1, p).len(), 1);

    let (a0, b0) = (net.node(h1).stats().clone(), net.node(h2).stats().clone());
    let (ia0, ib0) = (
        net.node(h1).interface(ETH0).unwrap().stats,
        net.node(h2).interface(ETH0).unwrap().stats,
    );
    let t = net.now();
    ping(&mut net, h1, p, ll2, Some(ETH0), b"counted").unwrap();
    net.run_for(ms(50));
    assert_eq!(replies(&mut net, h1, p).len(), 1);
    let wire: Vec<Seen> = packets(&net, link)
        .into_iter()
        .filter(|s| s.time >= t)
        .collect();
    assert_eq!(wire.len(), 2, "request and reply only: {wire:?}");
    let (req_len, rep_len) = (wire[0].packet.len() as u64, wire[1].packet.len() as u64);
    let (a, b) = (net.node(h1).stats(), net.node(h2).stats());

    // The pinger.
    assert_eq!(a.ip.out_requests - a0.ip.out_requests, 1);
    assert_eq!(a.ip.out_transmits - a0.ip.out_transmits, 1);
    assert_eq!(
        a.ip.out_octets - a0.ip.out_octets,
        req_len,
        "IP octets, no link header"
    );
    assert_eq!(a.ip.in_receives - a0.ip.in_receives, 1);
    assert_eq!(a.ip.in_octets - a0.ip.in_octets, rep_len);
    assert_eq!(a.ip.in_delivers - a0.ip.in_delivers, 1);
    assert_eq!(a.icmp.out_msgs - a0.icmp.out_msgs, 1);
    assert_eq!(a.icmp.out_by_type[128] - a0.icmp.out_by_type[128], 1);
    assert_eq!(a.icmp.in_msgs - a0.icmp.in_msgs, 1);
    assert_eq!(a.icmp.in_by_type[129] - a0.icmp.in_by_type[129], 1);
    // The pinged.
    assert_eq!(b.ip.in_receives - b0.ip.in_receives, 1);
    assert_eq!(b.ip.in_octets - b0.ip.in_octets, req_len);
    assert_eq!(b.ip.in_delivers - b0.ip.in_delivers, 1);
    assert_eq!(b.ip.out_requests - b0.ip.out_requests, 1);
    assert_eq!(b.ip.out_transmits - b0.ip.out_transmits, 1);
    assert_eq!(b.ip.out_octets - b0.ip.out_octets, rep_len);
    assert_eq!(b.icmp.in_by_type[128] - b0.icmp.in_by_type[128], 1);
    assert_eq!(b.icmp.out_by_type[129] - b0.icmp.out_by_type[129], 1);
    // Per type adds up to the totals, and nothing was dropped or in error.
    for s in [a, b] {
        assert_eq!(s.icmp.in_by_type.iter().sum::<u64>(), s.icmp.in_msgs);
        assert_eq!(s.icmp.out_by_type.iter().sum::<u64>(), s.icmp.out_msgs);
        assert_eq!(s.icmp.in_errors, 0);
    }
    assert_eq!(a.total_drops(), a0.total_drops());
    assert_eq!(b.total_drops(), b0.total_drops());
    // The interface's own table agrees with the system's.
    let (ia, ib) = (
        net.node(h1).interface(ETH0).unwrap().stats,
        net.node(h2).interface(ETH0).unwrap().stats,
    );
    assert_eq!(ia.out_transmits - ia0.out_transmits, 1);
    assert_eq!(ia.out_octets - ia0.out_octets, req_len);
    assert_eq!(ib.in_receives - ib0.in_receives, 1);
    assert_eq!(ib.in_octets - ib0.in_octets, req_len);
}

/// An IPv6 packet from the tester to `dst` (at h1's MAC).
fn to_h1(pkt: &[u8]) -> Vec<u8> {
    ethernet(TESTER_MAC, mac(1), pkt)
}

#[test]
fn rfc4293_5_every_drop_has_a_named_reason() {
    let (mut net, link, ids) = lan(67, 1);
    record(&mut net, "rfc4293_5_every_drop_has_a_named_reason");
    let h1 = ids[0];
    net.run_until(Instant::from_secs(5));
    let ll1 = link_local(net.node(h1), ETH0).unwrap();
    let udp_sock = {
        let s = net.node_mut(h1);
        let h = s.udp_open().unwrap();
        s.bind(h, Ipv6Addr::UNSPECIFIED, 7000, None).unwrap();
        h
    };
    let echo = echo_request(TESTER, ll1, 1, 1, b"x");
    let with = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut p = echo.clone();
        f(&mut p);
        to_h1(&p)
    };
    let mut bad_ck = udp_datagram(TESTER, ll1, 1, 7000, b"x");
    bad_ck[8] ^= 1;
    let mut ns = nd_packet(
        TESTER,
        solicited_node(ll1),
        64,
        ndisc::Repr::NeighborSolicit {
            target_addr: ll1,
            options: &[],
        },
    );
    ns[7] = 64;
    let mld_q = {
        let q = icmpv6::Repr::Mld(mld::Repr::QueryV2 {
            max_resp_code: 1000,
            mcast_addr: Ipv6Addr::UNSPECIFIED,
            flags: 2,
            qqic: 125,
            sources: &[],
        });
        let msg = icmpv6_msg(TESTER, ALL_NODES, &q);
        let upper = options_header(IpProtocol::ICMPV6, &[Ipv6Option::RouterAlert(0)], &msg);
        ipv6_packet(TESTER, ALL_NODES, IpProtocol::HOPOPTS, 2, &upper)
    };
    let dst_opts = options_header(
        IpProtocol::NO_NEXT_HEADER,
        &[Ipv6Option::Unknown {
            option_type: OptionType(0x7e),
            data: &[0, 0],
        }],
        &[],
    );
    let mut rh0 = vec![IpProtocol::NO_NEXT_HEADER.0, 2, 0, 1, 0, 0, 0, 0];
    rh0.extend_from_slice(&ip("2001:db8::1").octets());
    let runs_past = [IpProtocol::NO_NEXT_HEADER.0, 0, 0x1e, 10, 0, 0, 0, 0];
    let mut long_udp = udp_datagram(TESTER, ll1, 1, 7000, b"x");
    long_udp[4..6].copy_from_slice(&100u16.to_be_bytes());
    let mut not_v6 = to_h1(&echo);
    not_v6[12..14].copy_from_slice(&EtherType::IPV4.0.to_be_bytes());
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("ethertype not IPv6", not_v6),
        (
            "frame not for our link-layer address",
            ethernet(TESTER_MAC, mac(9), &echo),
        ),
        (
            "link-layer source is multicast",
            ethernet(EthernetAddress([0x33, 0x33, 0, 0, 0, 1]), mac(1), &echo),
        ),
        ("IP version not 6", with(&|p| p[0] = 0x45)),
        ("IPv6 packet truncated", with(&|p| p[5] += 8)),
        (
            "source address is multicast",
            to_h1(&echo_request(ip("ff02::9"), ll1, 1, 1, b"x")),
        ),
        (
            "loopback address from the wire",
            to_h1(&echo_request(TESTER, ip("::1"), 1, 1, b"x")),
        ),
        (
            "destination address unspecified",
            to_h1(&echo_request(TESTER, ip("::"), 1, 1, b"x")),
        ),
        (
            "multicast destination of reserved scope 0",
            to_h1(&echo_request(TESTER, ip("ff00::1"), 1, 1, b"x")),
        ),
        (
            "interface-local multicast from the wire",
            to_h1(&echo_request(TESTER, ip("ff01::1"), 1, 1, b"x")),
        ),
        (
            "not for this node",
            to_h1(&echo_request(TESTER, ip("2001:db8::77"), 1, 1, b"x")),
        ),
        (
            "not a member of the multicast group",
            to_h1(&echo_request(TESTER, ip("ff02::1:2"), 1, 1, b"x")),
        ),
        ("ICMPv6 checksum bad", with(&|p| p[42] ^= 0xff)),
        ("ND message with hop limit not 255", to_h1(&ns)),
        ("MLD message with hop limit not 1", to_h1(&mld_q)),
        (
            "unknown next header",
            to_h1(&ipv6_packet(TESTER, ll1, IpProtocol(253), 64, b"?")),
        ),
        (
            "unrecognized option (discard)",
            to_h1(&ipv6_packet(
                TESTER,
                ll1,
                IpProtocol::DSTOPTS,
                64,
                &dst_opts,
            )),
        ),
        (
            "routing header type 0 (RFC 5095)",
            to_h1(&ipv6_packet(TESTER, ll1, IpProtocol::ROUTING, 64, &rh0)),
        ),
        (
            "option length runs past its header",
            to_h1(&ipv6_packet(
                TESTER,
                ll1,
                IpProtocol::DSTOPTS,
                64,
                &runs_past,
            )),
        ),
        (
            "UDP header or length invalid",
            to_h1(&ipv6_packet(TESTER, ll1, IpProtocol::UDP, 64, &long_udp)),
        ),
        (
            "UDP checksum bad",
            to_h1(&ipv6_packet(TESTER, ll1, IpProtocol::UDP, 64, &bad_ck)),
        ),
        (
            "UDP port unreachable",
            to_h1(&ipv6_packet(
                TESTER,
                ll1,
                IpProtocol::UDP,
                64,
                &udp_datagram(TESTER, ll1, 1, 7001, b"x"),
            )),
        ),
    ];
    // The tester introduces itself (an NS with its link-layer address), so that the ICMP
    // errors some cases draw leave at once instead of queueing for address resolution.
    let sllao = nd_options(&[sixstack_wire::ndiscopt::Repr::SourceLinkLayerAddr(
        &TESTER_MAC.0,
    )]);
    let hello = nd_packet(
        TESTER,
        solicited_node(ll1),
        255,
        ndisc::Repr::NeighborSolicit {
            target_addr: ll1,
            options: &sllao,
        },
    );
    net.inject(
        link,
        None,
        ethernet(TESTER_MAC, mcast_mac(&solicited_node(ll1)), &hello),
    );
    net.run_for(ms(10));
    for (reason, frame) in cases {
        let before = net.node(h1).stats().drops.clone();
        net.inject(link, None, frame);
        net.run_for(ms(10));
        let after = &net.node(h1).stats().drops;
        let diff: BTreeMap<&str, u64> = after
            .iter()
            .map(|(k, v)| (*k, v - before.get(k).copied().unwrap_or(0)))
            .filter(|(_, d)| *d > 0)
            .collect();
        assert_eq!(diff, BTreeMap::from([(reason, 1)]), "case {reason:?}");
    }
    assert!(
        net.node_mut(h1).recv(udp_sock).is_err(),
        "nothing delivered"
    );
}

#[test]
fn rfc4862_5_4_events_report_address_states_in_order() {
    let (mut net, _link, ids) = lan(68, 1);
    record(
        &mut net,
        "rfc4862_5_4_events_report_address_states_in_order",
    );
    let h1 = ids[0];
    net.run_until(Instant::from_secs(5));
    let ll = link_local(net.node(h1), ETH0).unwrap();
    let ev = net.node_mut(h1).take_events();
    assert!(
        ev.windows(2).all(|w| w[0].time <= w[1].time),
        "in time order"
    );
    assert_eq!(
        ev[0].kind,
        EventKind::InterfaceAdded {
            name: "eth0".into()
        }
    );
    assert_eq!(ev[1].kind, EventKind::LinkUp);
    let ll_ev = address_events(&ev, ll);
    assert_eq!(ll_ev.len(), 2);
    assert_eq!(
        (ll_ev[0].0, ll_ev[0].1, ll_ev[0].2),
        (None, Some(AddrState::Tentative), Instant::ZERO)
    );
    assert_eq!(
        (ll_ev[1].0, ll_ev[1].1),
        (Some(AddrState::Tentative), Some(AddrState::Preferred))
    );
    let dad = ll_ev[1].2 - ll_ev[0].2;
    assert!(
        dad >= secs(1) && dad <= secs(2),
        "random delay up to 1 s, then RetransTimer: {dad:?}"
    );
    let joined = ev
        .iter()
        .position(|e| {
            e.kind
                == EventKind::MldJoined {
                    group: solicited_node(ll),
                }
        })
        .expect("solicited-node group joined");
    let preferred = ev
        .iter()
        .position(|e| {
            matches!(
                e.kind,
                EventKind::Address {
                    to: Some(AddrState::Preferred),
                    ..
                }
            )
        })
        .unwrap();
    assert!(
        joined < preferred,
        "RFC 4862 §5.4.2: joined before the probe"
    );

    // A manual address: tentative at once, preferred after one RetransTimer.
    let t = net.now();
    let a = ip("2001:db8:1::1");
    net.node_mut(h1).add_address(t, ETH0, a, 64).unwrap();
    net.run_for(secs(3));
    let ev = net.node_mut(h1).take_events();
    assert_eq!(
        address_events(&ev, a),
        vec![
            (None, Some(AddrState::Tentative), t),
            (
                Some(AddrState::Tentative),
                Some(AddrState::Preferred),
                t + secs(1)
            ),
        ]
    );
    let removed_at = net.now();
    net.node_mut(h1)
        .remove_address(removed_at, ETH0, a)
        .unwrap();
    let ev = net.node_mut(h1).take_events();
    assert_eq!(
        address_events(&ev, a),
        vec![(Some(AddrState::Preferred), None, removed_at)]
    );
}
