//! IPv6 extension headers: Hop-by-Hop and Destination Options, Routing, Fragment, AH, ESP.

use super::{Dissector, Next};

pub(super) fn dissect_hopopts<'a>(_d: &mut Dissector, p: &'a [u8]) -> Next<'a> {
    Next::Data(p)
}

pub(super) fn dissect_dstopts<'a>(_d: &mut Dissector, p: &'a [u8]) -> Next<'a> {
    Next::Data(p)
}

pub(super) fn dissect_routing<'a>(_d: &mut Dissector, p: &'a [u8]) -> Next<'a> {
    Next::Data(p)
}

pub(super) fn dissect_fragment<'a>(_d: &mut Dissector, p: &'a [u8]) -> Next<'a> {
    Next::Data(p)
}

pub(super) fn dissect_ah<'a>(_d: &mut Dissector, p: &'a [u8]) -> Next<'a> {
    Next::Data(p)
}

pub(super) fn dissect_esp<'a>(_d: &mut Dissector, p: &'a [u8]) -> Next<'a> {
    Next::Data(p)
}
