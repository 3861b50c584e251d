//! UDP (RFC 768), UDP-Lite (RFC 3828) and TCP (RFC 9293) with its options.
//!
//! Field names are tshark 4.0's. Two differences by design: tshark's `tcp.seq`, `tcp.ack`
//! and SACK edges are relative to the first segment it saw; ours are the raw numbers (as
//! tshark gives them with `tcp.relative_sequence_numbers` off). And tshark's checksum
//! status has "not present" (a zero UDP checksum over IPv4) and "illegal" (zero over IPv6,
//! or in UDP-Lite); we say "unverified" and "bad" for them.

use sixstack_wire::tcp::{self, Flags, OptionsIter, SeqNumber, TcpOption};
use sixstack_wire::udp::{self, PseudoHeader, Verdict};
use sixstack_wire::{Error, ErrorKind};

use super::{ChecksumStatus, Dissector, IpContext, Layer, Next};

fn pseudo_header(d: &Dissector) -> Option<PseudoHeader> {
    match d.ip? {
        IpContext::V6 { src, dst } => Some(PseudoHeader::V6 { src, dst }),
        IpContext::V4 { src, dst } => Some(PseudoHeader::V4 { src, dst }),
    }
}

fn status(v: Verdict) -> ChecksumStatus {
    match v {
        Verdict::Good => ChecksumStatus::Good,
        Verdict::Bad | Verdict::IllegalZero => ChecksumStatus::Bad,
        Verdict::Absent | Verdict::Unverifiable => ChecksumStatus::Unverified,
    }
}

fn payload_next(payload: &[u8]) -> Next<'_> {
    if payload.is_empty() {
        Next::Done
    } else {
        Next::Data(payload)
    }
}

/// A big-endian field at `at`, if all its bytes are there.
fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

pub(super) fn dissect_udp<'a>(d: &mut Dissector, data: &'a [u8]) -> Next<'a> {
    let ph = pseudo_header(d);
    let quoted = d.is_quoted();
    let verifiable = d.can_verify_upper();
    let p = match udp::Packet::new_lenient(data) {
        Ok(p) => p,
        Err(e) => {
            // The leading fields of a header cut short, as tshark shows them.
            let l = d.layer("udp");
            if let Some(v) = be16(data, 0) {
                l.uint("udp.srcport", v);
            }
            if let Some(v) = be16(data, 2) {
                l.uint("udp.dstport", v);
            }
            if let Some(v) = be16(data, 4) {
                l.uint("udp.length", v);
            }
            return if quoted {
                Next::Done
            } else {
                d.malformed("udp", e.to_string())
            };
        }
    };
    let l = d.layer("udp");
    let len = usize::from(p.len());
    l.uint("udp.srcport", p.src_port())
        .uint("udp.dstport", p.dst_port())
        .uint("udp.length", p.len());
    if len < udp::HEADER_LEN {
        // As tshark: a length below the header's ends the dissection here.
        l.info(format!(
            "UDP {} > {}, bad length {len}",
            p.src_port(),
            p.dst_port()
        ));
        return d.malformed("udp", format!("length {len} below 8"));
    }
    let verdict = match ph {
        Some(ph) if verifiable => p.checksum_verdict(&ph),
        _ => Verdict::Unverifiable,
    };
    l.checksum(
        "udp.checksum",
        "udp.checksum.status",
        p.checksum(),
        status(verdict),
    );
    let payload = p.into_payload();
    if !payload.is_empty() {
        l.bytes("udp.payload", payload);
    }
    l.info(format!(
        "UDP {} > {}, length {}",
        p.src_port(),
        p.dst_port(),
        len - udp::HEADER_LEN
    ));
    if verdict == Verdict::IllegalZero {
        l.info("[zero checksum]");
    }
    if len > data.len() && verifiable && !quoted {
        d.malformed(
            "udp",
            format!(
                "length {len} exceeds the {} bytes of IP payload",
                data.len()
            ),
        );
    }
    payload_next(payload)
}

pub(super) fn dissect_udplite<'a>(d: &mut Dissector, data: &'a [u8]) -> Next<'a> {
    let ph = pseudo_header(d);
    let quoted = d.is_quoted();
    let verifiable = d.can_verify_upper();
    let p = match udp::lite::Packet::new_lenient(data) {
        Ok(p) => p,
        Err(e) => {
            d.layer("udplite");
            return if quoted {
                Next::Done
            } else {
                d.malformed("udplite", e.to_string())
            };
        }
    };
    // tshark 4.0 names UDP-Lite's fields under udp.; its layer is udplite.
    let l = d.layer("udplite");
    l.uint("udp.srcport", p.src_port())
        .uint("udp.dstport", p.dst_port())
        .uint("udp.checksum_coverage", p.checksum_coverage())
        .uint("udp.length", p.datagram_len() as u64);
    let coverage = p.check_coverage();
    let verdict = match (ph, coverage) {
        _ if !verifiable && !quoted => Verdict::Unverifiable,
        (Some(ph), Ok(())) => p.checksum_verdict(&ph, None),
        // A quoted datagram may be cut: its real length, and so the coverage's legality,
        // is unknown; a coverage past the cut is unverifiable.
        (Some(ph), Err(_)) if quoted => match p.checksum_verdict(&ph, None) {
            Verdict::Good => Verdict::Good,
            _ => Verdict::Unverifiable,
        },
        _ => Verdict::Unverifiable,
    };
    l.checksum(
        "udp.checksum",
        "udp.checksum.status",
        p.checksum(),
        status(verdict),
    );
    let payload = p.into_payload();
    if !payload.is_empty() {
        l.bytes("udp.payload", payload);
    }
    l.info(format!(
        "UDP-Lite {} > {}, coverage {}, length {}",
        p.src_port(),
        p.dst_port(),
        p.checksum_coverage(),
        payload.len()
    ));
    if let Err(e) = coverage
        && !quoted
    {
        return d.malformed("udplite", e.to_string());
    }
    payload_next(payload)
}

/// `·······A··S·`, as tshark's tcp.flags.str: R for each reserved bit, then AE, CWR, ECE,
/// URG, ACK, PSH, RST, SYN, FIN.
fn flags_str(f: Flags) -> String {
    const LETTERS: [char; 12] = ['R', 'R', 'R', 'A', 'C', 'E', 'U', 'A', 'P', 'R', 'S', 'F'];
    LETTERS
        .iter()
        .enumerate()
        .map(|(i, &c)| if f.0 & (0x800 >> i) != 0 { c } else { '\u{b7}' })
        .collect()
}

pub(super) fn dissect_tcp<'a>(d: &mut Dissector, data: &'a [u8]) -> Next<'a> {
    let ph = pseudo_header(d);
    let quoted = d.is_quoted();
    let incomplete = d.incomplete;
    let ip_cut = d.malformed.is_some() || incomplete;
    let p = match tcp::Packet::new_lenient(data) {
        Ok(p) => p,
        Err(e) => {
            let l = d.layer("tcp");
            if data.len() < tcp::HEADER_LEN {
                // The leading fields of a header cut short, as tshark shows them.
                if let Some(v) = be16(data, 0) {
                    l.uint("tcp.srcport", v);
                }
                if let Some(v) = be16(data, 2) {
                    l.uint("tcp.dstport", v);
                }
                if let Some(v) = be32(data, 4) {
                    l.uint("tcp.seq", v).uint("tcp.seq_raw", v);
                }
                if let Some(v) = be32(data, 8) {
                    l.uint("tcp.ack", v).uint("tcp.ack_raw", v);
                }
                if let Some(&b) = data.get(12) {
                    l.uint("tcp.hdr_len", u64::from(b >> 4) * 4);
                }
                if let Some(v) = be16(data, 12) {
                    l.uint("tcp.flags", v & 0x0fff);
                }
                if let Some(v) = be16(data, 14) {
                    l.uint("tcp.window_size_value", v);
                }
                if let Some(v) = be16(data, 16) {
                    l.uint("tcp.checksum", v);
                }
            } else {
                // The fixed header is there but the data offset is below 5, as tshark
                // shows it: ports, sequence number and the bogus header length.
                let p = tcp::Packet::new_unchecked(data);
                l.uint("tcp.srcport", p.src_port())
                    .uint("tcp.dstport", p.dst_port())
                    .uint("tcp.len", data.len().saturating_sub(p.header_len()) as u64)
                    .uint("tcp.seq", p.seq_number().0)
                    .uint("tcp.seq_raw", p.seq_number().0)
                    .uint("tcp.hdr_len", p.header_len() as u64);
                l.info(format!(
                    "TCP {} > {} bad header length {}",
                    p.src_port(),
                    p.dst_port(),
                    p.header_len()
                ));
            }
            let truncated = matches!(e.kind, ErrorKind::Truncated { .. });
            return if quoted && truncated {
                Next::Done
            } else {
                d.malformed("tcp", e.to_string())
            };
        }
    };
    let l = d.layer("tcp");
    let flags = p.flags();
    let payload = p.into_payload();
    l.uint("tcp.srcport", p.src_port())
        .uint("tcp.dstport", p.dst_port());
    if !p.options_truncated() {
        l.uint("tcp.len", payload.len() as u64);
    }
    l.uint("tcp.seq", p.seq_number().0)
        .uint("tcp.seq_raw", p.seq_number().0)
        .uint("tcp.ack", p.ack_number().0)
        .uint("tcp.ack_raw", p.ack_number().0)
        .uint("tcp.hdr_len", p.header_len() as u64)
        .uint("tcp.flags", flags.0)
        .flag("tcp.flags.res", flags.reserved() != 0)
        .flag("tcp.flags.ae", flags.ae())
        .flag("tcp.flags.cwr", flags.cwr())
        .flag("tcp.flags.ece", flags.ece())
        .flag("tcp.flags.urg", flags.urg())
        .flag("tcp.flags.ack", flags.ack())
        .flag("tcp.flags.push", flags.psh())
        .flag("tcp.flags.reset", flags.rst())
        .flag("tcp.flags.syn", flags.syn())
        .flag("tcp.flags.fin", flags.fin())
        .str("tcp.flags.str", flags_str(flags))
        .uint("tcp.window_size_value", p.window_len());
    let cut = p.options_truncated() || quoted || ip_cut;
    let st = match ph {
        _ if incomplete => ChecksumStatus::Unverified,
        Some(ph) if p.verify_checksum(&ph) => ChecksumStatus::Good,
        // What was not captured cannot be checked: a cut segment's sum fails.
        Some(_) if !cut => ChecksumStatus::Bad,
        _ => ChecksumStatus::Unverified,
    };
    l.checksum("tcp.checksum", "tcp.checksum.status", p.checksum(), st);
    l.uint("tcp.urgent_pointer", p.urgent_pointer());

    let mut info = format!("TCP {} > {} [{flags}]", p.src_port(), p.dst_port());
    let seq = p.seq_number();
    if payload.is_empty() {
        info.push_str(&format!(" seq {seq}"));
    } else {
        info.push_str(&format!(" seq {seq}:{}", seq + payload.len() as u32));
    }
    if flags.ack() {
        info.push_str(&format!(" ack {}", p.ack_number()));
    }
    info.push_str(&format!(" win {}", p.window_len()));
    if flags.urg() {
        info.push_str(&format!(" urg {}", p.urgent_pointer()));
    }

    let opts = p.into_options();
    let mut failed = None;
    if !opts.is_empty() {
        l.bytes("tcp.options", opts);
        let mut names = Vec::new();
        let walk = p.into_options_iter();
        failed = options(
            l,
            opts,
            walk,
            p.header_len() - tcp::HEADER_LEN,
            flags,
            p.ack_number(),
            &mut names,
        )
        .err();
        if !names.is_empty() {
            info.push_str(&format!(" options [{}]", names.join(",")));
        }
    }
    if !payload.is_empty() {
        l.bytes("tcp.payload", payload);
    }
    info.push_str(&format!(" length {}", payload.len()));
    l.info(info);
    if let Some(e) = failed {
        let truncated = matches!(e.kind, ErrorKind::Truncated { .. });
        if !(quoted && truncated) {
            return d.malformed("tcp", e.to_string());
        }
    }
    payload_next(payload)
}

/// Adds each option's fields, as tshark nests them (the option's bytes, kind, length, then
/// its values), and its tcpdump-style name; stops at the first bad one.
fn options(
    l: &mut Layer,
    opts: &[u8],
    walk: OptionsIter<'_>,
    declared: usize,
    flags: Flags,
    ack: SeqNumber,
    names: &mut Vec<String>,
) -> Result<(), Error> {
    for item in walk {
        let (offset, opt) = match item {
            Ok(x) => x,
            Err(e) => {
                // As tshark: a bad option's kind and length are shown when the length is
                // at least 2 and stays within the header (wrong for its kind, or cut).
                let at = e.offset.saturating_sub(tcp::HEADER_LEN);
                if let (Some(&k), Some(&n)) = (opts.get(at), opts.get(at + 1))
                    && n >= 2
                    && at + usize::from(n) <= declared
                {
                    l.uint("tcp.option_kind", k).uint("tcp.option_len", n);
                }
                names.push("[bad opt]".into());
                return Err(e);
            }
        };
        let at = offset - tcp::HEADER_LEN;
        // The walk checked that the option's bytes are all in `opts`.
        let raw = &opts[at..at + opt.buffer_len()];
        let name = match opt {
            TcpOption::EndOfList => "tcp.options.eol",
            TcpOption::NoOperation => "tcp.options.nop",
            TcpOption::MaxSegmentSize(_) => "tcp.options.mss",
            TcpOption::WindowScale(_) => "tcp.options.wscale",
            TcpOption::SackPermitted => "tcp.options.sack_perm",
            TcpOption::Sack(_) => "tcp.options.sack",
            TcpOption::Timestamps { .. } => "tcp.options.timestamp",
            // RFC 6994 shared experimental kinds.
            TcpOption::Unknown {
                kind: 253 | 254, ..
            } => "tcp.options.experimental",
            TcpOption::Unknown { .. } => "tcp.options.unknown",
        };
        l.bytes(name, raw).uint("tcp.option_kind", opt.kind());
        if raw.len() > 1 {
            l.uint("tcp.option_len", raw.len() as u64);
        }
        let text = match opt {
            TcpOption::EndOfList => "eol".to_string(),
            TcpOption::NoOperation => "nop".to_string(),
            TcpOption::MaxSegmentSize(v) => {
                l.uint("tcp.options.mss_val", v);
                format!("mss {v}")
            }
            TcpOption::WindowScale(v) => {
                l.uint("tcp.options.wscale.shift", v).uint(
                    "tcp.options.wscale.multiplier",
                    1u64 << tcp::window_shift(v),
                );
                format!("wscale {v}")
            }
            TcpOption::SackPermitted => "sackOK".to_string(),
            TcpOption::Sack(s) => {
                let blocks = s.as_slice();
                let mut t = format!("sack {}", blocks.len());
                for (le, re) in blocks {
                    l.uint("tcp.options.sack_le", le.0)
                        .uint("tcp.options.sack_re", re.0);
                    t.push_str(&format!(" {{{le}:{re}}}"));
                }
                l.uint("tcp.options.sack.count", blocks.len() as u64);
                // RFC 2883 §4: the first block reports a duplicate when it lies below the
                // cumulative ACK or within the second block.
                if let Some(&(le, re)) = blocks.first() {
                    let below_ack = flags.ack() && le < ack;
                    let within_second = blocks.get(1).is_some_and(|&(l2, r2)| le >= l2 && re <= r2);
                    if below_ack || within_second {
                        l.uint("tcp.options.sack.dsack_le", le.0)
                            .uint("tcp.options.sack.dsack_re", re.0);
                    }
                }
                t
            }
            TcpOption::Timestamps { tsval, tsecr } => {
                l.uint("tcp.options.timestamp.tsval", tsval)
                    .uint("tcp.options.timestamp.tsecr", tsecr);
                format!("TS val {tsval} ecr {tsecr}")
            }
            TcpOption::Unknown {
                kind: k @ (253 | 254),
                data,
            } => {
                if data.len() >= 2 {
                    l.uint(
                        "tcp.options.experimental.exid",
                        u16::from_be_bytes([data[0], data[1]]),
                    );
                    if data.len() > 2 {
                        l.bytes("tcp.options.experimental.data", &data[2..]);
                    }
                }
                format!("exp-{k}")
            }
            TcpOption::Unknown { kind, data } => {
                if !data.is_empty() {
                    l.bytes("tcp.options.unknown.payload", data);
                }
                format!("unknown-{kind}")
            }
        };
        names.push(text);
        if opt == TcpOption::EndOfList {
            // The rest is padding; tshark shows each zero byte as one more EOL.
            for (i, &b) in opts[at + 1..]
                .iter()
                .enumerate()
                .take_while(|(_, b)| **b == 0)
            {
                l.bytes("tcp.options.eol", &opts[at + 1 + i..at + 2 + i])
                    .uint("tcp.option_kind", b);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dump::model::Value;
    use core::net::Ipv6Addr;
    use proptest::prelude::*;

    fn v6() -> Dissector {
        let src: Ipv6Addr = "2001:db8::1".parse().unwrap();
        let dst: Ipv6Addr = "2001:db8::2".parse().unwrap();
        Dissector {
            ip: Some(IpContext::V6 { src, dst }),
            ..Default::default()
        }
    }

    fn field<'l>(d: &'l Dissector, name: &str) -> &'l Value {
        d.layers.last().unwrap().get(name).unwrap()
    }

    #[rustfmt::skip]
    const UDP: [u8; 20] = [
        0x13, 0x89, 0x9c, 0x41,         // ports 5001 > 40001
        0x00, 0x14, 0x62, 0x97,         // length 20, checksum
        b'h', b'e', b'l', b'l', b'o', b' ', b'w', b'o', b'r', b'l', b'd', b'!',
    ];

    #[test]
    fn udp_good_bad_zero() {
        let mut d = v6();
        assert!(matches!(dissect_udp(&mut d, &UDP), Next::Data(p) if p == b"hello world!"));
        assert_eq!(field(&d, "udp.checksum.status"), &Value::Str("good".into()));
        assert_eq!(d.layers[0].info, "UDP 5001 > 40001, length 12");
        let mut zero = UDP;
        zero[6..8].fill(0);
        let mut d = v6();
        dissect_udp(&mut d, &zero);
        assert_eq!(field(&d, "udp.checksum.status"), &Value::Str("bad".into()));
        let mut d = Dissector {
            ip: Some(IpContext::V4 {
                src: [192, 0, 2, 1].into(),
                dst: [192, 0, 2, 2].into(),
            }),
            ..Default::default()
        };
        dissect_udp(&mut d, &zero);
        assert_eq!(
            field(&d, "udp.checksum.status"),
            &Value::Str("unverified".into())
        );
        // Cut: unverified, and malformed unless quoted.
        let mut d = v6();
        dissect_udp(&mut d, &UDP[..12]);
        assert_eq!(
            field(&d, "udp.checksum.status"),
            &Value::Str("unverified".into())
        );
        assert!(d.malformed.is_some());
        let mut d = v6();
        d.quoted = 1;
        dissect_udp(&mut d, &UDP[..12]);
        assert!(d.malformed.is_none());
    }

    #[test]
    fn tcp_flags_str() {
        assert_eq!(flags_str(Flags::SYN | Flags::ACK), "·······A··S·");
        assert_eq!(flags_str(Flags(0x3ff)), "··RACEUAPRSF");
    }

    #[test]
    fn tcp_bad_option_stops() {
        #[rustfmt::skip]
        let seg = [
            0x13, 0x89, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0,
            0x70, 0x02, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, // offset 7, SYN
            0x01, 0x63, 0x00, 0x01,                         // NOP, kind 99 length 0
            0x01, 0x01, 0x01, 0x01,
        ];
        let mut d = v6();
        assert!(matches!(dissect_tcp(&mut d, &seg), Next::Done));
        assert!(d.malformed.as_ref().unwrap().reason.contains("below 2"));
        assert_eq!(field(&d, "tcp.option_kind"), &Value::Uint(1));
    }

    /// scapy's SYN-ACK with MSS, SACK-Permitted, Timestamps, NOP, Window Scale and SACK
    /// (tshark: checksum good).
    #[rustfmt::skip]
    const SYNACK: [u8; 52] = [
        0x13, 0x89, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 2, // ports, seq 1, ack 2
        0xd0, 0x12, 0xff, 0xff, 0xa3, 0x99, 0x00, 0x00, // offset 13, SYN ACK, win, cksum, urg
        0x02, 0x04, 0x05, 0xa0,                         // MSS 1440
        0x04, 0x02,                                     // SACK permitted
        0x08, 0x0a, 0, 0, 0, 1, 0, 0, 0, 0,             // TS 1 0
        0x01, 0x03, 0x03, 0x07,                         // NOP, window scale 7
        0x05, 0x0a, 0, 0, 0, 1, 0, 0, 0, 2,             // SACK 1-2
        0x00, 0x00,                                     // EOL, padding
    ];

    #[test]
    fn tcp_synack() {
        let mut d = v6();
        assert!(matches!(dissect_tcp(&mut d, &SYNACK), Next::Done));
        assert!(d.malformed.is_none());
        assert_eq!(
            d.layers[0].info,
            "TCP 5001 > 80 [S.] seq 1 ack 2 win 65535 options \
             [mss 1440,sackOK,TS val 1 ecr 0,nop,wscale 7,sack 1 {1:2},eol] length 0"
        );
        assert_eq!(field(&d, "tcp.checksum.status"), &Value::Str("good".into()));
        assert_eq!(field(&d, "tcp.flags"), &Value::Uint(0x12));
        assert_eq!(field(&d, "tcp.hdr_len"), &Value::Uint(52));
        assert_eq!(field(&d, "tcp.options.mss_val"), &Value::Uint(1440));
        assert_eq!(
            field(&d, "tcp.options.wscale.multiplier"),
            &Value::Uint(128)
        );
        assert_eq!(field(&d, "tcp.options.sack.dsack_le"), &Value::Uint(1));
        let kinds = d.layers[0]
            .fields
            .iter()
            .filter(|f| f.name == "tcp.option_kind")
            .count();
        assert_eq!(kinds, 8); // six options, EOL and one byte of padding
    }

    #[test]
    fn tcp_quoted_cut() {
        // Inside an ICMPv6 error the segment may be cut in its options: no malformed mark,
        // checksum unverified.
        let mut d = v6();
        d.quoted = 1;
        dissect_tcp(&mut d, &SYNACK[..30]);
        assert!(d.malformed.is_none());
        assert_eq!(
            field(&d, "tcp.checksum.status"),
            &Value::Str("unverified".into())
        );
        assert_eq!(field(&d, "tcp.options.mss_val"), &Value::Uint(1440));
        let mut d = v6();
        dissect_tcp(&mut d, &SYNACK[..30]);
        assert!(d.malformed.is_some());
        let mut d = v6();
        d.quoted = 1;
        dissect_tcp(&mut d, &SYNACK[..12]);
        assert!(d.malformed.is_none());
    }

    #[test]
    fn udplite_coverage() {
        #[rustfmt::skip]
        let mut dg = [
            0x13, 0x89, 0x9c, 0x41, // ports 5001 > 40001
            0x00, 0x08, 0xf4, 0x13, // coverage 8, checksum (tshark: good)
            b'0', b'1', b'2', b'3', b'4', b'5', b'6', b'7', b'8', b'9',
            b'a', b'b', b'c', b'd', b'e', b'f', b'g', b'h', b'i', b'j',
        ];
        let mut d = v6();
        assert!(matches!(dissect_udplite(&mut d, &dg), Next::Data(p) if p.len() == 20));
        assert_eq!(field(&d, "udp.checksum.status"), &Value::Str("good".into()));
        assert_eq!(field(&d, "udp.length"), &Value::Uint(28));
        dg[5] = 4;
        let mut d = v6();
        dissect_udplite(&mut d, &dg);
        assert_eq!(
            field(&d, "udp.checksum.status"),
            &Value::Str("unverified".into())
        );
        assert!(d.malformed.is_some());
    }

    proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..80), quoted: bool) {
            for f in [dissect_udp, dissect_udplite, dissect_tcp] {
                let mut d = v6();
                d.quoted = u8::from(quoted);
                let _ = f(&mut d, &data);
            }
        }
    }
}
