//! The control protocol against a daemon with no devices, in this process: what needs
//! no privileges (hello, errors, sockets per connection, a dying client, resolution,
//! persistence).

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::{Client, clock};
use sixstack_api::{Body, Bytes, ErrorKind, Op, Reply, SocketId, SocketKind, SocketOption};
use sixstack_host::Options;
use tokio::sync::oneshot;

struct Daemon {
    dir: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), String>>>,
}

impl Daemon {
    fn start(test: &str, config: Option<&str>) -> Daemon {
        let dir = std::env::temp_dir().join(format!("sixstack-ctl-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self::start_in(dir, config)
    }

    fn start_in(dir: PathBuf, config: Option<&str>) -> Daemon {
        let cfg = config.map(|c| {
            let p = dir.join("sixstack.toml");
            std::fs::write(&p, c).unwrap();
            p
        });
        let opts = Options {
            control: dir.join("ctl.sock"),
            config: cfg,
            ..Options::default()
        };
        let (tx, rx) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(sixstack_host::serve(opts, async {
                let _ = rx.await;
            }))
        });
        Daemon {
            dir,
            stop: Some(tx),
            thread: Some(thread),
        }
    }

    fn sock(&self) -> PathBuf {
        self.dir.join("ctl.sock")
    }

    fn stop(&mut self) -> Result<(), String> {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        match self.thread.take() {
            Some(t) => t.join().unwrap(),
            None => Ok(()),
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn err_kind(r: Result<Reply, sixstack_api::ApiError>) -> ErrorKind {
    r.expect_err("an error").kind
}

#[test]
fn hello_comes_first_and_versions_must_match() {
    let d = Daemon::start("hello", None);
    let mut c = Client::connect_raw(&d.sock());
    assert_eq!(err_kind(c.call(Op::Stats {})), ErrorKind::HelloRequired);
    assert_eq!(
        err_kind(c.call(Op::Hello {
            version: 999,
            client: "x".into()
        })),
        ErrorKind::VersionMismatch
    );
    let r = c
        .call(Op::Hello {
            version: sixstack_api::PROTOCOL_VERSION,
            client: "x".into(),
        })
        .unwrap();
    assert!(matches!(r, Reply::Hello { version: 1, .. }), "{r:?}");
    assert!(matches!(c.call(Op::Stats {}).unwrap(), Reply::Stats(_)));
}

#[test]
fn bad_lines_get_bad_request_with_their_id() {
    let d = Daemon::start("bad", None);
    let mut c = Client::connect(&d.sock());
    c.send_line(b"{\"id\":41,\"op\":\"frobnicate\"}\n");
    let r = c.read();
    assert_eq!(r.id, 41);
    assert!(
        matches!(r.body, Body::Error(ref e) if e.kind == ErrorKind::BadRequest),
        "{r:?}"
    );
    c.send_line(b"not json\n");
    let r = c.read();
    assert_eq!(r.id, 0);
    // The connection still works.
    assert!(c.call(Op::LinkShow { dev: None }).is_ok());
}

#[test]
fn errors_name_what_is_wrong() {
    let d = Daemon::start("errors", None);
    let mut c = Client::connect(&d.sock());
    let e = c
        .call(Op::AddrAdd {
            dev: "tap9".into(),
            address: "2001:db8::1".parse().unwrap(),
            prefix_len: 64,
        })
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NoSuchInterface);
    assert!(
        e.message.contains("tap9") && e.message.contains("link add"),
        "{}",
        e.message
    );
    assert_eq!(
        err_kind(c.call(Op::Recv {
            socket: SocketId(7),
            timeout_ms: Some(0)
        })),
        ErrorKind::NoSuchSocket
    );
    assert_eq!(
        err_kind(c.call(Op::RouteDel {
            prefix: "2001:db8::".parse().unwrap(),
            prefix_len: 32,
            via: None,
            dev: None
        })),
        ErrorKind::NotFound
    );
}

#[test]
fn sockets_belong_to_their_connection_and_die_with_it() {
    let d = Daemon::start("sockets", None);
    let mut a = Client::connect(&d.sock());
    let mut b = Client::connect(&d.sock());
    let Reply::Socket { socket } = a
        .call(Op::SocketOpen {
            kind: SocketKind::Udp,
        })
        .unwrap()
    else {
        panic!()
    };
    for kind in [SocketKind::Udplite, SocketKind::Raw { next_header: 58 }] {
        a.call(Op::SocketOpen { kind }).unwrap();
    }
    let r = a
        .call(Op::Bind {
            socket,
            address: "::".parse().unwrap(),
            port: 0,
            zone: None,
        })
        .unwrap();
    let Reply::Bound { port, .. } = r else {
        panic!("{r:?}")
    };
    assert!(port >= 49152, "an ephemeral port (RFC 6335): {port}");
    // Another connection cannot name a's socket.
    assert_eq!(
        err_kind(b.call(Op::Close { socket })),
        ErrorKind::NoSuchSocket
    );
    let Reply::Stats(s) = b.call(Op::Stats {}).unwrap() else {
        panic!()
    };
    assert_eq!(s.sockets, 3);
    // Options are checked against the socket's kind.
    assert_eq!(
        err_kind(a.call(Op::SetOption {
            socket,
            option: SocketOption::UdpliteSendCoverage(8)
        })),
        ErrorKind::Invalid
    );
    a.call(Op::SetOption {
        socket,
        option: SocketOption::HopLimit(Some(7)),
    })
    .unwrap();
    // a dies: its sockets go.
    drop(a);
    let t0 = clock();
    loop {
        let Reply::Stats(s) = b.call(Op::Stats {}).unwrap() else {
            panic!()
        };
        if s.sockets == 0 {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "sockets left: {}",
            s.sockets
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn recv_waits_times_out_and_does_not_hold_up_other_requests() {
    let d = Daemon::start("recv", None);
    let mut c = Client::connect(&d.sock());
    let Reply::Socket { socket } = c
        .call(Op::SocketOpen {
            kind: SocketKind::Udp,
        })
        .unwrap()
    else {
        panic!()
    };
    c.call(Op::Bind {
        socket,
        address: "::".parse().unwrap(),
        port: 5000,
        zone: None,
    })
    .unwrap();
    assert_eq!(
        err_kind(c.call(Op::Recv {
            socket,
            timeout_ms: Some(0)
        })),
        ErrorKind::WouldBlock
    );
    let t0 = clock();
    let waiting = c.send(Op::Recv {
        socket,
        timeout_ms: Some(300),
    });
    // Answered while the recv waits.
    let links = c.send(Op::LinkShow { dev: None });
    let first = c.read();
    assert_eq!(first.id, links);
    let r = c.answer(waiting);
    assert!(
        matches!(r.body, Body::Error(ref e) if e.kind == ErrorKind::TimedOut),
        "{r:?}"
    );
    assert!(t0.elapsed() >= Duration::from_millis(300));
    // A recv without limit ends when its socket is closed.
    let forever = c.send(Op::Recv {
        socket,
        timeout_ms: None,
    });
    let close = c.send(Op::Close { socket });
    let mut got = [c.read(), c.read()];
    got.sort_by_key(|r| r.id);
    assert_eq!(got[0].id, forever);
    assert!(matches!(got[0].body, Body::Error(ref e) if e.kind == ErrorKind::NoSuchSocket));
    assert_eq!(got[1].id, close);
}

#[test]
fn sending_without_an_interface_says_no_route() {
    let d = Daemon::start("noroute", None);
    let mut c = Client::connect(&d.sock());
    let Reply::Socket { socket } = c
        .call(Op::SocketOpen {
            kind: SocketKind::Udp,
        })
        .unwrap()
    else {
        panic!()
    };
    let e = c
        .call(Op::SendTo {
            socket,
            address: Some("2001:db8::1".parse().unwrap()),
            port: 9,
            zone: None,
            data: Bytes(b"x".to_vec()),
        })
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NoRoute, "{e:?}");
    let e = c
        .call(Op::SendTo {
            socket,
            address: Some("fe80::1".parse().unwrap()),
            port: 9,
            zone: Some("nope".into()),
            data: Bytes(b"x".to_vec()),
        })
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NoSuchInterface, "{e:?}");
}

#[test]
fn resolve_literals_and_the_hosts_file_in_rfc6724_order() {
    let dir = std::env::temp_dir().join(format!("sixstack-ctl-{}-resolve", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let hosts = dir.join("hosts");
    std::fs::write(
        &hosts,
        "# test hosts\n192.0.2.1 both\n2001:db8::5 both two\n::1 both\nfe80::9%lo two\n",
    )
    .unwrap();
    let d = Daemon::start_in(
        dir.clone(),
        Some(&format!("hosts = {:?}\n", hosts.display().to_string())),
    );
    let mut c = Client::connect(&d.sock());
    let Reply::Addresses { addresses } = c
        .call(Op::Resolve {
            name: "2001:db8::7".into(),
        })
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(addresses.len(), 1);
    assert_eq!(
        addresses[0].address,
        "2001:db8::7".parse::<std::net::Ipv6Addr>().unwrap()
    );
    let Reply::Addresses { addresses } = c
        .call(Op::Resolve {
            name: "BOTH".into(),
        })
        .unwrap()
    else {
        panic!()
    };
    let got: Vec<String> = addresses.iter().map(|a| a.to_string()).collect();
    // Every IPv6 entry, once; not the IPv4 one. (With no interface neither is reachable,
    // so RFC 6724 §6 has no rule to tell them apart here; the order is tested in the core.)
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.contains(&"::1".to_string()) && got.contains(&"2001:db8::5".to_string()));
    assert_eq!(
        err_kind(c.call(Op::Resolve {
            name: "nowhere".into()
        })),
        ErrorKind::NotFound
    );
    assert_eq!(
        err_kind(c.call(Op::Resolve {
            name: "fe80::1%nope".into()
        })),
        ErrorKind::NoSuchInterface
    );
}

#[test]
fn a_second_daemon_on_the_same_socket_is_refused_and_a_stale_file_replaced() {
    let mut d = Daemon::start("twice", None);
    let _c = Client::connect(&d.sock());
    let mut e = Daemon::start_in(d.dir.clone(), None);
    let r = e.stop();
    assert!(
        r.as_ref().is_err_and(|m| m.contains("another daemon")),
        "{r:?}"
    );
    // Stop the first; the socket file is removed on a clean stop.
    drop(_c);
    d.stop().unwrap();
    assert!(!d.sock().exists());
    // A stale file (a daemon that died) is replaced.
    std::os::unix::net::UnixListener::bind(d.sock()).unwrap();
    let d2 = Daemon::start_in(d.dir.clone(), None);
    let mut c = Client::connect(&d2.sock());
    assert!(c.call(Op::Stats {}).is_ok());
    std::mem::forget(e);
}
