//! `sixstack run` on a real TAP device against the Linux kernel, in a network namespace
//! each test makes for itself (and removes, also on failure). Needs root: without it a
//! test says why and passes, unless SIXSTACK_REQUIRE_ROOT_TESTS=1 (CI), where it fails.
//! On failure the daemon's log and its pcap of each interface are copied to
//! `test-output/<test>/` (or `$SIXSTACK_OUT/<test>/`).
//!
//! Only documentation (2001:db8::/32) and link-local addresses are used, and only inside
//! the test's namespace.

use std::io::{BufRead, BufReader, Write};
use std::net::Ipv6Addr;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use sixstack_api::{
    AddrOrigin, AddrState, Body, Bytes, EventDetail, EventInfo, Op, Reply, Request, Response,
    RouteOrigin, SocketKind, encode_line,
};

/// The host's clock, for test timeouts (clippy.toml bans reading it elsewhere).
#[allow(clippy::disallowed_methods)]
fn clock() -> Instant {
    Instant::now()
}

// ----- the lab --------------------------------------------------------------------------

/// Whether this test can run; false (after saying why) when it may be skipped.
fn root_or_skip(test: &str) -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("");
    if euid == "0" {
        return true;
    }
    let required = ["SIXSTACK_REQUIRE_ROOT_TESTS", "SIXSTACK_REQUIRE_ALL"]
        .iter()
        .any(|v| std::env::var(v).is_ok_and(|x| x == "1"));
    assert!(
        !required,
        "{test}: needs root (network namespaces and TAP devices), and \
         SIXSTACK_REQUIRE_ROOT_TESTS=1 forbids skipping it"
    );
    eprintln!("{test}: SKIPPED: needs root (network namespaces and TAP devices)");
    false
}

fn out_dir(test: &str) -> PathBuf {
    let base = std::env::var_os("SIXSTACK_OUT").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test-output"),
        PathBuf::from,
    );
    base.join(test)
}

static SEQ: AtomicU32 = AtomicU32::new(0);

/// A network namespace, a work folder, and a daemon in it.
struct Lab {
    test: String,
    ns: String,
    work: PathBuf,
    daemon: Option<Child>,
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
}

fn ok(cmd: &mut Command) -> String {
    let o = run(cmd);
    assert!(
        o.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

impl Lab {
    fn new(test: &str) -> Lab {
        let n = SEQ.fetch_add(1, Ordering::SeqCst);
        let ns = format!("sxd-{}-{n}", std::process::id());
        let work = std::env::temp_dir().join(format!("sixstack-{ns}"));
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(&work).unwrap();
        ok(Command::new("ip").args(["netns", "add", &ns]));
        let lab = Lab {
            test: test.to_string(),
            ns,
            work,
            daemon: None,
        };
        lab.sh(&["ip", "link", "set", "lo", "up"]);
        lab
    }

    fn control(&self) -> PathBuf {
        self.work.join("ctl.sock")
    }

    /// A command inside the namespace.
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.ns]).args(args);
        c
    }

    fn sh(&self, args: &[&str]) -> String {
        ok(&mut self.cmd(args))
    }

    /// Starts `sixstack run` in the namespace and waits for its control socket.
    fn start(&mut self, extra: &[&str]) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.work.join("daemon.log"))
            .unwrap();
        let ctl = self.control();
        let pcap = self.work.join("pcap");
        let mut args: Vec<&str> = vec![
            env!("CARGO_BIN_EXE_sixstack"),
            "run",
            "--control",
            ctl.to_str().unwrap(),
            "--pcap",
            pcap.to_str().unwrap(),
            "--log-format",
            "json",
        ];
        args.extend_from_slice(extra);
        let child = self
            .cmd(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start the daemon");
        self.daemon = Some(child);
        let t0 = clock();
        while UnixStream::connect(self.control()).is_err() {
            if let Some(Ok(Some(st))) = self.daemon.as_mut().map(|c| c.try_wait()) {
                panic!("the daemon exited at start ({st}); see its log");
            }
            assert!(t0.elapsed() < Duration::from_secs(20), "no control socket");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM, as an operator stops it; the daemon must exit 0 and remove its socket.
    fn stop(&mut self) {
        let Some(mut child) = self.daemon.take() else {
            return;
        };
        ok(Command::new("kill").args(["-TERM", &child.id().to_string()]));
        let t0 = clock();
        loop {
            if let Some(st) = child.try_wait().unwrap() {
                assert!(st.success(), "the daemon stopped with {st}");
                break;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(10),
                "the daemon ignored SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(
            !self.control().exists(),
            "the control socket file is left behind"
        );
    }

    fn client(&self) -> Client {
        Client::connect(&self.control())
    }

    /// Waits until the kernel's own addresses on `dev` have passed DAD.
    fn kernel_dad_done(&self, dev: &str) {
        let t0 = clock();
        loop {
            let out = self.sh(&["ip", "-6", "-o", "addr", "show", "dev", dev]);
            if out.contains("inet6") && !out.contains("tentative") {
                return;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(15),
                "kernel DAD never finished: {out}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(mut c) = self.daemon.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let t0 = clock();
            while c.try_wait().ok().flatten().is_none() && t0.elapsed() < Duration::from_secs(5) {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
        if std::thread::panicking() {
            let dst = out_dir(&self.test);
            let _ = std::fs::create_dir_all(&dst);
            let _ = std::fs::copy(self.work.join("daemon.log"), dst.join("daemon.log"));
            if let Ok(rd) = std::fs::read_dir(self.work.join("pcap")) {
                for e in rd.flatten() {
                    let _ = std::fs::copy(e.path(), dst.join(e.file_name()));
                }
            }
            eprintln!(
                "{}: daemon log and pcaps kept in {}",
                self.test,
                dst.display()
            );
        }
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).status();
        let _ = std::fs::remove_dir_all(&self.work);
    }
}

// ----- a minimal client of the control protocol -------------------------------------------

struct Client {
    rd: BufReader<UnixStream>,
    wr: UnixStream,
    next: u64,
    events: Vec<EventInfo>,
}

impl Client {
    fn connect(path: &Path) -> Client {
        let s = UnixStream::connect(path).expect("connect to the daemon");
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut c = Client {
            rd: BufReader::new(s.try_clone().unwrap()),
            wr: s,
            next: 1,
            events: Vec::new(),
        };
        c.call(Op::Hello {
            version: sixstack_api::PROTOCOL_VERSION,
            client: "daemon_netns test".into(),
        });
        c
    }

    fn read(&mut self) -> Response {
        let mut line = String::new();
        let n = self.rd.read_line(&mut line).expect("read from the daemon");
        assert!(n > 0, "the daemon closed the connection");
        sixstack_api::decode_line(line.as_bytes()).expect("a response")
    }

    fn try_call(&mut self, op: Op) -> Result<Reply, sixstack_api::ApiError> {
        let id = self.next;
        self.next += 1;
        self.wr
            .write_all(&encode_line(&Request { id, op }))
            .unwrap();
        loop {
            let r = self.read();
            match r.body {
                Body::Event(e) => self.events.push(e),
                _ if r.id == id => return r.into_result(),
                _ => panic!("unexpected answer {r:?}"),
            }
        }
    }

    fn call(&mut self, op: Op) -> Reply {
        let d = format!("{op:?}");
        self.try_call(op).unwrap_or_else(|e| panic!("{d}: {e}"))
    }

    fn addrs(&mut self) -> Vec<sixstack_api::AddrInfo> {
        match self.call(Op::AddrShow { dev: None }) {
            Reply::Addrs { addrs } => addrs,
            r => panic!("{r:?}"),
        }
    }

    /// Waits until an address of `origin` is preferred, and returns it.
    fn preferred(&mut self, origin: AddrOrigin) -> Ipv6Addr {
        let t0 = clock();
        loop {
            if let Some(a) = self
                .addrs()
                .iter()
                .find(|a| a.origin == origin && a.state == AddrState::Preferred)
            {
                return a.address;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(15),
                "no preferred {origin:?} address: {:?}",
                self.addrs()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn wait_event(&mut self, what: &str, pred: impl Fn(&EventInfo) -> bool) -> EventInfo {
        if let Some(i) = self.events.iter().position(&pred) {
            return self.events.remove(i);
        }
        let t0 = clock();
        loop {
            assert!(
                t0.elapsed() < Duration::from_secs(20),
                "no event {what}; saw {:?}",
                self.events
            );
            let r = self.read();
            if let Body::Event(e) = r.body {
                if pred(&e) {
                    return e;
                }
                self.events.push(e);
            }
        }
    }
}

fn ping(lab: &Lab, dst: &str) -> Output {
    run(&mut lab.cmd(&["ping", "-6", "-n", "-c", "3", "-i", "0.3", "-W", "2", dst]))
}

// ----- the tests --------------------------------------------------------------------------

#[test]
fn kernel_pings_our_link_local_and_global_addresses_over_tap() {
    let test = "kernel_pings_our_link_local_and_global_addresses_over_tap";
    if !root_or_skip(test) {
        return;
    }
    let mut lab = Lab::new(test);
    lab.start(&["--tap", "tap0"]);
    // The kernel's side of the device: up, with an address of its own.
    let links = lab.sh(&["ip", "-o", "link", "show", "tap0"]);
    assert!(links.contains("UP"), "{links}");
    lab.sh(&["ip", "-6", "addr", "add", "2001:db8:1::1/64", "dev", "tap0"]);
    let mut c = lab.client();
    let ll = c.preferred(AddrOrigin::LinkLocal);
    assert!(ll.segments()[0] == 0xfe80, "{ll}");
    lab.kernel_dad_done("tap0");
    let o = ping(&lab, &format!("{ll}%tap0"));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "ping {ll}%tap0: {text}");
    assert!(text.contains("3 received"), "{text}");

    // A static global address through the control socket, then the kernel pings it.
    c.call(Op::AddrAdd {
        dev: "tap0".into(),
        address: "2001:db8:1::2".parse().unwrap(),
        prefix_len: 64,
    });
    let g = c.preferred(AddrOrigin::Static);
    assert_eq!(g, "2001:db8:1::2".parse::<Ipv6Addr>().unwrap());
    let o = ping(&lab, "2001:db8:1::2");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success() && text.contains("3 received"), "{text}");
    // The kernel learned our MAC (the stack's own, not the device's).
    let neigh = lab.sh(&["ip", "-6", "neigh", "show", "dev", "tap0"]);
    let Reply::Links { links } = c.call(Op::LinkShow {
        dev: Some("tap0".into()),
    }) else {
        panic!()
    };
    let mac = links[0].mac.clone().unwrap();
    assert!(
        neigh.contains(&mac),
        "kernel neighbors {neigh}, our MAC {mac}"
    );
    // neigh show / flush: the kernel's end is in our cache, then gone.
    let Reply::Neighbors { neighbors } = c.call(Op::NeighShow { dev: None }) else {
        panic!()
    };
    assert!(
        neighbors.iter().any(
            |n| n.address == "2001:db8:1::1".parse::<Ipv6Addr>().unwrap() && n.lladdr.is_some()
        ),
        "{neighbors:?}"
    );
    let Reply::Count { count } = c.call(Op::NeighFlush {
        dev: Some("tap0".into()),
    }) else {
        panic!()
    };
    assert!(count >= 1);
    let Reply::Neighbors { neighbors } = c.call(Op::NeighShow { dev: None }) else {
        panic!()
    };
    assert!(neighbors.is_empty(), "{neighbors:?}");
    let Reply::Stats(s) = c.call(Op::Stats {}) else {
        panic!()
    };
    assert!(
        s.icmp.out_by_type.get("129").copied().unwrap_or(0) >= 6,
        "echo replies sent: {:?}",
        s.icmp.out_by_type
    );
    lab.stop();
    // The device the daemon created went with it.
    let o = run(&mut lab.cmd(&["ip", "link", "show", "tap0"]));
    assert!(!o.status.success(), "tap0 is left behind");
}

#[test]
fn udp_both_ways_between_a_client_socket_and_a_kernel_socket() {
    let test = "udp_both_ways_between_a_client_socket_and_a_kernel_socket";
    if !root_or_skip(test) {
        return;
    }
    let mut lab = Lab::new(test);
    lab.start(&["--tap", "tap0"]);
    lab.sh(&["ip", "-6", "addr", "add", "2001:db8:1::1/64", "dev", "tap0"]);
    let mut c = lab.client();
    c.call(Op::AddrAdd {
        dev: "tap0".into(),
        address: "2001:db8:1::2".parse().unwrap(),
        prefix_len: 64,
    });
    c.preferred(AddrOrigin::Static);
    lab.kernel_dad_done("tap0");
    let Reply::Socket { socket } = c.call(Op::SocketOpen {
        kind: SocketKind::Udp,
    }) else {
        panic!()
    };
    c.call(Op::Bind {
        socket,
        address: Ipv6Addr::UNSPECIFIED,
        port: 7007,
        zone: None,
    });
    // The kernel sends from port 9009 and waits for our answer.
    let py = "import socket,sys\n\
              s=socket.socket(socket.AF_INET6,socket.SOCK_DGRAM)\n\
              s.bind(('2001:db8:1::1',9009))\n\
              s.settimeout(10)\n\
              s.sendto(b'hello from the kernel',('2001:db8:1::2',7007))\n\
              d,a=s.recvfrom(2000)\n\
              print(d.decode(),a[0],a[1])\n";
    let kernel = lab
        .cmd(&["python3", "-c", py])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let r = c.call(Op::Recv {
        socket,
        timeout_ms: Some(10_000),
    });
    let Reply::Datagram(d) = r else {
        panic!("{r:?}")
    };
    assert_eq!(d.data.as_slice(), b"hello from the kernel");
    assert_eq!(d.src, "2001:db8:1::1".parse::<Ipv6Addr>().unwrap());
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
    let o = kernel.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "kernel side: {text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(text.trim(), "hello from sixstack 2001:db8:1::2 7007");
    // A port nobody listens on: the kernel's Port Unreachable reaches the socket.
    c.call(Op::SendTo {
        socket,
        address: Some(d.src),
        port: 9,
        zone: None,
        data: Bytes(b"anyone?".to_vec()),
    });
    let t0 = clock();
    let e = loop {
        let Reply::SocketError { error } = c.call(Op::TakeError { socket }) else {
            panic!()
        };
        if let Some(e) = error {
            break e;
        }
        assert!(t0.elapsed() < Duration::from_secs(5), "no ICMPv6 error");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!((e.icmp_type, e.code, e.dst_port), (1, 4, 9), "{e:?}");
    assert_eq!(e.from, d.src);
}

#[test]
fn carrier_and_a_deleted_device_are_noticed_and_reported() {
    let test = "carrier_and_a_deleted_device_are_noticed_and_reported";
    if !root_or_skip(test) {
        return;
    }
    let mut lab = Lab::new(test);
    lab.start(&["--tap", "tap0"]);
    let mut c = lab.client();
    c.preferred(AddrOrigin::LinkLocal);
    c.call(Op::SubscribeEvents {});
    // The kernel side goes down and up: link down, then up with DAD again.
    lab.sh(&["ip", "link", "set", "tap0", "down"]);
    c.wait_event("link down", |e| e.detail == EventDetail::LinkDown);
    lab.sh(&["ip", "link", "set", "tap0", "up"]);
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
    lab.sh(&["ip", "link", "del", "tap0"]);
    c.wait_event("device gone", |e| e.detail == EventDetail::DeviceGone);
    c.wait_event("interface removed", |e| {
        e.detail == EventDetail::InterfaceRemoved
    });
    let Reply::Links { links } = c.call(Op::LinkShow { dev: None }) else {
        panic!()
    };
    assert!(links.is_empty(), "{links:?}");
    // The device comes back: attached again, addresses formed again.
    lab.sh(&["ip", "tuntap", "add", "tap0", "mode", "tap"]);
    lab.sh(&["ip", "link", "set", "tap0", "up"]);
    c.wait_event("interface added", |e| {
        matches!(e.detail, EventDetail::InterfaceAdded { .. })
    });
    let ll = c.preferred(AddrOrigin::LinkLocal);
    lab.kernel_dad_done("tap0");
    let o = ping(&lab, &format!("{ll}%tap0"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    lab.stop();
    let log = std::fs::read_to_string(lab.work.join("daemon.log")).unwrap();
    assert!(log.contains("device gone"), "{log}");
    // A device the operator made persists after the daemon.
    lab.sh(&["ip", "link", "show", "tap0"]);
}

#[test]
fn static_configuration_survives_a_restart() {
    let test = "static_configuration_survives_a_restart";
    if !root_or_skip(test) {
        return;
    }
    let mut lab = Lab::new(test);
    lab.start(&[]);
    let mut c = lab.client();
    let r = c.call(Op::LinkAdd {
        dev: "tap7".into(),
        mac: Some("02:00:5e:00:53:07".into()),
        mtu: Some(1400),
    });
    let Reply::Links { links } = r else {
        panic!("{r:?}")
    };
    assert_eq!(links[0].mtu, 1400);
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
    });
    drop(c);
    lab.stop();
    // The created device went with the daemon; it comes back with everything on it.
    lab.start(&[]);
    let mut c = lab.client();
    let Reply::Links { links } = c.call(Op::LinkShow { dev: None }) else {
        panic!()
    };
    assert_eq!(links.len(), 1, "{links:?}");
    assert_eq!(links[0].name, "tap7");
    assert_eq!(links[0].mac.as_deref(), Some("02:00:5e:00:53:07"));
    assert_eq!(links[0].mtu, 1400);
    let a = c.preferred(AddrOrigin::Static);
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
    lab.stop();
    lab.start(&[]);
    let mut c = lab.client();
    let Reply::Links { links } = c.call(Op::LinkShow { dev: None }) else {
        panic!()
    };
    assert!(links.is_empty(), "{links:?}");
}

#[test]
fn raw_icmpv6_socket_pings_the_kernel() {
    let test = "raw_icmpv6_socket_pings_the_kernel";
    if !root_or_skip(test) {
        return;
    }
    let mut lab = Lab::new(test);
    lab.start(&["--tap", "tap0"]);
    lab.sh(&["ip", "-6", "addr", "add", "2001:db8:1::1/64", "dev", "tap0"]);
    let mut c = lab.client();
    c.call(Op::AddrAdd {
        dev: "tap0".into(),
        address: "2001:db8:1::2".parse().unwrap(),
        prefix_len: 64,
    });
    c.preferred(AddrOrigin::Static);
    lab.kernel_dad_done("tap0");
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
        address: "2001:db8:1::1".parse().unwrap(),
        zone: None,
    }) else {
        panic!()
    };
    assert_eq!(
        (address, dev.as_str()),
        ("2001:db8:1::2".parse().unwrap(), "tap0")
    );
    // Echo Request (RFC 4443 §4.1): type 128, code 0, checksum (the stack's), id, seq.
    let echo = vec![128, 0, 0, 0, 0x12, 0x34, 0, 1, b'p', b'i', b'n', b'g'];
    c.call(Op::SendTo {
        socket,
        address: Some("2001:db8:1::1".parse().unwrap()),
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
    assert_eq!(p.src, "2001:db8:1::1".parse::<Ipv6Addr>().unwrap());
    let upper = p.upper();
    assert_eq!(upper[0], 129, "an echo reply: {upper:?}");
    assert_eq!(&upper[4..], &[0x12, 0x34, 0, 1, b'p', b'i', b'n', b'g']);
    assert_eq!(p.hop_limit, 64);
    let Reply::Mtu { mtu } = c.call(Op::PathMtu {
        address: "2001:db8:1::1".parse().unwrap(),
        zone: None,
    }) else {
        panic!()
    };
    assert_eq!(mtu, 1500);
}

#[test]
fn udplite_both_ways_with_partial_coverage() {
    let test = "udplite_both_ways_with_partial_coverage";
    if !root_or_skip(test) {
        return;
    }
    let mut lab = Lab::new(test);
    lab.start(&["--tap", "tap0"]);
    lab.sh(&["ip", "-6", "addr", "add", "2001:db8:1::1/64", "dev", "tap0"]);
    let mut c = lab.client();
    c.call(Op::AddrAdd {
        dev: "tap0".into(),
        address: "2001:db8:1::2".parse().unwrap(),
        prefix_len: 64,
    });
    c.preferred(AddrOrigin::Static);
    lab.kernel_dad_done("tap0");
    let Reply::Socket { socket } = c.call(Op::SocketOpen {
        kind: SocketKind::Udplite,
    }) else {
        panic!()
    };
    c.call(Op::Bind {
        socket,
        address: Ipv6Addr::UNSPECIFIED,
        port: 7008,
        zone: None,
    });
    c.call(Op::SetOption {
        socket,
        option: sixstack_api::SocketOption::UdpliteSendCoverage(16),
    });
    // The kernel covers 12 bytes (header and 4 of data) and accepts only 16 or more.
    let py = "import socket\n\
              s=socket.socket(socket.AF_INET6,socket.SOCK_DGRAM,136)\n\
              s.setsockopt(136,10,12)\n\
              s.setsockopt(136,11,16)\n\
              s.bind(('2001:db8:1::1',9010))\n\
              s.settimeout(10)\n\
              s.sendto(b'lite from the kernel',('2001:db8:1::2',7008))\n\
              d,a=s.recvfrom(2000)\n\
              print(d.decode())\n";
    let kernel = lab
        .cmd(&["python3", "-c", py])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let r = c.call(Op::Recv {
        socket,
        timeout_ms: Some(10_000),
    });
    let Reply::Datagram(d) = r else {
        panic!("{r:?}")
    };
    assert_eq!(d.data.as_slice(), b"lite from the kernel");
    assert_eq!(d.coverage, 12);
    c.call(Op::SendTo {
        socket,
        address: Some(d.src),
        port: d.src_port,
        zone: None,
        data: Bytes(b"lite from sixstack".to_vec()),
    });
    let o = kernel.wait_with_output().unwrap();
    assert!(
        o.status.success(),
        "kernel side: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "lite from sixstack"
    );
}

#[test]
fn router_advertisements_from_the_config_file_configure_the_kernel() {
    let test = "router_advertisements_from_the_config_file_configure_the_kernel";
    if !root_or_skip(test) {
        return;
    }
    let mut lab = Lab::new(test);
    let cfg = lab.work.join("sixstack.toml");
    std::fs::write(
        &cfg,
        "forwarding = true\n\
         [[interface]]\nname = \"tap0\"\naddresses = [\"2001:db8:5::1/64\"]\n\
         [interface.advertise]\nmax_interval = 4\nmin_interval = 3\n\
         [[interface.advertise.prefix]]\nprefix = \"2001:db8:5::/64\"\n",
    )
    .unwrap();
    lab.start(&["--config", cfg.to_str().unwrap()]);
    let mut c = lab.client();
    let ll = c.preferred(AddrOrigin::LinkLocal);
    let t0 = clock();
    loop {
        let addrs = lab.sh(&["ip", "-6", "-o", "addr", "show", "dev", "tap0"]);
        let routes = lab.sh(&["ip", "-6", "route", "show", "default"]);
        if addrs.contains("2001:db8:5:") && routes.contains(&format!("via {ll}")) {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "the kernel did not take our RA: {addrs} / {routes}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let Reply::Links { links } = c.call(Op::LinkShow { dev: None }) else {
        panic!()
    };
    assert!(links[0].router);
    lab.stop();
    // --log-format json: every line is a JSON object with a level and a message.
    let log = std::fs::read_to_string(lab.work.join("daemon.log")).unwrap();
    for line in log.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(v["level"].is_string() && v["message"].is_string(), "{line}");
    }
    assert!(log.contains("\"kind\":\"address\""), "{log}");
}
