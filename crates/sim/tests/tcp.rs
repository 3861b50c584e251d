//! Scenario tests: TCP (RFC 9293) between sixstack nodes through the stack's sockets —
//! every state transition as the frames and the sockets show them, retransmission and
//! recovery over lossy, reordering and duplicating links (NewReno and CUBIC, with and
//! without SACK, 50 MB arriving intact), a SYN flood against a listener while a
//! legitimate client connects, a path MTU drop in mid-transfer, ICMPv6 errors, zero
//! windows and keep-alives.

use std::net::Ipv6Addr;

use sixstack_core::ip::route::{Route, RouteKind, RouteOrigin};
use sixstack_core::socket::SocketHandle;
use sixstack_core::transport::tcp::cc::Algorithm;
use sixstack_core::transport::tcp::{IcmpError, State, TcpConfig};
use sixstack_core::{Duration, Error, IfaceConfig, Instant, Stack, StackConfig};
use sixstack_sim::testkit::*;
use sixstack_sim::{Captured, LinkConfig, LinkId, Network, NodeId, TapVerdict};
use sixstack_wire::addr::EthernetAddress;
use sixstack_wire::icmpv6;
use sixstack_wire::proto::IpProtocol;
use sixstack_wire::tcp::{self, Flags, PseudoHeader, RawOptions, SackBlocks, SeqNumber};

const PORT: u16 = 5001;
const A_IP: &str = "2001:db8::1";
const B_IP: &str = "2001:db8::2";

/// A host with one Ethernet interface and the given TCP configuration.
fn host_tcp(seed: u64, m: EthernetAddress, tcp: &TcpConfig) -> Stack {
    let cfg = StackConfig {
        tcp: tcp.clone(),
        ..StackConfig::default()
    };
    let mut s = Stack::new(cfg, seed);
    s.add_interface(Instant::ZERO, IfaceConfig::ethernet("eth0", m));
    s
}

/// Two hosts on one link with global addresses, settled; `tweak` sets both TCP configs.
fn pair_with(
    test: &str,
    seed: u64,
    link: LinkConfig,
    tweak: impl Fn(&mut TcpConfig),
) -> (Network<Stack>, LinkId, NodeId, NodeId) {
    let mut net = Network::new(seed);
    let l = net.add_link(
        "lan",
        LinkConfig {
            capture_limit: 200_000,
            ..link
        },
    );
    record(&mut net, test);
    let mut tcp = TcpConfig::default();
    tweak(&mut tcp);
    let mut a = host_tcp(seed + 1, mac(1), &tcp);
    let mut b = host_tcp(seed + 2, mac(2), &tcp);
    a.add_address(Instant::ZERO, ETH0, ip(A_IP), 64).unwrap();
    b.add_address(Instant::ZERO, ETH0, ip(B_IP), 64).unwrap();
    let a = net.add_node("a", a);
    let b = net.add_node("b", b);
    net.attach(l, a, ETH0);
    net.attach(l, b, ETH0);
    net.run_until(Instant::from_secs(5));
    (net, l, a, b)
}

fn pair(test: &str, seed: u64, link: LinkConfig) -> (Network<Stack>, LinkId, NodeId, NodeId) {
    pair_with(test, seed, link, |_| {})
}

/// One TCP segment a link captured, its checksum verified.
#[derive(Debug, Clone)]
struct Seg {
    time: Instant,
    from: Option<NodeId>,
    dst: Ipv6Addr,
    repr: tcp::Repr,
    len: usize,
    /// The whole IPv6 packet.
    packet: Vec<u8>,
}

impl Seg {
    fn flags(&self) -> Flags {
        self.repr.flags
    }
    fn is_syn(&self) -> bool {
        self.flags().syn() && !self.flags().ack()
    }
    fn is_syn_ack(&self) -> bool {
        self.flags().syn() && self.flags().ack()
    }
}

fn tcp_of(c: &Captured) -> Option<Seg> {
    let s = seen(c)?;
    if s.proto != IpProtocol::TCP {
        return None;
    }
    let p = tcp::Packet::new_checked(&s.upper[..]).ok()?;
    let ph = PseudoHeader::V6 {
        src: s.src,
        dst: s.dst,
    };
    assert!(p.verify_checksum(&ph), "bad TCP checksum: {s:?}");
    let repr = tcp::Repr::parse(&p).expect("a well-formed TCP header");
    Some(Seg {
        time: c.time,
        from: c.from,
        dst: s.dst,
        repr,
        len: p.payload().len(),
        packet: s.packet.clone(),
    })
}

/// Every TCP segment on the link, in order.
fn tcp_segs(net: &Network<Stack>, l: LinkId) -> Vec<Seg> {
    net.captured(l).iter().filter_map(tcp_of).collect()
}

/// The TCP segments on the link, in order: (sender is `a`, flags, payload length).
fn segments(net: &Network<Stack>, l: LinkId, a: NodeId) -> Vec<(bool, tcp::Flags, usize)> {
    tcp_segs(net, l)
        .into_iter()
        .map(|s| (s.from == Some(a), s.flags(), s.len))
        .collect()
}

/// Moves `data` from `a` to `b` over an established pair of sockets, reading on `b` as it
/// comes, until everything arrived or `limit` of virtual time passed.
fn transfer(
    net: &mut Network<Stack>,
    (a, sa): (NodeId, SocketHandle),
    (b, sb): (NodeId, SocketHandle),
    data: &[u8],
    limit: Duration,
) -> Vec<u8> {
    let deadline = net.now() + limit;
    let mut sent = 0;
    let mut got = Vec::with_capacity(data.len());
    let mut buf = vec![0u8; 65536];
    let mut shut = false;
    while net.now() < deadline {
        let now = net.now();
        if sent < data.len() {
            sent += net.node_mut(a).tcp_send(now, sa, &data[sent..]).unwrap();
        } else if !shut {
            net.node_mut(a).tcp_shutdown(now, sa).unwrap();
            shut = true;
        }
        loop {
            match net.node_mut(b).tcp_recv(now, sb, &mut buf) {
                Ok(0) => return got,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(Error::WouldBlock) => break,
                Err(e) => panic!("recv: {e}"),
            }
        }
        net.run_for(Duration::from_millis(1));
    }
    got
}

/// `b` listens on PORT, `a` connects; both established after 100 ms.
fn connect(net: &mut Network<Stack>, a: NodeId, b: NodeId) -> (SocketHandle, SocketHandle) {
    let (c, s, _) = connect_l(net, a, b);
    (c, s)
}

/// As [`connect`], also returning the listener.
fn connect_l(
    net: &mut Network<Stack>,
    a: NodeId,
    b: NodeId,
) -> (SocketHandle, SocketHandle, SocketHandle) {
    let now = net.now();
    let l = net
        .node_mut(b)
        .tcp_listen(now, Ipv6Addr::UNSPECIFIED, PORT, None)
        .unwrap();
    let c = net
        .node_mut(a)
        .tcp_connect(now, ip(B_IP), PORT, None)
        .unwrap();
    net.run_for(Duration::from_millis(100));
    let now = net.now();
    let s = net.node_mut(b).tcp_accept(now, l).expect("accepted");
    assert_eq!(net.node(a).tcp_status(c).unwrap().state, State::Established);
    assert_eq!(net.node(b).tcp_status(s).unwrap().state, State::Established);
    (c, s, l)
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + i / 251) as u8).collect()
}

fn state(net: &Network<Stack>, (n, h): (NodeId, SocketHandle)) -> State {
    net.node(n).tcp_status(h).expect("socket").state
}

/// Runs the network event by event for `d`, noting each state the sockets pass through.
fn watch(
    net: &mut Network<Stack>,
    socks: &[(NodeId, SocketHandle)],
    d: Duration,
) -> Vec<Vec<State>> {
    let end = net.now() + d;
    let mut seen: Vec<Vec<State>> = socks.iter().map(|&s| vec![state(net, s)]).collect();
    while net.now() < end && net.step() {
        for (i, &(n, h)) in socks.iter().enumerate() {
            if let Some(st) = net.node(n).tcp_status(h).map(|s| s.state)
                && seen[i].last() != Some(&st)
            {
                seen[i].push(st);
            }
        }
    }
    net.run_until(end);
    seen
}

/// Drops TCP frames `node` sends on `l`: a peer that went silent (ND still works).
fn silence_tcp(net: &mut Network<Stack>, l: LinkId, node: NodeId) {
    net.set_tap(
        l,
        Box::new(move |c: &Captured| {
            let tcp = seen(c).is_some_and(|s| s.proto == IpProtocol::TCP);
            if c.from == Some(node) && tcp {
                TapVerdict::Drop
            } else {
                TapVerdict::Pass
            }
        }),
    );
}

// ----- a generated stream, checked as it arrives ---------------------------------------

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Bytes `offset..` of the test stream: every 8-byte word is its own hash, so a byte out
/// of place (lost, doubled, reordered) shows.
fn stream_fill(offset: u64, buf: &mut [u8]) {
    let mut word = splitmix(offset / 8);
    for (k, b) in buf.iter_mut().enumerate() {
        let i = offset + k as u64;
        if i.is_multiple_of(8) {
            word = splitmix(i / 8);
        }
        *b = (word >> ((i % 8) * 8)) as u8;
    }
}

#[derive(Debug, Default)]
struct Streamed {
    sent: u64,
    received: u64,
    /// The first offset where the data differed from the stream.
    corrupt_at: Option<u64>,
    eof: bool,
}

/// Sends `total` bytes of the test stream from `a` to `b` and shuts down; `b` reads from
/// `read_from` on, checking every byte as it comes, until the end of the stream or
/// `limit`. The network advances `step` at a time.
fn stream(
    net: &mut Network<Stack>,
    (a, sa): (NodeId, SocketHandle),
    (b, sb): (NodeId, SocketHandle),
    total: u64,
    limit: Duration,
    read_from: Instant,
    step: Duration,
) -> Streamed {
    let deadline = net.now() + limit;
    let mut r = Streamed::default();
    let mut chunk = vec![0u8; 64 * 1024];
    let mut chunk_at = 0u64;
    let mut chunk_len = 0usize;
    let mut buf = vec![0u8; 64 * 1024];
    let mut want = vec![0u8; 64 * 1024];
    let mut shut = false;
    while net.now() < deadline {
        let now = net.now();
        loop {
            if r.sent == chunk_at + chunk_len as u64 && r.sent < total {
                chunk_at = r.sent;
                chunk_len = ((total - r.sent) as usize).min(chunk.len());
                stream_fill(chunk_at, &mut chunk[..chunk_len]);
            }
            if r.sent >= total {
                break;
            }
            let from = (r.sent - chunk_at) as usize;
            let n = net
                .node_mut(a)
                .tcp_send(now, sa, &chunk[from..chunk_len])
                .expect("send");
            r.sent += n as u64;
            if n == 0 {
                break;
            }
        }
        if r.sent == total && !shut {
            net.node_mut(a).tcp_shutdown(now, sa).unwrap();
            shut = true;
        }
        loop {
            if now < read_from {
                break;
            }
            match net.node_mut(b).tcp_recv(now, sb, &mut buf) {
                Ok(0) => {
                    r.eof = true;
                    return r;
                }
                Ok(n) => {
                    stream_fill(r.received, &mut want[..n]);
                    if r.corrupt_at.is_none() && buf[..n] != want[..n] {
                        let k = (0..n).find(|&k| buf[k] != want[k]).unwrap_or(0);
                        r.corrupt_at = Some(r.received + k as u64);
                    }
                    r.received += n as u64;
                }
                Err(Error::WouldBlock) => break,
                Err(e) => panic!("recv: {e}"),
            }
        }
        net.run_for(step);
    }
    r
}

fn assert_intact(r: &Streamed, total: u64) {
    assert_eq!(r.corrupt_at, None, "the stream arrived unaltered");
    assert_eq!(r.sent, total);
    assert_eq!(r.received, total, "every byte arrived");
    assert!(r.eof, "the end of the stream arrived");
}

// ----- opening -------------------------------------------------------------------------

#[test]
fn rfc9293_3_5_handshake_transfer_and_close_through_the_stack() {
    let test = "rfc9293_3_5_handshake_transfer_and_close_through_the_stack";
    let (mut net, l, a, b) = pair(test, 11, LinkConfig::ethernet());
    let (c, s) = connect(&mut net, a, b);
    let data = pattern(1_000_000);
    let got = transfer(&mut net, (a, c), (b, s), &data, Duration::from_secs(30));
    assert_eq!(got.len(), data.len());
    assert!(got == data, "the data arrived intact");
    let now = net.now();
    net.node_mut(b).tcp_close(now, s).unwrap();
    net.run_for(Duration::from_secs(1));
    let st = net.node(a).tcp_status(c).unwrap();
    assert_eq!(st.state, State::TimeWait, "the active closer waits 2 MSL");
    let segs = segments(&net, l, a);
    // SYN, SYN-ACK, ACK.
    assert!(segs[0].0 && segs[0].1.syn() && !segs[0].1.ack());
    assert!(!segs[1].0 && segs[1].1.syn() && segs[1].1.ack());
    assert!(segs[2].0 && segs[2].1.ack() && !segs[2].1.syn());
    let fins: Vec<bool> = segs.iter().filter(|s| s.1.fin()).map(|s| s.0).collect();
    assert_eq!(fins, vec![true, false], "a FIN each way, ours first");
    assert!(segs.iter().all(|s| !s.1.rst()));
    // Full-sized segments: 1500 - 40 - 20 - 12 (timestamps).
    let biggest = segs.iter().map(|s| s.2).max().unwrap();
    assert_eq!(biggest, 1428);
    let now = net.now();
    net.node_mut(a).tcp_close(now, c).unwrap();
    net.run_for(Duration::from_secs(250));
    assert_eq!(net.node(a).tcp_connection_count(), 0, "TIME-WAIT ended");
    assert_eq!(net.node(b).tcp_connection_count(), 0);
}

#[test]
fn rfc9293_3_5_active_and_passive_open_walk_their_states() {
    let test = "rfc9293_3_5_active_and_passive_open_walk_their_states";
    let (mut net, l, a, b) = pair(test, 21, LinkConfig::ethernet());
    let now = net.now();
    let lh = net
        .node_mut(b)
        .tcp_listen(now, Ipv6Addr::UNSPECIFIED, PORT, None)
        .unwrap();
    assert_eq!(state(&net, (b, lh)), State::Listen);
    let c = net
        .node_mut(a)
        .tcp_connect(now, ip(B_IP), PORT, None)
        .unwrap();
    let seen = watch(&mut net, &[(a, c), (b, lh)], Duration::from_millis(100));
    assert_eq!(seen[0], vec![State::SynSent, State::Established]);
    assert_eq!(seen[1], vec![State::Listen], "the listener stays in LISTEN");
    let ls = net.node(b).tcp_status(lh).unwrap();
    assert_eq!(ls.pending_accepts, 1);
    let (stats, half_open, ready) = net.node(b).tcp_listener_stats(lh).unwrap();
    assert_eq!(
        (stats.syns, stats.cookies_sent, half_open, ready),
        (1, 0, 0, 1)
    );
    let now = net.now();
    let s = net.node_mut(b).tcp_accept(now, lh).unwrap();
    assert_eq!(
        net.node_mut(b).tcp_accept(now, lh),
        Err(Error::WouldBlock),
        "one connection, accepted once"
    );
    let st = net.node(b).tcp_status(s).unwrap();
    assert_eq!(st.state, State::Established);
    assert_eq!(
        st.remote,
        Some((ip(A_IP), net.node(a).tcp_status(c).unwrap().local.1))
    );
    assert_eq!(net.node(a).tcp_stats().active_opens, 1);
    assert_eq!(net.node(b).tcp_stats().passive_opens, 1);
    // The handshake on the wire: ISNs and the acknowledgments of each SYN.
    let segs = tcp_segs(&net, l);
    assert_eq!(segs.len(), 3, "{segs:?}");
    let (syn, syn_ack, ack) = (&segs[0], &segs[1], &segs[2]);
    assert!(syn.is_syn() && syn.from == Some(a));
    assert!(syn_ack.is_syn_ack() && syn_ack.from == Some(b));
    assert_eq!(syn_ack.repr.ack_number, syn.repr.seq_number + 1);
    assert!(ack.flags().ack() && !ack.flags().syn() && ack.len == 0);
    assert_eq!(ack.repr.seq_number, syn.repr.seq_number + 1);
    assert_eq!(ack.repr.ack_number, syn_ack.repr.seq_number + 1);
    // Both SYNs offered MSS, window scale, SACK and timestamps (RFC 7323, RFC 2018).
    for s in [syn, syn_ack] {
        assert_eq!(s.repr.max_seg_size, Some(1440));
        assert!(s.repr.window_scale.is_some() && s.repr.sack_permitted);
        assert!(s.repr.timestamps.is_some());
    }
    let info = net.node(a).tcp_info(c).unwrap();
    assert!(info.sack && info.timestamps && info.mss == 1428, "{info:?}");
}

#[test]
fn rfc9293_3_5_simultaneous_open_passes_syn_received() {
    let test = "rfc9293_3_5_simultaneous_open_passes_syn_received";
    let (mut net, l, a, b) = pair(test, 22, LinkConfig::ethernet());
    let now = net.now();
    let ca = net
        .node_mut(a)
        .tcp_connect_from(now, (ip(A_IP), 6000), ip(B_IP), 6001, None)
        .unwrap();
    let cb = net
        .node_mut(b)
        .tcp_connect_from(now, (ip(B_IP), 6001), ip(A_IP), 6000, None)
        .unwrap();
    assert_eq!(
        net.node_mut(a)
            .tcp_connect_from(now, (ip(A_IP), 6000), ip(B_IP), 6001, None),
        Err(Error::AddrInUse),
        "the four-tuple is taken"
    );
    let seen = watch(&mut net, &[(a, ca), (b, cb)], Duration::from_millis(200));
    let path = vec![State::SynSent, State::SynReceived, State::Established];
    assert_eq!(seen[0], path, "a");
    assert_eq!(seen[1], path, "b");
    let segs = tcp_segs(&net, l);
    // Figure 8: SYNs cross, then each side answers with a SYN-ACK of its own ISS.
    let syns: Vec<&Seg> = segs.iter().filter(|s| s.is_syn()).collect();
    let syn_acks: Vec<&Seg> = segs.iter().filter(|s| s.is_syn_ack()).collect();
    assert_eq!(syns.len(), 2, "{segs:?}");
    assert_eq!(syn_acks.len(), 2, "{segs:?}");
    for sa in &syn_acks {
        let own = syns.iter().find(|s| s.from == sa.from).unwrap();
        let peer = syns.iter().find(|s| s.from != sa.from).unwrap();
        assert_eq!(
            sa.repr.seq_number, own.repr.seq_number,
            "the same ISS again"
        );
        assert_eq!(sa.repr.ack_number, peer.repr.seq_number + 1);
    }
    assert!(segs.iter().all(|s| !s.flags().rst()));
    // And the connection carries data both ways.
    let data = pattern(100_000);
    let got = transfer(&mut net, (a, ca), (b, cb), &data, Duration::from_secs(10));
    assert!(got == data);
    let got = transfer(&mut net, (b, cb), (a, ca), &data, Duration::from_secs(10));
    assert!(got == data);
}

// ----- closing -------------------------------------------------------------------------

/// One side shuts its sending half; the other goes on sending, then closes.
fn half_close(test: &str, seed: u64, client_shuts: bool) {
    let (mut net, l, a, b) = pair(test, seed, LinkConfig::ethernet());
    let (c, s) = connect(&mut net, a, b);
    let (shutter, other) = if client_shuts {
        ((a, c), (b, s))
    } else {
        ((b, s), (a, c))
    };
    let now = net.now();
    net.node_mut(shutter.0)
        .tcp_shutdown(now, shutter.1)
        .unwrap();
    let seen = watch(&mut net, &[shutter, other], Duration::from_millis(100));
    assert_eq!(
        seen[0],
        vec![State::FinWait1, State::FinWait2],
        "the closer waits for the other FIN"
    );
    assert_eq!(seen[1], vec![State::Established, State::CloseWait]);
    let fin_at = net.now();
    let now = net.now();
    let mut buf = [0u8; 16];
    assert_eq!(
        net.node_mut(other.0).tcp_recv(now, other.1, &mut buf),
        Ok(0),
        "end of stream"
    );
    assert_eq!(
        net.node_mut(shutter.0).tcp_send(now, shutter.1, b"more"),
        Err(Error::NotConnected),
        "no sending after shutdown"
    );
    // CLOSE-WAIT still sends; the closer still reads.
    let data = pattern(300_000);
    let got = transfer_no_shutdown(&mut net, other, shutter, &data);
    assert_eq!(got, data.len(), "data after the half-close arrived intact");
    assert_eq!(state(&net, other), State::CloseWait);
    let now = net.now();
    net.node_mut(other.0).tcp_shutdown(now, other.1).unwrap();
    let seen = watch(&mut net, &[shutter, other], Duration::from_secs(1));
    assert_eq!(seen[0], vec![State::FinWait2, State::TimeWait]);
    assert_eq!(seen[1], vec![State::LastAck, State::Closed]);
    let now = net.now();
    assert_eq!(
        net.node_mut(shutter.0).tcp_recv(now, shutter.1, &mut buf),
        Ok(0)
    );
    assert_eq!(net.node(other.0).tcp_status(other.1).unwrap().error, None);
    // The wire: the closer's FIN, then the other's data, then its FIN.
    let segs = tcp_segs(&net, l);
    let fins: Vec<&Seg> = segs.iter().filter(|s| s.flags().fin()).collect();
    assert_eq!(fins.len(), 2, "{fins:?}");
    assert_eq!(fins[0].from, Some(shutter.0));
    assert_eq!(fins[1].from, Some(other.0));
    let data_after: usize = segs
        .iter()
        .filter(|s| s.from == Some(other.0) && s.time >= fin_at)
        .map(|s| s.len)
        .sum();
    assert!(data_after >= data.len(), "{data_after}");
    assert!(segs.iter().all(|s| !s.flags().rst()));
}

#[test]
fn rfc9293_3_6_half_close_by_the_client_the_server_keeps_sending() {
    half_close(
        "rfc9293_3_6_half_close_by_the_client_the_server_keeps_sending",
        23,
        true,
    );
}

#[test]
fn rfc9293_3_6_half_close_by_the_server_the_client_keeps_sending() {
    half_close(
        "rfc9293_3_6_half_close_by_the_server_the_client_keeps_sending",
        24,
        false,
    );
}

#[test]
fn rfc9293_3_6_simultaneous_close_passes_closing() {
    let test = "rfc9293_3_6_simultaneous_close_passes_closing";
    let (mut net, l, a, b) = pair(test, 25, LinkConfig::ethernet());
    let (c, s) = connect(&mut net, a, b);
    let now = net.now();
    net.node_mut(a).tcp_shutdown(now, c).unwrap();
    net.node_mut(b).tcp_shutdown(now, s).unwrap();
    let seen = watch(&mut net, &[(a, c), (b, s)], Duration::from_millis(100));
    let path = vec![State::FinWait1, State::Closing, State::TimeWait];
    assert_eq!(seen[0], path, "a, figure 13");
    assert_eq!(seen[1], path, "b, figure 13");
    let segs = tcp_segs(&net, l);
    let fins: Vec<&Seg> = segs.iter().filter(|s| s.flags().fin()).collect();
    assert_eq!(fins.len(), 2);
    assert_ne!(fins[0].from, fins[1].from);
    // Each FIN acknowledges only the data before the other FIN (they crossed).
    for f in &fins {
        let other = fins.iter().find(|o| o.from != f.from).unwrap();
        assert_eq!(f.repr.ack_number, other.repr.seq_number);
    }
    // Both end after 2 MSL.
    net.run_for(Duration::from_secs(241));
    assert_eq!(state(&net, (a, c)), State::Closed);
    assert_eq!(state(&net, (b, s)), State::Closed);
}

#[test]
fn rfc9293_3_4_2_time_wait_lasts_two_msl_then_the_connection_is_gone() {
    let test = "rfc9293_3_4_2_time_wait_lasts_two_msl_then_the_connection_is_gone";
    let (mut net, l, a, b) = pair(test, 26, LinkConfig::ethernet());
    let (c, s, lh) = connect_l(&mut net, a, b);
    let local = net.node(a).tcp_status(c).unwrap().local;
    let now = net.now();
    net.node_mut(a).tcp_close(now, c).unwrap();
    net.run_for(Duration::from_millis(50));
    let now = net.now();
    let mut buf = [0u8; 8];
    assert_eq!(net.node_mut(b).tcp_recv(now, s, &mut buf), Ok(0));
    net.node_mut(b).tcp_close(now, s).unwrap();
    net.run_for(Duration::from_millis(50));
    // b's FIN arrival starts a's 2 MSL.
    let fin = tcp_segs(&net, l)
        .into_iter()
        .find(|x| x.flags().fin() && x.from == Some(b))
        .expect("b's FIN");
    let conns = net.node(a).tcp_connections();
    assert_eq!(conns.len(), 1);
    assert_eq!(conns[0].1.state, State::TimeWait);
    assert_eq!(conns[0].0, None, "closed by its user, finishing alone");
    assert_eq!(net.node(b).tcp_connection_count(), 0, "LAST-ACK ended");
    let msl2 = TcpConfig::default().msl * 2;
    assert_eq!(msl2, Duration::from_secs(240));
    net.run_until(fin.time + msl2 - Duration::from_millis(10));
    assert_eq!(net.node(a).tcp_connections()[0].1.state, State::TimeWait);
    net.run_until(fin.time + msl2 + Duration::from_millis(10));
    assert_eq!(net.node(a).tcp_connection_count(), 0, "gone after 2 MSL");
    // The same four-tuple can be used again.
    let now = net.now();
    let c2 = net
        .node_mut(a)
        .tcp_connect_from(now, local, ip(B_IP), PORT, None)
        .unwrap();
    net.run_for(Duration::from_millis(100));
    assert_eq!(state(&net, (a, c2)), State::Established);
    let now = net.now();
    let s2 = net.node_mut(b).tcp_accept(now, lh).unwrap();
    assert_eq!(net.node(b).tcp_status(s2).unwrap().remote, Some(local));
}

#[test]
fn rfc9293_3_10_5_abort_resets_the_peer_in_established() {
    let test = "rfc9293_3_10_5_abort_resets_the_peer_in_established";
    let (mut net, l, a, b) = pair(test, 27, LinkConfig::ethernet());
    let (c, s) = connect(&mut net, a, b);
    let data = pattern(10_000);
    let got = transfer_no_shutdown(&mut net, (a, c), (b, s), &data);
    assert_eq!(got, data.len());
    let snd_nxt = net.node(a).tcp_info(c).unwrap().snd_nxt;
    let now = net.now();
    net.node_mut(a).tcp_abort(now, c).unwrap();
    assert_eq!(net.node(a).tcp_status(c), None, "the socket is freed");
    net.run_for(Duration::from_millis(50));
    let rst: Vec<Seg> = tcp_segs(&net, l)
        .into_iter()
        .filter(|x| x.flags().rst())
        .collect();
    assert_eq!(rst.len(), 1, "{rst:?}");
    assert_eq!(rst[0].from, Some(a));
    assert_eq!(rst[0].repr.seq_number, snd_nxt, "<SEQ=SND.NXT><CTL=RST>");
    let st = net.node(b).tcp_status(s).unwrap();
    assert_eq!(st.state, State::Closed);
    assert_eq!(st.error, Some("connection reset"));
    let now = net.now();
    let mut buf = [0u8; 8];
    assert_eq!(
        net.node_mut(b).tcp_recv(now, s, &mut buf),
        Err(Error::Tcp("connection reset"))
    );
    assert_eq!(
        net.node_mut(b).tcp_send(now, s, b"x"),
        Err(Error::Tcp("connection reset"))
    );
    assert_eq!(net.node(b).tcp_stats().estab_resets, 1);
    assert_eq!(net.node(a).tcp_stats().out_rsts, 1);
    assert_eq!(net.node(a).tcp_connection_count(), 0);
}

/// Sends `data` from `a` to `b` and reads it all, leaving the connection open.
fn transfer_no_shutdown(
    net: &mut Network<Stack>,
    (a, sa): (NodeId, SocketHandle),
    (b, sb): (NodeId, SocketHandle),
    data: &[u8],
) -> usize {
    let mut sent = 0;
    let mut got = 0;
    let mut buf = vec![0u8; 65536];
    for _ in 0..10_000 {
        let now = net.now();
        if sent < data.len() {
            sent += net.node_mut(a).tcp_send(now, sa, &data[sent..]).unwrap();
        }
        while let Ok(n) = net.node_mut(b).tcp_recv(now, sb, &mut buf) {
            assert!(n > 0 && buf[..n] == data[got..got + n]);
            got += n;
        }
        if got == data.len() {
            break;
        }
        net.run_for(Duration::from_millis(1));
    }
    got
}

#[test]
fn rfc9293_3_6_close_with_unread_data_sends_rst() {
    let test = "rfc9293_3_6_close_with_unread_data_sends_rst";
    let (mut net, l, a, b) = pair(test, 28, LinkConfig::ethernet());
    let (c, s) = connect(&mut net, a, b);
    let now = net.now();
    assert_eq!(net.node_mut(a).tcp_send(now, c, &pattern(5000)), Ok(5000));
    // Nagle holds the last short segment until the (delayed) ACK.
    net.run_for(Duration::from_millis(500));
    assert_eq!(net.node(b).tcp_status(s).unwrap().readable, 5000);
    let now = net.now();
    net.node_mut(b).tcp_close(now, s).unwrap();
    net.run_for(Duration::from_millis(50));
    let segs = tcp_segs(&net, l);
    assert!(
        segs.iter().all(|x| !x.flags().fin()),
        "no orderly close: the data would be lost silently"
    );
    let rst: Vec<&Seg> = segs.iter().filter(|x| x.flags().rst()).collect();
    assert_eq!(rst.len(), 1);
    assert_eq!(rst[0].from, Some(b));
    let st = net.node(a).tcp_status(c).unwrap();
    assert_eq!(
        (st.state, st.error),
        (State::Closed, Some("connection reset"))
    );
    assert_eq!(net.node(b).tcp_connection_count(), 0);
}

#[test]
fn rfc9293_3_10_7_1_a_closed_port_refuses() {
    let test = "rfc9293_3_10_7_1_a_closed_port_refuses";
    let (mut net, l, a, _b) = pair(test, 12, LinkConfig::ethernet());
    let now = net.now();
    let c = net.node_mut(a).tcp_connect(now, ip(B_IP), 9, None).unwrap();
    net.run_for(Duration::from_millis(100));
    let st = net.node(a).tcp_status(c).unwrap();
    assert_eq!(st.error, Some("connection refused"));
    assert_eq!(st.state, State::Closed);
    let segs = segments(&net, l, a);
    assert!(
        segs.iter().any(|s| !s.0 && s.1.rst() && s.1.ack()),
        "{segs:?}"
    );
    let now = net.now();
    let mut buf = [0u8; 8];
    assert_eq!(
        net.node_mut(a).tcp_recv(now, c, &mut buf),
        Err(Error::Tcp("connection refused"))
    );
}

#[test]
fn rfc9293_3_10_4_closing_a_listener_resets_its_unaccepted_connections() {
    let test = "rfc9293_3_10_4_closing_a_listener_resets_its_unaccepted_connections";
    let (mut net, l, a, b) = pair(test, 29, LinkConfig::ethernet());
    let now = net.now();
    let lh = net
        .node_mut(b)
        .tcp_listen(now, Ipv6Addr::UNSPECIFIED, PORT, None)
        .unwrap();
    let cs: Vec<SocketHandle> = (0..3)
        .map(|_| {
            net.node_mut(a)
                .tcp_connect(now, ip(B_IP), PORT, None)
                .unwrap()
        })
        .collect();
    net.run_for(Duration::from_millis(100));
    for &c in &cs {
        assert_eq!(state(&net, (a, c)), State::Established);
    }
    assert_eq!(net.node(b).tcp_status(lh).unwrap().pending_accepts, 3);
    let mark = net.captured(l).len();
    let now = net.now();
    net.node_mut(b).tcp_close(now, lh).unwrap();
    net.run_for(Duration::from_millis(100));
    let rsts: Vec<Seg> = net.captured(l)[mark..]
        .iter()
        .filter_map(tcp_of)
        .filter(|x| x.flags().rst())
        .collect();
    assert_eq!(rsts.len(), 3, "{rsts:?}");
    for &c in &cs {
        let st = net.node(a).tcp_status(c).unwrap();
        let port = st.local.1;
        assert!(
            rsts.iter()
                .any(|r| r.from == Some(b) && r.repr.dst_port == port)
        );
        assert_eq!(
            (st.state, st.error),
            (State::Closed, Some("connection reset"))
        );
    }
    assert_eq!(net.node(a).tcp_stats().estab_resets, 3);
    assert_eq!(net.node(b).tcp_connection_count(), 0);
    // The port is closed now.
    let now = net.now();
    let c = net
        .node_mut(a)
        .tcp_connect(now, ip(B_IP), PORT, None)
        .unwrap();
    net.run_for(Duration::from_millis(100));
    assert_eq!(
        net.node(a).tcp_status(c).unwrap().error,
        Some("connection refused")
    );
}

#[test]
fn rfc6298_5_5_syn_backs_off_until_r2_then_the_connect_times_out() {
    let test = "rfc6298_5_5_syn_backs_off_until_r2_then_the_connect_times_out";
    let r2 = Duration::from_secs(20);
    let (mut net, l, a, b) = pair_with(test, 30, LinkConfig::ethernet(), |t| t.r2_syn = r2);
    // A first, refused attempt resolves the neighbors; then b's TCP goes silent.
    let now = net.now();
    let c0 = net.node_mut(a).tcp_connect(now, ip(B_IP), 9, None).unwrap();
    net.run_for(Duration::from_millis(100));
    assert_eq!(
        net.node(a).tcp_status(c0).unwrap().error,
        Some("connection refused")
    );
    silence_tcp(&mut net, l, b);
    let mark = net.captured(l).len();
    let t0 = net.now();
    let c = net
        .node_mut(a)
        .tcp_connect(t0, ip(B_IP), PORT, None)
        .unwrap();
    net.run_until(t0 + r2 - Duration::from_millis(1));
    assert_eq!(
        state(&net, (a, c)),
        State::SynSent,
        "still trying before R2"
    );
    net.run_until(t0 + Duration::from_secs(40));
    let st = net.node(a).tcp_status(c).unwrap();
    assert_eq!(
        (st.state, st.error),
        (State::Closed, Some("connection timed out"))
    );
    let syns: Vec<Seg> = net.captured(l)[mark..]
        .iter()
        .filter_map(tcp_of)
        .filter(|x| x.is_syn())
        .collect();
    let times: Vec<u64> = syns
        .iter()
        .map(|x| (x.time - t0).as_millis() as u64)
        .collect();
    // RFC 6298 §2.1 and §5.5: 1 s, then doubling: 0, 1, 3, 7, 15 s.
    assert_eq!(times, vec![0, 1000, 3000, 7000, 15000], "{times:?}");
    assert!(
        syns.iter()
            .all(|x| x.repr.seq_number == syns[0].repr.seq_number)
    );
    let info = net.node(a).tcp_info(c).unwrap();
    assert_eq!(info.retransmissions, 4);
    assert_eq!(net.node(a).tcp_stats().attempt_fails, 2);
    assert!(
        net.captured(l)[mark..]
            .iter()
            .filter_map(tcp_of)
            .all(|x| x.from == Some(a) && !x.flags().rst()),
        "a gave up quietly: the peer never answered"
    );
}

// ----- bulk data, loss recovery --------------------------------------------------------

/// `total` bytes of the test stream from `a` to `b` over `link` with these congestion
/// control and SACK settings; returns the sender's variables once all arrived.
fn bulk(
    test: &str,
    seed: u64,
    link: LinkConfig,
    cc: Algorithm,
    sack: bool,
    total: u64,
) -> sixstack_core::transport::tcp::TcpInfo {
    let (mut net, l, a, b) = pair_with(
        test,
        seed,
        LinkConfig {
            capture_limit: if total > 10_000_000 { 2000 } else { 20_000 },
            ..link
        },
        |t| {
            t.congestion_control = cc;
            t.sack = sack;
        },
    );
    let (c, s) = connect(&mut net, a, b);
    let t0 = net.now();
    let r = stream(
        &mut net,
        (a, c),
        (b, s),
        total,
        Duration::from_secs(3600),
        t0,
        Duration::from_millis(1),
    );
    assert_intact(&r, total);
    // The last ACKs reach the sender.
    net.run_for(Duration::from_secs(2));
    let info = net.node(a).tcp_info(c).unwrap();
    assert_eq!(info.congestion_control, cc);
    assert_eq!(info.sack, sack);
    assert_eq!(info.bytes_acked, total);
    assert_eq!(net.node(b).tcp_info(s).unwrap().bytes_received, total);
    assert_eq!(
        net.node(a).tcp_stats().retrans_segs,
        info.retransmissions,
        "the stack's counter follows the connection's"
    );
    // Every data segment a sent, first copies and retransmissions alike (those the capture
    // kept), carried the stream's bytes for its sequence numbers.
    let data_start = info.iss + 1;
    let mut want = vec![0u8; 65536];
    let mut checked = 0;
    for x in tcp_segs(&net, l) {
        if x.from != Some(a) || x.len == 0 {
            continue;
        }
        let off = (x.repr.seq_number - data_start) as u64;
        let payload = &x.packet[x.packet.len() - x.len..];
        stream_fill(off, &mut want[..x.len]);
        assert!(
            payload == &want[..x.len],
            "segment at stream offset {off} carried other bytes"
        );
        checked += 1;
    }
    assert!(checked > 100, "{checked}");
    let ls = net.link_stats(l);
    if link_lossy(net.link_config(l)) {
        assert!(ls.lost > 0, "{ls:?}");
    }
    info
}

fn link_lossy(l: &LinkConfig) -> bool {
    l.loss > 0.0
}

fn assert_recovered(info: &sixstack_core::transport::tcp::TcpInfo) {
    assert!(info.retransmissions > 0, "losses were repaired: {info:?}");
    assert!(info.fast_retransmits > 0, "by fast retransmit: {info:?}");
    assert!(
        info.ssthresh < u32::MAX && info.ssthresh >= 2 * info.mss,
        "ssthresh came down from its initial value and no lower than 2 MSS: {info:?}"
    );
    assert!(!info.in_recovery || info.bytes_in_flight == 0);
}

#[test]
fn rfc5681_rfc6675_50_mb_over_loss_reordering_and_duplication_arrive_intact() {
    let link = LinkConfig {
        loss: 0.01,
        duplicate: 0.01,
        reorder: 0.02,
        ..LinkConfig::ethernet()
    };
    let info = bulk(
        "rfc5681_rfc6675_50_mb_over_loss_reordering_and_duplication_arrive_intact",
        13,
        link,
        Algorithm::NewReno,
        true,
        50_000_000,
    );
    assert_recovered(&info);
}

#[test]
fn rfc6675_sack_recovery_5_mb_over_5_percent_loss() {
    let link = LinkConfig {
        loss: 0.05,
        ..LinkConfig::ethernet()
    };
    let info = bulk(
        "rfc6675_sack_recovery_5_mb_over_5_percent_loss",
        31,
        link,
        Algorithm::NewReno,
        true,
        5_000_000,
    );
    assert_recovered(&info);
}

#[test]
fn rfc6582_newreno_without_sack_5_mb_over_5_percent_loss() {
    let link = LinkConfig {
        loss: 0.05,
        ..LinkConfig::ethernet()
    };
    let info = bulk(
        "rfc6582_newreno_without_sack_5_mb_over_5_percent_loss",
        32,
        link,
        Algorithm::NewReno,
        false,
        5_000_000,
    );
    assert_recovered(&info);
}

#[test]
fn rfc6582_newreno_without_sack_5_mb_over_1_percent_loss_reordering_and_duplication() {
    let link = LinkConfig {
        loss: 0.01,
        duplicate: 0.01,
        reorder: 0.02,
        ..LinkConfig::ethernet()
    };
    let info = bulk(
        "rfc6582_newreno_without_sack_5_mb_over_1_percent_loss_reordering_and_duplication",
        33,
        link,
        Algorithm::NewReno,
        false,
        5_000_000,
    );
    assert_recovered(&info);
}

#[test]
fn rfc9438_cubic_with_sack_5_mb_over_1_percent_loss() {
    let link = LinkConfig {
        loss: 0.01,
        ..LinkConfig::ethernet()
    };
    let info = bulk(
        "rfc9438_cubic_with_sack_5_mb_over_1_percent_loss",
        34,
        link,
        Algorithm::Cubic,
        true,
        5_000_000,
    );
    assert_recovered(&info);
}

#[test]
fn rfc9438_cubic_with_sack_5_mb_over_5_percent_loss() {
    let link = LinkConfig {
        loss: 0.05,
        ..LinkConfig::ethernet()
    };
    let info = bulk(
        "rfc9438_cubic_with_sack_5_mb_over_5_percent_loss",
        35,
        link,
        Algorithm::Cubic,
        true,
        5_000_000,
    );
    assert_recovered(&info);
}

#[test]
fn rfc9438_cubic_without_sack_5_mb_over_1_percent_loss_reordering_and_duplication() {
    let link = LinkConfig {
        loss: 0.01,
        duplicate: 0.01,
        reorder: 0.02,
        ..LinkConfig::ethernet()
    };
    let info = bulk(
        "rfc9438_cubic_without_sack_5_mb_over_1_percent_loss_reordering_and_duplication",
        36,
        link,
        Algorithm::Cubic,
        false,
        5_000_000,
    );
    assert_recovered(&info);
}

#[test]
fn rfc5681_3_2_reordering_and_duplication_alone_trigger_no_retransmission() {
    let link = LinkConfig {
        duplicate: 0.01,
        reorder: 0.02,
        ..LinkConfig::ethernet()
    };
    let info = bulk(
        "rfc5681_3_2_reordering_and_duplication_alone_trigger_no_retransmission",
        37,
        link,
        Algorithm::NewReno,
        true,
        5_000_000,
    );
    // A segment held back by one place makes one duplicate ACK, below DupThresh.
    assert_eq!(info.fast_retransmits, 0, "{info:?}");
    assert_eq!(info.timeouts, 0, "{info:?}");
    assert_eq!(info.ssthresh, u32::MAX, "no congestion event: {info:?}");
}

// ----- SYN flood -----------------------------------------------------------------------

/// A SYN as a spoofing attacker makes it, in an Ethernet frame to `dst_mac`.
fn syn_frame(
    dst_mac: EthernetAddress,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    src_port: u16,
    dst_port: u16,
    seq: u32,
) -> Vec<u8> {
    let repr = tcp::Repr {
        src_port,
        dst_port,
        seq_number: SeqNumber(seq),
        ack_number: SeqNumber(0),
        flags: Flags::SYN,
        window_len: 65535,
        urgent_pointer: 0,
        max_seg_size: Some(1440),
        window_scale: None,
        sack_permitted: false,
        sack_blocks: SackBlocks::new(),
        timestamps: None,
        unknown_options: RawOptions::new(),
        payload_len: 0,
    };
    let mut seg = vec![0u8; repr.header_len()];
    repr.emit_with_payload(&mut seg, &[], &PseudoHeader::V6 { src, dst })
        .expect("SYN fits");
    ethernet(
        mac(0x66),
        dst_mac,
        &ipv6_packet(src, dst, IpProtocol::TCP, 64, &seg),
    )
}

fn in_flood_prefix(a: &Ipv6Addr) -> bool {
    a.segments()[..3] == [0x2001, 0xdb8, 0xbad]
}

#[test]
fn rfc4987_syn_flood_with_a_full_backlog_a_client_still_connects_by_cookie() {
    let test = "rfc4987_syn_flood_with_a_full_backlog_a_client_still_connects_by_cookie";
    const BACKLOG: usize = 16;
    const FLOOD: u32 = 4000;
    let (mut net, l, a, b) = pair_with(test, 40, LinkConfig::ethernet(), |t| {
        t.syn_backlog = BACKLOG;
        t.accept_backlog = 4;
    });
    // The spoofed sources are off-link, behind a's link-local address, so that b's
    // SYN-ACKs go out on the link where the capture sees them (and a ignores them).
    let a_ll = link_local(net.node(a), ETH0).unwrap();
    net.node_mut(b)
        .add_route(Route {
            prefix: ip("2001:db8:bad::"),
            prefix_len: 48,
            iface: ETH0,
            next_hop: Some(a_ll),
            metric: 1,
            origin: RouteOrigin::Static,
            expires: None,
            kind: RouteKind::Unicast,
        })
        .unwrap();
    let now = net.now();
    let lh = net
        .node_mut(b)
        .tcp_listen(now, Ipv6Addr::UNSPECIFIED, PORT, None)
        .unwrap();
    let mut client = None;
    let mut peak_half_open = 0;
    for i in 0..FLOOD {
        let src = Ipv6Addr::new(
            0x2001,
            0xdb8,
            0xbad,
            0,
            0,
            0,
            (i >> 16) as u16,
            (i as u16).wrapping_add(1),
        );
        let f = syn_frame(
            mac(2),
            src,
            ip(B_IP),
            1024 + (i % 60000) as u16,
            PORT,
            i.wrapping_mul(2_654_435_761),
        );
        net.inject(l, None, f);
        if i % 4 == 3 {
            net.run_for(Duration::from_millis(1));
        }
        if i == FLOOD / 2 {
            let now = net.now();
            client = Some(
                net.node_mut(a)
                    .tcp_connect(now, ip(B_IP), PORT, None)
                    .unwrap(),
            );
        }
        let (_, half_open, _) = net.node(b).tcp_listener_stats(lh).unwrap();
        peak_half_open = peak_half_open.max(half_open);
    }
    net.run_for(Duration::from_millis(100));
    let c = client.unwrap();
    assert_eq!(
        state(&net, (a, c)),
        State::Established,
        "the client got through"
    );
    let (stats, half_open, ready) = net.node(b).tcp_listener_stats(lh).unwrap();
    assert_eq!(stats.syns, u64::from(FLOOD) + 1);
    assert_eq!(
        stats.cookies_sent,
        u64::from(FLOOD) + 1 - BACKLOG as u64,
        "every SYN beyond the backlog got a cookie, the client's too"
    );
    assert_eq!(
        stats.cookies_accepted, 1,
        "the client came in by its cookie"
    );
    assert_eq!(stats.tx_dropped, 0);
    // Memory stayed bounded: the backlog, and nothing kept for cookie SYNs.
    assert!(peak_half_open <= BACKLOG, "{peak_half_open}");
    assert!(half_open <= BACKLOG);
    assert_eq!(ready, 1);
    assert_eq!(net.node(b).tcp_connection_count(), 0, "none accepted yet");
    let now = net.now();
    let s = net.node_mut(b).tcp_accept(now, lh).unwrap();
    // The cookie connection kept the options: SACK and window scaling from the echoed
    // timestamp, the MSS from the cookie.
    let info = net.node(b).tcp_info(s).unwrap();
    assert!(
        info.sack && info.timestamps && info.snd_wscale > 0,
        "{info:?}"
    );
    assert!(info.mss >= 1200, "{info:?}");
    // On the wire: a SYN-ACK to every spoofed source, from b.
    let segs = tcp_segs(&net, l);
    let spoofed_syn_acks = segs
        .iter()
        .filter(|x| x.is_syn_ack() && x.from == Some(b) && in_flood_prefix(&x.dst))
        .map(|x| x.dst)
        .collect::<std::collections::BTreeSet<_>>();
    assert_eq!(spoofed_syn_acks.len(), FLOOD as usize);
    // And the connection works while the half-open ones are still waiting.
    let data = pattern(200_000);
    let got = transfer(&mut net, (a, c), (b, s), &data, Duration::from_secs(10));
    assert!(got == data);
    assert!(
        net.node(b)
            .interface(ETH0)
            .unwrap()
            .neighbors
            .iter()
            .count()
            < 10
    );
}

// ----- path MTU ------------------------------------------------------------------------

fn default_route(iface: sixstack_core::IfaceId, via: Ipv6Addr) -> Route {
    Route {
        prefix: Ipv6Addr::UNSPECIFIED,
        prefix_len: 0,
        iface,
        next_hop: Some(via),
        metric: 1024,
        origin: RouteOrigin::Static,
        expires: None,
        kind: RouteKind::Unicast,
    }
}

#[test]
fn rfc8201_4_pmtu_drop_mid_transfer_lowers_the_mss_and_the_data_arrives() {
    let test = "rfc8201_4_pmtu_drop_mid_transfer_lowers_the_mss_and_the_data_arrives";
    let seed = 50;
    let mut net = Network::new(seed);
    let big = LinkConfig {
        capture_limit: 100_000,
        ..LinkConfig::ethernet()
    };
    let lan1 = net.add_link("lan1", big.clone());
    let lan2 = net.add_link("lan2", big.clone());
    record(&mut net, test);
    let mut r = Stack::new(StackConfig::router(), seed);
    r.add_interface(Instant::ZERO, IfaceConfig::ethernet("eth0", mac(0x01)));
    r.add_interface(Instant::ZERO, IfaceConfig::ethernet("eth1", mac(0x02)));
    r.add_address(Instant::ZERO, ETH0, ip("2001:db8:1::1"), 64)
        .unwrap();
    r.add_address(Instant::ZERO, ETH1, ip("2001:db8:2::1"), 64)
        .unwrap();
    let mut h1 = host(seed + 1, mac(0x11));
    let mut h2 = host(seed + 2, mac(0x21));
    let (h1_ip, h2_ip) = (ip("2001:db8:1::10"), ip("2001:db8:2::20"));
    h1.add_address(Instant::ZERO, ETH0, h1_ip, 64).unwrap();
    h2.add_address(Instant::ZERO, ETH0, h2_ip, 64).unwrap();
    let r = net.add_node("r", r);
    let h1 = net.add_node("h1", h1);
    let h2 = net.add_node("h2", h2);
    net.attach(lan1, r, ETH0);
    net.attach(lan2, r, ETH1);
    net.attach(lan1, h1, ETH0);
    net.attach(lan2, h2, ETH0);
    net.run_until(Instant::from_secs(5));
    let r1_ll = link_local(net.node(r), ETH0).unwrap();
    let r2_ll = link_local(net.node(r), ETH1).unwrap();
    net.node_mut(h1)
        .add_route(default_route(ETH0, r1_ll))
        .unwrap();
    net.node_mut(h2)
        .add_route(default_route(ETH0, r2_ll))
        .unwrap();

    let now = net.now();
    let lh = net
        .node_mut(h2)
        .tcp_listen(now, Ipv6Addr::UNSPECIFIED, PORT, None)
        .unwrap();
    let c = net
        .node_mut(h1)
        .tcp_connect(now, h2_ip, PORT, None)
        .unwrap();
    net.run_for(Duration::from_millis(100));
    let now = net.now();
    let s = net.node_mut(h2).tcp_accept(now, lh).unwrap();
    assert_eq!(net.node(h1).tcp_info(c).unwrap().mss, 1428);

    // The first megabyte at 1500, then the router's second link shrinks to 1280.
    let total = 5_000_000u64;
    let mut sent = 0u64;
    let mut received = 0u64;
    let mut chunk = vec![0u8; 65536];
    let mut buf = vec![0u8; 65536];
    let mut want = vec![0u8; 65536];
    let mut dropped_at = None;
    let mut shut = false;
    let deadline = net.now() + Duration::from_secs(120);
    while net.now() < deadline {
        let now = net.now();
        if sent < total {
            let n = ((total - sent) as usize).min(chunk.len());
            stream_fill(sent, &mut chunk[..n]);
            sent += net.node_mut(h1).tcp_send(now, c, &chunk[..n]).unwrap() as u64;
        } else if !shut {
            net.node_mut(h1).tcp_shutdown(now, c).unwrap();
            shut = true;
        }
        let mut eof = false;
        loop {
            match net.node_mut(h2).tcp_recv(now, s, &mut buf) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => {
                    stream_fill(received, &mut want[..n]);
                    assert!(buf[..n] == want[..n], "data intact at {received}");
                    received += n as u64;
                }
                Err(Error::WouldBlock) => break,
                Err(e) => panic!("recv: {e}"),
            }
        }
        if eof {
            break;
        }
        if dropped_at.is_none() && received >= 1_000_000 {
            net.node_mut(r).set_mtu(now, ETH1, 1280).unwrap();
            net.set_link_config(
                lan2,
                LinkConfig {
                    mtu: 1280,
                    ..big.clone()
                },
            );
            dropped_at = Some(now);
        }
        net.run_for(Duration::from_millis(1));
    }
    let t = dropped_at.expect("the MTU dropped mid-transfer");
    assert_eq!(received, total, "everything arrived");
    assert_eq!(net.node(r).interface(ETH1).unwrap().mtu, 1280);
    // The router said Packet Too Big, with the new MTU, to the sender.
    let ptb = icmp(&net, lan1, icmpv6::Message::PACKET_TOO_BIG, Some(r));
    assert!(!ptb.is_empty(), "a Packet Too Big");
    assert!(ptb.iter().all(|p| p.time >= t && p.dst == h1_ip));
    match ptb[0].icmp() {
        Some(icmpv6::Repr::PacketTooBig { mtu, .. }) => assert_eq!(mtu, 1280),
        other => panic!("{other:?}"),
    }
    // The sender's MSS came down: 1280 - 40 - 20 - 12 (timestamps).
    let info = net.node(h1).tcp_info(c).unwrap();
    assert_eq!((info.path_mtu, info.mss), (1280, 1208), "{info:?}");
    assert_eq!(net.node(h1).path_mtu(&h2_ip), Some(1280));
    // After the drop no frame above 1280 crossed the second link.
    let after: Vec<&Captured> = net.captured(lan2).iter().filter(|x| x.time > t).collect();
    assert!(!after.is_empty());
    assert!(after.iter().all(|x| x.frame.len() <= 14 + 1280));
    assert_eq!(
        net.link_stats(lan2).too_big,
        0,
        "the router never sent a too-big frame"
    );
    let segs2: Vec<Seg> = after.iter().filter_map(|x| tcp_of(x)).collect();
    assert!(
        segs2.iter().any(|x| x.len == 1208),
        "full-sized segments at the new MSS"
    );
    assert!(segs2.iter().all(|x| x.len <= 1208));
}

// ----- ICMPv6 errors -------------------------------------------------------------------

/// An ICMPv6 error from a router-like 2001:db8::fe to `a` (MAC 1) quoting `invoking`.
fn icmp_error_frame(repr: &icmpv6::Repr<'_>) -> Vec<u8> {
    ethernet(
        mac(0x77),
        mac(1),
        &icmpv6_packet(ip("2001:db8::fe"), ip(A_IP), 64, repr),
    )
}

/// The last TCP packet `from` sent on `l`, with its sequence number replaced if asked.
fn last_tcp_packet(net: &Network<Stack>, l: LinkId, from: NodeId, seq: Option<u32>) -> Vec<u8> {
    let s = tcp_segs(net, l)
        .into_iter()
        .rev()
        .find(|x| x.from == Some(from))
        .expect("a segment");
    let mut p = s.packet.clone();
    if let Some(seq) = seq {
        p[40 + 4..40 + 8].copy_from_slice(&seq.to_be_bytes());
    }
    p
}

#[test]
fn rfc5461_rfc9293_3_9_1_destination_unreachable_is_a_soft_error_when_established() {
    let test = "rfc5461_rfc9293_3_9_1_destination_unreachable_is_a_soft_error_when_established";
    let (mut net, l, a, b) = pair(test, 60, LinkConfig::ethernet());
    let (c, s) = connect(&mut net, a, b);
    for code in [1u8, 4] {
        let quote = last_tcp_packet(&net, l, a, None);
        let f = icmp_error_frame(&icmpv6::Repr::DstUnreachable {
            code,
            invoking: &quote,
        });
        net.inject(l, None, f);
        net.run_for(Duration::from_millis(10));
        let info = net.node(a).tcp_info(c).unwrap();
        assert_eq!(info.last_error, Some(IcmpError::DstUnreachable { code }));
        let st = net.node(a).tcp_status(c).unwrap();
        assert_eq!(
            (st.state, st.error),
            (State::Established, None),
            "code {code}"
        );
    }
    let data = pattern(200_000);
    let got = transfer(&mut net, (a, c), (b, s), &data, Duration::from_secs(10));
    assert!(got == data, "the connection survived");
}

#[test]
fn rfc5461_syn_sent_with_soft_errors_until_r2_fails_with_their_cause() {
    let test = "rfc5461_syn_sent_with_soft_errors_until_r2_fails_with_their_cause";
    let r2 = Duration::from_secs(20);
    let (mut net, l, a, b) = pair_with(test, 61, LinkConfig::ethernet(), |t| t.r2_syn = r2);
    let now = net.now();
    let c0 = net.node_mut(a).tcp_connect(now, ip(B_IP), 9, None).unwrap();
    net.run_for(Duration::from_millis(100));
    assert!(net.node(a).tcp_status(c0).unwrap().error.is_some());
    silence_tcp(&mut net, l, b);
    let t0 = net.now();
    let c = net
        .node_mut(a)
        .tcp_connect(t0, ip(B_IP), PORT, None)
        .unwrap();
    let mut answered = 0;
    while net.now() < t0 + Duration::from_secs(40) {
        let syns: Vec<Seg> = tcp_segs(&net, l)
            .into_iter()
            .filter(|x| x.is_syn() && x.time >= t0)
            .collect();
        for syn in &syns[answered..] {
            // Address unreachable (code 3): a soft error, each time.
            let f = icmp_error_frame(&icmpv6::Repr::DstUnreachable {
                code: 3,
                invoking: &syn.packet,
            });
            net.inject(l, None, f);
        }
        answered = syns.len();
        net.run_for(Duration::from_millis(100));
        if net.now() < t0 + r2 {
            assert_eq!(state(&net, (a, c)), State::SynSent, "soft: still trying");
        }
    }
    assert_eq!(answered, 5, "SYNs at 0, 1, 3, 7, 15 s");
    let st = net.node(a).tcp_status(c).unwrap();
    assert_eq!(
        (st.state, st.error),
        (State::Closed, Some("host unreachable"))
    );
    let now = net.now();
    let mut buf = [0u8; 4];
    assert_eq!(
        net.node_mut(a).tcp_recv(now, c, &mut buf),
        Err(Error::Tcp("host unreachable"))
    );
}

#[test]
fn rfc5461_port_unreachable_in_syn_sent_fails_the_open_at_once() {
    let test = "rfc5461_port_unreachable_in_syn_sent_fails_the_open_at_once";
    let (mut net, l, a, b) = pair(test, 62, LinkConfig::ethernet());
    let now = net.now();
    let c0 = net.node_mut(a).tcp_connect(now, ip(B_IP), 9, None).unwrap();
    net.run_for(Duration::from_millis(100));
    assert!(net.node(a).tcp_status(c0).unwrap().error.is_some());
    silence_tcp(&mut net, l, b);
    let now = net.now();
    let c = net
        .node_mut(a)
        .tcp_connect(now, ip(B_IP), PORT, None)
        .unwrap();
    net.run_for(Duration::from_millis(10));
    let quote = last_tcp_packet(&net, l, a, None);
    let f = icmp_error_frame(&icmpv6::Repr::DstUnreachable {
        code: 4,
        invoking: &quote,
    });
    net.inject(l, None, f);
    net.run_for(Duration::from_millis(10));
    let st = net.node(a).tcp_status(c).unwrap();
    assert_eq!(
        (st.state, st.error),
        (State::Closed, Some("connection refused"))
    );
    assert_eq!(net.node(a).tcp_stats().attempt_fails, 2);
}

#[test]
fn rfc5927_4_1_errors_quoting_a_sequence_number_not_in_flight_are_ignored() {
    let test = "rfc5927_4_1_errors_quoting_a_sequence_number_not_in_flight_are_ignored";
    let (mut net, l, a, b) = pair(test, 63, LinkConfig::ethernet());
    let (c, _s) = connect(&mut net, a, b);
    let una = net.node(a).tcp_info(c).unwrap().snd_una;
    let reason = "ICMP error quoting a TCP sequence number not in flight";
    let bogus = [una.0.wrapping_add(1_000_000), una.0.wrapping_sub(70_000)];
    for (i, seq) in bogus.into_iter().enumerate() {
        let quote = last_tcp_packet(&net, l, a, Some(seq));
        net.inject(
            l,
            None,
            icmp_error_frame(&icmpv6::Repr::DstUnreachable {
                code: 1,
                invoking: &quote,
            }),
        );
        net.inject(
            l,
            None,
            icmp_error_frame(&icmpv6::Repr::PacketTooBig {
                mtu: 1280,
                invoking: &quote[..quote.len().min(1232)],
            }),
        );
        net.run_for(Duration::from_millis(10));
        assert_eq!(net.node(a).stats().drops_for(reason), 2 * (i as u64 + 1));
    }
    let info = net.node(a).tcp_info(c).unwrap();
    assert_eq!(info.last_error, None);
    assert_eq!((info.mss, info.path_mtu), (1428, 1500), "{info:?}");
    assert_eq!(state(&net, (a, c)), State::Established);
}

// ----- zero window, keep-alive ---------------------------------------------------------

#[test]
fn rfc9293_3_8_6_1_zero_window_probes_back_off_then_the_transfer_finishes() {
    let test = "rfc9293_3_8_6_1_zero_window_probes_back_off_then_the_transfer_finishes";
    let (mut net, l, a, b) = pair(test, 70, LinkConfig::ethernet());
    let (c, s) = connect(&mut net, a, b);
    let t0 = net.now();
    let read_from = t0 + Duration::from_secs(100);
    let total = 1_000_000;
    let r = stream(
        &mut net,
        (a, c),
        (b, s),
        total,
        Duration::from_secs(400),
        read_from,
        Duration::from_millis(10),
    );
    assert_intact(&r, total);
    let segs = tcp_segs(&net, l);
    // The window closed: b said zero while nobody read.
    assert!(
        segs.iter()
            .any(|x| x.from == Some(b) && x.repr.window_len == 0 && x.time < read_from)
    );
    let probes: Vec<&Seg> = segs
        .iter()
        .filter(|x| x.from == Some(a) && x.len == 1 && x.time < read_from)
        .collect();
    // While the scaled window field said zero, a few bytes of the last offered window
    // were still free (the field rounds down): probes into them are taken, and an
    // acknowledged probe starts the backoff again. From the first refused one on, the
    // interval doubles: RFC 6298's RTO (1 s here), doubled each time, up to 60 s.
    let answer = |p: &Seg| {
        segs.iter()
            .find(|x| x.from == Some(b) && x.time > p.time)
            .cloned()
            .unwrap()
    };
    let first_refused = probes
        .iter()
        .position(|p| answer(p).repr.ack_number == p.repr.seq_number)
        .expect("a refused probe");
    let probes = &probes[first_refused..];
    let gaps: Vec<u64> = probes
        .windows(2)
        .map(|w| (w[1].time - w[0].time).as_millis() as u64)
        .collect();
    assert!(gaps.len() >= 5, "{gaps:?}");
    assert_eq!(gaps[0], 2000, "{gaps:?}");
    for w in gaps.windows(2) {
        assert!(
            w[1] == (2 * w[0]).min(60_000),
            "probe intervals double: {gaps:?}"
        );
    }
    // Each was answered with the window still closed and its byte not taken.
    for p in probes {
        let answer = answer(p);
        assert_eq!(answer.repr.window_len, 0);
        assert_eq!(answer.repr.ack_number, p.repr.seq_number);
    }
    assert_eq!(
        net.node(a).tcp_info(c).unwrap().timeouts,
        0,
        "probes are no timeouts"
    );
}

#[test]
fn rfc9293_3_8_4_keepalive_probes_an_idle_peer_and_times_out_a_silent_one() {
    let test = "rfc9293_3_8_4_keepalive_probes_an_idle_peer_and_times_out_a_silent_one";
    let (mut net, l, a, b) = pair_with(test, 71, LinkConfig::ethernet(), |t| {
        t.keepalive_idle = Duration::from_secs(10);
        t.keepalive_interval = Duration::from_secs(2);
        t.keepalive_count = 3;
    });
    let (c, s) = connect(&mut net, a, b);
    let t0 = net.now();
    net.node_mut(a).tcp_set_keepalive(t0, c, true).unwrap();
    net.run_until(t0 + Duration::from_secs(25));
    let snd_nxt = net.node(a).tcp_info(c).unwrap().snd_nxt;
    let is_probe = |x: &Seg| {
        x.from == Some(a)
            && x.time > t0
            && !x.flags().syn()
            && x.len == 0
            && x.repr.seq_number == snd_nxt - 1
    };
    let segs = tcp_segs(&net, l);
    let probes: Vec<u64> = segs
        .iter()
        .filter(|x| is_probe(x))
        .map(|x| (x.time - t0).as_millis() as u64)
        .collect();
    // Every keepalive_idle of silence, one probe; b answers each.
    assert_eq!(probes, vec![10_000, 20_000], "{probes:?}");
    let answers = segs
        .iter()
        .filter(|x| x.from == Some(b) && x.time > t0)
        .count();
    assert_eq!(answers, 2);
    assert_eq!(state(&net, (a, c)), State::Established);
    // b falls silent.
    silence_tcp(&mut net, l, b);
    let t1 = net.now();
    net.run_until(t1 + Duration::from_secs(30));
    let st = net.node(a).tcp_status(c).unwrap();
    assert_eq!(
        (st.state, st.error),
        (State::Closed, Some("connection timed out"))
    );
    let segs = tcp_segs(&net, l);
    let late: Vec<u64> = segs
        .iter()
        .filter(|x| x.time > t1 && is_probe(x))
        .map(|x| (x.time - t0).as_millis() as u64)
        .collect();
    assert_eq!(
        late,
        vec![30_000, 32_000, 34_000],
        "keepalive_count probes, interval apart"
    );
    // Then a gives up with a RST, which b (whose TCP is muted, not deaf) takes.
    let rst: Vec<&Seg> = segs.iter().filter(|x| x.flags().rst()).collect();
    assert_eq!(rst.len(), 1);
    assert_eq!(rst[0].from, Some(a));
    assert_eq!((rst[0].time - t0).as_millis(), 36_000);
    assert_eq!(
        net.node(b).tcp_status(s).unwrap().error,
        Some("connection reset")
    );
}

#[test]
fn rfc8201_4_the_senders_own_link_mtu_lowered_mid_transfer_lowers_the_mss_at_once() {
    let test = "rfc8201_4_the_senders_own_link_mtu_lowered_mid_transfer_lowers_the_mss_at_once";
    let (mut net, l, a, b) = pair(test, 51, LinkConfig::ethernet());
    let (c, s) = connect(&mut net, a, b);
    let data = pattern(600_000);
    let half = data.len() / 2;
    assert_eq!(
        transfer_no_shutdown(&mut net, (a, c), (b, s), &data[..half]),
        half
    );
    let now = net.now();
    let _ = net.node_mut(a).take_events();
    assert_eq!(
        net.node_mut(a).set_mtu(now, ETH0, 1200),
        Err(Error::Invalid("MTU outside 1280..=65535"))
    );
    net.node_mut(a).set_mtu(now, ETH0, 1280).unwrap();
    net.node_mut(b).set_mtu(now, ETH0, 1280).unwrap();
    net.set_link_config(
        l,
        LinkConfig {
            mtu: 1280,
            capture_limit: 200_000,
            ..LinkConfig::ethernet()
        },
    );
    let events = net.node_mut(a).take_events();
    assert!(
        events
            .iter()
            .any(|e| matches!(e.kind, sixstack_core::EventKind::MtuChanged { mtu: 1280 })),
        "{events:?}"
    );
    assert_eq!(net.node(a).interface(ETH0).unwrap().mtu, 1280);
    let info = net.node(a).tcp_info(c).unwrap();
    assert_eq!(
        (info.path_mtu, info.mss),
        (1280, 1208),
        "no Packet Too Big needed"
    );
    let t = net.now();
    let mut got = 0;
    let mut buf = vec![0u8; 65536];
    let mut sent = half;
    while got < data.len() - half {
        let now = net.now();
        if sent < data.len() {
            sent += net.node_mut(a).tcp_send(now, c, &data[sent..]).unwrap();
        }
        while let Ok(n) = net.node_mut(b).tcp_recv(now, s, &mut buf) {
            assert!(buf[..n] == data[half + got..half + got + n]);
            got += n;
        }
        net.run_for(Duration::from_millis(1));
        assert!(net.now() < t + Duration::from_secs(30), "the rest arrives");
    }
    let after: Vec<&Captured> = net.captured(l).iter().filter(|x| x.time >= t).collect();
    assert!(after.iter().all(|x| x.frame.len() <= 14 + 1280));
    assert_eq!(net.link_stats(l).too_big, 0);
    assert!(
        after
            .iter()
            .filter_map(|x| tcp_of(x))
            .any(|x| x.len == 1208)
    );
}
