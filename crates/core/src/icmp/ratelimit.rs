//! Rate limiting of the ICMPv6 error messages this node originates (RFC 4443 §2.4 (f)),
//! as a token bucket. RFC 4443 suggests a token bucket and asks that its parameters be
//! configurable; it names no values, so the defaults here are the stack's own choice.
//!
//! Arithmetic is in integer micro-tokens (a millionth of a token), so a rate in tokens per
//! second refills exactly one micro-token per microsecond per unit of rate: no floats, no
//! drift, no rounding away of slow rates.

use crate::time::Instant;

/// Errors per second the stack allows by default.
pub const DEFAULT_RATE: u32 = 100;
/// Errors the stack may send back to back by default.
pub const DEFAULT_BURST: u32 = 10;

const MICROS_PER_TOKEN: u64 = 1_000_000;

/// A token bucket: `burst` tokens at most, refilled at `rate_per_sec`, one token per
/// message. It starts full.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenBucket {
    rate_per_sec: u32,
    burst: u32,
    micro_tokens: u64,
    /// The instant the bucket was last refilled to; `None` until first used.
    last: Option<Instant>,
}

impl Default for TokenBucket {
    /// [`DEFAULT_RATE`] per second, burst [`DEFAULT_BURST`].
    fn default() -> Self {
        Self::new(DEFAULT_RATE, DEFAULT_BURST)
    }
}

impl TokenBucket {
    /// A full bucket. A rate of 0 or a burst of 0 allows nothing, ever.
    pub fn new(rate_per_sec: u32, burst: u32) -> Self {
        let mut b = Self {
            rate_per_sec,
            burst,
            micro_tokens: 0,
            last: None,
        };
        b.micro_tokens = b.capacity();
        b
    }

    pub fn rate_per_sec(&self) -> u32 {
        self.rate_per_sec
    }

    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// Whole tokens in the bucket as of the last call.
    pub fn tokens(&self) -> u32 {
        // At most `burst`, which is a u32.
        u32::try_from(self.micro_tokens / MICROS_PER_TOKEN).unwrap_or(u32::MAX)
    }

    fn capacity(&self) -> u64 {
        // u32::MAX * 10^6 < 2^52: no overflow.
        u64::from(self.burst) * MICROS_PER_TOKEN
    }

    fn refill(&mut self, now: Instant) {
        match self.last {
            Some(last) if now > last => {
                let elapsed = now.total_micros() - last.total_micros();
                // A long gap or a clock jump saturates here and fills the bucket; never more.
                let add = elapsed.saturating_mul(u64::from(self.rate_per_sec));
                self.micro_tokens = self.micro_tokens.saturating_add(add).min(self.capacity());
                self.last = Some(now);
            }
            // Time standing still credits nothing. Time going backwards credits nothing
            // either, and `last` stays put so that the same interval is not paid twice.
            Some(_) => {}
            None => self.last = Some(now),
        }
    }

    /// Takes a token if there is one: `true` means the error may be sent.
    pub fn allow(&mut self, now: Instant) -> bool {
        self.refill(now);
        // RFC 4443 §2.4 (f): a node MUST limit the rate of the errors it originates.
        if self.rate_per_sec == 0 || self.micro_tokens < MICROS_PER_TOKEN {
            return false;
        }
        self.micro_tokens -= MICROS_PER_TOKEN;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::time::Duration;

    fn allowed(b: &mut TokenBucket, now: Instant, tries: u32) -> u32 {
        (0..tries).filter(|_| b.allow(now)).count() as u32
    }

    #[test]
    fn rfc4443_2_4_f_burst_then_refill_at_rate() {
        let t0 = Instant::from_secs(50);
        let mut b = TokenBucket::new(100, 10);
        assert_eq!(b.tokens(), 10);
        assert_eq!(allowed(&mut b, t0, 20), 10);
        assert_eq!(b.tokens(), 0);
        // One token per 10 ms at 100/s.
        assert!(!b.allow(t0 + Duration::from_micros(9_999)));
        assert!(b.allow(t0 + Duration::from_millis(10)));
        assert!(!b.allow(t0 + Duration::from_millis(10)));
        assert!(!b.allow(t0 + Duration::from_micros(19_999)));
        assert!(b.allow(t0 + Duration::from_millis(20)));
        // 55 ms later: five tokens and half of the sixth.
        let t1 = t0 + Duration::from_millis(75);
        assert_eq!(allowed(&mut b, t1, 20), 5);
        assert!(b.allow(t1 + Duration::from_millis(5)));
        // Sustained: one every 10 ms for a second is exactly 100.
        let t2 = t1 + Duration::from_millis(5);
        let n: u32 = (1..=100)
            .map(|i| allowed(&mut b, t2 + Duration::from_millis(10 * i), 3))
            .sum();
        assert_eq!(n, 100);
    }

    #[test]
    fn rfc4443_2_4_f_slow_rates_are_exact() {
        // 3 per second: 333 333.3 µs a token, with the fraction carried.
        let t0 = Instant::ZERO;
        // Burst 2 so that the bucket never caps: a full bucket rightly drops the fraction
        // that spills over, which is not what this measures.
        let mut b = TokenBucket::new(3, 2);
        assert_eq!(allowed(&mut b, t0, 3), 2);
        assert!(!b.allow(t0 + Duration::from_micros(333_333)));
        assert!(b.allow(t0 + Duration::from_micros(333_334)));
        let mut n = 0;
        let mut now = t0 + Duration::from_micros(333_334);
        for _ in 0..10_000 {
            now += Duration::from_millis(1);
            n += u32::from(b.allow(now));
        }
        // Ten seconds at 3 per second.
        assert_eq!(n, 30);
    }

    #[test]
    fn rfc4443_2_4_f_clock_jump_fills_to_burst_only() {
        let t0 = Instant::from_secs(1);
        let mut b = TokenBucket::new(100, 10);
        assert_eq!(allowed(&mut b, t0, 10), 10);
        assert_eq!(allowed(&mut b, t0 + Duration::from_secs(3600), 50), 10);
        // The largest jump there is: saturates, does not overflow, still only the burst.
        let mut b = TokenBucket::new(u32::MAX, u32::MAX);
        assert!(b.allow(Instant::ZERO));
        assert!(b.allow(Instant::FAR_FUTURE));
        assert_eq!(b.tokens(), u32::MAX - 1);
        let mut b = TokenBucket::new(100, 3);
        assert_eq!(allowed(&mut b, Instant::ZERO, 5), 3);
        assert_eq!(allowed(&mut b, Instant::FAR_FUTURE, 5), 3);
    }

    #[test]
    fn rfc4443_2_4_f_time_going_backwards_credits_nothing() {
        let t0 = Instant::from_secs(10);
        let mut b = TokenBucket::new(100, 2);
        assert_eq!(allowed(&mut b, t0, 5), 2);
        assert!(!b.allow(Instant::from_secs(5)));
        // Only the 10 ms after t0 count, not the span back to 5 s and forward again.
        assert_eq!(allowed(&mut b, t0 + Duration::from_millis(10), 5), 1);
    }

    #[test]
    fn rfc4443_2_4_f_rate_zero_never_allows() {
        let mut b = TokenBucket::new(0, 10);
        for s in [0, 1, 1000] {
            assert!(!b.allow(Instant::from_secs(s)));
        }
        assert!(!b.allow(Instant::FAR_FUTURE));
        let mut b = TokenBucket::new(100, 0);
        assert!(!b.allow(Instant::ZERO));
        assert!(!b.allow(Instant::from_secs(100)));
    }

    #[test]
    fn defaults() {
        let b = TokenBucket::default();
        assert_eq!((b.rate_per_sec(), b.burst()), (DEFAULT_RATE, DEFAULT_BURST));
        assert_eq!(b.tokens(), DEFAULT_BURST);
    }

    proptest! {
        #[test]
        fn never_more_than_burst_plus_rate_times_elapsed(
            rate in 0u32..2_000,
            burst in 0u32..50,
            steps in prop::collection::vec((0u64..50_000, 1u32..5), 1..200),
        ) {
            let mut b = TokenBucket::new(rate, burst);
            let start = Instant::from_secs(1);
            let mut now = start;
            let mut sent = 0u64;
            for (dt, tries) in steps {
                now += Duration::from_micros(dt);
                sent += u64::from(allowed(&mut b, now, tries));
                let elapsed = (now - start).as_micros() as u64;
                let bound = if rate == 0 {
                    0
                } else {
                    u64::from(burst) + elapsed * u64::from(rate) / 1_000_000
                };
                prop_assert!(sent <= bound, "sent {} bound {}", sent, bound);
                prop_assert!(b.tokens() <= burst);
            }
        }

        #[test]
        fn arbitrary_instants_never_panic(
            rate in any::<u32>(),
            burst in any::<u32>(),
            times in prop::collection::vec(any::<u64>(), 1..50),
        ) {
            let mut b = TokenBucket::new(rate, burst);
            for t in times {
                let _ = b.allow(Instant::from_micros(t));
                prop_assert!(b.tokens() <= burst);
            }
        }
    }
}
