//! The per-interface address table and stateless autoconfiguration (RFC 4862). It owns
//! every unicast address of one interface — link-local, SLAAC, temporary, manual — and
//! their states and lifetimes; it runs Duplicate Address Detection on each (with RFC 7527
//! nonces), forms interface identifiers (RFC 7217 stable opaque by default, modified
//! EUI-64 on request, RFC 8981 temporary when enabled) and expires addresses as their
//! lifetimes run out. Pure: the glue turns [`SlaacAction`]s into packets and group
//! memberships, and hands back the NS, NA and Prefix Information it receives.

mod stable;
mod temporary;

use std::fmt;
use std::net::Ipv6Addr;

use sixstack_wire::addr::Ipv6AddrExt;

use crate::rng::Rng;
use crate::time::{Duration, Instant};

pub use stable::{eui64, is_reserved_iid, stable_iid};
pub use temporary::TemporaryConfig;

/// How SLAAC and link-local interface identifiers are formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IidMode {
    /// RFC 7217 stable opaque identifiers: the same on the same network, different on
    /// every other, and they do not reveal the MAC (RFC 8064 recommends them).
    #[default]
    Stable,
    /// Modified EUI-64 from the MAC (RFC 4291 appendix A). Links without a MAC fall back
    /// to [`IidMode::Stable`].
    Eui64,
}

/// Autoconfiguration variables of one interface, with the RFCs' defaults.
#[derive(Clone)]
pub struct SlaacConfig {
    /// DupAddrDetectTransmits (RFC 4862 §5.1): NSs sent per DAD; 0 turns DAD off and
    /// addresses are preferred at once. Default 1.
    pub dup_addr_detect_transmits: u32,
    /// MAX_RTR_SOLICITATION_DELAY (RFC 4861 §10, used by RFC 4862 §5.4.2): the bound of
    /// the random delay before the first DAD probe after link up and before probing an
    /// address formed from a (multicast) Router Advertisement. Default 1 s.
    pub max_rtr_solicitation_delay: Duration,
    /// RetransTimer's initial value (RFC 4861 §10 RETRANS_TIMER), until
    /// [`AddrTable::set_retrans_timer`] gives the one a router advertised. Default 1 s.
    pub retrans_timer: Duration,
    /// How identifiers are formed; default [`IidMode::Stable`].
    pub iid_mode: IidMode,
    /// secret_key of RFC 7217 §5 (also keys temporary identifiers). The default, all
    /// zeros, is a placeholder: a node MUST be given a random secret that persists across
    /// restarts, or its "stable" addresses can be computed by anyone.
    pub stable_secret: [u8; 32],
    /// IDGEN_RETRIES (RFC 7217 §7): new identifiers tried after a DAD failure before
    /// giving up on the prefix. Default 3.
    pub idgen_retries: u32,
    /// RFC 8981 temporary addresses; off by default.
    pub temporary: TemporaryConfig,
    /// Addresses per interface, every kind and state counted. A Prefix Information flood
    /// beyond it is refused; the one eviction is of duplicates already replaced by a new
    /// identifier, because evicting a working address would let a flood take it away.
    /// Default 32.
    pub max_addresses: usize,
}

impl Default for SlaacConfig {
    fn default() -> Self {
        Self {
            dup_addr_detect_transmits: 1,
            max_rtr_solicitation_delay: Duration::from_secs(1),
            retrans_timer: Duration::from_secs(1),
            iid_mode: IidMode::Stable,
            stable_secret: [0; 32],
            idgen_retries: 3,
            temporary: TemporaryConfig::default(),
            max_addresses: 32,
        }
    }
}

/// The secret stays out of logs.
impl fmt::Debug for SlaacConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SlaacConfig")
            .field("dup_addr_detect_transmits", &self.dup_addr_detect_transmits)
            .field(
                "max_rtr_solicitation_delay",
                &self.max_rtr_solicitation_delay,
            )
            .field("retrans_timer", &self.retrans_timer)
            .field("iid_mode", &self.iid_mode)
            .field("stable_secret", &"<hidden>")
            .field("idgen_retries", &self.idgen_retries)
            .field("temporary", &self.temporary)
            .field("max_addresses", &self.max_addresses)
            .finish()
    }
}

/// RFC 4862 §2 address states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddrState {
    /// DAD not yet passed: the address is not used, and NSs for it are not answered.
    Tentative,
    Preferred,
    /// Valid but its preferred lifetime is over: kept for existing communication only.
    Deprecated,
    /// DAD found another node with it (RFC 4862 §5.4.5). Visible, never used.
    Duplicate,
}

/// Where an address came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Origin {
    /// The interface's own fe80::/64 address (RFC 4862 §5.3).
    LinkLocal,
    /// SLAAC from a Prefix Information option, RFC 7217 or modified EUI-64 (§5.5.3).
    Stable,
    /// RFC 8981.
    Temporary,
    /// Configured by the operator.
    Manual,
}

/// One address of the interface.
#[derive(Debug, Clone)]
pub struct AddrEntry {
    pub addr: Ipv6Addr,
    pub prefix_len: u8,
    pub state: AddrState,
    pub origin: Origin,
    /// [`Instant::FAR_FUTURE`] for an infinite lifetime.
    pub valid_until: Instant,
    pub preferred_until: Instant,
    iid: Iid,
    dad: Dad,
    /// Whether a JoinGroup for its solicited-node group has been emitted on its behalf.
    joined: bool,
    /// A duplicate whose identifier was replaced by a new one (RFC 7217 §6, RFC 8981
    /// §3.4 step 7): it stays Duplicate across link down and up, and is the first to go
    /// when the table is full.
    superseded: bool,
}

/// How the interface identifier was made: decides what a DAD failure does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Iid {
    Manual,
    /// Hardware-derived (modified EUI-64).
    Eui64,
    Stable {
        dad_counter: u32,
    },
    Temporary {
        created: Instant,
        desync: Duration,
        /// DAD_Counter of RFC 8981 §3.4 step 7: failures so far in this address's line.
        attempt: u32,
        /// Whether this address already scheduled its successor (§3.5); only the newest
        /// temporary address of a prefix does so.
        regenerated: bool,
    },
}

/// Nonces of recent probes. A looped-back probe comes back within about one RetransTimer,
/// so a few of the latest are enough; they are kept across DAD runs so that a late
/// loop-back after a restart is still recognised.
const NONCE_MEMORY: usize = 8;

#[derive(Debug, Clone)]
struct Dad {
    /// When the next step is due: a probe while `probes_left > 0`, else the end of DAD.
    /// `None`: no DAD running (link down, done, or interface disabled).
    next: Option<Instant>,
    probes_left: u32,
    nonces: [[u8; 6]; NONCE_MEMORY],
    sent: usize,
}

impl Dad {
    fn new() -> Self {
        Self {
            next: None,
            probes_left: 0,
            nonces: [[0; 6]; NONCE_MEMORY],
            sent: 0,
        }
    }

    fn remember(&mut self, nonce: [u8; 6]) {
        self.nonces[self.sent % NONCE_MEMORY] = nonce;
        self.sent = self.sent.wrapping_add(1);
    }

    fn sent_nonce(&self, nonce: &[u8]) -> bool {
        let stored = self.sent.min(NONCE_MEMORY);
        self.nonces[..stored].iter().any(|n| n[..] == *nonce)
    }
}

impl AddrEntry {
    fn new(
        addr: Ipv6Addr,
        prefix_len: u8,
        origin: Origin,
        iid: Iid,
        valid_until: Instant,
        preferred_until: Instant,
    ) -> Self {
        Self {
            addr,
            prefix_len,
            state: AddrState::Tentative,
            origin,
            valid_until,
            preferred_until: preferred_until.min(valid_until),
            iid,
            dad: Dad::new(),
            joined: false,
            superseded: false,
        }
    }

    fn is_assigned(&self) -> bool {
        matches!(self.state, AddrState::Preferred | AddrState::Deprecated)
    }

    /// When a preferred temporary address must make its successor (RFC 8981 §3.5:
    /// REGEN_ADVANCE before it would be deprecated).
    fn regen_at(&self, regen_advance: Duration) -> Option<Instant> {
        match self.iid {
            Iid::Temporary {
                regenerated: false, ..
            } if self.state == AddrState::Preferred
                && self.preferred_until != Instant::FAR_FUTURE =>
            {
                Some(self.preferred_until - regen_advance)
            }
            _ => None,
        }
    }
}

/// What the glue must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlaacAction {
    /// DAD probe: the glue sends an NS from :: to solicited_node(target), hop limit 255,
    /// with a Nonce option carrying `nonce` (RFC 7527).
    SendDadSolicit {
        target: Ipv6Addr,
        nonce: [u8; 6],
    },
    /// Join before the first probe (RFC 4862 §5.4.2 MUST join all-nodes and
    /// solicited-node before sending the NS); leave when the address goes. Groups are
    /// counted here: one JoinGroup per group however many addresses share it.
    JoinGroup(Ipv6Addr),
    LeaveGroup(Ipv6Addr),
    /// DAD finished: the glue may send an unsolicited NA (optional) — tell it.
    AddressReady(Ipv6Addr),
    /// `None` = added / removed.
    StateChanged {
        addr: Ipv6Addr,
        from: Option<AddrState>,
        to: Option<AddrState>,
    },
    /// DAD failed on an address whose IID is hardware-derived (EUI-64 link-local):
    /// RFC 4862 §5.4.5 says IP operation SHOULD be disabled on the interface.
    InterfaceDisabled,
}

/// The fields of a Prefix Information option (RFC 4861 §4.6.2) that SLAAC uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrefixInfo {
    pub prefix: Ipv6Addr,
    pub prefix_len: u8,
    /// The A flag.
    pub autonomous: bool,
    /// Seconds; 0xffffffff is infinity.
    pub valid_lifetime: u32,
    /// Seconds; 0xffffffff is infinity.
    pub preferred_lifetime: u32,
}

/// Why things were refused or noticed, for `stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SlaacCounters {
    /// Prefix Information options ignored by RFC 4862 §5.5.3 (a)–(d) or as unusable.
    pub pio_ignored: u64,
    /// Addresses not added because the table was full.
    pub table_full: u64,
    pub dad_failures: u64,
    /// Our own probes heard back (RFC 7527), not counted as duplicates.
    pub looped_back_probes: u64,
}

const LINK_LOCAL_PREFIX: u64 = 0xfe80_0000_0000_0000;
const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
/// RFC 4862 §5.5.3 (e).
const TWO_HOURS: Duration = Duration::from_secs(2 * 3600);

fn prefix_of(addr: &Ipv6Addr) -> u64 {
    (u128::from(*addr) >> 64) as u64
}

fn make_addr(prefix: u64, iid: [u8; 8]) -> Ipv6Addr {
    Ipv6Addr::from((u128::from(prefix) << 64) | u128::from(u64::from_be_bytes(iid)))
}

/// The end of a lifetime given in seconds; 0xffffffff is infinity (RFC 4861 §4.6.2).
fn lifetime_end(now: Instant, secs: u32) -> Instant {
    if secs == u32::MAX {
        Instant::FAR_FUTURE
    } else {
        now + Duration::from_secs(secs.into())
    }
}

/// RFC 4862 §5.5.3 (e): the new end of an autoconfigured address's valid lifetime when a
/// PIO for its prefix says `received` seconds. A forged RA can shorten a lifetime to two
/// hours at the least, never kill an address at once.
fn two_hour_rule(now: Instant, valid_until: Instant, received: u32) -> Instant {
    let advertised = lifetime_end(now, received);
    let remaining = valid_until.saturating_duration_since(now);
    let received_dur = Duration::from_secs(received.into());
    // 1. More than two hours, or longer than what is left: take it.
    if received == u32::MAX
        || received_dur > TWO_HOURS
        || (valid_until != Instant::FAR_FUTURE && advertised > valid_until)
    {
        return advertised;
    }
    // 2. Two hours or less left: the option does not shorten it (no SEND here).
    if valid_until != Instant::FAR_FUTURE && remaining <= TWO_HOURS {
        return valid_until;
    }
    // 3. Otherwise two hours.
    now + TWO_HOURS
}

/// The addresses of one interface and their autoconfiguration.
#[derive(Debug)]
pub struct AddrTable {
    cfg: SlaacConfig,
    net_iface: Vec<u8>,
    network_id: Vec<u8>,
    mac: Option<[u8; 6]>,
    retrans_timer: Duration,
    /// Insertion order: the order `iter` gives. Never longer than `cfg.max_addresses`.
    entries: Vec<AddrEntry>,
    /// Between `start` and `stop`: the link is up and DAD may send.
    running: bool,
    /// False after RFC 4862 §5.4.5 disabled IP on the interface.
    enabled: bool,
    all_nodes_joined: bool,
    /// RFC 8981 §3.4 step 7: TEMP_IDGEN_RETRIES ran out on this interface.
    temp_gave_up: bool,
    counters: SlaacCounters,
}

impl AddrTable {
    /// `net_iface`: the interface's stable identity for RFC 7217 (the glue passes the MAC
    /// bytes); `mac`: for EUI-64 (None on links without one, e.g. point-to-point: then
    /// use the stable mode).
    pub fn new(cfg: SlaacConfig, net_iface: Vec<u8>, mac: Option<[u8; 6]>) -> Self {
        let retrans_timer = if cfg.retrans_timer.is_zero() {
            Duration::from_secs(1)
        } else {
            cfg.retrans_timer
        };
        Self {
            cfg,
            net_iface,
            network_id: Vec::new(),
            mac,
            retrans_timer,
            entries: Vec::new(),
            running: false,
            enabled: true,
            all_nodes_joined: false,
            temp_gave_up: false,
            counters: SlaacCounters::default(),
        }
    }

    pub fn config(&self) -> &SlaacConfig {
        &self.cfg
    }

    pub fn counters(&self) -> SlaacCounters {
        self.counters
    }

    /// RFC 7217 Network_ID (e.g. a Wi-Fi SSID); empty by default. Only addresses formed
    /// afterwards use it.
    pub fn set_network_id(&mut self, network_id: Vec<u8>) {
        self.network_id = network_id;
    }

    /// RetransTimer spaces DAD probes; 1 s default. Zero is "unspecified" in an RA
    /// (RFC 4861 §6.3.4) and keeps the current value.
    pub fn set_retrans_timer(&mut self, d: Duration) {
        if !d.is_zero() {
            self.retrans_timer = d;
        }
    }

    /// REGEN_ADVANCE (RFC 8981 §3.8) with the current DupAddrDetectTransmits and
    /// RetransTimer.
    pub fn regen_advance(&self) -> Duration {
        self.cfg
            .temporary
            .regen_advance(self.cfg.dup_addr_detect_transmits, self.retrans_timer)
    }

    fn active(&self) -> bool {
        self.running && self.enabled
    }

    /// Link up (or interface added): form the link-local address (fe80::/64) and start
    /// DAD on everything (§5.4: DAD again after link up). Also re-enables an interface
    /// that §5.4.5 disabled: the link going down and up is the moment to try again, and
    /// a duplicate still present is found again.
    pub fn start(&mut self, now: Instant, rng: &mut Rng, out: &mut Vec<SlaacAction>) {
        self.running = true;
        self.enabled = true;
        self.temp_gave_up = false;
        if !self.all_nodes_joined {
            // RFC 4862 §5.4.2: all-nodes joined before any probe.
            out.push(SlaacAction::JoinGroup(ALL_NODES));
            self.all_nodes_joined = true;
        }
        // Lifetimes do not run while the link is down: what ran out meanwhile goes now,
        // rather than through DAD again.
        self.expire(now, out);
        if !self.entries.iter().any(|e| e.origin == Origin::LinkLocal) {
            self.form_link_local(out);
        }
        for i in 0..self.entries.len() {
            let e = &self.entries[i];
            if e.superseded {
                continue;
            }
            self.set_state(i, AddrState::Tentative, out);
            // RFC 4862 §5.4.2: the first message after (re)initialization is delayed.
            let delay = rng.duration_up_to(self.cfg.max_rtr_solicitation_delay);
            self.begin_dad(i, now, delay, rng, out);
        }
    }

    /// Link down: stop timers; addresses stay but go back to Tentative so start()
    /// re-runs DAD. Duplicates that nothing replaced get another chance then too.
    pub fn stop(&mut self, out: &mut Vec<SlaacAction>) {
        self.running = false;
        for i in 0..self.entries.len() {
            self.entries[i].dad.next = None;
            if !self.entries[i].superseded {
                self.set_state(i, AddrState::Tentative, out);
            }
        }
    }

    /// Adds an operator's address; it gets DAD like any other (RFC 4862 §5.4). `valid`:
    /// None for an infinite lifetime; the address is preferred for all of it.
    pub fn add_manual(
        &mut self,
        now: Instant,
        rng: &mut Rng,
        addr: Ipv6Addr,
        prefix_len: u8,
        valid: Option<Duration>,
        out: &mut Vec<SlaacAction>,
    ) -> Result<(), &'static str> {
        // ::1 is refused by the stack on all but the loopback interface, which gets it here.
        if addr.is_unspecified() || addr.is_multicast() {
            return Err("not a unicast address an interface can have");
        }
        if prefix_len > 128 {
            return Err("prefix length above 128");
        }
        if valid.is_some_and(|d| d.is_zero()) {
            return Err("zero valid lifetime");
        }
        if self.position(&addr).is_some() {
            return Err("address already on the interface");
        }
        let until = valid.map_or(Instant::FAR_FUTURE, |d| now + d);
        let entry = AddrEntry::new(addr, prefix_len, Origin::Manual, Iid::Manual, until, until);
        let Some(i) = self.insert(entry, out) else {
            return Err("address table full");
        };
        if self.active() {
            self.begin_dad(i, now, Duration::ZERO, rng, out);
        }
        Ok(())
    }

    /// Removes an address of any origin and state.
    pub fn remove(&mut self, addr: &Ipv6Addr, out: &mut Vec<SlaacAction>) -> bool {
        match self.position(addr) {
            Some(i) => {
                self.remove_at(i, out);
                true
            }
            None => false,
        }
    }

    /// RFC 4862 §5.5.3, with RFC 8981 §3.4 for temporary addresses.
    pub fn on_prefix_info(
        &mut self,
        now: Instant,
        rng: &mut Rng,
        pio: &PrefixInfo,
        out: &mut Vec<SlaacAction>,
    ) {
        if !self.enabled {
            return;
        }
        let prefix = prefix_of(&pio.prefix);
        let unusable =
            // (a) not for autoconfiguration.
            !pio.autonomous
            // (b) the link-local prefix is ours to form (§5.3), never a router's to give.
            || pio.prefix.is_link_local_unicast()
            // (c) MUST be ignored.
            || pio.preferred_lifetime > pio.valid_lifetime
            // (d) an interface identifier is 64 bits on every link we run (RFC 4291
            // §2.5.1), so any other length cannot make a 128-bit address: MUST ignore.
            || pio.prefix_len != 64
            // ff00::/8 would make multicast addresses; ::/64 holds ::, ::1 and the
            // IPv4-mapped and -compatible ranges, none of them an interface's address.
            || pio.prefix.is_multicast()
            || prefix == 0;
        if unusable {
            self.counters.pio_ignored += 1;
            return;
        }
        let preferred_end = lifetime_end(now, pio.preferred_lifetime);
        let known = self
            .entries
            .iter()
            .any(|e| e.origin == Origin::Stable && prefix_of(&e.addr) == prefix);
        if !known {
            // (d) a new prefix with a zero valid lifetime forms nothing.
            if pio.valid_lifetime == 0 {
                return;
            }
            let valid_end = lifetime_end(now, pio.valid_lifetime);
            if self.form_slaac(now, rng, prefix, valid_end, preferred_end, out) {
                // RFC 8981 §3.4: a temporary address beside each new public one.
                let delay = rng.duration_up_to(self.cfg.max_rtr_solicitation_delay);
                self.create_temp(now, rng, prefix, valid_end, preferred_end, 0, delay, out);
            }
            return;
        }
        // (e) the prefix is known: reset lifetimes of its autoconfigured addresses, the
        // temporary ones included (RFC 8981 §3.4 step 1) but never past their own limits.
        let temp = self.cfg.temporary;
        for i in 0..self.entries.len() {
            let e = &mut self.entries[i];
            if prefix_of(&e.addr) != prefix
                || !matches!(e.origin, Origin::Stable | Origin::Temporary)
            {
                continue;
            }
            let valid = two_hour_rule(now, e.valid_until, pio.valid_lifetime);
            match e.iid {
                Iid::Temporary {
                    created, desync, ..
                } => {
                    // RFC 8981 §3.4 step 2: never valid longer than TEMP_VALID_LIFETIME,
                    // nor preferred longer than TEMP_PREFERRED_LIFETIME - DESYNC_FACTOR,
                    // counted from creation.
                    e.valid_until = valid.min(created + temp.temp_valid_lifetime);
                    let pref_cap = created + temp.temp_preferred_lifetime.saturating_sub(desync);
                    e.preferred_until = preferred_end.min(pref_cap).min(e.valid_until);
                }
                _ => {
                    e.valid_until = valid;
                    e.preferred_until = preferred_end.min(valid);
                }
            }
            let preferred = e.preferred_until > now;
            match e.state {
                AddrState::Preferred if !preferred => self.set_state(i, AddrState::Deprecated, out),
                // RFC 4862 §5.5.4: a longer preferred lifetime makes it preferred again.
                AddrState::Deprecated if preferred => self.set_state(i, AddrState::Preferred, out),
                _ => {}
            }
        }
        // RFC 8981 §3.4 step 3: no temporary address in use for the prefix (never made,
        // or all deprecated) — make one. Not when the prefix itself is deprecated (§3.5).
        if pio.preferred_lifetime > 0 {
            let has_current_temp = self.entries.iter().any(|e| {
                e.origin == Origin::Temporary
                    && prefix_of(&e.addr) == prefix
                    && matches!(e.state, AddrState::Tentative | AddrState::Preferred)
            });
            if !has_current_temp && let Some((valid_end, pref_end)) = self.prefix_lifetimes(prefix)
            {
                let delay = rng.duration_up_to(self.cfg.max_rtr_solicitation_delay);
                self.create_temp(now, rng, prefix, valid_end, pref_end, 0, delay, out);
            }
        }
    }

    /// An NS from the unspecified address targeting one of our addresses (§5.4.3).
    /// Returns true when the glue must not answer it: the target is tentative (or a
    /// duplicate, which is not ours), or the NS is our own probe looped back.
    pub fn on_dad_solicit(
        &mut self,
        now: Instant,
        rng: &mut Rng,
        target: &Ipv6Addr,
        nonce: Option<&[u8]>,
        out: &mut Vec<SlaacAction>,
    ) -> bool {
        let Some(i) = self.position(target) else {
            return false;
        };
        // RFC 7527 §4: a nonce we sent for this target means the probe is ours. The
        // probe is ignored and DAD goes on as planned; the extra rounds of probing that
        // RFC 7527 describes while probes keep looping back (for loop-back tests on a
        // circuit) are not done: on a link that reflects every multicast, as some
        // wireless access points do, the address would never leave Tentative.
        if nonce.is_some_and(|n| self.entries[i].dad.sent_nonce(n)) {
            self.counters.looped_back_probes += 1;
            return true;
        }
        match self.entries[i].state {
            AddrState::Tentative => {
                // §5.4.3: another node is probing the same tentative address.
                if self.enabled {
                    self.dad_failed(i, now, rng, out);
                }
                true
            }
            AddrState::Duplicate => true,
            AddrState::Preferred | AddrState::Deprecated => !self.enabled,
        }
    }

    /// An NA for one of our addresses (§5.4.4): tentative -> Duplicate (and regenerate
    /// for RFC 7217 / temporary). An NA for an assigned address changes nothing here.
    pub fn on_advert(
        &mut self,
        now: Instant,
        rng: &mut Rng,
        target: &Ipv6Addr,
        out: &mut Vec<SlaacAction>,
    ) {
        if !self.enabled {
            return;
        }
        if let Some(i) = self.position(target)
            && self.entries[i].state == AddrState::Tentative
        {
            self.dad_failed(i, now, rng, out);
        }
    }

    /// RFC 4862 §5.5.4: an address whose valid lifetime ran out is removed.
    fn expire(&mut self, now: Instant, out: &mut Vec<SlaacAction>) {
        let mut i = 0;
        while i < self.entries.len() {
            if self.entries[i].valid_until <= now {
                self.remove_at(i, out);
            } else {
                i += 1;
            }
        }
    }

    /// Probes, DAD completion, preferred -> deprecated, valid expiry, temporary
    /// regeneration. However far `now` jumped, each of these happens at most once per
    /// address per call: no loop over elapsed periods, no burst of probes.
    pub fn poll(&mut self, now: Instant, rng: &mut Rng, out: &mut Vec<SlaacAction>) {
        // RFC 8981 §3.5: a successor REGEN_ADVANCE before deprecation. Before expiry, so
        // that a jump past a temporary address's whole life still leaves a successor.
        if self.active() && self.cfg.temporary.enabled && !self.temp_gave_up {
            let regen = self.regen_advance();
            let due: Vec<Ipv6Addr> = self
                .entries
                .iter()
                .filter(|e| e.regen_at(regen).is_some_and(|t| t <= now))
                .map(|e| e.addr)
                .collect();
            for addr in due {
                let prefix = prefix_of(&addr);
                // An earlier successor in this loop may already have taken over.
                let Some(i) = self.position(&addr) else {
                    continue;
                };
                match &mut self.entries[i].iid {
                    Iid::Temporary { regenerated, .. } if !*regenerated => *regenerated = true,
                    _ => continue,
                }
                if let Some((valid_end, pref_end)) = self.prefix_lifetimes(prefix) {
                    self.create_temp(
                        now,
                        rng,
                        prefix,
                        valid_end,
                        pref_end,
                        0,
                        Duration::ZERO,
                        out,
                    );
                }
            }
        }
        self.expire(now, out);
        for i in 0..self.entries.len() {
            let e = &self.entries[i];
            if e.state == AddrState::Preferred && e.preferred_until <= now {
                self.set_state(i, AddrState::Deprecated, out);
            }
        }
        if self.active() {
            for i in 0..self.entries.len() {
                let e = &self.entries[i];
                if e.state == AddrState::Tentative && e.dad.next.is_some_and(|t| t <= now) {
                    self.dad_step(i, now, rng, out);
                }
            }
        }
    }

    pub fn poll_at(&self) -> Option<Instant> {
        let active = self.active();
        let temps = active && self.cfg.temporary.enabled && !self.temp_gave_up;
        let regen = self.regen_advance();
        let mut at: Option<Instant> = None;
        let mut consider = |t: Instant| {
            if t != Instant::FAR_FUTURE {
                at = Some(at.map_or(t, |a| a.min(t)));
            }
        };
        for e in &self.entries {
            consider(e.valid_until);
            if e.state == AddrState::Preferred {
                consider(e.preferred_until);
            }
            if active
                && e.state == AddrState::Tentative
                && let Some(t) = e.dad.next
            {
                consider(t);
            }
            if temps && let Some(t) = e.regen_at(regen) {
                consider(t);
            }
        }
        at
    }

    pub fn get(&self, addr: &Ipv6Addr) -> Option<&AddrEntry> {
        self.entries.iter().find(|e| e.addr == *addr)
    }

    /// In the order the addresses were added.
    pub fn iter(&self) -> impl Iterator<Item = &AddrEntry> {
        self.entries.iter()
    }

    /// Usable: Preferred or Deprecated, on an interface not disabled.
    pub fn is_assigned(&self, addr: &Ipv6Addr) -> bool {
        self.enabled && self.get(addr).is_some_and(AddrEntry::is_assigned)
    }

    pub fn is_tentative(&self, addr: &Ipv6Addr) -> bool {
        self.get(addr)
            .is_some_and(|e| e.state == AddrState::Tentative)
    }

    /// An assigned link-local address: the interface's own before a manual one.
    pub fn link_local(&self) -> Option<Ipv6Addr> {
        if !self.enabled {
            return None;
        }
        let assigned_ll = |e: &&AddrEntry| e.is_assigned() && e.addr.is_link_local_unicast();
        self.entries
            .iter()
            .filter(assigned_ll)
            .find(|e| e.origin == Origin::LinkLocal)
            .or_else(|| self.entries.iter().find(assigned_ll))
            .map(|e| e.addr)
    }

    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// Whether the glue should accept packets sent to `group`: all-nodes, and the
    /// solicited-node group of every address that is not a duplicate — tentative ones
    /// included even before their (delayed) JoinGroup, as RFC 4862 §5.4.2 requires
    /// reception during the delay.
    pub fn listens_to(&self, group: &Ipv6Addr) -> bool {
        *group == ALL_NODES
            || self
                .entries
                .iter()
                .any(|e| e.state != AddrState::Duplicate && e.addr.solicited_node() == *group)
    }

    // ---- internals ----

    fn position(&self, addr: &Ipv6Addr) -> Option<usize> {
        self.entries.iter().position(|e| e.addr == *addr)
    }

    fn set_state(&mut self, i: usize, to: AddrState, out: &mut Vec<SlaacAction>) {
        let e = &mut self.entries[i];
        if e.state != to {
            out.push(SlaacAction::StateChanged {
                addr: e.addr,
                from: Some(e.state),
                to: Some(to),
            });
            e.state = to;
        }
    }

    /// Adds a Tentative entry; `None` when the table is full and nothing may be evicted.
    fn insert(&mut self, entry: AddrEntry, out: &mut Vec<SlaacAction>) -> Option<usize> {
        if self.entries.len() >= self.cfg.max_addresses {
            match self.entries.iter().position(|e| e.superseded) {
                Some(old) => self.remove_at(old, out),
                None => {
                    self.counters.table_full += 1;
                    return None;
                }
            }
        }
        out.push(SlaacAction::StateChanged {
            addr: entry.addr,
            from: None,
            to: Some(AddrState::Tentative),
        });
        self.entries.push(entry);
        Some(self.entries.len() - 1)
    }

    fn remove_at(&mut self, i: usize, out: &mut Vec<SlaacAction>) {
        self.leave(i, out);
        let e = self.entries.remove(i);
        out.push(SlaacAction::StateChanged {
            addr: e.addr,
            from: Some(e.state),
            to: None,
        });
    }

    fn join(&mut self, i: usize, out: &mut Vec<SlaacAction>) {
        if self.entries[i].joined {
            return;
        }
        let group = self.entries[i].addr.solicited_node();
        if !self
            .entries
            .iter()
            .any(|e| e.joined && e.addr.solicited_node() == group)
        {
            out.push(SlaacAction::JoinGroup(group));
        }
        self.entries[i].joined = true;
    }

    fn leave(&mut self, i: usize, out: &mut Vec<SlaacAction>) {
        if !self.entries[i].joined {
            return;
        }
        self.entries[i].joined = false;
        let group = self.entries[i].addr.solicited_node();
        if !self
            .entries
            .iter()
            .any(|e| e.joined && e.addr.solicited_node() == group)
        {
            out.push(SlaacAction::LeaveGroup(group));
        }
    }

    /// Starts DAD on entry `i` (Tentative) after `delay`.
    fn begin_dad(
        &mut self,
        i: usize,
        now: Instant,
        delay: Duration,
        rng: &mut Rng,
        out: &mut Vec<SlaacAction>,
    ) {
        if self.cfg.dup_addr_detect_transmits == 0 {
            // §5.4: DupAddrDetectTransmits 0 means no DAD. The solicited-node group is
            // still needed to answer address resolution (RFC 4291 §2.8).
            self.join(i, out);
            self.finish_dad(i, now, out);
            return;
        }
        let e = &mut self.entries[i];
        e.dad.probes_left = self.cfg.dup_addr_detect_transmits;
        e.dad.next = Some(now + delay);
        if delay.is_zero() {
            self.dad_step(i, now, rng, out);
        }
    }

    /// One step of DAD: a probe, or, RetransTimer after the last one, the end.
    fn dad_step(&mut self, i: usize, now: Instant, rng: &mut Rng, out: &mut Vec<SlaacAction>) {
        // §5.4.2: MUST join the solicited-node group before sending the NS.
        self.join(i, out);
        let retrans = self.retrans_timer;
        let e = &mut self.entries[i];
        if e.dad.probes_left > 0 {
            let mut nonce = [0u8; 6];
            rng.fill_bytes(&mut nonce);
            e.dad.remember(nonce);
            e.dad.probes_left -= 1;
            // From `now`, not from when the step was due: a late poll does not burst.
            e.dad.next = Some(now + retrans);
            out.push(SlaacAction::SendDadSolicit {
                target: e.addr,
                nonce,
            });
        } else {
            self.finish_dad(i, now, out);
        }
    }

    fn finish_dad(&mut self, i: usize, now: Instant, out: &mut Vec<SlaacAction>) {
        let e = &mut self.entries[i];
        e.dad.next = None;
        let to = if e.preferred_until > now {
            AddrState::Preferred
        } else {
            AddrState::Deprecated
        };
        let addr = e.addr;
        self.set_state(i, to, out);
        out.push(SlaacAction::AddressReady(addr));
    }

    /// RFC 4862 §5.4.5: the address is not ours. What follows depends on how its
    /// identifier was made.
    fn dad_failed(&mut self, i: usize, now: Instant, rng: &mut Rng, out: &mut Vec<SlaacAction>) {
        self.counters.dad_failures += 1;
        self.entries[i].dad.next = None;
        self.set_state(i, AddrState::Duplicate, out);
        self.leave(i, out);
        let failed = self.entries[i].clone();
        let prefix = prefix_of(&failed.addr);
        match failed.iid {
            // §5.4.5: a hardware-derived link-local identifier should be unique; a
            // duplicate means a shared MAC, and IP operation SHOULD be disabled.
            Iid::Eui64 if failed.origin == Origin::LinkLocal => self.disable(out),
            Iid::Stable { dad_counter } => {
                // RFC 7217 §6: DAD_Counter + 1, up to IDGEN_RETRIES.
                let Some(next) = dad_counter.checked_add(1) else {
                    return;
                };
                let Some((addr, c)) = self.stable_candidate(prefix, next) else {
                    return;
                };
                let entry = AddrEntry::new(
                    addr,
                    failed.prefix_len,
                    failed.origin,
                    Iid::Stable { dad_counter: c },
                    failed.valid_until,
                    failed.preferred_until,
                );
                if let Some(j) = self.insert(entry, out) {
                    self.mark_superseded(&failed.addr);
                    if self.active() {
                        self.begin_dad(j, now, Duration::ZERO, rng, out);
                    }
                }
            }
            Iid::Temporary { attempt, .. } => {
                // RFC 8981 §3.4 step 7: a new random identifier, up to TEMP_IDGEN_RETRIES,
                // then no more temporary addresses on this interface.
                if attempt >= self.cfg.temporary.temp_idgen_retries {
                    self.temp_gave_up = true;
                    return;
                }
                let (valid_end, pref_end) = self
                    .prefix_lifetimes(prefix)
                    .unwrap_or((failed.valid_until, failed.preferred_until));
                if self.create_temp(
                    now,
                    rng,
                    prefix,
                    valid_end,
                    pref_end,
                    attempt + 1,
                    Duration::ZERO,
                    out,
                ) {
                    self.mark_superseded(&failed.addr);
                }
            }
            Iid::Eui64 | Iid::Manual => {}
        }
    }

    fn mark_superseded(&mut self, addr: &Ipv6Addr) {
        if let Some(k) = self.position(addr) {
            self.entries[k].superseded = true;
        }
    }

    fn disable(&mut self, out: &mut Vec<SlaacAction>) {
        if !self.enabled {
            return;
        }
        self.enabled = false;
        for e in &mut self.entries {
            e.dad.next = None;
        }
        out.push(SlaacAction::InterfaceDisabled);
    }

    /// The RFC 7217 address for `prefix` with the lowest DAD_Counter from `from` on whose
    /// identifier is neither reserved nor already on the interface (§5: such an
    /// identifier is handled like a DAD failure).
    fn stable_candidate(&self, prefix: u64, from: u32) -> Option<(Ipv6Addr, u32)> {
        let mut counter = from;
        while counter <= self.cfg.idgen_retries {
            let iid = stable_iid(
                prefix,
                &self.net_iface,
                &self.network_id,
                counter,
                &self.cfg.stable_secret,
            );
            let addr = make_addr(prefix, iid);
            if !is_reserved_iid(iid) && self.position(&addr).is_none() {
                return Some((addr, counter));
            }
            counter = counter.checked_add(1)?;
        }
        None
    }

    /// The identifier for `prefix` in the configured mode: EUI-64 when asked and the
    /// link has a MAC, else RFC 7217.
    fn candidate(&self, prefix: u64) -> Option<(Ipv6Addr, Iid)> {
        match (self.cfg.iid_mode, self.mac) {
            (IidMode::Eui64, Some(mac)) => {
                let addr = make_addr(prefix, eui64(mac));
                self.position(&addr).is_none().then_some((addr, Iid::Eui64))
            }
            _ => self
                .stable_candidate(prefix, 0)
                .map(|(addr, c)| (addr, Iid::Stable { dad_counter: c })),
        }
    }

    /// RFC 4862 §5.3: fe80::/64 and the interface identifier. DAD starts in `start`.
    fn form_link_local(&mut self, out: &mut Vec<SlaacAction>) {
        if let Some((addr, iid)) = self.candidate(LINK_LOCAL_PREFIX) {
            let far = Instant::FAR_FUTURE;
            let entry = AddrEntry::new(addr, 64, Origin::LinkLocal, iid, far, far);
            self.insert(entry, out);
        }
    }

    /// RFC 4862 §5.5.3 (d): a new address for a new prefix.
    fn form_slaac(
        &mut self,
        now: Instant,
        rng: &mut Rng,
        prefix: u64,
        valid_end: Instant,
        preferred_end: Instant,
        out: &mut Vec<SlaacAction>,
    ) -> bool {
        let Some((addr, iid)) = self.candidate(prefix) else {
            return false;
        };
        let entry = AddrEntry::new(addr, 64, Origin::Stable, iid, valid_end, preferred_end);
        let Some(i) = self.insert(entry, out) else {
            return false;
        };
        if self.active() {
            // §5.4.2: an address from a multicast RA is probed after a random delay, so
            // that every host on the link does not answer the same RA at once.
            let delay = rng.duration_up_to(self.cfg.max_rtr_solicitation_delay);
            self.begin_dad(i, now, delay, rng, out);
        }
        true
    }

    /// The lifetimes of a prefix: those of its SLAAC addresses, which follow the PIOs.
    fn prefix_lifetimes(&self, prefix: u64) -> Option<(Instant, Instant)> {
        self.entries
            .iter()
            .filter(|e| e.origin == Origin::Stable && prefix_of(&e.addr) == prefix)
            .map(|e| (e.valid_until, e.preferred_until))
            .reduce(|(v, p), (v2, p2)| (v.max(v2), p.max(p2)))
    }

    /// RFC 8981 §3.4 steps 4 to 7: a temporary address for `prefix`, whose lifetimes
    /// end at `prefix_valid` and `prefix_preferred`. False when none was made.
    #[allow(clippy::too_many_arguments)]
    fn create_temp(
        &mut self,
        now: Instant,
        rng: &mut Rng,
        prefix: u64,
        prefix_valid: Instant,
        prefix_preferred: Instant,
        attempt: u32,
        delay: Duration,
        out: &mut Vec<SlaacAction>,
    ) -> bool {
        let t = self.cfg.temporary;
        if !t.enabled || self.temp_gave_up {
            return false;
        }
        let regen = self.regen_advance();
        // Step 4: a DESYNC_FACTOR of its own; lifetimes the lower of the prefix's and
        // the temporary maxima.
        let desync = rng.duration_up_to(t.desync_bound(regen));
        let valid_until = prefix_valid.min(now + t.temp_valid_lifetime);
        let preferred_until = prefix_preferred
            .min(now + t.temp_preferred_lifetime.saturating_sub(desync))
            .min(valid_until);
        // Step 5: only when preferred for longer than REGEN_ADVANCE (never zero).
        if preferred_until.saturating_duration_since(now) <= regen {
            return false;
        }
        // Step 6 with §3.3.1: not reserved, not already on the interface. A clash is a
        // 2^-64 event, so a few draws are plenty; after them, no address this time.
        let mut chosen = None;
        for _ in 0..4 {
            let iid = temporary::temporary_iid(
                rng,
                prefix,
                &self.net_iface,
                &self.network_id,
                attempt,
                &self.cfg.stable_secret,
            );
            let addr = make_addr(prefix, iid);
            if !is_reserved_iid(iid) && self.position(&addr).is_none() {
                chosen = Some(addr);
                break;
            }
        }
        let Some(addr) = chosen else {
            return false;
        };
        let iid = Iid::Temporary {
            created: now,
            desync,
            attempt,
            regenerated: false,
        };
        let entry = AddrEntry::new(
            addr,
            64,
            Origin::Temporary,
            iid,
            valid_until,
            preferred_until,
        );
        let Some(i) = self.insert(entry, out) else {
            return false;
        };
        // Only the newest temporary address of a prefix makes the next one.
        for e in &mut self.entries {
            if let Iid::Temporary { regenerated, .. } = &mut e.iid
                && prefix_of(&e.addr) == prefix
                && e.addr != addr
            {
                *regenerated = true;
            }
        }
        if self.active() {
            // Step 7: DAD like any address.
            self.begin_dad(i, now, delay, rng, out);
        }
        true
    }
}

#[cfg(test)]
mod tests;
