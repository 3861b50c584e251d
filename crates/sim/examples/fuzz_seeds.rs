//! Writes `lan1.pcap` and `lan2.pcap` of a small internetwork to the folder given as the
//! argument: the frames that seed the `stack_receive` fuzz target (tests/fuzz_seeds.py
//! turns them into its input format).
//!
//! The topology is `sixstack demo`'s: router r between lan1 (h1, and h2, a clone of h1's
//! disk image whose addresses collide) and lan2 (h3). The fuzz target builds h1 and r with
//! the same MACs, RFC 7217 secrets and prefixes, so these frames are addressed to it.
//! Traffic: DAD, router discovery, SLAAC, MLD reports and a General Query, pings small and
//! fragmented, UDP to a bound and to a closed port (Destination Unreachable back), a
//! fragmented UDP datagram, UDP-Lite, neighbor unreachability detection over minutes.
//!
//!     cargo run -p sixstack-sim --example fuzz_seeds -- OUTDIR

use std::net::Ipv6Addr;

use sixstack_core::iface::IfaceConfig;
use sixstack_core::nd::ra::{AdvPrefix, AdvertConfig};
use sixstack_core::{Duration, IfaceId, Instant, Stack, StackConfig};
use sixstack_sim::testkit::{
    ETH0, ETH1, globals, icmpv6_msg, ip, ipv6_packet, link_local, mac, options_header,
};
use sixstack_sim::{LinkConfig, Network};
use sixstack_wire::icmpv6;
use sixstack_wire::ipv6opts::Ipv6Option;
use sixstack_wire::mld;
use sixstack_wire::proto::IpProtocol;

fn host(now: Instant, seed: u64, m: u8, image_secret: u8) -> Stack {
    let mut s = Stack::new(StackConfig::default(), seed);
    let mut c = IfaceConfig::ethernet("eth0", mac(m));
    c.slaac.stable_secret = [image_secret; 32];
    c.net_iface = Some(b"eth0".to_vec());
    s.add_interface(now, c);
    s
}

fn router(seed: u64) -> Stack {
    let mut s = Stack::new(StackConfig::router(), seed);
    for (name, m, prefix) in [("eth0", 1, "2001:db8:1::"), ("eth1", 2, "2001:db8:2::")] {
        let mut c = IfaceConfig::ethernet(name, mac(m));
        c.advertise = Some(AdvertConfig {
            max_rtr_adv_interval: Duration::from_secs(60),
            rdnss: vec![ip("2001:db8:1::53")],
            dnssl: vec!["example.test".to_string()],
            prefixes: vec![AdvPrefix::new(ip(prefix), 64)],
            ..AdvertConfig::default()
        });
        let id = s.add_interface(Instant::ZERO, c);
        let mut a = ip(prefix).octets();
        a[15] = 1;
        let _ = s.add_address(Instant::ZERO, id, Ipv6Addr::from(a), 64);
    }
    s
}

fn echo(seq: u16, len: usize) -> Vec<u8> {
    let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    let repr = icmpv6::Repr::EchoRequest {
        ident: 0x5eed,
        seq_no: seq,
        data: &data,
    };
    let mut buf = vec![0u8; repr.buffer_len()];
    // The raw socket fills in the checksum.
    let _ = repr.emit(&Ipv6Addr::UNSPECIFIED, &Ipv6Addr::UNSPECIFIED, &mut buf);
    buf
}

/// An MLDv2 General Query with its Router Alert (RFC 3810 §5.1), `src` to all-nodes.
fn general_query(src: Ipv6Addr) -> Vec<u8> {
    let dst = ip("ff02::1");
    let q = icmpv6::Repr::Mld(mld::Repr::QueryV2 {
        max_resp_code: 10_000,
        mcast_addr: Ipv6Addr::UNSPECIFIED,
        flags: 2,
        qqic: 125,
        sources: &[],
    });
    let upper = options_header(
        IpProtocol::ICMPV6,
        &[Ipv6Option::RouterAlert(0)],
        &icmpv6_msg(src, dst, &q),
    );
    ipv6_packet(src, dst, IpProtocol::HOPOPTS, 1, &upper)
}

fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: fuzz_seeds OUTDIR");
        std::process::exit(2);
    };
    let mut net = Network::new(1);
    let lan1 = net.add_link("lan1", LinkConfig::ethernet());
    let lan2 = net.add_link("lan2", LinkConfig::ethernet());
    if let Err(e) = net.set_pcap_dir(&dir) {
        eprintln!("{dir}: {e}");
        std::process::exit(1);
    }
    let r = net.add_node("r", router(2));
    let h1 = net.add_node("h1", host(Instant::ZERO, 3, 0x11, 7));
    let h3 = net.add_node("h3", host(Instant::ZERO, 4, 0x31, 9));
    net.attach(lan1, r, ETH0);
    net.attach(lan2, r, ETH1);
    net.attach(lan1, h1, ETH0);
    net.attach(lan2, h3, ETH0);
    net.run_until(Instant::from_secs(5));

    // A clone of h1's image: DAD on lan1 finds its addresses taken.
    let h2 = net.add_node("h2", host(Instant::from_secs(5), 5, 0x12, 7));
    net.attach(lan1, h2, ETH0);
    net.run_until(Instant::from_secs(10));

    let (Some(h1_addr), Some(h3_addr)) = (
        globals(net.node(h1), ETH0).first().copied(),
        globals(net.node(h3), ETH0).first().copied(),
    ) else {
        eprintln!("SLAAC did not complete");
        std::process::exit(1);
    };

    // Pings from h1: to h3 across the router (small, then fragmented), to r's link-local.
    let t = Instant::from_secs(10);
    let n1 = net.node_mut(h1);
    let raw1 = n1.raw_open(IpProtocol::ICMPV6).expect("socket");
    let _ = n1.raw_send_to(t, raw1, h3_addr, None, &echo(1, 56));
    net.run_until(t + Duration::from_secs(1));
    let t = Instant::from_secs(11);
    let _ = net
        .node_mut(h1)
        .raw_send_to(t, raw1, h3_addr, None, &echo(2, 3000));
    let r_ll = link_local(net.node(r), ETH0).expect("router link-local");
    let _ = net
        .node_mut(h1)
        .raw_send_to(t, raw1, r_ll, Some(ETH0), &echo(3, 8));
    net.run_until(t + Duration::from_secs(1));

    // UDP: h1 listens on port 7 (as the fuzz target's host does); h3 sends it a small and
    // a fragmented datagram, and one to a closed port; UDP-Lite the other way.
    let t = Instant::from_secs(12);
    let u1 = net.node_mut(h1).udp_open().expect("socket");
    let _ = net.node_mut(h1).bind(u1, Ipv6Addr::UNSPECIFIED, 7, None);
    let n3 = net.node_mut(h3);
    let u3 = n3.udp_open().expect("socket");
    let _ = n3.send_to(t, u3, h1_addr, 7, None, b"seed");
    let _ = n3.send_to(t, u3, h1_addr, 7, None, &[0x42; 2500]);
    let _ = n3.send_to(t, u3, h1_addr, 9, None, b"closed");
    let l3 = n3.udplite_open().expect("socket");
    let _ = n3.set_udplite_send_coverage(l3, 8);
    let _ = n3.send_to(t, l3, h1_addr, 7, None, b"lite");
    net.run_until(t + Duration::from_secs(1));

    // MLD: h1 joins a group; r queries lan1.
    let t = Instant::from_secs(14);
    let _ = net
        .node_mut(h1)
        .join_multicast(t, u1, ip("ff05::1:3"), ETH0);
    net.run_until(t + Duration::from_secs(1));
    let rn = net.node_mut(r);
    if let Ok(rs) = rn.raw_open(IpProtocol::ICMPV6) {
        let q = general_query(r_ll);
        let _ = rn.raw_send_packet(Instant::from_secs(15), rs, &q, Some(ETH0));
    }
    net.run_until(Instant::from_secs(30));

    // Minutes pass: periodic RAs, NUD (STALE, DELAY, PROBE) on the next ping.
    net.run_until(Instant::from_secs(120));
    let t = Instant::from_secs(120);
    let _ = net
        .node_mut(h1)
        .raw_send_to(t, raw1, h3_addr, None, &echo(4, 16));
    net.run_until(Instant::from_secs(140));

    // h2 leaves; h1 pings where h2 was: address resolution fails, unreachable.
    let _ = net.detach(h2, IfaceId(1));
    let t = Instant::from_secs(140);
    let _ = net
        .node_mut(h1)
        .raw_send_to(t, raw1, ip("2001:db8:1::99"), None, &echo(5, 8));
    net.run_until(Instant::from_secs(150));

    if let Err(e) = net.flush_pcaps() {
        eprintln!("{dir}: {e}");
        std::process::exit(1);
    }
    println!(
        "{} frames on lan1, {} on lan2",
        net.captured(lan1).len(),
        net.captured(lan2).len()
    );
}
