//! SLAAC at scale (issue #3): 1,000 sixstack hosts and one sixstack router on one
//! Ethernet link in the simulator, all plugged in at time zero. Runs until every host has
//! a preferred global address and prints how long that took in virtual and in wall-clock
//! time, nodes completing SLAAC per wall-clock second, and frames simulated per second
//! (frames put on the link, and copies delivered to a node's `receive`: on one link every
//! multicast frame reaches every node). A measurement, not a test: it asserts nothing.
//!
//!   SIXSTACK_BENCH_HOSTS   hosts on the link (default 1000)
//!
//! `scripts/bench` runs it.

// Benches measure wall time: Instant::now is what they are for (the ban is for the stack).
#![allow(clippy::disallowed_methods)]

use std::net::Ipv6Addr;
use std::time::Instant as WallClock;

use sixstack_core::iface::IfaceConfig;
use sixstack_core::nd::ra::{AdvPrefix, AdvertConfig};
use sixstack_core::slaac::AddrState;
use sixstack_core::{Duration, IfaceId, Instant, Stack, StackConfig};
use sixstack_sim::{Limits, LinkConfig, Network, NodeId};
use sixstack_wire::addr::EthernetAddress;

const ETH0: IfaceId = IfaceId(1);

fn mac(n: u32) -> EthernetAddress {
    let b = n.to_be_bytes();
    EthernetAddress([0x02, 0x00, 0x5e, b[1], b[2], b[3]])
}

fn router() -> Stack {
    let mut s = Stack::new(StackConfig::router(), 1);
    let mut c = IfaceConfig::ethernet("eth0", mac(0));
    c.advertise = Some(AdvertConfig {
        prefixes: vec![AdvPrefix::new("2001:db8:1::".parse().unwrap(), 64)],
        ..AdvertConfig::default()
    });
    let id = s.add_interface(Instant::ZERO, c);
    let _ = s.add_address(Instant::ZERO, id, "2001:db8:1::1".parse().unwrap(), 64);
    s
}

fn has_preferred_global(s: &Stack) -> bool {
    s.interface(ETH0).is_some_and(|i| {
        i.addrs.iter().any(|e| {
            e.state == AddrState::Preferred
                && !e.addr.is_unicast_link_local()
                && e.addr != Ipv6Addr::LOCALHOST
        })
    })
}

fn main() {
    let hosts: u32 = std::env::var("SIXSTACK_BENCH_HOSTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);

    let t_build = WallClock::now();
    let mut net = Network::new(7);
    // All hosts start at once: their first MLD reports are hosts² frame copies in flight.
    net.set_limits(Limits {
        in_flight: 50_000_000,
        ..Limits::default()
    });
    let lan = net.add_link("lan", LinkConfig::ethernet());
    let r = net.add_node("r", router());
    net.attach(lan, r, ETH0);
    let mut ids: Vec<NodeId> = Vec::with_capacity(hosts as usize);
    for n in 1..=hosts {
        let mut s = Stack::new(StackConfig::default(), u64::from(n) + 100);
        s.add_interface(Instant::ZERO, IfaceConfig::ethernet("eth0", mac(n)));
        let id = net.add_node(&format!("h{n}"), s);
        net.attach(lan, id, ETH0);
        ids.push(id);
    }
    let build = t_build.elapsed();

    // Run in 50 ms steps of virtual time, looking after each step at who is done.
    let step = Duration::from_millis(50);
    let limit = Instant::from_secs(120);
    let mut done = vec![false; ids.len()];
    let mut left = ids.len();
    let mut check_time = std::time::Duration::ZERO;
    let t0 = WallClock::now();
    while left > 0 && net.now() < limit {
        net.run_for(step);
        let tc = WallClock::now();
        for (k, id) in ids.iter().enumerate() {
            if !done[k] && has_preferred_global(net.node(*id)) {
                done[k] = true;
                left -= 1;
            }
        }
        check_time += tc.elapsed();
    }
    let wall = t0.elapsed();
    let virt = net.now();
    let ls = net.link_stats(lan);
    let ns = net.stats();
    let run = wall.saturating_sub(check_time).as_secs_f64();
    let completed = ids.len() - left;

    println!("SLAAC at scale: {hosts} sixstack hosts and 1 router on one Ethernet link");
    println!(
        "  built in {:.2} s; hosts with a preferred global address: {completed} of {hosts}",
        build.as_secs_f64()
    );
    println!(
        "  virtual time until the last one: {:.2} s (checked every 50 ms)",
        virt.total_micros() as f64 / 1e6
    );
    println!(
        "  wall clock: {:.3} s (plus {:.3} s looking at the nodes between steps)",
        run,
        check_time.as_secs_f64()
    );
    println!(
        "  nodes completing SLAAC per wall-clock second: {:.0}",
        completed as f64 / run
    );
    println!(
        "  frames on the link: {} ({:.0}/s); copies delivered to nodes: {} ({:.0}/s)",
        ls.sent,
        ls.sent as f64 / run,
        ls.delivered,
        ls.delivered as f64 / run
    );
    println!(
        "  polls: {}; overflow: {}; livelock: {}; transmit_cut: {}",
        ns.polls, ls.overflow, ns.livelock, ns.transmit_cut
    );
    let mut per_node_drops: std::collections::BTreeMap<&str, u64> = Default::default();
    for id in &ids {
        for (reason, n) in &net.node(*id).stats().drops {
            *per_node_drops.entry(reason).or_default() += n;
        }
    }
    let mut top: Vec<_> = per_node_drops.into_iter().collect();
    top.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    let top: Vec<String> = top
        .iter()
        .take(3)
        .map(|(r, n)| format!("{r}: {n}"))
        .collect();
    println!("  hosts' top drop reasons: {}", top.join("; "));
}
