//! Congestion control, selectable per connection: NewReno (RFC 5681 with RFC 6582's
//! recovery and RFC 3465's byte counting) and CUBIC (RFC 9438). Owns cwnd, ssthresh and
//! the algorithm's own variables; the TCB owns loss detection and tells this module what
//! happened (an ACK of new data, the start and end of fast recovery, a timeout, an ECN echo).
//!
//! Units: bytes for windows, `Instant`/`Duration` for time. CUBIC's formulas are in
//! segments and seconds (RFC 9438 §4.1); they are computed in `f64` with only the basic
//! operations and a cube root by Newton's method written here, so the results are the same
//! on every platform (the simulator's runs must be reproducible).
//!
//! Bounds: cwnd always lies in `[MSS, cwnd_max]` ([`CcConfig::cwnd_max`], 2^30 bytes by
//! default: the largest window RFC 7323 §2.3 lets a peer advertise, so more could never be
//! used). ssthresh starts at `u32::MAX` ("arbitrarily high", RFC 5681 §3.1) and is at
//! least 2 × MSS once set.
//!
//! Fast recovery without inflation: [`CongestionControl::on_congestion_event`] sets
//! cwnd = ssthresh exactly, which is what RFC 6675's pipe-based recovery wants. A caller
//! doing RFC 6582 NewReno without SACK adds the inflation itself: [`CongestionControl::inflate`]
//! by 3 × MSS on entering recovery and by MSS per further duplicate ACK, and
//! [`CongestionControl::on_partial_ack`] deflates.

use crate::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Algorithm {
    #[default]
    NewReno,
    Cubic,
}

impl Algorithm {
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::NewReno => "newreno",
            Algorithm::Cubic => "cubic",
        }
    }
}

/// The constants of RFC 3465 and RFC 9438, with their defaults, and the window cap.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CcConfig {
    /// RFC 3465 §2.2 L: at most L × SMSS of growth per ACK in slow start; 2.
    pub abc_l: u32,
    /// RFC 9438 §4.1 C: 0.4 (segments per second cubed). Values that are not positive
    /// are replaced by the default.
    pub cubic_c: f64,
    /// RFC 9438 §4.6 β_cubic: 0.7. Values outside (0, 1) are replaced by the default.
    pub beta_cubic: f64,
    /// RFC 9438 §4.7 fast convergence: on.
    pub fast_convergence: bool,
    /// The largest cwnd, in bytes: 2^30 (RFC 7323 §2.3's largest window).
    pub cwnd_max: u32,
}

impl Default for CcConfig {
    fn default() -> Self {
        Self {
            abc_l: 2,
            cubic_c: 0.4,
            beta_cubic: 0.7,
            fast_convergence: true,
            cwnd_max: 1 << 30,
        }
    }
}

impl CcConfig {
    fn c(&self) -> f64 {
        if self.cubic_c > 0.0 && self.cubic_c.is_finite() {
            self.cubic_c
        } else {
            0.4
        }
    }

    fn beta(&self) -> f64 {
        if self.beta_cubic > 0.0 && self.beta_cubic < 1.0 {
            self.beta_cubic
        } else {
            0.7
        }
    }

    fn cap(&self) -> u32 {
        self.cwnd_max.max(1)
    }
}

/// CUBIC's variables (RFC 9438 §4.1), windows in bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Cubic {
    /// W_max: cwnd just before the last reduction (or as fast convergence lowered it).
    w_max: f64,
    /// K, seconds.
    k: f64,
    /// t_epoch: when the current congestion avoidance stage began; `None` until its
    /// first ACK.
    epoch_start: Option<Instant>,
    /// cwnd_epoch.
    cwnd_epoch: f64,
    /// W_est, the Reno-friendly estimate (§4.3).
    w_est: f64,
    /// cwnd_prior: cwnd before the last reduction (§4.3's switch of α_cubic to 1).
    cwnd_prior: f64,
    /// Whether W_max comes from a loss or ECN reduction. After a timeout, and before any
    /// reduction, the next stage starts with W_max = cwnd_epoch and K = 0 (§4.8).
    w_max_valid: bool,
    /// Growth below one byte carried to the next ACK, in byte × bytes (divided by cwnd).
    carry: u64,
}

impl Cubic {
    fn new() -> Self {
        Self {
            w_max: 0.0,
            k: 0.0,
            epoch_start: None,
            cwnd_epoch: 0.0,
            w_est: 0.0,
            cwnd_prior: 0.0,
            w_max_valid: false,
            carry: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CongestionControl {
    alg: Algorithm,
    config: CcConfig,
    mss: u32,
    cwnd: u32,
    ssthresh: u32,
    in_recovery: bool,
    /// RFC 3465 §2.1's bytes_acked in congestion avoidance (NewReno).
    ca_bytes_acked: u32,
    /// Set by a timeout, cleared by an ACK of new data: a second timeout of the same data
    /// keeps ssthresh (RFC 5681 §3.1).
    timed_out: bool,
    /// The latest RTT the caller gave (CUBIC's target is W_cubic(t + RTT)).
    rtt: Option<Duration>,
    cubic: Cubic,
}

impl CongestionControl {
    pub fn new(alg: Algorithm, mss: u32, now: Instant) -> Self {
        Self::with_config(alg, mss, now, CcConfig::default())
    }

    /// `now` is not needed yet: CUBIC's epoch starts at the first ACK in congestion
    /// avoidance.
    pub fn with_config(alg: Algorithm, mss: u32, _now: Instant, config: CcConfig) -> Self {
        let mss = mss.clamp(1, config.cap());
        let mut cc = Self {
            alg,
            config,
            mss,
            cwnd: 0,
            ssthresh: u32::MAX,
            in_recovery: false,
            ca_bytes_acked: 0,
            timed_out: false,
            rtt: None,
            cubic: Cubic::new(),
        };
        // RFC 5681 §3.1 / RFC 3390: IW = min(4 × SMSS, max(2 × SMSS, 4380 bytes)).
        cc.set_cwnd(mss.saturating_mul(4).min(mss.saturating_mul(2).max(4380)));
        cc
    }

    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    pub fn config(&self) -> &CcConfig {
        &self.config
    }

    pub fn cwnd(&self) -> u32 {
        self.cwnd
    }

    pub fn ssthresh(&self) -> u32 {
        self.ssthresh
    }

    pub fn mss(&self) -> u32 {
        self.mss
    }

    pub fn in_recovery(&self) -> bool {
        self.in_recovery
    }

    /// "slow_start", "congestion_avoidance" or "recovery", for research output.
    pub fn state_name(&self) -> &'static str {
        if self.in_recovery {
            "recovery"
        } else if self.cwnd < self.ssthresh {
            "slow_start"
        } else {
            "congestion_avoidance"
        }
    }

    /// CUBIC's W_max in bytes, once a congestion avoidance stage or a reduction set it.
    pub fn cubic_w_max(&self) -> Option<u32> {
        (self.alg == Algorithm::Cubic
            && (self.cubic.w_max_valid || self.cubic.epoch_start.is_some()))
        .then(|| to_u32(self.cubic.w_max))
    }

    /// CUBIC's K of the current congestion avoidance stage.
    pub fn cubic_k(&self) -> Option<Duration> {
        (self.alg == Algorithm::Cubic && self.cubic.epoch_start.is_some())
            .then(|| Duration::try_from_secs_f64(self.cubic.k).unwrap_or(Duration::ZERO))
    }

    /// An ACK acknowledged `bytes_acked` new bytes. `in_flight` is what remains outstanding
    /// after it; `rtt` the current smoothed RTT if known (CUBIC uses it). The window grows
    /// only when it was used: the data outstanding before the ACK must be at least half
    /// of cwnd (RFC 7661 §4.3's validated window), so an application-limited sender does
    /// not build a window it never tested. No growth during fast recovery (RFC 6582).
    pub fn on_ack(
        &mut self,
        now: Instant,
        bytes_acked: u32,
        in_flight: u32,
        rtt: Option<Duration>,
    ) {
        if rtt.is_some() {
            self.rtt = rtt;
        }
        if bytes_acked == 0 {
            return;
        }
        self.timed_out = false;
        if self.in_recovery {
            return;
        }
        if in_flight.saturating_add(bytes_acked) < self.cwnd / 2 {
            return;
        }
        let mut bytes = bytes_acked;
        if self.cwnd < self.ssthresh {
            // RFC 5681 §3.1 slow start with RFC 3465 §2.2's limit of L × SMSS per ACK.
            let inc = bytes.min(self.config.abc_l.saturating_mul(self.mss));
            let room = self.ssthresh - self.cwnd;
            if inc < room {
                self.set_cwnd(self.cwnd.saturating_add(inc));
                return;
            }
            // Crossing ssthresh: up to it, and what is left counts in congestion avoidance.
            self.set_cwnd(self.ssthresh);
            bytes = bytes.saturating_sub(room);
            if bytes == 0 || self.cwnd < self.ssthresh {
                return;
            }
        }
        match self.alg {
            Algorithm::NewReno => self.reno_avoidance(bytes),
            Algorithm::Cubic => self.cubic_avoidance(now, bytes),
        }
    }

    /// Loss detected by duplicate ACKs or SACK: fast recovery begins (RFC 5681 §3.2,
    /// RFC 6582, RFC 6675). NewReno: ssthresh = max(FlightSize / 2, 2 × SMSS) (RFC 5681
    /// eq. 4); CUBIC: ssthresh = max(FlightSize × β_cubic, 2 × SMSS) and W_max (RFC 9438
    /// §4.6, §4.7). cwnd = ssthresh, without inflation (see the module's doc). Ignored while
    /// already in recovery: one reduction per window of data (RFC 6582 §3.2).
    pub fn on_congestion_event(&mut self, now: Instant, in_flight: u32) {
        if self.in_recovery {
            return;
        }
        self.reduce(now, in_flight);
        self.in_recovery = true;
    }

    /// RFC 6582 §3.2 step 5, for a partial ACK during recovery: deflate cwnd by the bytes
    /// newly acknowledged, and add back one SMSS if at least one SMSS was.
    pub fn on_partial_ack(&mut self, bytes_acked: u32) {
        if !self.in_recovery {
            return;
        }
        let mut cwnd = self.cwnd.saturating_sub(bytes_acked);
        if bytes_acked >= self.mss {
            cwnd = cwnd.saturating_add(self.mss);
        }
        self.set_cwnd(cwnd);
    }

    /// Inflation during RFC 6582 / RFC 5681 §3.2 recovery without SACK: 3 × SMSS on entry
    /// (step 2 there), SMSS for each further duplicate ACK (step 4). Capped like any cwnd.
    pub fn inflate(&mut self, bytes: u32) {
        self.set_cwnd(self.cwnd.saturating_add(bytes));
    }

    /// The ACK covering the recovery point arrived (RFC 6582 §3.2 step 3, option 2):
    /// cwnd = ssthresh, congestion avoidance follows.
    pub fn on_recovery_exit(&mut self) {
        if !self.in_recovery {
            return;
        }
        self.in_recovery = false;
        self.set_cwnd(self.ssthresh);
        self.ca_bytes_acked = 0;
    }

    /// The retransmission timer expired (RFC 5681 §3.1): ssthresh = max(FlightSize / 2,
    /// 2 × SMSS) (eq. 4; CUBIC: × β_cubic, RFC 9438 §4.8); cwnd = the loss window, 1 SMSS.
    /// RFC 5681 sets ssthresh only when the segment "has not yet been resent by way of the
    /// retransmission timer": a timeout with no ACK of new data since the previous one
    /// keeps ssthresh (the flight size then is one segment, and halving it would throw the
    /// earlier estimate away). Recovery, if any, is over; slow start follows.
    pub fn on_rto(&mut self, _now: Instant, in_flight: u32) {
        if !self.timed_out {
            self.ssthresh = self.reduced_ssthresh(in_flight);
            self.cubic.cwnd_prior = f64::from(self.cwnd);
        }
        self.timed_out = true;
        self.in_recovery = false;
        self.ca_bytes_acked = 0;
        // RFC 9438 §4.8: the next stage starts with W_max = cwnd_epoch and K = 0.
        self.cubic.w_max_valid = false;
        self.cubic.epoch_start = None;
        self.set_cwnd(self.mss);
    }

    /// An ACK with ECE (RFC 3168 §6.1.2): the same reduction as for a loss, without
    /// retransmission and without entering recovery. Reacting once per RTT is the caller's
    /// job; ignored while in recovery (that window was already reduced).
    pub fn on_ecn(&mut self, now: Instant, in_flight: u32) {
        if self.in_recovery {
            return;
        }
        self.reduce(now, in_flight);
    }

    /// The MSS changed (path MTU, RFC 8201). cwnd stays in bytes, raised to one new MSS if
    /// below it.
    pub fn set_mss(&mut self, mss: u32) {
        self.mss = mss.clamp(1, self.config.cap());
        self.set_cwnd(self.cwnd);
    }

    fn set_cwnd(&mut self, cwnd: u32) {
        // mss <= cap: set_mss and the constructor clamp it.
        self.cwnd = cwnd.min(self.config.cap()).max(self.mss);
    }

    fn reduced_ssthresh(&self, in_flight: u32) -> u32 {
        let floor = self.mss.saturating_mul(2);
        match self.alg {
            Algorithm::NewReno => (in_flight / 2).max(floor),
            Algorithm::Cubic => to_u32(f64::from(in_flight) * self.config.beta()).max(floor),
        }
    }

    fn reduce(&mut self, _now: Instant, in_flight: u32) {
        if self.alg == Algorithm::Cubic {
            let cwnd = f64::from(self.cwnd);
            let cubic = &mut self.cubic;
            cubic.cwnd_prior = cwnd;
            // RFC 9438 §4.7 fast convergence: a flow whose W_max keeps falling releases
            // bandwidth for new flows.
            cubic.w_max = if self.config.fast_convergence && cubic.w_max_valid && cwnd < cubic.w_max
            {
                cwnd * (1.0 + self.config.beta()) / 2.0
            } else {
                cwnd
            };
            cubic.w_max_valid = true;
            cubic.epoch_start = None;
        }
        self.ssthresh = self.reduced_ssthresh(in_flight);
        self.ca_bytes_acked = 0;
        self.set_cwnd(self.ssthresh);
    }

    /// RFC 5681 §3.1 congestion avoidance by byte counting (RFC 3465 §2.1): one SMSS each
    /// time a cwnd's worth of bytes has been acknowledged.
    fn reno_avoidance(&mut self, bytes: u32) {
        self.ca_bytes_acked = self.ca_bytes_acked.saturating_add(bytes);
        if self.ca_bytes_acked >= self.cwnd {
            // What is beyond one cwnd carries, bounded by one cwnd: at most one SMSS of
            // growth per ACK.
            self.ca_bytes_acked = (self.ca_bytes_acked - self.cwnd).min(self.cwnd);
            self.set_cwnd(self.cwnd.saturating_add(self.mss));
        }
    }

    /// W_cubic(t) of RFC 9438 §4.2 eq. 1, in segments, `t` in seconds from the epoch.
    fn w_cubic(&self, t: f64) -> f64 {
        let d = t - self.cubic.k;
        self.config.c() * d * d * d + self.cubic.w_max / f64::from(self.mss)
    }

    fn cubic_avoidance(&mut self, now: Instant, bytes: u32) {
        let mss = f64::from(self.mss);
        let cwnd = f64::from(self.cwnd);
        let epoch = match self.cubic.epoch_start {
            Some(e) => e,
            None => {
                // A new congestion avoidance stage (RFC 9438 §4.2): K from W_max and
                // cwnd_epoch, or, after a timeout or before any reduction, W_max = cwnd
                // and K = 0 (§4.8).
                let c = &mut self.cubic;
                c.epoch_start = Some(now);
                c.cwnd_epoch = cwnd;
                c.w_est = cwnd;
                c.carry = 0;
                if c.w_max_valid {
                    c.k = cbrt((c.w_max - cwnd) / mss / self.config.c());
                } else {
                    c.w_max = cwnd;
                    c.k = 0.0;
                }
                now
            }
        };
        let t = now.saturating_duration_since(epoch).as_secs_f64();
        // RFC 9438 §4.3: W_est grows like Reno with α_cubic = 3(1 − β)/(1 + β), and with
        // α = 1 once it has reached cwnd_prior.
        let beta = self.config.beta();
        let alpha = if self.cubic.w_est >= self.cubic.cwnd_prior {
            1.0
        } else {
            3.0 * (1.0 - beta) / (1.0 + beta)
        };
        self.cubic.w_est += alpha * f64::from(bytes) * mss / cwnd;
        let w_cubic = self.w_cubic(t) * mss;
        if w_cubic < self.cubic.w_est {
            // The Reno-friendly region (§4.3).
            self.set_cwnd(to_u32(self.cubic.w_est).max(self.cwnd));
            self.cubic.carry = 0;
            return;
        }
        // Concave and convex regions (§4.4, §4.5): aim at W_cubic(t + RTT), between cwnd
        // and 1.5 × cwnd, and get there over one RTT: (target − cwnd) / cwnd per SMSS acked.
        let rtt = self.rtt.unwrap_or(Duration::ZERO).as_secs_f64();
        let target = (self.w_cubic(t + rtt) * mss).clamp(cwnd, 1.5 * cwnd);
        let gap = u64::from(to_u32(target).saturating_sub(self.cwnd));
        let num = self
            .cubic
            .carry
            .saturating_add(gap.saturating_mul(u64::from(bytes)));
        let den = u64::from(self.cwnd.max(1));
        let inc = u32::try_from(num / den).unwrap_or(u32::MAX);
        self.cubic.carry = num % den;
        self.set_cwnd(self.cwnd.saturating_add(inc));
    }
}

/// A float to bytes, rounded to the nearest (0.7 × 20000 is 13999.999…), saturating;
/// NaN is 0.
fn to_u32(x: f64) -> u32 {
    x.round() as u32
}

/// The real cube root by Newton's method from a power of two near it: only IEEE basic
/// operations, so the same on every platform (unlike a libm's `cbrt`).
fn cbrt(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let a = x.abs();
    let exp = ((a.to_bits() >> 52) & 0x7ff) as i64 - 1023;
    let mut y = f64::from_bits(((exp / 3 + 1023) as u64) << 52);
    for _ in 0..200 {
        let next = (2.0 * y + a / (y * y)) / 3.0;
        if next == y {
            break;
        }
        y = next;
    }
    if x < 0.0 { -y } else { y }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MSS: u32 = 1000;
    const RTT: Duration = Duration::from_millis(100);

    fn t0() -> Instant {
        Instant::from_secs(100)
    }

    /// One round trip: every outstanding segment of a full cwnd is ACKed, one ACK per
    /// segment, spread over the RTT. Returns the time after it.
    fn round(cc: &mut CongestionControl, now: Instant, rtt: Duration) -> Instant {
        let segs = (cc.cwnd() / cc.mss()).max(1);
        let step = rtt / segs;
        let mut t = now;
        for _ in 0..segs {
            t += step;
            // The sender keeps the window full: what is left outstanding after the ACK.
            let in_flight = cc.cwnd().saturating_sub(cc.mss());
            cc.on_ack(t, cc.mss(), in_flight, Some(rtt));
        }
        now + rtt
    }

    /// A controller in congestion avoidance at `cwnd` = ssthresh, as after one recovery
    /// from a flight of `flight` bytes.
    fn after_recovery(alg: Algorithm, flight: u32) -> CongestionControl {
        let mut cc = CongestionControl::new(alg, MSS, t0());
        cc.cwnd = flight;
        cc.on_congestion_event(t0(), flight);
        cc.on_recovery_exit();
        cc
    }

    #[test]
    fn rfc5681_3_1_initial_window() {
        for (mss, iw) in [
            (536, 2144),
            (1000, 4000),
            (1220, 4380),
            (1460, 4380),
            (2190, 4380),
            (4000, 8000),
            (8940, 17_880),
        ] {
            let cc = CongestionControl::new(Algorithm::NewReno, mss, t0());
            assert_eq!(cc.cwnd(), iw, "mss {mss}");
            assert_eq!(cc.ssthresh(), u32::MAX);
            assert_eq!(cc.state_name(), "slow_start");
        }
        let cc = CongestionControl::new(Algorithm::Cubic, 1460, t0());
        assert_eq!(cc.cwnd(), 4380);
        assert_eq!(cc.algorithm(), Algorithm::Cubic);
        assert_eq!(Algorithm::default(), Algorithm::NewReno);
    }

    #[test]
    fn rfc5681_3_1_slow_start_doubles_per_rtt() {
        for alg in [Algorithm::NewReno, Algorithm::Cubic] {
            let mut cc = CongestionControl::new(alg, MSS, t0());
            let mut now = t0();
            for _ in 0..6 {
                let before = cc.cwnd();
                now = round(&mut cc, now, RTT);
                assert_eq!(cc.cwnd(), 2 * before, "{alg:?}");
            }
            assert_eq!(cc.cwnd(), 4 * MSS * 64);
        }
    }

    #[test]
    fn rfc3465_2_2_slow_start_grows_at_most_l_smss_per_ack() {
        let mut cc = CongestionControl::new(Algorithm::NewReno, MSS, t0());
        // A stretch ACK of 4 segments (the whole initial window).
        cc.on_ack(t0(), 4 * MSS, 0, None);
        assert_eq!(cc.cwnd(), 6 * MSS);
        // A small ACK grows by what it acknowledges.
        cc.on_ack(t0(), 100, 5 * MSS, None);
        assert_eq!(cc.cwnd(), 6 * MSS + 100);
    }

    #[test]
    fn rfc7661_4_3_no_growth_when_the_window_is_not_used() {
        let mut cc = CongestionControl::new(Algorithm::NewReno, MSS, t0());
        cc.cwnd = 20 * MSS;
        // One segment of a 20-segment window outstanding: application-limited.
        cc.on_ack(t0(), MSS, 0, None);
        assert_eq!(cc.cwnd(), 20 * MSS);
        // Half the window outstanding before the ACK: validated.
        cc.on_ack(t0(), MSS, 9 * MSS, None);
        assert_eq!(cc.cwnd(), 21 * MSS);
        // No new data acknowledged: nothing.
        cc.on_ack(t0(), 0, 20 * MSS, None);
        assert_eq!(cc.cwnd(), 21 * MSS);
    }

    #[test]
    fn rfc5681_3_1_congestion_avoidance_adds_one_mss_per_rtt() {
        let mut cc = after_recovery(Algorithm::NewReno, 40 * MSS);
        assert_eq!(cc.cwnd(), 20 * MSS);
        assert_eq!(cc.state_name(), "congestion_avoidance");
        let mut now = t0();
        for i in 1..=10 {
            now = round(&mut cc, now, RTT);
            assert_eq!(cc.cwnd(), (20 + i) * MSS);
        }
        // Half a window of ACKs: no increase yet; the other half brings it.
        let w = cc.cwnd();
        for _ in 0..(w / MSS / 2) {
            cc.on_ack(now, MSS, w, None);
        }
        assert_eq!(cc.cwnd(), w);
        for _ in 0..(w / MSS / 2) {
            cc.on_ack(now, MSS, w, None);
        }
        assert_eq!(cc.cwnd(), w + MSS);
    }

    #[test]
    fn rfc5681_3_2_fast_recovery_halves_the_flight_size() {
        let mut cc = CongestionControl::new(Algorithm::NewReno, MSS, t0());
        cc.cwnd = 30 * MSS;
        // FlightSize, not cwnd: 24 segments outstanding.
        cc.on_congestion_event(t0(), 24 * MSS);
        assert_eq!(cc.ssthresh(), 12 * MSS);
        assert_eq!(cc.cwnd(), 12 * MSS);
        assert_eq!(cc.state_name(), "recovery");
        assert!(cc.in_recovery());
        // No growth by ACKs during recovery, and no second reduction.
        cc.on_ack(t0(), 5 * MSS, 12 * MSS, None);
        cc.on_congestion_event(t0(), 10 * MSS);
        assert_eq!((cc.cwnd(), cc.ssthresh()), (12 * MSS, 12 * MSS));
        cc.on_recovery_exit();
        assert_eq!(cc.cwnd(), 12 * MSS);
        assert_eq!(cc.state_name(), "congestion_avoidance");
        // A tiny flight: the floor of 2 × SMSS.
        cc.on_congestion_event(t0(), MSS);
        assert_eq!((cc.cwnd(), cc.ssthresh()), (2 * MSS, 2 * MSS));
    }

    #[test]
    fn rfc6582_3_2_inflation_and_partial_ack_deflation() {
        let mut cc = CongestionControl::new(Algorithm::NewReno, MSS, t0());
        cc.cwnd = 20 * MSS;
        cc.on_congestion_event(t0(), 20 * MSS);
        // Step 2: ssthresh + 3 × SMSS; step 4: one SMSS per further duplicate ACK.
        cc.inflate(3 * MSS);
        cc.inflate(MSS);
        cc.inflate(MSS);
        assert_eq!(cc.cwnd(), 15 * MSS);
        // Step 5: a partial ACK of 3 segments deflates by 3 and adds one back.
        cc.on_partial_ack(3 * MSS);
        assert_eq!(cc.cwnd(), 13 * MSS);
        // Less than one SMSS acknowledged: nothing added back.
        cc.on_partial_ack(500);
        assert_eq!(cc.cwnd(), 13 * MSS - 500);
        // A huge partial ACK deflates to the floor of one SMSS, not below.
        cc.on_partial_ack(u32::MAX);
        assert_eq!(cc.cwnd(), MSS);
        // Step 3, full ACK: cwnd = ssthresh.
        cc.on_recovery_exit();
        assert_eq!(cc.cwnd(), 10 * MSS);
        // Outside recovery a partial ACK changes nothing.
        cc.on_partial_ack(5 * MSS);
        assert_eq!(cc.cwnd(), 10 * MSS);
    }

    #[test]
    fn rfc5681_3_1_rto_loss_window_and_ssthresh() {
        let mut cc = CongestionControl::new(Algorithm::NewReno, MSS, t0());
        cc.cwnd = 40 * MSS;
        cc.on_rto(t0(), 30 * MSS);
        assert_eq!(cc.ssthresh(), 15 * MSS);
        assert_eq!(cc.cwnd(), MSS);
        assert_eq!(cc.state_name(), "slow_start");
        // The retransmission times out too: ssthresh held constant.
        cc.on_rto(t0(), MSS);
        assert_eq!(cc.ssthresh(), 15 * MSS);
        assert_eq!(cc.cwnd(), MSS);
        // Slow start back to ssthresh, not beyond, then one SMSS per RTT.
        let mut now = t0();
        for _ in 0..4 {
            now = round(&mut cc, now, RTT);
        }
        assert_eq!(cc.cwnd(), 15 * MSS);
        assert_eq!(cc.state_name(), "congestion_avoidance");
        round(&mut cc, now, RTT);
        assert_eq!(cc.cwnd(), 16 * MSS);
        // After an ACK of new data, a new timeout computes ssthresh again, floor 2 SMSS.
        cc.on_rto(now, MSS);
        assert_eq!((cc.cwnd(), cc.ssthresh()), (MSS, 2 * MSS));
    }

    #[test]
    fn rfc5681_3_1_rto_ends_recovery() {
        let mut cc = CongestionControl::new(Algorithm::NewReno, MSS, t0());
        cc.cwnd = 20 * MSS;
        cc.on_congestion_event(t0(), 20 * MSS);
        cc.on_rto(t0(), 20 * MSS);
        assert!(!cc.in_recovery());
        assert_eq!(cc.cwnd(), MSS);
        assert_eq!(cc.ssthresh(), 10 * MSS);
        assert_eq!(cc.state_name(), "slow_start");
    }

    #[test]
    fn rfc3168_6_1_2_ecn_reduces_without_recovery() {
        let mut cc = CongestionControl::new(Algorithm::NewReno, MSS, t0());
        cc.cwnd = 20 * MSS;
        cc.on_ecn(t0(), 20 * MSS);
        assert_eq!((cc.cwnd(), cc.ssthresh()), (10 * MSS, 10 * MSS));
        assert!(!cc.in_recovery());
        assert_eq!(cc.state_name(), "congestion_avoidance");
        // In recovery the window was already reduced.
        cc.on_congestion_event(t0(), 10 * MSS);
        cc.on_ecn(t0(), 10 * MSS);
        assert_eq!(cc.cwnd(), 5 * MSS);
        // CUBIC: β_cubic.
        let mut cc = CongestionControl::new(Algorithm::Cubic, MSS, t0());
        cc.cwnd = 20 * MSS;
        cc.on_ecn(t0(), 20 * MSS);
        assert_eq!(cc.cwnd(), 14 * MSS);
        assert_eq!(cc.cubic_w_max(), Some(20 * MSS));
    }

    #[test]
    fn rfc8201_set_mss_keeps_cwnd_in_bounds() {
        let mut cc = CongestionControl::new(Algorithm::NewReno, 1440, t0());
        cc.on_rto(t0(), 0);
        assert_eq!(cc.cwnd(), 1440);
        cc.set_mss(1220);
        assert_eq!(cc.mss(), 1220);
        assert_eq!(cc.cwnd(), 1440);
        cc.set_mss(8940);
        assert_eq!(cc.cwnd(), 8940);
        cc.set_mss(0);
        assert_eq!(cc.mss(), 1);
        let cc = CongestionControl::new(Algorithm::Cubic, 0, t0());
        assert_eq!(cc.mss(), 1);
        assert!(cc.cwnd() >= 1);
    }

    #[test]
    fn cwnd_cap_holds() {
        let config = CcConfig {
            cwnd_max: 10 * MSS,
            ..CcConfig::default()
        };
        let mut cc = CongestionControl::with_config(Algorithm::NewReno, MSS, t0(), config);
        let mut now = t0();
        for _ in 0..5 {
            now = round(&mut cc, now, RTT);
        }
        assert_eq!(cc.cwnd(), 10 * MSS);
        cc.inflate(u32::MAX);
        assert_eq!(cc.cwnd(), 10 * MSS);
        assert_eq!(CcConfig::default().cwnd_max, 1 << 30);
    }

    #[test]
    fn rfc9438_4_6_beta_cubic_and_w_max() {
        let mut cc = CongestionControl::new(Algorithm::Cubic, MSS, t0());
        cc.cwnd = 100 * MSS;
        cc.on_congestion_event(t0(), 100 * MSS);
        assert_eq!(cc.ssthresh(), 70 * MSS);
        assert_eq!(cc.cwnd(), 70 * MSS);
        assert_eq!(cc.cubic_w_max(), Some(100 * MSS));
        assert_eq!(cc.state_name(), "recovery");
        // The floor of 2 × SMSS applies too.
        let mut cc = CongestionControl::new(Algorithm::Cubic, MSS, t0());
        cc.on_congestion_event(t0(), 2 * MSS);
        assert_eq!(cc.cwnd(), 2 * MSS);
    }

    #[test]
    fn rfc9438_4_7_fast_convergence_lowers_w_max() {
        let mut cc = after_recovery(Algorithm::Cubic, 100 * MSS);
        assert_eq!(cc.cubic_w_max(), Some(100 * MSS));
        // The next loss comes at 80 segments, below W_max: W_max = 80 × (1 + 0.7) / 2.
        cc.cwnd = 80 * MSS;
        cc.on_congestion_event(t0(), 80 * MSS);
        assert_eq!(cc.cubic_w_max(), Some(68 * MSS));
        assert_eq!(cc.cwnd(), 56 * MSS);
        // Without fast convergence W_max is cwnd.
        let config = CcConfig {
            fast_convergence: false,
            ..CcConfig::default()
        };
        let mut cc = CongestionControl::with_config(Algorithm::Cubic, MSS, t0(), config);
        cc.cwnd = 100 * MSS;
        cc.on_congestion_event(t0(), 100 * MSS);
        cc.on_recovery_exit();
        cc.cwnd = 80 * MSS;
        cc.on_congestion_event(t0(), 80 * MSS);
        assert_eq!(cc.cubic_w_max(), Some(80 * MSS));
        // Above W_max: W_max is the new cwnd.
        let mut cc = after_recovery(Algorithm::Cubic, 100 * MSS);
        cc.cwnd = 120 * MSS;
        cc.on_congestion_event(t0(), 120 * MSS);
        assert_eq!(cc.cubic_w_max(), Some(120 * MSS));
    }

    #[test]
    fn rfc9438_4_2_k_and_w_cubic_formula() {
        let mut cc = after_recovery(Algorithm::Cubic, 100 * MSS);
        // The first ACK of congestion avoidance starts the epoch.
        cc.on_ack(t0(), MSS, 70 * MSS, Some(RTT));
        // K = cbrt((W_max − cwnd_epoch) / C) = cbrt(30 / 0.4) = cbrt(75).
        let k = cc.cubic.k;
        assert!((k - 75f64.cbrt()).abs() < 1e-12, "K = {k}");
        assert!((k - 4.217_163_326_508_746).abs() < 1e-9);
        assert_eq!(
            cc.cubic_k().map(|d| d.as_millis()),
            Some(4217),
            "K as a duration"
        );
        // W_cubic(t) = C (t − K)^3 + W_max at chosen points, in segments.
        for t in [0.0, 1.0, 2.5, k, 5.0, 10.0] {
            let expect = 0.4 * (t - k).powi(3) + 100.0;
            assert!((cc.w_cubic(t) - expect).abs() < 1e-9, "t = {t}");
        }
        assert!((cc.w_cubic(0.0) - 70.0).abs() < 1e-9);
        assert!((cc.w_cubic(k) - 100.0).abs() < 1e-9);
        assert!((cc.w_cubic(k + 1.0) - 100.4).abs() < 1e-9);
    }

    #[test]
    fn rfc9438_4_4_concave_then_convex_growth_follows_w_cubic() {
        // W_max 1000 segments, RTT 100 ms: K = cbrt(300 / 0.4) ≈ 9.09 s, and W_est
        // (≈ 700 + 0.53 per RTT) stays below W_cubic: the cubic regions decide.
        let mut cc = after_recovery(Algorithm::Cubic, 1000 * MSS);
        let mut now = round(&mut cc, t0(), RTT);
        let k = cc.cubic.k;
        assert!((k - 750f64.cbrt()).abs() < 1e-9);
        let epoch = t0() + RTT / 700;
        let mut prev = cc.cwnd();
        let mut growth = Vec::new();
        while now < epoch + Duration::from_secs_f64(k + 3.0) {
            now = round(&mut cc, now, RTT);
            // Never more than 50 % per RTT (the target's clamp).
            assert!(cc.cwnd() <= prev + prev / 2);
            growth.push(cc.cwnd() - prev);
            prev = cc.cwnd();
            let t = now.saturating_duration_since(epoch).as_secs_f64();
            let w = cc.cwnd() as f64 / MSS as f64;
            // cwnd tracks W_cubic: between W_cubic(t − RTT) and W_cubic(t + RTT).
            assert!(
                w >= cc.w_cubic(t - 0.1) - 1.0,
                "t {t}: {w} < {}",
                cc.w_cubic(t - 0.1)
            );
            assert!(
                w <= cc.w_cubic(t + 0.1) + 1.0,
                "t {t}: {w} > {}",
                cc.w_cubic(t + 0.1)
            );
            if (t - k).abs() < 0.05 {
                assert!((w - 1000.0).abs() < 5.0, "cwnd {w} segments at K");
            }
        }
        // Concave: growth slows down towards K; convex: it speeds up after it.
        let at_k = (k / 0.1) as usize;
        assert!(growth[1] > growth[at_k - 10]);
        assert!(growth[at_k - 10] > growth[at_k]);
        assert!(growth[growth.len() - 1] > growth[at_k + 5]);
        let w = cc.cwnd() as f64 / MSS as f64;
        assert!(
            (w - (1000.0 + 0.4 * 27.0)).abs() < 3.0,
            "{w} segments at K + 3 s"
        );
    }

    #[test]
    fn rfc9438_4_3_reno_friendly_takes_over_when_w_est_is_ahead() {
        // W_max 100 segments, RTT 100 ms: by K + 3 s Reno's estimate (which switched to
        // α = 1 at cwnd_prior) is above W_cubic, and cwnd follows it.
        let mut cc = after_recovery(Algorithm::Cubic, 100 * MSS);
        let mut now = t0();
        for _ in 0..72 {
            now = round(&mut cc, now, RTT);
        }
        let t = now.saturating_duration_since(t0()).as_secs_f64();
        let w = cc.cwnd() as f64;
        assert!(w > cc.w_cubic(t) * MSS as f64 + 2.0 * MSS as f64);
        assert!(
            (w - cc.cubic.w_est).abs() <= 1.0,
            "{w} vs W_est {}",
            cc.cubic.w_est
        );
    }

    #[test]
    fn rfc9438_4_3_reno_friendly_region_at_small_rtt() {
        // At 1 ms, W_cubic hardly moves in 40 RTTs; W_est grows by α_cubic per RTT.
        let rtt = Duration::from_millis(1);
        let mut cc = after_recovery(Algorithm::Cubic, 100 * MSS);
        let mut now = t0();
        for _ in 0..40 {
            now = round(&mut cc, now, rtt);
        }
        let alpha = 3.0 * (1.0 - 0.7) / 1.7;
        let reno = 70.0 + alpha * 40.0;
        let w = cc.cwnd() as f64 / MSS as f64;
        assert!(
            (w - reno).abs() < 2.0,
            "cwnd {w} segments, Reno-friendly {reno}"
        );
        let t = now.saturating_duration_since(t0()).as_secs_f64();
        assert!(w > cc.w_cubic(t) + 15.0);
        // Past cwnd_prior (100 segments) α is 1: one segment per RTT like Reno.
        for _ in 0..40 {
            now = round(&mut cc, now, rtt);
        }
        let before = cc.cwnd();
        for _ in 0..10 {
            now = round(&mut cc, now, rtt);
        }
        let per_rtt = (cc.cwnd() - before) as f64 / 10.0 / MSS as f64;
        assert!((0.9..=1.1).contains(&per_rtt), "{per_rtt} segments per RTT");
    }

    #[test]
    fn rfc9438_4_8_timeout_sets_k_zero_and_w_max_to_cwnd_epoch() {
        let mut cc = CongestionControl::new(Algorithm::Cubic, MSS, t0());
        cc.cwnd = 100 * MSS;
        cc.on_rto(t0(), 100 * MSS);
        assert_eq!(cc.ssthresh(), 70 * MSS);
        assert_eq!(cc.cwnd(), MSS);
        let mut now = t0();
        while cc.state_name() == "slow_start" {
            now = round(&mut cc, now, RTT);
        }
        // Slow start ended at ssthresh; the rest of that round's ACKs began congestion
        // avoidance (Reno-friendly at first).
        assert!((70 * MSS..71 * MSS).contains(&cc.cwnd()), "{}", cc.cwnd());
        cc.on_ack(now, MSS, 70 * MSS, Some(RTT));
        assert_eq!(cc.cubic_k(), Some(Duration::ZERO));
        assert_eq!(cc.cubic_w_max(), Some(70 * MSS));
    }

    #[test]
    fn cube_root_is_exact_enough() {
        for x in [
            1e-300, 1e-9, 0.001, 0.5, 1.0, 2.0, 27.0, 75.0, 1e6, 3.3e9, 1e300,
        ] {
            let r = cbrt(x);
            assert!(
                (r - x.cbrt()).abs() <= 4.0 * f64::EPSILON * r,
                "cbrt({x}) = {r}"
            );
            assert_eq!(cbrt(-x), -r);
        }
        assert_eq!(cbrt(0.0), 0.0);
        assert!(cbrt(f64::NAN).is_nan());
        assert_eq!(cbrt(8.0), 2.0);
    }

    #[derive(Debug, Clone)]
    enum Call {
        Ack(u32, u32, u64),
        Congestion(u32),
        Partial(u32),
        Inflate(u32),
        Exit,
        Rto(u32),
        Ecn(u32),
        Mss(u32),
    }

    fn call() -> impl Strategy<Value = Call> {
        prop_oneof![
            4 => (any::<u32>(), any::<u32>(), 0u64..10_000_000).prop_map(|(a, f, r)| Call::Ack(a, f, r)),
            4 => (0u32..100_000, 0u32..2_000_000, 0u64..1_000_000).prop_map(|(a, f, r)| Call::Ack(a, f, r)),
            1 => any::<u32>().prop_map(Call::Congestion),
            1 => any::<u32>().prop_map(Call::Partial),
            1 => any::<u32>().prop_map(Call::Inflate),
            1 => Just(Call::Exit),
            1 => any::<u32>().prop_map(Call::Rto),
            1 => any::<u32>().prop_map(Call::Ecn),
            1 => prop_oneof![0u32..100, 500u32..9000, any::<u32>()].prop_map(Call::Mss),
        ]
    }

    proptest! {
        #[test]
        fn arbitrary_calls_keep_cwnd_between_one_mss_and_the_cap(
            cubic in any::<bool>(),
            mss in 0u32..20_000,
            cap in prop_oneof![Just(1u32 << 30), 1u32..100_000, Just(u32::MAX)],
            calls in proptest::collection::vec((call(), 0u64..5_000_000), 1..200),
        ) {
            let alg = if cubic { Algorithm::Cubic } else { Algorithm::NewReno };
            let config = CcConfig { cwnd_max: cap, ..CcConfig::default() };
            let mut now = Instant::from_secs(1);
            let mut cc = CongestionControl::with_config(alg, mss, now, config);
            for (c, dt) in calls {
                now += Duration::from_micros(dt);
                match c {
                    Call::Ack(a, f, r) => cc.on_ack(now, a, f, (r > 0).then(|| Duration::from_micros(r))),
                    Call::Congestion(f) => cc.on_congestion_event(now, f),
                    Call::Partial(a) => cc.on_partial_ack(a),
                    Call::Inflate(a) => cc.inflate(a),
                    Call::Exit => cc.on_recovery_exit(),
                    Call::Rto(f) => cc.on_rto(now, f),
                    Call::Ecn(f) => cc.on_ecn(now, f),
                    Call::Mss(m) => cc.set_mss(m),
                }
                prop_assert!(cc.mss() >= 1);
                prop_assert!(cc.cwnd() >= cc.mss(), "cwnd {} mss {}", cc.cwnd(), cc.mss());
                prop_assert!(cc.cwnd() <= cap.max(1), "cwnd {} cap {}", cc.cwnd(), cap);
                prop_assert!(["slow_start", "congestion_avoidance", "recovery"].contains(&cc.state_name()));
            }
        }
    }
}
