//! The MLD listener ("host") side of one interface: MLDv2 (RFC 3810 §4-§6) with MLDv1
//! compatibility (RFC 3810 §8, RFC 2710 §4). It owns the interface's multicast listening
//! state — every socket's source filter for every group, merged as RFC 3810 §4.2 says —
//! the state-change reports and their retransmissions, the pending answers to queries,
//! and the host compatibility mode. It sends nothing itself: it returns [`MldAction`]s
//! that the glue wraps in IPv6 (hop limit 1, Router Alert, link-local source).
//!
//! One timer per group serves the state-change retransmissions, one per group the answers
//! to Multicast Address (and Source) Specific Queries, and one per interface the answer to
//! General Queries (RFC 3810 §6.2). Every timer fires at most once per [`MldHost::poll`]
//! and is re-armed from `now`, so a clock that jumps forward by hours sends one round of
//! reports, not a backlog.

mod input;
pub mod querier;
mod report;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv6Addr;

use sixstack_wire::mld::{self as wire_mld, record_type};

use crate::rng::Rng;
use crate::time::{Duration, Instant};
use report::Record;

/// The link-scope all-nodes address: always listened to, never reported (RFC 3810 §6).
pub const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
/// Where MLDv1 Done messages go (RFC 2710 §3).
pub const ALL_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);
/// Where MLDv2 Reports go (RFC 3810 §5.2.14).
pub const ALL_MLDV2_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x16);

/// The listener's variables (RFC 3810 §9) and this implementation's table limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MldConfig {
    /// [Robustness Variable] (RFC 3810 §9.1): how many times a State-Change Report is
    /// sent. A querier's non-zero QRV (§5.1.8) replaces it once heard. Default 2.
    pub robustness: u8,
    /// [Query Interval] (RFC 3810 §9.2), until a querier's QQIC (§5.1.9) says otherwise;
    /// MLDv1 queriers announce none. Default 125 s.
    pub query_interval: Duration,
    /// [Query Response Interval] (RFC 3810 §9.3), a term of the Older Version Querier
    /// Present Timeout (§9.12). Default 10 s.
    pub query_response_interval: Duration,
    /// [Unsolicited Report Interval] (RFC 3810 §9.11): the upper bound of the random
    /// delay before each retransmission of a state change. Default 1 s.
    pub unsolicited_report_interval: Duration,
    /// `None`: follow the queriers heard (RFC 3810 §8.2.1). `Some(V2)`: ignore MLDv1
    /// queries (the option RFC 9777 §8.2.1 recommends for SSM-only links). `Some(V1)`:
    /// behave as an RFC 2710 node, answering MLDv2 queries with MLDv1 Reports.
    pub force_version: Option<MldVersion>,
    /// The link MTU (RFC 3810 §5.2.15): Reports are split to fit. Values below 1280 are
    /// taken as 1280 (RFC 8200 §5). Default 1280; the glue sets the link's.
    pub mtu: usize,
    /// Groups with listening state; a join or filter that would add one more is refused.
    /// Groups that were left but still owe retransmissions of their leave take at most as
    /// many entries again; past that the one with the fewest left is forgotten. Default 256.
    pub max_groups: usize,
    /// Sources in one socket filter and in one group's merged filter; a filter that would
    /// exceed it is refused. Default 64.
    pub max_sources_per_group: usize,
    /// Socket filters (owner, group) over all groups; one more is refused. Default 1024.
    pub max_filters: usize,
    /// RFC 2710 §4: in MLDv1 mode, send no Done when our last Report was suppressed by
    /// another listener's (the optimisation "MUST be able to be turned off but SHOULD
    /// default to on"). Default true.
    pub v1_done_only_if_last_reporter: bool,
}

impl Default for MldConfig {
    fn default() -> Self {
        Self {
            robustness: 2,
            query_interval: Duration::from_secs(125),
            query_response_interval: Duration::from_secs(10),
            unsolicited_report_interval: Duration::from_secs(1),
            force_version: None,
            mtu: 1280,
            max_groups: 256,
            max_sources_per_group: 64,
            max_filters: 1024,
            v1_done_only_if_last_reporter: true,
        }
    }
}

/// The Host Compatibility Mode (RFC 3810 §8.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MldVersion {
    V1,
    V2,
}

/// A source filter's mode (RFC 3810 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FilterMode {
    Include,
    Exclude,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MldAction {
    /// Send this message: the glue wraps it in IPv6 with hop limit 1, a Hop-by-Hop Router
    /// Alert option (value 0, RFC 2711) and a link-local source (or :: when none is
    /// assigned yet, RFC 3810 §5.2.13), and fills the ICMPv6 checksum. `message` is the
    /// whole ICMPv6 message, checksum field 0.
    Send { dst: Ipv6Addr, message: Vec<u8> },
    /// The interface now listens to this group (from no listening state).
    Joined(Ipv6Addr),
    /// The interface no longer listens to this group.
    Left(Ipv6Addr),
    /// The Host Compatibility Mode changed.
    VersionChanged(MldVersion),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Filter {
    mode: FilterMode,
    sources: BTreeSet<Ipv6Addr>,
}

impl Filter {
    /// Whether a packet from `s` passes (RFC 3810 §4.1).
    fn forwards(&self, s: &Ipv6Addr) -> bool {
        (self.mode == FilterMode::Include) == self.sources.contains(s)
    }
}

#[derive(Debug, Clone, Default)]
struct Group {
    /// `join` references; each stands for a filter EXCLUDE {} (all sources).
    joins: u32,
    /// Socket filters by owner. INCLUDE {} means "not listening" and is not stored.
    filters: BTreeMap<u32, Filter>,
    /// The interface state merged from `joins` and `filters` (RFC 3810 §4.2); `None` is
    /// INCLUDE {}, no listening state. Derived, but kept because `accepts` runs for every
    /// multicast packet; only `set_state` writes it.
    state: Option<Filter>,
    /// RFC 3810 §6.1 Filter Mode Retransmission Counter.
    fm_retrans: u8,
    /// RFC 3810 §6.1 Retransmission List: sources whose change is still to be repeated.
    /// Bounded by `2 * max_sources_per_group`; past that it is replaced by a full-state
    /// (TO_IN/TO_EX) record, which tells the router at least as much.
    src_retrans: BTreeMap<Ipv6Addr, u8>,
    /// Next State-Change Report (the Retransmission Timer).
    retrans_at: Option<Instant>,
    /// The Multicast Address Timer (RFC 3810 §6.2).
    query_at: Option<Instant>,
    /// Sources asked about by pending Source Specific Queries; empty means the whole
    /// group. Bounded by `max_sources_per_group`; past that the answer covers the group.
    query_sources: BTreeSet<Ipv6Addr>,
    /// MLDv1: the report timer (RFC 2710 §4), for answers and unsolicited repeats.
    v1_at: Option<Instant>,
    /// MLDv1: unsolicited Reports still to repeat.
    v1_repeats: u8,
    /// MLDv1: whether we sent the last Report heard for the group (RFC 2710 §4 flag).
    v1_last_reporter: bool,
}

impl Group {
    /// Nothing listens and nothing is owed: the entry can go.
    fn is_idle(&self) -> bool {
        self.state.is_none() && self.fm_retrans == 0 && self.src_retrans.is_empty()
    }

    fn cancel_timers(&mut self) {
        self.fm_retrans = 0;
        self.src_retrans.clear();
        self.retrans_at = None;
        self.query_at = None;
        self.query_sources.clear();
        self.v1_at = None;
        self.v1_repeats = 0;
    }

    /// The records of the next State-Change Report, counting it as sent (RFC 3810 §6.1,
    /// §6.3 tables: filter-mode change records first, then source-list changes).
    fn take_state_change(&mut self, group: Ipv6Addr, recs: &mut Vec<Record>) {
        if self.fm_retrans > 0 {
            self.fm_retrans -= 1;
            let (kind, sources) = match &self.state {
                Some(f) if f.mode == FilterMode::Exclude => (
                    record_type::CHANGE_TO_EXCLUDE,
                    f.sources.iter().copied().collect(),
                ),
                Some(f) => (
                    record_type::CHANGE_TO_INCLUDE,
                    f.sources.iter().copied().collect(),
                ),
                None => (record_type::CHANGE_TO_INCLUDE, Vec::new()),
            };
            recs.push(Record {
                kind,
                group,
                sources,
            });
            return;
        }
        let (mut allow, mut block) = (Vec::new(), Vec::new());
        for (s, left) in &mut self.src_retrans {
            if self.state.as_ref().is_some_and(|f| f.forwards(s)) {
                allow.push(*s);
            } else {
                block.push(*s);
            }
            *left = left.saturating_sub(1);
        }
        self.src_retrans.retain(|_, left| *left > 0);
        // RFC 3810 §6.1: an empty ALLOW or BLOCK record is omitted.
        for (kind, sources) in [
            (record_type::ALLOW_NEW_SOURCES, allow),
            (record_type::BLOCK_OLD_SOURCES, block),
        ] {
            if !sources.is_empty() {
                recs.push(Record {
                    kind,
                    group,
                    sources,
                });
            }
        }
    }

    fn change_pending(&self) -> bool {
        self.fm_retrans > 0 || !self.src_retrans.is_empty()
    }
}

/// RFC 3810 §4.2: any EXCLUDE filter makes the interface EXCLUDE the sources every
/// EXCLUDE filter excludes and no INCLUDE filter includes; otherwise it INCLUDEs the union.
fn merge(joins: u32, filters: &BTreeMap<u32, Filter>) -> Option<Filter> {
    let mut exclude: Option<BTreeSet<Ipv6Addr>> = (joins > 0).then(BTreeSet::new);
    let mut include = BTreeSet::new();
    for f in filters.values() {
        match f.mode {
            FilterMode::Include => include.extend(f.sources.iter().copied()),
            FilterMode::Exclude => {
                exclude = Some(match exclude {
                    None => f.sources.clone(),
                    Some(e) => e.intersection(&f.sources).copied().collect(),
                });
            }
        }
    }
    match exclude {
        Some(e) => Some(Filter {
            mode: FilterMode::Exclude,
            sources: e.difference(&include).copied().collect(),
        }),
        None if include.is_empty() => None,
        None => Some(Filter {
            mode: FilterMode::Include,
            sources: include,
        }),
    }
}

/// RFC 3810 §6: no MLD message ever names the all-nodes address or a group of scope 0
/// (reserved) or 1 (interface-local).
fn reportable(group: &Ipv6Addr) -> bool {
    *group != ALL_NODES && group.octets()[1] & 0x0f >= 2
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The MLD listener of one interface.
#[derive(Debug, Clone)]
pub struct MldHost {
    cfg: MldConfig,
    /// Bounded: `max_groups` with listening state plus as many left ones (see the config).
    groups: BTreeMap<Ipv6Addr, Group>,
    link_up: bool,
    mode: MldVersion,
    /// RFC 3810 §8.2.1 Older Version Querier Present timer.
    v1_querier_until: Option<Instant>,
    /// The Interface Timer (RFC 3810 §6.2): the pending answer to a General Query.
    general_at: Option<Instant>,
    /// The last non-zero QRV and QQI heard (RFC 3810 §5.1.8, §5.1.9).
    querier_robustness: Option<u8>,
    querier_interval: Option<Duration>,
}

impl MldHost {
    /// A listener on a link that is up, in MLDv2 mode unless forced to MLDv1.
    pub fn new(cfg: MldConfig) -> Self {
        let mode = cfg.force_version.unwrap_or(MldVersion::V2);
        Self {
            cfg,
            groups: BTreeMap::new(),
            link_up: true,
            mode,
            v1_querier_until: None,
            general_at: None,
            querier_robustness: None,
            querier_interval: None,
        }
    }

    pub fn config(&self) -> &MldConfig {
        &self.cfg
    }

    /// The link MTU changed: later Reports are cut to the new size.
    pub fn set_mtu(&mut self, mtu: usize) {
        self.cfg.mtu = mtu;
    }

    /// The Host Compatibility Mode.
    pub fn version(&self) -> MldVersion {
        self.mode
    }

    /// [Robustness Variable] in use: the querier's, else ours; never 0 (RFC 3810 §9.1).
    pub fn robustness(&self) -> u8 {
        self.querier_robustness
            .unwrap_or(self.cfg.robustness)
            .max(1)
    }

    /// RFC 3810 §9.12: [Robustness Variable] times the [Query Interval] of the last
    /// Query heard, plus [Query Response Interval].
    pub fn older_version_querier_present_timeout(&self) -> Duration {
        let qi = self.querier_interval.unwrap_or(self.cfg.query_interval);
        qi.checked_mul(u32::from(self.robustness()))
            .unwrap_or(Duration::MAX)
            .saturating_add(self.cfg.query_response_interval)
    }

    /// Reference-counted: join twice, leave twice. A join is EXCLUDE {} (any source).
    pub fn join(
        &mut self,
        now: Instant,
        rng: &mut Rng,
        group: Ipv6Addr,
        out: &mut Vec<MldAction>,
    ) -> Result<(), &'static str> {
        if !group.is_multicast() {
            return Err("not a multicast address");
        }
        let joins = self.groups.get(&group).map_or(0, |g| g.joins);
        let joins = joins.checked_add(1).ok_or("too many joins")?;
        let filters = self
            .groups
            .get(&group)
            .map(|g| g.filters.clone())
            .unwrap_or_default();
        self.set_state(now, rng, group, joins, filters, out)
    }

    /// Drops one `join` reference; the last one ends listening unless a filter remains.
    pub fn leave(
        &mut self,
        now: Instant,
        rng: &mut Rng,
        group: Ipv6Addr,
        out: &mut Vec<MldAction>,
    ) {
        let Some(g) = self.groups.get(&group) else {
            return;
        };
        if g.joins == 0 {
            return;
        }
        let (joins, filters) = (g.joins - 1, g.filters.clone());
        // Cannot be refused: it adds no group, and without this EXCLUDE {} the merged list
        // is an EXCLUDE list (no longer than any one filter's) or the INCLUDE union that
        // `set_filter` keeps within the limit.
        let _ = self.set_state(now, rng, group, joins, filters, out);
    }

    /// One socket's source filter for `group` (RFC 3810 §3 IPv6MulticastListen), kept per
    /// `owner` and merged with the others (§4.2). INCLUDE {} removes the owner's filter.
    #[allow(clippy::too_many_arguments)]
    pub fn set_filter(
        &mut self,
        now: Instant,
        rng: &mut Rng,
        owner: u32,
        group: Ipv6Addr,
        mode: FilterMode,
        sources: &[Ipv6Addr],
        out: &mut Vec<MldAction>,
    ) -> Result<(), &'static str> {
        if !group.is_multicast() {
            return Err("not a multicast address");
        }
        if sources.len() > self.cfg.max_sources_per_group {
            return Err("too many sources");
        }
        let (joins, mut filters) = self
            .groups
            .get(&group)
            .map(|g| (g.joins, g.filters.clone()))
            .unwrap_or_default();
        let sources: BTreeSet<Ipv6Addr> = sources.iter().copied().collect();
        if mode == FilterMode::Include && sources.is_empty() {
            if filters.remove(&owner).is_none() {
                return Ok(());
            }
        } else {
            if !filters.contains_key(&owner) && self.filter_count() >= self.cfg.max_filters {
                return Err("too many source filters");
            }
            filters.insert(owner, Filter { mode, sources });
            // Checked even when a join or EXCLUDE filter hides it, so that removing those
            // later (a leave, which cannot be refused) never yields too long a list.
            let included: BTreeSet<&Ipv6Addr> = filters
                .values()
                .filter(|f| f.mode == FilterMode::Include)
                .flat_map(|f| &f.sources)
                .collect();
            if included.len() > self.cfg.max_sources_per_group {
                return Err("too many sources in the merged filter");
            }
        }
        self.set_state(now, rng, group, joins, filters, out)
    }

    /// Whether the interface listens to `group` (from any source).
    pub fn is_member(&self, group: &Ipv6Addr) -> bool {
        *group == ALL_NODES || self.groups.get(group).is_some_and(|g| g.state.is_some())
    }

    /// Whether a packet from `source` to `group` passes the interface's filter (§4.1).
    pub fn accepts(&self, group: &Ipv6Addr, source: &Ipv6Addr) -> bool {
        *group == ALL_NODES
            || self
                .groups
                .get(group)
                .and_then(|g| g.state.as_ref())
                .is_some_and(|f| f.forwards(source))
    }

    /// Every group with listening state, in address order, with its merged filter.
    pub fn groups(&self) -> impl Iterator<Item = (Ipv6Addr, FilterMode, Vec<Ipv6Addr>)> + '_ {
        self.groups.iter().filter_map(|(a, g)| {
            g.state
                .as_ref()
                .map(|f| (*a, f.mode, f.sources.iter().copied().collect()))
        })
    }

    /// A received query or report. `dst` is the IPv6 destination of the message, `src`
    /// its source; neither changes what is done (RFC 3810 §5.1.15 and §5.2.15: a node
    /// processes queries and reports sent to any of its addresses). The glue has checked
    /// the link-local source, hop limit 1 and Router Alert (§6.2), and the checksum.
    pub fn on_message(
        &mut self,
        now: Instant,
        rng: &mut Rng,
        src: Ipv6Addr,
        dst: Ipv6Addr,
        msg: &wire_mld::Repr<'_>,
        out: &mut Vec<MldAction>,
    ) {
        let _ = (src, dst);
        if !self.link_up {
            return;
        }
        match *msg {
            wire_mld::Repr::QueryV1 {
                max_resp_delay,
                mcast_addr,
            } => {
                if !(mcast_addr.is_unspecified() || mcast_addr.is_multicast()) {
                    return;
                }
                match self.cfg.force_version {
                    Some(MldVersion::V2) => return,
                    Some(MldVersion::V1) => {}
                    None => {
                        // RFC 3810 §8.2.1: an MLDv1 query (re)arms the timer and puts the
                        // interface in MLDv1 mode.
                        self.v1_querier_until =
                            Some(now + self.older_version_querier_present_timeout());
                        if self.mode == MldVersion::V2 {
                            self.switch_mode(MldVersion::V1, out);
                        }
                    }
                }
                let mrd = Duration::from_millis(u64::from(max_resp_delay));
                self.v1_query(now, rng, mrd, mcast_addr);
            }
            wire_mld::Repr::QueryV2 {
                max_resp_code,
                mcast_addr,
                flags,
                qqic,
                sources,
            } => {
                let general = mcast_addr.is_unspecified();
                // RFC 3810 §5.1.10: a General Query names no sources.
                if !(general || mcast_addr.is_multicast()) || (general && !sources.is_empty()) {
                    return;
                }
                let qrv = flags & 0x07;
                if qrv != 0 {
                    self.querier_robustness = Some(qrv);
                }
                let qqi = wire_mld::decode_qqic(qqic);
                if qqi != 0 {
                    self.querier_interval = Some(Duration::from_secs(u64::from(qqi)));
                }
                let mrd =
                    Duration::from_millis(u64::from(wire_mld::decode_max_resp_code(max_resp_code)));
                match self.mode {
                    MldVersion::V1 => self.v1_query(now, rng, mrd, mcast_addr),
                    MldVersion::V2 => self.v2_query(now, rng, mrd, mcast_addr, sources),
                }
            }
            wire_mld::Repr::Report { mcast_addr } if self.mode == MldVersion::V1 => {
                // RFC 2710 §4: another listener answered; ours would add nothing.
                if let Some(g) = self.groups.get_mut(&mcast_addr)
                    && g.v1_at.is_some()
                {
                    g.v1_at = None;
                    g.v1_repeats = 0;
                    g.v1_last_reporter = false;
                }
            }
            // RFC 3810 §6: listeners ignore other messages (MLDv2 Reports do not suppress).
            _ => {}
        }
    }

    /// Link up: every group is reported again as a state change from INCLUDE {}
    /// (RFC 3810 §6.1). Call it also when the interface gets its link-local address after
    /// reports went out from :: (RFC 3810 §5.2.13 asks for new reports then).
    pub fn link_up(&mut self, now: Instant, rng: &mut Rng, out: &mut Vec<MldAction>) {
        self.link_up = true;
        // The Older Version Querier Present timer does not run while the link is down:
        // the older querier may be gone by now, and the reports below must say so.
        self.expire_v1_querier(now, out);
        let rv = self.robustness();
        let delay_max = self.cfg.unsolicited_report_interval;
        match self.mode {
            MldVersion::V2 => {
                let mut recs = Vec::new();
                for (addr, g) in &mut self.groups {
                    let Some(f) = &g.state else { continue };
                    if !reportable(addr) {
                        continue;
                    }
                    match f.mode {
                        FilterMode::Exclude => {
                            g.fm_retrans = rv;
                            g.src_retrans.clear();
                        }
                        FilterMode::Include => {
                            for s in &f.sources {
                                g.src_retrans.insert(*s, rv);
                            }
                        }
                    }
                    g.take_state_change(*addr, &mut recs);
                    g.retrans_at = g
                        .change_pending()
                        .then(|| now + retrans_delay(rng, delay_max));
                }
                report::send_v2(recs, self.cfg.mtu, out);
            }
            MldVersion::V1 => {
                for (addr, g) in &mut self.groups {
                    if g.state.is_some() && reportable(addr) {
                        v1_unsolicited(now, rng, *addr, g, rv, delay_max, out);
                    }
                }
            }
        }
    }

    /// Link down: pending reports and answers are dropped; state is kept for `link_up`.
    pub fn link_down(&mut self) {
        self.link_up = false;
        self.general_at = None;
        for g in self.groups.values_mut() {
            g.cancel_timers();
        }
        self.groups.retain(|_, g| !g.is_idle());
    }

    /// Fires the timers due at or before `now`.
    pub fn poll(&mut self, now: Instant, rng: &mut Rng, out: &mut Vec<MldAction>) {
        self.expire_v1_querier(now, out);
        if !self.link_up {
            return;
        }
        match self.mode {
            MldVersion::V2 => self.poll_v2(now, rng, out),
            MldVersion::V1 => self.poll_v1(now, rng, out),
        }
        self.groups.retain(|_, g| !g.is_idle());
    }

    /// The next instant `poll` has something to do.
    pub fn poll_at(&self) -> Option<Instant> {
        let mut at = earliest(self.v1_querier_until, self.general_at);
        for g in self.groups.values() {
            at = earliest(at, g.retrans_at);
            at = earliest(at, g.query_at);
            at = earliest(at, g.v1_at);
        }
        at
    }

    fn filter_count(&self) -> usize {
        self.groups.values().map(|g| g.filters.len()).sum()
    }

    fn listening_count(&self) -> usize {
        self.groups.values().filter(|g| g.state.is_some()).count()
    }

    /// Installs new joins and filters for `group` after checking the limits, and reports
    /// the change of interface state.
    fn set_state(
        &mut self,
        now: Instant,
        rng: &mut Rng,
        group: Ipv6Addr,
        joins: u32,
        filters: BTreeMap<u32, Filter>,
        out: &mut Vec<MldAction>,
    ) -> Result<(), &'static str> {
        let new = merge(joins, &filters);
        if new
            .as_ref()
            .is_some_and(|f| f.sources.len() > self.cfg.max_sources_per_group)
        {
            return Err("too many sources in the merged filter");
        }
        let old = self.groups.get(&group).and_then(|g| g.state.clone());
        if old.is_none() && new.is_some() && self.listening_count() >= self.cfg.max_groups {
            return Err("too many groups");
        }
        if !self.groups.contains_key(&group) {
            if new.is_none() && joins == 0 && filters.is_empty() {
                return Ok(());
            }
            self.make_room();
        }
        let g = self.groups.entry(group).or_default();
        g.joins = joins;
        g.filters = filters;
        g.state = new.clone();
        if old != new {
            match (&old, &new) {
                (None, Some(_)) => out.push(MldAction::Joined(group)),
                (Some(_), None) => out.push(MldAction::Left(group)),
                _ => {}
            }
            if self.link_up && reportable(&group) {
                match self.mode {
                    MldVersion::V2 => self.report_change_v2(now, rng, group, old, out),
                    MldVersion::V1 => self.report_change_v1(now, rng, group, old.is_some(), out),
                }
            }
        }
        self.groups.retain(|_, g| !g.is_idle());
        Ok(())
    }

    /// Keeps the table at `2 * max_groups` entries by forgetting the left group that owes
    /// the fewest retransmissions (ties: the lowest address).
    fn make_room(&mut self) {
        let cap = self.cfg.max_groups.saturating_mul(2);
        while self.groups.len() >= cap {
            let victim = self
                .groups
                .iter()
                .filter(|(_, g)| g.state.is_none())
                .min_by_key(|(_, g)| {
                    g.fm_retrans
                        .max(g.src_retrans.values().copied().max().unwrap_or(0))
                })
                .map(|(a, _)| *a);
            match victim {
                Some(a) => {
                    self.groups.remove(&a);
                }
                None => break,
            }
        }
    }

    /// RFC 3810 §6.1: the difference goes into the group's retransmission state, merged
    /// with what is pending, and a State-Change Report leaves at once.
    fn report_change_v2(
        &mut self,
        now: Instant,
        rng: &mut Rng,
        group: Ipv6Addr,
        old: Option<Filter>,
        out: &mut Vec<MldAction>,
    ) {
        let rv = self.robustness();
        let cap = self.cfg.max_sources_per_group.saturating_mul(2);
        let delay_max = self.cfg.unsolicited_report_interval;
        let Some(g) = self.groups.get_mut(&group) else {
            return;
        };
        let empty = BTreeSet::new();
        let (old_mode, old_src) = old
            .as_ref()
            .map_or((FilterMode::Include, &empty), |f| (f.mode, &f.sources));
        let (new_mode, new_src) = g
            .state
            .as_ref()
            .map_or((FilterMode::Include, &empty), |f| (f.mode, &f.sources));
        if old_mode != new_mode {
            // The TO_IN/TO_EX record carries the whole new state, so earlier source
            // changes need no repeating of their own.
            g.fm_retrans = rv;
            g.src_retrans.clear();
        } else {
            // In either mode the changed sources are the symmetric difference; whether
            // each goes in ALLOW or BLOCK is decided when a report is built.
            let changed: Vec<Ipv6Addr> = old_src.symmetric_difference(new_src).copied().collect();
            for s in changed {
                g.src_retrans.insert(s, rv);
            }
            if g.src_retrans.len() > cap {
                g.src_retrans.clear();
                g.fm_retrans = rv;
            }
        }
        let mut recs = Vec::new();
        g.take_state_change(group, &mut recs);
        g.retrans_at = g
            .change_pending()
            .then(|| now + retrans_delay(rng, delay_max));
        report::send_v2(recs, self.cfg.mtu, out);
    }

    /// RFC 2710 §4: a Report when listening starts (repeated), a Done when it ends.
    fn report_change_v1(
        &mut self,
        now: Instant,
        rng: &mut Rng,
        group: Ipv6Addr,
        was_listening: bool,
        out: &mut Vec<MldAction>,
    ) {
        let rv = self.robustness();
        let delay_max = self.cfg.unsolicited_report_interval;
        let only_if_last = self.cfg.v1_done_only_if_last_reporter;
        let Some(g) = self.groups.get_mut(&group) else {
            return;
        };
        match (was_listening, g.state.is_some()) {
            (false, true) => v1_unsolicited(now, rng, group, g, rv, delay_max, out),
            (true, false) => {
                if g.v1_last_reporter || !only_if_last {
                    send_v1(wire_mld::Repr::Done { mcast_addr: group }, ALL_ROUTERS, out);
                }
                g.cancel_timers();
            }
            // MLDv1 has no sources: a filter change within listening says nothing.
            _ => {}
        }
    }

    /// RFC 3810 §6.2 rules 1-5 for a valid MLDv2 query.
    fn v2_query(
        &mut self,
        now: Instant,
        rng: &mut Rng,
        mrd: Duration,
        group: Ipv6Addr,
        sources: &[u8],
    ) {
        let at = now + rng.duration_up_to(mrd);
        if group.is_unspecified() {
            if !self
                .groups
                .iter()
                .any(|(a, g)| g.state.is_some() && reportable(a))
            {
                return;
            }
            // Rule 1, else rule 2.
            if self.general_at.is_none_or(|t| t > at) {
                self.general_at = Some(at);
            }
            return;
        }
        let cap = self.cfg.max_sources_per_group;
        let Some(g) = self.groups.get_mut(&group) else {
            return;
        };
        if g.state.is_none() || !reportable(&group) {
            return;
        }
        // Rule 1: the General Query answer, due sooner, covers this group too.
        if self.general_at.is_some_and(|t| t <= at) {
            return;
        }
        let asked = sources
            .chunks_exact(16)
            .filter_map(|c| <[u8; 16]>::try_from(c).ok())
            .map(Ipv6Addr::from)
            .take(cap.saturating_add(1));
        match g.query_at {
            // Rule 3.
            None => {
                g.query_at = Some(at);
                g.query_sources = asked.collect();
            }
            Some(t) => {
                g.query_at = Some(t.min(at));
                if sources.is_empty() || g.query_sources.is_empty() {
                    // Rule 4.
                    g.query_sources.clear();
                } else {
                    // Rule 5.
                    g.query_sources.extend(asked);
                }
            }
        }
        if g.query_sources.len() > cap {
            // Answering for the whole group tells the router more than it asked, never less.
            g.query_sources.clear();
        }
    }

    /// RFC 2710 §4: start each queried group's timer, or restart it when the querier
    /// wants an answer sooner than it is due.
    fn v1_query(&mut self, now: Instant, rng: &mut Rng, mrd: Duration, group: Ipv6Addr) {
        let general = group.is_unspecified();
        for (addr, g) in &mut self.groups {
            if !(general || *addr == group) || g.state.is_none() || !reportable(addr) {
                continue;
            }
            let latest = now + mrd;
            if g.v1_at.is_none_or(|t| t > latest) {
                g.v1_at = Some(now + rng.duration_up_to(mrd));
            }
        }
    }

    fn poll_v2(&mut self, now: Instant, rng: &mut Rng, out: &mut Vec<MldAction>) {
        let delay_max = self.cfg.unsolicited_report_interval;
        let general = self.general_at.is_some_and(|t| t <= now);
        let mut current = Vec::new();
        if general {
            self.general_at = None;
        }
        for (addr, g) in &mut self.groups {
            // A due answer is consumed even for a group no longer listened to, or its
            // timer would stay due forever.
            let query_due = g.query_at.is_some_and(|t| t <= now);
            if query_due {
                g.query_at = None;
            }
            let asked = if query_due {
                std::mem::take(&mut g.query_sources)
            } else {
                Default::default()
            };
            let Some(f) = g.state.as_ref().filter(|_| reportable(addr)) else {
                continue;
            };
            let kind = match f.mode {
                FilterMode::Include => record_type::MODE_IS_INCLUDE,
                FilterMode::Exclude => record_type::MODE_IS_EXCLUDE,
            };
            let whole = || Record {
                kind,
                group: *addr,
                sources: f.sources.iter().copied().collect(),
            };
            // RFC 3810 §6.3 rule 1: one Current State Record per listened group.
            if general {
                current.push(whole());
            }
            if query_due {
                if general {
                    // Already answered in full above.
                } else if asked.is_empty() {
                    // Rule 2.
                    current.push(whole());
                } else {
                    // Rule 3: IS_IN(A*B) or IS_IN(B-A), nothing when empty.
                    let sources: Vec<Ipv6Addr> =
                        asked.into_iter().filter(|s| f.forwards(s)).collect();
                    if !sources.is_empty() {
                        current.push(Record {
                            kind: record_type::MODE_IS_INCLUDE,
                            group: *addr,
                            sources,
                        });
                    }
                }
            }
        }
        report::send_v2(current, self.cfg.mtu, out);

        let mut changes = Vec::new();
        for (addr, g) in &mut self.groups {
            if g.retrans_at.is_some_and(|t| t <= now) {
                g.take_state_change(*addr, &mut changes);
                g.retrans_at = g
                    .change_pending()
                    .then(|| now + retrans_delay(rng, delay_max));
            }
        }
        report::send_v2(changes, self.cfg.mtu, out);
    }

    fn poll_v1(&mut self, now: Instant, rng: &mut Rng, out: &mut Vec<MldAction>) {
        let delay_max = self.cfg.unsolicited_report_interval;
        for (addr, g) in &mut self.groups {
            if g.v1_at.is_none_or(|t| t > now) {
                continue;
            }
            g.v1_at = None;
            if g.state.is_none() || !reportable(addr) {
                continue;
            }
            send_v1(wire_mld::Repr::Report { mcast_addr: *addr }, *addr, out);
            g.v1_last_reporter = true;
            g.v1_repeats = g.v1_repeats.saturating_sub(1);
            if g.v1_repeats > 0 {
                g.v1_at = Some(now + retrans_delay(rng, delay_max));
            }
        }
    }

    /// RFC 3810 §8.2.1: a change of mode cancels every pending answer and retransmission.
    fn expire_v1_querier(&mut self, now: Instant, out: &mut Vec<MldAction>) {
        if self.v1_querier_until.is_some_and(|t| t <= now) {
            // RFC 3810 §8.2.1: the older querier is gone.
            self.v1_querier_until = None;
            if self.mode == MldVersion::V1 && self.cfg.force_version.is_none() {
                self.switch_mode(MldVersion::V2, out);
            }
        }
    }

    fn switch_mode(&mut self, to: MldVersion, out: &mut Vec<MldAction>) {
        self.mode = to;
        self.general_at = None;
        for g in self.groups.values_mut() {
            g.cancel_timers();
            // Our MLDv2 reports announced the group: count them as the last report.
            g.v1_last_reporter = true;
        }
        self.groups.retain(|_, g| !g.is_idle());
        out.push(MldAction::VersionChanged(to));
    }
}

/// RFC 3810 §6.1: retransmissions at random in (0, [Unsolicited Report Interval]).
fn retrans_delay(rng: &mut Rng, max: Duration) -> Duration {
    let min = Duration::from_micros(1);
    rng.duration_between(min, max.max(min))
}

/// RFC 2710 §4: the first Report now, the repeats after random delays.
fn v1_unsolicited(
    now: Instant,
    rng: &mut Rng,
    addr: Ipv6Addr,
    g: &mut Group,
    rv: u8,
    delay_max: Duration,
    out: &mut Vec<MldAction>,
) {
    send_v1(wire_mld::Repr::Report { mcast_addr: addr }, addr, out);
    g.v1_last_reporter = true;
    g.v1_repeats = rv.saturating_sub(1);
    g.v1_at = (g.v1_repeats > 0).then(|| now + retrans_delay(rng, delay_max));
}

fn send_v1(m: wire_mld::Repr<'_>, dst: Ipv6Addr, out: &mut Vec<MldAction>) {
    if let Some(message) = report::emit(m) {
        out.push(MldAction::Send { dst, message });
    }
}
