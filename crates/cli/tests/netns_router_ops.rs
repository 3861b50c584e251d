//! The router's operator commands against Linux hosts, on the shared network-namespace
//! harness (`netns/mod.rs`): Router Advertisements set live with `sixstack ra set` and
//! the final advertisement of a daemon that stops (RFC 4861 §6.2.5), the MLD querier's
//! view of kernel listeners (`sixstack mld show`), and `sixstack route get` and the
//! forwarding counters of `sixstack stats`. Needs root: without it a test says why and
//! passes, unless SIXSTACK_REQUIRE_ROOT_TESTS=1 (CI), where it fails.
//!
//! Only documentation (2001:db8::/32) and link-local addresses are used.

mod netns;

use std::time::Duration;

use netns::{BridgeOpts, DaemonOpts, Lab, wait_for};
use serde_json::Value;

/// `sixstack ARGS --json` of a daemon, parsed.
fn json(d: &netns::Daemon, args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.push("--json");
    let text = d.cli_ok(&a);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{a:?}: {e}: {text}"))
}

/// The kernel host's default routes (`ip -j -6 route show default`).
fn default_routes(h: &netns::Ns) -> Vec<Value> {
    match h.json(&["ip", "-j", "-6", "route", "show", "default"]) {
        Value::Array(v) => v,
        other => panic!("{other}"),
    }
}

#[test]
fn ra_set_live_reaches_a_kernel_host_and_a_stopping_daemon_says_goodbye() {
    let Some(lab) =
        Lab::new("ra_set_live_reaches_a_kernel_host_and_a_stopping_daemon_says_goodbye")
    else {
        return;
    };
    let br = lab.bridge("br0", BridgeOpts::default());
    lab.tap("tap0", &br);
    let d = lab.daemon(DaemonOpts::new(&["tap0"]).config(
        "[node]\nforwarding = true\n\n[[interface]]\nname = \"tap0\"\naddresses = [\"2001:db8:1::1/64\"]\n",
    ));
    let h = lab.host("h");
    lab.link(&h, "eth0", &br);
    // Not advertising yet: the host has no default route.
    std::thread::sleep(Duration::from_secs(2));
    assert!(default_routes(&h).is_empty(), "no RA was configured yet");
    let shown = json(&d, &["ra", "show"]);
    assert_eq!(shown, Value::Array(vec![]), "no advertising interface yet");

    d.cli_ok(&[
        "ra",
        "set",
        "tap0",
        "prefixes = [{ prefix = \"2001:db8:1::/64\" }]",
        "mtu = 1400",
        "min_interval = 3",
        "max_interval = 4",
        "rdnss = [\"2001:db8:1::53\"]",
    ]);
    let shown = json(&d, &["ra", "show"]);
    assert_eq!(shown[0]["dev"], "tap0");
    assert_eq!(shown[0]["advertising"], true);
    assert_eq!(shown[0]["config"]["mtu"], 1400);
    assert_eq!(
        shown[0]["config"]["prefixes"][0]["prefix"],
        "2001:db8:1::/64"
    );

    let our_ll = wait_for(
        "the kernel's default route via us",
        Duration::from_secs(20),
        || {
            default_routes(&h)
                .first()
                .and_then(|r| r["gateway"].as_str().map(String::from))
        },
    );
    assert!(our_ll.starts_with("fe80:"), "{our_ll}");
    wait_for(
        "a SLAAC address in 2001:db8:1::/64",
        Duration::from_secs(15),
        || {
            h.addrs("eth0").into_iter().find(|a| {
                a["local"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("2001:db8:1:"))
            })
        },
    );
    let mtu = wait_for("the advertised MTU", Duration::from_secs(10), || {
        let m = h.ok(&["cat", "/proc/sys/net/ipv6/conf/eth0/mtu"]);
        (m.trim() == "1400").then_some(m)
    });
    assert_eq!(mtu.trim(), "1400");
    // rdisc6 (ndisc6) solicits and decodes what we answer.
    let rd = h.ok(&["rdisc6", "-1", "-w", "2000", "eth0"]);
    assert!(rd.contains("2001:db8:1::/64"), "{rd}");
    assert!(rd.contains("1400"), "{rd}");
    assert!(rd.contains("2001:db8:1::53"), "{rd}");

    let mac = d.mac("tap0");
    // SIGTERM: a final advertisement with router lifetime 0 makes the host drop us now,
    // not in 1800 s.
    let st = lab.stop_daemon(&d).expect("the daemon ran");
    assert!(st.success(), "{st}");
    wait_for("the default route to go", Duration::from_secs(5), || {
        default_routes(&h).is_empty().then_some(())
    });
    let finals = lab.count_frames(
        "br0.pcap",
        "icmpv6.type == 134 && icmpv6.nd.ra.router_lifetime == 0",
    );
    assert!(finals >= 1, "no final RA in the capture");
    lab.assert_clean_captures(&mac);
}

#[test]
fn the_mld_querier_learns_and_forgets_a_kernel_listener() {
    let Some(lab) = Lab::new("the_mld_querier_learns_and_forgets_a_kernel_listener") else {
        return;
    };
    let br = lab.bridge("br0", BridgeOpts::default());
    lab.tap("tap0", &br);
    let d = lab.daemon(DaemonOpts::new(&["tap0"]).config(
        "[node]\nforwarding = true\n\n[[interface]]\nname = \"tap0\"\naddresses = [\"2001:db8:1::1/64\"]\nra = { prefixes = [{ prefix = \"2001:db8:1::/64\" }] }\n",
    ));
    let h = lab.host("h");
    lab.link(&h, "eth0", &br);
    let role = wait_for(
        "our interface to be the querier",
        Duration::from_secs(15),
        || {
            let m = json(&d, &["mld", "show", "tap0"]);
            (m[0]["querier"] == "querier").then_some(m)
        },
    );
    assert_eq!(role[0]["version"], "v2");
    let group = "ff05::4242";
    let joiner = format!(
        "import socket, struct, time\n\
         s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)\n\
         mreq = socket.inet_pton(socket.AF_INET6, '{group}') + struct.pack('@I', socket.if_nametoindex('eth0'))\n\
         s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq)\n\
         print('joined', flush=True)\n\
         time.sleep(120)\n"
    );
    let pid = lab.spawn(&h, "joiner", &["python3", "-c", &joiner]);
    let listeners = |m: &Value| -> Vec<String> {
        m[0]["listeners"]
            .as_array()
            .map(|v| {
                v.iter()
                    .filter_map(|l| l["group"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let m = wait_for(
        "the kernel's listener report",
        Duration::from_secs(15),
        || {
            let m = json(&d, &["mld", "show", "tap0"]);
            listeners(&m).contains(&group.to_string()).then_some(m)
        },
    );
    let l = m[0]["listeners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["group"] == group)
        .unwrap()
        .clone();
    // RFC 3810 §9.4: Multicast Address Listening Interval = 2 × 125 s + 10 s.
    assert!(l["expires"].as_u64().unwrap() <= 260, "{l}");
    // The kernel leaves when its socket closes: our Multicast Address Specific Queries
    // go unanswered and the group goes (RFC 3810 §7.4.2, about 2 s).
    lab.stop(pid);
    wait_for(
        "the listener to be forgotten",
        Duration::from_secs(15),
        || {
            let m = json(&d, &["mld", "show", "tap0"]);
            (!listeners(&m).contains(&group.to_string())).then_some(())
        },
    );
    let specific = lab.count_frames(
        "br0.pcap",
        &format!("icmpv6.type == 130 && icmpv6.mldr.mar.multicast_address == {group} || icmpv6.type == 130 && icmpv6.mld.multicast_address == {group}"),
    );
    assert!(
        specific >= 1,
        "no Multicast Address Specific Query for {group}"
    );
}

#[test]
fn route_get_and_forwarding_counters_through_the_cli() {
    let Some(lab) = Lab::new("route_get_and_forwarding_counters_through_the_cli") else {
        return;
    };
    let br0 = lab.bridge("br0", BridgeOpts::default());
    let br1 = lab.bridge("br1", BridgeOpts::default());
    lab.tap("tap0", &br0);
    lab.tap("tap1", &br1);
    let d = lab.daemon(DaemonOpts::new(&["tap0", "tap1"]).config(
        "[node]\nforwarding = true\n\n\
         [[interface]]\nname = \"tap0\"\naddresses = [\"2001:db8:1::1/64\"]\n\
         ra = { prefixes = [{ prefix = \"2001:db8:1::/64\" }], min_interval = 3, max_interval = 4 }\n\n\
         [[interface]]\nname = \"tap1\"\naddresses = [\"2001:db8:2::1/64\"]\n\
         ra = { prefixes = [{ prefix = \"2001:db8:2::/64\" }], min_interval = 3, max_interval = 4 }\n",
    ));
    let a = lab.host("a");
    let b = lab.host("b");
    lab.link(&a, "eth0", &br0);
    lab.link(&b, "eth0", &br1);
    a.addr_add("eth0", "2001:db8:1::10/64");
    b.addr_add("eth0", "2001:db8:2::20/64");
    for h in [&a, &b] {
        wait_for("a default route via us", Duration::from_secs(20), || {
            (!default_routes(h).is_empty()).then_some(())
        });
    }
    let out = a.ok(&[
        "ping",
        "-6",
        "-c",
        "5",
        "-i",
        "0.2",
        "-W",
        "2",
        "2001:db8:2::20",
    ]);
    assert!(out.contains("5 received"), "{out}");

    let g = json(&d, &["route", "get", "2001:db8:2::20"]);
    assert_eq!(g["dev"], "tap1");
    assert_eq!(g["source"], "2001:db8:2::1");
    assert_eq!(g["chosen_by"], "table");
    assert_eq!(g["route"]["prefix"], "2001:db8:2::");
    assert_eq!(g["route"]["prefix_len"], 64);
    assert!(g.get("via").is_none(), "on-link: {g}");
    let text = d.cli_ok(&["route", "get", "2001:db8:2::20"]);
    assert!(
        text.starts_with("2001:db8:2::20 dev tap1 src 2001:db8:2::1 mtu 1500"),
        "{text}"
    );
    let nowhere = d.cli(&["route", "get", "2001:db8:99::1"]);
    assert_eq!(nowhere.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&nowhere.stderr).contains("no route"));

    // Nothing routes 2001:db8:99::/48: Destination Unreachable, no route (code 0).
    let _ = a.run(&["ping", "-6", "-c", "1", "-W", "2", "2001:db8:99::1"]);
    let s = json(&d, &["stats"]);
    let iface = |name: &str| {
        s["interfaces"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == name)
            .unwrap()
            .clone()
    };
    let (t0, t1) = (iface("tap0"), iface("tap1"));
    assert!(t0["ip"]["in_forw_datagrams"].as_u64().unwrap() >= 5, "{t0}");
    assert!(
        t1["ip"]["out_forw_datagrams"].as_u64().unwrap() >= 5,
        "{t1}"
    );
    assert!(
        t1["ip"]["in_forw_datagrams"].as_u64().unwrap() >= 5,
        "the replies: {t1}"
    );
    assert!(t0["ip"]["in_no_routes"].as_u64().unwrap() >= 1, "{t0}");
    assert!(t0["errors_sent"]["no_route"].as_u64().unwrap() >= 1, "{t0}");
    assert!(
        s["icmp"]["errors_sent"]["no_route"].as_u64().unwrap() >= 1,
        "{s}"
    );
    let text = d.cli_ok(&["stats"]);
    assert!(text.contains("sent no_route"), "{text}");

    // Reject routes from the command line, as `ip route add prohibit ...`.
    d.cli_ok(&["route", "add", "prohibit", "2001:db8:bad::/48"]);
    let shown = d.cli_ok(&["route", "show"]);
    assert!(
        shown.contains("prohibit 2001:db8:bad::/48 dev tap0 proto static"),
        "{shown}"
    );
    let g = json(&d, &["route", "get", "2001:db8:bad::1"]);
    assert_eq!(g["route"]["kind"], "prohibit", "{g}");
    let out = a.run(&["ping", "-6", "-c", "1", "-W", "2", "2001:db8:bad::1"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Administratively prohibited"), "{text}");
    let s = json(&d, &["stats"]);
    assert!(
        s["icmp"]["errors_sent"]["admin_prohibited"]
            .as_u64()
            .unwrap()
            >= 1,
        "{s}"
    );
}
