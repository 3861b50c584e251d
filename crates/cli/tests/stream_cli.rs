//! `sixstack ttcp` and `sixstack socks` against real peers over the host's loopback (`--net
//! kernel` for the outbound side, so no root and no daemon): `nc`, `curl`, Python's
//! `http.server` and a Python UDP echo, headless Chromium, and ttcp itself. Data is
//! checked end to end with SHA-256 (`sha256sum`).
//!
//! A peer that is not installed skips its test, unless SIXSTACK_REQUIRE_ROOT_TESTS=1
//! (CI, scripts/test as root): then the test fails and names the Debian package.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_sixstack");

/// Wall-clock deadlines for waiting on real processes.
#[allow(clippy::disallowed_methods)]
fn now() -> Instant {
    Instant::now()
}

/// Whether `tool` runs here; when it does not and the tests must all run, fails naming
/// `package`.
fn have(tool: &str, package: &str) -> bool {
    let ok = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        if std::env::var("SIXSTACK_REQUIRE_ROOT_TESTS").as_deref() == Ok("1") {
            panic!("{tool} is missing: install the Debian package {package} (scripts/test does)");
        }
        eprintln!("skipped: {tool} is missing (Debian package {package})");
    }
    ok
}

/// A child killed (by its pid) when the test ends, however it ends.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A fresh directory for one test's files.
fn workdir(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sixstack-stream-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `len` bytes that compress badly (xorshift), so nothing along the way can cheat.
fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn sha256(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    assert!(out.status.success(), "sha256sum {}", path.display());
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

fn assert_same(a: &Path, b: &Path) {
    let (ha, hb) = (sha256(a), sha256(b));
    let len = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    assert_eq!(
        ha,
        hb,
        "{} ({} bytes) and {} ({} bytes) differ",
        a.display(),
        len(a),
        b.display(),
        len(b)
    );
}

fn free_port() -> u16 {
    TcpListener::bind("[::1]:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Lines of a child's standard error, as they come.
fn lines_of(e: ChildStderr) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(e).lines() {
            let Ok(l) = l else { break };
            eprintln!("  | {l}");
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    rx
}

/// The next line containing `what`, within 20 s.
fn wait_line(rx: &mpsc::Receiver<String>, what: &str) -> String {
    let end = now() + Duration::from_secs(20);
    loop {
        let left = end.saturating_duration_since(now());
        match rx.recv_timeout(left) {
            Ok(l) if l.contains(what) => return l,
            Ok(_) => {}
            Err(_) => panic!("no line with {what:?} within 20 s"),
        }
    }
}

fn wait_port(at: SocketAddr) {
    let end = now() + Duration::from_secs(20);
    while TcpStream::connect_timeout(&at, Duration::from_millis(200)).is_err() {
        assert!(now() < end, "nothing listens on {at}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

// ----- socks ----------------------------------------------------------------------------

/// `sixstack socks --net kernel` on an ephemeral port of ::1; its address and its log.
fn socks() -> (Proc, SocketAddr, mpsc::Receiver<String>) {
    let mut c = Command::new(BIN)
        .args(["socks", "--net", "kernel", "--listen", "[::1]:0", "--json"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rx = lines_of(c.stderr.take().unwrap());
    let p = Proc(c);
    let l = wait_line(&rx, "listening");
    let v: serde_json::Value = serde_json::from_str(&l).unwrap();
    let at: SocketAddr = v["listening"][0].as_str().unwrap().parse().unwrap();
    (p, at, rx)
}

/// `python3 -m http.server` serving `dir` on `bind`; its port.
fn http_server(dir: &Path, bind: &str) -> (Proc, u16) {
    let port = free_port();
    let c = Command::new("python3")
        .args(["-m", "http.server", "--bind", bind, &port.to_string()])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let p = Proc(c);
    wait_port(SocketAddr::new("::1".parse().unwrap(), port));
    (p, port)
}

#[test]
fn socks_curl_socks5_hostname_fetches_a_file_by_name() {
    if !have("curl", "curl") || !have("python3", "python3") {
        return;
    }
    let dir = workdir("socks_curl_hostname");
    let site = dir.join("site");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(site.join("file"), data(3 << 20, 1)).unwrap();
    // `::` is dual-stack: `localhost` is 127.0.0.1, ::1 or both, depending on /etc/hosts.
    let (_http, hport) = http_server(&site, "::");
    let (_proxy, at, log) = socks();
    let out = dir.join("got");
    let st = Command::new("curl")
        .args(["-sS", "--fail", "--max-time", "60", "--socks5-hostname"])
        .arg(at.to_string())
        .arg(format!("http://localhost:{hport}/file"))
        .arg("-o")
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success(), "curl: {st}");
    assert_same(&site.join("file"), &out);
    let l = wait_line(&log, "\"command\":\"connect\"");
    let v: serde_json::Value = serde_json::from_str(&l).unwrap();
    assert_eq!(v["target"], format!("localhost:{hport}"));
    assert_eq!(v["reply"], "succeeded");
    assert!(v["bytes_down"].as_u64().unwrap() > 3 << 20, "{l}");
}

#[test]
fn socks_curl_socks5_ipv6_literal() {
    if !have("curl", "curl") || !have("python3", "python3") {
        return;
    }
    let dir = workdir("socks_curl_literal");
    let site = dir.join("site");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(site.join("file"), data(1 << 20, 2)).unwrap();
    let (_http, hport) = http_server(&site, "::1");
    let (_proxy, at, log) = socks();
    let out = dir.join("got");
    let st = Command::new("curl")
        .args(["-sS", "--fail", "--max-time", "60", "--socks5"])
        .arg(at.to_string())
        .arg(format!("http://[::1]:{hport}/file"))
        .arg("-o")
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success(), "curl: {st}");
    assert_same(&site.join("file"), &out);
    let l = wait_line(&log, "\"command\":\"connect\"");
    assert!(l.contains(&format!("\"address\":\"[::1]:{hport}\"")), "{l}");
    // A closed port: curl reports the proxy's refusal (0x05).
    let closed = free_port();
    let o = Command::new("curl")
        .args(["-sS", "--max-time", "20", "--socks5"])
        .arg(at.to_string())
        .arg(format!("http://[::1]:{closed}/"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    let l = wait_line(&log, &format!("[::1]:{closed}"));
    assert!(l.contains("\"code\":5"), "{l}");
}

/// A Python UDP echo on ::1; its port.
fn udp_echo() -> (Proc, u16) {
    let script = "import socket,sys\n\
s=socket.socket(socket.AF_INET6,socket.SOCK_DGRAM)\n\
s.bind(('::1',0))\n\
print(s.getsockname()[1],flush=True)\n\
while True:\n    d,a=s.recvfrom(65535)\n    s.sendto(d,a)\n";
    let mut c = Command::new("python3")
        .args(["-c", script])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(c.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (Proc(c), line.trim().parse().unwrap())
}

#[test]
fn socks_udp_associate_round_trip_to_a_python_echo() {
    if !have("python3", "python3") {
        return;
    }
    let (_echo, eport) = udp_echo();
    let (_proxy, at, log) = socks();
    let mut ctrl = TcpStream::connect(at).unwrap();
    ctrl.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    ctrl.write_all(&[5, 1, 0]).unwrap();
    let mut m = [0u8; 2];
    ctrl.read_exact(&mut m).unwrap();
    assert_eq!(m, [5, 0]);
    // UDP ASSOCIATE, the client's address not known yet ([::]:0).
    let mut req = vec![5, 3, 0, 4];
    req.extend_from_slice(&[0; 18]);
    ctrl.write_all(&req).unwrap();
    let mut rep = [0u8; 22];
    ctrl.read_exact(&mut rep).unwrap();
    assert_eq!(&rep[..4], [5, 0, 0, 4], "reply {rep:?}");
    let ip: [u8; 16] = rep[4..20].try_into().unwrap();
    let relay = SocketAddr::new(
        std::net::Ipv6Addr::from(ip).into(),
        u16::from_be_bytes([rep[20], rep[21]]),
    );
    let me = UdpSocket::bind("[::1]:0").unwrap();
    me.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut total = 0;
    for i in 0..20usize {
        let payload = data(100 + i * 50, i as u64 + 10);
        let mut d = vec![0, 0, 0, 4];
        d.extend_from_slice(&std::net::Ipv6Addr::LOCALHOST.octets());
        d.extend_from_slice(&eport.to_be_bytes());
        d.extend_from_slice(&payload);
        me.send_to(&d, relay).unwrap();
        let mut b = vec![0u8; 4096];
        let (n, from) = me.recv_from(&mut b).unwrap();
        assert_eq!(from, relay);
        assert_eq!(&b[..22], &d[..22], "the header names the echo");
        assert!(b[22..n] == payload[..], "datagram {i}");
        total += payload.len();
    }
    drop(ctrl);
    let l = wait_line(&log, "udp-associate");
    let v: serde_json::Value = serde_json::from_str(&l).unwrap();
    assert_eq!(v["bytes_up"].as_u64(), Some(total as u64), "{l}");
    assert_eq!(v["bytes_down"].as_u64(), Some(total as u64), "{l}");
}

#[test]
fn socks_headless_chromium_loads_a_page() {
    if !have("chromium", "chromium") || !have("python3", "python3") {
        return;
    }
    let dir = workdir("socks_chromium");
    let site = dir.join("site");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(
        site.join("index.html"),
        "<html><body><p id=m>carried by the sixstack proxy</p></body></html>",
    )
    .unwrap();
    let (_http, hport) = http_server(&site, "::");
    let (_proxy, at, log) = socks();
    let out = Command::new("timeout")
        .args([
            "90",
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            // No connections of Chromium's own (updates, sync, QUIC) on a closed network.
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg(format!("--proxy-server=socks5://{at}"))
        // Chromium sends loopback directly unless told not to.
        .arg("--proxy-bypass-list=<-loopback>")
        .arg("--dump-dom")
        .arg(format!("http://localhost:{hport}/"))
        .stderr(Stdio::null())
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.contains("carried by the sixstack proxy"),
        "chromium printed: {dom}"
    );
    let l = wait_line(&log, &format!("localhost:{hport}"));
    assert!(l.contains("\"reply\":\"succeeded\""), "{l}");
}

// ----- ttcp -----------------------------------------------------------------------------

fn ttcp(args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.arg("ttcp").args(["--net", "kernel"]).args(args);
    c
}

/// A ttcp receiver on ::1 writing to `out`; ready when it returns.
fn ttcp_receiver(port: u16, extra: &[&str], out: &Path) -> (Proc, mpsc::Receiver<String>) {
    let p = port.to_string();
    let mut args = vec!["-r", "-p", &p, "--bind", "::1"];
    args.extend_from_slice(extra);
    let mut c = ttcp(&args)
        .stdout(std::fs::File::create(out).unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rx = lines_of(c.stderr.take().unwrap());
    wait_line(&rx, "ttcp-r: buflen=");
    (Proc(c), rx)
}

fn finish(mut p: Proc) -> std::process::ExitStatus {
    let end = now() + Duration::from_secs(60);
    loop {
        if let Some(s) = p.0.try_wait().unwrap() {
            return s;
        }
        assert!(now() < end, "still running after 60 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn ttcp_transmits_stdin_to_nc() {
    if !have("nc", "netcat-openbsd") {
        return;
    }
    let dir = workdir("ttcp_to_nc");
    let input = dir.join("in");
    std::fs::write(&input, data(4 << 20, 3)).unwrap();
    let out = dir.join("out");
    let port = free_port();
    let nc = Proc(
        Command::new("nc")
            .args(["-6", "-l", "-s", "::1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).unwrap())
            .spawn()
            .unwrap(),
    );
    // nc listens when a connect succeeds; ttcp's own connect would use up nc's only one.
    let end = now() + Duration::from_secs(20);
    let o = loop {
        let o = ttcp(&["-t", "-p", &port.to_string(), "::1"])
            .stdin(std::fs::File::open(&input).unwrap())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        if o.status.success() || !err.contains("refused") || now() > end {
            break o;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("ttcp-t: 4194304 bytes in "), "{err}");
    assert!(err.contains("ttcp-t: 512 I/O calls"), "{err}");
    finish(nc);
    assert_same(&input, &out);
}

#[test]
fn nc_sends_to_ttcp_receive() {
    if !have("nc", "netcat-openbsd") {
        return;
    }
    let dir = workdir("nc_to_ttcp");
    let input = dir.join("in");
    std::fs::write(&input, data(4 << 20, 4)).unwrap();
    let out = dir.join("out");
    let port = free_port();
    let (r, log) = ttcp_receiver(port, &["--json"], &out);
    let st = Command::new("nc")
        .args(["-N", "::1", &port.to_string()])
        .stdin(std::fs::File::open(&input).unwrap())
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let l = wait_line(&log, "{\"");
    assert!(finish(r).success());
    let v: serde_json::Value = serde_json::from_str(&l).unwrap();
    assert_eq!(v["bytes"], 4 << 20);
    assert_eq!(v["side"], "ttcp-r");
    assert!(v["calls"].as_u64().unwrap() >= 512, "{l}");
    assert_same(&input, &out);
}

/// ttcp to ttcp: stdin to stdout (10 MB), SHA-256 checked, and -s; `extra` for both.
/// `tries` > 1 for UDP: a datagram lost on a busy machine is UDP's nature, not a fault.
fn ttcp_pair(name: &str, extra: &[&str], tx_extra: &[&str], tries: u32) {
    let dir = workdir(name);
    let input = dir.join("in");
    std::fs::write(&input, data(10 << 20, 5)).unwrap();
    let out = dir.join("out");
    let port = free_port().to_string();
    for attempt in 1..=tries {
        let (r, rlog) = ttcp_receiver(port.parse().unwrap(), extra, &out);
        let mut args = vec!["-t", "-p", &port];
        args.extend_from_slice(extra);
        args.extend_from_slice(tx_extra);
        args.push("::1");
        let o = ttcp(&args)
            .stdin(std::fs::File::open(&input).unwrap())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{err}");
        assert!(err.contains("ttcp-t: 10485760 bytes in "), "{err}");
        let l = wait_line(&rlog, "real seconds");
        assert!(finish(r).success());
        if attempt < tries && !l.starts_with("ttcp-r: 10485760 bytes in ") {
            eprintln!("attempt {attempt}: datagrams lost ({l}); again");
            continue;
        }
        assert!(l.starts_with("ttcp-r: 10485760 bytes in "), "{l}");
        assert_same(&input, &out);
        break;
    }
    // -s: 2048 buffers of a pattern, discarded.
    let sink = dir.join("sink");
    let (r, rlog) = ttcp_receiver(port.parse().unwrap(), &[extra, &["-s"]].concat(), &sink);
    let mut args = vec!["-t", "-s", "-n", "2048", "-l", "4096", "-p", &port];
    args.extend_from_slice(extra);
    args.extend_from_slice(tx_extra);
    args.push("::1");
    let o = ttcp(&args).stdin(Stdio::null()).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("ttcp-t: 8388608 bytes in "), "{err}");
    assert!(err.contains("ttcp-t: 2048 I/O calls"), "{err}");
    let l = wait_line(&rlog, "real seconds");
    if tries > 1 {
        // UDP: all of it, or most of it with a datagram or two lost.
        let got: u64 = l
            .strip_prefix("ttcp-r: ")
            .and_then(|r| r.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        assert!(
            got > 8388608 / 2 && got <= 8388608 && got.is_multiple_of(4096),
            "{l}"
        );
    } else {
        assert!(l.starts_with("ttcp-r: 8388608 bytes in "), "{l}");
    }
    assert!(finish(r).success());
    assert_eq!(std::fs::metadata(&sink).unwrap().len(), 0);
}

#[test]
fn ttcp_to_ttcp_tcp() {
    ttcp_pair("ttcp_tcp", &["-D"], &[], 1);
}

#[test]
fn ttcp_to_ttcp_udp() {
    // Paced: UDP has no flow control, and a receiver writing a file may fall behind.
    ttcp_pair("ttcp_udp", &["-u"], &["--rate", "50M"], 3);
}

#[test]
fn ttcp_usage_errors_say_what_to_do() {
    let o = ttcp(&["-r", "::1"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--bind"));
    let o = ttcp(&["-t"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let o = ttcp(&["-t", "-l", "70000", "-u", "::1"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("at most 65503"));
    let o = Command::new(BIN)
        .args(["ttcp", "-t", "-p", "1", "::1"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1));
    // Without a daemon the error says how to start one; with one, the port refuses.
    assert!(e.contains("sixstack run") || e.contains("refused"), "{e}");
    // Called `ttcp`, the binary is ttcp.
    let link = workdir("ttcp_usage").join("ttcp");
    std::os::unix::fs::symlink(BIN, &link).unwrap();
    let o = Command::new(&link)
        .args(["-r", "-u", "-l", "0"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("-l"), "{o:?}");
    let help = Command::new(BIN).args(["ttcp", "--help"]).output().unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("sixstack ttcp -r -p 5001 > out"));
    let help = Command::new(BIN)
        .args(["socks", "--help"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("--socks5-hostname"));
}
