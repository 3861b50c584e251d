//! The Neighbor Cache of one interface and Neighbor Unreachability Detection (RFC 4861
//! §7.2 address resolution, §7.3 NUD, Appendix C). It owns, per neighbor: the
//! reachability state, the link-layer address, the IsRouter flag, the packets queued
//! while resolution is in progress, and the timers for solicitation retransmission,
//! DELAY and PROBE.
//!
//! It builds no packets. Every entry point appends [`NeighborAction`]s that the glue turns
//! into Neighbor Solicitations, frames, ICMPv6 errors and Default Router List updates.
//!
//! Limits (RFC 6583, Neighbor Cache exhaustion): at most `max_entries` entries; a new one
//! evicts first the oldest INCOMPLETE entry, then the least recently used STALE one;
//! REACHABLE, DELAY, PROBE and static entries are never evicted, and when nothing can go
//! the new entry is refused. Each INCOMPLETE entry queues at most
//! `max_queued_per_neighbor` packets, the oldest pushed out first (§7.2.2).
//!
//! Where Appendix C's table and the normative text of §7.2.5 differ, the text wins:
//! - an NA with Override clear and a different link-layer address moves a REACHABLE entry
//!   to STALE whatever its Solicited flag (§7.2.5 I.a; the table lists only Solicited=0);
//! - an NA without a Target Link-Layer Address option and with Solicited set confirms
//!   reachability (§7.2.5 II; §7.2.4 lets a unicast-solicited NA omit the option, so
//!   without this rule a NUD probe could never succeed).

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::mem::size_of;
use std::net::Ipv6Addr;

use crate::iface::LinkAddr;
use crate::time::{Duration, Instant};

/// Retransmissions are never scheduled closer than this, so that a RetransTimer of zero
/// cannot make `poll_at` return the instant just polled forever.
const MIN_RETRANS_TIMER: Duration = Duration::from_millis(1);

const REASON_QUEUE_FULL: &str = "address resolution queue full";
const REASON_CACHE_FULL: &str = "neighbor cache full";
const REASON_EVICTED: &str = "evicted from a full neighbor cache";
const REASON_NOT_UNICAST: &str = "not a unicast neighbor address";
const REASON_REMOVED: &str = "neighbor entry removed";
const REASON_LINK_DOWN: &str = "link down";

/// Protocol constants of RFC 4861 §10 and the cache's own limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeighborConfig {
    /// MAX_MULTICAST_SOLICIT (§10): solicitations sent while INCOMPLETE before resolution
    /// fails. At least one is always sent.
    pub max_multicast_solicit: u32,
    /// MAX_UNICAST_SOLICIT (§10): probes sent in PROBE before the entry is deleted. At
    /// least one is always sent.
    pub max_unicast_solicit: u32,
    /// DELAY_FIRST_PROBE_TIME (§10): time spent in DELAY before the first probe.
    pub delay_first_probe_time: Duration,
    /// Packets queued per INCOMPLETE entry (§7.2.2: "SHOULD be limited to some small
    /// value"); on overflow the oldest is dropped. Zero queues nothing. The default holds
    /// every fragment of one 64 KiB datagram on a 1280-byte link (54), as Linux's 64 KiB
    /// unres_qlen_bytes does, so the first large datagram to a new neighbor arrives whole.
    pub max_queued_per_neighbor: usize,
    /// Entries in the cache, static ones included (RFC 6583 §6.3).
    pub max_entries: usize,
}

impl Default for NeighborConfig {
    fn default() -> Self {
        Self {
            max_multicast_solicit: 3,
            max_unicast_solicit: 3,
            delay_first_probe_time: Duration::from_secs(5),
            max_queued_per_neighbor: 64,
            max_entries: 4096,
        }
    }
}

/// Reachability state (§7.3.2), plus `Static` for entries configured by hand, which
/// never change on their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NudState {
    Incomplete,
    Reachable,
    Stale,
    Delay,
    Probe,
    Static,
}

impl fmt::Display for NudState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NudState::Incomplete => "INCOMPLETE",
            NudState::Reachable => "REACHABLE",
            NudState::Stale => "STALE",
            NudState::Delay => "DELAY",
            NudState::Probe => "PROBE",
            NudState::Static => "STATIC",
        })
    }
}

/// One Neighbor Cache entry (§5.1). `lladdr` is `None` exactly in INCOMPLETE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neighbor {
    pub addr: Ipv6Addr,
    pub lladdr: Option<LinkAddr>,
    pub state: NudState,
    pub is_router: bool,
    /// INCOMPLETE, PROBE: next solicitation or failure. DELAY: first probe. REACHABLE:
    /// when it turns STALE. STALE: since when (the LRU key). Static: unused.
    timer: Instant,
    /// Solicitations sent in the current INCOMPLETE or PROBE episode.
    probes: u32,
}

impl Neighbor {
    /// When this entry next changes on its own, if it does.
    pub fn deadline(&self) -> Option<Instant> {
        match self.state {
            NudState::Incomplete | NudState::Reachable | NudState::Delay | NudState::Probe => {
                Some(self.timer)
            }
            NudState::Stale | NudState::Static => None,
        }
    }

    /// Solicitations sent so far while INCOMPLETE or in PROBE.
    pub fn probes_sent(&self) -> u32 {
        self.probes
    }
}

/// What the glue must do after a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NeighborAction {
    /// Send an NS for `target`: to its solicited-node multicast address when `unicast` is
    /// None (address resolution), else unicast to that link-layer address (NUD probe,
    /// §7.3.3).
    Solicit {
        target: Ipv6Addr,
        unicast: Option<LinkAddr>,
    },
    /// A packet may go now to `lladdr` (queued packets released on resolution, or
    /// immediate send).
    Send { lladdr: LinkAddr, packet: Vec<u8> },
    /// Resolution failed (§7.2.2): each of these packets deserves ICMPv6 Destination
    /// Unreachable code 3. Also emitted, with no packets, when NUD gives up in PROBE
    /// (§7.3.3) and the entry is deleted.
    Failed {
        addr: Ipv6Addr,
        packets: Vec<Vec<u8>>,
    },
    /// A queued packet pushed out by a newer one, a packet whose entry was evicted or
    /// removed, or a new entry refused because the table is full. `packet` is empty when
    /// the refused entry was learned from a message rather than asked for by a packet.
    Dropped {
        addr: Ipv6Addr,
        packet: Vec<u8>,
        reason: &'static str,
    },
    /// For events/logs: `from`/`to` None means created/removed.
    StateChanged {
        addr: Ipv6Addr,
        from: Option<NudState>,
        to: Option<NudState>,
    },
    /// §7.2.5, §7.3.3: the neighbor stopped being a router: remove it from the Default
    /// Router List and the Destination Cache entries that use it as a router.
    NoLongerRouter { addr: Ipv6Addr },
}

/// The cache stores each neighbor once, ordered and found by its address alone, so the
/// key is not stored a second time beside the value.
#[derive(Debug, Clone)]
struct Slot(Neighbor);

impl PartialEq for Slot {
    fn eq(&self, other: &Self) -> bool {
        self.0.addr == other.0.addr
    }
}
impl Eq for Slot {}
impl PartialOrd for Slot {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Slot {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.addr.cmp(&other.0.addr)
    }
}
impl Borrow<Ipv6Addr> for Slot {
    fn borrow(&self) -> &Ipv6Addr {
        &self.0.addr
    }
}

/// What only an INCOMPLETE entry has.
#[derive(Debug)]
struct Pending {
    created: Instant,
    queue: VecDeque<Vec<u8>>,
}

/// (instant, address) pairs ordered by time: the timer wheel and the eviction orders.
type TimeIndex = BTreeSet<(Instant, Ipv6Addr)>;

/// The Neighbor Cache of one interface. Bounded by [`NeighborConfig::max_entries`].
#[derive(Debug)]
pub struct NeighborCache {
    cfg: NeighborConfig,
    entries: BTreeSet<Slot>,
    // Every entry but a static one sits in exactly one of these three, under
    // (`timer`, addr), so poll, poll_at and eviction cost O(log n).
    /// INCOMPLETE, DELAY, PROBE: when the next solicitation (or failure) is due.
    timers: TimeIndex,
    /// REACHABLE: when it turns STALE.
    reachable: TimeIndex,
    /// STALE: since when, oldest first (the LRU order of eviction).
    stale: TimeIndex,
    /// INCOMPLETE only: creation time and queued packets.
    pending: BTreeMap<Ipv6Addr, Pending>,
    /// INCOMPLETE only, by creation (the first order of eviction).
    incomplete_age: TimeIndex,
}

impl NeighborCache {
    pub fn new(cfg: NeighborConfig) -> Self {
        Self {
            cfg,
            entries: BTreeSet::new(),
            timers: TimeIndex::new(),
            reachable: TimeIndex::new(),
            stale: TimeIndex::new(),
            pending: BTreeMap::new(),
            incomplete_age: TimeIndex::new(),
        }
    }

    /// Send `packet` (a whole IPv6 packet) to on-link `addr` (§7.2.2, §7.3.3: sending to
    /// STALE moves to DELAY). `retrans_timer` is the interface's current RetransTimer.
    pub fn send(
        &mut self,
        now: Instant,
        addr: Ipv6Addr,
        packet: Vec<u8>,
        retrans_timer: Duration,
        out: &mut Vec<NeighborAction>,
    ) {
        self.expire_reachable(now, out);
        if !is_neighbor_addr(&addr) {
            out.push(NeighborAction::Dropped {
                addr,
                packet,
                reason: REASON_NOT_UNICAST,
            });
            return;
        }
        let Some(mut n) = self.take(&addr) else {
            self.start_resolution(now, addr, packet, retrans_timer, out);
            return;
        };
        match (n.state, n.lladdr) {
            (NudState::Incomplete, _) | (_, None) => self.enqueue(addr, packet, out),
            (NudState::Stale, Some(lladdr)) => {
                // §7.3.3: the first packet to a STALE neighbor starts the delay timer.
                let at = now + self.cfg.delay_first_probe_time;
                transition(&mut n, NudState::Delay, at, out);
                out.push(NeighborAction::Send { lladdr, packet });
            }
            (_, Some(lladdr)) => out.push(NeighborAction::Send { lladdr, packet }),
        }
        self.put(n);
    }

    /// The fast path of [`send`](Self::send): the link-layer address to send a packet
    /// for `addr` to at once, when sending it changes nothing in the cache (a REACHABLE
    /// entry not yet due to turn STALE, DELAY, PROBE or static). `None`: call `send`.
    pub fn resolved(&self, now: Instant, addr: &Ipv6Addr) -> Option<LinkAddr> {
        if self.reachable.first().is_some_and(|&(at, _)| at <= now) {
            return None;
        }
        let n = &self.entries.get(addr)?.0;
        match n.state {
            NudState::Reachable | NudState::Delay | NudState::Probe | NudState::Static => n.lladdr,
            NudState::Incomplete | NudState::Stale => None,
        }
    }

    /// A link-layer address learned from an NS, RS, RA or Redirect (§7.2.3, §6.2.6,
    /// §6.3.4, §8.3): create a STALE entry or update one. `is_router`: `Some(true)` from
    /// an RA or a Redirect whose target is a router, `Some(false)` from an RS, `None`
    /// when the message says nothing (NS; Redirect to the destination itself): a new
    /// entry then starts as a host and an existing one keeps its flag.
    pub fn on_link_addr(
        &mut self,
        now: Instant,
        addr: Ipv6Addr,
        lladdr: LinkAddr,
        is_router: Option<bool>,
        out: &mut Vec<NeighborAction>,
    ) {
        self.expire_reachable(now, out);
        if !is_neighbor_addr(&addr) {
            return;
        }
        let Some(mut n) = self.take(&addr) else {
            if !self.make_room(out) {
                out.push(NeighborAction::Dropped {
                    addr,
                    packet: Vec::new(),
                    reason: REASON_CACHE_FULL,
                });
                return;
            }
            // §7.3.3: an entry created from anything but a solicited NA starts STALE.
            out.push(NeighborAction::StateChanged {
                addr,
                from: None,
                to: Some(NudState::Stale),
            });
            self.put(Neighbor {
                addr,
                lladdr: Some(lladdr),
                state: NudState::Stale,
                is_router: is_router.unwrap_or(false),
                timer: now,
                probes: 0,
            });
            return;
        };
        match n.state {
            NudState::Static => {
                if n.lladdr == Some(lladdr) {
                    set_router(&mut n, is_router, out);
                }
            }
            NudState::Incomplete => {
                n.lladdr = Some(lladdr);
                set_router(&mut n, is_router, out);
                transition(&mut n, NudState::Stale, now, out);
                if self.release(&addr, lladdr, out) {
                    // §7.3.3: those packets were sent to a STALE neighbor.
                    let at = now + self.cfg.delay_first_probe_time;
                    transition(&mut n, NudState::Delay, at, out);
                }
            }
            _ => {
                if n.lladdr != Some(lladdr) {
                    // §7.2.3, §6.3.4, §8.3: a changed address MUST make the entry STALE.
                    n.lladdr = Some(lladdr);
                    transition(&mut n, NudState::Stale, now, out);
                }
                set_router(&mut n, is_router, out);
            }
        }
        self.put(n);
    }

    /// Set the IsRouter flag of an existing entry from a message that carried no
    /// link-layer address: an RA (true, §6.3.4), an RS (false, §6.2.6), a Redirect whose
    /// target differs from its destination (true, §8.3). Creates nothing.
    pub fn set_is_router(
        &mut self,
        addr: &Ipv6Addr,
        is_router: bool,
        out: &mut Vec<NeighborAction>,
    ) {
        if let Some(mut n) = self.take(addr) {
            set_router(&mut n, Some(is_router), out);
            self.put(n);
        }
    }

    /// §7.2.5 Neighbor Advertisement for `target`. `lladdr` is its Target Link-Layer
    /// Address option; `router`, `solicited` and `override_flag` its R, S and O flags.
    #[allow(clippy::too_many_arguments)]
    pub fn on_advert(
        &mut self,
        now: Instant,
        target: Ipv6Addr,
        lladdr: Option<LinkAddr>,
        router: bool,
        solicited: bool,
        override_flag: bool,
        reachable_time: Duration,
        out: &mut Vec<NeighborAction>,
    ) {
        self.expire_reachable(now, out);
        // §7.2.5: with no entry, no communication was started: nothing to create.
        let Some(mut n) = self.take(&target) else {
            return;
        };
        match n.state {
            NudState::Static => {
                // Configured by hand: only the Router flag of a matching NA is taken.
                if lladdr.is_none() || lladdr == n.lladdr {
                    set_router(&mut n, Some(router), out);
                }
            }
            NudState::Incomplete => {
                // §7.2.5: our links have addresses, so an NA without one is discarded.
                if let Some(l) = lladdr {
                    n.lladdr = Some(l);
                    set_router(&mut n, Some(router), out);
                    if solicited {
                        transition(&mut n, NudState::Reachable, now + reachable_time, out);
                        self.release(&target, l, out);
                    } else {
                        transition(&mut n, NudState::Stale, now, out);
                        if self.release(&target, l, out) {
                            // §7.3.3: those packets were sent to a STALE neighbor.
                            let at = now + self.cfg.delay_first_probe_time;
                            transition(&mut n, NudState::Delay, at, out);
                        }
                    }
                }
            }
            NudState::Reachable | NudState::Stale | NudState::Delay | NudState::Probe => {
                let differs = matches!(lladdr, Some(l) if n.lladdr != Some(l));
                if !override_flag && differs {
                    // §7.2.5 I: a REACHABLE entry goes STALE but is not otherwise
                    // updated; in any other state the NA MUST NOT update the cache.
                    if n.state == NudState::Reachable {
                        transition(&mut n, NudState::Stale, now, out);
                    }
                } else {
                    // §7.2.5 II: Override set, same address, or no address: MUST update.
                    if differs {
                        n.lladdr = lladdr;
                    }
                    if solicited {
                        transition(&mut n, NudState::Reachable, now + reachable_time, out);
                    } else if differs {
                        transition(&mut n, NudState::Stale, now, out);
                    }
                    // §7.2.5: the IsRouter flag MUST follow the Router flag.
                    set_router(&mut n, Some(router), out);
                }
            }
        }
        self.put(n);
    }

    /// §7.3.1 forward progress confirmed by an upper layer (TCP ack, etc.). No effect on
    /// INCOMPLETE or static entries (§7.3.3).
    pub fn confirm_reachable(
        &mut self,
        now: Instant,
        addr: &Ipv6Addr,
        reachable_time: Duration,
        out: &mut Vec<NeighborAction>,
    ) {
        self.expire_reachable(now, out);
        let Some(mut n) = self.take(addr) else {
            return;
        };
        if matches!(
            n.state,
            NudState::Reachable | NudState::Stale | NudState::Delay | NudState::Probe
        ) {
            transition(&mut n, NudState::Reachable, now + reachable_time, out);
        }
        self.put(n);
    }

    /// Fire every timer due at or before `now`: REACHABLE entries age to STALE,
    /// solicitations are retransmitted, DELAY turns PROBE, resolution and NUD fail. Each
    /// entry moves at most one step per call, so a clock jump costs one pass.
    pub fn poll(&mut self, now: Instant, retrans_timer: Duration, out: &mut Vec<NeighborAction>) {
        self.expire_reachable(now, out);
        let retrans_timer = retrans_timer.max(MIN_RETRANS_TIMER);
        let due: Vec<Ipv6Addr> = self
            .timers
            .range(..=(now, Ipv6Addr::from(u128::MAX)))
            .map(|&(_, addr)| addr)
            .collect();
        for addr in due {
            let Some(mut n) = self.take(&addr) else {
                continue;
            };
            match n.state {
                NudState::Incomplete => {
                    if n.probes >= self.cfg.max_multicast_solicit {
                        // §7.2.2: resolution failed; each queued packet MUST get an
                        // ICMP Destination Unreachable (address unreachable).
                        let packets = self.discard_pending(&addr);
                        out.push(NeighborAction::Failed { addr, packets });
                        out.push(removed(&n));
                        continue;
                    }
                    // §7.2.2: retransmit every RetransTimer while awaiting an answer.
                    n.probes = n.probes.saturating_add(1);
                    n.timer = now + retrans_timer;
                    out.push(NeighborAction::Solicit {
                        target: addr,
                        unicast: None,
                    });
                }
                NudState::Delay => {
                    // §7.3.3: entering PROBE sends the first unicast probe.
                    transition(&mut n, NudState::Probe, now + retrans_timer, out);
                    n.probes = 1;
                    out.push(NeighborAction::Solicit {
                        target: addr,
                        unicast: n.lladdr,
                    });
                }
                NudState::Probe => {
                    if n.probes >= self.cfg.max_unicast_solicit {
                        // §7.3.3: no answer RetransTimer after the last probe: delete.
                        out.push(NeighborAction::Failed {
                            addr,
                            packets: Vec::new(),
                        });
                        out.push(removed(&n));
                        continue;
                    }
                    n.probes = n.probes.saturating_add(1);
                    n.timer = now + retrans_timer;
                    out.push(NeighborAction::Solicit {
                        target: addr,
                        unicast: n.lladdr,
                    });
                }
                NudState::Reachable | NudState::Stale | NudState::Static => {}
            }
            self.put(n);
        }
    }

    /// Add or replace a hand-configured entry. Packets queued for it are released to
    /// `lladdr`. When the table is full and nothing can be evicted, the entry is refused
    /// (a `Dropped` with an empty packet says so).
    pub fn insert_static(&mut self, addr: Ipv6Addr, lladdr: LinkAddr) -> Vec<NeighborAction> {
        let mut out = Vec::new();
        if !is_neighbor_addr(&addr) {
            return out;
        }
        if let Some(mut n) = self.take(&addr) {
            let was = n.state;
            n.lladdr = Some(lladdr);
            transition(&mut n, NudState::Static, Instant::ZERO, &mut out);
            if was == NudState::Incomplete {
                self.release(&addr, lladdr, &mut out);
            }
            self.put(n);
            return out;
        }
        if !self.make_room(&mut out) {
            out.push(NeighborAction::Dropped {
                addr,
                packet: Vec::new(),
                reason: REASON_CACHE_FULL,
            });
            return out;
        }
        out.push(NeighborAction::StateChanged {
            addr,
            from: None,
            to: Some(NudState::Static),
        });
        self.put(Neighbor {
            addr,
            lladdr: Some(lladdr),
            state: NudState::Static,
            is_router: false,
            timer: Instant::ZERO,
            probes: 0,
        });
        out
    }

    /// Delete one entry, static or not. Its queued packets are dropped.
    pub fn remove(&mut self, addr: &Ipv6Addr, out: &mut Vec<NeighborAction>) {
        self.drop_entry(addr, REASON_REMOVED, out);
    }

    /// The link went down: every learned entry goes, static ones stay.
    pub fn flush(&mut self, out: &mut Vec<NeighborAction>) {
        let learned: Vec<Ipv6Addr> = self
            .entries
            .iter()
            .filter(|s| s.0.state != NudState::Static)
            .map(|s| s.0.addr)
            .collect();
        for addr in learned {
            self.drop_entry(&addr, REASON_LINK_DOWN, out);
        }
    }

    pub fn config(&self) -> &NeighborConfig {
        &self.cfg
    }

    /// The entry as last updated: a REACHABLE entry whose time ran out shows REACHABLE
    /// until the next call that takes `now`.
    pub fn lookup(&self, addr: &Ipv6Addr) -> Option<&Neighbor> {
        self.entries.get(addr).map(|s| &s.0)
    }

    /// The packets waiting for `addr` to resolve, oldest first (the glue may take the
    /// source address of an NS from them, §7.2.2).
    pub fn queued(&self, addr: &Ipv6Addr) -> impl Iterator<Item = &[u8]> {
        self.pending
            .get(addr)
            .into_iter()
            .flat_map(|p| p.queue.iter().map(Vec::as_slice))
    }

    /// The next instant at which [`poll`](Self::poll) has something to do: a
    /// retransmission, DELAY turning PROBE, a failure, or a REACHABLE entry aging.
    pub fn poll_at(&self) -> Option<Instant> {
        let t = self.timers.first().map(|k| k.0);
        let r = self.reachable.first().map(|k| k.0);
        match (t, r) {
            (Some(t), Some(r)) => Some(t.min(r)),
            (t, r) => t.or(r),
        }
    }

    /// Every entry, in address order.
    pub fn iter(&self) -> impl Iterator<Item = &Neighbor> {
        self.entries.iter().map(|s| &s.0)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// An estimate of the heap the cache holds, queued packets included. B-tree nodes
    /// hold up to 11 elements and are assumed two-thirds full.
    pub fn approx_memory_bytes(&self) -> usize {
        let indexed =
            self.timers.len() + self.reachable.len() + self.stale.len() + self.incomplete_age.len();
        let queued: usize = self
            .pending
            .values()
            .map(|p| {
                p.queue.capacity() * size_of::<Vec<u8>>()
                    + p.queue.iter().map(Vec::capacity).sum::<usize>()
            })
            .sum();
        size_of::<Self>()
            + btree_bytes(self.entries.len(), size_of::<Slot>(), 0)
            + btree_bytes(indexed, size_of::<(Instant, Ipv6Addr)>(), 0)
            + btree_bytes(
                self.pending.len(),
                size_of::<Ipv6Addr>(),
                size_of::<Pending>(),
            )
            + queued
    }

    fn index_mut(&mut self, state: NudState) -> Option<&mut TimeIndex> {
        match state {
            NudState::Incomplete | NudState::Delay | NudState::Probe => Some(&mut self.timers),
            NudState::Reachable => Some(&mut self.reachable),
            NudState::Stale => Some(&mut self.stale),
            NudState::Static => None,
        }
    }

    /// Take an entry out of the table and its time index; [`put`](Self::put) it back
    /// after changing it, so the index always follows `state` and `timer`.
    fn take(&mut self, addr: &Ipv6Addr) -> Option<Neighbor> {
        let Slot(n) = self.entries.take(addr)?;
        if let Some(index) = self.index_mut(n.state) {
            index.remove(&(n.timer, n.addr));
        }
        Some(n)
    }

    fn put(&mut self, n: Neighbor) {
        if let Some(index) = self.index_mut(n.state) {
            index.insert((n.timer, n.addr));
        }
        self.entries.insert(Slot(n));
    }

    /// REACHABLE entries whose ReachableTime has passed become STALE (§7.3.3), stale
    /// since the moment they expired.
    fn expire_reachable(&mut self, now: Instant, out: &mut Vec<NeighborAction>) {
        while let Some(&(at, addr)) = self.reachable.first() {
            if at > now {
                break;
            }
            // Popped before anything else, so the loop ends whatever the entry holds.
            self.reachable.pop_first();
            if let Some(mut n) = self.take(&addr) {
                if n.state == NudState::Reachable {
                    transition(&mut n, NudState::Stale, at, out);
                }
                self.put(n);
            }
        }
    }

    /// §7.2.2: create an INCOMPLETE entry, queue the packet, send the first NS.
    fn start_resolution(
        &mut self,
        now: Instant,
        addr: Ipv6Addr,
        packet: Vec<u8>,
        retrans_timer: Duration,
        out: &mut Vec<NeighborAction>,
    ) {
        if !self.make_room(out) {
            out.push(NeighborAction::Dropped {
                addr,
                packet,
                reason: REASON_CACHE_FULL,
            });
            return;
        }
        out.push(NeighborAction::StateChanged {
            addr,
            from: None,
            to: Some(NudState::Incomplete),
        });
        self.pending.insert(
            addr,
            Pending {
                created: now,
                queue: VecDeque::new(),
            },
        );
        self.incomplete_age.insert((now, addr));
        self.enqueue(addr, packet, out);
        self.put(Neighbor {
            addr,
            lladdr: None,
            state: NudState::Incomplete,
            is_router: false,
            timer: now + retrans_timer.max(MIN_RETRANS_TIMER),
            probes: 1,
        });
        out.push(NeighborAction::Solicit {
            target: addr,
            unicast: None,
        });
    }

    /// §7.2.2: when the queue overflows, the new arrival SHOULD replace the oldest.
    fn enqueue(&mut self, addr: Ipv6Addr, packet: Vec<u8>, out: &mut Vec<NeighborAction>) {
        let max = self.cfg.max_queued_per_neighbor;
        let Some(p) = self.pending.get_mut(&addr).filter(|_| max > 0) else {
            out.push(NeighborAction::Dropped {
                addr,
                packet,
                reason: REASON_QUEUE_FULL,
            });
            return;
        };
        while p.queue.len() >= max {
            let Some(oldest) = p.queue.pop_front() else {
                break;
            };
            out.push(NeighborAction::Dropped {
                addr,
                packet: oldest,
                reason: REASON_QUEUE_FULL,
            });
        }
        p.queue.push_back(packet);
    }

    /// Resolution done: hand the queued packets over. True when there were some.
    fn release(
        &mut self,
        addr: &Ipv6Addr,
        lladdr: LinkAddr,
        out: &mut Vec<NeighborAction>,
    ) -> bool {
        let packets = self.discard_pending(addr);
        let any = !packets.is_empty();
        out.extend(
            packets
                .into_iter()
                .map(|packet| NeighborAction::Send { lladdr, packet }),
        );
        any
    }

    fn discard_pending(&mut self, addr: &Ipv6Addr) -> Vec<Vec<u8>> {
        match self.pending.remove(addr) {
            Some(p) => {
                self.incomplete_age.remove(&(p.created, *addr));
                p.queue.into()
            }
            None => Vec::new(),
        }
    }

    fn drop_entry(&mut self, addr: &Ipv6Addr, reason: &'static str, out: &mut Vec<NeighborAction>) {
        let packets = self.discard_pending(addr);
        out.extend(packets.into_iter().map(|packet| NeighborAction::Dropped {
            addr: *addr,
            packet,
            reason,
        }));
        if let Some(n) = self.take(addr) {
            out.push(removed(&n));
        }
    }

    /// Make room for one more entry: evict the oldest INCOMPLETE entry, else the least
    /// recently used STALE one (RFC 6583 §6.3). False when nothing may be evicted.
    fn make_room(&mut self, out: &mut Vec<NeighborAction>) -> bool {
        while self.entries.len() >= self.cfg.max_entries {
            // Each turn pops a key, so the loop ends even if an index were out of step.
            let victim = match self.incomplete_age.pop_first() {
                Some((_, addr)) => addr,
                None => match self.stale.pop_first() {
                    Some((_, addr)) => addr,
                    None => return false,
                },
            };
            self.drop_entry(&victim, REASON_EVICTED, out);
        }
        true
    }
}

impl Default for NeighborCache {
    fn default() -> Self {
        Self::new(NeighborConfig::default())
    }
}

/// Only unicast addresses are resolved; multicast ones map to link addresses directly.
fn is_neighbor_addr(addr: &Ipv6Addr) -> bool {
    !addr.is_multicast() && !addr.is_unspecified()
}

fn transition(n: &mut Neighbor, to: NudState, timer: Instant, out: &mut Vec<NeighborAction>) {
    if n.state != to {
        out.push(NeighborAction::StateChanged {
            addr: n.addr,
            from: Some(n.state),
            to: Some(to),
        });
        n.state = to;
        n.probes = 0;
    }
    n.timer = timer;
}

fn removed(n: &Neighbor) -> NeighborAction {
    NeighborAction::StateChanged {
        addr: n.addr,
        from: Some(n.state),
        to: None,
    }
}

/// §7.3.3: a router turning host MUST leave the Default Router List.
fn set_router(n: &mut Neighbor, is_router: Option<bool>, out: &mut Vec<NeighborAction>) {
    let Some(is_router) = is_router else {
        return;
    };
    if n.is_router && !is_router {
        out.push(NeighborAction::NoLongerRouter { addr: n.addr });
    }
    n.is_router = is_router;
}

/// Heap of a B-tree of `len` elements of `key + val` bytes, nodes two-thirds full, plus
/// one internal node per seven leaves.
fn btree_bytes(len: usize, key: usize, val: usize) -> usize {
    const CAPACITY: usize = 11;
    const HEADER: usize = 16;
    let leaf = HEADER + CAPACITY * (key + val);
    let leaves = len.div_ceil(CAPACITY * 2 / 3);
    let internal = leaves / 7;
    leaves * leaf + internal * (leaf + (CAPACITY + 1) * size_of::<usize>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sixstack_wire::addr::EthernetAddress;

    const RT: Duration = Duration::from_secs(1);
    const REACH: Duration = Duration::from_secs(30);

    fn ip(n: u16) -> Ipv6Addr {
        Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, n)
    }
    fn mac(n: u8) -> LinkAddr {
        LinkAddr::Mac(EthernetAddress([2, 0, 0, 0, 0, n]))
    }
    fn t(secs: u64) -> Instant {
        Instant::from_secs(secs)
    }
    fn ms(millis: u64) -> Instant {
        Instant::from_millis(millis)
    }
    fn pkt(n: u8) -> Vec<u8> {
        vec![0x60, n]
    }
    fn state(c: &NeighborCache, a: Ipv6Addr) -> Option<NudState> {
        c.lookup(&a).map(|n| n.state)
    }
    fn changed(addr: Ipv6Addr, from: Option<NudState>, to: Option<NudState>) -> NeighborAction {
        NeighborAction::StateChanged { addr, from, to }
    }
    fn solicits(out: &[NeighborAction]) -> Vec<Option<LinkAddr>> {
        out.iter()
            .filter_map(|a| match a {
                NeighborAction::Solicit { unicast, .. } => Some(*unicast),
                _ => None,
            })
            .collect()
    }

    /// An entry in `want` state with link-layer address mac(1), built through the API.
    fn cache_with(want: NudState) -> NeighborCache {
        let mut c = NeighborCache::default();
        let mut out = Vec::new();
        let a = ip(1);
        match want {
            NudState::Incomplete => c.send(t(0), a, pkt(1), RT, &mut out),
            NudState::Stale => c.on_link_addr(t(0), a, mac(1), None, &mut out),
            NudState::Reachable => {
                c.send(t(0), a, pkt(1), RT, &mut out);
                c.on_advert(t(0), a, Some(mac(1)), false, true, true, REACH, &mut out);
            }
            NudState::Delay => {
                c.on_link_addr(t(0), a, mac(1), None, &mut out);
                c.send(t(0), a, pkt(1), RT, &mut out);
            }
            NudState::Probe => {
                c.on_link_addr(t(0), a, mac(1), None, &mut out);
                c.send(t(0), a, pkt(1), RT, &mut out);
                c.poll(t(5), RT, &mut out);
            }
            NudState::Static => {
                let _ = c.insert_static(a, mac(1));
            }
        }
        assert_eq!(state(&c, a), Some(want));
        c.check();
        c
    }

    impl NeighborCache {
        /// Every index agrees with the entries, and the limits hold.
        fn check(&self) {
            assert!(self.entries.len() <= self.cfg.max_entries);
            let mut timers = 0;
            let mut reachable = 0;
            let mut stale = 0;
            for n in self.iter() {
                let key = (n.timer, n.addr);
                match n.state {
                    NudState::Incomplete => {
                        assert!(n.lladdr.is_none());
                        let p = self.pending.get(&n.addr).expect("INCOMPLETE has a queue");
                        assert!(p.queue.len() <= self.cfg.max_queued_per_neighbor);
                        assert!(self.incomplete_age.contains(&(p.created, n.addr)));
                        assert!(self.timers.contains(&key));
                        timers += 1;
                    }
                    NudState::Delay | NudState::Probe => {
                        assert!(n.lladdr.is_some());
                        assert!(self.timers.contains(&key));
                        timers += 1;
                    }
                    NudState::Reachable => {
                        assert!(n.lladdr.is_some());
                        assert!(self.reachable.contains(&key));
                        reachable += 1;
                    }
                    NudState::Stale => {
                        assert!(n.lladdr.is_some());
                        assert!(self.stale.contains(&key));
                        stale += 1;
                    }
                    NudState::Static => assert!(n.lladdr.is_some()),
                }
            }
            assert_eq!(self.timers.len(), timers);
            assert_eq!(self.reachable.len(), reachable);
            assert_eq!(self.stale.len(), stale);
            assert_eq!(self.pending.len(), self.incomplete_age.len());
            assert!(
                self.pending
                    .keys()
                    .all(|a| state(self, *a) == Some(NudState::Incomplete))
            );
        }
    }

    // ---- Appendix C, first table: packets to send, NA, timers ----

    #[test]
    fn rfc4861_appendix_c_none_packet_to_send_creates_incomplete() {
        let mut c = NeighborCache::default();
        let mut out = Vec::new();
        c.send(t(0), ip(1), pkt(1), RT, &mut out);
        assert_eq!(
            out,
            vec![
                changed(ip(1), None, Some(NudState::Incomplete)),
                NeighborAction::Solicit {
                    target: ip(1),
                    unicast: None
                },
            ]
        );
        let n = c.lookup(&ip(1)).unwrap();
        assert_eq!((n.lladdr, n.is_router, n.probes_sent()), (None, false, 1));
        assert_eq!(c.queued(&ip(1)).collect::<Vec<_>>(), vec![&pkt(1)[..]]);
        assert_eq!(c.poll_at(), Some(t(1)));
        c.check();
    }

    #[test]
    fn rfc4861_7_2_2_incomplete_retransmits_every_retrans_timer_rate_limited() {
        let mut c = cache_with(NudState::Incomplete);
        let mut out = Vec::new();
        // More traffic does not send more solicitations (MUST rate-limit).
        c.send(ms(500), ip(1), pkt(2), RT, &mut out);
        assert!(solicits(&out).is_empty());
        c.poll(ms(999), RT, &mut out);
        assert!(out.is_empty());
        c.poll(t(1), RT, &mut out);
        assert_eq!(
            out,
            vec![NeighborAction::Solicit {
                target: ip(1),
                unicast: None
            }]
        );
        assert_eq!(c.poll_at(), Some(t(2)));
        assert_eq!(state(&c, ip(1)), Some(NudState::Incomplete));
        c.check();
    }

    #[test]
    fn rfc4861_7_2_2_incomplete_fails_after_max_multicast_solicit() {
        let mut c = cache_with(NudState::Incomplete);
        let mut out = Vec::new();
        c.send(ms(100), ip(1), pkt(2), RT, &mut out);
        c.poll(t(1), RT, &mut out);
        c.poll(t(2), RT, &mut out);
        // Three solicitations in all, counting the first one.
        assert_eq!(solicits(&out), vec![None, None]);
        assert_eq!(c.poll_at(), Some(t(3)));
        out.clear();
        c.poll(t(3), RT, &mut out);
        assert_eq!(
            out,
            vec![
                NeighborAction::Failed {
                    addr: ip(1),
                    packets: vec![pkt(1), pkt(2)]
                },
                changed(ip(1), Some(NudState::Incomplete), None),
            ]
        );
        assert!(c.is_empty());
        assert_eq!(c.poll_at(), None);
        c.check();
    }

    #[test]
    fn rfc4861_7_2_2_queue_overflow_drops_oldest() {
        let mut c = NeighborCache::new(NeighborConfig {
            max_queued_per_neighbor: 3,
            ..NeighborConfig::default()
        });
        let mut out = Vec::new();
        c.send(t(0), ip(1), pkt(1), RT, &mut out);
        out.clear();
        c.send(t(0), ip(1), pkt(2), RT, &mut out);
        c.send(t(0), ip(1), pkt(3), RT, &mut out);
        assert!(out.is_empty());
        c.send(t(0), ip(1), pkt(4), RT, &mut out);
        assert_eq!(
            out,
            vec![NeighborAction::Dropped {
                addr: ip(1),
                packet: pkt(1),
                reason: REASON_QUEUE_FULL
            }]
        );
        assert_eq!(
            c.queued(&ip(1)).collect::<Vec<_>>(),
            vec![&pkt(2)[..], &pkt(3)[..], &pkt(4)[..]]
        );
        c.check();
    }

    #[test]
    fn rfc4861_7_2_5_incomplete_unsolicited_na_to_stale_then_delay_with_queue() {
        let mut c = cache_with(NudState::Incomplete);
        let mut out = Vec::new();
        c.on_advert(
            t(0),
            ip(1),
            Some(mac(1)),
            false,
            false,
            false,
            REACH,
            &mut out,
        );
        assert_eq!(
            out,
            vec![
                changed(ip(1), Some(NudState::Incomplete), Some(NudState::Stale)),
                NeighborAction::Send {
                    lladdr: mac(1),
                    packet: pkt(1)
                },
                // §7.3.3: the released packet was sent to a STALE neighbor.
                changed(ip(1), Some(NudState::Stale), Some(NudState::Delay)),
            ]
        );
        assert_eq!(c.lookup(&ip(1)).unwrap().lladdr, Some(mac(1)));
        assert_eq!(c.queued(&ip(1)).count(), 0);
        c.check();
    }

    #[test]
    fn rfc4861_7_2_5_incomplete_solicited_na_to_reachable_sends_queued() {
        let mut c = cache_with(NudState::Incomplete);
        let mut out = Vec::new();
        c.send(t(0), ip(1), pkt(2), RT, &mut out);
        c.on_advert(
            t(0),
            ip(1),
            Some(mac(1)),
            true,
            true,
            false,
            REACH,
            &mut out,
        );
        assert_eq!(
            out,
            vec![
                changed(ip(1), Some(NudState::Incomplete), Some(NudState::Reachable)),
                NeighborAction::Send {
                    lladdr: mac(1),
                    packet: pkt(1)
                },
                NeighborAction::Send {
                    lladdr: mac(1),
                    packet: pkt(2)
                },
            ]
        );
        let n = c.lookup(&ip(1)).unwrap();
        assert!(n.is_router);
        assert_eq!(n.deadline(), Some(t(30)));
        c.check();
    }

    #[test]
    fn rfc4861_7_2_5_incomplete_na_without_lladdr_discarded() {
        let mut c = cache_with(NudState::Incomplete);
        let mut out = Vec::new();
        c.on_advert(t(0), ip(1), None, true, true, true, REACH, &mut out);
        assert!(out.is_empty());
        let n = c.lookup(&ip(1)).unwrap();
        assert_eq!((n.state, n.is_router), (NudState::Incomplete, false));
        assert_eq!(c.queued(&ip(1)).count(), 1);
        c.check();
    }

    #[test]
    fn rfc4861_7_2_5_na_without_entry_creates_nothing() {
        let mut c = NeighborCache::default();
        let mut out = Vec::new();
        c.on_advert(
            t(0),
            ip(1),
            Some(mac(1)),
            true,
            false,
            true,
            REACH,
            &mut out,
        );
        assert!(out.is_empty());
        assert!(c.is_empty());
    }

    #[test]
    fn rfc4861_7_2_5_solicited_no_override_same_lladdr_to_reachable() {
        for from in [
            NudState::Stale,
            NudState::Delay,
            NudState::Probe,
            NudState::Reachable,
        ] {
            let mut c = cache_with(from);
            let mut out = Vec::new();
            c.on_advert(
                t(6),
                ip(1),
                Some(mac(1)),
                false,
                true,
                false,
                REACH,
                &mut out,
            );
            let n = c.lookup(&ip(1)).unwrap();
            assert_eq!(n.state, NudState::Reachable, "from {from}");
            assert_eq!(n.deadline(), Some(t(36)));
            if from != NudState::Reachable {
                assert_eq!(
                    out,
                    vec![changed(ip(1), Some(from), Some(NudState::Reachable))]
                );
            }
            c.check();
        }
    }

    #[test]
    fn rfc4861_7_2_5_na_without_lladdr_updates_is_router_only() {
        for from in [
            NudState::Stale,
            NudState::Delay,
            NudState::Probe,
            NudState::Reachable,
        ] {
            let mut c = cache_with(from);
            let mut out = Vec::new();
            c.on_advert(t(6), ip(1), None, true, false, false, REACH, &mut out);
            let n = c.lookup(&ip(1)).unwrap();
            assert_eq!((n.state, n.lladdr, n.is_router), (from, Some(mac(1)), true));
            assert!(out.is_empty(), "from {from}: {out:?}");
            c.check();
        }
    }

    #[test]
    fn rfc4861_7_2_5_solicited_na_without_lladdr_answers_a_probe() {
        // §7.2.4 lets a unicast-solicited NA omit the option; §7.2.5 II then confirms.
        let mut c = cache_with(NudState::Probe);
        let mut out = Vec::new();
        c.on_advert(t(6), ip(1), None, false, true, false, REACH, &mut out);
        assert_eq!(
            out,
            vec![changed(
                ip(1),
                Some(NudState::Probe),
                Some(NudState::Reachable)
            )]
        );
        assert_eq!(c.lookup(&ip(1)).unwrap().lladdr, Some(mac(1)));
        assert_eq!(c.poll_at(), Some(t(36)));
        c.check();
    }

    #[test]
    fn rfc4861_7_2_5_solicited_no_override_different_lladdr_ignored() {
        for from in [NudState::Stale, NudState::Delay, NudState::Probe] {
            let mut c = cache_with(from);
            let before = c.lookup(&ip(1)).unwrap().clone();
            let mut out = Vec::new();
            c.on_advert(
                t(6),
                ip(1),
                Some(mac(2)),
                true,
                true,
                false,
                REACH,
                &mut out,
            );
            assert!(out.is_empty());
            assert_eq!(c.lookup(&ip(1)), Some(&before), "from {from}");
            c.check();
        }
    }

    #[test]
    fn rfc4861_7_2_5_unsolicited_no_override_same_lladdr_unchanged() {
        for from in [
            NudState::Stale,
            NudState::Delay,
            NudState::Probe,
            NudState::Reachable,
        ] {
            let mut c = cache_with(from);
            let before = c.lookup(&ip(1)).unwrap().clone();
            let mut out = Vec::new();
            c.on_advert(
                t(1),
                ip(1),
                Some(mac(1)),
                false,
                false,
                false,
                REACH,
                &mut out,
            );
            assert!(out.is_empty());
            assert_eq!(c.lookup(&ip(1)), Some(&before), "from {from}");
            c.check();
        }
    }

    #[test]
    fn rfc4861_7_2_5_reachable_no_override_different_lladdr_to_stale() {
        for solicited in [false, true] {
            let mut c = cache_with(NudState::Reachable);
            let mut out = Vec::new();
            c.on_advert(
                t(1),
                ip(1),
                Some(mac(2)),
                true,
                solicited,
                false,
                REACH,
                &mut out,
            );
            assert_eq!(
                out,
                vec![changed(
                    ip(1),
                    Some(NudState::Reachable),
                    Some(NudState::Stale)
                )]
            );
            // "but do not update the entry in any other way"
            let n = c.lookup(&ip(1)).unwrap();
            assert_eq!((n.lladdr, n.is_router), (Some(mac(1)), false));
            c.check();
        }
    }

    #[test]
    fn rfc4861_7_2_5_solicited_override_records_lladdr_to_reachable() {
        for from in [
            NudState::Stale,
            NudState::Delay,
            NudState::Probe,
            NudState::Reachable,
        ] {
            let mut c = cache_with(from);
            let mut out = Vec::new();
            c.on_advert(
                t(6),
                ip(1),
                Some(mac(2)),
                false,
                true,
                true,
                REACH,
                &mut out,
            );
            let n = c.lookup(&ip(1)).unwrap();
            assert_eq!(
                (n.state, n.lladdr),
                (NudState::Reachable, Some(mac(2))),
                "from {from}"
            );
            c.check();
        }
    }

    #[test]
    fn rfc4861_7_2_5_unsolicited_override_same_lladdr_unchanged() {
        for from in [
            NudState::Stale,
            NudState::Delay,
            NudState::Probe,
            NudState::Reachable,
        ] {
            let mut c = cache_with(from);
            let mut out = Vec::new();
            c.on_advert(
                t(1),
                ip(1),
                Some(mac(1)),
                false,
                false,
                true,
                REACH,
                &mut out,
            );
            assert!(out.is_empty());
            assert_eq!(state(&c, ip(1)), Some(from));
            c.check();
        }
    }

    #[test]
    fn rfc4861_7_2_5_unsolicited_override_different_lladdr_to_stale() {
        for from in [
            NudState::Delay,
            NudState::Probe,
            NudState::Reachable,
            NudState::Stale,
        ] {
            let mut c = cache_with(from);
            let mut out = Vec::new();
            c.on_advert(
                t(6),
                ip(1),
                Some(mac(2)),
                false,
                false,
                true,
                REACH,
                &mut out,
            );
            let n = c.lookup(&ip(1)).unwrap();
            assert_eq!(
                (n.state, n.lladdr),
                (NudState::Stale, Some(mac(2))),
                "from {from}"
            );
            assert!(solicits(&out).is_empty());
            c.check();
        }
    }

    #[test]
    fn rfc4861_7_2_5_router_flag_cleared_leaves_default_router_list() {
        let mut c = NeighborCache::default();
        let mut out = Vec::new();
        c.on_link_addr(t(0), ip(1), mac(1), Some(true), &mut out);
        out.clear();
        c.on_advert(
            t(1),
            ip(1),
            Some(mac(1)),
            false,
            false,
            false,
            REACH,
            &mut out,
        );
        assert_eq!(out, vec![NeighborAction::NoLongerRouter { addr: ip(1) }]);
        assert!(!c.lookup(&ip(1)).unwrap().is_router);
        // An NA that is ignored (O=0, other address) does not touch the flag.
        c.set_is_router(&ip(1), true, &mut out);
        out.clear();
        c.on_advert(
            t(2),
            ip(1),
            Some(mac(2)),
            false,
            false,
            false,
            REACH,
            &mut out,
        );
        assert!(out.is_empty());
        assert!(c.lookup(&ip(1)).unwrap().is_router);
    }

    #[test]
    fn rfc4861_7_3_1_upper_layer_confirmation_to_reachable() {
        for from in [
            NudState::Stale,
            NudState::Delay,
            NudState::Probe,
            NudState::Reachable,
        ] {
            let mut c = cache_with(from);
            let mut out = Vec::new();
            c.confirm_reachable(t(6), &ip(1), REACH, &mut out);
            assert_eq!(state(&c, ip(1)), Some(NudState::Reachable));
            assert_eq!(c.poll_at(), Some(t(36)), "from {from}");
            c.check();
        }
    }

    #[test]
    fn rfc4861_7_3_3_upper_layer_confirmation_ignored_in_incomplete_and_static() {
        for from in [NudState::Incomplete, NudState::Static] {
            let mut c = cache_with(from);
            let mut out = Vec::new();
            c.confirm_reachable(t(0), &ip(1), REACH, &mut out);
            assert!(out.is_empty());
            assert_eq!(state(&c, ip(1)), Some(from));
        }
    }

    #[test]
    fn rfc4861_7_3_3_reachable_times_out_to_stale() {
        let mut c = cache_with(NudState::Reachable);
        let mut out = Vec::new();
        assert_eq!(c.poll_at(), Some(t(30)));
        c.poll(ms(29_999), RT, &mut out);
        assert!(out.is_empty());
        c.poll(t(30), RT, &mut out);
        assert_eq!(
            out,
            vec![changed(
                ip(1),
                Some(NudState::Reachable),
                Some(NudState::Stale)
            )]
        );
        assert_eq!(c.poll_at(), None);
        c.check();
    }

    #[test]
    fn rfc4861_7_3_3_reachable_expiry_seen_by_send_without_poll() {
        let mut c = cache_with(NudState::Reachable);
        let mut out = Vec::new();
        c.send(t(31), ip(1), pkt(9), RT, &mut out);
        assert_eq!(
            out,
            vec![
                changed(ip(1), Some(NudState::Reachable), Some(NudState::Stale)),
                changed(ip(1), Some(NudState::Stale), Some(NudState::Delay)),
                NeighborAction::Send {
                    lladdr: mac(1),
                    packet: pkt(9)
                },
            ]
        );
        assert_eq!(c.poll_at(), Some(t(36)));
    }

    #[test]
    fn rfc4861_7_3_3_stale_to_delay_on_send() {
        let mut c = cache_with(NudState::Stale);
        let mut out = Vec::new();
        c.send(t(10), ip(1), pkt(1), RT, &mut out);
        assert_eq!(
            out,
            vec![
                changed(ip(1), Some(NudState::Stale), Some(NudState::Delay)),
                NeighborAction::Send {
                    lladdr: mac(1),
                    packet: pkt(1)
                },
            ]
        );
        assert_eq!(c.poll_at(), Some(t(15)));
        // More packets in DELAY go straight out and do not restart the timer.
        out.clear();
        c.send(t(12), ip(1), pkt(2), RT, &mut out);
        assert_eq!(
            out,
            vec![NeighborAction::Send {
                lladdr: mac(1),
                packet: pkt(2)
            }]
        );
        assert_eq!(c.poll_at(), Some(t(15)));
        c.check();
    }

    #[test]
    fn rfc4861_7_3_3_send_in_reachable_probe_static_goes_out() {
        for from in [NudState::Reachable, NudState::Probe, NudState::Static] {
            let mut c = cache_with(from);
            let mut out = Vec::new();
            c.send(t(6), ip(1), pkt(7), RT, &mut out);
            assert_eq!(
                out,
                vec![NeighborAction::Send {
                    lladdr: mac(1),
                    packet: pkt(7)
                }]
            );
            assert_eq!(state(&c, ip(1)), Some(from));
        }
    }

    #[test]
    fn rfc4861_7_3_3_delay_to_probe_sends_unicast_ns() {
        let mut c = cache_with(NudState::Delay);
        let mut out = Vec::new();
        assert_eq!(c.poll_at(), Some(t(5)));
        c.poll(ms(4_999), RT, &mut out);
        assert!(out.is_empty());
        c.poll(t(5), RT, &mut out);
        assert_eq!(
            out,
            vec![
                changed(ip(1), Some(NudState::Delay), Some(NudState::Probe)),
                NeighborAction::Solicit {
                    target: ip(1),
                    unicast: Some(mac(1))
                },
            ]
        );
        assert_eq!(c.poll_at(), Some(t(6)));
        c.check();
    }

    #[test]
    fn rfc4861_7_3_3_delay_confirmed_never_probes() {
        let mut c = cache_with(NudState::Delay);
        let mut out = Vec::new();
        c.confirm_reachable(t(2), &ip(1), REACH, &mut out);
        c.poll(t(5), RT, &mut out);
        assert!(solicits(&out).is_empty());
        assert_eq!(state(&c, ip(1)), Some(NudState::Reachable));
    }

    #[test]
    fn rfc4861_7_3_3_probe_retransmits_then_deletes() {
        let mut c = cache_with(NudState::Probe); // first probe at 5 s
        let mut out = Vec::new();
        c.poll(t(6), RT, &mut out);
        c.poll(t(7), RT, &mut out);
        assert_eq!(solicits(&out), vec![Some(mac(1)), Some(mac(1))]);
        assert_eq!(c.lookup(&ip(1)).unwrap().probes_sent(), 3);
        out.clear();
        c.poll(t(8), RT, &mut out);
        assert_eq!(
            out,
            vec![
                NeighborAction::Failed {
                    addr: ip(1),
                    packets: vec![]
                },
                changed(ip(1), Some(NudState::Probe), None),
            ]
        );
        assert!(c.is_empty());
        // §7.3.3: later traffic starts address resolution afresh.
        out.clear();
        c.send(t(9), ip(1), pkt(1), RT, &mut out);
        assert_eq!(solicits(&out), vec![None]);
        c.check();
    }

    // ---- Appendix C, second table: NS, RS, RA, Redirect ----

    #[test]
    fn rfc4861_7_2_3_ns_creates_stale_entry_as_host() {
        let mut c = NeighborCache::default();
        let mut out = Vec::new();
        c.on_link_addr(t(0), ip(1), mac(1), None, &mut out);
        assert_eq!(out, vec![changed(ip(1), None, Some(NudState::Stale))]);
        let n = c.lookup(&ip(1)).unwrap();
        assert_eq!((n.lladdr, n.is_router), (Some(mac(1)), false));
        assert_eq!(c.poll_at(), None);
        c.check();
    }

    #[test]
    fn rfc4861_7_2_3_incomplete_ns_records_lladdr_and_sends_queued() {
        let mut c = cache_with(NudState::Incomplete);
        let mut out = Vec::new();
        c.on_link_addr(t(0), ip(1), mac(1), None, &mut out);
        assert_eq!(
            out,
            vec![
                changed(ip(1), Some(NudState::Incomplete), Some(NudState::Stale)),
                NeighborAction::Send {
                    lladdr: mac(1),
                    packet: pkt(1)
                },
                changed(ip(1), Some(NudState::Stale), Some(NudState::Delay)),
            ]
        );
        c.check();
    }

    #[test]
    fn rfc4861_7_2_3_different_lladdr_to_stale() {
        for from in [
            NudState::Reachable,
            NudState::Delay,
            NudState::Probe,
            NudState::Stale,
        ] {
            let mut c = cache_with(from);
            let mut out = Vec::new();
            c.on_link_addr(t(6), ip(1), mac(2), None, &mut out);
            let n = c.lookup(&ip(1)).unwrap();
            assert_eq!(
                (n.state, n.lladdr),
                (NudState::Stale, Some(mac(2))),
                "from {from}"
            );
            c.check();
        }
    }

    #[test]
    fn rfc4861_7_2_3_same_lladdr_unchanged() {
        for from in [
            NudState::Reachable,
            NudState::Delay,
            NudState::Probe,
            NudState::Stale,
        ] {
            let mut c = cache_with(from);
            let before = c.lookup(&ip(1)).unwrap().clone();
            let mut out = Vec::new();
            c.on_link_addr(t(6), ip(1), mac(1), None, &mut out);
            assert!(out.is_empty());
            assert_eq!(c.lookup(&ip(1)), Some(&before), "from {from}");
        }
    }

    #[test]
    fn rfc4861_6_3_4_ra_marks_router_and_6_2_6_rs_clears_it() {
        let mut c = NeighborCache::default();
        let mut out = Vec::new();
        c.on_link_addr(t(0), ip(1), mac(1), Some(true), &mut out);
        assert!(c.lookup(&ip(1)).unwrap().is_router);
        // §7.2.3: an NS MUST NOT modify the flag of an existing entry.
        c.on_link_addr(t(1), ip(1), mac(1), None, &mut out);
        assert!(c.lookup(&ip(1)).unwrap().is_router);
        out.clear();
        c.on_link_addr(t(2), ip(1), mac(1), Some(false), &mut out);
        assert_eq!(out, vec![NeighborAction::NoLongerRouter { addr: ip(1) }]);
        // An RA without a Source Link-Layer Address option sets it back.
        c.set_is_router(&ip(1), true, &mut out);
        assert!(c.lookup(&ip(1)).unwrap().is_router);
        // set_is_router creates nothing.
        c.set_is_router(&ip(2), true, &mut out);
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn rfc4861_7_3_3_static_entries_ignore_nd_and_never_expire() {
        let mut c = cache_with(NudState::Static);
        let mut out = Vec::new();
        c.on_link_addr(t(1), ip(1), mac(2), Some(true), &mut out);
        c.on_advert(t(1), ip(1), Some(mac(3)), true, true, true, REACH, &mut out);
        c.poll(t(100_000), RT, &mut out);
        assert!(out.is_empty());
        let n = c.lookup(&ip(1)).unwrap();
        assert_eq!(
            (n.state, n.lladdr, n.is_router),
            (NudState::Static, Some(mac(1)), false)
        );
        assert_eq!(c.poll_at(), None);
        // A matching NA may still tell whether it routes.
        c.on_advert(
            t(2),
            ip(1),
            Some(mac(1)),
            true,
            false,
            false,
            REACH,
            &mut out,
        );
        assert!(c.lookup(&ip(1)).unwrap().is_router);
        // Flushing for link down keeps it; remove() takes it.
        c.flush(&mut out);
        assert_eq!(c.len(), 1);
        c.remove(&ip(1), &mut out);
        assert!(c.is_empty());
    }

    #[test]
    fn static_insert_releases_queued_packets() {
        let mut c = cache_with(NudState::Incomplete);
        let out = c.insert_static(ip(1), mac(5));
        assert_eq!(
            out,
            vec![
                changed(ip(1), Some(NudState::Incomplete), Some(NudState::Static)),
                NeighborAction::Send {
                    lladdr: mac(5),
                    packet: pkt(1)
                },
            ]
        );
        assert_eq!(c.poll_at(), None);
        c.check();
    }

    // ---- limits ----

    fn small(max_entries: usize) -> NeighborCache {
        NeighborCache::new(NeighborConfig {
            max_entries,
            ..NeighborConfig::default()
        })
    }

    #[test]
    fn rfc6583_full_table_evicts_oldest_incomplete_first() {
        let mut c = small(3);
        let mut out = Vec::new();
        c.on_link_addr(t(0), ip(1), mac(1), None, &mut out); // STALE
        c.send(t(1), ip(2), pkt(2), RT, &mut out); // INCOMPLETE, older
        c.send(t(2), ip(3), pkt(3), RT, &mut out); // INCOMPLETE, newer
        out.clear();
        c.send(t(2), ip(4), pkt(4), RT, &mut out);
        assert_eq!(
            out[0],
            NeighborAction::Dropped {
                addr: ip(2),
                packet: pkt(2),
                reason: REASON_EVICTED
            }
        );
        assert_eq!(out[1], changed(ip(2), Some(NudState::Incomplete), None));
        assert_eq!(
            c.iter().map(|n| n.addr).collect::<Vec<_>>(),
            vec![ip(1), ip(3), ip(4)]
        );
        c.check();
    }

    #[test]
    fn rfc6583_full_table_then_evicts_least_recently_used_stale() {
        let mut c = small(3);
        let mut out = Vec::new();
        c.on_link_addr(t(5), ip(1), mac(1), None, &mut out); // STALE since 5
        c.on_link_addr(t(3), ip(2), mac(2), None, &mut out); // STALE since 3: oldest
        c.insert_static(ip(3), mac(3));
        out.clear();
        c.on_link_addr(t(6), ip(4), mac(4), None, &mut out);
        assert_eq!(
            out,
            vec![
                changed(ip(2), Some(NudState::Stale), None),
                changed(ip(4), None, Some(NudState::Stale)),
            ]
        );
        // A REACHABLE entry whose time ran out counts as stale since its expiry.
        c.on_advert(
            t(6),
            ip(4),
            Some(mac(4)),
            false,
            true,
            false,
            REACH,
            &mut out,
        );
        out.clear();
        c.send(t(40), ip(5), pkt(5), RT, &mut out);
        assert_eq!(
            out[0],
            changed(ip(4), Some(NudState::Reachable), Some(NudState::Stale))
        );
        assert_eq!(out[1], changed(ip(1), Some(NudState::Stale), None));
        assert_eq!(state(&c, ip(4)), Some(NudState::Stale));
        assert_eq!(state(&c, ip(5)), Some(NudState::Incomplete));
        c.check();
    }

    #[test]
    fn rfc6583_full_table_without_victims_refuses_new_entries() {
        let mut c = small(2);
        let mut out = Vec::new();
        c.insert_static(ip(1), mac(1));
        c.on_link_addr(t(0), ip(2), mac(2), None, &mut out);
        c.send(t(0), ip(2), pkt(2), RT, &mut out); // DELAY: not evictable
        out.clear();
        c.send(t(1), ip(3), pkt(3), RT, &mut out);
        assert_eq!(
            out,
            vec![NeighborAction::Dropped {
                addr: ip(3),
                packet: pkt(3),
                reason: REASON_CACHE_FULL
            }]
        );
        out.clear();
        c.on_link_addr(t(1), ip(4), mac(4), None, &mut out);
        assert_eq!(
            out,
            vec![NeighborAction::Dropped {
                addr: ip(4),
                packet: vec![],
                reason: REASON_CACHE_FULL
            }]
        );
        let refused = c.insert_static(ip(5), mac(5));
        assert!(matches!(refused[..], [NeighborAction::Dropped { .. }]));
        assert_eq!(c.len(), 2);
        c.check();
    }

    #[test]
    fn clock_jump_takes_one_step_per_poll() {
        let mut c = NeighborCache::default();
        let mut out = Vec::new();
        for i in 1..=50 {
            c.send(t(0), ip(i), pkt(1), RT, &mut out);
            c.on_link_addr(t(0), ip(100 + i), mac(1), None, &mut out);
            c.send(t(0), ip(100 + i), pkt(1), RT, &mut out);
        }
        out.clear();
        let later = t(10 * 3600);
        c.poll(later, RT, &mut out);
        // INCOMPLETE: one more NS each; DELAY: one probe each.
        assert_eq!(solicits(&out).len(), 100);
        assert!(c.poll_at().unwrap() > later);
        c.check();
    }

    #[test]
    fn zero_retrans_timer_cannot_stall_poll() {
        let mut c = cache_with(NudState::Delay);
        let mut out = Vec::new();
        c.poll(t(5), Duration::ZERO, &mut out);
        assert!(c.poll_at().unwrap() > t(5));
    }

    #[test]
    fn multicast_is_never_resolved() {
        let mut c = NeighborCache::default();
        let mut out = Vec::new();
        let group: Ipv6Addr = "ff02::1".parse().unwrap();
        c.send(t(0), group, pkt(1), RT, &mut out);
        assert!(matches!(
            out[..],
            [NeighborAction::Dropped {
                reason: REASON_NOT_UNICAST,
                ..
            }]
        ));
        c.on_link_addr(t(0), group, mac(1), None, &mut out);
        assert!(c.is_empty());
    }

    #[test]
    fn flush_drops_queues_and_learned_entries() {
        let mut c = cache_with(NudState::Incomplete);
        let mut out = Vec::new();
        c.on_link_addr(t(0), ip(2), mac(2), None, &mut out);
        out.clear();
        c.flush(&mut out);
        assert_eq!(
            out,
            vec![
                NeighborAction::Dropped {
                    addr: ip(1),
                    packet: pkt(1),
                    reason: REASON_LINK_DOWN
                },
                changed(ip(1), Some(NudState::Incomplete), None),
                changed(ip(2), Some(NudState::Stale), None),
            ]
        );
        assert!(c.is_empty());
        assert_eq!(c.poll_at(), None);
        c.check();
    }

    #[test]
    fn neighbor_stays_compact() {
        assert!(size_of::<Neighbor>() <= 40, "{}", size_of::<Neighbor>());
        let mut c = NeighborCache::default();
        let mut out = Vec::new();
        for i in 0..1000 {
            c.on_link_addr(t(0), ip(i), mac(1), None, &mut out);
        }
        let per_entry = c.approx_memory_bytes() / 1000;
        assert!((60..200).contains(&per_entry), "{per_entry}");
    }

    mod prop {
        use super::*;
        use proptest::prelude::*;

        #[derive(Debug, Clone)]
        enum Op {
            Send(u8),
            LinkAddr(u8, u8, Option<bool>),
            Advert(u8, Option<u8>, bool, bool, bool),
            Confirm(u8),
            Poll,
            Advance(u64),
            Static(u8, u8),
            Remove(u8),
            SetRouter(u8, bool),
            Flush,
        }

        fn op() -> impl Strategy<Value = Op> {
            let a = 0u8..12;
            prop_oneof![
                4 => a.clone().prop_map(Op::Send),
                3 => (a.clone(), 0u8..3, any::<Option<bool>>())
                    .prop_map(|(a, m, r)| Op::LinkAddr(a, m, r)),
                3 => (a.clone(), proptest::option::of(0u8..3), any::<bool>(), any::<bool>(), any::<bool>())
                    .prop_map(|(a, m, r, s, o)| Op::Advert(a, m, r, s, o)),
                1 => a.clone().prop_map(Op::Confirm),
                3 => Just(Op::Poll),
                3 => prop_oneof![0u64..3_000_000, Just(36_000_000_000u64)].prop_map(Op::Advance),
                1 => (a.clone(), 0u8..3).prop_map(|(a, m)| Op::Static(a, m)),
                1 => a.clone().prop_map(Op::Remove),
                1 => (a, any::<bool>()).prop_map(|(a, r)| Op::SetRouter(a, r)),
                1 => Just(Op::Flush),
            ]
        }

        proptest! {
            #[test]
            fn random_operations_keep_bounds_and_packets(
                ops in proptest::collection::vec(op(), 1..200),
                max_entries in 0usize..6,
                max_queued in 0usize..4,
                retrans_ms in 0u64..2000,
                reach_ms in 0u64..40_000,
            ) {
                let mut c = NeighborCache::new(NeighborConfig {
                    max_entries,
                    max_queued_per_neighbor: max_queued,
                    ..NeighborConfig::default()
                });
                let rt = Duration::from_millis(retrans_ms);
                let reach = Duration::from_millis(reach_ms);
                let mut now = Instant::ZERO;
                let mut next_id: u32 = 0;
                let mut in_flight: u32 = 0;
                for op in ops {
                    let mut out = Vec::new();
                    match op {
                        Op::Send(a) => {
                            next_id += 1;
                            in_flight += 1;
                            c.send(now, ip(a.into()), next_id.to_be_bytes().to_vec(), rt, &mut out);
                        }
                        Op::LinkAddr(a, m, r) => c.on_link_addr(now, ip(a.into()), mac(m), r, &mut out),
                        Op::Advert(a, m, r, s, o) => {
                            c.on_advert(now, ip(a.into()), m.map(mac), r, s, o, reach, &mut out)
                        }
                        Op::Confirm(a) => c.confirm_reachable(now, &ip(a.into()), reach, &mut out),
                        Op::Poll => {
                            c.poll(now, rt, &mut out);
                            prop_assert!(c.poll_at().is_none_or(|at| at > now));
                        }
                        Op::Advance(us) => now += Duration::from_micros(us),
                        Op::Static(a, m) => out = c.insert_static(ip(a.into()), mac(m)),
                        Op::Remove(a) => c.remove(&ip(a.into()), &mut out),
                        Op::SetRouter(a, r) => c.set_is_router(&ip(a.into()), r, &mut out),
                        Op::Flush => c.flush(&mut out),
                    }
                    for action in &out {
                        match action {
                            NeighborAction::Send { .. } => in_flight -= 1,
                            NeighborAction::Dropped { packet, .. } if !packet.is_empty() => in_flight -= 1,
                            NeighborAction::Failed { packets, .. } => {
                                prop_assert!(packets.len() <= max_queued);
                                in_flight -= u32::try_from(packets.len()).unwrap();
                            }
                            _ => {}
                        }
                    }
                    c.check();
                    let queued: usize = c.iter().map(|n| c.queued(&n.addr).count()).sum();
                    prop_assert_eq!(queued, usize::try_from(in_flight).unwrap());
                }
            }
        }
    }
}
