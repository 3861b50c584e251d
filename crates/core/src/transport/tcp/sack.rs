//! Selective acknowledgment (RFC 2018) and the loss recovery that uses it (RFC 6675).
//!
//! Two sides, both pure bookkeeping over sequence numbers:
//! - [`Scoreboard`], the sender's: which octets between SND.UNA and SND.NXT the peer has
//!   SACKed, and from that RFC 6675's IsLost, SetPipe and NextSeg (rules 1 and 3).
//! - [`ReceivedBlocks`], the receiver's: the out-of-order blocks it holds, most recent first,
//!   which become the SACK option's blocks (RFC 2018 §4).
//!
//! Sequence numbers wrap (RFC 9293 §3.4): everything here is compared relative to SND.UNA
//! (or RCV.NXT), never as plain integers, and assumes the window is below 2^31.

use sixstack_wire::tcp::SeqNumber;

/// The sender's scoreboard limits and RFC 6675 constants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScoreboardConfig {
    /// RFC 6675 §2 DupThresh: 3.
    pub dup_thresh: u32,
    /// Most SACKed ranges kept. Past it, the highest ranges are dropped: the holes closest
    /// to SND.UNA are the ones to repair first and their loss detection depends on the
    /// ranges just above them; forgetting a high range only makes the sender count those
    /// octets as in flight (conservative) and perhaps resend them. A receiver repeats its
    /// most recent blocks, so lost information comes back.
    pub max_ranges: usize,
}

impl Default for ScoreboardConfig {
    fn default() -> Self {
        Self {
            dup_thresh: 3,
            max_ranges: 64,
        }
    }
}

/// RFC 6675 §3's scoreboard: the SACKed ranges above SND.UNA, sorted from SND.UNA up,
/// disjoint and not adjacent (touching ranges are merged), each non-empty, at most
/// [`ScoreboardConfig::max_ranges`] of them.
///
/// `high_rxt` arguments are one past the highest octet retransmitted in the current
/// recovery (like SND.NXT is one past the highest sent); pass `snd_una` when nothing has
/// been retransmitted. Octets in `[snd_una, high_rxt)` count as retransmitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scoreboard {
    config: ScoreboardConfig,
    ranges: Vec<(SeqNumber, SeqNumber)>,
}

impl Default for Scoreboard {
    fn default() -> Self {
        Self::new()
    }
}

/// A range as offsets from SND.UNA, `lo < hi`.
type Span = (u32, u32);

impl Scoreboard {
    pub fn new() -> Self {
        Self::with_config(ScoreboardConfig::default())
    }

    pub fn with_config(config: ScoreboardConfig) -> Self {
        Self {
            config,
            ranges: Vec::new(),
        }
    }

    pub fn config(&self) -> &ScoreboardConfig {
        &self.config
    }

    /// The SACKed ranges, `[left, right)`, lowest first.
    pub fn ranges(&self) -> &[(SeqNumber, SeqNumber)] {
        &self.ranges
    }

    /// Takes an ACK's SACK blocks `[left, right)`. Blocks that are empty or reversed,
    /// lie wholly at or below `snd_una` (including RFC 2883 D-SACK blocks), or reach
    /// beyond `snd_nxt` (data never sent) are ignored; a block straddling `snd_una` is
    /// clipped to it. Ranges now at or below `snd_una` are dropped, and ranges beyond
    /// `snd_nxt` clipped (the caller may have pulled SND.NXT back after a timeout).
    pub fn update(
        &mut self,
        snd_una: SeqNumber,
        snd_nxt: SeqNumber,
        blocks: &[(SeqNumber, SeqNumber)],
    ) {
        let Some(window) = window(snd_una, snd_nxt) else {
            // SND.NXT behind SND.UNA or 2^31 away: no scoreboard can be right.
            self.ranges.clear();
            return;
        };
        let mut spans: Vec<Span> = self
            .ranges
            .iter()
            .filter_map(|&(l, r)| clip(l, r, snd_una, window))
            .collect();
        for &(l, r) in blocks {
            if r.diff(l) <= 0 || r.diff(snd_una) > window as i32 {
                continue;
            }
            if let Some(s) = clip(l, r, snd_una, window) {
                spans.push(s);
            }
        }
        spans.sort_unstable();
        let mut merged: Vec<Span> = Vec::with_capacity(spans.len().min(self.config.max_ranges));
        for (lo, hi) in spans {
            match merged.last_mut() {
                Some(last) if lo <= last.1 => last.1 = last.1.max(hi),
                _ => merged.push((lo, hi)),
            }
        }
        // The bound of ScoreboardConfig::max_ranges: the highest ranges go.
        merged.truncate(self.config.max_ranges);
        self.ranges.clear();
        self.ranges.extend(
            merged
                .into_iter()
                .map(|(lo, hi)| (snd_una + lo, snd_una + hi)),
        );
    }

    pub fn is_sacked(&self, seq: SeqNumber) -> bool {
        self.ranges
            .iter()
            .any(|&(l, r)| seq.in_window(l, r.0.wrapping_sub(l.0)))
    }

    /// RFC 6675 §4 IsLost(SeqNum): DupThresh SACKed ranges wholly above `seq`, or more than
    /// (DupThresh − 1) × SMSS SACKed octets above it. The scoreboard merges ranges, so
    /// DupThresh contiguous SACKed segments count through the octet rule (3 full segments
    /// are more than 2 × SMSS). A SACKed octet is not lost.
    pub fn is_lost(&self, seq: SeqNumber, mss: u32) -> bool {
        if self.is_sacked(seq) {
            return false;
        }
        let (mut count, mut bytes) = (0u32, 0u64);
        for &(l, r) in &self.ranges {
            if l.diff(seq) > 0 {
                count += 1;
                bytes += u64::from(r.0.wrapping_sub(l.0));
            }
        }
        self.lost_threshold_reached(count, bytes, mss)
    }

    /// RFC 6675 §4 SetPipe: the octets between `snd_una` and `snd_nxt` that are not SACKed,
    /// counted once if not lost and once more if retransmitted (below `high_rxt`).
    pub fn pipe(
        &self,
        snd_una: SeqNumber,
        snd_nxt: SeqNumber,
        high_rxt: SeqNumber,
        mss: u32,
    ) -> u32 {
        let Some(window) = window(snd_una, snd_nxt) else {
            return 0;
        };
        let rxt = offset_in(high_rxt, snd_una, window);
        let boundary = self.lost_boundary(snd_una, window, mss);
        let not_lost = self.unsacked(snd_una, window, boundary, window);
        let retransmitted = self.unsacked(snd_una, window, 0, rxt);
        not_lost.saturating_add(retransmitted)
    }

    /// RFC 6675 §4 NextSeg rule 1, then rule 3: the segment to retransmit, as its first
    /// sequence number and length (at most `mss`, never covering SACKed octets). A caller
    /// that has new data to send must try rule 2 between the two: call
    /// [`next_lost_seg`](Self::next_lost_seg), then send new data, then
    /// [`next_unsacked_seg`](Self::next_unsacked_seg). Rule 4 (the rescue retransmission)
    /// is not done.
    pub fn next_seg(
        &self,
        snd_una: SeqNumber,
        snd_nxt: SeqNumber,
        high_rxt: SeqNumber,
        mss: u32,
    ) -> Option<(SeqNumber, u32)> {
        self.next_lost_seg(snd_una, snd_nxt, high_rxt, mss)
            .or_else(|| self.next_unsacked_seg(snd_una, snd_nxt, high_rxt, mss))
    }

    /// NextSeg rule 1: the lowest unSACKed octet at or above `high_rxt` that IsLost.
    pub fn next_lost_seg(
        &self,
        snd_una: SeqNumber,
        snd_nxt: SeqNumber,
        high_rxt: SeqNumber,
        mss: u32,
    ) -> Option<(SeqNumber, u32)> {
        let window = window(snd_una, snd_nxt)?;
        let boundary = self.lost_boundary(snd_una, window, mss);
        self.first_hole(snd_una, snd_nxt, high_rxt, mss, boundary)
    }

    /// NextSeg rule 3: the lowest unSACKed octet at or above `high_rxt` below the highest
    /// SACKed octet, lost or not.
    pub fn next_unsacked_seg(
        &self,
        snd_una: SeqNumber,
        snd_nxt: SeqNumber,
        high_rxt: SeqNumber,
        mss: u32,
    ) -> Option<(SeqNumber, u32)> {
        let window = window(snd_una, snd_nxt)?;
        let top = self.spans(snd_una, window).next_back().map_or(0, |s| s.0);
        self.first_hole(snd_una, snd_nxt, high_rxt, mss, top)
    }

    pub fn sacked_bytes(&self) -> u32 {
        self.ranges.iter().fold(0u32, |sum, &(l, r)| {
            sum.saturating_add(r.0.wrapping_sub(l.0))
        })
    }

    /// One past the highest SACKed octet (the right edge of the highest range).
    pub fn highest_sacked(&self) -> Option<SeqNumber> {
        self.ranges.last().map(|&(_, r)| r)
    }

    pub fn clear(&mut self) {
        self.ranges.clear();
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    fn lost_threshold_reached(&self, count: u32, bytes: u64, mss: u32) -> bool {
        let dup = self.config.dup_thresh;
        count >= dup || bytes > u64::from(dup.saturating_sub(1)) * u64::from(mss)
    }

    /// The stored ranges as offsets from `snd_una`, clipped to the window, in order.
    fn spans(&self, snd_una: SeqNumber, window: u32) -> impl DoubleEndedIterator<Item = Span> {
        self.ranges
            .iter()
            .filter_map(move |&(l, r)| clip(l, r, snd_una, window))
    }

    /// The offset below which every unSACKed octet IsLost, and at or above which none is:
    /// the left edge of the range at which the ranges counted from the top first meet the
    /// threshold (IsLost only grows as the octet considered goes down).
    fn lost_boundary(&self, snd_una: SeqNumber, window: u32, mss: u32) -> u32 {
        let (mut count, mut bytes) = (0u32, 0u64);
        for (lo, hi) in self.spans(snd_una, window).rev() {
            count += 1;
            bytes += u64::from(hi - lo);
            if self.lost_threshold_reached(count, bytes, mss) {
                return lo;
            }
        }
        0
    }

    /// UnSACKed octets in `[from, to)` (offsets).
    fn unsacked(&self, snd_una: SeqNumber, window: u32, from: u32, to: u32) -> u32 {
        if to <= from {
            return 0;
        }
        let sacked = self.spans(snd_una, window).fold(0u32, |sum, (lo, hi)| {
            sum.saturating_add(hi.min(to).saturating_sub(lo.max(from)))
        });
        (to - from).saturating_sub(sacked)
    }

    /// The lowest unSACKed octet at or above `high_rxt` if it is below `limit` (an
    /// offset), with the length up to the next SACKed range, at most `mss`.
    fn first_hole(
        &self,
        snd_una: SeqNumber,
        snd_nxt: SeqNumber,
        high_rxt: SeqNumber,
        mss: u32,
        limit: u32,
    ) -> Option<(SeqNumber, u32)> {
        let window = window(snd_una, snd_nxt)?;
        let mut start = offset_in(high_rxt, snd_una, window);
        let mut end = window;
        for (lo, hi) in self.spans(snd_una, window) {
            if start < lo {
                end = lo;
                break;
            }
            start = start.max(hi);
        }
        if start >= limit {
            return None;
        }
        let len = (end - start).min(mss.max(1));
        Some((snd_una + start, len))
    }
}

/// SND.NXT − SND.UNA, or `None` when SND.NXT is behind or 2^31 ahead.
fn window(snd_una: SeqNumber, snd_nxt: SeqNumber) -> Option<u32> {
    u32::try_from(snd_nxt.diff(snd_una)).ok()
}

/// `seq` as an offset from `base`, clamped to `[0, window]`.
fn offset_in(seq: SeqNumber, base: SeqNumber, window: u32) -> u32 {
    u32::try_from(seq.diff(base)).map_or(0, |o| o.min(window))
}

/// `[l, r)` as offsets from `base`, clipped to `[0, window]`; `None` when nothing is left.
fn clip(l: SeqNumber, r: SeqNumber, base: SeqNumber, window: u32) -> Option<Span> {
    if r.diff(l) <= 0 {
        return None;
    }
    let hi = offset_in(r, base, window);
    let lo = offset_in(l, base, window);
    // `l` far below `base` with `r` above it: the diff of `l` is negative, clamped to 0.
    (lo < hi).then_some((lo, hi))
}

/// The receiver's out-of-order blocks for the SACK option (RFC 2018 §4), most recently
/// changed first. At most `max_blocks` are kept; past that the least recently changed
/// block is forgotten (it is then no longer reported, which RFC 2018 §8 allows the
/// receiver: SACK is advisory, the data itself stays queued or is reneged by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedBlocks {
    max_blocks: usize,
    blocks: Vec<(SeqNumber, SeqNumber)>,
}

impl ReceivedBlocks {
    pub fn new(max_blocks: usize) -> Self {
        Self {
            max_blocks,
            blocks: Vec::new(),
        }
    }

    /// An out-of-order segment `[left, right)` arrived (the caller checked it lies in the
    /// receive window, above RCV.NXT). It merges with every block it overlaps or touches,
    /// and the block containing it becomes the first (RFC 2018 §4: the first block
    /// MUST specify the block containing the segment that triggered this ACK).
    pub fn record(&mut self, left: SeqNumber, right: SeqNumber) {
        if right.diff(left) <= 0 || self.max_blocks == 0 {
            return;
        }
        let (mut l, mut r) = (left, right);
        // Each pass removes one block; at most max_blocks + 1 passes.
        while let Some(i) = self
            .blocks
            .iter()
            .position(|&(bl, br)| bl.diff(r) <= 0 && l.diff(br) <= 0)
        {
            let (bl, br) = self.blocks.remove(i);
            l = l.min(bl);
            r = r.max(br);
        }
        self.blocks.insert(0, (l, r));
        // The bound: the least recently changed block goes.
        self.blocks.truncate(self.max_blocks);
    }

    /// RCV.NXT moved: what is now below it is acknowledged cumulatively.
    pub fn advance(&mut self, rcv_nxt: SeqNumber) {
        self.blocks.retain_mut(|b| {
            if b.1.diff(rcv_nxt) <= 0 {
                return false;
            }
            if b.0.diff(rcv_nxt) < 0 {
                b.0 = rcv_nxt;
            }
            true
        });
    }

    /// The first `max` blocks, most recent first: what the next ACK's SACK option carries.
    pub fn blocks(&self, max: usize) -> Vec<(SeqNumber, SeqNumber)> {
        self.iter(max).collect()
    }

    /// [`blocks`](Self::blocks) without collecting them.
    pub fn iter(&self, max: usize) -> impl Iterator<Item = (SeqNumber, SeqNumber)> + '_ {
        self.blocks.iter().take(max).copied()
    }

    pub fn len(&self) -> usize {
        self.blocks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    pub fn clear(&mut self) {
        self.blocks.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MSS: u32 = 1000;

    fn s(n: u32) -> SeqNumber {
        SeqNumber(n)
    }

    /// A scoreboard whose sender has segments of MSS from `una` up to `una + n * MSS`,
    /// with the segments of index `sacked` SACKed.
    fn board(una: u32, n: u32, sacked: &[u32]) -> (Scoreboard, SeqNumber, SeqNumber) {
        let una = s(una);
        let nxt = una + n * MSS;
        let blocks: Vec<_> = sacked
            .iter()
            .map(|&i| (una + i * MSS, una + (i + 1) * MSS))
            .collect();
        let mut sb = Scoreboard::new();
        sb.update(una, nxt, &blocks);
        (sb, una, nxt)
    }

    fn check(sb: &Scoreboard, una: SeqNumber, nxt: SeqNumber) {
        assert!(sb.ranges.len() <= sb.config.max_ranges);
        let mut prev: Option<SeqNumber> = None;
        for &(l, r) in &sb.ranges {
            assert!(r.diff(l) > 0, "empty range {l}..{r}");
            assert!(
                l.diff(una) >= 0 && r.diff(nxt) <= 0,
                "{l}..{r} outside {una}..{nxt}"
            );
            if let Some(p) = prev {
                assert!(l.diff(p) > 0, "overlapping or touching ranges");
            }
            prev = Some(r);
        }
    }

    #[test]
    fn rfc2018_3_blocks_merge_and_stay_sorted() {
        let mut sb = Scoreboard::new();
        let (una, nxt) = (s(1000), s(20_000));
        sb.update(una, nxt, &[(s(5000), s(6000)), (s(3000), s(4000))]);
        assert_eq!(sb.ranges(), &[(s(3000), s(4000)), (s(5000), s(6000))]);
        // Touching and overlapping blocks merge into one.
        sb.update(una, nxt, &[(s(4000), s(5000))]);
        assert_eq!(sb.ranges(), &[(s(3000), s(6000))]);
        sb.update(una, nxt, &[(s(5500), s(8000)), (s(10_000), s(11_000))]);
        assert_eq!(sb.ranges(), &[(s(3000), s(8000)), (s(10_000), s(11_000))]);
        assert_eq!(sb.sacked_bytes(), 6000);
        assert_eq!(sb.highest_sacked(), Some(s(11_000)));
        assert!(sb.is_sacked(s(3000)) && sb.is_sacked(s(7999)));
        assert!(!sb.is_sacked(s(8000)) && !sb.is_sacked(s(2999)));
        check(&sb, una, nxt);
    }

    #[test]
    fn rfc6675_5_1_cumulative_ack_drops_what_is_below_snd_una() {
        let mut sb = Scoreboard::new();
        sb.update(s(0), s(10_000), &[(s(2000), s(3000)), (s(5000), s(7000))]);
        // The hole filled up to 6000: the first range goes, the second is clipped.
        sb.update(s(6000), s(10_000), &[]);
        assert_eq!(sb.ranges(), &[(s(6000), s(7000))]);
        sb.update(s(7000), s(10_000), &[]);
        assert!(sb.is_empty());
        assert_eq!(sb.highest_sacked(), None);
    }

    #[test]
    fn rfc2018_3_hostile_blocks_ignored() {
        let mut sb = Scoreboard::new();
        let (una, nxt) = (s(10_000), s(20_000));
        sb.update(
            una,
            nxt,
            &[
                // Reversed, empty.
                (s(15_000), s(14_000)),
                (s(15_000), s(15_000)),
                // Beyond SND.NXT: data never sent.
                (s(19_000), s(21_000)),
                (s(30_000), s(31_000)),
                // Below SND.UNA (a D-SACK).
                (s(5000), s(6000)),
                (s(9000), s(10_000)),
                // Huge: half the sequence space.
                (s(10_000), s(10_000) + 0x8000_0000),
                (s(0x9000_0000), s(0x1000)),
            ],
        );
        assert!(sb.is_empty(), "{:?}", sb.ranges());
        // Straddling SND.UNA: clipped to it.
        sb.update(una, nxt, &[(s(9000), s(11_000))]);
        assert_eq!(sb.ranges(), &[(s(10_000), s(11_000))]);
        // SND.NXT behind SND.UNA: nothing can be right.
        sb.update(s(20_000), s(10_000), &[(s(12_000), s(13_000))]);
        assert!(sb.is_empty());
    }

    #[test]
    fn rfc6675_sequence_numbers_wrap_around_2_pow_32() {
        let una = s(0u32.wrapping_sub(2500));
        let nxt = una + 10 * MSS;
        let mut sb = Scoreboard::new();
        // Segments 2, 3 and 4: the second wraps through zero.
        sb.update(
            una,
            nxt,
            &[(una + 2000, una + 3000), (una + 3000, una + 5000)],
        );
        assert_eq!(sb.ranges(), &[(una + 2000, una + 5000)]);
        assert!(sb.is_sacked(s(0)) && sb.is_sacked(s(2499)));
        assert!(!sb.is_sacked(s(2500)));
        assert_eq!(sb.sacked_bytes(), 3000);
        assert!(sb.is_lost(una, MSS));
        assert!(sb.is_lost(una + 1999, MSS));
        assert!(!sb.is_lost(una + 5000, MSS));
        assert_eq!(sb.next_lost_seg(una, nxt, una, MSS), Some((una, MSS)));
        // 10 segments: 3 SACKed, 2 lost, 5 in flight and not lost.
        assert_eq!(sb.pipe(una, nxt, una, MSS), 5 * MSS);
        sb.update(una + 3000, nxt, &[]);
        assert_eq!(sb.ranges(), &[(una + 3000, una + 5000)]);
        check(&sb, una + 3000, nxt);
    }

    #[test]
    fn rfc6675_4_is_lost_after_dup_thresh_segments_sacked_above() {
        // Segment 0 lost, then 1, 2 SACKed: 2 × SMSS is not more than (3 − 1) × SMSS.
        let (sb, una, _) = board(0, 10, &[1, 2]);
        assert!(!sb.is_lost(una, MSS));
        // The third SACKed segment makes it lost.
        let (sb, una, _) = board(0, 10, &[1, 2, 3]);
        assert!(sb.is_lost(una, MSS));
        assert!(sb.is_lost(una + 999, MSS));
        // SACKed octets are not lost; octets above the SACKed ones are not.
        assert!(!sb.is_lost(una + 1000, MSS));
        assert!(!sb.is_lost(una + 4000, MSS));
        // Three discontiguous small SACKed pieces count as DupThresh sequences.
        let mut sb = Scoreboard::new();
        sb.update(
            s(0),
            s(10_000),
            &[(s(1000), s(1010)), (s(2000), s(2010)), (s(3000), s(3010))],
        );
        assert!(sb.is_lost(s(0), MSS));
        // Two pieces above 1500 only, and 20 octets: not lost.
        assert!(!sb.is_lost(s(1500), MSS));
    }

    #[test]
    fn rfc6675_4_is_lost_with_a_configured_dup_thresh() {
        let mut sb = Scoreboard::with_config(ScoreboardConfig {
            dup_thresh: 1,
            max_ranges: 8,
        });
        sb.update(s(0), s(5000), &[(s(1000), s(1001))]);
        assert!(sb.is_lost(s(0), MSS));
        assert!(!sb.is_lost(s(2000), MSS));
    }

    #[test]
    fn rfc6675_4_set_pipe_examples() {
        // Ten segments sent, none SACKed: everything in flight.
        let (sb, una, nxt) = board(5000, 10, &[]);
        assert_eq!(sb.pipe(una, nxt, una, MSS), 10 * MSS);

        // Segment 0 lost, 1..=3 SACKed: 0 is lost (out of pipe), 4..=9 in flight.
        let (sb, una, nxt) = board(5000, 10, &[1, 2, 3]);
        assert_eq!(sb.pipe(una, nxt, una, MSS), 6 * MSS);
        // Once segment 0 is retransmitted it counts again (rule b).
        assert_eq!(sb.pipe(una, nxt, una + MSS, MSS), 7 * MSS);

        // Holes 0, 2 and 4; SACKed 1, 3, 5, 6; 7..=9 in flight.
        // Above hole 4: one range of 2 segments, not lost. Above hole 2: two ranges and
        // 3 segments: lost. Above hole 0: lost.
        let (sb, una, nxt) = board(5000, 10, &[1, 3, 5, 6]);
        assert!(sb.is_lost(una, MSS));
        assert!(sb.is_lost(una + 2 * MSS, MSS));
        assert!(!sb.is_lost(una + 4 * MSS, MSS));
        assert_eq!(sb.pipe(una, nxt, una, MSS), 4 * MSS);
        // Holes 0 and 2 retransmitted: each counts once.
        assert_eq!(sb.pipe(una, nxt, una + 3 * MSS, MSS), 6 * MSS);
        // Hole 4 retransmitted as well: not lost and retransmitted, counted twice.
        assert_eq!(sb.pipe(una, nxt, una + 5 * MSS, MSS), 7 * MSS);

        // A HighRxt outside the window is clamped.
        assert_eq!(sb.pipe(una, nxt, una - 100, MSS), 4 * MSS);
        // (Clamped to SND.NXT: the 6 unSACKed segments once more.)
        assert_eq!(sb.pipe(una, nxt, nxt + 100, MSS), 10 * MSS);
        // Nothing outstanding.
        assert_eq!(sb.pipe(nxt, nxt, nxt, MSS), 0);
    }

    #[test]
    fn rfc6675_4_next_seg_rule_1_lowest_lost_hole_first() {
        let (sb, una, nxt) = board(0, 10, &[1, 3, 5, 6]);
        assert_eq!(sb.next_lost_seg(una, nxt, una, MSS), Some((una, MSS)));
        // After retransmitting hole 0, hole 2.
        assert_eq!(
            sb.next_lost_seg(una, nxt, una + MSS, MSS),
            Some((una + 2 * MSS, MSS))
        );
        // HighRxt in the middle of a hole: the rest of it.
        assert_eq!(
            sb.next_lost_seg(una, nxt, una + 2 * MSS + 300, MSS),
            Some((una + 2 * MSS + 300, 700))
        );
        // Hole 4 is not lost: rule 1 has nothing, rule 3 gives it.
        assert_eq!(sb.next_lost_seg(una, nxt, una + 3 * MSS, MSS), None);
        assert_eq!(
            sb.next_unsacked_seg(una, nxt, una + 3 * MSS, MSS),
            Some((una + 4 * MSS, MSS))
        );
        assert_eq!(
            sb.next_seg(una, nxt, una + 3 * MSS, MSS),
            Some((una + 4 * MSS, MSS))
        );
        // Above the highest SACKed octet there is nothing for rules 1 and 3 (rule 2's).
        assert_eq!(sb.next_seg(una, nxt, una + 5 * MSS, MSS), None);
        // A segment never covers SACKed octets, nor exceeds the MSS.
        assert_eq!(sb.next_seg(una, nxt, una, 5000), Some((una, MSS)));
        assert_eq!(sb.next_seg(una, nxt, una, 400), Some((una, 400)));
        // Nothing SACKed: nothing to retransmit by these rules.
        let (sb, una, nxt) = board(0, 10, &[]);
        assert_eq!(sb.next_seg(una, nxt, una, MSS), None);
    }

    #[test]
    fn rfc6675_scoreboard_is_bounded_and_drops_the_highest_ranges() {
        let mut sb = Scoreboard::with_config(ScoreboardConfig {
            dup_thresh: 3,
            max_ranges: 4,
        });
        let blocks: Vec<_> = (0..10u32)
            .map(|i| (s(100 + i * 200), s(200 + i * 200)))
            .collect();
        sb.update(s(0), s(100_000), &blocks);
        assert_eq!(sb.ranges().len(), 4);
        assert_eq!(sb.ranges()[0], (s(100), s(200)));
        assert_eq!(sb.highest_sacked(), Some(s(800)));
        check(&sb, s(0), s(100_000));
    }

    #[test]
    fn rfc6675_snd_nxt_pulled_back_clips_ranges() {
        let mut sb = Scoreboard::new();
        sb.update(s(0), s(10_000), &[(s(2000), s(3000)), (s(5000), s(9000))]);
        sb.update(s(0), s(6000), &[]);
        assert_eq!(sb.ranges(), &[(s(2000), s(3000)), (s(5000), s(6000))]);
        sb.clear();
        assert!(sb.is_empty());
        assert_eq!(sb.sacked_bytes(), 0);
    }

    #[test]
    fn rfc2018_4_first_block_is_the_most_recent() {
        let mut rb = ReceivedBlocks::new(4);
        rb.record(s(2000), s(3000));
        rb.record(s(5000), s(6000));
        rb.record(s(8000), s(9000));
        assert_eq!(
            rb.blocks(4),
            vec![(s(8000), s(9000)), (s(5000), s(6000)), (s(2000), s(3000))]
        );
        // A segment joining the oldest block brings it to the front.
        rb.record(s(3000), s(4000));
        assert_eq!(
            rb.blocks(4),
            vec![(s(2000), s(4000)), (s(8000), s(9000)), (s(5000), s(6000))]
        );
        // Filling the gap between two blocks merges all three pieces.
        rb.record(s(4000), s(5000));
        assert_eq!(rb.blocks(4), vec![(s(2000), s(6000)), (s(8000), s(9000))]);
        // Overlap (a retransmission) merges too.
        rb.record(s(8500), s(9500));
        assert_eq!(rb.blocks(4), vec![(s(8000), s(9500)), (s(2000), s(6000))]);
        // Only as many as the option has room for.
        assert_eq!(rb.blocks(1), vec![(s(8000), s(9500))]);
        assert_eq!(rb.len(), 2);
    }

    #[test]
    fn rfc2018_4_received_blocks_bounded_oldest_dropped() {
        let mut rb = ReceivedBlocks::new(3);
        for i in 0..5u32 {
            rb.record(s(1000 + i * 1000), s(1500 + i * 1000));
        }
        assert_eq!(
            rb.blocks(10),
            vec![(s(5000), s(5500)), (s(4000), s(4500)), (s(3000), s(3500))]
        );
        // Empty and reversed segments are ignored.
        rb.record(s(9000), s(9000));
        rb.record(s(9000), s(8000));
        assert_eq!(rb.len(), 3);
        // No room at all: nothing kept.
        let mut none = ReceivedBlocks::new(0);
        none.record(s(1), s(2));
        assert!(none.is_empty());
    }

    #[test]
    fn rfc2018_4_advance_drops_what_is_cumulative() {
        let mut rb = ReceivedBlocks::new(4);
        rb.record(s(2000), s(3000));
        rb.record(s(5000), s(6000));
        // RCV.NXT jumps over the first block.
        rb.advance(s(3000));
        assert_eq!(rb.blocks(4), vec![(s(5000), s(6000))]);
        // Into the middle of a block: trimmed.
        rb.advance(s(5500));
        assert_eq!(rb.blocks(4), vec![(s(5500), s(6000))]);
        rb.advance(s(6000));
        assert!(rb.is_empty());
        rb.record(s(7000), s(8000));
        rb.clear();
        assert!(rb.is_empty());
    }

    #[test]
    fn rfc2018_4_received_blocks_wrap_around() {
        let mut rb = ReceivedBlocks::new(4);
        rb.record(s(u32::MAX - 499), s(100));
        rb.record(s(100), s(600));
        assert_eq!(rb.blocks(4), vec![(s(u32::MAX - 499), s(600))]);
        rb.advance(s(0));
        assert_eq!(rb.blocks(4), vec![(s(0), s(600))]);
    }

    proptest! {
        #[test]
        fn arbitrary_blocks_keep_the_scoreboard_bounded_and_consistent(
            una in any::<u32>(),
            window in 0u32..200_000,
            updates in proptest::collection::vec(
                (0u32..5000, proptest::collection::vec((any::<u32>(), any::<u32>()), 0..6)),
                1..20,
            ),
            near in proptest::collection::vec((0u32..220_000, 0u32..5000), 0..40),
            mss in 0u32..3000,
        ) {
            let mut sb = Scoreboard::with_config(ScoreboardConfig { dup_thresh: 3, max_ranges: 8 });
            let mut una = SeqNumber(una);
            let nxt = una + window;
            let mut near = near.into_iter();
            for (ack_step, wild) in updates {
                una = (una + ack_step).min(nxt);
                let mut blocks: Vec<_> = wild.into_iter().map(|(l, r)| (SeqNumber(l), SeqNumber(r))).collect();
                // Some plausible blocks too, near the window.
                blocks.extend(near.next().map(|(o, len)| (una + o, una + o + len)));
                sb.update(una, nxt, &blocks);
                check(&sb, una, nxt);
                let flight = nxt.diff(una) as u32;
                let pipe = sb.pipe(una, nxt, una, mss);
                prop_assert!(pipe <= flight);
                prop_assert!(sb.sacked_bytes() <= flight);
                let high_rxt = una + flight / 2;
                prop_assert!(sb.pipe(una, nxt, high_rxt, mss) <= 2 * flight);
                if let Some((seq, len)) = sb.next_seg(una, nxt, high_rxt, mss) {
                    prop_assert!(len >= 1 && len <= mss.max(1));
                    prop_assert!(seq.diff(high_rxt) >= 0);
                    prop_assert!((seq + len).diff(nxt) <= 0);
                    for k in [0, len - 1] {
                        prop_assert!(!sb.is_sacked(seq + k));
                    }
                }
                if let Some((seq, _)) = sb.next_lost_seg(una, nxt, una, mss) {
                    prop_assert!(sb.is_lost(seq, mss));
                }
            }
        }

        #[test]
        fn arbitrary_received_blocks_stay_bounded_and_disjoint(
            segs in proptest::collection::vec((0u32..100_000, 1u32..3000), 0..60),
            base in any::<u32>(),
            advance in 0u32..100_000,
        ) {
            let mut rb = ReceivedBlocks::new(4);
            for (o, len) in segs {
                let l = SeqNumber(base) + o;
                rb.record(l, l + len);
                prop_assert!(rb.len() <= 4);
                prop_assert!(rb.blocks(4)[0].0.diff(l) <= 0);
                prop_assert!(rb.blocks(4)[0].1.diff(l + len) >= 0);
            }
            rb.advance(SeqNumber(base) + advance);
            let b = rb.blocks(4);
            for (i, &(l, r)) in b.iter().enumerate() {
                prop_assert!(r.diff(l) > 0);
                prop_assert!(l.diff(SeqNumber(base) + advance) >= 0);
                for &(l2, r2) in &b[i + 1..] {
                    prop_assert!(r2.diff(l) < 0 || l2.diff(r) > 0, "overlap or touch");
                }
            }
        }
    }
}
