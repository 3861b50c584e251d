//! The client against a stand-in daemon that speaks the protocol from a script: what the
//! client sends, line by line, and how it reads the answers. (The real daemon is
//! exercised end to end by the CLI's namespace test.)

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::thread;
use std::time::Duration;

use serde_json::{Value, json};
use sixstack_client::{Connection, RawSocket, SocketAddr, UdpSocket, api_error};

/// A daemon that answers each request with the script's next answer (or, for a `null`
/// answer, nothing), records the requests and returns them when the client hangs up.
fn fake(name: &str, script: Vec<Value>) -> (PathBuf, thread::JoinHandle<Vec<Value>>) {
    let dir = std::env::temp_dir().join(format!("sixstack-client-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ctl.sock");
    let l = UnixListener::bind(&path).unwrap();
    let t = thread::spawn(move || {
        let (s, _) = l.accept().unwrap();
        let mut w = s.try_clone().unwrap();
        let mut seen = Vec::new();
        let mut script = script.into_iter();
        for line in BufReader::new(s).lines() {
            let Ok(line) = line else { break };
            let req: Value = serde_json::from_str(&line).unwrap();
            let id = req["id"].clone();
            seen.push(req);
            match script.next() {
                Some(Value::Null) | None => {}
                Some(mut a) => {
                    a["id"] = id;
                    writeln!(w, "{a}").unwrap();
                }
            }
        }
        seen
    });
    (path, t)
}

fn hello() -> Value {
    json!({"ok": {"type": "hello", "version": 1, "daemon": "fake 0"}})
}

#[test]
fn udp_socket_speaks_the_protocol() {
    let (path, t) = fake(
        "udp",
        vec![
            hello(),
            json!({"ok": {"type": "socket", "socket": 1}}),
            json!({"ok": {"type": "bound", "address": "::", "port": 40000}}),
            json!({"ok": {"type": "sent", "bytes": 5}}),
            json!({"ok": {"type": "datagram", "src": "fe80::1", "src_port": 7, "dst": "fe80::2",
                "dst_port": 40000, "zone": "tap0", "hop_limit": 64, "coverage": 13,
                "time_us": 1500, "data": "aGVsbG8="}}),
            json!({"error": {"kind": "timed_out", "message": "nothing within 200 ms"}}),
            Value::Null,
        ],
    );
    {
        let s = UdpSocket::bind_at(&path, false, "[::]:0").unwrap();
        let to: SocketAddr = "[fe80::1%tap0]:7".parse().unwrap();
        assert_eq!(s.send_to(b"hello", to).unwrap(), 5);
        let mut buf = [0u8; 3];
        let (n, from) = s.recv_from(&mut buf).unwrap();
        assert_eq!((n, &buf), (3, b"hel"), "cut to the buffer, as std does");
        assert_eq!(from.to_string(), "[fe80::1%tap0]:7");
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let e = s.recv(&mut buf).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::TimedOut);
        assert_eq!(api_error(&e).unwrap().message, "nothing within 200 ms");
    }
    let seen = t.join().unwrap();
    let ops: Vec<&str> = seen.iter().map(|r| r["op"].as_str().unwrap()).collect();
    assert_eq!(
        ops,
        [
            "hello",
            "socket_open",
            "bind",
            "send_to",
            "recv",
            "recv",
            "close"
        ]
    );
    assert_eq!(seen[1]["kind"], json!({"type": "udp"}));
    assert_eq!(seen[3]["address"], "fe80::1");
    assert_eq!(seen[3]["zone"], "tap0");
    assert_eq!(seen[3]["port"], 7);
    assert_eq!(seen[3]["data"], "aGVsbG8=");
    assert_eq!(seen[4].get("timeout_ms"), None, "blocking: no timeout");
    assert_eq!(seen[5]["timeout_ms"], 200);
    // Ids are distinct and increasing.
    let ids: Vec<u64> = seen.iter().map(|r| r["id"].as_u64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn raw_socket_receives_packets_and_asks_for_the_path_mtu() {
    let (path, t) = fake(
        "raw",
        vec![
            hello(),
            json!({"ok": {"type": "socket", "socket": 3}}),
            json!({"ok": {"type": "mtu", "mtu": 1280}}),
            json!({"ok": {"type": "raw_packet", "src": "2001:db8::1", "dst": "2001:db8::2",
                "zone": "tap0", "hop_limit": 63, "upper_offset": 2, "time_us": 7,
                "packet": "AAGBAA=="}}),
        ],
    );
    {
        let s = RawSocket::open_at(&path, 58).unwrap();
        assert_eq!(s.path_mtu("2001:db8::1".parse().unwrap()).unwrap(), 1280);
        let p = s.recv_within(Some(Duration::from_secs(1))).unwrap();
        assert_eq!(p.upper(), [0x81, 0x00]);
        assert_eq!(p.hop_limit, 63);
        assert_eq!(p.time, Duration::from_micros(7));
    }
    let seen = t.join().unwrap();
    assert_eq!(seen[1]["kind"], json!({"type": "raw", "next_header": 58}));
    assert_eq!(seen[2]["op"], "path_mtu");
    assert_eq!(seen[3]["timeout_ms"], 1000);
}

#[test]
fn an_unreachable_daemon_says_what_to_do() {
    let path = std::env::temp_dir().join("sixstack-client-nobody-here.sock");
    let e = Connection::open_at(&path, "test").unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!(
            "cannot reach the sixstack daemon at {}: ",
            path.display()
        )),
        "{msg}"
    );
    assert!(
        msg.ends_with("start it with `sixstack run --tap tap0` or set SIXSTACK_CONTROL"),
        "{msg}"
    );
}

#[test]
fn an_error_answer_keeps_the_daemons_words() {
    let (path, t) = fake(
        "err",
        vec![
            hello(),
            json!({"error": {"kind": "no_such_interface", "message": "no interface tap9 (see `sixstack link show`)"}}),
        ],
    );
    {
        let mut c = Connection::open_at(&path, "test").unwrap();
        assert_eq!(c.daemon(), "fake 0");
        let e = c
            .call(sixstack_client::api::Op::LinkDel { dev: "tap9".into() })
            .unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
        assert_eq!(
            e.to_string(),
            "no interface tap9 (see `sixstack link show`)"
        );
    }
    t.join().unwrap();
}
