//! The protocol dissector behind `sixstack dump`: turns a captured frame into layers of
//! Wireshark-named fields, as far as it parses, and says where and why it stopped.
//!
//! The engine here walks the chain (link layer, EtherType, IP protocol numbers, packets
//! quoted in ICMP errors, IPv6 in IPv4) with a bound on its steps; each protocol family
//! has its own file with a `dissect_*` function that adds one layer and names what follows.

mod icmpv6;
mod ipv4;
mod ipv6;
mod ipv6ext;
mod link;
mod mipv6;
pub mod model;
mod render;
pub mod run;
mod transport;

use core::net::{Ipv4Addr, Ipv6Addr};

use sixstack_wire::{EtherType, IpProtocol};

pub use model::{ChecksumStatus, Field, Frame, Layer, Malformed, Value};
pub use render::{render_json, render_line, render_tree};

/// Link types of pcap and pcapng (the tcpdump.org LINKTYPE_ registry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkType(pub u32);

impl LinkType {
    pub const NULL: Self = Self(0);
    pub const ETHERNET: Self = Self(1);
    pub const FDDI: Self = Self(10);
    pub const RAW: Self = Self(101);
    pub const LOOP: Self = Self(108);
    pub const LINUX_SLL: Self = Self(113);
    pub const IPV4: Self = Self(228);
    pub const IPV6: Self = Self(229);
}

/// The addresses an upper-layer checksum's pseudo-header takes, from the nearest IP layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpContext {
    V6 { src: Ipv6Addr, dst: Ipv6Addr },
    V4 { src: Ipv4Addr, dst: Ipv4Addr },
}

/// What a protocol's dissector found after itself.
#[derive(Debug)]
pub enum Next<'a> {
    EtherType(EtherType, &'a [u8]),
    Ip(IpProtocol, &'a [u8]),
    /// The invoking packet quoted in an ICMPv6 error (an IPv6 packet, maybe truncated).
    QuotedIpv6(&'a [u8]),
    /// The datagram quoted in an ICMPv4 error.
    QuotedIpv4(&'a [u8]),
    /// Bytes no dissector claims, shown as a `data` layer.
    Data(&'a [u8]),
    Done,
}

/// More layers than this is a loop or an attack, not a packet.
const MAX_STEPS: usize = 256;

/// The state of one frame's dissection, handed to each protocol's function.
#[derive(Debug, Default)]
pub struct Dissector {
    pub layers: Vec<Layer>,
    pub malformed: Option<Malformed>,
    /// The nearest enclosing IP header's addresses, for pseudo-header checksums.
    pub ip: Option<IpContext>,
    /// How many ICMP-error quotes deep we are: inside one, parse leniently and do not
    /// count a truncated payload as malformed.
    pub quoted: u8,
    /// The upper-layer data that follows is not all in this frame (a capture cut short,
    /// or the first fragment of a datagram): its checksum cannot be verified.
    pub incomplete: bool,
}

impl Dissector {
    /// Starts a new layer and returns it for the protocol's fields.
    pub fn layer(&mut self, protocol: &'static str) -> &mut Layer {
        self.layers.push(Layer::new(protocol));
        // Unwrap: pushed on the line above.
        self.layers.last_mut().unwrap()
    }

    /// The layer most recently started.
    pub fn current(&mut self) -> Option<&mut Layer> {
        self.layers.last_mut()
    }

    /// Marks the frame malformed (the first reason wins). Returning the result ends the
    /// walk; a dissector that can still show what follows (a capture cut short) goes on.
    pub fn malformed(
        &mut self,
        protocol: &'static str,
        reason: impl Into<String>,
    ) -> Next<'static> {
        if self.malformed.is_none() {
            self.malformed = Some(Malformed {
                protocol,
                reason: reason.into(),
            });
        }
        Next::Done
    }

    pub fn is_quoted(&self) -> bool {
        self.quoted > 0
    }

    /// Whether an upper-layer checksum can be verified: all the data it covers is here (a
    /// whole quote in an ICMP error is verified too, as tshark does).
    pub fn can_verify_upper(&self) -> bool {
        !self.incomplete
    }
}

/// Dissects one captured frame of the given link type.
pub fn dissect(linktype: LinkType, data: &[u8]) -> (Vec<Layer>, Option<Malformed>) {
    let mut d = Dissector::default();
    let mut next = match linktype {
        LinkType::ETHERNET => link::dissect_ethernet(&mut d, data),
        LinkType::FDDI => link::dissect_fddi(&mut d, data),
        LinkType::LINUX_SLL => link::dissect_sll(&mut d, data),
        LinkType::NULL | LinkType::LOOP => link::dissect_null(&mut d, data, linktype),
        LinkType::RAW => match data.first().map(|b| b >> 4) {
            Some(4) => Next::EtherType(EtherType::IPV4, data),
            Some(6) => Next::EtherType(EtherType::IPV6, data),
            _ => d.malformed("raw", "first nibble is neither 4 nor 6"),
        },
        LinkType::IPV4 => Next::EtherType(EtherType::IPV4, data),
        LinkType::IPV6 => Next::EtherType(EtherType::IPV6, data),
        other => {
            d.malformed("frame", format!("link type {} is not supported", other.0));
            Next::Data(data)
        }
    };
    for _ in 0..MAX_STEPS {
        next = match next {
            Next::Done => break,
            Next::EtherType(t, p) => match t {
                EtherType::IPV6 => ipv6::dissect_ipv6(&mut d, p),
                EtherType::IPV4 => ipv4::dissect_ipv4(&mut d, p),
                EtherType::ARP => ipv4::dissect_arp(&mut d, p),
                _ => Next::Data(p),
            },
            Next::Ip(proto, p) => dispatch_ip(&mut d, proto, p),
            Next::QuotedIpv6(p) => {
                d.quoted += 1;
                ipv6::dissect_ipv6(&mut d, p)
            }
            Next::QuotedIpv4(p) => {
                d.quoted += 1;
                ipv4::dissect_ipv4(&mut d, p)
            }
            Next::Data(p) => {
                if !p.is_empty() {
                    let l = d.layer("data");
                    l.bytes("data.data", p).uint("data.len", p.len() as u64);
                    l.info(format!("data {}", p.len()));
                }
                Next::Done
            }
        };
    }
    if !matches!(next, Next::Done) {
        d.malformed("frame", format!("more than {MAX_STEPS} layers"));
    }
    (d.layers, d.malformed)
}

fn dispatch_ip<'a>(d: &mut Dissector, proto: IpProtocol, p: &'a [u8]) -> Next<'a> {
    match proto {
        IpProtocol::HOPOPTS => ipv6ext::dissect_hopopts(d, p),
        IpProtocol::DSTOPTS => ipv6ext::dissect_dstopts(d, p),
        IpProtocol::ROUTING => ipv6ext::dissect_routing(d, p),
        IpProtocol::FRAGMENT => ipv6ext::dissect_fragment(d, p),
        IpProtocol::AH => ipv6ext::dissect_ah(d, p),
        IpProtocol::ESP => ipv6ext::dissect_esp(d, p),
        IpProtocol::NO_NEXT_HEADER => {
            if !p.is_empty() {
                // RFC 8200 §4.7: bytes after No Next Header are ignored, but shown.
                return Next::Data(p);
            }
            Next::Done
        }
        IpProtocol::ICMPV6 => icmpv6::dissect_icmpv6(d, p),
        IpProtocol::MOBILITY => mipv6::dissect_mobility(d, p),
        IpProtocol::UDP => transport::dissect_udp(d, p),
        IpProtocol::UDPLITE => transport::dissect_udplite(d, p),
        IpProtocol::TCP => transport::dissect_tcp(d, p),
        IpProtocol::ICMP => ipv4::dissect_icmp(d, p),
        IpProtocol::IPV6 => ipv6::dissect_ipv6(d, p),
        IpProtocol::IPV4 => ipv4::dissect_ipv4(d, p),
        _ => Next::Data(p),
    }
}
