//! Scenario tests: the MLD listener of sixstack hosts on the wire (RFC 3810 MLDv2, RFC 2710
//! MLDv1 compatibility, RFC 3590 source addresses) and multicast delivery to sockets.

use std::collections::BTreeSet;
use std::net::Ipv6Addr;

use sixstack_core::mld::MldVersion;
use sixstack_core::socket::SocketHandle;
use sixstack_core::{Duration, EventKind, Instant, Stack};
use sixstack_sim::testkit::*;
use sixstack_sim::{LinkId, Network, NodeId};
use sixstack_wire::addr::EthernetAddress;
use sixstack_wire::icmpv6::{self, Message};
use sixstack_wire::ipv6opts::{self, Ipv6Option};
use sixstack_wire::mld::{self, record_type};
use sixstack_wire::proto::IpProtocol;

const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
const ALL_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);
const ALL_MLDV2_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x16);
/// The injected querier: a link-local router address and its MAC.
const QUERIER: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
const QUERIER_MAC: EthernetAddress = EthernetAddress([0x02, 0x00, 0x5e, 0x00, 0x53, 0xfe]);
/// Where the link's frames take to arrive (LinkConfig's default delay).
const LINK_DELAY: Duration = Duration::from_micros(100);

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// One MLD message a node sent, as a router would see it.
#[derive(Debug, Clone)]
struct MldMsg {
    time: Instant,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    eth_dst: EthernetAddress,
    hop_limit: u8,
    /// A Hop-by-Hop header right after the IPv6 header with Router Alert value 0.
    router_alert: bool,
    kind: Message,
    /// MLDv2 Reports: (record type, group, sources).
    records: Vec<(u8, Ipv6Addr, Vec<Ipv6Addr>)>,
    /// MLDv1 Report and Done: the group.
    group: Option<Ipv6Addr>,
}

fn has_router_alert(packet: &[u8]) -> bool {
    if packet.get(6) != Some(&IpProtocol::HOPOPTS.0) {
        return false;
    }
    let Ok(h) = ipv6opts::Packet::new_checked(&packet[40..]) else {
        return false;
    };
    h.options()
        .any(|o| matches!(o, Ok((_, Ipv6Option::RouterAlert(0)))))
}

/// The MLD Reports and Dones `from` sent on `link` (checksums verified), in order.
fn mld_msgs(net: &Network<Stack>, link: LinkId, from: NodeId) -> Vec<MldMsg> {
    let mut v = Vec::new();
    for s in packets(net, link) {
        if s.from != Some(from) {
            continue;
        }
        let Some(icmpv6::Repr::Mld(m)) = s.icmp() else {
            continue;
        };
        let (records, group) = match m {
            mld::Repr::ReportV2 { .. } => (
                m.records()
                    .map(|r| {
                        let r = r.expect("well-formed record");
                        (r.record_type(), r.mcast_addr(), r.sources().collect())
                    })
                    .collect(),
                None,
            ),
            mld::Repr::Report { mcast_addr } | mld::Repr::Done { mcast_addr } => {
                (Vec::new(), Some(mcast_addr))
            }
            _ => continue,
        };
        v.push(MldMsg {
            time: s.time,
            src: s.src,
            dst: s.dst,
            eth_dst: s.eth_dst,
            hop_limit: s.hop_limit,
            router_alert: has_router_alert(&s.packet),
            kind: m.msg_type(),
            records,
            group,
        });
    }
    v
}

fn since(msgs: Vec<MldMsg>, t: Instant) -> Vec<MldMsg> {
    msgs.into_iter().filter(|m| m.time >= t).collect()
}

/// RFC 4291 §2.7.1: ff02::1:ffXX:XXXX.
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

/// An MLD message from the injected querier, with hop limit 1 and a Router Alert.
fn query_frame(src: Ipv6Addr, dst: Ipv6Addr, q: mld::Repr<'_>) -> Vec<u8> {
    let msg = icmpv6_msg(src, dst, &icmpv6::Repr::Mld(q));
    let upper = options_header(IpProtocol::ICMPV6, &[Ipv6Option::RouterAlert(0)], &msg);
    let pkt = ipv6_packet(src, dst, IpProtocol::HOPOPTS, 1, &upper);
    ethernet(QUERIER_MAC, mcast_mac(&dst), &pkt)
}

/// An MLDv2 query (QRV 2, QQIC 125 s) for `group` (:: for a General Query).
fn query_v2(group: Ipv6Addr, max_resp_ms: u32) -> mld::Repr<'static> {
    mld::Repr::QueryV2 {
        max_resp_code: mld::encode_max_resp_code(max_resp_ms),
        mcast_addr: group,
        flags: 2,
        qqic: 125,
        sources: &[],
    }
}

/// A lan of `n` hosts run for 10 s: DAD done, start-up reports and their repeats sent.
fn settled(seed: u64, n: u8, test: &str) -> (Network<Stack>, LinkId, Vec<NodeId>) {
    let (mut net, link, ids) = lan(seed, n);
    record(&mut net, test);
    net.run_until(Instant::from_secs(10));
    for &id in &ids {
        assert!(link_local(net.node(id), ETH0).is_some(), "DAD done");
        net.node_mut(id).take_events();
    }
    (net, link, ids)
}

/// A UDP socket on `port` that joins `group` on eth0.
fn join(net: &mut Network<Stack>, node: NodeId, group: Ipv6Addr, port: u16) -> SocketHandle {
    let now = net.now();
    let s = net.node_mut(node);
    let h = s.udp_open().expect("socket");
    s.bind(h, Ipv6Addr::UNSPECIFIED, port, None).expect("bind");
    s.join_multicast(now, h, group, ETH0).expect("join");
    h
}

fn assert_link_rules(m: &MldMsg, ll: Ipv6Addr) {
    assert_eq!(m.hop_limit, 1, "RFC 3810 §5: hop limit 1: {m:?}");
    assert!(m.router_alert, "RFC 3810 §5: Router Alert: {m:?}");
    assert_eq!(m.src, ll, "link-local source: {m:?}");
    assert_eq!(m.eth_dst, mcast_mac(&m.dst), "RFC 2464 §7 mapping: {m:?}");
}

fn assert_v2_report(m: &MldMsg, ll: Ipv6Addr) {
    assert_eq!(m.kind, Message::MLDV2_REPORT, "{m:?}");
    assert_eq!(m.dst, ALL_MLDV2_ROUTERS, "RFC 3810 §5.2.14: {m:?}");
    assert_eq!(
        m.eth_dst,
        EthernetAddress([0x33, 0x33, 0, 0, 0, 0x16]),
        "{m:?}"
    );
    assert_link_rules(m, ll);
}

#[test]
fn rfc3810_6_1_join_sends_robustness_unsolicited_reports() {
    let (mut net, link, ids) = settled(
        11,
        1,
        "rfc3810_6_1_join_sends_robustness_unsolicited_reports",
    );
    let h = ids[0];
    let ll = link_local(net.node(h), ETH0).unwrap();
    let g = ip("ff05::db8:1");
    let t0 = net.now();
    join(&mut net, h, g, 5000);
    net.run_until(t0 + secs(10));

    let reports = since(mld_msgs(&net, link, h), t0);
    assert_eq!(
        reports.len(),
        2,
        "[Robustness Variable] = 2 reports: {reports:?}"
    );
    for r in &reports {
        assert_v2_report(r, ll);
        assert_eq!(
            r.records,
            vec![(record_type::CHANGE_TO_EXCLUDE, g, vec![])],
            "TO_EX {{}} for the joined group only"
        );
    }
    assert_eq!(reports[0].time, t0, "the first report leaves at once");
    let gap = reports[1].time - t0;
    assert!(
        gap > Duration::ZERO && gap <= secs(1),
        "repeat within [Unsolicited Report Interval] = 1 s, was {gap:?}"
    );
    let events = net.node_mut(h).take_events();
    assert!(
        events
            .iter()
            .any(|e| e.kind == EventKind::MldJoined { group: g } && e.time == t0)
    );
    assert!(net.node(h).interface(ETH0).unwrap().mld.is_member(&g));
}

#[test]
fn rfc3590_4_reports_from_unspecified_until_link_local_is_ready() {
    let (mut net, link, ids) = lan(12, 1);
    record(
        &mut net,
        "rfc3590_4_reports_from_unspecified_until_link_local_is_ready",
    );
    let h = ids[0];
    net.run_until(Instant::from_secs(6));
    let ll = link_local(net.node(h), ETH0).expect("link-local after DAD");
    let preferred_at = net
        .node_mut(h)
        .take_events()
        .into_iter()
        .find(|e| {
            e.kind
                == EventKind::Address {
                    addr: ll,
                    from: Some(sixstack_core::slaac::AddrState::Tentative),
                    to: Some(sixstack_core::slaac::AddrState::Preferred),
                }
        })
        .expect("TENTATIVE -> PREFERRED")
        .time;
    let msgs = mld_msgs(&net, link, h);
    assert!(!msgs.is_empty());
    let (before, after): (Vec<_>, Vec<_>) = msgs.iter().partition(|m| m.time < preferred_at);
    assert!(!before.is_empty(), "reports go out before DAD ends");
    for m in &before {
        assert_eq!(
            m.src,
            Ipv6Addr::UNSPECIFIED,
            "RFC 3590 §4: :: before: {m:?}"
        );
        assert_eq!((m.hop_limit, m.router_alert), (1, true));
        assert_eq!(m.dst, ALL_MLDV2_ROUTERS);
    }
    // The solicited-node group of the tentative address is announced from :: (so that
    // snooping switches pass the DAD probes of others).
    assert!(
        before[0]
            .records
            .iter()
            .any(|(_, g, _)| *g == solicited_node(ll))
    );
    // RFC 3590 §4 / RFC 3810 §5.2.13: reported again from the new link-local address.
    assert!(
        !after.is_empty(),
        "reports again once the link-local is ready"
    );
    assert_eq!(after[0].time, preferred_at);
    for m in &after {
        assert_v2_report(m, ll);
        assert!(m.records.iter().any(|(_, g, _)| *g == solicited_node(ll)));
    }
}

#[test]
fn rfc3810_6_solicited_node_groups_reported_all_nodes_never() {
    let (mut net, link, ids) = settled(
        13,
        1,
        "rfc3810_6_solicited_node_groups_reported_all_nodes_never",
    );
    let h = ids[0];
    let ll = link_local(net.node(h), ETH0).unwrap();
    let global = ip("2001:db8:1::abc:def");
    assert_ne!(solicited_node(global), solicited_node(ll));
    let t0 = net.now();
    net.node_mut(h).add_address(t0, ETH0, global, 64).unwrap();
    net.run_until(t0 + secs(10));
    // A General Query makes the host list its whole state.
    let t1 = net.now();
    net.inject(
        link,
        None,
        query_frame(QUERIER, ALL_NODES, query_v2(Ipv6Addr::UNSPECIFIED, 1000)),
    );
    net.run_until(t1 + secs(3));

    let msgs = mld_msgs(&net, link, h);
    let reported: BTreeSet<Ipv6Addr> = msgs
        .iter()
        .flat_map(|m| m.records.iter().map(|(_, g, _)| *g))
        .collect();
    assert!(reported.contains(&solicited_node(ll)));
    assert!(reported.contains(&solicited_node(global)));
    assert!(
        !reported.contains(&ALL_NODES),
        "RFC 3810 §6: ff02::1 never reported"
    );
    assert_eq!(
        reported,
        BTreeSet::from([solicited_node(ll), solicited_node(global)]),
        "a plain host listens to nothing else"
    );
    // The new address's group went out as a state change when its DAD began.
    let change = since(msgs.clone(), t0);
    assert_eq!(change[0].time, t0);
    assert_eq!(
        change[0].records,
        vec![(
            record_type::CHANGE_TO_EXCLUDE,
            solicited_node(global),
            vec![]
        )]
    );
    // The answer to the query lists both groups, and no ff02::1.
    let answer = since(msgs, t1);
    assert_eq!(answer.len(), 1);
    let groups: BTreeSet<Ipv6Addr> = answer[0].records.iter().map(|r| r.1).collect();
    assert_eq!(
        groups,
        BTreeSet::from([solicited_node(ll), solicited_node(global)])
    );
    // The stack joined ff02::1 (it listens) but that is no MLD state to report.
    assert!(
        net.node(h)
            .interface(ETH0)
            .unwrap()
            .mld
            .is_member(&ALL_NODES)
    );
}

#[test]
fn rfc3810_6_2_general_query_answered_once_within_max_response_delay() {
    let (mut net, link, ids) = settled(
        14,
        1,
        "rfc3810_6_2_general_query_answered_once_within_max_response_delay",
    );
    let h = ids[0];
    let ll = link_local(net.node(h), ETH0).unwrap();
    let (g1, g2) = (ip("ff05::db8:1"), ip("ff0e::db8:2"));
    join(&mut net, h, g1, 5001);
    join(&mut net, h, g2, 5002);
    net.run_until(net.now() + secs(5));
    let before = net.node(h).stats().icmp.in_by_type[130];

    let t1 = net.now();
    net.inject(
        link,
        None,
        query_frame(QUERIER, ALL_NODES, query_v2(Ipv6Addr::UNSPECIFIED, 2000)),
    );
    net.run_until(t1 + secs(10));
    assert_eq!(net.node(h).stats().icmp.in_by_type[130], before + 1);
    let answer = since(mld_msgs(&net, link, h), t1);
    assert_eq!(answer.len(), 1, "one Current State Report: {answer:?}");
    let a = &answer[0];
    assert_v2_report(a, ll);
    assert!(
        a.time >= t1 + LINK_DELAY && a.time <= t1 + LINK_DELAY + Duration::from_millis(2000),
        "within Maximum Response Delay: {:?}",
        a.time
    );
    let recs: BTreeSet<(u8, Ipv6Addr, Vec<Ipv6Addr>)> = a.records.iter().cloned().collect();
    let want = BTreeSet::from([
        (record_type::MODE_IS_EXCLUDE, solicited_node(ll), vec![]),
        (record_type::MODE_IS_EXCLUDE, g1, vec![]),
        (record_type::MODE_IS_EXCLUDE, g2, vec![]),
    ]);
    assert_eq!(
        recs, want,
        "IS_EX {{}} for every group, ff02::1 not among them"
    );
    assert_eq!(a.records.len(), 3, "each group once");
}

#[test]
fn rfc3810_6_2_multicast_address_specific_query_answered_for_that_group_only() {
    let (mut net, link, ids) = settled(
        15,
        1,
        "rfc3810_6_2_multicast_address_specific_query_answered_for_that_group_only",
    );
    let h = ids[0];
    let ll = link_local(net.node(h), ETH0).unwrap();
    let (g1, g2) = (ip("ff05::db8:1"), ip("ff0e::db8:2"));
    join(&mut net, h, g1, 5001);
    join(&mut net, h, g2, 5002);
    net.run_until(net.now() + secs(5));

    let t1 = net.now();
    // RFC 3810 §5.1.15: a Multicast Address Specific Query goes to the group itself.
    net.inject(link, None, query_frame(QUERIER, g1, query_v2(g1, 1000)));
    net.run_until(t1 + secs(5));
    let answer = since(mld_msgs(&net, link, h), t1);
    assert_eq!(answer.len(), 1, "{answer:?}");
    assert_v2_report(&answer[0], ll);
    assert!(answer[0].time <= t1 + LINK_DELAY + secs(1));
    assert_eq!(
        answer[0].records,
        vec![(record_type::MODE_IS_EXCLUDE, g1, vec![])],
        "RFC 3810 §6.3 rule 2: the queried group only"
    );

    // A query for a group the host does not listen to is not answered.
    let t2 = net.now();
    let dropped = net
        .node(h)
        .stats()
        .drops_for("not a member of the multicast group");
    let g3 = ip("ff05::db8:3");
    net.inject(link, None, query_frame(QUERIER, g3, query_v2(g3, 1000)));
    net.run_until(t2 + secs(5));
    assert!(since(mld_msgs(&net, link, h), t2).is_empty());
    assert_eq!(
        net.node(h)
            .stats()
            .drops_for("not a member of the multicast group"),
        dropped + 1
    );
}

#[test]
fn rfc3810_5_1_14_query_from_non_link_local_source_ignored() {
    let (mut net, link, ids) = settled(
        16,
        1,
        "rfc3810_5_1_14_query_from_non_link_local_source_ignored",
    );
    let h = ids[0];
    join(&mut net, h, ip("ff05::db8:1"), 5001);
    net.run_until(net.now() + secs(5));

    let t1 = net.now();
    let q = query_v2(Ipv6Addr::UNSPECIFIED, 1000);
    net.inject(link, None, query_frame(ip("2001:db8::1"), ALL_NODES, q));
    net.inject(link, None, query_frame(Ipv6Addr::UNSPECIFIED, ALL_NODES, q));
    net.run_until(t1 + secs(5));
    assert!(
        since(mld_msgs(&net, link, h), t1).is_empty(),
        "no answer to a query from a global or unspecified source"
    );
    assert_eq!(
        net.node(h)
            .stats()
            .drops_for("MLD query source not link-local"),
        2
    );

    // The same query from a link-local address is answered: the source made the difference.
    let t2 = net.now();
    net.inject(link, None, query_frame(QUERIER, ALL_NODES, q));
    net.run_until(t2 + secs(5));
    assert_eq!(since(mld_msgs(&net, link, h), t2).len(), 1);
}

#[test]
fn rfc3810_8_2_1_mldv1_query_switches_to_mldv1_reports_and_done() {
    let (mut net, link, ids) = settled(
        17,
        1,
        "rfc3810_8_2_1_mldv1_query_switches_to_mldv1_reports_and_done",
    );
    let h = ids[0];
    let ll = link_local(net.node(h), ETH0).unwrap();
    let g = ip("ff05::db8:1");
    let sock = join(&mut net, h, g, 5001);
    net.run_until(net.now() + secs(5));

    let t1 = net.now();
    let q = mld::Repr::QueryV1 {
        max_resp_delay: 1000,
        mcast_addr: Ipv6Addr::UNSPECIFIED,
    };
    net.inject(link, None, query_frame(QUERIER, ALL_NODES, q));
    net.run_until(t1 + secs(3));
    assert_eq!(
        net.node(h).interface(ETH0).unwrap().mld.version(),
        MldVersion::V1
    );
    assert!(net.node_mut(h).take_events().iter().any(|e| e.kind
        == EventKind::MldVersion {
            version: MldVersion::V1
        }));
    // RFC 2710 §4: one Report per group, sent to the group, within the delay.
    let answer = since(mld_msgs(&net, link, h), t1);
    let groups: BTreeSet<Ipv6Addr> = answer.iter().filter_map(|m| m.group).collect();
    assert_eq!(groups, BTreeSet::from([g, solicited_node(ll)]));
    assert_eq!(answer.len(), 2, "{answer:?}");
    for m in &answer {
        assert_eq!(m.kind, Message::MLD_REPORT, "MLDv1 Report, no MLDv2: {m:?}");
        assert_eq!(Some(m.dst), m.group, "RFC 2710 §3: to the group reported");
        assert_link_rules(m, ll);
        assert!(m.time <= t1 + LINK_DELAY + secs(1));
    }

    // Leaving: a Done to all-routers (we sent the last Report), no State-Change Report.
    let t2 = net.now();
    net.node_mut(h).leave_multicast(t2, sock, g, ETH0).unwrap();
    net.run_until(t2 + secs(5));
    let leave = since(mld_msgs(&net, link, h), t2);
    assert_eq!(leave.len(), 1, "{leave:?}");
    assert_eq!(leave[0].kind, Message::MLD_DONE);
    assert_eq!(leave[0].dst, ALL_ROUTERS);
    assert_eq!(leave[0].group, Some(g));
    assert_eq!(leave[0].time, t2);
    assert_link_rules(&leave[0], ll);

    // A join in MLDv1 mode: unsolicited MLDv1 Reports ([Robustness Variable] of them).
    let t3 = net.now();
    let g2 = ip("ff05::db8:2");
    join(&mut net, h, g2, 5002);
    net.run_until(t3 + secs(5));
    let joins = since(mld_msgs(&net, link, h), t3);
    assert_eq!(joins.len(), 2, "{joins:?}");
    for m in &joins {
        assert_eq!(
            (m.kind, m.dst, m.group),
            (Message::MLD_REPORT, g2, Some(g2))
        );
    }
}

#[test]
fn rfc3810_9_12_back_to_mldv2_after_older_version_querier_present_timeout() {
    let (mut net, link, ids) = settled(
        18,
        1,
        "rfc3810_9_12_back_to_mldv2_after_older_version_querier_present_timeout",
    );
    let h = ids[0];
    let ll = link_local(net.node(h), ETH0).unwrap();
    let t1 = net.now();
    let q = mld::Repr::QueryV1 {
        max_resp_delay: 1000,
        mcast_addr: Ipv6Addr::UNSPECIFIED,
    };
    net.inject(link, None, query_frame(QUERIER, ALL_NODES, q));
    net.run_until(t1 + secs(1));
    let mld_of = |net: &Network<Stack>| net.node(h).interface(ETH0).unwrap().mld.version();
    assert_eq!(mld_of(&net), MldVersion::V1);
    // RFC 3810 §9.12: Robustness (2) x Query Interval (125 s) + Query Response Interval
    // (10 s) = 260 s from the query.
    net.run_until(t1 + secs(259));
    assert_eq!(mld_of(&net), MldVersion::V1, "still V1 before 260 s");
    net.node_mut(h).take_events();
    net.run_until(t1 + secs(261));
    assert_eq!(mld_of(&net), MldVersion::V2, "V2 again after 260 s");
    let ev = net.node_mut(h).take_events();
    let back = ev
        .iter()
        .find(|e| {
            e.kind
                == EventKind::MldVersion {
                    version: MldVersion::V2,
                }
        })
        .expect("version event");
    assert_eq!(back.time, t1 + LINK_DELAY + secs(260));

    let t2 = net.now();
    let g = ip("ff05::db8:9");
    join(&mut net, h, g, 5009);
    net.run_until(t2 + secs(3));
    let msgs = since(mld_msgs(&net, link, h), t2);
    assert_eq!(msgs.len(), 2);
    for m in &msgs {
        assert_v2_report(m, ll);
        assert_eq!(m.records, vec![(record_type::CHANGE_TO_EXCLUDE, g, vec![])]);
    }
}

#[test]
fn rfc3810_6_1_leave_sends_to_in_empty_state_change_reports() {
    let (mut net, link, ids) = settled(
        19,
        1,
        "rfc3810_6_1_leave_sends_to_in_empty_state_change_reports",
    );
    let h = ids[0];
    let ll = link_local(net.node(h), ETH0).unwrap();
    let g = ip("ff0e::db8:77");
    let sock = join(&mut net, h, g, 5001);
    net.run_until(net.now() + secs(5));
    net.node_mut(h).take_events();

    let t1 = net.now();
    // Closing the socket is leaving the group.
    net.node_mut(h).close(t1, sock).unwrap();
    net.run_until(t1 + secs(10));
    let reports = since(mld_msgs(&net, link, h), t1);
    assert_eq!(reports.len(), 2, "[Robustness Variable] = 2: {reports:?}");
    for r in &reports {
        assert_v2_report(r, ll);
        assert_eq!(
            r.records,
            vec![(record_type::CHANGE_TO_INCLUDE, g, vec![])],
            "TO_IN {{}}"
        );
    }
    assert_eq!(reports[0].time, t1);
    assert!(reports[1].time > t1 && reports[1].time <= t1 + secs(1));
    assert!(!net.node(h).interface(ETH0).unwrap().mld.is_member(&g));
    assert!(
        net.node_mut(h)
            .take_events()
            .iter()
            .any(|e| e.kind == EventKind::MldLeft { group: g })
    );
}

#[test]
fn rfc3810_4_multicast_data_delivered_only_for_joined_groups() {
    let (mut net, link, ids) = settled(
        20,
        2,
        "rfc3810_4_multicast_data_delivered_only_for_joined_groups",
    );
    let (h1, h2) = (ids[0], ids[1]);
    let (joined, other) = (ip("ff05::db8:1"), ip("ff05::db8:2"));
    let rx = join(&mut net, h1, joined, 6000);
    net.run_until(net.now() + secs(3));

    let t = net.now();
    let dropped = net
        .node(h1)
        .stats()
        .drops_for("not a member of the multicast group");
    let s = net.node_mut(h2);
    let tx = s.udp_open().unwrap();
    s.send_to(t, tx, joined, 6000, None, b"to the group")
        .unwrap();
    s.send_to(t, tx, other, 6000, None, b"to another group")
        .unwrap();
    net.run_until(t + secs(1));

    let sent: Vec<Seen> = packets(&net, link)
        .into_iter()
        .filter(|p| p.time >= t && p.proto == IpProtocol::UDP)
        .collect();
    assert_eq!(sent.len(), 2, "both datagrams were on the wire");
    assert_eq!(sent[0].eth_dst, mcast_mac(&joined));
    let n1 = net.node_mut(h1);
    let d = n1.recv(rx).expect("the joined group's datagram");
    assert_eq!(d.payload, b"to the group");
    assert_eq!(d.dst, joined);
    assert_eq!(d.src, link_local(net.node(h2), ETH0).unwrap());
    let n1 = net.node_mut(h1);
    assert_eq!(
        n1.recv(rx),
        Err(sixstack_core::Error::WouldBlock),
        "nothing from the other group"
    );
    assert_eq!(
        n1.stats().drops_for("not a member of the multicast group"),
        dropped + 1
    );
    assert_eq!(n1.stats().udp.in_datagrams, 1);
    assert_eq!(n1.stats().udp.no_ports, 0);
}

#[test]
fn rfc3810_5_1_15_query_to_a_unicast_address_is_processed() {
    let (mut net, link, ids) = settled(
        21,
        1,
        "rfc3810_5_1_15_query_to_a_unicast_address_is_processed",
    );
    let h = ids[0];
    let ll = link_local(net.node(h), ETH0).unwrap();
    let g = ip("ff05::db8:1");
    join(&mut net, h, g, 5001);
    net.run_until(net.now() + secs(5));
    let t1 = net.now();
    // A General Query to the host's own unicast address, in a unicast frame.
    let msg = icmpv6_msg(
        QUERIER,
        ll,
        &icmpv6::Repr::Mld(query_v2(Ipv6Addr::UNSPECIFIED, 1000)),
    );
    let upper = options_header(IpProtocol::ICMPV6, &[Ipv6Option::RouterAlert(0)], &msg);
    let pkt = ipv6_packet(QUERIER, ll, IpProtocol::HOPOPTS, 1, &upper);
    net.inject(link, None, ethernet(QUERIER_MAC, mac(1), &pkt));
    net.run_until(t1 + secs(5));
    let answer = since(mld_msgs(&net, link, h), t1);
    assert_eq!(
        answer.len(),
        1,
        "RFC 3810 §5.1.15: MUST accept it: {answer:?}"
    );
    assert_v2_report(&answer[0], ll);
    let groups: BTreeSet<Ipv6Addr> = answer[0].records.iter().map(|r| r.1).collect();
    assert_eq!(groups, BTreeSet::from([g, solicited_node(ll)]));
}

#[test]
fn rfc2710_4_mldv1_report_suppression_but_none_in_mldv2() {
    let (mut net, link, ids) = settled(
        22,
        2,
        "rfc2710_4_mldv1_report_suppression_but_none_in_mldv2",
    );
    let (h1, h2) = (ids[0], ids[1]);
    let g = ip("ff05::db8:1");
    join(&mut net, h1, g, 5001);
    join(&mut net, h2, g, 5001);
    net.run_until(net.now() + secs(5));

    // MLDv2 (RFC 3810 §6): no suppression, each host answers for the shared group.
    let t1 = net.now();
    net.inject(
        link,
        None,
        query_frame(QUERIER, ALL_NODES, query_v2(Ipv6Addr::UNSPECIFIED, 5000)),
    );
    net.run_until(t1 + secs(6));
    for h in [h1, h2] {
        let a = since(mld_msgs(&net, link, h), t1);
        assert_eq!(a.len(), 1);
        assert!(a[0].records.iter().any(|r| r.1 == g));
    }

    // MLDv1 (RFC 2710 §4): a host that hears another's Report for the group keeps its
    // own, so the group is reported once; the solicited-node groups once each.
    let t2 = net.now();
    let q = mld::Repr::QueryV1 {
        max_resp_delay: 5000,
        mcast_addr: Ipv6Addr::UNSPECIFIED,
    };
    net.inject(link, None, query_frame(QUERIER, ALL_NODES, q));
    net.run_until(t2 + secs(6));
    let mut for_g = 0;
    for h in [h1, h2] {
        let ll = link_local(net.node(h), ETH0).unwrap();
        let a = since(mld_msgs(&net, link, h), t2);
        assert!(a.iter().all(|m| m.kind == Message::MLD_REPORT));
        assert_eq!(
            a.iter()
                .filter(|m| m.group == Some(solicited_node(ll)))
                .count(),
            1
        );
        for_g += a.iter().filter(|m| m.group == Some(g)).count();
    }
    assert_eq!(for_g, 1, "one Report for the shared group on the link");
}

#[test]
fn rfc3810_6_3_source_specific_query_answered_with_the_asked_sources() {
    let (mut net, link, ids) = settled(
        23,
        1,
        "rfc3810_6_3_source_specific_query_answered_with_the_asked_sources",
    );
    let h = ids[0];
    let ll = link_local(net.node(h), ETH0).unwrap();
    let g = ip("ff0e::db8:1");
    join(&mut net, h, g, 5001);
    net.run_until(net.now() + secs(5));
    let (s1, s2) = (ip("2001:db8::51"), ip("2001:db8::52"));
    let mut sources = s1.octets().to_vec();
    sources.extend_from_slice(&s2.octets());
    let t1 = net.now();
    let q = mld::Repr::QueryV2 {
        max_resp_code: 1000,
        mcast_addr: g,
        flags: 2,
        qqic: 125,
        sources: &sources,
    };
    net.inject(link, None, query_frame(QUERIER, g, q));
    net.run_until(t1 + secs(5));
    let a = since(mld_msgs(&net, link, h), t1);
    assert_eq!(a.len(), 1);
    assert_v2_report(&a[0], ll);
    // EXCLUDE {} passes every source: rule 3 answers IS_IN with all those asked.
    assert_eq!(
        a[0].records,
        vec![(record_type::MODE_IS_INCLUDE, g, vec![s1, s2])]
    );
}

#[test]
fn rfc3810_9_1_querier_robustness_variable_adopted() {
    let (mut net, link, ids) = settled(24, 1, "rfc3810_9_1_querier_robustness_variable_adopted");
    let h = ids[0];
    // A query with QRV 3 (RFC 3810 §5.1.8): the host's [Robustness Variable] becomes 3.
    let q = mld::Repr::QueryV2 {
        max_resp_code: 1000,
        mcast_addr: Ipv6Addr::UNSPECIFIED,
        flags: 3,
        qqic: 125,
        sources: &[],
    };
    net.inject(link, None, query_frame(QUERIER, ALL_NODES, q));
    net.run_until(net.now() + secs(5));
    assert_eq!(net.node(h).interface(ETH0).unwrap().mld.robustness(), 3);
    let t1 = net.now();
    let g = ip("ff05::db8:3");
    join(&mut net, h, g, 5003);
    net.run_until(t1 + secs(10));
    let r = since(mld_msgs(&net, link, h), t1);
    assert_eq!(
        r.len(),
        3,
        "the state change sent [Robustness Variable] times"
    );
    for m in &r {
        assert_eq!(m.records, vec![(record_type::CHANGE_TO_EXCLUDE, g, vec![])]);
    }
    assert!(
        r[2].time <= t1 + secs(2),
        "each repeat within 1 s of the last"
    );
}

#[test]
fn rfc3810_6_interface_local_groups_are_never_reported() {
    let (mut net, link, ids) =
        settled(25, 1, "rfc3810_6_interface_local_groups_are_never_reported");
    let h = ids[0];
    let t1 = net.now();
    let g = ip("ff01::db8:1");
    join(&mut net, h, g, 5001);
    net.run_until(t1 + secs(5));
    assert!(net.node(h).interface(ETH0).unwrap().mld.is_member(&g));
    assert!(
        since(mld_msgs(&net, link, h), t1).is_empty(),
        "scope 1 never leaves the node, so no report either"
    );
}
