//! The Path MTU cache (RFC 8201): the PMTU estimate per destination, lowered by Packet
//! Too Big messages and aged back to the link MTU. A destination without an entry uses
//! its outgoing link's MTU; only decreases are stored.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv6Addr;

use sixstack_wire::ipv6::MIN_MTU;

use crate::time::{Duration, Instant};

/// RFC 8201 §4: no PMTU estimate goes below the IPv6 minimum link MTU.
const MIN_PMTU: u32 = MIN_MTU as u32;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PmtuConfig {
    /// How long a decreased estimate holds before it is dropped, which lets the path MTU
    /// grow again (RFC 8201 §5.3: at least 5 minutes, 10 recommended).
    pub aging: Duration,
    /// The most destinations with an estimate. An outsider grows the table with forged
    /// Packet Too Big messages; when full, the entry updated longest ago goes.
    pub max_entries: usize,
}

impl Default for PmtuConfig {
    fn default() -> Self {
        Self {
            aging: Duration::from_secs(600),
            max_entries: 1024,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    pmtu: u32,
    /// When the estimate was last lowered or confirmed; aging counts from here.
    updated: Instant,
}

/// Path MTU estimates by destination.
#[derive(Debug, Clone)]
pub struct PathMtuCache {
    cfg: PmtuConfig,
    entries: BTreeMap<Ipv6Addr, Entry>,
    /// The same entries by (updated, destination): oldest first, for aging and eviction.
    by_age: BTreeSet<(Instant, Ipv6Addr)>,
}

impl PathMtuCache {
    pub fn new(cfg: PmtuConfig) -> Self {
        Self {
            cfg,
            entries: BTreeMap::new(),
            by_age: BTreeSet::new(),
        }
    }

    /// The estimate for `dst`, or `None`: then the outgoing link's MTU applies. The
    /// caller sends with `min(estimate, link MTU)`: a link's MTU may shrink under an entry.
    pub fn get(&self, dst: &Ipv6Addr) -> Option<u32> {
        self.entries.get(dst).map(|e| e.pmtu)
    }

    /// A Packet Too Big for a packet sent to `dst` reports `mtu`; `link_mtu` is the MTU
    /// of the link that packet left on. Returns the new estimate when it went down.
    /// A report equal to the estimate restarts its aging (the path still has it).
    pub fn on_packet_too_big(
        &mut self,
        now: Instant,
        dst: Ipv6Addr,
        mtu: u32,
        link_mtu: u32,
    ) -> Option<u32> {
        // RFC 8201 §4: never below 1280, even if the message says less.
        let reported = mtu.max(MIN_PMTU);
        let current = self.get(&dst).unwrap_or(link_mtu);
        if reported > current {
            // RFC 8201 §4: a Packet Too Big never increases the estimate.
            return None;
        }
        if reported == current {
            if self.entries.contains_key(&dst) {
                self.set(now, dst, reported);
            }
            return None;
        }
        self.set(now, dst, reported);
        Some(reported)
    }

    fn set(&mut self, now: Instant, dst: Ipv6Addr, pmtu: u32) {
        if let Some(old) = self.entries.remove(&dst) {
            self.by_age.remove(&(old.updated, dst));
        } else if self.cfg.max_entries == 0 {
            return;
        } else {
            while self.entries.len() >= self.cfg.max_entries {
                let Some((_, oldest)) = self.by_age.pop_first() else {
                    break;
                };
                self.entries.remove(&oldest);
            }
        }
        self.entries.insert(dst, Entry { pmtu, updated: now });
        self.by_age.insert((now, dst));
    }

    /// Forgets `dst` (its route changed, or the glue knows better).
    pub fn remove(&mut self, dst: &Ipv6Addr) {
        if let Some(old) = self.entries.remove(dst) {
            self.by_age.remove(&(old.updated, *dst));
        }
    }

    /// Drops the estimates older than the aging time: those paths go back to the link
    /// MTU, and a Packet Too Big lowers them again if the path has not grown (§5.3).
    pub fn poll(&mut self, now: Instant) {
        while let Some(&(updated, dst)) = self.by_age.first() {
            if updated + self.cfg.aging > now {
                break;
            }
            self.by_age.pop_first();
            self.entries.remove(&dst);
        }
    }

    /// When the oldest estimate ages out.
    pub fn poll_at(&self) -> Option<Instant> {
        self.by_age
            .first()
            .map(|&(updated, _)| updated + self.cfg.aging)
    }

    /// The estimates, in address order.
    pub fn iter(&self) -> impl Iterator<Item = (Ipv6Addr, u32)> + '_ {
        self.entries.iter().map(|(a, e)| (*a, e.pmtu))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn addr(n: u16) -> Ipv6Addr {
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, n)
    }

    fn t(secs: u64) -> Instant {
        Instant::from_secs(secs)
    }

    #[test]
    fn rfc8201_4_decrease_is_stored() {
        let mut c = PathMtuCache::new(PmtuConfig::default());
        assert_eq!(c.get(&addr(1)), None);
        assert_eq!(c.on_packet_too_big(t(1), addr(1), 1400, 1500), Some(1400));
        assert_eq!(c.get(&addr(1)), Some(1400));
        assert_eq!(c.on_packet_too_big(t(2), addr(1), 1300, 1500), Some(1300));
        assert_eq!(c.get(&addr(1)), Some(1300));
        assert_eq!(c.get(&addr(2)), None);
        assert_eq!(c.iter().collect::<Vec<_>>(), [(addr(1), 1300)]);
    }

    #[test]
    fn rfc8201_4_never_below_1280() {
        let mut c = PathMtuCache::new(PmtuConfig::default());
        assert_eq!(c.on_packet_too_big(t(1), addr(1), 576, 1500), Some(1280));
        assert_eq!(c.get(&addr(1)), Some(1280));
        assert_eq!(c.on_packet_too_big(t(2), addr(1), 0, 1500), None);
        assert_eq!(c.get(&addr(1)), Some(1280));
        // On a 1280 link a report below 1280 changes nothing and stores nothing.
        assert_eq!(c.on_packet_too_big(t(2), addr(2), 1000, 1280), None);
        assert_eq!(c.get(&addr(2)), None);
    }

    #[test]
    fn rfc8201_4_increase_ignored() {
        let mut c = PathMtuCache::new(PmtuConfig::default());
        assert_eq!(c.on_packet_too_big(t(1), addr(1), 9000, 1500), None);
        assert_eq!(c.get(&addr(1)), None);
        assert_eq!(c.on_packet_too_big(t(1), addr(1), 1400, 1500), Some(1400));
        assert_eq!(c.on_packet_too_big(t(2), addr(1), 1450, 1500), None);
        assert_eq!(c.on_packet_too_big(t(2), addr(1), u32::MAX, 1500), None);
        assert_eq!(c.get(&addr(1)), Some(1400));
    }

    #[test]
    fn rfc8201_5_3_aging_restores_link_mtu() {
        let mut c = PathMtuCache::new(PmtuConfig::default());
        c.on_packet_too_big(t(100), addr(1), 1400, 1500);
        c.on_packet_too_big(t(200), addr(2), 1400, 1500);
        assert_eq!(c.poll_at(), Some(t(700)));
        c.poll(t(699));
        assert_eq!(c.len(), 2);
        c.poll(t(700));
        assert_eq!(c.get(&addr(1)), None);
        assert_eq!(c.get(&addr(2)), Some(1400));
        assert_eq!(c.poll_at(), Some(t(800)));
        c.poll(t(800));
        assert!(c.is_empty());
        assert_eq!(c.poll_at(), None);
    }

    #[test]
    fn rfc8201_5_3_equal_report_restarts_aging() {
        let mut c = PathMtuCache::new(PmtuConfig::default());
        c.on_packet_too_big(t(100), addr(1), 1400, 1500);
        assert_eq!(c.on_packet_too_big(t(500), addr(1), 1400, 1500), None);
        assert_eq!(c.poll_at(), Some(t(1100)));
        c.poll(t(700));
        assert_eq!(c.get(&addr(1)), Some(1400));
    }

    #[test]
    fn table_bounded_evicts_oldest() {
        let mut c = PathMtuCache::new(PmtuConfig {
            max_entries: 3,
            ..PmtuConfig::default()
        });
        for i in 0..5 {
            c.on_packet_too_big(t(u64::from(i)), addr(i), 1400, 1500);
        }
        assert_eq!(c.len(), 3);
        assert_eq!(
            c.iter().map(|(a, _)| a).collect::<Vec<_>>(),
            [addr(2), addr(3), addr(4)]
        );
        // Updating an entry does not evict another.
        assert_eq!(c.on_packet_too_big(t(9), addr(2), 1300, 1500), Some(1300));
        assert_eq!(c.len(), 3);
        c.on_packet_too_big(t(10), addr(7), 1300, 1500);
        assert_eq!(
            c.iter().map(|(a, _)| a).collect::<Vec<_>>(),
            [addr(2), addr(4), addr(7)]
        );
        c.remove(&addr(4));
        assert_eq!(c.len(), 2);
        assert_eq!(c.poll_at(), Some(t(609)));
    }

    proptest! {
        #[test]
        fn never_above_link_or_below_minimum(
            reports in proptest::collection::vec((0u16..8, any::<u32>(), 1280u32..10000, 0u64..2000), 0..200)
        ) {
            let mut c = PathMtuCache::new(PmtuConfig { max_entries: 4, ..PmtuConfig::default() });
            let mut now = 0;
            for (d, mtu, link, dt) in reports {
                now += dt;
                let before = c.get(&addr(d)).unwrap_or(link);
                let r = c.on_packet_too_big(t(now), addr(d), mtu, link);
                if let Some(p) = r {
                    prop_assert!(p >= 1280 && p < before);
                    prop_assert_eq!(c.get(&addr(d)), Some(p));
                }
                c.poll(t(now));
                prop_assert!(c.len() <= 4);
                prop_assert!(c.iter().all(|(_, p)| p >= 1280));
                prop_assert!(c.poll_at().is_none_or(|at| at > t(now)));
            }
        }
    }
}
