//! SYN cookies: when a listener's SYN queue is full, the SYN-ACK's sequence number carries
//! what the listener would have stored, so that a SYN flood fills nothing (RFC 4987 §3.6).
//! Owns the secret and the cookie format; the listener decides when to use cookies, and
//! the TCB checks the returning ACK (ack number − 1 is the cookie, sequence number − 1 the
//! client's ISN).
//!
//! The 32-bit cookie, most significant bit first:
//!
//! ```text
//!  31                                                   5 4   3 2     0
//! +------------------------------------------------------+-----+-------+
//! |            MAC: 27 bits of the keyed hash            |  T  |  MSS  |
//! +------------------------------------------------------+-----+-------+
//! ```
//!
//! - MSS: an index into [`MSS_TABLE`]; the largest entry not above the client's MSS.
//! - T: the time counter (`now` divided by [`SynCookieConfig::period`], 64 s by default)
//!   modulo 4. A cookie is accepted while the counter has moved on by at most
//!   [`SynCookieConfig::max_age_periods`] (2: between 128 and 192 s); two bits tell the
//!   current counter from the two before it, and a counter three periods old reads as a
//!   future one and is refused.
//! - MAC: the first 27 bits of SHA-256 over the secret, the local and remote address and
//!   port, the client's ISN, the full 64-bit counter and the MSS index. Changing any of
//!   them, or any bit of the cookie, fails the check except with probability 2^-27.
//!
//! What is lost compared with a SYN queue entry: an MSS finer than the table's, and,
//! unless the SYN carried timestamps, its window scale and SACK-permitted options. With
//! timestamps, [`SynCookies::encode_ts`] puts those two in the low bits of the SYN-ACK's
//! TSval, which the ACK echoes in TSecr ([`SynCookies::decode_ts`]):
//!
//! ```text
//!  31                                              5   4   3       0
//! +-------------------------------------------------+---+---------+
//! |          the timestamp clock's upper bits        | S |  WSCALE |
//! +-------------------------------------------------+---+---------+
//! ```
//!
//! WSCALE is the SYN's shift count (0 to 14; 15 when the SYN had no Window Scale option),
//! S its SACK-permitted option. These bits are not covered by the MAC: they can only
//! change options of the sender's own connection, which it could have asked for in its
//! SYN, and the ACK still needs a valid cookie.

use std::net::Ipv6Addr;

use sha2::{Digest, Sha256};
use sixstack_wire::tcp::SeqNumber;

use crate::time::{Duration, Instant};

/// The MSS values a cookie can carry, in increasing order (3 bits). 536 and 1220 are the
/// defaults every IPv4 and IPv6 host must accept (RFC 9293 §3.7.1), 1440 is Ethernet over
/// IPv6, 1420 and 1380 are common tunnels, 1460 is Ethernet for peers that think in IPv4,
/// 4036 and 8940 jumbo frames.
pub const MSS_TABLE: [u16; 8] = [536, 1220, 1380, 1420, 1440, 1460, 4036, 8940];

const MSS_BITS: u32 = 3;
const COUNTER_BITS: u32 = 2;
const MAC_SHIFT: u32 = MSS_BITS + COUNTER_BITS;
const MSS_MASK: u32 = (1 << MSS_BITS) - 1;
const COUNTER_MASK: u64 = (1 << COUNTER_BITS) - 1;

/// The SYN's options a timestamp can carry (see the module's doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CookieOptions {
    /// The peer's Window Scale shift count, `None` when its SYN had no such option.
    pub window_scale: Option<u8>,
    pub sack_permitted: bool,
}

const TS_WSCALE_MASK: u32 = 0x0f;
const TS_NO_WSCALE: u32 = 0x0f;
const TS_SACK: u32 = 0x10;
const TS_MASK: u32 = 0x1f;
/// RFC 7323 §2.3: a shift count above 14 is used as 14.
const MAX_WSCALE: u8 = 14;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynCookieConfig {
    /// The time counter's granularity; 64 s like the classic technique (RFC 4987 §3.6
    /// describes the counter without fixing it).
    pub period: Duration,
    /// How many periods a cookie survives after the one it was made in; at most 2 (the
    /// counter has two bits), larger values are treated as 2.
    pub max_age_periods: u64,
}

impl Default for SynCookieConfig {
    fn default() -> Self {
        Self {
            period: Duration::from_secs(64),
            max_age_periods: 2,
        }
    }
}

#[derive(Clone)]
pub struct SynCookies {
    secret: [u8; 32],
    config: SynCookieConfig,
}

/// The secret is not printed.
impl std::fmt::Debug for SynCookies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SynCookies")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl SynCookies {
    pub fn new(secret: [u8; 32]) -> Self {
        Self::with_config(secret, SynCookieConfig::default())
    }

    pub fn with_config(secret: [u8; 32], config: SynCookieConfig) -> Self {
        Self { secret, config }
    }

    pub fn config(&self) -> &SynCookieConfig {
        &self.config
    }

    /// The listener's ISN for a SYN answered without state. `mss` is the client's MSS
    /// option (the caller passes the default MSS when the SYN had none); it is rounded down
    /// to the table, or up to 536 when below every entry (every host must accept 536,
    /// RFC 9293 §3.7.1).
    pub fn encode(
        &self,
        now: Instant,
        local: (Ipv6Addr, u16),
        remote: (Ipv6Addr, u16),
        client_isn: SeqNumber,
        mss: u16,
    ) -> SeqNumber {
        let index = MSS_TABLE.iter().rposition(|&m| m <= mss).unwrap_or(0) as u32;
        let counter = self.counter(now);
        let mac = self.mac(local, remote, client_isn, counter, index);
        SeqNumber((mac << MAC_SHIFT) | (((counter & COUNTER_MASK) as u32) << MSS_BITS) | index)
    }

    /// Checks the cookie of a returning ACK (its acknowledgment number − 1) and gives the
    /// MSS it carries, or `None` when it was not made by this secret for this 4-tuple and
    /// client ISN within the accepted periods.
    pub fn decode(
        &self,
        now: Instant,
        local: (Ipv6Addr, u16),
        remote: (Ipv6Addr, u16),
        client_isn: SeqNumber,
        cookie: SeqNumber,
    ) -> Option<u16> {
        let index = cookie.0 & MSS_MASK;
        let t = u64::from(cookie.0 >> MSS_BITS) & COUNTER_MASK;
        let now_counter = self.counter(now);
        let max_age = self.config.max_age_periods.min(COUNTER_MASK - 1);
        // The one counter within the accepted ages whose low bits are T.
        let counter = (0..=max_age)
            .filter_map(|age| now_counter.checked_sub(age))
            .find(|c| c & COUNTER_MASK == t)?;
        let mac = self.mac(local, remote, client_isn, counter, index);
        if mac != cookie.0 >> MAC_SHIFT {
            return None;
        }
        MSS_TABLE.get(index as usize).copied()
    }

    /// The SYN-ACK's TSval: `ts_now` (the connection's timestamp clock) with its low five
    /// bits replaced by `options`, and moved back by 32 ticks if that made it larger, so
    /// the clock's later values are never below it (the peer's PAWS, RFC 7323 §5).
    pub fn encode_ts(&self, ts_now: u32, options: CookieOptions) -> u32 {
        let wscale = options
            .window_scale
            .map_or(TS_NO_WSCALE, |w| u32::from(w.min(MAX_WSCALE)));
        let sack = if options.sack_permitted { TS_SACK } else { 0 };
        let ts = (ts_now & !TS_MASK) | sack | wscale;
        if ts > ts_now {
            ts.wrapping_sub(TS_MASK + 1)
        } else {
            ts
        }
    }

    /// The options from the TSecr of the ACK that returned a cookie (after `decode`
    /// accepted the cookie).
    pub fn decode_ts(&self, ts_ecr: u32) -> CookieOptions {
        let wscale = ts_ecr & TS_WSCALE_MASK;
        CookieOptions {
            // Only 15 means none; 0 to 14 are shift counts.
            window_scale: (wscale != TS_NO_WSCALE).then_some(wscale as u8),
            sack_permitted: ts_ecr & TS_SACK != 0,
        }
    }

    fn counter(&self, now: Instant) -> u64 {
        let period = u64::try_from(self.config.period.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        now.total_micros() / period
    }

    /// The 27-bit MAC; the secret is hashed first and last (no plain prefix key).
    fn mac(
        &self,
        local: (Ipv6Addr, u16),
        remote: (Ipv6Addr, u16),
        client_isn: SeqNumber,
        counter: u64,
        index: u32,
    ) -> u32 {
        let mut h = Sha256::new();
        h.update(self.secret);
        h.update(b"syncookie");
        h.update(local.0.octets());
        h.update(local.1.to_be_bytes());
        h.update(remote.0.octets());
        h.update(remote.1.to_be_bytes());
        h.update(client_isn.0.to_be_bytes());
        h.update(counter.to_be_bytes());
        h.update([index as u8]);
        h.update(self.secret);
        let d = h.finalize();
        u32::from_be_bytes([d[0], d[1], d[2], d[3]]) >> MAC_SHIFT
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn a(last: u16) -> Ipv6Addr {
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, last)
    }

    const L: (Ipv6Addr, u16) = (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), 80);
    const R: (Ipv6Addr, u16) = (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2), 50000);
    const ISN: SeqNumber = SeqNumber(0xdead_beef);

    fn cookies() -> SynCookies {
        SynCookies::new([42; 32])
    }

    #[test]
    fn rfc4987_3_6_round_trip_for_each_mss() {
        let c = cookies();
        let now = Instant::from_secs(1000);
        for mss in MSS_TABLE {
            let cookie = c.encode(now, L, R, ISN, mss);
            assert_eq!(c.decode(now, L, R, ISN, cookie), Some(mss), "mss {mss}");
        }
    }

    #[test]
    fn rfc4987_3_6_mss_rounded_down_to_the_table() {
        let c = cookies();
        let now = Instant::from_secs(5);
        let cases = [
            (1500u16, 1460u16),
            (1439, 1420),
            (9000, 8940),
            (65535, 8940),
            (1220, 1220),
            (1219, 536),
            // Below every entry: the minimum every host accepts.
            (100, 536),
            (0, 536),
        ];
        for (given, carried) in cases {
            let cookie = c.encode(now, L, R, ISN, given);
            assert_eq!(
                c.decode(now, L, R, ISN, cookie),
                Some(carried),
                "mss {given}"
            );
        }
    }

    #[test]
    fn rfc4987_3_6_wrong_tuple_or_client_isn_rejected() {
        let c = cookies();
        let now = Instant::from_secs(1000);
        let cookie = c.encode(now, L, R, ISN, 1440);
        assert_eq!(c.decode(now, (a(9), 80), R, ISN, cookie), None);
        assert_eq!(c.decode(now, (L.0, 81), R, ISN, cookie), None);
        assert_eq!(c.decode(now, L, (a(9), 50000), ISN, cookie), None);
        assert_eq!(c.decode(now, L, (R.0, 50001), ISN, cookie), None);
        assert_eq!(c.decode(now, R, L, ISN, cookie), None);
        assert_eq!(c.decode(now, L, R, ISN + 1, cookie), None);
        // Another secret.
        assert_eq!(
            SynCookies::new([43; 32]).decode(now, L, R, ISN, cookie),
            None
        );
    }

    #[test]
    fn rfc4987_3_6_counter_current_and_two_previous_periods_accepted() {
        let c = cookies();
        let made = Instant::from_secs(64 * 100 + 10);
        let cookie = c.encode(made, L, R, ISN, 1220);
        // Same period, the next one, the one after: accepted.
        for later in [0u64, 53, 54, 64, 117, 118, 128, 181] {
            let now = made + Duration::from_secs(later);
            assert_eq!(c.decode(now, L, R, ISN, cookie), Some(1220), "+{later} s");
        }
        // Three periods on: refused, and stays refused.
        for later in [182u64, 200, 256, 1000, 64 * 1000] {
            let now = made + Duration::from_secs(later);
            assert_eq!(c.decode(now, L, R, ISN, cookie), None, "+{later} s");
        }
        // A cookie from the future (a clock going backwards) is refused too.
        assert_eq!(
            c.decode(made - Duration::from_secs(64), L, R, ISN, cookie),
            None
        );
    }

    #[test]
    fn rfc4987_3_6_max_age_of_zero_accepts_only_the_current_period() {
        let c = SynCookies::with_config(
            [1; 32],
            SynCookieConfig {
                period: Duration::from_secs(64),
                max_age_periods: 0,
            },
        );
        let made = Instant::from_secs(64 * 3);
        let cookie = c.encode(made, L, R, ISN, 1440);
        assert_eq!(
            c.decode(made + Duration::from_secs(63), L, R, ISN, cookie),
            Some(1440)
        );
        assert_eq!(
            c.decode(made + Duration::from_secs(64), L, R, ISN, cookie),
            None
        );
    }

    #[test]
    fn rfc4987_3_6_counter_near_the_epoch() {
        // At time zero there is no previous period: nothing underflows.
        let c = cookies();
        let cookie = c.encode(Instant::ZERO, L, R, ISN, 1460);
        assert_eq!(c.decode(Instant::ZERO, L, R, ISN, cookie), Some(1460));
        let forged = SeqNumber(cookie.0 ^ (3 << MSS_BITS));
        assert_eq!(c.decode(Instant::ZERO, L, R, ISN, forged), None);
    }

    #[test]
    fn rfc4987_3_6_every_single_bit_flip_rejected() {
        let c = cookies();
        let now = Instant::from_secs(77_777);
        for mss in MSS_TABLE {
            let cookie = c.encode(now, L, R, ISN, mss);
            for bit in 0..32 {
                let flipped = SeqNumber(cookie.0 ^ (1 << bit));
                assert_eq!(
                    c.decode(now, L, R, ISN, flipped),
                    None,
                    "mss {mss} bit {bit}"
                );
            }
        }
    }

    #[test]
    fn rfc4987_3_6_debug_hides_the_secret() {
        let s = format!("{:?}", SynCookies::new([0xab; 32]));
        assert!(!s.contains("171"), "{s}");
        assert!(s.starts_with("SynCookies"));
    }

    #[test]
    fn rfc7323_2_3_options_round_trip_through_the_timestamp() {
        let c = cookies();
        let ts_now = 0x1234_5678;
        let mut all = vec![None];
        all.extend((0..=14u8).map(Some));
        for window_scale in all {
            for sack_permitted in [false, true] {
                let o = CookieOptions {
                    window_scale,
                    sack_permitted,
                };
                let ts = c.encode_ts(ts_now, o);
                assert_eq!(c.decode_ts(ts), o);
                // Never ahead of the clock, at most 32 ticks behind.
                assert!(ts <= ts_now && ts_now - ts < 32, "{ts:#x}");
            }
        }
        // A shift count above 14 is 14 (RFC 7323 §2.3).
        let ts = c.encode_ts(
            ts_now,
            CookieOptions {
                window_scale: Some(200),
                sack_permitted: false,
            },
        );
        assert_eq!(c.decode_ts(ts).window_scale, Some(14));
    }

    #[test]
    fn rfc7323_5_encoded_timestamp_never_ahead_of_the_clock() {
        let c = cookies();
        let o = CookieOptions {
            window_scale: None,
            sack_permitted: true,
        };
        // Low bits of the clock below those of the options: moved back a step.
        let ts = c.encode_ts(0x1000_0020, o);
        assert_eq!(ts, 0x1000_001f);
        assert_eq!(c.decode_ts(ts), o);
        // Near zero the clock wraps, as RFC 7323's clock does.
        let ts = c.encode_ts(3, o);
        assert_eq!(ts, 0xffff_ffff);
        assert_eq!(c.decode_ts(ts), o);
        assert_eq!(
            c.decode_ts(0),
            CookieOptions {
                window_scale: Some(0),
                sack_permitted: false
            }
        );
    }

    proptest! {
        /// Whatever arrives never panics, and a cookie made for one input decodes only for it.
        #[test]
        fn arbitrary_cookies_never_panic(
            cookie in any::<u32>(),
            isn in any::<u32>(),
            secs in any::<u64>(),
            mss in any::<u16>(),
        ) {
            let c = cookies();
            let now = Instant::from_micros(secs);
            let _ = c.decode(now, L, R, SeqNumber(isn), SeqNumber(cookie));
            let made = c.encode(now, L, R, SeqNumber(isn), mss);
            let got = c.decode(now, L, R, SeqNumber(isn), made);
            prop_assert!(got.is_some());
            prop_assert!(got.unwrap_or(0) <= mss.max(536));
        }
    }
}
