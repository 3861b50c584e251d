//! The daemon as a router (issue #6, "How it is checked"): `sixstack run --tap tap0 --tap
//! tap1 --config router.toml` between links that are bridges of the shared harness
//! (`netns/mod.rs`), with Linux hosts in namespaces of their own behind it. Every check asks
//! the real peers what they saw: the kernel's addresses, routes and path MTUs (`ip -j`),
//! `rdisc6`, `radvdump`, `ping`, `traceroute`, TCP sockets, and the bridges' captures read
//! by tshark.
//!
//! Needs root (see `netns/mod.rs`); on failure the captures of every bridge, the daemon's
//! log and pcaps and the commands run stay in `test-output/<test>/`.
//!
//! Links: L1 2001:db8:1::/64 (br1, tap0), L2 2001:db8:2::/64 (br2, tap1), L3
//! 2001:db8:3::/64 (br3); the router is `::1` on each of its links.

mod netns;

use std::net::Ipv6Addr;
use std::time::Duration;

use netns::{
    AddrState, Bridge, BridgeOpts, Daemon, DaemonOpts, Lab, Link, Ns, route_mtu, wait_for,
};

/// How long kernel hosts may take to hear an RA and configure themselves.
const CONVERGE: Duration = Duration::from_secs(30);

/// The router's addresses.
const R_L1: &str = "2001:db8:1::1";
const R_L2: &str = "2001:db8:2::1";

/// `ra = {...}` of an interface: its prefix, fast periodic RAs (so that hosts need not
/// wait for the default intervals), and `more` (`, mtu = 1400`).
fn ra(prefix: &str, more: &str) -> String {
    format!(
        "ra = {{ prefixes = [{{ prefix = \"{prefix}\" }}], min_interval = 3, max_interval = 4{more} }}"
    )
}

/// An `[[interface]]` section.
fn iface(name: &str, address: &str, extra: &str) -> String {
    format!("[[interface]]\nname = \"{name}\"\naddresses = [\"{address}\"]\n{extra}\n")
}

/// A kernel host `role` on `br` (eth0): IPv6 on, forwarding off, router advertisements and
/// redirects accepted, as on any Linux host (the harness's hosts have DAD off).
fn kernel_host(lab: &Lab, role: &str, br: &Bridge) -> (Ns, Link) {
    let h = lab.host(role);
    h.sysctl("net.ipv6.conf.all.forwarding", "0");
    for scope in ["all", "default"] {
        h.sysctl(&format!("net.ipv6.conf.{scope}.accept_ra"), "1");
        h.sysctl(&format!("net.ipv6.conf.{scope}.accept_redirects"), "1");
    }
    let link = lab.link(&h, "eth0", br);
    (h, link)
}

/// Host `a` on L1 (br1) and host `b` on L2 (br2), our daemon between them on tap0 and
/// tap1, started with `config`. With `mtu2`, L2 (bridge, veths, tap1) has that MTU.
struct TwoLinks {
    a: Ns,
    b: Ns,
    d: Daemon,
}

fn two_links(lab: &Lab, config: &str, mtu2: Option<u32>) -> TwoLinks {
    let br1 = lab.bridge("br1", BridgeOpts::default());
    let br2 = lab.bridge("br2", BridgeOpts::default());
    let (a, _) = kernel_host(lab, "a", &br1);
    let (b, b_link) = kernel_host(lab, "b", &br2);
    lab.tap("tap0", &br1);
    lab.tap("tap1", &br2);
    if let Some(mtu) = mtu2 {
        lab.set_link_mtu(&b, &b_link, mtu);
        lab.switch().set_mtu("tap1", mtu);
        lab.switch().set_mtu("br2", mtu);
    }
    let d = lab.daemon(DaemonOpts::new(&["tap0", "tap1"]).config(config));
    ready(&d, &[("tap0", R_L1), ("tap1", R_L2)]);
    TwoLinks { a, b, d }
}

/// Waits until the daemon's addresses `(dev, address)` have passed DAD. (Hosts may
/// configure themselves from our first RAs, sent from the link-local address, before
/// then; until then our errors come from the link-local address, rightly.)
fn ready(d: &Daemon, addrs: &[(&str, &str)]) {
    for (dev, a) in addrs {
        d.wait_addr(dev, a.parse().expect("an address"), AddrState::Preferred);
    }
}

/// Waits until `h` has a SLAAC address in `prefix` and a default route via `router_ll`;
/// returns the address.
fn autoconfigured(h: &Ns, prefix: &str, router_ll: Ipv6Addr) -> Ipv6Addr {
    let (addr, _) = h.slaac_address("eth0", prefix, CONVERGE);
    let via = router_ll.to_string();
    wait_for(
        &format!("{}'s default route via {via}", h.role()),
        CONVERGE,
        || {
            let v = h.json(&["ip", "-j", "-6", "route", "show", "default", "dev", "eth0"]);
            v.as_array()?
                .iter()
                .any(|r| r["gateway"].as_str() == Some(via.as_str()))
                .then_some(())
        },
    );
    addr
}

/// `ping -6` of `count` requests; returns its output, whatever its exit status.
fn ping(h: &Ns, args: &[&str], dst: &str) -> String {
    let mut argv = vec!["ping", "-6", "-n", "-i", "0.3", "-W", "2"];
    argv.extend_from_slice(args);
    argv.push(dst);
    let out = h.run(&argv);
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// How many replies ping reported (`N received`).
fn received(out: &str) -> u32 {
    out.split(',')
        .find_map(|p| p.trim().strip_suffix(" received")?.trim().parse().ok())
        .unwrap_or(0)
}

/// Three pings of `dst` from `h`, all answered.
fn ping_ok(h: &Ns, dst: &str) {
    let out = ping(h, &["-c", "3"], dst);
    assert_eq!(received(&out), 3, "{} pings {dst}:\n{out}", h.role());
}

/// `traceroute -6 -n` from `h` to `dst`: the hops it lists.
fn traceroute(h: &Ns, dst: &str) -> (Vec<String>, String) {
    let out = h.ok(&[
        "traceroute",
        "-6",
        "-n",
        "-q",
        "1",
        "-w",
        "2",
        "-m",
        "6",
        dst,
    ]);
    (netns::traceroute_hops(&out), out)
}

/// rdisc6's "key : value" lines, trimmed, in order.
fn rdisc6(h: &Ns) -> (Vec<(String, String)>, String) {
    let out = h.ok(&["rdisc6", "-1", "-r", "3", "-w", "1500", "eth0"]);
    let fields = out
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(" : ")?;
            Some((k.trim().to_string(), v.trim().to_string()))
        })
        .collect();
    (fields, out)
}

fn field<'a>(fields: &'a [(String, String)], key: &str) -> Vec<&'a str> {
    fields
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// The first whole RA that radvdump (running as `name`) printed, and every line in its
/// output that complains: radvd's log lines (`[date] radvdump (pid): ...` for trailing
/// garbage, zero-length or overlong options, invalid options in an RA) and its
/// `# Invalid ...` notes.
fn radvdump_block(lab: &Lab, name: &str) -> (String, Vec<String>) {
    let log = lab.log_of(name);
    let end = "}; # End of interface definition";
    let block = log
        .split_inclusive(end)
        .next()
        .filter(|b| b.contains(end))
        .unwrap_or_else(|| panic!("radvdump printed no whole RA:\n{log}"))
        .to_string();
    let complaints = log
        .lines()
        .filter(|l| {
            let t = l.trim();
            let lower = t.to_lowercase();
            t.starts_with('[')
                || lower.contains("invalid")
                || lower.contains("garbage")
                || lower.contains("zero length")
                || lower.contains("greater than")
                || lower.contains("warning")
                || lower.contains("error")
        })
        .map(str::to_string)
        .collect();
    (block, complaints)
}

/// Frames in the capture `pcap` that match `filter`.
fn frames(lab: &Lab, pcap: &str, filter: &str) -> usize {
    lab.count_frames(pcap, filter)
}

/// tshark's summary lines of the frames on br1 and br2 to, about or resolving `dst`.
fn about(lab: &Lab, dst: &str) -> String {
    let mut text = String::new();
    for pcap in ["br1.pcap", "br2.pcap"] {
        let out = std::process::Command::new("tshark")
            .arg("-r")
            .arg(lab.out_dir().join(pcap))
            .args([
                "-Y",
                &format!("ipv6.dst == {dst} || icmpv6.nd.ns.target_address == {dst}"),
            ])
            .output()
            .expect("run tshark");
        text.push_str(&format!(
            "{pcap}:\n{}",
            String::from_utf8_lossy(&out.stdout)
        ));
    }
    text
}

/// The daemon's counters of interface `dev`.
fn iface_stats(d: &Daemon, dev: &str) -> sixstack_api::IfaceCounters {
    let s = d.stats();
    s.interfaces
        .into_iter()
        .find(|i| i.name == dev)
        .unwrap_or_else(|| panic!("no counters for {dev}"))
}

/// How many errors (or Redirects) of `reason` the daemon sent about packets that came in
/// on `dev`.
fn sent(d: &Daemon, dev: &str, reason: &str) -> u64 {
    iface_stats(d, dev)
        .errors_sent
        .get(reason)
        .copied()
        .unwrap_or(0)
}

// ----- 1. RAs: Linux hosts configure themselves ----------------------------------------

#[test]
fn ra_autoconfigures_linux_hosts() {
    let Some(lab) = Lab::new("ra_autoconfigures_linux_hosts") else {
        return;
    };
    assert!(
        netns::which("radvdump").is_some(),
        "radvdump is not installed (Debian package radvdump)"
    );
    // L2's links stay at 1500: the 1400 the hosts there use can only come from our RA.
    let config = format!(
        "[node]\nforwarding = true\n\n{}{}",
        iface(
            "tap0",
            "2001:db8:1::1/64",
            &ra(
                "2001:db8:1::/64",
                ", rdnss = [\"2001:db8:1::53\"], dnssl = [\"example.test\"], \
                 preference = \"high\", other_config = true, \
                 routes = [{ prefix = \"2001:db8:9::/48\", lifetime = 1800, preference = \"low\" }]"
            )
        ),
        iface(
            "tap1",
            "2001:db8:2::1/64",
            &ra(
                "2001:db8:2::/64",
                ", mtu = 1400, rdnss = [\"2001:db8:2::53\"], hop_limit = 50, \
                 reachable_time = 20000, retrans_timer = 1500, router_lifetime = 600"
            )
        ),
    );
    let TwoLinks { a, b, d } = two_links(&lab, &config, None);
    // Linux takes Route Information options (RFC 4191) only up to this prefix length
    // (0 by default).
    a.sysctl("net.ipv6.conf.eth0.accept_ra_rt_info_max_plen", "64");
    let ll0 = d.link_local("tap0");
    let ll1 = d.link_local("tap1");
    // radvdump on both hosts from the start, to decode the periodic RAs.
    lab.spawn(&a, "radvdump-a", &["stdbuf", "-oL", "radvdump"]);
    lab.spawn(&b, "radvdump-b", &["stdbuf", "-oL", "radvdump"]);

    for (h, prefix, ll, mtu) in [
        (&a, "2001:db8:1::/64", ll0, 1500),
        (&b, "2001:db8:2::/64", ll1, 1400),
    ] {
        let who = h.role().to_string();
        // ip -j -6 addr: an address in the prefix, formed from the RA, with lifetimes.
        let (addr, info) = h.slaac_address("eth0", prefix, CONVERGE);
        assert_eq!(info["prefixlen"], 64, "{who}: {info}");
        assert_eq!(info["scope"], "global", "{who}: {info}");
        assert!(
            info["valid_life_time"].as_u64().unwrap_or(0) > 0
                && info["preferred_life_time"].as_u64().unwrap_or(0) > 0,
            "{who}: {info}"
        );
        // ip -j -6 route: the default route via our link-local address, learnt from an
        // RA, and the prefix on-link.
        let def = h.default_route("eth0", CONVERGE);
        assert_eq!(def["gateway"], ll.to_string(), "{who}: {def}");
        assert_eq!(def["protocol"], "ra", "{who}: {def}");
        let routes = h.json(&["ip", "-j", "-6", "route", "show", "dev", "eth0"]);
        let on_link = routes
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["dst"] == prefix)
            .unwrap_or_else(|| panic!("{who}: no route to {prefix}: {routes}"));
        assert!(on_link["gateway"].is_null(), "{who}: {on_link}");
        // The MTU: the interface's IPv6 MTU, and the default route's.
        assert_eq!(h.ipv6_mtu("eth0"), mtu, "{who}'s IPv6 MTU");
        if mtu != 1500 {
            assert_eq!(route_mtu(&def), Some(mtu.into()), "{who}: {def}");
        }
        // The address is usable: the host reaches us from it.
        let ours = if who == "a" { R_L1 } else { R_L2 };
        let got = h.route_get(ours);
        assert_eq!(got["prefsrc"], addr.to_string(), "{who}: {got}");
        ping_ok(h, ours);
    }
    // The router preference and lifetime (RFC 4191 §2.2, RFC 4861 §4.2), the Route
    // Information option on L1; the hop limit and ND timers on L2.
    let def = a.default_route("eth0", CONVERGE);
    assert_eq!(def["pref"], "high", "{def}");
    let rio = wait_for("a's route to 2001:db8:9::/48 from our RA", CONVERGE, || {
        let v = a.json(&["ip", "-j", "-6", "route", "show", "2001:db8:9::/48"]);
        v.as_array()?.first().cloned()
    });
    assert_eq!(rio["gateway"], ll0.to_string(), "{rio}");
    assert_eq!(rio["protocol"], "ra", "{rio}");
    assert_eq!(rio["pref"], "low", "{rio}");
    let def = b.default_route("eth0", CONVERGE);
    assert_eq!(def["pref"], "medium", "{def}");
    let expires = def["expires"].as_u64().unwrap_or(0);
    assert!(expires > 0 && expires <= 600, "{def}");
    let proc = |path: &str| b.ok(&["cat", path]).trim().to_string();
    assert_eq!(proc("/proc/sys/net/ipv6/conf/eth0/hop_limit"), "50");
    assert_eq!(
        proc("/proc/sys/net/ipv6/neigh/eth0/base_reachable_time_ms"),
        "20000"
    );
    assert_eq!(
        proc("/proc/sys/net/ipv6/neigh/eth0/retrans_time_ms"),
        "1500"
    );

    // rdisc6 asks and prints what we answer.
    let (f, out) = rdisc6(&a);
    assert_eq!(field(&f, "Prefix"), ["2001:db8:1::/64"], "{out}");
    assert_eq!(
        field(&f, "Recursive DNS server"),
        ["2001:db8:1::53"],
        "{out}"
    );
    assert_eq!(field(&f, "DNS search list"), ["example.test"], "{out}");
    assert!(out.contains(&format!("from {ll0}")), "{out}");
    assert_eq!(field(&f, "Router preference"), ["high"], "{out}");
    assert_eq!(field(&f, "Stateful other conf."), ["Yes"], "{out}");
    assert_eq!(field(&f, "Stateful address conf."), ["No"], "{out}");
    assert_eq!(field(&f, "Route"), ["2001:db8:9::/48"], "{out}");
    assert_eq!(field(&f, "Route preference"), ["low"], "{out}");
    let (f, out) = rdisc6(&b);
    assert_eq!(field(&f, "Prefix"), ["2001:db8:2::/64"], "{out}");
    assert_eq!(
        field(&f, "Recursive DNS server"),
        ["2001:db8:2::53"],
        "{out}"
    );
    assert_eq!(field(&f, "MTU"), ["1400 bytes (valid)"], "{out}");
    assert!(out.contains(&format!("from {ll1}")), "{out}");
    for (key, want) in [
        ("Hop limit", "50 "),
        ("Router lifetime", "600 "),
        ("Reachable time", "20000 "),
        ("Retransmit time", "1500 "),
    ] {
        let got = field(&f, key);
        assert!(got.len() == 1 && got[0].starts_with(want), "{key}: {out}");
    }
    // The router lifetime is not 0: we are a default router.
    let lifetime = field(&f, "Router lifetime");
    assert!(
        lifetime.len() == 1 && !lifetime[0].starts_with("0 "),
        "{out}"
    );

    // radvdump decodes a periodic RA on each link without complaint.
    for (name, ll, want) in [
        (
            "radvdump-a",
            ll0,
            vec![
                "prefix 2001:db8:1::/64",
                "RDNSS 2001:db8:1::53",
                "DNSSL example.test",
                "AdvOnLink on;",
                "AdvAutonomous on;",
                "AdvDefaultPreference high;",
                "AdvOtherConfigFlag on;",
                "route 2001:db8:9::/48",
                "AdvRoutePreference low;",
                "AdvRouteLifetime 1800;",
            ],
        ),
        (
            "radvdump-b",
            ll1,
            vec![
                "prefix 2001:db8:2::/64",
                "RDNSS 2001:db8:2::53",
                "AdvLinkMTU 1400;",
                "AdvCurHopLimit 50;",
                "AdvDefaultLifetime 600;",
                "AdvReachableTime 20000;",
                "AdvRetransTimer 1500;",
            ],
        ),
    ] {
        wait_for(&format!("{name} to print an RA"), CONVERGE, || {
            lab.log_of(name)
                .contains("}; # End of interface definition")
                .then_some(())
        });
        let (block, complaints) = radvdump_block(&lab, name);
        assert!(
            block.contains(&format!("based on Router Advertisement from {ll}")),
            "{name}:\n{block}"
        );
        for w in want {
            assert!(
                block
                    .lines()
                    .any(|l| l.trim() == w || l.trim().starts_with(w)),
                "{name}: no `{w}` in\n{block}"
            );
        }
        assert!(
            !block.contains("AdvDefaultLifetime 0;"),
            "{name}: not a default router:\n{block}"
        );
        assert!(complaints.is_empty(), "{name} complains: {complaints:?}");
    }
    lab.assert_clean_captures(&d.mac("tap0"));
    lab.assert_clean_captures(&d.mac("tap1"));
    // Stopped, we say goodbye with router lifetime 0 (RFC 4861 §6.2.5): both hosts drop
    // us as their default router at once, not when the lifetime runs out.
    let st = lab.stop_daemon(&d).expect("the daemon ran");
    assert!(st.success(), "the daemon stopped with {st}");
    for h in [&a, &b] {
        wait_for(
            &format!("{} to drop its default route", h.role()),
            Duration::from_secs(10),
            || {
                let v = h.json(&["ip", "-j", "-6", "route", "show", "default"]);
                v.as_array()?.is_empty().then_some(())
            },
        );
    }
}

// ----- 2. forwarding between links, traceroute --------------------------------------------

#[test]
fn hosts_ping_across_and_traceroute_shows_us() {
    let Some(lab) = Lab::new("hosts_ping_across_and_traceroute_shows_us") else {
        return;
    };
    // The configuration of issue #6, exactly as written there.
    let config = "[node]
forwarding = true

[[interface]]
name = \"tap0\"
addresses = [\"2001:db8:1::1/64\"]
ra = { prefixes = [{ prefix = \"2001:db8:1::/64\" }] }

[[interface]]
name = \"tap1\"
addresses = [\"2001:db8:2::1/64\"]
ra = { prefixes = [{ prefix = \"2001:db8:2::/64\" }], mtu = 1400 }
";
    let TwoLinks { a, b, d } = two_links(&lab, config, None);
    let a_addr = autoconfigured(&a, "2001:db8:1::/64", d.link_local("tap0"));
    let b_addr = autoconfigured(&b, "2001:db8:2::/64", d.link_local("tap1"));
    let (a_s, b_s) = (a_addr.to_string(), b_addr.to_string());
    ping_ok(&a, &b_s);
    ping_ok(&b, &a_s);
    // The replies came from the other host, through us: our MACs on both bridges.
    let n = frames(
        &lab,
        "br2.pcap",
        &format!(
            "eth.src == {} && ipv6.src == {a_s} && icmpv6.type == 128",
            d.mac("tap1")
        ),
    );
    assert!(n >= 3, "{n} echo requests from a forwarded onto L2");
    let n = frames(
        &lab,
        "br1.pcap",
        &format!(
            "eth.src == {} && ipv6.src == {b_s} && icmpv6.type == 128",
            d.mac("tap0")
        ),
    );
    assert!(n >= 3, "{n} echo requests from b forwarded onto L1");
    // We forward with the hop limit one lower (RFC 8200 §3).
    let n = frames(
        &lab,
        "br2.pcap",
        &format!("ipv6.src == {a_s} && icmpv6.type == 128 && ipv6.hlim != 63"),
    );
    assert_eq!(n, 0, "forwarded with a hop limit other than 64 - 1");
    // Our counters agree (RFC 4293: In on arrival, Out on departure), and so does
    // `sixstack route get`.
    for dev in ["tap0", "tap1"] {
        let c = iface_stats(&d, dev);
        assert!(
            c.ip.in_forw_datagrams >= 6 && c.ip.out_forw_datagrams >= 6,
            "{dev}: {:?}",
            c.ip
        );
    }
    let g = d.route_get(&b_s);
    assert_eq!(
        (g.dev.as_str(), g.via, g.source),
        ("tap1", None, Some(R_L2.parse().unwrap())),
        "{g:?}"
    );
    // traceroute: our address on the source's link, then the destination.
    let (hops, out) = traceroute(&a, &b_s);
    assert_eq!(hops, [R_L1, b_s.as_str()], "{out}");
    let (hops, out) = traceroute(&b, &a_s);
    assert_eq!(hops, [R_L2, a_s.as_str()], "{out}");
    assert!(sent(&d, "tap0", "hop_limit_exceeded") >= 1);
    assert!(sent(&d, "tap1", "hop_limit_exceeded") >= 1);
    lab.assert_clean_captures(&d.mac("tap0"));
    lab.assert_clean_captures(&d.mac("tap1"));
}

// ----- 3. a smaller MTU on one link: Packet Too Big -------------------------------------

/// A TCP peer for `/usr/bin/python3 -c`: `recv PORT` accepts one connection, reads to its
/// end and prints `{"bytes", "sha256", "peer"}`; `send DST PORT` sends 1 MiB (SHA-256 of
/// the counter 0, 1, ..., 32767 in turn) and prints `{"bytes", "sha256"}` of what it sent.
const PY_TCP: &str = r#"
import hashlib, json, socket, sys
mode = sys.argv[1]
if mode == "recv":
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", int(sys.argv[2])))
    s.listen(1)
    s.settimeout(60)
    print("ready", flush=True)
    c, peer = s.accept()
    c.settimeout(60)
    h, n = hashlib.sha256(), 0
    while True:
        d = c.recv(65536)
        if not d:
            break
        h.update(d)
        n += len(d)
    c.close()
    print(json.dumps({"bytes": n, "sha256": h.hexdigest(), "peer": peer[0]}), flush=True)
else:
    data = b"".join(hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(32768))
    s = socket.create_connection((sys.argv[2], int(sys.argv[3])), timeout=60)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
    print(json.dumps({"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}), flush=True)
"#;

#[test]
fn packet_too_big_lowers_kernel_path_mtu() {
    let Some(lab) = Lab::new("packet_too_big_lowers_kernel_path_mtu") else {
        return;
    };
    let config = format!(
        "[node]\nforwarding = true\n\n{}{}",
        iface("tap0", "2001:db8:1::1/64", &ra("2001:db8:1::/64", "")),
        iface(
            "tap1",
            "2001:db8:2::1/64",
            &format!("mtu = 1400\n{}", ra("2001:db8:2::/64", ", mtu = 1400"))
        ),
    );
    let TwoLinks { a, b, d } = two_links(&lab, &config, Some(1400));
    let a_addr = autoconfigured(&a, "2001:db8:1::/64", d.link_local("tap0"));
    let b_addr = autoconfigured(&b, "2001:db8:2::/64", d.link_local("tap1"));
    let b_s = b_addr.to_string();
    let mac0 = d.mac("tap0");
    let mac1 = d.mac("tap1");
    // Before: a knows of no smaller MTU on the way to b.
    let before = a.route_get(&b_s);
    assert_ne!(route_mtu(&before), Some(1400), "{before}");
    // A 1500-byte echo request does not fit L2: we answer Packet Too Big (RFC 4443 §3.2)
    // with L2's MTU, and the kernel fragments the next requests to fit it.
    let out = ping(&a, &["-c", "3", "-s", "1452"], &b_s);
    assert!(
        out.contains(&format!("From {R_L1}")) && out.contains("mtu=1400"),
        "no Packet Too Big from us:\n{out}"
    );
    assert!(received(&out) >= 1, "{out}");
    let ptb = format!(
        "eth.src == {mac0} && icmpv6.type == 2 && icmpv6.code == 0 && icmpv6.mtu == 1400 \
         && ipv6.src == {R_L1}"
    );
    assert!(
        frames(&lab, "br1.pcap", &ptb) >= 1,
        "no Packet Too Big on L1"
    );
    let after = a.route_get(&b_s);
    assert_eq!(
        route_mtu(&after),
        Some(1400),
        "ip -6 route get {b_s}: {after}"
    );
    assert!(sent(&d, "tap0", "packet_too_big") >= 1);
    let g = d.route_get(&b_s);
    assert_eq!((g.dev.as_str(), g.mtu), ("tap1", 1400), "{g:?}");

    // TCP to a second address of b, which a has no path MTU for yet. b announces an MSS
    // of 1440 on its route to L1, so that a's full-sized segments meet our Packet Too Big
    // and TCP must shrink them; 1 MiB arrives whole.
    let b2 = "2001:db8:2::100";
    b.addr_add("eth0", &format!("{b2}/64"));
    let b_ll1 = d.link_local("tap1").to_string();
    b.ok(&[
        "ip",
        "-6",
        "route",
        "add",
        "2001:db8:1::/64",
        "via",
        &b_ll1,
        "dev",
        "eth0",
        "advmss",
        "1440",
    ]);
    assert_ne!(route_mtu(&a.route_get(b2)), Some(1400));
    let recv = lab.spawn(
        &b,
        "tcp-recv",
        &["/usr/bin/python3", "-c", PY_TCP, "recv", "5001"],
    );
    wait_for(
        "the TCP receiver to listen",
        Duration::from_secs(10),
        || {
            let log = lab.log_of("tcp-recv");
            assert!(lab.running(recv) || log.contains("ready"), "{log}");
            log.contains("ready").then_some(())
        },
    );
    let sent = a.python(PY_TCP, &["send", b2, "5001"], Duration::from_secs(90));
    let sent: serde_json::Value =
        serde_json::from_str(netns::expect_success("the TCP sender", &sent).trim())
            .expect("the sender's JSON");
    wait_for(
        "the TCP receiver to finish",
        Duration::from_secs(30),
        || (!lab.running(recv)).then_some(()),
    );
    let got = lab.log_of("tcp-recv");
    let got: serde_json::Value = got
        .lines()
        .find(|l| l.starts_with('{'))
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("the receiver reported nothing: {got}"));
    assert_eq!(got["bytes"], 1 << 20, "{got}");
    assert_eq!(got["sha256"], sent["sha256"], "{got} vs {sent}");
    assert_eq!(got["peer"], a_addr.to_string(), "{got}");
    // That transfer met our Packet Too Big too (quoting a's TCP segment), and a's kernel
    // keeps the path MTU for b2.
    let n = frames(
        &lab,
        "br1.pcap",
        &format!("{ptb} && tcp.dstport == 5001 && ipv6.dst == {b2}"),
    );
    assert!(n >= 1, "no Packet Too Big quoting the TCP transfer");
    let after = a.route_get(b2);
    assert_eq!(
        route_mtu(&after),
        Some(1400),
        "ip -6 route get {b2}: {after}"
    );
    // We never sent L2 a frame bigger than its MTU.
    let n = frames(
        &lab,
        "br2.pcap",
        &format!("eth.src == {mac1} && frame.len > 1414"),
    );
    assert_eq!(n, 0, "frames over L2's MTU of 1400 from us");
    lab.assert_clean_captures(&mac0);
    lab.assert_clean_captures(&mac1);
}

// ----- 4. ICMPv6 errors: hop limit, no route, typed routes; link-local sources ------------

/// Sends three echo requests from `SRC` to `DST` in Ethernet frames to `MAC` on `IFACE`,
/// with identifier 0x5ec5 (scapy, independent of any stack).
const PY_SENDP: &str = r#"
import sys
from scapy.all import Ether, IPv6, ICMPv6EchoRequest, sendp, conf
conf.verb = 0
mac, src, dst, iface = sys.argv[1:5]
pkts = [Ether(dst=mac) / IPv6(src=src, dst=dst, hlim=64) /
        ICMPv6EchoRequest(id=0x5ec5, seq=i, data=b"link-local source") for i in range(3)]
sendp(pkts, iface=iface)
print("sent", flush=True)
"#;

#[test]
fn hop_limit_and_unreachable_errors() {
    let Some(lab) = Lab::new("hop_limit_and_unreachable_errors") else {
        return;
    };
    let routes = "[[route]]\nto = \"2001:db8:e1::/48\"\ndev = \"tap1\"\ntype = \"unreachable\"\n\n\
                  [[route]]\nto = \"2001:db8:e2::/48\"\ndev = \"tap1\"\ntype = \"prohibit\"\n\n\
                  [[route]]\nto = \"2001:db8:e3::/48\"\ndev = \"tap1\"\ntype = \"blackhole\"\n";
    let config = format!(
        "[node]\nforwarding = true\n\n{}{}{routes}",
        iface("tap0", "2001:db8:1::1/64", &ra("2001:db8:1::/64", "")),
        iface("tap1", "2001:db8:2::1/64", &ra("2001:db8:2::/64", "")),
    );
    let TwoLinks { a, b, d } = two_links(&lab, &config, None);
    let a_addr = autoconfigured(&a, "2001:db8:1::/64", d.link_local("tap0"));
    let b_addr = autoconfigured(&b, "2001:db8:2::/64", d.link_local("tap1"));
    let (a_s, b_s) = (a_addr.to_string(), b_addr.to_string());
    let mac0 = d.mac("tap0");
    // An ICMPv6 error from us to a on L1, quoting a packet to `dst`.
    let error = |typ: u8, code: u8, dst: &str| {
        frames(
            &lab,
            "br1.pcap",
            &format!(
                "eth.src == {mac0} && ipv6.src == {R_L1} && ipv6.dst == {a_s} && \
                 icmpv6.type == {typ} && icmpv6.code == {code} && ipv6.dst == {dst}"
            ),
        )
    };

    // Hop limit 1: Time Exceeded (RFC 4443 §3.3, code 0), from our address on a's link,
    // and the request goes no further.
    let out = ping(&a, &["-c", "1", "-t", "1"], &b_s);
    assert!(
        out.contains(&format!("From {R_L1} icmp_seq=1 Time exceeded: Hop limit")),
        "{out}"
    );
    assert_eq!(error(3, 0, &b_s), 1, "Time Exceeded in the capture:\n{out}");
    let n = frames(
        &lab,
        "br2.pcap",
        &format!("icmpv6.type == 128 && ipv6.dst == {b_s}"),
    );
    assert_eq!(n, 0, "an expired request was forwarded");

    // A link-local source with a global destination on the other link never leaves L1
    // (RFC 4007 §9); we say why: Destination Unreachable, beyond scope of source (code 2).
    let a_ll = a.link_local("eth0").to_string();
    let out = a.python(
        PY_SENDP,
        &[&mac0, &a_ll, &b_s, "eth0"],
        Duration::from_secs(60),
    );
    netns::expect_success("scapy sendp", &out);
    let seen = "icmpv6.type#1 == 128 && icmpv6.echo.identifier == 0x5ec5";
    wait_for("the frames on L1", Duration::from_secs(5), || {
        (frames(&lab, "br1.pcap", seen) == 3).then_some(())
    });
    wait_for(
        "Destination Unreachable (beyond scope) to a's link-local address",
        Duration::from_secs(5),
        || {
            let n = frames(
                &lab,
                "br1.pcap",
                &format!(
                    "eth.src == {mac0} && ipv6.dst == {a_ll} && icmpv6.type == 1 && \
                     icmpv6.code == 2 && icmpv6.echo.identifier == 0x5ec5"
                ),
            );
            (n >= 1).then_some(())
        },
    );
    let n = frames(&lab, "br2.pcap", seen);
    assert_eq!(
        n, 0,
        "a packet with a link-local source was forwarded onto L2"
    );
    let n = frames(&lab, "br2.pcap", &format!("ipv6.src == {a_ll}"));
    assert_eq!(n, 0, "a's link-local address appeared on L2");

    // No route at all: Destination Unreachable, code 0 (no route to destination); the
    // typed routes: `unreachable` the same, `prohibit` code 1 (administratively
    // prohibited), `blackhole` nothing. None of them is forwarded.
    let cases = [
        ("2001:db8:ff::1", Some((0, "No route")), "no route"),
        ("2001:db8:e1::1", Some((0, "No route")), "type unreachable"),
        (
            "2001:db8:e2::1",
            Some((1, "Administratively prohibited")),
            "type prohibit",
        ),
        ("2001:db8:e3::1", None, "type blackhole"),
    ];
    for (dst, want, what) in cases {
        let out = ping(&a, &["-c", "2"], dst);
        assert_eq!(received(&out), 0, "{what}: {out}");
        let requests = frames(
            &lab,
            "br1.pcap",
            &format!("ipv6.src#1 == {a_s} && ipv6.dst#1 == {dst} && icmpv6.type#1 == 128"),
        );
        assert_eq!(requests, 2, "{what}: a's requests on L1");
        match want {
            Some((code, text)) => {
                assert!(
                    out.contains(&format!(
                        "From {R_L1} icmp_seq=1 Destination unreachable: {text}"
                    )),
                    "{what}: ping says\n{out}\nwhat crossed L1 and L2 about {dst}:\n{}",
                    about(&lab, dst)
                );
                assert_eq!(error(1, code, dst), 2, "{what}: code {code} errors\n{out}");
            }
            None => {
                assert!(!out.contains("From "), "{what}: {out}");
                let n = frames(
                    &lab,
                    "br1.pcap",
                    &format!("eth.src == {mac0} && icmpv6.type < 128 && ipv6.dst == {dst}"),
                );
                assert_eq!(n, 0, "{what}: an ICMPv6 error for a blackholed packet");
            }
        }
        let n = frames(
            &lab,
            "br2.pcap",
            &format!("ipv6.dst == {dst} || icmpv6.nd.ns.target_address == {dst}"),
        );
        assert_eq!(n, 0, "{what}: forwarded (or resolved) on L2");
    }
    // Our counters say the same, by reason, on the interface the packets came in by.
    for (reason, n) in [
        ("hop_limit_exceeded", 1),
        ("no_route", 4),
        ("admin_prohibited", 2),
    ] {
        assert_eq!(
            sent(&d, "tap0", reason),
            n,
            "{reason}: {:?}",
            iface_stats(&d, "tap0")
        );
    }
    assert!(sent(&d, "tap0", "beyond_scope") >= 1);
    assert_eq!(iface_stats(&d, "tap1").ip.out_forw_datagrams, 0);
    lab.assert_clean_captures(&mac0);
    lab.assert_clean_captures(&d.mac("tap1"));
}

// ----- 5. two routers, static routes, three links -----------------------------------------

#[test]
fn two_routers_with_static_routes() {
    let Some(lab) = Lab::new("two_routers_with_static_routes") else {
        return;
    };
    let br1 = lab.bridge("br1", BridgeOpts::default());
    let br2 = lab.bridge("br2", BridgeOpts::default());
    let br3 = lab.bridge("br3", BridgeOpts::default());
    let (h1, _) = kernel_host(&lab, "h1", &br1);
    let (h3, _) = kernel_host(&lab, "h3", &br3);
    lab.tap("tap0", &br1);
    lab.tap("tap1", &br2);
    lab.tap("tap2", &br2);
    lab.tap("tap3", &br3);
    // L1 - R1 - L2 - R2 - L3; L2 has no hosts and no RAs. Each router reaches the far
    // link by a static route via the other's address on L2.
    let r1_conf = format!(
        "[node]\nforwarding = true\n\n{}{}\
         [[route]]\nto = \"2001:db8:3::/64\"\nvia = \"2001:db8:2::2\"\ndev = \"tap1\"\n",
        iface("tap0", "2001:db8:1::1/64", &ra("2001:db8:1::/64", "")),
        iface("tap1", "2001:db8:2::1/64", ""),
    );
    let r2_conf = format!(
        "[node]\nforwarding = true\n\n{}{}\
         [[route]]\nto = \"2001:db8:1::/64\"\nvia = \"2001:db8:2::1\"\ndev = \"tap2\"\n",
        iface("tap2", "2001:db8:2::2/64", ""),
        iface("tap3", "2001:db8:3::1/64", &ra("2001:db8:3::/64", "")),
    );
    let mut o1 = DaemonOpts::new(&["tap0", "tap1"]).config(&r1_conf);
    o1.name = "r1".into();
    let mut o2 = DaemonOpts::new(&["tap2", "tap3"]).config(&r2_conf);
    o2.name = "r2".into();
    let r1 = lab.daemon(o1);
    let r2 = lab.daemon(o2);
    ready(&r1, &[("tap0", "2001:db8:1::1"), ("tap1", "2001:db8:2::1")]);
    ready(&r2, &[("tap2", "2001:db8:2::2"), ("tap3", "2001:db8:3::1")]);
    let h1_addr = autoconfigured(&h1, "2001:db8:1::/64", r1.link_local("tap0"));
    let h3_addr = autoconfigured(&h3, "2001:db8:3::/64", r2.link_local("tap3"));
    let (h1_s, h3_s) = (h1_addr.to_string(), h3_addr.to_string());
    ping_ok(&h1, &h3_s);
    ping_ok(&h3, &h1_s);
    // Both routers carried it: on L2, from R1's MAC to R2's and back.
    let n = frames(
        &lab,
        "br2.pcap",
        &format!(
            "eth.src == {} && eth.dst == {} && ipv6.src == {h1_s} && ipv6.hlim == 63",
            r1.mac("tap1"),
            r2.mac("tap2")
        ),
    );
    assert!(n >= 3, "{n} packets of h1 from R1 to R2 on L2");
    let g = r1.route_get(&h3_s);
    assert_eq!(
        (g.dev.as_str(), g.via),
        ("tap1", Some("2001:db8:2::2".parse().unwrap())),
        "{g:?}"
    );
    let g = r2.route_get(&h1_s);
    assert_eq!(
        (g.dev.as_str(), g.via),
        ("tap2", Some("2001:db8:2::1".parse().unwrap())),
        "{g:?}"
    );
    let (hops, out) = traceroute(&h1, &h3_s);
    assert_eq!(
        hops,
        ["2001:db8:1::1", "2001:db8:2::2", h3_s.as_str()],
        "{out}"
    );
    let (hops, out) = traceroute(&h3, &h1_s);
    assert_eq!(
        hops,
        ["2001:db8:3::1", "2001:db8:2::1", h1_s.as_str()],
        "{out}"
    );
    for (r, taps) in [(&r1, ["tap0", "tap1"]), (&r2, ["tap2", "tap3"])] {
        for t in taps {
            lab.assert_clean_captures(&r.mac(t));
        }
    }
}

// ----- 6. Redirect: a kernel host takes the better first hop ------------------------------

#[test]
fn redirect_changes_kernel_first_hop() {
    let Some(lab) = Lab::new("redirect_changes_kernel_first_hop") else {
        return;
    };
    // L1: host h (default router: us, by our RA), kernel router r (2001:db8:1::2), our
    // tap0. Behind r: L9 = 2001:db8:9::/64 with host t. We reach L9 via r on L1 itself,
    // so h's packets to t are better sent to r directly.
    let br1 = lab.bridge("br1", BridgeOpts::default());
    let br9 = lab.bridge("br9", BridgeOpts::default());
    let (h, h_link) = kernel_host(&lab, "h", &br1);
    let r = lab.router("r");
    let r_link = lab.link(&r, "eth0", &br1);
    lab.link(&r, "eth1", &br9);
    r.addr_add("eth0", "2001:db8:1::2/64");
    r.addr_add("eth1", "2001:db8:9::1/64");
    let t = lab.host("t");
    lab.link(&t, "eth0", &br9);
    t.addr_add("eth0", "2001:db8:9::2/64");
    t.ok(&[
        "ip",
        "-6",
        "route",
        "add",
        "default",
        "via",
        "2001:db8:9::1",
    ]);
    let r_ll = r.link_local("eth0").to_string();
    lab.tap("tap0", &br1);
    let config = format!(
        "[node]\nforwarding = true\n\n{}\
         [[route]]\nto = \"2001:db8:9::/64\"\nvia = \"{r_ll}\"\ndev = \"tap0\"\n",
        iface("tap0", "2001:db8:1::1/64", &ra("2001:db8:1::/64", "")),
    );
    let d = lab.daemon(DaemonOpts::new(&["tap0"]).config(&config));
    ready(&d, &[("tap0", R_L1)]);
    let our_ll = d.link_local("tap0").to_string();
    let h_addr = autoconfigured(&h, "2001:db8:1::/64", d.link_local("tap0"));
    let accept = h.ok(&["sysctl", "-n", "net.ipv6.conf.eth0.accept_redirects"]);
    assert_eq!(accept.trim(), "1", "h accepts redirects");
    let target = "2001:db8:9::2";
    // Before: h sends to t through us, its default router.
    let before = h.route_get(target);
    assert_eq!(before["gateway"], our_ll, "{before}");
    ping_ok(&h, target);
    // We sent h a Redirect (RFC 4861 §8.2) from our link-local address: target r's
    // link-local address, destination t.
    let mac0 = d.mac("tap0");
    let redirects = format!(
        "eth.src == {mac0} && eth.dst == {} && ipv6.src == {our_ll} && ipv6.dst == {h_addr} \
         && icmpv6.type == 137 && icmpv6.nd.rd.target_address == {r_ll} \
         && icmpv6.rd.na.destination_address == {target} && ipv6.hlim == 255",
        h_link.mac
    );
    assert!(
        frames(&lab, "br1.pcap", &redirects) >= 1,
        "no Redirect from us to h in br1.pcap"
    );
    assert!(sent(&d, "tap0", "redirect") >= 1);
    let g = d.route_get(target);
    assert_eq!(
        (g.dev.as_str(), g.via.map(|v| v.to_string())),
        ("tap0", Some(r_ll.clone())),
        "{g:?}"
    );
    // The kernel took it: its route to t now goes to r directly.
    let after = h.route_get(target);
    assert_eq!(after["gateway"], r_ll, "ip -6 route get {target}: {after}");
    assert_eq!(after["dev"], "eth0", "{after}");
    // And it uses it: the next requests go straight to r's MAC, none to ours.
    let to_us = format!(
        "eth.src == {} && eth.dst == {mac0} && ipv6.dst == {target} && icmpv6.type == 128",
        h_link.mac
    );
    let via_us = frames(&lab, "br1.pcap", &to_us);
    ping_ok(&h, target);
    let direct = frames(
        &lab,
        "br1.pcap",
        &format!(
            "eth.src == {} && eth.dst == {} && ipv6.dst == {target} && icmpv6.type == 128",
            h_link.mac, r_link.mac
        ),
    );
    assert!(direct >= 3, "{direct} requests from h straight to r");
    assert_eq!(
        frames(&lab, "br1.pcap", &to_us),
        via_us,
        "h still sends to t through us after the Redirect"
    );
    lab.assert_clean_captures(&mac0);
}
