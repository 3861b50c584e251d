//! Stateless address autoconfiguration scenarios (RFC 4862 with RFC 7527 nonces, RFC 7217
//! stable and RFC 8981 temporary identifiers, RFC 6724 source selection) and RFC 4007
//! zones, in the TAHI manner: sixstack nodes on simulated links, RAs and NAs injected for
//! the routers and peers the tester fakes, assertions on the wire and in the nodes.

use std::net::Ipv6Addr;
use std::time::Duration;

use sixstack_core::iface::IfaceConfig;
use sixstack_core::slaac::{AddrState, IidMode, Origin, stable_iid};
use sixstack_core::{EventKind, IfaceId, Instant, Stack, StackConfig};
use sixstack_sim::testkit::*;
use sixstack_sim::{LinkConfig, LinkId, Network, NodeId};
use sixstack_wire::addr::{EthernetAddress, Ipv6AddrExt};
use sixstack_wire::icmpv6::{self, Message};
use sixstack_wire::ndisc::{self, neighbor_flags as na_flags};
use sixstack_wire::ndiscopt::{self, prefix_flags};
use sixstack_wire::proto::IpProtocol;

const SECRET: [u8; 32] = [0x5e; 32];
const LA: u8 = prefix_flags::ON_LINK | prefix_flags::AUTONOMOUS;
/// The link's propagation delay: an injected frame arrives this much later.
const HOP: Duration = Duration::from_micros(100);

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn lan_with(
    seed: u64,
    test: &str,
    tweak: impl FnOnce(&mut IfaceConfig),
) -> (Network<Stack>, LinkId, NodeId) {
    let mut net = Network::new(seed);
    let link = net.add_link("lan", LinkConfig::ethernet());
    let h = net.add_node("h1", host_with(seed, mac(1), tweak));
    net.attach(link, h, ETH0);
    record(&mut net, test);
    (net, link, h)
}

/// A host with a known RFC 7217 secret.
fn lan(seed: u64, test: &str) -> (Network<Stack>, LinkId, NodeId) {
    lan_with(seed, test, |c| c.slaac.stable_secret = SECRET)
}

fn sent_by(net: &Network<Stack>, link: LinkId, h: NodeId, since: Instant) -> Vec<Seen> {
    packets(net, link)
        .into_iter()
        .filter(|s| s.from == Some(h) && s.time >= since)
        .collect()
}

/// DAD probes (NS from ::) a node sent since `since`, with their targets and nonces.
fn dad_probes(
    net: &Network<Stack>,
    link: LinkId,
    h: NodeId,
    since: Instant,
) -> Vec<(Seen, Ipv6Addr, Vec<u8>)> {
    sent_by(net, link, h, since)
        .into_iter()
        .filter(|s| s.is_icmp(Message::NEIGHBOR_SOLICIT) && s.src.is_unspecified())
        .map(|s| {
            let nd = nd_of(&s).expect("valid NS");
            let ndisc::Repr::NeighborSolicit { target_addr, .. } = nd else {
                unreachable!()
            };
            let nonce = nd_opts(&nd)
                .iter()
                .find_map(|o| match o {
                    ndiscopt::Repr::Nonce(n) => Some(n.to_vec()),
                    _ => None,
                })
                .unwrap_or_default();
            (s.clone(), target_addr, nonce)
        })
        .collect()
}

fn state(net: &Network<Stack>, h: NodeId, iface: IfaceId, a: Ipv6Addr) -> Option<AddrState> {
    net.node(h).interface(iface)?.addrs.get(&a).map(|e| e.state)
}

fn addr_events(
    net: &mut Network<Stack>,
    h: NodeId,
    a: Ipv6Addr,
) -> Vec<(Instant, Option<AddrState>, Option<AddrState>)> {
    net.node_mut(h)
        .take_events()
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::Address { addr, from, to } if addr == a => Some((e.time, from, to)),
            _ => None,
        })
        .collect()
}

fn entry_of(net: &Network<Stack>, h: NodeId, origin: Origin) -> Vec<Ipv6Addr> {
    net.node(h)
        .interface(ETH0)
        .unwrap()
        .addrs
        .iter()
        .filter(|e| e.origin == origin)
        .map(|e| e.addr)
        .collect()
}

fn with_iid(prefix: &str, iid: [u8; 8]) -> Ipv6Addr {
    let mut o = ip(prefix).octets();
    o[8..].copy_from_slice(&iid);
    Ipv6Addr::from(o)
}

fn prefix_u64(prefix: &str) -> u64 {
    (u128::from(ip(prefix)) >> 64) as u64
}

/// The RFC 7217 address a host at `mac(1)` with SECRET forms in `prefix`.
fn stable(prefix: &str) -> Ipv6Addr {
    with_iid(
        prefix,
        stable_iid(prefix_u64(prefix), &mac(1).0, &[], 0, &SECRET),
    )
}

/// A router the tester fakes: fe80::<n> at mac(n).
fn rtr(n: u8) -> (Ipv6Addr, EthernetAddress) {
    (
        Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, u16::from(n)),
        mac(n),
    )
}

fn ra_frame(n: u8, router_lifetime: u16, opts: &[ndiscopt::Repr<'_>]) -> Vec<u8> {
    let (src, m) = rtr(n);
    let mut all = vec![ndiscopt::Repr::SourceLinkLayerAddr(&m.0)];
    all.extend_from_slice(opts);
    let options = nd_options(&all);
    nd_frame(
        m,
        mac(0),
        src,
        ip("ff02::1"),
        ndisc::Repr::RouterAdvert {
            cur_hop_limit: 0,
            flags: 0,
            router_lifetime,
            reachable_time: 0,
            retrans_time: 0,
            options: &options,
        },
    )
}

fn pio(prefix: &str, flags: u8, valid: u32, preferred: u32) -> ndiscopt::Repr<'static> {
    ndiscopt::Repr::PrefixInformation {
        prefix_len: 64,
        flags,
        valid_lifetime: valid,
        preferred_lifetime: preferred,
        prefix: ip(prefix),
    }
}

/// Injects an RA from fe80::90 with these prefixes; returns when it arrives.
fn advertise(net: &mut Network<Stack>, link: LinkId, opts: &[ndiscopt::Repr<'_>]) -> Instant {
    let t = net.now();
    net.inject(link, None, ra_frame(0x90, 1800, opts));
    t + HOP
}

/// A DAD probe (NS from ::, to the solicited-node group, with a nonce) for `target`.
fn dad_ns_frame(from: EthernetAddress, target: Ipv6Addr, nonce: [u8; 6]) -> Vec<u8> {
    let opts = nd_options(&[ndiscopt::Repr::Nonce(&nonce)]);
    nd_frame(
        from,
        mac(0),
        Ipv6Addr::UNSPECIFIED,
        target.solicited_node(),
        ndisc::Repr::NeighborSolicit {
            target_addr: target,
            options: &opts,
        },
    )
}

/// The source address `h` picks for a datagram to `dst`: read on the wire, or, for an
/// on-link destination nobody answers for, in the packet queued for address resolution.
fn udp_from(net: &mut Network<Stack>, link: LinkId, h: NodeId, dst: &str) -> Ipv6Addr {
    let t0 = net.now();
    let s = net.node_mut(h).udp_open().unwrap();
    net.node_mut(h)
        .send_to(t0, s, ip(dst), 9, None, b"who am I")
        .expect("send");
    net.run_for(ms(10));
    if let Some(d) = sent_by(net, link, h, t0)
        .into_iter()
        .find(|s| s.proto == IpProtocol::UDP && s.dst == ip(dst))
    {
        return d.src;
    }
    let i = net.node(h).interface(ETH0).unwrap();
    let queued = i
        .neighbors
        .queued(&ip(dst))
        .last()
        .expect("datagram sent or queued");
    Ipv6Addr::from(<[u8; 16]>::try_from(&queued[8..24]).unwrap())
}

// ----- RFC 4862 §5.3, §5.4 link-local address and DAD ---------------------------------

#[test]
fn rfc4862_5_4_2_link_local_dad_probe_from_unspecified_with_nonce_then_preferred() {
    let (mut net, link, h) = lan(
        40,
        "rfc4862_5_4_2_link_local_dad_probe_from_unspecified_with_nonce_then_preferred",
    );
    net.run_until(Instant::from_secs(5));
    let ll = entry_of(&net, h, Origin::LinkLocal);
    assert_eq!(ll.len(), 1);
    let ll = ll[0];
    // §5.3: fe80::/64 and the interface identifier (RFC 7217 by default).
    assert_eq!(ll, stable("fe80::"));
    let probes = dad_probes(&net, link, h, Instant::ZERO);
    assert_eq!(probes.len(), 1, "DupAddrDetectTransmits = 1");
    let (p, target, nonce) = &probes[0];
    assert_eq!(*target, ll);
    // §5.4.2: from ::, to the solicited-node group, hop limit 255, after a random delay
    // of at most MAX_RTR_SOLICITATION_DELAY.
    assert!(p.time <= Instant::from_secs(1), "{}", p.time);
    assert_eq!(p.dst, ll.solicited_node());
    assert_eq!(p.eth_dst, mcast_mac(&ll.solicited_node()));
    assert_eq!(p.hop_limit, 255);
    // RFC 7527: a Nonce option; RFC 4861 §4.3: no SLLA from ::.
    assert_eq!(nonce.len(), 6);
    let nd = nd_of(p).unwrap();
    assert_eq!(nd_opts(&nd), vec![ndiscopt::Repr::Nonce(&nonce[..])]);
    // Preferred RetransTimer (1 s) after the probe, not before.
    let ev = addr_events(&mut net, h, ll);
    assert_eq!(
        ev,
        vec![
            (Instant::ZERO, None, Some(AddrState::Tentative)),
            (
                p.time + secs(1),
                Some(AddrState::Tentative),
                Some(AddrState::Preferred)
            ),
        ]
    );
    // While tentative, nothing was sent from it.
    assert!(
        sent_by(&net, link, h, Instant::ZERO)
            .iter()
            .all(|s| s.src != ll || s.time >= p.time + secs(1))
    );
    assert_eq!(link_local(net.node(h), ETH0), Some(ll));
}

#[test]
fn rfc4862_5_1_dup_addr_detect_transmits_3_sends_3_probes() {
    let (mut net, link, h) = lan_with(
        41,
        "rfc4862_5_1_dup_addr_detect_transmits_3_sends_3_probes",
        |c| c.slaac.dup_addr_detect_transmits = 3,
    );
    net.run_until(Instant::from_secs(8));
    let ll = entry_of(&net, h, Origin::LinkLocal)[0];
    let probes = dad_probes(&net, link, h, Instant::ZERO);
    assert_eq!(probes.len(), 3);
    assert!(probes.iter().all(|p| p.1 == ll));
    assert_eq!(probes[1].0.time - probes[0].0.time, secs(1));
    assert_eq!(probes[2].0.time - probes[1].0.time, secs(1));
    // A fresh nonce per probe.
    assert_ne!(probes[0].2, probes[1].2);
    assert_ne!(probes[1].2, probes[2].2);
    let ev = addr_events(&mut net, h, ll);
    assert_eq!(
        ev.last(),
        Some(&(
            probes[2].0.time + secs(1),
            Some(AddrState::Tentative),
            Some(AddrState::Preferred)
        ))
    );
}

#[test]
fn rfc4862_5_4_4_duplicate_detected_by_a_neighbor_advertisement() {
    let (mut net, link, h) = lan(
        42,
        "rfc4862_5_4_4_duplicate_detected_by_a_neighbor_advertisement",
    );
    net.run_until(Instant::from_secs(3));
    let a = ip("2001:db8::1");
    let t0 = net.now();
    net.node_mut(h).add_address(t0, ETH0, a, 64).unwrap();
    net.run_for(ms(500));
    assert_eq!(dad_probes(&net, link, h, t0).len(), 1);
    assert_eq!(state(&net, h, ETH0, a), Some(AddrState::Tentative));
    // The owner defends: NA to all-nodes, O set, S clear (RFC 4861 §7.2.4).
    let owner = mac(0x99);
    let opts = nd_options(&[ndiscopt::Repr::TargetLinkLayerAddr(&owner.0)]);
    let f = nd_frame(
        owner,
        mac(0),
        a,
        ip("ff02::1"),
        ndisc::Repr::NeighborAdvert {
            flags: na_flags::OVERRIDE,
            target_addr: a,
            options: &opts,
        },
    );
    let t1 = net.now();
    net.inject(link, None, f);
    net.run_for(secs(3));
    assert_eq!(state(&net, h, ETH0, a), Some(AddrState::Duplicate));
    assert!(!net.node(h).assigned_addrs(ETH0).contains(&a));
    assert_eq!(
        addr_events(&mut net, h, a).last(),
        Some(&(
            t1 + HOP,
            Some(AddrState::Tentative),
            Some(AddrState::Duplicate)
        ))
    );
    let c = net.node(h).interface(ETH0).unwrap().addrs.counters();
    assert_eq!(c.dad_failures, 1);
    // The address is not ours: an NS for it is not answered, nothing comes from it.
    let t2 = net.now();
    let opts = nd_options(&[ndiscopt::Repr::SourceLinkLayerAddr(&mac(0x98).0)]);
    net.inject(
        link,
        None,
        nd_frame(
            mac(0x98),
            mac(0),
            ip("2001:db8::98"),
            a.solicited_node(),
            ndisc::Repr::NeighborSolicit {
                target_addr: a,
                options: &opts,
            },
        ),
    );
    net.run_for(secs(1));
    assert!(sent_by(&net, link, h, t0).iter().all(|s| s.src != a));
    assert!(sent_by(&net, link, h, t2).is_empty());
}

#[test]
fn rfc4862_5_4_5_the_owner_of_a_duplicate_address_is_an_ordinary_neighbor() {
    // Found against the Linux kernel (crates/cli/tests/netns_interop.rs): once DAD finds
    // an address duplicate, it is not ours (§5.4.5), so its owner's advertisements are
    // answers like any other, not conflicts: we resolve it and talk to it.
    let (mut net, link, h) = lan(
        45,
        "rfc4862_5_4_5_the_owner_of_a_duplicate_address_is_an_ordinary_neighbor",
    );
    net.run_until(Instant::from_secs(3));
    let a = ip("2001:db8::1");
    let t0 = net.now();
    net.node_mut(h).add_address(t0, ETH0, a, 64).unwrap();
    net.node_mut(h)
        .add_address(t0, ETH0, ip("2001:db8::2"), 64)
        .unwrap();
    net.run_for(ms(500));
    let owner = mac(0x99);
    let na = |flags: u8, dst: Ipv6Addr| {
        let opts = nd_options(&[ndiscopt::Repr::TargetLinkLayerAddr(&owner.0)]);
        nd_frame(
            owner,
            mac(1),
            a,
            dst,
            ndisc::Repr::NeighborAdvert {
                flags,
                target_addr: a,
                options: &opts,
            },
        )
    };
    net.inject(link, None, na(na_flags::OVERRIDE, ip("ff02::1")));
    net.run_for(secs(3));
    assert_eq!(state(&net, h, ETH0, a), Some(AddrState::Duplicate));
    // A datagram to the owner: resolved by its solicited answer, then sent to its MAC.
    net.node_mut(h).take_events();
    let t1 = net.now();
    let s = net.node_mut(h).udp_open().unwrap();
    net.node_mut(h)
        .send_to(t1, s, a, 9, None, b"to the owner")
        .expect("send");
    net.run_for(ms(10));
    assert!(
        sent_by(&net, link, h, t1)
            .iter()
            .any(|s| s.is_icmp(Message::NEIGHBOR_SOLICIT))
    );
    net.inject(
        link,
        None,
        na(na_flags::SOLICITED | na_flags::OVERRIDE, ip("2001:db8::2")),
    );
    net.run_for(ms(10));
    let sent = sent_by(&net, link, h, t1);
    let udp = sent
        .iter()
        .find(|s| s.proto == IpProtocol::UDP)
        .expect("the datagram left once the owner answered");
    assert_eq!(udp.eth_dst, owner);
    assert_eq!(udp.src, ip("2001:db8::2"));
    assert!(
        !net.node_mut(h)
            .take_events()
            .iter()
            .any(|e| matches!(e.kind, EventKind::AddressConflict { .. })),
        "the owner's answer was taken for a conflict"
    );
}

#[test]
fn rfc4862_5_4_3_duplicate_detected_by_another_nodes_dad_probe() {
    // Two sixstack hosts configured with the same address at the same moment.
    let mut net = Network::new(43);
    let link = net.add_link("lan", LinkConfig::ethernet());
    let h1 = net.add_node("h1", host(431, mac(1)));
    let h2 = net.add_node("h2", host(432, mac(2)));
    net.attach(link, h1, ETH0);
    net.attach(link, h2, ETH0);
    record(
        &mut net,
        "rfc4862_5_4_3_duplicate_detected_by_another_nodes_dad_probe",
    );
    net.run_until(Instant::from_secs(3));
    let a = ip("2001:db8::5");
    let t0 = net.now();
    net.node_mut(h1).add_address(t0, ETH0, a, 64).unwrap();
    net.node_mut(h2).add_address(t0, ETH0, a, 64).unwrap();
    net.run_for(secs(3));
    for h in [h1, h2] {
        let p = dad_probes(&net, link, h, t0);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].1, a);
        // §5.4.3: the other's probe (another nonce) arrived while tentative.
        assert_eq!(state(&net, h, ETH0, a), Some(AddrState::Duplicate));
        assert!(!net.node(h).assigned_addrs(ETH0).contains(&a));
        assert_eq!(
            addr_events(&mut net, h, a).last(),
            Some(&(
                t0 + HOP,
                Some(AddrState::Tentative),
                Some(AddrState::Duplicate)
            ))
        );
        // Neither defends a tentative address with an NA.
        assert!(
            sent_by(&net, link, h, t0)
                .iter()
                .all(|s| !s.is_icmp(Message::NEIGHBOR_ADVERT))
        );
    }
    assert_ne!(
        dad_probes(&net, link, h1, t0)[0].2,
        dad_probes(&net, link, h2, t0)[0].2
    );
}

#[test]
fn rfc7527_4_looped_back_probe_is_not_a_duplicate() {
    let (mut net, link, h) = lan(44, "rfc7527_4_looped_back_probe_is_not_a_duplicate");
    net.run_until(Instant::from_secs(3));
    let counters = |net: &Network<Stack>| {
        let c = net.node(h).interface(ETH0).unwrap().addrs.counters();
        (c.looped_back_probes, c.dad_failures)
    };
    // 1. The medium hands the probe back byte for byte (a loop), our own source MAC
    // included: the link layer lets it through (a clone with our MAC must be heard) and
    // the nonce tells DAD it is ours.
    let a = ip("2001:db8::1");
    let t0 = net.now();
    net.node_mut(h).add_address(t0, ETH0, a, 64).unwrap();
    net.run_for(ms(1));
    let own = net
        .captured(link)
        .iter()
        .rfind(|c| c.from == Some(h))
        .expect("probe on the wire")
        .clone();
    let probe = seen(&own).unwrap();
    assert!(probe.is_icmp(Message::NEIGHBOR_SOLICIT) && probe.src.is_unspecified());
    net.inject(link, None, own.frame.clone());
    net.run_for(secs(3));
    assert_eq!(state(&net, h, ETH0, a), Some(AddrState::Preferred));
    assert_eq!(
        counters(&net),
        (1, 0),
        "recognised as our own probe by its nonce"
    );
    // 2. A reflector that rewrites the Ethernet source (some wireless access points do):
    // only the nonce tells it is our probe.
    let b = ip("2001:db8::2");
    let t1 = net.now();
    net.node_mut(h).add_address(t1, ETH0, b, 64).unwrap();
    net.run_for(ms(1));
    let (_, target, nonce) = dad_probes(&net, link, h, t1).pop().expect("probe for b");
    assert_eq!(target, b);
    let nonce = <[u8; 6]>::try_from(&nonce[..]).unwrap();
    net.inject(link, None, dad_ns_frame(mac(0xa0), b, nonce));
    net.run_for(secs(3));
    assert_eq!(state(&net, h, ETH0, b), Some(AddrState::Preferred));
    assert_eq!(counters(&net), (2, 0));
    // 3. The same probe with another nonce is another node's: a duplicate.
    let c = ip("2001:db8::3");
    let t2 = net.now();
    net.node_mut(h).add_address(t2, ETH0, c, 64).unwrap();
    net.run_for(ms(1));
    let (_, target, nonce) = dad_probes(&net, link, h, t2).pop().expect("probe for c");
    assert_eq!(target, c);
    let mut other = <[u8; 6]>::try_from(&nonce[..]).unwrap();
    other[0] ^= 0xff;
    net.inject(link, None, dad_ns_frame(mac(0xa0), c, other));
    net.run_for(secs(3));
    assert_eq!(state(&net, h, ETH0, c), Some(AddrState::Duplicate));
    assert_eq!(counters(&net), (2, 1));
}

// ----- RFC 4862 §5.5 SLAAC ------------------------------------------------------------

#[test]
fn rfc4862_5_5_3_slaac_from_pio_with_rfc7217_stable_identifier() {
    let test = "rfc4862_5_5_3_slaac_from_pio_with_rfc7217_stable_identifier";
    // Each run keeps its own pcaps: <test>/run-<seed>-<first secret byte>.
    let form = |seed: u64, secret: [u8; 32]| {
        let mut net = Network::new(seed);
        let link = net.add_link("lan", LinkConfig::ethernet());
        let h = net.add_node(
            "h1",
            host_with(seed, mac(1), |c| c.slaac.stable_secret = secret),
        );
        net.attach(link, h, ETH0);
        record(&mut net, &format!("{test}/run-{seed}-{:02x}", secret[0]));
        net.run_until(Instant::from_secs(3));
        advertise(
            &mut net,
            link,
            &[
                pio("2001:db8:1::", LA, 86_400, 14_400),
                pio("2001:db8:2::", LA, 86_400, 14_400),
            ],
        );
        net.run_for(secs(3));
        let mut g = globals(net.node(h), ETH0);
        g.sort();
        let ll = link_local(net.node(h), ETH0).unwrap();
        (g, ll, entry_of(&net, h, Origin::Stable))
    };
    let (g, ll, stable_entries) = form(45, SECRET);
    let (a1, a2) = (stable("2001:db8:1::"), stable("2001:db8:2::"));
    // prefix/64 + F(prefix, Net_Iface, Network_ID, DAD_Counter=0, secret) (RFC 7217 §5).
    assert_eq!(g, vec![a1, a2]);
    assert_eq!(stable_entries.len(), 2);
    // A different identifier per prefix, none of them the MAC's EUI-64.
    assert_ne!(a1.octets()[8..], a2.octets()[8..]);
    assert_ne!(a1.octets()[8..], ll.octets()[8..]);
    assert_ne!(a1.octets()[8..], mac(1).modified_eui64());
    // The same secret after a restart (another seed): the same addresses.
    let (g2, ll2, _) = form(4500, SECRET);
    assert_eq!((g2, ll2), (g.clone(), ll));
    // Another secret: other addresses.
    let (g3, ll3, _) = form(45, [0x11; 32]);
    assert_eq!(g3.len(), 2);
    assert!(g3.iter().all(|a| !g.contains(a)));
    assert_ne!(ll3, ll);
}

#[test]
fn rfc7217_6_dad_failure_gives_the_next_stable_identifier() {
    let (mut net, link, h) = lan(46, "rfc7217_6_dad_failure_gives_the_next_stable_identifier");
    net.run_until(Instant::from_secs(3));
    advertise(&mut net, link, &[pio("2001:db8:1::", LA, 86_400, 14_400)]);
    let first = stable("2001:db8:1::");
    // Someone probes the same address while ours is tentative.
    net.run_for(ms(1));
    assert_eq!(state(&net, h, ETH0, first), Some(AddrState::Tentative));
    net.inject(
        link,
        None,
        dad_ns_frame(mac(0x99), first, [1, 2, 3, 4, 5, 6]),
    );
    net.run_for(secs(4));
    assert_eq!(state(&net, h, ETH0, first), Some(AddrState::Duplicate));
    // §6: DAD_Counter + 1 gives the next identifier, probed and preferred.
    let next = with_iid(
        "2001:db8:1::",
        stable_iid(prefix_u64("2001:db8:1::"), &mac(1).0, &[], 1, &SECRET),
    );
    assert_eq!(globals(net.node(h), ETH0), vec![next]);
    assert!(
        dad_probes(&net, link, h, Instant::from_secs(3))
            .iter()
            .any(|p| p.1 == next)
    );
}

#[test]
fn rfc4862_5_5_3_modified_eui64_identifier_when_configured() {
    let (mut net, link, h) = lan_with(
        47,
        "rfc4862_5_5_3_modified_eui64_identifier_when_configured",
        |c| c.slaac.iid_mode = IidMode::Eui64,
    );
    net.run_until(Instant::from_secs(3));
    // RFC 4291 Appendix A: 02:00:5e:00:53:01 -> 0000:5eff:fe00:5301.
    assert_eq!(
        link_local(net.node(h), ETH0),
        Some(eui64_link_local(mac(1)))
    );
    assert_eq!(eui64_link_local(mac(1)), ip("fe80::5eff:fe00:5301"));
    advertise(&mut net, link, &[pio("2001:db8:1::", LA, 86_400, 14_400)]);
    net.run_for(secs(3));
    assert_eq!(
        globals(net.node(h), ETH0),
        vec![ip("2001:db8:1::5eff:fe00:5301")]
    );
}

#[test]
fn rfc4862_5_5_4_address_deprecated_then_removed_as_lifetimes_run_out() {
    let (mut net, link, h) = lan(
        48,
        "rfc4862_5_5_4_address_deprecated_then_removed_as_lifetimes_run_out",
    );
    net.run_until(Instant::from_secs(3));
    let short = stable("2001:db8:1::");
    let long = stable("2001:db8:2::");
    let t = advertise(
        &mut net,
        link,
        &[
            pio("2001:db8:1::", LA, 100, 50),
            pio("2001:db8:2::", prefix_flags::AUTONOMOUS, 86_400, 14_400),
        ],
    );
    net.run_for(secs(3));
    assert_eq!(state(&net, h, ETH0, short), Some(AddrState::Preferred));
    // RFC 6724 rule 8: the longest match for an on-link destination in 2001:db8:1::/64.
    assert_eq!(udp_from(&mut net, link, h, "2001:db8:1::77"), short);
    let _ = addr_events(&mut net, h, short);
    net.run_until(t + secs(50) + ms(1));
    assert_eq!(state(&net, h, ETH0, short), Some(AddrState::Deprecated));
    // Deprecated: still assigned (existing communication goes on), but not chosen as a
    // source while a preferred address exists (RFC 6724 rule 3).
    assert!(net.node(h).assigned_addrs(ETH0).contains(&short));
    assert_eq!(udp_from(&mut net, link, h, "2001:db8:1::77"), long);
    net.run_until(t + secs(100) + ms(1));
    assert_eq!(state(&net, h, ETH0, short), None);
    assert_eq!(
        addr_events(&mut net, h, short),
        vec![
            (
                t + secs(50),
                Some(AddrState::Preferred),
                Some(AddrState::Deprecated)
            ),
            (t + secs(100), Some(AddrState::Deprecated), None),
        ]
    );
    // The on-link prefix went with its valid lifetime too.
    assert_eq!(
        net.node(h)
            .interface(ETH0)
            .unwrap()
            .routers
            .prefixes()
            .count(),
        0
    );
    assert_eq!(globals(net.node(h), ETH0), vec![long]);
}

#[test]
fn rfc4862_5_5_3_e_two_hour_rule_limits_what_an_ra_can_shorten() {
    let (mut net, link, h) = lan(
        49,
        "rfc4862_5_5_3_e_two_hour_rule_limits_what_an_ra_can_shorten",
    );
    net.run_until(Instant::from_secs(3));
    let a = stable("2001:db8:1::");
    let valid = |net: &Network<Stack>| {
        net.node(h)
            .interface(ETH0)
            .unwrap()
            .addrs
            .get(&a)
            .unwrap()
            .valid_until
    };
    let preferred = |net: &Network<Stack>| {
        net.node(h)
            .interface(ETH0)
            .unwrap()
            .addrs
            .get(&a)
            .unwrap()
            .preferred_until
    };
    let hours = |n: u64| secs(n * 3600);
    let t1 = advertise(&mut net, link, &[pio("2001:db8:1::", LA, 3 * 3600, 3600)]);
    net.run_for(secs(3));
    assert_eq!(state(&net, h, ETH0, a), Some(AddrState::Preferred));
    assert_eq!(valid(&net), t1 + hours(3));
    // 1. A received lifetime of 60 s with 3 h left: cut to two hours, not to 60 s.
    let t2 = advertise(&mut net, link, &[pio("2001:db8:1::", LA, 60, 30)]);
    net.run_for(ms(1));
    assert_eq!(valid(&net), t2 + hours(2));
    // The preferred lifetime is not protected.
    assert_eq!(preferred(&net), t2 + secs(30));
    // 2. More than two hours: taken as it is.
    let t3 = advertise(&mut net, link, &[pio("2001:db8:1::", LA, 4 * 3600, 3600)]);
    net.run_for(ms(1));
    assert_eq!(valid(&net), t3 + hours(4));
    assert_eq!(
        state(&net, h, ETH0, a),
        Some(AddrState::Preferred),
        "preferred again"
    );
    // 3. With one hour left, a short (or zero) lifetime changes nothing.
    net.run_until(t3 + hours(3));
    let before = valid(&net);
    for v in [60, 0] {
        advertise(&mut net, link, &[pio("2001:db8:1::", LA, v, 0)]);
        net.run_for(ms(1));
        assert_eq!(valid(&net), before, "valid lifetime {v}");
    }
    // A longer one than what is left is taken.
    let t4 = advertise(&mut net, link, &[pio("2001:db8:1::", LA, 5400, 0)]);
    net.run_for(ms(1));
    assert_eq!(valid(&net), t4 + secs(5400));
    assert!(net.node(h).assigned_addrs(ETH0).contains(&a));
}

#[test]
fn rfc8981_3_temporary_address_formed_and_preferred_as_source() {
    let (mut net, link, h) = lan_with(
        50,
        "rfc8981_3_temporary_address_formed_and_preferred_as_source",
        |c| {
            c.slaac.stable_secret = SECRET;
            c.slaac.temporary.enabled = true;
        },
    );
    net.run_until(Instant::from_secs(3));
    let day = secs(86_400);
    let t = advertise(
        &mut net,
        link,
        &[pio("2001:db8:1::", LA, 7 * 86_400, 3 * 86_400)],
    );
    net.run_for(secs(3));
    let public = stable("2001:db8:1::");
    let temps = entry_of(&net, h, Origin::Temporary);
    assert_eq!(temps.len(), 1, "{temps:?}");
    let temp = temps[0];
    assert_eq!(temp.octets()[..8], public.octets()[..8]);
    assert_ne!(temp, public);
    let mut g = globals(net.node(h), ETH0);
    g.sort();
    let mut want = vec![public, temp];
    want.sort();
    assert_eq!(g, want);
    // §3.4 step 4: valid at most TEMP_VALID_LIFETIME (2 days), preferred at most
    // TEMP_PREFERRED_LIFETIME (1 day) minus DESYNC_FACTOR (up to 0.4 day).
    let e = net
        .node(h)
        .interface(ETH0)
        .unwrap()
        .addrs
        .get(&temp)
        .unwrap()
        .clone();
    assert!(e.valid_until <= t + 2 * day + ms(1) && e.valid_until >= t + 2 * day - ms(1001));
    assert!(e.preferred_until <= t + day && e.preferred_until >= t + day.mul_f64(0.6) - ms(1001));
    // RFC 6724 rule 7: the temporary address is the source, on-link and off-link.
    assert_eq!(udp_from(&mut net, link, h, "2001:db8:1::77"), temp);
    assert_eq!(udp_from(&mut net, link, h, "2001:db8:77::1"), temp);
    // Once it is deprecated, its successor (made REGEN_ADVANCE before) takes over.
    net.run_until(e.preferred_until + ms(1));
    advertise(
        &mut net,
        link,
        &[pio("2001:db8:1::", LA, 7 * 86_400, 3 * 86_400)],
    );
    net.run_for(ms(10));
    assert_eq!(state(&net, h, ETH0, temp), Some(AddrState::Deprecated));
    let temps = entry_of(&net, h, Origin::Temporary);
    assert_eq!(temps.len(), 2, "{temps:?}");
    let next = temps[1];
    assert_eq!(state(&net, h, ETH0, next), Some(AddrState::Preferred));
    assert_eq!(udp_from(&mut net, link, h, "2001:db8:77::1"), next);
}

#[test]
fn rfc4862_5_4_link_down_then_up_restarts_dad_and_router_solicitation() {
    let (mut net, link, h) = lan(
        51,
        "rfc4862_5_4_link_down_then_up_restarts_dad_and_router_solicitation",
    );
    net.run_until(Instant::from_secs(3));
    advertise(&mut net, link, &[pio("2001:db8:1::", LA, 86_400, 14_400)]);
    net.run_for(secs(10));
    let ll = link_local(net.node(h), ETH0).unwrap();
    let global = stable("2001:db8:1::");
    assert_eq!(globals(net.node(h), ETH0), vec![global]);
    let rs = |net: &Network<Stack>, since| {
        sent_by(net, link, h, since)
            .into_iter()
            .filter(|s| s.is_icmp(Message::ROUTER_SOLICIT))
            .count()
    };
    let quiet_since = net.now() - secs(5);
    assert_eq!(rs(&net, quiet_since), 0, "no RS once a router answered");
    let down = net.now();
    net.node_mut(h).set_link(down, ETH0, false);
    net.run_for(secs(10));
    assert!(sent_by(&net, link, h, down).is_empty(), "silent while down");
    assert_eq!(
        net.node(h)
            .interface(ETH0)
            .unwrap()
            .routers
            .routers()
            .count(),
        0
    );
    let up = net.now();
    net.node_mut(h).set_link(up, ETH0, true);
    net.run_for(ms(1));
    // §5.4: addresses are tentative again until DAD passes anew.
    assert!(net.node(h).assigned_addrs(ETH0).is_empty());
    assert_eq!(state(&net, h, ETH0, global), Some(AddrState::Tentative));
    net.run_for(secs(3));
    let probes: Vec<Ipv6Addr> = dad_probes(&net, link, h, up).iter().map(|p| p.1).collect();
    assert!(
        probes.contains(&ll) && probes.contains(&global),
        "{probes:?}"
    );
    assert!(
        dad_probes(&net, link, h, up)
            .iter()
            .all(|p| p.0.time <= up + secs(1))
    );
    // RFC 4861 §6.3.7: soliciting again, the first within MAX_RTR_SOLICITATION_DELAY.
    assert!(rs(&net, up) >= 1);
    let first_rs = sent_by(&net, link, h, up)
        .into_iter()
        .find(|s| s.is_icmp(Message::ROUTER_SOLICIT))
        .unwrap();
    assert!(first_rs.time <= up + secs(1));
    let mut g = net.node(h).assigned_addrs(ETH0);
    g.sort();
    let mut want = vec![ll, global];
    want.sort();
    assert_eq!(g, want);
}

#[test]
fn rfc4862_5_5_4_days_pass_lifetimes_expire_without_a_storm_of_packets() {
    let (mut net, link, h) = lan(
        52,
        "rfc4862_5_5_4_days_pass_lifetimes_expire_without_a_storm_of_packets",
    );
    net.run_until(Instant::from_secs(3));
    let t = advertise(&mut net, link, &[pio("2001:db8:1::", LA, 3600, 1800)]);
    net.run_for(secs(3));
    let a = stable("2001:db8:1::");
    assert_eq!(globals(net.node(h), ETH0), vec![a]);
    let t0 = net.now();
    let polls_before = net.stats().polls;
    net.run_until(t + secs(5 * 86_400));
    // Everything with a lifetime is gone; the link-local address stays.
    let i = net.node(h).interface(ETH0).unwrap();
    assert_eq!(i.routers.routers().count(), 0);
    assert_eq!(i.routers.prefixes().count(), 0);
    assert_eq!(globals(net.node(h), ETH0), Vec::<Ipv6Addr>::new());
    assert!(link_local(net.node(h), ETH0).is_some());
    // A handful of frames (MLD leaving the solicited-node group), a handful of wake-ups.
    let frames = sent_by(&net, link, h, t0).len();
    let polls = net.stats().polls - polls_before;
    assert!(frames <= 4, "{frames} frames in 5 days");
    assert!(polls <= 40, "{polls} polls in 5 days");
}

#[test]
fn rfc4862_5_5_4_one_poll_after_a_clock_jump_of_days_expires_everything_once() {
    // No simulator: the stack sees time jump from one poll to the next (a laptop that
    // slept), the way a driver with a wall clock would call it.
    let mut s = host_with(53, mac(1), |c| c.slaac.stable_secret = SECRET);
    let drain = |s: &mut Stack| std::iter::from_fn(|| s.transmit()).count();
    // Timers fired on time up to `until`, as a driver would.
    let run = |s: &mut Stack, until: Instant| {
        while let Some(at) = s.poll_at().filter(|&at| at <= until) {
            s.poll(at);
        }
    };
    run(&mut s, Instant::from_secs(3));
    drain(&mut s);
    let ra = ra_frame(0x90, 1800, &[pio("2001:db8:1::", LA, 3600, 1800)]);
    s.receive(Instant::from_secs(3), ETH0, &ra);
    run(&mut s, Instant::from_secs(6));
    assert_eq!(globals(&s, ETH0), vec![stable("2001:db8:1::")]);
    drain(&mut s);
    let _ = s.take_events();
    let later = Instant::from_secs(6 + 3 * 86_400);
    s.poll(later);
    assert!(globals(&s, ETH0).is_empty());
    assert_eq!(s.interface(ETH0).unwrap().routers.routers().count(), 0);
    let removed: Vec<_> = s
        .take_events()
        .into_iter()
        .filter(|e| matches!(e.kind, EventKind::Address { to: None, .. }))
        .collect();
    assert_eq!(removed.len(), 1, "{removed:?}");
    assert!(removed.iter().all(|e| e.time == later));
    let burst = drain(&mut s);
    assert!(burst <= 2, "{burst} frames at once after the jump");
    // Nothing is overdue: the next wake-up is not in the past.
    assert!(s.poll_at().is_none_or(|at| at >= later));
}

// ----- RFC 4007 zones ------------------------------------------------------------------

/// n: a node (host or router) with eth0 on lan1 (mac 0x21) and eth1 on lan2 (mac 0x22);
/// a on lan1, b on lan2.
struct Zones {
    net: Network<Stack>,
    lan1: LinkId,
    lan2: LinkId,
    n: NodeId,
    a: NodeId,
    b: NodeId,
}

fn zones(seed: u64, test: &str, router: bool) -> Zones {
    let mut net = Network::new(seed);
    let lan1 = net.add_link("lan1", LinkConfig::ethernet());
    let lan2 = net.add_link("lan2", LinkConfig::ethernet());
    let cfg = if router {
        StackConfig::router()
    } else {
        StackConfig::default()
    };
    let mut s = Stack::new(cfg, seed);
    s.add_interface(Instant::ZERO, IfaceConfig::ethernet("eth0", mac(0x21)));
    s.add_interface(Instant::ZERO, IfaceConfig::ethernet("eth1", mac(0x22)));
    let n = net.add_node("n", s);
    let a = net.add_node("a", host(seed + 1, mac(1)));
    let b = net.add_node("b", host(seed + 2, mac(2)));
    net.attach(lan1, n, ETH0);
    net.attach(lan2, n, ETH1);
    net.attach(lan1, a, ETH0);
    net.attach(lan2, b, ETH0);
    record(&mut net, test);
    Zones {
        net,
        lan1,
        lan2,
        n,
        a,
        b,
    }
}

fn echo_replies(net: &Network<Stack>, link: LinkId, from: NodeId, since: Instant) -> Vec<Seen> {
    sent_by(net, link, from, since)
        .into_iter()
        .filter(|s| s.is_icmp(Message::ECHO_REPLY))
        .collect()
}

fn ping(net: &mut Network<Stack>, from: NodeId, dst: Ipv6Addr, seq: u16) {
    let now = net.now();
    let s = net.node_mut(from).raw_open(IpProtocol::ICMPV6).unwrap();
    let msg = icmpv6_msg(
        Ipv6Addr::UNSPECIFIED,
        Ipv6Addr::UNSPECIFIED,
        &icmpv6::Repr::EchoRequest {
            ident: 7,
            seq_no: seq,
            data: b"zone",
        },
    );
    net.node_mut(from)
        .raw_send_to(now, s, dst, Some(ETH0), &msg)
        .expect("echo request sent");
}

#[test]
fn rfc4007_6_same_link_local_address_on_two_interfaces_is_allowed() {
    let mut z = zones(
        54,
        "rfc4007_6_same_link_local_address_on_two_interfaces_is_allowed",
        false,
    );
    z.net.run_until(Instant::from_secs(3));
    let same = ip("fe80::1");
    let now = z.net.now();
    for i in [ETH0, ETH1] {
        z.net.node_mut(z.n).add_address(now, i, same, 64).unwrap();
    }
    z.net.run_for(secs(3));
    // Each link zone is its own: DAD on one does not see the other, both are assigned.
    for i in [ETH0, ETH1] {
        assert_eq!(
            state(&z.net, z.n, i, same),
            Some(AddrState::Preferred),
            "{i}"
        );
        assert!(z.net.node(z.n).assigned_addrs(i).contains(&same));
    }
    // And each answers on its own link, from its own MAC.
    let t0 = z.net.now();
    ping(&mut z.net, z.a, same, 1);
    ping(&mut z.net, z.b, same, 2);
    z.net.run_for(ms(100));
    let r1 = echo_replies(&z.net, z.lan1, z.n, t0);
    let r2 = echo_replies(&z.net, z.lan2, z.n, t0);
    assert_eq!(r1.len(), 1);
    assert_eq!(r2.len(), 1);
    assert_eq!((r1[0].src, r1[0].eth_src), (same, mac(0x21)));
    assert_eq!((r2[0].src, r2[0].eth_src), (same, mac(0x22)));
    assert_eq!(r1[0].dst, link_local(z.net.node(z.a), ETH0).unwrap());
    assert_eq!(r2[0].dst, link_local(z.net.node(z.b), ETH0).unwrap());
    let seq = |s: &Seen| match s.icmp() {
        Some(icmpv6::Repr::EchoReply { seq_no, .. }) => seq_no,
        other => panic!("{other:?}"),
    };
    assert_eq!((seq(&r1[0]), seq(&r2[0])), (1, 2));
}

#[test]
fn rfc4007_9_link_local_destination_of_the_other_interface_not_accepted() {
    for router in [false, true] {
        let mut z = zones(
            55,
            if router {
                "rfc4007_9_link_local_destination_of_the_other_interface_not_accepted_router"
            } else {
                "rfc4007_9_link_local_destination_of_the_other_interface_not_accepted"
            },
            router,
        );
        z.net.run_until(Instant::from_secs(3));
        let ll0 = link_local(z.net.node(z.n), ETH0).unwrap();
        let ll1 = link_local(z.net.node(z.n), ETH1).unwrap();
        let bll = link_local(z.net.node(z.b), ETH0).unwrap();
        assert_ne!(ll0, ll1);
        // b has n's lan2 MAC in its cache after this warm-up ping.
        let t0 = z.net.now();
        ping(&mut z.net, z.b, ll1, 1);
        z.net.run_for(ms(100));
        assert_eq!(echo_replies(&z.net, z.lan2, z.n, t0).len(), 1);
        // A tester on lan2 sends to eth0's link-local address, to n's lan2 MAC.
        let drops_before = z.net.node(z.n).stats().total_drops();
        let addr_errors = z.net.node(z.n).stats().ip.in_addr_errors;
        let t1 = z.net.now();
        let pkt = echo_request(bll, ll0, 7, 2, b"wrong zone");
        z.net
            .inject(z.lan2, None, ethernet(mac(2), mac(0x22), &pkt));
        z.net.run_for(secs(1));
        assert!(
            echo_replies(&z.net, z.lan2, z.n, t1).is_empty(),
            "router={router}"
        );
        assert!(
            echo_replies(&z.net, z.lan1, z.n, t1).is_empty(),
            "router={router}"
        );
        assert!(
            sent_by(&z.net, z.lan1, z.n, t1).is_empty(),
            "router={router}: leaked"
        );
        let stats = z.net.node(z.n).stats();
        assert_eq!(stats.total_drops(), drops_before + 1, "{:?}", stats.drops);
        let reason = if router {
            "link-local destination not forwarded"
        } else {
            "not for this node"
        };
        assert_eq!(stats.drops_for(reason), 1, "{:?}", stats.drops);
        if !router {
            assert_eq!(stats.ip.in_addr_errors, addr_errors + 1);
        }
        // The same to lan2's own link-local address is answered.
        let t2 = z.net.now();
        let pkt = echo_request(bll, ll1, 7, 3, b"right zone");
        z.net
            .inject(z.lan2, None, ethernet(mac(2), mac(0x22), &pkt));
        z.net.run_for(ms(100));
        assert_eq!(echo_replies(&z.net, z.lan2, z.n, t2).len(), 1);
        let _ = z.a;
    }
}

/// Two machines cloned with the same MAC address and modified EUI-64 identifiers: the
/// second one's DAD sees the first one's answer, and since its link-local address comes
/// from the hardware, IPv6 is disabled on the interface (RFC 4862 §5.4.5).
#[test]
fn rfc4862_5_4_5_same_mac_clone_disables_ipv6_on_the_interface() {
    let mut net = Network::new(45);
    let link = net.add_link("lan", LinkConfig::ethernet());
    record(
        &mut net,
        "rfc4862_5_4_5_same_mac_clone_disables_ipv6_on_the_interface",
    );
    let eui = |c: &mut IfaceConfig| c.slaac.iid_mode = IidMode::Eui64;
    let h1 = net.add_node("h1", host_with(1, mac(7), eui));
    net.attach(link, h1, ETH0);
    net.run_until(Instant::from_secs(5));
    let ll = eui64_link_local(mac(7));
    assert_eq!(state(&net, h1, ETH0, ll), Some(AddrState::Preferred));
    // The clone comes up later, with the same MAC.
    let mut clone = Stack::new(StackConfig::default(), 2);
    let mut cfg = IfaceConfig::ethernet("eth0", mac(7));
    eui(&mut cfg);
    clone.add_interface(Instant::from_secs(5), cfg);
    let h2 = net.add_node("h2", clone);
    net.attach(link, h2, ETH0);
    net.run_until(Instant::from_secs(10));
    assert_eq!(state(&net, h2, ETH0, ll), Some(AddrState::Duplicate));
    assert!(!net.node(h2).interface(ETH0).unwrap().enabled);
    let events = net.node_mut(h2).take_events();
    assert!(
        events
            .iter()
            .any(|e| e.kind == EventKind::InterfaceDisabled)
    );
    // The original keeps its address and reports no conflict about its own answer.
    assert_eq!(state(&net, h1, ETH0, ll), Some(AddrState::Preferred));
    assert!(net.node(h1).interface(ETH0).unwrap().enabled);
}
