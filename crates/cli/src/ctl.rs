//! The control commands of a running daemon, in iproute2's words and word order:
//! `link show|add|del`, `addr show|add|del`, `route show|add|del|get`, `neigh show|flush`,
//! `ra show|set|off`, `mld show`, `stats`, `events`; each with `--json` (or `-j`).
//!
//! [`parse`] turns the words into a [`Command`] (tested without a daemon); [`run`] sends
//! it and prints the answer as iproute2 would, or as JSON.

use std::io::{self, Write};
use std::net::Ipv6Addr;
use std::path::PathBuf;

use sixstack_client::Connection;
use sixstack_client::api::{self, AddrInfo, Body, LinkInfo, NeighInfo, Op, Reply, RouteInfo};

/// One control command, with its output style.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    pub op: Op,
    pub json: bool,
    /// `--control PATH`: the daemon's socket instead of `$SIXSTACK_CONTROL` or the default.
    pub control: Option<PathBuf>,
}

/// What each command accepts, for the usage error.
pub fn usage(cmd: &str) -> &'static str {
    match cmd {
        "link" => {
            "sixstack link [show [dev] NAME]\n       sixstack link add NAME [address MAC] [mtu N]\n       sixstack link del NAME"
        }
        "addr" => {
            "sixstack addr [show [dev NAME]]\n       sixstack addr add ADDRESS/LEN dev NAME\n       sixstack addr del ADDRESS[/LEN] dev NAME"
        }
        "route" => {
            "sixstack route [show]\n       sixstack route add PREFIX/LEN|default [via ADDRESS] dev NAME [metric N]\n       sixstack route add blackhole|unreachable|prohibit PREFIX/LEN [dev NAME] [metric N]\n       sixstack route del PREFIX/LEN|default [via ADDRESS] [dev NAME]\n       sixstack route get ADDRESS[%ZONE]"
        }
        "neigh" => "sixstack neigh [show [dev NAME]]\n       sixstack neigh flush [dev NAME|all]",
        "mld" => "sixstack mld [show [dev NAME]]",
        "ra" => {
            "sixstack ra [show [dev NAME]]\n       sixstack ra set NAME 'KEY = VALUE'...\n       sixstack ra off NAME"
        }
        "stats" => "sixstack stats [--json]",
        "events" => "sixstack events [--json]",
        "tcp" => "sixstack tcp [show] [--json]",
        _ => "",
    }
}

/// Parses the words after `sixstack CMD`. Errors say which word is wrong.
pub fn parse(cmd: &str, args: &[String]) -> Result<Command, String> {
    let mut json = false;
    let mut control = None;
    let mut words: Vec<&str> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--json" | "-j" | "-json" => json = true,
            "--control" => {
                control = Some(PathBuf::from(
                    it.next()
                        .ok_or("--control needs the path of the daemon's socket")?,
                ))
            }
            w => words.push(w),
        }
    }
    let (verb, rest) = match words.split_first() {
        Some((v, r)) => (*v, r),
        None => ("show", &[][..]),
    };
    let op = match (cmd, verb) {
        ("link", v) if is_show(v) => Op::LinkShow {
            dev: dev_or_name(rest)?,
        },
        ("link", "add") => {
            let (name, kv) = rest
                .split_first()
                .ok_or("link add needs the interface name: sixstack link add tap1")?;
            let kv = pairs(kv, &["address", "mtu"])?;
            Op::LinkAdd {
                dev: name.to_string(),
                mac: kv.get("address").map(|s| s.to_string()),
                mtu: kv
                    .get("mtu")
                    .map(|m| m.parse().map_err(|_| format!("mtu {m:?} is not a number")))
                    .transpose()?,
            }
        }
        ("link", v) if is_del(v) => Op::LinkDel {
            dev: dev_or_name(rest)?
                .ok_or("link del needs the interface name: sixstack link del tap1")?,
        },
        ("addr", v) if is_show(v) => Op::AddrShow {
            dev: dev_or_name(rest)?,
        },
        ("addr", "add") => {
            let (a, kv) = rest
                .split_first()
                .ok_or("addr add needs an address: sixstack addr add 2001:db8::2/64 dev tap0")?;
            let (address, prefix_len) = prefix(a, false)?;
            let kv = pairs(kv, &["dev"])?;
            Op::AddrAdd {
                dev: need_dev(&kv, "addr add 2001:db8::2/64 dev tap0")?,
                address,
                prefix_len: prefix_len.unwrap_or(128),
            }
        }
        ("addr", v) if is_del(v) => {
            let (a, kv) = rest
                .split_first()
                .ok_or("addr del needs an address: sixstack addr del 2001:db8::2/64 dev tap0")?;
            let (address, _) = prefix(a, false)?;
            let kv = pairs(kv, &["dev"])?;
            Op::AddrDel {
                dev: need_dev(&kv, "addr del 2001:db8::2/64 dev tap0")?,
                address,
            }
        }
        ("route", v) if is_show(v) => {
            if let Some(w) = rest.first() {
                return Err(format!("route show takes no argument, not {w:?}"));
            }
            Op::RouteShow {}
        }
        ("route", "add") => {
            // iproute2's order: an optional type word before the prefix.
            let (kind, rest) = match rest.first().and_then(|w| api::RouteType::from_word(w)) {
                Some(k) => (k, &rest[1..]),
                None => (api::RouteType::Unicast, rest),
            };
            let (p, kv) = rest.split_first().ok_or(
                "route add needs a prefix: sixstack route add 2001:db8:9::/48 via fe80::1 dev tap0",
            )?;
            let (prefix, len) = route_prefix(p)?;
            let kv = pairs(kv, &["via", "dev", "metric"])?;
            let dev = if kind.is_unicast() {
                need_dev(&kv, "route add 2001:db8:9::/48 via fe80::1 dev tap0")?
            } else {
                if kv.contains_key("via") {
                    return Err(format!(
                        "a {} route has no next hop: sixstack route add {} {p}",
                        kind.as_str(),
                        kind.as_str()
                    ));
                }
                kv.get("dev").map(|d| d.to_string()).unwrap_or_default()
            };
            Op::RouteAdd {
                prefix,
                prefix_len: len,
                via: via(&kv)?,
                dev,
                kind,
                metric: kv
                    .get("metric")
                    .map(|m| {
                        m.parse()
                            .map_err(|_| format!("metric {m:?} is not a number"))
                    })
                    .transpose()?,
            }
        }
        ("route", "get") => {
            let (a, more) = rest
                .split_first()
                .ok_or("route get needs an address: sixstack route get 2001:db8:2::20")?;
            if let Some(w) = more.first() {
                return Err(format!("route get takes one address, not also {w:?}"));
            }
            let (addr, zone) = match a.split_once('%') {
                Some((a, z)) if !z.is_empty() => (a, Some(z.to_string())),
                Some(_) => return Err(format!("{a:?}: the zone after % is empty")),
                None => (*a, None),
            };
            let address: Ipv6Addr = addr
                .parse()
                .map_err(|_| format!("{a:?} is not an IPv6 address (example: 2001:db8::1)"))?;
            Op::RouteGet { address, zone }
        }
        ("route", v) if is_del(v) => {
            let (p, kv) = rest
                .split_first()
                .ok_or("route del needs a prefix: sixstack route del 2001:db8:9::/48")?;
            let (prefix, len) = route_prefix(p)?;
            let kv = pairs(kv, &["via", "dev"])?;
            Op::RouteDel {
                prefix,
                prefix_len: len,
                via: via(&kv)?,
                dev: kv.get("dev").map(|s| s.to_string()),
            }
        }
        ("mld", v) if is_show(v) => Op::MldShow {
            dev: dev_or_name(rest)?,
        },
        ("ra", v) if is_show(v) => Op::RaShow {
            dev: dev_or_name(rest)?,
        },
        ("ra", "set") => {
            let (dev, lines) = rest.split_first().ok_or(
                "ra set needs an interface and settings: sixstack ra set tap0 'prefixes = [{ prefix = \"2001:db8:1::/64\" }]'",
            )?;
            if lines.is_empty() {
                return Err(format!(
                    "ra set {dev} needs settings, as in the file's ra table: 'mtu = 1400'"
                ));
            }
            let config = sixstack_host::config::parse_ra(&lines.join("\n"))
                .map_err(|e| format!("ra set {dev}: {}", e.trim_end()))?;
            Op::RaSet {
                dev: dev.to_string(),
                config: Some(config),
            }
        }
        ("ra", "off") => Op::RaSet {
            dev: dev_or_name(rest)?
                .ok_or("ra off needs the interface name: sixstack ra off tap0")?,
            config: None,
        },
        ("neigh", v) if is_show(v) => Op::NeighShow {
            dev: dev_or_name(rest)?,
        },
        ("neigh", "flush") => Op::NeighFlush {
            dev: dev_or_name(rest)?.filter(|d| d != "all"),
        },
        ("stats", "show") if rest.is_empty() => Op::Stats {},
        ("tcp", v) if is_show(v) && rest.is_empty() => Op::TcpShow { socket: None },
        ("tcp", w) => return Err(format!("tcp: unknown word {w:?} (sixstack tcp show)")),
        ("events", "show") if rest.is_empty() => Op::SubscribeEvents {},
        ("stats" | "events", w) => return Err(format!("{cmd} takes no argument, not {w:?}")),
        (_, w) => return Err(format!("{cmd}: unknown word {w:?}")),
    };
    Ok(Command { op, json, control })
}

/// `ss -ti`'s layout: a line of state, queues and ends, then the variables indented.
fn write_tcp(out: &mut dyn Write, conns: &[api::TcpInfo]) -> io::Result<()> {
    writeln!(
        out,
        "{:<12} {:>8} {:>8} {:<40} {:<40}",
        "State", "Recv-Q", "Send-Q", "Local Address:Port", "Peer Address:Port"
    )?;
    for c in conns {
        writeln!(
            out,
            "{:<12} {:>8} {:>8} {:<40} {:<40}",
            c.state,
            c.recv_buffered,
            c.send_buffered,
            c.local.to_string(),
            c.remote.to_string()
        )?;
        let ms = |us: u64| format!("{}.{:03}", us / 1000, us % 1000);
        let srtt = c
            .srtt_us
            .map(|s| format!("rtt:{}/{}", ms(s), ms(c.rttvar_us)))
            .unwrap_or_else(|| "rtt:-".into());
        let ssthresh = if c.ssthresh >= u32::MAX / 2 {
            "ssthresh:-".to_string()
        } else {
            format!("ssthresh:{}", c.ssthresh)
        };
        let mut flags = Vec::new();
        if c.sack {
            flags.push("sack");
        }
        if c.timestamps {
            flags.push("ts");
        }
        if c.nodelay {
            flags.push("nodelay");
        }
        if c.in_recovery {
            flags.push("recovery");
        }
        if c.orphan {
            flags.push("orphan");
        }
        writeln!(
            out,
            "\t {} {} wscale:{},{} rto:{} {srtt} mss:{} pmtu:{} cwnd:{} {ssthresh} \
             bytes_acked:{} bytes_received:{} segs_out:{} segs_in:{} retrans:{} timeouts:{} \
             fast_retrans:{} snd_wnd:{} rcv_wnd:{}",
            flags.join(" "),
            c.congestion_control,
            c.snd_wscale,
            c.rcv_wscale,
            c.rto_ms,
            c.mss,
            c.path_mtu,
            c.cwnd,
            c.bytes_acked,
            c.bytes_received,
            c.segs_out,
            c.segs_in,
            c.retransmissions,
            c.timeouts,
            c.fast_retransmits,
            c.snd_wnd,
            c.rcv_wnd,
        )?;
    }
    Ok(())
}

fn is_show(v: &str) -> bool {
    matches!(v, "show" | "sh" | "list" | "ls" | "lst")
}

fn is_del(v: &str) -> bool {
    matches!(v, "del" | "delete")
}

/// `dev NAME`, a bare `NAME`, or nothing.
fn dev_or_name(rest: &[&str]) -> Result<Option<String>, String> {
    match rest {
        [] => Ok(None),
        ["dev"] => Err("dev needs an interface name".into()),
        ["dev", name] | [name] => Ok(Some(name.to_string())),
        _ => Err(format!("too many words: {}", rest.join(" "))),
    }
}

/// `key value` pairs among the keys allowed.
fn pairs<'a>(
    words: &[&'a str],
    keys: &[&str],
) -> Result<std::collections::BTreeMap<&'a str, &'a str>, String> {
    let mut m = std::collections::BTreeMap::new();
    let mut it = words.iter();
    while let Some(k) = it.next() {
        if !keys.contains(k) {
            return Err(format!("unknown word {k:?} (expected {})", keys.join(", ")));
        }
        let v = it.next().ok_or_else(|| format!("{k} needs a value"))?;
        if m.insert(*k, *v).is_some() {
            return Err(format!("{k} given twice"));
        }
    }
    Ok(m)
}

fn need_dev(kv: &std::collections::BTreeMap<&str, &str>, example: &str) -> Result<String, String> {
    kv.get("dev")
        .map(|d| d.to_string())
        .ok_or_else(|| format!("which interface? add `dev NAME`: sixstack {example}"))
}

fn via(kv: &std::collections::BTreeMap<&str, &str>) -> Result<Option<Ipv6Addr>, String> {
    kv.get("via")
        .map(|v| {
            v.parse::<Ipv6Addr>().map_err(|_| {
                format!("via {v:?} is not an IPv6 address (write the zone with `dev`, not %)")
            })
        })
        .transpose()
}

/// `ADDR/LEN` (or `ADDR` when `len_needed` is false).
fn prefix(s: &str, len_needed: bool) -> Result<(Ipv6Addr, Option<u8>), String> {
    let (a, l) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    let addr = a
        .parse::<Ipv6Addr>()
        .map_err(|_| format!("{a:?} is not an IPv6 address (example: 2001:db8::2/64)"))?;
    let len = l
        .map(|l| match l.parse::<u8>() {
            Ok(n) if n <= 128 => Ok(n),
            _ => Err(format!("prefix length {l:?} is not 0 to 128")),
        })
        .transpose()?;
    if len_needed && len.is_none() {
        return Err(format!(
            "{s:?} needs a prefix length (example: 2001:db8:9::/48)"
        ));
    }
    Ok((addr, len))
}

fn route_prefix(s: &str) -> Result<(Ipv6Addr, u8), String> {
    if s == "default" {
        return Ok((Ipv6Addr::UNSPECIFIED, 0));
    }
    let (a, l) = prefix(s, true)?;
    Ok((a, l.unwrap_or(128)))
}

/// Sends the command and prints the answer. Errors are the daemon's (or the
/// connection's) words.
pub fn run(c: &Command, name: &str, out: &mut dyn Write) -> io::Result<()> {
    let mut conn = sixstack_client::connect(c.control.as_deref(), &format!("sixstack {name}"))?;
    if let Op::SubscribeEvents {} = c.op {
        return events(&mut conn, c.json, out);
    }
    let reply = conn.call(c.op.clone())?;
    if c.json {
        let v = match &reply {
            Reply::Links { links } => serde_json::to_value(links),
            Reply::Addrs { addrs } => serde_json::to_value(addrs),
            Reply::Routes { routes } => serde_json::to_value(routes),
            Reply::RouteGet(g) => serde_json::to_value(g),
            Reply::Ra { interfaces } => serde_json::to_value(interfaces),
            Reply::Mld { interfaces } => serde_json::to_value(interfaces),
            Reply::Neighbors { neighbors } => serde_json::to_value(neighbors),
            Reply::Stats(s) => serde_json::to_value(s),
            Reply::Tcp { connections } => serde_json::to_value(connections),
            other => serde_json::to_value(other),
        }
        .map_err(io::Error::other)?;
        writeln!(out, "{v}")?;
        return Ok(());
    }
    match reply {
        Reply::Links { links } => links.iter().try_for_each(|l| write_link(out, l)),
        Reply::Addrs { addrs } => write_addrs(out, &addrs),
        Reply::Routes { routes } => routes.iter().try_for_each(|r| write_route(out, r)),
        Reply::RouteGet(g) => write_route_get(out, &g),
        Reply::Mld { interfaces } => interfaces.iter().try_for_each(|m| {
            let role = m
                .querier
                .as_deref()
                .map(|q| format!(", {q}"))
                .unwrap_or_default();
            writeln!(out, "{}: MLD{}{role}", m.dev, m.version)?;
            for g in &m.joined {
                writeln!(out, "    joined {g}")?;
            }
            for l in &m.listeners {
                writeln!(out, "    listeners {} expires {}s", l.group, l.expires)?;
            }
            Ok(())
        }),
        Reply::Ra { interfaces } => interfaces.iter().try_for_each(|r| {
            let state = if r.advertising {
                "advertising"
            } else {
                "not advertising"
            };
            writeln!(out, "{}: {state}", r.dev)?;
            for l in sixstack_host::config::ra_toml(&r.config).lines() {
                writeln!(out, "    {l}")?;
            }
            Ok(())
        }),
        Reply::Neighbors { neighbors } => neighbors.iter().try_for_each(|n| write_neigh(out, n)),
        Reply::Stats(s) => write_stats(out, &s),
        Reply::Tcp { connections } => write_tcp(out, &connections),
        // Silent on success, as iproute2 (`--json` shows the count).
        _ => Ok(()),
    }
}

fn events(conn: &mut Connection, json: bool, out: &mut dyn Write) -> io::Result<()> {
    let id = conn.send(Op::SubscribeEvents {})?;
    loop {
        let r = conn.next_response(None)?;
        match r.body {
            Body::Event(e) if r.id == id => {
                if json {
                    let v = serde_json::to_value(&e).map_err(io::Error::other)?;
                    writeln!(out, "{v}")?;
                } else {
                    let t = e.time_us as f64 / 1e6;
                    match &e.dev {
                        Some(d) => writeln!(out, "[{t:12.6}] {d}: {}", e.message)?,
                        None => writeln!(out, "[{t:12.6}] {}", e.message)?,
                    }
                }
                out.flush()?;
            }
            Body::Error(e) if r.id == id => return Err(sixstack_client::to_io(e)),
            _ => {}
        }
    }
}

/// As `ip -6 route get` prints, then a second line saying what chose the route.
fn write_route_get(out: &mut dyn Write, g: &api::RouteGetInfo) -> io::Result<()> {
    let mut line = g.address.to_string();
    if let Some(v) = g.via {
        line += &format!(" via {v}");
    }
    line += &format!(" dev {}", g.dev);
    match g.source {
        Some(s) => line += &format!(" src {s}"),
        None => line += " src none",
    }
    line += &format!(" mtu {}", g.mtu);
    writeln!(out, "{line}")?;
    let why = match (g.chosen_by.as_str(), &g.route) {
        ("table", Some(r)) => format!(
            "route {}/{}{} dev {} metric {} proto {}",
            r.prefix,
            r.prefix_len,
            r.via.map(|v| format!(" via {v}")).unwrap_or_default(),
            r.dev,
            r.metric,
            r.origin.as_str()
        ),
        ("prefix", Some(r)) => format!(
            "on-link prefix {}/{} from a Router Advertisement",
            r.prefix, r.prefix_len
        ),
        ("default_router", _) => "the default router list (RFC 4861 §6.3.6)".to_string(),
        ("redirect", _) => "a Redirect (RFC 4861 §8.3)".to_string(),
        ("scoped", _) => "a link-scope destination in its zone (RFC 4007)".to_string(),
        ("local", _) => "one of this node's addresses".to_string(),
        (other, _) => other.to_string(),
    };
    writeln!(out, "    chosen by {why}")
}

fn write_link(out: &mut dyn Write, l: &LinkInfo) -> io::Result<()> {
    let mut flags = vec![];
    if l.kind == "loopback" {
        flags.push("LOOPBACK");
    } else {
        flags.extend(["BROADCAST", "MULTICAST"]);
    }
    if l.up {
        flags.extend(["UP", "LOWER_UP"]);
    }
    if l.router {
        flags.push("ROUTER");
    }
    if !l.enabled {
        flags.push("IPV6_DISABLED");
    }
    writeln!(
        out,
        "{}: {}: <{}> mtu {} state {}{}",
        l.index,
        l.name,
        flags.join(","),
        l.mtu,
        if l.up { "UP" } else { "DOWN" },
        if l.tap { " tap" } else { "" }
    )?;
    let kind = if l.kind == "ethernet" {
        "ether"
    } else {
        &l.kind
    };
    match &l.mac {
        Some(m) => write!(out, "    link/{kind} {m}")?,
        None => write!(out, "    link/{kind}")?,
    }
    writeln!(
        out,
        " hoplimit {} reachable {}ms retrans {}ms",
        l.cur_hop_limit, l.reachable_time_ms, l.retrans_timer_ms
    )?;
    if !l.rdnss.is_empty() {
        let r: Vec<String> = l.rdnss.iter().map(|a| a.to_string()).collect();
        writeln!(out, "    rdnss {}", r.join(" "))?;
    }
    if !l.dnssl.is_empty() {
        writeln!(out, "    dnssl {}", l.dnssl.join(" "))?;
    }
    Ok(())
}

fn lifetime(s: Option<u64>) -> String {
    match s {
        Some(n) => format!("{n}sec"),
        None => "forever".to_string(),
    }
}

fn write_addrs(out: &mut dyn Write, addrs: &[AddrInfo]) -> io::Result<()> {
    let mut last: Option<&str> = None;
    for a in addrs {
        if last != Some(&a.interface) {
            writeln!(out, "{}:", a.interface)?;
            last = Some(&a.interface);
        }
        let state = match a.state {
            api::AddrState::Preferred => "",
            api::AddrState::Tentative => " tentative",
            api::AddrState::Deprecated => " deprecated",
            api::AddrState::Duplicate => " dadfailed tentative",
        };
        writeln!(
            out,
            "    inet6 {}/{} scope {}{} {}",
            a.address,
            a.prefix_len,
            a.scope.as_str(),
            state,
            a.origin.as_str()
        )?;
        writeln!(
            out,
            "       valid_lft {} preferred_lft {}",
            lifetime(a.valid_lifetime),
            lifetime(a.preferred_lifetime)
        )?;
    }
    Ok(())
}

fn write_route(out: &mut dyn Write, r: &RouteInfo) -> io::Result<()> {
    if !r.kind.is_unicast() {
        write!(out, "{} ", r.kind.as_str())?;
    }
    if r.prefix_len == 0 {
        write!(out, "default")?;
    } else {
        write!(out, "{}/{}", r.prefix, r.prefix_len)?;
    }
    if let Some(v) = r.via {
        write!(out, " via {v}")?;
    }
    write!(
        out,
        " dev {} proto {} metric {}",
        r.dev,
        r.origin.as_str(),
        r.metric
    )?;
    if let Some(e) = r.expires {
        write!(out, " expires {e}sec")?;
    }
    writeln!(out)
}

fn write_neigh(out: &mut dyn Write, n: &NeighInfo) -> io::Result<()> {
    write!(out, "{} dev {}", n.address, n.dev)?;
    if let Some(l) = &n.lladdr {
        write!(out, " lladdr {l}")?;
    }
    if n.router {
        write!(out, " router")?;
    }
    writeln!(out, " {}", n.state.as_str())
}

fn write_stats(out: &mut dyn Write, s: &api::StatsInfo) -> io::Result<()> {
    writeln!(out, "Ip6 (RFC 4293):")?;
    for (k, v) in s.ip.fields() {
        writeln!(out, "    {k:<20} {v}")?;
    }
    writeln!(out, "Icmp6 (RFC 4293):")?;
    for (k, v) in [
        ("InMsgs", s.icmp.in_msgs),
        ("InErrors", s.icmp.in_errors),
        ("OutMsgs", s.icmp.out_msgs),
        ("OutErrors", s.icmp.out_errors),
        ("OutRateLimited", s.icmp.out_rate_limited),
    ] {
        writeln!(out, "    {k:<20} {v}")?;
    }
    for (t, n) in &s.icmp.in_by_type {
        writeln!(out, "    {:<20} {n}", format!("InType{t}"))?;
    }
    for (t, n) in &s.icmp.out_by_type {
        writeln!(out, "    {:<20} {n}", format!("OutType{t}"))?;
    }
    if !s.icmp.errors_sent.is_empty() {
        writeln!(out, "Errors and redirects sent:")?;
        for (why, n) in &s.icmp.errors_sent {
            writeln!(out, "    {n:>8}  {why}")?;
        }
    }
    for (name, u) in [("Udp6", &s.udp), ("UdpLite6", &s.udplite)] {
        writeln!(out, "{name} (RFC 4113):")?;
        for (k, v) in [
            ("InDatagrams", u.in_datagrams),
            ("NoPorts", u.no_ports),
            ("InErrors", u.in_errors),
            ("OutDatagrams", u.out_datagrams),
        ] {
            writeln!(out, "    {k:<20} {v}")?;
        }
    }
    writeln!(out, "Sockets: {}", s.sockets)?;
    if !s.drops.is_empty() {
        writeln!(out, "Drops:")?;
        for (why, n) in &s.drops {
            writeln!(out, "    {n:>8}  {why}")?;
        }
    }
    for i in &s.interfaces {
        writeln!(out, "{}:", i.name)?;
        for (k, v) in i.ip.fields().iter().filter(|(_, v)| *v != 0) {
            writeln!(out, "    {k:<20} {v}")?;
        }
        for (why, n) in &i.errors_sent {
            writeln!(out, "    {:<20} {n}", format!("sent {why}"))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(cmd: &str, words: &str) -> Result<Command, String> {
        let args: Vec<String> = words.split_whitespace().map(String::from).collect();
        parse(cmd, &args)
    }

    fn a(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    #[test]
    fn ra_set_takes_the_files_words() {
        let args: Vec<String> = [
            "set",
            "tap1",
            "prefixes = [{ prefix = \"2001:db8:2::/64\" }]",
            "mtu = 1400",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        match parse("ra", &args).unwrap().op {
            Op::RaSet {
                dev,
                config: Some(c),
            } => {
                assert_eq!(dev, "tap1");
                assert_eq!(c.mtu, Some(1400));
                assert_eq!(c.prefixes[0].prefix, "2001:db8:2::/64");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            p("ra", "off tap1").unwrap().op,
            Op::RaSet {
                dev: "tap1".into(),
                config: None
            }
        );
        assert_eq!(p("ra", "").unwrap().op, Op::RaShow { dev: None });
        assert!(p("ra", "set tap1").unwrap_err().contains("needs settings"));
        assert!(p("ra", "set tap1 mtu=abc").is_err());
        assert!(p("ra", "off").is_err());
    }

    #[test]
    fn route_get_takes_an_address_and_a_zone() {
        assert_eq!(
            p("route", "get 2001:db8::1").unwrap().op,
            Op::RouteGet {
                address: a("2001:db8::1"),
                zone: None
            }
        );
        assert_eq!(
            p("route", "get fe80::1%tap0 --json").unwrap().op,
            Op::RouteGet {
                address: a("fe80::1"),
                zone: Some("tap0".into())
            }
        );
        assert!(p("route", "get").unwrap_err().contains("needs an address"));
        assert!(
            p("route", "get nowhere")
                .unwrap_err()
                .contains("not an IPv6")
        );
        assert!(p("route", "get fe80::1%").unwrap_err().contains("zone"));
        assert!(p("route", "get ::1 ::2").is_err());
    }

    #[test]
    fn iproute2_word_order() {
        assert_eq!(
            p("addr", "add 2001:db8::2/64 dev tap0").unwrap().op,
            Op::AddrAdd {
                dev: "tap0".into(),
                address: a("2001:db8::2"),
                prefix_len: 64
            }
        );
        assert_eq!(
            p("route", "add 2001:db8:9::/48 via fe80::1 dev tap0")
                .unwrap()
                .op,
            Op::RouteAdd {
                prefix: a("2001:db8:9::"),
                prefix_len: 48,
                via: Some(a("fe80::1")),
                dev: "tap0".into(),
                metric: None,
                kind: api::RouteType::Unicast,
            }
        );
        assert_eq!(
            p("route", "add blackhole 2001:db8:bad::/48").unwrap().op,
            Op::RouteAdd {
                prefix: a("2001:db8:bad::"),
                prefix_len: 48,
                via: None,
                dev: String::new(),
                metric: None,
                kind: api::RouteType::Blackhole,
            }
        );
        assert!(
            p("route", "add prohibit 2001:db8:bad::/48 via fe80::1")
                .unwrap_err()
                .contains("no next hop")
        );
        assert_eq!(
            p("route", "add default via fe80::1 dev tap0 metric 5")
                .unwrap()
                .op,
            Op::RouteAdd {
                prefix: Ipv6Addr::UNSPECIFIED,
                prefix_len: 0,
                via: Some(a("fe80::1")),
                dev: "tap0".into(),
                metric: Some(5),
                kind: api::RouteType::Unicast,
            }
        );
        assert_eq!(
            p("route", "del 2001:db8:9::/48").unwrap().op,
            Op::RouteDel {
                prefix: a("2001:db8:9::"),
                prefix_len: 48,
                via: None,
                dev: None
            }
        );
        assert_eq!(
            p("link", "add tap1 address 02:00:5e:10:00:01 mtu 1400")
                .unwrap()
                .op,
            Op::LinkAdd {
                dev: "tap1".into(),
                mac: Some("02:00:5e:10:00:01".into()),
                mtu: Some(1400)
            }
        );
        assert_eq!(
            p("link", "del tap1").unwrap().op,
            Op::LinkDel { dev: "tap1".into() }
        );
        assert_eq!(
            p("addr", "del 2001:db8::2/64 dev tap0").unwrap().op,
            Op::AddrDel {
                dev: "tap0".into(),
                address: a("2001:db8::2")
            }
        );
    }

    #[test]
    fn show_is_the_default_and_json_goes_anywhere() {
        let c = p("addr", "").unwrap();
        assert_eq!((c.op, c.json), (Op::AddrShow { dev: None }, false));
        let c = p("addr", "--json show dev tap0").unwrap();
        assert_eq!(
            (c.op, c.json),
            (
                Op::AddrShow {
                    dev: Some("tap0".into())
                },
                true
            )
        );
        assert_eq!(
            p("link", "ls tap0 -j").unwrap().op,
            Op::LinkShow {
                dev: Some("tap0".into())
            }
        );
        assert_eq!(
            p("neigh", "flush all").unwrap().op,
            Op::NeighFlush { dev: None }
        );
        assert_eq!(p("stats", "--json").unwrap().op, Op::Stats {});
        assert_eq!(p("events", "").unwrap().op, Op::SubscribeEvents {});
        assert_eq!(p("tcp", "").unwrap().op, Op::TcpShow { socket: None });
        let t = p("tcp", "show --json").unwrap();
        assert!(t.json);
        assert!(p("tcp", "flush").is_err());
        let c = p("stats", "--control /tmp/x.sock").unwrap();
        assert_eq!(c.control, Some(PathBuf::from("/tmp/x.sock")));
    }

    #[test]
    fn errors_name_the_wrong_word_and_show_the_right_form() {
        let e = p("addr", "add 2001:db8::2/64").unwrap_err();
        assert_eq!(
            e,
            "which interface? add `dev NAME`: sixstack addr add 2001:db8::2/64 dev tap0"
        );
        assert!(
            p("addr", "add 2001:db8::zz/64 dev tap0")
                .unwrap_err()
                .contains("\"2001:db8::zz\" is not an IPv6 address")
        );
        assert!(
            p("addr", "add 2001:db8::2/129 dev tap0")
                .unwrap_err()
                .contains("prefix length \"129\"")
        );
        assert!(
            p("route", "add 2001:db8:9:: dev tap0")
                .unwrap_err()
                .contains("needs a prefix length")
        );
        assert!(
            p("route", "add 2001:db8:9::/48 via fe80::1%tap0 dev tap0")
                .unwrap_err()
                .contains("via \"fe80::1%tap0\"")
        );
        assert_eq!(
            p("route", "add ::/0 gateway fe80::1 dev tap0").unwrap_err(),
            "unknown word \"gateway\" (expected via, dev, metric)"
        );
        assert_eq!(
            p("addr", "frobnicate").unwrap_err(),
            "addr: unknown word \"frobnicate\""
        );
        assert!(
            p("link", "add")
                .unwrap_err()
                .contains("needs the interface name")
        );
        assert!(p("stats", "now").is_err());
    }
}
