//! `sixstack demo`: a small internetwork in one process — a router and three hosts on two
//! Ethernet links, all sixstack nodes in the simulator — and a readable timeline of what
//! the protocols do. Same seed, same output, byte for byte.

use std::io::{self, Write};
use std::net::Ipv6Addr;
use std::path::PathBuf;

use sixstack_apps::dump::{LinkType, dissect};
use sixstack_core::iface::IfaceConfig;
use sixstack_core::mld::querier::QuerierConfig;
use sixstack_core::nd::ra::{AdvPrefix, AdvertConfig};
use sixstack_core::socket::SocketHandle;
use sixstack_core::{Duration, EventKind, IfaceId, Instant, Stack, StackConfig};
use sixstack_sim::{LinkConfig, LinkId, Network, NodeId};
use sixstack_wire::addr::EthernetAddress;
use sixstack_wire::icmpv6;
use sixstack_wire::proto::IpProtocol;

pub struct DemoOptions {
    pub seed: u64,
    pub pcap: Option<PathBuf>,
    /// Show every frame on the wires, not only the events.
    pub packets: bool,
}

/// A line of the timeline.
struct Line {
    time: Instant,
    who: String,
    text: String,
}

struct Demo {
    net: Network<Stack>,
    lan1: LinkId,
    lan2: LinkId,
    r: NodeId,
    h1: NodeId,
    h3: NodeId,
    h2: Option<NodeId>,
    packets: bool,
    /// How far the timeline has been printed, per link (captures) .
    printed: [usize; 2],
}

const ETH0: IfaceId = IfaceId(1);
const ETH1: IfaceId = IfaceId(2);

fn mac(n: u8) -> EthernetAddress {
    // Locally administered addresses (bit 1 of the first octet).
    EthernetAddress([0x02, 0x00, 0x5e, 0x00, 0x53, n])
}

fn addr(s: &str) -> Ipv6Addr {
    s.parse().unwrap_or(Ipv6Addr::UNSPECIFIED)
}

/// A host whose RFC 7217 secret and Net_Iface are those of a given disk image, so that
/// two clones of one image pick the same interface identifiers.
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
        let adv = AdvertConfig {
            max_rtr_adv_interval: Duration::from_secs(60),
            rdnss: vec![addr("2001:db8:1::53")],
            dnssl: vec!["example.test".to_string()],
            prefixes: vec![AdvPrefix::new(addr(prefix), 64)],
            ..AdvertConfig::default()
        };
        c.advertise = Some(adv);
        c.querier = Some(QuerierConfig {
            query_interval: Duration::from_secs(20),
            ..QuerierConfig::default()
        });
        let id = s.add_interface(Instant::ZERO, c);
        let mut a = addr(prefix).octets();
        a[15] = 1;
        let _ = s.add_address(Instant::ZERO, id, Ipv6Addr::from(a), 64);
    }
    s
}

impl Demo {
    fn new(seed: u64, packets: bool) -> Self {
        let mut net = Network::new(seed);
        let lan1 = net.add_link("lan1", LinkConfig::ethernet());
        let lan2 = net.add_link("lan2", LinkConfig::ethernet());
        let r = net.add_node("r", router(seed.wrapping_add(1)));
        let h1 = net.add_node("h1", host(Instant::ZERO, seed.wrapping_add(2), 0x11, 7));
        let h3 = net.add_node("h3", host(Instant::ZERO, seed.wrapping_add(3), 0x31, 9));
        net.attach(lan1, r, ETH0);
        net.attach(lan2, r, ETH1);
        net.attach(lan1, h1, ETH0);
        net.attach(lan2, h3, ETH0);
        Self {
            net,
            lan1,
            lan2,
            r,
            h1,
            h3,
            h2: None,
            packets,
            printed: [0, 0],
        }
    }

    fn nodes(&self) -> Vec<NodeId> {
        let mut v = vec![self.r, self.h1];
        v.extend(self.h2);
        v.push(self.h3);
        v
    }

    /// Runs to `t` and prints what happened meanwhile, in time order.
    fn run_until(&mut self, t: Instant, out: &mut Printer<impl Write>) -> io::Result<()> {
        self.net.run_until(t);
        let mut lines = Vec::new();
        for id in self.nodes() {
            let name = self.net.node_name(id).to_string();
            let node = self.net.node_mut(id);
            let ifnames: Vec<(IfaceId, String)> =
                node.interfaces().map(|i| (i.id, i.name.clone())).collect();
            for e in node.take_events() {
                if !interesting(&e.kind) {
                    continue;
                }
                let ifname = e
                    .iface
                    .and_then(|i| ifnames.iter().find(|(id, _)| *id == i))
                    .map(|(_, n)| n.as_str())
                    .unwrap_or("");
                lines.push(Line {
                    time: e.time,
                    who: format!("{name} {ifname}"),
                    text: e.kind.to_string(),
                });
            }
        }
        if self.packets {
            for (k, link) in [self.lan1, self.lan2].into_iter().enumerate() {
                let cap = self.net.captured(link);
                let name = self.net.link_name(link).to_string();
                for c in &cap[self.printed[k].min(cap.len())..] {
                    let (layers, _) = dissect(LinkType(1), &c.frame);
                    let text: Vec<&str> = layers
                        .iter()
                        .filter(|l| !l.info.is_empty() && l.protocol != "eth")
                        .map(|l| l.info.as_str())
                        .collect();
                    lines.push(Line {
                        time: c.time,
                        who: format!("{name} wire"),
                        text: text.join(" "),
                    });
                }
                self.printed[k] = cap.len();
            }
        }
        lines.sort_by_key(|l| l.time);
        for l in lines {
            out.event(&l)?;
        }
        Ok(())
    }

    fn global_of(&self, id: NodeId) -> Option<Ipv6Addr> {
        self.net
            .node(id)
            .assigned_addrs(ETH0)
            .into_iter()
            .find(|a| !a.is_loopback() && (a.segments()[0] & 0xffc0) != 0xfe80)
    }
}

/// Joining the solicited-node and all-nodes groups comes with every address; the
/// timeline shows only the groups an application asked for.
fn interesting(k: &EventKind) -> bool {
    match k {
        EventKind::InterfaceAdded { .. } | EventKind::LinkUp => false,
        EventKind::MldJoined { group }
        | EventKind::MldLeft { group }
        | EventKind::ListenersPresent { group }
        | EventKind::ListenersGone { group } => group.segments()[0] != 0xff02,
        _ => true,
    }
}

/// Where the timeline goes: text for people, or one JSON object per line (`--json`).
pub struct Printer<W: Write> {
    w: W,
    json: bool,
}

impl<W: Write> Printer<W> {
    pub fn new(w: W, json: bool) -> Self {
        Self { w, json }
    }

    pub fn into_inner(self) -> W {
        self.w
    }

    fn json(&mut self, v: serde_json::Value) -> io::Result<()> {
        writeln!(self.w, "{v}")
    }

    fn heading(&mut self, t: u64, text: &str) -> io::Result<()> {
        if self.json {
            return self.json(serde_json::json!({"type": "section", "t": t, "text": text}));
        }
        writeln!(self.w)?;
        writeln!(self.w, "== t={t}s  {text}")
    }

    fn event(&mut self, l: &Line) -> io::Result<()> {
        if self.json {
            return self.json(serde_json::json!({
                "type": "event", "time": l.time.to_string(), "who": l.who.trim(), "text": l.text,
            }));
        }
        writeln!(
            self.w,
            "  {:>10}  {:<9} {}",
            l.time.to_string(),
            l.who,
            l.text
        )
    }

    /// A result of the scenario ("ping6: 56 bytes from ...").
    fn note(&mut self, text: &str) -> io::Result<()> {
        if self.json {
            return self.json(serde_json::json!({"type": "result", "text": text}));
        }
        writeln!(self.w, "  {text}")
    }

    fn intro(&mut self, text: &str) -> io::Result<()> {
        if self.json {
            return self.json(serde_json::json!({"type": "intro", "text": text}));
        }
        writeln!(self.w, "{text}")
    }
}

fn echo_request(ident: u16, seq: u16, len: usize) -> Vec<u8> {
    let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    let repr = icmpv6::Repr::EchoRequest {
        ident,
        seq_no: seq,
        data: &data,
    };
    let mut buf = vec![0u8; repr.buffer_len()];
    // The raw socket fills the checksum; the addresses here only satisfy the signature.
    let _ = repr.emit(&Ipv6Addr::UNSPECIFIED, &Ipv6Addr::UNSPECIFIED, &mut buf);
    buf
}

/// The first General Query the router sent on lan2 after h3 joined, and h3's answer.
fn mld_answer(d: &Demo, out: &mut Printer<impl Write>) -> io::Result<()> {
    let mld_type = |c: &&sixstack_sim::Captured| c.frame.get(14 + 40 + 8).copied();
    let cap = d.net.captured(d.lan2);
    let query = cap.iter().find(|c| {
        c.time > Instant::from_secs(15)
            && c.from == Some(d.r)
            && mld_type(c) == Some(icmpv6::Message::MLD_QUERY.0)
    });
    let Some(q) = query else {
        return out.note("no General Query from the router");
    };
    let answer = cap.iter().find(|c| {
        c.time > q.time
            && c.from == Some(d.h3)
            && mld_type(c) == Some(icmpv6::Message::MLDV2_REPORT.0)
    });
    match answer {
        Some(a) => out.note(&format!(
            "General Query at {}: h3 answered {:.3} s later (Maximum Response Delay 10 s)",
            q.time,
            (a.time - q.time).as_secs_f64()
        )),
        None => out.note(&format!("General Query at {}: no report from h3", q.time)),
    }
}

fn ping(
    d: &mut Demo,
    out: &mut Printer<impl Write>,
    sock: SocketHandle,
    dst: Ipv6Addr,
    seq: u16,
    len: usize,
    at: u64,
) -> io::Result<()> {
    let now = Instant::from_secs(at);
    d.run_until(now, out)?;
    let msg = echo_request(0x5eed, seq, len);
    let sent = d.net.node_mut(d.h1).raw_send_to(now, sock, dst, None, &msg);
    if let Err(e) = sent {
        out.note(&format!("ping6 {dst}: {e}"))?;
        return Ok(());
    }
    d.run_until(now + Duration::from_secs(1), out)?;
    match d.net.node_mut(d.h1).raw_recv(sock) {
        Ok(p) => {
            let rtt = p.time - now;
            out.note(&format!(
                "ping6: {} bytes from {}: icmp_seq={} hlim={} time={:.3} ms",
                p.upper().len().saturating_sub(8),
                p.src,
                seq,
                p.hop_limit,
                rtt.as_secs_f64() * 1000.0
            ))?;
        }
        Err(_) => out.note(&format!("ping6: no reply from {dst}"))?,
    }
    Ok(())
}

pub fn run(opts: &DemoOptions, out: &mut Printer<impl Write>) -> io::Result<()> {
    let mut d = Demo::new(opts.seed, opts.packets);
    if let Some(dir) = &opts.pcap {
        std::fs::create_dir_all(dir)?;
        d.net.set_pcap_dir(dir)?;
    }
    out.intro(&format!(
        "sixstack demo (seed {}): router r between lan1 (h1, later h2) and lan2 (h3).",
        opts.seed
    ))?;
    out.intro("Every node is a sixstack core in the simulator; time is virtual.")?;

    out.heading(
        0,
        "links up: link-local addresses and DAD, router discovery, SLAAC",
    )?;
    d.run_until(Instant::from_secs(5), out)?;

    out.heading(5,
        "h2 joins lan1: a clone of h1's disk image (same RFC 7217 secret), so its addresses collide",
    )?;
    let h2 = d.net.add_node(
        "h2",
        host(Instant::from_secs(5), opts.seed.wrapping_add(4), 0x12, 7),
    );
    d.net.attach(d.lan1, h2, ETH0);
    d.h2 = Some(h2);
    d.run_until(Instant::from_secs(10), out)?;

    let Some(h3_addr) = d.global_of(d.h3) else {
        out.note("h3 has no global address: SLAAC did not complete")?;
        return Ok(());
    };
    out.heading(
        10,
        &format!("h1 pings h3 ({h3_addr}) across the router: address resolution on both links"),
    )?;
    let sock = match d.net.node_mut(d.h1).raw_open(IpProtocol::ICMPV6) {
        Ok(s) => s,
        Err(e) => {
            out.note(&format!("raw socket: {e}"))?;
            return Ok(());
        }
    };
    let _ = d
        .net
        .node_mut(d.h1)
        .set_icmp_filter(sock, &[icmpv6::Message::ECHO_REPLY.0]);
    ping(&mut d, out, sock, h3_addr, 1, 56, 10)?;

    out.heading(
        12,
        "a 4000-byte ping: h1 fragments it for the 1500-byte link, h3 reassembles",
    )?;
    ping(&mut d, out, sock, h3_addr, 2, 4000, 12)?;

    out.heading(14,
        "h3 joins ff05::db8:1 and reports it; the router, MLD querier (every 20 s here), asks again",
    )?;
    let now = Instant::from_secs(14);
    d.run_until(now, out)?;
    let group = addr("ff05::db8:1");
    if let Ok(s3) = d.net.node_mut(d.h3).udp_open() {
        let _ = d
            .net
            .node_mut(d.h3)
            .bind(s3, Ipv6Addr::UNSPECIFIED, 5353, None);
        let _ = d.net.node_mut(d.h3).join_multicast(now, s3, group, ETH0);
    }
    d.run_until(Instant::from_secs(37), out)?;
    mld_answer(&d, out)?;

    out.heading(
        37,
        "UDP-Lite (RFC 3828): h1 sends with checksum coverage 8 (header only), h3 answers",
    )?;
    let now = Instant::from_secs(37);
    d.run_until(now, out)?;
    let h3n = d.net.node_mut(d.h3);
    let Ok(s3) = h3n.udplite_open() else {
        return Ok(());
    };
    let _ = h3n.bind(s3, Ipv6Addr::UNSPECIFIED, 5001, None);
    let _ = h3n.set_udplite_recv_min_coverage(s3, 8);
    let h1n = d.net.node_mut(d.h1);
    if let Ok(s1) = h1n.udplite_open() {
        let _ = h1n.set_udplite_send_coverage(s1, 8);
        let _ = h1n.send_to(now, s1, h3_addr, 5001, None, b"hello over UDP-Lite");
        d.run_until(now + Duration::from_millis(500), out)?;
        let h3n = d.net.node_mut(d.h3);
        if let Ok(dg) = h3n.recv(s3) {
            out.note(&format!(
                "h3 got {:?} from [{}]:{} (coverage {} bytes)",
                String::from_utf8_lossy(&dg.payload),
                dg.src,
                dg.src_port,
                dg.coverage
            ))?;
            let _ = h3n.send_to(
                now + Duration::from_millis(500),
                s3,
                dg.src,
                dg.src_port,
                None,
                b"and back",
            );
        }
        d.run_until(now + Duration::from_secs(1), out)?;
        if let Ok(dg) = d.net.node_mut(d.h1).recv(s1) {
            out.note(&format!(
                "h1 got {:?} from [{}]:{}",
                String::from_utf8_lossy(&dg.payload),
                dg.src,
                dg.src_port
            ))?;
        }
    }

    out.heading(38, "counters (RFC 4293 names)")?;
    counters(&d, out)?;
    if let Some(dir) = &opts.pcap {
        d.net.flush_pcaps()?;
        out.intro("")?;
        out.intro(&format!(
            "pcaps: {}/lan1.pcap, {}/lan2.pcap (open them in Wireshark)",
            dir.display(),
            dir.display()
        ))?;
    }
    Ok(())
}

fn counters(d: &Demo, out: &mut Printer<impl Write>) -> io::Result<()> {
    let cols = [
        "InReceives",
        "InDelivers",
        "OutRequests",
        "OutTransmits",
        "OutFragCreates",
        "ReasmOKs",
        "IcmpInMsgs",
        "IcmpOutMsgs",
        "drops",
    ];
    let rows: Vec<(String, [u64; 9])> = d
        .nodes()
        .into_iter()
        .map(|id| {
            let s = d.net.node(id).stats();
            let v = [
                s.ip.in_receives,
                s.ip.in_delivers,
                s.ip.out_requests,
                s.ip.out_transmits,
                s.ip.out_frag_creates,
                s.ip.reasm_oks,
                s.icmp.in_msgs,
                s.icmp.out_msgs,
                s.total_drops(),
            ];
            (d.net.node_name(id).to_string(), v)
        })
        .collect();
    if out.json {
        for ((name, v), id) in rows.iter().zip(d.nodes()) {
            let mut obj = serde_json::Map::new();
            obj.insert("type".into(), "counters".into());
            obj.insert("node".into(), name.as_str().into());
            for (c, x) in cols.iter().zip(v) {
                obj.insert((*c).into(), (*x).into());
            }
            let drops: serde_json::Map<String, serde_json::Value> = d
                .net
                .node(id)
                .stats()
                .drops
                .iter()
                .map(|(r, n)| ((*r).to_string(), (*n).into()))
                .collect();
            obj.insert("drops_by_reason".into(), drops.into());
            out.json(obj.into())?;
        }
        return Ok(());
    }
    let mut header = format!("{:<4}", "node");
    for c in cols {
        header.push_str(&format!(" {c:>14}"));
    }
    out.note(&header)?;
    for (name, v) in &rows {
        let mut line = format!("{name:<4}");
        for x in v {
            line.push_str(&format!(" {x:>14}"));
        }
        out.note(&line)?;
    }
    out.intro("")?;
    out.note("drops by reason:")?;
    for id in d.nodes() {
        for (reason, n) in &d.net.node(id).stats().drops {
            out.note(&format!("  {:<4} {n:>5}  {reason}", d.net.node_name(id)))?;
        }
    }
    Ok(())
}
