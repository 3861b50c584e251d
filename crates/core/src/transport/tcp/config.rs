//! Per-connection and per-listener parameters of TCP, with the RFCs' defaults.

use std::sync::Arc;

use crate::time::Duration;

use super::cc::Algorithm;

/// TCP's protocol constants and limits. Every buffer and queue a peer can fill is bounded
/// here. Names follow the RFCs (MSL, RTO, R1/R2, DupThresh).
#[derive(Debug, Clone)]
pub struct TcpConfig {
    /// Maximum Segment Lifetime (RFC 9293 §3.4.2: 2 minutes); TIME-WAIT lasts `2 * msl`.
    pub msl: Duration,
    /// RFC 6298 §2.1: the RTO before any RTT sample is 1 second.
    pub rto_initial: Duration,
    /// RFC 6298 §2.4: the RTO is rounded up to 1 second when below it.
    pub rto_min: Duration,
    /// RFC 6298 §2.5: an upper bound of at least 60 seconds may be placed on the RTO.
    pub rto_max: Duration,
    /// RFC 6298 §2: G, the clock granularity that bounds the variance term from below.
    pub clock_granularity: Duration,
    /// RFC 9293 §3.8.3: R1, retransmissions of one segment before the user is told of
    /// trouble (an `Error` event carrying the last ICMP cause, if any).
    pub r1: u32,
    /// RFC 9293 §3.8.3: R2, how long retransmissions of one segment go on before the
    /// connection is closed; at least 100 seconds.
    pub r2: Duration,
    /// RFC 9293 §3.8.3: R2 for a SYN, at least 3 minutes.
    pub r2_syn: Duration,
    /// RFC 9293 §3.8.6.3 / RFC 5681 §4.2: an ACK is delayed at most this long (< 500 ms).
    pub delayed_ack_timeout: Duration,
    /// RFC 5681 §4.2: an ACK SHOULD be sent for at least every second full-sized segment.
    pub delayed_ack_segments: u32,
    /// After `close` (not `shutdown`), how long FIN-WAIT-2 waits for the peer's FIN
    /// before the connection is dropped (RFC 9293 sets no limit; without one a silent peer
    /// holds the connection forever). `None`: wait forever.
    pub fin_wait_2_timeout: Option<Duration>,
    /// RFC 9293 §3.8.4: keep-alives are off unless the application asks for them.
    pub keepalive: bool,
    /// RFC 9293 §3.8.4: the idle interval before the first probe, no less than 2 hours.
    pub keepalive_idle: Duration,
    /// The interval between unanswered probes (75 s, as BSD and Linux).
    pub keepalive_interval: Duration,
    /// Unanswered probes before the connection is declared dead (9, as BSD and Linux).
    pub keepalive_count: u32,
    /// RFC 9293 §3.7.4: the Nagle algorithm is on unless the application turns it off.
    pub nodelay: bool,
    /// The send buffer's capacity in bytes: `send` accepts no more than this, unacknowledged
    /// data included.
    pub send_buffer: usize,
    /// The receive buffer's capacity in bytes; the window offered never exceeds it, so the
    /// in-order data plus the out-of-order data held stay within it.
    pub recv_buffer: usize,
    /// Out-of-order ranges held for reassembly. Their bytes are bounded by the receive
    /// window; when the count is exceeded the range furthest from RCV.NXT is dropped (a
    /// renege, which RFC 2018 §8 allows; the sender keeps it until it is acknowledged).
    pub max_ooo_ranges: usize,
    /// RFC 8200 §8.3 / RFC 9293 §3.7.1: the send MSS assumed when the peer sends no MSS
    /// option: the IPv6 minimum MTU (1280) less 60 bytes of headers.
    pub default_mss: u16,
    /// RFC 5681 §3.2: DupThresh, the duplicate ACKs that start fast retransmit.
    pub dup_thresh: u32,
    /// Congestion control for new connections (RFC 5681 with RFC 6582, or RFC 9438).
    pub congestion_control: Algorithm,
    /// RFC 7323 §2: offer window scaling.
    pub window_scaling: bool,
    /// RFC 7323 §3: offer timestamps (RTTM and PAWS).
    pub timestamps: bool,
    /// RFC 2018: offer SACK.
    pub sack: bool,
    /// RFC 5961 §7: challenge ACKs sent per connection per second at most.
    pub challenge_ack_limit: u32,
    /// RFC 7323 §5.5: TS.Recent older than this (24 days) is invalid for PAWS.
    pub paws_idle: Duration,
    /// Half-open connections (SYN-RECEIVED) a listener holds; when full, new SYNs are
    /// answered with SYN cookies and no state is kept (no eviction needed).
    pub syn_backlog: usize,
    /// Established connections waiting for `accept`; when full, the handshake's last ACK
    /// is dropped (the peer retransmits) and cookie SYNs are still answered.
    pub accept_backlog: usize,
    /// Segments a listener queues for sending (SYN-ACKs of cookies, RSTs); when full, the
    /// newest is dropped, as a lost segment would be.
    pub listener_tx_queue: usize,
}

impl Default for TcpConfig {
    fn default() -> Self {
        Self {
            msl: Duration::from_secs(120),
            rto_initial: Duration::from_secs(1),
            rto_min: Duration::from_secs(1),
            rto_max: Duration::from_secs(60),
            clock_granularity: Duration::from_millis(1),
            r1: 3,
            r2: Duration::from_secs(100),
            r2_syn: Duration::from_secs(180),
            delayed_ack_timeout: Duration::from_millis(200),
            delayed_ack_segments: 2,
            fin_wait_2_timeout: Some(Duration::from_secs(60)),
            keepalive: false,
            keepalive_idle: Duration::from_secs(2 * 3600),
            keepalive_interval: Duration::from_secs(75),
            keepalive_count: 9,
            nodelay: false,
            send_buffer: 256 * 1024,
            recv_buffer: 256 * 1024,
            max_ooo_ranges: 64,
            default_mss: 1220,
            dup_thresh: 3,
            congestion_control: Algorithm::NewReno,
            window_scaling: true,
            timestamps: true,
            sack: true,
            challenge_ack_limit: 10,
            paws_idle: Duration::from_secs(24 * 24 * 3600),
            syn_backlog: 128,
            accept_backlog: 128,
            listener_tx_queue: 256,
        }
    }
}

/// A configuration that connections share instead of each holding a copy (272 bytes a
/// connection): `&Arc<TcpConfig>` is shared as it is, a plain `&TcpConfig` copied into a
/// new one.
pub trait ShareConfig {
    fn share(self) -> Arc<TcpConfig>;
}

impl ShareConfig for &TcpConfig {
    fn share(self) -> Arc<TcpConfig> {
        Arc::new(self.clone())
    }
}

impl ShareConfig for &Arc<TcpConfig> {
    fn share(self) -> Arc<TcpConfig> {
        Arc::clone(self)
    }
}
