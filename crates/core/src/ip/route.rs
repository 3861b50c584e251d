//! The route table: which interface and next hop reach a destination (the prefix list and
//! default router choice of RFC 4861 §5.2 feed it, as do static routes, RFC 4191 route
//! information and redirects). It owns the routes and their lifetimes; who installs them
//! and why stays with their owners (ND, SLAAC, configuration).
//!
//! Lookup is longest prefix match with one map per prefix length, so its cost grows with
//! the number of distinct prefix lengths present (at most 129), not with the number of
//! routes.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv6Addr;

use crate::iface::IfaceId;
use crate::time::Instant;

/// Who installed a route. It also orders eviction when the table is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RouteOrigin {
    /// The prefix of an address on the interface, or an on-link prefix.
    Connected,
    /// Configured by the operator.
    Static,
    /// Learned from a Router Advertisement: default route, on-link prefix or RFC 4191
    /// route information.
    RouterAdvert,
    /// A host route from a Redirect (RFC 4861 §8.3).
    Redirect,
}

impl RouteOrigin {
    /// Lower is evicted first. Routes a packet installed go before configured ones, and
    /// configured ones are never evicted.
    fn eviction_rank(self) -> u8 {
        match self {
            RouteOrigin::Redirect => 0,
            RouteOrigin::RouterAdvert => 1,
            RouteOrigin::Static | RouteOrigin::Connected => 2,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// Stored with the host bits beyond `prefix_len` cleared.
    pub prefix: Ipv6Addr,
    pub prefix_len: u8,
    pub iface: IfaceId,
    /// `None`: the destination is on-link and is its own next hop.
    pub next_hop: Option<Ipv6Addr>,
    /// Lower wins between routes of the same prefix length.
    pub metric: u32,
    pub origin: RouteOrigin,
    /// When the route stops being valid; `None` is never.
    pub expires: Option<Instant>,
}

#[derive(Debug, Clone)]
struct Slot {
    /// Insertion order, the last tie-breaker; kept when a route is replaced.
    seq: u64,
    route: Route,
}

/// Where a route lives: prefix length, masked prefix, insertion sequence.
type Loc = (u8, u128, u64);

/// The route table.
///
/// Limit: `max_routes`. When it is full, a new route evicts the oldest route of the
/// lowest eviction rank present (redirects, then router-advertisement routes), provided
/// that rank is not above the new route's own: a redirect can only push out a redirect,
/// an RA route a redirect or an RA route, a static or connected route either. Static and
/// connected routes are never evicted; when nothing can go, `add` fails.
#[derive(Debug, Clone)]
pub struct RouteTable {
    max_routes: usize,
    // prefix length → masked prefix → routes in insertion order.
    by_len: BTreeMap<u8, BTreeMap<u128, Vec<Slot>>>,
    // (expiry, seq, len, prefix) of every route that expires: poll_at is the first.
    expiries: BTreeSet<(Instant, u64, u8, u128)>,
    // (rank, seq, len, prefix) of every evictable route: the first is the next victim.
    evictable: BTreeSet<(u8, u64, u8, u128)>,
    len: usize,
    next_seq: u64,
    evicted: u64,
}

pub(crate) fn mask(bits: u128, len: u8) -> u128 {
    match len {
        0 => 0,
        1..=127 => bits & (u128::MAX << (128 - u32::from(len))),
        _ => bits,
    }
}

impl RouteTable {
    pub fn new(max_routes: usize) -> Self {
        Self {
            max_routes,
            by_len: BTreeMap::new(),
            expiries: BTreeSet::new(),
            evictable: BTreeSet::new(),
            len: 0,
            next_seq: 0,
            evicted: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn max_routes(&self) -> usize {
        self.max_routes
    }

    /// How many routes have been evicted to make room since the table was made.
    pub fn evicted_count(&self) -> u64 {
        self.evicted
    }

    /// Adds a route, or replaces the one with the same prefix, interface, next hop and
    /// origin (which keeps its place in insertion order). Host bits of the prefix are
    /// cleared. When the table is full, evicts as the type's documentation says.
    pub fn add(&mut self, route: Route) -> Result<(), &'static str> {
        if route.prefix_len > 128 {
            return Err("prefix length over 128");
        }
        if route
            .next_hop
            .is_some_and(|h| h.is_unspecified() || h.is_multicast())
        {
            return Err("next hop must be a unicast address");
        }
        let len = route.prefix_len;
        let key = mask(u128::from(route.prefix), len);
        let route = Route {
            prefix: Ipv6Addr::from(key),
            ..route
        };

        let existing = self
            .by_len
            .get_mut(&len)
            .and_then(|b| b.get_mut(&key))
            .and_then(|slots| {
                slots.iter_mut().find(|s| {
                    s.route.iface == route.iface
                        && s.route.next_hop == route.next_hop
                        && s.route.origin == route.origin
                })
            });
        if let Some(slot) = existing {
            let seq = slot.seq;
            let old_expiry = slot.route.expires;
            slot.route = route;
            if let Some(t) = old_expiry {
                self.expiries.remove(&(t, seq, len, key));
            }
            if let Some(t) = route.expires {
                self.expiries.insert((t, seq, len, key));
            }
            return Ok(());
        }

        if self.len >= self.max_routes {
            let rank = route.origin.eviction_rank();
            match self.evictable.first().copied() {
                Some((victim_rank, seq, vlen, vkey)) if victim_rank <= rank => {
                    if self.take(vlen, vkey, seq).is_some() {
                        self.evicted += 1;
                    }
                }
                _ => return Err("route table full"),
            }
            // The eviction above freed a place; a table of size 0 has nothing to evict.
            if self.len >= self.max_routes {
                return Err("route table full");
            }
        }

        let seq = self.next_seq;
        self.next_seq += 1;
        if let Some(t) = route.expires {
            self.expiries.insert((t, seq, len, key));
        }
        let rank = route.origin.eviction_rank();
        if rank < RouteOrigin::Static.eviction_rank() {
            self.evictable.insert((rank, seq, len, key));
        }
        self.by_len
            .entry(len)
            .or_default()
            .entry(key)
            .or_default()
            .push(Slot { seq, route });
        self.len += 1;
        Ok(())
    }

    /// Removes one route by location, keeping the indexes and empty maps tidy.
    fn take(&mut self, len: u8, key: u128, seq: u64) -> Option<Route> {
        let bucket = self.by_len.get_mut(&len)?;
        let slots = bucket.get_mut(&key)?;
        let i = slots.iter().position(|s| s.seq == seq)?;
        let slot = slots.remove(i);
        if slots.is_empty() {
            bucket.remove(&key);
            if bucket.is_empty() {
                self.by_len.remove(&len);
            }
        }
        self.forget(&slot, len, key);
        Some(slot.route)
    }

    fn forget(&mut self, slot: &Slot, len: u8, key: u128) {
        if let Some(t) = slot.route.expires {
            self.expiries.remove(&(t, slot.seq, len, key));
        }
        self.evictable
            .remove(&(slot.route.origin.eviction_rank(), slot.seq, len, key));
        self.len -= 1;
    }

    /// Removes every route of this prefix (host bits ignored) on `iface` and via
    /// `next_hop`; `None` for either matches any (so `next_hop: None` is not "on-link
    /// only"). Returns how many went.
    pub fn remove(
        &mut self,
        prefix: Ipv6Addr,
        prefix_len: u8,
        iface: Option<IfaceId>,
        next_hop: Option<Ipv6Addr>,
    ) -> usize {
        let key = mask(u128::from(prefix), prefix_len);
        let gone: Vec<Loc> = self
            .by_len
            .get(&prefix_len)
            .and_then(|b| b.get(&key))
            .map(|slots| {
                slots
                    .iter()
                    .filter(|s| iface.is_none_or(|i| s.route.iface == i))
                    .filter(|s| next_hop.is_none_or(|h| s.route.next_hop == Some(h)))
                    .map(|s| (prefix_len, key, s.seq))
                    .collect()
            })
            .unwrap_or_default();
        gone.iter()
            .filter(|(l, k, seq)| self.take(*l, *k, *seq).is_some())
            .count()
    }

    /// Removes every route on `iface` (it went away or down). Returns how many went.
    pub fn remove_iface(&mut self, iface: IfaceId) -> usize {
        let gone: Vec<Loc> = self
            .by_len
            .iter()
            .flat_map(|(&len, bucket)| {
                bucket.iter().flat_map(move |(&key, slots)| {
                    slots
                        .iter()
                        .filter(move |s| s.route.iface == iface)
                        .map(move |s| (len, key, s.seq))
                })
            })
            .collect();
        gone.iter()
            .filter(|(l, k, seq)| self.take(*l, *k, *seq).is_some())
            .count()
    }

    /// Longest prefix match; among routes of that prefix, the lowest metric, then the
    /// earliest added. With `zone`, only routes on that interface count (a scoped
    /// destination such as `fe80::1%3`, RFC 4007 §9). Expiry is not checked here: call
    /// [`expire`](Self::expire) when [`poll_at`](Self::poll_at) comes.
    pub fn lookup(&self, dst: &Ipv6Addr, zone: Option<IfaceId>) -> Option<&Route> {
        let bits = u128::from(*dst);
        self.by_len.iter().rev().find_map(|(&len, bucket)| {
            bucket
                .get(&mask(bits, len))?
                .iter()
                .filter(|s| zone.is_none_or(|z| s.route.iface == z))
                .min_by_key(|s| (s.route.metric, s.seq))
                .map(|s| &s.route)
        })
    }

    /// Removes the routes whose lifetime ended at or before `now`, and returns them in
    /// the order they expired.
    pub fn expire(&mut self, now: Instant) -> Vec<Route> {
        let mut out = Vec::new();
        while let Some(&(t, seq, len, key)) = self.expiries.first() {
            if t > now {
                break;
            }
            match self.take(len, key, seq) {
                Some(r) => out.push(r),
                // An index entry with no route would loop forever; drop it.
                None => {
                    self.expiries.remove(&(t, seq, len, key));
                }
            }
        }
        out
    }

    /// When the next route expires.
    pub fn poll_at(&self) -> Option<Instant> {
        self.expiries.first().map(|e| e.0)
    }

    /// Every route: longest prefix first, then by prefix, then in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = &Route> {
        self.by_len
            .values()
            .rev()
            .flat_map(|bucket| bucket.values().flat_map(|v| v.iter().map(|s| &s.route)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::time::Duration;

    fn a(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    fn route(prefix: &str, len: u8, iface: u32, nh: Option<&str>, metric: u32) -> Route {
        Route {
            prefix: a(prefix),
            prefix_len: len,
            iface: IfaceId(iface),
            next_hop: nh.map(a),
            metric,
            origin: RouteOrigin::Static,
            expires: None,
        }
    }

    fn with(r: Route, origin: RouteOrigin) -> Route {
        Route { origin, ..r }
    }

    #[test]
    fn longest_prefix_then_metric_then_insertion() {
        let mut t = RouteTable::new(16);
        t.add(route("::", 0, 1, Some("fe80::1"), 10)).unwrap();
        t.add(route("2001:db8::", 32, 1, Some("fe80::2"), 10))
            .unwrap();
        t.add(route("2001:db8:1::", 48, 2, None, 20)).unwrap();
        t.add(route("2001:db8:1::", 48, 3, None, 5)).unwrap();
        t.add(route("2001:db8:1::", 48, 4, None, 5)).unwrap();

        let hit = |t: &RouteTable, d: &str, z: Option<u32>| {
            t.lookup(&a(d), z.map(IfaceId)).map(|r| r.iface.0)
        };
        assert_eq!(hit(&t, "2001:db8:1::9", None), Some(3));
        assert_eq!(hit(&t, "2001:db8:2::9", None), Some(1));
        assert_eq!(
            t.lookup(&a("2001:db8:2::9"), None).unwrap().next_hop,
            Some(a("fe80::2"))
        );
        assert_eq!(hit(&t, "3000::1", None), Some(1));
        // A zone restricts the match, falling back to shorter prefixes on that interface.
        assert_eq!(hit(&t, "2001:db8:1::9", Some(2)), Some(2));
        assert_eq!(hit(&t, "2001:db8:1::9", Some(1)), Some(1));
        assert_eq!(hit(&t, "2001:db8:1::9", Some(9)), None);
        assert_eq!(RouteTable::new(4).lookup(&a("::1"), None), None);
    }

    #[test]
    fn host_bits_are_masked_on_add() {
        let mut t = RouteTable::new(4);
        t.add(route("2001:db8:1:2:3:4:5:6", 48, 1, None, 0))
            .unwrap();
        let r = t.iter().next().unwrap();
        assert_eq!(r.prefix, a("2001:db8:1::"));
        // The same route given with other host bits replaces, not duplicates.
        t.add(route("2001:db8:1:ffff::", 48, 1, None, 7)).unwrap();
        assert_eq!(t.len(), 1);
        assert_eq!(t.iter().next().unwrap().metric, 7);
        // Odd lengths and the edges.
        t.add(route("ffff:ffff::", 17, 1, None, 0)).unwrap();
        t.add(route("2001:db8::1", 128, 1, None, 0)).unwrap();
        t.add(route("ffff::", 0, 1, None, 0)).unwrap();
        let prefixes: Vec<_> = t.iter().map(|r| (r.prefix, r.prefix_len)).collect();
        assert_eq!(
            prefixes,
            [
                (a("2001:db8::1"), 128),
                (a("2001:db8:1::"), 48),
                (a("ffff:8000::"), 17),
                (a("::"), 0),
            ]
        );
        assert_eq!(
            t.add(route("::", 129, 1, None, 0)),
            Err("prefix length over 128")
        );
        assert!(t.add(route("::", 64, 1, Some("ff02::1"), 0)).is_err());
        assert!(t.add(route("::", 64, 1, Some("::"), 0)).is_err());
        assert_eq!(t.len(), 4);
    }

    #[test]
    fn replace_keeps_insertion_place_and_identity_includes_origin() {
        let mut t = RouteTable::new(8);
        t.add(route("2001:db8::", 32, 1, None, 1)).unwrap();
        t.add(route("2001:db8::", 32, 2, None, 1)).unwrap();
        // Refreshing the first keeps it ahead of the second on a metric tie.
        t.add(route("2001:db8::", 32, 1, None, 1)).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t.lookup(&a("2001:db8::1"), None).unwrap().iface, IfaceId(1));
        // A different origin or next hop is a different route.
        t.add(with(
            route("2001:db8::", 32, 1, None, 1),
            RouteOrigin::RouterAdvert,
        ))
        .unwrap();
        t.add(route("2001:db8::", 32, 1, Some("fe80::1"), 1))
            .unwrap();
        assert_eq!(t.len(), 4);
    }

    #[test]
    fn remove_and_remove_iface() {
        let mut t = RouteTable::new(16);
        t.add(route("2001:db8::", 32, 1, Some("fe80::1"), 0))
            .unwrap();
        t.add(route("2001:db8::", 32, 1, Some("fe80::2"), 0))
            .unwrap();
        t.add(route("2001:db8::", 32, 2, Some("fe80::1"), 0))
            .unwrap();
        t.add(route("::", 0, 2, Some("fe80::9"), 0)).unwrap();
        assert_eq!(t.remove(a("2001:db8::"), 64, None, None), 0);
        assert_eq!(
            t.remove(
                a("2001:db8:ffff::"),
                32,
                Some(IfaceId(1)),
                Some(a("fe80::2"))
            ),
            1
        );
        assert_eq!(t.remove(a("2001:db8::"), 32, None, Some(a("fe80::1"))), 2);
        assert_eq!(t.len(), 1);
        assert_eq!(t.lookup(&a("2001:db8::1"), None).unwrap().prefix_len, 0);
        t.add(route("2001:db8::", 32, 1, None, 0)).unwrap();
        assert_eq!(t.remove_iface(IfaceId(2)), 1);
        assert_eq!(t.remove_iface(IfaceId(2)), 0);
        assert_eq!(t.len(), 1);
        assert_eq!(t.remove(a("::"), 200, None, None), 0);
    }

    #[test]
    fn expire_and_poll_at() {
        let t0 = Instant::from_secs(100);
        let mut t = RouteTable::new(8);
        let ra = |p: &str, secs: u64| Route {
            expires: Some(t0 + Duration::from_secs(secs)),
            ..with(
                route(p, 64, 1, Some("fe80::1"), 0),
                RouteOrigin::RouterAdvert,
            )
        };
        t.add(ra("2001:db8:1::", 30)).unwrap();
        t.add(ra("2001:db8:2::", 10)).unwrap();
        t.add(route("2001:db8:3::", 64, 1, None, 0)).unwrap();
        assert_eq!(t.poll_at(), Some(t0 + Duration::from_secs(10)));
        assert!(t.expire(t0 + Duration::from_secs(9)).is_empty());
        let gone = t.expire(t0 + Duration::from_secs(10));
        assert_eq!(gone.len(), 1);
        assert_eq!(gone[0].prefix, a("2001:db8:2::"));
        assert_eq!(t.poll_at(), Some(t0 + Duration::from_secs(30)));
        // A refreshed lifetime moves the deadline (RFC 4861 §6.3.4 resets it on each RA).
        t.add(ra("2001:db8:1::", 60)).unwrap();
        assert_eq!(t.poll_at(), Some(t0 + Duration::from_secs(60)));
        // Made permanent: no deadline at all.
        t.add(Route {
            expires: None,
            ..ra("2001:db8:1::", 0)
        })
        .unwrap();
        assert_eq!(t.poll_at(), None);
        assert!(t.expire(Instant::FAR_FUTURE).is_empty());
        assert_eq!(t.len(), 2);
        // Removing a route removes its deadline too.
        t.add(ra("2001:db8:4::", 5)).unwrap();
        assert_eq!(t.remove_iface(IfaceId(1)), 3);
        assert_eq!(t.poll_at(), None);
    }

    #[test]
    fn full_table_evicts_softest_oldest_never_configured() {
        let mut t = RouteTable::new(3);
        let redirect = |p: &str| with(route(p, 128, 1, Some("fe80::1"), 0), RouteOrigin::Redirect);
        let ra = |p: &str| {
            with(
                route(p, 64, 1, Some("fe80::1"), 0),
                RouteOrigin::RouterAdvert,
            )
        };
        t.add(route("2001:db8::", 32, 1, None, 0)).unwrap();
        t.add(ra("2001:db8:1::")).unwrap();
        t.add(redirect("2001:db8:9::1")).unwrap();
        // A redirect only pushes out an older redirect.
        t.add(redirect("2001:db8:9::2")).unwrap();
        assert_eq!(t.len(), 3);
        assert!(t.iter().all(|r| r.prefix != a("2001:db8:9::1")));
        // An RA route pushes out the redirect before an older RA route.
        t.add(ra("2001:db8:2::")).unwrap();
        assert!(t.iter().all(|r| r.origin != RouteOrigin::Redirect));
        // Now only RA routes are evictable: a redirect is refused.
        assert_eq!(t.add(redirect("2001:db8:9::3")), Err("route table full"));
        // A static route pushes out the oldest RA route.
        t.add(route("2001:db8:5::", 64, 2, None, 0)).unwrap();
        assert!(t.iter().all(|r| r.prefix != a("2001:db8:1::")));
        t.add(route("2001:db8:6::", 64, 2, None, 0)).unwrap();
        // All configured: nothing can go.
        assert_eq!(
            t.add(route("2001:db8:7::", 64, 2, None, 0)),
            Err("route table full")
        );
        assert_eq!(t.add(ra("2001:db8:8::")), Err("route table full"));
        assert_eq!(t.len(), 3);
        assert_eq!(t.evicted_count(), 4);
        // Replacing an existing route needs no room.
        t.add(route("2001:db8:6::", 64, 2, None, 9)).unwrap();
        // A table of size 0 takes nothing.
        assert!(RouteTable::new(0).add(route("::", 0, 1, None, 0)).is_err());
    }

    /// The model: routes in insertion order, replaced in place, evicted by the same rule,
    /// looked up by a linear scan.
    #[derive(Default)]
    struct Naive {
        routes: Vec<Route>,
    }

    impl Naive {
        fn add(&mut self, max: usize, mut r: Route) -> bool {
            r.prefix = Ipv6Addr::from(mask(u128::from(r.prefix), r.prefix_len));
            let same = |x: &Route| {
                x.prefix == r.prefix
                    && x.prefix_len == r.prefix_len
                    && x.iface == r.iface
                    && x.next_hop == r.next_hop
                    && x.origin == r.origin
            };
            if let Some(x) = self.routes.iter_mut().find(|x| same(x)) {
                *x = r;
                return true;
            }
            if self.routes.len() >= max {
                let rank = r.origin.eviction_rank();
                let victim = self
                    .routes
                    .iter()
                    .enumerate()
                    .filter(|(_, x)| x.origin.eviction_rank() < 2)
                    .min_by_key(|(i, x)| (x.origin.eviction_rank(), *i));
                match victim {
                    Some((i, x)) if x.origin.eviction_rank() <= rank => {
                        self.routes.remove(i);
                    }
                    _ => return false,
                }
            }
            self.routes.push(r);
            true
        }

        fn lookup(&self, dst: &Ipv6Addr, zone: Option<IfaceId>) -> Option<Route> {
            let d = u128::from(*dst);
            self.routes
                .iter()
                .enumerate()
                .filter(|(_, r)| mask(d, r.prefix_len) == u128::from(r.prefix))
                .filter(|(_, r)| zone.is_none_or(|z| r.iface == z))
                .min_by_key(|(i, r)| (std::cmp::Reverse(r.prefix_len), r.metric, *i))
                .map(|(_, r)| *r)
        }
    }

    fn arb_addr() -> impl Strategy<Value = Ipv6Addr> {
        let bases = prop::sample::select(vec![
            0u128,
            u128::MAX,
            u128::from(a("2001:db8::")),
            u128::from(a("2001:db8:1::")),
            u128::from(a("fe80::")),
        ]);
        (bases, any::<u128>(), 0u32..=128)
            .prop_map(|(b, r, shift)| Ipv6Addr::from(b ^ r.checked_shr(shift).unwrap_or(0)))
    }

    fn arb_route() -> impl Strategy<Value = Route> {
        let lens = prop_oneof![
            0u8..=128,
            prop::sample::select(vec![0u8, 16, 32, 48, 64, 128])
        ];
        let origins = prop::sample::select(vec![
            RouteOrigin::Connected,
            RouteOrigin::Static,
            RouteOrigin::RouterAdvert,
            RouteOrigin::Redirect,
        ]);
        let hops = prop::sample::select(vec![None, Some(a("fe80::1")), Some(a("fe80::2"))]);
        (arb_addr(), lens, 0u32..3, hops, 0u32..3, origins).prop_map(
            |(prefix, prefix_len, i, next_hop, metric, origin)| Route {
                prefix,
                prefix_len,
                iface: IfaceId(i),
                next_hop,
                metric,
                origin,
                expires: None,
            },
        )
    }

    #[derive(Debug, Clone)]
    enum Op {
        Add(Route),
        Remove(Ipv6Addr, u8, Option<u32>),
        RemoveIface(u32),
    }

    fn arb_op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => arb_route().prop_map(Op::Add),
            1 => (arb_addr(), 0u8..=128, prop::option::of(0u32..3))
                .prop_map(|(p, l, i)| Op::Remove(p, l, i)),
            1 => (0u32..3).prop_map(Op::RemoveIface),
        ]
    }

    proptest! {
        #[test]
        fn lookup_matches_a_linear_longest_prefix_match(
            max in 1usize..24,
            ops in prop::collection::vec(arb_op(), 0..64),
            probes in prop::collection::vec((arb_addr(), prop::option::of(0u32..4)), 1..32),
        ) {
            let mut t = RouteTable::new(max);
            let mut m = Naive::default();
            for op in ops {
                match op {
                    Op::Add(r) => prop_assert_eq!(t.add(r).is_ok(), m.add(max, r)),
                    Op::Remove(p, l, i) => {
                        let key = mask(u128::from(p), l);
                        let before = m.routes.len();
                        m.routes.retain(|r| {
                            !(u128::from(r.prefix) == key
                                && r.prefix_len == l
                                && i.is_none_or(|i| r.iface == IfaceId(i)))
                        });
                        prop_assert_eq!(
                            t.remove(p, l, i.map(IfaceId), None),
                            before - m.routes.len()
                        );
                    }
                    Op::RemoveIface(i) => {
                        let before = m.routes.len();
                        m.routes.retain(|r| r.iface != IfaceId(i));
                        prop_assert_eq!(t.remove_iface(IfaceId(i)), before - m.routes.len());
                    }
                }
                prop_assert_eq!(t.len(), m.routes.len());
                prop_assert!(t.len() <= max);
            }
            for (d, z) in probes {
                let z = z.map(IfaceId);
                prop_assert_eq!(t.lookup(&d, z).copied(), m.lookup(&d, z));
                // Every route's own prefix finds a route at least that long.
                for r in &m.routes {
                    let got = t.lookup(&r.prefix, None);
                    prop_assert!(got.is_some_and(|g| g.prefix_len >= r.prefix_len));
                }
            }
            let mut want = m.routes.clone();
            // Stable: insertion order among equal prefixes survives.
            want.sort_by(|x, y| {
                y.prefix_len.cmp(&x.prefix_len).then_with(|| x.prefix.cmp(&y.prefix))
            });
            let got: Vec<Route> = t.iter().copied().collect();
            prop_assert_eq!(got, want);
        }
    }
}
