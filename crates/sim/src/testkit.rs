//! Building blocks for scenario tests in the TAHI spirit ("send this, expect that on the
//! wire"): sixstack nodes with known addresses, hand-made frames built with the wire crate,
//! and questions about what a link captured. Tests and benchmarks share them.

use std::net::Ipv6Addr;
use std::path::PathBuf;

use sixstack_core::iface::IfaceConfig;
use sixstack_core::{IfaceId, Instant, Stack, StackConfig};
use sixstack_wire::addr::EthernetAddress;
use sixstack_wire::icmpv6;
use sixstack_wire::ipv6;
use sixstack_wire::ipv6opts::{self, Ipv6Option};
use sixstack_wire::ndisc;
use sixstack_wire::ndiscopt;
use sixstack_wire::proto::{EtherType, IpProtocol};

use crate::{Captured, LinkConfig, LinkId, Network, NodeId};

/// The first interface of a node built here.
pub const ETH0: IfaceId = IfaceId(1);
pub const ETH1: IfaceId = IfaceId(2);

/// A locally administered MAC address ending in `n`.
pub fn mac(n: u8) -> EthernetAddress {
    EthernetAddress([0x02, 0x00, 0x5e, 0x00, 0x53, n])
}

pub fn ip(s: &str) -> Ipv6Addr {
    s.parse().expect("test address")
}

/// The modified EUI-64 link-local address of `mac` (RFC 4291 Appendix A).
pub fn eui64_link_local(m: EthernetAddress) -> Ipv6Addr {
    let iid = m.modified_eui64();
    let mut o = [0u8; 16];
    o[0] = 0xfe;
    o[1] = 0x80;
    o[8..].copy_from_slice(&iid);
    Ipv6Addr::from(o)
}

/// A host with one Ethernet interface `eth0` and the given configuration tweaks.
pub fn host_with(seed: u64, m: EthernetAddress, tweak: impl FnOnce(&mut IfaceConfig)) -> Stack {
    let mut s = Stack::new(StackConfig::default(), seed);
    let mut c = IfaceConfig::ethernet("eth0", m);
    tweak(&mut c);
    s.add_interface(Instant::ZERO, c);
    s
}

pub fn host(seed: u64, m: EthernetAddress) -> Stack {
    host_with(seed, m, |_| {})
}

/// One link with `n` default hosts (MACs 1..=n), all up at time zero.
pub fn lan(seed: u64, n: u8) -> (Network<Stack>, LinkId, Vec<NodeId>) {
    let mut net = Network::new(seed);
    let link = net.add_link("lan", LinkConfig::ethernet());
    let mut ids = Vec::new();
    for i in 1..=n {
        let id = net.add_node(
            &format!("h{i}"),
            host(seed.wrapping_add(u64::from(i)), mac(i)),
        );
        net.attach(link, id, ETH0);
        ids.push(id);
    }
    (net, link, ids)
}

/// Where a scenario test leaves its pcaps: `SIXSTACK_PCAP_DIR/<test>` when the suite asks
/// for them (the tshark check reads them all), else `test-output/pcap/<test>` on failure.
pub fn pcap_dir(test: &str) -> Option<PathBuf> {
    let base = std::env::var_os("SIXSTACK_PCAP_DIR")?;
    Some(PathBuf::from(base).join(test))
}

/// Turns on pcap writing for `test` when the suite asks for it.
pub fn record(net: &mut Network<Stack>, test: &str) {
    if let Some(dir) = pcap_dir(test) {
        let _ = std::fs::create_dir_all(&dir);
        let _ = net.set_pcap_dir(&dir);
    }
}

// ----- building frames ---------------------------------------------------------------

pub fn ethernet(src: EthernetAddress, dst: EthernetAddress, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(14 + payload.len());
    f.extend_from_slice(&dst.0);
    f.extend_from_slice(&src.0);
    f.extend_from_slice(&EtherType::IPV6.0.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// The Ethernet multicast address of an IPv6 group (RFC 2464 §7).
pub fn mcast_mac(group: &Ipv6Addr) -> EthernetAddress {
    EthernetAddress::from_ipv6_multicast(group)
}

/// An IPv6 packet; `upper` starts with any extension headers `next_header` names.
pub fn ipv6_packet(
    src: Ipv6Addr,
    dst: Ipv6Addr,
    next_header: IpProtocol,
    hop_limit: u8,
    upper: &[u8],
) -> Vec<u8> {
    let mut p = vec![0u8; ipv6::HEADER_LEN + upper.len()];
    ipv6::Repr {
        traffic_class: 0,
        flow_label: 0,
        payload_len: upper.len() as u16,
        next_header,
        hop_limit,
        src_addr: src,
        dst_addr: dst,
    }
    .emit(&mut p)
    .expect("header fits");
    p[ipv6::HEADER_LEN..].copy_from_slice(upper);
    p
}

/// An ICMPv6 message with a correct checksum for `src` -> `dst`.
pub fn icmpv6_msg(src: Ipv6Addr, dst: Ipv6Addr, repr: &icmpv6::Repr<'_>) -> Vec<u8> {
    let mut m = vec![0u8; repr.buffer_len()];
    repr.emit(&src, &dst, &mut m).expect("message fits");
    m
}

pub fn icmpv6_packet(
    src: Ipv6Addr,
    dst: Ipv6Addr,
    hop_limit: u8,
    repr: &icmpv6::Repr<'_>,
) -> Vec<u8> {
    ipv6_packet(
        src,
        dst,
        IpProtocol::ICMPV6,
        hop_limit,
        &icmpv6_msg(src, dst, repr),
    )
}

pub fn echo_request(src: Ipv6Addr, dst: Ipv6Addr, ident: u16, seq: u16, data: &[u8]) -> Vec<u8> {
    icmpv6_packet(
        src,
        dst,
        64,
        &icmpv6::Repr::EchoRequest {
            ident,
            seq_no: seq,
            data,
        },
    )
}

/// ND options as bytes.
pub fn nd_options(opts: &[ndiscopt::Repr<'_>]) -> Vec<u8> {
    let mut b = vec![0u8; ndiscopt::buffer_len_all(opts)];
    ndiscopt::emit_all(opts, &mut b).expect("options fit");
    b
}

pub fn nd_packet(src: Ipv6Addr, dst: Ipv6Addr, hop_limit: u8, nd: ndisc::Repr<'_>) -> Vec<u8> {
    icmpv6_packet(src, dst, hop_limit, &icmpv6::Repr::Ndisc(nd))
}

/// A Hop-by-Hop or Destination Options header holding `options`, padded, followed by
/// `rest` whose protocol is `next`.
pub fn options_header(next: IpProtocol, options: &[Ipv6Option<'_>], rest: &[u8]) -> Vec<u8> {
    let h = ipv6opts::Repr::padded(next, options.iter().copied()).expect("options fit");
    let mut b = vec![0u8; h.buffer_len()];
    h.emit(&mut b).expect("header fits");
    b.extend_from_slice(rest);
    b
}

// ----- reading captures --------------------------------------------------------------

/// The IPv6 packet in an Ethernet frame.
pub fn ipv6_of(frame: &[u8]) -> Option<&[u8]> {
    if frame.len() < 14 + 40 || frame[12..14] != EtherType::IPV6.0.to_be_bytes() {
        return None;
    }
    Some(&frame[14..])
}

/// What a test wants to know about one captured IPv6 packet.
#[derive(Debug, Clone)]
pub struct Seen {
    pub time: Instant,
    pub from: Option<NodeId>,
    pub eth_dst: EthernetAddress,
    pub eth_src: EthernetAddress,
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    pub hop_limit: u8,
    /// The upper-layer protocol after any extension headers, and its bytes.
    pub proto: IpProtocol,
    pub upper: Vec<u8>,
    /// The whole IPv6 packet.
    pub packet: Vec<u8>,
}

impl Seen {
    pub fn icmp_type(&self) -> Option<u8> {
        (self.proto == IpProtocol::ICMPV6)
            .then(|| self.upper.first().copied())
            .flatten()
    }

    pub fn icmp_code(&self) -> Option<u8> {
        (self.proto == IpProtocol::ICMPV6)
            .then(|| self.upper.get(1).copied())
            .flatten()
    }

    /// The parsed ICMPv6 message, checksum verified.
    pub fn icmp(&self) -> Option<icmpv6::Repr<'_>> {
        let p = icmpv6::Packet::new_checked(&self.upper[..]).ok()?;
        if !p.verify_checksum(&self.src, &self.dst) {
            return None;
        }
        icmpv6::Repr::parse(&p).ok()
    }

    pub fn is_icmp(&self, t: icmpv6::Message) -> bool {
        self.icmp_type() == Some(t.0)
    }

    /// Whether the packet carries a Fragment header.
    pub fn is_fragment(&self) -> bool {
        let p = ipv6::Packet::new_unchecked(&self.packet[..]);
        let chain = sixstack_wire::ipv6chain::Chain::walk(p.next_header(), p.payload());
        chain.fragment.is_some()
    }
}

pub fn seen(c: &Captured) -> Option<Seen> {
    let pkt = ipv6_of(&c.frame)?;
    let p = ipv6::Packet::new_checked(pkt).ok()?;
    let chain = sixstack_wire::ipv6chain::Chain::walk(p.next_header(), p.payload());
    let (proto, off) = chain
        .upper_layer()
        .unwrap_or((IpProtocol::NO_NEXT_HEADER, p.payload().len()));
    Some(Seen {
        time: c.time,
        from: c.from,
        eth_dst: EthernetAddress::from_bytes(&c.frame[0..6])?,
        eth_src: EthernetAddress::from_bytes(&c.frame[6..12])?,
        src: p.src_addr(),
        dst: p.dst_addr(),
        hop_limit: p.hop_limit(),
        proto,
        upper: p.payload().get(off..).unwrap_or_default().to_vec(),
        packet: p.into_inner()[..ipv6::HEADER_LEN + usize::from(p.payload_len())].to_vec(),
    })
}

/// Every IPv6 packet a link captured, in order.
pub fn packets(net: &Network<Stack>, link: LinkId) -> Vec<Seen> {
    net.captured(link).iter().filter_map(seen).collect()
}

/// The ICMPv6 packets of type `t` a link captured, optionally only those sent by `from`.
pub fn icmp(
    net: &Network<Stack>,
    link: LinkId,
    t: icmpv6::Message,
    from: Option<NodeId>,
) -> Vec<Seen> {
    packets(net, link)
        .into_iter()
        .filter(|s| s.is_icmp(t) && (from.is_none() || s.from == from))
        .collect()
}

/// Usable global (non-link-local) addresses of a node's interface.
pub fn globals(s: &Stack, iface: IfaceId) -> Vec<Ipv6Addr> {
    s.assigned_addrs(iface)
        .into_iter()
        .filter(|a| a.segments()[0] & 0xffc0 != 0xfe80 && !a.is_loopback())
        .collect()
}

/// A usable link-local address of a node's interface.
pub fn link_local(s: &Stack, iface: IfaceId) -> Option<Ipv6Addr> {
    s.assigned_addrs(iface)
        .into_iter()
        .find(|a| a.segments()[0] & 0xffc0 == 0xfe80)
}

// ----- more frame builders and readers: IPv6 headers, fragments, UDP -----------------

/// A UDP datagram (header and payload) with a correct checksum for `src` -> `dst`.
pub fn udp_datagram(
    src: Ipv6Addr,
    dst: Ipv6Addr,
    src_port: u16,
    dst_port: u16,
    payload: &[u8],
) -> Vec<u8> {
    let repr = sixstack_wire::udp::Repr {
        src_port,
        dst_port,
        payload_len: payload.len(),
    };
    let mut d = vec![0u8; sixstack_wire::udp::HEADER_LEN + payload.len()];
    repr.emit_with_payload(
        &mut d,
        payload,
        &sixstack_wire::udp::PseudoHeader::V6 { src, dst },
    )
    .expect("datagram fits");
    d
}

/// A Fragment header (RFC 8200 §4.5) followed by `rest`: `offset` in bytes (a multiple
/// of 8), the M flag and the identification.
pub fn fragment_header(
    next: IpProtocol,
    offset: usize,
    more: bool,
    ident: u32,
    rest: &[u8],
) -> Vec<u8> {
    let repr = sixstack_wire::ipv6fragment::Repr {
        next_header: next,
        reserved: 0,
        frag_offset: (offset / 8) as u16,
        res: 0,
        more_frags: more,
        ident,
    };
    let mut b = vec![0u8; repr.buffer_len()];
    repr.emit(&mut b).expect("header fits");
    b.extend_from_slice(rest);
    b
}

impl Seen {
    /// The Fragment header of the packet: (offset in bytes, M flag, identification).
    pub fn fragment(&self) -> Option<(usize, bool, u32)> {
        let p = ipv6::Packet::new_unchecked(&self.packet[..]);
        let chain = sixstack_wire::ipv6chain::Chain::walk(p.next_header(), p.payload());
        let h = chain.fragment?;
        let f =
            sixstack_wire::ipv6fragment::Packet::new_checked(p.payload().get(h.offset..)?).ok()?;
        Some((f.frag_offset_bytes(), f.more_frags(), f.ident()))
    }
}

// ----- Neighbor Discovery frames -----------------------------------------------------

/// An ND message from a tester at `src_mac`, hop limit 255, as a whole Ethernet frame: to
/// the group's MAC when `dst` is multicast, else to `dst_mac`.
pub fn nd_frame(
    src_mac: EthernetAddress,
    dst_mac: EthernetAddress,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    nd: ndisc::Repr<'_>,
) -> Vec<u8> {
    let to = if dst.is_multicast() {
        mcast_mac(&dst)
    } else {
        dst_mac
    };
    ethernet(src_mac, to, &nd_packet(src, dst, 255, nd))
}

/// The ND message of a captured packet, checksum verified.
pub fn nd_of(s: &Seen) -> Option<ndisc::Repr<'_>> {
    match s.icmp()? {
        icmpv6::Repr::Ndisc(nd) => Some(nd),
        _ => None,
    }
}

/// The valid options of an ND message, in order.
pub fn nd_opts<'a>(nd: &ndisc::Repr<'a>) -> Vec<ndiscopt::Repr<'a>> {
    nd.options_iter().flatten().collect()
}
