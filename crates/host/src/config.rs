//! The daemon's configuration file (TOML). Every field is optional.
//!
//! ```toml
//! [node]
//! forwarding = false            # be a router: forward between interfaces (RFC 8200 §3)
//! hosts = "/etc/hosts"          # names for `resolve`
//! dns = ["2001:db8::53"]        # DNS servers for `resolve`; absent: those learnt by RDNSS
//! seed = 7                      # fix the stack's randomness (tests); random when absent
//! loopback = false              # an `lo` interface with ::1, so clients reach each other
//!
//! [[interface]]
//! name = "tap0"                 # a TAP device, created if absent
//! mac = "02:00:5e:00:53:01"     # the stack's MAC on it; derived from the name when absent
//! mtu = 1500
//! accept_ra = true              # learn from Router Advertisements (hosts)
//! send_rs = true                # solicit them at link up (hosts)
//! dad_transmits = 1             # RFC 4862 DupAddrDetectTransmits; 0 turns DAD off
//! temporary_addresses = true    # RFC 8981
//! iid = "stable"                # "stable" (RFC 7217) or "eui64"
//! addresses = ["2001:db8:1::2/64"]
//!
//! [interface.ra]                # send Router Advertisements here (RFC 4861 §6.2)
//! max_interval = 600            # seconds (MaxRtrAdvInterval)
//! min_interval = 198
//! router_lifetime = 1800        # seconds; 0: not a default router
//! preference = "medium"         # default router preference (RFC 4191): high|medium|low
//! managed = false
//! other_config = false
//! mtu = 1500                    # the MTU option; absent: none. Also the link's MTU
//!                               # when the interface has no `mtu` of its own
//! hop_limit = 64
//! reachable_time = 0            # milliseconds; 0: unspecified
//! retrans_timer = 0             # milliseconds; 0: unspecified
//! rdnss = ["2001:db8:1::53"]
//! dnssl = ["example.test"]
//! routes = [{ prefix = "2001:db8:9::/48", lifetime = 1800, preference = "high" }]
//! [[interface.ra.prefixes]]
//! prefix = "2001:db8:1::/64"
//! on_link = true
//! autonomous = true
//! valid_lifetime = 2592000
//! preferred_lifetime = 604800
//!
//! [[route]]
//! to = "2001:db8:9::/48"
//! via = "fe80::1"               # absent: on-link
//! dev = "tap0"
//! metric = 1024
//!
//! [[route]]
//! to = "2001:db8:dead::/48"
//! type = "unreachable"          # unicast (default), blackhole, unreachable, prohibit
//! ```
//!
//! The spellings of earlier releases still work: `forwarding`, `hosts`, `dns` and `seed`
//! at the top level, `[interface.advertise]` with `[[interface.advertise.prefix]]`,
//! `default_lifetime`, `link_mtu` and `cur_hop_limit`.

use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
pub use sixstack_api::{RaConfig, RouteType};
use sixstack_core::IfaceConfig;
use sixstack_core::nd::ra::{AdvPrefix, AdvRoute, AdvertConfig};
use sixstack_core::slaac::IidMode;
use sixstack_core::time::Duration;
use sixstack_wire::addr::{EthernetAddress, Ipv6AddrExt};
use sixstack_wire::ndiscopt::Preference;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Read from `[node]` or the top level; [`Config::parse`] folds `[node]` in.
    #[serde(default)]
    pub forwarding: bool,
    pub hosts: Option<PathBuf>,
    #[serde(default)]
    pub dns: Vec<Ipv6Addr>,
    pub seed: Option<u64>,
    /// A loopback interface `lo` with ::1 (RFC 4291 §2.5.3), so that clients of the
    /// daemon reach each other through the stack (TCP and UDP to ::1).
    #[serde(default)]
    pub loopback: bool,
    #[serde(default, rename = "interface")]
    pub interfaces: Vec<InterfaceConfig>,
    #[serde(default, rename = "route")]
    pub routes: Vec<RouteConfig>,
    #[serde(default)]
    node: Option<NodeConfig>,
}

/// The `[node]` table: settings of the whole node.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeConfig {
    forwarding: Option<bool>,
    loopback: Option<bool>,
    hosts: Option<PathBuf>,
    dns: Option<Vec<Ipv6Addr>>,
    seed: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterfaceConfig {
    pub name: String,
    pub mac: Option<String>,
    pub mtu: Option<u32>,
    pub accept_ra: Option<bool>,
    pub send_rs: Option<bool>,
    pub dad_transmits: Option<u32>,
    pub temporary_addresses: Option<bool>,
    pub iid: Option<String>,
    #[serde(default)]
    pub addresses: Vec<String>,
    #[serde(alias = "ra")]
    pub advertise: Option<RaConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    pub to: String,
    pub via: Option<Ipv6Addr>,
    /// Required for unicast routes; a reject route (blackhole, unreachable, prohibit)
    /// without one is kept on the first interface.
    #[serde(default)]
    pub dev: String,
    pub metric: Option<u32>,
    #[serde(default, rename = "type")]
    pub kind: RouteType,
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Config, String> {
        let mut c: Config = toml::from_str(text).map_err(|e| e.to_string())?;
        if let Some(n) = c.node.take() {
            c.forwarding |= n.forwarding.unwrap_or(false);
            c.loopback |= n.loopback.unwrap_or(false);
            if n.hosts.is_some() {
                c.hosts = n.hosts;
            }
            if let Some(d) = n.dns {
                c.dns = d;
            }
            if n.seed.is_some() {
                c.seed = n.seed;
            }
        }
        // Check now what would otherwise fail half-way through the start.
        for i in &c.interfaces {
            i.iface_config(&[0; 32])?;
            for a in &i.addresses {
                parse_prefix(a)?;
            }
        }
        for r in &c.routes {
            parse_prefix(&r.to)?;
            if r.dev.is_empty() && r.kind == RouteType::Unicast {
                return Err(format!(
                    "route {}: needs `dev = \"<interface>\"` (only blackhole, unreachable \
                     and prohibit routes may go without)",
                    r.to
                ));
            }
            if r.kind != RouteType::Unicast && r.via.is_some() {
                return Err(format!(
                    "route {}: a {:?} route has no next hop; remove `via`",
                    r.to, r.kind
                ));
            }
        }
        Ok(c)
    }

    pub fn interface(&self, name: &str) -> Option<&InterfaceConfig> {
        self.interfaces.iter().find(|i| i.name == name)
    }
}

impl InterfaceConfig {
    /// The core's interface configuration, with the daemon's defaults (temporary
    /// addresses on) and `secret` as the RFC 7217 key. The MAC is filled in later.
    pub fn iface_config(&self, secret: &[u8; 32]) -> Result<IfaceConfig, String> {
        let mac = match &self.mac {
            Some(m) => parse_mac(m)?,
            None => EthernetAddress([0x02, 0, 0, 0, 0, 0]),
        };
        let mut c = IfaceConfig::ethernet(&self.name, mac);
        // The MTU advertised is the link's (RFC 4861 §6.2.1 AdvLinkMTU): use it ourselves.
        c.mtu = self.mtu.or(self
            .advertise
            .as_ref()
            .and_then(|a| a.mtu)
            .filter(|m| *m > 0));
        c.slaac.stable_secret = *secret;
        c.slaac.temporary.enabled = self.temporary_addresses.unwrap_or(true);
        if let Some(a) = self.accept_ra {
            c.accept_ra = a;
        }
        if let Some(s) = self.send_rs {
            c.send_rs = s;
        }
        if let Some(d) = self.dad_transmits {
            c.slaac.dup_addr_detect_transmits = d;
        }
        match self.iid.as_deref() {
            None | Some("stable") => c.slaac.iid_mode = IidMode::Stable,
            Some("eui64") => c.slaac.iid_mode = IidMode::Eui64,
            Some(o) => {
                return Err(format!(
                    "interface {}: iid {o:?}: use \"stable\" or \"eui64\"",
                    self.name
                ));
            }
        }
        if let Some(a) = &self.advertise {
            c.advertise = Some(advert_config(a)?);
        }
        Ok(c)
    }
}

/// The core's advertising configuration from the `ra` table (of the file, or of
/// `sixstack ra set`), checked against the ranges of RFC 4861 §6.2.1.
pub fn advert_config(ra: &RaConfig) -> Result<AdvertConfig, String> {
    let mut a = AdvertConfig {
        adv_send_advertisements: true,
        ..AdvertConfig::default()
    };
    if let Some(s) = ra.max_interval {
        if !(4..=1800).contains(&s) {
            return Err(format!(
                "ra.max_interval {s}: RFC 4861 §6.2.1 wants 4 to 1800 seconds"
            ));
        }
        a.max_rtr_adv_interval = Duration::from_secs(s);
    }
    if let Some(s) = ra.min_interval {
        let max = a.max_rtr_adv_interval.as_secs();
        if s < 3 || s.saturating_mul(4) > max.saturating_mul(3) {
            return Err(format!(
                "ra.min_interval {s}: RFC 4861 §6.2.1 wants 3 seconds to 0.75 × \
                 max_interval ({max} s); raise max_interval or lower min_interval"
            ));
        }
        a.min_rtr_adv_interval = Some(Duration::from_secs(s));
    }
    if let Some(l) = ra.router_lifetime
        && l != 0
        && u64::from(l) < a.max_rtr_adv_interval.as_secs()
    {
        return Err(format!(
            "ra.router_lifetime {l}: must be 0 or at least max_interval ({} s), \
             RFC 4861 §6.2.1",
            a.max_rtr_adv_interval.as_secs()
        ));
    }
    a.adv_default_lifetime = ra.router_lifetime;
    if let Some(p) = &ra.preference {
        a.adv_default_preference = parse_preference(p)?;
    }
    a.rdnss_lifetime = ra.rdnss_lifetime;
    a.dnssl_lifetime = ra.dnssl_lifetime;
    for r in &ra.routes {
        let (prefix, prefix_len) = parse_prefix(&r.prefix)?;
        a.routes.push(AdvRoute {
            prefix,
            prefix_len,
            preference: match &r.preference {
                Some(p) => parse_preference(p)?,
                None => Preference::Medium,
            },
            lifetime: r.lifetime.unwrap_or(1800),
        });
    }
    if let Some(d) = ra
        .rdnss
        .iter()
        .find(|d| d.is_multicast() || d.is_unspecified())
    {
        return Err(format!("ra.rdnss {d}: a DNS server is a unicast address"));
    }
    a.adv_managed_flag = ra.managed;
    a.adv_other_config_flag = ra.other_config;
    if let Some(m) = ra.mtu {
        a.adv_link_mtu = m;
    }
    if let Some(h) = ra.hop_limit {
        a.adv_cur_hop_limit = h;
    }
    if let Some(t) = ra.reachable_time {
        a.adv_reachable_time = t;
    }
    if let Some(t) = ra.retrans_timer {
        a.adv_retrans_timer = t;
    }
    a.rdnss = ra.rdnss.clone();
    a.dnssl = ra.dnssl.clone();
    for p in &ra.prefixes {
        let (prefix, len) = parse_prefix(&p.prefix)?;
        if prefix.is_multicast() || prefix.is_link_local_unicast() {
            return Err(format!(
                "ra prefix {}: link-local and multicast prefixes are never advertised \
                 (RFC 4861 §6.2.1)",
                p.prefix
            ));
        }
        let mut ap = AdvPrefix::new(prefix, len);
        if let Some(v) = p.on_link {
            ap.on_link = v;
        }
        if let Some(v) = p.autonomous {
            ap.autonomous = v;
        }
        if let Some(v) = p.valid_lifetime {
            ap.valid_lifetime = v;
        }
        if let Some(v) = p.preferred_lifetime {
            ap.preferred_lifetime = v;
        }
        if ap.preferred_lifetime > ap.valid_lifetime {
            return Err(format!(
                "ra prefix {}: preferred_lifetime {} is longer than valid_lifetime {} \
                 (RFC 4862 §5.5.3 would ignore it)",
                p.prefix, ap.preferred_lifetime, ap.valid_lifetime
            ));
        }
        a.prefixes.push(ap);
    }
    Ok(a)
}

/// `ra` settings written as TOML lines (`mtu = 1400`, `prefixes = [{ prefix = "..." }]`),
/// as `sixstack ra set` takes them; checked as the file's are.
pub fn parse_ra(text: &str) -> Result<RaConfig, String> {
    let ra: RaConfig = toml::from_str(text).map_err(|e| e.to_string())?;
    advert_config(&ra)?;
    Ok(ra)
}

/// The settings as the lines of an `[interface.ra]` table.
pub fn ra_toml(ra: &RaConfig) -> String {
    toml::to_string(ra).unwrap_or_else(|e| format!("# cannot show: {e}\n"))
}

/// "high", "medium" or "low" (RFC 4191 §2.1).
fn parse_preference(s: &str) -> Result<Preference, String> {
    match s {
        "high" => Ok(Preference::High),
        "medium" => Ok(Preference::Medium),
        "low" => Ok(Preference::Low),
        _ => Err(format!(
            "preference {s:?}: use \"high\", \"medium\" or \"low\" (RFC 4191 §2.1)"
        )),
    }
}

/// "2001:db8::/32" or "2001:db8::1/64"; a bare address is a /128.
pub fn parse_prefix(s: &str) -> Result<(Ipv6Addr, u8), String> {
    let (a, l) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    let addr: Ipv6Addr = a
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not an IPv6 address or prefix (example: 2001:db8::/64)"))?;
    let len = match l {
        Some(l) => l
            .trim()
            .parse::<u8>()
            .ok()
            .filter(|l| *l <= 128)
            .ok_or_else(|| format!("{s:?}: the prefix length must be 0 to 128"))?,
        None => 128,
    };
    Ok((addr, len))
}

pub fn parse_mac(s: &str) -> Result<EthernetAddress, String> {
    let m: EthernetAddress = s
        .parse()
        .map_err(|_| format!("{s:?} is not a MAC address (example: 02:00:5e:00:53:01)"))?;
    if m.0[0] & 1 != 0 {
        return Err(format!(
            "{s}: a multicast MAC cannot be an interface's address"
        ));
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_parses() {
        let doc = include_str!("config.rs");
        let example: String = doc
            .lines()
            .skip_while(|l| !l.starts_with("//! ```toml"))
            .skip(1)
            .take_while(|l| !l.starts_with("//! ```"))
            .map(|l| l.trim_start_matches("//!").trim_start_matches(' '))
            .collect::<Vec<_>>()
            .join("\n");
        let c = Config::parse(&example).unwrap();
        assert_eq!(c.seed, Some(7));
        assert_eq!(c.dns, vec!["2001:db8::53".parse::<Ipv6Addr>().unwrap()]);
        assert_eq!(c.interfaces.len(), 1);
        let i = &c.interfaces[0];
        let ic = i.iface_config(&[1; 32]).unwrap();
        assert_eq!(ic.mtu, Some(1500));
        assert!(ic.slaac.temporary.enabled);
        let adv = ic.advertise.unwrap();
        assert_eq!(adv.prefixes.len(), 1);
        assert_eq!(adv.prefixes[0].prefix_len, 64);
        assert_eq!(adv.adv_default_lifetime, Some(1800));
        assert_eq!(c.routes[0].via, Some("fe80::1".parse().unwrap()));
    }

    /// Issue #6 names this configuration: it must work as written.
    #[test]
    fn the_router_example_of_issue_6_parses() {
        let c = Config::parse(
            r#"
[node]
forwarding = true

[[interface]]
name = "tap0"
addresses = ["2001:db8:1::1/64"]
ra = { prefixes = [{ prefix = "2001:db8:1::/64" }] }

[[interface]]
name = "tap1"
addresses = ["2001:db8:2::1/64"]
ra = { prefixes = [{ prefix = "2001:db8:2::/64" }], mtu = 1400 }
"#,
        )
        .unwrap();
        assert!(c.forwarding);
        assert!(!c.loopback);
        assert!(Config::parse("[node]\nloopback = true").unwrap().loopback);
        let a = c.interfaces[0].iface_config(&[0; 32]).unwrap();
        let adv = a.advertise.unwrap();
        assert!(adv.adv_send_advertisements);
        assert_eq!(
            adv.prefixes[0].prefix,
            "2001:db8:1::".parse::<Ipv6Addr>().unwrap()
        );
        assert!(adv.prefixes[0].on_link && adv.prefixes[0].autonomous);
        assert_eq!(adv.adv_link_mtu, 0);
        assert_eq!(a.mtu, None);
        let b = c.interfaces[1].iface_config(&[0; 32]).unwrap();
        assert_eq!(b.advertise.unwrap().adv_link_mtu, 1400);
        assert_eq!(b.mtu, Some(1400), "the advertised MTU is the link's");
    }

    #[test]
    fn ra_keys_and_route_types() {
        let c = Config::parse(
            r#"
[[interface]]
name = "tap0"
ra = { router_lifetime = 0, preference = "high", hop_limit = 32, routes = [{ prefix = "2001:db8:9::/48", preference = "low" }], rdnss = ["2001:db8::53"] }

[[route]]
to = "2001:db8:dead::/48"
type = "prohibit"
"#,
        )
        .unwrap();
        let adv = c.interfaces[0]
            .iface_config(&[0; 32])
            .unwrap()
            .advertise
            .unwrap();
        assert_eq!(adv.adv_default_lifetime, Some(0));
        assert_eq!(adv.adv_default_preference, Preference::High);
        assert_eq!(adv.adv_cur_hop_limit, 32);
        assert_eq!(adv.routes[0].preference, Preference::Low);
        assert_eq!(adv.routes[0].prefix_len, 48);
        assert_eq!(c.routes[0].kind, RouteType::Prohibit);
        let bad = |t: &str| Config::parse(t).unwrap_err();
        assert!(bad("[[route]]\nto = \"2001:db8::/32\"").contains("dev"));
        assert!(bad("[[route]]\nto = \"::/0\"\ntype = \"nope\"").contains("nope"));
        let e = bad("[[route]]\nto = \"::/0\"\ntype = \"blackhole\"\nvia = \"fe80::1\"");
        assert!(e.contains("via"), "{e}");
        let e = bad("[[interface]]\nname = \"t\"\nra = { preference = \"top\" }");
        assert!(e.contains("high"), "{e}");
        let e = bad("[[interface]]\nname = \"t\"\nra = { max_interval = 10, min_interval = 9 }");
        assert!(e.contains("0.75"), "{e}");
        let e = bad("[[interface]]\nname = \"t\"\nra = { router_lifetime = 5 }");
        assert!(e.contains("max_interval"), "{e}");
        let e =
            bad("[[interface]]\nname = \"t\"\nra = { prefixes = [{ prefix = \"fe80::/64\" }] }");
        assert!(e.contains("link-local"), "{e}");
        let e = bad("[node]\nforwardin = true");
        assert!(e.contains("forwardin"), "{e}");
    }

    #[test]
    fn ra_set_lines_parse_and_show_round_trips() {
        let ra = parse_ra("prefixes = [{ prefix = \"2001:db8:2::/64\" }]\nmtu = 1400").unwrap();
        assert_eq!(ra.mtu, Some(1400));
        let shown = ra_toml(&ra);
        assert_eq!(parse_ra(&shown).unwrap(), ra, "{shown}");
        assert!(parse_ra("mtu = \"big\"").is_err());
        assert!(parse_ra("colour = 1").unwrap_err().contains("colour"));
        assert!(parse_ra("hop_limit = 300").is_err());
    }

    #[test]
    fn mistakes_are_named() {
        assert!(Config::parse("bogus = 1").unwrap_err().contains("bogus"));
        assert!(Config::parse("dns = [\"not-an-address\"]").is_err());
        let e = Config::parse("[[interface]]\nname = \"t\"\naddresses = [\"2001:db8::1/129\"]")
            .unwrap_err();
        assert!(e.contains("0 to 128"), "{e}");
        let e =
            Config::parse("[[interface]]\nname = \"t\"\nmac = \"01:00:00:00:00:01\"").unwrap_err();
        assert!(e.contains("multicast"), "{e}");
        let e = Config::parse("[[interface]]\nname = \"t\"\niid = \"x\"").unwrap_err();
        assert!(e.contains("eui64"), "{e}");
        assert_eq!(
            parse_prefix("2001:db8::1").unwrap(),
            ("2001:db8::1".parse().unwrap(), 128)
        );
    }
}
