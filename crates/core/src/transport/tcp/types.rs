//! The values a connection shows the outside: its state, its events, the segments it
//! asks the glue to send, and its variables for research.

use std::fmt;
use std::net::Ipv6Addr;

use sixstack_wire::tcp::{Repr, SeqNumber};

use crate::time::Duration;

use super::cc::Algorithm;

/// The eleven states of RFC 9293 §3.3.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum State {
    Closed,
    Listen,
    SynSent,
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
}

impl State {
    /// RFC 9293 §3.3.2's "synchronized" states (ESTABLISHED and later).
    pub fn is_synchronized(self) -> bool {
        !matches!(
            self,
            State::Closed | State::Listen | State::SynSent | State::SynReceived
        )
    }
}

/// The RFC's spelling: `SYN-SENT`, `TIME-WAIT`.
impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::Closed => "CLOSED",
            State::Listen => "LISTEN",
            State::SynSent => "SYN-SENT",
            State::SynReceived => "SYN-RECEIVED",
            State::Established => "ESTABLISHED",
            State::FinWait1 => "FIN-WAIT-1",
            State::FinWait2 => "FIN-WAIT-2",
            State::CloseWait => "CLOSE-WAIT",
            State::Closing => "CLOSING",
            State::LastAck => "LAST-ACK",
            State::TimeWait => "TIME-WAIT",
        })
    }
}

/// The connection's two ends: (address, port) each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FourTuple {
    pub local: (Ipv6Addr, u16),
    pub remote: (Ipv6Addr, u16),
}

/// One segment to send: the glue puts it in an IPv6 packet from `src` to `dst`, emits the
/// header with `repr.emit_with_payload` (which fills the checksum) and sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    pub repr: Repr,
    pub payload: Vec<u8>,
}

impl Segment {
    /// SEG.LEN: the payload, plus one for SYN and one for FIN (RFC 9293 §3.4).
    pub fn seg_len(&self) -> u32 {
        let f = self.repr.flags;
        self.payload.len() as u32 + u32::from(f.syn()) + u32::from(f.fin())
    }
}

/// The ICMPv6 errors a connection reacts to (RFC 9293 §3.9.1 "IP errors", RFC 5461);
/// Packet Too Big goes to [`super::Tcb::set_path_mtu`] instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcmpError {
    DstUnreachable { code: u8 },
    TimeExceeded { code: u8 },
    ParamProblem { code: u8, pointer: u32 },
}

/// What a connection tells its user, drained with [`super::Tcb::poll_event`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpEvent {
    /// The three-way handshake completed.
    Established,
    /// Data (or the end of the stream) can be read.
    Readable,
    /// Room appeared in the send buffer after a `send` that did not take everything.
    Writable,
    /// The peer's FIN arrived: after the buffered data, `recv` reports the end.
    PeerClosed,
    /// A valid RST arrived ("connection reset", or "refused" in SYN-SENT).
    Reset,
    /// Retransmissions (R2) or keep-alives went unanswered; carries the last ICMP error.
    TimedOut(Option<IcmpError>),
    /// An ICMP error concerning the connection (a soft error unless a `Closed` follows).
    Error(IcmpError),
    /// The connection reached CLOSED; after `poll_transmit` returns `None` it can be freed.
    Closed,
}

/// The connection's variables, for `tcp show` and for research.
#[derive(Debug, Clone, PartialEq)]
pub struct TcpInfo {
    pub state: State,
    pub tuple: FourTuple,
    pub iss: SeqNumber,
    pub irs: SeqNumber,
    pub snd_una: SeqNumber,
    pub snd_nxt: SeqNumber,
    /// The highest sequence number sent, plus one.
    pub snd_max: SeqNumber,
    /// The peer's window, scaled.
    pub snd_wnd: u32,
    pub rcv_nxt: SeqNumber,
    /// The window last offered, scaled.
    pub rcv_wnd: u32,
    pub snd_wscale: u8,
    pub rcv_wscale: u8,
    pub cwnd: u32,
    pub ssthresh: u32,
    pub congestion_control: Algorithm,
    pub in_recovery: bool,
    pub srtt: Option<Duration>,
    pub rttvar: Duration,
    pub rto: Duration,
    pub backoff: u32,
    /// Segments sent again (by RTO, fast retransmit, SACK recovery or an MTU drop).
    pub retransmissions: u64,
    pub timeouts: u64,
    pub fast_retransmits: u64,
    /// The send MSS in use (payload bytes per segment, options excluded).
    pub mss: u32,
    pub path_mtu: u32,
    pub timestamps: bool,
    pub sack: bool,
    pub nodelay: bool,
    pub bytes_in_flight: u32,
    pub send_buffered: usize,
    pub recv_buffered: usize,
    pub ooo_bytes: usize,
    pub bytes_acked: u64,
    pub bytes_received: u64,
    pub segs_out: u64,
    pub segs_in: u64,
    pub challenge_acks: u64,
    pub last_error: Option<IcmpError>,
}
