//! The simulator drives sixstack's own core: a `Stack` is a `Node`.

use sixstack_core::{IfaceId, Instant, Stack};

use crate::Node;

impl Node for Stack {
    fn receive(&mut self, now: Instant, iface: IfaceId, frame: &[u8]) {
        Stack::receive(self, now, iface, frame)
    }

    fn poll(&mut self, now: Instant) {
        Stack::poll(self, now)
    }

    fn poll_at(&self) -> Option<Instant> {
        Stack::poll_at(self)
    }

    fn transmit(&mut self) -> Option<(IfaceId, Vec<u8>)> {
        Stack::transmit(self)
    }
}
