//! The router side of Router Discovery on one advertising interface (RFC 4861 §6.2):
//! the router configuration variables (§6.2.1) and constants (§10), when to send
//! unsolicited, solicited and final Router Advertisements (§6.2.4–§6.2.6), and the RA
//! message itself (§6.2.3) with Prefix Information, MTU, Route Information (RFC 4191)
//! and RDNSS / DNSSL (RFC 8106) options. The glue owns the IPv6 header (link-local
//! source, hop limit 255, §6.2.3) and the checksum.

use core::net::Ipv6Addr;

use sixstack_wire::icmpv6;
use sixstack_wire::ndisc::{self, router_flags};
use sixstack_wire::ndiscopt::{self, Preference, encode_domain_names, prefix_flags};

use crate::rng::Rng;
use crate::time::{Duration, Instant};

/// The all-nodes multicast group, where advertisements go (RFC 4861 §6.2.4, §6.2.6).
pub const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

/// One entry of AdvPrefixList (RFC 4861 §6.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdvPrefix {
    /// Bits past `prefix_len` are sent as zero (§4.6.2).
    pub prefix: Ipv6Addr,
    pub prefix_len: u8,
    /// AdvOnLinkFlag; default TRUE.
    pub on_link: bool,
    /// AdvAutonomousFlag; default TRUE.
    pub autonomous: bool,
    /// AdvValidLifetime, seconds (`u32::MAX` is infinity); default 2 592 000 (30 days).
    pub valid_lifetime: u32,
    /// AdvPreferredLifetime, seconds; default 604 800 (7 days).
    pub preferred_lifetime: u32,
}

impl AdvPrefix {
    /// A prefix with the defaults of RFC 4861 §6.2.1.
    pub fn new(prefix: Ipv6Addr, prefix_len: u8) -> Self {
        Self {
            prefix,
            prefix_len,
            on_link: true,
            autonomous: true,
            valid_lifetime: 2_592_000,
            preferred_lifetime: 604_800,
        }
    }
}

/// A more-specific route to advertise (RFC 4191 §2.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdvRoute {
    /// Bits past `prefix_len` are sent as zero (RFC 4191 §2.3).
    pub prefix: Ipv6Addr,
    pub prefix_len: u8,
    /// `Reserved` is not sent: receivers would ignore the option (RFC 4191 §2.3).
    pub preference: Preference,
    /// Seconds; `u32::MAX` is infinity.
    pub lifetime: u32,
}

/// The router configuration variables of one interface (RFC 4861 §6.2.1, RFC 4191 §2.2,
/// RFC 8106 §5) and the router constants of RFC 4861 §10.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdvertConfig {
    /// AdvSendAdvertisements; default FALSE (§6.2.1): [`Advertiser::start`] does nothing
    /// until it is set.
    pub adv_send_advertisements: bool,
    /// MaxRtrAdvInterval: 4 s to 1800 s; default 600 s.
    pub max_rtr_adv_interval: Duration,
    /// MinRtrAdvInterval: 3 s to 0.75 × Max. `None`: the default, 0.33 × Max when Max is
    /// at least 9 s, otherwise Max (see [`AdvertConfig::min_rtr_adv_interval`]).
    pub min_rtr_adv_interval: Option<Duration>,
    /// AdvManagedFlag (M); default FALSE.
    pub adv_managed_flag: bool,
    /// AdvOtherConfigFlag (O); default FALSE.
    pub adv_other_config_flag: bool,
    /// AdvLinkMTU; 0 (the default) sends no MTU option.
    pub adv_link_mtu: u32,
    /// AdvReachableTime, milliseconds (at most 3 600 000); 0 = unspecified (default).
    pub adv_reachable_time: u32,
    /// AdvRetransTimer, milliseconds; 0 = unspecified (default).
    pub adv_retrans_timer: u32,
    /// AdvCurHopLimit; default 64 (IANA's current value); 0 = unspecified.
    pub adv_cur_hop_limit: u8,
    /// AdvDefaultLifetime, seconds: 0 (not a default router) or Max to 65535 (RFC 8319).
    /// `None`: the default, 3 × MaxRtrAdvInterval.
    pub adv_default_lifetime: Option<u16>,
    /// AdvDefaultPreference (RFC 4191 §2.2); default medium. `Reserved` is sent as medium.
    pub adv_default_preference: Preference,
    /// AdvPrefixList.
    pub prefixes: Vec<AdvPrefix>,
    /// More-specific routes (RFC 4191 §2.3).
    pub routes: Vec<AdvRoute>,
    /// Recursive DNS servers (RFC 8106 §5.1); at most 127 go in the option.
    pub rdnss: Vec<Ipv6Addr>,
    /// RDNSS lifetime, seconds. `None`: 3 × MaxRtrAdvInterval (RFC 8106 §5.1: SHOULD be
    /// at least that).
    pub rdnss_lifetime: Option<u32>,
    /// DNS search list, dotted names (RFC 8106 §5.2). Names that cannot be encoded are
    /// left out, and so are those past 2032 bytes of encoded names.
    pub dnssl: Vec<String>,
    /// DNSSL lifetime, seconds. `None`: 3 × MaxRtrAdvInterval (RFC 8106 §5.2).
    pub dnssl_lifetime: Option<u32>,
    /// MAX_INITIAL_RTR_ADVERT_INTERVAL (§10): 16 s.
    pub max_initial_rtr_advert_interval: Duration,
    /// MAX_INITIAL_RTR_ADVERTISEMENTS (§10): 3.
    pub max_initial_rtr_advertisements: u32,
    /// MAX_FINAL_RTR_ADVERTISEMENTS (§10): 3.
    pub max_final_rtr_advertisements: u32,
    /// MIN_DELAY_BETWEEN_RAS (§10): 3 s.
    pub min_delay_between_ras: Duration,
    /// MAX_RA_DELAY_TIME (§10): 0.5 s.
    pub max_ra_delay_time: Duration,
}

impl Default for AdvertConfig {
    fn default() -> Self {
        Self {
            adv_send_advertisements: false,
            max_rtr_adv_interval: Duration::from_secs(600),
            min_rtr_adv_interval: None,
            adv_managed_flag: false,
            adv_other_config_flag: false,
            adv_link_mtu: 0,
            adv_reachable_time: 0,
            adv_retrans_timer: 0,
            adv_cur_hop_limit: 64,
            adv_default_lifetime: None,
            adv_default_preference: Preference::Medium,
            prefixes: Vec::new(),
            routes: Vec::new(),
            rdnss: Vec::new(),
            rdnss_lifetime: None,
            dnssl: Vec::new(),
            dnssl_lifetime: None,
            max_initial_rtr_advert_interval: Duration::from_secs(16),
            max_initial_rtr_advertisements: 3,
            max_final_rtr_advertisements: 3,
            min_delay_between_ras: Duration::from_secs(3),
            max_ra_delay_time: Duration::from_millis(500),
        }
    }
}

impl AdvertConfig {
    /// MinRtrAdvInterval as configured, or its §6.2.1 default.
    pub fn min_rtr_adv_interval(&self) -> Duration {
        let max = self.max_rtr_adv_interval;
        self.min_rtr_adv_interval
            .unwrap_or(if max >= Duration::from_secs(9) {
                max.mul_f64(0.33)
            } else {
                max
            })
    }

    /// 3 × MaxRtrAdvInterval in whole seconds, the default of several lifetimes.
    fn three_max_secs(&self) -> u64 {
        self.max_rtr_adv_interval.as_secs().saturating_mul(3)
    }

    /// AdvDefaultLifetime as configured, or its §6.2.1 default (at most 65535).
    pub fn adv_default_lifetime(&self) -> u16 {
        self.adv_default_lifetime
            .unwrap_or_else(|| u16::try_from(self.three_max_secs()).unwrap_or(u16::MAX))
    }

    pub fn rdnss_lifetime(&self) -> u32 {
        self.rdnss_lifetime
            .unwrap_or_else(|| u32::try_from(self.three_max_secs()).unwrap_or(u32::MAX))
    }

    pub fn dnssl_lifetime(&self) -> u32 {
        self.dnssl_lifetime
            .unwrap_or_else(|| u32::try_from(self.three_max_secs()).unwrap_or(u32::MAX))
    }
}

/// An advertisement to send now: build it with [`Advertiser::build`]`(lladdr, final_)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdvertDue {
    /// Always [`ALL_NODES`] for now: solicited answers are multicast too (§6.2.6 allows
    /// unicast; multicast keeps one timer and one rate limit).
    pub dst: Ipv6Addr,
    /// A final advertisement (§6.2.5): build it with router lifetime 0.
    pub final_: bool,
    /// Sent early because of a Router Solicitation (§6.2.6).
    pub solicited: bool,
}

/// Durations past this are clamped before use, so that a silly configuration cannot
/// overflow `Duration` arithmetic (about 34 800 years).
const CLAMP: Duration = Duration::from_secs(1 << 40);

/// The shortest gap between two advertisements whatever the configuration, so that a
/// zero MIN_DELAY_BETWEEN_RAS cannot make the glue spin.
const MIN_GAP: Duration = Duration::from_millis(1);

/// RFC 8106 §5.1: an option's Length is one byte of 8-octet units, so at most
/// (255 × 8 − 8) / 16 addresses fit.
const MAX_RDNSS_ADDRS: usize = 127;
/// The name area of a DNSSL option of the largest Length.
const MAX_DNSSL_NAMES: usize = 255 * 8 - 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    /// The next multicast advertisement is due at `next`; `solicited` when a Router
    /// Solicitation brought it forward.
    Advertising {
        next: Instant,
        solicited: bool,
    },
    /// Ceasing to advertise (§6.2.5): `left` final advertisements, the next at `next`.
    Ceasing {
        next: Instant,
        left: u32,
    },
}

/// The Router Advertisement schedule and contents of one advertising interface.
#[derive(Debug, Clone)]
pub struct Advertiser {
    cfg: AdvertConfig,
    state: State,
    /// When the last multicast advertisement went out: the rate limit of §6.2.6.
    last_multicast: Option<Instant>,
    /// Multicast advertisements since the last start; the first few are closer (§6.2.4).
    sent: u32,
    /// A live advertisement went out since the last final ones: hosts may list us.
    announced: bool,
}

impl Advertiser {
    pub fn new(cfg: AdvertConfig) -> Self {
        Self {
            cfg,
            state: State::Idle,
            last_multicast: None,
            sent: 0,
            announced: false,
        }
    }

    pub fn config(&self) -> &AdvertConfig {
        &self.cfg
    }

    /// Replaces the configuration. While advertising, this counts as a change of the
    /// advertised values: the next advertisement goes out as soon as the rate limit
    /// allows and the initial, faster, schedule starts again (§6.2.4 MAY). Turning
    /// AdvSendAdvertisements off is the glue's to follow with [`stop`](Self::stop).
    pub fn set_config(&mut self, now: Instant, cfg: AdvertConfig) {
        self.cfg = cfg;
        if let State::Advertising { next, solicited } = self.state {
            self.sent = 0;
            self.state = State::Advertising {
                next: next.min(self.earliest_multicast(now)),
                solicited,
            };
        }
    }

    /// The interface becomes an advertising interface (§6.2.2): the first advertisement
    /// is due at once, rate limit permitting. Does nothing while AdvSendAdvertisements
    /// is FALSE. Calling it again restarts the initial schedule and cancels pending
    /// final advertisements.
    pub fn start(&mut self, now: Instant, rng: &mut Rng) {
        let _ = rng; // The first advertisement is not delayed; kept for symmetry.
        if !self.cfg.adv_send_advertisements {
            return;
        }
        self.sent = 0;
        self.state = State::Advertising {
            next: self.earliest_multicast(now),
            solicited: false,
        };
    }

    /// The interface ceases to be an advertising interface (§6.2.5). Schedules up to
    /// MAX_FINAL_RTR_ADVERTISEMENTS final advertisements (router lifetime 0), which
    /// [`poll`](Self::poll) hands out at MIN_DELAY_BETWEEN_RAS intervals; returns how
    /// many are still to go. None when no live advertisement went out since the last
    /// final ones: there is nothing for hosts to forget.
    pub fn stop(&mut self, now: Instant) -> u32 {
        self.stop_with(now, u32::MAX)
    }

    /// [`stop`](Self::stop), with at most `finals` final advertisements: a node that
    /// shuts down sends one rather than wait out the rate limit between several (§6.2.5
    /// asks for "one or more").
    pub fn stop_with(&mut self, now: Instant, finals: u32) -> u32 {
        match self.state {
            State::Advertising { .. } if self.announced => {
                self.announced = false;
                let left = self.cfg.max_final_rtr_advertisements.min(finals);
                self.state = if left == 0 {
                    State::Idle
                } else {
                    State::Ceasing {
                        next: self.earliest_multicast(now),
                        left,
                    }
                };
                left
            }
            State::Ceasing { left, .. } => left,
            State::Advertising { .. } | State::Idle => {
                self.state = State::Idle;
                0
            }
        }
    }

    pub fn is_advertising(&self) -> bool {
        matches!(self.state, State::Advertising { .. })
    }

    /// Final advertisements (§6.2.5) are still to go.
    pub fn is_ceasing(&self) -> bool {
        matches!(self.state, State::Ceasing { .. })
    }

    /// A valid Router Solicitation arrived (§6.2.6). The answer is the next multicast
    /// advertisement, brought forward to a random delay in [0, MAX_RA_DELAY_TIME] after
    /// now, or after MIN_DELAY_BETWEEN_RAS from the last multicast one, and left alone
    /// when it was due sooner anyway. While an answer is pending, more solicitations
    /// change nothing (the delay counts from the first). `src` is not used: the answer
    /// is multicast, though §6.2.6 would allow unicast to a specified `src`.
    pub fn on_router_solicit(&mut self, now: Instant, rng: &mut Rng, src: Ipv6Addr) {
        let _ = src;
        let State::Advertising {
            next,
            solicited: false,
        } = self.state
        else {
            return;
        };
        let delay = rng.duration_up_to(self.cfg.max_ra_delay_time.min(CLAMP));
        let base = match self.last_multicast {
            // §6.2.6: MUST rate limit multicast advertisements to one per
            // MIN_DELAY_BETWEEN_RAS.
            Some(last) if self.min_delay_after(last) > now => self.min_delay_after(last),
            _ => now,
        };
        let at = base + delay;
        if at < next {
            self.state = State::Advertising {
                next: at,
                solicited: true,
            };
        }
    }

    fn min_delay_after(&self, last: Instant) -> Instant {
        last + self.cfg.min_delay_between_ras.min(CLAMP).max(MIN_GAP)
    }

    fn earliest_multicast(&self, now: Instant) -> Instant {
        match self.last_multicast {
            Some(last) => now.max(self.min_delay_after(last)),
            None => now,
        }
    }

    /// The advertisement due at `now`, if any: at most one per call, and the next is
    /// timed from `now`, so a clock that jumps forward sends one, not a burst.
    pub fn poll(&mut self, now: Instant, rng: &mut Rng) -> Option<AdvertDue> {
        match self.state {
            State::Idle => None,
            State::Advertising { next, solicited } => {
                if now < next {
                    return None;
                }
                self.sent = self.sent.saturating_add(1);
                self.announced = true;
                self.last_multicast = Some(now);
                let interval = self.next_interval(rng);
                self.state = State::Advertising {
                    next: now + interval,
                    solicited: false,
                };
                Some(AdvertDue {
                    dst: ALL_NODES,
                    final_: false,
                    solicited,
                })
            }
            State::Ceasing { next, left } => {
                if now < next {
                    return None;
                }
                self.last_multicast = Some(now);
                let left = left.saturating_sub(1);
                self.state = if left == 0 {
                    State::Idle
                } else {
                    State::Ceasing {
                        next: self.min_delay_after(now),
                        left,
                    }
                };
                Some(AdvertDue {
                    dst: ALL_NODES,
                    final_: true,
                    solicited: false,
                })
            }
        }
    }

    /// §6.2.4: uniform in [MinRtrAdvInterval, MaxRtrAdvInterval]; after each of the
    /// first MAX_INITIAL_RTR_ADVERTISEMENTS advertisements, at most
    /// MAX_INITIAL_RTR_ADVERT_INTERVAL. Never below MIN_DELAY_BETWEEN_RAS.
    fn next_interval(&self, rng: &mut Rng) -> Duration {
        let max = self.cfg.max_rtr_adv_interval.min(CLAMP);
        let min = self.cfg.min_rtr_adv_interval().min(max);
        let mut interval = rng.duration_between(min, max);
        if self.sent <= self.cfg.max_initial_rtr_advertisements {
            interval = interval.min(self.cfg.max_initial_rtr_advert_interval);
        }
        interval.max(self.cfg.min_delay_between_ras.min(CLAMP).max(MIN_GAP))
    }

    pub fn poll_at(&self) -> Option<Instant> {
        match self.state {
            State::Idle => None,
            State::Advertising { next, .. } | State::Ceasing { next, .. } => Some(next),
        }
    }

    /// Multicast advertisements sent since the last start (finals not counted).
    pub fn count_sent(&self) -> u32 {
        self.sent
    }

    /// The whole ICMPv6 Router Advertisement (§4.2, §6.2.3): type 134, code 0, checksum
    /// left 0 for the glue to fill (it knows the addresses). Options, in order: source
    /// link-layer address (when given), MTU (when AdvLinkMTU is not 0), Prefix
    /// Information, Route Information, RDNSS, DNSSL. A final advertisement carries router
    /// lifetime 0 (§6.2.5). Everything goes in one message: keeping it under the link
    /// MTU (§6.2.3 allows splitting the options over several) is the configuration's
    /// business. Entries with a prefix length over 128, a route with the reserved
    /// preference, or an option too long for its Length field are left out.
    pub fn build(&self, source_lladdr: Option<&[u8]>, final_: bool) -> Vec<u8> {
        let cfg = &self.cfg;
        let router_lifetime = if final_ {
            0
        } else {
            cfg.adv_default_lifetime()
        };
        // RFC 4191 §2.2: Prf MUST be 00 when the router lifetime is 0; 10 is never sent.
        let prf = match cfg.adv_default_preference {
            _ if router_lifetime == 0 => Preference::Medium,
            Preference::Reserved => Preference::Medium,
            p => p,
        };
        let mut flags = prf.bits() << 3;
        if cfg.adv_managed_flag {
            flags |= router_flags::MANAGED;
        }
        if cfg.adv_other_config_flag {
            flags |= router_flags::OTHER;
        }

        let rdnss: Vec<u8> = cfg
            .rdnss
            .iter()
            .take(MAX_RDNSS_ADDRS)
            .flat_map(|a| a.octets())
            .collect();
        let mut dnssl = vec![0u8; MAX_DNSSL_NAMES];
        let mut dnssl_len = 0;
        for name in &cfg.dnssl {
            let rest = dnssl.get_mut(dnssl_len..).unwrap_or_default();
            if let Some(n) = encode_domain_names([name.as_str()], rest) {
                dnssl_len += n;
            }
        }

        let mut opts: Vec<ndiscopt::Repr<'_>> = Vec::new();
        if let Some(ll) = source_lladdr.filter(|ll| !ll.is_empty()) {
            opts.push(ndiscopt::Repr::SourceLinkLayerAddr(ll));
        }
        if cfg.adv_link_mtu != 0 {
            opts.push(ndiscopt::Repr::Mtu(cfg.adv_link_mtu));
        }
        for p in cfg.prefixes.iter().filter(|p| p.prefix_len <= 128) {
            let mut pflags = 0;
            if p.on_link {
                pflags |= prefix_flags::ON_LINK;
            }
            if p.autonomous {
                pflags |= prefix_flags::AUTONOMOUS;
            }
            opts.push(ndiscopt::Repr::PrefixInformation {
                prefix_len: p.prefix_len,
                flags: pflags,
                valid_lifetime: p.valid_lifetime,
                preferred_lifetime: p.preferred_lifetime,
                prefix: masked(p.prefix, p.prefix_len),
            });
        }
        for r in &cfg.routes {
            if r.prefix_len > 128 || r.preference == Preference::Reserved {
                continue;
            }
            opts.push(ndiscopt::Repr::RouteInformation {
                prefix_len: r.prefix_len,
                preference: r.preference,
                route_lifetime: r.lifetime,
                prefix: masked(r.prefix, r.prefix_len),
            });
        }
        if !rdnss.is_empty() {
            opts.push(ndiscopt::Repr::Rdnss {
                lifetime: cfg.rdnss_lifetime(),
                addrs: &rdnss,
            });
        }
        if dnssl_len > 0 {
            opts.push(ndiscopt::Repr::Dnssl {
                lifetime: cfg.dnssl_lifetime(),
                names: &dnssl[..dnssl_len],
            });
        }
        // An option's Length is one byte of 8-octet units (RFC 4861 §4.6).
        opts.retain(|o| o.buffer_len() <= 255 * 8);

        let mut options = vec![0u8; ndiscopt::buffer_len_all(&opts)];
        if ndiscopt::emit_all(&opts, &mut options).is_err() {
            // Unreachable: the buffer has buffer_len_all bytes and every option fits its
            // Length field (checked just above).
            return Vec::new();
        }
        let ra = icmpv6::Repr::from(ndisc::Repr::RouterAdvert {
            cur_hop_limit: cfg.adv_cur_hop_limit,
            flags,
            router_lifetime,
            reachable_time: cfg.adv_reachable_time,
            retrans_time: cfg.adv_retrans_timer,
            options: &options,
        });
        let mut msg = vec![0u8; ra.buffer_len()];
        if ra
            .emit(&Ipv6Addr::UNSPECIFIED, &Ipv6Addr::UNSPECIFIED, &mut msg)
            .is_err()
        {
            // Unreachable: `msg` is exactly buffer_len bytes.
            return Vec::new();
        }
        icmpv6::Packet::new_unchecked(&mut msg[..]).set_checksum(0);
        msg
    }
}

fn masked(prefix: Ipv6Addr, len: u8) -> Ipv6Addr {
    let mask = match len {
        0 => 0,
        l if l >= 128 => u128::MAX,
        l => u128::MAX << (128 - u32::from(l)),
    };
    Ipv6Addr::from(u128::from(prefix) & mask)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use proptest::prelude::*;
    use sixstack_wire::icmpv6::Message;

    const HOST: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x99);

    fn t(secs: u64) -> Instant {
        Instant::from_secs(secs)
    }

    fn on() -> AdvertConfig {
        AdvertConfig {
            adv_send_advertisements: true,
            ..AdvertConfig::default()
        }
    }

    /// Polls at every due time until `n` advertisements went out; their times.
    fn run(a: &mut Advertiser, rng: &mut Rng, n: usize) -> Vec<(Instant, AdvertDue)> {
        let mut out = vec![];
        while out.len() < n {
            let Some(at) = a.poll_at() else { break };
            out.push((at, a.poll(at, rng).expect("due at poll_at")));
        }
        out
    }

    #[test]
    fn rfc4861_6_2_1_defaults() {
        let c = AdvertConfig::default();
        assert!(!c.adv_send_advertisements);
        assert_eq!(c.max_rtr_adv_interval, Duration::from_secs(600));
        assert_eq!(c.min_rtr_adv_interval(), Duration::from_secs(198));
        assert_eq!(c.adv_default_lifetime(), 1800);
        assert_eq!((c.rdnss_lifetime(), c.dnssl_lifetime()), (1800, 1800));
        assert_eq!(c.adv_cur_hop_limit, 64);
        assert_eq!(
            (c.adv_link_mtu, c.adv_reachable_time, c.adv_retrans_timer),
            (0, 0, 0)
        );
        assert!(!c.adv_managed_flag && !c.adv_other_config_flag);
        assert_eq!(c.adv_default_preference, Preference::Medium);
        let p = AdvPrefix::new("2001:db8::".parse().unwrap(), 64);
        assert!(p.on_link && p.autonomous);
        assert_eq!(
            (p.valid_lifetime, p.preferred_lifetime),
            (2_592_000, 604_800)
        );
        // Below 9 s, MinRtrAdvInterval defaults to MaxRtrAdvInterval.
        let short = AdvertConfig {
            max_rtr_adv_interval: Duration::from_secs(6),
            ..AdvertConfig::default()
        };
        assert_eq!(short.min_rtr_adv_interval(), Duration::from_secs(6));
        assert_eq!(short.adv_default_lifetime(), 18);
        let huge = AdvertConfig {
            max_rtr_adv_interval: Duration::from_secs(1_000_000),
            ..AdvertConfig::default()
        };
        assert_eq!(huge.adv_default_lifetime(), u16::MAX);
    }

    #[test]
    fn rfc4861_10_router_constants() {
        let c = AdvertConfig::default();
        assert_eq!(c.max_initial_rtr_advert_interval, Duration::from_secs(16));
        assert_eq!(c.max_initial_rtr_advertisements, 3);
        assert_eq!(c.max_final_rtr_advertisements, 3);
        assert_eq!(c.min_delay_between_ras, Duration::from_secs(3));
        assert_eq!(c.max_ra_delay_time, Duration::from_millis(500));
    }

    #[test]
    fn rfc4861_6_2_1_no_advertisements_unless_enabled() {
        let mut rng = Rng::new(1);
        let mut a = Advertiser::new(AdvertConfig::default());
        a.start(t(0), &mut rng);
        assert_eq!(a.poll_at(), None);
        assert_eq!(a.poll(t(10_000), &mut rng), None);
        a.on_router_solicit(t(1), &mut rng, HOST);
        assert_eq!(a.poll_at(), None);
    }

    #[test]
    fn rfc4861_6_2_4_initial_advertisements_at_most_16s() {
        for seed in 0..50 {
            let mut rng = Rng::new(seed);
            let mut a = Advertiser::new(on());
            a.start(t(100), &mut rng);
            let sent = run(&mut a, &mut rng, 10);
            assert_eq!(sent[0].0, t(100));
            assert!(sent.iter().all(|(_, d)| *d
                == AdvertDue {
                    dst: ALL_NODES,
                    final_: false,
                    solicited: false
                }));
            let gaps: Vec<Duration> = sent.windows(2).map(|w| w[1].0 - w[0].0).collect();
            // After each of the first three: at most 16 s (at least MIN_DELAY_BETWEEN_RAS).
            for g in &gaps[..3] {
                assert!(*g >= Duration::from_secs(3) && *g <= Duration::from_secs(16));
            }
            // Then uniform in [MinRtrAdvInterval, MaxRtrAdvInterval].
            for g in &gaps[3..] {
                assert!(*g >= Duration::from_secs(198) && *g <= Duration::from_secs(600));
            }
            assert_eq!(a.count_sent(), 10);
        }
    }

    #[test]
    fn rfc4861_6_2_4_intervals_spread_over_min_max() {
        let mut rng = Rng::new(5);
        let mut a = Advertiser::new(AdvertConfig {
            max_rtr_adv_interval: Duration::from_secs(100),
            min_rtr_adv_interval: Some(Duration::from_secs(30)),
            ..on()
        });
        a.start(t(0), &mut rng);
        let sent = run(&mut a, &mut rng, 204);
        let gaps: Vec<u64> = sent[4..]
            .windows(2)
            .map(|w| (w[1].0 - w[0].0).as_secs())
            .collect();
        assert!(gaps.iter().all(|g| (30..=100).contains(g)));
        // Not constant: randomised to avoid synchronising routers.
        assert!(gaps.iter().any(|&g| g < 50) && gaps.iter().any(|&g| g > 80));
    }

    #[test]
    fn rfc4861_6_2_6_solicited_ra_delayed_at_most_max_ra_delay_time() {
        for seed in 0..50 {
            let mut rng = Rng::new(seed);
            let mut a = Advertiser::new(on());
            a.start(t(0), &mut rng);
            run(&mut a, &mut rng, 5);
            let now = a.poll_at().unwrap() - Duration::from_secs(150);
            a.on_router_solicit(now, &mut rng, HOST);
            let at = a.poll_at().unwrap();
            assert!(at >= now && at <= now + Duration::from_millis(500), "{at}");
            let due = a.poll(at, &mut rng).unwrap();
            assert!(due.solicited && !due.final_);
            assert_eq!(due.dst, ALL_NODES);
            // §6.2.6: the interval timer restarts as after an unsolicited advertisement.
            let next = a.poll_at().unwrap();
            assert!(next >= at + Duration::from_secs(198) && next <= at + Duration::from_secs(600));
        }
    }

    #[test]
    fn rfc4861_6_2_6_solicited_ra_rate_limited() {
        for seed in 0..50 {
            let mut rng = Rng::new(seed);
            let mut a = Advertiser::new(on());
            a.start(t(0), &mut rng);
            run(&mut a, &mut rng, 5);
            let last = a.poll_at().unwrap() - Duration::from_secs(300);
            let mut a2 = a.clone();
            // A multicast advertisement went out at `last`; a solicitation 1 s later is
            // answered no sooner than MIN_DELAY_BETWEEN_RAS after it.
            a2.last_multicast = Some(last);
            a2.on_router_solicit(last + Duration::from_secs(1), &mut rng, HOST);
            let at = a2.poll_at().unwrap();
            assert!(at >= last + Duration::from_secs(3));
            assert!(at <= last + Duration::from_millis(3500));
            // Repeated solicitations do not move it: one answer, delay from the first.
            for i in 0..20 {
                a2.on_router_solicit(last + Duration::from_millis(1000 + 100 * i), &mut rng, HOST);
                assert_eq!(a2.poll_at(), Some(at));
            }
            assert!(a2.poll(at, &mut rng).unwrap().solicited);
            // Straight after, another solicitation waits MIN_DELAY_BETWEEN_RAS again.
            a2.on_router_solicit(at, &mut rng, HOST);
            let again = a2.poll_at().unwrap();
            assert!(again >= at + Duration::from_secs(3));
            assert!(again <= at + Duration::from_millis(3500));
        }
    }

    #[test]
    fn rfc4861_6_2_6_scheduled_advertisement_sooner_than_delay_serves() {
        let mut rng = Rng::new(2);
        let mut a = Advertiser::new(on());
        a.start(t(0), &mut rng);
        run(&mut a, &mut rng, 5);
        let next = a.poll_at().unwrap();
        // 100 ms before the scheduled advertisement: the random delay would mostly land
        // after it, and then the schedule stands.
        let mut kept = 0;
        for seed in 0..40 {
            let mut rng = Rng::new(seed);
            let mut b = a.clone();
            b.on_router_solicit(next - Duration::from_millis(100), &mut rng, HOST);
            let at = b.poll_at().unwrap();
            assert!(at <= next);
            if at == next {
                kept += 1;
                assert!(!b.poll(at, &mut rng).unwrap().solicited);
            }
        }
        assert!(kept > 20, "{kept}");
    }

    #[test]
    fn rfc4861_6_2_5_final_advertisements_with_zero_lifetime() {
        let mut rng = Rng::new(4);
        let mut a = Advertiser::new(AdvertConfig {
            adv_default_preference: Preference::High,
            ..on()
        });
        a.start(t(0), &mut rng);
        run(&mut a, &mut rng, 2);
        let last = a.last_multicast.unwrap();
        assert_eq!(a.stop(last + Duration::from_secs(1)), 3);
        assert!(!a.is_advertising());
        // A solicitation while ceasing changes nothing.
        a.on_router_solicit(last + Duration::from_secs(1), &mut rng, HOST);
        let finals = run(&mut a, &mut rng, 10);
        assert_eq!(finals.len(), 3);
        assert_eq!(finals[0].0, last + Duration::from_secs(3));
        for w in finals.windows(2) {
            assert_eq!(w[1].0 - w[0].0, Duration::from_secs(3));
        }
        assert!(finals.iter().all(|(_, d)| d.final_ && d.dst == ALL_NODES));
        assert_eq!(a.poll_at(), None);
        let msg = a.build(None, true);
        let p = icmpv6::Packet::new_checked(&msg[..]).unwrap();
        assert_eq!(p.router_lifetime(), 0);
        // RFC 4191 §2.2: preference 00 with a zero router lifetime.
        assert_eq!(
            ndisc::router_preference(p.router_flags()),
            Preference::Medium
        );
        let live = a.build(None, false);
        let p = icmpv6::Packet::new_checked(&live[..]).unwrap();
        assert_eq!(p.router_lifetime(), 1800);
        assert_eq!(ndisc::router_preference(p.router_flags()), Preference::High);
    }

    #[test]
    fn rfc4861_6_2_5_nothing_to_retract_before_first_advertisement() {
        let mut rng = Rng::new(4);
        let mut a = Advertiser::new(on());
        a.start(t(0), &mut rng);
        assert_eq!(a.stop(t(0)), 0);
        assert_eq!(a.poll_at(), None);
        // A start after finals cancels them and respects the rate limit.
        a.start(t(0), &mut rng);
        run(&mut a, &mut rng, 1);
        assert_eq!(a.stop(t(1)), 3);
        a.start(t(1), &mut rng);
        assert!(a.is_advertising());
        assert_eq!(a.poll_at(), Some(t(3)));
        assert!(!a.poll(t(3), &mut rng).unwrap().final_);
    }

    #[test]
    fn rfc4861_6_2_5_restart_keeps_the_need_for_finals() {
        let mut rng = Rng::new(4);
        let mut a = Advertiser::new(on());
        a.start(t(0), &mut rng);
        run(&mut a, &mut rng, 1);
        a.start(t(1), &mut rng);
        assert_eq!(a.stop(t(1)), 3);
        assert_eq!(run(&mut a, &mut rng, 5).len(), 3);
        // Finals sent, then a start and an immediate stop: nothing new to retract.
        a.start(t(100), &mut rng);
        assert_eq!(a.stop(t(100)), 0);
    }

    #[test]
    fn rfc4861_6_2_4_changed_config_restarts_initial_schedule() {
        let mut rng = Rng::new(8);
        let mut a = Advertiser::new(on());
        a.start(t(0), &mut rng);
        run(&mut a, &mut rng, 6);
        let last = a.last_multicast.unwrap();
        let mut c = on();
        c.adv_managed_flag = true;
        a.set_config(last + Duration::from_secs(10), c);
        assert_eq!(a.poll_at(), Some(last + Duration::from_secs(10)));
        let sent = run(&mut a, &mut rng, 3);
        assert!(sent[2].0 - sent[0].0 <= Duration::from_secs(32));
        assert!(a.config().adv_managed_flag);
    }

    #[test]
    fn clock_jump_sends_one_advertisement_per_poll() {
        let mut rng = Rng::new(3);
        let mut a = Advertiser::new(on());
        a.start(t(0), &mut rng);
        let day = t(86_400);
        assert!(a.poll(day, &mut rng).is_some());
        assert!(a.poll(day, &mut rng).is_none());
        assert!(a.poll_at().unwrap() >= day + Duration::from_secs(3));
        a.stop(day);
        let at = a.poll_at().unwrap();
        assert!(a.poll(at + Duration::from_secs(86_400), &mut rng).is_some());
        assert!(a.poll(at + Duration::from_secs(86_400), &mut rng).is_none());
    }

    #[test]
    fn rfc4861_6_2_3_build_parses_back() {
        let cfg = AdvertConfig {
            adv_managed_flag: true,
            adv_other_config_flag: true,
            adv_link_mtu: 1480,
            adv_reachable_time: 30_000,
            adv_retrans_timer: 1000,
            adv_cur_hop_limit: 255,
            adv_default_lifetime: Some(9000),
            adv_default_preference: Preference::Low,
            prefixes: vec![
                // Host bits are cleared on the wire.
                AdvPrefix::new("2001:db8:1::1".parse().unwrap(), 64),
                AdvPrefix {
                    on_link: false,
                    valid_lifetime: u32::MAX,
                    preferred_lifetime: u32::MAX,
                    ..AdvPrefix::new("2001:db8:2::".parse().unwrap(), 64)
                },
                AdvPrefix::new("2001:db8:3::".parse().unwrap(), 129),
            ],
            routes: vec![
                AdvRoute {
                    prefix: "2001:db8:a0ff::".parse().unwrap(),
                    prefix_len: 40,
                    preference: Preference::High,
                    lifetime: 600,
                },
                AdvRoute {
                    prefix: "::".parse().unwrap(),
                    prefix_len: 0,
                    preference: Preference::Low,
                    lifetime: u32::MAX,
                },
                AdvRoute {
                    prefix: "2001:db8:b::".parse().unwrap(),
                    prefix_len: 48,
                    preference: Preference::Reserved,
                    lifetime: 600,
                },
            ],
            rdnss: vec![
                "2001:db8::53".parse().unwrap(),
                "2001:db8::54".parse().unwrap(),
            ],
            rdnss_lifetime: Some(1200),
            dnssl: vec!["example.com".into(), "a..bad".into(), "lab.".into()],
            ..on()
        };
        let a = Advertiser::new(cfg);
        let mac = [0x02, 0, 0, 0, 0, 0x01];
        let msg = a.build(Some(&mac), false);
        let p = icmpv6::Packet::new_checked(&msg[..]).unwrap();
        assert_eq!(p.msg_type(), Message::ROUTER_ADVERT);
        assert_eq!((p.msg_code(), p.checksum()), (0, 0));
        let icmpv6::Repr::Ndisc(r) = icmpv6::Repr::parse(&p).unwrap() else {
            panic!("not ND")
        };
        let ndisc::Repr::RouterAdvert {
            cur_hop_limit,
            flags,
            router_lifetime,
            reachable_time,
            retrans_time,
            ..
        } = r
        else {
            panic!("not an RA")
        };
        assert_eq!(
            (cur_hop_limit, router_lifetime, reachable_time, retrans_time),
            (255, 9000, 30_000, 1000)
        );
        assert_eq!(
            flags,
            router_flags::MANAGED | router_flags::OTHER | (Preference::Low.bits() << 3)
        );
        let opts: Vec<ndiscopt::Repr<'_>> = r.options_iter().map(|o| o.unwrap()).collect();
        assert_eq!(opts.len(), 8, "{opts:?}");
        assert_eq!(opts[0], ndiscopt::Repr::SourceLinkLayerAddr(&mac));
        assert_eq!(opts[1], ndiscopt::Repr::Mtu(1480));
        assert_eq!(
            opts[2],
            ndiscopt::Repr::PrefixInformation {
                prefix_len: 64,
                flags: prefix_flags::ON_LINK | prefix_flags::AUTONOMOUS,
                valid_lifetime: 2_592_000,
                preferred_lifetime: 604_800,
                prefix: "2001:db8:1::".parse().unwrap(),
            }
        );
        assert_eq!(
            opts[3],
            ndiscopt::Repr::PrefixInformation {
                prefix_len: 64,
                flags: prefix_flags::AUTONOMOUS,
                valid_lifetime: u32::MAX,
                preferred_lifetime: u32::MAX,
                prefix: "2001:db8:2::".parse().unwrap(),
            }
        );
        assert_eq!(
            opts[4],
            ndiscopt::Repr::RouteInformation {
                prefix_len: 40,
                preference: Preference::High,
                route_lifetime: 600,
                prefix: "2001:db8:a000::".parse().unwrap(),
            }
        );
        assert_eq!(
            opts[5],
            ndiscopt::Repr::RouteInformation {
                prefix_len: 0,
                preference: Preference::Low,
                route_lifetime: u32::MAX,
                prefix: Ipv6Addr::UNSPECIFIED,
            }
        );
        let ndiscopt::Repr::Rdnss { lifetime, addrs } = opts[6] else {
            panic!("{:?}", opts[6])
        };
        assert_eq!(lifetime, 1200);
        let o = ndiscopt::Iter::new(&msg[ndisc::RA_LEN..])
            .nth(6)
            .unwrap()
            .unwrap();
        let servers: Vec<Ipv6Addr> = o.rdnss_addrs().collect();
        assert_eq!(addrs.len(), 32);
        assert_eq!(servers, a.config().rdnss);
        let ndiscopt::Repr::Dnssl { lifetime, .. } = opts[7] else {
            panic!("{:?}", opts[7])
        };
        assert_eq!(lifetime, 1800);
        let o = ndiscopt::Iter::new(&msg[ndisc::RA_LEN..])
            .nth(7)
            .unwrap()
            .unwrap();
        let names: Vec<String> = o.dnssl_names().map(|n| n.unwrap().to_string()).collect();
        assert_eq!(names, ["example.com", "lab"]);
        // The glue's checksum then verifies.
        let src: Ipv6Addr = "fe80::1".parse().unwrap();
        let mut msg = msg;
        icmpv6::Packet::new_unchecked(&mut msg[..]).fill_checksum(&src, &ALL_NODES);
        assert!(
            icmpv6::Packet::new_checked(&msg[..])
                .unwrap()
                .verify_checksum(&src, &ALL_NODES)
        );
    }

    #[test]
    fn rfc4861_6_2_3_build_minimal_and_oversized_lists() {
        let a = Advertiser::new(on());
        let msg = a.build(None, false);
        assert_eq!(msg.len(), ndisc::RA_LEN);
        let many = Advertiser::new(AdvertConfig {
            rdnss: (0..300u128).map(Ipv6Addr::from).collect(),
            dnssl: (0..400).map(|i| format!("name{i}.example")).collect(),
            ..on()
        });
        let msg = many.build(None, false);
        let p = icmpv6::Packet::new_checked(&msg[..]).unwrap();
        let icmpv6::Repr::Ndisc(r) = icmpv6::Repr::parse(&p).unwrap() else {
            panic!("not ND")
        };
        let opts: Vec<_> = ndiscopt::Iter::new(r.options())
            .map(|o| o.unwrap())
            .collect();
        assert_eq!(opts.len(), 2);
        assert_eq!(opts[0].rdnss_addrs().count(), 127);
        let names: Vec<_> = opts[1]
            .dnssl_names()
            .map(|n| n.unwrap().to_string())
            .collect();
        assert!(names.len() > 100 && names.len() < 400);
        assert_eq!(names[0], "name0.example");
    }

    proptest! {
        #[test]
        fn multicast_rate_limit_holds(seed: u64,
                                      steps in proptest::collection::vec((0u64..20_000_000, 0u8..12), 1..120),
                                      max_s in 0u64..50, min_s in proptest::option::of(0u64..50),
                                      min_delay_ms in 0u64..5000) {
            let mut rng = Rng::new(seed);
            let cfg = AdvertConfig {
                max_rtr_adv_interval: Duration::from_secs(max_s),
                min_rtr_adv_interval: min_s.map(Duration::from_secs),
                min_delay_between_ras: Duration::from_millis(min_delay_ms),
                ..on()
            };
            let gap = Duration::from_millis(min_delay_ms.max(1));
            let mut a = Advertiser::new(cfg);
            let mut now = Instant::ZERO;
            let mut last: Option<Instant> = None;
            for (dt, op) in steps {
                now += Duration::from_micros(dt);
                match op {
                    0 => a.start(now, &mut rng),
                    1 => { a.stop(now); }
                    2..=5 => a.on_router_solicit(now, &mut rng, HOST),
                    _ => {
                        if let Some(d) = a.poll(now, &mut rng) {
                            prop_assert_eq!(d.dst, ALL_NODES);
                            if let Some(l) = last {
                                prop_assert!(now - l >= gap, "{} after {}", now, l);
                            }
                            last = Some(now);
                            prop_assert!(a.poll(now, &mut rng).is_none());
                            prop_assert!(a.poll_at().is_none_or(|at| at > now));
                        }
                    }
                }
            }
        }
    }
}
