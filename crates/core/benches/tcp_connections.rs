//! TCP connections (issue #5), in memory (`common/link.rs`: two nodes back to back,
//! nothing lost, a virtual clock). A measurement, not a test: it prints numbers and
//! asserts only that the connections did what they should.
//!
//! 1. Connections opened and closed per wall-clock second: connect, accept, the client
//!    closes, the server closes after the FIN, until the client is in TIME-WAIT and the
//!    server's side is gone; one at a time, the virtual clock stepping between them. The
//!    clients' TIME-WAITs pile up, so both stacks hold about 200 of them throughout:
//!    sixstack with MSL shortened to 1 s (`StackConfig::tcp.msl`: TIME-WAIT is 2 MSL = 2 s)
//!    and 10 ms of virtual time per connection; smoltcp 0.14, whose TIME-WAIT is fixed at
//!    10 s, with 50 ms per connection and a pool of 256 client sockets (a smoltcp socket
//!    is one connection; the server's single socket listens again after each close).
//!    Each connection is seven segments on both (SYN, SYN-ACK, ACK, FIN, ACK, FIN, ACK).
//!    smoltcp's `Interface::poll` visits every socket of its set, so a third row runs it
//!    with 16 client sockets and 1 s per connection (about 10 in TIME-WAIT), to tell that
//!    cost apart.
//! 2. Memory per idle established connection: 100,000 connections between two sixstack
//!    stacks (the in-memory harness, not sixstack-sim's Network: the same stacks, without
//!    its per-link captures and event queue), counted by a global allocator that counts
//!    (bytes allocated minus bytes freed): what the client stack and the server stack
//!    each hold beyond their empty selves, divided by 100,000. The client has one address
//!    and ~16,000 ephemeral ports per destination, so the server listens on 8 ports.
//!    `max_tcp_connections` is raised to 200,000. The buffers (256 KiB each way) are
//!    allocated as data arrives, so an idle connection that never carried data holds
//!    none; the bench also measures the same after one byte each way. smoltcp: its
//!    sockets own their buffers from the start; its figure is one socket with the same
//!    buffers, counted the same way (100,000 of them would take some 51 GB).
//!
//!   SIXSTACK_BENCH_TCP_CONNS   connections in part 1 (default 20000); best of 3 runs
//!   SIXSTACK_BENCH_TCP_IDLE    connections in part 2 (default 100000)
//!
//! `scripts/bench tcp` runs it.

// Benches measure wall time: Instant::now is what they are for (the ban is for the stack).
#![allow(clippy::disallowed_methods)]

mod common;

use std::alloc::System;
use std::time::Instant as WallClock;

use common::link::{SixPair, SmolPair, addr_b};
use sixstack_core::socket::SocketHandle;
use sixstack_core::transport::tcp::State;
use sixstack_core::{Duration, Stack, StackConfig};
use smoltcp::iface::SocketHandle as SmolHandle;
use smoltcp::socket::tcp;
use smoltcp::wire::IpAddress;
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Heap bytes live now.
fn live() -> isize {
    let s = GLOBAL.stats();
    s.bytes_allocated as isize - s.bytes_deallocated as isize
}

const PORT: u16 = 5001;
const BUFFER: usize = 256 * 1024;

struct Rate {
    secs: f64,
    conns: usize,
    time_wait: usize,
}

// ----- 1. open and close ---------------------------------------------------------------

fn churn_sixstack(n: usize) -> Rate {
    let mut cfg = StackConfig::default();
    cfg.tcp.msl = Duration::from_secs(1);
    let mut p = SixPair::new(cfg);
    let l = p.b.tcp_listen(p.now, addr_b(), PORT, None).unwrap();
    let step = Duration::from_millis(10);
    let mut time_wait = 0;
    let t0 = WallClock::now();
    for _ in 0..n {
        let c = p.a.tcp_connect(p.now, addr_b(), PORT, None).unwrap();
        p.pump();
        let s =
            p.b.tcp_accept(p.now, l)
                .expect("sixstack: no connection to accept");
        p.a.tcp_close(p.now, c).unwrap();
        p.pump();
        p.b.tcp_close(p.now, s).unwrap();
        p.pump();
        p.tick(step, false);
        time_wait = time_wait.max(p.a.tcp_connection_count());
    }
    let secs = t0.elapsed().as_secs_f64();
    assert_eq!(
        p.b.tcp_connection_count(),
        0,
        "sixstack: server side left over"
    );
    Rate {
        secs,
        conns: n,
        time_wait,
    }
}

fn smol_socket(buffer: usize) -> tcp::Socket<'static> {
    let rx = tcp::SocketBuffer::new(vec![0u8; buffer]);
    let tx = tcp::SocketBuffer::new(vec![0u8; buffer]);
    tcp::Socket::new(rx, tx)
}

fn churn_smoltcp(n: usize, pool: usize, step_ms: u64) -> Rate {
    let mut p = SmolPair::new();
    // Small buffers: no data is sent, and 256 sockets of 512 KiB would only cost memory.
    let server: SmolHandle = p.sb.add(smol_socket(4096));
    let clients: Vec<SmolHandle> = (0..pool).map(|_| p.sa.add(smol_socket(4096))).collect();
    let step = smoltcp::time::Duration::from_millis(step_ms);
    let small = smoltcp::time::Duration::from_micros(10);
    let mut time_wait = 0;
    let t0 = WallClock::now();
    for i in 0..n {
        let c = clients[i % pool];
        while p.sa.get::<tcp::Socket>(c).state() != tcp::State::Closed {
            p.tick(small, true);
        }
        p.sb.get_mut::<tcp::Socket>(server).listen(PORT).unwrap();
        let lport = 49152 + (i % 16384) as u16;
        {
            let cx = p.a.context();
            let sock = p.sa.get_mut::<tcp::Socket>(c);
            sock.connect(cx, (IpAddress::Ipv6(addr_b()), PORT), lport)
                .unwrap();
        }
        while p.sb.get::<tcp::Socket>(server).state() != tcp::State::Established
            || p.sa.get::<tcp::Socket>(c).state() != tcp::State::Established
        {
            p.tick(small, true);
        }
        p.sa.get_mut::<tcp::Socket>(c).close();
        while p.sb.get::<tcp::Socket>(server).state() != tcp::State::CloseWait {
            p.tick(small, true);
        }
        p.sb.get_mut::<tcp::Socket>(server).close();
        while p.sb.get::<tcp::Socket>(server).state() != tcp::State::Closed
            || p.sa.get::<tcp::Socket>(c).state() != tcp::State::TimeWait
        {
            p.tick(small, true);
        }
        p.tick(step, false);
        let tw = clients
            .iter()
            .filter(|&&h| p.sa.get::<tcp::Socket>(h).state() == tcp::State::TimeWait)
            .count();
        time_wait = time_wait.max(tw);
    }
    Rate {
        secs: t0.elapsed().as_secs_f64(),
        conns: n,
        time_wait,
    }
}

// ----- 2. idle connections -------------------------------------------------------------

struct Idle {
    conns: usize,
    client: f64,
    server: f64,
    client_after_data: f64,
    server_after_data: f64,
    secs: f64,
}

/// What dropping `s` frees.
fn held(s: Stack) -> isize {
    let before = live();
    drop(s);
    before - live()
}

fn idle_sixstack(n: usize) -> Idle {
    const PORTS: u16 = 8;
    let cfg = || StackConfig {
        max_tcp_connections: 200_000,
        ..StackConfig::default()
    };
    // The stacks' own heap, with the listeners and nothing connected.
    let empty = SixPair::new(cfg());
    let (ea, mut eb) = (empty.a, empty.b);
    for k in 0..PORTS {
        eb.tcp_listen(empty.now, addr_b(), PORT + k, None).unwrap();
    }
    let (base_a, base_b) = (held(ea), held(eb));

    let mut p = SixPair::new(cfg());
    let listeners: Vec<SocketHandle> = (0..PORTS)
        .map(|k| p.b.tcp_listen(p.now, addr_b(), PORT + k, None).unwrap())
        .collect();
    let mut pairs = Vec::with_capacity(n);
    let t0 = WallClock::now();
    for i in 0..n {
        let k = i % PORTS as usize;
        let c =
            p.a.tcp_connect(p.now, addr_b(), PORT + k as u16, None)
                .unwrap();
        p.pump();
        let s = p.b.tcp_accept(p.now, listeners[k]).unwrap();
        pairs.push((c, s));
    }
    let secs = t0.elapsed().as_secs_f64();
    let established = |st: &Stack, h| st.tcp_status(h).map(|s| s.state) == Some(State::Established);
    assert!(
        pairs
            .iter()
            .all(|&(c, s)| established(&p.a, c) && established(&p.b, s)),
        "sixstack: not all established"
    );
    // What each stack holds beyond its empty self (the bench's `pairs` is in neither).
    let measure = |p: SixPair| (held(p.a) - base_a, held(p.b) - base_b);
    let (client, server) = measure(p);
    // The same connections after one byte each way (and read): what the buffers keep.
    let mut q = SixPair::new(cfg());
    let ql: Vec<SocketHandle> = (0..PORTS)
        .map(|k| q.b.tcp_listen(q.now, addr_b(), PORT + k, None).unwrap())
        .collect();
    let mut one = [0u8; 1];
    for i in 0..n {
        let k = i % PORTS as usize;
        let c =
            q.a.tcp_connect(q.now, addr_b(), PORT + k as u16, None)
                .unwrap();
        q.pump();
        let s = q.b.tcp_accept(q.now, ql[k]).unwrap();
        q.a.tcp_send(q.now, c, b"x").unwrap();
        q.b.tcp_send(q.now, s, b"y").unwrap();
        q.pump();
        assert_eq!(q.b.tcp_recv(q.now, s, &mut one).unwrap(), 1);
        assert_eq!(q.a.tcp_recv(q.now, c, &mut one).unwrap(), 1);
    }
    // Past the delayed ACKs.
    q.tick(Duration::from_secs(1), false);
    q.pump();
    let (client_d, server_d) = measure(q);
    Idle {
        conns: n,
        client: client as f64 / n as f64,
        server: server as f64 / n as f64,
        client_after_data: client_d as f64 / n as f64,
        server_after_data: server_d as f64 / n as f64,
        secs,
    }
}

/// One smoltcp TCP socket with 256 KiB buffers each way: heap bytes and its size.
fn smoltcp_socket_bytes() -> (isize, usize) {
    let before = live();
    let s = smol_socket(BUFFER);
    let heap = live() - before;
    std::hint::black_box(&s);
    (heap, size_of::<tcp::Socket<'static>>())
}

fn main() {
    let var = |k: &str, d: usize| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let n = var("SIXSTACK_BENCH_TCP_CONNS", 20_000);
    let idle = var("SIXSTACK_BENCH_TCP_IDLE", 100_000);

    let mut ours: Option<Rate> = None;
    let mut theirs: Option<Rate> = None;
    let mut few: Option<Rate> = None;
    let best = |b: &mut Option<Rate>, r: Rate| {
        if b.as_ref().is_none_or(|x| r.secs < x.secs) {
            *b = Some(r);
        }
    };
    for _ in 0..3 {
        best(&mut ours, churn_sixstack(n));
        best(&mut theirs, churn_smoltcp(n, 256, 50));
        // What the same costs smoltcp with few sockets: its poll visits every socket.
        best(&mut few, churn_smoltcp(n, 16, 1000));
    }
    let (ours, theirs, few) = (ours.unwrap(), theirs.unwrap(), few.unwrap());
    let rate = |r: &Rate| r.conns as f64 / r.secs;
    println!(
        "TCP connections opened and closed in memory (connect, accept, close both, until \
         TIME-WAIT), {n} per run, best of 3"
    );
    for (name, r, how) in [
        ("sixstack Stack (2 nodes)", &ours, "MSL 1 s, 10 ms/conn"),
        (
            "smoltcp 0.14 Interface (2)",
            &theirs,
            "TIME-WAIT 10 s, 50 ms/conn, 256 client sockets",
        ),
        (
            "smoltcp, 16 client sockets",
            &few,
            "1 s/conn: few TIME-WAITs, few sockets to visit",
        ),
    ] {
        println!(
            "  {:<27} {:>7.3} s {:>9.0} conns/s {:>6.1} µs/conn  (up to {} in TIME-WAIT; {})",
            name,
            r.secs,
            rate(r),
            r.secs * 1e6 / r.conns as f64,
            r.time_wait,
            how
        );
    }
    println!(
        "  sixstack / smoltcp (both ~200 in TIME-WAIT): {:.2} x (above 1: sixstack opens and \
         closes more per second); against smoltcp with 16 sockets: {:.2} x",
        rate(&ours) / rate(&theirs),
        rate(&ours) / rate(&few)
    );

    let m = idle_sixstack(idle);
    println!();
    println!(
        "Memory per idle established connection, {} connections between two sixstack stacks \
         (made in {:.2} s)",
        m.conns, m.secs
    );
    println!(
        "  never carried data:        client {:>7.0} B/conn   server {:>7.0} B/conn",
        m.client, m.server
    );
    println!(
        "  after one byte each way:   client {:>7.0} B/conn   server {:>7.0} B/conn",
        m.client_after_data, m.server_after_data
    );
    println!(
        "  (of which a Tcb, boxed in the connection table: {} B)",
        size_of::<sixstack_core::transport::tcp::Tcb>()
    );
    let (heap, size) = smoltcp_socket_bytes();
    println!(
        "  smoltcp 0.14 tcp::Socket, 256 KiB buffers each way: {heap} B on the heap + {size} B \
         of socket = {} B/conn, from its creation",
        heap + size as isize
    );
    println!(
        "  smoltcp / sixstack (idle, never carried data, client): {:.0} x",
        (heap + size as isize) as f64 / m.client
    );
}
