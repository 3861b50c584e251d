//! The daemon's time: the host's monotonic clock, read here and nowhere else, as the
//! stack's own [`Instant`] counted from the daemon's start.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sixstack_core::Instant;

#[derive(Debug, Clone, Copy)]
pub struct Clock {
    start: std::time::Instant,
    /// Wall-clock time at the start, for pcap timestamps only.
    start_unix: Duration,
}

impl Clock {
    /// Starts the clock: the stack's time zero is now.
    // The one place the daemon reads the host's clocks (clippy.toml bans them elsewhere:
    // the core takes `now` as an argument, and this is where it comes from).
    #[allow(clippy::disallowed_methods)]
    pub fn start() -> Self {
        Self {
            start: std::time::Instant::now(),
            start_unix: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default(),
        }
    }

    /// The stack's time now: the monotonic clock since [`Clock::start`].
    // The daemon's one reading of the monotonic clock (see `start`).
    #[allow(clippy::disallowed_methods)]
    pub fn now(&self) -> Instant {
        let d = std::time::Instant::now().saturating_duration_since(self.start);
        Instant::from_micros(u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
    }

    /// The host instant a stack instant stands for, for timers of the runtime.
    pub fn to_std(&self, t: Instant) -> std::time::Instant {
        let d = Duration::from_micros(t.total_micros());
        self.start
            .checked_add(d)
            .unwrap_or(self.start + Duration::from_secs(86_400 * 365))
    }

    /// Seconds and nanoseconds since the Unix epoch of a stack instant (pcap records).
    pub fn unix_time(&self, t: Instant) -> (u64, u32) {
        let d = self.start_unix + Duration::from_micros(t.total_micros());
        (d.as_secs(), d.subsec_nanos())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_time_starts_near_zero_and_maps_back() {
        let c = Clock::start();
        let t = c.now();
        assert!(t.total_micros() < 5_000_000);
        let later = Instant::from_secs(3);
        assert_eq!(
            c.to_std(later) - c.to_std(Instant::ZERO),
            Duration::from_secs(3)
        );
        let far = c.to_std(Instant::FAR_FUTURE);
        assert!(far > c.to_std(later));
        let (s, ns) = c.unix_time(Instant::from_millis(1500));
        assert!(s > 1_600_000_000 && ns < 1_000_000_000);
    }
}
