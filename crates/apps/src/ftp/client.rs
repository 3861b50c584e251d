//! The FTP client behind `sixstack ftp`: [`Session`], one control connection with its
//! commands (EPSV by default, EPRT for active mode, RFC 2428), and [`Shell`], the
//! interpreter of the interactive commands (`get`, `put`, `ls`, `cd`, ...), which reads
//! the same from a terminal, a script or `-c`.

use std::fmt;
use std::fs::File;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use super::proto::{
    self, FromCrlf, LineReader, Reply, ReplyError, ToCrlf, format_eprt, parse_257,
    parse_epsv_reply, parse_pasv_reply,
};
use crate::net::{Listener, Net, Stream, connect_host};

/// The longest reply line read.
const MAX_REPLY_LINE: usize = 8192;
const CHUNK: usize = 64 * 1024;

/// What went wrong with a command.
#[derive(Debug)]
pub enum FtpError {
    Io(io::Error),
    /// The server answered, but not with success.
    Refused(Reply),
    /// The server broke the protocol.
    Protocol(String),
    NotConnected,
}

impl fmt::Display for FtpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FtpError::Io(e) => write!(f, "{e}"),
            FtpError::Refused(r) => write!(f, "{} {}", r.code, r.lines.join(" / ")),
            FtpError::Protocol(p) => write!(f, "{p}"),
            FtpError::NotConnected => write!(f, "not connected (use: open HOST [PORT])"),
        }
    }
}

impl From<io::Error> for FtpError {
    fn from(e: io::Error) -> Self {
        FtpError::Io(e)
    }
}

impl From<ReplyError> for FtpError {
    fn from(e: ReplyError) -> Self {
        match e {
            ReplyError::Io(e) => FtpError::Io(e),
            other => FtpError::Protocol(other.to_string()),
        }
    }
}

pub type Result<T> = std::result::Result<T, FtpError>;

/// The process's monotonic clock, for rates and progress: the one place the client reads it.
#[allow(clippy::disallowed_methods)]
fn clock() -> Instant {
    Instant::now()
}

/// One control connection to a server.
pub struct Session {
    net: Arc<dyn Net>,
    ctrl: Box<dyn Stream>,
    out: Box<dyn Stream>,
    reader: LineReader,
    peer: SocketAddr,
    local: SocketAddr,
    /// EPSV (true, the default) or EPRT.
    pub passive: bool,
    /// How long to wait for replies and data connections.
    pub timeout: Duration,
    /// Where the dialogue is written (`---> CMD` and the replies), when set.
    pub transcript: Option<Box<dyn Write + Send>>,
    /// The TYPE last set (None: the server's default, ASCII).
    type_set: Option<bool>,
}

/// A transfer's progress, drawn on standard error.
pub struct Progress {
    enabled: bool,
    total: Option<u64>,
    start: Instant,
    last: Instant,
    drawn: bool,
}

impl Progress {
    pub fn new(enabled: bool, total: Option<u64>) -> Self {
        let now = clock();
        Progress {
            enabled,
            total,
            start: now,
            last: now,
            drawn: false,
        }
    }

    fn update(&mut self, done: u64) {
        if !self.enabled {
            return;
        }
        let now = clock();
        if now.duration_since(self.last) < Duration::from_millis(250) {
            return;
        }
        self.last = now;
        self.drawn = true;
        let secs = now.duration_since(self.start).as_secs_f64().max(1e-6);
        let pct = match self.total {
            Some(t) if t > 0 => format!("{:3}% ", done.saturating_mul(100) / t),
            _ => String::new(),
        };
        eprint!("\r{pct}{} bytes  {}/s   ", done, human(done as f64 / secs));
    }

    /// Clears the line and gives the elapsed time.
    fn finish(&mut self) -> Duration {
        if self.drawn {
            eprint!("\r{:60}\r", "");
        }
        clock().duration_since(self.start)
    }
}

/// 1234567 as "1.18 MiB".
pub fn human(n: f64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < units.len() {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{v:.0} {}", units[i])
    } else {
        format!("{v:.2} {}", units[i])
    }
}

impl Session {
    /// Connects to `host` (a literal or a name) and reads the greeting.
    pub fn connect(
        net: Arc<dyn Net>,
        host: &str,
        port: u16,
        timeout: Duration,
    ) -> Result<(Session, Reply)> {
        let ctrl = connect_host(&*net, host, port, Some(timeout))?;
        let out = ctrl.try_clone()?;
        ctrl.set_read_timeout(Some(timeout))?;
        out.set_write_timeout(Some(timeout))?;
        let peer = ctrl.peer_addr()?;
        let local = ctrl.local_addr()?;
        let mut s = Session {
            net,
            ctrl,
            out,
            reader: LineReader::new(MAX_REPLY_LINE),
            peer,
            local,
            passive: true,
            timeout,
            transcript: None,
            type_set: None,
        };
        let mut hello = s.read_reply()?;
        // 120: service ready in a while; the 220 follows.
        while hello.is_preliminary() {
            hello = s.read_reply()?;
        }
        if hello.code != 220 {
            return Err(FtpError::Refused(hello));
        }
        Ok((s, hello))
    }

    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    fn read_reply(&mut self) -> Result<Reply> {
        let r = proto::read_reply(&mut self.reader, &mut *self.ctrl)?;
        if let Some(t) = self.transcript.as_mut() {
            let _ = writeln!(t, "{r}");
        }
        Ok(r)
    }

    /// Sends one command line and reads its reply, whatever the code.
    pub fn command(&mut self, line: &str) -> Result<Reply> {
        if line.contains(['\r', '\n']) {
            return Err(FtpError::Protocol(
                "a command cannot contain a line break".into(),
            ));
        }
        if let Some(t) = self.transcript.as_mut() {
            let shown = if line.len() >= 5 && line[..5].eq_ignore_ascii_case("PASS ") {
                "PASS ****"
            } else {
                line
            };
            let _ = writeln!(t, "---> {shown}");
        }
        self.out.write_all(format!("{line}\r\n").as_bytes())?;
        self.out.flush()?;
        self.read_reply()
    }

    /// A command that must succeed (2yz).
    fn ok(&mut self, line: &str) -> Result<Reply> {
        let r = self.command(line)?;
        if r.is_ok() {
            Ok(r)
        } else {
            Err(FtpError::Refused(r))
        }
    }

    /// USER and PASS (and ACCT is not supported).
    pub fn login(&mut self, user: &str, password: &str) -> Result<Reply> {
        let r = self.command(&format!("USER {user}"))?;
        let r = if r.is_intermediate() {
            self.command(&format!("PASS {password}"))?
        } else {
            r
        };
        if r.is_ok() {
            Ok(r)
        } else {
            Err(FtpError::Refused(r))
        }
    }

    pub fn set_binary(&mut self, binary: bool) -> Result<()> {
        if self.type_set != Some(binary) {
            self.ok(if binary { "TYPE I" } else { "TYPE A" })?;
            self.type_set = Some(binary);
        }
        Ok(())
    }

    pub fn pwd(&mut self) -> Result<String> {
        let r = self.ok("PWD")?;
        parse_257(&r.text())
            .ok_or_else(|| FtpError::Protocol(format!("PWD reply without a path: {r}")))
    }

    pub fn cwd(&mut self, path: &str) -> Result<Reply> {
        self.ok(&format!("CWD {path}"))
    }

    pub fn mkdir(&mut self, path: &str) -> Result<Reply> {
        self.ok(&format!("MKD {path}"))
    }

    pub fn rmdir(&mut self, path: &str) -> Result<Reply> {
        self.ok(&format!("RMD {path}"))
    }

    pub fn delete(&mut self, path: &str) -> Result<Reply> {
        self.ok(&format!("DELE {path}"))
    }

    pub fn rename(&mut self, from: &str, to: &str) -> Result<Reply> {
        let r = self.command(&format!("RNFR {from}"))?;
        if !r.is_intermediate() {
            return Err(FtpError::Refused(r));
        }
        self.ok(&format!("RNTO {to}"))
    }

    /// SIZE in the current type (RFC 3659 §4).
    pub fn size(&mut self, path: &str) -> Result<u64> {
        let r = self.ok(&format!("SIZE {path}"))?;
        r.text()
            .trim()
            .parse()
            .map_err(|_| FtpError::Protocol(format!("SIZE reply is not a number: {r}")))
    }

    /// MDTM: `YYYYMMDDHHMMSS` (UTC).
    pub fn mdtm(&mut self, path: &str) -> Result<String> {
        let r = self.ok(&format!("MDTM {path}"))?;
        Ok(r.text().trim().to_owned())
    }

    pub fn quit(&mut self) -> Result<Reply> {
        self.command("QUIT")
    }

    /// Prepares a data connection (EPSV and connect, or listen and EPRT), sends `cmd`,
    /// and gives the data stream once the server said 1yz.
    fn open_data(&mut self, cmd: &str) -> Result<Box<dyn Stream>> {
        let prepared = if self.passive {
            Prepared::Connected(self.passive_connect()?)
        } else {
            let l = self.net.listen(SocketAddr::new(self.local.ip(), 0), 1)?;
            let at = l.local_addr()?;
            self.ok(&format!("EPRT {}", format_eprt(at)))?;
            Prepared::Listening(l)
        };
        let r = self.command(cmd)?;
        if !r.is_preliminary() {
            return Err(FtpError::Refused(r));
        }
        let data = match prepared {
            Prepared::Connected(s) => s,
            Prepared::Listening(l) => accept_timeout(&*self.net, l, self.timeout)?,
        };
        data.set_read_timeout(Some(self.timeout))?;
        data.set_write_timeout(Some(self.timeout))?;
        Ok(data)
    }

    fn passive_connect(&mut self) -> Result<Box<dyn Stream>> {
        let r = self.command("EPSV")?;
        let to = if r.code == 229 {
            let port = parse_epsv_reply(&r.text())
                .ok_or_else(|| FtpError::Protocol(format!("cannot read the EPSV reply: {r}")))?;
            // RFC 2428 §3: the data connection goes to the control connection's address.
            SocketAddr::new(self.peer.ip(), port)
        } else if self.peer.ip().to_canonical().is_ipv4() {
            let r = self.ok("PASV")?;
            let a = parse_pasv_reply(&r.text())
                .ok_or_else(|| FtpError::Protocol(format!("cannot read the PASV reply: {r}")))?;
            // The address in a 227 may be a private one behind NAT: keep the server's.
            SocketAddr::new(self.peer.ip(), a.port())
        } else {
            return Err(FtpError::Refused(r));
        };
        let mut to = to;
        if let (SocketAddr::V6(t), SocketAddr::V6(p)) = (&mut to, self.peer) {
            t.set_scope_id(p.scope_id());
        }
        Ok(self.net.connect(to, Some(self.timeout))?)
    }

    /// After the data: the transfer's final reply.
    fn finish(&mut self) -> Result<Reply> {
        let r = self.read_reply()?;
        if r.is_ok() {
            Ok(r)
        } else {
            Err(FtpError::Refused(r))
        }
    }

    /// LIST (`long`) or NLST of `path` into `out`.
    pub fn list(&mut self, path: Option<&str>, long: bool, out: &mut dyn Write) -> Result<u64> {
        let verb = if long { "LIST" } else { "NLST" };
        let cmd = match path {
            Some(p) => format!("{verb} {p}"),
            None => verb.to_owned(),
        };
        let mut data = self.open_data(&cmd)?;
        let mut from = FromCrlf::default();
        let n = copy_from(
            &mut *data,
            out,
            Some(&mut from),
            &mut Progress::new(false, None),
        );
        drop(data);
        let n = n?;
        self.finish()?;
        Ok(n)
    }

    /// RETR `remote` into `out`; in ASCII, CRLF becomes LF. Gives the bytes received.
    pub fn retrieve(
        &mut self,
        remote: &str,
        out: &mut dyn Write,
        binary: bool,
        progress: &mut Progress,
    ) -> Result<u64> {
        self.set_binary(binary)?;
        if progress.enabled && progress.total.is_none() {
            progress.total = self.size(remote).ok();
        }
        let mut data = self.open_data(&format!("RETR {remote}"))?;
        let mut from = FromCrlf::default();
        let conv = if binary { None } else { Some(&mut from) };
        let n = copy_from(&mut *data, out, conv, progress);
        drop(data);
        let n = n?;
        self.finish()?;
        Ok(n)
    }

    /// STOR (or APPE) of `input` as `remote`; in ASCII, LF becomes CRLF. Gives the bytes
    /// sent.
    pub fn store(
        &mut self,
        input: &mut dyn Read,
        remote: &str,
        binary: bool,
        append: bool,
        progress: &mut Progress,
    ) -> Result<u64> {
        self.set_binary(binary)?;
        let verb = if append { "APPE" } else { "STOR" };
        let mut data = self.open_data(&format!("{verb} {remote}"))?;
        let mut buf = vec![0u8; CHUNK];
        let mut conv = Vec::new();
        let mut to = ToCrlf::default();
        let mut total = 0u64;
        let sent: io::Result<()> = (|| {
            loop {
                let n = input.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                let chunk = if binary {
                    &buf[..n]
                } else {
                    conv.clear();
                    to.convert(&buf[..n], &mut conv);
                    &conv[..]
                };
                data.write_all(chunk)?;
                total += chunk.len() as u64;
                progress.update(total);
            }
            data.flush()?;
            data.shutdown_write()
        })();
        drop(data);
        sent?;
        self.finish()?;
        Ok(total)
    }
}

enum Prepared {
    Connected(Box<dyn Stream>),
    Listening(Box<dyn Listener>),
}

/// Reads `data` to its end into `out`, converting CRLF when `conv` is given.
fn copy_from(
    data: &mut dyn Read,
    out: &mut dyn Write,
    mut conv: Option<&mut FromCrlf>,
    progress: &mut Progress,
) -> Result<u64> {
    let mut buf = vec![0u8; CHUNK];
    let mut text = Vec::new();
    let mut total = 0u64;
    loop {
        let n = match data.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        total += n as u64;
        match conv.as_deref_mut() {
            Some(c) => {
                text.clear();
                c.convert(&buf[..n], &mut text);
                out.write_all(&text)?;
            }
            None => out.write_all(&buf[..n])?,
        }
        progress.update(total);
    }
    if let Some(c) = conv {
        text.clear();
        c.finish(&mut text);
        out.write_all(&text)?;
    }
    out.flush()?;
    Ok(total)
}

/// Accepts on `l` for at most `t` (see the server's twin: a connection of our own wakes
/// the accept when nobody came).
fn accept_timeout(net: &dyn Net, l: Box<dyn Listener>, t: Duration) -> io::Result<Box<dyn Stream>> {
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
            r.map(|(s, _)| s)
        }
        Err(_) => {
            let _ = net.connect(at, Some(Duration::from_secs(1)));
            if rx.recv_timeout(Duration::from_secs(2)).is_ok() {
                let _ = h.join();
            }
            Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the server did not connect for the data (active mode; try passive)",
            ))
        }
    }
}

// ----- the interpreter ------------------------------------------------------------------

/// How a [`Shell`] behaves.
#[derive(Debug, Clone)]
pub struct ShellOptions {
    /// Log in when a connection opens: with `user` and `password`, or as anonymous.
    pub auto_login: bool,
    pub user: Option<String>,
    pub password: Option<String>,
    /// Show the dialogue with the server on standard error.
    pub verbose: bool,
    /// Draw progress of transfers on standard error.
    pub progress: bool,
    /// EPSV (true) or EPRT.
    pub passive: bool,
    pub binary: bool,
    pub timeout: Duration,
}

impl Default for ShellOptions {
    fn default() -> Self {
        ShellOptions {
            auto_login: true,
            user: None,
            password: None,
            verbose: false,
            progress: false,
            passive: true,
            binary: true,
            timeout: Duration::from_secs(30),
        }
    }
}

/// What the caller does after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Continue,
    Quit,
}

/// Asks for a password (the terminal); `None` when none can be asked.
pub type AskPassword = Box<dyn FnMut(&str) -> Option<String>>;

/// The interpreter of the client's commands.
pub struct Shell {
    net: Arc<dyn Net>,
    session: Option<Session>,
    pub opts: ShellOptions,
    ask_password: Option<AskPassword>,
}

pub const SHELL_HELP: &str = "\
open HOST [PORT]        connect (and log in: -u USER[:PASS], else anonymous)
user NAME [PASSWORD]    log in
ls [PATH], dir [PATH]   list (long form)
nlist [PATH]            list names only
cd PATH, cdup, pwd      change or show the remote directory
lcd [PATH]              change the local directory
get REMOTE [LOCAL|-]    download (- writes to standard output)
put LOCAL [REMOTE]      upload
append LOCAL [REMOTE]   upload, appending
mkdir PATH, rmdir PATH  make or remove a remote directory
delete PATH             remove a remote file
rename FROM TO          rename a remote file
size PATH, mdtm PATH    a remote file's size, modification time (UTC)
binary, ascii           transfer type (binary is the default)
passive [on|off]        EPSV (on, the default) or EPRT (off)
active                  the same as passive off
verbose [on|off]        show the dialogue with the server
progress [on|off]       show progress of transfers
quote COMMAND           send a raw command
status                  show the session's settings
close                   disconnect
quit, bye, exit         disconnect and leave
help, ?                 this list";

impl Shell {
    pub fn new(net: Arc<dyn Net>, opts: ShellOptions) -> Self {
        Shell {
            net,
            session: None,
            opts,
            ask_password: None,
        }
    }

    /// How to ask for a password that was not given (interactive use).
    pub fn set_ask_password(&mut self, f: AskPassword) {
        self.ask_password = Some(f);
    }

    pub fn connected(&self) -> bool {
        self.session.is_some()
    }

    /// Runs one command line. `Err` carries the message of a failed command.
    pub fn execute(
        &mut self,
        line: &str,
        out: &mut dyn Write,
    ) -> std::result::Result<Step, String> {
        let words = split_words(line)?;
        let Some((cmd, args)) = words.split_first() else {
            return Ok(Step::Continue);
        };
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let cmd = cmd.to_ascii_lowercase();
        let r = self.run(&cmd, &args, out);
        r.map_err(|e| format!("{cmd}: {e}"))
    }

    fn session(&mut self) -> Result<&mut Session> {
        self.session.as_mut().ok_or(FtpError::NotConnected)
    }

    fn run(&mut self, cmd: &str, args: &[&str], out: &mut dyn Write) -> Result<Step> {
        let usage = |u: &str| FtpError::Protocol(format!("usage: {u}"));
        match (cmd, args) {
            ("help" | "?", _) => writeln!(out, "{SHELL_HELP}")?,
            ("quit" | "bye" | "exit", _) => {
                if let Some(mut s) = self.session.take() {
                    let _ = s.quit();
                }
                return Ok(Step::Quit);
            }
            ("close" | "disconnect", _) => {
                if let Some(mut s) = self.session.take() {
                    s.quit()?;
                }
            }
            ("open", [host]) => self.open(host, 21)?,
            ("open", [host, port]) => {
                let port = port
                    .parse()
                    .map_err(|_| FtpError::Protocol(format!("{port:?} is not a port")))?;
                self.open(host, port)?;
            }
            ("open", _) => return Err(usage("open HOST [PORT]")),
            ("user", [name]) => {
                let pw = match self.ask_password.as_mut() {
                    Some(ask) => ask("Password: ").unwrap_or_default(),
                    None => String::new(),
                };
                let name = name.to_string();
                self.session()?.login(&name, &pw)?;
            }
            ("user", [name, pw]) => {
                let (name, pw) = (name.to_string(), pw.to_string());
                self.session()?.login(&name, &pw)?;
            }
            ("user", _) => return Err(usage("user NAME [PASSWORD]")),
            ("ls" | "dir", [] | [_]) => {
                let p = args.first().copied();
                self.session()?.list(p, true, out)?;
            }
            ("nlist" | "nls", [] | [_]) => {
                let p = args.first().copied();
                self.session()?.list(p, false, out)?;
            }
            ("cd" | "cwd", [p]) => {
                self.session()?.cwd(p)?;
            }
            ("cdup", []) => {
                self.session()?.cwd("..")?;
            }
            ("pwd", []) => {
                let p = self.session()?.pwd()?;
                writeln!(out, "{p}")?;
            }
            ("lcd", [] | [_]) => {
                let to = match args.first() {
                    Some(p) => std::path::PathBuf::from(p),
                    None => std::env::var_os("HOME")
                        .map(Into::into)
                        .unwrap_or_else(|| ".".into()),
                };
                std::env::set_current_dir(&to)?;
                writeln!(out, "local directory now {}", to.display())?;
            }
            ("get" | "recv", [remote] | [remote, _]) => {
                let local = args.get(1).copied().unwrap_or_else(|| base_name(remote));
                self.get(remote, local, out)?;
            }
            ("put" | "send" | "append", [local] | [local, _]) => {
                let remote = args.get(1).copied().unwrap_or_else(|| base_name(local));
                self.put(local, remote, cmd == "append")?;
            }
            ("mkdir", [p]) => {
                self.session()?.mkdir(p)?;
            }
            ("rmdir", [p]) => {
                self.session()?.rmdir(p)?;
            }
            ("delete" | "rm", [p]) => {
                self.session()?.delete(p)?;
            }
            ("rename", [a, b]) => {
                self.session()?.rename(a, b)?;
            }
            ("size", [p]) => {
                let binary = self.opts.binary;
                let s = self.session()?;
                s.set_binary(binary)?;
                let n = s.size(p)?;
                writeln!(out, "{n}")?;
            }
            ("mdtm" | "modtime", [p]) => {
                let t = self.session()?.mdtm(p)?;
                writeln!(out, "{t}")?;
            }
            ("binary" | "image", []) => self.opts.binary = true,
            ("ascii", []) => self.opts.binary = false,
            ("passive", []) => self.set_passive(!self.opts.passive, out)?,
            ("passive", [on]) => {
                let v = on_off(on)?;
                self.set_passive(v, out)?;
            }
            ("active", []) => self.set_passive(false, out)?,
            ("verbose", [] | [_]) => {
                self.opts.verbose = match args.first() {
                    Some(v) => on_off(v)?,
                    None => !self.opts.verbose,
                };
                let verbose = self.opts.verbose;
                if let Some(s) = self.session.as_mut() {
                    s.transcript = transcript(verbose);
                }
            }
            ("progress", [] | [_]) => {
                self.opts.progress = match args.first() {
                    Some(v) => on_off(v)?,
                    None => !self.opts.progress,
                };
            }
            ("quote" | "literal", [_, ..]) => {
                let line = args.join(" ");
                let r = self.session()?.command(&line)?;
                writeln!(out, "{r}")?;
                if r.code >= 400 {
                    return Err(FtpError::Refused(r));
                }
            }
            ("status", []) => {
                match &self.session {
                    Some(s) => writeln!(out, "Connected to {}.", s.peer)?,
                    None => writeln!(out, "Not connected.")?,
                }
                writeln!(
                    out,
                    "Mode: {}; Type: {}; Verbose: {}; Progress: {}; Network: {}",
                    if self.opts.passive {
                        "passive (EPSV)"
                    } else {
                        "active (EPRT)"
                    },
                    if self.opts.binary { "binary" } else { "ascii" },
                    on_off_str(self.opts.verbose),
                    on_off_str(self.opts.progress),
                    self.net.name()
                )?;
            }
            _ if known_command(cmd) => {
                let line = SHELL_HELP
                    .lines()
                    .find(|l| l.split([' ', ',']).any(|w| w == cmd))
                    .unwrap_or("");
                return Err(usage(line.split("  ").next().unwrap_or(cmd).trim()));
            }
            _ => {
                return Err(FtpError::Protocol(
                    "unknown command (help lists them)".into(),
                ));
            }
        }
        Ok(Step::Continue)
    }

    fn set_passive(&mut self, on: bool, out: &mut dyn Write) -> Result<()> {
        self.opts.passive = on;
        if let Some(s) = self.session.as_mut() {
            s.passive = on;
        }
        if self.opts.verbose {
            let m = if on {
                "passive (EPSV)"
            } else {
                "active (EPRT)"
            };
            writeln!(out, "Data connections: {m}.")?;
        }
        Ok(())
    }

    /// Connects to `host` and, when asked to, logs in.
    pub fn open(&mut self, host: &str, port: u16) -> Result<()> {
        if let Some(mut old) = self.session.take() {
            let _ = old.quit();
        }
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let (mut s, _hello) = {
            let (mut s, hello) =
                Session::connect(Arc::clone(&self.net), host, port, self.opts.timeout)?;
            s.transcript = transcript(self.opts.verbose);
            if let Some(t) = s.transcript.as_mut() {
                let _ = writeln!(t, "Connected to {}.", s.peer);
                let _ = writeln!(t, "{hello}");
            }
            (s, hello)
        };
        s.passive = self.opts.passive;
        if self.opts.auto_login {
            let user = self.opts.user.clone().unwrap_or_else(|| "anonymous".into());
            let pw = match (
                &self.opts.password,
                &self.opts.user,
                self.ask_password.as_mut(),
            ) {
                (Some(p), _, _) => p.clone(),
                (None, None, _) => "sixstack@".into(),
                (None, Some(_), Some(ask)) => ask("Password: ").unwrap_or_default(),
                (None, Some(_), None) => String::new(),
            };
            s.login(&user, &pw)?;
        }
        self.session = Some(s);
        Ok(())
    }

    fn get(&mut self, remote: &str, local: &str, out: &mut dyn Write) -> Result<()> {
        let binary = self.opts.binary;
        let mut progress = Progress::new(self.opts.progress, None);
        let verbose = self.opts.verbose || self.opts.progress;
        let session = self.session.as_mut().ok_or(FtpError::NotConnected)?;
        let n = if local == "-" {
            session.retrieve(remote, out, binary, &mut progress)?
        } else {
            // Written beside the target and renamed at the end, so a failed download
            // leaves no partial file under the wanted name.
            let part = format!("{local}.part");
            let mut f = io::BufWriter::new(File::create(&part)?);
            match session.retrieve(remote, &mut f, binary, &mut progress) {
                Ok(n) => {
                    f.flush()?;
                    drop(f);
                    std::fs::rename(&part, local)?;
                    n
                }
                Err(e) => {
                    drop(f);
                    let _ = std::fs::remove_file(&part);
                    return Err(e);
                }
            }
        };
        let t = progress.finish();
        if verbose {
            eprintln!(
                "{n} bytes received in {:.2} s ({}/s)",
                t.as_secs_f64(),
                human(rate(n, t))
            );
        }
        Ok(())
    }

    fn put(&mut self, local: &str, remote: &str, append: bool) -> Result<()> {
        let binary = self.opts.binary;
        let mut f = File::open(local)
            .map_err(|e| FtpError::Io(io::Error::new(e.kind(), format!("{local}: {e}"))))?;
        let len = f.metadata().ok().map(|m| m.len());
        let mut progress = Progress::new(self.opts.progress, len);
        let verbose = self.opts.verbose || self.opts.progress;
        let session = self.session.as_mut().ok_or(FtpError::NotConnected)?;
        let n = session.store(&mut f, remote, binary, append, &mut progress)?;
        let t = progress.finish();
        if verbose {
            eprintln!(
                "{n} bytes sent in {:.2} s ({}/s)",
                t.as_secs_f64(),
                human(rate(n, t))
            );
        }
        Ok(())
    }
}

/// Whether `cmd` is one of the shell's commands (for a usage message).
fn known_command(cmd: &str) -> bool {
    const ALIASES: [&str; 9] = [
        "dir", "nls", "cwd", "recv", "send", "rm", "modtime", "image", "literal",
    ];
    ALIASES.contains(&cmd)
        || SHELL_HELP.lines().any(|l| {
            l.split("  ")
                .next()
                .is_some_and(|c| c.split([' ', ',']).any(|w| w == cmd))
        })
}

fn rate(n: u64, t: Duration) -> f64 {
    n as f64 / t.as_secs_f64().max(1e-6)
}

fn transcript(verbose: bool) -> Option<Box<dyn Write + Send>> {
    verbose.then(|| Box::new(io::stderr()) as Box<dyn Write + Send>)
}

fn on_off(s: &str) -> Result<bool> {
    match s.to_ascii_lowercase().as_str() {
        "on" | "yes" | "true" | "1" => Ok(true),
        "off" | "no" | "false" | "0" => Ok(false),
        _ => Err(FtpError::Protocol(format!("{s:?}: want on or off"))),
    }
}

fn on_off_str(b: bool) -> &'static str {
    if b { "on" } else { "off" }
}

/// The last part of a path (`a/b/c.txt` → `c.txt`).
fn base_name(p: &str) -> &str {
    p.rsplit('/').find(|s| !s.is_empty()).unwrap_or(p)
}

/// Splits a command line into words; `"..."` and `'...'` keep spaces, `\` escapes a
/// character outside single quotes.
pub fn split_words(line: &str) -> std::result::Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"') | None, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                in_word = true;
            }
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err("unterminated quote".into());
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// Splits a `-c` script at `;` outside quotes.
pub fn split_script(script: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    for c in script.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                cur.push(c);
            }
            (None, '"' | '\'') => {
                quote = Some(c);
                cur.push(c);
            }
            (None, ';') => out.push(std::mem::take(&mut cur)),
            (_, c) => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_scripts() {
        assert_eq!(
            split_words("get \"a b\" c").unwrap(),
            vec!["get", "a b", "c"]
        );
        assert_eq!(
            split_words("put 'x y' z\\ w").unwrap(),
            vec!["put", "x y", "z w"]
        );
        assert_eq!(split_words("  ").unwrap(), Vec::<String>::new());
        assert_eq!(split_words("ls \"\"").unwrap(), vec!["ls", ""]);
        assert!(split_words("get \"a").is_err());
        assert_eq!(
            split_script("open ::1 2121; get 'a;b' ; ls"),
            vec!["open ::1 2121", "get 'a;b'", "ls"]
        );
        assert_eq!(base_name("a/b/c.txt"), "c.txt");
        assert_eq!(base_name("c"), "c");
        assert_eq!(human(1536.0), "1.50 KiB");
    }
}
