//! TCP through the daemon, in this process and without privileges: the daemon's
//! loopback interface (`loopback = true`) carries connections between its own clients,
//! so streams, backpressure, half-close and the operations are checked end to end.

mod common;

use std::io::{ErrorKind as IoKind, Read, Write};
use std::net::Shutdown;
use std::path::PathBuf;
use std::time::Duration;

use common::{Client, clock};
use sixstack_api::{ErrorKind, Op, Reply};
use sixstack_client::{SocketAddr, TcpListener, TcpStream};
use sixstack_host::Options;
use tokio::sync::oneshot;

struct Daemon {
    dir: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), String>>>,
}

impl Daemon {
    fn start(test: &str) -> Daemon {
        let dir = std::env::temp_dir().join(format!("sixstack-tcp-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let cfg = dir.join("sixstack.toml");
        std::fs::write(&cfg, "loopback = true\n").unwrap();
        let opts = Options {
            control: dir.join("ctl.sock"),
            config: Some(cfg),
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
        let d = Daemon {
            dir,
            stop: Some(tx),
            thread: Some(thread),
        };
        // Wait until it answers.
        let _ = Client::connect(&d.sock());
        d
    }

    fn sock(&self) -> PathBuf {
        self.dir.join("ctl.sock")
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Byte `i` of a test stream: not periodic with any buffer size used here.
fn pattern(i: u64, seed: u64) -> u8 {
    let x = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ seed;
    (x >> 29) as u8 ^ (i % 251) as u8
}

fn send_pattern(s: &mut TcpStream, len: u64, seed: u64) {
    let mut buf = vec![0u8; 48 * 1024 + 7];
    let mut off = 0u64;
    while off < len {
        let n = (len - off).min(buf.len() as u64) as usize;
        for (j, b) in buf[..n].iter_mut().enumerate() {
            *b = pattern(off + j as u64, seed);
        }
        s.write_all(&buf[..n]).unwrap();
        off += n as u64;
    }
}

/// Reads to the end, checking every byte; returns how many came.
fn check_pattern(s: &mut TcpStream, seed: u64) -> u64 {
    let mut buf = vec![0u8; 37 * 1024];
    let mut off = 0u64;
    loop {
        let n = s.read(&mut buf).unwrap();
        if n == 0 {
            return off;
        }
        for (j, b) in buf[..n].iter().enumerate() {
            assert_eq!(*b, pattern(off + j as u64, seed), "byte {}", off + j as u64);
        }
        off += n as u64;
    }
}

fn listener(d: &Daemon) -> (TcpListener, SocketAddr) {
    let l = TcpListener::bind_at(&d.sock(), "[::1]:0").unwrap();
    let a = l.local_addr().unwrap();
    assert_ne!(a.port, 0);
    (l, SocketAddr::new("::1".parse().unwrap(), a.port))
}

#[test]
fn stream_carries_bytes_both_ways_with_half_close() {
    let d = Daemon::start("both");
    let (l, at) = listener(&d);
    const LEN: u64 = 8 << 20;
    let server = std::thread::spawn(move || {
        let (mut s, peer) = l.accept().unwrap();
        assert_eq!(peer.ip, "::1".parse::<std::net::Ipv6Addr>().unwrap());
        let got = check_pattern(&mut s, 1);
        // The client's FIN came; the other direction still works.
        send_pattern(&mut s, LEN, 2);
        got
    });
    let mut c = TcpStream::connect_at(&d.sock(), &at, Some(Duration::from_secs(5))).unwrap();
    assert_eq!(c.peer_addr().unwrap().port, at.port);
    let t0 = clock();
    send_pattern(&mut c, LEN, 1);
    c.shutdown(Shutdown::Write).unwrap();
    let back = check_pattern(&mut c, 2);
    let secs = t0.elapsed().as_secs_f64();
    assert_eq!(server.join().unwrap(), LEN);
    assert_eq!(back, LEN);
    eprintln!(
        "2 x {} MiB through the daemon's loopback in {secs:.2} s: {:.1} MB/s each way",
        LEN >> 20,
        LEN as f64 / secs / 1e6
    );
}

#[test]
fn slow_reader_backpressure_bounds_what_is_buffered() {
    let d = Daemon::start("slow");
    let (l, at) = listener(&d);
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let server = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        // Read nothing until the writer is stuck.
        rx.recv().unwrap();
        let mut n = 0u64;
        let mut buf = vec![0u8; 65536];
        loop {
            match s.read(&mut buf).unwrap() {
                0 => return n,
                k => n += k as u64,
            }
        }
    });
    let mut c = TcpStream::connect_at(&d.sock(), &at, None).unwrap();
    c.set_write_timeout(Some(Duration::from_millis(700)))
        .unwrap();
    let chunk = vec![7u8; 64 * 1024];
    let mut written = 0u64;
    loop {
        match c.write(&chunk) {
            Ok(n) => written += n as u64,
            Err(e) if matches!(e.kind(), IoKind::WouldBlock | IoKind::TimedOut) => break,
            Err(e) => panic!("write: {e}"),
        }
        assert!(
            written < 16 << 20,
            "{written} bytes taken from a writer whose reader reads nothing: no backpressure"
        );
    }
    // Everything taken sits somewhere bounded: the Unix streams' buffers, the daemon's
    // grants (one send buffer), the two TCP buffers (256 KiB each by default).
    eprintln!(
        "a writer facing a reader that reads nothing got {written} bytes out before blocking"
    );
    let info = c.tcp_info().unwrap();
    assert_eq!(info.state, "ESTABLISHED");
    assert!(info.cwnd > 0);
    assert!(info.send_buffered > 0, "{info:?}");
    c.set_write_timeout(None).unwrap();
    tx.send(()).unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    assert_eq!(server.join().unwrap(), written, "bytes lost");
}

#[test]
fn a_client_that_does_not_read_closes_the_window() {
    let d = Daemon::start("window");
    let (l, at) = listener(&d);
    let server = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        s.set_write_timeout(Some(Duration::from_millis(700)))
            .unwrap();
        let chunk = vec![9u8; 64 * 1024];
        let mut written = 0u64;
        loop {
            match s.write(&chunk) {
                Ok(n) => written += n as u64,
                Err(e) if matches!(e.kind(), IoKind::WouldBlock | IoKind::TimedOut) => break,
                Err(e) => panic!("write: {e}"),
            }
            assert!(written < 16 << 20, "no backpressure towards a slow reader");
        }
        s.set_write_timeout(None).unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        // Keep the stream until the reader is done.
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest);
        written
    });
    let mut c = TcpStream::connect_at(&d.sock(), &at, None).unwrap();
    // Not reading: the sender above must block. Then the window, seen from this side,
    // is (nearly) closed: data waits in our receive buffer.
    std::thread::sleep(Duration::from_millis(2500));
    let info = c.tcp_info().unwrap();
    assert!(info.recv_buffered > 128 * 1024, "{info:?}");
    let mut got = Vec::new();
    c.read_to_end(&mut got).unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    let written = server.join().unwrap();
    assert_eq!(got.len() as u64, written);
    assert!(got.iter().all(|b| *b == 9));
}

#[test]
fn refused_and_errors_and_show() {
    let d = Daemon::start("errors");
    // Nothing listens on port 9.
    let e = TcpStream::connect_at(
        &d.sock(),
        &SocketAddr::new("::1".parse().unwrap(), 9),
        Some(Duration::from_secs(5)),
    )
    .unwrap_err();
    assert_eq!(e.kind(), IoKind::ConnectionRefused, "{e}");

    let mut k = Client::connect(&d.sock());
    let e = k.call(Op::StreamAttach { token: 12345 }).unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    let e = k
        .call(Op::SocketOpen {
            kind: sixstack_api::SocketKind::Tcp,
        })
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Invalid);
    // An accept that waits 0 ms, and one that times out.
    let sock = match k
        .call(Op::TcpListen {
            address: Some("::1".parse().unwrap()),
            zone: None,
            port: 0,
        })
        .unwrap()
    {
        Reply::TcpListening { socket, local } => {
            assert_eq!(local.address, "::1".parse::<std::net::Ipv6Addr>().unwrap());
            socket
        }
        r => panic!("{r:?}"),
    };
    let e = k
        .call(Op::TcpAccept {
            socket: sock,
            timeout_ms: Some(0),
        })
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::WouldBlock);
    let e = k
        .call(Op::TcpAccept {
            socket: sock,
            timeout_ms: Some(100),
        })
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::TimedOut);

    let (l, at) = listener(&d);
    let server = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut b = [0u8; 5];
        s.read_exact(&mut b).unwrap();
        s.write_all(&b).unwrap();
        let mut rest = Vec::new();
        s.read_to_end(&mut rest).unwrap();
    });
    let mut c = TcpStream::connect_at(&d.sock(), &at, None).unwrap();
    c.set_nodelay(true).unwrap();
    c.set_keepalive(true).unwrap();
    c.write_all(b"hello").unwrap();
    let mut b = [0u8; 5];
    c.read_exact(&mut b).unwrap();
    assert_eq!(&b, b"hello");
    let show = match k.call(Op::TcpShow { socket: None }).unwrap() {
        Reply::Tcp { connections } => connections,
        r => panic!("{r:?}"),
    };
    // Both ends of the loopback connection.
    assert_eq!(show.len(), 2, "{show:?}");
    for i in &show {
        assert_eq!(i.state, "ESTABLISHED");
        assert!(i.cwnd > 0 && i.srtt_us.is_some() && i.rto_ms > 0, "{i:?}");
    }
    assert!(show.iter().any(|i| i.nodelay));
    let st = c.status().unwrap();
    assert!(st.attached && st.error.is_none());
    drop(c);
    server.join().unwrap();
}
