//! `sixstack socks`: a SOCKS version 5 proxy (RFC 1928) that takes connections on one
//! network (the host's loopback, through [`KernelNet`](crate::net::KernelNet)) and carries
//! them over another (sixstack, through [`SixstackNet`](crate::net::SixstackNet)), so that
//! unmodified programs — `curl`, a web browser — use the stack.
//!
//! What it does of RFC 1928:
//! - §3 methods: "no authentication" (0x00) only; a client that does not offer it gets
//!   0xFF and the connection is closed. RFC 1929 username/password is not offered.
//! - §4 CONNECT to an IPv6 literal, or to a domain name resolved by the outbound network's
//!   resolver (sixstack's), its addresses tried in the order given (RFC 6724 §6). IPv4
//!   targets (a literal, an IPv4-mapped IPv6 literal, or a name with only IPv4 addresses)
//!   are answered 0x08 "address type not supported" when the outbound network is
//!   IPv6-only, as sixstack is: no route could exist, and the client may then try another
//!   address of the name itself. (When the outbound network is the kernel's, IPv4 is
//!   carried.)
//! - §4 UDP ASSOCIATE: a relay socket on the address the client reached us on; its
//!   datagrams, with the §7 header, go out through one socket of the outbound network,
//!   and what comes back is wrapped in the header again. Only datagrams from the client's
//!   address are relayed (§7 "MUST drop ... other than the one recorded"); FRAG other than
//!   0 is dropped, as §7 allows an implementation without reassembly. The association ends
//!   with the TCP connection it was asked on.
//! - §4 BIND and unknown commands: 0x07 "command not supported".
//! - §6 replies from the error of the outbound connect: refused 0x05, network unreachable
//!   0x03, host unreachable, timeout and name not found 0x04, administratively prohibited
//!   0x02, anything else 0x01 (see [`wire::Reply::from_io`]).
//!
//! Bounds: at most `max_clients` clients at once (more are closed at accept), a deadline
//! for the negotiation and the request, relays closed after `idle_timeout` without data
//! either way, fixed relay buffers (16 KiB per TCP direction, 64 KiB per UDP direction),
//! and two threads per client. One line per connection is logged on standard error:
//! client, command, target, the address used, the reply, bytes each way and duration.

pub mod wire;

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::net::{Datagram, Listener, Net, Stream};
use wire::{Addr, Command, ParseError, Parsed, Reply, Request};

/// The proxy's limits and habits.
#[derive(Debug, Clone)]
pub struct Options {
    /// Clients served at once; more are closed as soon as they are accepted.
    pub max_clients: usize,
    /// From accept to a complete request.
    pub handshake_timeout: Duration,
    /// A relay with no data either way for this long is closed.
    pub idle_timeout: Duration,
    /// For each address tried by CONNECT.
    pub connect_timeout: Duration,
    /// Whether the outbound network carries IPv4 (false for sixstack).
    pub ipv4: bool,
    /// Log lines as JSON objects.
    pub json: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            max_clients: 256,
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(300),
            connect_timeout: Duration::from_secs(20),
            ipv4: false,
            json: false,
        }
    }
}

/// Where log lines go.
pub type LogSink = Box<dyn Fn(&str) + Send + Sync>;

/// A running proxy: accept loops on listeners of the inbound network, connections out on
/// the outbound one.
pub struct Proxy {
    inbound: Arc<dyn Net>,
    outbound: Arc<dyn Net>,
    opts: Options,
    clients: AtomicUsize,
    log: LogSink,
}

/// Relay buffer per TCP direction.
const TCP_BUF: usize = 16 * 1024;
/// Relay buffer per UDP direction: the largest datagram and its header.
const UDP_BUF: usize = 65_536 + 262;
/// Stack of each client thread: the relay buffers are on the heap.
const THREAD_STACK: usize = 256 * 1024;

impl Proxy {
    /// A proxy that logs to standard error.
    pub fn new(inbound: Arc<dyn Net>, outbound: Arc<dyn Net>, opts: Options) -> Arc<Self> {
        Self::with_log(inbound, outbound, opts, Box::new(|l| eprintln!("{l}")))
    }

    pub fn with_log(
        inbound: Arc<dyn Net>,
        outbound: Arc<dyn Net>,
        opts: Options,
        log: LogSink,
    ) -> Arc<Self> {
        Arc::new(Self {
            inbound,
            outbound,
            opts,
            clients: AtomicUsize::new(0),
            log,
        })
    }

    /// Accepts clients on `listener` until accepting fails for good; each client on
    /// threads of its own.
    pub fn serve(self: &Arc<Self>, listener: Box<dyn Listener>) -> io::Result<()> {
        let mut failures = 0u32;
        loop {
            let (stream, peer) = match listener.accept() {
                Ok(x) => {
                    failures = 0;
                    x
                }
                Err(e) => {
                    // Out of descriptors and the like pass; a listener that keeps failing
                    // is gone.
                    failures += 1;
                    if failures > 100 {
                        return Err(e);
                    }
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                }
            };
            let n = self.clients.fetch_add(1, Ordering::SeqCst);
            if n >= self.opts.max_clients {
                self.clients.fetch_sub(1, Ordering::SeqCst);
                let mut r = Record::new(peer);
                r.error = Some(format!(
                    "refused: {} clients already (--max-clients)",
                    self.opts.max_clients
                ));
                self.log(&r);
                drop(stream);
                continue;
            }
            let me = Arc::clone(self);
            let spawned = std::thread::Builder::new()
                .name(format!("socks {peer}"))
                .stack_size(THREAD_STACK)
                .spawn(move || {
                    let _slot = Slot(&me.clients);
                    me.client(stream, peer);
                });
            if spawned.is_err() {
                self.clients.fetch_sub(1, Ordering::SeqCst);
            }
        }
    }

    fn log(&self, r: &Record) {
        (self.log)(&r.render(self.opts.json));
    }

    /// One client, from the negotiation to the end of its relay.
    fn client(&self, mut s: Box<dyn Stream>, peer: SocketAddr) {
        let mut rec = Record::new(peer);
        let deadline = clock() + self.opts.handshake_timeout;
        let mut hs = Handshake::default();
        let req = match hs.run(&mut *s, deadline) {
            Ok(r) => r,
            Err(e) => {
                if let HsError::Parse(ParseError::AddressType(_)) = e {
                    let _ = s.write_all(&wire::reply(Reply::AddressTypeNotSupported, None));
                    rec.reply = Some(Reply::AddressTypeNotSupported);
                }
                rec.error = Some(e.to_string());
                rec.finish(self);
                return;
            }
        };
        rec.command = Some(req.command);
        rec.target = Some(format!("{}:{}", req.addr, req.port));
        match req.command {
            Command::Connect => self.connect(s, req, hs.leftover(), &mut rec),
            Command::UdpAssociate => self.udp_associate(s, &req, &mut rec),
            Command::Bind | Command::Other(_) => {
                let _ = s.write_all(&wire::reply(Reply::CommandNotSupported, None));
                rec.reply = Some(Reply::CommandNotSupported);
            }
        }
        rec.finish(self);
    }

    /// The addresses to try for a target, in order, or the reply that says why none.
    fn targets(&self, addr: &Addr, port: u16) -> Result<Vec<SocketAddr>, (Reply, String)> {
        let v4_refused = || {
            (
                Reply::AddressTypeNotSupported,
                format!(
                    "IPv4, and the {} network is IPv6-only",
                    self.outbound.name()
                ),
            )
        };
        match addr {
            Addr::Ip(ip) => {
                if !self.opts.ipv4 && is_v4(*ip) {
                    return Err(v4_refused());
                }
                Ok(vec![SocketAddr::new(*ip, port)])
            }
            Addr::Domain(name) => {
                let all = self
                    .outbound
                    .resolve(name, port)
                    .map_err(|e| (Reply::from_io(&e), format!("resolving {name}: {e}")))?;
                let some = !all.is_empty();
                let usable: Vec<SocketAddr> = all
                    .into_iter()
                    .filter(|a| self.opts.ipv4 || !is_v4(a.ip()))
                    .collect();
                if usable.is_empty() {
                    return Err(if some {
                        v4_refused()
                    } else {
                        (Reply::HostUnreachable, format!("{name}: no address"))
                    });
                }
                Ok(usable)
            }
        }
    }

    fn connect(&self, mut s: Box<dyn Stream>, req: Request, early: Vec<u8>, rec: &mut Record) {
        let addrs = match self.targets(&req.addr, req.port) {
            Ok(a) => a,
            Err((rep, why)) => {
                let _ = s.write_all(&wire::reply(rep, None));
                rec.reply = Some(rep);
                rec.error = Some(why);
                return;
            }
        };
        let mut last = None;
        let mut out = None;
        for a in addrs {
            match self.outbound.connect(a, Some(self.opts.connect_timeout)) {
                Ok(t) => {
                    rec.address = Some(a);
                    out = Some(t);
                    break;
                }
                Err(e) => last = Some((a, e)),
            }
        }
        let Some(mut t) = out else {
            let (rep, why) = match last {
                Some((a, e)) => (Reply::from_io(&e), format!("{a}: {e}")),
                None => (Reply::HostUnreachable, "no address".into()),
            };
            let _ = s.write_all(&wire::reply(rep, None));
            rec.reply = Some(rep);
            rec.error = Some(why);
            return;
        };
        let bound = t.local_addr().ok();
        rec.reply = Some(Reply::Succeeded);
        if let Err(e) = s.write_all(&wire::reply(Reply::Succeeded, bound)) {
            rec.error = Some(format!("writing the reply: {e}"));
            return;
        }
        if !early.is_empty() {
            if let Err(e) = t.write_all(&early) {
                rec.error = Some(format!("to the target: {e}"));
                return;
            }
            rec.up += early.len() as u64;
        }
        match relay_tcp(s, t, self.opts.idle_timeout) {
            Ok((up, down, idle)) => {
                rec.up += up;
                rec.down += down;
                if idle {
                    rec.error = Some("idle timeout".into());
                }
            }
            Err(e) => rec.error = Some(format!("relay: {e}")),
        }
    }

    fn udp_associate(&self, mut ctrl: Box<dyn Stream>, req: &Request, rec: &mut Record) {
        let fail = |ctrl: &mut Box<dyn Stream>, rec: &mut Record, rep: Reply, why: String| {
            let _ = ctrl.write_all(&wire::reply(rep, None));
            rec.reply = Some(rep);
            rec.error = Some(why);
        };
        // The client's UDP address: its TCP address's IP; the port it gave, or the source
        // port of its first datagram.
        let client_ip = ctrl.peer_addr().map(|a| a.ip());
        let local = ctrl.local_addr();
        let (Ok(client_ip), Ok(local)) = (client_ip, local) else {
            return fail(
                &mut ctrl,
                rec,
                Reply::GeneralFailure,
                "control connection has no address".into(),
            );
        };
        let client = Arc::new(Mutex::new(match (&req.addr, req.port) {
            (Addr::Ip(ip), p) if p != 0 && !ip.is_unspecified() => Some(SocketAddr::new(*ip, p)),
            _ => None,
        }));
        let inside = match self.inbound.bind_udp(SocketAddr::new(local.ip(), 0)) {
            Ok(u) => Shared::new(u),
            Err(e) => {
                return fail(
                    &mut ctrl,
                    rec,
                    Reply::GeneralFailure,
                    format!("UDP relay socket: {e}"),
                );
            }
        };
        let outside = match self
            .outbound
            .bind_udp(SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0))
        {
            Ok(u) => Shared::new(u),
            Err(e) => {
                let rep = Reply::from_io(&e);
                return fail(
                    &mut ctrl,
                    rec,
                    rep,
                    format!("UDP socket on {}: {e}", self.outbound.name()),
                );
            }
        };
        let bound = inside
            .sock
            .lock()
            .map(|s| s.local_addr())
            .ok()
            .and_then(|r| r.ok());
        rec.address = bound;
        rec.reply = Some(Reply::Succeeded);
        if ctrl
            .write_all(&wire::reply(Reply::Succeeded, bound))
            .is_err()
        {
            return;
        }
        let state = Arc::new(RelayState {
            stop: AtomicBool::new(false),
            last: AtomicU64::new(0),
            start: clock(),
            up: AtomicU64::new(0),
            down: AtomicU64::new(0),
        });
        let (inside, outside) = (Arc::new(inside), Arc::new(outside));
        let up = {
            let (inside, outside, state, client) = (
                Arc::clone(&inside),
                Arc::clone(&outside),
                Arc::clone(&state),
                Arc::clone(&client),
            );
            let outbound = Arc::clone(&self.outbound);
            let ipv4 = self.opts.ipv4;
            std::thread::Builder::new()
                .stack_size(THREAD_STACK)
                .spawn(move || {
                    udp_up(
                        &inside, &outside, &state, &client, client_ip, &*outbound, ipv4,
                    )
                })
        };
        let down = {
            let (inside, outside, state, client) = (
                Arc::clone(&inside),
                Arc::clone(&outside),
                Arc::clone(&state),
                Arc::clone(&client),
            );
            std::thread::Builder::new()
                .stack_size(THREAD_STACK)
                .spawn(move || udp_down(&inside, &outside, &state, &client))
        };
        // The association lives as long as its TCP connection, and no longer than the idle
        // timeout.
        let idle = self.opts.idle_timeout;
        let _ = ctrl.set_read_timeout(Some(tick(idle)));
        let mut sink = [0u8; 64];
        loop {
            match ctrl.read(&mut sink) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if timed_out(&e) => {
                    if state.idle_for() >= idle {
                        rec.error = Some("idle timeout".into());
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
            if state.stop.load(Ordering::SeqCst) {
                break;
            }
        }
        state.stop.store(true, Ordering::SeqCst);
        for t in [up, down].into_iter().flatten() {
            let _ = t.join();
        }
        rec.up = state.up.load(Ordering::SeqCst);
        rec.down = state.down.load(Ordering::SeqCst);
    }
}

/// The process's monotonic clock: a tool over real sockets measures real time (the
/// stack's own code takes `now` as an argument instead).
#[allow(clippy::disallowed_methods)]
fn clock() -> Instant {
    Instant::now()
}

/// Gives a client's place back when its thread ends.
struct Slot<'a>(&'a AtomicUsize);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn is_v4(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(_) => true,
        IpAddr::V6(v6) => v6.to_ipv4_mapped().is_some(),
    }
}

fn timed_out(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// How often a blocked relay looks at the clock and at its peer's state.
fn tick(idle: Duration) -> Duration {
    idle.min(Duration::from_secs(1))
        .max(Duration::from_millis(10))
}

// ----- the negotiation and the request ---------------------------------------------------

#[derive(Debug)]
enum HsError {
    Io(io::Error),
    Parse(ParseError),
    Timeout,
    Closed,
    NoAcceptableMethod(Vec<u8>),
}

impl std::fmt::Display for HsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io(e) => write!(f, "negotiation: {e}"),
            Self::Parse(e) => write!(f, "negotiation: {e}"),
            Self::Timeout => f.write_str("negotiation: timed out"),
            Self::Closed => f.write_str("negotiation: closed by the client"),
            Self::NoAcceptableMethod(m) => write!(
                f,
                "negotiation: no acceptable method (offered {m:02x?}; only 00, no authentication, is served)"
            ),
        }
    }
}

/// The bytes of the negotiation, read into a fixed buffer: a greeting and a request fit,
/// with whatever an eager client sends after them.
struct Handshake {
    buf: [u8; wire::MAX_GREETING + wire::MAX_REQUEST],
    have: usize,
}

impl Default for Handshake {
    fn default() -> Self {
        Self {
            buf: [0; wire::MAX_GREETING + wire::MAX_REQUEST],
            have: 0,
        }
    }
}

impl Handshake {
    /// The method negotiation (§3) then the request (§4).
    fn run(&mut self, s: &mut dyn Stream, deadline: Instant) -> Result<Request, HsError> {
        let methods = self.message(s, deadline, wire::parse_greeting)?;
        let chosen = wire::choose_method(&methods);
        s.write_all(&[wire::VERSION, chosen]).map_err(HsError::Io)?;
        if chosen == wire::METHOD_NONE_ACCEPTABLE {
            return Err(HsError::NoAcceptableMethod(methods));
        }
        self.message(s, deadline, wire::parse_request)
    }

    /// Bytes read past the request: data the client sent before our reply.
    fn leftover(&self) -> Vec<u8> {
        self.buf[..self.have].to_vec()
    }

    fn message<T>(
        &mut self,
        s: &mut dyn Stream,
        deadline: Instant,
        parse: fn(&[u8]) -> Result<Parsed<T>, ParseError>,
    ) -> Result<T, HsError> {
        loop {
            match parse(&self.buf[..self.have]).map_err(HsError::Parse)? {
                Parsed::Done(m, used) => {
                    self.buf.copy_within(used..self.have, 0);
                    self.have -= used;
                    return Ok(m);
                }
                Parsed::Incomplete(_) => {}
            }
            if self.have == self.buf.len() {
                // Cannot happen: a greeting and a request fit; kept as a bound.
                return Err(HsError::Closed);
            }
            let left = deadline.saturating_duration_since(clock());
            if left.is_zero() {
                return Err(HsError::Timeout);
            }
            s.set_read_timeout(Some(left)).map_err(HsError::Io)?;
            match s.read(&mut self.buf[self.have..]) {
                Ok(0) => return Err(HsError::Closed),
                Ok(n) => self.have += n,
                Err(e) if timed_out(&e) => return Err(HsError::Timeout),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(HsError::Io(e)),
            }
        }
    }
}

// ----- TCP relay ------------------------------------------------------------------------

/// Copies both ways until both have ended (each end's EOF is passed on as a
/// half-close), an error, or `idle` without data. Bytes up (client to target), down, and
/// whether the idle timeout ended it.
fn relay_tcp(
    client: Box<dyn Stream>,
    target: Box<dyn Stream>,
    idle: Duration,
) -> io::Result<(u64, u64, bool)> {
    let client_w = client.try_clone()?;
    let target_r = target.try_clone()?;
    let state = Arc::new(RelayState {
        stop: AtomicBool::new(false),
        last: AtomicU64::new(0),
        start: clock(),
        up: AtomicU64::new(0),
        down: AtomicU64::new(0),
    });
    let st = Arc::clone(&state);
    let down = std::thread::Builder::new()
        .stack_size(THREAD_STACK)
        .spawn(move || pump(target_r, client_w, &st, idle, false))?;
    let idle_up = pump(client, target, &state, idle, true);
    let idle_down = down.join().unwrap_or(true);
    Ok((
        state.up.load(Ordering::SeqCst),
        state.down.load(Ordering::SeqCst),
        idle_up || idle_down,
    ))
}

/// One direction of a TCP relay; true when it ended for idleness.
fn pump(
    mut from: Box<dyn Stream>,
    mut to: Box<dyn Stream>,
    st: &RelayState,
    idle: Duration,
    up: bool,
) -> bool {
    let mut buf = vec![0u8; TCP_BUF];
    let _ = from.set_read_timeout(Some(tick(idle)));
    let _ = to.set_write_timeout(Some(idle));
    let counter = if up { &st.up } else { &st.down };
    loop {
        if st.stop.load(Ordering::SeqCst) {
            return false;
        }
        match from.read(&mut buf) {
            Ok(0) => {
                let _ = to.shutdown_write();
                return false;
            }
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    st.stop.store(true, Ordering::SeqCst);
                    return false;
                }
                counter.fetch_add(n as u64, Ordering::SeqCst);
                st.touch();
            }
            Err(e) if timed_out(&e) => {
                if st.idle_for() >= idle {
                    st.stop.store(true, Ordering::SeqCst);
                    return true;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => {
                st.stop.store(true, Ordering::SeqCst);
                return false;
            }
        }
    }
}

// ----- UDP relay ------------------------------------------------------------------------

/// What the threads of one relay (TCP or UDP) share.
struct RelayState {
    stop: AtomicBool,
    /// Milliseconds from `start` to the last datagram or segment relayed.
    last: AtomicU64,
    start: Instant,
    up: AtomicU64,
    down: AtomicU64,
}

impl RelayState {
    fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(ms, Ordering::SeqCst);
    }

    fn idle_for(&self) -> Duration {
        self.start
            .elapsed()
            .saturating_sub(Duration::from_millis(self.last.load(Ordering::SeqCst)))
    }

    /// The receive wait: short while datagrams flow, since a sender waits for the
    /// receiver's lock; longer once the relay has been quiet for a second.
    fn wait(&self) -> Duration {
        if self.idle_for() < Duration::from_secs(1) {
            Duration::from_millis(2)
        } else {
            Duration::from_millis(50)
        }
    }
}

/// A datagram socket used from two threads: one receives on it, the other sends. The
/// [`Datagram`] trait has no `try_clone`, so receives hold the lock for a short wait only.
struct Shared {
    sock: Mutex<Box<dyn Datagram>>,
    wait: Mutex<Option<Duration>>,
}

impl Shared {
    fn new(s: Box<dyn Datagram>) -> Self {
        Self {
            sock: Mutex::new(s),
            wait: Mutex::new(None),
        }
    }

    fn recv(&self, buf: &mut [u8], wait: Duration) -> io::Result<Option<(usize, SocketAddr)>> {
        let s = self.sock.lock().unwrap_or_else(|p| p.into_inner());
        let mut w = self.wait.lock().unwrap_or_else(|p| p.into_inner());
        if *w != Some(wait) {
            s.set_read_timeout(Some(wait))?;
            *w = Some(wait);
        }
        drop(w);
        match s.recv_from(buf) {
            Ok(x) => Ok(Some(x)),
            Err(e) if timed_out(&e) || e.kind() == io::ErrorKind::Interrupted => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn send(&self, buf: &[u8], to: SocketAddr) -> io::Result<usize> {
        let s = self.sock.lock().unwrap_or_else(|p| p.into_inner());
        s.send_to(buf, to)
    }
}

fn same_ip(a: IpAddr, b: IpAddr) -> bool {
    let canon = |ip: IpAddr| match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    canon(a) == canon(b)
}

/// Client to targets: unwrap the §7 header, resolve, send.
fn udp_up(
    inside: &Shared,
    outside: &Shared,
    st: &RelayState,
    client: &Mutex<Option<SocketAddr>>,
    client_ip: IpAddr,
    outbound: &dyn Net,
    ipv4: bool,
) {
    let mut buf = vec![0u8; UDP_BUF];
    // The last name resolved, so that a stream of datagrams to one name asks once.
    let mut cache: Option<(String, u16, SocketAddr)> = None;
    while !st.stop.load(Ordering::SeqCst) {
        let (n, from) = match inside.recv(&mut buf, st.wait()) {
            Ok(Some(x)) => x,
            Ok(None) => continue,
            Err(_) => break,
        };
        {
            let mut c = client.lock().unwrap_or_else(|p| p.into_inner());
            match *c {
                Some(known) if known.port() != from.port() || !same_ip(known.ip(), from.ip()) => {
                    continue;
                }
                Some(_) => {}
                None if same_ip(from.ip(), client_ip) => *c = Some(from),
                None => continue,
            }
        }
        let Some((h, at)) = wire::parse_udp(&buf[..n]) else {
            continue;
        };
        if h.frag != 0 {
            continue;
        }
        let to = match h.addr {
            Addr::Ip(ip) if !ipv4 && is_v4(ip) => continue,
            Addr::Ip(ip) => SocketAddr::new(ip, h.port),
            Addr::Domain(name) => match &cache {
                Some((cn, cp, a)) if *cn == name && *cp == h.port => *a,
                _ => {
                    let Ok(all) = outbound.resolve(&name, h.port) else {
                        continue;
                    };
                    let Some(a) = all.into_iter().find(|a| ipv4 || !is_v4(a.ip())) else {
                        continue;
                    };
                    cache = Some((name, h.port, a));
                    a
                }
            },
        };
        // The outbound socket is IPv6; an IPv4 target (kernel only) goes as IPv4-mapped.
        let to = match to {
            SocketAddr::V4(v4) => SocketAddr::new(IpAddr::V6(v4.ip().to_ipv6_mapped()), v4.port()),
            v6 => v6,
        };
        if outside.send(&buf[at..n], to).is_ok() {
            st.up.fetch_add((n - at) as u64, Ordering::SeqCst);
            st.touch();
        }
    }
}

/// Targets to the client: wrap in the §7 header with the sender's address.
fn udp_down(
    inside: &Shared,
    outside: &Shared,
    st: &RelayState,
    client: &Mutex<Option<SocketAddr>>,
) {
    let mut buf = vec![0u8; UDP_BUF];
    while !st.stop.load(Ordering::SeqCst) {
        let (n, from) = match outside.recv(&mut buf, st.wait()) {
            Ok(Some(x)) => x,
            Ok(None) => continue,
            Err(_) => break,
        };
        let Some(to) = *client.lock().unwrap_or_else(|p| p.into_inner()) else {
            continue;
        };
        let d = wire::build_udp(from, &buf[..n]);
        if inside.send(&d, to).is_ok() {
            st.down.fetch_add(n as u64, Ordering::SeqCst);
            st.touch();
        }
    }
}

// ----- the log --------------------------------------------------------------------------

/// One connection, as logged when it ends.
#[derive(Debug, Clone)]
pub struct Record {
    pub client: SocketAddr,
    pub command: Option<Command>,
    /// As the client named it: `[2001:db8::1]:80`, `example.org:443`.
    pub target: Option<String>,
    /// The address connected to (CONNECT) or the relay's address (UDP ASSOCIATE).
    pub address: Option<SocketAddr>,
    pub reply: Option<Reply>,
    pub up: u64,
    pub down: u64,
    pub start: Instant,
    pub seconds: f64,
    pub error: Option<String>,
}

impl Record {
    pub fn new(client: SocketAddr) -> Self {
        Self {
            client,
            command: None,
            target: None,
            address: None,
            reply: None,
            up: 0,
            down: 0,
            start: clock(),
            seconds: 0.0,
            error: None,
        }
    }

    fn finish(&mut self, p: &Proxy) {
        self.seconds = self.start.elapsed().as_secs_f64();
        p.log(self);
    }

    /// `socks: [::1]:50312 connect example.org:80 via [2001:db8::1]:80: succeeded, 78 bytes
    /// up, 1234 bytes down, 0.012 s`, or the JSON object with the same fields.
    pub fn render(&self, json: bool) -> String {
        if json {
            return serde_json::json!({
                "client": self.client.to_string(),
                "command": self.command.map(Command::name),
                "target": self.target,
                "address": self.address.map(|a| a.to_string()),
                "reply": self.reply.map(Reply::name),
                "code": self.reply.map(Reply::code),
                "bytes_up": self.up,
                "bytes_down": self.down,
                "seconds": (self.seconds * 1000.0).round() / 1000.0,
                "error": self.error,
            })
            .to_string();
        }
        let mut l = format!("socks: {}", self.client);
        if let Some(c) = self.command {
            l.push(' ');
            l.push_str(c.name());
        }
        if let Some(t) = &self.target {
            l.push(' ');
            l.push_str(t);
        }
        if let Some(a) = self.address {
            l.push_str(&format!(" via {a}"));
        }
        l.push(':');
        if let Some(r) = self.reply {
            l.push_str(&format!(" {}", r.name()));
            if r != Reply::Succeeded {
                l.push_str(&format!(" ({:#04x})", r.code()));
            }
            l.push(',');
        }
        if let Some(e) = &self.error {
            l.push_str(&format!(" {e},"));
        }
        l.push_str(&format!(
            " {} bytes up, {} bytes down, {:.3} s",
            self.up, self.down, self.seconds
        ));
        l
    }
}

#[cfg(test)]
mod tests;
