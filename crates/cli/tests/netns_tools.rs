//! The stream tools running over sixstack, against real kernel peers, in network
//! namespaces (issue #5): `curl` and `lftp` against our `ftpd` (list, get, put, EPSV and
//! EPRT, and lftp's `pget -n 4`: four data connections at once); our `ftp` against `vsftpd` (EPSV and EPRT); `curl --socks5-hostname` and headless
//! Chromium through `sixstack socks` to Python's `http.server`, and its UDP ASSOCIATE to a
//! kernel UDP echo; `ttcp` to and from `nc`.
//!
//! The daemon runs on a TAP in the switch namespace with a static address; the tools run
//! there too, with its `SIXSTACK_CONTROL` and `--net sixstack`, so their connections are
//! the daemon's TCP over the TAP. The kernel peers run in a host namespace on the same
//! bridge, so everything between the two addresses crosses sixstack (the bridge has no
//! other port, and the switch's kernel has no IPv6 on its bridge ports). The switch's
//! loopback gets IPv6 back (`::1`) for the SOCKS proxy's clients.
//!
//! Every transfer is checked with SHA-256. Sizes: 20 MB FTP files, a 5 MB web file, 10 MB
//! through ttcp each way.
//!
//! Needs root: without it a test says why and passes, unless
//! SIXSTACK_REQUIRE_ROOT_TESTS=1 (CI), where it fails, as it does when a peer tool is
//! missing. Addresses: 2001:db8:7::/64.

// Timeouts of a test are wall-clock time; the ban is for the stack (clippy.toml).
#![allow(clippy::disallowed_methods)]

mod netns;

use std::fs;
use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use netns::{AddrState, BridgeOpts, Daemon, DaemonOpts, Lab, Ns, expect_success, wait_for};
use sha2::{Digest, Sha256};

const OURS: &str = "2001:db8:7::1";
const KERNEL: &str = "2001:db8:7::2";
/// What the daemon's hosts file calls the kernel host.
const WEB_NAME: &str = "web.test";

const FTP_MB: usize = 20;
const WEB_MB: usize = 5;
const TTCP_MB: usize = 10;

struct Setup {
    lab: Lab,
    d: Daemon,
    h: Ns,
    sw: Ns,
}

/// Whether the peer tool `tool` is installed; when not, the test says so and passes,
/// unless SIXSTACK_REQUIRE_ROOT_TESTS=1 (CI), where it fails naming the package.
fn have(tool: &str, package: &str) -> bool {
    if netns::which(tool).is_some() {
        return true;
    }
    let why =
        format!("`{tool}` is not installed (Debian package {package}; scripts/test installs it)");
    assert!(
        std::env::var("SIXSTACK_REQUIRE_ROOT_TESTS").as_deref() != Ok("1"),
        "{why}, and SIXSTACK_REQUIRE_ROOT_TESTS=1"
    );
    eprintln!("skipped: {why}");
    false
}

/// A daemon on tap0 with OURS (and a hosts file naming KERNEL `web.test`), a kernel host
/// with KERNEL on the same bridge, both usable; `::1` on the switch's loopback.
fn setup(test: &str) -> Option<Setup> {
    let lab = Lab::new(test)?;
    let br = lab.bridge("br0", BridgeOpts::default());
    lab.tap("tap0", &br);
    let hosts = lab.tmp_dir().join("hosts");
    fs::write(&hosts, format!("{KERNEL} {WEB_NAME} web\n")).unwrap();
    let d = lab.daemon(DaemonOpts::new(&["tap0"]).config(&format!(
        "[node]\nhosts = \"{}\"\n\n[[interface]]\nname = \"tap0\"\naddresses = [\"{OURS}/64\"]\n",
        hosts.display()
    )));
    let h = lab.host("h");
    lab.link(&h, "eth0", &br);
    h.addr_add("eth0", &format!("{KERNEL}/64"));
    let sw = lab.switch().clone();
    // The SOCKS proxy's clients reach it on the switch's loopback: IPv6 there only.
    sw.sysctl("net.ipv6.conf.lo.disable_ipv6", "0");
    d.wait_addr("tap0", OURS.parse().unwrap(), AddrState::Preferred);
    wait_for("the kernel host to answer", Duration::from_secs(20), || {
        h.run(&["ping", "-c", "1", "-W", "1", OURS])
            .status
            .success()
            .then_some(())
    });
    Some(Setup { lab, d, h, sw })
}

fn control(d: &Daemon) -> String {
    d.control.to_string_lossy().into_owned()
}

fn bin() -> String {
    netns::sixstack_bin().to_string_lossy().into_owned()
}

/// Runs `sixstack ARGS` in the switch namespace against the daemon.
fn tool(s: &Setup, args: &[&str], timeout: Duration) -> Output {
    let b = bin();
    let mut argv = vec![b.as_str()];
    argv.extend_from_slice(args);
    let c = control(&s.d);
    s.sw.run_env(&argv, &[("SIXSTACK_CONTROL", &c)], timeout)
}

/// Runs a shell script in the switch namespace with the daemon's control socket set and
/// `$SIXSTACK` the binary.
fn tool_sh(s: &Setup, script: &str, timeout: Duration) -> Output {
    let (c, b) = (control(&s.d), bin());
    s.sw.run_env(
        &["bash", "-c", script],
        &[("SIXSTACK_CONTROL", &c), ("SIXSTACK", &b)],
        timeout,
    )
}

/// Starts `sixstack ARGS` in the background in the switch namespace (log `<name>.log`).
fn spawn_tool(s: &Setup, name: &str, args: &[&str]) -> u32 {
    let b = bin();
    let mut argv = vec![b.as_str()];
    argv.extend_from_slice(args);
    let c = control(&s.d);
    s.lab.spawn_with(
        &s.sw,
        name,
        &argv,
        &[("SIXSTACK_CONTROL", &c), ("SIXSTACK", &b)],
        Duration::from_secs(3),
    )
}

/// Waits until the log of `name` (started as `pid`) contains `what`.
fn wait_log(lab: &Lab, pid: u32, name: &str, what: &str) {
    wait_for(
        &format!("{what:?} in {name}'s log"),
        Duration::from_secs(20),
        || {
            let log = lab.log_of(name);
            if log.contains(what) {
                return Some(());
            }
            assert!(lab.running(pid), "{name} exited:\n{log}");
            None
        },
    );
}

/// Waits until something listens on TCP `port` in `ns` (without connecting to it).
fn wait_listening(ns: &Ns, port: u16) {
    wait_for(
        &format!("a listener on port {port} in {}", ns.role()),
        Duration::from_secs(20),
        || {
            let out = ns.run(&["ss", "-Hltn", &format!("sport = :{port}")]);
            (!String::from_utf8_lossy(&out.stdout).trim().is_empty()).then_some(())
        },
    );
}

/// A file of `len` bytes that compress badly (xorshift64).
fn write_data(path: &Path, len: usize, seed: u64) {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut v = Vec::with_capacity(len + 8);
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(len);
    fs::write(path, v).unwrap();
}

fn sha(p: &Path) -> String {
    let data = fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    Sha256::digest(&data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn assert_same(want: &Path, got: &Path, what: &str) {
    let len = |p: &Path| fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    assert_eq!(
        sha(want),
        sha(got),
        "{what}: {} ({} bytes) and {} ({} bytes) differ",
        want.display(),
        len(want),
        got.display(),
        len(got)
    );
}

fn path_s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Polls `sixstack tcp show --json` in the background and keeps every connection seen
/// with the kernel host at the other end.
struct TcpSampler {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Vec<serde_json::Value>>,
}

impl TcpSampler {
    fn start(d: &Daemon) -> TcpSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let control = d.control.clone();
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut seen: Vec<serde_json::Value> = Vec::new();
            loop {
                let last = flag.load(Ordering::SeqCst);
                let out = std::process::Command::new(netns::sixstack_bin())
                    .args(["tcp", "show", "--json"])
                    .env("SIXSTACK_CONTROL", &control)
                    .output();
                if let Ok(out) = out
                    && let Ok(serde_json::Value::Array(v)) =
                        serde_json::from_slice::<serde_json::Value>(&out.stdout)
                {
                    for c in v {
                        let key = |c: &serde_json::Value| {
                            (
                                c["local"]["port"].clone(),
                                c["remote"]["port"].clone(),
                                c["state"].clone(),
                            )
                        };
                        if c["remote"]["address"] == KERNEL
                            && !seen.iter().any(|s| key(s) == key(&c))
                        {
                            seen.push(c);
                        }
                    }
                }
                if last {
                    return seen;
                }
                std::thread::sleep(Duration::from_millis(150));
            }
        });
        TcpSampler { stop, thread }
    }

    fn finish(self) -> Vec<serde_json::Value> {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.join().expect("the tcp show sampler")
    }
}

/// Whether the sampled connections include one from `local_port` (0: any) to
/// `remote_port` (0: any), with OURS as its local address.
fn saw(conns: &[serde_json::Value], local_port: u16, remote_port: u16) -> bool {
    conns.iter().any(|c| {
        c["local"]["address"] == OURS
            && (local_port == 0 || c["local"]["port"] == local_port)
            && (remote_port == 0 || c["remote"]["port"] == remote_port)
    })
}

fn summary(conns: &[serde_json::Value]) -> String {
    conns
        .iter()
        .map(|c| {
            format!(
                "[{}]:{} - [{}]:{} {}",
                c["local"]["address"].as_str().unwrap_or("?"),
                c["local"]["port"],
                c["remote"]["address"].as_str().unwrap_or("?"),
                c["remote"]["port"],
                c["state"].as_str().unwrap_or("?")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Fails when tshark finds a frame the stack sent on the bridge malformed, with a bad TCP
/// or ICMPv6 checksum, or with an expert error. TCP payloads are decoded as data: they are
/// files and pages, which heuristic dissectors (Thrift, ...) otherwise take for their own.
/// (The kernel's frames are not judged: it leaves checksums to an offload that never
/// happens on a veth.)
fn assert_clean_capture(s: &Setup) {
    let started = Instant::now();
    let mac = s.d.mac("tap0");
    let pcap = s.lab.out_dir().join("br0.pcap");
    let filter = format!(
        "eth.src == {mac} && (_ws.malformed || tcp.checksum.status == \"Bad\" || \
         icmpv6.checksum.status#1 == \"Bad\" || \
         (_ws.expert.severity == \"Error\" && !(icmpv6.type#1 < 128)))"
    );
    let out = std::process::Command::new("tshark")
        .arg("-r")
        .arg(&pcap)
        .args([
            "-o",
            "tcp.check_checksum:TRUE",
            "-d",
            "tcp.port==1-65535,data",
        ])
        .args([
            "-Y",
            &filter,
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "_ws.col.Info",
        ])
        .output()
        .expect("run tshark");
    assert!(
        out.status.success(),
        "tshark: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let flagged = String::from_utf8_lossy(&out.stdout);
    assert!(
        flagged.trim().is_empty(),
        "tshark flags frames sent by the stack ({mac}) in br0.pcap:\n{flagged}"
    );
    let sent = s
        .lab
        .count_frames("br0.pcap", &format!("eth.src == {mac} && tcp"));
    assert!(sent > 0, "no TCP segment from the stack in br0.pcap");
    eprintln!(
        "tshark over br0.pcap ({sent} TCP segments from the stack): {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

// ----- 1. our ftpd, curl and lftp ----------------------------------------------------------

#[test]
fn ftpd_over_sixstack_serves_curl_and_lftp() {
    let t0 = Instant::now();
    if !have("curl", "curl") || !have("lftp", "lftp") {
        return;
    }
    let Some(s) = setup("ftpd_over_sixstack_serves_curl_and_lftp") else {
        return;
    };
    let tmp = s.lab.tmp_dir().to_path_buf();
    let root = tmp.join("root");
    fs::create_dir_all(root.join("pub")).unwrap();
    fs::write(root.join("hello.txt"), b"hello\nworld\n").unwrap();
    fs::write(root.join("pub/readme.txt"), b"served over sixstack\n").unwrap();
    let big = root.join("pub/big.bin");
    write_data(&big, FTP_MB << 20, 1);
    let local = tmp.join("local.bin");
    write_data(&local, 3 << 20, 2);

    // The users file, hashed by the tool itself.
    let out = s.sw.run_input(
        &[&bin(), "ftpd", "--hash-password"],
        b"pw\n",
        Duration::from_secs(30),
    );
    let hash = expect_success("sixstack ftpd --hash-password", &out);
    let users = tmp.join("users");
    fs::write(&users, format!("alice:{}\n", hash.trim())).unwrap();

    let listen = format!("[{OURS}]:2121");
    let pid = spawn_tool(
        &s,
        "ftpd",
        &[
            "ftpd",
            "--net",
            "sixstack",
            "--root",
            &path_s(&root),
            "--listen",
            &listen,
            "--writable",
            "--users",
            &path_s(&users),
            "--verbose",
        ],
    );
    wait_log(&s.lab, pid, "ftpd", "serving");
    let sampler = TcpSampler::start(&s.d);
    let url = format!("ftp://[{OURS}]:2121");
    let curl = |args: &[&str]| -> Output {
        let mut argv = vec!["curl", "-sS", "-g", "--max-time", "60", "-u", "alice:pw"];
        argv.extend_from_slice(args);
        let out = s.h.run_timeout(&argv, Duration::from_secs(70));
        expect_success(&format!("curl {}", args.join(" ")), &out);
        out
    };

    // curl: list, then get and put over EPSV and over EPRT.
    let list = curl(&["--ftp-pasv", &format!("{url}/")]);
    let list = String::from_utf8_lossy(&list.stdout);
    assert!(list.contains("hello.txt") && list.contains("pub"), "{list}");
    let list = curl(&["-P", "-", "--list-only", &format!("{url}/pub/")]);
    let list = String::from_utf8_lossy(&list.stdout);
    assert!(
        list.contains("big.bin") && list.contains("readme.txt"),
        "{list}"
    );
    for (mode, flag) in [("epsv", vec!["--ftp-pasv"]), ("eprt", vec!["-P", "-"])] {
        let got = tmp.join(format!("curl-{mode}.bin"));
        let started = Instant::now();
        let mut args = flag.clone();
        let (u, g) = (format!("{url}/pub/big.bin"), path_s(&got));
        args.extend_from_slice(&[&u, "-o", &g]);
        curl(&args);
        eprintln!(
            "curl get {FTP_MB} MB over {mode}: {:.1} s",
            started.elapsed().as_secs_f64()
        );
        assert_same(&big, &got, &format!("curl get over {mode}"));
        let mut args = flag.clone();
        let (l, u) = (path_s(&local), format!("{url}/up-curl-{mode}.bin"));
        args.extend_from_slice(&["-T", &l, &u]);
        curl(&args);
        assert_same(
            &local,
            &root.join(format!("up-curl-{mode}.bin")),
            &format!("curl put over {mode}"),
        );
    }

    // lftp, passive (EPSV) and active (EPRT): ls, get, put.
    for passive in ["on", "off"] {
        let got = tmp.join(format!("lftp-{passive}.bin"));
        let pgot = tmp.join(format!("lftp-pget-{passive}.bin"));
        let script = format!(
            "set ftp:passive-mode {passive}; set ftp:ssl-allow no; set net:max-retries 1; \
             set net:timeout 20; set ftp:prefer-epsv yes; \
             open -u alice,pw ftp://[{OURS}]:2121; ls; cls -l pub; get pub/big.bin -o {}; \
             put {} -o up-lftp-{passive}.bin; pget -n 4 pub/big.bin -o {}",
            got.display(),
            local.display(),
            pgot.display()
        );
        let started = Instant::now();
        let out =
            s.h.run_timeout(&["lftp", "-c", &script], Duration::from_secs(90));
        let text = expect_success(&format!("lftp, passive {passive}"), &out);
        eprintln!(
            "lftp (passive {passive}) ls, get {FTP_MB} MB, put 3 MB, pget -n 4: {:.1} s",
            started.elapsed().as_secs_f64()
        );
        assert!(
            text.contains("hello.txt") && text.contains("big.bin"),
            "lftp, passive {passive}: {text}"
        );
        assert_same(&big, &got, &format!("lftp get, passive {passive}"));
        // Four data connections at once, each from its own offset (REST).
        assert_same(&big, &pgot, &format!("lftp pget -n 4, passive {passive}"));
        assert_same(
            &local,
            &root.join(format!("up-lftp-{passive}.bin")),
            &format!("lftp put, passive {passive}"),
        );
    }

    let conns = sampler.finish();
    // The control connections to port 2121, and data connections beside them.
    assert!(
        saw(&conns, 2121, 0),
        "no control connection seen:\n{}",
        summary(&conns)
    );
    assert!(
        conns.iter().any(|c| c["local"]["port"] != 2121),
        "no data connection seen:\n{}",
        summary(&conns)
    );
    let log = s.lab.log_of("ftpd");
    for cmd in ["EPSV", "EPRT", "STOR", "RETR", "LIST", "REST"] {
        assert!(log.contains(cmd), "no {cmd} in ftpd's log:\n{log}");
    }
    assert!(
        log.contains(KERNEL),
        "ftpd's log does not name the kernel host as its client:\n{log}"
    );
    assert_clean_capture(&s);
    eprintln!("ftpd test: {:.1} s", t0.elapsed().as_secs_f64());
}

// ----- 2. our ftp against vsftpd -----------------------------------------------------------

#[test]
fn our_ftp_over_sixstack_against_vsftpd() {
    let t0 = Instant::now();
    if !have("vsftpd", "vsftpd") {
        return;
    }
    let Some(s) = setup("our_ftp_over_sixstack_against_vsftpd") else {
        return;
    };
    let tmp = s.lab.tmp_dir().to_path_buf();
    let root = tmp.join("anon");
    fs::create_dir_all(root.join("pub")).unwrap();
    fs::write(root.join("hello.txt"), b"hello\nworld\n").unwrap();
    let big = root.join("pub/big.bin");
    write_data(&big, FTP_MB << 20, 3);
    let empty = tmp.join("empty");
    fs::create_dir_all(&empty).unwrap();
    let vlog = s.lab.out_dir().join("vsftpd-protocol.log");
    let conf = tmp.join("vsftpd.conf");
    fs::write(
        &conf,
        format!(
            "listen=NO\nlisten_ipv6=YES\nlisten_address6={KERNEL}\nlisten_port=2121\nbackground=NO\n\
             anonymous_enable=YES\nno_anon_password=YES\nanon_root={}\nlocal_enable=NO\n\
             write_enable=NO\npasv_enable=YES\nport_enable=YES\nsecure_chroot_dir={}\n\
             seccomp_sandbox=NO\nxferlog_enable=YES\nxferlog_std_format=NO\nlog_ftp_protocol=YES\n\
             vsftpd_log_file={}\nuse_localtime=NO\n",
            root.display(),
            empty.display(),
            vlog.display()
        ),
    )
    .unwrap();
    let _ = fs::copy(&conf, s.lab.out_dir().join("vsftpd.conf"));
    let pid = s.lab.spawn(&s.h, "vsftpd", &["vsftpd", &path_s(&conf)]);
    wait_for("vsftpd to listen", Duration::from_secs(20), || {
        assert!(
            s.lab.running(pid),
            "vsftpd exited: {}",
            s.lab.log_of("vsftpd")
        );
        let out = s.h.run(&["ss", "-Hltn", "sport = :2121"]);
        (!String::from_utf8_lossy(&out.stdout).trim().is_empty()).then_some(())
    });

    for (mode, extra) in [("epsv", None), ("eprt", Some("--active"))] {
        let got = tmp.join(format!("got-{mode}.bin"));
        let script = format!(
            "ls; cd pub; pwd; size big.bin; get big.bin {}",
            got.display()
        );
        let mut args = vec!["ftp", "--net", "sixstack", "--verbose", "-c", &script];
        if let Some(e) = extra {
            args.push(e);
        }
        args.extend_from_slice(&[KERNEL, "2121"]);
        let started = Instant::now();
        let out = tool(&s, &args, Duration::from_secs(90));
        let text = expect_success(&format!("sixstack ftp ({mode})"), &out);
        eprintln!(
            "sixstack ftp ({mode}) ls, get {FTP_MB} MB from vsftpd: {:.1} s",
            started.elapsed().as_secs_f64()
        );
        assert!(
            text.contains("hello.txt") && text.contains("pub"),
            "{mode}: {text}"
        );
        assert!(
            text.contains(&(FTP_MB << 20).to_string()),
            "{mode}: SIZE: {text}"
        );
        let err = String::from_utf8_lossy(&out.stderr);
        let verb = if mode == "epsv" { "EPSV" } else { "EPRT" };
        assert!(
            err.contains(verb),
            "{mode}: no {verb} in the dialogue: {err}"
        );
        assert_same(&big, &got, &format!("get from vsftpd over {mode}"));
    }
    // vsftpd saw us, from our address, with both kinds of data connection.
    let vl = fs::read_to_string(&vlog).unwrap_or_default();
    assert!(vl.contains("EPSV") && vl.contains("EPRT"), "{vl}");
    assert!(vl.contains(OURS), "vsftpd's log does not show {OURS}: {vl}");
    assert!(
        !vl.contains("Client \"::ffff:"),
        "vsftpd saw an IPv4 client: {vl}"
    );
    let _ = s.lab.stop(pid);
    assert_clean_capture(&s);
    eprintln!("vsftpd test: {:.1} s", t0.elapsed().as_secs_f64());
}

// ----- 3. SOCKS: curl and Chromium to a kernel web server -------------------------------

#[test]
fn socks_over_sixstack_fetches_from_a_kernel_http_server() {
    let t0 = Instant::now();
    if !have("curl", "curl") || !have("chromium", "chromium") {
        return;
    }
    let Some(s) = setup("socks_over_sixstack_fetches_from_a_kernel_http_server") else {
        return;
    };
    let tmp = s.lab.tmp_dir().to_path_buf();
    let site = tmp.join("site");
    fs::create_dir_all(&site).unwrap();
    let file = site.join("file.bin");
    write_data(&file, WEB_MB << 20, 4);
    fs::write(
        site.join("page.html"),
        "<html><head><title>sixstack</title></head>\
         <body><p id=m>carried over sixstack by its SOCKS proxy</p></body></html>\n",
    )
    .unwrap();
    let web = s.lab.spawn(
        &s.h,
        "http-server",
        &[
            "/usr/bin/python3",
            "-u",
            "-m",
            "http.server",
            "--bind",
            KERNEL,
            "--directory",
            &path_s(&site),
            "8000",
        ],
    );
    wait_log(&s.lab, web, "http-server", "Serving HTTP");
    let proxy = spawn_tool(
        &s,
        "socks",
        &[
            "socks",
            "--net",
            "sixstack",
            "--listen",
            "[::1]:1080",
            "--json",
        ],
    );
    wait_log(&s.lab, proxy, "socks", "listening");
    let sampler = TcpSampler::start(&s.d);

    // curl, by address and by the name the daemon's hosts file gives.
    for (what, host) in [
        ("address", format!("[{KERNEL}]")),
        ("name", WEB_NAME.into()),
    ] {
        let got = tmp.join(format!("curl-{what}.bin"));
        let started = Instant::now();
        let out = s.sw.run_timeout(
            &[
                "curl",
                "-sS",
                "-g",
                "--fail",
                "--max-time",
                "60",
                "--socks5-hostname",
                "[::1]:1080",
                &format!("http://{host}:8000/file.bin"),
                "-o",
                &path_s(&got),
            ],
            Duration::from_secs(70),
        );
        expect_success(&format!("curl by {what} through the proxy"), &out);
        eprintln!(
            "curl through sixstack socks by {what}, {WEB_MB} MB: {:.1} s",
            started.elapsed().as_secs_f64()
        );
        assert_same(&file, &got, &format!("curl by {what}"));
    }
    let log = s.lab.log_of("socks");
    assert!(
        log.contains(&format!("\"target\":\"{WEB_NAME}:8000\"")),
        "the proxy did not connect by name: {log}"
    );
    assert!(log.contains("\"reply\":\"succeeded\""), "{log}");

    // Headless Chromium through the proxy, by name.
    let profile = tmp.join("chromium-profile");
    let started = Instant::now();
    let out = s.sw.run_timeout(
        &[
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            &format!("--user-data-dir={}", profile.display()),
            "--proxy-server=socks5://[::1]:1080",
            "--proxy-bypass-list=<-loopback>",
            "--dump-dom",
            &format!("http://{WEB_NAME}:8000/page.html"),
        ],
        Duration::from_secs(90),
    );
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.contains("carried over sixstack by its SOCKS proxy"),
        "chromium printed: {dom}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!(
        "chromium through sixstack socks: {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // UDP ASSOCIATE: datagrams through the proxy to a kernel UDP echo, by address and by
    // name, and the answers back.
    s.lab.udp_receiver(
        &s.h,
        "udp-echo",
        "udp",
        &[KERNEL, "9000", "0", "100", "30", "1"],
    );
    let out = s.sw.python(
        PY_SOCKS_UDP,
        &["1080", KERNEL, WEB_NAME, "9000", "20"],
        Duration::from_secs(60),
    );
    let text = expect_success("the SOCKS UDP client", &out);
    assert!(text.contains("ok 21"), "{text}");
    let echoed = netns::udp_reports(&s.lab.log_of("udp-echo"));
    assert!(
        echoed.len() >= 21 && echoed.iter().all(|r| r["src"] == OURS && r["ok"] == true),
        "the echo saw: {echoed:?}"
    );

    // The web server saw the daemon's address, for every request.
    let conns = sampler.finish();
    let wlog = s.lab.log_of("http-server");
    let requests: Vec<&str> = wlog.lines().filter(|l| l.contains("\"GET ")).collect();
    assert!(
        requests.len() >= 3
            && requests.iter().all(|l| l.starts_with(OURS))
            && requests.iter().any(|l| l.contains("/page.html")),
        "http.server's log:\n{wlog}"
    );
    assert!(
        saw(&conns, 0, 8000),
        "tcp show never showed a connection to port 8000:\n{}",
        summary(&conns)
    );
    let _ = s.lab.stop(proxy);
    let _ = s.lab.stop(web);
    assert_clean_capture(&s);
    eprintln!("socks test: {:.1} s", t0.elapsed().as_secs_f64());
}

/// A SOCKS5 UDP ASSOCIATE client (RFC 1928 §7) on the switch's loopback: sends `COUNT`
/// datagrams of [`netns::pattern`] through the proxy to `ADDR` (ATYP 4) and one to `NAME`
/// (ATYP 3), one at a time, each resent up to 3 times when no answer comes, and checks
/// that each comes back with the header naming the sender. Arguments: `PROXY_PORT ADDR
/// NAME PORT COUNT`. Prints `ok N`.
const PY_SOCKS_UDP: &str = r#"
import socket, struct, sys
pport, addr, name, port, count = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
def pattern(n):
    return bytes(((k * 31 + 7) & 0xff) for k in range(n))
def exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        assert c, "the proxy closed"
        b += c
    return b
c = socket.create_connection(("::1", pport), timeout=20)
c.sendall(b"\x05\x01\x00")
assert exact(c, 2) == b"\x05\x00"
c.sendall(b"\x05\x03\x00\x04" + bytes(18))
rep = exact(c, 4)
assert rep[:2] == b"\x05\x00", rep
assert rep[3] == 4, rep
b = exact(c, 18)
relay = (socket.inet_ntop(socket.AF_INET6, b[:16]), struct.unpack("!H", b[16:])[0])
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
u.bind(("::1", 0))
u.settimeout(2)
by_addr = b"\x00\x00\x00\x04" + socket.inet_pton(socket.AF_INET6, addr) + struct.pack("!H", port)
by_name = b"\x00\x00\x00\x03" + bytes([len(name)]) + name.encode() + struct.pack("!H", port)
n = 0
for i in range(count + 1):
    payload = pattern(100 + 50 * i)
    head = by_addr if i < count else by_name
    for attempt in range(4):
        u.sendto(head + payload, relay)
        try:
            d, _ = u.recvfrom(70000)
            break
        except socket.timeout:
            assert attempt < 3, "no answer to datagram %d" % i
    assert d[:22] == by_addr, ("header", i, d[:22])
    assert d[22:] == payload, ("payload", i)
    n += 1
c.close()
print("ok", n)
"#;

// ----- 4. ttcp and nc ---------------------------------------------------------------------

#[test]
fn ttcp_over_sixstack_to_and_from_nc() {
    let t0 = Instant::now();
    if !have("nc", "netcat-openbsd") {
        return;
    }
    let Some(s) = setup("ttcp_over_sixstack_to_and_from_nc") else {
        return;
    };
    let tmp = s.lab.tmp_dir().to_path_buf();
    let len = TTCP_MB << 20;
    let input = tmp.join("in.bin");
    write_data(&input, len, 5);

    // ttcp -t over sixstack to the kernel's nc -l.
    let out1 = tmp.join("nc.out");
    let nc = s.lab.spawn(
        &s.h,
        "nc-listen",
        &[
            "bash",
            "-c",
            &format!("exec nc -l {KERNEL} 5001 > {}", out1.display()),
        ],
    );
    wait_listening(&s.h, 5001);
    let sampler = TcpSampler::start(&s.d);
    let started = Instant::now();
    let out = tool_sh(
        &s,
        &format!(
            "exec \"$SIXSTACK\" ttcp -t --net sixstack -p 5001 {KERNEL} < {}",
            input.display()
        ),
        Duration::from_secs(60),
    );
    let err = expect_success("sixstack ttcp -t", &out);
    let err = format!("{err}{}", String::from_utf8_lossy(&out.stderr));
    eprintln!(
        "ttcp -t {TTCP_MB} MB to nc: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(err.contains(&format!("ttcp-t: {len} bytes in ")), "{err}");
    assert!(err.contains("real seconds"), "{err}");
    wait_for("nc -l to finish", Duration::from_secs(20), || {
        (!s.lab.running(nc)).then_some(())
    });
    assert_same(&input, &out1, "ttcp -t to nc -l");

    // nc to ttcp -r over sixstack.
    let out2 = tmp.join("ttcp.out");
    let r = s.lab.spawn_with(
        &s.sw,
        "ttcp-r",
        &[
            "bash",
            "-c",
            &format!(
                "exec \"$SIXSTACK\" ttcp -r --net sixstack -p 5002 > {}",
                out2.display()
            ),
        ],
        &[("SIXSTACK_CONTROL", &control(&s.d)), ("SIXSTACK", &bin())],
        Duration::from_secs(3),
    );
    wait_log(&s.lab, r, "ttcp-r", "ttcp-r: buflen=");
    let started = Instant::now();
    let out = s.h.run_timeout(
        &[
            "bash",
            "-c",
            &format!("nc -N {OURS} 5002 < {}", input.display()),
        ],
        Duration::from_secs(60),
    );
    expect_success("nc to ttcp -r", &out);
    wait_for("ttcp -r to finish", Duration::from_secs(30), || {
        (!s.lab.running(r)).then_some(())
    });
    eprintln!(
        "nc to ttcp -r {TTCP_MB} MB: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let log = s.lab.log_of("ttcp-r");
    assert!(log.contains(&format!("ttcp-r: {len} bytes in ")), "{log}");
    assert_same(&input, &out2, "nc to ttcp -r");

    let conns = sampler.finish();
    assert!(
        saw(&conns, 0, 5001) && saw(&conns, 5002, 0),
        "tcp show did not show both connections:\n{}",
        summary(&conns)
    );
    // tshark finds nothing wrong in what the stack sent (checksums, malformed segments).
    assert_clean_capture(&s);
    eprintln!("ttcp test: {:.1} s", t0.elapsed().as_secs_f64());
}
