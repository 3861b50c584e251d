//! The one `sixstack` binary. Also answers to `ping6`, `tracert6`, `ttcp`, `ftp6`,
//! `ftpd6` and `6to4cfg` when invoked under those names (a symlink is enough).

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

mod ctl;
mod demo;
mod ftp_cmd;
mod probe_cmd;
mod stream_cmd;
use sixstack_apps::dump::run::{self, DumpError, Options, Style};

#[derive(Parser)]
#[command(
    name = "sixstack",
    version,
    about = "An IPv6 stack in user space, for research, teaching and testing",
    long_about = "sixstack is a complete IPv6 node in user space and the tools around it.\n\
                  `sixstack COMMAND --help` shows each command's options and examples.",
    after_help = "Examples:\n  sixstack demo\n  sixstack dump capture.pcapng\n  sudo sixstack run --tap tap0 &\n  sixstack addr show\n  sixstack ping6 -c 3 fe80::1%tap0\n  tcpdump -w - -i eth0 ip6 | sixstack dump -"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decode a pcap or pcapng capture: one line per packet, a field tree, or JSON.
    #[command(
        after_help = "Examples:\n  sixstack dump trace.pcapng\n  sixstack dump -v -c 1 trace.pcap\n  \
        sixstack dump --json --proto icmpv6 trace.pcap | jq .\n  sixstack dump --host 2001:db8::1 -\n\n\
        Exit status: 0 when the whole capture was read (malformed packets included),\n\
        1 when the capture could not be read, 2 on a usage error."
    )]
    Dump(DumpArgs),
    /// Run a simulated internetwork (a router, three hosts, two links) and show what the
    /// protocols do, as a timeline. No privileges needed.
    #[command(
        after_help = "Examples:\n  sixstack demo\n  sixstack demo --seed 7 --packets\n  \
        sixstack demo --pcap /tmp/demo && sixstack dump /tmp/demo/lan1.pcap\n  sixstack demo --json | jq 'select(.type == \"counters\")'\n\n\
        The same seed gives the same output, byte for byte."
    )]
    Demo(DemoArgs),
    /// Run the stack as a daemon on TAP devices, with a control socket for the
    /// `link`, `addr`, `route`, `neigh`, `stats` and `events` commands and for applications.
    #[command(
        long_about = "Run the stack as a daemon on TAP devices.\n\n\
        Each TAP device (created in the current network namespace if absent, and brought up) \
        becomes an interface of the stack: the kernel holds one end of the wire, the stack \
        the other, with a MAC address of its own. The daemon listens on a Unix control \
        socket for the other sixstack commands and for applications (sixstack-client). \
        Static configuration made through it (links, addresses, routes) is saved in the \
        state file and restored at the next start. It runs until SIGINT or SIGTERM.",
        after_help = "Examples:\n  \
        sudo sixstack run --tap tap0\n  \
        sudo sixstack run --tap tap0 --tap tap1 --control /tmp/sx.sock --pcap /tmp/caps\n  \
        sudo sixstack run --config /etc/sixstack.toml --log-format json 2> events.jsonl\n  \
        sudo ip netns exec lab sixstack run --tap tap0 --control /run/lab.sock\n\n\
        Then, from the kernel side:\n  \
        ip -6 addr add 2001:db8:1::1/64 dev tap0\n  \
        ping -6 -c 3 fe80::...%tap0     (the stack's link-local: sixstack addr show)\n\n\
        The configuration file (TOML) has a [node] table (forwarding, hosts, dns, seed), \
        [[interface]] tables (name, mac, mtu, accept_ra, send_rs, dad_transmits, \
        temporary_addresses, iid, addresses, and `ra` for router advertisements: prefixes, \
        mtu, router_lifetime, preference, hop_limit, reachable_time, retrans_timer, \
        managed, other_config, routes, rdnss, dnssl, min_interval, max_interval) and \
        [[route]] tables (to, via, dev, metric, type). A router:\n  \
        [node]\n  forwarding = true\n  [[interface]]\n  name = \"tap0\"\n  \
        addresses = [\"2001:db8:1::1/64\"]\n  \
        ra = { prefixes = [{ prefix = \"2001:db8:1::/64\" }] }\n\n\
        Exit status: 0 after a clean stop, 1 when the daemon could not start or failed."
    )]
    Run(RunArgs),
    /// Interfaces of the running daemon: show, add, del.
    #[command(after_help = CTL_HELP_LINK)]
    Link(Rest),
    /// Addresses of the running daemon: show, add, del.
    #[command(after_help = CTL_HELP_ADDR)]
    Addr(Rest),
    /// Routes of the running daemon: show, add, del, get.
    #[command(after_help = CTL_HELP_ROUTE)]
    Route(Rest),
    /// Multicast listening of the running daemon: groups joined, and the MLD querier's
    /// listeners on router interfaces.
    #[command(after_help = CTL_HELP_MLD)]
    Mld(Rest),
    /// Router Advertisements of the running daemon: show, set, off.
    #[command(after_help = CTL_HELP_RA)]
    Ra(Rest),
    /// The neighbor cache of the running daemon: show, flush.
    #[command(after_help = CTL_HELP_NEIGH)]
    Neigh(Rest),
    /// The counters of the running daemon (RFC 4293, RFC 4113, drops by reason).
    #[command(after_help = CTL_HELP_STATS)]
    Stats(Rest),
    /// Stream the events of the running daemon until interrupted.
    #[command(after_help = CTL_HELP_EVENTS)]
    Events(Rest),
    /// The TCP connections of the running daemon with cwnd, ssthresh, RTT, RTO (ss -ti).
    #[command(after_help = CTL_HELP_TCP)]
    Tcp(Rest),
    /// Send ICMPv6 echo requests through the daemon (iputils' ping options).
    #[command(after_help = PING_HELP)]
    Ping6(probe_cmd::PingArgs),
    /// Trace the routers to a destination through the daemon, with the path MTU per hop.
    #[command(after_help = TRACE_HELP)]
    Tracert6(probe_cmd::TraceArgs),
    /// Measure TCP and UDP throughput, classic ttcp's way (also `ttcp`).
    #[command(after_help = stream_cmd::TTCP_HELP)]
    Ttcp(stream_cmd::TtcpArgs),
    /// FTP client (RFC 959, EPSV/EPRT of RFC 2428): interactive, or from a script.
    #[command(after_help = ftp_cmd::FTP_HELP)]
    Ftp(ftp_cmd::FtpArgs),
    /// FTP server of a directory that nothing escapes, anonymous or with hashed passwords.
    #[command(after_help = ftp_cmd::FTPD_HELP)]
    Ftpd(ftp_cmd::FtpdArgs),
    /// A SOCKS5 proxy on the host's loopback whose connections go out over the stack.
    #[command(after_help = stream_cmd::SOCKS_HELP)]
    Socks(stream_cmd::SocksArgs),
}

#[derive(Args)]
struct DumpArgs {
    /// The capture file (pcap or pcapng); `-` reads standard input.
    file: PathBuf,
    /// Print the full field tree of each packet.
    #[arg(short, long, conflicts_with = "json")]
    verbose: bool,
    /// One JSON object per packet and line, fields keyed by Wireshark names.
    #[arg(long)]
    json: bool,
    /// Stop after N packets shown.
    #[arg(short = 'c', long = "count", value_name = "N")]
    count: Option<u64>,
    /// Show only packets with this protocol (ipv6, icmpv6, udp, tcp, ipv6.fraghdr, ...).
    #[arg(long, value_name = "PROTO")]
    proto: Option<String>,
    /// Show only packets from or to this address (at any depth, quotes included).
    #[arg(long, value_name = "ADDR")]
    host: Option<IpAddr>,
    /// Do not print the counts per protocol at the end (on standard error).
    #[arg(long)]
    no_summary: bool,
}

#[derive(Args)]
struct DemoArgs {
    /// Seed of every random choice (addresses, timers, link impairments).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Write one pcap per link into this directory.
    #[arg(long, value_name = "DIR")]
    pcap: Option<PathBuf>,
    /// Show every frame on the wires between the events.
    #[arg(long)]
    packets: bool,
    /// One JSON object per line: sections, events, results, counters.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct RunArgs {
    /// A TAP device to drive; created if absent. Repeat for more.
    #[arg(long = "tap", value_name = "NAME")]
    taps: Vec<String>,
    /// A TOML configuration file: interfaces, addresses, routes, forwarding,
    /// router advertisements.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The control socket [default: $SIXSTACK_CONTROL, else /run/sixstack.sock].
    #[arg(long, value_name = "PATH")]
    control: Option<PathBuf>,
    /// Where configuration made through the control socket is kept
    /// [default: beside the control socket, with the extension .state].
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// Write one pcap per interface into this directory (NAME.pcap).
    #[arg(long, value_name = "DIR")]
    pcap: Option<PathBuf>,
    /// How the log on standard error is written.
    #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
}

#[derive(Args)]
struct Rest {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    args: Vec<OsString>,
}

/// Rewrites `ping6 ...` into `sixstack ping6 ...` for the tool names the binary answers to.
fn argv() -> Vec<OsString> {
    alias(std::env::args_os().collect())
}

/// `ping6 ARGS` as `sixstack ping6 ARGS`, by the program's name.
fn alias(mut args: Vec<OsString>) -> Vec<OsString> {
    let invoked = args
        .first()
        .and_then(|a| {
            PathBuf::from(a)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_default();
    let sub = match invoked.as_str() {
        "ping6" => Some("ping6"),
        "tracert6" | "traceroute6" => Some("tracert6"),
        "ttcp" => Some("ttcp"),
        "ftp6" => Some("ftp"),
        "ftpd6" => Some("ftpd"),
        _ => None,
    };
    if let Some(s) = sub {
        args.insert(1, s.into());
        args[0] = "sixstack".into();
    }
    args
}

fn demo(a: DemoArgs) -> ExitCode {
    let opts = demo::DemoOptions {
        seed: a.seed,
        pcap: a.pcap,
        packets: a.packets,
    };
    let stdout = io::stdout();
    let mut out = demo::Printer::new(io::BufWriter::new(stdout.lock()), a.json);
    match demo::run(&opts, &mut out).and_then(|()| std::io::Write::flush(&mut out.into_inner())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sixstack demo: {e}");
            ExitCode::from(1)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse_from(argv());
    match cli.command {
        Command::Dump(a) => dump(a),
        Command::Demo(a) => demo(a),
        Command::Run(a) => run_daemon(a),
        Command::Link(r) => control("link", r),
        Command::Addr(r) => control("addr", r),
        Command::Route(r) => control("route", r),
        Command::Ra(r) => control("ra", r),
        Command::Mld(r) => control("mld", r),
        Command::Neigh(r) => control("neigh", r),
        Command::Stats(r) => control("stats", r),
        Command::Events(r) => control("events", r),
        Command::Tcp(r) => control("tcp", r),
        Command::Ping6(a) => probe_cmd::ping6(a),
        Command::Tracert6(a) => probe_cmd::tracert6(a),
        Command::Ttcp(a) => stream_cmd::ttcp(a),
        Command::Ftp(a) => ftp_cmd::ftp(a),
        Command::Ftpd(a) => ftp_cmd::ftpd(a),
        Command::Socks(a) => stream_cmd::socks(a),
    }
}

const CTL_HELP_LINK: &str = "Usage:\n  sixstack link [show [dev] NAME] [--json]\n  sixstack link add NAME [address MAC] [mtu N]\n  sixstack link del NAME\n\n\
The daemon is found at $SIXSTACK_CONTROL, else /run/sixstack.sock (or --control PATH).\n\
Exit status: 0 done, 1 the daemon refused or cannot be reached, 2 a usage error.";
const CTL_HELP_ADDR: &str = "Usage:\n  sixstack addr [show [dev NAME]] [--json]\n  sixstack addr add ADDRESS/LEN dev NAME\n  sixstack addr del ADDRESS[/LEN] dev NAME\n\n\
Example: sixstack addr add 2001:db8::2/64 dev tap0\n\
--json gives per address: interface, address, prefix_len, scope, state (tentative, preferred,\n\
deprecated, duplicate), origin (link-local, slaac, temporary, static), valid_lifetime and\n\
preferred_lifetime in seconds (null: forever).\n\
Exit status: 0 done, 1 the daemon refused or cannot be reached, 2 a usage error.";
const CTL_HELP_ROUTE: &str = "Usage:\n  sixstack route [show] [--json]\n  sixstack route add PREFIX/LEN|default [via ADDRESS] dev NAME [metric N]\n  sixstack route add blackhole|unreachable|prohibit PREFIX/LEN [dev NAME] [metric N]\n  sixstack route del PREFIX/LEN|default [via ADDRESS] [dev NAME]\n  sixstack route get ADDRESS[%ZONE] [--json]\n\n\
Examples:\n  sixstack route add 2001:db8:9::/48 via fe80::1 dev tap0\n  \
sixstack route add unreachable 2001:db8:dead::/48   (Destination Unreachable, code 0;\n  \
                                     blackhole drops silently, prohibit answers code 1)\n  \
sixstack route get 2001:db8:9::1     (the route, next hop, interface, source and path MTU\n  \
                                     a packet sent now would take, and what chose them)\n\
Exit status: 0 done, 1 the daemon refused or cannot be reached, 2 a usage error.";
const CTL_HELP_MLD: &str = "Usage:\n  sixstack mld [show [dev NAME]] [--json]\n\n\
Per interface: the MLD version in use, the groups the node joined and, on a router\n\
interface, whether it is the link's querier (RFC 3810 §7.6.2 election) and which groups\n\
have listeners on the link, with the seconds before they time out.\n\
Exit status: 0 done, 1 the daemon refused or cannot be reached, 2 a usage error.";
const CTL_HELP_RA: &str = "Usage:\n  sixstack ra [show [dev NAME]] [--json]\n  sixstack ra set NAME 'KEY = VALUE'...\n  sixstack ra off NAME\n\n\
`ra set` advertises on NAME from now on with the settings given, in the words of the\n\
configuration file's `ra` table (prefixes, mtu, router_lifetime, preference, hop_limit,\n\
reachable_time, retrans_timer, managed, other_config, routes, rdnss, dnssl, min_interval,\n\
max_interval); unset keys take RFC 4861's defaults. The change goes out at once. `ra off`\n\
sends final advertisements (router lifetime 0) and stops. Both last until the daemon\n\
stops: put them in the configuration file to keep them.\n\n\
Examples:\n  sixstack ra set tap1 'prefixes = [{ prefix = \"2001:db8:2::/64\" }]' 'mtu = 1400'\n  \
sixstack ra set tap0 'prefixes = [{ prefix = \"2001:db8:1::/64\", preferred_lifetime = 0 }]'\n  \
sixstack ra show --json\n\
Exit status: 0 done, 1 the daemon refused or cannot be reached, 2 a usage error.";
const CTL_HELP_NEIGH: &str = "Usage:\n  sixstack neigh [show [dev NAME]] [--json]\n  sixstack neigh flush [dev NAME|all]\n\n\
Exit status: 0 done, 1 the daemon refused or cannot be reached, 2 a usage error.";
const CTL_HELP_STATS: &str = "Usage:\n  sixstack stats [--json]\n\n\
Exit status: 0 done, 1 the daemon cannot be reached, 2 a usage error.";
const CTL_HELP_EVENTS: &str = "Usage:\n  sixstack events [--json]\n\n\
One line (or JSON object) per event: addresses, neighbors, routers, prefixes, MLD, path MTU,\n\
links going up and down. Runs until interrupted.";
const CTL_HELP_TCP: &str = "Usage:\n  sixstack tcp [show] [--json]\n\n\
One line per connection as `ss -ti`: state, local and peer, congestion control, cwnd,\n\
ssthresh, srtt/rttvar, rto, retransmissions. --json gives every variable of each.";
const PING_HELP: &str = "Examples:\n  sixstack ping6 -c 3 2001:db8::1\n  ping6 fe80::1%tap0\n  \
sixstack ping6 -s 8000 -M want 2001:db8::1\n  sixstack ping6 -c 1 --json 2001:db8::1 | jq .\n\n\
Lines and statistics as iputils' ping. Ctrl-C stops and prints the statistics.\n\
Exit status: 0 a reply came, 1 no reply, 2 an error (bad option, no daemon, no route).";
const TRACE_HELP: &str = "Examples:\n  sixstack tracert6 2001:db8:2::1\n  tracert6 -U -q 1 -m 10 2001:db8:2::1\n\n\
Option letters are Linux traceroute's: -I ICMPv6 probes (default, as Windows tracert),\n\
-U UDP probes to ports 33434 and up (-p), -m max hops (Windows: -h), -q probes per hop,\n\
-w wait per probe in seconds (Windows: -w in ms), -f first hop, -s source, -i interface.\n\
Without PACKETLEN each probe is as large as the path MTU and not fragmented, so a router\n\
before a narrower link answers Packet Too Big: its hop shows `pmtu N` (as tracepath), and\n\
the last line is tracepath's `Resume: pmtu N hops N back N`.\n\
Exit status: 0 the destination answered, 1 it did not, 2 an error.";

/// A control command: the words after its name, iproute2's way.
fn control(name: &str, r: Rest) -> ExitCode {
    let args: Vec<String> = r
        .args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let cmd = match ctl::parse(name, &args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("sixstack {name}: {e}\nUsage: {}", ctl::usage(name));
            return ExitCode::from(2);
        }
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let r = ctl::run(&cmd, name, &mut out).and_then(|()| std::io::Write::flush(&mut out));
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            drop(out);
            eprintln!("sixstack {name}: {e}");
            ExitCode::from(1)
        }
    }
}

fn run_daemon(a: RunArgs) -> ExitCode {
    if a.taps.is_empty() && a.config.is_none() {
        eprintln!(
            "sixstack run: note: no --tap and no --config: only links saved earlier or added \
             with `sixstack link add NAME` will be driven"
        );
    }
    let opts = sixstack_host::Options {
        taps: a.taps,
        config: a.config,
        control: sixstack_host::Options::control_path(a.control),
        state: a.state,
        pcap: a.pcap,
        log_format: if a.log_format == "json" {
            sixstack_host::LogFormat::Json
        } else {
            sixstack_host::LogFormat::Text
        },
    };
    match sixstack_host::run(opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sixstack run: {e}");
            ExitCode::from(1)
        }
    }
}

fn dump(a: DumpArgs) -> ExitCode {
    let input: Box<dyn Read> = if a.file.as_os_str() == "-" {
        Box::new(io::stdin().lock())
    } else {
        match File::open(&a.file) {
            Ok(f) => Box::new(f),
            Err(e) => {
                eprintln!(
                    "sixstack dump: cannot open {}: {e}\n(give a pcap or pcapng file, or - for standard input)",
                    a.file.display()
                );
                return ExitCode::from(1);
            }
        }
    };
    let opts = Options {
        style: if a.json {
            Style::Json
        } else if a.verbose {
            Style::Tree
        } else {
            Style::Line
        },
        count: a.count,
        proto: a.proto,
        host: a.host,
    };
    let mut out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    match run::run(BufReader::with_capacity(1 << 16, input), &mut out, &opts) {
        Ok(summary) => {
            if !a.no_summary {
                eprint!("{}", summary.render());
            }
            ExitCode::SUCCESS
        }
        Err(DumpError::Capture(e, summary)) => {
            drop(out);
            if !a.no_summary {
                eprint!("{}", summary.render());
            }
            eprintln!(
                "sixstack dump: {}: {e}\n(is it a pcap or pcapng file? `file {}` tells)",
                a.file.display(),
                a.file.display()
            );
            ExitCode::from(1)
        }
        Err(DumpError::Output(e)) => {
            eprintln!("sixstack dump: cannot write output: {e}");
            ExitCode::from(1)
        }
    }
}
