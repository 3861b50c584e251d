//! `resolve` for names that are neither literals nor in the hosts file: AAAA queries over
//! the stack itself (a stack UDP socket on an ephemeral port) to the configured `dns`
//! servers, or else the RDNSS servers learnt on any interface. Each server gets
//! [`TRIES`] tries of [`TRY_TIMEOUT`]; then the next. A reply counts only from the
//! server's address and port 53 with our random id and question.

use std::net::Ipv6Addr;

use sixstack_api as api;
use sixstack_api::{ApiError, ErrorKind, Reply, Response};
use sixstack_core::{IfaceId, Instant, SocketHandle};

use crate::conn::ConnId;
use crate::daemon::{Daemon, random_bytes};
use crate::dns::{self, DnsError};

pub const TRY_TIMEOUT_MS: u64 = 2000;
pub const TRIES: u8 = 2;
const PORT: u16 = 53;

/// A `resolve` waiting for a DNS answer.
pub(crate) struct PendingDns {
    pub conn: ConnId,
    pub id: u64,
    pub name: String,
    pub servers: Vec<(Ipv6Addr, Option<IfaceId>)>,
    pub server: usize,
    pub attempt: u8,
    pub socket: SocketHandle,
    pub query_id: u16,
    pub deadline: Instant,
    pub last_error: Option<String>,
}

fn err(kind: ErrorKind, message: impl Into<String>) -> ApiError {
    ApiError {
        kind,
        message: message.into(),
    }
}

fn later(now: Instant, ms: u64) -> Instant {
    Instant::from_micros(now.total_micros().saturating_add(ms.saturating_mul(1000)))
}

enum Step {
    Wait,
    Next(String),
    Done(Result<Reply, ApiError>),
}

impl Daemon {
    /// The DNS servers to ask: the configured ones, or else the unexpired RDNSS ones
    /// (a link-local one with its interface as zone).
    pub(crate) fn dns_servers(&self) -> Vec<(Ipv6Addr, Option<IfaceId>)> {
        if !self.config.dns.is_empty() {
            return self.config.dns.iter().map(|a| (*a, None)).collect();
        }
        let now = self.clock.now();
        let mut out: Vec<(Ipv6Addr, Option<IfaceId>)> = Vec::new();
        for i in self.stack.interfaces() {
            for (a, expires) in &i.rdnss {
                if *expires <= now {
                    continue;
                }
                let z = a.is_unicast_link_local().then_some(i.id);
                if !out.contains(&(*a, z)) {
                    out.push((*a, z));
                }
            }
        }
        out
    }

    /// Starts a DNS lookup for a client's `resolve`; the answer comes from
    /// [`Daemon::serve_dns`]. An error when there is nobody to ask.
    pub(crate) fn start_dns(&mut self, c: ConnId, id: u64, name: &str) -> Option<Response> {
        let fail = |e: ApiError| {
            Some(Response {
                id,
                body: api::Body::Error(e),
            })
        };
        let servers = self.dns_servers();
        if servers.is_empty() {
            return fail(err(
                ErrorKind::NotFound,
                format!(
                    "no IPv6 address for {name:?}: not a literal, not in the hosts file, and no \
                     DNS resolver configured (`dns` in the config) or learnt (RDNSS)"
                ),
            ));
        }
        if let Err(e) = dns::build_query(0, name) {
            return fail(err(ErrorKind::Invalid, format!("{name:?}: {e}")));
        }
        let socket = match self.stack.udp_open().and_then(|h| {
            self.stack
                .bind(h, Ipv6Addr::UNSPECIFIED, 0, None)
                .map(|_| h)
        }) {
            Ok(h) => h,
            Err(e) => return fail(err(ErrorKind::Host, format!("DNS socket: {e}"))),
        };
        let now = self.clock.now();
        let mut p = PendingDns {
            conn: c,
            id,
            name: name.to_string(),
            servers,
            server: 0,
            attempt: 0,
            socket,
            query_id: 0,
            deadline: now,
            last_error: None,
        };
        match self.dns_send(&mut p) {
            Ok(()) => {
                self.dns_pending.push(p);
                None
            }
            Err(e) => {
                let _ = self.stack.close(now, socket);
                fail(e)
            }
        }
    }

    /// Sends the query to the current server, or to the next ones when sending fails.
    fn dns_send(&mut self, p: &mut PendingDns) -> Result<(), ApiError> {
        loop {
            let Some(&(server, zone)) = p.servers.get(p.server) else {
                return Err(self.dns_exhausted(p));
            };
            let now = self.clock.now();
            let qid = random_bytes::<2>()
                .map(u16::from_be_bytes)
                .unwrap_or(0x5a5a);
            let q = dns::build_query(qid, &p.name)
                .map_err(|e| err(ErrorKind::Invalid, format!("{:?}: {e}", p.name)))?;
            p.query_id = qid;
            p.deadline = later(now, TRY_TIMEOUT_MS);
            match self.stack.send_to(now, p.socket, server, PORT, zone, &q) {
                Ok(_) => return Ok(()),
                Err(e) => {
                    p.last_error = Some(format!("cannot send to {server}: {e}"));
                    p.server += 1;
                    p.attempt = 0;
                }
            }
        }
    }

    fn dns_exhausted(&self, p: &PendingDns) -> ApiError {
        let list: Vec<String> = p.servers.iter().map(|(a, _)| a.to_string()).collect();
        let why = p
            .last_error
            .clone()
            .unwrap_or_else(|| format!("no answer within {TRY_TIMEOUT_MS} ms, {TRIES} tries each"));
        err(
            ErrorKind::TimedOut,
            format!(
                "no IPv6 address for {:?}: DNS ({}) failed: {why}",
                p.name,
                list.join(", ")
            ),
        )
    }

    /// Looks at one waiting lookup: replies received, the timeout.
    fn dns_step(&mut self, p: &PendingDns, now: Instant) -> Step {
        let (server, _) = p.servers[p.server];
        while let Ok(d) = self.stack.recv(p.socket) {
            if d.src != server || d.src_port != PORT {
                continue;
            }
            match dns::parse_reply(&d.payload, p.query_id, &p.name) {
                Ok(addrs) if addrs.is_empty() => {
                    return Step::Done(Err(err(
                        ErrorKind::NotFound,
                        format!("no AAAA record for {:?} (DNS server {server})", p.name),
                    )));
                }
                Ok(addrs) => {
                    let found: Vec<(Ipv6Addr, Option<String>)> =
                        addrs.into_iter().map(|a| (a, None)).collect();
                    return Step::Done(Ok(self.ordered(&found)));
                }
                Err(DnsError::Rcode(3)) => {
                    return Step::Done(Err(err(
                        ErrorKind::NotFound,
                        format!(
                            "no AAAA record for {:?}: the name does not exist (NXDOMAIN from {server})",
                            p.name
                        ),
                    )));
                }
                Err(DnsError::NotOurs | DnsError::Malformed(_)) => continue,
                Err(e) => return Step::Next(format!("{server}: {e}")),
            }
        }
        // An ICMPv6 error about an earlier server's query is stale: only the current
        // server's counts.
        while let Some(e) = self.stack.take_error(p.socket) {
            if e.dst == server && e.dst_port == PORT {
                return Step::Next(format!(
                    "{server}: ICMPv6 error type {} code {} from {}",
                    e.msg_type, e.code, e.from
                ));
            }
        }
        if p.deadline <= now {
            return Step::Next(format!(
                "no answer within {TRY_TIMEOUT_MS} ms, {TRIES} tries each"
            ));
        }
        Step::Wait
    }

    /// Answers the lookups that have their reply, retries or moves on the timed-out ones.
    pub(crate) fn serve_dns(&mut self) {
        if self.dns_pending.is_empty() {
            return;
        }
        let now = self.clock.now();
        for mut p in std::mem::take(&mut self.dns_pending) {
            let outcome = match self.dns_step(&p, now) {
                Step::Wait => {
                    self.dns_pending.push(p);
                    continue;
                }
                Step::Done(r) => r,
                Step::Next(why) => {
                    let timed_out = p.deadline <= now;
                    p.last_error = Some(why);
                    if timed_out && p.attempt + 1 < TRIES {
                        p.attempt += 1;
                    } else {
                        p.server += 1;
                        p.attempt = 0;
                    }
                    match self.dns_send(&mut p) {
                        Ok(()) => {
                            self.dns_pending.push(p);
                            continue;
                        }
                        Err(e) => Err(e),
                    }
                }
            };
            let _ = self.stack.close(now, p.socket);
            let r = match outcome {
                Ok(r) => Response::ok(p.id, r),
                Err(e) => Response {
                    id: p.id,
                    body: api::Body::Error(e),
                },
            };
            self.send(p.conn, &r);
        }
    }

    /// Closes the lookups of a client that went.
    pub(crate) fn drop_dns(&mut self, c: ConnId) {
        let now = self.clock.now();
        let (gone, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut self.dns_pending)
            .into_iter()
            .partition(|p| p.conn == c);
        self.dns_pending = keep;
        for p in gone {
            let _ = self.stack.close(now, p.socket);
        }
    }
}
