//! End to end through the real daemon and its command-line tools, against the Linux
//! kernel, on the shared network-namespace harness (`netns/mod.rs`): a kernel host `k`
//! (eth0) and the daemon (tap0) on one bridge, documentation addresses only. Needs root:
//! without it the test says why and passes, unless SIXSTACK_REQUIRE_ROOT_TESTS=1 (CI),
//! where it fails. On failure the captures and logs stay in `test-output/<test>/`.

mod netns;

use std::net::Ipv6Addr;
use std::process::Output;
use std::time::Duration;

use netns::{BridgeOpts, Daemon, DaemonOpts, Lab, Ns, sixstack_bin, wait_for};
use serde_json::Value;

const KERNEL_GLOBAL: &str = "2001:db8:5::1";
const OUR_GLOBAL: &str = "2001:db8:5::2";

/// A kernel host `k` (eth0) and the daemon (tap0) on one bridge; no global addresses yet.
fn lab_link(lab: &Lab) -> (Ns, Daemon) {
    let br = lab.bridge("br0", BridgeOpts::default());
    let k = lab.host("k");
    lab.link(&k, "eth0", &br);
    lab.tap("tap0", &br);
    (k, lab.daemon(DaemonOpts::new(&["tap0"])))
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `addr show --json` as JSON values (the field names are the CLI's contract).
fn addrs(d: &Daemon) -> Vec<Value> {
    d.cli_json(&["addr", "show", "--json"])
}

/// Two pings from the kernel (`ping -6` with `more` options) to `dst`; fails the test
/// unless it succeeds. Returns its output.
fn kernel_ping(k: &Ns, dst: &str, more: &[&str]) -> String {
    let mut argv = vec!["ping", "-6", "-c", "2", "-i", "0.2", "-W", "2"];
    argv.extend_from_slice(more);
    argv.push(dst);
    k.ok(&argv)
}

/// Our global address and the kernel's, both usable.
fn globals(k: &Ns, d: &Daemon) {
    k.addr_add("eth0", &format!("{KERNEL_GLOBAL}/64"));
    d.addr_add("tap0", &format!("{OUR_GLOBAL}/64"));
    wait_for(
        "our global address to be preferred",
        Duration::from_secs(15),
        || {
            addrs(d)
                .iter()
                .any(|a| {
                    a["address"] == OUR_GLOBAL
                        && a["state"] == "preferred"
                        && a["origin"] == "static"
                })
                .then_some(())
        },
    );
}

#[test]
fn daemon_on_a_tap_pings_the_kernel_and_answers_it() {
    let Some(lab) = Lab::new("daemon_on_a_tap_pings_the_kernel_and_answers_it") else {
        return;
    };
    let (k, d) = lab_link(&lab);

    // `addr show --json` lists our link-local address, preferred once DAD is done.
    let ours_ll: Ipv6Addr = wait_for(
        "our link-local address to be preferred",
        Duration::from_secs(15),
        || {
            addrs(&d).iter().find_map(|a| {
                (a["interface"] == "tap0"
                    && a["origin"] == "link-local"
                    && a["state"] == "preferred")
                    .then(|| a["address"].as_str()?.parse().ok())
                    .flatten()
            })
        },
    );
    assert_eq!(ours_ll.segments()[0], 0xfe80);
    let ll = addrs(&d)
        .into_iter()
        .find(|a| a["origin"] == "link-local")
        .unwrap();
    assert_eq!(ll["prefix_len"], 64);
    assert_eq!(ll["scope"], "link");
    assert!(ll["valid_lifetime"].is_null() && ll["preferred_lifetime"].is_null());

    // Our ping6 to the kernel's link-local address, through the tap.
    let kernel_ll = k.link_local("eth0");
    let dst = format!("{kernel_ll}%tap0");
    let o = d.cli(&["ping6", "-c", "3", "-i", "0.2", &dst]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(&format!("64 bytes from {dst}: icmp_seq=1 ttl=64 time=")),
        "{out}"
    );
    assert!(
        out.contains("3 packets transmitted, 3 received, 0% packet loss"),
        "{out}"
    );

    // The kernel pings our link-local address.
    kernel_ping(&k, &format!("{ours_ll}%eth0"), &[]);

    // Global addresses on both sides: ours through `addr add`, then pings both ways.
    globals(&k, &d);
    let o = d.cli(&["ping6", "-c", "2", "-i", "0.2", "--json", KERNEL_GLOBAL]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let last: Value = serde_json::from_str(
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .last()
            .expect("a summary line"),
    )
    .unwrap();
    assert_eq!(last["type"], "summary");
    assert_eq!(last["received"], 2, "{}", text(&o));
    kernel_ping(&k, OUR_GLOBAL, &[]);

    // 8000-byte pings, fragmented both ways (the neighbor is resolved by now).
    let o = d.cli(&["ping6", "-c", "2", "-i", "0.2", "-s", "8000", KERNEL_GLOBAL]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("2 received"),
        "{}",
        text(&o)
    );
    let out = kernel_ping(&k, OUR_GLOBAL, &["-s", "8000"]);
    assert!(out.contains("8008 bytes from"), "{out}");

    // tracert6 to the kernel: one hop, reached, in ICMP and UDP.
    for method in ["-I", "-U"] {
        let o = d.cli(&["tracert6", method, "-q", "1", "-w", "2", KERNEL_GLOBAL]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains(&format!("\n 1  {KERNEL_GLOBAL}  ")), "{out}");
        assert!(out.contains("Resume: pmtu 1500 hops 1 back 1"), "{out}");
    }

    // No reply: a documentation address nobody holds, exit status 1.
    let o = d.cli(&["ping6", "-c", "1", "-W", "1", "2001:db8:5::dead"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("1 packets transmitted, 0 received"),
        "{}",
        text(&o)
    );
}

#[test]
fn control_commands_and_a_client_udp_socket_against_the_kernel() {
    let Some(lab) = Lab::new("control_commands_and_a_client_udp_socket_against_the_kernel") else {
        return;
    };
    let (k, d) = lab_link(&lab);

    // A live event stream sees the address we add.
    let bin = sixstack_bin();
    let control = d.control.to_string_lossy().into_owned();
    let events = lab.spawn_with(
        lab.switch(),
        "events",
        &[bin.to_str().unwrap(), "events", "--json"],
        &[("SIXSTACK_CONTROL", &control)],
        Duration::from_secs(2),
    );
    std::thread::sleep(Duration::from_millis(300));
    globals(&k, &d);

    // link show --json: tap0, up, a TAP device.
    let links: Vec<Value> = d.cli_json(&["link", "show", "--json"]);
    let tap0 = links
        .iter()
        .find(|l| l["name"] == "tap0")
        .expect("tap0 listed");
    assert_eq!(
        (tap0["up"].clone(), tap0["tap"].clone()),
        (Value::Bool(true), Value::Bool(true))
    );

    // route add / show / del in iproute2's words.
    d.route_add(&format!("2001:db8:9::/48 via {KERNEL_GLOBAL} dev tap0"));
    let routes = d.cli_ok(&["route", "show"]);
    assert!(
        routes.contains(&format!(
            "2001:db8:9::/48 via {KERNEL_GLOBAL} dev tap0 proto static"
        )),
        "{routes}"
    );
    d.cli_ok(&["route", "del", "2001:db8:9::/48"]);
    let o = d.cli(&["route", "del", "2001:db8:9::/48"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "a second del finds nothing: {}",
        text(&o)
    );
    assert!(!String::from_utf8_lossy(&o.stderr).is_empty());

    // A client UdpSocket of this process (the daemon's socket is a file: no namespace
    // needed) and a kernel UDP socket in `k` that echoes one datagram.
    let echo = lab.spawn(
        &k,
        "echo",
        &[
            "/usr/bin/python3",
            "-c",
            "import socket\n\
             s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)\n\
             s.bind(('::', 7007))\n\
             s.settimeout(10)\n\
             d, a = s.recvfrom(2000)\n\
             s.sendto(d.upper(), a)\n\
             print(a[0], a[1], flush=True)\n",
        ],
    );
    std::thread::sleep(Duration::from_millis(500));
    let s = sixstack_client::UdpSocket::bind_at(&d.control, false, "[::]:0").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let to: sixstack_client::SocketAddr = format!("[{KERNEL_GLOBAL}]:7007").parse().unwrap();
    assert_eq!(s.send_to(b"hello kernel", to).unwrap(), 12);
    let mut buf = [0u8; 64];
    let (n, from) = s.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"HELLO KERNEL");
    assert_eq!(from, to);
    let local = s.local_addr().unwrap();
    wait_for("the echo to end", Duration::from_secs(10), || {
        (!lab.running(echo)).then_some(())
    });
    assert_eq!(
        lab.log_of("echo").trim(),
        format!("{OUR_GLOBAL} {}", local.port)
    );
    drop(s);

    // neigh show has the kernel's address now; stats count our UDP.
    let o = d.cli(&["neigh", "show", "dev", "tap0"]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(&format!("{KERNEL_GLOBAL} dev tap0 lladdr ")),
        "{}",
        text(&o)
    );
    let stats: Value = serde_json::from_str(&d.cli_ok(&["stats", "--json"])).unwrap();
    assert!(
        stats["udp"]["out_datagrams"].as_u64().unwrap() >= 1,
        "{stats}"
    );
    assert!(
        stats["udp"]["in_datagrams"].as_u64().unwrap() >= 1,
        "{stats}"
    );

    let _ = lab.stop(events);
    let seen = lab.log_of("events");
    let ours: Vec<Value> = seen
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["kind"] == "address" && e["address"] == OUR_GLOBAL)
        .collect();
    assert!(
        ours.iter()
            .any(|e| e["to"] == "preferred" && e["dev"] == "tap0"),
        "events: {seen}"
    );
}
