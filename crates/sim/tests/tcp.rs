//! Scenario tests: TCP (RFC 9293) between sixstack nodes through the stack's sockets —
//! the handshake, a transfer and the close as the frames show them, a refused connection,
//! and bulk data over lossy links.

use std::net::Ipv6Addr;

use sixstack_core::socket::SocketHandle;
use sixstack_core::transport::tcp::State;
use sixstack_core::{Duration, Error, Instant, Stack};
use sixstack_sim::testkit::*;
use sixstack_sim::{LinkConfig, LinkId, Network, NodeId};
use sixstack_wire::proto::IpProtocol;
use sixstack_wire::tcp;

const PORT: u16 = 5001;

/// Two hosts on one link with global addresses, settled.
fn pair(test: &str, seed: u64, link: LinkConfig) -> (Network<Stack>, LinkId, NodeId, NodeId) {
    let mut net = Network::new(seed);
    let l = net.add_link("lan", link);
    record(&mut net, test);
    let mut a = host(seed + 1, mac(1));
    let mut b = host(seed + 2, mac(2));
    a.add_address(Instant::ZERO, ETH0, ip("2001:db8::1"), 64)
        .unwrap();
    b.add_address(Instant::ZERO, ETH0, ip("2001:db8::2"), 64)
        .unwrap();
    let a = net.add_node("a", a);
    let b = net.add_node("b", b);
    net.attach(l, a, ETH0);
    net.attach(l, b, ETH0);
    net.run_until(Instant::from_secs(5));
    (net, l, a, b)
}

/// The TCP segments on the link, in order: (sender is `a`, flags, payload length).
fn segments(net: &Network<Stack>, l: LinkId, a: NodeId) -> Vec<(bool, tcp::Flags, usize)> {
    packets(net, l)
        .into_iter()
        .filter(|s| s.proto == IpProtocol::TCP)
        .filter_map(|s| {
            let ip = sixstack_wire::ipv6::Packet::new_checked(&s.packet[..]).ok()?;
            let p = tcp::Packet::new_checked(ip.payload()).ok()?;
            Some((s.from == Some(a), p.flags(), p.payload().len()))
        })
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

fn connect(net: &mut Network<Stack>, a: NodeId, b: NodeId) -> (SocketHandle, SocketHandle) {
    let now = net.now();
    let l = net
        .node_mut(b)
        .tcp_listen(now, Ipv6Addr::UNSPECIFIED, PORT, None)
        .unwrap();
    let c = net
        .node_mut(a)
        .tcp_connect(now, ip("2001:db8::2"), PORT, None)
        .unwrap();
    net.run_for(Duration::from_millis(100));
    let now = net.now();
    let s = net.node_mut(b).tcp_accept(now, l).expect("accepted");
    assert_eq!(net.node(a).tcp_status(c).unwrap().state, State::Established);
    assert_eq!(net.node(b).tcp_status(s).unwrap().state, State::Established);
    (c, s)
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + i / 251) as u8).collect()
}

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
fn rfc9293_3_10_7_1_a_closed_port_refuses() {
    let test = "rfc9293_3_10_7_1_a_closed_port_refuses";
    let (mut net, l, a, _b) = pair(test, 12, LinkConfig::ethernet());
    let now = net.now();
    let c = net
        .node_mut(a)
        .tcp_connect(now, ip("2001:db8::2"), 9, None)
        .unwrap();
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
fn rfc5681_bulk_data_over_a_lossy_reordering_link_arrives_intact() {
    let test = "rfc5681_bulk_data_over_a_lossy_reordering_link_arrives_intact";
    let link = LinkConfig {
        loss: 0.01,
        duplicate: 0.01,
        reorder: 0.02,
        ..LinkConfig::ethernet()
    };
    let (mut net, _l, a, b) = pair(test, 13, link);
    let (c, s) = connect(&mut net, a, b);
    let data = pattern(5_000_000);
    let got = transfer(&mut net, (a, c), (b, s), &data, Duration::from_secs(300));
    assert_eq!(got.len(), data.len());
    assert!(got == data, "the data arrived intact");
    let info = net.node(a).tcp_info(c).unwrap();
    assert!(info.retransmissions > 0, "losses were repaired: {info:?}");
}
