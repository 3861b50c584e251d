//! The retransmission timer's estimator (RFC 6298): SRTT, RTTVAR, RTO and its backoff.
//! With timestamps every ACK may give a sample; RFC 7323 Appendix G scales the gains by
//! the samples expected per RTT so the estimator keeps its memory.

use crate::time::Duration;

use super::config::TcpConfig;

#[derive(Debug, Clone)]
pub(crate) struct RttEstimator {
    srtt: Option<Duration>,
    rttvar: Duration,
    /// The RTO before backoff.
    base_rto: Duration,
    /// RFC 6298 §5.5: the RTO doubles at each expiry; `backoff` counts the doublings.
    backoff: u32,
    rto_min: Duration,
    rto_max: Duration,
    granularity: Duration,
}

impl RttEstimator {
    pub(crate) fn new(config: &TcpConfig) -> Self {
        Self {
            srtt: None,
            rttvar: Duration::ZERO,
            base_rto: config
                .rto_initial
                .clamp(config.rto_min, config.rto_max.max(config.rto_min)),
            backoff: 0,
            rto_min: config.rto_min,
            rto_max: config.rto_max.max(config.rto_min),
            granularity: config.clock_granularity,
        }
    }

    /// RFC 6298 §2.2 and §2.3 (with RFC 7323 Appendix G's gains for `expected` samples
    /// per RTT, 1 without timestamps). A sample clears the backoff (§5.7).
    pub(crate) fn sample(&mut self, r: Duration, expected: u32) {
        let r = r.min(Duration::from_secs(3600));
        let n = expected.max(1);
        match self.srtt {
            None => {
                // §2.2: SRTT <- R, RTTVAR <- R/2.
                self.srtt = Some(r);
                self.rttvar = r / 2;
            }
            Some(srtt) => {
                // §2.3 with alpha = 1/8, beta = 1/4, divided by n (RFC 7323 Appendix G).
                let delta = srtt.abs_diff(r);
                let rttvar = self.rttvar - self.rttvar / (4 * n) + delta / (4 * n);
                let srtt = if r >= srtt {
                    srtt + (r - srtt) / (8 * n)
                } else {
                    srtt - (srtt - r) / (8 * n)
                };
                self.rttvar = rttvar;
                self.srtt = Some(srtt);
            }
        }
        let srtt = self.srtt.unwrap_or(r);
        // RTO <- SRTT + max(G, K*RTTVAR), K = 4; §2.4 and §2.5 bound it.
        let rto = srtt + self.granularity.max(self.rttvar * 4);
        self.base_rto = rto.clamp(self.rto_min, self.rto_max);
        self.backoff = 0;
    }

    /// RFC 6298 §5.5: back off the timer.
    pub(crate) fn back_off(&mut self) {
        if self.rto() < self.rto_max {
            self.backoff = self.backoff.saturating_add(1);
        }
    }

    /// RFC 6298 §5.7: after backing off, when the retransmitted segment is acknowledged
    /// but no new sample was taken, the backed-off RTO is kept until a sample arrives.
    pub(crate) fn rto(&self) -> Duration {
        let factor = 1u32.checked_shl(self.backoff.min(20)).unwrap_or(u32::MAX);
        self.base_rto.saturating_mul(factor).min(self.rto_max)
    }

    pub(crate) fn srtt(&self) -> Option<Duration> {
        self.srtt
    }

    pub(crate) fn rttvar(&self) -> Duration {
        self.rttvar
    }

    pub(crate) fn backoff(&self) -> u32 {
        self.backoff
    }
}

impl RttEstimator {
    /// RFC 6298 §5.7: after a SYN's timer expired and with no sample, data transmission
    /// starts with an RTO of 3 seconds if the RTO was below that.
    pub(crate) fn syn_timed_out_reset(&mut self) {
        if self.srtt.is_none() {
            self.base_rto = self.base_rto.max(Duration::from_secs(3)).min(self.rto_max);
            self.backoff = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6298_2_first_sample_and_update() {
        let c = TcpConfig {
            rto_min: Duration::from_millis(200),
            ..TcpConfig::default()
        };
        let mut e = RttEstimator::new(&c);
        assert_eq!(e.rto(), Duration::from_secs(1));
        e.sample(Duration::from_millis(100), 1);
        assert_eq!(e.srtt(), Some(Duration::from_millis(100)));
        assert_eq!(e.rttvar(), Duration::from_millis(50));
        // 100 + 4 * 50
        assert_eq!(e.rto(), Duration::from_millis(300));
        e.sample(Duration::from_millis(200), 1);
        // RTTVAR = 3/4 * 50 + 1/4 * 100 = 62.5; SRTT = 7/8 * 100 + 1/8 * 200 = 112.5
        assert_eq!(e.rttvar(), Duration::from_micros(62_500));
        assert_eq!(e.srtt(), Some(Duration::from_micros(112_500)));
        assert_eq!(e.rto(), Duration::from_micros(362_500));
    }

    #[test]
    fn rfc6298_5_5_backoff_doubles_up_to_max() {
        let mut e = RttEstimator::new(&TcpConfig::default());
        for expect in [2, 4, 8, 16, 32, 60, 60] {
            e.back_off();
            assert_eq!(e.rto(), Duration::from_secs(expect));
        }
        e.sample(Duration::from_millis(10), 1);
        // §2.4: never below RTO.min (1 s).
        assert_eq!(e.rto(), Duration::from_secs(1));
        assert_eq!(e.backoff(), 0);
    }
}
