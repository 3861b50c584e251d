//! ping6 and tracert6 run on sixstack nodes of the simulator: the same logic as against
//! the daemon, over [`ProbeNet`] implemented here by a node's raw ICMPv6 socket and a UDP
//! socket. The topology is h1 — lan1 (MTU 1500) — r — lan2 (MTU 1280) — h2, addresses by
//! SLAAC from r's Router Advertisements.

use std::cell::Cell;
use std::net::Ipv6Addr;
use std::time::Duration;

use sixstack_apps::ping::{self, PingEvent, PingOptions};
use sixstack_apps::probe::{PmtuMode, ProbeError, ProbeNet, Received, SendOptions};
use sixstack_apps::tracert::{self, HopKind, Method, ProbeResult, TraceEvent, TraceOptions};
use sixstack_core::iface::IfaceConfig;
use sixstack_core::nd::ra::{AdvPrefix, AdvertConfig};
use sixstack_core::socket::SocketHandle;
use sixstack_core::{Error, IfaceId, Instant, Stack, StackConfig};
use sixstack_sim::testkit::{self, ETH0, ETH1, globals, mac, record};
use sixstack_sim::{LinkConfig, LinkId, Network, NodeId};
use sixstack_wire::addr::{ScopedAddr, Zone};
use sixstack_wire::icmpv6;
use sixstack_wire::proto::IpProtocol;

/// A node of the simulator as ping6 and tracert6 see a stack.
struct SimNet<'a> {
    net: &'a mut Network<Stack>,
    node: NodeId,
    icmp: SocketHandle,
    udp: Option<SocketHandle>,
    bound: Option<Ipv6Addr>,
}

impl<'a> SimNet<'a> {
    fn new(net: &'a mut Network<Stack>, node: NodeId) -> Self {
        let icmp = net
            .node_mut(node)
            .raw_open(IpProtocol::ICMPV6)
            .expect("raw socket");
        Self {
            net,
            node,
            icmp,
            udp: None,
            bound: None,
        }
    }

    fn stack(&mut self) -> &mut Stack {
        self.net.node_mut(self.node)
    }

    fn zone(&self, z: Option<Zone>) -> Option<IfaceId> {
        match z? {
            Zone::Index(i) => Some(IfaceId(i)),
            n => self.net.node(self.node).interface_by_name(n.as_name()?),
        }
    }

    fn now_instant(&self) -> Instant {
        self.net.now()
    }

    fn check_size(
        &mut self,
        dst: &ScopedAddr,
        opts: &SendOptions,
        len: usize,
    ) -> Result<(), ProbeError> {
        if opts.pmtu == PmtuMode::Do
            && let Some(mtu) = self.path_mtu(dst)
            && 40 + len > mtu as usize
        {
            return Err(ProbeError::TooBig { mtu });
        }
        Ok(())
    }

    fn bind_source(&mut self, h: SocketHandle, opts: &SendOptions) -> Result<(), ProbeError> {
        if opts.source.is_some() && opts.source != self.bound {
            let src = opts.source.unwrap_or(Ipv6Addr::UNSPECIFIED);
            self.stack().bind(h, src, 0, None).map_err(send_err)?;
            self.bound = opts.source;
        }
        Ok(())
    }
}

fn send_err(e: Error) -> ProbeError {
    ProbeError::Send(e.to_string())
}

impl ProbeNet for SimNet<'_> {
    fn now(&mut self) -> Duration {
        Duration::from_micros(self.net.now().total_micros())
    }

    fn send_icmp(
        &mut self,
        dst: &ScopedAddr,
        opts: &SendOptions,
        message: &[u8],
    ) -> Result<(), ProbeError> {
        self.check_size(dst, opts, message.len())?;
        let (h, now, zone) = (self.icmp, self.now_instant(), self.zone(dst.zone));
        self.bind_source(h, opts)?;
        let s = self.stack();
        s.set_hop_limit(h, opts.hop_limit).map_err(send_err)?;
        if opts.traffic_class != 0 || opts.flow_label != 0 {
            // The core's raw socket sets neither: build the whole packet here.
            let src = opts
                .source
                .expect("the simulator sets a class or label with a source");
            let mut msg = message.to_vec();
            icmpv6::Packet::new_unchecked(&mut msg[..]).fill_checksum(&src, &dst.addr);
            let mut pkt = testkit::ipv6_packet(
                src,
                dst.addr,
                IpProtocol::ICMPV6,
                opts.hop_limit.unwrap_or(64),
                &msg,
            );
            let w0 =
                (6u32 << 28) | (u32::from(opts.traffic_class) << 20) | (opts.flow_label & 0xf_ffff);
            pkt[..4].copy_from_slice(&w0.to_be_bytes());
            s.raw_send_packet(now, h, &pkt, zone).map_err(send_err)?;
            return Ok(());
        }
        s.raw_send_to(now, h, dst.addr, zone, message)
            .map_err(send_err)?;
        Ok(())
    }

    fn send_udp(
        &mut self,
        dst: &ScopedAddr,
        port: u16,
        opts: &SendOptions,
        payload: &[u8],
    ) -> Result<u16, ProbeError> {
        self.check_size(dst, opts, 8 + payload.len())?;
        let (now, zone) = (self.now_instant(), self.zone(dst.zone));
        let h = match self.udp {
            Some(h) => h,
            None => {
                let s = self.stack();
                let h = s.udp_open().map_err(send_err)?;
                s.bind(h, Ipv6Addr::UNSPECIFIED, 0, None)
                    .map_err(send_err)?;
                self.udp = Some(h);
                h
            }
        };
        let s = self.stack();
        s.set_hop_limit(h, opts.hop_limit).map_err(send_err)?;
        s.send_to(now, h, dst.addr, port, zone, payload)
            .map_err(send_err)?;
        Ok(s.local_addr(h).map(|l| l.1).unwrap_or(0))
    }

    fn recv(&mut self, deadline: Duration) -> Result<Option<Received>, ProbeError> {
        let deadline = Instant::from_micros(deadline.as_micros() as u64);
        loop {
            let h = self.icmp;
            if let Ok(p) = self.stack().raw_recv(h) {
                let zone = self
                    .net
                    .node(self.node)
                    .interface(p.iface)
                    .and_then(|i| Zone::name(&i.name).ok());
                return Ok(Some(Received {
                    time: Duration::from_micros(p.time.total_micros()),
                    from: p.src,
                    zone,
                    hop_limit: p.hop_limit,
                    message: p.upper().to_vec(),
                }));
            }
            let now = self.net.now();
            if now >= deadline {
                return Ok(None);
            }
            self.net
                .run_until(deadline.min(now + Duration::from_micros(50)));
        }
    }

    fn path_mtu(&mut self, dst: &ScopedAddr) -> Option<u32> {
        // The core's route lookup (with default routers) is its own: the hosts here
        // have one interface, which every packet leaves by.
        let iface = self.zone(dst.zone).unwrap_or(ETH0);
        let s = self.net.node(self.node);
        let link = s.interface(iface)?.mtu;
        Some(s.path_mtu(&dst.addr).unwrap_or(link).min(link))
    }
}

struct Topo {
    net: Network<Stack>,
    lan1: LinkId,
    lan2: LinkId,
    h1: NodeId,
    h2: NodeId,
    r: NodeId,
}

fn router(seed: u64) -> Stack {
    let mut s = Stack::new(StackConfig::router(), seed);
    for (name, m, prefix, mtu) in [
        ("eth0", 1, "2001:db8:1::", 1500),
        ("eth1", 2, "2001:db8:2::", 1280),
    ] {
        let mut c = IfaceConfig::ethernet(name, mac(m));
        c.mtu = Some(mtu);
        c.advertise = Some(AdvertConfig {
            prefixes: vec![AdvPrefix::new(testkit::ip(prefix), 64)],
            ..AdvertConfig::default()
        });
        let id = s.add_interface(Instant::ZERO, c);
        let mut a = testkit::ip(prefix).octets();
        a[15] = 1;
        s.add_address(Instant::ZERO, id, Ipv6Addr::from(a), 64)
            .expect("router address");
    }
    s
}

/// h1 — lan1 (1500) — r — lan2 (1280) — h2, every address configured.
fn topo(test: &str) -> Topo {
    let mut net = Network::new(7);
    let lan1 = net.add_link("lan1", LinkConfig::ethernet());
    let lan2 = net.add_link(
        "lan2",
        LinkConfig {
            mtu: 1280,
            ..LinkConfig::ethernet()
        },
    );
    let r = net.add_node("r", router(1));
    let h1 = net.add_node("h1", testkit::host(2, mac(0x11)));
    let h2 = net.add_node(
        "h2",
        testkit::host_with(3, mac(0x21), |c| c.mtu = Some(1280)),
    );
    net.attach(lan1, r, ETH0);
    net.attach(lan2, r, ETH1);
    net.attach(lan1, h1, ETH0);
    net.attach(lan2, h2, ETH0);
    record(&mut net, test);
    net.run_for(Duration::from_secs(10));
    assert!(
        !globals(net.node(h1), ETH0).is_empty(),
        "h1 has no global address"
    );
    assert!(
        !globals(net.node(h2), ETH0).is_empty(),
        "h2 has no global address"
    );
    Topo {
        net,
        lan1,
        lan2,
        h1,
        h2,
        r,
    }
}

fn h2_addr(t: &Topo) -> Ipv6Addr {
    globals(t.net.node(t.h2), ETH0)[0]
}

fn never() -> bool {
    false
}

fn ping_run(
    t: &mut Topo,
    dst: ScopedAddr,
    opts: &PingOptions,
) -> (ping::PingSummary, Vec<PingEvent>, String) {
    let mut events = Vec::new();
    let mut text = String::new();
    let mut net = SimNet::new(&mut t.net, t.h1);
    let s = ping::run(&mut net, &dst.to_string(), &dst, opts, &never, &mut |e| {
        text += &ping::render_text(e, false).unwrap_or_default();
        events.push(e.clone());
    })
    .expect("ping runs");
    (s, events, text)
}

#[test]
fn ping6_across_a_router_three_replies_and_iputils_summary() {
    let mut t = topo("ping6_across_a_router_three_replies_and_iputils_summary");
    let dst = ScopedAddr::new(h2_addr(&t), None);
    let opts = PingOptions {
        count: Some(3),
        ..PingOptions::default()
    };
    let (s, events, text) = ping_run(&mut t, dst, &opts);
    assert_eq!(
        (s.transmitted, s.received, s.errors, s.duplicates),
        (3, 3, 0, 0),
        "{text}"
    );
    assert_eq!(s.exit_code(), 0);
    let replies: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            PingEvent::Reply {
                seq,
                from,
                bytes,
                hop_limit,
                rtt,
                ..
            } => Some((*seq, *from, *bytes, *hop_limit, *rtt)),
            _ => None,
        })
        .collect();
    assert_eq!(replies.len(), 3);
    for (i, (seq, from, bytes, hl, rtt)) in replies.into_iter().enumerate() {
        assert_eq!(seq as usize, i + 1);
        assert_eq!(from.addr, dst.addr);
        assert_eq!(bytes, 64);
        // One router on the way: the default hop limit 64 less one.
        assert_eq!(hl, 63);
        // Four link crossings of 100 µs each at least, far less than a millisecond here.
        assert!(
            rtt >= Duration::from_micros(400) && rtt < Duration::from_millis(50),
            "{rtt:?}"
        );
    }
    // The requests went a second apart: two intervals from the first to the last.
    assert!(
        s.time >= Duration::from_secs(2) && s.time < Duration::from_millis(2100),
        "{:?}",
        s.time
    );
    assert!(
        text.starts_with(&format!(
            "PING {dst} ({dst}) 56 data bytes\n64 bytes from {dst}: icmp_seq=1 ttl=63 time="
        )),
        "{text}"
    );
    assert!(text.contains(&format!("\n--- {dst} ping statistics ---\n3 packets transmitted, 3 received, 0% packet loss, time 20")), "{text}");
    assert!(text.contains("rtt min/avg/max/mdev = 0."), "{text}");
    // What crossed lan2: three requests to h2 and three replies from it.
    let reqs = testkit::icmp(&t.net, t.lan2, icmpv6::Message::ECHO_REQUEST, Some(t.r));
    let reps = testkit::icmp(&t.net, t.lan2, icmpv6::Message::ECHO_REPLY, Some(t.h2));
    assert_eq!((reqs.len(), reps.len()), (3, 3));
}

#[test]
fn ping6_hop_limit_one_gets_time_exceeded_and_exit_status_1() {
    let mut t = topo("ping6_hop_limit_one_gets_time_exceeded_and_exit_status_1");
    let dst = ScopedAddr::new(h2_addr(&t), None);
    let mut opts = PingOptions {
        count: Some(2),
        interval: Duration::from_millis(200),
        ..PingOptions::default()
    };
    opts.send.hop_limit = Some(1);
    let (s, events, text) = ping_run(&mut t, dst, &opts);
    assert_eq!((s.transmitted, s.received, s.errors), (2, 0, 2), "{text}");
    assert_eq!(s.exit_code(), 1);
    let r_addr = testkit::ip("2001:db8:1::1");
    let errs: Vec<_> = events
        .iter()
        .filter(|e| matches!(e, PingEvent::Error { .. }))
        .collect();
    assert_eq!(errs.len(), 2);
    // RFC 4443 §3.3: the router sends Time Exceeded from the interface the request came in on.
    assert!(
        text.contains("icmp_seq=1 Time exceeded: Hop limit\n"),
        "{text}"
    );
    assert!(
        text.contains("2 packets transmitted, 0 received, +2 errors, 100% packet loss"),
        "{text}"
    );
    assert!(!text.contains("rtt min"), "{text}");
    let from_r = testkit::icmp(&t.net, t.lan1, icmpv6::Message::TIME_EXCEEDED, Some(t.r));
    assert_eq!(from_r.len(), 2);
    assert!(
        from_r
            .iter()
            .all(|p| p.src == r_addr || p.src.segments()[0] == 0xfe80)
    );
    // No request reached lan2.
    assert!(testkit::icmp(&t.net, t.lan2, icmpv6::Message::ECHO_REQUEST, None).is_empty());
}

#[test]
fn ping6_large_requests_are_fragmented_and_dont_fragment_is_a_local_error() {
    let mut t = topo("ping6_large_requests_are_fragmented_and_dont_fragment_is_a_local_error");
    let dst = ScopedAddr::new(h2_addr(&t), None);
    // 4000 bytes: h1 fragments for lan1's 1500; the first fragment is too big for lan2, r
    // answers Packet Too Big; h1 then fragments for 1280 and the replies come back.
    let opts = PingOptions {
        count: Some(3),
        size: 4000,
        interval: Duration::from_millis(100),
        ..PingOptions::default()
    };
    let (s, _, text) = ping_run(&mut t, dst, &opts);
    assert_eq!((s.transmitted, s.received, s.errors), (3, 2, 1), "{text}");
    assert!(
        text.contains("From 2001:db8:1::1 icmp_seq=1 Packet too big: mtu=1280\n"),
        "{text}"
    );
    assert!(text.contains("4008 bytes from"), "{text}");
    let frags1: Vec<usize> = testkit::packets(&t.net, t.lan1)
        .into_iter()
        .filter(|p| p.is_fragment() && p.from == Some(t.h1))
        .map(|p| p.packet.len())
        .collect();
    // 4048 bytes of ICMPv6 and IPv6: three fragments for 1500, then four for 1280.
    assert_eq!(frags1.len(), 3 + 4 + 4, "{frags1:?}");
    assert!(frags1[..3].iter().all(|l| *l <= 1500) && frags1[0] > 1280);
    assert!(frags1[3..].iter().all(|l| *l <= 1280));
    let frags2 = testkit::packets(&t.net, t.lan2)
        .into_iter()
        .filter(|p| p.is_fragment() && p.from == Some(t.h2))
        .count();
    assert_eq!(frags2, 2 * 4, "the replies in 1280-byte packets");
    // -M do: 1500 bytes of data do not fit the path MTU h1 now knows.
    let mut opts = PingOptions {
        count: Some(2),
        size: 1500,
        interval: Duration::from_millis(100),
        timeout: Duration::from_millis(500),
        ..PingOptions::default()
    };
    opts.send.pmtu = PmtuMode::Do;
    let before = testkit::packets(&t.net, t.lan1).len();
    let (s, events, text) = ping_run(&mut t, dst, &opts);
    assert_eq!((s.transmitted, s.received, s.errors), (2, 0, 2), "{text}");
    assert!(events.iter().all(|e| !matches!(e, PingEvent::LocalError { error, .. } if *error != ProbeError::TooBig { mtu: 1280 })));
    assert!(
        text.contains("ping6: local error: message too long, mtu=1280\n"),
        "{text}"
    );
    let sent = testkit::packets(&t.net, t.lan1)[before..]
        .iter()
        .filter(|p| {
            p.from == Some(t.h1)
                && p.proto == IpProtocol::ICMPV6
                && p.is_icmp(icmpv6::Message::ECHO_REQUEST)
        })
        .count();
    assert_eq!(sent, 0, "nothing sent with -M do");
}

#[test]
fn ping6_dont_fragment_learns_the_path_mtu_from_packet_too_big() {
    let mut t = topo("ping6_dont_fragment_learns_the_path_mtu_from_packet_too_big");
    let dst = ScopedAddr::new(h2_addr(&t), None);
    // 1400 bytes of data fit lan1 but not lan2: r answers Packet Too Big (RFC 4443 §3.2).
    let mut opts = PingOptions {
        count: Some(2),
        size: 1400,
        interval: Duration::from_millis(200),
        timeout: Duration::from_millis(500),
        ..PingOptions::default()
    };
    opts.send.pmtu = PmtuMode::Do;
    let (s, _, text) = ping_run(&mut t, dst, &opts);
    assert_eq!((s.transmitted, s.received, s.errors), (2, 0, 2), "{text}");
    assert!(
        text.contains("icmp_seq=1 Packet too big: mtu=1280\n"),
        "{text}"
    );
    assert!(
        text.contains("ping6: local error: message too long, mtu=1280\n"),
        "{text}"
    );
    assert_eq!(t.net.node(t.h1).path_mtu(&dst.addr), Some(1280));
}

#[test]
fn ping6_link_local_with_zone_and_flow_label() {
    let mut t = topo("ping6_link_local_with_zone_and_flow_label");
    let r_ll = testkit::link_local(t.net.node(t.r), ETH0).expect("router link-local");
    let h1_ll = testkit::link_local(t.net.node(t.h1), ETH0).expect("h1 link-local");
    let dst: ScopedAddr = format!("{r_ll}%eth0").parse().unwrap();
    let mut opts = PingOptions {
        count: Some(1),
        ..PingOptions::default()
    };
    opts.send = SendOptions {
        traffic_class: 0xb8,
        flow_label: 0x12345,
        source: Some(h1_ll),
        ..SendOptions::default()
    };
    let (s, _, text) = ping_run(&mut t, dst, &opts);
    assert_eq!(s.received, 1, "{text}");
    assert!(
        text.contains(&format!(
            "64 bytes from {r_ll}%eth0: icmp_seq=1 ttl=64 time="
        )),
        "{text}"
    );
    let req = &testkit::icmp(&t.net, t.lan1, icmpv6::Message::ECHO_REQUEST, Some(t.h1))[0];
    let p = sixstack_wire::ipv6::Packet::new_checked(&req.packet[..]).unwrap();
    assert_eq!((p.traffic_class(), p.flow_label()), (0xb8, 0x12345));
}

#[test]
fn ping6_json_lines() {
    let mut t = topo("ping6_json_lines");
    let dst = ScopedAddr::new(h2_addr(&t), None);
    let opts = PingOptions {
        count: Some(2),
        interval: Duration::from_millis(10),
        ..PingOptions::default()
    };
    let (_, events, _) = ping_run(&mut t, dst, &opts);
    let lines: Vec<_> = events.iter().map(ping::render_json).collect();
    let types: Vec<_> = lines
        .iter()
        .map(|l| l["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(types, ["start", "reply", "reply", "summary"]);
    assert_eq!(lines[1]["from"], dst.to_string());
    assert_eq!(lines[3]["received"], 2);
    assert_eq!(lines[3]["loss_percent"], 0.0);
    assert!(lines[3]["rtt_avg_ms"].as_f64().unwrap() > 0.0);
}

#[test]
fn ping6_stops_when_asked_and_prints_the_summary() {
    let mut t = topo("ping6_stops_when_asked_and_prints_the_summary");
    let dst = ScopedAddr::new(h2_addr(&t), None);
    let replies = Cell::new(0);
    let stop = || replies.get() >= 4;
    let mut net = SimNet::new(&mut t.net, t.h1);
    let s = ping::run(
        &mut net,
        "h2",
        &dst,
        &PingOptions::default(),
        &stop,
        &mut |e| {
            if matches!(e, PingEvent::Reply { .. }) {
                replies.set(replies.get() + 1);
            }
        },
    )
    .unwrap();
    assert_eq!((s.transmitted, s.received), (4, 4));
}

fn trace(
    t: &mut Topo,
    dst: ScopedAddr,
    opts: &TraceOptions,
) -> (tracert::TraceSummary, Vec<TraceEvent>, String) {
    let mut events = Vec::new();
    let mut text = String::new();
    let mut net = SimNet::new(&mut t.net, t.h1);
    let s = tracert::run(&mut net, &dst.to_string(), &dst, opts, &never, &mut |e| {
        text += &tracert::render_text(e);
        events.push(e.clone());
    })
    .expect("trace runs");
    (s, events, text)
}

fn hops(events: &[TraceEvent]) -> Vec<(u8, Vec<ProbeResult>, Option<u32>)> {
    events
        .iter()
        .filter_map(|e| match e {
            TraceEvent::Hop { hop, probes, pmtu } => Some((*hop, probes.clone(), *pmtu)),
            _ => None,
        })
        .collect()
}

fn answers(probes: &[ProbeResult]) -> Vec<(Ipv6Addr, HopKind)> {
    probes
        .iter()
        .filter_map(|p| match p {
            ProbeResult::Answer { from, kind, .. } => Some((from.addr, *kind)),
            _ => None,
        })
        .collect()
}

#[test]
fn tracert6_icmp_lists_the_router_then_the_destination_with_the_path_mtu() {
    let test = "tracert6_icmp_lists_the_router_then_the_destination_with_the_path_mtu";
    let mut t = topo(test);
    let dst = ScopedAddr::new(h2_addr(&t), None);
    let (s, events, text) = trace(&mut t, dst, &TraceOptions::default());
    assert!(s.reached, "{text}");
    assert_eq!((s.hops, s.pmtu, s.back), (2, 1280, Some(2)), "{text}");
    let h = hops(&events);
    assert_eq!(h.len(), 2, "{text}");
    // Hop 1: r (the address of the interface the probe came in on, RFC 4443 §2.2), three
    // times. The 1500-byte probes of hop 1 expire at r before they meet lan2's MTU.
    let r_addrs = [testkit::ip("2001:db8:1::1")];
    let a1 = answers(&h[0].1);
    assert_eq!(a1.len(), 3, "{text}");
    assert!(
        a1.iter()
            .all(|(a, k)| r_addrs.contains(a) && *k == HopKind::Router),
        "{text}"
    );
    assert_eq!(h[0].2, None);
    // Hop 2: the first 1500-byte probe meets Packet Too Big at r: pmtu 1280, sent again.
    assert_eq!(h[1].2, Some(1280), "{text}");
    let a2 = answers(&h[1].1);
    assert_eq!(a2, vec![(dst.addr, HopKind::Reached); 3], "{text}");
    assert!(text.starts_with(&format!("tracert6 to {dst} ({dst}), 30 hops max, 1500 byte packets, ICMPv6 probes\n 1  2001:db8:1::1  0.")), "{text}");
    assert!(text.contains(&format!("\n 2  {dst}  0.")), "{text}");
    assert!(
        text.ends_with("  pmtu 1280\n     Resume: pmtu 1280 hops 2 back 2\n"),
        "{text}"
    );
    // On lan2: no fragment and no probe larger than 1280 bytes.
    for p in testkit::packets(&t.net, t.lan2) {
        assert!(p.packet.len() <= 1280 && !p.is_fragment());
    }
    let ptb = testkit::icmp(&t.net, t.lan1, icmpv6::Message::PACKET_TOO_BIG, Some(t.r));
    assert_eq!(ptb.len(), 1);
}

#[test]
fn tracert6_udp_ends_at_port_unreachable() {
    let mut t = topo("tracert6_udp_ends_at_port_unreachable");
    let dst = ScopedAddr::new(h2_addr(&t), None);
    let opts = TraceOptions {
        method: Method::Udp,
        queries: 2,
        packet_len: Some(80),
        ..TraceOptions::default()
    };
    let (s, events, text) = trace(&mut t, dst, &opts);
    assert!(s.reached, "{text}");
    let h = hops(&events);
    assert_eq!(h.len(), 2, "{text}");
    assert_eq!(
        answers(&h[0].1),
        vec![(testkit::ip("2001:db8:1::1"), HopKind::Router); 2]
    );
    assert_eq!(answers(&h[1].1), vec![(dst.addr, HopKind::Reached); 2]);
    assert!(text.contains("80 byte packets, UDP probes"), "{text}");
    // The destination said Port Unreachable (RFC 4443 §3.1 code 4) to each UDP probe.
    let unreach = testkit::icmp(&t.net, t.lan2, icmpv6::Message::DST_UNREACHABLE, Some(t.h2));
    assert_eq!(unreach.len(), 2);
    assert!(unreach.iter().all(|u| u.icmp_code() == Some(4)));
    let udp: Vec<_> = testkit::packets(&t.net, t.lan1)
        .into_iter()
        .filter(|p| p.proto == IpProtocol::UDP)
        .collect();
    assert_eq!(udp.len(), 4);
    assert!(udp.iter().all(|p| p.packet.len() == 80));
    let ports: Vec<u16> = udp
        .iter()
        .map(|p| u16::from_be_bytes([p.upper[2], p.upper[3]]))
        .collect();
    assert_eq!(ports, [33435, 33436, 33437, 33438]);
}

#[test]
fn tracert6_address_unreachable_ends_the_trace_with_a_mark() {
    let mut t = topo("tracert6_address_unreachable_ends_the_trace_with_a_mark");
    // On lan2's prefix but no node there: r's address resolution fails, Address Unreachable.
    let dst = ScopedAddr::new(testkit::ip("2001:db8:2::dead"), None);
    let opts = TraceOptions {
        max_hops: 3,
        queries: 1,
        wait: Duration::from_secs(4),
        packet_len: Some(100),
        ..TraceOptions::default()
    };
    let (s, events, text) = trace(&mut t, dst, &opts);
    assert!(!s.reached, "{text}");
    assert_eq!(s.exit_code(), 1);
    let h = hops(&events);
    assert_eq!(
        answers(&h[0].1),
        vec![(testkit::ip("2001:db8:1::1"), HopKind::Router)],
        "{text}"
    );
    // RFC 4443 §3.1: code 3 after address resolution failed; the trace ends there with !H.
    assert_eq!(h.len(), 2, "{text}");
    assert_eq!(
        answers(&h[1].1),
        vec![(testkit::ip("2001:db8:1::1"), HopKind::Unreachable(3))],
        "{text}"
    );
    assert!(text.contains(" !H"), "{text}");
    let _ = t.lan2;
}

#[test]
fn tracert6_json_lines() {
    let mut t = topo("tracert6_json_lines");
    let dst = ScopedAddr::new(h2_addr(&t), None);
    let opts = TraceOptions {
        queries: 1,
        ..TraceOptions::default()
    };
    let (_, events, _) = trace(&mut t, dst, &opts);
    let lines: Vec<_> = events.iter().map(tracert::render_json).collect();
    let types: Vec<_> = lines
        .iter()
        .map(|l| l["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(types, ["start", "hop", "hop", "summary"]);
    assert_eq!(lines[1]["probes"][0]["kind"], "time-exceeded");
    assert_eq!(lines[2]["probes"][0]["kind"], "reached");
    assert_eq!(lines[2]["pmtu"], 1280);
    assert_eq!(lines[3]["reached"], true);
}
