//! What the simulator drives: the sans-IO shape of a stack (frames in, time in, frames
//! out, and when it next wants the clock), so the simulator needs nothing else of it.

use sixstack_core::iface::IfaceId;
use sixstack_core::time::Instant;

/// One node of the network. The simulator calls `receive` when a frame arrives on one of
/// its interfaces and `poll` at the instant `poll_at` asked for; after either (and after
/// the test touched the node through `Network::node_mut`) it drains `transmit` at the same
/// virtual instant and asks `poll_at` again.
pub trait Node {
    fn receive(&mut self, now: Instant, iface: IfaceId, frame: &[u8]);
    fn poll(&mut self, now: Instant);
    /// The next instant at which the node wants `poll`; None = never.
    fn poll_at(&self) -> Option<Instant>;
    /// Frames the node wants sent, taken one at a time.
    fn transmit(&mut self) -> Option<(IfaceId, Vec<u8>)>;
}

/// So that one network can hold nodes of different kinds (`Network<Box<dyn Node>>`).
impl<T: Node + ?Sized> Node for Box<T> {
    fn receive(&mut self, now: Instant, iface: IfaceId, frame: &[u8]) {
        (**self).receive(now, iface, frame)
    }
    fn poll(&mut self, now: Instant) {
        (**self).poll(now)
    }
    fn poll_at(&self) -> Option<Instant> {
        (**self).poll_at()
    }
    fn transmit(&mut self) -> Option<(IfaceId, Vec<u8>)> {
        (**self).transmit()
    }
}
