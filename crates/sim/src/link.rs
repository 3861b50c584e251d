//! What a link is (its configuration: MTU, pcap link type, delay and impairments) and what
//! it counts. How frames move across links is `network.rs`'s business.

use sixstack_core::time::Duration;

/// pcap link types (tcpdump.org's LINKTYPE_ numbers) the simulator's users need.
pub mod dlt {
    /// Ethernet II / 802.3 frames without FCS (LINKTYPE_ETHERNET).
    pub const ETHERNET: u32 = 1;
    /// FDDI frames (LINKTYPE_FDDI), as IPv6 over FDDI (RFC 2467) sends them.
    pub const FDDI: u32 = 10;
    /// Raw IP, version told by the first nibble (LINKTYPE_RAW).
    pub const RAW: u32 = 101;
    /// Raw IPv6 (LINKTYPE_IPV6): what point-to-point tunnel interfaces carry.
    pub const IPV6: u32 = 229;
}

/// The bytes of a frame before its payload for a link type, so that `mtu` means what the
/// RFCs mean by a link's MTU: the largest IPv6 packet it carries (RFC 8200 §5).
pub fn link_header_len(link_type: u32) -> usize {
    match link_type {
        // Destination, source, EtherType (RFC 2464 §3); no FCS in captures.
        dlt::ETHERNET => 14,
        // FC, destination, source, then LLC/SNAP (RFC 2467 §3): the 4352-byte MTU is
        // counted after all of them.
        dlt::FDDI => 21,
        _ => 0,
    }
}

/// How a link behaves. Probabilities outside `[0, 1]` act as their nearest bound (NaN as 0).
#[derive(Debug, Clone, PartialEq)]
pub struct LinkConfig {
    /// The largest payload a frame may carry (the IPv6 MTU of the link); frames longer than
    /// `mtu` plus the link type's header are dropped and counted in `too_big`.
    pub mtu: usize,
    /// The pcap link type (see [`dlt`]) of the link's capture file.
    pub link_type: u32,
    /// Propagation delay. A frame never arrives in less than 1 µs, so that a ring of nodes
    /// answering one another always advances the clock.
    pub delay: Duration,
    /// Extra delay, uniform in `[0, jitter]` at microsecond granularity, drawn per receiver.
    /// It reorders frames sent closer together than the jitter, as on a real path.
    pub jitter: Duration,
    /// Probability that one receiver does not get a frame.
    pub loss: f64,
    /// Probability that one receiver gets a frame twice (the copy right after the original).
    pub duplicate: f64,
    /// Probability that a frame is held back for one receiver until the next frame for that
    /// receiver has been scheduled, and then delivered right behind it.
    pub reorder: f64,
    /// How long a held-back frame waits for a next frame before it goes anyway (late).
    pub reorder_hold: Duration,
    /// Serialization rate of the (shared) medium: frames leave one after another, each taking
    /// `8 * len / bandwidth` seconds. `None` (or `Some(0)`) is infinitely fast.
    pub bandwidth_bps: Option<u64>,
    /// Frames waiting for the medium when `bandwidth_bps` is set; a frame finding this many
    /// ahead of it is dropped (drop-tail) and counted in `queue_dropped`.
    pub queue_limit: usize,
    /// Captured frames kept in memory for [`crate::Network::captured`]; the oldest is
    /// dropped (and counted in `capture_dropped`) to make room. The pcap file keeps all.
    pub capture_limit: usize,
}

impl Default for LinkConfig {
    /// Ethernet, MTU 1500, 100 µs of delay, no impairments, no bandwidth limit.
    fn default() -> Self {
        Self {
            mtu: 1500,
            link_type: dlt::ETHERNET,
            delay: Duration::from_micros(100),
            jitter: Duration::ZERO,
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
            reorder_hold: Duration::from_millis(10),
            bandwidth_bps: None,
            queue_limit: 1000,
            capture_limit: 10_000,
        }
    }
}

impl LinkConfig {
    /// The default: Ethernet with MTU 1500 (RFC 2464).
    pub fn ethernet() -> Self {
        Self::default()
    }

    /// FDDI with its IPv6 MTU of 4352 (RFC 2467 §4).
    pub fn fddi() -> Self {
        Self {
            mtu: 4352,
            link_type: dlt::FDDI,
            ..Self::default()
        }
    }

    /// Bare IPv6 packets, as a point-to-point tunnel carries them.
    pub fn raw_ipv6(mtu: usize) -> Self {
        Self {
            mtu,
            link_type: dlt::IPV6,
            ..Self::default()
        }
    }

    /// The longest frame the link carries: `mtu` plus the link type's header.
    pub fn max_frame_len(&self) -> usize {
        self.mtu.saturating_add(link_header_len(self.link_type))
    }
}

/// What one link did with the frames offered to it. Per-frame counters count frames that
/// entered the link; per-receiver counters count copies meant for one attached port.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Frames offered to the link (by nodes and by `inject`), before any check.
    pub sent: u64,
    /// Per frame: longer than `max_frame_len`, dropped.
    pub too_big: u64,
    /// Per frame: dropped by the tap.
    pub tap_dropped: u64,
    /// Per frame: replaced by the tap (the replacement then travels).
    pub tap_replaced: u64,
    /// Per frame: dropped because the serialization queue was full.
    pub queue_dropped: u64,
    /// Per frame: on the wire, hence captured.
    pub captured: u64,
    /// Per receiver: not delivered, by the `loss` probability.
    pub lost: u64,
    /// Per receiver: extra copies made by the `duplicate` probability.
    pub duplicated: u64,
    /// Per receiver: copies delivered after a copy of a frame that entered the link later
    /// (by `reorder` or by jitter).
    pub reordered: u64,
    /// Per receiver: copies handed to a node's `receive`.
    pub delivered: u64,
    /// Per receiver: copies whose port was detached before they arrived.
    pub unplugged: u64,
    /// Per receiver: copies dropped because the whole network had `Limits::in_flight`
    /// copies in flight (a broadcast storm).
    pub overflow: u64,
    /// Captured frames dropped from memory to respect `capture_limit`.
    pub capture_dropped: u64,
}

/// How long a frame of `len` bytes occupies a medium of `bps` bits per second, rounded up
/// to the microsecond so that a busy medium always advances the clock.
pub(crate) fn serialization_time(len: usize, bps: u64) -> Duration {
    if bps == 0 {
        return Duration::ZERO;
    }
    let bits = (len as u128) * 8 * 1_000_000;
    let micros = bits.div_ceil(u128::from(bps));
    Duration::from_micros(u64::try_from(micros).unwrap_or(u64::MAX))
}

/// True with probability `p` for a uniform 64-bit draw `u`.
pub(crate) fn chance(u: u64, p: f64) -> bool {
    // 53 bits: every value is exact in an f64, so p = 1 is always and p = 0 never.
    let unit = (u >> 11) as f64 / (1u64 << 53) as f64;
    unit < p
}

/// Uniform in `[0, max]` microseconds for a uniform 64-bit draw `u`.
pub(crate) fn jitter_of(u: u64, max: Duration) -> Duration {
    let span = u64::try_from(max.as_micros())
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    Duration::from_micros(((u128::from(u) * u128::from(span)) >> 64) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mtu_counts_the_payload_not_the_link_header() {
        assert_eq!(LinkConfig::default().max_frame_len(), 1514);
        assert_eq!(LinkConfig::fddi().max_frame_len(), 4352 + 21);
        assert_eq!(LinkConfig::raw_ipv6(1280).max_frame_len(), 1280);
        let odd = LinkConfig {
            mtu: usize::MAX,
            ..LinkConfig::default()
        };
        assert_eq!(odd.max_frame_len(), usize::MAX);
    }

    #[test]
    fn serialization_rounds_up_to_the_microsecond() {
        // 1500 bytes at 1 Mbit/s: 12 ms.
        assert_eq!(
            serialization_time(1500, 1_000_000),
            Duration::from_millis(12)
        );
        // 1 byte at 1 Gbit/s: 8 ns, still 1 µs.
        assert_eq!(
            serialization_time(1, 1_000_000_000),
            Duration::from_micros(1)
        );
        assert_eq!(serialization_time(1500, 0), Duration::ZERO);
        assert_eq!(
            serialization_time(usize::MAX, 1),
            Duration::from_micros(u64::MAX)
        );
    }

    #[test]
    fn chance_bounds() {
        assert!(!chance(0, 0.0));
        assert!(!chance(u64::MAX, f64::NAN));
        assert!(chance(u64::MAX, 1.0));
        assert!(chance(0, 1e-9));
        assert!(!chance(u64::MAX, 0.999));
        assert!(chance(u64::MAX / 2 - 4096, 0.5));
        assert!(!chance(u64::MAX / 2 + 4096, 0.5));
    }

    #[test]
    fn jitter_stays_in_range() {
        let max = Duration::from_micros(10);
        assert_eq!(jitter_of(0, max), Duration::ZERO);
        assert_eq!(jitter_of(u64::MAX, max), max);
        assert_eq!(jitter_of(u64::MAX, Duration::ZERO), Duration::ZERO);
        assert_eq!(
            jitter_of(u64::MAX, Duration::MAX),
            Duration::from_micros(u64::MAX - 1)
        );
    }
}
