//! RFC 6724 default address selection, as pure functions: the policy table (§2.1), the
//! candidate set and the source rules (§4, §5), and the destination ordering rules (§6).
//! The caller hands in every fact the rules look at (deprecated, temporary, home or care-of,
//! outgoing interface, reachability); this file owns none of the interface, address or
//! neighbour state those facts come from.
//!
//! IPv4 addresses take part as IPv4-mapped addresses (`::ffff:a.b.c.d`), as RFC 6724 §2.1
//! and §3.2 have them do, so a dual-stack resolver can order AAAA and A answers together.

use std::cmp::Ordering;
use std::net::Ipv6Addr;

use sixstack_wire::addr::{Ipv6AddrExt, Scope};

use crate::iface::IfaceId;

/// One row of the policy table (RFC 6724 §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyEntry {
    pub prefix: Ipv6Addr,
    pub prefix_len: u8,
    pub precedence: u8,
    pub label: u8,
}

impl PolicyEntry {
    pub const fn new(prefix: Ipv6Addr, prefix_len: u8, precedence: u8, label: u8) -> Self {
        Self {
            prefix,
            prefix_len,
            precedence,
            label,
        }
    }

    fn contains(&self, addr: &Ipv6Addr) -> bool {
        masked(addr, self.prefix_len) == masked(&self.prefix, self.prefix_len)
    }
}

/// The policy table (RFC 6724 §2.1): longest-matching-prefix rows giving each address a
/// precedence and a label. Only configuration changes it, never a packet, so it has no
/// size limit and no eviction.
///
/// An address no row matches has precedence 0 and no label: its label equals no other
/// label, not even that of another unmatched address. The default table has `::/0`, so
/// this only happens with a table research has cut down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyTable {
    // Longest prefix first (then by prefix), so that the first row matching is the
    // longest match. Prefixes are stored with their host bits cleared.
    entries: Vec<PolicyEntry>,
}

impl Default for PolicyTable {
    /// The default policy table of RFC 6724 §2.1.
    fn default() -> Self {
        const ROWS: [(Ipv6Addr, u8, u8, u8); 9] = [
            (Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 1), 128, 50, 0),
            (Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 0), 0, 40, 1),
            (Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0, 0), 96, 35, 4),
            (Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0), 16, 30, 2),
            (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 32, 5, 5),
            (Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7, 3, 13),
            (Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 0), 96, 1, 3),
            (Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0), 10, 1, 11),
            (Ipv6Addr::new(0x3ffe, 0, 0, 0, 0, 0, 0, 0), 16, 1, 12),
        ];
        let mut t = Self::empty();
        for (prefix, len, precedence, label) in ROWS {
            // Every row above has a length of at most 128, so insert cannot fail.
            let _ = t.insert(PolicyEntry::new(prefix, len, precedence, label));
        }
        t
    }
}

impl PolicyTable {
    /// A table with no rows (every address: precedence 0, no label).
    pub fn empty() -> Self {
        Self {
            entries: Vec::new(),
        }
    }

    /// The rows, longest prefix first.
    pub fn entries(&self) -> &[PolicyEntry] {
        &self.entries
    }

    /// The row with the longest prefix containing `addr`.
    pub fn lookup(&self, addr: &Ipv6Addr) -> Option<&PolicyEntry> {
        self.entries.iter().find(|e| e.contains(addr))
    }

    /// Precedence(A); 0 when no row matches.
    pub fn precedence(&self, addr: &Ipv6Addr) -> u8 {
        self.lookup(addr).map_or(0, |e| e.precedence)
    }

    /// Label(A); `None` when no row matches.
    pub fn label(&self, addr: &Ipv6Addr) -> Option<u8> {
        self.lookup(addr).map(|e| e.label)
    }

    /// Adds a row, or replaces the row with the same prefix and length (returned).
    /// Host bits of the prefix beyond its length are cleared.
    pub fn insert(&mut self, entry: PolicyEntry) -> Result<Option<PolicyEntry>, &'static str> {
        if entry.prefix_len > 128 {
            return Err("policy prefix length over 128");
        }
        let entry = PolicyEntry {
            prefix: Ipv6Addr::from(masked(&entry.prefix, entry.prefix_len)),
            ..entry
        };
        match self.entries.binary_search_by(|e| row_order(e, &entry)) {
            Ok(i) => Ok(Some(std::mem::replace(&mut self.entries[i], entry))),
            Err(i) => {
                self.entries.insert(i, entry);
                Ok(None)
            }
        }
    }

    /// Removes the row with this prefix and length.
    pub fn remove(&mut self, prefix: &Ipv6Addr, prefix_len: u8) -> Option<PolicyEntry> {
        let probe = PolicyEntry::new(Ipv6Addr::from(masked(prefix, prefix_len)), prefix_len, 0, 0);
        let i = self
            .entries
            .binary_search_by(|e| row_order(e, &probe))
            .ok()?;
        Some(self.entries.remove(i))
    }

    /// Replaces the whole table. On error the table is left as it was. When two rows have
    /// the same prefix and length, the later one wins.
    pub fn set(
        &mut self,
        entries: impl IntoIterator<Item = PolicyEntry>,
    ) -> Result<(), &'static str> {
        let mut t = Self::empty();
        for e in entries {
            t.insert(e)?;
        }
        *self = t;
        Ok(())
    }
}

fn row_order(a: &PolicyEntry, b: &PolicyEntry) -> Ordering {
    b.prefix_len
        .cmp(&a.prefix_len)
        .then_with(|| a.prefix.cmp(&b.prefix))
}

/// One address the node could send from, with the facts the §5 rules look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceCandidate {
    pub addr: Ipv6Addr,
    /// The interface the address is assigned to.
    pub iface: IfaceId,
    /// `false` when the address is deprecated (RFC 4862 §5.5.4).
    pub preferred: bool,
    /// A temporary address (RFC 8981); `false` is a public address.
    pub temporary: bool,
    /// A Mobile IPv6 home address (RFC 6275).
    pub home: bool,
    /// A Mobile IPv6 care-of address (RFC 6275).
    pub care_of: bool,
    /// The length of the on-link prefix the address belongs to; it caps CommonPrefixLen
    /// (§2.2). IPv4 addresses give it in IPv6 terms: 96 + the IPv4 prefix length.
    pub prefix_len: u8,
}

impl SourceCandidate {
    /// A preferred, public address that is neither a home nor a care-of address.
    pub const fn new(addr: Ipv6Addr, iface: IfaceId, prefix_len: u8) -> Self {
        Self {
            addr,
            iface,
            preferred: true,
            temporary: false,
            home: false,
            care_of: false,
            prefix_len,
        }
    }
}

/// A destination to order, with its selected source (§6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DestInfo {
    pub addr: Ipv6Addr,
    /// Source(D): what [`select_source_candidate`] chose; `None` when it is undefined.
    pub source: Option<SourceCandidate>,
    /// `Some(false)` when D is known to be unreachable (rule 1), for example its next hop
    /// failed Neighbor Unreachability Detection; `None` when nothing is known.
    pub reachable: Option<bool>,
    /// D is reached through an encapsulating transition mechanism, such as a 6in4 or
    /// 6to4 tunnel (rule 7).
    pub encapsulated: bool,
}

impl DestInfo {
    /// Reachability unknown, not encapsulated.
    pub const fn new(addr: Ipv6Addr, source: Option<SourceCandidate>) -> Self {
        Self {
            addr,
            source,
            reachable: None,
            encapsulated: false,
        }
    }
}

/// The number of leading bits `a` and `b` share, 0 to 128. RFC 6724 §2.2's
/// CommonPrefixLen(S, D) is this capped at the length of S's prefix; the rules below take
/// that cap from [`SourceCandidate::prefix_len`].
pub fn common_prefix_len(a: &Ipv6Addr, b: &Ipv6Addr) -> u8 {
    // At most 128, which fits in a u8.
    (u128::from(*a) ^ u128::from(*b)).leading_zeros() as u8
}

/// The scope the selection rules compare: the RFC 4007 scope of an IPv6 address
/// (multicast from its scope field, loopback as link-local per RFC 6724 §3.1), and for an
/// IPv4-mapped address the scope RFC 6724 §3.2 gives IPv4: 169.254/16 and 127/8
/// link-local, everything else global.
pub fn selection_scope(addr: &Ipv6Addr) -> Scope {
    match addr.to_ipv4_mapped() {
        Some(v4) if v4.is_link_local() || v4.is_loopback() => Scope::LinkLocal,
        Some(_) => Scope::Global,
        None => addr.scope(),
    }
}

fn is_ipv4(addr: &Ipv6Addr) -> bool {
    addr.to_ipv4_mapped().is_some()
}

fn masked(addr: &Ipv6Addr, len: u8) -> u128 {
    let bits = u128::from(*addr);
    match len {
        0 => 0,
        1..=127 => bits & (u128::MAX << (128 - u32::from(len))),
        _ => bits,
    }
}

/// CommonPrefixLen(S, D) of §2.2: the shared leading bits, up to the length of S's prefix.
fn capped_common_prefix_len(src: &SourceCandidate, dst: &Ipv6Addr) -> u8 {
    common_prefix_len(&src.addr, dst).min(src.prefix_len)
}

fn labels_match(a: Option<u8>, b: Option<u8>) -> bool {
    a.is_some() && a == b
}

/// `Less` (the first is better) when only the first has the property.
fn prefer(a: bool, b: bool) -> Ordering {
    match (a, b) {
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        _ => Ordering::Equal,
    }
}

/// RFC 6724 §4: whether `c` is in the candidate set for `dst`.
fn is_candidate(
    c: &SourceCandidate,
    dst: &Ipv6Addr,
    dst_scope: Scope,
    out_iface: Option<IfaceId>,
) -> bool {
    // §4: multicast and the unspecified address MUST NOT be in a candidate set.
    if c.addr.is_multicast() || c.addr.is_unspecified() {
        return false;
    }
    // An IPv4 destination is sent from an IPv4 address and an IPv6 one from IPv6.
    if is_ipv4(&c.addr) != is_ipv4(dst) {
        return false;
    }
    // §4: for multicast and link-local destinations, only addresses on the outgoing
    // interface's link (each interface is its own link zone, RFC 4007 §6). Site-local
    // destinations would be confined to the outgoing interface's site, but RFC 4007 §6's
    // default puts every interface in one site, which is what this stack does.
    if let Some(out) = out_iface
        && (dst.is_multicast() || dst_scope <= Scope::LinkLocal)
    {
        return c.iface == out;
    }
    true
}

/// What the §5 rules know about the destination, computed once per selection.
struct SourceQuery<'p> {
    dst: Ipv6Addr,
    dst_scope: Scope,
    dst_label: Option<u8>,
    out_iface: Option<IfaceId>,
    policy: &'p PolicyTable,
    prefer_temporary: bool,
}

impl<'p> SourceQuery<'p> {
    fn new(
        dst: &Ipv6Addr,
        out_iface: Option<IfaceId>,
        policy: &'p PolicyTable,
        prefer_temporary: bool,
    ) -> Self {
        Self {
            dst: *dst,
            dst_scope: selection_scope(dst),
            dst_label: policy.label(dst),
            out_iface,
            policy,
            prefer_temporary,
        }
    }
}

/// Compares two candidate sources by RFC 6724 §5 rules 1 to 8 in order; `Less` means
/// `a` is preferred. Rule 5.5 (prefer a prefix advertised by the chosen next hop) is not
/// applied: candidates do not say which router advertised them.
fn compare_sources(a: &SourceCandidate, b: &SourceCandidate, q: &SourceQuery<'_>) -> Ordering {
    let SourceQuery {
        dst,
        dst_scope,
        dst_label,
        out_iface,
        policy,
        prefer_temporary,
    } = *q;
    let dst = &dst;
    // Rule 1: prefer the same address.
    prefer(a.addr == *dst, b.addr == *dst)
        // Rule 2: prefer appropriate scope.
        .then_with(|| {
            let (sa, sb) = (selection_scope(&a.addr), selection_scope(&b.addr));
            match sa.cmp(&sb) {
                Ordering::Less if sa < dst_scope => Ordering::Greater,
                Ordering::Less => Ordering::Less,
                Ordering::Greater if sb < dst_scope => Ordering::Less,
                Ordering::Greater => Ordering::Greater,
                Ordering::Equal => Ordering::Equal,
            }
        })
        // Rule 3: avoid deprecated addresses.
        .then_with(|| prefer(a.preferred, b.preferred))
        // Rule 4: prefer home addresses.
        .then_with(|| compare_home(a, b))
        // Rule 5: prefer the outgoing interface.
        .then_with(|| match out_iface {
            Some(out) => prefer(a.iface == out, b.iface == out),
            None => Ordering::Equal,
        })
        // Rule 6: prefer matching label.
        .then_with(|| {
            prefer(
                labels_match(policy.label(&a.addr), dst_label),
                labels_match(policy.label(&b.addr), dst_label),
            )
        })
        // Rule 7: temporary over public, or the reverse when the caller asks (RFC 6724
        // makes temporary the default and requires a way to reverse it).
        .then_with(|| {
            if prefer_temporary {
                prefer(a.temporary, b.temporary)
            } else {
                prefer(!a.temporary, !b.temporary)
            }
        })
        // Rule 8: use the longest matching prefix.
        .then_with(|| capped_common_prefix_len(b, dst).cmp(&capped_common_prefix_len(a, dst)))
}

/// Rule 4 of §5 and of §6: an address that is both home and care-of beats one that is
/// not; a home-only address beats a care-of-only one. The RFC's pairwise wording says
/// nothing about an address that is neither (every address of a node without Mobile IPv6),
/// which makes it intransitive; this ranks such an address with the home-only ones, so the
/// source rules stay a total order and the choice does not depend on candidate order.
fn compare_home(a: &SourceCandidate, b: &SourceCandidate) -> Ordering {
    fn rank(c: &SourceCandidate) -> u8 {
        match (c.home, c.care_of) {
            (true, true) => 0,
            (_, false) => 1,
            (false, true) => 2,
        }
    }
    rank(a).cmp(&rank(b))
}

/// RFC 6724 §5: the source address for `dst`, or `None` when the candidate set (§4) is
/// empty. `out_iface` is the interface the route lookup chose (rule 5 and the §4 link
/// restriction; `None` skips both). `prefer_temporary` sets the sense of rule 7: RFC 6724
/// prefers temporary addresses and requires a way to prefer public ones; `false` prefers
/// public. When the rules tie, the earlier candidate in `candidates` wins.
pub fn select_source(
    dst: &Ipv6Addr,
    out_iface: Option<IfaceId>,
    candidates: &[SourceCandidate],
    policy: &PolicyTable,
    prefer_temporary: bool,
) -> Option<Ipv6Addr> {
    select_source_candidate(dst, out_iface, candidates, policy, prefer_temporary).map(|c| c.addr)
}

/// [`select_source`], giving the whole candidate (what [`DestInfo::source`] holds).
pub fn select_source_candidate<'a>(
    dst: &Ipv6Addr,
    out_iface: Option<IfaceId>,
    candidates: &'a [SourceCandidate],
    policy: &PolicyTable,
    prefer_temporary: bool,
) -> Option<&'a SourceCandidate> {
    let q = SourceQuery::new(dst, out_iface, policy, prefer_temporary);
    candidates
        .iter()
        .filter(|c| is_candidate(c, dst, q.dst_scope, out_iface))
        .fold(None, |best: Option<&SourceCandidate>, c| match best {
            Some(b) if compare_sources(c, b, &q) != Ordering::Less => Some(b),
            _ => Some(c),
        })
}

/// Compares two destinations by RFC 6724 §6 rules 1 to 9; `Less` means `a` goes first.
/// Rules that look at Source(D) are skipped when either source is undefined (rule 1 has
/// already put such a destination last unless both are undefined).
fn compare_destinations(a: &DestInfo, b: &DestInfo, policy: &PolicyTable) -> Ordering {
    let usable = |d: &DestInfo| d.source.is_some() && d.reachable != Some(false);
    let with_sources =
        |f: &dyn Fn(&SourceCandidate, &SourceCandidate) -> Ordering| match (&a.source, &b.source) {
            (Some(sa), Some(sb)) => f(sa, sb),
            _ => Ordering::Equal,
        };
    let (scope_a, scope_b) = (selection_scope(&a.addr), selection_scope(&b.addr));

    // Rule 1: avoid unusable destinations.
    prefer(usable(a), usable(b))
        // Rule 2: prefer matching scope.
        .then_with(|| {
            with_sources(&|sa, sb| {
                prefer(
                    scope_a == selection_scope(&sa.addr),
                    scope_b == selection_scope(&sb.addr),
                )
            })
        })
        // Rule 3: avoid deprecated addresses.
        .then_with(|| with_sources(&|sa, sb| prefer(sa.preferred, sb.preferred)))
        // Rule 4: prefer home addresses.
        .then_with(|| with_sources(&compare_home))
        // Rule 5: prefer matching label.
        .then_with(|| {
            with_sources(&|sa, sb| {
                prefer(
                    labels_match(policy.label(&sa.addr), policy.label(&a.addr)),
                    labels_match(policy.label(&sb.addr), policy.label(&b.addr)),
                )
            })
        })
        // Rule 6: prefer higher precedence.
        .then_with(|| policy.precedence(&b.addr).cmp(&policy.precedence(&a.addr)))
        // Rule 7: prefer native transport.
        .then_with(|| prefer(!a.encapsulated, !b.encapsulated))
        // Rule 8: prefer smaller scope.
        .then_with(|| scope_a.cmp(&scope_b))
        // Rule 9: longest matching prefix, only within one address family.
        .then_with(|| {
            if is_ipv4(&a.addr) != is_ipv4(&b.addr) {
                return Ordering::Equal;
            }
            with_sources(&|sa, sb| {
                capped_common_prefix_len(sb, &b.addr).cmp(&capped_common_prefix_len(sa, &a.addr))
            })
        })
}

/// RFC 6724 §6: orders `dsts` best first by rules 1 to 9; rule 10 (otherwise leave the
/// order unchanged) makes the sort stable.
///
/// Some of §6's pairwise rules are not transitive (rule 9 only compares within a family;
/// rules 2 to 5 are skipped for a destination without a source), so
/// this is a hand-written merge sort that never panics on such a comparison, where the
/// standard library's sort may. It is deterministic for a given input order.
pub fn sort_destinations(dsts: &mut Vec<DestInfo>, policy: &PolicyTable) {
    let n = dsts.len();
    let mut idx: Vec<usize> = (0..n).collect();
    let mut buf: Vec<usize> = vec![0; n];
    let mut width = 1usize;
    while width < n {
        let mut start = 0;
        while start < n {
            let mid = start.saturating_add(width).min(n);
            let end = mid.saturating_add(width).min(n);
            let (mut i, mut j, mut k) = (start, mid, start);
            while i < mid && j < end {
                // Take from the right run only when strictly better: that keeps it stable.
                if compare_destinations(&dsts[idx[j]], &dsts[idx[i]], policy) == Ordering::Less {
                    buf[k] = idx[j];
                    j += 1;
                } else {
                    buf[k] = idx[i];
                    i += 1;
                }
                k += 1;
            }
            buf[k..k + (mid - i)].copy_from_slice(&idx[i..mid]);
            k += mid - i;
            buf[k..k + (end - j)].copy_from_slice(&idx[j..end]);
            start = end;
        }
        std::mem::swap(&mut idx, &mut buf);
        width = width.saturating_mul(2);
    }
    let sorted: Vec<DestInfo> = idx.iter().map(|&i| dsts[i]).collect();
    *dsts = sorted;
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn a(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    /// An IPv4 address as the IPv4-mapped IPv6 address the selection works on.
    fn v4(s: &str) -> Ipv6Addr {
        s.parse::<std::net::Ipv4Addr>().unwrap().to_ipv6_mapped()
    }

    const IF1: IfaceId = IfaceId(1);

    fn cand(s: &str) -> SourceCandidate {
        SourceCandidate::new(a(s), IF1, 64)
    }

    fn cand4(s: &str, v4_prefix_len: u8) -> SourceCandidate {
        SourceCandidate::new(v4(s), IF1, 96 + v4_prefix_len)
    }

    fn deprecated(c: SourceCandidate) -> SourceCandidate {
        SourceCandidate {
            preferred: false,
            ..c
        }
    }

    fn pick(dst: &str, cands: &[SourceCandidate], prefer_temporary: bool) -> Option<Ipv6Addr> {
        select_source(
            &a(dst),
            None,
            cands,
            &PolicyTable::default(),
            prefer_temporary,
        )
    }

    /// Selects each destination's source as §6 says, sorts, and returns (dst, src) pairs.
    fn order(dsts: &[Ipv6Addr], srcs: &[SourceCandidate]) -> Vec<(Ipv6Addr, Option<Ipv6Addr>)> {
        let policy = PolicyTable::default();
        let mut list: Vec<DestInfo> = dsts
            .iter()
            .map(|d| {
                DestInfo::new(
                    *d,
                    select_source_candidate(d, Some(IF1), srcs, &policy, false).copied(),
                )
            })
            .collect();
        sort_destinations(&mut list, &policy);
        list.iter()
            .map(|d| (d.addr, d.source.map(|s| s.addr)))
            .collect()
    }

    /// Checks a §10.2 example in the RFC's input order and reversed, so that rule 10
    /// alone cannot pass it.
    fn check_order(dsts: [Ipv6Addr; 2], srcs: &[SourceCandidate], want: [(Ipv6Addr, Ipv6Addr); 2]) {
        let want: Vec<_> = want.iter().map(|(d, s)| (*d, Some(*s))).collect();
        assert_eq!(order(&dsts, srcs), want, "RFC order");
        assert_eq!(order(&[dsts[1], dsts[0]], srcs), want, "reversed input");
    }

    #[test]
    fn rfc6724_2_1_default_policy_table() {
        let t = PolicyTable::default();
        assert_eq!(t.entries().len(), 9);
        let cases = [
            ("::1", 50, 0),
            ("2001:db8::1", 40, 1),
            ("fe80::1", 40, 1),
            ("::ffff:10.1.2.3", 35, 4),
            ("2002:c633:6401::1", 30, 2),
            ("2001:0:4136:e378::1", 5, 5),
            ("fd00::1", 3, 13),
            ("fc00::1", 3, 13),
            ("::10.1.2.3", 1, 3),
            ("fec0::1", 1, 11),
            ("feff::1", 1, 11),
            ("3ffe::1", 1, 12),
        ];
        for (addr, precedence, label) in cases {
            assert_eq!(t.precedence(&a(addr)), precedence, "{addr}");
            assert_eq!(t.label(&a(addr)), Some(label), "{addr}");
        }
        // Longest row first.
        assert_eq!(t.entries()[0].prefix_len, 128);
        assert_eq!(t.entries()[8].prefix_len, 0);
    }

    #[test]
    fn rfc6724_2_1_policy_table_edits() {
        let mut t = PolicyTable::default();
        // RFC 6724 §10.3: raising ::ffff:0:0/96 prefers IPv4. Host bits get cleared.
        let old = t
            .insert(PolicyEntry::new(a("::ffff:1.2.3.4"), 96, 100, 4))
            .unwrap();
        assert_eq!(old, Some(PolicyEntry::new(a("::ffff:0:0"), 96, 35, 4)));
        assert_eq!(t.precedence(&v4("10.0.0.1")), 100);
        assert_eq!(t.entries().len(), 9);
        // RFC 6724 §10.4: a fe80::/10 row.
        assert_eq!(t.insert(PolicyEntry::new(a("fe80::"), 10, 33, 1)), Ok(None));
        assert_eq!(t.precedence(&a("fe80::1")), 33);
        assert_eq!(
            t.remove(&a("fe80::"), 10),
            Some(PolicyEntry::new(a("fe80::"), 10, 33, 1))
        );
        assert_eq!(t.remove(&a("fe80::"), 10), None);
        assert_eq!(t.precedence(&a("fe80::1")), 40);
        assert!(t.insert(PolicyEntry::new(a("::"), 129, 1, 1)).is_err());

        // No ::/0: an unmatched address has precedence 0 and matches no label.
        t.set([PolicyEntry::new(a("2001:db8::"), 32, 7, 9)])
            .unwrap();
        assert_eq!(t.entries().len(), 1);
        assert_eq!(t.precedence(&a("3000::1")), 0);
        assert_eq!(t.label(&a("3000::1")), None);
        assert_eq!(
            select_source(
                &a("3000::1"),
                None,
                &[cand("3000::2"), cand("3001::2")],
                &t,
                false
            ),
            Some(a("3000::2"))
        );
        // A failed set leaves the table alone.
        assert!(t.set([PolicyEntry::new(a("::"), 200, 1, 1)]).is_err());
        assert_eq!(t.entries().len(), 1);
    }

    #[test]
    fn rfc6724_2_2_common_prefix_len() {
        assert_eq!(common_prefix_len(&a("fe80::1"), &a("fe80::2")), 126);
        assert_eq!(common_prefix_len(&a("::1"), &a("::1")), 128);
        assert_eq!(common_prefix_len(&a("::"), &a("8000::")), 0);
        assert_eq!(
            common_prefix_len(&a("2001:db8:1::"), &a("2001:db8:3::")),
            46
        );
        // §2.2: capped at the source's prefix length.
        assert_eq!(
            capped_common_prefix_len(&cand("fe80::1"), &a("fe80::2")),
            64
        );
    }

    #[test]
    fn rfc6724_3_scopes() {
        assert_eq!(selection_scope(&a("::1")), Scope::LinkLocal);
        assert_eq!(selection_scope(&a("fe80::1")), Scope::LinkLocal);
        assert_eq!(selection_scope(&a("fec0::1")), Scope::SiteLocal);
        assert_eq!(selection_scope(&a("fd00::1")), Scope::Global);
        assert_eq!(selection_scope(&a("ff05::1")), Scope::SiteLocal);
        assert_eq!(selection_scope(&a("ff01::1")), Scope::InterfaceLocal);
        // §3.2: IPv4.
        assert_eq!(selection_scope(&v4("169.254.13.78")), Scope::LinkLocal);
        assert_eq!(selection_scope(&v4("127.0.0.1")), Scope::LinkLocal);
        assert_eq!(selection_scope(&v4("10.1.2.3")), Scope::Global);
        assert_eq!(selection_scope(&v4("198.51.100.121")), Scope::Global);
    }

    // RFC 6724 §10.1. The result printed for example 1 is 2001:db8::1, not a candidate;
    // the candidate meant is 2001:db8:3::1.
    #[test]
    fn rfc6724_10_1_example_1() {
        let c = [cand("2001:db8:3::1"), cand("fe80::1")];
        assert_eq!(pick("2001:db8:1::1", &c, false), Some(a("2001:db8:3::1")));
    }

    #[test]
    fn rfc6724_10_1_example_2() {
        let c = [cand("2001:db8:3::1"), cand("fe80::1")];
        assert_eq!(pick("ff05::1", &c, false), Some(a("2001:db8:3::1")));
        // With the outgoing interface given, §4 keeps the multicast source on it.
        let policy = PolicyTable::default();
        assert_eq!(
            select_source(&a("ff05::1"), Some(IF1), &c, &policy, false),
            Some(a("2001:db8:3::1"))
        );
    }

    #[test]
    fn rfc6724_10_1_example_3() {
        // Rule 1 beats rule 3.
        let c = [deprecated(cand("2001:db8:1::1")), cand("2001:db8:2::1")];
        assert_eq!(pick("2001:db8:1::1", &c, false), Some(a("2001:db8:1::1")));
    }

    #[test]
    fn rfc6724_10_1_example_4() {
        // Rule 2 beats rule 3.
        let c = [deprecated(cand("fe80::2")), cand("2001:db8:1::1")];
        assert_eq!(pick("fe80::1", &c, false), Some(a("fe80::2")));
    }

    #[test]
    fn rfc6724_10_1_example_5() {
        let c = [cand("2001:db8:3::2"), cand("2001:db8:1::2")];
        assert_eq!(pick("2001:db8:1::1", &c, false), Some(a("2001:db8:1::2")));
        let c = [cand("2001:db8:1::2"), cand("2001:db8:3::2")];
        assert_eq!(pick("2001:db8:1::1", &c, false), Some(a("2001:db8:1::2")));
    }

    #[test]
    fn rfc6724_10_1_example_6() {
        // Rule 4 beats rule 8, which alone would pick the care-of address.
        let c = [
            SourceCandidate {
                care_of: true,
                ..cand("2001:db8:1::2")
            },
            SourceCandidate {
                home: true,
                ..cand("2001:db8:3::2")
            },
        ];
        assert_eq!(pick("2001:db8:1::1", &c, false), Some(a("2001:db8:3::2")));
    }

    #[test]
    fn rfc6724_10_1_example_7() {
        // Rule 6 beats rule 7 whichever sense rule 7 has.
        let c = [
            SourceCandidate {
                temporary: true,
                ..cand("2002:c633:6401::d5e3:7953:13eb:22e8")
            },
            cand("2001:db8:1::2"),
        ];
        let want = Some(a("2002:c633:6401::d5e3:7953:13eb:22e8"));
        assert_eq!(pick("2002:c633:6401::1", &c, false), want);
        assert_eq!(pick("2002:c633:6401::1", &c, true), want);
    }

    #[test]
    fn rfc6724_10_1_example_8() {
        let c = [
            cand("2001:db8:1::2"),
            SourceCandidate {
                temporary: true,
                ..cand("2001:db8:1::d5e3:7953:13eb:22e8")
            },
        ];
        // The RFC's result is with rule 7 in its default sense, preferring temporary.
        assert_eq!(
            pick("2001:db8:1::d5e3:0:0:1", &c, true),
            Some(a("2001:db8:1::d5e3:7953:13eb:22e8"))
        );
        // Reversed, the public address wins (both share 64 bits, so rule 8 ties).
        assert_eq!(
            pick("2001:db8:1::d5e3:0:0:1", &c, false),
            Some(a("2001:db8:1::2"))
        );
    }

    #[test]
    fn rfc6724_5_rule3_avoid_deprecated() {
        let c = [deprecated(cand("2001:db8:1::2")), cand("2001:db8:1::3")];
        assert_eq!(pick("2001:db8:1::1", &c, false), Some(a("2001:db8:1::3")));
    }

    #[test]
    fn rfc6724_5_rule4_both_home_and_care_of_first() {
        let c = [
            SourceCandidate {
                home: true,
                ..cand("2001:db8:1::2")
            },
            SourceCandidate {
                home: true,
                care_of: true,
                ..cand("2001:db8:2::2")
            },
        ];
        assert_eq!(pick("2001:db8:1::1", &c, false), Some(a("2001:db8:2::2")));
    }

    #[test]
    fn rfc6724_5_rule4_neither_ranks_with_home() {
        let care_of = SourceCandidate {
            care_of: true,
            ..cand("2001:db8:1::2")
        };
        let home = SourceCandidate {
            home: true,
            ..cand("2001:db8:3::2")
        };
        let neither = cand("2001:db8:2::2");
        // Rule 8 alone would prefer the care-of address (64 bits shared) each time.
        for c in [
            [care_of, home, neither],
            [neither, care_of, home],
            [home, neither, care_of],
            [care_of, neither, home],
        ] {
            let got = pick("2001:db8:1::1", &c, false);
            assert_ne!(got, Some(a("2001:db8:1::2")), "{c:?}");
        }
        // Between home-only and neither, rule 8 decides.
        assert_eq!(
            pick("2001:db8:2::1", &[home, neither], false),
            Some(a("2001:db8:2::2"))
        );
    }

    #[test]
    fn rfc6724_5_rule5_prefer_outgoing_interface() {
        let policy = PolicyTable::default();
        let c = [
            cand("2001:db8:1::2"),
            SourceCandidate::new(a("2001:db8:2::2"), IfaceId(2), 64),
        ];
        // Rule 8 would pick 2001:db8:1::2; rule 5 picks the address on interface 2.
        assert_eq!(
            select_source(&a("2001:db8:1::1"), Some(IfaceId(2)), &c, &policy, false),
            Some(a("2001:db8:2::2"))
        );
        assert_eq!(
            select_source(&a("2001:db8:1::1"), None, &c, &policy, false),
            Some(a("2001:db8:1::2"))
        );
    }

    #[test]
    fn rfc6724_4_candidate_set() {
        let policy = PolicyTable::default();
        // A link-local destination only takes a source on the outgoing interface.
        let c = [
            cand("fe80::2"),
            SourceCandidate::new(a("fe80::3"), IfaceId(2), 64),
        ];
        assert_eq!(
            select_source(&a("fe80::1"), Some(IfaceId(2)), &c, &policy, false),
            Some(a("fe80::3"))
        );
        assert_eq!(
            select_source(&a("fe80::1"), Some(IfaceId(3)), &c, &policy, false),
            None
        );
        // Multicast and unspecified are never candidates; families do not mix.
        let c = [cand("ff02::1"), cand("::"), cand4("10.1.2.4", 8)];
        assert_eq!(pick("2001:db8::1", &c, false), None);
        assert_eq!(pick("::ffff:10.1.2.3", &c, false), Some(v4("10.1.2.4")));
        assert_eq!(pick("2001:db8::1", &[], false), None);
    }

    #[test]
    fn rfc6724_5_site_local_fec0_sources() {
        let c = [cand("2001:db8:1::2"), cand("fe80::2"), cand("fec0::2")];
        // Rule 2: the smallest scope that still reaches site scope.
        assert_eq!(pick("fec0::1", &c, false), Some(a("fec0::2")));
        assert_eq!(pick("ff05::1", &c, false), Some(a("fec0::2")));
        // A global destination takes the global source, a link-local one the link-local.
        assert_eq!(pick("2001:db8:9::1", &c, false), Some(a("2001:db8:1::2")));
        assert_eq!(pick("fe80::1", &c, false), Some(a("fe80::2")));
        // Without a site-local source, link-local scope is too small for a site-local
        // destination, so the global address is chosen.
        let c = [cand("fe80::2"), cand("2001:db8:1::2")];
        assert_eq!(pick("fec0::1", &c, false), Some(a("2001:db8:1::2")));
        // fec0::/10 covers feff::.
        let c = [cand("2001:db8:1::2"), cand("feff::2")];
        assert_eq!(pick("fec0:1::1", &c, false), Some(a("feff::2")));
    }

    #[test]
    fn rfc6724_6_site_local_fec0_destinations() {
        let srcs = [cand("fec0::2"), cand("2001:db8:1::2"), cand("fe80::2")];
        // Both have matching scope and label; rule 6 puts fec0::/10 (precedence 1) after
        // ::/0 (40) although rule 8 would put the smaller site scope first.
        check_order(
            [a("fec0::1"), a("2001:db8:1::1")],
            &srcs,
            [
                (a("2001:db8:1::1"), a("2001:db8:1::2")),
                (a("fec0::1"), a("fec0::2")),
            ],
        );
        // With no site-local source, fec0::1 goes out from the global address: scope
        // mismatch, so rule 2 puts it after the link-local destination.
        let srcs = [cand("2001:db8:1::2"), cand("fe80::2")];
        check_order(
            [a("fec0::1"), a("fe80::1")],
            &srcs,
            [
                (a("fe80::1"), a("fe80::2")),
                (a("fec0::1"), a("2001:db8:1::2")),
            ],
        );
    }

    #[test]
    fn rfc6724_10_2_example_1() {
        let srcs = [
            cand("2001:db8:1::2"),
            cand("fe80::1"),
            cand4("169.254.13.78", 16),
        ];
        check_order(
            [a("2001:db8:1::1"), v4("198.51.100.121")],
            &srcs,
            [
                (a("2001:db8:1::1"), a("2001:db8:1::2")),
                (v4("198.51.100.121"), v4("169.254.13.78")),
            ],
        );
    }

    #[test]
    fn rfc6724_10_2_example_2() {
        let srcs = [cand("fe80::1"), cand4("198.51.100.117", 24)];
        check_order(
            [a("2001:db8:1::1"), v4("198.51.100.121")],
            &srcs,
            [
                (v4("198.51.100.121"), v4("198.51.100.117")),
                (a("2001:db8:1::1"), a("fe80::1")),
            ],
        );
    }

    #[test]
    fn rfc6724_10_2_example_3() {
        let srcs = [cand("2001:db8:1::2"), cand("fe80::1"), cand4("10.1.2.4", 8)];
        check_order(
            [a("2001:db8:1::1"), v4("10.1.2.3")],
            &srcs,
            [
                (a("2001:db8:1::1"), a("2001:db8:1::2")),
                (v4("10.1.2.3"), v4("10.1.2.4")),
            ],
        );
    }

    #[test]
    fn rfc6724_10_2_example_4() {
        let srcs = [cand("2001:db8:1::2"), cand("fe80::2")];
        check_order(
            [a("2001:db8:1::1"), a("fe80::1")],
            &srcs,
            [
                (a("fe80::1"), a("fe80::2")),
                (a("2001:db8:1::1"), a("2001:db8:1::2")),
            ],
        );
    }

    #[test]
    fn rfc6724_10_2_example_5() {
        let srcs = [
            SourceCandidate {
                care_of: true,
                ..cand("2001:db8:1::2")
            },
            SourceCandidate {
                home: true,
                ..cand("2001:db8:3::1")
            },
            SourceCandidate {
                care_of: true,
                ..cand("fe80::2")
            },
        ];
        check_order(
            [a("2001:db8:1::1"), a("fe80::1")],
            &srcs,
            [
                (a("2001:db8:1::1"), a("2001:db8:3::1")),
                (a("fe80::1"), a("fe80::2")),
            ],
        );
    }

    #[test]
    fn rfc6724_10_2_example_6() {
        let srcs = [cand("2001:db8:1::2"), deprecated(cand("fe80::2"))];
        check_order(
            [a("2001:db8:1::1"), a("fe80::1")],
            &srcs,
            [
                (a("2001:db8:1::1"), a("2001:db8:1::2")),
                (a("fe80::1"), a("fe80::2")),
            ],
        );
    }

    #[test]
    fn rfc6724_10_2_example_7() {
        let srcs = [
            cand("2001:db8:1::2"),
            cand("2001:db8:3f44::2"),
            cand("fe80::2"),
        ];
        check_order(
            [a("2001:db8:1::1"), a("2001:db8:3ffe::1")],
            &srcs,
            [
                (a("2001:db8:1::1"), a("2001:db8:1::2")),
                (a("2001:db8:3ffe::1"), a("2001:db8:3f44::2")),
            ],
        );
    }

    #[test]
    fn rfc6724_10_2_example_8() {
        let srcs = [cand("2002:c633:6401::2"), cand("fe80::2")];
        check_order(
            [a("2002:c633:6401::1"), a("2001:db8:1::1")],
            &srcs,
            [
                (a("2002:c633:6401::1"), a("2002:c633:6401::2")),
                (a("2001:db8:1::1"), a("2002:c633:6401::2")),
            ],
        );
    }

    #[test]
    fn rfc6724_10_2_example_9() {
        let srcs = [
            cand("2002:c633:6401::2"),
            cand("2001:db8:1::2"),
            cand("fe80::2"),
        ];
        check_order(
            [a("2002:c633:6401::1"), a("2001:db8:1::1")],
            &srcs,
            [
                (a("2001:db8:1::1"), a("2001:db8:1::2")),
                (a("2002:c633:6401::1"), a("2002:c633:6401::2")),
            ],
        );
    }

    #[test]
    fn rfc6724_6_rule1_unusable_last_and_rule10_stable() {
        let policy = PolicyTable::default();
        let s = cand("2001:db8:1::2");
        let mut list = vec![
            DestInfo::new(a("2001:db8:1::1"), None),
            DestInfo {
                reachable: Some(false),
                ..DestInfo::new(a("2001:db8:1::3"), Some(s))
            },
            DestInfo::new(a("2001:db8:1::4"), Some(s)),
            DestInfo::new(a("2001:db8:1::5"), Some(s)),
            DestInfo {
                reachable: Some(true),
                ..DestInfo::new(a("2001:db8:1::6"), Some(s))
            },
        ];
        sort_destinations(&mut list, &policy);
        let got: Vec<_> = list.iter().map(|d| d.addr).collect();
        assert_eq!(
            got,
            [
                a("2001:db8:1::4"),
                a("2001:db8:1::5"),
                a("2001:db8:1::6"),
                a("2001:db8:1::1"),
                a("2001:db8:1::3"),
            ]
        );
        let mut empty = Vec::new();
        sort_destinations(&mut empty, &policy);
        assert!(empty.is_empty());
    }

    #[test]
    fn rfc6724_6_rule7_prefer_native_transport() {
        let policy = PolicyTable::default();
        let s = cand("2001:db8:1::2");
        let mut list = vec![
            DestInfo {
                encapsulated: true,
                ..DestInfo::new(a("2001:db8:1::1"), Some(s))
            },
            DestInfo::new(a("2001:db8:9::1"), Some(s)),
        ];
        sort_destinations(&mut list, &policy);
        assert_eq!(list[0].addr, a("2001:db8:9::1"));
        assert_eq!(list[1].addr, a("2001:db8:1::1"));
    }

    fn arb_addr() -> impl Strategy<Value = Ipv6Addr> {
        let bases = prop::sample::select(vec![
            a("2001:db8::"),
            a("fe80::"),
            a("fec0::"),
            a("ff02::"),
            a("ff05::"),
            a("2002:c633:6401::"),
            a("::ffff:169.254.0.0"),
            a("::ffff:10.0.0.0"),
            a("::1"),
            a("::"),
            a("fd00::"),
        ]);
        (bases, any::<u64>(), 0u32..=128).prop_map(|(b, r, shift)| {
            let low = u128::from(r).checked_shr(shift).unwrap_or(0);
            Ipv6Addr::from(u128::from(b) ^ low)
        })
    }

    fn arb_cand() -> impl Strategy<Value = SourceCandidate> {
        (arb_addr(), 0u32..3, any::<[bool; 4]>(), any::<u8>()).prop_map(|(addr, i, f, len)| {
            SourceCandidate {
                addr,
                iface: IfaceId(i),
                preferred: f[0],
                temporary: f[1],
                home: f[2],
                care_of: f[3],
                prefix_len: len,
            }
        })
    }

    proptest! {
        #[test]
        fn select_source_picks_an_admissible_candidate(
            dst in arb_addr(),
            out in prop::option::of(0u32..3),
            cands in prop::collection::vec(arb_cand(), 0..12),
            temp in any::<bool>(),
        ) {
            let policy = PolicyTable::default();
            let out = out.map(IfaceId);
            let got = select_source_candidate(&dst, out, &cands, &policy, temp);
            let q = SourceQuery::new(&dst, out, &policy, temp);
            let scope = q.dst_scope;
            let admissible: Vec<_> =
                cands.iter().filter(|c| is_candidate(c, &dst, scope, out)).collect();
            match got {
                None => prop_assert!(admissible.is_empty()),
                Some(c) => {
                    prop_assert!(admissible.contains(&c));
                    // The rules are a total order: reversing the list changes at most
                    // which of several equally good candidates wins.
                    let rev: Vec<SourceCandidate> = cands.iter().rev().copied().collect();
                    let r = select_source_candidate(&dst, out, &rev, &policy, temp);
                    prop_assert!(r.is_some());
                    if let Some(r) = r {
                        prop_assert_eq!(
                            compare_sources(r, c, &q),
                            Ordering::Equal
                        );
                    }
                    // No admissible candidate is strictly better than the one chosen.
                    for o in &admissible {
                        prop_assert_ne!(
                            compare_sources(o, c, &q),
                            Ordering::Less
                        );
                    }
                }
            }
        }

        #[test]
        fn sort_destinations_is_a_permutation_with_usable_first(
            dsts in prop::collection::vec(
                (arb_addr(), prop::option::of(arb_cand()), prop::option::of(any::<bool>()), any::<bool>()),
                0..24,
            ),
        ) {
            let policy = PolicyTable::default();
            let mut list: Vec<DestInfo> = dsts
                .iter()
                .map(|(addr, source, reachable, encapsulated)| DestInfo {
                    addr: *addr,
                    source: *source,
                    reachable: *reachable,
                    encapsulated: *encapsulated,
                })
                .collect();
            let before = list.clone();
            sort_destinations(&mut list, &policy);
            prop_assert_eq!(list.len(), before.len());
            let key = |d: &DestInfo| format!("{d:?}");
            let mut x: Vec<_> = before.iter().map(key).collect();
            let mut y: Vec<_> = list.iter().map(key).collect();
            x.sort();
            y.sort();
            prop_assert_eq!(x, y);
            // Rule 1 comes first and is a total order, so usable destinations lead.
            let usable: Vec<bool> = list
                .iter()
                .map(|d| d.source.is_some() && d.reachable != Some(false))
                .collect();
            prop_assert!(usable.windows(2).all(|w| w[0] || !w[1]));
        }
    }
}
