//! `sixstack ping6` and `sixstack tracert6` (also `ping6` and `tracert6` by argv[0]): the
//! option letters of iputils' ping and of Linux traceroute, the logic of `sixstack-apps`
//! over the daemon.

use std::io::{self, Write};
use std::net::Ipv6Addr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::{Args, ValueEnum};
use sixstack_apps::daemon_net::DaemonNet;
use sixstack_apps::ping::{self, PingOptions};
use sixstack_apps::probe::{PmtuMode, ProbeError, SendOptions};
use sixstack_apps::tracert::{self, Method, TraceOptions};
use sixstack_client::{ScopedAddr, Zone};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Pmtu {
    /// Never fragment; larger than the path MTU is an error.
    Do,
    /// Fragment to the path MTU (the default).
    Want,
    /// Fragment to 1280 bytes.
    Dont,
}

#[derive(Debug, Args)]
pub struct PingArgs {
    /// Stop after sending COUNT requests (and receiving their replies).
    #[arg(short = 'c', value_name = "COUNT", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
    /// Seconds between requests.
    #[arg(short = 'i', value_name = "INTERVAL", default_value_t = 1.0, value_parser = seconds)]
    pub interval: f64,
    /// Bytes of data in each request (the ICMPv6 message is 8 more); above the path MTU
    /// the stack fragments them.
    #[arg(short = 's', value_name = "SIZE", default_value_t = 56)]
    pub size: usize,
    /// Hop limit of the requests.
    #[arg(short = 't', value_name = "HOPLIMIT", value_parser = clap::value_parser!(u8).range(1..))]
    pub hop_limit: Option<u8>,
    /// Source address, or interface name (the zone of the destination).
    #[arg(short = 'I', value_name = "INTERFACE|ADDRESS")]
    pub interface: Option<String>,
    /// Seconds to wait for a reply after the last request when none came.
    #[arg(short = 'W', value_name = "TIMEOUT", default_value_t = 10.0, value_parser = seconds)]
    pub timeout: f64,
    /// Stop after this many seconds, whatever was sent or received.
    #[arg(short = 'w', value_name = "DEADLINE", value_parser = seconds)]
    pub deadline: Option<f64>,
    /// Path MTU discovery: do (never fragment), want (fragment to the path MTU), dont
    /// (fragment to 1280).
    #[arg(
        short = 'M',
        value_name = "PMTUDISC",
        value_enum,
        default_value = "want"
    )]
    pub pmtu: Pmtu,
    /// Flow label (20 bits, hexadecimal as in iputils).
    #[arg(short = 'F', value_name = "FLOWLABEL", value_parser = flow_label)]
    pub flow_label: Option<u32>,
    /// Traffic class (decimal, or hexadecimal with 0x).
    #[arg(short = 'Q', value_name = "TCLASS", value_parser = tclass)]
    pub tclass: Option<u8>,
    /// Quiet: the first line and the statistics only.
    #[arg(short = 'q')]
    pub quiet: bool,
    /// Numeric output only (always so: accepted for iputils' habit).
    #[arg(short = 'n')]
    pub numeric: bool,
    /// One JSON object per line: start, reply, error, summary.
    #[arg(long)]
    pub json: bool,
    /// The daemon's control socket (default: $SIXSTACK_CONTROL or /run/sixstack.sock).
    #[arg(long, value_name = "PATH")]
    pub control: Option<PathBuf>,
    /// A host name or address, with %zone for a link-local one (fe80::1%tap0).
    #[arg(value_name = "DESTINATION")]
    pub dest: String,
}

#[derive(Debug, Args)]
pub struct TraceArgs {
    /// Probe with ICMPv6 Echo Requests (the default).
    #[arg(short = 'I', long = "icmp", conflicts_with = "udp")]
    pub icmp: bool,
    /// Probe with UDP datagrams to port 33434 and up.
    #[arg(short = 'U', long = "udp")]
    pub udp: bool,
    /// The largest hop limit tried.
    #[arg(short = 'm', value_name = "MAX_HOPS", default_value_t = 30, value_parser = clap::value_parser!(u8).range(1..))]
    pub max_hops: u8,
    /// The first hop limit tried.
    #[arg(short = 'f', value_name = "FIRST_HOP", default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..))]
    pub first_hop: u8,
    /// Probes per hop.
    #[arg(short = 'q', value_name = "NQUERIES", default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=10))]
    pub queries: u8,
    /// Seconds to wait for the answer to a probe.
    #[arg(short = 'w', value_name = "WAIT", default_value_t = 3.0, value_parser = seconds)]
    pub wait: f64,
    /// UDP: the destination port of the first probe.
    #[arg(short = 'p', value_name = "PORT", default_value_t = 33434)]
    pub port: u16,
    /// Source address.
    #[arg(short = 's', value_name = "ADDRESS")]
    pub source: Option<Ipv6Addr>,
    /// Interface to send from (the zone of the destination).
    #[arg(short = 'i', value_name = "INTERFACE")]
    pub interface: Option<String>,
    /// Traffic class of the probes.
    #[arg(short = 't', value_name = "TCLASS", value_parser = tclass)]
    pub tclass: Option<u8>,
    /// Numeric output only (always so).
    #[arg(short = 'n')]
    pub numeric: bool,
    /// One JSON object per line: start, hop, summary.
    #[arg(long)]
    pub json: bool,
    /// The daemon's control socket (default: $SIXSTACK_CONTROL or /run/sixstack.sock).
    #[arg(long, value_name = "PATH")]
    pub control: Option<PathBuf>,
    /// A host name or address, with %zone for a link-local one.
    #[arg(value_name = "DESTINATION")]
    pub dest: String,
    /// The whole probe size in bytes, IPv6 header included (default: the path MTU, so
    /// that each hop's MTU shows, as tracepath).
    #[arg(value_name = "PACKETLEN")]
    pub packet_len: Option<usize>,
}

fn seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v < 1e9 => Ok(v),
        _ => Err(format!("{s:?} is not a positive number of seconds")),
    }
}

fn flow_label(s: &str) -> Result<u32, String> {
    let t = s.trim_start_matches("0x");
    match u32::from_str_radix(t, 16) {
        Ok(v) if v <= 0xf_ffff => Ok(v),
        _ => Err(format!("{s:?} is not a 20-bit hexadecimal flow label")),
    }
}

fn tclass(s: &str) -> Result<u8, String> {
    let r = match s.strip_prefix("0x") {
        Some(h) => u8::from_str_radix(h, 16),
        None => s.parse(),
    };
    r.map_err(|_| format!("{s:?} is not a traffic class (0-255, or 0x00-0xff)"))
}

impl PingArgs {
    /// The destination and the options of the run; `ident` tells our replies apart.
    pub fn options(&self, ident: u16) -> Result<(String, PingOptions), String> {
        let mut source = None;
        let mut zone = None;
        if let Some(i) = &self.interface {
            match i.parse::<Ipv6Addr>() {
                Ok(a) => source = Some(a),
                Err(_) => zone = Some(Zone::name(i).map_err(|e| format!("-I {i:?}: {e}"))?),
            }
        }
        let send = SendOptions {
            hop_limit: self.hop_limit,
            traffic_class: self.tclass.unwrap_or(0),
            flow_label: self.flow_label.unwrap_or(0),
            pmtu: match self.pmtu {
                Pmtu::Do => PmtuMode::Do,
                Pmtu::Want => PmtuMode::Want,
                Pmtu::Dont => PmtuMode::Dont,
            },
            source,
        };
        if self.size > ping::MAX_SIZE {
            return Err(format!(
                "-s {}: at most {} bytes fit an IPv6 packet",
                self.size,
                ping::MAX_SIZE
            ));
        }
        let dest = match zone {
            Some(z) if !self.dest.contains('%') => format!("{}%{z}", self.dest),
            _ => self.dest.clone(),
        };
        Ok((
            dest,
            PingOptions {
                count: self.count,
                interval: Duration::from_secs_f64(self.interval),
                size: self.size,
                timeout: Duration::from_secs_f64(self.timeout),
                deadline: self.deadline.map(Duration::from_secs_f64),
                quiet: self.quiet,
                send,
                ident,
            },
        ))
    }
}

impl TraceArgs {
    pub fn options(&self, ident: u16) -> Result<(String, TraceOptions), String> {
        if self.first_hop > self.max_hops {
            return Err(format!(
                "-f {} is beyond -m {}",
                self.first_hop, self.max_hops
            ));
        }
        let dest = match &self.interface {
            Some(i) if !self.dest.contains('%') => {
                Zone::name(i).map_err(|e| format!("-i {i:?}: {e}"))?;
                format!("{}%{i}", self.dest)
            }
            _ => self.dest.clone(),
        };
        Ok((
            dest,
            TraceOptions {
                method: if self.udp { Method::Udp } else { Method::Icmp },
                first_hop: self.first_hop,
                max_hops: self.max_hops,
                queries: self.queries,
                wait: Duration::from_secs_f64(self.wait),
                base_port: self.port,
                packet_len: self.packet_len,
                send: SendOptions {
                    traffic_class: self.tclass.unwrap_or(0),
                    source: self.source,
                    ..SendOptions::default()
                },
                ident,
            },
        ))
    }
}

/// Set by SIGINT: the run stops and prints its statistics, as iputils does.
fn interrupted() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    // A second handler cannot be set (tests call this twice); then Ctrl-C just ends us.
    let _ = ctrlc::set_handler(move || f.store(true, Ordering::SeqCst));
    flag
}

/// The first address of `name` (a literal with its zone, or a name the daemon knows).
fn resolve(net: &DaemonNet, name: &str) -> Result<ScopedAddr, String> {
    if let Ok(a) = name.parse::<ScopedAddr>() {
        return Ok(a);
    }
    match net.socket().call(sixstack_client::api::Op::Resolve {
        name: name.to_string(),
    }) {
        Ok(sixstack_client::api::Reply::Addresses { addresses }) => addresses
            .first()
            .map(|a| {
                ScopedAddr::new(
                    a.address,
                    a.zone.as_deref().and_then(|z| Zone::name(z).ok()),
                )
            })
            .ok_or_else(|| format!("{name}: no IPv6 address known for this name")),
        Ok(_) => Err(format!("{name}: unexpected answer from the daemon")),
        Err(e) => Err(format!("{name}: {e}")),
    }
}

fn ident() -> u16 {
    (std::process::id() & 0xffff) as u16
}

pub fn ping6(a: PingArgs) -> ExitCode {
    let (dest, opts) = match a.options(ident()) {
        Ok(x) => x,
        Err(e) => return fail("ping6", &e, 2),
    };
    let mut net = match DaemonNet::open(a.control.as_deref()) {
        Ok(n) => n,
        Err(e) => return fail("ping6", &e.to_string(), 2),
    };
    let dst = match resolve(&net, &dest) {
        Ok(d) => d,
        Err(e) => return fail("ping6", &e, 2),
    };
    let stop = interrupted();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let json = a.json;
    let quiet = a.quiet;
    let r = ping::run(
        &mut net,
        &a.dest,
        &dst,
        &opts,
        &|| stop.load(Ordering::SeqCst),
        &mut |ev| {
            if json {
                let _ = writeln!(out, "{}", ping::render_json(ev));
            } else if let Some(t) = ping::render_text(ev, quiet) {
                if ping::is_stderr(ev) {
                    eprint!("{t}");
                } else {
                    let _ = out.write_all(t.as_bytes());
                }
            }
            let _ = out.flush();
        },
    );
    match r {
        Ok(s) => ExitCode::from(s.exit_code()),
        Err(e) => fail("ping6", &probe_error(&e), 2),
    }
}

pub fn tracert6(a: TraceArgs) -> ExitCode {
    let (dest, opts) = match a.options(ident()) {
        Ok(x) => x,
        Err(e) => return fail("tracert6", &e, 2),
    };
    let mut net = match DaemonNet::open(a.control.as_deref()) {
        Ok(n) => n,
        Err(e) => return fail("tracert6", &e.to_string(), 2),
    };
    let dst = match resolve(&net, &dest) {
        Ok(d) => d,
        Err(e) => return fail("tracert6", &e, 2),
    };
    let stop = interrupted();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let json = a.json;
    let r = tracert::run(
        &mut net,
        &a.dest,
        &dst,
        &opts,
        &|| stop.load(Ordering::SeqCst),
        &mut |ev| {
            if json {
                let _ = writeln!(out, "{}", tracert::render_json(ev));
            } else {
                let _ = out.write_all(tracert::render_text(ev).as_bytes());
            }
            let _ = out.flush();
        },
    );
    match r {
        Ok(s) => ExitCode::from(s.exit_code()),
        Err(e) => fail("tracert6", &probe_error(&e), 2),
    }
}

fn probe_error(e: &ProbeError) -> String {
    e.to_string()
}

fn fail(tool: &str, msg: &str, code: u8) -> ExitCode {
    eprintln!("{tool}: {msg}");
    ExitCode::from(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Cli, Command, alias};
    use clap::Parser;

    fn parse(words: &str) -> Result<Command, clap::Error> {
        let args: Vec<std::ffi::OsString> = words.split_whitespace().map(Into::into).collect();
        Cli::try_parse_from(alias(args)).map(|c| c.command)
    }

    fn ping(words: &str) -> PingArgs {
        match parse(words) {
            Ok(Command::Ping6(a)) => a,
            Ok(_) => panic!("not ping6: {words}"),
            Err(e) => panic!("{words}: {e}"),
        }
    }

    fn trace(words: &str) -> TraceArgs {
        match parse(words) {
            Ok(Command::Tracert6(a)) => a,
            Ok(_) => panic!("not tracert6: {words}"),
            Err(e) => panic!("{words}: {e}"),
        }
    }

    #[test]
    fn ping6_takes_iputils_letters() {
        let a = ping(
            "sixstack ping6 -c 3 -i 0.2 -s 1400 -t 5 -W 2 -w 9 -M do -F 1a2b3 -Q 0xb8 -q 2001:db8::1",
        );
        let (dest, o) = a.options(7).unwrap();
        assert_eq!(dest, "2001:db8::1");
        assert_eq!(o.count, Some(3));
        assert_eq!(o.interval, Duration::from_millis(200));
        assert_eq!(o.size, 1400);
        assert_eq!(o.timeout, Duration::from_secs(2));
        assert_eq!(o.deadline, Some(Duration::from_secs(9)));
        assert!(o.quiet);
        assert_eq!(o.ident, 7);
        assert_eq!(
            o.send,
            SendOptions {
                hop_limit: Some(5),
                traffic_class: 0xb8,
                flow_label: 0x1a2b3,
                pmtu: PmtuMode::Do,
                source: None,
            }
        );
    }

    #[test]
    fn ping6_defaults_and_interface_or_source() {
        let (dest, o) = ping("sixstack ping6 fe80::1%tap0").options(1).unwrap();
        assert_eq!(dest, "fe80::1%tap0");
        assert_eq!(
            (o.count, o.size, o.interval),
            (None, 56, Duration::from_secs(1))
        );
        assert_eq!(o.send.pmtu, PmtuMode::Want);
        let (dest, _) = ping("sixstack ping6 -I tap0 fe80::1").options(1).unwrap();
        assert_eq!(dest, "fe80::1%tap0");
        let (dest, o) = ping("sixstack ping6 -I 2001:db8::2 2001:db8::1")
            .options(1)
            .unwrap();
        assert_eq!(dest, "2001:db8::1");
        assert_eq!(
            o.send.source,
            Some("2001:db8::1".parse::<Ipv6Addr>().unwrap().to_owned())
                .map(|_| "2001:db8::2".parse().unwrap())
        );
        assert!(ping("sixstack ping6 --json -c 1 ::1").json);
    }

    #[test]
    fn ping6_by_its_own_name() {
        let (dest, o) = ping("/usr/local/bin/ping6 -c 2 2001:db8::1")
            .options(1)
            .unwrap();
        assert_eq!((dest.as_str(), o.count), ("2001:db8::1", Some(2)));
    }

    #[test]
    fn ping6_refuses_bad_values() {
        for bad in [
            "sixstack ping6 -c 0 ::1",
            "sixstack ping6 -t 0 ::1",
            "sixstack ping6 -t 256 ::1",
            "sixstack ping6 -M maybe ::1",
            "sixstack ping6 -F 100000 ::1",
            "sixstack ping6 -Q 300 ::1",
            "sixstack ping6 -i 0 ::1",
            "sixstack ping6 -i -1 ::1",
            "sixstack ping6",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(ping("sixstack ping6 -s 70000 ::1").options(1).is_err());
        assert!(ping("sixstack ping6 -I bad%name ::1").options(1).is_err());
    }

    #[test]
    fn tracert6_takes_traceroute_letters() {
        let (dest, o) = trace(
            "sixstack tracert6 -U -m 10 -q 1 -w 0.5 -f 2 -p 40000 -s 2001:db8::2 2001:db8:2::1 120",
        )
        .options(9)
        .unwrap();
        assert_eq!(dest, "2001:db8:2::1");
        assert_eq!(o.method, Method::Udp);
        assert_eq!(
            (o.max_hops, o.queries, o.first_hop, o.base_port),
            (10, 1, 2, 40000)
        );
        assert_eq!(o.wait, Duration::from_millis(500));
        assert_eq!(o.packet_len, Some(120));
        assert_eq!(o.send.source, Some("2001:db8::2".parse().unwrap()));
        let (dest, o) = trace("tracert6 -i tap0 fe80::1").options(9).unwrap();
        assert_eq!(dest, "fe80::1%tap0");
        assert_eq!(
            (o.method, o.max_hops, o.queries, o.packet_len),
            (Method::Icmp, 30, 3, None)
        );
        assert!(parse("sixstack tracert6 -I -U ::1").is_err());
        assert!(parse("sixstack tracert6 -q 11 ::1").is_err());
        assert!(trace("sixstack tracert6 -f 5 -m 4 ::1").options(1).is_err());
        assert!(trace("traceroute6 --json ::1").json);
    }
}
