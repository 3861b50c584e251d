//! The FTP server behind `sixstack ftpd`: RFC 959 with the IPv6 data ports of RFC 2428
//! (EPSV, EPRT), the extensions of RFC 3659 (SIZE, MDTM, MLSD, MLST, REST STREAM), FEAT
//! and OPTS of RFC 2389, and the defences of RFC 2577 (no bounce through EPRT/PORT, a
//! delay after a failed login, a cap on connections).
//!
//! One thread per control connection; a transfer runs in a second thread while the
//! control thread keeps reading, so ABOR and STAT are answered during it. Every buffer is
//! bounded: command lines by [`MAX_LINE`], listings by [`MAX_LIST_ENTRIES`].

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, SystemTime};

use super::command::{self, Command};
use super::jail::{Jail, JailError};
use super::listing;
use super::proto::{
    self, EpsvArg, FromCrlf, LineEvent, LineReader, Reply, ToCrlf, is_timeout, quote_257,
    strip_telnet,
};
use super::users::Users;
use crate::net::{Listener, Net, Stream};

/// The longest command line accepted, CRLF included (RFC 959 sets none; vsftpd's is 4096).
pub const MAX_LINE: usize = 4096;
/// Entries of one directory listing sent at most.
pub const MAX_LIST_ENTRIES: usize = 100_000;
/// Commands read during a transfer and kept for after it.
const MAX_QUEUED: usize = 16;
/// Failed logins before the connection is closed.
const MAX_LOGIN_FAILURES: u32 = 3;
const CHUNK: usize = 64 * 1024;

/// What a server serves and how.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The served tree.
    pub root: PathBuf,
    /// STOR, APPE, DELE, MKD, RMD, RNFR/RNTO allowed.
    pub writable: bool,
    /// Logins from a users file; `None`: anonymous only (`anonymous` or `ftp`).
    pub users: Option<Users>,
    /// Control connections at once; more get 421.
    pub max_connections: usize,
    /// A control connection silent this long gets 421 and is closed; also how long a
    /// data connection may stall.
    pub idle_timeout: Duration,
    /// How long to wait for the data connection (passive accept, active connect).
    pub data_timeout: Duration,
    /// Wait before answering a failed login (RFC 2577 §5).
    pub login_delay: Duration,
    /// One line per command on standard error.
    pub verbose: bool,
}

impl ServerConfig {
    /// Anonymous, read-only, 50 connections, 300 s idle.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        ServerConfig {
            root: root.into(),
            writable: false,
            users: None,
            max_connections: 50,
            idle_timeout: Duration::from_secs(300),
            data_timeout: Duration::from_secs(30),
            login_delay: Duration::from_secs(1),
            verbose: false,
        }
    }
}

struct Shared {
    cfg: ServerConfig,
    jail: Jail,
    active: AtomicUsize,
    sessions: AtomicU64,
}

/// A listening FTP server.
pub struct Server {
    net: Arc<dyn Net>,
    listener: Box<dyn Listener>,
    shared: Arc<Shared>,
}

impl Server {
    /// Checks the root and listens at `at`.
    pub fn bind(net: Arc<dyn Net>, at: SocketAddr, cfg: ServerConfig) -> io::Result<Server> {
        let jail = Jail::new(&cfg.root)
            .map_err(|e| io::Error::new(e.kind(), format!("root {}: {e}", cfg.root.display())))?;
        let listener = net.listen(at, 64)?;
        Ok(Server {
            net,
            listener,
            shared: Arc::new(Shared {
                cfg,
                jail,
                active: AtomicUsize::new(0),
                sessions: AtomicU64::new(0),
            }),
        })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Accepts and serves connections until accepting fails for good.
    pub fn run(self) -> io::Result<()> {
        let mut errors = 0u32;
        loop {
            let (stream, peer) = match self.listener.accept() {
                Ok(c) => {
                    errors = 0;
                    c
                }
                Err(e) => {
                    errors += 1;
                    if errors > 100 {
                        return Err(e);
                    }
                    eprintln!("ftpd: accept: {e}");
                    thread::sleep(Duration::from_millis(100));
                    continue;
                }
            };
            let shared = Arc::clone(&self.shared);
            let id = shared.sessions.fetch_add(1, Ordering::Relaxed) + 1;
            if shared.active.fetch_add(1, Ordering::SeqCst) >= shared.cfg.max_connections {
                shared.active.fetch_sub(1, Ordering::SeqCst);
                if shared.cfg.verbose {
                    eprintln!(
                        "ftpd[{id}] {peer}: refused, {} connections",
                        shared.cfg.max_connections
                    );
                }
                let mut s = stream;
                let _ = s.set_write_timeout(Some(Duration::from_secs(2)));
                let _ =
                    s.write_all(&Reply::new(421, "Too many connections; try again later").encode());
                continue;
            }
            let net = Arc::clone(&self.net);
            let spawned = thread::Builder::new()
                .name(format!("ftpd-{id}"))
                .spawn(move || {
                    let slot = Slot(Arc::clone(&shared));
                    if let Err(e) = serve(net, shared, stream, peer, id)
                        && slot.0.cfg.verbose
                    {
                        eprintln!("ftpd[{id}] {peer}: {e}");
                    }
                    drop(slot);
                });
            if let Err(e) = spawned {
                self.shared.active.fetch_sub(1, Ordering::SeqCst);
                eprintln!("ftpd: cannot start a thread: {e}");
            }
        }
    }
}

/// A place among the connections, given back when the session ends.
struct Slot(Arc<Shared>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::SeqCst);
    }
}

fn serve(
    net: Arc<dyn Net>,
    shared: Arc<Shared>,
    stream: Box<dyn Stream>,
    peer: SocketAddr,
    id: u64,
) -> io::Result<()> {
    let local = stream.local_addr()?;
    let writer = stream.try_clone()?;
    stream.set_read_timeout(Some(shared.cfg.idle_timeout))?;
    writer.set_write_timeout(Some(shared.cfg.idle_timeout))?;
    let mut s = Session {
        net,
        shared,
        ctrl: stream,
        out: writer,
        reader: LineReader::new(MAX_LINE),
        peer,
        local,
        id,
        user: None,
        logged_in: false,
        failures: 0,
        cwd: "/".into(),
        binary: false,
        rest: 0,
        rename_from: None,
        data: DataSetup::None,
        epsv_all: false,
        queued: VecDeque::new(),
    };
    if s.shared.cfg.verbose {
        eprintln!("ftpd[{id}] {peer}: connected to {local}");
    }
    s.run()
}

/// The data connection prepared by the last EPSV/PASV or EPRT/PORT.
enum DataSetup {
    None,
    Passive(Box<dyn Listener>),
    Active(SocketAddr),
}

enum Flow {
    Go,
    Close,
}

/// What a transfer moves.
enum Job {
    Send { file: File, ascii: bool },
    SendBytes(Vec<u8>),
    Recv { file: File, ascii: bool },
}

/// Why a transfer stopped early.
enum PumpError {
    Aborted,
    /// The data connection failed.
    Net(io::Error),
    /// The file failed.
    Local(io::Error),
}

struct Session {
    net: Arc<dyn Net>,
    shared: Arc<Shared>,
    /// The control connection, read here; `out` writes it.
    ctrl: Box<dyn Stream>,
    out: Box<dyn Stream>,
    reader: LineReader,
    peer: SocketAddr,
    local: SocketAddr,
    id: u64,
    user: Option<String>,
    logged_in: bool,
    failures: u32,
    /// The current directory, virtual (`/` is the root).
    cwd: String,
    binary: bool,
    rest: u64,
    rename_from: Option<PathBuf>,
    data: DataSetup,
    epsv_all: bool,
    queued: VecDeque<Vec<u8>>,
}

impl Session {
    fn run(&mut self) -> io::Result<()> {
        let banner = if self.shared.cfg.users.is_some() {
            "sixstack ftpd ready"
        } else {
            "sixstack ftpd ready (anonymous)"
        };
        self.reply(220, banner)?;
        loop {
            let line = match self.queued.pop_front() {
                Some(l) => l,
                None => match self.reader.read_line(&mut *self.ctrl) {
                    Ok(LineEvent::Line(l)) => l,
                    Ok(LineEvent::Eof) => return Ok(()),
                    Ok(LineEvent::TooLong) => {
                        self.log("command line too long: closing");
                        let _ = self.reply(
                            500,
                            format!("Command line too long (limit {MAX_LINE} bytes); closing"),
                        );
                        return Ok(());
                    }
                    Err(e) if is_timeout(&e) => {
                        let secs = self.shared.cfg.idle_timeout.as_secs();
                        self.log("idle timeout: closing");
                        let _ = self.reply(
                            421,
                            format!("Idle for {secs} s: closing control connection"),
                        );
                        return Ok(());
                    }
                    Err(e) => return Err(e),
                },
            };
            let line = strip_telnet(&line);
            if self.shared.cfg.verbose {
                self.log(&loggable(&line));
            }
            if let Flow::Close = self.handle(&line)? {
                return Ok(());
            }
        }
    }

    fn log(&self, what: &str) {
        if self.shared.cfg.verbose {
            eprintln!("ftpd[{}] {}: {what}", self.id, self.peer);
        }
    }

    fn reply(&mut self, code: u16, text: impl Into<String>) -> io::Result<()> {
        self.send(Reply::new(code, text))
    }

    fn send(&mut self, r: Reply) -> io::Result<()> {
        self.out.write_all(&r.encode())?;
        self.out.flush()
    }

    fn handle(&mut self, line: &[u8]) -> io::Result<Flow> {
        let rest = std::mem::take(&mut self.rest);
        let cmd = match command::parse(line) {
            Ok(c) => c,
            Err(r) => {
                self.send(r)?;
                return Ok(Flow::Go);
            }
        };
        if !self.logged_in && !cmd.before_login() {
            self.reply(530, "Please log in with USER and PASS")?;
            return Ok(Flow::Go);
        }
        if cmd.writes() && !self.shared.cfg.writable {
            self.reply(550, "Permission denied: this server is read-only")?;
            return Ok(Flow::Go);
        }
        if !matches!(cmd, Command::Rnto(_)) {
            self.rename_from = None;
        }
        match cmd {
            Command::User(name) => self.user(name)?,
            Command::Pass(p) => return self.pass(&p),
            Command::Acct => self.reply(202, "ACCT not needed")?,
            Command::Quit => {
                self.reply(221, "Goodbye")?;
                return Ok(Flow::Close);
            }
            Command::Noop => self.reply(200, "NOOP ok")?,
            Command::Syst => self.reply(215, "UNIX Type: L8")?,
            Command::Feat => self.reply(
                211,
                "Features:\nEPRT\nEPSV\nMDTM\nMLST type*;size*;modify*;perm*;UNIX.mode*;\n\
                 REST STREAM\nSIZE\nTVFS\nUTF8\nEnd",
            )?,
            Command::Help => self.reply(
                214,
                "The commands understood:\n\
                 USER PASS ACCT QUIT NOOP SYST FEAT HELP STAT OPTS PWD CWD CDUP\n\
                 TYPE MODE STRU EPSV EPRT PASV PORT REST RETR STOR APPE ABOR ALLO\n\
                 LIST NLST MLSD MLST SIZE MDTM DELE MKD RMD RNFR RNTO\n\
                 Help OK",
            )?,
            Command::Stat => {
                let who = self.user.clone().unwrap_or_else(|| "(nobody)".into());
                let text = format!(
                    "sixstack ftpd status:\nConnected from {}\nLogged in as {who}\nTYPE: {}, MODE: S, STRU: F\n{}\nEnd of status",
                    self.peer,
                    if self.binary { "I" } else { "A" },
                    if self.shared.cfg.writable {
                        "Writable"
                    } else {
                        "Read-only"
                    },
                );
                self.reply(211, text)?;
            }
            Command::Opts(o) => {
                let up = o.to_ascii_uppercase();
                if up == "UTF8 ON" || up == "UTF8" || up == "UTF-8 ON" {
                    self.reply(200, "UTF8 is always on")?;
                } else if up.starts_with("MLST") {
                    self.reply(200, "MLST OPTS type;size;modify;perm;UNIX.mode;")?;
                } else {
                    self.reply(501, "Option not understood")?;
                }
            }
            Command::Auth => self.reply(502, "No TLS here (RFC 4217 not offered)")?,
            Command::Pwd => {
                let q = quote_257(&self.cwd);
                self.reply(257, format!("{q} is the current directory"))?;
            }
            Command::Cwd(p) => self.cwd(&p)?,
            Command::Cdup => self.cwd("..")?,
            Command::Type(binary) => {
                self.binary = binary;
                let t = if binary { "I" } else { "A" };
                self.reply(200, format!("Type set to {t}"))?;
            }
            Command::Mode => self.reply(200, "Mode S")?,
            Command::Stru => self.reply(200, "Structure F")?,
            Command::Allo => self.reply(202, "ALLO not needed")?,
            Command::Port(a) => self.port(a, false)?,
            Command::Eprt(a) => self.port(a, true)?,
            Command::Pasv => self.pasv()?,
            Command::Epsv(a) => self.epsv(a)?,
            Command::Rest(n) => {
                self.rest = n;
                self.reply(350, format!("Restarting at {n}; send RETR or STOR"))?;
            }
            Command::Retr(p) => return self.retr(&p, rest),
            Command::Stor(p) => return self.stor(&p, rest, false),
            Command::Appe(p) => return self.stor(&p, 0, true),
            Command::List(p) => return self.list(&p, Listing::Long),
            Command::Nlst(p) => return self.list(&p, Listing::Names),
            Command::Mlsd(p) => return self.list(&p, Listing::Facts),
            Command::Mlst(p) => self.mlst(&p)?,
            Command::Size(p) => self.size(&p)?,
            Command::Mdtm(p) => self.mdtm(&p)?,
            Command::Dele(p) => self.dele(&p)?,
            Command::Mkd(p) => self.mkd(&p)?,
            Command::Rmd(p) => self.rmd(&p)?,
            Command::Rnfr(p) => self.rnfr(&p)?,
            Command::Rnto(p) => self.rnto(&p)?,
            Command::Abor => {
                self.data = DataSetup::None;
                self.reply(225, "No transfer to abort")?;
            }
        }
        Ok(Flow::Go)
    }

    // ----- login ------------------------------------------------------------------------

    fn user(&mut self, name: String) -> io::Result<()> {
        if self.logged_in {
            return self.reply(530, "Already logged in; cannot change user");
        }
        if self.shared.cfg.users.is_none() {
            if !is_anonymous(&name) {
                self.user = None;
                return self.reply(530, "Only anonymous logins here (user anonymous)");
            }
            self.user = Some(name);
            return self.reply(331, "Anonymous login: send any password (your e-mail)");
        }
        self.user = Some(name);
        self.reply(331, "Password required")
    }

    fn pass(&mut self, password: &str) -> io::Result<Flow> {
        if self.logged_in {
            self.reply(230, "Already logged in")?;
            return Ok(Flow::Go);
        }
        let Some(name) = self.user.clone() else {
            self.reply(503, "Log in with USER first")?;
            return Ok(Flow::Go);
        };
        let ok = match &self.shared.cfg.users {
            None => true,
            Some(users) => users.check(&name, password),
        };
        if ok {
            self.logged_in = true;
            self.log(&format!("logged in as {name}"));
            let mode = if self.shared.cfg.writable {
                "read-write"
            } else {
                "read-only"
            };
            self.reply(230, format!("Logged in as {name} ({mode})"))?;
            return Ok(Flow::Go);
        }
        self.user = None;
        self.failures += 1;
        self.log(&format!("failed login as {name}"));
        thread::sleep(self.shared.cfg.login_delay);
        if self.failures >= MAX_LOGIN_FAILURES {
            self.reply(421, "Too many failed logins; closing")?;
            return Ok(Flow::Close);
        }
        self.reply(530, "Login incorrect")?;
        Ok(Flow::Go)
    }

    // ----- data connections -------------------------------------------------------------

    fn peer_ip(&self) -> IpAddr {
        canonical_ip(self.peer.ip())
    }

    fn port(&mut self, at: SocketAddr, extended: bool) -> io::Result<()> {
        if self.epsv_all {
            return self.reply(503, "EPSV ALL in effect: only EPSV");
        }
        if !extended && self.peer_ip().is_ipv6() {
            return self.reply(522, "PORT is for IPv4: use EPRT (RFC 2428), (2)");
        }
        // RFC 2577 §3: no connections to a third party (the bounce attack), and none to
        // privileged ports.
        // The unspecified address stands for the client's own (lftp sends `|2|::|port|`).
        if canonical_ip(at.ip()) != self.peer_ip() && !at.ip().is_unspecified() {
            return self.reply(
                500,
                "Illegal EPRT/PORT: the address must be the client's own (RFC 2577)",
            );
        }
        if at.port() < 1024 {
            return self.reply(500, "Illegal EPRT/PORT: port below 1024 (RFC 2577)");
        }
        let mut to = SocketAddr::new(self.peer.ip(), at.port());
        if let (SocketAddr::V6(t), SocketAddr::V6(p)) = (&mut to, self.peer) {
            t.set_scope_id(p.scope_id());
        }
        self.data = DataSetup::Active(to);
        let verb = if extended { "EPRT" } else { "PORT" };
        self.reply(200, format!("{verb} command successful"))
    }

    fn listen_data(&mut self) -> io::Result<SocketAddr> {
        self.data = DataSetup::None;
        let l = self.net.listen(SocketAddr::new(self.local.ip(), 0), 1)?;
        let at = l.local_addr()?;
        self.data = DataSetup::Passive(l);
        Ok(at)
    }

    fn pasv(&mut self) -> io::Result<()> {
        if self.epsv_all {
            return self.reply(503, "EPSV ALL in effect: only EPSV");
        }
        let SocketAddr::V4(_) = v4_view(self.local) else {
            return self.reply(522, "PASV is for IPv4: use EPSV (RFC 2428), (2)");
        };
        match self.listen_data() {
            Ok(at) => match v4_view(at) {
                SocketAddr::V4(a) => self.reply(227, proto::format_pasv(a)),
                SocketAddr::V6(_) => self.reply(425, "No IPv4 data port"),
            },
            Err(e) => self.reply(425, format!("Cannot open a data port: {e}")),
        }
    }

    fn epsv(&mut self, arg: EpsvArg) -> io::Result<()> {
        let ours = if self.peer_ip().is_ipv6() {
            proto::PROTO_IPV6
        } else {
            proto::PROTO_IPV4
        };
        match arg {
            EpsvArg::All => {
                self.epsv_all = true;
                return self.reply(200, "EPSV ALL ok");
            }
            EpsvArg::Proto(p) if p != ours => {
                return self.reply(522, format!("Network protocol not supported, use ({ours})"));
            }
            _ => {}
        }
        match self.listen_data() {
            Ok(at) => self.reply(
                229,
                format!("Entering Extended Passive Mode (|||{}|)", at.port()),
            ),
            Err(e) => self.reply(425, format!("Cannot open a data port: {e}")),
        }
    }

    /// Opens the data connection prepared before (after the 150 reply).
    fn open_data(&mut self, setup: DataSetup) -> io::Result<Box<dyn Stream>> {
        let t = self.shared.cfg.data_timeout;
        let s = match setup {
            DataSetup::None => {
                return Err(io::Error::new(io::ErrorKind::NotConnected, "no data port"));
            }
            DataSetup::Active(to) => self.net.connect(to, Some(t))?,
            DataSetup::Passive(l) => {
                let (s, from) = accept_timeout(&*self.net, l, t)?;
                // Only the client itself may connect (RFC 2577 §3, port stealing).
                if canonical_ip(from.ip()) != self.peer_ip() {
                    return Err(io::Error::new(
                        io::ErrorKind::PermissionDenied,
                        format!("data connection from {from}, not the client"),
                    ));
                }
                s
            }
        };
        s.set_write_timeout(Some(self.shared.cfg.idle_timeout))?;
        Ok(s)
    }

    /// Runs a transfer: 150, the data connection, the job in a thread while the control
    /// connection is watched for ABOR, then 226, 426 or 451.
    fn transfer(&mut self, job: Job, what: String) -> io::Result<Flow> {
        let setup = std::mem::replace(&mut self.data, DataSetup::None);
        if let DataSetup::None = setup {
            self.reply(425, "Use EPSV (or EPRT) first")?;
            return Ok(Flow::Go);
        }
        let mode = if self.binary { "BINARY" } else { "ASCII" };
        self.reply(
            150,
            format!("Opening {mode} mode data connection for {what}"),
        )?;
        let data = match self.open_data(setup) {
            Ok(d) => d,
            Err(e) => {
                self.reply(425, format!("Cannot open data connection: {e}"))?;
                return Ok(Flow::Go);
            }
        };
        let abort = Arc::new(AtomicBool::new(false));
        let moved = Arc::new(AtomicU64::new(0));
        let (tx, rx) = mpsc::channel();
        let idle = self.shared.cfg.idle_timeout;
        {
            let abort = Arc::clone(&abort);
            let moved = Arc::clone(&moved);
            thread::Builder::new()
                .name(format!("ftpd-{}-data", self.id))
                .spawn(move || {
                    let _ = tx.send(pump(job, data, &abort, &moved, idle));
                })?;
        }
        let mut aborted_by_client = false;
        let mut close_after = false;
        let mut ctrl_open = true;
        self.ctrl
            .set_read_timeout(Some(Duration::from_millis(20)))?;
        let result = loop {
            match rx.try_recv() {
                Ok(r) => break r,
                Err(mpsc::TryRecvError::Disconnected) => {
                    break Err(PumpError::Local(io::Error::other("transfer thread failed")));
                }
                Err(mpsc::TryRecvError::Empty) => {}
            }
            if !ctrl_open {
                match rx.recv() {
                    Ok(r) => break r,
                    Err(_) => {
                        break Err(PumpError::Local(io::Error::other("transfer thread failed")));
                    }
                }
            }
            match self.reader.read_line(&mut *self.ctrl) {
                Ok(LineEvent::Line(l)) => {
                    let l = strip_telnet(&l);
                    self.log(&format!("(during transfer) {}", loggable(&l)));
                    match command::verb(&l).as_deref() {
                        Some("ABOR") => {
                            abort.store(true, Ordering::SeqCst);
                            aborted_by_client = true;
                        }
                        Some("STAT") => {
                            let n = moved.load(Ordering::Relaxed);
                            self.reply(213, format!("Transfer in progress: {n} bytes"))?;
                        }
                        _ if self.queued.len() < MAX_QUEUED => self.queued.push_back(l),
                        _ => {
                            abort.store(true, Ordering::SeqCst);
                            close_after = true;
                            ctrl_open = false;
                        }
                    }
                }
                Ok(LineEvent::Eof) | Ok(LineEvent::TooLong) => {
                    abort.store(true, Ordering::SeqCst);
                    close_after = true;
                    ctrl_open = false;
                }
                Err(e) if is_timeout(&e) => {}
                Err(_) => {
                    abort.store(true, Ordering::SeqCst);
                    close_after = true;
                    ctrl_open = false;
                }
            }
        };
        self.ctrl
            .set_read_timeout(Some(self.shared.cfg.idle_timeout))?;
        if close_after {
            return Ok(Flow::Close);
        }
        match result {
            Ok(n) => {
                self.log(&format!("transfer complete: {n} bytes"));
                self.reply(226, format!("Transfer complete ({n} bytes)"))?;
                if aborted_by_client {
                    self.reply(225, "ABOR: the transfer had completed")?;
                }
            }
            Err(PumpError::Aborted) => {
                self.log("transfer aborted");
                self.reply(426, "Transfer aborted")?;
                self.reply(226, "ABOR successful")?;
            }
            Err(PumpError::Net(e)) => {
                self.log(&format!("transfer failed: {e}"));
                self.reply(
                    426,
                    format!("Data connection failed; transfer aborted: {e}"),
                )?;
            }
            Err(PumpError::Local(e)) => {
                self.log(&format!("transfer failed: {e}"));
                self.reply(451, format!("Local error; transfer aborted: {e}"))?;
            }
        }
        Ok(Flow::Go)
    }

    // ----- files ------------------------------------------------------------------------

    /// The virtual path of `arg`, or the 550 reply already sent.
    fn vpath(&mut self, arg: &str) -> io::Result<Option<String>> {
        match Jail::resolve(&self.cwd, arg) {
            Ok(v) => Ok(Some(v)),
            Err(e) => {
                self.reply(550, format!("{arg}: {e}"))?;
                Ok(None)
            }
        }
    }

    /// Resolves `arg` through `f` of the jail; on refusal sends 550 and gives `None`.
    fn real(
        &mut self,
        arg: &str,
        f: fn(&Jail, &str) -> Result<PathBuf, JailError>,
    ) -> io::Result<Option<(String, PathBuf)>> {
        let Some(v) = self.vpath(arg)? else {
            return Ok(None);
        };
        match f(&self.shared.jail, &v) {
            Ok(p) => Ok(Some((v, p))),
            Err(e) => {
                self.reply(550, format!("{arg}: {e}"))?;
                Ok(None)
            }
        }
    }

    fn cwd(&mut self, arg: &str) -> io::Result<()> {
        let Some((v, p)) = self.real(arg, Jail::existing)? else {
            return Ok(());
        };
        if !p.is_dir() {
            return self.reply(550, format!("{arg}: Not a directory"));
        }
        self.cwd = v;
        let q = quote_257(&self.cwd);
        self.reply(250, format!("Directory changed to {q}"))
    }

    fn retr(&mut self, arg: &str, rest: u64) -> io::Result<Flow> {
        let Some((v, p)) = self.real(arg, Jail::existing)? else {
            return Ok(Flow::Go);
        };
        let opened = File::open(&p).and_then(|f| {
            let md = f.metadata()?;
            if !md.is_file() {
                return Err(io::Error::new(
                    io::ErrorKind::IsADirectory,
                    "not a plain file",
                ));
            }
            Ok((f, md.len()))
        });
        let (mut file, len) = match opened {
            Ok(x) => x,
            Err(e) => {
                self.reply(550, format!("{arg}: {}", JailError::Io(e)))?;
                return Ok(Flow::Go);
            }
        };
        if rest > 0 {
            if rest > len {
                self.reply(554, format!("REST {rest} is beyond the end ({len} bytes)"))?;
                return Ok(Flow::Go);
            }
            file.seek(SeekFrom::Start(rest))?;
        }
        let job = Job::Send {
            file,
            ascii: !self.binary,
        };
        self.transfer(job, format!("{v} ({} bytes)", len - rest))
    }

    fn stor(&mut self, arg: &str, rest: u64, append: bool) -> io::Result<Flow> {
        let Some((v, p)) = self.real(arg, Jail::creatable)? else {
            return Ok(Flow::Go);
        };
        if p.is_dir() {
            self.reply(550, format!("{arg}: Is a directory"))?;
            return Ok(Flow::Go);
        }
        let mut o = OpenOptions::new();
        o.write(true).create(true);
        if append {
            o.append(true);
        } else if rest == 0 {
            o.truncate(true);
        }
        let opened = o.open(&p).and_then(|mut f| {
            if rest > 0 {
                f.set_len(rest)?;
                f.seek(SeekFrom::Start(rest))?;
            }
            Ok(f)
        });
        let file = match opened {
            Ok(f) => f,
            Err(e) => {
                self.reply(553, format!("{arg}: {}", JailError::Io(e)))?;
                return Ok(Flow::Go);
            }
        };
        let job = Job::Recv {
            file,
            ascii: !self.binary,
        };
        self.transfer(job, v)
    }

    fn list(&mut self, arg: &str, how: Listing) -> io::Result<Flow> {
        let Some((v, p)) = self.real(arg, Jail::existing)? else {
            return Ok(Flow::Go);
        };
        let md = match fs::metadata(&p) {
            Ok(m) => m,
            Err(e) => {
                self.reply(550, format!("{arg}: {}", JailError::Io(e)))?;
                return Ok(Flow::Go);
            }
        };
        #[allow(clippy::disallowed_methods)] // the age of files in `ls -l` is wall-clock time
        let now = SystemTime::now();
        let writable = self.shared.cfg.writable;
        let mut out = Vec::new();
        if md.is_dir() {
            let entries = match self.entries(&p) {
                Ok(e) => e,
                Err(e) => {
                    self.reply(550, format!("{arg}: {}", JailError::Io(e)))?;
                    return Ok(Flow::Go);
                }
            };
            for (name, md) in entries {
                let line = match how {
                    Listing::Long => listing::ls_line(&name, &md, now),
                    Listing::Names => listing::clean_name(&name),
                    Listing::Facts => format!(
                        "{} {}",
                        listing::facts(&md, None, writable),
                        listing::clean_name(&name)
                    ),
                };
                out.extend_from_slice(line.as_bytes());
                out.extend_from_slice(b"\r\n");
            }
        } else {
            if let Listing::Facts = how {
                self.reply(
                    501,
                    format!("{arg}: not a directory (MLSD lists directories)"),
                )?;
                return Ok(Flow::Go);
            }
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let line = match how {
                Listing::Long => listing::ls_line(&name, &md, now),
                _ => listing::clean_name(if arg.is_empty() { &name } else { arg }),
            };
            out.extend_from_slice(line.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        self.transfer(Job::SendBytes(out), format!("the listing of {v}"))
    }

    /// The entries of a directory, sorted by name; links are followed when they stay
    /// inside the root and left out otherwise.
    fn entries(&self, dir: &std::path::Path) -> io::Result<Vec<(String, fs::Metadata)>> {
        let mut out = Vec::new();
        for e in fs::read_dir(dir)? {
            if out.len() >= MAX_LIST_ENTRIES {
                break;
            }
            let Ok(e) = e else { continue };
            let Ok(md) = e.metadata() else { continue };
            let md = if md.file_type().is_symlink() {
                match fs::canonicalize(e.path()) {
                    Ok(c) if c.starts_with(self.shared.jail.root()) => match fs::metadata(&c) {
                        Ok(m) => m,
                        Err(_) => continue,
                    },
                    _ => continue,
                }
            } else {
                md
            };
            out.push((e.file_name().to_string_lossy().into_owned(), md));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    fn mlst(&mut self, arg: &str) -> io::Result<()> {
        let arg = if arg.is_empty() { "." } else { arg };
        let Some((v, p)) = self.real(arg, Jail::existing)? else {
            return Ok(());
        };
        match fs::metadata(&p) {
            Ok(md) => {
                let f = listing::facts(&md, None, self.shared.cfg.writable);
                let name = listing::clean_name(&v);
                self.reply(250, format!("Listing {name}\n {f} {name}\nEnd"))
            }
            Err(e) => self.reply(550, format!("{arg}: {}", JailError::Io(e))),
        }
    }

    fn size(&mut self, arg: &str) -> io::Result<()> {
        let Some((_, p)) = self.real(arg, Jail::existing)? else {
            return Ok(());
        };
        let len = match fs::metadata(&p) {
            Ok(m) if m.is_file() => m.len(),
            Ok(_) => return self.reply(550, format!("{arg}: not a plain file")),
            Err(e) => return self.reply(550, format!("{arg}: {}", JailError::Io(e))),
        };
        if self.binary {
            return self.reply(213, len.to_string());
        }
        // RFC 3659 §4: the size in the current type, so TYPE A counts the CRs it adds.
        match ascii_size(&p) {
            Ok(n) => self.reply(213, n.to_string()),
            Err(e) => self.reply(550, format!("{arg}: {}", JailError::Io(e))),
        }
    }

    fn mdtm(&mut self, arg: &str) -> io::Result<()> {
        let Some((_, p)) = self.real(arg, Jail::existing)? else {
            return Ok(());
        };
        match fs::metadata(&p).and_then(|m| m.modified()) {
            Ok(t) => self.reply(213, listing::time_val(t)),
            Err(e) => self.reply(550, format!("{arg}: {}", JailError::Io(e))),
        }
    }

    fn dele(&mut self, arg: &str) -> io::Result<()> {
        let Some((_, p)) = self.real(arg, Jail::entry)? else {
            return Ok(());
        };
        if fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir()) {
            return self.reply(550, format!("{arg}: Is a directory (use RMD)"));
        }
        match fs::remove_file(&p) {
            Ok(()) => self.reply(250, format!("{arg} deleted")),
            Err(e) => self.reply(550, format!("{arg}: {}", JailError::Io(e))),
        }
    }

    fn mkd(&mut self, arg: &str) -> io::Result<()> {
        let Some((v, p)) = self.real(arg, Jail::creatable)? else {
            return Ok(());
        };
        match fs::create_dir(&p) {
            Ok(()) => self.reply(257, format!("{} created", quote_257(&v))),
            Err(e) => self.reply(550, format!("{arg}: {}", JailError::Io(e))),
        }
    }

    fn rmd(&mut self, arg: &str) -> io::Result<()> {
        let Some((_, p)) = self.real(arg, Jail::entry)? else {
            return Ok(());
        };
        match fs::remove_dir(&p) {
            Ok(()) => self.reply(250, format!("{arg} removed")),
            Err(e) => self.reply(550, format!("{arg}: {}", JailError::Io(e))),
        }
    }

    fn rnfr(&mut self, arg: &str) -> io::Result<()> {
        let Some((_, p)) = self.real(arg, Jail::entry)? else {
            return Ok(());
        };
        self.rename_from = Some(p);
        self.reply(350, "Ready for RNTO")
    }

    fn rnto(&mut self, arg: &str) -> io::Result<()> {
        let Some(from) = self.rename_from.take() else {
            return self.reply(503, "RNFR first");
        };
        let Some((_, to)) = self.real(arg, Jail::creatable)? else {
            return Ok(());
        };
        match fs::rename(&from, &to) {
            Ok(()) => self.reply(250, "Renamed"),
            Err(e) => self.reply(550, format!("{arg}: {}", JailError::Io(e))),
        }
    }
}

#[derive(Clone, Copy)]
enum Listing {
    Long,
    Names,
    Facts,
}

fn is_anonymous(name: &str) -> bool {
    name.eq_ignore_ascii_case("anonymous") || name.eq_ignore_ascii_case("ftp")
}

/// A command line for the log, with the password of PASS hidden.
fn loggable(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(line);
    let text: String = text.chars().take(200).collect();
    match command::verb(line).as_deref() {
        Some("PASS") => "PASS ****".into(),
        _ => text.replace(|c: char| c.is_control(), "?"),
    }
}

/// An IPv4-mapped IPv6 address as the IPv4 address it is.
fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(a) => a.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn v4_view(a: SocketAddr) -> SocketAddr {
    SocketAddr::new(canonical_ip(a.ip()), a.port())
}

/// Accepts on `l` for at most `t`. The listener has no timeout of its own: the accept
/// runs in a thread, and on timeout a connection of our own wakes it.
fn accept_timeout(
    net: &dyn Net,
    l: Box<dyn Listener>,
    t: Duration,
) -> io::Result<(Box<dyn Stream>, SocketAddr)> {
    let at = l.local_addr()?;
    let (tx, rx) = mpsc::channel();
    let h = thread::Builder::new()
        .name("ftp-accept".into())
        .spawn(move || {
            let _ = tx.send(l.accept());
        })?;
    match rx.recv_timeout(t) {
        Ok(r) => {
            let _ = h.join();
            r
        }
        Err(_) => {
            let _ = net.connect(at, Some(Duration::from_secs(1)));
            if rx.recv_timeout(Duration::from_secs(2)).is_ok() {
                let _ = h.join();
            }
            Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no data connection within {} s", t.as_secs()),
            ))
        }
    }
}

fn ascii_size(p: &std::path::Path) -> io::Result<u64> {
    let mut f = File::open(p)?;
    let mut buf = vec![0u8; CHUNK];
    let mut last_cr = false;
    let mut n = 0;
    loop {
        let k = f.read(&mut buf)?;
        if k == 0 {
            return Ok(n);
        }
        n += proto::crlf_len(&buf[..k], &mut last_cr);
    }
}

/// Moves the data of one transfer; `moved` counts bytes for STAT.
fn pump(
    job: Job,
    mut data: Box<dyn Stream>,
    abort: &AtomicBool,
    moved: &AtomicU64,
    idle: Duration,
) -> Result<u64, PumpError> {
    let mut total = 0u64;
    let mut conv = Vec::with_capacity(2 * CHUNK);
    match job {
        Job::SendBytes(bytes) => {
            for c in bytes.chunks(CHUNK) {
                if abort.load(Ordering::SeqCst) {
                    return Err(PumpError::Aborted);
                }
                data.write_all(c).map_err(PumpError::Net)?;
                total += c.len() as u64;
                moved.store(total, Ordering::Relaxed);
            }
        }
        Job::Send { mut file, ascii } => {
            let mut buf = vec![0u8; CHUNK];
            let mut to = ToCrlf::default();
            loop {
                if abort.load(Ordering::SeqCst) {
                    return Err(PumpError::Aborted);
                }
                let n = file.read(&mut buf).map_err(PumpError::Local)?;
                if n == 0 {
                    break;
                }
                let out = if ascii {
                    conv.clear();
                    to.convert(&buf[..n], &mut conv);
                    &conv[..]
                } else {
                    &buf[..n]
                };
                data.write_all(out).map_err(PumpError::Net)?;
                total += out.len() as u64;
                moved.store(total, Ordering::Relaxed);
            }
        }
        Job::Recv { mut file, ascii } => {
            data.set_read_timeout(Some(Duration::from_millis(250)))
                .map_err(PumpError::Net)?;
            let mut buf = vec![0u8; CHUNK];
            let mut from = FromCrlf::default();
            let mut quiet = Duration::ZERO;
            loop {
                if abort.load(Ordering::SeqCst) {
                    return Err(PumpError::Aborted);
                }
                let n = match data.read(&mut buf) {
                    Ok(n) => n,
                    Err(e) if is_timeout(&e) => {
                        quiet += Duration::from_millis(250);
                        if quiet >= idle {
                            return Err(PumpError::Net(io::Error::new(
                                io::ErrorKind::TimedOut,
                                "the data connection stalled",
                            )));
                        }
                        continue;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(PumpError::Net(e)),
                };
                quiet = Duration::ZERO;
                if n == 0 {
                    break;
                }
                total += n as u64;
                moved.store(total, Ordering::Relaxed);
                if ascii {
                    conv.clear();
                    from.convert(&buf[..n], &mut conv);
                    file.write_all(&conv).map_err(PumpError::Local)?;
                } else {
                    file.write_all(&buf[..n]).map_err(PumpError::Local)?;
                }
            }
            if ascii {
                conv.clear();
                from.finish(&mut conv);
                file.write_all(&conv).map_err(PumpError::Local)?;
            }
            file.flush().map_err(PumpError::Local)?;
            return Ok(total);
        }
    }
    data.flush().map_err(PumpError::Net)?;
    let _ = data.shutdown_write();
    Ok(total)
}
