//! The route table at Internet scale (issue #6): a million IPv6 prefixes with a realistic
//! length mix (benches/common `internet_prefixes`), eight next hops on two interfaces.
//! Prints the time to build, the heap bytes per route (counted by the global allocator:
//! live bytes after the build minus before) and nanoseconds per longest prefix match on
//! a million destinations, half of them inside a route's prefix and half anywhere under
//! 2000::/3 (nearly all of which match nothing).
//!
//! Our `RouteTable` keeps its prefixes in `prefix-trie` 0.10's `PrefixMap` (a tree-bitmap
//! trie) and its routes beside it: 16-byte slots per prefix, interned next hops, side
//! tables for routes that expire or can be evicted. The peer is that same `PrefixMap`
//! alone, built from the same prefixes in the same run, holding a `u32` per prefix (an
//! index into a next-hop table the caller would keep: the smallest value a route needs).
//! The difference is what our whole routes (interface, next hop, metric, origin, kind,
//! several per prefix, removable one by one) cost on top of the bare index.
//!
//! SIXSTACK_BENCH_ROUTES sets the number of prefixes (default 1000000).

// Benches measure wall time: Instant::now is what they are for (the ban is for the stack).
#![allow(clippy::disallowed_methods)]

mod common;

use std::alloc::System;
use std::hint::black_box;
use std::net::Ipv6Addr;
use std::time::Instant as WallClock;

use common::{inside, internet_prefixes};
use prefix_trie::PrefixMap;
use sixstack_core::IfaceId;
use sixstack_core::ip::route::{Route, RouteKind, RouteOrigin, RouteTable};
use sixstack_core::rng::Rng;
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Heap bytes live now, as counted since the start. stats_alloc already adds a growing
/// `realloc`'s difference to `bytes_allocated` (and a shrinking one's to
/// `bytes_deallocated`), so `bytes_reallocated` is not added again: vectors that grow by
/// reallocation would count twice.
fn live() -> isize {
    let s = GLOBAL.stats();
    s.bytes_allocated as isize - s.bytes_deallocated as isize
}

const HOPS: u32 = 8;

fn hop(i: usize) -> (IfaceId, Ipv6Addr) {
    let h = i as u32 % HOPS;
    (
        IfaceId(1 + h % 2),
        Ipv6Addr::from(0xfe80_u128 << 112 | u128::from(h + 1)),
    )
}

struct Built<T> {
    table: T,
    secs: f64,
    bytes: isize,
}

fn build_ours(prefixes: &[(u128, u8)]) -> Built<RouteTable> {
    let before = live();
    let t0 = WallClock::now();
    let mut t = RouteTable::new(prefixes.len());
    for (i, &(bits, len)) in prefixes.iter().enumerate() {
        let (iface, nh) = hop(i);
        t.add(Route {
            prefix: Ipv6Addr::from(bits),
            prefix_len: len,
            iface,
            next_hop: Some(nh),
            metric: 1024,
            origin: RouteOrigin::Static,
            expires: None,
            kind: RouteKind::Unicast,
        })
        .expect("the table has room for every prefix");
    }
    let secs = t0.elapsed().as_secs_f64();
    assert_eq!(t.len(), prefixes.len());
    Built {
        table: t,
        secs,
        bytes: live() - before,
    }
}

fn build_theirs(prefixes: &[(u128, u8)]) -> Built<PrefixMap<(u128, u8), u32>> {
    let before = live();
    let t0 = WallClock::now();
    let mut t = PrefixMap::new();
    for (i, &p) in prefixes.iter().enumerate() {
        t.insert(p, i as u32 % HOPS);
    }
    let secs = t0.elapsed().as_secs_f64();
    assert_eq!(t.len(), prefixes.len());
    Built {
        table: t,
        secs,
        bytes: live() - before,
    }
}

/// Best of three passes over `dsts`: seconds per lookup, and how many matched.
fn time_lookups(dsts: &[u128], mut f: impl FnMut(u128) -> bool) -> (f64, usize) {
    let mut best = f64::MAX;
    let mut hits = 0;
    for _ in 0..3 {
        hits = 0;
        let t0 = WallClock::now();
        for &d in dsts {
            hits += usize::from(f(black_box(d)));
        }
        best = best.min(t0.elapsed().as_secs_f64());
    }
    (best / dsts.len() as f64, hits)
}

fn main() {
    let n: usize = std::env::var("SIXSTACK_BENCH_ROUTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let prefixes = internet_prefixes(n, 6);
    let mut rng = Rng::new(66);
    let mut random = || (u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64());
    let mut lens = [0usize; 129];
    prefixes.iter().for_each(|p| lens[usize::from(p.1)] += 1);
    let dsts: Vec<u128> = (0..1_000_000)
        .map(|i| {
            if i % 2 == 0 {
                let r = random();
                inside(prefixes[(r % prefixes.len() as u128) as usize], random())
            } else {
                (random() >> 3) | (1u128 << 125)
            }
        })
        .collect();

    let ours = build_ours(&prefixes);
    let theirs = build_theirs(&prefixes);

    // Both must agree on the longest match before their speeds mean anything.
    for &d in dsts.iter().take(100_000) {
        let a = ours
            .table
            .lookup(&Ipv6Addr::from(d), None)
            .map(|r| r.prefix_len);
        let b = theirs.table.get_lpm(&(d, 128)).map(|(p, _)| p.1);
        assert_eq!(a, b, "{}", Ipv6Addr::from(d));
    }

    let (ours_s, ours_hits) = time_lookups(&dsts, |d| {
        ours.table
            .lookup(&Ipv6Addr::from(d), None)
            .is_some_and(|r| black_box(r).next_hop.is_some())
    });
    // The peer reads its value too: a lookup is for the next hop, not a yes or no.
    let (theirs_s, theirs_hits) = time_lookups(&dsts, |d| {
        theirs
            .table
            .get_lpm(&(d, 128))
            .is_some_and(|(_, &h)| black_box(h) < HOPS)
    });
    assert_eq!(ours_hits, theirs_hits);

    let shown: Vec<String> = lens
        .iter()
        .enumerate()
        .filter(|(_, c)| **c > 0)
        .map(|(l, c)| format!("/{l} {c}"))
        .collect();
    println!(
        "Route table: {n} IPv6 prefixes, {HOPS} next hops; lengths: {}",
        shown.join(", ")
    );
    println!(
        "  lookups: {} destinations, {} matched; best of 3 passes",
        dsts.len(),
        ours_hits
    );
    let per = |b: isize| b as f64 / n as f64;
    for (name, secs, bytes, lookup) in [
        ("sixstack RouteTable", ours.secs, ours.bytes, ours_s),
        ("plain prefix-trie", theirs.secs, theirs.bytes, theirs_s),
    ] {
        println!(
            "  {:<20} build {:>6.3} s ({:>5.0} ns/route)  {:>6.1} bytes/route  {:>6.1} ns/lookup  {:>5.2} M lookups/s",
            name,
            secs,
            secs * 1e9 / n as f64,
            per(bytes),
            lookup * 1e9,
            1e-6 / lookup
        );
    }
    println!(
        "  the routes over the bare index: {:+.1} bytes/route, {:+.1} ns/lookup, {:+.0} ns/route to build ({:.2} x, {:.2} x, {:.2} x)",
        per(ours.bytes) - per(theirs.bytes),
        (ours_s - theirs_s) * 1e9,
        (ours.secs - theirs.secs) * 1e9 / n as f64,
        per(ours.bytes) / per(theirs.bytes),
        ours_s / theirs_s,
        ours.secs / theirs.secs
    );
    println!(
        "  sixstack's own estimate: {:.1} bytes/route",
        ours.table.approx_memory_bytes() as f64 / n as f64
    );
}
