//! UDP (RFC 768), UDP-Lite (RFC 3828) and TCP (RFC 9293) with its options.

use super::{Dissector, Next};

pub(super) fn dissect_udp<'a>(_d: &mut Dissector, p: &'a [u8]) -> Next<'a> {
    Next::Data(p)
}

pub(super) fn dissect_udplite<'a>(_d: &mut Dissector, p: &'a [u8]) -> Next<'a> {
    Next::Data(p)
}

pub(super) fn dissect_tcp<'a>(_d: &mut Dissector, p: &'a [u8]) -> Next<'a> {
    Next::Data(p)
}
