//! TEMPORARY stand-ins for `cc.rs`, `sack.rs`, `isn.rs` and `syncookie.rs`, which another
//! branch writes with these same interfaces. Only here so this branch compiles and its
//! tests run; the lead deletes this file at merge (see `mod.rs`). Minimal, not reviewed
//! for production use.

#![allow(dead_code)]

pub mod cc {
    //! Stand-in: NewReno only (RFC 5681, RFC 6582); Cubic behaves as NewReno here.
    use crate::time::{Duration, Instant};

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Algorithm {
        NewReno,
        Cubic,
    }

    #[derive(Debug, Clone)]
    pub struct CongestionControl {
        alg: Algorithm,
        mss: u32,
        cwnd: u32,
        ssthresh: u32,
        acked: u32,
        timed_out: bool,
    }

    impl CongestionControl {
        pub fn new(alg: Algorithm, mss: u32, _now: Instant) -> Self {
            let mss = mss.max(1);
            // RFC 3390.
            let cwnd = (4 * mss).min((2 * mss).max(4380));
            Self {
                alg,
                mss,
                cwnd,
                ssthresh: u32::MAX,
                acked: 0,
                timed_out: false,
            }
        }
        pub fn cwnd(&self) -> u32 {
            self.cwnd
        }
        pub fn ssthresh(&self) -> u32 {
            self.ssthresh
        }
        pub fn algorithm(&self) -> Algorithm {
            self.alg
        }
        pub fn set_mss(&mut self, mss: u32) {
            self.mss = mss.max(1);
        }
        pub fn on_ack(
            &mut self,
            _now: Instant,
            bytes_acked: u32,
            _in_flight: u32,
            _rtt: Option<Duration>,
        ) {
            if bytes_acked > 0 {
                self.timed_out = false;
            }
            if self.cwnd < self.ssthresh {
                self.cwnd = self.cwnd.saturating_add(bytes_acked.min(self.mss));
            } else {
                self.acked = self.acked.saturating_add(bytes_acked);
                if self.acked >= self.cwnd {
                    self.acked -= self.cwnd;
                    self.cwnd = self.cwnd.saturating_add(self.mss);
                }
            }
        }
        pub fn on_congestion_event(&mut self, _now: Instant, in_flight: u32) {
            self.ssthresh = (in_flight / 2).max(2 * self.mss);
            self.cwnd = self.ssthresh;
        }
        pub fn on_partial_ack(&mut self, bytes_acked: u32) {
            self.cwnd = self.cwnd.saturating_sub(bytes_acked);
            if bytes_acked >= self.mss {
                self.cwnd += self.mss;
            }
            self.cwnd = self.cwnd.max(self.mss);
        }
        pub fn on_recovery_exit(&mut self) {
            self.cwnd = self.ssthresh;
        }
        pub fn on_rto(&mut self, _now: Instant, in_flight: u32) {
            if !self.timed_out {
                self.ssthresh = (in_flight / 2).max(2 * self.mss);
            }
            self.timed_out = true;
            self.cwnd = self.mss;
        }
    }
}

pub mod sack {
    //! Stand-in: RFC 6675 scoreboard over at most 32 SACKed ranges.
    use sixstack_wire::tcp::SeqNumber;

    const MAX: usize = 32;
    const DUP_THRESH: u32 = 3;

    #[derive(Debug, Clone, Default)]
    pub struct Scoreboard {
        ranges: Vec<(SeqNumber, SeqNumber)>,
    }

    impl Scoreboard {
        pub fn new() -> Self {
            Self::default()
        }
        pub fn update(
            &mut self,
            snd_una: SeqNumber,
            snd_nxt: SeqNumber,
            blocks: &[(SeqNumber, SeqNumber)],
        ) {
            self.ranges.retain(|&(_, r)| r > snd_una);
            for r in &mut self.ranges {
                r.0 = r.0.max(snd_una);
            }
            for &(l, r) in blocks {
                if !(l >= snd_una && r <= snd_nxt && l < r) {
                    continue;
                }
                let (mut l, mut r) = (l, r);
                self.ranges.retain(|&(a, b)| {
                    if a <= r && b >= l {
                        l = l.min(a);
                        r = r.max(b);
                        false
                    } else {
                        true
                    }
                });
                let at = self
                    .ranges
                    .iter()
                    .position(|&(a, _)| a > l)
                    .unwrap_or(self.ranges.len());
                self.ranges.insert(at, (l, r));
            }
            self.ranges.truncate(MAX);
        }
        pub fn is_sacked(&self, seq: SeqNumber) -> bool {
            self.ranges.iter().any(|&(l, r)| seq >= l && seq < r)
        }
        fn sacked_above(&self, seq: SeqNumber) -> (u32, u32) {
            let mut bytes = 0u32;
            let mut n = 0;
            for &(l, r) in &self.ranges {
                if r > seq {
                    n += 1;
                    bytes = bytes.saturating_add((r - l.max(seq)) as u32);
                }
            }
            (n, bytes)
        }
        pub fn is_lost(&self, seq: SeqNumber, mss: u32) -> bool {
            let (n, bytes) = self.sacked_above(seq);
            n >= DUP_THRESH || bytes > (DUP_THRESH - 1) * mss
        }
        fn highest_sacked(&self) -> Option<SeqNumber> {
            self.ranges.last().map(|&(_, r)| r)
        }
        pub fn pipe(
            &self,
            snd_una: SeqNumber,
            snd_nxt: SeqNumber,
            high_rxt: SeqNumber,
            mss: u32,
        ) -> u32 {
            let mss = mss.max(1);
            let mut pipe = 0u32;
            let mut s = snd_una;
            while s < snd_nxt {
                let len = ((snd_nxt - s) as u32).min(mss);
                if !self.is_sacked(s) {
                    if !self.is_lost(s, mss) {
                        pipe = pipe.saturating_add(len);
                    }
                    if s < high_rxt {
                        pipe = pipe.saturating_add(len);
                    }
                }
                s += len;
            }
            pipe
        }
        pub fn next_seg(
            &self,
            snd_una: SeqNumber,
            _snd_nxt: SeqNumber,
            high_rxt: SeqNumber,
            mss: u32,
        ) -> Option<(SeqNumber, u32)> {
            let mss = mss.max(1);
            let top = self.highest_sacked()?;
            let mut s = snd_una;
            let mut rule3 = None;
            while s < top {
                let sacked_here = self.ranges.iter().find(|&&(l, r)| s >= l && s < r);
                if let Some(&(_, r)) = sacked_here {
                    s = r;
                    continue;
                }
                let next_sacked = self
                    .ranges
                    .iter()
                    .map(|&(l, _)| l)
                    .find(|&l| l > s)
                    .unwrap_or(top);
                let len = ((next_sacked - s) as u32).min(mss);
                if s >= high_rxt {
                    if self.is_lost(s, mss) {
                        return Some((s, len));
                    }
                    if rule3.is_none() {
                        rule3 = Some((s, len));
                    }
                }
                s += len;
            }
            rule3
        }
        pub fn clear(&mut self) {
            self.ranges.clear();
        }
    }

    /// The receiver's SACK blocks, most recent first (RFC 2018 §4), at most 8 kept.
    #[derive(Debug, Clone, Default)]
    pub struct ReceivedBlocks {
        max: usize,
        blocks: Vec<(SeqNumber, SeqNumber)>,
    }

    impl ReceivedBlocks {
        pub fn new(max: usize) -> Self {
            Self {
                max,
                blocks: Vec::new(),
            }
        }
        pub fn record(&mut self, left: SeqNumber, right: SeqNumber) {
            let (mut l, mut r) = (left, right);
            self.blocks.retain(|&(a, b)| {
                if a <= r && b >= l {
                    l = l.min(a);
                    r = r.max(b);
                    false
                } else {
                    true
                }
            });
            self.blocks.insert(0, (l, r));
            self.blocks.truncate(self.max);
        }
        pub fn advance(&mut self, rcv_nxt: SeqNumber) {
            self.blocks.retain(|&(_, r)| r > rcv_nxt);
        }
        pub fn blocks(&self, max: usize) -> Vec<(SeqNumber, SeqNumber)> {
            self.blocks.iter().take(max).copied().collect()
        }
    }
}

pub mod isn {
    //! Stand-in: RFC 6528, M + F(tuple, secret), M a 4 µs timer.
    use std::net::Ipv6Addr;

    use sha2::{Digest, Sha256};
    use sixstack_wire::tcp::SeqNumber;

    use crate::time::Instant;

    #[derive(Debug, Clone)]
    pub struct IsnGenerator {
        secret: [u8; 32],
    }

    impl IsnGenerator {
        pub fn new(secret: [u8; 32]) -> Self {
            Self { secret }
        }
        pub fn isn(
            &self,
            now: Instant,
            local: (Ipv6Addr, u16),
            remote: (Ipv6Addr, u16),
        ) -> SeqNumber {
            let mut h = Sha256::new();
            h.update(local.0.octets());
            h.update(local.1.to_be_bytes());
            h.update(remote.0.octets());
            h.update(remote.1.to_be_bytes());
            h.update(self.secret);
            let d = h.finalize();
            let f = u32::from_be_bytes([d[0], d[1], d[2], d[3]]);
            SeqNumber(f.wrapping_add((now.total_micros() / 4) as u32))
        }
    }
}

pub mod syncookie {
    //! Stand-in: a keyed hash over the tuple, the client's ISN and a 64 s slot, with the
    //! MSS's index in the low 3 bits.
    use std::net::Ipv6Addr;

    use sha2::{Digest, Sha256};
    use sixstack_wire::tcp::SeqNumber;

    use crate::time::Instant;

    const MSS: [u16; 8] = [536, 1220, 1380, 1420, 1440, 1460, 4036, 8940];

    /// The SYN's options a cookie's timestamp carries.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct CookieOptions {
        pub window_scale: Option<u8>,
        pub sack_permitted: bool,
    }

    #[derive(Debug, Clone)]
    pub struct SynCookies {
        secret: [u8; 32],
    }

    impl SynCookies {
        pub fn new(secret: [u8; 32]) -> Self {
            Self { secret }
        }
        fn mac(
            &self,
            slot: u64,
            local: (Ipv6Addr, u16),
            remote: (Ipv6Addr, u16),
            isn: SeqNumber,
        ) -> u32 {
            let mut h = Sha256::new();
            h.update(self.secret);
            h.update(slot.to_be_bytes());
            h.update(local.0.octets());
            h.update(local.1.to_be_bytes());
            h.update(remote.0.octets());
            h.update(remote.1.to_be_bytes());
            h.update(isn.0.to_be_bytes());
            let d = h.finalize();
            u32::from_be_bytes([d[0], d[1], d[2], d[3]])
        }
        pub fn encode(
            &self,
            now: Instant,
            local: (Ipv6Addr, u16),
            remote: (Ipv6Addr, u16),
            client_isn: SeqNumber,
            mss: u16,
        ) -> SeqNumber {
            let idx = MSS.iter().rposition(|&m| m <= mss).unwrap_or(0) as u32;
            let slot = now.total_micros() / 64_000_000;
            SeqNumber((self.mac(slot, local, remote, client_isn) & !7) | idx)
        }
        /// TSval for a cookie's SYN-ACK: the clock's upper bits, then SACK (0x10) and the
        /// shift (0xf for none); never above `ts_now`.
        pub fn encode_ts(&self, ts_now: u32, options: CookieOptions) -> u32 {
            let ws = options.window_scale.map_or(0xf, |w| u32::from(w.min(14)));
            let sack = if options.sack_permitted { 0x10 } else { 0 };
            let ts = (ts_now & !0x1f) | sack | ws;
            if ts > ts_now {
                ts.wrapping_sub(0x20)
            } else {
                ts
            }
        }
        pub fn decode_ts(&self, ts_ecr: u32) -> CookieOptions {
            let ws = ts_ecr & 0xf;
            CookieOptions {
                window_scale: (ws != 0xf).then_some(ws as u8),
                sack_permitted: ts_ecr & 0x10 != 0,
            }
        }
        pub fn decode(
            &self,
            now: Instant,
            local: (Ipv6Addr, u16),
            remote: (Ipv6Addr, u16),
            client_isn: SeqNumber,
            cookie: SeqNumber,
        ) -> Option<u16> {
            let slot = now.total_micros() / 64_000_000;
            for s in [slot, slot.saturating_sub(1)] {
                if self.mac(s, local, remote, client_isn) & !7 == cookie.0 & !7 {
                    return MSS.get((cookie.0 & 7) as usize).copied();
                }
            }
            None
        }
    }
}
