//! A minimal blocking client of the control protocol, for the tests.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use sixstack_api::{Body, EventInfo, Op, Reply, Request, Response, encode_line};

/// The host's clock, for test timeouts (clippy.toml bans reading it elsewhere).
#[allow(clippy::disallowed_methods)]
pub fn clock() -> Instant {
    Instant::now()
}

pub struct Client {
    rd: BufReader<UnixStream>,
    wr: UnixStream,
    next: u64,
    /// Events read while waiting for an answer.
    pub events: Vec<EventInfo>,
}

impl Client {
    /// Connects, retrying while the daemon starts; does not say hello.
    pub fn connect_raw(path: &Path) -> Client {
        let t0 = clock();
        loop {
            match UnixStream::connect(path) {
                Ok(s) => {
                    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
                    return Client {
                        rd: BufReader::new(s.try_clone().unwrap()),
                        wr: s,
                        next: 1,
                        events: Vec::new(),
                    };
                }
                Err(e) if t0.elapsed() < Duration::from_secs(20) => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => panic!("cannot connect to {}: {e}", path.display()),
            }
        }
    }

    pub fn connect(path: &Path) -> Client {
        let mut c = Self::connect_raw(path);
        c.call(Op::Hello {
            version: sixstack_api::PROTOCOL_VERSION,
            client: "test".into(),
        })
        .expect("hello");
        c
    }

    pub fn send(&mut self, op: Op) -> u64 {
        let id = self.next;
        self.next += 1;
        self.wr
            .write_all(&encode_line(&Request { id, op }))
            .unwrap();
        id
    }

    pub fn send_line(&mut self, line: &[u8]) {
        self.wr.write_all(line).unwrap();
    }

    pub fn read(&mut self) -> Response {
        let mut line = String::new();
        let n = self.rd.read_line(&mut line).expect("read from the daemon");
        assert!(n > 0, "the daemon closed the connection");
        sixstack_api::decode_line(line.as_bytes()).expect("a response")
    }

    /// The answer to `id`, keeping events aside.
    pub fn answer(&mut self, id: u64) -> Response {
        loop {
            let r = self.read();
            match r.body {
                Body::Event(e) => self.events.push(e),
                _ if r.id == id => return r,
                _ => panic!("answer to {} while waiting for {id}: {r:?}", r.id),
            }
        }
    }

    pub fn call(&mut self, op: Op) -> Result<Reply, sixstack_api::ApiError> {
        let id = self.send(op);
        self.answer(id).into_result()
    }

    /// Waits for an event that `pred` accepts.
    pub fn wait_event(
        &mut self,
        timeout: Duration,
        pred: impl Fn(&EventInfo) -> bool,
    ) -> EventInfo {
        if let Some(i) = self.events.iter().position(&pred) {
            return self.events.remove(i);
        }
        let t0 = clock();
        loop {
            assert!(
                t0.elapsed() < timeout,
                "no such event; saw {:?}",
                self.events
            );
            let r = self.read();
            if let Body::Event(e) = r.body {
                if pred(&e) {
                    return e;
                }
                self.events.push(e);
            }
        }
    }
}
