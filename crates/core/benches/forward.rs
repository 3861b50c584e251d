//! Forwarding in memory (issue #6): a `Stack` in router mode with two Ethernet interfaces
//! and a million routes (benches/common `internet_prefixes`) installed by `add_route`, all
//! out of the second interface to one next hop whose neighbor entry a Neighbor
//! Solicitation from it made. UDP packets to destinations spread over the routes go into
//! `receive` on the first interface; what `transmit` gives back is drained and counted.
//! Prints packets per second on one core and nanoseconds per packet, and the same with
//! ten routes, so that the table's share of the cost shows.
//!
//! SIXSTACK_BENCH_PACKETS sets the packets per run (default 500000; best of 3 runs),
//! SIXSTACK_BENCH_ROUTES the big table's routes (default 1000000).

// Benches measure wall time: Instant::now is what they are for (the ban is for the stack).
#![allow(clippy::disallowed_methods)]

mod common;

use std::hint::black_box;
use std::net::Ipv6Addr;
use std::time::Instant as WallClock;

use common::{OURS, PEER, a, inside, internet_prefixes, solicitation};
use sixstack_core::iface::IfaceConfig;
use sixstack_core::ip::route::{Route, RouteKind, RouteOrigin};
use sixstack_core::rng::Rng;
use sixstack_core::{Duration, IfaceId, Instant, Stack, StackConfig};
use sixstack_wire::addr::EthernetAddress;
use sixstack_wire::checksum::Checksum;

const OURS2: [u8; 6] = [0x02, 0x00, 0x5e, 0x00, 0x53, 0x12];
const PEER2: [u8; 6] = [0x02, 0x00, 0x5e, 0x00, 0x53, 0x11];
/// Distinct frames fed in turn (each to its own destination).
const FRAMES: usize = 65_536;

/// An Ethernet frame to us with a UDP datagram of 64 bytes of data.
fn udp_frame(src: Ipv6Addr, dst: Ipv6Addr) -> Vec<u8> {
    let mut udp = vec![0x30, 0x39, 0x00, 0x35, 0, 72, 0, 0];
    udp.extend((0..64u8).map(|i| i.wrapping_mul(13)));
    let c = Checksum::ipv6_pseudo_header(&src, &dst, udp.len() as u32, 17)
        .add_bytes(&udp)
        .finish();
    udp[6..8].copy_from_slice(&c.to_be_bytes());
    let mut f = OURS.to_vec();
    f.extend_from_slice(&PEER);
    f.extend_from_slice(&[0x86, 0xdd, 0x60, 0, 0, 0]);
    f.extend_from_slice(&(udp.len() as u16).to_be_bytes());
    f.extend_from_slice(&[17, 64]);
    f.extend_from_slice(&src.octets());
    f.extend_from_slice(&dst.octets());
    f.extend_from_slice(&udp);
    f
}

/// A router with `prefixes` routed out of its second interface; the frames to feed it.
fn router(prefixes: &[(u128, u8)], now: Instant) -> (Stack, IfaceId, IfaceId, Vec<Vec<u8>>) {
    let mut s = Stack::new(StackConfig::router(), 1);
    let mut c0 = IfaceConfig::ethernet("eth0", EthernetAddress(OURS));
    c0.send_rs = false;
    let mut c1 = IfaceConfig::ethernet("eth1", EthernetAddress(OURS2));
    c1.send_rs = false;
    let eth0 = s.add_interface(Instant::ZERO, c0);
    let eth1 = s.add_interface(Instant::ZERO, c1);
    s.add_address(Instant::ZERO, eth0, a("2001:db8:1::1"), 64)
        .unwrap();
    s.add_address(Instant::ZERO, eth1, a("2001:db8:2::1"), 64)
        .unwrap();
    let via = a("2001:db8:2::99");
    for &(bits, len) in prefixes {
        s.add_route(Route {
            prefix: Ipv6Addr::from(bits),
            prefix_len: len,
            iface: eth1,
            next_hop: Some(via),
            metric: 1024,
            origin: RouteOrigin::Static,
            expires: None,
            kind: RouteKind::Unicast,
        })
        .expect("a router's table holds a million routes");
    }
    let mut t = Instant::ZERO;
    while t < now {
        t += Duration::from_millis(100);
        s.poll(t);
    }
    // The next hop makes itself known: its entry is STALE with its MAC, enough to send.
    s.receive(now, eth1, &solicitation(PEER2, via, a("2001:db8:2::1")));
    while s.transmit().is_some() {}
    let mut rng = Rng::new(99);
    let mut random = || (u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64());
    let frames = (0..FRAMES)
        .map(|i| {
            let p = prefixes[i * 7919 % prefixes.len()];
            let dst = Ipv6Addr::from(inside(p, random()));
            udp_frame(a("2001:db8:1::5"), dst)
        })
        .collect();
    (s, eth0, eth1, frames)
}

/// Best of three runs of `n` packets: seconds, and frames out of `eth1`.
fn run(prefixes: &[(u128, u8)], n: usize) -> (f64, usize) {
    let now = Instant::from_secs(10);
    let t0 = WallClock::now();
    let (mut s, eth0, eth1, frames) = router(prefixes, now);
    let setup = t0.elapsed().as_secs_f64();
    assert_eq!(s.routes().len(), prefixes.len() + 2, "two connected routes");
    println!(
        "  {} routes installed and ready in {:.2} s",
        prefixes.len(),
        setup
    );
    let mut best = (f64::MAX, 0);
    for _ in 0..3 {
        let mut out = 0;
        let t0 = WallClock::now();
        for f in frames.iter().cycle().take(n) {
            s.receive(now, eth0, black_box(f));
            while let Some((iface, frame)) = s.transmit() {
                out += usize::from(iface == eth1 && frame[..6] == PEER2);
                black_box(frame);
            }
        }
        let secs = t0.elapsed().as_secs_f64();
        if secs < best.0 {
            best = (secs, out);
        }
    }
    assert_eq!(best.1, n, "every packet forwarded to the next hop");
    best
}

fn main() {
    let n: usize = std::env::var("SIXSTACK_BENCH_PACKETS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500_000);
    let total: usize = std::env::var("SIXSTACK_BENCH_ROUTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let million = internet_prefixes(total.max(10), 6);
    println!("Forwarding in memory: UDP, 64 bytes of data, {n} packets per run, best of 3 runs");
    let mut results = Vec::new();
    for routes in [10, million.len()] {
        let (secs, out) = run(&million[..routes], n);
        results.push((routes, secs, out));
    }
    for &(routes, secs, out) in &results {
        println!(
            "  {:>8} routes: {:>10.0} packets/s  {:>6.0} ns/packet",
            routes,
            out as f64 / secs,
            secs * 1e9 / out as f64
        );
    }
    println!(
        "  {} routes cost {:.0} ns per packet more than ten",
        results[1].0,
        (results[1].1 - results[0].1) * 1e9 / n as f64
    );
}
