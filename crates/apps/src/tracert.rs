//! tracert6: the routers on the way to a destination, hop by hop, and the path MTU at
//! each hop as tracepath shows it.
//!
//! Probes go one at a time with hop limits 1, 2, 3 ... (RFC 8200 §3: each router
//! decrements the Hop Limit and answers zero with Time Exceeded, RFC 4443 §3.3). A probe
//! is an ICMPv6 Echo Request (the default; the destination answers with an Echo Reply) or
//! a UDP datagram to an unlikely port (the destination answers Port Unreachable, RFC 4443
//! §3.1 code 4). Probes are as large as the path MTU known at the time and never
//! fragmented, so a router before a narrower link answers Packet Too Big (RFC 4443 §3.2,
//! RFC 8201): the probe is sent again smaller and the hop says `pmtu N`.
//!
//! [`run`] reports a [`TraceEvent`] per hop; [`render_text`] and [`render_json`] print
//! them. Nothing here reads a clock or a terminal, so the simulator runs it.

use std::net::Ipv6Addr;
use std::time::Duration;

use serde_json::json;
use sixstack_wire::addr::ScopedAddr;

use crate::probe::{
    Answer, ErrorKind, ICMP_ECHO_HEADER, IPV6_HEADER, MIN_MTU, PmtuMode, ProbeError, ProbeNet,
    QuotedProbe, SendOptions, UDP_HEADER, echo_request, format_ms, json_ms, parse_answer,
};

/// How a probe is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// ICMPv6 Echo Request (`-I`, the default, as Windows tracert).
    #[default]
    Icmp,
    /// UDP to port `base_port + probe number` (`-U`, as Linux traceroute).
    Udp,
}

/// What `tracert6` was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceOptions {
    pub method: Method,
    /// [-f] The first hop limit.
    pub first_hop: u8,
    /// [-m] The last hop limit.
    pub max_hops: u8,
    /// [-q] Probes per hop.
    pub queries: u8,
    /// [-w] How long to wait for the answer to one probe.
    pub wait: Duration,
    /// [-p] UDP: the destination port of the first probe (33434, as traceroute).
    pub base_port: u16,
    /// The whole packet size (IPv6 header included); None: the path MTU, as tracepath.
    pub packet_len: Option<usize>,
    /// [-s -t -Q] Source, traffic class; the hop limit is the probe's.
    pub send: SendOptions,
    /// The echo identifier of ICMP probes.
    pub ident: u16,
}

impl Default for TraceOptions {
    fn default() -> Self {
        Self {
            method: Method::Icmp,
            first_hop: 1,
            max_hops: 30,
            queries: 3,
            wait: Duration::from_secs(3),
            base_port: 33434,
            packet_len: None,
            send: SendOptions::default(),
            ident: 0x7ace,
        }
    }
}

/// What came back for one probe.
#[derive(Debug, Clone, PartialEq)]
pub enum ProbeResult {
    /// Nothing within the wait.
    Timeout,
    Answer {
        from: ScopedAddr,
        rtt: Duration,
        kind: HopKind,
        /// The hop limit of the answer when it arrived.
        hop_limit: u8,
    },
    /// The probe could not be sent.
    NotSent(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HopKind {
    /// A router on the way (Time Exceeded).
    Router,
    /// The destination answered (Echo Reply, or Port Unreachable to a UDP probe).
    Reached,
    /// Destination Unreachable with this code from a router: the trace ends here.
    Unreachable(u8),
    /// Parameter Problem: the trace ends here too.
    ParamProblem(u8),
}

impl HopKind {
    /// traceroute's mark after the time: `!N` no route, `!X` prohibited, `!S` beyond
    /// scope, `!H` address unreachable, `!P` port unreachable from a router, `!<code>`.
    pub fn mark(&self) -> Option<String> {
        match self {
            HopKind::Router | HopKind::Reached => None,
            HopKind::Unreachable(c) => Some(
                match c {
                    0 => "!N",
                    1 => "!X",
                    2 => "!S",
                    3 => "!H",
                    4 => "!P",
                    5 => "!F",
                    6 => "!R",
                    _ => return Some(format!("!<{c}>")),
                }
                .to_string(),
            ),
            HopKind::ParamProblem(c) => Some(format!("!PP{c}")),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            HopKind::Router => "time-exceeded",
            HopKind::Reached => "reached",
            HopKind::Unreachable(_) => "unreachable",
            HopKind::ParamProblem(_) => "parameter-problem",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum TraceEvent {
    Start {
        name: String,
        dst: ScopedAddr,
        max_hops: u8,
        /// The size of the first probe, IPv6 header included.
        packet_len: usize,
        method: Method,
    },
    Hop {
        hop: u8,
        probes: Vec<ProbeResult>,
        /// A Packet Too Big during this hop lowered the path MTU to this.
        pmtu: Option<u32>,
    },
    End(TraceSummary),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceSummary {
    pub reached: bool,
    /// The last hop probed.
    pub hops: u8,
    /// The path MTU at the end (the size of the last probes).
    pub pmtu: u32,
    /// How many hops the destination's answers took back, guessed from their hop limit
    /// (the distance to the next of 64, 128, 255), as tracepath's `back`.
    pub back: Option<u8>,
}

impl TraceSummary {
    /// 0 when the destination answered, 1 when it did not.
    pub fn exit_code(&self) -> u8 {
        if self.reached { 0 } else { 1 }
    }
}

/// Traces the way to `dst`. Errors: nothing to send with (no route at all), impossible
/// options, or the stack went away.
pub fn run<N: ProbeNet + ?Sized>(
    net: &mut N,
    name: &str,
    dst: &ScopedAddr,
    opts: &TraceOptions,
    stop: &dyn Fn() -> bool,
    on_event: &mut dyn FnMut(&TraceEvent),
) -> Result<TraceSummary, ProbeError> {
    if opts.first_hop == 0 || opts.first_hop > opts.max_hops {
        return Err(ProbeError::Fatal(format!(
            "first hop {} must be between 1 and the maximum hops {}",
            opts.first_hop, opts.max_hops
        )));
    }
    if opts.queries == 0 || opts.queries > 10 {
        return Err(ProbeError::Fatal(
            "probes per hop must be 1 to 10".to_string(),
        ));
    }
    let header = IPV6_HEADER
        + match opts.method {
            Method::Icmp => ICMP_ECHO_HEADER,
            Method::Udp => UDP_HEADER,
        };
    let mut pmtu = net.path_mtu(dst).ok_or_else(|| {
        ProbeError::Fatal(format!("no route to {dst}: check `sixstack route show`"))
    })?;
    if let Some(len) = opts.packet_len
        && !(header..=65535 + IPV6_HEADER).contains(&len)
    {
        return Err(ProbeError::Fatal(format!(
            "packet length {len} out of range: {header} to 65575"
        )));
    }
    let size = |pmtu: u32| opts.packet_len.unwrap_or(pmtu.max(MIN_MTU) as usize);
    on_event(&TraceEvent::Start {
        name: name.to_string(),
        dst: *dst,
        max_hops: opts.max_hops,
        packet_len: size(pmtu),
        method: opts.method,
    });
    let mut probe_no: u16 = 0;
    let mut summary = TraceSummary {
        reached: false,
        hops: 0,
        pmtu,
        back: None,
    };
    'hops: for hop in opts.first_hop..=opts.max_hops {
        let mut probes = Vec::new();
        let mut learnt = None;
        let mut retries = 0;
        while probes.len() < usize::from(opts.queries) {
            if stop() {
                break 'hops;
            }
            probe_no = probe_no.wrapping_add(1);
            let len = size(pmtu);
            let send = SendOptions {
                hop_limit: Some(hop),
                // A fixed size may be fragmented by the stack; the path MTU size may not.
                pmtu: if opts.packet_len.is_some() {
                    opts.send.pmtu
                } else {
                    PmtuMode::Do
                },
                ..opts.send
            };
            let sent_at = net.now();
            let (port, src_port) = match opts.method {
                Method::Icmp => {
                    let msg = echo_request(opts.ident, probe_no, &payload(len - header));
                    (0, net.send_icmp(dst, &send, &msg).map(|()| 0))
                }
                Method::Udp => {
                    let port = opts.base_port.wrapping_add(probe_no);
                    (port, net.send_udp(dst, port, &send, &payload(len - header)))
                }
            };
            let src_port = match src_port {
                Ok(p) => p,
                Err(ProbeError::TooBig { mtu }) if mtu < pmtu && retries < 8 => {
                    // The stack learnt a smaller path MTU than we knew: probe smaller.
                    retries += 1;
                    pmtu = mtu;
                    learnt = Some(mtu);
                    continue;
                }
                Err(e @ ProbeError::Fatal(_)) => return Err(e),
                Err(e) => {
                    probes.push(ProbeResult::NotSent(e.to_string()));
                    continue;
                }
            };
            let want = Probe {
                dst: dst.addr,
                method: opts.method,
                ident: opts.ident,
                seq: probe_no,
                port,
                src_port,
            };
            let deadline = sent_at + opts.wait;
            let result = loop {
                if stop() {
                    break 'hops;
                }
                let slice = deadline.min(net.now() + Duration::from_millis(100));
                let Some(r) = net.recv(slice)? else {
                    if net.now() >= deadline {
                        break None;
                    }
                    continue;
                };
                let Some(kind) = want.matches(&r.message) else {
                    continue;
                };
                let rtt = r.time.saturating_sub(sent_at);
                match kind {
                    Matched::TooBig(mtu) => break Some(Err(mtu)),
                    Matched::Kind(kind) => {
                        break Some(Ok(ProbeResult::Answer {
                            from: r.from_scoped(),
                            rtt,
                            kind,
                            hop_limit: r.hop_limit,
                        }));
                    }
                }
            };
            match result {
                None => probes.push(ProbeResult::Timeout),
                Some(Ok(a)) => probes.push(a),
                Some(Err(mtu)) => {
                    // RFC 8201 §4: never below the IPv6 minimum; and only ever smaller.
                    let mtu = mtu.max(MIN_MTU);
                    if mtu < pmtu {
                        pmtu = mtu;
                        learnt = Some(mtu);
                    }
                    // Sent again: smaller, or (a fixed size) fragmented by the stack now.
                    if retries < 8 {
                        retries += 1;
                    } else {
                        probes.push(ProbeResult::Timeout);
                    }
                }
            }
        }
        summary.hops = hop;
        summary.pmtu = pmtu;
        let mut end = false;
        for p in &probes {
            if let ProbeResult::Answer {
                kind, hop_limit, ..
            } = p
            {
                match kind {
                    HopKind::Reached => {
                        summary.reached = true;
                        summary.back = Some(back_hops(*hop_limit));
                        end = true;
                    }
                    HopKind::Unreachable(_) | HopKind::ParamProblem(_) => end = true,
                    HopKind::Router => {}
                }
            }
        }
        on_event(&TraceEvent::Hop {
            hop,
            probes,
            pmtu: learnt,
        });
        if end {
            break;
        }
    }
    on_event(&TraceEvent::End(summary.clone()));
    Ok(summary)
}

/// The data of a probe: a recognisable pattern.
fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| 0x40 + (i % 0x20) as u8).collect()
}

/// tracepath's guess of the hops back: from the next usual initial hop limit.
fn back_hops(hop_limit: u8) -> u8 {
    let initial: u16 = match hop_limit {
        0..=64 => 64,
        65..=128 => 128,
        _ => 255,
    };
    (initial - u16::from(hop_limit) + 1) as u8
}

/// The probe whose answer is awaited.
struct Probe {
    dst: Ipv6Addr,
    method: Method,
    ident: u16,
    seq: u16,
    port: u16,
    src_port: u16,
}

enum Matched {
    Kind(HopKind),
    TooBig(u32),
}

impl Probe {
    fn matches(&self, message: &[u8]) -> Option<Matched> {
        match parse_answer(message)? {
            Answer::EchoReply { ident, seq, .. } => {
                (self.method == Method::Icmp && ident == self.ident && seq == self.seq)
                    .then_some(Matched::Kind(HopKind::Reached))
            }
            Answer::Error { kind, quote } => {
                if quote.dst != self.dst {
                    return None;
                }
                let ours = match quote.probe {
                    QuotedProbe::Echo { ident, seq } => {
                        self.method == Method::Icmp && ident == self.ident && seq == self.seq
                    }
                    QuotedProbe::Udp { src_port, dst_port } => {
                        self.method == Method::Udp
                            && dst_port == self.port
                            && (self.src_port == 0 || src_port == self.src_port)
                    }
                };
                if !ours {
                    return None;
                }
                Some(match kind {
                    ErrorKind::TimeExceeded(_) => Matched::Kind(HopKind::Router),
                    ErrorKind::PacketTooBig(mtu) => Matched::TooBig(mtu),
                    ErrorKind::DstUnreachable(4) if self.method == Method::Udp => {
                        Matched::Kind(HopKind::Reached)
                    }
                    ErrorKind::DstUnreachable(c) => Matched::Kind(HopKind::Unreachable(c)),
                    ErrorKind::ParamProblem { code, .. } => {
                        Matched::Kind(HopKind::ParamProblem(code))
                    }
                })
            }
        }
    }
}

/// traceroute's lines: a header, then one line per hop (`*` for a probe without answer,
/// the address again only when it changes, a mark such as `!H` after a time, `pmtu N`
/// when a Packet Too Big lowered it), then tracepath's `Resume` line.
pub fn render_text(ev: &TraceEvent) -> String {
    match ev {
        TraceEvent::Start {
            name,
            dst,
            max_hops,
            packet_len,
            method,
        } => format!(
            "tracert6 to {name} ({dst}), {max_hops} hops max, {packet_len} byte packets, {} probes\n",
            match method {
                Method::Icmp => "ICMPv6",
                Method::Udp => "UDP",
            }
        ),
        TraceEvent::Hop { hop, probes, pmtu } => {
            let mut t = format!("{hop:2} ");
            let mut last: Option<ScopedAddr> = None;
            for p in probes {
                match p {
                    ProbeResult::Timeout => t += " *",
                    ProbeResult::NotSent(why) => t += &format!(" !({why})"),
                    ProbeResult::Answer {
                        from, rtt, kind, ..
                    } => {
                        if last != Some(*from) {
                            t += &format!(" {from}");
                            last = Some(*from);
                        }
                        t += &format!("  {} ms", format_ms(*rtt));
                        if let Some(m) = kind.mark() {
                            t += &format!(" {m}");
                        }
                    }
                }
            }
            if let Some(m) = pmtu {
                t += &format!("  pmtu {m}");
            }
            t + "\n"
        }
        TraceEvent::End(s) => {
            let mut t = format!("     Resume: pmtu {} ", s.pmtu);
            match (s.reached, s.back) {
                (true, Some(b)) => t += &format!("hops {} back {b}\n", s.hops),
                (true, None) => t += &format!("hops {}\n", s.hops),
                (false, _) => t += "\n",
            }
            t
        }
    }
}

pub fn render_json(ev: &TraceEvent) -> serde_json::Value {
    match ev {
        TraceEvent::Start {
            name,
            dst,
            max_hops,
            packet_len,
            method,
        } => json!({
            "type": "start", "name": name, "dst": dst.to_string(), "max_hops": max_hops,
            "packet_len": packet_len,
            "method": match method { Method::Icmp => "icmp", Method::Udp => "udp" },
        }),
        TraceEvent::Hop { hop, probes, pmtu } => {
            let probes: Vec<_> = probes
                .iter()
                .map(|p| match p {
                    ProbeResult::Timeout => json!({"timeout": true}),
                    ProbeResult::NotSent(why) => json!({"error": why}),
                    ProbeResult::Answer {
                        from,
                        rtt,
                        kind,
                        hop_limit,
                    } => json!({
                        "from": from.to_string(), "time_ms": json_ms(*rtt),
                        "kind": kind.name(), "mark": kind.mark(), "hop_limit": hop_limit,
                    }),
                })
                .collect();
            json!({"type": "hop", "hop": hop, "probes": probes, "pmtu": pmtu})
        }
        TraceEvent::End(s) => json!({
            "type": "summary", "reached": s.reached, "hops": s.hops, "pmtu": s.pmtu,
            "back": s.back,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_from_hop_limit() {
        assert_eq!(back_hops(64), 1);
        assert_eq!(back_hops(62), 3);
        assert_eq!(back_hops(255), 1);
        assert_eq!(back_hops(127), 2);
    }

    #[test]
    fn hop_line_names_an_address_once_and_marks_timeouts() {
        let a: ScopedAddr = "2001:db8:1::1".parse().unwrap();
        let ans = |us| ProbeResult::Answer {
            from: a,
            rtt: Duration::from_micros(us),
            kind: HopKind::Router,
            hop_limit: 64,
        };
        let ev = TraceEvent::Hop {
            hop: 1,
            probes: vec![ans(412), ProbeResult::Timeout, ans(380)],
            pmtu: Some(1280),
        };
        assert_eq!(
            render_text(&ev),
            " 1  2001:db8:1::1  0.412 ms *  0.380 ms  pmtu 1280\n"
        );
    }
}
