//! `sixstack run` on a real TAP device against the Linux kernel, on the shared
//! network-namespace harness (`netns/mod.rs`): the daemon's TAP and a kernel host `k`
//! (eth0) on one bridge, all removed also on failure. Needs root: without it a test says
//! why and passes, unless SIXSTACK_REQUIRE_ROOT_TESTS=1 (CI), where it fails. On failure
//! the daemon's log, its pcaps and the bridge's capture stay in `test-output/<test>/`.
//!
//! These tests speak the control protocol itself (`sixstack_client::Connection`, one
//! connection per test, as a tool that links the client does).
//!
//! Only documentation (2001:db8::/32) and link-local addresses are used.

mod netns;

use std::net::Ipv6Addr;
use std::time::Duration;

use netns::{AddrOrigin, AddrState, Bridge, BridgeOpts, Daemon, DaemonOpts, Lab, Ns, Op, Reply};
use sixstack_api::{Body, Bytes, EventDetail, EventInfo, RouteOrigin, SocketId, SocketKind};
use sixstack_client::Connection;

const KERNEL: &str = "2001:db8:1::1";
const OURS: &str = "2001:db8:1::2";

/// One control connection of a test, with the events it has read but not yet used.
struct Client {
    conn: Connection,
    events: Vec<EventInfo>,
}

impl Client {
    fn new(d: &Daemon) -> Client {
        Client {
            conn: Connection::open_at(&d.control, "daemon_netns test").expect("connect"),
            events: Vec::new(),
        }
    }

    fn call(&mut self, op: Op) -> Reply {
        let what = format!("{op:?}");
        self.conn.call(op).unwrap_or_else(|e| panic!("{what}: {e}"))
    }

    /// Waits (at most 20 s) for an event that `pred` accepts.
    fn wait_event(&mut self, what: &str, pred: impl Fn(&EventInfo) -> bool) -> EventInfo {
        if let Some(i) = self.events.iter().position(&pred) {
            return self.events.remove(i);
        }
        let Client { conn, events } = self;
        netns::wait_for(&format!("event {what}"), Duration::from_secs(20), || {
            while let Ok(r) = conn.next_response(Some(Duration::from_millis(100))) {
                if let Body::Event(e) = r.body {
                    if pred(&e) {
                        return Some(e);
                    }
                    events.push(e);
                }
            }
            None
        })
    }
}

/// Waits until an address of `origin` is preferred, and returns it.
fn preferred(d: &Daemon, origin: AddrOrigin) -> Ipv6Addr {
    netns::wait_for(
        &format!("a preferred {origin:?} address"),
        Duration::from_secs(15),
        || {
            d.addr_list()
                .into_iter()
                .find(|a| a.origin == origin && a.state == AddrState::Preferred)
                .map(|a| a.address)
        },
    )
}

/// SIGTERM, as an operator stops it; the daemon must exit 0 and remove its socket.
fn stop(lab: &Lab, d: &Daemon) {
    let st = lab.stop_daemon(d).expect("the daemon ran");
    assert!(st.success(), "the daemon stopped with {st}");
    assert!(
        !d.control.exists(),
        "the control socket file is left behind"
    );
}

/// The bridge `br0` and a kernel host `k` on it (eth0, 2001:db8:1::1/64).
fn kernel_host(lab: &Lab) -> (Bridge, Ns) {
    let br = lab.bridge("br0", BridgeOpts::default());
    let k = lab.host("k");
    lab.link(&k, "eth0", &br);
    k.addr_add("eth0", &format!("{KERNEL}/64"));
    (br, k)
}

/// `kernel_host`, the daemon on tap0, and 2001:db8:1::2/64 on it, preferred.
fn one_link(lab: &Lab) -> (Ns, Daemon, Client) {
    let (br, k) = kernel_host(lab);
    lab.tap("tap0", &br);
    let d = lab.daemon(DaemonOpts::new(&["tap0"]));
    let mut c = Client::new(&d);
    c.call(Op::AddrAdd {
        dev: "tap0".into(),
        address: OURS.parse().unwrap(),
        prefix_len: 64,
    });
    assert_eq!(
        preferred(&d, AddrOrigin::Static),
        OURS.parse::<Ipv6Addr>().unwrap()
    );
    (k, d, c)
}

/// `ping -6` from `k`, three requests; fails the test unless all three were answered.
fn kernel_ping(k: &Ns, dst: &str) -> String {
    let out = k.ok(&["ping", "-6", "-n", "-c", "3", "-i", "0.3", "-W", "2", dst]);
    assert!(out.contains("3 received"), "ping {dst}: {out}");
    out
}

/// A kernel socket in `k`, in the background (its output in `kernel.log`): UDP, or
/// UDP-Lite with `setup` (its options) run first; bound to 2001:db8:1::1 port `from`, it
/// sends `msg` to ours at port `to`, waits for one answer and prints it, with its source
/// address and port.
fn kernel_peer(lab: &Lab, k: &Ns, proto: &str, setup: &str, from: u16, to: u16, msg: &str) -> u32 {
    let program = format!(
        "import socket\n\
         s=socket.socket(socket.AF_INET6,socket.SOCK_DGRAM,{proto})\n\
         {setup}\
         s.bind(('{KERNEL}',{from}))\n\
         s.settimeout(10)\n\
         s.sendto(b'{msg}',('{OURS}',{to}))\n\
         d,a=s.recvfrom(2000)\n\
         print(d.decode(),a[0],a[1])\n"
    );
    lab.spawn(k, "kernel", &["/usr/bin/python3", "-c", &program])
}

/// The next datagram on `socket` (within 10 s).
fn recv(c: &mut Client, socket: SocketId) -> sixstack_api::DatagramInfo {
    let r = c.call(Op::Recv {
        socket,
        timeout_ms: Some(10_000),
    });
    let Reply::Datagram(d) = r else {
        panic!("{r:?}")
    };
    d
}

/// Waits for `kernel_peer`'s program to end, which must succeed; returns its output.
fn kernel_peer_output(lab: &Lab, pid: u32) -> String {
    netns::wait_for(
        "the kernel's socket to end",
        Duration::from_secs(15),
        || (!lab.running(pid)).then_some(()),
    );
    let st = lab.stop(pid).expect("it ran");
    let out = lab.log_of("kernel");
    assert!(st.success(), "kernel side: {st}: {out}");
    out
}

/// A socket of `kind` bound to `port`.
fn bound_socket(c: &mut Client, kind: SocketKind, port: u16) -> SocketId {
    let Reply::Socket { socket } = c.call(Op::SocketOpen { kind }) else {
        panic!()
    };
    c.call(Op::Bind {
        socket,
        address: Ipv6Addr::UNSPECIFIED,
        port,
        zone: None,
    });
    socket
}

fn links(c: &mut Client, dev: Option<&str>) -> Vec<sixstack_api::LinkInfo> {
    let Reply::Links { links } = c.call(Op::LinkShow {
        dev: dev.map(Into::into),
    }) else {
        panic!()
    };
    links
}

fn neighbors(c: &mut Client) -> Vec<sixstack_api::NeighInfo> {
    let Reply::Neighbors { neighbors } = c.call(Op::NeighShow { dev: None }) else {
        panic!()
    };
    neighbors
}

// ----- the tests --------------------------------------------------------------------------

#[test]
fn kernel_pings_our_link_local_and_global_addresses_over_tap() {
    let Some(lab) = Lab::new("kernel_pings_our_link_local_and_global_addresses_over_tap") else {
        return;
    };
    let (br, k) = kernel_host(&lab);
    // The daemon creates tap0 itself, and brings it up.
    let d = lab.daemon(DaemonOpts::new(&["tap0"]));
    let link = lab.switch().ok(&["ip", "-o", "link", "show", "tap0"]);
    assert!(link.contains("UP"), "{link}");
    lab.attach_tap("tap0", &br);
    let mut c = Client::new(&d);
    let ll = preferred(&d, AddrOrigin::LinkLocal);
    assert!(ll.segments()[0] == 0xfe80, "{ll}");
    kernel_ping(&k, &format!("{ll}%eth0"));

    // A static global address through the control socket, then the kernel pings it.
    c.call(Op::AddrAdd {
        dev: "tap0".into(),
        address: OURS.parse().unwrap(),
        prefix_len: 64,
    });
    let g = preferred(&d, AddrOrigin::Static);
    assert_eq!(g, OURS.parse::<Ipv6Addr>().unwrap());
    kernel_ping(&k, OURS);
    // The kernel learned our MAC (the stack's own, not the device's).
    let neigh = k.ok(&["ip", "-6", "neigh", "show", "dev", "eth0"]);
    let mac = links(&mut c, Some("tap0"))[0].mac.clone().unwrap();
    assert!(
        neigh.contains(&mac),
        "kernel neighbors {neigh}, our MAC {mac}"
    );
    // neigh show / flush: the kernel's end is in our cache, then gone.
    let ns = neighbors(&mut c);
    assert!(
        ns.iter()
            .any(|n| n.address == KERNEL.parse::<Ipv6Addr>().unwrap() && n.lladdr.is_some()),
        "{ns:?}"
    );
    let Reply::Count { count } = c.call(Op::NeighFlush {
        dev: Some("tap0".into()),
    }) else {
        panic!()
    };
    assert!(count >= 1);
    let ns = neighbors(&mut c);
    assert!(ns.is_empty(), "{ns:?}");
    let Reply::Stats(s) = c.call(Op::Stats {}) else {
        panic!()
    };
    assert!(
        s.icmp.out_by_type.get("129").copied().unwrap_or(0) >= 6,
        "echo replies sent: {:?}",
        s.icmp.out_by_type
    );
    drop(c);
    stop(&lab, &d);
    // The device the daemon created went with it.
    let o = lab.switch().run(&["ip", "link", "show", "tap0"]);
    assert!(!o.status.success(), "tap0 is left behind");
}

#[test]
fn udp_both_ways_between_a_client_socket_and_a_kernel_socket() {
    let Some(lab) = Lab::new("udp_both_ways_between_a_client_socket_and_a_kernel_socket") else {
        return;
    };
    let (k, _d, mut c) = one_link(&lab);
    let socket = bound_socket(&mut c, SocketKind::Udp, 7007);
    // The kernel sends from port 9009 and waits for our answer.
    let kernel = kernel_peer(&lab, &k, "0", "", 9009, 7007, "hello from the kernel");
    let d = recv(&mut c, socket);
    assert_eq!(d.data.as_slice(), b"hello from the kernel");
    assert_eq!(d.src, KERNEL.parse::<Ipv6Addr>().unwrap());
    assert_eq!((d.src_port, d.dst_port), (9009, 7007));
    assert_eq!(d.zone, "tap0");
    let r = c.call(Op::SendTo {
        socket,
        address: Some(d.src),
        port: d.src_port,
        zone: None,
        data: Bytes(b"hello from sixstack".to_vec()),
    });
    assert!(matches!(r, Reply::Sent { bytes: 19 }), "{r:?}");
    let text = kernel_peer_output(&lab, kernel);
    assert_eq!(text.trim(), "hello from sixstack 2001:db8:1::2 7007");
    // A port nobody listens on: the kernel's Port Unreachable reaches the socket.
    c.call(Op::SendTo {
        socket,
        address: Some(d.src),
        port: 9,
        zone: None,
        data: Bytes(b"anyone?".to_vec()),
    });
    let e = netns::wait_for("an ICMPv6 error", Duration::from_secs(5), || {
        let Reply::SocketError { error } = c.call(Op::TakeError { socket }) else {
            panic!()
        };
        error
    });
    assert_eq!((e.icmp_type, e.code, e.dst_port), (1, 4, 9), "{e:?}");
    assert_eq!(e.from, d.src);
}

#[test]
fn carrier_and_a_deleted_device_are_noticed_and_reported() {
    let Some(lab) = Lab::new("carrier_and_a_deleted_device_are_noticed_and_reported") else {
        return;
    };
    let (br, k) = kernel_host(&lab);
    lab.tap("tap0", &br);
    let d = lab.daemon(DaemonOpts::new(&["tap0"]).arg("--log-format").arg("json"));
    let sw = lab.switch();
    let mut c = Client::new(&d);
    preferred(&d, AddrOrigin::LinkLocal);
    c.call(Op::SubscribeEvents {});
    // The kernel side goes down and up: link down, then up with DAD again.
    sw.ok(&["ip", "link", "set", "tap0", "down"]);
    c.wait_event("link down", |e| e.detail == EventDetail::LinkDown);
    sw.ok(&["ip", "link", "set", "tap0", "up"]);
    c.wait_event("link up", |e| e.detail == EventDetail::LinkUp);
    c.wait_event("DAD again", |e| {
        matches!(
            e.detail,
            EventDetail::Address {
                to: Some(AddrState::Preferred),
                ..
            }
        )
    });
    // Deleted under the daemon: reported, the interface removed, the daemon alive.
    sw.ok(&["ip", "link", "del", "tap0"]);
    c.wait_event("device gone", |e| e.detail == EventDetail::DeviceGone);
    c.wait_event("interface removed", |e| {
        e.detail == EventDetail::InterfaceRemoved
    });
    let ls = links(&mut c, None);
    assert!(ls.is_empty(), "{ls:?}");
    // The device comes back: attached again, addresses formed again.
    lab.tap("tap0", &br);
    c.wait_event("interface added", |e| {
        matches!(e.detail, EventDetail::InterfaceAdded { .. })
    });
    let ll = preferred(&d, AddrOrigin::LinkLocal);
    kernel_ping(&k, &format!("{ll}%eth0"));
    drop(c);
    stop(&lab, &d);
    let log = lab.log_of(&d.name);
    assert!(log.contains("device gone"), "{log}");
    // A device the operator made persists after the daemon.
    sw.ok(&["ip", "link", "show", "tap0"]);
}

#[test]
fn static_configuration_survives_a_restart() {
    let Some(lab) = Lab::new("static_configuration_survives_a_restart") else {
        return;
    };
    let mut d = lab.daemon(DaemonOpts::new(&[]));
    let mut c = Client::new(&d);
    let r = c.call(Op::LinkAdd {
        dev: "tap7".into(),
        mac: Some("02:00:5e:00:53:07".into()),
        mtu: Some(1400),
    });
    let Reply::Links { links: added } = r else {
        panic!("{r:?}")
    };
    assert_eq!(added[0].mtu, 1400);
    c.call(Op::AddrAdd {
        dev: "tap7".into(),
        address: "2001:db8:7::2".parse().unwrap(),
        prefix_len: 64,
    });
    c.call(Op::RouteAdd {
        prefix: "2001:db8:9::".parse().unwrap(),
        prefix_len: 48,
        via: Some("fe80::1".parse().unwrap()),
        dev: "tap7".into(),
        metric: Some(100),
        kind: sixstack_api::RouteType::Unicast,
    });
    drop(c);
    stop(&lab, &d);
    // The created device went with the daemon; it comes back with everything on it.
    lab.start_daemon(&mut d);
    let mut c = Client::new(&d);
    let ls = links(&mut c, None);
    assert_eq!(ls.len(), 1, "{ls:?}");
    assert_eq!(ls[0].name, "tap7");
    assert_eq!(ls[0].mac.as_deref(), Some("02:00:5e:00:53:07"));
    assert_eq!(ls[0].mtu, 1400);
    let a = preferred(&d, AddrOrigin::Static);
    assert_eq!(a, "2001:db8:7::2".parse::<Ipv6Addr>().unwrap());
    let Reply::Routes { routes } = c.call(Op::RouteShow {}) else {
        panic!()
    };
    assert!(
        routes.iter().any(|r| r.prefix_len == 48
            && r.via == Some("fe80::1".parse().unwrap())
            && r.metric == 100
            && r.origin == RouteOrigin::Static),
        "{routes:?}"
    );
    // link del forgets it all.
    c.call(Op::LinkDel { dev: "tap7".into() });
    drop(c);
    stop(&lab, &d);
    lab.start_daemon(&mut d);
    let ls = links(&mut Client::new(&d), None);
    assert!(ls.is_empty(), "{ls:?}");
}

#[test]
fn raw_icmpv6_socket_pings_the_kernel() {
    let Some(lab) = Lab::new("raw_icmpv6_socket_pings_the_kernel") else {
        return;
    };
    let (_k, _d, mut c) = one_link(&lab);
    let Reply::Socket { socket } = c.call(Op::SocketOpen {
        kind: SocketKind::Raw { next_header: 58 },
    }) else {
        panic!()
    };
    c.call(Op::SetOption {
        socket,
        option: sixstack_api::SocketOption::IcmpFilter(vec![129]),
    });
    let Reply::Source { address, dev } = c.call(Op::SourceFor {
        address: KERNEL.parse().unwrap(),
        zone: None,
    }) else {
        panic!()
    };
    assert_eq!((address, dev.as_str()), (OURS.parse().unwrap(), "tap0"));
    // Echo Request (RFC 4443 §4.1): type 128, code 0, checksum (the stack's), id, seq.
    let echo = vec![128, 0, 0, 0, 0x12, 0x34, 0, 1, b'p', b'i', b'n', b'g'];
    c.call(Op::SendTo {
        socket,
        address: Some(KERNEL.parse().unwrap()),
        port: 0,
        zone: None,
        data: Bytes(echo),
    });
    let r = c.call(Op::Recv {
        socket,
        timeout_ms: Some(5000),
    });
    let Reply::RawPacket(p) = r else {
        panic!("{r:?}")
    };
    assert_eq!(p.src, KERNEL.parse::<Ipv6Addr>().unwrap());
    let upper = p.upper();
    assert_eq!(upper[0], 129, "an echo reply: {upper:?}");
    assert_eq!(&upper[4..], &[0x12, 0x34, 0, 1, b'p', b'i', b'n', b'g']);
    assert_eq!(p.hop_limit, 64);
    let Reply::Mtu { mtu } = c.call(Op::PathMtu {
        address: KERNEL.parse().unwrap(),
        zone: None,
    }) else {
        panic!()
    };
    assert_eq!(mtu, 1500);
}

#[test]
fn udplite_both_ways_with_partial_coverage() {
    let Some(lab) = Lab::new("udplite_both_ways_with_partial_coverage") else {
        return;
    };
    let (k, _d, mut c) = one_link(&lab);
    let socket = bound_socket(&mut c, SocketKind::Udplite, 7008);
    c.call(Op::SetOption {
        socket,
        option: sixstack_api::SocketOption::UdpliteSendCoverage(16),
    });
    // The kernel covers 12 bytes (header and 4 of data) and accepts only 16 or more.
    let kernel = kernel_peer(
        &lab,
        &k,
        "136",
        "s.setsockopt(136,10,12)\ns.setsockopt(136,11,16)\n",
        9010,
        7008,
        "lite from the kernel",
    );
    let d = recv(&mut c, socket);
    assert_eq!(d.data.as_slice(), b"lite from the kernel");
    assert_eq!(d.coverage, 12);
    c.call(Op::SendTo {
        socket,
        address: Some(d.src),
        port: d.src_port,
        zone: None,
        data: Bytes(b"lite from sixstack".to_vec()),
    });
    let text = kernel_peer_output(&lab, kernel);
    assert_eq!(text.trim(), "lite from sixstack 2001:db8:1::2 7008");
}

#[test]
fn router_advertisements_from_the_config_file_configure_the_kernel() {
    let Some(lab) = Lab::new("router_advertisements_from_the_config_file_configure_the_kernel")
    else {
        return;
    };
    let br = lab.bridge("br0", BridgeOpts::default());
    let k = lab.host("k");
    lab.link(&k, "eth0", &br);
    let d = lab.daemon(
        DaemonOpts::new(&[])
            .config(
                "forwarding = true\n\
                 [[interface]]\nname = \"tap0\"\naddresses = [\"2001:db8:5::1/64\"]\n\
                 [interface.advertise]\nmax_interval = 4\nmin_interval = 3\n\
                 [[interface.advertise.prefix]]\nprefix = \"2001:db8:5::/64\"\n",
            )
            .arg("--log-format")
            .arg("json"),
    );
    lab.attach_tap("tap0", &br);
    let mut c = Client::new(&d);
    let ll = preferred(&d, AddrOrigin::LinkLocal);
    netns::wait_for("the kernel to take our RA", Duration::from_secs(30), || {
        let addrs = k.ok(&["ip", "-6", "-o", "addr", "show", "dev", "eth0"]);
        let routes = k.ok(&["ip", "-6", "route", "show", "default"]);
        (addrs.contains("2001:db8:5:") && routes.contains(&format!("via {ll}"))).then_some(())
    });
    assert!(links(&mut c, None)[0].router);
    drop(c);
    stop(&lab, &d);
    // --log-format json: every line is a JSON object with a level and a message.
    let log = lab.log_of(&d.name);
    for line in log.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(v["level"].is_string() && v["message"].is_string(), "{line}");
    }
    assert!(log.contains("\"kind\":\"address\""), "{log}");
}
