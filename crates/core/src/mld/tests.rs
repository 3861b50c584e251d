use super::*;
use crate::rng::Rng;
use proptest::prelude::*;
use sixstack_wire::icmpv6;
use sixstack_wire::mld::{Repr, record_type as rt};

const T0: Instant = Instant::from_secs(100);
const ROUTER: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0xaa);
const OTHER_HOST: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0xbb);

fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

fn src(i: u16) -> Ipv6Addr {
    Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, i)
}

type Rec = (u8, Ipv6Addr, Vec<Ipv6Addr>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Msg {
    V2(Vec<Rec>),
    Report(Ipv6Addr),
    Done(Ipv6Addr),
}

/// Parses what the host emitted with the wire crate, checking the checksum is left at 0,
/// the size fits the MTU and the destination is the one RFC 3810 §5.2.14 names.
fn parse(dst: Ipv6Addr, m: &[u8], mtu: usize) -> Msg {
    let p = icmpv6::Packet::new_checked(m).unwrap();
    assert_eq!(p.checksum(), 0);
    assert!(m.len() <= mtu.max(1280) - 48, "{} bytes", m.len());
    match icmpv6::Repr::parse(&p).unwrap() {
        icmpv6::Repr::Mld(r @ Repr::ReportV2 { .. }) => {
            assert_eq!(dst, ALL_MLDV2_ROUTERS);
            let recs: Vec<Rec> = r
                .records()
                .map(|x| {
                    let x = x.unwrap();
                    assert_eq!(x.aux_data_len(), 0);
                    (x.record_type(), x.mcast_addr(), x.sources().collect())
                })
                .collect();
            assert!(!recs.is_empty());
            for (_, g, _) in &recs {
                assert!(reportable(g), "report for {g}");
            }
            Msg::V2(recs)
        }
        icmpv6::Repr::Mld(Repr::Report { mcast_addr }) => {
            assert_eq!(dst, mcast_addr);
            assert!(reportable(&mcast_addr));
            Msg::Report(mcast_addr)
        }
        icmpv6::Repr::Mld(Repr::Done { mcast_addr }) => {
            assert_eq!(dst, ALL_ROUTERS);
            assert!(reportable(&mcast_addr));
            Msg::Done(mcast_addr)
        }
        r => panic!("unexpected {r:?}"),
    }
}

fn sent(out: &[MldAction]) -> Vec<Msg> {
    out.iter()
        .filter_map(|x| match x {
            MldAction::Send { dst, message } => Some(parse(*dst, message, 1280)),
            _ => None,
        })
        .collect()
}

fn v2(recs: &[(u8, &str, &[Ipv6Addr])]) -> Msg {
    Msg::V2(
        recs.iter()
            .map(|(t, g, s)| (*t, a(g), s.to_vec()))
            .collect(),
    )
}

/// Polls at every instant the host asks for, up to `end`; what it sent, with when.
fn run(h: &mut MldHost, rng: &mut Rng, end: Instant) -> Vec<(Instant, Msg)> {
    let mut log = Vec::new();
    let mut rounds = 0;
    while let Some(t) = h.poll_at() {
        if t > end {
            break;
        }
        rounds += 1;
        assert!(rounds < 10_000, "poll loop");
        let mut out = Vec::new();
        h.poll(t, rng, &mut out);
        log.extend(sent(&out).into_iter().map(|m| (t, m)));
        assert!(h.poll_at().is_none_or(|n| n > t), "timer not advanced");
    }
    log
}

fn general_v2(mrd_ms: u16) -> Repr<'static> {
    Repr::QueryV2 {
        max_resp_code: mrd_ms,
        mcast_addr: Ipv6Addr::UNSPECIFIED,
        flags: 2,
        qqic: 125,
        sources: &[],
    }
}

fn specific_v2(group: Ipv6Addr, mrd_ms: u16, sources: &[u8]) -> Repr<'_> {
    Repr::QueryV2 {
        max_resp_code: mrd_ms,
        mcast_addr: group,
        flags: 2,
        qqic: 125,
        sources,
    }
}

fn bytes(srcs: &[Ipv6Addr]) -> Vec<u8> {
    srcs.iter().flat_map(|s| s.octets()).collect()
}

fn setup() -> (MldHost, Rng) {
    (MldHost::new(MldConfig::default()), Rng::new(7))
}

fn deliver(h: &mut MldHost, rng: &mut Rng, now: Instant, m: &Repr<'_>) -> Vec<MldAction> {
    let mut out = Vec::new();
    h.on_message(now, rng, ROUTER, ALL_NODES, m, &mut out);
    out
}

#[test]
fn rfc3810_6_1_join_sends_robustness_reports() {
    let (mut h, mut rng) = setup();
    let g = a("ff05::1:3");
    let mut out = Vec::new();
    h.join(T0, &mut rng, g, &mut out).unwrap();
    assert_eq!(out[0], MldAction::Joined(g));
    let first = v2(&[(rt::CHANGE_TO_EXCLUDE, "ff05::1:3", &[])]);
    assert_eq!(sent(&out), vec![first.clone()]);
    let later = run(&mut h, &mut rng, T0 + Duration::from_secs(60));
    // [Robustness Variable] = 2: one retransmission, within the Unsolicited Report Interval.
    assert_eq!(later.len(), 1);
    assert_eq!(later[0].1, first);
    assert!(later[0].0 > T0 && later[0].0 <= T0 + Duration::from_secs(1));
    assert_eq!(h.poll_at(), None);
    assert!(h.is_member(&g));
    assert!(h.accepts(&g, &src(1)));
}

#[test]
fn rfc3810_6_1_robustness_from_config_counts_reports() {
    let cfg = MldConfig {
        robustness: 4,
        ..MldConfig::default()
    };
    let mut h = MldHost::new(cfg);
    let mut rng = Rng::new(1);
    let mut out = Vec::new();
    h.join(T0, &mut rng, a("ff0e::99"), &mut out).unwrap();
    let later = run(&mut h, &mut rng, T0 + Duration::from_secs(60));
    assert_eq!(sent(&out).len() + later.len(), 4);
    for w in later.windows(2) {
        assert!(w[1].0 > w[0].0 && w[1].0 <= w[0].0 + Duration::from_secs(1));
    }
}

#[test]
fn rfc3810_6_1_leave_sends_to_in_empty() {
    let (mut h, mut rng) = setup();
    let g = a("ff05::1:3");
    let mut out = Vec::new();
    h.join(T0, &mut rng, g, &mut out).unwrap();
    h.join(T0, &mut rng, g, &mut out).unwrap();
    run(&mut h, &mut rng, T0 + Duration::from_secs(5));
    let t = T0 + Duration::from_secs(10);
    let mut out = Vec::new();
    // Reference-counted: the first leave keeps listening and sends nothing.
    h.leave(t, &mut rng, g, &mut out);
    assert!(out.is_empty());
    assert!(h.is_member(&g));
    h.leave(t, &mut rng, g, &mut out);
    assert_eq!(out[0], MldAction::Left(g));
    let leave = v2(&[(rt::CHANGE_TO_INCLUDE, "ff05::1:3", &[])]);
    assert_eq!(sent(&out), vec![leave.clone()]);
    assert!(!h.is_member(&g));
    assert!(!h.accepts(&g, &src(1)));
    let later = run(&mut h, &mut rng, t + Duration::from_secs(60));
    assert_eq!(later.into_iter().map(|x| x.1).collect::<Vec<_>>(), [leave]);
    assert!(h.groups.is_empty(), "entry kept after its retransmissions");
    // A further leave is a no-op.
    let mut out = Vec::new();
    h.leave(t, &mut rng, g, &mut out);
    assert!(out.is_empty());
}

#[test]
fn rfc3810_6_1_filter_mode_change_merged_into_pending_report() {
    let (mut h, mut rng) = setup();
    let g = a("ff05::2");
    let mut out = Vec::new();
    h.join(T0, &mut rng, g, &mut out).unwrap();
    let t = T0 + Duration::from_micros(10);
    let mut out = Vec::new();
    h.leave(t, &mut rng, g, &mut out);
    // The leave goes out at once; the pending TO_EX is not repeated after it.
    let leave = v2(&[(rt::CHANGE_TO_INCLUDE, "ff05::2", &[])]);
    assert_eq!(sent(&out), vec![leave.clone()]);
    let later: Vec<Msg> = run(&mut h, &mut rng, t + Duration::from_secs(60))
        .into_iter()
        .map(|x| x.1)
        .collect();
    assert_eq!(later, vec![leave]);
}

#[test]
fn rfc3810_6_1_source_retransmission_state_merged() {
    let (mut h, mut rng) = setup();
    let g = a("ff05::3");
    let (s1, s2) = (src(1), src(2));
    let mut out = Vec::new();
    // INCLUDE {} -> INCLUDE {s1}: ALLOW (s1), no filter-mode change.
    h.set_filter(T0, &mut rng, 1, g, FilterMode::Include, &[s1], &mut out)
        .unwrap();
    assert_eq!(
        sent(&out),
        vec![v2(&[(rt::ALLOW_NEW_SOURCES, "ff05::3", &[s1])])]
    );
    let mut out = Vec::new();
    h.set_filter(T0, &mut rng, 1, g, FilterMode::Include, &[s1, s2], &mut out)
        .unwrap();
    // s1 still has one transmission owed, s2 two: merged into one report now.
    assert_eq!(
        sent(&out),
        vec![v2(&[(rt::ALLOW_NEW_SOURCES, "ff05::3", &[s1, s2])])]
    );
    let later: Vec<Msg> = run(&mut h, &mut rng, T0 + Duration::from_secs(60))
        .into_iter()
        .map(|x| x.1)
        .collect();
    assert_eq!(
        later,
        vec![v2(&[(rt::ALLOW_NEW_SOURCES, "ff05::3", &[s2])])]
    );
}

#[test]
fn rfc3810_6_1_include_to_include_allow_and_block() {
    let (mut h, mut rng) = setup();
    let g = a("ff05::3");
    let mut out = Vec::new();
    h.set_filter(
        T0,
        &mut rng,
        1,
        g,
        FilterMode::Include,
        &[src(1), src(2)],
        &mut out,
    )
    .unwrap();
    run(&mut h, &mut rng, T0 + Duration::from_secs(5));
    let t = T0 + Duration::from_secs(10);
    let mut out = Vec::new();
    h.set_filter(
        t,
        &mut rng,
        1,
        g,
        FilterMode::Include,
        &[src(2), src(3)],
        &mut out,
    )
    .unwrap();
    let change = v2(&[
        (rt::ALLOW_NEW_SOURCES, "ff05::3", &[src(3)]),
        (rt::BLOCK_OLD_SOURCES, "ff05::3", &[src(1)]),
    ]);
    assert_eq!(sent(&out), vec![change.clone()]);
    let later = run(&mut h, &mut rng, t + Duration::from_secs(60));
    assert_eq!(later.len(), 1);
    assert_eq!(later[0].1, change);
    // EXCLUDE (A) -> EXCLUDE (B): ALLOW (A-B), BLOCK (B-A).
    let t = t + Duration::from_secs(100);
    let mut out = Vec::new();
    h.set_filter(t, &mut rng, 1, g, FilterMode::Exclude, &[src(5)], &mut out)
        .unwrap();
    assert_eq!(
        sent(&out),
        vec![v2(&[(rt::CHANGE_TO_EXCLUDE, "ff05::3", &[src(5)])])]
    );
    run(&mut h, &mut rng, t + Duration::from_secs(60));
    let t = t + Duration::from_secs(100);
    let mut out = Vec::new();
    h.set_filter(t, &mut rng, 1, g, FilterMode::Exclude, &[src(6)], &mut out)
        .unwrap();
    assert_eq!(
        sent(&out),
        vec![v2(&[
            (rt::ALLOW_NEW_SOURCES, "ff05::3", &[src(5)]),
            (rt::BLOCK_OLD_SOURCES, "ff05::3", &[src(6)]),
        ])]
    );
}

#[test]
fn rfc3810_4_2_socket_filters_merged() {
    let (mut h, mut rng) = setup();
    let g = a("ff0e::1:2");
    let mut out = Vec::new();
    h.set_filter(
        T0,
        &mut rng,
        1,
        g,
        FilterMode::Include,
        &[src(1), src(2)],
        &mut out,
    )
    .unwrap();
    h.set_filter(
        T0,
        &mut rng,
        2,
        g,
        FilterMode::Exclude,
        &[src(2), src(3)],
        &mut out,
    )
    .unwrap();
    // EXCLUDE ({2,3}) minus INCLUDE ({1,2}) = EXCLUDE {3}.
    assert_eq!(
        h.groups().collect::<Vec<_>>(),
        vec![(g, FilterMode::Exclude, vec![src(3)])]
    );
    assert!(h.accepts(&g, &src(1)) && h.accepts(&g, &src(2)) && h.accepts(&g, &src(9)));
    assert!(!h.accepts(&g, &src(3)));
    h.set_filter(T0, &mut rng, 3, g, FilterMode::Exclude, &[src(4)], &mut out)
        .unwrap();
    // Intersection of the EXCLUDE lists is empty.
    assert_eq!(
        h.groups().collect::<Vec<_>>(),
        vec![(g, FilterMode::Exclude, vec![])]
    );
    let mut out = Vec::new();
    h.set_filter(T0, &mut rng, 2, g, FilterMode::Include, &[], &mut out)
        .unwrap();
    h.set_filter(T0, &mut rng, 3, g, FilterMode::Include, &[], &mut out)
        .unwrap();
    assert_eq!(
        h.groups().collect::<Vec<_>>(),
        vec![(g, FilterMode::Include, vec![src(1), src(2)])]
    );
    // EXCLUDE -> INCLUDE is a filter-mode change: TO_IN with the new list.
    assert_eq!(
        sent(&out).last(),
        Some(&v2(&[(
            rt::CHANGE_TO_INCLUDE,
            "ff0e::1:2",
            &[src(1), src(2)]
        )]))
    );
    assert!(h.accepts(&g, &src(1)) && !h.accepts(&g, &src(3)));
}

#[test]
fn rfc3810_6_2_general_query_answered_once_within_max_delay() {
    let (mut h, mut rng) = setup();
    let mut out = Vec::new();
    h.join(T0, &mut rng, a("ff05::1"), &mut out).unwrap();
    h.set_filter(
        T0,
        &mut rng,
        9,
        a("ff05::2"),
        FilterMode::Include,
        &[src(1)],
        &mut out,
    )
    .unwrap();
    run(&mut h, &mut rng, T0 + Duration::from_secs(5));
    let t = T0 + Duration::from_secs(10);
    // Not on reception (RFC 3810 §6.3: no ack implosion).
    assert!(sent(&deliver(&mut h, &mut rng, t, &general_v2(2000))).is_empty());
    let t2 = t + Duration::from_millis(1);
    assert!(sent(&deliver(&mut h, &mut rng, t2, &general_v2(2000))).is_empty());
    assert!(h.poll_at().unwrap() <= t2 + Duration::from_secs(2));
    let log = run(&mut h, &mut rng, t + Duration::from_secs(60));
    assert_eq!(log.len(), 1, "{log:?}");
    assert!(log[0].0 <= t2 + Duration::from_secs(2));
    assert_eq!(
        log[0].1,
        v2(&[
            (rt::MODE_IS_EXCLUDE, "ff05::1", &[]),
            (rt::MODE_IS_INCLUDE, "ff05::2", &[src(1)]),
        ])
    );
}

#[test]
fn rfc3810_6_2_rule1_pending_general_answer_covers_specific() {
    let (mut h, mut rng) = setup();
    let mut out = Vec::new();
    h.join(T0, &mut rng, a("ff05::1"), &mut out).unwrap();
    run(&mut h, &mut rng, T0 + Duration::from_secs(5));
    let t = T0 + Duration::from_secs(10);
    deliver(&mut h, &mut rng, t, &general_v2(1));
    let due = h.general_at.unwrap();
    deliver(&mut h, &mut rng, t, &specific_v2(a("ff05::1"), 20_000, &[]));
    assert_eq!(h.groups[&a("ff05::1")].query_at, None);
    let log = run(&mut h, &mut rng, t + Duration::from_secs(60));
    assert_eq!(
        log,
        vec![(due, v2(&[(rt::MODE_IS_EXCLUDE, "ff05::1", &[])]))]
    );
}

#[test]
fn rfc3810_6_3_source_specific_query_answered_with_asked_sources() {
    let (mut h, mut rng) = setup();
    let (gi, ge) = (a("ff05::10"), a("ff05::20"));
    let mut out = Vec::new();
    h.set_filter(
        T0,
        &mut rng,
        1,
        gi,
        FilterMode::Include,
        &[src(1), src(2), src(3)],
        &mut out,
    )
    .unwrap();
    h.set_filter(
        T0,
        &mut rng,
        1,
        ge,
        FilterMode::Exclude,
        &[src(1)],
        &mut out,
    )
    .unwrap();
    run(&mut h, &mut rng, T0 + Duration::from_secs(5));
    let t = T0 + Duration::from_secs(10);
    // INCLUDE (A), asked B: IS_IN (A*B).
    let asked = bytes(&[src(2), src(4)]);
    deliver(&mut h, &mut rng, t, &specific_v2(gi, 1000, &asked));
    // EXCLUDE (A), asked B: IS_IN (B-A).
    let asked = bytes(&[src(1), src(5)]);
    deliver(&mut h, &mut rng, t, &specific_v2(ge, 1000, &asked));
    let mut log: Vec<Msg> = run(&mut h, &mut rng, t + Duration::from_secs(60))
        .into_iter()
        .map(|x| x.1)
        .collect();
    // The two timers may fire together (one report) or apart (two).
    let recs: Vec<Rec> = log
        .drain(..)
        .flat_map(|m| match m {
            Msg::V2(r) => r,
            m => panic!("{m:?}"),
        })
        .collect();
    assert_eq!(
        recs,
        vec![
            (rt::MODE_IS_INCLUDE, gi, vec![src(2)]),
            (rt::MODE_IS_INCLUDE, ge, vec![src(5)]),
        ]
    );
    // Asked only about excluded sources: no answer at all.
    let t = t + Duration::from_secs(100);
    let asked = bytes(&[src(1)]);
    deliver(&mut h, &mut rng, t, &specific_v2(ge, 1000, &asked));
    assert!(run(&mut h, &mut rng, t + Duration::from_secs(60)).is_empty());
    assert!(h.groups[&ge].query_sources.is_empty());
}

#[test]
fn rfc3810_6_2_rules_4_and_5_pending_source_lists() {
    let (mut h, mut rng) = setup();
    let g = a("ff05::10");
    let mut out = Vec::new();
    h.set_filter(
        T0,
        &mut rng,
        1,
        g,
        FilterMode::Include,
        &[src(1), src(2), src(3)],
        &mut out,
    )
    .unwrap();
    run(&mut h, &mut rng, T0 + Duration::from_secs(5));
    let t = T0 + Duration::from_secs(10);
    // Rule 5: sources are added to the pending list, one answer.
    deliver(
        &mut h,
        &mut rng,
        t,
        &specific_v2(g, 5000, &bytes(&[src(1)])),
    );
    deliver(
        &mut h,
        &mut rng,
        t,
        &specific_v2(g, 5000, &bytes(&[src(2)])),
    );
    let log = run(&mut h, &mut rng, t + Duration::from_secs(60));
    assert_eq!(log.len(), 1);
    assert_eq!(
        log[0].1,
        v2(&[(rt::MODE_IS_INCLUDE, "ff05::10", &[src(1), src(2)])])
    );
    // Rule 4: a Multicast Address Specific Query clears the list: the whole state.
    let t = t + Duration::from_secs(100);
    deliver(
        &mut h,
        &mut rng,
        t,
        &specific_v2(g, 5000, &bytes(&[src(1)])),
    );
    deliver(&mut h, &mut rng, t, &specific_v2(g, 5000, &[]));
    let log = run(&mut h, &mut rng, t + Duration::from_secs(60));
    assert_eq!(log.len(), 1);
    assert_eq!(
        log[0].1,
        v2(&[(rt::MODE_IS_INCLUDE, "ff05::10", &[src(1), src(2), src(3)])])
    );
}

#[test]
fn rfc3810_6_2_query_without_listening_state_ignored() {
    let (mut h, mut rng) = setup();
    deliver(&mut h, &mut rng, T0, &general_v2(1000));
    deliver(&mut h, &mut rng, T0, &specific_v2(a("ff05::1"), 1000, &[]));
    assert_eq!(h.poll_at(), None);
    // A general query with sources, or a query for a unicast address, is not valid.
    let mut out = Vec::new();
    h.join(T0, &mut rng, a("ff05::1"), &mut out).unwrap();
    run(&mut h, &mut rng, T0 + Duration::from_secs(5));
    let srcs = bytes(&[src(1)]);
    deliver(
        &mut h,
        &mut rng,
        T0,
        &specific_v2(Ipv6Addr::UNSPECIFIED, 1000, &srcs),
    );
    deliver(&mut h, &mut rng, T0, &specific_v2(src(1), 1000, &[]));
    assert_eq!(h.poll_at(), None);
}

#[test]
fn rfc3810_8_2_v1_querier_switches_to_v1_reports() {
    let (mut h, mut rng) = setup();
    let (g1, g2) = (a("ff05::1"), a("ff05::2"));
    let mut out = Vec::new();
    h.join(T0, &mut rng, g1, &mut out).unwrap();
    // A v1 General Query while a v2 retransmission is pending.
    let q = Repr::QueryV1 {
        max_resp_delay: 1000,
        mcast_addr: Ipv6Addr::UNSPECIFIED,
    };
    let out = deliver(&mut h, &mut rng, T0, &q);
    assert_eq!(out, vec![MldAction::VersionChanged(MldVersion::V1)]);
    assert_eq!(h.version(), MldVersion::V1);
    let log = run(&mut h, &mut rng, T0 + Duration::from_secs(5));
    // The v2 retransmission was cancelled (RFC 3810 §8.2.1); one v1 Report answers.
    assert_eq!(log.len(), 1);
    assert!(log[0].0 <= T0 + Duration::from_secs(1));
    assert_eq!(log[0].1, Msg::Report(g1));
    // Joins and leaves now use RFC 2710 messages.
    let t = T0 + Duration::from_secs(10);
    let mut out = Vec::new();
    h.join(t, &mut rng, g2, &mut out).unwrap();
    assert_eq!(sent(&out), vec![Msg::Report(g2)]);
    let log = run(&mut h, &mut rng, t + Duration::from_secs(5));
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].1, Msg::Report(g2));
    let mut out = Vec::new();
    h.leave(t, &mut rng, g1, &mut out);
    assert_eq!(sent(&out), vec![Msg::Done(g1)]);
    // Older Version Querier Present Timeout: 2 * 125 s + 10 s after the query.
    let back = T0 + Duration::from_secs(260);
    assert_eq!(h.poll_at(), Some(back));
    let mut out = Vec::new();
    h.poll(back - Duration::from_micros(1), &mut rng, &mut out);
    assert!(out.is_empty());
    h.poll(back, &mut rng, &mut out);
    assert_eq!(out, vec![MldAction::VersionChanged(MldVersion::V2)]);
    let mut out = Vec::new();
    h.join(back, &mut rng, a("ff05::3"), &mut out).unwrap();
    assert_eq!(
        sent(&out),
        vec![v2(&[(rt::CHANGE_TO_EXCLUDE, "ff05::3", &[])])]
    );
}

#[test]
fn rfc3810_9_12_timeout_uses_last_query_qrv_and_qqi() {
    let (mut h, mut rng) = setup();
    let q2 = Repr::QueryV2 {
        max_resp_code: 1000,
        mcast_addr: Ipv6Addr::UNSPECIFIED,
        flags: 3,
        qqic: 60,
        sources: &[],
    };
    deliver(&mut h, &mut rng, T0, &q2);
    assert_eq!(h.robustness(), 3);
    let q1 = Repr::QueryV1 {
        max_resp_delay: 1000,
        mcast_addr: Ipv6Addr::UNSPECIFIED,
    };
    deliver(&mut h, &mut rng, T0, &q1);
    assert_eq!(h.poll_at(), Some(T0 + Duration::from_secs(3 * 60 + 10)));
    // Every v1 query pushes it back.
    let t = T0 + Duration::from_secs(100);
    deliver(&mut h, &mut rng, t, &q1);
    assert_eq!(h.poll_at(), Some(t + Duration::from_secs(190)));
}

#[test]
fn rfc3810_8_2_forced_v2_ignores_v1_queries() {
    let cfg = MldConfig {
        force_version: Some(MldVersion::V2),
        ..MldConfig::default()
    };
    let mut h = MldHost::new(cfg);
    let mut rng = Rng::new(3);
    let mut out = Vec::new();
    h.join(T0, &mut rng, a("ff05::1"), &mut out).unwrap();
    run(&mut h, &mut rng, T0 + Duration::from_secs(5));
    let q1 = Repr::QueryV1 {
        max_resp_delay: 1000,
        mcast_addr: Ipv6Addr::UNSPECIFIED,
    };
    assert!(deliver(&mut h, &mut rng, T0, &q1).is_empty());
    assert_eq!(h.version(), MldVersion::V2);
    assert_eq!(h.poll_at(), None);
}

fn v1_host(cfg: MldConfig) -> (MldHost, Rng) {
    let mut h = MldHost::new(MldConfig {
        force_version: Some(MldVersion::V1),
        ..cfg
    });
    let mut rng = Rng::new(11);
    let mut out = Vec::new();
    h.join(T0, &mut rng, a("ff05::1"), &mut out).unwrap();
    assert_eq!(sent(&out), vec![Msg::Report(a("ff05::1"))]);
    run(&mut h, &mut rng, T0 + Duration::from_secs(5));
    (h, rng)
}

#[test]
fn rfc2710_4_v1_report_suppressed_by_other_host() {
    let (mut h, mut rng) = v1_host(MldConfig::default());
    let g = a("ff05::1");
    let t = T0 + Duration::from_secs(10);
    let q = Repr::QueryV1 {
        max_resp_delay: 10_000,
        mcast_addr: g,
    };
    deliver(&mut h, &mut rng, t, &q);
    assert!(h.poll_at().is_some());
    let mut out = Vec::new();
    h.on_message(
        t,
        &mut rng,
        OTHER_HOST,
        g,
        &Repr::Report { mcast_addr: g },
        &mut out,
    );
    assert!(out.is_empty());
    assert!(run(&mut h, &mut rng, t + Duration::from_secs(60)).is_empty());
    // Our last report was suppressed: no Done (RFC 2710 §4, the default).
    let mut out = Vec::new();
    h.leave(t, &mut rng, g, &mut out);
    assert_eq!(out, vec![MldAction::Left(g)]);

    // With the optimisation off the Done is sent.
    let (mut h, mut rng) = v1_host(MldConfig {
        v1_done_only_if_last_reporter: false,
        ..MldConfig::default()
    });
    deliver(&mut h, &mut rng, t, &q);
    let mut out = Vec::new();
    h.on_message(
        t,
        &mut rng,
        OTHER_HOST,
        g,
        &Repr::Report { mcast_addr: g },
        &mut out,
    );
    h.leave(t, &mut rng, g, &mut out);
    assert_eq!(sent(&out), vec![Msg::Done(g)]);
}

#[test]
fn rfc2710_4_v1_timer_restarted_only_when_sooner() {
    let (mut h, mut rng) = v1_host(MldConfig::default());
    let g = a("ff05::1");
    let t = T0 + Duration::from_secs(10);
    let q = |ms| Repr::QueryV1 {
        max_resp_delay: ms,
        mcast_addr: Ipv6Addr::UNSPECIFIED,
    };
    deliver(&mut h, &mut rng, t, &q(10_000));
    let due = h.groups[&g].v1_at.unwrap();
    assert!(due <= t + Duration::from_secs(10));
    deliver(&mut h, &mut rng, t, &q(10_000));
    assert_eq!(h.groups[&g].v1_at, Some(due));
    // A zero Maximum Response Delay asks for an answer now.
    deliver(&mut h, &mut rng, t, &q(0));
    assert_eq!(h.groups[&g].v1_at, Some(t));
    let log = run(&mut h, &mut rng, t + Duration::from_secs(60));
    assert_eq!(log, vec![(t, Msg::Report(g))]);
    // A v2 query is answered the MLDv1 way when forced to v1.
    let t = t + Duration::from_secs(100);
    deliver(
        &mut h,
        &mut rng,
        t,
        &specific_v2(g, 1000, &bytes(&[src(1)])),
    );
    let log = run(&mut h, &mut rng, t + Duration::from_secs(60));
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].1, Msg::Report(g));
}

#[test]
fn rfc3810_6_no_report_for_all_nodes() {
    for version in [MldVersion::V1, MldVersion::V2] {
        let mut h = MldHost::new(MldConfig {
            force_version: Some(version),
            ..MldConfig::default()
        });
        let mut rng = Rng::new(5);
        let quiet = [
            ALL_NODES,
            a("ff01::1:3"),  // interface-local
            a("ff00::1234"), // scope 0
            a("ff31::7"),    // flags set, interface-local
        ];
        let mut out = Vec::new();
        for g in quiet {
            h.join(T0, &mut rng, g, &mut out).unwrap();
            h.set_filter(T0, &mut rng, 1, g, FilterMode::Include, &[src(1)], &mut out)
                .unwrap();
        }
        assert!(sent(&out).is_empty(), "{out:?}");
        assert!(quiet.iter().all(|g| h.is_member(g)));
        deliver(&mut h, &mut rng, T0, &general_v2(1000));
        deliver(
            &mut h,
            &mut rng,
            T0,
            &Repr::QueryV1 {
                max_resp_delay: 0,
                mcast_addr: ALL_NODES,
            },
        );
        deliver(&mut h, &mut rng, T0, &specific_v2(ALL_NODES, 0, &[]));
        let mut out = Vec::new();
        h.link_up(T0, &mut rng, &mut out);
        for g in quiet {
            h.leave(T0, &mut rng, g, &mut out);
        }
        assert!(sent(&out).is_empty(), "{out:?}");
        assert!(run(&mut h, &mut rng, T0 + Duration::from_secs(600)).is_empty());
        // ff02::1 is listened to without any join.
        assert!(h.is_member(&ALL_NODES) && h.accepts(&ALL_NODES, &src(9)));
    }
}

#[test]
fn rfc3810_5_2_report_split_at_mtu() {
    let cfg = MldConfig {
        max_sources_per_group: 100,
        ..MldConfig::default()
    };
    let mut h = MldHost::new(cfg);
    let mut rng = Rng::new(9);
    let many: Vec<Ipv6Addr> = (1..=100).map(src).collect();
    let mut out = Vec::new();
    h.set_filter(
        T0,
        &mut rng,
        1,
        a("ff05::1"),
        FilterMode::Include,
        &many,
        &mut out,
    )
    .unwrap();
    // ALLOW with 100 sources: (1280 - 48 - 8 - 20) / 16 = 75 fit; split in two reports.
    let msgs = sent(&out);
    assert_eq!(msgs.len(), 2);
    let mut got = Vec::new();
    for m in msgs {
        let Msg::V2(recs) = m else { panic!() };
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].0, rt::ALLOW_NEW_SOURCES);
        got.extend(recs[0].2.iter().copied());
    }
    assert_eq!(got, many);
    // TO_EX is never split: as many sources as fit, the rest left out (§5.2.15).
    let mut out = Vec::new();
    h.set_filter(
        T0,
        &mut rng,
        1,
        a("ff05::2"),
        FilterMode::Exclude,
        &many,
        &mut out,
    )
    .unwrap();
    let msgs = sent(&out);
    assert_eq!(msgs.len(), 1);
    let Msg::V2(recs) = &msgs[0] else { panic!() };
    assert_eq!(recs[0].0, rt::CHANGE_TO_EXCLUDE);
    assert_eq!(recs[0].2, many[..75].to_vec());
    // Many groups: records are packed as far as they fit, then a second report.
    let mut h = MldHost::new(MldConfig::default());
    let mut out = Vec::new();
    for i in 0..70 {
        h.join(
            T0,
            &mut rng,
            Ipv6Addr::new(0xff0e, 0, 0, 0, 0, 0, 1, i),
            &mut out,
        )
        .unwrap();
    }
    run(&mut h, &mut rng, T0 + Duration::from_secs(5));
    let t = T0 + Duration::from_secs(10);
    deliver(&mut h, &mut rng, t, &general_v2(1000));
    let log = run(&mut h, &mut rng, t + Duration::from_secs(5));
    let counts: Vec<usize> = log
        .iter()
        .map(|(_, m)| match m {
            Msg::V2(r) => r.len(),
            m => panic!("{m:?}"),
        })
        .collect();
    // (1232 - 8) / 20 = 61 records per report.
    assert_eq!(counts, vec![61, 9]);
}

#[test]
fn rfc3810_6_1_link_up_reports_every_group() {
    let (mut h, mut rng) = setup();
    let mut out = Vec::new();
    h.join(T0, &mut rng, a("ff05::1"), &mut out).unwrap();
    h.set_filter(
        T0,
        &mut rng,
        1,
        a("ff05::2"),
        FilterMode::Include,
        &[src(1)],
        &mut out,
    )
    .unwrap();
    h.link_down();
    assert_eq!(h.poll_at(), None);
    let mut out = Vec::new();
    h.join(T0, &mut rng, a("ff05::3"), &mut out).unwrap();
    // Down: the state changes and the event is given, nothing is sent.
    assert_eq!(out, vec![MldAction::Joined(a("ff05::3"))]);
    deliver(&mut h, &mut rng, T0, &general_v2(1000));
    assert_eq!(h.poll_at(), None);
    let t = T0 + Duration::from_secs(10);
    let mut out = Vec::new();
    h.link_up(t, &mut rng, &mut out);
    let all = v2(&[
        (rt::CHANGE_TO_EXCLUDE, "ff05::1", &[]),
        (rt::ALLOW_NEW_SOURCES, "ff05::2", &[src(1)]),
        (rt::CHANGE_TO_EXCLUDE, "ff05::3", &[]),
    ]);
    assert_eq!(sent(&out), vec![all.clone()]);
    let log = run(&mut h, &mut rng, t + Duration::from_secs(60));
    let recs: Vec<Rec> = log
        .into_iter()
        .flat_map(|(_, m)| match m {
            Msg::V2(r) => r,
            m => panic!("{m:?}"),
        })
        .collect();
    assert_eq!(Msg::V2(recs), all);
}

#[test]
fn limits_refuse_groups_sources_and_filters() {
    let cfg = MldConfig {
        max_groups: 2,
        max_sources_per_group: 2,
        max_filters: 2,
        ..MldConfig::default()
    };
    let mut h = MldHost::new(cfg);
    let mut rng = Rng::new(2);
    let mut out = Vec::new();
    h.join(T0, &mut rng, a("ff05::1"), &mut out).unwrap();
    h.join(T0, &mut rng, a("ff05::2"), &mut out).unwrap();
    assert!(h.join(T0, &mut rng, a("ff05::3"), &mut out).is_err());
    assert!(!h.is_member(&a("ff05::3")));
    assert!(h.join(T0, &mut rng, src(1), &mut out).is_err());
    let g = a("ff05::1");
    assert!(
        h.set_filter(
            T0,
            &mut rng,
            1,
            g,
            FilterMode::Include,
            &[src(1), src(2), src(3)],
            &mut out
        )
        .is_err()
    );
    h.set_filter(
        T0,
        &mut rng,
        1,
        g,
        FilterMode::Include,
        &[src(1), src(2)],
        &mut out,
    )
    .unwrap();
    // The joins make the group EXCLUDE {}, but the INCLUDE union alone would be too long
    // once the joins are gone.
    assert!(
        h.set_filter(T0, &mut rng, 2, g, FilterMode::Include, &[src(3)], &mut out)
            .is_err()
    );
    h.set_filter(T0, &mut rng, 2, g, FilterMode::Include, &[src(2)], &mut out)
        .unwrap();
    assert!(
        h.set_filter(T0, &mut rng, 3, g, FilterMode::Include, &[src(4)], &mut out)
            .is_err(),
        "max_filters"
    );
    h.leave(T0, &mut rng, g, &mut out);
    assert_eq!(
        h.groups().find(|x| x.0 == g),
        Some((g, FilterMode::Include, vec![src(1), src(2)]))
    );
}

#[test]
fn clock_jump_sends_one_round() {
    let (mut h, mut rng) = setup();
    let mut out = Vec::new();
    for i in 0..50 {
        h.join(
            T0,
            &mut rng,
            Ipv6Addr::new(0xff05, 0, 0, 0, 0, 0, 0, i + 1),
            &mut out,
        )
        .unwrap();
    }
    deliver(&mut h, &mut rng, T0, &general_v2(10_000));
    let q = Repr::QueryV1 {
        max_resp_delay: 1,
        mcast_addr: Ipv6Addr::UNSPECIFIED,
    };
    let far = T0 + Duration::from_secs(10 * 3600);
    let mut out = Vec::new();
    h.poll(far, &mut rng, &mut out);
    // One current-state report and one retransmission of the 50 joins.
    assert_eq!(sent(&out).len(), 2);
    assert_eq!(h.poll_at(), None);
    let mut out = Vec::new();
    h.poll(far, &mut rng, &mut out);
    assert!(out.is_empty());
    // In v1 mode too.
    deliver(&mut h, &mut rng, far, &q);
    let later = far + Duration::from_secs(100_000);
    let mut out = Vec::new();
    h.poll(later, &mut rng, &mut out);
    assert_eq!(
        out.iter()
            .filter(|x| matches!(x, MldAction::Send { .. }))
            .count(),
        0,
        "v1 timers are cancelled when the querier times out first"
    );
    assert_eq!(h.version(), MldVersion::V2);
    assert_eq!(h.poll_at(), None);
}

#[derive(Debug, Clone)]
enum Op {
    Join(u8),
    Leave(u8),
    Filter(u8, u8, bool, Vec<u8>),
    QueryV1(u16, u8),
    QueryV2(u16, u8, u8, u8, Vec<u8>),
    ReportV1(u8),
    Done(u8),
    Advance(u64),
    Poll,
    LinkDown,
    LinkUp,
}

const GROUPS: [&str; 8] = [
    "::",
    "ff02::1",
    "ff01::1",
    "ff05::1",
    "ff0e::1234",
    "ff02::1:ff00:1",
    "ff05::2",
    "2001:db8::1",
];

fn op() -> impl Strategy<Value = Op> {
    let g = 0u8..8;
    let srcs = proptest::collection::vec(0u8..8, 0..6);
    prop_oneof![
        g.clone().prop_map(Op::Join),
        g.clone().prop_map(Op::Leave),
        (0u8..4, g.clone(), any::<bool>(), srcs.clone())
            .prop_map(|(o, g, e, s)| Op::Filter(o, g, e, s)),
        (any::<u16>(), g.clone()).prop_map(|(d, g)| Op::QueryV1(d, g)),
        (any::<u16>(), g.clone(), any::<u8>(), any::<u8>(), srcs)
            .prop_map(|(c, g, f, q, s)| Op::QueryV2(c, g, f, q, s)),
        g.clone().prop_map(Op::ReportV1),
        g.prop_map(Op::Done),
        prop_oneof![0u64..2_000_000, 0u64..40_000_000_000].prop_map(Op::Advance),
        Just(Op::Poll),
        Just(Op::LinkDown),
        Just(Op::LinkUp),
    ]
}

proptest! {
    #[test]
    fn arbitrary_sequences_hold_bounds(
        ops in proptest::collection::vec(op(), 0..80),
        robustness in 0u8..9,
        force in 0u8..3,
        mtu in 0usize..3000,
        seed: u64,
    ) {
        let cfg = MldConfig {
            robustness,
            force_version: [None, Some(MldVersion::V1), Some(MldVersion::V2)][usize::from(force)],
            mtu,
            max_groups: 3,
            max_sources_per_group: 4,
            max_filters: 5,
            ..MldConfig::default()
        };
        let mut h = MldHost::new(cfg.clone());
        let mut rng = Rng::new(seed);
        let mut now = T0;
        let sources: Vec<Ipv6Addr> = (0..8).map(|i| src(i + 1)).collect();
        for op in ops {
            let mut out = Vec::new();
            let ga = |i: u8| a(GROUPS[usize::from(i)]);
            match op {
                Op::Join(g) => { let _ = h.join(now, &mut rng, ga(g), &mut out); }
                Op::Leave(g) => h.leave(now, &mut rng, ga(g), &mut out),
                Op::Filter(o, g, e, s) => {
                    let s: Vec<Ipv6Addr> = s.iter().map(|i| sources[usize::from(*i)]).collect();
                    let mode = if e { FilterMode::Exclude } else { FilterMode::Include };
                    let _ = h.set_filter(now, &mut rng, u32::from(o), ga(g), mode, &s, &mut out);
                }
                Op::QueryV1(d, g) => {
                    let m = Repr::QueryV1 { max_resp_delay: d, mcast_addr: ga(g) };
                    h.on_message(now, &mut rng, ROUTER, ALL_NODES, &m, &mut out);
                }
                Op::QueryV2(c, g, f, q, s) => {
                    let s: Vec<u8> = s.iter().flat_map(|i| sources[usize::from(*i)].octets()).collect();
                    let m = Repr::QueryV2 { max_resp_code: c, mcast_addr: ga(g), flags: f, qqic: q, sources: &s };
                    h.on_message(now, &mut rng, ROUTER, ALL_NODES, &m, &mut out);
                }
                Op::ReportV1(g) => {
                    let m = Repr::Report { mcast_addr: ga(g) };
                    h.on_message(now, &mut rng, OTHER_HOST, ga(g), &m, &mut out);
                }
                Op::Done(g) => {
                    let m = Repr::Done { mcast_addr: ga(g) };
                    h.on_message(now, &mut rng, OTHER_HOST, ALL_ROUTERS, &m, &mut out);
                }
                Op::Advance(us) => now += Duration::from_micros(us),
                Op::Poll => {
                    h.poll(now, &mut rng, &mut out);
                    prop_assert!(h.poll_at().is_none_or(|t| t > now));
                }
                Op::LinkDown => h.link_down(),
                Op::LinkUp => h.link_up(now, &mut rng, &mut out),
            }
            // Whatever was sent parses, fits the MTU and goes where it should.
            let mut sends = 0;
            for x in &out {
                if let MldAction::Send { dst, message } = x {
                    parse(*dst, message, cfg.mtu);
                    sends += 1;
                }
            }
            prop_assert!(sends <= 3 * 2 * 3 + 2, "{} messages", sends);
            prop_assert!(h.groups().count() <= cfg.max_groups);
            prop_assert!(h.groups.len() <= 2 * cfg.max_groups);
            prop_assert!(h.filter_count() <= cfg.max_filters);
            for g in h.groups.values() {
                prop_assert!(g.state.as_ref().is_none_or(|f| f.sources.len() <= 4));
                prop_assert!(g.src_retrans.len() <= 8);
                prop_assert!(g.query_sources.len() <= 4);
            }
            if h.version() == MldVersion::V1 {
                prop_assert!(h.general_at.is_none());
            }
        }
    }
}
