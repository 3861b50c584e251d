//! The route table: which interface and next hop reach a destination (the prefix list and
//! default router choice of RFC 4861 §5.2 feed it, as do static routes, RFC 4191 route
//! information and redirects). It owns the routes and their lifetimes; who installs them
//! and why stays with their owners (ND, SLAAC, configuration).
//!
//! Built to hold a full routing table (a million prefixes and more) small and fast:
//!
//! - The prefixes are the keys of a `prefix_trie::PrefixMap`, a tree-bitmap trie of 5-bit
//!   strides: the longest-prefix-match index (DEPENDENCIES.md: it beat our own binary trie
//!   in the same benchmark). Each prefix maps to a `u32`, its first route. A lookup is one
//!   walk down it (`get_lpm`); one restricted to a zone walks again, from the next shorter
//!   length, only while the prefix found has no route on that zone. Neither allocates.
//! - The routes of one prefix are a list of 16-byte slots in a `Vec`, in insertion order.
//!   A slot names its (interface, next hop) pair by index into a table of the pairs in
//!   use, so a million routes through a handful of next hops store each hop once.
//! - Insertion order (for eviction) and lifetimes live in side tables holding only the
//!   routes that can be evicted or expire: operator routes pay nothing for them.
//!
//! Freed slots are reused; their vector never shrinks below the table's peak. The index
//! frees its own nodes when prefixes go.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv6Addr;

use prefix_trie::PrefixMap;

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

/// What a route does with what it matches; Linux's route types of the same names. The
/// three that refuse still take part in longest prefix match like any route, so a
/// refusing /32 shadows a shorter unicast route and is shadowed by a longer one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RouteKind {
    /// Forward by `iface` to `next_hop`.
    #[default]
    Unicast,
    /// Drop without a word.
    Blackhole,
    /// Drop and answer ICMPv6 Destination Unreachable code 0, no route to destination
    /// (RFC 4443 §3.1).
    Unreachable,
    /// Drop and answer Destination Unreachable code 1, communication with destination
    /// administratively prohibited (RFC 4443 §3.1).
    Prohibit,
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
    pub kind: RouteKind,
}

/// No slot or hop: the end of a list.
const NIL: u32 = u32::MAX;
/// Slot indices are `u32`, and so are the cell indices of the index's own allocator.
const MAX_ROUTES_LIMIT: usize = (u32::MAX / 2 - 2) as usize;

/// A prefix as the index keys it: the bits with host bits clear, and the length.
type Prefix = (u128, u8);

/// One route, without its prefix (its index key's) or next hop (interned in `hops`). A
/// free slot links the free list through `next`.
#[derive(Debug, Clone)]
struct Slot {
    /// The next route of the same prefix, in insertion order.
    next: u32,
    hop: u32,
    metric: u32,
    origin: RouteOrigin,
    kind: RouteKind,
    /// Whether `extra` holds this route's prefix, sequence number and lifetime: routes
    /// that can be evicted or expire.
    extra: bool,
}

/// An (interface, next hop) pair in use by `refs` routes; free at 0.
#[derive(Debug, Clone)]
struct Hop {
    iface: IfaceId,
    next_hop: Option<Ipv6Addr>,
    refs: u32,
}

#[derive(Debug, Clone, Copy)]
struct Extra {
    prefix: Prefix,
    /// When the route was added (for an evictable route) or its lifetime first set (for a
    /// configured one): the eviction order, and the order of equal deadlines.
    seq: u64,
    expires: Option<Instant>,
}

/// A lookup remembered: destination, zone, answer.
type Memo = (Ipv6Addr, Option<IfaceId>, Option<Route>);

/// The route table.
///
/// Limit: `max_routes` (at most about two billion: indices are 32-bit). When it is full,
/// a new route evicts the oldest route of the lowest eviction rank present (redirects,
/// then router-advertisement routes), provided that rank is not above the new route's
/// own: a redirect can only push out a redirect, an RA route a redirect or an RA route, a
/// static or connected route either. Static and connected routes are never evicted; when
/// nothing can go, `add` fails.
#[derive(Debug, Clone)]
pub struct RouteTable {
    max_routes: usize,
    /// Every prefix that has routes, to the first (oldest) of them. Invariant: no prefix
    /// without routes is in it, and keys have their host bits clear.
    index: PrefixMap<Prefix, u32>,
    slots: Vec<Slot>,
    hops: Vec<Hop>,
    hop_ids: BTreeMap<(IfaceId, Option<Ipv6Addr>), u32>,
    /// Keyed by slot.
    extra: BTreeMap<u32, Extra>,
    // (expiry, seq, slot) of every route that expires: poll_at is the first.
    expiries: BTreeSet<(Instant, u64, u32)>,
    // (rank, seq, slot) of every evictable route: the first is the next victim.
    evictable: BTreeSet<(u8, u64, u32)>,
    free_slots: u32,
    free_hops: Vec<u32>,
    len: usize,
    next_seq: u64,
    evicted: u64,
    /// The last lookup and its answer (destination, zone, route): a connection's packets
    /// ask for the same destination over and over. Forgotten by every change (`add`,
    /// and `take` and `unlink`, through which every removal goes).
    memo: Cell<Option<Memo>>,
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
            max_routes: max_routes.min(MAX_ROUTES_LIMIT),
            index: PrefixMap::new(),
            slots: Vec::new(),
            hops: Vec::new(),
            hop_ids: BTreeMap::new(),
            extra: BTreeMap::new(),
            expiries: BTreeSet::new(),
            evictable: BTreeSet::new(),
            free_slots: NIL,
            free_hops: Vec::new(),
            len: 0,
            next_seq: 0,
            evicted: 0,
            memo: Cell::new(None),
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

    /// Heap bytes the table holds, by its own count (vector capacities, the index's own
    /// count of its nodes and values, and an estimate for the ordered side tables).
    pub fn approx_memory_bytes(&self) -> usize {
        // A B-tree entry costs about its size plus a third for node slack and edges.
        let btree = |n: usize, entry: usize| n * entry * 4 / 3;
        // mem_size counts the map itself, which size_of::<Self>() holds already.
        size_of::<Self>() + self.index.mem_size() - size_of::<PrefixMap<Prefix, u32>>()
            + self.slots.capacity() * size_of::<Slot>()
            + self.hops.capacity() * size_of::<Hop>()
            + self.free_hops.capacity() * size_of::<u32>()
            + btree(self.hop_ids.len(), 40)
            + btree(self.extra.len(), size_of::<(u32, Extra)>())
            + btree(self.expiries.len(), size_of::<(Instant, u64, u32)>())
            + btree(self.evictable.len(), size_of::<(u8, u64, u32)>())
    }

    /// Adds a route, or replaces the one with the same prefix, interface, next hop and
    /// origin (which keeps its place in insertion order). Host bits of the prefix are
    /// cleared. When the table is full, evicts as the type's documentation says.
    pub fn add(&mut self, route: Route) -> Result<(), &'static str> {
        self.memo.set(None);
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
        let prefix = (mask(u128::from(route.prefix), len), len);

        // One walk of the index serves both the search for the same route and the append,
        // unless an eviction below changes the lists.
        let mut head = self.head(&prefix);
        if let Some(&hop) = self.hop_ids.get(&(route.iface, route.next_hop)) {
            let mut s = head;
            while let Some(slot) = self.slots.get(s as usize) {
                if slot.hop == hop && slot.origin == route.origin {
                    self.replace(prefix, s, &route);
                    return Ok(());
                }
                s = slot.next;
            }
        }

        if self.len >= self.max_routes {
            let rank = route.origin.eviction_rank();
            match self.evictable.first().copied() {
                Some((victim_rank, _, slot)) if victim_rank <= rank => {
                    if self.take(slot).is_some() {
                        self.evicted += 1;
                        head = self.head(&prefix);
                    }
                }
                _ => return Err("route table full"),
            }
            // The eviction above freed a place; a table of size 0 has nothing to evict.
            if self.len >= self.max_routes {
                return Err("route table full");
            }
        }

        let hop = self.intern(route.iface, route.next_hop);
        let rank = route.origin.eviction_rank();
        let evictable = rank < RouteOrigin::Static.eviction_rank();
        let needs_extra = evictable || route.expires.is_some();
        let s = self.alloc_slot(Slot {
            next: NIL,
            hop,
            metric: route.metric,
            origin: route.origin,
            kind: route.kind,
            extra: needs_extra,
        });
        self.append(prefix, head, s);
        let seq = self.next_seq;
        self.next_seq += 1;
        if needs_extra {
            self.extra.insert(
                s,
                Extra {
                    prefix,
                    seq,
                    expires: route.expires,
                },
            );
            if let Some(t) = route.expires {
                self.expiries.insert((t, seq, s));
            }
            if evictable {
                self.evictable.insert((rank, seq, s));
            }
        }
        self.len += 1;
        Ok(())
    }

    /// A new metric, kind and lifetime for a route already here.
    fn replace(&mut self, prefix: Prefix, s: u32, route: &Route) {
        let Some(slot) = self.slots.get_mut(s as usize) else {
            return;
        };
        slot.metric = route.metric;
        slot.kind = route.kind;
        let evictable = route.origin.eviction_rank() < RouteOrigin::Static.eviction_rank();
        let old = if slot.extra {
            self.extra.get(&s).copied()
        } else {
            None
        };
        if let Some(e) = old
            && let Some(t) = e.expires
        {
            self.expiries.remove(&(t, e.seq, s));
        }
        if !evictable && route.expires.is_none() {
            slot.extra = false;
            self.extra.remove(&s);
            return;
        }
        slot.extra = true;
        let seq = old.map_or_else(
            || {
                self.next_seq += 1;
                self.next_seq - 1
            },
            |e| e.seq,
        );
        self.extra.insert(
            s,
            Extra {
                prefix,
                seq,
                expires: route.expires,
            },
        );
        if let Some(t) = route.expires {
            self.expiries.insert((t, seq, s));
        }
    }

    /// The first route of exactly this prefix (host bits clear), or `NIL`.
    fn head(&self, prefix: &Prefix) -> u32 {
        self.index.get(prefix).copied().unwrap_or(NIL)
    }

    fn alloc_slot(&mut self, s: Slot) -> u32 {
        if let Some(free) = self.slots.get_mut(self.free_slots as usize) {
            let at = self.free_slots;
            self.free_slots = free.next;
            *free = s;
            return at;
        }
        // Below NIL: max_routes is capped well under u32::MAX.
        self.slots.push(s);
        (self.slots.len() - 1) as u32
    }

    /// Puts slot `s` last in the list of `prefix` (which starts at `head`), or makes it
    /// the first of a new prefix in the index.
    fn append(&mut self, prefix: Prefix, head: u32, s: u32) {
        let mut at = head;
        if at == NIL {
            self.index.insert(prefix, s);
            return;
        }
        while let Some(next) = self.slots.get(at as usize).map(|x| x.next)
            && next != NIL
        {
            at = next;
        }
        self.slots[at as usize].next = s;
    }

    fn intern(&mut self, iface: IfaceId, next_hop: Option<Ipv6Addr>) -> u32 {
        if let Some(&h) = self.hop_ids.get(&(iface, next_hop)) {
            self.hops[h as usize].refs += 1;
            return h;
        }
        let hop = Hop {
            iface,
            next_hop,
            refs: 1,
        };
        let h = match self.free_hops.pop() {
            Some(h) => {
                self.hops[h as usize] = hop;
                h
            }
            None => {
                self.hops.push(hop);
                (self.hops.len() - 1) as u32
            }
        };
        self.hop_ids.insert((iface, next_hop), h);
        h
    }

    fn release_hop(&mut self, h: u32) {
        let Some(hop) = self.hops.get_mut(h as usize) else {
            return;
        };
        hop.refs -= 1;
        if hop.refs == 0 {
            self.hop_ids.remove(&(hop.iface, hop.next_hop));
            self.free_hops.push(h);
        }
    }

    /// Removes an evictable or expiring route, which knows its prefix.
    fn take(&mut self, s: u32) -> Option<Route> {
        self.memo.set(None);
        let prefix = self.extra.get(&s)?.prefix;
        self.unlink(prefix, s)
    }

    /// Removes route `s` of `prefix`, keeping the side tables tidy, and the prefix off the
    /// index when it was its last route.
    fn unlink(&mut self, prefix: Prefix, s: u32) -> Option<Route> {
        self.memo.set(None);
        let mut prev = NIL;
        let mut at = self.head(&prefix);
        while at != s {
            prev = at;
            at = self.slots.get(at as usize)?.next;
        }
        let route = self.route_at(prefix, s)?;
        let slot = self.slots.get_mut(s as usize)?;
        let next = slot.next;
        let hop = slot.hop;
        let had_extra = slot.extra;
        slot.next = self.free_slots;
        slot.extra = false;
        self.free_slots = s;
        match self.slots.get_mut(prev as usize) {
            Some(p) => p.next = next,
            None if next == NIL => {
                self.index.remove(&prefix);
            }
            None => {
                if let Some(head) = self.index.get_mut(&prefix) {
                    *head = next;
                }
            }
        }
        if had_extra && let Some(e) = self.extra.remove(&s) {
            if let Some(t) = e.expires {
                self.expiries.remove(&(t, e.seq, s));
            }
            self.evictable
                .remove(&(route.origin.eviction_rank(), e.seq, s));
        }
        self.release_hop(hop);
        self.len -= 1;
        Some(route)
    }

    fn route_at(&self, (key, len): Prefix, s: u32) -> Option<Route> {
        let slot = self.slots.get(s as usize)?;
        let hop = self.hops.get(slot.hop as usize)?;
        let expires = if slot.extra {
            self.extra.get(&s).and_then(|e| e.expires)
        } else {
            None
        };
        Some(Route {
            prefix: Ipv6Addr::from(key),
            prefix_len: len,
            iface: hop.iface,
            next_hop: hop.next_hop,
            metric: slot.metric,
            origin: slot.origin,
            expires,
            kind: slot.kind,
        })
    }

    /// The routes of a list, oldest first.
    fn list(&self, head: u32) -> impl Iterator<Item = (u32, &Slot)> + '_ {
        let mut s = head;
        std::iter::from_fn(move || {
            let slot = self.slots.get(s as usize)?;
            let at = s;
            s = slot.next;
            Some((at, slot))
        })
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
        if prefix_len > 128 {
            return 0;
        }
        let prefix = (mask(u128::from(prefix), prefix_len), prefix_len);
        let gone: Vec<u32> = self
            .list(self.head(&prefix))
            .filter(|(_, slot)| {
                self.hops.get(slot.hop as usize).is_some_and(|hop| {
                    iface.is_none_or(|i| hop.iface == i)
                        && next_hop.is_none_or(|h| hop.next_hop == Some(h))
                })
            })
            .map(|(s, _)| s)
            .collect();
        gone.iter()
            .filter(|&&s| self.unlink(prefix, s).is_some())
            .count()
    }

    /// Removes every route on `iface` (it went away or down). Returns how many went.
    pub fn remove_iface(&mut self, iface: IfaceId) -> usize {
        if !self.hops.iter().any(|h| h.refs > 0 && h.iface == iface) {
            return 0;
        }
        let mut gone = Vec::new();
        for (prefix, &head) in &self.index {
            for (s, slot) in self.list(head) {
                if self.hops.get(slot.hop as usize).map(|h| h.iface) == Some(iface) {
                    gone.push((prefix, s));
                }
            }
        }
        gone.iter()
            .filter(|&&(prefix, s)| self.unlink(prefix, s).is_some())
            .count()
    }

    /// Longest prefix match; among routes of that prefix, the lowest metric, then the
    /// earliest added. With `zone`, only routes on that interface count (a scoped
    /// destination such as `fe80::1%3`, RFC 4007 §9), and a prefix none of whose routes
    /// is on it does not match. Expiry is not checked here: call
    /// [`expire`](Self::expire) when [`poll_at`](Self::poll_at) comes.
    pub fn lookup(&self, dst: &Ipv6Addr, zone: Option<IfaceId>) -> Option<Route> {
        if let Some((d, z, r)) = self.memo.get()
            && d == *dst
            && z == zone
        {
            return r;
        }
        let r = self.lookup_index(dst, zone);
        self.memo.set(Some((*dst, zone, r)));
        r
    }

    fn lookup_index(&self, dst: &Ipv6Addr, zone: Option<IfaceId>) -> Option<Route> {
        let bits = u128::from(*dst);
        let mut within = 128;
        loop {
            // The longest prefix of the destination no longer than `within`.
            let (prefix, &head) = self.index.get_lpm(&(mask(bits, within), within))?;
            if let Some(s) = self.best_slot(head, zone) {
                return self.route_at(prefix, s);
            }
            // Only a zone can leave a prefix without a winner (the index holds no empty
            // list); the next shorter prefixes may have a route on it.
            within = prefix.1.checked_sub(1)?;
        }
    }

    /// The route of a list that wins: on `zone` if given, lowest metric, oldest.
    fn best_slot(&self, head: u32, zone: Option<IfaceId>) -> Option<u32> {
        let mut best: Option<(u32, u32)> = None;
        for (s, slot) in self.list(head) {
            let on_zone = zone.is_none_or(|z| {
                self.hops
                    .get(slot.hop as usize)
                    .is_some_and(|h| h.iface == z)
            });
            if on_zone && best.is_none_or(|(m, _)| slot.metric < m) {
                best = Some((slot.metric, s));
            }
        }
        best.map(|b| b.1)
    }

    /// Removes the routes whose lifetime ended at or before `now`, and returns them in
    /// the order they expired.
    pub fn expire(&mut self, now: Instant) -> Vec<Route> {
        let mut out = Vec::new();
        while let Some(&(t, seq, s)) = self.expiries.first() {
            if t > now {
                break;
            }
            match self.take(s) {
                Some(r) => out.push(r),
                // An index entry with no route would loop forever; drop it.
                None => {
                    self.expiries.remove(&(t, seq, s));
                }
            }
        }
        out
    }

    /// When the next route expires.
    pub fn poll_at(&self) -> Option<Instant> {
        self.expiries.first().map(|e| e.0)
    }

    /// Every route: longest prefix first, then by prefix, then in insertion order. It
    /// sorts the prefixes first: a full walk, not for the forwarding path.
    pub fn iter(&self) -> impl Iterator<Item = Route> + '_ {
        let mut prefixes: Vec<(Prefix, u32)> =
            self.index.iter().map(|(p, &head)| (p, head)).collect();
        prefixes.sort_unstable_by_key(|&((key, len), _)| (std::cmp::Reverse(len), key));
        prefixes.into_iter().flat_map(move |(prefix, head)| {
            self.list(head)
                .filter_map(move |(s, _)| self.route_at(prefix, s))
        })
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
            kind: RouteKind::Unicast,
        }
    }

    fn with(r: Route, origin: RouteOrigin) -> Route {
        Route { origin, ..r }
    }

    /// The index's and the lists' invariants: every prefix of the index is masked, has
    /// routes and is found again (exactly, and as its own longest match); every slot is on
    /// one list or on the free list, never both or twice; the side tables hold exactly the
    /// routes that need them, under their own prefix; every hop in use is counted.
    fn check_index(t: &RouteTable) {
        let mut seen = vec![false; t.slots.len()];
        let mut routes = 0;
        let mut with_extra = 0;
        let mut refs = vec![0u32; t.hops.len()];
        let mut prefixes = 0;
        for ((key, len), &head) in &t.index {
            prefixes += 1;
            assert!(len <= 128);
            assert_eq!(mask(key, len), key);
            assert_ne!(head, NIL, "prefix without routes");
            assert_eq!(t.index.get(&(key, len)), Some(&head));
            assert_eq!(
                t.index.get_lpm(&(key, len)).map(|(p, _)| p),
                Some((key, len))
            );
            let mut s = head;
            while s != NIL {
                assert!(
                    !std::mem::replace(&mut seen[s as usize], true),
                    "slot twice"
                );
                let slot = &t.slots[s as usize];
                refs[slot.hop as usize] += 1;
                assert_eq!(slot.extra, t.extra.contains_key(&s));
                if slot.extra {
                    assert_eq!(t.extra[&s].prefix, (key, len));
                    with_extra += 1;
                }
                routes += 1;
                s = slot.next;
            }
        }
        assert_eq!(prefixes, t.index.len());
        assert_eq!(routes, t.len());
        assert_eq!(with_extra, t.extra.len());
        for &(when, seq, s) in &t.expiries {
            assert_eq!((t.extra[&s].expires, t.extra[&s].seq), (Some(when), seq));
        }
        for &(rank, seq, s) in &t.evictable {
            assert_eq!(t.extra[&s].seq, seq);
            assert_eq!(t.slots[s as usize].origin.eviction_rank(), rank);
        }
        let expiring = t.extra.values().filter(|e| e.expires.is_some()).count();
        assert_eq!(expiring, t.expiries.len());
        for (h, hop) in t.hops.iter().enumerate() {
            assert_eq!(hop.refs, refs[h]);
            assert_eq!(
                hop.refs > 0,
                t.hop_ids.get(&(hop.iface, hop.next_hop)) == Some(&(h as u32))
            );
        }
        let mut free = 0;
        let mut f = t.free_slots;
        while f != NIL {
            assert!(
                !std::mem::replace(&mut seen[f as usize], true),
                "free slot on a list"
            );
            free += 1;
            f = t.slots[f as usize].next;
        }
        assert_eq!(free + routes, t.slots.len());
    }

    #[test]
    fn kinds_are_kept_and_match_by_longest_prefix() {
        let mut t = RouteTable::new(16);
        let kind = |r: Route, kind| Route { kind, ..r };
        t.add(route("2001:db8::", 16, 1, Some("fe80::1"), 0))
            .unwrap();
        t.add(kind(
            route("2001:db8::", 32, 1, None, 0),
            RouteKind::Blackhole,
        ))
        .unwrap();
        t.add(kind(
            route("2001:db8:1::", 48, 1, None, 0),
            RouteKind::Unreachable,
        ))
        .unwrap();
        t.add(kind(
            route("2001:db8:1:2::", 64, 1, None, 0),
            RouteKind::Prohibit,
        ))
        .unwrap();
        t.add(route("2001:db8:1:2::", 80, 2, Some("fe80::2"), 0))
            .unwrap();
        let k = |d: &str| t.lookup(&a(d), None).map(|r| r.kind);
        assert_eq!(k("2001:dbff::1"), Some(RouteKind::Unicast));
        assert_eq!(k("2001:db8:2::1"), Some(RouteKind::Blackhole));
        assert_eq!(k("2001:db8:1:3::1"), Some(RouteKind::Unreachable));
        assert_eq!(k("2001:db8:1:2:1::1"), Some(RouteKind::Prohibit));
        // A longer unicast route inside a refusing one still forwards.
        assert_eq!(k("2001:db8:1:2::1"), Some(RouteKind::Unicast));
        assert_eq!(RouteKind::default(), RouteKind::Unicast);
        // Replacing changes the kind in place.
        t.add(route("2001:db8::", 32, 1, None, 0)).unwrap();
        assert_eq!(t.len(), 5);
        let r = t.lookup(&a("2001:db8:2::1"), None).unwrap();
        assert_eq!((r.kind, r.prefix_len), (RouteKind::Unicast, 32));
        assert!(t.iter().any(|r| r.kind == RouteKind::Prohibit));
    }

    #[test]
    fn edges_of_the_trie_prefix_lengths_0_and_128() {
        let mut t = RouteTable::new(16);
        t.add(route("2001:db8::1", 128, 1, None, 0)).unwrap();
        t.add(route("2001:db8::", 127, 2, None, 0)).unwrap();
        t.add(route("::", 0, 3, Some("fe80::1"), 0)).unwrap();
        t.add(route("8000::", 1, 4, Some("fe80::1"), 0)).unwrap();
        let hit = |t: &RouteTable, d: &str| t.lookup(&a(d), None).map(|r| r.iface.0);
        assert_eq!(hit(&t, "2001:db8::1"), Some(1));
        assert_eq!(hit(&t, "2001:db8::"), Some(2));
        assert_eq!(hit(&t, "2001:db8::2"), Some(3));
        assert_eq!(hit(&t, "ffff::"), Some(4));
        check_index(&t);
        assert_eq!(t.remove(a("::"), 0, None, None), 1);
        assert_eq!(hit(&t, "2001:db8::2"), None);
        assert_eq!(t.remove(a("2001:db8::1"), 128, None, None), 1);
        assert_eq!(hit(&t, "2001:db8::1"), Some(2));
        check_index(&t);
        assert_eq!(t.remove_iface(IfaceId(2)) + t.remove_iface(IfaceId(4)), 2);
        assert!(t.is_empty());
        check_index(&t);
        // Everything went: no prefix is left in the index, and the slots are free to reuse.
        assert!(t.index.is_empty());
    }

    #[test]
    fn many_routes_share_their_next_hops_and_match_a_linear_scan() {
        let mut rng = crate::rng::Rng::new(7);
        let mut t = RouteTable::new(10_000);
        let mut m = Naive::default();
        for i in 0..3000u32 {
            let len = [16u8, 29, 32, 40, 44, 48, 48, 48, 56, 64, 128][rng.below(11) as usize];
            let hi = (u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64());
            let prefix = Ipv6Addr::from((hi >> 3) | (1u128 << 125));
            let r = Route {
                metric: i % 3,
                ..route("::", len, rng.below(3) as u32, Some("fe80::1"), 0)
            };
            let r = Route { prefix, ..r };
            assert_eq!(t.add(r).is_ok(), m.add(10_000, r));
        }
        assert_eq!(t.len(), m.routes.len());
        assert!(t.hops.len() <= 3);
        check_index(&t);
        for _ in 0..500 {
            let r = m.routes[rng.below(m.routes.len() as u64) as usize];
            let d = Ipv6Addr::from(u128::from(r.prefix) | u128::from(rng.next_u32()));
            let z = [None, Some(IfaceId(1))][rng.below(2) as usize];
            assert_eq!(t.lookup(&d, z), m.lookup(&d, z));
        }
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
        let kinds = prop::sample::select(vec![
            RouteKind::Unicast,
            RouteKind::Blackhole,
            RouteKind::Unreachable,
            RouteKind::Prohibit,
        ]);
        let expires = prop::option::of((1u64..20).prop_map(Instant::from_secs));
        (
            (arb_addr(), lens, 0u32..3, hops),
            (0u32..3, origins, expires, kinds),
        )
            .prop_map(
                |((prefix, prefix_len, i, next_hop), (metric, origin, expires, kind))| Route {
                    prefix,
                    prefix_len,
                    iface: IfaceId(i),
                    next_hop,
                    metric,
                    origin,
                    expires,
                    kind,
                },
            )
    }

    #[derive(Debug, Clone)]
    enum Op {
        Add(Route),
        Remove(Ipv6Addr, u8, Option<u32>),
        RemoveIface(u32),
        Expire(u64),
    }

    fn arb_op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => arb_route().prop_map(Op::Add),
            1 => (arb_addr(), 0u8..=128, prop::option::of(0u32..3))
                .prop_map(|(p, l, i)| Op::Remove(p, l, i)),
            1 => (0u32..3).prop_map(Op::RemoveIface),
            1 => (0u64..22).prop_map(Op::Expire),
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
                    Op::Expire(secs) => {
                        let now = Instant::from_secs(secs);
                        let gone = t.expire(now);
                        // In deadline order; equal deadlines in an order of the table's.
                        prop_assert!(gone.windows(2).all(|w| w[0].expires <= w[1].expires));
                        let mut want: Vec<Route> = m
                            .routes
                            .iter()
                            .filter(|r| r.expires.is_some_and(|t| t <= now))
                            .copied()
                            .collect();
                        m.routes.retain(|r| r.expires.is_none_or(|t| t > now));
                        let key = |r: &Route| {
                            (r.expires, r.prefix_len, r.prefix, r.iface, r.next_hop, r.origin)
                        };
                        let mut gone = gone;
                        gone.sort_by_key(key);
                        want.sort_by_key(key);
                        prop_assert_eq!(gone, want);
                    }
                }
                prop_assert_eq!(t.len(), m.routes.len());
                prop_assert!(t.len() <= max);
                prop_assert_eq!(
                    t.poll_at(),
                    m.routes.iter().filter_map(|r| r.expires).min()
                );
                check_index(&t);
            }
            for (d, z) in probes {
                let z = z.map(IfaceId);
                prop_assert_eq!(t.lookup(&d, z), m.lookup(&d, z));
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
            let got: Vec<Route> = t.iter().collect();
            prop_assert_eq!(got, want);
        }
    }
}
