//! Two connections (or a client and a listener) joined by a tiny in-test wire that can
//! delay, drop, duplicate and reorder segments; virtual time jumps to the next event.

use std::collections::VecDeque;
use std::net::Ipv6Addr;

use proptest::prelude::*;
use sixstack_wire::tcp::{Flags, Packet, PseudoHeader, RawOptions, Repr, SackBlocks, SeqNumber};

use super::*;
use crate::rng::Rng;
use crate::time::{Duration, Instant};

fn addr_a() -> (Ipv6Addr, u16) {
    (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), 40000)
}

fn addr_b() -> (Ipv6Addr, u16) {
    (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2), 80)
}

fn tuple_a() -> FourTuple {
    FourTuple {
        local: addr_a(),
        remote: addr_b(),
    }
}

fn tuple_b() -> FourTuple {
    FourTuple {
        local: addr_b(),
        remote: addr_a(),
    }
}

/// ISSs near the wrap, so sequence arithmetic is exercised on every test.
const ISS_A: SeqNumber = SeqNumber(0xffff_f000);
const ISS_B: SeqNumber = SeqNumber(0x7fff_fff0);
const T0: Instant = Instant::from_secs(1000);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Deliver,
    Drop,
    Duplicate,
}

type FateFn = Box<dyn FnMut(&Segment) -> Fate>;

fn deliver_all() -> FateFn {
    Box::new(|_| Fate::Deliver)
}

/// Every segment emitted crossed the wire through `Repr::emit` and `Packet::new_checked`
/// with a good checksum, so what the glue will do is exercised too.
fn through_wire(s: &Segment) -> (Repr, Vec<u8>) {
    let mut buf = vec![0u8; s.repr.buffer_len()];
    let ph = PseudoHeader::V6 {
        src: s.src,
        dst: s.dst,
    };
    s.repr
        .emit_with_payload(&mut buf, &s.payload, &ph)
        .expect("our segments fit their options");
    let p = Packet::new_checked(&buf[..]).expect("parses");
    assert!(p.verify_checksum(&ph));
    let r = Repr::parse(&p).expect("parses");
    (r, p.payload().to_vec())
}

struct Pair {
    a: Tcb,
    b: Tcb,
    now: Instant,
    delay: Duration,
    /// (delivery time, order, to B, segment).
    wire: Vec<(Instant, u64, bool, Segment)>,
    order: u64,
    /// (time, from A, segment) for every segment emitted.
    log: Vec<(Instant, bool, Segment)>,
    fate_ab: FateFn,
    fate_ba: FateFn,
    jitter: Option<(Rng, u64)>,
}

impl Pair {
    /// A in SYN-SENT with its SYN on the wire, B in SYN-RECEIVED from that SYN.
    fn opening(ca: &TcpConfig, cb: &TcpConfig) -> Pair {
        let mut a = Tcb::connect(ca, tuple_a(), ISS_A, 0x1234, T0);
        a.set_path_mtu(1500);
        let syn = a.poll_transmit(T0).expect("SYN");
        let b = Tcb::accept_syn(cb, tuple_b(), ISS_B, 0x5678, 1500, &syn.repr, T0);
        Pair {
            a,
            b,
            now: T0,
            delay: Duration::from_millis(10),
            wire: Vec::new(),
            order: 0,
            log: vec![(T0, true, syn)],
            fate_ab: deliver_all(),
            fate_ba: deliver_all(),
            jitter: None,
        }
    }

    fn connected(ca: &TcpConfig, cb: &TcpConfig) -> Pair {
        let mut p = Pair::opening(ca, cb);
        assert!(p.run(Duration::from_secs(5), |p| {
            p.a.state() == State::Established && p.b.state() == State::Established
        }));
        p.drain_events();
        p
    }

    fn drain_events(&mut self) -> (Vec<TcpEvent>, Vec<TcpEvent>) {
        let mut ea = Vec::new();
        while let Some(e) = self.a.poll_event() {
            ea.push(e);
        }
        let mut eb = Vec::new();
        while let Some(e) = self.b.poll_event() {
            eb.push(e);
        }
        (ea, eb)
    }

    fn flush(&mut self) {
        while let Some(s) = self.a.poll_transmit(self.now) {
            self.put(true, s);
        }
        while let Some(s) = self.b.poll_transmit(self.now) {
            self.put(false, s);
        }
    }

    fn put(&mut self, from_a: bool, s: Segment) {
        self.log.push((self.now, from_a, s.clone()));
        let fate = if from_a {
            (self.fate_ab)(&s)
        } else {
            (self.fate_ba)(&s)
        };
        let copies = match fate {
            Fate::Drop => 0,
            Fate::Deliver => 1,
            Fate::Duplicate => 2,
        };
        for _ in 0..copies {
            let extra = match &mut self.jitter {
                Some((rng, max)) => Duration::from_micros(rng.below(*max)),
                None => Duration::ZERO,
            };
            self.order += 1;
            self.wire
                .push((self.now + self.delay + extra, self.order, from_a, s.clone()));
        }
    }

    /// One event: the earliest delivery or timer. False when nothing is left to happen.
    fn step(&mut self) -> bool {
        self.flush();
        let next_wire = self.wire.iter().map(|w| w.0).min();
        let Some(t) = [next_wire, self.a.poll_at(), self.b.poll_at()]
            .into_iter()
            .flatten()
            .min()
        else {
            return false;
        };
        assert!(t >= self.now, "poll_at in the past: {t} < {}", self.now);
        self.now = t;
        loop {
            let due = self
                .wire
                .iter()
                .enumerate()
                .filter(|(_, w)| w.0 <= self.now)
                .min_by_key(|(_, w)| (w.0, w.1))
                .map(|(i, _)| i);
            let Some(i) = due else { break };
            let (_, _, to_b, s) = self.wire.swap_remove(i);
            let (r, payload) = through_wire(&s);
            if to_b {
                self.b.receive(self.now, &r, &payload);
            } else {
                self.a.receive(self.now, &r, &payload);
            }
            self.flush();
        }
        self.a.poll(self.now);
        self.b.poll(self.now);
        true
    }

    /// Steps until `done` or `limit` of virtual time.
    fn run(&mut self, limit: Duration, mut done: impl FnMut(&mut Pair) -> bool) -> bool {
        let end = self.now + limit;
        loop {
            if done(self) {
                return true;
            }
            if self.now > end || !self.step() {
                return done(self);
            }
        }
    }

    fn sent_by_a(&self) -> impl Iterator<Item = &(Instant, bool, Segment)> {
        self.log.iter().filter(|l| l.1)
    }

    fn sent_by_b(&self) -> impl Iterator<Item = &(Instant, bool, Segment)> {
        self.log.iter().filter(|l| !l.1)
    }
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + i / 251) as u8).collect()
}

/// Moves `data` from A to B through the pair, reading as it comes; returns what B read.
fn transfer(p: &mut Pair, data: &[u8], limit: Duration) -> Vec<u8> {
    let mut sent = 0;
    let mut got = Vec::new();
    let mut buf = vec![0u8; 65536];
    let ok = p.run(limit, |p| {
        sent += p.a.send(&data[sent..]);
        loop {
            let n = p.b.recv(&mut buf);
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        got.len() == data.len()
    });
    assert!(
        ok,
        "transfer incomplete: {} of {} bytes",
        got.len(),
        data.len()
    );
    got
}

fn seg(seq: SeqNumber, ack: Option<SeqNumber>, flags: Flags) -> Repr {
    Repr {
        src_port: addr_b().1,
        dst_port: addr_a().1,
        seq_number: seq,
        ack_number: ack.unwrap_or(SeqNumber(0)),
        flags: if ack.is_some() {
            flags | Flags::ACK
        } else {
            flags
        },
        window_len: 65535,
        urgent_pointer: 0,
        max_seg_size: None,
        window_scale: None,
        sack_permitted: false,
        sack_blocks: SackBlocks::new(),
        timestamps: None,
        unknown_options: RawOptions::new(),
        payload_len: 0,
    }
}

fn no_options() -> TcpConfig {
    TcpConfig {
        timestamps: false,
        sack: false,
        window_scaling: false,
        ..TcpConfig::default()
    }
}

fn drain(t: &mut Tcb, now: Instant) -> Vec<Segment> {
    std::iter::from_fn(|| t.poll_transmit(now)).collect()
}

// ---- RFC 9293 §3.5: opening ----

#[test]
fn rfc9293_3_5_three_way_handshake() {
    let mut p = Pair::opening(&TcpConfig::default(), &TcpConfig::default());
    assert_eq!(p.a.state(), State::SynSent);
    assert_eq!(p.b.state(), State::SynReceived);
    assert!(p.run(Duration::from_secs(1), |p| p.a.state()
        == State::Established
        && p.b.state() == State::Established));
    let kinds: Vec<(bool, Flags)> = p.log.iter().map(|l| (l.1, l.2.repr.flags)).collect();
    assert_eq!(
        kinds[..3],
        [
            (true, Flags::SYN),
            (false, Flags::SYN | Flags::ACK),
            (true, Flags::ACK)
        ]
    );
    let syn = &p.log[0].2.repr;
    assert_eq!(syn.seq_number, ISS_A);
    assert_eq!(syn.max_seg_size, Some(1440));
    assert!(syn.sack_permitted && syn.window_scale.is_some() && syn.timestamps.is_some());
    let synack = &p.log[1].2.repr;
    assert_eq!(synack.ack_number, ISS_A + 1);
    assert_eq!(synack.seq_number, ISS_B);
    let (ea, eb) = p.drain_events();
    assert!(ea.contains(&TcpEvent::Established));
    assert!(eb.contains(&TcpEvent::Established));
    let ia = p.a.info();
    assert!(ia.timestamps && ia.sack);
    assert_eq!(ia.snd_una, ISS_A + 1);
    assert_eq!(ia.rcv_nxt, ISS_B + 1);
    // 1440 - 12 bytes of timestamps.
    assert_eq!(ia.mss, 1428);
    assert_eq!(ia.rcv_wscale, 3);
    assert!(ia.srtt.is_some());
}

#[test]
fn rfc9293_3_5_simultaneous_open() {
    let c = TcpConfig::default();
    let mut a = Tcb::connect(&c, tuple_a(), ISS_A, 1, T0);
    let mut b = Tcb::connect(&c, tuple_b(), ISS_B, 2, T0);
    let syn_a = a.poll_transmit(T0).unwrap();
    let syn_b = b.poll_transmit(T0).unwrap();
    // The SYNs cross.
    let (ra, pa) = through_wire(&syn_a);
    let (rb, pb) = through_wire(&syn_b);
    a.receive(T0, &rb, &pb);
    b.receive(T0, &ra, &pa);
    assert_eq!(
        (a.state(), b.state()),
        (State::SynReceived, State::SynReceived)
    );
    let mut p = Pair {
        a,
        b,
        now: T0,
        delay: Duration::from_millis(10),
        wire: Vec::new(),
        order: 0,
        log: Vec::new(),
        fate_ab: deliver_all(),
        fate_ba: deliver_all(),
        jitter: None,
    };
    assert!(p.run(Duration::from_secs(1), |p| p.a.state()
        == State::Established
        && p.b.state() == State::Established));
    // Each side sent a SYN-ACK carrying its own ISS.
    let synacks: Vec<_> = p
        .log
        .iter()
        .filter(|l| l.2.repr.flags == Flags::SYN | Flags::ACK)
        .map(|l| (l.1, l.2.repr.seq_number))
        .collect();
    assert_eq!(synacks, [(true, ISS_A), (false, ISS_B)]);
    let got = transfer(&mut p, b"hello", Duration::from_secs(2));
    assert_eq!(got, b"hello");
}

#[test]
fn rfc9293_3_5_syn_ack_lost_is_retransmitted() {
    // Without timestamps: no RTT sample from a retransmitted SYN-ACK (Karn).
    let mut p = Pair::opening(&no_options(), &no_options());
    let mut first = true;
    p.fate_ba = Box::new(move |s| {
        if first && s.repr.flags.syn() {
            first = false;
            Fate::Drop
        } else {
            Fate::Deliver
        }
    });
    assert!(p.run(Duration::from_secs(10), |p| p.a.state()
        == State::Established
        && p.b.state() == State::Established));
    let synacks: Vec<Instant> = p
        .sent_by_b()
        .filter(|l| l.2.repr.flags.syn())
        .map(|l| l.0)
        .collect();
    // RFC 6298 §2.1: the first retransmission after the initial RTO of 1 s (and
    // another at once for the client's retransmitted SYN).
    assert!(synacks.len() >= 2);
    assert_eq!(synacks[1] - synacks[0], Duration::from_secs(1));
    // §5.7: data starts with an RTO of 3 s after a SYN timed out without a sample.
    assert_eq!(p.b.info().rto, Duration::from_secs(3));
}

#[test]
fn rfc9293_3_10_7_3_rst_in_syn_sent() {
    let c = TcpConfig::default();
    // A RST without ACK is ignored.
    let mut a = Tcb::connect(&c, tuple_a(), ISS_A, 0, T0);
    let _ = drain(&mut a, T0);
    a.receive(T0, &seg(SeqNumber(5), None, Flags::RST), &[]);
    assert_eq!(a.state(), State::SynSent);
    // A RST whose ACK does not acknowledge the SYN is ignored too (RFC 5961 §3).
    a.receive(T0, &seg(SeqNumber(5), Some(ISS_A + 7), Flags::RST), &[]);
    assert_eq!(a.state(), State::SynSent);
    assert!(drain(&mut a, T0).is_empty());
    // One that acknowledges the SYN refuses the connection.
    a.receive(T0, &seg(SeqNumber(5), Some(ISS_A + 1), Flags::RST), &[]);
    assert_eq!(a.state(), State::Closed);
    let ev: Vec<_> = std::iter::from_fn(|| a.poll_event()).collect();
    assert_eq!(ev, [TcpEvent::Reset, TcpEvent::Closed]);
    assert_eq!(a.poll_at(), None);
}

#[test]
fn rfc9293_3_10_7_3_unacceptable_ack_in_syn_sent_gets_rst() {
    let mut a = Tcb::connect(&TcpConfig::default(), tuple_a(), ISS_A, 0, T0);
    let _ = drain(&mut a, T0);
    a.receive(T0, &seg(SeqNumber(77), Some(ISS_A + 100), Flags::SYN), &[]);
    let out = drain(&mut a, T0);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].repr.flags, Flags::RST);
    assert_eq!(out[0].repr.seq_number, ISS_A + 100);
    assert_eq!(a.state(), State::SynSent);
}

#[test]
fn rfc9293_3_10_7_1_closed_answers_with_rst() {
    let mut s = seg(SeqNumber(10), None, Flags::SYN);
    s.payload_len = 3;
    let r = reset_for(tuple_a(), &s, 3).unwrap();
    assert_eq!(r.repr.flags, Flags::RST | Flags::ACK);
    assert_eq!(r.repr.seq_number, SeqNumber(0));
    assert_eq!(r.repr.ack_number, SeqNumber(14));
    let s = seg(SeqNumber(10), Some(SeqNumber(99)), Flags::empty());
    let r = reset_for(tuple_a(), &s, 0).unwrap();
    assert_eq!(
        (r.repr.flags, r.repr.seq_number),
        (Flags::RST, SeqNumber(99))
    );
    assert!(reset_for(tuple_a(), &seg(SeqNumber(1), None, Flags::RST), 0).is_none());
}

// ---- RFC 9293 §3.6: closing ----

#[test]
fn rfc9293_3_6_half_close() {
    let mut p = Pair::connected(&TcpConfig::default(), &TcpConfig::default());
    p.a.shutdown();
    assert_eq!(p.a.state(), State::FinWait1);
    assert!(
        p.run(Duration::from_secs(1), |p| p.a.state() == State::FinWait2
            && p.b.state() == State::CloseWait)
    );
    let (_, eb) = p.drain_events();
    assert!(eb.contains(&TcpEvent::PeerClosed));
    assert!(p.b.is_eof());
    assert_eq!(p.a.send(b"x"), 0);
    // B still sends; A still reads.
    let data = pattern(100_000);
    let mut sent = 0;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    assert!(p.run(Duration::from_secs(10), |p| {
        sent += p.b.send(&data[sent..]);
        let n = p.a.recv(&mut buf);
        got.extend_from_slice(&buf[..n]);
        got.len() == data.len()
    }));
    assert_eq!(got, data);
    p.b.close();
    assert_eq!(p.b.state(), State::LastAck);
    assert!(p.run(Duration::from_secs(2), |p| p.b.state() == State::Closed));
    assert_eq!(p.a.state(), State::TimeWait);
    assert!(p.a.is_eof());
}

#[test]
fn rfc9293_3_6_simultaneous_close() {
    let mut p = Pair::connected(&TcpConfig::default(), &TcpConfig::default());
    p.a.close();
    p.b.close();
    assert!(
        p.run(Duration::from_secs(2), |p| p.a.state() == State::TimeWait
            && p.b.state() == State::TimeWait)
    );
    // Both went through CLOSING: each FIN arrived before the ACK of its own.
    let fins = p.log.iter().filter(|l| l.2.repr.flags.fin()).count();
    assert_eq!(fins, 2);
}

#[test]
fn rfc9293_3_4_2_time_wait_lasts_2msl() {
    let c = TcpConfig {
        msl: Duration::from_secs(30),
        ..TcpConfig::default()
    };
    let mut p = Pair::connected(&c, &c);
    p.a.close();
    assert!(p.run(Duration::from_secs(2), |p| p.a.state() == State::FinWait2));
    p.b.close();
    assert!(p.run(Duration::from_secs(2), |p| p.a.state() == State::TimeWait));
    let entered = p.now;
    assert_eq!(p.a.poll_at(), Some(entered + Duration::from_secs(60)));
    p.a.poll(entered + Duration::from_secs(59));
    assert_eq!(p.a.state(), State::TimeWait);
    // A retransmitted FIN is acknowledged and restarts the 2 MSL.
    let fin = p
        .sent_by_b()
        .find(|l| l.2.repr.flags.fin())
        .map(|l| l.2.clone())
        .unwrap();
    let (r, pl) = through_wire(&fin);
    let t = entered + Duration::from_secs(59);
    p.a.receive(t, &r, &pl);
    let out = drain(&mut p.a, t);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].repr.ack_number, r.seq_number + 1);
    assert_eq!(p.a.poll_at(), Some(t + Duration::from_secs(60)));
    p.a.poll(t + Duration::from_secs(60));
    assert_eq!(p.a.state(), State::Closed);
    assert!(std::iter::from_fn(|| p.a.poll_event()).any(|e| e == TcpEvent::Closed));
}

#[test]
fn fin_wait_2_limited_after_close_not_after_shutdown() {
    let mut p = Pair::connected(&TcpConfig::default(), &TcpConfig::default());
    p.a.close();
    assert!(p.run(Duration::from_secs(1), |p| p.a.state() == State::FinWait2));
    let entered = p.now;
    // B never closes.
    assert!(p.run(Duration::from_secs(120), |p| p.a.state() == State::Closed));
    assert!(p.now - entered >= Duration::from_secs(60));
    assert!(p.now - entered < Duration::from_secs(61));
    // A half-close waits as long as the peer keeps sending.
    let mut p = Pair::connected(&TcpConfig::default(), &TcpConfig::default());
    p.a.shutdown();
    assert!(p.run(Duration::from_secs(1), |p| p.a.state() == State::FinWait2));
    assert!(!p.run(Duration::from_secs(120), |p| p.a.state() != State::FinWait2));
}

#[test]
fn rfc9293_3_8_6_1_persist_armed_when_data_comes_after_the_window_closed() {
    let small = TcpConfig {
        recv_buffer: 4096,
        ..no_options()
    };
    let mut p = Pair::connected(&no_options(), &small);
    p.a.send(&pattern(4096));
    assert!(p.run(Duration::from_secs(2), |p| p.a.info().snd_wnd == 0
        && p.a.info().snd_una == p.a.info().snd_nxt));
    assert_eq!(p.a.poll_at(), None);
    // Data after the window closed: probes must start.
    p.a.send(b"more");
    p.flush();
    assert!(p.a.poll_at().is_some());
    let mut buf = [0u8; 8192];
    let mut got = 0;
    assert!(p.run(Duration::from_secs(30), |p| {
        if p.now - T0 > Duration::from_secs(5) {
            got += p.b.recv(&mut buf);
        }
        got == 4100
    }));
}

#[test]
fn rfc9293_3_10_5_abort_sends_rst() {
    let mut p = Pair::connected(&TcpConfig::default(), &TcpConfig::default());
    p.a.abort();
    assert_eq!(p.a.state(), State::Closed);
    assert!(p.run(Duration::from_secs(1), |p| p.b.state() == State::Closed));
    let (_, eb) = p.drain_events();
    assert_eq!(eb, [TcpEvent::Reset, TcpEvent::Closed]);
    assert!(p.sent_by_a().any(|l| l.2.repr.flags.rst()));
}

#[test]
fn rfc9293_3_6_close_with_unread_data_resets() {
    let mut p = Pair::connected(&TcpConfig::default(), &TcpConfig::default());
    p.a.send(b"unread");
    assert!(p.run(Duration::from_secs(1), |p| p.b.recv_queue() == 6));
    p.b.close();
    assert_eq!(p.b.state(), State::Closed);
    assert!(p.run(Duration::from_secs(1), |p| p.a.state() == State::Closed));
}

// ---- RFC 5961 ----

fn established_a() -> (Pair, SeqNumber, SeqNumber) {
    let p = Pair::connected(&no_options(), &no_options());
    let i = p.a.info();
    (p, i.rcv_nxt, i.snd_nxt)
}

#[test]
fn rfc5961_3_2_in_window_rst_gets_challenge_ack() {
    let (mut p, rcv_nxt, snd_nxt) = established_a();
    let t = p.now;
    p.a.receive(t, &seg(rcv_nxt + 100, None, Flags::RST), &[]);
    assert_eq!(p.a.state(), State::Established);
    let out = drain(&mut p.a, t);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].repr.flags, Flags::ACK);
    assert_eq!(
        (out[0].repr.seq_number, out[0].repr.ack_number),
        (snd_nxt, rcv_nxt)
    );
    assert_eq!(p.a.info().challenge_acks, 1);
    // Outside the window: silently dropped.
    p.a.receive(t, &seg(rcv_nxt + 1_000_000, None, Flags::RST), &[]);
    assert!(drain(&mut p.a, t).is_empty());
    // Exactly RCV.NXT: reset.
    p.a.receive(t, &seg(rcv_nxt, None, Flags::RST), &[]);
    assert_eq!(p.a.state(), State::Closed);
    assert!(std::iter::from_fn(|| p.a.poll_event()).any(|e| e == TcpEvent::Reset));
}

#[test]
fn rfc5961_4_2_syn_in_established_gets_challenge_ack() {
    let (mut p, rcv_nxt, _) = established_a();
    let t = p.now;
    for seq in [rcv_nxt, rcv_nxt + 5, rcv_nxt - 1000] {
        p.a.receive(t, &seg(seq, None, Flags::SYN), &[]);
        assert_eq!(p.a.state(), State::Established);
        let out = drain(&mut p.a, t);
        assert_eq!(out.len(), 1, "seq {seq}");
        assert_eq!(out[0].repr.flags, Flags::ACK);
        assert_eq!(out[0].repr.ack_number, rcv_nxt);
    }
}

#[test]
fn rfc5961_5_2_ack_outside_range_is_dropped_with_ack() {
    let (mut p, rcv_nxt, snd_nxt) = established_a();
    let t = p.now;
    p.a.send(b"abc");
    let _ = drain(&mut p.a, t);
    let mut s = seg(rcv_nxt, Some(snd_nxt + 1000), Flags::empty());
    s.payload_len = 4;
    p.a.receive(t, &s, b"data");
    // The data was not taken, an ACK went back.
    assert_eq!(p.a.recv_queue(), 0);
    let out = drain(&mut p.a, t);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].repr.ack_number, rcv_nxt);
    assert_eq!(p.a.info().snd_una, snd_nxt);
}

#[test]
fn rfc5961_7_challenge_acks_are_rate_limited() {
    let (mut p, rcv_nxt, _) = established_a();
    let t = p.now;
    let mut acks = 0;
    for i in 0..50 {
        p.a.receive(t, &seg(rcv_nxt + 10 + i, None, Flags::RST), &[]);
        acks += drain(&mut p.a, t).len();
    }
    assert_eq!(acks, 10);
    let later = t + Duration::from_secs(1);
    p.a.receive(later, &seg(rcv_nxt + 10, None, Flags::RST), &[]);
    assert_eq!(drain(&mut p.a, later).len(), 1);
}

#[test]
fn rfc9293_3_10_7_4_unacceptable_segment_gets_ack() {
    let (mut p, rcv_nxt, _) = established_a();
    let t = p.now;
    let mut s = seg(rcv_nxt - 100, Some(p.a.info().snd_una), Flags::empty());
    s.payload_len = 10;
    p.a.receive(t, &s, &[0; 10]);
    let out = drain(&mut p.a, t);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].repr.ack_number, rcv_nxt);
    assert_eq!(p.a.recv_queue(), 0);
    // Partly old: only the new part is kept.
    let mut s = seg(rcv_nxt - 2, Some(p.a.info().snd_una), Flags::empty());
    s.payload_len = 5;
    p.a.receive(t, &s, b"xxabc");
    let mut buf = [0u8; 8];
    assert_eq!(p.a.recv(&mut buf), 3);
    assert_eq!(&buf[..3], b"abc");
}

// ---- RFC 6298 ----

#[test]
fn rfc6298_5_rto_backs_off_exponentially() {
    let mut p = Pair::connected(&no_options(), &no_options());
    p.fate_ab = Box::new(|_| Fate::Drop);
    let rto = p.a.info().rto;
    assert_eq!(rto, Duration::from_secs(1));
    let start = p.now;
    p.a.send(b"lost");
    assert!(p.run(Duration::from_secs(40), |p| p.a.info().retransmissions >= 5));
    let times: Vec<Duration> = p
        .sent_by_a()
        .filter(|l| !l.2.payload.is_empty())
        .map(|l| l.0 - start)
        .collect();
    let gaps: Vec<u64> = times.windows(2).map(|w| (w[1] - w[0]).as_secs()).collect();
    assert_eq!(gaps[..5], [1, 2, 4, 8, 16], "{times:?}");
    let i = p.a.info();
    assert_eq!(i.retransmissions, 5);
    assert_eq!(i.cwnd, i.mss);
}

#[test]
fn rfc9293_3_8_3_r2_gives_up() {
    let mut p = Pair::connected(&no_options(), &no_options());
    p.fate_ab = Box::new(|_| Fate::Drop);
    p.a.send(b"lost");
    assert!(p.run(Duration::from_secs(400), |p| p.a.state() == State::Closed));
    let (ea, _) = p.drain_events();
    assert!(ea.contains(&TcpEvent::TimedOut(None)));
    // R2 is 100 s, measured from the first timeout.
    assert!(p.now - T0 >= Duration::from_secs(100));
    assert!(p.now - T0 <= Duration::from_secs(200));
}

#[test]
fn rfc9293_3_9_1_icmp_soft_error_reported_on_timeout() {
    let mut p = Pair::connected(&no_options(), &no_options());
    p.fate_ab = Box::new(|_| Fate::Drop);
    p.a.send(b"lost");
    p.flush();
    let err = IcmpError::DstUnreachable { code: 0 };
    assert!(p.a.icmp_quote_valid(p.a.info().snd_una));
    assert!(!p.a.icmp_quote_valid(p.a.info().snd_una + 100_000));
    p.a.icmp_error(err);
    assert_eq!(p.a.state(), State::Established);
    assert!(p.run(Duration::from_secs(400), |p| p.a.state() == State::Closed));
    let (ea, _) = p.drain_events();
    assert!(ea.contains(&TcpEvent::TimedOut(Some(err))));
    // In SYN-SENT a port unreachable aborts.
    let mut a = Tcb::connect(&TcpConfig::default(), tuple_a(), ISS_A, 0, T0);
    let _ = drain(&mut a, T0);
    a.icmp_error(IcmpError::DstUnreachable { code: 4 });
    assert_eq!(a.state(), State::Closed);
}

// ---- RFC 5681, 6582, 6675 ----

#[test]
fn rfc5681_3_2_fast_retransmit_on_3_dup_acks() {
    let mut p = Pair::connected(&no_options(), &no_options());
    // Drop the third data segment once.
    let mut n = 0;
    p.fate_ab = Box::new(move |s| {
        if !s.payload.is_empty() {
            n += 1;
            if n == 3 {
                return Fate::Drop;
            }
        }
        Fate::Deliver
    });
    let data = pattern(200_000);
    let got = transfer(&mut p, &data, Duration::from_secs(30));
    assert_eq!(got, data);
    let i = p.a.info();
    assert_eq!(i.fast_retransmits, 1);
    assert_eq!(i.timeouts, 0);
    assert_eq!(i.retransmissions, 1);
    // ssthresh was set from the flight (RFC 5681 §3.2 step 2).
    assert!(i.ssthresh < u32::MAX);
    // B sent at least three duplicate ACKs.
    let acks: Vec<SeqNumber> = p.sent_by_b().map(|l| l.2.repr.ack_number).collect();
    let max_dups = acks
        .windows(2)
        .fold((0, 0), |(run, best), w| {
            let run = if w[0] == w[1] { run + 1 } else { 0 };
            (run, best.max(run))
        })
        .1;
    assert!(max_dups >= 3);
}

#[test]
fn rfc6582_3_2_newreno_partial_acks_recover_several_losses() {
    let mut p = Pair::connected(&no_options(), &no_options());
    let mut n = 0;
    p.fate_ab = Box::new(move |s| {
        if !s.payload.is_empty() {
            n += 1;
            if n == 20 || n == 22 || n == 24 {
                return Fate::Drop;
            }
        }
        Fate::Deliver
    });
    let data = pattern(300_000);
    assert_eq!(transfer(&mut p, &data, Duration::from_secs(30)), data);
    let i = p.a.info();
    assert_eq!(i.fast_retransmits, 1, "one recovery for the three losses");
    assert_eq!(i.timeouts, 0);
    assert_eq!(i.retransmissions, 3);
}

#[test]
fn rfc6675_5_sack_recovery_of_several_losses() {
    let mut p = Pair::connected(&TcpConfig::default(), &TcpConfig::default());
    assert!(p.a.info().sack);
    let mut n = 0;
    p.fate_ab = Box::new(move |s| {
        if !s.payload.is_empty() {
            n += 1;
            if n == 20 || n == 22 || n == 24 {
                return Fate::Drop;
            }
        }
        Fate::Deliver
    });
    let data = pattern(300_000);
    assert_eq!(transfer(&mut p, &data, Duration::from_secs(30)), data);
    let i = p.a.info();
    assert_eq!(i.fast_retransmits, 1);
    assert_eq!(i.timeouts, 0);
    assert_eq!(i.retransmissions, 3);
    // RFC 2018 §4: B's duplicate ACKs carried SACK blocks, most recent first.
    let with_sack: Vec<_> = p
        .sent_by_b()
        .filter(|l| !l.2.repr.sack_blocks.is_empty())
        .collect();
    assert!(!with_sack.is_empty());
    for l in &with_sack {
        let b = l.2.repr.sack_blocks.as_slice();
        assert!(b.len() <= 3, "three blocks fit beside timestamps");
        assert!(b[0].0 - l.2.repr.ack_number > 0);
    }
}

#[test]
fn rfc5681_4_2_out_of_order_reassembled_and_acked_at_once() {
    let mut p = Pair::connected(&TcpConfig::default(), &TcpConfig::default());
    p.jitter = Some((Rng::new(7), 30_000));
    let data = pattern(500_000);
    assert_eq!(transfer(&mut p, &data, Duration::from_secs(60)), data);
    assert!(p.b.info().ooo_bytes == 0);
}

// ---- delayed ACK, Nagle ----

#[test]
fn rfc9293_3_8_6_3_delayed_ack_at_most_200ms() {
    let mut p = Pair::connected(&no_options(), &no_options());
    let t = p.now;
    p.a.send(b"one");
    p.flush();
    assert!(p.run(Duration::from_secs(1), |p| p.b.recv_queue() == 3));
    let arrived = p.now;
    assert!(p.run(Duration::from_secs(1), |p| p.a.info().snd_una
        == p.a.info().snd_nxt));
    let ack_at = p
        .sent_by_b()
        .filter(|l| l.0 > t)
        .map(|l| l.0)
        .next()
        .unwrap();
    assert_eq!(ack_at - arrived, Duration::from_millis(200));
}

#[test]
fn rfc5681_4_2_ack_every_second_full_segment() {
    let mut p = Pair::connected(&no_options(), &no_options());
    let mss = p.a.info().mss as usize;
    let t = p.now;
    p.a.send(&pattern(2 * mss));
    let out = drain(&mut p.a, t);
    assert_eq!(out.len(), 2);
    for s in &out {
        let (r, pl) = through_wire(s);
        p.b.receive(t, &r, &pl);
    }
    let acks = drain(&mut p.b, t);
    assert_eq!(acks.len(), 1);
    assert_eq!(acks[0].repr.ack_number, p.a.info().snd_nxt);
}

#[test]
fn rfc9293_3_7_4_nagle_holds_small_segments() {
    let mut p = Pair::connected(&no_options(), &no_options());
    let t = p.now;
    p.a.send(b"a");
    assert_eq!(drain(&mut p.a, t).len(), 1);
    p.a.send(b"b");
    p.a.send(b"c");
    // Unacknowledged data outstanding: the small ones wait.
    assert!(drain(&mut p.a, t).is_empty());
    p.a.set_nodelay(true);
    let out = drain(&mut p.a, t);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].payload, b"bc");
}

// ---- windows ----

#[test]
fn rfc9293_3_8_6_1_zero_window_probe() {
    let small = TcpConfig {
        recv_buffer: 8192,
        ..no_options()
    };
    let mut p = Pair::connected(&no_options(), &small);
    let data = pattern(40_000);
    let mut sent = 0;
    // B does not read: its window closes.
    assert!(p.run(Duration::from_secs(5), |p| {
        sent += p.a.send(&data[sent..]);
        p.a.info().snd_wnd == 0 && p.b.recv_queue() == 8192
    }));
    let closed_at = p.now;
    // Twenty seconds of a closed window.
    p.run(Duration::from_secs(20), |_| false);
    let probes: Vec<Instant> = p
        .sent_by_a()
        .filter(|l| l.0 > closed_at && l.2.payload.len() == 1)
        .map(|l| l.0)
        .collect();
    assert!(probes.len() >= 3, "probes: {probes:?}");
    // Exponential backoff between probes.
    assert!(probes[2] - probes[1] > probes[1] - probes[0]);
    assert_eq!(p.a.state(), State::Established);
    assert_eq!(p.b.recv_queue(), 8192);
    // B reads: a window update reopens the flow and everything arrives.
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    assert!(p.run(Duration::from_secs(60), |p| {
        sent += p.a.send(&data[sent..]);
        loop {
            let n = p.b.recv(&mut buf);
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        got.len() == data.len()
    }));
    assert_eq!(got, data);
}

#[test]
fn rfc7323_2_window_scale_negotiated_only_by_both() {
    let big = TcpConfig {
        recv_buffer: 1 << 20,
        ..TcpConfig::default()
    };
    let p = Pair::connected(&big, &big);
    assert_eq!(p.a.info().rcv_wscale, 5);
    assert_eq!(p.a.info().snd_wscale, 5);
    let off = TcpConfig {
        window_scaling: false,
        ..big.clone()
    };
    let mut p = Pair::connected(&big, &off);
    assert_eq!((p.a.info().rcv_wscale, p.a.info().snd_wscale), (0, 0));
    assert!(p.log[1].2.repr.window_scale.is_none());
    let data = pattern(300_000);
    assert_eq!(transfer(&mut p, &data, Duration::from_secs(10)), data);
    // With scaling, a megabyte window is offered.
    let mut p = Pair::connected(&big, &big);
    p.a.send(b"x");
    assert!(p.run(Duration::from_secs(1), |p| p.b.recv_queue() == 1));
    assert!(p.run(Duration::from_secs(1), |p| p.a.info().snd_una
        == p.a.info().snd_nxt));
    assert!(p.a.info().snd_wnd > 900_000);
}

#[test]
fn rfc7323_5_3_paws_drops_old_timestamp() {
    let mut p = Pair::connected(&TcpConfig::default(), &TcpConfig::default());
    p.b.send(b"new");
    assert!(p.run(Duration::from_secs(1), |p| p.a.recv_queue() == 3));
    let last = p
        .sent_by_b()
        .filter(|l| !l.2.payload.is_empty())
        .last()
        .unwrap()
        .2
        .clone();
    let t = p.now;
    let mut old = last.repr;
    old.seq_number = p.a.info().rcv_nxt;
    let (tsval, tsecr) = old.timestamps.unwrap();
    old.timestamps = Some((tsval.wrapping_sub(1000), tsecr));
    p.a.receive(t, &old, b"old");
    assert_eq!(p.a.recv_queue(), 3);
    let out = drain(&mut p.a, t);
    assert_eq!(out.len(), 1, "an ACK for the dropped segment");
    // Without timestamps at all: dropped silently (RFC 7323 §3.2).
    old.timestamps = None;
    p.a.receive(t, &old, b"old");
    assert_eq!(p.a.recv_queue(), 3);
}

// ---- keep-alive ----

#[test]
fn rfc9293_3_8_4_keepalive_probes_then_gives_up() {
    let c = TcpConfig {
        keepalive: true,
        keepalive_idle: Duration::from_secs(60),
        keepalive_interval: Duration::from_secs(10),
        keepalive_count: 3,
        ..no_options()
    };
    let mut p = Pair::connected(&c, &no_options());
    let start = p.now;
    // The peer answers: the connection stays up, probed every idle period.
    let ok = p.run(Duration::from_secs(200), |p| {
        p.now - start >= Duration::from_secs(190)
    });
    assert!(ok);
    assert_eq!(p.a.state(), State::Established);
    let probes: Vec<_> = p
        .sent_by_a()
        .filter(|l| l.0 > start)
        .map(|l| (l.0 - start, l.2.repr.seq_number))
        .collect();
    assert!(probes.len() >= 3);
    assert!(probes[0].0 <= Duration::from_secs(60) && probes[0].0 >= Duration::from_secs(59));
    assert_eq!(probes[0].1, p.a.info().snd_nxt - 1);
    // The peer vanishes.
    p.fate_ab = Box::new(|_| Fate::Drop);
    assert!(p.run(Duration::from_secs(200), |p| p.a.state() == State::Closed));
    let (ea, _) = p.drain_events();
    assert!(ea.contains(&TcpEvent::TimedOut(None)));
}

// ---- path MTU ----

#[test]
fn rfc8201_packet_too_big_resegments() {
    let mut p = Pair::connected(&no_options(), &no_options());
    assert_eq!(p.a.info().mss, 1440);
    let data = pattern(300_000);
    let mut sent = 0;
    let mut got = Vec::new();
    let mut buf = vec![0u8; 65536];
    let mut dropped_big = 0;
    let mut mtu_cut = false;
    assert!(p.run(Duration::from_secs(30), |p| {
        sent += p.a.send(&data[sent..]);
        let big_in_flight = p.wire.iter().any(|w| w.2 && w.3.payload.len() > 1220);
        if !mtu_cut && p.b.info().bytes_received > 50_000 && big_in_flight {
            mtu_cut = true;
            p.a.set_path_mtu(1280);
            // The router now drops whatever is bigger.
            p.fate_ab = Box::new(|s| {
                if s.payload.len() > 1220 {
                    Fate::Drop
                } else {
                    Fate::Deliver
                }
            });
            dropped_big = p
                .wire
                .iter()
                .filter(|w| w.2 && w.3.payload.len() > 1220)
                .count();
            p.wire.retain(|w| !(w.2 && w.3.payload.len() > 1220));
        }
        loop {
            let n = p.b.recv(&mut buf);
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        got.len() == data.len()
    }));
    assert_eq!(got, data);
    assert!(dropped_big > 0);
    assert_eq!(p.a.info().mss, 1220);
    assert_eq!(
        p.a.info().timeouts,
        0,
        "resent at once, not after a timeout"
    );
}

// ---- bulk ----

fn lossy(seed: u64, percent: u64) -> FateFn {
    let mut rng = Rng::new(seed);
    Box::new(move |_| {
        let r = rng.below(100);
        if r < percent {
            Fate::Drop
        } else if r < percent + 1 {
            Fate::Duplicate
        } else {
            Fate::Deliver
        }
    })
}

#[test]
fn rfc9293_3_10_5mb_with_5_percent_loss_arrives_intact() {
    let mut p = Pair::connected(&TcpConfig::default(), &TcpConfig::default());
    p.fate_ab = lossy(1, 5);
    p.fate_ba = lossy(2, 5);
    p.jitter = Some((Rng::new(3), 2_000));
    let data = pattern(5 << 20);
    let got = transfer(&mut p, &data, Duration::from_secs(600));
    assert!(got == data, "corrupted");
    let i = p.a.info();
    assert!(i.retransmissions > 0 && i.fast_retransmits > 0);
    eprintln!("5 MB, 5 % loss: {:?} virtual, {i:?}", p.now - T0);
}

#[test]
fn rfc9293_3_10_1mb_with_5_percent_loss_without_options() {
    let mut p = Pair::connected(&no_options(), &no_options());
    p.fate_ab = lossy(4, 5);
    p.fate_ba = lossy(5, 5);
    let data = pattern(1 << 20);
    assert!(transfer(&mut p, &data, Duration::from_secs(600)) == data);
}

// ---- listener ----

struct Net {
    client: Tcb,
    listener: Listener,
    server: Option<Tcb>,
    now: Instant,
}

impl Net {
    /// Delivers everything queued, instantly, until quiet.
    fn exchange(&mut self) {
        for _ in 0..100 {
            let mut moved = false;
            while let Some(s) = self.client.poll_transmit(self.now) {
                moved = true;
                let (r, pl) = through_wire(&s);
                match &mut self.server {
                    Some(t) if t.tuple().remote == (s.src, r.src_port) => {
                        t.receive(self.now, &r, &pl)
                    }
                    _ => self
                        .listener
                        .receive(self.now, s.dst, (s.src, r.src_port), 1500, &r, &pl),
                }
            }
            let mut back = Vec::new();
            while let Some(s) = self.listener.poll_transmit(self.now) {
                back.push(s);
            }
            if let Some(t) = &mut self.server {
                while let Some(s) = t.poll_transmit(self.now) {
                    back.push(s);
                }
            }
            for s in back {
                moved = true;
                if s.dst == self.client.tuple().local.0
                    && s.repr.dst_port == self.client.tuple().local.1
                {
                    let (r, pl) = through_wire(&s);
                    self.client.receive(self.now, &r, &pl);
                }
            }
            if !moved {
                return;
            }
        }
    }
}

fn attacker_syn(i: u32) -> (Ipv6Addr, Repr) {
    let src = Ipv6Addr::new(0x2001, 0xdb8, 0xbad, 0, 0, 0, (i >> 16) as u16, i as u16);
    let mut s = seg(SeqNumber(i.wrapping_mul(2_654_435_761)), None, Flags::SYN);
    s.src_port = 1024 + (i % 60000) as u16;
    s.dst_port = 80;
    s.max_seg_size = Some(1440);
    (src, s)
}

#[test]
fn rfc4987_syn_flood_legit_client_still_accepted() {
    let c = TcpConfig {
        syn_backlog: 16,
        accept_backlog: 4,
        ..TcpConfig::default()
    };
    let mut l = Listener::new(&c, (Ipv6Addr::UNSPECIFIED, 80), [7; 32]);
    let server_addr = addr_b().0;
    // 10,000 spoofed SYNs whose SYN-ACKs go nowhere.
    for i in 0..10_000 {
        let (src, s) = attacker_syn(i);
        l.receive(T0, server_addr, (src, s.src_port), 1500, &s, &[]);
        while l.poll_transmit(T0).is_some() {}
    }
    assert_eq!(l.half_open(), 16);
    assert_eq!(l.stats().cookies_sent, 10_000 - 16);
    // A legitimate client: answered with a cookie, connected by its ACK.
    let client = Tcb::connect(&c, tuple_a(), ISS_A, 9, T0);
    let mut net = Net {
        client,
        listener: l,
        server: None,
        now: T0 + Duration::from_millis(5),
    };
    net.exchange();
    assert_eq!(net.client.state(), State::Established);
    assert_eq!(net.listener.stats().cookies_accepted, 1);
    let mut server = net.listener.accept().expect("the client is accepted");
    assert_eq!(server.state(), State::Established);
    assert_eq!(server.tuple().remote, addr_a());
    // The options came back through the timestamp: window scale and SACK.
    let si = server.info();
    assert!(si.timestamps && si.sack);
    assert_eq!(si.snd_wscale, net.client.info().rcv_wscale);
    assert_eq!(si.rcv_wscale, net.client.info().snd_wscale);
    while server.poll_event().is_some() {}
    net.server = Some(server);
    net.client.send(b"GET / HTTP/1.0\r\n\r\n");
    net.exchange();
    let mut buf = [0u8; 64];
    let n = net.server.as_mut().unwrap().recv(&mut buf);
    assert_eq!(&buf[..n], b"GET / HTTP/1.0\r\n\r\n");
    // A forged ACK (no valid cookie) gets a RST and creates nothing.
    let mut forged = seg(SeqNumber(1), Some(SeqNumber(12345)), Flags::empty());
    forged.dst_port = 80;
    let src = Ipv6Addr::new(0x2001, 0xdb8, 0xbad, 0, 0, 0, 0, 0xffff);
    net.listener
        .receive(net.now, server_addr, (src, 999), 1500, &forged, &[]);
    let rst = net.listener.poll_transmit(net.now).unwrap();
    assert_eq!(rst.repr.flags, Flags::RST);
    assert_eq!(net.listener.ready(), 0);
    assert_eq!(net.listener.stats().cookies_rejected, 1);
}

#[test]
fn rfc9293_3_10_7_2_listener_handshake_and_accept() {
    let c = TcpConfig::default();
    let l = Listener::new(&c, (Ipv6Addr::UNSPECIFIED, 80), [1; 32]);
    let client = Tcb::connect(&c, tuple_a(), ISS_A, 9, T0);
    let mut net = Net {
        client,
        listener: l,
        server: None,
        now: T0,
    };
    net.exchange();
    assert_eq!(net.client.state(), State::Established);
    assert_eq!(net.listener.stats().cookies_sent, 0);
    assert_eq!(net.listener.ready(), 1);
    let s = net.listener.accept().unwrap();
    assert_eq!(s.state(), State::Established);
    assert_eq!(net.listener.half_open(), 0);
    // A RST for a half-open connection returns it to LISTEN (forgotten).
    let mut l = Listener::new(&c, (Ipv6Addr::UNSPECIFIED, 80), [1; 32]);
    let (src, syn) = attacker_syn(1);
    l.receive(T0, addr_b().0, (src, syn.src_port), 1500, &syn, &[]);
    let synack = l.poll_transmit(T0).unwrap();
    let mut rst = seg(syn.seq_number + 1, None, Flags::RST);
    rst.src_port = syn.src_port;
    l.receive(T0, addr_b().0, (src, syn.src_port), 1500, &rst, &[]);
    assert!(l.poll_transmit(T0).is_none());
    assert_eq!(l.half_open(), 0);
    assert_eq!(synack.repr.flags, Flags::SYN | Flags::ACK);
}

#[test]
fn listener_half_open_times_out() {
    let c = TcpConfig::default();
    let mut l = Listener::new(&c, (Ipv6Addr::UNSPECIFIED, 80), [1; 32]);
    let (src, syn) = attacker_syn(1);
    l.receive(T0, addr_b().0, (src, syn.src_port), 1500, &syn, &[]);
    let mut now = T0;
    let mut synacks = 0;
    while l.poll_transmit(now).is_some() {
        synacks += 1;
    }
    while let Some(t) = l.poll_at() {
        assert!(t >= now);
        now = t;
        l.poll(now);
        while l.poll_transmit(now).is_some() {
            synacks += 1;
        }
    }
    assert_eq!(l.half_open(), 0, "{now}");
    assert!(synacks > 3);
    // R2 for a SYN: 3 minutes.
    assert!(now - T0 >= Duration::from_secs(180));
}

// ---- adversarial input ----

const STATES: [State; 10] = [
    State::SynSent,
    State::SynReceived,
    State::Established,
    State::FinWait1,
    State::FinWait2,
    State::CloseWait,
    State::Closing,
    State::LastAck,
    State::TimeWait,
    State::Closed,
];

/// A connection (A, with its peer B) in `state`.
fn pair_in(state: State) -> Pair {
    let c = TcpConfig {
        recv_buffer: 16 * 1024,
        send_buffer: 16 * 1024,
        max_ooo_ranges: 8,
        ..TcpConfig::default()
    };
    let mut p = Pair::opening(&c, &c);
    let q = Duration::from_secs(5);
    match state {
        State::SynSent => {
            // B's SYN-ACK never comes.
            p.wire.clear();
            p.b = Tcb::connect(&c, tuple_b(), ISS_B, 0, T0);
            p.b.abort();
        }
        State::SynReceived => {
            std::mem::swap(&mut p.a, &mut p.b);
        }
        State::Established => {
            assert!(p.run(q, |p| p.a.state() == State::Established
                && p.b.state() == State::Established));
        }
        State::FinWait1 | State::Closing => {
            assert!(p.run(q, |p| p.b.state() == State::Established));
            if state == State::Closing {
                // A's FIN is lost, B's arrives.
                p.fate_ab = Box::new(|_| Fate::Drop);
                p.a.close();
                p.b.close();
            } else {
                p.fate_ba = Box::new(|_| Fate::Drop);
                p.a.close();
            }
            assert!(p.run(q, |p| p.a.state() == state));
        }
        State::FinWait2 | State::CloseWait => {
            assert!(p.run(q, |p| p.b.state() == State::Established));
            if state == State::FinWait2 {
                p.a.close();
            } else {
                p.b.close();
            }
            assert!(p.run(q, |p| p.a.state() == state));
        }
        State::LastAck => {
            assert!(p.run(q, |p| p.b.state() == State::Established));
            p.b.close();
            assert!(p.run(q, |p| p.a.state() == State::CloseWait));
            p.fate_ba = Box::new(|_| Fate::Drop);
            p.a.close();
            assert!(p.run(q, |p| p.a.state() == State::LastAck));
        }
        State::TimeWait => {
            assert!(p.run(q, |p| p.b.state() == State::Established));
            p.a.close();
            p.b.close();
            assert!(p.run(q, |p| p.a.state() == State::TimeWait));
        }
        State::Closed | State::Listen => {
            p.a.abort();
        }
    }
    assert_eq!(p.a.state(), state);
    p
}

#[test]
fn every_state_is_reachable() {
    for s in STATES {
        let p = pair_in(s);
        assert_eq!(p.a.state(), s);
        assert!(!p.a.state().to_string().is_empty());
    }
}

fn arb_segment() -> impl Strategy<Value = (Repr, Vec<u8>, u64, i64, i64)> {
    (
        (
            any::<u16>(),
            0u16..0x200,
            any::<u16>(),
            proptest::option::of(any::<u16>()),
            proptest::option::of(any::<u8>()),
            any::<bool>(),
            proptest::option::of((any::<u32>(), any::<u32>())),
        ),
        proptest::collection::vec((any::<u32>(), any::<u32>()), 0..=3),
        proptest::collection::vec(any::<u8>(), 0..3000),
        0u64..5_000_000,
        -70_000i64..70_000,
        -70_000i64..70_000,
    )
        .prop_map(
            |((wnd, fl, _u, mss, ws, sp, ts), sacks, data, dt, dseq, dack)| {
                let mut blocks = SackBlocks::new();
                for (l, r) in sacks {
                    blocks.push(SeqNumber(l), SeqNumber(r));
                }
                let r = Repr {
                    src_port: addr_b().1,
                    dst_port: addr_a().1,
                    seq_number: SeqNumber(0),
                    ack_number: SeqNumber(0),
                    flags: Flags(fl),
                    window_len: wnd,
                    urgent_pointer: 0,
                    max_seg_size: mss,
                    window_scale: ws,
                    sack_permitted: sp,
                    sack_blocks: blocks,
                    timestamps: ts,
                    unknown_options: RawOptions::new(),
                    payload_len: data.len(),
                };
                (r, data, dt, dseq, dack)
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Arbitrary segments (sequence and acknowledgment numbers near the right ones, or
    /// anywhere) and timer firings into a connection in each state: no panic, buffers
    /// within their limits, `poll_at` never in the past after `poll`.
    #[test]
    fn arbitrary_segments_in_every_state(
        state_idx in 0usize..STATES.len(),
        segs in proptest::collection::vec(arb_segment(), 1..12),
        near in proptest::collection::vec(any::<bool>(), 12),
    ) {
        let mut p = pair_in(STATES[state_idx]);
        let cfg = p.a.config().clone();
        let mut now = p.now;
        for (i, (mut r, data, dt, dseq, dack)) in segs.into_iter().enumerate() {
            let info = p.a.info();
            if near[i] {
                r.seq_number = info.rcv_nxt + dseq as u32;
                r.ack_number = info.snd_una + dack as u32;
            } else {
                r.seq_number = SeqNumber(dseq as u32 ^ 0x5a5a_5a5a);
                r.ack_number = SeqNumber(dack as u32 ^ 0xa5a5_a5a5);
            }
            now += Duration::from_micros(dt);
            p.a.receive(now, &r, &data);
            p.a.send(&data);
            let mut buf = [0u8; 1000];
            if i % 3 == 0 {
                p.a.recv(&mut buf);
            }
            while let Some(s) = p.a.poll_transmit(now) {
                prop_assert!(s.payload.len() <= p.a.info().mss as usize);
                let (_r, _pl) = through_wire(&s);
            }
            p.a.poll(now);
            while p.a.poll_transmit(now).is_some() {}
            if let Some(t) = p.a.poll_at() {
                prop_assert!(t > now, "poll_at {t} not after {now}");
            }
            let info = p.a.info();
            prop_assert!(info.recv_buffered <= cfg.recv_buffer);
            prop_assert!(info.send_buffered <= cfg.send_buffer);
            prop_assert!(info.recv_buffered + info.ooo_bytes <= cfg.recv_buffer + 65535);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// Arbitrary segments from many sources into a small listener: no panic, its queues
    /// within their limits.
    #[test]
    fn listener_arbitrary_segments(
        segs in proptest::collection::vec((arb_segment(), 0u16..40, any::<bool>()), 1..40),
    ) {
        let c = TcpConfig {
            syn_backlog: 4,
            accept_backlog: 2,
            listener_tx_queue: 8,
            ..TcpConfig::default()
        };
        let mut l = Listener::new(&c, (Ipv6Addr::UNSPECIFIED, 80), [3; 32]);
        let mut now = T0;
        for ((mut r, data, dt, dseq, dack), src, drain_out) in segs {
            r.seq_number = SeqNumber(dseq as u32);
            r.ack_number = SeqNumber(dack as u32);
            now += Duration::from_micros(dt);
            let remote = (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, src), 1000 + src);
            l.receive(now, addr_b().0, remote, 1500, &r, &data);
            l.poll(now);
            if drain_out {
                while let Some(s) = l.poll_transmit(now) {
                    let _ = through_wire(&s);
                }
            }
            prop_assert!(l.half_open() <= 4);
            prop_assert!(l.ready() <= 2);
            if let Some(t) = l.poll_at() {
                prop_assert!(t > now || !drain_out);
            }
        }
    }
}

#[test]
fn events_are_bounded() {
    let mut p = Pair::connected(&TcpConfig::default(), &TcpConfig::default());
    for _ in 0..100 {
        p.a.send(b"x");
        p.run(Duration::from_millis(50), |_| false);
    }
    let (_, eb) = p.drain_events();
    assert!(eb.len() <= 16);
    let _unused: VecDeque<u8> = VecDeque::new();
}
