//! The stack's own clock: an `Instant` is microseconds since an epoch the driver chooses
//! (the simulator starts at zero, the daemon at its start). Durations are `std`'s, which
//! carry no wall clock. Nothing here reads a clock: time is always handed in.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};
pub use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant {
    micros: u64,
}

impl Instant {
    pub const ZERO: Instant = Instant { micros: 0 };
    /// Later than any instant a stack will see; used for "never" in comparisons.
    pub const FAR_FUTURE: Instant = Instant { micros: u64::MAX };

    pub const fn from_micros(micros: u64) -> Self {
        Self { micros }
    }
    pub const fn from_millis(millis: u64) -> Self {
        Self {
            micros: millis.saturating_mul(1000),
        }
    }
    pub const fn from_secs(secs: u64) -> Self {
        Self {
            micros: secs.saturating_mul(1_000_000),
        }
    }
    pub const fn total_micros(self) -> u64 {
        self.micros
    }
    pub const fn total_millis(self) -> u64 {
        self.micros / 1000
    }
    /// Zero when `earlier` is later than `self`.
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_micros(self.micros.saturating_sub(earlier.micros))
    }
    pub fn checked_sub(self, d: Duration) -> Option<Instant> {
        let d = u64::try_from(d.as_micros()).ok()?;
        self.micros.checked_sub(d).map(Instant::from_micros)
    }
}

fn micros_of(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Saturates at [`Instant::FAR_FUTURE`]: an infinite lifetime added to now stays infinite.
impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        Instant {
            micros: self.micros.saturating_add(micros_of(d)),
        }
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, d: Duration) {
        *self = *self + d;
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;
    fn sub(self, d: Duration) -> Instant {
        Instant {
            micros: self.micros.saturating_sub(micros_of(d)),
        }
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }
}

/// Seconds with microseconds: `12.000450`.
impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{:06}",
            self.micros / 1_000_000,
            self.micros % 1_000_000
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates() {
        let t = Instant::from_secs(5);
        assert_eq!(
            t + Duration::from_millis(1500),
            Instant::from_micros(6_500_000)
        );
        assert_eq!(t - Duration::from_secs(10), Instant::ZERO);
        assert_eq!(
            Instant::FAR_FUTURE + Duration::from_secs(1),
            Instant::FAR_FUTURE
        );
        assert_eq!(t + Duration::MAX, Instant::FAR_FUTURE);
        assert_eq!(
            Instant::from_secs(1) - Instant::from_secs(3),
            Duration::ZERO
        );
        assert_eq!(t.to_string(), "5.000000");
    }
}
