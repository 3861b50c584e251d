//! Parse-and-verify speed of sixstack-wire against etherparse and smoltcp::wire on the
//! same frames, in the same run (issue #2). A measurement, not a test: it prints numbers
//! and asserts nothing.
//!
//! Each implementation takes one Ethernet frame to its IPv6 upper layer (through VLAN
//! tags and extension headers where it knows them) and verifies the UDP, UDP-Lite, TCP or
//! ICMPv6 checksum over the IPv6 pseudo-header. The outcome counts are printed so the
//! three are seen to do comparable work.
//!
//!   SIXSTACK_BENCH_PCAP   the capture (default test-output/corpus/eth.pcap)
//!   SIXSTACK_BENCH_SECS   seconds per implementation, over 5 runs (default 1.5)
//!
//! `scripts/bench` builds the corpus and runs this with the dump comparisons.

// Benches measure wall time: Instant::now is what they are for (the ban is for the stack).
#![allow(clippy::disallowed_methods)]

use std::fs::File;
use std::hint::black_box;
use std::io::BufReader;
use std::time::{Duration, Instant};

use sixstack_wire::checksum::internet_checksum;
use sixstack_wire::ethernet::{self, Tags};
use sixstack_wire::ipv6chain::Chain;
use sixstack_wire::udp::{self, PseudoHeader, Verdict};
use sixstack_wire::{EtherType, IpProtocol, icmpv6, ipv6, ipv6fragment, pcap, tcp};

/// What parsing one frame came to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Outcome {
    /// The frame parsed as IPv6.
    ipv6: bool,
    /// The upper-layer protocol reached (not for fragments: their checksum covers the
    /// reassembled datagram).
    upper: Option<u8>,
    /// Whether its checksum verified, for UDP, UDP-Lite, TCP and ICMPv6.
    checksum_ok: Option<bool>,
}

impl Outcome {
    const NONE: Self = Self {
        ipv6: false,
        upper: None,
        checksum_ok: None,
    };

    fn ipv6() -> Self {
        Self {
            ipv6: true,
            ..Self::NONE
        }
    }

    fn upper(p: u8, ok: Option<bool>) -> Self {
        Self {
            ipv6: true,
            upper: Some(p),
            checksum_ok: ok,
        }
    }

    /// A number to fold into the sink, so no work is optimised away.
    fn code(self) -> u64 {
        u64::from(self.ipv6)
            + (u64::from(self.upper.unwrap_or(0xff)) << 1)
            + (u64::from(self.checksum_ok.map_or(2u8, u8::from)) << 9)
    }
}

// Upper-layer protocol numbers, for the outcomes of etherparse.
const UDP: u8 = 0x11;
const TCP: u8 = 0x06;
const ICMPV6: u8 = 0x3a;

// --- sixstack-wire ------------------------------------------------------------------

fn ours(frame: &[u8]) -> Outcome {
    let Ok(eth) = ethernet::Packet::new_checked(frame) else {
        return Outcome::NONE;
    };
    let Ok((ethertype, l3)) = Tags::new(eth.ethertype(), eth.into_payload()).untag() else {
        return Outcome::NONE;
    };
    if ethertype != EtherType::IPV6 {
        return Outcome::NONE;
    }
    let Ok(ip) = ipv6::Packet::new_checked(l3) else {
        return Outcome::NONE;
    };
    let payload = ip.into_payload();
    let chain = Chain::walk(ip.next_header(), payload);
    if let Some(f) = chain.fragment {
        let frag = ipv6fragment::Packet::new_unchecked(&payload[f.offset..f.offset + f.len]);
        if frag.frag_offset() != 0 || frag.more_frags() {
            return Outcome::ipv6();
        }
    }
    let Some((proto, off)) = chain.upper_layer() else {
        return Outcome::ipv6();
    };
    let upper = &payload[off..];
    let (src, dst) = (ip.src_addr(), ip.dst_addr());
    let ph = PseudoHeader::V6 { src, dst };
    let ok = match proto {
        IpProtocol::UDP => udp::Packet::new_checked(upper)
            .ok()
            .map(|u| u.checksum_verdict(&ph) == Verdict::Good),
        IpProtocol::UDPLITE => udp::lite::Packet::new_checked(upper)
            .ok()
            .map(|u| u.checksum_verdict(&ph, None) == Verdict::Good),
        IpProtocol::TCP => tcp::Packet::new_checked(upper)
            .ok()
            .map(|t| t.verify_checksum(&ph)),
        IpProtocol::ICMPV6 => icmpv6::Packet::new_checked(upper)
            .ok()
            .map(|i| i.verify_checksum(&src, &dst)),
        _ => None,
    };
    Outcome::upper(proto.0, ok)
}

// --- etherparse -----------------------------------------------------------------------

fn etherparse(frame: &[u8]) -> Outcome {
    use etherparse::{NetSlice, SlicedPacket, TransportSlice};
    let Ok(p) = SlicedPacket::from_ethernet(frame) else {
        return Outcome::NONE;
    };
    let Some(NetSlice::Ipv6(ip)) = &p.net else {
        return Outcome::NONE;
    };
    let (src, dst) = (ip.header().source(), ip.header().destination());
    // A fragment's transport is None: etherparse does not slice fragment data.
    let Some(t) = &p.transport else {
        let pl = ip.payload();
        return if pl.fragmented {
            Outcome::ipv6()
        } else {
            Outcome::upper(pl.ip_number.0, None)
        };
    };
    match t {
        TransportSlice::Udp(u) => {
            let ok = u.checksum() != 0
                && u.to_header()
                    .calc_checksum_ipv6_raw(src, dst, u.payload())
                    .is_ok_and(|c| c == u.checksum());
            Outcome::upper(UDP, Some(ok))
        }
        TransportSlice::Tcp(tc) => {
            let ok = tc
                .calc_checksum_ipv6(src, dst)
                .is_ok_and(|c| c == tc.checksum());
            Outcome::upper(TCP, Some(ok))
        }
        TransportSlice::Icmpv6(i) => Outcome::upper(ICMPV6, Some(i.is_checksum_valid(src, dst))),
        TransportSlice::Icmpv4(_) | TransportSlice::Igmp(_) => Outcome::ipv6(),
    }
}

// --- smoltcp::wire --------------------------------------------------------------------

fn smoltcp(frame: &[u8]) -> Outcome {
    use smoltcp::wire::{
        EthernetFrame, EthernetProtocol, Icmpv6Packet, IpAddress, IpProtocol as P, Ipv6ExtHeader,
        Ipv6FragmentHeader, Ipv6Packet, TcpPacket, UdpPacket,
    };
    let Ok(eth) = EthernetFrame::new_checked(frame) else {
        return Outcome::NONE;
    };
    // smoltcp has no VLAN tags: a tagged frame ends here.
    if eth.ethertype() != EthernetProtocol::Ipv6 {
        return Outcome::NONE;
    }
    let Ok(ip) = Ipv6Packet::new_checked(eth.payload()) else {
        return Outcome::NONE;
    };
    let (src, dst) = (ip.src_addr(), ip.dst_addr());
    let mut next = ip.next_header();
    let mut rest = ip.payload();
    // The same bound as ours on the number of extension headers.
    for _ in 0..16 {
        match next {
            P::HopByHop | P::Ipv6Route | P::Ipv6Opts | P::Ipv6Frag => {}
            _ => break,
        }
        let Ok(h) = Ipv6ExtHeader::new_checked(rest) else {
            return Outcome::ipv6();
        };
        if next == P::Ipv6Frag {
            let Ok(f) = Ipv6FragmentHeader::new_checked(h.payload()) else {
                return Outcome::ipv6();
            };
            if f.frag_offset() != 0 || f.more_frags() {
                return Outcome::ipv6();
            }
        }
        next = h.next_header();
        let len = 8 * (usize::from(h.header_len()) + 1);
        rest = &rest[len..];
    }
    let (s, d) = (IpAddress::Ipv6(src), IpAddress::Ipv6(dst));
    let ok = match next {
        // smoltcp's UDP check passes a zero checksum, which IPv6 forbids (RFC 8200 §8.1).
        P::Udp => UdpPacket::new_checked(rest)
            .ok()
            .map(|u| u.checksum() != 0 && u.verify_checksum(&s, &d)),
        P::Tcp => TcpPacket::new_checked(rest)
            .ok()
            .map(|t| t.verify_checksum(&s, &d)),
        P::Icmpv6 => Icmpv6Packet::new_checked(rest)
            .ok()
            .map(|i| i.verify_checksum(&src, &dst)),
        _ => None,
    };
    Outcome::upper(u8::from(next), ok)
}

// --- harness --------------------------------------------------------------------------

#[derive(Debug, Default)]
struct Tally {
    ipv6: usize,
    upper: usize,
    verified: usize,
    good: usize,
}

fn tally(frames: &[Vec<u8>], f: fn(&[u8]) -> Outcome) -> Tally {
    let mut t = Tally::default();
    for fr in frames {
        let o = f(fr);
        t.ipv6 += usize::from(o.ipv6);
        t.upper += usize::from(o.upper.is_some());
        t.verified += usize::from(o.checksum_ok.is_some());
        t.good += usize::from(o.checksum_ok == Some(true));
    }
    t
}

fn pass(frames: &[Vec<u8>], f: fn(&[u8]) -> Outcome, passes: usize) -> (Duration, u64) {
    let mut sink = 0u64;
    let t0 = Instant::now();
    for _ in 0..passes {
        for fr in frames {
            sink = sink.wrapping_add(black_box(f(black_box(fr))).code());
        }
    }
    (t0.elapsed(), sink)
}

fn load(path: &str) -> Vec<Vec<u8>> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("cannot open {path}: {e}");
            eprintln!("run scripts/bench, which builds the corpus, or set SIXSTACK_BENCH_PCAP");
            std::process::exit(1);
        }
    };
    let mut r = match pcap::Reader::new(BufReader::new(file)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    };
    let mut frames = Vec::new();
    loop {
        match r.next() {
            Ok(Some(rec)) if rec.linktype == 1 => frames.push(rec.data.to_vec()),
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(e) => {
                eprintln!("{path}: {e}");
                std::process::exit(1);
            }
        }
    }
    frames
}

fn main() {
    let path = std::env::var("SIXSTACK_BENCH_PCAP").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../test-output/corpus/eth.pcap"
        )
        .to_string()
    });
    let secs: f64 = std::env::var("SIXSTACK_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.5);
    let frames = load(&path);
    if frames.is_empty() {
        eprintln!("{path}: no Ethernet frames");
        std::process::exit(1);
    }
    let bytes: usize = frames.iter().map(Vec::len).sum();
    println!(
        "parse and verify: {} Ethernet frames ({} bytes) from {path}",
        frames.len(),
        bytes
    );

    let impls: [Impl; 3] = [
        ("sixstack-wire", ours),
        ("etherparse 0.21", etherparse),
        ("smoltcp 0.14", smoltcp),
    ];
    println!(
        "\n{:<16} {:>8} {:>8} {:>9} {:>8}",
        "outcomes", "IPv6", "upper", "verified", "good"
    );
    for (name, f) in impls {
        let t = tally(&frames, f);
        println!(
            "{name:<16} {:>8} {:>8} {:>9} {:>8}",
            t.ipv6, t.upper, t.verified, t.good
        );
    }

    speed("all frames", &frames, &impls, secs);
    // The frames on which all three come to the same outcome with a checksum verified:
    // the same work done by each, without the formats one of them does not know.
    let common: Vec<Vec<u8>> = frames
        .iter()
        .filter(|f| {
            let o = ours(f);
            o.checksum_ok.is_some() && o == etherparse(f) && o == smoltcp(f)
        })
        .cloned()
        .collect();
    speed(
        &format!("{} frames all three verify alike", common.len()),
        &common,
        &impls,
        secs,
    );

    checksums(secs);
}

type Impl = (&'static str, fn(&[u8]) -> Outcome);

/// Times the implementations over `frames` and prints frames/s and the ratios.
fn speed(what: &str, frames: &[Vec<u8>], impls: &[Impl; 3], secs: f64) {
    // Runs of about secs/5 each; the runs of the three alternate so that load from other
    // processes falls on all of them alike. The best run counts.
    const RUNS: usize = 5;
    let per_run = secs / RUNS as f64;
    let passes: Vec<usize> = impls
        .iter()
        .map(|&(_, f)| {
            let (d, _) = pass(frames, f, 1);
            ((per_run / d.as_secs_f64().max(1e-9)) as usize).max(1)
        })
        .collect();
    let mut best = [f64::INFINITY; 3];
    let mut sink = 0u64;
    for _ in 0..RUNS {
        for (i, &(_, f)) in impls.iter().enumerate() {
            let (d, s) = pass(frames, f, passes[i]);
            sink = sink.wrapping_add(s);
            best[i] = best[i].min(d.as_secs_f64() / (passes[i] * frames.len()) as f64);
        }
    }
    black_box(sink);
    println!("\n{what}:");
    println!("{:<16} {:>14} {:>10}", "speed", "frames/s", "ns/frame");
    for (i, (name, _)) in impls.iter().enumerate() {
        println!("{name:<16} {:>14.0} {:>10.1}", 1.0 / best[i], best[i] * 1e9);
    }
    println!(
        "ratio sixstack/etherparse {:.2}, sixstack/smoltcp {:.2} (frames/s; above 1 is faster)",
        best[1] / best[0],
        best[2] / best[0]
    );
}

/// The Internet checksum alone over 1500 bytes.
fn checksums(secs: f64) {
    let data: Vec<u8> = (0..1500u32).map(|i| (i * 7 + 3) as u8).collect();
    type Sum = (&'static str, fn(&[u8]) -> u16);
    let sums: [Sum; 3] = [
        ("sixstack-wire", internet_checksum),
        ("etherparse 0.21", |d| {
            etherparse::checksum::Sum16BitWords::new()
                .add_slice(d)
                .ones_complement()
        }),
        ("smoltcp 0.14", |d| !smoltcp::wire::checksum::data(d)),
    ];
    let per_run = secs / 10.0;
    let mut best = [f64::INFINITY; 3];
    let mut sink = 0u64;
    for _ in 0..5 {
        for (i, &(_, f)) in sums.iter().enumerate() {
            let mut n = 0usize;
            let t0 = Instant::now();
            while t0.elapsed().as_secs_f64() < per_run {
                for _ in 0..1000 {
                    sink = sink.wrapping_add(u64::from(f(black_box(&data))));
                }
                n += 1000;
            }
            best[i] = best[i].min(t0.elapsed().as_secs_f64() / n as f64);
        }
    }
    black_box(sink);
    println!(
        "\n{:<16} {:>10} {:>8}   (Internet checksum of 1500 bytes)",
        "checksum", "ns", "GB/s"
    );
    for (i, (name, _)) in sums.iter().enumerate() {
        println!(
            "{name:<16} {:>10.1} {:>8.2}",
            best[i] * 1e9,
            1500.0 / best[i] / 1e9
        );
    }
}
