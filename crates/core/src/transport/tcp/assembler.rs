//! Out-of-order data waiting for the hole before it to fill (RFC 9293 §3.10.7.4, "segment
//! text"): a short sorted list of disjoint ranges. Bounded twice: the caller only inserts
//! what lies inside the receive window, and past `max_ranges` the range furthest from
//! RCV.NXT is dropped.

use std::collections::VecDeque;

use sixstack_wire::tcp::SeqNumber;

#[derive(Debug, Clone, Default)]
pub(crate) struct Assembler {
    /// Disjoint, non-adjacent, sorted by sequence number from RCV.NXT on.
    ranges: VecDeque<(SeqNumber, Vec<u8>)>,
    max_ranges: usize,
}

impl Assembler {
    pub(crate) fn new(max_ranges: usize) -> Self {
        Self {
            ranges: VecDeque::new(),
            max_ranges: max_ranges.max(1),
        }
    }

    /// Adds `data` at `seq`, which lies after `rcv_nxt`; overlaps keep the bytes held
    /// first. Returns the range now holding `seq` (left, right), for SACK reporting.
    pub(crate) fn insert(
        &mut self,
        rcv_nxt: SeqNumber,
        seq: SeqNumber,
        data: &[u8],
    ) -> Option<(SeqNumber, SeqNumber)> {
        if data.is_empty() || seq - rcv_nxt <= 0 {
            return None;
        }
        let len = u32::try_from(data.len()).ok()?;
        let mut left = seq;
        let mut right = seq + len;
        // Ranges touching [left, right] merge into one.
        let first = self
            .ranges
            .iter()
            .position(|(s, d)| *s + d.len() as u32 - left >= 0);
        let mut merged: Vec<(SeqNumber, Vec<u8>)> = Vec::new();
        let at = first.unwrap_or(self.ranges.len());
        while let Some((s, _)) = self.ranges.get(at) {
            if *s - right > 0 {
                break;
            }
            if let Some(r) = self.ranges.remove(at) {
                merged.push(r);
            }
        }
        for (s, d) in &merged {
            left = left.min(*s);
            right = right.max(*s + d.len() as u32);
        }
        let total = (right - left).max(0) as usize;
        let mut buf = vec![0u8; total];
        let off = (seq - left).max(0) as usize;
        buf[off..off + data.len()].copy_from_slice(data);
        for (s, d) in &merged {
            let o = (*s - left).max(0) as usize;
            buf[o..o + d.len()].copy_from_slice(d);
        }
        self.ranges.insert(at, (left, buf));
        while self.ranges.len() > self.max_ranges {
            self.ranges.pop_back();
        }
        let (l, d) = self.ranges.get(at)?;
        Some((*l, *l + d.len() as u32))
    }

    /// Takes the data that now starts at or before `rcv_nxt`, trimmed to begin there.
    pub(crate) fn pop_ready(&mut self, rcv_nxt: SeqNumber) -> Option<Vec<u8>> {
        loop {
            let (s, d) = self.ranges.front()?;
            let end = *s + d.len() as u32;
            if *s - rcv_nxt > 0 {
                return None;
            }
            let (s, mut d) = self.ranges.pop_front()?;
            if end - rcv_nxt <= 0 {
                // Wholly old: already delivered through another copy.
                continue;
            }
            let skip = (rcv_nxt - s).max(0) as usize;
            d.drain(..skip);
            return Some(d);
        }
    }

    /// Bytes held.
    pub(crate) fn bytes(&self) -> usize {
        self.ranges.iter().map(|(_, d)| d.len()).sum()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub(crate) fn clear(&mut self) {
        self.ranges.clear();
    }

    /// The highest sequence number held, plus one.
    #[cfg(test)]
    pub(crate) fn right_edge(&self) -> Option<SeqNumber> {
        self.ranges.back().map(|(s, d)| *s + d.len() as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc9293_3_10_7_4_out_of_order_merged_then_released() {
        let mut a = Assembler::new(8);
        let base = SeqNumber(1000);
        assert_eq!(
            a.insert(base, base + 10, b"klm"),
            Some((base + 10, base + 13))
        );
        assert_eq!(
            a.insert(base, base + 5, b"fghij"),
            Some((base + 5, base + 13))
        );
        assert_eq!(
            a.insert(base, base + 20, b"uv"),
            Some((base + 20, base + 22))
        );
        assert_eq!(a.pop_ready(base), None);
        // Overlapping copy: the bytes held first win.
        assert_eq!(
            a.insert(base, base + 8, b"XXXXXXX"),
            Some((base + 5, base + 15))
        );
        assert_eq!(a.bytes(), 12);
        assert_eq!(a.pop_ready(base + 6).as_deref(), Some(&b"ghijklmXX"[..]));
        assert_eq!(a.right_edge(), Some(base + 22));
        assert_eq!(a.pop_ready(base + 15), None);
        assert_eq!(a.insert(base, base, b"no"), None);
    }

    #[test]
    fn range_limit_drops_the_furthest() {
        let mut a = Assembler::new(2);
        let base = SeqNumber(u32::MAX - 3);
        a.insert(base, base + 2, b"a");
        a.insert(base, base + 6, b"b");
        a.insert(base, base + 4, b"c");
        assert_eq!(a.right_edge(), Some(base + 5));
        assert_eq!(a.bytes(), 2);
    }
}
