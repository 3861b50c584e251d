//! sixstack-api: the messages between the sixstack daemon (`sixstack run`) and its clients
//! (the control commands, `sixstack-client` sockets, ping6, tracert6 ...).
//!
//! # Transport
//!
//! A Unix stream socket ([`DEFAULT_CONTROL_PATH`], or the path in the environment variable
//! [`CONTROL_ENV`]). Each message is one JSON object on one line, ended by `\n`
//! (newline-delimited JSON, UTF-8). A line is at most [`MAX_LINE`] bytes.
//!
//! # Exchange
//!
//! The client sends [`Request`]s; the daemon answers each with one [`Response`] carrying
//! the request's `id`. The first request of a connection must be [`Op::Hello`] with the
//! client's [`PROTOCOL_VERSION`]; the daemon refuses other versions
//! ([`ErrorKind::VersionMismatch`]) and any other request before the hello
//! ([`ErrorKind::HelloRequired`]).
//!
//! Requests on one connection are taken in order, but a [`Op::Recv`] that waits for data
//! does not hold up the requests after it: answers may come out of order, so match them
//! by `id`. After [`Op::SubscribeEvents`] is answered, the daemon also sends a
//! [`Response`] with [`Body::Event`] and the subscription's `id` for every event of the
//! stack, until the connection closes; other requests still work on that connection.
//!
//! ```text
//! -> {"id":1,"op":"hello","version":1,"client":"sixstack addr"}
//! <- {"id":1,"ok":{"type":"hello","version":1,"daemon":"sixstack 0.1.0"}}
//! -> {"id":2,"op":"addr_add","dev":"tap0","address":"2001:db8::2","prefix_len":64}
//! <- {"id":2,"ok":{"type":"done"}}
//! -> {"id":3,"op":"addr_del","dev":"tap9","address":"2001:db8::2"}
//! <- {"id":3,"error":{"kind":"no_such_interface","message":"no interface tap9 (see `sixstack link show`)"}}
//! -> {"id":4,"op":"socket_open","kind":{"type":"udp"}}
//! <- {"id":4,"ok":{"type":"socket","socket":1}}
//! -> {"id":5,"op":"send_to","socket":1,"address":"fe80::1","zone":"tap0","port":7,"data":"aGVsbG8="}
//! <- {"id":5,"ok":{"type":"sent","bytes":5}}
//! -> {"id":6,"op":"recv","socket":1,"timeout_ms":1000}
//! <- {"id":6,"ok":{"type":"datagram","src":"fe80::1","src_port":7,"zone":"tap0",...,"data":"aGVsbG8="}}
//! ```
//!
//! # Conventions
//!
//! - Addresses are JSON strings in RFC 5952 form. A zone (RFC 4007) is a separate field
//!   holding an interface name (`"tap0"`); the daemon also takes an interface index
//!   written in decimal (`"2"`).
//! - Payload bytes ([`Bytes`]) are standard base64 strings with padding (RFC 4648 §4).
//! - Lifetimes and timeouts: seconds or milliseconds as the field name says; `null` for
//!   infinite.
//! - Sockets are numbered per connection ([`SocketId`]). When a connection closes, the
//!   daemon closes every socket it opened: a client that dies leaves nothing behind.
//! - Enumerations are lowercase strings (`"preferred"`, `"link-local"`); neighbor states
//!   are uppercase as iproute2 prints them (`"REACHABLE"`).

#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv6Addr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

mod base64;

/// The version of this protocol. Bumped when a message changes incompatibly; adding an
/// operation or an optional field does not bump it.
pub const PROTOCOL_VERSION: u32 = 1;

/// Where the daemon listens when neither `--control` nor [`CONTROL_ENV`] says otherwise.
pub const DEFAULT_CONTROL_PATH: &str = "/run/sixstack.sock";

/// The environment variable naming the control socket, for the daemon and every client.
pub const CONTROL_ENV: &str = "SIXSTACK_CONTROL";

/// The longest line either side accepts, newline included (a 64 KiB datagram in base64
/// fits with room to spare).
pub const MAX_LINE: usize = 1 << 20;

// ----- framing ----------------------------------------------------------------------------

/// One message as a line: JSON and a trailing `\n`.
pub fn encode_line<T: Serialize>(msg: &T) -> Vec<u8> {
    // Serializing these types cannot fail: every map key is a string and no type has a
    // fallible Serialize impl.
    let mut v = serde_json::to_vec(msg).unwrap_or_else(|_| b"{}".to_vec());
    v.push(b'\n');
    v
}

/// Parses one line (with or without its `\n`).
pub fn decode_line<'a, T: Deserialize<'a>>(line: &'a [u8]) -> Result<T, serde_json::Error> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    serde_json::from_slice(line)
}

// ----- requests ---------------------------------------------------------------------------

/// A client's request: an `id` of its choice, echoed in the response, and the operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub id: u64,
    #[serde(flatten)]
    pub op: Op,
}

/// Every operation. Serialized with an `"op"` field naming it in snake case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// Must come first. Answered with [`Reply::Hello`].
    Hello {
        version: u32,
        /// Who is asking, for the daemon's log ("sixstack ping6").
        #[serde(default)]
        client: String,
    },

    // --- interfaces
    /// All interfaces, or the one named. Answered with [`Reply::Links`].
    LinkShow {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dev: Option<String>,
    },
    /// Creates (if absent) and opens a TAP device and makes it an interface of the stack.
    /// Saved in the daemon's state. Answered with [`Reply::Links`] (the new one).
    LinkAdd {
        dev: String,
        /// The stack's MAC address on the link ("02:00:5e:10:00:01"). Not the device's
        /// own, which is the kernel's end of the wire; when absent, a locally
        /// administered one derived from the name and the daemon's secret (stable across
        /// restarts).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mac: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mtu: Option<u32>,
    },
    /// Removes an interface from the stack and closes its TAP device (a device the daemon
    /// created is deleted). Answered with [`Reply::Done`].
    LinkDel { dev: String },

    // --- addresses
    /// Answered with [`Reply::Addrs`].
    AddrShow {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dev: Option<String>,
    },
    /// A static address; it goes through DAD. Saved. Answered with [`Reply::Done`].
    AddrAdd {
        dev: String,
        address: Ipv6Addr,
        prefix_len: u8,
    },
    /// Answered with [`Reply::Done`].
    AddrDel { dev: String, address: Ipv6Addr },

    // --- routes
    /// Answered with [`Reply::Routes`].
    RouteShow {},
    /// A static route. Saved. Answered with [`Reply::Done`].
    RouteAdd {
        prefix: Ipv6Addr,
        prefix_len: u8,
        /// The next hop; absent for an on-link prefix.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        via: Option<Ipv6Addr>,
        /// Required for a unicast route; a reject route without one is kept on the first
        /// interface.
        #[serde(default)]
        dev: String,
        #[serde(default, skip_serializing_if = "RouteType::is_unicast")]
        kind: RouteType,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        metric: Option<u32>,
    },
    /// Removes the routes that match. Answered with [`Reply::Count`] (how many went);
    /// none matching is [`ErrorKind::NotFound`].
    RouteDel {
        prefix: Ipv6Addr,
        prefix_len: u8,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        via: Option<Ipv6Addr>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dev: Option<String>,
    },

    /// Multicast listening: the groups this node listens to and, on router interfaces,
    /// the MLD querier's view of the link (RFC 3810 §7). Answered with [`Reply::Mld`].
    MldShow {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dev: Option<String>,
    },
    /// Router Advertisements of one interface or all. Answered with [`Reply::Ra`].
    RaShow {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dev: Option<String>,
    },
    /// Advertise on `dev` with these settings from now on (`None`: cease, with final
    /// advertisements). Lasts until the daemon stops. Answered with [`Reply::Done`].
    RaSet {
        dev: String,
        config: Option<RaConfig>,
    },
    /// How a packet to `address` would go now, and why (`ip route get`). Answered with
    /// [`Reply::RouteGet`].
    RouteGet {
        address: Ipv6Addr,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        zone: Option<String>,
    },

    // --- neighbors
    /// Answered with [`Reply::Neighbors`].
    NeighShow {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dev: Option<String>,
    },
    /// Empties the neighbor cache of one interface or all. Answered with
    /// [`Reply::Count`].
    NeighFlush {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dev: Option<String>,
    },

    // --- counters and events
    /// Answered with [`Reply::Stats`].
    Stats {},
    /// Answered with [`Reply::Subscribed`]; then events stream as [`Body::Event`].
    SubscribeEvents {},

    // --- names
    /// A literal address (with an optional `%zone`) or a name from the daemon's hosts
    /// file, answered with [`Reply::Addresses`] in RFC 6724 §6 order.
    Resolve { name: String },
    /// The source address the stack would use towards `address` (RFC 6724 §5), and the
    /// interface it leaves by. Answered with [`Reply::Source`].
    SourceFor {
        address: Ipv6Addr,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        zone: Option<String>,
    },
    /// The path MTU known towards `address` (the link MTU when nothing smaller was
    /// learned). Answered with [`Reply::Mtu`].
    PathMtu {
        address: Ipv6Addr,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        zone: Option<String>,
    },

    // --- application sockets
    /// Answered with [`Reply::Socket`].
    SocketOpen { kind: SocketKind },
    /// Binds to a local address (`::` for any) and port (0: an ephemeral one). Answered
    /// with [`Reply::Bound`].
    Bind {
        socket: SocketId,
        address: Ipv6Addr,
        #[serde(default)]
        port: u16,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        zone: Option<String>,
    },
    /// Fixes the remote end. Answered with [`Reply::Bound`] (the local end, bound now if
    /// it was not).
    Connect {
        socket: SocketId,
        address: Ipv6Addr,
        #[serde(default)]
        port: u16,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        zone: Option<String>,
    },
    /// The local end. Answered with [`Reply::Bound`]; an unbound socket is
    /// [`ErrorKind::Invalid`].
    LocalAddr { socket: SocketId },
    /// Sends one datagram (UDP, UDP-Lite) or one upper-layer message (raw: the stack
    /// adds the IPv6 header, and the checksum for ICMPv6). Without `address`, to the
    /// connected remote end. Answered with [`Reply::Sent`].
    SendTo {
        socket: SocketId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        address: Option<Ipv6Addr>,
        #[serde(default)]
        port: u16,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        zone: Option<String>,
        data: Bytes,
    },
    /// Raw sockets: sends a whole IPv6 packet, header included, as given. `zone` picks the
    /// interface for a scoped destination. Answered with [`Reply::Sent`].
    RawSendPacket {
        socket: SocketId,
        packet: Bytes,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        zone: Option<String>,
    },
    /// The next datagram or packet: [`Reply::Datagram`] (UDP, UDP-Lite) or
    /// [`Reply::RawPacket`] (raw). `timeout_ms`: absent waits without limit, 0 does not
    /// wait ([`ErrorKind::WouldBlock`]), otherwise [`ErrorKind::TimedOut`] when it passes.
    Recv {
        socket: SocketId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timeout_ms: Option<u64>,
    },
    /// The oldest ICMPv6 error about what this socket sent (IPV6_RECVERR), if any.
    /// Answered with [`Reply::SocketError`].
    TakeError { socket: SocketId },
    /// Answered with [`Reply::Done`].
    SetOption {
        socket: SocketId,
        option: SocketOption,
    },
    /// Answered with [`Reply::Done`]. Multicast groups it joined are left. A TCP socket
    /// closes gracefully (FIN after the data queued); one attached to a stream
    /// ([`Op::StreamAttach`]) closes once the stream's connection has given the daemon
    /// everything written into it.
    Close { socket: SocketId },

    // --- TCP
    /// Opens a TCP connection. Answered with [`Reply::TcpConnection`] once established,
    /// or with an error: [`ErrorKind::ConnectionRefused`], [`ErrorKind::TimedOut`] (after
    /// `timeout_ms`, or when the stack gives up), [`ErrorKind::ConnectionReset`] ...
    /// Requests after it on the connection are answered meanwhile.
    TcpConnect {
        address: Ipv6Addr,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        zone: Option<String>,
        port: u16,
        /// Nagle off from the start.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nodelay: Option<bool>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timeout_ms: Option<u64>,
    },
    /// A listening TCP socket on `address` (absent or `::`: any) and `port` (0: an
    /// ephemeral one). Answered with [`Reply::TcpListening`].
    TcpListen {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        address: Option<Ipv6Addr>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        zone: Option<String>,
        #[serde(default)]
        port: u16,
    },
    /// The next established connection of a listener, as a new socket of this
    /// connection: [`Reply::TcpConnection`]. `timeout_ms` as for [`Op::Recv`].
    TcpAccept {
        socket: SocketId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timeout_ms: Option<u64>,
    },
    /// Moves the TCP connection with this stream token (from [`Reply::TcpConnection`],
    /// of any connection of the daemon) to this connection, which owns it from now on.
    /// Answered with [`Reply::TcpConnection`] (its number here, the same token).
    TcpAdopt { token: u64 },
    /// Answered with [`Reply::Done`].
    TcpSetOption {
        socket: SocketId,
        /// TCP_NODELAY: Nagle off (true) or on.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nodelay: Option<bool>,
        /// SO_KEEPALIVE.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        keepalive: Option<bool>,
    },
    /// What a TCP socket is doing now: [`Reply::TcpStatus`]. After a stream's end, a
    /// client learns here whether the connection ended well (`error` null).
    TcpStatus { socket: SocketId },
    /// Every TCP connection of the stack (those closed by their user and still finishing
    /// included; not listeners), or only this connection's `socket`, with the variables
    /// research wants. Answered with [`Reply::Tcp`].
    TcpShow {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        socket: Option<SocketId>,
    },
    /// Turns THIS control connection into the byte stream of the TCP connection with
    /// this token (from [`Reply::TcpConnection`]). Answered with [`Reply::Done`]; after
    /// that line, every byte either side writes is the TCP connection's data, and no
    /// more requests are read. Shutting down the writing side (or closing) sends FIN
    /// after the data; the peer's FIN ends the daemon's writing side after its data. A
    /// reset or a time-out closes the stream: the owner learns why with
    /// [`Op::TcpStatus`]. The daemon reads only as fast as the connection's send buffer
    /// empties and writes only as fast as the client reads, so memory stays bounded and
    /// windows close towards a slow reader.
    StreamAttach { token: u64 },
}

/// What kind of socket to open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SocketKind {
    Udp,
    /// RFC 3828.
    Udplite,
    /// Every packet with this upper-layer protocol (next header), 58 for ICMPv6 (RFC 3542).
    Raw {
        next_header: u8,
    },
    /// A TCP connection ([`Op::TcpConnect`], [`Op::TcpAccept`]); not for `socket_open`.
    Tcp,
    /// A TCP listener ([`Op::TcpListen`]); not for `socket_open`.
    TcpListener,
}

/// A socket option. Serialized as `{"name": ..., "value": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "name", content = "value", rename_all = "snake_case")]
pub enum SocketOption {
    /// IPV6_UNICAST_HOPS; null: the interface's default.
    HopLimit(Option<u8>),
    /// IPV6_MULTICAST_HOPS; null: 1.
    MulticastHopLimit(Option<u8>),
    /// IPV6_MULTICAST_IF: an interface name; null: the route's choice.
    MulticastIface(Option<String>),
    /// RFC 3828 §3.1 UDPLITE_SEND_CSCOV: bytes covered, 0 for all, otherwise at least 8.
    UdpliteSendCoverage(u16),
    /// RFC 3828 §3.1 UDPLITE_RECV_CSCOV: datagrams covering less are dropped.
    UdpliteRecvMinCoverage(u16),
    /// RFC 3542 §3.2 ICMP6_FILTER: the ICMPv6 types that pass (all, until set).
    IcmpFilter(Vec<u8>),
    /// IPV6_JOIN_GROUP (RFC 3493 §5.2).
    JoinGroup { group: Ipv6Addr, dev: String },
    /// IPV6_LEAVE_GROUP.
    LeaveGroup { group: Ipv6Addr, dev: String },
}

/// A socket of one client connection. Numbers are per connection; another connection's
/// sockets cannot be named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SocketId(pub u32);

impl fmt::Display for SocketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

// ----- responses --------------------------------------------------------------------------

/// The daemon's answer to the request with the same `id`, or an event of a subscription.
/// Serialized as `{"id":..,"ok":{..}}`, `{"id":..,"error":{..}}` or `{"id":..,"event":{..}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    pub id: u64,
    #[serde(flatten)]
    pub body: Body,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Body {
    Ok(Reply),
    Error(ApiError),
    Event(EventInfo),
}

impl Response {
    pub fn ok(id: u64, reply: Reply) -> Self {
        Self {
            id,
            body: Body::Ok(reply),
        }
    }

    pub fn error(id: u64, kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            id,
            body: Body::Error(ApiError {
                kind,
                message: message.into(),
            }),
        }
    }

    /// The reply, or the error as a Rust error.
    pub fn into_result(self) -> Result<Reply, ApiError> {
        match self.body {
            Body::Ok(r) => Ok(r),
            Body::Error(e) => Err(e),
            Body::Event(_) => Err(ApiError {
                kind: ErrorKind::BadRequest,
                message: "an event where an answer was expected".into(),
            }),
        }
    }
}

/// A successful answer. Serialized with a `"type"` field naming the variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Reply {
    Hello {
        version: u32,
        /// "sixstack 0.1.0"
        daemon: String,
    },
    Done,
    Count {
        count: u64,
    },
    Links {
        links: Vec<LinkInfo>,
    },
    Addrs {
        addrs: Vec<AddrInfo>,
    },
    Routes {
        routes: Vec<RouteInfo>,
    },
    RouteGet(RouteGetInfo),
    Ra {
        interfaces: Vec<RaInfo>,
    },
    Mld {
        interfaces: Vec<MldInfo>,
    },
    Neighbors {
        neighbors: Vec<NeighInfo>,
    },
    Stats(Box<StatsInfo>),
    Subscribed,
    Addresses {
        addresses: Vec<ScopedAddr>,
    },
    Source {
        address: Ipv6Addr,
        /// The interface the packet leaves by.
        dev: String,
    },
    Mtu {
        mtu: u32,
    },
    Socket {
        socket: SocketId,
    },
    Bound {
        address: Ipv6Addr,
        port: u16,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        zone: Option<String>,
    },
    Sent {
        bytes: usize,
    },
    Datagram(DatagramInfo),
    RawPacket(RawPacketInfo),
    SocketError {
        /// None when no error is pending.
        error: Option<IcmpErrorInfo>,
    },
    /// A TCP connection of this client's connection, established.
    TcpConnection(TcpConnectionInfo),
    TcpListening {
        socket: SocketId,
        local: Endpoint,
    },
    TcpStatus(TcpStatusInfo),
    Tcp {
        connections: Vec<TcpInfo>,
    },
}

/// What went wrong: a kind a program can match on, and a message for a person that says
/// what is wrong and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub kind: ErrorKind,
    pub message: String,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The first request was not a hello.
    HelloRequired,
    /// The client speaks another protocol version.
    VersionMismatch,
    /// The line was not a request this daemon understands.
    BadRequest,
    NoSuchInterface,
    NoSuchSocket,
    NoRoute,
    NoSourceAddress,
    /// A scoped address without a zone, and no default zone.
    ZoneRequired,
    InterfaceDown,
    TooBig,
    Invalid,
    AddrInUse,
    /// `timeout_ms: 0` and nothing there.
    WouldBlock,
    TimedOut,
    TableFull,
    /// A TCP socket that is not connected (or no longer).
    NotConnected,
    ConnectionRefused,
    ConnectionReset,
    AlreadyExists,
    NotFound,
    /// The host refused (a TAP device could not be created, a file not written).
    Host,
    /// A kind this client does not know yet.
    #[serde(other)]
    Other,
}

// ----- what the daemon shows -------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkInfo {
    pub name: String,
    /// The interface index: also its zone index (RFC 4007 §6).
    pub index: u32,
    /// "ethernet", "loopback", "fddi", "point-to-point", "tunnel" ...
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    pub mtu: u32,
    /// The link is up (the device is up and has carrier).
    pub up: bool,
    /// False once RFC 4862 §5.4.5 disabled IPv6 on it (duplicate hardware address).
    pub enabled: bool,
    /// Sends Router Advertisements on it.
    pub router: bool,
    /// Backed by a TAP device of the host.
    pub tap: bool,
    pub cur_hop_limit: u8,
    pub reachable_time_ms: u64,
    pub retrans_timer_ms: u64,
    /// RFC 8106 servers learned from Router Advertisements.
    #[serde(default)]
    pub rdnss: Vec<Ipv6Addr>,
    #[serde(default)]
    pub dnssl: Vec<String>,
}

/// One address of an interface, as `sixstack addr show --json` gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddrInfo {
    pub interface: String,
    pub address: Ipv6Addr,
    pub prefix_len: u8,
    pub scope: Scope,
    pub state: AddrState,
    pub origin: AddrOrigin,
    /// Seconds of valid lifetime left; null: infinite.
    pub valid_lifetime: Option<u64>,
    /// Seconds of preferred lifetime left; null: infinite.
    pub preferred_lifetime: Option<u64>,
}

/// iproute2's scope words (RFC 4007 §4 scopes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// ::1 (interface-local).
    Host,
    Link,
    /// fec0::/10, deprecated (RFC 3879) but still recognized.
    Site,
    Global,
}

impl Scope {
    /// The scope of a unicast address.
    pub fn of(addr: &Ipv6Addr) -> Scope {
        let s = addr.segments()[0];
        if *addr == Ipv6Addr::LOCALHOST {
            Scope::Host
        } else if s & 0xffc0 == 0xfe80 {
            Scope::Link
        } else if s & 0xffc0 == 0xfec0 {
            Scope::Site
        } else {
            Scope::Global
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Host => "host",
            Scope::Link => "link",
            Scope::Site => "site",
            Scope::Global => "global",
        }
    }
}

/// RFC 4862 §2 address states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AddrState {
    Tentative,
    Preferred,
    Deprecated,
    Duplicate,
}

impl AddrState {
    pub fn as_str(self) -> &'static str {
        match self {
            AddrState::Tentative => "tentative",
            AddrState::Preferred => "preferred",
            AddrState::Deprecated => "deprecated",
            AddrState::Duplicate => "duplicate",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AddrOrigin {
    /// The interface's fe80::/64 address (RFC 4862 §5.3).
    LinkLocal,
    /// From a Router Advertisement's prefix: RFC 7217 or modified EUI-64.
    Slaac,
    /// RFC 8981.
    Temporary,
    /// Configured by the operator.
    Static,
}

impl AddrOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            AddrOrigin::LinkLocal => "link-local",
            AddrOrigin::Slaac => "slaac",
            AddrOrigin::Temporary => "temporary",
            AddrOrigin::Static => "static",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteInfo {
    pub prefix: Ipv6Addr,
    pub prefix_len: u8,
    #[serde(default, skip_serializing_if = "RouteType::is_unicast")]
    pub kind: RouteType,
    pub dev: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<Ipv6Addr>,
    pub metric: u32,
    pub origin: RouteOrigin,
    /// Seconds left; null: never expires.
    pub expires: Option<u64>,
}

/// Router Advertisement settings of one interface: the configuration file's `ra` table
/// (RFC 4861 §6.2.1 variables, RFC 4191 preference and routes, RFC 8106 DNS options),
/// and what `ra set` sends. Absent fields take the RFC's defaults. The older spellings
/// of the file (`default_lifetime`, `link_mtu`, `cur_hop_limit`, `prefix`) are read too.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RaConfig {
    /// MaxRtrAdvInterval, seconds (4 to 1800).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_interval: Option<u64>,
    /// MinRtrAdvInterval, seconds (3 to 0.75 × max_interval).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_interval: Option<u64>,
    /// AdvDefaultLifetime, seconds; 0: not a default router.
    #[serde(
        default,
        alias = "default_lifetime",
        skip_serializing_if = "Option::is_none"
    )]
    pub router_lifetime: Option<u16>,
    /// AdvDefaultPreference: "high", "medium" or "low".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preference: Option<String>,
    #[serde(default)]
    pub managed: bool,
    #[serde(default)]
    pub other_config: bool,
    /// AdvLinkMTU; absent: no MTU option.
    #[serde(default, alias = "link_mtu", skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    /// AdvCurHopLimit.
    #[serde(
        default,
        alias = "cur_hop_limit",
        skip_serializing_if = "Option::is_none"
    )]
    pub hop_limit: Option<u8>,
    /// AdvReachableTime, milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reachable_time: Option<u32>,
    /// AdvRetransTimer, milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retrans_timer: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rdnss: Vec<Ipv6Addr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rdnss_lifetime: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dnssl: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dnssl_lifetime: Option<u32>,
    #[serde(default, alias = "prefix")]
    pub prefixes: Vec<RaPrefix>,
    /// Route Information options (RFC 4191 §2.3).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<RaRoute>,
}

/// A Prefix Information option to advertise (RFC 4861 §4.6.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RaPrefix {
    /// "2001:db8:1::/64".
    pub prefix: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_link: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autonomous: Option<bool>,
    /// Seconds; 4294967295 is infinity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_lifetime: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_lifetime: Option<u32>,
}

/// A Route Information option to advertise (RFC 4191 §2.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RaRoute {
    pub prefix: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifetime: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preference: Option<String>,
}

/// One interface's multicast listening state ([`Op::MldShow`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MldInfo {
    pub dev: String,
    /// "v2" or "v1" (an MLDv1 querier is present, RFC 3810 §8.2.1).
    pub version: String,
    /// Groups this node listens to on the interface.
    pub joined: Vec<Ipv6Addr>,
    /// On a router interface: "querier", "non-querier" (a querier with a lower address
    /// was heard, §7.6.2) or "stopped"; null on a host interface.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub querier: Option<String>,
    /// On a router interface: groups that have listeners on the link, with the seconds
    /// left before they time out unless a report refreshes them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub listeners: Vec<MldListener>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MldListener {
    pub group: Ipv6Addr,
    pub expires: u64,
}

/// One interface's advertising state ([`Op::RaShow`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RaInfo {
    pub dev: String,
    /// Router Advertisements are going out (not idle, not ceasing).
    pub advertising: bool,
    /// The settings in force, every field filled in.
    pub config: RaConfig,
}

/// What a route does with what matches it (Linux's route types of the same names).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RouteType {
    /// Forward to the next hop, or on-link.
    #[default]
    Unicast,
    /// Drop silently.
    Blackhole,
    /// Drop with Destination Unreachable, no route (code 0).
    Unreachable,
    /// Drop with Destination Unreachable, administratively prohibited (code 1).
    Prohibit,
}

impl RouteType {
    pub fn is_unicast(&self) -> bool {
        *self == RouteType::Unicast
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RouteType::Unicast => "unicast",
            RouteType::Blackhole => "blackhole",
            RouteType::Unreachable => "unreachable",
            RouteType::Prohibit => "prohibit",
        }
    }

    /// The word of `ip route` and of the configuration file.
    pub fn from_word(w: &str) -> Option<RouteType> {
        match w {
            "unicast" => Some(RouteType::Unicast),
            "blackhole" => Some(RouteType::Blackhole),
            "unreachable" => Some(RouteType::Unreachable),
            "prohibit" => Some(RouteType::Prohibit),
            _ => None,
        }
    }
}

/// The answer of [`Op::RouteGet`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteGetInfo {
    pub address: Ipv6Addr,
    /// The interface the packet leaves by.
    pub dev: String,
    /// The next hop, when it is not the destination itself (on-link).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<Ipv6Addr>,
    /// The source address RFC 6724 §5 picks; null when no address fits.
    pub source: Option<Ipv6Addr>,
    /// The path MTU (the link's when nothing smaller was learned).
    pub mtu: u32,
    /// What chose the first hop: "local" (one of our addresses), "scoped" (a link-local
    /// destination in its zone), "redirect", "table" (see `route`), "prefix" (an on-link
    /// prefix from a Router Advertisement, see `route`), "default_router" (the default
    /// router list, RFC 4861 §6.3.6) or "multicast".
    pub chosen_by: String,
    /// The route table entry or on-link prefix that matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<RouteInfo>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteOrigin {
    /// The prefix of an address of the interface.
    Connected,
    Static,
    /// From a Router Advertisement (default route, on-link prefix, RFC 4191 route).
    Ra,
    /// From a Redirect (RFC 4861 §8.3).
    Redirect,
}

impl RouteOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            RouteOrigin::Connected => "kernel",
            RouteOrigin::Static => "static",
            RouteOrigin::Ra => "ra",
            RouteOrigin::Redirect => "redirect",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeighInfo {
    pub dev: String,
    pub address: Ipv6Addr,
    /// The link-layer address ("52:54:00:12:34:56", or an IPv4 address on tunnels);
    /// null while INCOMPLETE.
    pub lladdr: Option<String>,
    pub state: NeighState,
    /// The IsRouter flag (RFC 4861 §7.2.5).
    pub router: bool,
}

/// RFC 4861 §7.3.2 states, plus PERMANENT for entries configured by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NeighState {
    Incomplete,
    Reachable,
    Stale,
    Delay,
    Probe,
    Permanent,
}

impl NeighState {
    pub fn as_str(self) -> &'static str {
        match self {
            NeighState::Incomplete => "INCOMPLETE",
            NeighState::Reachable => "REACHABLE",
            NeighState::Stale => "STALE",
            NeighState::Delay => "DELAY",
            NeighState::Probe => "PROBE",
            NeighState::Permanent => "PERMANENT",
        }
    }
}

/// The stack's counters: RFC 4293 IP and ICMP, RFC 4113 UDP, and every drop by reason.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StatsInfo {
    /// The whole node (ipSystemStatsTable).
    pub ip: IpCounters,
    pub icmp: IcmpCounters,
    pub udp: UdpCounters,
    pub udplite: UdpCounters,
    /// Reason -> packets dropped for it.
    pub drops: BTreeMap<String, u64>,
    /// Per interface (ipIfStatsTable; the counters the stack keeps per interface).
    pub interfaces: Vec<IfaceCounters>,
    /// Application sockets open in the daemon, all clients together.
    #[serde(default)]
    pub sockets: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct IfaceCounters {
    pub name: String,
    pub ip: IpCounters,
    /// ICMPv6 errors sent about packets that came in here, by reason, and Redirects
    /// sent here (as [`IcmpCounters::errors_sent`]).
    #[serde(default)]
    pub errors_sent: BTreeMap<String, u64>,
}

/// RFC 4293 §5 counters, the IPv6 subset, in snake case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct IpCounters {
    pub in_receives: u64,
    pub in_octets: u64,
    pub in_hdr_errors: u64,
    pub in_no_routes: u64,
    pub in_addr_errors: u64,
    pub in_unknown_protos: u64,
    pub in_truncated_pkts: u64,
    pub in_forw_datagrams: u64,
    pub reasm_reqds: u64,
    pub reasm_oks: u64,
    pub reasm_fails: u64,
    pub in_discards: u64,
    pub in_delivers: u64,
    pub out_requests: u64,
    pub out_no_routes: u64,
    pub out_forw_datagrams: u64,
    pub out_discards: u64,
    pub out_frag_reqds: u64,
    pub out_frag_oks: u64,
    pub out_frag_fails: u64,
    pub out_frag_creates: u64,
    pub out_transmits: u64,
    pub out_octets: u64,
    pub in_mcast_pkts: u64,
    pub out_mcast_pkts: u64,
}

impl IpCounters {
    /// Every counter with its RFC 4293 name, in MIB order, for tables.
    pub fn fields(&self) -> [(&'static str, u64); 25] {
        [
            ("InReceives", self.in_receives),
            ("InOctets", self.in_octets),
            ("InHdrErrors", self.in_hdr_errors),
            ("InNoRoutes", self.in_no_routes),
            ("InAddrErrors", self.in_addr_errors),
            ("InUnknownProtos", self.in_unknown_protos),
            ("InTruncatedPkts", self.in_truncated_pkts),
            ("InForwDatagrams", self.in_forw_datagrams),
            ("ReasmReqds", self.reasm_reqds),
            ("ReasmOKs", self.reasm_oks),
            ("ReasmFails", self.reasm_fails),
            ("InDiscards", self.in_discards),
            ("InDelivers", self.in_delivers),
            ("OutRequests", self.out_requests),
            ("OutNoRoutes", self.out_no_routes),
            ("OutForwDatagrams", self.out_forw_datagrams),
            ("OutDiscards", self.out_discards),
            ("OutFragReqds", self.out_frag_reqds),
            ("OutFragOKs", self.out_frag_oks),
            ("OutFragFails", self.out_frag_fails),
            ("OutFragCreates", self.out_frag_creates),
            ("OutTransmits", self.out_transmits),
            ("OutOctets", self.out_octets),
            ("InMcastPkts", self.in_mcast_pkts),
            ("OutMcastPkts", self.out_mcast_pkts),
        ]
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct IcmpCounters {
    pub in_msgs: u64,
    pub in_errors: u64,
    pub out_msgs: u64,
    pub out_errors: u64,
    /// Errors not sent because of the rate limit (RFC 4443 §2.4 (f)).
    pub out_rate_limited: u64,
    /// ICMPv6 type, in decimal ("128") -> messages received (only types seen). Keys are
    /// strings because JSON object keys are.
    pub in_by_type: BTreeMap<String, u64>,
    /// ICMPv6 type, in decimal -> messages sent (only types sent).
    pub out_by_type: BTreeMap<String, u64>,
    /// Errors sent by what they say ("no_route", "hop_limit_exceeded",
    /// "packet_too_big", "address_unreachable", ...) and Redirects sent ("redirect").
    #[serde(default)]
    pub errors_sent: BTreeMap<String, u64>,
}

/// RFC 4113 counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct UdpCounters {
    pub in_datagrams: u64,
    pub no_ports: u64,
    pub in_errors: u64,
    pub out_datagrams: u64,
}

/// An address and its zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopedAddr {
    pub address: Ipv6Addr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
}

impl fmt::Display for ScopedAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.zone {
            Some(z) => write!(f, "{}%{z}", self.address),
            None => write!(f, "{}", self.address),
        }
    }
}

/// A datagram received on a UDP or UDP-Lite socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatagramInfo {
    pub src: Ipv6Addr,
    pub src_port: u16,
    pub dst: Ipv6Addr,
    pub dst_port: u16,
    /// The arrival interface (the zone of a link-local source).
    pub zone: String,
    pub hop_limit: u8,
    /// UDP-Lite: bytes the checksum covered (the whole datagram for UDP).
    pub coverage: usize,
    /// When the stack received it: microseconds since the daemon started.
    pub time_us: u64,
    pub data: Bytes,
}

/// A packet received on a raw socket: the whole IPv6 packet, and where the upper-layer
/// message the socket asked for starts in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawPacketInfo {
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    pub zone: String,
    pub hop_limit: u8,
    pub upper_offset: usize,
    pub time_us: u64,
    pub packet: Bytes,
}

impl RawPacketInfo {
    /// The upper-layer message (the ICMPv6 message of an ICMPv6 raw socket).
    pub fn upper(&self) -> &[u8] {
        let p = &self.packet.0;
        &p[self.upper_offset.min(p.len())..]
    }
}

/// An ICMPv6 error about a datagram the socket sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IcmpErrorInfo {
    /// Who sent the error.
    pub from: Ipv6Addr,
    pub icmp_type: u8,
    pub code: u8,
    /// Where the datagram was going.
    pub dst: Ipv6Addr,
    pub dst_port: u16,
}

// ----- TCP --------------------------------------------------------------------------------

/// An address, its zone and a port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    pub address: Ipv6Addr,
    pub port: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.zone {
            Some(z) => write!(f, "[{}%{z}]:{}", self.address, self.port),
            None => write!(f, "[{}]:{}", self.address, self.port),
        }
    }
}

/// An established TCP connection handed to a client ([`Op::TcpConnect`],
/// [`Op::TcpAccept`], [`Op::TcpAdopt`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TcpConnectionInfo {
    pub socket: SocketId,
    pub local: Endpoint,
    pub peer: Endpoint,
    /// Names the connection to [`Op::StreamAttach`] and [`Op::TcpAdopt`] on another
    /// connection of the daemon.
    pub token: u64,
}

/// [`Op::TcpStatus`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TcpStatusInfo {
    /// RFC 9293's spelling: "ESTABLISHED", "CLOSE-WAIT" ...
    pub state: String,
    pub local: Endpoint,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<Endpoint>,
    /// Bytes ready to read.
    pub readable: usize,
    /// The peer's FIN came (after `readable`).
    pub eof: bool,
    /// Room in the send buffer.
    pub send_space: usize,
    /// Why the connection failed ("connection reset", "connection refused", "timed
    /// out" ...); null while it is well.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Kind of the error, for programs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<ErrorKind>,
    /// Listeners: connections waiting for [`Op::TcpAccept`].
    #[serde(default)]
    pub pending_accepts: usize,
    /// Attached to a stream ([`Op::StreamAttach`]).
    #[serde(default)]
    pub attached: bool,
}

/// One TCP connection's variables ([`Op::TcpShow`], `sixstack tcp show --json`): what
/// `ss -ti` shows, and the sequence space.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TcpInfo {
    /// RFC 9293's spelling: "ESTABLISHED", "TIME-WAIT" ...
    pub state: String,
    pub local: Endpoint,
    pub remote: Endpoint,
    /// The client socket, when it belongs to the connection that asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub socket: Option<SocketId>,
    /// Closed by its user and finishing in the stack.
    #[serde(default)]
    pub orphan: bool,
    /// "newreno" or "cubic".
    pub congestion_control: String,
    /// Bytes.
    pub cwnd: u32,
    pub ssthresh: u32,
    pub in_recovery: bool,
    /// Smoothed round-trip time, microseconds; null before the first sample.
    pub srtt_us: Option<u64>,
    pub rttvar_us: u64,
    pub rto_ms: u64,
    pub backoff: u32,
    pub retransmissions: u64,
    pub timeouts: u64,
    pub fast_retransmits: u64,
    pub mss: u32,
    pub path_mtu: u32,
    /// The peer's window and ours, scaled; their shifts (RFC 7323).
    pub snd_wnd: u32,
    pub rcv_wnd: u32,
    pub snd_wscale: u8,
    pub rcv_wscale: u8,
    pub timestamps: bool,
    pub sack: bool,
    pub nodelay: bool,
    pub iss: u32,
    pub irs: u32,
    pub snd_una: u32,
    pub snd_nxt: u32,
    pub snd_max: u32,
    pub rcv_nxt: u32,
    pub bytes_in_flight: u32,
    pub send_buffered: usize,
    pub recv_buffered: usize,
    pub ooo_bytes: usize,
    pub bytes_acked: u64,
    pub bytes_received: u64,
    pub segs_out: u64,
    pub segs_in: u64,
    pub challenge_acks: u64,
    /// The last ICMPv6 error about the connection, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

// ----- events -----------------------------------------------------------------------------

/// One event of the stack (or of the daemon: devices appearing and vanishing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventInfo {
    /// Microseconds since the daemon started.
    pub time_us: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev: Option<String>,
    /// A sentence for people ("address fe80::1 TENTATIVE -> PREFERRED").
    pub message: String,
    #[serde(flatten)]
    pub detail: EventDetail,
}

/// What happened. Serialized with a `"kind"` field naming it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventDetail {
    InterfaceAdded {
        name: String,
    },
    InterfaceRemoved,
    LinkUp,
    LinkDown,
    /// RFC 4862 §5.4.5: IPv6 disabled after a duplicate hardware-derived address.
    InterfaceDisabled,
    /// An address appeared (`from` null), changed state, or went (`to` null).
    Address {
        address: Ipv6Addr,
        from: Option<AddrState>,
        to: Option<AddrState>,
    },
    AddressConflict {
        address: Ipv6Addr,
    },
    Neighbor {
        address: Ipv6Addr,
        from: Option<NeighState>,
        to: Option<NeighState>,
    },
    RouterAdded {
        address: Ipv6Addr,
    },
    RouterRemoved {
        address: Ipv6Addr,
    },
    PrefixAdded {
        prefix: Ipv6Addr,
        prefix_len: u8,
    },
    PrefixRemoved {
        prefix: Ipv6Addr,
        prefix_len: u8,
    },
    RouteAdded {
        prefix: Ipv6Addr,
        prefix_len: u8,
        via: Ipv6Addr,
    },
    RouteRemoved {
        prefix: Ipv6Addr,
        prefix_len: u8,
        via: Ipv6Addr,
    },
    MtuChanged {
        mtu: u32,
    },
    PathMtu {
        address: Ipv6Addr,
        mtu: u32,
    },
    Redirect {
        address: Ipv6Addr,
        target: Ipv6Addr,
    },
    MldJoined {
        group: Ipv6Addr,
    },
    MldLeft {
        group: Ipv6Addr,
    },
    /// "v1" or "v2".
    MldVersion {
        version: String,
    },
    ListenersPresent {
        group: Ipv6Addr,
    },
    ListenersGone {
        group: Ipv6Addr,
    },
    MldQuerier {
        on: bool,
    },
    ReassemblyTimeout {
        src: Ipv6Addr,
    },
    /// The daemon: the host's device of an interface vanished (deleted under it).
    DeviceGone,
    /// The daemon: this subscriber read too slowly and `missed` events were dropped.
    Lagged {
        missed: u64,
    },
    /// An event this client does not know yet.
    #[serde(other)]
    Other,
}

// ----- payload bytes ----------------------------------------------------------------------

/// Bytes carried as a standard base64 string with padding (RFC 4648 §4).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Bytes(pub Vec<u8>);

impl Bytes {
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }

    pub fn into_vec(self) -> Vec<u8> {
        self.0
    }
}

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bytes({} bytes)", self.0.len())
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Self {
        Bytes(v)
    }
}

impl From<&[u8]> for Bytes {
    fn from(v: &[u8]) -> Self {
        Bytes(v.to_vec())
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        base64::decode(&s)
            .map(Bytes)
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests;
