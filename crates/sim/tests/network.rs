//! The simulator end to end with test nodes: timing, hub semantics, each impairment, the
//! guards against misbehaving nodes, and determinism.

mod common;

use common::{ANSWER, QUERY, TestNode, frame, seq_of};
use sixstack_core::iface::IfaceId;
use sixstack_core::time::{Duration, Instant};
use sixstack_sim::{Limits, LinkConfig, LinkStats, Network, Node, NodeId, TapVerdict};

const IF0: IfaceId = IfaceId(0);

fn us(n: u64) -> Duration {
    Duration::from_micros(n)
}

fn at_us(n: u64) -> Instant {
    Instant::from_micros(n)
}

/// Two nodes on one link, interface 0 each.
fn pair(
    seed: u64,
    cfg: LinkConfig,
    a: TestNode,
    b: TestNode,
) -> (Network<TestNode>, NodeId, NodeId, sixstack_sim::LinkId) {
    let mut net = Network::new(seed);
    let a = net.add_node("a", a);
    let b = net.add_node("b", b);
    let l = net.add_link("ab", cfg);
    net.attach(l, a, IF0);
    net.attach(l, b, IF0);
    (net, a, b, l)
}

#[test]
fn delay_is_exact_and_an_echo_comes_back() {
    let cfg = LinkConfig {
        delay: us(250),
        ..LinkConfig::default()
    };
    let (mut net, a, b, l) = pair(
        1,
        cfg,
        TestNode::chatty(Instant::from_millis(1), Duration::ZERO, 1, 60),
        TestNode::echo(Duration::from_millis(2)),
    );
    net.run_until(Instant::from_millis(10));
    assert_eq!(net.now(), Instant::from_millis(10));
    let heard_b = &net.node(b).heard;
    assert_eq!(heard_b.len(), 1);
    assert_eq!(heard_b[0].0, at_us(1_250));
    assert_eq!(heard_b[0].2, frame(QUERY, 0, 60));
    let heard_a = &net.node(a).heard;
    assert_eq!(heard_a.len(), 1);
    assert_eq!(heard_a[0].0, at_us(3_500));
    assert_eq!(heard_a[0].2, frame(ANSWER, 0, 60));

    let cap = net.captured(l);
    assert_eq!(cap.len(), 2);
    assert_eq!((cap[0].time, cap[0].from), (at_us(1_000), Some(a)));
    assert_eq!((cap[1].time, cap[1].from), (at_us(3_250), Some(b)));
    let s = net.link_stats(l);
    assert_eq!((s.sent, s.captured, s.delivered), (2, 2, 2));
}

#[test]
fn a_link_is_a_hub() {
    let mut net = Network::new(1);
    let ids: Vec<NodeId> = ["a", "b", "c"]
        .iter()
        .map(|n| net.add_node(n, TestNode::sink()))
        .collect();
    let hub = net.add_link("hub", LinkConfig::default());
    for &n in &ids {
        net.attach(hub, n, IF0);
    }
    assert_eq!(net.node_by_name("c"), Some(ids[2]));
    assert_eq!(net.link_by_name("hub"), Some(hub));
    assert_eq!(net.ports(hub).len(), 3);

    // From nobody: everyone hears it.
    net.inject(hub, None, frame(QUERY, 1, 60));
    net.run_for(Duration::from_millis(1));
    for &n in &ids {
        assert_eq!(net.node(n).heard_seqs(), vec![1]);
    }
    // As if from a: b and c hear it, a does not.
    net.inject(hub, Some(ids[0]), frame(QUERY, 2, 60));
    // Sent by b itself: a and c.
    net.node_mut(ids[1])
        .out
        .push_back((IF0, frame(QUERY, 3, 60)));
    net.run_for(Duration::from_millis(1));
    assert_eq!(net.node(ids[0]).heard_seqs(), vec![1, 3]);
    assert_eq!(net.node(ids[1]).heard_seqs(), vec![1, 2]);
    assert_eq!(net.node(ids[2]).heard_seqs(), vec![1, 2, 3]);
    let froms: Vec<_> = net.captured(hub).iter().map(|c| c.from).collect();
    assert_eq!(froms, vec![None, Some(ids[0]), Some(ids[1])]);
    assert_eq!(net.link_stats(hub).delivered, 7);
}

#[test]
fn two_interfaces_of_one_node_on_one_hub_hear_each_other() {
    let mut net = Network::new(1);
    let a = net.add_node("a", TestNode::sink());
    let l = net.add_link("l", LinkConfig::default());
    net.attach(l, a, IfaceId(0));
    net.attach(l, a, IfaceId(1));
    net.node_mut(a)
        .out
        .push_back((IfaceId(0), frame(QUERY, 9, 60)));
    net.run_for(Duration::from_millis(1));
    let heard: Vec<_> = net.node(a).heard.iter().map(|h| h.1).collect();
    assert_eq!(heard, vec![IfaceId(1)]);
}

/// 10 000 frames, 1 ms apart, over a link losing 10 %: what the sink heard and the stats.
fn lossy_run(seed: u64) -> (LinkStats, Vec<u32>) {
    let cfg = LinkConfig {
        loss: 0.1,
        ..LinkConfig::default()
    };
    let (mut net, _, b, l) = pair(
        seed,
        cfg,
        TestNode::chatty(Instant::ZERO, Duration::from_millis(1), 10_000, 100),
        TestNode::sink(),
    );
    net.run_until(Instant::from_secs(11));
    (net.link_stats(l), net.node(b).heard_seqs())
}

#[test]
fn loss_follows_its_probability_and_the_seed() {
    let (s, heard) = lossy_run(42);
    assert_eq!(s.sent, 10_000);
    assert_eq!(s.lost + s.delivered, 10_000);
    assert_eq!(heard.len() as u64, s.delivered);
    assert!((850..=1150).contains(&s.lost), "lost {}", s.lost);
    // The exact count of this seed: a change here means runs of old seeds changed.
    assert_eq!(s.lost, LOST_SEED_42);
    assert!(
        heard.windows(2).all(|w| w[0] < w[1]),
        "loss alone keeps order"
    );

    let again = lossy_run(42);
    assert_eq!(again, (s, heard.clone()));
    let other = lossy_run(43);
    assert_ne!(other.1, heard);
}
const LOST_SEED_42: u64 = 967;

#[test]
fn duplicates_arrive_right_behind_the_original() {
    let cfg = LinkConfig {
        duplicate: 0.25,
        ..LinkConfig::default()
    };
    let (mut net, _, b, l) = pair(
        7,
        cfg,
        TestNode::chatty(Instant::ZERO, Duration::from_millis(1), 2000, 80),
        TestNode::sink(),
    );
    net.run_until(Instant::from_secs(3));
    let s = net.link_stats(l);
    assert_eq!(s.sent, 2000);
    assert!((400..=600).contains(&s.duplicated), "{}", s.duplicated);
    assert_eq!(s.delivered, 2000 + s.duplicated);
    // This seed's exact count: runs are reproducible across versions.
    assert_eq!(s.duplicated, 505);
    assert_eq!(s.reordered, 0);
    let heard = &net.node(b).heard;
    let mut twice = 0;
    for w in heard.windows(2) {
        if seq_of(&w[0].2) == seq_of(&w[1].2) {
            assert_eq!(w[0], w[1], "same bytes at the same instant");
            twice += 1;
        }
    }
    assert_eq!(twice, s.duplicated);
}

/// How many frames arrived after a frame sent later than them.
fn inversions(seqs: &[u32]) -> u64 {
    let mut max = None;
    let mut n = 0;
    for &s in seqs {
        if max.is_some_and(|m| s < m) {
            n += 1;
        }
        max = max.max(Some(s));
    }
    n
}

#[test]
fn reorder_puts_a_frame_right_behind_the_next() {
    let cfg = LinkConfig {
        reorder: 0.1,
        ..LinkConfig::default()
    };
    let (mut net, _, b, l) = pair(
        3,
        cfg,
        TestNode::chatty(Instant::ZERO, Duration::from_millis(1), 1000, 80),
        TestNode::sink(),
    );
    net.run_until(Instant::from_secs(2));
    let s = net.link_stats(l);
    let heard = &net.node(b).heard;
    assert_eq!(s.delivered, 1000, "reordering loses nothing");
    assert!((60..=140).contains(&s.reordered), "{}", s.reordered);
    let seqs = net.node(b).heard_seqs();
    assert_eq!(inversions(&seqs), s.reordered);
    // A frame right behind a held one is never held itself: about p(1-p) are reordered.
    assert_eq!(s.reordered, 81);
    let mut sorted = seqs.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..1000).collect::<Vec<_>>());
    // Frame n sent at n ms arrives at n ms + 100 µs, or with frame n+1 if held for it;
    // the last, if held, after the hold.
    for (t, _, f) in heard {
        let n = u64::from(seq_of(f));
        let on_time = at_us(n * 1000 + 100);
        assert!(
            *t == on_time
                || *t == on_time + Duration::from_millis(1)
                || (n == 999 && *t == on_time + Duration::from_millis(10)),
            "frame {n} at {t}"
        );
    }
}

#[test]
fn a_held_frame_with_nothing_behind_goes_after_the_hold() {
    let cfg = LinkConfig {
        reorder: 1.0,
        reorder_hold: Duration::from_millis(5),
        ..LinkConfig::default()
    };
    let (mut net, _, b, l) = pair(
        1,
        cfg,
        TestNode::chatty(Instant::ZERO, Duration::ZERO, 1, 60),
        TestNode::sink(),
    );
    net.run_until(Instant::from_millis(4));
    assert!(net.node(b).heard.is_empty());
    assert_eq!(net.in_flight(), 1);
    net.run_until(Instant::from_millis(6));
    assert_eq!(net.node(b).heard[0].0, at_us(5_100));
    assert_eq!(net.link_stats(l).reordered, 0);
    assert_eq!(net.in_flight(), 0);
}

#[test]
fn jitter_stays_in_bounds_and_its_reordering_is_counted() {
    let cfg = LinkConfig {
        delay: us(100),
        jitter: us(500),
        ..LinkConfig::default()
    };
    let (mut net, _, b, l) = pair(
        5,
        cfg,
        TestNode::chatty(Instant::ZERO, us(100), 1000, 80),
        TestNode::sink(),
    );
    net.run_until(Instant::from_millis(200));
    let heard = &net.node(b).heard;
    assert_eq!(heard.len(), 1000);
    let mut min = u64::MAX;
    let mut max = 0;
    for (t, _, f) in heard {
        let d = t.total_micros() - u64::from(seq_of(f)) * 100;
        min = min.min(d);
        max = max.max(d);
    }
    assert!(min >= 100 && max <= 600, "{min}..{max}");
    assert!(
        min < 150 && max > 550,
        "the whole range is used: {min}..{max}"
    );
    let s = net.link_stats(l);
    assert!(s.reordered > 0);
    assert_eq!(inversions(&net.node(b).heard_seqs()), s.reordered);
}

#[test]
fn bandwidth_serializes_and_the_queue_drops_its_tail() {
    let cfg = LinkConfig {
        delay: us(100),
        bandwidth_bps: Some(1_000_000),
        queue_limit: 3,
        ..LinkConfig::default()
    };
    let burst = (0..5).map(|n| frame(QUERY, n, 1500)).collect();
    let (mut net, a, b, l) = pair(1, cfg, TestNode::burst(burst), TestNode::sink());
    net.run_until(Instant::from_millis(100));
    // 1500 bytes at 1 Mbit/s take 12 ms each; the 4th and 5th find 3 ahead of them.
    let times: Vec<_> = net.node(b).heard.iter().map(|h| h.0).collect();
    assert_eq!(times, vec![at_us(12_100), at_us(24_100), at_us(36_100)]);
    let s = net.link_stats(l);
    assert_eq!((s.sent, s.queue_dropped, s.captured), (5, 2, 3));

    // Once the medium is free, a frame goes at once again.
    net.node_mut(b).out.push_back((IF0, frame(ANSWER, 0, 125)));
    net.run_for(Duration::from_millis(10));
    // 125 bytes: 1 ms.
    assert_eq!(net.node(a).heard[0].0, at_us(101_100));
}

#[test]
fn frames_over_the_mtu_are_dropped() {
    let mut net: Network<TestNode> = Network::new(1);
    let b = net.add_node("b", TestNode::sink());
    let eth = net.add_link("eth", LinkConfig::ethernet());
    let tun = net.add_link("tun", LinkConfig::raw_ipv6(1280));
    let fddi = net.add_link("fddi", LinkConfig::fddi());
    for (i, l) in [eth, tun, fddi].into_iter().enumerate() {
        net.attach(l, b, IfaceId(i as u32));
    }
    for (l, max) in [(eth, 1514), (tun, 1280), (fddi, 4373)] {
        net.inject(l, None, frame(QUERY, max as u32, max));
        net.inject(l, None, frame(QUERY, max as u32 + 1, max + 1));
        let s = net.link_stats(l);
        assert_eq!((s.sent, s.too_big, s.captured), (2, 1, 1));
    }
    net.run_for(Duration::from_millis(1));
    assert_eq!(net.node(b).heard_seqs(), vec![1514, 1280, 4373]);
}

#[test]
fn detach_loses_frames_in_flight_and_attach_moves() {
    let cfg = LinkConfig {
        delay: Duration::from_millis(5),
        ..LinkConfig::default()
    };
    let (mut net, a, b, l) = pair(
        1,
        cfg,
        TestNode::chatty(Instant::ZERO, Duration::from_millis(1), 10, 60),
        TestNode::sink(),
    );
    net.run_until(Instant::from_micros(2_500));
    // Frames 0, 1, 2 are on their way; none has arrived.
    assert_eq!(net.detach(b, IF0), Some(l));
    assert_eq!(net.detach(b, IF0), None);
    assert_eq!(net.link_of(b, IF0), None);
    // Plugged back at once: what was in flight towards the old plug is still lost.
    net.attach(l, b, IF0);
    net.run_until(Instant::from_millis(20));
    assert_eq!(net.node(b).heard_seqs(), (3..10).collect::<Vec<_>>());
    let s = net.link_stats(l);
    assert_eq!((s.unplugged, s.delivered), (3, 7));

    // Moved to another link: the old one no longer carries its frames.
    let other = net.add_link("other", LinkConfig::default());
    net.attach(other, b, IF0);
    assert_eq!(net.link_of(b, IF0), Some(other));
    assert_eq!(net.ports(l), vec![(a, IF0)]);
    net.node_mut(b).out.push_back((IF0, frame(ANSWER, 1, 60)));
    net.run_for(Duration::from_millis(10));
    assert!(net.node(a).heard.is_empty());
    assert_eq!(net.link_stats(other).sent, 1);

    // Unplugged, it sends into the void.
    net.detach(b, IF0);
    net.node_mut(b).out.push_back((IF0, frame(ANSWER, 2, 60)));
    net.run_for(Duration::from_millis(1));
    assert_eq!(net.stats().unattached, 1);
}

#[test]
fn a_detached_receiver_loses_its_held_frame() {
    let cfg = LinkConfig {
        reorder: 1.0,
        ..LinkConfig::default()
    };
    let (mut net, _, b, l) = pair(
        1,
        cfg,
        TestNode::chatty(Instant::ZERO, Duration::ZERO, 1, 60),
        TestNode::sink(),
    );
    net.run_until(Instant::from_millis(1));
    assert_eq!(net.in_flight(), 1);
    net.detach(b, IF0);
    assert_eq!(net.in_flight(), 0);
    net.run_until(Instant::from_millis(50));
    assert!(net.node(b).heard.is_empty());
    assert_eq!(net.link_stats(l).unplugged, 1);
}

#[test]
fn tap_drops_and_replaces_what_nodes_send() {
    let (mut net, _, b, l) = pair(
        1,
        LinkConfig::default(),
        TestNode::chatty(Instant::ZERO, Duration::from_millis(1), 6, 60),
        TestNode::sink(),
    );
    net.set_tap(
        l,
        Box::new(|c| match seq_of(&c.frame) {
            1 | 3 => TapVerdict::Drop,
            4 => TapVerdict::Replace(frame(b'X', 40, 70)),
            _ => TapVerdict::Pass,
        }),
    );
    net.run_until(Instant::from_millis(10));
    assert_eq!(net.node(b).heard_seqs(), vec![0, 2, 40, 5]);
    assert_eq!(net.node(b).heard[2].2, frame(b'X', 40, 70));
    let s = net.link_stats(l);
    assert_eq!(
        (s.sent, s.tap_dropped, s.tap_replaced, s.captured),
        (6, 2, 1, 4)
    );
    let cap: Vec<_> = net.captured(l).iter().map(|c| seq_of(&c.frame)).collect();
    assert_eq!(cap, vec![0, 2, 40, 5]);

    // Injected frames are the test's own: the tap does not see them.
    net.inject(l, None, frame(QUERY, 1, 60));
    net.clear_tap(l);
    net.node_mut(b).out.push_back((IF0, frame(QUERY, 3, 60)));
    net.run_for(Duration::from_millis(1));
    assert_eq!(net.link_stats(l).tap_dropped, 2);
    assert_eq!(net.captured(l).len(), 6);
}

#[test]
fn the_capture_keeps_the_newest_frames() {
    let cfg = LinkConfig {
        capture_limit: 5,
        ..LinkConfig::default()
    };
    let (mut net, _, _, l) = pair(
        1,
        cfg,
        TestNode::chatty(Instant::ZERO, Duration::from_millis(1), 8, 60),
        TestNode::sink(),
    );
    net.run_until(Instant::from_millis(10));
    let seqs: Vec<_> = net.captured(l).iter().map(|c| seq_of(&c.frame)).collect();
    assert_eq!(seqs, vec![3, 4, 5, 6, 7]);
    assert_eq!(net.link_stats(l).capture_dropped, 3);
    assert_eq!(net.take_captured(l).len(), 5);
    assert!(net.captured(l).is_empty());
    net.set_link_config(l, LinkConfig::default());
    assert_eq!(net.link_config(l).capture_limit, 10_000);
}

/// Wants a poll at an instant already past, forever.
struct Needy {
    polls: u64,
}

impl Node for Needy {
    fn receive(&mut self, _: Instant, _: IfaceId, _: &[u8]) {}
    fn poll(&mut self, _: Instant) {
        self.polls += 1;
    }
    fn poll_at(&self) -> Option<Instant> {
        Some(Instant::ZERO)
    }
    fn transmit(&mut self) -> Option<(IfaceId, Vec<u8>)> {
        None
    }
}

#[test]
fn a_node_that_always_wants_a_poll_does_not_hang_the_loop() {
    let mut net = Network::new(1);
    let n = net.add_node("needy", Needy { polls: 0 });
    net.run_until(Instant::from_millis(1));
    let per = u64::from(Limits::default().polls_per_instant);
    // 64 polls at each microsecond from 0 to 1000, and one move on per microsecond.
    assert_eq!(net.node(n).polls, per * 1001);
    assert_eq!(net.stats().livelock, 1001);
    assert_eq!(net.stats().polls, per * 1001);
}

/// Never stops talking.
struct Endless;

impl Node for Endless {
    fn receive(&mut self, _: Instant, _: IfaceId, _: &[u8]) {}
    fn poll(&mut self, _: Instant) {}
    fn poll_at(&self) -> Option<Instant> {
        None
    }
    fn transmit(&mut self) -> Option<(IfaceId, Vec<u8>)> {
        Some((IfaceId(0), vec![0; 60]))
    }
}

#[test]
fn an_endless_transmitter_is_cut_and_a_storm_is_capped() {
    let mut net: Network<Box<dyn Node>> = Network::new(1);
    net.set_limits(Limits {
        transmit_per_service: 100,
        in_flight: 150,
        ..Limits::default()
    });
    let e = net.add_node("endless", Box::new(Endless));
    let s = net.add_node("sink", Box::new(TestNode::sink()));
    let l = net.add_link("l", LinkConfig::default());
    net.attach(l, e, IF0);
    net.attach(l, s, IF0);
    net.run_for(Duration::from_millis(1));
    assert_eq!(net.stats().transmit_cut, 1);
    assert_eq!(net.link_stats(l).sent, 100);

    // Three parrots on a hub: every frame makes two. The in-flight cap bounds the storm.
    let mut net = Network::new(1);
    net.set_limits(Limits {
        in_flight: 150,
        ..Limits::default()
    });
    let hub = net.add_link("hub", LinkConfig::default());
    for name in ["p", "q", "r"] {
        let n = net.add_node(name, TestNode::parrot(Duration::ZERO));
        net.attach(hub, n, IF0);
    }
    net.inject(hub, None, frame(QUERY, 0, 60));
    net.run_for(Duration::from_millis(5));
    let s = net.link_stats(hub);
    assert!(s.overflow > 0);
    assert!(net.in_flight() <= 150);
    assert_eq!(net.now(), Instant::from_millis(5));
}

#[test]
fn zero_delay_ping_pong_still_advances_the_clock() {
    let cfg = LinkConfig {
        delay: Duration::ZERO,
        ..LinkConfig::default()
    };
    let (mut net, a, b, l) = pair(
        1,
        cfg,
        TestNode::parrot(Duration::ZERO),
        TestNode::parrot(Duration::ZERO),
    );
    net.inject(l, Some(a), frame(QUERY, 0, 60));
    net.run_until(Instant::from_millis(1));
    // One hop per microsecond: b hears at 1, 3, 5 ... µs, a at 2, 4 ... µs.
    assert_eq!(net.link_stats(l).delivered, 1000);
    assert_eq!(net.node(b).heard[1].0, at_us(3));
    assert_eq!(net.node(a).heard[0].0, at_us(2));
}

#[test]
fn stepping_idle_and_quiet() {
    let mut net: Network<TestNode> = Network::new(1);
    assert!(!net.step());
    let (mut net2, a, b, l) = pair(
        1,
        LinkConfig::default(),
        TestNode::sink(),
        TestNode::echo(Duration::from_millis(1)),
    );
    // Quiet: the query crossed; the answer waits on b's timer, which quiet does not wait for.
    net2.inject(l, Some(a), frame(QUERY, 0, 60));
    assert!(net2.run_until_quiet(Instant::from_secs(1)));
    assert_eq!(net2.now(), at_us(100));
    assert_eq!(net2.node(b).heard.len(), 1);
    assert!(net2.node(a).heard.is_empty());
    // Idle: nothing left at all.
    assert!(net2.run_until_idle(Instant::from_secs(1)));
    assert_eq!(net2.now(), at_us(1_200));
    assert_eq!(net2.node(a).heard.len(), 1);
    assert!(!net2.step());

    // A node with a timer that never ends is never idle.
    let c = net.add_node(
        "c",
        TestNode::chatty(Instant::ZERO, Duration::from_secs(1), u32::MAX, 60),
    );
    assert!(!net.run_until_idle(Instant::from_secs(10)));
    assert_eq!(net.now(), Instant::from_secs(10));
    assert_eq!(net.node(c).polls, 11);
    assert!(net.step());
    assert_eq!(net.now(), Instant::from_secs(11));
    assert!(
        net.run_until_quiet(Instant::from_secs(20)),
        "c is on no link"
    );
    assert_eq!(net.stats().unattached, 12);
}

/// Two links, every impairment, echoes: what everything looked like.
fn busy_run(seed: u64, extra_link: bool) -> String {
    let mut net = Network::new(seed);
    let cfg = LinkConfig {
        delay: us(300),
        jitter: us(700),
        loss: 0.05,
        duplicate: 0.05,
        reorder: 0.05,
        bandwidth_bps: Some(10_000_000),
        queue_limit: 4,
        ..LinkConfig::default()
    };
    let a = net.add_node("a", TestNode::chatty(Instant::ZERO, us(400), 500, 900));
    let b = net.add_node("b", TestNode::echo(us(50)));
    let c = net.add_node("c", TestNode::echo(us(70)));
    let l1 = net.add_link("one", cfg.clone());
    if extra_link {
        let x = net.add_link("extra", cfg.clone());
        let d = net.add_node("d", TestNode::sink());
        net.attach(x, d, IF0);
    }
    let l2 = net.add_link("two", cfg);
    net.attach(l1, a, IF0);
    net.attach(l1, b, IF0);
    net.attach(l1, c, IF0);
    net.attach(l2, c, IfaceId(1));
    net.run_until(Instant::from_millis(300));
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
        net.captured(l1),
        net.link_stats(l1),
        net.link_stats(l2),
        net.node(a).heard,
        net.node(b).heard,
        net.node(c).heard,
        net.stats(),
    )
}

#[test]
fn same_seed_same_run_and_links_do_not_shift_each_other() {
    let one = busy_run(9, false);
    assert_eq!(one, busy_run(9, false));
    assert_ne!(one, busy_run(10, false));
    // A link added after "one" forks its own generator: "one" draws exactly as before.
    let with_extra = busy_run(9, true);
    let first_lines = |s: &str| s.lines().take(2).collect::<Vec<_>>().join("\n");
    assert_eq!(first_lines(&one), first_lines(&with_extra));
}

/// Moves its one timer, an hour away, a little later at every frame it hears; the timer
/// is gone once it fired.
struct Fickle {
    heard: u64,
    fired: bool,
}

impl Node for Fickle {
    fn receive(&mut self, _: Instant, _: IfaceId, _: &[u8]) {
        self.heard += 1;
    }
    fn poll(&mut self, now: Instant) {
        self.fired |= now >= Instant::from_secs(3600) + us(self.heard);
    }
    fn poll_at(&self) -> Option<Instant> {
        (!self.fired).then(|| Instant::from_secs(3600) + us(self.heard))
    }
    fn transmit(&mut self) -> Option<(IfaceId, Vec<u8>)> {
        None
    }
}

#[test]
fn a_timer_moved_at_every_frame_does_not_fill_the_queue() {
    let mut net = Network::new(1);
    let f = net.add_node(
        "fickle",
        Fickle {
            heard: 0,
            fired: false,
        },
    );
    let l = net.add_link("l", LinkConfig::default());
    net.attach(l, f, IF0);
    let mut most = 0;
    for n in 0..10_000 {
        net.inject(l, None, frame(QUERY, n, 60));
        net.run_for(Duration::from_millis(1));
        most = most.max(net.pending_events());
    }
    assert_eq!(net.node(f).heard, 10_000);
    assert!(most <= 2 * 1024 + 2, "{most} events queued");
    // The one live poll still happens, once, when its hour comes.
    assert!(net.run_until_idle(Instant::from_secs(7200)));
    assert_eq!(net.stats().polls, 1);
    assert_eq!(net.now(), Instant::from_secs(3600) + us(10_000));
}

#[test]
fn inject_keeps_the_order_of_calls() {
    let (mut net, a, b, l) = pair(1, LinkConfig::default(), TestNode::sink(), TestNode::sink());
    net.node_mut(a).out.push_back((IF0, frame(QUERY, 1, 60)));
    net.inject(l, None, frame(QUERY, 2, 60));
    net.run_for(Duration::from_millis(1));
    assert_eq!(net.node(b).heard_seqs(), vec![1, 2]);
}
