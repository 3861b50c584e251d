//! ICMPv6 (RFC 4443): input (checksum, counters, dispatch to ND and MLD), echo, errors
//! received (path MTU, socket notification) and errors sent, with the rules of §2.4 (e)
//! on when not to send one and the token bucket of §2.4 (f).

pub mod ratelimit;

use std::net::Ipv6Addr;

use sixstack_wire::addr::Ipv6AddrExt;
use sixstack_wire::icmpv6::{self, Message};
use sixstack_wire::ipv6;
use sixstack_wire::ipv6chain::Chain;
use sixstack_wire::proto::IpProtocol;

use crate::iface::IfaceId;
use crate::ip::input::RxMeta;
use crate::ip::output::{MIN_MTU, build_packet};
use crate::stack::{Error, Stack};
use crate::time::Instant;

/// An error this node sends about a packet it received (or could not deliver).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcmpError {
    DstUnreachable(u8),
    PacketTooBig(u32),
    TimeExceeded(u8),
    /// Code and pointer.
    ParamProblem(u8, u32),
}

impl IcmpError {
    /// What the error says, as counted in the statistics (RFC 4443 §3 codes).
    pub fn reason(&self) -> &'static str {
        match *self {
            IcmpError::DstUnreachable(0) => "no_route",
            IcmpError::DstUnreachable(1) => "admin_prohibited",
            IcmpError::DstUnreachable(2) => "beyond_scope",
            IcmpError::DstUnreachable(3) => "address_unreachable",
            IcmpError::DstUnreachable(4) => "port_unreachable",
            IcmpError::DstUnreachable(5) => "source_policy_failed",
            IcmpError::DstUnreachable(6) => "reject_route",
            IcmpError::DstUnreachable(_) => "dst_unreachable_other",
            IcmpError::PacketTooBig(_) => "packet_too_big",
            IcmpError::TimeExceeded(0) => "hop_limit_exceeded",
            IcmpError::TimeExceeded(_) => "reassembly_time_exceeded",
            IcmpError::ParamProblem(0, _) => "erroneous_header",
            IcmpError::ParamProblem(1, _) => "unrecognized_next_header",
            IcmpError::ParamProblem(2, _) => "unrecognized_option",
            IcmpError::ParamProblem(_, _) => "incomplete_header_chain",
        }
    }
}

impl Stack {
    /// Builds and sends one ICMPv6 message. `src` None picks one by RFC 6724.
    pub(crate) fn send_icmp(
        &mut self,
        now: Instant,
        src: Option<Ipv6Addr>,
        dst: Ipv6Addr,
        zone: Option<IfaceId>,
        hop_limit: u8,
        repr: &icmpv6::Repr<'_>,
    ) -> Result<(), Error> {
        let src = match src {
            Some(s) => s,
            None => {
                let out = match self.is_own_addr(&dst) {
                    Some(i) => i,
                    None => self.route(&dst, zone)?.0,
                };
                self.select_source(&dst, Some(out))
                    .ok_or(Error::NoSourceAddress)?
            }
        };
        let mut msg = vec![0u8; repr.buffer_len()];
        repr.emit(&src, &dst, &mut msg).map_err(|_| Error::TooBig)?;
        let pkt = build_packet(src, dst, IpProtocol::ICMPV6, hop_limit, &msg)?;
        self.count_icmp_out(repr.msg_type());
        self.output(now, pkt, zone)
    }

    pub(crate) fn count_icmp_out(&mut self, t: Message) {
        self.stats.icmp.out_msgs += 1;
        self.stats.icmp.out_by_type[usize::from(t.0)] += 1;
        if t.is_error() {
            self.stats.icmp.out_errors += 1;
        }
    }

    /// Sends `err` about `invoking` (a whole IPv6 packet) unless RFC 4443 §2.4 (e) or the
    /// rate limit says not to.
    pub(crate) fn icmp_error_for(
        &mut self,
        now: Instant,
        iface_in: Option<IfaceId>,
        invoking: &[u8],
        link_multicast: bool,
        err: IcmpError,
    ) {
        let Ok(p) = ipv6::Packet::new_lenient(invoking) else {
            return;
        };
        let (isrc, idst) = (p.src_addr(), p.dst_addr());
        // (e.6): the source must identify a single node.
        if isrc.is_unspecified() || isrc.is_multicast() {
            self.stats.drop("no ICMP error: source not unicast");
            return;
        }
        // (e.2), (e.3): not for multicast, except Packet Too Big and Parameter Problem
        // code 2 for an unrecognized option whose action bits are 10 (the sender asked to
        // hear about it even then; 11 means "unless multicast").
        let exception = match err {
            IcmpError::PacketTooBig(_) => true,
            IcmpError::ParamProblem(2, pointer) => usize::try_from(pointer)
                .ok()
                .and_then(|at| invoking.get(at))
                .is_some_and(|t| t >> 6 == 0b10),
            _ => false,
        };
        if (idst.is_multicast() || link_multicast) && !exception {
            self.stats.drop("no ICMP error: packet was multicast");
            return;
        }
        // (e.1): never about an ICMPv6 error or a Redirect.
        let chain = Chain::walk(p.next_header(), p.payload());
        if let Some((IpProtocol::ICMPV6, off)) = chain.upper_layer()
            && let Some(&t) = p.payload().get(off)
            && (t < 128 || t == Message::REDIRECT.0)
        {
            self.stats.drop("no ICMP error: packet was an ICMP error");
            return;
        }
        // (f): rate limit.
        if !self.icmp_limit.allow(now) {
            self.stats.icmp.out_rate_limited += 1;
            self.stats.drop("ICMP error rate limited");
            return;
        }
        let zone = if isrc.is_link_local_unicast() {
            iface_in
        } else {
            None
        };
        let src = if !idst.is_multicast() && self.is_own_addr(&idst).is_some() {
            Some(idst)
        } else {
            let out = match zone {
                Some(z) => Some(z),
                None => self.route(&isrc, None).ok().map(|r| r.0).or(iface_in),
            };
            self.select_source(&isrc, out)
        };
        let Some(src) = src else {
            self.stats.drop("no ICMP error: no source address");
            return;
        };
        // RFC 4443 §2.4 (c): as much of the invoking packet as fits in the minimum MTU.
        let room = MIN_MTU as usize - ipv6::HEADER_LEN - icmpv6::HEADER_LEN;
        let quote = &invoking[..invoking.len().min(room)];
        let repr = match err {
            IcmpError::DstUnreachable(code) => icmpv6::Repr::DstUnreachable {
                code,
                invoking: quote,
            },
            IcmpError::PacketTooBig(mtu) => icmpv6::Repr::PacketTooBig {
                mtu,
                invoking: quote,
            },
            IcmpError::TimeExceeded(code) => icmpv6::Repr::TimeExceeded {
                code,
                invoking: quote,
            },
            IcmpError::ParamProblem(code, pointer) => icmpv6::Repr::ParamProblem {
                code,
                pointer,
                invoking: quote,
            },
        };
        let hl = self.cfg.default_hop_limit;
        if self
            .send_icmp(now, Some(src), isrc, zone, hl, &repr)
            .is_err()
        {
            self.stats.drop("ICMP error could not be sent");
            return;
        }
        let reason = err.reason();
        *self.stats.icmp.errors_sent.entry(reason).or_default() += 1;
        if let Some(i) = iface_in.and_then(|i| self.ifaces.get_mut(&i)) {
            *i.errors_sent.entry(reason).or_default() += 1;
        }
    }

    pub(crate) fn icmp_input(&mut self, now: Instant, meta: RxMeta, pkt: &[u8], off: usize) {
        let msg = &pkt[off..];
        let Ok(p) = icmpv6::Packet::new_checked(msg) else {
            self.stats.icmp.in_errors += 1;
            self.stats.drop("ICMPv6 message truncated");
            return;
        };
        if !p.verify_checksum(&meta.src, &meta.dst) {
            self.stats.icmp.in_errors += 1;
            self.stats.drop("ICMPv6 checksum bad");
            return;
        }
        self.stats.icmp.in_msgs += 1;
        self.stats.icmp.in_by_type[usize::from(p.msg_type().0)] += 1;
        self.raw_deliver(meta, pkt, IpProtocol::ICMPV6, off);
        let repr = match icmpv6::Repr::parse(&p) {
            Ok(r) => r,
            Err(_) => {
                // RFC 4861 §6.1, §7.1, RFC 3810 §5: invalid messages are silently discarded.
                self.stats.icmp.in_errors += 1;
                self.stats.drop("ICMPv6 message invalid");
                return;
            }
        };
        self.stats.ip.in_delivers += 1;
        match repr {
            icmpv6::Repr::EchoRequest {
                ident,
                seq_no,
                data,
            } => {
                if meta.dst.is_multicast() && !self.cfg.echo_reply_to_multicast {
                    self.stats.drop("echo request to multicast ignored");
                    return;
                }
                // RFC 4443 §4.2: reply from the address the request went to, or for a
                // multicast request from a unicast address of the arrival interface.
                let src = if meta.dst.is_multicast() {
                    self.select_source(&meta.src, Some(meta.iface))
                } else {
                    Some(meta.dst)
                };
                let Some(src) = src else {
                    self.stats.drop("echo reply: no source address");
                    return;
                };
                let reply = icmpv6::Repr::EchoReply {
                    ident,
                    seq_no,
                    data,
                };
                let zone = Some(meta.iface).filter(|_| meta.src.is_link_local_unicast());
                let hl = self.hop_limit_for(meta.iface);
                if self
                    .send_icmp(now, Some(src), meta.src, zone, hl, &reply)
                    .is_err()
                {
                    self.stats.drop("echo reply could not be sent");
                }
            }
            icmpv6::Repr::PacketTooBig { mtu, invoking } => {
                self.error_input(now, meta, (2, 0), invoking, Some(mtu));
            }
            icmpv6::Repr::DstUnreachable { code, invoking } => {
                self.error_input(now, meta, (1, code), invoking, None);
            }
            icmpv6::Repr::TimeExceeded { code, invoking } => {
                self.error_input(now, meta, (3, code), invoking, None);
            }
            icmpv6::Repr::ParamProblem { code, invoking, .. } => {
                self.error_input(now, meta, (4, code), invoking, None);
            }
            icmpv6::Repr::Ndisc(nd) => {
                // RFC 4861 §6.1.1, §6.1.2, §7.1.1, §7.1.2, §8.1: hop limit 255, so the
                // message cannot have come from off the link.
                if meta.hop_limit != 255 {
                    self.stats.icmp.in_errors += 1;
                    self.stats.drop("ND message with hop limit not 255");
                    return;
                }
                self.nd_input(now, meta, &nd);
            }
            icmpv6::Repr::Mld(m) => self.mld_input(now, meta, &m),
            icmpv6::Repr::EchoReply { .. } | icmpv6::Repr::Other { .. } => {}
        }
    }

    /// An ICMPv6 error about a packet we sent: path MTU (RFC 8201) and the sockets.
    fn error_input(
        &mut self,
        now: Instant,
        meta: RxMeta,
        (msg_type, code): (u8, u8),
        invoking: &[u8],
        mtu: Option<u32>,
    ) {
        let Ok(q) = ipv6::Packet::new_lenient(invoking) else {
            self.stats.drop("ICMP error quotes no IPv6 header");
            return;
        };
        let (qsrc, qdst) = (q.src_addr(), q.dst_addr());
        if self.is_own_addr(&qsrc).is_none() {
            // RFC 5927 §4.1: an error about a packet we did not send is forged or stray.
            self.stats.drop("ICMP error about a packet not ours");
            return;
        }
        if let Some(mtu) = mtu {
            let link_mtu = self
                .ifaces
                .get(&meta.iface)
                .map(|i| i.mtu)
                .unwrap_or(MIN_MTU);
            if let Some(new) = self.pmtu.on_packet_too_big(now, qdst, mtu, link_mtu) {
                self.event(
                    Some(meta.iface),
                    crate::event::EventKind::PathMtu {
                        dst: qdst,
                        mtu: new,
                    },
                );
            }
        }
        self.udp_error_input(meta, msg_type, code, invoking);
        self.tcp_error_input(now, msg_type, code, invoking, mtu, 0);
    }

    pub(crate) fn hop_limit_for(&self, iface: IfaceId) -> u8 {
        self.ifaces
            .get(&iface)
            .map(|i| i.cur_hop_limit)
            .filter(|h| *h != 0)
            .unwrap_or(self.cfg.default_hop_limit)
    }
}
