//! The network and its event loop: nodes, links (broadcast media: a frame sent by one port
//! reaches every other port, as on an Ethernet hub; a point-to-point link is a link with
//! two ports), the ports that attach one to the other, and the queue of timed events.
//!
//! Events are ordered by (virtual time, sequence number), so events due at the same
//! instant happen in the order they were scheduled and a run is a function of the seed and
//! the calls made. Every random draw comes from a generator forked per link from the
//! network's seed, so adding a link late does not change what the earlier links draw.
//!
//! The loop never hangs on a misbehaving node: a node asking to be polled again at the
//! same instant is polled at most `Limits::polls_per_instant` times there and then moved on
//! by 1 µs; its `transmit` is drained at most `Limits::transmit_per_service` frames at a
//! time; a frame never takes less than 1 µs to cross a link; and at most
//! `Limits::in_flight` frame copies are in flight at once.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, VecDeque};
use std::fmt;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sixstack_core::iface::IfaceId;
use sixstack_core::rng::Rng;
use sixstack_core::time::{Duration, Instant};

use crate::capture::{CaptureRing, Captured, PcapOut, TapVerdict};
use crate::link::{LinkConfig, LinkStats, chance, jitter_of, serialization_time};
use crate::node::Node;

/// A node of one [`Network`] (its index in the order nodes were added).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(usize);

impl NodeId {
    pub fn index(self) -> usize {
        self.0
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "node#{}", self.0)
    }
}

/// A link of one [`Network`] (its index in the order links were added).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LinkId(usize);

impl LinkId {
    pub fn index(self) -> usize {
        self.0
    }
}

impl fmt::Display for LinkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "link#{}", self.0)
    }
}

/// A hook on a link that sees every frame a node sends onto it before it travels.
pub type Tap = Box<dyn FnMut(&Captured) -> TapVerdict>;

/// Guards against nodes that would make the loop spin or grow without bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Polls of one node at one instant before its further wishes for that instant are
    /// moved 1 µs later (and counted in `NetStats::livelock`).
    pub polls_per_instant: u32,
    /// Frames taken from one node's `transmit` in one go; the rest wait for the node's
    /// next receive or poll (counted in `NetStats::transmit_cut`).
    pub transmit_per_service: usize,
    /// Frame copies scheduled for delivery, network-wide; more are dropped (counted in
    /// the link's `overflow`).
    pub in_flight: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            polls_per_instant: 64,
            transmit_per_service: 100_000,
            in_flight: 1_000_000,
        }
    }
}

/// What the network did as a whole.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetStats {
    /// Events processed (deliveries, polls, releases of held frames).
    pub events: u64,
    pub polls: u64,
    /// Times a node wanted a poll at an instant where it had had `polls_per_instant`.
    pub livelock: u64,
    /// Times a node's `transmit` still had frames after `transmit_per_service`.
    pub transmit_cut: u64,
    /// Frames a node sent on an interface attached to no link.
    pub unattached: u64,
}

type Port = (NodeId, IfaceId);

/// Who puts a frame on a link: decides whom it is not delivered to.
#[derive(Debug, Clone, Copy)]
enum Sender {
    /// A node's interface: every other port hears it (another interface of the same node
    /// on the same link included, as on a hub).
    Port(Port),
    /// `inject` on behalf of a node: none of that node's ports hear it.
    Node(NodeId),
    /// `inject` from outside: every port hears it.
    Nobody,
}

impl Sender {
    fn node(self) -> Option<NodeId> {
        match self {
            Sender::Port((n, _)) | Sender::Node(n) => Some(n),
            Sender::Nobody => None,
        }
    }

    fn excludes(self, port: Port) -> bool {
        match self {
            Sender::Port(p) => p == port,
            Sender::Node(n) => n == port.0,
            Sender::Nobody => false,
        }
    }
}

struct NodeSlot<N> {
    name: String,
    node: N,
    /// The instant of the live poll event, if any.
    poll_scheduled: Option<Instant>,
    /// Only the poll event carrying the current generation is live; rescheduling bumps it,
    /// so earlier events go stale without being removed from the heap.
    poll_gen: u64,
    /// The instant of the last poll, and how many polls happened at it.
    last_poll: Instant,
    polls_at_last: u32,
}

struct Attachment {
    port: Port,
    /// Distinguishes this plugging-in from earlier ones of the same port, so that frames in
    /// flight towards a port that was unplugged (even if plugged back) are not delivered.
    id: u64,
    /// The highest link sequence number delivered to this port, to count reordering.
    max_seq: Option<u64>,
}

/// A frame held back for one receiver by `reorder`.
struct Held {
    frame: Arc<[u8]>,
    seq: u64,
    copies: u8,
    /// When it would have arrived had it not been held.
    arrival: Instant,
    attach_id: u64,
    token: u64,
}

struct LinkSlot {
    name: String,
    cfg: LinkConfig,
    rng: Rng,
    /// In the order they were attached: deliveries of one frame are scheduled in this order.
    ports: Vec<Attachment>,
    stats: LinkStats,
    capture: CaptureRing,
    pcap: Option<PcapOut>,
    tap: Option<Tap>,
    /// Serialization: when the medium is free again, and when each queued frame finishes.
    busy_until: Instant,
    backlog: VecDeque<Instant>,
    /// Numbers the frames that entered the link.
    next_seq: u64,
    /// At most one frame held per receiver (a second reorder while one is held releases it).
    held: BTreeMap<Port, Held>,
}

enum Event {
    Deliver {
        link: LinkId,
        port: Port,
        attach_id: u64,
        seq: u64,
        frame: Arc<[u8]>,
    },
    Poll {
        node: NodeId,
        generation: u64,
    },
    Release {
        link: LinkId,
        port: Port,
        token: u64,
    },
}

struct Queued {
    time: Instant,
    seq: u64,
    event: Event,
}

impl PartialEq for Queued {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.seq) == (other.time, other.seq)
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
/// Reversed: `BinaryHeap` is a max-heap and the earliest event must come out first.
impl Ord for Queued {
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

/// The event queue, apart from nodes and links so that both can be borrowed beside it.
#[derive(Default)]
struct Queue {
    heap: BinaryHeap<Queued>,
    next_seq: u64,
    /// Delivery events in the heap plus copies held back by `reorder`.
    in_flight: usize,
    /// Events in the heap known to be stale (a poll rescheduled, a held frame released
    /// early). A node that moves its timer at every frame would otherwise fill the heap
    /// with dead polls up to its timer's horizon; past [`STALE_SLACK`] and half the heap,
    /// they are swept out.
    stale: usize,
}

/// Stale events tolerated before a sweep is worth its O(n).
const STALE_SLACK: usize = 1024;

impl Queue {
    fn push(&mut self, time: Instant, event: Event) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Queued { time, seq, event });
    }

    fn deliver(&mut self, time: Instant, link: LinkId, port: Port, held: &Held) {
        for _ in 0..held.copies {
            self.push(
                time,
                Event::Deliver {
                    link,
                    port,
                    attach_id: held.attach_id,
                    seq: held.seq,
                    frame: held.frame.clone(),
                },
            );
        }
    }
}

/// A simulated network of nodes of type `N` (use `Box<dyn Node>` to mix kinds).
pub struct Network<N: Node> {
    seed: u64,
    now: Instant,
    rng: Rng,
    nodes: Vec<NodeSlot<N>>,
    links: Vec<LinkSlot>,
    /// Which link each port is plugged into, and which plugging-in it is.
    attached: BTreeMap<Port, (LinkId, u64)>,
    next_attach_id: u64,
    next_token: u64,
    /// Nodes touched from outside (added, or lent out by `node_mut`): their transmit queue
    /// and poll wish are taken before the next event.
    dirty: BTreeSet<NodeId>,
    queue: Queue,
    pcap_dir: Option<PathBuf>,
    limits: Limits,
    stats: NetStats,
}

impl<N: Node> Network<N> {
    /// An empty network at virtual time zero whose every random draw derives from `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            now: Instant::ZERO,
            rng: Rng::new(seed),
            nodes: Vec::new(),
            links: Vec::new(),
            attached: BTreeMap::new(),
            next_attach_id: 0,
            next_token: 0,
            dirty: BTreeSet::new(),
            queue: Queue::default(),
            pcap_dir: None,
            limits: Limits::default(),
            stats: NetStats::default(),
        }
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn now(&self) -> Instant {
        self.now
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    pub fn stats(&self) -> NetStats {
        self.stats
    }

    /// Frame copies scheduled for delivery or held back, network-wide.
    pub fn in_flight(&self) -> usize {
        self.queue.in_flight
    }

    /// Events in the queue, stale ones included (for tests of the simulator itself).
    pub fn pending_events(&self) -> usize {
        self.queue.heap.len()
    }

    // ---- building ----

    /// Adds a node; its queued frames and first poll wish are taken before the next event.
    ///
    /// # Panics
    /// If a node of that name exists: names identify nodes in lookups and reports.
    pub fn add_node(&mut self, name: &str, node: N) -> NodeId {
        assert!(
            self.node_by_name(name).is_none(),
            "a node named {name:?} already exists"
        );
        let id = NodeId(self.nodes.len());
        self.nodes.push(NodeSlot {
            name: name.to_owned(),
            node,
            poll_scheduled: None,
            poll_gen: 0,
            last_poll: Instant::ZERO,
            polls_at_last: 0,
        });
        self.dirty.insert(id);
        id
    }

    /// Adds a link with no ports. Its pcap file is opened at once if a directory is set (an
    /// error opening it is kept for [`Network::pcap_error`]).
    ///
    /// # Panics
    /// If a link of that name exists: the name is its pcap file's name.
    pub fn add_link(&mut self, name: &str, cfg: LinkConfig) -> LinkId {
        assert!(
            self.link_by_name(name).is_none(),
            "a link named {name:?} already exists"
        );
        let id = LinkId(self.links.len());
        self.links.push(LinkSlot {
            name: name.to_owned(),
            rng: self.rng.fork(),
            ports: Vec::new(),
            stats: LinkStats::default(),
            capture: CaptureRing::new(cfg.capture_limit),
            pcap: None,
            tap: None,
            busy_until: Instant::ZERO,
            backlog: VecDeque::new(),
            next_seq: 0,
            held: BTreeMap::new(),
            cfg,
        });
        if let Some(dir) = self.pcap_dir.clone() {
            let out = self.open_pcap(&dir, id).unwrap_or_else(PcapOut::failed);
            self.links[id.0].pcap = Some(out);
        }
        id
    }

    /// Plugs a node's interface into a link. An interface is on at most one link: if it is
    /// on another, it is unplugged from there first (the node moved, as a mobile node does).
    pub fn attach(&mut self, link: LinkId, node: NodeId, iface: IfaceId) {
        assert!(node.0 < self.nodes.len(), "{node} is not in this network");
        let port = (node, iface);
        if let Some(&(on, _)) = self.attached.get(&port) {
            if on == link {
                return;
            }
            self.detach(node, iface);
        }
        let id = self.next_attach_id;
        self.next_attach_id += 1;
        self.links[link.0].ports.push(Attachment {
            port,
            id,
            max_seq: None,
        });
        self.attached.insert(port, (link, id));
    }

    /// Pulls the cable: frames in flight towards the interface are lost (counted in the
    /// link's `unplugged`), and what it sends from now on goes nowhere. Returns the link it
    /// was on.
    pub fn detach(&mut self, node: NodeId, iface: IfaceId) -> Option<LinkId> {
        let port = (node, iface);
        let (link, _) = self.attached.remove(&port)?;
        let l = &mut self.links[link.0];
        l.ports.retain(|a| a.port != port);
        if let Some(h) = l.held.remove(&port) {
            l.stats.unplugged += u64::from(h.copies);
            self.queue.in_flight -= usize::from(h.copies);
            self.queue.stale += 1;
        }
        Some(link)
    }

    /// Replaces a link's configuration from now on (frames already in flight keep theirs).
    pub fn set_link_config(&mut self, link: LinkId, cfg: LinkConfig) {
        let l = &mut self.links[link.0];
        l.stats.capture_dropped += l.capture.set_limit(cfg.capture_limit);
        l.cfg = cfg;
    }

    /// Puts a tap on a link: it sees every frame a node sends there (not injected ones)
    /// before the MTU check and the capture, and may let it pass, drop it or replace it.
    pub fn set_tap(&mut self, link: LinkId, tap: Tap) {
        self.links[link.0].tap = Some(tap);
    }

    pub fn clear_tap(&mut self, link: LinkId) {
        self.links[link.0].tap = None;
    }

    // ---- looking ----

    pub fn node(&self, id: NodeId) -> &N {
        &self.nodes[id.0].node
    }

    /// The node, to call it from the test. Whatever it queued meanwhile is sent, and its
    /// poll wish re-read, at the current instant before the next event.
    pub fn node_mut(&mut self, id: NodeId) -> &mut N {
        self.dirty.insert(id);
        &mut self.nodes[id.0].node
    }

    pub fn node_by_name(&self, name: &str) -> Option<NodeId> {
        self.nodes.iter().position(|n| n.name == name).map(NodeId)
    }

    pub fn node_name(&self, id: NodeId) -> &str {
        &self.nodes[id.0].name
    }

    pub fn node_ids(&self) -> impl Iterator<Item = NodeId> + use<N> {
        (0..self.nodes.len()).map(NodeId)
    }

    pub fn link_by_name(&self, name: &str) -> Option<LinkId> {
        self.links.iter().position(|l| l.name == name).map(LinkId)
    }

    pub fn link_name(&self, link: LinkId) -> &str {
        &self.links[link.0].name
    }

    pub fn link_ids(&self) -> impl Iterator<Item = LinkId> + use<N> {
        (0..self.links.len()).map(LinkId)
    }

    pub fn link_config(&self, link: LinkId) -> &LinkConfig {
        &self.links[link.0].cfg
    }

    pub fn link_stats(&self, link: LinkId) -> LinkStats {
        self.links[link.0].stats
    }

    /// The link a node's interface is plugged into.
    pub fn link_of(&self, node: NodeId, iface: IfaceId) -> Option<LinkId> {
        self.attached.get(&(node, iface)).map(|&(l, _)| l)
    }

    /// A link's ports in the order they were attached.
    pub fn ports(&self, link: LinkId) -> Vec<(NodeId, IfaceId)> {
        self.links[link.0].ports.iter().map(|a| a.port).collect()
    }

    /// The frames that entered the link, oldest first (the last `capture_limit` of them).
    pub fn captured(&self, link: LinkId) -> &[Captured] {
        self.links[link.0].capture.as_slice()
    }

    /// Takes the captured frames, so the next look shows only what came after.
    pub fn take_captured(&mut self, link: LinkId) -> Vec<Captured> {
        self.links[link.0].capture.take()
    }

    // ---- pcap ----

    /// Writes every link's frames, from now on, to `<dir>/<link-name>.pcap` (characters
    /// other than letters, digits, `-`, `_` and `.` become `_`), links added later too.
    /// Returns the first error opening a file; the other links still get theirs.
    pub fn set_pcap_dir(&mut self, dir: impl AsRef<Path>) -> io::Result<()> {
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir)?;
        let mut first_err = None;
        for i in 0..self.links.len() {
            let out = match self.open_pcap(&dir, LinkId(i)) {
                Ok(out) => out,
                Err(e) => {
                    let copy = io::Error::new(e.kind(), e.to_string());
                    first_err.get_or_insert(e);
                    PcapOut::failed(copy)
                }
            };
            self.links[i].pcap = Some(out);
        }
        self.pcap_dir = Some(dir);
        first_err.map_or(Ok(()), Err)
    }

    /// Writes one link's frames, from now on, to `w` as pcap (instead of its file, if any).
    pub fn set_pcap_writer(&mut self, link: LinkId, w: Box<dyn Write>) -> io::Result<()> {
        let l = &mut self.links[link.0];
        l.pcap = Some(PcapOut::new(w, l.cfg.link_type)?);
        Ok(())
    }

    /// Pushes buffered pcap records to their files (done anyway when the network drops).
    pub fn flush_pcaps(&mut self) -> io::Result<()> {
        let mut first_err = Ok(());
        for l in &mut self.links {
            if let Some(p) = l.pcap.as_mut()
                && let Err(e) = p.flush()
                && first_err.is_ok()
            {
                first_err = Err(e);
            }
        }
        first_err
    }

    /// Why a link's pcap output stopped (or never started), if it did.
    pub fn pcap_error(&self, link: LinkId) -> Option<&io::Error> {
        self.links[link.0].pcap.as_ref().and_then(|p| p.error())
    }

    fn open_pcap(&self, dir: &Path, link: LinkId) -> io::Result<PcapOut> {
        let l = &self.links[link.0];
        let file: String = l
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let f = std::fs::File::create(dir.join(format!("{file}.pcap")))?;
        let list = std::fs::File::create(dir.join(format!("{file}.injected")))?;
        Ok(PcapOut::new(Box::new(BufWriter::new(f)), l.cfg.link_type)?
            .with_test_frame_list(Box::new(BufWriter::new(list))))
    }

    // ---- running ----

    /// Puts a hand-made frame on a link now, as `from` would have sent it (`None`: as a
    /// tester that is no node; every port hears it). It skips the tap but is otherwise
    /// treated like any frame: MTU, capture, impairments.
    pub fn inject(&mut self, link: LinkId, from: Option<NodeId>, frame: impl Into<Vec<u8>>) {
        // What nodes queued through `node_mut` before this call goes on the wire first.
        self.service_dirty();
        let sender = from.map_or(Sender::Nobody, Sender::Node);
        self.enter_link(link, sender, frame.into(), false);
    }

    /// Processes the next event (after sending what touched nodes queued). False when
    /// there is none left.
    pub fn step(&mut self) -> bool {
        if self.next_time().is_none() {
            return false;
        }
        self.process_next();
        true
    }

    /// Processes every event due at or before `t`, then sets the clock to `t` (never back).
    pub fn run_until(&mut self, t: Instant) {
        while let Some(next) = self.next_time() {
            if next > t {
                break;
            }
            self.process_next();
        }
        self.now = self.now.max(t);
    }

    pub fn run_for(&mut self, d: Duration) {
        self.run_until(self.now + d);
    }

    /// Runs until no event is left (true; the clock stays at the last event) or the next
    /// one is after `limit` (false; the clock is set to `limit`). A node that always has a
    /// timer set is never idle: see [`Network::run_until_quiet`].
    pub fn run_until_idle(&mut self, limit: Instant) -> bool {
        loop {
            match self.next_time() {
                None => return true,
                Some(next) if next > limit => {
                    self.now = self.now.max(limit);
                    return false;
                }
                Some(_) => self.process_next(),
            }
        }
    }

    /// Runs until no frame is in flight on any link (true) or the next event is after
    /// `limit` (false; the clock is set to `limit`). Polls due meanwhile happen; a frame a
    /// node would send at a later timer does not count. For "send this, see the answer".
    pub fn run_until_quiet(&mut self, limit: Instant) -> bool {
        loop {
            let next = self.next_time();
            if self.queue.in_flight == 0 {
                return true;
            }
            match next {
                Some(next) if next <= limit => self.process_next(),
                _ => {
                    self.now = self.now.max(limit);
                    return false;
                }
            }
        }
    }

    /// Sends what touched nodes queued, drops stale events from the top of the heap and
    /// tells when the next live one is due.
    fn next_time(&mut self) -> Option<Instant> {
        self.service_dirty();
        if self.queue.stale > STALE_SLACK && self.queue.stale > self.queue.heap.len() / 2 {
            let mut heap = std::mem::take(&mut self.queue.heap);
            heap.retain(|q| self.is_live(&q.event));
            self.queue.heap = heap;
            self.queue.stale = 0;
        }
        while let Some(top) = self.queue.heap.peek() {
            if self.is_live(&top.event) {
                return Some(top.time);
            }
            self.queue.heap.pop();
            self.queue.stale = self.queue.stale.saturating_sub(1);
        }
        None
    }

    fn service_dirty(&mut self) {
        while let Some(id) = self.dirty.pop_first() {
            self.service(id);
        }
    }

    fn is_live(&self, event: &Event) -> bool {
        match event {
            Event::Deliver { .. } => true,
            Event::Poll { node, generation } => self.nodes[node.0].poll_gen == *generation,
            Event::Release { link, port, token } => self.links[link.0]
                .held
                .get(port)
                .is_some_and(|h| h.token == *token),
        }
    }

    /// Pops and handles the top event, which `next_time` has just found live.
    fn process_next(&mut self) {
        let Some(q) = self.queue.heap.pop() else {
            return;
        };
        self.now = self.now.max(q.time);
        self.stats.events += 1;
        match q.event {
            Event::Deliver {
                link,
                port,
                attach_id,
                seq,
                frame,
            } => {
                self.queue.in_flight -= 1;
                let l = &mut self.links[link.0];
                let Some(a) = l
                    .ports
                    .iter_mut()
                    .find(|a| a.port == port && a.id == attach_id)
                else {
                    l.stats.unplugged += 1;
                    return;
                };
                if a.max_seq.is_some_and(|m| seq < m) {
                    l.stats.reordered += 1;
                }
                a.max_seq = a.max_seq.max(Some(seq));
                l.stats.delivered += 1;
                let (node, iface) = port;
                self.nodes[node.0].node.receive(self.now, iface, &frame);
                self.service(node);
            }
            Event::Poll { node, .. } => {
                let now = self.now;
                let slot = &mut self.nodes[node.0];
                slot.poll_scheduled = None;
                // Bump the generation: any other poll event of this node is now stale.
                slot.poll_gen += 1;
                if slot.last_poll == now {
                    slot.polls_at_last = slot.polls_at_last.saturating_add(1);
                } else {
                    slot.last_poll = now;
                    slot.polls_at_last = 1;
                }
                self.stats.polls += 1;
                slot.node.poll(now);
                self.service(node);
            }
            Event::Release { link, port, .. } => {
                if let Some(h) = self.links[link.0].held.remove(&port) {
                    self.queue.deliver(self.now, link, port, &h);
                }
            }
        }
    }

    /// After the node was called: sends what it queued and schedules the poll it wants.
    fn service(&mut self, id: NodeId) {
        self.dirty.remove(&id);
        let limit = self.limits.transmit_per_service;
        let mut out = Vec::new();
        {
            let node = &mut self.nodes[id.0].node;
            while out.len() < limit {
                match node.transmit() {
                    Some(f) => out.push(f),
                    None => break,
                }
            }
        }
        if out.len() >= limit {
            self.stats.transmit_cut += 1;
        }
        for (iface, frame) in out {
            match self.attached.get(&(id, iface)) {
                Some(&(link, _)) => self.enter_link(link, Sender::Port((id, iface)), frame, true),
                None => self.stats.unattached += 1,
            }
        }
        self.schedule_poll(id);
    }

    fn schedule_poll(&mut self, id: NodeId) {
        let now = self.now;
        let slot = &mut self.nodes[id.0];
        let want = match slot.node.poll_at() {
            // FAR_FUTURE is how a stack says "never" in comparisons.
            Some(t) if t < Instant::FAR_FUTURE => Some(t.max(now)),
            _ => None,
        };
        let want = match want {
            Some(t)
                if t == now
                    && slot.last_poll == now
                    && slot.polls_at_last >= self.limits.polls_per_instant =>
            {
                self.stats.livelock += 1;
                Some(now + Duration::from_micros(1))
            }
            w => w,
        };
        if want == slot.poll_scheduled {
            return;
        }
        if slot.poll_scheduled.is_some() {
            self.queue.stale += 1;
        }
        slot.poll_gen += 1;
        slot.poll_scheduled = want;
        if let Some(t) = want {
            let generation = slot.poll_gen;
            self.queue.push(
                t,
                Event::Poll {
                    node: id,
                    generation,
                },
            );
        }
    }

    /// A frame offered to a link: tap, MTU, queue, capture, then one delivery (or none, or
    /// two, or a held one) per receiving port.
    fn enter_link(&mut self, link: LinkId, sender: Sender, frame: Vec<u8>, tap: bool) {
        let now = self.now;
        let l = &mut self.links[link.0];
        l.stats.sent += 1;
        let mut cap = Captured {
            time: now,
            from: sender.node(),
            frame,
        };
        let mut made_by_test = !matches!(sender, Sender::Port(_));
        if tap && let Some(t) = l.tap.as_mut() {
            match t(&cap) {
                TapVerdict::Pass => {}
                TapVerdict::Drop => {
                    l.stats.tap_dropped += 1;
                    return;
                }
                TapVerdict::Replace(f) => {
                    l.stats.tap_replaced += 1;
                    made_by_test = true;
                    cap.frame = f;
                }
            }
        }
        if cap.frame.len() > l.cfg.max_frame_len() {
            l.stats.too_big += 1;
            return;
        }
        // When the last bit is on the medium: at once, or after the frames queued before it.
        let sent_at = match l.cfg.bandwidth_bps {
            Some(bps) if bps > 0 => {
                while l.backlog.front().is_some_and(|&end| end <= now) {
                    l.backlog.pop_front();
                }
                if l.backlog.len() >= l.cfg.queue_limit {
                    l.stats.queue_dropped += 1;
                    return;
                }
                let end = l.busy_until.max(now) + serialization_time(cap.frame.len(), bps);
                l.busy_until = end;
                l.backlog.push_back(end);
                end
            }
            _ => now,
        };
        let seq = l.next_seq;
        l.next_seq += 1;
        l.stats.captured += 1;
        if let Some(p) = l.pcap.as_mut() {
            p.write(now, &cap.frame, made_by_test);
        }
        let frame: Arc<[u8]> = Arc::from(cap.frame.as_slice());
        l.stats.capture_dropped += l.capture.push(cap);

        for i in 0..l.ports.len() {
            let (port, attach_id) = (l.ports[i].port, l.ports[i].id);
            if sender.excludes(port) {
                continue;
            }
            // Four draws per receiver whatever the configuration, so that changing one
            // impairment does not change which frames another one hits.
            let draws = [
                l.rng.next_u64(),
                l.rng.next_u64(),
                l.rng.next_u64(),
                l.rng.next_u64(),
            ];
            if chance(draws[0], l.cfg.loss) {
                l.stats.lost += 1;
                continue;
            }
            let copies: u8 = if chance(draws[1], l.cfg.duplicate) {
                2
            } else {
                1
            };
            let room = self.limits.in_flight.saturating_sub(self.queue.in_flight);
            if room < usize::from(copies) {
                l.stats.overflow += u64::from(copies);
                continue;
            }
            l.stats.duplicated += u64::from(copies - 1);
            self.queue.in_flight += usize::from(copies);
            let arrival = (sent_at + l.cfg.delay + jitter_of(draws[3], l.cfg.jitter))
                .max(now + Duration::from_micros(1));
            let copy = Held {
                frame: frame.clone(),
                seq,
                copies,
                arrival,
                attach_id,
                token: self.next_token,
            };
            if chance(draws[2], l.cfg.reorder) && !l.held.contains_key(&port) {
                self.next_token += 1;
                self.queue.push(
                    arrival + l.cfg.reorder_hold,
                    Event::Release {
                        link,
                        port,
                        token: copy.token,
                    },
                );
                l.held.insert(port, copy);
                continue;
            }
            self.queue.deliver(arrival, link, port, &copy);
            // A frame held for this receiver goes right behind this one.
            if let Some(h) = l.held.remove(&port) {
                self.queue.deliver(arrival.max(h.arrival), link, port, &h);
                self.queue.stale += 1;
            }
        }
    }
}
