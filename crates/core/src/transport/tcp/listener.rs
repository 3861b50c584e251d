//! A listening socket (RFC 9293 LISTEN, §3.10.7.2): the half-open connections
//! (SYN-RECEIVED) of a bounded SYN backlog, the established ones waiting for `accept`, and
//! SYN cookies when the backlog is full, so a SYN flood holds no state and a legitimate
//! client still connects.
//!
//! A cookie's SYN-ACK keeps no state, so what the connection needs later must come back
//! in the client's ACK: the MSS in the cookie (`syncookie.rs`), and the client's window
//! shift and SACK-permitted in the low bits of our TSval, which the client echoes. A
//! client without timestamps gets neither option on a cookie connection.

use std::collections::VecDeque;
use std::net::Ipv6Addr;

use sha2::{Digest, Sha256};
use sixstack_wire::tcp::{Flags, RawOptions, Repr, SackBlocks};

use crate::time::Instant;

use std::sync::Arc;

use super::config::{ShareConfig, TcpConfig};
use super::isn::IsnGenerator;
use super::syncookie::{CookieOptions, SynCookies};
use super::tcb::{Tcb, reset_for};
use super::types::{FourTuple, Segment, State};

/// What a listener did, for counters and research.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListenerStats {
    pub syns: u64,
    /// SYNs answered with a cookie because the SYN backlog was full.
    pub cookies_sent: u64,
    pub cookies_accepted: u64,
    /// ACKs that matched no connection and carried no valid cookie (answered with RST).
    pub cookies_rejected: u64,
    /// Completed handshakes dropped because the accept queue was full.
    pub accept_overflows: u64,
    /// Segments dropped because the transmit queue was full.
    pub tx_dropped: u64,
}

#[derive(Debug, Clone)]
pub struct Listener {
    /// Shared with the connections it makes.
    config: Arc<TcpConfig>,
    /// The local address (unspecified: any) and port.
    local: (Ipv6Addr, u16),
    /// SYN-RECEIVED connections, at most `syn_backlog`; beyond, SYN cookies.
    half_open: Vec<Tcb>,
    /// Established connections not yet accepted, at most `accept_backlog`.
    ready: VecDeque<Tcb>,
    isn: IsnGenerator,
    /// Keyed like the ISN but with its own key: TSval offsets per connection (RFC 7323
    /// §7.1) that a cookie connection can compute again.
    ts_offsets: IsnGenerator,
    cookies: SynCookies,
    /// Stateless answers (cookie SYN-ACKs, RSTs), at most `listener_tx_queue`.
    out: VecDeque<Segment>,
    stats: ListenerStats,
}

impl Listener {
    /// A listener on `local` (its address may be `::`). `secret` keys the ISNs (RFC
    /// 6528), the timestamp offsets and the cookies; the glue draws it from its RNG.
    pub fn new(config: impl ShareConfig, local: (Ipv6Addr, u16), secret: [u8; 32]) -> Listener {
        Listener {
            config: config.share(),
            local,
            half_open: Vec::new(),
            ready: VecDeque::new(),
            isn: IsnGenerator::new(derive(b"tcp isn", &secret)),
            ts_offsets: IsnGenerator::new(derive(b"tcp ts offset", &secret)),
            cookies: SynCookies::new(derive(b"tcp syn cookie", &secret)),
            out: VecDeque::new(),
            stats: ListenerStats::default(),
        }
    }

    /// A segment to the listener's port from `remote` to `local_addr`, for no established
    /// connection of the glue. `path_mtu` is the route's toward `remote`.
    pub fn receive(
        &mut self,
        now: Instant,
        local_addr: Ipv6Addr,
        remote: (Ipv6Addr, u16),
        path_mtu: u32,
        seg: &Repr,
        payload: &[u8],
    ) {
        let tuple = FourTuple {
            local: (local_addr, self.local.1),
            remote,
        };
        if let Some(t) = self.ready.iter_mut().find(|t| t.tuple() == tuple) {
            t.receive(now, seg, payload);
            return;
        }
        if let Some(i) = self.half_open.iter().position(|t| t.tuple() == tuple) {
            self.half_open[i].receive(now, seg, payload);
            self.promote();
            return;
        }
        let f = seg.flags;
        if f.rst() {
            // §3.10.7.2: "An incoming RST segment could not be valid ... Return."
            return;
        }
        if f.ack() {
            if f.syn() || !self.accept_cookie(now, tuple, path_mtu, seg, payload) {
                // "Any acknowledgment is bad if it arrives on a connection still in the
                // LISTEN state": <SEQ=SEG.ACK><CTL=RST>.
                self.stats.cookies_rejected += u64::from(!f.syn());
                let rst = reset_for(tuple, seg, payload.len());
                self.queue(rst);
            }
            return;
        }
        if !f.syn() {
            return;
        }
        self.stats.syns += 1;
        if self.half_open.len() < self.config.syn_backlog {
            let iss = self.isn.isn(now, tuple.local, tuple.remote);
            let ts_offset = self.ts_offset(tuple);
            let t = Tcb::accept_syn(&self.config, tuple, iss, ts_offset, path_mtu, seg, now);
            self.half_open.push(t);
        } else {
            self.send_cookie(now, tuple, path_mtu, seg);
        }
    }

    /// Timers of the half-open and waiting connections.
    pub fn poll(&mut self, now: Instant) {
        for t in self.half_open.iter_mut().chain(self.ready.iter_mut()) {
            t.poll(now);
        }
        self.promote();
    }

    pub fn poll_at(&self) -> Option<Instant> {
        self.half_open
            .iter()
            .chain(self.ready.iter())
            .filter_map(Tcb::poll_at)
            .min()
    }

    /// The next segment to send: stateless answers first, then the connections'.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Segment> {
        if let Some(s) = self.out.pop_front() {
            return Some(s);
        }
        let mut found = None;
        for t in self.half_open.iter_mut().chain(self.ready.iter_mut()) {
            if let Some(s) = t.poll_transmit(now) {
                found = Some(s);
                break;
            }
        }
        // Connections that ended (reset, timed out) go once their last segment left.
        self.half_open
            .retain(|t| t.state() != State::Closed || t.wants_transmit());
        self.ready
            .retain(|t| t.state() != State::Closed || t.wants_transmit());
        found
    }

    /// The oldest established connection; the caller drives it from now on.
    pub fn accept(&mut self) -> Option<Tcb> {
        let t = self.ready.pop_front();
        self.promote();
        t
    }

    /// Connections waiting for `accept`.
    pub fn ready(&self) -> usize {
        self.ready.len()
    }

    /// Connections in SYN-RECEIVED.
    pub fn half_open(&self) -> usize {
        self.half_open
            .iter()
            .filter(|t| t.state() == State::SynReceived)
            .count()
    }

    pub fn local(&self) -> (Ipv6Addr, u16) {
        self.local
    }

    pub fn stats(&self) -> &ListenerStats {
        &self.stats
    }

    /// RFC 9293's LISTEN.
    pub fn state(&self) -> State {
        State::Listen
    }

    /// Established half-open connections move to the accept queue while there is room;
    /// ones that went back to LISTEN (RST, timeout) are forgotten once drained.
    fn promote(&mut self) {
        let mut i = 0;
        while i < self.half_open.len() {
            let st = self.half_open[i].state();
            let done = st != State::SynReceived && st != State::Closed;
            if done && self.ready.len() < self.config.accept_backlog {
                let t = self.half_open.remove(i);
                self.ready.push_back(t);
            } else {
                i += 1;
            }
        }
    }

    fn ts_offset(&self, tuple: FourTuple) -> u32 {
        self.ts_offsets
            .isn(Instant::ZERO, tuple.local, tuple.remote)
            .0
    }

    /// Answers a SYN with a cookie and keeps nothing.
    fn send_cookie(&mut self, now: Instant, tuple: FourTuple, path_mtu: u32, syn: &Repr) {
        let peer_mss = syn.max_seg_size.unwrap_or(self.config.default_mss);
        let cookie = self
            .cookies
            .encode(now, tuple.local, tuple.remote, syn.seq_number, peer_mss);
        let mut r = Repr {
            src_port: tuple.local.1,
            dst_port: tuple.remote.1,
            seq_number: cookie,
            ack_number: syn.seq_number + 1,
            flags: Flags::SYN | Flags::ACK,
            window_len: self.config.recv_buffer.min(usize::from(u16::MAX)) as u16,
            urgent_pointer: 0,
            max_seg_size: Some(path_mtu.clamp(1280, 65535 + 60).saturating_sub(60) as u16),
            window_scale: None,
            sack_permitted: false,
            sack_blocks: SackBlocks::new(),
            timestamps: None,
            unknown_options: RawOptions::new(),
            payload_len: 0,
        };
        // The options can come back only through the echoed timestamp.
        if let (true, Some((syn_tsval, _))) = (self.config.timestamps, syn.timestamps) {
            let mut options = CookieOptions::default();
            if let (true, Some(s)) = (self.config.window_scaling, syn.window_scale) {
                options.window_scale = Some(s);
                r.window_scale = Some(super::tcb::shift_for(self.config.recv_buffer));
            }
            if self.config.sack && syn.sack_permitted {
                options.sack_permitted = true;
                r.sack_permitted = true;
            }
            // Not above the connection's clock, so later TSvals never go back (PAWS).
            let clock = (now.total_millis() as u32).wrapping_add(self.ts_offset(tuple));
            r.timestamps = Some((self.cookies.encode_ts(clock, options), syn_tsval));
        }
        self.stats.cookies_sent += 1;
        self.queue(Some(Segment {
            src: tuple.local.0,
            dst: tuple.remote.0,
            repr: r,
            payload: Vec::new(),
        }));
    }

    /// An ACK for no half-open connection: a cookie's? Then the connection is built
    /// (ESTABLISHED) and the segment processed by it.
    fn accept_cookie(
        &mut self,
        now: Instant,
        tuple: FourTuple,
        path_mtu: u32,
        seg: &Repr,
        payload: &[u8],
    ) -> bool {
        let client_isn = seg.seq_number - 1;
        let iss = seg.ack_number - 1;
        let Some(mss) = self
            .cookies
            .decode(now, tuple.local, tuple.remote, client_isn, iss)
        else {
            return false;
        };
        if self.ready.len() >= self.config.accept_backlog {
            // The client retransmits its data or its ACK; the cookie stays valid a while.
            self.stats.accept_overflows += 1;
            return true;
        }
        let options = match seg.timestamps {
            Some((_, tsecr)) if self.config.timestamps => self.cookies.decode_ts(tsecr),
            _ => CookieOptions::default(),
        };
        let ts_offset = self.ts_offset(tuple);
        let mut t = Tcb::from_cookie(
            &self.config,
            tuple,
            iss,
            ts_offset,
            path_mtu,
            mss,
            options.window_scale,
            options.sack_permitted,
            seg,
            now,
        );
        t.receive(now, seg, payload);
        self.stats.cookies_accepted += 1;
        self.ready.push_back(t);
        true
    }

    fn queue(&mut self, seg: Option<Segment>) {
        let Some(seg) = seg else { return };
        if self.out.len() >= self.config.listener_tx_queue {
            self.stats.tx_dropped += 1;
            return;
        }
        self.out.push_back(seg);
    }
}

/// A key per use from the listener's secret.
fn derive(label: &[u8], secret: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(label);
    h.update(secret);
    let d = h.finalize();
    let mut k = [0u8; 32];
    k.copy_from_slice(&d[..32]);
    k
}
