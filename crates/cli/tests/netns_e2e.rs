//! End to end through the real daemon, against the Linux kernel, in a network namespace
//! made here (unique name, removed on exit and on failure) with documentation addresses
//! only. Needs root: without it the test says why and passes, unless
//! SIXSTACK_REQUIRE_ROOT_TESTS=1 (CI), where it fails. On failure the tap's capture and
//! the daemon's log are left in `test-output/<test>/`.

use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread::sleep;
use std::time::Duration;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_sixstack");
const KERNEL_GLOBAL: &str = "2001:db8:5::1";
const OUR_GLOBAL: &str = "2001:db8:5::2";

/// Whether the test can run; panics when it must and cannot.
fn may_run(test: &str) -> bool {
    let required = std::env::var("SIXSTACK_REQUIRE_ROOT_TESTS").as_deref() == Ok("1");
    let why = if !is_root() {
        Some("not root (network namespaces and TAP devices need it)".to_string())
    } else {
        ["ip", "tcpdump", "ping"]
            .into_iter()
            .find(|t| {
                Command::new("sh")
                    .args(["-c", &format!("command -v {t}")])
                    .output()
                    .map(|o| !o.status.success())
                    .unwrap_or(true)
            })
            .map(|t| format!("`{t}` is not installed"))
    };
    match why {
        None => true,
        Some(why) if required => panic!("{test}: SIXSTACK_REQUIRE_ROOT_TESTS=1 but {why}"),
        Some(why) => {
            eprintln!("{test}: SKIPPED: {why}; set SIXSTACK_REQUIRE_ROOT_TESTS=1 to fail instead");
            false
        }
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A namespace with the daemon on tap0 and tcpdump on the tap; all undone on drop, and
/// the evidence kept when the test is failing.
struct Lab {
    test: String,
    ns: String,
    dir: PathBuf,
    daemon: Option<Child>,
    tcpdump: Option<Child>,
}

impl Lab {
    fn start(test: &str) -> Lab {
        let nanos = std::time::SystemTime::UNIX_EPOCH
            .elapsed()
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let ns = format!("sxc-{}-{:x}", std::process::id(), nanos);
        let dir = std::env::temp_dir().join(&ns);
        std::fs::create_dir_all(&dir).unwrap();
        let mut lab = Lab {
            test: test.to_string(),
            ns: ns.clone(),
            dir,
            daemon: None,
            tcpdump: None,
        };
        run_ok(Command::new("ip").args(["netns", "add", &ns]));
        lab.ns_ok(&["ip", "link", "set", "lo", "up"]);
        let log = std::fs::File::create(lab.dir.join("daemon.log")).unwrap();
        let daemon = Command::new("ip")
            .args([
                "netns",
                "exec",
                &ns,
                BIN,
                "run",
                "--tap",
                "tap0",
                "--control",
            ])
            .arg(lab.control())
            .arg("--state")
            .arg(lab.dir.join("state.json"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start the daemon");
        lab.daemon = Some(daemon);
        lab.wait_for("the control socket", || lab.control().exists());
        lab.wait_for("tap0 in the namespace", || {
            lab.ns(&["ip", "link", "show", "tap0"]).status.success()
        });
        let tcpdump = Command::new("ip")
            .args([
                "netns", "exec", &ns, "tcpdump", "-n", "-U", "-i", "tap0", "-w",
            ])
            .arg(lab.dir.join("tap0.pcap"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tcpdump");
        lab.tcpdump = Some(tcpdump);
        // tcpdump needs a moment to attach before the interesting packets.
        sleep(Duration::from_millis(500));
        lab
    }

    fn control(&self) -> PathBuf {
        self.dir.join("ctl.sock")
    }

    fn ns(&self, args: &[&str]) -> Output {
        Command::new("ip")
            .args(["netns", "exec", &self.ns])
            .args(args)
            .output()
            .expect("run in the namespace")
    }

    fn ns_ok(&self, args: &[&str]) -> String {
        let o = self.ns(args);
        assert!(
            o.status.success(),
            "{args:?} failed: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// `sixstack ARGS` in the namespace, talking to this lab's daemon.
    fn sixstack(&self, args: &[&str]) -> Output {
        Command::new("ip")
            .args(["netns", "exec", &self.ns, BIN])
            .args(args)
            .env("SIXSTACK_CONTROL", self.control())
            .output()
            .expect("run sixstack")
    }

    fn wait_for(&self, what: &str, mut ok: impl FnMut() -> bool) {
        for _ in 0..100 {
            if ok() {
                return;
            }
            sleep(Duration::from_millis(100));
        }
        panic!("{}: timed out waiting for {what}", self.test);
    }

    fn addrs(&self) -> Vec<Value> {
        let o = self.sixstack(&["addr", "show", "--json"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice::<Value>(&o.stdout)
            .expect("addr show --json is JSON")
            .as_array()
            .cloned()
            .expect("an array")
    }

    /// The kernel's usable link-local address on tap0 (after its DAD).
    fn kernel_link_local(&self) -> Ipv6Addr {
        let mut found = None;
        self.wait_for("the kernel's link-local address", || {
            let out = self.ns_ok(&[
                "ip", "-6", "-j", "addr", "show", "dev", "tap0", "scope", "link",
            ]);
            let v: Value = serde_json::from_str(&out).unwrap_or(Value::Null);
            found = v[0]["addr_info"].as_array().and_then(|a| {
                a.iter()
                    .find(|i| i["tentative"].is_null())
                    .and_then(|i| i["local"].as_str()?.parse().ok())
            });
            found.is_some()
        });
        found.unwrap()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for c in [self.daemon.take(), self.tcpdump.take()]
            .into_iter()
            .flatten()
        {
            stop(c);
        }
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).status();
        if std::thread::panicking() {
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2);
            let out = root
                .unwrap_or(Path::new("."))
                .join("test-output")
                .join(&self.test);
            let _ = std::fs::create_dir_all(&out);
            for f in ["tap0.pcap", "daemon.log", "state.json"] {
                let _ = std::fs::copy(self.dir.join(f), out.join(f));
            }
            eprintln!("{}: capture and daemon log in {}", self.test, out.display());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// SIGTERM (a clean stop, the pcap flushed), then SIGKILL if it lingers.
fn stop(mut c: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &c.id().to_string()])
        .status();
    for _ in 0..50 {
        if let Ok(Some(_)) = c.try_wait() {
            return;
        }
        sleep(Duration::from_millis(100));
    }
    let _ = c.kill();
    let _ = c.wait();
}

fn run_ok(c: &mut Command) {
    let o = c.output().expect("run");
    assert!(
        o.status.success(),
        "{c:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn daemon_on_a_tap_pings_the_kernel_and_answers_it() {
    let test = "daemon_on_a_tap_pings_the_kernel_and_answers_it";
    if !may_run(test) {
        return;
    }
    let lab = Lab::start(test);

    // `addr show --json` lists our link-local address, preferred once DAD is done.
    let mut ours_ll: Option<Ipv6Addr> = None;
    lab.wait_for("our link-local address to be preferred", || {
        ours_ll = lab.addrs().iter().find_map(|a| {
            (a["interface"] == "tap0" && a["origin"] == "link-local" && a["state"] == "preferred")
                .then(|| a["address"].as_str()?.parse().ok())
                .flatten()
        });
        ours_ll.is_some()
    });
    let ours_ll = ours_ll.unwrap();
    assert_eq!(ours_ll.segments()[0], 0xfe80);
    let ll = lab
        .addrs()
        .into_iter()
        .find(|a| a["origin"] == "link-local")
        .unwrap();
    assert_eq!(ll["prefix_len"], 64);
    assert_eq!(ll["scope"], "link");
    assert!(ll["valid_lifetime"].is_null() && ll["preferred_lifetime"].is_null());

    // Our ping6 to the kernel's link-local address on the tap.
    let kernel_ll = lab.kernel_link_local();
    let dst = format!("{kernel_ll}%tap0");
    let o = lab.sixstack(&["ping6", "-c", "3", "-i", "0.2", &dst]);
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
    let o = lab.ns(&[
        "ping",
        "-6",
        "-c",
        "2",
        "-i",
        "0.2",
        "-W",
        "2",
        &format!("{ours_ll}%tap0"),
    ]);
    assert!(o.status.success(), "kernel ping: {}", text(&o));

    // Global addresses on both sides: ours through `addr add`, then pings both ways.
    lab.ns_ok(&[
        "ip",
        "-6",
        "addr",
        "add",
        &format!("{KERNEL_GLOBAL}/64"),
        "dev",
        "tap0",
        "nodad",
    ]);
    let o = lab.sixstack(&["addr", "add", &format!("{OUR_GLOBAL}/64"), "dev", "tap0"]);
    assert!(o.status.success(), "addr add: {}", text(&o));
    lab.wait_for("our global address to be preferred", || {
        lab.addrs().iter().any(|a| {
            a["address"] == OUR_GLOBAL && a["state"] == "preferred" && a["origin"] == "static"
        })
    });
    let o = lab.sixstack(&["ping6", "-c", "2", "-i", "0.2", "--json", KERNEL_GLOBAL]);
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
    let o = lab.ns(&["ping", "-6", "-c", "2", "-i", "0.2", "-W", "2", OUR_GLOBAL]);
    assert!(o.status.success(), "kernel ping: {}", text(&o));

    // 8000-byte pings, fragmented both ways (the neighbor is resolved by now).
    let o = lab.sixstack(&["ping6", "-c", "2", "-i", "0.2", "-s", "8000", KERNEL_GLOBAL]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("2 received"),
        "{}",
        text(&o)
    );
    let o = lab.ns(&[
        "ping", "-6", "-c", "2", "-i", "0.2", "-W", "2", "-s", "8000", OUR_GLOBAL,
    ]);
    assert!(o.status.success(), "kernel 8000-byte ping: {}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("8008 bytes from"));

    // tracert6 to the kernel: one hop, reached, in ICMP and UDP.
    for method in ["-I", "-U"] {
        let o = lab.sixstack(&["tracert6", method, "-q", "1", "-w", "2", KERNEL_GLOBAL]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains(&format!("\n 1  {KERNEL_GLOBAL}  ")), "{out}");
        assert!(out.contains("Resume: pmtu 1500 hops 1 back 1"), "{out}");
    }

    // No reply: a documentation address nobody holds, exit status 1.
    let o = lab.sixstack(&["ping6", "-c", "1", "-W", "1", "2001:db8:5::dead"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("1 packets transmitted, 0 received"),
        "{}",
        text(&o)
    );
}

/// Our global address and the kernel's, both usable.
fn globals(lab: &Lab) {
    lab.ns_ok(&[
        "ip",
        "-6",
        "addr",
        "add",
        &format!("{KERNEL_GLOBAL}/64"),
        "dev",
        "tap0",
        "nodad",
    ]);
    let o = lab.sixstack(&["addr", "add", &format!("{OUR_GLOBAL}/64"), "dev", "tap0"]);
    assert!(o.status.success(), "addr add: {}", text(&o));
    lab.wait_for("our global address to be preferred", || {
        lab.addrs()
            .iter()
            .any(|a| a["address"] == OUR_GLOBAL && a["state"] == "preferred")
    });
}

#[test]
fn control_commands_and_a_client_udp_socket_against_the_kernel() {
    let test = "control_commands_and_a_client_udp_socket_against_the_kernel";
    if !may_run(test) {
        return;
    }
    let lab = Lab::start(test);

    // A live event stream sees the address we add.
    let events = Command::new("ip")
        .args(["netns", "exec", &lab.ns, BIN, "events", "--json"])
        .env("SIXSTACK_CONTROL", lab.control())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("sixstack events");
    sleep(Duration::from_millis(300));
    globals(&lab);

    // link show --json: tap0, up, a TAP device.
    let o = lab.sixstack(&["link", "show", "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let links: Value = serde_json::from_slice(&o.stdout).unwrap();
    let tap0 = links
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "tap0")
        .expect("tap0 listed");
    assert_eq!(
        (tap0["up"].clone(), tap0["tap"].clone()),
        (Value::Bool(true), Value::Bool(true))
    );

    // route add / show / del in iproute2's words.
    let o = lab.sixstack(&[
        "route",
        "add",
        "2001:db8:9::/48",
        "via",
        KERNEL_GLOBAL,
        "dev",
        "tap0",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let o = lab.sixstack(&["route", "show"]);
    let routes = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        routes.contains(&format!(
            "2001:db8:9::/48 via {KERNEL_GLOBAL} dev tap0 proto static"
        )),
        "{routes}"
    );
    let o = lab.sixstack(&["route", "del", "2001:db8:9::/48"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = lab.sixstack(&["route", "del", "2001:db8:9::/48"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "a second del finds nothing: {}",
        text(&o)
    );
    assert!(!String::from_utf8_lossy(&o.stderr).is_empty());

    // A client UdpSocket of this process (the daemon's socket is a file: no namespace
    // needed) and a kernel UDP socket in the namespace that echoes one datagram.
    let echo = Command::new("ip")
        .args(["netns", "exec", &lab.ns, "/usr/bin/python3", "-c"])
        .arg(
            "import socket\n\
             s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)\n\
             s.bind(('::', 7007))\n\
             s.settimeout(10)\n\
             d, a = s.recvfrom(2000)\n\
             s.sendto(d.upper(), a)\n\
             print(a[0], a[1])\n",
        )
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 echo");
    sleep(Duration::from_millis(500));
    let s = sixstack_client::UdpSocket::bind_at(&lab.control(), false, "[::]:0").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let to: sixstack_client::SocketAddr = format!("[{KERNEL_GLOBAL}]:7007").parse().unwrap();
    assert_eq!(s.send_to(b"hello kernel", to).unwrap(), 12);
    let mut buf = [0u8; 64];
    let (n, from) = s.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"HELLO KERNEL");
    assert_eq!(from, to);
    let local = s.local_addr().unwrap();
    let said = echo.wait_with_output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&said.stdout).trim(),
        format!("{OUR_GLOBAL} {}", local.port)
    );
    drop(s);

    // neigh show has the kernel's address now; stats count our UDP.
    let o = lab.sixstack(&["neigh", "show", "dev", "tap0"]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(&format!("{KERNEL_GLOBAL} dev tap0 lladdr ")),
        "{}",
        text(&o)
    );
    let o = lab.sixstack(&["stats", "--json"]);
    let stats: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        stats["udp"]["out_datagrams"].as_u64().unwrap() >= 1,
        "{stats}"
    );
    assert!(
        stats["udp"]["in_datagrams"].as_u64().unwrap() >= 1,
        "{stats}"
    );

    let _ = Command::new("kill")
        .args(["-TERM", &events.id().to_string()])
        .status();
    let seen = String::from_utf8_lossy(&events.wait_with_output().unwrap().stdout).into_owned();
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
