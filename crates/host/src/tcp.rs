//! TCP for clients: the `tcp_*` operations, and streams — control connections that
//! carry a TCP connection's bytes ([`api::Op::StreamAttach`]).
//!
//! # Streams
//!
//! A client opens a TCP connection on one control connection (its owner: options,
//! status, close), then opens a second and attaches it with the connection's token. From
//! then on the loop moves bytes between that Unix stream and the stack, on its one task:
//!
//! - towards the peer: the stream's reader task reads only what the loop granted
//!   ([`Credit`]), and the loop grants only the room left in the TCP send buffer beyond
//!   what is already granted or on its way. The client's writes block when the peer
//!   (or the network) is slower: real backpressure, at most one send buffer in flight.
//! - towards the client: the loop takes bytes from the TCP receive buffer only while
//!   fewer than [`OUT_BUDGET`] bytes wait in the writer task's queue; the writer
//!   acknowledges each chunk once written. A client that reads slowly leaves the data in
//!   the stack, whose window then closes.
//! - the client's end of writing (shutdown or close) is `tcp_shutdown`: FIN after the
//!   data; the peer's FIN is the end of the daemon's writing side, after the data.
//! - a reset or a time-out closes the Unix stream; the owner's `tcp_status` says why.
//!
//! A TCP socket whose owner lets go (closes it, or its connection) while a stream is
//! attached lives until the stream's reader reaches its end, so nothing the client
//! wrote before closing is lost; then it closes gracefully. A stream whose connection
//! goes while its owner lives leaves the socket to the owner.

use std::net::Ipv6Addr;
use std::sync::Arc;

use sixstack_api as api;
use sixstack_api::{ApiError, ErrorKind, Reply, SocketId};
use sixstack_core::transport::tcp::{State, TcpInfo};
use sixstack_core::{IfaceId, SocketHandle};

use crate::conn::{ConnId, Credit, Out, STREAM_CHUNK};
use crate::daemon::{Daemon, PendingRecv, Wait};

/// Stream bytes queued towards one client, written or not, at most.
pub const OUT_BUDGET: usize = 256 * 1024;
/// While the writer is busy, less than this waits in the stack to go in one chunk.
const COALESCE: usize = 16 * 1024;
/// Smaller grants wait until more room appears (unless nothing is in flight).
const GRANT_MIN: usize = 4096;

/// A TCP connection handed to a client.
#[derive(Debug)]
pub(crate) struct TcpEntry {
    pub handle: SocketHandle,
    /// The connection and number it has there; None once released (see the module doc).
    pub owner: Option<(ConnId, SocketId)>,
    /// The connection carrying its bytes.
    pub stream: Option<ConnId>,
}

/// A control connection turned into a TCP connection's byte stream.
#[derive(Debug)]
pub(crate) struct Stream {
    pub token: u64,
    pub handle: SocketHandle,
    pub credit: Arc<Credit>,
    /// Granted to the reader and not arrived yet.
    pub outstanding: usize,
    /// Arrived and not taken by the stack yet.
    pub leftover: Vec<u8>,
    /// Given to the writer and not written yet.
    pub unacked: usize,
    /// The client ended its writing side.
    pub read_eof: bool,
    /// `tcp_shutdown` done.
    pub shut: bool,
    /// The peer's end passed on to the client.
    pub fin_sent: bool,
    /// The client does not read any more: what comes is dropped.
    pub write_dead: bool,
}

impl Stream {
    fn new(token: u64, handle: SocketHandle) -> Self {
        Self {
            token,
            handle,
            credit: Arc::new(Credit::default()),
            outstanding: 0,
            leftover: Vec::new(),
            unacked: 0,
            read_eof: false,
            shut: false,
            fin_sent: false,
            write_dead: false,
        }
    }
}

fn err(kind: ErrorKind, message: impl Into<String>) -> ApiError {
    ApiError {
        kind,
        message: message.into(),
    }
}

fn core_err(e: sixstack_core::Error) -> ApiError {
    err(crate::convert::error_kind(&e), e.to_string())
}

/// The kind of a connection's error, from the stack's words for it.
pub(crate) fn error_kind_of(why: &str) -> ErrorKind {
    if why.contains("refused") {
        ErrorKind::ConnectionRefused
    } else if why.contains("reset") {
        ErrorKind::ConnectionReset
    } else if why.contains("timed out") {
        ErrorKind::TimedOut
    } else if why.contains("unreachable") || why.contains("no route") {
        ErrorKind::NoRoute
    } else {
        ErrorKind::NotConnected
    }
}

/// What a stream needs after a pass.
enum After {
    Keep,
    /// Close the Unix stream (done, or the connection failed).
    Drop,
}

fn millis(ms: Option<u64>, now: sixstack_core::Instant) -> Option<sixstack_core::Instant> {
    ms.map(|ms| {
        sixstack_core::Instant::from_micros(
            now.total_micros().saturating_add(ms.saturating_mul(1000)),
        )
    })
}

/// SplitMix64: tokens that do not repeat and cannot be guessed from each other without
/// the daemon's key.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Daemon {
    // ----- operations ---------------------------------------------------------------------

    /// `tcp_connect`: answered later, when established or failed.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn tcp_connect_op(
        &mut self,
        c: ConnId,
        id: u64,
        address: Ipv6Addr,
        zone: Option<String>,
        port: u16,
        nodelay: Option<bool>,
        timeout_ms: Option<u64>,
    ) -> Result<(), ApiError> {
        let now = self.clock.now();
        let z = self.zone_of(zone.as_deref())?;
        if port == 0 {
            return Err(err(ErrorKind::Invalid, "TCP cannot connect to port 0"));
        }
        let h = self
            .stack
            .tcp_connect(now, address, port, z)
            .map_err(core_err)?;
        if let Some(on) = nodelay {
            let _ = self.stack.tcp_set_nodelay(h, on);
        }
        let socket = self.register_tcp(c, h, api::SocketKind::Tcp)?;
        self.pending.push(PendingRecv {
            conn: c,
            id,
            socket,
            deadline: millis(timeout_ms, now),
            wait: Wait::TcpConnect,
        });
        Ok(())
    }

    pub(crate) fn tcp_listen_op(
        &mut self,
        c: ConnId,
        address: Option<Ipv6Addr>,
        zone: Option<String>,
        port: u16,
    ) -> Result<Reply, ApiError> {
        let now = self.clock.now();
        let z = self.zone_of(zone.as_deref())?;
        let h = self
            .stack
            .tcp_listen(now, address.unwrap_or(Ipv6Addr::UNSPECIFIED), port, z)
            .map_err(core_err)?;
        let socket = self.register_tcp(c, h, api::SocketKind::TcpListener)?;
        let st = self
            .stack
            .tcp_status(h)
            .ok_or_else(|| err(ErrorKind::NoSuchSocket, "the listener vanished"))?;
        Ok(Reply::TcpListening {
            socket,
            local: self.endpoint(st.local.0, st.local.1, st.zone),
        })
    }

    /// `tcp_accept`: an answer now, or None when it waits.
    pub(crate) fn tcp_accept_op(
        &mut self,
        c: ConnId,
        id: u64,
        socket: SocketId,
        timeout_ms: Option<u64>,
    ) -> Option<api::Response> {
        match self.try_accept(c, socket) {
            Ok(r) => Some(api::Response::ok(id, r)),
            Err(e) if e.kind == ErrorKind::WouldBlock && timeout_ms != Some(0) => {
                let now = self.clock.now();
                self.pending.push(PendingRecv {
                    conn: c,
                    id,
                    socket,
                    deadline: millis(timeout_ms, now),
                    wait: Wait::TcpAccept,
                });
                None
            }
            Err(e) => Some(api::Response {
                id,
                body: api::Body::Error(e),
            }),
        }
    }

    pub(crate) fn tcp_adopt(&mut self, c: ConnId, token: u64) -> Result<Reply, ApiError> {
        let gone = || {
            err(
                ErrorKind::NotFound,
                "no TCP connection has this token (closed, or never handed out)",
            )
        };
        let e = self.tcp.get(&token).ok_or_else(gone)?;
        let (h, owner) = (e.handle, e.owner);
        let (oc, osid) = owner.ok_or_else(gone)?;
        if let Some(k) = self.conns.get_mut(&oc) {
            k.sockets.remove(&osid);
        }
        self.pending.retain(|p| !(p.conn == oc && p.socket == osid));
        let k = self
            .conns
            .get_mut(&c)
            .ok_or_else(|| err(ErrorKind::BadRequest, "connection closed"))?;
        let sid = SocketId(k.next_socket);
        k.next_socket += 1;
        k.sockets.insert(sid, (h, api::SocketKind::Tcp));
        if let Some(e) = self.tcp.get_mut(&token) {
            e.owner = Some((c, sid));
        }
        self.connection_info(sid, h, token)
    }

    pub(crate) fn tcp_set_option(
        &mut self,
        c: ConnId,
        socket: SocketId,
        nodelay: Option<bool>,
        keepalive: Option<bool>,
    ) -> Result<Reply, ApiError> {
        let now = self.clock.now();
        let h = self.tcp_socket(c, socket)?;
        if let Some(on) = nodelay {
            self.stack.tcp_set_nodelay(h, on).map_err(core_err)?;
        }
        if let Some(on) = keepalive {
            self.stack.tcp_set_keepalive(now, h, on).map_err(core_err)?;
        }
        Ok(Reply::Done)
    }

    pub(crate) fn tcp_status_op(&mut self, c: ConnId, socket: SocketId) -> Result<Reply, ApiError> {
        let h = self.tcp_socket(c, socket)?;
        let st = self
            .stack
            .tcp_status(h)
            .ok_or_else(|| err(ErrorKind::NoSuchSocket, "the TCP socket is gone"))?;
        let attached = self
            .tcp
            .values()
            .any(|e| e.handle == h && e.stream.is_some());
        Ok(Reply::TcpStatus(api::TcpStatusInfo {
            state: st.state.to_string(),
            local: self.endpoint(st.local.0, st.local.1, st.zone),
            peer: st.remote.map(|r| self.endpoint(r.0, r.1, st.zone)),
            readable: st.readable,
            eof: st.eof,
            send_space: st.send_space,
            error: st.error.map(String::from),
            error_kind: st.error.map(error_kind_of),
            pending_accepts: st.pending_accepts,
            attached,
        }))
    }

    pub(crate) fn tcp_show(
        &mut self,
        c: ConnId,
        socket: Option<SocketId>,
    ) -> Result<Reply, ApiError> {
        let only = match socket {
            Some(s) => Some(self.tcp_socket(c, s)?),
            None => None,
        };
        let mine: Vec<(SocketHandle, SocketId)> = self
            .conns
            .get(&c)
            .map(|k| k.sockets.iter().map(|(s, (h, _))| (*h, *s)).collect())
            .unwrap_or_default();
        let connections = self
            .stack
            .tcp_connections()
            .into_iter()
            .filter(|(h, _)| only.is_none() || *h == only)
            .map(|(h, info)| {
                let zone = h
                    .and_then(|h| self.stack.tcp_status(h))
                    .and_then(|s| s.zone);
                let socket = h.and_then(|h| mine.iter().find(|m| m.0 == h).map(|m| m.1));
                self.tcp_info(&info, zone, socket, h.is_none())
            })
            .collect();
        Ok(Reply::Tcp { connections })
    }

    pub(crate) fn stream_attach(&mut self, c: ConnId, token: u64) -> Result<Reply, ApiError> {
        let e = self.tcp.get(&token).ok_or_else(|| {
            err(
                ErrorKind::NotFound,
                "no TCP connection has this token (closed, or never handed out)",
            )
        })?;
        if e.stream.is_some() {
            return Err(err(
                ErrorKind::AlreadyExists,
                "this TCP connection has a stream already",
            ));
        }
        let h = e.handle;
        let k = self
            .conns
            .get_mut(&c)
            .ok_or_else(|| err(ErrorKind::BadRequest, "connection closed"))?;
        if k.stream.is_some() {
            return Err(err(
                ErrorKind::Invalid,
                "this connection is a stream already",
            ));
        }
        k.stream = Some(Stream::new(token, h));
        k.subscription = None;
        self.pending.retain(|p| p.conn != c);
        if let Some(e) = self.tcp.get_mut(&token) {
            e.stream = Some(c);
        }
        Ok(Reply::Done)
    }

    // ----- waiting operations ------------------------------------------------------------

    /// A connecting socket: established (the answer), failed (the error) or WouldBlock.
    pub(crate) fn try_connected(&mut self, c: ConnId, socket: SocketId) -> Result<Reply, ApiError> {
        let h = self.tcp_socket(c, socket)?;
        let st = self
            .stack
            .tcp_status(h)
            .ok_or_else(|| err(ErrorKind::NotConnected, "the connection closed"))?;
        if let Some(why) = st.error {
            return Err(err(error_kind_of(why), why));
        }
        if st.state.is_synchronized() {
            let token = self.token_of(h).unwrap_or(0);
            return self.connection_info(socket, h, token);
        }
        if st.state == State::Closed {
            return Err(err(ErrorKind::NotConnected, "the connection closed"));
        }
        Err(err(ErrorKind::WouldBlock, "not established yet"))
    }

    /// The next connection of a listener, as a new socket of `c`, or WouldBlock.
    pub(crate) fn try_accept(&mut self, c: ConnId, socket: SocketId) -> Result<Reply, ApiError> {
        let (lh, kind) = self.socket_of(c, socket)?;
        if kind != api::SocketKind::TcpListener {
            return Err(err(
                ErrorKind::Invalid,
                "tcp_accept is for listening sockets",
            ));
        }
        let now = self.clock.now();
        let h = self.stack.tcp_accept(now, lh).map_err(core_err)?;
        let sid = self.register_tcp(c, h, api::SocketKind::Tcp)?;
        let token = self.token_of(h).unwrap_or(0);
        self.connection_info(sid, h, token)
    }

    /// A connect that failed or timed out: the socket goes (reset when `abort`).
    pub(crate) fn forget_tcp(&mut self, c: ConnId, socket: SocketId, abort: bool) {
        let Some((h, _)) = self
            .conns
            .get_mut(&c)
            .and_then(|k| k.sockets.remove(&socket))
        else {
            return;
        };
        let now = self.clock.now();
        let _ = if abort {
            self.stack.tcp_abort(now, h)
        } else {
            self.stack.tcp_close(now, h)
        };
        self.tcp.retain(|_, e| e.handle != h);
    }

    /// The owner lets go of a TCP socket (close, or its connection went): closed now,
    /// or when its stream has delivered everything the client wrote.
    pub(crate) fn release_tcp(&mut self, h: SocketHandle) {
        if let Some(e) = self.tcp.values_mut().find(|e| e.handle == h)
            && e.stream.is_some()
        {
            e.owner = None;
            return;
        }
        self.tcp.retain(|_, e| e.handle != h);
        let now = self.clock.now();
        let _ = self.stack.tcp_close(now, h);
    }

    // ----- streams ------------------------------------------------------------------------

    pub(crate) fn stream_data(&mut self, c: ConnId, data: Vec<u8>) {
        let now = self.clock.now();
        let Some(st) = self.conns.get_mut(&c).and_then(|k| k.stream.as_mut()) else {
            return;
        };
        st.outstanding = st.outstanding.saturating_sub(data.len());
        if !st.leftover.is_empty() {
            st.leftover.extend_from_slice(&data);
            return;
        }
        // An error: the sending side is closed or reset; the status says so at the next
        // pass.
        if let Ok(n) = self.stack.tcp_send(now, st.handle, &data) {
            st.leftover.extend_from_slice(&data[n.min(data.len())..]);
        }
    }

    pub(crate) fn stream_eof(&mut self, c: ConnId) {
        if let Some(st) = self.conns.get_mut(&c).and_then(|k| k.stream.as_mut()) {
            st.read_eof = true;
        }
    }

    pub(crate) fn stream_wrote(&mut self, c: ConnId, n: usize) {
        if let Some(st) = self.conns.get_mut(&c).and_then(|k| k.stream.as_mut()) {
            st.unacked = st.unacked.saturating_sub(n);
        }
    }

    pub(crate) fn stream_write_failed(&mut self, c: ConnId) {
        if let Some(st) = self.conns.get_mut(&c).and_then(|k| k.stream.as_mut()) {
            st.write_dead = true;
        }
    }

    /// A stream's connection was dropped: a released socket closes now.
    pub(crate) fn stream_gone(&mut self, st: Stream) {
        let Some(e) = self.tcp.get_mut(&st.token) else {
            return;
        };
        e.stream = None;
        if e.owner.is_none() {
            let h = e.handle;
            self.tcp.remove(&st.token);
            let now = self.clock.now();
            let _ = self.stack.tcp_close(now, h);
        }
    }

    /// One pass over every stream: bytes both ways as far as room allows, ends and
    /// errors passed on.
    pub(crate) fn serve_streams(&mut self) {
        let ids: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, k)| k.stream.is_some())
            .map(|(c, _)| *c)
            .collect();
        for c in ids {
            if let After::Drop = self.serve_stream(c) {
                self.drop_conn(c);
            }
        }
    }

    fn serve_stream(&mut self, c: ConnId) -> After {
        let now = self.clock.now();
        let Some(k) = self.conns.get_mut(&c) else {
            return After::Keep;
        };
        let Some(st) = k.stream.as_mut() else {
            return After::Keep;
        };
        let h = st.handle;
        if !st.leftover.is_empty() {
            match self.stack.tcp_send(now, h, &st.leftover) {
                Ok(n) => {
                    st.leftover.drain(..n.min(st.leftover.len()));
                }
                Err(_) => st.leftover.clear(),
            }
        }
        if st.read_eof && st.leftover.is_empty() && !st.shut {
            let _ = self.stack.tcp_shutdown(now, h);
            st.shut = true;
        }
        let Some(status) = self.stack.tcp_status(h) else {
            return After::Drop;
        };
        if status.error.is_some() {
            return After::Drop;
        }
        // Towards the client.
        let mut readable = status.readable;
        let mut scratch = Vec::new();
        while readable > 0 {
            if st.write_dead {
                scratch.resize(readable.min(STREAM_CHUNK), 0);
                match self.stack.tcp_recv(now, h, &mut scratch) {
                    Ok(n) if n > 0 => readable = readable.saturating_sub(n),
                    _ => break,
                }
                continue;
            }
            let room = OUT_BUDGET.saturating_sub(st.unacked);
            if room == 0 || (st.unacked > 0 && readable < COALESCE && !status.eof) {
                break;
            }
            let mut buf = vec![0u8; readable.min(STREAM_CHUNK).min(room)];
            match self.stack.tcp_recv(now, h, &mut buf) {
                Ok(n) if n > 0 => {
                    buf.truncate(n);
                    if k.out.try_send(Out::Raw(buf)).is_err() {
                        return After::Drop;
                    }
                    st.unacked += n;
                    readable = readable.saturating_sub(n);
                }
                _ => break,
            }
        }
        if status.eof && readable == 0 && !st.fin_sent {
            if k.out.try_send(Out::Shutdown).is_err() {
                return After::Drop;
            }
            st.fin_sent = true;
        }
        // From the client: room in the send buffer beyond what is on its way.
        if !st.read_eof {
            let inflight = st.outstanding + st.leftover.len();
            let want = status.send_space.saturating_sub(inflight);
            if want >= GRANT_MIN || (inflight == 0 && want > 0) {
                st.credit.grant(want);
                st.outstanding += want;
            }
        }
        let released = self.tcp.get(&st.token).is_none_or(|e| e.owner.is_none());
        if st.read_eof && st.shut && (st.fin_sent || released) {
            return After::Drop;
        }
        After::Keep
    }

    // ----- helpers ------------------------------------------------------------------------

    fn register_tcp(
        &mut self,
        c: ConnId,
        h: SocketHandle,
        kind: api::SocketKind,
    ) -> Result<SocketId, ApiError> {
        let now = self.clock.now();
        let Some(k) = self.conns.get_mut(&c) else {
            let _ = self.stack.tcp_abort(now, h);
            return Err(err(ErrorKind::BadRequest, "connection closed"));
        };
        let sid = SocketId(k.next_socket);
        k.next_socket += 1;
        k.sockets.insert(sid, (h, kind));
        if kind == api::SocketKind::Tcp {
            let token = loop {
                let t = mix(self.token_key ^ self.next_token);
                self.next_token += 1;
                if t != 0 && !self.tcp.contains_key(&t) {
                    break t;
                }
            };
            self.tcp.insert(
                token,
                TcpEntry {
                    handle: h,
                    owner: Some((c, sid)),
                    stream: None,
                },
            );
        }
        Ok(sid)
    }

    fn token_of(&self, h: SocketHandle) -> Option<u64> {
        self.tcp
            .iter()
            .find(|(_, e)| e.handle == h)
            .map(|(t, _)| *t)
    }

    fn connection_info(
        &self,
        socket: SocketId,
        h: SocketHandle,
        token: u64,
    ) -> Result<Reply, ApiError> {
        let st = self
            .stack
            .tcp_status(h)
            .ok_or_else(|| err(ErrorKind::NotConnected, "the connection closed"))?;
        let peer = st
            .remote
            .ok_or_else(|| err(ErrorKind::NotConnected, "the connection has no peer"))?;
        Ok(Reply::TcpConnection(api::TcpConnectionInfo {
            socket,
            local: self.endpoint(st.local.0, st.local.1, st.zone),
            peer: self.endpoint(peer.0, peer.1, st.zone),
            token,
        }))
    }

    fn socket_of(
        &self,
        c: ConnId,
        s: SocketId,
    ) -> Result<(SocketHandle, api::SocketKind), ApiError> {
        self.conns
            .get(&c)
            .and_then(|k| k.sockets.get(&s))
            .copied()
            .ok_or_else(|| {
                err(
                    ErrorKind::NoSuchSocket,
                    format!("no socket {s} on this connection"),
                )
            })
    }

    fn tcp_socket(&self, c: ConnId, s: SocketId) -> Result<SocketHandle, ApiError> {
        match self.socket_of(c, s)? {
            (h, api::SocketKind::Tcp | api::SocketKind::TcpListener) => Ok(h),
            _ => Err(err(
                ErrorKind::Invalid,
                format!("socket {s} is not a TCP socket"),
            )),
        }
    }

    fn zone_of(&self, z: Option<&str>) -> Result<Option<IfaceId>, ApiError> {
        let Some(z) = z else {
            return Ok(None);
        };
        if let Some(i) = self.stack.interface_by_name(z) {
            return Ok(Some(i));
        }
        if let Ok(n) = z.parse::<u32>()
            && self.stack.interface(IfaceId(n)).is_some()
        {
            return Ok(Some(IfaceId(n)));
        }
        Err(err(
            ErrorKind::NoSuchInterface,
            format!("zone {z:?} names no interface (see `sixstack link show`)"),
        ))
    }

    /// An address with its zone when it needs one (link-local).
    fn endpoint(&self, address: Ipv6Addr, port: u16, zone: Option<IfaceId>) -> api::Endpoint {
        let scoped = address.segments()[0] & 0xffc0 == 0xfe80;
        api::Endpoint {
            address,
            port,
            zone: zone
                .filter(|_| scoped)
                .map(|z| self.names.get(&z).cloned().unwrap_or_else(|| z.to_string())),
        }
    }

    fn tcp_info(
        &self,
        i: &TcpInfo,
        zone: Option<IfaceId>,
        socket: Option<SocketId>,
        orphan: bool,
    ) -> api::TcpInfo {
        api::TcpInfo {
            state: i.state.to_string(),
            local: self.endpoint(i.tuple.local.0, i.tuple.local.1, zone),
            remote: self.endpoint(i.tuple.remote.0, i.tuple.remote.1, zone),
            socket,
            orphan,
            congestion_control: i.congestion_control.name().to_string(),
            cwnd: i.cwnd,
            ssthresh: i.ssthresh,
            in_recovery: i.in_recovery,
            srtt_us: i
                .srtt
                .map(|d| d.as_micros().min(u128::from(u64::MAX)) as u64),
            rttvar_us: i.rttvar.as_micros().min(u128::from(u64::MAX)) as u64,
            rto_ms: i.rto.as_millis().min(u128::from(u64::MAX)) as u64,
            backoff: i.backoff,
            retransmissions: i.retransmissions,
            timeouts: i.timeouts,
            fast_retransmits: i.fast_retransmits,
            mss: i.mss,
            path_mtu: i.path_mtu,
            snd_wnd: i.snd_wnd,
            rcv_wnd: i.rcv_wnd,
            snd_wscale: i.snd_wscale,
            rcv_wscale: i.rcv_wscale,
            timestamps: i.timestamps,
            sack: i.sack,
            nodelay: i.nodelay,
            iss: i.iss.0,
            irs: i.irs.0,
            snd_una: i.snd_una.0,
            snd_nxt: i.snd_nxt.0,
            snd_max: i.snd_max.0,
            rcv_nxt: i.rcv_nxt.0,
            bytes_in_flight: i.bytes_in_flight,
            send_buffered: i.send_buffered,
            recv_buffered: i.recv_buffered,
            ooo_bytes: i.ooo_bytes,
            bytes_acked: i.bytes_acked,
            bytes_received: i.bytes_received,
            segs_out: i.segs_out,
            segs_in: i.segs_in,
            challenge_acks: i.challenge_acks,
            last_error: i.last_error.map(|e| format!("{e:?}")),
        }
    }
}
