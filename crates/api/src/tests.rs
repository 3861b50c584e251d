use super::*;

fn roundtrip_request(op: Op) {
    let req = Request { id: 7, op };
    let line = encode_line(&req);
    assert_eq!(line.last(), Some(&b'\n'));
    assert!(!line[..line.len() - 1].contains(&b'\n'));
    let back: Request = decode_line(&line).unwrap();
    assert_eq!(back, req);
}

fn roundtrip_response(r: Response) {
    let line = encode_line(&r);
    let back: Response = decode_line(&line).unwrap();
    assert_eq!(back, r);
}

#[test]
fn base64_rfc4648_section10_vectors() {
    for (plain, enc) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ] {
        assert_eq!(base64::encode(plain.as_bytes()), enc);
        assert_eq!(base64::decode(enc).unwrap(), plain.as_bytes());
    }
    let all: Vec<u8> = (0..=255).collect();
    assert_eq!(base64::decode(&base64::encode(&all)).unwrap(), all);
    assert!(base64::decode("Zm9").is_err());
    assert!(base64::decode("Zm=v").is_err());
    assert!(base64::decode("Z===").is_err());
    assert!(base64::decode("Zg==Zg==").is_err());
    assert!(base64::decode("Zm9*").is_err());
}

#[test]
fn request_wire_form_is_flat_with_op() {
    let req = Request {
        id: 2,
        op: Op::AddrAdd {
            dev: "tap0".into(),
            address: "2001:db8::2".parse().unwrap(),
            prefix_len: 64,
        },
    };
    let v: serde_json::Value = serde_json::from_slice(&encode_line(&req)).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"id":2,"op":"addr_add","dev":"tap0","address":"2001:db8::2","prefix_len":64})
    );
    // Optional fields may be left out.
    let r: Request = decode_line(br#"{"id":3,"op":"link_show"}"#).unwrap();
    assert_eq!(r.op, Op::LinkShow { dev: None });
    let r: Request = decode_line(br#"{"id":4,"op":"stats"}"#).unwrap();
    assert_eq!(r.op, Op::Stats {});
}

#[test]
fn every_request_roundtrips() {
    let a: Ipv6Addr = "fe80::1".parse().unwrap();
    let s = SocketId(3);
    for op in [
        Op::Hello {
            version: PROTOCOL_VERSION,
            client: "test".into(),
        },
        Op::LinkShow {
            dev: Some("tap0".into()),
        },
        Op::LinkAdd {
            dev: "tap1".into(),
            mac: Some("02:00:00:00:00:01".into()),
            mtu: Some(1400),
        },
        Op::LinkDel { dev: "tap1".into() },
        Op::AddrShow { dev: None },
        Op::AddrDel {
            dev: "tap0".into(),
            address: a,
        },
        Op::RouteShow {},
        Op::RouteAdd {
            prefix: "2001:db8:9::".parse().unwrap(),
            prefix_len: 48,
            via: Some(a),
            dev: "tap0".into(),
            metric: None,
            kind: RouteType::Unicast,
        },
        Op::RouteAdd {
            prefix: "2001:db8:bad::".parse().unwrap(),
            prefix_len: 48,
            via: None,
            dev: String::new(),
            metric: None,
            kind: RouteType::Blackhole,
        },
        Op::RouteDel {
            prefix: "2001:db8:9::".parse().unwrap(),
            prefix_len: 48,
            via: None,
            dev: None,
        },
        Op::NeighShow { dev: None },
        Op::NeighFlush {
            dev: Some("tap0".into()),
        },
        Op::Stats {},
        Op::SubscribeEvents {},
        Op::Resolve {
            name: "localhost".into(),
        },
        Op::SourceFor {
            address: a,
            zone: Some("tap0".into()),
        },
        Op::PathMtu {
            address: a,
            zone: None,
        },
        Op::SocketOpen {
            kind: SocketKind::Udp,
        },
        Op::SocketOpen {
            kind: SocketKind::Udplite,
        },
        Op::SocketOpen {
            kind: SocketKind::Raw { next_header: 58 },
        },
        Op::Bind {
            socket: s,
            address: Ipv6Addr::UNSPECIFIED,
            port: 0,
            zone: None,
        },
        Op::Connect {
            socket: s,
            address: a,
            port: 7,
            zone: Some("tap0".into()),
        },
        Op::LocalAddr { socket: s },
        Op::SendTo {
            socket: s,
            address: Some(a),
            port: 7,
            zone: Some("tap0".into()),
            data: Bytes(b"hello".to_vec()),
        },
        Op::RawSendPacket {
            socket: s,
            packet: Bytes(vec![0x60, 0, 0, 0]),
            zone: None,
        },
        Op::Recv {
            socket: s,
            timeout_ms: Some(0),
        },
        Op::TakeError { socket: s },
        Op::Close { socket: s },
    ] {
        roundtrip_request(op);
    }
    for option in [
        SocketOption::HopLimit(Some(1)),
        SocketOption::HopLimit(None),
        SocketOption::MulticastHopLimit(Some(5)),
        SocketOption::MulticastIface(Some("tap0".into())),
        SocketOption::UdpliteSendCoverage(8),
        SocketOption::UdpliteRecvMinCoverage(20),
        SocketOption::IcmpFilter(vec![129, 1, 3]),
        SocketOption::JoinGroup {
            group: "ff02::1:3".parse().unwrap(),
            dev: "tap0".into(),
        },
        SocketOption::LeaveGroup {
            group: "ff02::1:3".parse().unwrap(),
            dev: "tap0".into(),
        },
    ] {
        roundtrip_request(Op::SetOption { socket: s, option });
    }
}

#[test]
fn responses_roundtrip_and_have_documented_shape() {
    let r = Response::ok(
        1,
        Reply::Hello {
            version: 1,
            daemon: "sixstack 0.1.0".into(),
        },
    );
    let v: serde_json::Value = serde_json::from_slice(&encode_line(&r)).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"id":1,"ok":{"type":"hello","version":1,"daemon":"sixstack 0.1.0"}})
    );
    let e = Response::error(3, ErrorKind::NoSuchInterface, "no interface tap9");
    let v: serde_json::Value = serde_json::from_slice(&encode_line(&e)).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"id":3,"error":{"kind":"no_such_interface","message":"no interface tap9"}})
    );
    roundtrip_response(e);
    roundtrip_response(Response::ok(2, Reply::Done));
    roundtrip_response(Response::ok(
        2,
        Reply::Addrs {
            addrs: vec![AddrInfo {
                interface: "tap0".into(),
                address: "fe80::1".parse().unwrap(),
                prefix_len: 64,
                scope: Scope::Link,
                state: AddrState::Preferred,
                origin: AddrOrigin::LinkLocal,
                valid_lifetime: None,
                preferred_lifetime: Some(30),
            }],
        },
    ));
    roundtrip_response(Response::ok(
        2,
        Reply::Datagram(DatagramInfo {
            src: "fe80::1".parse().unwrap(),
            src_port: 7,
            dst: "fe80::2".parse().unwrap(),
            dst_port: 9,
            zone: "tap0".into(),
            hop_limit: 64,
            coverage: 13,
            time_us: 5,
            data: Bytes(b"hello".to_vec()),
        }),
    ));
    let mut stats = StatsInfo::default();
    stats.icmp.in_by_type.insert("128".into(), 3);
    stats.drops.insert("UDP checksum bad".into(), 1);
    roundtrip_response(Response::ok(9, Reply::Stats(Box::new(stats))));
    roundtrip_response(Response {
        id: 4,
        body: Body::Event(EventInfo {
            time_us: 1,
            dev: Some("tap0".into()),
            message: "address fe80::1 (new) -> TENTATIVE".into(),
            detail: EventDetail::Address {
                address: "fe80::1".parse().unwrap(),
                from: None,
                to: Some(AddrState::Tentative),
            },
        }),
    });
}

#[test]
fn addr_info_json_names_what_the_issue_asks_for() {
    let a = AddrInfo {
        interface: "tap0".into(),
        address: "2001:db8::5".parse().unwrap(),
        prefix_len: 64,
        scope: Scope::Global,
        state: AddrState::Deprecated,
        origin: AddrOrigin::Temporary,
        valid_lifetime: Some(100),
        preferred_lifetime: Some(0),
    };
    let v = serde_json::to_value(&a).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"interface":"tap0","address":"2001:db8::5","prefix_len":64,
            "scope":"global","state":"deprecated","origin":"temporary",
            "valid_lifetime":100,"preferred_lifetime":0})
    );
    assert_eq!(
        serde_json::to_value(AddrOrigin::LinkLocal).unwrap(),
        serde_json::json!("link-local")
    );
    assert_eq!(
        serde_json::to_value(NeighState::Reachable).unwrap(),
        serde_json::json!("REACHABLE")
    );
}

#[test]
fn unknown_kinds_decode_as_other() {
    let e: ApiError = serde_json::from_str(r#"{"kind":"brand_new","message":"x"}"#).unwrap();
    assert_eq!(e.kind, ErrorKind::Other);
    let ev: EventInfo =
        serde_json::from_str(r#"{"time_us":1,"message":"m","kind":"brand_new"}"#).unwrap();
    assert_eq!(ev.detail, EventDetail::Other);
}

#[test]
fn scope_of_addresses() {
    let s = |a: &str| Scope::of(&a.parse().unwrap());
    assert_eq!(s("::1"), Scope::Host);
    assert_eq!(s("fe80::1"), Scope::Link);
    assert_eq!(s("febf::1"), Scope::Link);
    assert_eq!(s("fec0::1"), Scope::Site);
    assert_eq!(s("2001:db8::1"), Scope::Global);
    assert_eq!(s("fd00::1"), Scope::Global);
}

#[test]
fn bad_lines_are_errors_not_panics() {
    assert!(decode_line::<Request>(b"").is_err());
    assert!(decode_line::<Request>(b"{\"id\":1}").is_err());
    assert!(decode_line::<Request>(b"{\"id\":1,\"op\":\"nope\"}").is_err());
    assert!(
        decode_line::<Request>(b"{\"id\":1,\"op\":\"send_to\",\"socket\":1,\"data\":\"@@@@\"}")
            .is_err()
    );
}

fn ep(a: &str, port: u16, zone: Option<&str>) -> Endpoint {
    Endpoint {
        address: a.parse().unwrap(),
        port,
        zone: zone.map(String::from),
    }
}

#[test]
fn tcp_requests_roundtrip() {
    let s = SocketId(3);
    for op in [
        Op::TcpConnect {
            address: "fe80::1".parse().unwrap(),
            zone: Some("tap0".into()),
            port: 5001,
            nodelay: Some(true),
            timeout_ms: Some(3000),
        },
        Op::TcpConnect {
            address: "2001:db8::1".parse().unwrap(),
            zone: None,
            port: 80,
            nodelay: None,
            timeout_ms: None,
        },
        Op::TcpListen {
            address: None,
            zone: None,
            port: 0,
        },
        Op::TcpListen {
            address: Some("fe80::2".parse().unwrap()),
            zone: Some("2".into()),
            port: 21,
        },
        Op::TcpAccept {
            socket: s,
            timeout_ms: Some(0),
        },
        Op::TcpAdopt {
            token: u64::MAX - 1,
        },
        Op::TcpSetOption {
            socket: s,
            nodelay: Some(false),
            keepalive: Some(true),
        },
        Op::TcpStatus { socket: s },
        Op::TcpShow { socket: None },
        Op::TcpShow { socket: Some(s) },
        Op::StreamAttach { token: 42 },
        Op::SocketOpen {
            kind: SocketKind::Tcp,
        },
    ] {
        roundtrip_request(op);
    }
}

#[test]
fn tcp_wire_forms() {
    let line = br#"{"id":5,"op":"tcp_connect","address":"2001:db8::1","port":80}"#;
    let r: Request = decode_line(line).unwrap();
    assert_eq!(
        r.op,
        Op::TcpConnect {
            address: "2001:db8::1".parse().unwrap(),
            zone: None,
            port: 80,
            nodelay: None,
            timeout_ms: None
        }
    );
    let r: Request = decode_line(br#"{"id":6,"op":"tcp_listen","port":21}"#).unwrap();
    assert_eq!(
        r.op,
        Op::TcpListen {
            address: None,
            zone: None,
            port: 21
        }
    );
    let r: Request = decode_line(br#"{"id":7,"op":"stream_attach","token":9}"#).unwrap();
    assert_eq!(r.op, Op::StreamAttach { token: 9 });
    let v: serde_json::Value = serde_json::from_slice(&encode_line(&Response::ok(
        5,
        Reply::TcpConnection(TcpConnectionInfo {
            socket: SocketId(1),
            local: ep("fe80::2", 40000, Some("tap0")),
            peer: ep("fe80::1", 80, Some("tap0")),
            token: 77,
        }),
    )))
    .unwrap();
    assert_eq!(
        v,
        serde_json::json!({"id":5,"ok":{"type":"tcp_connection","socket":1,
            "local":{"address":"fe80::2","port":40000,"zone":"tap0"},
            "peer":{"address":"fe80::1","port":80,"zone":"tap0"},"token":77}})
    );
    let e: Response =
        decode_line(br#"{"id":5,"error":{"kind":"connection_refused","message":"refused"}}"#)
            .unwrap();
    assert_eq!(
        e.into_result().unwrap_err().kind,
        ErrorKind::ConnectionRefused
    );
    assert_eq!(
        ep("fe80::1", 7, Some("tap0")).to_string(),
        "[fe80::1%tap0]:7"
    );
}

#[test]
fn tcp_replies_roundtrip() {
    roundtrip_response(Response::ok(
        1,
        Reply::TcpListening {
            socket: SocketId(2),
            local: ep("::", 5001, None),
        },
    ));
    roundtrip_response(Response::ok(
        1,
        Reply::TcpStatus(TcpStatusInfo {
            state: "CLOSE-WAIT".into(),
            local: ep("2001:db8::2", 5001, None),
            peer: Some(ep("2001:db8::1", 40000, None)),
            readable: 10,
            eof: true,
            send_space: 65536,
            error: Some("connection reset".into()),
            error_kind: Some(ErrorKind::ConnectionReset),
            pending_accepts: 0,
            attached: true,
        }),
    ));
    let info = TcpInfo {
        state: "ESTABLISHED".into(),
        local: ep("2001:db8::2", 5001, None),
        remote: ep("2001:db8::1", 40000, None),
        socket: Some(SocketId(4)),
        orphan: false,
        congestion_control: "cubic".into(),
        cwnd: 14600,
        ssthresh: u32::MAX,
        in_recovery: false,
        srtt_us: Some(1200),
        rttvar_us: 600,
        rto_ms: 200,
        backoff: 0,
        retransmissions: 3,
        timeouts: 0,
        fast_retransmits: 1,
        mss: 1440,
        path_mtu: 1500,
        snd_wnd: 65535,
        rcv_wnd: 65535,
        snd_wscale: 7,
        rcv_wscale: 7,
        timestamps: true,
        sack: true,
        nodelay: false,
        iss: 1,
        irs: 2,
        snd_una: 3,
        snd_nxt: 4,
        snd_max: 4,
        rcv_nxt: 5,
        bytes_in_flight: 1,
        send_buffered: 2,
        recv_buffered: 3,
        ooo_bytes: 0,
        bytes_acked: 100,
        bytes_received: 200,
        segs_out: 10,
        segs_in: 12,
        challenge_acks: 0,
        last_error: None,
    };
    roundtrip_response(Response::ok(
        1,
        Reply::Tcp {
            connections: vec![info.clone()],
        },
    ));
    let v = serde_json::to_value(&info).unwrap();
    for k in [
        "state",
        "local",
        "remote",
        "cwnd",
        "ssthresh",
        "srtt_us",
        "rttvar_us",
        "rto_ms",
        "retransmissions",
        "bytes_acked",
        "congestion_control",
    ] {
        assert!(v.get(k).is_some(), "{k} missing");
    }
}
