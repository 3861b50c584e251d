//! The host's view of the routers on one link: the Default Router List, the Prefix List
//! that decides what is on-link, and the RFC 4191 Route Information learned from Router
//! Advertisements (RFC 4861 §6.3.4–§6.3.6, RFC 4191 §3, RFC 5942). It owns those three
//! tables and the next-hop choice for off-link destinations; the neighbor cache (and so
//! router reachability) and the destination cache belong to the glue.
//!
//! The glue validates an RA (RFC 4861 §6.1.2), applies Cur Hop Limit, Reachable Time,
//! Retrans Timer and MTU itself, and hands the rest here as an [`RaInfo`].

use core::net::Ipv6Addr;

use sixstack_wire::Ipv6AddrExt;
use sixstack_wire::ndiscopt::Preference;

use crate::time::{Duration, Instant};

/// Table limits. Every table is grown by what routers on the link say, so each is
/// bounded; the eviction rule is "refuse the newcomer" (existing entries stay until they
/// expire or are withdrawn), and each refusal is reported as a `*Refused` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterListConfig {
    /// Default Router List entries (RFC 4861 §5.1).
    pub max_routers: usize,
    /// Prefix List entries (RFC 4861 §5.1).
    pub max_prefixes: usize,
    /// Route Information entries, counted per (prefix, router) (RFC 4191 §3.1).
    pub max_routes: usize,
    /// At most one reachability probe per router per this interval (RFC 4191 §3.5: no
    /// more than one per minute).
    pub router_probe_interval: Duration,
}

impl Default for RouterListConfig {
    fn default() -> Self {
        Self {
            max_routers: 16,
            max_prefixes: 64,
            max_routes: 64,
            router_probe_interval: Duration::from_secs(60),
        }
    }
}

/// One Prefix Information option of a received RA (RFC 4861 §4.6.2). Only `on_link`
/// and `valid_lifetime` matter here; `autonomous` and `preferred_lifetime` are SLAAC's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaPrefix {
    pub prefix: Ipv6Addr,
    pub prefix_len: u8,
    pub on_link: bool,
    pub autonomous: bool,
    /// Seconds; `u32::MAX` is infinity.
    pub valid_lifetime: u32,
    pub preferred_lifetime: u32,
}

/// One Route Information option of a received RA (RFC 4191 §2.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaRoute {
    pub prefix: Ipv6Addr,
    pub prefix_len: u8,
    pub preference: Preference,
    /// Seconds; `u32::MAX` is infinity.
    pub lifetime: u32,
}

/// What this module needs of a received Router Advertisement; the glue parses the RA
/// into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaInfo {
    /// Seconds; zero means "not a default router" (RFC 4861 §4.2).
    pub router_lifetime: u16,
    /// The Prf bits of the RA header (RFC 4191 §2.2).
    pub preference: Preference,
    pub prefixes: Vec<RaPrefix>,
    pub routes: Vec<RaRoute>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultRouter {
    /// The router's link-local address: the RA's source.
    pub addr: Ipv6Addr,
    /// Never `Reserved`: that is stored as `Medium` (RFC 4191 §2.2).
    pub preference: Preference,
    pub expires: Instant,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnLinkPrefix {
    /// Bits past `prefix_len` are zero.
    pub prefix: Ipv6Addr,
    pub prefix_len: u8,
    /// [`Instant::FAR_FUTURE`] for an infinite valid lifetime.
    pub expires: Instant,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo {
    /// Bits past `prefix_len` are zero.
    pub prefix: Ipv6Addr,
    pub prefix_len: u8,
    pub router: Ipv6Addr,
    /// Never `Reserved`: such options are ignored (RFC 4191 §2.3).
    pub preference: Preference,
    /// [`Instant::FAR_FUTURE`] for an infinite lifetime.
    pub expires: Instant,
}

/// What changed. The glue must flush destination cache entries that used a removed
/// router, or whose on-link decision a changed prefix may alter (RFC 4861 §6.3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouterEvent {
    RouterAdded(Ipv6Addr),
    RouterRemoved(Ipv6Addr),
    PrefixAdded(Ipv6Addr, u8),
    PrefixRemoved(Ipv6Addr, u8),
    /// Prefix, prefix length, router.
    RouteAdded(Ipv6Addr, u8, Ipv6Addr),
    RouteRemoved(Ipv6Addr, u8, Ipv6Addr),
    /// The Default Router List was full: this router was not added.
    RouterRefused(Ipv6Addr),
    /// The Prefix List was full: this prefix was not added.
    PrefixRefused(Ipv6Addr, u8),
    /// The route table was full: this route was not added.
    RouteRefused(Ipv6Addr, u8, Ipv6Addr),
}

/// Default Router List, Prefix List and Route Information of one interface.
#[derive(Debug, Clone)]
pub struct RouterList {
    cfg: RouterListConfig,
    // Vecs in arrival order: small, bounded, and iterated deterministically.
    routers: Vec<DefaultRouter>,
    prefixes: Vec<OnLinkPrefix>,
    routes: Vec<RouteInfo>,
    /// The router returned last by the round-robin of RFC 4861 §6.3.6 (2).
    rr_last: Option<Ipv6Addr>,
    /// When each router was last named for a probe (RFC 4191 §3.5). Bounded by
    /// `max_routers + max_routes`, evicting the oldest; entries older than
    /// `router_probe_interval` are dropped by `poll` since they no longer limit anything.
    probed: Vec<(Ipv6Addr, Instant)>,
}

/// A next-hop candidate: (prefix length, preference rank, router, reachability).
type Candidate = (u8, i8, Ipv6Addr, Option<bool>);

/// RFC 4191 §2.2: a reserved preference in the RA header is treated as medium.
fn effective(p: Preference) -> Preference {
    match p {
        Preference::Reserved => Preference::Medium,
        p => p,
    }
}

/// Higher is better: high > medium > low.
fn rank(p: Preference) -> i8 {
    match p {
        Preference::High => 1,
        Preference::Medium | Preference::Reserved => 0,
        Preference::Low => -1,
    }
}

fn netmask(len: u8) -> u128 {
    match len {
        0 => 0,
        l if l >= 128 => u128::MAX,
        l => u128::MAX << (128 - u32::from(l)),
    }
}

fn masked(prefix: Ipv6Addr, len: u8) -> Ipv6Addr {
    Ipv6Addr::from(u128::from(prefix) & netmask(len))
}

fn covers(prefix: &Ipv6Addr, len: u8, addr: &Ipv6Addr) -> bool {
    let m = netmask(len);
    u128::from(*prefix) & m == u128::from(*addr) & m
}

/// A prefix inside fe80::/10 or ff00::/8: never an on-link prefix or a route to learn
/// (link-local destinations are always on-link; multicast is not routed via a router).
fn is_link_local_or_multicast(prefix: &Ipv6Addr, len: u8) -> bool {
    (len >= 10 && prefix.is_link_local_unicast()) || (len >= 8 && prefix.is_multicast())
}

/// Seconds from now; `u32::MAX` is infinity (RFC 4861 §4.6.2, RFC 4191 §2.3).
fn expiry(now: Instant, secs: u32) -> Instant {
    if secs == u32::MAX {
        Instant::FAR_FUTURE
    } else {
        now + Duration::from_secs(u64::from(secs))
    }
}

impl RouterList {
    pub fn new(cfg: RouterListConfig) -> Self {
        Self {
            cfg,
            routers: Vec::new(),
            prefixes: Vec::new(),
            routes: Vec::new(),
            rr_last: None,
            probed: Vec::new(),
        }
    }

    pub fn config(&self) -> &RouterListConfig {
        &self.cfg
    }

    /// Applies a valid Router Advertisement from `src` (RFC 4861 §6.3.4, RFC 4191 §3.1).
    /// An RA whose source is not link-local is ignored: §6.1.2 makes the glue drop it,
    /// and routers are known by their link-local address.
    pub fn on_router_advert(
        &mut self,
        now: Instant,
        src: Ipv6Addr,
        ra: &RaInfo,
        out: &mut Vec<RouterEvent>,
    ) {
        if !src.is_link_local_unicast() {
            return;
        }
        // RFC 4191 §3.1: a ::/0 Route Information option overrides the header's
        // preference and lifetime for the Default Router List.
        let mut lifetime = u32::from(ra.router_lifetime);
        let mut preference = effective(ra.preference);
        for r in &ra.routes {
            if r.prefix_len == 0 && r.preference != Preference::Reserved {
                lifetime = r.lifetime;
                preference = r.preference;
            }
        }
        self.update_router(now, src, lifetime, preference, out);
        for p in &ra.prefixes {
            self.update_prefix(now, p, out);
        }
        for r in &ra.routes {
            self.update_route(now, src, r, out);
        }
    }

    fn update_router(
        &mut self,
        now: Instant,
        src: Ipv6Addr,
        lifetime: u32,
        preference: Preference,
        out: &mut Vec<RouterEvent>,
    ) {
        let at = self.routers.iter().position(|r| r.addr == src);
        match (at, lifetime) {
            // §6.3.4: a zero Router Lifetime times the entry out immediately.
            (Some(i), 0) => {
                self.routers.remove(i);
                out.push(RouterEvent::RouterRemoved(src));
            }
            (None, 0) => {}
            (Some(i), secs) => {
                let r = &mut self.routers[i];
                r.expires = expiry(now, secs);
                r.preference = preference;
            }
            (None, _) if self.routers.len() >= self.cfg.max_routers => {
                out.push(RouterEvent::RouterRefused(src));
            }
            (None, secs) => {
                self.routers.push(DefaultRouter {
                    addr: src,
                    preference,
                    expires: expiry(now, secs),
                });
                out.push(RouterEvent::RouterAdded(src));
            }
        }
    }

    fn update_prefix(&mut self, now: Instant, p: &RaPrefix, out: &mut Vec<RouterEvent>) {
        // RFC 5942 §2 and RFC 4861 §6.3.4: L=0 says nothing about on-link; it neither adds
        // nor removes.
        if !p.on_link || p.prefix_len > 128 {
            return;
        }
        let prefix = masked(p.prefix, p.prefix_len);
        // §6.3.4: a PIO for the link-local prefix is silently ignored.
        if is_link_local_or_multicast(&prefix, p.prefix_len) {
            return;
        }
        let at = self
            .prefixes
            .iter()
            .position(|e| e.prefix == prefix && e.prefix_len == p.prefix_len);
        match (at, p.valid_lifetime) {
            (Some(i), 0) => {
                self.prefixes.remove(i);
                out.push(RouterEvent::PrefixRemoved(prefix, p.prefix_len));
            }
            (None, 0) => {}
            // §6.3.4: the invalidation timer is reset to the new valid lifetime (the
            // two-hour rule of RFC 4862 §5.5.3 is about addresses, not on-link).
            (Some(i), secs) => self.prefixes[i].expires = expiry(now, secs),
            (None, _) if self.prefixes.len() >= self.cfg.max_prefixes => {
                out.push(RouterEvent::PrefixRefused(prefix, p.prefix_len));
            }
            (None, secs) => {
                self.prefixes.push(OnLinkPrefix {
                    prefix,
                    prefix_len: p.prefix_len,
                    expires: expiry(now, secs),
                });
                out.push(RouterEvent::PrefixAdded(prefix, p.prefix_len));
            }
        }
    }

    fn update_route(
        &mut self,
        now: Instant,
        router: Ipv6Addr,
        r: &RaRoute,
        out: &mut Vec<RouterEvent>,
    ) {
        // RFC 4191 §2.3: an option with the reserved preference MUST be ignored. ::/0 went
        // to the Default Router List above.
        if r.preference == Preference::Reserved || r.prefix_len == 0 || r.prefix_len > 128 {
            return;
        }
        let prefix = masked(r.prefix, r.prefix_len);
        if is_link_local_or_multicast(&prefix, r.prefix_len) {
            return;
        }
        let at = self
            .routes
            .iter()
            .position(|e| e.router == router && e.prefix == prefix && e.prefix_len == r.prefix_len);
        match (at, r.lifetime) {
            (Some(i), 0) => {
                self.routes.remove(i);
                out.push(RouterEvent::RouteRemoved(prefix, r.prefix_len, router));
            }
            (None, 0) => {}
            (Some(i), secs) => {
                let e = &mut self.routes[i];
                e.expires = expiry(now, secs);
                e.preference = r.preference;
            }
            (None, _) if self.routes.len() >= self.cfg.max_routes => {
                out.push(RouterEvent::RouteRefused(prefix, r.prefix_len, router));
            }
            (None, secs) => {
                self.routes.push(RouteInfo {
                    prefix,
                    prefix_len: r.prefix_len,
                    router,
                    preference: r.preference,
                    expires: expiry(now, secs),
                });
                out.push(RouterEvent::RouteAdded(prefix, r.prefix_len, router));
            }
        }
    }

    /// Whether `dst` is on-link: link-local (fe80::/10), or covered by a prefix that an
    /// RA advertised with L=1. Nothing else is (RFC 5942 §2: not an address's subnet,
    /// not "no default router" since RFC 4943). Multicast is not this table's question:
    /// the glue sends to the group directly. Entries past their lifetime count until the
    /// next [`poll`](Self::poll).
    pub fn is_on_link(&self, dst: &Ipv6Addr) -> bool {
        dst.is_link_local_unicast()
            || self
                .prefixes
                .iter()
                .any(|p| covers(&p.prefix, p.prefix_len, dst))
    }

    /// The next hop for an off-link `dst`, or `None` when no route and no default router
    /// exists (RFC 4191 §3.2: report no route; RFC 4943: do not assume on-link).
    ///
    /// Candidates are the matching Route Information entries and the default routers as
    /// ::/0 routes, ranked by prefix length, then preference (RFC 4191 §3.2).
    /// 1. The best-ranked candidate whose router is reachable or probably reachable
    ///    (`Some(true)`) wins: a route via a router not known reachable is passed over
    ///    (RFC 4191 §3.2, RFC 4861 §6.3.6 (1)).
    /// 2. Otherwise, among routers of unknown reachability (`None`), those of the best
    ///    rank are returned in turn, so that each gets resolved by NUD (§6.3.6 (2)).
    /// 3. Otherwise (all known unreachable), every candidate router in turn, so that all
    ///    are probed again.
    ///
    /// The round-robin order is by address; one cursor serves all destinations. Use
    /// [`choose_router_with_probes`](Self::choose_router_with_probes) to also learn which
    /// passed-over routers to probe.
    pub fn choose_router(
        &mut self,
        dst: &Ipv6Addr,
        reachability: impl Fn(&Ipv6Addr) -> Option<bool>,
    ) -> Option<Ipv6Addr> {
        self.select(dst, &reachability).0
    }

    /// [`choose_router`](Self::choose_router), and in `probes` the routers that would
    /// have been chosen had they been reachable, at most one probe per router per
    /// `router_probe_interval` (RFC 4191 §3.5). The glue sends one Neighbor Solicitation
    /// to each, and only when it does send the packet this choice is for (§3.5: no
    /// probes without useful traffic).
    pub fn choose_router_with_probes(
        &mut self,
        now: Instant,
        dst: &Ipv6Addr,
        reachability: impl Fn(&Ipv6Addr) -> Option<bool>,
        probes: &mut Vec<Ipv6Addr>,
    ) -> Option<Ipv6Addr> {
        let (chosen, cands) = self.select(dst, &reachability);
        let chosen_rank =
            chosen.and_then(|a| cands.iter().filter(|c| c.2 == a).map(|c| (c.0, c.1)).max());
        let Some(best) = chosen_rank else {
            return chosen;
        };
        for c in cands.iter().filter(|c| (c.0, c.1) > best) {
            if c.3 == Some(true) || Some(c.2) == chosen || probes.contains(&c.2) {
                continue;
            }
            if self.probe_allowed(now, c.2) {
                probes.push(c.2);
            }
        }
        chosen
    }

    /// Records a probe to `router` unless one was made within the interval.
    fn probe_allowed(&mut self, now: Instant, router: Ipv6Addr) -> bool {
        let interval = self.cfg.router_probe_interval;
        if let Some(e) = self.probed.iter_mut().find(|e| e.0 == router) {
            if now.saturating_duration_since(e.1) < interval {
                return false;
            }
            e.1 = now;
            return true;
        }
        let cap = self
            .cfg
            .max_routers
            .saturating_add(self.cfg.max_routes)
            .max(1);
        if self.probed.len() >= cap
            && let Some(oldest) = (0..self.probed.len()).min_by_key(|&i| self.probed[i].1)
        {
            self.probed.swap_remove(oldest);
        }
        self.probed.push((router, now));
        true
    }

    fn select(
        &mut self,
        dst: &Ipv6Addr,
        reachability: &impl Fn(&Ipv6Addr) -> Option<bool>,
    ) -> (Option<Ipv6Addr>, Vec<Candidate>) {
        let mut cands: Vec<Candidate> = self
            .routes
            .iter()
            .filter(|r| covers(&r.prefix, r.prefix_len, dst))
            .map(|r| (r.prefix_len, rank(r.preference), r.router))
            .chain(self.routers.iter().map(|r| (0, rank(r.preference), r.addr)))
            .map(|(l, p, a)| (l, p, a, reachability(&a)))
            .collect();
        cands.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        if let Some(c) = cands.iter().find(|c| c.3 == Some(true)) {
            return (Some(c.2), cands);
        }
        let tier: Vec<Ipv6Addr> = match cands.iter().find(|c| c.3.is_none()) {
            Some(best) => cands
                .iter()
                .filter(|c| c.3.is_none() && c.0 == best.0 && c.1 == best.1)
                .map(|c| c.2)
                .collect(),
            None => cands.iter().map(|c| c.2).collect(),
        };
        let chosen = self.round_robin(tier);
        if chosen.is_some() {
            self.rr_last = chosen;
        }
        (chosen, cands)
    }

    /// The first router after the last one returned, in address order, wrapping.
    fn round_robin(&self, mut routers: Vec<Ipv6Addr>) -> Option<Ipv6Addr> {
        routers.sort();
        routers.dedup();
        let after = self
            .rr_last
            .and_then(|last| routers.iter().find(|&&a| a > last).copied());
        after.or_else(|| routers.first().copied())
    }

    /// Forgets a router and the routes through it: NUD learned it is no longer a router
    /// (RFC 4861 §7.3.3: IsRouter went from TRUE to FALSE).
    pub fn remove_router(&mut self, addr: &Ipv6Addr, out: &mut Vec<RouterEvent>) {
        if let Some(i) = self.routers.iter().position(|r| r.addr == *addr) {
            self.routers.remove(i);
            out.push(RouterEvent::RouterRemoved(*addr));
        }
        self.routes.retain(|r| {
            let keep = r.router != *addr;
            if !keep {
                out.push(RouterEvent::RouteRemoved(r.prefix, r.prefix_len, r.router));
            }
            keep
        });
    }

    /// Times out every entry whose lifetime has run out (RFC 4861 §6.3.5). One pass,
    /// whatever the jump in time.
    pub fn poll(&mut self, now: Instant, out: &mut Vec<RouterEvent>) {
        self.routers.retain(|r| {
            let keep = r.expires > now;
            if !keep {
                out.push(RouterEvent::RouterRemoved(r.addr));
            }
            keep
        });
        self.prefixes.retain(|p| {
            let keep = p.expires > now;
            if !keep {
                out.push(RouterEvent::PrefixRemoved(p.prefix, p.prefix_len));
            }
            keep
        });
        self.routes.retain(|r| {
            let keep = r.expires > now;
            if !keep {
                out.push(RouterEvent::RouteRemoved(r.prefix, r.prefix_len, r.router));
            }
            keep
        });
        let interval = self.cfg.router_probe_interval;
        self.probed
            .retain(|e| now.saturating_duration_since(e.1) < interval);
    }

    /// When the next entry expires; `None` when none will (empty, or all infinite).
    pub fn poll_at(&self) -> Option<Instant> {
        self.routers
            .iter()
            .map(|r| r.expires)
            .chain(self.prefixes.iter().map(|p| p.expires))
            .chain(self.routes.iter().map(|r| r.expires))
            .filter(|&t| t != Instant::FAR_FUTURE)
            .min()
    }

    /// Forgets everything: the link went down.
    pub fn clear(&mut self, out: &mut Vec<RouterEvent>) {
        out.extend(
            self.routers
                .drain(..)
                .map(|r| RouterEvent::RouterRemoved(r.addr)),
        );
        out.extend(
            self.prefixes
                .drain(..)
                .map(|p| RouterEvent::PrefixRemoved(p.prefix, p.prefix_len)),
        );
        out.extend(
            self.routes
                .drain(..)
                .map(|r| RouterEvent::RouteRemoved(r.prefix, r.prefix_len, r.router)),
        );
        self.rr_last = None;
        self.probed.clear();
    }

    pub fn routers(&self) -> impl Iterator<Item = &DefaultRouter> {
        self.routers.iter()
    }

    pub fn prefixes(&self) -> impl Iterator<Item = &OnLinkPrefix> {
        self.prefixes.iter()
    }

    pub fn routes(&self) -> impl Iterator<Item = &RouteInfo> {
        self.routes.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const R1: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
    const R2: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 2);
    const R3: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 3);

    fn a(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    fn t(secs: u64) -> Instant {
        Instant::from_secs(secs)
    }

    fn ra(lifetime: u16, preference: Preference) -> RaInfo {
        RaInfo {
            router_lifetime: lifetime,
            preference,
            prefixes: vec![],
            routes: vec![],
        }
    }

    fn pio(prefix: &str, len: u8, on_link: bool, valid: u32) -> RaPrefix {
        RaPrefix {
            prefix: a(prefix),
            prefix_len: len,
            on_link,
            autonomous: true,
            valid_lifetime: valid,
            preferred_lifetime: valid / 2,
        }
    }

    fn rio(prefix: &str, len: u8, preference: Preference, lifetime: u32) -> RaRoute {
        RaRoute {
            prefix: a(prefix),
            prefix_len: len,
            preference,
            lifetime,
        }
    }

    fn list() -> RouterList {
        RouterList::new(RouterListConfig::default())
    }

    fn unknown(_: &Ipv6Addr) -> Option<bool> {
        None
    }

    #[test]
    fn rfc4861_6_3_4_router_lifetime_creates_and_refreshes() {
        let mut l = list();
        let mut ev = vec![];
        l.on_router_advert(t(0), R1, &ra(1800, Preference::High), &mut ev);
        assert_eq!(ev, [RouterEvent::RouterAdded(R1)]);
        let r: Vec<_> = l.routers().cloned().collect();
        assert_eq!(
            r,
            [DefaultRouter {
                addr: R1,
                preference: Preference::High,
                expires: t(1800)
            }]
        );
        ev.clear();
        l.on_router_advert(t(100), R1, &ra(600, Preference::Low), &mut ev);
        assert!(ev.is_empty());
        let r = l.routers().next().unwrap();
        assert_eq!((r.expires, r.preference), (t(700), Preference::Low));
        assert_eq!(l.poll_at(), Some(t(700)));
    }

    #[test]
    fn rfc4861_6_3_4_router_lifetime_zero_removes() {
        let mut l = list();
        let mut ev = vec![];
        l.on_router_advert(t(0), R1, &ra(0, Preference::Medium), &mut ev);
        assert!(ev.is_empty());
        assert_eq!(l.routers().count(), 0);
        l.on_router_advert(t(0), R1, &ra(1800, Preference::Medium), &mut ev);
        ev.clear();
        l.on_router_advert(t(5), R1, &ra(0, Preference::Medium), &mut ev);
        assert_eq!(ev, [RouterEvent::RouterRemoved(R1)]);
        assert_eq!(l.routers().count(), 0);
        assert_eq!(l.choose_router(&a("2001:db8::1"), unknown), None);
    }

    #[test]
    fn rfc4861_6_1_2_non_link_local_source_ignored() {
        let mut l = list();
        let mut ev = vec![];
        l.on_router_advert(
            t(0),
            a("2001:db8::1"),
            &ra(1800, Preference::Medium),
            &mut ev,
        );
        assert!(ev.is_empty());
        assert_eq!(l.routers().count(), 0);
    }

    #[test]
    fn rfc4191_2_2_reserved_preference_treated_as_medium() {
        let mut l = list();
        let mut ev = vec![];
        l.on_router_advert(t(0), R1, &ra(1800, Preference::Reserved), &mut ev);
        assert_eq!(l.routers().next().unwrap().preference, Preference::Medium);
    }

    #[test]
    fn rfc4861_6_3_4_on_link_prefix_added_refreshed_and_withdrawn() {
        let mut l = list();
        let mut ev = vec![];
        let mut m = ra(0, Preference::Medium);
        // Host bits set in the option are not part of the prefix.
        m.prefixes.push(pio("2001:db8:1::ff", 64, true, 3600));
        l.on_router_advert(t(0), R1, &m, &mut ev);
        assert_eq!(ev, [RouterEvent::PrefixAdded(a("2001:db8:1::"), 64)]);
        assert!(l.is_on_link(&a("2001:db8:1::1234")));
        assert!(!l.is_on_link(&a("2001:db8:2::1")));
        assert_eq!(l.prefixes().next().unwrap().expires, t(3600));
        // A shorter valid lifetime is taken as is: no two-hour rule for on-link.
        ev.clear();
        m.prefixes[0].valid_lifetime = 60;
        l.on_router_advert(t(10), R1, &m, &mut ev);
        assert!(ev.is_empty());
        assert_eq!(l.prefixes().next().unwrap().expires, t(70));
        m.prefixes[0].valid_lifetime = 0;
        l.on_router_advert(t(20), R1, &m, &mut ev);
        assert_eq!(ev, [RouterEvent::PrefixRemoved(a("2001:db8:1::"), 64)]);
        assert!(!l.is_on_link(&a("2001:db8:1::1234")));
    }

    #[test]
    fn rfc5942_2_only_l_flag_makes_on_link() {
        let mut l = list();
        let mut ev = vec![];
        let mut m = ra(1800, Preference::Medium);
        m.prefixes.push(pio("2001:db8:1::", 64, false, 3600));
        l.on_router_advert(t(0), R1, &m, &mut ev);
        assert_eq!(ev, [RouterEvent::RouterAdded(R1)]);
        assert!(!l.is_on_link(&a("2001:db8:1::1")));
        // L=1 adds it; a later L=0 option (even with valid lifetime 0) does not remove it.
        m.prefixes[0].on_link = true;
        l.on_router_advert(t(0), R1, &m, &mut ev);
        m.prefixes[0].on_link = false;
        m.prefixes[0].valid_lifetime = 0;
        l.on_router_advert(t(0), R1, &m, &mut ev);
        assert!(l.is_on_link(&a("2001:db8:1::1")));
    }

    #[test]
    fn rfc5942_2_link_local_always_on_link_and_nothing_else_by_default() {
        let mut l = list();
        assert!(l.is_on_link(&a("fe80::1234")));
        // No default router does not make everything on-link (RFC 4943).
        assert!(!l.is_on_link(&a("2001:db8::1")));
        let mut ev = vec![];
        l.on_router_advert(t(0), R1, &ra(1800, Preference::Medium), &mut ev);
        assert!(l.is_on_link(&a("fe80::1234")));
        assert!(!l.is_on_link(&a("2001:db8::1")));
    }

    #[test]
    fn rfc4861_6_3_4_link_local_prefix_ignored() {
        let mut l = list();
        let mut ev = vec![];
        let mut m = ra(0, Preference::Medium);
        m.prefixes.push(pio("fe80::", 64, true, 3600));
        m.prefixes.push(pio("ff02::", 16, true, 3600));
        m.prefixes.push(pio("2001:db8::", 129, true, 3600));
        l.on_router_advert(t(0), R1, &m, &mut ev);
        assert!(ev.is_empty());
        assert_eq!(l.prefixes().count(), 0);
    }

    #[test]
    fn rfc4861_4_6_2_infinite_valid_lifetime_never_expires() {
        let mut l = list();
        let mut ev = vec![];
        let mut m = ra(0, Preference::Medium);
        m.prefixes.push(pio("2001:db8::", 64, true, u32::MAX));
        l.on_router_advert(t(0), R1, &m, &mut ev);
        assert_eq!(l.prefixes().next().unwrap().expires, Instant::FAR_FUTURE);
        assert_eq!(l.poll_at(), None);
        ev.clear();
        l.poll(t(1 << 40), &mut ev);
        assert!(ev.is_empty());
        assert!(l.is_on_link(&a("2001:db8::9")));
    }

    #[test]
    fn rfc4861_6_3_5_entries_time_out() {
        let mut l = list();
        let mut ev = vec![];
        let mut m = ra(100, Preference::Medium);
        m.prefixes.push(pio("2001:db8::", 64, true, 200));
        m.routes
            .push(rio("2001:db8:1::", 48, Preference::Medium, 300));
        l.on_router_advert(t(0), R1, &m, &mut ev);
        assert_eq!(ev.len(), 3);
        ev.clear();
        assert_eq!(l.poll_at(), Some(t(100)));
        l.poll(t(99), &mut ev);
        assert!(ev.is_empty());
        l.poll(t(100), &mut ev);
        assert_eq!(ev, [RouterEvent::RouterRemoved(R1)]);
        assert_eq!(l.poll_at(), Some(t(200)));
        ev.clear();
        l.poll(t(300), &mut ev);
        assert_eq!(
            ev,
            [
                RouterEvent::PrefixRemoved(a("2001:db8::"), 64),
                RouterEvent::RouteRemoved(a("2001:db8:1::"), 48, R1)
            ]
        );
        assert_eq!(l.poll_at(), None);
    }

    #[test]
    fn clock_jump_expires_everything_in_one_poll() {
        let mut l = list();
        let mut ev = vec![];
        for (i, r) in [R1, R2, R3].into_iter().enumerate() {
            let mut m = ra(1800, Preference::Medium);
            m.prefixes
                .push(pio(&format!("2001:db8:{i}::"), 64, true, 86_400));
            l.on_router_advert(t(0), r, &m, &mut ev);
        }
        ev.clear();
        l.poll(t(86_400 + 1), &mut ev);
        assert_eq!(ev.len(), 6);
        assert_eq!(l.poll_at(), None);
        assert_eq!(l.routers().count() + l.prefixes().count(), 0);
    }

    #[test]
    fn rfc4191_2_3_reserved_route_preference_ignored() {
        let mut l = list();
        let mut ev = vec![];
        let mut m = ra(0, Preference::Medium);
        m.routes
            .push(rio("2001:db8:1::", 48, Preference::Reserved, 300));
        // A ::/0 option with the reserved preference does not override the header either.
        m.routes.push(rio("::", 0, Preference::Reserved, 300));
        l.on_router_advert(t(0), R1, &m, &mut ev);
        assert!(ev.is_empty());
        assert_eq!(l.routes().count(), 0);
        assert_eq!(l.routers().count(), 0);
    }

    #[test]
    fn rfc4191_3_1_default_route_option_overrides_header() {
        let mut l = list();
        let mut ev = vec![];
        let mut m = ra(1800, Preference::Medium);
        m.routes.push(rio("::", 0, Preference::Low, u32::MAX));
        l.on_router_advert(t(0), R1, &m, &mut ev);
        assert_eq!(ev, [RouterEvent::RouterAdded(R1)]);
        let r = l.routers().next().unwrap();
        assert_eq!(
            (r.preference, r.expires),
            (Preference::Low, Instant::FAR_FUTURE)
        );
        assert_eq!(l.routes().count(), 0);
        // And a ::/0 with lifetime 0 withdraws the default router despite the header.
        m.routes[0].lifetime = 0;
        ev.clear();
        l.on_router_advert(t(1), R1, &m, &mut ev);
        assert_eq!(ev, [RouterEvent::RouterRemoved(R1)]);
    }

    #[test]
    fn rfc4191_3_1_route_added_refreshed_withdrawn_per_router() {
        let mut l = list();
        let mut ev = vec![];
        let mut m = ra(0, Preference::Medium);
        m.routes
            .push(rio("2001:db8:1:ffff::", 48, Preference::High, 600));
        l.on_router_advert(t(0), R1, &m, &mut ev);
        l.on_router_advert(t(0), R2, &m, &mut ev);
        let p = a("2001:db8:1::");
        assert_eq!(
            ev,
            [
                RouterEvent::RouteAdded(p, 48, R1),
                RouterEvent::RouteAdded(p, 48, R2)
            ]
        );
        ev.clear();
        m.routes[0].preference = Preference::Low;
        l.on_router_advert(t(10), R1, &m, &mut ev);
        assert!(ev.is_empty());
        let e = l.routes().next().unwrap();
        assert_eq!((e.preference, e.expires), (Preference::Low, t(610)));
        m.routes[0].lifetime = 0;
        l.on_router_advert(t(20), R2, &m, &mut ev);
        assert_eq!(ev, [RouterEvent::RouteRemoved(p, 48, R2)]);
        assert_eq!(l.routes().count(), 1);
    }

    /// R1 is a default router; R2 advertises only a more specific route.
    fn two_routers_one_specific(pref2: Preference) -> RouterList {
        let mut l = list();
        let mut ev = vec![];
        l.on_router_advert(t(0), R1, &ra(1800, Preference::High), &mut ev);
        let mut m = ra(0, Preference::Medium);
        m.routes.push(rio("2001:db8:1::", 48, pref2, 600));
        l.on_router_advert(t(0), R2, &m, &mut ev);
        l
    }

    #[test]
    fn rfc4191_3_2_more_specific_route_wins() {
        let mut l = two_routers_one_specific(Preference::Low);
        let up = |_: &Ipv6Addr| Some(true);
        // Longest match beats the default router's higher preference.
        assert_eq!(l.choose_router(&a("2001:db8:1::5"), up), Some(R2));
        assert_eq!(l.choose_router(&a("2001:db8:2::5"), up), Some(R1));
    }

    #[test]
    fn rfc4191_3_2_preference_breaks_ties() {
        let mut l = list();
        let mut ev = vec![];
        for (r, p) in [
            (R1, Preference::Low),
            (R2, Preference::High),
            (R3, Preference::Medium),
        ] {
            l.on_router_advert(t(0), r, &ra(1800, p), &mut ev);
        }
        let up = |_: &Ipv6Addr| Some(true);
        assert_eq!(l.choose_router(&a("2001:db8::1"), up), Some(R2));
        // Same for routes of equal length.
        let mut m = ra(1800, Preference::Low);
        m.routes
            .push(rio("2001:db8:1::", 48, Preference::High, 600));
        l.on_router_advert(t(0), R1, &m, &mut ev);
        m.routes[0].preference = Preference::Medium;
        l.on_router_advert(t(0), R3, &m, &mut ev);
        assert_eq!(l.choose_router(&a("2001:db8:1::1"), up), Some(R1));
    }

    #[test]
    fn rfc4191_3_2_route_via_unreachable_router_passed_over() {
        let mut l = two_routers_one_specific(Preference::High);
        let r2_down = |x: &Ipv6Addr| Some(*x != R2);
        assert_eq!(l.choose_router(&a("2001:db8:1::5"), r2_down), Some(R1));
        // Unknown (no neighbor cache entry) is not "reachable" either.
        let r2_unknown = |x: &Ipv6Addr| (*x != R2).then_some(true);
        assert_eq!(l.choose_router(&a("2001:db8:1::5"), r2_unknown), Some(R1));
    }

    #[test]
    fn rfc4191_3_5_passed_over_router_probed_once_a_minute() {
        let mut l = two_routers_one_specific(Preference::High);
        let r2_unknown = |x: &Ipv6Addr| (*x != R2).then_some(true);
        let dst = a("2001:db8:1::5");
        let mut probes = vec![];
        let r = l.choose_router_with_probes(t(0), &dst, r2_unknown, &mut probes);
        assert_eq!((r, probes.as_slice()), (Some(R1), &[R2][..]));
        probes.clear();
        l.choose_router_with_probes(t(59), &dst, r2_unknown, &mut probes);
        assert!(probes.is_empty());
        l.choose_router_with_probes(t(60), &dst, r2_unknown, &mut probes);
        assert_eq!(probes, [R2]);
        // No probe for a router not better ranked than the choice.
        probes.clear();
        let all_up = |_: &Ipv6Addr| Some(true);
        l.choose_router_with_probes(t(500), &dst, all_up, &mut probes);
        l.choose_router_with_probes(t(500), &a("2001:db8:9::1"), r2_unknown, &mut probes);
        assert!(probes.is_empty());
    }

    #[test]
    fn rfc4861_6_3_6_reachable_router_preferred() {
        let mut l = list();
        let mut ev = vec![];
        // R1 is preferred by preference, but only R3 is known reachable.
        l.on_router_advert(t(0), R1, &ra(1800, Preference::High), &mut ev);
        l.on_router_advert(t(0), R2, &ra(1800, Preference::Medium), &mut ev);
        l.on_router_advert(t(0), R3, &ra(1800, Preference::Low), &mut ev);
        let only_r3 = |x: &Ipv6Addr| match *x {
            R3 => Some(true),
            R1 => Some(false),
            _ => None,
        };
        for _ in 0..4 {
            assert_eq!(l.choose_router(&a("2001:db8::1"), only_r3), Some(R3));
        }
    }

    #[test]
    fn rfc4861_6_3_6_round_robin_when_none_reachable() {
        let mut l = list();
        let mut ev = vec![];
        for r in [R3, R1, R2] {
            l.on_router_advert(t(0), r, &ra(1800, Preference::Medium), &mut ev);
        }
        let dst = a("2001:db8::1");
        let got: Vec<_> = (0..6)
            .map(|_| l.choose_router(&dst, unknown).unwrap())
            .collect();
        assert_eq!(got, [R1, R2, R3, R1, R2, R3]);
        // Known-unreachable routers come after unknown ones...
        let r2_unknown = |x: &Ipv6Addr| if *x == R2 { None } else { Some(false) };
        assert_eq!(l.choose_router(&dst, r2_unknown), Some(R2));
        assert_eq!(l.choose_router(&dst, r2_unknown), Some(R2));
        // ...and when all are known unreachable, all are cycled through.
        let down = |_: &Ipv6Addr| Some(false);
        let got: Vec<_> = (0..3)
            .map(|_| l.choose_router(&dst, down).unwrap())
            .collect();
        assert_eq!(got, [R3, R1, R2]);
    }

    #[test]
    fn rfc4861_6_3_6_unknown_routers_tried_best_first() {
        let mut l = two_routers_one_specific(Preference::Medium);
        // Nothing known: the more specific route's router is tried first, every time.
        let dst = a("2001:db8:1::5");
        assert_eq!(l.choose_router(&dst, unknown), Some(R2));
        assert_eq!(l.choose_router(&dst, unknown), Some(R2));
        // Once it failed, the default router is tried.
        let r2_down = |x: &Ipv6Addr| if *x == R2 { Some(false) } else { None };
        assert_eq!(l.choose_router(&dst, r2_down), Some(R1));
    }

    #[test]
    fn rfc4861_7_3_3_remove_router_drops_its_routes() {
        let mut l = two_routers_one_specific(Preference::Medium);
        let mut ev = vec![];
        let mut m = ra(1800, Preference::Medium);
        m.routes
            .push(rio("2001:db8:2::", 48, Preference::Medium, 600));
        l.on_router_advert(t(0), R2, &m, &mut ev);
        ev.clear();
        l.remove_router(&R2, &mut ev);
        assert_eq!(
            ev,
            [
                RouterEvent::RouterRemoved(R2),
                RouterEvent::RouteRemoved(a("2001:db8:1::"), 48, R2),
                RouterEvent::RouteRemoved(a("2001:db8:2::"), 48, R2),
            ]
        );
        assert_eq!(l.routers().map(|r| r.addr).collect::<Vec<_>>(), [R1]);
        assert_eq!(l.routes().count(), 0);
    }

    #[test]
    fn limits_refuse_newcomers_and_say_so() {
        let mut l = RouterList::new(RouterListConfig {
            max_routers: 2,
            max_prefixes: 1,
            max_routes: 1,
            ..RouterListConfig::default()
        });
        let mut ev = vec![];
        let mut m = ra(1800, Preference::Medium);
        m.prefixes.push(pio("2001:db8:1::", 64, true, 600));
        m.prefixes.push(pio("2001:db8:2::", 64, true, 600));
        m.routes
            .push(rio("2001:db8:a::", 48, Preference::Medium, 600));
        m.routes
            .push(rio("2001:db8:b::", 48, Preference::Medium, 600));
        l.on_router_advert(t(0), R1, &m, &mut ev);
        l.on_router_advert(t(0), R2, &ra(1800, Preference::Medium), &mut ev);
        ev.clear();
        l.on_router_advert(t(0), R3, &ra(1800, Preference::High), &mut ev);
        assert_eq!(ev, [RouterEvent::RouterRefused(R3)]);
        assert_eq!(l.routers().count(), 2);
        assert_eq!(l.prefixes().count(), 1);
        assert_eq!(l.routes().count(), 1);
        // Existing entries still refresh when full.
        ev.clear();
        l.on_router_advert(t(10), R1, &m, &mut ev);
        assert_eq!(
            ev,
            [
                RouterEvent::PrefixRefused(a("2001:db8:2::"), 64),
                RouterEvent::RouteRefused(a("2001:db8:b::"), 48, R1)
            ]
        );
        assert_eq!(l.routers().next().unwrap().expires, t(1810));
    }

    #[test]
    fn link_down_clears_everything() {
        let mut l = two_routers_one_specific(Preference::Medium);
        let mut ev = vec![];
        let mut m = ra(1800, Preference::High);
        m.prefixes.push(pio("2001:db8::", 64, true, 600));
        l.on_router_advert(t(0), R1, &m, &mut ev);
        ev.clear();
        l.clear(&mut ev);
        assert_eq!(
            ev,
            [
                RouterEvent::RouterRemoved(R1),
                RouterEvent::PrefixRemoved(a("2001:db8::"), 64),
                RouterEvent::RouteRemoved(a("2001:db8:1::"), 48, R2),
            ]
        );
        assert_eq!(l.poll_at(), None);
        assert!(!l.is_on_link(&a("2001:db8::1")));
    }

    fn arb_pref() -> impl Strategy<Value = Preference> {
        (0u8..4).prop_map(Preference::from_bits)
    }

    fn arb_ra() -> impl Strategy<Value = (u8, RaInfo)> {
        let prefix =
            (any::<u128>(), 0u8..=130, any::<bool>(), any::<u32>()).prop_map(|(p, len, l, v)| {
                RaPrefix {
                    prefix: Ipv6Addr::from(p),
                    prefix_len: len,
                    on_link: l,
                    autonomous: true,
                    valid_lifetime: v % 4 * (v / 4 % 1000),
                    preferred_lifetime: 0,
                }
            });
        let route =
            (any::<u128>(), 0u8..=130, arb_pref(), any::<u32>()).prop_map(|(p, len, pref, v)| {
                RaRoute {
                    prefix: Ipv6Addr::from(p),
                    prefix_len: len,
                    preference: pref,
                    lifetime: if v % 7 == 0 { u32::MAX } else { v % 3 * 100 },
                }
            });
        (
            0u8..8,
            any::<u16>(),
            arb_pref(),
            proptest::collection::vec(prefix, 0..8),
            proptest::collection::vec(route, 0..8),
        )
            .prop_map(|(src, lt, pref, prefixes, routes)| {
                (
                    src,
                    RaInfo {
                        router_lifetime: lt % 3 * 500,
                        preference: pref,
                        prefixes,
                        routes,
                    },
                )
            })
    }

    proptest! {
        #[test]
        fn hostile_adverts_stay_bounded(
            steps in proptest::collection::vec((arb_ra(), 0u64..2000, any::<u128>(), any::<u8>()), 1..40)
        ) {
            let cfg = RouterListConfig { max_routers: 3, max_prefixes: 4, max_routes: 5, ..Default::default() };
            let mut l = RouterList::new(cfg);
            let mut now = Instant::ZERO;
            let (mut routers, mut prefixes, mut routes) = (0i64, 0i64, 0i64);
            for ((src, info), dt, dst, reach) in steps {
                now += Duration::from_secs(dt);
                let mut ev = vec![];
                let src = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, u16::from(src));
                l.on_router_advert(now, src, &info, &mut ev);
                l.poll(now, &mut ev);
                for e in &ev {
                    match e {
                        RouterEvent::RouterAdded(_) => routers += 1,
                        RouterEvent::RouterRemoved(_) => routers -= 1,
                        RouterEvent::PrefixAdded(..) => prefixes += 1,
                        RouterEvent::PrefixRemoved(..) => prefixes -= 1,
                        RouterEvent::RouteAdded(..) => routes += 1,
                        RouterEvent::RouteRemoved(..) => routes -= 1,
                        _ => {}
                    }
                }
                prop_assert!(l.routers().count() <= 3 && l.prefixes().count() <= 4 && l.routes().count() <= 5);
                prop_assert_eq!(routers, l.routers().count() as i64);
                prop_assert_eq!(prefixes, l.prefixes().count() as i64);
                prop_assert_eq!(routes, l.routes().count() as i64);
                prop_assert!(l.poll_at().is_none_or(|t| t > now));
                prop_assert!(l.routes().all(|r| r.preference != Preference::Reserved && r.prefix_len > 0));
                let dst = Ipv6Addr::from(dst);
                let chosen = l.choose_router(&dst, |x| match (x.segments()[7] as u8 ^ reach) % 3 {
                    0 => None,
                    1 => Some(true),
                    _ => Some(false),
                });
                let known: Vec<Ipv6Addr> = l.routers().map(|r| r.addr).chain(l.routes().map(|r| r.router)).collect();
                prop_assert_eq!(chosen.is_some(), l.routers().next().is_some() || l.routes().any(|r| covers(&r.prefix, r.prefix_len, &dst)));
                prop_assert!(chosen.is_none_or(|c| known.contains(&c)));
            }
        }
    }
}
