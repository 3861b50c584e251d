//! `sixstack ftp` and `sixstack ftpd` (also `ftp6` and `ftpd6` by argv[0]): the FTP
//! client and server of `sixstack-apps`, over sixstack (through the daemon) or over the
//! host's own stack (`--net kernel`).

use std::io::{self, BufRead, IsTerminal, Write};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, ValueEnum};
use sixstack_apps::ftp::client::{Shell, ShellOptions, Step, split_script};
use sixstack_apps::ftp::server::{Server, ServerConfig};
use sixstack_apps::ftp::users::{Users, hash_password};
use sixstack_apps::net::{KernelNet, Net, SixstackNet};

/// Which stack carries the connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NetKind {
    /// sixstack, through its daemon (`--control`).
    Sixstack,
    /// The host's own stack (for tests and comparisons).
    Kernel,
}

pub const FTP_HELP: &str = "Examples:\n  \
sixstack ftp 2001:db8::2                      (interactive: ftp> ls, get FILE, put FILE, help)\n  \
sixstack ftp -u alice 2001:db8::2 2121        (asks for the password)\n  \
sixstack ftp -c 'get pub/file.tar; ls' 2001:db8::2\n  \
sixstack ftp --net kernel -c 'binary; put big.iso; size big.iso' ::1 2121\n  \
printf 'cd pub\\nget README -\\n' | sixstack ftp fe80::1%tap0\n\n\
Without -c and with standard input not a terminal, commands are read from standard input, \
one a line. In a script (-c or standard input) the first command that fails stops it, with \
exit status 1. Data connections use EPSV (passive) unless --active (EPRT), as IPv6 needs \
(RFC 2428). Progress is drawn on standard error when it is a terminal, or with --progress.\n\n\
Exit status: 0 when every command succeeded, 1 when one failed, 2 on a usage error.";

#[derive(Debug, Args)]
pub struct FtpArgs {
    /// The server: an IPv6 address (fe80::1%tap0 for a link-local one) or a name.
    pub host: Option<String>,
    /// The server's control port.
    #[arg(default_value_t = 21)]
    pub port: u16,
    /// Log in as USER (USER:PASSWORD gives the password too; else it is asked for).
    #[arg(short = 'u', long, value_name = "USER[:PASSWORD]")]
    pub user: Option<String>,
    /// Do not log in when connecting (use the `user` command).
    #[arg(short = 'n', long)]
    pub no_login: bool,
    /// Commands to run, separated by `;`, instead of reading them.
    #[arg(short = 'c', long = "commands", value_name = "SCRIPT")]
    pub commands: Option<String>,
    /// Active data connections (EPRT: the server connects to us) instead of EPSV.
    #[arg(short = 'A', long)]
    pub active: bool,
    /// Show the dialogue with the server on standard error (the default when interactive).
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// Show progress of transfers on standard error even when it is not a terminal.
    #[arg(long)]
    pub progress: bool,
    /// Seconds to wait for the server (connection, replies, data).
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub timeout: u64,
    /// The stack: sixstack (through the daemon) or the host's kernel.
    #[arg(long, value_enum, default_value = "sixstack")]
    pub net: NetKind,
    /// The daemon's control socket (default: $SIXSTACK_CONTROL or /run/sixstack.sock).
    #[arg(long, value_name = "PATH")]
    pub control: Option<PathBuf>,
}

pub const FTPD_HELP: &str = "Examples:\n  \
sixstack ftpd --root /srv/ftp                          (anonymous, read-only, port 21)\n  \
sixstack ftpd --root /srv/ftp --listen [2001:db8::2]:2121 --writable --users /etc/sixstack-ftp.users\n  \
sixstack ftpd --net kernel --root . --listen [::1]:2121 --verbose\n  \
sixstack ftpd --hash-password < pw.txt                 (a line for the users file)\n\n\
The users file has one `name:$argon2id$...` a line; make the hash with --hash-password:\n  \
echo \"alice:$(sixstack ftpd --hash-password)\" >> users\n\
Without --users, only anonymous logins (user anonymous or ftp, any password). Nothing outside \
--root can be reached: `..` beyond it, absolute paths and symbolic links that lead out are \
refused. Data connections: EPSV and EPRT (RFC 2428); EPRT and PORT only to the client's own \
address (RFC 2577).\n\n\
Exit status: 1 when the server cannot start, 2 on a usage error.";

#[derive(Debug, Args)]
pub struct FtpdArgs {
    /// The directory served; nothing outside it can be reached.
    #[arg(long, value_name = "DIR", required_unless_present = "hash_password")]
    pub root: Option<PathBuf>,
    /// Where to listen: [ADDR]:PORT, :PORT or PORT.
    #[arg(long, value_name = "[ADDR]:PORT", default_value = "[::]:21", value_parser = listen_addr)]
    pub listen: SocketAddr,
    /// Allow STOR, APPE, DELE, MKD, RMD and RNFR/RNTO.
    #[arg(long)]
    pub writable: bool,
    /// Logins from this file (`name:$argon2id$...` lines) instead of anonymous ones.
    #[arg(long, value_name = "FILE")]
    pub users: Option<PathBuf>,
    /// Control connections at once; more are refused with 421.
    #[arg(long, value_name = "N", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// Seconds a control connection may stay silent before 421 and close.
    #[arg(long, value_name = "SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_timeout: u64,
    /// Log one line per command on standard error.
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// Read a password from standard input, print its Argon2id PHC string, and exit.
    #[arg(long, conflicts_with_all = ["root", "users", "writable"])]
    pub hash_password: bool,
    /// The stack: sixstack (through the daemon) or the host's kernel.
    #[arg(long, value_enum, default_value = "sixstack")]
    pub net: NetKind,
    /// The daemon's control socket (default: $SIXSTACK_CONTROL or /run/sixstack.sock).
    #[arg(long, value_name = "PATH")]
    pub control: Option<PathBuf>,
}

fn listen_addr(s: &str) -> Result<SocketAddr, String> {
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Ok(a);
    }
    let port = s.strip_prefix(':').unwrap_or(s);
    port.parse::<u16>()
        .map(|p| SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), p))
        .map_err(|_| format!("{s:?}: want [ADDR]:PORT (like [2001:db8::2]:2121), :PORT or PORT"))
}

fn make_net(kind: NetKind, control: Option<PathBuf>) -> Arc<dyn Net> {
    match kind {
        NetKind::Kernel => Arc::new(KernelNet),
        NetKind::Sixstack => Arc::new(SixstackNet { control }),
    }
}

pub fn ftpd(a: FtpdArgs) -> ExitCode {
    if a.hash_password {
        return print_hash();
    }
    let Some(root) = a.root else {
        eprintln!("sixstack ftpd: --root DIR is needed (the directory to serve)");
        return ExitCode::from(2);
    };
    let users = match &a.users {
        Some(p) => match Users::load(p) {
            Ok(u) => Some(u),
            Err(e) => {
                eprintln!(
                    "sixstack ftpd: users file {e}\n(lines are name:$argon2id$...; `sixstack ftpd --hash-password` makes the hash)"
                );
                return ExitCode::from(1);
            }
        },
        None => None,
    };
    let mut cfg = ServerConfig::new(root.clone());
    cfg.writable = a.writable;
    cfg.users = users;
    cfg.max_connections = a.max_connections as usize;
    cfg.idle_timeout = Duration::from_secs(a.idle_timeout);
    cfg.verbose = a.verbose;
    let net = make_net(a.net, a.control);
    let who = if a.users.is_some() {
        "users"
    } else {
        "anonymous"
    };
    let mode = if a.writable { "writable" } else { "read-only" };
    let server = match Server::bind(Arc::clone(&net), a.listen, cfg) {
        Ok(s) => s,
        Err(e) => {
            let hint = match e.kind() {
                io::ErrorKind::PermissionDenied => {
                    " (ports below 1024 need root: try --listen [::]:2121)"
                }
                io::ErrorKind::AddrInUse => {
                    " (another server has that port: choose another with --listen)"
                }
                io::ErrorKind::Unsupported => " (use --net kernel for the host's own stack)",
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => {
                    " (--root must be an existing directory)"
                }
                _ => "",
            };
            eprintln!(
                "sixstack ftpd: cannot serve on {} over {}: {e}{hint}",
                a.listen,
                net.name()
            );
            return ExitCode::from(1);
        }
    };
    let at = server.local_addr().unwrap_or(a.listen);
    eprintln!(
        "sixstack ftpd: serving {} on {at} over {} ({who}, {mode})",
        root.display(),
        net.name()
    );
    match server.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sixstack ftpd: {e}");
            ExitCode::from(1)
        }
    }
}

fn print_hash() -> ExitCode {
    let stdin = io::stdin();
    if stdin.is_terminal() {
        eprint!("Password (echoed): ");
        let _ = io::stderr().flush();
    }
    let mut line = String::new();
    if let Err(e) = stdin.lock().read_line(&mut line) {
        eprintln!("sixstack ftpd --hash-password: cannot read the password: {e}");
        return ExitCode::from(1);
    }
    let pw = line.trim_end_matches(['\r', '\n']);
    if pw.is_empty() {
        eprintln!("sixstack ftpd --hash-password: empty password (give it on standard input)");
        return ExitCode::from(2);
    }
    match hash_password(pw) {
        Ok(h) => {
            println!("{h}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("sixstack ftpd --hash-password: {e}");
            ExitCode::from(1)
        }
    }
}

pub fn ftp(a: FtpArgs) -> ExitCode {
    let interactive = a.commands.is_none() && io::stdin().is_terminal();
    let (user, password) = match a.user.as_deref() {
        Some(u) => match u.split_once(':') {
            Some((n, p)) => (Some(n.to_owned()), Some(p.to_owned())),
            None => (Some(u.to_owned()), None),
        },
        None => (None, None),
    };
    let opts = ShellOptions {
        auto_login: !a.no_login,
        user,
        password,
        verbose: a.verbose || interactive,
        progress: a.progress || io::stderr().is_terminal(),
        passive: !a.active,
        binary: true,
        timeout: Duration::from_secs(a.timeout.max(1)),
    };
    let net = make_net(a.net, a.control);
    let mut shell = Shell::new(net, opts);
    if interactive {
        shell.set_ask_password(Box::new(|prompt: &str| {
            eprint!("{prompt}(echoed) ");
            let _ = io::stderr().flush();
            let mut l = String::new();
            io::stdin().lock().read_line(&mut l).ok()?;
            Some(l.trim_end_matches(['\r', '\n']).to_owned())
        }));
    }
    let stdout = io::stdout();
    let mut out = stdout.lock();
    if let Some(host) = &a.host {
        let port = a.port;
        if let Err(e) = shell.open(host, port) {
            eprintln!("ftp: {host} port {port}: {e}");
            if !interactive {
                return ExitCode::from(1);
            }
        }
    }
    if let Some(script) = &a.commands {
        for cmd in split_script(script) {
            match shell.execute(&cmd, &mut out) {
                Ok(Step::Continue) => {}
                Ok(Step::Quit) => break,
                Err(e) => {
                    let _ = out.flush();
                    eprintln!("ftp: {e}");
                    return ExitCode::from(1);
                }
            }
        }
        let _ = shell.execute("quit", &mut out);
        return ExitCode::SUCCESS;
    }
    let stdin = io::stdin();
    let mut input = stdin.lock();
    loop {
        if interactive {
            let _ = write!(out, "ftp> ");
            let _ = out.flush();
        }
        let mut line = String::new();
        match input.read_line(&mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                eprintln!("ftp: reading commands: {e}");
                return ExitCode::from(1);
            }
        }
        match shell.execute(line.trim(), &mut out) {
            Ok(Step::Continue) => {}
            Ok(Step::Quit) => return ExitCode::SUCCESS,
            Err(e) => {
                let _ = out.flush();
                eprintln!("ftp: {e}");
                if !interactive {
                    return ExitCode::from(1);
                }
            }
        }
    }
    let _ = shell.execute("quit", &mut out);
    ExitCode::SUCCESS
}
