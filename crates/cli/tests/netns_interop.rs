//! Issue #4, "How it is checked": the sixstack daemon on a TAP device interoperating with
//! the Linux kernel and standard Debian tools, each test in network namespaces of its own
//! (see `netns/mod.rs`). Every test leaves a pcap of each link in `test-output/<test>/`
//! when it fails, and checks with tshark that every frame the daemon sent is sound.

mod netns;

use netns::{
    AddrOrigin, AddrState, BridgeOpts, Daemon, DaemonOpts, Lab, Ns, Op, Reply, mdb_groups, pattern,
    udp_reports, wait_for,
};
use sixstack_api::RouteOrigin;
use sixstack_client::UdpSocket;
use std::net::Ipv6Addr;
use std::time::Duration;

const OURS: &str = "2001:db8:1::2";
const KERNEL: &str = "2001:db8:1::1";
/// The daemon's own capture of tap0 (`--pcap`): every frame it sent, exactly. (The
/// bridges' captures are the independent view tshark judges; under load tcpdump may miss
/// a frame, which matters where frames are counted.)
const TAP_PCAP: &str = "sixstack-pcap/tap0.pcap";

/// A kernel host `k` (eth0, 2001:db8:1::1/64) and the daemon (tap0, 2001:db8:1::2/64,
/// static) on one bridge `br0`.
fn one_link(lab: &Lab) -> (Ns, Daemon) {
    let br = lab.bridge("br0", BridgeOpts::default());
    let k = lab.host("k");
    lab.link(&k, "eth0", &br);
    k.addr_add("eth0", "2001:db8:1::1/64");
    lab.tap("tap0", &br);
    let d = lab.daemon(DaemonOpts::new(&["tap0"]));
    d.addr_add("tap0", "2001:db8:1::2/64");
    d.wait_addr("tap0", OURS.parse().unwrap(), AddrState::Preferred);
    (k, d)
}

/// `ping -6` from the kernel side; returns its output, failing the test when no reply
/// came.
fn kernel_ping(k: &Ns, dst: &str, size: usize) -> String {
    k.ok(&[
        "ping",
        "-6",
        "-c",
        "3",
        "-i",
        "0.2",
        "-W",
        "2",
        "-s",
        &size.to_string(),
        dst,
    ])
}

#[test]
fn kernel_pings_our_link_local_and_global_addresses() {
    let Some(lab) = Lab::new("kernel_pings_our_link_local_and_global_addresses") else {
        return;
    };
    let (k, d) = one_link(&lab);
    let ll: Ipv6Addr = d.link_local("tap0");
    let out = kernel_ping(&k, &format!("{ll}%eth0"), 56);
    assert!(out.contains("3 received"), "{out}");
    assert!(out.contains(&format!("64 bytes from {ll}%eth0")), "{out}");
    let out = kernel_ping(&k, OURS, 56);
    assert!(out.contains("3 received"), "{out}");
    // 8000 bytes: the kernel fragments its requests, we reassemble them and fragment our
    // replies, which the kernel reassembles.
    let out = kernel_ping(&k, OURS, 8000);
    assert!(out.contains("3 received"), "{out}");
    assert!(out.contains(&format!("8008 bytes from {OURS}")), "{out}");
    let mac = d.mac("tap0");
    let frags = lab.count_frames(TAP_PCAP, &format!("eth.src == {mac} && ipv6.fraghdr"));
    assert!(frags >= 3 * 6, "{frags} fragments from us");
    lab.assert_clean_captures(&mac);
}

#[test]
fn our_ping6_pings_the_kernel_link_local_global_and_fragmented() {
    let Some(lab) = Lab::new("our_ping6_pings_the_kernel_link_local_global_and_fragmented") else {
        return;
    };
    let (k, d) = one_link(&lab);
    let k_ll = k.link_local("eth0");
    let ping6 = |args: &[&str]| {
        let mut argv = vec!["ping6", "-c", "3", "-i", "0.2", "-W", "2"];
        argv.extend_from_slice(args);
        d.cli(&argv)
    };
    let ll = format!("{k_ll}%tap0");
    for dst in [ll.as_str(), KERNEL] {
        let out = ping6(&[dst]);
        let text = netns::expect_success(&format!("ping6 {dst}"), &out);
        assert!(text.contains("3 packets transmitted, 3 received"), "{text}");
        assert!(text.contains(&format!("64 bytes from {dst}")), "{text}");
    }
    // 8000 bytes: we fragment the requests, the kernel fragments its replies.
    let out = ping6(&["-s", "8000", KERNEL]);
    let text = netns::expect_success("ping6 -s 8000", &out);
    assert!(text.contains("3 received"), "{text}");
    assert!(
        text.contains(&format!("8008 bytes from {KERNEL}")),
        "{text}"
    );
    let mac = d.mac("tap0");
    let frags = lab.count_frames(TAP_PCAP, &format!("eth.src == {mac} && ipv6.fraghdr"));
    assert!(frags >= 3 * 6, "{frags} fragments from us");
    // Nobody there: no reply, exit status 1 as iputils' ping.
    let out = d.cli(&["ping6", "-c", "1", "-W", "1", "2001:db8:1::99"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    lab.assert_clean_captures(&mac);
}

// ----- 2. radvd: SLAAC with RFC 7217 and RFC 8981 addresses, the default router ------------

/// radvd.conf for `eth0`: prefix `long` (2001:db8:aa::/64, valid 7200 s, preferred 3600 s)
/// and prefix `short` (2001:db8:bb::/64) with the lifetimes given.
fn radvd_conf(short_valid: u32, short_preferred: u32) -> String {
    format!(
        "interface eth0 {{\n  AdvSendAdvert on;\n  MinRtrAdvInterval 3;\n  MaxRtrAdvInterval 4;\n  \
         AdvDefaultLifetime 1800;\n  \
         prefix 2001:db8:aa::/64 {{\n    AdvOnLink on;\n    AdvAutonomous on;\n    \
         AdvValidLifetime 7200;\n    AdvPreferredLifetime 3600;\n  }};\n  \
         prefix 2001:db8:bb::/64 {{\n    AdvOnLink on;\n    AdvAutonomous on;\n    \
         AdvValidLifetime {short_valid};\n    AdvPreferredLifetime {short_preferred};\n  }};\n}};\n"
    )
}

/// The modified EUI-64 interface identifier of a MAC (RFC 4291 appendix A).
fn eui64_iid(mac: &str) -> [u16; 4] {
    let b: Vec<u8> = mac
        .split(':')
        .map(|x| u8::from_str_radix(x, 16).expect("a MAC"))
        .collect();
    [
        u16::from_be_bytes([b[0] ^ 0x02, b[1]]),
        u16::from_be_bytes([b[2], 0xff]),
        u16::from_be_bytes([0xfe, b[3]]),
        u16::from_be_bytes([b[4], b[5]]),
    ]
}

fn in_prefix(a: &Ipv6Addr, prefix: &str) -> bool {
    let p: Ipv6Addr = prefix.parse().unwrap();
    a.segments()[..4] == p.segments()[..4]
}

#[test]
fn radvd_prefix_gives_stable_and_temporary_addresses_and_a_default_router_until_withdrawn() {
    let Some(lab) = Lab::new(
        "radvd_prefix_gives_stable_and_temporary_addresses_and_a_default_router_until_withdrawn",
    ) else {
        return;
    };
    let br = lab.bridge("br0", BridgeOpts::default());
    let r = lab.host("r");
    lab.link(&r, "eth0", &br);
    r.addr_add("eth0", "2001:db8:aa::1/64");
    r.addr_add("eth0", "2001:db8:bb::1/64");
    let radvd = lab.radvd(&r, &radvd_conf(20, 12));
    let r_ll = r.link_local("eth0");
    lab.tap("tap0", &br);
    let d = lab.daemon(DaemonOpts::new(&["tap0"]));
    let mac = d.mac("tap0");
    let want = |prefix: &'static str, origin: AddrOrigin| {
        move |a: &netns::AddrInfo| {
            a.interface == "tap0"
                && a.origin == origin
                && a.state == AddrState::Preferred
                && in_prefix(&a.address, prefix)
        }
    };
    let addrs = wait_for(
        "stable and temporary addresses in both prefixes",
        Duration::from_secs(20),
        || {
            let all = d.addr_list();
            let found = [
                all.iter()
                    .find(|a| want("2001:db8:aa::", AddrOrigin::Slaac)(a)),
                all.iter()
                    .find(|a| want("2001:db8:aa::", AddrOrigin::Temporary)(a)),
                all.iter()
                    .find(|a| want("2001:db8:bb::", AddrOrigin::Slaac)(a)),
                all.iter()
                    .find(|a| want("2001:db8:bb::", AddrOrigin::Temporary)(a)),
            ];
            found
                .iter()
                .all(Option::is_some)
                .then(|| found.map(|a| a.cloned().unwrap()))
        },
    );
    let [stable, temporary, short_stable, short_temporary] = addrs;
    // RFC 7217: not the EUI-64 identifier of our MAC; RFC 8981: another identifier again.
    assert_ne!(
        stable.address.segments()[4..],
        eui64_iid(&mac),
        "{stable:?}"
    );
    assert_ne!(
        temporary.address.segments()[4..],
        stable.address.segments()[4..]
    );
    assert_eq!(stable.prefix_len, 64);
    // Lifetimes as advertised, counting down (RFC 4862 §5.5.3); a temporary address's are
    // no longer than the prefix's (RFC 8981 §3.4).
    let between = |v: Option<u64>, lo: u64, hi: u64| v.is_some_and(|v| v > lo && v <= hi);
    assert!(between(stable.valid_lifetime, 7100, 7200), "{stable:?}");
    assert!(between(stable.preferred_lifetime, 3500, 3600), "{stable:?}");
    assert!(between(temporary.valid_lifetime, 0, 7200), "{temporary:?}");
    assert!(
        between(temporary.preferred_lifetime, 0, 3600),
        "{temporary:?}"
    );
    assert!(
        between(short_stable.valid_lifetime, 0, 20),
        "{short_stable:?}"
    );
    assert!(
        between(short_stable.preferred_lifetime, 0, 12),
        "{short_stable:?}"
    );
    assert!(between(short_temporary.valid_lifetime, 0, 20));
    // The default router: radvd's link-local address.
    wait_for("a default route via radvd", Duration::from_secs(10), || {
        d.routes().into_iter().find(|rt| {
            rt.prefix_len == 0
                && rt.via == Some(r_ll)
                && rt.dev == "tap0"
                && rt.origin == RouteOrigin::Ra
        })
    });
    // The kernel reaches the new address.
    let out = r.ok(&[
        "ping",
        "-6",
        "-c",
        "1",
        "-W",
        "2",
        &stable.address.to_string(),
    ]);
    assert!(out.contains("1 received"), "{out}");
    // radvd withdraws the short prefix (lifetimes 0): its addresses are deprecated at
    // once, and go when what was left of their valid lifetime runs out (the two-hour rule
    // of RFC 4862 §5.5.3 e keeps an unauthenticated 0 from cutting it short).
    radvd.reload(&lab, &radvd_conf(0, 0));
    wait_for(
        "the short prefix's addresses deprecated",
        Duration::from_secs(10),
        || {
            let all = d.addr_list();
            let short: Vec<_> = all
                .iter()
                .filter(|a| in_prefix(&a.address, "2001:db8:bb::"))
                .collect();
            short
                .iter()
                .all(|a| a.state == AddrState::Deprecated)
                .then_some(())
        },
    );
    wait_for(
        "the short prefix's addresses gone",
        Duration::from_secs(30),
        || {
            (!d.addr_list()
                .iter()
                .any(|a| in_prefix(&a.address, "2001:db8:bb::")))
            .then_some(())
        },
    );
    // The other prefix stays.
    assert!(
        d.addr_list()
            .iter()
            .any(|a| a.address == stable.address && a.state == AddrState::Preferred)
    );
    lab.assert_clean_captures(&mac);
}

// ----- 3. ndisc6 and DAD -------------------------------------------------------------------

#[test]
fn ndisc6_from_the_kernel_resolves_our_addresses() {
    let Some(lab) = Lab::new("ndisc6_from_the_kernel_resolves_our_addresses") else {
        return;
    };
    let (k, d) = one_link(&lab);
    let mac = d.mac("tap0").to_uppercase();
    let ll = d.link_local("tap0").to_string();
    for target in [OURS, ll.as_str()] {
        let out = k.ok(&["ndisc6", "-1", "-r", "3", "-w", "1000", target, "eth0"]);
        assert!(out.to_uppercase().contains(&mac), "{mac} not in {out}");
    }
    lab.assert_clean_captures(&mac.to_lowercase());
}

#[test]
fn dad_reports_an_address_the_kernel_holds_as_duplicate_and_does_not_use_it() {
    let Some(lab) =
        Lab::new("dad_reports_an_address_the_kernel_holds_as_duplicate_and_does_not_use_it")
    else {
        return;
    };
    let (k, d) = one_link(&lab);
    let dup: Ipv6Addr = "2001:db8:1::7".parse().unwrap();
    k.addr_add("eth0", "2001:db8:1::7/64");
    d.addr_add("tap0", "2001:db8:1::7/64");
    d.wait_addr("tap0", dup, AddrState::Duplicate);
    // Not a source: traffic to the kernel leaves from our other address.
    match d.call(Op::SourceFor {
        address: KERNEL.parse().unwrap(),
        zone: None,
    }) {
        Reply::Source { address, .. } => assert_eq!(address, OURS.parse::<Ipv6Addr>().unwrap()),
        r => panic!("{r:?}"),
    }
    let s = UdpSocket::bind_at(&d.control, false, "[::]:0").expect("a socket");
    s.send_to(b"from ours", "[2001:db8:1::1]:9").expect("send");
    let bind = UdpSocket::bind_at(&d.control, false, "[2001:db8:1::7]:0");
    assert!(bind.is_err(), "bound to a duplicate address");
    let ping = k.run(&["ping", "-6", "-c", "1", "-W", "1", "2001:db8:1::2"]);
    assert!(ping.status.success());
    // On the wire: our DAD probe for it, and nothing else from us with it as source.
    let mac = d.mac("tap0");
    let probes = lab.count_frames(
        TAP_PCAP,
        &format!(
            "eth.src == {mac} && ipv6.src == :: && icmpv6.type == 135 && \
             icmpv6.nd.ns.target_address == {dup}"
        ),
    );
    assert!(probes >= 1, "no DAD probe for {dup}");
    let used = lab.count_frames(TAP_PCAP, &format!("eth.src == {mac} && ipv6.src == {dup}"));
    assert_eq!(used, 0, "we sent from the duplicate address");
    lab.assert_clean_captures(&mac);
}

// ----- 4. UDP and UDP-Lite with kernel sockets ---------------------------------------------

/// Receives one datagram on `s` within 10 s.
fn recv(s: &UdpSocket) -> sixstack_client::Datagram {
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    s.recv_datagram().expect("a datagram")
}

#[test]
fn udp_datagrams_cross_both_ways_with_kernel_sockets() {
    let Some(lab) = Lab::new("udp_datagrams_cross_both_ways_with_kernel_sockets") else {
        return;
    };
    let (k, d) = one_link(&lab);
    let k_ll = k.link_local("eth0");
    let our_ll = d.link_local("tap0");
    // Ours to the kernel's echo, by global and by link-local address (zone tap0).
    let echo = lab.udp_receiver(&k, "echo", "udp", &["::", "7000", "0", "2", "10", "1"]);
    let s = UdpSocket::bind_at(&d.control, false, "[::]:0").expect("a socket");
    for dst in [format!("[{KERNEL}]:7000"), format!("[{k_ll}%tap0]:7000")] {
        s.send_to(&pattern(1000), dst.as_str()).expect("send");
        let back = recv(&s);
        assert_eq!(back.data, pattern(1000), "echo from {dst}");
        assert_eq!(back.src.port(), 7000);
    }
    let _ = lab.stop(echo);
    let got = udp_reports(&lab.log_of("echo"));
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0]["src"], OURS);
    assert!(
        got[1]["src"]
            .as_str()
            .unwrap()
            .starts_with(&our_ll.to_string())
    );
    assert!(got.iter().all(|g| g["ok"] == true));
    // The kernel's to ours, and our answer back.
    let ours = UdpSocket::bind_at(&d.control, false, "[::]:7001").expect("a socket");
    for (i, dst) in [OURS.to_string(), format!("{our_ll}%eth0")]
        .iter()
        .enumerate()
    {
        let name = format!("sender{i}");
        let sender = lab.spawn(
            &k,
            &name,
            &[
                "/usr/bin/python3",
                "-c",
                netns::PY_UDP,
                "send",
                "udp",
                dst,
                "7001",
                "0",
                "1200",
                "1",
                "10",
            ],
        );
        let dg = recv(&ours);
        assert_eq!(dg.data, pattern(1200));
        assert_eq!(dg.dst_port, 7001);
        ours.send_to(&dg.data, dg.src).expect("answer");
        wait_for(
            &format!("{name} to get the answer"),
            Duration::from_secs(10),
            || (!lab.running(sender)).then_some(()),
        );
        let replies = udp_reports(&lab.log_of(&name));
        assert_eq!(replies.len(), 1, "{}", lab.log_of(&name));
        assert_eq!(replies[0]["ok"], true);
        assert_eq!(replies[0]["port"], 7001);
    }
    lab.assert_clean_captures(&d.mac("tap0"));
}

#[test]
fn udplite_checksum_coverage_is_checked_on_both_sides() {
    let Some(lab) = Lab::new("udplite_checksum_coverage_is_checked_on_both_sides") else {
        return;
    };
    let (k, d) = one_link(&lab);
    let mac = d.mac("tap0");
    // Ours covering 8 bytes (the header): a kernel receiver that wants 8 takes it; one
    // that wants 20 drops it (RFC 3828 §3.1), and takes a fully covered one.
    let s = UdpSocket::bind_at(&d.control, true, "[::]:0").expect("a UDP-Lite socket");
    s.set_udplite_send_coverage(8).expect("send coverage");
    let lax = lab.udp_receiver(&k, "lax", "udplite", &["::", "7100", "8", "1", "10", "0"]);
    s.send_to(&pattern(300), "[2001:db8:1::1]:7100")
        .expect("send");
    wait_for("the lax receiver", Duration::from_secs(10), || {
        (!lab.running(lax)).then_some(())
    });
    let got = udp_reports(&lab.log_of("lax"));
    assert_eq!(got.len(), 1, "{}", lab.log_of("lax"));
    assert_eq!(got[0]["ok"], true);
    assert_eq!(got[0]["src"], OURS);
    let strict = lab.udp_receiver(
        &k,
        "strict",
        "udplite",
        &["::", "7101", "20", "1", "3", "0"],
    );
    s.send_to(&pattern(300), "[2001:db8:1::1]:7101")
        .expect("send");
    s.set_udplite_send_coverage(0).expect("full coverage");
    std::thread::sleep(Duration::from_millis(500));
    s.send_to(&pattern(301), "[2001:db8:1::1]:7101")
        .expect("send");
    wait_for("the strict receiver", Duration::from_secs(10), || {
        (!lab.running(strict)).then_some(())
    });
    let got = udp_reports(&lab.log_of("strict"));
    assert_eq!(got.len(), 1, "{}", lab.log_of("strict"));
    assert_eq!(got[0]["len"], 301, "the 8-byte coverage got through");
    // tshark reads the coverage we put on the wire.
    let covered8 = lab.count_frames(
        TAP_PCAP,
        &format!("eth.src == {mac} && udplite && udp.checksum_coverage == 8"),
    );
    assert_eq!(covered8, 2);
    // The kernel's covering 16 bytes: we see the coverage; a socket of ours that wants
    // 20 drops it and takes a fully covered one.
    let ours = UdpSocket::bind_at(&d.control, true, "[::]:7102").expect("a UDP-Lite socket");
    let send = |cov: &str, size: &str| {
        k.python(
            netns::PY_UDP,
            &["send", "udplite", OURS, "7102", cov, size, "1", "0"],
            Duration::from_secs(10),
        )
    };
    send("16", "200");
    let dg = recv(&ours);
    assert_eq!(dg.coverage, 16);
    assert_eq!(dg.data, pattern(200));
    ours.set_udplite_recv_min_coverage(20)
        .expect("min coverage");
    send("16", "201");
    send("0", "202");
    let dg = recv(&ours);
    assert_eq!(dg.data.len(), 202, "a datagram covering 16 bytes was taken");
    assert_eq!(dg.coverage, 8 + 202);
    lab.assert_clean_captures(&mac);
}

#[test]
fn udp_datagrams_of_60000_bytes_fragment_both_ways() {
    let Some(lab) = Lab::new("udp_datagrams_of_60000_bytes_fragment_both_ways") else {
        return;
    };
    let (k, d) = one_link(&lab);
    let echo = lab.udp_receiver(&k, "echo", "udp", &["::", "7200", "0", "1", "10", "1"]);
    let s = UdpSocket::bind_at(&d.control, false, "[::]:0").expect("a socket");
    // The kernel resolved first: while a neighbor is unresolved our queue holds 3 packets
    // (RFC 4861 §7.2.2), not the 42 fragments of one datagram.
    k.ok(&["ping", "-6", "-c", "1", "-W", "2", OURS]);
    s.send_to(&pattern(60_000), "[2001:db8:1::1]:7200")
        .expect("send");
    let back = recv(&s);
    assert_eq!(back.data.len(), 60_000);
    assert!(back.data == pattern(60_000), "the echo differs");
    let _ = lab.stop(echo);
    let got = udp_reports(&lab.log_of("echo"));
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["len"], 60_000);
    assert_eq!(got[0]["ok"], true);
    let mac = d.mac("tap0");
    let frags = lab.count_frames(TAP_PCAP, &format!("eth.src == {mac} && ipv6.fraghdr"));
    assert!(frags >= 41, "{frags} fragments from us");
    lab.assert_clean_captures(&mac);
}

// ----- 5. MLD against a snooping bridge ------------------------------------------------------

#[test]
fn bridge_mdb_lists_our_groups_until_we_leave() {
    let Some(lab) = Lab::new("bridge_mdb_lists_our_groups_until_we_leave") else {
        return;
    };
    let br = lab.bridge(
        "br0",
        BridgeOpts {
            mcast_snooping: true,
            mcast_querier: true,
        },
    );
    lab.tap("tap0", &br);
    let d = lab.daemon(DaemonOpts::new(&["tap0"]));
    d.addr_add("tap0", "2001:db8:1::2/64");
    d.wait_addr("tap0", OURS.parse().unwrap(), AddrState::Preferred);
    let sw = lab.switch();
    let listed = |g: &str| mdb_groups(sw, "br0", "tap0").iter().any(|x| x == g);
    // The solicited-node group of our address (RFC 4291 §2.7.1), joined by the stack.
    wait_for("our solicited-node group", Duration::from_secs(10), || {
        listed("ff02::1:ff00:2").then_some(())
    });
    let group: Ipv6Addr = "ff05::db8:0:2".parse().unwrap();
    let s = UdpSocket::bind_at(&d.control, false, "[::]:7300").expect("a socket");
    s.join_multicast_v6(&group, "tap0").expect("join");
    wait_for(
        "our group in bridge mdb show",
        Duration::from_secs(10),
        || listed("ff05::db8:0:2").then_some(()),
    );
    s.leave_multicast_v6(&group, "tap0").expect("leave");
    wait_for(
        "our group gone from bridge mdb show",
        Duration::from_secs(10),
        || (!listed("ff05::db8:0:2")).then_some(()),
    );
    // Closing a socket leaves its groups too.
    s.join_multicast_v6(&group, "tap0").expect("join again");
    wait_for("our group listed again", Duration::from_secs(10), || {
        listed("ff05::db8:0:2").then_some(())
    });
    drop(s);
    wait_for(
        "the group gone after close",
        Duration::from_secs(10),
        || (!listed("ff05::db8:0:2")).then_some(()),
    );
    lab.assert_clean_captures(&d.mac("tap0"));
}

// ----- 6. across a kernel router -----------------------------------------------------------

/// br1: our tap0 (2001:db8:1::2/64) and router `r` eth1 (2001:db8:1::1/64); br2: `r` eth2
/// (2001:db8:2::1/64) and kernel host `k` (2001:db8:2::2/64). Our default route is `r`.
fn routed(lab: &Lab) -> (Ns, Ns, Daemon) {
    let br1 = lab.bridge("br1", BridgeOpts::default());
    let br2 = lab.bridge("br2", BridgeOpts::default());
    let r = lab.router("r");
    let k = lab.host("k");
    lab.link(&r, "eth1", &br1);
    lab.link(&r, "eth2", &br2);
    lab.link(&k, "eth0", &br2);
    r.addr_add("eth1", "2001:db8:1::1/64");
    r.addr_add("eth2", "2001:db8:2::1/64");
    k.addr_add("eth0", "2001:db8:2::2/64");
    k.ok(&[
        "ip",
        "-6",
        "route",
        "add",
        "default",
        "via",
        "2001:db8:2::1",
    ]);
    lab.tap("tap0", &br1);
    let d = lab.daemon(DaemonOpts::new(&["tap0"]));
    d.addr_add("tap0", "2001:db8:1::2/64");
    d.route_add("default via 2001:db8:1::1 dev tap0");
    d.wait_addr("tap0", OURS.parse().unwrap(), AddrState::Preferred);
    (r, k, d)
}

#[test]
fn kernel_traceroute_to_us_crosses_the_router_and_ends_at_us() {
    let Some(lab) = Lab::new("kernel_traceroute_to_us_crosses_the_router_and_ends_at_us") else {
        return;
    };
    let (_r, k, d) = routed(&lab);
    // Neighbors resolved first: traceroute sends its probes for all hops at once, and the
    // router would hand them to us in a burst while we resolve it, when our queue for an
    // unresolved neighbor (3 packets, RFC 4861 §7.2.2) would keep only the last answers.
    k.ok(&["ping", "-6", "-c", "1", "-W", "2", OURS]);
    // UDP probes (traceroute's default: our Port Unreachable ends it), then ICMP (-I: our
    // Echo Reply ends it).
    for icmp in [false, true] {
        let mut argv = vec!["traceroute", "-6", "-n", "-q", "1", "-w", "2", "-m", "6"];
        if icmp {
            argv.push("-I");
        }
        argv.push(OURS);
        let out = k.ok(&argv);
        let hops: Vec<&str> = out
            .lines()
            .skip(1)
            .filter_map(|l| l.split_whitespace().nth(1))
            .collect();
        assert_eq!(hops, ["2001:db8:2::1", OURS], "{out}");
    }
    lab.assert_clean_captures(&d.mac("tap0"));
}

#[test]
fn our_tracert6_lists_the_kernel_router_and_its_path_mtu() {
    let Some(lab) = Lab::new("our_tracert6_lists_the_kernel_router_and_its_path_mtu") else {
        return;
    };
    let (r, k, d) = routed(&lab);
    // The far side is narrower: the router answers Packet Too Big, tracert6 shows it.
    r.ok(&["ip", "link", "set", "eth2", "mtu", "1400"]);
    k.ok(&["ip", "link", "set", "eth0", "mtu", "1400"]);
    for proto in ["-I", "-U"] {
        let out = d.cli_timeout(
            &[
                "tracert6",
                proto,
                "-q",
                "1",
                "-w",
                "2",
                "-m",
                "6",
                "--json",
                "2001:db8:2::2",
            ],
            Duration::from_secs(60),
        );
        let text = netns::expect_success(&format!("tracert6 {proto}"), &out);
        let lines = netns::parse_json_list(&text);
        let hops: Vec<&serde_json::Value> = lines.iter().filter(|l| l["type"] == "hop").collect();
        let addrs: Vec<String> = hops
            .iter()
            .map(|h| {
                h["probes"]
                    .as_array()
                    .and_then(|p| p.iter().find_map(|p| p["from"].as_str()))
                    .unwrap_or("*")
                    .to_string()
            })
            .collect();
        assert_eq!(addrs, ["2001:db8:1::1", "2001:db8:2::2"], "{text}");
        let summary = lines
            .iter()
            .find(|l| l["type"] == "summary")
            .expect("a summary line");
        assert_eq!(summary["reached"], true, "{text}");
        assert_eq!(summary["pmtu"], 1400, "{text}");
        let plain = d.cli_timeout(
            &[
                "tracert6",
                proto,
                "-q",
                "1",
                "-w",
                "2",
                "-m",
                "6",
                "2001:db8:2::2",
            ],
            Duration::from_secs(60),
        );
        let plain = netns::expect_success("tracert6", &plain);
        assert!(plain.contains("pmtu 1400"), "{plain}");
    }
    lab.assert_clean_captures(&d.mac("tap0"));
}

// ----- 7. plug and play --------------------------------------------------------------------

/// How many replies a running `ping` has printed to its log.
fn replies(lab: &Lab, name: &str) -> usize {
    lab.log_of(name)
        .lines()
        .filter(|l| l.contains("bytes from"))
        .count()
}

/// Waits until the ping named `name` has printed more replies than `before`.
fn ping_recovers(lab: &Lab, name: &str, before: usize, after: &str) {
    wait_for(
        &format!("the ping to recover after {after}"),
        Duration::from_secs(20),
        || (replies(lab, name) > before + 2).then_some(()),
    );
}

#[test]
fn ping_recovers_when_the_tap_goes_down_and_up_and_is_deleted_and_re_added() {
    let Some(lab) =
        Lab::new("ping_recovers_when_the_tap_goes_down_and_up_and_is_deleted_and_re_added")
    else {
        return;
    };
    let (k, d) = one_link(&lab);
    let sw = lab.switch();
    let dr = &d;
    let up = |want: bool| {
        move || {
            dr.links()
                .iter()
                .any(|l| l.name == "tap0" && l.up == want)
                .then_some(())
        }
    };
    lab.spawn(&k, "ping", &["ping", "-6", "-i", "0.2", "-W", "1", OURS]);
    ping_recovers(&lab, "ping", 0, "the start");
    // Down and up: the daemon sees the carrier go and come back.
    sw.ok(&["ip", "link", "set", "tap0", "down"]);
    wait_for(
        "the link down in the daemon",
        Duration::from_secs(5),
        up(false),
    );
    std::thread::sleep(Duration::from_secs(1));
    let before = replies(&lab, "ping");
    sw.ok(&["ip", "link", "set", "tap0", "up"]);
    wait_for(
        "the link up in the daemon",
        Duration::from_secs(5),
        up(true),
    );
    ping_recovers(&lab, "ping", before, "down and up");
    // Deleted: the daemon reports it and lives on; re-added: it takes the device again.
    sw.ok(&["ip", "link", "del", "tap0"]);
    wait_for("the daemon to drop tap0", Duration::from_secs(5), || {
        (!d.links().iter().any(|l| l.name == "tap0")).then_some(())
    });
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        lab.running(d.pid),
        "the daemon died: {}",
        lab.log_of(&d.name)
    );
    let before = replies(&lab, "ping");
    lab.tap("tap0", &lab_bridge());
    wait_for(
        "the daemon to take tap0 again",
        Duration::from_secs(10),
        up(true),
    );
    ping_recovers(&lab, "ping", before, "delete and re-add");
    // What happened is in the daemon's log.
    let log = lab.log_of(&d.name);
    for what in ["device down", "device up", "device gone", "device is back"] {
        assert!(
            log.contains(what),
            "no {what:?} in the daemon's log:\n{log}"
        );
    }
    lab.assert_clean_captures(&d.mac("tap0"));
}

fn lab_bridge() -> netns::Bridge {
    netns::Bridge { name: "br0".into() }
}

// ----- 8. restart --------------------------------------------------------------------------

#[test]
fn static_addresses_and_routes_come_back_after_a_daemon_restart() {
    let Some(lab) = Lab::new("static_addresses_and_routes_come_back_after_a_daemon_restart") else {
        return;
    };
    let (k, mut d) = one_link(&lab);
    let k_ll = k.link_local("eth0");
    d.addr_add("tap0", "fd00:1::2/64");
    d.route_add(&format!("2001:db8:9::/48 via {k_ll} dev tap0 metric 100"));
    let ll = d.link_local("tap0");
    let mac = d.mac("tap0");
    let status = lab.stop_daemon(&d).expect("the daemon ran");
    assert!(status.success(), "SIGTERM: {status}");
    let gone = k.run(&["ping", "-6", "-c", "1", "-W", "1", OURS]);
    assert!(!gone.status.success(), "answered while stopped");
    lab.start_daemon(&mut d);
    for a in [OURS, "fd00:1::2"] {
        let info = d.wait_addr("tap0", a.parse().unwrap(), AddrState::Preferred);
        assert_eq!(info.origin, AddrOrigin::Static);
        assert_eq!(info.prefix_len, 64);
    }
    let routes = d.routes();
    assert!(
        routes
            .iter()
            .any(|r| r.prefix == "2001:db8:9::".parse::<Ipv6Addr>().unwrap()
                && r.prefix_len == 48
                && r.via == Some(k_ll)
                && r.dev == "tap0"
                && r.metric == 100
                && r.origin == RouteOrigin::Static),
        "{routes:?}"
    );
    // The same MAC and link-local address: RFC 7217 identifiers are stable.
    assert_eq!(d.mac("tap0"), mac);
    assert_eq!(d.link_local("tap0"), ll);
    // The kernel forgets the failed resolution of the stopped daemon's address (it may
    // still be probing), and reaches the address again.
    k.ok(&["ip", "-6", "neigh", "flush", "dev", "eth0"]);
    let out = kernel_ping(&k, OURS, 56);
    assert!(out.contains("3 received"), "{out}");
    lab.assert_clean_captures(&mac);
}

// ----- DNS: `resolve` asks dnsmasq over the stack (RDNSS-learnt or configured) -------------

/// dnsmasq in `k` on 2001:db8:1::1: `test.example` has AAAA 2001:db8:1::99, every other
/// name under `example` does not exist (NXDOMAIN), nothing is forwarded.
fn dnsmasq(lab: &Lab, k: &Ns) -> u32 {
    assert!(
        netns::which("dnsmasq").is_some(),
        "dnsmasq is not installed (scripts/test installs dnsmasq-base)"
    );
    let pid = lab.spawn(
        k,
        "dnsmasq",
        &[
            "dnsmasq",
            "--no-daemon",
            "--no-resolv",
            "--no-hosts",
            "--log-queries",
            "--user=root",
            "--pid-file=",
            "--listen-address=2001:db8:1::1",
            "--bind-interfaces",
            "--local=/example/",
            "--host-record=test.example,2001:db8:1::99",
        ],
    );
    wait_for("dnsmasq to listen", Duration::from_secs(10), || {
        assert!(
            lab.running(pid),
            "dnsmasq exited: {}",
            lab.log_of("dnsmasq")
        );
        let out = k.run(&["ss", "-H", "-u", "-l", "-n", "sport = :53"]);
        String::from_utf8_lossy(&out.stdout)
            .contains("2001:db8:1::1")
            .then_some(())
    });
    pid
}

fn resolve(d: &Daemon, name: &str) -> std::io::Result<Vec<Ipv6Addr>> {
    match d.try_call(Op::Resolve { name: name.into() })? {
        Reply::Addresses { addresses } => Ok(addresses.iter().map(|a| a.address).collect()),
        r => panic!("resolve {name}: {r:?}"),
    }
}

#[test]
fn resolve_asks_dnsmasq_learnt_by_rdnss() {
    let Some(lab) = Lab::new("resolve_asks_dnsmasq_learnt_by_rdnss") else {
        return;
    };
    let (k, d) = one_link(&lab);
    // Nobody to ask yet.
    let e = resolve(&d, "test.example").expect_err("no resolver");
    assert!(e.to_string().contains("no DNS resolver configured"), "{e}");
    dnsmasq(&lab, &k);
    let _radvd = lab.radvd(
        &k,
        "interface eth0 {\n  AdvSendAdvert on;\n  MinRtrAdvInterval 3;\n  MaxRtrAdvInterval 4;\n  \
         AdvDefaultLifetime 0;\n  RDNSS 2001:db8:1::1 {\n    AdvRDNSSLifetime 60;\n  };\n};\n",
    );
    let got = wait_for("an RDNSS-learnt answer", Duration::from_secs(20), || {
        resolve(&d, "test.example").ok()
    });
    assert_eq!(got, vec!["2001:db8:1::99".parse::<Ipv6Addr>().unwrap()]);
    // Through the client library too, as tools resolve.
    let mut c = sixstack_client::Connection::open_at(&d.control, "netns test").expect("connect");
    let got = sixstack_client::resolve_with(&mut c, "TEST.example.").expect("resolve");
    assert_eq!(got[0].addr, "2001:db8:1::99".parse::<Ipv6Addr>().unwrap());
    let e = resolve(&d, "nobody.example").expect_err("NXDOMAIN");
    assert!(
        e.to_string()
            .contains("no AAAA record for \"nobody.example\""),
        "{e}"
    );
    lab.assert_clean_captures(&d.mac("tap0"));
}

#[test]
fn resolve_asks_the_configured_dns_server_and_moves_on() {
    let Some(lab) = Lab::new("resolve_asks_the_configured_dns_server_and_moves_on") else {
        return;
    };
    let br = lab.bridge("br0", BridgeOpts::default());
    let k = lab.host("k");
    lab.link(&k, "eth0", &br);
    k.addr_add("eth0", "2001:db8:1::1/64");
    lab.tap("tap0", &br);
    // The first server does not exist: its tries time out, then the second answers.
    let d = lab.daemon(DaemonOpts::new(&["tap0"]).config(
        "dns = [\"2001:db8:1::7\", \"2001:db8:1::1\"]\n\
         [[interface]]\nname = \"tap0\"\naddresses = [\"2001:db8:1::2/64\"]\n",
    ));
    d.wait_addr("tap0", OURS.parse().unwrap(), AddrState::Preferred);
    dnsmasq(&lab, &k);
    let got = resolve(&d, "test.example").expect("resolve");
    assert_eq!(got, vec!["2001:db8:1::99".parse::<Ipv6Addr>().unwrap()]);
    let e = resolve(&d, "nobody.example").expect_err("NXDOMAIN");
    assert!(e.to_string().contains("no AAAA record"), "{e}");
}
