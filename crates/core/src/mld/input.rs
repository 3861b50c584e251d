//! MLD messages in and out: the IPv6-level rules of RFC 3810 §5 and RFC 2710 §3 (link-local
//! sources, hop limit 1, the Router Alert option) around the host state machine.

use std::net::Ipv6Addr;

use sixstack_wire::addr::Ipv6AddrExt;
use sixstack_wire::icmpv6;
use sixstack_wire::ipv6opts::{self, Ipv6Option};
use sixstack_wire::mld;
use sixstack_wire::proto::IpProtocol;

use crate::iface::IfaceId;
use crate::ip::input::RxMeta;
use crate::ip::output::build_packet;
use crate::stack::Stack;
use crate::time::Instant;

impl Stack {
    pub(crate) fn mld_input(&mut self, now: Instant, meta: RxMeta, m: &mld::Repr<'_>) {
        let is_query = matches!(m, mld::Repr::QueryV1 { .. } | mld::Repr::QueryV2 { .. });
        // RFC 3810 §5.1.14, RFC 2710 §3: queries come from a link-local source.
        if is_query && !meta.src.is_link_local_unicast() {
            self.stats.drop("MLD query source not link-local");
            return;
        }
        if meta.hop_limit != 1 {
            // RFC 3810 §5, RFC 2710 §3: MLD messages are sent with hop limit 1.
            self.stats.drop("MLD message with hop limit not 1");
            return;
        }
        if !(meta.src.is_link_local_unicast() || meta.src.is_unspecified()) {
            self.stats.drop("MLD message source not link-local");
            return;
        }
        let mut out = Vec::new();
        let mut qout = Vec::new();
        let me = self.link_local_of(meta.iface);
        if let Some(i) = self.ifaces.get_mut(&meta.iface) {
            i.mld
                .on_message(now, &mut self.rng, meta.src, meta.dst, m, &mut out);
            if let Some(q) = i.querier.as_mut() {
                q.on_message(now, meta.src, me, m, &mut qout);
            }
        }
        self.run_mld(now, meta.iface, out);
        self.run_querier(now, meta.iface, qout);
    }

    /// Wraps an MLD message for the link: hop limit 1, Router Alert (RFC 2711 value 0) in
    /// a Hop-by-Hop header, a link-local source or :: before one is ready (RFC 3810 §5.2.13).
    pub(crate) fn send_mld(
        &mut self,
        now: Instant,
        id: IfaceId,
        dst: Ipv6Addr,
        mut message: Vec<u8>,
    ) {
        let src = self.link_local_of(id).unwrap_or(Ipv6Addr::UNSPECIFIED);
        if message.len() < icmpv6::MIN_LEN {
            return;
        }
        let msg_type = icmpv6::Message(message[0]);
        icmpv6::Packet::new_unchecked(&mut message[..]).fill_checksum(&src, &dst);
        let Ok(hbh) = ipv6opts::Repr::padded(IpProtocol::ICMPV6, [Ipv6Option::RouterAlert(0)])
        else {
            return;
        };
        let mut upper = vec![0u8; hbh.buffer_len()];
        if hbh.emit(&mut upper).is_err() {
            return;
        }
        upper.extend_from_slice(&message);
        self.count_icmp_out(msg_type);
        if let Ok(pkt) = build_packet(src, dst, IpProtocol::HOPOPTS, 1, &upper) {
            self.link_send(now, id, dst, pkt);
        }
    }
}
