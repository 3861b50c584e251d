//! Hostile input to `Stack::receive`: arbitrary frames, and real ND, MLD, UDP, echo and
//! fragment frames with bytes flipped, fed to a host and to a router with small limits.
//! Nothing panics, and after every frame and every poll each bounded table and queue is
//! within its configured limit and `poll_at()` is not before the last poll.
//! (The cargo-fuzz target fuzz/fuzz_targets/stack_receive.rs does the same, longer.)

use std::net::Ipv6Addr;

use proptest::prelude::*;
use sixstack_core::iface::IfaceConfig;
use sixstack_core::mld::MldVersion;
use sixstack_core::nd::neighbor::NeighborConfig;
use sixstack_core::nd::ra::{AdvPrefix, AdvertConfig};
use sixstack_core::nd::router::RouterListConfig;
use sixstack_core::socket::SocketHandle;
use sixstack_core::{Duration, IfaceId, Instant, Stack, StackConfig};
use sixstack_wire::addr::EthernetAddress;
use sixstack_wire::checksum::Checksum;
use sixstack_wire::ipv6chain::Chain;
use sixstack_wire::proto::IpProtocol;

const TX_QUEUE: usize = 16;
const EVENTS: usize = 16;
const SOCKET_QUEUE: usize = 3;
const REASM_BYTES: usize = 8 * 1024;
const REASM_DATAGRAMS: usize = 4;

fn mac(n: u8) -> EthernetAddress {
    EthernetAddress([0x02, 0x00, 0x5e, 0x00, 0x53, n])
}

fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

fn small(router: bool) -> StackConfig {
    let mut c = if router {
        StackConfig::router()
    } else {
        StackConfig::default()
    };
    c.reassembly.max_bytes = REASM_BYTES;
    c.reassembly.max_bytes_per_source = REASM_BYTES / 2;
    c.reassembly.max_datagrams = REASM_DATAGRAMS;
    c.reassembly.max_datagrams_per_source = 2;
    c.pmtu.max_entries = 2;
    c.max_routes = 8;
    c.max_redirects = 2;
    c.max_transmit_queue = TX_QUEUE;
    c.max_events = EVENTS;
    c.max_sockets = 4;
    c.socket_queue_len = SOCKET_QUEUE;
    c
}

fn small_iface(name: &str, m: u8) -> IfaceConfig {
    let mut c = IfaceConfig::ethernet(name, mac(m));
    c.neighbor = NeighborConfig {
        max_queued_per_neighbor: 2,
        max_entries: 4,
        ..NeighborConfig::default()
    };
    c.slaac.max_addresses = 4;
    c.slaac.stable_secret = [7; 32];
    c.router_list = RouterListConfig {
        max_routers: 2,
        max_prefixes: 2,
        max_routes: 2,
        ..RouterListConfig::default()
    };
    c.mld.max_groups = 8;
    c
}

/// A node after its first two seconds (DAD done), with a UDP socket on port 7 and a raw
/// ICMPv6 socket. The host has also heard a Router Advertisement for 2001:db8:1::/64.
struct Node {
    stack: Stack,
    sockets: Vec<SocketHandle>,
    now: Instant,
    polled: Instant,
    /// The host's link-local and global address (the router's on eth0).
    ll: Ipv6Addr,
    global: Ipv6Addr,
}

impl Node {
    fn new(router: bool) -> Self {
        let mut s = Stack::new(small(router), 1);
        if router {
            for (name, m, p) in [("eth0", 1, "2001:db8:1::"), ("eth1", 2, "2001:db8:2::")] {
                let mut c = small_iface(name, m);
                c.advertise = Some(AdvertConfig {
                    prefixes: vec![AdvPrefix::new(a(p), 64)],
                    ..AdvertConfig::default()
                });
                let id = s.add_interface(Instant::ZERO, c);
                let mut g = a(p).octets();
                g[15] = 1;
                s.add_address(Instant::ZERO, id, Ipv6Addr::from(g), 64)
                    .unwrap();
            }
        } else {
            s.add_interface(Instant::ZERO, small_iface("eth0", 0x11));
        }
        let mut sockets = Vec::new();
        let u = s.udp_open().unwrap();
        s.bind(u, Ipv6Addr::UNSPECIFIED, 7, None).unwrap();
        sockets.push(u);
        sockets.push(s.raw_open(IpProtocol::ICMPV6).unwrap());
        let mut n = Node {
            stack: s,
            sockets,
            now: Instant::ZERO,
            polled: Instant::ZERO,
            ll: Ipv6Addr::UNSPECIFIED,
            global: Ipv6Addr::UNSPECIFIED,
        };
        n.advance(Duration::from_secs(2));
        if !router {
            let ra = ra_frame();
            n.stack.receive(n.now, IfaceId(1), &ra);
        }
        // RFC 4862 §5.4.2: up to MAX_RTR_SOLICITATION_DELAY, then DAD's RetransTimer.
        n.advance(Duration::from_secs(1));
        n.advance(Duration::from_secs(2));
        let addrs = n.stack.assigned_addrs(IfaceId(1));
        n.ll = *addrs.iter().find(|x| x.segments()[0] == 0xfe80).unwrap();
        n.global = *addrs.iter().find(|x| x.segments()[0] == 0x2001).unwrap();
        while n.stack.transmit().is_some() {}
        let _ = n.stack.take_events();
        n
    }

    fn advance(&mut self, d: Duration) {
        self.now += d;
        self.stack.poll(self.now);
        self.polled = self.now;
        let mut rounds = 0;
        while self.stack.poll_at() == Some(self.now) {
            assert!(self.stack.loopback_queue_len() > 0, "a timer left due");
            rounds += 1;
            assert!(rounds < 16, "poll does not settle");
            self.stack.poll(self.now);
        }
        if let Some(at) = self.stack.poll_at() {
            assert!(at > self.now, "poll_at() {at} after poll({})", self.now);
        }
    }

    fn check(&self) {
        let s = &self.stack;
        if let Some(at) = s.poll_at() {
            assert!(at >= self.polled, "poll_at() {at} before the last poll");
        }
        for i in s.interfaces() {
            let nc = i.neighbors.config();
            assert!(i.neighbors.len() <= nc.max_entries, "neighbor cache");
            for e in i.neighbors.iter() {
                assert!(i.neighbors.queued(&e.addr).count() <= nc.max_queued_per_neighbor);
            }
            assert!(i.addrs.iter().count() <= i.addrs.config().max_addresses);
            let rc = i.routers.config();
            assert!(i.routers.routers().count() <= rc.max_routers);
            assert!(i.routers.prefixes().count() <= rc.max_prefixes);
            assert!(i.routers.routes().count() <= rc.max_routes);
            assert!(i.mld.groups().count() <= i.mld.config().max_groups);
        }
        assert!(s.reassembly_bytes() <= REASM_BYTES, "reassembly bytes");
        assert!(s.reassembly_datagrams() <= REASM_DATAGRAMS);
        assert!(s.transmit_queue_len() <= TX_QUEUE, "transmit queue");
        assert!(s.pending_events() <= EVENTS, "events");
        assert!(s.path_mtu_entries() <= 2);
        assert!(s.redirect_entries() <= 2);
        assert!(s.routes().len() <= 8);
        for h in &self.sockets {
            let (rx, errs) = s.socket_queued(*h).unwrap();
            assert!(rx <= SOCKET_QUEUE && errs <= 16, "socket queue");
        }
    }

    /// Every frame sent fits its link and has a consistent IPv6 header.
    fn drain(&mut self) {
        while let Some((id, f)) = self.stack.transmit() {
            let mtu = self.stack.interface(id).unwrap().mtu as usize;
            assert_eq!(&f[12..14], &[0x86, 0xdd]);
            let pkt = &f[14..];
            assert!(pkt.len() <= mtu && pkt.len() >= 40 && pkt[0] >> 4 == 6);
            assert_eq!(
                40 + usize::from(u16::from_be_bytes([pkt[4], pkt[5]])),
                pkt.len()
            );
        }
    }
}

// ----- real frames -----------------------------------------------------------------------

fn upper_checksum(src: Ipv6Addr, dst: Ipv6Addr, proto: u8, upper: &[u8]) -> u16 {
    Checksum::ipv6_pseudo_header(&src, &dst, upper.len() as u32, proto)
        .add_bytes(upper)
        .finish()
}

fn ipv6(src: Ipv6Addr, dst: Ipv6Addr, nh: u8, hl: u8, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x60, 0, 0, 0];
    p.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    p.extend_from_slice(&[nh, hl]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(payload);
    p
}

fn eth(dst: EthernetAddress, src: EthernetAddress, pkt: &[u8]) -> Vec<u8> {
    let mut f = dst.0.to_vec();
    f.extend_from_slice(&src.0);
    f.extend_from_slice(&[0x86, 0xdd]);
    f.extend_from_slice(pkt);
    f
}

fn mcast(g: Ipv6Addr) -> EthernetAddress {
    EthernetAddress::from_ipv6_multicast(&g)
}

fn icmp(src: Ipv6Addr, dst: Ipv6Addr, hl: u8, mut msg: Vec<u8>) -> Vec<u8> {
    let c = upper_checksum(src, dst, 58, &msg);
    msg[2..4].copy_from_slice(&c.to_be_bytes());
    ipv6(src, dst, 58, hl, &msg)
}

fn udp(src: Ipv6Addr, dst: Ipv6Addr, dport: u16, data: &[u8]) -> Vec<u8> {
    let mut u = vec![0xc0, 0x01];
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&((8 + data.len()) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(data);
    let c = upper_checksum(src, dst, 17, &u);
    u[6..8].copy_from_slice(&c.to_be_bytes());
    u
}

fn slla(m: EthernetAddress, kind: u8) -> Vec<u8> {
    let mut o = vec![kind, 1];
    o.extend_from_slice(&m.0);
    o
}

fn solicited(t: Ipv6Addr) -> Ipv6Addr {
    let o = t.octets();
    Ipv6Addr::new(
        0xff02,
        0,
        0,
        0,
        0,
        1,
        0xff00 | u16::from(o[13]),
        u16::from_be_bytes([o[14], o[15]]),
    )
}

const PEER: u8 = 0x01;
fn peer_ll() -> Ipv6Addr {
    a("fe80::1")
}

fn ra_frame() -> Vec<u8> {
    ra_with_lifetimes(86400, 14400)
}

/// The RA from fe80::1: router lifetime 1800 s, MTU 1500, prefix 2001:db8:1::/64 (on-link,
/// autonomous) with these lifetimes, RDNSS 2001:db8:1::53 for 3600 s.
fn ra_with_lifetimes(valid: u32, preferred: u32) -> Vec<u8> {
    let mut m = vec![134, 0, 0, 0, 64, 0, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0];
    m.extend_from_slice(&slla(mac(PEER), 1));
    m.extend_from_slice(&[5, 1, 0, 0, 0, 0, 0x05, 0xdc]);
    m.extend_from_slice(&[3, 4, 64, 0xc0]);
    m.extend_from_slice(&valid.to_be_bytes());
    m.extend_from_slice(&preferred.to_be_bytes());
    m.extend_from_slice(&[0; 4]);
    m.extend_from_slice(&a("2001:db8:1::").octets());
    m.extend_from_slice(&[25, 3, 0, 0, 0, 0, 0x0e, 0x10]);
    m.extend_from_slice(&a("2001:db8:1::53").octets());
    eth(
        mcast(a("ff02::1")),
        mac(PEER),
        &icmp(peer_ll(), a("ff02::1"), 255, m),
    )
}

/// Real frames to the node `me` (its MAC, link-local and global address).
fn frames(me: EthernetAddress, ll: Ipv6Addr, global: Ipv6Addr) -> Vec<Vec<u8>> {
    let far = a("2001:db8:9::1");
    let mut v = vec![ra_frame()];
    // NS for our link-local, NS for DAD of our global, NA unsolicited and solicited.
    let mut ns = vec![135, 0, 0, 0, 0, 0, 0, 0];
    ns.extend_from_slice(&ll.octets());
    ns.extend_from_slice(&slla(mac(PEER), 1));
    v.push(eth(
        mcast(solicited(ll)),
        mac(PEER),
        &icmp(peer_ll(), solicited(ll), 255, ns),
    ));
    let mut dad = vec![135, 0, 0, 0, 0, 0, 0, 0];
    dad.extend_from_slice(&global.octets());
    v.push(eth(
        mcast(solicited(global)),
        mac(3),
        &icmp(Ipv6Addr::UNSPECIFIED, solicited(global), 255, dad),
    ));
    // R, S, O to us; R, O to all nodes (R stays set: clearing it removes the router).
    let mut na = vec![136, 0, 0, 0, 0xe0, 0, 0, 0];
    na.extend_from_slice(&peer_ll().octets());
    na.extend_from_slice(&slla(mac(PEER), 2));
    v.push(eth(me, mac(PEER), &icmp(peer_ll(), ll, 255, na.clone())));
    na[4] = 0xa0;
    v.push(eth(
        mcast(a("ff02::1")),
        mac(PEER),
        &icmp(peer_ll(), a("ff02::1"), 255, na),
    ));
    // RS, Redirect (with a Redirected Header), Packet Too Big.
    let mut rs = vec![133, 0, 0, 0, 0, 0, 0, 0];
    rs.extend_from_slice(&slla(mac(4), 1));
    v.push(eth(
        mcast(a("ff02::2")),
        mac(4),
        &icmp(a("fe80::4"), a("ff02::2"), 255, rs),
    ));
    let inner = ipv6(global, far, 59, 64, &[0; 16]);
    let mut rd = vec![137, 0, 0, 0, 0, 0, 0, 0];
    rd.extend_from_slice(&a("fe80::5").octets());
    rd.extend_from_slice(&far.octets());
    rd.extend_from_slice(&slla(mac(5), 2));
    rd.extend_from_slice(&[4, ((inner.len() + 8) / 8) as u8, 0, 0, 0, 0, 0, 0]);
    rd.extend_from_slice(&inner);
    v.push(eth(me, mac(PEER), &icmp(peer_ll(), global, 255, rd)));
    let mut ptb = vec![2, 0, 0, 0, 0, 0, 0x05, 0x00];
    ptb.extend_from_slice(&ipv6(global, far, 17, 64, &udp(global, far, 9, &[1; 1400])));
    ptb.truncate(1232);
    v.push(eth(me, mac(PEER), &icmp(far, global, 60, ptb)));
    // MLDv2 General Query with its Router Alert, MLDv1 Report.
    let ff1 = a("ff02::1");
    let mut q = vec![130, 0, 0, 0, 0x27, 0x10, 0, 0];
    q.extend_from_slice(&[0; 16]);
    q.extend_from_slice(&[2, 125, 0, 0]);
    let c = upper_checksum(peer_ll(), ff1, 58, &q);
    q[2..4].copy_from_slice(&c.to_be_bytes());
    let mut hbh = vec![58, 0, 5, 2, 0, 0, 1, 0];
    hbh.extend_from_slice(&q);
    v.push(eth(
        mcast(ff1),
        mac(PEER),
        &ipv6(peer_ll(), ff1, 0, 1, &hbh),
    ));
    let g = a("ff05::1:3");
    let mut r1 = vec![131, 0, 0, 0, 0, 0, 0, 0];
    r1.extend_from_slice(&g.octets());
    let c = upper_checksum(peer_ll(), g, 58, &r1);
    r1[2..4].copy_from_slice(&c.to_be_bytes());
    let mut hbh = vec![58, 0, 5, 2, 0, 0, 1, 0];
    hbh.extend_from_slice(&r1);
    v.push(eth(mcast(g), mac(PEER), &ipv6(peer_ll(), g, 0, 1, &hbh)));
    // Echo request, UDP to an open and a closed port, an unknown option that asks for
    // a Parameter Problem.
    v.push(eth(
        me,
        mac(PEER),
        &icmp(far, global, 60, vec![128, 0, 0, 0, 0, 1, 0, 1, 0xaa, 0xbb]),
    ));
    v.push(eth(
        me,
        mac(PEER),
        &ipv6(far, global, 17, 60, &udp(far, global, 7, b"hello")),
    ));
    v.push(eth(
        me,
        mac(PEER),
        &ipv6(far, global, 17, 60, &udp(far, global, 9, b"closed")),
    ));
    let mut dst_opts = vec![17, 0, 0x80, 2, 0, 0, 1, 0];
    dst_opts.extend_from_slice(&udp(far, global, 7, b"opt"));
    v.push(eth(me, mac(PEER), &ipv6(far, global, 60, 60, &dst_opts)));
    // A UDP datagram of 2000 bytes in three fragments.
    let whole = udp(far, global, 7, &[0x42; 1992]);
    for (off, chunk) in whole.chunks(800).enumerate() {
        let more = u16::from(off * 800 + chunk.len() < whole.len());
        let fo = ((off * 800 / 8) as u16) << 3 | more;
        let mut fh = vec![17, 0];
        fh.extend_from_slice(&fo.to_be_bytes());
        fh.extend_from_slice(&0x1234_5678u32.to_be_bytes());
        fh.extend_from_slice(chunk);
        v.push(eth(me, mac(PEER), &ipv6(far, global, 44, 60, &fh)));
    }
    v
}

/// Recomputes Payload Length and the ICMPv6 / UDP checksum of a mutated frame, so that
/// the mutation reaches the code behind them.
fn fix(frame: &mut [u8]) {
    if frame.len() < 54 || frame[12..14] != [0x86, 0xdd] {
        return;
    }
    let plen = (frame.len() - 54).min(0xffff) as u16;
    frame[18..20].copy_from_slice(&plen.to_be_bytes());
    let src = Ipv6Addr::from(<[u8; 16]>::try_from(&frame[22..38]).unwrap());
    let dst = Ipv6Addr::from(<[u8; 16]>::try_from(&frame[38..54]).unwrap());
    let chain = Chain::walk(IpProtocol(frame[20]), &frame[54..]);
    let Some((proto, off)) = chain.upper_layer() else {
        return;
    };
    let field = match proto {
        IpProtocol::ICMPV6 => 2,
        IpProtocol::UDP => 6,
        _ => return,
    };
    let start = 54 + off;
    if start + field + 2 > frame.len() {
        return;
    }
    frame[start + field..start + field + 2].fill(0);
    let c = upper_checksum(src, dst, proto.0, &frame[start..]);
    frame[start + field..start + field + 2].copy_from_slice(&c.to_be_bytes());
}

// ----- the properties ----------------------------------------------------------------

#[derive(Debug, Clone)]
enum Op {
    /// Arbitrary bytes, optionally behind a valid Ethernet and IPv6 header start.
    Raw {
        iface: u8,
        dt_ms: u16,
        headed: bool,
        bytes: Vec<u8>,
    },
    /// A real frame with bytes flipped, maybe cut short, maybe its checksum fixed.
    Mutated {
        iface: u8,
        dt_ms: u16,
        which: usize,
        flips: Vec<(usize, u8)>,
        cut: Option<usize>,
        fix: bool,
    },
    Poll {
        dt_ms: u32,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (any::<u8>(), 0u16..2000, any::<bool>(), prop::collection::vec(any::<u8>(), 0..1600))
            .prop_map(|(iface, dt_ms, headed, bytes)| Op::Raw { iface, dt_ms, headed, bytes }),
        5 => (
            any::<u8>(),
            0u16..2000,
            any::<usize>(),
            prop::collection::vec((any::<usize>(), 1u8..=255), 1..8),
            prop::option::of(any::<usize>()),
            any::<bool>(),
        )
            .prop_map(|(iface, dt_ms, which, flips, cut, fix)| Op::Mutated {
                iface,
                dt_ms,
                which,
                flips,
                cut,
                fix,
            }),
        1 => (0u32..200_000_000).prop_map(|dt_ms| Op::Poll { dt_ms }),
    ]
}

fn run(router: bool, ops: &[Op]) {
    let mut n = Node::new(router);
    let me = mac(if router { 1 } else { 0x11 });
    let real = frames(me, n.ll, n.global);
    let ifaces = if router { 2 } else { 1 };
    n.check();
    for op in ops {
        match op {
            Op::Raw {
                iface,
                dt_ms,
                headed,
                bytes,
            } => {
                n.now += Duration::from_millis(u64::from(*dt_ms));
                let mut f = Vec::new();
                if *headed {
                    f.extend_from_slice(&me.0);
                    f.extend_from_slice(&mac(PEER).0);
                    f.extend_from_slice(&[0x86, 0xdd, 0x60, 0, 0, 0]);
                }
                f.extend_from_slice(bytes);
                let id = IfaceId(u32::from(*iface) % ifaces + 1);
                n.stack.receive(n.now, id, &f);
            }
            Op::Mutated {
                iface,
                dt_ms,
                which,
                flips,
                cut,
                fix: fixup,
            } => {
                n.now += Duration::from_millis(u64::from(*dt_ms));
                let mut f = real[which % real.len()].clone();
                for (at, x) in flips {
                    let i = at % f.len();
                    f[i] ^= x;
                }
                if let Some(c) = cut {
                    f.truncate(c % (f.len() + 1));
                }
                if *fixup {
                    fix(&mut f);
                }
                let id = IfaceId(u32::from(*iface) % ifaces + 1);
                n.stack.receive(n.now, id, &f);
            }
            Op::Poll { dt_ms } => n.advance(Duration::from_millis(u64::from(*dt_ms))),
        }
        n.check();
        n.drain();
    }
    n.advance(Duration::from_secs(3600));
    n.check();
    n.drain();
}

#[test]
fn real_frames_are_accepted_unmutated() {
    // The frames above are what the mutations start from: check that they are real, i.e.
    // the host takes them in without dropping any as malformed.
    let mut n = Node::new(false);
    let before = n.stack.stats().ip.in_hdr_errors;
    for f in frames(mac(0x11), n.ll, n.global) {
        n.stack.receive(n.now, IfaceId(1), &f);
        n.check();
        n.drain();
    }
    let s = n.stack.stats();
    assert_eq!(s.ip.in_hdr_errors, before);
    assert_eq!(s.icmp.in_errors, 0, "drops: {:?}", s.drops);
    assert_eq!(s.udp.in_errors, 0, "drops: {:?}", s.drops);
    assert!(s.ip.reasm_oks >= 1, "the fragments reassemble");
    assert!(s.udp.in_datagrams >= 2);
    assert_eq!(s.udp.no_ports, 1, "the datagram to port 9");
    assert_eq!(n.stack.redirect_entries(), 1, "the Redirect is taken");
    assert_eq!(
        n.stack.path_mtu(&a("2001:db8:9::1")),
        Some(1280),
        "Packet Too Big"
    );
    let i = n.stack.interface(IfaceId(1)).unwrap();
    assert_eq!(i.routers.routers().count(), 1, "the RA's router");
    assert!(i.neighbors.lookup(&a("fe80::1")).is_some());
}

#[test]
fn link_down_forgets_rdnss_so_poll_at_stays_ahead() {
    // Found by the stack_receive fuzz target: RDNSS entries (3600 s here) outlived a
    // link down; they are not aged while it is down, so after the link came back up,
    // poll_at() named their long-past expiry.
    let mut n = Node::new(false);
    assert_eq!(n.stack.interface(IfaceId(1)).unwrap().rdnss.len(), 1);
    n.stack.set_link(n.now, IfaceId(1), false);
    n.advance(Duration::from_secs(4000));
    n.stack.set_link(n.now, IfaceId(1), true);
    assert!(n.stack.interface(IfaceId(1)).unwrap().rdnss.is_empty());
    n.check();
}

/// An MLDv1 General Query (RFC 2710 §3.6) from fe80::1 with its Router Alert.
fn mldv1_query() -> Vec<u8> {
    let ff1 = a("ff02::1");
    let mut q = vec![130, 0, 0, 0, 0x27, 0x10, 0, 0];
    q.extend_from_slice(&[0; 16]);
    let c = upper_checksum(peer_ll(), ff1, 58, &q);
    q[2..4].copy_from_slice(&c.to_be_bytes());
    let mut hbh = vec![58, 0, 5, 2, 0, 0, 1, 0];
    hbh.extend_from_slice(&q);
    eth(mcast(ff1), mac(PEER), &ipv6(peer_ll(), ff1, 0, 1, &hbh))
}

#[test]
fn link_up_after_the_mldv1_querier_timed_out_reports_with_mldv2() {
    // Found by the stack_receive fuzz target: the Older Version Querier Present timer
    // (RFC 3810 §8.2.1) is not run while the link is down; after link up the host still
    // reported with MLDv1 long after it should have expired, and poll_at() named its
    // past expiry.
    let mut n = Node::new(false);
    n.stack.receive(n.now, IfaceId(1), &mldv1_query());
    let version = |n: &Node| n.stack.interface(IfaceId(1)).unwrap().mld.version();
    assert_eq!(version(&n), MldVersion::V1);
    n.drain();
    n.stack.set_link(n.now, IfaceId(1), false);
    // Past Robustness × Query Interval + Query Response Interval (260 s).
    n.advance(Duration::from_secs(300));
    n.stack.set_link(n.now, IfaceId(1), true);
    assert_eq!(version(&n), MldVersion::V2);
    n.check();
    let mut types = Vec::new();
    while let Some((_, f)) = n.stack.transmit() {
        if f.len() > 62 && f[20] == 0 && f[54] == 58 {
            types.push(f[62]);
        }
    }
    assert!(types.contains(&143), "MLDv2 reports on link up: {types:?}");
    assert!(!types.contains(&131), "no MLDv1 report: {types:?}");
}

#[test]
fn link_up_after_the_valid_lifetime_ran_out_forgets_the_address() {
    // An address whose valid lifetime ends while the link is down (RFC 4862 §5.5.4: it
    // is removed then) must not come back, nor go through DAD again, at link up.
    let mut n = Node::new(false);
    n.stack
        .receive(n.now, IfaceId(1), &ra_with_lifetimes(120, 60));
    n.advance(Duration::from_secs(1));
    let global = n.global;
    n.drain();
    n.stack.set_link(n.now, IfaceId(1), false);
    n.advance(Duration::from_secs(86400));
    n.stack.set_link(n.now, IfaceId(1), true);
    n.check();
    let i = n.stack.interface(IfaceId(1)).unwrap();
    assert!(
        i.addrs.get(&global).is_none(),
        "{global} outlived its lifetime"
    );
    n.advance(Duration::from_secs(5));
    while let Some((_, f)) = n.stack.transmit() {
        let dad_for_global = f.len() >= 78 && f[54] == 135 && f[62..78] == global.octets();
        assert!(!dad_for_global, "DAD for the expired {global}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    #[test]
    fn host_receive_never_panics_and_stays_bounded(ops in prop::collection::vec(op(), 1..40)) {
        run(false, &ops);
    }

    #[test]
    fn router_receive_never_panics_and_stays_bounded(ops in prop::collection::vec(op(), 1..40)) {
        run(true, &ops);
    }
}
