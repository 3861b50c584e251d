//! A whole `Stack` driven by the fuzzer: frames received on its interfaces at chosen
//! times, polls, and a few socket calls, with small configured limits. After every step:
//! nothing panicked; `poll_at()` is not earlier than the `now` of the last poll (and after
//! a poll, nothing it should have fired is left due); every bounded table and queue is
//! within its configured limit; every frame transmitted fits its link and carries a
//! well-formed IPv6 header.
//!
//! Input: one mode byte (bit 0: a router with two Ethernet interfaces instead of a host
//! with Ethernet and loopback; bit 1: the driver drains `transmit` after every step; bits
//! 2-7: the stack's seed), then operations, each an op byte and its arguments:
//!
//! * `op & 7` in 0..=3, receive: `iface, dt, len_lo, len_hi, frame[len]`. Bit 3 of `op`
//!   rewrites the destination MAC to the one the IPv6 destination maps to, bit 4 fixes the
//!   IPv6 Payload Length, bit 5 fixes the ICMPv6 / UDP checksum (so that mutations reach
//!   the protocol code behind them).
//! * 4, poll: `dt`.
//! * 5, UDP send: `socket, dst, port_lo, port_hi, len/16, zone`.
//! * 6, join (leave when `op` bit 3): `socket, group, iface`.
//! * 7, other: `what, arg`: open UDP / raw ICMPv6 socket, bind, connect, drain a
//!   socket, take events, drain transmit, link down/up, add an address, close, ping.
//!
//! `dt` advances time (below 128: that many 10 ms steps; else (dt-128)² seconds, so
//! lifetimes of hours expire). An address argument picks from a table of useful ones, or
//! (>= its length) reads 16 bytes from the input.
//!
//! The nodes are those of `crates/sim/examples/fuzz_seeds.rs` (the `sixstack demo`
//! topology), so frames captured there are addressed to them: the host is h1 of lan1,
//! the router is r. Keep the two in step.
#![no_main]

use std::net::Ipv6Addr;

use libfuzzer_sys::fuzz_target;
use sixstack_core::iface::IfaceConfig;
use sixstack_core::mld::MldConfig;
use sixstack_core::nd::neighbor::NeighborConfig;
use sixstack_core::nd::ra::{AdvPrefix, AdvertConfig};
use sixstack_core::nd::router::RouterListConfig;
use sixstack_core::socket::SocketHandle;
use sixstack_core::{Duration, IfaceId, Instant, LinkKind, Stack, StackConfig};
use sixstack_wire::addr::EthernetAddress;
use sixstack_wire::checksum::Checksum;
use sixstack_wire::ipv6chain::Chain;
use sixstack_wire::proto::IpProtocol;

const NEIGHBORS: usize = 8;
const QUEUED_PER_NEIGHBOR: usize = 2;
const REASM_BYTES: usize = 16 * 1024;
const REASM_DATAGRAMS: usize = 8;
const TX_QUEUE: usize = 32;
const EVENTS: usize = 32;
const SOCKETS: usize = 6;
const SOCKET_QUEUE: usize = 4;
/// What `udp_error_input` keeps per socket.
const SOCKET_ERRORS: usize = 16;
const PMTU_ENTRIES: usize = 4;
const REDIRECTS: usize = 4;
const ROUTES: usize = 16;
const ADDRESSES: usize = 8;
const ROUTERS: usize = 2;
const PREFIXES: usize = 4;
const RA_ROUTES: usize = 4;
const GROUPS: usize = 12;
/// `nd::input`'s MAX_OPTIONS_KEPT.
const DNS_OPTIONS: usize = 64;
/// Polls at one instant before the stack must have nothing due at it.
const POLL_ROUNDS: usize = 16;

fn mac(n: u8) -> EthernetAddress {
    EthernetAddress([0x02, 0x00, 0x5e, 0x00, 0x53, n])
}

fn config(router: bool) -> StackConfig {
    let mut c = if router {
        StackConfig::router()
    } else {
        StackConfig::default()
    };
    c.reassembly.max_bytes = REASM_BYTES;
    c.reassembly.max_bytes_per_source = REASM_BYTES / 2;
    c.reassembly.max_datagrams = REASM_DATAGRAMS;
    c.reassembly.max_datagrams_per_source = REASM_DATAGRAMS / 2;
    c.pmtu.max_entries = PMTU_ENTRIES;
    c.max_routes = ROUTES;
    c.max_redirects = REDIRECTS;
    c.max_transmit_queue = TX_QUEUE;
    c.max_events = EVENTS;
    c.max_sockets = SOCKETS;
    c.socket_queue_len = SOCKET_QUEUE;
    c
}

fn iface(name: &str, m: u8) -> IfaceConfig {
    let mut c = IfaceConfig::ethernet(name, mac(m));
    c.neighbor = NeighborConfig {
        max_queued_per_neighbor: QUEUED_PER_NEIGHBOR,
        max_entries: NEIGHBORS,
        ..NeighborConfig::default()
    };
    c.slaac.max_addresses = ADDRESSES;
    c.router_list = RouterListConfig {
        max_routers: ROUTERS,
        max_prefixes: PREFIXES,
        max_routes: RA_ROUTES,
        ..RouterListConfig::default()
    };
    c.mld = MldConfig {
        max_groups: GROUPS,
        max_sources_per_group: 4,
        max_filters: 16,
        ..MldConfig::default()
    };
    c
}

fn addr(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

/// Host h1 of the demo: MAC ...:11, RFC 7217 secret of image 7.
fn host(seed: u64) -> Stack {
    let mut s = Stack::new(config(false), seed);
    let mut c = iface("eth0", 0x11);
    c.slaac.stable_secret = [7; 32];
    c.net_iface = Some(b"eth0".to_vec());
    s.add_interface(Instant::ZERO, c);
    let mut lo = iface("lo", 0);
    lo.link = LinkKind::Loopback;
    lo.accept_ra = false;
    lo.send_rs = false;
    s.add_interface(Instant::ZERO, lo);
    s
}

/// Router r of the demo: eth0 (MAC ...:01) on 2001:db8:1::/64, eth1 (...:02) on :2::.
fn router(seed: u64) -> Stack {
    let mut s = Stack::new(config(true), seed);
    for (name, m, prefix) in [("eth0", 1, "2001:db8:1::"), ("eth1", 2, "2001:db8:2::")] {
        let mut c = iface(name, m);
        c.advertise = Some(AdvertConfig {
            max_rtr_adv_interval: Duration::from_secs(60),
            rdnss: vec![addr("2001:db8:1::53")],
            dnssl: vec!["example.test".to_string()],
            prefixes: vec![AdvPrefix::new(addr(prefix), 64)],
            ..AdvertConfig::default()
        });
        let id = s.add_interface(Instant::ZERO, c);
        let mut a = addr(prefix).octets();
        a[15] = 1;
        let _ = s.add_address(Instant::ZERO, id, Ipv6Addr::from(a), 64);
    }
    s
}

/// Addresses an operation can name with one byte.
const ADDRS: &[&str] = &[
    "ff02::1",
    "ff02::2",
    "ff02::16",
    "ff02::1:ff00:1",
    "ff05::1:3",
    "ff0e::101",
    "2001:db8:1::1",
    "2001:db8:2::1",
    "2001:db8:1::99",
    "2001:db8:2::99",
    "2001:db8:3::1",
    // r's link-local on lan1 (with seed 2, as in the seeds), h1's.
    "fe80::1bcc:991a:5649:dd12",
    "fe80::5bca:3c2f:aca8:35a8",
    "fe80::1",
    "::1",
    "::",
];

struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (b, rest) = self.data.split_first()?;
        self.data = rest;
        Some(*b)
    }

    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.data.len());
        let (b, rest) = self.data.split_at(n);
        self.data = rest;
        b
    }

    fn addr(&mut self, own: &[Ipv6Addr]) -> Option<Ipv6Addr> {
        let b = usize::from(self.byte()?);
        if b < ADDRS.len() {
            return Some(addr(ADDRS[b]));
        }
        if b < ADDRS.len() + own.len() {
            return Some(own[b - ADDRS.len()]);
        }
        let raw = self.bytes(16);
        let mut o = [0u8; 16];
        o[..raw.len()].copy_from_slice(raw);
        Some(Ipv6Addr::from(o))
    }
}

fn advance(dt: u8) -> Duration {
    if dt < 128 {
        Duration::from_millis(u64::from(dt) * 10)
    } else {
        let s = u64::from(dt - 128);
        Duration::from_secs(s * s)
    }
}

/// Makes a mutated frame get past the layers it did not mean to test (op bits 3-5).
fn fix(frame: &mut [u8], ours: EthernetAddress, op: u8) {
    if frame.len() < 14 + 40 || frame[12..14] != [0x86, 0xdd] {
        return;
    }
    let dst = Ipv6Addr::from(<[u8; 16]>::try_from(&frame[14 + 24..14 + 40]).unwrap());
    if op & 0x08 != 0 {
        let m = if dst.is_multicast() {
            EthernetAddress::from_ipv6_multicast(&dst)
        } else {
            ours
        };
        frame[..6].copy_from_slice(&m.0);
    }
    if op & 0x10 != 0 {
        let plen = (frame.len() - 14 - 40).min(0xffff) as u16;
        frame[14 + 4..14 + 6].copy_from_slice(&plen.to_be_bytes());
    }
    if op & 0x20 != 0 {
        let plen = usize::from(u16::from_be_bytes([frame[14 + 4], frame[14 + 5]]));
        let end = (14 + 40 + plen).min(frame.len());
        let src = Ipv6Addr::from(<[u8; 16]>::try_from(&frame[14 + 8..14 + 24]).unwrap());
        let nh = IpProtocol(frame[14 + 6]);
        let chain = Chain::walk(nh, &frame[14 + 40..end]);
        let Some((proto, off)) = chain.upper_layer() else {
            return;
        };
        let start = 14 + 40 + off;
        let field = match proto {
            IpProtocol::ICMPV6 => 2,
            IpProtocol::UDP => 6,
            _ => return,
        };
        if start + field + 2 > end {
            return;
        }
        frame[start + field..start + field + 2].fill(0);
        let upper = &frame[start..end];
        let mut sum = Checksum::ipv6_pseudo_header(&src, &dst, upper.len() as u32, proto.0)
            .add_bytes(upper)
            .finish();
        if proto == IpProtocol::UDP && sum == 0 {
            sum = 0xffff;
        }
        frame[start + field..start + field + 2].copy_from_slice(&sum.to_be_bytes());
    }
}

struct Driver {
    stack: Stack,
    ifaces: Vec<IfaceId>,
    sockets: Vec<SocketHandle>,
    now: Instant,
    /// The `now` of the last poll.
    polled: Instant,
    drain: bool,
}

impl Driver {
    fn own_addrs(&self) -> Vec<Ipv6Addr> {
        self.ifaces
            .iter()
            .flat_map(|i| self.stack.assigned_addrs(*i))
            .take(8)
            .collect()
    }

    fn iface(&self, b: u8) -> IfaceId {
        // One past the last names no interface at all.
        IfaceId(u32::from(b) % (self.ifaces.len() as u32 + 1) + 1)
    }

    fn socket(&self, b: u8) -> SocketHandle {
        if self.sockets.is_empty() {
            return SocketHandle(u32::from(b));
        }
        self.sockets[usize::from(b) % self.sockets.len()]
    }

    fn poll(&mut self) {
        let now = self.now;
        self.stack.poll(now);
        self.polled = now;
        // Packets to ourselves are delivered one round per poll; an answer to one may
        // need another. Any timer due at `now` must be gone after the first.
        let mut rounds = 0;
        while self.stack.poll_at() == Some(now) {
            assert!(
                self.stack.loopback_queue_len() > 0,
                "poll({now}) left a timer due at {now}"
            );
            rounds += 1;
            assert!(
                rounds < POLL_ROUNDS,
                "still busy after {POLL_ROUNDS} polls at {now}"
            );
            self.stack.poll(now);
        }
        if let Some(at) = self.stack.poll_at() {
            assert!(at > now, "after poll({now}) poll_at() is {at}");
        }
    }

    fn drain_transmit(&mut self) {
        while let Some((id, frame)) = self.stack.transmit() {
            self.check_frame(id, &frame);
        }
    }

    fn check_frame(&self, id: IfaceId, frame: &[u8]) {
        let i = self
            .stack
            .interface(id)
            .unwrap_or_else(|| panic!("a frame for interface {id}, which does not exist"));
        let hdr = match i.link {
            LinkKind::Ethernet { .. } => {
                assert_eq!(&frame[12..14], &[0x86, 0xdd], "not IPv6");
                14
            }
            LinkKind::Loopback | LinkKind::PointToPoint => 0,
            _ => return,
        };
        let pkt = &frame[hdr..];
        assert!(
            pkt.len() <= i.mtu as usize,
            "a packet of {} bytes on a link with MTU {}",
            pkt.len(),
            i.mtu
        );
        assert!(pkt.len() >= 40, "frame without an IPv6 header");
        assert_eq!(pkt[0] >> 4, 6, "IP version");
        let plen = usize::from(u16::from_be_bytes([pkt[4], pkt[5]]));
        assert_eq!(40 + plen, pkt.len(), "payload length of a frame we send");
    }

    fn check(&self) {
        let s = &self.stack;
        if let Some(at) = s.poll_at() {
            assert!(
                at >= self.polled,
                "poll_at() {at} before the last poll at {}",
                self.polled
            );
        }
        // Each table against its own configured limit (the loopback interface's too).
        for i in s.interfaces() {
            let n = i.neighbors.len();
            let ncfg = i.neighbors.config();
            assert!(
                n <= ncfg.max_entries,
                "{n} neighbor cache entries on {}",
                i.name
            );
            for e in i.neighbors.iter() {
                let q = i.neighbors.queued(&e.addr).count();
                assert!(
                    q <= ncfg.max_queued_per_neighbor,
                    "{q} packets queued for {}",
                    e.addr
                );
            }
            let a = i.addrs.iter().count();
            assert!(
                a <= i.addrs.config().max_addresses,
                "{a} addresses on {}",
                i.name
            );
            let rcfg = i.routers.config();
            assert!(i.routers.routers().count() <= rcfg.max_routers);
            assert!(i.routers.prefixes().count() <= rcfg.max_prefixes);
            assert!(i.routers.routes().count() <= rcfg.max_routes);
            let g = i.mld.groups().count();
            assert!(
                g <= i.mld.config().max_groups,
                "{g} MLD groups on {}",
                i.name
            );
            assert!(i.rdnss.len() <= DNS_OPTIONS && i.dnssl.len() <= DNS_OPTIONS);
        }
        let r = s.reassembly_bytes();
        assert!(r <= REASM_BYTES, "reassembly holds {r} bytes");
        assert!(s.reassembly_datagrams() <= REASM_DATAGRAMS);
        let t = s.transmit_queue_len();
        assert!(t <= TX_QUEUE, "{t} frames in the transmit queue");
        let e = s.pending_events();
        assert!(e <= EVENTS, "{e} events pending");
        assert!(s.path_mtu_entries() <= PMTU_ENTRIES);
        assert!(s.redirect_entries() <= REDIRECTS);
        assert!(s.routes().len() <= ROUTES);
        for h in &self.sockets {
            if let Some((rx, errs)) = s.socket_queued(*h) {
                assert!(rx <= SOCKET_QUEUE, "{rx} datagrams queued on a socket");
                assert!(errs <= SOCKET_ERRORS, "{errs} errors queued on a socket");
            }
        }
    }

    fn step(&mut self, op: u8, inp: &mut Input<'_>) -> Option<()> {
        match op & 7 {
            0..=3 => {
                let id = self.iface(inp.byte()?);
                self.now += advance(inp.byte()?);
                let len = usize::from(u16::from_le_bytes([inp.byte()?, inp.byte()?])) % 4096;
                let mut frame = inp.bytes(len).to_vec();
                let ours = match self.stack.interface(id).map(|i| i.link) {
                    Some(LinkKind::Ethernet { mac }) => mac,
                    _ => mac(0),
                };
                fix(&mut frame, ours, op);
                self.stack.receive(self.now, id, &frame);
            }
            4 => {
                self.now += advance(inp.byte()?);
                self.poll();
            }
            5 => {
                let h = self.socket(inp.byte()?);
                let own = self.own_addrs();
                let dst = inp.addr(&own)?;
                let port = u16::from_le_bytes([inp.byte()?, inp.byte()?]);
                let len = usize::from(inp.byte()?) * 16;
                let zone = inp.byte()?;
                let zone = (zone & 0x80 != 0).then(|| self.iface(zone));
                let payload = vec![0x5a; len];
                let _ = self.stack.send_to(self.now, h, dst, port, zone, &payload);
            }
            6 => {
                let h = self.socket(inp.byte()?);
                let own = self.own_addrs();
                let group = inp.addr(&own)?;
                let id = self.iface(inp.byte()?);
                let _ = if op & 8 == 0 {
                    self.stack.join_multicast(self.now, h, group, id)
                } else {
                    self.stack.leave_multicast(self.now, h, group, id)
                };
            }
            _ => {
                let what = inp.byte()?;
                let arg = inp.byte()?;
                match what % 12 {
                    0 => {
                        if let Ok(h) = self.stack.udp_open() {
                            self.sockets.push(h);
                        }
                    }
                    1 => {
                        if let Ok(h) = self.stack.raw_open(IpProtocol::ICMPV6) {
                            self.sockets.push(h);
                        }
                    }
                    2 => {
                        let h = self.socket(arg);
                        let port = u16::from(inp.byte()?);
                        let _ = self.stack.bind(h, Ipv6Addr::UNSPECIFIED, port, None);
                    }
                    3 => {
                        let h = self.socket(arg);
                        while self.stack.recv(h).is_ok() {}
                        while self.stack.raw_recv(h).is_ok() {}
                        while self.stack.take_error(h).is_some() {}
                    }
                    4 => {
                        let _ = self.stack.take_events();
                    }
                    5 => self.drain_transmit(),
                    6 => {
                        let id = self.iface(arg);
                        let up = self.stack.interface(id).is_some_and(|i| i.up);
                        self.stack.set_link(self.now, id, !up);
                    }
                    7 => {
                        let own = self.own_addrs();
                        let a = inp.addr(&own)?;
                        let len = inp.byte()? % 129;
                        let _ = self.stack.add_address(self.now, self.iface(arg), a, len);
                    }
                    8 => {
                        let h = self.socket(arg);
                        if self.stack.close(self.now, h).is_ok() {
                            self.sockets.retain(|x| *x != h);
                        }
                    }
                    9 => {
                        let h = self.socket(arg);
                        let own = self.own_addrs();
                        let dst = inp.addr(&own)?;
                        let port = u16::from(inp.byte()?);
                        let _ = self.stack.connect(h, dst, port, None);
                    }
                    10 => {
                        let _ = self.stack.remove_address(
                            self.now,
                            self.iface(arg),
                            self.own_addrs()
                                .first()
                                .copied()
                                .unwrap_or(Ipv6Addr::LOCALHOST),
                        );
                    }
                    _ => {
                        // An echo request (type 128) through a raw ICMPv6 socket.
                        let h = self.socket(arg);
                        let own = self.own_addrs();
                        let dst = inp.addr(&own)?;
                        let msg = [128, 0, 0, 0, 0, 1, 0, arg];
                        let _ = self.stack.raw_send_to(self.now, h, dst, None, &msg);
                    }
                }
            }
        }
        Some(())
    }
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input { data };
    let Some(mode) = inp.byte() else {
        return;
    };
    let seed = u64::from(mode >> 2);
    let stack = if mode & 1 == 0 {
        host(seed)
    } else {
        router(seed)
    };
    let ifaces: Vec<IfaceId> = stack.interfaces().map(|i| i.id).collect();
    let mut d = Driver {
        stack,
        ifaces,
        sockets: Vec::new(),
        now: Instant::ZERO,
        polled: Instant::ZERO,
        drain: mode & 2 != 0,
    };
    // A UDP socket on port 7 and a raw ICMPv6 socket, so that input reaches sockets.
    if let Ok(h) = d.stack.udp_open() {
        let _ = d.stack.bind(h, Ipv6Addr::UNSPECIFIED, 7, None);
        d.sockets.push(h);
    }
    if let Ok(h) = d.stack.raw_open(IpProtocol::ICMPV6) {
        d.sockets.push(h);
    }
    d.poll();
    d.check();
    while let Some(op) = inp.byte() {
        if d.step(op, &mut inp).is_none() {
            break;
        }
        d.check();
        if d.drain {
            d.drain_transmit();
        }
    }
    // The end of the input: time passes, as it would.
    d.now += Duration::from_secs(3600);
    d.poll();
    d.check();
    d.drain_transmit();
});
