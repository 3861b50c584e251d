//! ICMPv6 (RFC 4443), Neighbor Discovery (RFC 4861 and extensions), MLDv1/v2.

use super::{Dissector, Next};

pub(super) fn dissect_icmpv6<'a>(_d: &mut Dissector, p: &'a [u8]) -> Next<'a> {
    Next::Data(p)
}
