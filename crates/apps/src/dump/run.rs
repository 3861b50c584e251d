//! `sixstack dump` as a library function: read a capture, dissect, filter, print, count.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::net::IpAddr;

use sixstack_wire::pcap::{PcapError, Reader};

use super::model::{Frame, Value};
use super::{LinkType, dissect, render_json, render_line, render_tree};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Style {
    #[default]
    Line,
    Tree,
    Json,
}

/// What to show of a capture.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub style: Style,
    /// Stop after this many shown packets.
    pub count: Option<u64>,
    /// Show only frames with a layer of this protocol (Wireshark name; `ip6`/`icmp6` too).
    pub proto: Option<String>,
    /// Show only frames with this address as an IP source or destination, at any depth.
    pub host: Option<IpAddr>,
}

/// What was read, shown and found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub read: u64,
    pub shown: u64,
    pub malformed: u64,
    /// Frames per protocol, counted once per frame.
    pub per_protocol: BTreeMap<&'static str, u64>,
}

impl Summary {
    pub fn render(&self) -> String {
        let mut s = format!(
            "{} packets read, {} shown, {} malformed\n",
            self.read, self.shown, self.malformed
        );
        for (p, n) in &self.per_protocol {
            s.push_str(&format!("  {p:<14} {n}\n"));
        }
        s
    }
}

/// Why a dump ended early.
#[derive(Debug)]
pub enum DumpError {
    /// The capture could not be read; the summary tells what was shown before.
    Capture(PcapError, Summary),
    /// Writing the output failed (a closed pipe ends the dump quietly instead).
    Output(io::Error),
}

/// Normalises the protocol names people type to the ones layers carry.
fn canonical_proto(p: &str) -> &str {
    match p {
        "ip6" => "ipv6",
        "icmp6" => "icmpv6",
        "ip4" | "ipv4" => "ip",
        "frag" | "fragment" => "ipv6.fraghdr",
        "hbh" | "hopopts" => "ipv6.hopopts",
        "dstopts" => "ipv6.dstopts",
        "routing" => "ipv6.routing",
        "mobility" | "mip6" => "mipv6",
        other => other,
    }
}

fn matches(frame: &Frame, opts: &Options) -> bool {
    if let Some(p) = &opts.proto {
        let p = canonical_proto(p);
        if !frame.has_protocol(p) {
            return false;
        }
    }
    if let Some(h) = opts.host {
        let hit = frame.layers.iter().flat_map(|l| &l.fields).any(|f| {
            (f.name.ends_with(".src") || f.name.ends_with(".dst"))
                && match (&f.value, h) {
                    (Value::Ipv6(a), IpAddr::V6(b)) => *a == b,
                    (Value::Ipv4(a), IpAddr::V4(b)) => *a == b,
                    _ => false,
                }
        });
        if !hit {
            return false;
        }
    }
    true
}

/// Dissects every packet of `input` and writes the chosen rendering to `out`.
pub fn run(input: impl Read, out: &mut impl Write, opts: &Options) -> Result<Summary, DumpError> {
    let mut summary = Summary::default();
    let mut reader = match Reader::new(input) {
        Ok(r) => r,
        Err(e) => return Err(DumpError::Capture(e, summary)),
    };
    loop {
        if opts.count.is_some_and(|c| summary.shown >= c) {
            break;
        }
        let rec = match reader.next() {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err(e) => return Err(DumpError::Capture(e, summary)),
        };
        summary.read += 1;
        let (layers, malformed) = dissect(LinkType(rec.linktype), rec.data);
        let frame = Frame {
            number: summary.read,
            ts_sec: rec.ts_sec,
            ts_nsec: rec.ts_nsec,
            len: rec.orig_len,
            caplen: rec.data.len() as u32,
            layers,
            malformed,
        };
        if !matches(&frame, opts) {
            continue;
        }
        summary.shown += 1;
        if frame.malformed.is_some() {
            summary.malformed += 1;
        }
        let mut seen: Vec<&'static str> = Vec::with_capacity(frame.layers.len());
        for l in &frame.layers {
            if !seen.contains(&l.protocol) {
                seen.push(l.protocol);
                *summary.per_protocol.entry(l.protocol).or_insert(0) += 1;
            }
        }
        let text = match opts.style {
            Style::Line => render_line(&frame),
            Style::Tree => render_tree(&frame),
            Style::Json => render_json(&frame),
        };
        if let Err(e) = writeln!(out, "{text}") {
            if e.kind() == io::ErrorKind::BrokenPipe {
                return Ok(summary);
            }
            return Err(DumpError::Output(e));
        }
    }
    out.flush().map_err(DumpError::Output)?;
    Ok(summary)
}
