//! The network-namespace harness of the interop tests (issue #4): real peers, not mocks.
//!
//! A [`Lab`] is one test's private network. It makes network namespaces with unique names
//! (`sx-<pid>-<n>-<role>`), Linux bridges in a namespace of their own (the "switch"), veth
//! pairs from a host namespace to a bridge, and TAP devices on a bridge for the sixstack
//! daemon, which runs in the switch namespace so that its TAPs are bridge ports there.
//! Every bridge is captured by tcpdump from the moment it exists; the captures and a log of
//! every command the test ran stay in `test-output/<test>/` (`$SIXSTACK_OUT/<test>/`) when
//! the test fails and are deleted when it passes.
//!
//! Dropping the `Lab` tears everything down, also while a test panics: the processes it
//! started (by pid, and only those), the captures, the namespaces (which take their bridges,
//! veths and TAPs with them) and its scratch folder. Nothing is created in, or changed on,
//! the namespace the test runs in: every `ip` command names its namespace, and veth pairs
//! are created inside a lab namespace with their peer placed straight into another.
//!
//! Addresses: tests use only 2001:db8::/32, fd00::/8 and fe80::/10 (and ff0X::db8:0:0/96
//! for multicast groups, RFC 6676).
//!
//! Root is needed. [`Lab::new`] returns `None` (the test prints why and passes) when the
//! tests do not run as root, unless `SIXSTACK_REQUIRE_ROOT_TESTS=1` (scripts/test sets it
//! under CI and as root), where it panics instead: in CI a test that cannot run fails.

// Each test binary uses a part of the harness.
#![allow(dead_code)]
// Timeouts of a test harness are wall-clock time; the ban is for the stack (clippy.toml).
#![allow(clippy::disallowed_methods)]

use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::Ipv6Addr;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::thread;
use std::time::{Duration, Instant};

pub use sixstack_api::{AddrInfo, AddrOrigin, AddrState, LinkInfo, Op, Reply, RouteInfo};
use sixstack_client::Connection;

/// How long one command may run before it is killed and the test fails.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

static LAB_COUNTER: AtomicUsize = AtomicUsize::new(0);
static SWEEP: Once = Once::new();

// ----- the lab --------------------------------------------------------------------------

/// One test's network: namespaces, bridges, links, processes, captures.
pub struct Lab {
    inner: Arc<Inner>,
    switch: Ns,
}

/// What a [`Ns`] shares with its lab: names, folders, the command log and the registry of
/// what must be torn down.
struct Inner {
    test: String,
    prefix: String,
    out: PathBuf,
    tmp: PathBuf,
    log: Mutex<File>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    namespaces: Vec<String>,
    procs: Vec<Tracked>,
    captures: Vec<Tracked>,
    ports: usize,
}

/// A process the lab started and will end (by pid) when dropped.
struct Tracked {
    name: String,
    child: Child,
    /// Asked to stop with SIGTERM first, given this long, then SIGKILL.
    grace: Duration,
}

impl Lab {
    /// A new lab for the test `test` (its output folder is `test-output/<test>/`), or `None`
    /// when the tests do not run as root and root tests are not required.
    pub fn new(test: &str) -> Option<Lab> {
        if !is_root() {
            let why = "needs root (network namespaces, bridges, TAP devices)";
            if std::env::var("SIXSTACK_REQUIRE_ROOT_TESTS").as_deref() == Ok("1") {
                panic!("{test}: {why}, and SIXSTACK_REQUIRE_ROOT_TESTS=1");
            }
            eprintln!(
                "skipped {test}: {why}; run as root, or set SIXSTACK_REQUIRE_ROOT_TESTS=1 to make this a failure"
            );
            return None;
        }
        for tool in ["ip", "tcpdump"] {
            assert!(
                which(tool).is_some(),
                "{test}: `{tool}` is not installed (scripts/test installs it)"
            );
        }
        SWEEP.call_once(sweep_stale_namespaces);
        let n = LAB_COUNTER.fetch_add(1, Ordering::SeqCst);
        let prefix = format!("sx-{}-{n}", std::process::id());
        let out = output_root().join(test);
        let _ = fs::remove_dir_all(&out);
        fs::create_dir_all(&out).expect("create the test's output folder");
        let tmp = std::env::temp_dir().join(&prefix);
        let _ = fs::remove_dir_all(&tmp);
        fs::create_dir_all(&tmp).expect("create the test's scratch folder");
        let log = File::create(out.join("commands.log")).expect("create commands.log");
        let inner = Arc::new(Inner {
            test: test.to_string(),
            prefix: prefix.clone(),
            out,
            tmp,
            log: Mutex::new(log),
            state: Mutex::new(State::default()),
        });
        let switch = Ns::create(&inner, "sw");
        // The switch is no IPv6 node: the kernel there stays silent on every port unless a
        // bridge needs an address of its own (an MLD querier).
        switch.sysctl("net.ipv6.conf.all.disable_ipv6", "1");
        switch.sysctl("net.ipv6.conf.default.disable_ipv6", "1");
        switch.sysctl("net.ipv6.conf.all.accept_dad", "0");
        switch.sysctl("net.ipv6.conf.default.accept_dad", "0");
        switch.ok(&["ip", "link", "set", "lo", "up"]);
        Some(Lab { inner, switch })
    }

    /// The test's name.
    pub fn test(&self) -> &str {
        &self.inner.test
    }

    /// `test-output/<test>/`: kept when the test fails, deleted when it passes.
    pub fn out_dir(&self) -> &Path {
        &self.inner.out
    }

    /// A scratch folder under the system temp folder (short paths, for Unix sockets),
    /// deleted with the lab.
    pub fn tmp_dir(&self) -> &Path {
        &self.inner.tmp
    }

    /// The namespace that holds the bridges, their ports and the daemon's TAPs.
    pub fn switch(&self) -> &Ns {
        &self.switch
    }

    /// A Linux bridge in the switch namespace, up, with a capture running on it
    /// (`<name>.pcap` in the output folder).
    pub fn bridge(&self, name: &str, opts: BridgeOpts) -> Bridge {
        let sw = &self.switch;
        let snoop = if opts.mcast_snooping { "1" } else { "0" };
        let querier = if opts.mcast_querier { "1" } else { "0" };
        let mut args = vec![
            "ip",
            "link",
            "add",
            name,
            "type",
            "bridge",
            "stp_state",
            "0",
            "mcast_snooping",
            snoop,
            "mcast_querier",
            querier,
        ];
        let timers: Vec<String>;
        if opts.mcast_snooping {
            // Fast MLD timers, so that joins and leaves show within seconds. The bridge
            // queries with MLDv2 (RFC 3810).
            timers = vec![
                "mcast_mld_version".into(),
                "2".into(),
                "mcast_query_interval".into(),
                "1000".into(),
                "mcast_query_response_interval".into(),
                "500".into(),
                "mcast_startup_query_interval".into(),
                "500".into(),
                "mcast_last_member_interval".into(),
                "100".into(),
                "mcast_membership_interval".into(),
                "3000".into(),
                "mcast_querier_interval".into(),
                "2500".into(),
            ];
            args.extend(timers.iter().map(String::as_str));
        }
        sw.ok(&args);
        if opts.mcast_querier {
            // The bridge's querier sends from the bridge's own link-local address.
            sw.sysctl(&format!("net.ipv6.conf.{name}.disable_ipv6"), "0");
        }
        sw.ok(&["ip", "link", "set", name, "up"]);
        let bridge = Bridge {
            name: name.to_string(),
        };
        self.capture(sw, name);
        bridge
    }

    /// A kernel host: a namespace with loopback up, IPv6 on, and DAD off (so that its
    /// addresses are usable at once; [`Lab::host_with_dad`] keeps DAD).
    pub fn host(&self, role: &str) -> Ns {
        let ns = self.host_with_dad(role);
        ns.sysctl("net.ipv6.conf.all.accept_dad", "0");
        ns.sysctl("net.ipv6.conf.default.accept_dad", "0");
        ns
    }

    /// A kernel host that runs DAD on its addresses like any Linux host.
    pub fn host_with_dad(&self, role: &str) -> Ns {
        let ns = Ns::create(&self.inner, role);
        ns.ok(&["ip", "link", "set", "lo", "up"]);
        // The tests' peers answer at once: no ICMPv6 rate limit in the way of probes.
        ns.sysctl("net.ipv6.icmp.ratelimit", "0");
        ns
    }

    /// A kernel router: a host with forwarding on (it then ignores router advertisements
    /// and sends none unless radvd runs in it).
    pub fn router(&self, role: &str) -> Ns {
        let ns = self.host(role);
        ns.sysctl("net.ipv6.conf.all.forwarding", "1");
        ns
    }

    /// Connects `ns` to `bridge` with a veth pair: `ifname` in `ns`, up, its peer a port
    /// of the bridge.
    pub fn link(&self, ns: &Ns, ifname: &str, bridge: &Bridge) -> Link {
        let port = self.next_port();
        ns.ok(&[
            "ip",
            "link",
            "add",
            ifname,
            "type",
            "veth",
            "peer",
            "name",
            &port,
            "netns",
            &self.switch.name,
        ]);
        self.switch
            .ok(&["ip", "link", "set", &port, "master", &bridge.name, "up"]);
        ns.ok(&["ip", "link", "set", ifname, "up"]);
        Link {
            ifname: ifname.to_string(),
            port,
            mac: ns.mac(ifname),
        }
    }

    /// A TAP device `ifname` in the switch namespace, a port of `bridge`, up: the daemon
    /// opens it by name. (Made here rather than by the daemon so that it is on the bridge
    /// before the daemon's first frame: DAD and router solicitation must be heard.)
    pub fn tap(&self, ifname: &str, bridge: &Bridge) {
        let sw = &self.switch;
        sw.ok(&["ip", "tuntap", "add", "dev", ifname, "mode", "tap"]);
        sw.ok(&["ip", "link", "set", ifname, "master", &bridge.name, "up"]);
    }

    /// Starts `argv` in `ns` in the background; its stdout and stderr go to
    /// `<name>.log` in the output folder. It is ended (SIGTERM, then SIGKILL) with the lab.
    pub fn spawn(&self, ns: &Ns, name: &str, argv: &[&str]) -> u32 {
        self.spawn_with(ns, name, argv, &[], Duration::from_secs(2))
    }

    /// [`Lab::spawn`] with environment variables and a grace period after SIGTERM.
    pub fn spawn_with(
        &self,
        ns: &Ns,
        name: &str,
        argv: &[&str],
        env: &[(&str, &str)],
        grace: Duration,
    ) -> u32 {
        let logf = self.out_dir().join(format!("{name}.log"));
        let out = File::create(&logf).expect("create a process log");
        let err = out.try_clone().expect("clone a file handle");
        let mut cmd = ns.command(argv);
        cmd.envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        self.inner
            .note(&format!("[{}] spawn {name}: {}", ns.role(), argv.join(" ")));
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("start {name} ({argv:?}): {e}"));
        let pid = child.id();
        self.inner.state().procs.push(Tracked {
            name: name.to_string(),
            child,
            grace,
        });
        pid
    }

    /// Whether the process `pid` started by [`Lab::spawn`] still runs.
    pub fn running(&self, pid: u32) -> bool {
        let mut st = self.inner.state();
        st.procs
            .iter_mut()
            .find(|t| t.child.id() == pid)
            .is_some_and(|t| matches!(t.child.try_wait(), Ok(None)))
    }

    /// Ends the process `pid` started by [`Lab::spawn`] (SIGTERM, then SIGKILL after its
    /// grace period) and returns how it exited.
    pub fn stop(&self, pid: u32) -> Option<ExitStatus> {
        let tracked = {
            let mut st = self.inner.state();
            let i = st.procs.iter().position(|t| t.child.id() == pid)?;
            st.procs.remove(i)
        };
        let name = tracked.name.clone();
        let (status, how) = end(tracked);
        self.inner.note(&format!("stop {name} (pid {pid}): {how}"));
        status
    }

    /// Sends `signal` (a name such as `HUP`) to the process `pid` started by [`Lab::spawn`].
    pub fn signal(&self, pid: u32, signal: &str) {
        let known = self.inner.state().procs.iter().any(|t| t.child.id() == pid);
        assert!(known, "pid {pid} was not started by this lab");
        let _ = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .status();
    }

    /// The contents of a spawned process's log so far.
    pub fn log_of(&self, name: &str) -> String {
        fs::read_to_string(self.out_dir().join(format!("{name}.log"))).unwrap_or_default()
    }

    /// radvd in `ns` with the configuration `conf` (radvd.conf syntax). Forwarding is
    /// turned on in `ns`, as on any router.
    pub fn radvd(&self, ns: &Ns, conf: &str) -> Radvd {
        assert!(
            which("radvd").is_some(),
            "radvd is not installed (scripts/test installs it)"
        );
        ns.sysctl("net.ipv6.conf.all.forwarding", "1");
        let name = format!("radvd-{}", ns.role());
        let conf_path = self.tmp_dir().join(format!("{name}.conf"));
        fs::write(&conf_path, conf).expect("write radvd.conf");
        let _ = fs::copy(&conf_path, self.out_dir().join(format!("{name}.conf")));
        let pidfile = self.tmp_dir().join(format!("{name}.pid"));
        let conf_s = conf_path.to_string_lossy().into_owned();
        let pid_s = pidfile.to_string_lossy().into_owned();
        let pid = self.spawn(
            ns,
            &name,
            &[
                "radvd",
                "--nodaemon",
                "-m",
                "stderr",
                "-d",
                "1",
                "-C",
                &conf_s,
                "-p",
                &pid_s,
            ],
        );
        // radvd writes its pid file once its sockets are set up.
        wait_for("radvd to start", Duration::from_secs(10), || {
            assert!(self.running(pid), "radvd exited: {}", self.log_of(&name));
            pidfile.exists().then_some(())
        });
        Radvd {
            pid,
            conf: conf_path,
            name,
        }
    }

    /// Starts the sixstack daemon in the switch namespace on the given TAP devices (made
    /// with [`Lab::tap`]) and waits until its control socket answers.
    pub fn daemon(&self, opts: DaemonOpts) -> Daemon {
        let dir = self.tmp_dir().join(format!("daemon-{}", opts.name));
        fs::create_dir_all(&dir).expect("create the daemon's folder");
        let control = dir.join("control.sock");
        let pcap = self.out_dir().join(format!("{}-pcap", opts.name));
        fs::create_dir_all(&pcap).expect("create the daemon's pcap folder");
        let mut d = Daemon {
            name: opts.name.clone(),
            control,
            pcap,
            dir,
            config: None,
            taps: opts.taps.clone(),
            extra: opts.args.clone(),
            pid: 0,
            switch: self.switch.clone(),
            runs: 0,
        };
        if let Some(conf) = &opts.config {
            let path = d.dir.join("sixstack.toml");
            fs::write(&path, conf).expect("write the daemon's configuration");
            d.config = Some(path);
        }
        self.start_daemon(&mut d);
        d
    }

    /// Starts `d` again after [`Lab::stop_daemon`], with the same arguments and folders.
    pub fn start_daemon(&self, d: &mut Daemon) {
        let _ = fs::remove_file(&d.control);
        let bin = sixstack_bin();
        let control = d.control.to_string_lossy().into_owned();
        let pcap = d.pcap.to_string_lossy().into_owned();
        let mut argv: Vec<String> = vec![bin.to_string_lossy().into_owned(), "run".into()];
        for tap in &d.taps {
            argv.push("--tap".into());
            argv.push(tap.clone());
        }
        argv.extend(["--control".into(), control, "--pcap".into(), pcap]);
        if let Some(c) = &d.config {
            argv.push("--config".into());
            argv.push(c.to_string_lossy().into_owned());
        }
        argv.extend(d.extra.iter().cloned());
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        d.runs += 1;
        let logname = if d.runs == 1 {
            d.name.clone()
        } else {
            format!("{}-run{}", d.name, d.runs)
        };
        d.pid = self.spawn_with(
            &self.switch,
            &logname,
            &argv,
            &[("RUST_BACKTRACE", "1")],
            Duration::from_secs(5),
        );
        let pid = d.pid;
        wait_for(
            "the daemon's control socket to answer",
            Duration::from_secs(20),
            || {
                assert!(
                    self.running(pid),
                    "the daemon exited before its control socket answered:\n{}",
                    self.log_of(&logname)
                );
                UnixStream::connect(&d.control).ok().map(|_| ())
            },
        );
    }

    /// Stops the daemon with SIGTERM (as a user would) and returns how it exited.
    pub fn stop_daemon(&self, d: &Daemon) -> Option<ExitStatus> {
        self.stop(d.pid)
    }

    fn next_port(&self) -> String {
        let mut st = self.inner.state();
        st.ports += 1;
        format!("p{}", st.ports)
    }

    /// Starts tcpdump on `ifname` in `ns`, writing `<ifname>.pcap` (or `<role>-<ifname>.pcap`
    /// outside the switch) in the output folder, and waits until it listens.
    pub fn capture(&self, ns: &Ns, ifname: &str) {
        let file = if ns.name == self.switch.name {
            format!("{ifname}.pcap")
        } else {
            format!("{}-{ifname}.pcap", ns.role())
        };
        let path = self.out_dir().join(&file);
        let path_s = path.to_string_lossy().into_owned();
        // --immediate-mode and -U: every packet is handed over and written at once (else
        // libpcap holds a block of them, lost when tcpdump is stopped); -Z root: Debian's
        // tcpdump would otherwise drop to a user that cannot write here. -s and -B: the
        // kernel's ring has a slot per snapshot length, so with the default (256 KiB) a
        // 2 MiB buffer holds 8 frames and a burst of fragments overruns it on a busy
        // machine; frames here are at most 1514 bytes (9 KiB for jumbo links).
        let mut child = ns
            .command(&[
                "tcpdump",
                "-i",
                ifname,
                "-n",
                "--immediate-mode",
                "-U",
                "-Z",
                "root",
                "-s",
                "9216",
                "-B",
                "16384",
                "-w",
                &path_s,
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start tcpdump");
        let stderr = child.stderr.take().expect("tcpdump's stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        let errlog = self.out_dir().join(format!("{file}.tcpdump.log"));
        thread::spawn(move || {
            let mut lines = BufReader::new(stderr).lines();
            let mut all = String::new();
            for line in lines.by_ref() {
                let Ok(line) = line else { break };
                all.push_str(&line);
                all.push('\n');
                if line.contains("listening on") {
                    let _ = tx.send(Ok(()));
                }
            }
            let _ = tx.send(Err(all.clone()));
            let _ = fs::write(errlog, all);
        });
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!("tcpdump on {ifname} did not start: {e}"),
            Err(_) => panic!("tcpdump on {ifname} did not start within 10 s"),
        }
        self.inner
            .note(&format!("[{}] capture {ifname} -> {file}", ns.role()));
        self.inner.state().captures.push(Tracked {
            name: format!("tcpdump {file}"),
            child,
            grace: Duration::from_secs(3),
        });
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let failed = thread::panicking();
        let (procs, captures, namespaces) = {
            let mut st = self.inner.state();
            (
                std::mem::take(&mut st.procs),
                std::mem::take(&mut st.captures),
                std::mem::take(&mut st.namespaces),
            )
        };
        // Daemons and peers first (newest first), then the captures, so that they see the
        // last packets; then whatever else still runs in our namespaces; then the
        // namespaces, which take their bridges, veths and TAPs with them.
        for t in procs.into_iter().rev() {
            let name = t.name.clone();
            let (_, how) = end(t);
            self.inner.note(&format!("ended {name}: {how}"));
        }
        for t in captures {
            end(t);
        }
        for ns in namespaces.iter().rev() {
            for pid in netns_pids(ns) {
                self.inner
                    .note(&format!("killing pid {pid} left in namespace {ns}"));
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
        }
        for ns in namespaces.iter().rev() {
            let _ = Command::new("ip")
                .args(["netns", "del", ns])
                .stderr(Stdio::null())
                .status();
        }
        let _ = fs::remove_dir_all(&self.inner.tmp);
        if failed {
            eprintln!(
                "{}: failed; captures and logs kept in {}",
                self.inner.test,
                self.inner.out.display()
            );
        } else {
            let _ = fs::remove_dir_all(&self.inner.out);
        }
    }
}

impl Inner {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn note(&self, line: &str) {
        let mut f = self.log.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(f, "{line}");
    }
}

/// Options of a bridge.
#[derive(Clone, Copy, Debug, Default)]
pub struct BridgeOpts {
    /// MLD snooping (`bridge mdb show` lists the groups heard on each port). Off, the
    /// bridge floods all multicast like a hub.
    pub mcast_snooping: bool,
    /// The bridge sends MLD queries itself (it then gets a link-local address).
    pub mcast_querier: bool,
}

/// A veth from a host namespace to a bridge.
#[derive(Clone, Debug)]
pub struct Link {
    /// The interface in the host's namespace.
    pub ifname: String,
    /// Its peer, a port of the bridge in the switch namespace (as `bridge mdb show` names it).
    pub port: String,
    /// The MAC address of `ifname`.
    pub mac: String,
}

/// A bridge in the switch namespace.
#[derive(Clone, Debug)]
pub struct Bridge {
    pub name: String,
}

// ----- namespaces -----------------------------------------------------------------------

/// A network namespace of a lab, where commands run with `ip netns exec`.
#[derive(Clone)]
pub struct Ns {
    pub name: String,
    inner: Arc<Inner>,
}

impl Ns {
    fn create(inner: &Arc<Inner>, role: &str) -> Ns {
        let name = format!("{}-{role}", inner.prefix);
        // Registered before it exists, so that a failure halfway still removes it.
        inner.state().namespaces.push(name.clone());
        let ns = Ns {
            name,
            inner: inner.clone(),
        };
        let out = Command::new("ip")
            .args(["netns", "add", &ns.name])
            .output()
            .expect("run ip netns add");
        inner.note(&format!("ip netns add {}", ns.name));
        assert!(
            out.status.success(),
            "ip netns add {}: {}",
            ns.name,
            String::from_utf8_lossy(&out.stderr)
        );
        ns
    }

    /// The part of the name after the lab's prefix (`a`, `sw`, ...).
    pub fn role(&self) -> &str {
        self.name
            .strip_prefix(&self.inner.prefix)
            .and_then(|r| r.strip_prefix('-'))
            .unwrap_or(&self.name)
    }

    /// A command that runs `argv` inside this namespace.
    pub fn command(&self, argv: &[&str]) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name]).args(argv);
        cmd
    }

    /// Runs `argv` here, waits (at most [`COMMAND_TIMEOUT`]) and logs it.
    pub fn run(&self, argv: &[&str]) -> Output {
        self.run_timeout(argv, COMMAND_TIMEOUT)
    }

    /// Runs `argv` here with a timeout; a command still running then is killed and the
    /// test fails.
    pub fn run_timeout(&self, argv: &[&str], timeout: Duration) -> Output {
        self.run_env(argv, &[], timeout)
    }

    /// Runs `argv` here with extra environment variables.
    pub fn run_env(&self, argv: &[&str], env: &[(&str, &str)], timeout: Duration) -> Output {
        let mut cmd = self.command(argv);
        cmd.envs(env.iter().copied());
        let out = run_bounded(cmd, None, timeout)
            .unwrap_or_else(|e| panic!("[{}] {}: {e}", self.role(), argv.join(" ")));
        self.log_output(argv, &out);
        out
    }

    /// Runs `argv` here with `input` on its standard input.
    pub fn run_input(&self, argv: &[&str], input: &[u8], timeout: Duration) -> Output {
        let cmd = self.command(argv);
        let out = run_bounded(cmd, Some(input.to_vec()), timeout)
            .unwrap_or_else(|e| panic!("[{}] {}: {e}", self.role(), argv.join(" ")));
        self.log_output(argv, &out);
        out
    }

    /// Runs `argv` here and returns its standard output; fails the test, with both outputs,
    /// when it exits non-zero.
    pub fn ok(&self, argv: &[&str]) -> String {
        let out = self.run(argv);
        expect_success(&format!("[{}] {}", self.role(), argv.join(" ")), &out)
    }

    /// Runs a shell script here (`sh -c`).
    pub fn sh(&self, script: &str) -> Output {
        self.run(&["sh", "-c", script])
    }

    /// Sets a sysctl in this namespace.
    pub fn sysctl(&self, key: &str, value: &str) {
        self.ok(&["sysctl", "-q", "-w", &format!("{key}={value}")]);
    }

    /// Adds `cidr` (such as `2001:db8:1::1/64`) to `dev`, usable at once (`nodad`).
    pub fn addr_add(&self, dev: &str, cidr: &str) {
        self.ok(&["ip", "-6", "addr", "add", cidr, "dev", dev, "nodad"]);
    }

    /// The MAC address of `dev`.
    pub fn mac(&self, dev: &str) -> String {
        let v = self.json(&["ip", "-j", "link", "show", "dev", dev]);
        v[0]["address"]
            .as_str()
            .unwrap_or_else(|| panic!("no MAC on {dev}: {v}"))
            .to_string()
    }

    /// The IPv6 addresses on `dev` with their details (`ip -j -6 addr show`), one JSON
    /// object per address (`local`, `prefixlen`, `scope`, `valid_life_time`, flags...).
    pub fn addrs(&self, dev: &str) -> Vec<serde_json::Value> {
        let v = self.json(&["ip", "-j", "-6", "addr", "show", "dev", dev]);
        v[0]["addr_info"].as_array().cloned().unwrap_or_default()
    }

    /// The link-local address of `dev`.
    pub fn link_local(&self, dev: &str) -> Ipv6Addr {
        wait_for(
            &format!("a link-local address on {dev}"),
            Duration::from_secs(10),
            || {
                self.addrs(dev).iter().find_map(|a| {
                    let ip: Ipv6Addr = a["local"].as_str()?.parse().ok()?;
                    let tentative = a["tentative"].as_bool().unwrap_or(false);
                    (a["scope"] == "link" && !tentative).then_some(ip)
                })
            },
        )
    }

    /// Runs `argv` (which prints JSON) and parses its output.
    pub fn json(&self, argv: &[&str]) -> serde_json::Value {
        let text = self.ok(argv);
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: not JSON ({e}): {text}", argv.join(" ")))
    }

    /// Runs a Python program with Debian's interpreter (`/usr/bin/python3`, which has
    /// the packages the tests install) and the arguments `args`.
    pub fn python(&self, program: &str, args: &[&str], timeout: Duration) -> Output {
        let mut argv = vec!["/usr/bin/python3", "-c", program];
        argv.extend_from_slice(args);
        self.run_timeout(&argv, timeout)
    }

    fn log_output(&self, argv: &[&str], out: &Output) {
        let mut s = format!("[{}] {} -> {}\n", self.role(), argv.join(" "), out.status);
        for (label, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            if bytes.is_empty() {
                continue;
            }
            let text = String::from_utf8_lossy(bytes);
            let cut: String = text.chars().take(4000).collect();
            let _ = writeln!(s, "  {label}: {}", cut.trim_end().replace('\n', "\n    "));
        }
        self.inner.note(s.trim_end());
    }
}

// ----- radvd ----------------------------------------------------------------------------

/// A radvd process of a lab.
pub struct Radvd {
    pub pid: u32,
    conf: PathBuf,
    name: String,
}

impl Radvd {
    /// Replaces the configuration and makes radvd read it again (SIGHUP). radvd sends an
    /// advertisement with the new contents at once.
    pub fn reload(&self, lab: &Lab, conf: &str) {
        fs::write(&self.conf, conf).expect("write radvd.conf");
        let _ = fs::write(
            lab.out_dir().join(format!("{}.conf.reloaded", self.name)),
            conf,
        );
        lab.signal(self.pid, "HUP");
    }

    /// radvd's log so far.
    pub fn log(&self, lab: &Lab) -> String {
        lab.log_of(&self.name)
    }
}

// ----- the sixstack daemon --------------------------------------------------------------

/// How to start a daemon.
#[derive(Clone, Debug)]
pub struct DaemonOpts {
    /// Names it in the output folder (`<name>.log`, `<name>-pcap/`).
    pub name: String,
    /// `--tap` arguments, in order.
    pub taps: Vec<String>,
    /// A TOML configuration (`--config`), if any.
    pub config: Option<String>,
    /// More arguments of `sixstack run`.
    pub args: Vec<String>,
}

impl DaemonOpts {
    pub fn new(taps: &[&str]) -> DaemonOpts {
        DaemonOpts {
            name: "sixstack".into(),
            taps: taps.iter().map(|t| t.to_string()).collect(),
            config: None,
            args: Vec::new(),
        }
    }

    pub fn config(mut self, toml: &str) -> DaemonOpts {
        self.config = Some(toml.to_string());
        self
    }

    pub fn arg(mut self, a: &str) -> DaemonOpts {
        self.args.push(a.to_string());
        self
    }
}

/// A running (or stopped) sixstack daemon of a lab.
pub struct Daemon {
    pub name: String,
    /// Its control socket (`--control`; `SIXSTACK_CONTROL` for the clients).
    pub control: PathBuf,
    /// Its capture folder (`--pcap`), inside the output folder.
    pub pcap: PathBuf,
    /// Its own folder (configuration, control socket, and the state file the daemon keeps
    /// beside it), kept across restarts.
    pub dir: PathBuf,
    pub config: Option<PathBuf>,
    pub taps: Vec<String>,
    extra: Vec<String>,
    pub pid: u32,
    switch: Ns,
    runs: usize,
}

impl Daemon {
    /// Runs `sixstack ARGS` against this daemon (in its namespace, `SIXSTACK_CONTROL` set).
    pub fn cli(&self, args: &[&str]) -> Output {
        self.cli_timeout(args, COMMAND_TIMEOUT)
    }

    pub fn cli_timeout(&self, args: &[&str], timeout: Duration) -> Output {
        let bin = sixstack_bin();
        let bin = bin.to_string_lossy();
        let mut argv = vec![bin.as_ref()];
        argv.extend_from_slice(args);
        let control = self.control.to_string_lossy();
        self.switch
            .run_env(&argv, &[("SIXSTACK_CONTROL", control.as_ref())], timeout)
    }

    /// Runs `sixstack ARGS` and returns its standard output; fails the test when it exits
    /// non-zero.
    pub fn cli_ok(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        expect_success(&format!("sixstack {}", args.join(" ")), &out)
    }

    /// One control request through `sixstack-client`'s connection (what tools link), for
    /// what the CLI does not show; fails the test when the daemon answers with an error.
    pub fn call(&self, op: Op) -> Reply {
        self.try_call(op.clone())
            .unwrap_or_else(|e| panic!("{op:?}: {e}"))
    }

    /// One control request, the daemon's error as an `io::Error`.
    pub fn try_call(&self, op: Op) -> std::io::Result<Reply> {
        let mut c = Connection::open_at(&self.control, "netns test")?;
        c.call(op)
    }

    /// The addresses of every interface: `sixstack addr show --json`.
    pub fn addr_list(&self) -> Vec<AddrInfo> {
        self.cli_json(&["addr", "show", "--json"])
    }

    /// The interfaces: `sixstack link show --json`.
    pub fn links(&self) -> Vec<LinkInfo> {
        self.cli_json(&["link", "show", "--json"])
    }

    /// The routes: `sixstack route show --json`.
    pub fn routes(&self) -> Vec<RouteInfo> {
        self.cli_json(&["route", "show", "--json"])
    }

    /// Runs `sixstack ARGS` (which prints a JSON array) and parses its output.
    pub fn cli_json<T: serde::de::DeserializeOwned>(&self, args: &[&str]) -> Vec<T> {
        let text = self.cli_ok(args);
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("sixstack {}: {e}: {text}", args.join(" ")))
    }

    /// The stack's MAC address on `dev`.
    pub fn mac(&self, dev: &str) -> String {
        self.links()
            .into_iter()
            .find(|l| l.name == dev)
            .and_then(|l| l.mac)
            .unwrap_or_else(|| panic!("no MAC for {dev}"))
    }

    /// `sixstack addr add CIDR dev DEV` (such as `2001:db8:1::2/64`).
    pub fn addr_add(&self, dev: &str, cidr: &str) {
        self.cli_ok(&["addr", "add", cidr, "dev", dev]);
    }

    /// `sixstack route add ARGS`, in iproute2's words (`default via 2001:db8:1::1 dev tap0`).
    pub fn route_add(&self, args: &str) {
        let mut argv = vec!["route", "add"];
        argv.extend(args.split_whitespace());
        self.cli_ok(&argv);
    }

    /// Waits until `addr` on `dev` is in `state`, and returns it.
    pub fn wait_addr(&self, dev: &str, addr: Ipv6Addr, state: AddrState) -> AddrInfo {
        wait_for(
            &format!("{addr} on {dev} to be {}", state.as_str()),
            Duration::from_secs(15),
            || {
                self.addr_list()
                    .into_iter()
                    .find(|a| a.interface == dev && a.address == addr && a.state == state)
            },
        )
    }

    /// The preferred link-local address on `dev` (waiting for DAD to finish).
    pub fn link_local(&self, dev: &str) -> Ipv6Addr {
        wait_for(
            &format!("a preferred link-local address on {dev}"),
            Duration::from_secs(15),
            || {
                self.addr_list().into_iter().find_map(|a| {
                    (a.interface == dev
                        && a.origin == AddrOrigin::LinkLocal
                        && a.state == AddrState::Preferred)
                        .then_some(a.address)
                })
            },
        )
    }
}

/// A JSON array, or JSON lines, as a list of values.
pub fn parse_json_list(text: &str) -> Vec<serde_json::Value> {
    if let Ok(serde_json::Value::Array(v)) = serde_json::from_str(text) {
        return v;
    }
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// The sixstack binary under test.
pub fn sixstack_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_sixstack"))
}

// ----- helpers --------------------------------------------------------------------------

/// Polls `f` every 50 ms until it returns `Some`, for at most `timeout`; then fails the test
/// saying what it waited for.
pub fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        thread::sleep(Duration::from_millis(50));
    }
}

/// The standard output of a command that must have succeeded.
pub fn expect_success(what: &str, out: &Output) -> String {
    assert!(
        out.status.success(),
        "{what}: {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether `tool` is on PATH.
pub fn which(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}

fn is_root() -> bool {
    // /proc/self/status: "Uid:\treal\teffective\tsaved\tfs".
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// `$SIXSTACK_OUT`, else `test-output/` at the top of the workspace.
fn output_root() -> PathBuf {
    if let Some(d) = std::env::var_os("SIXSTACK_OUT") {
        return PathBuf::from(d);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-output")
}

/// Runs `cmd` to completion with captured output, killing it after `timeout`.
fn run_bounded(
    mut cmd: Command,
    input: Option<Vec<u8>>,
    timeout: Duration,
) -> Result<Output, String> {
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| format!("cannot start: {e}"))?;
    if let Some(data) = input {
        let mut stdin = child.stdin.take().expect("stdin");
        thread::spawn(move || {
            let _ = stdin.write_all(&data);
        });
    }
    let mut out_pipe = child.stdout.take().expect("stdout");
    let mut err_pipe = child.stderr.take().expect("stderr");
    let out_t = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out_pipe.read_to_end(&mut v);
        v
    });
    let err_t = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err_pipe.read_to_end(&mut v);
        v
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                let stdout = out_t.join().unwrap_or_default();
                let stderr = err_t.join().unwrap_or_default();
                return Err(format!(
                    "still running after {timeout:?}, killed\nstdout:\n{}\nstderr:\n{}",
                    String::from_utf8_lossy(&stdout),
                    String::from_utf8_lossy(&stderr)
                ));
            }
            Ok(None) => thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(format!("wait: {e}")),
        }
    };
    Ok(Output {
        status,
        stdout: out_t.join().unwrap_or_default(),
        stderr: err_t.join().unwrap_or_default(),
    })
}

/// Ends a tracked process: SIGTERM, its grace period, then SIGKILL; returns its exit status
/// and how it ended. Never panics (it runs in `Drop`, maybe while a test panics).
fn end(mut t: Tracked) -> (Option<ExitStatus>, String) {
    if let Ok(Some(s)) = t.child.try_wait() {
        return (Some(s), format!("had exited ({s})"));
    }
    let pid = t.child.id().to_string();
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    let deadline = Instant::now() + t.grace;
    while Instant::now() < deadline {
        if let Ok(Some(s)) = t.child.try_wait() {
            return (Some(s), format!("stopped by SIGTERM ({s})"));
        }
        thread::sleep(Duration::from_millis(20));
    }
    let _ = t.child.kill();
    match t.child.wait() {
        Ok(s) => (Some(s), format!("killed after {:?} ({s})", t.grace)),
        Err(e) => (None, format!("killed, wait failed: {e}")),
    }
}

/// The pids of the processes in namespace `ns`.
fn netns_pids(ns: &str) -> Vec<u32> {
    Command::new("ip")
        .args(["netns", "pids", ns])
        .stderr(Stdio::null())
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Removes namespaces left by earlier test runs that were killed before they could clean
/// up: `sx-<pid>-...` whose process no longer exists. Never those of a live process.
fn sweep_stale_namespaces() {
    let Ok(out) = Command::new("ip").args(["netns", "list"]).output() else {
        return;
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some(name) = line.split_whitespace().next() else {
            continue;
        };
        let Some(pid) = name
            .strip_prefix("sx-")
            .and_then(|r| r.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        if netns_pids(name).is_empty() {
            let _ = Command::new("ip").args(["netns", "del", name]).status();
        }
    }
}

/// Appends `data` to a file (for notes that tests want kept with the captures).
pub fn append(path: &Path, data: &str) {
    if let Ok(mut f) = OpenOptions::new().create(true).append(true).open(path) {
        let _ = f.write_all(data.as_bytes());
    }
}

// ----- Python peers (kernel sockets) -----------------------------------------------------

/// The payload every UDP test sends: byte `k` of a datagram is `(31 k + 7) mod 256`, so a
/// receiver checks the contents from the length alone.
pub fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|k| (k.wrapping_mul(31) + 7) as u8).collect()
}

/// A UDP or UDP-Lite peer on the kernel's sockets, for `/usr/bin/python3 -c`.
///
/// `recv PROTO BIND PORT CSCOV COUNT TIMEOUT ECHO`: binds (`BIND` may carry a zone,
/// `fe80::1%eth0`), prints `ready`, then one JSON line per datagram received:
/// `{"len", "src", "port", "ok"}` where `ok` says the payload is [`pattern`]`(len)`;
/// with `ECHO=1` it sends each datagram back to where it came from.
///
/// `send PROTO DST PORT CSCOV SIZE COUNT TIMEOUT`: sends `COUNT` datagrams of `SIZE` bytes
/// of the pattern; with `TIMEOUT > 0` waits for as many replies and prints a JSON line
/// for each, as `recv` does.
///
/// `PROTO` is `udp` or `udplite` (IPPROTO_UDPLITE = 136). For UDP-Lite, `CSCOV` is the
/// checksum coverage: UDPLITE_SEND_CSCOV (10) on a sender, UDPLITE_RECV_CSCOV (11) on a
/// receiver, where the kernel drops datagrams covered by fewer bytes (RFC 3828 §3.1).
/// 0 leaves the option alone (full coverage sent, any coverage accepted).
pub const PY_UDP: &str = r#"
import json, socket, sys
IPPROTO_UDPLITE, UDPLITE_SEND_CSCOV, UDPLITE_RECV_CSCOV = 136, 10, 11
def pattern(n):
    return bytes(((k * 31 + 7) & 0xff) for k in range(n))
def sock(proto):
    if proto == "udplite":
        return socket.socket(socket.AF_INET6, socket.SOCK_DGRAM, IPPROTO_UDPLITE)
    return socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
def where(host, port):
    return socket.getaddrinfo(host, port, socket.AF_INET6, socket.SOCK_DGRAM)[0][4]
def report(data, src):
    print(json.dumps({"len": len(data), "src": src[0], "port": src[1],
                      "ok": data == pattern(len(data))}), flush=True)
mode, proto = sys.argv[1], sys.argv[2]
s = sock(proto)
if mode == "recv":
    host, port, cscov, count, timeout, echo = sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7]), sys.argv[8] == "1"
    if proto == "udplite" and cscov:
        s.setsockopt(IPPROTO_UDPLITE, UDPLITE_RECV_CSCOV, cscov)
    s.bind(where(host, port))
    s.settimeout(timeout)
    print("ready", flush=True)
    for _ in range(count):
        data, src = s.recvfrom(70000)
        report(data, src)
        if echo:
            s.sendto(data, src)
else:
    host, port, cscov, size, count, timeout = sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]), float(sys.argv[8])
    if proto == "udplite" and cscov:
        s.setsockopt(IPPROTO_UDPLITE, UDPLITE_SEND_CSCOV, cscov)
    dst = where(host, port)
    for _ in range(count):
        s.sendto(pattern(size), dst)
    if timeout > 0:
        s.settimeout(timeout)
        for _ in range(count):
            data, src = s.recvfrom(70000)
            report(data, src)
"#;

/// Joins an IPv6 multicast group on an interface with a kernel socket
/// (`IPV6_JOIN_GROUP`), prints `joined`, and holds the membership until it is ended;
/// the kernel then leaves the group. Arguments: `GROUP IFNAME`.
pub const PY_JOIN: &str = r#"
import signal, socket, struct, sys, time
group, ifname = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
mreq = socket.inet_pton(socket.AF_INET6, group) + struct.pack("@I", socket.if_nametoindex(ifname))
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq)
print("joined", flush=True)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
while True:
    time.sleep(3600)
"#;

/// The JSON lines a [`PY_UDP`] peer printed (its log or output), skipping `ready`.
pub fn udp_reports(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .filter(|l| l.starts_with('{'))
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

impl Lab {
    /// Starts a [`PY_UDP`] receiver in `ns` named `name` and waits until it is bound.
    /// `args` follow `recv PROTO`: `[BIND, PORT, CSCOV, COUNT, TIMEOUT, ECHO]`.
    pub fn udp_receiver(&self, ns: &Ns, name: &str, proto: &str, args: &[&str]) -> u32 {
        let mut argv = vec!["/usr/bin/python3", "-c", PY_UDP, "recv", proto];
        argv.extend_from_slice(args);
        let pid = self.spawn(ns, name, &argv);
        wait_for(&format!("{name} to bind"), Duration::from_secs(10), || {
            let log = self.log_of(name);
            assert!(
                self.running(pid) || log.contains("ready"),
                "{name} exited: {log}"
            );
            log.contains("ready").then_some(())
        });
        pid
    }

    /// Joins `group` on `ifname` in `ns` with a kernel socket held by a process named
    /// `name` ([`PY_JOIN`]); [`Lab::stop`] on the returned pid leaves it.
    pub fn join_group(&self, ns: &Ns, name: &str, group: &str, ifname: &str) -> u32 {
        let pid = self.spawn(
            ns,
            name,
            &["/usr/bin/python3", "-c", PY_JOIN, group, ifname],
        );
        wait_for(
            &format!("{name} to join {group}"),
            Duration::from_secs(10),
            || {
                let log = self.log_of(name);
                assert!(self.running(pid), "{name} exited: {log}");
                log.contains("joined").then_some(())
            },
        );
        pid
    }
}

/// The groups `bridge mdb show` lists on `port` of `bridge` in the switch namespace.
pub fn mdb_groups(sw: &Ns, bridge: &str, port: &str) -> Vec<String> {
    let v = sw.json(&["bridge", "-j", "mdb", "show", "dev", bridge]);
    let mut groups = Vec::new();
    for entry in v.as_array().into_iter().flatten() {
        for m in entry["mdb"].as_array().into_iter().flatten() {
            if m["port"] == port
                && let Some(g) = m["grp"].as_str()
            {
                groups.push(g.to_string());
            }
        }
    }
    groups
}

// ----- judging the captures -------------------------------------------------------------

impl Lab {
    /// Makes a TAP device that appeared in the switch namespace (one the daemon created,
    /// `sixstack link add`) a port of `bridge`, up. Waits for it to exist.
    pub fn attach_tap(&self, ifname: &str, bridge: &Bridge) {
        let sw = &self.switch;
        wait_for(
            &format!("{ifname} to exist"),
            Duration::from_secs(10),
            || {
                sw.run(&["ip", "link", "show", "dev", ifname])
                    .status
                    .success()
                    .then_some(())
            },
        );
        sw.ok(&["ip", "link", "set", ifname, "master", &bridge.name, "up"]);
    }

    /// Every frame sent by `mac` in the captures so far that tshark finds malformed, or with
    /// a bad ICMPv6, UDP or UDP-Lite checksum (of the outermost header: an ICMPv6 error
    /// quotes what it is about), or with an expert error outside an ICMPv6 error's quote.
    /// Each as `<pcap> frame <n>: <info>`. Frames of the kernel are not judged: it leaves
    /// checksums to an offload that never happens on a veth, so captures show them unset.
    pub fn tshark_flagged(&self, mac: &str) -> Vec<String> {
        assert!(which("tshark").is_some(), "tshark is not installed");
        let mut flagged = Vec::new();
        let Ok(dir) = fs::read_dir(self.out_dir()) else {
            return flagged;
        };
        let mut pcaps: Vec<PathBuf> = dir
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "pcap"))
            .collect();
        pcaps.sort();
        let opts = [
            "-o",
            "udp.check_checksum:TRUE",
            "-o",
            "udplite.check_checksum:TRUE",
            "-o",
            "tcp.check_checksum:TRUE",
        ];
        let filter = format!(
            "eth.src == {mac} && (_ws.malformed || icmpv6.checksum.status#1 == \"Bad\" || \
             udp.checksum.status#1 == \"Bad\" || \
             (_ws.expert.severity == \"Error\" && !(icmpv6.type#1 < 128)))"
        );
        for pcap in pcaps {
            let p = pcap.to_string_lossy().into_owned();
            // UDP payloads are the tests' own bytes: decoded as data, not by port.
            let ports = Command::new("tshark")
                .args([
                    "-r",
                    &p,
                    "-T",
                    "fields",
                    "-e",
                    "udp.srcport",
                    "-e",
                    "udp.dstport",
                ])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default();
            let mut ports: Vec<&str> = ports
                .split(|c: char| c.is_whitespace() || c == ',')
                .filter(|s| !s.is_empty())
                .collect();
            ports.sort_unstable();
            ports.dedup();
            let mut cmd = Command::new("tshark");
            cmd.args(["-r", &p]).args(opts);
            for port in ports {
                cmd.args(["-d", &format!("udp.port=={port},data")]);
            }
            cmd.args([
                "-Y",
                &filter,
                "-T",
                "fields",
                "-e",
                "frame.number",
                "-e",
                "_ws.col.Info",
            ]);
            let out = cmd.output().expect("run tshark");
            assert!(
                out.status.success(),
                "tshark failed on {p}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let name = pcap
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                if let Some((n, info)) = line.split_once('\t') {
                    flagged.push(format!("{name} frame {n}: {info}"));
                }
            }
        }
        flagged
    }

    /// Fails the test when [`Lab::tshark_flagged`] finds anything sent by `mac`.
    pub fn assert_clean_captures(&self, mac: &str) {
        let flagged = self.tshark_flagged(mac);
        assert!(
            flagged.is_empty(),
            "tshark flags frames sent by {mac}:\n{}",
            flagged.join("\n")
        );
    }

    /// How many frames of the capture `pcap` (a path in the output folder: `br0.pcap`, or
    /// the daemon's own `sixstack-pcap/tap0.pcap`) match the display filter `filter` (for
    /// example `ipv6.fraghdr && eth.src == 02:..`).
    pub fn count_frames(&self, pcap: &str, filter: &str) -> usize {
        let p = self.out_dir().join(pcap);
        let out = Command::new("tshark")
            .arg("-r")
            .arg(&p)
            .args(["-Y", filter, "-T", "fields", "-e", "frame.number"])
            .output()
            .expect("run tshark");
        assert!(
            out.status.success(),
            "tshark -Y {filter}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).lines().count()
    }
}

// ----- kernel hosts behind a router -----------------------------------------------------

/// Whether `addr` is inside `prefix` (`2001:db8:1::/64`).
pub fn in_prefix(addr: &Ipv6Addr, prefix: &str) -> bool {
    let (p, len) = prefix.split_once('/').unwrap_or((prefix, "128"));
    let p: Ipv6Addr = p.parse().expect("a prefix");
    let len: u32 = len.parse().expect("a prefix length");
    let mask = if len == 0 {
        0
    } else {
        u128::MAX << (128 - len)
    };
    u128::from(*addr) & mask == u128::from(p) & mask
}

/// The hops `traceroute -n -q 1` printed, in order: the address of each (or `*`).
pub fn traceroute_hops(out: &str) -> Vec<String> {
    out.lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().nth(1))
        .map(str::to_string)
        .collect()
}

impl Ns {
    /// Sets the MTU of `dev` here.
    pub fn set_mtu(&self, dev: &str, mtu: u32) {
        self.ok(&["ip", "link", "set", "dev", dev, "mtu", &mtu.to_string()]);
    }

    /// Waits (at most `timeout`) for an address on `dev` in `prefix` that the kernel formed
    /// by SLAAC (`dynamic`, not tentative), and returns it with its `ip -j` details.
    pub fn slaac_address(
        &self,
        dev: &str,
        prefix: &str,
        timeout: Duration,
    ) -> (Ipv6Addr, serde_json::Value) {
        wait_for(
            &format!("a SLAAC address in {prefix} on {dev} of {}", self.role()),
            timeout,
            || {
                self.addrs(dev).into_iter().find_map(|a| {
                    let ip: Ipv6Addr = a["local"].as_str()?.parse().ok()?;
                    let ok = in_prefix(&ip, prefix)
                        && a["dynamic"].as_bool() == Some(true)
                        && !a["tentative"].as_bool().unwrap_or(false);
                    ok.then_some((ip, a))
                })
            },
        )
    }

    /// Waits (at most `timeout`) for a default route on `dev`, and returns its `ip -j -6
    /// route` object (`gateway`, `protocol`, `metrics`, ...).
    pub fn default_route(&self, dev: &str, timeout: Duration) -> serde_json::Value {
        wait_for(
            &format!("a default route on {dev} of {}", self.role()),
            timeout,
            || {
                let v = self.json(&["ip", "-j", "-6", "route", "show", "default", "dev", dev]);
                v.as_array()?
                    .iter()
                    .find(|r| r["gateway"].is_string())
                    .cloned()
            },
        )
    }

    /// What the kernel here would do with a packet to `dst`: the object of
    /// `ip -j -6 route get DST` (`gateway`, `dev`, `prefsrc`, `metrics` with the path MTU).
    pub fn route_get(&self, dst: &str) -> serde_json::Value {
        let v = self.json(&["ip", "-j", "-6", "route", "get", dst]);
        v[0].clone()
    }

    /// The IPv6 MTU of `dev` (`/proc/sys/net/ipv6/conf/<dev>/mtu`), which an RA's MTU
    /// option sets.
    pub fn ipv6_mtu(&self, dev: &str) -> u32 {
        let text = self.ok(&["cat", &format!("/proc/sys/net/ipv6/conf/{dev}/mtu")]);
        text.trim()
            .parse()
            .unwrap_or_else(|e| panic!("ipv6 mtu of {dev}: {e}: {text}"))
    }
}

impl Lab {
    /// Sets the MTU of both ends of `link` (made by [`Lab::link`] from `ns`).
    pub fn set_link_mtu(&self, ns: &Ns, link: &Link, mtu: u32) {
        ns.set_mtu(&link.ifname, mtu);
        self.switch.set_mtu(&link.port, mtu);
    }
}

/// The path MTU in an `ip -j -6 route get` object, if the kernel shows one.
pub fn route_mtu(route: &serde_json::Value) -> Option<u64> {
    route["metrics"]
        .as_array()?
        .iter()
        .find_map(|m| m["mtu"].as_u64())
}

impl Daemon {
    /// `sixstack route get ADDR --json`: the route, next hop, interface, source and path
    /// MTU the daemon would use for `addr`, and what chose them.
    pub fn route_get(&self, addr: &str) -> sixstack_api::RouteGetInfo {
        let text = self.cli_ok(&["route", "get", addr, "--json"]);
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("sixstack route get {addr}: {e}: {text}"))
    }

    /// `sixstack stats --json`.
    pub fn stats(&self) -> sixstack_api::StatsInfo {
        let text = self.cli_ok(&["stats", "--json"]);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("sixstack stats: {e}: {text}"))
    }
}
