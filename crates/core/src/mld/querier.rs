//! The MLD router side of one interface (RFC 3810 §7, with MLDv1 listeners of RFC 2710
//! §4): querier election by lowest address, startup and periodic General Queries,
//! Multicast-Address-Specific Queries when a listener leaves, and which groups have
//! listeners on the link (what a multicast router forwards). Source lists are tracked per
//! group only as "some listener wants it": per-source state (§7.2.3) is not kept, which
//! forwards a little more than needed and never less.

use std::collections::BTreeMap;
use std::net::Ipv6Addr;

use sixstack_wire::mld::{self, record_type};

use super::report;
use crate::time::{Duration, Instant};

/// RFC 3810 §9 variables with their defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct QuerierConfig {
    /// §9.1 Robustness Variable.
    pub robustness: u8,
    /// §9.2 Query Interval.
    pub query_interval: Duration,
    /// §9.3 Query Response Interval (the Maximum Response Delay of General Queries).
    pub query_response_interval: Duration,
    /// §9.8 Last Listener Query Interval.
    pub last_listener_query_interval: Duration,
    /// Groups remembered; reports for more are ignored (and counted by the caller).
    pub max_groups: usize,
}

impl Default for QuerierConfig {
    fn default() -> Self {
        Self {
            robustness: 2,
            query_interval: Duration::from_secs(125),
            query_response_interval: Duration::from_secs(10),
            last_listener_query_interval: Duration::from_secs(1),
            max_groups: 1024,
        }
    }
}

impl QuerierConfig {
    /// §9.4 Multicast Address Listening Interval: RV × QI + QRI.
    pub fn listening_interval(&self) -> Duration {
        self.query_interval * u32::from(self.robustness) + self.query_response_interval
    }

    /// §9.5 Other Querier Present Timeout: RV × QI + QRI / 2.
    pub fn other_querier_present_timeout(&self) -> Duration {
        self.query_interval * u32::from(self.robustness) + self.query_response_interval / 2
    }

    /// §9.6 / §9.7 Startup Query Interval (QI / 4) and Count (RV).
    fn startup_interval(&self) -> Duration {
        self.query_interval / 4
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuerierAction {
    /// Send this whole ICMPv6 message (checksum 0) to `dst`, wrapped as MLD is: hop
    /// limit 1, Router Alert, link-local source.
    Send {
        dst: Ipv6Addr,
        message: Vec<u8>,
    },
    ListenersPresent(Ipv6Addr),
    ListenersGone(Ipv6Addr),
    /// This router stopped (false) or started (true) being the link's querier.
    Querier(bool),
}

#[derive(Debug, Clone, Copy)]
struct Group {
    /// When the group's listeners time out unless a report refreshes them.
    expires: Instant,
    /// Multicast-Address-Specific Queries still to send after a leave, and when.
    specific_left: u8,
    specific_at: Option<Instant>,
}

#[derive(Debug, Clone)]
pub struct Querier {
    cfg: QuerierConfig,
    running: bool,
    /// False while a querier with a lower address is heard (§7.6.2).
    is_querier: bool,
    other_querier_until: Option<Instant>,
    next_general: Option<Instant>,
    startup_left: u8,
    groups: BTreeMap<Ipv6Addr, Group>,
    ignored: u64,
}

impl Querier {
    pub fn new(cfg: QuerierConfig) -> Self {
        Self {
            cfg,
            running: false,
            is_querier: true,
            other_querier_until: None,
            next_general: None,
            startup_left: 0,
            groups: BTreeMap::new(),
            ignored: 0,
        }
    }

    pub fn config(&self) -> &QuerierConfig {
        &self.cfg
    }

    pub fn is_running(&self) -> bool {
        self.running
    }

    pub fn is_querier(&self) -> bool {
        self.running && self.is_querier
    }

    /// Reports ignored because the group table was full.
    pub fn ignored(&self) -> u64 {
        self.ignored
    }

    /// Groups that have listeners on the link, in address order.
    pub fn groups(&self) -> impl Iterator<Item = Ipv6Addr> + '_ {
        self.groups.keys().copied()
    }

    /// Groups that have listeners, with when they time out unless a report comes.
    pub fn listeners(&self) -> impl Iterator<Item = (Ipv6Addr, Instant)> + '_ {
        self.groups.iter().map(|(g, s)| (*g, s.expires))
    }

    pub fn has_listeners(&self, group: &Ipv6Addr) -> bool {
        self.groups.contains_key(group)
    }

    /// Link up: §7.6.1 startup — a General Query now, then [Startup Query Count] - 1 more
    /// at the Startup Query Interval.
    pub fn start(&mut self, now: Instant) {
        self.running = true;
        self.is_querier = true;
        self.other_querier_until = None;
        self.startup_left = self.cfg.robustness.max(1);
        self.next_general = Some(now);
    }

    pub fn stop(&mut self, out: &mut Vec<QuerierAction>) {
        self.running = false;
        self.next_general = None;
        for g in std::mem::take(&mut self.groups).into_keys() {
            out.push(QuerierAction::ListenersGone(g));
        }
    }

    fn general_query(&self) -> Option<Vec<u8>> {
        let max_ms = self.cfg.query_response_interval.as_millis();
        report::emit(mld::Repr::QueryV2 {
            max_resp_code: encode_max_resp_code(u32::try_from(max_ms).unwrap_or(u32::MAX)),
            mcast_addr: Ipv6Addr::UNSPECIFIED,
            flags: self.cfg.robustness.min(7),
            qqic: encode_qqic(self.cfg.query_interval.as_secs()),
            sources: &[],
        })
    }

    fn specific_query(&self, group: Ipv6Addr) -> Option<Vec<u8>> {
        let max_ms = self.cfg.last_listener_query_interval.as_millis();
        report::emit(mld::Repr::QueryV2 {
            max_resp_code: encode_max_resp_code(u32::try_from(max_ms).unwrap_or(u32::MAX)),
            mcast_addr: group,
            flags: self.cfg.robustness.min(7),
            qqic: encode_qqic(self.cfg.query_interval.as_secs()),
            sources: &[],
        })
    }

    /// A received MLD message. `my_addr` is this interface's link-local address (the
    /// election compares it with the query's source, §7.6.2).
    pub fn on_message(
        &mut self,
        now: Instant,
        src: Ipv6Addr,
        my_addr: Option<Ipv6Addr>,
        msg: &mld::Repr<'_>,
        out: &mut Vec<QuerierAction>,
    ) {
        if !self.running {
            return;
        }
        match msg {
            mld::Repr::QueryV1 { .. } | mld::Repr::QueryV2 { .. } => {
                if my_addr.is_some_and(|me| src < me) {
                    // §7.6.2: the lowest address is the querier.
                    if self.is_querier {
                        out.push(QuerierAction::Querier(false));
                    }
                    self.is_querier = false;
                    self.other_querier_until = Some(now + self.cfg.other_querier_present_timeout());
                }
            }
            mld::Repr::Report { mcast_addr } => self.listener(now, *mcast_addr, out),
            mld::Repr::Done { mcast_addr } => self.leave(now, *mcast_addr),
            mld::Repr::ReportV2 { .. } => {
                for r in msg.records().flatten() {
                    let group = r.mcast_addr();
                    let wants_nothing = r.num_sources() == 0
                        && matches!(
                            r.record_type(),
                            record_type::CHANGE_TO_INCLUDE | record_type::MODE_IS_INCLUDE
                        );
                    if wants_nothing {
                        // TO_IN {} is a leave (§7.4.2); IS_IN {} says nothing new.
                        if r.record_type() == record_type::CHANGE_TO_INCLUDE {
                            self.leave(now, group);
                        }
                    } else if r.record_type() != record_type::BLOCK_OLD_SOURCES {
                        self.listener(now, group, out);
                    }
                }
            }
        }
    }

    fn listener(&mut self, now: Instant, group: Ipv6Addr, out: &mut Vec<QuerierAction>) {
        // §5: no state for groups of interface- or link-local all-nodes kind.
        if !group.is_multicast() || group.octets()[1] & 0x0f <= 1 || group == super::ALL_NODES {
            return;
        }
        let expires = now + self.cfg.listening_interval();
        let room = self.groups.len() < self.cfg.max_groups;
        match self.groups.get_mut(&group) {
            Some(g) => {
                g.expires = expires;
                g.specific_left = 0;
                g.specific_at = None;
            }
            None if room => {
                self.groups.insert(
                    group,
                    Group {
                        expires,
                        specific_left: 0,
                        specific_at: None,
                    },
                );
                out.push(QuerierAction::ListenersPresent(group));
            }
            None => self.ignored += 1,
        }
    }

    /// §7.4.2 / RFC 2710 §7: a listener left: ask whether others remain (querier only),
    /// and let the group go after the Last Listener Query Time if nobody answers.
    fn leave(&mut self, now: Instant, group: Ipv6Addr) {
        let llqi = self.cfg.last_listener_query_interval;
        let rv = self.cfg.robustness.max(1);
        let querier = self.is_querier;
        if let Some(g) = self.groups.get_mut(&group) {
            let llqt = now + llqi * u32::from(rv);
            g.expires = g.expires.min(llqt);
            if querier && g.specific_at.is_none() {
                g.specific_left = rv;
                g.specific_at = Some(now);
            }
        }
    }

    pub fn poll(&mut self, now: Instant, out: &mut Vec<QuerierAction>) {
        if !self.running {
            return;
        }
        if self.other_querier_until.is_some_and(|t| t <= now) {
            // §7.6.2: the other querier went quiet: we take over.
            self.other_querier_until = None;
            self.is_querier = true;
            self.next_general = Some(now);
            out.push(QuerierAction::Querier(true));
        }
        if self.is_querier && self.next_general.is_some_and(|t| t <= now) {
            if let Some(message) = self.general_query() {
                out.push(QuerierAction::Send {
                    dst: super::ALL_NODES,
                    message,
                });
            }
            // From now, not from the missed deadline: a clock jump sends one query.
            self.startup_left = self.startup_left.saturating_sub(1);
            let interval = if self.startup_left > 0 {
                self.cfg.startup_interval()
            } else {
                self.cfg.query_interval
            };
            self.next_general = Some(now + interval.max(Duration::from_millis(1)));
        }
        let mut gone = Vec::new();
        let mut queries = Vec::new();
        let llqi = self
            .cfg
            .last_listener_query_interval
            .max(Duration::from_millis(1));
        for (addr, g) in &mut self.groups {
            if g.expires <= now {
                gone.push(*addr);
                continue;
            }
            if g.specific_at.is_some_and(|t| t <= now) {
                if self.is_querier {
                    queries.push(*addr);
                }
                g.specific_left = g.specific_left.saturating_sub(1);
                g.specific_at = (g.specific_left > 0).then(|| now + llqi);
            }
        }
        for addr in queries {
            if let Some(message) = self.specific_query(addr) {
                out.push(QuerierAction::Send { dst: addr, message });
            }
        }
        for addr in gone {
            self.groups.remove(&addr);
            out.push(QuerierAction::ListenersGone(addr));
        }
    }

    pub fn poll_at(&self) -> Option<Instant> {
        if !self.running {
            return None;
        }
        let mut at = self.other_querier_until;
        let mut take = |t: Option<Instant>| {
            if let Some(t) = t {
                at = Some(at.map_or(t, |a: Instant| a.min(t)));
            }
        };
        if self.is_querier {
            take(self.next_general);
        }
        for g in self.groups.values() {
            take(Some(g.expires));
            take(g.specific_at);
        }
        at
    }
}

/// RFC 3810 §5.1.3: the Maximum Response Code for `ms` milliseconds (exact below 32768,
/// else the floating-point form rounded down).
pub fn encode_max_resp_code(ms: u32) -> u16 {
    if ms < 0x8000 {
        return ms as u16;
    }
    for exp in 0u32..8 {
        let mant = (ms >> (exp + 3)).saturating_sub(0x1000);
        if (ms >> (exp + 3)) < 0x2000 {
            return 0x8000 | ((exp as u16) << 12) | (mant as u16 & 0x0fff);
        }
    }
    0xffff
}

/// RFC 3810 §5.1.9: the Querier's Query Interval Code for `secs` seconds.
pub fn encode_qqic(secs: u64) -> u8 {
    if secs < 128 {
        return secs as u8;
    }
    for exp in 0u64..8 {
        let v = secs >> (exp + 3);
        if v < 0x20 {
            return 0x80 | ((exp as u8) << 4) | ((v.saturating_sub(0x10)) as u8 & 0x0f);
        }
    }
    0xff
}

#[cfg(test)]
mod tests {
    use super::*;
    use sixstack_wire::icmpv6;
    use sixstack_wire::mld::decode_max_resp_code;

    fn a(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    fn parse(message: &[u8]) -> (u16, Ipv6Addr) {
        let p = icmpv6::Packet::new_checked(message).unwrap();
        match icmpv6::Repr::parse(&p).unwrap() {
            icmpv6::Repr::Mld(mld::Repr::QueryV2 {
                max_resp_code,
                mcast_addr,
                ..
            }) => (max_resp_code, mcast_addr),
            other => panic!("not a v2 query: {other:?}"),
        }
    }

    fn sends(out: &[QuerierAction]) -> Vec<(Ipv6Addr, u16, Ipv6Addr)> {
        out.iter()
            .filter_map(|x| match x {
                QuerierAction::Send { dst, message } => {
                    let (code, group) = parse(message);
                    Some((*dst, code, group))
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn rfc3810_7_6_1_startup_queries_then_query_interval() {
        let mut q = Querier::new(QuerierConfig::default());
        let mut out = Vec::new();
        q.start(Instant::ZERO);
        q.poll(Instant::ZERO, &mut out);
        let s = sends(&out);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].0, a("ff02::1"));
        assert_eq!(decode_max_resp_code(s[0].1), 10_000);
        assert_eq!(s[0].2, Ipv6Addr::UNSPECIFIED);
        // Startup interval QI/4 = 31.25 s, then QI.
        assert_eq!(q.poll_at(), Some(Instant::from_micros(31_250_000)));
        out.clear();
        q.poll(Instant::from_micros(31_250_000), &mut out);
        assert_eq!(sends(&out).len(), 1);
        assert_eq!(
            q.poll_at(),
            Some(Instant::from_micros(31_250_000 + 125_000_000))
        );
    }

    #[test]
    fn rfc3810_7_6_2_lower_address_wins_election() {
        let mut q = Querier::new(QuerierConfig::default());
        let mut out = Vec::new();
        q.start(Instant::ZERO);
        q.poll(Instant::ZERO, &mut out);
        let query = mld::Repr::QueryV2 {
            max_resp_code: 10_000,
            mcast_addr: Ipv6Addr::UNSPECIFIED,
            flags: 2,
            qqic: 125,
            sources: &[],
        };
        out.clear();
        // A higher address does not silence us; a lower one does.
        q.on_message(
            Instant::from_secs(1),
            a("fe80::9"),
            Some(a("fe80::5")),
            &query,
            &mut out,
        );
        assert!(q.is_querier());
        q.on_message(
            Instant::from_secs(1),
            a("fe80::1"),
            Some(a("fe80::5")),
            &query,
            &mut out,
        );
        assert!(!q.is_querier());
        assert_eq!(out, vec![QuerierAction::Querier(false)]);
        out.clear();
        q.poll(Instant::from_secs(200), &mut out);
        assert!(
            sends(&out).is_empty(),
            "a non-querier sends no General Query"
        );
        // Other Querier Present Timeout = 2 × 125 + 5 = 255 s after the last query heard.
        q.poll(Instant::from_secs(256), &mut out);
        assert!(q.is_querier());
        assert_eq!(sends(&out).len(), 1);
    }

    #[test]
    fn rfc3810_7_4_2_leave_sends_specific_queries_then_group_expires() {
        let mut q = Querier::new(QuerierConfig::default());
        let mut out = Vec::new();
        q.start(Instant::ZERO);
        let g = a("ff05::db8:1");
        q.on_message(
            Instant::ZERO,
            a("fe80::2"),
            None,
            &mld::Repr::Report { mcast_addr: g },
            &mut out,
        );
        assert!(q.has_listeners(&g));
        assert!(out.contains(&QuerierAction::ListenersPresent(g)));
        out.clear();
        q.on_message(
            Instant::from_secs(5),
            a("fe80::2"),
            None,
            &mld::Repr::Done { mcast_addr: g },
            &mut out,
        );
        q.poll(Instant::from_secs(5), &mut out);
        q.poll(Instant::from_secs(6), &mut out);
        let specific: Vec<_> = sends(&out).into_iter().filter(|s| s.2 == g).collect();
        assert_eq!(specific.len(), 2, "Last Listener Query Count = RV = 2");
        assert!(
            specific
                .iter()
                .all(|s| s.0 == g && decode_max_resp_code(s.1) == 1000)
        );
        q.poll(Instant::from_secs(7), &mut out);
        assert!(!q.has_listeners(&g));
        assert!(out.contains(&QuerierAction::ListenersGone(g)));
    }

    #[test]
    fn rfc3810_9_4_listeners_time_out_without_reports() {
        let mut q = Querier::new(QuerierConfig::default());
        let mut out = Vec::new();
        q.start(Instant::ZERO);
        let g = a("ff0e::1");
        q.on_message(
            Instant::ZERO,
            a("fe80::2"),
            None,
            &mld::Repr::Report { mcast_addr: g },
            &mut out,
        );
        q.poll(Instant::from_secs(259), &mut out);
        assert!(q.has_listeners(&g));
        q.poll(Instant::from_secs(260), &mut out);
        assert!(!q.has_listeners(&g), "MALI = 2 × 125 + 10 = 260 s");
    }

    #[test]
    fn rfc3810_5_1_3_max_resp_code_round_trips() {
        for ms in [
            0u32, 1, 10_000, 32_767, 32_768, 100_000, 1_000_000, 8_387_584,
        ] {
            let code = encode_max_resp_code(ms);
            let back = decode_max_resp_code(code);
            assert!(
                back <= ms && ms - back < ms / 1000 + 8,
                "{ms} -> {code:#x} -> {back}"
            );
        }
    }
}
