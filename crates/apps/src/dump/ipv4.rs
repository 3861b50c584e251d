//! IPv4, ICMPv4 and ARP, as far as tunnels and translation need them.

use super::{Dissector, Next};

pub(super) fn dissect_ipv4<'a>(_d: &mut Dissector, p: &'a [u8]) -> Next<'a> {
    Next::Data(p)
}

pub(super) fn dissect_icmp<'a>(_d: &mut Dissector, p: &'a [u8]) -> Next<'a> {
    Next::Data(p)
}

pub(super) fn dissect_arp<'a>(_d: &mut Dissector, p: &'a [u8]) -> Next<'a> {
    Next::Data(p)
}
