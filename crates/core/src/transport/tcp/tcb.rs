//! One TCP connection: its Transmission Control Block and the state machine of RFC 9293
//! §3.10 (the event processing), with RFC 5961's defences, RFC 6298's timer, RFC 7323's
//! window scaling and timestamps, RFC 5681/6582 congestion control and fast recovery and
//! RFC 2018/6675 SACK. Pure: no clock (time is `now`), no randomness (the ISN and the
//! timestamp offset come in), no I/O (segments are pulled with `poll_transmit`).

use std::collections::VecDeque;

use sixstack_wire::tcp::{Flags, RawOptions, Repr, SackBlocks, SeqNumber, window_shift};

use crate::time::{Duration, Instant};

use super::assembler::Assembler;
use super::cc::CongestionControl;
use std::sync::Arc;

use super::config::{ShareConfig, TcpConfig};
use super::rtt::RttEstimator;
use super::sack::{ReceivedBlocks, Scoreboard};
use super::types::{FourTuple, IcmpError, Segment, State, TcpEvent, TcpInfo};

/// IPv6 (40) and TCP (20) headers: MSS = MTU - 60 (RFC 8200 §8.3, RFC 9293 §3.7.1).
const HEADERS: u32 = 60;
/// The IPv6 minimum MTU (RFC 8200 §5); a Packet Too Big below it is ignored.
const MIN_MTU: u32 = 1280;
/// The smallest MSS honoured from a peer: below it, segments would be all header (a peer
/// announcing MSS 1 must not make us send one byte per segment).
const MIN_MSS: u32 = 64;
/// Bytes the Timestamps option takes in every segment once negotiated (NOP NOP TS).
const TS_OPTION_LEN: u32 = 12;
/// SACK blocks the receiver remembers (RFC 2018 §4: it reports at most 4, and repeats
/// recent ones); past it the least recently changed is forgotten.
const RECEIVED_BLOCKS: usize = 8;
/// Events that can wait to be drained; equal events coalesce, so this is never reached
/// in practice; past it the oldest is dropped.
const MAX_EVENTS: usize = 16;

/// One connection. Inputs: [`Tcb::receive`], the user calls, [`Tcb::poll`]; outputs:
/// [`Tcb::poll_transmit`], [`Tcb::poll_event`], [`Tcb::poll_at`].
#[derive(Debug, Clone)]
pub struct Tcb {
    /// Shared with the listener or stack that made the connection.
    config: Arc<TcpConfig>,
    tuple: FourTuple,
    state: State,
    /// Opened by a listener (RFC 9293: SYN-RECEIVED returns to LISTEN on RST).
    passive: bool,

    // Send sequence space (RFC 9293 §3.3.1). `snd_max` is the highest sequence number
    // sent plus one: after a timeout `snd_nxt` goes back to `snd_una` (go-back-N) while
    // ACKs up to `snd_max` stay acceptable.
    iss: SeqNumber,
    snd_una: SeqNumber,
    snd_nxt: SeqNumber,
    snd_max: SeqNumber,
    snd_wnd: u32,
    max_snd_wnd: u32,
    snd_wl1: SeqNumber,
    snd_wl2: SeqNumber,
    /// The shift applied to windows the peer sends (RFC 7323 §2.3).
    snd_shift: u8,
    /// Unacknowledged and unsent data; its first byte is SND.UNA once the SYN is acked.
    send_buf: VecDeque<u8>,
    /// The user shut the sending side: a FIN follows the data.
    fin_queued: bool,
    /// The FIN's sequence number, once sent.
    fin_seq: Option<SeqNumber>,
    /// `send` was refused room: say `Writable` when room appears.
    writable_wanted: bool,

    // Receive sequence space.
    irs: SeqNumber,
    rcv_nxt: SeqNumber,
    /// The right edge last offered, RCV.NXT + RCV.WND (never moved left: RFC 9293 §3.8.6.2.2).
    rcv_adv: SeqNumber,
    /// The shift applied to windows we send.
    rcv_shift: u8,
    /// Both SYNs carried Window Scale (RFC 7323 §2.2).
    ws_ok: bool,
    recv_buf: VecDeque<u8>,
    ooo: Assembler,
    /// A FIN seen beyond a hole, at this sequence number.
    ooo_fin: Option<SeqNumber>,
    fin_received: bool,
    /// `close` was called: data arriving now is lost, so RFC 9293 §3.6 (RFC 1122
    /// 4.2.2.13) has us reset.
    read_closed: bool,
    /// The largest payload received, the "full-sized segment" of RFC 5681 §4.2.
    rcv_mss: u32,
    /// Bytes received since the last ACK we sent.
    unacked_bytes: u32,

    // Segment size.
    /// MSS option from the peer (or the default).
    peer_mss: u32,
    path_mtu: u32,
    /// The MSS we announced in our SYN.
    local_mss: u16,

    // Options (RFC 7323, RFC 2018).
    ts_ok: bool,
    ts_offset: u32,
    ts_recent: u32,
    ts_recent_age: Instant,
    last_ack_sent: SeqNumber,
    sack_ok: bool,
    scoreboard: Scoreboard,
    rcv_blocks: ReceivedBlocks,

    // Congestion control and loss recovery.
    cc: CongestionControl,
    dupacks: u32,
    in_recovery: bool,
    /// RFC 6582 "recover": the highest sequence number sent when recovery began.
    recover: SeqNumber,
    /// RFC 6675 HighRxt, as `sack.rs` takes it: one past the highest octet
    /// retransmitted in this recovery (SND.UNA when none was).
    high_rxt: SeqNumber,
    /// Retransmit the segment at SND.UNA at the next transmit (fast retransmit, RFC
    /// 6582 partial ACK).
    rexmit_una: bool,
    rtt: RttEstimator,
    /// Karn's algorithm without timestamps: one timed segment (its end, its send time),
    /// forgotten when anything is retransmitted.
    rtt_probe: Option<(SeqNumber, Instant)>,
    syn_retransmitted: bool,

    // Timers (`None`: stopped).
    rto_at: Option<Instant>,
    /// RFC 9293 §3.8.3: when retransmitting gives up (R2).
    give_up_at: Option<Instant>,
    consecutive_timeouts: u32,
    persist_at: Option<Instant>,
    persist_backoff: u32,
    probe_pending: bool,
    delack_at: Option<Instant>,
    keepalive: bool,
    keepalive_at: Option<Instant>,
    keepalive_sent: u32,
    keepalive_pending: bool,
    /// TIME-WAIT's 2 MSL, or the FIN-WAIT-2 limit of a closed connection.
    close_at: Option<Instant>,
    last_recv_at: Instant,

    // Output.
    /// A SYN (SYN-SENT) or SYN-ACK (SYN-RECEIVED) is due.
    syn_pending: bool,
    ack_now: bool,
    /// Inside `poll_transmit_header`: data segments leave their payload to the caller.
    defer_payload: bool,
    /// Boxed: rarely there, and a segment is some 180 bytes every connection would carry.
    pending_rst: Option<Box<Segment>>,
    nodelay: bool,
    challenge_window: Instant,
    challenge_count: u32,
    events: VecDeque<TcpEvent>,
    last_error: Option<IcmpError>,

    // Counters.
    retransmissions: u64,
    timeouts: u64,
    fast_retransmits: u64,
    bytes_acked: u64,
    bytes_received: u64,
    segs_out: u64,
    segs_in: u64,
    challenge_acks: u64,
}

impl Tcb {
    /// An active OPEN (RFC 9293 §3.10.1): SYN-SENT, with the SYN due at the next
    /// `poll_transmit`. `iss` comes from RFC 6528's generator (`isn.rs`); `ts_offset` is
    /// a random per-connection offset for timestamps (RFC 7323 §7.1). The path MTU is the
    /// IPv6 minimum until [`Tcb::set_path_mtu`] says otherwise (call it before the first
    /// `poll_transmit` so the SYN announces the right MSS).
    pub fn connect(
        config: impl ShareConfig,
        tuple: FourTuple,
        iss: SeqNumber,
        ts_offset: u32,
        now: Instant,
    ) -> Tcb {
        let config = &config.share();
        let mut t = Tcb::blank(config, tuple, iss, ts_offset, now);
        t.state = State::SynSent;
        t.syn_pending = true;
        t.give_up_at = Some(now + config.r2_syn);
        t
    }

    /// A passive open from a listener: SYN-RECEIVED after `syn`, with the SYN-ACK due.
    pub(crate) fn accept_syn(
        config: impl ShareConfig,
        tuple: FourTuple,
        iss: SeqNumber,
        ts_offset: u32,
        path_mtu: u32,
        syn: &Repr,
        now: Instant,
    ) -> Tcb {
        let config = &config.share();
        let mut t = Tcb::blank(config, tuple, iss, ts_offset, now);
        t.passive = true;
        t.state = State::SynReceived;
        t.set_path_mtu(path_mtu);
        t.irs = syn.seq_number;
        t.rcv_nxt = syn.seq_number + 1;
        t.rcv_adv = t.rcv_nxt;
        t.negotiate(syn, now);
        t.snd_wnd = u32::from(syn.window_len);
        t.max_snd_wnd = t.snd_wnd;
        t.snd_wl1 = syn.seq_number;
        t.syn_pending = true;
        t.give_up_at = Some(now + config.r2_syn);
        t
    }

    /// A connection rebuilt from a SYN cookie's ACK (`ack` acknowledges `iss + 1`):
    /// ESTABLISHED at once. `options` are what the cookie carried: the MSS, and (from
    /// the echoed timestamp) the peer's window shift and SACK-permitted.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn from_cookie(
        config: impl ShareConfig,
        tuple: FourTuple,
        iss: SeqNumber,
        ts_offset: u32,
        path_mtu: u32,
        mss: u16,
        peer_shift: Option<u8>,
        sack: bool,
        ack: &Repr,
        now: Instant,
    ) -> Tcb {
        let config = &config.share();
        let mut t = Tcb::blank(config, tuple, iss, ts_offset, now);
        t.passive = true;
        t.set_path_mtu(path_mtu);
        t.irs = ack.seq_number - 1;
        t.rcv_nxt = ack.seq_number;
        t.snd_una = iss + 1;
        t.snd_nxt = iss + 1;
        t.snd_max = iss + 1;
        t.peer_mss = u32::from(mss).max(MIN_MSS);
        match peer_shift {
            Some(s) if config.window_scaling => {
                t.ws_ok = true;
                t.snd_shift = window_shift(s);
            }
            _ => t.rcv_shift = 0,
        }
        // The cookie's SYN-ACK offered this window, unscaled.
        t.rcv_adv = t.rcv_nxt + config.recv_buffer.min(usize::from(u16::MAX)) as u32;
        t.sack_ok = sack && config.sack;
        if let (true, Some((tsval, _))) = (config.timestamps, ack.timestamps) {
            t.ts_ok = true;
            t.ts_recent = tsval;
            t.ts_recent_age = now;
        }
        t.cc = CongestionControl::new(config.congestion_control, t.eff_mss(), now);
        t.snd_wnd = u32::from(ack.window_len) << t.snd_shift;
        t.max_snd_wnd = t.snd_wnd;
        t.snd_wl1 = ack.seq_number;
        t.snd_wl2 = ack.ack_number;
        t.state = State::Established;
        t.push_event(TcpEvent::Established);
        t.arm_keepalive(now);
        t
    }

    fn blank(
        config: &Arc<TcpConfig>,
        tuple: FourTuple,
        iss: SeqNumber,
        ts_offset: u32,
        now: Instant,
    ) -> Tcb {
        let rcv_shift = if config.window_scaling {
            shift_for(config.recv_buffer)
        } else {
            0
        };
        let path_mtu = MIN_MTU;
        let peer_mss = u32::from(config.default_mss).max(MIN_MSS);
        Tcb {
            tuple,
            state: State::Closed,
            passive: false,
            iss,
            snd_una: iss,
            snd_nxt: iss,
            snd_max: iss,
            snd_wnd: 0,
            max_snd_wnd: 0,
            snd_wl1: SeqNumber(0),
            snd_wl2: iss,
            snd_shift: 0,
            send_buf: VecDeque::new(),
            fin_queued: false,
            fin_seq: None,
            writable_wanted: false,
            irs: SeqNumber(0),
            rcv_nxt: SeqNumber(0),
            rcv_adv: SeqNumber(0),
            rcv_shift,
            ws_ok: false,
            recv_buf: VecDeque::new(),
            ooo: Assembler::new(config.max_ooo_ranges),
            ooo_fin: None,
            fin_received: false,
            read_closed: false,
            rcv_mss: peer_mss,
            unacked_bytes: 0,
            peer_mss,
            path_mtu,
            local_mss: (path_mtu - HEADERS) as u16,
            ts_ok: false,
            ts_offset,
            ts_recent: 0,
            ts_recent_age: now,
            last_ack_sent: SeqNumber(0),
            sack_ok: false,
            scoreboard: Scoreboard::new(),
            rcv_blocks: ReceivedBlocks::new(RECEIVED_BLOCKS),
            cc: CongestionControl::new(config.congestion_control, peer_mss, now),
            dupacks: 0,
            in_recovery: false,
            recover: iss,
            high_rxt: iss,
            rexmit_una: false,
            rtt: RttEstimator::new(config),
            rtt_probe: None,
            syn_retransmitted: false,
            rto_at: None,
            give_up_at: None,
            consecutive_timeouts: 0,
            persist_at: None,
            persist_backoff: 0,
            probe_pending: false,
            delack_at: None,
            keepalive: config.keepalive,
            keepalive_at: None,
            keepalive_sent: 0,
            keepalive_pending: false,
            close_at: None,
            last_recv_at: now,
            syn_pending: false,
            ack_now: false,
            defer_payload: false,
            pending_rst: None,
            nodelay: config.nodelay,
            challenge_window: now,
            challenge_count: 0,
            events: VecDeque::new(),
            last_error: None,
            retransmissions: 0,
            timeouts: 0,
            fast_retransmits: 0,
            bytes_acked: 0,
            bytes_received: 0,
            segs_out: 0,
            segs_in: 0,
            challenge_acks: 0,
            config: config.clone(),
        }
    }

    // ---- user calls (RFC 9293 §3.10.1 - §3.10.6) ----

    /// SEND: copies as much of `data` as the send buffer takes; returns the bytes taken
    /// (0 when full, or when the sending side is closed: see [`Tcb::may_send`]).
    pub fn send(&mut self, data: &[u8]) -> usize {
        if !self.may_send() {
            return 0;
        }
        let room = self.config.send_buffer.saturating_sub(self.send_buf.len());
        let n = room.min(data.len());
        self.send_buf.extend(&data[..n]);
        if n < data.len() {
            self.writable_wanted = true;
        }
        n
    }

    /// RECEIVE: copies buffered in-order data into `buf`; returns the bytes copied (0
    /// when nothing is buffered; [`Tcb::is_eof`] tells the end of the stream apart).
    pub fn recv(&mut self, buf: &mut [u8]) -> usize {
        let n = buf.len().min(self.recv_buf.len());
        // The ring's two halves, copied whole (draining byte by byte costs far more).
        let (front, back) = self.recv_buf.as_slices();
        let first = n.min(front.len());
        buf[..first].copy_from_slice(&front[..first]);
        buf[first..n].copy_from_slice(&back[..n - first]);
        self.recv_buf.drain(..n);
        if n > 0 && self.state.is_synchronized() && !self.fin_received {
            // RFC 9293 §3.8.6.2.2: tell the peer once the window grew by
            // min(buffer / 2, MSS), so a closed window reopens without a probe.
            let grow = self.window_right_edge() - self.rcv_adv;
            let threshold = (self.config.recv_buffer / 2).min(self.eff_mss() as usize) as i32;
            if grow >= threshold.max(1) {
                self.ack_now = true;
            }
        }
        n
    }

    /// The buffered bytes `recv` would return.
    pub fn recv_queue(&self) -> usize {
        self.recv_buf.len()
    }

    /// Bytes accepted by `send` and not yet acknowledged.
    pub fn send_queue(&self) -> usize {
        self.send_buf.len()
    }

    /// Room left in the send buffer.
    pub fn send_capacity(&self) -> usize {
        self.config.send_buffer.saturating_sub(self.send_buf.len())
    }

    /// Whether `send` may take data: the connection is open (or opening) and not shut.
    pub fn may_send(&self) -> bool {
        !self.fin_queued
            && matches!(
                self.state,
                State::SynSent | State::SynReceived | State::Established | State::CloseWait
            )
    }

    /// The peer's FIN arrived and every byte before it was read.
    pub fn is_eof(&self) -> bool {
        self.fin_received && self.recv_buf.is_empty()
    }

    /// Shutdown of the sending side (RFC 9293 CLOSE, a half-close): a FIN follows the
    /// data already sent; reading goes on.
    pub fn shutdown(&mut self) {
        if self.fin_queued {
            return;
        }
        match self.state {
            // Queued until the handshake completes (RFC 9293 §3.10.4, SYN-RECEIVED).
            State::SynSent | State::SynReceived => self.fin_queued = true,
            State::Established => {
                self.fin_queued = true;
                self.state = State::FinWait1;
            }
            State::CloseWait => {
                self.fin_queued = true;
                self.state = State::LastAck;
            }
            _ => {}
        }
    }

    /// Close: no more sending and no more reading. With data unread, or when data arrives
    /// later, the connection is reset, since that data is lost (RFC 9293 §3.6, RFC 1122
    /// 4.2.2.13). In SYN-SENT the connection is deleted (§3.10.4).
    pub fn close(&mut self) {
        self.read_closed = true;
        if !self.recv_buf.is_empty() {
            self.abort();
            return;
        }
        match self.state {
            State::SynSent | State::Listen => self.enter_closed(),
            _ => self.shutdown(),
        }
    }

    /// ABORT (RFC 9293 §3.10.5): a RST in the states where the peer holds state, then
    /// CLOSED.
    pub fn abort(&mut self) {
        if matches!(
            self.state,
            State::SynReceived
                | State::Established
                | State::FinWait1
                | State::FinWait2
                | State::CloseWait
        ) {
            // <SEQ=SND.NXT><CTL=RST>
            let seq = self.snd_max;
            self.pending_rst = Some(Box::new(self.bare(seq, None, Flags::RST)));
        }
        self.enter_closed();
    }

    /// Turns the Nagle algorithm off (true) or on (RFC 9293 §3.7.4).
    pub fn set_nodelay(&mut self, nodelay: bool) {
        self.nodelay = nodelay;
    }

    /// Turns keep-alives on or off (RFC 9293 §3.8.4); timing from the config.
    pub fn set_keepalive(&mut self, on: bool, now: Instant) {
        self.keepalive = on;
        self.keepalive_sent = 0;
        self.keepalive_at = None;
        self.arm_keepalive(now);
    }

    /// The path MTU toward the peer changed (Packet Too Big, RFC 8201; or the route's MTU
    /// at creation). The MSS becomes `mtu - 60`; segments in flight that no longer fit
    /// are sent again, smaller, without counting it as congestion. Values below 1280 are
    /// taken as 1280 (RFC 8201 §4).
    pub fn set_path_mtu(&mut self, mtu: u32) {
        let mtu = mtu.max(MIN_MTU);
        if mtu == self.path_mtu {
            return;
        }
        let old = self.eff_mss();
        self.path_mtu = mtu;
        if !self.syn_sent() {
            self.local_mss = (mtu - HEADERS).min(u32::from(u16::MAX)) as u16;
        }
        let new = self.eff_mss();
        self.cc.set_mss(new);
        if new < old && self.state.is_synchronized() && self.snd_nxt - self.snd_una > 0 {
            // What was sent at the old size was dropped on the way: send it again now.
            self.snd_nxt = self.snd_una;
            self.rtt_probe = None;
            self.scoreboard.clear();
        }
    }

    /// An ICMP error concerning this connection (the glue matched the quoted header's
    /// ports and checked [`Tcb::icmp_quote_valid`]). In SYN-SENT a port unreachable or
    /// administratively prohibited aborts the open; otherwise it is a soft error, kept
    /// and reported (RFC 5461, RFC 9293 §3.9.1).
    pub fn icmp_error(&mut self, err: IcmpError) {
        self.last_error = Some(err);
        self.push_event(TcpEvent::Error(err));
        let hard = matches!(err, IcmpError::DstUnreachable { code: 1 | 4 });
        if hard && self.state == State::SynSent {
            self.enter_closed();
        }
    }

    /// RFC 5927 §4.1: an ICMP error is believed only if the sequence number it quotes
    /// lies in SND.UNA..=SND.MAX (data we sent and which is not yet acknowledged).
    pub fn icmp_quote_valid(&self, seq: SeqNumber) -> bool {
        seq >= self.snd_una && seq <= self.snd_max
    }

    // ---- segment arrival (RFC 9293 §3.10.7) ----

    /// SEGMENT ARRIVES for this connection: `seg` parsed from a segment whose checksum the
    /// glue verified, `payload` its data. Drain `poll_transmit` and `poll_event` after.
    pub fn receive(&mut self, now: Instant, seg: &Repr, payload: &[u8]) {
        self.segs_in += 1;
        let payload = &payload[..payload.len().min(seg.payload_len)];
        match self.state {
            State::Closed | State::Listen => {
                // §3.10.7.1: a segment for a closed connection gets a RST.
                self.pending_rst = reset_for(self.tuple, seg, payload.len()).map(Box::new);
            }
            State::SynSent => self.receive_syn_sent(now, seg, payload),
            _ => self.receive_synchronized(now, seg, payload),
        }
    }

    /// §3.10.7.3, SYN-SENT.
    fn receive_syn_sent(&mut self, now: Instant, seg: &Repr, payload: &[u8]) {
        let f = seg.flags;
        if f.ack() {
            // "If SEG.ACK =< ISS or SEG.ACK > SND.NXT, send a reset (unless the RST bit is
            // set, if so drop the segment and return)".
            if seg.ack_number - self.iss <= 0 || seg.ack_number - self.snd_max > 0 {
                if !f.rst() {
                    self.pending_rst = Some(Box::new(self.bare(seg.ack_number, None, Flags::RST)));
                }
                return;
            }
        }
        if f.rst() {
            // RFC 5961 §3: only a RST that acknowledges the SYN resets ("connection refused").
            if f.ack() {
                self.push_event(TcpEvent::Reset);
                self.enter_closed();
            }
            return;
        }
        if !f.syn() {
            return;
        }
        self.last_recv_at = now;
        self.irs = seg.seq_number;
        self.rcv_nxt = seg.seq_number + 1;
        self.rcv_adv = self.rcv_nxt;
        self.negotiate(seg, now);
        // The peer knows our window from our SYN, unscaled.
        self.rcv_adv = self.rcv_nxt + self.config.recv_buffer.min(usize::from(u16::MAX)) as u32;
        if f.ack() {
            self.take_rtt_sample(now, seg);
            self.snd_una = seg.ack_number;
            self.rto_at = None;
        }
        if self.snd_una - self.iss > 0 {
            // Our SYN is acknowledged: ESTABLISHED. The SYN's window is never scaled.
            self.snd_wnd = u32::from(seg.window_len);
            self.max_snd_wnd = self.snd_wnd;
            self.snd_wl1 = seg.seq_number;
            self.snd_wl2 = seg.ack_number;
            self.give_up_at = None;
            self.consecutive_timeouts = 0;
            self.enter_established(now);
            self.ack_now = true;
            // Data or a FIN on the SYN-ACK: processed from the sixth step on.
            self.process_text(now, seg.seq_number + 1, payload, f.fin());
        } else {
            // Simultaneous open (§3.5, figure 8): SYN-RECEIVED, SYN-ACK with our ISS.
            self.state = State::SynReceived;
            self.snd_wnd = u32::from(seg.window_len);
            self.max_snd_wnd = self.snd_wnd;
            self.snd_wl1 = seg.seq_number;
            self.syn_pending = true;
        }
    }

    /// §3.10.7.4, SYN-RECEIVED and the synchronized states.
    fn receive_synchronized(&mut self, now: Instant, seg: &Repr, payload: &[u8]) {
        let f = seg.flags;
        // A retransmitted SYN while our SYN-ACK is unanswered: answer again, at once.
        if self.state == State::SynReceived
            && f.syn()
            && !f.ack()
            && !f.rst()
            && seg.seq_number == self.irs
        {
            self.syn_pending = true;
            return;
        }
        // Simultaneous open (§3.5, figure 8, line 6): the peer's SYN-ACK, a SYN already
        // counted but an ACK of ours that completes the handshake: only the new part, the
        // ACK, is processed.
        let mut seq = seg.seq_number;
        let mut f = f;
        if self.state == State::SynReceived
            && f.syn()
            && f.ack()
            && !f.rst()
            && seq == self.irs
            && seg.ack_number == self.iss + 1
        {
            seq += 1;
            f = Flags(f.0 & !Flags::SYN.0);
        }
        // RFC 7323 §5.3 R1: PAWS, before the sequence number test.
        if self.ts_ok && !f.rst() {
            match seg.timestamps {
                Some((tsval, _)) => {
                    let stale = now - self.ts_recent_age >= self.config.paws_idle;
                    if (tsval.wrapping_sub(self.ts_recent) as i32) < 0 && !stale {
                        self.ack_now = true;
                        return;
                    }
                }
                // RFC 7323 §3.2: once negotiated, a non-RST segment without it SHOULD be
                // dropped.
                None => return,
            }
        }
        let seg_len = payload.len() as u32 + u32::from(f.syn()) + u32::from(f.fin());
        let rcv_wnd = self.rcv_wnd();
        // §3.10.7.4 first: the acceptability test.
        let mut payload = payload;
        let mut fin = f.fin();
        let acceptable = match (seg_len, rcv_wnd) {
            (0, 0) => seq == self.rcv_nxt,
            (0, _) => seq.in_window(self.rcv_nxt, rcv_wnd),
            (_, 0) => false,
            (_, _) => {
                seq.in_window(self.rcv_nxt, rcv_wnd)
                    || (seq + (seg_len - 1)).in_window(self.rcv_nxt, rcv_wnd)
            }
        };
        if !acceptable {
            // "special allowance should be made to accept valid ACKs, URGs, and RSTs" when
            // the window is zero: keep the control part of an in-sequence segment.
            if rcv_wnd == 0 && seq == self.rcv_nxt && !f.syn() {
                payload = &[];
                fin = false;
                self.ack_now = true;
            } else {
                if !f.rst() {
                    self.ack_now = true;
                }
                // TIME-WAIT: "The only thing that can arrive in this state is a
                // retransmission of the remote FIN. Acknowledge it, and restart the 2 MSL
                // timeout" (its sequence number is now below RCV.NXT).
                if self.state == State::TimeWait
                    && f.fin()
                    && !f.rst()
                    && seq + seg_len == self.rcv_nxt
                {
                    self.close_at = Some(now + self.config.msl * 2);
                }
                return;
            }
        }
        self.last_recv_at = now;
        self.keepalive_sent = 0;
        if self.keepalive_at.is_some() {
            self.keepalive_at = Some(now + self.config.keepalive_idle);
        }
        // RFC 7323 §4.3: TS.Recent follows the segment at the left edge.
        if let (true, Some((tsval, _))) = (self.ts_ok, seg.timestamps)
            && (tsval.wrapping_sub(self.ts_recent) as i32) >= 0
            && seq - self.last_ack_sent <= 0
        {
            self.ts_recent = tsval;
            self.ts_recent_age = now;
        }
        // Second: RST (RFC 5961 §3.2).
        if f.rst() {
            if seq != self.rcv_nxt {
                self.challenge_ack(now);
                return;
            }
            match self.state {
                State::SynReceived if self.passive => {
                    // "return this connection to the LISTEN state": the listener forgets it.
                    self.enter_closed();
                }
                State::SynReceived
                | State::Established
                | State::FinWait1
                | State::FinWait2
                | State::CloseWait => {
                    self.push_event(TcpEvent::Reset);
                    self.enter_closed();
                }
                _ => self.enter_closed(),
            }
            return;
        }
        // Fourth: SYN (RFC 5961 §4.2): a challenge ACK, whatever the sequence number.
        if f.syn() {
            if self.state == State::SynReceived && self.passive {
                self.enter_closed();
            } else {
                self.challenge_ack(now);
            }
            return;
        }
        // Fifth: the ACK field.
        if !f.ack() {
            return;
        }
        let ack = seg.ack_number;
        if self.state == State::SynReceived {
            if !(ack - self.snd_una > 0 && ack - self.snd_max <= 0) {
                // <SEQ=SEG.ACK><CTL=RST>
                self.pending_rst = Some(Box::new(self.bare(ack, None, Flags::RST)));
                return;
            }
            self.snd_wnd = u32::from(seg.window_len) << self.snd_shift;
            self.max_snd_wnd = self.snd_wnd;
            self.snd_wl1 = seq;
            self.snd_wl2 = ack;
            self.give_up_at = None;
            self.consecutive_timeouts = 0;
            self.enter_established(now);
        }
        // RFC 5961 §5.2: (SND.UNA - MAX.SND.WND) =< SEG.ACK =< SND.NXT, else discard
        // and send an ACK.
        let too_old = self.snd_una - self.max_snd_wnd.min(i32::MAX as u32);
        if ack - self.snd_max > 0 || ack - too_old < 0 {
            self.challenge_ack(now);
            return;
        }
        if self.state == State::TimeWait {
            // Only a retransmitted FIN can come: acknowledge it, restart the 2 MSL.
            if fin {
                self.ack_now = true;
                self.close_at = Some(now + self.config.msl * 2);
            }
            return;
        }
        self.process_ack(now, seg, payload.is_empty() && !fin);
        if self.state == State::Closed {
            return;
        }
        // Sixth: URG is not implemented (RFC 6093: urgent data stays in line).
        // Seventh and eighth: text and FIN.
        self.process_text(now, seq, payload, fin);
    }

    /// §3.10.7.4 fifth, for ESTABLISHED and the closing states: SND.UNA, the window,
    /// RTT, congestion control and loss recovery.
    fn process_ack(&mut self, now: Instant, seg: &Repr, pure_ack: bool) {
        let ack = seg.ack_number;
        let seq = seg.seq_number;
        let win = u32::from(seg.window_len) << self.snd_shift;
        let newly_acked = ack - self.snd_una;
        let sack_news = self.sack_ok && self.update_scoreboard(seg);
        if newly_acked > 0 {
            let mut n = newly_acked as u32;
            if self.snd_una == self.iss {
                n -= 1; // the SYN
            }
            let fin_acked = self
                .fin_seq
                .is_some_and(|f| ack - f > 0 && self.snd_una - f <= 0);
            if fin_acked {
                n = n.saturating_sub(1);
            }
            let data = (n as usize).min(self.send_buf.len());
            self.send_buf.drain(..data);
            self.bytes_acked += data as u64;
            self.take_rtt_sample(now, seg);
            self.snd_una = ack;
            if self.snd_nxt - ack < 0 {
                self.snd_nxt = ack;
            }
            if self.high_rxt - ack < 0 {
                self.high_rxt = ack;
            }
            self.consecutive_timeouts = 0;
            self.give_up_at = None;
            self.persist_backoff = 0;
            if self.in_recovery {
                if ack - self.recover >= 0 {
                    // RFC 6582 §3.2 step 3 (full ACK) / RFC 6675 §5: recovery ends.
                    self.in_recovery = false;
                    self.dupacks = 0;
                    self.cc.on_recovery_exit();
                } else if !self.sack_ok {
                    // RFC 6582 §3.2 step 4, partial ACK: the next hole goes out now.
                    self.cc.on_partial_ack(data as u32);
                    self.rexmit_una = true;
                }
            } else {
                self.dupacks = 0;
                let srtt = self.rtt.srtt();
                self.cc.on_ack(now, data as u32, self.flight(), srtt);
            }
            // RFC 6298 §5.2, §5.3: stop the timer when all is acknowledged, else restart.
            self.rto_at = if self.snd_nxt - self.snd_una > 0 {
                Some(now + self.rtt.rto())
            } else {
                None
            };
            if self.writable_wanted && data > 0 {
                self.writable_wanted = false;
                self.push_event(TcpEvent::Writable);
            }
            if fin_acked {
                match self.state {
                    State::FinWait1 => {
                        self.state = State::FinWait2;
                        // A closed connection does not wait forever for the peer's FIN.
                        if self.read_closed
                            && let Some(limit) = self.config.fin_wait_2_timeout
                        {
                            self.close_at = Some(now + limit);
                        }
                    }
                    State::Closing => self.enter_time_wait(now),
                    State::LastAck => {
                        self.enter_closed();
                        return;
                    }
                    _ => {}
                }
            }
        } else if newly_acked == 0
            && self.snd_nxt - self.snd_una > 0
            && pure_ack
            && (win == self.snd_wnd || sack_news)
        {
            // RFC 5681 §2 "duplicate acknowledgment" (with SACK, RFC 6675 §2: one that
            // brings SACK information).
            self.on_duplicate_ack(now);
        }
        // §3.10.7.4: the send window moves with newer segments only.
        if ack - self.snd_una >= 0
            && (self.snd_wl1 - seq < 0 || (self.snd_wl1 == seq && self.snd_wl2 - ack <= 0))
        {
            self.snd_wnd = win;
            self.max_snd_wnd = self.max_snd_wnd.max(win);
            self.snd_wl1 = seq;
            self.snd_wl2 = ack;
        }
        self.update_persist(now);
    }

    fn update_scoreboard(&mut self, seg: &Repr) -> bool {
        if seg.sack_blocks.is_empty() && self.scoreboard.is_empty() {
            // Nothing held and nothing new: the update would leave it empty.
            return false;
        }
        let before: Vec<bool> = seg
            .sack_blocks
            .as_slice()
            .iter()
            .map(|&(l, _)| self.scoreboard.is_sacked(l))
            .collect();
        let blocks: Vec<(SeqNumber, SeqNumber)> = seg
            .sack_blocks
            .as_slice()
            .iter()
            .copied()
            // RFC 2018 §4 / RFC 6675: blocks outside SND.UNA..SND.MAX are ignored (a
            // D-SACK below SND.UNA brings nothing to the scoreboard).
            .filter(|&(l, r)| r - l > 0 && l - self.snd_una >= 0 && r - self.snd_max <= 0)
            .collect();
        let ack = seg.ack_number.max(self.snd_una);
        self.scoreboard.update(ack, self.snd_max, &blocks);
        blocks
            .iter()
            .zip(before)
            .any(|(&(l, _), was)| !was && self.scoreboard.is_sacked(l))
    }

    /// RFC 5681 §3.2, RFC 6582 §3.2, RFC 6675 §5.
    fn on_duplicate_ack(&mut self, now: Instant) {
        self.dupacks = self.dupacks.saturating_add(1);
        if self.in_recovery {
            return;
        }
        let mss = self.eff_mss();
        let triggered = self.dupacks >= self.config.dup_thresh
            || (self.sack_ok && self.scoreboard.is_lost(self.snd_una, mss));
        // RFC 6582 §3.2 step 2: not again for losses from before the last recovery or
        // timeout (the cumulative ACK must be past "recover").
        if triggered && self.snd_una - 1 - self.recover >= 0 {
            self.in_recovery = true;
            self.recover = self.snd_max;
            self.high_rxt = self.snd_una;
            self.cc.on_congestion_event(now, self.flight());
            self.rexmit_una = true;
            self.rtt_probe = None;
            self.fast_retransmits += 1;
        }
    }

    /// Seventh and eighth steps: the segment's text, then its FIN.
    fn process_text(&mut self, now: Instant, seq: SeqNumber, payload: &[u8], fin: bool) {
        if !payload.is_empty() && self.read_closed {
            // The application closed: this data cannot be delivered (RFC 1122 4.2.2.13).
            self.abort();
            return;
        }
        let accepts_text = matches!(
            self.state,
            State::Established | State::FinWait1 | State::FinWait2
        );
        let mut fin_at = if fin {
            Some(seq + payload.len() as u32)
        } else {
            None
        };
        if accepts_text && !payload.is_empty() {
            // Trim to RCV.NXT on the left and to the window and the buffer on the right.
            let mut seq = seq;
            let mut data = payload;
            let skip = self.rcv_nxt - seq;
            if skip > 0 {
                data = data.get(skip as usize..).unwrap_or(&[]);
                seq = self.rcv_nxt;
            }
            let room = self.config.recv_buffer.saturating_sub(self.recv_buf.len()) as u32;
            let limit = room.min(self.rcv_wnd());
            let offset = (seq - self.rcv_nxt).max(0) as u32;
            let keep = (limit.saturating_sub(offset) as usize).min(data.len());
            if keep < data.len() {
                data = &data[..keep];
                fin_at = None;
            }
            self.rcv_mss = self.rcv_mss.max(data.len() as u32);
            if !data.is_empty() {
                if seq == self.rcv_nxt {
                    let filled_hole = !self.ooo.is_empty();
                    self.deliver(data);
                    if filled_hole {
                        // RFC 5681 §4.2: a segment that fills a gap is acknowledged at once.
                        self.ack_now = true;
                    } else {
                        self.unacked_bytes = self.unacked_bytes.saturating_add(data.len() as u32);
                        let full = self.rcv_mss.max(1);
                        if self.unacked_bytes >= self.config.delayed_ack_segments * full {
                            self.ack_now = true;
                        } else if self.delack_at.is_none() {
                            self.delack_at = Some(now + self.config.delayed_ack_timeout);
                        }
                    }
                } else {
                    if let Some((l, r)) = self.ooo.insert(self.rcv_nxt, seq, data) {
                        self.rcv_blocks.record(l, r);
                    }
                    // RFC 5681 §4.2: an out-of-order segment is acknowledged at once.
                    self.ack_now = true;
                }
            }
        } else if !payload.is_empty() {
            // After the FIN (or before ESTABLISHED) text is ignored; say where we are.
            self.ack_now = true;
        }
        if let Some(at) = fin_at {
            if at == self.rcv_nxt {
                self.process_fin(now);
            } else if at - self.rcv_nxt > 0 && accepts_text {
                self.ooo_fin = Some(at);
                self.ack_now = true;
            }
        }
        if self.ooo_fin == Some(self.rcv_nxt) && !self.fin_received {
            self.ooo_fin = None;
            self.process_fin(now);
        }
    }

    /// In-order data at RCV.NXT, then whatever the reassembly queue now releases.
    fn deliver(&mut self, data: &[u8]) {
        self.recv_buf.extend(data);
        self.rcv_nxt += data.len() as u32;
        self.bytes_received += data.len() as u64;
        while let Some(more) = self.ooo.pop_ready(self.rcv_nxt) {
            let room = self.config.recv_buffer.saturating_sub(self.recv_buf.len());
            let take = more.len().min(room);
            self.recv_buf.extend(&more[..take]);
            self.rcv_nxt += take as u32;
            self.bytes_received += take as u64;
        }
        self.rcv_blocks.advance(self.rcv_nxt);
        self.push_event(TcpEvent::Readable);
    }

    /// Eighth step: the FIN, in sequence.
    fn process_fin(&mut self, now: Instant) {
        if self.fin_received {
            return;
        }
        self.fin_received = true;
        self.rcv_nxt += 1;
        self.ack_now = true;
        self.ooo.clear();
        self.push_event(TcpEvent::PeerClosed);
        self.push_event(TcpEvent::Readable);
        match self.state {
            State::SynReceived | State::Established => self.state = State::CloseWait,
            State::FinWait1 => {
                if self.fin_acked() {
                    self.enter_time_wait(now);
                } else {
                    // Simultaneous close (§3.6, figure 13).
                    self.state = State::Closing;
                }
            }
            State::FinWait2 => self.enter_time_wait(now),
            _ => {}
        }
    }

    // ---- timers ----

    /// Time passed: fires the timers due at or before `now`. Drain `poll_transmit` after.
    pub fn poll(&mut self, now: Instant) {
        if self.close_at.is_some_and(|t| t <= now) {
            self.close_at = None;
            if self.state == State::FinWait2 {
                self.push_event(TcpEvent::TimedOut(self.last_error));
            }
            self.enter_closed();
            return;
        }
        if self.rto_at.is_some_and(|t| t <= now) {
            self.on_retransmission_timeout(now);
        }
        if self.persist_at.is_some_and(|t| t <= now) {
            self.on_persist_timeout(now);
        }
        if self.delack_at.is_some_and(|t| t <= now) {
            self.delack_at = None;
            self.ack_now = true;
        }
        if self.keepalive_at.is_some_and(|t| t <= now) {
            self.on_keepalive_timeout(now);
        }
    }

    /// The next instant `poll` has work, if any.
    pub fn poll_at(&self) -> Option<Instant> {
        [
            self.rto_at,
            self.persist_at,
            self.delack_at,
            self.keepalive_at,
            self.close_at,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// RFC 6298 §5.4 - §5.7, RFC 9293 §3.8.3 (R1, R2).
    fn on_retransmission_timeout(&mut self, now: Instant) {
        self.rto_at = None;
        let outstanding = match self.state {
            State::SynSent | State::SynReceived => true,
            _ => self.snd_nxt - self.snd_una > 0,
        };
        if !outstanding {
            return;
        }
        if self.give_up_at.is_some_and(|t| now >= t) {
            self.push_event(TcpEvent::TimedOut(self.last_error));
            self.enter_closed();
            return;
        }
        if self.give_up_at.is_none() {
            self.give_up_at = Some(now + self.config.r2);
        }
        self.timeouts += 1;
        self.consecutive_timeouts = self.consecutive_timeouts.saturating_add(1);
        if self.consecutive_timeouts == self.config.r1
            && let Some(e) = self.last_error
        {
            self.push_event(TcpEvent::Error(e));
        }
        self.rtt.back_off();
        self.rtt_probe = None;
        match self.state {
            State::SynSent | State::SynReceived => {
                self.syn_pending = true;
                self.syn_retransmitted = true;
            }
            _ => {
                // RFC 5681 §3.1: cwnd to one segment (cc.rs keeps ssthresh on a repeated
                // timeout of the same data).
                self.cc.on_rto(now, self.flight());
                // RFC 6582 §3.2 / RFC 6675 §5.1: recovery ends; "recover" is the highest
                // sequence number sent. RFC 2018 §8: SACK information is reset.
                self.in_recovery = false;
                self.dupacks = 0;
                self.recover = self.snd_max;
                self.rexmit_una = false;
                self.scoreboard.clear();
                // Go back N: everything from SND.UNA is sent again as the window allows.
                self.snd_nxt = self.snd_una;
            }
        }
        // §5.5: the timer restarts with the backed-off value.
        self.rto_at = Some(now + self.rtt.rto());
    }

    /// RFC 9293 §3.8.6.1: the zero-window probe, with exponential backoff. The probing
    /// goes on as long as the peer answers (an ACK resets `give_up_at`).
    fn on_persist_timeout(&mut self, now: Instant) {
        self.persist_at = None;
        if self.snd_wnd != 0 || self.unsent() == 0 {
            return;
        }
        if now - self.last_recv_at >= self.config.r2 {
            self.push_event(TcpEvent::TimedOut(self.last_error));
            self.enter_closed();
            return;
        }
        self.probe_pending = true;
        self.persist_backoff = self.persist_backoff.saturating_add(1);
        self.persist_at = Some(now + self.persist_interval());
    }

    /// RFC 9293 §3.8.4: after `keepalive_idle` of silence, probes every
    /// `keepalive_interval`; `keepalive_count` unanswered ones end the connection.
    fn on_keepalive_timeout(&mut self, now: Instant) {
        self.keepalive_at = None;
        if !self.keepalive || !matches!(self.state, State::Established | State::CloseWait) {
            return;
        }
        if self.keepalive_sent >= self.config.keepalive_count {
            self.push_event(TcpEvent::TimedOut(self.last_error));
            self.abort();
            return;
        }
        // Only when idle: with data outstanding the retransmission timer watches.
        if self.snd_nxt == self.snd_una {
            self.keepalive_pending = true;
            self.keepalive_sent += 1;
        }
        self.keepalive_at = Some(now + self.config.keepalive_interval);
    }

    // ---- output ----

    /// The next segment to send, if any. Call until `None` after every input.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Segment> {
        if let Some(rst) = self.pending_rst.take() {
            self.segs_out += 1;
            return Some(*rst);
        }
        let seg = match self.state {
            State::Closed | State::Listen => None,
            State::SynSent => self.transmit_syn(now, false),
            State::SynReceived => self.transmit_syn(now, true).or_else(|| {
                // An ACK owed (an unacceptable segment): <SEQ=SND.NXT><ACK=RCV.NXT>.
                self.ack_now.then(|| self.ack_segment(now, self.snd_nxt))
            }),
            _ => self.transmit_synchronized(now),
        };
        if seg.is_some() {
            self.segs_out += 1;
        }
        seg
    }

    /// [`poll_transmit`](Self::poll_transmit) for a caller that copies the payload
    /// itself, straight into the packet, with [`copy_payload`](Self::copy_payload)
    /// before anything else touches the connection: the segment's `payload` is left
    /// empty and `repr.payload_len` says how long it is.
    pub fn poll_transmit_header(&mut self, now: Instant) -> Option<Segment> {
        self.defer_payload = true;
        let seg = self.poll_transmit(now);
        self.defer_payload = false;
        seg
    }

    /// The payload of a segment from [`poll_transmit_header`](Self::poll_transmit_header)
    /// (`seq`: its sequence number, `len`: its `repr.payload_len`), appended to `out`.
    pub fn copy_payload(&self, seq: SeqNumber, len: usize, out: &mut Vec<u8>) {
        let off = ((seq - self.snd_una).max(0) as usize).min(self.send_buf.len());
        let end = off + len.min(self.send_buf.len() - off);
        let (front, back) = self.send_buf.as_slices();
        // The ring's two halves, copied whole.
        if off < front.len() {
            out.extend_from_slice(&front[off..end.min(front.len())]);
        }
        if end > front.len() {
            out.extend_from_slice(&back[off.saturating_sub(front.len())..end - front.len()]);
        }
    }

    /// What `poll_transmit` would send now, without sending it: whether the glue should
    /// call it (after a user call such as `send`).
    pub fn wants_transmit(&self) -> bool {
        self.pending_rst.is_some()
            || self.syn_pending
            || self.ack_now
            || self.rexmit_una
            || self.probe_pending
            || self.keepalive_pending
            || (self.state.is_synchronized() && self.unsent() > 0)
            || (self.fin_queued && self.fin_seq.is_none() && self.state.is_synchronized())
    }

    pub fn poll_event(&mut self) -> Option<TcpEvent> {
        self.events.pop_front()
    }

    fn transmit_syn(&mut self, now: Instant, with_ack: bool) -> Option<Segment> {
        if !self.syn_pending {
            return None;
        }
        self.syn_pending = false;
        self.ack_now = false;
        let retransmission = self.snd_max - self.iss > 0;
        if retransmission {
            self.retransmissions += 1;
        } else {
            self.rtt_probe = Some((self.iss + 1, now));
        }
        self.snd_nxt = self.iss + 1;
        self.snd_max = self.iss + 1;
        let mut flags = Flags::SYN;
        let ack = if with_ack {
            flags |= Flags::ACK;
            Some(self.rcv_nxt)
        } else {
            None
        };
        let mut seg = self.bare(self.iss, ack, flags);
        let r = &mut seg.repr;
        // RFC 7323 §2.2: the window of a SYN is never scaled.
        r.window_len = self.config.recv_buffer.min(usize::from(u16::MAX)) as u16;
        self.rcv_adv = self.rcv_nxt + u32::from(r.window_len);
        r.max_seg_size = Some(self.local_mss);
        // A SYN-ACK carries an option only when the SYN did (RFC 7323 §1.3, RFC 2018 §2).
        let offer = |enabled: bool, agreed: bool| enabled && (!with_ack || agreed);
        if offer(self.config.window_scaling, self.ws_ok) {
            r.window_scale = Some(self.rcv_shift);
        }
        if offer(self.config.sack, self.sack_ok) {
            r.sack_permitted = true;
        }
        if offer(self.config.timestamps, self.ts_ok) {
            let tsecr = if with_ack { self.ts_recent } else { 0 };
            r.timestamps = Some((self.ts_clock(now), tsecr));
        }
        if with_ack {
            self.last_ack_sent = self.rcv_nxt;
        }
        if self.rto_at.is_none() {
            self.rto_at = Some(now + self.rtt.rto());
        }
        Some(seg)
    }

    fn transmit_synchronized(&mut self, now: Instant) -> Option<Segment> {
        let sends_data = matches!(
            self.state,
            State::Established
                | State::CloseWait
                | State::FinWait1
                | State::Closing
                | State::LastAck
        );
        if sends_data {
            if let Some(seg) = self.transmit_data(now) {
                return Some(seg);
            }
            // Data waits behind a closed window with nothing in flight: only the persist
            // timer will find out when it opens.
            self.update_persist(now);
            if self.probe_pending {
                self.probe_pending = false;
                if self.unsent() > 0 {
                    // One byte past the closed window (RFC 9293 §3.8.6.1); SND.NXT stays,
                    // but an ACK covering the byte is acceptable (SND.MAX).
                    let seq = self.snd_nxt;
                    if self.snd_max - (seq + 1) < 0 {
                        self.snd_max = seq + 1;
                    }
                    return Some(self.data_segment(now, seq, 1, false));
                }
            }
        }
        if self.keepalive_pending {
            self.keepalive_pending = false;
            // RFC 9293 §3.8.4: <SEQ=SND.NXT-1>, which the peer must acknowledge.
            return Some(self.ack_segment(now, self.snd_nxt - 1));
        }
        if self.ack_now {
            return Some(self.ack_segment(now, self.snd_nxt));
        }
        None
    }

    /// Retransmissions first (fast retransmit, SACK holes), then new data, then the FIN.
    fn transmit_data(&mut self, now: Instant) -> Option<Segment> {
        let mss = self.eff_mss();
        let data_end = self.snd_una + self.send_buf.len() as u32;
        if self.rexmit_una {
            self.rexmit_una = false;
            let outstanding_data = (data_end.min(self.snd_max) - self.snd_una).max(0) as u32;
            let len = outstanding_data.min(mss);
            let with_fin = len == outstanding_data && self.fin_seq.is_some();
            if len > 0 || with_fin {
                self.retransmissions += 1;
                let seq = self.snd_una;
                self.high_rxt = self.high_rxt.max(seq + len);
                let seg = self.data_segment(now, seq, len, with_fin);
                self.arm_rto(now);
                return Some(seg);
            }
        }
        // RFC 6675 §5 (C): while pipe < cwnd, NextSeg: rule 1 (a lost segment) comes
        // before new data (rule 2), rule 3 (an unSACKed one) after it.
        let mut rule3 = None;
        if self.in_recovery && self.sack_ok && self.pipe() < self.cc.cwnd() {
            let next = self
                .scoreboard
                .next_seg(self.snd_una, self.snd_max, self.high_rxt, mss);
            if let Some((seq, len)) = next
                && seq - self.snd_una >= 0
                && seq - self.snd_max < 0
            {
                let end = (seq + len.min(mss)).min(data_end).min(self.snd_max);
                let len = (end - seq).max(0) as u32;
                if len > 0 {
                    if self.scoreboard.is_lost(seq, mss) {
                        return Some(self.retransmit(now, seq, len));
                    }
                    rule3 = Some((seq, len));
                }
            }
        }
        if let Some(seg) = self.transmit_new(now) {
            return Some(seg);
        }
        let (seq, len) = rule3?;
        Some(self.retransmit(now, seq, len))
    }

    fn retransmit(&mut self, now: Instant, seq: SeqNumber, len: u32) -> Segment {
        self.retransmissions += 1;
        self.high_rxt = self.high_rxt.max(seq + len);
        let seg = self.data_segment(now, seq, len, false);
        self.arm_rto(now);
        seg
    }

    /// New data (or data again after a timeout) from SND.NXT, within both windows, and
    /// the FIN after it.
    fn transmit_new(&mut self, now: Instant) -> Option<Segment> {
        let mss = self.eff_mss();
        let cwnd = self.cc.cwnd();
        let data_end = self.snd_una + self.send_buf.len() as u32;
        let available = (data_end - self.snd_nxt).max(0) as u32;
        let wnd_room = ((self.snd_una + self.snd_wnd) - self.snd_nxt).max(0) as u32;
        let cwnd_room = cwnd.saturating_sub(self.pipe());
        let sack_len = self.sack_option_len();
        let seg_max = mss.saturating_sub(sack_len).max(1);
        let len = available.min(wnd_room).min(cwnd_room).min(seg_max);
        let fin_due = self.fin_queued
            && matches!(
                self.state,
                State::FinWait1 | State::Closing | State::LastAck
            )
            && self.snd_nxt + len == data_end
            && self.fin_seq.is_none_or(|f| self.snd_nxt - f <= 0);
        if len == 0 && !(fin_due && available == 0 && cwnd_room > 0) {
            return None;
        }
        if len < seg_max && !fin_due {
            // RFC 9293 §3.7.4 Nagle and §3.8.6.2.1 sender SWS avoidance: a short segment
            // goes when it empties the buffer and nothing is unacknowledged (or Nagle is
            // off), or when it is half the largest window the peer offered.
            let all = len == available;
            let idle = self.snd_nxt == self.snd_una;
            let half_window = len >= (self.max_snd_wnd / 2).max(1);
            let retransmitting = self.snd_nxt - self.snd_max < 0;
            // Idle and limited by a small offered window: nothing else would wake us.
            let window_limited = idle && len == wnd_room;
            if !((all && (idle || self.nodelay)) || half_window || retransmitting || window_limited)
            {
                return None;
            }
        }
        let seq = self.snd_nxt;
        let retransmission = seq - self.snd_max < 0;
        if retransmission {
            self.retransmissions += 1;
        } else if self.rtt_probe.is_none() && !self.ts_ok && len > 0 {
            self.rtt_probe = Some((seq + len, now));
        }
        let seg = self.data_segment(now, seq, len, fin_due);
        self.snd_nxt = seq + len + u32::from(fin_due);
        if fin_due {
            self.fin_seq = Some(seq + len);
        }
        if self.snd_max - self.snd_nxt < 0 {
            self.snd_max = self.snd_nxt;
        }
        self.arm_rto(now);
        self.persist_at = None;
        Some(seg)
    }

    /// A segment with `len` bytes of the send buffer from `seq`, ACK set, PSH on the last
    /// bytes buffered.
    fn data_segment(&mut self, now: Instant, seq: SeqNumber, len: u32, fin: bool) -> Segment {
        let off = (seq - self.snd_una).max(0) as usize;
        let end = (off + len as usize).min(self.send_buf.len());
        let start = off.min(end);
        let mut flags = Flags::ACK;
        if end == self.send_buf.len() && end > start {
            flags |= Flags::PSH;
        }
        if fin {
            flags |= Flags::FIN;
        }
        let mut seg = self.bare(seq, Some(self.rcv_nxt), flags);
        seg.repr.payload_len = end - start;
        if !self.defer_payload {
            seg.payload = self.send_buf.range(start..end).copied().collect();
        }
        self.finish_ack(now, &mut seg.repr);
        seg
    }

    fn ack_segment(&mut self, now: Instant, seq: SeqNumber) -> Segment {
        let mut seg = self.bare(seq, Some(self.rcv_nxt), Flags::ACK);
        self.finish_ack(now, &mut seg.repr);
        seg
    }

    /// The fields every segment of a synchronized connection carries: window,
    /// timestamps, SACK blocks. Sending an ACK settles the delayed one.
    fn finish_ack(&mut self, now: Instant, r: &mut Repr) {
        r.window_len = self.window_to_advertise();
        if self.ts_ok {
            r.timestamps = Some((self.ts_clock(now), self.ts_recent));
        }
        if self.sack_ok {
            // RFC 2018 §4: the most recent block first; three fit beside timestamps.
            let max = if self.ts_ok { 3 } else { 4 };
            let mut blocks = SackBlocks::new();
            for (l, r) in self.rcv_blocks.iter(max) {
                blocks.push(l, r);
            }
            r.sack_blocks = blocks;
        }
        self.ack_now = false;
        self.delack_at = None;
        self.unacked_bytes = 0;
        self.last_ack_sent = self.rcv_nxt;
    }

    /// A header with no options: ports, sequence and acknowledgment numbers, flags.
    fn bare(&self, seq: SeqNumber, ack: Option<SeqNumber>, flags: Flags) -> Segment {
        Segment {
            src: self.tuple.local.0,
            dst: self.tuple.remote.0,
            repr: Repr {
                src_port: self.tuple.local.1,
                dst_port: self.tuple.remote.1,
                seq_number: seq,
                ack_number: ack.unwrap_or(SeqNumber(0)),
                flags: if ack.is_some() {
                    flags | Flags::ACK
                } else {
                    flags
                },
                window_len: 0,
                urgent_pointer: 0,
                max_seg_size: None,
                window_scale: None,
                sack_permitted: false,
                sack_blocks: SackBlocks::new(),
                timestamps: None,
                unknown_options: RawOptions::new(),
                payload_len: 0,
            },
            payload: Vec::new(),
        }
    }

    // ---- research ----

    pub fn info(&self) -> TcpInfo {
        TcpInfo {
            state: self.state,
            tuple: self.tuple,
            iss: self.iss,
            irs: self.irs,
            snd_una: self.snd_una,
            snd_nxt: self.snd_nxt,
            snd_max: self.snd_max,
            snd_wnd: self.snd_wnd,
            rcv_nxt: self.rcv_nxt,
            rcv_wnd: self.rcv_wnd(),
            snd_wscale: self.snd_shift,
            rcv_wscale: self.rcv_shift,
            cwnd: self.cc.cwnd(),
            ssthresh: self.cc.ssthresh(),
            congestion_control: self.cc.algorithm(),
            in_recovery: self.in_recovery,
            srtt: self.rtt.srtt(),
            rttvar: self.rtt.rttvar(),
            rto: self.rtt.rto(),
            backoff: self.rtt.backoff(),
            retransmissions: self.retransmissions,
            timeouts: self.timeouts,
            fast_retransmits: self.fast_retransmits,
            mss: self.eff_mss(),
            path_mtu: self.path_mtu,
            timestamps: self.ts_ok,
            sack: self.sack_ok,
            nodelay: self.nodelay,
            bytes_in_flight: self.flight(),
            send_buffered: self.send_buf.len(),
            recv_buffered: self.recv_buf.len(),
            ooo_bytes: self.ooo.bytes(),
            bytes_acked: self.bytes_acked,
            bytes_received: self.bytes_received,
            segs_out: self.segs_out,
            segs_in: self.segs_in,
            challenge_acks: self.challenge_acks,
            last_error: self.last_error,
        }
    }

    /// Segments sent again so far ([`TcpInfo::retransmissions`] without the rest).
    pub fn retransmissions(&self) -> u64 {
        self.retransmissions
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn tuple(&self) -> FourTuple {
        self.tuple
    }

    pub fn config(&self) -> &TcpConfig {
        &self.config
    }

    // ---- private ----

    /// Options of a SYN (`passive`: the peer's SYN) or SYN-ACK: MSS, window scale, SACK,
    /// timestamps. An option is in use only when both sides sent it.
    fn negotiate(&mut self, syn: &Repr, now: Instant) {
        self.peer_mss = syn
            .max_seg_size
            .map_or(u32::from(self.config.default_mss), u32::from)
            .max(MIN_MSS);
        // RFC 7323 §2.2: scaling only when both SYNs carry the option.
        match syn.window_scale {
            Some(s) if self.config.window_scaling => {
                self.ws_ok = true;
                self.snd_shift = window_shift(s);
            }
            _ => {
                self.ws_ok = false;
                self.snd_shift = 0;
                self.rcv_shift = 0;
            }
        }
        self.sack_ok = self.config.sack && syn.sack_permitted;
        if let (true, Some((tsval, _))) = (self.config.timestamps, syn.timestamps) {
            self.ts_ok = true;
            self.ts_recent = tsval;
            self.ts_recent_age = now;
        } else {
            self.ts_ok = false;
        }
        self.cc = CongestionControl::new(self.config.congestion_control, self.eff_mss(), now);
    }

    fn enter_established(&mut self, now: Instant) {
        self.state = State::Established;
        self.syn_pending = false;
        if self.syn_retransmitted {
            self.rtt.syn_timed_out_reset();
        }
        self.push_event(TcpEvent::Established);
        self.push_event(TcpEvent::Writable);
        self.arm_keepalive(now);
        if self.fin_queued {
            self.state = State::FinWait1;
        }
    }

    fn enter_time_wait(&mut self, now: Instant) {
        self.state = State::TimeWait;
        self.rto_at = None;
        self.persist_at = None;
        self.keepalive_at = None;
        self.delack_at = None;
        self.close_at = Some(now + self.config.msl * 2);
        self.send_buf.clear();
    }

    fn enter_closed(&mut self) {
        if self.state == State::Closed {
            return;
        }
        self.state = State::Closed;
        self.rto_at = None;
        self.persist_at = None;
        self.delack_at = None;
        self.keepalive_at = None;
        self.close_at = None;
        self.syn_pending = false;
        self.ack_now = false;
        self.rexmit_una = false;
        self.probe_pending = false;
        self.keepalive_pending = false;
        self.send_buf.clear();
        self.ooo.clear();
        self.push_event(TcpEvent::Closed);
    }

    /// RFC 5961 §7: challenge ACKs are rate limited.
    fn challenge_ack(&mut self, now: Instant) {
        if now - self.challenge_window >= Duration::from_secs(1) {
            self.challenge_window = now;
            self.challenge_count = 0;
        }
        if self.challenge_count < self.config.challenge_ack_limit {
            self.challenge_count += 1;
            self.challenge_acks += 1;
            self.ack_now = true;
        }
    }

    /// RTT from the echoed timestamp (RFC 7323 §4), else from the timed segment (Karn's
    /// algorithm: never from a retransmitted one).
    fn take_rtt_sample(&mut self, now: Instant, seg: &Repr) -> Option<Duration> {
        let ack = seg.ack_number;
        let sample = match (self.ts_ok, seg.timestamps) {
            (true, Some((_, tsecr))) if tsecr != 0 => {
                let ms = self.ts_clock(now).wrapping_sub(tsecr) as i32;
                (ms >= 0).then(|| Duration::from_millis(ms as u64))
            }
            _ => match self.rtt_probe {
                Some((end, sent)) if ack - end >= 0 => {
                    self.rtt_probe = None;
                    Some(now - sent)
                }
                _ => None,
            },
        };
        if let Some(r) = sample {
            // RFC 7323 Appendix G: ExpectedSamples = ceiling(FlightSize / (SMSS * 2)).
            let expected = if self.ts_ok {
                self.flight().div_ceil(2 * self.eff_mss().max(1)).max(1)
            } else {
                1
            };
            self.rtt.sample(r, expected);
        }
        sample
    }

    /// RFC 9293 §3.7.1: Eff.snd.MSS from the peer's MSS and the path MTU, less the
    /// timestamps every segment carries.
    fn eff_mss(&self) -> u32 {
        let mss = self.peer_mss.min(self.path_mtu.saturating_sub(HEADERS));
        let opts = if self.ts_ok { TS_OPTION_LEN } else { 0 };
        mss.saturating_sub(opts).max(1)
    }

    fn sack_option_len(&self) -> u32 {
        if !self.sack_ok {
            return 0;
        }
        let max = if self.ts_ok { 3 } else { 4 };
        let n = self.rcv_blocks.len().min(max) as u32;
        if n == 0 { 0 } else { 4 + 8 * n }
    }

    fn flight(&self) -> u32 {
        (self.snd_nxt - self.snd_una).max(0) as u32
    }

    /// The data in the network: RFC 6675's pipe with SACK; without, the flight less one
    /// segment per duplicate ACK (what RFC 5681 §3.2's window inflation amounts to).
    fn pipe(&self) -> u32 {
        if !self.in_recovery {
            // RFC 3042 Limited Transmit: each of the first two duplicate ACKs lets one new
            // segment out beyond cwnd (only new data is sent outside recovery).
            let limited = self.dupacks.min(2).saturating_mul(self.eff_mss());
            return self.flight().saturating_sub(limited);
        }
        let mss = self.eff_mss();
        if self.sack_ok {
            self.scoreboard
                .pipe(self.snd_una, self.snd_nxt, self.high_rxt, mss)
        } else {
            self.flight()
                .saturating_sub(self.dupacks.saturating_mul(mss))
        }
    }

    fn unsent(&self) -> u32 {
        let data_end = self.snd_una + self.send_buf.len() as u32;
        (data_end - self.snd_nxt).max(0) as u32
    }

    fn syn_sent(&self) -> bool {
        self.snd_max - self.iss > 0
    }

    fn fin_acked(&self) -> bool {
        self.fin_seq.is_some_and(|f| self.snd_una - f > 0)
    }

    /// RCV.WND as the peer knows it: up to the right edge last offered.
    fn rcv_wnd(&self) -> u32 {
        (self.rcv_adv - self.rcv_nxt).max(0) as u32
    }

    /// The right edge the buffer allows now.
    fn window_right_edge(&self) -> SeqNumber {
        let free = self.config.recv_buffer.saturating_sub(self.recv_buf.len());
        let max = u32::from(u16::MAX) << self.rcv_shift;
        self.rcv_nxt + (free.min(max as usize) as u32)
    }

    /// The window field, scaled, keeping the right edge where it was unless it moves by
    /// min(buffer / 2, MSS) (receiver SWS avoidance, RFC 9293 §3.8.6.2.2) and never moving
    /// it left.
    fn window_to_advertise(&mut self) -> u16 {
        let edge = self.window_right_edge();
        let grow = edge - self.rcv_adv;
        let threshold = (self.config.recv_buffer / 2).min(self.eff_mss() as usize) as i32;
        let target = if grow >= threshold.max(1) || self.rcv_adv - self.rcv_nxt < 0 {
            edge
        } else {
            self.rcv_adv.max(self.rcv_nxt)
        };
        let wnd = (target - self.rcv_nxt).max(0) as u32;
        let field = (wnd >> self.rcv_shift).min(u32::from(u16::MAX));
        let offered = self.rcv_nxt + (field << self.rcv_shift);
        if offered - self.rcv_adv > 0 {
            self.rcv_adv = offered;
        }
        field as u16
    }

    fn ts_clock(&self, now: Instant) -> u32 {
        (now.total_millis() as u32).wrapping_add(self.ts_offset)
    }

    fn arm_rto(&mut self, now: Instant) {
        if self.rto_at.is_none() {
            self.rto_at = Some(now + self.rtt.rto());
        }
    }

    fn arm_keepalive(&mut self, now: Instant) {
        if self.keepalive && self.state.is_synchronized() && self.keepalive_at.is_none() {
            self.keepalive_at = Some(now + self.config.keepalive_idle);
        }
    }

    fn persist_interval(&self) -> Duration {
        let factor = 1u32 << self.persist_backoff.min(16);
        self.rtt
            .rto()
            .saturating_mul(factor)
            .clamp(self.config.rto_min, self.config.rto_max)
    }

    /// Starts the persist timer when the peer's window is closed with data waiting and
    /// nothing in flight (the retransmission timer then has nothing to watch).
    fn update_persist(&mut self, now: Instant) {
        if self.snd_wnd == 0 && self.unsent() > 0 && self.snd_nxt == self.snd_una {
            if self.persist_at.is_none() {
                self.persist_at = Some(now + self.persist_interval());
            }
        } else {
            self.persist_at = None;
            self.probe_pending = false;
        }
    }

    fn push_event(&mut self, e: TcpEvent) {
        if self.events.contains(&e) {
            return;
        }
        if self.events.len() >= MAX_EVENTS {
            self.events.pop_front();
        }
        self.events.push_back(e);
    }
}

/// The smallest shift that lets a 16-bit window cover `buffer` (RFC 7323 §2.3, at most 14).
pub(crate) fn shift_for(buffer: usize) -> u8 {
    let mut s = 0u8;
    while s < 14 && (usize::from(u16::MAX) << s) < buffer {
        s += 1;
    }
    s
}

/// RFC 9293 §3.10.7.1: the RST answering a segment for no connection (CLOSED), or `None`
/// for a RST. `tuple` is the receiving side's view (local = the segment's destination).
pub fn reset_for(tuple: FourTuple, seg: &Repr, payload_len: usize) -> Option<Segment> {
    let f = seg.flags;
    if f.rst() {
        return None;
    }
    let (seq, ack, flags) = if f.ack() {
        // <SEQ=SEG.ACK><CTL=RST>
        (seg.ack_number, SeqNumber(0), Flags::RST)
    } else {
        // <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
        let len = payload_len as u32 + u32::from(f.syn()) + u32::from(f.fin());
        (SeqNumber(0), seg.seq_number + len, Flags::RST | Flags::ACK)
    };
    Some(Segment {
        src: tuple.local.0,
        dst: tuple.remote.0,
        repr: Repr {
            src_port: tuple.local.1,
            dst_port: tuple.remote.1,
            seq_number: seq,
            ack_number: ack,
            flags,
            window_len: 0,
            urgent_pointer: 0,
            max_seg_size: None,
            window_scale: None,
            sack_permitted: false,
            sack_blocks: SackBlocks::new(),
            timestamps: None,
            unknown_options: RawOptions::new(),
            payload_len: 0,
        },
        payload: Vec::new(),
    })
}
