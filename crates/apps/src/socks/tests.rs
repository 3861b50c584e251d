//! The proxy over the kernel's loopback on both sides: a client speaking SOCKS5 by hand,
//! targets made of std sockets.

use super::*;
use crate::net::KernelNet;
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::sync::mpsc;

struct Running {
    at: SocketAddr,
    logs: mpsc::Receiver<String>,
}

fn start(opts: Options) -> Running {
    let (tx, logs) = mpsc::channel();
    let tx = Mutex::new(tx);
    let p = Proxy::with_log(
        Arc::new(KernelNet),
        Arc::new(KernelNet),
        opts,
        Box::new(move |l| {
            let _ = tx.lock().unwrap().send(l.to_string());
        }),
    );
    let l = KernelNet.listen("[::1]:0".parse().unwrap(), 16).unwrap();
    let at = l.local_addr().unwrap();
    std::thread::spawn(move || p.serve(l));
    Running { at, logs }
}

fn log_line(r: &Running) -> String {
    r.logs
        .recv_timeout(Duration::from_secs(10))
        .expect("a log line")
}

/// Greets, sends `req`, returns the reply's code and bound address (the stream after it).
fn request(at: SocketAddr, req: &[u8]) -> (TcpStream, u8, Vec<u8>) {
    let mut s = TcpStream::connect(at).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(&[5, 1, 0]).unwrap();
    let mut m = [0u8; 2];
    s.read_exact(&mut m).unwrap();
    assert_eq!(m, [5, 0]);
    s.write_all(req).unwrap();
    let mut head = [0u8; 4];
    s.read_exact(&mut head).unwrap();
    assert_eq!(head[0], 5);
    let alen = match head[3] {
        1 => 4,
        4 => 16,
        a => panic!("reply ATYP {a}"),
    };
    let mut rest = vec![0u8; alen + 2];
    s.read_exact(&mut rest).unwrap();
    (s, head[1], rest)
}

fn connect_req(to: SocketAddr) -> Vec<u8> {
    let mut r = vec![5, 1, 0];
    match to.ip() {
        IpAddr::V4(a) => {
            r.push(1);
            r.extend_from_slice(&a.octets());
        }
        IpAddr::V6(a) => {
            r.push(4);
            r.extend_from_slice(&a.octets());
        }
    }
    r.extend_from_slice(&to.port().to_be_bytes());
    r
}

fn echo_server() -> SocketAddr {
    let l = TcpListener::bind("[::1]:0").unwrap();
    let at = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { break };
            std::thread::spawn(move || {
                let mut b = [0u8; 4096];
                while let Ok(n) = s.read(&mut b) {
                    if n == 0 || s.write_all(&b[..n]).is_err() {
                        break;
                    }
                }
                let _ = s.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    at
}

#[test]
fn connect_to_an_ipv6_literal_relays_both_ways_with_half_close() {
    let r = start(Options::default());
    let echo = echo_server();
    let (mut s, code, _) = request(r.at, &connect_req(echo));
    assert_eq!(code, 0);
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let mut w = s.try_clone().unwrap();
    let d2 = data.clone();
    let t = std::thread::spawn(move || {
        w.write_all(&d2).unwrap();
        w.shutdown(std::net::Shutdown::Write).unwrap();
    });
    let mut back = Vec::new();
    s.read_to_end(&mut back).unwrap();
    t.join().unwrap();
    assert!(
        back == data,
        "echoed {} of {} bytes",
        back.len(),
        data.len()
    );
    let l = log_line(&r);
    assert!(
        l.contains(&format!("connect {}", echo))
            && l.contains("200000 bytes up, 200000 bytes down"),
        "{l}"
    );
}

/// The kernel's network, with one more name: `v6.test` is first a closed port of `::1`,
/// then `::1` at the port asked; `v4.test` is only 192.0.2.1.
struct Names {
    closed: u16,
}

impl Net for Names {
    fn name(&self) -> &'static str {
        "test"
    }
    fn connect(&self, to: SocketAddr, t: Option<Duration>) -> io::Result<Box<dyn Stream>> {
        KernelNet.connect(to, t)
    }
    fn listen(&self, at: SocketAddr, backlog: u32) -> io::Result<Box<dyn Listener>> {
        KernelNet.listen(at, backlog)
    }
    fn bind_udp(&self, at: SocketAddr) -> io::Result<Box<dyn Datagram>> {
        KernelNet.bind_udp(at)
    }
    fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        match host {
            "v6.test" => Ok(vec![
                SocketAddr::new(Ipv6Addr::LOCALHOST.into(), self.closed),
                SocketAddr::new(Ipv6Addr::LOCALHOST.into(), port),
            ]),
            "v4.test" => Ok(vec![SocketAddr::new([192, 0, 2, 1].into(), port)]),
            _ => Err(io::Error::new(io::ErrorKind::NotFound, "no such name")),
        }
    }
}

#[test]
fn connect_by_name_tries_addresses_in_order_and_data_sent_before_the_reply() {
    let (tx, logs) = mpsc::channel();
    let tx = Mutex::new(tx);
    let closed = TcpListener::bind("[::1]:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let p = Proxy::with_log(
        Arc::new(KernelNet),
        Arc::new(Names { closed }),
        Options::default(),
        Box::new(move |l| {
            let _ = tx.lock().unwrap().send(l.to_string());
        }),
    );
    let l = KernelNet.listen("[::1]:0".parse().unwrap(), 16).unwrap();
    let r = Running {
        at: l.local_addr().unwrap(),
        logs,
    };
    std::thread::spawn(move || p.serve(l));
    let echo = echo_server();
    let mut s = TcpStream::connect(r.at).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // Greeting, request and data in one write, as an eager client does.
    let mut all = vec![5, 1, 0, 5, 1, 0, 3, 7];
    all.extend_from_slice(b"v6.test");
    all.extend_from_slice(&echo.port().to_be_bytes());
    all.extend_from_slice(b"early");
    s.write_all(&all).unwrap();
    let mut got = [0u8; 2 + 22 + 5];
    s.read_exact(&mut got).unwrap();
    assert_eq!(&got[..4], [5, 0, 5, 0]);
    assert_eq!(got[5], 4, "an IPv6 bound address");
    assert_eq!(&got[24..], b"early");
    drop(s);
    let l = log_line(&r);
    assert!(
        l.contains(&format!(
            "connect v6.test:{} via {echo}: succeeded",
            echo.port()
        )),
        "{l}"
    );
    // A name with only IPv4 addresses, and one that does not resolve.
    let mut req = vec![5, 1, 0, 3, 7];
    req.extend_from_slice(b"v4.test\x00\x50");
    assert_eq!(request(r.at, &req).1, 0x08);
    assert!(log_line(&r).contains("IPv6-only"));
    req[5] = b'x';
    assert_eq!(request(r.at, &req).1, 0x04);
    assert!(log_line(&r).contains("resolving x4.test"));
}

#[test]
fn ipv4_targets_are_refused_when_the_outbound_net_is_ipv6_only() {
    let r = start(Options::default());
    let (_, code, _) = request(r.at, &connect_req("192.0.2.1:80".parse().unwrap()));
    assert_eq!(code, 0x08);
    let (_, code, _) = request(r.at, &connect_req("[::ffff:192.0.2.1]:80".parse().unwrap()));
    assert_eq!(code, 0x08);
    let l = log_line(&r);
    assert!(
        l.contains("address type not supported (0x08)") && l.contains("IPv6-only"),
        "{l}"
    );
}

#[test]
fn refused_connections_answer_0x05_and_json_logs() {
    let r = start(Options {
        json: true,
        ..Options::default()
    });
    let closed = TcpListener::bind("[::1]:0").unwrap().local_addr().unwrap();
    let (_, code, _) = request(r.at, &connect_req(closed));
    assert_eq!(code, 0x05);
    let l = log_line(&r);
    let v: serde_json::Value = serde_json::from_str(&l).unwrap();
    assert_eq!(v["code"], 5);
    assert_eq!(v["command"], "connect");
    assert_eq!(v["target"], closed.to_string());
}

#[test]
fn bind_and_unknown_commands_answer_0x07() {
    let r = start(Options::default());
    let mut req = connect_req("[2001:db8::1]:21".parse().unwrap());
    req[1] = 2;
    assert_eq!(request(r.at, &req).1, 0x07);
    req[1] = 0x7f;
    assert_eq!(request(r.at, &req).1, 0x07);
}

#[test]
fn hostile_clients_are_closed() {
    let r = start(Options {
        handshake_timeout: Duration::from_millis(300),
        ..Options::default()
    });
    // Only username/password offered: 0xFF, then closed.
    let mut s = TcpStream::connect(r.at).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(&[5, 1, 2]).unwrap();
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    assert_eq!(got, [5, 0xff]);
    assert!(log_line(&r).contains("no acceptable method"));
    // SOCKS4: closed without an answer.
    let mut s = TcpStream::connect(r.at).unwrap();
    s.write_all(&[4, 1, 0, 80, 192, 0, 2, 1, 0]).unwrap();
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    assert!(got.is_empty());
    assert!(log_line(&r).contains("version 0x04"));
    // Unknown address type: 0x08.
    let mut s = TcpStream::connect(r.at).unwrap();
    s.write_all(&[5, 1, 0, 5, 1, 0, 9, 0, 0]).unwrap();
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    assert_eq!(got, [5, 0, 5, 8, 0, 1, 0, 0, 0, 0, 0, 0]);
    assert!(log_line(&r).contains("unknown address type 0x09"));
    // Silent after connecting, and a request cut short: the deadline closes both.
    let mut s = TcpStream::connect(r.at).unwrap();
    let mut s2 = TcpStream::connect(r.at).unwrap();
    s2.write_all(&[5, 1, 0, 5, 1, 0, 4, 0x20]).unwrap();
    let t0 = clock();
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    assert!(got.is_empty());
    let mut got = Vec::new();
    s2.read_to_end(&mut got).unwrap();
    assert_eq!(got, [5, 0]);
    assert!(t0.elapsed() < Duration::from_secs(5));
    assert!(log_line(&r).contains("timed out"));
}

#[test]
fn idle_relays_are_closed_and_clients_are_bounded() {
    let r = start(Options {
        idle_timeout: Duration::from_millis(300),
        max_clients: 1,
        ..Options::default()
    });
    let echo = echo_server();
    let (mut s, code, _) = request(r.at, &connect_req(echo));
    assert_eq!(code, 0);
    // A second client while the first is served: closed at once.
    let mut s2 = TcpStream::connect(r.at).unwrap();
    s2.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = s2.write_all(&[5, 1, 0]);
    let mut got = Vec::new();
    let _ = s2.read_to_end(&mut got);
    assert!(got.is_empty());
    assert!(log_line(&r).contains("--max-clients"));
    // The first, left idle, is closed.
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    assert!(log_line(&r).contains("idle timeout"));
}

#[test]
fn udp_associate_round_trip() {
    let r = start(Options::default());
    let echo = UdpSocket::bind("[::1]:0").unwrap();
    let echo_at = echo.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut b = [0u8; 2048];
        while let Ok((n, from)) = echo.recv_from(&mut b) {
            let _ = echo.send_to(&b[..n], from);
        }
    });
    let me = UdpSocket::bind("[::1]:0").unwrap();
    me.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut req = vec![5, 3, 0, 4];
    req.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
    req.extend_from_slice(&me.local_addr().unwrap().port().to_be_bytes());
    let (ctrl, code, bnd) = request(r.at, &req);
    assert_eq!(code, 0);
    assert_eq!(bnd.len(), 18);
    let relay = SocketAddr::new(
        IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(&bnd[..16]).unwrap())),
        u16::from_be_bytes([bnd[16], bnd[17]]),
    );
    for i in 0..3u8 {
        let d = wire::build_udp(echo_at, &[b'x', i]);
        me.send_to(&d, relay).unwrap();
        let mut b = [0u8; 2048];
        let (n, from) = me.recv_from(&mut b).unwrap();
        assert_eq!(from, relay);
        let (h, at) = wire::parse_udp(&b[..n]).unwrap();
        assert_eq!((h.addr, h.port), (Addr::Ip(echo_at.ip()), echo_at.port()));
        assert_eq!(&b[at..n], [b'x', i]);
    }
    // A fragment is dropped; so is a datagram from another port.
    let mut frag = wire::build_udp(echo_at, b"frag");
    frag[2] = 1;
    me.send_to(&frag, relay).unwrap();
    let other = UdpSocket::bind("[::1]:0").unwrap();
    other
        .send_to(&wire::build_udp(echo_at, b"other"), relay)
        .unwrap();
    me.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut b = [0u8; 64];
    assert!(me.recv_from(&mut b).is_err());
    drop(ctrl);
    let l = log_line(&r);
    assert!(
        l.contains("udp-associate") && l.contains("6 bytes up, 6 bytes down"),
        "{l}"
    );
}
