//! Counters in the spirit of RFC 4293 (IP-MIB: ipSystemStatsTable, ipIfStatsTable,
//! icmpMsgStatsTable) and RFC 4113 (UDP-MIB), plus a named reason for every packet the
//! stack drops. Counters only grow; a reader takes differences.

use std::collections::BTreeMap;

/// Where [`IpStats::growth`] puts each counter, in `fields()` order: on the interface
/// a datagram came in by, the one it left by, or neither (every interface counts those
/// itself as frames arrive and leave). Indexed: this runs for every forwarded packet.
#[derive(Clone, Copy)]
enum Role {
    In,
    Out,
    PerFrame,
}

#[rustfmt::skip]
const ROLE: [Role; 25] = {
    use Role::*;
    [
        PerFrame, PerFrame, In, In, In, In, In, In, In, In, In, In, In, // InReceives..InDelivers
        Out, Out, Out, Out, Out, Out, Out, Out, // OutRequests..OutFragCreates
        PerFrame, PerFrame, In, PerFrame, // OutTransmits, OutOctets, InMcastPkts, OutMcastPkts
    ]
};

/// RFC 4293 §5 ipSystemStats / ipIfStats, the IPv6 subset, same names in snake case.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IpStats {
    pub in_receives: u64,
    pub in_octets: u64,
    pub in_hdr_errors: u64,
    pub in_no_routes: u64,
    pub in_addr_errors: u64,
    pub in_unknown_protos: u64,
    pub in_truncated_pkts: u64,
    pub in_forw_datagrams: u64,
    pub reasm_reqds: u64,
    pub reasm_oks: u64,
    pub reasm_fails: u64,
    pub in_discards: u64,
    pub in_delivers: u64,
    pub out_requests: u64,
    pub out_no_routes: u64,
    pub out_forw_datagrams: u64,
    pub out_discards: u64,
    pub out_frag_reqds: u64,
    pub out_frag_oks: u64,
    pub out_frag_fails: u64,
    pub out_frag_creates: u64,
    pub out_transmits: u64,
    pub out_octets: u64,
    pub in_mcast_pkts: u64,
    pub out_mcast_pkts: u64,
}

impl IpStats {
    /// Name and value of every counter, in MIB order, for tables and JSON.
    pub fn fields(&self) -> [(&'static str, u64); 25] {
        [
            ("InReceives", self.in_receives),
            ("InOctets", self.in_octets),
            ("InHdrErrors", self.in_hdr_errors),
            ("InNoRoutes", self.in_no_routes),
            ("InAddrErrors", self.in_addr_errors),
            ("InUnknownProtos", self.in_unknown_protos),
            ("InTruncatedPkts", self.in_truncated_pkts),
            ("InForwDatagrams", self.in_forw_datagrams),
            ("ReasmReqds", self.reasm_reqds),
            ("ReasmOKs", self.reasm_oks),
            ("ReasmFails", self.reasm_fails),
            ("InDiscards", self.in_discards),
            ("InDelivers", self.in_delivers),
            ("OutRequests", self.out_requests),
            ("OutNoRoutes", self.out_no_routes),
            ("OutForwDatagrams", self.out_forw_datagrams),
            ("OutDiscards", self.out_discards),
            ("OutFragReqds", self.out_frag_reqds),
            ("OutFragOKs", self.out_frag_oks),
            ("OutFragFails", self.out_frag_fails),
            ("OutFragCreates", self.out_frag_creates),
            ("OutTransmits", self.out_transmits),
            ("OutOctets", self.out_octets),
            ("InMcastPkts", self.in_mcast_pkts),
            ("OutMcastPkts", self.out_mcast_pkts),
        ]
    }

    fn fields_mut(&mut self) -> [&mut u64; 25] {
        [
            &mut self.in_receives,
            &mut self.in_octets,
            &mut self.in_hdr_errors,
            &mut self.in_no_routes,
            &mut self.in_addr_errors,
            &mut self.in_unknown_protos,
            &mut self.in_truncated_pkts,
            &mut self.in_forw_datagrams,
            &mut self.reasm_reqds,
            &mut self.reasm_oks,
            &mut self.reasm_fails,
            &mut self.in_discards,
            &mut self.in_delivers,
            &mut self.out_requests,
            &mut self.out_no_routes,
            &mut self.out_forw_datagrams,
            &mut self.out_discards,
            &mut self.out_frag_reqds,
            &mut self.out_frag_oks,
            &mut self.out_frag_fails,
            &mut self.out_frag_creates,
            &mut self.out_transmits,
            &mut self.out_octets,
            &mut self.in_mcast_pkts,
            &mut self.out_mcast_pkts,
        ]
    }

    /// What grew from `before` to `after` (two readings of the system counters), split
    /// as RFC 4293 §5 counts a forwarded datagram per interface: the `In*` and
    /// reassembly counters on the interface it came in by (first), the `Out*` ones on the
    /// interface it leaves by (second).
    pub(crate) fn growth(before: &IpStats, after: &IpStats) -> (IpStats, IpStats) {
        let (mut inc, mut outc) = (IpStats::default(), IpStats::default());
        let (b, a) = (before.values(), after.values());
        for (k, (i, o)) in inc
            .fields_mut()
            .into_iter()
            .zip(outc.fields_mut())
            .enumerate()
        {
            let grew = a[k].wrapping_sub(b[k]);
            match ROLE[k] {
                Role::In => *i = grew,
                Role::Out => *o = grew,
                Role::PerFrame => {}
            }
        }
        (inc, outc)
    }

    fn values(&self) -> [u64; 25] {
        self.fields().map(|f| f.1)
    }

    pub(crate) fn add(&mut self, other: &IpStats) {
        for (x, y) in self.fields_mut().into_iter().zip(other.fields()) {
            *x = x.saturating_add(y.1);
        }
    }
}

/// RFC 4293 icmpStatsTable and icmpMsgStatsTable (per message type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IcmpStats {
    pub in_msgs: u64,
    pub in_errors: u64,
    pub out_msgs: u64,
    pub out_errors: u64,
    /// Errors we did not send because of the rate limit (RFC 4443 §2.4 (f)).
    pub out_rate_limited: u64,
    pub in_by_type: [u64; 256],
    pub out_by_type: [u64; 256],
    /// ICMPv6 errors sent, by reason (see `IcmpError::reason`), and Redirects
    /// ("redirect").
    pub errors_sent: BTreeMap<&'static str, u64>,
}

impl Default for IcmpStats {
    fn default() -> Self {
        Self {
            in_msgs: 0,
            in_errors: 0,
            out_msgs: 0,
            out_errors: 0,
            out_rate_limited: 0,
            in_by_type: [0; 256],
            out_by_type: [0; 256],
            errors_sent: BTreeMap::new(),
        }
    }
}

/// RFC 4113 udp* counters; UDP-Lite keeps its own set (RFC 3828 §5).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UdpStats {
    pub in_datagrams: u64,
    pub no_ports: u64,
    pub in_errors: u64,
    pub out_datagrams: u64,
}

/// Everything a stack counts.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub ip: IpStats,
    pub icmp: IcmpStats,
    pub udp: UdpStats,
    pub udplite: UdpStats,
    /// Every drop by its reason. Reasons are static strings named in the code that drops.
    pub drops: BTreeMap<&'static str, u64>,
}

impl Stats {
    pub fn drop(&mut self, reason: &'static str) {
        *self.drops.entry(reason).or_insert(0) += 1;
    }

    pub fn drops_for(&self, reason: &str) -> u64 {
        self.drops.get(reason).copied().unwrap_or(0)
    }

    pub fn total_drops(&self) -> u64 {
        self.drops.values().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4293 §5: In counters on the arrival interface, Out on the departure one; the
    /// ones every interface counts per frame are left out.
    #[test]
    fn rfc4293_5_growth_roles_follow_the_counter_names() {
        let per_frame = [
            "InReceives",
            "InOctets",
            "OutTransmits",
            "OutOctets",
            "OutMcastPkts",
        ];
        for (k, (name, _)) in IpStats::default().fields().iter().enumerate() {
            let want = if per_frame.contains(name) {
                "frame"
            } else if name.starts_with("Out") {
                "out"
            } else {
                "in"
            };
            let got = match ROLE[k] {
                Role::In => "in",
                Role::Out => "out",
                Role::PerFrame => "frame",
            };
            assert_eq!(got, want, "{name}");
        }
        let before = IpStats::default();
        let after = IpStats {
            in_receives: 1,
            in_forw_datagrams: 1,
            out_forw_datagrams: 1,
            out_transmits: 1,
            ..IpStats::default()
        };
        let (i, o) = IpStats::growth(&before, &after);
        assert_eq!(
            (i.in_forw_datagrams, i.out_forw_datagrams, i.in_receives),
            (1, 0, 0)
        );
        assert_eq!(
            (o.in_forw_datagrams, o.out_forw_datagrams, o.out_transmits),
            (0, 1, 0)
        );
    }
}
