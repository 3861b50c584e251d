//! The stack's random numbers: xoshiro256** seeded through SplitMix64. Ours, so that
//! the same seed gives the same packets on every platform and every version of every
//! dependency. Not cryptographic: identifiers that must resist guessing (RFC 7217 stable
//! addresses) come from a keyed hash with a secret, not from here.

use crate::time::Duration;

#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    pub fn new(seed: u64) -> Self {
        let mut x = seed;
        let mut next = || {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        Self {
            s: [next(), next(), next(), next()],
        }
    }

    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    pub fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// Uniform in `[0, bound)`; 0 when `bound` is 0. Lemire's multiply-shift, whose bias
    /// (below 2^-32 for the bounds a stack uses) does not matter here.
    pub fn below(&mut self, bound: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(bound)) >> 64) as u64
    }

    /// Uniform in `[lo, hi]`, inclusive; `lo` when `hi <= lo`.
    pub fn range_inclusive(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        match (hi - lo).checked_add(1) {
            Some(span) => lo + self.below(span),
            None => self.next_u64(),
        }
    }

    /// A duration uniform in `[lo, hi]`, at microsecond granularity.
    pub fn duration_between(&mut self, lo: Duration, hi: Duration) -> Duration {
        let lo = u64::try_from(lo.as_micros()).unwrap_or(u64::MAX);
        let hi = u64::try_from(hi.as_micros()).unwrap_or(u64::MAX);
        Duration::from_micros(self.range_inclusive(lo, hi))
    }

    /// A duration uniform in `[0, max]`.
    pub fn duration_up_to(&mut self, max: Duration) -> Duration {
        self.duration_between(Duration::ZERO, max)
    }

    /// `base` scaled by a factor uniform in `[lo, hi]` (RFC 4861 §6.3.2 ReachableTime uses
    /// 0.5..1.5; RFC 7559 RAND uses -0.1..0.1 around 1).
    pub fn scale(&mut self, base: Duration, lo: f64, hi: f64) -> Duration {
        let unit = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        base.mul_f64(lo + (hi - lo) * unit)
    }

    pub fn fill_bytes(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }

    /// A generator for a sub-component, so that adding a consumer in one place does not
    /// shift every random number drawn elsewhere.
    pub fn fork(&mut self) -> Rng {
        Rng::new(self.next_u64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        assert_ne!(Rng::new(7).next_u64(), Rng::new(8).next_u64());
    }

    #[test]
    fn bounds_hold() {
        let mut r = Rng::new(1);
        for _ in 0..10_000 {
            assert!(r.below(10) < 10);
            let v = r.range_inclusive(5, 7);
            assert!((5..=7).contains(&v));
            let d = r.scale(Duration::from_secs(30), 0.5, 1.5);
            assert!(d >= Duration::from_secs(15) && d <= Duration::from_secs(45));
        }
        assert_eq!(r.below(0), 0);
        assert_eq!(r.range_inclusive(3, 3), 3);
        let _ = r.range_inclusive(0, u64::MAX);
    }
}
