//! When a host sends Router Solicitations on one interface: a random initial delay
//! (RFC 4861 §6.3.7), then retransmissions with the exponential backoff of RFC 7559 §2
//! until a valid Router Advertisement arrives. It owns only the schedule; the glue builds
//! and sends the RS (with the source link-layer address option when the source is not
//! the unspecified address, RFC 4861 §4.1).

use crate::rng::Rng;
use crate::time::{Duration, Instant};

/// Solicitation timing. RFC 7559 replaces the three tries of RFC 4861 §6.3.7 with an
/// unbounded backoff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsConfig {
    /// MAX_RTR_SOLICITATION_DELAY (RFC 4861 §10): the first RS waits uniformly in
    /// [0, this].
    pub max_rtr_solicitation_delay: Duration,
    /// IRT (RFC 7559 §2; RTR_SOLICITATION_INTERVAL of RFC 4861 §10): the first timeout.
    pub rtr_solicitation_interval_initial: Duration,
    /// MRT (RFC 7559 §2): the longest timeout.
    pub max_rt: Duration,
    /// MRC (RFC 7559 §2): at most this many solicitations per start; `None` (MRC 0 in the
    /// RFC) never gives up. `Some(3)` with `max_rt` 4 s gives RFC 4861's behaviour.
    pub max_rc: Option<u32>,
}

impl Default for RsConfig {
    fn default() -> Self {
        Self {
            max_rtr_solicitation_delay: Duration::from_secs(1),
            rtr_solicitation_interval_initial: Duration::from_secs(4),
            max_rt: Duration::from_secs(3600),
            max_rc: None,
        }
    }
}

/// Durations past this are clamped before scaling, so that a silly configuration cannot
/// overflow `Duration` arithmetic (about 34 800 years).
const CLAMP: Duration = Duration::from_secs(1 << 40);

/// The shortest timeout, whatever the configuration: the next RS is always strictly
/// after the one just sent, so a zero IRT or MRT cannot make the glue spin.
const MIN_RT: Duration = Duration::from_millis(1);

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Not soliciting: never started, stopped, answered, or out of tries.
    Idle,
    /// The next RS is due at `due`; `rt` is the timeout that preceded it (zero before
    /// the first RS).
    Soliciting { due: Instant, rt: Duration },
}

/// The Router Solicitation schedule of one interface.
#[derive(Debug, Clone)]
pub struct RouterSolicitor {
    cfg: RsConfig,
    state: State,
    sent: u32,
}

impl RouterSolicitor {
    pub fn new(cfg: RsConfig) -> Self {
        Self {
            cfg,
            state: State::Idle,
            sent: 0,
        }
    }

    pub fn config(&self) -> &RsConfig {
        &self.cfg
    }

    /// Starts (or restarts) soliciting: the interface came up or was (re)attached. The
    /// first RS is due after a random delay (RFC 4861 §6.3.7: SHOULD delay).
    pub fn start(&mut self, now: Instant, rng: &mut Rng) {
        let delay = rng.duration_up_to(self.cfg.max_rtr_solicitation_delay.min(CLAMP));
        self.sent = 0;
        self.state = State::Soliciting {
            due: now + delay,
            rt: Duration::ZERO,
        };
    }

    /// Stops soliciting (interface down, or the node became a router).
    pub fn stop(&mut self) {
        self.state = State::Idle;
    }

    /// A valid Router Advertisement arrived: stop (RFC 4861 §6.3.7, RFC 7559 §2).
    pub fn on_router_advert(&mut self) {
        self.state = State::Idle;
    }

    pub fn is_soliciting(&self) -> bool {
        self.state != State::Idle
    }

    /// `true`: send one Router Solicitation now. At most one per call, and the next is
    /// timed from `now`, so a clock that jumps forward sends one RS, not a burst.
    pub fn poll(&mut self, now: Instant, rng: &mut Rng) -> bool {
        let State::Soliciting { due, rt } = self.state else {
            return false;
        };
        if now < due {
            return false;
        }
        if self.cfg.max_rc.is_some_and(|mrc| self.sent >= mrc) {
            self.state = State::Idle;
            return false;
        }
        self.sent = self.sent.saturating_add(1);
        if self.cfg.max_rc.is_some_and(|mrc| self.sent >= mrc) {
            // MRC reached: this is the last RS.
            self.state = State::Idle;
            return true;
        }
        let rt = self.next_rt(rt, rng);
        self.state = State::Soliciting { due: now + rt, rt };
        true
    }

    /// RFC 7559 §2 (after RFC 3315 §14): RT = IRT + RAND*IRT for the first, then
    /// RT = 2*RTprev + RAND*RTprev, and MRT + RAND*MRT once past MRT; RAND in [-0.1, 0.1].
    fn next_rt(&self, prev: Duration, rng: &mut Rng) -> Duration {
        let mrt = self.cfg.max_rt.min(CLAMP);
        let rt = if prev.is_zero() {
            rng.scale(
                self.cfg.rtr_solicitation_interval_initial.min(CLAMP),
                0.9,
                1.1,
            )
        } else {
            rng.scale(prev.min(CLAMP), 1.9, 2.1)
        };
        let rt = if rt > mrt {
            rng.scale(mrt, 0.9, 1.1)
        } else {
            rt
        };
        rt.max(MIN_RT)
    }

    /// When [`poll`](Self::poll) next has something to do.
    pub fn poll_at(&self) -> Option<Instant> {
        match self.state {
            State::Soliciting { due, .. } => Some(due),
            State::Idle => None,
        }
    }

    /// Solicitations sent since the last [`start`](Self::start).
    pub fn count_sent(&self) -> u32 {
        self.sent
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use proptest::prelude::*;

    fn t(secs: u64) -> Instant {
        Instant::from_secs(secs)
    }

    /// Polls at every due time until `n` solicitations went out; their send times.
    fn run(s: &mut RouterSolicitor, rng: &mut Rng, n: usize) -> Vec<Instant> {
        let mut sent = vec![];
        while sent.len() < n {
            let Some(at) = s.poll_at() else { break };
            assert!(s.poll(at, rng));
            sent.push(at);
        }
        sent
    }

    #[test]
    fn rfc4861_6_3_7_first_rs_within_max_rtr_solicitation_delay() {
        for seed in 0..200 {
            let mut rng = Rng::new(seed);
            let mut s = RouterSolicitor::new(RsConfig::default());
            assert_eq!(s.poll_at(), None);
            s.start(t(10), &mut rng);
            let at = s.poll_at().unwrap();
            assert!(at >= t(10) && at <= t(11), "{at}");
            assert!(at == t(10) || !s.poll(at - Duration::from_micros(1), &mut rng));
            assert!(s.poll(at, &mut rng));
            assert_eq!(s.count_sent(), 1);
        }
    }

    #[test]
    fn rfc7559_2_backoff_doubles_to_mrt() {
        for seed in 0..100 {
            let mut rng = Rng::new(seed);
            let mut s = RouterSolicitor::new(RsConfig::default());
            s.start(Instant::ZERO, &mut rng);
            let sent = run(&mut s, &mut rng, 16);
            assert_eq!(sent.len(), 16);
            let gaps: Vec<f64> = sent
                .windows(2)
                .map(|w| (w[1] - w[0]).as_secs_f64())
                .collect();
            // First timeout: IRT ± 10 %.
            assert!((3.6..=4.4).contains(&gaps[0]), "{gaps:?}");
            let mut capped = false;
            for w in gaps.windows(2) {
                capped |= w[1] >= 3240.0;
                if capped {
                    // MRT ± 10 %, from then on.
                    assert!((3240.0..=3960.0).contains(&w[1]), "{gaps:?}");
                } else {
                    let ratio = w[1] / w[0];
                    assert!((1.9 - 1e-6..=2.1 + 1e-6).contains(&ratio), "{gaps:?}");
                }
            }
            assert!(capped, "{gaps:?}");
            assert_eq!(s.count_sent(), 16);
        }
    }

    #[test]
    fn rfc7559_2_mrc_zero_never_gives_up() {
        let mut rng = Rng::new(1);
        let mut s = RouterSolicitor::new(RsConfig::default());
        s.start(Instant::ZERO, &mut rng);
        assert_eq!(run(&mut s, &mut rng, 200).len(), 200);
        assert!(s.is_soliciting());
    }

    #[test]
    fn rfc7559_2_mrc_bounds_the_tries() {
        let mut rng = Rng::new(1);
        let mut s = RouterSolicitor::new(RsConfig {
            max_rc: Some(3),
            ..RsConfig::default()
        });
        s.start(Instant::ZERO, &mut rng);
        assert_eq!(run(&mut s, &mut rng, 10).len(), 3);
        assert_eq!(s.poll_at(), None);
        assert_eq!(s.count_sent(), 3);
        let mut s = RouterSolicitor::new(RsConfig {
            max_rc: Some(0),
            ..RsConfig::default()
        });
        s.start(Instant::ZERO, &mut rng);
        assert!(!s.poll(t(5), &mut rng));
        assert_eq!(s.poll_at(), None);
    }

    #[test]
    fn rfc4861_6_3_7_stop_on_router_advert_and_restart_on_start() {
        let mut rng = Rng::new(3);
        let mut s = RouterSolicitor::new(RsConfig::default());
        s.start(Instant::ZERO, &mut rng);
        run(&mut s, &mut rng, 2);
        s.on_router_advert();
        assert_eq!(s.poll_at(), None);
        assert!(!s.poll(t(100_000), &mut rng));
        assert_eq!(s.count_sent(), 2);
        // Link up again: a fresh schedule with the initial delay and IRT.
        s.start(t(200_000), &mut rng);
        assert_eq!(s.count_sent(), 0);
        let sent = run(&mut s, &mut rng, 2);
        assert!(sent[0] <= t(200_001));
        let gap = (sent[1] - sent[0]).as_secs_f64();
        assert!((3.6..=4.4).contains(&gap));
        s.stop();
        assert!(!s.is_soliciting());
    }

    #[test]
    fn clock_jump_sends_one_rs_per_poll() {
        let mut rng = Rng::new(9);
        let mut s = RouterSolicitor::new(RsConfig::default());
        s.start(Instant::ZERO, &mut rng);
        let day = t(86_400);
        assert!(s.poll(day, &mut rng));
        assert!(!s.poll(day, &mut rng));
        let next = s.poll_at().unwrap();
        assert!(next > day && next <= day + Duration::from_millis(4400));
    }

    proptest! {
        #[test]
        fn schedule_is_sane(seed: u64, steps in proptest::collection::vec((0u64..5_000_000_000, 0u8..10), 1..60),
                            irt_ms in 0u64..10_000, mrt_s in 0u64..100_000, mrc in proptest::option::of(0u32..5)) {
            let mut rng = Rng::new(seed);
            let mut s = RouterSolicitor::new(RsConfig {
                max_rtr_solicitation_delay: Duration::from_millis(irt_ms),
                rtr_solicitation_interval_initial: Duration::from_millis(irt_ms),
                max_rt: Duration::from_secs(mrt_s),
                max_rc: mrc,
            });
            let mut now = Instant::ZERO;
            s.start(now, &mut rng);
            for (dt, op) in steps {
                now += Duration::from_micros(dt);
                match op {
                    0 => s.on_router_advert(),
                    1 => s.start(now, &mut rng),
                    _ => {
                        let before = s.count_sent();
                        let sent = s.poll(now, &mut rng);
                        prop_assert_eq!(s.count_sent(), before + u32::from(sent));
                        prop_assert!(!s.poll(now, &mut rng));
                        prop_assert!(s.poll_at().is_none_or(|at| !sent || at > now));
                    }
                }
                if let Some(m) = mrc {
                    prop_assert!(s.count_sent() <= m);
                }
            }
        }
    }
}
