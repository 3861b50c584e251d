//! The control protocol's operations, each on the daemon's state: configuration,
//! tables, counters, name resolution and application sockets.

use std::net::Ipv6Addr;

use sixstack_api as api;
use sixstack_api::{ApiError, ErrorKind, Op, Reply, Request, Response, SocketId, SocketOption};
use sixstack_core::ip::route::{Route, RouteKind, RouteOrigin};
use sixstack_core::{IfaceId, SocketHandle};
use sixstack_wire::proto::IpProtocol;

use crate::conn::ConnId;
use crate::convert;
use crate::daemon::{Daemon, LinkSpec, PendingRecv, Wait};
use crate::resolve;
use crate::state::{AddrState, LinkState, RouteState};

fn err(kind: ErrorKind, message: impl Into<String>) -> ApiError {
    ApiError {
        kind,
        message: message.into(),
    }
}

fn core_err(e: sixstack_core::Error) -> ApiError {
    err(convert::error_kind(&e), e.to_string())
}

type Answer = Result<Reply, ApiError>;

impl Daemon {
    /// One line from a client: the answer, or None when it comes later (a waiting recv).
    pub(crate) fn on_line(&mut self, c: ConnId, line: &[u8]) -> Option<Response> {
        let req: Request = match api::decode_line(line) {
            Ok(r) => r,
            Err(e) => {
                // Answer with the request's id when the line has one.
                let id = serde_json::from_slice::<serde_json::Value>(line)
                    .ok()
                    .and_then(|v| v.get("id").and_then(|i| i.as_u64()))
                    .unwrap_or(0);
                return Some(Response::error(
                    id,
                    ErrorKind::BadRequest,
                    format!("not a request this daemon understands: {e}"),
                ));
            }
        };
        let id = req.id;
        let hello_done = self.conns.get(&c).is_some_and(|k| k.hello);
        let answer = match req.op {
            Op::Hello { version, client } => self.hello(c, version, client),
            _ if !hello_done => Err(err(
                ErrorKind::HelloRequired,
                "the first request must be hello with the protocol version",
            )),
            Op::Recv { socket, timeout_ms } => return self.recv(c, id, socket, timeout_ms),
            Op::TcpConnect {
                address,
                zone,
                port,
                nodelay,
                timeout_ms,
            } => match self.tcp_connect_op(c, id, address, zone, port, nodelay, timeout_ms) {
                Ok(()) => return None,
                Err(e) => Err(e),
            },
            Op::TcpAccept { socket, timeout_ms } => {
                return self.tcp_accept_op(c, id, socket, timeout_ms);
            }
            Op::Resolve { name } => match self.resolve(&name) {
                Ok(Some(r)) => Ok(r),
                Ok(None) => return self.start_dns(c, id, &name),
                Err(e) => Err(e),
            },
            op => self.handle(c, id, op),
        };
        Some(match answer {
            Ok(r) => Response::ok(id, r),
            Err(e) => Response {
                id,
                body: api::Body::Error(e),
            },
        })
    }

    fn hello(&mut self, c: ConnId, version: u32, client: String) -> Answer {
        if version != api::PROTOCOL_VERSION {
            return Err(err(
                ErrorKind::VersionMismatch,
                format!(
                    "this daemon speaks protocol version {}, the client {version}: use a client \
                     from the same sixstack release",
                    api::PROTOCOL_VERSION
                ),
            ));
        }
        if let Some(conn) = self.conns.get_mut(&c) {
            conn.hello = true;
            conn.client = client;
        }
        Ok(Reply::Hello {
            version: api::PROTOCOL_VERSION,
            daemon: format!("sixstack {}", env!("CARGO_PKG_VERSION")),
        })
    }

    fn handle(&mut self, c: ConnId, id: u64, op: Op) -> Answer {
        let now = self.clock.now();
        match op {
            Op::Hello { .. } | Op::Recv { .. } | Op::TcpConnect { .. } | Op::TcpAccept { .. } => {
                Err(err(ErrorKind::BadRequest, "unreachable"))
            }
            Op::TcpListen {
                address,
                zone,
                port,
            } => self.tcp_listen_op(c, address, zone, port),
            Op::TcpAdopt { token } => self.tcp_adopt(c, token),
            Op::TcpSetOption {
                socket,
                nodelay,
                keepalive,
            } => self.tcp_set_option(c, socket, nodelay, keepalive),
            Op::TcpStatus { socket } => self.tcp_status_op(c, socket),
            Op::TcpShow { socket } => self.tcp_show(c, socket),
            Op::StreamAttach { token } => self.stream_attach(c, token),
            Op::LinkShow { dev } => {
                let ids = self.devs(dev.as_deref())?;
                let links = ids
                    .iter()
                    .filter_map(|i| self.stack.interface(*i))
                    .map(|i| convert::link_info(i, self.taps.contains_key(&i.id)))
                    .collect();
                Ok(Reply::Links { links })
            }
            Op::LinkAdd { dev, mac, mtu } => self.link_add(dev, mac, mtu),
            Op::LinkDel { dev } => self.link_del(&dev),
            Op::AddrShow { dev } => {
                let ids = self.devs(dev.as_deref())?;
                let addrs = ids
                    .iter()
                    .filter_map(|i| self.stack.interface(*i))
                    .flat_map(|i| convert::addrs(i, now))
                    .collect();
                Ok(Reply::Addrs { addrs })
            }
            Op::AddrAdd {
                dev,
                address,
                prefix_len,
            } => {
                let i = self.dev(&dev)?;
                if self
                    .stack
                    .interface(i)
                    .is_some_and(|x| x.addrs.get(&address).is_some())
                {
                    return Err(err(
                        ErrorKind::AlreadyExists,
                        format!("{address} is already on {dev}"),
                    ));
                }
                self.stack
                    .add_address(now, i, address, prefix_len)
                    .map_err(core_err)?;
                let entry = AddrState {
                    dev: dev.clone(),
                    address,
                    prefix_len,
                };
                self.state
                    .addresses
                    .retain(|a| !(a.dev == dev && a.address == address));
                self.state.addresses.push(entry);
                self.persist();
                Ok(Reply::Done)
            }
            Op::AddrDel { dev, address } => {
                let i = self.dev(&dev)?;
                self.stack.remove_address(now, i, address).map_err(|_| {
                    err(
                        ErrorKind::NotFound,
                        format!("{address} is not on {dev} (see `sixstack addr show dev {dev}`)"),
                    )
                })?;
                let before = self.state.addresses.len();
                self.state
                    .addresses
                    .retain(|a| !(a.dev == dev && a.address == address));
                if self.state.addresses.len() != before {
                    self.persist();
                }
                Ok(Reply::Done)
            }
            Op::MldShow { dev } => {
                let ids = self.devs(dev.as_deref())?;
                let interfaces = ids
                    .into_iter()
                    .filter_map(|id| self.stack.interface(id))
                    .map(|i| convert::mld(i, now))
                    .collect();
                Ok(Reply::Mld { interfaces })
            }
            Op::RaShow { dev } => {
                let ids = self.devs(dev.as_deref())?;
                let interfaces = ids
                    .into_iter()
                    .filter_map(|id| self.stack.interface(id))
                    .filter_map(|i| {
                        let a = i.advertiser.as_ref()?;
                        Some(api::RaInfo {
                            dev: i.name.clone(),
                            advertising: a.is_advertising(),
                            config: convert::ra_config(a.config()),
                        })
                    })
                    .collect();
                Ok(Reply::Ra { interfaces })
            }
            Op::RaSet { dev, config } => {
                let id = self.dev(&dev)?;
                let cfg = match &config {
                    Some(c) => Some(
                        crate::config::advert_config(c)
                            .map_err(|e| err(ErrorKind::BadRequest, e))?,
                    ),
                    None => None,
                };
                self.stack.set_advertise(now, id, cfg).map_err(core_err)?;
                Ok(Reply::Done)
            }
            Op::RouteShow {} => Ok(Reply::Routes {
                routes: convert::routes(&self.stack, now),
            }),
            Op::RouteAdd {
                prefix,
                prefix_len,
                via,
                dev,
                metric,
                kind,
            } => {
                let dev = self.add_route(prefix, prefix_len, via, &dev, metric, kind)?;
                let entry = RouteState {
                    prefix: mask(prefix, prefix_len),
                    prefix_len,
                    via,
                    dev,
                    metric,
                    kind,
                };
                self.state.routes.retain(|r| {
                    !(r.prefix == entry.prefix
                        && r.prefix_len == entry.prefix_len
                        && r.via == entry.via
                        && r.dev == entry.dev)
                });
                self.state.routes.push(entry);
                self.persist();
                Ok(Reply::Done)
            }
            Op::RouteDel {
                prefix,
                prefix_len,
                via,
                dev,
            } => {
                let iface = match &dev {
                    Some(d) => Some(self.dev(d)?),
                    None => None,
                };
                let n = self.stack.remove_route(prefix, prefix_len, iface, via);
                if n == 0 {
                    return Err(err(
                        ErrorKind::NotFound,
                        format!(
                            "no route {prefix}/{prefix_len}{}{} (see `sixstack route show`)",
                            via.map(|v| format!(" via {v}")).unwrap_or_default(),
                            dev.as_ref()
                                .map(|d| format!(" dev {d}"))
                                .unwrap_or_default()
                        ),
                    ));
                }
                let p = mask(prefix, prefix_len);
                let before = self.state.routes.len();
                self.state.routes.retain(|r| {
                    !(r.prefix == p
                        && r.prefix_len == prefix_len
                        && via.is_none_or(|v| r.via == Some(v))
                        && dev.as_ref().is_none_or(|d| &r.dev == d))
                });
                if self.state.routes.len() != before {
                    self.persist();
                }
                Ok(Reply::Count { count: n as u64 })
            }
            Op::NeighShow { dev } => {
                let ids = self.devs(dev.as_deref())?;
                let neighbors = ids
                    .iter()
                    .filter_map(|i| self.stack.interface(*i))
                    .flat_map(convert::neighbors)
                    .collect();
                Ok(Reply::Neighbors { neighbors })
            }
            Op::NeighFlush { dev } => {
                let ids = self.devs(dev.as_deref())?;
                let mut count = 0;
                for i in ids {
                    count += self.stack.flush_neighbors(now, i).map_err(core_err)? as u64;
                }
                Ok(Reply::Count { count })
            }
            Op::Stats {} => Ok(Reply::Stats(Box::new(convert::stats(&self.stack)))),
            Op::SubscribeEvents {} => {
                if let Some(conn) = self.conns.get_mut(&c) {
                    conn.subscription = Some(id);
                }
                Ok(Reply::Subscribed)
            }
            Op::Resolve { name } => self.resolve(&name).and_then(|r| {
                r.ok_or_else(|| err(ErrorKind::Invalid, "resolve is answered in on_line"))
            }),
            Op::SourceFor { address, zone } => {
                let z = self.zone(zone.as_deref())?;
                let (i, src) = self.stack.source_towards(&address, z).map_err(core_err)?;
                Ok(Reply::Source {
                    address: src,
                    dev: self.name(i),
                })
            }
            Op::RouteGet { address, zone } => {
                let z = self.zone(zone.as_deref())?;
                let g = self.stack.route_get(&address, z).map_err(core_err)?;
                let now = self.clock.now();
                let dev = self.name(g.iface);
                Ok(Reply::RouteGet(crate::convert::route_get(
                    &g, address, dev, now,
                )))
            }
            Op::PathMtu { address, zone } => {
                let z = self.zone(zone.as_deref())?;
                let (i, _) = self.stack.source_towards(&address, z).map_err(core_err)?;
                let link = self.stack.interface(i).map_or(1280, |x| x.mtu);
                let mtu = self.stack.path_mtu(&address).map_or(link, |p| p.min(link));
                Ok(Reply::Mtu { mtu })
            }
            Op::SocketOpen { kind } => {
                let h = match kind {
                    api::SocketKind::Udp => self.stack.udp_open(),
                    api::SocketKind::Udplite => self.stack.udplite_open(),
                    api::SocketKind::Raw { next_header } => {
                        self.stack.raw_open(IpProtocol(next_header))
                    }
                    api::SocketKind::Tcp | api::SocketKind::TcpListener => {
                        return Err(err(
                            ErrorKind::Invalid,
                            "TCP sockets come from tcp_connect, tcp_listen and tcp_accept",
                        ));
                    }
                }
                .map_err(core_err)?;
                let conn = self
                    .conns
                    .get_mut(&c)
                    .ok_or_else(|| err(ErrorKind::BadRequest, "connection closed"))?;
                let sid = SocketId(conn.next_socket);
                conn.next_socket += 1;
                conn.sockets.insert(sid, (h, kind));
                Ok(Reply::Socket { socket: sid })
            }
            Op::Bind {
                socket,
                address,
                port,
                zone,
            } => {
                let (h, _) = self.socket(c, socket)?;
                let z = self.zone(zone.as_deref())?;
                self.stack.bind(h, address, port, z).map_err(core_err)?;
                self.bound(h)
            }
            Op::Connect {
                socket,
                address,
                port,
                zone,
            } => {
                let (h, _) = self.socket(c, socket)?;
                let z = self.zone(zone.as_deref())?;
                self.stack.connect(h, address, port, z).map_err(core_err)?;
                self.bound(h)
            }
            Op::LocalAddr { socket } => {
                let (h, _) = self.socket(c, socket)?;
                self.bound(h)
            }
            Op::SendTo {
                socket,
                address,
                port,
                zone,
                data,
            } => {
                let (h, _) = self.socket(c, socket)?;
                let z = self.zone(zone.as_deref())?;
                let n = match address {
                    Some(a) => self.stack.send_to(now, h, a, port, z, data.as_slice()),
                    None => self.stack.send(now, h, data.as_slice()),
                }
                .map_err(core_err)?;
                Ok(Reply::Sent { bytes: n })
            }
            Op::RawSendPacket {
                socket,
                packet,
                zone,
            } => {
                let (h, kind) = self.socket(c, socket)?;
                if !matches!(kind, api::SocketKind::Raw { .. }) {
                    return Err(err(
                        ErrorKind::Invalid,
                        "raw_send_packet needs a raw socket",
                    ));
                }
                let z = self.zone(zone.as_deref())?;
                let n = self
                    .stack
                    .raw_send_packet(now, h, packet.as_slice(), z)
                    .map_err(core_err)?;
                Ok(Reply::Sent { bytes: n })
            }
            Op::TakeError { socket } => {
                let (h, _) = self.socket(c, socket)?;
                let error = self.stack.take_error(h).map(|n| api::IcmpErrorInfo {
                    from: n.from,
                    icmp_type: n.msg_type,
                    code: n.code,
                    dst: n.dst,
                    dst_port: n.dst_port,
                });
                Ok(Reply::SocketError { error })
            }
            Op::SetOption { socket, option } => {
                let (h, kind) = self.socket(c, socket)?;
                self.set_option(h, kind, option)?;
                Ok(Reply::Done)
            }
            Op::Close { socket } => {
                let (h, kind) = self.socket(c, socket)?;
                if let Some(conn) = self.conns.get_mut(&c) {
                    conn.sockets.remove(&socket);
                }
                match kind {
                    api::SocketKind::Tcp | api::SocketKind::TcpListener => self.release_tcp(h),
                    _ => {
                        let _ = self.stack.close(now, h);
                    }
                }
                // A recv waiting on it ends as a blocked recv() does on close.
                let waiting: Vec<u64> = self
                    .pending
                    .iter()
                    .filter(|p| p.conn == c && p.socket == socket)
                    .map(|p| p.id)
                    .collect();
                self.pending
                    .retain(|p| !(p.conn == c && p.socket == socket));
                for w in waiting {
                    self.send(
                        c,
                        &Response::error(w, ErrorKind::NoSuchSocket, "the socket was closed"),
                    );
                }
                Ok(Reply::Done)
            }
        }
    }

    fn link_add(&mut self, dev: String, mac: Option<String>, mtu: Option<u32>) -> Answer {
        if self.stack.interface_by_name(&dev).is_some() {
            return Err(err(
                ErrorKind::AlreadyExists,
                format!("interface {dev} exists already (see `sixstack link show`)"),
            ));
        }
        if let Some(m) = &mac {
            crate::config::parse_mac(m).map_err(|e| err(ErrorKind::Invalid, e))?;
        }
        if mtu.is_some_and(|m| !(1280..=65535).contains(&m)) {
            return Err(err(
                ErrorKind::Invalid,
                "an IPv6 link's MTU is 1280 to 65535 (RFC 8200 §5)",
            ));
        }
        let spec = LinkSpec {
            name: dev.clone(),
            mac: mac.clone(),
            mtu,
            saved: true,
        };
        let id = self.open_link(spec).map_err(|e| err(ErrorKind::Host, e))?;
        self.restore_routes(&dev);
        if !self.opts.taps.contains(&dev) && self.config.interface(&dev).is_none() {
            self.state.links.retain(|l| l.dev != dev);
            self.state.links.push(LinkState { dev, mac, mtu });
            self.persist();
        }
        let links = self
            .stack
            .interface(id)
            .map(|i| vec![convert::link_info(i, true)])
            .unwrap_or_default();
        Ok(Reply::Links { links })
    }

    fn link_del(&mut self, dev: &str) -> Answer {
        let id = self.dev(dev)?;
        self.close_link(id);
        self.vanished.remove(dev);
        // Deleting a link deletes what was configured on it, as iproute2 does.
        let before = (
            self.state.links.len(),
            self.state.addresses.len(),
            self.state.routes.len(),
        );
        self.state.links.retain(|l| l.dev != dev);
        self.state.addresses.retain(|a| a.dev != dev);
        self.state.routes.retain(|r| r.dev != dev);
        let after = (
            self.state.links.len(),
            self.state.addresses.len(),
            self.state.routes.len(),
        );
        if before != after {
            self.persist();
        }
        let now = self.clock.now();
        self.log.info(now, Some(dev), "link deleted");
        Ok(Reply::Done)
    }

    /// Adds a static route after checking what the route table would refuse silently.
    pub(crate) fn add_route(
        &mut self,
        prefix: Ipv6Addr,
        prefix_len: u8,
        via: Option<Ipv6Addr>,
        dev: &str,
        metric: Option<u32>,
        kind: api::RouteType,
    ) -> Result<String, ApiError> {
        if prefix_len > 128 {
            return Err(err(ErrorKind::Invalid, "the prefix length is 0 to 128"));
        }
        if !kind.is_unicast() && via.is_some() {
            return Err(err(
                ErrorKind::Invalid,
                format!("a {} route has no next hop: leave out via", kind.as_str()),
            ));
        }
        // A reject route goes nowhere; it is kept on an interface all the same.
        let dev = match (dev, kind) {
            ("", api::RouteType::Unicast) => {
                return Err(err(
                    ErrorKind::Invalid,
                    "a route needs the interface it leaves by: dev NAME",
                ));
            }
            ("", _) => self
                .stack
                .interfaces()
                .next()
                .map(|i| i.name.clone())
                .ok_or_else(|| {
                    err(
                        ErrorKind::NoSuchInterface,
                        "no interface yet to hold the route (sixstack link add NAME)",
                    )
                })?,
            (d, _) => d.to_string(),
        };
        let dev = dev.as_str();
        if via.is_some_and(|v| v.is_unspecified() || v.is_multicast()) {
            return Err(err(
                ErrorKind::Invalid,
                "the next hop must be a unicast address (usually the router's link-local)",
            ));
        }
        let iface = self.dev(dev)?;
        self.stack
            .add_route(Route {
                prefix,
                prefix_len,
                iface,
                next_hop: via,
                metric: metric.unwrap_or(1024),
                origin: RouteOrigin::Static,
                expires: None,
                kind: match kind {
                    api::RouteType::Unicast => RouteKind::Unicast,
                    api::RouteType::Blackhole => RouteKind::Blackhole,
                    api::RouteType::Unreachable => RouteKind::Unreachable,
                    api::RouteType::Prohibit => RouteKind::Prohibit,
                },
            })
            .map_err(core_err)?;
        Ok(dev.to_string())
    }

    /// A literal or a hosts-file name: the ordered addresses. None: ask DNS.
    fn resolve(&mut self, name: &str) -> Result<Option<Reply>, ApiError> {
        let found: Vec<(Ipv6Addr, Option<String>)> = match resolve::literal(name) {
            Some((a, z)) => {
                if let Some(z) = &z {
                    self.zone(Some(z))?;
                }
                vec![(a, z)]
            }
            None => {
                let path = self
                    .config
                    .hosts
                    .clone()
                    .unwrap_or_else(|| "/etc/hosts".into());
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let found = resolve::hosts_lookup(&text, name);
                if found.is_empty() {
                    return Ok(None);
                }
                found
            }
        };
        Ok(Some(self.ordered(&found)))
    }

    /// Addresses (with zones) in RFC 6724 §6 order.
    pub(crate) fn ordered(&mut self, found: &[(Ipv6Addr, Option<String>)]) -> Reply {
        let addrs: Vec<Ipv6Addr> = found.iter().map(|(a, _)| *a).collect();
        let ordered = self.stack.order_destinations(&addrs);
        let addresses = ordered
            .into_iter()
            .map(|a| api::ScopedAddr {
                address: a,
                zone: found
                    .iter()
                    .find(|(x, _)| *x == a)
                    .and_then(|(_, z)| z.clone()),
            })
            .collect();
        Reply::Addresses { addresses }
    }

    fn recv(
        &mut self,
        c: ConnId,
        id: u64,
        socket: SocketId,
        timeout_ms: Option<u64>,
    ) -> Option<Response> {
        match self.try_recv(c, socket) {
            Ok(r) => Some(Response::ok(id, r)),
            Err(e) if e.kind == ErrorKind::WouldBlock && timeout_ms != Some(0) => {
                let now = self.clock.now();
                let deadline = timeout_ms.map(|ms| {
                    sixstack_core::Instant::from_micros(
                        now.total_micros().saturating_add(ms.saturating_mul(1000)),
                    )
                });
                self.pending.push(PendingRecv {
                    conn: c,
                    id,
                    socket,
                    deadline,
                    wait: Wait::Recv,
                });
                None
            }
            Err(e) => Some(Response {
                id,
                body: api::Body::Error(e),
            }),
        }
    }

    /// The next datagram or packet of a client's socket, or WouldBlock.
    pub(crate) fn try_recv(&mut self, c: ConnId, socket: SocketId) -> Result<Reply, ApiError> {
        let (h, kind) = self.socket(c, socket)?;
        if let api::SocketKind::Raw { .. } = kind {
            let p = self.stack.raw_recv(h).map_err(core_err)?;
            Ok(Reply::RawPacket(api::RawPacketInfo {
                src: p.src,
                dst: p.dst,
                zone: self.name(p.iface),
                hop_limit: p.hop_limit,
                upper_offset: p.upper_offset,
                time_us: p.time.total_micros(),
                packet: api::Bytes(p.packet),
            }))
        } else {
            let d = self.stack.recv(h).map_err(core_err)?;
            Ok(Reply::Datagram(api::DatagramInfo {
                src: d.src,
                src_port: d.src_port,
                dst: d.dst,
                dst_port: d.dst_port,
                zone: self.name(d.iface),
                hop_limit: d.hop_limit,
                coverage: d.coverage,
                time_us: d.time.total_micros(),
                data: api::Bytes(d.payload),
            }))
        }
    }

    fn set_option(
        &mut self,
        h: SocketHandle,
        kind: api::SocketKind,
        option: SocketOption,
    ) -> Result<(), ApiError> {
        let now = self.clock.now();
        let lite_only = |what: &str| -> Result<(), ApiError> {
            if kind == api::SocketKind::Udplite {
                Ok(())
            } else {
                Err(err(
                    ErrorKind::Invalid,
                    format!("{what} is for UDP-Lite sockets"),
                ))
            }
        };
        match option {
            SocketOption::HopLimit(v) => self.stack.set_hop_limit(h, v),
            SocketOption::MulticastHopLimit(v) => self.stack.set_multicast_hop_limit(h, v),
            SocketOption::MulticastIface(d) => {
                let i = match d {
                    Some(d) => Some(self.dev(&d)?),
                    None => None,
                };
                self.stack.set_multicast_iface(h, i)
            }
            SocketOption::UdpliteSendCoverage(v) => {
                lite_only("udplite_send_coverage")?;
                self.stack.set_udplite_send_coverage(h, v)
            }
            SocketOption::UdpliteRecvMinCoverage(v) => {
                lite_only("udplite_recv_min_coverage")?;
                self.stack.set_udplite_recv_min_coverage(h, v)
            }
            SocketOption::IcmpFilter(types) => {
                if kind != (api::SocketKind::Raw { next_header: 58 }) {
                    return Err(err(
                        ErrorKind::Invalid,
                        "icmp_filter is for raw ICMPv6 sockets (next header 58)",
                    ));
                }
                self.stack.set_icmp_filter(h, &types)
            }
            SocketOption::JoinGroup { group, dev } => {
                let i = self.dev(&dev)?;
                self.stack.join_multicast(now, h, group, i)
            }
            SocketOption::LeaveGroup { group, dev } => {
                let i = self.dev(&dev)?;
                self.stack.leave_multicast(now, h, group, i)
            }
        }
        .map_err(core_err)
    }

    fn bound(&self, h: SocketHandle) -> Answer {
        let (address, port, zone) = self
            .stack
            .local_addr(h)
            .ok_or_else(|| err(ErrorKind::Invalid, "the socket is not bound"))?;
        Ok(Reply::Bound {
            address,
            port,
            zone: zone.map(|z| self.name(z)),
        })
    }

    // ----- names to things ---------------------------------------------------------------

    fn socket(&self, c: ConnId, s: SocketId) -> Result<(SocketHandle, api::SocketKind), ApiError> {
        self.conns
            .get(&c)
            .and_then(|k| k.sockets.get(&s))
            .copied()
            .ok_or_else(|| {
                err(
                    ErrorKind::NoSuchSocket,
                    format!("no socket {s} on this connection"),
                )
            })
    }

    fn dev(&self, name: &str) -> Result<IfaceId, ApiError> {
        self.stack.interface_by_name(name).ok_or_else(|| {
            err(
                ErrorKind::NoSuchInterface,
                format!("no interface {name} (see `sixstack link show`; `sixstack link add {name}` adds a TAP device)"),
            )
        })
    }

    /// One interface, or all of them.
    fn devs(&self, name: Option<&str>) -> Result<Vec<IfaceId>, ApiError> {
        match name {
            Some(n) => Ok(vec![self.dev(n)?]),
            None => Ok(self.stack.interfaces().map(|i| i.id).collect()),
        }
    }

    /// A zone: an interface name, or its index in decimal.
    fn zone(&self, z: Option<&str>) -> Result<Option<IfaceId>, ApiError> {
        let Some(z) = z else {
            return Ok(None);
        };
        if let Some(i) = self.stack.interface_by_name(z) {
            return Ok(Some(i));
        }
        if let Ok(n) = z.parse::<u32>()
            && self.stack.interface(IfaceId(n)).is_some()
        {
            return Ok(Some(IfaceId(n)));
        }
        Err(err(
            ErrorKind::NoSuchInterface,
            format!("zone {z:?} names no interface (see `sixstack link show`)"),
        ))
    }

    fn name(&self, i: IfaceId) -> String {
        self.names.get(&i).cloned().unwrap_or_else(|| i.to_string())
    }
}

/// The prefix with its host bits cleared, as the route table stores it.
fn mask(a: Ipv6Addr, len: u8) -> Ipv6Addr {
    let bits = u128::from(a);
    let m = if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len.min(128)))
    };
    Ipv6Addr::from(bits & m)
}
