//! Node-wide configuration (RFC 8200, RFC 4443, RFC 6724 variables), with the RFCs'
//! defaults. Per-interface variables are in [`crate::iface::IfaceConfig`].

use crate::addr::select::PolicyTable;
use crate::icmp::ratelimit;
use crate::ip::pmtu::PmtuConfig;
use crate::ip::reasm::ReasmConfig;

#[derive(Debug, Clone)]
pub struct StackConfig {
    /// Router mode: forward packets between interfaces (RFC 8200 §3, RFC 4861 §6.2).
    pub forwarding: bool,
    /// Hop limit for packets we originate when no RA set one (RFC 8200 suggests 64).
    pub default_hop_limit: u8,
    pub reassembly: ReasmConfig,
    pub pmtu: PmtuConfig,
    /// ICMPv6 error rate limit (RFC 4443 §2.4 (f)): tokens per second and burst.
    pub icmp_error_rate: u32,
    pub icmp_error_burst: u32,
    /// Answer echo requests sent to multicast addresses (RFC 4443 §4.2 MAY).
    pub echo_reply_to_multicast: bool,
    pub policy: PolicyTable,
    /// RFC 6724 §5 rule 7: prefer temporary addresses as sources (the RFC's default;
    /// false reverses it, as the RFC requires a way to). Matters only when RFC 8981
    /// temporary addresses are on.
    pub prefer_temporary: bool,
    /// Route table limit (see `RouteTable` for eviction). A router's default holds a full
    /// Internet table with room to spare; a route costs tens of bytes.
    pub max_routes: usize,
    /// Redirects remembered (a destination cache fed by RFC 4861 §8.3); oldest evicted.
    pub max_redirects: usize,
    /// Frames waiting for the driver; beyond this the oldest is dropped and counted.
    pub max_transmit_queue: usize,
    pub max_events: usize,
    pub max_sockets: usize,
    /// Datagrams waiting in one socket's receive queue.
    pub socket_queue_len: usize,
    /// TCP's constants and buffer limits (RFC 9293, 6298, 5681, 7323 defaults).
    pub tcp: crate::transport::tcp::TcpConfig,
    /// TCP connections, those closed by their user but still finishing included.
    pub max_tcp_connections: usize,
}

impl Default for StackConfig {
    fn default() -> Self {
        Self {
            forwarding: false,
            default_hop_limit: 64,
            reassembly: ReasmConfig::default(),
            pmtu: PmtuConfig::default(),
            icmp_error_rate: ratelimit::DEFAULT_RATE,
            icmp_error_burst: ratelimit::DEFAULT_BURST,
            echo_reply_to_multicast: true,
            policy: PolicyTable::default(),
            prefer_temporary: true,
            max_routes: 4096,
            max_redirects: 256,
            max_transmit_queue: 4096,
            max_events: 4096,
            max_sockets: 1024,
            socket_queue_len: 64,
            tcp: crate::transport::tcp::TcpConfig::default(),
            max_tcp_connections: 65536,
        }
    }
}

impl StackConfig {
    pub fn router() -> Self {
        Self {
            forwarding: true,
            max_routes: 2_000_000,
            ..Self::default()
        }
    }
}
