//! Echo requests answered per second, in memory (issue #3): sixstack's `Stack::receive`
//! against smoltcp 0.14's `Interface`, in the same run, on the same Ethernet frame. A
//! measurement, not a test: it prints numbers and asserts nothing but that each answered.
//!
//! Both nodes have MAC 02:00:5e:00:53:02 and 2001:db8:1::2/64 and first hear a Neighbor
//! Solicitation from 2001:db8:1::1 carrying its MAC, so that the answer needs no address
//! resolution. Then one echo request from 2001:db8:1::1 (56 bytes of data, as ping sends)
//! is built once and handed in over and over at one instant:
//!
//! * sixstack: `receive(now, eth0, frame)`, then `transmit()` until empty;
//! * smoltcp: a `Device` that hands in that frame once per `poll_ingress_single`, whose
//!   transmit token writes into one reused buffer.
//!
//! Each side verifies the checksum and builds a reply with a new checksum; sixstack also
//! allocates the reply (its `transmit` hands out a `Vec`), smoltcp writes into the device.
//!
//!   SIXSTACK_BENCH_ECHOES   requests per run (default 300000); best of 5 runs
//!
//! `scripts/bench` runs it.

// Benches measure wall time: Instant::now is what they are for (the ban is for the stack).
#![allow(clippy::disallowed_methods)]

mod common;

use std::hint::black_box;
use std::time::Instant as WallClock;

use common::{Feed, OURS, PEER, a, echo_request, is_echo_reply, solicitation};
use sixstack_core::iface::IfaceConfig;
use sixstack_core::{Duration, IfaceId, Instant, Stack, StackConfig};
use sixstack_wire::addr::EthernetAddress;
use smoltcp::iface::{Config, Interface, SocketSet, SocketStorage};
use smoltcp::wire::{EthernetAddress as SmolMac, HardwareAddress, IpAddress, IpCidr};

fn ns() -> Vec<u8> {
    solicitation(PEER, a("2001:db8:1::1"), a("2001:db8:1::2"))
}

fn request() -> Vec<u8> {
    echo_request(a("2001:db8:1::1"), a("2001:db8:1::2"))
}

// ----- sixstack ----------------------------------------------------------------------

fn sixstack_node(now: Instant) -> (Stack, IfaceId) {
    let mut s = Stack::new(StackConfig::default(), 1);
    let mut c = IfaceConfig::ethernet("eth0", EthernetAddress(OURS));
    c.send_rs = false;
    let id = s.add_interface(Instant::ZERO, c);
    s.add_address(Instant::ZERO, id, a("2001:db8:1::2"), 64)
        .unwrap();
    // DAD done.
    let mut t = Instant::ZERO;
    while t < now {
        t += Duration::from_millis(100);
        s.poll(t);
    }
    s.receive(now, id, &ns());
    while s.transmit().is_some() {}
    (s, id)
}

fn run_sixstack(n: usize) -> (f64, usize) {
    let now = Instant::from_secs(10);
    let (mut s, id) = sixstack_node(now);
    let req = request();
    let mut replies = 0;
    let mut last = Vec::new();
    let t0 = WallClock::now();
    for _ in 0..n {
        s.receive(now, id, black_box(&req));
        while let Some((_, f)) = s.transmit() {
            replies += 1;
            last = black_box(f);
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    assert!(is_echo_reply(&last), "sixstack sent no echo reply");
    (secs, replies)
}

// ----- smoltcp -----------------------------------------------------------------------

fn run_smoltcp(n: usize) -> (f64, usize) {
    let now = smoltcp::time::Instant::from_secs(10);
    let ns = ns();
    let req = request();
    let mut dev = Feed::new(&ns);
    dev.pending = 1;
    let cfg = Config::new(HardwareAddress::Ethernet(SmolMac(OURS)));
    let mut iface = Interface::new(cfg, &mut dev, now);
    iface.update_ip_addrs(|addrs| {
        let _ = addrs.push(IpCidr::new(IpAddress::Ipv6(a("2001:db8:1::2")), 64));
    });
    let mut storage = [SocketStorage::EMPTY; 1];
    let mut sockets = SocketSet::new(&mut storage[..]);
    // The solicitation: fills the neighbor cache (and answers it).
    let _ = iface.poll(now, &mut dev, &mut sockets);
    let mut dev = Feed::new(&req);
    let t0 = WallClock::now();
    for _ in 0..n {
        dev.pending = 1;
        let _ = iface.poll_ingress_single(now, &mut dev, &mut sockets);
    }
    let secs = t0.elapsed().as_secs_f64();
    black_box(&dev.buf);
    assert!(is_echo_reply(&dev.buf), "smoltcp sent no echo reply");
    (secs, dev.sent)
}

fn main() {
    let n: usize = std::env::var("SIXSTACK_BENCH_ECHOES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300_000);
    // Interleaved, so that both see the same machine.
    let mut ours = (f64::MAX, 0);
    let mut theirs = (f64::MAX, 0);
    for _ in 0..5 {
        let o = run_sixstack(n);
        let t = run_smoltcp(n);
        if o.0 < ours.0 {
            ours = o;
        }
        if t.0 < theirs.0 {
            theirs = t;
        }
    }
    let rate = |(s, r): (f64, usize)| r as f64 / s;
    println!("Echo requests answered in memory, {n} per run, best of 5 runs");
    for (name, m) in [
        ("sixstack Stack::receive", ours),
        ("smoltcp 0.14 Interface", theirs),
    ] {
        println!(
            "  {:<26} {:>9} replies {:>8.3} s {:>12.0} echoes/s {:>7.0} ns/echo",
            name,
            m.1,
            m.0,
            rate(m),
            m.0 * 1e9 / m.1.max(1) as f64
        );
    }
    println!(
        "  sixstack / smoltcp: {:.2} x (above 1: sixstack answers more per second)",
        rate(ours) / rate(theirs)
    );
}
