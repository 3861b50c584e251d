//! `sixstack ttcp` (also `ttcp` by argv[0]) and `sixstack socks`: classic ttcp's option
//! letters and a SOCKS5 proxy, the logic of `sixstack-apps` over a network chosen with
//! `--net`: sixstack through its daemon (the default), or the host's kernel for
//! comparison and tests.

use std::io::{self, Write};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::builder::TypedValueParser;
use clap::{Args, ValueEnum};
use sixstack_apps::net::{KernelNet, Net, SixstackNet};
use sixstack_apps::{socks, ttcp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NetChoice {
    /// sixstack, through the daemon at --control.
    Sixstack,
    /// The host's own stack (for comparison and tests).
    Kernel,
}

fn network(choice: NetChoice, control: Option<PathBuf>) -> Arc<dyn Net> {
    match choice {
        NetChoice::Sixstack => Arc::new(SixstackNet { control }),
        NetChoice::Kernel => Arc::new(KernelNet),
    }
}

pub const TTCP_HELP: &str = "Examples:\n  \
sixstack ttcp -r -p 5001 > out                 receive one TCP connection into a file\n  \
sixstack ttcp -t -p 5001 2001:db8::2 < in      send a file\n  \
sixstack ttcp -r -s                            receive and discard (sink)\n  \
sixstack ttcp -t -s -n 4096 -l 65536 2001:db8::2   send 256 MiB of a pattern\n  \
sixstack ttcp -r -u -s   and   sixstack ttcp -t -u -s --rate 100M 2001:db8::2\n  \
nc -l -p 5001 > out   and   ttcp -t -p 5001 ::1 < in   (--net kernel)\n\n\
The report goes to standard error, as classic ttcp's:\n  \
ttcp-t: 16777216 bytes in 1.23 real seconds = 13.01 MB/sec +++\n  \
ttcp-t: 2048 I/O calls, msec/call = 0.60, calls/sec = 1665.04\n\
(-f: k m g in Kbit Mbit Gbit, K M G in KB MB GB, powers of 1024; the default is M, where\n\
classic ttcp's was K.) --json adds one line, a JSON object: side, protocol, peer, bytes,\n\
seconds, bytes_per_sec, throughput, unit, calls (`2>&1 >/dev/null | grep '^{'`).\n\n\
TCP: the receiver takes one connection and ends at its end of file, so `nc` works as\n\
either peer. UDP (-u): 4-byte datagrams mark the start and the end, as classic ttcp's, so\n\
the two ends must both be ttcp; -l is at least 5, and --rate paces the transmitter (UDP has\n\
no flow control: a receiver that falls behind loses datagrams).\n\
-b is accepted and reported, not applied: neither network lets a socket buffer be set.\n\n\
Exit status: 0 done, 1 a network or I/O error, 2 a usage error.";

#[derive(Debug, Args)]
pub struct TtcpArgs {
    /// Transmit: connect to HOST and send.
    #[arg(
        short = 't',
        conflicts_with = "receive",
        required_unless_present = "receive"
    )]
    pub transmit: bool,
    /// Receive: listen on the port and take one transfer.
    #[arg(short = 'r')]
    pub receive: bool,
    /// UDP instead of TCP.
    #[arg(short = 'u')]
    pub udp: bool,
    /// Bytes per write (transmitter) or read (receiver).
    #[arg(short = 'l', value_name = "BUFLEN", default_value_t = ttcp::DEFAULT_BUFLEN,
          value_parser = clap::value_parser!(u32).range(1..=ttcp::MAX_BUFLEN as i64).map(|v| v as usize))]
    pub buflen: usize,
    /// Buffers sent with -s.
    #[arg(short = 'n', value_name = "NBUF", default_value_t = ttcp::DEFAULT_NBUF,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub nbuf: u64,
    /// The port.
    #[arg(short = 'p', value_name = "PORT", default_value_t = ttcp::DEFAULT_PORT)]
    pub port: u16,
    /// Socket buffer size (reported; not settable on either network yet).
    #[arg(short = 'b', value_name = "SIZE")]
    pub sockbuf: Option<usize>,
    /// No delay: Nagle's algorithm off (TCP).
    #[arg(short = 'D')]
    pub nodelay: bool,
    /// Source a pattern (-t) or sink the data (-r), instead of standard input and output.
    #[arg(short = 's')]
    pub pattern: bool,
    /// More messages.
    #[arg(short = 'v')]
    pub verbose: bool,
    /// The unit of the rate: k m g (bits) or K M G (bytes), powers of 1024.
    #[arg(short = 'f', value_name = "FORMAT", default_value = "M", value_parser = ["k", "m", "g", "K", "M", "G"])]
    pub format: String,
    /// UDP transmitter: at most this many bits per second (1000000, 500k, 100M, 1G).
    #[arg(long, value_name = "BITS", value_parser = bits_per_sec, requires = "udp", requires = "transmit")]
    pub rate: Option<u64>,
    /// Receiver: the address to listen on [default: all, `::`].
    #[arg(long, value_name = "ADDRESS", requires = "receive")]
    pub bind: Option<IpAddr>,
    /// After the report, the same as one JSON object on a line of standard error.
    #[arg(long)]
    pub json: bool,
    /// The network: sixstack (through the daemon) or the host's kernel.
    #[arg(long, value_enum, default_value = "sixstack")]
    pub net: NetChoice,
    /// The daemon's control socket (default: $SIXSTACK_CONTROL or /run/sixstack.sock).
    #[arg(long, value_name = "PATH")]
    pub control: Option<PathBuf>,
    /// Transmitter: the receiver's name or address, with %zone for a link-local one.
    #[arg(value_name = "HOST", required_if_eq("transmit", "true"))]
    pub host: Option<String>,
}

fn bits_per_sec(s: &str) -> Result<u64, String> {
    let (num, mult) = match s.chars().last() {
        Some('k' | 'K') => (&s[..s.len() - 1], 1_000),
        Some('m' | 'M') => (&s[..s.len() - 1], 1_000_000),
        Some('g' | 'G') => (&s[..s.len() - 1], 1_000_000_000),
        _ => (s, 1),
    };
    match num.parse::<u64>() {
        Ok(v) if v > 0 => v
            .checked_mul(mult)
            .ok_or_else(|| format!("{s:?} is too large")),
        _ => Err(format!(
            "{s:?} is not a rate in bits per second (like 800000, 500k, 100M, 1G)"
        )),
    }
}

pub fn ttcp(a: TtcpArgs) -> ExitCode {
    let side = if a.transmit { "ttcp-t" } else { "ttcp-r" };
    let role = match (a.transmit, a.host) {
        (true, Some(host)) => ttcp::Role::Transmit { host },
        (true, None) => {
            eprintln!("{side}: -t needs the receiver: sixstack ttcp -t HOST");
            return ExitCode::from(2);
        }
        (false, Some(h)) => {
            eprintln!(
                "{side}: a receiver takes no HOST ({h}); use --bind ADDRESS to choose where it listens"
            );
            return ExitCode::from(2);
        }
        (false, None) => ttcp::Role::Receive,
    };
    let opts = ttcp::Options {
        role,
        udp: a.udp,
        buflen: a.buflen,
        nbuf: a.nbuf,
        port: a.port,
        sockbuf: a.sockbuf,
        nodelay: a.nodelay,
        pattern: a.pattern,
        verbose: a.verbose,
        format: ttcp::Format::from_letter(&a.format).unwrap_or(ttcp::Format::MByte),
        json: a.json,
        rate: a.rate,
        bind: a.bind,
    };
    if let Err(e) = opts.check() {
        eprintln!("{side}: {e}");
        return ExitCode::from(2);
    }
    let net = network(a.net, a.control);
    let stdin = io::stdin();
    let mut input = stdin.lock();
    let mut output = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let mut log = io::stderr().lock();
    match ttcp::run(&*net, &opts, &mut input, &mut output, &mut log) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(log, "{side}: {e}");
            if e.kind() == io::ErrorKind::Unsupported && a.net == NetChoice::Sixstack {
                let _ = writeln!(
                    log,
                    "{side}: (--net kernel runs it over the host's own stack meanwhile)"
                );
            }
            ExitCode::from(if e.kind() == io::ErrorKind::InvalidInput {
                2
            } else {
                1
            })
        }
    }
}

pub const SOCKS_HELP: &str = "Examples:\n  \
sixstack socks                                  on [::1]:1080 and 127.0.0.1:1080\n  \
sixstack socks --listen '[::1]:1080' --json 2> socks.log\n  \
curl --socks5-hostname '[::1]:1080' http://www.example/\n  \
chromium --proxy-server='socks5://[::1]:1080' http://www.example/\n\n\
Clients connect on the host's loopback; their connections go out over --net (sixstack by\n\
default, through the daemon at --control), and names are resolved there (use\n\
--socks5-hostname or socks5h:// so that the proxy resolves them). SOCKS5 (RFC 1928) with\n\
no authentication; CONNECT and UDP ASSOCIATE; BIND answers 0x07. sixstack is IPv6-only, so\n\
an IPv4 target (or a name with only IPv4 addresses) is answered 0x08 \"address type not\n\
supported\"; with --net kernel IPv4 is carried. Failed connects answer RFC 1928 §6 codes:\n\
0x05 refused, 0x03 network unreachable, 0x04 host unreachable or timed out or unknown name,\n\
0x02 administratively prohibited, 0x01 anything else.\n\n\
One line per connection on standard error: client, command, target, the address used, the\n\
reply, bytes up and down, seconds (--json: one JSON object per line).\n\
It runs until interrupted. Exit status: 1 when no listening address could be opened,\n\
2 a usage error.";

#[derive(Debug, Args)]
pub struct SocksArgs {
    /// Where clients connect (repeatable) [default: [::1]:1080 and 127.0.0.1:1080].
    #[arg(long = "listen", value_name = "ADDRESS:PORT")]
    pub listen: Vec<SocketAddr>,
    /// The network connections go out on: sixstack (through the daemon) or the host's
    /// kernel.
    #[arg(long, value_enum, default_value = "sixstack")]
    pub net: NetChoice,
    /// The daemon's control socket (default: $SIXSTACK_CONTROL or /run/sixstack.sock).
    #[arg(long, value_name = "PATH")]
    pub control: Option<PathBuf>,
    /// Clients served at once; more are closed at once.
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=100_000).map(|v| v as usize))]
    pub max_clients: usize,
    /// Seconds from a client's connection to its complete request.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0, value_parser = seconds)]
    pub handshake_timeout: f64,
    /// Seconds without data either way after which a relay is closed.
    #[arg(long, value_name = "SECONDS", default_value_t = 300.0, value_parser = seconds)]
    pub idle_timeout: f64,
    /// Seconds allowed for each address a CONNECT tries.
    #[arg(long, value_name = "SECONDS", default_value_t = 20.0, value_parser = seconds)]
    pub connect_timeout: f64,
    /// Log lines as JSON objects.
    #[arg(long)]
    pub json: bool,
}

fn seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v < 1e7 => Ok(v),
        _ => Err(format!("{s:?} is not a positive number of seconds")),
    }
}

pub fn socks(a: SocksArgs) -> ExitCode {
    let defaults = a.listen.is_empty();
    let addrs: Vec<SocketAddr> = if defaults {
        vec![
            "[::1]:1080".parse().unwrap_or_else(|_| unreachable!()),
            "127.0.0.1:1080".parse().unwrap_or_else(|_| unreachable!()),
        ]
    } else {
        a.listen
    };
    let outbound = network(a.net, a.control);
    let opts = socks::Options {
        max_clients: a.max_clients,
        handshake_timeout: Duration::from_secs_f64(a.handshake_timeout),
        idle_timeout: Duration::from_secs_f64(a.idle_timeout),
        connect_timeout: Duration::from_secs_f64(a.connect_timeout),
        ipv4: a.net == NetChoice::Kernel,
        json: a.json,
    };
    let inbound: Arc<dyn Net> = Arc::new(KernelNet);
    let mut listeners = Vec::new();
    for at in addrs {
        match inbound.listen(at, 128) {
            Ok(l) => {
                if !at.ip().is_loopback() {
                    eprintln!(
                        "socks: warning: {at} is not a loopback address: anyone who reaches it can use the proxy"
                    );
                }
                let bound = l.local_addr().unwrap_or(at);
                listeners.push((bound, l));
            }
            Err(e) if defaults => eprintln!("socks: not listening on {at}: {e}"),
            Err(e) => {
                eprintln!(
                    "socks: cannot listen on {at}: {e}\n(another program may hold the port: choose another with --listen ADDRESS:PORT)"
                );
                return ExitCode::from(1);
            }
        }
    }
    if listeners.is_empty() {
        eprintln!("socks: no address to listen on: give one with --listen ADDRESS:PORT");
        return ExitCode::from(1);
    }
    let names: Vec<String> = listeners.iter().map(|(a, _)| a.to_string()).collect();
    if a.json {
        eprintln!(
            "{}",
            serde_json::json!({"listening": names, "net": outbound.name()})
        );
    } else {
        eprintln!(
            "socks: listening on {}; connections go out over {}",
            names.join(", "),
            outbound.name()
        );
    }
    let proxy = socks::Proxy::new(inbound, outbound, opts);
    let threads: Vec<_> = listeners
        .into_iter()
        .map(|(at, l)| {
            let p = Arc::clone(&proxy);
            std::thread::spawn(move || {
                if let Err(e) = p.serve(l) {
                    eprintln!("socks: stopped accepting on {at}: {e}");
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
    ExitCode::from(1)
}
