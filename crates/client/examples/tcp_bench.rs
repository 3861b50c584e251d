//! The connection-rate and round-trip halves of issue #5's daemon-against-kernel TCP
//! benchmark (run by `scripts/bench tcp-host`, which builds the namespaces, the daemon and
//! the kernel peers): a kernel listener, and two clients that run either over the kernel
//! (`std::net`) or through the daemon (`sixstack_client::TcpStream`), so the same program
//! measures both sides. A measurement, not a test.
//!
//! ```text
//! tcp_bench serve ADDR PORT                 kernel listener on [ADDR]:PORT
//! tcp_bench connect NET ADDR PORT SECS [MAX]  connections opened and closed, for SECS
//!                                             seconds or MAX connections
//! tcp_bench pingpong NET ADDR PORT COUNT    COUNT 1-byte requests and responses on one connection
//! ```
//!
//! NET is `kernel` or the daemon's control socket. The listener prints `ready`, then
//! takes connections one at a time: it echoes what it reads until the end of file, then
//! closes. `connect`: connect, shut down the sending side, read the listener's end of
//! file, close; again and again; prints `connections=N failed=F secs=T` and the connect
//! times `connect_us_p50=... connect_us_p90=...` (until the connection is established)
//! and `cycle_us_p50=...` (connect to the peer's FIN). `pingpong`: no delay on (Nagle
//! off), 50 round trips to warm up, then COUNT timed ones; prints `count=N` and
//! `min_us p50_us avg_us p90_us p99_us max_us`.

use std::io::{self, Read, Write};
use std::net::{Ipv6Addr, Shutdown, SocketAddrV6, TcpListener};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// The host's clock. clippy.toml bans `Instant::now` because the stack takes time as an
/// argument; a benchmark times itself with the wall clock on purpose.
#[allow(clippy::disallowed_methods)]
fn clock() -> Instant {
    Instant::now()
}

/// How long any one read may block: a lost connection ends the run instead of hanging it.
const STALL: Duration = Duration::from_secs(5);
/// Untimed round trips before the timed ones.
const WARMUP: usize = 50;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = match a.as_slice() {
        ["serve", addr, port] => serve(addr, port),
        ["connect", net, addr, port, secs, max @ ..] if max.len() <= 1 => {
            connect_loop(net, addr, port, secs, max.first().copied())
        }
        ["pingpong", net, addr, port, count] => pingpong(net, addr, port, count),
        _ => {
            eprintln!(
                "usage: tcp_bench serve ADDR PORT | connect NET ADDR PORT SECS [MAX] \
                 | pingpong NET ADDR PORT COUNT   (NET: kernel or the daemon's control socket)"
            );
            return ExitCode::from(2);
        }
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tcp_bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn bad(what: &str, v: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, format!("bad {what}: {v}"))
}

fn parse_addr(addr: &str, port: &str) -> io::Result<SocketAddrV6> {
    let ip: Ipv6Addr = addr.parse().map_err(|_| bad("address", addr))?;
    let port: u16 = port.parse().map_err(|_| bad("port", port))?;
    Ok(SocketAddrV6::new(ip, port, 0, 0))
}

/// A connection over the kernel or through the daemon.
enum Conn {
    Kernel(std::net::TcpStream),
    Sixstack(sixstack_client::TcpStream),
}

impl Conn {
    fn open(net: &str, to: SocketAddrV6) -> io::Result<Self> {
        if net == "kernel" {
            let s = std::net::TcpStream::connect_timeout(&to.into(), STALL)?;
            s.set_read_timeout(Some(STALL))?;
            Ok(Conn::Kernel(s))
        } else {
            let at = sixstack_client::SocketAddr::new(*to.ip(), to.port());
            let s = sixstack_client::TcpStream::connect_at(&PathBuf::from(net), &at, Some(STALL))?;
            s.set_read_timeout(Some(STALL))?;
            Ok(Conn::Sixstack(s))
        }
    }

    fn nodelay(&self) -> io::Result<()> {
        match self {
            Conn::Kernel(s) => s.set_nodelay(true),
            Conn::Sixstack(s) => s.set_nodelay(true),
        }
    }

    fn shutdown_write(&self) -> io::Result<()> {
        match self {
            Conn::Kernel(s) => s.shutdown(Shutdown::Write),
            Conn::Sixstack(s) => s.shutdown(Shutdown::Write),
        }
    }

    fn io(&mut self) -> &mut dyn ReadWrite {
        match self {
            Conn::Kernel(s) => s,
            Conn::Sixstack(s) => s,
        }
    }
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

/// Takes connections one at a time; echoes each until its end of file.
fn serve(addr: &str, port: &str) -> io::Result<()> {
    let l = TcpListener::bind(parse_addr(addr, port)?)?;
    println!("ready");
    io::stdout().flush()?;
    let mut buf = [0u8; 4096];
    loop {
        let (mut s, _) = l.accept()?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(STALL))?;
        loop {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if s.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
    }
}

/// Sorted microseconds: (p50, p90, p99).
fn percentiles(v: &mut [f64]) -> (f64, f64, f64) {
    if v.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let at = |p: f64| v[((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
    (at(0.5), at(0.9), at(0.99))
}

fn connect_loop(
    net: &str,
    addr: &str,
    port: &str,
    secs: &str,
    max: Option<&str>,
) -> io::Result<()> {
    let to = parse_addr(addr, port)?;
    let secs: f64 = secs.parse().map_err(|_| bad("seconds", secs))?;
    let max: usize = match max {
        Some(m) => m.parse().map_err(|_| bad("count", m))?,
        None => usize::MAX,
    };
    let (mut connects, mut cycles) = (Vec::new(), Vec::new());
    let mut failed = 0u64;
    let start = clock();
    let mut buf = [0u8; 64];
    while start.elapsed().as_secs_f64() < secs && connects.len() < max {
        let t0 = clock();
        let mut c = match Conn::open(net, to) {
            Ok(c) => c,
            Err(e) => {
                failed += 1;
                if failed == 1 {
                    eprintln!("tcp_bench: connect: {e}");
                }
                if failed >= 100 {
                    eprintln!("tcp_bench: 100 connects failed; stopping");
                    break;
                }
                continue;
            }
        };
        let t1 = clock();
        let ok = c.shutdown_write().is_ok() && matches!(c.io().read(&mut buf), Ok(0));
        drop(c);
        if ok {
            connects.push((t1 - t0).as_secs_f64() * 1e6);
            cycles.push(t0.elapsed().as_secs_f64() * 1e6);
        } else {
            failed += 1;
        }
    }
    let t = start.elapsed().as_secs_f64();
    let n = connects.len();
    let (c50, c90, c99) = percentiles(&mut connects);
    let (y50, y90, _) = percentiles(&mut cycles);
    println!(
        "connections={n} failed={failed} secs={t:.3} connect_us_p50={c50:.0} connect_us_p90={c90:.0} \
         connect_us_p99={c99:.0} cycle_us_p50={y50:.0} cycle_us_p90={y90:.0}"
    );
    Ok(())
}

fn pingpong(net: &str, addr: &str, port: &str, count: &str) -> io::Result<()> {
    let to = parse_addr(addr, port)?;
    let count: usize = count.parse().map_err(|_| bad("count", count))?;
    let mut c = Conn::open(net, to)?;
    c.nodelay()?;
    let mut times = Vec::with_capacity(count);
    let mut b = [0u8; 1];
    for i in 0..WARMUP + count {
        let t0 = clock();
        c.io().write_all(&[i as u8])?;
        c.io().read_exact(&mut b)?;
        if i >= WARMUP {
            times.push(t0.elapsed().as_secs_f64() * 1e6);
        }
        if b[0] != i as u8 {
            return Err(io::Error::other("the echo is not what was sent"));
        }
    }
    c.shutdown_write()?;
    let mut rest = Vec::new();
    let _ = c.io().read_to_end(&mut rest);
    let n = times.len();
    let sum: f64 = times.iter().sum();
    let min = times.iter().copied().fold(f64::INFINITY, f64::min);
    let max = times.iter().copied().fold(0.0, f64::max);
    let (p50, p90, p99) = percentiles(&mut times);
    println!(
        "count={n} min_us={min:.1} p50_us={p50:.1} avg_us={:.1} p90_us={p90:.1} p99_us={p99:.1} max_us={max:.1}",
        sum / n.max(1) as f64
    );
    Ok(())
}
