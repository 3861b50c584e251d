//! IPv6 (RFC 8200) and ICMPv6 (RFC 4443) on one link, TAHI style: a tester `t` and the
//! node under test `h`, both sixstack hosts. Hostile packets are hand-made frames
//! injected as if `t` sent them, so that `h`'s answers reach a node that resolves its
//! address and hears them; normal traffic goes through the stack's socket API.

use std::net::Ipv6Addr;

use sixstack_core::socket::SocketHandle;
use sixstack_core::stats::Stats;
use sixstack_core::{Duration, EventKind, Instant, Stack};
use sixstack_sim::testkit::*;
use sixstack_sim::{LinkId, Network, NodeId};
use sixstack_wire::icmpv6::{self, Message};
use sixstack_wire::ipv6opts::{Ipv6Option, OptionType};
use sixstack_wire::proto::IpProtocol;

/// The tester's and the node under test's addresses on the link's prefix.
const T_IP: &str = "2001:db8:1::1";
const H_IP: &str = "2001:db8:1::2";
/// A UDP port with a socket on `h` (see [`Lan::listen`]) and one without.
const OPEN_PORT: u16 = 7777;
const CLOSED_PORT: u16 = 9;
/// Option types of the RFC 4727 experimental value 0x1e with each action in the top
/// two bits (RFC 8200 §4.2): 00 skip, 01 discard, 10 discard and ICMP, 11 discard and
/// ICMP unless the destination is multicast.
const OPT_SKIP: u8 = 0x1e;
const OPT_DISCARD: u8 = 0x5e;
const OPT_ICMP: u8 = 0x9e;
const OPT_ICMP_UNLESS_MCAST: u8 = 0xde;
/// RFC 3692 experimental protocol number, which sixstack does not implement.
const UNKNOWN_PROTO: IpProtocol = IpProtocol(253);

struct Lan {
    net: Network<Stack>,
    lan: LinkId,
    t: NodeId,
    h: NodeId,
    t_ip: Ipv6Addr,
    h_ip: Ipv6Addr,
}

impl Lan {
    /// Two hosts with static addresses, past DAD, `h` knowing `t`'s link-layer address.
    fn new(test: &str, seed: u64) -> Self {
        let (mut net, lan, ids) = lan(seed, 2);
        record(&mut net, test);
        let (t, h) = (ids[0], ids[1]);
        let (t_ip, h_ip) = (ip(T_IP), ip(H_IP));
        net.node_mut(t)
            .add_address(Instant::ZERO, ETH0, t_ip, 64)
            .unwrap();
        net.node_mut(h)
            .add_address(Instant::ZERO, ETH0, h_ip, 64)
            .unwrap();
        net.run_until(Instant::from_secs(5));
        assert!(net.node(t).assigned_addrs(ETH0).contains(&t_ip));
        assert!(net.node(h).assigned_addrs(ETH0).contains(&h_ip));
        let mut l = Self {
            net,
            lan,
            t,
            h,
            t_ip,
            h_ip,
        };
        // h resolves t once, so that its answers to later tests leave at once.
        l.inject(&echo_request(t_ip, h_ip, 1, 1, b"warm-up"));
        l.net.run_for(Duration::from_secs(1));
        assert_eq!(
            l.sent_by_h(0)
                .iter()
                .filter(|s| s.is_icmp(Message::ECHO_REPLY))
                .count(),
            1
        );
        l
    }

    /// A frame from `t` to `h`'s MAC carrying `pkt`.
    fn inject(&mut self, pkt: &[u8]) {
        self.net
            .inject(self.lan, Some(self.t), ethernet(mac(1), mac(2), pkt));
    }

    /// A frame from `t` to a multicast MAC carrying `pkt` (to a group, or a unicast
    /// destination in a link-layer multicast frame).
    fn inject_mcast(&mut self, pkt: &[u8], group: Ipv6Addr) {
        self.net.inject(
            self.lan,
            Some(self.t),
            ethernet(mac(1), mcast_mac(&group), pkt),
        );
    }

    fn mark(&self) -> usize {
        self.net.captured(self.lan).len()
    }

    /// The IPv6 packets `h` sent since `mark`.
    fn sent_by_h(&self, mark: usize) -> Vec<Seen> {
        self.net.captured(self.lan)[mark..]
            .iter()
            .filter_map(seen)
            .filter(|s| s.from == Some(self.h))
            .collect()
    }

    /// The ICMPv6 error messages `h` sent since `mark`.
    fn errors_from_h(&self, mark: usize) -> Vec<Seen> {
        self.sent_by_h(mark)
            .into_iter()
            .filter(|s| s.icmp_type().is_some_and(|t| t < 128))
            .collect()
    }

    fn h_stats(&self) -> Stats {
        self.net.node(self.h).stats().clone()
    }

    /// A UDP socket on `h` bound to [`OPEN_PORT`].
    fn listen(&mut self) -> SocketHandle {
        let h = self.net.node_mut(self.h);
        let s = h.udp_open().unwrap();
        h.bind(s, Ipv6Addr::UNSPECIFIED, OPEN_PORT, None).unwrap();
        s
    }

    /// A UDP datagram from `t` to `h` as the upper layer of a hand-made packet.
    fn udp(&self, port: u16, payload: &[u8]) -> Vec<u8> {
        udp_datagram(self.t_ip, self.h_ip, 40000, port, payload)
    }

    fn run(&mut self) {
        self.net.run_for(Duration::from_millis(500));
    }
}

/// The one error in `errs`, checked to be what RFC 4443 says for a packet `t` sent to `h`:
/// from `h`'s address to `t`'s, a valid checksum.
fn only_error<'a>(l: &Lan, errs: &'a [Seen]) -> icmpv6::Repr<'a> {
    assert_eq!(errs.len(), 1, "one ICMPv6 error expected: {errs:?}");
    assert_eq!((errs[0].src, errs[0].dst), (l.h_ip, l.t_ip));
    errs[0].icmp().expect("valid ICMPv6 error")
}

/// The Parameter Problem in `errs`: (code, pointer, invoking packet).
fn param_problem<'a>(l: &Lan, errs: &'a [Seen]) -> (u8, u32, &'a [u8]) {
    match only_error(l, errs) {
        icmpv6::Repr::ParamProblem {
            code,
            pointer,
            invoking,
        } => (code, pointer, invoking),
        other => panic!("Parameter Problem expected, got {other:?}"),
    }
}

fn option(t: u8) -> Ipv6Option<'static> {
    Ipv6Option::Unknown {
        option_type: OptionType(t),
        data: &[0, 0],
    }
}

/// A Routing header of `routing_type` with one address and `segments_left`, then `rest`.
fn routing_header(next: IpProtocol, routing_type: u8, segments_left: u8, rest: &[u8]) -> Vec<u8> {
    let mut b = vec![next.0, 2, routing_type, segments_left, 0, 0, 0, 0];
    b.extend_from_slice(&ip("2001:db8:9::9").octets());
    b.extend_from_slice(rest);
    b
}

// ----- RFC 8200 §3: the IPv6 header -----------------------------------------------------

#[test]
fn rfc8200_3_version_not_6_dropped_and_counted() {
    let mut l = Lan::new("rfc8200_3_version_not_6_dropped_and_counted", 1);
    let before = l.h_stats();
    let mark = l.mark();
    let mut pkt = echo_request(l.t_ip, l.h_ip, 7, 1, b"version 4?");
    pkt[0] = 0x40 | (pkt[0] & 0x0f);
    l.inject(&pkt);
    // Version 7 too: only 6 is IPv6.
    pkt[0] = 0x70 | (pkt[0] & 0x0f);
    l.inject(&pkt);
    l.run();
    let after = l.h_stats();
    assert_eq!(after.ip.in_hdr_errors - before.ip.in_hdr_errors, 2);
    assert_eq!(
        after.drops_for("IP version not 6") - before.drops_for("IP version not 6"),
        2
    );
    assert_eq!(after.ip.in_delivers, before.ip.in_delivers);
    assert!(
        l.sent_by_h(mark).is_empty(),
        "no answer to a non-IPv6 packet"
    );
}

#[test]
fn rfc8200_3_payload_length_beyond_frame_dropped() {
    let mut l = Lan::new("rfc8200_3_payload_length_beyond_frame_dropped", 2);
    let before = l.h_stats();
    let mark = l.mark();
    let mut pkt = echo_request(l.t_ip, l.h_ip, 7, 1, b"short by 100 bytes");
    let plen = u16::from_be_bytes([pkt[4], pkt[5]]) + 100;
    pkt[4..6].copy_from_slice(&plen.to_be_bytes());
    l.inject(&pkt);
    l.run();
    let after = l.h_stats();
    assert_eq!(after.ip.in_truncated_pkts - before.ip.in_truncated_pkts, 1);
    assert_eq!(
        after.drops_for("IPv6 packet truncated") - before.drops_for("IPv6 packet truncated"),
        1
    );
    assert_eq!(after.icmp.in_msgs, before.icmp.in_msgs);
    assert!(l.sent_by_h(mark).is_empty());
}

#[test]
fn rfc8200_3_link_padding_after_payload_ignored() {
    let mut l = Lan::new("rfc8200_3_link_padding_after_payload_ignored", 3);
    let mark = l.mark();
    let pkt = echo_request(l.t_ip, l.h_ip, 0x4242, 9, b"padded");
    let mut frame = ethernet(mac(1), mac(2), &pkt);
    // Trailing bytes that the Payload Length does not cover: link padding, not data.
    frame.extend_from_slice(&[0xa5; 24]);
    l.net.inject(l.lan, Some(l.t), frame);
    l.run();
    let replies: Vec<Seen> = l
        .sent_by_h(mark)
        .into_iter()
        .filter(|s| s.is_icmp(Message::ECHO_REPLY))
        .collect();
    assert_eq!(replies.len(), 1);
    match replies[0].icmp().expect("checksum over the payload only") {
        icmpv6::Repr::EchoReply {
            ident,
            seq_no,
            data,
        } => assert_eq!((ident, seq_no, data), (0x4242, 9, &b"padded"[..])),
        other => panic!("{other:?}"),
    }
    assert_eq!(replies[0].packet.len(), pkt.len());
}

// ----- RFC 8200 §4: extension headers -------------------------------------------------

#[test]
fn rfc8200_4_extension_headers_processed_in_order() {
    let mut l = Lan::new("rfc8200_4_extension_headers_processed_in_order", 4);
    let sock = l.listen();
    // A chain every header of which passes: Hop-by-Hop (an option to skip), Routing with
    // nothing left to do, Destination Options (an option to skip), UDP.
    let udp = l.udp(OPEN_PORT, b"through the chain");
    let dst = options_header(IpProtocol::UDP, &[option(OPT_SKIP)], &udp);
    let rt = routing_header(IpProtocol::DSTOPTS, 0, 0, &dst);
    let hbh = options_header(IpProtocol::ROUTING, &[option(OPT_SKIP)], &rt);
    l.inject(&ipv6_packet(l.t_ip, l.h_ip, IpProtocol::HOPOPTS, 64, &hbh));
    l.run();
    let d = l.net.node_mut(l.h).recv(sock).expect("delivered");
    assert_eq!(d.payload, b"through the chain");

    // The first header that fails decides: an option asking for an ICMP error in the
    // Destination Options header comes before the unknown protocol it names, so the
    // answer is code 2 at the option, not code 1 at the Next Header.
    let mark = l.mark();
    let dst = options_header(UNKNOWN_PROTO, &[option(OPT_ICMP)], &[0; 8]);
    let hbh = options_header(IpProtocol::DSTOPTS, &[option(OPT_SKIP)], &dst);
    let pkt = ipv6_packet(l.t_ip, l.h_ip, IpProtocol::HOPOPTS, 64, &hbh);
    l.inject(&pkt);
    l.run();
    let errs = l.errors_from_h(mark);
    let (code, pointer, invoking) = param_problem(&l, &errs);
    assert_eq!(code, 2);
    // IPv6 header 40, Hop-by-Hop 8, then the Destination Options' first option.
    assert_eq!(pointer, 48 + 2);
    assert_eq!(pkt[pointer as usize], OPT_ICMP);
    assert_eq!(invoking, &pkt[..]);

    // With that option skippable, processing goes on to the unknown Next Header.
    let mark = l.mark();
    let dst = options_header(UNKNOWN_PROTO, &[option(OPT_SKIP)], &[0; 8]);
    let hbh = options_header(IpProtocol::DSTOPTS, &[option(OPT_SKIP)], &dst);
    let pkt = ipv6_packet(l.t_ip, l.h_ip, IpProtocol::HOPOPTS, 64, &hbh);
    l.inject(&pkt);
    l.run();
    let errs = l.errors_from_h(mark);
    let (code, pointer, _) = param_problem(&l, &errs);
    assert_eq!((code, pointer), (1, 48));
    assert_eq!(pkt[48], UNKNOWN_PROTO.0);
}

#[test]
fn rfc8200_4_1_hop_by_hop_not_first_parameter_problem_code_1() {
    let mut l = Lan::new(
        "rfc8200_4_1_hop_by_hop_not_first_parameter_problem_code_1",
        5,
    );
    let mark = l.mark();
    // A Destination Options header long enough that the error's quote (1232 bytes) ends
    // inside it: the pointer lands in what is quoted all the same, and the quote holds
    // no misplaced header for a dissector to reject in h's own message.
    let filler = Ipv6Option::Unknown {
        option_type: OptionType(OPT_SKIP),
        data: &[0; 250],
    };
    let hbh = options_header(IpProtocol::NO_NEXT_HEADER, &[], &[]);
    let dst = options_header(IpProtocol::HOPOPTS, &[filler; 5], &hbh);
    let pkt = ipv6_packet(l.t_ip, l.h_ip, IpProtocol::DSTOPTS, 64, &dst);
    assert!(pkt.len() > 40 + 1240 && pkt.len() <= 1500);
    l.inject(&pkt);
    l.run();
    let errs = l.errors_from_h(mark);
    let (code, pointer, invoking) = param_problem(&l, &errs);
    // Code 1 (unrecognized Next Header) at the Destination Options' Next Header field,
    // which names Hop-by-Hop where it may not be.
    assert_eq!((code, pointer), (1, 40));
    assert_eq!(pkt[40], IpProtocol::HOPOPTS.0);
    assert_eq!(invoking, &pkt[..1232]);
    let s = l.h_stats();
    assert_eq!(s.drops_for("Hop-by-Hop header not first"), 1);
    assert_eq!(s.ip.in_hdr_errors, 1);
}

/// Sends `t`'s packet with a Destination Options header holding option type `opt` to
/// `dst` (unicast `h` or the all-nodes group) and returns what `h` answered, the packet
/// and whether `h` delivered it.
fn option_case(l: &mut Lan, opt: u8, dst: Ipv6Addr) -> (Vec<Seen>, Vec<u8>, bool) {
    let mark = l.mark();
    let before = l.h_stats();
    let echo = icmpv6_msg(
        l.t_ip,
        dst,
        &icmpv6::Repr::EchoRequest {
            ident: 0x0a0b,
            seq_no: u16::from(opt),
            data: b"options",
        },
    );
    let body = options_header(IpProtocol::ICMPV6, &[option(opt)], &echo);
    let pkt = ipv6_packet(l.t_ip, dst, IpProtocol::DSTOPTS, 64, &body);
    if dst.is_multicast() {
        l.inject_mcast(&pkt, dst);
    } else {
        l.inject(&pkt);
    }
    l.run();
    let delivered = l.h_stats().icmp.in_by_type[128] > before.icmp.in_by_type[128];
    (l.sent_by_h(mark), pkt, delivered)
}

#[test]
fn rfc8200_4_2_option_action_00_skipped() {
    let mut l = Lan::new("rfc8200_4_2_option_action_00_skipped", 6);
    for dst in [l.h_ip, ip("ff02::1")] {
        let (sent, _, delivered) = option_case(&mut l, OPT_SKIP, dst);
        assert!(delivered, "to {dst}");
        assert_eq!(sent.len(), 1, "to {dst}: {sent:?}");
        assert!(sent[0].is_icmp(Message::ECHO_REPLY));
        assert_eq!(sent[0].dst, l.t_ip);
    }
}

#[test]
fn rfc8200_4_2_option_action_01_discarded_silently() {
    let mut l = Lan::new("rfc8200_4_2_option_action_01_discarded_silently", 7);
    let reason = "unrecognized option (discard)";
    for dst in [l.h_ip, ip("ff02::1")] {
        let before = l.h_stats().drops_for(reason);
        let (sent, _, delivered) = option_case(&mut l, OPT_DISCARD, dst);
        assert!(!delivered);
        assert!(sent.is_empty(), "to {dst}: {sent:?}");
        assert_eq!(l.h_stats().drops_for(reason) - before, 1);
    }
}

#[test]
fn rfc8200_4_2_option_action_10_param_problem_code_2_even_to_multicast() {
    let mut l = Lan::new(
        "rfc8200_4_2_option_action_10_param_problem_code_2_even_to_multicast",
        8,
    );
    for dst in [l.h_ip, ip("ff02::1")] {
        let (sent, pkt, delivered) = option_case(&mut l, OPT_ICMP, dst);
        assert!(!delivered);
        let errs: Vec<Seen> = sent
            .into_iter()
            .filter(|s| s.icmp_type().is_some_and(|t| t < 128))
            .collect();
        assert_eq!(errs.len(), 1, "to {dst}");
        // From a unicast address of h, even when the packet went to a group.
        assert_eq!((errs[0].src, errs[0].dst), (l.h_ip, l.t_ip), "to {dst}");
        match errs[0].icmp() {
            Some(icmpv6::Repr::ParamProblem {
                code,
                pointer,
                invoking,
            }) => {
                assert_eq!((code, pointer), (2, 42), "to {dst}");
                assert_eq!(pkt[42], OPT_ICMP);
                assert_eq!(invoking, &pkt[..]);
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn rfc8200_4_2_option_action_11_param_problem_only_when_not_multicast() {
    let mut l = Lan::new(
        "rfc8200_4_2_option_action_11_param_problem_only_when_not_multicast",
        9,
    );
    let h_ip = l.h_ip;
    let (sent, pkt, delivered) = option_case(&mut l, OPT_ICMP_UNLESS_MCAST, h_ip);
    assert!(!delivered);
    let (code, pointer, invoking) = param_problem(&l, &sent);
    assert_eq!((code, pointer), (2, 42));
    assert_eq!(pkt[42], OPT_ICMP_UNLESS_MCAST);
    assert_eq!(invoking, &pkt[..]);

    let reason = "unrecognized option (discard, ICMP unless multicast)";
    let before = l.h_stats().drops_for(reason);
    let (sent, _, delivered) = option_case(&mut l, OPT_ICMP_UNLESS_MCAST, ip("ff02::1"));
    assert!(!delivered);
    assert!(sent.is_empty(), "{sent:?}");
    assert_eq!(l.h_stats().drops_for(reason) - before, 1);
}

#[test]
fn rfc8200_4_unknown_next_header_param_problem_code_1() {
    let mut l = Lan::new("rfc8200_4_unknown_next_header_param_problem_code_1", 10);
    // Right after the IPv6 header: the pointer is its Next Header field, byte 6.
    let before = l.h_stats();
    let mark = l.mark();
    let pkt = ipv6_packet(l.t_ip, l.h_ip, UNKNOWN_PROTO, 64, &[0; 16]);
    l.inject(&pkt);
    l.run();
    let errs = l.errors_from_h(mark);
    let (code, pointer, invoking) = param_problem(&l, &errs);
    assert_eq!((code, pointer), (1, 6));
    assert_eq!(invoking, &pkt[..]);
    let after = l.h_stats();
    assert_eq!(after.ip.in_unknown_protos - before.ip.in_unknown_protos, 1);

    // Behind a Destination Options header: that header's Next Header field.
    let mark = l.mark();
    let body = options_header(UNKNOWN_PROTO, &[], &[0; 16]);
    let pkt = ipv6_packet(l.t_ip, l.h_ip, IpProtocol::DSTOPTS, 64, &body);
    l.inject(&pkt);
    l.run();
    let errs = l.errors_from_h(mark);
    let (code, pointer, _) = param_problem(&l, &errs);
    assert_eq!((code, pointer), (1, 40));
}

#[test]
fn rfc5095_3_routing_header_type_0_segments_left_param_problem() {
    let mut l = Lan::new(
        "rfc5095_3_routing_header_type_0_segments_left_param_problem",
        11,
    );
    let sock = l.listen();
    let mark = l.mark();
    let udp = l.udp(OPEN_PORT, b"source routed");
    let body = routing_header(IpProtocol::UDP, 0, 1, &udp);
    let pkt = ipv6_packet(l.t_ip, l.h_ip, IpProtocol::ROUTING, 64, &body);
    l.inject(&pkt);
    l.run();
    let errs = l.errors_from_h(mark);
    let (code, pointer, invoking) = param_problem(&l, &errs);
    // Code 0 (erroneous header field) at the Routing Type, byte 2 of the header.
    assert_eq!((code, pointer), (0, 42));
    assert_eq!(invoking, &pkt[..]);
    assert_eq!(l.h_stats().drops_for("routing header type 0 (RFC 5095)"), 1);
    // Neither delivered nor sent on to the next address.
    assert_eq!(
        l.net.node_mut(l.h).recv(sock),
        Err(sixstack_core::Error::WouldBlock)
    );
    assert!(
        l.sent_by_h(mark)
            .iter()
            .all(|s| s.dst != ip("2001:db8:9::9"))
    );
}

#[test]
fn rfc8200_4_4_routing_header_segments_left_zero_ignored() {
    let mut l = Lan::new("rfc8200_4_4_routing_header_segments_left_zero_ignored", 12);
    let sock = l.listen();
    let mark = l.mark();
    // Type 0 and an unknown type alike: with no segment left the header is skipped.
    for (i, rtype) in [0u8, 200].into_iter().enumerate() {
        let udp = l.udp(OPEN_PORT, &[i as u8; 12]);
        let body = routing_header(IpProtocol::UDP, rtype, 0, &udp);
        l.inject(&ipv6_packet(l.t_ip, l.h_ip, IpProtocol::ROUTING, 64, &body));
        l.run();
        let d = l.net.node_mut(l.h).recv(sock).expect("delivered");
        assert_eq!(d.payload, vec![i as u8; 12]);
        assert_eq!((d.src, d.dst_port), (l.t_ip, OPEN_PORT));
    }
    assert!(l.errors_from_h(mark).is_empty());
}

#[test]
fn rfc8200_4_7_no_next_header_delivered_silently() {
    let mut l = Lan::new("rfc8200_4_7_no_next_header_delivered_silently", 13);
    let before = l.h_stats();
    let mark = l.mark();
    // Bytes after a No Next Header are ignored.
    l.inject(&ipv6_packet(
        l.t_ip,
        l.h_ip,
        IpProtocol::NO_NEXT_HEADER,
        64,
        &[0xee; 20],
    ));
    // Also at the end of a Destination Options header.
    let body = options_header(IpProtocol::NO_NEXT_HEADER, &[], &[]);
    l.inject(&ipv6_packet(l.t_ip, l.h_ip, IpProtocol::DSTOPTS, 64, &body));
    l.run();
    let after = l.h_stats();
    assert_eq!(after.ip.in_delivers - before.ip.in_delivers, 2);
    assert_eq!(after.total_drops(), before.total_drops());
    assert_eq!(after.ip.in_unknown_protos, before.ip.in_unknown_protos);
    assert!(l.sent_by_h(mark).is_empty(), "{:?}", l.sent_by_h(mark));
}

// ----- RFC 8200 §4.5: fragmentation ---------------------------------------------------

#[test]
fn rfc8200_4_5_udp_larger_than_mtu_fragmented_and_reassembled() {
    let mut l = Lan::new(
        "rfc8200_4_5_udp_larger_than_mtu_fragmented_and_reassembled",
        14,
    );
    let (t, h, t_ip) = (l.t, l.h, l.t_ip);
    let rx = {
        let n = l.net.node_mut(t);
        let s = n.udp_open().unwrap();
        n.bind(s, Ipv6Addr::UNSPECIFIED, OPEN_PORT, None).unwrap();
        s
    };
    let payload: Vec<u8> = (0..3000u32).map(|i| (i * 7 % 251) as u8).collect();
    let mark = l.mark();
    let now = l.net.now();
    let n = l.net.node_mut(h);
    let tx = n.udp_open().unwrap();
    assert_eq!(
        n.send_to(now, tx, t_ip, OPEN_PORT, None, &payload),
        Ok(3000)
    );
    l.run();
    let frags: Vec<Seen> = l
        .sent_by_h(mark)
        .into_iter()
        .filter(|s| s.dst == t_ip && s.is_fragment())
        .collect();
    // 3008 bytes of UDP in 1448-byte pieces (1500 - 40 - 8, rounded down to 8).
    assert_eq!(frags.len(), 3);
    let ident = frags[0].fragment().unwrap().2;
    let mut expect_off = 0;
    for (i, f) in frags.iter().enumerate() {
        assert!(f.packet.len() <= 1500, "fragment {i} is {}", f.packet.len());
        let (off, more, id) = f.fragment().unwrap();
        assert_eq!(off % 8, 0);
        assert_eq!(off, expect_off);
        assert_eq!(id, ident, "one Identification for all fragments");
        assert_eq!(more, i + 1 < frags.len());
        expect_off += f.packet.len() - 48;
    }
    assert_eq!(expect_off, 3008);
    let d = l.net.node_mut(t).recv(rx).expect("reassembled by the peer");
    assert_eq!(d.payload, payload);
    let ts = l.net.node(t).stats();
    assert_eq!((ts.ip.reasm_reqds, ts.ip.reasm_oks), (3, 1));
    let hs = l.net.node(h).stats();
    assert_eq!((hs.ip.out_frag_oks, hs.ip.out_frag_creates), (1, 3));
}

/// The first (offset 0) and last fragments of a 24-byte UDP datagram to `h`'s open port,
/// in two 16- and 8-byte pieces.
fn two_fragments(l: &Lan, ident: u32, payload: &[u8; 16]) -> (Vec<u8>, Vec<u8>) {
    let udp = l.udp(OPEN_PORT, payload);
    let first = ipv6_packet(
        l.t_ip,
        l.h_ip,
        IpProtocol::FRAGMENT,
        64,
        &fragment_header(IpProtocol::UDP, 0, true, ident, &udp[..16]),
    );
    let last = ipv6_packet(
        l.t_ip,
        l.h_ip,
        IpProtocol::FRAGMENT,
        64,
        &fragment_header(IpProtocol::UDP, 16, false, ident, &udp[16..]),
    );
    (first, last)
}

#[test]
fn rfc8200_4_5_reassembly_timeout_time_exceeded_when_first_fragment_came() {
    let mut l = Lan::new(
        "rfc8200_4_5_reassembly_timeout_time_exceeded_when_first_fragment_came",
        15,
    );
    let (first, _) = two_fragments(&l, 0x1234, b"never completed.");
    let mark = l.mark();
    let sent_at = l.net.now();
    l.inject(&first);
    l.net.run_until(sent_at + Duration::from_secs(59));
    assert!(l.errors_from_h(mark).is_empty(), "not before 60 s");
    l.net.run_until(sent_at + Duration::from_secs(61));
    let errs = l.errors_from_h(mark);
    match only_error(&l, &errs) {
        icmpv6::Repr::TimeExceeded { code, invoking } => {
            assert_eq!(code, 1, "fragment reassembly time exceeded");
            assert_eq!(invoking, &first[..], "quotes the first fragment");
        }
        other => panic!("{other:?}"),
    }
    let at = errs[0].time;
    assert!(
        at >= sent_at + Duration::from_secs(60)
            && at < sent_at + Duration::from_secs(60) + Duration::from_millis(10),
        "sent at {at}"
    );
    let s = l.h_stats();
    assert_eq!(s.drops_for("reassembly timeout"), 1);
    assert_eq!(s.ip.reasm_fails, 1);
    let events = l.net.node_mut(l.h).take_events();
    assert!(
        events
            .iter()
            .any(|e| matches!(e.kind, EventKind::ReassemblyTimeout { src } if src == l.t_ip))
    );
}

#[test]
fn rfc8200_4_5_reassembly_timeout_silent_without_first_fragment() {
    let mut l = Lan::new(
        "rfc8200_4_5_reassembly_timeout_silent_without_first_fragment",
        16,
    );
    let (_, last) = two_fragments(&l, 0x5678, b"first never came");
    let mark = l.mark();
    let sent_at = l.net.now();
    l.inject(&last);
    l.net.run_until(sent_at + Duration::from_secs(65));
    let s = l.h_stats();
    assert_eq!(
        s.drops_for("reassembly timeout"),
        1,
        "the datagram was abandoned"
    );
    assert_eq!(s.ip.reasm_fails, 1);
    assert!(l.errors_from_h(mark).is_empty(), "but no Time Exceeded");
    assert_eq!(s.icmp.out_by_type[3], 0);
}

#[test]
fn rfc5722_overlapping_fragments_drop_datagram() {
    let mut l = Lan::new("rfc5722_overlapping_fragments_drop_datagram", 17);
    let sock = l.listen();
    let udp = l.udp(OPEN_PORT, &[0x33; 32]);
    let (t_ip, h_ip) = (l.t_ip, l.h_ip);
    let frag = |off: usize, more: bool, data: &[u8]| {
        ipv6_packet(
            t_ip,
            h_ip,
            IpProtocol::FRAGMENT,
            64,
            &fragment_header(IpProtocol::UDP, off, more, 0xabcd, data),
        )
    };
    let mark = l.mark();
    let before = l.h_stats();
    // Bytes 0..24, then 16..32 (overlapping 16..24), then every fragment that would have
    // made a whole datagram: 24..40 last.
    let pieces = [
        frag(0, true, &udp[..24]),
        frag(16, true, &udp[16..32]),
        frag(24, false, &udp[24..]),
        frag(0, true, &udp[..24]),
    ];
    for p in &pieces {
        l.inject(p);
        l.run();
    }
    assert_eq!(
        l.net.node_mut(l.h).recv(sock),
        Err(sixstack_core::Error::WouldBlock),
        "the whole datagram is discarded"
    );
    let after = l.h_stats();
    assert_eq!(after.ip.reasm_oks, before.ip.reasm_oks);
    assert_eq!(after.udp.in_datagrams, before.udp.in_datagrams);
    assert!(l.errors_from_h(mark).is_empty(), "silently");
    assert_eq!(after.drops_for("overlapping fragments"), 1);
    // The fragments that come after the overlap are dropped too, until the timeout.
    assert_eq!(after.drops_for("fragment of a discarded datagram"), 2);

    // Once the entry has timed out (silently: RFC 5722 drops it without an error), the
    // same identification reassembles again.
    l.net.run_for(Duration::from_secs(61));
    assert!(l.errors_from_h(mark).is_empty());
    l.inject(&frag(0, true, &udp[..24]));
    l.inject(&frag(24, false, &udp[24..]));
    l.run();
    assert_eq!(l.net.node_mut(l.h).recv(sock).unwrap().payload, [0x33; 32]);
}

#[test]
fn rfc6946_atomic_fragment_processed_alone() {
    let mut l = Lan::new("rfc6946_atomic_fragment_processed_alone", 18);
    let sock = l.listen();
    // A fragmented datagram with identification 77 is waiting for its last fragment.
    let (first, last) = two_fragments(&l, 77, b"fragmented 77...");
    l.inject(&first);
    l.run();
    // An atomic fragment (offset 0, M clear) with the same identification.
    let udp = l.udp(OPEN_PORT, b"atomic");
    let atomic = ipv6_packet(
        l.t_ip,
        l.h_ip,
        IpProtocol::FRAGMENT,
        64,
        &fragment_header(IpProtocol::UDP, 0, false, 77, &udp),
    );
    l.inject(&atomic);
    l.run();
    let d = l.net.node_mut(l.h).recv(sock).expect("delivered at once");
    assert_eq!(d.payload, b"atomic");
    // It left the other datagram alone: that one completes as it would have.
    l.inject(&last);
    l.run();
    let d = l
        .net
        .node_mut(l.h)
        .recv(sock)
        .expect("the other datagram too");
    assert_eq!(d.payload, b"fragmented 77...");
    assert_eq!(l.h_stats().ip.reasm_oks, 2);
}

#[test]
fn rfc7112_5_first_fragment_without_upper_layer_header_dropped() {
    let mut l = Lan::new(
        "rfc7112_5_first_fragment_without_upper_layer_header_dropped",
        19,
    );
    let sock = l.listen();
    let udp = l.udp(OPEN_PORT, &[0x77; 16]);
    let dst = options_header(IpProtocol::UDP, &[option(OPT_SKIP)], &udp);
    assert_eq!(dst.len(), 8 + 24);
    let frag = |off: usize, more: bool, data: &[u8]| {
        ipv6_packet(
            l.t_ip,
            l.h_ip,
            IpProtocol::FRAGMENT,
            64,
            &fragment_header(IpProtocol::DSTOPTS, off, more, 0x7112, data),
        )
    };
    // The first fragment ends where the UDP header would start: the header chain is not
    // all in it.
    let first = frag(0, true, &dst[..8]);
    let rest = frag(8, false, &dst[8..]);
    let mark = l.mark();
    l.inject(&first);
    l.inject(&rest);
    l.run();
    let errs = l.errors_from_h(mark);
    let (code, pointer, invoking) = param_problem(&l, &errs);
    // RFC 8200 §4.5: code 3, pointer zero.
    assert_eq!((code, pointer), (3, 0));
    assert_eq!(invoking, &first[..]);
    assert_eq!(
        l.net.node_mut(l.h).recv(sock),
        Err(sixstack_core::Error::WouldBlock)
    );

    // The same with the chain cut inside the Destination Options header.
    let mark = l.mark();
    let long = options_header(IpProtocol::UDP, &[option(OPT_SKIP), option(OPT_SKIP)], &udp);
    assert_eq!(long.len(), 16 + 24);
    let first = ipv6_packet(
        l.t_ip,
        l.h_ip,
        IpProtocol::FRAGMENT,
        64,
        &fragment_header(IpProtocol::DSTOPTS, 0, true, 0x7113, &long[..8]),
    );
    l.inject(&first);
    l.run();
    let errs = l.errors_from_h(mark);
    let (code, pointer, _) = param_problem(&l, &errs);
    assert_eq!((code, pointer), (3, 0));
    assert_eq!(l.h_stats().ip.reasm_oks, 0);
}

#[test]
fn rfc8200_4_5_fragment_not_multiple_of_8_param_problem_pointer_4() {
    let mut l = Lan::new(
        "rfc8200_4_5_fragment_not_multiple_of_8_param_problem_pointer_4",
        20,
    );
    let udp = l.udp(OPEN_PORT, &[1; 30]);
    let mark = l.mark();
    // M set and 20 bytes of fragment data.
    let pkt = ipv6_packet(
        l.t_ip,
        l.h_ip,
        IpProtocol::FRAGMENT,
        64,
        &fragment_header(IpProtocol::UDP, 0, true, 99, &udp[..20]),
    );
    l.inject(&pkt);
    l.run();
    let errs = l.errors_from_h(mark);
    let (code, pointer, invoking) = param_problem(&l, &errs);
    // Code 0 at the Payload Length field.
    assert_eq!((code, pointer), (0, 4));
    assert_eq!(invoking, &pkt[..]);
    // The last fragment may have any length.
    let mark = l.mark();
    let pkt = ipv6_packet(
        l.t_ip,
        l.h_ip,
        IpProtocol::FRAGMENT,
        64,
        &fragment_header(IpProtocol::UDP, 16, false, 100, &udp[16..]),
    );
    l.inject(&pkt);
    l.run();
    assert!(l.errors_from_h(mark).is_empty());
}

#[test]
fn rfc8200_4_5_fragment_beyond_65535_param_problem_at_fragment_offset() {
    let mut l = Lan::new(
        "rfc8200_4_5_fragment_beyond_65535_param_problem_at_fragment_offset",
        33,
    );
    let mark = l.mark();
    // Offset 65528 and 16 bytes of data: the reassembled payload would be 65552 bytes.
    let pkt = ipv6_packet(
        l.t_ip,
        l.h_ip,
        IpProtocol::FRAGMENT,
        64,
        &fragment_header(IpProtocol::UDP, 65528, false, 101, &[0; 16]),
    );
    l.inject(&pkt);
    l.run();
    let errs = l.errors_from_h(mark);
    let (code, pointer, invoking) = param_problem(&l, &errs);
    // Code 0 at the Fragment Offset field: byte 2 of the Fragment header at 40.
    assert_eq!((code, pointer), (0, 42));
    assert_eq!(invoking, &pkt[..]);
    assert_eq!(l.h_stats().ip.reasm_fails, 1);
}

// ----- RFC 8201: path MTU discovery ---------------------------------------------------

/// What a router on the path would send back about `invoking`: Packet Too Big from
/// `2001:db8:1::fe` with `mtu`.
fn inject_ptb(l: &mut Lan, mtu: u32, invoking: &[u8]) {
    let router = ip("2001:db8:1::fe");
    let pkt = icmpv6_packet(
        router,
        l.h_ip,
        64,
        &icmpv6::Repr::PacketTooBig {
            mtu,
            invoking: &invoking[..invoking.len().min(1232)],
        },
    );
    l.net.inject(l.lan, None, ethernet(mac(0xfe), mac(2), &pkt));
}

/// `h` sends `len` bytes of UDP to `t` and returns the packets that carried them.
fn h_sends(l: &mut Lan, sock: SocketHandle, len: usize) -> Vec<Seen> {
    let mark = l.mark();
    let now = l.net.now();
    let t_ip = l.t_ip;
    l.net
        .node_mut(l.h)
        .send_to(now, sock, t_ip, OPEN_PORT, None, &vec![0x5a; len])
        .unwrap();
    l.run();
    l.sent_by_h(mark)
        .into_iter()
        .filter(|s| s.dst == t_ip && (s.proto == IpProtocol::UDP || s.is_fragment()))
        .collect()
}

fn pmtu_setup(test: &str, seed: u64) -> (Lan, SocketHandle, SocketHandle) {
    let mut l = Lan::new(test, seed);
    let rx = {
        let n = l.net.node_mut(l.t);
        let s = n.udp_open().unwrap();
        n.bind(s, Ipv6Addr::UNSPECIFIED, OPEN_PORT, None).unwrap();
        s
    };
    let tx = l.net.node_mut(l.h).udp_open().unwrap();
    (l, tx, rx)
}

#[test]
fn rfc8201_4_packet_too_big_lowers_path_mtu() {
    let (mut l, tx, rx) = pmtu_setup("rfc8201_4_packet_too_big_lowers_path_mtu", 21);
    let sent = h_sends(&mut l, tx, 1400);
    assert_eq!(sent.len(), 1);
    assert!(!sent[0].is_fragment());
    assert_eq!(l.net.node(l.h).path_mtu(&l.t_ip), None);
    l.net.node_mut(l.h).take_events();

    inject_ptb(&mut l, 1300, &sent[0].packet);
    l.run();
    assert_eq!(l.net.node(l.h).path_mtu(&l.t_ip), Some(1300));
    let events = l.net.node_mut(l.h).take_events();
    assert!(
        events.iter().any(|e| e.kind
            == EventKind::PathMtu {
                dst: l.t_ip,
                mtu: 1300
            }),
        "{events:?}"
    );
    // Other destinations keep the link MTU.
    assert_eq!(l.net.node(l.h).path_mtu(&ip("2001:db8:1::77")), None);

    let frags = h_sends(&mut l, tx, 1400);
    assert_eq!(frags.len(), 2);
    for f in &frags {
        assert!(f.is_fragment());
        assert!(f.packet.len() <= 1300, "{}", f.packet.len());
    }
    // The peer gets both datagrams whole.
    for _ in 0..2 {
        assert_eq!(l.net.node_mut(l.t).recv(rx).unwrap().payload.len(), 1400);
    }
    // A report above the estimate changes nothing (RFC 8201 §4).
    inject_ptb(&mut l, 1400, &frags[0].packet);
    l.run();
    assert_eq!(l.net.node(l.h).path_mtu(&l.t_ip), Some(1300));
}

#[test]
fn rfc8201_4_packet_too_big_below_1280_clamped() {
    let (mut l, tx, rx) = pmtu_setup("rfc8201_4_packet_too_big_below_1280_clamped", 22);
    let sent = h_sends(&mut l, tx, 1400);
    inject_ptb(&mut l, 576, &sent[0].packet);
    l.run();
    assert_eq!(l.net.node(l.h).path_mtu(&l.t_ip), Some(1280));
    let frags = h_sends(&mut l, tx, 1400);
    assert_eq!(frags.len(), 2);
    assert!(frags.iter().all(|f| f.packet.len() <= 1280));
    // The first fragment fills the minimum MTU as far as 8-byte units allow.
    assert_eq!(frags[0].packet.len(), 40 + 8 + 1232);
    assert_eq!(l.net.node_mut(l.t).recv(rx).unwrap().payload.len(), 1400);
    assert_eq!(l.net.node_mut(l.t).recv(rx).unwrap().payload.len(), 1400);
    // Small datagrams are not fragmented at all.
    let small = h_sends(&mut l, tx, 1000);
    assert_eq!(small.len(), 1);
    assert!(!small[0].is_fragment());
}

#[test]
fn rfc8201_5_3_path_mtu_ages_out_after_10_minutes() {
    let (mut l, tx, _rx) = pmtu_setup("rfc8201_5_3_path_mtu_ages_out_after_10_minutes", 23);
    let sent = h_sends(&mut l, tx, 1400);
    let at = l.net.now();
    inject_ptb(&mut l, 1300, &sent[0].packet);
    l.net.run_until(at + Duration::from_secs(599));
    assert_eq!(l.net.node(l.h).path_mtu(&l.t_ip), Some(1300));
    assert_eq!(
        h_sends(&mut l, tx, 1400).len(),
        2,
        "still fragmented at 599 s"
    );
    l.net.run_until(at + Duration::from_secs(601));
    assert_eq!(l.net.node(l.h).path_mtu(&l.t_ip), None);
    let sent = h_sends(&mut l, tx, 1400);
    assert_eq!(sent.len(), 1, "the link MTU again");
    assert!(!sent[0].is_fragment());
}

// ----- RFC 4443: ICMPv6 ---------------------------------------------------------------

#[test]
fn rfc4443_4_2_echo_request_answered() {
    let mut l = Lan::new("rfc4443_4_2_echo_request_answered", 24);
    let data: Vec<u8> = (0..=255u8).collect();
    let mark = l.mark();
    l.inject(&echo_request(l.t_ip, l.h_ip, 0xbeef, 0x0102, &data));
    l.run();
    let replies: Vec<Seen> = l
        .sent_by_h(mark)
        .into_iter()
        .filter(|s| s.is_icmp(Message::ECHO_REPLY))
        .collect();
    assert_eq!(replies.len(), 1);
    // From the address the request went to, back to its source.
    assert_eq!((replies[0].src, replies[0].dst), (l.h_ip, l.t_ip));
    assert_eq!(replies[0].icmp_code(), Some(0));
    match replies[0].icmp() {
        Some(icmpv6::Repr::EchoReply {
            ident,
            seq_no,
            data: d,
        }) => {
            assert_eq!((ident, seq_no), (0xbeef, 0x0102));
            assert_eq!(d, &data[..]);
        }
        other => panic!("{other:?}"),
    }
    let s = l.h_stats();
    assert_eq!(s.icmp.in_by_type[128], 2, "warm-up and this one");
    assert_eq!(s.icmp.out_by_type[129], 2);
}

#[test]
fn rfc4443_4_2_echo_to_multicast_answered_from_unicast() {
    let mut l = Lan::new("rfc4443_4_2_echo_to_multicast_answered_from_unicast", 25);
    let mark = l.mark();
    let all_nodes = ip("ff02::1");
    l.inject_mcast(
        &echo_request(l.t_ip, all_nodes, 9, 3, b"anyone?"),
        all_nodes,
    );
    l.run();
    let replies: Vec<Seen> = l
        .sent_by_h(mark)
        .into_iter()
        .filter(|s| s.is_icmp(Message::ECHO_REPLY))
        .collect();
    assert_eq!(replies.len(), 1);
    let r = &replies[0];
    assert!(!r.src.is_multicast());
    assert!(l.net.node(l.h).assigned_addrs(ETH0).contains(&r.src));
    assert_eq!(
        r.src, l.h_ip,
        "the global address, for a global destination"
    );
    assert_eq!(r.dst, l.t_ip);
    assert_eq!(r.eth_dst, mac(1));
    match r.icmp() {
        Some(icmpv6::Repr::EchoReply {
            ident,
            seq_no,
            data,
        }) => assert_eq!((ident, seq_no, data), (9, 3, &b"anyone?"[..])),
        other => panic!("{other:?}"),
    }
}

#[test]
fn rfc4443_2_4_e_no_error_about_an_icmp_error() {
    let mut l = Lan::new("rfc4443_2_4_e_no_error_about_an_icmp_error", 26);
    // A Destination Unreachable whose Destination Options header asks for a Parameter
    // Problem: the option fails, but an error message never gets an error.
    let quoted = ipv6_packet(l.h_ip, l.t_ip, IpProtocol::UDP, 64, &[0; 8]);
    let err = icmpv6_msg(
        l.t_ip,
        l.h_ip,
        &icmpv6::Repr::DstUnreachable {
            code: 4,
            invoking: &quoted,
        },
    );
    let body = options_header(IpProtocol::ICMPV6, &[option(OPT_ICMP)], &err);
    let mark = l.mark();
    l.inject(&ipv6_packet(l.t_ip, l.h_ip, IpProtocol::DSTOPTS, 64, &body));
    l.run();
    assert!(l.sent_by_h(mark).is_empty());
    assert_eq!(
        l.h_stats()
            .drops_for("no ICMP error: packet was an ICMP error"),
        1
    );
    // The same header in front of an informational message (an echo request) does get
    // its Parameter Problem.
    let echo = icmpv6_msg(
        l.t_ip,
        l.h_ip,
        &icmpv6::Repr::EchoRequest {
            ident: 1,
            seq_no: 1,
            data: &[],
        },
    );
    let body = options_header(IpProtocol::ICMPV6, &[option(OPT_ICMP)], &echo);
    let mark = l.mark();
    l.inject(&ipv6_packet(l.t_ip, l.h_ip, IpProtocol::DSTOPTS, 64, &body));
    l.run();
    let errs = l.errors_from_h(mark);
    let (code, _, _) = param_problem(&l, &errs);
    assert_eq!(code, 2);
}

#[test]
fn rfc4443_2_4_e_no_error_to_a_multicast_destination() {
    let mut l = Lan::new("rfc4443_2_4_e_no_error_to_a_multicast_destination", 27);
    let all_nodes = ip("ff02::1");
    let reason = "no ICMP error: packet was multicast";
    let mark = l.mark();
    // (e.2): an unknown Next Header in a packet to a group h is a member of.
    l.inject_mcast(
        &ipv6_packet(l.t_ip, all_nodes, UNKNOWN_PROTO, 64, &[0; 8]),
        all_nodes,
    );
    // (e.3): the same to h's unicast address, in a link-layer multicast frame.
    l.inject_mcast(
        &ipv6_packet(l.t_ip, l.h_ip, UNKNOWN_PROTO, 64, &[0; 8]),
        all_nodes,
    );
    l.run();
    assert!(l.sent_by_h(mark).is_empty(), "{:?}", l.sent_by_h(mark));
    let s = l.h_stats();
    assert_eq!(s.ip.in_unknown_protos, 2, "both were processed");
    assert_eq!(s.drops_for(reason), 2);
    // And a UDP datagram to a group on a port nobody listens to: no Port Unreachable.
    let mark = l.mark();
    let udp = udp_datagram(l.t_ip, all_nodes, 40000, CLOSED_PORT, b"?");
    l.inject_mcast(
        &ipv6_packet(l.t_ip, all_nodes, IpProtocol::UDP, 64, &udp),
        all_nodes,
    );
    l.run();
    assert!(l.sent_by_h(mark).is_empty());
    assert_eq!(l.h_stats().udp.no_ports, 1);
}

#[test]
fn rfc4443_2_4_e_3_link_multicast_frame_gets_only_option_10_parameter_problem() {
    let mut l = Lan::new(
        "rfc4443_2_4_e_3_link_multicast_frame_gets_only_option_10_parameter_problem",
        32,
    );
    let all_nodes = ip("ff02::1");
    // Unicast to h, but in a link-layer multicast frame: (e.3) allows only Packet Too Big
    // and a Parameter Problem for an option whose action bits are 10.
    let mut answered = Vec::new();
    for opt in [OPT_ICMP, OPT_ICMP_UNLESS_MCAST] {
        let body = options_header(IpProtocol::NO_NEXT_HEADER, &[option(opt)], &[]);
        let pkt = ipv6_packet(l.t_ip, l.h_ip, IpProtocol::DSTOPTS, 64, &body);
        let mark = l.mark();
        l.inject_mcast(&pkt, all_nodes);
        l.run();
        let errs = l.errors_from_h(mark);
        if !errs.is_empty() {
            let (code, pointer, _) = param_problem(&l, &errs);
            assert_eq!((code, pointer), (2, 42));
        }
        answered.push((opt, errs.len()));
    }
    assert_eq!(answered, [(OPT_ICMP, 1), (OPT_ICMP_UNLESS_MCAST, 0)]);
    assert_eq!(
        l.h_stats().drops_for("no ICMP error: packet was multicast"),
        1
    );
}

#[test]
fn rfc4443_2_4_e_no_error_to_an_unspecified_or_multicast_source() {
    let mut l = Lan::new(
        "rfc4443_2_4_e_no_error_to_an_unspecified_or_multicast_source",
        28,
    );
    let before = l.h_stats();
    let mark = l.mark();
    for src in [Ipv6Addr::UNSPECIFIED, ip("ff02::1"), ip("ff0e::1234")] {
        l.inject(&ipv6_packet(src, l.h_ip, UNKNOWN_PROTO, 64, &[0; 8]));
        let udp = udp_datagram(src, l.h_ip, 40000, CLOSED_PORT, b"?");
        l.inject(&ipv6_packet(src, l.h_ip, IpProtocol::UDP, 64, &udp));
    }
    l.run();
    assert!(l.sent_by_h(mark).is_empty(), "{:?}", l.sent_by_h(mark));
    let s = l.h_stats();
    // The unspecified source reaches the error code, which declines; a multicast source
    // is refused at the door (RFC 4291 §2.7).
    assert_eq!(
        s.drops_for("no ICMP error: source not unicast")
            - before.drops_for("no ICMP error: source not unicast"),
        2
    );
    assert_eq!(s.ip.in_addr_errors - before.ip.in_addr_errors, 4);
    assert_eq!(s.icmp.out_errors, before.icmp.out_errors);
}

#[test]
fn rfc4443_2_4_f_errors_rate_limited() {
    let mut l = Lan::new("rfc4443_2_4_f_errors_rate_limited", 29);
    let cfg = l.net.node(l.h).config().clone();
    assert_eq!((cfg.icmp_error_rate, cfg.icmp_error_burst), (100, 10));
    let burst = |l: &mut Lan, n: u16| {
        let mark = l.mark();
        for i in 0..n {
            let udp = l.udp(CLOSED_PORT, &i.to_be_bytes());
            let pkt = ipv6_packet(l.t_ip, l.h_ip, IpProtocol::UDP, 64, &udp);
            l.inject(&pkt);
        }
        l.net.run_for(Duration::from_millis(5));
        l.errors_from_h(mark).len()
    };
    // The bucket starts full: 10 errors, then nothing.
    assert_eq!(burst(&mut l, 20), 10);
    assert_eq!(l.h_stats().icmp.out_rate_limited, 10);
    assert_eq!(l.h_stats().udp.no_ports, 20);
    // 45 ms later (the burst took 5): 100 per second gave 5 tokens back.
    l.net.run_for(Duration::from_millis(45));
    assert_eq!(burst(&mut l, 10), 5);
    assert_eq!(l.h_stats().icmp.out_rate_limited, 15);
    // A second of quiet refills to the burst, not beyond.
    l.net.run_for(Duration::from_secs(1));
    assert_eq!(burst(&mut l, 30), 10);
    let s = l.h_stats();
    assert_eq!(s.icmp.out_rate_limited, 35);
    assert_eq!(s.drops_for("ICMP error rate limited"), 35);
    assert_eq!(s.icmp.out_by_type[1], 25);
}

#[test]
fn rfc4443_3_1_udp_closed_port_destination_unreachable_code_4() {
    let mut l = Lan::new(
        "rfc4443_3_1_udp_closed_port_destination_unreachable_code_4",
        30,
    );
    let (t, h_ip) = (l.t, l.h_ip);
    let mark = l.mark();
    let now = l.net.now();
    let n = l.net.node_mut(t);
    let s = n.udp_open().unwrap();
    n.bind(s, Ipv6Addr::UNSPECIFIED, 40001, None).unwrap();
    n.send_to(now, s, h_ip, CLOSED_PORT, None, b"hello?")
        .unwrap();
    l.run();
    let sent: Vec<Seen> = l.net.captured(l.lan)[mark..]
        .iter()
        .filter_map(seen)
        .filter(|p| p.from == Some(t) && p.proto == IpProtocol::UDP)
        .collect();
    assert_eq!(sent.len(), 1);
    let errs = l.errors_from_h(mark);
    match only_error(&l, &errs) {
        icmpv6::Repr::DstUnreachable { code, invoking } => {
            assert_eq!(code, 4, "port unreachable");
            assert_eq!(invoking, &sent[0].packet[..], "quotes the whole datagram");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(l.h_stats().udp.no_ports, 1);
    // The sender's socket hears of it.
    let notice = l.net.node_mut(t).take_error(s).expect("error reported");
    assert_eq!(
        (notice.msg_type, notice.code, notice.dst, notice.dst_port),
        (1, 4, h_ip, CLOSED_PORT)
    );
}

#[test]
fn rfc4443_2_4_c_error_at_most_1280_bytes() {
    let mut l = Lan::new("rfc4443_2_4_c_error_at_most_1280_bytes", 31);
    let mark = l.mark();
    let udp = l.udp(CLOSED_PORT, &[0x42; 1400]);
    let pkt = ipv6_packet(l.t_ip, l.h_ip, IpProtocol::UDP, 64, &udp);
    assert_eq!(pkt.len(), 1448);
    l.inject(&pkt);
    l.run();
    let errs = l.errors_from_h(mark);
    assert_eq!(errs.len(), 1);
    // As much of the invoking packet as fits the minimum MTU, and no more.
    assert_eq!(errs[0].packet.len(), 1280);
    assert!(!errs[0].is_fragment());
    match errs[0].icmp() {
        Some(icmpv6::Repr::DstUnreachable { code, invoking }) => {
            assert_eq!(code, 4);
            assert_eq!(invoking, &pkt[..1280 - 48]);
        }
        other => panic!("{other:?}"),
    }
}
