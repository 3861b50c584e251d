//! One connection to the daemon's Unix socket: requests out, answers matched by id.

use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sixstack_api::{
    ApiError, Body, CONTROL_ENV, DEFAULT_CONTROL_PATH, ErrorKind, MAX_LINE, Op, PROTOCOL_VERSION,
    Reply, Request, Response, decode_line, encode_line,
};

/// Where the daemon listens: `$SIXSTACK_CONTROL`, else `/run/sixstack.sock`.
pub fn control_path() -> PathBuf {
    match std::env::var_os(CONTROL_ENV) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(DEFAULT_CONTROL_PATH),
    }
}

/// A connection to the daemon. Every socket of this crate holds its own, so that the
/// daemon closes the socket when the connection goes, whatever the client did.
#[derive(Debug)]
pub struct Connection {
    path: PathBuf,
    writer: UnixStream,
    reader: BufReader<UnixStream>,
    next_id: u64,
    /// Answers and events read while another answer was awaited.
    early: VecDeque<Response>,
    /// The daemon's name and version from its hello.
    daemon: String,
}

impl Connection {
    /// Connects to [`control_path`] and says hello as `client` ("sixstack ping6").
    pub fn open(client: &str) -> io::Result<Self> {
        Self::open_at(&control_path(), client)
    }

    pub fn open_at(path: &Path, client: &str) -> io::Result<Self> {
        let stream = UnixStream::connect(path).map_err(|e| unreachable(path, e))?;
        let reader = BufReader::new(stream.try_clone()?);
        let mut c = Self {
            path: path.to_path_buf(),
            writer: stream,
            reader,
            next_id: 1,
            early: VecDeque::new(),
            daemon: String::new(),
        };
        let hello = Op::Hello {
            version: PROTOCOL_VERSION,
            client: client.to_string(),
        };
        match c.call(hello)? {
            Reply::Hello { daemon, .. } => c.daemon = daemon,
            other => return Err(unexpected(&other)),
        }
        Ok(c)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// "sixstack 0.1.0", as the daemon said.
    pub fn daemon(&self) -> &str {
        &self.daemon
    }

    /// Sends `op` and waits for its answer. An error answer becomes an [`io::Error`]
    /// that carries the [`ApiError`] (see [`api_error`]).
    pub fn call(&mut self, op: Op) -> io::Result<Reply> {
        self.call_within(op, None)
    }

    /// As [`Connection::call`], giving up (TimedOut) when no answer came within `wait`.
    pub fn call_within(&mut self, op: Op, wait: Option<Duration>) -> io::Result<Reply> {
        let id = self.send(op)?;
        let r = self.answer(id, wait)?;
        r.into_result().map_err(to_io)
    }

    /// Sends a request without waiting; returns its id.
    pub fn send(&mut self, op: Op) -> io::Result<u64> {
        let id = self.next_id;
        self.next_id += 1;
        let line = encode_line(&Request { id, op });
        self.writer
            .write_all(&line)
            .map_err(|e| self.gone(e, "sending a request"))?;
        Ok(id)
    }

    /// The next answer or event, in the order the daemon sent them.
    pub fn next_response(&mut self, wait: Option<Duration>) -> io::Result<Response> {
        if let Some(r) = self.early.pop_front() {
            return Ok(r);
        }
        self.read_response(wait)
    }

    fn answer(&mut self, id: u64, wait: Option<Duration>) -> io::Result<Response> {
        if let Some(i) = self
            .early
            .iter()
            .position(|r| r.id == id && !matches!(r.body, Body::Event(_)))
        {
            return Ok(self.early.remove(i).unwrap_or_else(|| unreachable!()));
        }
        loop {
            let r = self.read_response(wait)?;
            if r.id == id && !matches!(r.body, Body::Event(_)) {
                return Ok(r);
            }
            if self.early.len() >= 4096 {
                self.early.pop_front();
            }
            self.early.push_back(r);
        }
    }

    fn read_response(&mut self, wait: Option<Duration>) -> io::Result<Response> {
        self.reader
            .get_ref()
            .set_read_timeout(wait.map(|w| w.max(Duration::from_millis(1))))?;
        let mut line = Vec::new();
        let n = (&mut self.reader)
            .take(MAX_LINE as u64)
            .read_until(b'\n', &mut line)
            .map_err(|e| match e.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the sixstack daemon did not answer in time",
                ),
                _ => self.gone(e, "reading an answer"),
            })?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                format!(
                    "the sixstack daemon at {} closed the connection (did it stop?)",
                    self.path.display()
                ),
            ));
        }
        if line.last() != Some(&b'\n') {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the sixstack daemon sent a line longer than the protocol allows",
            ));
        }
        decode_line(&line).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("the sixstack daemon sent something this client does not understand: {e} (are both the same version?)"),
            )
        })
    }

    fn gone(&self, e: io::Error, doing: &str) -> io::Error {
        io::Error::new(
            e.kind(),
            format!(
                "lost the sixstack daemon at {} while {doing}: {e}",
                self.path.display()
            ),
        )
    }
}

/// The error every client command shows when the daemon cannot be reached.
fn unreachable(path: &Path, e: io::Error) -> io::Error {
    let hint = match e.kind() {
        io::ErrorKind::PermissionDenied => {
            "run as a user that may open it (root), or start the daemon with --control at a path you can reach"
        }
        _ => "start it with `sixstack run --tap tap0` or set SIXSTACK_CONTROL",
    };
    io::Error::new(
        e.kind(),
        format!(
            "cannot reach the sixstack daemon at {}: {e}: {hint}",
            path.display()
        ),
    )
}

/// An answer of a kind the request does not get.
pub(crate) fn unexpected(r: &Reply) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("unexpected answer from the sixstack daemon: {r:?}"),
    )
}

/// An [`ApiError`] as an [`io::Error`] of the nearest kind, carrying it.
pub fn to_io(e: ApiError) -> io::Error {
    io::Error::new(io_kind(e.kind), e)
}

/// The [`io::ErrorKind`] nearest to the daemon's.
pub fn io_kind(k: ErrorKind) -> io::ErrorKind {
    use io::ErrorKind as K;
    match k {
        ErrorKind::NoSuchInterface | ErrorKind::NoSuchSocket | ErrorKind::NotFound => K::NotFound,
        ErrorKind::NoRoute => K::HostUnreachable,
        ErrorKind::NoSourceAddress => K::AddrNotAvailable,
        ErrorKind::InterfaceDown => K::NetworkDown,
        ErrorKind::Invalid | ErrorKind::ZoneRequired | ErrorKind::TooBig => K::InvalidInput,
        ErrorKind::AddrInUse => K::AddrInUse,
        ErrorKind::WouldBlock => K::WouldBlock,
        ErrorKind::TimedOut => K::TimedOut,
        ErrorKind::NotConnected => K::NotConnected,
        ErrorKind::ConnectionRefused => K::ConnectionRefused,
        ErrorKind::ConnectionReset => K::ConnectionReset,
        ErrorKind::AlreadyExists => K::AlreadyExists,
        ErrorKind::HelloRequired | ErrorKind::VersionMismatch | ErrorKind::BadRequest => {
            K::Unsupported
        }
        ErrorKind::TableFull | ErrorKind::Host | ErrorKind::Other => K::Other,
    }
}

/// The daemon's error inside an [`io::Error`] from this crate, if it was one.
pub fn api_error(e: &io::Error) -> Option<&ApiError> {
    e.get_ref()?.downcast_ref::<ApiError>()
}
