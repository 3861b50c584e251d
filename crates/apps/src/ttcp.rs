//! `sixstack ttcp`: the classic test tool (Mike Muuss's ttcp, 1984, with the US Army
//! BRL's later options), over a [`Net`]: a transmitter (`-t`) and a receiver (`-r`), TCP
//! or UDP (`-u`), counting bytes, seconds and I/O calls.
//!
//! - With `-s` the transmitter sends `nbuf` buffers of `buflen` bytes of a pattern and the
//!   receiver discards what it gets; without it the transmitter sends its standard input
//!   until end of file and the receiver writes what it gets to standard output, so data can
//!   be checked end to end.
//! - TCP: the receiver accepts one connection and ends at its end of file, so plain TCP
//!   peers (`nc`) work on either side.
//! - UDP: as classic ttcp, the transmitter sends a datagram of 4 bytes before the data and
//!   four after it; the receiver starts its clock at the first short datagram and stops at
//!   the next. Data datagrams are therefore longer than 4 bytes: `buflen` is at least 5,
//!   and a last piece of standard input of 4 bytes or fewer rides with the datagram before
//!   it. UDP has no flow control: `--rate` paces the transmitter so that a slower receiver
//!   loses nothing.
//!
//! The report, on standard error as classic ttcp's:
//! `ttcp-t: 16777216 bytes in 1.23 real seconds = 13.01 MB/sec +++` and
//! `ttcp-t: 2048 I/O calls, msec/call = 0.61, calls/sec = 1665.04`; with `--json`, one
//! JSON object follows them on a line of its own.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use crate::net::{Net, Stream, connect_host};

/// Classic ttcp's defaults.
pub const DEFAULT_BUFLEN: usize = 8192;
pub const DEFAULT_NBUF: u64 = 2048;
pub const DEFAULT_PORT: u16 = 5001;
/// The largest buffer accepted (TCP); UDP's is [`MAX_UDP_BUFLEN`].
pub const MAX_BUFLEN: usize = 16 << 20;
/// The largest UDP payload over IPv4 (65535 - 20 - 8), less the 4 bytes a short last piece
/// of input may add.
pub const MAX_UDP_BUFLEN: usize = 65_507 - 4;
/// What marks the start and the end of a UDP transfer.
const MARKER_LEN: usize = 4;
/// How long a UDP receiver waits for more once started: the end markers may be lost.
const UDP_QUIET: Duration = Duration::from_secs(10);

/// Transmit to a host, or receive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    Transmit { host: String },
    Receive,
}

/// `-f`: classic ttcp's units, powers of 1024; lower case in bits, upper case in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Kbit,
    Mbit,
    Gbit,
    KByte,
    MByte,
    GByte,
}

impl Format {
    /// `k m g K M G`.
    pub fn from_letter(c: &str) -> Option<Self> {
        Some(match c {
            "k" => Self::Kbit,
            "m" => Self::Mbit,
            "g" => Self::Gbit,
            "K" => Self::KByte,
            "M" => Self::MByte,
            "G" => Self::GByte,
            _ => return None,
        })
    }

    /// `bytes_per_sec` in this unit, and the unit's name.
    pub fn scale(self, bytes_per_sec: f64) -> (f64, &'static str) {
        let k = 1024.0;
        match self {
            Self::Kbit => (bytes_per_sec * 8.0 / k, "Kbit"),
            Self::Mbit => (bytes_per_sec * 8.0 / k / k, "Mbit"),
            Self::Gbit => (bytes_per_sec * 8.0 / k / k / k, "Gbit"),
            Self::KByte => (bytes_per_sec / k, "KB"),
            Self::MByte => (bytes_per_sec / k / k, "MB"),
            Self::GByte => (bytes_per_sec / k / k / k, "GB"),
        }
    }
}

/// Everything a run needs to know.
#[derive(Debug, Clone)]
pub struct Options {
    pub role: Role,
    pub udp: bool,
    pub buflen: usize,
    pub nbuf: u64,
    pub port: u16,
    /// `-b`: accepted and reported; neither network lets it be set yet.
    pub sockbuf: Option<usize>,
    pub nodelay: bool,
    /// `-s`: a pattern out, a sink in.
    pub pattern: bool,
    pub verbose: bool,
    pub format: Format,
    pub json: bool,
    /// UDP transmitter: at most this many bits per second (None: as fast as it can).
    pub rate: Option<u64>,
    /// The receiver's address (default: `[::]`).
    pub bind: Option<IpAddr>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            role: Role::Receive,
            udp: false,
            buflen: DEFAULT_BUFLEN,
            nbuf: DEFAULT_NBUF,
            port: DEFAULT_PORT,
            sockbuf: None,
            nodelay: false,
            pattern: false,
            verbose: false,
            format: Format::MByte,
            json: false,
            rate: None,
            bind: None,
        }
    }
}

impl Options {
    /// Checks the combination; the message says what to change.
    pub fn check(&self) -> Result<(), String> {
        if self.buflen == 0 || self.buflen > MAX_BUFLEN {
            return Err(format!(
                "-l {}: the buffer length is 1 to {MAX_BUFLEN} bytes",
                self.buflen
            ));
        }
        if self.udp && self.buflen > MAX_UDP_BUFLEN {
            return Err(format!(
                "-l {} with -u: a UDP buffer is at most {MAX_UDP_BUFLEN} bytes",
                self.buflen
            ));
        }
        if self.nbuf == 0 {
            return Err("-n 0: send at least one buffer".into());
        }
        if self.rate.is_some() && (!self.udp || self.role == Role::Receive) {
            return Err("--rate paces a UDP transmitter: use it with -t -u".into());
        }
        Ok(())
    }

    fn side(&self) -> &'static str {
        match self.role {
            Role::Transmit { .. } => "ttcp-t",
            Role::Receive => "ttcp-r",
        }
    }

    /// UDP's buflen: classic ttcp raises anything under 5, so data is never taken for a
    /// marker.
    fn effective_buflen(&self) -> usize {
        if self.udp {
            self.buflen.max(MARKER_LEN + 1)
        } else {
            self.buflen
        }
    }
}

/// What a run measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Report {
    pub bytes: u64,
    pub seconds: f64,
    /// read or write calls (classic ttcp's "I/O calls"), markers not counted.
    pub calls: u64,
}

impl Report {
    pub fn bytes_per_sec(&self) -> f64 {
        if self.seconds > 0.0 {
            self.bytes as f64 / self.seconds
        } else {
            0.0
        }
    }

    /// The two classic lines, without newlines.
    pub fn lines(&self, side: &str, format: Format) -> [String; 2] {
        let (rate, unit) = format.scale(self.bytes_per_sec());
        let (msec, per_sec) = if self.calls > 0 && self.seconds > 0.0 {
            (
                self.seconds * 1000.0 / self.calls as f64,
                self.calls as f64 / self.seconds,
            )
        } else {
            (0.0, 0.0)
        };
        [
            format!(
                "{side}: {} bytes in {:.2} real seconds = {rate:.2} {unit}/sec +++",
                self.bytes, self.seconds
            ),
            format!(
                "{side}: {} I/O calls, msec/call = {msec:.2}, calls/sec = {per_sec:.2}",
                self.calls
            ),
        ]
    }

    /// One JSON object: side, protocol, bytes, seconds, throughput in bytes per second
    /// and in the unit of `-f`, calls.
    pub fn json(&self, side: &str, udp: bool, format: Format, peer: Option<SocketAddr>) -> String {
        let (rate, unit) = format.scale(self.bytes_per_sec());
        serde_json::json!({
            "side": side,
            "protocol": if udp { "udp" } else { "tcp" },
            "peer": peer.map(|p| p.to_string()),
            "bytes": self.bytes,
            "seconds": self.seconds,
            "bytes_per_sec": self.bytes_per_sec(),
            "throughput": rate,
            "unit": format!("{unit}/sec"),
            "calls": self.calls,
        })
        .to_string()
    }
}

/// Runs one transfer over `net`: the data from `input` (transmitter without `-s`) or to
/// `output` (receiver without `-s`), the messages and the report to `log`.
pub fn run(
    net: &dyn Net,
    opts: &Options,
    input: &mut dyn Read,
    output: &mut dyn Write,
    log: &mut dyn Write,
) -> io::Result<Report> {
    opts.check()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let side = opts.side();
    let buflen = opts.effective_buflen();
    if opts.udp && buflen != opts.buflen {
        writeln!(
            log,
            "{side}: -l {} raised to {buflen}: UDP data must be longer than the 4-byte markers",
            opts.buflen
        )?;
    }
    let proto = if opts.udp { "udp" } else { "tcp" };
    let mut head = format!(
        "{side}: buflen={buflen}, nbuf={}, port={}",
        opts.nbuf, opts.port
    );
    if let Some(b) = opts.sockbuf {
        head.push_str(&format!(
            ", sockbufsize={b} (not applied: the {} network has no setting for it)",
            net.name()
        ));
    }
    head.push_str(&format!("  {proto}"));
    if let Role::Transmit { host } = &opts.role {
        head.push_str(&format!("  -> {host}"));
    }
    head.push_str(&format!("  over {}", net.name()));
    let head = Header { line: head };
    let (report, peer) = match (&opts.role, opts.udp) {
        (Role::Transmit { host }, false) => tcp_transmit(net, opts, &head, host, input, log)?,
        (Role::Receive, false) => tcp_receive(net, opts, &head, output, log)?,
        (Role::Transmit { host }, true) => udp_transmit(net, opts, &head, host, input, log)?,
        (Role::Receive, true) => udp_receive(net, opts, &head, output, log)?,
    };
    for l in report.lines(side, opts.format) {
        writeln!(log, "{l}")?;
    }
    if opts.json {
        writeln!(log, "{}", report.json(side, opts.udp, opts.format, peer))?;
    }
    Ok(report)
}

/// The first line, written once the socket exists (a receiver is then ready).
struct Header {
    line: String,
}

impl Header {
    fn write(&self, log: &mut dyn Write) -> io::Result<()> {
        writeln!(log, "{}", self.line)?;
        log.flush()
    }
}

/// The process's monotonic clock: a tool over real sockets measures real time (the
/// stack's own code takes `now` as an argument instead).
#[allow(clippy::disallowed_methods)]
fn clock() -> Instant {
    Instant::now()
}

/// Classic ttcp's pattern: the printable ASCII characters, over and over.
pub fn pattern(buf: &mut [u8]) {
    const PRINTABLE: usize = 95; // b' '..=b'~'
    for (i, b) in buf.iter_mut().enumerate() {
        *b = b' ' + (i % PRINTABLE) as u8;
    }
}

/// Reads until `buf` is full or the input ends; the bytes read.
fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

fn with_context(e: io::Error, what: String) -> io::Error {
    io::Error::new(e.kind(), format!("{what}: {e}"))
}

fn unspecified_for(dest: SocketAddr) -> SocketAddr {
    match dest {
        SocketAddr::V4(_) => SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
        SocketAddr::V6(_) => SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0),
    }
}

fn tcp_transmit(
    net: &dyn Net,
    opts: &Options,
    head: &Header,
    host: &str,
    input: &mut dyn Read,
    log: &mut dyn Write,
) -> io::Result<(Report, Option<SocketAddr>)> {
    let side = opts.side();
    let mut s = connect_host(net, host, opts.port, Some(Duration::from_secs(30)))
        .map_err(|e| with_context(e, format!("connecting to {host} port {}", opts.port)))?;
    head.write(log)?;
    let peer = s.peer_addr().ok();
    if opts.nodelay {
        s.set_nodelay(true)?;
    }
    if opts.verbose && !opts.json {
        writeln!(log, "{side}: connected to {}", show(peer))?;
    }
    let mut buf = vec![0u8; opts.buflen];
    let start = clock();
    let mut r = Report {
        bytes: 0,
        seconds: 0.0,
        calls: 0,
    };
    if opts.pattern {
        pattern(&mut buf);
        for _ in 0..opts.nbuf {
            s.write_all(&buf)?;
            r.bytes += buf.len() as u64;
            r.calls += 1;
        }
    } else {
        loop {
            let n = read_full(input, &mut buf)
                .map_err(|e| with_context(e, "reading standard input".into()))?;
            if n == 0 {
                break;
            }
            s.write_all(&buf[..n])?;
            r.bytes += n as u64;
            r.calls += 1;
            if n < buf.len() {
                break;
            }
        }
    }
    s.shutdown_write()?;
    r.seconds = start.elapsed().as_secs_f64();
    drain(&mut *s);
    Ok((r, peer))
}

/// After our FIN: wait (briefly) for the peer's, so closing does not reset what it has
/// not read yet.
fn drain(s: &mut dyn Stream) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let mut b = [0u8; 1024];
    let mut left = 1 << 20;
    while left > 0 {
        match s.read(&mut b) {
            Ok(0) | Err(_) => break,
            Ok(n) => left -= n.min(left),
        }
    }
}

fn listen_addr(opts: &Options) -> SocketAddr {
    SocketAddr::new(
        opts.bind.unwrap_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED)),
        opts.port,
    )
}

fn show(a: Option<SocketAddr>) -> String {
    a.map_or_else(|| "?".into(), |a| a.to_string())
}

fn tcp_receive(
    net: &dyn Net,
    opts: &Options,
    head: &Header,
    output: &mut dyn Write,
    log: &mut dyn Write,
) -> io::Result<(Report, Option<SocketAddr>)> {
    let side = opts.side();
    let at = listen_addr(opts);
    let l = net
        .listen(at, 1)
        .map_err(|e| with_context(e, format!("listening on {at}")))?;
    head.write(log)?;
    let (mut s, peer) = l.accept()?;
    drop(l);
    if opts.nodelay {
        s.set_nodelay(true)?;
    }
    if !opts.json {
        writeln!(log, "{side}: accept from {peer}")?;
    }
    let mut buf = vec![0u8; opts.buflen];
    let start = clock();
    let mut r = Report {
        bytes: 0,
        seconds: 0.0,
        calls: 0,
    };
    loop {
        let n = match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        r.calls += 1;
        r.bytes += n as u64;
        if !opts.pattern {
            output
                .write_all(&buf[..n])
                .map_err(|e| with_context(e, "writing standard output".into()))?;
        }
    }
    output.flush()?;
    r.seconds = start.elapsed().as_secs_f64();
    Ok((r, Some(peer)))
}

/// Paces a sender to `bits_per_sec`.
struct Pacer {
    start: Instant,
    bits_per_sec: Option<u64>,
    sent: u64,
}

impl Pacer {
    fn wait(&mut self, bytes: usize) {
        self.sent += bytes as u64;
        if let Some(rate) = self.bits_per_sec {
            let due = Duration::from_secs_f64(self.sent as f64 * 8.0 / rate as f64);
            let now = self.start.elapsed();
            if due > now {
                std::thread::sleep(due - now);
            }
        }
    }
}

/// Sends one datagram; as classic ttcp, a full buffer (ENOBUFS) waits 18 ms and retries.
fn send_datagram(u: &dyn crate::net::Datagram, buf: &[u8], to: SocketAddr) -> io::Result<()> {
    const ENOBUFS: i32 = 105;
    for _ in 0..1000 {
        match u.send_to(buf, to) {
            Ok(_) => return Ok(()),
            Err(e)
                if e.raw_os_error() == Some(ENOBUFS) || e.kind() == io::ErrorKind::WouldBlock =>
            {
                std::thread::sleep(Duration::from_millis(18));
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::TimedOut,
        "no buffer space for 18 s",
    ))
}

fn udp_transmit(
    net: &dyn Net,
    opts: &Options,
    head: &Header,
    host: &str,
    input: &mut dyn Read,
    log: &mut dyn Write,
) -> io::Result<(Report, Option<SocketAddr>)> {
    let side = opts.side();
    let to = *net
        .resolve(host, opts.port)
        .map_err(|e| with_context(e, format!("resolving {host}")))?
        .first()
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("{host}: no address")))?;
    let u = net
        .bind_udp(unspecified_for(to))
        .map_err(|e| with_context(e, "a UDP socket".into()))?;
    head.write(log)?;
    if opts.verbose && !opts.json {
        writeln!(log, "{side}: sending to {to}")?;
    }
    let buflen = opts.effective_buflen();
    let mut r = Report {
        bytes: 0,
        seconds: 0.0,
        calls: 0,
    };
    let marker = [0u8; MARKER_LEN];
    send_datagram(&*u, &marker, to)?;
    let start = clock();
    let mut pacer = Pacer {
        start,
        bits_per_sec: opts.rate,
        sent: 0,
    };
    if opts.pattern {
        let mut buf = vec![0u8; buflen];
        pattern(&mut buf);
        for _ in 0..opts.nbuf {
            send_datagram(&*u, &buf, to)?;
            r.bytes += buflen as u64;
            r.calls += 1;
            pacer.wait(buflen);
        }
    } else {
        // One datagram ahead, so that a short last piece joins the one before it.
        let mut cur = vec![0u8; buflen + MARKER_LEN];
        let mut next = vec![0u8; buflen];
        let mut have = read_full(input, &mut cur[..buflen])?;
        if have > 0 && have <= MARKER_LEN {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{have} bytes of input: a UDP ttcp carries at least 5 (shorter datagrams mark the start and the end)"
                ),
            ));
        }
        while have > 0 {
            let more = if have == buflen {
                read_full(input, &mut next)?
            } else {
                0
            };
            if more > 0 && more <= MARKER_LEN {
                cur[have..have + more].copy_from_slice(&next[..more]);
                have += more;
                send_datagram(&*u, &cur[..have], to)?;
                r.bytes += have as u64;
                r.calls += 1;
                break;
            }
            send_datagram(&*u, &cur[..have], to)?;
            r.bytes += have as u64;
            r.calls += 1;
            pacer.wait(have);
            cur[..more].copy_from_slice(&next[..more]);
            have = more;
        }
    }
    r.seconds = start.elapsed().as_secs_f64();
    for _ in 0..4 {
        send_datagram(&*u, &marker, to)?;
    }
    Ok((r, Some(to)))
}

fn udp_receive(
    net: &dyn Net,
    opts: &Options,
    head: &Header,
    output: &mut dyn Write,
    log: &mut dyn Write,
) -> io::Result<(Report, Option<SocketAddr>)> {
    let side = opts.side();
    let at = listen_addr(opts);
    let u = net
        .bind_udp(at)
        .map_err(|e| with_context(e, format!("UDP on {at}")))?;
    head.write(log)?;
    // Large enough for anything a transmitter sends (its buffer may be longer than ours).
    let mut buf = vec![0u8; 65_536];
    let mut r = Report {
        bytes: 0,
        seconds: 0.0,
        calls: 0,
    };
    let mut from: Option<SocketAddr> = None;
    let mut start = clock();
    let mut last = start;
    loop {
        let (n, src) = match u.recv_from(&mut buf) {
            Ok(x) => x,
            Err(e)
                if from.is_some()
                    && matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
            {
                writeln!(
                    log,
                    "{side}: nothing for {} s and no end marker: ending (the markers were lost?)",
                    UDP_QUIET.as_secs()
                )?;
                break;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        match from {
            None if n <= MARKER_LEN => {
                from = Some(src);
                start = clock();
                last = start;
                u.set_read_timeout(Some(UDP_QUIET))?;
                if !opts.json {
                    writeln!(log, "{side}: start from {src}")?;
                }
            }
            // Data before a start marker, a stray end marker (a previous run's), or
            // datagrams from another sender: ignored.
            None => {}
            Some(f) if f != src => {}
            Some(_) if n <= MARKER_LEN => break,
            Some(_) => {
                last = clock();
                r.calls += 1;
                r.bytes += n as u64;
                if !opts.pattern {
                    output
                        .write_all(&buf[..n])
                        .map_err(|e| with_context(e, "writing standard output".into()))?;
                }
            }
        }
    }
    output.flush()?;
    r.seconds = last.duration_since(start).as_secs_f64();
    Ok((r, from))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::KernelNet;

    #[test]
    fn report_lines_as_classic_ttcp() {
        let r = Report {
            bytes: 16_777_216,
            seconds: 1.23,
            calls: 2048,
        };
        let [a, b] = r.lines("ttcp-t", Format::MByte);
        assert_eq!(
            a,
            "ttcp-t: 16777216 bytes in 1.23 real seconds = 13.01 MB/sec +++"
        );
        assert_eq!(
            b,
            "ttcp-t: 2048 I/O calls, msec/call = 0.60, calls/sec = 1665.04"
        );
        let [a, _] = r.lines("ttcp-r", Format::Mbit);
        assert_eq!(
            a,
            "ttcp-r: 16777216 bytes in 1.23 real seconds = 104.07 Mbit/sec +++"
        );
        let [a, _] = r.lines("ttcp-r", Format::KByte);
        assert!(a.ends_with("= 13320.33 KB/sec +++"), "{a}");
        let z = Report {
            bytes: 0,
            seconds: 0.0,
            calls: 0,
        };
        let [a, b] = z.lines("ttcp-r", Format::Gbit);
        assert_eq!(
            a,
            "ttcp-r: 0 bytes in 0.00 real seconds = 0.00 Gbit/sec +++"
        );
        assert!(b.contains("0 I/O calls"), "{b}");
        let j: serde_json::Value =
            serde_json::from_str(&r.json("ttcp-t", true, Format::MByte, None)).unwrap();
        assert_eq!(j["bytes"], 16_777_216);
        assert_eq!(j["calls"], 2048);
        assert_eq!(j["protocol"], "udp");
        assert_eq!(j["unit"], "MB/sec");
    }

    #[test]
    fn formats_and_option_checks() {
        for (l, u) in [
            ("k", "Kbit"),
            ("m", "Mbit"),
            ("g", "Gbit"),
            ("K", "KB"),
            ("M", "MB"),
            ("G", "GB"),
        ] {
            assert_eq!(Format::from_letter(l).unwrap().scale(1.0).1, u);
        }
        assert_eq!(Format::from_letter("x"), None);
        assert_eq!(Format::KByte.scale(2048.0).0, 2.0);
        assert_eq!(Format::Kbit.scale(128.0).0, 1.0);
        assert!(Options::default().check().is_ok());
        let bad = |o: Options| o.check().unwrap_err();
        assert!(
            bad(Options {
                buflen: 0,
                ..Options::default()
            })
            .contains("-l 0")
        );
        assert!(
            bad(Options {
                udp: true,
                buflen: 70_000,
                ..Options::default()
            })
            .contains("UDP")
        );
        assert!(
            bad(Options {
                nbuf: 0,
                ..Options::default()
            })
            .contains("-n 0")
        );
        assert!(
            bad(Options {
                rate: Some(1),
                ..Options::default()
            })
            .contains("--rate")
        );
        let o = Options {
            udp: true,
            buflen: 2,
            ..Options::default()
        };
        assert_eq!(o.effective_buflen(), 5);
    }

    #[test]
    fn pattern_is_printable() {
        let mut b = [0u8; 200];
        pattern(&mut b);
        assert!(b.iter().all(|c| c.is_ascii_graphic() || *c == b' '));
        assert_eq!(&b[..3], b" !\"");
        assert_eq!(b[95], b' ');
    }

    /// A log that tells when its first line is written.
    struct Told(Vec<u8>, Option<std::sync::mpsc::Sender<()>>);

    impl Write for Told {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            if let Some(t) = self.1.take() {
                let _ = t.send(());
            }
            Ok(())
        }
    }

    fn free_port(udp: bool) -> u16 {
        if udp {
            std::net::UdpSocket::bind("[::1]:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        } else {
            std::net::TcpListener::bind("[::1]:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        }
    }

    /// A receiver and a transmitter over the kernel's loopback; what the receiver wrote,
    /// and both logs.
    fn pair(udp: bool, pattern: bool, data: &[u8], buflen: usize) -> (Vec<u8>, String, String) {
        let port = free_port(udp);
        let base = Options {
            udp,
            pattern,
            port,
            buflen,
            nbuf: 10,
            bind: Some("::1".parse().unwrap()),
            ..Options::default()
        };
        let ro = base.clone();
        let (tx, ready) = std::sync::mpsc::channel();
        let recv = std::thread::spawn(move || {
            let mut out = Vec::new();
            let mut log = Told(Vec::new(), Some(tx));
            run(&KernelNet, &ro, &mut io::empty(), &mut out, &mut log).unwrap();
            (out, String::from_utf8(log.0).unwrap())
        });
        // The receiver's first line says its socket is there.
        ready.recv_timeout(Duration::from_secs(10)).unwrap();
        let to = Options {
            role: Role::Transmit { host: "::1".into() },
            rate: udp.then_some(400_000_000),
            ..base
        };
        let mut log = Vec::new();
        run(&KernelNet, &to, &mut &data[..], &mut io::sink(), &mut log).unwrap();
        let (out, rlog) = recv.join().unwrap();
        (out, String::from_utf8(log).unwrap(), rlog)
    }

    #[test]
    fn tcp_stdin_to_stdout_and_pattern() {
        let data: Vec<u8> = (0..100_003u32).map(|i| (i * 7 % 256) as u8).collect();
        let (out, tlog, rlog) = pair(false, false, &data, 8192);
        assert!(out == data);
        assert!(tlog.contains("ttcp-t: 100003 bytes in"), "{tlog}");
        assert!(tlog.contains("13 I/O calls"), "{tlog}");
        assert!(rlog.contains("ttcp-r: 100003 bytes in"), "{rlog}");
        let (out, tlog, rlog) = pair(false, true, &[], 1000);
        assert!(out.is_empty());
        assert!(tlog.contains("ttcp-t: 10000 bytes"), "{tlog}");
        assert!(rlog.contains("ttcp-r: 10000 bytes"), "{rlog}");
    }

    #[test]
    fn udp_markers_and_a_short_tail() {
        // 3 full buffers and a 3-byte tail: the tail rides with the third.
        let data: Vec<u8> = (0..3 * 1000 + 3u32).map(|i| (i % 253) as u8).collect();
        let (out, tlog, rlog) = pair(true, false, &data, 1000);
        assert!(out == data, "{} of {} bytes", out.len(), data.len());
        assert!(
            tlog.contains("3003 bytes") && tlog.contains("3 I/O calls"),
            "{tlog}"
        );
        assert!(
            rlog.contains("3003 bytes") && rlog.contains("3 I/O calls"),
            "{rlog}"
        );
        let (out, tlog, rlog) = pair(true, true, &[], 1400);
        assert!(out.is_empty());
        assert!(tlog.contains("14000 bytes"), "{tlog}");
        assert!(
            rlog.contains("14000 bytes") && rlog.contains("10 I/O calls"),
            "{rlog}"
        );
        // Fewer than 5 bytes cannot be told from a marker.
        let o = Options {
            role: Role::Transmit { host: "::1".into() },
            udp: true,
            port: free_port(true),
            ..Options::default()
        };
        let e = run(
            &KernelNet,
            &o,
            &mut &b"abc"[..],
            &mut io::sink(),
            &mut Vec::new(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("at least 5"), "{e}");
    }
}
