//! Neighbor Discovery scenarios (RFC 4861, RFC 4191, RFC 7559, RFC 8106) in the TAHI
//! manner: a sixstack node on a simulated link, a tester that injects hand-made ND
//! messages for the peers and routers it fakes, and assertions on what crossed the wire
//! and on the node's tables, events and drop counters.

use std::net::Ipv6Addr;
use std::time::Duration;

use sixstack_core::iface::IfaceConfig;
use sixstack_core::nd::neighbor::NudState;
use sixstack_core::nd::ra::{AdvPrefix, AdvertConfig};
use sixstack_core::socket::SocketHandle;
use sixstack_core::{EventKind, Instant, Stack, StackConfig};
use sixstack_sim::testkit::*;
use sixstack_sim::{LinkConfig, LinkId, Network, NodeId};
use sixstack_wire::addr::{EthernetAddress, Ipv6AddrExt};
use sixstack_wire::icmpv6::{self, Message};
use sixstack_wire::ndisc::{self, neighbor_flags as na_flags, router_flags};
use sixstack_wire::ndiscopt::{self, Preference, prefix_flags};
use sixstack_wire::proto::IpProtocol;

// ----- the cast ------------------------------------------------------------------------

/// The host under test: 2001:db8::1/64 on its one interface.
const H1_ADDR: &str = "2001:db8::1";
/// A neighbor the tester fakes, at `mac(PEER_MAC)`.
const PEER_ADDR: &str = "2001:db8::99";
const PEER_MAC: u8 = 0x99;

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// One host with 2001:db8::1/64, its addresses past DAD.
fn one_host(seed: u64, test: &str) -> (Network<Stack>, LinkId, NodeId) {
    one_host_with(seed, test, |_| {})
}

fn one_host_with(
    seed: u64,
    test: &str,
    tweak: impl FnOnce(&mut IfaceConfig),
) -> (Network<Stack>, LinkId, NodeId) {
    let mut net = Network::new(seed);
    let link = net.add_link("lan", LinkConfig::ethernet());
    let h = net.add_node("h1", host_with(seed, mac(1), tweak));
    net.attach(link, h, ETH0);
    record(&mut net, test);
    net.node_mut(h)
        .add_address(Instant::ZERO, ETH0, ip(H1_ADDR), 64)
        .expect("address");
    net.run_until(Instant::from_secs(3));
    assert!(net.node(h).assigned_addrs(ETH0).contains(&ip(H1_ADDR)));
    assert!(link_local(net.node(h), ETH0).is_some());
    (net, link, h)
}

fn udp(net: &mut Network<Stack>, h: NodeId) -> SocketHandle {
    net.node_mut(h).udp_open().expect("socket")
}

fn send(net: &mut Network<Stack>, h: NodeId, s: SocketHandle, dst: Ipv6Addr, payload: &[u8]) {
    let now = net.now();
    net.node_mut(h)
        .send_to(now, s, dst, 7, None, payload)
        .expect("send");
}

fn nud(net: &Network<Stack>, h: NodeId, addr: &str) -> Option<NudState> {
    net.node(h)
        .interface(ETH0)?
        .neighbors
        .lookup(&ip(addr))
        .map(|n| n.state)
}

fn lladdr(net: &Network<Stack>, h: NodeId, addr: &str) -> Option<EthernetAddress> {
    match net
        .node(h)
        .interface(ETH0)?
        .neighbors
        .lookup(&ip(addr))?
        .lladdr?
    {
        sixstack_core::LinkAddr::Mac(m) => Some(m),
        _ => None,
    }
}

/// An NA from the faked peer for its own address.
fn na_frame(
    from: EthernetAddress,
    target: Ipv6Addr,
    dst: Ipv6Addr,
    dst_mac: EthernetAddress,
    flags: u8,
    tll: Option<EthernetAddress>,
) -> Vec<u8> {
    let opts = tll
        .map(|m| nd_options(&[ndiscopt::Repr::TargetLinkLayerAddr(&m.0)]))
        .unwrap_or_default();
    nd_frame(
        from,
        dst_mac,
        target,
        dst,
        ndisc::Repr::NeighborAdvert {
            flags,
            target_addr: target,
            options: &opts,
        },
    )
}

/// The peer answers h1's resolution: unicast, Solicited and Override set, with its MAC.
fn peer_answers(net: &mut Network<Stack>, link: LinkId) {
    let f = na_frame(
        mac(PEER_MAC),
        ip(PEER_ADDR),
        ip(H1_ADDR),
        mac(1),
        na_flags::SOLICITED | na_flags::OVERRIDE,
        Some(mac(PEER_MAC)),
    );
    net.inject(link, None, f);
}

/// An NS packet (no Ethernet header) with the given options and hop limit.
fn ns_packet(src: Ipv6Addr, dst: Ipv6Addr, target: Ipv6Addr, opts: &[u8], hop: u8) -> Vec<u8> {
    nd_packet(
        src,
        dst,
        hop,
        ndisc::Repr::NeighborSolicit {
            target_addr: target,
            options: opts,
        },
    )
}

fn sll(m: EthernetAddress) -> Vec<u8> {
    nd_options(&[ndiscopt::Repr::SourceLinkLayerAddr(&m.0)])
}

/// The packets `h` put on `link` at or after `since`.
fn sent_by(net: &Network<Stack>, link: LinkId, h: NodeId, since: Instant) -> Vec<Seen> {
    packets(net, link)
        .into_iter()
        .filter(|s| s.from == Some(h) && s.time >= since)
        .collect()
}

fn of_type(v: &[Seen], t: Message) -> Vec<Seen> {
    v.iter().filter(|s| s.is_icmp(t)).cloned().collect()
}

fn udp_payloads(v: &[Seen]) -> Vec<Vec<u8>> {
    v.iter()
        .filter(|s| s.proto == IpProtocol::UDP)
        .map(|s| s.upper[8..].to_vec())
        .collect()
}

fn neighbor_events(
    net: &mut Network<Stack>,
    h: NodeId,
    addr: &str,
) -> Vec<(Instant, Option<NudState>, Option<NudState>)> {
    net.node_mut(h)
        .take_events()
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::Neighbor { addr: a, from, to } if a == ip(addr) => Some((e.time, from, to)),
            _ => None,
        })
        .collect()
}

// ----- RFC 4861 §7.2 address resolution -------------------------------------------------

#[test]
fn rfc4861_7_2_2_ns_to_solicited_node_group_with_source_link_layer_address() {
    let (mut net, link, h) = one_host(
        1,
        "rfc4861_7_2_2_ns_to_solicited_node_group_with_source_link_layer_address",
    );
    let t0 = net.now();
    let s = udp(&mut net, h);
    send(&mut net, h, s, ip(PEER_ADDR), b"hello");
    net.run_for(ms(10));
    let out = sent_by(&net, link, h, t0);
    let ns = of_type(&out, Message::NEIGHBOR_SOLICIT);
    assert_eq!(ns.len(), 1, "one NS at once: {out:?}");
    let ns = &ns[0];
    assert_eq!(ns.time, t0);
    // §7.2.2: to the target's solicited-node group, its multicast MAC, hop limit 255.
    assert_eq!(ns.dst, ip("ff02::1:ff00:99"));
    assert_eq!(ns.dst, ip(PEER_ADDR).solicited_node());
    assert_eq!(ns.eth_dst, mcast_mac(&ip("ff02::1:ff00:99")));
    assert_eq!(ns.eth_dst.0, [0x33, 0x33, 0xff, 0x00, 0x00, 0x99]);
    assert_eq!(ns.hop_limit, 255);
    // The source of the packet that prompted it, one of ours on the interface.
    assert_eq!(ns.src, ip(H1_ADDR));
    let nd = nd_of(ns).expect("valid ND");
    let ndisc::Repr::NeighborSolicit { target_addr, .. } = nd else {
        panic!("not an NS: {nd:?}");
    };
    assert_eq!(target_addr, ip(PEER_ADDR));
    // §4.3 / §7.2.2: a Source Link-Layer Address option when the source is specified.
    assert_eq!(
        nd_opts(&nd),
        vec![ndiscopt::Repr::SourceLinkLayerAddr(&mac(1).0[..])]
    );
    // The datagram waits in the INCOMPLETE entry: not on the wire yet.
    assert!(udp_payloads(&out).is_empty());
    assert_eq!(nud(&net, h, PEER_ADDR), Some(NudState::Incomplete));
}

#[test]
fn rfc4861_7_2_4_na_answers_with_solicited_flag_and_target_link_layer_address() {
    let mut net = Network::new(2);
    let link = net.add_link("lan", LinkConfig::ethernet());
    let h1 = net.add_node("h1", host(21, mac(1)));
    let h2 = net.add_node("h2", host(22, mac(2)));
    net.attach(link, h1, ETH0);
    net.attach(link, h2, ETH0);
    record(
        &mut net,
        "rfc4861_7_2_4_na_answers_with_solicited_flag_and_target_link_layer_address",
    );
    net.node_mut(h1)
        .add_address(Instant::ZERO, ETH0, ip("2001:db8::1"), 64)
        .unwrap();
    net.node_mut(h2)
        .add_address(Instant::ZERO, ETH0, ip("2001:db8::2"), 64)
        .unwrap();
    net.run_until(Instant::from_secs(3));
    let rx = udp(&mut net, h2);
    net.node_mut(h2)
        .bind(rx, Ipv6Addr::UNSPECIFIED, 7, None)
        .unwrap();
    let t0 = net.now();
    let s = udp(&mut net, h1);
    send(&mut net, h1, s, ip("2001:db8::2"), b"ping");
    net.run_for(ms(10));

    let nas = of_type(&sent_by(&net, link, h2, t0), Message::NEIGHBOR_ADVERT);
    assert_eq!(nas.len(), 1);
    let na = &nas[0];
    // §7.2.4: unicast to the solicitor, from the target address, hop limit 255.
    assert_eq!(na.src, ip("2001:db8::2"));
    assert_eq!(na.dst, ip("2001:db8::1"));
    assert_eq!(na.eth_dst, mac(1));
    assert_eq!(na.hop_limit, 255);
    let nd = nd_of(na).unwrap();
    let ndisc::Repr::NeighborAdvert {
        flags, target_addr, ..
    } = nd
    else {
        panic!("{nd:?}");
    };
    assert_eq!(target_addr, ip("2001:db8::2"));
    // S set (answer to a unicast-source NS), O set (not an anycast/proxy), R clear (host).
    assert_eq!(flags, na_flags::SOLICITED | na_flags::OVERRIDE);
    assert_eq!(
        nd_opts(&nd),
        vec![ndiscopt::Repr::TargetLinkLayerAddr(&mac(2).0[..])]
    );
    // h1: REACHABLE with h2's MAC, and the datagram delivered.
    assert_eq!(nud(&net, h1, "2001:db8::2"), Some(NudState::Reachable));
    assert_eq!(lladdr(&net, h1, "2001:db8::2"), Some(mac(2)));
    let d = net.node_mut(h2).recv(rx).expect("datagram delivered");
    assert_eq!(d.payload, b"ping");
    // §7.2.3: h2 learned h1 from the NS's SLLA (STALE), and sending the NA through that
    // entry moved it to DELAY (§7.3.3).
    assert_eq!(nud(&net, h2, "2001:db8::1"), Some(NudState::Delay));
    assert_eq!(lladdr(&net, h2, "2001:db8::1"), Some(mac(1)));
}

#[test]
fn rfc4861_7_2_2_packets_queued_while_incomplete_are_sent_after_resolution() {
    let (mut net, link, h) = one_host(
        3,
        "rfc4861_7_2_2_packets_queued_while_incomplete_are_sent_after_resolution",
    );
    let t0 = net.now();
    let s = udp(&mut net, h);
    for p in [b"one", b"two", b"thr"] {
        send(&mut net, h, s, ip(PEER_ADDR), p);
    }
    net.run_for(ms(100));
    // One resolution for the three packets.
    let early = sent_by(&net, link, h, t0);
    assert_eq!(of_type(&early, Message::NEIGHBOR_SOLICIT).len(), 1);
    assert!(udp_payloads(&early).is_empty());
    let t1 = net.now();
    peer_answers(&mut net, link);
    net.run_for(ms(10));
    let after = sent_by(&net, link, h, t1);
    let data: Vec<&Seen> = after
        .iter()
        .filter(|s| s.proto == IpProtocol::UDP)
        .collect();
    assert_eq!(
        udp_payloads(&after),
        vec![b"one".to_vec(), b"two".to_vec(), b"thr".to_vec()],
        "sent in order once resolved"
    );
    for d in data {
        assert_eq!(d.eth_dst, mac(PEER_MAC));
        assert_eq!(d.dst, ip(PEER_ADDR));
    }
    assert_eq!(nud(&net, h, PEER_ADDR), Some(NudState::Reachable));
    assert_eq!(
        net.node(h)
            .stats()
            .drops_for("address resolution queue full"),
        0
    );
}

#[test]
fn rfc4861_7_2_2_queue_while_incomplete_is_bounded_oldest_dropped() {
    let (mut net, link, h) = one_host(
        4,
        "rfc4861_7_2_2_queue_while_incomplete_is_bounded_oldest_dropped",
    );
    let bound = net
        .node(h)
        .interface(ETH0)
        .unwrap()
        .neighbors
        .config()
        .max_queued_per_neighbor;
    assert_eq!(bound, 64, "enough for the fragments of one 64 KiB datagram");
    let s = udp(&mut net, h);
    let total = bound as u8 + 3;
    for i in 0..total {
        send(&mut net, h, s, ip(PEER_ADDR), &[b'p', i]);
    }
    net.run_for(ms(10));
    let ip_stats = net.node(h).stats().ip;
    // §7.2.2: when the queue overflows, the new arrival replaces the oldest.
    assert_eq!(
        net.node(h)
            .stats()
            .drops_for("address resolution queue full"),
        3
    );
    assert_eq!(ip_stats.out_discards, 3);
    let queued: Vec<Vec<u8>> = net
        .node(h)
        .interface(ETH0)
        .unwrap()
        .neighbors
        .queued(&ip(PEER_ADDR))
        .map(<[u8]>::to_vec)
        .collect();
    assert_eq!(queued.len(), bound);
    let t1 = net.now();
    peer_answers(&mut net, link);
    net.run_for(ms(10));
    // The three oldest went; the rest leave in order once resolved.
    let expected: Vec<Vec<u8>> = (3..total).map(|i| vec![b'p', i]).collect();
    assert_eq!(udp_payloads(&sent_by(&net, link, h, t1)), expected);
}

#[test]
fn rfc4861_7_2_2_ns_retransmitted_max_multicast_solicit_times_then_destination_unreachable() {
    // h1 -- lan1 -- r (router) -- lan2 -- nobody at 2001:db8:2::77.
    let mut net = Network::new(5);
    let lan1 = net.add_link("lan1", LinkConfig::ethernet());
    let lan2 = net.add_link("lan2", LinkConfig::ethernet());
    let r = net.add_node(
        "r",
        router(51, &[("2001:db8:1::", 0x11), ("2001:db8:2::", 0x12)]),
    );
    let h1 = net.add_node("h1", host(52, mac(1)));
    net.attach(lan1, r, ETH0);
    net.attach(lan2, r, ETH1);
    net.attach(lan1, h1, ETH0);
    record(
        &mut net,
        "rfc4861_7_2_2_ns_retransmitted_max_multicast_solicit_times_then_destination_unreachable",
    );
    net.run_until(Instant::from_secs(30));
    let src = globals(net.node(h1), ETH0);
    assert_eq!(src.len(), 1, "h1 autoconfigured from r's RA: {src:?}");
    let s = udp(&mut net, h1);
    let t0 = net.now();
    send(&mut net, h1, s, ip("2001:db8:2::77"), b"anyone?");
    net.run_for(secs(10));

    let ns: Vec<Seen> = of_type(&sent_by(&net, lan2, r, t0), Message::NEIGHBOR_SOLICIT)
        .into_iter()
        .filter(|s| s.dst == ip("2001:db8:2::77").solicited_node())
        .collect();
    // MAX_MULTICAST_SOLICIT = 3, RetransTimer (1 s) apart.
    assert_eq!(ns.len(), 3, "{ns:?}");
    assert_eq!(ns[1].time - ns[0].time, secs(1));
    assert_eq!(ns[2].time - ns[1].time, secs(1));
    for n in &ns {
        assert_eq!(n.hop_limit, 255);
        assert_eq!(n.src, ip("2001:db8:2::1"));
    }
    // Then ICMPv6 Destination Unreachable, code 3 (address unreachable), to the sender,
    // RetransTimer after the last NS, quoting the packet.
    let du = of_type(&sent_by(&net, lan1, r, t0), Message::DST_UNREACHABLE);
    assert_eq!(du.len(), 1, "{du:?}");
    // (r first resolves h1's address: one NS/NA round trip on lan1.)
    let late = du[0].time - (ns[2].time + secs(1));
    assert!(late <= ms(1), "{late:?}");
    assert_eq!(du[0].dst, src[0]);
    assert_eq!(du[0].eth_dst, mac(1));
    match du[0].icmp() {
        Some(icmpv6::Repr::DstUnreachable { code, invoking }) => {
            assert_eq!(code, 3);
            let q = sixstack_wire::ipv6::Packet::new_lenient(invoking).unwrap();
            assert_eq!(q.src_addr(), src[0]);
            assert_eq!(q.dst_addr(), ip("2001:db8:2::77"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        net.node(r).stats().drops_for("address resolution failed"),
        1
    );
    assert!(
        net.node(r)
            .interface(ETH1)
            .unwrap()
            .neighbors
            .lookup(&ip("2001:db8:2::77"))
            .is_none()
    );
    // The sender's socket hears of it.
    let notice = net
        .node_mut(h1)
        .take_error(s)
        .expect("error reported to the socket");
    assert_eq!((notice.msg_type, notice.code), (1, 3));
    assert_eq!(notice.dst, ip("2001:db8:2::77"));
}

// ----- RFC 4861 §7.3 Neighbor Unreachability Detection ----------------------------------

/// h1 with the faked peer REACHABLE; returns when it became so.
fn reachable_peer(seed: u64, test: &str) -> (Network<Stack>, LinkId, NodeId, Instant) {
    let (mut net, link, h) = one_host(seed, test);
    let s = udp(&mut net, h);
    send(&mut net, h, s, ip(PEER_ADDR), b"first");
    net.run_for(ms(10));
    peer_answers(&mut net, link);
    net.run_for(ms(10));
    let ev = neighbor_events(&mut net, h, PEER_ADDR);
    let t = ev
        .iter()
        .find(|e| e.2 == Some(NudState::Reachable))
        .map(|e| e.0)
        .expect("became REACHABLE");
    assert_eq!(nud(&net, h, PEER_ADDR), Some(NudState::Reachable));
    (net, link, h, t)
}

#[test]
fn rfc4861_7_3_3_reachable_becomes_stale_after_reachable_time() {
    let (mut net, _link, h, t) = reachable_peer(
        6,
        "rfc4861_7_3_3_reachable_becomes_stale_after_reachable_time",
    );
    let rt = net.node(h).interface(ETH0).unwrap().reachable_time;
    // §6.3.2: ReachableTime is uniform in [0.5, 1.5] x BaseReachableTime (30 s).
    assert!(rt >= secs(15) && rt <= secs(45), "{rt:?}");
    net.run_until(t + rt - ms(1));
    assert_eq!(nud(&net, h, PEER_ADDR), Some(NudState::Reachable));
    net.run_until(t + rt + ms(1));
    assert_eq!(nud(&net, h, PEER_ADDR), Some(NudState::Stale));
    let ev = neighbor_events(&mut net, h, PEER_ADDR);
    assert_eq!(
        ev,
        vec![(t + rt, Some(NudState::Reachable), Some(NudState::Stale))]
    );
}

#[test]
fn rfc4861_7_3_3_stale_to_delay_on_send_then_probe_after_5s_answered_reachable() {
    let (mut net, link, h, t) = reachable_peer(
        7,
        "rfc4861_7_3_3_stale_to_delay_on_send_then_probe_after_5s_answered_reachable",
    );
    net.run_until(t + secs(60));
    assert_eq!(nud(&net, h, PEER_ADDR), Some(NudState::Stale));
    let _ = neighbor_events(&mut net, h, PEER_ADDR);
    let t0 = net.now();
    let s = udp(&mut net, h);
    send(&mut net, h, s, ip(PEER_ADDR), b"stale");
    net.run_for(ms(10));
    // §7.3.3: the packet goes at once to the cached address, and the entry enters DELAY.
    let out = sent_by(&net, link, h, t0);
    assert_eq!(udp_payloads(&out), vec![b"stale".to_vec()]);
    assert_eq!(out[0].eth_dst, mac(PEER_MAC));
    assert!(of_type(&out, Message::NEIGHBOR_SOLICIT).is_empty());
    assert_eq!(nud(&net, h, PEER_ADDR), Some(NudState::Delay));
    net.run_until(t0 + secs(5) - ms(1));
    assert_eq!(nud(&net, h, PEER_ADDR), Some(NudState::Delay));
    assert!(of_type(&sent_by(&net, link, h, t0), Message::NEIGHBOR_SOLICIT).is_empty());
    // DELAY_FIRST_PROBE_TIME (5 s) later: PROBE, with a unicast NS.
    net.run_until(t0 + secs(5) + ms(1));
    assert_eq!(nud(&net, h, PEER_ADDR), Some(NudState::Probe));
    let probes = of_type(&sent_by(&net, link, h, t0), Message::NEIGHBOR_SOLICIT);
    assert_eq!(probes.len(), 1);
    let p = &probes[0];
    assert_eq!(p.time, t0 + secs(5));
    assert_eq!(
        p.dst,
        ip(PEER_ADDR),
        "unicast, not to the solicited-node group"
    );
    assert_eq!(p.eth_dst, mac(PEER_MAC));
    assert_eq!(p.hop_limit, 255);
    match nd_of(p) {
        Some(ndisc::Repr::NeighborSolicit { target_addr, .. }) => {
            assert_eq!(target_addr, ip(PEER_ADDR))
        }
        other => panic!("{other:?}"),
    }
    // §7.2.5: a solicited NA (here without TLLA, as §7.2.4 allows) confirms reachability.
    let f = na_frame(
        mac(PEER_MAC),
        ip(PEER_ADDR),
        ip(H1_ADDR),
        mac(1),
        na_flags::SOLICITED,
        None,
    );
    net.inject(link, None, f);
    net.run_for(ms(10));
    assert_eq!(nud(&net, h, PEER_ADDR), Some(NudState::Reachable));
    let states: Vec<Option<NudState>> = neighbor_events(&mut net, h, PEER_ADDR)
        .into_iter()
        .map(|e| e.2)
        .collect();
    assert_eq!(
        states,
        vec![
            Some(NudState::Delay),
            Some(NudState::Probe),
            Some(NudState::Reachable)
        ]
    );
    // No further probes.
    net.run_for(secs(5));
    assert_eq!(
        of_type(&sent_by(&net, link, h, t0), Message::NEIGHBOR_SOLICIT).len(),
        1
    );
}

#[test]
fn rfc4861_7_3_3_unanswered_probes_remove_the_entry() {
    let (mut net, link, h, t) =
        reachable_peer(8, "rfc4861_7_3_3_unanswered_probes_remove_the_entry");
    net.run_until(t + secs(60));
    let t0 = net.now();
    let s = udp(&mut net, h);
    send(&mut net, h, s, ip(PEER_ADDR), b"still there?");
    net.run_for(secs(20));
    let probes = of_type(&sent_by(&net, link, h, t0), Message::NEIGHBOR_SOLICIT);
    // MAX_UNICAST_SOLICIT = 3 probes, RetransTimer apart, all unicast.
    assert_eq!(probes.len(), 3, "{probes:?}");
    assert_eq!(probes[0].time, t0 + secs(5));
    assert_eq!(probes[1].time, t0 + secs(6));
    assert_eq!(probes[2].time, t0 + secs(7));
    assert!(
        probes
            .iter()
            .all(|p| p.dst == ip(PEER_ADDR) && p.eth_dst == mac(PEER_MAC))
    );
    // RetransTimer after the last probe, the entry is deleted.
    assert_eq!(nud(&net, h, PEER_ADDR), None);
    let ev = neighbor_events(&mut net, h, PEER_ADDR);
    assert_eq!(
        ev.last(),
        Some(&(t0 + secs(8), Some(NudState::Probe), None))
    );
    // The next packet starts address resolution afresh (multicast NS).
    let t1 = net.now();
    send(&mut net, h, s, ip(PEER_ADDR), b"again");
    net.run_for(ms(10));
    let ns = of_type(&sent_by(&net, link, h, t1), Message::NEIGHBOR_SOLICIT);
    assert_eq!(ns.len(), 1);
    assert_eq!(ns[0].dst, ip(PEER_ADDR).solicited_node());
    assert_eq!(nud(&net, h, PEER_ADDR), Some(NudState::Incomplete));
}

#[test]
fn rfc4861_7_2_5_unsolicited_na_with_override_updates_link_layer_address() {
    let (mut net, link, h, _) = reachable_peer(
        9,
        "rfc4861_7_2_5_unsolicited_na_with_override_updates_link_layer_address",
    );
    let new_mac = mac(0x98);
    // §7.2.6: the peer's NIC changed; it announces itself to all-nodes, S=0, O=1.
    let f = na_frame(
        new_mac,
        ip(PEER_ADDR),
        ip("ff02::1"),
        mac(0),
        na_flags::OVERRIDE,
        Some(new_mac),
    );
    net.inject(link, None, f);
    net.run_for(ms(10));
    // §7.2.5: the new address is recorded, and the entry is STALE (not confirmed).
    assert_eq!(lladdr(&net, h, PEER_ADDR), Some(new_mac));
    assert_eq!(nud(&net, h, PEER_ADDR), Some(NudState::Stale));
    let t0 = net.now();
    let s = udp(&mut net, h);
    send(&mut net, h, s, ip(PEER_ADDR), b"to the new NIC");
    net.run_for(ms(10));
    let out = sent_by(&net, link, h, t0);
    assert_eq!(udp_payloads(&out).len(), 1);
    assert_eq!(
        out.iter()
            .find(|s| s.proto == IpProtocol::UDP)
            .unwrap()
            .eth_dst,
        new_mac
    );
}

#[test]
fn rfc4861_7_2_5_unsolicited_na_without_override_only_marks_stale() {
    let (mut net, link, h, _) = reachable_peer(
        10,
        "rfc4861_7_2_5_unsolicited_na_without_override_only_marks_stale",
    );
    let other = mac(0x98);
    let f = na_frame(other, ip(PEER_ADDR), ip("ff02::1"), mac(0), 0, Some(other));
    net.inject(link, None, f);
    net.run_for(ms(10));
    // §7.2.5 I: O=0 and a different address: REACHABLE -> STALE, the address kept.
    assert_eq!(lladdr(&net, h, PEER_ADDR), Some(mac(PEER_MAC)));
    assert_eq!(nud(&net, h, PEER_ADDR), Some(NudState::Stale));
    let t0 = net.now();
    let s = udp(&mut net, h);
    send(&mut net, h, s, ip(PEER_ADDR), b"to the old NIC");
    net.run_for(ms(10));
    let out = sent_by(&net, link, h, t0);
    assert_eq!(
        out.iter()
            .find(|s| s.proto == IpProtocol::UDP)
            .unwrap()
            .eth_dst,
        mac(PEER_MAC)
    );
    // In STALE, another such NA changes nothing at all.
    let f = na_frame(other, ip(PEER_ADDR), ip("ff02::1"), mac(0), 0, Some(other));
    net.inject(link, None, f);
    net.run_for(ms(10));
    assert_eq!(lladdr(&net, h, PEER_ADDR), Some(mac(PEER_MAC)));
}

// ----- RFC 4861 §7.1 message validation ------------------------------------------------

/// Injects `frame` (an NS for h1's address from the peer) and says how many NAs h1 sent
/// in answer within a second.
fn nas_in_answer(net: &mut Network<Stack>, link: LinkId, h: NodeId, frame: Vec<u8>) -> usize {
    let t0 = net.now();
    net.inject(link, None, frame);
    net.run_for(secs(1));
    of_type(&sent_by(net, link, h, t0), Message::NEIGHBOR_ADVERT).len()
}

fn good_ns() -> Vec<u8> {
    ns_packet(
        ip(PEER_ADDR),
        ip(H1_ADDR).solicited_node(),
        ip(H1_ADDR),
        &sll(mac(PEER_MAC)),
        255,
    )
}

fn frame_of(pkt: &[u8]) -> Vec<u8> {
    let dst = Ipv6Addr::from(<[u8; 16]>::try_from(&pkt[24..40]).unwrap());
    let to = if dst.is_multicast() {
        mcast_mac(&dst)
    } else {
        mac(1)
    };
    ethernet(mac(PEER_MAC), to, pkt)
}

/// The invalid NS is dropped for `reason` and creates no neighbor entry; the valid one
/// after it is answered (so the injection itself works).
fn assert_ns_ignored(seed: u64, test: &str, bad: Vec<u8>, reason: &str) {
    let (mut net, link, h) = one_host(seed, test);
    let before = net.node(h).stats().drops_for(reason);
    assert_eq!(
        nas_in_answer(&mut net, link, h, frame_of(&bad)),
        0,
        "invalid NS answered"
    );
    assert_eq!(
        net.node(h).stats().drops_for(reason),
        before + 1,
        "{:?}",
        net.node(h).stats().drops
    );
    assert_eq!(nud(&net, h, PEER_ADDR), None, "invalid NS created an entry");
    assert_eq!(nas_in_answer(&mut net, link, h, frame_of(&good_ns())), 1);
    // §7.2.3 made a STALE entry from the SLLA; the NA sent through it moved it to DELAY.
    assert_eq!(nud(&net, h, PEER_ADDR), Some(NudState::Delay));
    assert_eq!(lladdr(&net, h, PEER_ADDR), Some(mac(PEER_MAC)));
}

#[test]
fn rfc4861_7_1_1_ns_with_hop_limit_not_255_ignored() {
    let mut bad = good_ns();
    bad[7] = 254;
    // Hop limit is not covered by the ICMPv6 checksum: the message is otherwise fine.
    assert_ns_ignored(
        11,
        "rfc4861_7_1_1_ns_with_hop_limit_not_255_ignored",
        bad,
        "ND message with hop limit not 255",
    );
}

#[test]
fn rfc4861_7_1_1_ns_with_code_not_0_ignored() {
    let mut bad = good_ns();
    let (src, dst) = (ip(PEER_ADDR), ip(H1_ADDR).solicited_node());
    let mut m = icmpv6::Packet::new_unchecked(&mut bad[40..]);
    m.set_msg_code(1);
    m.fill_checksum(&src, &dst);
    assert_ns_ignored(
        12,
        "rfc4861_7_1_1_ns_with_code_not_0_ignored",
        bad,
        "ICMPv6 message invalid",
    );
}

#[test]
fn rfc4861_7_1_1_ns_with_option_of_length_0_ignored() {
    // A Source Link-Layer Address option whose Length says 0 (it would loop forever).
    let opts = [0x01, 0x00, 0x02, 0x00, 0x5e, 0x00, 0x53, PEER_MAC];
    let bad = ns_packet(
        ip(PEER_ADDR),
        ip(H1_ADDR).solicited_node(),
        ip(H1_ADDR),
        &opts,
        255,
    );
    assert_ns_ignored(
        13,
        "rfc4861_7_1_1_ns_with_option_of_length_0_ignored",
        bad,
        "ICMPv6 message invalid",
    );
}

#[test]
fn rfc4861_7_1_1_ns_from_unspecified_to_non_solicited_node_address_ignored() {
    // A DAD-looking NS (source ::) sent to the unicast address itself.
    let bad = ns_packet(Ipv6Addr::UNSPECIFIED, ip(H1_ADDR), ip(H1_ADDR), &[], 255);
    assert_ns_ignored(
        14,
        "rfc4861_7_1_1_ns_from_unspecified_to_non_solicited_node_address_ignored",
        bad,
        "NS from :: not to a solicited-node group",
    );
}

#[test]
fn rfc4861_7_1_2_na_to_multicast_with_solicited_flag_ignored() {
    let (mut net, link, h) = one_host(
        15,
        "rfc4861_7_1_2_na_to_multicast_with_solicited_flag_ignored",
    );
    let s = udp(&mut net, h);
    send(&mut net, h, s, ip(PEER_ADDR), b"wait");
    net.run_for(ms(10));
    assert_eq!(nud(&net, h, PEER_ADDR), Some(NudState::Incomplete));
    let bad = na_frame(
        mac(PEER_MAC),
        ip(PEER_ADDR),
        ip("ff02::1"),
        mac(0),
        na_flags::SOLICITED | na_flags::OVERRIDE,
        Some(mac(PEER_MAC)),
    );
    net.inject(link, None, bad);
    net.run_for(ms(10));
    assert_eq!(nud(&net, h, PEER_ADDR), Some(NudState::Incomplete));
    assert_eq!(
        net.node(h)
            .stats()
            .drops_for("NA to multicast with Solicited set"),
        1
    );
    // The same NA, unicast, resolves.
    peer_answers(&mut net, link);
    net.run_for(ms(10));
    assert_eq!(nud(&net, h, PEER_ADDR), Some(NudState::Reachable));
}

#[test]
fn rfc4861_7_1_2_na_with_hop_limit_not_255_ignored() {
    let (mut net, link, h) = one_host(16, "rfc4861_7_1_2_na_with_hop_limit_not_255_ignored");
    let s = udp(&mut net, h);
    send(&mut net, h, s, ip(PEER_ADDR), b"wait");
    net.run_for(ms(10));
    let opts = nd_options(&[ndiscopt::Repr::TargetLinkLayerAddr(&mac(PEER_MAC).0)]);
    let pkt = nd_packet(
        ip(PEER_ADDR),
        ip(H1_ADDR),
        64,
        ndisc::Repr::NeighborAdvert {
            flags: na_flags::SOLICITED | na_flags::OVERRIDE,
            target_addr: ip(PEER_ADDR),
            options: &opts,
        },
    );
    net.inject(link, None, ethernet(mac(PEER_MAC), mac(1), &pkt));
    net.run_for(ms(10));
    // §7.1.2: a hop limit below 255 means it may come from off the link.
    assert_eq!(nud(&net, h, PEER_ADDR), Some(NudState::Incomplete));
    assert_eq!(
        net.node(h)
            .stats()
            .drops_for("ND message with hop limit not 255"),
        1
    );
}

// ----- RFC 4861 §6.3 router discovery: the host ---------------------------------------

/// A router the tester fakes: link-local fe80::<n>, MAC mac(n).
fn rtr(n: u8) -> (Ipv6Addr, EthernetAddress) {
    (
        Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, u16::from(n)),
        mac(n),
    )
}

/// The fields of an RA header, with RFC 4861's "unspecified" zeros by default.
#[derive(Clone, Copy)]
struct RaHdr {
    cur_hop_limit: u8,
    flags: u8,
    router_lifetime: u16,
    reachable_time: u32,
    retrans_time: u32,
}

const RA: RaHdr = RaHdr {
    cur_hop_limit: 0,
    flags: 0,
    router_lifetime: 1800,
    reachable_time: 0,
    retrans_time: 0,
};

/// An RA from faked router `n` to all-nodes with its SLLA and `opts`.
fn ra_frame(n: u8, hdr: RaHdr, opts: &[ndiscopt::Repr<'_>]) -> Vec<u8> {
    let (src, m) = rtr(n);
    let mut all = vec![ndiscopt::Repr::SourceLinkLayerAddr(&m.0)];
    all.extend_from_slice(opts);
    let options = nd_options(&all);
    nd_frame(
        m,
        mac(0),
        src,
        ip("ff02::1"),
        ndisc::Repr::RouterAdvert {
            cur_hop_limit: hdr.cur_hop_limit,
            flags: hdr.flags,
            router_lifetime: hdr.router_lifetime,
            reachable_time: hdr.reachable_time,
            retrans_time: hdr.retrans_time,
            options: &options,
        },
    )
}

fn pio(prefix: &str, flags: u8, valid: u32, preferred: u32) -> ndiscopt::Repr<'static> {
    ndiscopt::Repr::PrefixInformation {
        prefix_len: 64,
        flags,
        valid_lifetime: valid,
        preferred_lifetime: preferred,
        prefix: ip(prefix),
    }
}

const LA: u8 = prefix_flags::ON_LINK | prefix_flags::AUTONOMOUS;

fn routers(net: &Network<Stack>, h: NodeId) -> Vec<(Ipv6Addr, Preference)> {
    net.node(h)
        .interface(ETH0)
        .unwrap()
        .routers
        .routers()
        .map(|r| (r.addr, r.preference))
        .collect()
}

/// Where a UDP datagram from `h` to `dst` goes on the link: its Ethernet destination.
fn first_hop_mac(net: &mut Network<Stack>, link: LinkId, h: NodeId, dst: &str) -> EthernetAddress {
    let t0 = net.now();
    let s = udp(net, h);
    send(net, h, s, ip(dst), b"where to?");
    net.run_for(ms(10));
    let out = sent_by(net, link, h, t0);
    let d = out
        .iter()
        .find(|s| s.proto == IpProtocol::UDP && s.dst == ip(dst))
        .unwrap_or_else(|| {
            panic!(
                "datagram to {dst} not sent: {out:?} {:?}",
                net.node(h).stats().drops
            )
        });
    d.eth_dst
}

/// A lone host (no router answers), RS on the wire.
fn lone_host(seed: u64, test: &str) -> (Network<Stack>, LinkId, NodeId) {
    let mut net = Network::new(seed);
    let link = net.add_link("lan", LinkConfig::ethernet());
    let h = net.add_node("h1", host(seed, mac(1)));
    net.attach(link, h, ETH0);
    record(&mut net, test);
    (net, link, h)
}

fn rs_sent(net: &Network<Stack>, link: LinkId, h: NodeId) -> Vec<Seen> {
    of_type(
        &sent_by(net, link, h, Instant::ZERO),
        Message::ROUTER_SOLICIT,
    )
}

#[test]
fn rfc7559_2_rs_retransmitted_with_exponential_backoff_when_no_router_answers() {
    let (mut net, link, h) = lone_host(
        17,
        "rfc7559_2_rs_retransmitted_with_exponential_backoff_when_no_router_answers",
    );
    net.run_until(Instant::from_secs(160));
    let rs = rs_sent(&net, link, h);
    assert!(rs.len() >= 5, "{} RS", rs.len());
    // RFC 4861 §6.3.7: the first within MAX_RTR_SOLICITATION_DELAY (1 s) of link up.
    assert!(rs[0].time <= Instant::from_secs(1), "{}", rs[0].time);
    // RFC 7559 §2: RT = IRT (4 s) +- 10 %, then 2 x RTprev +- 10 %.
    let gaps: Vec<f64> = rs
        .windows(2)
        .map(|w| (w[1].time - w[0].time).as_secs_f64())
        .collect();
    assert!((3.6..=4.4).contains(&gaps[0]), "{gaps:?}");
    for w in gaps.windows(2).take(3) {
        let ratio = w[1] / w[0];
        assert!((1.9..=2.1).contains(&ratio), "{gaps:?}");
    }
    for r in &rs {
        assert_eq!(r.dst, ip("ff02::2"));
        assert_eq!(r.eth_dst.0, [0x33, 0x33, 0, 0, 0, 2]);
        assert_eq!(r.hop_limit, 255);
        let nd = nd_of(r).expect("valid RS");
        let opts = nd_opts(&nd);
        // §4.1: the SLLA option only when the source is not the unspecified address.
        if r.src.is_unspecified() {
            assert!(opts.is_empty(), "{opts:?}");
        } else {
            assert!(r.src.is_link_local_unicast());
            assert_eq!(
                opts,
                vec![ndiscopt::Repr::SourceLinkLayerAddr(&mac(1).0[..])]
            );
        }
    }
    // Once the link-local address is ready, RSs come from it.
    assert!(rs[1].src.is_link_local_unicast());
}

#[test]
fn rfc4861_6_3_7_rs_stop_after_a_router_advertisement() {
    let (mut net, link, h) = lone_host(18, "rfc4861_6_3_7_rs_stop_after_a_router_advertisement");
    net.run_until(Instant::from_secs(6));
    assert_eq!(rs_sent(&net, link, h).len(), 2);
    net.inject(link, None, ra_frame(0x90, RA, &[]));
    net.run_until(Instant::from_secs(600));
    assert_eq!(rs_sent(&net, link, h).len(), 2, "RS after the RA");
    assert_eq!(routers(&net, h).len(), 1);
}

#[test]
fn rfc4861_6_3_4_ra_adds_a_default_router_used_for_off_link_destinations() {
    let (mut net, link, h) = one_host(
        19,
        "rfc4861_6_3_4_ra_adds_a_default_router_used_for_off_link_destinations",
    );
    // Before any RA, an off-link destination has no route (RFC 4943: not on-link).
    let s = udp(&mut net, h);
    let now = net.now();
    assert_eq!(
        net.node_mut(h)
            .send_to(now, s, ip("2001:db8:77::1"), 7, None, b"x"),
        Err(sixstack_core::Error::NoRoute)
    );
    let _ = net.node_mut(h).take_events();
    let t0 = net.now();
    net.inject(link, None, ra_frame(0x90, RA, &[]));
    net.run_for(ms(10));
    let (r, rmac) = rtr(0x90);
    assert_eq!(routers(&net, h), vec![(r, Preference::Medium)]);
    let entry = net
        .node(h)
        .interface(ETH0)
        .unwrap()
        .routers
        .routers()
        .next()
        .unwrap()
        .expires;
    assert_eq!(entry, t0 + Duration::from_micros(100) + secs(1800));
    assert!(
        net.node_mut(h)
            .take_events()
            .iter()
            .any(|e| e.kind == EventKind::RouterAdded { addr: r })
    );
    // §6.3.4: the router's SLLA made a STALE entry flagged IsRouter.
    let n = net
        .node(h)
        .interface(ETH0)
        .unwrap()
        .neighbors
        .lookup(&r)
        .cloned()
        .unwrap();
    assert!(n.is_router);
    assert_eq!(n.state, NudState::Stale);
    assert_eq!(first_hop_mac(&mut net, link, h, "2001:db8:77::1"), rmac);
}

#[test]
fn rfc4861_6_3_4_router_lifetime_zero_removes_the_router() {
    let (mut net, link, h) = one_host(20, "rfc4861_6_3_4_router_lifetime_zero_removes_the_router");
    net.inject(link, None, ra_frame(0x90, RA, &[]));
    net.run_for(ms(10));
    assert_eq!(routers(&net, h).len(), 1);
    let _ = net.node_mut(h).take_events();
    net.inject(
        link,
        None,
        ra_frame(
            0x90,
            RaHdr {
                router_lifetime: 0,
                ..RA
            },
            &[],
        ),
    );
    net.run_for(ms(10));
    let (r, _) = rtr(0x90);
    assert!(routers(&net, h).is_empty());
    assert!(
        net.node_mut(h)
            .take_events()
            .iter()
            .any(|e| e.kind == EventKind::RouterRemoved { addr: r })
    );
    let s = udp(&mut net, h);
    let now = net.now();
    assert_eq!(
        net.node_mut(h)
            .send_to(now, s, ip("2001:db8:77::1"), 7, None, b"x"),
        Err(sixstack_core::Error::NoRoute)
    );
    // A router whose lifetime simply runs out goes too (§6.3.5).
    let t0 = net.now();
    net.inject(
        link,
        None,
        ra_frame(
            0x91,
            RaHdr {
                router_lifetime: 30,
                ..RA
            },
            &[],
        ),
    );
    net.run_until(t0 + secs(29));
    assert_eq!(routers(&net, h).len(), 1);
    net.run_until(t0 + secs(31));
    assert!(routers(&net, h).is_empty());
}

#[test]
fn rfc4191_3_2_high_preference_router_beats_low() {
    let (mut net, link, h) = one_host(21, "rfc4191_3_2_high_preference_router_beats_low");
    // Low preference from the lower address, heard first: neither order nor address
    // should make it win.
    let low = router_flags::PRF_MASK & (Preference::Low.bits() << 3);
    let high = router_flags::PRF_MASK & (Preference::High.bits() << 3);
    net.inject(link, None, ra_frame(0x90, RaHdr { flags: low, ..RA }, &[]));
    net.run_for(ms(10));
    net.inject(link, None, ra_frame(0x91, RaHdr { flags: high, ..RA }, &[]));
    net.run_for(ms(10));
    assert_eq!(
        routers(&net, h),
        vec![
            (rtr(0x90).0, Preference::Low),
            (rtr(0x91).0, Preference::High)
        ]
    );
    for dst in ["2001:db8:77::1", "2001:db8:78::1", "2001:db8:79::1"] {
        assert_eq!(first_hop_mac(&mut net, link, h, dst), mac(0x91), "{dst}");
    }
    // The high one gone, the low one serves.
    net.inject(
        link,
        None,
        ra_frame(
            0x91,
            RaHdr {
                flags: high,
                router_lifetime: 0,
                ..RA
            },
            &[],
        ),
    );
    net.run_for(ms(10));
    assert_eq!(
        first_hop_mac(&mut net, link, h, "2001:db8:77::2"),
        mac(0x90)
    );
}

#[test]
fn rfc4191_3_1_route_information_option_used_for_a_more_specific_prefix() {
    let (mut net, link, h) = one_host(
        22,
        "rfc4191_3_1_route_information_option_used_for_a_more_specific_prefix",
    );
    // 0x90: the default router. 0x91: no default router (lifetime 0), but the way to
    // 2001:db8:99::/48.
    net.inject(link, None, ra_frame(0x90, RA, &[]));
    let rio = ndiscopt::Repr::RouteInformation {
        prefix_len: 48,
        preference: Preference::Medium,
        route_lifetime: 600,
        prefix: ip("2001:db8:99::"),
    };
    net.inject(
        link,
        None,
        ra_frame(
            0x91,
            RaHdr {
                router_lifetime: 0,
                ..RA
            },
            &[rio],
        ),
    );
    net.run_for(ms(10));
    assert_eq!(routers(&net, h), vec![(rtr(0x90).0, Preference::Medium)]);
    let routes: Vec<_> = net
        .node(h)
        .interface(ETH0)
        .unwrap()
        .routers
        .routes()
        .map(|r| (r.prefix, r.prefix_len, r.router))
        .collect();
    assert_eq!(routes, vec![(ip("2001:db8:99::"), 48, rtr(0x91).0)]);
    assert_eq!(
        first_hop_mac(&mut net, link, h, "2001:db8:99:1::1"),
        mac(0x91)
    );
    assert_eq!(
        first_hop_mac(&mut net, link, h, "2001:db8:98::1"),
        mac(0x90)
    );
    // The route's lifetime ends: back to the default router (whose RA is heard again:
    // the tester does not answer NUD probes, so its neighbor entry went meanwhile).
    net.run_for(secs(601));
    net.inject(link, None, ra_frame(0x90, RA, &[]));
    net.run_for(ms(10));
    assert_eq!(
        net.node(h)
            .interface(ETH0)
            .unwrap()
            .routers
            .routes()
            .count(),
        0
    );
    assert_eq!(
        first_hop_mac(&mut net, link, h, "2001:db8:99:1::2"),
        mac(0x90)
    );
}

#[test]
fn rfc4861_6_3_4_on_link_prefix_resolved_directly_off_link_prefix_via_router() {
    let mut net = Network::new(23);
    let link = net.add_link("lan", LinkConfig::ethernet());
    let h = net.add_node("h1", host(23, mac(1)));
    net.attach(link, h, ETH0);
    record(
        &mut net,
        "rfc4861_6_3_4_on_link_prefix_resolved_directly_off_link_prefix_via_router",
    );
    net.run_until(Instant::from_secs(3));
    // 2001:db8:1::/64 on-link (L=1); 2001:db8:2::/64 for addresses only (L=0, A=1).
    let opts = [
        pio("2001:db8:1::", prefix_flags::ON_LINK, 3600, 1800),
        pio("2001:db8:2::", prefix_flags::AUTONOMOUS, 3600, 1800),
    ];
    net.inject(link, None, ra_frame(0x90, RA, &opts));
    net.run_for(secs(5));
    let on_link: Vec<_> = net
        .node(h)
        .interface(ETH0)
        .unwrap()
        .routers
        .prefixes()
        .map(|p| (p.prefix, p.prefix_len))
        .collect();
    assert_eq!(on_link, vec![(ip("2001:db8:1::"), 64)]);
    // A=1 formed an address in 2001:db8:2::/64, A=0 none in 2001:db8:1::/64.
    let g = globals(net.node(h), ETH0);
    assert_eq!(g.len(), 1, "{g:?}");
    assert_eq!(g[0].segments()[..4], [0x2001, 0xdb8, 2, 0]);
    // On-link: address resolution for the destination itself.
    let t0 = net.now();
    let s = udp(&mut net, h);
    send(&mut net, h, s, ip("2001:db8:1::77"), b"on-link");
    net.run_for(ms(10));
    let out = sent_by(&net, link, h, t0);
    let ns = of_type(&out, Message::NEIGHBOR_SOLICIT);
    assert_eq!(ns.len(), 1);
    assert_eq!(ns[0].dst, ip("2001:db8:1::77").solicited_node());
    // RFC 5942 §2: our own address's prefix is not on-link unless an RA says so: the
    // neighbor in 2001:db8:2::/64 is reached through the router.
    assert_eq!(
        first_hop_mac(&mut net, link, h, "2001:db8:2::77"),
        mac(0x90)
    );
    assert!(
        net.node(h)
            .interface(ETH0)
            .unwrap()
            .neighbors
            .lookup(&ip("2001:db8:2::77"))
            .is_none()
    );
}

#[test]
fn rfc4861_6_3_4_mtu_option_sets_link_mtu_and_a_bad_one_is_ignored() {
    let (mut net, link, h) = one_host(
        24,
        "rfc4861_6_3_4_mtu_option_sets_link_mtu_and_a_bad_one_is_ignored",
    );
    let mtu = |net: &Network<Stack>| net.node(h).interface(ETH0).unwrap().mtu;
    assert_eq!(mtu(&net), 1500);
    net.inject(link, None, ra_frame(0x90, RA, &[ndiscopt::Repr::Mtu(1400)]));
    net.run_for(ms(10));
    assert_eq!(mtu(&net), 1400);
    assert!(
        net.node_mut(h)
            .take_events()
            .iter()
            .any(|e| e.kind == EventKind::MtuChanged { mtu: 1400 })
    );
    // Below the IPv6 minimum, or above what the link can carry: ignored.
    for bad in [1279, 1000, 9000] {
        net.inject(link, None, ra_frame(0x90, RA, &[ndiscopt::Repr::Mtu(bad)]));
        net.run_for(ms(10));
        assert_eq!(mtu(&net), 1400, "MTU option {bad} taken");
    }
    assert_eq!(routers(&net, h).len(), 1, "the rest of the RA still counts");
    // Traffic follows: a 1452-byte payload no longer fits in one packet.
    let t0 = net.now();
    let s = udp(&mut net, h);
    send(&mut net, h, s, ip("2001:db8:77::1"), &[0u8; 1452]);
    net.run_for(ms(10));
    let out: Vec<Seen> = sent_by(&net, link, h, t0)
        .into_iter()
        .filter(|s| s.dst == ip("2001:db8:77::1"))
        .collect();
    assert_eq!(out.len(), 2, "{out:?}");
    assert!(
        out.iter()
            .all(|s| s.is_fragment() && s.packet.len() <= 1400)
    );
}

#[test]
fn rfc4861_6_3_4_cur_hop_limit_reachable_time_and_retrans_timer_taken_from_the_ra() {
    let (mut net, link, h) = one_host(
        25,
        "rfc4861_6_3_4_cur_hop_limit_reachable_time_and_retrans_timer_taken_from_the_ra",
    );
    let hdr = RaHdr {
        cur_hop_limit: 42,
        reachable_time: 10_000,
        retrans_time: 2_500,
        ..RA
    };
    net.inject(link, None, ra_frame(0x90, hdr, &[]));
    net.run_for(ms(10));
    let i = net.node(h).interface(ETH0).unwrap();
    assert_eq!(i.cur_hop_limit, 42);
    assert_eq!(i.base_reachable_time, secs(10));
    assert!(i.reachable_time >= secs(5) && i.reachable_time <= secs(15));
    assert_eq!(i.retrans_timer, ms(2500));
    // They act: hop limit 42 on what the host sends; NSs 2.5 s apart.
    let t0 = net.now();
    let s = udp(&mut net, h);
    send(&mut net, h, s, ip("2001:db8:77::1"), b"hl");
    send(&mut net, h, s, ip(PEER_ADDR), b"nobody");
    net.run_for(secs(10));
    let out = sent_by(&net, link, h, t0);
    let d = out.iter().find(|s| s.dst == ip("2001:db8:77::1")).unwrap();
    assert_eq!(d.hop_limit, 42);
    let ns: Vec<Seen> = of_type(&out, Message::NEIGHBOR_SOLICIT)
        .into_iter()
        .filter(|s| s.dst == ip(PEER_ADDR).solicited_node())
        .collect();
    assert_eq!(ns.len(), 3);
    assert_eq!(ns[1].time - ns[0].time, ms(2500));
    assert_eq!(ns[2].time - ns[1].time, ms(2500));
    // Zero means unspecified: the values stay.
    net.inject(link, None, ra_frame(0x90, RA, &[]));
    net.run_for(ms(10));
    let i = net.node(h).interface(ETH0).unwrap();
    assert_eq!((i.cur_hop_limit, i.retrans_timer), (42, ms(2500)));
    assert_eq!(i.base_reachable_time, secs(10));
}

#[test]
fn rfc8106_5_rdnss_and_dnssl_options_stored_with_their_lifetimes() {
    let (mut net, link, h) = one_host(
        26,
        "rfc8106_5_rdnss_and_dnssl_options_stored_with_their_lifetimes",
    );
    let mut names = [0u8; 40];
    let n =
        ndiscopt::encode_domain_names(["example.test", "lab.example.test"], &mut names).unwrap();
    let names = &names[..n.div_ceil(8) * 8];
    let mut addrs = ip("2001:db8::53").octets().to_vec();
    addrs.extend_from_slice(&ip("2001:db8::54").octets());
    let opts = [
        ndiscopt::Repr::Rdnss {
            lifetime: 600,
            addrs: &addrs,
        },
        ndiscopt::Repr::Dnssl {
            lifetime: 300,
            names,
        },
    ];
    let t0 = net.now();
    net.inject(link, None, ra_frame(0x90, RA, &opts));
    net.run_for(ms(10));
    let arrival = t0 + Duration::from_micros(100);
    let i = net.node(h).interface(ETH0).unwrap();
    assert_eq!(
        i.rdnss,
        vec![
            (ip("2001:db8::53"), arrival + secs(600)),
            (ip("2001:db8::54"), arrival + secs(600))
        ]
    );
    assert_eq!(
        i.dnssl,
        vec![
            ("example.test".to_string(), arrival + secs(300)),
            ("lab.example.test".to_string(), arrival + secs(300))
        ]
    );
    // Lifetime 0 withdraws a server at once.
    let one = ip("2001:db8::54").octets();
    net.inject(
        link,
        None,
        ra_frame(
            0x90,
            RA,
            &[ndiscopt::Repr::Rdnss {
                lifetime: 0,
                addrs: &one,
            }],
        ),
    );
    net.run_for(ms(10));
    let i = net.node(h).interface(ETH0).unwrap();
    assert_eq!(
        i.rdnss.iter().map(|r| r.0).collect::<Vec<_>>(),
        vec![ip("2001:db8::53")]
    );
    // And the lifetimes run out.
    net.run_until(arrival + secs(300) + ms(1));
    assert!(net.node(h).interface(ETH0).unwrap().dnssl.is_empty());
    assert_eq!(net.node(h).interface(ETH0).unwrap().rdnss.len(), 1);
    net.run_until(arrival + secs(600) + ms(1));
    assert!(net.node(h).interface(ETH0).unwrap().rdnss.is_empty());
}

#[test]
fn rfc4861_6_1_2_ra_from_a_non_link_local_source_ignored() {
    let (mut net, link, h) = one_host(27, "rfc4861_6_1_2_ra_from_a_non_link_local_source_ignored");
    let m = mac(0x90);
    let options = nd_options(&[
        ndiscopt::Repr::SourceLinkLayerAddr(&m.0),
        pio("2001:db8:5::", LA, 3600, 1800),
        ndiscopt::Repr::Mtu(1400),
    ]);
    let ra = |src: Ipv6Addr, hop: u8| {
        ethernet(
            m,
            mcast_mac(&ip("ff02::1")),
            &nd_packet(
                src,
                ip("ff02::1"),
                hop,
                ndisc::Repr::RouterAdvert {
                    cur_hop_limit: 7,
                    flags: 0,
                    router_lifetime: 1800,
                    reachable_time: 0,
                    retrans_time: 0,
                    options: &options,
                },
            ),
        )
    };
    net.inject(link, None, ra(ip("2001:db8::90"), 255));
    net.run_for(secs(3));
    net.inject(link, None, ra(rtr(0x90).0, 64));
    net.run_for(secs(3));
    let node = net.node(h);
    let i = node.interface(ETH0).unwrap();
    assert!(routers(&net, h).is_empty());
    assert_eq!(i.mtu, 1500);
    assert_eq!(i.cur_hop_limit, 64);
    assert_eq!(i.routers.prefixes().count(), 0);
    assert_eq!(globals(node, ETH0), vec![ip(H1_ADDR)]);
    assert_eq!(node.stats().drops_for("RA source not link-local"), 1);
    assert_eq!(
        node.stats().drops_for("ND message with hop limit not 255"),
        1
    );
    // The same RA from a link-local source with hop limit 255 is taken.
    net.inject(link, None, ra(rtr(0x90).0, 255));
    net.run_for(ms(10));
    assert_eq!(routers(&net, h).len(), 1);
    assert_eq!(net.node(h).interface(ETH0).unwrap().mtu, 1400);
}

// ----- RFC 4861 §6.2: a sixstack router ------------------------------------------------

fn adv_config(prefix: &str) -> AdvertConfig {
    AdvertConfig {
        adv_link_mtu: 1480,
        rdnss: vec![ip("2001:db8:1::53")],
        dnssl: vec!["example.test".to_string(), "lab.example.test".to_string()],
        prefixes: vec![AdvPrefix::new(ip(prefix), 64)],
        ..AdvertConfig::default()
    }
}

/// A router with one advertising interface per (prefix, MAC byte); its address on each
/// is prefix::1/64.
fn router(seed: u64, ifaces: &[(&str, u8)]) -> Stack {
    let mut s = Stack::new(StackConfig::router(), seed);
    for (k, (prefix, m)) in ifaces.iter().enumerate() {
        let mut c = IfaceConfig::ethernet(&format!("eth{k}"), mac(*m));
        c.advertise = Some(adv_config(prefix));
        let id = s.add_interface(Instant::ZERO, c);
        let mut a = ip(prefix).octets();
        a[15] = 1;
        s.add_address(Instant::ZERO, id, Ipv6Addr::from(a), 64)
            .unwrap();
    }
    s
}

fn lone_router(seed: u64, test: &str) -> (Network<Stack>, LinkId, NodeId) {
    let mut net = Network::new(seed);
    let link = net.add_link("lan", LinkConfig::ethernet());
    let r = net.add_node("r", router(seed, &[("2001:db8:1::", 0x11)]));
    net.attach(link, r, ETH0);
    record(&mut net, test);
    (net, link, r)
}

fn ras(net: &Network<Stack>, link: LinkId, r: NodeId) -> Vec<Seen> {
    of_type(
        &sent_by(net, link, r, Instant::ZERO),
        Message::ROUTER_ADVERT,
    )
}

#[test]
fn rfc4861_6_2_4_initial_router_advertisements_at_most_16s_apart() {
    let (mut net, link, r) = lone_router(
        28,
        "rfc4861_6_2_4_initial_router_advertisements_at_most_16s_apart",
    );
    net.run_until(Instant::from_secs(2000));
    let ras = ras(&net, link, r);
    assert!(ras.len() >= 5, "{}", ras.len());
    let gaps: Vec<Duration> = ras.windows(2).map(|w| w[1].time - w[0].time).collect();
    // MAX_INITIAL_RTR_ADVERTISEMENTS (3): the first ones at most
    // MAX_INITIAL_RTR_ADVERT_INTERVAL (16 s) apart, and at least MIN_DELAY_BETWEEN_RAS.
    for g in &gaps[..2] {
        assert!(*g <= secs(16) && *g >= secs(3), "{gaps:?}");
    }
    // Afterwards, in [MinRtrAdvInterval, MaxRtrAdvInterval] = [198 s, 600 s].
    for g in &gaps[3..] {
        assert!(*g >= secs(198) && *g <= secs(600), "{gaps:?}");
    }
    // The first one as soon as the router's link-local address is usable.
    assert!(
        ras[0].time <= Instant::from_secs(2),
        "first RA at {}",
        ras[0].time
    );
    for ra in &ras {
        assert!(ra.src.is_link_local_unicast());
        assert_eq!(ra.dst, ip("ff02::1"));
        assert_eq!(ra.eth_dst.0, [0x33, 0x33, 0, 0, 0, 1]);
        assert_eq!(ra.hop_limit, 255);
    }
    assert_eq!(
        net.node(r)
            .stats()
            .drops_for("RA not sent: no link-local address yet"),
        0
    );
}

fn rs_frame(n: u8) -> Vec<u8> {
    let (src, m) = rtr(n);
    let opts = sll(m);
    nd_frame(
        m,
        mac(0),
        src,
        ip("ff02::2"),
        ndisc::Repr::RouterSolicit { options: &opts },
    )
}

#[test]
fn rfc4861_6_2_6_rs_answered_within_max_ra_delay_time_and_rate_limited() {
    let (mut net, link, r) = lone_router(
        29,
        "rfc4861_6_2_6_rs_answered_within_max_ra_delay_time_and_rate_limited",
    );
    // Past the initial advertisements: the next unsolicited one is minutes away.
    net.run_until(Instant::from_secs(100));
    let last = ras(&net, link, r).last().unwrap().time;
    assert!(last < Instant::from_secs(60));
    let t0 = net.now();
    net.inject(link, None, rs_frame(0x90));
    net.run_for(secs(1));
    let answer: Vec<Seen> = ras(&net, link, r)
        .into_iter()
        .filter(|s| s.time >= t0)
        .collect();
    assert_eq!(answer.len(), 1);
    // MAX_RA_DELAY_TIME: 0.5 s (plus the link's 100 µs for the RS to arrive).
    let delay = answer[0].time - t0;
    assert!(delay <= ms(500) + Duration::from_micros(100), "{delay:?}");
    assert_eq!(answer[0].dst, ip("ff02::1"));
    // §6.2.6: the solicitor is learned from its SLLA (not as a router).
    let n = net
        .node(r)
        .interface(ETH0)
        .unwrap()
        .neighbors
        .lookup(&rtr(0x90).0)
        .cloned()
        .unwrap();
    assert_eq!(n.lladdr, Some(sixstack_core::LinkAddr::Mac(mac(0x90))));
    assert!(!n.is_router);
    // Two more RSs soon after: one answer, not before MIN_DELAY_BETWEEN_RAS (3 s).
    let t1 = net.now();
    net.inject(link, None, rs_frame(0x91));
    net.run_for(ms(300));
    net.inject(link, None, rs_frame(0x92));
    net.run_for(secs(6));
    let more: Vec<Seen> = ras(&net, link, r)
        .into_iter()
        .filter(|s| s.time >= t1)
        .collect();
    assert_eq!(more.len(), 1, "{more:?}");
    let gap = more[0].time - answer[0].time;
    assert!(gap >= secs(3) && gap <= secs(3) + ms(500), "{gap:?}");
}

#[test]
fn rfc4861_6_2_3_ra_carries_prefixes_mtu_rdnss_and_dnssl() {
    let mut net = Network::new(30);
    let link = net.add_link("lan", LinkConfig::ethernet());
    let r = net.add_node("r", router(30, &[("2001:db8:1::", 0x11)]));
    let h = net.add_node("h1", host(31, mac(1)));
    net.attach(link, r, ETH0);
    net.attach(link, h, ETH0);
    record(
        &mut net,
        "rfc4861_6_2_3_ra_carries_prefixes_mtu_rdnss_and_dnssl",
    );
    net.run_until(Instant::from_secs(30));
    let all = ras(&net, link, r);
    let ra = all.first().expect("an RA");
    let rll = link_local(net.node(r), ETH0).unwrap();
    assert_eq!(ra.src, rll);
    let nd = nd_of(ra).expect("valid RA");
    let ndisc::Repr::RouterAdvert {
        cur_hop_limit,
        flags,
        router_lifetime,
        reachable_time,
        retrans_time,
        ..
    } = nd
    else {
        panic!("{nd:?}");
    };
    assert_eq!(cur_hop_limit, 64);
    assert_eq!(flags, 0, "M=0 O=0, medium preference");
    assert_eq!(router_lifetime, 1800, "3 x MaxRtrAdvInterval");
    assert_eq!((reachable_time, retrans_time), (0, 0));
    let opts = nd_opts(&nd);
    assert!(opts.contains(&ndiscopt::Repr::SourceLinkLayerAddr(&mac(0x11).0[..])));
    assert!(opts.contains(&ndiscopt::Repr::Mtu(1480)));
    assert!(opts.contains(&ndiscopt::Repr::PrefixInformation {
        prefix_len: 64,
        flags: LA,
        valid_lifetime: 2_592_000,
        preferred_lifetime: 604_800,
        prefix: ip("2001:db8:1::"),
    }));
    let rdnss: Vec<(u32, Vec<u8>)> = opts
        .iter()
        .filter_map(|o| match o {
            ndiscopt::Repr::Rdnss { lifetime, addrs } => Some((*lifetime, addrs.to_vec())),
            _ => None,
        })
        .collect();
    assert_eq!(rdnss, vec![(1800, ip("2001:db8:1::53").octets().to_vec())]);
    let dnssl: Vec<(u32, Vec<String>)> = opts
        .iter()
        .filter_map(|o| match o {
            ndiscopt::Repr::Dnssl { lifetime, names } => Some((
                *lifetime,
                ndiscopt::DomainNames::new(names)
                    .map(|n| n.unwrap().to_string())
                    .collect(),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        dnssl,
        vec![(
            1800,
            vec!["example.test".to_string(), "lab.example.test".to_string()]
        )]
    );
    // A sixstack host takes it all.
    let i = net.node(h).interface(ETH0).unwrap();
    assert_eq!(i.mtu, 1480);
    assert_eq!(
        i.rdnss.iter().map(|x| x.0).collect::<Vec<_>>(),
        vec![ip("2001:db8:1::53")]
    );
    assert_eq!(i.dnssl.len(), 2);
    assert_eq!(routers(&net, h), vec![(rll, Preference::Medium)]);
    let g = globals(net.node(h), ETH0);
    assert_eq!(g.len(), 1);
    assert_eq!(g[0].segments()[..4], [0x2001, 0xdb8, 1, 0]);
}
