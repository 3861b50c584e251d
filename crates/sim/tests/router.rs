//! Router mode (RFC 8200 §3, RFC 4443, RFC 4007 §9, RFC 4861 §8): a sixstack router `r`
//! with `StackConfig::router()` between two Ethernet links, a host on each, all sixstack
//! nodes. Traffic goes through the hosts' sockets; the link-local source case is a
//! hand-made frame.
//!
//! ```text
//!   h1 ---- lan1 ---- r ---- lan2 ---- h2
//!  ::10   2001:db8:1::/64   2001:db8:2::/64   ::20
//! ```

use std::net::Ipv6Addr;

use sixstack_core::iface::IfaceConfig;
use sixstack_core::ip::route::{Route, RouteKind, RouteOrigin};
use sixstack_core::socket::SocketHandle;
use sixstack_core::{Duration, EventKind, Instant, Stack, StackConfig};
use sixstack_sim::testkit::*;
use sixstack_sim::{LinkConfig, LinkId, Network, NodeId};
use sixstack_wire::icmpv6::{self, Message};
use sixstack_wire::ndisc;
use sixstack_wire::ndiscopt;
use sixstack_wire::proto::IpProtocol;

const PORT: u16 = 7777;

/// How to build the internetwork.
struct Plan {
    seed: u64,
    /// The site of the router's second interface (its first is in site 1).
    lan2_site: u32,
    /// The MTU of the second link (and of the router's interface on it).
    lan2_mtu: u32,
    /// Extra addresses: (on h1, on r eth0, on r eth1, on h2), each /64.
    extra: Option<[&'static str; 4]>,
}

impl Plan {
    fn new(seed: u64) -> Self {
        Self {
            seed,
            lan2_site: 1,
            lan2_mtu: 1500,
            extra: None,
        }
    }
}

struct Net {
    net: Network<Stack>,
    lan1: LinkId,
    lan2: LinkId,
    r: NodeId,
    h1: NodeId,
    h2: NodeId,
    h1_ip: Ipv6Addr,
    h2_ip: Ipv6Addr,
    /// The router's addresses on lan1: global and link-local.
    r1_ip: Ipv6Addr,
    r1_ll: Ipv6Addr,
}

fn default_route(iface: sixstack_core::IfaceId, via: Ipv6Addr) -> Route {
    Route {
        prefix: Ipv6Addr::UNSPECIFIED,
        prefix_len: 0,
        iface,
        next_hop: Some(via),
        metric: 1024,
        origin: RouteOrigin::Static,
        expires: None,
        kind: RouteKind::Unicast,
    }
}

impl Net {
    fn new(test: &str, plan: Plan) -> Self {
        let seed = plan.seed;
        let mut net = Network::new(seed);
        record(&mut net, test);
        let lan1 = net.add_link("lan1", LinkConfig::ethernet());
        let lan2 = net.add_link(
            "lan2",
            LinkConfig {
                mtu: plan.lan2_mtu as usize,
                ..LinkConfig::ethernet()
            },
        );
        let mut r = Stack::new(StackConfig::router(), seed);
        let mut c0 = IfaceConfig::ethernet("eth0", mac(0x01));
        c0.site = 1;
        let mut c1 = IfaceConfig::ethernet("eth1", mac(0x02));
        c1.site = plan.lan2_site;
        c1.mtu = Some(plan.lan2_mtu);
        let e0 = r.add_interface(Instant::ZERO, c0);
        let e1 = r.add_interface(Instant::ZERO, c1);
        assert_eq!((e0, e1), (ETH0, ETH1));
        let (r1_ip, r2_ip) = (ip("2001:db8:1::1"), ip("2001:db8:2::1"));
        r.add_address(Instant::ZERO, ETH0, r1_ip, 64).unwrap();
        r.add_address(Instant::ZERO, ETH1, r2_ip, 64).unwrap();
        let mut h1 = host(seed + 1, mac(0x11));
        let mut h2 = host(seed + 2, mac(0x21));
        let (h1_ip, h2_ip) = (ip("2001:db8:1::10"), ip("2001:db8:2::20"));
        h1.add_address(Instant::ZERO, ETH0, h1_ip, 64).unwrap();
        h2.add_address(Instant::ZERO, ETH0, h2_ip, 64).unwrap();
        if let Some([a, b, c, d]) = plan.extra {
            h1.add_address(Instant::ZERO, ETH0, ip(a), 64).unwrap();
            r.add_address(Instant::ZERO, ETH0, ip(b), 64).unwrap();
            r.add_address(Instant::ZERO, ETH1, ip(c), 64).unwrap();
            h2.add_address(Instant::ZERO, ETH0, ip(d), 64).unwrap();
        }
        let r = net.add_node("r", r);
        let h1 = net.add_node("h1", h1);
        let h2 = net.add_node("h2", h2);
        net.attach(lan1, r, ETH0);
        net.attach(lan2, r, ETH1);
        net.attach(lan1, h1, ETH0);
        net.attach(lan2, h2, ETH0);
        net.run_until(Instant::from_secs(5));
        let r1_ll = link_local(net.node(r), ETH0).expect("router link-local on lan1");
        let r2_ll = link_local(net.node(r), ETH1).expect("router link-local on lan2");
        // Hosts route through the router by its link-local address, as RFC 4861 §8 has
        // first hops named.
        net.node_mut(h1)
            .add_route(default_route(ETH0, r1_ll))
            .unwrap();
        net.node_mut(h2)
            .add_route(default_route(ETH0, r2_ll))
            .unwrap();
        for (n, a) in [(h1, h1_ip), (h2, h2_ip), (r, r1_ip), (r, r2_ip)] {
            assert!(
                net.node(n).assigned_addrs(ETH0).contains(&a)
                    || net.node(n).assigned_addrs(ETH1).contains(&a),
                "{a} ready"
            );
        }
        Self {
            net,
            lan1,
            lan2,
            r,
            h1,
            h2,
            h1_ip,
            h2_ip,
            r1_ip,
            r1_ll,
        }
    }

    fn mark(&self, link: LinkId) -> usize {
        self.net.captured(link).len()
    }

    /// The IPv6 packets a link carried since `mark`, sent by `from`.
    fn seen_since(&self, link: LinkId, mark: usize, from: NodeId) -> Vec<Seen> {
        self.net.captured(link)[mark..]
            .iter()
            .filter_map(seen)
            .filter(|s| s.from == Some(from))
            .collect()
    }

    /// The ICMPv6 errors the router sent on lan1 since `mark`.
    fn router_errors(&self, mark: usize) -> Vec<Seen> {
        self.seen_since(self.lan1, mark, self.r)
            .into_iter()
            .filter(|s| s.icmp_type().is_some_and(|t| t < 128))
            .collect()
    }

    /// The UDP packets (or fragments) the router put on lan2 since `mark`.
    fn forwarded(&self, mark: usize) -> Vec<Seen> {
        self.seen_since(self.lan2, mark, self.r)
            .into_iter()
            .filter(|s| s.proto == IpProtocol::UDP || s.is_fragment())
            .collect()
    }

    /// A UDP socket on `node` bound to [`PORT`].
    fn listen(&mut self, node: NodeId) -> SocketHandle {
        let n = self.net.node_mut(node);
        let s = n.udp_open().unwrap();
        n.bind(s, Ipv6Addr::UNSPECIFIED, PORT, None).unwrap();
        s
    }

    /// h1 sends `payload` to `dst` from socket `s` and the network runs a little.
    fn h1_sends(&mut self, s: SocketHandle, dst: Ipv6Addr, payload: &[u8]) {
        let now = self.net.now();
        self.net
            .node_mut(self.h1)
            .send_to(now, s, dst, PORT, None, payload)
            .unwrap();
        self.net.run_for(Duration::from_millis(500));
    }
}

#[test]
fn rfc8200_3_router_forwards_with_hop_limit_decremented() {
    let mut n = Net::new(
        "rfc8200_3_router_forwards_with_hop_limit_decremented",
        Plan::new(101),
    );
    let rx = n.listen(n.h2);
    let tx = n.net.node_mut(n.h1).udp_open().unwrap();
    n.net.node_mut(n.h1).set_hop_limit(tx, Some(17)).unwrap();
    let (m1, m2) = (n.mark(n.lan1), n.mark(n.lan2));
    n.h1_sends(tx, n.h2_ip, b"across the router");
    let sent: Vec<Seen> = n
        .seen_since(n.lan1, m1, n.h1)
        .into_iter()
        .filter(|s| s.proto == IpProtocol::UDP)
        .collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].hop_limit, 17);
    assert_eq!(sent[0].eth_dst, mac(0x01), "to the router's MAC");
    let fwd = n.forwarded(m2);
    assert_eq!(fwd.len(), 1);
    assert_eq!(fwd[0].hop_limit, 16, "one less");
    assert_eq!((fwd[0].src, fwd[0].dst), (n.h1_ip, n.h2_ip));
    assert_eq!(fwd[0].eth_src, mac(0x02));
    assert_eq!(fwd[0].eth_dst, mac(0x21));
    // Only the hop limit changed.
    let mut expect = sent[0].packet.clone();
    expect[7] = 16;
    assert_eq!(fwd[0].packet, expect);
    let d = n.net.node_mut(n.h2).recv(rx).expect("delivered");
    assert_eq!(d.payload, b"across the router");
    assert_eq!((d.src, d.hop_limit), (n.h1_ip, 16));
    let s = n.net.node(n.r).stats();
    assert_eq!((s.ip.in_forw_datagrams, s.ip.out_forw_datagrams), (1, 1));
    assert!(n.router_errors(m1).is_empty());
    // RFC 4293 ipIfStatsTable: In on the arrival interface, Out on the way out.
    let r = n.net.node(n.r);
    let (i0, i1) = (
        &r.interface(ETH0).unwrap().stats,
        &r.interface(ETH1).unwrap().stats,
    );
    assert_eq!((i0.in_forw_datagrams, i0.out_forw_datagrams), (1, 0));
    assert_eq!((i1.in_forw_datagrams, i1.out_forw_datagrams), (0, 1));
}

#[test]
fn rfc4443_3_3_hop_limit_1_time_exceeded_from_the_router() {
    let mut n = Net::new(
        "rfc4443_3_3_hop_limit_1_time_exceeded_from_the_router",
        Plan::new(102),
    );
    let rx = n.listen(n.h2);
    let tx = n.net.node_mut(n.h1).udp_open().unwrap();
    n.net.node_mut(n.h1).set_hop_limit(tx, Some(1)).unwrap();
    let (m1, m2) = (n.mark(n.lan1), n.mark(n.lan2));
    n.h1_sends(tx, n.h2_ip, b"one hop only");
    let sent: Vec<Seen> = n
        .seen_since(n.lan1, m1, n.h1)
        .into_iter()
        .filter(|s| s.proto == IpProtocol::UDP)
        .collect();
    assert_eq!(sent.len(), 1);
    let errs = n.router_errors(m1);
    assert_eq!(errs.len(), 1);
    assert_eq!((errs[0].src, errs[0].dst), (n.r1_ip, n.h1_ip));
    match errs[0].icmp() {
        Some(icmpv6::Repr::TimeExceeded { code, invoking }) => {
            assert_eq!(code, 0, "hop limit exceeded in transit");
            assert_eq!(invoking, &sent[0].packet[..]);
        }
        other => panic!("{other:?}"),
    }
    assert!(n.forwarded(m2).is_empty());
    assert!(n.net.node_mut(n.h2).recv(rx).is_err());
    // The sender's socket hears of it (what traceroute reads).
    let notice = n.net.node_mut(n.h1).take_error(tx).expect("notice");
    assert_eq!((notice.from, notice.msg_type, notice.code), (n.r1_ip, 3, 0));
    assert_eq!(n.net.node(n.r).stats().ip.out_forw_datagrams, 0);
}

#[test]
fn rfc4443_3_1_no_route_destination_unreachable_code_0() {
    let mut n = Net::new(
        "rfc4443_3_1_no_route_destination_unreachable_code_0",
        Plan::new(103),
    );
    let tx = n.net.node_mut(n.h1).udp_open().unwrap();
    let (m1, m2) = (n.mark(n.lan1), n.mark(n.lan2));
    let nowhere = ip("2001:db8:99::1");
    n.h1_sends(tx, nowhere, b"nowhere");
    let sent: Vec<Seen> = n
        .seen_since(n.lan1, m1, n.h1)
        .into_iter()
        .filter(|s| s.proto == IpProtocol::UDP)
        .collect();
    assert_eq!(sent.len(), 1);
    let errs = n.router_errors(m1);
    assert_eq!(errs.len(), 1);
    assert_eq!((errs[0].src, errs[0].dst), (n.r1_ip, n.h1_ip));
    match errs[0].icmp() {
        Some(icmpv6::Repr::DstUnreachable { code, invoking }) => {
            assert_eq!(code, 0, "no route to destination");
            assert_eq!(invoking, &sent[0].packet[..]);
        }
        other => panic!("{other:?}"),
    }
    assert!(n.forwarded(m2).is_empty());
    let r = n.net.node(n.r);
    assert_eq!(r.stats().ip.in_no_routes, 1);
    assert_eq!(r.stats().icmp.errors_sent.get("no_route"), Some(&1));
    let i0 = r.interface(ETH0).unwrap();
    assert_eq!(i0.stats.in_no_routes, 1);
    assert_eq!(
        i0.errors_sent.get("no_route"),
        Some(&1),
        "counted where it came in"
    );
    assert!(r.interface(ETH1).unwrap().errors_sent.is_empty());
}

#[test]
fn rfc4443_3_2_packet_too_big_with_the_next_link_mtu() {
    let mut n = Net::new(
        "rfc4443_3_2_packet_too_big_with_the_next_link_mtu",
        Plan {
            lan2_mtu: 1280,
            ..Plan::new(104)
        },
    );
    let rx = n.listen(n.h2);
    let tx = n.net.node_mut(n.h1).udp_open().unwrap();
    let payload = vec![0xb1; 1400];
    let (m1, m2) = (n.mark(n.lan1), n.mark(n.lan2));
    n.h1_sends(tx, n.h2_ip, &payload);
    let sent: Vec<Seen> = n
        .seen_since(n.lan1, m1, n.h1)
        .into_iter()
        .filter(|s| s.proto == IpProtocol::UDP)
        .collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].packet.len(), 1448, "fits lan1");
    let errs = n.router_errors(m1);
    assert_eq!(errs.len(), 1);
    assert_eq!((errs[0].src, errs[0].dst), (n.r1_ip, n.h1_ip));
    assert!(errs[0].packet.len() <= 1280);
    match errs[0].icmp() {
        Some(icmpv6::Repr::PacketTooBig { mtu, invoking }) => {
            assert_eq!(mtu, 1280, "the MTU of the link it could not enter");
            assert_eq!(invoking, &sent[0].packet[..1280 - 48]);
        }
        other => panic!("{other:?}"),
    }
    assert!(n.forwarded(m2).is_empty(), "routers do not fragment");
    assert!(n.net.node_mut(n.h2).recv(rx).is_err());
    // The source learns the path MTU and fragments what it sends next.
    assert_eq!(n.net.node(n.h1).path_mtu(&n.h2_ip), Some(1280));
    let m2 = n.mark(n.lan2);
    n.h1_sends(tx, n.h2_ip, &payload);
    let fwd = n.forwarded(m2);
    assert_eq!(fwd.len(), 2);
    assert!(
        fwd.iter()
            .all(|f| f.is_fragment() && f.packet.len() <= 1280)
    );
    assert_eq!(n.net.node_mut(n.h2).recv(rx).unwrap().payload, payload);
}

#[test]
fn rfc4007_9_link_local_source_never_forwarded() {
    let mut n = Net::new(
        "rfc4007_9_link_local_source_never_forwarded",
        Plan::new(105),
    );
    let rx = n.listen(n.h2);
    let h1_ll = link_local(n.net.node(n.h1), ETH0).unwrap();
    let udp = udp_datagram(h1_ll, n.h2_ip, 40000, PORT, b"from fe80::");
    let pkt = ipv6_packet(h1_ll, n.h2_ip, IpProtocol::UDP, 64, &udp);
    let (m1, m2) = (n.mark(n.lan1), n.mark(n.lan2));
    n.net
        .inject(n.lan1, Some(n.h1), ethernet(mac(0x11), mac(0x01), &pkt));
    n.net.run_for(Duration::from_millis(500));
    assert!(n.forwarded(m2).is_empty());
    assert!(n.net.node_mut(n.h2).recv(rx).is_err());
    let errs = n.router_errors(m1);
    assert_eq!(errs.len(), 1);
    // Back on the source's own link, from the router's link-local address there.
    assert_eq!((errs[0].src, errs[0].dst), (n.r1_ll, h1_ll));
    match errs[0].icmp() {
        Some(icmpv6::Repr::DstUnreachable { code, invoking }) => {
            assert_eq!(code, 2, "beyond scope of source address");
            assert_eq!(invoking, &pkt[..]);
        }
        other => panic!("{other:?}"),
    }
    let s = n.net.node(n.r).stats();
    assert_eq!(s.drops_for("link-local source not forwarded"), 1);
    assert_eq!(s.ip.out_forw_datagrams, 0);
}

/// A router whose two interfaces are in sites 1 and `lan2_site`, site-local prefixes
/// fec0:1::/64 on lan1 and fec0:2::/64 on lan2.
fn sites(test: &str, seed: u64, lan2_site: u32) -> Net {
    Net::new(
        test,
        Plan {
            lan2_site,
            extra: Some(["fec0:1::10", "fec0:1::1", "fec0:2::1", "fec0:2::20"]),
            ..Plan::new(seed)
        },
    )
}

#[test]
fn rfc4007_9_site_local_packets_do_not_cross_a_site_border() {
    let test = "rfc4007_9_site_local_packets_do_not_cross_a_site_border";
    // Within one site, site-local traffic is routed like any other.
    let mut n = sites(&format!("{test}_same_site"), 106, 1);
    let rx = n.listen(n.h2);
    let tx = n.net.node_mut(n.h1).udp_open().unwrap();
    n.net
        .node_mut(n.h1)
        .bind(tx, ip("fec0:1::10"), 0, None)
        .unwrap();
    let m2 = n.mark(n.lan2);
    n.h1_sends(tx, ip("fec0:2::20"), b"same site");
    assert_eq!(n.forwarded(m2).len(), 1);
    assert_eq!(n.net.node_mut(n.h2).recv(rx).unwrap().payload, b"same site");

    // Across a site border: nothing crosses, and the source hears why.
    let mut n = sites(test, 106, 2);
    let rx = n.listen(n.h2);
    let tx = n.net.node_mut(n.h1).udp_open().unwrap();
    n.net
        .node_mut(n.h1)
        .bind(tx, ip("fec0:1::10"), 0, None)
        .unwrap();
    let (m1, m2) = (n.mark(n.lan1), n.mark(n.lan2));
    // Site-local source to a global destination in the other site, then to a
    // site-local one.
    n.h1_sends(tx, n.h2_ip, b"leaves the source's site");
    n.h1_sends(tx, ip("fec0:2::20"), b"site-local both ends");
    assert!(n.forwarded(m2).is_empty(), "{:?}", n.forwarded(m2));
    assert!(n.net.node_mut(n.h2).recv(rx).is_err());
    let errs = n.router_errors(m1);
    // The source's site has no route to another site's site-local prefix (the
    // destination's zone is looked up first: code 0); a global destination is reachable
    // but beyond the scope of the site-local source (code 2).
    assert_eq!(du_codes(&errs), [2, 0]);
    for e in &errs {
        assert_eq!(e.dst, ip("fec0:1::10"));
        // From the router's address in the source's site.
        assert_eq!(e.src, ip("fec0:1::1"));
    }
    // A global source may not reach into another site's site-local addresses either.
    let tx = n.net.node_mut(n.h1).udp_open().unwrap();
    n.net.node_mut(n.h1).bind(tx, n.h1_ip, 0, None).unwrap();
    let (m1, m2) = (n.mark(n.lan1), n.mark(n.lan2));
    n.h1_sends(tx, ip("fec0:2::20"), b"into another site");
    assert!(n.forwarded(m2).is_empty());
    assert!(n.net.node_mut(n.h2).recv(rx).is_err());
    let errs = n.router_errors(m1);
    assert_eq!(du_codes(&errs), [0]);
    assert_eq!((errs[0].src, errs[0].dst), (n.r1_ip, n.h1_ip));
    let s = n.net.node(n.r).stats();
    assert_eq!(s.ip.out_forw_datagrams, 0);
    assert_eq!(
        s.drops_for("site-local packet would cross a site border"),
        3
    );
}

/// The codes of Destination Unreachable messages (and a panic on anything else).
fn du_codes(errs: &[Seen]) -> Vec<u8> {
    errs.iter()
        .map(|e| match e.icmp() {
            Some(icmpv6::Repr::DstUnreachable { code, .. }) => code,
            other => panic!("Destination Unreachable expected: {other:?}"),
        })
        .collect()
}

#[test]
fn rfc4861_8_2_redirect_sent_and_followed() {
    // A third node d on lan1, in a prefix the router has on lan1 but h1 does not know is
    // on-link: h1 sends to d through the router, which forwards back out of lan1.
    let mut n = Net::new("rfc4861_8_2_redirect_sent_and_followed", Plan::new(107));
    let d_ip = ip("2001:db8:3::30");
    let mut d = host(200, mac(0x31));
    d.add_address(n.net.now(), ETH0, d_ip, 64).unwrap();
    let d = n.net.add_node("d", d);
    n.net.attach(n.lan1, d, ETH0);
    let now = n.net.now();
    n.net
        .node_mut(n.r)
        .add_address(now, ETH0, ip("2001:db8:3::1"), 64)
        .unwrap();
    n.net.run_for(Duration::from_secs(5));
    let r1_ll = n.r1_ll;
    n.net
        .node_mut(d)
        .add_route(default_route(ETH0, r1_ll))
        .unwrap();
    let rx = n.listen(d);
    let tx = n.net.node_mut(n.h1).udp_open().unwrap();
    n.net.node_mut(n.h1).take_events();

    let m1 = n.mark(n.lan1);
    n.h1_sends(tx, d_ip, b"first, via the router");
    assert_eq!(
        n.net.node_mut(d).recv(rx).unwrap().payload,
        b"first, via the router"
    );
    let fwd: Vec<Seen> = n
        .seen_since(n.lan1, m1, n.r)
        .into_iter()
        .filter(|s| s.proto == IpProtocol::UDP)
        .collect();
    assert_eq!(fwd.len(), 1, "forwarded back out of the arrival interface");
    assert_eq!(fwd[0].eth_dst, mac(0x31));
    let redirects: Vec<Seen> = n
        .seen_since(n.lan1, m1, n.r)
        .into_iter()
        .filter(|s| s.is_icmp(Message::REDIRECT))
        .collect();
    assert_eq!(redirects.len(), 1);
    let rd = &redirects[0];
    // RFC 4861 §8.2: from the link-local address of the interface, hop limit 255, to
    // the source of the packet.
    assert_eq!((rd.src, rd.dst, rd.hop_limit), (r1_ll, n.h1_ip, 255));
    let Some(icmpv6::Repr::Ndisc(ndisc::Repr::Redirect {
        target_addr,
        dest_addr,
        options,
    })) = rd.icmp()
    else {
        panic!("Redirect expected: {rd:?}");
    };
    // The destination is on-link: target and destination are the same.
    assert_eq!((target_addr, dest_addr), (d_ip, d_ip));
    let quoted: Vec<Vec<u8>> = ndiscopt::Iter::new(options)
        .filter_map(|o| o.ok())
        .filter_map(|o| match ndiscopt::Repr::parse(&o) {
            Ok(ndiscopt::Repr::RedirectedHeader(p)) => Some(p.to_vec()),
            _ => None,
        })
        .collect();
    assert_eq!(quoted.len(), 1, "a Redirected Header option");
    // The packet as h1 sent it, in whole 8-octet units: the option holds nothing else.
    let sent: Vec<Seen> = n
        .seen_since(n.lan1, m1, n.h1)
        .into_iter()
        .filter(|s| s.proto == IpProtocol::UDP)
        .collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].packet.len(), 69);
    assert_eq!(quoted[0], sent[0].packet[..64]);
    let events = n.net.node_mut(n.h1).take_events();
    assert!(
        events.iter().any(|e| e.kind
            == EventKind::Redirect {
                dst: d_ip,
                target: d_ip
            }),
        "{events:?}"
    );

    // The host follows it: the next datagram goes straight to d's MAC.
    let forwarded_before = n.net.node(n.r).stats().ip.out_forw_datagrams;
    let m1 = n.mark(n.lan1);
    n.h1_sends(tx, d_ip, b"second, direct");
    assert_eq!(
        n.net.node_mut(d).recv(rx).unwrap().payload,
        b"second, direct"
    );
    let direct: Vec<Seen> = n
        .seen_since(n.lan1, m1, n.h1)
        .into_iter()
        .filter(|s| s.proto == IpProtocol::UDP)
        .collect();
    assert_eq!(direct.len(), 1);
    assert_eq!(direct[0].eth_dst, mac(0x31));
    assert_eq!(
        n.net.node(n.r).stats().ip.out_forw_datagrams,
        forwarded_before
    );
    assert!(
        n.seen_since(n.lan1, m1, n.r)
            .iter()
            .all(|s| !s.is_icmp(Message::REDIRECT) && s.proto != IpProtocol::UDP)
    );
}

/// A second router `r2` on lan1 (MAC :12, 2001:db8:1::2) leading to lan3 where `d`
/// (2001:db8:3::30) lives; `r` reaches 2001:db8:3::/64 through `r2`, named by its
/// link-local address or, if `by_global`, by its global one.
fn better_router(n: &mut Net, by_global: bool) -> (NodeId, NodeId, Ipv6Addr, LinkId) {
    let lan3 = n.net.add_link("lan3", LinkConfig::ethernet());
    let now = n.net.now();
    let mut r2 = Stack::new(StackConfig::router(), 300);
    r2.add_interface(now, IfaceConfig::ethernet("eth0", mac(0x12)));
    r2.add_interface(now, IfaceConfig::ethernet("eth1", mac(0x13)));
    r2.add_address(now, ETH0, ip("2001:db8:1::2"), 64).unwrap();
    r2.add_address(now, ETH1, ip("2001:db8:3::1"), 64).unwrap();
    let d_ip = ip("2001:db8:3::30");
    let mut d = host(301, mac(0x31));
    d.add_address(now, ETH0, d_ip, 64).unwrap();
    let r2 = n.net.add_node("r2", r2);
    let d = n.net.add_node("d", d);
    n.net.attach(n.lan1, r2, ETH0);
    n.net.attach(lan3, r2, ETH1);
    n.net.attach(lan3, d, ETH0);
    n.net.run_for(Duration::from_secs(5));
    let r2_ll1 = link_local(n.net.node(r2), ETH0).unwrap();
    let r2_ll3 = link_local(n.net.node(r2), ETH1).unwrap();
    n.net
        .node_mut(d)
        .add_route(default_route(ETH0, r2_ll3))
        .unwrap();
    n.net
        .node_mut(r2)
        .add_route(default_route(ETH0, n.r1_ll))
        .unwrap();
    let via = if by_global {
        ip("2001:db8:1::2")
    } else {
        r2_ll1
    };
    n.net
        .node_mut(n.r)
        .add_route(Route {
            prefix: ip("2001:db8:3::"),
            prefix_len: 64,
            iface: ETH0,
            next_hop: Some(via),
            metric: 1024,
            origin: RouteOrigin::Static,
            expires: None,
            kind: RouteKind::Unicast,
        })
        .unwrap();
    (r2, d, d_ip, lan3)
}

#[test]
fn rfc4861_8_2_redirect_to_a_better_first_hop_router() {
    let mut n = Net::new(
        "rfc4861_8_2_redirect_to_a_better_first_hop_router",
        Plan::new(108),
    );
    let (r2, d, d_ip, _) = better_router(&mut n, false);
    let r2_ll = link_local(n.net.node(r2), ETH0).unwrap();
    let rx = n.listen(d);
    let tx = n.net.node_mut(n.h1).udp_open().unwrap();
    n.net.node_mut(n.h1).take_events();
    let m1 = n.mark(n.lan1);
    n.h1_sends(tx, d_ip, b"one");
    assert_eq!(n.net.node_mut(d).recv(rx).unwrap().payload, b"one");
    let from_r = n.seen_since(n.lan1, m1, n.r);
    let fwd: Vec<&Seen> = from_r
        .iter()
        .filter(|s| s.proto == IpProtocol::UDP)
        .collect();
    assert_eq!(fwd.len(), 1);
    assert_eq!(fwd[0].eth_dst, mac(0x12), "on to r2");
    let rds: Vec<&Seen> = from_r
        .iter()
        .filter(|s| s.is_icmp(Message::REDIRECT))
        .collect();
    assert_eq!(rds.len(), 1);
    assert_eq!(
        (rds[0].src, rds[0].dst, rds[0].hop_limit),
        (n.r1_ll, n.h1_ip, 255)
    );
    match rds[0].icmp() {
        Some(icmpv6::Repr::Ndisc(ndisc::Repr::Redirect {
            target_addr,
            dest_addr,
            ..
        })) => {
            // The better first hop, by its link-local address.
            assert_eq!((target_addr, dest_addr), (r2_ll, d_ip));
        }
        other => panic!("{other:?}"),
    }
    let events = n.net.node_mut(n.h1).take_events();
    assert!(events.iter().any(|e| e.kind
        == EventKind::Redirect {
            dst: d_ip,
            target: r2_ll
        }));
    // h1 now sends to d through r2, and knows r2 for a router.
    let m1 = n.mark(n.lan1);
    n.h1_sends(tx, d_ip, b"two");
    assert_eq!(n.net.node_mut(d).recv(rx).unwrap().payload, b"two");
    let direct: Vec<Seen> = n
        .seen_since(n.lan1, m1, n.h1)
        .into_iter()
        .filter(|s| s.proto == IpProtocol::UDP)
        .collect();
    assert_eq!(direct.len(), 1);
    assert_eq!(direct[0].eth_dst, mac(0x12));
    assert!(
        n.seen_since(n.lan1, m1, n.r)
            .iter()
            .all(|s| s.proto != IpProtocol::UDP && !s.is_icmp(Message::REDIRECT))
    );
    let entry = n
        .net
        .node(n.h1)
        .interface(ETH0)
        .unwrap()
        .neighbors
        .lookup(&r2_ll)
        .expect("r2 in h1's neighbor cache");
    assert!(entry.is_router);
}

#[test]
fn rfc4861_8_2_no_redirect_naming_a_router_by_a_global_address() {
    // RFC 4861 §8.2: the target of a Redirect to a better router is that router's
    // link-local address (§8.1 has hosts discard anything else). A router that knows the
    // better first hop only by a global address forwards, but redirects nobody.
    let mut n = Net::new(
        "rfc4861_8_2_no_redirect_naming_a_router_by_a_global_address",
        Plan::new(109),
    );
    let (_, d, d_ip, _) = better_router(&mut n, true);
    let rx = n.listen(d);
    let tx = n.net.node_mut(n.h1).udp_open().unwrap();
    let m1 = n.mark(n.lan1);
    n.h1_sends(tx, d_ip, b"one");
    assert_eq!(n.net.node_mut(d).recv(rx).unwrap().payload, b"one");
    let from_r = n.seen_since(n.lan1, m1, n.r);
    assert_eq!(
        from_r.iter().filter(|s| s.proto == IpProtocol::UDP).count(),
        1
    );
    let rds: Vec<&Seen> = from_r
        .iter()
        .filter(|s| s.is_icmp(Message::REDIRECT))
        .collect();
    assert!(rds.is_empty(), "{rds:?}");
    assert_eq!(
        n.net
            .node(n.h1)
            .stats()
            .drops_for("Redirect target neither link-local nor the destination"),
        0
    );
}

#[test]
fn rfc4443_3_1_address_unreachable_code_3_when_resolution_fails() {
    let mut n = Net::new(
        "rfc4443_3_1_address_unreachable_code_3_when_resolution_fails",
        Plan::new(110),
    );
    let tx = n.net.node_mut(n.h1).udp_open().unwrap();
    let absent = ip("2001:db8:2::99");
    let (m1, m2) = (n.mark(n.lan1), n.mark(n.lan2));
    let sent_at = n.net.now();
    let now = n.net.now();
    n.net
        .node_mut(n.h1)
        .send_to(now, tx, absent, PORT, None, b"anyone there?")
        .unwrap();
    n.net.run_for(Duration::from_secs(5));
    // RFC 4861 §7.2.2: MAX_MULTICAST_SOLICIT (3) solicitations, RetransTimer (1 s) apart.
    let ns: Vec<Seen> = n
        .seen_since(n.lan2, m2, n.r)
        .into_iter()
        .filter(|s| s.is_icmp(Message::NEIGHBOR_SOLICIT))
        .collect();
    assert_eq!(ns.len(), 3);
    assert!(n.forwarded(m2).is_empty());
    let errs = n.router_errors(m1);
    assert_eq!(du_codes(&errs), [3], "address unreachable");
    assert_eq!((errs[0].src, errs[0].dst), (n.r1_ip, n.h1_ip));
    let after = errs[0].time - sent_at;
    assert!(
        after >= Duration::from_secs(3) && after < Duration::from_millis(3010),
        "{after:?}"
    );
    match errs[0].icmp() {
        Some(icmpv6::Repr::DstUnreachable { invoking, .. }) => {
            assert_eq!(&invoking[8..24], &n.h1_ip.octets());
            assert_eq!(&invoking[24..40], &absent.octets());
        }
        other => panic!("{other:?}"),
    }
    let notice = n.net.node_mut(n.h1).take_error(tx).expect("notice");
    assert_eq!((notice.msg_type, notice.code, notice.dst), (1, 3, absent));
}

#[test]
fn rfc4861_6_2_5_a_stopping_router_sends_a_final_advertisement() {
    let test = "rfc4861_6_2_5_a_stopping_router_sends_a_final_advertisement";
    let mut net = Network::new(61);
    record(&mut net, test);
    let lan = net.add_link("lan1", LinkConfig::ethernet());
    let mut r = Stack::new(StackConfig::router(), 61);
    let mut c = IfaceConfig::ethernet("eth0", mac(0x01));
    let mut adv = sixstack_core::nd::ra::AdvertConfig::default();
    adv.prefixes.push(sixstack_core::nd::ra::AdvPrefix::new(
        ip("2001:db8:1::"),
        64,
    ));
    c.advertise = Some(adv);
    r.add_interface(Instant::ZERO, c);
    let r = net.add_node("r", r);
    let h = net.add_node("h", host(62, mac(0x11)));
    net.attach(lan, r, ETH0);
    net.attach(lan, h, ETH0);
    net.run_until(Instant::from_secs(10));
    let routers = |net: &Network<Stack>| {
        net.node(h)
            .interface(ETH0)
            .unwrap()
            .routers
            .routers()
            .count()
    };
    assert_eq!(routers(&net), 1, "the host lists the advertising router");

    let mark = net.captured(lan).len();
    let now = net.now();
    assert_eq!(net.node_mut(r).stop_advertising(now, 1), 1);
    net.run_for(Duration::from_secs(4));
    assert_eq!(net.node(r).finals_pending(), 0);
    let finals: Vec<u16> = net.captured(lan)[mark..]
        .iter()
        .filter_map(seen)
        .filter(|s| s.from == Some(r))
        .filter_map(|s| match nd_of(&s) {
            Some(ndisc::Repr::RouterAdvert {
                router_lifetime, ..
            }) => Some(router_lifetime),
            _ => None,
        })
        .collect();
    assert_eq!(
        finals,
        vec![0],
        "one final advertisement, router lifetime 0"
    );
    assert_eq!(routers(&net), 0, "the host forgot the router at once");
}

#[test]
fn route_get_explains_the_first_hop_source_and_mtu() {
    let mut n = Net::new(
        "route_get_explains_the_first_hop_source_and_mtu",
        Plan {
            lan2_mtu: 1400,
            ..Plan::new(109)
        },
    );
    let (h1, r, h1_ip, h2_ip, r1_ll) = (n.h1, n.r, n.h1_ip, n.h2_ip, n.r1_ll);
    let g = n.net.node_mut(h1).route_get(&h2_ip, None).unwrap();
    assert_eq!((g.iface, g.next_hop, g.source), (ETH0, r1_ll, Some(h1_ip)));
    match g.via {
        Some(sixstack_core::RouteVia::Table(rt)) => {
            assert_eq!((rt.prefix_len, rt.next_hop), (0, Some(r1_ll)));
        }
        other => panic!("{other:?}"),
    }
    assert!(!g.local);
    // The router: on-link on its second interface, by the connected route, MTU 1400.
    let g = n.net.node_mut(r).route_get(&h2_ip, None).unwrap();
    assert_eq!((g.iface, g.next_hop, g.mtu), (ETH1, h2_ip, 1400));
    assert_eq!(g.source, Some(ip("2001:db8:2::1")));
    match g.via {
        Some(sixstack_core::RouteVia::Table(rt)) => {
            assert_eq!(
                (rt.prefix, rt.prefix_len, rt.next_hop),
                (ip("2001:db8:2::"), 64, None)
            );
        }
        other => panic!("{other:?}"),
    }
    let g = n
        .net
        .node_mut(r)
        .route_get(&ip("2001:db8:1::1"), None)
        .unwrap();
    assert!(g.local && g.via.is_none());
    assert_eq!(
        n.net.node_mut(r).route_get(&ip("2001:db8:99::1"), None),
        Err(sixstack_core::Error::NoRoute)
    );
    let ll = n
        .net
        .node_mut(h1)
        .route_get(&ip("fe80::99"), Some(ETH0))
        .unwrap();
    assert_eq!(ll.via, Some(sixstack_core::RouteVia::Scoped));
}

#[test]
fn rfc4861_6_2_4_advertisements_configured_live_go_out_at_once() {
    let test = "rfc4861_6_2_4_advertisements_configured_live_go_out_at_once";
    let mut net = Network::new(71);
    record(&mut net, test);
    let lan = net.add_link("lan1", LinkConfig::ethernet());
    let mut r = Stack::new(StackConfig::router(), 71);
    r.add_interface(Instant::ZERO, IfaceConfig::ethernet("eth0", mac(0x01)));
    let r = net.add_node("r", r);
    let h = net.add_node("h", host(72, mac(0x11)));
    net.attach(lan, r, ETH0);
    net.attach(lan, h, ETH0);
    net.run_until(Instant::from_secs(30));
    let learned = |net: &Network<Stack>| {
        let i = net.node(h).interface(ETH0).unwrap();
        (
            i.routers.routers().count(),
            i.mtu,
            globals(net.node(h), ETH0),
        )
    };
    assert_eq!(learned(&net).0, 0, "no advertisements yet");

    let mut adv = sixstack_core::nd::ra::AdvertConfig::default();
    adv.prefixes.push(sixstack_core::nd::ra::AdvPrefix::new(
        ip("2001:db8:7::"),
        64,
    ));
    adv.adv_link_mtu = 1400;
    let now = net.now();
    net.node_mut(r)
        .set_advertise(now, ETH0, Some(adv.clone()))
        .unwrap();
    net.run_for(Duration::from_secs(3));
    let (routers, mtu, addrs) = learned(&net);
    assert_eq!((routers, mtu), (1, 1400));
    assert!(
        addrs
            .iter()
            .any(|a| a.segments()[..4] == [0x2001, 0xdb8, 7, 0]),
        "{addrs:?}"
    );
    assert!(
        net.node(r).interface(ETH0).unwrap().querier.is_some(),
        "a querier candidate"
    );

    // A change goes out at once (rate limit permitting), not at the next interval.
    adv.adv_link_mtu = 1300;
    let now = net.now();
    net.node_mut(r).set_advertise(now, ETH0, Some(adv)).unwrap();
    net.run_for(Duration::from_secs(4));
    assert_eq!(learned(&net).1, 1300);

    let now = net.now();
    net.node_mut(r).set_advertise(now, ETH0, None).unwrap();
    net.run_for(Duration::from_secs(10));
    assert_eq!(
        learned(&net).0,
        0,
        "final advertisements made the host forget us"
    );
    assert!(
        !net.node(r)
            .interface(ETH0)
            .unwrap()
            .advertiser
            .as_ref()
            .unwrap()
            .is_advertising()
    );
}
