//! What a link saw: the in-memory capture of the frames that entered it (bounded, oldest
//! dropped first), the pcap file it writes with virtual-time timestamps, and the tap that a
//! test puts on a link to drop or rewrite frames before they travel.

use std::io::{self, Write};

use sixstack_core::time::Instant;
use sixstack_wire::pcap::PcapWriter;

use crate::network::NodeId;

/// pcap snap length of the files we write: tcpdump's default, larger than any link's frame.
pub(crate) const SNAPLEN: u32 = 262_144;

/// One frame as it entered a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captured {
    /// When it entered the link (before any serialization or propagation delay).
    pub time: Instant,
    /// The node that sent it; `None` for a frame injected by the test as nobody.
    pub from: Option<NodeId>,
    pub frame: Vec<u8>,
}

/// What a tap decides about a frame a node sent onto its link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TapVerdict {
    /// Let it travel as it is.
    Pass,
    /// It never reaches the wire (neither captured nor delivered).
    Drop,
    /// These bytes travel (and are captured) in its place.
    Replace(Vec<u8>),
}

/// The last `limit` captured frames. A `Vec` with a moving start rather than a `VecDeque`,
/// so that the frames are one slice; the dropped prefix is compacted once it reaches
/// `limit`, which keeps memory under twice the limit and each push amortised O(1).
#[derive(Debug, Default)]
pub(crate) struct CaptureRing {
    items: Vec<Captured>,
    start: usize,
    limit: usize,
}

impl CaptureRing {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            items: Vec::new(),
            start: 0,
            limit,
        }
    }

    /// Keeps `c`; returns how many older frames were dropped to make room.
    pub(crate) fn push(&mut self, c: Captured) -> u64 {
        if self.limit == 0 {
            return 1;
        }
        self.items.push(c);
        self.trim()
    }

    /// Applies a new limit; returns how many frames that dropped.
    pub(crate) fn set_limit(&mut self, limit: usize) -> u64 {
        self.limit = limit;
        self.trim()
    }

    fn trim(&mut self) -> u64 {
        let excess = self.as_slice().len().saturating_sub(self.limit);
        self.start += excess;
        if self.start >= self.limit.max(1) || self.start == self.items.len() {
            self.items.drain(..self.start);
            self.start = 0;
        }
        excess as u64
    }

    pub(crate) fn as_slice(&self) -> &[Captured] {
        &self.items[self.start..]
    }

    pub(crate) fn take(&mut self) -> Vec<Captured> {
        let out = self.items.split_off(self.start);
        self.items.clear();
        self.start = 0;
        out
    }
}

/// A link's pcap output; after the first write error it stops and keeps the error.
pub(crate) struct PcapOut {
    writer: Option<PcapWriter<Box<dyn Write>>>,
    error: Option<io::Error>,
    /// Frames written so far: the pcap frame number of the last one.
    frames: u64,
    /// Where the numbers of frames a test made (injected or rewritten by a tap) go, one per
    /// line, so that checks of the capture can tell them from what the nodes sent.
    made_by_test: Option<Box<dyn Write>>,
}

impl PcapOut {
    pub(crate) fn new(w: Box<dyn Write>, link_type: u32) -> io::Result<Self> {
        Ok(Self {
            writer: Some(PcapWriter::new(w, link_type, SNAPLEN)?),
            error: None,
            frames: 0,
            made_by_test: None,
        })
    }

    /// Also lists the frame numbers of test-made frames in `list`.
    pub(crate) fn with_test_frame_list(mut self, list: Box<dyn Write>) -> Self {
        self.made_by_test = Some(list);
        self
    }

    /// The output of a writer that could not even be opened: remembers why.
    pub(crate) fn failed(error: io::Error) -> Self {
        Self {
            writer: None,
            error: Some(error),
            frames: 0,
            made_by_test: None,
        }
    }

    pub(crate) fn write(&mut self, time: Instant, frame: &[u8], made_by_test: bool) {
        let Some(w) = self.writer.as_mut() else {
            return;
        };
        self.frames += 1;
        if made_by_test && let Some(l) = self.made_by_test.as_mut() {
            let _ = writeln!(l, "{}", self.frames);
        }
        let micros = time.total_micros();
        // Virtual time zero is the epoch: a capture of the simulator starts in 1970.
        let sec = micros / 1_000_000;
        let nsec = (micros % 1_000_000) as u32 * 1000;
        if let Err(e) = w.write_packet(sec, nsec, frame) {
            self.error = Some(e);
            self.writer = None;
        }
    }

    pub(crate) fn flush(&mut self) -> io::Result<()> {
        if let Some(l) = self.made_by_test.as_mut() {
            l.flush()?;
        }
        match self.writer.as_mut() {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }

    pub(crate) fn error(&self) -> Option<&io::Error> {
        self.error.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cap(n: u8) -> Captured {
        Captured {
            time: Instant::from_micros(u64::from(n)),
            from: None,
            frame: vec![n],
        }
    }

    fn frames(r: &CaptureRing) -> Vec<u8> {
        r.as_slice().iter().map(|c| c.frame[0]).collect()
    }

    #[test]
    fn ring_keeps_the_newest_and_counts_the_dropped() {
        let mut r = CaptureRing::new(3);
        let mut dropped = 0;
        for n in 0..10 {
            dropped += r.push(cap(n));
            assert!(r.as_slice().len() <= 3);
            assert!(r.items.len() <= 6, "memory stays under twice the limit");
        }
        assert_eq!(frames(&r), vec![7, 8, 9]);
        assert_eq!(dropped, 7);
        assert_eq!(r.set_limit(1), 2);
        assert_eq!(frames(&r), vec![9]);
        assert_eq!(r.take().len(), 1);
        assert!(r.as_slice().is_empty());
        r.push(cap(1));
        assert_eq!(frames(&r), vec![1]);
    }

    #[test]
    fn ring_of_zero_keeps_nothing() {
        let mut r = CaptureRing::new(0);
        assert_eq!(r.push(cap(1)), 1);
        assert!(r.as_slice().is_empty());
        assert!(r.items.is_empty());
    }
}
