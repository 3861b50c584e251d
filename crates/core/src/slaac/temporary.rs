//! RFC 8981 temporary addresses: their configuration and their randomized interface
//! identifiers. The address table in `mod.rs` creates, regenerates and expires them.

use sha2::{Digest, Sha256};

use crate::rng::Rng;
use crate::time::Duration;

/// RFC 8981 §3.8 constants, one set per interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemporaryConfig {
    /// Whether temporary addresses are made at all. Off by default here: a research and
    /// test stack keeps its addresses predictable unless asked otherwise.
    pub enabled: bool,
    /// TEMP_VALID_LIFETIME (RFC 8981 §3.8): 2 days.
    pub temp_valid_lifetime: Duration,
    /// TEMP_PREFERRED_LIFETIME (RFC 8981 §3.8): 1 day.
    pub temp_preferred_lifetime: Duration,
    /// REGEN_ADVANCE (RFC 8981 §3.8). `None` computes the RFC's formula,
    /// 2 s + TEMP_IDGEN_RETRIES × DupAddrDetectTransmits × RetransTimer, with the
    /// interface's current RetransTimer.
    pub regen_advance: Option<Duration>,
    /// MAX_DESYNC_FACTOR (RFC 8981 §3.8): 0.4 × TEMP_PREFERRED_LIFETIME. Each temporary
    /// address draws its DESYNC_FACTOR uniformly in [0, MAX_DESYNC_FACTOR].
    pub max_desync_factor: Duration,
    /// TEMP_IDGEN_RETRIES (RFC 8981 §3.8): 3 new identifiers after a DAD failure, then
    /// the interface stops making temporary addresses (§3.4 step 7).
    pub temp_idgen_retries: u32,
}

impl Default for TemporaryConfig {
    fn default() -> Self {
        let day = Duration::from_secs(86_400);
        Self {
            enabled: false,
            temp_valid_lifetime: 2 * day,
            temp_preferred_lifetime: day,
            regen_advance: None,
            max_desync_factor: day.mul_f64(0.4),
            temp_idgen_retries: 3,
        }
    }
}

impl TemporaryConfig {
    /// REGEN_ADVANCE for the given DupAddrDetectTransmits and RetransTimer.
    pub fn regen_advance(
        &self,
        dup_addr_detect_transmits: u32,
        retrans_timer: Duration,
    ) -> Duration {
        if let Some(d) = self.regen_advance {
            return d;
        }
        let probes = self
            .temp_idgen_retries
            .saturating_mul(dup_addr_detect_transmits);
        Duration::from_secs(2).saturating_add(retrans_timer.saturating_mul(probes))
    }

    /// The largest DESYNC_FACTOR allowed: MAX_DESYNC_FACTOR, and (RFC 8981 §3.8) smaller
    /// than TEMP_PREFERRED_LIFETIME - REGEN_ADVANCE so that a fresh address is not due
    /// for regeneration the moment it is made.
    pub(super) fn desync_bound(&self, regen_advance: Duration) -> Duration {
        let room = self
            .temp_preferred_lifetime
            .saturating_sub(regen_advance)
            .saturating_sub(Duration::from_micros(1));
        self.max_desync_factor.min(room)
    }
}

/// A randomized interface identifier (RFC 8981 §3.3.2, hash form):
/// F(Prefix, Net_Iface, Network_ID, random, DAD_Counter, secret_key) with SHA-256.
/// The stack's generator is seeded and not cryptographic (`rng.rs`); hashing its output
/// with the interface's secret keeps the identifier unguessable to anyone without the
/// secret while runs with the same seed and secret stay reproducible.
pub(super) fn temporary_iid(
    rng: &mut Rng,
    prefix: u64,
    net_iface: &[u8],
    network_id: &[u8],
    dad_counter: u32,
    secret_key: &[u8; 32],
) -> [u8; 8] {
    let mut noise = [0u8; 16];
    rng.fill_bytes(&mut noise);
    let mut h = Sha256::new();
    h.update(b"temporary");
    h.update(prefix.to_be_bytes());
    h.update(
        u32::try_from(net_iface.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    h.update(net_iface);
    h.update(
        u32::try_from(network_id.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    h.update(network_id);
    h.update(noise);
    h.update(dad_counter.to_be_bytes());
    h.update(secret_key);
    super::stable::first_64(&h.finalize())
}
