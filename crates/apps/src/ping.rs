//! ping6: ICMPv6 Echo Request and Reply (RFC 4443 §4) over a [`ProbeNet`], with the
//! behaviour and the output of iputils' ping: a request every interval, a line per reply
//! or error, and the statistics at the end.
//!
//! [`run`] drives the whole exchange and hands each step to a callback as a [`PingEvent`];
//! [`render_text`] turns an event into iputils' lines, [`render_json`] into one JSON
//! object per line. Nothing here reads a clock or a terminal, so the simulator runs it.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv6Addr;
use std::time::Duration;

use serde_json::json;
use sixstack_wire::addr::ScopedAddr;

use crate::probe::{
    Answer, ErrorKind, ICMP_ECHO_HEADER, IPV6_HEADER, PmtuMode, ProbeError, ProbeNet, QuotedProbe,
    SendOptions, echo_request, format_ms, json_ms, parse_answer,
};

/// The longest an ICMPv6 echo body can be: a 65535-byte payload less the echo header.
pub const MAX_SIZE: usize = 65535 - ICMP_ECHO_HEADER;

/// How long `run` waits at most in one call to `recv`, so that `stop` is looked at often.
const SLICE: Duration = Duration::from_millis(100);

/// What `ping6` was asked to do (iputils' option letters in brackets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PingOptions {
    /// [-c] Stop after this many requests (and their replies); None: until stopped.
    pub count: Option<u64>,
    /// [-i] Between two requests.
    pub interval: Duration,
    /// [-s] Bytes of data after the 8-byte echo header.
    pub size: usize,
    /// [-W] How long to wait for a reply after the last request when none came at all.
    /// When replies came, twice the longest round trip as iputils does, but at least a
    /// second (and at most this), so that one slow reply at the end is not lost.
    pub timeout: Duration,
    /// [-w] Stop after this long, whatever was sent or received.
    pub deadline: Option<Duration>,
    /// [-q] Only the first line and the statistics.
    pub quiet: bool,
    /// [-t -M -F -Q -I address] The IPv6 header of each request.
    pub send: SendOptions,
    /// The echo identifier that tells our replies from those of other pings.
    pub ident: u16,
}

impl Default for PingOptions {
    fn default() -> Self {
        Self {
            count: None,
            interval: Duration::from_secs(1),
            size: 56,
            timeout: Duration::from_secs(10),
            deadline: None,
            quiet: false,
            send: SendOptions::default(),
            ident: 0x5eed,
        }
    }
}

/// One step of a ping run, in the order they happen.
#[derive(Debug, Clone, PartialEq)]
pub enum PingEvent {
    Start {
        /// The name as given (a host name or the address).
        name: String,
        dst: ScopedAddr,
        size: usize,
        source: Option<Ipv6Addr>,
    },
    Reply {
        seq: u16,
        from: ScopedAddr,
        /// The length of the ICMPv6 message (header and data), as iputils counts.
        bytes: usize,
        hop_limit: u8,
        rtt: Duration,
        duplicate: bool,
    },
    /// An ICMPv6 error about one of our requests.
    Error {
        seq: u16,
        from: ScopedAddr,
        kind: ErrorKind,
    },
    /// A request could not be sent.
    LocalError {
        seq: u16,
        error: ProbeError,
    },
    End(PingSummary),
}

/// The statistics of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct PingSummary {
    pub name: String,
    pub transmitted: u64,
    pub received: u64,
    pub duplicates: u64,
    pub errors: u64,
    /// From the first request to the end.
    pub time: Duration,
    /// Round-trip times of the (non-duplicate) replies.
    pub rtt: Option<RttStats>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RttStats {
    pub min: Duration,
    pub avg: Duration,
    pub max: Duration,
    /// The standard deviation of the round trips (iputils calls it mdev).
    pub mdev: Duration,
}

impl PingSummary {
    /// Percent of requests without a reply, as a fraction (33.3333 for one in three).
    pub fn loss_percent(&self) -> f64 {
        if self.transmitted == 0 {
            return 0.0;
        }
        let lost = self.transmitted.saturating_sub(self.received);
        lost as f64 * 100.0 / self.transmitted as f64
    }

    /// iputils' exit status: 0 when a reply came, 1 when none did.
    pub fn exit_code(&self) -> u8 {
        if self.received > 0 { 0 } else { 1 }
    }
}

/// Sends echo requests to `dst` and reports each step to `on_event`, until the count is
/// reached and answered (or the wait after the last one ends), the deadline passes or
/// `stop` says so. Errors: the options are impossible, or the stack went away (`Fatal`).
pub fn run<N: ProbeNet + ?Sized>(
    net: &mut N,
    name: &str,
    dst: &ScopedAddr,
    opts: &PingOptions,
    stop: &dyn Fn() -> bool,
    on_event: &mut dyn FnMut(&PingEvent),
) -> Result<PingSummary, ProbeError> {
    if opts.size > MAX_SIZE {
        return Err(ProbeError::Fatal(format!(
            "packet size {} is too large: at most {MAX_SIZE}",
            opts.size
        )));
    }
    if opts.count == Some(0) {
        return Err(ProbeError::Fatal(
            "bad number of packets to transmit: 0".to_string(),
        ));
    }
    on_event(&PingEvent::Start {
        name: name.to_string(),
        dst: *dst,
        size: opts.size,
        source: opts.send.source,
    });
    let data: Vec<u8> = (0..opts.size).map(|i| i as u8).collect();
    let start = net.now();
    let mut st = State::default();
    let mut next_send = start;
    let mut last_send = start;
    loop {
        if stop() {
            break;
        }
        let now = net.now();
        let end_by = opts.deadline.map(|d| start + d);
        if end_by.is_some_and(|e| now >= e) {
            break;
        }
        let more = opts.count.is_none_or(|c| st.transmitted < c);
        if more && now >= next_send {
            let seq = st.transmitted.wrapping_add(1) as u16;
            st.transmitted += 1;
            last_send = now;
            next_send += opts.interval;
            if next_send < now {
                // A slow send (or a stopped clock) must not cause a burst to catch up.
                next_send = now + opts.interval;
            }
            if let Err(e) = send_one(net, dst, opts, seq, &data) {
                if let ProbeError::Fatal(_) = e {
                    return Err(e);
                }
                st.errors += 1;
                on_event(&PingEvent::LocalError { seq, error: e });
            } else {
                st.sent.insert(seq, now);
                if st.sent.len() > 1 << 15 {
                    st.sent.pop_first();
                }
            }
            continue;
        }
        let more = opts.count.is_none_or(|c| st.transmitted < c);
        if !more {
            // Every request answered (a reply or an error): done.
            if opts.count.is_some_and(|c| st.received + st.errors >= c) {
                break;
            }
        }
        let mut wait_until = if more {
            next_send
        } else {
            let linger = if st.received > 0 {
                st.rtt_max
                    .saturating_mul(2)
                    .max(Duration::from_secs(1))
                    .min(opts.timeout)
            } else {
                opts.timeout
            };
            let until = last_send + linger;
            if now >= until && opts.deadline.is_none() {
                break;
            }
            until
        };
        if let Some(e) = end_by {
            // With a deadline, iputils keeps waiting for replies until it.
            wait_until = if more { wait_until.min(e) } else { e };
        }
        let wait_until = wait_until.min(now + SLICE);
        let Some(r) = net.recv(wait_until)? else {
            continue;
        };
        st.take(dst, opts.ident, &r, on_event);
    }
    let time = net.now().saturating_sub(start);
    let summary = st.summary(name, time);
    on_event(&PingEvent::End(summary.clone()));
    Ok(summary)
}

fn send_one<N: ProbeNet + ?Sized>(
    net: &mut N,
    dst: &ScopedAddr,
    opts: &PingOptions,
    seq: u16,
    data: &[u8],
) -> Result<(), ProbeError> {
    let msg = echo_request(opts.ident, seq, data);
    if opts.send.pmtu == PmtuMode::Do
        && let Some(mtu) = net.path_mtu(dst)
        && IPV6_HEADER + msg.len() > mtu as usize
    {
        return Err(ProbeError::TooBig { mtu });
    }
    net.send_icmp(dst, &opts.send, &msg)
}

/// What the run has counted so far.
#[derive(Debug, Default)]
struct State {
    transmitted: u64,
    received: u64,
    duplicates: u64,
    errors: u64,
    /// When each outstanding sequence number was sent.
    sent: BTreeMap<u16, Duration>,
    answered: BTreeSet<u16>,
    rtt_sum: f64,
    rtt_sq: f64,
    rtt_min: Duration,
    rtt_max: Duration,
}

impl State {
    fn take(
        &mut self,
        dst: &ScopedAddr,
        ident: u16,
        r: &crate::probe::Received,
        on_event: &mut dyn FnMut(&PingEvent),
    ) {
        match parse_answer(&r.message) {
            Some(Answer::EchoReply { ident: i, seq, len })
                if i == ident && (r.from == dst.addr || dst.addr.is_multicast()) =>
            {
                let Some(&sent) = self.sent.get(&seq) else {
                    return;
                };
                let rtt = r.time.saturating_sub(sent);
                let duplicate = !self.answered.insert(seq);
                if duplicate {
                    self.duplicates += 1;
                } else {
                    self.received += 1;
                    let s = rtt.as_secs_f64();
                    self.rtt_sum += s;
                    self.rtt_sq += s * s;
                    if self.received == 1 || rtt < self.rtt_min {
                        self.rtt_min = rtt;
                    }
                    self.rtt_max = self.rtt_max.max(rtt);
                }
                on_event(&PingEvent::Reply {
                    seq,
                    from: r.from_scoped(),
                    bytes: len,
                    hop_limit: r.hop_limit,
                    rtt,
                    duplicate,
                });
            }
            Some(Answer::Error { kind, quote })
                if quote.dst == dst.addr
                    && matches!(quote.probe, QuotedProbe::Echo { ident: i, .. } if i == ident) =>
            {
                let QuotedProbe::Echo { seq, .. } = quote.probe else {
                    return;
                };
                if !self.sent.contains_key(&seq) {
                    return;
                }
                self.errors += 1;
                on_event(&PingEvent::Error {
                    seq,
                    from: r.from_scoped(),
                    kind,
                });
            }
            _ => {}
        }
    }

    fn summary(&self, name: &str, time: Duration) -> PingSummary {
        let rtt = (self.received > 0).then(|| {
            let n = self.received as f64;
            let mean = self.rtt_sum / n;
            let var = (self.rtt_sq / n - mean * mean).max(0.0);
            RttStats {
                min: self.rtt_min,
                avg: Duration::from_secs_f64(mean),
                max: self.rtt_max,
                mdev: Duration::from_secs_f64(var.sqrt()),
            }
        });
        PingSummary {
            name: name.to_string(),
            transmitted: self.transmitted,
            received: self.received,
            duplicates: self.duplicates,
            errors: self.errors,
            time,
            rtt,
        }
    }
}

/// iputils' text for an event (lines end with '\n'); None for what `quiet` hides. Local
/// errors are for standard error: see [`is_stderr`].
pub fn render_text(ev: &PingEvent, quiet: bool) -> Option<String> {
    Some(match ev {
        PingEvent::Start {
            name,
            dst,
            size,
            source,
        } => match source {
            Some(s) => format!("PING {name} ({dst}) from {s} : {size} data bytes\n"),
            None => format!("PING {name} ({dst}) {size} data bytes\n"),
        },
        PingEvent::Reply { .. } | PingEvent::Error { .. } | PingEvent::LocalError { .. }
            if quiet =>
        {
            return None;
        }
        PingEvent::Reply {
            seq,
            from,
            bytes,
            hop_limit,
            rtt,
            duplicate,
        } => format!(
            "{bytes} bytes from {from}: icmp_seq={seq} ttl={hop_limit} time={} ms{}\n",
            format_ms(*rtt),
            if *duplicate { " (DUP!)" } else { "" }
        ),
        PingEvent::Error { seq, from, kind } => {
            format!("From {from} icmp_seq={seq} {}\n", kind.describe())
        }
        PingEvent::LocalError { error, .. } => match error {
            ProbeError::TooBig { .. } => format!("ping6: local error: {error}\n"),
            _ => format!("ping6: sendmsg: {error}\n"),
        },
        PingEvent::End(s) => {
            let mut t = format!("\n--- {} ping statistics ---\n", s.name);
            t += &format!(
                "{} packets transmitted, {} received",
                s.transmitted, s.received
            );
            if s.duplicates > 0 {
                t += &format!(", +{} duplicates", s.duplicates);
            }
            if s.errors > 0 {
                t += &format!(", +{} errors", s.errors);
            }
            t += &format!(
                ", {}% packet loss, time {}ms\n",
                format_g(s.loss_percent()),
                s.time.as_millis()
            );
            if let Some(r) = &s.rtt {
                let ms = |d: Duration| d.as_secs_f64() * 1000.0;
                t += &format!(
                    "rtt min/avg/max/mdev = {:.3}/{:.3}/{:.3}/{:.3} ms\n",
                    ms(r.min),
                    ms(r.avg),
                    ms(r.max),
                    ms(r.mdev)
                );
            }
            t
        }
    })
}

/// Whether an event's text belongs on standard error.
pub fn is_stderr(ev: &PingEvent) -> bool {
    matches!(ev, PingEvent::LocalError { .. })
}

/// One JSON object for an event, `type` first.
pub fn render_json(ev: &PingEvent) -> serde_json::Value {
    match ev {
        PingEvent::Start {
            name,
            dst,
            size,
            source,
        } => json!({
            "type": "start", "name": name, "dst": dst.to_string(), "size": size,
            "source": source.map(|s| s.to_string()),
        }),
        PingEvent::Reply {
            seq,
            from,
            bytes,
            hop_limit,
            rtt,
            duplicate,
        } => json!({
            "type": "reply", "seq": seq, "from": from.to_string(), "bytes": bytes,
            "hop_limit": hop_limit, "time_ms": json_ms(*rtt), "duplicate": duplicate,
        }),
        PingEvent::Error { seq, from, kind } => json!({
            "type": "error", "seq": seq, "from": from.to_string(), "error": kind.name(),
            "code": kind.code(), "mtu": match kind { ErrorKind::PacketTooBig(m) => Some(*m), _ => None },
            "text": kind.describe(),
        }),
        PingEvent::LocalError { seq, error } => json!({
            "type": "local-error", "seq": seq, "text": error.to_string(),
            "mtu": match error { ProbeError::TooBig { mtu } => Some(*mtu), _ => None },
        }),
        PingEvent::End(s) => json!({
            "type": "summary", "name": s.name, "transmitted": s.transmitted,
            "received": s.received, "duplicates": s.duplicates, "errors": s.errors,
            "loss_percent": s.loss_percent(), "time_ms": s.time.as_millis() as u64,
            "rtt_min_ms": s.rtt.map(|r| json_ms(r.min)),
            "rtt_avg_ms": s.rtt.map(|r| json_ms(r.avg)),
            "rtt_max_ms": s.rtt.map(|r| json_ms(r.max)),
            "rtt_mdev_ms": s.rtt.map(|r| json_ms(r.mdev)),
        }),
    }
}

/// A number as C's `%g` writes it: six significant digits, no trailing zeros.
pub fn format_g(x: f64) -> String {
    if x == 0.0 {
        return "0".to_string();
    }
    let digits = 6 - 1 - x.abs().log10().floor() as i32;
    let s = format!("{:.*}", digits.max(0) as usize, x);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loss_as_percent_g() {
        assert_eq!(format_g(0.0), "0");
        assert_eq!(format_g(100.0), "100");
        assert_eq!(format_g(100.0 / 3.0), "33.3333");
        assert_eq!(format_g(50.0), "50");
        assert_eq!(format_g(200.0 / 3.0), "66.6667");
    }

    #[test]
    fn summary_lines_as_iputils() {
        let s = PingSummary {
            name: "2001:db8::1".into(),
            transmitted: 3,
            received: 2,
            duplicates: 0,
            errors: 1,
            time: Duration::from_millis(2003),
            rtt: Some(RttStats {
                min: Duration::from_micros(45),
                avg: Duration::from_micros(67),
                max: Duration::from_micros(89),
                mdev: Duration::from_micros(22),
            }),
        };
        assert_eq!(
            render_text(&PingEvent::End(s), false).unwrap(),
            "\n--- 2001:db8::1 ping statistics ---\n\
             3 packets transmitted, 2 received, +1 errors, 33.3333% packet loss, time 2003ms\n\
             rtt min/avg/max/mdev = 0.045/0.067/0.089/0.022 ms\n"
        );
    }

    #[test]
    fn reply_line_as_iputils() {
        let ev = PingEvent::Reply {
            seq: 1,
            from: "fe80::1%tap0".parse().unwrap(),
            bytes: 64,
            hop_limit: 64,
            rtt: Duration::from_micros(123),
            duplicate: false,
        };
        assert_eq!(
            render_text(&ev, false).unwrap(),
            "64 bytes from fe80::1%tap0: icmp_seq=1 ttl=64 time=0.123 ms\n"
        );
        assert_eq!(render_text(&ev, true), None);
        assert_eq!(render_json(&ev)["time_ms"], 0.123);
    }
}
