//! The daemon: one [`Stack`] driven over TAP devices by a single-threaded event loop,
//! with its control socket. Everything the stack does happens on the loop's one task, so
//! nothing is shared or locked; devices and clients have small I/O tasks that only move
//! bytes to and from it.
//!
//! One turn of the loop: take one input (a frame, a client line, a timer, a signal),
//! give it to the stack, then [`Daemon::pump`]: frames to their devices (and pcaps),
//! events to the log and subscribers, waiting `recv`s their data.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Read};
use std::path::{Path, PathBuf};
use std::time::Duration as StdDuration;

use sixstack_api as api;
use sixstack_api::{ErrorKind, Response};
use sixstack_core::{IfaceConfig, IfaceId, Instant, LinkKind, SocketHandle, Stack, StackConfig};
use sixstack_wire::pcap::PcapWriter;
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::mpsc;

use crate::clock::Clock;
use crate::config::{Config, InterfaceConfig, RouteType, parse_mac, parse_prefix};
use crate::conn::{self, ConnId, ConnInput};
use crate::log::{LogFormat, Logger};
use crate::state::{self, State};
use crate::tap::{self, Tap, TapInput};

/// How often devices are checked for carrier and for having vanished or come back.
const CARRIER_POLL: StdDuration = StdDuration::from_millis(500);
/// Inputs of each kind taken in one turn of the loop before the stack is pumped.
const BATCH: usize = 64;
/// How long a stopping daemon waits for its final Router Advertisements: a little over
/// MIN_DELAY_BETWEEN_RAS (RFC 4861 §10), the longest the rate limit can hold one back.
const FINAL_ADVERT_WAIT: StdDuration = StdDuration::from_millis(3500);

/// What `sixstack run` was asked.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// TAP devices to drive (created if absent).
    pub taps: Vec<String>,
    pub config: Option<PathBuf>,
    /// The control socket.
    pub control: PathBuf,
    /// The state file; beside the control socket when None.
    pub state: Option<PathBuf>,
    /// One pcap per interface in this directory.
    pub pcap: Option<PathBuf>,
    pub log_format: LogFormat,
}

impl Options {
    /// The control socket path: `--control`, else `$SIXSTACK_CONTROL`, else the default.
    pub fn control_path(flag: Option<PathBuf>) -> PathBuf {
        flag.or_else(|| std::env::var_os(api::CONTROL_ENV).map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from(api::DEFAULT_CONTROL_PATH))
    }

    pub fn state_path(&self) -> PathBuf {
        self.state
            .clone()
            .unwrap_or_else(|| state::default_path(&self.control))
    }
}

/// Runs the daemon until SIGINT or SIGTERM, on a runtime of its own.
pub fn run(opts: Options) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the event loop: {e}"))?;
    rt.block_on(async {
        let shutdown = async {
            use tokio::signal::unix::{SignalKind, signal};
            match (
                signal(SignalKind::interrupt()),
                signal(SignalKind::terminate()),
            ) {
                (Ok(mut i), Ok(mut t)) => {
                    tokio::select! {
                        _ = i.recv() => {}
                        _ = t.recv() => {}
                    }
                }
                _ => std::future::pending::<()>().await,
            }
        };
        serve(opts, shutdown).await
    })
}

/// Runs the daemon until `shutdown` completes (tests pass their own trigger). Must be
/// called on a current-thread Tokio runtime with I/O and time enabled.
pub async fn serve(
    opts: Options,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), String> {
    let mut d = Daemon::start(opts).await?;
    let result = d.run(shutdown).await;
    d.stop();
    result
}

/// A link the daemon drives, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LinkSpec {
    pub name: String,
    pub mac: Option<String>,
    pub mtu: Option<u32>,
    /// Added through the control socket (and so saved in the state file).
    pub saved: bool,
}

pub(crate) struct TapSlot {
    pub tap: Tap,
    pub spec: LinkSpec,
    pub key: u64,
    reader: tokio::task::JoinHandle<()>,
    pcap: Option<PcapWriter<BufWriter<File>>>,
    pub up: bool,
}

/// One client connection.
pub(crate) struct Conn {
    pub out: mpsc::Sender<conn::Out>,
    /// The reader task, stopped when the connection is dropped.
    pub reader: tokio::task::AbortHandle,
    /// Set once the connection carries a TCP stream ([`api::Op::StreamAttach`]).
    pub stream: Option<crate::tcp::Stream>,
    pub hello: bool,
    pub client: String,
    pub sockets: BTreeMap<api::SocketId, (SocketHandle, api::SocketKind)>,
    pub next_socket: u32,
    /// The request id of an event subscription.
    pub subscription: Option<u64>,
    /// Events this subscriber missed because it read too slowly, not yet reported.
    pub missed: u64,
}

/// A `recv` waiting for data, a `tcp_connect` for its handshake, a `tcp_accept` for a
/// connection.
pub(crate) struct PendingRecv {
    pub conn: ConnId,
    pub id: u64,
    pub socket: api::SocketId,
    pub deadline: Option<Instant>,
    pub wait: Wait,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wait {
    Recv,
    TcpConnect,
    TcpAccept,
}

pub struct Daemon {
    pub(crate) stack: Stack,
    pub(crate) clock: Clock,
    pub(crate) log: Logger,
    pub(crate) opts: Options,
    pub(crate) config: Config,
    pub(crate) state: State,
    pub(crate) secret: [u8; 32],
    pub(crate) taps: BTreeMap<IfaceId, TapSlot>,
    /// Links that were driven and whose device vanished: re-attached when it returns.
    pub(crate) vanished: BTreeMap<String, LinkSpec>,
    /// Every interface's name, removed ones too (events name them after removal).
    pub(crate) names: BTreeMap<IfaceId, String>,
    pcap_runs: BTreeMap<String, u32>,
    next_key: u64,
    frames_tx: mpsc::Sender<(u64, TapInput)>,
    frames_rx: mpsc::Receiver<(u64, TapInput)>,
    ctl_tx: mpsc::Sender<ConnInput>,
    ctl_rx: mpsc::Receiver<ConnInput>,
    listener: Option<UnixListener>,
    pub(crate) conns: BTreeMap<ConnId, Conn>,
    next_conn: ConnId,
    pub(crate) pending: Vec<PendingRecv>,
    /// `resolve`s waiting for a DNS answer.
    pub(crate) dns_pending: Vec<crate::lookup::PendingDns>,
    /// TCP connections handed to clients, by stream token.
    pub(crate) tcp: BTreeMap<u64, crate::tcp::TcpEntry>,
    pub(crate) token_key: u64,
    pub(crate) next_token: u64,
}

pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], String> {
    let mut b = [0u8; N];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .map_err(|e| format!("cannot read /dev/urandom: {e}"))?;
    Ok(b)
}

impl Daemon {
    /// Reads the configuration and the state, opens the devices, listens.
    pub async fn start(opts: Options) -> Result<Daemon, String> {
        let clock = Clock::start();
        let log = Logger::new(opts.log_format);
        let config = match &opts.config {
            Some(p) => Config::load(p)?,
            None => Config::default(),
        };
        let state_path = opts.state_path();
        let state = State::load(&state_path, random_bytes::<32>()?)?;
        let secret = state.secret_bytes().unwrap_or([0; 32]);
        let seed = match config.seed {
            Some(s) => s,
            None => u64::from_ne_bytes(random_bytes::<8>()?),
        };
        let stack = Stack::new(
            StackConfig {
                forwarding: config.forwarding,
                ..StackConfig::default()
            },
            seed,
        );
        let listener = bind_control(&opts.control).await?;
        let (frames_tx, frames_rx) = mpsc::channel(1024);
        let (ctl_tx, ctl_rx) = mpsc::channel(256);
        let mut d = Daemon {
            stack,
            clock,
            log,
            opts,
            config,
            state,
            secret,
            taps: BTreeMap::new(),
            vanished: BTreeMap::new(),
            names: BTreeMap::new(),
            pcap_runs: BTreeMap::new(),
            next_key: 1,
            frames_tx,
            frames_rx,
            ctl_tx,
            ctl_rx,
            listener: Some(listener),
            conns: BTreeMap::new(),
            next_conn: 1,
            pending: Vec::new(),
            dns_pending: Vec::new(),
            tcp: BTreeMap::new(),
            token_key: u64::from_ne_bytes(random_bytes::<8>()?),
            next_token: 1,
        };
        if d.config.loopback {
            let now = d.clock.now();
            let id = d.stack.add_interface(now, IfaceConfig::loopback());
            d.names.insert(id, "lo".to_string());
        }
        if let Err(e) = d.open_initial_links() {
            d.stop();
            return Err(e);
        }
        if let Err(e) = d.save_state() {
            d.stop();
            return Err(e);
        }
        let now = d.clock.now();
        d.log.info(
            now,
            None,
            &format!(
                "sixstack {} listening on {} (state {}){}",
                env!("CARGO_PKG_VERSION"),
                d.opts.control.display(),
                state_path.display(),
                if d.config.forwarding {
                    ", forwarding"
                } else {
                    ""
                }
            ),
        );
        d.pump();
        Ok(d)
    }

    /// Links from the command line, the configuration file and the state file, each
    /// once, in that order. One that cannot be opened stops the start, except a saved
    /// one (its device may be gone for good): that is only reported.
    fn open_initial_links(&mut self) -> Result<(), String> {
        let mut specs: Vec<LinkSpec> = Vec::new();
        let mut push = |s: LinkSpec| {
            if !specs.iter().any(|x| x.name == s.name) {
                specs.push(s);
            }
        };
        for t in &self.opts.taps {
            push(LinkSpec {
                name: t.clone(),
                mac: None,
                mtu: None,
                saved: false,
            });
        }
        for i in &self.config.interfaces {
            push(LinkSpec {
                name: i.name.clone(),
                mac: i.mac.clone(),
                mtu: i.mtu,
                saved: false,
            });
        }
        for l in &self.state.links {
            push(LinkSpec {
                name: l.dev.clone(),
                mac: l.mac.clone(),
                mtu: l.mtu,
                saved: true,
            });
        }
        for s in specs {
            let saved = s.saved;
            let name = s.name.clone();
            if let Err(e) = self.open_link(s) {
                if saved {
                    let now = self.clock.now();
                    self.log
                        .warn(now, Some(&name), &format!("saved link not opened: {e}"));
                } else {
                    return Err(e);
                }
            }
        }
        for r in self.config.routes.clone() {
            let (prefix, prefix_len) = parse_prefix(&r.to)?;
            if let Err(e) = self.add_route(prefix, prefix_len, r.via, &r.dev, r.metric, r.kind) {
                return Err(format!(
                    "route {} in the configuration: {}",
                    r.to, e.message
                ));
            }
        }
        for r in self.state.routes.clone() {
            if self.stack.interface_by_name(&r.dev).is_none() {
                continue;
            }
            if let Err(e) = self.add_route(r.prefix, r.prefix_len, r.via, &r.dev, r.metric, r.kind)
            {
                let now = self.clock.now();
                self.log.warn(
                    now,
                    Some(&r.dev),
                    &format!(
                        "saved route {}/{} not restored: {}",
                        r.prefix, r.prefix_len, e.message
                    ),
                );
            }
        }
        Ok(())
    }

    /// Opens a TAP device and makes it an interface, with the configuration file's
    /// settings for it and the addresses configured or saved for it.
    pub(crate) fn open_link(&mut self, spec: LinkSpec) -> Result<IfaceId, String> {
        if self.stack.interface_by_name(&spec.name).is_some() {
            return Err(format!("interface {} exists already", spec.name));
        }
        let icfg = self
            .config
            .interface(&spec.name)
            .cloned()
            .unwrap_or_else(|| InterfaceConfig {
                name: spec.name.clone(),
                ..InterfaceConfig::default()
            });
        let mut cfg: IfaceConfig = icfg.iface_config(&self.secret)?;
        let mac = match spec.mac.as_deref().or(icfg.mac.as_deref()) {
            Some(m) => parse_mac(m)?,
            None => tap::derive_mac(&self.secret, &spec.name),
        };
        cfg.link = LinkKind::Ethernet { mac };
        let tap = Tap::open(&spec.name, spec.mtu.or(cfg.mtu)).map_err(|e| {
            format!(
                "cannot open TAP device {}: {e}{}",
                spec.name,
                if e.kind() == std::io::ErrorKind::PermissionDenied {
                    " (creating TAP devices needs root or CAP_NET_ADMIN)"
                } else {
                    ""
                }
            )
        })?;
        let kernel_mac = tap.kernel_mac().ok();
        if kernel_mac == Some(mac) {
            return Err(format!(
                "{}: the stack's MAC {mac} is the kernel's own on this device; give another",
                spec.name
            ));
        }
        if cfg.mtu.is_none() {
            cfg.mtu = tap.mtu().ok();
        }
        let up = tap.is_up().unwrap_or(false);
        let now = self.clock.now();
        let id = self.stack.add_interface(now, cfg);
        if !up {
            self.stack.set_link(now, id, false);
        }
        self.names.insert(id, spec.name.clone());
        let key = self.next_key;
        self.next_key += 1;
        let reader = tap.spawn_reader(key, self.frames_tx.clone());
        self.log.info(
            now,
            Some(&spec.name),
            &format!(
                "TAP device {} ({}), stack MAC {mac}, kernel MAC {}, MTU {}, {}",
                if tap.existed { "opened" } else { "created" },
                if up { "up" } else { "down" },
                kernel_mac.map_or_else(|| "?".to_string(), |m| m.to_string()),
                self.stack.interface(id).map_or(0, |i| i.mtu),
                if icfg.advertise.is_some() {
                    "advertising"
                } else {
                    "host"
                },
            ),
        );
        let pcap = self.open_pcap(&spec.name, id);
        self.taps.insert(
            id,
            TapSlot {
                tap,
                spec: spec.clone(),
                key,
                reader,
                pcap,
                up,
            },
        );
        self.vanished.remove(&spec.name);
        // Addresses of the configuration file, then the saved ones.
        let mut addrs: Vec<(std::net::Ipv6Addr, u8)> = Vec::new();
        for a in &icfg.addresses {
            addrs.push(parse_prefix(a)?);
        }
        for a in self.state.addresses.iter().filter(|a| a.dev == spec.name) {
            addrs.push((a.address, a.prefix_len));
        }
        for (a, len) in addrs {
            if let Err(e) = self.stack.add_address(now, id, a, len) {
                self.log.warn(
                    now,
                    Some(&spec.name),
                    &format!("address {a}/{len} not added: {e}"),
                );
            }
        }
        Ok(id)
    }

    fn open_pcap(&mut self, name: &str, id: IfaceId) -> Option<PcapWriter<BufWriter<File>>> {
        let dir = self.opts.pcap.clone()?;
        let run = self.pcap_runs.entry(name.to_string()).or_insert(0);
        *run += 1;
        let file = if *run == 1 {
            dir.join(format!("{name}.pcap"))
        } else {
            dir.join(format!("{name}-{run}.pcap"))
        };
        let linktype = self
            .stack
            .interface(id)
            .map_or(1, |i| i.link.pcap_link_type());
        let now = self.clock.now();
        let w = std::fs::create_dir_all(&dir)
            .and_then(|()| File::create(&file))
            .and_then(|f| PcapWriter::new(BufWriter::new(f), linktype, 262_144));
        match w {
            Ok(w) => {
                self.log
                    .info(now, Some(name), &format!("capturing to {}", file.display()));
                Some(w)
            }
            Err(e) => {
                self.log.warn(
                    now,
                    Some(name),
                    &format!("no capture: {}: {e}", file.display()),
                );
                None
            }
        }
    }

    /// Takes an interface out of the stack and closes its device. A device the daemon
    /// created goes with it (the kernel deletes a TAP device nobody holds open).
    pub(crate) fn close_link(&mut self, id: IfaceId) {
        let now = self.clock.now();
        let _ = self.stack.remove_interface(now, id);
        if let Some(mut slot) = self.taps.remove(&id) {
            slot.reader.abort();
            if let Some(p) = slot.pcap.as_mut() {
                let _ = p.flush();
            }
        }
    }

    /// The device under an interface failed or vanished: report it, drop the interface,
    /// and wait for the device to come back.
    fn device_gone(&mut self, id: IfaceId, why: &str) {
        let Some(slot) = self.taps.get(&id) else {
            return;
        };
        let spec = slot.spec.clone();
        let now = self.clock.now();
        self.log.warn(
            now,
            Some(&spec.name),
            &format!(
                "device gone ({why}); interface removed. It is re-attached if the device \
                 comes back (`ip tuntap add {} mode tap`), or `sixstack link add {}` creates it",
                spec.name, spec.name
            ),
        );
        let ev = api::EventInfo {
            time_us: now.total_micros(),
            dev: Some(spec.name.clone()),
            message: format!("device {} gone: {why}", spec.name),
            detail: api::EventDetail::DeviceGone,
        };
        self.broadcast(&ev);
        self.close_link(id);
        self.vanished.insert(spec.name.clone(), spec);
    }

    /// Carrier: a device's up-and-running flags, polled, become the stack's link state;
    /// vanished devices that came back are attached again.
    fn check_devices(&mut self) {
        let now = self.clock.now();
        let ids: Vec<IfaceId> = self.taps.keys().copied().collect();
        for id in ids {
            let Some(slot) = self.taps.get_mut(&id) else {
                continue;
            };
            match slot.tap.is_up() {
                Ok(up) if up != slot.up => {
                    slot.up = up;
                    let name = slot.spec.name.clone();
                    self.log.info(
                        now,
                        Some(&name),
                        if up {
                            "device up: link up (DAD and router solicitation start again)"
                        } else {
                            "device down: link down"
                        },
                    );
                    self.stack.set_link(now, id, up);
                }
                Ok(_) => {}
                Err(e) => self.device_gone(id, &e.to_string()),
            }
        }
        let back: Vec<LinkSpec> = self
            .vanished
            .values()
            .filter(|s| tap::device_exists(&s.name))
            .cloned()
            .collect();
        for spec in back {
            let name = spec.name.clone();
            self.log
                .info(now, Some(&name), "device is back: attaching it again");
            match self.open_link(spec) {
                Ok(_) => {
                    self.restore_routes(&name);
                }
                Err(e) => {
                    self.log.warn(now, Some(&name), &e);
                }
            }
        }
    }

    /// The routes the configuration and the state give through `dev`.
    pub(crate) fn restore_routes(&mut self, dev: &str) {
        // (prefix, length, next hop, metric, type)
        type Saved = (
            std::net::Ipv6Addr,
            u8,
            Option<std::net::Ipv6Addr>,
            Option<u32>,
            RouteType,
        );
        let mut routes: Vec<Saved> = Vec::new();
        for r in self.config.routes.iter().filter(|r| r.dev == dev) {
            if let Ok((p, l)) = parse_prefix(&r.to) {
                routes.push((p, l, r.via, r.metric, r.kind));
            }
        }
        for r in self.state.routes.iter().filter(|r| r.dev == dev) {
            routes.push((r.prefix, r.prefix_len, r.via, r.metric, r.kind));
        }
        for (p, l, via, metric, kind) in routes {
            if let Err(e) = self.add_route(p, l, via, dev, metric, kind) {
                let now = self.clock.now();
                self.log.warn(
                    now,
                    Some(dev),
                    &format!("route {p}/{l} not restored: {}", e.message),
                );
            }
        }
    }

    pub(crate) fn save_state(&self) -> Result<(), String> {
        self.state.save(&self.opts.state_path())
    }

    /// Saves the state, and reports a failure in the log rather than to the client whose
    /// change is already made.
    pub(crate) fn persist(&self) {
        if let Err(e) = self.save_state() {
            let now = self.clock.now();
            self.log.error(now, None, &format!("state not saved: {e}"));
        }
    }

    // ----- the loop ----------------------------------------------------------------------

    async fn run(&mut self, shutdown: impl std::future::Future<Output = ()>) -> Result<(), String> {
        tokio::pin!(shutdown);
        let Some(listener) = self.listener.take() else {
            return Err("the daemon is not listening".into());
        };
        let mut carrier = tokio::time::interval(CARRIER_POLL);
        carrier.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let wake = self
                .next_wakeup()
                .map(|t| tokio::time::Instant::from_std(self.clock.to_std(t)));
            let sleep = async move {
                match wake {
                    Some(t) => tokio::time::sleep_until(t).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                _ = &mut shutdown => break,
                Some((key, input)) = self.frames_rx.recv() => self.on_frame(key, input),
                Some(input) = self.ctl_rx.recv() => self.on_conn_input(input),
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => self.on_accept(stream),
                    Err(e) => {
                        let now = self.clock.now();
                        self.log.warn(now, None, &format!("control socket accept: {e}"));
                    }
                },
                _ = carrier.tick() => self.check_devices(),
                _ = sleep => {}
            }
            // Whatever else is already there, before one pump for all of it: a burst of
            // segments gets one pass over the streams, not one each.
            for _ in 0..BATCH {
                match self.frames_rx.try_recv() {
                    Ok((key, input)) => self.on_frame(key, input),
                    Err(_) => break,
                }
            }
            for _ in 0..BATCH {
                match self.ctl_rx.try_recv() {
                    Ok(input) => self.on_conn_input(input),
                    Err(_) => break,
                }
            }
            self.poll_and_pump();
        }
        let now = self.clock.now();
        self.log.info(now, None, "stopping");
        self.send_final_adverts().await;
        Ok(())
    }

    /// RFC 4861 §6.2.5: a router that stops tells its hosts with a final advertisement
    /// (router lifetime 0) on each advertising interface, so they drop it as a default
    /// router at once instead of when the lifetime runs out. One each: the rate limit
    /// would make more cost seconds. Bounded by that rate limit (3 s).
    async fn send_final_adverts(&mut self) {
        let now = self.clock.now();
        if self.stack.stop_advertising(now, 1) == 0 {
            return;
        }
        let deadline = tokio::time::Instant::now() + FINAL_ADVERT_WAIT;
        while self.stack.finals_pending() > 0 && tokio::time::Instant::now() < deadline {
            self.poll_and_pump();
            let wake = self
                .stack
                .poll_at()
                .map(|t| tokio::time::Instant::from_std(self.clock.to_std(t)))
                .unwrap_or(deadline)
                .min(deadline);
            tokio::time::sleep_until(wake).await;
        }
        self.poll_and_pump();
    }

    /// The earliest of the stack's next timer and the waiting `recv`s' deadlines.
    fn next_wakeup(&self) -> Option<Instant> {
        let mut at = self.stack.poll_at();
        for p in &self.pending {
            if let Some(d) = p.deadline {
                at = Some(at.map_or(d, |a| a.min(d)));
            }
        }
        for p in &self.dns_pending {
            at = Some(at.map_or(p.deadline, |a| a.min(p.deadline)));
        }
        at
    }

    fn poll_and_pump(&mut self) {
        let now = self.clock.now();
        if self.stack.poll_at().is_some_and(|t| t <= now) {
            self.stack.poll(now);
        }
        self.pump();
    }

    fn on_frame(&mut self, key: u64, input: TapInput) {
        let Some(id) = self
            .taps
            .iter()
            .find(|(_, s)| s.key == key)
            .map(|(i, _)| *i)
        else {
            return; // from a device closed since
        };
        match input {
            TapInput::Frame(f) => {
                let now = self.clock.now();
                let ts = self.clock.unix_time(now);
                if let Some(p) = self.taps.get_mut(&id).and_then(|s| s.pcap.as_mut()) {
                    let _ = p.write_packet(ts.0, ts.1, &f);
                }
                self.stack.receive(now, id, &f);
            }
            TapInput::Failed(e) => self.device_gone(id, &e.to_string()),
        }
    }

    fn on_accept(&mut self, stream: UnixStream) {
        let id = self.next_conn;
        self.next_conn += 1;
        let (out, reader) = conn::spawn(id, stream, self.ctl_tx.clone());
        self.conns.insert(
            id,
            Conn {
                out,
                reader,
                stream: None,
                hello: false,
                client: String::new(),
                sockets: BTreeMap::new(),
                next_socket: 1,
                subscription: None,
                missed: 0,
            },
        );
    }

    fn on_conn_input(&mut self, input: ConnInput) {
        match input {
            ConnInput::Line(c, line) => {
                if let Some(r) = self.on_line(c, &line) {
                    self.send(c, &r);
                }
            }
            ConnInput::TooLong(c) => {
                let r = Response::error(
                    0,
                    ErrorKind::BadRequest,
                    format!("line longer than {} bytes; closing", api::MAX_LINE),
                );
                self.send(c, &r);
                self.drop_conn(c);
            }
            ConnInput::Closed(c) => self.drop_conn(c),
            ConnInput::Attach(c, line, verdict) => {
                if let Some(r) = self.on_line(c, &line) {
                    // The last line before the stream's bytes, when it attached.
                    if let Some(conn) = self.conns.get(&c) {
                        let _ = conn.out.try_send(conn::Out::Line(api::encode_line(&r)));
                    }
                }
                let credit = self
                    .conns
                    .get(&c)
                    .and_then(|k| k.stream.as_ref())
                    .map(|s| s.credit.clone());
                let _ = verdict.send(credit);
            }
            ConnInput::Data(c, data) => self.stream_data(c, data),
            ConnInput::StreamEof(c) => self.stream_eof(c),
            ConnInput::Wrote(c, n) => self.stream_wrote(c, n),
            ConnInput::WriteFailed(c) => self.stream_write_failed(c),
        }
    }

    /// A client went: every socket it opened is closed (a dying client leaves nothing).
    pub(crate) fn drop_conn(&mut self, c: ConnId) {
        let Some(conn) = self.conns.remove(&c) else {
            return;
        };
        conn.reader.abort();
        let now = self.clock.now();
        for (h, kind) in conn.sockets.values() {
            match kind {
                api::SocketKind::Tcp | api::SocketKind::TcpListener => self.release_tcp(*h),
                _ => {
                    let _ = self.stack.close(now, *h);
                }
            }
        }
        if let Some(st) = conn.stream {
            self.stream_gone(st);
        }
        self.pending.retain(|p| p.conn != c);
        self.drop_dns(c);
    }

    /// Queues a message to a client. A client that lets its queue fill is dropped.
    pub(crate) fn send(&mut self, c: ConnId, r: &Response) {
        let Some(conn) = self.conns.get(&c) else {
            return;
        };
        if conn.stream.is_some() {
            return; // its bytes are the TCP connection's now
        }
        if conn
            .out
            .try_send(conn::Out::Line(api::encode_line(r)))
            .is_err()
        {
            let now = self.clock.now();
            self.log.warn(
                now,
                None,
                &format!(
                    "client {c} ({}) does not read its answers: dropped",
                    conn.client
                ),
            );
            self.drop_conn(c);
        }
    }

    /// Everything the stack has to say after an input: frames, events, data for
    /// waiting `recv`s.
    pub(crate) fn pump(&mut self) {
        // First, so that a retried query goes out with this pump's frames.
        self.serve_dns();
        // Before the frames too: what the streams send, and the window updates of what
        // they took, go out now.
        self.serve_streams();
        while let Some((id, frame)) = self.stack.transmit() {
            let Some(slot) = self.taps.get_mut(&id) else {
                continue;
            };
            if let Some(p) = slot.pcap.as_mut() {
                let now = self.clock.now();
                let ts = self.clock.unix_time(now);
                let _ = p.write_packet(ts.0, ts.1, &frame);
            }
            // A device that is down refuses frames (EIO); the stack already knows, or
            // learns at the next carrier poll.
            let _ = slot.tap.send(&frame);
        }
        for slot in self.taps.values_mut() {
            if let Some(p) = slot.pcap.as_mut() {
                let _ = p.flush();
            }
        }
        for e in self.stack.take_events() {
            let info = crate::convert::event(&e, &self.names);
            self.log.event(&info);
            self.broadcast(&info);
        }
        self.serve_pending();
    }

    /// An event to every subscriber that keeps up; the others learn how many they missed.
    fn broadcast(&mut self, ev: &api::EventInfo) {
        for conn in self.conns.values_mut() {
            let Some(sub) = conn.subscription else {
                continue;
            };
            if conn.stream.is_some() {
                continue;
            }
            if conn.out.capacity() <= conn::EVENT_HEADROOM {
                conn.missed += 1;
                continue;
            }
            if conn.missed > 0 {
                let lag = api::EventInfo {
                    time_us: ev.time_us,
                    dev: None,
                    message: format!("{} events missed: read faster", conn.missed),
                    detail: api::EventDetail::Lagged {
                        missed: conn.missed,
                    },
                };
                let _ = conn
                    .out
                    .try_send(conn::Out::Line(api::encode_line(&Response {
                        id: sub,
                        body: api::Body::Event(lag),
                    })));
                conn.missed = 0;
            }
            let _ = conn
                .out
                .try_send(conn::Out::Line(api::encode_line(&Response {
                    id: sub,
                    body: api::Body::Event(ev.clone()),
                })));
        }
    }

    /// Answers the waiting `recv`s that have data or whose time is up, oldest first.
    fn serve_pending(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let now = self.clock.now();
        let pending = std::mem::take(&mut self.pending);
        for p in pending {
            let r = match p.wait {
                Wait::Recv => self.try_recv(p.conn, p.socket),
                Wait::TcpConnect => self.try_connected(p.conn, p.socket),
                Wait::TcpAccept => self.try_accept(p.conn, p.socket),
            };
            match r {
                Ok(reply) => self.send(p.conn, &Response::ok(p.id, reply)),
                Err(e) if e.kind == ErrorKind::WouldBlock => {
                    if p.deadline.is_some_and(|d| d <= now) {
                        let what = match p.wait {
                            Wait::Recv => "no data before the timeout",
                            Wait::TcpConnect => "the connection was not established in time",
                            Wait::TcpAccept => "no connection came before the timeout",
                        };
                        if p.wait == Wait::TcpConnect {
                            self.forget_tcp(p.conn, p.socket, true);
                        }
                        self.send(p.conn, &Response::error(p.id, ErrorKind::TimedOut, what));
                    } else {
                        self.pending.push(p);
                    }
                }
                Err(e) => {
                    if p.wait == Wait::TcpConnect {
                        self.forget_tcp(p.conn, p.socket, true);
                    }
                    self.send(
                        p.conn,
                        &Response {
                            id: p.id,
                            body: api::Body::Error(e),
                        },
                    )
                }
            }
        }
    }

    /// Closes everything: devices (the ones the daemon created vanish), captures, the
    /// control socket's file.
    fn stop(&mut self) {
        let ids: Vec<IfaceId> = self.taps.keys().copied().collect();
        for id in ids {
            self.close_link(id);
        }
        self.listener = None;
        let _ = std::fs::remove_file(&self.opts.control);
    }
}

/// Listens on the control socket. A socket file left by a daemon that died is replaced;
/// one a running daemon answers on is not.
async fn bind_control(path: &Path) -> Result<UnixListener, String> {
    if path.exists() {
        if UnixStream::connect(path).await.is_ok() {
            return Err(format!(
                "another daemon is listening on {} (stop it, or give --control another path)",
                path.display()
            ));
        }
        std::fs::remove_file(path)
            .map_err(|e| format!("cannot remove the stale {}: {e}", path.display()))?;
    }
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    UnixListener::bind(path).map_err(|e| format!("cannot listen on {}: {e}", path.display()))
}
