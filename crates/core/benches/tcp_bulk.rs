//! Bulk TCP in memory (issue #5): one connection between two sixstack `Stack`s against one
//! between two smoltcp 0.14 `Interface`s, in the same run, in the same harness
//! (`common/link.rs`: Ethernet, MTU 1500, every frame handed over at once, nothing lost,
//! a virtual clock). The sender keeps its send buffer full, the receiver reads everything
//! as it arrives and checks it; the figure is payload bytes moved per wall-clock second.
//! A measurement, not a test: it prints numbers and asserts only that the data arrived.
//!
//! The setups, as alike as the two stacks allow:
//!
//! * send and receive buffers of 256 KiB on both sides (sixstack's `TcpConfig` default;
//!   smoltcp's `SocketBuffer`s of that size);
//! * window scaling on both (smoltcp offers it from its buffer size); timestamps on both
//!   (smoltcp with a tsval generator); SACK offered by sixstack only (smoltcp 0.14 does not
//!   send SACK blocks; with no loss none are needed);
//! * NewReno (sixstack) and Reno (smoltcp's `socket-tcp-reno`); delayed ACKs as each
//!   stack does them (sixstack: every second full segment or 200 ms; smoltcp: 10 ms);
//! * one loop per side: `send` until the buffer is full, move frames both ways until none
//!   is left, `recv` everything into a 64 KiB buffer, move frames again, advance the
//!   virtual clock by 10 µs (or to the next timer when nothing moved) and poll.
//!
//! Each side verifies and computes every checksum; neither allocates per frame: smoltcp
//! writes into recycled device buffers, and sixstack's frames (a `Vec` each from
//! `transmit`) go back to it with `Stack::recycle` once delivered.
//!
//!   SIXSTACK_BENCH_TCP_MB     megabytes per run (default 200); best of 5 runs each
//!   SIXSTACK_BENCH_TCP_ONLY   `sixstack` or `smoltcp`: run that side alone (for perf)
//!
//! `scripts/bench tcp` runs it.

// Benches measure wall time: Instant::now is what they are for (the ban is for the stack).
#![allow(clippy::disallowed_methods)]

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant as WallClock;

use common::link::{SixPair, SmolPair, addr_b};
use sixstack_core::{Duration, Error, StackConfig};
use smoltcp::iface::SocketHandle as SmolHandle;
use smoltcp::socket::tcp;
use smoltcp::wire::IpAddress;

const PORT: u16 = 5001;
const BUFFER: usize = 256 * 1024;
/// The data's period: a prime, so that any offset checks against one pattern buffer.
const PERIOD: usize = 251;
const CHUNK: usize = 64 * 1024;

fn pattern() -> Vec<u8> {
    (0..PERIOD + CHUNK).map(|i| (i % PERIOD) as u8).collect()
}

struct Run {
    secs: f64,
    bytes: u64,
    frames: usize,
    virtual_ms: u64,
}

// ----- sixstack ----------------------------------------------------------------------

fn run_sixstack(total: u64) -> Run {
    let mut p = SixPair::new(StackConfig::default());
    let data = pattern();
    let l = p.b.tcp_listen(p.now, addr_b(), PORT, None).unwrap();
    let c = p.a.tcp_connect(p.now, addr_b(), PORT, None).unwrap();
    let mut s = None;
    while s.is_none() {
        p.pump();
        s = p.b.tcp_accept(p.now, l).ok();
        if s.is_none() {
            p.tick(Duration::from_micros(10), true);
        }
    }
    let s = s.unwrap();
    p.pump();
    let start = p.now;
    let mut buf = vec![0u8; CHUNK];
    let (mut sent, mut got, mut frames) = (0u64, 0u64, 0usize);
    let t0 = WallClock::now();
    while got < total {
        let mut progress = 0;
        while sent < total {
            let off = (sent % PERIOD as u64) as usize;
            let want = (total - sent).min(CHUNK as u64) as usize;
            let n = p.a.tcp_send(p.now, c, &data[off..off + want]).unwrap();
            if n == 0 {
                break;
            }
            sent += n as u64;
            progress += n;
        }
        frames += p.pump();
        loop {
            match p.b.tcp_recv(p.now, s, &mut buf) {
                Ok(0) | Err(Error::WouldBlock) => break,
                Ok(n) => {
                    let off = (got % PERIOD as u64) as usize;
                    assert!(buf[..n] == data[off..off + n], "sixstack: data corrupted");
                    got += n as u64;
                    progress += n;
                }
                Err(e) => panic!("sixstack recv: {e}"),
            }
        }
        frames += p.pump();
        p.tick(Duration::from_micros(10), progress == 0);
    }
    let secs = t0.elapsed().as_secs_f64();
    Run {
        secs,
        bytes: got,
        frames,
        virtual_ms: (p.now - start).as_millis() as u64,
    }
}

// ----- smoltcp -----------------------------------------------------------------------

static TSVAL: AtomicU32 = AtomicU32::new(1);

fn tsval() -> u32 {
    TSVAL.fetch_add(1, Ordering::Relaxed)
}

fn smol_socket() -> tcp::Socket<'static> {
    let rx = tcp::SocketBuffer::new(vec![0u8; BUFFER]);
    let tx = tcp::SocketBuffer::new(vec![0u8; BUFFER]);
    let mut s = tcp::Socket::new(rx, tx);
    s.set_congestion_control(tcp::CongestionControl::Reno);
    s.set_tsval_generator(Some(tsval));
    s
}

fn run_smoltcp(total: u64) -> Run {
    let mut p = SmolPair::new();
    let data = pattern();
    let mut server = smol_socket();
    server.listen(PORT).unwrap();
    let s: SmolHandle = p.sb.add(server);
    let mut client = smol_socket();
    client
        .connect(p.a.context(), (IpAddress::Ipv6(addr_b()), PORT), 49152)
        .unwrap();
    let c: SmolHandle = p.sa.add(client);
    let step = smoltcp::time::Duration::from_micros(10);
    while !(p.sa.get::<tcp::Socket>(c).may_send() && p.sb.get::<tcp::Socket>(s).may_recv()) {
        p.tick(step, true);
    }
    let start = p.now;
    let mut buf = vec![0u8; CHUNK];
    let (mut sent, mut got, mut frames) = (0u64, 0u64, 0usize);
    let t0 = WallClock::now();
    while got < total {
        let mut progress = 0;
        {
            let sock = p.sa.get_mut::<tcp::Socket>(c);
            while sent < total {
                let off = (sent % PERIOD as u64) as usize;
                let want = (total - sent).min(CHUNK as u64) as usize;
                let n = sock.send_slice(&data[off..off + want]).unwrap();
                if n == 0 {
                    break;
                }
                sent += n as u64;
                progress += n;
            }
        }
        frames += p.pump();
        {
            let sock = p.sb.get_mut::<tcp::Socket>(s);
            loop {
                let n = sock.recv_slice(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                let off = (got % PERIOD as u64) as usize;
                assert!(buf[..n] == data[off..off + n], "smoltcp: data corrupted");
                got += n as u64;
                progress += n;
            }
        }
        frames += p.pump();
        p.tick(step, progress == 0);
    }
    let secs = t0.elapsed().as_secs_f64();
    Run {
        secs,
        bytes: got,
        frames,
        virtual_ms: (p.now - start).total_millis(),
    }
}

fn main() {
    let mb: u64 = std::env::var("SIXSTACK_BENCH_TCP_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let total = mb * 1_000_000;
    let runs = 5;
    let only = std::env::var("SIXSTACK_BENCH_TCP_ONLY").unwrap_or_default();
    // Interleaved, so that both see the same machine.
    let mut ours: Option<Run> = None;
    let mut theirs: Option<Run> = None;
    for _ in 0..runs {
        if only != "smoltcp" {
            let o = run_sixstack(total);
            if ours.as_ref().is_none_or(|b| o.secs < b.secs) {
                ours = Some(o);
            }
        }
        if only != "sixstack" {
            let t = run_smoltcp(total);
            if theirs.as_ref().is_none_or(|b| t.secs < b.secs) {
                theirs = Some(t);
            }
        }
    }
    let none = || Run {
        secs: f64::NAN,
        bytes: 0,
        frames: 0,
        virtual_ms: 0,
    };
    let (ours, theirs) = (ours.unwrap_or_else(none), theirs.unwrap_or_else(none));
    let rate = |r: &Run| r.bytes as f64 / r.secs / 1e6;
    println!(
        "Bulk TCP in memory, one connection, {mb} MB per run, 256 KiB buffers, best of {runs} runs"
    );
    for (name, r) in [
        ("sixstack Stack (2 nodes)", &ours),
        ("smoltcp 0.14 Interface (2)", &theirs),
    ] {
        println!(
            "  {:<27} {:>7.3} s {:>9.1} MB/s {:>9} frames {:>6.0} ns/frame  (virtual time {} ms)",
            name,
            r.secs,
            rate(r),
            r.frames,
            r.secs * 1e9 / r.frames.max(1) as f64,
            r.virtual_ms
        );
    }
    println!(
        "  sixstack / smoltcp: {:.2} x (above 1: sixstack moves more per second)",
        rate(&ours) / rate(&theirs)
    );
}
