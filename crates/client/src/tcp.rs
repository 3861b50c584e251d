//! `TcpStream` and `TcpListener`, blocking, in the shape of `std::net`.
//!
//! A stream holds two connections to the daemon: one for requests about the socket
//! (options, status, close), and one that carries the connection's bytes as they are
//! ([`sixstack_api::Op::StreamAttach`]), so reading and writing are plain reads and
//! writes on a Unix stream, with the daemon's backpressure behind them. When the
//! daemon ends the byte stream, the control connection says whether it ended well
//! (the peer's FIN: `read` returns 0) or not (reset, time-out: an error).

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sixstack_api::{
    Body, Endpoint, MAX_LINE, Op, PROTOCOL_VERSION, Reply, Request, Response, SocketId,
    TcpConnectionInfo, TcpInfo, TcpStatusInfo, decode_line, encode_line,
};

use crate::addr::{SocketAddr, ToSocketAddrs, zone_of};
use crate::conn::{Connection, control_path, io_kind, to_io, unexpected};

/// How long past a connect or accept timeout we wait for the daemon's own answer.
const GRACE: Duration = Duration::from_secs(5);
/// The longest answer line read byte by byte while attaching a stream.
const ATTACH_LINE: usize = 64 * 1024;

fn endpoint(e: &Endpoint) -> SocketAddr {
    SocketAddr::with_zone(e.address, zone_of(e.zone.as_deref()), e.port)
}

fn millis(t: Duration) -> u64 {
    t.as_millis().min(u128::from(u64::MAX)) as u64
}

#[derive(Debug)]
struct Shared {
    ctl: Mutex<Connection>,
    socket: SocketId,
    local: SocketAddr,
    peer: SocketAddr,
    /// The end of the stream was checked with the daemon once and was clean.
    clean_eof: AtomicBool,
}

impl Shared {
    fn call(&self, op: Op) -> io::Result<Reply> {
        let mut g = self.ctl.lock().unwrap_or_else(|p| p.into_inner());
        g.call(op)
    }

    fn status(&self) -> io::Result<TcpStatusInfo> {
        match self.call(Op::TcpStatus {
            socket: self.socket,
        })? {
            Reply::TcpStatus(s) => Ok(s),
            r => Err(unexpected(&r)),
        }
    }

    /// The connection's error, if it failed.
    fn failure(&self) -> Option<io::Error> {
        let s = self.status().ok()?;
        let why = s.error?;
        let kind = s
            .error_kind
            .map_or(io::ErrorKind::ConnectionAborted, io_kind);
        Some(io::Error::new(kind, why))
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Graceful: the daemon closes the socket once the stream gave it everything
        // written; closing our connections would do the same, this says it first.
        let g = self.ctl.get_mut().unwrap_or_else(|p| p.into_inner());
        let _ = g.send(Op::Close {
            socket: self.socket,
        });
    }
}

/// A TCP connection through the sixstack daemon.
///
/// ```no_run
/// use std::io::{Read, Write};
/// use sixstack_client::TcpStream;
/// let mut s = TcpStream::connect("[2001:db8::1]:80")?;
/// s.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
/// let mut page = Vec::new();
/// s.read_to_end(&mut page)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct TcpStream {
    shared: Arc<Shared>,
    data: UnixStream,
}

impl TcpStream {
    /// Connects to the first address that answers, in order.
    pub fn connect(addr: impl ToSocketAddrs) -> io::Result<Self> {
        let mut last = io::Error::new(io::ErrorKind::NotFound, "no address to connect to");
        for a in addr.to_socket_addrs()? {
            match Self::connect_at(&control_path(), &a, None) {
                Ok(s) => return Ok(s),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    pub fn connect_timeout(addr: &SocketAddr, timeout: Duration) -> io::Result<Self> {
        if timeout.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "cannot set a 0 duration timeout",
            ));
        }
        Self::connect_at(&control_path(), addr, Some(timeout))
    }

    /// As `connect`, through the daemon at `control`.
    pub fn connect_at(
        control: &Path,
        addr: &SocketAddr,
        timeout: Option<Duration>,
    ) -> io::Result<Self> {
        let mut ctl = Connection::open_at(control, "sixstack-client tcp")?;
        let op = Op::TcpConnect {
            address: addr.ip,
            zone: addr.zone_text(),
            port: addr.port,
            nodelay: None,
            timeout_ms: timeout.map(millis),
        };
        let info = match ctl.call_within(op, timeout.map(|t| t + GRACE))? {
            Reply::TcpConnection(i) => i,
            r => return Err(unexpected(&r)),
        };
        Self::attach(control, ctl, info)
    }

    fn attach(control: &Path, ctl: Connection, info: TcpConnectionInfo) -> io::Result<Self> {
        let data = open_stream(control, info.token)?;
        Ok(Self {
            shared: Arc::new(Shared {
                ctl: Mutex::new(ctl),
                socket: info.socket,
                local: endpoint(&info.local),
                peer: endpoint(&info.peer),
                clean_eof: AtomicBool::new(false),
            }),
            data,
        })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.shared.local)
    }

    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.shared.peer)
    }

    /// `Write`: FIN after what was written (reading goes on); `Read`: what arrives
    /// later is dropped; `Both`.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.data.shutdown(how)
    }

    pub fn try_clone(&self) -> io::Result<Self> {
        Ok(Self {
            shared: self.shared.clone(),
            data: self.data.try_clone()?,
        })
    }

    /// None: block. A read that times out fails with `WouldBlock`.
    pub fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        self.data.set_read_timeout(t)
    }

    pub fn set_write_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        self.data.set_write_timeout(t)
    }

    pub fn read_timeout(&self) -> io::Result<Option<Duration>> {
        self.data.read_timeout()
    }

    pub fn write_timeout(&self) -> io::Result<Option<Duration>> {
        self.data.write_timeout()
    }

    pub fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        self.data.set_nonblocking(on)
    }

    /// TCP_NODELAY: Nagle off (true) or on.
    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.option(Some(on), None)
    }

    /// SO_KEEPALIVE.
    pub fn set_keepalive(&self, on: bool) -> io::Result<()> {
        self.option(None, Some(on))
    }

    fn option(&self, nodelay: Option<bool>, keepalive: Option<bool>) -> io::Result<()> {
        match self.shared.call(Op::TcpSetOption {
            socket: self.shared.socket,
            nodelay,
            keepalive,
        })? {
            Reply::Done => Ok(()),
            r => Err(unexpected(&r)),
        }
    }

    /// The connection's state as the stack sees it now.
    pub fn status(&self) -> io::Result<TcpStatusInfo> {
        self.shared.status()
    }

    /// The connection's variables: state, cwnd, ssthresh, srtt, rto, retransmissions ...
    pub fn tcp_info(&self) -> io::Result<TcpInfo> {
        match self.shared.call(Op::TcpShow {
            socket: Some(self.shared.socket),
        })? {
            Reply::Tcp { connections } => connections.into_iter().next().ok_or_else(|| {
                io::Error::new(io::ErrorKind::NotConnected, "the connection is gone")
            }),
            r => Err(unexpected(&r)),
        }
    }

    /// The error that ended the connection, if it failed.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        Ok(self.shared.failure())
    }

    fn read_end(&self) -> io::Result<usize> {
        if self.shared.clean_eof.load(Ordering::Acquire) {
            return Ok(0);
        }
        match self.shared.failure() {
            Some(e) => Err(e),
            None => {
                self.shared.clean_eof.store(true, Ordering::Release);
                Ok(0)
            }
        }
    }

    fn write_failed(&self, e: io::Error) -> io::Error {
        match e.kind() {
            io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset => {
                self.shared.failure().unwrap_or(e)
            }
            _ => e,
        }
    }
}

impl Read for &TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match (&self.data).read(buf) {
            Ok(0) if !buf.is_empty() => self.read_end(),
            Ok(n) => Ok(n),
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                Err(self.shared.failure().unwrap_or(e))
            }
            Err(e) => Err(e),
        }
    }
}

impl Read for TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self).read(buf)
    }
}

impl Write for &TcpStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&self.data).write(buf).map_err(|e| self.write_failed(e))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Write for TcpStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A listening TCP socket of the daemon.
#[derive(Debug)]
pub struct TcpListener {
    ctl: Mutex<Connection>,
    socket: SocketId,
    local: SocketAddr,
    control: PathBuf,
    nonblocking: AtomicBool,
}

impl TcpListener {
    /// `[::]:0` listens on every address, on an ephemeral port.
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<Self> {
        Self::bind_at(&control_path(), addr)
    }

    pub fn bind_at(control: &Path, addr: impl ToSocketAddrs) -> io::Result<Self> {
        let a = crate::addr::first(addr)?;
        let mut ctl = Connection::open_at(control, "sixstack-client tcp listener")?;
        let (socket, local) = match ctl.call(Op::TcpListen {
            address: Some(a.ip),
            zone: a.zone_text(),
            port: a.port,
        })? {
            Reply::TcpListening { socket, local } => (socket, endpoint(&local)),
            r => return Err(unexpected(&r)),
        };
        Ok(Self {
            ctl: Mutex::new(ctl),
            socket,
            local,
            control: control.to_path_buf(),
            nonblocking: AtomicBool::new(false),
        })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local)
    }

    /// The next connection; in non-blocking mode `WouldBlock` when none is ready.
    pub fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let wait = if self.nonblocking.load(Ordering::Acquire) {
            Some(Duration::ZERO)
        } else {
            None
        };
        self.accept_within(wait)
    }

    /// Waits at most `wait` (None: without limit) for a connection (`TimedOut`).
    pub fn accept_within(&self, wait: Option<Duration>) -> io::Result<(TcpStream, SocketAddr)> {
        let info = {
            let mut g = self.ctl.lock().unwrap_or_else(|p| p.into_inner());
            match g.call_within(
                Op::TcpAccept {
                    socket: self.socket,
                    timeout_ms: wait.map(millis),
                },
                wait.map(|w| w + GRACE),
            )? {
                Reply::TcpConnection(i) => i,
                r => return Err(unexpected(&r)),
            }
        };
        // The connection moves to a control connection of its own, so that it outlives
        // this listener.
        let mut ctl = Connection::open_at(&self.control, "sixstack-client tcp")?;
        let info = match ctl.call(Op::TcpAdopt { token: info.token })? {
            Reply::TcpConnection(i) => i,
            r => return Err(unexpected(&r)),
        };
        let s = TcpStream::attach(&self.control, ctl, info)?;
        let peer = s.shared.peer;
        Ok((s, peer))
    }

    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { l: self }
    }

    pub fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        self.nonblocking.store(on, Ordering::Release);
        Ok(())
    }

    /// Established connections waiting for `accept`.
    pub fn pending(&self) -> io::Result<usize> {
        let mut g = self.ctl.lock().unwrap_or_else(|p| p.into_inner());
        match g.call(Op::TcpStatus {
            socket: self.socket,
        })? {
            Reply::TcpStatus(s) => Ok(s.pending_accepts),
            r => Err(unexpected(&r)),
        }
    }
}

impl Drop for TcpListener {
    fn drop(&mut self) {
        let g = self.ctl.get_mut().unwrap_or_else(|p| p.into_inner());
        let _ = g.send(Op::Close {
            socket: self.socket,
        });
    }
}

/// The connections of a listener, as `std::net::Incoming`.
#[derive(Debug)]
pub struct Incoming<'a> {
    l: &'a TcpListener,
}

impl Iterator for Incoming<'_> {
    type Item = io::Result<TcpStream>;

    fn next(&mut self) -> Option<Self::Item> {
        Some(self.l.accept().map(|(s, _)| s))
    }
}

/// Every TCP connection of the daemon with its variables (`sixstack tcp show`).
pub fn tcp_connections(conn: &mut Connection) -> io::Result<Vec<TcpInfo>> {
    match conn.call(Op::TcpShow { socket: None })? {
        Reply::Tcp { connections } => Ok(connections),
        r => Err(unexpected(&r)),
    }
}

/// A new connection to the daemon, turned into the byte stream of the TCP connection
/// `token`. The answers are read a byte at a time: what follows the last one is the
/// connection's data.
fn open_stream(control: &Path, token: u64) -> io::Result<UnixStream> {
    let mut s = UnixStream::connect(control).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "cannot reach the sixstack daemon at {}: {e}",
                control.display()
            ),
        )
    })?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let hello = Op::Hello {
        version: PROTOCOL_VERSION,
        client: "sixstack-client tcp stream".into(),
    };
    for (id, op) in [(1, hello), (2, Op::StreamAttach { token })] {
        s.write_all(&encode_line(&Request { id, op }))?;
        let r = read_answer(&mut s, id)?;
        r.into_result().map_err(to_io)?;
    }
    s.set_read_timeout(None)?;
    Ok(s)
}

fn read_answer(s: &mut UnixStream, id: u64) -> io::Result<Response> {
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    loop {
        if s.read(&mut b)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "the sixstack daemon closed the connection while attaching a stream",
            ));
        }
        line.push(b[0]);
        if b[0] == b'\n' {
            break;
        }
        if line.len() > ATTACH_LINE.min(MAX_LINE) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the sixstack daemon sent too long an answer",
            ));
        }
    }
    let r: Response = decode_line(&line)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
    if r.id != id || matches!(r.body, Body::Event(_)) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "the sixstack daemon answered another request while attaching a stream",
        ));
    }
    Ok(r)
}
