//! Turning Multicast Address Records into MLDv2 Report messages that fit the link MTU
//! (RFC 3810 §5.2.15), and the two MLDv1 messages (RFC 2710 §3).

use std::net::Ipv6Addr;

use sixstack_wire::icmpv6;
use sixstack_wire::mld::{self, RecordRepr, record_type};

use super::{ALL_MLDV2_ROUTERS, MldAction};

/// The IPv6 header and a Hop-by-Hop header holding only the Router Alert option (2 bytes of
/// header, 4 of option, 2 of padding): what the glue puts in front of every MLD message.
const IP_OVERHEAD: usize = 40 + 8;
/// RFC 8200 §5: no IPv6 link has a smaller MTU; a smaller configured value is a mistake.
const MIN_MTU: usize = 1280;
/// Without a jumbogram, the payload length field caps a packet at this size.
const MAX_MTU: usize = 40 + 65535;

/// One Multicast Address Record (RFC 3810 §5.2.4) before encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Record {
    pub kind: u8,
    pub group: Ipv6Addr,
    pub sources: Vec<Ipv6Addr>,
}

impl Record {
    fn len(&self) -> usize {
        mld::RECORD_HEADER_LEN + 16 * self.sources.len()
    }
}

/// The largest ICMPv6 message that fits one packet on a link of this MTU.
pub(super) fn message_limit(mtu: usize) -> usize {
    mtu.clamp(MIN_MTU, MAX_MTU) - IP_OVERHEAD
}

/// Packs `records` into as few Reports as fit `mtu` and queues them for ff02::16.
pub(super) fn send_v2(records: Vec<Record>, mtu: usize, out: &mut Vec<MldAction>) {
    let limit = message_limit(mtu);
    let per_record = (limit - mld::REPORT_V2_HEADER_LEN - mld::RECORD_HEADER_LEN) / 16;
    let mut report: Vec<Record> = Vec::new();
    let mut len = mld::REPORT_V2_HEADER_LEN;
    for r in records {
        for piece in split(r, per_record) {
            if len + piece.len() > limit {
                flush(&mut report, out);
                len = mld::REPORT_V2_HEADER_LEN;
            }
            len += piece.len();
            report.push(piece);
        }
    }
    flush(&mut report, out);
}

/// RFC 3810 §5.2.15: a record too big for one Report is split by sources, except the
/// EXCLUDE ones, whose sources past what fits are left out (a split EXCLUDE record would
/// tell the router a different state).
fn split(mut r: Record, per_record: usize) -> Vec<Record> {
    if r.sources.len() <= per_record {
        return vec![r];
    }
    if matches!(
        r.kind,
        record_type::MODE_IS_EXCLUDE | record_type::CHANGE_TO_EXCLUDE
    ) {
        r.sources.truncate(per_record);
        return vec![r];
    }
    r.sources
        .chunks(per_record.max(1))
        .map(|c| Record {
            kind: r.kind,
            group: r.group,
            sources: c.to_vec(),
        })
        .collect()
}

fn flush(report: &mut Vec<Record>, out: &mut Vec<MldAction>) {
    if report.is_empty() {
        return;
    }
    let sources: Vec<Vec<u8>> = report
        .iter()
        .map(|r| r.sources.iter().flat_map(|s| s.octets()).collect())
        .collect();
    let reprs: Vec<RecordRepr<'_>> = report
        .iter()
        .zip(&sources)
        .map(|(r, s)| RecordRepr {
            record_type: r.kind,
            mcast_addr: r.group,
            sources: s,
            aux_data: &[],
        })
        .collect();
    let mut area = vec![0u8; reprs.iter().map(RecordRepr::buffer_len).sum()];
    // The area is sized from the same records and each source list is whole addresses,
    // so this cannot fail; a failure would drop one report, never panic.
    let written = mld::emit_records(&reprs, &mut area);
    debug_assert!(written.is_ok(), "{written:?}");
    if written.is_ok() {
        // The packer keeps a report under 64 KiB and a record is at least 20 bytes, so
        // the count fits; saturating keeps a bug from wrapping.
        let num_records = u16::try_from(reprs.len()).unwrap_or(u16::MAX);
        if let Some(message) = emit(mld::Repr::ReportV2 {
            num_records,
            records: &area,
        }) {
            out.push(MldAction::Send {
                dst: ALL_MLDV2_ROUTERS,
                message,
            });
        }
    }
    report.clear();
}

/// The whole ICMPv6 message with a zero checksum (the glue knows the source address).
pub(super) fn emit(m: mld::Repr<'_>) -> Option<Vec<u8>> {
    let whole = icmpv6::Repr::from(m);
    let mut buf = vec![0u8; whole.buffer_len()];
    let n = whole
        .emit(&Ipv6Addr::UNSPECIFIED, &Ipv6Addr::UNSPECIFIED, &mut buf)
        .ok()?;
    buf.truncate(n);
    icmpv6::Packet::new_unchecked(&mut buf[..]).set_checksum(0);
    Some(buf)
}
