//! Reassembly of IPv6 fragments (RFC 8200 §4.5): the queues of fragments waiting for
//! their datagram, keyed by (source, destination, identification), with the rules that
//! later RFCs added: overlapping fragments poison their whole datagram (RFC 5722),
//! atomic fragments never touch a queue (RFC 6946), a first fragment must hold the whole
//! header chain (RFC 7112). Memory is bounded per source and in all; the oldest
//! datagram goes first when a bound is reached.
//!
//! What it does not do: send anything. Outcomes and expiries tell the glue which ICMPv6
//! error to send, quoting which packet.

use std::collections::BTreeMap;
use std::net::Ipv6Addr;
use std::ops::Bound;

use sixstack_wire::ipv6::{self, HEADER_LEN};
use sixstack_wire::ipv6chain::{Chain, Walker};
use sixstack_wire::ipv6fragment::{self, HEADER_LEN as FRAG_HEADER_LEN};
use sixstack_wire::proto::IpProtocol;

use crate::time::{Duration, Instant};

/// The largest IPv6 payload without a Jumbo Payload option.
const MAX_PAYLOAD: usize = 65535;
/// Byte 6 of the IPv6 header, its Next Header field.
const IPV6_NEXT_HEADER: usize = 6;
/// The Payload Length field of the IPv6 header.
const PAYLOAD_LEN_FIELD: u32 = 4;
/// Where the Fragment Offset field sits in the Fragment header.
const FRAG_OFFSET_FIELD: usize = 2;
/// What each stored fragment costs beyond its bytes (its map node and allocation), so
/// that a flood of 8-byte fragments meets the memory bound as a flood of big ones does.
const PIECE_OVERHEAD: usize = 64;
/// What each datagram entry costs beyond its fragments, discarded ones included.
const DATAGRAM_OVERHEAD: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasmConfig {
    /// How long after its first-arriving fragment a datagram may take to complete
    /// (RFC 8200 §4.5: 60 seconds).
    pub timeout: Duration,
    /// Memory for all datagrams, fragments plus bookkeeping. When a fragment would go
    /// over, the oldest datagrams are dropped until it fits.
    pub max_bytes: usize,
    /// Memory for the datagrams of one source; over it, that source's oldest goes.
    pub max_bytes_per_source: usize,
    /// Datagrams in reassembly (discarded ones waiting out their timeout included);
    /// a new one beyond this drops the oldest.
    pub max_datagrams: usize,
    /// Datagrams from one source, so that one source cannot push out every other's with
    /// tiny fragments; a new one beyond this drops that source's oldest.
    pub max_datagrams_per_source: usize,
}

impl Default for ReasmConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(60),
            max_bytes: 4 << 20,
            max_bytes_per_source: 1 << 20,
            max_datagrams: 512,
            max_datagrams_per_source: 128,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReasmOutcome {
    /// Stored; the datagram is not complete yet.
    Pending,
    /// The reassembled packet: the first fragment's unfragmentable part with the Next
    /// Header byte that named the Fragment header replaced by the fragment's Next Header,
    /// the Fragment header removed, Payload Length fixed. An atomic fragment comes back
    /// at once in the same form.
    Complete(Vec<u8>),
    /// The fragment was dropped, for this reason (a counter name for the glue).
    Dropped(&'static str),
    /// The glue sends ICMPv6 Parameter Problem `code` with `pointer` quoting the received
    /// packet.
    ParamProblem { code: u8, pointer: u32 },
}

/// A datagram abandoned at its timeout. The glue sends Time Exceeded code 1 (fragment
/// reassembly time exceeded) to `src` quoting `first_fragment` when it is present, and
/// nothing otherwise (RFC 8200 §4.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expired {
    pub src: Ipv6Addr,
    /// The fragment with offset zero, as received (header, unfragmentable part, Fragment
    /// header and data, link padding cut off).
    pub first_fragment: Option<Vec<u8>>,
}

/// Counts of what happened to datagrams (not to single fragments: those are counted by
/// the glue from [`ReasmOutcome::Dropped`] reasons).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReasmStats {
    /// Datagrams put back together (atomic fragments included).
    pub reassembled: u64,
    /// Datagrams abandoned at their timeout.
    pub timed_out: u64,
    /// Datagrams dropped to make room under a memory or count bound.
    pub evicted: u64,
    /// Datagrams discarded for overlapping or disagreeing fragments (RFC 5722).
    pub discarded: u64,
}

type Key = (Ipv6Addr, Ipv6Addr, u32);

#[derive(Debug, Clone)]
struct Piece {
    data: Vec<u8>,
    more: bool,
}

/// What the offset-zero fragment brings beyond its data.
#[derive(Debug, Clone)]
struct First {
    /// The packet up to the end of the Fragment header.
    headers: Vec<u8>,
    nh_offset: usize,
    frag_offset: usize,
}

#[derive(Debug, Clone)]
enum Body {
    Collecting {
        first: Option<First>,
        /// By offset in bytes; never overlapping.
        pieces: BTreeMap<usize, Piece>,
        /// The fragmentable part's length, once the last fragment came.
        total: Option<usize>,
        /// The sum of the pieces' lengths.
        received: usize,
    },
    /// RFC 5722 §4: its fragments, those to come included, are dropped until the
    /// datagram would have timed out.
    Discarded,
}

#[derive(Debug, Clone)]
struct Datagram {
    arrived: Instant,
    seq: u64,
    bytes: usize,
    body: Body,
}

#[derive(Debug, Clone, Copy, Default)]
struct SourceUse {
    bytes: usize,
    datagrams: usize,
}

enum Fit {
    New,
    Duplicate,
    /// The datagram was discarded already (RFC 5722 §4).
    Dead,
    Conflict(&'static str),
}

/// The reassembly queues of one node.
#[derive(Debug, Clone)]
pub struct Reassembler {
    cfg: ReasmConfig,
    datagrams: BTreeMap<Key, Datagram>,
    /// The same datagrams by (first arrival, sequence): oldest first, for timeouts and
    /// eviction alike (all share one timeout).
    order: BTreeMap<(Instant, u64), Key>,
    /// Bounded by the datagrams: an entry goes with its source's last datagram.
    sources: BTreeMap<Ipv6Addr, SourceUse>,
    bytes: usize,
    next_seq: u64,
    stats: ReasmStats,
}

impl Reassembler {
    pub fn new(cfg: ReasmConfig) -> Self {
        Self {
            cfg,
            datagrams: BTreeMap::new(),
            order: BTreeMap::new(),
            sources: BTreeMap::new(),
            bytes: 0,
            next_seq: 0,
            stats: ReasmStats::default(),
        }
    }

    /// Takes one received fragment. `packet`: the whole received IPv6 packet (header
    /// included). `nh_offset`: offset in `packet` of the Next Header byte whose value is
    /// 44 (6 when the Fragment header follows the IPv6 header at once). `frag_offset`:
    /// offset of the Fragment header. Call [`Reassembler::poll`] first when
    /// [`Reassembler::poll_at`] is due: a datagram past its timeout still takes fragments.
    pub fn insert(
        &mut self,
        now: Instant,
        packet: &[u8],
        nh_offset: usize,
        frag_offset: usize,
    ) -> ReasmOutcome {
        let Ok(ip) = ipv6::Packet::new_checked(packet) else {
            return ReasmOutcome::Dropped("malformed IPv6 header");
        };
        let payload_len = usize::from(ip.payload_len());
        if payload_len == 0 {
            // RFC 2675 §3: a jumbogram carries no Fragment header.
            return ReasmOutcome::Dropped("fragment with a zero payload length");
        }
        let packet = &packet[..HEADER_LEN + payload_len];
        if !chain_reaches(packet, nh_offset, frag_offset) {
            return ReasmOutcome::Dropped("no fragment header where the caller said");
        }
        // The walk checked that its 8 bytes are there.
        let Ok(fh) = ipv6fragment::Packet::new_checked(&packet[frag_offset..]) else {
            return ReasmOutcome::Dropped("truncated fragment header");
        };
        let next_header = fh.next_header();
        let off = fh.frag_offset_bytes();
        let more = fh.more_frags();
        let data = fh.into_payload();
        let len = data.len();
        if more && len % 8 != 0 {
            // RFC 8200 §4.5: pointer to the Payload Length field.
            return ReasmOutcome::ParamProblem {
                code: 0,
                pointer: PAYLOAD_LEN_FIELD,
            };
        }
        if frag_offset - HEADER_LEN + off + len > MAX_PAYLOAD {
            // RFC 8200 §4.5: pointer to the Fragment Offset field.
            return ReasmOutcome::ParamProblem {
                code: 0,
                pointer: (frag_offset + FRAG_OFFSET_FIELD) as u32,
            };
        }
        if off == 0 {
            let chain = Chain::walk(next_header, data);
            if chain.is_truncated() {
                // RFC 7112 §5, RFC 8200 §4.5: code 3, pointer zero.
                return ReasmOutcome::ParamProblem {
                    code: 3,
                    pointer: 0,
                };
            }
            if !chain.is_complete() {
                return ReasmOutcome::Dropped("malformed header chain in first fragment");
            }
            // The chain runs through the upper-layer header itself (RFC 7112 §2, §5): a
            // first fragment that stops where the UDP header would start is as incomplete
            // as one that stops inside an extension header.
            if let Some((upper, at)) = chain.upper_layer()
                && data.len() < at + crate::ip::frag::upper_header_len(upper, &data[at..])
            {
                return ReasmOutcome::ParamProblem {
                    code: 3,
                    pointer: 0,
                };
            }
            if !more {
                // RFC 6946 §4: an atomic fragment is processed alone, queues untouched.
                self.stats.reassembled += 1;
                return ReasmOutcome::Complete(build(
                    &packet[..frag_offset],
                    nh_offset,
                    next_header,
                    [data],
                ));
            }
        }
        if len == 0 {
            return ReasmOutcome::Dropped("empty fragment");
        }
        let key = (ip.src_addr(), ip.dst_addr(), fh.ident());
        let exists = match self.datagrams.get(&key) {
            None => false,
            Some(d) => match fit(&d.body, off, data, more) {
                Fit::New => true,
                Fit::Duplicate => return ReasmOutcome::Dropped("duplicate fragment"),
                Fit::Dead => return ReasmOutcome::Dropped("fragment of a discarded datagram"),
                Fit::Conflict(reason) => {
                    self.discard(&key);
                    return ReasmOutcome::Dropped(reason);
                }
            },
        };
        let mut cost = len + PIECE_OVERHEAD;
        if off == 0 {
            cost += frag_offset + FRAG_HEADER_LEN;
        }
        if !self.make_room(&key, exists, cost) {
            return ReasmOutcome::Dropped("no room under the reassembly memory bounds");
        }
        if !self.datagrams.contains_key(&key) {
            if exists {
                return ReasmOutcome::Dropped("datagram evicted for memory");
            }
            self.create(now, key);
        }
        self.store(&key, cost, off, data, more, || First {
            headers: packet[..frag_offset + FRAG_HEADER_LEN].to_vec(),
            nh_offset,
            frag_offset,
        })
    }

    fn create(&mut self, now: Instant, key: Key) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.datagrams.insert(
            key,
            Datagram {
                arrived: now,
                seq,
                bytes: DATAGRAM_OVERHEAD,
                body: Body::Collecting {
                    first: None,
                    pieces: BTreeMap::new(),
                    total: None,
                    received: 0,
                },
            },
        );
        self.order.insert((now, seq), key);
        let s = self.sources.entry(key.0).or_default();
        s.bytes += DATAGRAM_OVERHEAD;
        s.datagrams += 1;
        self.bytes += DATAGRAM_OVERHEAD;
    }

    fn store(
        &mut self,
        key: &Key,
        cost: usize,
        off: usize,
        data: &[u8],
        more: bool,
        first_of: impl FnOnce() -> First,
    ) -> ReasmOutcome {
        let Some(d) = self.datagrams.get_mut(key) else {
            return ReasmOutcome::Dropped("datagram evicted for memory");
        };
        let Body::Collecting {
            first,
            pieces,
            total,
            received,
        } = &mut d.body
        else {
            return ReasmOutcome::Dropped("fragment of a discarded datagram");
        };
        if off == 0 {
            *first = Some(first_of());
        }
        if !more {
            *total = Some(off + data.len());
        }
        pieces.insert(
            off,
            Piece {
                data: data.to_vec(),
                more,
            },
        );
        *received += data.len();
        d.bytes += cost;
        self.bytes += cost;
        if let Some(s) = self.sources.get_mut(&key.0) {
            s.bytes += cost;
        }
        // Pieces never overlap and all lie below the total, so their lengths sum to the
        // total exactly when they cover it.
        if *total != Some(*received) {
            return ReasmOutcome::Pending;
        }
        let Some(d) = self.remove(key) else {
            return ReasmOutcome::Dropped("datagram vanished");
        };
        let Body::Collecting {
            first: Some(first),
            pieces,
            total: Some(total),
            ..
        } = d.body
        else {
            return ReasmOutcome::Dropped("complete datagram without its first fragment");
        };
        if first.frag_offset - HEADER_LEN + total > MAX_PAYLOAD {
            return ReasmOutcome::Dropped("reassembled payload longer than 65535");
        }
        self.stats.reassembled += 1;
        ReasmOutcome::Complete(build(
            &first.headers[..first.frag_offset],
            first.nh_offset,
            IpProtocol(first.headers[first.frag_offset]),
            pieces.values().map(|p| &p.data[..]),
        ))
    }

    /// Evicts until a fragment of `cost` bytes (plus a new entry if `!exists`) fits every
    /// bound. False when it cannot fit even alone.
    fn make_room(&mut self, key: &Key, exists: bool, cost: usize) -> bool {
        let src = key.0;
        let need = cost + if exists { 0 } else { DATAGRAM_OVERHEAD };
        if need > self.cfg.max_bytes || need > self.cfg.max_bytes_per_source {
            return false;
        }
        if !exists {
            if self.cfg.max_datagrams == 0 || self.cfg.max_datagrams_per_source == 0 {
                return false;
            }
            while self.datagrams.len() >= self.cfg.max_datagrams && self.evict_oldest(None) {}
            while self.source(&src).datagrams >= self.cfg.max_datagrams_per_source
                && self.evict_oldest(Some(src))
            {}
        }
        while self.source(&src).bytes + need > self.cfg.max_bytes_per_source
            && self.evict_oldest(Some(src))
        {}
        while self.bytes + need > self.cfg.max_bytes && self.evict_oldest(None) {}
        self.source(&src).bytes + need <= self.cfg.max_bytes_per_source
            && self.bytes + need <= self.cfg.max_bytes
    }

    fn source(&self, src: &Ipv6Addr) -> SourceUse {
        self.sources.get(src).copied().unwrap_or_default()
    }

    /// Drops the oldest datagram, of `src` only if given. False when there is none.
    fn evict_oldest(&mut self, src: Option<Ipv6Addr>) -> bool {
        let victim = self
            .order
            .values()
            .find(|k| src.is_none_or(|s| k.0 == s))
            .copied();
        match victim {
            Some(k) => {
                self.remove(&k);
                self.stats.evicted += 1;
                true
            }
            None => false,
        }
    }

    /// RFC 5722 §4: the whole datagram goes, and its entry stays to drop what follows.
    fn discard(&mut self, key: &Key) {
        let Some(d) = self.datagrams.get_mut(key) else {
            return;
        };
        let freed = d.bytes - DATAGRAM_OVERHEAD;
        d.bytes = DATAGRAM_OVERHEAD;
        d.body = Body::Discarded;
        self.bytes -= freed;
        if let Some(s) = self.sources.get_mut(&key.0) {
            s.bytes -= freed;
        }
        self.stats.discarded += 1;
    }

    fn remove(&mut self, key: &Key) -> Option<Datagram> {
        let d = self.datagrams.remove(key)?;
        self.order.remove(&(d.arrived, d.seq));
        self.bytes -= d.bytes;
        if let Some(s) = self.sources.get_mut(&key.0) {
            s.bytes -= d.bytes;
            s.datagrams -= 1;
            if s.datagrams == 0 {
                self.sources.remove(&key.0);
            }
        }
        Some(d)
    }

    /// Abandons the datagrams whose timeout has passed, pushing one [`Expired`] for each
    /// that was still collecting (discarded ones go silently, RFC 5722 §4).
    pub fn poll(&mut self, now: Instant, out: &mut Vec<Expired>) {
        while let Some((&(arrived, _), &key)) = self.order.first_key_value() {
            if arrived + self.cfg.timeout > now {
                break;
            }
            let Some(d) = self.remove(&key) else {
                break;
            };
            if let Body::Collecting { first, pieces, .. } = d.body {
                self.stats.timed_out += 1;
                let first_fragment = first.map(|f| {
                    let mut q = f.headers;
                    if let Some(p) = pieces.get(&0) {
                        q.extend_from_slice(&p.data);
                    }
                    q
                });
                out.push(Expired {
                    src: key.0,
                    first_fragment,
                });
            }
        }
    }

    /// When the oldest datagram times out.
    pub fn poll_at(&self) -> Option<Instant> {
        self.order
            .first_key_value()
            .map(|(&(arrived, _), _)| arrived + self.cfg.timeout)
    }

    /// Memory in use, fragments plus the bookkeeping charged for them.
    pub fn bytes_used(&self) -> usize {
        self.bytes
    }

    /// Memory in use for the datagrams from `src`.
    pub fn bytes_used_by(&self, src: &Ipv6Addr) -> usize {
        self.source(src).bytes
    }

    /// Datagrams held, those discarded and waiting out their timeout included.
    pub fn datagrams(&self) -> usize {
        self.datagrams.len()
    }

    pub fn stats(&self) -> &ReasmStats {
        &self.stats
    }
}

/// Whether walking `packet`'s header chain meets a Fragment header at `frag_offset`,
/// named by the Next Header byte at `nh_offset`. The glue walked there already; this
/// keeps a slip in its offsets from reading data as headers.
fn chain_reaches(packet: &[u8], nh_offset: usize, frag_offset: usize) -> bool {
    let Some(&first) = packet.get(IPV6_NEXT_HEADER) else {
        return false;
    };
    let Some(payload) = packet.get(HEADER_LEN..) else {
        return false;
    };
    let mut named_at = IPV6_NEXT_HEADER;
    for h in Walker::new(IpProtocol(first), payload) {
        let Ok(h) = h else {
            return false;
        };
        let at = HEADER_LEN + h.offset;
        if at >= frag_offset {
            return at == frag_offset
                && h.header_type == IpProtocol::FRAGMENT
                && named_at == nh_offset;
        }
        named_at = at;
    }
    false
}

/// How a fragment fits what its datagram already holds.
fn fit(body: &Body, off: usize, data: &[u8], more: bool) -> Fit {
    let Body::Collecting { pieces, total, .. } = body else {
        return Fit::Dead;
    };
    if pieces
        .get(&off)
        .is_some_and(|p| p.data == data && p.more == more)
    {
        return Fit::Duplicate;
    }
    let end = off + data.len();
    if !more {
        if total.is_some_and(|t| t != end) {
            return Fit::Conflict("two last fragments disagree");
        }
        if pieces
            .last_key_value()
            .is_some_and(|(o, p)| o + p.data.len() > end)
        {
            return Fit::Conflict("last fragment ends before others");
        }
    } else if total.is_some_and(|t| end > t) {
        return Fit::Conflict("fragment beyond the last fragment");
    }
    // RFC 5722 §4: any overlap discards the whole datagram.
    let before = pieces.range(..=off).next_back();
    let after = pieces
        .range((Bound::Excluded(off), Bound::Unbounded))
        .next();
    if before.is_some_and(|(o, p)| o + p.data.len() > off) || after.is_some_and(|(o, _)| *o < end) {
        return Fit::Conflict("overlapping fragments");
    }
    Fit::New
}

/// The unfragmentable part with the Fragment header's place taken by what followed it,
/// then the data; the Payload Length set to match. The caller checked that the payload
/// fits 16 bits and that `nh_offset` lies within `unfrag`.
fn build<'a>(
    unfrag: &[u8],
    nh_offset: usize,
    next_header: IpProtocol,
    data: impl IntoIterator<Item = &'a [u8]>,
) -> Vec<u8> {
    let mut out = unfrag.to_vec();
    out[nh_offset] = next_header.0;
    for d in data {
        out.extend_from_slice(d);
    }
    let payload_len = (out.len() - HEADER_LEN).min(MAX_PAYLOAD) as u16;
    ipv6::Packet::new_unchecked(&mut out[..]).set_payload_len(payload_len);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const A: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0xa);
    const B: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0xb);
    const ME: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);

    fn t(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    /// A fragment: IPv6 header from `src` to ME with Next Header `first_nh`, `unfrag`
    /// extension headers (whose last Next Header byte is 44), the Fragment header naming `nh`, the Fragment header, `data`. Returns the packet and the
    /// offsets insert() takes.
    fn frag_with(
        src: Ipv6Addr,
        (first_nh, unfrag, nh): (u8, &[u8], u8),
        ident: u32,
        off: usize,
        more: bool,
        data: &[u8],
    ) -> (Vec<u8>, usize, usize) {
        let frag_offset = HEADER_LEN + unfrag.len();
        let mut p = vec![0u8; frag_offset + FRAG_HEADER_LEN];
        ipv6::Repr {
            traffic_class: 0,
            flow_label: 0,
            payload_len: (unfrag.len() + FRAG_HEADER_LEN + data.len()) as u16,
            next_header: IpProtocol(first_nh),
            hop_limit: 64,
            src_addr: src,
            dst_addr: ME,
        }
        .emit(&mut p)
        .unwrap();
        p[HEADER_LEN..frag_offset].copy_from_slice(unfrag);
        ipv6fragment::Repr {
            next_header: IpProtocol(nh),
            reserved: 0,
            frag_offset: (off / 8) as u16,
            res: 0,
            more_frags: more,
            ident,
        }
        .emit(&mut p[frag_offset..])
        .unwrap();
        p.extend_from_slice(data);
        let nh_offset = if unfrag.is_empty() { 6 } else { HEADER_LEN };
        (p, nh_offset, frag_offset)
    }

    fn frag(src: Ipv6Addr, ident: u32, off: usize, more: bool, data: &[u8]) -> Vec<u8> {
        frag_with(src, (44, &[], 17), ident, off, more, data).0
    }

    fn ins(r: &mut Reassembler, now: Instant, p: &[u8]) -> ReasmOutcome {
        let out = r.insert(now, p, 6, HEADER_LEN);
        r.check_invariants();
        out
    }

    /// `n` bytes of a UDP datagram: a header, then a counting pattern.
    fn udp(n: usize) -> Vec<u8> {
        let mut u: Vec<u8> = (0..n).map(|i| (i * 7) as u8).collect();
        u[..8].copy_from_slice(&[0x04, 0xd2, 0x00, 0x35, (n >> 8) as u8, n as u8, 0, 0]);
        u
    }

    /// What reassembly of `payload` (UDP, no extension headers) from `src` gives.
    fn whole(src: Ipv6Addr, payload: &[u8]) -> Vec<u8> {
        let mut p = vec![0u8; HEADER_LEN];
        ipv6::Repr {
            traffic_class: 0,
            flow_label: 0,
            payload_len: payload.len() as u16,
            next_header: IpProtocol::UDP,
            hop_limit: 64,
            src_addr: src,
            dst_addr: ME,
        }
        .emit(&mut p)
        .unwrap();
        p.extend_from_slice(payload);
        p
    }

    impl Reassembler {
        fn check_invariants(&self) {
            let sum: usize = self.datagrams.values().map(|d| d.bytes).sum();
            assert_eq!(sum, self.bytes);
            assert_eq!(self.order.len(), self.datagrams.len());
            for (src, s) in &self.sources {
                let mine: Vec<_> = self.datagrams.iter().filter(|(k, _)| k.0 == *src).collect();
                assert_eq!(mine.len(), s.datagrams);
                assert_eq!(mine.iter().map(|(_, d)| d.bytes).sum::<usize>(), s.bytes);
            }
            assert!(self.bytes <= self.cfg.max_bytes);
            assert!(self.datagrams.len() <= self.cfg.max_datagrams);
            assert!(
                self.sources
                    .values()
                    .all(|s| s.bytes <= self.cfg.max_bytes_per_source
                        && s.datagrams <= self.cfg.max_datagrams_per_source)
            );
        }
    }

    #[test]
    fn rfc8200_4_5_reassembles_in_any_order() {
        let u = udp(3000);
        let parts = [
            frag(A, 1, 0, true, &u[..1232]),
            frag(A, 1, 1232, true, &u[1232..2464]),
            frag(A, 1, 2464, false, &u[2464..]),
        ];
        for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0], [2, 0, 1]] {
            let mut r = Reassembler::new(ReasmConfig::default());
            assert_eq!(ins(&mut r, t(0), &parts[order[0]]), ReasmOutcome::Pending);
            assert_eq!(ins(&mut r, t(1), &parts[order[1]]), ReasmOutcome::Pending);
            assert_eq!(r.datagrams(), 1);
            assert!(r.bytes_used() > 1232);
            assert_eq!(
                ins(&mut r, t(2), &parts[order[2]]),
                ReasmOutcome::Complete(whole(A, &u))
            );
            assert_eq!((r.datagrams(), r.bytes_used(), r.poll_at()), (0, 0, None));
            assert_eq!(r.stats().reassembled, 1);
        }
    }

    /// The unfragmentable part and the Next Header come from the offset-zero fragment;
    /// those of later fragments are ignored (RFC 8200 §4.5).
    #[test]
    fn rfc8200_4_5_headers_from_first_fragment() {
        let hbh = [44, 0, 0x01, 0x04, 0, 0, 0, 0];
        let u = udp(16);
        let (first, nh_off, fo) = frag_with(A, (0, &hbh, 17), 5, 0, true, &u[..8]);
        let (last, _, _) = frag_with(A, (44, &[], 6), 5, 8, false, &u[8..]);
        let mut r = Reassembler::new(ReasmConfig::default());
        assert_eq!((nh_off, fo), (40, 48));
        assert_eq!(ins(&mut r, t(0), &last), ReasmOutcome::Pending);
        let ReasmOutcome::Complete(p) = r.insert(t(0), &first, nh_off, fo) else {
            panic!("not complete");
        };
        let mut expect = first[..48].to_vec();
        expect[40] = 17;
        expect[4..6].copy_from_slice(&24u16.to_be_bytes());
        expect.extend_from_slice(&u);
        assert_eq!(p, expect);
    }

    #[test]
    fn rfc8200_4_5_link_padding_ignored() {
        let mut p = frag(A, 1, 0, true, &udp(16));
        p.extend_from_slice(&[0xee; 5]);
        let mut r = Reassembler::new(ReasmConfig::default());
        assert_eq!(ins(&mut r, t(0), &p), ReasmOutcome::Pending);
        let mut out = Vec::new();
        r.poll(t(60_000), &mut out);
        assert_eq!(out[0].first_fragment.as_deref(), Some(&p[..p.len() - 5]));
    }

    #[test]
    fn rfc8200_4_5_non_last_fragment_not_multiple_of_8() {
        let mut r = Reassembler::new(ReasmConfig::default());
        let p = frag(A, 1, 0, true, &udp(13));
        assert_eq!(
            ins(&mut r, t(0), &p),
            ReasmOutcome::ParamProblem {
                code: 0,
                pointer: 4
            }
        );
        assert_eq!(r.datagrams(), 0);
        // The last fragment may have any length.
        assert_eq!(
            ins(&mut r, t(0), &frag(A, 1, 8, false, &[1; 13])),
            ReasmOutcome::Pending
        );
    }

    #[test]
    fn rfc8200_4_5_reassembled_longer_than_65535() {
        let mut r = Reassembler::new(ReasmConfig::default());
        let p = frag(A, 1, 65528, true, &[0; 16]);
        assert_eq!(
            ins(&mut r, t(0), &p),
            ReasmOutcome::ParamProblem {
                code: 0,
                pointer: 42
            }
        );
        // The unfragmentable part counts: 8 bytes of Hop-by-Hop plus 65528.
        let hbh = [44, 0, 0x01, 0x04, 0, 0, 0, 0];
        let (p, nh, fo) = frag_with(A, (0, &hbh, 17), 1, 65520, false, &[0; 8]);
        assert_eq!(
            r.insert(t(0), &p, nh, fo),
            ReasmOutcome::ParamProblem {
                code: 0,
                pointer: 50
            }
        );
        assert_eq!(r.datagrams(), 0);
        // Exactly 65535 is fine.
        let p = frag(A, 1, 65528, false, &[0; 7]);
        assert_eq!(ins(&mut r, t(0), &p), ReasmOutcome::Pending);
    }

    /// Each fragment passes its own check, but the first brings a longer unfragmentable
    /// part than the last assumed: the whole is dropped, not built.
    #[test]
    fn rfc8200_4_5_longer_first_headers_dropped_at_completion() {
        let mut r = Reassembler::new(ReasmConfig::default());
        let hbh = [44, 1, 0x01, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let u = udp(65535);
        let mut off = 0;
        let mut last = ReasmOutcome::Pending;
        while off < u.len() {
            let end = (off + 1232).min(u.len());
            let more = end < u.len();
            last = if off == 0 {
                let (p, nh, fo) = frag_with(A, (0, &hbh, 17), 3, 0, more, &u[..end]);
                r.insert(t(0), &p, nh, fo)
            } else {
                ins(&mut r, t(0), &frag(A, 3, off, more, &u[off..end]))
            };
            off = end;
        }
        assert_eq!(
            last,
            ReasmOutcome::Dropped("reassembled payload longer than 65535")
        );
        assert_eq!((r.datagrams(), r.bytes_used()), (0, 0));
    }

    #[test]
    fn rfc8200_4_5_timeout_with_first_fragment() {
        let mut r = Reassembler::new(ReasmConfig::default());
        let first = frag(A, 9, 0, true, &udp(16));
        assert_eq!(ins(&mut r, t(1000), &first), ReasmOutcome::Pending);
        // The timeout counts from the first-arriving fragment, not the latest.
        assert_eq!(
            ins(&mut r, t(30_000), &frag(A, 9, 32, false, &[1; 8])),
            ReasmOutcome::Pending
        );
        assert_eq!(r.poll_at(), Some(t(61_000)));
        let mut out = Vec::new();
        r.poll(t(60_999), &mut out);
        assert!(out.is_empty());
        r.poll(t(61_000), &mut out);
        assert_eq!(
            out,
            [Expired {
                src: A,
                first_fragment: Some(first)
            }]
        );
        assert_eq!((r.datagrams(), r.bytes_used(), r.poll_at()), (0, 0, None));
        assert_eq!(r.stats().timed_out, 1);
    }

    #[test]
    fn rfc8200_4_5_timeout_without_first_fragment() {
        let mut r = Reassembler::new(ReasmConfig::default());
        ins(&mut r, t(0), &frag(A, 9, 8, true, &[1; 8]));
        ins(&mut r, t(0), &frag(B, 9, 8, true, &[1; 8]));
        let mut out = Vec::new();
        r.poll(t(60_000), &mut out);
        assert_eq!(
            out,
            [
                Expired {
                    src: A,
                    first_fragment: None
                },
                Expired {
                    src: B,
                    first_fragment: None
                }
            ]
        );
    }

    #[test]
    fn rfc5722_overlap_drops_whole_datagram() {
        let mut r = Reassembler::new(ReasmConfig::default());
        let u = udp(48);
        assert_eq!(
            ins(&mut r, t(0), &frag(A, 1, 0, true, &u[..16])),
            ReasmOutcome::Pending
        );
        assert_eq!(
            ins(&mut r, t(10), &frag(A, 1, 8, true, &u[8..24])),
            ReasmOutcome::Dropped("overlapping fragments")
        );
        assert_eq!(r.bytes_used(), DATAGRAM_OVERHEAD);
        // Fragments that would have completed it, and even a clean restart, are dropped.
        assert_eq!(
            ins(&mut r, t(20), &frag(A, 1, 16, false, &u[16..])),
            ReasmOutcome::Dropped("fragment of a discarded datagram")
        );
        assert_eq!(
            ins(&mut r, t(30), &frag(A, 1, 0, true, &u[..16])),
            ReasmOutcome::Dropped("fragment of a discarded datagram")
        );
        // Another identification is not affected.
        assert_eq!(
            ins(&mut r, t(30), &frag(A, 2, 0, true, &u[..16])),
            ReasmOutcome::Pending
        );
        assert_eq!(r.stats().discarded, 1);
        // Silent at its timeout; then the identification may be used again.
        let mut out = Vec::new();
        r.poll(t(60_000), &mut out);
        assert!(out.is_empty());
        assert_eq!(r.datagrams(), 1);
        assert_eq!(
            ins(&mut r, t(60_000), &frag(A, 1, 16, false, &u[16..])),
            ReasmOutcome::Pending
        );
    }

    #[test]
    fn rfc5722_overlap_variants() {
        let u = udp(64);
        type Case<'a> = (&'a [(usize, usize, bool)], &'a str);
        let cases: [Case; 5] = [
            // Same start, different length.
            (&[(0, 16, true), (0, 24, true)], "overlapping fragments"),
            // Inside a later one.
            (&[(16, 32, true), (24, 32, true)], "overlapping fragments"),
            // Reaching into the next.
            (&[(24, 40, true), (8, 32, true)], "overlapping fragments"),
            (
                &[(0, 16, true), (32, 64, false), (16, 48, false)],
                "two last fragments disagree",
            ),
            (
                &[(40, 56, true), (16, 32, false)],
                "last fragment ends before others",
            ),
        ];
        for (frags, reason) in cases {
            let mut r = Reassembler::new(ReasmConfig::default());
            let n = frags.len();
            for (i, &(s, e, m)) in frags.iter().enumerate() {
                let out = ins(&mut r, t(0), &frag(A, 1, s, m, &u[s..e]));
                if i + 1 < n {
                    assert_eq!(out, ReasmOutcome::Pending, "{frags:?}");
                } else {
                    assert_eq!(out, ReasmOutcome::Dropped(reason), "{frags:?}");
                }
            }
        }
        // Beyond the end once the end is known.
        let mut r = Reassembler::new(ReasmConfig::default());
        ins(&mut r, t(0), &frag(A, 1, 16, false, &u[16..32]));
        assert_eq!(
            ins(&mut r, t(0), &frag(A, 1, 24, true, &u[24..40])),
            ReasmOutcome::Dropped("fragment beyond the last fragment")
        );
    }

    /// Exact duplicates (same offset, length, M and bytes) are dropped alone and the
    /// datagram goes on, as Linux does; same place with other bytes is an overlap.
    #[test]
    fn rfc5722_exact_duplicate_is_harmless() {
        let mut r = Reassembler::new(ReasmConfig::default());
        let u = udp(24);
        let f0 = frag(A, 1, 0, true, &u[..16]);
        ins(&mut r, t(0), &f0);
        let used = r.bytes_used();
        assert_eq!(
            ins(&mut r, t(1), &f0),
            ReasmOutcome::Dropped("duplicate fragment")
        );
        assert_eq!(r.bytes_used(), used);
        assert_eq!(
            ins(&mut r, t(2), &frag(A, 1, 16, false, &u[16..])),
            ReasmOutcome::Complete(whole(A, &u))
        );
        let mut r = Reassembler::new(ReasmConfig::default());
        ins(&mut r, t(0), &frag(A, 1, 8, true, &[1; 8]));
        assert_eq!(
            ins(&mut r, t(0), &frag(A, 1, 8, true, &[2; 8])),
            ReasmOutcome::Dropped("overlapping fragments")
        );
        // Same bytes, but now claiming to be the last: the lengths disagree.
        let mut r = Reassembler::new(ReasmConfig::default());
        ins(&mut r, t(0), &frag(A, 1, 8, true, &[1; 8]));
        ins(&mut r, t(0), &frag(A, 1, 24, false, &[1; 8]));
        assert_eq!(
            ins(&mut r, t(0), &frag(A, 1, 8, false, &[1; 8])),
            ReasmOutcome::Dropped("two last fragments disagree")
        );
    }

    #[test]
    fn rfc6946_atomic_fragment_alone() {
        let mut r = Reassembler::new(ReasmConfig::default());
        let u = udp(24);
        ins(&mut r, t(0), &frag(A, 7, 0, true, &u[..16]));
        let used = r.bytes_used();
        // Same identification as the queue: processed at once, the queue untouched.
        let atomic = frag(A, 7, 0, false, &udp(10));
        assert_eq!(
            ins(&mut r, t(1), &atomic),
            ReasmOutcome::Complete(whole(A, &udp(10)))
        );
        assert_eq!((r.datagrams(), r.bytes_used()), (1, used));
        assert_eq!(
            ins(&mut r, t(2), &frag(A, 7, 16, false, &u[16..])),
            ReasmOutcome::Complete(whole(A, &u))
        );
        // Nor does a discarded datagram stop one.
        ins(&mut r, t(3), &frag(A, 8, 8, true, &[1; 16]));
        ins(&mut r, t(3), &frag(A, 8, 16, true, &[1; 16]));
        assert_eq!(r.stats().discarded, 1);
        assert_eq!(
            ins(&mut r, t(4), &frag(A, 8, 0, false, &udp(8))),
            ReasmOutcome::Complete(whole(A, &udp(8)))
        );
        assert_eq!(r.datagrams(), 1);
    }

    #[test]
    fn rfc7112_first_fragment_without_upper_header_dropped() {
        let mut r = Reassembler::new(ReasmConfig::default());
        // Destination Options says 16 bytes; the first fragment holds 8.
        let dstopts = [17, 1, 0x01, 12, 0, 0, 0, 0];
        let (p, nh, fo) = frag_with(A, (44, &[], 60), 1, 0, true, &dstopts);
        assert_eq!(
            r.insert(t(0), &p, nh, fo),
            ReasmOutcome::ParamProblem {
                code: 3,
                pointer: 0
            }
        );
        assert_eq!(r.datagrams(), 0);
        // Atomic fragments too: their chain must be whole.
        let (p, nh, fo) = frag_with(A, (44, &[], 60), 1, 0, false, &dstopts[..4]);
        assert_eq!(
            r.insert(t(0), &p, nh, fo),
            ReasmOutcome::ParamProblem {
                code: 3,
                pointer: 0
            }
        );
        // With the whole chain in, it is taken.
        let mut chain = dstopts.to_vec();
        chain.resize(16, 0);
        chain.extend_from_slice(&udp(8));
        let (p, nh, fo) = frag_with(A, (44, &[], 60), 1, 0, true, &chain);
        assert_eq!(r.insert(t(0), &p, nh, fo), ReasmOutcome::Pending);
        // A later fragment's data is not a header chain.
        let (p, nh, fo) = frag_with(A, (44, &[], 60), 1, 24, true, &dstopts);
        assert_eq!(r.insert(t(0), &p, nh, fo), ReasmOutcome::Pending);
    }

    #[test]
    fn hostile_headers_dropped() {
        let mut r = Reassembler::new(ReasmConfig::default());
        let p = frag(A, 1, 0, true, &udp(16));
        let d = |s| ReasmOutcome::Dropped(s);
        assert_eq!(r.insert(t(0), &p[..39], 6, 40), d("malformed IPv6 header"));
        assert_eq!(r.insert(t(0), &p[..50], 6, 40), d("malformed IPv6 header"));
        for (nh, fo) in [
            (7, 40),
            (6, 39),
            (6, 41),
            (6, 57),
            (6, 10_000),
            (40, 40),
            (50, 40),
        ] {
            assert_eq!(
                r.insert(t(0), &p, nh, fo),
                d("no fragment header where the caller said")
            );
        }
        let mut zero = p.clone();
        zero[4..6].copy_from_slice(&[0, 0]);
        assert_eq!(
            r.insert(t(0), &zero, 6, 40),
            d("fragment with a zero payload length")
        );
        assert_eq!(
            ins(&mut r, t(0), &frag(A, 1, 8, true, &[])),
            d("empty fragment")
        );
        // An AH that says it is shorter than itself: malformed, not incomplete.
        let ah = [17, 0, 0, 0, 0, 0, 0, 0];
        let (p, nh, fo) = frag_with(A, (44, &[], 51), 1, 0, true, &ah);
        assert_eq!(
            r.insert(t(0), &p, nh, fo),
            d("malformed header chain in first fragment")
        );
        assert_eq!((r.datagrams(), r.bytes_used()), (0, 0));
    }

    fn small() -> ReasmConfig {
        ReasmConfig {
            timeout: Duration::from_secs(60),
            max_bytes: 64 << 10,
            max_bytes_per_source: 16 << 10,
            max_datagrams: 32,
            max_datagrams_per_source: 8,
        }
    }

    #[test]
    fn memory_bound_flood_from_one_source() {
        let mut r = Reassembler::new(small());
        // A datagram from B in progress before the flood.
        let u = udp(2000);
        ins(&mut r, t(0), &frag(B, 1, 0, true, &u[..1232]));
        for ident in 0..1000 {
            let out = ins(
                &mut r,
                t(1 + u64::from(ident)),
                &frag(A, ident, 0, true, &u[..1232]),
            );
            assert_eq!(out, ReasmOutcome::Pending);
            assert!(r.bytes_used_by(&A) <= 16 << 10);
        }
        // Per source: 8 datagrams at most, the newest.
        assert_eq!(r.datagrams(), 9);
        assert!(r.stats().evicted >= 990);
        // B's datagram survived the flood.
        assert_eq!(
            ins(&mut r, t(2000), &frag(B, 1, 1232, false, &u[1232..])),
            ReasmOutcome::Complete(whole(B, &u))
        );
        let mut out = Vec::new();
        r.poll(t(1_000_000), &mut out);
        let idents: Vec<_> = out.iter().map(|e| e.src).collect();
        assert_eq!(idents, [A; 8]);
        // The oldest went: what is left is the last eight identifications.
        let quoted: Vec<_> = out
            .iter()
            .map(|e| {
                let q = e.first_fragment.as_ref().unwrap();
                u32::from_be_bytes([q[44], q[45], q[46], q[47]])
            })
            .collect();
        assert_eq!(quoted, (992..1000).collect::<Vec<_>>());
    }

    #[test]
    fn memory_bound_flood_from_many_sources() {
        let mut r = Reassembler::new(small());
        let u = udp(1232);
        for i in 0..1000u16 {
            let src = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, i);
            let out = ins(&mut r, t(u64::from(i)), &frag(src, 1, 0, true, &u));
            assert_eq!(out, ReasmOutcome::Pending);
        }
        assert!(r.bytes_used() <= 64 << 10);
        assert!(r.datagrams() <= 32);
        assert!(r.stats().evicted >= 1000 - 32);
        // The newest are kept.
        let mut out = Vec::new();
        r.poll(t(1_000_000), &mut out);
        assert_eq!(
            out.last().map(|e| e.src),
            Some(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 999))
        );
    }

    /// A flood of tiny fragments of one datagram meets the byte bound through the
    /// bookkeeping charged per fragment, and the datagram itself is the one to go.
    #[test]
    fn memory_bound_tiny_fragments_of_one_datagram() {
        let mut r = Reassembler::new(small());
        let mut outcome = ReasmOutcome::Pending;
        for i in 0..4000 {
            outcome = ins(&mut r, t(0), &frag(A, 1, 8 + i * 8, true, &[0; 8]));
            if outcome != ReasmOutcome::Pending {
                break;
            }
        }
        assert_eq!(
            outcome,
            ReasmOutcome::Dropped("datagram evicted for memory")
        );
        assert_eq!((r.datagrams(), r.bytes_used()), (0, 0));
        assert_eq!(r.stats().evicted, 1);
        // A fragment bigger than a source may hold is refused outright.
        let mut cfg = small();
        cfg.max_bytes_per_source = 1024;
        let mut r = Reassembler::new(cfg);
        assert_eq!(
            ins(&mut r, t(0), &frag(A, 1, 8, true, &[0; 1232])),
            ReasmOutcome::Dropped("no room under the reassembly memory bounds")
        );
    }

    #[derive(Debug, Clone)]
    struct Soup {
        src: u8,
        ident: u8,
        off: u16,
        len: u16,
        more: bool,
        nh: u8,
        dt: u16,
        garble: Option<(usize, u8)>,
    }

    fn soup() -> impl Strategy<Value = Soup> {
        (
            0u8..4,
            0u8..4,
            prop_oneof![0u16..64, 0u16..0x2000],
            prop_oneof![0u16..80, 0u16..3000],
            any::<bool>(),
            prop_oneof![Just(17u8), Just(60u8), Just(44u8), any::<u8>()],
            0u16..20_000,
            proptest::option::weighted(0.1, (0usize..60, any::<u8>())),
        )
            .prop_map(|(src, ident, off, len, more, nh, dt, garble)| Soup {
                src,
                ident,
                off,
                len,
                more,
                nh,
                dt,
                garble,
            })
    }

    proptest! {
        #[test]
        fn fragment_soup_stays_bounded(items in proptest::collection::vec(soup(), 0..300)) {
            let cfg = ReasmConfig {
                timeout: Duration::from_secs(60),
                max_bytes: 16 << 10,
                max_bytes_per_source: 8 << 10,
                max_datagrams: 8,
                max_datagrams_per_source: 4,
            };
            let mut r = Reassembler::new(cfg.clone());
            let mut now = Instant::ZERO;
            let mut expired = Vec::new();
            for s in items {
                now += Duration::from_millis(u64::from(s.dt));
                let src = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, u16::from(s.src));
                let data: Vec<u8> = (0..s.len).map(|i| (i as u8) ^ s.ident).collect();
                let (mut p, nh, fo) = frag_with(src, (44, &[], s.nh), u32::from(s.ident),
                    usize::from(s.off) * 8, s.more, &data);
                if let Some(x) = s.garble.and_then(|(i, _)| p.get_mut(i)) {
                    *x = s.garble.map_or(0, |(_, b)| b);
                }
                r.poll(now, &mut expired);
                match r.insert(now, &p, nh, fo) {
                    ReasmOutcome::Complete(q) => {
                        let plen = usize::from(u16::from_be_bytes([q[4], q[5]]));
                        prop_assert_eq!(plen + HEADER_LEN, q.len());
                    }
                    ReasmOutcome::ParamProblem { code, pointer } => {
                        prop_assert!(code == 0 || code == 3);
                        prop_assert!((pointer as usize) < p.len());
                    }
                    _ => {}
                }
                r.check_invariants();
                prop_assert!(r.bytes_used() <= cfg.max_bytes);
                prop_assert!(r.bytes_used_by(&src) <= cfg.max_bytes_per_source);
                prop_assert!(r.datagrams() <= cfg.max_datagrams);
                prop_assert!(r.poll_at().is_none_or(|at| at > now));
            }
            r.poll(Instant::FAR_FUTURE, &mut expired);
            prop_assert_eq!((r.datagrams(), r.bytes_used()), (0, 0));
        }

        #[test]
        fn raw_bytes_never_panic(
            data in proptest::collection::vec(any::<u8>(), 0..200),
            nh in 0usize..250,
            fo in 0usize..250,
        ) {
            let mut r = Reassembler::new(ReasmConfig::default());
            let _ = r.insert(Instant::ZERO, &data, nh, fo);
            r.check_invariants();
        }
    }
}
