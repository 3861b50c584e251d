//! The network the stream tools (ttcp, ftp, ftpd, socks) run over, as a small set of
//! traits: byte streams (TCP), listeners and datagram sockets (UDP). [`KernelNet`] is the
//! host's own stack (`std::net`), which the tools' own tests and the SOCKS proxy's
//! loopback side use; [`SixstackNet`] is sixstack through its daemon. A tool written
//! against [`Net`] runs over either, which is how it is tested against real peers.
//!
//! Addresses are `SocketAddr`s; a scoped IPv6 address carries its zone as the
//! `scope_id`, which [`Net::resolve`] fills from a `%zone` suffix.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs, UdpSocket};
use std::time::Duration;

/// A connected byte stream.
pub trait Stream: Read + Write + Send {
    /// No more data from us (TCP FIN); reading goes on.
    fn shutdown_write(&self) -> io::Result<()>;
    /// `None`: block. A read that times out fails with `WouldBlock` or `TimedOut`.
    fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()>;
    fn set_write_timeout(&self, t: Option<Duration>) -> io::Result<()>;
    /// Nagle off (true) or on.
    fn set_nodelay(&self, on: bool) -> io::Result<()>;
    fn local_addr(&self) -> io::Result<SocketAddr>;
    fn peer_addr(&self) -> io::Result<SocketAddr>;
    /// Another handle on the same stream (one thread reads while another writes).
    fn try_clone(&self) -> io::Result<Box<dyn Stream>>;
}

/// A listening socket.
pub trait Listener: Send {
    fn accept(&self) -> io::Result<(Box<dyn Stream>, SocketAddr)>;
    fn local_addr(&self) -> io::Result<SocketAddr>;
}

/// A datagram socket.
pub trait Datagram: Send {
    fn send_to(&self, buf: &[u8], to: SocketAddr) -> io::Result<usize>;
    fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)>;
    fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()>;
    fn local_addr(&self) -> io::Result<SocketAddr>;
}

/// A network: where streams connect and listen, and how names become addresses.
pub trait Net: Send + Sync {
    /// "kernel" or "sixstack", for messages.
    fn name(&self) -> &'static str;
    fn connect(&self, to: SocketAddr, timeout: Option<Duration>) -> io::Result<Box<dyn Stream>>;
    /// `backlog`: connections accepted by the stack but not yet by [`Listener::accept`].
    fn listen(&self, at: SocketAddr, backlog: u32) -> io::Result<Box<dyn Listener>>;
    fn bind_udp(&self, at: SocketAddr) -> io::Result<Box<dyn Datagram>>;
    /// A literal (`2001:db8::1`, `fe80::1%tap0`) or a name, with `port`, in the order to
    /// try (RFC 6724 §6).
    fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>>;
}

/// Tries each address of `host` in order, as RFC 6724 §6 asks of applications.
pub fn connect_host(
    net: &dyn Net,
    host: &str,
    port: u16,
    timeout: Option<Duration>,
) -> io::Result<Box<dyn Stream>> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, format!("{host}: no address"));
    for a in net.resolve(host, port)? {
        match net.connect(a, timeout) {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}

// ----- the host's own stack -------------------------------------------------------------

/// The host kernel's stack, through `std::net`.
#[derive(Debug, Clone, Copy, Default)]
pub struct KernelNet;

impl Stream for TcpStream {
    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(std::net::Shutdown::Write)
    }
    fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        TcpStream::set_read_timeout(self, t)
    }
    fn set_write_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        TcpStream::set_write_timeout(self, t)
    }
    fn set_nodelay(&self, on: bool) -> io::Result<()> {
        TcpStream::set_nodelay(self, on)
    }
    fn local_addr(&self) -> io::Result<SocketAddr> {
        TcpStream::local_addr(self)
    }
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        TcpStream::peer_addr(self)
    }
    fn try_clone(&self) -> io::Result<Box<dyn Stream>> {
        Ok(Box::new(TcpStream::try_clone(self)?))
    }
}

impl Listener for TcpListener {
    fn accept(&self) -> io::Result<(Box<dyn Stream>, SocketAddr)> {
        let (s, a) = TcpListener::accept(self)?;
        Ok((Box::new(s), a))
    }
    fn local_addr(&self) -> io::Result<SocketAddr> {
        TcpListener::local_addr(self)
    }
}

impl Datagram for UdpSocket {
    fn send_to(&self, buf: &[u8], to: SocketAddr) -> io::Result<usize> {
        UdpSocket::send_to(self, buf, to)
    }
    fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        UdpSocket::recv_from(self, buf)
    }
    fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        UdpSocket::set_read_timeout(self, t)
    }
    fn local_addr(&self) -> io::Result<SocketAddr> {
        UdpSocket::local_addr(self)
    }
}

impl Net for KernelNet {
    fn name(&self) -> &'static str {
        "kernel"
    }
    fn connect(&self, to: SocketAddr, timeout: Option<Duration>) -> io::Result<Box<dyn Stream>> {
        let s = match timeout {
            Some(t) => TcpStream::connect_timeout(&to, t)?,
            None => TcpStream::connect(to)?,
        };
        Ok(Box::new(s))
    }
    fn listen(&self, at: SocketAddr, _backlog: u32) -> io::Result<Box<dyn Listener>> {
        Ok(Box::new(TcpListener::bind(at)?))
    }
    fn bind_udp(&self, at: SocketAddr) -> io::Result<Box<dyn Datagram>> {
        Ok(Box::new(UdpSocket::bind(at)?))
    }
    fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if let Some((a, zone)) = host.split_once('%') {
            let addr: std::net::Ipv6Addr = a.parse().map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{a:?} is not an IPv6 address"),
                )
            })?;
            let scope = zone.parse::<u32>().or_else(|_| if_index(zone))?;
            return Ok(vec![SocketAddr::V6(std::net::SocketAddrV6::new(
                addr, port, 0, scope,
            ))]);
        }
        Ok((host, port).to_socket_addrs()?.collect())
    }
}

/// The kernel's index of interface `name` (`/sys/class/net/NAME/ifindex`).
fn if_index(name: &str) -> io::Result<u32> {
    if name.is_empty() || name.contains('/') || name.contains("..") {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("bad zone {name:?}"),
        ));
    }
    let text = std::fs::read_to_string(format!("/sys/class/net/{name}/ifindex"))
        .map_err(|_| io::Error::new(io::ErrorKind::NotFound, format!("no interface {name}")))?;
    text.trim()
        .parse()
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, format!("ifindex of {name}")))
}

// ----- sixstack, through its daemon -----------------------------------------------------

/// sixstack, through the daemon at `control` (`SIXSTACK_CONTROL` or the default when
/// `None`). Zones are the daemon's interface indexes (a `scope_id`); [`Net::resolve`]
/// turns a `%name` into the daemon's index for it.
#[derive(Debug, Clone, Default)]
pub struct SixstackNet {
    pub control: Option<std::path::PathBuf>,
}

impl SixstackNet {
    fn path(&self) -> std::path::PathBuf {
        self.control
            .clone()
            .unwrap_or_else(sixstack_client::control_path)
    }
}

/// A `std` address as the client's: a non-zero scope id is the daemon's interface index.
fn to_six(a: SocketAddr) -> io::Result<sixstack_client::SocketAddr> {
    match a {
        SocketAddr::V6(v) => Ok(v.into()),
        SocketAddr::V4(_) => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!("{a}: sixstack is an IPv6 stack"),
        )),
    }
}

/// The daemon's index of its interface `name`.
fn daemon_index(control: &std::path::Path, name: &str) -> io::Result<u32> {
    let mut c = sixstack_client::Connection::open_at(control, "sixstack net")?;
    match c.call(sixstack_client::api::Op::LinkShow {
        dev: Some(name.to_string()),
    })? {
        sixstack_client::api::Reply::Links { links } => links
            .first()
            .map(|l| l.index)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no interface {name}"))),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "unexpected answer to link_show",
        )),
    }
}

/// The client's address as a `std` one; a zone by name becomes the daemon's index.
fn to_std(control: &std::path::Path, a: sixstack_client::SocketAddr) -> io::Result<SocketAddr> {
    use sixstack_client::Zone;
    let scope = match a.zone {
        None => 0,
        Some(Zone::Index(i)) => i,
        Some(z) => match z.as_name() {
            Some(n) => daemon_index(control, n)?,
            None => 0,
        },
    };
    Ok(SocketAddr::V6(std::net::SocketAddrV6::new(
        a.ip, a.port, 0, scope,
    )))
}

struct SixStream {
    s: sixstack_client::TcpStream,
    control: std::path::PathBuf,
}

impl Read for SixStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.s.read(buf)
    }
}

impl Write for SixStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.s.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.s.flush()
    }
}

impl Stream for SixStream {
    fn shutdown_write(&self) -> io::Result<()> {
        self.s.shutdown(std::net::Shutdown::Write)
    }
    fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        self.s.set_read_timeout(t)
    }
    fn set_write_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        self.s.set_write_timeout(t)
    }
    fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.s.set_nodelay(on)
    }
    fn local_addr(&self) -> io::Result<SocketAddr> {
        to_std(&self.control, self.s.local_addr()?)
    }
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        to_std(&self.control, self.s.peer_addr()?)
    }
    fn try_clone(&self) -> io::Result<Box<dyn Stream>> {
        Ok(Box::new(SixStream {
            s: self.s.try_clone()?,
            control: self.control.clone(),
        }))
    }
}

struct SixListener {
    l: sixstack_client::TcpListener,
    control: std::path::PathBuf,
}

impl Listener for SixListener {
    fn accept(&self) -> io::Result<(Box<dyn Stream>, SocketAddr)> {
        let (s, peer) = self.l.accept()?;
        let peer = to_std(&self.control, peer)?;
        Ok((
            Box::new(SixStream {
                s,
                control: self.control.clone(),
            }),
            peer,
        ))
    }
    fn local_addr(&self) -> io::Result<SocketAddr> {
        to_std(&self.control, self.l.local_addr()?)
    }
}

struct SixDatagram {
    u: sixstack_client::UdpSocket,
    control: std::path::PathBuf,
}

impl Datagram for SixDatagram {
    fn send_to(&self, buf: &[u8], to: SocketAddr) -> io::Result<usize> {
        self.u.send_to(buf, to_six(to)?)
    }
    fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let (n, from) = self.u.recv_from(buf)?;
        Ok((n, to_std(&self.control, from)?))
    }
    fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        self.u.set_read_timeout(t)
    }
    fn local_addr(&self) -> io::Result<SocketAddr> {
        to_std(&self.control, self.u.local_addr()?)
    }
}

impl Net for SixstackNet {
    fn name(&self) -> &'static str {
        "sixstack"
    }
    fn connect(&self, to: SocketAddr, timeout: Option<Duration>) -> io::Result<Box<dyn Stream>> {
        let control = self.path();
        let s = sixstack_client::TcpStream::connect_at(&control, &to_six(to)?, timeout)?;
        Ok(Box::new(SixStream { s, control }))
    }
    /// The backlog is the stack's (`TcpConfig::accept_backlog`).
    fn listen(&self, at: SocketAddr, _backlog: u32) -> io::Result<Box<dyn Listener>> {
        let control = self.path();
        let l = sixstack_client::TcpListener::bind_at(&control, to_six(at)?)?;
        Ok(Box::new(SixListener { l, control }))
    }
    fn bind_udp(&self, at: SocketAddr) -> io::Result<Box<dyn Datagram>> {
        let control = self.path();
        let u = sixstack_client::UdpSocket::bind_at(&control, false, to_six(at)?)?;
        Ok(Box::new(SixDatagram { u, control }))
    }
    fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        let control = self.path();
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let found = match host.parse::<sixstack_client::ScopedAddr>() {
            Ok(a) => vec![a],
            Err(_) => {
                let mut c = sixstack_client::Connection::open_at(&control, "sixstack net")?;
                sixstack_client::resolve_with(&mut c, host)?
            }
        };
        found
            .into_iter()
            .map(|a| {
                to_std(
                    &control,
                    sixstack_client::SocketAddr::with_zone(a.addr, a.zone, port),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_net_carries_a_stream_over_loopback() {
        let net = KernelNet;
        let l = net.listen("[::1]:0".parse().unwrap(), 4).unwrap();
        let at = l.local_addr().unwrap();
        let t = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut got = Vec::new();
            s.read_to_end(&mut got).unwrap();
            s.write_all(&got).unwrap();
        });
        let mut c = connect_host(&net, "::1", at.port(), Some(Duration::from_secs(2))).unwrap();
        c.write_all(b"echo").unwrap();
        c.shutdown_write().unwrap();
        let mut back = Vec::new();
        c.read_to_end(&mut back).unwrap();
        assert_eq!(back, b"echo");
        t.join().unwrap();
    }

    #[test]
    fn zones_by_name_or_number() {
        let a = KernelNet.resolve("fe80::1%1", 21).unwrap();
        match a[0] {
            SocketAddr::V6(v) => assert_eq!((v.scope_id(), v.port()), (1, 21)),
            SocketAddr::V4(_) => panic!(),
        }
        assert!(KernelNet.resolve("fe80::1%no/such", 21).is_err());
        assert!(KernelNet.resolve("zz%1", 21).is_err());
    }
}
