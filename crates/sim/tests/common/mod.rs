//! Test nodes for the simulator: one configurable node that can talk on a timer
//! ("chatty"), answer what it hears after a while ("echo"), and record everything.

#![allow(dead_code)]

use std::collections::VecDeque;

use sixstack_core::iface::IfaceId;
use sixstack_core::time::{Duration, Instant};
use sixstack_sim::Node;

/// First byte of a frame a chatty node sends.
pub const QUERY: u8 = b'Q';
/// First byte of an echo's answer.
pub const ANSWER: u8 = b'A';

/// `[kind, seq (4 bytes, big endian), zeros...]`, `len` bytes long (at least 5).
pub fn frame(kind: u8, seq: u32, len: usize) -> Vec<u8> {
    let mut f = vec![0u8; len.max(5)];
    f[0] = kind;
    f[1..5].copy_from_slice(&seq.to_be_bytes());
    f
}

pub fn seq_of(frame: &[u8]) -> u32 {
    u32::from_be_bytes([frame[1], frame[2], frame[3], frame[4]])
}

#[derive(Debug, Clone)]
pub struct TestNode {
    pub iface: IfaceId,
    // Chatty: `remaining` frames of `len` bytes, the first at `next_send`, then every `interval`.
    pub next_send: Option<Instant>,
    pub interval: Duration,
    pub remaining: u32,
    pub len: usize,
    pub next_seq: u32,
    // Echo: answers after `echo_after`; only queries unless `answer_all`.
    pub echo_after: Option<Duration>,
    pub answer_all: bool,
    pub pending: VecDeque<(Instant, IfaceId, Vec<u8>)>,
    /// Frames to send at the next chance (the test can push here through `node_mut`).
    pub out: VecDeque<(IfaceId, Vec<u8>)>,
    pub heard: Vec<(Instant, IfaceId, Vec<u8>)>,
    pub polls: u64,
}

// By hand: `IfaceId` has no default, and interface 0 is the one these tests use.
impl Default for TestNode {
    fn default() -> Self {
        Self {
            iface: IfaceId(0),
            next_send: None,
            interval: Duration::ZERO,
            remaining: 0,
            len: 0,
            next_seq: 0,
            echo_after: None,
            answer_all: false,
            pending: VecDeque::new(),
            out: VecDeque::new(),
            heard: Vec::new(),
            polls: 0,
        }
    }
}

impl TestNode {
    /// Hears and records, says nothing.
    pub fn sink() -> Self {
        Self::default()
    }

    /// `count` queries of `len` bytes, the first at `start`, then one every `interval`.
    pub fn chatty(start: Instant, interval: Duration, count: u32, len: usize) -> Self {
        Self {
            next_send: Some(start),
            interval,
            remaining: count,
            len,
            ..Self::default()
        }
    }

    /// Answers every query `after` it arrived, with the same bytes but the first.
    pub fn echo(after: Duration) -> Self {
        Self {
            echo_after: Some(after),
            ..Self::default()
        }
    }

    /// Answers every frame, answers included: two of these on a link play ping-pong.
    pub fn parrot(after: Duration) -> Self {
        Self {
            echo_after: Some(after),
            answer_all: true,
            ..Self::default()
        }
    }

    /// Sends these frames as soon as the simulator asks.
    pub fn burst(frames: Vec<Vec<u8>>) -> Self {
        Self {
            out: frames.into_iter().map(|f| (IfaceId(0), f)).collect(),
            ..Self::default()
        }
    }

    pub fn heard_seqs(&self) -> Vec<u32> {
        self.heard.iter().map(|(_, _, f)| seq_of(f)).collect()
    }
}

impl Node for TestNode {
    fn receive(&mut self, now: Instant, iface: IfaceId, frame: &[u8]) {
        self.heard.push((now, iface, frame.to_vec()));
        if let Some(after) = self.echo_after
            && (self.answer_all || frame.first() == Some(&QUERY))
        {
            let mut answer = frame.to_vec();
            answer[0] = ANSWER;
            self.pending.push_back((now + after, iface, answer));
        }
    }

    fn poll(&mut self, now: Instant) {
        self.polls += 1;
        while let Some(t) = self.next_send {
            if t > now || self.remaining == 0 {
                break;
            }
            self.out
                .push_back((self.iface, frame(QUERY, self.next_seq, self.len)));
            self.next_seq += 1;
            self.remaining -= 1;
            self.next_send = if self.remaining > 0 {
                Some(t + self.interval)
            } else {
                None
            };
        }
        while self.pending.front().is_some_and(|(t, _, _)| *t <= now) {
            let (_, iface, f) = self.pending.pop_front().unwrap();
            self.out.push_back((iface, f));
        }
    }

    fn poll_at(&self) -> Option<Instant> {
        let send = self.next_send.filter(|_| self.remaining > 0);
        let echo = self.pending.front().map(|(t, _, _)| *t);
        match (send, echo) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn transmit(&mut self) -> Option<(IfaceId, Vec<u8>)> {
        self.out.pop_front()
    }
}

/// A directory of its own under the system's temporary directory, emptied first.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sixstack-sim-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
