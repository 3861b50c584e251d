//! Memory used by neighbor cache entries (issue #3): 100,000 STALE entries inserted
//! through `NeighborCache::on_link_addr` (as Neighbor Solicitations from 100,000
//! different hosts would create them), measured with a counting global allocator: the
//! heap bytes live after the inserts minus those before. Also at 1,000 and 10,000, the
//! time per insert, and the cache's own estimate (`approx_memory_bytes`).
//!
//! smoltcp 0.14's neighbor cache is a fixed-capacity `heapless::LinearMap` inside its
//! `Interface`, sized when smoltcp is compiled (8 by default; its cargo features go up to
//! 1024, the `SMOLTCP_IFACE_NEIGHBOR_CACHE_COUNT` variable at build time further) and
//! searched linearly. In an ordinary build it cannot hold 100,000 entries: the bench then
//! prints what a slot costs. Built with that variable at 100000 or more (scripts/bench
//! does so in a separate target folder), it also fills smoltcp's cache with 100,000
//! entries the only way it can be filled, Neighbor Solicitations through `Interface`, and
//! prints the memory (the size of `Interface`: nothing is on the heap) and the time.
//!
//! `scripts/bench` runs it.

// Benches measure wall time: Instant::now is what they are for (the ban is for the stack).
#![allow(clippy::disallowed_methods)]

mod common;

use std::alloc::System;
use std::hint::black_box;
use std::net::Ipv6Addr;
use std::time::Instant as WallClock;

use sixstack_core::LinkAddr;
use sixstack_core::nd::neighbor::{NeighborCache, NeighborConfig, NudState};
use sixstack_core::{Duration, Instant};
use sixstack_wire::addr::EthernetAddress;
use smoltcp::iface::{Config, Interface, SocketSet, SocketStorage};
use smoltcp::wire::{EthernetAddress as SmolMac, HardwareAddress, IpAddress, IpCidr};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Heap bytes live now, as counted since the start.
fn live() -> isize {
    let s = GLOBAL.stats();
    s.bytes_allocated as isize - s.bytes_deallocated as isize + s.bytes_reallocated
}

struct Measured {
    entries: usize,
    bytes: isize,
    estimate: usize,
    insert_ns: f64,
}

fn fill(n: usize) -> Measured {
    let base = u128::from("2001:db8::".parse::<Ipv6Addr>().unwrap());
    let mut out = Vec::with_capacity(8);
    let region = Region::new(GLOBAL);
    let before = live();
    let mut cache = NeighborCache::new(NeighborConfig {
        max_entries: n,
        ..NeighborConfig::default()
    });
    let t0 = WallClock::now();
    for i in 0..n {
        let b = (i as u32).to_be_bytes();
        let mac = EthernetAddress([0x02, 0x00, b[0], b[1], b[2], b[3]]);
        let now = Instant::ZERO + Duration::from_micros(i as u64);
        let addr = Ipv6Addr::from(base + 1 + i as u128);
        cache.on_link_addr(now, addr, LinkAddr::Mac(mac), None, &mut out);
        out.clear();
    }
    let insert_ns = t0.elapsed().as_secs_f64() * 1e9 / n as f64;
    let bytes = live() - before;
    let change = region.change();
    black_box(change.allocations);
    assert_eq!(cache.len(), n);
    assert!(cache.iter().all(|e| e.state == NudState::Stale));
    let estimate = cache.approx_memory_bytes();
    drop(black_box(cache));
    Measured {
        entries: n,
        bytes,
        estimate,
        insert_ns,
    }
}

fn main() {
    // A first small run warms the allocator, so the figures below are the cache's own.
    let _ = fill(1000);
    println!("Neighbor cache memory: STALE entries inserted with NeighborCache::on_link_addr");
    println!(
        "  {:>8} {:>14} {:>11} {:>16} {:>10}",
        "entries", "heap bytes", "bytes/entry", "estimate/entry", "ns/insert"
    );
    for n in [1_000, 10_000, 100_000] {
        let m = fill(n);
        println!(
            "  {:>8} {:>14} {:>11.1} {:>16.1} {:>10.0}",
            m.entries,
            m.bytes,
            m.bytes as f64 / m.entries as f64,
            m.estimate as f64 / m.entries as f64,
            m.insert_ns
        );
    }
    let m = stack_fill(100_000);
    println!(
        "  the same through Stack::receive of 100,000 NSs: {:.1} heap bytes/entry, {:.0} ns/NS \
         (answers drained)",
        m.bytes as f64 / m.entries as f64,
        m.insert_ns
    );
    let slot = size_of::<(
        smoltcp::wire::IpAddress,
        (smoltcp::wire::HardwareAddress, smoltcp::time::Instant),
    )>();
    let cap = smoltcp::config::IFACE_NEIGHBOR_CACHE_COUNT;
    println!(
        "  smoltcp 0.14: capacity {cap} (fixed when compiled); a slot (IpAddress, (HardwareAddress,"
    );
    println!(
        "  Instant)) takes {slot} bytes, reserved whether used or not; Interface: {} bytes.",
        size_of::<Interface>()
    );
    if cap < 100_000 {
        println!(
            "  It cannot hold 100,000 entries in this build (scripts/bench rebuilds it with\n  \
             SMOLTCP_IFACE_NEIGHBOR_CACHE_COUNT=100000 for that)."
        );
        return;
    }
    // Interface holds the whole cache inline: build and fill it on a thread with room.
    let m = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(|| smoltcp_fill(100_000))
        .unwrap()
        .join()
        .unwrap();
    println!(
        "  smoltcp, {} entries (by NS through Interface): {} bytes of Interface ({:.1}/entry), \
         {} on the heap; {:.0} ns/insert; oldest still cached: {}",
        m.entries,
        m.estimate,
        m.estimate as f64 / m.entries as f64,
        m.bytes,
        m.insert_ns,
        m.first_kept
    );
}

/// The NS frames of `n` hosts for our address (2001:db8:1::2).
fn solicitations(n: usize) -> Vec<Vec<u8>> {
    let ours = common::a("2001:db8:1::2");
    let base = u128::from(common::a("2001:db8:1::1:0"));
    (0..n)
        .map(|i| {
            let b = (i as u32).to_be_bytes();
            let mac = [0x02, 0x00, b[0], b[1], b[2], b[3]];
            common::solicitation(mac, Ipv6Addr::from(base + i as u128), ours)
        })
        .collect()
}

/// Fills a sixstack host's neighbor cache the way smoltcp's is filled below: an NS from
/// each of `n` hosts through `Stack::receive`, the answers taken from `transmit`.
fn stack_fill(n: usize) -> Measured {
    let frames = solicitations(n);
    let mut s = sixstack_core::Stack::new(sixstack_core::StackConfig::default(), 1);
    let mut c = sixstack_core::IfaceConfig::ethernet("eth0", EthernetAddress(common::OURS));
    c.send_rs = false;
    c.neighbor.max_entries = n;
    let id = s.add_interface(Instant::ZERO, c);
    s.add_address(Instant::ZERO, id, common::a("2001:db8:1::2"), 64)
        .unwrap();
    let now = Instant::from_secs(10);
    let mut t = Instant::ZERO;
    while t < now {
        t += Duration::from_millis(100);
        s.poll(t);
    }
    while s.transmit().is_some() {}
    let _ = s.take_events();
    let before = live();
    let t0 = WallClock::now();
    for f in &frames {
        s.receive(now, id, f);
        while let Some(x) = s.transmit() {
            black_box(x);
        }
        // What a driver does with events; left alone they are bounded anyway.
        if s.pending_events() > 1000 {
            let _ = s.take_events();
        }
    }
    let insert_ns = t0.elapsed().as_secs_f64() * 1e9 / n as f64;
    let _ = s.take_events();
    let bytes = live() - before;
    let entries = s.interface(id).map_or(0, |i| i.neighbors.len());
    assert_eq!(entries, n);
    Measured {
        entries,
        bytes,
        estimate: 0,
        insert_ns,
    }
}

struct SmolMeasured {
    entries: usize,
    /// Heap bytes live after minus before.
    bytes: isize,
    /// size_of::<Interface>().
    estimate: usize,
    insert_ns: f64,
    first_kept: bool,
}

/// Fills smoltcp's neighbor cache with `n` entries: an NS from each of `n` hosts.
fn smoltcp_fill(n: usize) -> SmolMeasured {
    let ours = common::a("2001:db8:1::2");
    let base = u128::from(common::a("2001:db8:1::1:0"));
    let frames = solicitations(n);
    let now = smoltcp::time::Instant::from_secs(10);
    let mut dev = common::Feed::new(&frames[0]);
    let before = live();
    let mut iface = Box::new(Interface::new(
        Config::new(HardwareAddress::Ethernet(SmolMac(common::OURS))),
        &mut dev,
        now,
    ));
    iface.update_ip_addrs(|addrs| {
        let _ = addrs.push(IpCidr::new(IpAddress::Ipv6(ours), 64));
    });
    let mut storage = [SocketStorage::EMPTY; 1];
    let mut sockets = SocketSet::new(&mut storage[..]);
    let t0 = WallClock::now();
    for f in &frames {
        dev.frame = f;
        dev.pending = 1;
        let _ = iface.poll_ingress_single(now, &mut dev, &mut sockets);
    }
    let insert_ns = t0.elapsed().as_secs_f64() * 1e9 / n as f64;
    let bytes = live() - before - size_of::<Interface>() as isize;
    // The first host's entry is still there if an echo request from it is answered
    // without address resolution.
    let req = common::echo_request(Ipv6Addr::from(base), ours);
    dev.frame = &req;
    dev.pending = 1;
    let _ = iface.poll_ingress_single(now, &mut dev, &mut sockets);
    let first_kept = common::is_echo_reply(&dev.buf);
    assert_eq!(dev.sent, n + 1, "every NS answered");
    SmolMeasured {
        entries: n,
        bytes,
        estimate: size_of::<Interface>(),
        insert_ns,
        first_kept,
    }
}
