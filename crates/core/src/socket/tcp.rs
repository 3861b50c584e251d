//! TCP sockets: the glue between the stack and `transport::tcp`'s state machines. It owns
//! the table of connections and listeners (demultiplexing by four-tuple, then by port),
//! their timers (one ordered set of deadlines, so an idle connection costs nothing per
//! poll), ICMPv6 errors for connections (RFC 5927 checks, Packet Too Big to the MSS), the
//! RST for segments that match nothing (RFC 9293 §3.10.7.1), and the user calls.
//!
//! Limits: `StackConfig::max_tcp_connections` connections (listeners' half-open and
//! unaccepted ones are bounded by `TcpConfig`'s backlogs); a connect or an accepted
//! connection beyond it fails (`TableFull`) or is reset.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv6Addr;
use std::sync::Arc;

use sixstack_wire::addr::Ipv6AddrExt;
use sixstack_wire::ipv6;
use sixstack_wire::ipv6chain::Chain;
use sixstack_wire::proto::IpProtocol;
use sixstack_wire::tcp::{self, SeqNumber};
use sixstack_wire::udp::PseudoHeader;

use crate::iface::IfaceId;
use crate::ip::input::RxMeta;
use crate::ip::output::MIN_MTU;
use crate::socket::{EPHEMERAL, SocketHandle};
use crate::stack::{Error, Stack};
use crate::time::Instant;
use crate::transport::tcp::isn::IsnGenerator;
use crate::transport::tcp::{
    FourTuple, IcmpError as TcpIcmpError, Listener, ListenerStats, Segment, State, Tcb, TcpConfig,
    TcpEvent, TcpInfo, reset_for,
};

/// Zones of link-local peers a listener remembers for connections not yet accepted.
const MAX_LISTENER_ZONES: usize = 4096;

/// What the user of a TCP socket can learn without the research details of [`TcpInfo`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpStatus {
    pub state: State,
    pub local: (Ipv6Addr, u16),
    /// `None` for a listener.
    pub remote: Option<(Ipv6Addr, u16)>,
    pub zone: Option<IfaceId>,
    /// Bytes `tcp_recv` would return now.
    pub readable: usize,
    /// The peer's FIN arrived and everything before it was read.
    pub eof: bool,
    /// Bytes `tcp_send` would take now.
    pub send_space: usize,
    /// Bytes sent but not yet acknowledged, plus those not yet sent.
    pub send_queued: usize,
    /// Why the connection ended or cannot go on ("connection refused", "connection
    /// reset", "timed out", ...).
    pub error: Option<&'static str>,
    /// A listener's established connections waiting for `tcp_accept`.
    pub pending_accepts: usize,
}

/// RFC 4022 counters (tcp* of TCP-MIB).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpStats {
    pub active_opens: u64,
    pub passive_opens: u64,
    pub attempt_fails: u64,
    pub estab_resets: u64,
    pub in_segs: u64,
    pub out_segs: u64,
    pub retrans_segs: u64,
    pub in_errs: u64,
    pub out_rsts: u64,
}

#[derive(Debug)]
struct Conn {
    tcb: Tcb,
    zone: Option<IfaceId>,
    /// The user's handle; `None` once the user closed it (the connection finishes alone).
    handle: Option<SocketHandle>,
    error: Option<&'static str>,
    established: bool,
    closed: bool,
    /// The deadline this connection has in the table's timer set.
    timer: Option<Instant>,
    /// Retransmissions already added to the stack's counters.
    retrans_counted: u64,
}

#[derive(Debug)]
struct Listen {
    listener: Listener,
    zone: Option<IfaceId>,
    /// Interfaces of link-local peers, by four-tuple, for segments sent before accept.
    zones: BTreeMap<FourTuple, IfaceId>,
}

/// The TCP connections and listeners of a stack.
#[derive(Debug, Default)]
pub(crate) struct TcpTable {
    /// Boxed: a connection is over a kilobyte, and B-tree nodes are often half empty
    /// (entries appended in order split nodes in the middle), so inline they would cost
    /// about twice their size.
    conns: BTreeMap<u64, Box<Conn>>,
    by_tuple: BTreeMap<FourTuple, u64>,
    by_handle: BTreeMap<SocketHandle, u64>,
    listeners: BTreeMap<SocketHandle, Listen>,
    timers: BTreeSet<(Instant, u64)>,
    next_id: u64,
    isn: Option<IsnGenerator>,
    pub(crate) stats: TcpStats,
    /// Packets built by a flush before they are sent (empty between flushes).
    scratch: Vec<(Vec<u8>, bool)>,
    /// `StackConfig::tcp`, shared by every connection and listener (made at first use).
    config: Option<Arc<TcpConfig>>,
}

impl TcpTable {
    pub(crate) fn poll_at(&self) -> Option<Instant> {
        let conns = self.timers.first().map(|t| t.0);
        let listeners = self
            .listeners
            .values()
            .filter_map(|l| l.listener.poll_at())
            .min();
        match (conns, listeners) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.conns.len()
    }
}

fn tcp_error_of(e: TcpIcmpError) -> &'static str {
    match e {
        TcpIcmpError::DstUnreachable { code: 0 } => "no route to host",
        TcpIcmpError::DstUnreachable { code: 1 } => "administratively prohibited",
        TcpIcmpError::DstUnreachable { code: 3 } => "host unreachable",
        TcpIcmpError::DstUnreachable { code: 4 } => "connection refused",
        TcpIcmpError::DstUnreachable { .. } => "destination unreachable",
        TcpIcmpError::TimeExceeded { .. } => "time exceeded",
        TcpIcmpError::ParamProblem { .. } => "parameter problem",
    }
}

impl Stack {
    // ----- user calls ---------------------------------------------------------------

    /// A listening socket on `local` (`::` for any) and `port` (0: an ephemeral one).
    pub fn tcp_listen(
        &mut self,
        now: Instant,
        local: Ipv6Addr,
        port: u16,
        zone: Option<IfaceId>,
    ) -> Result<SocketHandle, Error> {
        self.now = self.now.max(now);
        if local.is_multicast() {
            return Err(Error::Invalid("TCP cannot listen on a multicast address"));
        }
        if !local.is_unspecified() && self.is_own_addr(&local).is_none() {
            return Err(Error::Invalid("not one of this node's addresses"));
        }
        if local.is_link_local_unicast() && zone.is_none() {
            return Err(Error::ZoneRequired);
        }
        let port = match port {
            0 => self.tcp_free_port(None).ok_or(Error::AddrInUse)?,
            p => p,
        };
        let clash = self.tcp.listeners.values().any(|l| {
            let (a, p) = l.listener.local();
            p == port && (a == local || a.is_unspecified() || local.is_unspecified())
        });
        if clash {
            return Err(Error::AddrInUse);
        }
        let mut secret = [0u8; 32];
        self.rng.fill_bytes(&mut secret);
        let listener = Listener::new(&self.tcp_config(), (local, port), secret);
        let h = self.sockets.new_handle();
        self.tcp.listeners.insert(
            h,
            Listen {
                listener,
                zone,
                zones: BTreeMap::new(),
            },
        );
        Ok(h)
    }

    /// An active open to `dst`, `port`: the SYN goes out at once; `tcp_status` says when
    /// the connection is established or why it failed.
    pub fn tcp_connect(
        &mut self,
        now: Instant,
        dst: Ipv6Addr,
        port: u16,
        zone: Option<IfaceId>,
    ) -> Result<SocketHandle, Error> {
        self.tcp_open(now, None, dst, port, zone)
    }

    /// An active open from a chosen local address and port (`::` or port 0: chosen as
    /// [`Stack::tcp_connect`] would), e.g. for a simultaneous open (RFC 9293 §3.5) where
    /// both ends connect to each other's known port. `AddrInUse` when the four-tuple is.
    pub fn tcp_connect_from(
        &mut self,
        now: Instant,
        local: (Ipv6Addr, u16),
        dst: Ipv6Addr,
        port: u16,
        zone: Option<IfaceId>,
    ) -> Result<SocketHandle, Error> {
        self.tcp_open(now, Some(local), dst, port, zone)
    }

    fn tcp_open(
        &mut self,
        now: Instant,
        local: Option<(Ipv6Addr, u16)>,
        dst: Ipv6Addr,
        port: u16,
        zone: Option<IfaceId>,
    ) -> Result<SocketHandle, Error> {
        self.now = self.now.max(now);
        if port == 0 {
            return Err(Error::Invalid("destination port 0"));
        }
        if dst.is_multicast() || dst.is_unspecified() {
            return Err(Error::Invalid("TCP needs a unicast destination"));
        }
        if self.tcp.conns.len() >= self.cfg.max_tcp_connections {
            return Err(Error::TableFull);
        }
        let (out, _) = match self.is_own_addr(&dst) {
            Some(i) if zone.is_none_or(|z| z == i) => (i, dst),
            _ => self.route(&dst, zone)?,
        };
        if !self.ifaces.get(&out).is_some_and(|i| i.up) {
            return Err(Error::InterfaceDown);
        }
        let (want_src, want_port) = local.unwrap_or((Ipv6Addr::UNSPECIFIED, 0));
        let src = if want_src.is_unspecified() {
            self.select_source(&dst, Some(out))
                .ok_or(Error::NoSourceAddress)?
        } else if self.is_own_addr(&want_src).is_some() && !want_src.is_multicast() {
            want_src
        } else {
            return Err(Error::Invalid("not one of this node's addresses"));
        };
        let lport = match want_port {
            0 => self
                .tcp_free_port(Some((src, (dst, port))))
                .ok_or(Error::AddrInUse)?,
            p => p,
        };
        let tuple = FourTuple {
            local: (src, lport),
            remote: (dst, port),
        };
        if self.tcp.by_tuple.contains_key(&tuple) {
            return Err(Error::AddrInUse);
        }
        let iss = self.tcp_isn(now, tuple);
        let ts_offset = self.rng.next_u32();
        let mut tcb = Tcb::connect(&self.tcp_config(), tuple, iss, ts_offset, now);
        tcb.set_path_mtu(self.tcp_path_mtu(&dst, out));
        let zone = zone.or(Some(out).filter(|_| dst.is_link_local_unicast()));
        let h = self.sockets.new_handle();
        let id = self.tcp_insert(tcb, zone, Some(h));
        self.tcp.stats.active_opens += 1;
        self.tcp_flush(now, id);
        Ok(h)
    }

    /// An established connection from a listener's queue (`WouldBlock` when none).
    pub fn tcp_accept(
        &mut self,
        now: Instant,
        listener: SocketHandle,
    ) -> Result<SocketHandle, Error> {
        self.now = self.now.max(now);
        let l = self
            .tcp
            .listeners
            .get_mut(&listener)
            .ok_or(Error::NoSuchSocket)?;
        let tcb = l.listener.accept().ok_or(Error::WouldBlock)?;
        let tuple = tcb.tuple();
        let zone = l.zones.remove(&tuple).or(l.zone);
        let h = self.sockets.new_handle();
        let id = self.tcp_insert(tcb, zone, Some(h));
        if let Some(c) = self.tcp.conns.get_mut(&id) {
            c.established = true;
        }
        self.tcp.stats.passive_opens += 1;
        self.tcp_flush(now, id);
        Ok(h)
    }

    /// Queues `data` for sending; returns how much the send buffer took (0 when full).
    pub fn tcp_send(&mut self, now: Instant, h: SocketHandle, data: &[u8]) -> Result<usize, Error> {
        self.now = self.now.max(now);
        let id = self.tcp_id(h)?;
        let c = self.tcp.conns.get_mut(&id).ok_or(Error::NoSuchSocket)?;
        if let Some(e) = c.error {
            return Err(Error::Tcp(e));
        }
        if !c.tcb.may_send() {
            return Err(Error::NotConnected);
        }
        let n = c.tcb.send(data);
        self.tcp_flush(now, id);
        Ok(n)
    }

    /// Reads received data: `Ok(0)` at the end of the stream, `WouldBlock` when nothing
    /// has arrived yet.
    pub fn tcp_recv(
        &mut self,
        now: Instant,
        h: SocketHandle,
        buf: &mut [u8],
    ) -> Result<usize, Error> {
        self.now = self.now.max(now);
        let id = self.tcp_id(h)?;
        let c = self.tcp.conns.get_mut(&id).ok_or(Error::NoSuchSocket)?;
        let n = c.tcb.recv(buf);
        if n == 0 {
            if c.tcb.is_eof() || buf.is_empty() {
                return Ok(0);
            }
            if let Some(e) = c.error {
                return Err(Error::Tcp(e));
            }
            if c.closed {
                return Ok(0);
            }
            return Err(Error::WouldBlock);
        }
        self.tcp_flush(now, id);
        Ok(n)
    }

    /// No more data from us: a FIN after what is queued; reading goes on.
    pub fn tcp_shutdown(&mut self, now: Instant, h: SocketHandle) -> Result<(), Error> {
        self.now = self.now.max(now);
        let id = self.tcp_id(h)?;
        if let Some(c) = self.tcp.conns.get_mut(&id) {
            c.tcb.shutdown();
        }
        self.tcp_flush(now, id);
        Ok(())
    }

    /// Closes the socket: a connection finishes on its own (FIN, TIME-WAIT), or is reset
    /// when received data was left unread (RFC 9293 §3.6); a listener resets the
    /// connections nobody accepted.
    pub fn tcp_close(&mut self, now: Instant, h: SocketHandle) -> Result<(), Error> {
        self.now = self.now.max(now);
        if let Some(mut l) = self.tcp.listeners.remove(&h) {
            while let Some(mut t) = l.listener.accept() {
                t.abort();
                let zone = l.zones.get(&t.tuple()).copied().or(l.zone);
                while let Some(seg) = t.poll_transmit(now) {
                    self.tcp_output(now, zone, seg);
                }
            }
            return Ok(());
        }
        let id = self.tcp.by_handle.remove(&h).ok_or(Error::NoSuchSocket)?;
        if let Some(c) = self.tcp.conns.get_mut(&id) {
            c.handle = None;
            c.tcb.close();
        }
        self.tcp_flush(now, id);
        Ok(())
    }

    /// Resets the connection (RFC 9293 §3.10.5 ABORT) and frees the socket.
    pub fn tcp_abort(&mut self, now: Instant, h: SocketHandle) -> Result<(), Error> {
        self.now = self.now.max(now);
        if self.tcp.listeners.contains_key(&h) {
            return self.tcp_close(now, h);
        }
        let id = self.tcp.by_handle.remove(&h).ok_or(Error::NoSuchSocket)?;
        if let Some(c) = self.tcp.conns.get_mut(&id) {
            c.handle = None;
            c.tcb.abort();
        }
        self.tcp_flush(now, id);
        Ok(())
    }

    /// Nagle off (`true`) or on (RFC 9293 §3.7.4).
    pub fn tcp_set_nodelay(&mut self, h: SocketHandle, on: bool) -> Result<(), Error> {
        let id = self.tcp_id(h)?;
        if let Some(c) = self.tcp.conns.get_mut(&id) {
            c.tcb.set_nodelay(on);
        }
        Ok(())
    }

    /// Keep-alives on or off (RFC 9293 §3.8.4).
    pub fn tcp_set_keepalive(
        &mut self,
        now: Instant,
        h: SocketHandle,
        on: bool,
    ) -> Result<(), Error> {
        let id = self.tcp_id(h)?;
        if let Some(c) = self.tcp.conns.get_mut(&id) {
            c.tcb.set_keepalive(on, now);
        }
        self.tcp_flush(now, id);
        Ok(())
    }

    pub fn tcp_status(&self, h: SocketHandle) -> Option<TcpStatus> {
        if let Some(l) = self.tcp.listeners.get(&h) {
            return Some(TcpStatus {
                state: State::Listen,
                local: l.listener.local(),
                remote: None,
                zone: l.zone,
                readable: 0,
                eof: false,
                send_space: 0,
                send_queued: 0,
                error: None,
                pending_accepts: l.listener.ready(),
            });
        }
        let c = self.tcp.conns.get(self.tcp.by_handle.get(&h)?)?;
        let t = c.tcb.tuple();
        Some(TcpStatus {
            state: c.tcb.state(),
            local: t.local,
            remote: Some(t.remote),
            zone: c.zone,
            readable: c.tcb.recv_queue(),
            eof: c.tcb.is_eof(),
            send_space: if c.tcb.may_send() {
                c.tcb.send_capacity()
            } else {
                0
            },
            send_queued: c.tcb.send_queue(),
            error: c.error,
            pending_accepts: 0,
        })
    }

    /// The connection's variables (congestion window, RTT estimates, ...).
    pub fn tcp_info(&self, h: SocketHandle) -> Option<TcpInfo> {
        let c = self.tcp.conns.get(self.tcp.by_handle.get(&h)?)?;
        Some(c.tcb.info())
    }

    /// Every connection, with its handle while the user holds one (closed ones finish
    /// without), in the order they were made.
    pub fn tcp_connections(&self) -> Vec<(Option<SocketHandle>, TcpInfo)> {
        self.tcp
            .conns
            .values()
            .map(|c| (c.handle, c.tcb.info()))
            .collect()
    }

    /// The listening sockets: handle, address and port, connections waiting for accept.
    pub fn tcp_listeners(&self) -> Vec<(SocketHandle, (Ipv6Addr, u16), usize)> {
        self.tcp
            .listeners
            .iter()
            .map(|(h, l)| (*h, l.listener.local(), l.listener.ready()))
            .collect()
    }

    /// A listener's counters (SYNs, SYN cookies sent and accepted, overflows) and its
    /// queues: connections half-open (SYN-RECEIVED) and waiting for accept.
    pub fn tcp_listener_stats(&self, h: SocketHandle) -> Option<(ListenerStats, usize, usize)> {
        let l = &self.tcp.listeners.get(&h)?.listener;
        Some((l.stats().clone(), l.half_open(), l.ready()))
    }

    pub fn tcp_stats(&self) -> TcpStats {
        self.tcp.stats
    }

    /// Connections in the table, those closed by their user included.
    pub fn tcp_connection_count(&self) -> usize {
        self.tcp.len()
    }

    // ----- input ----------------------------------------------------------------------

    /// A TCP segment for us (RFC 9293 §3.10.7): to its connection, else to a listener,
    /// else a RST.
    pub(crate) fn tcp_input(&mut self, now: Instant, meta: RxMeta, pkt: &[u8], off: usize) {
        let Some(seg) = pkt.get(off..) else {
            return;
        };
        let Ok(p) = tcp::Packet::new_checked(seg) else {
            self.tcp.stats.in_errs += 1;
            self.stats.drop("TCP segment truncated");
            return;
        };
        let ph = PseudoHeader::V6 {
            src: meta.src,
            dst: meta.dst,
        };
        if !p.verify_checksum(&ph) {
            self.tcp.stats.in_errs += 1;
            self.stats.drop("TCP checksum bad");
            return;
        }
        if meta.dst.is_multicast() || meta.link_multicast || meta.src.is_multicast() {
            // TCP connections are between unicast addresses (RFC 9293 §3.9.1.3).
            self.stats.drop("TCP segment to or from multicast");
            return;
        }
        let Ok(repr) = tcp::Repr::parse(&p) else {
            self.tcp.stats.in_errs += 1;
            self.stats.drop("TCP header malformed");
            return;
        };
        let payload = p.payload();
        self.tcp.stats.in_segs += 1;
        self.stats.ip.in_delivers += 1;
        let tuple = FourTuple {
            local: (meta.dst, repr.dst_port),
            remote: (meta.src, repr.src_port),
        };
        let link_zone = Some(meta.iface).filter(|_| meta.src.is_link_local_unicast());
        if let Some(&id) = self.tcp.by_tuple.get(&tuple)
            && let Some(c) = self.tcp.conns.get_mut(&id)
            && link_zone.is_none_or(|z| c.zone.is_none_or(|cz| cz == z))
        {
            c.tcb.receive(now, &repr, payload);
            self.tcp_flush(now, id);
            return;
        }
        if let Some(h) = self.tcp_find_listener(&meta, repr.dst_port) {
            let pmtu = self.tcp_path_mtu(&meta.src, meta.iface);
            if let Some(l) = self.tcp.listeners.get_mut(&h) {
                if let Some(z) = link_zone {
                    if l.zones.len() >= MAX_LISTENER_ZONES {
                        l.zones.pop_first();
                    }
                    l.zones.insert(tuple, z);
                }
                l.listener
                    .receive(now, meta.dst, tuple.remote, pmtu, &repr, payload);
            }
            self.tcp_flush_listener(now, h);
            return;
        }
        self.stats.drop("TCP segment for no connection");
        if let Some(rst) = reset_for(tuple, &repr, payload.len()) {
            self.tcp.stats.out_rsts += 1;
            self.tcp_output(now, link_zone, rst);
        }
    }

    /// The listener for a segment to `port`: one bound to the destination address before
    /// one bound to any, and only in its zone.
    fn tcp_find_listener(&self, meta: &RxMeta, port: u16) -> Option<SocketHandle> {
        let fits = |l: &Listen| l.zone.is_none_or(|z| z == meta.iface);
        let exact = self
            .tcp
            .listeners
            .iter()
            .find(|(_, l)| l.listener.local() == (meta.dst, port) && fits(l));
        let any = || {
            self.tcp.listeners.iter().find(|(_, l)| {
                let (a, p) = l.listener.local();
                a.is_unspecified() && p == port && fits(l)
            })
        };
        exact.or_else(any).map(|(h, _)| *h)
    }

    /// An ICMPv6 error quoting a segment we sent (RFC 5927, RFC 8201).
    pub(crate) fn tcp_error_input(
        &mut self,
        now: Instant,
        msg_type: u8,
        code: u8,
        invoking: &[u8],
        mtu: Option<u32>,
        pointer: u32,
    ) {
        let Ok(q) = ipv6::Packet::new_lenient(invoking) else {
            return;
        };
        let (qsrc, qdst, payload) = (q.src_addr(), q.dst_addr(), q.payload());
        let chain = Chain::walk(q.next_header(), payload);
        let Some((IpProtocol::TCP, off)) = chain.upper_layer() else {
            return;
        };
        let Some(hdr) = payload.get(off..off + 8) else {
            return;
        };
        let sport = u16::from_be_bytes([hdr[0], hdr[1]]);
        let dport = u16::from_be_bytes([hdr[2], hdr[3]]);
        let seq = SeqNumber(u32::from_be_bytes([hdr[4], hdr[5], hdr[6], hdr[7]]));
        let tuple = FourTuple {
            local: (qsrc, sport),
            remote: (qdst, dport),
        };
        let Some(&id) = self.tcp.by_tuple.get(&tuple) else {
            return;
        };
        let pmtu = mtu.map(|_| self.pmtu.get(&qdst).unwrap_or(MIN_MTU));
        let Some(c) = self.tcp.conns.get_mut(&id) else {
            return;
        };
        // RFC 5927 §4.1: the quoted sequence number must be one in flight.
        if !c.tcb.icmp_quote_valid(seq) {
            self.stats
                .drop("ICMP error quoting a TCP sequence number not in flight");
            return;
        }
        match (msg_type, pmtu) {
            (2, Some(m)) => c.tcb.set_path_mtu(m),
            (1, _) => c.tcb.icmp_error(TcpIcmpError::DstUnreachable { code }),
            (3, _) => c.tcb.icmp_error(TcpIcmpError::TimeExceeded { code }),
            (4, _) => c
                .tcb
                .icmp_error(TcpIcmpError::ParamProblem { code, pointer }),
            _ => return,
        }
        self.tcp_flush(now, id);
    }

    // ----- timers -------------------------------------------------------------------------

    pub(crate) fn tcp_poll(&mut self, now: Instant) {
        while let Some(&(t, id)) = self.tcp.timers.first() {
            if t > now {
                break;
            }
            self.tcp.timers.pop_first();
            if let Some(c) = self.tcp.conns.get_mut(&id) {
                c.timer = None;
                c.tcb.poll(now);
            }
            self.tcp_flush(now, id);
        }
        let due: Vec<SocketHandle> = self
            .tcp
            .listeners
            .iter()
            .filter(|(_, l)| l.listener.poll_at().is_some_and(|t| t <= now))
            .map(|(h, _)| *h)
            .collect();
        for h in due {
            if let Some(l) = self.tcp.listeners.get_mut(&h) {
                l.listener.poll(now);
            }
            self.tcp_flush_listener(now, h);
        }
    }

    // ----- plumbing -------------------------------------------------------------------

    fn tcp_id(&self, h: SocketHandle) -> Result<u64, Error> {
        self.tcp
            .by_handle
            .get(&h)
            .copied()
            .ok_or(Error::NoSuchSocket)
    }

    fn tcp_insert(&mut self, tcb: Tcb, zone: Option<IfaceId>, handle: Option<SocketHandle>) -> u64 {
        let id = self.tcp.next_id;
        self.tcp.next_id += 1;
        self.tcp.by_tuple.insert(tcb.tuple(), id);
        if let Some(h) = handle {
            self.tcp.by_handle.insert(h, id);
        }
        self.tcp.conns.insert(
            id,
            Box::new(Conn {
                tcb,
                zone,
                handle,
                error: None,
                established: false,
                closed: false,
                timer: None,
                retrans_counted: 0,
            }),
        );
        id
    }

    /// Sends what a connection has to send, takes its events, re-arms its timer, and
    /// frees it once it is CLOSED and nobody holds it.
    fn tcp_flush(&mut self, now: Instant, id: u64) {
        let Some(c) = self.tcp.conns.get(&id) else {
            return;
        };
        let zone = c.zone;
        // The way out, looked up once for every segment of this flush (they all go to
        // the connection's peer), before the segments are built so that they are built
        // with room for the link header in front.
        let mut route = if c.tcb.wants_transmit() {
            let dst = c.tcb.tuple().remote.0;
            self.tcp_route(&dst, zone)
        } else {
            None
        };
        let head = route
            .and_then(|r| self.ifaces.get(&r.0))
            .map_or(0, |i| i.link.header_len());
        let Some(c) = self.tcp.conns.get_mut(&id) else {
            return;
        };
        // The table's scratch list, so that a flush allocates no list of its own.
        let mut out = std::mem::take(&mut self.tcp.scratch);
        while let Some(seg) = c.tcb.poll_transmit_header(now) {
            let rst = seg.repr.flags.rst();
            let buf = Stack::buffer(&mut self.buffers);
            match build_segment(&seg, head, buf, |buf| {
                c.tcb
                    .copy_payload(seg.repr.seq_number, seg.repr.payload_len, buf)
            }) {
                Some(buf) => out.push((buf, rst)),
                None => self.stats.drop("TCP segment could not be built"),
            }
        }
        let was_syn_sent = c.tcb.state() == State::SynSent;
        while let Some(ev) = c.tcb.poll_event() {
            match ev {
                TcpEvent::Established => c.established = true,
                TcpEvent::Reset => {
                    let refused = !c.established || was_syn_sent;
                    c.error = Some(if refused {
                        "connection refused"
                    } else {
                        "connection reset"
                    });
                    if refused {
                        self.tcp.stats.attempt_fails += 1;
                    } else {
                        self.tcp.stats.estab_resets += 1;
                    }
                }
                TcpEvent::TimedOut(cause) => {
                    c.error = Some(cause.map_or("connection timed out", tcp_error_of));
                    if !c.established {
                        self.tcp.stats.attempt_fails += 1;
                    }
                }
                TcpEvent::Error(e) => {
                    // A hard error ended the open (port unreachable or administratively
                    // prohibited in SYN-SENT): the user learns it as the cause.
                    if c.tcb.state() == State::Closed && c.error.is_none() {
                        c.error = Some(tcp_error_of(e));
                        if !c.established {
                            self.tcp.stats.attempt_fails += 1;
                        }
                    }
                }
                TcpEvent::Closed => c.closed = true,
                TcpEvent::Readable | TcpEvent::Writable | TcpEvent::PeerClosed => {}
            }
        }
        let retrans = c.tcb.retransmissions();
        self.tcp.stats.retrans_segs += retrans.saturating_sub(c.retrans_counted);
        c.retrans_counted = retrans;
        let next = c.tcb.poll_at();
        if c.timer != next {
            if let Some(t) = c.timer {
                self.tcp.timers.remove(&(t, id));
            }
            if let Some(t) = next {
                self.tcp.timers.insert((t, id));
            }
            c.timer = next;
        }
        let gone = c.closed;
        let free = gone && c.handle.is_none();
        let tuple = c.tcb.tuple();
        if route.is_none() && !out.is_empty() {
            // A segment `wants_transmit` did not foresee.
            route = self.tcp_route(&tuple.remote.0, zone);
        }
        for (mut buf, rst) in out.drain(..) {
            if rst {
                self.tcp.stats.out_rsts += 1;
            }
            self.tcp.stats.out_segs += 1;
            let hl = route.map_or(self.cfg.default_hop_limit, |r| r.2);
            if let Some(b) = buf.get_mut(head + 7) {
                *b = hl;
            }
            let sent = match route {
                Some((out, next_hop, _)) => {
                    self.stats.ip.out_requests += 1;
                    self.send_via_headroom(now, out, next_hop, buf, head)
                }
                None => {
                    buf.drain(..head.min(buf.len()));
                    self.output(now, buf, zone)
                }
            };
            if sent.is_err() {
                self.stats.drop("TCP segment had no route");
            }
        }
        self.tcp.scratch = out;
        if gone && self.tcp.by_tuple.get(&tuple) == Some(&id) {
            // A new connection of the same four-tuple may form now (RFC 9293 §3.4.2's
            // TIME-WAIT is the Tcb's, before it says Closed).
            self.tcp.by_tuple.remove(&tuple);
        }
        if free
            && let Some(c) = self.tcp.conns.remove(&id)
            && let Some(t) = c.timer
        {
            self.tcp.timers.remove(&(t, id));
        }
    }

    fn tcp_flush_listener(&mut self, now: Instant, h: SocketHandle) {
        let Some(l) = self.tcp.listeners.get_mut(&h) else {
            return;
        };
        let mut out = Vec::new();
        while let Some(seg) = l.listener.poll_transmit(now) {
            let zone = l
                .zones
                .get(&FourTuple {
                    local: (seg.src, seg.repr.src_port),
                    remote: (seg.dst, seg.repr.dst_port),
                })
                .copied()
                .or(l.zone);
            out.push((zone, seg));
        }
        for (zone, seg) in out {
            if seg.repr.flags.rst() {
                self.tcp.stats.out_rsts += 1;
            }
            self.tcp_output(now, zone, seg);
        }
    }

    /// One segment in an IPv6 packet, out by the route to its destination.
    fn tcp_output(&mut self, now: Instant, zone: Option<IfaceId>, seg: Segment) {
        let route = self.tcp_route(&seg.dst, zone);
        self.tcp_output_via(now, zone, route, seg);
    }

    /// The first hop and hop limit for segments to `dst`, when they leave by an interface
    /// (`None`: to one of our own addresses, or no route: [`Stack::output`] decides).
    /// Looked up once per flush: every segment of one flush goes the same way.
    fn tcp_route(
        &mut self,
        dst: &Ipv6Addr,
        zone: Option<IfaceId>,
    ) -> Option<(IfaceId, Ipv6Addr, u8)> {
        if self.is_own_addr(dst).is_some() {
            return None;
        }
        let (out, next_hop) = self.route(dst, zone).ok()?;
        Some((out, next_hop, self.hop_limit_for(out)))
    }

    /// [`tcp_output`](Self::tcp_output) with the route already looked up.
    fn tcp_output_via(
        &mut self,
        now: Instant,
        zone: Option<IfaceId>,
        route: Option<(IfaceId, Ipv6Addr, u8)>,
        seg: Segment,
    ) {
        let buf = Stack::buffer(&mut self.buffers);
        let built = build_segment(&seg, 0, buf, |b| b.extend_from_slice(&seg.payload));
        let Some(mut pkt) = built else {
            self.stats.drop("TCP segment could not be built");
            return;
        };
        pkt[7] = route.map_or(self.cfg.default_hop_limit, |r| r.2);
        self.tcp.stats.out_segs += 1;
        let sent = match route {
            Some((out, next_hop, _)) => {
                self.now = self.now.max(now);
                self.stats.ip.out_requests += 1;
                self.send_via(now, out, next_hop, pkt, true)
            }
            None => self.output(now, pkt, zone),
        };
        if sent.is_err() {
            self.stats.drop("TCP segment had no route");
        }
    }

    /// An interface's MTU changed: connections routed out of it take the new path MTU
    /// (smaller or, up to what the path MTU cache knows, larger).
    pub(crate) fn tcp_link_mtu_changed(&mut self, now: Instant, iface: IfaceId) {
        let ids: Vec<(u64, Ipv6Addr, Option<IfaceId>)> = self
            .tcp
            .conns
            .iter()
            .filter(|(_, c)| c.tcb.state() != State::Closed)
            .map(|(id, c)| (*id, c.tcb.tuple().remote.0, c.zone))
            .collect();
        for (id, dst, zone) in ids {
            let out = match self.is_own_addr(&dst) {
                Some(i) => i,
                None => match self.route(&dst, zone) {
                    Ok((out, _)) => out,
                    Err(_) => continue,
                },
            };
            if out != iface {
                continue;
            }
            let pmtu = self.tcp_path_mtu(&dst, out);
            if let Some(c) = self.tcp.conns.get_mut(&id) {
                c.tcb.set_path_mtu(pmtu);
            }
            self.tcp_flush(now, id);
        }
    }

    /// The configuration connections and listeners share.
    fn tcp_config(&mut self) -> Arc<TcpConfig> {
        let cfg = &self.cfg.tcp;
        Arc::clone(self.tcp.config.get_or_insert_with(|| Arc::new(cfg.clone())))
    }

    fn tcp_path_mtu(&self, dst: &Ipv6Addr, out: IfaceId) -> u32 {
        let link = self.ifaces.get(&out).map_or(MIN_MTU, |i| i.mtu);
        self.pmtu.get(dst).map_or(link, |p| p.min(link))
    }

    fn tcp_isn(&mut self, now: Instant, tuple: FourTuple) -> SeqNumber {
        if self.tcp.isn.is_none() {
            let mut secret = [0u8; 32];
            self.rng.fill_bytes(&mut secret);
            self.tcp.isn = Some(IsnGenerator::new(secret));
        }
        match &self.tcp.isn {
            Some(g) => g.isn(now, tuple.local, tuple.remote),
            None => SeqNumber(self.rng.next_u32()),
        }
    }

    /// A local port from the dynamic range: free for this four-tuple when `pair` is given
    /// (source, remote), free of listeners always.
    fn tcp_free_port(&mut self, pair: Option<(Ipv6Addr, (Ipv6Addr, u16))>) -> Option<u16> {
        let span = u64::from(EPHEMERAL.end() - EPHEMERAL.start()) + 1;
        let start = self.rng.below(span);
        let listening: BTreeSet<u16> = self
            .tcp
            .listeners
            .values()
            .map(|l| l.listener.local().1)
            .collect();
        // For a listener, every local port in use, gathered once rather than once per
        // candidate (a scan of every connection each time).
        let connected: BTreeSet<u16> = match pair {
            Some(_) => BTreeSet::new(),
            None => self.tcp.by_tuple.keys().map(|t| t.local.1).collect(),
        };
        for i in 0..span {
            // In range: the remainder is below `span`, at most 16384.
            let port = EPHEMERAL.start() + ((start + i) % span) as u16;
            if listening.contains(&port) {
                continue;
            }
            let taken = match pair {
                Some((src, remote)) => self.tcp.by_tuple.contains_key(&FourTuple {
                    local: (src, port),
                    remote,
                }),
                None => connected.contains(&port),
            };
            if !taken {
                return Some(port);
            }
        }
        None
    }
}

/// A segment in an IPv6 packet (hop limit 0: the caller sets byte 7 of the packet) after
/// `head` bytes of room for a link header, in one buffer (`buf`, emptied first): the payload (`repr.payload_len`
/// bytes) appended by `payload` after zeroed room for the headers (so the payload's bytes
/// are written once, not zeroed first), then the headers written in place and the
/// checksum over it all.
fn build_segment(
    seg: &Segment,
    head: usize,
    mut buf: Vec<u8>,
    payload: impl FnOnce(&mut Vec<u8>),
) -> Option<Vec<u8>> {
    let hdr = seg.repr.header_len();
    let tcp_len = hdr + seg.repr.payload_len;
    let ip = ipv6::Repr {
        traffic_class: 0,
        flow_label: 0,
        payload_len: u16::try_from(tcp_len).ok()?,
        next_header: IpProtocol::TCP,
        hop_limit: 0,
        src_addr: seg.src,
        dst_addr: seg.dst,
    };
    let headers = head + ipv6::HEADER_LEN + hdr;
    buf.clear();
    buf.reserve(headers + seg.repr.payload_len);
    buf.resize(headers, 0);
    payload(&mut buf);
    if buf.len() != headers + seg.repr.payload_len {
        return None;
    }
    let (_, pkt) = buf.split_at_mut(head);
    ip.emit(pkt).ok()?;
    let ph = PseudoHeader::V6 {
        src: seg.src,
        dst: seg.dst,
    };
    seg.repr.emit(&mut pkt[ipv6::HEADER_LEN..], &ph).ok()?;
    Some(buf)
}
