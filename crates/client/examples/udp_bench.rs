//! The UDP half of issue #4's benchmark (run by `scripts/bench host`, which builds the
//! namespaces, the daemon and the kernel peers): a sender that blasts datagrams from a
//! kernel socket, and two receivers of the same stream — a kernel socket (`std::net`) and
//! a `sixstack_client::UdpSocket` through the daemon. A measurement, not a test.
//!
//! ```text
//! udp_bench send ADDR PORT SIZE COUNT          kernel socket, COUNT datagrams of SIZE bytes
//! udp_bench recv-kernel ADDR PORT COUNT [HOLD_MS]       std::net::UdpSocket on [ADDR]:PORT
//! udp_bench recv-sixstack CONTROL PORT COUNT [HOLD_MS]  sixstack_client::UdpSocket on [::]:PORT
//! ```
//!
//! A receiver prints `ready` once bound, waits HOLD_MS (default 0) before its first
//! receive (so that datagrams sent meanwhile wait in its queue: then only the cost of
//! taking them out is timed), then counts datagrams until it has COUNT or none came for a
//! second, and prints `received=N bytes=B reordered=R secs=T` where T runs from the first
//! datagram to the last (the idle second at the end is not counted). The sender prints
//! `sent=N errors=E secs=T`. Each datagram starts with its sequence number (8 bytes, big
//! endian), so a receiver also reports how many arrived out of order (`reordered=`).

use std::io::{self, Write};
use std::net::{Ipv6Addr, SocketAddrV6};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// How long a receiver waits after the last datagram before it decides the stream ended.
const IDLE: Duration = Duration::from_secs(1);
/// How long a receiver waits for the first datagram.
const FIRST: Duration = Duration::from_secs(20);

/// The host's clock. clippy.toml bans `Instant::now` because the stack takes time as an
/// argument; a benchmark times itself with the wall clock on purpose.
#[allow(clippy::disallowed_methods)]
fn clock() -> Instant {
    Instant::now()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = match a.as_slice() {
        ["send", addr, port, size, count] => send(addr, port, size, count),
        ["recv-kernel", addr, port, count, hold @ ..] if hold.len() <= 1 => {
            recv_kernel(addr, port, count, hold.first().copied())
        }
        ["recv-sixstack", control, port, count, hold @ ..] if hold.len() <= 1 => {
            recv_sixstack(Path::new(control), port, count, hold.first().copied())
        }
        _ => {
            eprintln!(
                "usage: udp_bench send ADDR PORT SIZE COUNT | recv-kernel ADDR PORT COUNT [HOLD_MS] \
                 | recv-sixstack CONTROL PORT COUNT [HOLD_MS]"
            );
            return ExitCode::from(2);
        }
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("udp_bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn num<T: std::str::FromStr>(what: &str, s: &str) -> io::Result<T> {
    s.parse()
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, format!("bad {what}: {s}")))
}

fn send(addr: &str, port: &str, size: &str, count: &str) -> io::Result<()> {
    let dst = SocketAddrV6::new(num::<Ipv6Addr>("address", addr)?, num("port", port)?, 0, 0);
    let size: usize = num("size", size)?;
    let count: u64 = num("count", count)?;
    let s = std::net::UdpSocket::bind("[::]:0")?;
    let mut buf = vec![0x5a_u8; size.max(8)];
    let mut errors = 0u64;
    let t0 = clock();
    for seq in 0..count {
        buf[..8].copy_from_slice(&seq.to_be_bytes());
        // A full device queue is not an error the kernel reports on UDP (it counts it as
        // a drop); anything it does report is counted and the blast goes on.
        if s.send_to(&buf[..size.max(8)], dst).is_err() {
            errors += 1;
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    println!("sent={} errors={errors} secs={secs:.6}", count - errors);
    Ok(())
}

/// Counts the datagrams `next` writes into the buffer until `count` or an idle second;
/// prints the result line. `next(buf, timeout)` is called with the timeout to use when it
/// changes (once before the first datagram, once after it), None otherwise, so that the
/// kernel socket makes no system call per datagram beyond its receive.
fn receive(
    count: &str,
    hold: Option<&str>,
    mut next: impl FnMut(&mut [u8], Option<Duration>) -> io::Result<Option<usize>>,
) -> io::Result<()> {
    let count: u64 = num("count", count)?;
    let hold = Duration::from_millis(hold.map_or(Ok(0), |h| num("HOLD_MS", h))?);
    println!("ready");
    io::stdout().flush()?;
    std::thread::sleep(hold);
    let mut buf = vec![0u8; 65_536];
    let (mut n, mut bytes, mut reordered, mut expect) = (0u64, 0u64, 0u64, 0u64);
    let mut first = None;
    let mut last = clock();
    let mut timeout = Some(FIRST);
    while n < count {
        let Some(len) = next(&mut buf, timeout.take())? else {
            break;
        };
        last = clock();
        if first.is_none() {
            first = Some(last);
            timeout = Some(IDLE);
        }
        n += 1;
        bytes += len as u64;
        if len >= 8 {
            let seq = u64::from_be_bytes([
                buf[0], buf[1], buf[2], buf[3], buf[4], buf[5], buf[6], buf[7],
            ]);
            if seq < expect {
                reordered += 1;
            } else {
                expect = seq + 1;
            }
        }
    }
    let secs = first.map_or(0.0, |f| (last - f).as_secs_f64());
    println!("received={n} bytes={bytes} reordered={reordered} secs={secs:.6}");
    Ok(())
}

fn timed_out(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

fn recv_kernel(addr: &str, port: &str, count: &str, hold: Option<&str>) -> io::Result<()> {
    let at = SocketAddrV6::new(num::<Ipv6Addr>("address", addr)?, num("port", port)?, 0, 0);
    let s = std::net::UdpSocket::bind(at)?;
    receive(count, hold, |buf, timeout| {
        if timeout.is_some() {
            s.set_read_timeout(timeout)?;
        }
        match s.recv_from(buf) {
            Ok((n, _)) => Ok(Some(n)),
            Err(e) if timed_out(&e) => Ok(None),
            Err(e) => Err(e),
        }
    })
}

fn recv_sixstack(control: &Path, port: &str, count: &str, hold: Option<&str>) -> io::Result<()> {
    let port: u16 = num("port", port)?;
    let s = sixstack_client::UdpSocket::bind_at(control, false, (Ipv6Addr::UNSPECIFIED, port))?;
    receive(count, hold, |buf, timeout| {
        if timeout.is_some() {
            s.set_read_timeout(timeout)?;
        }
        match s.recv_from(buf) {
            Ok((n, _)) => Ok(Some(n)),
            Err(e) if timed_out(&e) => Ok(None),
            Err(e) => Err(e),
        }
    })
}
