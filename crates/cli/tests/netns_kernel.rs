//! The network-namespace harness proved with the Linux kernel alone, before any sixstack
//! daemon is involved: two kernel hosts over a bridge ping each other (also with
//! fragments), radvd advertises to a kernel host, ndisc6 resolves, DAD sees a duplicate,
//! UDP and UDP-Lite cross with the Python peers, a snooping bridge lists a listener, a
//! kernel router is traced; and the lab tears everything down, also when a test panics.
//!
//! Each test needs root (see `netns/mod.rs`).

mod netns;

use netns::{BridgeOpts, Lab, PY_UDP, mdb_groups, udp_reports, wait_for};
use std::process::Command;
use std::time::Duration;

/// Two kernel hosts `a` (2001:db8:1::1) and `b` (2001:db8:1::2) on one bridge.
fn two_hosts(lab: &Lab) -> (netns::Ns, netns::Ns) {
    let br = lab.bridge("br0", BridgeOpts::default());
    let a = lab.host("a");
    let b = lab.host("b");
    lab.link(&a, "eth0", &br);
    lab.link(&b, "eth0", &br);
    a.addr_add("eth0", "2001:db8:1::1/64");
    b.addr_add("eth0", "2001:db8:1::2/64");
    (a, b)
}

#[test]
fn kernel_hosts_ping_each_other_over_a_bridge() {
    let Some(lab) = Lab::new("kernel_hosts_ping_each_other_over_a_bridge") else {
        return;
    };
    let (a, b) = two_hosts(&lab);
    let b_ll = b.link_local("eth0");
    let out = a.ok(&[
        "ping",
        "-6",
        "-c",
        "2",
        "-i",
        "0.2",
        "-W",
        "2",
        &format!("{b_ll}%eth0"),
    ]);
    assert!(out.contains("2 received"), "{out}");
    let out = a.ok(&[
        "ping",
        "-6",
        "-c",
        "2",
        "-i",
        "0.2",
        "-W",
        "2",
        "2001:db8:1::2",
    ]);
    assert!(out.contains("2 received"), "{out}");
    // 8000 bytes of payload do not fit a 1500-byte link: both directions fragment.
    let out = b.ok(&[
        "ping",
        "-6",
        "-c",
        "2",
        "-i",
        "0.2",
        "-W",
        "2",
        "-s",
        "8000",
        "2001:db8:1::1",
    ]);
    assert!(out.contains("8008 bytes from 2001:db8:1::1"), "{out}");
    assert!(out.contains("2 received"), "{out}");
    // The capture saw the fragments of both, and tshark reads them as sound.
    for mac in [a.mac("eth0"), b.mac("eth0")] {
        let n = lab.count_frames("br0.pcap", &format!("eth.src == {mac} && ipv6.fraghdr"));
        assert!(n >= 6, "{n} fragments from {mac}");
        lab.assert_clean_captures(&mac);
    }
}

#[test]
fn kernel_host_forms_an_address_from_radvd_and_sees_it_deprecated() {
    let Some(lab) = Lab::new("kernel_host_forms_an_address_from_radvd_and_sees_it_deprecated")
    else {
        return;
    };
    let br = lab.bridge("br0", BridgeOpts::default());
    let r = lab.host("r");
    let h = lab.host("h");
    lab.link(&r, "eth0", &br);
    let conf = |lifetimes: &str| {
        format!(
            "interface eth0 {{\n  AdvSendAdvert on;\n  MinRtrAdvInterval 3;\n  MaxRtrAdvInterval 4;\n  \
             AdvDefaultLifetime 1800;\n  prefix 2001:db8:aa::/64 {{\n    AdvOnLink on;\n    \
             AdvAutonomous on;\n    {lifetimes}\n  }};\n}};\n"
        )
    };
    let radvd = lab.radvd(
        &r,
        &conf("AdvValidLifetime 7200; AdvPreferredLifetime 3600;"),
    );
    // The host comes up after radvd: its router solicitation is answered.
    lab.link(&h, "eth0", &br);
    let r_ll = r.link_local("eth0");
    let addr = wait_for(
        "a SLAAC address in 2001:db8:aa::/64",
        Duration::from_secs(15),
        || {
            h.addrs("eth0").into_iter().find(|a| {
                a["local"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("2001:db8:aa:"))
            })
        },
    );
    assert_eq!(addr["prefixlen"], 64);
    let valid = addr["valid_life_time"].as_u64().expect("valid lifetime");
    assert!(valid > 7000 && valid <= 7200, "{addr}");
    let route = h.ok(&["ip", "-6", "route", "show", "default"]);
    assert!(route.contains(&format!("via {r_ll} dev eth0")), "{route}");
    // rdisc6 asks and shows the advertisement as the router sends it.
    let out = h.ok(&["rdisc6", "-1", "-r", "3", "-w", "1500", "eth0"]);
    assert!(out.contains("2001:db8:aa::/64"), "{out}");
    // Withdrawn: preferred and valid lifetime 0. The kernel deprecates the address at once
    // (preferred 0); its valid lifetime stays by the two-hour rule (RFC 4862 §5.5.3 e).
    radvd.reload(&lab, &conf("AdvValidLifetime 0; AdvPreferredLifetime 0;"));
    wait_for(
        "the address to be deprecated",
        Duration::from_secs(15),
        || {
            h.addrs("eth0").into_iter().find(|a| {
                a["local"] == addr["local"] && a["preferred_life_time"].as_u64() == Some(0)
            })
        },
    );
    let out = h.ok(&["rdisc6", "-1", "-r", "3", "-w", "1500", "eth0"]);
    let valid: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("Valid time"))
        .filter_map(|l| l.split(':').nth(1)?.split_whitespace().next())
        .collect();
    assert_eq!(valid, ["0"], "{out}");
}

#[test]
fn ndisc6_resolves_a_kernel_neighbor() {
    let Some(lab) = Lab::new("ndisc6_resolves_a_kernel_neighbor") else {
        return;
    };
    let (a, b) = two_hosts(&lab);
    let mac = b.mac("eth0").to_uppercase();
    let out = a.ok(&[
        "ndisc6",
        "-1",
        "-r",
        "3",
        "-w",
        "1000",
        "2001:db8:1::2",
        "eth0",
    ]);
    assert!(out.to_uppercase().contains(&mac), "{mac} not in {out}");
    let ll = b.link_local("eth0").to_string();
    let out = a.ok(&["ndisc6", "-1", "-r", "3", "-w", "1000", &ll, "eth0"]);
    assert!(out.to_uppercase().contains(&mac), "{mac} not in {out}");
    // Nobody holds this one: no answer, ndisc6 says so and exits non-zero.
    let out = a.run(&[
        "ndisc6",
        "-1",
        "-r",
        "2",
        "-w",
        "300",
        "2001:db8:1::99",
        "eth0",
    ]);
    assert!(!out.status.success());
}

#[test]
fn kernel_dad_sees_a_duplicate_across_the_bridge() {
    let Some(lab) = Lab::new("kernel_dad_sees_a_duplicate_across_the_bridge") else {
        return;
    };
    let br = lab.bridge("br0", BridgeOpts::default());
    let a = lab.host("a");
    let b = lab.host_with_dad("b");
    lab.link(&a, "eth0", &br);
    lab.link(&b, "eth0", &br);
    a.addr_add("eth0", "2001:db8:1::5/64");
    b.ok(&["ip", "-6", "addr", "add", "2001:db8:1::5/64", "dev", "eth0"]);
    wait_for("DAD to fail on b", Duration::from_secs(10), || {
        b.addrs("eth0")
            .into_iter()
            .find(|x| x["local"] == "2001:db8:1::5" && x["dadfailed"].as_bool() == Some(true))
    });
}

#[test]
fn udp_and_udplite_cross_between_kernel_sockets() {
    let Some(lab) = Lab::new("udp_and_udplite_cross_between_kernel_sockets") else {
        return;
    };
    let (a, b) = two_hosts(&lab);
    let t = Duration::from_secs(20);
    // UDP-Lite with 8 bytes of coverage (the header only), both ways: b echoes.
    let echo = lab.udp_receiver(
        &b,
        "udplite-echo",
        "udplite",
        &["::", "5000", "8", "1", "5", "1"],
    );
    let out = a.python(
        PY_UDP,
        &[
            "send",
            "udplite",
            "2001:db8:1::2",
            "5000",
            "8",
            "100",
            "1",
            "5",
        ],
        t,
    );
    let replies = udp_reports(&netns::expect_success("udplite send", &out));
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert_eq!(replies[0]["ok"], true);
    let _ = lab.stop(echo);
    let got = udp_reports(&lab.log_of("udplite-echo"));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["src"], "2001:db8:1::1");
    // A receiver that wants 20 covered bytes drops a datagram that covers 8 (RFC 3828 §3.1).
    let strict = lab.udp_receiver(
        &b,
        "udplite-strict",
        "udplite",
        &["::", "5001", "20", "1", "2", "0"],
    );
    a.python(
        PY_UDP,
        &[
            "send",
            "udplite",
            "2001:db8:1::2",
            "5001",
            "8",
            "100",
            "1",
            "0",
        ],
        t,
    );
    wait_for(
        "the strict receiver to give up",
        Duration::from_secs(10),
        || (!lab.running(strict)).then_some(()),
    );
    assert!(udp_reports(&lab.log_of("udplite-strict")).is_empty());
    // 60,000 bytes of UDP, fragmented both ways.
    let big = lab.udp_receiver(&b, "udp-echo", "udp", &["::", "5002", "0", "1", "5", "1"]);
    let out = a.python(
        PY_UDP,
        &[
            "send",
            "udp",
            "2001:db8:1::2",
            "5002",
            "0",
            "60000",
            "1",
            "5",
        ],
        t,
    );
    let replies = udp_reports(&netns::expect_success("udp send", &out));
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert_eq!(replies[0]["len"], 60000);
    assert_eq!(replies[0]["ok"], true);
    let _ = lab.stop(big);
}

#[test]
fn snooping_bridge_lists_a_kernel_listener_until_it_leaves() {
    let Some(lab) = Lab::new("snooping_bridge_lists_a_kernel_listener_until_it_leaves") else {
        return;
    };
    let br = lab.bridge(
        "br0",
        BridgeOpts {
            mcast_snooping: true,
            mcast_querier: true,
        },
    );
    let h = lab.host("h");
    let link = lab.link(&h, "eth0", &br);
    let group = "ff05::db8:0:1";
    let member = lab.join_group(&h, "join", group, "eth0");
    let sw = lab.switch();
    wait_for(
        "the group in bridge mdb show",
        Duration::from_secs(10),
        || {
            mdb_groups(sw, "br0", &link.port)
                .iter()
                .any(|g| g == group)
                .then_some(())
        },
    );
    lab.stop(member);
    wait_for(
        "the group gone from bridge mdb show",
        Duration::from_secs(10),
        || (!mdb_groups(sw, "br0", &link.port).iter().any(|g| g == group)).then_some(()),
    );
}

#[test]
fn kernel_traceroute_crosses_a_kernel_router() {
    let Some(lab) = Lab::new("kernel_traceroute_crosses_a_kernel_router") else {
        return;
    };
    let br1 = lab.bridge("br1", BridgeOpts::default());
    let br2 = lab.bridge("br2", BridgeOpts::default());
    let h1 = lab.host("h1");
    let r = lab.router("r");
    let h2 = lab.host("h2");
    lab.link(&h1, "eth0", &br1);
    lab.link(&r, "eth1", &br1);
    lab.link(&r, "eth2", &br2);
    lab.link(&h2, "eth0", &br2);
    h1.addr_add("eth0", "2001:db8:1::2/64");
    r.addr_add("eth1", "2001:db8:1::1/64");
    r.addr_add("eth2", "2001:db8:2::1/64");
    h2.addr_add("eth0", "2001:db8:2::2/64");
    h1.ok(&[
        "ip",
        "-6",
        "route",
        "add",
        "default",
        "via",
        "2001:db8:1::1",
    ]);
    h2.ok(&[
        "ip",
        "-6",
        "route",
        "add",
        "default",
        "via",
        "2001:db8:2::1",
    ]);
    let out = h1.ok(&[
        "traceroute",
        "-6",
        "-n",
        "-q",
        "1",
        "-w",
        "2",
        "-m",
        "5",
        "2001:db8:2::2",
    ]);
    let hops: Vec<&str> = out
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect();
    assert_eq!(hops, ["2001:db8:1::1", "2001:db8:2::2"], "{out}");
}

/// The lab's own promises: a failing test keeps its captures and logs and leaves no
/// namespace or process behind; a passing one leaves nothing at all.
#[test]
fn lab_tears_down_everything_also_when_a_test_panics() {
    let Some(probe) = Lab::new("lab_teardown_probe") else {
        return;
    };
    drop(probe);
    let mut names = Vec::new();
    let mut pids = Vec::new();
    let mut out_dir = None;
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let lab = Lab::new("lab_teardown_failing").expect("root");
        out_dir = Some(lab.out_dir().to_path_buf());
        let (a, b) = two_hosts(&lab);
        names.extend([a.name.clone(), b.name.clone(), lab.switch().name.clone()]);
        pids.push(lab.spawn(&b, "sleeper", &["sleep", "600"]));
        a.ok(&["ping", "-6", "-c", "1", "-W", "2", "2001:db8:1::2"]);
        panic!("this test fails on purpose");
    }));
    assert!(r.is_err());
    let listed = String::from_utf8(
        Command::new("ip")
            .args(["netns", "list"])
            .output()
            .expect("ip netns list")
            .stdout,
    )
    .expect("utf-8");
    for n in &names {
        assert!(
            !listed
                .lines()
                .any(|l| l.split_whitespace().next() == Some(n)),
            "{n} left behind"
        );
    }
    for p in &pids {
        let state = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
        // Gone, or a zombie of a process that is not ours to reap.
        assert!(
            state.is_empty() || state.contains(") Z"),
            "pid {p} still runs"
        );
    }
    let dir = out_dir.expect("output folder");
    let pcap = std::fs::metadata(dir.join("br0.pcap")).expect("br0.pcap kept");
    assert!(pcap.len() > 24, "the capture holds packets");
    assert!(dir.join("commands.log").exists());
    std::fs::remove_dir_all(&dir).expect("clean up the kept folder");
    // A passing lab leaves no folder.
    let lab = Lab::new("lab_teardown_passing").expect("root");
    let dir = lab.out_dir().to_path_buf();
    two_hosts(&lab);
    drop(lab);
    assert!(!dir.exists());
}
