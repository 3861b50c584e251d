//! The Mobility Header of Mobile IPv6 (RFC 6275 §6.1).

use super::{Dissector, Next};

pub(super) fn dissect_mobility<'a>(_d: &mut Dissector, p: &'a [u8]) -> Next<'a> {
    Next::Data(p)
}
